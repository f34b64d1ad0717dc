/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Turn a SYN into our SYN-ACK in place: the frame is resized to the answer's
 * length and every header from L3 on is written afresh (IPv4 options and IPv6
 * extension headers are not echoed). VLAN tags stay where they are.
 */
#ifndef SG_BPF_SYNACK_H
#define SG_BPF_SYNACK_H

#include "common.h"
#include "csum.h"
#include "parse.h"

/* What goes into the SYN-ACK besides addresses and ports. */
struct synack {
	__u32 seq;		/* our ISN: the cookie */
	__u32 ack;		/* client ISN + 1 */
	__u32 tsval;		/* our TSval, if the client sent timestamps */
	__u32 tsecr;		/* the client's TSval */
	__u16 mss;
	__u16 window;
	__u8 wscale;		/* SG_WSCALE_NONE: the client offered none */
	__u8 sack_ok;
	__u8 ts_ok;
	__u8 ece;
	__u8 ttl;
};

#define SYNACK_MAX_OPT_WORDS 5

/* Options in Linux's order: MSS, SACK-permitted + timestamps, NOP + wscale. */
static __always_inline __u32 synack_options(const struct synack *sa, __u32 w[SYNACK_MAX_OPT_WORDS])
{
	__u32 n = 0;

	w[n++] = bpf_htonl((TCPOPT_MSS << 24) | (4 << 16) | sa->mss);
	if (sa->ts_ok) {
		if (sa->sack_ok)
			w[n++] = bpf_htonl((TCPOPT_SACK_PERM << 24) | (2 << 16) | (TCPOPT_TIMESTAMP << 8) | 10);
		else
			w[n++] = bpf_htonl((TCPOPT_NOP << 24) | (TCPOPT_NOP << 16) | (TCPOPT_TIMESTAMP << 8) | 10);
		w[n++] = bpf_htonl(sa->tsval);
		w[n++] = bpf_htonl(sa->tsecr);
	} else if (sa->sack_ok) {
		w[n++] = bpf_htonl((TCPOPT_NOP << 24) | (TCPOPT_NOP << 16) | (TCPOPT_SACK_PERM << 8) | 2);
	}
	if (sa->wscale != SG_WSCALE_NONE)
		w[n++] = bpf_htonl((TCPOPT_NOP << 24) | (TCPOPT_WINDOW << 16) | (3 << 8) | sa->wscale);
	return n;
}

/*
 * Rewrite the frame. `pkt` describes the parsed SYN; its addresses and ports
 * are swapped into the answer. Returns 0, or -1 if the frame could not be
 * resized (the caller drops it).
 */
static __always_inline int synack_build(struct xdp_md *ctx, struct packet *pkt, __u32 ports,
					const struct synack *sa)
{
	__u32 opt[SYNACK_MAX_OPT_WORDS] = {};
	__u32 nopt = synack_options(sa, opt);
	__u32 l3_off = pkt->l3_off & 0x3f; /* <= 14 + 2 VLAN tags */
	__u32 ip_len = pkt->ipv6 ? sizeof(struct ipv6hdr) : sizeof(struct iphdr);
	__u32 tcp_len = sizeof(struct tcphdr) + nopt * 4;
	__u32 new_len = l3_off + ip_len + tcp_len;
	__u32 new_ports = (ports >> 16) | (ports << 16);
	__u8 flags = TCP_SYN | TCP_ACK | (sa->ece ? TCP_ECE : 0);
	unsigned char mac[2][ETH_ALEN];
	__u32 tcp_words[5];
	struct ethhdr *eth;
	__u32 *tcpw, i;
	void *data = xdp_data(ctx);
	void *end = xdp_data_end(ctx);
	__u64 sum;
	int delta;

	eth = data;
	if ((void *)(eth + 1) > end)
		return -1;
	__builtin_memcpy(mac[0], eth->h_source, ETH_ALEN);
	__builtin_memcpy(mac[1], eth->h_dest, ETH_ALEN);

	delta = (int)new_len - (int)(end - data);
	if (delta && bpf_xdp_adjust_tail(ctx, delta))
		return -1;
	/* adjust_tail invalidates every packet pointer: derive them again. */
	data = xdp_data(ctx);
	end = xdp_data_end(ctx);

	eth = data;
	if ((void *)(eth + 1) > end)
		return -1;
	__builtin_memcpy(eth->h_dest, mac[0], ETH_ALEN);
	__builtin_memcpy(eth->h_source, mac[1], ETH_ALEN);

	if (pkt->ipv6) {
		struct ipv6hdr *ip6 = data + l3_off;

		if ((void *)(ip6 + 1) > end)
			return -1;
		*(__u32 *)ip6 = bpf_htonl(6 << 28); /* version, no traffic class or flow label */
		ip6->payload_len = bpf_htons(tcp_len);
		ip6->nexthdr = IPPROTO_TCP;
		ip6->hop_limit = sa->ttl;
		__builtin_memcpy(&ip6->saddr, pkt->daddr, 16);
		__builtin_memcpy(&ip6->daddr, pkt->saddr, 16);
		sum = csum_pseudo6(pkt->daddr, pkt->saddr, tcp_len);
	} else {
		struct iphdr *iph = data + l3_off;
		__u32 w[3];

		if ((void *)(iph + 1) > end)
			return -1;
		/* Not ECT: RFC 3168 forbids ECN marks on SYN-ACKs. */
		w[0] = bpf_htonl((0x45 << 24) | (ip_len + tcp_len));
		w[1] = bpf_htonl(IP_DF);
		w[2] = bpf_htonl(((__u32)sa->ttl << 24) | (IPPROTO_TCP << 16));
		__builtin_memcpy(iph, w, sizeof(w));
		iph->saddr = pkt->daddr[0];
		iph->daddr = pkt->saddr[0];
		iph->check = ~csum_fold((__u64)w[0] + w[1] + w[2] + pkt->saddr[0] + pkt->daddr[0]);
		sum = csum_pseudo4(pkt->daddr[0], pkt->saddr[0], tcp_len);
	}

	tcp_words[0] = new_ports;
	tcp_words[1] = bpf_htonl(sa->seq);
	tcp_words[2] = bpf_htonl(sa->ack);
	tcp_words[3] = bpf_htonl(((tcp_len / 4) << 28) | ((__u32)flags << 16) | sa->window);
	tcp_words[4] = 0; /* checksum and urgent pointer */
	for (i = 0; i < 4; i++)
		sum += tcp_words[i];
	for (i = 0; i < SYNACK_MAX_OPT_WORDS; i++)
		sum += opt[i]; /* unused words are zero */

	tcpw = data + l3_off + ip_len;
	if ((void *)(tcpw + 5) > end)
		return -1;
	__builtin_memcpy(tcpw, tcp_words, sizeof(tcp_words));
	((struct tcphdr *)tcpw)->check = ~csum_fold(sum);
	for (i = 0; i < SYNACK_MAX_OPT_WORDS; i++) {
		if (i >= nopt)
			break;
		if ((void *)(tcpw + 6 + i) > end)
			return -1;
		tcpw[5 + i] = opt[i];
	}
	return 0;
}

#endif
