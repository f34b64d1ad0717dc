// SPDX-License-Identifier: GPL-2.0-only
/*
 * synguard TC egress stage: the server-to-client half of the flow table. Each
 * segment a protected port sends moves its flow's state (FIN, ACK of the
 * client's FIN, RST) and records where the server is and its window, which
 * the XDP stage needs to judge the client's RSTs. Never drops anything.
 */
#include "common.h"
#include "maps.h"
#include "stats.h"
#include "policy.h"
#include "conntrack.h"

char LICENSE[] SEC("license") = "GPL";

#define TC_ACT_OK 0

SEC("tc")
int synguard_egress(struct __sk_buff *skb)
{
	void *data = (void *)(long)skb->data, *end = (void *)(long)skb->data_end;
	__u32 c[4] = {}, s[4] = {}, zero = 0, l4, len;
	struct sg_flow_key key;
	struct sg_config *cfg;
	struct segment seg;
	struct tcphdr *tcp;
	struct sg_flow *f;
	__u8 ipv6;

	/* Locally sent frames carry no VLAN tag in the data (it travels in
	 * the skb), so the IP header follows the Ethernet header. */
	if (skb->protocol == bpf_htons(ETH_P_IP)) {
		struct iphdr *iph = data + sizeof(struct ethhdr);

		if ((void *)(iph + 1) > end || iph->protocol != IPPROTO_TCP)
			return TC_ACT_OK;
		l4 = iph->ihl * 4;
		len = bpf_ntohs(iph->tot_len);
		s[0] = iph->saddr;
		c[0] = iph->daddr;
		ipv6 = 0;
	} else if (skb->protocol == bpf_htons(ETH_P_IPV6)) {
		struct ipv6hdr *ip6 = data + sizeof(struct ethhdr);

		if ((void *)(ip6 + 1) > end || ip6->nexthdr != IPPROTO_TCP)
			return TC_ACT_OK; /* XXX: extension headers are not walked here */
		l4 = sizeof(*ip6);
		len = sizeof(*ip6) + bpf_ntohs(ip6->payload_len);
		__builtin_memcpy(s, &ip6->saddr, 16);
		__builtin_memcpy(c, &ip6->daddr, 16);
		ipv6 = 1;
	} else {
		return TC_ACT_OK;
	}
	tcp = data + sizeof(struct ethhdr) + (l4 & 0x3f);
	if ((void *)(tcp + 1) > end)
		return TC_ACT_OK;
	if (!port_protected(bpf_ntohs(tcp->source)))
		return TC_ACT_OK;
	if (((__u8 *)tcp)[13] & TCP_SYN)
		return TC_ACT_OK; /* the kernel's own SYN-ACKs: no flow yet */
	cfg = bpf_map_lookup_elem(&sg_config, &zero);
	if (!cfg)
		return TC_ACT_OK;

	/* Key in the client-to-server direction: ports swapped. */
	flow_key(c, s, (*(__u32 *)tcp >> 16) | (*(__u32 *)tcp << 16), ipv6, &key);
	f = flow_lookup(&key, cfg, flow_now());
	if (!f)
		return TC_ACT_OK;
	seg.seq = bpf_ntohl(tcp->seq);
	seg.ack = bpf_ntohl(tcp->ack_seq);
	seg.payload = len - l4 - tcp->doff * 4; /* GSO: the whole super-packet */
	seg.window = bpf_ntohs(tcp->window);
	seg.flags = ((__u8 *)tcp)[13];
	flow_from_server(f, &seg, flow_now());
	count(SG_CNT_EGRESS_SEEN);
	return TC_ACT_OK;
}
