// SPDX-License-Identifier: MIT
/*
 * Unit tests of drivers/sensor/ipmi/ipmi_lan.c, the LAN transport, against a real BMC:
 * OpenIPMI's ipmi_sim (Debian openipmi) started by the test on 127.0.0.1 and a free UDP
 * port. Checked: a session opens (RMCP+ and IPMI 1.5) and carries commands; two
 * instances on two threads share the library; the last close and a new open start it
 * again; a BMC that stops answering times out a command and the session comes back by
 * itself; a wrong password, a port where no BMC answers and over-long credentials are
 * refused at open. Skips (77) when ipmi_sim is missing.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "ipmi_dev.h"

#define NETFN_APP     0x06
#define CMD_DEVICE_ID 0x01

static char g_dir[64];
static char g_port[16];
static pid_t g_sim;

static int free_udp_port(void)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t len = sizeof(a);
	int fd = socket(AF_INET, SOCK_DGRAM, 0), port = -1;

	if (fd < 0)
		return -1;
	if (bind(fd, (struct sockaddr *)&a, sizeof(a)) == 0 &&
	    getsockname(fd, (struct sockaddr *)&a, &len) == 0)
		port = ntohs(a.sin_port);
	close(fd);
	return port;
}

static int write_file(const char *name, const char *text)
{
	char path[128];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", g_dir, name);
	f = fopen(path, "w");
	if (!f)
		return -1;
	fputs(text, f);
	return fclose(f);
}

static struct ipmi_lan_cfg cfg(const char *password, unsigned int version)
{
	return (struct ipmi_lan_cfg){ .host = "127.0.0.1",
				      .port = g_port,
				      .user = "vireo",
				      .password = password,
				      .version = version,
				      .privilege = 3 };
}

static int device_id(struct ipmi_dev *d)
{
	uint8_t rsp[32];
	int n = ipmi_dev_cmd(d, 0, NETFN_APP, CMD_DEVICE_ID, NULL, 0, rsp, sizeof(rsp));

	if (n < 0)
		return n;
	/* Completion code, then device id, revision, firmware ... (at least 11 bytes). */
	return rsp[0] == 0 && n >= 12 ? 0 : -EIO;
}

static int start_sim(void **state)
{
	char conf[1024];
	int port = free_udp_port();
	struct ipmi_dev d;
	struct ipmi_lan_cfg c;

	(void)state;
	snprintf(g_dir, sizeof(g_dir), "/tmp/ipmi-lan-test.XXXXXX");
	if (port < 0 || !mkdtemp(g_dir))
		return -1;
	snprintf(g_port, sizeof(g_port), "%d", port);
	snprintf(conf, sizeof(conf),
		 "name \"lan-test\"\n"
		 "set_working_mc 0x20\n"
		 "  startlan 1\n"
		 "    addr 127.0.0.1 %d\n"
		 "    priv_limit admin\n"
		 "    allowed_auths_callback none md2 md5 straight\n"
		 "    allowed_auths_user none md2 md5 straight\n"
		 "    allowed_auths_operator none md2 md5 straight\n"
		 "    allowed_auths_admin none md2 md5 straight\n"
		 "    guid a123456789abcdefa123456789abcdef\n"
		 "  endlan\n"
		 "user 1 true \"\" \"\" user 10 none md2 md5 straight\n"
		 "user 2 true \"vireo\" \"s3cret\" operator 10 none md2 md5 straight\n",
		 port);
	if (write_file("lan.conf", conf) < 0 ||
	    write_file("bmc.emu", "mc_setbmc 0x20\n"
				  "mc_add 0x20 0 no-device-sdrs 0x23 9 8 0x9f 0x1291 0xf02\n"
				  "mc_enable 0x20\n") < 0)
		return -1;
	g_sim = fork();
	if (g_sim < 0)
		return -1;
	if (g_sim == 0) {
		char cp[128], f[128], s[128];

		snprintf(cp, sizeof(cp), "%s/lan.conf", g_dir);
		snprintf(f, sizeof(f), "%s/bmc.emu", g_dir);
		snprintf(s, sizeof(s), "%s", g_dir);
		if (!freopen("/dev/null", "r", stdin) || !freopen("/dev/null", "w", stdout))
			_exit(126);
		execlp("ipmi_sim", "ipmi_sim", "-c", cp, "-f", f, "-s", s, "-n", (char *)NULL);
		_exit(127);
	}
	/* Ready when a session opens; a dead child (no ipmi_sim) is a skip. */
	c = cfg("s3cret", 0);
	for (int i = 0; i < 50; i++) {
		int status;

		if (waitpid(g_sim, &status, WNOHANG) == g_sim) {
			g_sim = 0;
			return -1;
		}
		if (ipmi_lan_open(&d, &c, 200, "ready") == 0) {
			ipmi_dev_close(&d);
			return 0;
		}
	}
	return -1;
}

static int stop_sim(void **state)
{
	char cmd[128];

	(void)state;
	if (g_sim > 0) {
		kill(g_sim, SIGCONT);
		kill(g_sim, SIGTERM);
		waitpid(g_sim, NULL, 0);
	}
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", g_dir);
	return system(cmd) == 0 ? 0 : -1;
}

static void test_session(void **state)
{
	struct ipmi_lan_cfg c;
	struct ipmi_dev d;

	(void)state;
	for (unsigned int v = 0; v <= 20; v += v ? 5 : 15) { /* auto, 1.5, 2.0 */
		c = cfg("s3cret", v);
		assert_int_equal(ipmi_lan_open(&d, &c, 2000, "t"), 0);
		char where[32];
		snprintf(where, sizeof(where), "lan 127.0.0.1:%s", g_port);
		assert_string_equal(d.where, where);
		for (int i = 0; i < 20; i++)
			assert_int_equal(device_id(&d), 0);
		/* A request larger than any IPMI message is refused before it is sent. */
		uint8_t big[300] = { 0 }, rsp[4];
		assert_int_equal(ipmi_dev_cmd(&d, 0, NETFN_APP, CMD_DEVICE_ID, big, sizeof(big),
					      rsp, sizeof(rsp)),
				 -EINVAL);
		ipmi_dev_close(&d);
	}
}

static void *hammer(void *arg)
{
	struct ipmi_dev *d = arg;
	long bad = 0;

	for (int i = 0; i < 40; i++)
		if (device_id(d) != 0)
			bad++;
	return (void *)bad;
}

static void test_two_threads(void **state)
{
	struct ipmi_lan_cfg c = cfg("s3cret", 20);
	struct ipmi_dev a, b;
	pthread_t ta, tb;
	void *ra, *rb;

	(void)state;
	assert_int_equal(ipmi_lan_open(&a, &c, 2000, "a"), 0);
	assert_int_equal(ipmi_lan_open(&b, &c, 2000, "b"), 0);
	assert_int_equal(pthread_create(&ta, NULL, hammer, &a), 0);
	assert_int_equal(pthread_create(&tb, NULL, hammer, &b), 0);
	pthread_join(ta, &ra);
	pthread_join(tb, &rb);
	assert_int_equal((long)ra, 0);
	assert_int_equal((long)rb, 0);
	/* One closed, the other goes on; all closed, a new open starts the library again. */
	ipmi_dev_close(&a);
	assert_int_equal(device_id(&b), 0);
	ipmi_dev_close(&b);
	assert_int_equal(ipmi_lan_open(&a, &c, 2000, "a2"), 0);
	assert_int_equal(device_id(&a), 0);
	ipmi_dev_close(&a);
}

static void test_bmc_stops(void **state)
{
	struct ipmi_lan_cfg c = cfg("s3cret", 20);
	struct ipmi_dev d;
	int rc = -1;

	(void)state;
	assert_int_equal(ipmi_lan_open(&d, &c, 300, "stop"), 0);
	assert_int_equal(device_id(&d), 0);
	kill(g_sim, SIGSTOP);
	/* While it is stopped (about 6 s) every command fails within its timeout. */
	for (int i = 0; i < 20; i++) {
		rc = device_id(&d);
		assert_true(rc == -ETIMEDOUT || rc == -ENOTCONN || rc == -EIO);
		if (rc == -ENOTCONN) {
			struct timespec ts = { 0, 300 * 1000 * 1000 };

			nanosleep(&ts, NULL);
		}
	}
	kill(g_sim, SIGCONT);
	/* The library re-opens the session by itself; give it 20 s. */
	for (int i = 0; i < 200 && rc != 0; i++) {
		struct timespec ts = { 0, 100 * 1000 * 1000 };

		rc = device_id(&d);
		if (rc != 0)
			nanosleep(&ts, NULL);
	}
	assert_int_equal(rc, 0);
	ipmi_dev_close(&d);
}

static void test_refused(void **state)
{
	struct ipmi_lan_cfg c = cfg("wrong", 20);
	struct ipmi_dev d;
	struct timespec t0, t1;
	char port[16];

	(void)state;
	assert_true(ipmi_lan_open(&d, &c, 2000, "pw") < 0);
	/* No BMC on that port: refused within the timeout (and a little). */
	snprintf(port, sizeof(port), "%d", free_udp_port());
	c = cfg("s3cret", 20);
	c.port = port;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	assert_true(ipmi_lan_open(&d, &c, 500, "noone") < 0);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	assert_true(t1.tv_sec - t0.tv_sec < 3);
	/* Credentials longer than IPMI allows. */
	c = cfg("012345678901234567890", 20);
	assert_int_equal(ipmi_lan_open(&d, &c, 500, "long"), -EINVAL);
	c = cfg("s3cret", 20);
	c.user = "a-user-name-of-17";
	assert_int_equal(ipmi_lan_open(&d, &c, 500, "long"), -EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_session),
		cmocka_unit_test(test_two_threads),
		cmocka_unit_test(test_bmc_stops),
		cmocka_unit_test(test_refused),
	};

	if (system("command -v ipmi_sim >/dev/null 2>&1") != 0) {
		fprintf(stderr, "SKIP: ipmi_sim is missing (Debian openipmi, tests/lab/deps.sh)\n");
		return 77;
	}
	return cmocka_run_group_tests(tests, start_sim, stop_sim);
}
