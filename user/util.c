// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
#include <errno.h>
#include <linux/capability.h>
#include <linux/magic.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <bpf/libbpf.h>

#include "synguard.h"

bool sg_verbose;

void sg_err(const char *fmt, ...)
{
	va_list ap;

	fputs("synguard: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

/* A ring of the last lines libbpf printed, so a failed load can show the
 * verifier's verdict without -v. */
#define LOG_LINES 64
static char log_ring[LOG_LINES][256];
static unsigned int log_next;

static int libbpf_print(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	static char line[1 << 20]; /* a verifier log arrives as one message */

	if (sg_verbose)
		return vfprintf(stderr, fmt, ap);
	if (level == LIBBPF_DEBUG)
		return 0;
	vsnprintf(line, sizeof(line), fmt, ap);
	/* The verifier log arrives as one message with many lines: split it. */
	for (char *save = NULL, *tok = strtok_r(line, "\n", &save); tok; tok = strtok_r(NULL, "\n", &save)) {
		snprintf(log_ring[log_next % LOG_LINES], sizeof(log_ring[0]), "%s", tok);
		log_next++;
	}
	return 0;
}

void sg_libbpf_log_setup(void)
{
	libbpf_set_print(libbpf_print);
}

void sg_libbpf_log_dump_tail(int n)
{
	unsigned int start = log_next > (unsigned int)n ? log_next - n : 0;

	for (unsigned int i = start; i < log_next; i++)
		fprintf(stderr, "  %s\n", log_ring[i % LOG_LINES]);
}

static int has_cap(const struct __user_cap_data_struct d[2], int cap)
{
	return !!(d[cap / 32].effective & (1u << (cap % 32)));
}

int sg_check_privileges(void)
{
	struct __user_cap_header_struct hdr = { .version = _LINUX_CAPABILITY_VERSION_3 };
	struct __user_cap_data_struct data[2] = {};

	if (syscall(SYS_capget, &hdr, data)) {
		sg_err("cannot read capabilities: %s", strerror(errno));
		return -1;
	}
	if (!has_cap(data, CAP_NET_ADMIN) ||
	    !(has_cap(data, CAP_SYS_ADMIN) || (has_cap(data, CAP_BPF) && has_cap(data, CAP_PERFMON)))) {
		sg_err("missing privileges: needs CAP_NET_ADMIN and CAP_BPF + CAP_PERFMON (or "
		       "CAP_SYS_ADMIN); run as root");
		return -1;
	}
	return 0;
}

int sg_ensure_bpffs(void)
{
	struct statfs st;

	if (statfs("/sys/fs/bpf", &st) == 0 && st.f_type == BPF_FS_MAGIC)
		return 0;
	if (mkdir("/sys/fs/bpf", 0700) && errno != EEXIST) {
		sg_err("cannot create /sys/fs/bpf: %s", strerror(errno));
		return -1;
	}
	if (mount("bpf", "/sys/fs/bpf", "bpf", 0, "mode=0700")) {
		sg_err("cannot mount bpffs on /sys/fs/bpf: %s (mount it with "
		       "'mount -t bpf bpf /sys/fs/bpf')", strerror(errno));
		return -1;
	}
	return 0;
}

int sg_pin_dir(const char *ifname, char *buf, size_t len)
{
	int n = snprintf(buf, len, "%s/%s", SG_PIN_ROOT, ifname);

	return n < 0 || (size_t)n >= len ? -1 : 0;
}

/* Field `index` (0-based, whitespace separated) of a sysctl file. */
int sg_read_sysctl_u64(const char *path, int index, uint64_t *out)
{
	FILE *f = fopen(path, "r");
	unsigned long long v = 0;
	int ok = 1;

	if (!f)
		return -1;
	for (int i = 0; i <= index && ok; i++)
		ok = fscanf(f, "%llu", &v) == 1;
	fclose(f);
	if (!ok)
		return -1;
	*out = v;
	return 0;
}
