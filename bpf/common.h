/* SPDX-License-Identifier: GPL-2.0-only */
/* Includes and constants every BPF file needs (vmlinux.h has no macros). */
#ifndef SG_BPF_COMMON_H
#define SG_BPF_COMMON_H

#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

#define ETH_P_IP 0x0800
#define ETH_P_IPV6 0x86DD
#define ETH_P_8021Q 0x8100
#define ETH_P_8021AD 0x88A8
#define ETH_ALEN 6

/* IPv6 extension headers (IPPROTO_AH is in vmlinux.h's enum). */
#define IPPROTO_HOPOPTS 0
#define IPPROTO_ROUTING 43
#define IPPROTO_FRAGMENT 44
#define IPPROTO_DSTOPTS 60

#define IP_MF 0x2000
#define IP_DF 0x4000
#define IP_OFFSET 0x1fff

#define TCPOPT_EOL 0
#define TCPOPT_NOP 1
#define TCPOPT_MSS 2
#define TCPOPT_WINDOW 3
#define TCPOPT_SACK_PERM 4
#define TCPOPT_TIMESTAMP 8

/* TCP flags as in byte 13 of the header. */
#define TCP_FIN 0x01
#define TCP_SYN 0x02
#define TCP_RST 0x04
#define TCP_PSH 0x08
#define TCP_ACK 0x10
#define TCP_URG 0x20
#define TCP_ECE 0x40
#define TCP_CWR 0x80

/*
 * ctx->data / ctx->data_end through inline asm: clang otherwise merges the two
 * loads into one with a computed offset ("dereference of modified ctx ptr").
 */
static __always_inline void *xdp_data(struct xdp_md *ctx)
{
	__u64 v;

	asm volatile("%0 = *(u32 *)(%1 + 0)" : "=r"(v) : "r"(ctx));
	return (void *)(long)v;
}

static __always_inline void *xdp_data_end(struct xdp_md *ctx)
{
	__u64 v;

	asm volatile("%0 = *(u32 *)(%1 + 4)" : "=r"(v) : "r"(ctx));
	return (void *)(long)v;
}

#endif
