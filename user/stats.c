// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
#include <errno.h>
#include <stdlib.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "synguard.h"

const char *const sg_counter_names[SG_CNT_MAX] = SG_CNT_NAMES_INIT;

int sg_stats_read(int map_fd, uint64_t out[SG_CNT_MAX])
{
	int ncpu = libbpf_num_possible_cpus();
	uint64_t *percpu;

	if (ncpu <= 0)
		return -EINVAL;
	percpu = calloc(ncpu, sizeof(*percpu));
	if (!percpu)
		return -ENOMEM;
	for (uint32_t i = 0; i < SG_CNT_MAX; i++) {
		out[i] = 0;
		if (bpf_map_lookup_elem(map_fd, &i, percpu)) {
			int err = -errno;

			free(percpu);
			return err;
		}
		for (int c = 0; c < ncpu; c++)
			out[i] += percpu[c];
	}
	free(percpu);
	return 0;
}

void sg_stats_print_text(FILE *f, const char *ifname, const uint64_t c[SG_CNT_MAX])
{
	fprintf(f, "%s:\n", ifname);
	for (int i = 0; i < SG_CNT_MAX; i++)
		fprintf(f, "  %-24s %20llu\n", sg_counter_names[i], (unsigned long long)c[i]);
}

void sg_stats_print_json(FILE *f, const char *ifname, const uint64_t c[SG_CNT_MAX])
{
	fprintf(f, "{\"ifname\":\"%s\",\"counters\":{", ifname);
	for (int i = 0; i < SG_CNT_MAX; i++)
		fprintf(f, "%s\"%s\":%llu", i ? "," : "", sg_counter_names[i], (unsigned long long)c[i]);
	fprintf(f, "}}");
}
