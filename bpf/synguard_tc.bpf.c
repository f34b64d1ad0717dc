// SPDX-License-Identifier: GPL-2.0-only
/*
 * synguard TC ingress stage (local hand-off): for each segment the XDP stage
 * found to carry a valid cookie (it left struct sg_handoff_meta in the XDP
 * metadata area), create the request socket on the listener with the options
 * decoded from the cookie, using bpf_sk_assign_tcp_reqsk() (Linux 6.9+). The
 * kernel then completes the connection and accept() returns it.
 */
#include "common.h"
#include "maps.h"
#include "stats.h"
#include "conntrack.h"

char LICENSE[] SEC("license") = "GPL";

#define TC_ACT_OK 0
#define EINVAL 22
#define ENOMEM 12

extern int bpf_sk_assign_tcp_reqsk(struct __sk_buff *skb, struct sock *sk,
				   struct bpf_tcp_req_attrs *attrs, int attrs__sz) __ksym;

/* The listener for the segment's destination, found from the IP header;
 * the tuple is left in *tp (zeroes if the headers could not be read). */
static __always_inline struct bpf_sock *lookup(struct __sk_buff *skb, const struct sg_handoff_meta *hm,
					       struct bpf_sock_tuple *tp)
{
	struct bpf_sock_tuple t = {};
	__u32 size, addr_off, addr_len;

	if (hm->ipv6) {
		addr_off = offsetof(struct ipv6hdr, saddr);
		addr_len = 32;
		size = sizeof(t.ipv6);
	} else {
		addr_off = offsetof(struct iphdr, saddr);
		addr_len = 8;
		size = sizeof(t.ipv4);
	}
	/* Offsets from the network header: VLAN tags may have been stripped
	 * between XDP and here, so the XDP frame offsets do not apply. */
	if (bpf_skb_load_bytes_relative(skb, addr_off, &t, addr_len, BPF_HDR_START_NET))
		return NULL;
	if (bpf_skb_load_bytes_relative(skb, hm->l4_from_l3, hm->ipv6 ? (void *)&t.ipv6.sport : (void *)&t.ipv4.sport,
					4, BPF_HDR_START_NET))
		return NULL;
	*tp = t;
	return bpf_skc_lookup_tcp(skb, &t, size, BPF_F_CURRENT_NETNS, 0);
}

/* The flow entry XDP made when the cookie validated (see check_our_cookie). */
static __always_inline void flow_key_of(const struct bpf_sock_tuple *t, __u8 ipv6, struct sg_flow_key *key)
{
	__u32 c[4] = {}, s[4] = {}, ports;

	if (ipv6) {
		__builtin_memcpy(c, t->ipv6.saddr, 16);
		__builtin_memcpy(s, t->ipv6.daddr, 16);
		ports = *(__u32 *)&t->ipv6.sport;
	} else {
		c[0] = t->ipv4.saddr;
		s[0] = t->ipv4.daddr;
		ports = *(__u32 *)&t->ipv4.sport;
	}
	flow_key(c, s, ports, ipv6, key);
}

/* The hand-off failed: the kernel will refuse the client (RST), so the
 * entry XDP made for it must not make its segments look tracked. */
static __always_inline void untrack(const struct bpf_sock_tuple *t, __u8 ipv6)
{
	struct sg_flow_key key;

	if (ipv6 ? !t->ipv6.dport : !t->ipv4.dport)
		return; /* the headers could not be read: no tuple */
	flow_key_of(t, ipv6, &key);
	bpf_map_delete_elem(&sg_flows, &key);
}

SEC("tc")
int synguard_tc(struct __sk_buff *skb)
{
	void *data = (void *)(long)skb->data;
	struct sg_handoff_meta *hm = (void *)(long)skb->data_meta;
	struct bpf_tcp_req_attrs attrs = {};
	struct bpf_sock_tuple t = {};
	struct sg_config *cfg;
	struct bpf_sock *skc;
	struct tcp_sock *tp;
	__u32 zero = 0;
	int err;

	if ((void *)(hm + 1) > data || hm->magic != SG_HANDOFF_MAGIC)
		return TC_ACT_OK; /* not a cookie ACK: nothing to do */
	cfg = bpf_map_lookup_elem(&sg_config, &zero);
	if (!cfg)
		return TC_ACT_OK;

	skc = lookup(skb, hm, &t);
	if (!skc) {
		count(SG_CNT_HANDOFF_NO_LISTENER); /* the kernel answers with a RST */
		untrack(&t, hm->ipv6);
		return TC_ACT_OK;
	}
	if (skc->state != BPF_TCP_LISTEN) {
		count(SG_CNT_HANDOFF_EXISTING);
		goto release;
	}
	tp = bpf_skc_to_tcp_sock(skc);
	if (!tp) {
		count(SG_CNT_HANDOFF_EINVAL);
		untrack(&t, hm->ipv6);
		goto release;
	}

	attrs.mss = hm->mss;
	if (hm->wscale != SG_WSCALE_NONE) {
		attrs.wscale_ok = 1;
		attrs.snd_wscale = hm->wscale;
		/* What our SYN-ACK announced (XXX: wrong if `wscale` changed
		 * between the SYN-ACK and this ACK). */
		attrs.rcv_wscale = cfg->wscale;
	}
	attrs.sack_ok = hm->sack_ok;
	attrs.ecn_ok = hm->ecn_ok;
	if (hm->tstamp_ok) {
		attrs.tstamp_ok = 1;
		attrs.rcv_tsval = hm->tsval;
		attrs.rcv_tsecr = hm->tsecr; /* the kernel continues our TS clock */
	}
	err = bpf_sk_assign_tcp_reqsk(skb, (struct sock *)tp, &attrs, sizeof(attrs));
	if (err == 0)
		count(SG_CNT_HANDOFF_OK);
	else if (err == -EINVAL)
		count(SG_CNT_HANDOFF_EINVAL);
	else if (err == -ENOMEM)
		count(SG_CNT_HANDOFF_ENOMEM);
	else
		count(SG_CNT_HANDOFF_EOTHER);
	if (err)
		untrack(&t, hm->ipv6);
release:
	bpf_sk_release(skc);
	return TC_ACT_OK;
}
