// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* The flow table from userspace: walk it, count states, sweep what expired. */
#include <arpa/inet.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <bpf/bpf.h>

#include "synguard.h"

static const char *const state_names[SG_ST_MAX] = SG_STATE_NAMES_INIT;


const char *sg_state_name(enum sg_state st)
{
	return st < SG_ST_MAX ? state_names[st] : "?";
}

/* The data path's clock: bpf_ktime_get_coarse_ns(). */
uint64_t sg_flow_clock_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + ts.tv_nsec;
}

int sg_flows_foreach(int fd, sg_flow_cb cb, void *arg)
{
	struct sg_flow_key key, next;
	struct sg_flow val;
	void *prev = NULL;
	int err;

	while (bpf_map_get_next_key(fd, prev, &next) == 0) {
		key = next;
		prev = &key;
		if (bpf_map_lookup_elem(fd, &key, &val))
			continue; /* deleted meanwhile */
		err = cb(&key, &val, arg);
		if (err)
			return err;
	}
	return errno == ENOENT ? 0 : -errno;
}

static int gauge_one(const struct sg_flow_key *k, const struct sg_flow *f, void *arg)
{
	struct sg_flow_gauges *g = arg;

	(void)k;
	g->per_state[sg_flow_state(f->flags)]++;
	g->total++;
	return 0;
}

int sg_flows_gauges(int fd, struct sg_flow_gauges *g)
{
	struct bpf_map_info info = {};
	__u32 len = sizeof(info);

	memset(g, 0, sizeof(*g));
	if (bpf_obj_get_info_by_fd(fd, &info, &len))
		return -errno;
	g->max = info.max_entries;
	return sg_flows_foreach(fd, gauge_one, g);
}

struct sweep_arg {
	const struct sg_config *cfg;
	uint64_t now;
	struct sg_flow_key *dead;
	size_t n, cap;
};

static int sweep_one(const struct sg_flow_key *k, const struct sg_flow *f, void *arg)
{
	struct sweep_arg *a = arg;

	if (!sg_flow_expired(f, a->cfg, a->now))
		return 0;
	if (a->n == a->cap) {
		size_t cap = a->cap ? a->cap * 2 : 256;
		struct sg_flow_key *d = realloc(a->dead, cap * sizeof(*d));

		if (!d)
			return -ENOMEM;
		a->dead = d;
		a->cap = cap;
	}
	a->dead[a->n++] = *k;
	return 0;
}

void sg_flows_clear(int fd)
{
	struct sg_flow_key k;

	/* Always the first key: deleting it makes the next one first. */
	while (bpf_map_get_next_key(fd, NULL, &k) == 0)
		bpf_map_delete_elem(fd, &k);
}

/* Deleting while walking would restart the walk: collect, then delete. */
long sg_flows_sweep(int fd, const struct sg_config *cfg)
{
	struct sweep_arg a = { .cfg = cfg, .now = sg_flow_clock_ns() };
	long deleted = 0;
	int err = sg_flows_foreach(fd, sweep_one, &a);

	/* Each again just before its deletion: the data path may have
	 * refreshed it, or a new connection taken the tuple, since. */
	for (size_t i = 0; !err && i < a.n; i++) {
		struct sg_flow f;

		if (bpf_map_lookup_elem(fd, &a.dead[i], &f) == 0 && sg_flow_expired(&f, cfg, sg_flow_clock_ns()))
			deleted += bpf_map_delete_elem(fd, &a.dead[i]) == 0;
	}
	free(a.dead);
	return err ? err : deleted;
}

/*
 * Read one line of /proc/net/tcp{,6}: the addresses are the raw words of
 * the socket (as they sit in memory), the ports host order; `when` is what
 * is left of the socket's timer, in USER_HZ (100 per second).
 */
static int parse_proc_tcp_line(const char *line, bool v6, struct sg_flow_key *k, unsigned int *state,
			       unsigned long *when)
{
	char local[40], remote[40];
	unsigned int lport, rport, timer;
	__u32 *la = k->saddr, *ra = k->caddr;

	if (sscanf(line, " %*d: %39[0-9A-Fa-f]:%x %39[0-9A-Fa-f]:%x %x %*x:%*x %x:%lx", local, &lport, remote,
		   &rport, state, &timer, when) != 7)
		return -1;
	memset(k, 0, sizeof(*k));
	k->ipv6 = v6;
	for (int i = 0; i < (v6 ? 4 : 1); i++) {
		if (sscanf(local + 8 * i, "%8x", &la[i]) != 1 || sscanf(remote + 8 * i, "%8x", &ra[i]) != 1)
			return -1;
	}
	/* A dual-stack socket's IPv4 peers show as ::ffff:a.b.c.d: the data
	 * path sees them as IPv4. */
	if (v6 && !la[0] && !la[1] && la[2] == htonl(0xffff) && !ra[0] && !ra[1] && ra[2] == htonl(0xffff)) {
		la[0] = la[3];
		ra[0] = ra[3];
		la[1] = la[2] = la[3] = ra[1] = ra[2] = ra[3] = 0;
		k->ipv6 = 0;
	}
	k->sport = htons(lport); /* the server: this host's socket */
	k->cport = htons(rport);
	return 0;
}

long sg_flows_learn_kernel(int flows_fd, const uint64_t ports[SG_PORT_WORDS], const struct sg_config *cfg)
{
	static const char *const files[] = { "/proc/net/tcp", "/proc/net/tcp6" };
	uint64_t now = sg_flow_clock_ns(), tw_ns = 2ULL * (cfg->msl_s ? cfg->msl_s : SG_DEFAULT_MSL_S) * 1000000000ULL;
	long learned = 0;

	for (int v6 = 0; v6 < 2; v6++) {
		FILE *f = fopen(files[v6], "r");
		char line[512];

		if (!f)
			continue; /* no IPv6 here */
		while (fgets(line, sizeof(line), f)) {
			struct sg_flow_key k;
			struct sg_flow fl = { .origin = SG_ORIGIN_RELEARNED, .c_wscale = SG_WSCALE_UNKNOWN,
					      .s_wscale = SG_WSCALE_UNKNOWN };
			unsigned int state;
			unsigned long when;
			uint64_t left;
			__u16 port;

			if (parse_proc_tcp_line(line, v6, &k, &state, &when) ||
			    sg_flow_flags_for_tcp_state(state, &fl.flags))
				continue; /* listeners, request sockets: not connections */
			port = ntohs(k.sport);
			if (!(ports[port / 64] >> (port % 64) & 1))
				continue;
			fl.created_ns = fl.last_in_ns = now;
			if (state == 6) {
				/* TIME_WAIT: ours ends with the kernel's (or at
				 * 2 * MSL if sooner). */
				left = (uint64_t)when * 10000000ULL;
				fl.closed_ns = now - (left < tw_ns ? tw_ns - left : 0);
			}
			/* Sequence numbers unknown (0): set by the next segments. */
			learned += bpf_map_update_elem(flows_fd, &k, &fl, BPF_NOEXIST) == 0;
		}
		fclose(f);
	}
	return learned;
}
