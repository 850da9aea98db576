// SPDX-License-Identifier: MIT
/*
 * A small stream peer for the vsock tests, built -static so it runs in the lab's
 * busybox guest (busybox has no AF_VSOCK tool) and on the host alike.
 *
 *   vsock_peer cid                          the guest's own CID (IOCTL_VM_SOCKETS_GET_LOCAL_CID)
 *   vsock_peer [-l] [-t SECS] ADDR MODE [N]
 * ADDR: vsock:CID:PORT, unix:PATH, or hybrid:PATH:PORT (a unix connection to vireod's
 * vsock socket that says "CONNECT PORT" and expects "OK <port>"). With -l the peer
 * listens (vsock: any CID) and serves one connection; it prints "listening" first.
 * MODE: send N (N pattern bytes, then close), recv (until EOF), echo (send back what
 * arrives until EOF, then close), xfer N (send N and receive at once, shutting down
 * the write side after the last byte, until EOF).
 * Prints "sent BYTES SUM" / "recv BYTES SUM" (SUM: FNV-1a 64 of the bytes); errors go
 * to stderr as "error WHAT: strerror" with exit status 2.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/vm_sockets.h>
#include <poll.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#define FNV_INIT 0xcbf29ce484222325ull

static void die(const char *what)
{
	fprintf(stderr, "error %s: %s\n", what, strerror(errno));
	exit(2);
}

static uint64_t fnv(uint64_t h, const uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		h ^= p[i];
		h *= 0x100000001b3ull;
	}
	return h;
}

/* The pattern: a xorshift stream, so a misplaced block changes the sum. */
static void pattern(uint8_t *p, size_t n, uint64_t *state)
{
	for (size_t i = 0; i < n; i++) {
		*state ^= *state << 13;
		*state ^= *state >> 7;
		*state ^= *state << 17;
		p[i] = (uint8_t)*state;
	}
}

static int sock_for(const char *addr, bool listening)
{
	char path[108];
	unsigned long cid, port;
	int fd;

	if (strncmp(addr, "vsock:", 6) == 0) {
		struct sockaddr_vm a = { .svm_family = AF_VSOCK };

		if (sscanf(addr + 6, "%lu:%lu", &cid, &port) != 2 &&
		    !(listening && sscanf(addr + 6, "any:%lu", &port) == 1)) {
			fprintf(stderr, "bad address %s\n", addr);
			exit(1);
		}
		a.svm_cid = listening ? VMADDR_CID_ANY : (unsigned int)cid;
		a.svm_port = (unsigned int)port;
		fd = socket(AF_VSOCK, SOCK_STREAM, 0);
		if (fd < 0)
			die("socket");
		if (listening) {
			if (bind(fd, (struct sockaddr *)&a, sizeof(a)) < 0 || listen(fd, 4) < 0)
				die("listen");
			return fd;
		}
		if (connect(fd, (struct sockaddr *)&a, sizeof(a)) < 0)
			die("connect");
		return fd;
	}
	if (strncmp(addr, "unix:", 5) == 0 || strncmp(addr, "hybrid:", 7) == 0) {
		struct sockaddr_un a = { .sun_family = AF_UNIX };
		bool hybrid = addr[0] == 'h';
		const char *p = addr + (hybrid ? 7 : 5);
		char *colon;

		snprintf(path, sizeof(path), "%s", p);
		port = 0;
		if (hybrid) {
			colon = strrchr(path, ':');
			if (!colon) {
				fprintf(stderr, "bad address %s\n", addr);
				exit(1);
			}
			*colon = '\0';
			port = strtoul(colon + 1, NULL, 10);
		}
		snprintf(a.sun_path, sizeof(a.sun_path), "%s", path);
		fd = socket(AF_UNIX, SOCK_STREAM, 0);
		if (fd < 0)
			die("socket");
		if (listening) {
			unlink(path);
			if (bind(fd, (struct sockaddr *)&a, sizeof(a)) < 0 || listen(fd, 4) < 0)
				die("listen");
			return fd;
		}
		if (connect(fd, (struct sockaddr *)&a, sizeof(a)) < 0)
			die("connect");
		if (hybrid) {
			char line[64];
			size_t n = 0;

			dprintf(fd, "CONNECT %lu\n", port);
			/* A byte at a time: what follows the line is data. */
			while (n < sizeof(line) - 1) {
				ssize_t r = read(fd, line + n, 1);

				if (r == 0) {
					errno = ECONNRESET;
					die("hello");
				}
				if (r < 0)
					die("hello");
				if (line[n++] == '\n')
					break;
			}
			line[n] = '\0';
			if (strncmp(line, "OK ", 3) != 0) {
				fprintf(stderr, "error hello: got '%s'\n", line);
				exit(2);
			}
			fprintf(stderr, "hello: %s", line);
		}
		return fd;
	}
	fprintf(stderr, "bad address %s\n", addr);
	exit(1);
}

/* Moves bytes both ways until the peer's EOF (and, when sending, all is sent). */
static void run(int fd, const char *mode, uint64_t n)
{
	bool echo = strcmp(mode, "echo") == 0, recv_on = strcmp(mode, "send") != 0;
	bool sending = strcmp(mode, "send") == 0 || strcmp(mode, "xfer") == 0;
	static uint8_t out[65536], in[65536];
	uint64_t seed = 0x9e3779b97f4a7c15ull, sent = 0, got = 0;
	uint64_t sum_out = FNV_INIT, sum_in = FNV_INIT;
	size_t out_len = 0, out_off = 0;
	bool eof = !recv_on, shut = false;

	fcntl(fd, F_SETFL, O_NONBLOCK);
	while (!eof || (sending && !shut) || (echo && out_off < out_len)) {
		struct pollfd p = { .fd = fd, .events = 0 };

		if (sending && !shut && sent < n && out_off == out_len) {
			out_len = n - sent < sizeof(out) ? (size_t)(n - sent) : sizeof(out);
			pattern(out, out_len, &seed);
			out_off = 0;
		}
		if (sending && !shut && sent == n && out_off == out_len) {
			if (strcmp(mode, "send") == 0)
				break;
			shutdown(fd, SHUT_WR);
			shut = true;
			continue;
		}
		if (out_off < out_len)
			p.events |= POLLOUT;
		if (!eof && (!echo || out_off == out_len))
			p.events |= POLLIN;
		if (poll(&p, 1, -1) < 0)
			die("poll");
		if (p.revents & POLLOUT) {
			ssize_t w = write(fd, out + out_off, out_len - out_off);

			if (w < 0 && errno != EAGAIN)
				die("write");
			if (w > 0) {
				if (!echo) {
					sum_out = fnv(sum_out, out + out_off, (size_t)w);
					sent += (uint64_t)w;
				}
				out_off += (size_t)w;
			}
		}
		if ((p.revents & (POLLIN | POLLHUP | POLLERR)) && !eof &&
		    (!echo || out_off == out_len)) {
			ssize_t r = read(fd, echo ? out : in, sizeof(in));

			if (r < 0 && errno != EAGAIN)
				die("read");
			if (r == 0)
				eof = true;
			if (r > 0) {
				sum_in = fnv(sum_in, echo ? out : in, (size_t)r);
				got += (uint64_t)r;
				if (echo) {
					out_len = (size_t)r;
					out_off = 0;
				}
			}
		}
	}
	if (sending)
		printf("sent %llu %016llx\n", (unsigned long long)sent,
		       (unsigned long long)sum_out);
	if (recv_on)
		printf("recv %llu %016llx\n", (unsigned long long)got, (unsigned long long)sum_in);
	close(fd);
}

int main(int argc, char **argv)
{
	bool listening = false;
	int opt, fd;

	if (argc == 2 && strcmp(argv[1], "cid") == 0) {
		unsigned int cid;

		fd = open("/dev/vsock", O_RDONLY);
		if (fd < 0 || ioctl(fd, IOCTL_VM_SOCKETS_GET_LOCAL_CID, &cid) < 0)
			die("cid");
		printf("%u\n", cid);
		return 0;
	}
	while ((opt = getopt(argc, argv, "lt:")) != -1) {
		if (opt == 'l')
			listening = true;
		else if (opt == 't')
			alarm((unsigned int)atoi(optarg));
		else
			return 1;
	}
	if (argc - optind < 2) {
		fprintf(stderr, "usage: vsock_peer cid | [-l] [-t SECS] ADDR MODE [N]\n");
		return 1;
	}
	fd = sock_for(argv[optind], listening);
	if (listening) {
		int c;

		printf("listening\n");
		fflush(stdout);
		c = accept(fd, NULL, NULL);
		if (c < 0)
			die("accept");
		close(fd);
		fd = c;
	}
	run(fd, argv[optind + 1], argc - optind > 2 ? strtoull(argv[optind + 2], NULL, 10) : 0);
	return 0;
}
