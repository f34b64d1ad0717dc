// SPDX-License-Identifier: GPL-2.0-only
/*
 * Test helper for the lost-third-ACK case, attached at TC egress of the
 * CLIENT: remembers each SYN the client sends and drops the pure ACK that
 * would complete that handshake, so the client's first data segment has to
 * complete it instead. IPv4 and IPv6 without extension headers; every other
 * packet passes. `dropped` counts what it dropped.
 */
#include "common.h"

char LICENSE[] SEC("license") = "GPL";

#define TC_ACT_OK 0
#define TC_ACT_SHOT 2

struct flow {
	__u32 saddr[4];
	__u32 daddr[4];
	__u32 ports;
	__u32 pad;
};

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 4096);
	__type(key, struct flow);
	__type(value, __u8);
} pending_syn SEC(".maps");

__u64 dropped = 0;

SEC("tc")
int drop_handshake_ack(struct __sk_buff *skb)
{
	void *data = (void *)(long)skb->data, *end = (void *)(long)skb->data_end;
	struct ethhdr *eth = data;
	struct flow f = {};
	struct tcphdr *tcp;
	__u32 payload;
	__u8 flags, one = 1;

	if ((void *)(eth + 1) > end)
		return TC_ACT_OK;
	if (eth->h_proto == bpf_htons(ETH_P_IP)) {
		struct iphdr *iph = (void *)(eth + 1);

		if ((void *)(iph + 1) > end || iph->protocol != IPPROTO_TCP || iph->ihl != 5)
			return TC_ACT_OK;
		f.saddr[0] = iph->saddr;
		f.daddr[0] = iph->daddr;
		tcp = (void *)(iph + 1);
		payload = bpf_ntohs(iph->tot_len) - 20;
	} else if (eth->h_proto == bpf_htons(ETH_P_IPV6)) {
		struct ipv6hdr *ip6 = (void *)(eth + 1);

		if ((void *)(ip6 + 1) > end || ip6->nexthdr != IPPROTO_TCP)
			return TC_ACT_OK;
		__builtin_memcpy(f.saddr, &ip6->saddr, 16);
		__builtin_memcpy(f.daddr, &ip6->daddr, 16);
		tcp = (void *)(ip6 + 1);
		payload = bpf_ntohs(ip6->payload_len);
	} else {
		return TC_ACT_OK;
	}
	if ((void *)(tcp + 1) > end)
		return TC_ACT_OK;
	f.ports = *(__u32 *)tcp;
	flags = ((__u8 *)tcp)[13];
	payload -= tcp->doff * 4;

	if (flags == TCP_SYN) {
		bpf_map_update_elem(&pending_syn, &f, &one, BPF_ANY);
		return TC_ACT_OK;
	}
	if (flags == TCP_ACK && payload == 0 && bpf_map_lookup_elem(&pending_syn, &f)) {
		bpf_map_delete_elem(&pending_syn, &f);
		__sync_fetch_and_add(&dropped, 1);
		return TC_ACT_SHOT;
	}
	return TC_ACT_OK;
}
