/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Counters out: rates, text and JSON tables (`synguard stats`), map
 * occupancy (`status`, metrics), the Prometheus text format, and a small
 * non-blocking HTTP server for it that fits a poll() loop (`synguard run`).
 *
 * Serving metrics from a poll() loop:
 *
 *	struct sg_metrics_server *ms = sg_metrics_listen("127.0.0.1:9477",
 *			sg_metrics_render_pinned, NULL, err, sizeof(err));
 *	struct pollfd pfd[8 + SG_METRICS_MAX_POLLFDS];
 *	for (;;) {
 *		int n = 0, m, timeout = 1000, t;
 *		pfd[n++] = (struct pollfd){ .fd = my_fd, .events = POLLIN };
 *		m = sg_metrics_pollfds(ms, pfd + n, SG_METRICS_MAX_POLLFDS);
 *		t = sg_metrics_timeout_ms(ms);
 *		if (t >= 0 && t < timeout)
 *			timeout = t;
 *		poll(pfd, n + m, timeout);
 *		...my_fd...
 *		sg_metrics_process(ms, pfd + n, m);
 *	}
 *	sg_metrics_close(ms);
 *
 * sg_metrics_process() never blocks: it accepts, reads requests and writes
 * answers as far as the sockets allow, and drops clients that take longer
 * than SG_METRICS_CLIENT_TIMEOUT_MS. The body is rendered per request by the
 * callback given to sg_metrics_listen() (GET /metrics; HEAD too; / answers
 * with a pointer to /metrics; anything else 404 or 405).
 */
#ifndef SYNGUARD_METRICS_H
#define SYNGUARD_METRICS_H

#include <poll.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "synguard.h"

/* ---- counters: rates and tables (stats.c) ---- */

double sg_monotonic_s(void);
/* Per-second rate between two readings; 0 when a counter went backwards
 * (detached and attached again in between). */
double sg_stats_rate(uint64_t now, uint64_t before, double dt);
/* Text table of one interface: every counter, its total and, with before
 * != NULL, its rate. compact: only counters that are non-zero or moving. */
void sg_stats_print_table(FILE *f, const char *ifname, const uint64_t c[SG_CNT_MAX],
			  const uint64_t *before, double dt, bool compact, const struct sg_flow_gauges *g);
/* One interface as JSON: {"ifname":..,"counters":{..}[,"rates":{..}]}. */
void sg_stats_print_json_rates(FILE *f, const char *ifname, const uint64_t c[SG_CNT_MAX],
			       const uint64_t *before, double dt, const struct sg_flow_gauges *g);
/* Interfaces with pins (directory names under SG_PIN_ROOT), sorted. Returns
 * the count (names in *out, free with sg_names_free), or -errno. */
int sg_pinned_ifaces(char (**out)[IF_NAMESIZE]);
static inline void sg_names_free(char (*names)[IF_NAMESIZE])
{
	free(names);
}

/* ---- map occupancy (stats.c) ---- */

struct sg_map_usage {
	char name[32];		/* pin name: the map's name */
	uint32_t id, type;	/* BPF map id and type (enum bpf_map_type) */
	uint32_t entries;	/* present entries; arrays: max_entries */
	uint32_t max_entries;
	bool counted;		/* entries counted by iterating the keys */
};
/* Every map pinned for ifname. Returns the count (array in *out, free()),
 * or -1 with a message. */
int sg_map_usage_read(const char *ifname, struct sg_map_usage **out);
const char *sg_map_type_name(uint32_t type);

/* ---- Prometheus text format (metrics.c) ---- */

struct sg_metrics_iface {
	const char *ifname;
	const uint64_t *counters;		/* SG_CNT_MAX values */
	const struct sg_map_usage *maps;	/* may be NULL */
	size_t n_maps;
	const struct sg_flow_gauges *flows;	/* the flow table by state; may be NULL */
};

/*
 * Metric names (stable, documented in synguard(8)):
 *   synguard_<counter>_total{interface="IF"}   counter, one per stats counter
 *   synguard_map_entries{interface="IF",map="M"}      gauge
 *   synguard_map_max_entries{interface="IF",map="M"}  gauge
 *   synguard_build_info{version="V"} 1                gauge
 */
int sg_metrics_render(FILE *f, const struct sg_metrics_iface *ifs, size_t n);
/* The body for pinned interfaces, counters and maps: arg NULL for every
 * interface with pins, or a NULL-terminated array of interface names
 * (const char *const *), e.g. the one `synguard run` protects. */
int sg_metrics_render_pinned(FILE *f, void *arg);

/* ---- HTTP server (metrics.c) ---- */

typedef int (*sg_metrics_fn)(FILE *f, void *arg); /* 0, or -1: answers 500 */

#define SG_METRICS_DEFAULT_ADDR "127.0.0.1:9477"
#define SG_METRICS_MAX_CLIENTS 8
#define SG_METRICS_MAX_POLLFDS (1 + SG_METRICS_MAX_CLIENTS)
#define SG_METRICS_CLIENT_TIMEOUT_MS 5000

struct sg_metrics_server;

/* addr: "127.0.0.1:9477", "[::1]:9477", "[::]:9477" or ":9477" (every
 * address, IPv4 and IPv6), "localhost:9477"; port 0 picks a free port.
 * Returns the server, or NULL with err filled in. */
struct sg_metrics_server *sg_metrics_listen(const char *addr, sg_metrics_fn fn, void *arg, char *err,
					    size_t errlen);
int sg_metrics_port(const struct sg_metrics_server *s);
/* Fills at most max (>= SG_METRICS_MAX_POLLFDS) entries; returns how many. */
int sg_metrics_pollfds(struct sg_metrics_server *s, struct pollfd *pfd, int max);
/* After poll(): the entries sg_metrics_pollfds() filled, with revents. */
void sg_metrics_process(struct sg_metrics_server *s, const struct pollfd *pfd, int n);
/* Milliseconds until the oldest client times out; -1 with no client. */
int sg_metrics_timeout_ms(const struct sg_metrics_server *s);
void sg_metrics_close(struct sg_metrics_server *s);
/* Answers served since listen (for tests and logs). */
unsigned long sg_metrics_served(const struct sg_metrics_server *s);

#endif
