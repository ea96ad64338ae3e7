// SPDX-License-Identifier: GPL-2.0
/*
 * tcp_frags: TCP over loopback with transfers large enough that the skbs
 * carry page fragments, checking that every byte arrives intact.
 *
 *   1. sendfile() of a whole file (page cache pages become skb frags)
 *   2. sendfile() of an unaligned range of it (partial-page frags)
 *   3. splice() file -> pipe -> socket
 *   4. splice() socket -> pipe -> file (skb frags become pipe buffers)
 *   5. send(MSG_ZEROCOPY) with SO_ZEROCOPY: user pages pinned as frags
 *   6. the MSG_ZEROCOPY completions on the error queue cover every send
 *
 * Each received stream is hashed (FNV-1a 64) and compared with the hash of
 * what was sent.
 *
 * usage: tcp_frags [-d DIR] [-s MIB] [--selftest-fail]
 *   -d DIR            where the test file goes (default /tmp; ramfs/tmpfs)
 *   -s MIB            size of the sendfile transfer (default 64, less when
 *                     the guest is short of memory: the file lives in RAM);
 *                     the splice and MSG_ZEROCOPY transfers use half of it
 *   --selftest-fail   flip one received byte in test 1, to show that a
 *                     corrupted transfer is reported as a failure
 */
#include "guest.h"

#include <fcntl.h>
#include <getopt.h>
#include <linux/errqueue.h>
#include <poll.h>
#include <sys/mman.h>
#include <sys/sendfile.h>
#include <sys/stat.h>
#include <sys/time.h>

#ifndef SO_ZEROCOPY
#define SO_ZEROCOPY 60
#endif
#ifndef MSG_ZEROCOPY
#define MSG_ZEROCOPY 0x4000000
#endif

#define CHUNK (256 * 1024)
#define SEED 0x6e65746d656d3031ULL /* "netmem01" */

static const char *dir = "/tmp";
static size_t main_size = 64u << 20;
static int size_given;
static int selftest_fail;

static char data_path[4096];
static int data_fd = -1;
static uint64_t data_hash;

/* The receiving end: reads the socket to EOF, hashing as it goes. */
struct receiver {
	int fd;
	int corrupt;
	size_t got;
	uint64_t hash;
	int err;
	struct peer peer;
};

static int receive_all(void *arg)
{
	struct receiver *rx = arg;
	unsigned char *buf = malloc(CHUNK);

	rx->got = 0;
	rx->hash = FNV_INIT;
	rx->err = 0;
	if (!buf) {
		rx->err = ENOMEM;
		return -1;
	}
	for (;;) {
		ssize_t n = read(rx->fd, buf, CHUNK);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			rx->err = errno;
			break;
		}
		if (n == 0)
			break;
		if (rx->corrupt && rx->got == 0)
			buf[0] ^= 0x01;
		rx->hash = fnv1a(rx->hash, buf, (size_t)n);
		rx->got += (size_t)n;
	}
	free(buf);
	return rx->err ? -1 : 0;
}

static void set_timeout(int fd, int seconds)
{
	struct timeval tv = { .tv_sec = seconds };

	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
}

/* A TCP pair with a receiver thread already reading the server end. */
static int start_transfer(int *client, struct receiver *rx, int corrupt)
{
	int c, s, err = tcp_pair(&c, &s);

	if (err) {
		diag("loopback TCP connection: %s", strerror(-err));
		return -1;
	}
	set_timeout(c, 30);
	set_timeout(s, 30);
	memset(rx, 0, sizeof(*rx));
	rx->fd = s;
	rx->corrupt = corrupt;
	if (peer_start(&rx->peer, receive_all, rx)) {
		close(c);
		close(s);
		return -1;
	}
	*client = c;
	return 0;
}

/* Ends the sending side, waits for the receiver and judges the transfer; the caller closes client. */
static int finish_transfer(int client, struct receiver *rx, const char *what, size_t sent,
			   uint64_t sent_hash, double t0)
{
	double dt;
	int rc;

	shutdown(client, SHUT_WR);
	rc = peer_join(&rx->peer);
	dt = now_s() - t0;
	close(rx->fd);
	if (rc || rx->err)
		diag("%s: receiving: %s", what, strerror(rx->err ? rx->err : EIO));
	diag("%s: %zu bytes in %.2f s (%.1f MiB/s); sent %016llx received %016llx (%zu bytes)", what, sent,
	     dt, mib_per_s(sent, dt), (unsigned long long)sent_hash, (unsigned long long)rx->hash, rx->got);
	return rc == 0 && rx->got == sent && rx->hash == sent_hash;
}

static uint64_t hash_file_range(int fd, off_t off, size_t len)
{
	unsigned char *buf = malloc(CHUNK);
	uint64_t h = FNV_INIT;

	if (!buf)
		return 0;
	while (len) {
		size_t want = len < CHUNK ? len : CHUNK;
		ssize_t n = pread(fd, buf, want, off);

		if (n <= 0)
			break;
		h = fnv1a(h, buf, (size_t)n);
		off += n;
		len -= (size_t)n;
	}
	free(buf);
	return len ? 0 : h;
}

static int make_data_file(void)
{
	unsigned char *buf = malloc(CHUNK);
	uint64_t state = SEED;
	size_t done = 0;
	double t0 = now_s();

	snprintf(data_path, sizeof(data_path), "%s/netmem-frags.dat", dir);
	data_fd = open(data_path, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (data_fd < 0 || !buf) {
		diag("cannot create %s: %s", data_path, strerror(errno));
		free(buf);
		return -1;
	}
	data_hash = FNV_INIT;
	while (done < main_size) {
		size_t n = main_size - done < CHUNK ? main_size - done : CHUNK;

		fill_pattern(buf, n, &state);
		data_hash = fnv1a(data_hash, buf, n);
		if (write_full(data_fd, buf, n) != (ssize_t)n) {
			diag("writing %s: %s", data_path, strerror(errno));
			free(buf);
			return -1;
		}
		done += n;
	}
	free(buf);
	diag("test file %s: %zu bytes, hash %016llx, written in %.2f s", data_path, main_size,
	     (unsigned long long)data_hash, now_s() - t0);
	return 0;
}

static int do_sendfile(int sock, off_t off, size_t len, const char *what)
{
	while (len) {
		ssize_t n = sendfile(sock, data_fd, &off, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			diag("%s: sendfile: %s", what, n ? strerror(errno) : "unexpected end of file");
			return -1;
		}
		len -= (size_t)n;
	}
	return 0;
}

static void test_sendfile_whole(void)
{
	struct receiver rx;
	double t0 = now_s();
	int c, ok = 0;

	if (start_transfer(&c, &rx, selftest_fail) == 0) {
		int sent = do_sendfile(c, 0, main_size, "sendfile") == 0;

		ok = finish_transfer(c, &rx, "sendfile", main_size, data_hash, t0) && sent;
		close(c);
	}
	tap_result(ok, "sendfile of a %zu MiB file over loopback TCP arrives intact", main_size >> 20);
}

static void test_sendfile_unaligned(void)
{
	off_t off = 4096 * 3 + 1234;
	size_t len = main_size / 4 + 333;
	uint64_t want;
	struct receiver rx;
	double t0;
	int c, ok = 0;

	if ((size_t)off + len > main_size)
		len = main_size - (size_t)off;
	want = hash_file_range(data_fd, off, len);
	t0 = now_s();
	if (start_transfer(&c, &rx, 0) == 0) {
		int sent = do_sendfile(c, off, len, "sendfile range") == 0;

		ok = finish_transfer(c, &rx, "sendfile range", len, want, t0) && sent;
		close(c);
	}
	tap_result(ok, "sendfile of an unaligned range (offset %lld, %zu bytes) arrives intact", (long long)off, len);
}

static int make_pipe(int p[2])
{
	if (pipe2(p, O_CLOEXEC) < 0) {
		diag("pipe2: %s", strerror(errno));
		return -1;
	}
	/* Bigger pipes mean fewer round trips; the default size works too. */
	fcntl(p[1], F_SETPIPE_SZ, 1024 * 1024);
	return 0;
}

/* Moves len bytes already in the pipe to out (file position or socket). */
static int drain_pipe(int pipe_rd, int out, size_t len, const char *what)
{
	while (len) {
		ssize_t n = splice(pipe_rd, NULL, out, NULL, len, SPLICE_F_MOVE | SPLICE_F_MORE);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			diag("%s: splice from pipe: %s", what, n ? strerror(errno) : "pipe empty");
			return -1;
		}
		len -= (size_t)n;
	}
	return 0;
}

static void test_splice_file_to_socket(void)
{
	size_t len = main_size / 2;
	uint64_t want = hash_file_range(data_fd, 0, len);
	struct receiver rx;
	loff_t off = 0;
	double t0 = now_s();
	int c, p[2], ok = 0, sent = 0;

	if (make_pipe(p) == 0) {
		if (start_transfer(&c, &rx, 0) == 0) {
			size_t left = len;

			sent = 1;
			while (left && sent) {
				ssize_t n = splice(data_fd, &off, p[1], NULL, left < CHUNK ? left : CHUNK,
						   SPLICE_F_MOVE | SPLICE_F_MORE);

				if (n < 0 && errno == EINTR)
					continue;
				if (n <= 0) {
					diag("splice file to pipe: %s", n ? strerror(errno) : "unexpected end of file");
					sent = 0;
					break;
				}
				if (drain_pipe(p[0], c, (size_t)n, "splice to socket"))
					sent = 0;
				left -= (size_t)n;
			}
			ok = finish_transfer(c, &rx, "splice file->pipe->socket", len, want, t0) && sent;
			close(c);
		}
		close(p[0]);
		close(p[1]);
	}
	tap_result(ok, "splice file -> pipe -> TCP socket (%zu MiB) arrives intact", len >> 20);
}

/* The sending end of test 4: plain write()s of the file's contents. */
struct writer {
	int fd;
	size_t len;
	int err;
};

static int write_from_file(void *arg)
{
	struct writer *w = arg;
	unsigned char *buf = malloc(CHUNK);
	off_t off = 0;

	w->err = buf ? 0 : ENOMEM;
	while (buf && (size_t)off < w->len) {
		size_t want = w->len - (size_t)off < CHUNK ? w->len - (size_t)off : CHUNK;
		ssize_t n = pread(data_fd, buf, want, off);

		if (n <= 0 || write_full(w->fd, buf, (size_t)n) != n) {
			w->err = n < 0 ? errno : EIO;
			break;
		}
		off += n;
	}
	shutdown(w->fd, SHUT_WR);
	free(buf);
	return w->err ? -1 : 0;
}

static void test_splice_socket_to_file(void)
{
	size_t len = main_size / 2;
	uint64_t want = hash_file_range(data_fd, 0, len), got_hash = 0;
	char out_path[4200];
	struct writer w = { .len = len };
	struct peer peer;
	size_t got = 0;
	double t0 = now_s();
	int c, s, p[2], out, ok = 0, received = 1, err;

	snprintf(out_path, sizeof(out_path), "%s/netmem-frags.out", dir);
	out = open(out_path, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (out < 0) {
		diag("cannot create %s: %s", out_path, strerror(errno));
		goto report;
	}
	if (make_pipe(p))
		goto close_out;
	err = tcp_pair(&c, &s);
	if (err) {
		diag("loopback TCP connection: %s", strerror(-err));
		goto close_pipe;
	}
	set_timeout(c, 30);
	set_timeout(s, 30);
	w.fd = c;
	if (peer_start(&peer, write_from_file, &w) == 0) {
		for (;;) {
			ssize_t n = splice(s, NULL, p[1], NULL, CHUNK, SPLICE_F_MOVE);

			if (n < 0 && errno == EINTR)
				continue;
			if (n < 0) {
				diag("splice socket to pipe: %s", strerror(errno));
				received = 0;
				break;
			}
			if (n == 0)
				break;
			if (drain_pipe(p[0], out, (size_t)n, "splice to file")) {
				received = 0;
				break;
			}
			got += (size_t)n;
		}
		if (peer_join(&peer))
			diag("writer: %s", strerror(w.err));
		else if (received) {
			struct stat st = { 0 };

			if (fstat(out, &st) == 0 && (size_t)st.st_size == got)
				got_hash = hash_file_range(out, 0, got);
			else
				diag("the file holds %lld bytes, spliced %zu", (long long)st.st_size, got);
			diag("splice socket->pipe->file: %zu bytes in %.2f s (%.1f MiB/s); sent %016llx file %016llx",
			     got, now_s() - t0, mib_per_s(got, now_s() - t0), (unsigned long long)want,
			     (unsigned long long)got_hash);
			ok = w.err == 0 && got == len && got_hash == want;
		}
	}
	close(c);
	close(s);
close_pipe:
	close(p[0]);
	close(p[1]);
close_out:
	close(out);
	unlink(out_path);
report:
	tap_result(ok, "splice TCP socket -> pipe -> file (%zu MiB) arrives intact", len >> 20);
}

/* MSG_ZEROCOPY completions, as read from the error queue. */
struct zc_state {
	unsigned char *seen; /* one flag per send call */
	uint32_t calls;
	uint32_t completed;
	uint32_t copied;
	uint32_t bad;
	uint32_t notifications;
};

static int zc_read_completions(int fd, struct zc_state *zc)
{
	for (;;) {
		char control[CMSG_SPACE(sizeof(struct sock_extended_err) + sizeof(struct sockaddr_in6))];
		struct msghdr msg = { .msg_control = control, .msg_controllen = sizeof(control) };
		struct cmsghdr *cm;

		if (recvmsg(fd, &msg, MSG_ERRQUEUE | MSG_DONTWAIT) < 0) {
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				return 0;
			if (errno == EINTR)
				continue;
			diag("recvmsg(MSG_ERRQUEUE): %s", strerror(errno));
			return -1;
		}
		for (cm = CMSG_FIRSTHDR(&msg); cm; cm = CMSG_NXTHDR(&msg, cm)) {
			struct sock_extended_err ee;
			uint32_t id;

			if (!(cm->cmsg_level == SOL_IP && cm->cmsg_type == IP_RECVERR) &&
			    !(cm->cmsg_level == SOL_IPV6 && cm->cmsg_type == IPV6_RECVERR))
				continue;
			memcpy(&ee, CMSG_DATA(cm), sizeof(ee));
			if (ee.ee_origin != SO_EE_ORIGIN_ZEROCOPY || ee.ee_errno != 0 || ee.ee_data < ee.ee_info ||
			    ee.ee_data - ee.ee_info >= zc->calls) {
				diag("unexpected error-queue entry: origin %u errno %u range %u..%u", ee.ee_origin,
				     ee.ee_errno, ee.ee_info, ee.ee_data);
				zc->bad++;
				continue;
			}
			zc->notifications++;
			for (id = ee.ee_info;; id++) {
				if (id >= zc->calls || zc->seen[id]) {
					diag("completion for send %u is unexpected or repeated", id);
					zc->bad++;
				} else {
					zc->seen[id] = 1;
					zc->completed++;
					if (ee.ee_code & SO_EE_CODE_ZEROCOPY_COPIED)
						zc->copied++;
				}
				if (id == ee.ee_data)
					break;
			}
		}
	}
}

static int zc_wait(int fd, int ms)
{
	struct pollfd pfd = { .fd = fd, .events = 0 };
	int n;

	do
		n = poll(&pfd, 1, ms);
	while (n < 0 && errno == EINTR);
	return n > 0 && (pfd.revents & POLLERR);
}

static void test_zerocopy(void)
{
	size_t len = main_size / 2, off = 0, chunk = 128 * 1024;
	uint32_t max_calls = (uint32_t)(len / 4096 + 16);
	struct zc_state zc = { 0 };
	uint64_t state = SEED ^ 0x5a5a5a5a, want = 0;
	struct receiver rx;
	unsigned char *buf;
	int c = -1, one = 1, sent = 0, data_ok = 0, done_ok = 0, retries = 0;
	double t0 = 0, deadline;

	buf = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	zc.seen = calloc(max_calls, 1);
	if (buf == MAP_FAILED || !zc.seen) {
		diag("zerocopy: no memory for %zu bytes", len);
		goto report;
	}
	fill_pattern(buf, len, &state);
	want = fnv1a(FNV_INIT, buf, len);
	t0 = now_s();
	if (start_transfer(&c, &rx, 0)) {
		c = -1;
		goto report;
	}
	if (setsockopt(c, SOL_SOCKET, SO_ZEROCOPY, &one, sizeof(one)) < 0)
		diag("setsockopt(SO_ZEROCOPY): %s", strerror(errno));
	else
		sent = 1;
	while (sent && off < len) {
		size_t want_len = len - off < chunk ? len - off : chunk;
		ssize_t n = send(c, buf + off, want_len, MSG_ZEROCOPY);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == ENOBUFS && retries < 1000) {
			/* Out of option memory for notifications: collect some, then retry. */
			retries++;
			zc_wait(c, 100);
			if (zc_read_completions(c, &zc))
				sent = 0;
			continue;
		}
		if (n <= 0) {
			diag("send(MSG_ZEROCOPY): %s", n ? strerror(errno) : "sent nothing");
			sent = 0;
			break;
		}
		if (zc.calls >= max_calls) {
			diag("zerocopy: more send calls than expected");
			sent = 0;
			break;
		}
		zc.calls++;
		off += (size_t)n;
		if (zc_read_completions(c, &zc))
			sent = 0;
	}
	data_ok = finish_transfer(c, &rx, "MSG_ZEROCOPY", len, want, t0) && sent;
	/* Every send is acknowledged by the peer by now; its completion follows shortly. */
	deadline = now_s() + 10;
	while (sent && zc.completed < zc.calls && !zc.bad && now_s() < deadline) {
		zc_wait(c, 200);
		if (zc_read_completions(c, &zc))
			break;
	}
	diag("MSG_ZEROCOPY: %u send calls, %u completed in %u notifications (%u copied, %u zero-copy), %u bad, "
	     "%d ENOBUFS retries", zc.calls, zc.completed, zc.notifications, zc.copied, zc.completed - zc.copied,
	     zc.bad, retries);
	done_ok = sent && zc.calls > 0 && zc.completed == zc.calls && zc.bad == 0;
	close(c);
report:
	tap_result(data_ok, "send(MSG_ZEROCOPY) of %zu MiB over loopback TCP arrives intact", len >> 20);
	tap_result(done_ok, "MSG_ZEROCOPY completions on the error queue cover every send exactly once");
	if (buf != MAP_FAILED)
		munmap(buf, len);
	free(zc.seen);
}

/* MemAvailable in bytes, or 0 when unknown. */
static size_t mem_available(void)
{
	FILE *f = fopen("/proc/meminfo", "re");
	char line[128];
	unsigned long long kib = 0;

	if (!f)
		return 0;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "MemAvailable: %llu kB", &kib) == 1)
			break;
	fclose(f);
	return (size_t)kib * 1024;
}

/* The file, a received copy of half of it and the MSG_ZEROCOPY buffer all live in RAM. */
static void fit_memory(void)
{
	size_t avail = mem_available(), fit;

	if (!avail)
		return;
	fit = (avail / 3) & ~(((size_t)1 << 20) - 1);
	if (fit < ((size_t)4 << 20))
		fit = (size_t)4 << 20;
	if (main_size > fit && !size_given) {
		diag("%zu MiB of memory available: transfers scaled down to %zu MiB", avail >> 20, fit >> 20);
		main_size = fit;
	} else if (main_size > fit) {
		diag("warning: -s %zu MiB with only %zu MiB of memory available", main_size >> 20, avail >> 20);
	}
}

static void usage(const char *argv0)
{
	fprintf(stderr, "usage: %s [-d DIR] [-s MIB] [--selftest-fail]\n", argv0);
	exit(2);
}

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "selftest-fail", no_argument, NULL, 'F' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	double t0 = now_s();
	int opt;

	while ((opt = getopt_long(argc, argv, "d:s:h", longopts, NULL)) != -1) {
		switch (opt) {
		case 'd':
			dir = optarg;
			break;
		case 's': {
			long mib = strtol(optarg, NULL, 10);

			if (mib < 1 || mib > 4096)
				usage(argv[0]);
			main_size = (size_t)mib << 20;
			size_given = 1;
			break;
		}
		case 'F':
			selftest_fail = 1;
			break;
		default:
			usage(argv[0]);
		}
	}
	if (optind != argc)
		usage(argv[0]);

	tap_plan(6);
	fit_memory();
	if (selftest_fail)
		diag("--selftest-fail: one received byte of test 1 is flipped on purpose");
	if (make_data_file() == 0) {
		test_sendfile_whole();
		test_sendfile_unaligned();
		test_splice_file_to_socket();
		test_splice_socket_to_file();
	} else {
		int i;

		for (i = 0; i < 4; i++)
			tap_result(0, "file-backed transfer %d (no test file)", i + 1);
	}
	test_zerocopy();
	if (data_fd >= 0) {
		close(data_fd);
		unlink(data_path);
	}
	diag("tcp_frags: %.2f s in all", now_s() - t0);
	return tap_exit();
}
