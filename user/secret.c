// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* Cookie keys: generation, first install, and tear-free rotation. */
#include <errno.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include <bpf/bpf.h>

#include "synguard.h"

static uint64_t tai_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_TAI, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + ts.tv_nsec;
}

/* The XDP side uses bpf_ktime_get_tai_ns(), the same clock. */
uint32_t sg_epoch_now(unsigned int epoch_shift)
{
	return (uint32_t)(tai_ns() >> sg_epoch_shift(epoch_shift));
}

int sg_key_random(uint64_t key[2])
{
	ssize_t n = getrandom(key, 2 * sizeof(uint64_t), 0);

	return n == 2 * sizeof(uint64_t) ? 0 : -1;
}

int sg_secret_install(int map_fd, const uint64_t key[2], uint32_t now_epoch)
{
	struct sg_secret s = { .installed = 1 };
	uint32_t zero = 0;

	memcpy(s.key[0], key, sizeof(s.key[0]));
	memcpy(s.key[1], key, sizeof(s.key[1]));
	/* In force since two epochs ago: a rotation may follow at once. */
	s.select = SG_SELECT(now_epoch - 2, 0);
	return bpf_map_update_elem(map_fd, &zero, &s, BPF_ANY) ? -errno : 0;
}

int sg_secret_rotate(int map_fd, const uint64_t key[2], uint32_t now_epoch)
{
	long page = sysconf(_SC_PAGESIZE);
	volatile struct sg_secret *s;
	uint64_t sel;
	uint32_t cur;
	int err = 0;

	s = mmap(NULL, page, PROT_READ | PROT_WRITE, MAP_SHARED, map_fd, 0);
	if (s == MAP_FAILED)
		return -errno;
	sel = s->select;
	/*
	 * Live cookies come from epochs now - 1 and now; both must already use
	 * key[cur], so that the other slot is free to overwrite.
	 */
	if ((int32_t)(now_epoch - 1 - SG_SELECT_SWITCH(sel)) < 0) {
		err = -EAGAIN;
		goto out;
	}
	cur = SG_SELECT_NEW_IDX(sel);
	s->key[cur ^ 1][0] = key[0];
	s->key[cur ^ 1][1] = key[1];
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	/*
	 * One aligned 64-bit store: the data path reads the selector whole.
	 * The new key starts two epochs on, not one: should epoch now + 1 begin
	 * before this store, its SYN-ACKs made with the old key stay valid.
	 */
	__atomic_store_n(&s->select, SG_SELECT(now_epoch + 2, cur ^ 1), __ATOMIC_SEQ_CST);
out:
	munmap((void *)s, page);
	return err;
}
