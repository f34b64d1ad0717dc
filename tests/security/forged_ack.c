// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * Forged ACKs against live cookies, counted: how often does a blind guess
 * complete a handshake?
 *
 *   forged_ack [--build production|mac8] [--tries N] [--ts-tries N] [--seed S]
 *
 * The real XDP object runs in a network namespace of its own with a listener
 * on port 80. Eight client tuples (IPv4 and IPv6, with and without
 * timestamps) send a SYN and get a cookie SYN-ACK; each tuple's genuine ACK
 * must be accepted (the positive control, repeated whenever the cookie epoch
 * moves and the cookies are made afresh). Then forged ACKs, each with the
 * tuple's right sequence number, one BPF_PROG_TEST_RUN each:
 *
 *   random        ack number uniformly random, no timestamp option
 *   meta          the live cookie's epoch and meta bits (low byte), random
 *                 MAC bits, no timestamp option
 *   ts-meta       as meta, with a timestamp option echoing the live TSval's
 *                 clock bits and a random low byte (a blind attacker can
 *                 predict the clock, not the MAC byte)
 *   ts-random     random ack number, random echo
 *
 * An ACK is accepted when XDP passes it with hand-off metadata; every other
 * must be dropped (the tuples have no kernel socket).
 *
 * Production layout (24-bit MAC, include/synguard/cookie.h): a try without
 * timestamps succeeds with p = 2^-24, with them 2^-32. With N tries the
 * count is Poisson(N p); the test asserts at most k acceptances without
 * timestamps, k the smallest bound with P(X > k) < 1e-3 (k = 4 for 10^7
 * tries, where N p = 0.60 and P(X > 4) = 3.4e-4), and none with timestamps;
 * it prints the tail probabilities.
 *
 * --build mac8 loads the same program compiled with -DSG_COOKIE_MAC_BITS=8
 * (tests/security/CMakeLists.txt): the MAC is bits 8-15 and bits 16-31 must
 * be zero, so meta tries (MAC bits random, high bits zero) succeed with
 * p = 2^-8 and ts-meta tries with 2^-16. The count must lie within 3 sigma
 * of N p (binomial sigma): the acceptance rate the cookie's comment promises
 * is what the code delivers, and the bound above is not an artefact of a
 * test that never could accept.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "synguard.h"
#include "synguard_xdp.skel.h"
#include "synguard_xdp_mac8.skel.h"
#include "../fuzz/frames.h"
#include "../fuzz/testns.h"

#define XDP_DROP 1
#define XDP_PASS 2
#define XDP_TX 3
#define PORT 80
#define NTUPLES 8

struct target {
	const char *name;
	int mac_bits;
	int prog, stats, secret, config, ports, flows;
	struct synguard_xdp *prod;
	struct synguard_xdp_mac8 *mac8;
};

static struct target tgt;
static struct sg_settings settings;

struct tuple {
	struct fr_spec syn;
	int ts;
	uint32_t cookie, tsval;
	/* the client's ACK, without and with a timestamp option */
	uint8_t ack[2][256];
	size_t len[2];
	int l4[2];
};

static struct tuple tuples[NTUPLES];

/* ---- running frames ---- */

static uint8_t out[4096];

/*
 * A valid cookie makes a flow entry in XDP at once (the TC hand-off, not run
 * here, would remove it if the hand-off failed). Forget it: every forged ACK
 * must meet the cookie check, not the flow table.
 */
static void forget_flows(void)
{
	sg_flows_clear(tgt.flows);
}

/* Verdict, and whether hand-off metadata came with it; -1 on error. */
static int run(const uint8_t *in, size_t len, int *meta, size_t *out_len)
{
	struct xdp_md ctx_in = { .data_end = len }, ctx_out = { 0 };
	LIBBPF_OPTS(bpf_test_run_opts, opts, .data_in = in, .data_size_in = len, .data_out = out,
		    .data_size_out = sizeof(out), .ctx_in = &ctx_in, .ctx_size_in = sizeof(ctx_in),
		    .ctx_out = &ctx_out, .ctx_size_out = sizeof(ctx_out), .repeat = 1);

	if (bpf_prog_test_run_opts(tgt.prog, &opts)) {
		fprintf(stderr, "forged_ack: BPF_PROG_TEST_RUN: %s\n", strerror(errno));
		return -1;
	}
	*meta = ctx_out.data != 0;
	if (*meta)
		forget_flows();
	if (out_len)
		*out_len = opts.data_size_out - ctx_out.data;
	memmove(out, out + ctx_out.data, opts.data_size_out - ctx_out.data);
	return opts.retval;
}

static uint64_t counter(const char *name)
{
	uint64_t c[SG_CNT_MAX];

	if (sg_stats_read(tgt.stats, c))
		return 0;
	for (int i = 0; i < SG_CNT_MAX; i++)
		if (sg_counter_names[i] && !strcmp(sg_counter_names[i], name))
			return c[i];
	return 0;
}

/* ---- the program ---- */

static int load(const char *build)
{
	char msg[128];
	uint32_t zero = 0;
	uint64_t key[2];

	sg_settings_default(&settings);
	settings.cfg.syn_rate = 0;
	settings.cfg.policy_flags = 0;
	if (sg_ports_parse("80", settings.ports, msg, sizeof(msg)))
		return -1;
	settings.have_ports = true;
	if (!strcmp(build, "production")) {
		tgt.name = "production";
		tgt.mac_bits = 24;
		tgt.prod = sg_load(NULL);
		if (!tgt.prod || sg_configure(tgt.prod, &settings))
			return -1;
		tgt.prog = bpf_program__fd(tgt.prod->progs.synguard_xdp);
		tgt.stats = bpf_map__fd(tgt.prod->maps.sg_stats);
		tgt.secret = bpf_map__fd(tgt.prod->maps.sg_secret);
		tgt.flows = bpf_map__fd(tgt.prod->maps.sg_flows);
		return 0;
	}
	if (strcmp(build, "mac8"))
		return -1;
	/* The test build: same source, -DSG_COOKIE_MAC_BITS=8. Configured as
	 * sg_configure() does (it takes the production skeleton's type). */
	tgt.name = "mac8";
	tgt.mac_bits = 8;
	tgt.mac8 = synguard_xdp_mac8__open_and_load();
	if (!tgt.mac8) {
		fprintf(stderr, "forged_ack: cannot load the mac8 build: %s\n", strerror(errno));
		sg_libbpf_log_dump_tail(12);
		return -1;
	}
	tgt.prog = bpf_program__fd(tgt.mac8->progs.synguard_xdp);
	tgt.stats = bpf_map__fd(tgt.mac8->maps.sg_stats);
	tgt.secret = bpf_map__fd(tgt.mac8->maps.sg_secret);
	tgt.flows = bpf_map__fd(tgt.mac8->maps.sg_flows);
	if (bpf_map_update_elem(bpf_map__fd(tgt.mac8->maps.sg_config), &zero, &settings.cfg, BPF_ANY) ||
	    sg_ports_write(bpf_map__fd(tgt.mac8->maps.sg_ports), settings.ports) || sg_key_random(key) ||
	    sg_secret_install(tgt.secret, key, sg_epoch_now(settings.cfg.epoch_shift))) {
		fprintf(stderr, "forged_ack: cannot configure the mac8 build\n");
		return -1;
	}
	return 0;
}

/* ---- live cookies ---- */

static void tcp_checksum(uint8_t *f, size_t len, const struct fr_spec *s, int l4)
{
	int l3 = fr_l3_off(s);
	uint32_t sum = ck_pseudo(s->v6, f + l3 + (s->v6 ? 8 : 12), f + l3 + (s->v6 ? 24 : 16), len - l4);

	wr16(f + l4 + 16, 0);
	wr16(f + l4 + 16, ~ck_add(sum, f + l4, len - l4) & 0xffff);
}

/* SYN, SYN-ACK and the genuine ACK (which must be accepted) of tuple i. */
static int make_cookie(struct rng *r, int i)
{
	struct tuple *t = &tuples[i];
	struct fr_spec *s = &t->syn, a;
	uint8_t syn[256];
	size_t len, out_len;
	int l4, meta, v;

	memset(s, 0, sizeof(*s));
	rng_bytes(r, s->dmac, 6);
	rng_bytes(r, s->smac, 6);
	s->dmac[0] &= 0xfe, s->smac[0] &= 0xfe;
	s->v6 = i & 1;
	t->ts = (i >> 1) & 1;
	if (s->v6) {
		static const uint8_t pfx[] = { 0x20, 0x01, 0x0d, 0xb8 };

		memcpy(s->saddr, pfx, 4);
		memcpy(s->daddr, pfx, 4);
		rng_bytes(r, s->saddr + 4, 12);
		rng_bytes(r, s->daddr + 4, 12);
	} else {
		s->saddr[0] = 198, s->saddr[1] = 18 + (i & 1);
		rng_bytes(r, s->saddr + 2, 2);
		s->daddr[0] = 192, s->daddr[1] = 0, s->daddr[2] = 2, s->daddr[3] = 1 + i;
	}
	s->ttl = 64;
	s->frag = 0x4000;
	s->sport = 1024 + rng_below(r, 64000);
	s->dport = PORT;
	s->seq = rng_u32(r);
	s->flags = FR_SYN | (i >= 4 ? FR_ECE | FR_CWR : 0);
	s->win = 64240;
	/* Linux's options (with timestamps) or Windows' (without). */
	s->opt_len = fr_opts_stack(r, t->ts ? 1 : 2, s->opt);
	len = fr_build(s, syn, sizeof(syn));
	v = run(syn, len, &meta, &out_len);
	l4 = fr_l4_off(s);
	if (v != XDP_TX || out_len < (size_t)fr_l3_off(s) + (s->v6 ? 40 : 20) + 20) {
		fprintf(stderr, "forged_ack: SYN of tuple %d not answered (verdict %d)\n", i, v);
		return -1;
	}
	l4 = fr_l3_off(s) + (s->v6 ? 40 : 20); /* in the SYN-ACK */
	t->cookie = rd32(out + l4 + 4);
	t->tsval = 0;
	for (int o = l4 + 20; o + 10 <= l4 + (out[l4 + 12] >> 4) * 4; o++)
		if (out[o] == 8 && out[o + 1] == 10) {
			t->tsval = rd32(out + o + 2);
			break;
		}
	if (t->ts && !t->tsval) {
		fprintf(stderr, "forged_ack: SYN-ACK of tuple %d carries no TSval\n", i);
		return -1;
	}

	/* The ACK templates: [0] no options, [1] NOP NOP TS. */
	for (int k = 0; k < 2; k++) {
		a = *s;
		a.flags = FR_ACK;
		a.seq = s->seq + 1;
		a.ack = t->cookie + 1;
		a.opt_len = 0;
		if (k) {
			a.opt[0] = 1, a.opt[1] = 1, a.opt[2] = 8, a.opt[3] = 10;
			wr32(a.opt + 4, rng_u32(r));
			wr32(a.opt + 8, t->tsval ? t->tsval : rng_u32(r));
			a.opt_len = 12;
		}
		t->len[k] = fr_build(&a, t->ack[k], sizeof(t->ack[k]));
		t->l4[k] = fr_l4_off(&a);
	}
	/* Positive control: the genuine ACK completes the handshake. */
	v = run(t->ack[t->ts], t->len[t->ts], &meta, NULL);
	if (v != XDP_PASS || !meta) {
		fprintf(stderr, "forged_ack: the genuine ACK of tuple %d was not accepted (verdict %d, metadata %d)\n",
			i, v, meta);
		return -1;
	}
	return 0;
}

/* ---- forged ACKs ---- */

enum variant { V_RANDOM, V_META, V_TS_META, V_TS_RANDOM, V_MAX };
static const char *const variant_names[V_MAX] = { "random", "meta", "ts-meta", "ts-random" };

struct stat_v {
	uint64_t tries, accepted;
};

/* Probability that one try of variant v is accepted. */
static double p_accept(enum variant v)
{
	int ts = v == V_TS_META || v == V_TS_RANDOM;

	if (tgt.mac_bits == 24)
		return ldexp(1.0, -(24 + (ts ? 8 : 0)));
	/* Narrowed MAC: the meta tries keep bits 16-31 zero. */
	return ldexp(1.0, -(tgt.mac_bits + (ts ? 8 : 0)));
}

/* One forged ACK of variant v on tuple t: 1 accepted, 0 rejected, -1 error. */
static int forge(struct rng *r, struct tuple *t, enum variant v)
{
	int ts = v == V_TS_META || v == V_TS_RANDOM, l4 = t->l4[ts], meta, verdict;
	uint8_t *f = t->ack[ts];
	uint32_t ack_minus_1, tsecr;

	switch (v) {
	case V_RANDOM:
	case V_TS_RANDOM:
		ack_minus_1 = rng_u32(r);
		break;
	default:
		if (tgt.mac_bits == 24)
			ack_minus_1 = (rng_u32(r) & 0xffffff00u) | (t->cookie & 0xff);
		else
			ack_minus_1 = ((rng_u32(r) & ((1u << tgt.mac_bits) - 1)) << 8) | (t->cookie & 0xff);
		break;
	}
	/* A guess equal to the live cookie is a success, as for an attacker. */
	wr32(f + l4 + 8, ack_minus_1 + 1);
	if (ts) {
		tsecr = v == V_TS_RANDOM ? rng_u32(r)
					  : ((t->tsval ? t->tsval : rd32(f + l4 + 28)) & 0xffffff00u) | (rng_u32(r) & 0xff);
		wr32(f + l4 + 28, tsecr);
	}
	tcp_checksum(f, t->len[ts], &t->syn, l4);
	verdict = run(f, t->len[ts], &meta, NULL);
	if (verdict == XDP_PASS && meta)
		return 1;
	if (verdict == XDP_DROP)
		return 0;
	fprintf(stderr, "forged_ack: forged ACK (%s) got verdict %d%s: neither accepted nor dropped\n",
		variant_names[v], verdict, meta ? " with metadata" : "");
	return -1;
}

/* P(X > k) for X ~ Poisson(lambda), summed from the tail (no cancellation). */
static double poisson_tail(double lambda, int k)
{
	double term = exp(-lambda), sum = 0;

	for (int i = 0; i <= k + 60; i++) {
		if (i > k)
			sum += term;
		term *= lambda / (i + 1);
	}
	return sum;
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = { { "build", required_argument, NULL, 'b' },
					      { "tries", required_argument, NULL, 'n' },
					      { "ts-tries", required_argument, NULL, 't' },
					      { "seed", required_argument, NULL, 's' },
					      { "help", no_argument, NULL, 'h' },
					      {} };
	const char *build = "production";
	uint64_t tries = 1000000, ts_tries = 1000000, seed = 0, controls = 0, refresh = 0;
	uint64_t valid0, invalid0, accepted_all = 0, rejected_all = 0;
	struct stat_v st[V_MAX] = { 0 };
	enum variant plan[2][2];
	uint32_t epoch;
	struct rng r;
	double t0, dt;
	int c, failed = 0;

	while ((c = getopt_long(argc, argv, "b:n:t:s:h", opts, NULL)) != -1) {
		switch (c) {
		case 'b':
			build = optarg;
			break;
		case 'n':
			tries = strtoull(optarg, NULL, 0);
			break;
		case 't':
			ts_tries = strtoull(optarg, NULL, 0);
			break;
		case 's':
			seed = strtoull(optarg, NULL, 0);
			break;
		case 'h':
			printf("usage: forged_ack [--build production|mac8] [--tries N] [--ts-tries N] [--seed S]\n");
			return 0;
		default:
			fprintf(stderr, "usage: forged_ack [--build production|mac8] [--tries N] [--ts-tries N] "
					"[--seed S]\n");
			return 2;
		}
	}
	if (optind != argc || (strcmp(build, "production") && strcmp(build, "mac8"))) {
		fprintf(stderr, "usage: forged_ack [--build production|mac8] [--tries N] [--ts-tries N] [--seed S]\n");
		return 2;
	}
	if (!seed && getrandom(&seed, sizeof(seed), 0) != sizeof(seed))
		seed = (uint64_t)time(NULL);
	r.s = seed;
	setvbuf(stdout, NULL, _IOLBF, 0);
	sg_libbpf_log_setup();
	if (testns_enter("forged_ack") || testns_listen(0, PORT) < 0 || testns_listen(1, PORT) < 0 || load(build)) {
		fprintf(stderr, "forged_ack: setup failed\n");
		return 1;
	}
	/* Production: both layouts of tries. mac8: only the meta ones carry
	 * information (random high bits make a try fail before the MAC). */
	if (tgt.mac_bits == 24) {
		plan[0][0] = V_RANDOM, plan[0][1] = V_META;
		plan[1][0] = V_TS_META, plan[1][1] = V_TS_RANDOM;
	} else {
		plan[0][0] = plan[0][1] = V_META;
		plan[1][0] = plan[1][1] = V_TS_META;
	}
	printf("forged_ack: %s build (%d-bit MAC), %llu tries without timestamps, %llu with, seed %llu\n", tgt.name,
	       tgt.mac_bits, (unsigned long long)tries, (unsigned long long)ts_tries, (unsigned long long)seed);

	valid0 = counter("cookie_valid");
	invalid0 = counter("cookie_invalid");
	t0 = now_s();
	epoch = sg_epoch_now(settings.cfg.epoch_shift) - 1;
	for (uint64_t n = 0; n < tries + ts_tries; n++) {
		int ts = n >= tries, res;
		uint64_t k = ts ? n - tries : n;
		struct tuple *t = &tuples[k % NTUPLES];
		enum variant v = plan[ts][(k / NTUPLES) & 1];

		/* Cookies of the current epoch, made afresh when it moves. */
		if (!(n & 1023) && sg_epoch_now(settings.cfg.epoch_shift) != epoch) {
			epoch = sg_epoch_now(settings.cfg.epoch_shift);
			for (int i = 0; i < NTUPLES; i++)
				if (make_cookie(&r, i))
					return 1;
			controls += NTUPLES;
			refresh++;
		}
		res = forge(&r, t, v);
		if (res < 0)
			return 1;
		st[v].tries++;
		st[v].accepted += res;
		accepted_all += res;
		rejected_all += !res;
	}
	dt = now_s() - t0;

	printf("forged_ack: %llu forged ACKs in %.1f s (%.0f/s); %llu live cookies (%llu genuine ACKs accepted)\n",
	       (unsigned long long)(tries + ts_tries), dt, (tries + ts_tries) / dt, (unsigned long long)refresh * NTUPLES,
	       (unsigned long long)controls);
	for (int v = 0; v < V_MAX; v++)
		if (st[v].tries)
			printf("  %-10s %10llu tries, %6llu accepted, expected %.4g (p = 2^%.0f)\n", variant_names[v],
			       (unsigned long long)st[v].tries, (unsigned long long)st[v].accepted,
			       st[v].tries * p_accept(v), log2(p_accept(v)));

	/* The counters agree with the verdicts. */
	if (counter("cookie_valid") - valid0 != accepted_all + controls ||
	    counter("cookie_invalid") - invalid0 != rejected_all) {
		fprintf(stderr, "FAIL: counters: cookie_valid +%llu (want %llu), cookie_invalid +%llu (want %llu)\n",
			(unsigned long long)(counter("cookie_valid") - valid0),
			(unsigned long long)(accepted_all + controls),
			(unsigned long long)(counter("cookie_invalid") - invalid0), (unsigned long long)rejected_all);
		failed = 1;
	}

	if (tgt.mac_bits == 24) {
		uint64_t n0 = st[V_RANDOM].tries + st[V_META].tries, a0 = st[V_RANDOM].accepted + st[V_META].accepted;
		uint64_t n1 = st[V_TS_META].tries + st[V_TS_RANDOM].tries;
		uint64_t a1 = st[V_TS_META].accepted + st[V_TS_RANDOM].accepted;
		double l0 = n0 * ldexp(1.0, -24), l1 = n1 * ldexp(1.0, -32);
		int k = 0;

		while (poisson_tail(l0, k) >= 1e-3)
			k++;
		printf("  without timestamps: %llu accepted of %llu; Poisson mean %.3f, bound %d "
		       "(P(X > %d) = %.2g), P(X >= %llu) = %.3g\n",
		       (unsigned long long)a0, (unsigned long long)n0, l0, k, k, poisson_tail(l0, k),
		       (unsigned long long)a0, a0 ? poisson_tail(l0, a0 - 1) : 1.0);
		printf("  with timestamps: %llu accepted of %llu; Poisson mean %.4f, P(X >= 1) = %.2g\n",
		       (unsigned long long)a1, (unsigned long long)n1, l1, poisson_tail(l1, 0));
		if (a0 > (uint64_t)k) {
			fprintf(stderr, "FAIL: %llu forged ACKs without timestamps accepted, more than %d: the MAC is "
					"weaker than 24 bits\n", (unsigned long long)a0, k);
			failed = 1;
		}
		if (a1) {
			fprintf(stderr, "FAIL: %llu forged ACKs with timestamps accepted (expected none at 2^-32)\n",
				(unsigned long long)a1);
			failed = 1;
		}
	} else {
		for (int v = 0; v < V_MAX; v++) {
			double p = p_accept(v), mean = st[v].tries * p, sigma = sqrt(st[v].tries * p * (1 - p));
			double z;

			if (!st[v].tries)
				continue;
			z = (st[v].accepted - mean) / sigma;
			printf("  %-10s rate %.3g (theory %.3g), %.2f sigma from the mean\n", variant_names[v],
			       (double)st[v].accepted / st[v].tries, p, z);
			if (fabs(z) > 3 || mean < 10) {
				fprintf(stderr, "FAIL: %s: %llu accepted, theory %.1f +- %.1f (3 sigma)%s\n",
					variant_names[v], (unsigned long long)st[v].accepted, mean, 3 * sigma,
					mean < 10 ? ": too few tries to tell" : "");
				failed = 1;
			}
		}
	}
	printf("forged_ack: %s\n", failed ? "FAILED" : "OK");
	if (tgt.prod)
		synguard_xdp__destroy(tgt.prod);
	if (tgt.mac8)
		synguard_xdp_mac8__destroy(tgt.mac8);
	return failed;
}
