// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* Prometheus text format and a small non-blocking HTTP server for it. */
#define _GNU_SOURCE /* accept4 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <bpf/bpf.h>

#include "metrics.h"

#ifndef SYNGUARD_VERSION
#define SYNGUARD_VERSION "dev"
#endif

/* HELP text by counter name; a counter missing here gets a generic one. */
static const struct {
	const char *name, *help;
} counter_help[] = {
	{ "rx_packets", "Frames the XDP program saw." },
	{ "syn_seen", "Well-formed SYNs to protected services." },
	{ "synack_sent", "SYNs answered with a cookie SYN-ACK from XDP." },
	{ "ack_seen", "ACKs checked as a cookie handshake completion." },
	{ "cookie_valid", "ACKs with a valid cookie, handed on." },
	{ "cookie_invalid", "ACKs with a wrong or expired cookie, dropped." },
	{ "pass_existing_socket", "Segments of existing kernel sockets, passed." },
	{ "pass_not_tcp", "Frames that are not TCP, passed." },
	{ "pass_not_protected", "TCP segments to unprotected ports or prefixes, passed." },
	{ "pass_no_ack", "Protected segments with neither SYN nor ACK, passed." },
	{ "pass_rst", "RSTs, passed to the kernel." },
	{ "pass_unparsed", "Frames that could not be parsed deeply enough, passed." },
	{ "drop_bad_ip_csum", "Dropped: bad IPv4 header checksum." },
	{ "drop_bad_tcp_csum", "Dropped: bad TCP checksum." },
	{ "drop_fragment", "Dropped: IP fragments aimed at a protected port." },
	{ "drop_bad_tcp_header", "Dropped: bad TCP header or IP lengths." },
	{ "drop_bad_tcp_option", "Dropped: malformed TCP options." },
	{ "drop_bad_flags", "Dropped: SYN+FIN or SYN+RST." },
	{ "drop_syn_too_long", "Dropped: SYN segment too long to answer." },
	{ "drop_no_secret", "Dropped: no cookie key installed." },
	{ "drop_internal", "Dropped: internal error (packet resize failed)." },
	{ "drop_no_metadata", "Dropped: valid cookie but the driver carries no XDP metadata." },
	{ "pass_no_listener", "SYNs to a protected port nobody listens on, passed." },
	{ "pass_no_kernel_cookie", "Legacy mode: the kernel refused a cookie, SYN passed." },
	{ "pass_allowed", "Segments from allow-listed sources, passed untouched." },
	{ "drop_denied", "Dropped: source on the deny list." },
	{ "drop_rate_limit", "Dropped: SYN over its source prefix's SYN-ACK rate." },
	{ "pass_flow", "Segments of tracked flows, passed." },
	{ "pass_relearned", "Untracked segments of kernel sockets, learned and passed." },
	{ "pass_syn_tracked", "SYNs on tracked tuples, passed to the kernel." },
	{ "drop_oos_ack", "Dropped: out-of-state pure ACK." },
	{ "drop_oos_rst", "Dropped: out-of-state RST." },
	{ "drop_oos_fin", "Dropped: out-of-state FIN." },
	{ "drop_oos_data", "Dropped: out-of-state segment with payload." },
	{ "drop_rst_window", "Dropped: RST outside the window of a tracked flow." },
	{ "flow_created", "Flow entries made after a cookie hand-off." },
	{ "flow_relearned", "Flow entries re-learned from the socket table." },
	{ "flow_tw_reopen", "TIME_WAIT flow entries ended by a newer SYN." },
	{ "flow_expired", "Flow entries expired by the data path." },
	{ "flow_insert_failed", "Flow table inserts that failed." },
	{ "state_changes", "TCP state transitions seen." },
	{ "egress_seen", "Server-to-client segments of tracked flows." },
	{ "handoff_ok", "Clients handed to the listener." },
	{ "handoff_no_listener", "Hand-offs failed: listener gone." },
	{ "handoff_existing_socket", "Hand-offs skipped: a socket exists for the tuple." },
	{ "handoff_einval", "Hand-offs refused by the kernel (EINVAL)." },
	{ "handoff_enomem", "Hand-offs failed: out of memory." },
	{ "handoff_eother", "Hand-offs failed: other errors." },
};

static const char *help_of(const char *name)
{
	for (size_t i = 0; i < sizeof(counter_help) / sizeof(counter_help[0]); i++)
		if (!strcmp(counter_help[i].name, name))
			return counter_help[i].help;
	return NULL;
}

/* Label values: backslash, double quote and newline escaped. */
static void label(FILE *f, const char *s)
{
	for (; *s; s++) {
		if (*s == '\\' || *s == '"')
			fputc('\\', f);
		if (*s == '\n')
			fputs("\\n", f);
		else
			fputc(*s, f);
	}
}

int sg_metrics_render(FILE *f, const struct sg_metrics_iface *ifs, size_t n)
{
	fprintf(f, "# HELP synguard_build_info synguard version.\n# TYPE synguard_build_info gauge\n"
		   "synguard_build_info{version=\"%s\"} 1\n", SYNGUARD_VERSION);
	for (int c = 0; c < SG_CNT_MAX; c++) {
		const char *name = sg_counter_names[c], *help = help_of(name);

		if (help)
			fprintf(f, "# HELP synguard_%s_total %s\n", name, help);
		else
			fprintf(f, "# HELP synguard_%s_total synguard counter %s.\n", name, name);
		fprintf(f, "# TYPE synguard_%s_total counter\n", name);
		for (size_t i = 0; i < n; i++) {
			fprintf(f, "synguard_%s_total{interface=\"", name);
			label(f, ifs[i].ifname);
			fprintf(f, "\"} %llu\n", (unsigned long long)ifs[i].counters[c]);
		}
	}
	fprintf(f, "# HELP synguard_flows Tracked connections by the server side's TCP state.\n"
		   "# TYPE synguard_flows gauge\n");
	for (size_t i = 0; i < n; i++) {
		for (int st = 0; ifs[i].flows && st < SG_ST_MAX; st++) {
			fprintf(f, "synguard_flows{interface=\"");
			label(f, ifs[i].ifname);
			fprintf(f, "\",state=\"%s\"} %llu\n", sg_state_name(st),
				(unsigned long long)ifs[i].flows->per_state[st]);
		}
	}
	for (int g = 0; g < 2; g++) {
		const char *metric = g ? "synguard_map_max_entries" : "synguard_map_entries";

		fprintf(f, "# HELP %s %s\n# TYPE %s gauge\n", metric,
			g ? "Capacity of each pinned map." : "Entries in each pinned map (arrays: all slots).",
			metric);
		for (size_t i = 0; i < n; i++) {
			for (size_t m = 0; m < ifs[i].n_maps; m++) {
				fprintf(f, "%s{interface=\"", metric);
				label(f, ifs[i].ifname);
				fprintf(f, "\",map=\"");
				label(f, ifs[i].maps[m].name);
				fprintf(f, "\"} %u\n", g ? ifs[i].maps[m].max_entries : ifs[i].maps[m].entries);
			}
		}
	}
	return ferror(f) ? -1 : 0;
}

int sg_metrics_render_pinned(FILE *f, void *arg)
{
	char (*names)[IF_NAMESIZE] = NULL;
	struct sg_metrics_iface *ifs = NULL;
	uint64_t (*counters)[SG_CNT_MAX] = NULL;
	struct sg_map_usage **maps = NULL;
	struct sg_flow_gauges *gauges = NULL;
	int n, got = 0, ret = -1;

	if (arg) {
		const char *const *want = arg;

		for (n = 0; want[n]; n++)
			;
		names = calloc(n ? n : 1, sizeof(*names));
		if (!names)
			return -1;
		for (int i = 0; i < n; i++)
			snprintf(names[i], IF_NAMESIZE, "%.*s", IF_NAMESIZE - 1, want[i]);
	} else {
		n = sg_pinned_ifaces(&names);
		if (n < 0)
			return -1;
	}
	if (n) {
		ifs = calloc(n, sizeof(*ifs));
		counters = calloc(n, sizeof(*counters));
		maps = calloc(n, sizeof(*maps));
		gauges = calloc(n, sizeof(*gauges));
		if (!ifs || !counters || !maps || !gauges)
			goto out;
	}
	for (int i = 0; i < n; i++) {
		char path[PATH_MAX];
		int fd, m;

		snprintf(path, sizeof(path), "%s/%s/sg_stats", SG_PIN_ROOT, names[i]);
		fd = bpf_obj_get(path);
		if (fd < 0)
			continue; /* half-made or being detached */
		if (sg_stats_read(fd, counters[got])) {
			close(fd);
			continue;
		}
		close(fd);
		m = sg_map_usage_read(names[i], &maps[got]);
		snprintf(path, sizeof(path), "%s/%s/sg_flows", SG_PIN_ROOT, names[i]);
		fd = bpf_obj_get(path);
		ifs[got] = (struct sg_metrics_iface){ names[i], counters[got], maps[got], m > 0 ? m : 0,
						      fd >= 0 && !sg_flows_gauges(fd, &gauges[got]) ? &gauges[got] : NULL };
		if (fd >= 0)
			close(fd);
		got++;
	}
	ret = sg_metrics_render(f, ifs, got);
out:
	for (int i = 0; maps && i < n; i++)
		free(maps[i]);
	free(maps);
	free(gauges);
	free(counters);
	free(ifs);
	sg_names_free(names);
	return ret;
}

/* ---- HTTP server ---- */

#define REQ_MAX 4096

struct client {
	int fd;			/* -1: slot free */
	long long deadline_ms;
	size_t req_len;
	char req[REQ_MAX];
	char *resp;
	size_t resp_len, resp_off;
};

struct sg_metrics_server {
	int fd;
	int port;
	sg_metrics_fn fn;
	void *arg;
	unsigned long served;
	struct client c[SG_METRICS_MAX_CLIENTS];
};

static long long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000LL + ts.tv_nsec / 1000000;
}

static int split_addr(const char *addr, char *host, size_t hostlen, char *port, size_t portlen)
{
	const char *colon;
	size_t hl;

	if (addr[0] == '[') {
		const char *close = strchr(addr, ']');

		if (!close || close[1] != ':')
			return -1;
		hl = close - addr - 1;
		addr++;
		colon = close + 1;
	} else {
		colon = strrchr(addr, ':');
		if (!colon || memchr(addr, ':', colon - addr))
			return -1; /* IPv6 needs brackets */
		hl = colon - addr;
	}
	if (hl >= hostlen || strlen(colon + 1) >= portlen || !colon[1])
		return -1;
	memcpy(host, addr, hl);
	host[hl] = 0;
	strcpy(port, colon + 1);
	return 0;
}

struct sg_metrics_server *sg_metrics_listen(const char *addr, sg_metrics_fn fn, void *arg, char *err,
					    size_t errlen)
{
	struct addrinfo hints = { .ai_socktype = SOCK_STREAM, .ai_flags = AI_PASSIVE | AI_NUMERICSERV };
	struct sg_metrics_server *s = NULL;
	struct sockaddr_storage ss;
	socklen_t sslen = sizeof(ss);
	char host[256], port[16];
	struct addrinfo *ai = NULL;
	int fd = -1, one = 1, zero = 0, rc;
	char *end;

	if (split_addr(addr, host, sizeof(host), port, sizeof(port)) ||
	    (strtoul(port, &end, 10), *end) || strtoul(port, NULL, 10) > 65535) {
		snprintf(err, errlen, "bad metrics address '%s': use HOST:PORT, e.g. 127.0.0.1:9477, "
			 "[::1]:9477 or :9477 for every address", addr);
		return NULL;
	}
	if (!host[0]) {
		hints.ai_family = AF_INET6; /* "::" with v6only off: IPv4 too */
		rc = getaddrinfo("::", port, &hints, &ai);
	} else {
		rc = getaddrinfo(host, port, &hints, &ai);
	}
	if (rc) {
		snprintf(err, errlen, "cannot resolve metrics address '%s': %s", addr, gai_strerror(rc));
		return NULL;
	}
	fd = socket(ai->ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		goto sys_fail;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (ai->ai_family == AF_INET6 && !host[0])
		setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &zero, sizeof(zero));
	if (bind(fd, ai->ai_addr, ai->ai_addrlen) || listen(fd, 16) ||
	    getsockname(fd, (struct sockaddr *)&ss, &sslen))
		goto sys_fail;
	s = calloc(1, sizeof(*s));
	if (!s)
		goto sys_fail;
	s->fd = fd;
	s->fn = fn;
	s->arg = arg;
	s->port = ntohs(ss.ss_family == AF_INET6 ? ((struct sockaddr_in6 *)&ss)->sin6_port
						 : ((struct sockaddr_in *)&ss)->sin_port);
	for (int i = 0; i < SG_METRICS_MAX_CLIENTS; i++)
		s->c[i].fd = -1;
	freeaddrinfo(ai);
	return s;
sys_fail:
	snprintf(err, errlen, "cannot listen on %s for metrics: %s%s", addr, strerror(errno),
		 errno == EADDRINUSE ? " (choose another port)" : "");
	if (fd >= 0)
		close(fd);
	freeaddrinfo(ai);
	return NULL;
}

int sg_metrics_port(const struct sg_metrics_server *s)
{
	return s->port;
}

unsigned long sg_metrics_served(const struct sg_metrics_server *s)
{
	return s->served;
}

static void client_close(struct client *c)
{
	if (c->fd >= 0)
		close(c->fd);
	free(c->resp);
	c->fd = -1;
	c->resp = NULL;
	c->req_len = c->resp_len = c->resp_off = 0;
}

int sg_metrics_pollfds(struct sg_metrics_server *s, struct pollfd *pfd, int max)
{
	int n = 0, busy = 0;

	for (int i = 0; i < SG_METRICS_MAX_CLIENTS && n < max; i++) {
		if (s->c[i].fd < 0)
			continue;
		busy++;
		pfd[n].fd = s->c[i].fd;
		pfd[n].events = s->c[i].resp ? POLLOUT : POLLIN;
		pfd[n++].revents = 0;
	}
	/* The listener last, and only while a client slot is free. */
	if (busy < SG_METRICS_MAX_CLIENTS && n < max) {
		pfd[n].fd = s->fd;
		pfd[n].events = POLLIN;
		pfd[n++].revents = 0;
	}
	return n;
}

int sg_metrics_timeout_ms(const struct sg_metrics_server *s)
{
	long long first = -1, now = now_ms();

	for (int i = 0; i < SG_METRICS_MAX_CLIENTS; i++)
		if (s->c[i].fd >= 0 && (first < 0 || s->c[i].deadline_ms < first))
			first = s->c[i].deadline_ms;
	if (first < 0)
		return -1;
	return first <= now ? 0 : (int)(first - now);
}

static void respond(struct sg_metrics_server *s, struct client *c, int code, const char *reason,
		    const char *ctype, const char *extra, const char *body, size_t body_len, bool head)
{
	FILE *f = open_memstream(&c->resp, &c->resp_len);

	if (!f) {
		client_close(c);
		return;
	}
	fprintf(f, "HTTP/1.1 %d %s\r\nContent-Type: %s\r\nContent-Length: %zu\r\n%sConnection: close\r\n\r\n",
		code, reason, ctype, body_len, extra ? extra : "");
	if (!head)
		fwrite(body, 1, body_len, f);
	if (fclose(f)) {
		client_close(c);
		return;
	}
	c->resp_off = 0;
	s->served++;
}

static void handle_request(struct sg_metrics_server *s, struct client *c)
{
	static const char text[] = "text/plain; charset=utf-8";
	char method[16], path[256];
	bool head;

	if (sscanf(c->req, "%15s %255s", method, path) != 2) {
		respond(s, c, 400, "Bad Request", text, NULL, "bad request\n", 12, false);
		return;
	}
	head = !strcmp(method, "HEAD");
	if (strcmp(method, "GET") && !head) {
		respond(s, c, 405, "Method Not Allowed", text, "Allow: GET, HEAD\r\n", "GET or HEAD only\n",
			17, false);
		return;
	}
	path[strcspn(path, "?")] = 0;
	if (!strcmp(path, "/metrics")) {
		char *body = NULL;
		size_t len = 0;
		FILE *f = open_memstream(&body, &len);
		int rc = f ? s->fn(f, s->arg) : -1;

		if (f && fclose(f))
			rc = -1;
		if (rc)
			respond(s, c, 500, "Internal Server Error", text, NULL, "cannot read the counters\n",
				25, head);
		else
			respond(s, c, 200, "OK", "text/plain; version=0.0.4; charset=utf-8", NULL, body, len,
				head);
		free(body);
	} else if (!strcmp(path, "/")) {
		static const char hello[] = "synguard: metrics are at /metrics\n";

		respond(s, c, 200, "OK", text, NULL, hello, sizeof(hello) - 1, head);
	} else {
		respond(s, c, 404, "Not Found", text, NULL, "not found: try /metrics\n", 24, head);
	}
}

static void client_read(struct sg_metrics_server *s, struct client *c)
{
	for (;;) {
		ssize_t n = recv(c->fd, c->req + c->req_len, REQ_MAX - 1 - c->req_len, 0);

		if (n < 0 && (errno == EAGAIN || errno == EINTR))
			return;
		if (n <= 0) {
			client_close(c);
			return;
		}
		c->req_len += n;
		c->req[c->req_len] = 0;
		if (strstr(c->req, "\r\n\r\n") || strstr(c->req, "\n\n")) {
			handle_request(s, c);
			return;
		}
		if (c->req_len == REQ_MAX - 1) {
			respond(s, c, 431, "Request Header Fields Too Large", "text/plain", NULL,
				"request too large\n", 18, false);
			return;
		}
	}
}

static void client_write(struct client *c)
{
	while (c->resp_off < c->resp_len) {
		ssize_t n = send(c->fd, c->resp + c->resp_off, c->resp_len - c->resp_off, MSG_NOSIGNAL);

		if (n < 0 && (errno == EAGAIN || errno == EINTR))
			return;
		if (n <= 0)
			break;
		c->resp_off += n;
	}
	client_close(c); /* sent, or the peer went away */
}

static void accept_clients(struct sg_metrics_server *s)
{
	for (int i = 0; i < SG_METRICS_MAX_CLIENTS; i++) {
		struct client *c = &s->c[i];

		if (c->fd >= 0)
			continue;
		c->fd = accept4(s->fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (c->fd < 0)
			return; /* EAGAIN: no more waiting */
		c->deadline_ms = now_ms() + SG_METRICS_CLIENT_TIMEOUT_MS;
		c->req_len = 0;
		client_read(s, c); /* the request often came with the connection */
		if (c->fd >= 0 && c->resp)
			client_write(c);
	}
}

void sg_metrics_process(struct sg_metrics_server *s, const struct pollfd *pfd, int n)
{
	long long now = now_ms();

	for (int k = 0; k < n; k++) {
		if (!pfd[k].revents)
			continue;
		if (pfd[k].fd == s->fd) {
			accept_clients(s);
			continue;
		}
		for (int i = 0; i < SG_METRICS_MAX_CLIENTS; i++) {
			struct client *c = &s->c[i];

			if (c->fd != pfd[k].fd)
				continue;
			if (!c->resp)
				client_read(s, c);
			if (c->fd >= 0 && c->resp)
				client_write(c);
			break;
		}
	}
	for (int i = 0; i < SG_METRICS_MAX_CLIENTS; i++)
		if (s->c[i].fd >= 0 && s->c[i].deadline_ms <= now)
			client_close(&s->c[i]);
}

void sg_metrics_close(struct sg_metrics_server *s)
{
	if (!s)
		return;
	for (int i = 0; i < SG_METRICS_MAX_CLIENTS; i++)
		client_close(&s->c[i]);
	close(s->fd);
	free(s);
}
