// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* synguard status: what is attached where, how, with which settings. */
#include <errno.h>
#include <getopt.h>
#include <net/if.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/btf.h>
#include <bpf/libbpf.h>

#include "cli.h"
#include "metrics.h"
#include "policy.h"
#include "synguard.h"

#ifndef SYNGUARD_VERSION
#define SYNGUARD_VERSION "dev"
#endif

static const char status_help[] =
	"Usage: synguard status [IFACE] [--json]\n"
	"\n"
	"Show what synguard is attached to in this network namespace (every\n"
	"interface with pins under " SG_PIN_ROOT " that exists here, or IFACE):\n"
	"XDP mode and program, hand-off mode, the configuration in force, the\n"
	"protected ports and prefixes, the allow and deny lists, the occupancy of\n"
	"every map; and what the kernel supports.\n"
	"\n"
	"Options:\n"
	"  -j, --json   one JSON object (field names: synguard(8), STATUS JSON)\n"
	"  -v, --verbose  libbpf debug output\n"
	"  -h, --help   this text\n"
	"\n"
	"Exit status: 0 ok (also when nothing is attached), 1 runtime error (IFACE\n"
	"not attached, no privileges), 2 usage error.\n"
	"\n"
	"Examples:\n"
	"  synguard status\n"
	"  synguard status eth0 --json | jq .interfaces[0].xdp_mode\n";

struct features {
	bool kfunc_reqsk, helper_gen_syncookie;
	uint64_t syncookies, timestamps;
	bool have_syncookies, have_timestamps;
	char release[65];
};

static void probe_features(struct features *ft)
{
	struct btf *vmlinux = btf__load_vmlinux_btf();
	struct utsname u;

	memset(ft, 0, sizeof(*ft));
	if (vmlinux) {
		ft->kfunc_reqsk = btf__find_by_name_kind(vmlinux, "bpf_sk_assign_tcp_reqsk", BTF_KIND_FUNC) >= 0;
		btf__free(vmlinux);
	}
	ft->helper_gen_syncookie =
		libbpf_probe_bpf_helper(BPF_PROG_TYPE_XDP, BPF_FUNC_tcp_gen_syncookie, NULL) > 0;
	ft->have_syncookies = !sg_read_sysctl_u64("/proc/sys/net/ipv4/tcp_syncookies", 0, &ft->syncookies);
	ft->have_timestamps = !sg_read_sysctl_u64("/proc/sys/net/ipv4/tcp_timestamps", 0, &ft->timestamps);
	if (!uname(&u))
		snprintf(ft->release, sizeof(ft->release), "%s", u.release);
}

struct iface_status {
	char ifname[IF_NAMESIZE];
	int ifindex;
	bool attached;
	const char *xdp_mode;
	uint32_t xdp_link_id, xdp_prog_id, tc_link_id;
	char prog_name[BPF_OBJ_NAME_LEN];
	bool local;
	bool have_cfg;
	struct sg_config cfg;
	char ports[8192];
	int n_ports;
	struct sg_cidr_list list[SG_LIST_MAX];
	bool secret_installed;
	struct sg_map_usage *maps;
	int n_maps;
};

/* id and program of a pinned link; 0 when there is none. */
static uint32_t link_ids(const char *dir, const char *pin, uint32_t *prog_id)
{
	struct bpf_link_info info = {};
	uint32_t len = sizeof(info);
	char path[PATH_MAX + 32];
	int fd;

	*prog_id = 0;
	snprintf(path, sizeof(path), "%s/%s", dir, pin);
	fd = bpf_obj_get(path);
	if (fd < 0)
		return 0;
	if (bpf_obj_get_info_by_fd(fd, &info, &len))
		info.id = 0;
	close(fd);
	*prog_id = info.prog_id;
	return info.id;
}

static void prog_name(uint32_t id, char *buf, size_t len)
{
	struct bpf_prog_info info = {};
	uint32_t ilen = sizeof(info);
	int fd = bpf_prog_get_fd_by_id(id);

	buf[0] = 0;
	if (fd < 0)
		return;
	if (!bpf_obj_get_info_by_fd(fd, &info, &ilen))
		snprintf(buf, len, "%s", info.name);
	close(fd);
}

static int read_one(const char *ifname, const char *map, void *value)
{
	uint32_t zero = 0;
	int fd = sg_pinned_map_fd(ifname, map), err;

	if (fd < 0)
		return -1;
	err = bpf_map_lookup_elem(fd, &zero, value);
	close(fd);
	return err;
}

static int collect(const char *ifname, int ifindex, struct iface_status *st)
{
	struct sg_policy_maps pm;
	struct sg_secret secret;
	uint64_t ports[SG_PORT_WORDS] = {};
	char dir[PATH_MAX];
	uint32_t tc_prog;
	int fd;

	memset(st, 0, sizeof(*st));
	snprintf(st->ifname, sizeof(st->ifname), "%s", ifname);
	st->ifindex = ifindex;
	sg_pin_dir(ifname, dir, sizeof(dir));
	st->xdp_link_id = link_ids(dir, "link_xdp", &st->xdp_prog_id);
	st->tc_link_id = link_ids(dir, "link_tc", &tc_prog);
	st->local = st->tc_link_id != 0;
	st->xdp_mode = sg_xdp_mode_of(ifindex, st->xdp_prog_id);
	st->attached = strcmp(st->xdp_mode, "none") != 0;
	if (st->xdp_prog_id)
		prog_name(st->xdp_prog_id, st->prog_name, sizeof(st->prog_name));
	st->have_cfg = !read_one(ifname, "sg_config", &st->cfg);
	st->secret_installed = !read_one(ifname, "sg_secret", &secret) && secret.installed;
	fd = sg_pinned_map_fd(ifname, "sg_ports");
	if (fd >= 0) {
		for (uint32_t i = 0; i < SG_PORT_WORDS; i++)
			if (bpf_map_lookup_elem(fd, &i, &ports[i]))
				ports[i] = 0;
		close(fd);
		for (int i = 0; i < SG_PORT_WORDS; i++)
			st->n_ports += __builtin_popcountll(ports[i]);
		sg_ports_format(ports, st->ports, sizeof(st->ports));
	}
	if (sg_policy_maps_open(ifname, &pm) == 0) {
		for (int l = 0; l < SG_LIST_MAX; l++)
			sg_policy_read(&pm, l, &st->list[l]);
		sg_policy_maps_close(&pm);
	}
	st->n_maps = sg_map_usage_read(ifname, &st->maps);
	if (st->n_maps < 0)
		st->n_maps = 0;
	return 0;
}

static void free_status(struct iface_status *st)
{
	for (int l = 0; l < SG_LIST_MAX; l++)
		sg_cidr_list_free(&st->list[l]);
	free(st->maps);
}

static void json_str(const char *s)
{
	putchar('"');
	for (; *s; s++) {
		if (*s == '"' || *s == '\\')
			putchar('\\');
		if ((unsigned char)*s < 0x20)
			printf("\\u%04x", *s);
		else
			putchar(*s);
	}
	putchar('"');
}

static void json_list(const char *key, const struct sg_cidr_list *l)
{
	char s[SG_CIDR_STRLEN];

	printf(",\"%s\":[", key);
	for (size_t i = 0; i < l->n; i++) {
		sg_cidr_format(&l->v[i], s, sizeof(s));
		printf("%s\"%s\"", i ? "," : "", s);
	}
	putchar(']');
}

static void print_json_iface(const struct iface_status *st)
{
	const struct sg_config *c = &st->cfg;

	printf("{\"ifname\":");
	json_str(st->ifname);
	printf(",\"ifindex\":%d,\"attached\":%s,\"xdp_mode\":\"%s\",\"xdp_prog_id\":%u,"
	       "\"xdp_prog_name\":\"%s\",\"xdp_link_id\":%u,\"handoff\":\"%s\",\"tc_link_id\":%u",
	       st->ifindex, st->attached ? "true" : "false", st->xdp_mode, st->xdp_prog_id,
	       st->prog_name, st->xdp_link_id, st->local ? "local" : "legacy", st->tc_link_id);
	printf(",\"ports\":\"%s\",\"ports_count\":%d", st->ports, st->n_ports);
	json_list("prefixes", &st->list[SG_LIST_DST]);
	json_list("allow", &st->list[SG_LIST_ALLOW]);
	json_list("deny", &st->list[SG_LIST_DENY]);
	printf(",\"secret_installed\":%s", st->secret_installed ? "true" : "false");
	if (st->have_cfg)
		printf(",\"config\":{\"mss4\":%u,\"mss6\":%u,\"window\":%u,\"wscale\":%u,\"ttl\":%u,"
		       "\"epoch_shift\":%u,\"msl\":%u,\"idle_timeout\":%u,\"syn_rate\":%u,"
		       "\"syn_burst\":%u,\"rate_prefix4\":%u,\"rate_prefix6\":%u,\"policy_flags\":%u,"
		       "\"legacy_timestamps\":%s}",
		       c->mss4, c->mss6, c->synack_window, c->wscale, c->ttl, c->epoch_shift, c->msl_s,
		       c->idle_timeout_s, c->syn_rate, c->syn_burst, c->rate_prefix4, c->rate_prefix6,
		       c->policy_flags, c->flags & SG_CFG_LEGACY_TS ? "true" : "false");
	printf(",\"maps\":[");
	for (int i = 0; i < st->n_maps; i++)
		printf("%s{\"name\":\"%s\",\"type\":\"%s\",\"id\":%u,\"entries\":%u,\"max_entries\":%u}",
		       i ? "," : "", st->maps[i].name, sg_map_type_name(st->maps[i].type), st->maps[i].id,
		       st->maps[i].entries, st->maps[i].max_entries);
	printf("]}");
}

static void print_text_list(const char *title, const struct sg_cidr_list *l, const char *empty)
{
	char s[SG_CIDR_STRLEN];

	printf("  %-12s", title);
	if (!l->n)
		printf("%s", empty);
	for (size_t i = 0; i < l->n; i++) {
		sg_cidr_format(&l->v[i], s, sizeof(s));
		printf("%s%s", i ? ", " : "", s);
	}
	putchar('\n');
}

static void print_text_iface(const struct iface_status *st)
{
	const struct sg_config *c = &st->cfg;

	printf("\n%s (ifindex %d): %s\n", st->ifname, st->ifindex,
	       st->attached ? "attached"
			    : "NOT attached: the pinned link is not on this interface (re-created "
			      "interface, or another namespace); 'synguard attach' again");
	printf("  %-12s%s, program %u (%s), link %u\n", "XDP:", st->xdp_mode, st->xdp_prog_id,
	       st->prog_name[0] ? st->prog_name : "?", st->xdp_link_id);
	if (st->local)
		printf("  %-12slocal (TC ingress link %u, bpf_sk_assign_tcp_reqsk)\n", "hand-off:",
		       st->tc_link_id);
	else
		printf("  %-12slegacy (kernel cookies)\n", "hand-off:");
	printf("  %-12s%s\n", "ports:", st->n_ports ? st->ports : "none");
	print_text_list("prefixes:", &st->list[SG_LIST_DST], "every local destination");
	print_text_list("allow:", &st->list[SG_LIST_ALLOW], "none");
	print_text_list("deny:", &st->list[SG_LIST_DENY], "none");
	if (st->have_cfg) {
		printf("  %-12smss4 %u, mss6 %u, window %u, wscale %u, ttl %u, epoch 2^%u ns\n", "config:",
		       c->mss4, c->mss6, c->synack_window, c->wscale, c->ttl, sg_epoch_shift(c->epoch_shift));
		printf("  %-12smsl %u s, idle timeout %u s\n", "", c->msl_s, c->idle_timeout_s);
		if (c->syn_rate)
			printf("  %-12ssyn-rate %u/s, burst %u, per /%u (IPv4) and /%u (IPv6)\n", "",
			       c->syn_rate, c->syn_burst, c->rate_prefix4, c->rate_prefix6);
		else
			printf("  %-12ssyn-rate unlimited\n", "");
	}
	printf("  %-12s%s\n", "secret:", st->secret_installed ? "installed" : "NOT installed (SYNs dropped)");
	printf("  %-12s%-14s %-14s %10s %12s\n", "maps:", "name", "type", "entries", "max");
	for (int i = 0; i < st->n_maps; i++)
		printf("  %-12s%-14s %-14s %10u %12u\n", "", st->maps[i].name,
		       sg_map_type_name(st->maps[i].type), st->maps[i].entries, st->maps[i].max_entries);
}

static int run_status(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{}
	};
	char (*names)[IF_NAMESIZE] = NULL;
	struct features ft;
	bool json = false, first = true;
	int c, n, shown = 0, elsewhere = 0, ret = EXIT_OK;

	while ((c = getopt_long(argc, argv, "jvh", opts, NULL)) != -1) {
		if (c == 'h')
			return show_help("status");
		else if (c == 'j')
			json = true;
		else if (c == 'v')
			sg_verbose = true;
		else
			return usage_error("status", "%s", "unknown option");
	}
	if (argc - optind > 1)
		return usage_error("status", "%s", "expects at most one interface");
	if (sg_check_privileges() || sg_ensure_bpffs())
		return EXIT_RUNTIME;
	if (optind < argc) {
		const char *ifname = argv[optind];
		char dir[PATH_MAX];

		if (strlen(ifname) >= IF_NAMESIZE || !if_nametoindex(ifname)) {
			sg_err("no such interface '%s' in this network namespace (see 'ip link')", ifname);
			return EXIT_RUNTIME;
		}
		sg_pin_dir(ifname, dir, sizeof(dir));
		if (access(dir, F_OK)) {
			sg_err("synguard is not attached to %s (no %s); attach with 'synguard attach %s "
			       "--ports LIST'", ifname, dir, ifname);
			return EXIT_RUNTIME;
		}
		names = calloc(1, sizeof(*names));
		if (!names)
			return EXIT_RUNTIME;
		strcpy(names[0], ifname);
		n = 1;
	} else {
		n = sg_pinned_ifaces(&names);
		if (n < 0) {
			sg_err("cannot list %s: %s", SG_PIN_ROOT, strerror(-n));
			return EXIT_RUNTIME;
		}
	}

	probe_features(&ft);
	if (json) {
		printf("{\"version\":\"%s\",\"kernel\":{\"release\":", SYNGUARD_VERSION);
		json_str(ft.release);
		printf(",\"kfunc_bpf_sk_assign_tcp_reqsk\":%s,\"helper_bpf_tcp_gen_syncookie\":%s,"
		       "\"tcp_syncookies\":%lld,\"tcp_timestamps\":%lld},\"interfaces\":[",
		       ft.kfunc_reqsk ? "true" : "false", ft.helper_gen_syncookie ? "true" : "false",
		       ft.have_syncookies ? (long long)ft.syncookies : -1LL,
		       ft.have_timestamps ? (long long)ft.timestamps : -1LL);
	} else {
		printf("synguard %s, libbpf %s, Linux %s\n", SYNGUARD_VERSION, libbpf_version_string(),
		       ft.release);
		printf("kernel: bpf_sk_assign_tcp_reqsk (local hand-off) %s, bpf_tcp_gen_syncookie "
		       "(legacy hand-off) %s\n", ft.kfunc_reqsk ? "yes" : "NO",
		       ft.helper_gen_syncookie ? "yes" : "NO");
		printf("this namespace: net.ipv4.tcp_syncookies = %lld, net.ipv4.tcp_timestamps = %lld\n",
		       ft.have_syncookies ? (long long)ft.syncookies : -1LL,
		       ft.have_timestamps ? (long long)ft.timestamps : -1LL);
	}
	for (int i = 0; i < n; i++) {
		struct iface_status *st;
		int ifindex = if_nametoindex(names[i]);

		if (!ifindex) {
			elsewhere++;
			continue;
		}
		st = malloc(sizeof(*st));
		if (!st) {
			ret = EXIT_RUNTIME;
			break;
		}
		collect(names[i], ifindex, st);
		if (json) {
			if (!first)
				putchar(',');
			print_json_iface(st);
		} else {
			print_text_iface(st);
		}
		first = false;
		shown++;
		free_status(st);
		free(st);
	}
	if (json) {
		printf("],\"elsewhere\":[");
		for (int i = 0, k = 0; i < n; i++)
			if (!if_nametoindex(names[i])) {
				printf("%s", k++ ? "," : "");
				json_str(names[i]);
			}
		printf("]}\n");
	} else {
		if (!shown)
			printf("\nsynguard is not attached to any interface in this network namespace\n");
		if (elsewhere) {
			printf("\npinned for interfaces not in this network namespace:");
			for (int i = 0; i < n; i++)
				if (!if_nametoindex(names[i]))
					printf(" %s", names[i]);
			printf("\n(run 'synguard status' in their namespace: nsenter --net=/run/netns/NAME)\n");
		}
	}
	sg_names_free(names);
	return ret;
}

const struct command cmd_status = { "status", run_status, "show attachments, modes, settings, maps",
				     status_help };
