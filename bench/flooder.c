// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * sg_flooder: a bounded SYN flood for the benchmark lab, from one core.
 *
 * Spoofed TCP SYNs, each from a random address of a test prefix (default
 * 198.18.0.0/15, RFC 2544's benchmarking range; or an IPv6 /48 under
 * fd00::/8), with a random source port, ISN and TSval, built as Linux builds
 * them: DF, TTL 64, window 64240, options MSS, SACK-permitted, timestamps,
 * NOP, window scale 7; valid IPv4 and TCP checksums. Frames go out of an
 * AF_PACKET socket in sendmmsg() batches (qdisc bypassed, send buffer
 * enlarged), paced to --pps or as fast as one core can, and stop at --count
 * frames or --duration seconds, whichever comes first (both always apply).
 * At the end one JSON line on stdout reports what it achieved.
 *
 * Safety: it refuses to run in the initial network namespace, on anything
 * but a veth interface, and with a destination or source prefix outside
 * 10/8, 172.16/12, 192.168/16, 198.18/15 and fd00::/8.
 *
 * Why not trafgen or hping3: trafgen 0.6.8 aborts on veth ("Flushing
 * TX_RING failed") unless the global wmem sysctls are raised, and hping3
 * cannot send DF with Linux's SYN options.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <linux/ethtool.h>
#include <linux/if_packet.h>
#include <linux/sockios.h>
#include <net/ethernet.h>
#include <net/if.h>
#include <netinet/in.h>
#include <sched.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define MAX_BATCH 256
#define FRAME_MAX 128
#define MAX_DURATION_S 600.0
#define MAX_COUNT 2000000000LL
#define SYN_OPT_LEN 20

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

/* ---- addresses and the allowed ranges ---- */

struct prefix {
	int family;
	uint8_t addr[16];
	unsigned int len;
};

static const char *const allowed_text[] = { "10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "198.18.0.0/15",
					    "fd00::/8" };

static int parse_prefix(const char *s, struct prefix *p, bool need_len)
{
	char buf[INET6_ADDRSTRLEN + 8], *slash;
	long len;

	if (strlen(s) >= sizeof(buf))
		return -1;
	strcpy(buf, s);
	slash = strchr(buf, '/');
	if (slash)
		*slash = 0;
	else if (need_len)
		return -1;
	memset(p, 0, sizeof(*p));
	p->family = strchr(buf, ':') ? AF_INET6 : AF_INET;
	if (inet_pton(p->family, buf, p->addr) != 1)
		return -1;
	len = p->family == AF_INET ? 32 : 128;
	if (slash) {
		char *end;
		long l = strtol(slash + 1, &end, 10);

		if (*end || l < 0 || l > len)
			return -1;
		len = l;
	}
	p->len = len;
	return 0;
}

/* Does prefix `in` lie entirely inside prefix `out`? */
static bool prefix_within(const struct prefix *in, const struct prefix *out)
{
	if (in->family != out->family || in->len < out->len)
		return false;
	for (unsigned int bit = 0; bit < out->len; bit++)
		if (((in->addr[bit / 8] ^ out->addr[bit / 8]) >> (7 - bit % 8)) & 1)
			return false;
	return true;
}

static bool prefix_allowed(const struct prefix *p)
{
	for (size_t i = 0; i < sizeof(allowed_text) / sizeof(allowed_text[0]); i++) {
		struct prefix a;

		if (!parse_prefix(allowed_text[i], &a, true) && prefix_within(p, &a))
			return true;
	}
	return false;
}

/* ---- the lab checks ---- */

/* The initial network namespace has this fixed inode number (the kernel's
 * PROC_NET_INIT_INO, include/linux/proc_ns.h). */
#define NET_INIT_INO 0xEFFFFFF9U

/* Not in the initial network namespace, nor in PID 1's (when we may look). */
static int check_netns(void)
{
	struct stat self, init;

	if (stat("/proc/self/ns/net", &self)) {
		fprintf(stderr, "sg_flooder: cannot tell which network namespace this is (%s): refusing to run\n",
			strerror(errno));
		return -1;
	}
	if (self.st_ino == NET_INIT_INO ||
	    (!stat("/proc/1/ns/net", &init) && self.st_ino == init.st_ino && self.st_dev == init.st_dev)) {
		fprintf(stderr, "sg_flooder: this is the host's network namespace; run it only inside a lab namespace "
				"(nsenter --net=/run/netns/NAME sg_flooder ...)\n");
		return -1;
	}
	return 0;
}

static int check_veth(int fd, const char *ifname)
{
	struct ethtool_drvinfo info = { .cmd = ETHTOOL_GDRVINFO };
	struct ifreq ifr = {};

	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", ifname);
	ifr.ifr_data = (void *)&info;
	if (ioctl(fd, SIOCETHTOOL, &ifr)) {
		fprintf(stderr, "sg_flooder: cannot ask %s for its driver: %s\n", ifname, strerror(errno));
		return -1;
	}
	if (strcmp(info.driver, "veth")) {
		fprintf(stderr, "sg_flooder: %s is a %s interface; it sends only on veth (lab) interfaces\n", ifname,
			info.driver);
		return -1;
	}
	return 0;
}

/* ---- frames ---- */

static uint64_t rng_state;

static inline uint64_t rnd(void)
{
	/* xorshift64*: plenty for addresses and ports. */
	rng_state ^= rng_state >> 12;
	rng_state ^= rng_state << 25;
	rng_state ^= rng_state >> 27;
	return rng_state * 0x2545f4914f6cdd1dULL;
}

static inline uint32_t csum_add(uint32_t sum, const uint8_t *p, size_t len)
{
	for (size_t i = 0; i + 1 < len; i += 2)
		sum += (uint32_t)p[i] << 8 | p[i + 1];
	if (len & 1)
		sum += (uint32_t)p[len - 1] << 8;
	return sum;
}

static inline uint16_t csum_fold(uint32_t sum)
{
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
}

static inline void put16(uint8_t *p, uint16_t v)
{
	p[0] = v >> 8;
	p[1] = v;
}

static inline void put32(uint8_t *p, uint32_t v)
{
	p[0] = v >> 24;
	p[1] = v >> 16;
	p[2] = v >> 8;
	p[3] = v;
}

struct frame_tmpl {
	uint8_t base[FRAME_MAX];	/* Ethernet, IP and TCP with everything fixed filled in */
	size_t len, l4;
	int v6;
	struct prefix src;
	uint16_t ts_base_ms;
};

static void tmpl_init(struct frame_tmpl *t, const uint8_t dmac[6], const uint8_t smac[6], const struct prefix *src,
		      const struct prefix *dst, uint16_t dport)
{
	uint8_t *ip = t->base + 14, *tcp;

	memset(t, 0, sizeof(*t));
	t->v6 = src->family == AF_INET6;
	t->src = *src;
	t->l4 = 14 + (t->v6 ? 40 : 20);
	t->len = t->l4 + 20 + SYN_OPT_LEN;
	memcpy(t->base, dmac, 6);
	memcpy(t->base + 6, smac, 6);
	put16(t->base + 12, t->v6 ? ETHERTYPE_IPV6 : ETHERTYPE_IP);
	if (t->v6) {
		put32(ip, 6u << 28);
		put16(ip + 4, 20 + SYN_OPT_LEN);
		ip[6] = IPPROTO_TCP;
		ip[7] = 64;
		memcpy(ip + 24, dst->addr, 16);
	} else {
		ip[0] = 0x45;
		put16(ip + 2, 20 + 20 + SYN_OPT_LEN);
		put16(ip + 6, 0x4000); /* DF */
		ip[8] = 64;
		ip[9] = IPPROTO_TCP;
		memcpy(ip + 16, dst->addr, 4);
	}
	tcp = t->base + t->l4;
	put16(tcp + 2, dport);
	tcp[12] = ((20 + SYN_OPT_LEN) / 4) << 4;
	tcp[13] = 0x02; /* SYN */
	put16(tcp + 14, 64240);
	/* Linux's SYN: MSS, SACK-permitted, timestamps, NOP, window scale 7. */
	{
		uint8_t opt[SYN_OPT_LEN] = { 2, 4, 0, 0, 4, 2, 8, 10, 0, 0, 0, 0, 0, 0, 0, 0, 1, 3, 3, 7 };

		put16(opt + 2, t->v6 ? 1440 : 1460);
		memcpy(tcp + 20, opt, sizeof(opt));
	}
}

/* A fresh SYN into buf: random source inside the prefix, port, ISN, TSval. */
static inline void frame_make(const struct frame_tmpl *t, uint8_t *buf)
{
	uint8_t *ip = buf + 14, *tcp = buf + t->l4, *saddr;
	uint64_t r1 = rnd(), r2 = rnd();
	unsigned int alen = t->v6 ? 16 : 4;
	uint32_t sum;

	memcpy(buf, t->base, t->len);
	saddr = t->v6 ? ip + 8 : ip + 12;
	memcpy(saddr, t->src.addr, alen);
	/* Host bits from the random words, byte by byte from the end. */
	{
		uint64_t bits = r1;
		unsigned int host = alen * 8 - t->src.len;

		for (int i = alen - 1; i >= 0 && host; i--) {
			unsigned int take = host >= 8 ? 8 : host;
			uint8_t mask = (uint8_t)((1u << take) - 1);

			if (i == (int)alen - 9)
				bits = rnd(); /* IPv6: past 64 host bits, fresh bits */
			saddr[i] = (saddr[i] & ~mask) | (bits & mask);
			bits >>= 8;
			host -= take;
		}
	}
	put16(tcp, 1024 + (uint16_t)(r2 % (65536 - 1024)));
	put32(tcp + 4, (uint32_t)(r1 >> 32) ^ (uint32_t)r2);
	put32(tcp + 20 + 8, (uint32_t)(r2 >> 24)); /* TSval */
	if (t->v6) {
		sum = csum_add(0, ip + 8, 32);
	} else {
		put16(ip + 4, (uint16_t)(r2 >> 48)); /* IP ID */
		put16(ip + 10, csum_fold(csum_add(0, ip, 20)));
		sum = csum_add(0, ip + 12, 8);
	}
	sum += IPPROTO_TCP + 20 + SYN_OPT_LEN;
	put16(tcp + 16, csum_fold(csum_add(sum, tcp, 20 + SYN_OPT_LEN)));
}

/* ---- main ---- */

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static int parse_mac(const char *s, uint8_t mac[6])
{
	unsigned int b[6];
	char tail;

	if (sscanf(s, "%x:%x:%x:%x:%x:%x%c", &b[0], &b[1], &b[2], &b[3], &b[4], &b[5], &tail) != 6)
		return -1;
	for (int i = 0; i < 6; i++) {
		if (b[i] > 255)
			return -1;
		mac[i] = b[i];
	}
	return 0;
}

static void usage(FILE *f)
{
	fprintf(f,
		"usage: sg_flooder -i IFACE --dst-mac MAC --dst ADDR [options]\n"
		"\n"
		"Bounded spoofed SYN flood for the benchmark lab (network namespaces only).\n"
		"\n"
		"  -i, --iface IFACE      veth interface to send on (in this network namespace)\n"
		"      --dst-mac MAC      destination MAC (the server's interface)\n"
		"  -d, --dst ADDR         destination address (IPv4 or IPv6)\n"
		"  -p, --dport PORT       destination port (default 80)\n"
		"  -s, --src PREFIX       source prefix, random address in it per SYN\n"
		"                         (default 198.18.0.0/15 for IPv4, fd00:198:18::/48 for IPv6)\n"
		"  -r, --pps N            frames per second (default 0: as fast as one core can)\n"
		"  -n, --count N          stop after N frames (default 1000000, at most %lld)\n"
		"  -t, --duration S       stop after S seconds (default 10, at most %.0f)\n"
		"  -b, --batch N          frames per sendmmsg() call (default 64, at most %d)\n"
		"      --sndbuf BYTES     socket send buffer (default 16777216; SO_SNDBUFFORCE)\n"
		"  -c, --cpu N            pin to CPU N\n"
		"      --seed N           random seed (default: from the clock)\n"
		"  -h, --help\n"
		"\n"
		"Both limits always apply; SIGINT/SIGTERM stop it early. It prints one JSON\n"
		"line at the end: attempted, sent, dropped (send queue full: ENOBUFS), seconds,\n"
		"pps (sent per second), attempted_pps.\n"
		"\n"
		"Refuses: the host's network namespace, non-veth interfaces, destinations and\n"
		"source prefixes outside 10/8, 172.16/12, 192.168/16, 198.18/15, fd00::/8.\n"
		"\n"
		"EXAMPLES\n"
		"  nsenter --net=/run/netns/LAB-atk sg_flooder -i atk0 --dst-mac 02:00:00:00:00:01 \\\n"
		"      -d 10.99.0.1 -r 250000 -n 2500000 -t 10\n"
		"  sg_flooder -i atk0 --dst-mac 02:00:00:00:00:01 -d fd00:99::1 -s fd00:198:18::/48 -t 5\n",
		MAX_COUNT, MAX_DURATION_S, MAX_BATCH);
}

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "iface", required_argument, NULL, 'i' },   { "dst-mac", required_argument, NULL, 'M' },
		{ "dst", required_argument, NULL, 'd' },     { "dport", required_argument, NULL, 'p' },
		{ "src", required_argument, NULL, 's' },     { "pps", required_argument, NULL, 'r' },
		{ "count", required_argument, NULL, 'n' },   { "duration", required_argument, NULL, 't' },
		{ "batch", required_argument, NULL, 'b' },   { "sndbuf", required_argument, NULL, 'S' },
		{ "cpu", required_argument, NULL, 'c' },     { "seed", required_argument, NULL, 'R' },
		{ "help", no_argument, NULL, 'h' },	     {},
	};
	const char *ifname = NULL, *dmac_s = NULL, *dst_s = NULL, *src_s = NULL;
	long long count = 1000000, attempted = 0, sent = 0, dropped = 0, errors = 0, calls = 0;
	double pps = 0, duration = 10, t0, t_end, elapsed;
	long dport = 80, batch = 64, sndbuf = 16 << 20, cpu = -1;
	unsigned long long seed = 0;
	struct prefix src, dst;
	uint8_t dmac[6], smac[6];
	static uint8_t frames[MAX_BATCH][FRAME_MAX];
	struct mmsghdr msgs[MAX_BATCH];
	struct iovec iov[MAX_BATCH];
	struct sockaddr_ll sll = {};
	struct frame_tmpl tmpl;
	struct ifreq ifr = {};
	int fd, opt, one = 1, first_errno = 0;

	while ((opt = getopt_long(argc, argv, "i:d:p:s:r:n:t:b:c:h", longopts, NULL)) != -1) {
		switch (opt) {
		case 'i': ifname = optarg; break;
		case 'M': dmac_s = optarg; break;
		case 'd': dst_s = optarg; break;
		case 'p': dport = atol(optarg); break;
		case 's': src_s = optarg; break;
		case 'r': pps = atof(optarg); break;
		case 'n': count = atoll(optarg); break;
		case 't': duration = atof(optarg); break;
		case 'b': batch = atol(optarg); break;
		case 'S': sndbuf = atol(optarg); break;
		case 'c': cpu = atol(optarg); break;
		case 'R': seed = strtoull(optarg, NULL, 0); break;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return 2;
		}
	}
	if (optind != argc || !ifname || !dmac_s || !dst_s) {
		fprintf(stderr, "sg_flooder: --iface, --dst-mac and --dst are required\n");
		usage(stderr);
		return 2;
	}
	if (parse_mac(dmac_s, dmac)) {
		fprintf(stderr, "sg_flooder: --dst-mac %s: not a MAC address (aa:bb:cc:dd:ee:ff)\n", dmac_s);
		return 2;
	}
	if (parse_prefix(dst_s, &dst, false) || dst.len != (dst.family == AF_INET ? 32u : 128u)) {
		fprintf(stderr, "sg_flooder: --dst %s: not an IPv4 or IPv6 address\n", dst_s);
		return 2;
	}
	if (!src_s)
		src_s = dst.family == AF_INET ? "198.18.0.0/15" : "fd00:198:18::/48";
	if (parse_prefix(src_s, &src, true)) {
		fprintf(stderr, "sg_flooder: --src %s: not a prefix (ADDR/LEN)\n", src_s);
		return 2;
	}
	if (src.family != dst.family) {
		fprintf(stderr, "sg_flooder: --src %s and --dst %s are of different families\n", src_s, dst_s);
		return 2;
	}
	if (!prefix_allowed(&dst) || !prefix_allowed(&src)) {
		fprintf(stderr, "sg_flooder: refusing: %s must lie inside 10/8, 172.16/12, 192.168/16, 198.18/15 or "
				"fd00::/8\n", !prefix_allowed(&dst) ? dst_s : src_s);
		return 2;
	}
	if (dport < 1 || dport > 65535 || pps < 0 || count < 1 || count > MAX_COUNT || !(duration > 0) ||
	    duration > MAX_DURATION_S || batch < 1 || batch > MAX_BATCH || sndbuf < 65536) {
		fprintf(stderr, "sg_flooder: bad limits (1 <= count <= %lld, 0 < duration <= %.0f, 1 <= batch <= %d, "
				"pps >= 0, sndbuf >= 65536)\n", MAX_COUNT, MAX_DURATION_S, MAX_BATCH);
		return 2;
	}
	if (check_netns())
		return 1;

	fd = socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, 0); /* protocol 0: send only, nothing queued to us */
	if (fd < 0) {
		fprintf(stderr, "sg_flooder: socket(AF_PACKET): %s (needs CAP_NET_RAW)\n", strerror(errno));
		return 1;
	}
	if (check_veth(fd, ifname))
		return 1;
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", ifname);
	if (ioctl(fd, SIOCGIFHWADDR, &ifr)) {
		fprintf(stderr, "sg_flooder: %s: no MAC address: %s\n", ifname, strerror(errno));
		return 1;
	}
	memcpy(smac, ifr.ifr_hwaddr.sa_data, 6);
	if (setsockopt(fd, SOL_SOCKET, SO_SNDBUFFORCE, &sndbuf, sizeof(int)) &&
	    setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &sndbuf, sizeof(int)))
		fprintf(stderr, "sg_flooder: cannot enlarge the send buffer: %s\n", strerror(errno));
	/* Straight to the driver: no qdisc (veth has none by default anyway). */
	setsockopt(fd, SOL_PACKET, PACKET_QDISC_BYPASS, &one, sizeof(one));
	sll.sll_family = AF_PACKET;
	sll.sll_ifindex = if_nametoindex(ifname);
	sll.sll_halen = 6;
	memcpy(sll.sll_addr, dmac, 6);
	if (!sll.sll_ifindex || bind(fd, (struct sockaddr *)&sll, sizeof(sll))) {
		fprintf(stderr, "sg_flooder: cannot bind to %s: %s\n", ifname, strerror(errno));
		return 1;
	}
	if (cpu >= 0) {
		cpu_set_t set;

		CPU_ZERO(&set);
		CPU_SET(cpu, &set);
		if (sched_setaffinity(0, sizeof(set), &set)) {
			fprintf(stderr, "sg_flooder: cannot pin to CPU %ld: %s\n", cpu, strerror(errno));
			return 1;
		}
	}
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);

	rng_state = seed ? seed : (uint64_t)(now_s() * 1e9) | 1;
	tmpl_init(&tmpl, dmac, smac, &src, &dst, dport);
	for (int i = 0; i < batch; i++) {
		iov[i].iov_base = frames[i];
		iov[i].iov_len = tmpl.len;
		memset(&msgs[i], 0, sizeof(msgs[i]));
		msgs[i].msg_hdr.msg_iov = &iov[i];
		msgs[i].msg_hdr.msg_iovlen = 1;
	}

	t0 = now_s();
	t_end = t0 + duration;
	for (;;) {
		double t = now_s();
		long long want = batch;
		int off = 0;

		if (stop || t >= t_end || attempted >= count)
			break;
		if (pps > 0) {
			long long due = (long long)((t - t0) * pps) + 1 - attempted;

			if (due <= 0) {
				/* Ahead of schedule: sleep until the next frame is due
				 * (short waits spin: nanosleep overshoots by ~50 us). */
				double wait = (attempted + 1) / pps - (t - t0);

				if (wait > 100e-6) {
					struct timespec ts = { 0, (long)((wait - 50e-6) * 1e9) };

					nanosleep(&ts, NULL);
				}
				continue;
			}
			want = due < want ? due : want;
		}
		if (want > count - attempted)
			want = count - attempted;
		for (int i = 0; i < want; i++)
			frame_make(&tmpl, frames[i]);
		while (off < want) {
			int n = sendmmsg(fd, msgs + off, want - off, 0);

			calls++;
			if (n > 0) {
				sent += n;
				off += n;
				continue;
			}
			/* The frame at `off` was refused: a full queue (ENOBUFS,
			 * EAGAIN) is a drop, anything else an error. Either way
			 * it is not retried: it counts as offered. */
			if (errno == ENOBUFS || errno == EAGAIN)
				dropped++;
			else {
				if (!first_errno)
					first_errno = errno;
				if (++errors > 1000 && errors > sent) {
					fprintf(stderr, "sg_flooder: sendmmsg keeps failing: %s\n",
						strerror(first_errno));
					stop = 1;
				}
			}
			off++;
		}
		attempted += want;
	}
	elapsed = now_s() - t0;
	printf("{\"family\": %d, \"iface\": \"%s\", \"dst\": \"%s\", \"src\": \"%s\", \"dport\": %ld, "
	       "\"target_pps\": %.0f, \"count_limit\": %lld, \"duration_limit\": %.3f, \"batch\": %ld, "
	       "\"attempted\": %lld, \"sent\": %lld, \"dropped\": %lld, \"errors\": %lld, \"first_error\": \"%s\", "
	       "\"syscalls\": %lld, \"seconds\": %.6f, \"pps\": %.0f, \"attempted_pps\": %.0f}\n",
	       dst.family == AF_INET ? 4 : 6, ifname, dst_s, src_s, dport, pps, count, duration, batch, attempted, sent,
	       dropped, errors, first_errno ? strerror(first_errno) : "", calls, elapsed,
	       elapsed > 0 ? sent / elapsed : 0, elapsed > 0 ? attempted / elapsed : 0);
	close(fd);
	return errors && !sent ? 1 : 0;
}
