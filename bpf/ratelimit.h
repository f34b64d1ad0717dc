/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Per-source-prefix SYN-ACK limit (anti-reflection, fairness): a token
 * bucket per source prefix (struct sg_config syn_rate, syn_burst,
 * rate_prefix4/6). syn_rate 0 means no limit, and then no map is touched.
 *
 * A reflection attack spoofs the victim's address as the source of its SYNs,
 * so every SYN-ACK we would send to the victim falls into one bucket; a
 * spoofed flood from random sources spreads over many buckets, each of which
 * stays under its burst, and is answered in full (the cookies make that
 * cheap).
 *
 * Bucket (struct sg_rate_bucket): `tokens` in 1/1024 of a token, `last_ns`
 * the coarse-clock time of the last refill. A prefix may send at most
 * burst + rate * t SYN-ACKs in any window of t seconds. syn_burst 0 means one
 * second's worth (burst = rate).
 *
 * Cost: one hash lookup; in the common case of a flood from one prefix the
 * coarse clock has not moved since the previous SYN, so there is no refill
 * arithmetic either.
 *
 * Light prefixes get no bucket. An insert into the LRU map costs more than
 * the rest of the SYN path (under a spoofed flood it would evict on every
 * SYN), and even a missed lookup costs a hash of the key. So the first look
 * is into a small array of per-second counters indexed by a multiplicative
 * hash of the prefix (sg_rate_seen): while no prefix of that slot has a
 * bucket and the slot has counted fewer than `free` = min(rate, burst) / 2
 * SYNs in the current window (coarse ns >> 30, about 1.07 s), the SYN is
 * counted and answered. Past that, the prefix gets a bucket that starts
 * `free` + 1 tokens short of full, and the slot is marked, so that from then
 * on every prefix of the slot is looked up in the map. The bound below holds
 * whoever else shared the slot; sharing it only ever makes a prefix's first
 * bucket smaller. A spoofed flood from random sources thus costs one array
 * update per SYN.
 *
 * XXX: a slot's mark is never cleared (a prefix's bucket may live on in the
 * LRU map, and only the mark sends it there). Slots marked by many heavy
 * prefixes over a long time send more light prefixes to the map (a lookup
 * and an insert each): slower, never more lenient. The counters are a
 * reset away: deleting sg_rate and zeroing sg_rate_seen together is safe.
 *
 * XXX: the read-modify-write of a bucket is not atomic. Two CPUs answering
 * the same prefix at the same instant can both spend the last token, so the
 * bound can be exceeded by one SYN-ACK per concurrently answering CPU. A
 * spin lock per bucket would make it exact at the price of an atomic per SYN.
 */
#ifndef SG_BPF_RATELIMIT_H
#define SG_BPF_RATELIMIT_H

#include "maps.h"
#include "parse.h"

#define SG_RATE_ENTRIES 65536
#define SG_RATE_SLOT_BITS 16
#define SG_RATE_WINDOW_SHIFT 30 /* counter window of the light prefixes: 1.07 s */
#define SG_RATE_SLOT_BUCKETED (1ULL << 63) /* some prefix of this slot has a bucket */
#define SG_RATE_ONE 1024ULL /* one token, in the bucket's fixed point */
#define SG_NSEC_PER_SEC 1000000000ULL

/* Token buckets per source prefix; shared by all CPUs (a per-CPU map would
 * give a prefix whose flows spread over N queues N times its rate), LRU so
 * that a flood of new prefixes recycles the coldest buckets. */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, SG_RATE_ENTRIES);
	__type(key, struct sg_rate_key);
	__type(value, struct sg_rate_bucket);
} sg_rate SEC(".maps");

/* Per-second SYN counters of the light prefixes, by hash of the prefix:
 * SG_RATE_SLOT_BUCKETED | window << 32 | count. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1 << SG_RATE_SLOT_BITS);
	__type(key, __u32);
	__type(value, __u64);
} sg_rate_seen SEC(".maps");

/* Counter slot of a prefix: a multiplicative hash of the masked key. */
static __always_inline __u32 rate_slot(const struct sg_rate_key *k)
{
	__u32 h = k->addr[0] * 0x9e3779b1u;

	h = (h ^ k->addr[1]) * 0x85ebca6bu;
	h = (h ^ k->addr[2]) * 0xc2b2ae35u;
	h = (h ^ k->addr[3] ^ k->ipv6) * 0x9e3779b1u;
	return h >> (32 - SG_RATE_SLOT_BITS);
}

/* Network-order mask of the first `bits` bits of a 32-bit word, bits 0..32. */
static __always_inline __u32 prefix_mask32(__u32 bits)
{
	if (bits >= 32)
		return 0xffffffffu;
	if (!bits)
		return 0;
	return bpf_htonl(0xffffffffu << (32 - bits));
}

/* The bucket key: the source address cut to the configured prefix. */
static __always_inline void rate_key(const struct packet *pkt, const struct sg_config *cfg,
				     struct sg_rate_key *k)
{
	__u32 plen;
	int i;

	__builtin_memset(k, 0, sizeof(*k));
	if (!pkt->ipv6) {
		k->addr[0] = pkt->saddr[0] & prefix_mask32(cfg->rate_prefix4);
		return;
	}
	k->ipv6 = 1;
	plen = cfg->rate_prefix6;
#pragma unroll
	for (i = 0; i < 4; i++) {
		k->addr[i] = pkt->saddr[i] & prefix_mask32(plen > 32 ? 32 : plen);
		plen = plen > 32 ? plen - 32 : 0;
	}
}

/* Tokens (fixed point) earned in `ns` nanoseconds at `rate` per second,
 * capped at `full`. rate and burst are __u32, so no product overflows. */
static __always_inline __u64 rate_refill(__u64 ns, __u64 rate, __u64 burst, __u64 full)
{
	__u64 secs;

	if (ns >= SG_NSEC_PER_SEC) {
		/* Idle for a second or more: whole seconds first. */
		secs = ns / SG_NSEC_PER_SEC;
		if (secs >= burst || secs * rate >= burst)
			return full;
		ns -= secs * SG_NSEC_PER_SEC;
		/* ns < 1e9 and rate < 2^32: ns * rate * 2 < 2^64. */
		return secs * rate * SG_RATE_ONE + ns * rate * 2 / 1953125;
	}
	/* 1024 / 1e9 = 2 / 1953125, exactly. */
	return ns * rate * 2 / 1953125;
}

/* 0: answer this SYN; -1: its source prefix is over its rate. */
static __always_inline int ratelimit_syn(const struct packet *pkt, const struct sg_config *cfg)
{
	__u64 rate = cfg->syn_rate, burst, full, now, tokens, free, win, v, cnt;
	struct sg_rate_bucket *b, fresh;
	struct sg_rate_key key;
	__s64 elapsed;
	__u64 *seen;
	__u32 slot;

	if (!rate)
		return 0;
	burst = cfg->syn_burst ? cfg->syn_burst : rate;
	full = burst * SG_RATE_ONE;
	free = (rate < burst ? rate : burst) / 2;
	rate_key(pkt, cfg, &key);
	now = bpf_ktime_get_coarse_ns(); /* tick resolution is plenty for a rate */

	/* A light prefix in a slot without buckets: counted, answered. */
	slot = rate_slot(&key);
	seen = bpf_map_lookup_elem(&sg_rate_seen, &slot);
	if (!seen)
		return 0; /* cannot happen: array map */
	v = *seen;
	if (!(v & SG_RATE_SLOT_BUCKETED) && free) {
		win = (now >> SG_RATE_WINDOW_SHIFT) & 0x7fffffff;
		cnt = (v >> 32) == win ? (__u32)v : 0;
		if (cnt < free) {
			*seen = win << 32 | (cnt + 1);
			return 0;
		}
	}

	b = bpf_map_lookup_elem(&sg_rate, &key);
	if (!b) {
		/* A bucket for it: full, less what it may have had for free
		 * from its slot, less this SYN. From now on every prefix of
		 * this slot looks for its bucket. If the insert fails (another
		 * CPU won the race), the SYN is answered all the same. */
		fresh.last_ns = now;
		fresh.tokens = full - (free + 1) * SG_RATE_ONE;
		bpf_map_update_elem(&sg_rate, &key, &fresh, BPF_NOEXIST);
		if (!(v & SG_RATE_SLOT_BUCKETED))
			*seen = v | SG_RATE_SLOT_BUCKETED;
		return 0;
	}

	tokens = b->tokens;
	elapsed = now - b->last_ns;
	if (elapsed > 0) { /* <= 0: same tick, or another CPU refilled later */
		tokens += rate_refill(elapsed, rate, burst, full);
		if (tokens > full)
			tokens = full;
		b->last_ns = now;
	}
	if (tokens < SG_RATE_ONE) {
		b->tokens = tokens; /* keep the fraction earned so far */
		return -1;
	}
	b->tokens = tokens - SG_RATE_ONE;
	return 0;
}

#endif
