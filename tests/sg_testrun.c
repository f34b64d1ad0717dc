// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * Test harness: loads the real XDP object (private maps, nothing attached)
 * and runs frames through BPF_PROG_TEST_RUN, one fresh frame per call. The
 * fixture tests (tests/fixtures/) drive it over a line protocol on stdin:
 *
 *   config KEY=VAL ...        mss4 mss6 wscale ttl window epoch_shift
 *   ports LIST                protected ports, as `synguard attach --ports`
 *   key K0 K1                 install a fresh secret (two 64-bit hex words)
 *   rotate K0 K1              rotate as `synguard run` will (ok | again)
 *   secret K0 K1 K2 K3 SWITCH NEWIDX   write the raw secret state
 *   epoch                     current epoch for the configured shift
 *   cookie FAM SRC DST SPORT DPORT ISN EPOCH META TSHI|-
 *                             hash and cookie as the XDP side computes them
 *   check FAM SRC DST SPORT DPORT ISN COOKIE TSECR|-  validate (meta | -1)
 *   run HEX                   -> verdict=N meta=HEX out=HEX (frames under
 *                             14 bytes: BPF_PROG_TEST_RUN answers EINVAL)
 *   stats                     -> every counter as name=value
 *
 * Every answer is one line; errors start with "error".
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "synguard.h"
#include "synguard/cookie.h"
#include "synguard_egress.skel.h"
#include "synguard_xdp.skel.h"

static struct synguard_xdp *skel;
static struct synguard_egress *egress;
static struct sg_settings settings;

static int hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

static int unhex(const char *s, unsigned char *out, size_t max)
{
	size_t n = 0;

	while (s[0] && s[1] && n < max) {
		int hi = hexval(s[0]), lo = hexval(s[1]);

		if (hi < 0 || lo < 0)
			return -1;
		out[n++] = hi << 4 | lo;
		s += 2;
	}
	return *s ? -1 : (int)n;
}

static void print_hex(const char *label, const unsigned char *p, size_t n)
{
	printf(" %s=", label);
	for (size_t i = 0; i < n; i++)
		printf("%02x", p[i]);
}

static int parse_flow(char **tok, struct sg_cookie_flow *f)
{
	int af;

	memset(f, 0, sizeof(*f));
	f->ipv6 = !strcmp(tok[0], "6");
	af = f->ipv6 ? AF_INET6 : AF_INET;
	if (inet_pton(af, tok[1], f->saddr) != 1 || inet_pton(af, tok[2], f->daddr) != 1)
		return -1;
	f->ports = htons(atoi(tok[3])) | (uint32_t)htons(atoi(tok[4])) << 16;
	f->isn = strtoul(tok[5], NULL, 0);
	return 0;
}

static int read_secret(struct sg_secret *s)
{
	uint32_t zero = 0;

	return bpf_map_lookup_elem(bpf_map__fd(skel->maps.sg_secret), &zero, s);
}

static void cmd_run(const char *hex)
{
	static unsigned char in[9216], out[9216 + 256];
	struct xdp_md ctx_in = {}, ctx_out = {};
	int len = unhex(hex, in, sizeof(in)), err;
	LIBBPF_OPTS(bpf_test_run_opts, opts, .data_in = in, .data_out = out, .data_size_out = sizeof(out),
		    .ctx_in = &ctx_in, .ctx_size_in = sizeof(ctx_in), .ctx_out = &ctx_out,
		    .ctx_size_out = sizeof(ctx_out), .repeat = 1);

	if (len < 0) {
		printf("error bad hex\n");
		return;
	}
	opts.data_size_in = len;
	ctx_in.data_end = len;
	err = bpf_prog_test_run_opts(bpf_program__fd(skel->progs.synguard_xdp), &opts);
	if (err) {
		printf("error test_run: %s\n", strerror(errno));
		return;
	}
	/* The kernel returns the metadata area in front of the frame;
	 * ctx_out.data is its length. */
	printf("verdict=%u", opts.retval);
	print_hex("meta", out, ctx_out.data);
	print_hex("out", out + ctx_out.data, opts.data_size_out - ctx_out.data);
	printf("\n");
}

static void cmd_egress(const char *hex)
{
	static unsigned char in[9216], out[9216 + 256];
	int len = unhex(hex, in, sizeof(in));
	LIBBPF_OPTS(bpf_test_run_opts, opts, .data_in = in, .data_out = out, .data_size_out = sizeof(out),
		    .repeat = 1);

	if (len < 0) {
		printf("error bad hex\n");
		return;
	}
	opts.data_size_in = len;
	if (bpf_prog_test_run_opts(bpf_program__fd(egress->progs.synguard_egress), &opts)) {
		printf("error test_run: %s\n", strerror(errno));
		return;
	}
	printf("verdict=%u\n", opts.retval);
}

/* FAM C CPORT S SPORT -> the flow key (client-to-server). */
static int parse_flow_key(char **tok, struct sg_flow_key *k)
{
	int af;

	memset(k, 0, sizeof(*k));
	k->ipv6 = !strcmp(tok[0], "6");
	af = k->ipv6 ? AF_INET6 : AF_INET;
	if (inet_pton(af, tok[1], k->caddr) != 1 || inet_pton(af, tok[3], k->saddr) != 1)
		return -1;
	k->cport = htons(atoi(tok[2]));
	k->sport = htons(atoi(tok[4]));
	return 0;
}

static void cmd_flow(char **tok)
{
	int fd = bpf_map__fd(skel->maps.sg_flows);
	struct sg_flow_key k;
	struct sg_flow f;

	if (parse_flow_key(tok, &k)) {
		printf("error bad flow\n");
		return;
	}
	if (bpf_map_lookup_elem(fd, &k, &f)) {
		printf("none\n");
		return;
	}
	printf("state=%s flags=0x%x c_next=%u s_next=%u c_win=%u s_win=%u c_tsval=%u origin=%u closed=%d\n",
	       sg_state_name(sg_flow_state(f.flags)), f.flags, f.c_next, f.s_next, f.c_win, f.s_win, f.c_tsval,
	       f.origin, f.closed_ns != 0);
}

static void cmd_flowput(char **tok)
{
	int fd = bpf_map__fd(skel->maps.sg_flows);
	uint64_t now = sg_flow_clock_ns();
	struct sg_flow f = { .origin = SG_ORIGIN_COOKIE, .created_ns = now, .last_in_ns = now };
	struct sg_flow_key k;

	if (parse_flow_key(tok, &k)) {
		printf("error bad flow\n");
		return;
	}
	f.c_next = strtoul(tok[5], NULL, 0);
	f.s_next = strtoul(tok[6], NULL, 0);
	f.c_wscale = strtoul(tok[7], NULL, 0);
	f.s_wscale = strtoul(tok[8], NULL, 0);
	f.flags = strtoul(tok[9], NULL, 0);
	printf("%s\n", bpf_map_update_elem(fd, &k, &f, BPF_ANY) ? "error" : "ok");
}

static void cmd_flowage(char **tok)
{
	int fd = bpf_map__fd(skel->maps.sg_flows);
	uint64_t d = strtoull(tok[5], NULL, 0) * 1000000000ULL;
	struct sg_flow_key k;
	struct sg_flow f;

	if (parse_flow_key(tok, &k) || bpf_map_lookup_elem(fd, &k, &f)) {
		printf("error no such flow\n");
		return;
	}
	f.created_ns -= d;
	f.last_in_ns -= d;
	f.last_out_ns = f.last_out_ns ? f.last_out_ns - d : 0;
	f.closed_ns = f.closed_ns ? f.closed_ns - d : 0;
	printf("%s\n", bpf_map_update_elem(fd, &k, &f, BPF_EXIST) ? "error" : "ok");
}

static void cmd_stats(void)
{
	uint64_t c[SG_CNT_MAX];

	if (sg_stats_read(bpf_map__fd(skel->maps.sg_stats), c)) {
		printf("error stats\n");
		return;
	}
	for (int i = 0; i < SG_CNT_MAX; i++)
		printf("%s%s=%llu", i ? " " : "", sg_counter_names[i], (unsigned long long)c[i]);
	printf("\n");
}

static int handle(char *line)
{
	char *tok[16];
	int n = 0;
	uint32_t zero = 0;

	for (char *save = NULL, *t = strtok_r(line, " \t\n", &save); t && n < 16; t = strtok_r(NULL, " \t\n", &save))
		tok[n++] = t;
	if (!n)
		return 0;

	if (!strcmp(tok[0], "run") && n == 2) {
		cmd_run(tok[1]);
	} else if (!strcmp(tok[0], "egress") && n == 2) {
		cmd_egress(tok[1]);
	} else if (!strcmp(tok[0], "flow") && n == 6) {
		cmd_flow(tok + 1);
	} else if (!strcmp(tok[0], "flowput") && n == 11) {
		cmd_flowput(tok + 1);
	} else if (!strcmp(tok[0], "flowage") && n == 7) {
		cmd_flowage(tok + 1);
	} else if (!strcmp(tok[0], "listenclear")) {
		int fd = bpf_map__fd(skel->maps.sg_listen_cache), ncpu = libbpf_num_possible_cpus();
		struct sg_listen_slot *zeros = calloc(ncpu, sizeof(*zeros));

		for (__u32 i = 0; zeros && i < SG_LISTEN_CACHE_SLOTS; i++)
			bpf_map_update_elem(fd, &i, zeros, BPF_ANY);
		free(zeros);
		printf("ok\n");
	} else if (!strcmp(tok[0], "flowclear")) {
		sg_flows_clear(bpf_map__fd(skel->maps.sg_flows));
		printf("ok\n");
	} else if (!strcmp(tok[0], "stats")) {
		cmd_stats();
	} else if (!strcmp(tok[0], "config")) {
		for (int i = 1; i < n; i++) {
			char *eq = strchr(tok[i], '=');
			unsigned long v;

			if (!eq)
				goto bad;
			*eq = 0;
			v = strtoul(eq + 1, NULL, 0);
			if (!strcmp(tok[i], "mss4"))
				settings.cfg.mss4 = v;
			else if (!strcmp(tok[i], "mss6"))
				settings.cfg.mss6 = v;
			else if (!strcmp(tok[i], "wscale"))
				settings.cfg.wscale = v;
			else if (!strcmp(tok[i], "ttl"))
				settings.cfg.ttl = v;
			else if (!strcmp(tok[i], "window"))
				settings.cfg.synack_window = v;
			else if (!strcmp(tok[i], "epoch_shift"))
				settings.cfg.epoch_shift = v;
			else if (!strcmp(tok[i], "msl"))
				settings.cfg.msl_s = v;
			else if (!strcmp(tok[i], "idle_timeout"))
				settings.cfg.idle_timeout_s = v;
			else
				goto bad;
		}
		if (bpf_map_update_elem(bpf_map__fd(skel->maps.sg_config), &zero, &settings.cfg, 0))
			goto bad;
		printf("ok\n");
	} else if (!strcmp(tok[0], "ports") && n == 2) {
		char msg[128];

		msg[0] = 0;
		if (sg_ports_parse(tok[1], settings.ports, msg, sizeof(msg)) ||
		    sg_ports_write(bpf_map__fd(skel->maps.sg_ports), settings.ports)) {
			printf("error %s\n", msg[0] ? msg : "cannot write the port map");
			return 0;
		}
		printf("ok\n");
	} else if ((!strcmp(tok[0], "key") || !strcmp(tok[0], "rotate")) && n == 3) {
		uint64_t key[2] = { strtoull(tok[1], NULL, 16), strtoull(tok[2], NULL, 16) };
		int fd = bpf_map__fd(skel->maps.sg_secret), err;

		if (tok[0][0] == 'k')
			err = sg_secret_install(fd, key, sg_epoch_now(settings.cfg.epoch_shift));
		else
			err = sg_secret_rotate(fd, key, sg_epoch_now(settings.cfg.epoch_shift));
		printf("%s\n", err == -EAGAIN ? "again" : err ? "error" : "ok");
	} else if (!strcmp(tok[0], "secret") && n == 7) {
		struct sg_secret s = { .installed = 1 };

		for (int i = 0; i < 4; i++)
			s.key[i / 2][i % 2] = strtoull(tok[1 + i], NULL, 16);
		s.select = SG_SELECT(strtoul(tok[5], NULL, 0), strtoul(tok[6], NULL, 0));
		if (bpf_map_update_elem(bpf_map__fd(skel->maps.sg_secret), &zero, &s, 0))
			goto bad;
		printf("ok\n");
	} else if (!strcmp(tok[0], "epoch")) {
		printf("%u\n", sg_epoch_now(settings.cfg.epoch_shift));
	} else if (!strcmp(tok[0], "cookie") && n == 10) {
		struct sg_cookie_flow f;
		struct sg_secret s;
		uint32_t epoch = strtoul(tok[7], NULL, 0), meta = strtoul(tok[8], NULL, 0);
		uint64_t h;

		if (parse_flow(tok + 1, &f) || read_secret(&s))
			goto bad;
		/* TSHI "-": the SYN had no timestamps. */
		h = sg_cookie_hash(sg_secret_key(&s, epoch), &f, epoch, meta, strcmp(tok[9], "-") != 0,
				   strtoul(tok[9], NULL, 0));
		printf("hash=%016llx cookie=%08x\n", (unsigned long long)h, sg_cookie_from_hash(h, epoch, meta));
	} else if (!strcmp(tok[0], "check") && n == 9) {
		struct sg_cookie_flow f;
		struct sg_secret s;
		int has_ts = strcmp(tok[8], "-") != 0;

		if (parse_flow(tok + 1, &f) || read_secret(&s))
			goto bad;
		printf("%d\n", sg_cookie_check(&s, &f, strtoul(tok[7], NULL, 0),
					       sg_epoch_now(settings.cfg.epoch_shift), has_ts,
					       has_ts ? strtoul(tok[8], NULL, 0) : 0));
	} else {
		goto bad;
	}
	return 0;
bad:
	printf("error bad command\n");
	return 0;
}

int main(int argc, char **argv)
{
	char *line = NULL;
	size_t cap = 0;

	if (argc == 3 && !strcmp(argv[1], "--flow-table-size")) {
		sg_set_flow_table_size(strtoul(argv[2], NULL, 0));
	} else if (argc != 1) {
		fprintf(stderr, "usage: sg_testrun [--flow-table-size N] < commands\n");
		return 2;
	}
	sg_libbpf_log_setup();
	sg_settings_default(&settings);
	skel = sg_load(NULL);
	if (!skel || sg_configure(skel, &settings) || !(egress = sg_load_egress(skel)))
		return 1;
	printf("ready\n");
	fflush(stdout);
	/* getline, not a fixed buffer: a long `run` line split in two would
	 * answer twice and put the protocol out of step. Every answer is
	 * flushed here, whichever path in handle() produced it. */
	while (getline(&line, &cap, stdin) > 0) {
		handle(line);
		fflush(stdout);
	}
	free(line);
	synguard_egress__destroy(egress);
	synguard_xdp__destroy(skel);
	return 0;
}
