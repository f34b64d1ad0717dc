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
	SG_CNT_COOKIE_INVALID,	/* ... whose cookie was wrong or expired (and no socket) */
	SG_CNT_PASS_EXISTING,	/* SYN for a connection the kernel has: passed */
	SG_CNT_PASS_NOT_TCP,	/* not TCP (other L3 or L4): passed */
	SG_CNT_PASS_NOT_PROTECTED, /* TCP to a port we do not protect: passed */
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
	/* Flow table (bpf/conntrack.h) */
	SG_CNT_PASS_FLOW,	/* segment of a tracked flow, in state: passed */
	SG_CNT_PASS_RELEARNED,	/* untracked, but the kernel has the socket: learned, passed */
	SG_CNT_PASS_SYN_TRACKED, /* SYN on a tracked tuple (e.g. TIME_WAIT reuse): kernel decides */
	SG_CNT_DROP_OOS_ACK,	/* no flow, no valid cookie, no socket: pure ACK */
	SG_CNT_DROP_OOS_RST,	/* ... RST */
	SG_CNT_DROP_OOS_FIN,	/* ... FIN */
	SG_CNT_DROP_OOS_DATA,	/* ... segment with payload */
	SG_CNT_DROP_RST_WINDOW,	/* RST of a tracked flow outside the window: blind RST */
	SG_CNT_FLOW_CREATED,	/* entries made after a cookie hand-off */
	SG_CNT_FLOW_RELEARNED,	/* entries re-learned from the socket table */
	SG_CNT_FLOW_TW_REOPEN,	/* TIME_WAIT entries ended by a newer SYN */
	SG_CNT_FLOW_EXPIRED,	/* entries the data path expired (TIME_WAIT, idle, closed) */
	SG_CNT_FLOW_INSERT_FAILED, /* map update failed: should never count */
	SG_CNT_STATE_CHANGES,	/* state transitions seen (both directions) */
	SG_CNT_EGRESS_SEEN,	/* server-to-client segments of tracked flows (TC egress) */
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
		[SG_CNT_PASS_FLOW] = "pass_flow",              \
		[SG_CNT_PASS_RELEARNED] = "pass_relearned",    \
		[SG_CNT_PASS_SYN_TRACKED] = "pass_syn_tracked", \
		[SG_CNT_DROP_OOS_ACK] = "drop_oos_ack",        \
		[SG_CNT_DROP_OOS_RST] = "drop_oos_rst",        \
		[SG_CNT_DROP_OOS_FIN] = "drop_oos_fin",        \
		[SG_CNT_DROP_OOS_DATA] = "drop_oos_data",      \
		[SG_CNT_DROP_RST_WINDOW] = "drop_rst_window",  \
		[SG_CNT_FLOW_CREATED] = "flow_created",        \
		[SG_CNT_FLOW_RELEARNED] = "flow_relearned",    \
		[SG_CNT_FLOW_TW_REOPEN] = "flow_tw_reopen",    \
		[SG_CNT_FLOW_EXPIRED] = "flow_expired",        \
		[SG_CNT_FLOW_INSERT_FAILED] = "flow_insert_failed", \
		[SG_CNT_STATE_CHANGES] = "state_changes",      \
		[SG_CNT_EGRESS_SEEN] = "egress_seen",          \
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
	__u8 pad;
	__u32 c_next;		/* seq + payload (+1 for FIN): the flow entry's start */
	__u16 window;		/* the segment's window field (unscaled) */
	__u16 pad2;
};
/* XDP metadata: at most 32 bytes, a multiple of 4. */
_Static_assert(sizeof(struct sg_handoff_meta) == 28, "sg_handoff_meta layout");

#define SG_WSCALE_NONE 0xff

/*
 * Flow table (LRU hash sg_flows): one entry per connection synguard admitted
 * (cookie hand-off) or re-learned from the kernel's socket table. Keyed in
 * the client-to-server direction; the server is the protected side.
 */
struct sg_flow_key {
	__u32 caddr[4];		/* client address, network order; IPv4 in word 0 */
	__u32 saddr[4];		/* server address */
	__u16 cport;		/* network order */
	__u16 sport;
	__u8 ipv6;
	__u8 pad[3];
};
_Static_assert(sizeof(struct sg_flow_key) == 40, "sg_flow_key layout");

/* What has been seen of the close; the state is derived (sg_flow_state). */
#define SG_FLOW_C_FIN 0x01	 /* client sent FIN (at c_fin_seq) */
#define SG_FLOW_S_FIN 0x02	 /* server sent FIN (at s_fin_seq) */
#define SG_FLOW_S_FIN_ACKED 0x04 /* client acknowledged the server's FIN */
#define SG_FLOW_S_FIN_FIRST 0x08 /* server's FIN did not acknowledge a client FIN */
#define SG_FLOW_RST 0x10	 /* an in-window RST ended it */

/* How an entry came to be. */
#define SG_ORIGIN_COOKIE 1	/* our cookie, handed off by the TC stage */
#define SG_ORIGIN_LEGACY 2	/* kernel cookie (legacy mode) */
#define SG_ORIGIN_RELEARNED 3	/* found in the kernel's socket table */

#define SG_WSCALE_UNKNOWN 14	/* window checks assume the widest scale */

struct sg_flow {
	__u32 flags;		/* SG_FLOW_*, set with atomic OR by either direction */
	__u8 c_wscale;		/* client's window scale (0 when not negotiated) */
	__u8 s_wscale;		/* server's */
	__u8 origin;		/* SG_ORIGIN_* */
	__u8 pad0;
	__u32 c_next;		/* next client sequence number (highest seen end) */
	__u32 s_next;		/* next server sequence number */
	__u32 c_fin_seq;	/* sequence number of the client's FIN */
	__u32 s_fin_seq;	/* ... of the server's FIN */
	__u32 c_win;		/* client's receive window in bytes (scaled) */
	__u32 s_win;		/* server's receive window in bytes */
	__u64 created_ns;	/* CLOCK_MONOTONIC (coarse) */
	__u64 last_in_ns;	/* last client-to-server segment */
	__u64 last_out_ns;	/* last server-to-client segment */
	__u64 closed_ns;	/* when it reached TIME_WAIT or CLOSED */
	__u32 c_tsval;		/* client's TSval in its FIN (TIME_WAIT reuse check) */
	__u32 pad1;
};
_Static_assert(sizeof(struct sg_flow) == 72, "sg_flow layout");

#define SG_DEFAULT_FLOW_TABLE_SIZE 262144

/*
 * Flags that put a connection the kernel already has in the flow table in
 * its socket's state. `state` is the kernel's TCP state number (TCP_* in
 * include/net/tcp_states.h; the same in BPF_TCP_* and /proc/net/tcp).
 * Returns -1 for what is not a connection (listener, request socket, ...).
 */
static __always_inline int sg_flow_flags_for_tcp_state(int state, __u32 *flags)
{
	switch (state) {
	case 1: /* ESTABLISHED */
		*flags = 0;
		return 0;
	case 8: /* CLOSE_WAIT */
		*flags = SG_FLOW_C_FIN;
		return 0;
	case 4: /* FIN_WAIT1 */
		*flags = SG_FLOW_S_FIN | SG_FLOW_S_FIN_FIRST;
		return 0;
	case 5: /* FIN_WAIT2 */
		*flags = SG_FLOW_S_FIN | SG_FLOW_S_FIN_FIRST | SG_FLOW_S_FIN_ACKED;
		return 0;
	case 11: /* CLOSING */
		*flags = SG_FLOW_S_FIN | SG_FLOW_S_FIN_FIRST | SG_FLOW_C_FIN;
		return 0;
	case 9: /* LAST_ACK */
		*flags = SG_FLOW_C_FIN | SG_FLOW_S_FIN;
		return 0;
	case 6: /* TIME_WAIT */
		*flags = SG_FLOW_S_FIN | SG_FLOW_S_FIN_FIRST | SG_FLOW_S_FIN_ACKED | SG_FLOW_C_FIN;
		return 0;
	default:
		return -1;
	}
}

/* Listener cache: a SYN to a port whose listener a lookup found within the
 * last SG_LISTEN_CACHE_NS skips the socket lookup. */
#define SG_LISTEN_CACHE_SLOTS 1024
#define SG_LISTEN_CACHE_NS 1000000000ULL
struct sg_listen_slot {
	__u32 port_plus1;	/* 0: empty */
	__u32 pad;
	__u64 seen_ns;		/* monotonic coarse */
};

/* The TCP states (RFC 9293 3.3.2) of the server's side of a flow. */
enum sg_state {
	SG_ST_ESTABLISHED,
	SG_ST_FIN_WAIT_1,
	SG_ST_FIN_WAIT_2,
	SG_ST_CLOSING,
	SG_ST_TIME_WAIT,
	SG_ST_CLOSE_WAIT,
	SG_ST_LAST_ACK,
	SG_ST_CLOSED,
	SG_ST_MAX
};

#define SG_STATE_NAMES_INIT                                                                    \
	{                                                                                      \
		[SG_ST_ESTABLISHED] = "ESTABLISHED", [SG_ST_FIN_WAIT_1] = "FIN_WAIT_1",        \
		[SG_ST_FIN_WAIT_2] = "FIN_WAIT_2", [SG_ST_CLOSING] = "CLOSING",                \
		[SG_ST_TIME_WAIT] = "TIME_WAIT", [SG_ST_CLOSE_WAIT] = "CLOSE_WAIT",            \
		[SG_ST_LAST_ACK] = "LAST_ACK", [SG_ST_CLOSED] = "CLOSED",                      \
	}

/*
 * The server's state from what the flow has seen (tcp-states.md):
 *   no FIN                                   ESTABLISHED
 *   client FIN only                          CLOSE_WAIT (server got FIN)
 *   server FIN only                          FIN_WAIT_1, acked: FIN_WAIT_2
 *   both, server's first (did not ack the    CLOSING, once its FIN is acked:
 *     client's): simultaneous or server-first TIME_WAIT (also FIN+ACK in one)
 *   both, client's first                     LAST_ACK, once acked: CLOSED
 *   an in-window RST                         CLOSED
 */
static __always_inline enum sg_state sg_flow_state(__u32 f)
{
	if (f & SG_FLOW_RST)
		return SG_ST_CLOSED;
	if (!(f & SG_FLOW_S_FIN))
		return f & SG_FLOW_C_FIN ? SG_ST_CLOSE_WAIT : SG_ST_ESTABLISHED;
	if (!(f & SG_FLOW_C_FIN))
		return f & SG_FLOW_S_FIN_ACKED ? SG_ST_FIN_WAIT_2 : SG_ST_FIN_WAIT_1;
	if (f & SG_FLOW_S_FIN_FIRST)
		return f & SG_FLOW_S_FIN_ACKED ? SG_ST_TIME_WAIT : SG_ST_CLOSING;
	return f & SG_FLOW_S_FIN_ACKED ? SG_ST_CLOSED : SG_ST_LAST_ACK;
}

#define SG_NSEC_PER_SEC 1000000000ULL
/* A CLOSED entry lingers so late segments still reach the kernel. */
#define SG_CLOSED_LINGER_NS (10 * SG_NSEC_PER_SEC)

/*
 * Whether an entry has expired: TIME_WAIT past 2 * MSL, CLOSED past its
 * linger, idle past the timeout. The data path expires lazily with this
 * rule (bpf/conntrack.h), the sweeper of `synguard run` with the same.
 */
static __always_inline int sg_flow_expired(const struct sg_flow *f, const struct sg_config *cfg, __u64 now)
{
	__u64 last = f->last_in_ns > f->last_out_ns ? f->last_in_ns : f->last_out_ns;
	__u64 msl = (__u64)(cfg->msl_s ? cfg->msl_s : SG_DEFAULT_MSL_S) * SG_NSEC_PER_SEC;
	enum sg_state st = sg_flow_state(f->flags);

	return (st == SG_ST_TIME_WAIT && f->closed_ns && now - f->closed_ns > 2 * msl) ||
	       (st == SG_ST_CLOSED && f->closed_ns && now - f->closed_ns > SG_CLOSED_LINGER_NS) ||
	       (cfg->idle_timeout_s && now - last > (__u64)cfg->idle_timeout_s * SG_NSEC_PER_SEC);
}


#endif /* SYNGUARD_ABI_H */
