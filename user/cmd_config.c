// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* synguard config: change settings of an attachment in its maps, live. */
#include <errno.h>
#include <getopt.h>
#include <net/if.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <bpf/bpf.h>

#include "cli.h"
#include "policy.h"
#include "secret_file.h"
#include "synguard.h"

static const char config_help[] =
	"Usage: synguard config IFACE [options]\n"
	"\n"
	"Change the settings of synguard on IFACE while it runs: in its pinned maps,\n"
	"without reloading the program; live connections and the cookie secret stay.\n"
	"Only the options given change; the others keep their values.\n"
	"\n"
	"Options:\n"
	"  -p, --ports LIST|auto  protected TCP ports (replaces the set): 80,443,8000-8010,\n"
	"                       or auto: the ports with listeners in this namespace now\n"
	"      --prefix CIDR    protected destinations (replaces the list; repeatable,\n"
	"                       or a comma list; 'none': every local destination)\n"
	"      --allow CIDR     trusted sources (replaces the list; 'none' empties it)\n"
	"      --deny CIDR      blocked sources (replaces the list; 'none' empties it)\n"
	"      --add-prefix CIDR, --add-allow CIDR, --add-deny CIDR\n"
	"                       add to a list (repeatable)\n"
	"      --del-prefix CIDR, --del-allow CIDR, --del-deny CIDR\n"
	"                       remove from a list (repeatable; absent entries are\n"
	"                       ignored)\n"
	"      --secret-file PATH  switch to the key in PATH (16 bytes or 32 hex\n"
	"                       digits, mode 0600): in force from the next cookie\n"
	"                       epoch, cookies in flight stay valid\n"
	"      --mss4 N, --mss6 N, --wscale N, --ttl N, --window N\n"
	"                       SYN-ACK fields, as for 'synguard attach'\n"
	"      --syn-rate N, --syn-burst N, --rate-prefix4 N, --rate-prefix6 N\n"
	"                       per-source SYN-ACK limit (--syn-rate 0: none)\n"
	"      --msl SECONDS, --idle-timeout SECONDS\n"
	"                       flow table timers\n"
	"  -v, --verbose        libbpf debug output\n"
	"  -h, --help           this text\n"
	"\n"
	"--xdp-mode, --handoff and --epoch-shift need a new program or invalidate\n"
	"cookies in flight: change them with 'synguard attach'.\n"
	"\n"
	"Exit status: 0 changed, 1 runtime error (not attached, no privileges, a\n"
	"map update failed), 2 usage error (bad option or value).\n"
	"\n"
	"Examples:\n"
	"  synguard config eth0 --ports 80,443,8443\n"
	"  synguard config eth0 --add-deny 198.51.100.0/24 --del-allow 192.0.2.0/24\n"
	"  synguard config eth0 --allow none --syn-rate 200 --syn-burst 400\n"
	"  synguard config eth0 --prefix 192.0.2.10,2001:db8::10\n";

static int write_config(const char *ifname, const struct sg_config *cfg)
{
	uint32_t zero = 0;
	int fd = sg_pinned_map_fd(ifname, "sg_config"), err = 0;

	if (fd < 0)
		return -1;
	if (bpf_map_update_elem(fd, &zero, cfg, BPF_ANY)) {
		sg_err("cannot write the configuration of %s: %s", ifname, strerror(errno));
		err = -1;
	}
	close(fd);
	return err;
}

static int run_config(int argc, char **argv)
{
	struct option opts[SG_OPT_GETOPT_TABLE];
	struct sg_cidr_list want[SG_LIST_MAX] = {};
	struct sg_policy_maps maps;
	struct sg_options o;
	struct sg_config cfg;
	uint64_t key[2];
	uint32_t zero = 0;
	char msg[512], ports[4096];
	const char *ifname;
	int c, fd = -1, n_auto = 0, secret = -1, ret = EXIT_USAGE;

	sg_options_init(&o);
	sg_policy_maps_init(&maps);
	sg_option_getopt_table(opts, SG_OPT_IN_CONFIG);
	while ((c = getopt_long(argc, argv, "p:vh", opts, NULL)) != -1) {
		if (c == 'h') {
			ret = show_help("config");
			goto out;
		} else if (c == 'v') {
			sg_verbose = true;
		} else if (c == 'p' || c >= SG_OPT_GETOPT_BASE) {
			if (sg_option_set_getopt(&o, c, optarg, msg, sizeof(msg))) {
				usage_error("config", "%s", msg);
				goto out;
			}
		} else {
			/* getopt named it; say what to use instead for the known ones */
			usage_error("config", "%s", "unknown option (--xdp-mode, --handoff and "
				    "--epoch-shift need 'synguard attach')");
			goto out;
		}
	}
	if (optind + 1 != argc) {
		usage_error("config", "%s", "expects exactly one interface");
		goto out;
	}
	if (!o.given) {
		usage_error("config", "%s", "nothing to change: give at least one option "
			    "('synguard status IFACE' shows the current settings)");
		goto out;
	}
	ret = EXIT_RUNTIME;
	ifname = argv[optind];
	if (strlen(ifname) >= IF_NAMESIZE) {
		sg_err("no such interface '%s' (see 'ip link')", ifname);
		goto out;
	}
	if (sg_check_privileges() || sg_ensure_bpffs())
		goto out;
	fd = sg_pinned_map_fd(ifname, "sg_config");
	if (fd < 0)
		goto out;
	if (bpf_map_lookup_elem(fd, &zero, &cfg)) {
		sg_err("cannot read the configuration of %s: %s", ifname, strerror(errno));
		goto out;
	}
	if (o.secret_file[0] && sg_secret_file_read(o.secret_file, key, msg, sizeof(msg))) {
		sg_err("%s", msg);
		goto out;
	}

	if (sg_opt_given(&o, SG_OPT_PORTS)) {
		int pfd, err;

		if (o.ports_auto && (n_auto = sg_ports_auto(o.ports)) < 0) {
			sg_err("--ports auto: cannot read the listening sockets: %s", strerror(-n_auto));
			goto out;
		}
		pfd = sg_pinned_map_fd(ifname, "sg_ports");
		if (pfd < 0)
			goto out;
		err = sg_ports_write(pfd, o.ports);
		close(pfd);
		if (err) {
			sg_err("cannot write the port map of %s: %s", ifname, strerror(-err));
			goto out;
		}
	}
	/* Lists: new entries, then the flags, then away with the old ones. */
	if (sg_policy_maps_open(ifname, &maps) || sg_options_lists(&o, &maps, want) ||
	    sg_policy_fill(&maps, want))
		goto out;
	cfg.policy_flags = sg_policy_flags(want);
	sg_options_apply_config(&o, &cfg);
	if (write_config(ifname, &cfg) || sg_policy_prune(&maps, want))
		goto out;
	if (o.secret_file[0]) {
		int sfd = sg_pinned_map_fd(ifname, "sg_secret");

		if (sfd < 0)
			goto out;
		secret = sg_secret_put(sfd, key, cfg.epoch_shift);
		close(sfd);
		if (secret < 0) {
			sg_err("cannot install the key of %s: %s", o.secret_file, strerror(-secret));
			goto out;
		}
	}

	printf("synguard: updated %s\n", ifname);
	if (sg_opt_given(&o, SG_OPT_PORTS)) {
		sg_ports_format(o.ports, ports, sizeof(ports));
		printf("synguard: protecting TCP ports %s%s\n", ports[0] ? ports : "(none)",
		       o.ports_auto ? " (auto: the ports with listeners now)" : "");
	}
	for (int l = 0; l < SG_LIST_MAX; l++) {
		if (!sg_opt_given(&o, SG_OPT_PREFIX + l) && !o.add[l].n && !o.del[l].n)
			continue;
		printf("synguard: %s list: %zu IPv4 and %zu IPv6 prefixes%s\n", sg_list_option[l],
		       sg_cidr_list_count(&want[l], 4), sg_cidr_list_count(&want[l], 6),
		       want[l].n ? "" : l == SG_LIST_DST ? " (every local destination is protected)"
							: " (off)");
	}
	if (secret >= 0)
		printf("synguard: cookie secret from %s: %s\n", o.secret_file, sg_secret_put_name(secret));
	ret = EXIT_OK;
out:
	if (fd >= 0)
		close(fd);
	sg_policy_maps_close(&maps);
	for (int l = 0; l < SG_LIST_MAX; l++)
		sg_cidr_list_free(&want[l]);
	sg_options_free(&o);
	return ret;
}

const struct command cmd_config = { "config", run_config, "change ports, lists, settings at runtime",
				     config_help };
