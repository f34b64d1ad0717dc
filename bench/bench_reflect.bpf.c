// SPDX-License-Identifier: GPL-2.0-only
/*
 * Benchmark baselines, not part of synguard: `bench_pass` returns XDP_PASS
 * (the zero of "net ns"), `bench_reflect` swaps MACs, IPv4 addresses and TCP
 * ports and bounces the frame with XDP_TX, with no cookie, no options and no
 * checksum work: the floor any SYN responder sits on.
 */
#include "common.h"

char LICENSE[] SEC("license") = "GPL";

SEC("xdp")
int bench_pass(struct xdp_md *ctx)
{
	return XDP_PASS;
}

SEC("xdp")
int bench_reflect(struct xdp_md *ctx)
{
	void *data = xdp_data(ctx), *end = xdp_data_end(ctx);
	struct ethhdr *eth = data;
	unsigned char mac[ETH_ALEN];
	struct iphdr *iph;
	struct tcphdr *tcp;
	__u32 addr;
	__u16 port;

	if ((void *)(eth + 1) > end)
		return XDP_PASS;
	iph = (void *)(eth + 1);
	if ((void *)(iph + 1) > end || eth->h_proto != bpf_htons(ETH_P_IP))
		return XDP_PASS;
	tcp = (void *)(iph + 1); /* assumes no IP options: a floor, not a parser */
	if ((void *)(tcp + 1) > end)
		return XDP_PASS;
	__builtin_memcpy(mac, eth->h_dest, ETH_ALEN);
	__builtin_memcpy(eth->h_dest, eth->h_source, ETH_ALEN);
	__builtin_memcpy(eth->h_source, mac, ETH_ALEN);
	addr = iph->saddr;
	iph->saddr = iph->daddr;
	iph->daddr = addr;
	port = tcp->source;
	tcp->source = tcp->dest;
	tcp->dest = port;
	return XDP_TX;
}
