/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Which TCP segments are ours, and what to do with them:
 *
 *   1. destination port in sg_ports                     else NOT_OURS
 *   2. destination in sg_dst4/6, if SG_POLICY_DST_PREFIXES  else NOT_OURS
 *   3. source in sg_deny4/6, if SG_POLICY_DENY          -> DENY (drop)
 *   4. source in sg_allow4/6, if SG_POLICY_ALLOW        -> ALLOW (pass untouched)
 *   5. otherwise                                        -> PROTECT
 *
 * The lists only apply to protected traffic (steps 1-2): a denied source can
 * still reach unprotected ports, as without synguard. Deny wins over allow,
 * whatever the prefix lengths: a denied source is never let through.
 *
 * The common case stays cheap: one array lookup for the port, and an LPM
 * lookup only for each list whose policy flag is on (userspace sets a flag
 * only while its list is non-empty; user/policy.c).
 */
#ifndef SG_BPF_POLICY_H
#define SG_BPF_POLICY_H

#include "maps.h"
#include "parse.h"

/* Entries per policy trie; userspace reads max_entries back from the map. */
#define SG_POLICY_DST_MAX 4096
#define SG_POLICY_LIST_MAX 65536

/* Protected IPv4 destination prefixes (SG_POLICY_DST_PREFIXES). */
struct {
	__uint(type, BPF_MAP_TYPE_LPM_TRIE);
	__uint(max_entries, SG_POLICY_DST_MAX);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, struct sg_lpm4);
	__type(value, __u8);
} sg_dst4 SEC(".maps");

/* Protected IPv6 destination prefixes (SG_POLICY_DST_PREFIXES). */
struct {
	__uint(type, BPF_MAP_TYPE_LPM_TRIE);
	__uint(max_entries, SG_POLICY_DST_MAX);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, struct sg_lpm6);
	__type(value, __u8);
} sg_dst6 SEC(".maps");

/* Trusted IPv4 sources: bypass the cookies (SG_POLICY_ALLOW). */
struct {
	__uint(type, BPF_MAP_TYPE_LPM_TRIE);
	__uint(max_entries, SG_POLICY_LIST_MAX);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, struct sg_lpm4);
	__type(value, __u8);
} sg_allow4 SEC(".maps");

/* Trusted IPv6 sources: bypass the cookies (SG_POLICY_ALLOW). */
struct {
	__uint(type, BPF_MAP_TYPE_LPM_TRIE);
	__uint(max_entries, SG_POLICY_LIST_MAX);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, struct sg_lpm6);
	__type(value, __u8);
} sg_allow6 SEC(".maps");

/* Blocked IPv4 sources: their segments to protected services are dropped. */
struct {
	__uint(type, BPF_MAP_TYPE_LPM_TRIE);
	__uint(max_entries, SG_POLICY_LIST_MAX);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, struct sg_lpm4);
	__type(value, __u8);
} sg_deny4 SEC(".maps");

/* Blocked IPv6 sources: their segments to protected services are dropped. */
struct {
	__uint(type, BPF_MAP_TYPE_LPM_TRIE);
	__uint(max_entries, SG_POLICY_LIST_MAX);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, struct sg_lpm6);
	__type(value, __u8);
} sg_deny6 SEC(".maps");

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

/* Is addr (network-order words, IPv4 in word 0) in the trie pair? A full
 * length key: the trie returns the longest prefix that contains it. */
static __always_inline int addr_listed(void *trie4, void *trie6, const __u32 *addr, __u8 ipv6)
{
	if (ipv6) {
		struct sg_lpm6 k6 = { .prefixlen = 128 };

		__builtin_memcpy(k6.addr, addr, sizeof(k6.addr));
		return bpf_map_lookup_elem(trie6, &k6) != NULL;
	} else {
		struct sg_lpm4 k4 = { .prefixlen = 32, .addr = addr[0] };

		return bpf_map_lookup_elem(trie4, &k4) != NULL;
	}
}

static __always_inline enum policy policy_lookup(const struct packet *pkt, __u16 dport,
						 const struct sg_config *cfg)
{
	__u8 flags = cfg->policy_flags;

	if (!port_protected(dport))
		return POLICY_NOT_OURS;
	if (!flags)
		return POLICY_PROTECT; /* the common case: no lists in force */
	if ((flags & SG_POLICY_DST_PREFIXES) && !addr_listed(&sg_dst4, &sg_dst6, pkt->daddr, pkt->ipv6))
		return POLICY_NOT_OURS;
	if ((flags & SG_POLICY_DENY) && addr_listed(&sg_deny4, &sg_deny6, pkt->saddr, pkt->ipv6))
		return POLICY_DENY;
	if ((flags & SG_POLICY_ALLOW) && addr_listed(&sg_allow4, &sg_allow6, pkt->saddr, pkt->ipv6))
		return POLICY_ALLOW;
	return POLICY_PROTECT;
}

#endif
