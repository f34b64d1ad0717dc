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

char LICENSE[] SEC("license") = "GPL";

static __always_inline int port_protected(__u16 port)
{
	__u32 word = port / 64;
	__u64 *bits = bpf_map_lookup_elem(&sg_ports, &word);

	return bits && (*bits >> (port % 64)) & 1;
}

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

/* Full IPv4 header and TCP checksum check, for segments we answer ourselves. */
static __always_inline enum sg_counter verify_checksums(struct xdp_md *ctx, struct packet *pkt)
{
	__u32 l3 = pkt->l3_off & 0x3f, l4 = pkt->l4_off & 0x3ff;
	__u64 sum;
	__s64 s;

	if (pkt->ipv6) {
		sum = csum_pseudo6(pkt->saddr, pkt->daddr, pkt->seg_len);
	} else {
		s = csum_packet(ctx, l3, l4 - l3);
		if (s < 0 || csum_fold(s) != 0xffff)
			return SG_CNT_DROP_BAD_IP_CSUM;
		sum = csum_pseudo4(pkt->saddr[0], pkt->daddr[0], pkt->seg_len);
	}
	if (pkt->seg_len > SG_MAX_SYN_SEGMENT)
		return SG_CNT_DROP_SYN_TOO_LONG;
	s = csum_packet(ctx, l4, pkt->seg_len);
	if (s < 0 || csum_fold(sum + s) != 0xffff)
		return SG_CNT_DROP_BAD_TCP_CSUM;
	return SG_CNT_MAX; /* fine */
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
	__u32 epoch, meta, isn, tsval_hi = 0;
	enum sg_counter bad;
	__u64 now, h;

	bad = verify_checksums(ctx, pkt);
	if (bad != SG_CNT_MAX)
		return drop(bad);
	if (parse_tcp_opts(ctx, pkt->l4_off, hlen, &opts))
		return drop(SG_CNT_DROP_BAD_TCP_OPT);
	count(SG_CNT_SYN_SEEN);

	secret = secret_get();
	if (!secret)
		return drop(SG_CNT_DROP_NO_SECRET);

	syn.mss = opts.mss;
	syn.wscale = opts.wscale;
	syn.sack_ok = opts.sack_ok;
	syn.ecn_ok = (flags & (TCP_ECE | TCP_CWR)) == (TCP_ECE | TCP_CWR);
	meta = sg_cookie_meta_encode(&syn, pkt->ipv6);

	now = bpf_ktime_get_tai_ns();
	epoch = epoch_now(now, cfg);
	if (opts.has_ts)
		tsval_hi = sg_tsval_hi(now >> 20); /* ~1 ms ticks */
	isn = bpf_ntohl(tcp->seq);
	cookie_flow(pkt, ports, isn, &flow);
	h = sg_cookie_hash(sg_secret_key(secret, epoch), &flow, epoch, meta, tsval_hi);

	sa.seq = sg_cookie_from_hash(h, epoch, meta);
	sa.ack = isn + 1;
	sa.mss = opts.mss ? opts.mss : sg_mss_table(0, pkt->ipv6);
	if (sa.mss > (pkt->ipv6 ? cfg->mss6 : cfg->mss4))
		sa.mss = pkt->ipv6 ? cfg->mss6 : cfg->mss4;
	sa.window = cfg->synack_window ? cfg->synack_window : SG_DEFAULT_SYNACK_WINDOW;
	sa.wscale = opts.wscale == SG_WSCALE_NONE ? SG_WSCALE_NONE : cfg->wscale;
	sa.sack_ok = opts.sack_ok;
	sa.ts_ok = opts.has_ts;
	sa.tsval = (tsval_hi << 8) | (__u32)(h & SG_COOKIE_TS_MAC_MASK);
	sa.tsecr = opts.tsval;
	sa.ece = syn.ecn_ok;
	sa.ttl = cfg->ttl;

	if (synack_build(ctx, pkt, ports, &sa))
		return drop(SG_CNT_DROP_INTERNAL);
	count(SG_CNT_SYNACK_SENT);
	return XDP_TX;
}

/* Does the segment belong to a kernel socket other than a listener? */
static __always_inline int has_connected_socket(struct xdp_md *ctx, struct packet *pkt, __u32 ports)
{
	struct bpf_sock_tuple t = {};
	struct bpf_sock *sk;
	__u32 size;
	int state;

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
	sk = bpf_skc_lookup_tcp(ctx, &t, size, BPF_F_CURRENT_NETNS, 0);
	if (!sk)
		return 0;
	state = sk->state;
	bpf_sk_release(sk);
	return state != BPF_TCP_LISTEN;
}

static __always_inline int handle_ack(struct xdp_md *ctx, struct packet *pkt, struct tcphdr *tcp,
				      __u32 hlen, const struct sg_config *cfg)
{
	__u32 ports = *(__u32 *)tcp;
	struct sg_handoff_meta *hm;
	struct sg_cookie_flow flow;
	struct sg_secret *secret;
	struct sg_syn_opts syn;
	struct tcp_opts opts;
	__u32 cookie, tsval, tsecr;
	void *data;
	int meta;

	if (has_connected_socket(ctx, pkt, ports))
		return pass(SG_CNT_PASS_EXISTING);
	if (parse_tcp_opts(ctx, pkt->l4_off, hlen, &opts))
		return drop(SG_CNT_DROP_BAD_TCP_OPT);
	count(SG_CNT_ACK_SEEN);

	secret = secret_get();
	if (!secret)
		return drop(SG_CNT_DROP_NO_SECRET);
	cookie = bpf_ntohl(tcp->ack_seq) - 1;
	cookie_flow(pkt, ports, bpf_ntohl(tcp->seq) - 1, &flow);
	meta = sg_cookie_check(secret, &flow, cookie, epoch_now(bpf_ktime_get_tai_ns(), cfg),
			       opts.has_ts, opts.tsecr);
	if (meta < 0)
		return drop(SG_CNT_COOKIE_INVALID);

	/* Hand the decoded options to the TC stage in the metadata area. */
	sg_cookie_meta_decode(meta, pkt->ipv6, &syn);
	tsval = opts.tsval;
	tsecr = opts.tsecr;
	if (bpf_xdp_adjust_meta(ctx, -(int)sizeof(*hm)) == 0) {
		data = xdp_data(ctx);
		hm = (void *)(long)ctx->data_meta;
		if ((void *)(hm + 1) <= data) {
			hm->magic = SG_HANDOFF_MAGIC;
			hm->mss = syn.mss;
			hm->wscale = syn.wscale;
			hm->sack_ok = syn.sack_ok;
			hm->ecn_ok = syn.ecn_ok;
			hm->tstamp_ok = opts.has_ts;
			hm->tsval = tsval;
			hm->tsecr = tsecr;
		}
	}
	return pass(SG_CNT_COOKIE_VALID);
}

SEC("xdp")
int synguard_xdp(struct xdp_md *ctx)
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

	data = xdp_data(ctx);
	end = xdp_data_end(ctx);
	tcp = data + (pkt.l4_off & 0x3fff);
	if ((void *)tcp + 4 > end)
		return pass(SG_CNT_PASS_UNPARSED); /* cannot tell whose it is */
	if (!port_protected(bpf_ntohs(tcp->dest)))
		return pass(SG_CNT_PASS_NOT_PROTECTED);

	/* From here on the segment is ours: wrong means dropped. */
	if (pkt.fragment)
		return drop(SG_CNT_DROP_FRAGMENT);
	if (res == PARSE_BAD_IP || pkt.seg_len < sizeof(*tcp) || (void *)(tcp + 1) > end)
		return drop(SG_CNT_DROP_BAD_TCP_HDR);
	hlen = tcp->doff * 4;
	if (hlen < sizeof(*tcp) || hlen > pkt.seg_len)
		return drop(SG_CNT_DROP_BAD_TCP_HDR);

	cfg = bpf_map_lookup_elem(&sg_config, &zero);
	if (!cfg)
		return XDP_ABORTED; /* cannot happen: array map */

	flags = ((__u8 *)tcp)[13];
	if (flags & TCP_SYN) {
		if (flags & (TCP_FIN | TCP_RST))
			return drop(SG_CNT_DROP_BAD_FLAGS);
		if (!(flags & TCP_ACK))
			return handle_syn(ctx, &pkt, tcp, hlen, cfg);
	}
	if (flags & TCP_ACK)
		return handle_ack(ctx, &pkt, tcp, hlen, cfg);
	return pass(SG_CNT_PASS_NO_ACK);
}
