// SPDX-License-Identifier: MIT
/*
 * sensor-hwmon: the host's Linux hwmon devices and thermal zones as one sensor
 * instance. Channels come from the hwmon sysfs ABI (Documentation/hwmon/sysfs-interface
 * in the kernel tree): tempN_, inN_, currN_, powerN_ and fanN_input, labelled by
 * *_label or else "NAME:tempN", with their _min/_max/_crit limits (writable when the
 * sysfs file is); and from the thermal sysfs ABI: thermal_zoneN/temp, labelled by its
 * type, its "hot" and "critical" trip points as max and crit. hwmon's units are the
 * class's (m C, mV, mA, uW, RPM); nothing is converted but the thermal zones' m C.
 * The sysfs root is a parameter (root=, default /sys), so tests point it at a tree.
 * Owns the file paths of each channel; reads and writes them when asked, nothing more.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <vireo/driver.h>
#include <vireo/log.h>
#include <vireo/params.h>
#include <vireo/sensor.h>

#define HW_NLIM 3 /* min, max, crit: enum vireo_sensor_threshold */

struct hw_chan {
	struct vireo_sensor_channel desc;
	char *input;		/* the value's file */
	char *limit[HW_NLIM];	/* each limit's file; NULL if absent */
	bool writable[HW_NLIM]; /* whether that file can be written */
	bool loaded;		/* flags decided (hw_load_limits) */
};

struct hw_sensors {
	struct hw_chan ch[VIREO_SENSOR_MAX_CHANNELS];
	unsigned int n;
	uint32_t interval; /* the interval-ms parameter; 0: each device's own */
};

/* hwmon attribute prefixes, in channel order, and the limit suffixes each has. */
static const struct {
	const char *prefix;
	uint32_t type;
	const char *lim[HW_NLIM];
	int64_t lo, hi; /* what a limit may be set to; past it set_threshold says -ERANGE */
} g_kinds[] = {
	{ "temp", VIREO_SENSOR_TEMPERATURE, { "_min", "_max", "_crit" }, -273150, 2000000 },
	{ "in", VIREO_SENSOR_VOLTAGE, { "_min", "_max", "_crit" }, -1000000000, 1000000000 },
	{ "curr", VIREO_SENSOR_CURRENT, { "_min", "_max", "_crit" }, -1000000000, 1000000000 },
	{ "power", VIREO_SENSOR_POWER, { "_min", "_max", "_crit" }, 0, 1000000000000000 },
	{ "fan", VIREO_SENSOR_FAN, { "_min", "_max", NULL }, 0, 1000000 },
};

#define HW_NKINDS (sizeof(g_kinds) / sizeof(g_kinds[0]))

static const struct vireo_param_decl hw_params[] = {
	{ VIREO_PARAM_STRING("root", "/sys", "the sysfs root holding class/hwmon, class/thermal") },
	{ VIREO_PARAM_BOOL("thermal", "on", "include the thermal zones") },
	{ VIREO_PARAM_UINT("interval-ms", "0",
			   "update interval of every channel; 0: each device's update_interval, "
			   "else 1000") },
	{ 0 } /* sentinel */
};

static char *hw_path(const char *dir, const char *name)
{
	size_t len = strlen(dir) + strlen(name) + 2;
	char *p = malloc(len);

	if (p)
		snprintf(p, len, "%s/%s", dir, name);
	return p;
}

/* Reads a small sysfs file into @buf, the trailing newline cut. Return: length or -errno. */
static int hw_read_text(const char *path, char *buf, size_t len)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	ssize_t n;

	if (fd < 0)
		return -errno;
	n = read(fd, buf, len - 1);
	if (n < 0)
		n = -errno;
	close(fd);
	if (n < 0)
		return (int)n;
	buf[n] = '\0';
	while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == ' '))
		buf[--n] = '\0';
	return (int)n;
}

static int hw_read_int(const char *path, int64_t *value)
{
	char buf[64], *end;
	long long v;
	int rc = hw_read_text(path, buf, sizeof(buf));

	if (rc < 0)
		return rc;
	errno = 0;
	v = strtoll(buf, &end, 10);
	if (rc == 0 || errno || *end)
		return -EIO;
	*value = v;
	return 0;
}

static bool hw_exists(const char *path)
{
	return access(path, F_OK) == 0;
}

/* Writable by its mode (root passes access(W_OK) even on 0444 sysfs files). */
static bool hw_writable(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0 && (st.st_mode & (S_IWUSR | S_IWGRP | S_IWOTH)) &&
	       access(path, W_OK) == 0;
}

/* Copies @src as a label: printable ASCII only, at most VIREO_SENSOR_LABEL_MAX bytes. */
static void hw_set_label(struct hw_sensors *s, struct vireo_sensor_channel *ch, const char *src)
{
	char base[VIREO_SENSOR_LABEL_MAX + 1];
	size_t n = 0;

	for (; *src && n < VIREO_SENSOR_LABEL_MAX; src++)
		base[n++] = (*src >= 0x20 && *src <= 0x7e) ? *src : '_';
	base[n] = '\0';
	if (!n)
		snprintf(base, sizeof(base), "ch%u", s->n);
	snprintf(ch->label, sizeof(ch->label), "%s", base);
	/* Labels name channels: make a repeated one unique with "#2", "#3", ... */
	for (unsigned int k = 2;; k++) {
		bool dup = false;

		for (unsigned int i = 0; i < s->n && !dup; i++)
			dup = strcmp(s->ch[i].desc.label, ch->label) == 0;
		if (!dup)
			return;
		snprintf(ch->label, sizeof(ch->label), "%.*s#%u", (int)(VIREO_SENSOR_LABEL_MAX - 4),
			 base, k);
	}
}

/*
 * Reads the limits into the description. The first time decides which the channel has
 * (the files that exist and read, less any that break the order: chips power up with
 * limits in any order; crit wins, then max); later calls only refresh their values, so
 * a channel keeps its flags for life, as the core requires.
 */
static void hw_load_limits(struct hw_chan *c)
{
	struct vireo_sensor_channel *d = &c->desc;
	int64_t v[HW_NLIM] = { d->min, d->max, d->crit };
	uint32_t have = 0;
	bool writable = false;

	for (unsigned int i = 0; i < HW_NLIM; i++) {
		if (c->limit[i] && hw_read_int(c->limit[i], &v[i]) == 0)
			have |= 1u << i;
	}
	if (c->loaded) {
		d->min = d->flags & VIREO_SENSOR_CH_MIN ? v[VIREO_SENSOR_MIN] : 0;
		d->max = d->flags & VIREO_SENSOR_CH_MAX ? v[VIREO_SENSOR_MAX] : 0;
		d->crit = d->flags & VIREO_SENSOR_CH_CRIT ? v[VIREO_SENSOR_CRIT] : 0;
		return;
	}
	c->loaded = true;
	d->min = v[VIREO_SENSOR_MIN];
	d->max = v[VIREO_SENSOR_MAX];
	d->crit = v[VIREO_SENSOR_CRIT];
	if ((have & VIREO_SENSOR_CH_MAX) && (have & VIREO_SENSOR_CH_CRIT) &&
	    v[VIREO_SENSOR_MAX] > v[VIREO_SENSOR_CRIT])
		have &= ~VIREO_SENSOR_CH_MAX;
	if ((have & VIREO_SENSOR_CH_MIN) &&
	    (((have & VIREO_SENSOR_CH_MAX) && v[VIREO_SENSOR_MIN] > v[VIREO_SENSOR_MAX]) ||
	     ((have & VIREO_SENSOR_CH_CRIT) && v[VIREO_SENSOR_MIN] > v[VIREO_SENSOR_CRIT])))
		have &= ~VIREO_SENSOR_CH_MIN;
	for (unsigned int i = 0; i < HW_NLIM; i++) {
		if (!(have & (1u << i)))
			c->writable[i] = false; /* a limit left out is never written */
		writable |= c->writable[i];
	}
	if (!(have & VIREO_SENSOR_CH_MIN))
		d->min = 0;
	if (!(have & VIREO_SENSOR_CH_MAX))
		d->max = 0;
	if (!(have & VIREO_SENSOR_CH_CRIT))
		d->crit = 0;
	d->flags = have | (writable ? VIREO_SENSOR_CH_WRITABLE : 0);
}

static void hw_free_chan(struct hw_chan *c)
{
	free(c->input);
	for (unsigned int i = 0; i < HW_NLIM; i++)
		free(c->limit[i]);
	memset(c, 0, sizeof(*c));
}

/* Takes a new channel slot; NULL (logged once) when all are used. */
static struct hw_chan *hw_new_chan(struct hw_sensors *s, const char *id)
{
	static bool warned;

	if (s->n < VIREO_SENSOR_MAX_CHANNELS)
		return &s->ch[s->n];
	if (!warned)
		VIREO_WARN("%s: more than %d channels: the rest are left out", id,
			   VIREO_SENSOR_MAX_CHANNELS);
	warned = true;
	return NULL;
}

/* Numeric order of names that end in a number: hwmon2 before hwmon10. */
static int hw_num_cmp(const struct dirent **a, const struct dirent **b)
{
	const char *x = (*a)->d_name, *y = (*b)->d_name;
	size_t lx = strcspn(x, "0123456789"), ly = strcspn(y, "0123456789");
	int c = strncmp(x, y, lx < ly ? lx : ly);

	if (c || lx != ly)
		return c ? c : (lx < ly ? -1 : 1);
	return atol(x + lx) < atol(y + ly) ? -1 : atol(x + lx) > atol(y + ly);
}

static int hw_is_hwmon(const struct dirent *e)
{
	return strncmp(e->d_name, "hwmon", 5) == 0 && e->d_name[5] >= '0' && e->d_name[5] <= '9';
}

static int hw_is_zone(const struct dirent *e)
{
	return strncmp(e->d_name, "thermal_zone", 12) == 0 && e->d_name[12] >= '0' &&
	       e->d_name[12] <= '9';
}

/* Adds channel KIND @k number @num of the hwmon device in @dir named @name. */
static int hw_add_hwmon_chan(struct hw_sensors *s, const char *id, const char *dir,
			     const char *name, unsigned int k, unsigned int num, const char *input,
			     uint32_t interval)
{
	struct hw_chan *c = hw_new_chan(s, id);
	char file[64], label[VIREO_SENSOR_LABEL_MAX + 1], *lpath;

	if (!c)
		return 0;
	c->input = hw_path(dir, input);
	if (!c->input)
		return -ENOMEM;
	for (unsigned int i = 0; i < HW_NLIM; i++) {
		if (!g_kinds[k].lim[i])
			continue;
		snprintf(file, sizeof(file), "%s%u%s", g_kinds[k].prefix, num, g_kinds[k].lim[i]);
		c->limit[i] = hw_path(dir, file);
		if (!c->limit[i])
			goto out_nomem;
		if (!hw_exists(c->limit[i])) {
			free(c->limit[i]);
			c->limit[i] = NULL;
			continue;
		}
		c->writable[i] = hw_writable(c->limit[i]);
	}
	c->desc.type = g_kinds[k].type;
	c->desc.update_interval_ms = interval;
	snprintf(file, sizeof(file), "%s%u_label", g_kinds[k].prefix, num);
	lpath = hw_path(dir, file);
	if (!lpath)
		goto out_nomem;
	if (hw_read_text(lpath, label, sizeof(label)) <= 0)
		snprintf(label, sizeof(label), "%.20s:%s%u", name, g_kinds[k].prefix, num);
	free(lpath);
	hw_set_label(s, &c->desc, label);
	hw_load_limits(c);
	s->n++;
	return 0;

out_nomem:
	hw_free_chan(c);
	return -ENOMEM;
}

/* Parses "temp3_input" (or "power1_average"): the kind and number; false otherwise. */
static bool hw_parse_input(const char *n, unsigned int *kind, unsigned int *num)
{
	for (unsigned int k = 0; k < HW_NKINDS; k++) {
		size_t pl = strlen(g_kinds[k].prefix);
		char *end;

		if (strncmp(n, g_kinds[k].prefix, pl) != 0 || n[pl] < '0' || n[pl] > '9')
			continue;
		*num = (unsigned int)strtoul(n + pl, &end, 10);
		*kind = k;
		return strcmp(end, "_input") == 0 ||
		       (g_kinds[k].type == VIREO_SENSOR_POWER && strcmp(end, "_average") == 0);
	}
	return false;
}

struct hw_input {
	unsigned int kind, num;
	char name[32];
};

static int hw_input_cmp(const void *a, const void *b)
{
	const struct hw_input *x = a, *y = b;

	if (x->kind != y->kind)
		return x->kind < y->kind ? -1 : 1;
	if (x->num != y->num)
		return x->num < y->num ? -1 : 1;
	return strcmp(x->name, y->name); /* _average after _input */
}

/* One hwmon device: its attributes live in @dir, or (old drivers) in @dir/device. */
static int hw_scan_hwmon(struct hw_sensors *s, const char *id, const char *dir)
{
	struct hw_input in[256];
	char name[32] = "", *adir, *p;
	unsigned int n = 0;
	int64_t ui = 0;
	uint32_t interval = s->interval;
	struct dirent *e;
	DIR *d;
	int rc = 0;

	p = hw_path(dir, "name");
	if (!p)
		return -ENOMEM;
	adir = hw_exists(p) ? strdup(dir) : hw_path(dir, "device");
	free(p);
	if (!adir)
		return -ENOMEM;
	p = hw_path(adir, "name");
	if (!p || hw_read_text(p, name, sizeof(name)) <= 0)
		snprintf(name, sizeof(name), "%s", strrchr(dir, '/') + 1);
	free(p);
	p = hw_path(adir, "update_interval");
	if (!interval && p && hw_read_int(p, &ui) == 0 && ui > 0 &&
	    ui <= VIREO_SENSOR_MAX_INTERVAL_MS)
		interval = (uint32_t)ui;
	free(p);
	d = opendir(adir);
	if (!d)
		goto out_free;
	while ((e = readdir(d)) && n < sizeof(in) / sizeof(in[0])) {
		if (strlen(e->d_name) >= sizeof(in[n].name) ||
		    !hw_parse_input(e->d_name, &in[n].kind, &in[n].num))
			continue;
		snprintf(in[n].name, sizeof(in[n].name), "%s", e->d_name);
		n++;
	}
	closedir(d);
	qsort(in, n, sizeof(in[0]), hw_input_cmp);
	for (unsigned int i = 0; i < n && rc == 0; i++) {
		/* power: _average only where there is no _input */
		if (i && in[i].kind == in[i - 1].kind && in[i].num == in[i - 1].num)
			continue;
		rc = hw_add_hwmon_chan(s, id, adir, name, in[i].kind, in[i].num, in[i].name,
				       interval);
	}
out_free:
	free(adir);
	return rc;
}

/* One thermal zone: temp, labelled by type, "hot" and "critical" trips as max, crit. */
static int hw_scan_zone(struct hw_sensors *s, const char *id, const char *dir)
{
	struct hw_chan *c = hw_new_chan(s, id);
	char label[VIREO_SENSOR_LABEL_MAX + 1], file[48], type[32], *p;
	int rc;

	if (!c)
		return 0;
	c->input = hw_path(dir, "temp");
	p = hw_path(dir, "type");
	if (!c->input || !p)
		goto out_nomem;
	if (hw_read_text(p, label, sizeof(label)) <= 0)
		snprintf(label, sizeof(label), "%s", strrchr(dir, '/') + 1);
	free(p);
	p = NULL;
	for (unsigned int t = 0; t < 32; t++) {
		unsigned int which;

		snprintf(file, sizeof(file), "trip_point_%u_type", t);
		p = hw_path(dir, file);
		if (!p)
			goto out_nomem;
		rc = hw_read_text(p, type, sizeof(type));
		free(p);
		p = NULL;
		if (rc < 0)
			break;
		if (strcmp(type, "critical") == 0)
			which = VIREO_SENSOR_CRIT;
		else if (strcmp(type, "hot") == 0)
			which = VIREO_SENSOR_MAX;
		else
			continue;
		if (c->limit[which])
			continue; /* the first trip of a kind */
		snprintf(file, sizeof(file), "trip_point_%u_temp", t);
		c->limit[which] = hw_path(dir, file);
		if (!c->limit[which])
			goto out_nomem;
		c->writable[which] = hw_writable(c->limit[which]);
	}
	c->desc.type = VIREO_SENSOR_TEMPERATURE;
	c->desc.update_interval_ms = s->interval;
	hw_set_label(s, &c->desc, label);
	hw_load_limits(c);
	s->n++;
	return 0;

out_nomem:
	free(p);
	hw_free_chan(c);
	return -ENOMEM;
}

/* Every entry of @cls under @root that @filter takes, in numeric order, through @scan. */
static int hw_scan_class(struct hw_sensors *s, const char *id, const char *root, const char *cls,
			 int (*filter)(const struct dirent *),
			 int (*scan)(struct hw_sensors *, const char *, const char *))
{
	struct dirent **list;
	char *dir = hw_path(root, cls), *sub;
	int n, rc = 0;

	if (!dir)
		return -ENOMEM;
	n = scandir(dir, &list, filter, hw_num_cmp);
	for (int i = 0; i < n; i++) {
		sub = rc == 0 ? hw_path(dir, list[i]->d_name) : NULL;
		if (rc == 0)
			rc = sub ? scan(s, id, sub) : -ENOMEM;
		free(sub);
		free(list[i]);
	}
	if (n >= 0)
		free(list);
	free(dir);
	return rc;
}

static void hw_free(struct hw_sensors *s)
{
	for (unsigned int i = 0; i < VIREO_SENSOR_MAX_CHANNELS; i++)
		hw_free_chan(&s->ch[i]);
	free(s);
}

static int hw_open(struct vireo_sensor *sensor, const struct vireo_params *params)
{
	const char *id = vireo_sensor_id(sensor), *root;
	struct hw_sensors *s;
	uint64_t interval;
	bool thermal;
	int rc;

	rc = vireo_param_get_string(params, "root", &root);
	if (rc == 0)
		rc = vireo_param_get_bool(params, "thermal", &thermal);
	if (rc == 0)
		rc = vireo_param_get_uint(params, "interval-ms", &interval);
	if (rc < 0) {
		VIREO_ERR("%s: reading parameters: %s", id, strerror(-rc));
		return rc;
	}
	if (interval > VIREO_SENSOR_MAX_INTERVAL_MS) {
		VIREO_ERR("%s: interval-ms %llu: at most %u", id, (unsigned long long)interval,
			  VIREO_SENSOR_MAX_INTERVAL_MS);
		return -EINVAL;
	}
	s = calloc(1, sizeof(*s));
	if (!s)
		return -ENOMEM;
	s->interval = (uint32_t)interval;
	rc = hw_scan_class(s, id, root, "class/hwmon", hw_is_hwmon, hw_scan_hwmon);
	if (rc == 0 && thermal)
		rc = hw_scan_class(s, id, root, "class/thermal", hw_is_zone, hw_scan_zone);
	if (rc == 0 && s->n == 0) {
		VIREO_ERR("%s: no hwmon or thermal sensors under %s", id, root);
		rc = -ENODEV;
	}
	if (rc < 0) {
		hw_free(s);
		return rc;
	}
	VIREO_INFO("%s: %u channel(s) under %s", id, s->n, root);
	vireo_sensor_set_priv(sensor, s);
	return 0;
}

static void hw_close(struct vireo_sensor *sensor)
{
	hw_free(vireo_sensor_priv(sensor));
	vireo_sensor_set_priv(sensor, NULL);
}

static int hw_get_channel(struct vireo_sensor *sensor, unsigned int index,
			  struct vireo_sensor_channel *ch)
{
	struct hw_sensors *s = vireo_sensor_priv(sensor);
	uint32_t size = ch->struct_size;

	if (index >= s->n)
		return -ENOENT;
	hw_load_limits(&s->ch[index]); /* the hardware's values, also after a write */
	memcpy(ch, &s->ch[index].desc, size < sizeof(*ch) ? size : sizeof(*ch));
	ch->struct_size = size;
	return 0;
}

static int hw_read(struct vireo_sensor *sensor, unsigned int index, int64_t *value)
{
	struct hw_sensors *s = vireo_sensor_priv(sensor);

	if (index >= s->n)
		return -EINVAL;
	return hw_read_int(s->ch[index].input, value);
}

static int hw_set_threshold(struct vireo_sensor *sensor, unsigned int index, unsigned int which,
			    int64_t value)
{
	struct hw_sensors *s = vireo_sensor_priv(sensor);
	const struct hw_chan *c;
	char buf[32];
	int fd, len, rc = 0;
	ssize_t w;

	if (index >= s->n || which >= HW_NLIM)
		return -EINVAL;
	c = &s->ch[index];
	if (!c->limit[which] || !c->writable[which])
		return -EOPNOTSUPP;
	/* The kernel clamps what it cannot hold; refuse the impossible before it does. */
	for (unsigned int k = 0; k < HW_NKINDS; k++)
		if (g_kinds[k].type == c->desc.type &&
		    (value < g_kinds[k].lo || value > g_kinds[k].hi))
			return -ERANGE;
	fd = open(c->limit[which], O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	len = snprintf(buf, sizeof(buf), "%lld\n", (long long)value);
	w = write(fd, buf, (size_t)len);
	if (w < 0)
		rc = -errno;
	else if (w != len)
		rc = -EIO;
	close(fd);
	if (rc == -EINVAL)
		rc = -ERANGE; /* sysfs says EINVAL for a value the chip cannot take */
	return rc;
}

static const struct vireo_sensor_ops hw_ops = {
	.struct_size = sizeof(struct vireo_sensor_ops),
	.open = hw_open,		   /* required */
	.get_channel = hw_get_channel,	   /* required; re-reads the limits */
	.read = hw_read,		   /* required; one sysfs read */
	.close = hw_close,		   /* optional */
	.set_threshold = hw_set_threshold, /* optional; writes the limit's file */
};

static const struct vireo_match hw_match[] = {
	{ VIREO_MATCH_NAME("hwmon") }, /* `driver=hwmon` finds this driver too */
	{ 0 }			       /* sentinel */
};

VIREO_DRIVER(.name = "sensor-hwmon", .version = "1.0.0", .license = "MIT",
	     .description = "Linux hwmon devices and thermal zones (sysfs)",
	     .dev_class = VIREO_CLASS_SENSOR, .ops.sensor = &hw_ops, .match = hw_match,
	     .params = hw_params);
