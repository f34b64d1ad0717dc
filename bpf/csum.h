/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Internet checksum (RFC 1071). We sum raw memory-order words into a 64-bit
 * accumulator and fold at the end: the one's complement sum is byte-order
 * independent, so no byte swapping is needed on either side.
 */
#ifndef SG_BPF_CSUM_H
#define SG_BPF_CSUM_H

#include "common.h"

static __always_inline __u16 csum_fold(__u64 sum)
{
	sum = (sum & 0xffffffff) + (sum >> 32);
	sum = (sum & 0xffffffff) + (sum >> 32);
	sum = (sum & 0xffff) + (sum >> 16);
	sum = (sum & 0xffff) + (sum >> 16);
	return (__u16)sum;
}

/* Sum of the IPv4 or IPv6 pseudo header, raw words (addresses as in the packet). */
static __always_inline __u64 csum_pseudo4(__u32 saddr, __u32 daddr, __u32 tcp_len)
{
	return (__u64)saddr + daddr + bpf_htonl((IPPROTO_TCP << 16) | tcp_len);
}

static __always_inline __u64 csum_pseudo6(const __u32 *saddr, const __u32 *daddr, __u32 tcp_len)
{
	__u64 sum = bpf_htonl(tcp_len) + (__u64)bpf_htonl(IPPROTO_TCP);
	int i;

	for (i = 0; i < 4; i++)
		sum += (__u64)saddr[i] + daddr[i];
	return sum;
}

/*
 * Sum of a header of 20 to 60 bytes, a multiple of 4 (IPv4 header, TCP
 * header of a SYN without payload): unrolled, no call. Returns -1 if it runs
 * past the packet.
 */
static __always_inline __s64 csum_small(void *data, void *end, __u32 off, __u32 len)
{
	__u32 *p = data + (off & 0x3fff);
	__u64 sum = 0;
	int i;

	if ((void *)(p + 5) > end) /* every header we sum is 20 bytes or more */
		return -1;
	sum = (__u64)p[0] + p[1] + p[2] + p[3] + p[4];
#pragma unroll
	for (i = 5; i < 15; i++) {
		if ((__u32)i * 4 < len) {
			if ((void *)(p + i + 1) > end)
				return -1;
			sum += p[i];
		}
	}
	return (__s64)sum;
}

#define CSUM_MAX_LEN 2048

/*
 * Sum of `len` bytes starting `off` bytes into the packet, len at most
 * CSUM_MAX_LEN. Returns -1 if the range runs past the packet. The loop reads
 * 4 bytes per step, then the 0-3 trailing bytes. A global function, so the
 * verifier walks its loop once rather than at every call site.
 */
__noinline __s64 csum_packet(struct xdp_md *ctx, __u32 off, __u32 len)
{
	void *data = xdp_data(ctx);
	void *end = xdp_data_end(ctx);
	const __u32 max_len = CSUM_MAX_LEN;
	__u64 sum = 0;
	__u32 i, words;
	__u8 *p;

	if (len > max_len || off > 0xffff)
		return -1;
	words = len / 4;
	p = data + (off & 0x3fff);
	for (i = 0; i < max_len / 4; i++) {
		if (i >= words)
			break;
		if ((void *)(p + 4) > end)
			return -1;
		sum += *(__u32 *)p;
		p += 4;
		/* Keep clang from turning the bounds check into end - 3 < p
		 * arithmetic on pkt_end, which the verifier rejects. */
		asm volatile("" : "+r"(p));
	}
	if (len & 2) {
		if ((void *)(p + 2) > end)
			return -1;
		sum += *(__u16 *)p;
		p += 2;
	}
	if (len & 1) {
		if ((void *)(p + 1) > end)
			return -1;
		sum += *p; /* pads with a zero byte after it: the low byte on LE */
	}
	return (__s64)sum;
}

#endif
