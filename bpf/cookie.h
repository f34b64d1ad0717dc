/* SPDX-License-Identifier: GPL-2.0-only */
/* The XDP side of the cookie: clock, keys from sg_secret, flow from the packet.
 * The cookie itself (layout, MAC, encode/decode) is include/synguard/cookie.h. */
#ifndef SG_BPF_COOKIE_H
#define SG_BPF_COOKIE_H

#include "maps.h"
#include "parse.h"
#include "synguard/cookie.h"

static __always_inline struct sg_secret *secret_get(void)
{
	__u32 zero = 0;
	struct sg_secret *s = bpf_map_lookup_elem(&sg_secret, &zero);

	return s && s->installed ? s : NULL;
}

/* TAI, not monotonic time: hosts behind ECMP sharing a secret agree on it. */
static __always_inline __u32 epoch_now(__u64 now_ns, const struct sg_config *cfg)
{
	return (__u32)(now_ns >> sg_epoch_shift(cfg->epoch_shift));
}

static __always_inline void cookie_flow(const struct packet *pkt, __u32 ports, __u32 isn,
					struct sg_cookie_flow *f)
{
	__builtin_memcpy(f->saddr, pkt->saddr, sizeof(f->saddr));
	__builtin_memcpy(f->daddr, pkt->daddr, sizeof(f->daddr));
	f->ports = ports;
	f->isn = isn;
	f->ipv6 = pkt->ipv6;
}

#endif
