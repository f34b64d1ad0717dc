// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * libFuzzer harness for the data path's parsers and checksum, and the
 * cookie, compiled for userspace from the very files the XDP program
 * compiles (bpf/parse.h, bpf/csum.h, include/synguard/cookie.h) through
 * tests/fuzz/bpf_shim.h. Built with clang -fsanitize=fuzzer,address,undefined:
 * the verifier proves the BPF build never reads out of bounds; here ASan
 * checks the same source does not either, for any input, and UBSan checks
 * shifts and overflows.
 *
 *   parser_fuzz [libFuzzer options] [CORPUS_DIR...]
 *   parser_fuzz -seeds DIR     write a seed corpus (valid frames) and exit
 *
 * Input layout: byte 0 selects the frame's view (bit 0: a multi-buffer frame
 * whose bpf_xdp_get_buff_len() is larger than the linear part; bits 1-7:
 * an offset/length pair for csum_packet), bytes 1.. are the frame. Cookie
 * inputs are taken from the frame bytes.
 *
 * Besides memory safety, each input is checked against independent
 * references (tests/fuzz/frames.h):
 *   - parse_packet() agrees with ref_locate() on whether the TCP ports are
 *     reachable, the L3/L4 offsets, addresses, family, first-fragment flag
 *     and, for consistent IP lengths, the segment length;
 *   - parse_tcp_opts() agrees with ref_opts_parse() (RFC 9293 option walk)
 *     on the verdict and on every option value;
 *   - csum_packet() and csum_small() agree with a 16-bit big-endian
 *     RFC 1071 sum, and refuse ranges that leave the frame;
 *   - cookie: a cookie validates for its flow in its epoch and the next,
 *     not two later (unless the MAC says so), not with one MAC bit flipped,
 *     with timestamps only with the right echo; meta bits round-trip.
 */
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>

#include "bpf_shim.h"
#pragma clang diagnostic push
#pragma clang diagnostic ignored "-Wsign-compare" /* BPF code is built with -Wall only */
#include "parse.h"
#include "csum.h"
#pragma clang diagnostic pop
#include "synguard/cookie.h"
#include "frames.h"

#define CHECK(cond, ...)                                                     \
	do {                                                                 \
		if (!(cond)) {                                               \
			fprintf(stderr, "parser_fuzz: %s:%d: ", __FILE__, __LINE__); \
			fprintf(stderr, __VA_ARGS__);                        \
			fputc('\n', stderr);                                 \
			abort();                                             \
		}                                                            \
	} while (0)

/* Reference sum of n bytes at p, folded, in the byte order csum.h uses
 * (raw memory words on a little-endian host): compare after folding both
 * to 16 bits and swapping ours. */
static uint16_t ref_sum(const uint8_t *p, size_t n)
{
	return ck_fold(ck_add(0, p, n));
}

static uint16_t le_fold(uint64_t s)
{
	return __builtin_bswap16(csum_fold(s));
}

static void check_csum(struct xdp_md *ctx, const uint8_t *f, size_t lin, uint32_t off, uint32_t len)
{
	__s64 s = csum_packet(ctx, off, len);

	if (len > CSUM_MAX_LEN || off > 0xffff || (size_t)off + len > lin) {
		/* Out of range must be refused (a range that fits once the
		 * offset is masked is the caller's business: off < 16384; an
		 * empty range reads nothing wherever it is). */
		if (len && len <= CSUM_MAX_LEN && off <= 0x3fff)
			CHECK(s < 0, "csum_packet(%u, %u) accepted a range past the frame (%zu)", off, len, lin);
		return;
	}
	if (off > 0x3fff)
		return; /* masked offset: not a range the parsers produce */
	CHECK(s >= 0, "csum_packet(%u, %u) refused a range inside the frame (%zu)", off, len, lin);
	CHECK(le_fold(s) == ref_sum(f + off, len) || (le_fold(s) == 0xffff && ref_sum(f + off, len) == 0) ||
		      (le_fold(s) == 0 && ref_sum(f + off, len) == 0xffff),
	      "csum_packet(%u, %u) = %#x, reference %#x", off, len, le_fold(s), ref_sum(f + off, len));
	if (len >= 20 && len <= 60 && !(len & 3)) {
		__s64 t = csum_small(ctx->data, ctx->data_end, off, len);

		CHECK(t >= 0 && csum_fold(t) == csum_fold(s), "csum_small(%u, %u) disagrees with csum_packet", off,
		      len);
	}
}

static void check_parse(struct xdp_md *ctx, const uint8_t *f, size_t lin, size_t frame_len)
{
	struct packet pkt;
	struct ref_pkt ref;
	const char *why;
	int res = parse_packet(ctx, &pkt), reach = ref_locate(f, frame_len, lin, &ref, &why);

	CHECK(pkt.frame_len == frame_len && pkt.linear_len == lin, "frame/linear length");
	/* Where both see the TCP ports, they agree on everything. The
	 * program additionally treats IP lengths it cannot trust as
	 * PARSE_BAD_IP (dropped if the port is protected). */
	if (reach) {
		CHECK(res == PARSE_OK || res == PARSE_BAD_IP, "reference reaches the TCP ports, parse_packet says %d",
		      res);
		CHECK(pkt.l3_off == ref.l3 && pkt.l4_off == ref.l4, "offsets %u/%u, reference %d/%d", pkt.l3_off,
		      pkt.l4_off, ref.l3, ref.l4);
		CHECK(pkt.ipv6 == ref.v6, "family");
		CHECK(!memcmp(pkt.saddr, ref.saddr, ref.v6 ? 16 : 4) && !memcmp(pkt.daddr, ref.daddr, ref.v6 ? 16 : 4),
		      "addresses");
		CHECK((pkt.fragment == 1) == ref.frag_first, "first-fragment flag %u, reference %d", pkt.fragment,
		      ref.frag_first);
		CHECK((res == PARSE_OK) == ref.len_ok, "IP lengths: parse %d, reference %d", res, ref.len_ok);
		if (res == PARSE_OK)
			CHECK(pkt.seg_len == ref.seg_len, "segment length %u, reference %d", pkt.seg_len, ref.seg_len);
	} else if (res == PARSE_OK || res == PARSE_BAD_IP) {
		/* The program found a TCP header the reference did not reach
		 * to the ports: allowed only when the ports lie past the
		 * linear end (the program stops there too, later). */
		CHECK((size_t)pkt.l4_off + 4 > lin, "parse_packet reached TCP at %u, reference: %s", pkt.l4_off, why);
	}

	/* The options of the TCP header, as the program reads them. */
	if ((res == PARSE_OK || res == PARSE_BAD_IP) && (size_t)pkt.l4_off + 20 <= lin) {
		__u32 hlen = (f[pkt.l4_off + 12] >> 4) * 4;
		struct tcp_opts o;
		struct ref_opts r;
		size_t avail;
		int bad;

		if (hlen >= 20) {
			avail = lin - (pkt.l4_off + 20);
			if (avail > hlen - 20)
				avail = hlen - 20;
			bad = parse_tcp_opts(ctx, pkt.l4_off, hlen, &o);
			ref_opts_parse(f + pkt.l4_off + 20, hlen - 20, (int)avail, &r);
			CHECK(!!bad == r.bad, "option verdict %d, reference %d", bad, r.bad);
			if (!bad)
				CHECK(o.mss == r.mss && o.wscale == r.ws && o.sack_ok == r.sack && o.has_ts == r.ts &&
					      o.tsval == r.tsval && o.tsecr == r.tsecr,
				      "options: mss %u/%u ws %u/%u sack %u/%u ts %u/%u %#x/%#x %#x/%#x", o.mss, r.mss,
				      o.wscale, r.ws, o.sack_ok, r.sack, o.has_ts, r.ts, o.tsval, r.tsval, o.tsecr,
				      r.tsecr);
		}
		/* Any header length the program could be handed. */
		for (__u32 h = 0; h <= 64; h += 4 + (f[0] & 3))
			(void)parse_tcp_opts(ctx, pkt.l4_off, h, &o);
	}
}

static uint64_t rd64(const uint8_t *p)
{
	uint64_t v;

	memcpy(&v, p, 8);
	return v;
}

static void check_cookie(const uint8_t *d, size_t n)
{
	uint8_t b[96] = { 0 };
	struct sg_secret sec = { .installed = 1 };
	struct sg_cookie_flow fl = { 0 };
	struct sg_syn_opts o = { 0 }, back;
	uint32_t epoch, meta, cookie, tshi, tsval, c2;
	uint64_t h;
	int has_ts, m;

	memcpy(b, d, n < sizeof(b) ? n : sizeof(b));
	for (int i = 0; i < 4; i++)
		sec.key[i / 2][i % 2] = rd64(b + 8 * i);
	epoch = (uint32_t)rd64(b + 32);
	sec.select = SG_SELECT(epoch - 2, b[36] & 1); /* one key in force for every live epoch */
	sec.key[(b[36] & 1) ^ 1][0] ^= 1;	      /* the other slot holds another */
	fl.ipv6 = b[37] & 1;
	memcpy(fl.saddr, b + 38, fl.ipv6 ? 16 : 4);
	memcpy(fl.daddr, b + 54, fl.ipv6 ? 16 : 4);
	memcpy(&fl.ports, b + 70, 4);
	memcpy(&fl.isn, b + 74, 4);
	o.mss = b[78] | b[79] << 8;
	o.wscale = b[80] % 16 == 15 ? SG_WSCALE_NONE : b[80] % 16;
	o.sack_ok = b[81] & 1;
	o.ecn_ok = (b[81] >> 1) & 1;
	has_ts = (b[81] >> 2) & 1;

	meta = sg_cookie_meta_encode(&o, fl.ipv6);
	CHECK(meta <= SG_COOKIE_META_MASK, "meta %#x", meta);
	sg_cookie_meta_decode(meta, fl.ipv6, &back);
	CHECK(back.mss <= (o.mss ? o.mss : 65535) || (meta >> SG_META_MSS_SHIFT & 3) == 0,
	      "decoded MSS %u above the client's %u", back.mss, o.mss);
	CHECK(sg_cookie_meta_encode(&back, fl.ipv6) == meta, "meta %#x does not round-trip", meta);
	CHECK(back.sack_ok == o.sack_ok && back.ecn_ok == o.ecn_ok, "SACK/ECN bits");
	CHECK(o.wscale == SG_WSCALE_NONE ? back.wscale == SG_WSCALE_NONE
					 : back.wscale != SG_WSCALE_NONE && back.wscale <= (o.wscale > 14 ? 14 : o.wscale),
	      "decoded wscale %u for %u", back.wscale, o.wscale);

	tshi = has_ts ? sg_tsval_hi(rd64(b + 82), o.wscale) : 0;
	h = sg_cookie_hash(sg_secret_key(&sec, epoch), &fl, epoch, meta, has_ts, tshi);
	cookie = sg_cookie_from_hash(h, epoch, meta);
	tsval = has_ts ? sg_tsval(tshi, h) : 0;

	/* Valid in its epoch and the next, with the options it carries. */
	for (uint32_t age = 0; age < 2; age++) {
		m = sg_cookie_check(&sec, &fl, cookie, epoch + age, has_ts, tsval);
		CHECK(m == (int)meta, "cookie %#x rejected %u epochs later (%d)", cookie, age, m);
	}
	if (has_ts) {
		struct sg_syn_opts dec;

		sg_cookie_decode(meta, fl.ipv6, 1, tsval, &dec);
		CHECK(dec.wscale == (o.wscale > 14 ? (o.wscale == SG_WSCALE_NONE ? SG_WSCALE_NONE : 14) : o.wscale),
		      "exact wscale from TSval: %u for %u", dec.wscale, o.wscale);
	}
	/* Two epochs later it claims another epoch: valid only if the MAC of
	 * that epoch happens to be the same bits (the model, recomputed). */
	m = sg_cookie_check(&sec, &fl, cookie, epoch + 2, has_ts, tsval);
	{
		uint64_t h2 = sg_cookie_hash(sg_secret_key(&sec, epoch + 2), &fl, epoch + 2, meta, has_ts, tsval >> 8);
		int same = (uint32_t)(h2 >> (64 - SG_COOKIE_MAC_BITS)) == ((cookie >> 8) & SG_COOKIE_MAC_MASK) &&
			   (!has_ts || (h2 & 0xff) == (tsval & 0xff));

		CHECK((m >= 0) == same, "expired cookie: check %d, model %d", m, same);
	}
	/* Any flipped MAC bit: never valid (same hash input, other bits). */
	c2 = cookie ^ (1u << (8 + b[86] % SG_COOKIE_MAC_BITS));
	CHECK(sg_cookie_check(&sec, &fl, c2, epoch, has_ts, tsval) < 0, "cookie with a flipped MAC bit accepted");
	/* The timestamp echo: the MAC's low byte must match, and the echo's
	 * high bits are hashed: with the wrong low byte never valid. */
	if (has_ts) {
		uint32_t bad = tsval ^ (1u << (b[87] % 8));

		CHECK(sg_cookie_check(&sec, &fl, cookie, epoch, 1, bad) < 0, "wrong TS MAC byte accepted");
	}
	/* A cookie made without timestamps, checked with an echo (or the other
	 * way round): valid only if the MAC of that other input matches. */
	{
		uint32_t echo = (uint32_t)rd64(b + 88);
		uint64_t h3 = sg_cookie_hash(sg_secret_key(&sec, epoch), &fl, epoch, meta, !has_ts, echo >> 8);
		int same = (uint32_t)(h3 >> (64 - SG_COOKIE_MAC_BITS)) == ((cookie >> 8) & SG_COOKIE_MAC_MASK) &&
			   (has_ts || (h3 & 0xff) == (echo & 0xff));

		m = sg_cookie_check(&sec, &fl, cookie, epoch, !has_ts, echo);
		CHECK((m >= 0) == same, "cookie checked with the other timestamp mode: check %d, model %d", m, same);
	}
	/* The raw input bytes as a cookie: the check agrees with the model. */
	{
		uint32_t raw = (uint32_t)rd64(b + 4), e = sg_cookie_epoch(raw, epoch);
		uint64_t h4 = sg_cookie_hash(sg_secret_key(&sec, e), &fl, e, raw & SG_COOKIE_META_MASK, has_ts, tsval >> 8);
		int same = (raw >> 8) <= SG_COOKIE_MAC_MASK &&
			   (uint32_t)(h4 >> (64 - SG_COOKIE_MAC_BITS)) == ((raw >> 8) & SG_COOKIE_MAC_MASK) &&
			   (!has_ts || (h4 & 0xff) == (tsval & 0xff));

		m = sg_cookie_check(&sec, &fl, raw, epoch, has_ts, tsval);
		CHECK((m >= 0) == same, "raw cookie %#x: check %d, model %d", raw, m, same);
		CHECK(e == epoch || e == epoch - 1, "claimed epoch %u of %u", e, epoch);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t *f;
	size_t len, lin;
	struct xdp_md ctx;

	if (size < 1)
		return 0;
	len = size - 1;
	/* An exact-size heap copy: ASan flags any read past the frame. */
	f = malloc(len ? len : 1);
	if (!f)
		return 0;
	memcpy(f, data + 1, len);
	lin = len;
	ctx.data = f;
	ctx.data_end = f + lin;
	/* bit 0: multi-buffer, the frame continues beyond the linear part */
	ctx.buff_len = (data[0] & 1) ? len + 1 + data[0] * 16 : len;

	check_parse(&ctx, f, lin, ctx.buff_len);
	check_csum(&ctx, f, lin, (data[0] >> 1) & 0x3f, len >= 2 ? (uint32_t)(len - ((data[0] >> 1) & 0x3f)) : 0);
	check_csum(&ctx, f, lin, 0, len < 2100 ? (uint32_t)len : 2100);
	check_csum(&ctx, f, lin, data[0] * 3, 40 + (data[0] & 7));
	check_cookie(f, len);
	free(f);
	return 0;
}

/* -seeds DIR: valid frames of every shape frames.h builds, as a corpus. */
int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	struct rng r = { 0x5347 };
	static uint8_t b[FR_MAX + 1];
	char path[4096];

	for (int i = 1; i + 1 < *argc; i++) {
		if (strcmp((*argv)[i], "-seeds"))
			continue;
		mkdir((*argv)[i + 1], 0755);
		for (int k = 0; k < 64; k++) {
			struct fr_spec s = { 0 };
			size_t n;
			FILE *fp;

			s.v6 = k & 1;
			s.nvlan = (k >> 1) % 3;
			for (int v = 0; v < s.nvlan; v++)
				s.tpid[v] = v ? 0x8100 : 0x88a8;
			rng_bytes(&r, s.saddr, 16);
			rng_bytes(&r, s.daddr, 16);
			s.ttl = 64;
			s.frag = 0x4000;
			if (!s.v6 && k % 5 == 0) {
				s.ipopt_len = 8;
				memset(s.ipopt, 1, 8);
			}
			if (s.v6 && k % 3 == 0) {
				s.next = 1 + k % 4;
				for (int e = 0; e < s.next; e++)
					s.ext[e].type = (uint8_t[]){ 0, 60, 43, 44, 51 }[(k + e) % 5];
			}
			s.sport = 40000 + k;
			s.dport = 80;
			s.seq = rng_u32(&r);
			s.ack = k % 4 == 1 ? rng_u32(&r) : 0;
			s.flags = k % 4 == 1 ? 0x10 : 0x02;
			s.win = 64240;
			s.opt_len = fr_opts_stack(&r, k % 10, s.opt);
			s.payload = k % 7 == 0 ? 10 : 0;
			b[0] = k & 0xfe;
			n = fr_build(&s, b + 1, FR_MAX);
			snprintf(path, sizeof(path), "%s/seed-%02d", (*argv)[i + 1], k);
			fp = fopen(path, "wb");
			if (!fp || fwrite(b, 1, n + 1, fp) != n + 1) {
				perror(path);
				exit(1);
			}
			fclose(fp);
		}
		printf("parser_fuzz: wrote 64 seed frames to %s\n", (*argv)[i + 1]);
		exit(0);
	}
	return 0;
}
