/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Frames for the fuzzers and the security tests: a random number generator,
 * a frame builder (Ethernet, VLAN tags, IPv4 with options or IPv6 with
 * extension headers, TCP with options, payload, trailer; lengths and
 * checksums right), mutations, and a reference classifier that says what
 * synguard's XDP stage must do with any frame.
 *
 * The classifier is written from the rules in docs/design.md and the
 * comments of include/synguard/abi.h, not from bpf/parse.h: it reads bytes
 * big-endian with explicit length checks, sums checksums as 16-bit
 * big-endian words, and walks TCP options as RFC 9293 describes them. It
 * shares nothing with the BPF code except the cookie (include/synguard/
 * cookie.h, which has its own unit tests), through a callback.
 *
 * Everything is static inline: each test includes what it uses.
 */
#ifndef SG_TEST_FRAMES_H
#define SG_TEST_FRAMES_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

/* ---- random numbers: splitmix64, fast and reproducible from one seed ---- */

struct rng {
	uint64_t s;
};

static inline uint64_t rng_u64(struct rng *r)
{
	uint64_t z = (r->s += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

static inline uint32_t rng_u32(struct rng *r)
{
	return (uint32_t)(rng_u64(r) >> 32);
}

/* Uniform in [0, n), n > 0 (multiply-shift; the bias is below 2^-32). */
static inline uint32_t rng_below(struct rng *r, uint32_t n)
{
	return (uint32_t)(((uint64_t)rng_u32(r) * n) >> 32);
}

/* True with probability pct/100. */
static inline int rng_pct(struct rng *r, unsigned int pct)
{
	return rng_below(r, 100) < pct;
}

static inline void rng_bytes(struct rng *r, uint8_t *p, size_t n)
{
	while (n >= 8) {
		uint64_t v = rng_u64(r);

		memcpy(p, &v, 8);
		p += 8;
		n -= 8;
	}
	if (n) {
		uint64_t v = rng_u64(r);

		memcpy(p, &v, n);
	}
}

/* ---- byte access, big-endian ---- */

static inline uint16_t rd16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static inline uint32_t rd32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static inline void wr16(uint8_t *p, uint16_t v)
{
	p[0] = v >> 8;
	p[1] = v & 0xff;
}

static inline void wr32(uint8_t *p, uint32_t v)
{
	p[0] = v >> 24;
	p[1] = (v >> 16) & 0xff;
	p[2] = (v >> 8) & 0xff;
	p[3] = v & 0xff;
}

/* ---- Internet checksum, RFC 1071, as 16-bit big-endian words ---- */

static inline uint32_t ck_add(uint32_t sum, const uint8_t *p, size_t n)
{
	size_t i;

	for (i = 0; i + 1 < n; i += 2)
		sum += rd16(p + i);
	if (n & 1)
		sum += (uint32_t)p[n - 1] << 8;
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return sum;
}

static inline uint16_t ck_fold(uint32_t sum)
{
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)sum;
}

/* Pseudo-header sum; addresses as they sit in the packet (4 or 16 bytes). */
static inline uint32_t ck_pseudo(int v6, const uint8_t *saddr, const uint8_t *daddr, uint32_t tcp_len)
{
	uint32_t sum = 0;

	sum = ck_add(sum, saddr, v6 ? 16 : 4);
	sum = ck_add(sum, daddr, v6 ? 16 : 4);
	sum += 6; /* next header / protocol: TCP */
	sum += tcp_len >> 16;
	sum += tcp_len & 0xffff;
	return ck_fold(sum);
}

/* ---- constants of the wire formats ---- */

#define FR_ETH_IP 0x0800
#define FR_ETH_IPV6 0x86dd
#define FR_ETH_8021Q 0x8100
#define FR_ETH_8021AD 0x88a8
#define FR_ETH_ARP 0x0806

#define FR_FIN 0x01
#define FR_SYN 0x02
#define FR_RST 0x04
#define FR_PSH 0x08
#define FR_ACK 0x10
#define FR_URG 0x20
#define FR_ECE 0x40
#define FR_CWR 0x80

#define FR_NH_HOP 0
#define FR_NH_TCP 6
#define FR_NH_UDP 17
#define FR_NH_ROUTING 43
#define FR_NH_FRAGMENT 44
#define FR_NH_AH 51
#define FR_NH_ICMP6 58
#define FR_NH_NONE 59
#define FR_NH_DSTOPTS 60

#define FR_MAX 16384 /* largest frame the generators build */

/* ---- frame description and builder ---- */

struct fr_ext {
	uint8_t type;	  /* FR_NH_HOP, _DSTOPTS, _ROUTING, _FRAGMENT, _AH */
	uint8_t lenfield; /* the header's own length byte */
	uint8_t segleft;  /* routing */
	uint16_t frag;	  /* fragment: offset << 3 | M */
};

struct fr_spec {
	uint8_t dmac[6], smac[6];
	int nvlan;		/* 0..3 */
	uint16_t tpid[3], tci[3];
	int v6;
	uint8_t saddr[16], daddr[16]; /* IPv4: first 4 bytes */
	uint8_t tos, ttl;
	uint16_t ip_id, frag;	/* IPv4 flags + offset, host order */
	uint8_t ipopt[40];
	int ipopt_len;		/* multiple of 4 */
	int next;
	struct fr_ext ext[8];
	uint16_t sport, dport;
	uint32_t seq, ack;
	uint8_t flags;
	uint16_t win, urg;
	uint8_t opt[40];
	int opt_len;		/* multiple of 4 */
	int payload;		/* bytes */
	int trailer;		/* Ethernet trailer bytes after the IP packet */
	uint8_t fill;		/* payload byte; the trailer is fill ^ 0xa5 */
};

static inline int fr_ext_size(const struct fr_ext *e)
{
	switch (e->type) {
	case FR_NH_FRAGMENT:
		return 8;
	case FR_NH_AH:
		return (e->lenfield + 2) * 4;
	default:
		return (e->lenfield + 1) * 8;
	}
}

static inline int fr_l3_off(const struct fr_spec *s)
{
	return 14 + 4 * s->nvlan;
}

static inline int fr_l4_off(const struct fr_spec *s)
{
	int off = fr_l3_off(s);

	if (!s->v6)
		return off + 20 + s->ipopt_len;
	off += 40;
	for (int i = 0; i < s->next; i++)
		off += fr_ext_size(&s->ext[i]);
	return off;
}

/* Length of the frame fr_build() makes. */
static inline size_t fr_len(const struct fr_spec *s)
{
	return fr_l4_off(s) + 20 + s->opt_len + s->payload + s->trailer;
}

/* Build the frame; returns its length, or 0 if it does not fit in cap. */
static inline size_t fr_build(const struct fr_spec *s, uint8_t *b, size_t cap)
{
	size_t len = fr_len(s);
	int l3 = fr_l3_off(s), l4 = fr_l4_off(s), tcp_len = 20 + s->opt_len + s->payload, p;
	uint32_t sum;

	if (len > cap)
		return 0;
	memcpy(b, s->dmac, 6);
	memcpy(b + 6, s->smac, 6);
	p = 12;
	for (int i = 0; i < s->nvlan; i++) {
		wr16(b + p, s->tpid[i]);
		wr16(b + p + 2, s->tci[i]);
		p += 4;
	}
	wr16(b + p, s->v6 ? FR_ETH_IPV6 : FR_ETH_IP);

	if (!s->v6) {
		uint8_t *ip = b + l3;
		int hl = 20 + s->ipopt_len;

		ip[0] = 0x40 | (hl / 4);
		ip[1] = s->tos;
		wr16(ip + 2, hl + tcp_len);
		wr16(ip + 4, s->ip_id);
		wr16(ip + 6, s->frag);
		ip[8] = s->ttl;
		ip[9] = FR_NH_TCP;
		wr16(ip + 10, 0);
		memcpy(ip + 12, s->saddr, 4);
		memcpy(ip + 16, s->daddr, 4);
		memcpy(ip + 20, s->ipopt, s->ipopt_len);
		wr16(ip + 10, ~ck_add(0, ip, hl) & 0xffff);
	} else {
		uint8_t *ip = b + l3, *e = ip + 40;
		int plen = l4 - l3 - 40 + tcp_len;

		wr32(ip, 0x60000000u | (uint32_t)s->tos << 20 | 0x12345);
		wr16(ip + 4, plen);
		ip[6] = s->next ? s->ext[0].type : FR_NH_TCP;
		ip[7] = s->ttl;
		memcpy(ip + 8, s->saddr, 16);
		memcpy(ip + 24, s->daddr, 16);
		for (int i = 0; i < s->next; i++) {
			const struct fr_ext *x = &s->ext[i];
			int n = fr_ext_size(x);

			memset(e, 0, n);
			e[0] = i + 1 < s->next ? s->ext[i + 1].type : FR_NH_TCP;
			switch (x->type) {
			case FR_NH_FRAGMENT:
				wr16(e + 2, x->frag);
				wr32(e + 4, 0x5347u + i);
				break;
			case FR_NH_ROUTING:
				e[1] = x->lenfield;
				e[2] = 4; /* segment routing header */
				e[3] = x->segleft;
				break;
			case FR_NH_AH:
				e[1] = x->lenfield;
				wr32(e + 4, 0x100 + i); /* SPI */
				break;
			default: /* hop-by-hop, destination options: one PadN */
				e[1] = x->lenfield;
				e[2] = 1;
				e[3] = n - 4;
				break;
			}
			e += n;
		}
	}

	{
		uint8_t *t = b + l4;

		wr16(t, s->sport);
		wr16(t + 2, s->dport);
		wr32(t + 4, s->seq);
		wr32(t + 8, s->ack);
		t[12] = ((20 + s->opt_len) / 4) << 4;
		t[13] = s->flags;
		wr16(t + 14, s->win);
		wr16(t + 16, 0);
		wr16(t + 18, s->urg);
		memcpy(t + 20, s->opt, s->opt_len);
		memset(t + 20 + s->opt_len, s->fill, s->payload);
		sum = ck_pseudo(s->v6, b + l3 + (s->v6 ? 8 : 12), b + l3 + (s->v6 ? 24 : 16), tcp_len);
		wr16(t + 16, ~ck_add(sum, t, tcp_len) & 0xffff);
	}
	memset(b + len - s->trailer, s->fill ^ 0xa5, s->trailer);
	return len;
}

/* ---- TCP options ---- */

/* Options as a stack would send them (padded with EOL to a multiple of 4).
 * Returns the length. `which`: 0 none, 1 Linux, 2 Windows, 3 macOS, 4 TS
 * only, 5 MSS only, 6 SACK only, 7.. random well-formed. */
static inline int fr_opts_stack(struct rng *r, int which, uint8_t *o)
{
	static const uint8_t linux_[] = { 2, 4, 5, 0xb4, 4, 2, 8, 10, 1, 2, 3, 4, 0, 0, 0, 0, 1, 3, 3, 7 };
	static const uint8_t windows[] = { 2, 4, 5, 0xb4, 1, 3, 3, 8, 1, 1, 4, 2 };
	static const uint8_t macos[] = { 2, 4, 5, 0xb4, 1, 3, 3, 6, 1, 1, 8, 10, 0x7a, 0x3b, 0x2c, 0x1d, 0, 0, 0, 0, 4, 2, 0, 0 };
	static const uint8_t tsonly[] = { 1, 1, 8, 10, 0, 0, 0, 1, 0, 0, 0, 0 };
	int n = 0;

	switch (which) {
	case 0:
		return 0;
	case 1:
		memcpy(o, linux_, sizeof(linux_));
		wr32(o + 8, rng_u32(r));
		o[19] = rng_below(r, 16);
		return sizeof(linux_);
	case 2:
		memcpy(o, windows, sizeof(windows));
		return sizeof(windows);
	case 3:
		memcpy(o, macos, sizeof(macos));
		return sizeof(macos);
	case 4:
		memcpy(o, tsonly, sizeof(tsonly));
		wr32(o + 4, rng_u32(r));
		return sizeof(tsonly);
	case 5:
		o[0] = 2, o[1] = 4;
		wr16(o + 2, rng_pct(r, 70) ? 1460 : rng_u32(r) & 0xffff);
		return 4;
	case 6:
		o[0] = 4, o[1] = 2, o[2] = 1, o[3] = 1;
		return 4;
	}
	/* Random but well formed: known kinds with right and wrong lengths,
	 * unknown kinds, NOPs, sometimes an EOL with garbage after it. */
	while (n < 40) {
		int room = 40 - n, k = rng_below(r, 10);

		if (k == 0 && room >= 4) {
			o[n] = 2, o[n + 1] = 4;
			wr16(o + n + 2, rng_pct(r, 20) ? 0 : rng_u32(r) & 0xffff);
			n += 4;
		} else if (k == 1 && room >= 3) {
			o[n] = 3, o[n + 1] = 3, o[n + 2] = rng_pct(r, 70) ? rng_below(r, 15) : rng_u32(r) & 0xff;
			n += 3;
		} else if (k == 2 && room >= 2) {
			o[n] = 4, o[n + 1] = 2;
			n += 2;
		} else if (k == 3 && room >= 10) {
			o[n] = 8, o[n + 1] = 10;
			rng_bytes(r, o + n + 2, 8);
			n += 10;
		} else if (k == 4) {
			o[n++] = 1;
		} else if (k == 5 && room >= 2) {
			/* any kind but EOL/NOP, any fitting length >= 2 (known
			 * kinds with a wrong length are ignored) */
			int len = 2 + rng_below(r, room - 1 < 10 ? room - 1 : 10);

			o[n] = 2 + rng_below(r, 254);
			o[n + 1] = len;
			rng_bytes(r, o + n + 2, len - 2);
			n += len;
		} else if (k == 6) {
			o[n++] = 0; /* EOL: the rest is not looked at */
			rng_bytes(r, o + n, 40 - n);
			n += rng_below(r, 40 - n + 1);
			break;
		} else if (k >= 7) {
			break;
		}
	}
	while (n % 4)
		o[n++] = 0;
	return n;
}

/* ---- reference classifier ---- */

struct ref_opts {
	int bad;		/* an option of length 0/1 or past the header/frame */
	uint16_t mss;		/* 0: none (or 0) */
	uint8_t ws;		/* 0xff: none; else clamped to 14 */
	uint8_t sack;
	uint8_t ts;
	uint32_t tsval, tsecr;
};

/* RFC 9293 3.1 option walk over o[0..n), of which only o[0..avail) may be
 * read (the rest lies beyond what the program can see). */
static inline void ref_opts_parse(const uint8_t *o, int n, int avail, struct ref_opts *r)
{
	int i = 0;

	memset(r, 0, sizeof(*r));
	r->ws = 0xff;
	while (i < n) {
		int kind, len;

		if (i >= avail) {
			r->bad = 1;
			return;
		}
		kind = o[i];
		if (kind == 0)
			return;
		if (kind == 1) {
			i++;
			continue;
		}
		if (i + 1 >= n || i + 1 >= avail) {
			r->bad = 1;
			return;
		}
		len = o[i + 1];
		if (len < 2 || i + len > n) {
			r->bad = 1;
			return;
		}
		if (i + len > avail && ((kind == 2 && len == 4) || (kind == 3 && len == 3) ||
					(kind == 8 && len == 10))) {
			r->bad = 1; /* would read past what is there */
			return;
		}
		if (kind == 2 && len == 4)
			r->mss = rd16(o + i + 2);
		else if (kind == 3 && len == 3)
			r->ws = o[i + 2] > 14 ? 14 : o[i + 2];
		else if (kind == 4 && len == 2)
			r->sack = 1;
		else if (kind == 8 && len == 10) {
			r->ts = 1;
			r->tsval = rd32(o + i + 2);
			r->tsecr = rd32(o + i + 6);
		}
		i += len;
	}
}

/* Where the headers are, as far as the frame lets us see. */
struct ref_pkt {
	int l3, l4;		/* -1: not reached */
	int v6, ihl;		/* ihl: IPv4 header bytes */
	int frag_first;		/* first fragment (more follow) */
	int len_ok;		/* IP length fields consistent with the frame */
	int seg_len;		/* TCP header + payload from the IP lengths */
	int hlen;		/* TCP header bytes (doff * 4) */
	uint8_t saddr[16], daddr[16];
	uint16_t sport, dport;
	uint32_t seq, ack;
	uint8_t flags;
	struct ref_opts o;
	int cookie;		/* the cookie oracle's answer (ACKs only) */
};

enum ref_expect {
	EXP_EINVAL,	/* BPF_PROG_TEST_RUN refuses it (< 14 bytes) */
	EXP_PASS,	/* XDP_PASS, frame untouched, no metadata */
	EXP_DROP,	/* XDP_DROP */
	EXP_TX,		/* our SYN-ACK */
	EXP_META,	/* XDP_PASS with hand-off metadata: a valid cookie ACK */
	EXP_META_OR_DROP, /* either: the cookie's epoch changed during the run */
	EXP_PASS_OR_DROP, /* a tracked connection's segment: the flow's state decides
			   * (metadata only if the cookie is valid too) */
	EXP_PASS_OR_TX,	/* a SYN on the tuple of a connection the kernel has */
};

static inline const char *ref_expect_name(int e)
{
	static const char *const n[] = { "EINVAL", "XDP_PASS", "XDP_DROP", "XDP_TX", "XDP_PASS+meta",
					 "XDP_PASS+meta or XDP_DROP", "XDP_PASS or XDP_DROP", "XDP_PASS or XDP_TX" };

	return e >= 0 && e <= EXP_PASS_OR_TX ? n[e] : "?";
}

struct ref_tuple {
	int v6;
	uint8_t saddr[16], daddr[16];
	uint16_t sport, dport;
};

struct ref_env {
	const uint64_t *protect;	/* protected destination ports, bitmap */
	const uint64_t *listen;		/* ports with a listener (both families) */
	const struct ref_tuple *conn;	/* established connections, client -> server */
	int nconn;
	size_t linear_max;		/* frames longer than this are multi-buffer */
	int strict_existing;		/* a SYN of an existing connection must pass */
	/* The cookie: 1 valid, 0 invalid, -1 valid in one of the run's
	 * epochs only. NULL: every ACK is invalid. */
	int (*cookie)(void *arg, const struct ref_pkt *p);
	void *arg;
};

static inline int ref_bit(const uint64_t *map, uint16_t port)
{
	return map && (map[port / 64] >> (port % 64)) & 1;
}

static inline int ref_is_conn(const struct ref_env *e, const struct ref_pkt *p)
{
	int n = p->v6 ? 16 : 4;

	for (int i = 0; i < e->nconn; i++) {
		const struct ref_tuple *t = &e->conn[i];

		if (t->v6 == p->v6 && t->sport == p->sport && t->dport == p->dport &&
		    !memcmp(t->saddr, p->saddr, n) && !memcmp(t->daddr, p->daddr, n))
			return 1;
	}
	return 0;
}

/*
 * Find the IP and TCP headers. Returns 1 when the TCP ports are visible
 * (p->l4 set), 0 when the frame is not ours to judge (not IP, not TCP,
 * not parseable to the ports, a later fragment, an IPv6 packet in transit);
 * *why says which. `lin`: how much of the frame is readable (the linear
 * part), `len`: the whole frame.
 */
static inline int ref_locate(const uint8_t *f, size_t len, size_t lin, struct ref_pkt *p, const char **why)
{
	size_t off = 14, l3, pend;
	uint16_t et;
	int nh;

	memset(p, 0, sizeof(*p));
	p->l3 = p->l4 = -1;
	if (lin < 14) {
		*why = "shorter than Ethernet";
		return 0;
	}
	et = rd16(f + 12);
	for (int i = 0; i < 2 && (et == FR_ETH_8021Q || et == FR_ETH_8021AD); i++) {
		if (off + 4 > lin) {
			*why = "truncated VLAN tag";
			return 0;
		}
		et = rd16(f + off + 2);
		off += 4;
	}
	l3 = off;
	p->l3 = l3;
	if (et == FR_ETH_IP) {
		int ver, ihl, tot;
		uint16_t frag;

		if (l3 + 20 > lin) {
			*why = "truncated IPv4 header";
			return 0;
		}
		ver = f[l3] >> 4;
		ihl = (f[l3] & 15) * 4;
		if (ver != 4 || ihl < 20) {
			*why = "IPv4 version or IHL wrong";
			return 0;
		}
		if (f[l3 + 9] != FR_NH_TCP) {
			*why = "IPv4, not TCP";
			return 0;
		}
		frag = rd16(f + l3 + 6);
		if (frag & 0x1fff) {
			*why = "IPv4 later fragment";
			return 0;
		}
		p->frag_first = !!(frag & 0x2000);
		p->ihl = ihl;
		tot = rd16(f + l3 + 2);
		memcpy(p->saddr, f + l3 + 12, 4);
		memcpy(p->daddr, f + l3 + 16, 4);
		p->l4 = l3 + ihl;
		p->len_ok = tot >= ihl && l3 + tot <= len;
		p->seg_len = tot - ihl;
	} else if (et == FR_ETH_IPV6) {
		if (l3 + 40 > lin) {
			*why = "truncated IPv6 header";
			return 0;
		}
		if (f[l3] >> 4 != 6) {
			*why = "IPv6 version wrong";
			return 0;
		}
		p->v6 = 1;
		memcpy(p->saddr, f + l3 + 8, 16);
		memcpy(p->daddr, f + l3 + 24, 16);
		nh = f[l3 + 6];
		off = l3 + 40;
		pend = off + rd16(f + l3 + 4);
		/* Up to 6 extension headers (SG_MAX_IPV6_EXT_HDRS, design.md:
		 * "skip extension headers up to a fixed bound"). */
		for (int i = 0; i < 6 && nh != FR_NH_TCP; i++) {
			size_t hl;

			switch (nh) {
			case FR_NH_ROUTING:
				if (off + 4 > lin) {
					*why = "truncated routing header";
					return 0;
				}
				if (f[off + 3]) {
					*why = "IPv6 routing header, segments left: in transit";
					return 0;
				}
				hl = (f[off + 1] + 1) * 8;
				break;
			case FR_NH_HOP:
			case FR_NH_DSTOPTS:
				if (off + 2 > lin) {
					*why = "truncated options header";
					return 0;
				}
				hl = (f[off + 1] + 1) * 8;
				break;
			case FR_NH_AH:
				if (off + 2 > lin) {
					*why = "truncated AH";
					return 0;
				}
				hl = (f[off + 1] + 2) * 4;
				break;
			case FR_NH_FRAGMENT:
				if (off + 8 > lin) {
					*why = "truncated fragment header";
					return 0;
				}
				if (rd16(f + off + 2) & 0xfff8) {
					*why = "IPv6 later fragment";
					return 0;
				}
				if (rd16(f + off + 2) & 1)
					p->frag_first = 1;
				hl = 8;
				break;
			default:
				*why = "IPv6, not TCP";
				return 0;
			}
			nh = f[off];
			off += hl;
		}
		if (nh != FR_NH_TCP) {
			*why = "IPv6 extension header chain longer than 6";
			return 0;
		}
		p->l4 = off;
		p->len_ok = off <= pend && pend <= len;
		p->seg_len = (int)(pend - off);
	} else {
		*why = "not IP";
		return 0;
	}
	if ((size_t)p->l4 + 4 > lin) {
		*why = "TCP ports not in the frame";
		return 0;
	}
	p->sport = rd16(f + p->l4);
	p->dport = rd16(f + p->l4 + 2);
	return 1;
}

/*
 * What the XDP stage must do with frame f (design.md, "Data path rules"):
 * pass what is not ours untouched; drop what is ours and wrong; answer a
 * well-formed SYN to a protected port that has a listener; pass a valid
 * cookie ACK with hand-off metadata. *why explains the decision.
 */
static inline int ref_classify(const struct ref_env *e, const uint8_t *f, size_t len, struct ref_pkt *p,
			       const char **why)
{
	size_t lin = len < e->linear_max ? len : e->linear_max;
	int multi = len > e->linear_max, l4, conn, cookie;

	if (len < 14) {
		*why = "shorter than an Ethernet header";
		return EXP_EINVAL;
	}
	if (!ref_locate(f, len, lin, p, why))
		return EXP_PASS;
	if (!ref_bit(e->protect, p->dport)) {
		*why = "port not protected";
		return EXP_PASS;
	}
	/* Ours from here on. */
	if (p->frag_first) {
		*why = "first fragment to a protected port";
		return EXP_DROP;
	}
	l4 = p->l4;
	if (!p->len_ok || p->seg_len < 20 || (size_t)l4 + 20 > lin) {
		*why = "IP lengths inconsistent or no room for a TCP header";
		return EXP_DROP;
	}
	p->hlen = (f[l4 + 12] >> 4) * 4;
	if (p->hlen < 20 || p->hlen > p->seg_len) {
		*why = "TCP data offset below 5 or past the segment";
		return EXP_DROP;
	}
	p->seq = rd32(f + l4 + 4);
	p->ack = rd32(f + l4 + 8);
	p->flags = f[l4 + 13];
	if ((p->flags & FR_SYN) && (p->flags & (FR_FIN | FR_RST))) {
		*why = "SYN with FIN or RST";
		return EXP_DROP;
	}
	{
		size_t avail = lin - (l4 + 20) < (size_t)(p->hlen - 20) ? lin - (l4 + 20) : (size_t)(p->hlen - 20);

		ref_opts_parse(f + l4 + 20, p->hlen - 20, (int)avail, &p->o);
	}
	conn = ref_is_conn(e, p);

	if ((p->flags & FR_SYN) && !(p->flags & FR_ACK)) {
		uint32_t sum;

		if (!p->v6 && ck_fold(ck_add(0, f + p->l3, p->ihl)) != 0xffff) {
			*why = "SYN with a bad IPv4 header checksum";
			return EXP_DROP;
		}
		if (p->seg_len > 2048 || multi) {
			*why = "SYN longer than we checksum and rewrite";
			return EXP_DROP;
		}
		sum = ck_pseudo(p->v6, p->saddr, p->daddr, p->seg_len);
		if (ck_fold(ck_add(sum, f + l4, p->seg_len)) != 0xffff) {
			*why = "SYN with a bad TCP checksum";
			return EXP_DROP;
		}
		if (p->o.bad) {
			*why = "SYN with a malformed option";
			return EXP_DROP;
		}
		if (conn) {
			/* The kernel's to judge (challenge ACK) by design.md; but
			 * synguard's SYN path may skip the socket lookup when it
			 * saw a listener on the port lately (bpf/synguard_xdp.bpf.c
			 * handle_syn, "XXX"), and then answers. Both are allowed;
			 * the caller counts the answers. */
			*why = "SYN of an existing connection: the kernel judges it (or a cookie)";
			return e->strict_existing ? EXP_PASS : EXP_PASS_OR_TX;
		}
		if (!ref_bit(e->listen, p->dport)) {
			*why = "SYN to a port nobody listens on: the kernel answers";
			return EXP_PASS;
		}
		*why = "well-formed SYN to a protected port with a listener";
		return EXP_TX;
	}
	/* Every other segment: the flow table (design.md: "Established flows
	 * take a fast path"), a cookie ACK, a connection the kernel has (then
	 * learned), or out of state: dropped. */
	/* A handshake's last segment: ACK without SYN or RST. */
	cookie = !p->o.bad && (p->flags & FR_ACK) && !(p->flags & (FR_RST | FR_SYN)) && e->cookie ? e->cookie(e->arg, p)
												    : 0;
	p->cookie = cookie;
	if (conn) {
		*why = "segment of a connection the kernel has (tracked once seen)";
		return EXP_PASS_OR_DROP;
	}
	/* A valid cookie makes state: only an intact segment may (when it is
	 * short enough to be summed in XDP). */
	if (cookie && p->seg_len <= 2048 && !multi &&
	    ((!p->v6 && ck_fold(ck_add(0, f + p->l3, p->ihl)) != 0xffff) ||
	     ck_fold(ck_add(ck_pseudo(p->v6, p->saddr, p->daddr, p->seg_len), f + l4, p->seg_len)) != 0xffff)) {
		*why = "ACK with a valid cookie but a bad checksum";
		return EXP_DROP;
	}
	if (cookie == 1) {
		*why = "ACK with a valid cookie";
		return EXP_META;
	}
	if (cookie < 0) {
		*why = "ACK whose cookie is valid in one of the run's epochs";
		return EXP_META_OR_DROP;
	}
	*why = (p->flags & FR_RST)    ? "RST of no connection: out of state"
	       : p->o.bad	      ? "segment with a malformed option"
	       : !(p->flags & FR_ACK) ? "segment without ACK of no connection: out of state"
				      : "ACK with a wrong cookie";
	return EXP_DROP;
}

/* After a mutation: make the checksums right again where the headers can be
 * found, so that mutated frames get past the checksum checks too. */
static inline void fr_fix_checksums(uint8_t *f, size_t len)
{
	struct ref_pkt p;
	const char *why;
	uint32_t sum;

	if (!ref_locate(f, len, len, &p, &why))
		return;
	if (!p.v6 && (size_t)p.l3 + p.ihl <= len) {
		wr16(f + p.l3 + 10, 0);
		wr16(f + p.l3 + 10, ~ck_add(0, f + p.l3, p.ihl) & 0xffff);
	}
	if (p.len_ok && p.seg_len >= 18) {
		wr16(f + p.l4 + 16, 0);
		sum = ck_pseudo(p.v6, p.saddr, p.daddr, p.seg_len);
		wr16(f + p.l4 + 16, ~ck_add(sum, f + p.l4, p.seg_len) & 0xffff);
	}
}

#endif /* SG_TEST_FRAMES_H */
