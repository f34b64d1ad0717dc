// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * Fuzzing the XDP data path: random and mutated frames through the real XDP
 * object with BPF_PROG_TEST_RUN (repeat 1, a fresh frame per call).
 *
 *   xdp_fuzz [--frames N] [--seed S] [--epoch-shift N] [--strict-existing] [--quiet]
 *
 * --epoch-shift 20..40 sets the cookie epoch (2^N ns; default 36): short
 * epochs make cookies expire during the run and exercise both epoch bits.
 * --strict-existing: a SYN on the tuple of a connection the kernel has must
 * be passed to the kernel (design.md). By default an answer is tolerated
 * and counted: handle_syn() skips the socket lookup when it saw a listener
 * on the port lately (per CPU; the XXX there).
 * --existing-check: no fuzzing; on one CPU, a SYN to port 8080 (answered,
 * so the listener is remembered), then a SYN on the tuple of the established
 * IPv4 and IPv6 connections: exit 1 if either is answered instead of passed
 * (a minimal demonstration of that XXX; ctest xdp_syn_on_untracked_connection).
 *
 * Runs in a network namespace of its own (unshare(CLONE_NEWNET)), so
 * bpf_skc_lookup_tcp() sees only the sockets made here: listeners on the
 * protected ports (one protected port has none) and one established IPv4
 * and IPv6 connection over loopback.
 *
 * Frames: garbage; Ethernet + IP type + garbage; well-formed SYNs (VLAN
 * tags, IPv4 options, IPv6 extension header chains, fragments, every
 * option layout); the client's ACK to SYN-ACKs the program sent (valid
 * cookies); segments with other flags; and mutations of all of these
 * (truncation, bit flips, flags, doff, IHL, option lengths, IP lengths,
 * fragment bits, EtherTypes and VLAN tags, next-header chains, inserted
 * and deleted bytes, ports), half of them with the checksums made right
 * again. tests/fuzz/frames.h has the generator and the reference
 * classifier that decides, independently of the BPF code, what each frame
 * must get.
 *
 * Invariants, per frame:
 *   - the verdict is the classifier's: never XDP_ABORTED; XDP_TX exactly for
 *     a well-formed SYN to a protected port with a listener; XDP_PASS with
 *     metadata exactly for an ACK whose cookie is valid; drops and passes as
 *     design.md's data path rules say (segments of the established
 *     connections, which the flow table learns: pass or drop);
 *   - a passed frame is untouched and carries no metadata (but a valid
 *     cookie ACK's, which is checked field by field);
 *   - every SYN-ACK: MACs, IP addresses and ports swapped, VLAN tags kept,
 *     valid IPv4 header and TCP checksums, ack = ISN + 1, the options the
 *     SYN asked for, a cookie that validates with the installed key and
 *     encodes the SYN's options, and no longer than the SYN + 4 bytes
 *     (no amplification);
 * and over the run:
 *   - rx_packets = frames run = the sum of the verdict counters (pass_*,
 *     drop_*, synack_sent, cookie_valid), as in tests/fixtures/test_xdp.py
 *     T99; synack_sent = frames answered, cookie_valid = frames with
 *     metadata, drops and passes likewise;
 *   - every verdict counter the generator is meant to reach moved.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <netinet/in.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "synguard.h"
#include "synguard/cookie.h"
#include "synguard_xdp.skel.h"
#include "frames.h"
#include "testns.h"

#define XDP_ABORTED 0
#define XDP_DROP 1
#define XDP_PASS 2
#define XDP_TX 3

static const uint16_t listen_ports[] = { 1, 80, 443, 8080, 65535 };
#define NO_LISTENER_PORT 8443
#define CONN_PORT 8080
#define PORTS_ARG "1,80,443,8080,8443,65535"

static struct synguard_xdp *skel;
static struct sg_settings settings;
static struct sg_secret secret;
static uint64_t listen_map[SG_PORT_WORDS];
static struct ref_tuple conns[2];
static struct ref_env env;
static int prog_fd, quiet;

/* ---- the network namespace and its sockets ---- */

/* One established connection over loopback; fills the tuple the server
 * sees (client -> server). Sockets stay open until exit. */
static int connection(int v6, int lfd, struct ref_tuple *t)
{
	struct sockaddr_storage ss = {};
	socklen_t sl = sizeof(ss);
	int c = socket(v6 ? AF_INET6 : AF_INET, SOCK_STREAM, 0), s;
	struct sockaddr_in a4 = { .sin_family = AF_INET, .sin_port = htons(CONN_PORT),
				  .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	struct sockaddr_in6 a6 = { .sin6_family = AF_INET6, .sin6_port = htons(CONN_PORT),
				   .sin6_addr = IN6ADDR_LOOPBACK_INIT };

	if (c < 0 || (v6 ? connect(c, (void *)&a6, sizeof(a6)) : connect(c, (void *)&a4, sizeof(a4))))
		return -1;
	s = accept(lfd, NULL, NULL);
	if (s < 0 || getsockname(c, (void *)&ss, &sl))
		return -1;
	memset(t, 0, sizeof(*t));
	t->v6 = v6;
	t->dport = CONN_PORT;
	if (v6) {
		t->sport = ntohs(((struct sockaddr_in6 *)&ss)->sin6_port);
		memcpy(t->saddr, &a6.sin6_addr, 16);
		memcpy(t->daddr, &a6.sin6_addr, 16);
	} else {
		t->sport = ntohs(((struct sockaddr_in *)&ss)->sin_port);
		memcpy(t->saddr, &a4.sin_addr, 4);
		memcpy(t->daddr, &a4.sin_addr, 4);
	}
	return 0;
}

static int sockets_setup(void)
{
	int conn_lfd[2] = { -1, -1 };

	for (size_t i = 0; i < sizeof(listen_ports) / sizeof(listen_ports[0]); i++) {
		for (int v6 = 0; v6 < 2; v6++) {
			int fd = testns_listen(v6, listen_ports[i]);

			if (fd < 0) {
				fprintf(stderr, "xdp_fuzz: cannot listen on port %u: %s\n", listen_ports[i],
					strerror(errno));
				return -1;
			}
			if (listen_ports[i] == CONN_PORT)
				conn_lfd[v6] = fd;
		}
		listen_map[listen_ports[i] / 64] |= 1ULL << (listen_ports[i] % 64);
	}
	for (int v6 = 0; v6 < 2; v6++)
		if (connection(v6, conn_lfd[v6], &conns[v6])) {
			fprintf(stderr, "xdp_fuzz: cannot open the loopback connection: %s\n", strerror(errno));
			return -1;
		}
	return 0;
}

/* ---- running frames ---- */

struct result {
	int err;		/* errno of BPF_PROG_TEST_RUN, 0 if it ran */
	uint32_t verdict;
	size_t meta_len, out_len;
	uint8_t *meta, *out;
};

static uint8_t out_buf[FR_MAX + 512];

/*
 * A valid cookie makes a flow entry in XDP at once; the TC hand-off, which is
 * not run here, would remove it if the hand-off failed. Forget it, so that
 * every frame is judged the same way, without state (the flow path has its
 * own fixtures: tests/fixtures/test_flows.py).
 */
static void forget_flows(void)
{
	sg_flows_clear(bpf_map__fd(skel->maps.sg_flows));
}

static void xdp_run(const uint8_t *in, size_t len, struct result *r)
{
	struct xdp_md ctx_in = { .data_end = len }, ctx_out = {};
	LIBBPF_OPTS(bpf_test_run_opts, opts, .data_in = in, .data_size_in = len, .data_out = out_buf,
		    .data_size_out = sizeof(out_buf), .ctx_in = &ctx_in, .ctx_size_in = sizeof(ctx_in),
		    .ctx_out = &ctx_out, .ctx_size_out = sizeof(ctx_out), .repeat = 1);

	memset(r, 0, sizeof(*r));
	if (bpf_prog_test_run_opts(prog_fd, &opts)) {
		r->err = errno;
		return;
	}
	/* The metadata area comes back in front of the frame; ctx_out.data
	 * is its length. */
	r->verdict = opts.retval;
	r->meta_len = ctx_out.data;
	if (ctx_out.data)
		forget_flows();
	r->meta = out_buf;
	r->out = out_buf + ctx_out.data;
	r->out_len = opts.data_size_out - ctx_out.data;
}

/* ---- the cookie oracle for the reference classifier ---- */

struct oracle {
	uint32_t epoch[2];	/* before and after the run */
	int meta;		/* meta bits of the last valid cookie */
};

static void ref_flow(const struct ref_pkt *p, struct sg_cookie_flow *f)
{
	memset(f, 0, sizeof(*f));
	memcpy(f->saddr, p->saddr, p->v6 ? 16 : 4);
	memcpy(f->daddr, p->daddr, p->v6 ? 16 : 4);
	f->ports = htons(p->sport) | (uint32_t)htons(p->dport) << 16;
	f->isn = p->seq - 1;
	f->ipv6 = p->v6;
}

static int cookie_oracle(void *arg, const struct ref_pkt *p)
{
	struct oracle *o = arg;
	struct sg_cookie_flow f;
	int m0, m1;

	ref_flow(p, &f);
	m0 = sg_cookie_check(&secret, &f, p->ack - 1, o->epoch[0], p->o.ts, p->o.tsecr);
	m1 = o->epoch[1] == o->epoch[0] ? m0 : sg_cookie_check(&secret, &f, p->ack - 1, o->epoch[1], p->o.ts, p->o.tsecr);
	o->meta = m0 >= 0 ? m0 : m1;
	if (m0 >= 0 && m1 >= 0)
		return 1;
	return m0 < 0 && m1 < 0 ? 0 : -1;
}

/* ---- checks of what came out ---- */

static char why_buf[256];

#define BAD(...) (snprintf(why_buf, sizeof(why_buf), __VA_ARGS__), why_buf)

/* The SYN-ACK for SYN `in` (parsed as p). NULL if right, else what is wrong. */
static const char *check_synack(const uint8_t *in, size_t len, const struct ref_pkt *p, const uint8_t *out,
				size_t out_len, const struct oracle *orc)
{
	const struct sg_config *cfg = &settings.cfg;
	int l3 = p->l3, iplen = p->v6 ? 40 : 20, v6 = p->v6, ecn;
	uint8_t opt[20];
	int nopt = 0, tcp_len, ts_at = -1, meta;
	uint16_t mss = p->o.mss ? p->o.mss : (v6 ? 1220 : 536), cap = v6 ? cfg->mss6 : cfg->mss4;
	const uint8_t *ip = out + l3, *t;
	struct sg_syn_opts syn = {};
	struct sg_cookie_flow f;
	uint32_t cookie, tsval = 0, sum;

	/* Options as Linux orders them: MSS, SACK-permitted + TS, NOP + WS. */
	opt[0] = 2, opt[1] = 4;
	wr16(opt + 2, mss > cap ? cap : mss);
	nopt = 4;
	if (p->o.ts) {
		opt[4] = p->o.sack ? 4 : 1, opt[5] = p->o.sack ? 2 : 1, opt[6] = 8, opt[7] = 10;
		ts_at = 8;
		memset(opt + 8, 0, 4); /* our TSval: checked below */
		wr32(opt + 12, p->o.tsval);
		nopt = 16;
	} else if (p->o.sack) {
		opt[4] = 1, opt[5] = 1, opt[6] = 4, opt[7] = 2;
		nopt = 8;
	}
	if (p->o.ws != 0xff) {
		opt[nopt] = 1, opt[nopt + 1] = 3, opt[nopt + 2] = 3, opt[nopt + 3] = cfg->wscale;
		nopt += 4;
	}
	tcp_len = 20 + nopt;
	if (out_len != (size_t)(l3 + iplen + tcp_len))
		return BAD("SYN-ACK length %zu, want %d", out_len, l3 + iplen + tcp_len);
	if (out_len > len + 4)
		return BAD("SYN-ACK of %zu bytes for a SYN of %zu: amplification", out_len, len);
	if (memcmp(out, in + 6, 6) || memcmp(out + 6, in, 6))
		return "MAC addresses not swapped";
	if (memcmp(out + 12, in + 12, l3 - 12))
		return "VLAN tags or EtherType changed";
	t = ip + iplen;
	if (!v6) {
		if (ip[0] != 0x45 || ip[1] != 0 || rd16(ip + 2) != iplen + tcp_len || rd16(ip + 6) != 0x4000 ||
		    ip[8] != cfg->ttl || ip[9] != 6)
			return "IPv4 header fields";
		if (ck_fold(ck_add(0, ip, 20)) != 0xffff)
			return "IPv4 header checksum";
		if (memcmp(ip + 12, p->daddr, 4) || memcmp(ip + 16, p->saddr, 4))
			return "IPv4 addresses not swapped";
	} else {
		if (rd32(ip) != 0x60000000u || rd16(ip + 4) != tcp_len || ip[6] != 6 || ip[7] != cfg->ttl)
			return "IPv6 header fields";
		if (memcmp(ip + 8, p->daddr, 16) || memcmp(ip + 24, p->saddr, 16))
			return "IPv6 addresses not swapped";
	}
	if (rd16(t) != p->dport || rd16(t + 2) != p->sport)
		return "ports not swapped";
	if (rd32(t + 8) != p->seq + 1)
		return BAD("ack %#x, want ISN + 1 = %#x", rd32(t + 8), p->seq + 1);
	ecn = (p->flags & (FR_ECE | FR_CWR)) == (FR_ECE | FR_CWR);
	if (t[12] != (tcp_len / 4) << 4 || t[13] != (FR_SYN | FR_ACK | (ecn ? FR_ECE : 0)) ||
	    rd16(t + 14) != (cfg->synack_window ? cfg->synack_window : SG_DEFAULT_SYNACK_WINDOW) ||
	    rd16(t + 18) != 0)
		return BAD("TCP header fields: doff/flags %02x%02x window %u", t[12], t[13], rd16(t + 14));
	sum = ck_pseudo(v6, ip + (v6 ? 8 : 12), ip + (v6 ? 24 : 16), tcp_len);
	if (ck_fold(ck_add(sum, t, tcp_len)) != 0xffff)
		return "TCP checksum";
	if (ts_at >= 0) {
		tsval = rd32(t + 20 + ts_at);
		memcpy(opt + ts_at, t + 20 + ts_at, 4);
	}
	if (memcmp(t + 20, opt, nopt))
		return "TCP options";

	/* The cookie: the SYN's options in the meta bits, and valid now. */
	cookie = rd32(t + 4);
	syn.mss = p->o.mss;
	syn.wscale = p->o.ws;
	syn.sack_ok = p->o.sack;
	syn.ecn_ok = ecn;
	if ((cookie & SG_COOKIE_META_MASK) != sg_cookie_meta_encode(&syn, v6))
		return BAD("cookie meta %#x, want %#x", cookie & SG_COOKIE_META_MASK, sg_cookie_meta_encode(&syn, v6));
	if (p->o.ts && ((tsval >> 8) & 0xf) != (p->o.ws == 0xff ? SG_TS_WSCALE_NONE : p->o.ws))
		return "TSval does not carry the client's window scale";
	ref_flow(p, &f);
	f.isn = p->seq;
	meta = sg_cookie_check(&secret, &f, cookie, orc->epoch[1], p->o.ts, tsval);
	if (meta < 0 && orc->epoch[0] != orc->epoch[1])
		meta = sg_cookie_check(&secret, &f, cookie, orc->epoch[0], p->o.ts, tsval);
	if (meta < 0)
		return BAD("cookie %#x (TSval %#x) does not validate", cookie, tsval);
	return NULL;
}

/* The hand-off metadata of a valid cookie ACK. */
static const char *check_meta(const struct result *r, const struct ref_pkt *p, int meta_bits)
{
	struct sg_handoff_meta hm;
	struct sg_syn_opts want;
	uint32_t payload = p->seg_len - p->hlen;

	if (r->meta_len != sizeof(hm))
		return BAD("metadata of %zu bytes, want %zu", r->meta_len, sizeof(hm));
	memcpy(&hm, r->meta, sizeof(hm));
	sg_cookie_decode(meta_bits, p->v6, p->o.ts, p->o.tsecr, &want);
	if (hm.magic != SG_HANDOFF_MAGIC || hm.mss != want.mss || hm.wscale != want.wscale ||
	    hm.sack_ok != want.sack_ok || hm.ecn_ok != want.ecn_ok || hm.tstamp_ok != p->o.ts ||
	    hm.tsval != p->o.tsval || hm.tsecr != p->o.tsecr || hm.l4_from_l3 != p->l4 - p->l3 ||
	    hm.ipv6 != p->v6 || hm.pad || hm.pad2 || hm.window != rd16(r->out + p->l4 + 14) ||
	    hm.c_next != p->seq + payload + !!(p->flags & FR_FIN))
		return BAD("metadata magic %#x mss %u ws %u sack %u ecn %u ts %u/%#x/%#x l4 %u v6 %u c_next %#x "
			   "window %u pad %u/%u", hm.magic, hm.mss, hm.wscale, hm.sack_ok, hm.ecn_ok, hm.tstamp_ok,
			   hm.tsval, hm.tsecr, hm.l4_from_l3, hm.ipv6, hm.c_next, hm.window, hm.pad, hm.pad2);
	return NULL;
}

/* ---- the generator ---- */

#define POOL 64

struct gen {
	struct rng r;
	struct fr_spec pool[POOL]; /* the client's ACKs to our SYN-ACKs */
	int npool, pool_next;
};

static void random_addr(struct rng *r, int v6, uint8_t *a)
{
	rng_bytes(r, a, v6 ? 16 : 4);
	if (v6 && rng_pct(r, 50)) {
		a[0] = 0x20, a[1] = 0x01, a[2] = 0x0d, a[3] = 0xb8;
	}
}

static uint16_t random_dport(struct rng *r)
{
	unsigned int u = rng_below(r, 100);

	if (u < 65)
		return listen_ports[rng_below(r, sizeof(listen_ports) / sizeof(listen_ports[0]))];
	if (u < 75)
		return NO_LISTENER_PORT;
	return rng_u32(r) & 0xffff;
}

/* A well-formed segment; flags chosen by the caller. */
static void spec_random(struct rng *r, struct fr_spec *s, uint8_t flags)
{
	unsigned int u;

	memset(s, 0, sizeof(*s));
	rng_bytes(r, s->dmac, 6);
	rng_bytes(r, s->smac, 6);
	s->dmac[0] &= 0xfe, s->smac[0] &= 0xfe;
	u = rng_below(r, 100);
	s->nvlan = u < 75 ? 0 : u < 90 ? 1 : u < 98 ? 2 : 3;
	for (int i = 0; i < s->nvlan; i++) {
		s->tpid[i] = rng_pct(r, 60) ? FR_ETH_8021Q : FR_ETH_8021AD;
		s->tci[i] = rng_u32(r) & 0xffff;
	}
	s->v6 = rng_pct(r, 40);
	random_addr(r, s->v6, s->saddr);
	random_addr(r, s->v6, s->daddr);
	s->tos = rng_pct(r, 80) ? 0 : rng_u32(r) & 0xff;
	s->ttl = 1 + rng_below(r, 255);
	s->ip_id = rng_u32(r) & 0xffff;
	u = rng_below(r, 100);
	s->frag = u < 85 ? 0x4000 : u < 90 ? 0 : u < 95 ? 0x2000 : (rng_u32(r) & 0x3fff);
	if (!s->v6 && rng_pct(r, 15)) {
		s->ipopt_len = 4 * (1 + rng_below(r, 10));
		for (int i = 0; i < s->ipopt_len; i++)
			s->ipopt[i] = rng_pct(r, 80) ? 1 : rng_pct(r, 50) ? 0 : rng_u32(r) & 0xff;
	}
	if (s->v6 && rng_pct(r, 30)) {
		static const uint8_t types[] = { FR_NH_HOP, FR_NH_DSTOPTS, FR_NH_ROUTING, FR_NH_FRAGMENT, FR_NH_AH };

		s->next = 1 + rng_below(r, 7);
		for (int i = 0; i < s->next; i++) {
			struct fr_ext *x = &s->ext[i];

			x->type = types[rng_below(r, sizeof(types))];
			x->lenfield = rng_pct(r, 97) ? rng_below(r, 3) : 100 + rng_below(r, 156);
			if (x->type == FR_NH_AH)
				x->lenfield &= ~1; /* a multiple of 8 bytes, as IPv6 wants */
			x->segleft = rng_pct(r, 85) ? 0 : 1 + rng_below(r, 3);
			u = rng_below(r, 100);
			x->frag = u < 80 ? 0 : u < 90 ? 1 : (1 + rng_below(r, 8000)) << 3 | rng_below(r, 2);
		}
	}
	s->sport = rng_pct(r, 90) ? 1024 + rng_below(r, 64512) : rng_u32(r) & 0xffff;
	s->dport = random_dport(r);
	/* Now and then a segment of the established connections. */
	if (rng_pct(r, 3)) {
		const struct ref_tuple *c = &conns[rng_below(r, 2)];

		s->v6 = c->v6;
		s->next = s->v6 ? s->next : 0;
		s->ipopt_len = s->v6 ? 0 : s->ipopt_len;
		memset(s->saddr, 0, 16);
		memset(s->daddr, 0, 16);
		memcpy(s->saddr, c->saddr, 16);
		memcpy(s->daddr, c->daddr, 16);
		s->sport = c->sport;
		s->dport = c->dport;
	}
	s->seq = rng_u32(r);
	s->ack = flags & FR_ACK || rng_pct(r, 10) ? rng_u32(r) : 0;
	s->flags = flags;
	s->win = rng_u32(r) & 0xffff;
	s->urg = rng_pct(r, 95) ? 0 : rng_u32(r) & 0xffff;
	s->opt_len = fr_opts_stack(r, rng_below(r, 12), s->opt);
	u = rng_below(r, 100);
	s->payload = u < 85 ? 0 : u < 97 ? 1 + rng_below(r, 200) : u < 98 ? 1800 + rng_below(r, 400)
		   : 2048 - 20 - s->opt_len - 1 + rng_below(r, 3); /* SG_MAX_SYN_SEGMENT +-1 */
	u = rng_below(r, 100);
	s->trailer = u < 88 ? 0 : u < 98 ? 1 + rng_below(r, 40) : 3000 + rng_below(r, 5000);
	s->fill = rng_u32(r) & 0xff;
}

static uint8_t random_flags(struct rng *r)
{
	static const uint8_t common[] = { FR_ACK, FR_ACK | FR_PSH, FR_ACK | FR_FIN, FR_RST, FR_RST | FR_ACK,
					  FR_FIN, 0, FR_PSH, FR_URG, FR_SYN | FR_ACK, FR_SYN | FR_FIN,
					  FR_SYN | FR_RST, FR_SYN | FR_ECE | FR_CWR };

	return rng_pct(r, 80) ? common[rng_below(r, sizeof(common))] : rng_u32(r) & 0xff;
}

static uint8_t syn_flags(struct rng *r)
{
	uint8_t f = FR_SYN;

	if (rng_pct(r, 15))
		f |= FR_ECE | FR_CWR;
	if (rng_pct(r, 5))
		f |= rng_u32(r) & (FR_PSH | FR_URG | FR_ECE | FR_CWR);
	return f;
}

/* The client's ACK to our SYN-ACK `out` for the SYN `syn` (parsed as p). */
static void pool_add(struct gen *g, const struct fr_spec *syn, const struct ref_pkt *p, const uint8_t *out)
{
	struct fr_spec *a = &g->pool[g->pool_next];
	const uint8_t *t = out + p->l3 + (p->v6 ? 40 : 20);
	uint32_t cookie = rd32(t + 4);

	*a = *syn;
	a->flags = rng_pct(&g->r, 80) ? FR_ACK : FR_ACK | FR_PSH;
	a->seq = syn->seq + 1;
	a->ack = cookie + 1;
	a->payload = a->flags & FR_PSH ? 1 + rng_below(&g->r, 100) : 0;
	a->trailer = 0;
	a->opt_len = 0;
	if (p->o.ts) {
		int ts_at = -1;

		/* Find our TSval in the SYN-ACK's options and echo it. */
		for (int i = 20; i + 10 <= (t[12] >> 4) * 4; i++)
			if (t[i] == 8 && t[i + 1] == 10) {
				ts_at = i;
				break;
			}
		if (ts_at < 0)
			return;
		a->opt[0] = 1, a->opt[1] = 1, a->opt[2] = 8, a->opt[3] = 10;
		wr32(a->opt + 4, p->o.tsval + rng_below(&g->r, 1000));
		memcpy(a->opt + 8, t + ts_at + 2, 4);
		a->opt_len = 12;
	} else if (rng_pct(&g->r, 20)) {
		a->opt[0] = 1, a->opt[1] = 1, a->opt[2] = 1, a->opt[3] = 0;
		a->opt_len = 4;
	}
	g->pool_next = (g->pool_next + 1) % POOL;
	if (g->npool < POOL)
		g->npool++;
}

enum mut {
	M_TRUNC, M_BITFLIP, M_FLAGS, M_DOFF, M_IHL, M_OPTLEN, M_IPLEN, M_FRAG, M_ETHERTYPE, M_NEXTHDR,
	M_RANGE, M_APPEND, M_DPORT, M_SHIFT, M_SEGLEFT, M_MAX
};

static const char *const mut_names[M_MAX] = { "truncate", "bitflip", "flags", "doff", "ihl", "optlen", "iplen",
					       "fragment", "ethertype", "nexthdr", "range", "append", "dport",
					       "shift", "segleft" };
static uint64_t mut_count[M_MAX];

/* Apply one mutation to frame b (length *len, made from spec s). */
static void mutate(struct rng *r, const struct fr_spec *s, uint8_t *b, size_t *len)
{
	int l3 = fr_l3_off(s), l4 = fr_l4_off(s), hdr_end = l4 + 20 + s->opt_len;
	int m = rng_below(r, M_MAX);
	size_t n = *len, off;

	mut_count[m]++;
	switch (m) {
	case M_TRUNC:
		*len = rng_pct(r, 70) && (size_t)hdr_end + 8 < n ? rng_below(r, hdr_end + 8) : rng_below(r, n + 1);
		return;
	case M_BITFLIP:
		for (int i = 1 + rng_below(r, 3); i > 0; i--) {
			off = rng_below(r, (size_t)hdr_end + 4 < n ? (size_t)hdr_end + 4 : n);
			b[off] ^= 1 << rng_below(r, 8);
		}
		return;
	case M_FLAGS:
		if ((size_t)l4 + 14 <= n)
			b[l4 + 13] = rng_pct(r, 50) ? b[l4 + 13] ^ (1 << rng_below(r, 8)) : random_flags(r);
		return;
	case M_DOFF:
		if ((size_t)l4 + 13 <= n)
			b[l4 + 12] = (rng_below(r, 16) << 4) | (b[l4 + 12] & 15);
		return;
	case M_IHL:
		if ((size_t)l3 + 1 <= n)
			b[l3] = rng_pct(r, 80) ? (b[l3] & 0xf0) | rng_below(r, 16) : (rng_below(r, 16) << 4) | (b[l3] & 15);
		return;
	case M_OPTLEN:
		if (s->opt_len && (size_t)l4 + 20 + s->opt_len <= n) {
			static const uint8_t vals[] = { 0, 1, 2, 3, 4, 8, 10, 39, 40, 41, 255 };

			off = l4 + 20 + rng_below(r, s->opt_len);
			b[off] = rng_pct(r, 70) ? vals[rng_below(r, sizeof(vals))] : rng_u32(r) & 0xff;
		}
		return;
	case M_IPLEN: {
		int at = l3 + (s->v6 ? 4 : 2);

		if ((size_t)at + 2 <= n) {
			int v = rd16(b + at);

			v = rng_pct(r, 70) ? v + (int)rng_below(r, 33) - 16 : (int)(rng_u32(r) & 0xffff);
			wr16(b + at, v & 0xffff);
		}
		return;
	}
	case M_FRAG:
		if (!s->v6 && (size_t)l3 + 8 <= n) {
			static const uint16_t vals[] = { 0x2000, 0x2001, 0x0001, 0x4000, 0x6000, 0x1fff, 0x8000 };

			wr16(b + l3 + 6, rng_pct(r, 70) ? vals[rng_below(r, sizeof(vals) / 2)] : rng_u32(r) & 0xffff);
		} else if (s->v6) {
			/* A fragment header in place of the TCP next header. */
			int at = s->next ? -1 : l3 + 6;

			if (at > 0 && (size_t)at < n)
				b[at] = FR_NH_FRAGMENT;
			else
				for (int i = 0, o = l3 + 40; i < s->next; o += fr_ext_size(&s->ext[i]), i++)
					if (s->ext[i].type == FR_NH_FRAGMENT && (size_t)o + 4 <= n)
						wr16(b + o + 2, rng_u32(r) & 0xffff);
		}
		return;
	case M_ETHERTYPE: {
		static const uint16_t vals[] = { FR_ETH_IP, FR_ETH_IPV6, FR_ETH_8021Q, FR_ETH_8021AD, FR_ETH_ARP, 0x88cc };
		int at = 12 + 4 * rng_below(r, s->nvlan + 1);

		if ((size_t)at + 2 <= n)
			wr16(b + at, rng_pct(r, 80) ? vals[rng_below(r, sizeof(vals) / 2)] : rng_u32(r) & 0xffff);
		return;
	}
	case M_NEXTHDR: {
		static const uint8_t vals[] = { FR_NH_HOP, FR_NH_TCP, FR_NH_UDP, FR_NH_ROUTING, FR_NH_FRAGMENT,
						FR_NH_AH, FR_NH_ICMP6, FR_NH_NONE, FR_NH_DSTOPTS, 50 };
		int at = l3 + (s->v6 ? 6 : 9), pick = s->v6 ? rng_below(r, s->next + 1) : 0;

		for (int i = 0, o = l3 + 40; i < pick; o += fr_ext_size(&s->ext[i]), i++)
			at = o;
		if ((size_t)at < n)
			b[at] = rng_pct(r, 80) ? vals[rng_below(r, sizeof(vals))] : rng_u32(r) & 0xff;
		return;
	}
	case M_RANGE: {
		size_t k = 1 + rng_below(r, 16);

		if (n) {
			off = rng_below(r, n);
			rng_bytes(r, b + off, off + k <= n ? k : n - off);
		}
		return;
	}
	case M_APPEND: {
		size_t k = 1 + rng_below(r, 64);

		if (n + k <= FR_MAX) {
			rng_bytes(r, b + n, k);
			*len = n + k;
		}
		return;
	}
	case M_DPORT:
		if ((size_t)l4 + 4 <= n)
			wr16(b + l4 + 2, random_dport(r));
		return;
	case M_SHIFT: {
		size_t k = 1 + rng_below(r, 8);

		off = rng_below(r, (size_t)hdr_end < n ? (size_t)hdr_end : n) + 1;
		if (off > n)
			return;
		if (rng_pct(r, 50) && n + k <= FR_MAX) { /* insert */
			memmove(b + off + k, b + off, n - off);
			rng_bytes(r, b + off, k);
			*len = n + k;
		} else if (off + k <= n) { /* delete */
			memmove(b + off, b + off + k, n - off - k);
			*len = n - k;
		}
		return;
	}
	case M_SEGLEFT:
		for (int i = 0, o = l3 + 40; s->v6 && i < s->next; o += fr_ext_size(&s->ext[i]), i++)
			if (s->ext[i].type == FR_NH_ROUTING && (size_t)o + 4 <= n)
				b[o + 3] = rng_pct(r, 50) ? 0 : rng_u32(r) & 0xff;
		return;
	}
}

enum origin { O_GARBAGE, O_ETH_GARBAGE, O_SYN, O_POOL_ACK, O_OTHER, O_MUTATED, O_MAX };
static const char *const origin_names[O_MAX] = { "garbage", "eth+garbage", "syn", "cookie-ack", "other-flags",
						 "mutated" };
static uint64_t origin_count[O_MAX];

/* Make the next frame into b; *spec is what it was built from (for an
 * untouched SYN, its ACK can join the pool once the SYN is answered). */
static size_t gen_frame(struct gen *g, uint8_t *b, int *origin, struct fr_spec *spec)
{
	struct rng *r = &g->r;
	unsigned int u = rng_below(r, 100);
	size_t len;

	if (u < 4) {
		len = rng_pct(r, 10) ? rng_below(r, 14) : 14 + rng_below(r, 300);
		rng_bytes(r, b, len);
		*origin = O_GARBAGE;
		return len;
	}
	if (u < 8) {
		static const uint16_t et[] = { FR_ETH_IP, FR_ETH_IPV6, FR_ETH_8021Q, FR_ETH_8021AD };

		len = 14 + rng_below(r, 200);
		rng_bytes(r, b, len);
		wr16(b + 12, et[rng_below(r, 4)]);
		if (rng_pct(r, 50) && len > 14) /* right IP version (and IHL) */
			b[14] = rd16(b + 12) == FR_ETH_IPV6 ? 0x60 | (b[14] & 0x0f) : 0x45;
		*origin = O_ETH_GARBAGE;
		return len;
	}
	if (u < 28) {
		spec_random(r, spec, syn_flags(r));
		*origin = O_SYN;
		return fr_build(spec, b, FR_MAX);
	}
	if (u < 36 && g->npool) {
		*spec = g->pool[rng_below(r, g->npool)];
		*origin = O_POOL_ACK;
		return fr_build(spec, b, FR_MAX);
	}
	if (u < 42) {
		spec_random(r, spec, random_flags(r));
		*origin = O_OTHER;
		return fr_build(spec, b, FR_MAX);
	}
	u = rng_below(r, 100);
	if (u < 50)
		spec_random(r, spec, syn_flags(r));
	else if (u < 70 && g->npool)
		*spec = g->pool[rng_below(r, g->npool)];
	else
		spec_random(r, spec, random_flags(r));
	len = fr_build(spec, b, FR_MAX);
	for (int i = 1 + rng_below(r, rng_pct(r, 70) ? 2 : 4); i > 0; i--)
		mutate(r, spec, b, &len);
	if (rng_pct(r, 60))
		fr_fix_checksums(b, len);
	*origin = O_MUTATED;
	return len;
}

/* ---- the run ---- */

struct tally {
	uint64_t frames, run, einval, by_verdict[5], tx, meta, meta_or_drop, by_expect[EXP_PASS_OR_TX + 1];
	uint64_t failures, syn_existing, syn_existing_tx;
	double max_ratio;
};

static void hexdump(const char *label, const uint8_t *p, size_t n)
{
	fprintf(stderr, "  %s (%zu bytes): ", label, n);
	for (size_t i = 0; i < n && i < 512; i++)
		fprintf(stderr, "%02x", p[i]);
	fprintf(stderr, "%s\n", n > 512 ? "..." : "");
}

static void fail(struct tally *t, uint64_t seed, const char *what, const char *why, const uint8_t *in, size_t len,
		 const struct result *r, int origin)
{
	t->failures++;
	if (t->failures > 10)
		return;
	fprintf(stderr, "FAIL frame %llu (%s, seed %llu): %s\n  reference: %s\n", (unsigned long long)t->frames,
		origin_names[origin], (unsigned long long)seed, what, why);
	hexdump("in", in, len);
	if (r && !r->err && r->out_len)
		hexdump("out", r->out, r->out_len);
}

/* The largest frame BPF_PROG_TEST_RUN keeps in one buffer: a SYN padded to
 * it is answered, one byte more makes it multi-buffer (never answered). */
static size_t find_linear_max(struct tally *t)
{
	static uint8_t b[FR_MAX];
	struct fr_spec s;
	struct rng r = { 1 };
	struct result res;
	size_t lo = 0, hi = 8000, len;

	spec_random(&r, &s, FR_SYN);
	s.nvlan = 0, s.v6 = 0, s.ipopt_len = 0, s.frag = 0x4000, s.dport = 80, s.sport = 40000, s.payload = 0;
	s.opt_len = fr_opts_stack(&r, 1, s.opt);
	s.trailer = 0;
	len = fr_build(&s, b, sizeof(b));
	xdp_run(b, len, &res);
	t->run++;
	t->by_verdict[res.verdict % 5]++;
	if (res.err || res.verdict != XDP_TX) {
		fprintf(stderr, "xdp_fuzz: a plain SYN to port 80 is not answered (verdict %u, error %s)\n",
			res.verdict, res.err ? strerror(res.err) : "none");
		return 0;
	}
	while (lo < hi) { /* largest trailer still answered */
		size_t mid = (lo + hi + 1) / 2;

		s.trailer = mid;
		len = fr_build(&s, b, sizeof(b));
		xdp_run(b, len, &res);
		t->run++;
		t->by_verdict[res.verdict % 5]++;
		if (!res.err && res.verdict == XDP_TX)
			lo = mid;
		else
			hi = mid - 1;
	}
	s.trailer = lo;
	return fr_len(&s);
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* Every frame ends in exactly one verdict counter (tests/fixtures/test_xdp.py
 * T99): synack_sent, cookie_valid, or a pass_* / drop_* reason. A failed
 * cookie is counted (cookie_invalid) and the drop then says why (drop_oos_*). */
static int verdict_counter(const char *name)
{
	return !strncmp(name, "pass_", 5) || !strncmp(name, "drop_", 5) || !strcmp(name, "synack_sent") ||
	       !strcmp(name, "cookie_valid");
}

static int counter_idx(const char *name)
{
	for (int i = 0; i < SG_CNT_MAX; i++)
		if (sg_counter_names[i] && !strcmp(sg_counter_names[i], name))
			return i;
	return -1;
}

static int must_have_moved(const uint64_t *c, const char *name)
{
	int k = counter_idx(name);

	if (k >= 0 && c[k])
		return 0;
	fprintf(stderr, "FAIL: counter %s never moved: the generator misses a path\n", name);
	return 1;
}

/* A counter by name; 0 for one this version does not have. */
#define C(name) (counter_idx(name) < 0 ? 0 : c[counter_idx(name)])

static int final_checks(const struct tally *t)
{
	static const char *const must_move[] = {
		"synack_sent", "cookie_valid", "cookie_invalid", "pass_not_tcp", "pass_not_protected",
		"pass_unparsed", "pass_no_listener", "pass_flow", "pass_relearned", "drop_bad_ip_csum",
		"drop_bad_tcp_csum", "drop_fragment", "drop_bad_tcp_header", "drop_bad_tcp_option", "drop_bad_flags",
		"drop_syn_too_long", "drop_oos_ack", "drop_oos_rst", "drop_oos_fin", "drop_oos_data",
	};
	uint64_t c[SG_CNT_MAX], verdicts = 0, drops = 0, passes = 0;
	int bad = 0;

	if (sg_stats_read(bpf_map__fd(skel->maps.sg_stats), c)) {
		fprintf(stderr, "FAIL: cannot read the counters\n");
		return 1;
	}
	for (int i = 0; i < SG_CNT_MAX; i++) {
		if (!sg_counter_names[i] || !verdict_counter(sg_counter_names[i]))
			continue;
		verdicts += c[i];
		if (!strncmp(sg_counter_names[i], "drop_", 5))
			drops += c[i];
		else if (strcmp(sg_counter_names[i], "synack_sent"))
			passes += c[i];
	}
#define EXPECT_EQ(a, b, what)                                                                                  \
	do {                                                                                                   \
		if ((uint64_t)(a) != (uint64_t)(b)) {                                                          \
			fprintf(stderr, "FAIL: %s: %llu != %llu\n", what, (unsigned long long)(a),             \
				(unsigned long long)(b));                                                      \
			bad = 1;                                                                               \
		}                                                                                              \
	} while (0)
	EXPECT_EQ(C("rx_packets"), t->run, "rx_packets vs frames run");
	EXPECT_EQ(verdicts, t->run, "sum of the verdict counters vs frames run");
	EXPECT_EQ(C("synack_sent"), t->by_verdict[XDP_TX], "synack_sent vs XDP_TX verdicts");
	EXPECT_EQ(C("cookie_valid"), t->meta, "cookie_valid vs passes with metadata");
	EXPECT_EQ(drops, t->by_verdict[XDP_DROP], "drop_* counters vs XDP_DROP verdicts");
	EXPECT_EQ(passes, t->by_verdict[XDP_PASS], "pass_* + cookie_valid vs XDP_PASS verdicts");
	EXPECT_EQ(C("ack_seen"), C("cookie_valid") + C("cookie_invalid") + C("drop_no_metadata"),
		  "ack_seen vs cookie_valid + cookie_invalid + drop_no_metadata");
	EXPECT_EQ(C("drop_internal"), 0, "drop_internal");
	EXPECT_EQ(C("drop_no_secret"), 0, "drop_no_secret");
	EXPECT_EQ(C("flow_insert_failed"), 0, "flow_insert_failed");
	EXPECT_EQ(t->by_verdict[XDP_ABORTED], 0, "XDP_ABORTED verdicts");
	for (size_t i = 0; i < sizeof(must_move) / sizeof(must_move[0]); i++)
		bad |= must_have_moved(c, must_move[i]);
	if (!quiet) {
		printf("counters:");
		for (int i = 0; i < SG_CNT_MAX; i++)
			if (c[i])
				printf(" %s=%llu", sg_counter_names[i], (unsigned long long)c[i]);
		printf("\n");
	}
	return bad;
}

/* --existing-check: see the top of the file. */
static int syn_on_connection_check(void)
{
	static uint8_t b[FR_MAX];
	struct rng r = { 7 };
	cpu_set_t one;
	int answered = 0;

	CPU_ZERO(&one);
	CPU_SET(0, &one);
	if (sched_setaffinity(0, sizeof(one), &one))
		fprintf(stderr, "xdp_fuzz: cannot pin to CPU 0: %s (the check may not reproduce)\n", strerror(errno));
	for (int v6 = 0; v6 < 2; v6++) {
		struct fr_spec s;
		struct result res;
		size_t len;

		spec_random(&r, &s, FR_SYN);
		s.nvlan = 0, s.next = 0, s.ipopt_len = 0, s.frag = 0x4000, s.payload = 0, s.trailer = 0;
		s.opt_len = fr_opts_stack(&r, 1, s.opt);
		s.flags = FR_SYN;
		s.v6 = v6;
		memset(s.saddr, 0, 16);
		memset(s.daddr, 0, 16);
		memcpy(s.saddr, conns[v6].saddr, 16);
		memcpy(s.daddr, conns[v6].daddr, 16);
		s.sport = conns[v6].sport;
		s.dport = CONN_PORT;
		/* First another client's SYN to the same port: answered. */
		s.sport++;
		len = fr_build(&s, b, sizeof(b));
		xdp_run(b, len, &res);
		printf("IPv%d SYN from another client to port %u: verdict %u (want %u)\n", v6 ? 6 : 4, CONN_PORT,
		       res.verdict, XDP_TX);
		/* Then one on the established connection's tuple. */
		s.sport--;
		len = fr_build(&s, b, sizeof(b));
		xdp_run(b, len, &res);
		printf("IPv%d SYN on the established connection's tuple: verdict %u (want %u, XDP_PASS: the kernel "
		       "judges it)\n", v6 ? 6 : 4, res.verdict, XDP_PASS);
		answered += res.verdict == XDP_TX;
	}
	if (answered)
		printf("FAIL: %d SYN(s) on an established, untracked connection answered with a cookie SYN-ACK "
		       "(bpf/synguard_xdp.bpf.c handle_syn: the per-CPU listener cache skips the socket lookup)\n",
		       answered);
	else
		printf("OK: SYNs on established connections go to the kernel\n");
	return answered ? 1 : 0;
}

static void usage(FILE *f)
{
	fprintf(f, "usage: xdp_fuzz [--frames N] [--seed S] [--epoch-shift 20..40] [--strict-existing] [--quiet]\n"
		   "       xdp_fuzz --existing-check\n"
		   "Random and mutated frames through the synguard XDP program (BPF_PROG_TEST_RUN),\n"
		   "each checked against a reference classifier. Needs root.\n");
}

int main(int argc, char **argv)
{
	static const struct option opts[] = { { "frames", required_argument, NULL, 'n' },
					      { "seed", required_argument, NULL, 's' },
					      { "epoch-shift", required_argument, NULL, 'e' },
					      { "strict-existing", no_argument, NULL, 'S' },
					      { "existing-check", no_argument, NULL, 'X' },
					      { "quiet", no_argument, NULL, 'q' },
					      { "help", no_argument, NULL, 'h' },
					      {} };
	static uint8_t in[FR_MAX];
	uint64_t frames = 200000, seed = 0;
	unsigned long epoch_shift = SG_DEFAULT_EPOCH_SHIFT;
	int existing_check = 0;
	struct tally t = { 0 };
	struct oracle orc = { 0 };
	struct gen *g;
	struct result r;
	double t0, dt;
	char msg[128];
	uint32_t zero = 0;
	int c;

	while ((c = getopt_long(argc, argv, "n:s:e:SXqh", opts, NULL)) != -1) {
		switch (c) {
		case 'n':
			frames = strtoull(optarg, NULL, 0);
			break;
		case 's':
			seed = strtoull(optarg, NULL, 0);
			break;
		case 'e':
			epoch_shift = strtoul(optarg, NULL, 0);
			if (epoch_shift < SG_MIN_EPOCH_SHIFT || epoch_shift > SG_MAX_EPOCH_SHIFT) {
				fprintf(stderr, "xdp_fuzz: --epoch-shift takes %d..%d\n", SG_MIN_EPOCH_SHIFT,
					SG_MAX_EPOCH_SHIFT);
				return 2;
			}
			break;
		case 'S':
			env.strict_existing = 1;
			break;
		case 'X':
			existing_check = 1;
			break;
		case 'q':
			quiet = 1;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (optind != argc) {
		usage(stderr);
		return 2;
	}
	if (!seed) {
		struct timespec ts;

		clock_gettime(CLOCK_REALTIME, &ts);
		seed = (uint64_t)ts.tv_nsec ^ (uint64_t)ts.tv_sec << 20 ^ (uint64_t)getpid() << 40;
	}
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (testns_enter("xdp_fuzz") || sockets_setup())
		return 1;
	sg_libbpf_log_setup();
	sg_settings_default(&settings);
	settings.cfg.epoch_shift = epoch_shift;
	settings.cfg.syn_rate = 0; /* no per-source limit: every good SYN is answered */
	settings.cfg.policy_flags = 0;
	if (sg_ports_parse(PORTS_ARG, settings.ports, msg, sizeof(msg))) {
		fprintf(stderr, "xdp_fuzz: %s\n", msg);
		return 1;
	}
	settings.have_ports = true;
	skel = sg_load(NULL);
	if (!skel || sg_configure(skel, &settings))
		return 1;
	prog_fd = bpf_program__fd(skel->progs.synguard_xdp);
	if (bpf_map_lookup_elem(bpf_map__fd(skel->maps.sg_secret), &zero, &secret)) {
		fprintf(stderr, "xdp_fuzz: cannot read the secret: %s\n", strerror(errno));
		return 1;
	}

	if (existing_check)
		return syn_on_connection_check();
	env.protect = settings.ports;
	env.listen = listen_map;
	env.conn = conns;
	env.nconn = 2;
	env.cookie = cookie_oracle;
	env.arg = &orc;
	env.linear_max = find_linear_max(&t);
	if (env.linear_max < 1500 || env.linear_max >= 4096) {
		fprintf(stderr, "FAIL: largest single-buffer frame answered: %zu bytes (want 1500..4095)\n",
			env.linear_max);
		return 1;
	}
	printf("xdp_fuzz: seed %llu, %llu frames, epoch 2^%lu ns, single-buffer frames up to %zu bytes\n",
	       (unsigned long long)seed, (unsigned long long)frames, epoch_shift, env.linear_max);

	g = calloc(1, sizeof(*g));
	if (!g)
		return 1;
	g->r.s = seed;
	t0 = now_s();
	for (t.frames = 0; t.frames < frames; t.frames++) {
		struct fr_spec spec;
		struct ref_pkt p;
		const char *why, *err = NULL;
		int origin, exp;
		size_t len = gen_frame(g, in, &origin, &spec);

		origin_count[origin]++;
		orc.epoch[0] = sg_epoch_now(settings.cfg.epoch_shift);
		xdp_run(in, len, &r);
		orc.epoch[1] = sg_epoch_now(settings.cfg.epoch_shift);
		exp = ref_classify(&env, in, len, &p, &why);
		t.by_expect[exp]++;

		if (r.err) {
			if (exp != EXP_EINVAL || r.err != EINVAL)
				fail(&t, seed, r.err == EINVAL ? "BPF_PROG_TEST_RUN refused the frame (EINVAL)"
							       : "BPF_PROG_TEST_RUN failed",
				     why, in, len, NULL, origin);
			else
				t.einval++;
			continue;
		}
		t.run++;
		if (r.verdict < 5)
			t.by_verdict[r.verdict]++;
		if (r.verdict == XDP_PASS && r.meta_len)
			t.meta++;

		switch (exp) {
		case EXP_EINVAL:
			err = "the frame ran, BPF_PROG_TEST_RUN should refuse it";
			break;
		case EXP_PASS:
			if (r.verdict != XDP_PASS)
				err = BAD("verdict %u, want XDP_PASS", r.verdict);
			else if (r.meta_len)
				err = "passed with hand-off metadata";
			else if (r.out_len != len || memcmp(r.out, in, len))
				err = "passed frame was modified";
			break;
		case EXP_DROP:
			if (r.verdict != XDP_DROP)
				err = BAD("verdict %u%s, want XDP_DROP", r.verdict, r.meta_len ? " with metadata" : "");
			break;
		case EXP_PASS_OR_TX:
			t.syn_existing++;
			if (r.verdict == XDP_PASS) {
				if (r.meta_len || r.out_len != len || memcmp(r.out, in, len))
					err = "passed frame was modified or has metadata";
				break;
			}
			if (r.verdict != XDP_TX)
				err = BAD("verdict %u, want XDP_PASS or XDP_TX", r.verdict);
			else if (!(err = check_synack(in, len, &p, r.out, r.out_len, &orc)))
				t.syn_existing_tx++;
			break;
		case EXP_TX:
			if (r.verdict != XDP_TX)
				err = BAD("verdict %u, want XDP_TX", r.verdict);
			else if (!(err = check_synack(in, len, &p, r.out, r.out_len, &orc))) {
				double ratio = (double)r.out_len / len;

				if (ratio > t.max_ratio)
					t.max_ratio = ratio;
				t.tx++;
				if (origin == O_SYN && rng_pct(&g->r, 25))
					pool_add(g, &spec, &p, r.out);
			}
			break;
		case EXP_PASS_OR_DROP:
			if (r.verdict == XDP_DROP)
				break;
			if (r.verdict != XDP_PASS)
				err = BAD("verdict %u, want XDP_PASS or XDP_DROP", r.verdict);
			else if (r.out_len != len || memcmp(r.out, in, len))
				err = "passed frame was modified";
			else if (r.meta_len && p.cookie != 1)
				err = "passed with hand-off metadata, but the cookie is not valid";
			else if (r.meta_len)
				err = check_meta(&r, &p, orc.meta);
			break;
		case EXP_META_OR_DROP:
			t.meta_or_drop++;
			if (r.verdict == XDP_DROP)
				break;
			/* fall through */
		case EXP_META:
			if (r.verdict != XDP_PASS || !r.meta_len)
				err = BAD("verdict %u%s, want XDP_PASS with metadata", r.verdict,
					  r.meta_len ? " with metadata" : "");
			else if (r.out_len != len || memcmp(r.out, in, len))
				err = "passed frame was modified";
			else
				err = check_meta(&r, &p, orc.meta);
			break;
		}
		if (r.verdict == XDP_ABORTED)
			err = "XDP_ABORTED";
		if (err)
			fail(&t, seed, err, BAD("%s: %s", ref_expect_name(exp), why), in, len, &r, origin);
	}
	dt = now_s() - t0;

	printf("xdp_fuzz: %llu frames in %.1f s (%.0f frames/s), seed %llu\n", (unsigned long long)t.frames, dt,
	       t.frames / dt, (unsigned long long)seed);
	printf("  made: ");
	for (int i = 0; i < O_MAX; i++)
		printf("%s%s %llu", i ? ", " : "", origin_names[i], (unsigned long long)origin_count[i]);
	printf("\n  mutations: ");
	for (int i = 0; i < M_MAX; i++)
		printf("%s%s %llu", i ? ", " : "", mut_names[i], (unsigned long long)mut_count[i]);
	printf("\n  verdicts: aborted %llu, drop %llu, pass %llu (with metadata %llu), tx %llu; refused (<14 B) %llu\n",
	       (unsigned long long)t.by_verdict[XDP_ABORTED], (unsigned long long)t.by_verdict[XDP_DROP],
	       (unsigned long long)t.by_verdict[XDP_PASS], (unsigned long long)t.meta,
	       (unsigned long long)t.by_verdict[XDP_TX], (unsigned long long)t.einval);
	printf("  largest SYN-ACK/SYN length ratio %.3f; cookie epoch changed under %llu ACKs\n", t.max_ratio,
	       (unsigned long long)t.meta_or_drop);
	printf("  SYNs on the tuple of an established connection: %llu, answered with a SYN-ACK: %llu\n",
	       (unsigned long long)t.syn_existing, (unsigned long long)t.syn_existing_tx);
	if (final_checks(&t))
		t.failures++;
	if (t.by_verdict[XDP_TX] < frames / 50 || t.meta < frames / 200) {
		fprintf(stderr, "FAIL: too few SYN-ACKs (%llu) or valid cookie ACKs (%llu): the generator is off\n",
			(unsigned long long)t.by_verdict[XDP_TX], (unsigned long long)t.meta);
		t.failures++;
	}
	printf("xdp_fuzz: %s (%llu failures)\n", t.failures ? "FAILED" : "OK", (unsigned long long)t.failures);
	if (t.failures)
		fprintf(stderr, "reproduce: xdp_fuzz --seed %llu --frames %llu --epoch-shift %lu\n",
			(unsigned long long)seed, (unsigned long long)frames, epoch_shift);
	free(g);
	synguard_xdp__destroy(skel);
	return t.failures ? 1 : 0;
}
