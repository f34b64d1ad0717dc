/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * A cookie secret shared by several hosts (behind ECMP, every host must
 * accept the cookies of the others), read from a file:
 *   - exactly 16 bytes of key, or 32 hex digits and an optional newline;
 *     the 16 bytes are two little-endian 64-bit SipHash key words;
 *   - a regular file (symlinks are followed), owned by root or by the
 *     caller, with no permission bits for group or others.
 * Create one with: umask 077; head -c 16 /dev/urandom > /etc/synguard/secret
 */
#ifndef SYNGUARD_SECRET_FILE_H
#define SYNGUARD_SECRET_FILE_H

#include <stddef.h>
#include <stdint.h>

#define SG_SECRET_FILE_BYTES 16

/* Returns 0, or -1 with msg saying what is wrong and how to fix it. */
int sg_secret_file_read(const char *path, uint64_t key[2], char *msg, size_t msglen);

enum sg_secret_put {
	SG_SECRET_INSTALLED,	/* there was no key: in force now */
	SG_SECRET_UNCHANGED,	/* already the newest key */
	SG_SECRET_ROTATED,	/* in force from the next epoch; cookies in flight stay valid */
	SG_SECRET_REPLACED,	/* a rotation was still settling: replaced outright */
};

/* Put `key` in force on a sg_secret map (see enum sg_secret_put). Returns the
 * outcome, or -errno. */
int sg_secret_put(int map_fd, const uint64_t key[2], unsigned int epoch_shift);
const char *sg_secret_put_name(int outcome);

#endif
