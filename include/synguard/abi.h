/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * The contract between the BPF programs and userspace: every map key and
 * value, the counter enum, the runtime configuration and the limits. This is
 * the only place these are defined; both sides include it.
 */
#ifndef SYNGUARD_ABI_H
#define SYNGUARD_ABI_H

#ifndef __VMLINUX_H__
#include <linux/types.h>
#endif
#ifndef __always_inline
#define __always_inline inline __attribute__((always_inline))
#endif

#define SG_NAME "synguard"
#define SG_PIN_ROOT "/sys/fs/bpf/synguard"

/* Parser limits: every loop in the data path is bounded by one of these. */
#define SG_MAX_VLAN_TAGS 2
#define SG_MAX_IPV6_EXT_HDRS 6
#define SG_MAX_TCP_OPTS 40	   /* option bytes after the 20-byte header */
#define SG_MAX_SYN_SEGMENT 2048	   /* SYNs carrying more are dropped (counted) */

/* Port bitmap: one bit per TCP destination port. */
#define SG_PORT_WORDS (65536 / 64)

/*
 * Counters. One per-CPU array indexed by this enum; userspace sums the CPUs.
 * SG_CNT_NAMES below gives each its stable name (used by `stats` and JSON).
 */
enum sg_counter {
	SG_CNT_RX_PACKETS,	/* every frame the XDP program saw */
	SG_CNT_SYN_SEEN,	/* SYN to a protected port, well formed */
	SG_CNT_SYNACK_SENT,	/* SYN answered with a cookie SYN-ACK (XDP_TX) */
	SG_CNT_ACK_SEEN,	/* ACK to a protected port checked as a cookie */
	SG_CNT_COOKIE_VALID,	/* ... whose cookie was valid: passed on */
	SG_CNT_COOKIE_INVALID,	/* ... whose cookie was wrong or expired: dropped */
	SG_CNT_PASS_EXISTING,	/* segment of an existing kernel socket: passed */
	SG_CNT_PASS_NOT_TCP,	/* not TCP (other L3 or L4): passed */
	SG_CNT_PASS_NOT_PROTECTED, /* TCP to a port we do not protect: passed */
	SG_CNT_PASS_NO_ACK,	/* protected, neither SYN nor ACK (e.g. bare FIN): passed */
	SG_CNT_PASS_RST,	/* RST: the kernel judges it against its sockets */
	SG_CNT_PASS_UNPARSED,	/* could not parse deeply enough: passed */
	SG_CNT_DROP_BAD_IP_CSUM,
	SG_CNT_DROP_BAD_TCP_CSUM,
	SG_CNT_DROP_FRAGMENT,	/* IP fragment aimed at a protected port */
	SG_CNT_DROP_BAD_TCP_HDR, /* doff < 5, doff past the segment, bad IP lengths */
	SG_CNT_DROP_BAD_TCP_OPT, /* option length 0/1 or running past the header */
	SG_CNT_DROP_BAD_FLAGS,	/* SYN+FIN, SYN+RST */
	SG_CNT_DROP_SYN_TOO_LONG, /* SYN segment longer than SG_MAX_SYN_SEGMENT */
	SG_CNT_DROP_NO_SECRET,	/* no cookie key installed yet */
	SG_CNT_DROP_INTERNAL,	/* packet resize failed: should never count */
	SG_CNT_DROP_NO_METADATA, /* valid cookie, but the driver cannot carry XDP metadata */
	SG_CNT_PASS_NO_LISTENER, /* SYN to a protected port nobody listens on: kernel RSTs */
	SG_CNT_PASS_NO_KERNEL_COOKIE, /* legacy: bpf_tcp_gen_syncookie refused; kernel answers */
	SG_CNT_PASS_ALLOWED,	/* source on the allow list: not our business */
	SG_CNT_DROP_DENIED,	/* source on the deny list */
	SG_CNT_DROP_RATE_LIMIT,	/* SYN over its source prefix's SYN-ACK rate */
	/* TC hand-off (local mode): one of these per cookie-valid segment. */
	SG_CNT_HANDOFF_OK,
	SG_CNT_HANDOFF_NO_LISTENER, /* listener gone between SYN-ACK and ACK */
	SG_CNT_HANDOFF_EXISTING,    /* a socket for the tuple exists already */
	SG_CNT_HANDOFF_EINVAL,	    /* kfunc refused the attributes or the socket */
	SG_CNT_HANDOFF_ENOMEM,
	SG_CNT_HANDOFF_EOTHER,	    /* any other kfunc error */
	SG_CNT_MAX
};

#define SG_CNT_NAMES_INIT                                      \
	{                                                      \
		[SG_CNT_RX_PACKETS] = "rx_packets",            \
		[SG_CNT_SYN_SEEN] = "syn_seen",                \
		[SG_CNT_SYNACK_SENT] = "synack_sent",          \
		[SG_CNT_ACK_SEEN] = "ack_seen",                \
		[SG_CNT_COOKIE_VALID] = "cookie_valid",        \
		[SG_CNT_COOKIE_INVALID] = "cookie_invalid",    \
		[SG_CNT_PASS_EXISTING] = "pass_existing_socket", \
		[SG_CNT_PASS_NOT_TCP] = "pass_not_tcp",        \
		[SG_CNT_PASS_NOT_PROTECTED] = "pass_not_protected", \
		[SG_CNT_PASS_NO_ACK] = "pass_no_ack",          \
		[SG_CNT_PASS_RST] = "pass_rst",                \
		[SG_CNT_PASS_UNPARSED] = "pass_unparsed",      \
		[SG_CNT_DROP_BAD_IP_CSUM] = "drop_bad_ip_csum", \
		[SG_CNT_DROP_BAD_TCP_CSUM] = "drop_bad_tcp_csum", \
		[SG_CNT_DROP_FRAGMENT] = "drop_fragment",      \
		[SG_CNT_DROP_BAD_TCP_HDR] = "drop_bad_tcp_header", \
		[SG_CNT_DROP_BAD_TCP_OPT] = "drop_bad_tcp_option", \
		[SG_CNT_DROP_BAD_FLAGS] = "drop_bad_flags",    \
		[SG_CNT_DROP_SYN_TOO_LONG] = "drop_syn_too_long", \
		[SG_CNT_DROP_NO_SECRET] = "drop_no_secret",    \
		[SG_CNT_DROP_INTERNAL] = "drop_internal",      \
		[SG_CNT_DROP_NO_METADATA] = "drop_no_metadata", \
		[SG_CNT_PASS_NO_LISTENER] = "pass_no_listener", \
		[SG_CNT_PASS_NO_KERNEL_COOKIE] = "pass_no_kernel_cookie", \
		[SG_CNT_PASS_ALLOWED] = "pass_allowed",        \
		[SG_CNT_DROP_DENIED] = "drop_denied",          \
		[SG_CNT_DROP_RATE_LIMIT] = "drop_rate_limit",  \
		[SG_CNT_HANDOFF_OK] = "handoff_ok",            \
		[SG_CNT_HANDOFF_NO_LISTENER] = "handoff_no_listener", \
		[SG_CNT_HANDOFF_EXISTING] = "handoff_existing_socket", \
		[SG_CNT_HANDOFF_EINVAL] = "handoff_einval",    \
		[SG_CNT_HANDOFF_ENOMEM] = "handoff_enomem",    \
		[SG_CNT_HANDOFF_EOTHER] = "handoff_eother",    \
	}

/*
 * Runtime configuration (array map sg_config, one entry). Userspace may
 * rewrite it at any time (`synguard config`); the data path reads it once
 * per packet.
 */
struct sg_config {
	__u16 mss4;		/* MSS we announce on IPv4 (capped by the client's) */
	__u16 mss6;		/* ... on IPv6 */
	__u16 synack_window;	/* receive window in the SYN-ACK (unscaled) */
	__u8 wscale;		/* our window scale, sent when the client offers one */
	__u8 ttl;		/* IPv4 TTL and IPv6 hop limit of the SYN-ACK */
	__u8 epoch_shift;	/* cookie epoch = TAI ns >> epoch_shift */
	__u8 flags;		/* SG_CFG_* */
	__u16 pad0;
	/* Flow table (bpf/conntrack.h) */
	__u32 msl_s;		/* TIME_WAIT lasts 2 * msl_s */
	__u32 idle_timeout_s;	/* an entry idle this long is forgotten (re-learned on use) */
	/* Per-source SYN-ACK limit (bpf/ratelimit.h); syn_rate 0: no limit */
	__u32 syn_rate;		/* SYN-ACKs per second per source prefix */
	__u32 syn_burst;	/* bucket depth */
	__u8 rate_prefix4;	/* source prefix length the limit applies to, IPv4 */
	__u8 rate_prefix6;	/* ... IPv6 */
	/* Policy (bpf/policy.h) */
	__u8 policy_flags;	/* SG_POLICY_* */
	__u8 pad1;
};
_Static_assert(sizeof(struct sg_config) == 32, "sg_config layout");

/* Legacy mode: the kernel's cookies carry options in our TSval only when its
 * timestamps have no per-host offset (net.ipv4.tcp_timestamps = 2). */
#define SG_CFG_LEGACY_TS 0x01

/* Policy flags: which of the policy maps are in force. */
#define SG_POLICY_DST_PREFIXES 0x01 /* protect only destinations in sg_dst4/6 */
#define SG_POLICY_ALLOW 0x02	    /* sources in sg_allow4/6 bypass the cookies */
#define SG_POLICY_DENY 0x04	    /* sources in sg_deny4/6 are dropped */

/* LPM trie keys of the policy maps (value: __u8, 1). */
struct sg_lpm4 {
	__u32 prefixlen;
	__u32 addr;		/* network order */
};
struct sg_lpm6 {
	__u32 prefixlen;
	__u32 addr[4];		/* network order */
};

/* Per-source-prefix token bucket of the SYN-ACK limit. */
struct sg_rate_key {
	__u32 addr[4];		/* source prefix, network order, masked; IPv4 in word 0 */
	__u8 ipv6;
	__u8 pad[3];
};
struct sg_rate_bucket {
	__u64 last_ns;		/* last refill */
	__u64 tokens;		/* in 1/1024 of a token, for smooth refill */
};

#define SG_DEFAULT_MSS4 1460
#define SG_DEFAULT_MSS6 1440
#define SG_DEFAULT_SYNACK_WINDOW 64240
#define SG_DEFAULT_WSCALE 7
#define SG_DEFAULT_TTL 64
#define SG_DEFAULT_EPOCH_SHIFT 36 /* 2^36 ns = 68.7 s: a cookie lives 69-137 s */
#define SG_DEFAULT_MSL_S 30	  /* TIME_WAIT 60 s, as Linux */
#define SG_DEFAULT_IDLE_TIMEOUT_S 3600
#define SG_DEFAULT_RATE_PREFIX4 32
#define SG_DEFAULT_RATE_PREFIX6 64
#define SG_MIN_EPOCH_SHIFT 20	  /* 1 ms; tests use short epochs */
#define SG_MAX_EPOCH_SHIFT 40

/* The epoch shift in force: both sides fall back to the default alike. */
static __always_inline __u32 sg_epoch_shift(__u32 configured)
{
	return configured < SG_MIN_EPOCH_SHIFT || configured > SG_MAX_EPOCH_SHIFT ? SG_DEFAULT_EPOCH_SHIFT
										 : configured;
}

/*
 * Cookie secret (array map sg_secret, one entry, mmapable). Two keys and a
 * selector: key(E) = E >= switch_epoch ? key[new_idx] : key[new_idx ^ 1].
 * The selector is one 64-bit word so userspace can change both halves with a
 * single store; a rotation writes the unused slot first, then the selector
 * (see user/secret.c), so the data path never sees a half-written key.
 */
struct sg_secret {
	__u64 key[2][2];	/* 128-bit SipHash keys */
	__u64 select;		/* switch_epoch | (__u64)new_idx << 32 */
	__u32 installed;	/* non-zero once userspace wrote a key */
	__u32 pad;
};
_Static_assert(sizeof(struct sg_secret) == 48, "sg_secret layout");

#define SG_SELECT(switch_epoch, new_idx) ((__u64)(__u32)(switch_epoch) | ((__u64)((new_idx) & 1) << 32))
#define SG_SELECT_SWITCH(sel) ((__u32)(sel))
#define SG_SELECT_NEW_IDX(sel) ((__u32)((sel) >> 32) & 1)

/*
 * What the XDP stage hands to the next stage (TC hand-off) for a segment with
 * a valid cookie, in the XDP metadata area in front of the packet.
 */
#define SG_HANDOFF_MAGIC 0x5347u /* "SG" */
struct sg_handoff_meta {
	__u16 magic;
	__u16 mss;		/* client MSS decoded from the cookie */
	__u8 wscale;		/* client window scale, SG_WSCALE_NONE if none */
	__u8 sack_ok;
	__u8 ecn_ok;
	__u8 tstamp_ok;
	__u32 tsval;		/* client's TSval in the completing segment */
	__u32 tsecr;		/* our TSval it echoes */
	__u16 l4_from_l3;	/* TCP header offset from the IP header */
	__u8 ipv6;
	__u8 pad[5];
};
/* XDP metadata: at most 32 bytes, a multiple of 4. */
_Static_assert(sizeof(struct sg_handoff_meta) == 24, "sg_handoff_meta layout");

#define SG_WSCALE_NONE 0xff

#endif /* SYNGUARD_ABI_H */
