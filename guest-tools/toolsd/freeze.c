// SPDX-License-Identifier: MIT
/*
 * fsfreeze / thaw (FIFREEZE, FITHAW) for consistent host-side snapshots. A freeze
 * always has a deadline: if the host never thaws (it crashed, the connection
 * dropped), the auto-thaw timer does, so a guest can never be left frozen. Every
 * frozen file system keeps an open fd to its mount point until it is thawed.
 */
#include <errno.h>
#include <fcntl.h>
#include <json-c/json.h>
#include <limits.h>
#include <linux/fs.h>
#include <mntent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

#include "toolsd.h"

#define MAX_FROZEN 64

struct frozen {
	char *path;
	int fd;
};

static struct frozen frozen[MAX_FROZEN];
static unsigned int nfrozen;
static int timer_fd = -1;
static unsigned int default_timeout_s;
static time_t thaw_deadline; /* CLOCK_MONOTONIC seconds */

int toolsd_freeze_init(unsigned int timeout_s)
{
	default_timeout_s = timeout_s;
	timer_fd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK);
	return timer_fd < 0 ? -errno : 0;
}

int toolsd_freeze_timer_fd(void)
{
	return timer_fd;
}

static time_t mono_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec;
}

/* Thaws in the reverse order of freezing (parents after children were frozen
 * first, so they thaw first). Fills @names with what was thawed, if given. */
static void thaw_all(struct json_object *names)
{
	struct itimerspec off = { 0 };

	while (nfrozen) {
		struct frozen *f = &frozen[--nfrozen];

		if (ioctl(f->fd, FITHAW, 0) < 0 && errno != EINVAL)
			toolsd_log("thaw %s: %s", f->path, strerror(errno));
		if (names)
			json_object_array_add(names, json_object_new_string(f->path));
		close(f->fd);
		free(f->path);
	}
	timerfd_settime(timer_fd, 0, &off, NULL);
}

void toolsd_freeze_thaw_all(void)
{
	if (nfrozen)
		toolsd_log("thawing %u file system(s)", nfrozen);
	thaw_all(NULL);
}

void toolsd_freeze_timer_expired(void)
{
	uint64_t ticks;

	if (read(timer_fd, &ticks, sizeof(ticks)) != sizeof(ticks) || !nfrozen)
		return;
	toolsd_log("the host did not thaw within its timeout: thawing %u file system(s)", nfrozen);
	thaw_all(NULL);
}

/* Storage-backed, writable mounts, each file system once, in mount order. */
static int list_freezable(char **paths, unsigned int max, unsigned int *n)
{
	FILE *f = setmntent("/proc/self/mounts", "re");
	dev_t seen[MAX_FROZEN];
	struct mntent *m;

	if (!f)
		return -errno;
	*n = 0;
	while ((m = getmntent(f))) {
		struct stat st;
		bool dup = false;

		if (strncmp(m->mnt_fsname, "/dev/", 5) != 0 || hasmntopt(m, "ro") ||
		    stat(m->mnt_dir, &st) < 0)
			continue;
		for (unsigned int i = 0; i < *n; i++)
			dup |= seen[i] == st.st_dev;
		if (dup)
			continue;
		if (*n == max)
			break;
		paths[*n] = strdup(m->mnt_dir);
		if (!paths[*n])
			break;
		seen[(*n)++] = st.st_dev;
	}
	endmntent(f);
	return 0;
}

static bool is_mountpoint(const char *path)
{
	FILE *f = setmntent("/proc/self/mounts", "re");
	struct mntent *m;
	bool found = false;

	while (f && !found && (m = getmntent(f)))
		found = strcmp(m->mnt_dir, path) == 0;
	if (f)
		endmntent(f);
	return found;
}

static int freeze_one(const char *path, char *err, size_t errlen)
{
	int fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

	if (fd < 0 || ioctl(fd, FIFREEZE, 0) < 0) {
		int rc = -errno;

		snprintf(err, errlen, "cannot freeze %s: %s", path, strerror(errno));
		if (fd >= 0)
			close(fd);
		return rc;
	}
	frozen[nfrozen].fd = fd;
	frozen[nfrozen].path = strdup(path);
	if (!frozen[nfrozen].path) {
		ioctl(fd, FITHAW, 0);
		close(fd);
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	nfrozen++;
	return 0;
}

int toolsd_cmd_fsfreeze(struct json_object *args, struct json_object **result, char *err,
			size_t errlen)
{
	struct json_object *v, *names;
	char *paths[MAX_FROZEN];
	unsigned int n = 0, timeout = default_timeout_s;
	int rc = 0;

	if (nfrozen) {
		snprintf(err, errlen, "already frozen (%u file systems): thaw first", nfrozen);
		return -EBUSY;
	}
	if (json_object_object_get_ex(args, "timeout_s", &v)) {
		int64_t t = json_object_get_int64(v);

		if (!json_object_is_type(v, json_type_int) || t < 1 || t > 24 * 3600) {
			snprintf(err, errlen, "timeout_s must be 1..86400");
			return -EINVAL;
		}
		timeout = (unsigned int)t;
	}
	if (json_object_object_get_ex(args, "mountpoints", &v)) {
		if (!json_object_is_type(v, json_type_array) || json_object_array_length(v) == 0 ||
		    json_object_array_length(v) > MAX_FROZEN) {
			snprintf(err, errlen, "mountpoints must be a list of 1..%d paths",
				 MAX_FROZEN);
			return -EINVAL;
		}
		for (size_t i = 0; i < json_object_array_length(v); i++) {
			struct json_object *p = json_object_array_get_idx(v, i);
			const char *s = json_object_get_string(p);

			if (!json_object_is_type(p, json_type_string) || !is_mountpoint(s)) {
				snprintf(err, errlen, "%s is not a mount point", s ? s : "(null)");
				rc = -EINVAL;
				break;
			}
			paths[n] = strdup(s);
			if (!paths[n]) {
				rc = -ENOMEM;
				break;
			}
			n++;
		}
	} else {
		rc = list_freezable(paths, MAX_FROZEN, &n);
		if (rc < 0)
			snprintf(err, errlen, "cannot read the mount table: %s", strerror(-rc));
	}
	/* Children before parents: a parent frozen first would block the child's sync. */
	for (unsigned int i = n; rc == 0 && i-- > 0;)
		rc = freeze_one(paths[i], err, errlen);
	for (unsigned int i = 0; i < n; i++)
		free(paths[i]);
	if (rc < 0) {
		thaw_all(NULL);
		return rc;
	}

	struct itimerspec t = { .it_value = { .tv_sec = timeout } };

	timerfd_settime(timer_fd, 0, &t, NULL);
	thaw_deadline = mono_s() + timeout;
	toolsd_log("froze %u file system(s); auto-thaw in %u s", nfrozen, timeout);
	names = json_object_new_array();
	for (unsigned int i = 0; i < nfrozen; i++)
		json_object_array_add(names, json_object_new_string(frozen[i].path));
	*result = json_object_new_object();
	json_object_object_add(*result, "frozen", names);
	json_object_object_add(*result, "thaw_after_s", json_object_new_int(timeout));
	return 0;
}

int toolsd_cmd_thaw(struct json_object *args, struct json_object **result, char *err, size_t errlen)
{
	struct json_object *names = json_object_new_array();

	(void)args, (void)err, (void)errlen;
	if (nfrozen)
		toolsd_log("thawing %u file system(s) at the host's request", nfrozen);
	thaw_all(names);
	*result = json_object_new_object();
	json_object_object_add(*result, "thawed", names);
	return 0;
}

int toolsd_cmd_fsfreeze_status(struct json_object *args, struct json_object **result, char *err,
			       size_t errlen)
{
	struct json_object *names = json_object_new_array();

	(void)args, (void)err, (void)errlen;
	for (unsigned int i = 0; i < nfrozen; i++)
		json_object_array_add(names, json_object_new_string(frozen[i].path));
	*result = json_object_new_object();
	json_object_object_add(*result, "frozen", json_object_new_boolean(nfrozen > 0));
	json_object_object_add(*result, "mountpoints", names);
	if (nfrozen)
		json_object_object_add(*result, "thaw_in_s",
				       json_object_new_int64((int64_t)(thaw_deadline - mono_s())));
	return 0;
}
