/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The flow table: the TCP state machine of each connection synguard admitted
 * (or re-learned), followed from both directions: client-to-server segments
 * at XDP, server-to-client segments at TC egress. Flags only ever get set
 * (atomic OR), and the state is derived from them (sg_flow_state in abi.h),
 * so the two directions never undo each other's transitions.
 */
#ifndef SG_BPF_CONNTRACK_H
#define SG_BPF_CONNTRACK_H

#include "maps.h"
#include "stats.h"


/* Monotonic, coarse: ages and timeouts need seconds, not nanoseconds. */
static __always_inline __u64 flow_now(void)
{
	return bpf_ktime_get_coarse_ns();
}

static __always_inline int seq_after(__u32 a, __u32 b)
{
	return (__s32)(a - b) > 0;
}

static __always_inline void flow_key(const __u32 *caddr, const __u32 *saddr, __u32 ports_c2s, __u8 ipv6,
				     struct sg_flow_key *k)
{
	__builtin_memset(k, 0, sizeof(*k));
	__builtin_memcpy(k->caddr, caddr, 16);
	__builtin_memcpy(k->saddr, saddr, 16);
	*(__u32 *)&k->cport = ports_c2s; /* client port, then server port */
	k->ipv6 = ipv6;
}

static __always_inline void flow_set(struct sg_flow *f, __u32 bits)
{
	if ((f->flags & bits) != bits) {
		__sync_fetch_and_or(&f->flags, bits);
		count(SG_CNT_STATE_CHANGES);
	}
}

/*
 * The entry if it is alive; a dead one (TIME_WAIT past 2 * MSL, CLOSED past
 * its linger, idle past the timeout) is deleted here, so correctness never
 * waits for the userspace sweeper.
 */
static __always_inline struct sg_flow *flow_lookup(const struct sg_flow_key *k, const struct sg_config *cfg,
						   __u64 now)
{
	struct sg_flow *f = bpf_map_lookup_elem(&sg_flows, k);

	if (!f)
		return NULL;
	if (sg_flow_expired(f, cfg, now)) {
		bpf_map_delete_elem(&sg_flows, k);
		count(SG_CNT_FLOW_EXPIRED);
		return NULL;
	}
	return f;
}

/* Entering TIME_WAIT or CLOSED starts their clocks. */
static __always_inline void flow_mark_closed(struct sg_flow *f, __u64 now)
{
	enum sg_state st = sg_flow_state(f->flags);

	if ((st == SG_ST_TIME_WAIT || st == SG_ST_CLOSED) && !f->closed_ns)
		f->closed_ns = now;
}

/* A receive window in bytes, the widest the scale allows when none was
 * seen yet. */
static __always_inline __u32 flow_window(__u32 win, __u8 wscale)
{
	return win ? win : 65535u << (wscale > 14 ? 14 : wscale);
}

/* A RST is believed when its sequence number lies within a window of where
 * the sender is (a blind RST must guess 2 * window of 2^32). */
static __always_inline int rst_in_window(__u32 seq, __u32 next, __u32 win, __u8 wscale)
{
	__s32 d = (__s32)(seq - next);

	win = flow_window(win, wscale);
	return d >= -(__s64)win && d <= (__s64)win;
}

struct segment {
	__u32 seq;
	__u32 ack;
	__u32 payload;		/* data bytes */
	__u16 window;		/* unscaled window field */
	__u8 flags;		/* TCP flags byte */
};

static __always_inline __u32 seg_end(const struct segment *s)
{
	return s->seq + s->payload + ((s->flags & TCP_FIN) ? 1 : 0);
}

/*
 * A client-to-server segment of a live flow. Returns 0 to pass it, or -1
 * for a RST outside the window (dropped, counted by the caller).
 * `tsval` is the segment's TSval or 0, only needed for FINs.
 */
static __always_inline int flow_from_client(struct sg_flow *f, const struct segment *s, __u32 tsval, __u64 now)
{
	__u32 end = seg_end(s);

	if (s->flags & TCP_RST) {
		/* c_next 0: learned at attach and not heard from yet, nothing
		 * to judge the RST by: believe it. */
		if (f->c_next && !rst_in_window(s->seq, f->c_next, f->s_win, f->s_wscale))
			return -1;
		flow_set(f, SG_FLOW_RST);
		flow_mark_closed(f, now);
		return 0;
	}
	/* Every segment: where the client is, its window, when it spoke. The
	 * client can only be ahead by what the server's window allows: a
	 * blind segment far ahead must not drag c_next (the RST check's
	 * anchor) to where the attacker wants it. */
	if (!f->c_next || (seq_after(end, f->c_next) && end - f->c_next <= flow_window(f->s_win, f->s_wscale)))
		f->c_next = end;
	f->c_win = (__u32)s->window << (f->c_wscale > 14 ? 14 : f->c_wscale);
	f->last_in_ns = now;
	if (!f->flags && !(s->flags & TCP_FIN))
		return 0; /* established, nothing closing: the fast path */

	if ((f->flags & SG_FLOW_S_FIN) && (s->flags & TCP_ACK) && !seq_after(f->s_fin_seq + 1, s->ack))
		flow_set(f, SG_FLOW_S_FIN_ACKED);
	if ((s->flags & TCP_FIN) && !(f->flags & SG_FLOW_C_FIN)) {
		/* A retransmitted FIN finds the flag set: no double advance. */
		f->c_fin_seq = s->seq + s->payload;
		f->c_tsval = tsval;
		flow_set(f, SG_FLOW_C_FIN);
	}
	flow_mark_closed(f, now);
	return 0;
}

/* A server-to-client segment (TC egress) of a live flow. The server's own
 * RSTs are authoritative: they close the flow whatever their sequence. */
static __always_inline void flow_from_server(struct sg_flow *f, const struct segment *s, __u64 now)
{
	__u32 end = seg_end(s);

	if (s->flags & TCP_RST) {
		flow_set(f, SG_FLOW_RST);
		flow_mark_closed(f, now);
		return;
	}
	if (seq_after(end, f->s_next) || !f->s_next)
		f->s_next = end;
	f->s_win = (__u32)s->window << (f->s_wscale > 14 ? 14 : f->s_wscale);
	f->last_out_ns = now;
	if (!f->flags && !(s->flags & TCP_FIN))
		return;

	if ((s->flags & TCP_FIN) && !(f->flags & SG_FLOW_S_FIN)) {
		/* Server first (FIN_WAIT_1, CLOSING later) unless this FIN
		 * acknowledges a client FIN (CLOSE_WAIT to LAST_ACK). */
		int acks_client_fin = (f->flags & SG_FLOW_C_FIN) && (s->flags & TCP_ACK) &&
				      !seq_after(f->c_fin_seq + 1, s->ack);

		f->s_fin_seq = s->seq + s->payload;
		flow_set(f, SG_FLOW_S_FIN | (acks_client_fin ? 0 : SG_FLOW_S_FIN_FIRST));
	}
	flow_mark_closed(f, now);
}

/* A new entry. Returns 0, or -1 (counted) if the map refused it. */
static __always_inline int flow_create(const struct sg_flow_key *k, __u8 origin, __u32 flags, __u32 c_next,
				       __u16 window, __u8 c_wscale, __u8 s_wscale, __u64 now)
{
	struct sg_flow f = {
		.flags = flags,
		.c_wscale = c_wscale,
		.s_wscale = s_wscale,
		.origin = origin,
		.c_next = c_next,
		.created_ns = now,
		.last_in_ns = now,
	};

	f.c_win = (__u32)window << (c_wscale > 14 ? 14 : c_wscale);
	flow_mark_closed(&f, now);
	if (bpf_map_update_elem(&sg_flows, k, &f, BPF_ANY)) {
		count(SG_CNT_FLOW_INSERT_FAILED);
		return -1;
	}
	count(origin == SG_ORIGIN_RELEARNED ? SG_CNT_FLOW_RELEARNED : SG_CNT_FLOW_CREATED);
	return 0;
}

#endif
