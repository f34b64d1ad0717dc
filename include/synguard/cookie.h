/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * synguard's SYN cookie, shared by the XDP program and userspace (which uses
 * it in tests and tools). Pure functions of their arguments: no maps, no
 * clock; the callers supply the key and the epoch.
 *
 * The 32-bit cookie is our ISN in the SYN-ACK:
 *
 *   bit  31 ............. 8 | 7     | 6   5 | 4  3  2 | 1    | 0
 *        MAC (24 bits)      | epoch | MSS   | wscale  | SACK | ECN
 *                           | parity| index | index   | perm |
 *
 *   MAC     top 24 bits of SipHash-2-4(key(E); saddr, daddr, sport, dport,
 *           client ISN, E, the 7 low bits, tsval_hi), E = full epoch number.
 *   epoch   E & 1. The validator picks E = now or now - 1 by this bit, so a
 *           cookie is accepted in the epoch that made it and the next one
 *           only: at most two epochs (2 x 68.7 s by default).
 *   key     key(E) is the key in force in epoch E (struct sg_secret): the
 *           epoch bit identifies the key too. A separate key bit would cost a
 *           MAC bit; a rotation instead takes effect at the next epoch.
 *   MSS     index into sg_mss_table(), client MSS rounded down.
 *   wscale  index into sg_wscale_table(), client shift rounded down (index 0:
 *           the client sent no window scale). Rounding down only makes the
 *           server see a smaller client window: safe, and exact for the
 *           shifts stacks send without timestamps (Windows 8, Linux 7-10);
 *           11-14 become 10, which still allows a 64 MiB window. With
 *           timestamps the exact shift travels in the TSval (below).
 *   SACK    client sent SACK-permitted.  ECN: client sent ECE+CWR.
 *
 * Blind guess: for any ACK the validator derives one (E, key, meta) from the
 * cookie bits and checks one 24-bit MAC, so a forged ACK is accepted with
 * probability 2^-24 (5.96e-8). All 128 (MSS, wscale, SACK, ECN) values and
 * both live epochs are reachable, so no layout with these fields and a 24-bit
 * MAC can do better in 32 bits.
 *
 * With timestamps our TSval is
 *
 *   bit  31 ............ 12 | 11 .... 8 | 7 ..... 0
 *        clock_ms & ~0xfff  | wscale    | MAC2
 *
 * wscale: the client's exact shift (15: none); MAC2: the low 8 bits of the
 * same SipHash, whose input includes tsval_hi = TSval >> 8 (clock and
 * wscale) and a bit saying timestamps are in use, so a cookie made without
 * timestamps cannot be validated with an invented echo, nor the other way
 * round. The ACK must echo the TSval in TSecr: 32 MAC bits, 2^-32 per
 * forged ACK.
 */
#ifndef SYNGUARD_COOKIE_H
#define SYNGUARD_COOKIE_H

#include "abi.h"

/* Test builds may narrow the MAC (-DSG_COOKIE_MAC_BITS=8) to check the
 * forged-ACK acceptance rate against 2^-bits; production is 24. The MAC
 * always sits right above the 8 meta bits, unused high bits stay 0. */
#ifndef SG_COOKIE_MAC_BITS
#define SG_COOKIE_MAC_BITS 24
#endif
#define SG_COOKIE_MAC_MASK ((1u << SG_COOKIE_MAC_BITS) - 1)
#define SG_COOKIE_META_MASK 0x7fu
#define SG_COOKIE_EPOCH_BIT 0x80u
#define SG_COOKIE_TS_MAC_MASK 0xffu

#define SG_META_ECN 0x01u
#define SG_META_SACK 0x02u
#define SG_META_WS_SHIFT 2
#define SG_META_WS_MASK (0x7u << SG_META_WS_SHIFT)
#define SG_META_MSS_SHIFT 5
#define SG_META_MSS_MASK (0x3u << SG_META_MSS_SHIFT)

#define SG_MSS_TABLE_LEN 4
#define SG_WSCALE_TABLE_LEN 8

/*
 * The tables, ascending. MSS index 0 is also used for clients below it or
 * without an MSS option (536 and 1220 are the RFC 9293 / RFC 8200 defaults).
 * Window scale index 0 means "no window scaling"; the others are shifts.
 * Written as switches, not arrays: BPF programs cannot keep static tables in
 * .rodata without a map, and the switch compiles to a few compares.
 */
static __always_inline __u16 sg_mss_table(__u32 idx, int ipv6)
{
	switch (idx & 3) {
	case 0: return ipv6 ? 1220 : 536;
	case 1: return ipv6 ? 1340 : 1300;
	case 2: return ipv6 ? 1440 : 1460;
	default: return ipv6 ? 8940 : 8960;
	}
}

static __always_inline __u8 sg_wscale_table(__u32 idx)
{
	switch (idx & 7) {
	case 0: return SG_WSCALE_NONE;
	case 1: return 0;
	case 2: return 2;
	case 3: return 6;
	case 4: return 7;
	case 5: return 8;
	case 6: return 9;
	default: return 10;
	}
}

/* What the client's SYN offered, as far as the cookie keeps it. */
struct sg_syn_opts {
	__u16 mss;	/* 0: no MSS option */
	__u8 wscale;	/* SG_WSCALE_NONE: no window scale option */
	__u8 sack_ok;
	__u8 ecn_ok;
	__u8 pad[3];
};

static __always_inline __u32 sg_cookie_meta_encode(const struct sg_syn_opts *o, int ipv6)
{
	__u32 mss_idx = 0, ws_idx = 0, i;

	for (i = 1; i < SG_MSS_TABLE_LEN; i++)
		if (o->mss >= sg_mss_table(i, ipv6))
			mss_idx = i;
	if (o->wscale != SG_WSCALE_NONE) {
		ws_idx = 1;
		for (i = 2; i < SG_WSCALE_TABLE_LEN; i++)
			if (o->wscale >= sg_wscale_table(i))
				ws_idx = i;
	}
	return (mss_idx << SG_META_MSS_SHIFT) | (ws_idx << SG_META_WS_SHIFT) |
	       (o->sack_ok ? SG_META_SACK : 0) | (o->ecn_ok ? SG_META_ECN : 0);
}

static __always_inline void sg_cookie_meta_decode(__u32 meta, int ipv6, struct sg_syn_opts *o)
{
	o->mss = sg_mss_table((meta & SG_META_MSS_MASK) >> SG_META_MSS_SHIFT, ipv6);
	o->wscale = sg_wscale_table((meta & SG_META_WS_MASK) >> SG_META_WS_SHIFT);
	o->sack_ok = !!(meta & SG_META_SACK);
	o->ecn_ok = !!(meta & SG_META_ECN);
}

/* ---- SipHash-2-4 over 64-bit words (Aumasson & Bernstein) ---- */

#define SG_ROTL64(x, b) (((x) << (b)) | ((x) >> (64 - (b))))
#define SG_SIPROUND(v0, v1, v2, v3)                                    \
	do {                                                           \
		v0 += v1; v1 = SG_ROTL64(v1, 13); v1 ^= v0;            \
		v0 = SG_ROTL64(v0, 32);                                \
		v2 += v3; v3 = SG_ROTL64(v3, 16); v3 ^= v2;            \
		v0 += v3; v3 = SG_ROTL64(v3, 21); v3 ^= v0;            \
		v2 += v1; v1 = SG_ROTL64(v1, 17); v1 ^= v2;            \
		v2 = SG_ROTL64(v2, 32);                                \
	} while (0)

struct sg_sip {
	__u64 v0, v1, v2, v3;
};

static __always_inline void sg_sip_init(struct sg_sip *s, const __u64 key[2])
{
	s->v0 = key[0] ^ 0x736f6d6570736575ULL;
	s->v1 = key[1] ^ 0x646f72616e646f6dULL;
	s->v2 = key[0] ^ 0x6c7967656e657261ULL;
	s->v3 = key[1] ^ 0x7465646279746573ULL;
}

static __always_inline void sg_sip_word(struct sg_sip *s, __u64 m)
{
	__u64 v0 = s->v0, v1 = s->v1, v2 = s->v2, v3 = s->v3;

	v3 ^= m;
	SG_SIPROUND(v0, v1, v2, v3);
	SG_SIPROUND(v0, v1, v2, v3);
	v0 ^= m;
	s->v0 = v0; s->v1 = v1; s->v2 = v2; s->v3 = v3;
}

/* nwords: message length in 64-bit words (the length goes into the last block). */
static __always_inline __u64 sg_sip_final(struct sg_sip *s, __u32 nwords)
{
	__u64 v0 = s->v0, v1 = s->v1, v2 = s->v2, v3 = s->v3;
	__u64 b = (__u64)(nwords * 8) << 56;

	v3 ^= b;
	SG_SIPROUND(v0, v1, v2, v3);
	SG_SIPROUND(v0, v1, v2, v3);
	v0 ^= b;
	v2 ^= 0xff;
	SG_SIPROUND(v0, v1, v2, v3);
	SG_SIPROUND(v0, v1, v2, v3);
	SG_SIPROUND(v0, v1, v2, v3);
	SG_SIPROUND(v0, v1, v2, v3);
	return v0 ^ v1 ^ v2 ^ v3;
}

/*
 * The flow as the cookie sees it, in the client-to-server direction.
 * Addresses and ports are raw network-order words as they sit in the packet;
 * an IPv4 address uses word 0 only.
 */
struct sg_cookie_flow {
	__u32 saddr[4];
	__u32 daddr[4];
	__u32 ports;	/* sport | dport << 16, both network order */
	__u32 isn;	/* client ISN, host order */
	__u8 ipv6;
	__u8 pad[7];
};

/* The 64-bit MAC of a flow, epoch, meta and, with timestamps (has_ts),
 * tsval_hi. */
static __always_inline __u64 sg_cookie_hash(const __u64 key[2], const struct sg_cookie_flow *f,
					    __u32 epoch, __u32 meta, int has_ts, __u32 tsval_hi)
{
	struct sg_sip s;
	__u64 last = (__u64)epoch | ((__u64)(meta & SG_COOKIE_META_MASK) << 32) |
		     ((__u64)!!has_ts << 39) | ((__u64)(has_ts ? tsval_hi & 0xffffff : 0) << 40);

	sg_sip_init(&s, key);
	if (f->ipv6) {
		sg_sip_word(&s, (__u64)f->saddr[0] | (__u64)f->saddr[1] << 32);
		sg_sip_word(&s, (__u64)f->saddr[2] | (__u64)f->saddr[3] << 32);
		sg_sip_word(&s, (__u64)f->daddr[0] | (__u64)f->daddr[1] << 32);
		sg_sip_word(&s, (__u64)f->daddr[2] | (__u64)f->daddr[3] << 32);
		sg_sip_word(&s, (__u64)f->ports | (__u64)f->isn << 32);
		sg_sip_word(&s, last);
		return sg_sip_final(&s, 6);
	}
	sg_sip_word(&s, (__u64)f->saddr[0] | (__u64)f->daddr[0] << 32);
	sg_sip_word(&s, (__u64)f->ports | (__u64)f->isn << 32);
	sg_sip_word(&s, last);
	return sg_sip_final(&s, 3);
}

static __always_inline __u32 sg_cookie_from_hash(__u64 h, __u32 epoch, __u32 meta)
{
	return ((__u32)(h >> (64 - SG_COOKIE_MAC_BITS)) << 8) | ((epoch & 1) ? SG_COOKIE_EPOCH_BIT : 0) |
	       (meta & SG_COOKIE_META_MASK);
}

/* The epoch a cookie claims, given the current one: now or now - 1. */
static __always_inline __u32 sg_cookie_epoch(__u32 cookie, __u32 now_epoch)
{
	__u32 bit = !!(cookie & SG_COOKIE_EPOCH_BIT);

	return (now_epoch & 1) == bit ? now_epoch : now_epoch - 1;
}

/* The key in force in an epoch. */
static __always_inline const __u64 *sg_secret_key(const struct sg_secret *s, __u32 epoch)
{
	__u64 sel = *(volatile const __u64 *)&s->select; /* one load: never torn */
	__u32 idx = SG_SELECT_NEW_IDX(sel);

	/* Signed difference so the comparison survives epoch wrap-around. */
	if ((__s32)(epoch - SG_SELECT_SWITCH(sel)) < 0)
		idx ^= 1;
	return s->key[idx];
}

#define SG_TS_WSCALE_NONE 0xf

/* TSval for the SYN-ACK (layout above); `mac` is the SipHash output, which
 * must have been computed with sg_tsval_hi() of the same clock and wscale. */
static __always_inline __u32 sg_tsval_hi(__u64 now_ms, __u8 wscale)
{
	__u32 ws = wscale > 14 ? SG_TS_WSCALE_NONE : wscale;

	return (((__u32)now_ms >> 8) & ~0xfu) | ws;
}

static __always_inline __u32 sg_tsval(__u32 tsval_hi, __u64 mac)
{
	return tsval_hi << 8 | (__u32)(mac & SG_COOKIE_TS_MAC_MASK);
}

/*
 * Validate a cookie: ack_minus_1 is the ACK's ack number - 1; tsecr_or_0 is
 * the echoed timestamp (0 when the ACK carries none). Returns the meta bits
 * (>= 0) when valid, -1 otherwise.
 */
static __always_inline int sg_cookie_check(const struct sg_secret *sec, const struct sg_cookie_flow *f,
					   __u32 cookie, __u32 now_epoch, int has_ts, __u32 tsecr)
{
	__u32 epoch = sg_cookie_epoch(cookie, now_epoch);
	__u32 meta = cookie & SG_COOKIE_META_MASK;
	__u64 h = sg_cookie_hash(sg_secret_key(sec, epoch), f, epoch, meta, has_ts, tsecr >> 8);

	if ((__u32)(h >> (64 - SG_COOKIE_MAC_BITS)) != ((cookie >> 8) & SG_COOKIE_MAC_MASK) ||
	    (cookie >> 8) > SG_COOKIE_MAC_MASK)
		return -1;
	if (has_ts && (tsecr & SG_COOKIE_TS_MAC_MASK) != (__u32)(h & SG_COOKIE_TS_MAC_MASK))
		return -1;
	return (int)meta;
}

/* The client's options from a validated cookie: the meta bits, and with
 * timestamps the exact window scale from the echoed TSval. */
static __always_inline void sg_cookie_decode(__u32 meta, int ipv6, int has_ts, __u32 tsecr,
					     struct sg_syn_opts *o)
{
	sg_cookie_meta_decode(meta, ipv6, o);
	if (has_ts) {
		__u32 ws = (tsecr >> 8) & 0xf;

		o->wscale = ws == SG_TS_WSCALE_NONE ? SG_WSCALE_NONE : ws;
	}
}

#endif /* SYNGUARD_COOKIE_H */
