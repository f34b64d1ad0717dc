// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* Counters (summed over CPUs), their rates and tables; map occupancy. */
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "metrics.h"
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
	sg_stats_print_table(f, ifname, c, NULL, 0, false, NULL);
}

void sg_stats_print_json(FILE *f, const char *ifname, const uint64_t c[SG_CNT_MAX])
{
	sg_stats_print_json_rates(f, ifname, c, NULL, 0, NULL);
}

double sg_monotonic_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

double sg_stats_rate(uint64_t now, uint64_t before, double dt)
{
	return now < before || dt <= 0 ? 0 : (double)(now - before) / dt;
}

void sg_stats_print_table(FILE *f, const char *ifname, const uint64_t c[SG_CNT_MAX],
			  const uint64_t *before, double dt, bool compact, const struct sg_flow_gauges *g)
{
	bool any = false;

	fprintf(f, "%s:\n", ifname);
	if (before)
		fprintf(f, "  %-26s %20s %14s\n", "counter", "total", "per second");
	for (int i = 0; i < SG_CNT_MAX; i++) {
		if (compact && !c[i] && !(before && before[i] != c[i]))
			continue;
		any = true;
		if (before)
			fprintf(f, "  %-26s %20llu %14.1f\n", sg_counter_names[i], (unsigned long long)c[i],
				sg_stats_rate(c[i], before[i], dt));
		else
			fprintf(f, "  %-26s %20llu\n", sg_counter_names[i], (unsigned long long)c[i]);
	}
	if (!any)
		fprintf(f, "  (all counters are zero)\n");
	if (g) {
		fprintf(f, "  flows: %llu of %llu entries", (unsigned long long)g->total, (unsigned long long)g->max);
		for (int st = 0; st < SG_ST_MAX; st++)
			if (g->per_state[st] || !compact)
				fprintf(f, " %s=%llu", sg_state_name(st), (unsigned long long)g->per_state[st]);
		fputc('\n', f);
	}
}

void sg_stats_print_json_rates(FILE *f, const char *ifname, const uint64_t c[SG_CNT_MAX],
			       const uint64_t *before, double dt, const struct sg_flow_gauges *g)
{
	fprintf(f, "{\"ifname\":\"%s\",\"counters\":{", ifname);
	for (int i = 0; i < SG_CNT_MAX; i++)
		fprintf(f, "%s\"%s\":%llu", i ? "," : "", sg_counter_names[i], (unsigned long long)c[i]);
	fputc('}', f);
	if (before) {
		fprintf(f, ",\"rates\":{");
		for (int i = 0; i < SG_CNT_MAX; i++)
			fprintf(f, "%s\"%s\":%.3f", i ? "," : "", sg_counter_names[i],
				sg_stats_rate(c[i], before[i], dt));
		fputc('}', f);
	}
	if (g) {
		fprintf(f, ",\"flows\":{\"total\":%llu,\"max\":%llu,\"states\":{", (unsigned long long)g->total,
			(unsigned long long)g->max);
		for (int st = 0; st < SG_ST_MAX; st++)
			fprintf(f, "%s\"%s\":%llu", st ? "," : "", sg_state_name(st),
				(unsigned long long)g->per_state[st]);
		fprintf(f, "}}");
	}
	fputc('}', f);
}

static int name_cmp(const void *a, const void *b)
{
	return strcmp(a, b);
}

int sg_pinned_ifaces(char (**out)[IF_NAMESIZE])
{
	char (*names)[IF_NAMESIZE] = NULL;
	struct dirent *de;
	int n = 0, cap = 0;
	DIR *d;

	*out = NULL;
	d = opendir(SG_PIN_ROOT);
	if (!d)
		return errno == ENOENT ? 0 : -errno;
	while ((de = readdir(d))) {
		if (de->d_name[0] == '.' || strlen(de->d_name) >= IF_NAMESIZE)
			continue;
		if (n == cap) {
			void *p = realloc(names, (cap = cap ? 2 * cap : 8) * sizeof(*names));

			if (!p) {
				free(names);
				closedir(d);
				return -ENOMEM;
			}
			names = p;
		}
		strcpy(names[n++], de->d_name);
	}
	closedir(d);
	if (n)
		qsort(names, n, sizeof(*names), name_cmp);
	*out = names;
	return n;
}

const char *sg_map_type_name(uint32_t type)
{
	switch (type) {
	case BPF_MAP_TYPE_HASH: return "hash";
	case BPF_MAP_TYPE_ARRAY: return "array";
	case BPF_MAP_TYPE_PERCPU_HASH: return "percpu_hash";
	case BPF_MAP_TYPE_PERCPU_ARRAY: return "percpu_array";
	case BPF_MAP_TYPE_LRU_HASH: return "lru_hash";
	case BPF_MAP_TYPE_LRU_PERCPU_HASH: return "lru_percpu_hash";
	case BPF_MAP_TYPE_LPM_TRIE: return "lpm_trie";
	case BPF_MAP_TYPE_RINGBUF: return "ringbuf";
	default: return "other";
	}
}

static bool is_array(uint32_t type)
{
	return type == BPF_MAP_TYPE_ARRAY || type == BPF_MAP_TYPE_PERCPU_ARRAY ||
	       type == BPF_MAP_TYPE_PROG_ARRAY || type == BPF_MAP_TYPE_ARRAY_OF_MAPS ||
	       type == BPF_MAP_TYPE_CGROUP_ARRAY || type == BPF_MAP_TYPE_PERF_EVENT_ARRAY;
}

/* Is the pinned object behind fd a map (and not a link or a program)? */
static bool fd_is_map(int fd)
{
	char path[64], target[64];
	ssize_t n;

	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	n = readlink(path, target, sizeof(target) - 1);
	if (n < 0)
		return false;
	target[n] = 0;
	return !strcmp(target, "anon_inode:bpf-map");
}

/* Entries of a hash-like map, counted by walking its keys (bounded). */
static uint32_t count_keys(int fd, uint32_t key_size, uint32_t max_entries)
{
	char *a = calloc(2, key_size ? key_size : 1), *prev = NULL, *cur = a, *tmp;
	uint32_t n = 0;

	if (!a)
		return 0;
	while (n <= max_entries && bpf_map_get_next_key(fd, prev, cur) == 0) {
		n++;
		tmp = prev ? prev : a + key_size;
		prev = cur;
		cur = tmp;
	}
	free(a);
	return n;
}

int sg_map_usage_read(const char *ifname, struct sg_map_usage **out)
{
	char dir[PATH_MAX], path[PATH_MAX + 256];
	struct sg_map_usage *v = NULL;
	struct dirent *de;
	int n = 0;
	DIR *d;

	*out = NULL;
	if (sg_pin_dir(ifname, dir, sizeof(dir)) || !(d = opendir(dir))) {
		sg_err("synguard is not attached to %s (no %s)", ifname, dir);
		return -1;
	}
	while ((de = readdir(d))) {
		struct bpf_map_info info = {};
		uint32_t len = sizeof(info);
		struct sg_map_usage *u;
		int fd;

		if (de->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
		fd = bpf_obj_get(path);
		if (fd < 0)
			continue;
		if (!fd_is_map(fd) || bpf_obj_get_info_by_fd(fd, &info, &len)) {
			close(fd);
			continue;
		}
		u = realloc(v, (n + 1) * sizeof(*v));
		if (!u) {
			close(fd);
			break;
		}
		v = u;
		u = &v[n++];
		memset(u, 0, sizeof(*u));
		snprintf(u->name, sizeof(u->name), "%.31s", de->d_name);
		u->id = info.id;
		u->type = info.type;
		u->max_entries = info.max_entries;
		if (is_array(info.type)) {
			u->entries = info.max_entries;
		} else if (info.type != BPF_MAP_TYPE_RINGBUF) {
			u->entries = count_keys(fd, info.key_size, info.max_entries);
			u->counted = true;
		}
		close(fd);
	}
	closedir(d);
	if (n)
		qsort(v, n, sizeof(*v), name_cmp); /* name is the first member */
	*out = v;
	return n;
}
