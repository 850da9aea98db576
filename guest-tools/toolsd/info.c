// SPDX-License-Identifier: MIT
/*
 * The "info" command: what the host wants to know about the guest (OS, kernel,
 * hostname, interfaces, uptime, load, memory, filesystems, tools version), from the
 * kernel's own interfaces so it works with or without systemd.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <ifaddrs.h>
#include <json-c/json.h>
#include <linux/if_packet.h>
#include <mntent.h>
#include <net/if.h>
#include <stdio.h>
#include <string.h>
#include <sys/statvfs.h>
#include <sys/sysinfo.h>
#include <sys/utsname.h>
#include <unistd.h>

#include "toolsd.h"

/* Mounts worth reporting are those backed by storage; these never are. */
static const char *const pseudo_fs[] = {
	"proc",	      "sysfs",	  "devtmpfs", "devpts",	     "cgroup",	    "cgroup2",
	"securityfs", "debugfs",  "tracefs",  "pstore",	     "bpf",	    "mqueue",
	"hugetlbfs",  "configfs", "fusectl",  "binfmt_misc", "autofs",	    "efivarfs",
	"rpc_pipefs", "nsfs",	  "ramfs",    "selinuxfs",   "fuse.portal",
};

static bool is_pseudo(const char *type)
{
	for (size_t i = 0; i < sizeof(pseudo_fs) / sizeof(pseudo_fs[0]); i++)
		if (strcmp(type, pseudo_fs[i]) == 0)
			return true;
	return false;
}

/* Unquotes an os-release value in place ("Debian GNU/Linux 12" -> Debian GNU/Linux 12). */
static char *os_release_value(char *v)
{
	size_t n;

	v[strcspn(v, "\n")] = '\0';
	n = strlen(v);
	if (n >= 2 && (v[0] == '"' || v[0] == '\'') && v[n - 1] == v[0]) {
		v[n - 1] = '\0';
		v++;
	}
	return v;
}

static struct json_object *os_info(void)
{
	static const char *const keys[] = { "PRETTY_NAME", "ID", "VERSION_ID", "VERSION_CODENAME" };
	struct json_object *os = json_object_new_object();
	FILE *f = fopen("/etc/os-release", "re");
	char line[512];

	if (!f)
		f = fopen("/usr/lib/os-release", "re");
	while (f && fgets(line, sizeof(line), f)) {
		for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
			size_t k = strlen(keys[i]);

			if (strncmp(line, keys[i], k) == 0 && line[k] == '=') {
				char name[32];

				snprintf(name, sizeof(name), "%s", keys[i]);
				for (char *p = name; *p; p++)
					*p = (char)(*p >= 'A' && *p <= 'Z' ? *p - 'A' + 'a' : *p);
				json_object_object_add(
					os, name,
					json_object_new_string(os_release_value(line + k + 1)));
			}
		}
	}
	if (f)
		fclose(f);
	return os;
}

static struct json_object *kernel_info(void)
{
	struct json_object *k = json_object_new_object();
	struct utsname u;

	if (uname(&u) == 0) {
		json_object_object_add(k, "release", json_object_new_string(u.release));
		json_object_object_add(k, "version", json_object_new_string(u.version));
		json_object_object_add(k, "machine", json_object_new_string(u.machine));
	}
	return k;
}

static struct json_object *iface_of(struct json_object *ifaces, const char *name)
{
	struct json_object *o;

	for (size_t i = 0; i < json_object_array_length(ifaces); i++) {
		o = json_object_array_get_idx(ifaces, i);
		if (strcmp(json_object_get_string(json_object_object_get(o, "name")), name) == 0)
			return o;
	}
	o = json_object_new_object();
	json_object_object_add(o, "name", json_object_new_string(name));
	json_object_object_add(o, "addresses", json_object_new_array());
	json_object_array_add(ifaces, o);
	return o;
}

static int prefix_len(const struct sockaddr *mask)
{
	const unsigned char *b;
	size_t n;
	int bits = 0;

	if (!mask)
		return -1;
	if (mask->sa_family == AF_INET) {
		b = (const unsigned char *)&((const struct sockaddr_in *)mask)->sin_addr;
		n = 4;
	} else {
		b = (const unsigned char *)&((const struct sockaddr_in6 *)mask)->sin6_addr;
		n = 16;
	}
	for (size_t i = 0; i < n; i++)
		bits += __builtin_popcount(b[i]);
	return bits;
}

static struct json_object *interfaces_info(void)
{
	struct json_object *ifaces = json_object_new_array();
	struct ifaddrs *all, *a;

	if (getifaddrs(&all) < 0)
		return ifaces;
	for (a = all; a; a = a->ifa_next) {
		struct json_object *o;
		char buf[INET6_ADDRSTRLEN + 8];

		if (!a->ifa_addr)
			continue;
		o = iface_of(ifaces, a->ifa_name);
		json_object_object_add(o, "up", json_object_new_boolean(!!(a->ifa_flags & IFF_UP)));
		if (a->ifa_addr->sa_family == AF_PACKET) {
			const struct sockaddr_ll *ll = (const struct sockaddr_ll *)a->ifa_addr;
			char mac[18];

			if (ll->sll_halen != 6)
				continue;
			snprintf(mac, sizeof(mac), "%02x:%02x:%02x:%02x:%02x:%02x", ll->sll_addr[0],
				 ll->sll_addr[1], ll->sll_addr[2], ll->sll_addr[3], ll->sll_addr[4],
				 ll->sll_addr[5]);
			json_object_object_add(o, "mac", json_object_new_string(mac));
		} else if (a->ifa_addr->sa_family == AF_INET ||
			   a->ifa_addr->sa_family == AF_INET6) {
			const void *in =
				a->ifa_addr->sa_family == AF_INET
					? (const void *)&((struct sockaddr_in *)a->ifa_addr)
						  ->sin_addr
					: (const void *)&((struct sockaddr_in6 *)a->ifa_addr)
						  ->sin6_addr;
			size_t len;

			if (!inet_ntop(a->ifa_addr->sa_family, in, buf, INET6_ADDRSTRLEN))
				continue;
			len = strlen(buf);
			snprintf(buf + len, sizeof(buf) - len, "/%d", prefix_len(a->ifa_netmask));
			json_object_array_add(json_object_object_get(o, "addresses"),
					      json_object_new_string(buf));
		}
	}
	freeifaddrs(all);
	return ifaces;
}

/* MemTotal and friends from /proc/meminfo, in bytes (also the memstats event's). */
struct json_object *toolsd_memory_info(void)
{
	static const struct {
		const char *key, *name;
	} fields[] = {
		{ "MemTotal:", "total" },	  { "MemFree:", "free" },
		{ "MemAvailable:", "available" }, { "Cached:", "cached" },
		{ "SwapTotal:", "swap_total" },	  { "SwapFree:", "swap_free" },
	};
	struct json_object *m = json_object_new_object();
	FILE *f = fopen("/proc/meminfo", "re");
	char line[128];

	while (f && fgets(line, sizeof(line), f)) {
		for (size_t i = 0; i < sizeof(fields) / sizeof(fields[0]); i++) {
			unsigned long long kib;
			size_t k = strlen(fields[i].key);

			if (strncmp(line, fields[i].key, k) == 0 &&
			    sscanf(line + k, "%llu", &kib) == 1)
				json_object_object_add(
					m, fields[i].name,
					json_object_new_int64((int64_t)(kib * 1024)));
		}
	}
	if (f)
		fclose(f);
	return m;
}

static struct json_object *filesystems_info(void)
{
	struct json_object *fss = json_object_new_array();
	FILE *f = setmntent("/proc/self/mounts", "re");
	struct mntent *m;

	while (f && (m = getmntent(f)) && json_object_array_length(fss) < 128) {
		struct json_object *o;
		struct statvfs st;

		if (is_pseudo(m->mnt_type))
			continue;
		o = json_object_new_object();
		json_object_object_add(o, "mountpoint", json_object_new_string(m->mnt_dir));
		json_object_object_add(o, "type", json_object_new_string(m->mnt_type));
		json_object_object_add(o, "device", json_object_new_string(m->mnt_fsname));
		json_object_object_add(o, "read_only",
				       json_object_new_boolean(hasmntopt(m, "ro") != NULL));
		if (statvfs(m->mnt_dir, &st) == 0) {
			json_object_object_add(
				o, "total_bytes",
				json_object_new_int64((int64_t)(st.f_blocks * st.f_frsize)));
			json_object_object_add(
				o, "free_bytes",
				json_object_new_int64((int64_t)(st.f_bavail * st.f_frsize)));
		}
		json_object_array_add(fss, o);
	}
	if (f)
		endmntent(f);
	return fss;
}

int toolsd_cmd_info(struct json_object *args, struct json_object **result, char *err, size_t errlen)
{
	struct json_object *r = json_object_new_object(), *load;
	char host[256] = "";
	struct sysinfo si;

	(void)args, (void)err, (void)errlen;
	if (!r)
		return -ENOMEM;
	gethostname(host, sizeof(host) - 1);
	json_object_object_add(r, "os", os_info());
	json_object_object_add(r, "kernel", kernel_info());
	json_object_object_add(r, "hostname", json_object_new_string(host));
	json_object_object_add(r, "interfaces", interfaces_info());
	if (sysinfo(&si) == 0) {
		json_object_object_add(r, "uptime_s", json_object_new_int64(si.uptime));
		load = json_object_new_array();
		for (int i = 0; i < 3; i++)
			json_object_array_add(load, json_object_new_double(si.loads[i] / 65536.0));
		json_object_object_add(r, "load", load);
	}
	json_object_object_add(r, "memory", toolsd_memory_info());
	json_object_object_add(r, "filesystems", filesystems_info());
	json_object_object_add(r, "tools_version", json_object_new_string(VIREO_VERSION));
	*result = r;
	return 0;
}
