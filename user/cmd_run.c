// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * synguard run: attach (or adopt an attach) and stay in the foreground for
 * the timers: cookie key rotation, the flow table sweep, occupancy reports.
 * The data path expires entries lazily on its own, so protection never
 * depends on this process: kill it and nothing breaks but rotation.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <bpf/bpf.h>

#include "cli.h"
#include "synguard.h"

static const char run_help[] =
	"Usage: synguard run IFACE [--rotate S] [--sweep S] [--report S] [--detach-on-exit]\n"
	"                    [attach options...]\n"
	"\n"
	"Attach to IFACE (any option 'synguard attach' takes is passed on; with none,\n"
	"an existing attach is adopted as it is) and stay in the foreground:\n"
	"  - rotate the cookie key every --rotate seconds (default 3600; at least two\n"
	"    cookie epochs); the previous key stays valid, no handshake is lost;\n"
	"  - sweep the flow table every --sweep seconds (default 10): TIME_WAIT\n"
	"    entries after 2*MSL, closed ones, idle ones after --idle-timeout (the\n"
	"    data path also expires them lazily);\n"
	"  - print the table's occupancy by state every --report seconds (default 60,\n"
	"    0: never).\n"
	"SIGTERM / SIGINT end it; protection stays attached unless --detach-on-exit.\n"
	"\n"
	"Options:\n"
	"      --rotate S          key rotation period in seconds\n"
	"      --sweep S           sweep period in seconds\n"
	"      --report S          occupancy report period in seconds\n"
	"      --detach-on-exit    detach when ending\n"
	"  -h, --help              this text\n"
	"\n"
	"Examples:\n"
	"  synguard run eth0 --ports 80,443\n"
	"  synguard run eth0 --rotate 600 --report 10 --detach-on-exit\n";

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

static uint64_t mono_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec;
}

/* A run option with a value: "--name VALUE" or "--name=VALUE". */
static int take_opt(int argc, char **argv, int *i, const char *name, const char **val)
{
	size_t n = strlen(name);

	if (!strcmp(argv[*i], name)) {
		if (*i + 1 >= argc)
			return -1;
		*val = argv[++*i];
		return 1;
	}
	if (!strncmp(argv[*i], name, n) && argv[*i][n] == '=') {
		*val = argv[*i] + n + 1;
		return 1;
	}
	return 0;
}

struct run_state {
	const char *ifname;
	int cfg_fd, secret_fd, flows_fd;
	unsigned long rotate_s, sweep_s, report_s;
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

static int loop(struct run_state *r)
{
	uint64_t next_rotate = mono_s() + r->rotate_s, next_sweep = mono_s() + r->sweep_s;
	uint64_t next_report = mono_s() + (r->report_s ? r->report_s : 1);
	long swept = 0;
	bool rotated = false, told_again = false;

	while (!stop) {
		uint64_t now = mono_s();
		struct sg_config cfg;

		if (read_cfg(r, &cfg)) {
			sg_err("%s: the configuration map is gone: was synguard detached?", r->ifname);
			return -1;
		}
		if (now >= next_rotate) {
			uint64_t key[2];
			int err = sg_key_random(key) ? -EIO
					: sg_secret_rotate(r->secret_fd, key, sg_epoch_now(cfg.epoch_shift));

			if (!err) {
				rotated = true;
				told_again = false;
				next_rotate = now + r->rotate_s;
			} else if (err == -EAGAIN && !told_again) {
				/* The last rotation is still settling: retry each second. */
				printf("synguard: %s: key rotation waits for the previous one to settle\n",
				       r->ifname);
				told_again = true;
			} else if (err != -EAGAIN) {
				sg_err("%s: key rotation failed: %s", r->ifname, strerror(-err));
				next_rotate = now + r->rotate_s;
			}
		}
		if (now >= next_sweep) {
			long n = sg_flows_sweep(r->flows_fd, &cfg);

			if (n >= 0)
				swept += n;
			next_sweep = now + r->sweep_s;
		}
		if (r->report_s && now >= next_report) {
			report(r, swept, rotated);
			swept = 0;
			rotated = false;
			next_report = now + r->report_s;
		}
		usleep(200 * 1000);
	}
	return 0;
}

static int run_run(int argc, char **argv)
{
	struct run_state r = { .rotate_s = 3600, .sweep_s = 10, .report_s = 60, .cfg_fd = -1,
			       .secret_fd = -1, .flows_fd = -1 };
	char **fwd = calloc(argc + 2, sizeof(*fwd)), pin_dir[PATH_MAX];
	bool detach_on_exit = false;
	int nfwd = 2, ret = EXIT_RUNTIME;
	struct sg_config cfg;
	const char *val;

	if (!fwd)
		return EXIT_RUNTIME;
	/* Our options out, the rest goes to attach. */
	for (int i = 1; i < argc; i++) {
		int t;
		unsigned long *dst = NULL;

		if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) {
			free(fwd);
			return show_help("run");
		}
		if (!strcmp(argv[i], "--detach-on-exit")) {
			detach_on_exit = true;
			continue;
		}
		if ((t = take_opt(argc, argv, &i, "--rotate", &val)))
			dst = &r.rotate_s;
		else if ((t = take_opt(argc, argv, &i, "--sweep", &val)))
			dst = &r.sweep_s;
		else if ((t = take_opt(argc, argv, &i, "--report", &val)))
			dst = &r.report_s;
		if (t < 0) {
			free(fwd);
			return usage_error("run", "%s needs a value", argv[i]);
		}
		if (dst) {
			if (parse_uint(val, dst == &r.report_s ? 0 : 1, 365 * 86400UL, dst)) {
				free(fwd);
				return usage_error("run", "bad number of seconds '%s'", val);
			}
			continue;
		}
		if (argv[i][0] != '-' && !r.ifname) {
			r.ifname = argv[i];
			continue;
		}
		fwd[nfwd++] = argv[i];
	}
	if (!r.ifname) {
		free(fwd);
		return usage_error("run", "%s", "expects an interface");
	}
	if (sg_check_privileges() || sg_ensure_bpffs())
		goto out;
	sg_pin_dir(r.ifname, pin_dir, sizeof(pin_dir));
	if (nfwd > 2 || access(pin_dir, F_OK)) {
		/* Attach (or re-attach with these options: maps and flows kept). */
		fwd[0] = "attach";
		fwd[1] = (char *)r.ifname;
		optind = 0;
		ret = cmd_attach.run(nfwd, fwd);
		if (ret != EXIT_OK)
			goto out;
		ret = EXIT_RUNTIME;
	}
	r.cfg_fd = sg_pinned_map_fd(r.ifname, "sg_config");
	r.secret_fd = sg_pinned_map_fd(r.ifname, "sg_secret");
	r.flows_fd = sg_pinned_map_fd(r.ifname, "sg_flows");
	if (r.cfg_fd < 0 || r.secret_fd < 0 || r.flows_fd < 0 || read_cfg(&r, &cfg))
		goto out;
	/* Each cookie epoch's key must outlive the cookies made with it. */
	if (r.rotate_s * 1000000000ULL < 2ULL << sg_epoch_shift(cfg.epoch_shift)) {
		char min[32];

		snprintf(min, sizeof(min), "%llu", ((2ULL << sg_epoch_shift(cfg.epoch_shift)) + 999999999) / 1000000000);
		ret = usage_error("run", "--rotate must be at least two cookie epochs (%s s) so that live "
			    "cookies keep their key", min);
		goto out;
	}
	signal(SIGTERM, on_signal);
	signal(SIGINT, on_signal);
	printf("synguard: running on %s (rotate %lus, sweep %lus, report %lus)\n", r.ifname, r.rotate_s,
	       r.sweep_s, r.report_s);
	fflush(stdout);
	if (loop(&r) == 0)
		ret = EXIT_OK;
	if (detach_on_exit && sg_detach(r.ifname) == 0)
		printf("synguard: detached from %s\n", r.ifname);
	else if (!detach_on_exit)
		printf("synguard: leaving %s protected\n", r.ifname);
out:
	if (r.cfg_fd >= 0)
		close(r.cfg_fd);
	if (r.secret_fd >= 0)
		close(r.secret_fd);
	if (r.flows_fd >= 0)
		close(r.flows_fd);
	free(fwd);
	return ret;
}

const struct command cmd_run = { "run", run_run, "attach and run timers in the foreground", run_help };
