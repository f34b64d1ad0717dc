// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * Unit tests of the CLI's library parts, no privileges needed: CIDR and
 * option parsing (user/policy.c), the config file (user/conffile.c), secret
 * files (user/secret_file.c), listening-port discovery (sg_ports_auto), the
 * Prometheus rendering and the metrics HTTP server (user/metrics.c).
 *
 * Prints "ok"/"FAIL" per check and "N passed, N failed" last; exits 1 on
 * any failure.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "conffile.h"
#include "metrics.h"
#include "policy.h"
#include "secret_file.h"
#include "synguard.h"

static int passed, failed;

static void check(bool ok, const char *fmt, ...)
{
	va_list ap;

	printf("%s - ", ok ? "ok  " : "FAIL");
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
	if (ok)
		passed++;
	else
		failed++;
}

/* ---- CIDR ---- */

static void test_cidr(void)
{
	static const struct {
		const char *in, *out; /* out NULL: must be refused */
	} cases[] = {
		{ "10.0.0.0/8", "10.0.0.0/8" },
		{ "10.1.2.3/8", "10.0.0.0/8" },	/* host bits cleared */
		{ "192.0.2.1", "192.0.2.1/32" },
		{ "0.0.0.0/0", "0.0.0.0/0" },
		{ "192.0.2.255/31", "192.0.2.254/31" },
		{ "2001:db8::1/32", "2001:db8::/32" },
		{ "fe80::/10", "fe80::/10" },
		{ "::/0", "::/0" },
		{ "::1", "::1/128" },
		{ "2001:db8::ff/121", "2001:db8::80/121" },
		{ "10.0.0.0/33", NULL },
		{ "fe80::/129", NULL },
		{ "abc", NULL },
		{ "", NULL },
		{ "10.0.0.0/", NULL },
		{ "10.0.0.0/-1", NULL },
		{ "10.0.0.0/8x", NULL },
		{ "10.0.0/8", NULL },
		{ "300.0.0.0/8", NULL },
		{ "10.0.0.0/ 8", NULL },
		{ "/8", NULL },
		{ "fe80::/+10", NULL },
	};
	char msg[256], buf[SG_CIDR_STRLEN];

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct sg_cidr c;
		int rc = sg_cidr_parse(cases[i].in, &c, msg, sizeof(msg));

		if (!cases[i].out) {
			check(rc == -1 && strstr(msg, cases[i].in), "cidr '%s' refused, message names it (%s)",
			      cases[i].in, msg);
			continue;
		}
		sg_cidr_format(&c, buf, sizeof(buf));
		check(rc == 0 && !strcmp(buf, cases[i].out), "cidr '%s' -> %s (got %s)", cases[i].in,
		      cases[i].out, rc ? msg : buf);
	}
	{
		struct sg_cidr c;

		sg_cidr_parse("10.0.0.0/33", &c, msg, sizeof(msg));
		check(strstr(msg, "/32") != NULL, "IPv4 prefix too long: says the limit (%s)", msg);
		sg_cidr_parse("fe80::/129", &c, msg, sizeof(msg));
		check(strstr(msg, "/128") != NULL, "IPv6 prefix too long: says the limit (%s)", msg);
	}
}

static void test_cidr_list(void)
{
	struct sg_cidr_list l = {};
	struct sg_cidr c;
	char msg[256];

	check(!sg_cidr_list_parse(&l, "10.0.0.0/8, 192.0.2.0/24 2001:db8::/32,,10.0.0.0/8", msg, sizeof(msg)) &&
		      l.n == 3, "list: commas and blanks, duplicates dropped (n=%zu)", l.n);
	check(sg_cidr_list_count(&l, 4) == 2 && sg_cidr_list_count(&l, 6) == 1, "list: counts per family");
	check(sg_cidr_list_parse(&l, "198.51.100.0/24,bogus", msg, sizeof(msg)) == -1 && l.n == 3,
	      "list: a bad entry leaves the list unchanged (n=%zu)", l.n);
	check(sg_cidr_list_parse(&l, " , ", msg, sizeof(msg)) == -1 && strstr(msg, "empty"),
	      "list: empty list refused (%s)", msg);
	sg_cidr_parse("192.0.2.0/24", &c, msg, sizeof(msg));
	sg_cidr_list_remove(&l, &c);
	check(l.n == 2 && !sg_cidr_list_has(&l, &c), "list: remove");
	sg_cidr_list_free(&l);
}

/* ---- options ---- */

/* A valid value for every option of attach/config: a new option without
 * an entry here fails the test, so the config file test covers it too. */
static const struct {
	const char *name, *value;
	const char *bad;
} samples[] = {
	{ "ports", "80,443,8000-8010", "80-20" },
	{ "prefix", "192.0.2.0/24,2001:db8::/32", "10.0.0.0/33" },
	{ "allow", "198.51.100.7", "fe80::/129" },
	{ "deny", "203.0.113.0/24", "abc" },
	{ "add-prefix", "192.0.2.1", "x" },
	{ "add-allow", "192.0.2.2", "x" },
	{ "add-deny", "192.0.2.3", "x" },
	{ "del-prefix", "192.0.2.4", "x" },
	{ "del-allow", "192.0.2.5", "x" },
	{ "del-deny", "192.0.2.6", "x" },
	{ "xdp-mode", "generic", "fast" },
	{ "handoff", "legacy", "remote" },
	{ "secret-file", "/etc/synguard/secret", "" },
	{ "mss4", "1400", "100" },
	{ "mss6", "1380", "99999" },
	{ "wscale", "7", "15" },
	{ "ttl", "128", "0" },
	{ "window", "29200", "65536" },
	{ "epoch-shift", "30", "3" },
	{ "syn-rate", "100", "-1" },
	{ "syn-burst", "200", "0" },
	{ "rate-prefix4", "24", "33" },
	{ "rate-prefix6", "56", "129" },
	{ "msl", "60", "601" },
	{ "idle-timeout", "600", "0" },
	{ "flow-table-size", "65536", "1" },
};

static const char *sample_of(const char *name, bool bad)
{
	for (size_t i = 0; i < sizeof(samples) / sizeof(samples[0]); i++)
		if (!strcmp(samples[i].name, name))
			return bad ? samples[i].bad : samples[i].value;
	return NULL;
}

static void test_options(void)
{
	struct sg_options o;
	struct sg_config cfg = {};
	char msg[512];

	for (int i = 0; i < SG_OPT_MAX; i++) {
		const struct sg_option_def *d = &sg_option_defs[i];
		const char *good = sample_of(d->name, false), *bad = sample_of(d->name, true);
		char shown[64];

		check(d->id == (enum sg_opt)i, "option table: %s at its enum index", d->name);
		check(good != NULL, "option %s has a test sample", d->name);
		if (!good)
			continue;
		sg_options_init(&o);
		check(!sg_option_set(&o, d->name, good, d->name, msg, sizeof(msg)) && sg_opt_given(&o, d->id),
		      "option %s = '%s' accepted", d->name, good);
		snprintf(shown, sizeof(shown), "--%s", d->name);
		check(sg_option_set(&o, d->name, bad, shown, msg, sizeof(msg)) == -EINVAL && strstr(msg, shown),
		      "option %s = '%s' refused, message names %s (%s)", d->name, bad, shown, msg);
		sg_options_free(&o);
	}
	sg_options_init(&o);
	check(sg_option_set(&o, "frobnicate", "1", "--frobnicate", msg, sizeof(msg)) == -ENOENT,
	      "unknown option: -ENOENT");
	check(!sg_option_set(&o, "idle_timeout", "77", "idle_timeout", msg, sizeof(msg)) &&
		      sg_opt_given(&o, SG_OPT_IDLE_TIMEOUT), "'_' stands for '-' in option names");
	check(!sg_option_set(&o, "syn-rate", "50", "", msg, sizeof(msg)), "syn-rate 50");
	check(!sg_option_set(&o, "ttl", "200", "", msg, sizeof(msg)), "ttl 200");
	check(!sg_option_set(&o, "msl", "45", "", msg, sizeof(msg)), "msl 45");
	cfg.ttl = 64;
	cfg.mss4 = 1460;
	sg_options_apply_config(&o, &cfg);
	check(cfg.ttl == 200 && cfg.msl_s == 45 && cfg.idle_timeout_s == 77 && cfg.syn_rate == 50 &&
		      cfg.syn_burst == 50 && cfg.mss4 == 1460,
	      "apply: given fields set, others kept, burst defaults to the rate");
	check(!sg_option_set(&o, "allow", "192.0.2.0/24", "", msg, sizeof(msg)) &&
		      !sg_option_set(&o, "allow", "2001:db8::/32", "", msg, sizeof(msg)) && o.list[SG_LIST_ALLOW].n == 2,
	      "list options append");
	check(!sg_option_set(&o, "allow", "none", "", msg, sizeof(msg)) && o.list[SG_LIST_ALLOW].n == 0 &&
		      sg_opt_given(&o, SG_OPT_ALLOW), "'none' empties a list and still counts as given");
	check(!sg_option_set(&o, "ports", "auto", "", msg, sizeof(msg)) && o.ports_auto, "ports auto");
	check(!sg_option_set(&o, "ports", "22", "", msg, sizeof(msg)) && !o.ports_auto && (o.ports[0] >> 22 & 1),
	      "ports list after auto");
	sg_options_free(&o);

	/* Lists resolved without maps: given lists replace, add/del edit. */
	{
		struct sg_cidr_list want[SG_LIST_MAX] = {};

		sg_options_init(&o);
		sg_option_set(&o, "deny", "192.0.2.0/24,198.51.100.0/24", "", msg, sizeof(msg));
		sg_option_set(&o, "add-deny", "203.0.113.9", "", msg, sizeof(msg));
		sg_option_set(&o, "del-deny", "192.0.2.0/24", "", msg, sizeof(msg));
		check(!sg_options_lists(&o, NULL, want) && want[SG_LIST_DENY].n == 2 && want[SG_LIST_ALLOW].n == 0 &&
			      sg_policy_flags(want) == SG_POLICY_DENY, "lists: replace + add - del; flags follow");
		for (int l = 0; l < SG_LIST_MAX; l++)
			sg_cidr_list_free(&want[l]);
		sg_options_free(&o);
	}
}

/* ---- config file ---- */

static bool has_port(const uint64_t *bm, int port)
{
	return bm[port / 64] >> (port % 64) & 1;
}


static void test_conffile(void)
{
	struct sg_conffile c;
	char err[1024], text[8192];
	size_t used = 0;
	int n_keys = 0;

	/* Every attach option has a key. */
	used += snprintf(text + used, sizeof(text) - used, "# every key\ninterface = eth0\nmetrics = [::1]:9100\n");
	for (int i = 0; i < SG_OPT_MAX; i++) {
		const struct sg_option_def *d = &sg_option_defs[i];

		if (!(d->where & SG_OPT_IN_ATTACH) || !sample_of(d->name, false))
			continue;
		used += snprintf(text + used, sizeof(text) - used, "%s = %s\n", d->name, sample_of(d->name, false));
		n_keys++;
	}
	check(!sg_conffile_parse(text, "t.conf", &c, err, sizeof(err)), "config file with every attach key "
	      "(%d) parses (%s)", n_keys, err);
	for (int i = 0; i < SG_OPT_MAX; i++)
		if ((sg_option_defs[i].where & SG_OPT_IN_ATTACH) && !sg_opt_given(&c.opt, i))
			check(false, "config key %s was taken", sg_option_defs[i].name);
	check(!strcmp(c.ifname, "eth0") && !strcmp(c.metrics, "[::1]:9100") && c.metrics_given,
	      "interface and metrics keys");
	check(c.opt.xdp_mode == SG_XDP_MODE_GENERIC && c.opt.handoff == SG_HANDOFF_LEGACY &&
		      !strcmp(c.opt.secret_file, "/etc/synguard/secret") && c.opt.num[SG_OPT_TTL] == 128,
	      "values reach the options");
	sg_conffile_free(&c);

	check(!sg_conffile_parse("  # only comments\n\n\t\n", "t", &c, err, sizeof(err)) && !c.ifname[0] &&
		      !c.opt.given && !strcmp(c.metrics, SG_METRICS_DEFAULT_ADDR),
	      "empty file: nothing given, metrics default to " SG_METRICS_DEFAULT_ADDR);
	sg_conffile_free(&c);

	check(!sg_conffile_parse("interface=eth1   # trailing comment\nports = \"80, 443\"\n"
				 "allow = 192.0.2.0/24\nallow = 2001:db8::/32, 198.51.100.1\n"
				 "idle_timeout = 90\nmetrics = off\r\n",
				 "t", &c, err, sizeof(err)),
	      "comments, quotes, repeated list keys, '_' in keys, CRLF (%s)", err);
	check(!strcmp(c.ifname, "eth1") && has_port(c.opt.ports, 443) && c.opt.list[SG_LIST_ALLOW].n == 3 &&
		      c.opt.num[SG_OPT_IDLE_TIMEOUT] == 90 && c.metrics[0] == 0 && c.metrics_given,
	      "... and their values");
	sg_conffile_free(&c);

	static const struct {
		const char *text, *want; /* want: in the message, with the line number */
	} bad[] = {
		{ "ports = 80\nfrobnicate = 1\n", "t:2: unknown key 'frobnicate'" },
		{ "ttl = 64\nports = 80\nttl = 65\n", "t:3: 'ttl' is set twice (first on line 1)" },
		{ "ttl = 0\n", "t:1: ttl takes 1-255" },
		{ "\n\nports\n", "t:3: expected 'key = value'" },
		{ "ports =\n", "t:1: 'ports' has no value" },
		{ "= 80\n", "t:1: missing key" },
		{ "prefix = 10.0.0.0/33\n", "t:1: prefix: bad prefix length" },
		{ "deny = fe80::/129\n", "t:1: deny: bad prefix length" },
		{ "allow = abc\n", "t:1: allow: 'abc' is not an address" },
		{ "secret-file = secret\n", "t:1: secret-file must be an absolute path" },
		{ "ports = \"80\n", "t:1: unbalanced quote" },
		{ "interface = eth0 eth1\n", "t:1: 'eth0 eth1' is not an interface name" },
		{ "metrics = 9100\n", "t:1: metrics takes HOST:PORT" },
		{ "add-allow = 10.0.0.1\n", "t:1: unknown key 'add-allow'" },
		{ "ports = 80-20\n", "t:1: ports: range 80-20 runs backwards" },
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		int rc = sg_conffile_parse(bad[i].text, "t", &c, err, sizeof(err));

		check(rc == -1 && strstr(err, bad[i].want) && !c.opt.given && !c.ifname[0],
		      "bad config refused: '%s' (%s)", bad[i].want, err);
	}

	/* From a file. */
	{
		char path[] = "/tmp/sgf-conf-XXXXXX";
		int fd = mkstemp(path);
		const char body[] = "interface = lo\nports = auto\ndeny = 192.0.2.0/24\n";

		check(fd >= 0 && write(fd, body, sizeof(body) - 1) == (ssize_t)sizeof(body) - 1, "temp config");
		close(fd);
		check(!sg_conffile_load(path, &c, err, sizeof(err)) && c.opt.ports_auto && !strcmp(c.ifname, "lo") &&
			      c.opt.list[SG_LIST_DENY].n == 1, "load from a file (%s)", err);
		sg_conffile_free(&c);
		unlink(path);
		check(sg_conffile_load(path, &c, err, sizeof(err)) == -1 && strstr(err, path) &&
			      strstr(err, "No such file"), "missing file: message names it (%s)", err);
	}
}

/* ---- secret files ---- */

static int write_file(const char *path, const void *data, size_t len, mode_t mode)
{
	int fd;

	unlink(path);
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL, 0600);
	if (fd < 0)
		return -1;
	if (write(fd, data, len) != (ssize_t)len || fchmod(fd, mode)) {
		close(fd);
		return -1;
	}
	return close(fd);
}

static void test_secret_file(void)
{
	char dir[] = "/tmp/sgf-secret-XXXXXX", path[64], msg[512];
	const uint8_t raw[16] = { 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16 };
	const uint8_t zero[16] = {};
	uint64_t key[2], key_hex[2];

	if (!mkdtemp(dir)) {
		check(false, "mkdtemp");
		return;
	}
	snprintf(path, sizeof(path), "%s/secret", dir);

	write_file(path, raw, 16, 0600);
	check(!sg_secret_file_read(path, key, msg, sizeof(msg)), "16 bytes, mode 0600: accepted (%s)", msg);
	check(key[0] == 0x0807060504030201ULL && key[1] == 0x100f0e0d0c0b0a09ULL,
	      "key words are little-endian (%016llx %016llx)", (unsigned long long)key[0],
	      (unsigned long long)key[1]);
	write_file(path, "0102030405060708090a0b0c0d0e0f10\n", 33, 0400);
	check(!sg_secret_file_read(path, key_hex, msg, sizeof(msg)) && !memcmp(key, key_hex, sizeof(key)),
	      "32 hex digits and a newline, mode 0400: the same key (%s)", msg);
	write_file(path, "0102030405060708090A0B0C0D0E0F10", 32, 0600);
	check(!sg_secret_file_read(path, key_hex, msg, sizeof(msg)) && !memcmp(key, key_hex, sizeof(key)),
	      "32 upper-case hex digits: the same key");

	write_file(path, raw, 16, 0644);
	check(sg_secret_file_read(path, key, msg, sizeof(msg)) == -1 && strstr(msg, "0644") &&
		      strstr(msg, "chmod 600"), "mode 0644 refused, says chmod 600 (%s)", msg);
	write_file(path, raw, 16, 0640);
	check(sg_secret_file_read(path, key, msg, sizeof(msg)) == -1 && strstr(msg, "group or others"),
	      "mode 0640 refused");
	write_file(path, raw, 16, 0602);
	check(sg_secret_file_read(path, key, msg, sizeof(msg)) == -1, "mode 0602 (world-writable) refused");
	write_file(path, raw, 15, 0600);
	check(sg_secret_file_read(path, key, msg, sizeof(msg)) == -1 && strstr(msg, "15 bytes") &&
		      strstr(msg, "exactly 16"), "15 bytes refused, says the size (%s)", msg);
	write_file(path, "0102030405060708090a0b0c0d0e0f10\n\n", 34, 0600);
	check(sg_secret_file_read(path, key, msg, sizeof(msg)) == -1, "34 bytes refused");
	write_file(path, "0102030405060708090a0b0c0d0e0fzz", 32, 0600);
	check(sg_secret_file_read(path, key, msg, sizeof(msg)) == -1, "32 bytes that are not hex refused");
	write_file(path, zero, 16, 0600);
	check(sg_secret_file_read(path, key, msg, sizeof(msg)) == -1 && strstr(msg, "all-zero"),
	      "all-zero key refused");
	unlink(path);
	check(sg_secret_file_read(path, key, msg, sizeof(msg)) == -1 && strstr(msg, path),
	      "missing file: message names it");
	check(sg_secret_file_read(dir, key, msg, sizeof(msg)) == -1 && strstr(msg, "not a regular file"),
	      "a directory refused");
	rmdir(dir);
}

/* ---- listening ports ---- */

static int listen_on(int family, const char *addr, int *port)
{
	struct sockaddr_storage ss = {};
	socklen_t len;
	int fd = socket(family, SOCK_STREAM, 0), one = 1;

	if (fd < 0)
		return -1;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (family == AF_INET) {
		struct sockaddr_in *s = (struct sockaddr_in *)&ss;

		s->sin_family = AF_INET;
		inet_pton(AF_INET, addr, &s->sin_addr);
		len = sizeof(*s);
	} else {
		struct sockaddr_in6 *s = (struct sockaddr_in6 *)&ss;

		s->sin6_family = AF_INET6;
		inet_pton(AF_INET6, addr, &s->sin6_addr);
		len = sizeof(*s);
		setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
	}
	if (bind(fd, (struct sockaddr *)&ss, len) || listen(fd, 4) || getsockname(fd, (struct sockaddr *)&ss, &len)) {
		close(fd);
		return -1;
	}
	*port = ntohs(family == AF_INET ? ((struct sockaddr_in *)&ss)->sin_port
					: ((struct sockaddr_in6 *)&ss)->sin6_port);
	return fd;
}

static void test_ports_auto(void)
{
	uint64_t bm[SG_PORT_WORDS];
	int p_any4, p_any6, p_lo4, p_lo6, p_conn;
	int a4 = listen_on(AF_INET, "0.0.0.0", &p_any4), a6 = listen_on(AF_INET6, "::", &p_any6);
	int l4 = listen_on(AF_INET, "127.0.0.1", &p_lo4), l6 = listen_on(AF_INET6, "::1", &p_lo6);
	int n, c = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in to = { .sin_family = AF_INET };

	check(a4 >= 0 && l4 >= 0, "listeners for the ports test");
	/* a connected (not listening) socket's local port must not count */
	to.sin_port = htons(p_lo4);
	inet_pton(AF_INET, "127.0.0.1", &to.sin_addr);
	connect(c, (struct sockaddr *)&to, sizeof(to));
	{
		struct sockaddr_in me;
		socklen_t len = sizeof(me);

		getsockname(c, (struct sockaddr *)&me, &len);
		p_conn = ntohs(me.sin_port);
	}
	n = sg_ports_auto(bm);
	check(n >= 1, "sg_ports_auto finds listeners (%d)", n);
	check(has_port(bm, p_any4), "0.0.0.0:%d listener included", p_any4);
	if (a6 >= 0)
		check(has_port(bm, p_any6), "[::]:%d listener included", p_any6);
	check(!has_port(bm, p_lo4), "127.0.0.1:%d listener left out (loopback only)", p_lo4);
	if (l6 >= 0)
		check(!has_port(bm, p_lo6), "[::1]:%d listener left out (loopback only)", p_lo6);
	check(!has_port(bm, p_conn), "connected socket's port %d left out", p_conn);
	close(c);
	close(a4);
	close(l4);
	if (a6 >= 0)
		close(a6);
	if (l6 >= 0)
		close(l6);
}

/* ---- metrics ---- */

static void test_render(void)
{
	uint64_t c1[SG_CNT_MAX] = {}, c2[SG_CNT_MAX] = {};
	struct sg_map_usage maps[1] = { { .name = "sg_flows", .entries = 7, .max_entries = 100 } };
	struct sg_metrics_iface ifs[2] = { { "eth0", c1, maps, 1 }, { "we\"ird", c2, NULL, 0 } };
	char *buf = NULL, line[160];
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	c1[SG_CNT_SYNACK_SENT] = 12345;
	c2[SG_CNT_DROP_DENIED] = 7;
	check(f && !sg_metrics_render(f, ifs, 2), "render");
	fclose(f);
	check(strstr(buf, "synguard_synack_sent_total{interface=\"eth0\"} 12345\n") != NULL, "counter sample");
	check(strstr(buf, "synguard_drop_denied_total{interface=\"we\\\"ird\"} 7\n") != NULL, "label escaped");
	check(strstr(buf, "# TYPE synguard_synack_sent_total counter\n") != NULL, "TYPE line");
	check(strstr(buf, "synguard_map_entries{interface=\"eth0\",map=\"sg_flows\"} 7\n") &&
		      strstr(buf, "synguard_map_max_entries{interface=\"eth0\",map=\"sg_flows\"} 100\n"),
	      "map gauges");
	for (int i = 0; i < SG_CNT_MAX; i++) {
		snprintf(line, sizeof(line), "# HELP synguard_%s_total ", sg_counter_names[i]);
		if (!strstr(buf, line))
			check(false, "HELP for %s", sg_counter_names[i]);
	}
	/* Every sample line: name{labels} value */
	{
		bool ok = true;

		for (char *p = buf, *nl; *p; p = nl + 1) {
			nl = strchr(p, '\n');
			if (!nl) {
				ok = false;
				break;
			}
			if (*p != '#' && (strncmp(p, "synguard_", 9) || !memchr(p, '}', nl - p)))
				ok = false;
		}
		check(ok, "every line is a comment or a synguard_ sample, newline-terminated");
	}
	free(buf);

	/* Only the interfaces asked for: none of these has pins. */
	{
		const char *const only[] = { "sgf-no-such0", NULL };

		buf = NULL;
		len = 0;
		f = open_memstream(&buf, &len);
		check(!sg_metrics_render_pinned(f, (void *)only), "render_pinned with a list");
		fclose(f);
		check(strstr(buf, "synguard_build_info") && !strstr(buf, "sgf-no-such0"),
		      "render_pinned: an interface without pins has no samples");
		free(buf);
	}
}

static int render_test(FILE *f, void *arg)
{
	int *calls = arg;

	(*calls)++;
	fprintf(f, "synguard_test_total{interface=\"x\"} %d\n", *calls);
	return 0;
}

/* Send req to the server, drive its poll loop until the answer is whole. */
static int http(struct sg_metrics_server *s, const char *req, char *resp, size_t resp_len, int split_ms)
{
	struct sockaddr_in to = { .sin_family = AF_INET, .sin_port = htons(sg_metrics_port(s)) };
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
	size_t got = 0, sent = 0, req_len = strlen(req);
	long long deadline = time(NULL) + 5;

	inet_pton(AF_INET, "127.0.0.1", &to.sin_addr);
	connect(fd, (struct sockaddr *)&to, sizeof(to)); /* EINPROGRESS */
	while (time(NULL) < deadline) {
		struct pollfd pfd[SG_METRICS_MAX_POLLFDS + 1];
		int n = sg_metrics_pollfds(s, pfd, SG_METRICS_MAX_POLLFDS);
		ssize_t r;

		pfd[n] = (struct pollfd){ .fd = fd, .events = POLLIN | (sent < req_len ? POLLOUT : 0) };
		poll(pfd, n + 1, 100);
		sg_metrics_process(s, pfd, n);
		if (sent < req_len) {
			/* split_ms: the request in two halves, a pause between */
			size_t part = split_ms && sent == 0 ? req_len / 2 : req_len - sent;

			r = send(fd, req + sent, part, MSG_NOSIGNAL);
			if (r > 0)
				sent += r;
			if (split_ms && sent < req_len)
				usleep(split_ms * 1000);
		}
		r = recv(fd, resp + got, resp_len - 1 - got, 0);
		if (r > 0)
			got += r;
		else if (r == 0)
			break;
	}
	resp[got] = 0;
	close(fd);
	return (int)got;
}

static void test_server(void)
{
	char err[256], resp[8192];
	int calls = 0;
	struct sg_metrics_server *s = sg_metrics_listen("127.0.0.1:0", render_test, &calls, err, sizeof(err));

	check(s != NULL && sg_metrics_port(s) > 0, "listen on 127.0.0.1:0 (%s)", s ? "" : err);
	if (!s)
		return;
	http(s, "GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n", resp, sizeof(resp), 0);
	check(!strncmp(resp, "HTTP/1.1 200 OK\r\n", 17) &&
		      strstr(resp, "Content-Type: text/plain; version=0.0.4") &&
		      strstr(resp, "\r\n\r\nsynguard_test_total{interface=\"x\"} 1\n") && calls == 1,
	      "GET /metrics: 200, Prometheus content type, body from the callback");
	check(strstr(resp, "Content-Length: 37\r\n") != NULL, "Content-Length matches the body");
	http(s, "GET /metrics?x=1 HTTP/1.0\r\n\r\n", resp, sizeof(resp), 200);
	check(strstr(resp, "200 OK") && strstr(resp, "} 2\n"), "request in two parts, query string ignored");
	http(s, "HEAD /metrics HTTP/1.1\r\n\r\n", resp, sizeof(resp), 0);
	check(strstr(resp, "200 OK") && strstr(resp, "\r\n\r\n")[4] == 0, "HEAD: headers only");
	http(s, "GET /nope HTTP/1.1\r\n\r\n", resp, sizeof(resp), 0);
	check(!strncmp(resp, "HTTP/1.1 404", 12), "unknown path: 404");
	http(s, "POST /metrics HTTP/1.1\r\n\r\n", resp, sizeof(resp), 0);
	check(!strncmp(resp, "HTTP/1.1 405", 12) && strstr(resp, "Allow: GET, HEAD"), "POST: 405");
	http(s, "GET / HTTP/1.1\r\n\r\n", resp, sizeof(resp), 0);
	check(strstr(resp, "200 OK") && strstr(resp, "/metrics"), "/: points to /metrics");
	check(sg_metrics_served(s) == 6, "six answers served (%lu)", sg_metrics_served(s));
	check(sg_metrics_timeout_ms(s) == -1, "no client left: no deadline");
	{
		/* a client that never sends is dropped at its deadline */
		struct sockaddr_in to = { .sin_family = AF_INET, .sin_port = htons(sg_metrics_port(s)) };
		int fd = socket(AF_INET, SOCK_STREAM, 0), t;
		struct pollfd pfd[SG_METRICS_MAX_POLLFDS];
		int n;

		inet_pton(AF_INET, "127.0.0.1", &to.sin_addr);
		connect(fd, (struct sockaddr *)&to, sizeof(to));
		n = sg_metrics_pollfds(s, pfd, SG_METRICS_MAX_POLLFDS);
		poll(pfd, n, 1000);
		sg_metrics_process(s, pfd, n);
		t = sg_metrics_timeout_ms(s);
		check(t > 0 && t <= SG_METRICS_CLIENT_TIMEOUT_MS, "silent client: deadline set (%d ms)", t);
		close(fd);
	}
	sg_metrics_close(s);

	check(!sg_metrics_listen("9477", render_test, &calls, err, sizeof(err)) && strstr(err, "HOST:PORT"),
	      "bad address refused (%s)", err);
	check(!sg_metrics_listen("::1:9477", render_test, &calls, err, sizeof(err)), "IPv6 without brackets refused");
	s = sg_metrics_listen("[::1]:0", render_test, &calls, err, sizeof(err));
	check(s != NULL || strstr(err, "Cannot assign"), "listen on [::1]:0 (%s)", s ? "" : err);
	sg_metrics_close(s);
}

/* The shipped example (contrib/synguard.conf.example) must load. */
static void test_example(const char *path)
{
	struct sg_conffile c;
	char err[1024];

	check(!sg_conffile_load(path, &c, err, sizeof(err)), "example config %s loads (%s)", path, err);
	check(!strcmp(c.ifname, "eth0") && sg_opt_given(&c.opt, SG_OPT_PORTS) && has_port(c.opt.ports, 443),
	      "example config: interface and ports");
	sg_conffile_free(&c);
}

int main(int argc, char **argv)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (argc > 1)
		test_example(argv[1]);
	test_cidr();
	test_cidr_list();
	test_options();
	test_conffile();
	test_secret_file();
	test_ports_auto();
	test_render();
	test_server();
	printf("%d passed, %d failed\n", passed, failed);
	return failed ? 1 : 0;
}
