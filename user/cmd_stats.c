// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* synguard stats: every counter by name, summed over the CPUs, with rates. */
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include <bpf/bpf.h>

#include "cli.h"
#include "metrics.h"
#include "synguard.h"

static const char stats_help[] =
	"Usage: synguard stats [IFACE] [--json] [--interval SECONDS | --watch SECONDS]\n"
	"\n"
	"Print every counter by name, summed over all CPUs, with its total and its\n"
	"rate per second, for IFACE or for every interface synguard is attached to.\n"
	"Rates come from two readings --interval seconds apart.\n"
	"\n"
	"Options:\n"
	"  -i, --interval SECONDS  time between the two readings (default 1; 0: totals\n"
	"                       only, at once, no rates)\n"
	"  -w, --watch SECONDS  redraw a compact table (counters that are non-zero or\n"
	"                       moving) every SECONDS until interrupted (Ctrl-C)\n"
	"  -c, --count N        with --watch: stop after N tables\n"
	"  -j, --json           JSON instead of a table: one object per reading, one\n"
	"                       line each with --watch. Fields (stable; synguard(8)):\n"
	"                       {\"timestamp\":UNIX_S,\"interval_s\":S,\"interfaces\":\n"
	"                       [{\"ifname\":..,\"counters\":{NAME:TOTAL,..},\n"
	"                       \"rates\":{NAME:PER_SECOND,..}}]} (no \"rates\" with\n"
	"                       --interval 0)\n"
	"  -p, --prometheus     Prometheus text format (totals; for node_exporter's\n"
	"                       textfile collector or a quick look at 'synguard run's\n"
	"                       metrics)\n"
	"  -v, --verbose        libbpf debug output\n"
	"  -h, --help           this text\n"
	"\n"
	"Exit status: 0 ok, 1 runtime error (not attached, no privileges), 2 usage\n"
	"error.\n"
	"\n"
	"Examples:\n"
	"  synguard stats\n"
	"  synguard stats eth0 --watch 2\n"
	"  synguard stats eth0 --json | jq .interfaces[0].rates.synack_sent\n"
	"  synguard stats --json --interval 0 | jq .interfaces[0].counters.cookie_valid\n"
	"  synguard stats --watch 10 --json >> /var/log/synguard-stats.jsonl\n";

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

struct reading {
	char (*names)[IF_NAMESIZE];
	int n;
	uint64_t (*c)[SG_CNT_MAX];
	struct sg_flow_gauges *g;	/* the flow table by state */
	bool *ok;
	double t;
};

static void reading_free(struct reading *r)
{
	free(r->c);
	free(r->g);
	free(r->ok);
	memset(r, 0, sizeof(*r));
}

/* Reads the counters of every interface in r->names; quiet: no messages
 * for interfaces that went away (watch mode). Returns how many failed. */
static int read_all(struct reading *r, bool quiet)
{
	int failed = 0;

	r->t = sg_monotonic_s();
	for (int i = 0; i < r->n; i++) {
		char path[PATH_MAX];
		int fd, err;

		snprintf(path, sizeof(path), "%s/%s/sg_stats", SG_PIN_ROOT, r->names[i]);
		fd = quiet ? bpf_obj_get(path) : sg_pinned_map_fd(r->names[i], "sg_stats");
		r->ok[i] = false;
		if (fd < 0) {
			failed++;
			continue;
		}
		err = sg_stats_read(fd, r->c[i]);
		close(fd);
		snprintf(path, sizeof(path), "%s/%s/sg_flows", SG_PIN_ROOT, r->names[i]);
		fd = bpf_obj_get(path);
		if (fd < 0 || sg_flows_gauges(fd, &r->g[i]))
			memset(&r->g[i], 0, sizeof(r->g[i]));
		if (fd >= 0)
			close(fd);
		if (err) {
			if (!quiet)
				sg_err("cannot read the counters of %s: %s", r->names[i], strerror(-err));
			failed++;
			continue;
		}
		r->ok[i] = true;
	}
	return failed;
}

static int reading_alloc(struct reading *r, char (*names)[IF_NAMESIZE], int n)
{
	r->names = names;
	r->n = n;
	r->c = calloc(n ? n : 1, sizeof(*r->c));
	r->g = calloc(n ? n : 1, sizeof(*r->g));
	r->ok = calloc(n ? n : 1, sizeof(*r->ok));
	return r->c && r->g && r->ok ? 0 : -ENOMEM;
}

static void print(const struct reading *now, const struct reading *before, bool json, bool compact,
		  double interval)
{
	double dt = before ? now->t - before->t : 0;
	bool first = true;

	if (json) {
		struct timespec ts;

		clock_gettime(CLOCK_REALTIME, &ts);
		printf("{\"timestamp\":%.3f,\"interval_s\":%.3f,\"interfaces\":[",
		       ts.tv_sec + ts.tv_nsec / 1e9, before ? dt : 0.0);
	} else if (compact) {
		time_t t = time(NULL);
		char when[32];

		strftime(when, sizeof(when), "%H:%M:%S", localtime(&t));
		printf("synguard stats, %s, every %g s (Ctrl-C to stop)\n", when, interval);
	}
	for (int i = 0; i < now->n; i++) {
		/* An interface that was missing at the first reading has
		 * rates of 0 (it is its own "before"). */
		const uint64_t *prev = !before ? NULL : before->ok[i] ? before->c[i] : now->c[i];

		if (!now->ok[i])
			continue;
		if (json) {
			if (!first)
				putchar(',');
			sg_stats_print_json_rates(stdout, now->names[i], now->c[i], prev, dt, &now->g[i]);
		} else {
			sg_stats_print_table(stdout, now->names[i], now->c[i], prev, dt, compact, &now->g[i]);
		}
		first = false;
	}
	if (json)
		printf("]}\n");
	else if (first)
		printf("synguard is not attached to any interface\n");
	fflush(stdout);
}

/* Sleeps until `until` (monotonic seconds) or a signal. */
static void sleep_until(double until)
{
	while (!stop) {
		double left = until - sg_monotonic_s();
		struct timespec ts;

		if (left <= 0)
			return;
		ts.tv_sec = (time_t)left;
		ts.tv_nsec = (long)((left - ts.tv_sec) * 1e9);
		nanosleep(&ts, NULL); /* EINTR on a signal: the loop checks stop */
	}
}

static int parse_seconds(const char *s, double min, double *out)
{
	char *end;

	errno = 0;
	*out = strtod(s, &end);
	return errno || end == s || *end || !isfinite(*out) || *out < min || *out > 86400 ? -1 : 0;
}

static int run_stats(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "interval", required_argument, NULL, 'i' },
		{ "watch", required_argument, NULL, 'w' },
		{ "count", required_argument, NULL, 'c' },
		{ "prometheus", no_argument, NULL, 'p' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{}
	};
	struct reading a = {}, b = {}, *now = &a, *before = &b, *tmp;
	char (*names)[IF_NAMESIZE] = NULL;
	bool json = false, prom = false, interval_set = false, tty = isatty(STDOUT_FILENO);
	double interval = 1, watch = 0;
	unsigned long count = 0, shown = 0;
	int c, n, failed, ret = EXIT_RUNTIME;

	while ((c = getopt_long(argc, argv, "ji:w:c:pvh", opts, NULL)) != -1) {
		switch (c) {
		case 'h':
			return show_help("stats");
		case 'j':
			json = true;
			break;
		case 'p':
			prom = true;
			break;
		case 'i':
			if (parse_seconds(optarg, 0, &interval))
				return usage_error("stats", "--interval takes seconds, 0-86400, not '%s'", optarg);
			interval_set = true;
			break;
		case 'w':
			if (parse_seconds(optarg, 0.1, &watch))
				return usage_error("stats", "--watch takes seconds, 0.1-86400, not '%s'", optarg);
			break;
		case 'c':
			if (parse_uint(optarg, 1, 1000000000, &count))
				return usage_error("stats", "--count takes a number of tables, not '%s'", optarg);
			break;
		case 'v':
			sg_verbose = true;
			break;
		default:
			return usage_error("stats", "%s", "unknown option");
		}
	}
	if (argc - optind > 1)
		return usage_error("stats", "%s", "expects at most one interface");
	if (watch && interval_set)
		return usage_error("stats", "%s", "--watch SECONDS is also the interval: drop --interval");
	if (count && !watch)
		return usage_error("stats", "%s", "--count goes with --watch");
	if (prom && (json || watch))
		return usage_error("stats", "%s", "--prometheus prints totals once: no --json or --watch");
	if (sg_check_privileges() || sg_ensure_bpffs())
		return EXIT_RUNTIME;
	if (optind < argc) {
		char dir[PATH_MAX];

		names = calloc(1, sizeof(*names));
		if (!names)
			return EXIT_RUNTIME;
		snprintf(names[0], IF_NAMESIZE, "%.*s", IF_NAMESIZE - 1, argv[optind]);
		n = 1;
		if (strlen(argv[optind]) >= IF_NAMESIZE || sg_pin_dir(names[0], dir, sizeof(dir)) ||
		    access(dir, F_OK)) {
			sg_err("synguard is not attached to %s (no %s/%s); see 'synguard status'",
			       argv[optind], SG_PIN_ROOT, argv[optind]);
			goto out;
		}
	} else {
		n = sg_pinned_ifaces(&names);
		if (n < 0) {
			sg_err("cannot list %s: %s", SG_PIN_ROOT, strerror(-n));
			return EXIT_RUNTIME;
		}
	}
	if (prom) {
		if (optind < argc) {
			/* one interface: render it alone */
			struct reading r = {};
			struct sg_metrics_iface mi;
			struct sg_map_usage *maps = NULL;
			int m;

			if (reading_alloc(&r, names, n) || read_all(&r, false)) {
				reading_free(&r);
				goto out;
			}
			m = sg_map_usage_read(names[0], &maps);
			mi = (struct sg_metrics_iface){ names[0], r.c[0], maps, m > 0 ? m : 0, &r.g[0] };
			ret = sg_metrics_render(stdout, &mi, 1) ? EXIT_RUNTIME : EXIT_OK;
			free(maps);
			reading_free(&r);
		} else {
			ret = sg_metrics_render_pinned(stdout, NULL) ? EXIT_RUNTIME : EXIT_OK;
		}
		goto out;
	}
	if (reading_alloc(&a, names, n) || reading_alloc(&b, names, n))
		goto out;

	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	failed = read_all(now, false);
	if (!watch) {
		if (failed && optind < argc)
			goto out;
		if (interval > 0) {
			tmp = before, before = now, now = tmp;
			sleep_until(before->t + interval);
			if (stop)
				goto out;
			read_all(now, false);
		}
		print(now, interval > 0 ? before : NULL, json, false, interval);
		ret = failed ? EXIT_RUNTIME : EXIT_OK;
		goto out;
	}
	while (!stop) {
		tmp = before, before = now, now = tmp;
		sleep_until(before->t + watch);
		if (stop)
			break;
		read_all(now, true);
		if (!json && tty)
			printf("\033[H\033[2J"); /* redraw in place */
		else if (!json && shown)
			putchar('\n');
		print(now, before, json, true, watch);
		if (count && ++shown >= count)
			break;
		shown |= !count;
	}
	ret = EXIT_OK;
out:
	reading_free(&a);
	reading_free(&b);
	sg_names_free(names);
	return ret;
}

const struct command cmd_stats = { "stats", run_stats, "print counters and rates", stats_help };
