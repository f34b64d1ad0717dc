/* SPDX-License-Identifier: GPL-2.0-only */
/* The maps of the XDP stage. Keys and values come from include/synguard/abi.h. */
#ifndef SG_BPF_MAPS_H
#define SG_BPF_MAPS_H

#include "common.h"
#include "synguard/abi.h"

/* Runtime settings: MSS, window, wscale, TTL, epoch length. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct sg_config);
} sg_config SEC(".maps");

/* Protected destination ports: bit (port % 64) of word (port / 64). */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, SG_PORT_WORDS);
	__type(key, __u32);
	__type(value, __u64);
} sg_ports SEC(".maps");

/* Cookie keys; mmapable so userspace can rotate in a tear-free order. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__uint(map_flags, BPF_F_MMAPABLE);
	__type(key, __u32);
	__type(value, struct sg_secret);
} sg_secret SEC(".maps");

/* Connections synguard admitted or re-learned (bpf/conntrack.h); userspace
 * sizes it before load (--flow-table-size). LRU: a full table evicts the
 * least recently used entry, which is re-learned from the socket table. */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, SG_DEFAULT_FLOW_TABLE_SIZE);
	__type(key, struct sg_flow_key);
	__type(value, struct sg_flow);
} sg_flows SEC(".maps");

/* Per CPU, by port % SG_LISTEN_CACHE_SLOTS: the last time a socket lookup
 * found a listener on that port (bpf/synguard_xdp.bpf.c listener_known). */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, SG_LISTEN_CACHE_SLOTS);
	__type(key, __u32);
	__type(value, struct sg_listen_slot);
} sg_listen_cache SEC(".maps");

/* Counters, indexed by enum sg_counter; one slot per CPU. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, SG_CNT_MAX);
	__type(key, __u32);
	__type(value, __u64);
} sg_stats SEC(".maps");

#endif
