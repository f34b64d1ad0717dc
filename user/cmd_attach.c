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

#include "cli.h"
#include "synguard.h"
#include "synguard_tc.skel.h"
#include "synguard_xdp.skel.h"

static const char attach_help[] =
	"Usage: synguard attach IFACE --ports LIST [options]\n"
	"\n"
	"Attach the XDP SYN-cookie stage to IFACE. SYNs to the protected ports are\n"
	"answered with cookie SYN-ACKs from XDP; only clients that return a valid\n"
	"cookie get through. Programs and maps are pinned under " SG_PIN_ROOT "/IFACE\n"
	"so protection continues after this command exits. Attaching again to the\n"
	"same interface replaces the program in place and keeps the maps.\n"
	"\n"
	"Options:\n"
	"  -p, --ports LIST     protected TCP ports: 80,443,8000-8010 (required)\n"
	"      --mss4 N         MSS announced on IPv4, 536-65495 (default: the\n"
	"                       interface MTU - 40, as the kernel announces)\n"
	"      --mss6 N         MSS announced on IPv6, 1220-65475 (default: MTU - 60)\n"
	"      --wscale N       our window scale, 0-14 (default: what this host's\n"
	"                       tcp_rmem would give)\n"
	"      --ttl N          TTL / hop limit of SYN-ACKs, 1-255 (default 64)\n"
	"      --window N       receive window in SYN-ACKs, 1-65535 (default 64240)\n"
	"      --epoch-shift N  cookie epoch = 2^N ns, 20-40 (default 36: 68.7 s;\n"
	"                       a cookie lives one to two epochs)\n"
	"      --handoff MODE   how validated clients reach the listener:\n"
	"                       local  (Linux 6.9+) our cookies, TC hands the client\n"
	"                              to the listener (bpf_sk_assign_tcp_reqsk);\n"
	"                              needs net.ipv4.tcp_syncookies != 0\n"
	"                       legacy (Linux 5.3+) kernel cookies; the kernel checks\n"
	"                              the ACK; needs net.ipv4.tcp_syncookies = 2\n"
	"                       auto   (default) local if the kernel has it\n"
	"  -v, --verbose        libbpf debug output\n"
	"  -h, --help           this text\n"
	"\n"
	"Examples:\n"
	"  synguard attach eth0 --ports 80,443\n"
	"  synguard attach eth0 --ports 22,8000-8080 --mss4 1400 --ttl 128\n"
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

static int run_attach(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "ports", required_argument, NULL, 'p' },
		{ "mss4", required_argument, NULL, '4' },
		{ "mss6", required_argument, NULL, '6' },
		{ "wscale", required_argument, NULL, 'w' },
		{ "ttl", required_argument, NULL, 't' },
		{ "window", required_argument, NULL, 'W' },
		{ "epoch-shift", required_argument, NULL, 'E' },
		{ "handoff", required_argument, NULL, 'H' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{}
	};
	enum sg_handoff handoff = SG_HANDOFF_AUTO;
	struct synguard_xdp *skel = NULL;
	struct synguard_tc *tc = NULL;
	struct sg_settings set;
	char pin_dir[PATH_MAX], msg[256];
	const char *ifname;
	unsigned long v;
	bool existed, mss4_set = false, mss6_set = false;
	int c, mode, mtu, ret = EXIT_RUNTIME;

	sg_settings_default(&set);
	while ((c = getopt_long(argc, argv, "p:vh", opts, NULL)) != -1) {
		switch (c) {
		case 'p':
			if (sg_ports_parse(optarg, set.ports, msg, sizeof(msg)))
				return usage_error("attach", "%s", msg);
			set.have_ports = true;
			break;
		case '4':
			if (parse_uint(optarg, 536, 65495, &v))
				return usage_error("attach", "--mss4 takes 536-65495, not '%s'", optarg);
			set.cfg.mss4 = v;
			mss4_set = true;
			break;
		case '6':
			if (parse_uint(optarg, 1220, 65475, &v))
				return usage_error("attach", "--mss6 takes 1220-65475, not '%s'", optarg);
			set.cfg.mss6 = v;
			mss6_set = true;
			break;
		case 'w':
			if (parse_uint(optarg, 0, 14, &v))
				return usage_error("attach", "--wscale takes 0-14, not '%s'", optarg);
			set.cfg.wscale = v;
			break;
		case 't':
			if (parse_uint(optarg, 1, 255, &v))
				return usage_error("attach", "--ttl takes 1-255, not '%s'", optarg);
			set.cfg.ttl = v;
			break;
		case 'W':
			if (parse_uint(optarg, 1, 65535, &v))
				return usage_error("attach", "--window takes 1-65535, not '%s'", optarg);
			set.cfg.synack_window = v;
			break;
		case 'E':
			if (parse_uint(optarg, SG_MIN_EPOCH_SHIFT, SG_MAX_EPOCH_SHIFT, &v))
				return usage_error("attach", "--epoch-shift takes 20-40, not '%s'", optarg);
			set.cfg.epoch_shift = v;
			break;
		case 'H':
			if (!strcmp(optarg, "local"))
				handoff = SG_HANDOFF_LOCAL;
			else if (!strcmp(optarg, "legacy"))
				handoff = SG_HANDOFF_LEGACY;
			else if (!strcmp(optarg, "auto"))
				handoff = SG_HANDOFF_AUTO;
			else
				return usage_error("attach", "--handoff takes local, legacy or auto, not '%s'",
						   optarg);
			break;
		case 'v':
			sg_verbose = true;
			break;
		case 'h':
			return show_help("attach");
		default:
			return usage_error("attach", "%s", "unknown option");
		}
	}
	if (optind + 1 != argc)
		return usage_error("attach", "%s", "expects exactly one interface");
	if (!set.have_ports)
		return usage_error("attach", "%s", "--ports is required (e.g. --ports 80,443)");
	ifname = argv[optind];
	if (strlen(ifname) >= IF_NAMESIZE || !if_nametoindex(ifname)) {
		sg_err("no such interface '%s' (see 'ip link')", ifname);
		return EXIT_RUNTIME;
	}
	/* The MSS the kernel itself would announce on this interface. */
	mtu = interface_mtu(ifname);
	if (!mss4_set && mtu >= 576)
		set.cfg.mss4 = mtu - 40 > 65495 ? 65495 : mtu - 40;
	if (!mss6_set && mtu >= 1280)
		set.cfg.mss6 = mtu - 60 > 65475 ? 65475 : mtu - 60;
	if (sg_check_privileges())
		return EXIT_RUNTIME;
	mode = sg_handoff_probe(handoff);
	if (mode < 0 || check_sysctls(mode, &set.cfg) || sg_ensure_bpffs())
		return EXIT_RUNTIME;
	sg_pin_dir(ifname, pin_dir, sizeof(pin_dir));
	if ((mkdir(SG_PIN_ROOT, 0700) && errno != EEXIST)) {
		sg_err("cannot create %s: %s", SG_PIN_ROOT, strerror(errno));
		return EXIT_RUNTIME;
	}
	existed = mkdir(pin_dir, 0700) && errno == EEXIST;
	if (!existed && errno && access(pin_dir, F_OK)) {
		sg_err("cannot create %s: %s", pin_dir, strerror(errno));
		return EXIT_RUNTIME;
	}

	/* TC first: by the time XDP passes cookie ACKs, the hand-off is there. */
	skel = sg_load_mode(pin_dir, mode);
	if (!skel || sg_configure(skel, &set) ||
	    (mode == SG_HANDOFF_LOCAL &&
	     (!(tc = sg_load_tc(skel)) || sg_attach_tc(tc, ifname, pin_dir))) ||
	    sg_attach(skel, ifname, pin_dir, 0)) {
		if (!existed)
			sg_detach(ifname); /* leave nothing half-made behind */
		goto out;
	}
	sg_ports_format(set.ports, msg, sizeof(msg));
	printf("synguard: %s %s (hand-off %s), protecting TCP ports %s\n",
	       existed ? "re-attached to" : "attached to", ifname, sg_handoff_name(mode), msg);
	ret = EXIT_OK;
out:
	synguard_tc__destroy(tc);
	synguard_xdp__destroy(skel);
	return ret;
}

static const char detach_help[] =
	"Usage: synguard detach IFACE\n"
	"\n"
	"Detach synguard from IFACE and remove its pins and maps.\n"
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
