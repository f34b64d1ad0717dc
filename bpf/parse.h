/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Packet parsing for the XDP stage: Ethernet, up to two VLAN tags, IPv4 (with
 * options) or IPv6 (with a bounded chain of extension headers), TCP and its
 * options. Every read is bounds-checked against the end of the packet and
 * every loop has a constant bound.
 */
#ifndef SG_BPF_PARSE_H
#define SG_BPF_PARSE_H

#include "common.h"
#include "synguard/abi.h"

struct sg_vlan_hdr {
	__be16 tci;
	__be16 proto;
};

/*
 * What parsing found out about a frame. Offsets are from the frame start;
 * no packet pointers are kept here because the parsers are global functions
 * (verified once, not once per call site) and a packet pointer does not
 * survive a trip through memory as far as the verifier is concerned.
 */
struct packet {
	__u32 frame_len;	/* all of it, also what lies in further fragments */
	__u32 linear_len;	/* what direct packet access reaches */
	__u16 l3_off;		/* IP header */
	__u16 l4_off;		/* TCP header */
	__u16 seg_len;		/* TCP header + payload, from the IP length fields */
	__u8 ipv6;
	__u8 fragment;		/* 1: first fragment (has L4), 2: later fragment */
	__u32 saddr[4];		/* raw network-order words; IPv4 uses word 0 */
	__u32 daddr[4];
};

enum parse_result {
	PARSE_OK,
	PARSE_TRANSIT,		/* IPv6 routing header with segments left: for another host */
	PARSE_NOT_TCP,		/* not IP, or IP but not TCP: not ours */
	PARSE_UNPARSED,		/* too short or too odd to reach the TCP ports */
	PARSE_BAD_IP,		/* IP lengths inconsistent with the frame */
};

/* Ethernet and VLAN tags. Returns the EtherType of the payload (host order). */
static __always_inline int parse_ethhdr(void *data, void *end, __u16 *off)
{
	struct ethhdr *eth = data;
	__u16 proto;
	int i;

	if ((void *)(eth + 1) > end)
		return -1;
	proto = bpf_ntohs(eth->h_proto);
	*off = sizeof(*eth);
	for (i = 0; i < SG_MAX_VLAN_TAGS; i++) {
		struct sg_vlan_hdr *vh;

		if (proto != ETH_P_8021Q && proto != ETH_P_8021AD)
			break;
		vh = data + *off;
		if ((void *)(vh + 1) > end)
			return -1;
		proto = bpf_ntohs(vh->proto);
		*off += sizeof(*vh);
	}
	return proto;
}

static __always_inline enum parse_result parse_iphdr(void *data, void *end, struct packet *pkt)
{
	struct iphdr *iph = data + pkt->l3_off;
	__u32 hlen, tot_len;
	__u16 frag;

	if ((void *)(iph + 1) > end)
		return PARSE_UNPARSED;
	if (iph->protocol != IPPROTO_TCP)
		return PARSE_NOT_TCP;
	hlen = iph->ihl * 4;
	tot_len = bpf_ntohs(iph->tot_len);
	if (iph->version != 4 || hlen < sizeof(*iph))
		return PARSE_UNPARSED;
	frag = bpf_ntohs(iph->frag_off);
	if (frag & IP_OFFSET) {
		pkt->fragment = 2;
		return PARSE_UNPARSED; /* no TCP header here */
	}
	if (frag & IP_MF)
		pkt->fragment = 1;
	pkt->saddr[0] = iph->saddr;
	pkt->daddr[0] = iph->daddr;
	pkt->l4_off = pkt->l3_off + hlen;
	/* The TCP length comes from the IP header: Ethernet may pad the frame. */
	if (tot_len < hlen || pkt->l3_off + tot_len > pkt->frame_len)
		return PARSE_BAD_IP;
	pkt->seg_len = tot_len - hlen;
	return PARSE_OK;
}

static __always_inline enum parse_result parse_ipv6hdr(void *data, void *end, struct packet *pkt)
{
	struct ipv6hdr *ip6 = data + pkt->l3_off;
	__u32 off, payload_end;
	__u8 nexthdr;
	int i;

	if ((void *)(ip6 + 1) > end)
		return PARSE_UNPARSED;
	if (ip6->version != 6)
		return PARSE_UNPARSED;
	__builtin_memcpy(pkt->saddr, &ip6->saddr, 16);
	__builtin_memcpy(pkt->daddr, &ip6->daddr, 16);
	nexthdr = ip6->nexthdr;
	off = pkt->l3_off + sizeof(*ip6);
	payload_end = off + bpf_ntohs(ip6->payload_len);

	for (i = 0; i < SG_MAX_IPV6_EXT_HDRS; i++) {
		__u8 *eh = data + (off & 0x3fff);
		__u32 len;

		switch (nexthdr) {
		case IPPROTO_TCP:
			goto done;
		case IPPROTO_ROUTING:
			if ((void *)(eh + 4) > end)
				return PARSE_UNPARSED;
			if (eh[3]) /* segments left: we are a waypoint, not the end */
				return PARSE_TRANSIT;
			len = ((__u32)eh[1] + 1) * 8;
			break;
		case IPPROTO_HOPOPTS:
		case IPPROTO_DSTOPTS:
			if ((void *)(eh + 2) > end)
				return PARSE_UNPARSED;
			len = ((__u32)eh[1] + 1) * 8;
			break;
		case IPPROTO_AH:
			if ((void *)(eh + 2) > end)
				return PARSE_UNPARSED;
			len = ((__u32)eh[1] + 2) * 4;
			break;
		case IPPROTO_FRAGMENT: {
			struct frag_hdr *fh = (void *)eh;

			if ((void *)(fh + 1) > end)
				return PARSE_UNPARSED;
			if (bpf_ntohs(fh->frag_off) & ~0x7) { /* offset != 0 */
				pkt->fragment = 2;
				return PARSE_UNPARSED;
			}
			if (bpf_ntohs(fh->frag_off) & 1) /* more fragments */
				pkt->fragment = 1;
			len = sizeof(*fh);
			break;
		}
		default:
			return PARSE_NOT_TCP; /* ESP, ICMPv6, UDP, no next header... */
		}
		nexthdr = eh[0];
		off += len;
	}
	if (nexthdr != IPPROTO_TCP)
		return PARSE_UNPARSED; /* longer chain than we walk */
done:
	pkt->l4_off = off;
	if (off > payload_end || payload_end > pkt->frame_len)
		return PARSE_BAD_IP;
	pkt->seg_len = payload_end - off;
	return PARSE_OK;
}

/* Parse down to the TCP header (not into it). A global function: the
 * verifier checks it once with an unknown packet, which keeps the number of
 * states it explores small (VLAN and extension header paths multiply). */
__noinline int parse_packet(struct xdp_md *ctx, struct packet *pkt)
{
	void *data = xdp_data(ctx);
	void *end = xdp_data_end(ctx);
	__u16 off = 0;
	int proto;

	if (!pkt)
		return PARSE_UNPARSED;
	__builtin_memset(pkt, 0, sizeof(*pkt));
	/* Multi-buffer frames (jumbo MTU with xdp.frags): headers sit in the
	 * linear part, but IP lengths are checked against the whole frame. */
	pkt->frame_len = bpf_xdp_get_buff_len(ctx);
	pkt->linear_len = end - data;
	proto = parse_ethhdr(data, end, &off);
	pkt->l3_off = off;
	if (proto == ETH_P_IP)
		return parse_iphdr(data, end, pkt);
	if (proto == ETH_P_IPV6) {
		pkt->ipv6 = 1;
		return parse_ipv6hdr(data, end, pkt);
	}
	return proto < 0 ? PARSE_UNPARSED : PARSE_NOT_TCP;
}

/* TCP options we act on. */
struct tcp_opts {
	__u16 mss;		/* 0: absent */
	__u8 wscale;		/* SG_WSCALE_NONE: absent */
	__u8 sack_ok;
	__u8 has_ts;
	__u32 tsval;		/* host order */
	__u32 tsecr;
};

/*
 * Walk the options of the TCP header at offset l4_off (header length hlen).
 * Returns 0, or -1 for an option whose length is 0 or 1 or runs past the
 * header or the packet. Options of a known kind with a wrong length are
 * ignored, as Linux does. Global function: verified once.
 */
__noinline int parse_tcp_opts(struct xdp_md *ctx, __u32 l4_off, __u32 hlen, struct tcp_opts *o)
{
	void *data = xdp_data(ctx);
	void *end = xdp_data_end(ctx);
	__u8 *opt = data + (l4_off & 0x3fff) + sizeof(struct tcphdr);
	__u32 optlen = hlen - sizeof(struct tcphdr), off = 0;
	int i;

	if (!o)
		return -1;
	o->mss = 0;
	o->wscale = SG_WSCALE_NONE;
	o->sack_ok = 0;
	o->has_ts = 0;
	o->tsval = 0;
	o->tsecr = 0;
	if (optlen > SG_MAX_TCP_OPTS)
		return -1;

	/*
	 * Fast paths for what Linux sends, word compares instead of the walk
	 * (same result): a SYN's MSS, SACK-permitted + TS, NOP + wscale, and
	 * every later segment's NOP NOP TS.
	 */
	if (optlen == 20 && (void *)(opt + 20) <= end) {
		__u32 *w = (__u32 *)opt;

		if ((w[0] & bpf_htonl(0xffff0000)) == bpf_htonl(0x02040000) &&
		    w[1] == bpf_htonl(0x0402080a) &&
		    (w[4] & bpf_htonl(0xffffff00)) == bpf_htonl(0x01030300)) {
			__u8 ws = opt[19];

			o->mss = bpf_ntohl(w[0]) & 0xffff;
			o->sack_ok = 1;
			o->has_ts = 1;
			o->tsval = bpf_ntohl(w[2]);
			o->tsecr = bpf_ntohl(w[3]);
			o->wscale = ws > 14 ? 14 : ws;
			return 0;
		}
	} else if (optlen == 12 && (void *)(opt + 12) <= end) {
		__u32 *w = (__u32 *)opt;

		if (w[0] == bpf_htonl(0x0101080a)) {
			o->has_ts = 1;
			o->tsval = bpf_ntohl(w[1]);
			o->tsecr = bpf_ntohl(w[2]);
			return 0;
		}
	}

	for (i = 0; i < SG_MAX_TCP_OPTS; i++) {
		__u8 *p, kind, len;

		if (off >= optlen)
			break;
		p = opt + (off & 63); /* mask: proves the offset small */
		if ((void *)(p + 1) > end)
			return -1;
		kind = p[0];
		if (kind == TCPOPT_EOL)
			break;
		if (kind == TCPOPT_NOP) {
			off++;
			continue;
		}
		if (off + 2 > optlen || (void *)(p + 2) > end)
			return -1;
		len = p[1];
		if (len < 2 || off + len > optlen)
			return -1;
		if (kind == TCPOPT_MSS && len == 4) {
			if ((void *)(p + 4) > end)
				return -1;
			o->mss = ((__u16)p[2] << 8) | p[3];
		} else if (kind == TCPOPT_WINDOW && len == 3) {
			if ((void *)(p + 3) > end)
				return -1;
			o->wscale = p[2] > 14 ? 14 : p[2]; /* RFC 7323 2.3 */
		} else if (kind == TCPOPT_SACK_PERM && len == 2) {
			o->sack_ok = 1;
		} else if (kind == TCPOPT_TIMESTAMP && len == 10) {
			if ((void *)(p + 10) > end)
				return -1;
			o->has_ts = 1;
			o->tsval = bpf_ntohl(*(__u32 *)(p + 2));
			o->tsecr = bpf_ntohl(*(__u32 *)(p + 6));
		}
		/*
		 * Advance by a fresh read of the length byte: the compares above
		 * pinned `len` to exact values, and exact offsets would make the
		 * verifier walk every combination of option lengths separately.
		 */
		off += *(volatile __u8 *)(p + 1);
	}
	return 0;
}

#endif
