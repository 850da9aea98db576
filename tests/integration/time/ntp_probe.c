// SPDX-License-Identifier: MIT
/*
 * The guest's side of the independent offset measurement (time/sync.sh, protocol in
 * ntp-server.py), in C so that little guest time passes between each clock reading
 * and its packet (an interpreter spends tens of microseconds of TCG time there).
 *
 * usage: ntp_probe HOST PORT COUNT INTERVAL_US
 * Prints one line per answered probe: "t3 offset_ns bound_ns", where t3 is the host's
 * send time, offset = host - guest = ((t2 - t1) + (t3 - t4)) / 2 and bound = half the
 * round trip less the host's own time, ((t4 - t1) - (t3 - t2)) / 2: the true offset at
 * that moment lies within offset +- bound.
 */
#include <arpa/inet.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static int64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

int main(int argc, char **argv)
{
	struct sockaddr_in sa = { .sin_family = AF_INET };
	struct timeval tv = { .tv_sec = 1 };
	long count, interval_us;
	int fd;

	if (argc != 5 || inet_pton(AF_INET, argv[1], &sa.sin_addr) != 1) {
		fprintf(stderr, "usage: ntp_probe HOST PORT COUNT INTERVAL_US\n");
		return 2;
	}
	sa.sin_port = htons((uint16_t)atoi(argv[2]));
	count = atol(argv[3]);
	interval_us = atol(argv[4]);
	fd = socket(AF_INET, SOCK_DGRAM, 0);
	if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 ||
	    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)) < 0) {
		perror("ntp_probe: socket");
		return 1;
	}
	for (uint64_t seq = 0; seq < (uint64_t)count; seq++) {
		int64_t req[2], rsp[4], t1, t4;
		ssize_t n;

		req[0] = (int64_t)seq; /* little endian, as ntp-server.py reads it */
		t1 = now_ns();
		req[1] = t1;
		if (send(fd, req, sizeof(req), 0) != sizeof(req)) {
			perror("ntp_probe: send");
			return 1;
		}
		do {
			n = recv(fd, rsp, sizeof(rsp), 0);
			t4 = now_ns();
		} while (n == sizeof(rsp) && rsp[0] != (int64_t)seq);
		/* A lost probe (1 s) is skipped. */
		if (n == sizeof(rsp) && rsp[1] == t1)
			printf("%lld %lld %lld\n", (long long)rsp[3],
			       (long long)(((rsp[2] - t1) + (rsp[3] - t4)) / 2),
			       (long long)(((t4 - t1) - (rsp[3] - rsp[2])) / 2));
		usleep((useconds_t)interval_us);
	}
	return 0;
}
