// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* synguard stats: every counter by name, summed over the CPUs. */
#include <dirent.h>
#include <getopt.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "synguard.h"

static const char stats_help[] =
	"Usage: synguard stats [IFACE] [--json]\n"
	"\n"
	"Print every counter by name, summed over all CPUs, for IFACE or for every\n"
	"interface synguard is attached to.\n"
	"\n"
	"Options:\n"
	"  -j, --json   one JSON object: {\"interfaces\":[{\"ifname\":..,\"counters\":{..}}]}\n"
	"  -h, --help   this text\n"
	"\n"
	"Examples:\n"
	"  synguard stats\n"
	"  synguard stats eth0 --json | jq .interfaces[0].counters.synack_sent\n";

static int print_iface_stats(const char *ifname, bool json, bool first)
{
	uint64_t c[SG_CNT_MAX];
	int fd = sg_pinned_map_fd(ifname, "sg_stats"), err;

	if (fd < 0)
		return -1;
	err = sg_stats_read(fd, c);
	close(fd);
	if (err) {
		sg_err("cannot read counters of %s: %s", ifname, strerror(-err));
		return -1;
	}
	if (json) {
		if (!first)
			putchar(',');
		sg_stats_print_json(stdout, ifname, c);
	} else {
		sg_stats_print_text(stdout, ifname, c);
	}
	return 0;
}

static int run_stats(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{}
	};
	bool json = false, first = true;
	int c, failed = 0;

	while ((c = getopt_long(argc, argv, "jvh", opts, NULL)) != -1) {
		if (c == 'h')
			return show_help("stats");
		else if (c == 'j')
			json = true;
		else if (c == 'v')
			sg_verbose = true;
		else
			return usage_error("stats", "%s", "unknown option");
	}
	if (argc - optind > 1)
		return usage_error("stats", "%s", "expects at most one interface");
	if (sg_check_privileges() || sg_ensure_bpffs())
		return EXIT_RUNTIME;
	if (json)
		printf("{\"interfaces\":[");
	if (optind < argc) {
		failed = print_iface_stats(argv[optind], json, true);
	} else {
		DIR *d = opendir(SG_PIN_ROOT);
		struct dirent *de;

		while (d && (de = readdir(d))) {
			if (de->d_name[0] == '.')
				continue;
			failed |= print_iface_stats(de->d_name, json, first);
			first = false;
		}
		if (d)
			closedir(d);
		if (first && !json)
			printf("synguard is not attached to any interface\n");
	}
	if (json)
		printf("]}\n");
	return failed ? EXIT_RUNTIME : EXIT_OK;
}

const struct command cmd_stats = { "stats", run_stats, "print counters", stats_help };
