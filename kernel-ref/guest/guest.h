/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Helpers shared by the netmem guest test programs: TAP output, a checksum,
 * deterministic test data, timing, and small socket utilities.
 *
 * Every program prints TAP version 13 on stdout: a plan, one "ok"/"not ok"
 * line per test, diagnostics as "# ..." lines, and exits 0 only when every
 * test passed (or was skipped for a reason the kernel gave).
 */
#ifndef NETMEM_GUEST_H
#define NETMEM_GUEST_H

#define _GNU_SOURCE
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <netinet/tcp.h>
#include <arpa/inet.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static int tap_planned;
static int tap_number;
static int tap_failed;

static inline void tap_plan(int n)
{
	/* One line at a time on the serial console, also after fork(). */
	setvbuf(stdout, NULL, _IOLBF, 0);
	setvbuf(stderr, NULL, _IONBF, 0);
	tap_planned = n;
	printf("TAP version 13\n1..%d\n", n);
}

__attribute__((format(printf, 1, 2)))
static inline void diag(const char *fmt, ...)
{
	va_list ap;

	fputs("# ", stdout);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	fputc('\n', stdout);
	fflush(stdout);
}

__attribute__((format(printf, 2, 3)))
static inline void tap_result(int ok, const char *fmt, ...)
{
	va_list ap;

	tap_number++;
	if (!ok)
		tap_failed++;
	printf("%s %d - ", ok ? "ok" : "not ok", tap_number);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	fputc('\n', stdout);
	fflush(stdout);
}

__attribute__((format(printf, 2, 3)))
static inline void tap_skip(const char *reason, const char *fmt, ...)
{
	va_list ap;

	tap_number++;
	printf("ok %d - ", tap_number);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf(" # SKIP %s\n", reason);
	fflush(stdout);
}

/* The exit status: 0 only when the plan was met and nothing failed. */
static int tap_exit(void)
{
	if (tap_number != tap_planned) {
		diag("ran %d tests, planned %d", tap_number, tap_planned);
		return 1;
	}
	if (tap_failed)
		diag("%d of %d tests failed", tap_failed, tap_planned);
	return tap_failed ? 1 : 0;
}

/* FNV-1a, 64 bit: one byte at a time, so any split of the stream gives the same value. */
#define FNV_INIT 0xcbf29ce484222325ULL

static inline uint64_t fnv1a(uint64_t h, const void *data, size_t len)
{
	const unsigned char *p = data;
	size_t i;

	for (i = 0; i < len; i++) {
		h ^= p[i];
		h *= 0x100000001b3ULL;
	}
	return h;
}

/* Test data: xorshift64 words from a seed, so sender and checker agree without sharing memory. */
static inline void fill_pattern(void *buf, size_t len, uint64_t *state)
{
	unsigned char *p = buf;
	uint64_t x = *state;
	size_t i;

	for (i = 0; i + 8 <= len; i += 8) {
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		memcpy(p + i, &x, 8);
	}
	for (; i < len; i++) {
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		p[i] = (unsigned char)x;
	}
	*state = x;
}

static inline double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static inline double mib_per_s(size_t bytes, double seconds)
{
	return seconds > 0 ? (double)bytes / (1024.0 * 1024.0) / seconds : 0.0;
}

/* A connected pair of TCP sockets over 127.0.0.1; returns 0 or -errno. */
static inline int tcp_pair(int *client, int *server)
{
	struct sockaddr_in addr;
	socklen_t alen = sizeof(addr);
	int one = 1;
	int lfd, c = -1, s = -1, err;

	lfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (lfd < 0)
		return -errno;
	memset(&addr, 0, sizeof(addr));
	addr.sin_family = AF_INET;
	addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(lfd, (struct sockaddr *)&addr, sizeof(addr)) < 0 ||
	    getsockname(lfd, (struct sockaddr *)&addr, &alen) < 0 || listen(lfd, 1) < 0)
		goto fail;
	c = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (c < 0 || connect(c, (struct sockaddr *)&addr, sizeof(addr)) < 0)
		goto fail;
	s = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
	if (s < 0)
		goto fail;
	close(lfd);
	*client = c;
	*server = s;
	return 0;
fail:
	err = -errno;
	if (c >= 0)
		close(c);
	close(lfd);
	return err;
}

/* Reads exactly len bytes unless EOF or an error comes first; returns the count or -errno. */
static inline ssize_t read_full(int fd, void *buf, size_t len)
{
	size_t got = 0;

	while (got < len) {
		ssize_t n = read(fd, (char *)buf + got, len - got);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		if (n == 0)
			break;
		got += (size_t)n;
	}
	return (ssize_t)got;
}

static inline ssize_t write_full(int fd, const void *buf, size_t len)
{
	size_t done = 0;

	while (done < len) {
		ssize_t n = write(fd, (const char *)buf + done, len - done);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		done += (size_t)n;
	}
	return (ssize_t)done;
}

/* The other end of a transfer, run in a thread; fn returns 0 on success. */
struct peer {
	pthread_t thread;
	int (*fn)(void *arg);
	void *arg;
	int rc;
	int started;
};

static inline void *peer_main(void *p)
{
	struct peer *peer = p;

	peer->rc = peer->fn(peer->arg);
	return NULL;
}

static inline int peer_start(struct peer *peer, int (*fn)(void *), void *arg)
{
	int err;

	peer->fn = fn;
	peer->arg = arg;
	peer->rc = -1;
	err = pthread_create(&peer->thread, NULL, peer_main, peer);
	peer->started = err == 0;
	if (err)
		diag("pthread_create: %s", strerror(err));
	return err ? -1 : 0;
}

/* Waits for the peer; its return value, or -1 when it never started. */
static inline int peer_join(struct peer *peer)
{
	if (!peer->started)
		return -1;
	pthread_join(peer->thread, NULL);
	peer->started = 0;
	return peer->rc;
}

#endif
