// SPDX-License-Identifier: MIT
/*
 * shutdown, reboot, halt. The command only accepts; the action runs after the reply
 * has been written (toolsd_power_run), so the host always hears back. With systemd
 * the service manager does it (systemctl), so units stop cleanly. Without it (a
 * busybox system, a container-less appliance) there is no service manager to ask:
 * toolsd syncs the file systems and calls reboot(2) itself, as `poweroff -f` does.
 * (Running busybox's poweroff would only signal PID 1, which need not be busybox's
 * init; and a Debian root's poweroff is systemctl, which ignores requests it cannot
 * carry out.)
 */
#include <errno.h>
#include <json-c/json.h>
#include <spawn.h>
#include <stdio.h>
#include <string.h>
#include <sys/reboot.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "toolsd.h"

extern char **environ;

/* Seconds between a forced power action's reply and the act. */
#define POWER_GRACE_S 2

enum power_action { POWER_NONE, POWER_OFF, POWER_REBOOT, POWER_HALT };

static enum power_action pending;

static const struct {
	const char *systemctl;
	int reboot_cmd;
} actions[] = {
	[POWER_OFF] = { "poweroff", RB_POWER_OFF },
	[POWER_REBOOT] = { "reboot", RB_AUTOBOOT },
	[POWER_HALT] = { "halt", RB_HALT_SYSTEM },
};

static int run_wait(char *const argv[])
{
	pid_t pid;
	int status;

	if (posix_spawnp(&pid, argv[0], NULL, NULL, argv, environ) != 0)
		return -1;
	if (waitpid(pid, &status, 0) < 0)
		return -1;
	return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

void toolsd_power_run(void)
{
	enum power_action a = pending;
	struct stat st;

	if (a == POWER_NONE)
		return;
	pending = POWER_NONE;
	toolsd_log("%s requested by the host", actions[a].systemctl);
	if (stat("/run/systemd/system", &st) == 0) {
		char *argv[] = { "systemctl", (char *)actions[a].systemctl, NULL };

		if (run_wait(argv) == 0)
			return;
		toolsd_log("systemctl %s failed; doing it directly", actions[a].systemctl);
	}
	/* The reply is written but may still sit in the socket: give it time to reach the
	 * host before the guest is gone. */
	sync();
	sleep(POWER_GRACE_S);
	reboot(actions[a].reboot_cmd);
	toolsd_log("reboot(2) failed: %s", strerror(errno));
}

static int accept_action(enum power_action a, struct json_object **result)
{
	pending = a;
	*result = json_object_new_object();
	json_object_object_add(*result, "accepted", json_object_new_string(actions[a].systemctl));
	return 0;
}

int toolsd_cmd_shutdown(struct json_object *args, struct json_object **result, char *err,
			size_t errlen)
{
	(void)args, (void)err, (void)errlen;
	return accept_action(POWER_OFF, result);
}

int toolsd_cmd_reboot(struct json_object *args, struct json_object **result, char *err,
		      size_t errlen)
{
	(void)args, (void)err, (void)errlen;
	return accept_action(POWER_REBOOT, result);
}

int toolsd_cmd_halt(struct json_object *args, struct json_object **result, char *err, size_t errlen)
{
	(void)args, (void)err, (void)errlen;
	return accept_action(POWER_HALT, result);
}
