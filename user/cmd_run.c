// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * synguard run: attach (or adopt an attach) and stay in the foreground for
 * the timers: cookie key rotation, the flow table sweep, `--ports auto`
 * following the listeners, occupancy reports, and Prometheus metrics. The
 * data path expires entries lazily on its own, so protection never depends
 * on this process: kill it and nothing breaks but rotation and metrics.
 */
#include <errno.h>
#include <getopt.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <bpf/bpf.h>

#include "cli.h"
#include "conffile.h"
#include "metrics.h"
#include "secret_file.h"
#include "synguard.h"

static const char run_help[] =
	"Usage: synguard run [IFACE] [--config FILE] [--rotate S] [--sweep S] [--report S]\n"
	"                    [--metrics ADDR|off] [--detach-on-exit] [attach options...]\n"
	"\n"
	"Attach to IFACE with the attach options given here or in the config file\n"
	"(with none, an existing attach is adopted as it is) and stay in the\n"
	"foreground:\n"
	"  - rotate the cookie key every --rotate seconds (default 3600; at least three\n"
	"    cookie epochs; the previous key stays valid, no handshake is lost); with\n"
	"    a secret file, re-read that file instead (hosts behind ECMP must share\n"
	"    their key, so they rotate it together by rewriting the file);\n"
	"  - sweep the flow table every --sweep seconds (default 10): TIME_WAIT\n"
	"    entries after 2*MSL, closed ones, idle ones (the data path also expires\n"
	"    them lazily);\n"
	"  - with --ports auto, follow the listening sockets every --sweep seconds;\n"
	"  - print the table's occupancy by state every --report seconds (default\n"
	"    60, 0: never);\n"
	"  - serve Prometheus metrics over HTTP on --metrics (default\n"
	"    " SG_METRICS_DEFAULT_ADDR ", loopback only; 'off' to disable).\n"
	"SIGHUP reloads the config file (applied only if it parses). SIGTERM / SIGINT\n"
	"end it; protection stays attached unless --detach-on-exit.\n"
	"\n"
	"Options:\n"
	"  -c, --config FILE       config file (" SG_CONFFILE_DEFAULT " format: key = value)\n"
	"      --rotate S          key rotation period in seconds\n"
	"      --sweep S           sweep period in seconds\n"
	"      --report S          occupancy report period in seconds\n"
	"      --metrics ADDR      HOST:PORT for the metrics endpoint, or off\n"
	"      --detach-on-exit    detach when ending\n"
	"  -h, --help              this text\n"
	"\n"
	"Examples:\n"
	"  synguard run eth0 --ports 80,443\n"
	"  synguard run --config /etc/synguard/synguard.conf\n"
	"  synguard run eth0 --rotate 600 --report 10 --metrics [::1]:9477 --detach-on-exit\n"
	"  curl -s http://127.0.0.1:9477/metrics | grep synguard_synack_sent\n";

static volatile sig_atomic_t stop, reload;

static void on_stop(int sig)
{
	(void)sig;
	stop = 1;
}

static void on_hup(int sig)
{
	(void)sig;
	reload = 1;
}

static uint64_t mono_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec;
}

struct run_state {
	char ifname[IF_NAMESIZE];
	char link_pin[PATH_MAX + 16];	/* the XDP link's pin: gone after a detach */
	const char *config_path;
	int cfg_fd, secret_fd, flows_fd, ports_fd;
	unsigned long rotate_s, sweep_s, report_s;
	char metrics_addr[128];
	struct sg_metrics_server *metrics;
	struct sg_options opt;		/* what was applied: ports auto, secret file */
	uint64_t auto_ports[SG_PORT_WORDS];
};

static int read_cfg(const struct run_state *r, struct sg_config *cfg)
{
	__u32 zero = 0;

	return bpf_map_lookup_elem(r->cfg_fd, &zero, cfg) ? -errno : 0;
}

static void report(const struct run_state *r, long swept, bool rotated)
{
	struct sg_flow_gauges g;

	if (sg_flows_gauges(r->flows_fd, &g)) {
		printf("synguard: %s: cannot read the flow table\n", r->ifname);
	} else {
		printf("synguard: %s: flows %llu/%llu", r->ifname, (unsigned long long)g.total,
		       (unsigned long long)g.max);
		for (int st = 0; st < SG_ST_MAX; st++)
			if (g.per_state[st])
				printf(" %s=%llu", sg_state_name(st), (unsigned long long)g.per_state[st]);
		printf("; swept %ld%s\n", swept, rotated ? "; key rotated" : "");
	}
	fflush(stdout);
}

/* A new random key, or the secret file's key when there is one. */
static int rotate(struct run_state *r, const struct sg_config *cfg)
{
	char msg[256];
	uint64_t key[2];
	int err;

	if (r->opt.secret_file[0]) {
		if (sg_secret_file_read(r->opt.secret_file, key, msg, sizeof(msg))) {
			sg_err("%s: %s", r->ifname, msg);
			return -EINVAL;
		}
		err = sg_secret_put(r->secret_fd, key, cfg->epoch_shift);
		return err < 0 ? err : err == SG_SECRET_UNCHANGED ? 1 : 0;
	}
	if (sg_key_random(key))
		return -EIO;
	return sg_secret_rotate(r->secret_fd, key, sg_epoch_now(cfg->epoch_shift));
}

static void follow_listeners(struct run_state *r)
{
	uint64_t ports[SG_PORT_WORDS];

	if (!r->opt.ports_auto || sg_ports_auto(ports) < 0 || !memcmp(ports, r->auto_ports, sizeof(ports)))
		return;
	if (sg_ports_write(r->ports_fd, ports) == 0) {
		char list[1024];

		memcpy(r->auto_ports, ports, sizeof(ports));
		sg_ports_format(ports, list, sizeof(list));
		printf("synguard: %s: --ports auto now protects %s\n", r->ifname, list[0] ? list : "nothing");
		fflush(stdout);
	}
}

static int metrics_start(struct run_state *r)
{
	static const char *names[2];
	char err[256];

	sg_metrics_close(r->metrics);
	r->metrics = NULL;
	if (!r->metrics_addr[0] || !strcmp(r->metrics_addr, "off"))
		return 0;
	names[0] = r->ifname;
	r->metrics = sg_metrics_listen(r->metrics_addr, sg_metrics_render_pinned, (void *)names, err, sizeof(err));
	if (!r->metrics) {
		sg_err("metrics on %s: %s", r->metrics_addr, err);
		return -1;
	}
	printf("synguard: metrics on http://%s/metrics\n", r->metrics_addr);
	return 0;
}

/* The config file again; applied only when it parses and attaches. */
static void do_reload(struct run_state *r)
{
	struct sg_conffile c;
	char err[512];

	sg_conffile_init(&c);
	if (sg_conffile_load(r->config_path, &c, err, sizeof(err))) {
		sg_err("reload: %s (keeping the configuration in force)", err);
	} else if (c.ifname[0] && strcmp(c.ifname, r->ifname)) {
		sg_err("reload: the interface changed (%s to %s): restart synguard for that", r->ifname,
		       c.ifname);
	} else if (sg_attach_options(r->ifname, &c.opt) == EXIT_OK) {
		sg_options_free(&r->opt);
		r->opt = c.opt;
		sg_options_init(&c.opt);
		memset(r->auto_ports, 0, sizeof(r->auto_ports));
		if (c.metrics_given && strcmp(c.metrics, r->metrics_addr)) {
			snprintf(r->metrics_addr, sizeof(r->metrics_addr), "%s", c.metrics[0] ? c.metrics : "off");
			metrics_start(r);
		}
		printf("synguard: %s: configuration reloaded from %s\n", r->ifname, r->config_path);
	}
	fflush(stdout);
	sg_conffile_free(&c);
}

static int loop(struct run_state *r)
{
	uint64_t next_rotate = mono_s() + r->rotate_s, next_sweep = mono_s();
	uint64_t next_report = mono_s() + (r->report_s ? r->report_s : 1);
	long swept = 0;
	bool rotated = false, told_again = false;

	while (!stop) {
		struct pollfd pfd[SG_METRICS_MAX_POLLFDS];
		int n = r->metrics ? sg_metrics_pollfds(r->metrics, pfd, SG_METRICS_MAX_POLLFDS) : 0;
		int timeout = r->metrics ? sg_metrics_timeout_ms(r->metrics) : -1;
		uint64_t now;
		struct sg_config cfg;

		if (timeout < 0 || timeout > 200)
			timeout = 200;
		/* Processed on timeouts too: that is when slow clients are cut. */
		if (poll(pfd, n, timeout) >= 0 && r->metrics)
			sg_metrics_process(r->metrics, pfd, n);
		if (reload) {
			reload = 0;
			if (r->config_path)
				do_reload(r);
		}
		now = mono_s();
		/* Our fds keep the maps alive after a detach: watch the pin. */
		if (access(r->link_pin, F_OK) || read_cfg(r, &cfg)) {
			sg_err("%s: synguard was detached; ending", r->ifname);
			return -1;
		}
		if (now >= next_rotate) {
			int err = rotate(r, &cfg);

			if (err >= 0) {
				rotated |= err == 0;
				told_again = false;
				next_rotate = now + r->rotate_s;
			} else if (err == -EAGAIN && !told_again) {
				/* The last rotation is still settling: retry each tick. */
				printf("synguard: %s: key rotation waits for the previous one to settle\n",
				       r->ifname);
				told_again = true;
			} else if (err != -EAGAIN) {
				sg_err("%s: key rotation failed: %s", r->ifname, strerror(-err));
				next_rotate = now + r->rotate_s;
			}
		}
		if (now >= next_sweep) {
			long k = sg_flows_sweep(r->flows_fd, &cfg);

			if (k >= 0)
				swept += k;
			follow_listeners(r);
			next_sweep = now + r->sweep_s;
		}
		if (r->report_s && now >= next_report) {
			report(r, swept, rotated);
			swept = 0;
			rotated = false;
			next_report = now + r->report_s;
		}
	}
	return 0;
}

/* Attach options from the command line (after the run options are out),
 * in the same names the config file uses. */
static int parse_attach_args(int argc, char **argv, struct sg_options *o)
{
	char msg[512];

	for (int i = 0; i < argc; i++) {
		const char *a = argv[i], *val, *eq;
		char name[64];

		if (!strcmp(a, "-v") || !strcmp(a, "--verbose")) {
			sg_verbose = true;
			continue;
		}
		if (!strcmp(a, "-p"))
			a = "--ports";
		if (strncmp(a, "--", 2))
			return usage_error("run", "unexpected argument '%s'", a);
		eq = strchr(a, '=');
		snprintf(name, sizeof(name), "%.*s", (int)(eq ? eq - a - 2 : (long)strlen(a) - 2), a + 2);
		if (eq) {
			val = eq + 1;
		} else if (i + 1 < argc) {
			val = argv[++i];
		} else {
			return usage_error("run", "%s needs a value", a);
		}
		if (sg_option_set(o, name, val, a, msg, sizeof(msg)))
			return usage_error("run", "%s", msg);
	}
	return 0;
}

static int run_run(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "rotate", required_argument, NULL, 'R' },
		{ "sweep", required_argument, NULL, 'S' },
		{ "report", required_argument, NULL, 'P' },
		{ "metrics", required_argument, NULL, 'M' },
		{ "detach-on-exit", no_argument, NULL, 'D' },
		{ "help", no_argument, NULL, 'h' },
		{}
	};
	struct run_state r = { .rotate_s = 3600, .sweep_s = 10, .report_s = 60, .cfg_fd = -1,
			       .secret_fd = -1, .flows_fd = -1, .ports_fd = -1 };
	char **rest = calloc(argc + 1, sizeof(*rest)), pin_dir[PATH_MAX], err[512];
	bool detach_on_exit = false, metrics_given = false;
	int nrest = 0, c, ret = EXIT_RUNTIME;
	struct sg_conffile conf;
	struct sg_config cfg;
	unsigned long *dst;

	sg_conffile_init(&conf);
	sg_options_init(&r.opt);
	snprintf(r.metrics_addr, sizeof(r.metrics_addr), "%s", SG_METRICS_DEFAULT_ADDR);
	if (!rest)
		return EXIT_RUNTIME;
	/* "+": stop at the first unknown option; attach options go through
	 * parse_attach_args, so collect what getopt does not know. */
	opterr = 0;
	for (optind = 1; optind < argc;) {
		c = getopt_long(argc, argv, "+c:h", opts, NULL);
		if (c == -1) {
			rest[nrest++] = argv[optind++];
			continue;
		}
		dst = c == 'R' ? &r.rotate_s : c == 'S' ? &r.sweep_s : c == 'P' ? &r.report_s : NULL;
		if (dst) {
			if (parse_uint(optarg, c == 'P' ? 0 : 1, 365 * 86400UL, dst)) {
				ret = usage_error("run", "bad number of seconds '%s'", optarg);
				goto out;
			}
		} else if (c == 'c') {
			r.config_path = optarg;
		} else if (c == 'M') {
			snprintf(r.metrics_addr, sizeof(r.metrics_addr), "%s", optarg);
			metrics_given = true;
		} else if (c == 'D') {
			detach_on_exit = true;
		} else if (c == 'h') {
			ret = show_help("run");
			goto out;
		} else { /* an attach option, with its value if any */
			rest[nrest++] = argv[optind - 1];
		}
	}
	opterr = 1;
	if (nrest && rest[0][0] != '-') {
		snprintf(r.ifname, sizeof(r.ifname), "%s", rest[0]);
		memmove(rest, rest + 1, --nrest * sizeof(*rest));
	}
	if (r.config_path) {
		if (sg_conffile_load(r.config_path, &conf, err, sizeof(err))) {
			sg_err("%s", err);
			goto out;
		}
		if (!r.ifname[0])
			snprintf(r.ifname, sizeof(r.ifname), "%s", conf.ifname);
		if (conf.metrics_given && !metrics_given)
			snprintf(r.metrics_addr, sizeof(r.metrics_addr), "%s", conf.metrics[0] ? conf.metrics : "off");
		r.opt = conf.opt;
		sg_options_init(&conf.opt);
	}
	if (!r.ifname[0]) {
		ret = usage_error("run", "%s", "expects an interface (or 'interface = ...' in --config)");
		goto out;
	}
	if ((ret = parse_attach_args(nrest, rest, &r.opt)))
		goto out;
	ret = EXIT_RUNTIME;
	if (sg_check_privileges() || sg_ensure_bpffs())
		goto out;
	sg_pin_dir(r.ifname, pin_dir, sizeof(pin_dir));
	if (r.opt.given || access(pin_dir, F_OK)) {
		/* Attach, or re-attach with these options: maps and flows kept. */
		ret = sg_attach_options(r.ifname, &r.opt);
		if (ret != EXIT_OK)
			goto out;
		ret = EXIT_RUNTIME;
	}
	snprintf(r.link_pin, sizeof(r.link_pin), "%s/link_xdp", pin_dir);
	r.cfg_fd = sg_pinned_map_fd(r.ifname, "sg_config");
	r.secret_fd = sg_pinned_map_fd(r.ifname, "sg_secret");
	r.flows_fd = sg_pinned_map_fd(r.ifname, "sg_flows");
	r.ports_fd = sg_pinned_map_fd(r.ifname, "sg_ports");
	if (r.cfg_fd < 0 || r.secret_fd < 0 || r.flows_fd < 0 || r.ports_fd < 0 || read_cfg(&r, &cfg))
		goto out;
	/* Each cookie epoch's key must outlive the cookies made with it: a
	 * rotation takes effect two epochs on and settles one epoch later. */
	if (r.rotate_s * 1000000000ULL < 3ULL << sg_epoch_shift(cfg.epoch_shift)) {
		char min[32];

		snprintf(min, sizeof(min), "%llu",
			 ((3ULL << sg_epoch_shift(cfg.epoch_shift)) + 999999999) / 1000000000);
		ret = usage_error("run", "--rotate must be at least three cookie epochs (%s s) so that live "
			    "cookies keep their key", min);
		goto out;
	}
	if (metrics_start(&r))
		goto out;
	signal(SIGTERM, on_stop);
	signal(SIGINT, on_stop);
	signal(SIGHUP, on_hup);
	printf("synguard: running on %s (rotate %lus%s, sweep %lus, report %lus)\n", r.ifname, r.rotate_s,
	       r.opt.secret_file[0] ? " from the secret file" : "", r.sweep_s, r.report_s);
	fflush(stdout);
	if (loop(&r) == 0)
		ret = EXIT_OK;
	if (detach_on_exit && sg_detach(r.ifname) == 0)
		printf("synguard: detached from %s\n", r.ifname);
	else if (!detach_on_exit)
		printf("synguard: leaving %s protected\n", r.ifname);
out:
	sg_metrics_close(r.metrics);
	for (size_t i = 0; i < 4; i++) {
		int fd = (int[]){ r.cfg_fd, r.secret_fd, r.flows_fd, r.ports_fd }[i];

		if (fd >= 0)
			close(fd);
	}
	sg_options_free(&r.opt);
	sg_conffile_free(&conf);
	free(rest);
	return ret;
}

const struct command cmd_run = { "run", run_run, "attach and run timers, metrics in the foreground", run_help };
