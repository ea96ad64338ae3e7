// SPDX-License-Identifier: GPL-2.0
/*
 * kcm: AF_KCM (Kernel Connection Multiplexor) over a loopback TCP pair.
 *
 * Messages on the TCP stream are framed as a 4-byte big-endian payload
 * length followed by the payload. KCM finds the boundaries with a BPF
 * socket-filter program, written here instruction by instruction, that
 * returns 4 + the length field. KCM builds received messages out of the
 * TCP skbs (frag lists and page frags) and sends messages as page frags.
 *
 *   1. the BPF parser loads (bpf(BPF_PROG_LOAD), socket filter)
 *   2. SIOCKCMATTACH attaches a loopback TCP socket to an AF_KCM socket
 *   3. TCP -> KCM: framed messages (0 B .. 300 KB payloads) arrive one per
 *      recvmsg(), whole, with MSG_EOR, contents intact
 *   4. KCM -> TCP: messages sent on the KCM socket arrive on the TCP peer
 *      with their framing and contents intact
 *   5. SOCK_SEQPACKET KCM: a message sent in three sendmsg() calls (MSG_EOR
 *      on the last) arrives as one framed message, and a 150 KB message
 *      from the TCP peer is received whole
 *   6. SIOCKCMUNATTACH gives the TCP socket back: plain reads work again
 *
 * Each message is sent only after the previous one was received: KCM runs
 * the parser on an skb whose data may start before the message (strparser
 * keeps the message start in its own offset, which a socket filter cannot
 * see), so back-to-back messages sharing an skb are out of this test's scope.
 */
#include "guest.h"

#include <linux/bpf.h>
#include <linux/kcm.h>
#include <linux/sockios.h>
#include <sys/ioctl.h>
#include <sys/syscall.h>
#include <sys/time.h>

#define SEED 0x6b636d2d74657374ULL /* "kcm-test" */
#define BIG (4 * 1024 * 1024)

static const size_t payload_sizes[] = { 0, 1, 100, 4092, 4093, 4096, 9000, 65536, 100000, 300000 };
#define N_PAYLOADS (sizeof(payload_sizes) / sizeof(payload_sizes[0]))

static char bpf_log[4096];

/* The parser: r0 = be32 at offset 0 of the skb (LD_ABS needs the skb in r6), plus the header. */
static int load_parser(void)
{
	struct bpf_insn prog[] = {
		{ .code = BPF_ALU64 | BPF_MOV | BPF_X, .dst_reg = BPF_REG_6, .src_reg = BPF_REG_1 },
		{ .code = BPF_LD | BPF_ABS | BPF_W, .imm = 0 },
		{ .code = BPF_ALU64 | BPF_ADD | BPF_K, .dst_reg = BPF_REG_0, .imm = 4 },
		{ .code = BPF_JMP | BPF_EXIT },
	};
	static const char license[] = "GPL";
	union bpf_attr attr;

	memset(&attr, 0, sizeof(attr));
	attr.prog_type = BPF_PROG_TYPE_SOCKET_FILTER;
	attr.insn_cnt = sizeof(prog) / sizeof(prog[0]);
	attr.insns = (uint64_t)(uintptr_t)prog;
	attr.license = (uint64_t)(uintptr_t)license;
	attr.log_level = 1;
	attr.log_buf = (uint64_t)(uintptr_t)bpf_log;
	attr.log_size = sizeof(bpf_log);
	return (int)syscall(__NR_bpf, BPF_PROG_LOAD, &attr, sizeof(attr));
}

static void set_timeout(int fd, int seconds)
{
	struct timeval tv = { .tv_sec = seconds };

	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
}

/* Room for the largest message: KCM's receive limit is the TCP socket's receive buffer. */
static void big_buffers(int fd)
{
	int size = BIG;

	if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &size, sizeof(size)) < 0)
		setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, sizeof(size));
	if (setsockopt(fd, SOL_SOCKET, SO_SNDBUFFORCE, &size, sizeof(size)) < 0)
		setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &size, sizeof(size));
}

/* A KCM socket of the given type with one end of a new loopback TCP pair attached. */
struct mux {
	int kcm;
	int attached; /* the TCP socket inside the mux */
	int peer;     /* the plain TCP socket talking to it */
};

static int mux_open(struct mux *m, int type, int prog)
{
	struct kcm_attach attach;
	int err;

	m->kcm = m->attached = m->peer = -1;
	err = tcp_pair(&m->peer, &m->attached);
	if (err) {
		diag("loopback TCP connection: %s", strerror(-err));
		return -1;
	}
	set_timeout(m->peer, 20);
	set_timeout(m->attached, 20);
	big_buffers(m->peer);
	big_buffers(m->attached);
	m->kcm = socket(AF_KCM, type | SOCK_CLOEXEC, KCMPROTO_CONNECTED);
	if (m->kcm < 0) {
		diag("socket(AF_KCM, %s): %s", type == SOCK_DGRAM ? "SOCK_DGRAM" : "SOCK_SEQPACKET", strerror(errno));
		return -1;
	}
	set_timeout(m->kcm, 20);
	big_buffers(m->kcm);
	attach.fd = m->attached;
	attach.bpf_fd = prog;
	if (ioctl(m->kcm, SIOCKCMATTACH, &attach) < 0) {
		diag("ioctl(SIOCKCMATTACH): %s", strerror(errno));
		return -1;
	}
	return 0;
}

static void mux_close(struct mux *m)
{
	if (m->kcm >= 0)
		close(m->kcm);
	if (m->attached >= 0)
		close(m->attached);
	if (m->peer >= 0)
		close(m->peer);
	m->kcm = m->attached = m->peer = -1;
}

/* A framed message: the big-endian payload length, then the payload. */
static size_t frame(unsigned char *buf, size_t payload, uint64_t seed)
{
	uint32_t be = htonl((uint32_t)payload);
	uint64_t state = seed;

	memcpy(buf, &be, 4);
	fill_pattern(buf + 4, payload, &state);
	return payload + 4;
}

static int test_tcp_to_kcm(struct mux *m, unsigned char *out, unsigned char *in)
{
	size_t total = 0;
	unsigned int i, good = 0;
	double t0 = now_s(), dt;

	for (i = 0; i < N_PAYLOADS; i++) {
		size_t len = frame(out, payload_sizes[i], SEED + i);
		struct iovec iov = { .iov_base = in, .iov_len = BIG };
		struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1 };
		ssize_t n;

		if (write_full(m->peer, out, len) != (ssize_t)len) {
			diag("TCP->KCM message %u: write: %s", i, strerror(errno));
			break;
		}
		do
			n = recvmsg(m->kcm, &msg, 0);
		while (n < 0 && errno == EINTR);
		if (n < 0) {
			diag("TCP->KCM message %u (%zu bytes): recvmsg: %s", i, len, strerror(errno));
			break;
		}
		if ((size_t)n != len || !(msg.msg_flags & MSG_EOR) || (msg.msg_flags & MSG_TRUNC)) {
			diag("TCP->KCM message %u: received %zd bytes, flags %#x; sent %zu", i, n, msg.msg_flags, len);
			continue;
		}
		if (fnv1a(FNV_INIT, in, len) != fnv1a(FNV_INIT, out, len)) {
			diag("TCP->KCM message %u (%zu bytes): contents differ", i, len);
			continue;
		}
		good++;
		total += len;
	}
	dt = now_s() - t0;
	diag("TCP->KCM: %u of %zu messages (%zu bytes) intact in %.2f s", good, N_PAYLOADS, total, dt);
	return good == N_PAYLOADS;
}

/* Reads one framed message from a plain TCP socket into buf; its total length or -1. */
static ssize_t read_framed(int fd, unsigned char *buf, size_t cap)
{
	uint32_t be;
	size_t payload;
	ssize_t n = read_full(fd, buf, 4);

	if (n != 4) {
		diag("reading a frame header: %s", n < 0 ? strerror((int)-n) : "end of stream");
		return -1;
	}
	memcpy(&be, buf, 4);
	payload = ntohl(be);
	if (payload + 4 > cap) {
		diag("frame header says %zu bytes, more than any message sent", payload);
		return -1;
	}
	n = read_full(fd, buf + 4, payload);
	if (n != (ssize_t)payload) {
		diag("reading a %zu-byte payload: %s", payload, n < 0 ? strerror((int)-n) : "short");
		return -1;
	}
	return (ssize_t)payload + 4;
}

static int test_kcm_to_tcp(struct mux *m, unsigned char *out, unsigned char *in)
{
	size_t total = 0;
	unsigned int i, good = 0;
	double t0 = now_s();

	for (i = 0; i < N_PAYLOADS; i++) {
		size_t len = frame(out, payload_sizes[i], ~SEED + i);
		ssize_t n;

		do
			n = send(m->kcm, out, len, 0);
		while (n < 0 && errno == EINTR);
		if (n != (ssize_t)len) {
			diag("KCM->TCP message %u (%zu bytes): send returned %zd: %s", i, len, n,
			     n < 0 ? strerror(errno) : "short");
			break;
		}
		n = read_framed(m->peer, in, BIG);
		if (n < 0)
			break;
		if ((size_t)n != len || memcmp(in, out, len) != 0 ||
		    fnv1a(FNV_INIT, in, len) != fnv1a(FNV_INIT, out, len)) {
			diag("KCM->TCP message %u: received %zd bytes, sent %zu, contents %s", i, n, len,
			     (size_t)n == len ? "differ" : "-");
			continue;
		}
		good++;
		total += len;
	}
	diag("KCM->TCP: %u of %zu messages (%zu bytes) intact in %.2f s", good, N_PAYLOADS, total, now_s() - t0);
	return good == N_PAYLOADS;
}

static int test_seqpacket(int prog, unsigned char *out, unsigned char *in)
{
	static const size_t parts[] = { 5004, 70000, 30001 };
	size_t payload = parts[0] + parts[1] + parts[2] - 4, len, off = 0;
	struct mux m;
	unsigned int i;
	ssize_t n;
	int ok = 0;

	if (mux_open(&m, SOCK_SEQPACKET, prog))
		goto out;
	/* One message in three sendmsg() calls; only the last ends the record. */
	len = frame(out, payload, SEED ^ 0x5e9);
	for (i = 0; i < 3; i++) {
		n = send(m.kcm, out + off, parts[i], i == 2 ? MSG_EOR : 0);
		if (n != (ssize_t)parts[i]) {
			diag("SEQPACKET part %u: send returned %zd: %s", i, n, n < 0 ? strerror(errno) : "short");
			goto out;
		}
		off += parts[i];
	}
	n = read_framed(m.peer, in, BIG);
	if (n != (ssize_t)len || memcmp(in, out, len) != 0) {
		diag("SEQPACKET KCM->TCP: received %zd bytes, sent %zu in three parts", n, len);
		goto out;
	}
	/* The other way: one 150 KB message, received whole. */
	len = frame(out, 150000, SEED ^ 0x5ea);
	if (write_full(m.peer, out, len) != (ssize_t)len) {
		diag("SEQPACKET TCP->KCM: write: %s", strerror(errno));
		goto out;
	} else {
		struct iovec iov = { .iov_base = in, .iov_len = BIG };
		struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1 };

		n = recvmsg(m.kcm, &msg, 0);
		if (n != (ssize_t)len || !(msg.msg_flags & MSG_EOR) || memcmp(in, out, len) != 0) {
			diag("SEQPACKET TCP->KCM: received %zd bytes (%s), flags %#x, sent %zu", n,
			     n < 0 ? strerror(errno) : "-", msg.msg_flags, len);
			goto out;
		}
	}
	ok = 1;
out:
	mux_close(&m);
	return ok;
}

static int test_unattach(struct mux *m)
{
	struct kcm_unattach un = { .fd = m->attached };
	char buf[16] = "";
	ssize_t n;

	if (ioctl(m->kcm, SIOCKCMUNATTACH, &un) < 0) {
		diag("ioctl(SIOCKCMUNATTACH): %s", strerror(errno));
		return 0;
	}
	if (write_full(m->peer, "plain", 5) != 5) {
		diag("write after unattach: %s", strerror(errno));
		return 0;
	}
	n = read_full(m->attached, buf, 5);
	if (n != 5 || memcmp(buf, "plain", 5) != 0) {
		diag("read on the unattached TCP socket: %zd (%s)", n, n < 0 ? strerror((int)-n) : "wrong data");
		return 0;
	}
	return 1;
}

int main(void)
{
	unsigned char *out = malloc(BIG), *in = malloc(BIG);
	double t0 = now_s();
	struct mux m = { -1, -1, -1 };
	int prog, attached;

	tap_plan(6);
	if (!out || !in) {
		diag("no memory");
		return 1;
	}
	prog = load_parser();
	if (prog < 0) {
		diag("bpf(BPF_PROG_LOAD): %s", strerror(errno));
		if (bpf_log[0])
			diag("verifier: %.300s", bpf_log);
	}
	tap_result(prog >= 0, "the BPF length-prefix parser loads as a socket filter");

	attached = prog >= 0 && mux_open(&m, SOCK_DGRAM, prog) == 0;
	tap_result(attached, "SIOCKCMATTACH attaches a loopback TCP socket to an AF_KCM socket");
	if (attached) {
		tap_result(test_tcp_to_kcm(&m, out, in), "TCP -> KCM: framed messages of 4 B .. 300 KB arrive whole and intact");
		tap_result(test_kcm_to_tcp(&m, out, in), "KCM -> TCP: messages sent on KCM arrive framed and intact");
	} else {
		tap_result(0, "TCP -> KCM: framed messages arrive whole and intact (no KCM socket)");
		tap_result(0, "KCM -> TCP: messages sent on KCM arrive intact (no KCM socket)");
	}
	tap_result(prog >= 0 && test_seqpacket(prog, out, in),
		   "SOCK_SEQPACKET KCM: a message sent in three parts arrives as one, and a 150 KB message is received whole");
	tap_result(attached && test_unattach(&m), "SIOCKCMUNATTACH gives the TCP socket back for plain reads");
	mux_close(&m);
	if (prog >= 0)
		close(prog);
	free(out);
	free(in);
	diag("kcm: %.2f s in all", now_s() - t0);
	return tap_exit();
}
