/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Which TCP segments are ours: the protected ports (sg_ports), and later
 * destination prefixes and source allow/deny lists (struct sg_config
 * policy_flags; keys in include/synguard/abi.h).
 */
#ifndef SG_BPF_POLICY_H
#define SG_BPF_POLICY_H

#include "maps.h"
#include "parse.h"

enum policy {
	POLICY_NOT_OURS,	/* pass untouched */
	POLICY_PROTECT,		/* cookies, state, drops */
	POLICY_ALLOW,		/* trusted source: pass untouched, counted */
	POLICY_DENY,		/* drop, counted */
};

static __always_inline int port_protected(__u16 port)
{
	__u32 word = port / 64;
	__u64 *bits = bpf_map_lookup_elem(&sg_ports, &word);

	return bits && (*bits >> (port % 64)) & 1;
}

static __always_inline enum policy policy_lookup(const struct packet *pkt, __u16 dport,
						 const struct sg_config *cfg)
{
	return port_protected(dport) ? POLICY_PROTECT : POLICY_NOT_OURS;
}

#endif
