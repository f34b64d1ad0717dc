// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * Cookie unit tests, on the same header the XDP program compiles: SipHash
 * reference vectors, meta encode/decode round trips, MAC sensitivity to every
 * input bit, epoch lifetime and key selection across rotation.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "synguard/cookie.h"

static int failures, checks;

#define CHECK(cond, ...)                                        \
	do {                                                    \
		checks++;                                       \
		if (!(cond)) {                                  \
			failures++;                             \
			fprintf(stderr, "FAIL %s:%d: ", __FILE__, __LINE__); \
			fprintf(stderr, __VA_ARGS__);           \
			fputc('\n', stderr);                    \
		}                                               \
	} while (0)

/* SipHash-2-4 reference: key 00..0f, message 00..(8n-1) (the paper's vectors). */
static void test_siphash_vectors(void)
{
	static const struct {
		unsigned int words;
		__u64 out;
	} v[] = {
		{ 0, 0x726fdb47dd0e0e31ULL },
		{ 1, 0x93f5f5799a932462ULL },
		{ 2, 0x3f2acc7f57c29bdbULL },
	};
	__u64 key[2] = { 0x0706050403020100ULL, 0x0f0e0d0c0b0a0908ULL };

	for (unsigned int i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		struct sg_sip s;

		sg_sip_init(&s, key);
		for (unsigned int w = 0; w < v[i].words; w++) {
			__u64 m = 0;

			for (int b = 0; b < 8; b++)
				m |= (__u64)(w * 8 + b) << (8 * b);
			sg_sip_word(&s, m);
		}
		CHECK(sg_sip_final(&s, v[i].words) == v[i].out, "siphash vector %u words", v[i].words);
	}
}

/* A byte-oriented SipHash-2-4 written from the paper, independent of the
 * word-oriented one in cookie.h, to cross-check longer messages. */
static __u64 rotl(__u64 x, int b)
{
	return (x << b) | (x >> (64 - b));
}

static __u64 siphash_ref(const __u8 k[16], const __u8 *m, size_t len)
{
	__u64 k0 = 0, k1 = 0, v[4], b = (__u64)len << 56;
	size_t i;

	for (i = 0; i < 8; i++) {
		k0 |= (__u64)k[i] << (8 * i);
		k1 |= (__u64)k[8 + i] << (8 * i);
	}
	v[0] = k0 ^ 0x736f6d6570736575ULL;
	v[1] = k1 ^ 0x646f72616e646f6dULL;
	v[2] = k0 ^ 0x6c7967656e657261ULL;
	v[3] = k1 ^ 0x7465646279746573ULL;
#define ROUND()                                                                        \
	do {                                                                           \
		v[0] += v[1]; v[1] = rotl(v[1], 13); v[1] ^= v[0]; v[0] = rotl(v[0], 32); \
		v[2] += v[3]; v[3] = rotl(v[3], 16); v[3] ^= v[2];                      \
		v[0] += v[3]; v[3] = rotl(v[3], 21); v[3] ^= v[0];                      \
		v[2] += v[1]; v[1] = rotl(v[1], 17); v[1] ^= v[2]; v[2] = rotl(v[2], 32); \
	} while (0)
	for (i = 0; i + 8 <= len; i += 8) {
		__u64 w = 0;

		for (int j = 0; j < 8; j++)
			w |= (__u64)m[i + j] << (8 * j);
		v[3] ^= w;
		ROUND();
		ROUND();
		v[0] ^= w;
	}
	for (size_t j = 0; i + j < len; j++)
		b |= (__u64)m[i + j] << (8 * j);
	v[3] ^= b;
	ROUND();
	ROUND();
	v[0] ^= b;
	v[2] ^= 0xff;
	ROUND();
	ROUND();
	ROUND();
	ROUND();
#undef ROUND
	return v[0] ^ v[1] ^ v[2] ^ v[3];
}

static void test_siphash_cross(void)
{
	srand(7);
	for (int iter = 0; iter < 2000; iter++) {
		__u8 k[16], m[48];
		__u64 key[2] = { 0, 0 };
		unsigned int words = 1 + iter % 6;
		struct sg_sip s;

		for (int i = 0; i < 16; i++)
			k[i] = rand();
		for (int i = 0; i < 48; i++)
			m[i] = rand();
		memcpy(key, k, 16); /* little-endian host, as the BPF target */
		sg_sip_init(&s, key);
		for (unsigned int w = 0; w < words; w++) {
			__u64 x;

			memcpy(&x, m + 8 * w, 8);
			sg_sip_word(&s, x);
		}
		CHECK(sg_sip_final(&s, words) == siphash_ref(k, m, 8 * words), "siphash cross %d", iter);
	}
}

static struct sg_cookie_flow flow4(void)
{
	struct sg_cookie_flow f = { .ports = 0x50009c40, .isn = 123456789 };

	f.saddr[0] = 0x0100000a;
	f.daddr[0] = 0x0200000a;
	return f;
}

/* Every MSS index, wscale 0-14 and none, SACK and ECN survive encode/decode
 * (values rounded down to the tables, as documented). */
static void test_meta_round_trip(void)
{
	for (int ipv6 = 0; ipv6 < 2; ipv6++) {
		for (unsigned int mi = 0; mi < SG_MSS_TABLE_LEN; mi++) {
			for (int ws = -1; ws <= 14; ws++) {
				for (int flags = 0; flags < 4; flags++) {
					struct sg_syn_opts in = {
						.mss = sg_mss_table(mi, ipv6),
						.wscale = ws < 0 ? SG_WSCALE_NONE : ws,
						.sack_ok = flags & 1,
						.ecn_ok = !!(flags & 2),
					}, out;
					__u32 meta = sg_cookie_meta_encode(&in, ipv6);
					__u8 want_ws = SG_WSCALE_NONE;

					for (unsigned int i = 1; i < SG_WSCALE_TABLE_LEN && ws >= 0; i++)
						if (sg_wscale_table(i) <= ws)
							want_ws = sg_wscale_table(i);
					CHECK(meta <= SG_COOKIE_META_MASK, "meta fits 7 bits");
					sg_cookie_meta_decode(meta, ipv6, &out);
					CHECK(out.mss == in.mss, "mss %u v6=%d -> %u", in.mss, ipv6, out.mss);
					CHECK(out.wscale == want_ws, "wscale %d -> %u (want %u)", ws, out.wscale, want_ws);
					CHECK(out.sack_ok == in.sack_ok && out.ecn_ok == in.ecn_ok, "flags %d", flags);
				}
			}
		}
		/* MSS between table entries rounds down; below the first, index 0. */
		struct sg_syn_opts o = { .mss = sg_mss_table(2, ipv6) + 1, .wscale = SG_WSCALE_NONE }, d;

		sg_cookie_meta_decode(sg_cookie_meta_encode(&o, ipv6), ipv6, &d);
		CHECK(d.mss == sg_mss_table(2, ipv6), "mss rounds down");
		o.mss = 100;
		sg_cookie_meta_decode(sg_cookie_meta_encode(&o, ipv6), ipv6, &d);
		CHECK(d.mss == sg_mss_table(0, ipv6), "tiny mss -> index 0");
	}
	/* The exact shifts real stacks send are kept exactly. */
	const int exact[] = { 0, 2, 6, 7, 8, 9, 10 };
	for (unsigned int i = 0; i < sizeof(exact) / sizeof(exact[0]); i++) {
		struct sg_syn_opts o = { .mss = 1460, .wscale = exact[i] }, d;

		sg_cookie_meta_decode(sg_cookie_meta_encode(&o, 0), 0, &d);
		CHECK(d.wscale == exact[i], "wscale %d exact", exact[i]);
	}
}

/* Flipping any single bit of any MAC input changes the 24-bit MAC. */
static void test_mac_sensitivity(void)
{
	const __u64 key[2] = { 0x0123456789abcdefULL, 0xfedcba9876543210ULL };
	struct sg_cookie_flow base = flow4(), f;
	__u32 epoch = 1000, meta = 0x35, tshi = 0x1235;
	__u32 mac = sg_cookie_hash(key, &base, epoch, meta, 1, tshi) >> 40;
	int collisions = 0, trials = 0;

	for (int ipv6 = 0; ipv6 < 2; ipv6++) {
		base.ipv6 = ipv6;
		if (ipv6)
			for (int i = 0; i < 4; i++)
				base.saddr[i] = base.daddr[i] = 0x1000 * i + 7;
		mac = sg_cookie_hash(key, &base, epoch, meta, 1, tshi) >> 40;
		for (int field = 0; field < 4; field++) {
			int words = field < 2 ? (ipv6 ? 4 : 1) : 1;

			for (int w = 0; w < words; w++) {
				for (int bit = 0; bit < 32; bit++) {
					f = base;
					if (field == 0)
						f.saddr[w] ^= 1u << bit;
					else if (field == 1)
						f.daddr[w] ^= 1u << bit;
					else if (field == 2)
						f.ports ^= 1u << bit;
					else
						f.isn ^= 1u << bit;
					trials++;
					collisions += (__u32)(sg_cookie_hash(key, &f, epoch, meta, 1, tshi) >> 40) == mac;
				}
			}
		}
		for (int bit = 0; bit < 32; bit++) {
			trials += 2;
			collisions += (__u32)(sg_cookie_hash(key, &base, epoch ^ (1u << bit), meta, 1, tshi) >> 40) == mac;
			collisions += bit < 24 &&
				      (__u32)(sg_cookie_hash(key, &base, epoch, meta, 1, tshi ^ (1u << bit)) >> 40) == mac;
		}
		for (int bit = 0; bit < 7; bit++) {
			trials++;
			collisions += (__u32)(sg_cookie_hash(key, &base, epoch, meta ^ (1u << bit), 1, tshi) >> 40) == mac;
		}
		for (int bit = 0; bit < 128; bit++) {
			__u64 k2[2] = { key[0], key[1] };

			k2[bit / 64] ^= 1ULL << (bit % 64);
			trials++;
			collisions += (__u32)(sg_cookie_hash(k2, &base, epoch, meta, 1, tshi) >> 40) == mac;
		}
	}
	/* A 24-bit MAC collides with probability 2^-24 per trial: expect 0. */
	CHECK(collisions == 0, "%d of %d single-bit changes kept the MAC", collisions, trials);
}

/* A cookie is accepted in its own epoch and the next, never later or earlier. */
static void test_lifetime(void)
{
	struct sg_secret s = { .installed = 1 };
	struct sg_cookie_flow f = flow4();
	struct sg_syn_opts o = { .mss = 1460, .wscale = 7, .sack_ok = 1 };
	__u32 meta = sg_cookie_meta_encode(&o, 0);

	s.key[0][0] = s.key[1][0] = 11;
	s.key[0][1] = s.key[1][1] = 22;
	for (__u32 e = 0xfffffff0u; e != 0x10; e++) { /* across the wrap */
		__u32 c = sg_cookie_from_hash(sg_cookie_hash(s.key[0], &f, e, meta, 0, 0), e, meta);

		CHECK(sg_cookie_check(&s, &f, c, e, 0, 0) == (int)meta, "own epoch %u", e);
		CHECK(sg_cookie_check(&s, &f, c, e + 1, 0, 0) == (int)meta, "next epoch %u", e);
		CHECK(sg_cookie_check(&s, &f, c, e + 2, 0, 0) < 0, "two epochs later %u", e);
		CHECK(sg_cookie_check(&s, &f, c, e + 3, 0, 0) < 0, "three epochs later %u", e);
		CHECK(sg_cookie_check(&s, &f, c, e - 1, 0, 0) < 0, "from the future %u", e);
	}
}

/* Timestamps: the echo must carry the MAC bits; a stripped echo fails. */
static void test_timestamps(void)
{
	struct sg_secret s = { .installed = 1 };
	struct sg_cookie_flow f = flow4();
	__u32 e = 77, meta = 0x2a, tshi;
	struct sg_syn_opts d;
	__u64 h;
	__u32 c, tsval;

	s.key[0][0] = s.key[1][0] = 5;
	for (int ws = -1; ws <= 14; ws++) {
		tshi = sg_tsval_hi(0x123456789ULL, ws < 0 ? SG_WSCALE_NONE : ws);
		h = sg_cookie_hash(s.key[0], &f, e, meta, 1, tshi);
		c = sg_cookie_from_hash(h, e, meta);
		tsval = sg_tsval(tshi, h);
		CHECK(sg_cookie_check(&s, &f, c, e, 1, tsval) == (int)meta, "ts echo accepted");
		CHECK(sg_cookie_check(&s, &f, c, e, 1, tsval ^ 1) < 0, "ts mac bit flipped");
		CHECK(sg_cookie_check(&s, &f, c, e, 1, tsval ^ 0x100) < 0, "ts wscale bit flipped");
		CHECK(sg_cookie_check(&s, &f, c, e, 1, tsval ^ 0x10000) < 0, "ts clock bit flipped");
		CHECK(sg_cookie_check(&s, &f, c, e, 0, 0) < 0, "ts stripped");
		/* With timestamps the window scale is exact, not the table's. */
		sg_cookie_decode(meta, 0, 1, tsval, &d);
		CHECK(d.wscale == (ws < 0 ? SG_WSCALE_NONE : ws), "exact wscale %d via TSval", ws);
	}
	CHECK((sg_tsval(sg_tsval_hi(5000, 7), 0) & ~0xfffu) == (5000 & ~0xfffu), "TSval keeps the ms clock");
	/* A cookie made without timestamps: no invented echo validates it,
	 * even one whose clock and wscale bits are 0 (all 256 MAC bytes). */
	c = sg_cookie_from_hash(sg_cookie_hash(s.key[0], &f, e, meta, 0, 0), e, meta);
	CHECK(sg_cookie_check(&s, &f, c, e, 0, 0) == (int)meta, "no-TS cookie without echo");
	int accepted = 0;
	for (__u32 mac2 = 0; mac2 < 256; mac2++)
		accepted += sg_cookie_check(&s, &f, c, e, 1, mac2) >= 0;
	CHECK(accepted == 0, "%d invented TS echoes validated a no-TS cookie", accepted);
}

/* Rotation: the previous key serves the epochs before the switch. */
static void test_key_selection(void)
{
	struct sg_secret s = { .installed = 1 };
	struct sg_cookie_flow f = flow4();
	__u32 meta = 3, c;

	s.key[0][0] = 100; /* A */
	s.key[1][0] = 200; /* B, in force from epoch 50 */
	s.select = SG_SELECT(50, 1);
	CHECK(sg_secret_key(&s, 49) == s.key[0], "before switch: old key");
	CHECK(sg_secret_key(&s, 50) == s.key[1], "at switch: new key");
	s.select = SG_SELECT(0xfffffffeu, 1);
	CHECK(sg_secret_key(&s, 1) == s.key[1], "epoch wrapped past the switch: new key");
	CHECK(sg_secret_key(&s, 0xfffffffdu) == s.key[0], "just before a switch near the wrap: old key");
	s.select = SG_SELECT(50, 1);
	c = sg_cookie_from_hash(sg_cookie_hash(s.key[0], &f, 49, meta, 0, 0), 49, meta);
	CHECK(sg_cookie_check(&s, &f, c, 50, 0, 0) == (int)meta, "cookie of epoch 49 under A accepted at 50");
	/* Second rotation: A is gone; the same cookie no longer validates even
	 * within its lifetime. */
	s.key[0][0] = 300;
	s.select = SG_SELECT(50, 1);
	CHECK(sg_cookie_check(&s, &f, c, 50, 0, 0) < 0, "cookie under a key rotated out is rejected");
}

int main(void)
{
	test_siphash_vectors();
	test_siphash_cross();
	test_meta_round_trip();
	test_mac_sensitivity();
	test_lifetime();
	test_timestamps();
	test_key_selection();
	printf("%d checks, %d failures\n", checks, failures);
	return failures != 0;
}
