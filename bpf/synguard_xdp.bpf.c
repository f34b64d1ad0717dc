// SPDX-License-Identifier: GPL-2.0-only
/*
 * synguard XDP stage: answers SYNs to protected ports with cookie SYN-ACKs
 * (XDP_TX), checks the cookie in the ACK that completes a handshake and hands
 * valid ones on (XDP_PASS with metadata), drops what is ours and wrong, and
 * passes everything else untouched.
 */
#include "common.h"
#include "csum.h"
#include "maps.h"
#include "parse.h"
#include "stats.h"
#include "cookie.h"
#include "synack.h"
#include "policy.h"
#include "ratelimit.h"
#include "conntrack.h"

char LICENSE[] SEC("license") = "GPL";

/* Load-time: legacy hand-off (kernel cookies, the kernel validates the ACK)
 * instead of our cookies + the TC stage. The verifier prunes the other path. */
const volatile bool legacy_mode = false;

/* Kernel cookie timestamp option bits (net/ipv4/syncookies.c). */
#define TS_OPT_WSCALE_MASK 0xf
#define TS_OPT_SACK (1 << 4)
#define TS_OPT_ECN (1 << 5)
#define TSBITS 6

static __always_inline int drop(enum sg_counter reason)
{
	count(reason);
	return XDP_DROP;
}

static __always_inline int pass(enum sg_counter reason)
{
	count(reason);
	return XDP_PASS;
}

/* Sum of `len` bytes at `off`: unrolled for short headers, else the loop. */
static __always_inline __s64 csum_range(struct xdp_md *ctx, __u32 off, __u32 len)
{
	if (len >= 20 && len <= 60 && !(len & 3))
		return csum_small(xdp_data(ctx), xdp_data_end(ctx), off, len);
	return csum_packet(ctx, off, len);
}

/* IPv4 header and TCP checksums of a segment whose bytes all sit in the
 * linear part: SG_CNT_MAX when both are right, else the drop counter. */
static __always_inline enum sg_counter checksums(struct xdp_md *ctx, struct packet *pkt)
{
	__u32 l3 = pkt->l3_off & 0x3f, l4 = pkt->l4_off & 0x3fff;
	__u64 sum;
	__s64 s;

	if (pkt->ipv6) {
		sum = csum_pseudo6(pkt->saddr, pkt->daddr, pkt->seg_len);
	} else {
		s = csum_range(ctx, l3, l4 - l3);
		if (s < 0 || csum_fold(s) != 0xffff)
			return SG_CNT_DROP_BAD_IP_CSUM;
		sum = csum_pseudo4(pkt->saddr[0], pkt->daddr[0], pkt->seg_len);
	}
	s = csum_range(ctx, l4, pkt->seg_len);
	if (s < 0 || csum_fold(sum + s) != 0xffff)
		return SG_CNT_DROP_BAD_TCP_CSUM;
	return SG_CNT_MAX;
}

static __always_inline int segment_verifiable(const struct packet *pkt)
{
	return pkt->seg_len <= SG_MAX_SYN_SEGMENT && pkt->frame_len == pkt->linear_len;
}

/* A SYN we answer ourselves: every byte checked. */
static __always_inline enum sg_counter verify_checksums(struct xdp_md *ctx, struct packet *pkt)
{
	/* We answer only SYNs whose every byte we can checksum and rewrite. */
	if (!segment_verifiable(pkt))
		return SG_CNT_DROP_SYN_TOO_LONG;
	return checksums(ctx, pkt);
}

/* A segment about to create or move flow state. A long (or multi-buffer)
 * one cannot be summed here; the kernel checks it before acting on it. */
static __always_inline enum sg_counter segment_checksums(struct xdp_md *ctx, struct packet *pkt)
{
	return segment_verifiable(pkt) ? checksums(ctx, pkt) : SG_CNT_MAX;
}

/* The kernel socket the segment belongs to (a connection, or else the
 * listener for its destination), referenced: release it. */
static __always_inline struct bpf_sock *lookup_sk(struct xdp_md *ctx, struct packet *pkt, __u32 ports)
{
	struct bpf_sock_tuple t = {};
	__u32 size;

	if (pkt->ipv6) {
		__builtin_memcpy(t.ipv6.saddr, pkt->saddr, 16);
		__builtin_memcpy(t.ipv6.daddr, pkt->daddr, 16);
		*(__u32 *)&t.ipv6.sport = ports;
		size = sizeof(t.ipv6);
	} else {
		t.ipv4.saddr = pkt->saddr[0];
		t.ipv4.daddr = pkt->daddr[0];
		*(__u32 *)&t.ipv4.sport = ports;
		size = sizeof(t.ipv4);
	}
	return bpf_skc_lookup_tcp(ctx, &t, size, BPF_F_CURRENT_NETNS, 0);
}

static __always_inline struct sg_listen_slot *listener_slot(__u16 port)
{
	__u32 i = port % SG_LISTEN_CACHE_SLOTS;

	return bpf_map_lookup_elem(&sg_listen_cache, &i);
}

static __always_inline int listener_known(const struct sg_listen_slot *slot, __u16 port, __u64 now)
{
	return slot && slot->port_plus1 == (__u32)port + 1 && now - slot->seen_ns < SG_LISTEN_CACHE_NS;
}

/* IP and TCP headers copied to the stack, as the kernel cookie helpers want
 * them (they take lengths the verifier cannot tie to packet bounds). */
struct hdr_copy {
	__u8 ip[40];
	__u8 tcp[60];
};

/* Copies the headers; returns the IP length the helpers should see (they
 * read no IP options), or -1. hlen must be 20..60 (checked by the caller). */
static __always_inline int hdr_copy(struct xdp_md *ctx, struct packet *pkt, __u32 hlen, struct hdr_copy *c)
{
	int ip_len = pkt->ipv6 ? 40 : 20;

	if (bpf_xdp_load_bytes(ctx, pkt->l3_off, c->ip, ip_len))
		return -1;
	if (bpf_xdp_load_bytes(ctx, pkt->l4_off, c->tcp, hlen))
		return -1;
	return ip_len;
}

/* Legacy: the kernel's cookie for the listener, and the kernel's TSval
 * format (options in the low 6 bits) when timestamps allow it. */
static __always_inline int legacy_synack(struct xdp_md *ctx, struct packet *pkt, __u32 hlen,
					 const struct tcp_opts *opts, const struct sg_config *cfg,
					 struct bpf_sock *sk, struct synack *sa)
{
	struct hdr_copy c;
	int ip_len;
	__s64 r;

	if (hlen < 20 || hlen > sizeof(c.tcp))
		return -1;
	ip_len = hdr_copy(ctx, pkt, hlen, &c);
	if (ip_len < 0)
		return -1;
	/* Constant lengths per branch: the verifier wants provable sizes. */
	if (ip_len == 40)
		r = bpf_tcp_gen_syncookie(sk, c.ip, 40, (struct tcphdr *)c.tcp, hlen);
	else
		r = bpf_tcp_gen_syncookie(sk, c.ip, 20, (struct tcphdr *)c.tcp, hlen);
	if (r < 0)
		return -1;
	sa->seq = (__u32)r;
	sa->mss = r >> 32;
	sa->ts_ok = opts->has_ts && (cfg->flags & SG_CFG_LEGACY_TS);
	if (!sa->ts_ok) {
		/* As the kernel does: without timestamps a cookie keeps no
		 * options, so none may be offered. */
		sa->sack_ok = 0;
		sa->wscale = SG_WSCALE_NONE;
		sa->ece = 0;
	} else {
		__u32 now = bpf_ktime_get_ns() / 1000000; /* tcp_clock_ms() */
		__u32 o = sa->wscale == SG_WSCALE_NONE ? TS_OPT_WSCALE_MASK : (opts->wscale & 0xf);

		o |= (sa->sack_ok ? TS_OPT_SACK : 0) | (sa->ece ? TS_OPT_ECN : 0);
		sa->tsval = ((now >> TSBITS) << TSBITS) | o;
		if (sa->tsval > now)
			sa->tsval -= 1 << TSBITS;
	}
	return 0;
}

/* Legacy: does the ACK carry a valid kernel cookie for the listener? */
static __always_inline int legacy_ack_valid(struct xdp_md *ctx, struct packet *pkt, __u32 hlen,
					    struct bpf_sock *sk)
{
	struct hdr_copy c;
	int ip_len;

	if (hlen < 20 || hlen > sizeof(c.tcp))
		return 0;
	ip_len = hdr_copy(ctx, pkt, hlen, &c);
	if (ip_len == 40)
		return bpf_tcp_check_syncookie(sk, c.ip, 40, (struct tcphdr *)c.tcp, hlen) == 0;
	if (ip_len == 20)
		return bpf_tcp_check_syncookie(sk, c.ip, 20, (struct tcphdr *)c.tcp, hlen) == 0;
	return 0;
}

static __always_inline int handle_syn(struct xdp_md *ctx, struct packet *pkt, struct tcphdr *tcp,
				      __u32 hlen, const struct sg_config *cfg)
{
	__u32 ports = *(__u32 *)tcp;
	__u8 flags = ((__u8 *)tcp)[13];
	struct sg_cookie_flow flow;
	struct sg_syn_opts syn = {};
	struct sg_secret *secret;
	struct synack sa = {};
	struct tcp_opts opts;
	__u32 epoch, meta, tsval_hi = 0;
	struct sg_listen_slot *slot;
	struct bpf_sock *sk = NULL;
	struct sg_flow_key key;
	enum sg_counter bad;
	struct sg_flow *f;
	__u16 mss_cap;
	__u64 now, h;
	int err;

	bad = verify_checksums(ctx, pkt);
	if (bad != SG_CNT_MAX)
		return drop(bad);
	if (parse_tcp_opts(ctx, pkt->l4_off, hlen, &opts))
		return drop(SG_CNT_DROP_BAD_TCP_OPT);
	count(SG_CNT_SYN_SEEN);

	/* A SYN on a tuple we track is the kernel's to judge (challenge ACK,
	 * or TIME_WAIT reuse). One newer than the TIME_WAIT connection (higher
	 * ISN or timestamp) opens a new one: forget the old entry, so the new
	 * connection is learned from the socket table once established. */
	now = flow_now();
	flow_key(pkt->saddr, pkt->daddr, ports, pkt->ipv6, &key);
	f = flow_lookup(&key, cfg, now);
	if (f) {
		if (sg_flow_state(f->flags) == SG_ST_TIME_WAIT &&
		    (seq_after(bpf_ntohl(tcp->seq), f->c_next) ||
		     (opts.has_ts && f->c_tsval && seq_after(opts.tsval, f->c_tsval)))) {
			bpf_map_delete_elem(&sg_flows, &key);
			count(SG_CNT_FLOW_TW_REOPEN);
		}
		return pass(SG_CNT_PASS_SYN_TRACKED);
	}

	/* Nobody listening: let the kernel refuse (RST) as it would without
	 * us. A SYN for a connection we do not track is the kernel's too.
	 * The socket lookup is the SYN path's dearest step: a recent listener
	 * hit on this port (per CPU) stands for it. Attach enters the kernel's
	 * connections on protected ports into the flow table, so a SYN reusing
	 * one of their tuples is caught above. XXX: one evicted from a full
	 * table still gets a cookie here (the kernel then refuses the ACK),
	 * and for up to a second after a listener closes, SYNs still get
	 * SYN-ACKs (the ACK meets a RST). Legacy mode needs the listener
	 * itself, so it always looks up. */
	slot = listener_slot(bpf_ntohs(tcp->dest));
	if (legacy_mode || !listener_known(slot, bpf_ntohs(tcp->dest), now)) {
		sk = lookup_sk(ctx, pkt, ports);
		if (!sk)
			return pass(SG_CNT_PASS_NO_LISTENER);
		if (sk->state != BPF_TCP_LISTEN) {
			bpf_sk_release(sk);
			return pass(SG_CNT_PASS_EXISTING);
		}
		if (slot) {
			slot->port_plus1 = bpf_ntohs(tcp->dest) + 1;
			slot->seen_ns = now;
		}
		if (!legacy_mode) {
			bpf_sk_release(sk);
			sk = NULL;
		}
	}

	if (ratelimit_syn(pkt, cfg)) {
		if (sk)
			bpf_sk_release(sk);
		return drop(SG_CNT_DROP_RATE_LIMIT);
	}

	syn.ecn_ok = (flags & (TCP_ECE | TCP_CWR)) == (TCP_ECE | TCP_CWR);
	sa.ack = bpf_ntohl(tcp->seq) + 1;
	mss_cap = pkt->ipv6 ? cfg->mss6 : cfg->mss4;
	sa.mss = opts.mss ? opts.mss : sg_mss_table(0, pkt->ipv6);
	if (sa.mss > mss_cap)
		sa.mss = mss_cap;
	sa.window = cfg->synack_window ? cfg->synack_window : SG_DEFAULT_SYNACK_WINDOW;
	sa.wscale = opts.wscale == SG_WSCALE_NONE ? SG_WSCALE_NONE : cfg->wscale;
	sa.sack_ok = opts.sack_ok;
	sa.ts_ok = opts.has_ts;
	sa.tsecr = opts.tsval;
	sa.ece = syn.ecn_ok;
	sa.ttl = cfg->ttl;

	if (legacy_mode) {
		if (!sk)
			return drop(SG_CNT_DROP_INTERNAL); /* cannot happen: looked up above */
		err = legacy_synack(ctx, pkt, hlen, &opts, cfg, sk, &sa);
		bpf_sk_release(sk);
		if (err)
			return pass(SG_CNT_PASS_NO_KERNEL_COOKIE);
	} else {
		secret = secret_get();
		if (!secret)
			return drop(SG_CNT_DROP_NO_SECRET);
		syn.mss = opts.mss;
		syn.wscale = opts.wscale;
		syn.sack_ok = opts.sack_ok;
		meta = sg_cookie_meta_encode(&syn, pkt->ipv6);

		now = bpf_ktime_get_tai_ns();
		epoch = epoch_now(now, cfg);
		if (opts.has_ts)
			tsval_hi = sg_tsval_hi(now >> 20, opts.wscale); /* ~1 ms ticks */
		cookie_flow(pkt, ports, sa.ack - 1, &flow);
		h = sg_cookie_hash(sg_secret_key(secret, epoch), &flow, epoch, meta, opts.has_ts, tsval_hi);
		sa.seq = sg_cookie_from_hash(h, epoch, meta);
		sa.tsval = sg_tsval(tsval_hi, h);
	}

	if (synack_build(ctx, pkt, ports, &sa))
		return drop(SG_CNT_DROP_INTERNAL);
	count(SG_CNT_SYNACK_SENT);
	return XDP_TX;
}

/* A new flow entry, which then takes the segment that made it (its FIN,
 * say) like any other. */
static __always_inline void track_new(const struct sg_flow_key *key, __u8 origin, __u32 flags,
				      const struct segment *seg, __u32 tsval, __u8 c_wscale, __u8 s_wscale, __u64 now)
{
	struct sg_flow *f;

	if (flow_create(key, origin, flags, seg_end(seg), seg->window, c_wscale, s_wscale, now))
		return;
	f = bpf_map_lookup_elem(&sg_flows, key);
	if (f && (seg->flags & TCP_FIN))
		flow_from_client(f, seg, tsval, now);
}

/* Hand the options decoded from a valid cookie to the TC stage, in the XDP
 * metadata area in front of the frame. */
static __always_inline int handoff_meta(struct xdp_md *ctx, struct packet *pkt, const struct sg_syn_opts *syn,
					const struct tcp_opts *opts, const struct segment *seg)
{
	struct sg_handoff_meta *hm;
	__u32 tsval = opts->tsval, tsecr = opts->tsecr;
	void *data;

	if (bpf_xdp_adjust_meta(ctx, -(int)sizeof(*hm)))
		return -1;
	data = xdp_data(ctx);
	hm = (void *)(long)ctx->data_meta;
	if ((void *)(hm + 1) > data)
		return -1;
	hm->magic = SG_HANDOFF_MAGIC;
	hm->mss = syn->mss;
	hm->wscale = syn->wscale;
	hm->sack_ok = syn->sack_ok;
	hm->ecn_ok = syn->ecn_ok;
	hm->tstamp_ok = opts->has_ts;
	hm->tsval = tsval;
	hm->tsecr = tsecr;
	hm->l4_from_l3 = pkt->l4_off - pkt->l3_off;
	hm->ipv6 = pkt->ipv6;
	hm->pad = 0;
	hm->c_next = seg_end(seg);
	hm->window = seg->window;
	hm->pad2 = 0;
	return 0;
}

#define NOT_A_HANDSHAKE (-1)

/* Our cookie: a valid one makes the flow entry and passes with the options
 * for the TC stage, which hands the client to the listener. */
static __always_inline int check_our_cookie(struct xdp_md *ctx, struct packet *pkt, struct tcphdr *tcp,
					    const struct tcp_opts *opts, const struct segment *seg,
					    const struct sg_config *cfg)
{
	__u32 ports = *(__u32 *)tcp; /* before adjust_meta invalidates tcp */
	struct sg_cookie_flow flow;
	struct sg_secret *secret;
	struct sg_flow_key key;
	struct sg_syn_opts syn;
	enum sg_counter bad;
	int meta;

	secret = secret_get();
	if (!secret)
		return drop(SG_CNT_DROP_NO_SECRET);
	cookie_flow(pkt, ports, seg->seq - 1, &flow);
	meta = sg_cookie_check(secret, &flow, seg->ack - 1, epoch_now(bpf_ktime_get_tai_ns(), cfg),
			       opts->has_ts, opts->tsecr);
	if (meta < 0)
		return NOT_A_HANDSHAKE;
	bad = segment_checksums(ctx, pkt); /* it is about to make state */
	if (bad != SG_CNT_MAX)
		return drop(bad);
	count(SG_CNT_ACK_SEEN);
	sg_cookie_decode(meta, pkt->ipv6, opts->has_ts, opts->tsecr, &syn);
	if (handoff_meta(ctx, pkt, &syn, opts, seg))
		/* Without metadata the TC stage cannot hand the client over,
		 * and the kernel would answer with a RST: drop, it retries. */
		return drop(SG_CNT_DROP_NO_METADATA);
	/*
	 * Track the flow from here, not from the TC stage: XDP sees a whole
	 * NAPI batch before the stack sees any of it, and the client's first
	 * data right behind this ACK cannot pass as a cookie (its sequence
	 * number is past ISN + 1). The TC stage removes the entry if the
	 * hand-off fails.
	 */
	flow_key(pkt->saddr, pkt->daddr, ports, pkt->ipv6, &key);
	track_new(&key, SG_ORIGIN_COOKIE, 0, seg, opts->tsval, syn.wscale == SG_WSCALE_NONE ? 0 : syn.wscale,
		  syn.wscale == SG_WSCALE_NONE ? 0 : cfg->wscale, flow_now());
	return pass(SG_CNT_COOKIE_VALID);
}

/* Legacy: the kernel's cookie, checked against its listener; the kernel
 * makes the connection itself, so the flow entry is made here. */
static __always_inline int check_kernel_cookie(struct xdp_md *ctx, struct packet *pkt, struct tcphdr *tcp,
					       __u32 hlen, const struct sg_flow_key *key,
					       const struct segment *seg, const struct sg_config *cfg, __u64 now)
{
	struct bpf_sock *sk = lookup_sk(ctx, pkt, *(__u32 *)tcp);
	int valid;

	if (!sk)
		return NOT_A_HANDSHAKE;
	if (sk->state != BPF_TCP_LISTEN) {
		bpf_sk_release(sk);
		return NOT_A_HANDSHAKE;
	}
	valid = legacy_ack_valid(ctx, pkt, hlen, sk);
	bpf_sk_release(sk);
	if (!valid)
		return NOT_A_HANDSHAKE;
	count(SG_CNT_ACK_SEEN);
	track_new(key, SG_ORIGIN_LEGACY, 0, seg, 0, SG_WSCALE_UNKNOWN, cfg->wscale, now);
	return pass(SG_CNT_COOKIE_VALID);
}

/*
 * Not ours to admit: a connection the kernel has (older than the attach, or
 * evicted from the table) is learned and passed; anything else is out of
 * state and dropped, counted by kind.
 */
static __always_inline int relearn_or_drop(struct xdp_md *ctx, struct packet *pkt, __u32 ports,
					   const struct sg_flow_key *key, const struct segment *seg,
					   int cookie_failed, enum sg_counter reason, __u64 now)
{
	struct bpf_sock *sk = lookup_sk(ctx, pkt, ports);
	__u32 flags;
	int state;

	if (sk) {
		state = sk->state;
		bpf_sk_release(sk);
		if (state != BPF_TCP_LISTEN) {
			/* A request socket (kernel's own handshake) is passed
			 * but not learned: it is not a connection yet. */
			if (!(seg->flags & TCP_RST) && !sg_flow_flags_for_tcp_state(state, &flags) &&
			    segment_checksums(ctx, pkt) == SG_CNT_MAX)
				track_new(key, SG_ORIGIN_RELEARNED, flags, seg, 0, SG_WSCALE_UNKNOWN,
					  SG_WSCALE_UNKNOWN, now);
			return pass(SG_CNT_PASS_RELEARNED);
		}
	}
	if (cookie_failed) {
		count(SG_CNT_ACK_SEEN);
		count(SG_CNT_COOKIE_INVALID);
	}
	if (reason != SG_CNT_MAX)
		return drop(reason);
	if (seg->flags & TCP_RST)
		return drop(SG_CNT_DROP_OOS_RST);
	if (seg->flags & TCP_FIN)
		return drop(SG_CNT_DROP_OOS_FIN);
	if (seg->payload)
		return drop(SG_CNT_DROP_OOS_DATA);
	return drop(SG_CNT_DROP_OOS_ACK);
}

/* Every segment but a SYN: the flow table first (the fast path), then the
 * handshake check, then the kernel's socket table. */
static __always_inline int handle_segment(struct xdp_md *ctx, struct packet *pkt, struct tcphdr *tcp,
					  __u32 hlen, const struct sg_config *cfg)
{
	__u32 ports = *(__u32 *)tcp;
	struct segment seg = {
		.seq = bpf_ntohl(tcp->seq),
		.ack = bpf_ntohl(tcp->ack_seq),
		.payload = pkt->seg_len - hlen,
		.window = bpf_ntohs(tcp->window),
		.flags = ((__u8 *)tcp)[13],
	};
	struct sg_flow_key key;
	struct tcp_opts opts;
	struct sg_flow *f;
	__u64 now = flow_now();
	int r, opts_ok;

	flow_key(pkt->saddr, pkt->daddr, ports, pkt->ipv6, &key);
	f = flow_lookup(&key, cfg, now);
	if (f) {
		__u32 tsval = 0;
		enum sg_counter bad;

		/* A FIN or RST moves the state: only an intact one. */
		if (seg.flags & (TCP_FIN | TCP_RST)) {
			bad = segment_checksums(ctx, pkt);
			if (bad != SG_CNT_MAX)
				return drop(bad);
		}

		/* A FIN's TSval is kept for the TIME_WAIT reuse check. */
		if ((seg.flags & TCP_FIN) && !(f->flags & SG_FLOW_C_FIN) &&
		    !parse_tcp_opts(ctx, pkt->l4_off, hlen, &opts) && opts.has_ts)
			tsval = opts.tsval;
		if (flow_from_client(f, &seg, tsval, now))
			return drop(SG_CNT_DROP_RST_WINDOW);
		return pass(SG_CNT_PASS_FLOW);
	}

	/* A handshake's last ACK (or the first data when that ACK was lost)? */
	opts_ok = !parse_tcp_opts(ctx, pkt->l4_off, hlen, &opts);
	if ((seg.flags & TCP_ACK) && !(seg.flags & (TCP_RST | TCP_SYN)) && opts_ok) {
		if (legacy_mode)
			r = check_kernel_cookie(ctx, pkt, tcp, hlen, &key, &seg, cfg, now);
		else
			r = check_our_cookie(ctx, pkt, tcp, &opts, &seg, cfg);
		if (r != NOT_A_HANDSHAKE)
			return r;
		return relearn_or_drop(ctx, pkt, ports, &key, &seg, 1, SG_CNT_MAX, now);
	}
	/* Garbled options are fine for a connection the kernel has; else they
	 * are what the drop is counted as. */
	return relearn_or_drop(ctx, pkt, ports, &key, &seg, 0, opts_ok ? SG_CNT_MAX : SG_CNT_DROP_BAD_TCP_OPT, now);
}

static __always_inline int xdp_main(struct xdp_md *ctx)
{
	void *data, *end;
	struct packet pkt;
	int res;
	struct sg_config *cfg;
	struct tcphdr *tcp;
	__u32 zero = 0, hlen;
	__u8 flags;

	count(SG_CNT_RX_PACKETS);
	res = parse_packet(ctx, &pkt);
	if (res == PARSE_NOT_TCP)
		return pass(SG_CNT_PASS_NOT_TCP);
	if (res == PARSE_UNPARSED)
		return pass(SG_CNT_PASS_UNPARSED);
	if (res == PARSE_TRANSIT)
		return pass(SG_CNT_PASS_NOT_PROTECTED); /* not addressed to us */

	data = xdp_data(ctx);
	end = xdp_data_end(ctx);
	tcp = data + (pkt.l4_off & 0x3fff);
	if ((void *)tcp + 4 > end)
		return pass(SG_CNT_PASS_UNPARSED); /* cannot tell whose it is */
	cfg = bpf_map_lookup_elem(&sg_config, &zero);
	if (!cfg)
		return XDP_ABORTED; /* cannot happen: array map */
	switch (policy_lookup(&pkt, bpf_ntohs(tcp->dest), cfg)) {
	case POLICY_NOT_OURS:
		return pass(SG_CNT_PASS_NOT_PROTECTED);
	case POLICY_ALLOW:
		return pass(SG_CNT_PASS_ALLOWED);
	case POLICY_DENY:
		return drop(SG_CNT_DROP_DENIED);
	case POLICY_PROTECT:
		break;
	}

	/* From here on the segment is ours: wrong means dropped. */
	if (pkt.fragment)
		return drop(SG_CNT_DROP_FRAGMENT);
	if (res == PARSE_BAD_IP || pkt.seg_len < sizeof(*tcp) || (void *)(tcp + 1) > end)
		return drop(SG_CNT_DROP_BAD_TCP_HDR);
	hlen = tcp->doff * 4;
	if (hlen < sizeof(*tcp) || hlen > pkt.seg_len)
		return drop(SG_CNT_DROP_BAD_TCP_HDR);

	flags = ((__u8 *)tcp)[13];
	if (flags & TCP_SYN) {
		if (flags & (TCP_FIN | TCP_RST))
			return drop(SG_CNT_DROP_BAD_FLAGS);
		if (!(flags & TCP_ACK))
			return handle_syn(ctx, &pkt, tcp, hlen, cfg);
	}
	/* A RST never completes a handshake (Linux's cookie check ignores
	 * them too): handle_segment judges it by the flow's window. */
	return handle_segment(ctx, &pkt, tcp, hlen, cfg);
}

/*
 * Two entry points, one program: the loader loads one of them.
 * xdp.frags takes multi-buffer frames too, so jumbo MTUs work on veth & co;
 * plain xdp is for generic (skb) mode, where on Linux 6.18 the metadata of
 * an xdp.frags program does not reach the TC stage.
 */
SEC("xdp.frags")
int synguard_xdp(struct xdp_md *ctx)
{
	return xdp_main(ctx);
}

SEC("xdp")
int synguard_xdp_nf(struct xdp_md *ctx)
{
	return xdp_main(ctx);
}
