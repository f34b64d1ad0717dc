// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* synguard attach / detach: load, configure, attach, pin; and undo it all. */
#include <errno.h>
#include <getopt.h>
#include <net/if.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <linux/if_link.h>

#include "cli.h"
#include "conffile.h"
#include "policy.h"
#include "secret_file.h"
#include "synguard.h"
#include "synguard_tc.skel.h"
#include "synguard_xdp.skel.h"

static const char attach_help[] =
	"Usage: synguard attach IFACE --ports LIST|auto [options]\n"
	"\n"
	"Attach the XDP SYN-cookie stage to IFACE. SYNs to the protected ports are\n"
	"answered with cookie SYN-ACKs from XDP; only clients that return a valid\n"
	"cookie get through. Programs and maps are pinned under " SG_PIN_ROOT "/IFACE\n"
	"so protection continues after this command exits. Attaching again to the\n"
	"same interface replaces the program in place and keeps the maps, the\n"
	"secret and live connections; the options given then are the whole new\n"
	"configuration ('synguard config' changes single settings).\n"
	"\n"
	"What is protected:\n"
	"  -p, --ports LIST|auto  protected TCP ports: 80,443,8000-8010 (required);\n"
	"                       auto: the ports with listening sockets now (not those\n"
	"                       bound to loopback only); 'synguard run' follows them\n"
	"      --prefix CIDR    protect only these destinations (repeatable, or a\n"
	"                       comma list; IPv4 and IPv6): 192.0.2.0/24,2001:db8::/32\n"
	"      --allow CIDR     trusted sources: their segments pass untouched, without\n"
	"                       cookies (repeatable)\n"
	"      --deny CIDR      blocked sources: their segments to protected services\n"
	"                       are dropped (repeatable; deny wins over allow)\n"
	"\n"
	"How:\n"
	"      --xdp-mode MODE  native (driver XDP), generic (any device, slower) or\n"
	"                       auto (default: native if the driver has it, else\n"
	"                       generic; the choice is printed)\n"
	"      --handoff MODE   how validated clients reach the listener:\n"
	"                       local  (Linux 6.9+) our cookies, TC hands the client\n"
	"                              to the listener (bpf_sk_assign_tcp_reqsk);\n"
	"                              needs net.ipv4.tcp_syncookies != 0\n"
	"                       legacy (Linux 5.3+) kernel cookies; the kernel checks\n"
	"                              the ACK; needs net.ipv4.tcp_syncookies = 2\n"
	"                       auto   (default) local if the kernel has it\n"
	"      --secret-file PATH  cookie key shared by several hosts (ECMP): 16 bytes\n"
	"                       or 32 hex digits, mode 0600 (default: a random key)\n"
	"      --mss4 N         MSS announced on IPv4, 536-65495 (default: the\n"
	"                       interface MTU - 40, as the kernel announces)\n"
	"      --mss6 N         MSS announced on IPv6, 1220-65475 (default: MTU - 60)\n"
	"      --wscale N       our window scale, 0-14 (default: what this host's\n"
	"                       tcp_rmem would give)\n"
	"      --ttl N          TTL / hop limit of SYN-ACKs, 1-255 (default 64)\n"
	"      --window N       receive window in SYN-ACKs, 1-65535 (default 64240)\n"
	"      --epoch-shift N  cookie epoch = 2^N ns, 20-40 (default 36: 68.7 s;\n"
	"                       a cookie lives one to two epochs)\n"
	"      --syn-rate N     SYN-ACKs per second per source prefix (default 0: no\n"
	"                       limit)\n"
	"      --syn-burst N    bucket depth of that limit (default: --syn-rate)\n"
	"      --rate-prefix4 N  source prefix length the limit counts by, IPv4,\n"
	"                       1-32 (default 32)\n"
	"      --rate-prefix6 N  ... IPv6, 1-128 (default 64)\n"
	"      --msl SECONDS    maximum segment lifetime, 1-600: TIME_WAIT lasts\n"
	"                       2 * MSL (default 30)\n"
	"      --idle-timeout SECONDS  forget idle flows after this long (default\n"
	"                       3600; they are re-learned on use)\n"
	"      --flow-table-size N  flow table entries, 1024-16777216 (default 262144;\n"
	"                       fixed while attached: detach to change it)\n"
	"  -v, --verbose        libbpf debug output\n"
	"  -h, --help           this text\n"
	"\n"
	"Exit status: 0 attached, 1 runtime error, 2 usage error.\n"
	"\n"
	"Examples:\n"
	"  synguard attach eth0 --ports 80,443\n"
	"  synguard attach eth0 --ports auto --xdp-mode native\n"
	"  synguard attach eth0 --ports 22,8000-8080 --mss4 1400 --ttl 128\n"
	"  synguard attach eth0 --ports 443 --prefix 192.0.2.10/32 --deny 198.51.100.0/24\n"
	"  synguard attach eth0 --ports 443 --secret-file /etc/synguard/secret\n"
	"  synguard attach eth0 --ports 443 --handoff legacy\n";

/* The sysctls the chosen hand-off depends on, read in the interface's netns. */
static int check_sysctls(enum sg_handoff mode, struct sg_config *cfg)
{
	uint64_t syncookies = 0, timestamps = 0;

	if (sg_read_sysctl_u64("/proc/sys/net/ipv4/tcp_syncookies", 0, &syncookies)) {
		sg_err("cannot read net.ipv4.tcp_syncookies: is this kernel built with SYN cookies?");
		return -1;
	}
	if (mode == SG_HANDOFF_LOCAL && syncookies == 0) {
		sg_err("net.ipv4.tcp_syncookies is 0: the kernel would refuse the hand-off; set it "
		       "with 'sysctl -w net.ipv4.tcp_syncookies=1'");
		return -1;
	}
	if (mode == SG_HANDOFF_LEGACY) {
		if (syncookies != 2) {
			sg_err("--handoff legacy needs net.ipv4.tcp_syncookies=2 (it is %llu) so the "
			       "kernel accepts its cookies at any time; 'sysctl -w "
			       "net.ipv4.tcp_syncookies=2'", (unsigned long long)syncookies);
			return -1;
		}
		sg_read_sysctl_u64("/proc/sys/net/ipv4/tcp_timestamps", 0, &timestamps);
		if (timestamps == 2)
			cfg->flags |= SG_CFG_LEGACY_TS;
		else
			fprintf(stderr, "synguard: note: legacy mode with net.ipv4.tcp_timestamps=%llu: "
				"kernel cookies keep window scaling, SACK and ECN only with "
				"tcp_timestamps=2, so clients get none of them\n",
				(unsigned long long)timestamps);
	}
	return 0;
}

static int interface_mtu(const char *ifname)
{
	struct ifreq ifr = {};
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0), mtu = -1;

	if (fd < 0)
		return -1;
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", ifname);
	if (ioctl(fd, SIOCGIFMTU, &ifr) == 0)
		mtu = ifr.ifr_mtu;
	close(fd);
	return mtu;
}

/* The XDP mode of a synguard attachment already in place, or NULL. */
static const char *current_xdp_mode(const char *pin_dir, int ifindex)
{
	struct bpf_link_info info = {};
	uint32_t len = sizeof(info);
	char path[PATH_MAX + 16];
	int fd;

	snprintf(path, sizeof(path), "%s/link_xdp", pin_dir);
	fd = bpf_obj_get(path);
	if (fd < 0)
		return NULL;
	if (bpf_obj_get_info_by_fd(fd, &info, &len))
		info.prog_id = 0;
	close(fd);
	return info.prog_id ? sg_xdp_mode_of(ifindex, info.prog_id) : NULL;
}

/* Does the driver of ifindex run XDP programs natively? Attaches a pass-all
 * program in driver mode for a moment (a link, closed at once). Another XDP
 * program in the way counts as yes: sg_attach() then says who is there. */
static bool native_xdp_supported(int ifindex)
{
	const struct bpf_insn pass[] = {
		{ .code = BPF_ALU64 | BPF_MOV | BPF_K, .dst_reg = BPF_REG_0, .imm = XDP_PASS },
		{ .code = BPF_JMP | BPF_EXIT },
	};
	LIBBPF_OPTS(bpf_link_create_opts, opts, .flags = XDP_FLAGS_DRV_MODE);
	int prog = bpf_prog_load(BPF_PROG_TYPE_XDP, "sg_probe", "GPL", pass, 2, NULL), link, err;

	if (prog < 0)
		return true; /* cannot tell: let the kernel choose */
	link = bpf_link_create(prog, ifindex, BPF_XDP, &opts);
	err = link < 0 ? errno : 0;
	if (link >= 0)
		close(link);
	close(prog);
	return err != EOPNOTSUPP && err != EINVAL;
}

/* Generic XDP does not hand XDP metadata to TC for programs loaded with
 * BPF_F_XDP_HAS_FRAGS (seen on Linux 6.18), and the local hand-off lives on
 * that metadata: in generic mode the loader must load the program without
 * frags support. sg_set_xdp_frags() is the loader's (user/loader.c). */
extern void sg_set_xdp_frags(bool on) __attribute__((weak));

/* The flow table is sized at load and pinned: a re-attach must load it with
 * the size it has. 0, or -1 with a message. */
static int flow_table_size(const char *pin_dir, const struct sg_options *o)
{
	struct bpf_map_info info = {};
	uint32_t len = sizeof(info);
	char path[PATH_MAX + 16];
	bool given = sg_opt_given(o, SG_OPT_FLOW_TABLE_SIZE);
	int fd;

	snprintf(path, sizeof(path), "%s/sg_flows", pin_dir);
	fd = bpf_obj_get(path);
	if (fd >= 0 && !bpf_obj_get_info_by_fd(fd, &info, &len)) {
		close(fd);
		if (given && info.max_entries != o->num[SG_OPT_FLOW_TABLE_SIZE]) {
			sg_err("the flow table has %u entries, and its size cannot change while attached; "
			       "'synguard detach' first, or leave out --flow-table-size", info.max_entries);
			return -1;
		}
		sg_set_flow_table_size(info.max_entries);
		return 0;
	}
	if (fd >= 0)
		close(fd);
	if (given)
		sg_set_flow_table_size(o->num[SG_OPT_FLOW_TABLE_SIZE]);
	return 0;
}

static int policy_maps_of(struct synguard_xdp *skel, struct sg_policy_maps *m)
{
	sg_policy_maps_init(m);
	for (int l = 0; l < SG_LIST_MAX; l++) {
		for (int f = 0; f < 2; f++) {
			struct bpf_map *map = bpf_object__find_map_by_name(skel->obj, sg_list_map[l][f]);

			if (!map) {
				sg_err("the XDP object has no map %s", sg_list_map[l][f]);
				return -1;
			}
			m->fd[l][f] = bpf_map__fd(map);
		}
	}
	return 0;
}

static void print_lists(const struct sg_cidr_list want[SG_LIST_MAX])
{
	static const char *const what[SG_LIST_MAX] = { "protected destinations", "allowed sources",
						       "denied sources" };

	for (int l = 0; l < SG_LIST_MAX; l++) {
		char s[SG_CIDR_STRLEN];

		if (!want[l].n)
			continue;
		printf("synguard: %s:", what[l]);
		for (size_t i = 0; i < want[l].n && i < 8; i++) {
			sg_cidr_format(&want[l].v[i], s, sizeof(s));
			printf("%s %s", i ? "," : "", s);
		}
		if (want[l].n > 8)
			printf(" and %zu more", want[l].n - 8);
		putchar('\n');
	}
}

int sg_attach_options(const char *ifname, struct sg_options *o)
{
	struct sg_cidr_list want[SG_LIST_MAX] = {};
	struct synguard_xdp *skel = NULL;
	struct synguard_tc *tc = NULL;
	struct sg_policy_maps maps;
	struct sg_settings set;
	char pin_dir[PATH_MAX], msg[512], ports[4096];
	const char *was_mode, *mode_now;
	uint64_t key[2];
	bool existed = true;
	int mode, mtu, ifindex, n_auto = 0, secret = -1, ret = EXIT_RUNTIME;
	enum sg_xdp_mode xdp_mode;
	__u32 xdp_flags;

	if (!sg_opt_given(o, SG_OPT_PORTS)) {
		sg_err("no ports to protect: give --ports LIST|auto (config file: ports = ...)");
		return EXIT_USAGE;
	}
	if (strlen(ifname) >= IF_NAMESIZE || !(ifindex = if_nametoindex(ifname))) {
		sg_err("no such interface '%s' in this network namespace (see 'ip link')", ifname);
		goto out;
	}
	sg_settings_default(&set);
	/* The MSS the kernel itself would announce on this interface. */
	mtu = interface_mtu(ifname);
	if (mtu >= 576)
		set.cfg.mss4 = mtu - 40 > 65495 ? 65495 : mtu - 40;
	if (mtu >= 1280)
		set.cfg.mss6 = mtu - 60 > 65475 ? 65475 : mtu - 60;
	sg_options_apply_config(o, &set.cfg);
	if (sg_check_privileges())
		goto out;
	if (o->ports_auto) {
		n_auto = sg_ports_auto(o->ports);
		if (n_auto < 0) {
			sg_err("--ports auto: cannot read the listening sockets from /proc/net/tcp: %s",
			       strerror(-n_auto));
			goto out;
		}
	}
	memcpy(set.ports, o->ports, sizeof(set.ports));
	set.have_ports = true;
	if (o->secret_file[0] && sg_secret_file_read(o->secret_file, key, msg, sizeof(msg))) {
		sg_err("%s", msg);
		goto out;
	}
	mode = sg_handoff_probe(o->handoff);
	if (mode < 0 || check_sysctls(mode, &set.cfg) || sg_ensure_bpffs())
		goto out;
	sg_pin_dir(ifname, pin_dir, sizeof(pin_dir));
	was_mode = current_xdp_mode(pin_dir, ifindex);
	if (was_mode && o->xdp_mode != SG_XDP_MODE_AUTO && strcmp(was_mode, sg_xdp_mode_name(o->xdp_mode))) {
		sg_err("already attached to %s in %s XDP mode, which cannot change in place; "
		       "'synguard detach %s' first, then attach with --xdp-mode %s", ifname, was_mode,
		       ifname, sg_xdp_mode_name(o->xdp_mode));
		goto out;
	}
	if (flow_table_size(pin_dir, o))
		goto out;
	/* auto: native if the driver has it, else generic, decided before the
	 * load (the two load differently); a re-attach keeps its mode. */
	xdp_mode = o->xdp_mode;
	if (xdp_mode == SG_XDP_MODE_AUTO)
		xdp_mode = was_mode ? (!strcmp(was_mode, "generic") ? SG_XDP_MODE_GENERIC : SG_XDP_MODE_NATIVE)
				    : native_xdp_supported(ifindex) ? SG_XDP_MODE_NATIVE : SG_XDP_MODE_GENERIC;
	xdp_flags = xdp_mode == SG_XDP_MODE_GENERIC ? XDP_FLAGS_SKB_MODE : XDP_FLAGS_DRV_MODE;
	if (was_mode && strcmp(was_mode, "native") && strcmp(was_mode, "generic"))
		xdp_flags = 0; /* offload: the link update keeps it */
	if (sg_set_xdp_frags)
		sg_set_xdp_frags(xdp_mode != SG_XDP_MODE_GENERIC);
	if ((mkdir(SG_PIN_ROOT, 0700) && errno != EEXIST)) {
		sg_err("cannot create %s: %s", SG_PIN_ROOT, strerror(errno));
		goto out;
	}
	existed = mkdir(pin_dir, 0700) && errno == EEXIST;
	if (!existed && errno && access(pin_dir, F_OK)) {
		sg_err("cannot create %s: %s", pin_dir, strerror(errno));
		goto out;
	}

	/* Policy entries before the flags that enable them; the secret before
	 * sg_configure, which installs a random one only when none is there;
	 * TC before XDP: by the time XDP passes cookie ACKs, the hand-off is
	 * there; stale policy entries go once the new flags are in force. */
	skel = sg_load_mode(pin_dir, mode);
	if (!skel || policy_maps_of(skel, &maps) || sg_options_lists(o, NULL, want) ||
	    sg_policy_fill(&maps, want))
		goto fail;
	set.cfg.policy_flags = sg_policy_flags(want);
	if (o->secret_file[0]) {
		secret = sg_secret_put(bpf_map__fd(skel->maps.sg_secret), key, set.cfg.epoch_shift);
		if (secret < 0) {
			sg_err("cannot install the key of %s: %s", o->secret_file, strerror(-secret));
			goto fail;
		}
	}
	if (sg_configure(skel, &set) ||
	    (mode == SG_HANDOFF_LOCAL && (!(tc = sg_load_tc(skel)) || sg_attach_tc(tc, ifname, pin_dir))))
		goto fail;
	if (sg_attach(skel, ifname, pin_dir, xdp_flags)) {
		if (xdp_mode == SG_XDP_MODE_NATIVE && !native_xdp_supported(ifindex))
			sg_err("the driver of %s has no native XDP: use --xdp-mode generic", ifname);
		goto fail;
	}
	if (sg_policy_prune(&maps, want))
		goto out; /* attached; the message says which entry stayed */

	mode_now = current_xdp_mode(pin_dir, ifindex);
	sg_ports_format(set.ports, ports, sizeof(ports));
	printf("synguard: %s %s (XDP %s, hand-off %s), protecting TCP ports %s%s\n",
	       existed ? "re-attached to" : "attached to", ifname, mode_now, sg_handoff_name(mode),
	       ports[0] ? ports : "none yet",
	       !o->ports_auto ? "" : n_auto ? " (auto: the ports with listeners now)"
					     : " (auto: nothing listens outside loopback yet)");
	if (o->xdp_mode == SG_XDP_MODE_AUTO)
		printf("synguard: --xdp-mode auto chose %s%s\n", mode_now,
		       !strcmp(mode_now, "generic") ? ": the driver has no native XDP (slower; "
						      "packets are copied into socket buffers first)"
						    : "");
	print_lists(want);
	if (secret >= 0)
		printf("synguard: cookie secret from %s: %s\n", o->secret_file, sg_secret_put_name(secret));
	ret = EXIT_OK;
	goto out;
fail:
	if (!existed)
		sg_detach(ifname); /* leave nothing half-made behind */
out:
	for (int l = 0; l < SG_LIST_MAX; l++)
		sg_cidr_list_free(&want[l]);
	synguard_tc__destroy(tc);
	synguard_xdp__destroy(skel);
	return ret;
}

static int run_attach(int argc, char **argv)
{
	struct option opts[SG_OPT_GETOPT_TABLE];
	struct sg_options o;
	char msg[512];
	int c, ret = EXIT_USAGE;

	sg_options_init(&o);
	sg_option_getopt_table(opts, SG_OPT_IN_ATTACH);
	while ((c = getopt_long(argc, argv, "p:vh", opts, NULL)) != -1) {
		if (c == 'h') {
			ret = show_help("attach");
			goto out;
		} else if (c == 'v') {
			sg_verbose = true;
		} else if (c == 'p' || c >= SG_OPT_GETOPT_BASE) {
			if (sg_option_set_getopt(&o, c, optarg, msg, sizeof(msg))) {
				usage_error("attach", "%s", msg);
				goto out;
			}
		} else {
			usage_error("attach", "%s", "unknown option");
			goto out;
		}
	}
	if (optind + 1 != argc) {
		usage_error("attach", "%s", "expects exactly one interface");
		goto out;
	}
	if (!sg_opt_given(&o, SG_OPT_PORTS)) {
		usage_error("attach", "%s", "--ports is required (e.g. --ports 80,443, or --ports auto)");
		goto out;
	}
	ret = sg_attach_options(argv[optind], &o);
out:
	sg_options_free(&o);
	return ret;
}

static const char detach_help[] =
	"Usage: synguard detach IFACE\n"
	"\n"
	"Detach synguard from IFACE: remove its links (which detaches the programs),\n"
	"its maps and its pins under " SG_PIN_ROOT "/IFACE. Nothing is left behind.\n"
	"\n"
	"Options:\n"
	"  -v, --verbose  libbpf debug output\n"
	"  -h, --help     this text\n"
	"\n"
	"Exit status: 0 detached, 1 runtime error (not attached, no privileges),\n"
	"2 usage error.\n"
	"\n"
	"Examples:\n"
	"  synguard detach eth0\n";

static int run_detach(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{}
	};
	int c;

	while ((c = getopt_long(argc, argv, "vh", opts, NULL)) != -1) {
		if (c == 'h')
			return show_help("detach");
		if (c == 'v')
			sg_verbose = true;
		else
			return usage_error("detach", "%s", "unknown option");
	}
	if (optind + 1 != argc)
		return usage_error("detach", "%s", "expects exactly one interface");
	if (sg_check_privileges() || sg_ensure_bpffs())
		return EXIT_RUNTIME;
	if (sg_detach(argv[optind]))
		return EXIT_RUNTIME;
	printf("synguard: detached from %s\n", argv[optind]);
	return EXIT_OK;
}

const struct command cmd_attach = { "attach", run_attach, "attach to an interface and protect ports",
				     attach_help };
const struct command cmd_detach = { "detach", run_detach, "detach from an interface, remove pins",
				     detach_help };
