// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <bpf/bpf.h>

#include "synguard.h"

static int parse_port(const char *s, char **end, long *out)
{
	errno = 0;
	*out = strtol(s, end, 10);
	return errno || *end == s || *out < 1 || *out > 65535 ? -1 : 0;
}

int sg_ports_parse(const char *list, uint64_t bitmap[SG_PORT_WORDS], char *msg, size_t msglen)
{
	const char *p = list;

	memset(bitmap, 0, SG_PORT_WORDS * sizeof(uint64_t));
	if (!*p) {
		snprintf(msg, msglen, "empty port list");
		return -1;
	}
	while (*p) {
		long lo, hi;
		char *end;

		if (parse_port(p, &end, &lo)) {
			snprintf(msg, msglen, "bad port at '%s' (ports are 1-65535)", p);
			return -1;
		}
		hi = lo;
		if (*end == '-' && parse_port(end + 1, &end, &hi)) {
			snprintf(msg, msglen, "bad range end in '%s'", p);
			return -1;
		}
		if (hi < lo) {
			snprintf(msg, msglen, "range %ld-%ld runs backwards", lo, hi);
			return -1;
		}
		for (long port = lo; port <= hi; port++)
			bitmap[port / 64] |= 1ULL << (port % 64);
		if (*end == ',' && end[1])
			end++;
		else if (*end) {
			snprintf(msg, msglen, "unexpected '%s' in port list (use 80,443,8000-8010)", end);
			return -1;
		}
		p = end;
	}
	return 0;
}

int sg_ports_write(int map_fd, const uint64_t bitmap[SG_PORT_WORDS])
{
	for (uint32_t i = 0; i < SG_PORT_WORDS; i++)
		if (bpf_map_update_elem(map_fd, &i, &bitmap[i], BPF_ANY))
			return -errno;
	return 0;
}

int sg_ports_format(const uint64_t bitmap[SG_PORT_WORDS], char *buf, size_t len)
{
	size_t used = 0;

	buf[0] = 0;
	for (long port = 1; port <= 65535; port++) {
		long end = port;
		int n;

		if (!(bitmap[port / 64] >> (port % 64) & 1))
			continue;
		while (end < 65535 && bitmap[(end + 1) / 64] >> ((end + 1) % 64) & 1)
			end++;
		n = end > port ? snprintf(buf + used, len - used, "%s%ld-%ld", used ? "," : "", port, end)
			       : snprintf(buf + used, len - used, "%s%ld", used ? "," : "", port);
		if (n < 0 || (size_t)n >= len - used)
			return -1;
		used += n;
		port = end;
	}
	return 0;
}
