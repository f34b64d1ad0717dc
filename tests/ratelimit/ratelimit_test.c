// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * The per-source-prefix SYN-ACK limit (bpf/ratelimit.h), through
 * BPF_PROG_TEST_RUN on the real XDP object: crafted SYNs in, verdicts and
 * counters out. The config is written straight into the sg_config map (as
 * `synguard attach --syn-rate ...` does through sg_configure).
 *
 * Shown here:
 * - syn_rate 0: no limit, and no bucket is created;
 * - one source gets at most burst + rate * t SYN-ACKs in t seconds (t read
 *   from CLOCK_MONOTONIC_COARSE, the clock the XDP side uses), and not much
 *   less; every refused SYN is dropped and counted as drop_rate_limit;
 * - other sources are unaffected by a source over its limit;
 * - rate_prefix4 24: two addresses of one /24 share a bucket, another /24
 *   does not; with 32 they do not share;
 * - rate_prefix6 64: two addresses of one /64 share a bucket, another /64
 *   does not; IPv4 and IPv6 buckets are distinct;
 * - tokens come back at the configured rate after a pause;
 * - light prefixes (a spoofed flood, one SYN per source) get no bucket at
 *   all, only a counter; a heavy one among them is limited all the same.
 *
 * Needs root: it unshares a network namespace for its listener on port 80
 * (synguard answers SYNs only where somebody listens).
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <sched.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <linux/bpf.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include "synguard.h"
#include "synguard_xdp.skel.h"

#define PORT 80
#define XDP_DROP_V 1
#define XDP_TX_V 3

static struct synguard_xdp *skel;
static struct sg_settings settings;
static int prog_fd, cfg_fd, rate_fd, seen_fd, stats_fd;
static int failed, passed;

/* ---- packets ---- */

static uint32_t csum_add(uint32_t sum, const uint8_t *p, size_t len)
{
	for (size_t i = 0; i + 1 < len; i += 2)
		sum += (uint32_t)p[i] << 8 | p[i + 1];
	if (len & 1)
		sum += (uint32_t)p[len - 1] << 8;
	return sum;
}

static uint16_t csum_finish(uint32_t sum)
{
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return htons((uint16_t)~sum);
}

/* A Linux-style SYN from src to dst:80 (IPv4 with DF, or IPv6). */
static size_t build_syn(uint8_t *buf, const char *src, const char *dst, uint16_t sport)
{
	static const uint8_t opt[20] = { 2, 4, 0x05, 0xb4, 4, 2, 8, 10, 0, 0, 0, 1, 0, 0, 0, 0, 1, 3, 3, 7 };
	int v6 = strchr(src, ':') != NULL;
	size_t iplen = v6 ? 40 : 20, tcplen = 40, l4 = 14 + iplen;
	uint8_t *ip = buf + 14, *tcp = buf + l4, sa[16], da[16];
	uint32_t sum;
	uint16_t check;

	memset(buf, 0, l4 + tcplen);
	memcpy(buf, "\x02\x00\x00\x00\x00\x02\x02\x00\x00\x00\x00\x01", 12);
	if (inet_pton(v6 ? AF_INET6 : AF_INET, src, sa) != 1 || inet_pton(v6 ? AF_INET6 : AF_INET, dst, da) != 1) {
		fprintf(stderr, "ratelimit_test: bad address %s or %s\n", src, dst);
		exit(1);
	}
	if (v6) {
		buf[12] = 0x86, buf[13] = 0xdd;
		ip[0] = 0x60;
		ip[5] = tcplen;
		ip[6] = IPPROTO_TCP;
		ip[7] = 64;
		memcpy(ip + 8, sa, 16);
		memcpy(ip + 24, da, 16);
		sum = csum_add(csum_add(0, sa, 16), da, 16);
	} else {
		buf[12] = 0x08;
		ip[0] = 0x45;
		ip[3] = iplen + tcplen;
		ip[6] = 0x40; /* DF */
		ip[8] = 64;
		ip[9] = IPPROTO_TCP;
		memcpy(ip + 12, sa, 4);
		memcpy(ip + 16, da, 4);
		check = csum_finish(csum_add(0, ip, 20));
		memcpy(ip + 10, &check, 2);
		sum = csum_add(csum_add(0, sa, 4), da, 4);
	}
	sum += IPPROTO_TCP + tcplen;
	tcp[0] = sport >> 8, tcp[1] = sport;
	tcp[3] = PORT;
	tcp[4] = 0x12, tcp[5] = 0x34;
	tcp[12] = (tcplen / 4) << 4;
	tcp[13] = 0x02; /* SYN */
	tcp[14] = 0xfa, tcp[15] = 0xf0;
	memcpy(tcp + 20, opt, sizeof(opt));
	check = csum_finish(csum_add(sum, tcp, tcplen));
	memcpy(tcp + 16, &check, 2);
	return l4 + tcplen;
}

/* The verdict for one SYN from src (to the IPv4 or IPv6 test destination). */
static unsigned int syn_from(const char *src)
{
	static uint16_t sport = 10000;
	uint8_t pkt[128];
	size_t len = build_syn(pkt, src, strchr(src, ':') ? "fd00:99::1" : "10.99.0.1", sport++);
	struct xdp_md ctx = { .data_end = len };
	LIBBPF_OPTS(bpf_test_run_opts, opts, .data_in = pkt, .data_size_in = len, .ctx_in = &ctx,
		    .ctx_size_in = sizeof(ctx), .repeat = 1);

	if (sport < 10000)
		sport = 10000;
	if (bpf_prog_test_run_opts(prog_fd, &opts)) {
		fprintf(stderr, "ratelimit_test: BPF_PROG_TEST_RUN: %s\n", strerror(errno));
		exit(1);
	}
	return opts.retval;
}

/* How many of n SYNs from src were answered (XDP_TX); any verdict other
 * than TX or DROP is a failure of its own. */
static int answered(const char *src, int n)
{
	int tx = 0;

	for (int i = 0; i < n; i++) {
		unsigned int v = syn_from(src);

		if (v == XDP_TX_V)
			tx++;
		else if (v != XDP_DROP_V) {
			fprintf(stderr, "ratelimit_test: SYN from %s: verdict %u, expected TX (3) or DROP (1)\n", src,
				v);
			exit(1);
		}
	}
	return tx;
}

/* ---- set-up ---- */

static uint64_t counter(enum sg_counter c)
{
	uint64_t v[SG_CNT_MAX];

	if (sg_stats_read(stats_fd, v)) {
		fprintf(stderr, "ratelimit_test: cannot read counters\n");
		exit(1);
	}
	return v[c];
}

static long rate_entries(void)
{
	struct sg_rate_key k, next;
	long n = 0;
	void *prev = NULL;

	while (!bpf_map_get_next_key(rate_fd, prev, &next)) {
		k = next;
		prev = &k;
		n++;
	}
	return n;
}

/* New limits, and every bucket forgotten. */
static void set_limit(uint32_t rate, uint32_t burst, uint8_t p4, uint8_t p6)
{
	struct sg_rate_key k;
	uint32_t zero = 0;

	settings.cfg.syn_rate = rate;
	settings.cfg.syn_burst = burst;
	settings.cfg.rate_prefix4 = p4;
	settings.cfg.rate_prefix6 = p6;
	if (bpf_map_update_elem(cfg_fd, &zero, &settings.cfg, BPF_ANY)) {
		fprintf(stderr, "ratelimit_test: cannot write sg_config: %s\n", strerror(errno));
		exit(1);
	}
	while (!bpf_map_get_next_key(rate_fd, NULL, &k))
		bpf_map_delete_elem(rate_fd, &k);
	for (uint32_t i = 0; i < bpf_map__max_entries(skel->maps.sg_rate_seen); i++) {
		uint64_t v = 0;

		if (bpf_map_update_elem(seen_fd, &i, &v, BPF_ANY)) {
			fprintf(stderr, "ratelimit_test: cannot reset sg_rate_seen: %s\n", strerror(errno));
			exit(1);
		}
	}
}

static double coarse_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void check(int ok, const char *fmt, ...)
{
	va_list ap;

	printf("%s: ", ok ? "ok" : "FAIL");
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
	if (ok)
		passed++;
	else
		failed++;
}

static int open_listener(void)
{
	struct sockaddr_in6 a = { .sin6_family = AF_INET6, .sin6_port = htons(PORT), .sin6_addr = IN6ADDR_ANY_INIT };
	int fd = socket(AF_INET6, SOCK_STREAM | SOCK_CLOEXEC, 0), zero = 0;

	if (fd < 0 || setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &zero, sizeof(zero)) || bind(fd, (void *)&a, sizeof(a)) ||
	    listen(fd, 16)) {
		fprintf(stderr, "ratelimit_test: cannot listen on [::]:%d: %s\n", PORT, strerror(errno));
		return -1;
	}
	return fd;
}

/* ---- the tests ---- */

static void test_unlimited(void)
{
	int n;

	set_limit(0, 0, 32, 64);
	n = answered("198.18.0.1", 2000) + answered("fd00:198:18::1", 500);
	check(n == 2500, "syn_rate 0: %d of 2500 SYNs from one source answered (want all)", n);
	check(rate_entries() == 0, "syn_rate 0: %ld buckets created (want 0)", rate_entries());
}

/* One source hammers for `secs`: answers within [burst + rate*t - slack, burst + rate*t]. */
static void test_one_source(void)
{
	const uint32_t rate = 200, burst = 20;
	uint64_t drops0 = counter(SG_CNT_DROP_RATE_LIMIT), sent0 = counter(SG_CNT_SYNACK_SENT);
	int tx = 0, total = 0;
	double t0, t, bound;

	set_limit(rate, burst, 32, 64);
	t0 = coarse_now();
	do {
		tx += answered("198.18.5.5", 50);
		total += 50;
	} while (coarse_now() - t0 < 0.3);
	t = coarse_now() - t0;
	bound = burst + rate * t;
	/* +1: the kernel may read the coarse clock one tick after we did. */
	check(tx <= bound + 1, "one source, rate %u burst %u, %.3f s: %d of %d answered, bound burst + rate*t = %.1f",
	      rate, burst, t, tx, total, bound);
	/* Not over-strict: at most a couple of coarse ticks' worth fewer. */
	check(tx >= bound - rate * 0.010 - 2, "one source: %d answered, not far under %.1f", tx, bound);
	check(counter(SG_CNT_DROP_RATE_LIMIT) - drops0 == (uint64_t)(total - tx),
	      "drop_rate_limit rose by %llu = SYNs refused (%d)",
	      (unsigned long long)(counter(SG_CNT_DROP_RATE_LIMIT) - drops0), total - tx);
	check(counter(SG_CNT_SYNACK_SENT) - sent0 == (uint64_t)tx, "synack_sent rose by the SYNs answered");

	/* The hammering source is over its limit; others are not. */
	tx = answered("198.18.5.6", burst);
	check(tx == (int)burst, "another source right after: %d of its %u burst answered", tx, burst);
	tx = answered("fd00:198:18::5", burst);
	check(tx == (int)burst, "an IPv6 source right after: %d of its %u burst answered", tx, burst);
	tx = answered("198.18.5.5", 200);
	check(tx <= 3, "the limited source is still limited: %d of 200 answered", tx);
}

static void test_prefix4(void)
{
	int a, b, c;

	set_limit(1, 5, 24, 64);
	a = answered("198.18.1.1", 5);
	b = answered("198.18.1.2", 5);
	c = answered("198.18.2.1", 5);
	check(a == 5 && b == 0 && c == 5,
	      "rate_prefix4 24: 198.18.1.1 %d/5, then 198.18.1.2 (same /24) %d/5 (want 0), 198.18.2.1 %d/5", a, b, c);
	check(rate_entries() == 2, "rate_prefix4 24: %ld buckets for three addresses in two /24s (want 2)",
	      rate_entries());

	set_limit(1, 5, 32, 64);
	a = answered("198.18.1.1", 5);
	b = answered("198.18.1.2", 5);
	check(a == 5 && b == 5, "rate_prefix4 32: 198.18.1.1 %d/5, 198.18.1.2 %d/5 (separate buckets)", a, b);

	set_limit(1, 5, 0, 64);
	a = answered("198.18.1.1", 3);
	b = answered("10.1.2.3", 3);
	check(a == 3 && b == 2, "rate_prefix4 0: every IPv4 source shares one bucket (%d + %d of burst 5)", a, b);
}

static void test_prefix6(void)
{
	int a, b, c, d;

	set_limit(1, 5, 32, 64);
	a = answered("2001:db8:1:2::1", 5);
	b = answered("2001:db8:1:2:ffff:ffff:ffff:fffe", 5);
	c = answered("2001:db8:1:3::1", 5);
	d = answered("198.18.1.1", 5);
	check(a == 5 && b == 0 && c == 5 && d == 5,
	      "rate_prefix6 64: 2001:db8:1:2::1 %d/5, same /64 %d/5 (want 0), next /64 %d/5, IPv4 %d/5", a, b, c, d);

	set_limit(1, 5, 32, 128);
	a = answered("2001:db8:1:2::1", 5);
	b = answered("2001:db8:1:2::2", 5);
	check(a == 5 && b == 5, "rate_prefix6 128: two addresses of one /64 have their own buckets (%d, %d of 5)", a,
	      b);

	set_limit(1, 5, 32, 48);
	a = answered("2001:db8:1:2::1", 5);
	b = answered("2001:db8:1:ffff::1", 5);
	check(a == 5 && b == 0, "rate_prefix6 48: 2001:db8:1:2::1 %d/5, 2001:db8:1:ffff::1 %d/5 (want 0)", a, b);
}

/* After a pause of p seconds, about rate * p tokens are back. */
static void test_refill(void)
{
	const uint32_t rate = 100, burst = 50;
	double t0, t;
	int tx;

	set_limit(rate, burst, 32, 64);
	tx = answered("198.18.7.7", 200);
	t0 = coarse_now();
	check(tx >= (int)burst && tx <= (int)burst + 2, "refill: burst of %u, %d answered", burst, tx);
	usleep(250000);
	t = coarse_now() - t0;
	tx = answered("198.18.7.7", 200);
	check(tx >= rate * t - 2 && tx <= rate * t + 2, "refill: after %.3f s at %u/s, %d answered (want %.1f +- 2)",
	      t, rate, tx, rate * t);

	set_limit(rate, 0, 32, 64);
	tx = answered("198.18.7.8", 300);
	check(tx >= (int)rate && tx <= (int)rate + 2, "syn_burst 0 means one second's worth: %d answered (want %u)",
	      tx, rate);
}

/* A spoofed flood: many sources, one SYN each, all answered, and none gets a
 * bucket (they are only counted); a heavy one among them does. */
static void test_light_prefixes(void)
{
	char src[32];
	int tx = 0, heavy;

	set_limit(100, 200, 32, 64);
	for (int i = 0; i < 3000; i++) {
		snprintf(src, sizeof(src), "198.18.%d.%d", i / 250, 1 + i % 250);
		tx += answered(src, 1);
	}
	check(tx == 3000, "3000 sources, one SYN each: %d answered", tx);
	check(rate_entries() == 0, "... and %ld buckets created for them (want 0: light prefixes are only counted)",
	      rate_entries());
	heavy = answered("198.19.1.1", 400);
	check(heavy >= 199 && heavy <= 201, "a heavy source among them: %d of 400 answered (burst 200)", heavy);
	check(rate_entries() >= 1, "... and it has a bucket (%ld buckets)", rate_entries());
}

int main(void)
{
	char msg[128];
	int listen_fd;

	if (geteuid() != 0) {
		fprintf(stderr, "ratelimit_test: needs root (BPF, a network namespace of its own)\n");
		return 1;
	}
	if (unshare(CLONE_NEWNET)) {
		fprintf(stderr, "ratelimit_test: unshare(CLONE_NEWNET): %s\n", strerror(errno));
		return 1;
	}
	listen_fd = open_listener();
	if (listen_fd < 0)
		return 1;
	sg_libbpf_log_setup();
	sg_settings_default(&settings);
	if (sg_ports_parse("80", settings.ports, msg, sizeof(msg))) {
		fprintf(stderr, "ratelimit_test: %s\n", msg);
		return 1;
	}
	settings.have_ports = true;
	skel = sg_load(NULL);
	if (!skel || sg_configure(skel, &settings)) {
		fprintf(stderr, "ratelimit_test: cannot load or configure synguard_xdp\n");
		return 1;
	}
	prog_fd = bpf_program__fd(skel->progs.synguard_xdp);
	cfg_fd = bpf_map__fd(skel->maps.sg_config);
	rate_fd = bpf_map__fd(skel->maps.sg_rate);
	seen_fd = bpf_map__fd(skel->maps.sg_rate_seen);
	stats_fd = bpf_map__fd(skel->maps.sg_stats);

	test_unlimited();
	test_one_source();
	test_prefix4();
	test_prefix6();
	test_refill();
	test_light_prefixes();

	synguard_xdp__destroy(skel);
	close(listen_fd);
	printf("%d passed, %d failed\n", passed, failed);
	return failed ? 1 : 0;
}
