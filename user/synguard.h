/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/* The userspace library behind the CLI, the test harness and the benchmarks. */
#ifndef SYNGUARD_USER_H
#define SYNGUARD_USER_H

#include <net/if.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <limits.h>

#include "synguard/abi.h"

struct synguard_xdp;
struct synguard_tc;
struct synguard_egress;

/* How a validated client reaches the listener (design.md, "Hand-off modes"). */
enum sg_handoff {
	SG_HANDOFF_AUTO,
	SG_HANDOFF_LOCAL,  /* our cookies + TC bpf_sk_assign_tcp_reqsk (6.9+) */
	SG_HANDOFF_LEGACY, /* kernel cookies via bpf_tcp_gen_syncookie (5.3+) */
};

/* ---- util.c ---- */
extern bool sg_verbose;
void sg_err(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void sg_libbpf_log_setup(void);	     /* captures libbpf output; -v prints it */
void sg_libbpf_log_dump_tail(int n); /* last n captured lines (verifier log) */
int sg_check_privileges(void);	     /* 0, or -1 with a message */
int sg_ensure_bpffs(void);	     /* mounts bpffs on /sys/fs/bpf if needed */
int sg_pin_dir(const char *ifname, char *buf, size_t len);
int sg_read_sysctl_u64(const char *path, int index, uint64_t *out);

/* ---- ports.c ---- */
/* "80,443,8000-8010" into a bitmap. Returns 0, or -1 with msg filled in. */
int sg_ports_parse(const char *list, uint64_t bitmap[SG_PORT_WORDS], char *msg, size_t msglen);
int sg_ports_write(int map_fd, const uint64_t bitmap[SG_PORT_WORDS]);
int sg_ports_format(const uint64_t bitmap[SG_PORT_WORDS], char *buf, size_t len);

/* ---- secret.c ---- */
uint32_t sg_epoch_now(unsigned int epoch_shift); /* CLOCK_TAI, as the XDP side */
int sg_key_random(uint64_t key[2]);
/* First key: in force for every live epoch. */
int sg_secret_install(int map_fd, const uint64_t key[2], uint32_t now_epoch);
/* Rotate: `key` is used from two epochs on; the old one stays valid for the
 * cookies of this epoch and the next. -EAGAIN if the previous rotation is
 * still settling (it must have taken effect at least one full epoch ago):
 * rotations are at least three epochs apart. */
int sg_secret_rotate(int map_fd, const uint64_t key[2], uint32_t now_epoch);

/* ---- stats.c ---- */
extern const char *const sg_counter_names[SG_CNT_MAX];
int sg_stats_read(int map_fd, uint64_t out[SG_CNT_MAX]);
void sg_stats_print_text(FILE *f, const char *ifname, const uint64_t c[SG_CNT_MAX]);
void sg_stats_print_json(FILE *f, const char *ifname, const uint64_t c[SG_CNT_MAX]);

/* ---- flows.c: the flow table (struct sg_flow_key -> struct sg_flow) ---- */
const char *sg_state_name(enum sg_state st);
uint64_t sg_flow_clock_ns(void); /* the data path's clock (monotonic, coarse) */
typedef int (*sg_flow_cb)(const struct sg_flow_key *k, const struct sg_flow *f, void *arg);
/* Calls cb for each entry; a non-zero return stops the walk and is returned. */
int sg_flows_foreach(int fd, sg_flow_cb cb, void *arg);
struct sg_flow_gauges {
	uint64_t per_state[SG_ST_MAX];
	uint64_t total;
	uint64_t max;		/* the table's max_entries */
};
int sg_flows_gauges(int fd, struct sg_flow_gauges *g);
/* Empties the table (tests, which judge frames without state). */
void sg_flows_clear(int fd);
/* Deletes expired entries; returns how many, or -errno. */
long sg_flows_sweep(int fd, const struct sg_config *cfg);
/* Enters the kernel's connections on protected ports (this network
 * namespace: established, closing, TIME_WAIT) into the table, so a SYN
 * reusing such a tuple reaches the kernel even when the table is new.
 * Returns how many were learned. */
long sg_flows_learn_kernel(int flows_fd, const uint64_t ports[SG_PORT_WORDS], const struct sg_config *cfg);

/* ---- loader.c ---- */
struct sg_settings {
	struct sg_config cfg;
	uint64_t ports[SG_PORT_WORDS];
	bool have_ports;
};
void sg_settings_default(struct sg_settings *s);

/* Open and load the XDP object. With pin_dir, maps pinned there are reused
 * (and new ones pinned there); without, the maps are private (tests). */
struct synguard_xdp *sg_load(const char *pin_dir);
struct synguard_xdp *sg_load_mode(const char *pin_dir, enum sg_handoff mode);
/* Flow table entries for the next load (default SG_DEFAULT_FLOW_TABLE_SIZE). */
void sg_set_flow_table_size(__u32 entries);
/* Multi-buffer XDP entry (default) or plain, for generic mode. */
void sg_set_xdp_frags(bool on);
/* The loaded XDP entry point (tests run it through BPF_PROG_TEST_RUN). */
int sg_xdp_prog_fd(struct synguard_xdp *skel);
/* Load the TC hand-off (ingress) / flow tracking (egress) object sharing
 * the XDP object's maps. */
struct synguard_tc *sg_load_tc(struct synguard_xdp *xdp);
struct synguard_egress *sg_load_egress(struct synguard_xdp *xdp);
/* What the running kernel supports: resolves AUTO, or explains why a forced
 * mode cannot work. Returns the mode, or -1 with a message. */
int sg_handoff_probe(enum sg_handoff want);
const char *sg_handoff_name(enum sg_handoff mode);
/* Attach the TC stage at ingress of ifname (tcx link, pinned). */
int sg_attach_tc(struct synguard_tc *tc, const char *ifname, const char *pin_dir);
/* Write config and ports; install a random secret unless one is in place. */
int sg_configure(struct synguard_xdp *skel, const struct sg_settings *s);
/* Attach (or atomically replace) the XDP program on ifname, and its TC
 * egress companion (the server-to-client half of the flow table); pins the
 * links. xdp_flags: 0 (kernel's choice), XDP_FLAGS_DRV_MODE or _SKB_MODE. */
int sg_attach(struct synguard_xdp *skel, const char *ifname, const char *pin_dir, __u32 xdp_flags);
int sg_detach(const char *ifname);
/* fd of a pinned map of an attached interface, or -1 with a message. */
int sg_pinned_map_fd(const char *ifname, const char *map_name);

#endif
