// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* Shared cookie secrets from a file, and putting one in force. */
#include <ctype.h>
#include <endian.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <bpf/bpf.h>

#include "secret_file.h"
#include "synguard.h"

static int unhex(const char *s, uint8_t *out, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		unsigned int v;

		if (!isxdigit((unsigned char)s[2 * i]) || !isxdigit((unsigned char)s[2 * i + 1]) ||
		    sscanf(s + 2 * i, "%2x", &v) != 1)
			return -1;
		out[i] = v;
	}
	return 0;
}

int sg_secret_file_read(const char *path, uint64_t key[2], char *msg, size_t msglen)
{
	uint8_t raw[SG_SECRET_FILE_BYTES], zero[SG_SECRET_FILE_BYTES] = {};
	char buf[2 * SG_SECRET_FILE_BYTES + 2];
	struct stat st;
	ssize_t n;
	int fd;

	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (fd < 0) {
		snprintf(msg, msglen, "cannot open the secret file %s: %s", path, strerror(errno));
		return -1;
	}
	if (fstat(fd, &st)) {
		snprintf(msg, msglen, "cannot stat the secret file %s: %s", path, strerror(errno));
		goto fail;
	}
	if (!S_ISREG(st.st_mode)) {
		snprintf(msg, msglen, "the secret file %s is not a regular file", path);
		goto fail;
	}
	if (st.st_mode & 077) {
		snprintf(msg, msglen, "the secret file %s is accessible by group or others (mode %04o); "
			 "a shared cookie key must be private: 'chmod 600 %s'", path,
			 (unsigned int)(st.st_mode & 07777), path);
		goto fail;
	}
	if (st.st_uid != 0 && st.st_uid != geteuid()) {
		snprintf(msg, msglen, "the secret file %s belongs to uid %u, who could change the key; "
			 "'chown root %s'", path, (unsigned int)st.st_uid, path);
		goto fail;
	}
	n = read(fd, buf, sizeof(buf));
	if (n < 0) {
		snprintf(msg, msglen, "cannot read the secret file %s: %s", path, strerror(errno));
		goto fail;
	}
	close(fd);
	fd = -1;
	if (n == SG_SECRET_FILE_BYTES) {
		memcpy(raw, buf, sizeof(raw));
	} else if ((n == 2 * SG_SECRET_FILE_BYTES ||
		    (n == 2 * SG_SECRET_FILE_BYTES + 1 && buf[n - 1] == '\n')) &&
		   !unhex(buf, raw, sizeof(raw))) {
		/* 32 hex digits (openssl rand -hex 16) */
	} else {
		snprintf(msg, msglen, "the secret file %s holds %s%zd bytes: it must hold exactly %d bytes "
			 "of key (or %d hex digits); create one with 'umask 077; head -c %d "
			 "/dev/urandom > %s'", path, n == sizeof(buf) ? "at least " : "", n,
			 SG_SECRET_FILE_BYTES, 2 * SG_SECRET_FILE_BYTES, SG_SECRET_FILE_BYTES, path);
		return -1;
	}
	if (!memcmp(raw, zero, sizeof(raw))) {
		snprintf(msg, msglen, "the secret file %s holds an all-zero key; fill it from "
			 "/dev/urandom", path);
		return -1;
	}
	for (int i = 0; i < 2; i++) {
		uint64_t w;

		memcpy(&w, raw + 8 * i, 8);
		key[i] = le64toh(w);
	}
	return 0;
fail:
	close(fd);
	return -1;
}

int sg_secret_put(int map_fd, const uint64_t key[2], unsigned int epoch_shift)
{
	uint32_t zero = 0, now = sg_epoch_now(epoch_shift);
	struct sg_secret cur;
	int err;

	if (bpf_map_lookup_elem(map_fd, &zero, &cur))
		return -errno;
	if (!cur.installed)
		return (err = sg_secret_install(map_fd, key, now)) ? err : SG_SECRET_INSTALLED;
	if (!memcmp(cur.key[SG_SELECT_NEW_IDX(cur.select)], key, sizeof(cur.key[0])))
		return SG_SECRET_UNCHANGED;
	err = sg_secret_rotate(map_fd, key, now);
	if (!err)
		return SG_SECRET_ROTATED;
	if (err != -EAGAIN)
		return err;
	return (err = sg_secret_install(map_fd, key, now)) ? err : SG_SECRET_REPLACED;
}

const char *sg_secret_put_name(int outcome)
{
	switch (outcome) {
	case SG_SECRET_INSTALLED:
		return "installed";
	case SG_SECRET_UNCHANGED:
		return "unchanged (already in force)";
	case SG_SECRET_ROTATED:
		return "rotated (in force from the next cookie epoch; cookies in flight stay valid)";
	case SG_SECRET_REPLACED:
		return "replaced (a rotation was still settling; handshakes in flight may retry)";
	default:
		return "failed";
	}
}
