/* SPDX-License-Identifier: GPL-2.0-only */
#ifndef SG_BPF_STATS_H
#define SG_BPF_STATS_H

#include "maps.h"

static __always_inline void count(enum sg_counter c)
{
	__u32 key = c;
	__u64 *v = bpf_map_lookup_elem(&sg_stats, &key);

	if (v)
		*v += 1; /* per-CPU slot: no atomic needed */
}

#endif
