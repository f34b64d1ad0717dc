/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * A private network namespace for tests that run the XDP program with
 * BPF_PROG_TEST_RUN: bpf_skc_lookup_tcp() then sees only the sockets the
 * test makes. The namespace lives as long as the process (unshare), so
 * nothing is left behind, whatever way the test ends.
 */
#ifndef SG_TEST_TESTNS_H
#define SG_TEST_TESTNS_H

#include <errno.h>
#include <net/if.h>
#include <netinet/in.h>
#include <sched.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

/* Enter a new network namespace and bring its loopback up. */
static inline int testns_enter(const char *who)
{
	struct ifreq ifr;
	int fd;

	if (unshare(CLONE_NEWNET)) {
		fprintf(stderr, "%s: unshare(CLONE_NEWNET): %s (needs root)\n", who, strerror(errno));
		return -1;
	}
	memset(&ifr, 0, sizeof(ifr));
	strcpy(ifr.ifr_name, "lo");
	fd = socket(AF_INET, SOCK_DGRAM, 0);
	if (fd < 0 || ioctl(fd, SIOCGIFFLAGS, &ifr) ||
	    (ifr.ifr_flags |= IFF_UP, ioctl(fd, SIOCSIFFLAGS, &ifr))) {
		fprintf(stderr, "%s: cannot bring lo up: %s\n", who, strerror(errno));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	close(fd);
	return 0;
}

/* A listener on the wildcard address (IPv6: v6-only); the fd, or -1. */
static inline int testns_listen(int v6, uint16_t port)
{
	int one = 1, fd = socket(v6 ? AF_INET6 : AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in a4;
	struct sockaddr_in6 a6;
	int err;

	if (fd < 0)
		return -1;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (v6) {
		memset(&a6, 0, sizeof(a6));
		a6.sin6_family = AF_INET6;
		a6.sin6_port = htons(port);
		setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
		err = bind(fd, (struct sockaddr *)&a6, sizeof(a6));
	} else {
		memset(&a4, 0, sizeof(a4));
		a4.sin_family = AF_INET;
		a4.sin_port = htons(port);
		err = bind(fd, (struct sockaddr *)&a4, sizeof(a4));
	}
	if (err || listen(fd, 64)) {
		close(fd);
		return -1;
	}
	return fd;
}

#endif /* SG_TEST_TESTNS_H */
