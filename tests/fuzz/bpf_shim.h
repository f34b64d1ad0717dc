/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Just enough of the BPF environment to compile bpf/parse.h, bpf/csum.h and
 * include/synguard/cookie.h as ordinary userspace C (tests/fuzz/
 * parser_fuzz.c), unchanged:
 *
 *   - vmlinux.h, <bpf/bpf_helpers.h> and <bpf/bpf_endian.h> are skipped by
 *     defining their include guards; the few types and constants the
 *     parsers need come from the uapi headers instead;
 *   - struct xdp_md holds real data/data_end pointers and the frame length
 *     bpf_xdp_get_buff_len() reports (larger than the linear part for a
 *     multi-buffer frame);
 *   - struct frag_hdr (kernel-internal, from vmlinux.h) is defined here.
 *
 * bpf/common.h reads ctx->data and ctx->data_end with BPF inline assembly
 * (a verifier workaround), which an x86 compiler cannot assemble. While
 * common.h is included, `asm` is an empty macro and `volatile(...)` a
 * function-like one, which turn those two statements into calls of
 * sg_shim_ctx_load(); both are undefined again right after, so csum.h's own
 * `asm volatile("" ...)` barrier stays real.
 * A one-line change to common.h would make this unnecessary: see
 * tests/README.md ("The userspace shim").
 *
 * Include this before anything from bpf/.
 */
#ifndef SG_BPF_SHIM_H
#define SG_BPF_SHIM_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <linux/types.h>
#include <linux/if_ether.h>
#include <linux/in.h>
#include <linux/ip.h>
#include <linux/ipv6.h>
#include <linux/tcp.h>

/* What bpf/common.h would pull in. */
#define __VMLINUX_H__
#define __BPF_HELPERS__
#define __BPF_ENDIAN__

#ifndef __always_inline
#define __always_inline inline __attribute__((always_inline))
#endif
#define __noinline __attribute__((noinline))
#define SEC(name) __attribute__((section(name), used))

#define bpf_ntohs(x) __builtin_bswap16(x)
#define bpf_htons(x) __builtin_bswap16(x)
#define bpf_ntohl(x) __builtin_bswap32(x)
#define bpf_htonl(x) __builtin_bswap32(x)

/* The XDP context as the parsers use it. */
struct xdp_md {
	void *data;
	void *data_end;
	__u32 buff_len; /* bpf_xdp_get_buff_len(): the whole frame */
};

static inline __u64 bpf_xdp_get_buff_len(struct xdp_md *ctx)
{
	return ctx->buff_len;
}

/* include/net/ipv6.h */
struct frag_hdr {
	__u8 nexthdr;
	__u8 reserved;
	__be16 frag_off;
	__be32 identification;
};

/* The two statements in bpf/common.h, given their text: offset 0 reads
 * data, offset 4 data_end. */
static inline __u64 sg_shim_ctx_load(const struct xdp_md *ctx, const char *text)
{
	return (__u64)(uintptr_t)(strstr(text, "+ 4") ? ctx->data_end : ctx->data);
}

#pragma clang diagnostic push
#pragma clang diagnostic ignored "-Wkeyword-macro"
#define asm
#define volatile(...) (v = sg_shim_ctx_load(ctx, #__VA_ARGS__))
#include "common.h"
#undef volatile
#undef asm
#pragma clang diagnostic pop

#endif /* SG_BPF_SHIM_H */
