// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* Load, configure, attach and detach the XDP stage; pins under SG_PIN_ROOT. */
#include <dirent.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include <bpf/btf.h>

#include "synguard.h"
#include "synguard_egress.skel.h"
#include "synguard_tc.skel.h"
#include "synguard_xdp.skel.h"

#define XDP_LINK_PIN "link_xdp"
#define TC_LINK_PIN "link_tc"
#define EGRESS_LINK_PIN "link_egress"
#ifndef BPF_TCX_INGRESS
#define BPF_TCX_INGRESS 46 /* Linux 6.6; Debian 12's uapi headers predate it */
#define BPF_TCX_EGRESS 47
#endif

static __u32 flow_table_size = SG_DEFAULT_FLOW_TABLE_SIZE;
static bool xdp_frags = true;

void sg_set_flow_table_size(__u32 entries)
{
	flow_table_size = entries;
}

void sg_set_xdp_frags(bool on)
{
	xdp_frags = on;
}

/* The XDP entry point in use (bpf/synguard_xdp.bpf.c: two of them). */
static struct bpf_program *xdp_prog(struct synguard_xdp *skel)
{
	return xdp_frags ? skel->progs.synguard_xdp : skel->progs.synguard_xdp_nf;
}

int sg_xdp_prog_fd(struct synguard_xdp *skel)
{
	return bpf_program__fd(xdp_prog(skel));
}

/* The kernel's own choice of receive window scale for this host's buffers
 * (tcp_select_initial_window): what the server would announce itself. */
static uint8_t host_wscale(void)
{
	uint64_t rmem = 0, rmem_max = 0, space;
	uint8_t ws = 0;

	if (sg_read_sysctl_u64("/proc/sys/net/ipv4/tcp_rmem", 2, &rmem))
		return SG_DEFAULT_WSCALE;
	sg_read_sysctl_u64("/proc/sys/net/core/rmem_max", 0, &rmem_max);
	space = rmem > rmem_max ? rmem : rmem_max;
	while (space > 0xffff && ws < 14) {
		space >>= 1;
		ws++;
	}
	return ws;
}

void sg_settings_default(struct sg_settings *s)
{
	memset(s, 0, sizeof(*s));
	s->cfg.mss4 = SG_DEFAULT_MSS4;
	s->cfg.mss6 = SG_DEFAULT_MSS6;
	s->cfg.synack_window = SG_DEFAULT_SYNACK_WINDOW;
	s->cfg.wscale = host_wscale();
	s->cfg.ttl = SG_DEFAULT_TTL;
	s->cfg.epoch_shift = SG_DEFAULT_EPOCH_SHIFT;
	s->cfg.msl_s = SG_DEFAULT_MSL_S;
	s->cfg.idle_timeout_s = SG_DEFAULT_IDLE_TIMEOUT_S;
	s->cfg.rate_prefix4 = SG_DEFAULT_RATE_PREFIX4;
	s->cfg.rate_prefix6 = SG_DEFAULT_RATE_PREFIX6;
}

const char *sg_handoff_name(enum sg_handoff mode)
{
	return mode == SG_HANDOFF_LOCAL ? "local" : mode == SG_HANDOFF_LEGACY ? "legacy" : "auto";
}

static bool kernel_has_kfunc(const char *name)
{
	struct btf *vmlinux = btf__load_vmlinux_btf();
	bool found;

	if (!vmlinux)
		return false;
	found = btf__find_by_name_kind(vmlinux, name, BTF_KIND_FUNC) >= 0;
	btf__free(vmlinux);
	return found;
}

int sg_handoff_probe(enum sg_handoff want)
{
	bool local = kernel_has_kfunc("bpf_sk_assign_tcp_reqsk");
	bool legacy = libbpf_probe_bpf_helper(BPF_PROG_TYPE_XDP, BPF_FUNC_tcp_gen_syncookie, NULL) > 0;

	if (want == SG_HANDOFF_LOCAL && !local) {
		sg_err("--handoff local needs the kfunc bpf_sk_assign_tcp_reqsk (Linux 6.9+, "
		       "CONFIG_SYN_COOKIES), which this kernel lacks; use --handoff legacy");
		return -1;
	}
	if (want == SG_HANDOFF_LEGACY && !legacy) {
		sg_err("--handoff legacy needs the XDP helper bpf_tcp_gen_syncookie (Linux 5.3+), "
		       "which this kernel lacks");
		return -1;
	}
	if (want != SG_HANDOFF_AUTO)
		return want;
	if (local)
		return SG_HANDOFF_LOCAL;
	if (legacy)
		return SG_HANDOFF_LEGACY;
	sg_err("this kernel has neither bpf_sk_assign_tcp_reqsk (Linux 6.9+) nor "
	       "bpf_tcp_gen_syncookie (Linux 5.3+): synguard cannot hand clients over");
	return -1;
}

/* libbpf reuses a map already pinned at the path, else pins the new one. */
static int set_pin_paths(struct bpf_object *obj, const char *pin_dir)
{
	struct bpf_map *map;
	char path[PATH_MAX];

	bpf_object__for_each_map(map, obj) {
		if (!strchr(bpf_map__name(map), '.')) { /* not .rodata & co */
			snprintf(path, sizeof(path), "%s/%s", pin_dir, bpf_map__name(map));
			if (bpf_map__set_pin_path(map, path)) {
				sg_err("cannot set pin path %s", path);
				return -1;
			}
		}
	}
	return 0;
}

struct synguard_xdp *sg_load(const char *pin_dir)
{
	return sg_load_mode(pin_dir, SG_HANDOFF_LOCAL);
}

struct synguard_xdp *sg_load_mode(const char *pin_dir, enum sg_handoff mode)
{
	struct synguard_xdp *skel = synguard_xdp__open();
	int err;

	if (!skel) {
		sg_err("cannot open the BPF object: %s", strerror(errno));
		return NULL;
	}
	skel->rodata->legacy_mode = mode == SG_HANDOFF_LEGACY;
	bpf_program__set_autoload(skel->progs.synguard_xdp, xdp_frags);
	bpf_program__set_autoload(skel->progs.synguard_xdp_nf, !xdp_frags);
	if (bpf_map__set_max_entries(skel->maps.sg_flows, flow_table_size)) {
		sg_err("cannot size the flow table to %u entries", flow_table_size);
		goto fail;
	}
	if (pin_dir && set_pin_paths(skel->obj, pin_dir))
		goto fail;
	err = synguard_xdp__load(skel);
	if (err) {
		sg_err("loading the XDP program failed: %s. The kernel said (last lines; -v for all):",
		       strerror(-err));
		sg_libbpf_log_dump_tail(12);
		goto fail;
	}
	return skel;
fail:
	synguard_xdp__destroy(skel);
	return NULL;
}

/* Make every map of obj the XDP object's map of the same name: one config,
 * one flow table, one set of counters for all stages. */
static int share_maps(struct bpf_object *obj, struct synguard_xdp *xdp)
{
	struct bpf_map *map;

	bpf_object__for_each_map(map, obj) {
		struct bpf_map *twin = bpf_object__find_map_by_name(xdp->obj, bpf_map__name(map));

		if (twin && bpf_map__reuse_fd(map, bpf_map__fd(twin))) {
			sg_err("cannot share map %s between the stages", bpf_map__name(map));
			return -1;
		}
	}
	return 0;
}

struct synguard_tc *sg_load_tc(struct synguard_xdp *xdp)
{
	struct synguard_tc *tc = synguard_tc__open();
	int err;

	if (!tc) {
		sg_err("cannot open the TC BPF object: %s", strerror(errno));
		return NULL;
	}
	if (share_maps(tc->obj, xdp))
		goto fail;
	err = synguard_tc__load(tc);
	if (err) {
		sg_err("loading the TC hand-off program failed: %s. The kernel said (last lines; -v "
		       "for all):", strerror(-err));
		sg_libbpf_log_dump_tail(12);
		goto fail;
	}
	return tc;
fail:
	synguard_tc__destroy(tc);
	return NULL;
}

int sg_configure(struct synguard_xdp *skel, const struct sg_settings *s)
{
	int secret_fd = bpf_map__fd(skel->maps.sg_secret);
	struct sg_secret cur;
	uint32_t zero = 0;
	uint64_t key[2];
	int err;

	if (bpf_map_update_elem(bpf_map__fd(skel->maps.sg_config), &zero, &s->cfg, BPF_ANY)) {
		sg_err("cannot write the configuration map: %s", strerror(errno));
		return -1;
	}
	if (s->have_ports && (err = sg_ports_write(bpf_map__fd(skel->maps.sg_ports), s->ports))) {
		sg_err("cannot write the port map: %s", strerror(-err));
		return -1;
	}
	if (bpf_map_lookup_elem(secret_fd, &zero, &cur) == 0 && cur.installed)
		return 0; /* keep the key live cookies were made with */
	if (sg_key_random(key) ||
	    (err = sg_secret_install(secret_fd, key, sg_epoch_now(s->cfg.epoch_shift)))) {
		sg_err("cannot install the cookie secret");
		return -1;
	}
	return 0;
}

/* Attach prog_fd with a tcx link (Linux 6.6+; coexists with other TC
 * programs), pinned at pin_dir/pin; if that link exists, swap the program. */
static int attach_tcx(int prog_fd, const char *ifname, const char *pin_dir, const char *pin,
		      enum bpf_attach_type where, const char *what)
{
	int ifindex = if_nametoindex(ifname);
	char link_path[PATH_MAX];
	int fd, err;

	if (!ifindex) {
		sg_err("no such interface '%s' (see 'ip link')", ifname);
		return -1;
	}
	snprintf(link_path, sizeof(link_path), "%s/%s", pin_dir, pin);
	fd = bpf_obj_get(link_path);
	if (fd >= 0) {
		err = bpf_link_update(fd, prog_fd, NULL) ? -errno : 0;
		close(fd);
		if (err)
			sg_err("cannot replace the %s program on %s: %s", what, ifname, strerror(-err));
		return err ? -1 : 0;
	}
	fd = bpf_link_create(prog_fd, ifindex, where, NULL);
	if (fd < 0) {
		sg_err("cannot attach the %s program to %s: %s", what, ifname, strerror(errno));
		return -1;
	}
	/* The pin keeps it attached after we exit. */
	err = bpf_obj_pin(fd, link_path) ? -errno : 0;
	close(fd);
	if (err) {
		sg_err("cannot pin the %s link at %s: %s", what, link_path, strerror(-err));
		return -1;
	}
	return 0;
}

int sg_attach_tc(struct synguard_tc *tc, const char *ifname, const char *pin_dir)
{
	return attach_tcx(bpf_program__fd(tc->progs.synguard_tc), ifname, pin_dir, TC_LINK_PIN,
			  BPF_TCX_INGRESS, "TC hand-off");
}

struct synguard_egress *sg_load_egress(struct synguard_xdp *xdp)
{
	struct synguard_egress *eg = synguard_egress__open();
	int err;

	if (!eg) {
		sg_err("cannot open the TC egress BPF object: %s", strerror(errno));
		return NULL;
	}
	if (share_maps(eg->obj, xdp))
		goto fail;
	err = synguard_egress__load(eg);
	if (err) {
		sg_err("loading the TC egress program failed: %s. The kernel said (last lines; -v for "
		       "all):", strerror(-err));
		sg_libbpf_log_dump_tail(12);
		goto fail;
	}
	return eg;
fail:
	synguard_egress__destroy(eg);
	return NULL;
}

/* The flow table's server-to-client half (TC egress), every mode. */
static int attach_egress(struct synguard_xdp *xdp, const char *ifname, const char *pin_dir)
{
	struct synguard_egress *eg = sg_load_egress(xdp);
	int err;

	if (!eg)
		return -1;
	err = attach_tcx(bpf_program__fd(eg->progs.synguard_egress), ifname, pin_dir, EGRESS_LINK_PIN,
			 BPF_TCX_EGRESS, "TC egress");
	synguard_egress__destroy(eg);
	return err;
}

/* Connections that predate this attach: tell the flow table, so SYNs reusing
 * their tuples go to the kernel (bpf/synguard_xdp.bpf.c handle_syn skips the
 * socket lookup when a listener is known). */
static void learn_kernel_connections(struct synguard_xdp *skel)
{
	uint64_t *ports = calloc(SG_PORT_WORDS, sizeof(*ports));
	struct sg_config cfg;
	__u32 zero = 0;

	if (!ports)
		return;
	if (bpf_map_lookup_elem(bpf_map__fd(skel->maps.sg_config), &zero, &cfg) == 0) {
		for (__u32 i = 0; i < SG_PORT_WORDS; i++)
			bpf_map_lookup_elem(bpf_map__fd(skel->maps.sg_ports), &i, &ports[i]);
		sg_flows_learn_kernel(bpf_map__fd(skel->maps.sg_flows), ports, &cfg);
	}
	free(ports);
}

int sg_attach(struct synguard_xdp *skel, const char *ifname, const char *pin_dir, __u32 xdp_flags)
{
	int ifindex = if_nametoindex(ifname), prog_fd = sg_xdp_prog_fd(skel);
	LIBBPF_OPTS(bpf_link_create_opts, opts, .flags = xdp_flags);
	char link_path[PATH_MAX];
	int fd, err;

	if (!ifindex) {
		sg_err("no such interface '%s' (see 'ip link')", ifname);
		return -1;
	}
	/* Egress first: by the time XDP admits a flow, both halves track it. */
	if (attach_egress(skel, ifname, pin_dir))
		return -1;
	snprintf(link_path, sizeof(link_path), "%s/%s", pin_dir, XDP_LINK_PIN);
	fd = bpf_obj_get(link_path);
	if (fd >= 0) {
		/* Already attached by us: swap the program in place, keep the maps. */
		err = bpf_link_update(fd, prog_fd, NULL) ? -errno : 0;
		close(fd);
		if (err)
			sg_err("cannot replace the program on %s: %s", ifname, strerror(-err));
		return err ? -1 : 0;
	}
	learn_kernel_connections(skel);
	fd = bpf_link_create(prog_fd, ifindex, BPF_XDP, &opts);
	if (fd < 0) {
		err = -errno;
		if (err == -EBUSY || err == -EEXIST)
			sg_err("%s already has an XDP program that synguard did not attach; remove it "
			       "first (ip link set dev %s xdp off)", ifname, ifname);
		else
			sg_err("cannot attach XDP to %s: %s", ifname, strerror(-err));
		return -1;
	}
	/* The pin keeps the program attached after we exit. */
	err = bpf_obj_pin(fd, link_path) ? -errno : 0;
	close(fd);
	if (err) {
		sg_err("cannot pin the XDP link at %s: %s", link_path, strerror(-err));
		return -1;
	}
	return 0;
}

int sg_detach(const char *ifname)
{
	char dir[PATH_MAX], path[PATH_MAX + 256];
	struct dirent *de;
	int failed = 0;
	DIR *d;

	if (sg_pin_dir(ifname, dir, sizeof(dir)))
		return -1;
	d = opendir(dir);
	if (!d) {
		sg_err("synguard is not attached to %s (no %s)", ifname, dir);
		return -1;
	}
	/* Unpinning the link detaches the program; unpinning maps frees them. */
	while ((de = readdir(d))) {
		if (de->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
		if (unlink(path)) {
			sg_err("cannot remove %s: %s", path, strerror(errno));
			failed = 1;
		}
	}
	closedir(d);
	if (rmdir(dir)) {
		sg_err("cannot remove %s: %s", dir, strerror(errno));
		failed = 1;
	}
	return failed ? -1 : 0;
}

int sg_pinned_map_fd(const char *ifname, const char *map_name)
{
	char path[PATH_MAX + 64], dir[PATH_MAX];
	int fd;

	if (sg_pin_dir(ifname, dir, sizeof(dir)))
		return -1;
	snprintf(path, sizeof(path), "%s/%s", dir, map_name);
	fd = bpf_obj_get(path);
	if (fd < 0)
		sg_err("synguard is not attached to %s (cannot open %s: %s)", ifname, path, strerror(errno));
	return fd;
}
