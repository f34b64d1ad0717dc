// SPDX-License-Identifier: GPL-2.0-only
/*
 * Benchmark sink, not part of synguard: on the attacker's veth, drops the
 * TCP segments addressed to the flood's spoofed sources (198.18.0.0/15 and
 * fd00:198:18::/48): the SYN-ACKs (or reflected SYNs) the flood drew. Their
 * number is the veth's rx_queue_0_xdp_drops (ethtool -S). Everything else
 * (ARP, neighbour discovery, the legit client's traffic) passes.
 *
 * It also gives the veth the XDP program that frames sent to it with
 * XDP_TX from the server side need in order to arrive at all, and it keeps
 * the answers from costing the attacker's CPU an skb each.
 */
#include "common.h"

char LICENSE[] SEC("license") = "GPL";

SEC("xdp")
int bench_sink(struct xdp_md *ctx)
{
	void *data = xdp_data(ctx), *end = xdp_data_end(ctx);
	struct ethhdr *eth = data;

	if ((void *)(eth + 1) > end)
		return XDP_PASS;
	if (eth->h_proto == bpf_htons(ETH_P_IP)) {
		struct iphdr *iph = (void *)(eth + 1);

		if ((void *)(iph + 1) > end || iph->protocol != IPPROTO_TCP)
			return XDP_PASS;
		/* 198.18.0.0/15 */
		if ((iph->daddr & bpf_htonl(0xfffe0000)) == bpf_htonl(0xc6120000))
			return XDP_DROP;
	} else if (eth->h_proto == bpf_htons(ETH_P_IPV6)) {
		struct ipv6hdr *ip6 = (void *)(eth + 1);

		if ((void *)(ip6 + 1) > end || ip6->nexthdr != IPPROTO_TCP)
			return XDP_PASS;
		/* fd00:198:18::/48 */
		if (ip6->daddr.in6_u.u6_addr32[0] == bpf_htonl(0xfd000198) &&
		    (ip6->daddr.in6_u.u6_addr32[1] & bpf_htonl(0xffff0000)) == bpf_htonl(0x00180000))
			return XDP_DROP;
	}
	return XDP_PASS;
}
