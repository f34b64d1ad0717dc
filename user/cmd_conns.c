// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* synguard conns: the tracked flows with state, age and idle time. */
#include <arpa/inet.h>
#include <getopt.h>
#include <net/if.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "metrics.h" /* sg_pinned_ifaces */
#include "synguard.h"

static const char conns_help[] =
	"Usage: synguard conns [IFACE] [--json]\n"
	"\n"
	"List the connections synguard tracks on IFACE (or on every interface it is\n"
	"attached to): client and server address and port, the server side's TCP\n"
	"state, how long ago the entry was made (age) and last saw a segment (idle),\n"
	"and its origin (cookie: handed off after a valid cookie; legacy: kernel\n"
	"cookie; relearned: found in the kernel's socket table).\n"
	"\n"
	"Options:\n"
	"  -j, --json   {\"interfaces\":[{\"ifname\":..,\"max\":N,\"flows\":[{\"client\":..,\n"
	"               \"client_port\":N,\"server\":..,\"server_port\":N,\"state\":..,\n"
	"               \"age_s\":N,\"idle_s\":N,\"origin\":..}]}]}\n"
	"  -h, --help   this text\n"
	"\n"
	"Examples:\n"
	"  synguard conns eth0\n"
	"  synguard conns --json | jq '.interfaces[].flows[] | select(.state==\"TIME_WAIT\")'\n";

struct conns_out {
	bool json, first;
	uint64_t now;
};

static const char *origin_name(__u8 o)
{
	return o == SG_ORIGIN_COOKIE ? "cookie" : o == SG_ORIGIN_LEGACY ? "legacy" : o == SG_ORIGIN_RELEARNED ? "relearned" : "?";
}

static void addr_str(const __u32 *a, bool v6, char *buf, size_t len)
{
	inet_ntop(v6 ? AF_INET6 : AF_INET, a, buf, len);
}

static int print_flow(const struct sg_flow_key *k, const struct sg_flow *f, void *arg)
{
	struct conns_out *o = arg;
	char c[INET6_ADDRSTRLEN], s[INET6_ADDRSTRLEN], ce[INET6_ADDRSTRLEN + 8], se[INET6_ADDRSTRLEN + 8];
	uint64_t last = f->last_in_ns > f->last_out_ns ? f->last_in_ns : f->last_out_ns;
	double age = (double)(o->now - f->created_ns) / 1e9, idle = (double)(o->now - last) / 1e9;

	addr_str(k->caddr, k->ipv6, c, sizeof(c));
	addr_str(k->saddr, k->ipv6, s, sizeof(s));
	if (o->json) {
		printf("%s{\"client\":\"%s\",\"client_port\":%u,\"server\":\"%s\",\"server_port\":%u,"
		       "\"state\":\"%s\",\"age_s\":%.1f,\"idle_s\":%.1f,\"origin\":\"%s\"}",
		       o->first ? "" : ",", c, ntohs(k->cport), s, ntohs(k->sport),
		       sg_state_name(sg_flow_state(f->flags)), age, idle, origin_name(f->origin));
	} else {
		snprintf(ce, sizeof(ce), k->ipv6 ? "[%s]:%u" : "%s:%u", c, ntohs(k->cport));
		snprintf(se, sizeof(se), k->ipv6 ? "[%s]:%u" : "%s:%u", s, ntohs(k->sport));
		printf("  %-44s %-44s %-12s %8.1f %8.1f  %s\n", ce, se, sg_state_name(sg_flow_state(f->flags)),
		       age, idle, origin_name(f->origin));
	}
	o->first = false;
	return 0;
}

static int list_iface(const char *ifname, bool json, bool first)
{
	struct conns_out o = { .json = json, .first = true, .now = sg_flow_clock_ns() };
	struct sg_flow_gauges g;
	int fd = sg_pinned_map_fd(ifname, "sg_flows"), err;

	if (fd < 0)
		return -1;
	err = sg_flows_gauges(fd, &g);
	if (!err) {
		if (json)
			printf("%s{\"ifname\":\"%s\",\"max\":%llu,\"flows\":[", first ? "" : ",", ifname,
			       (unsigned long long)g.max);
		else
			printf("%s: %llu of %llu flow table entries\n  %-44s %-44s %-12s %8s %8s  %s\n", ifname,
			       (unsigned long long)g.total, (unsigned long long)g.max, "CLIENT", "SERVER", "STATE",
			       "AGE(s)", "IDLE(s)", "ORIGIN");
		err = sg_flows_foreach(fd, print_flow, &o);
		if (json)
			printf("]}");
	}
	close(fd);
	if (err)
		sg_err("cannot read the flow table of %s: %s", ifname, strerror(-err));
	return err ? -1 : 0;
}

static int run_conns(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{}
	};
	bool json = false, first = true;
	int c, failed = 0;

	while ((c = getopt_long(argc, argv, "jh", opts, NULL)) != -1) {
		if (c == 'h')
			return show_help("conns");
		if (c != 'j')
			return usage_error("conns", "%s", "unknown option");
		json = true;
	}
	if (argc - optind > 1)
		return usage_error("conns", "%s", "expects at most one interface");
	if (sg_check_privileges() || sg_ensure_bpffs())
		return EXIT_RUNTIME;
	if (json)
		printf("{\"interfaces\":[");
	if (optind < argc) {
		failed = list_iface(argv[optind], json, true);
	} else {
		char (*names)[IF_NAMESIZE];
		int n = sg_pinned_ifaces(&names);

		for (int i = 0; i < n; i++) {
			/* Pins are per host, interfaces per network namespace. */
			if (!if_nametoindex(names[i]))
				continue;
			failed |= list_iface(names[i], json, first);
			first = false;
		}
		sg_names_free(names);
		if (first && !json)
			printf("synguard is not attached to any interface here\n");
	}
	if (json)
		printf("]}\n");
	return failed ? EXIT_RUNTIME : EXIT_OK;
}

const struct command cmd_conns = { "conns", run_conns, "list tracked connections", conns_help };
