// SPDX-License-Identifier: MIT
/*
 * vireo-certify's sensor limit checks: every channel's limits are ordered
 * (min <= max <= crit where present), before and after the others ran; on a writable
 * channel each limit can be moved by a small step and reads back as set (within half a
 * step: chips round to their resolution), then restored, or answers -EOPNOTSUPP for a
 * fixed one, and at least one can be moved; a value no hardware holds gets -ERANGE and
 * changes nothing; the driver itself refuses to change a read-only channel's limits or
 * one a channel lacks.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sensor_run.h"

static int64_t limit_of(const struct vireo_sensor_channel *ch, unsigned int which)
{
	return which == VIREO_SENSOR_MIN ? ch->min : which == VIREO_SENSOR_MAX ? ch->max : ch->crit;
}

static bool has_limit(const struct vireo_sensor_channel *ch, unsigned int which)
{
	return ch->flags & (1u << which);
}

static bool ordered(const struct vireo_sensor_channel *ch, char *why, size_t len)
{
	return host_sensor_check_channel(ch, why, len) == HOST_SENSOR_OK;
}

static bool check_order(struct sensor_run *run, const char *when)
{
	char why[256];

	for (unsigned int i = 0; i < run->nch; i++) {
		struct vireo_sensor_channel ch, raw;

		host_sensor_channel(run->hs, i, &ch);
		if (host_sensor_raw_get_channel(run->hs, i, &raw) != 0 ||
		    !ordered(&raw, why, sizeof(why)) || !ordered(&ch, why, sizeof(why))) {
			cert_report_add(run->r, "limits-order", CERT_FAIL,
					"%s, channel %u '%s': %s", when, i, ch.label, why);
			return false;
		}
	}
	return true;
}

/* A target one step from the limit's value that keeps the channel ordered, if any. */
static bool pick_target(const struct vireo_sensor_channel *ch, unsigned int which, int64_t *out)
{
	int64_t cur = limit_of(ch, which), step = sensor_step(ch->type);
	int64_t lo = INT64_MIN, hi = INT64_MAX;
	const int64_t cand[2] = { cur - step, cur + step };

	for (unsigned int w = 0; w < 3; w++) {
		if (w == which || !has_limit(ch, w))
			continue;
		if (w < which && limit_of(ch, w) > lo)
			lo = limit_of(ch, w);
		if (w > which && limit_of(ch, w) < hi)
			hi = limit_of(ch, w);
	}
	for (unsigned int k = 0; k < 2; k++) {
		if (cand[k] >= lo && cand[k] <= hi && host_sensor_plausible(ch->type, cand[k])) {
			*out = cand[k];
			return true;
		}
	}
	return false;
}

/* Sets limit @which of channel @i to @v and reads it back. Return: 0, or -errno, or 1. */
static int set_and_check(struct sensor_run *run, unsigned int i, unsigned int which, int64_t v,
			 int64_t *back)
{
	struct vireo_sensor_channel ch;
	int rc = host_sensor_set_threshold(run->hs, i, which, v);

	if (rc < 0)
		return rc;
	host_sensor_channel(run->hs, i, &ch);
	*back = limit_of(&ch, which);
	return llabs(*back - v) * 2 <= sensor_step(ch.type) ? 0 : 1;
}

static void check_thresholds(struct sensor_run *run)
{
	unsigned int writable = 0, moved = 0, fixed = 0;

	for (unsigned int i = 0; i < run->nch; i++) {
		struct vireo_sensor_channel ch;
		unsigned int ok = 0;

		host_sensor_channel(run->hs, i, &ch);
		if (!(ch.flags & VIREO_SENSOR_CH_WRITABLE))
			continue;
		writable++;
		for (unsigned int w = 0; w < 3; w++) {
			int64_t cur = limit_of(&ch, w), target, back = 0;
			int rc;

			if (!has_limit(&ch, w) || !pick_target(&ch, w, &target))
				continue;
			rc = set_and_check(run, i, w, target, &back);
			if (rc == -EOPNOTSUPP) {
				fixed++;
				continue;
			}
			if (rc == 0)
				rc = set_and_check(run, i, w, cur, &back);
			else
				cur = target;
			if (rc != 0) {
				cert_report_add(run->r, "thresholds", CERT_FAIL,
						"channel %u '%s' %s set to %" PRId64 ": %s%" PRId64,
						i, ch.label, host_sensor_threshold_name(w), cur,
						rc < 0 ? strerror(-rc) : "reads back as ",
						rc < 0 ? (int64_t)0 : back);
				return;
			}
			ok++;
			moved++;
		}
		if (!ok) {
			cert_report_add(run->r, "thresholds", CERT_FAIL,
					"channel %u '%s' is writable but none of its limits moved",
					i, ch.label);
			return;
		}
	}
	if (!writable) {
		cert_report_add(run->r, "thresholds", CERT_SKIP, "no writable channel");
		return;
	}
	cert_report_add(run->r, "thresholds", CERT_PASS,
			"%u limit(s) of %u writable channel(s) set one step away, read back and "
			"restored; %u fixed (-EOPNOTSUPP)",
			moved, writable, fixed);
}

/* INT64_MAX and INT64_MIN: -ERANGE, nothing changed. */
static void check_range(struct sensor_run *run)
{
	const int64_t absurd[2] = { INT64_MAX, INT64_MIN };

	for (unsigned int i = 0; i < run->nch; i++) {
		struct vireo_sensor_channel before, after;

		host_sensor_channel(run->hs, i, &before);
		if (!(before.flags & VIREO_SENSOR_CH_WRITABLE))
			continue;
		for (unsigned int w = 0; w < 3; w++) {
			int rc[2];

			if (!has_limit(&before, w))
				continue;
			for (unsigned int k = 0; k < 2; k++)
				rc[k] = host_sensor_set_threshold(run->hs, i, w, absurd[k]);
			if (rc[0] == -EOPNOTSUPP && rc[1] == -EOPNOTSUPP)
				continue; /* a fixed limit */
			host_sensor_channel(run->hs, i, &after);
			if (rc[0] != -ERANGE || rc[1] != -ERANGE ||
			    limit_of(&after, w) != limit_of(&before, w)) {
				cert_report_add(run->r, "threshold-range", CERT_FAIL,
						"channel %u '%s' %s set to INT64_MAX / INT64_MIN: "
						"%d / %d, not -ERANGE; the limit is now %" PRId64,
						i, before.label, host_sensor_threshold_name(w),
						rc[0], rc[1], limit_of(&after, w));
				return;
			}
			cert_report_add(run->r, "threshold-range", CERT_PASS,
					"channel %u '%s' %s: INT64_MAX and INT64_MIN refused with "
					"-ERANGE, limit unchanged",
					i, before.label, host_sensor_threshold_name(w));
			return;
		}
	}
	cert_report_add(run->r, "threshold-range", CERT_SKIP, "no writable limit");
}

/* The driver's own answer where the core never asks: read-only channels, absent limits. */
static void check_readonly(struct sensor_run *run)
{
	unsigned int tried = 0;

	for (unsigned int i = 0; i < run->nch; i++) {
		struct vireo_sensor_channel before, after;

		host_sensor_channel(run->hs, i, &before);
		for (unsigned int w = 0; w < 3; w++) {
			bool ro = !(before.flags & VIREO_SENSOR_CH_WRITABLE);
			int64_t v = limit_of(&before, w) + sensor_step(before.type);
			int core, raw;

			if (!ro && has_limit(&before, w))
				continue;
			core = host_sensor_set_threshold(run->hs, i, w, v);
			raw = host_sensor_raw_set_threshold(run->hs, i, w, v);
			if (host_sensor_raw_get_channel(run->hs, i, &after) != 0)
				after = before;
			tried++;
			if (core != (has_limit(&before, w) ? -EOPNOTSUPP : -EINVAL) ||
			    (raw >= 0 && raw != -ENOSYS) ||
			    limit_of(&after, w) != limit_of(&before, w)) {
				cert_report_add(
					run->r, "threshold-readonly", CERT_FAIL,
					"channel %u '%s' (%s) %s: core %d, driver %d, limit "
					"%" PRId64 " -> %" PRId64,
					i, before.label, ro ? "read-only" : "writable",
					host_sensor_threshold_name(w), core, raw,
					limit_of(&before, w), limit_of(&after, w));
				return;
			}
		}
	}
	if (!tried) {
		cert_report_add(run->r, "threshold-readonly", CERT_SKIP,
				"every channel is writable and has every limit");
		return;
	}
	cert_report_add(run->r, "threshold-readonly", CERT_PASS,
			"%u read-only or absent limit(s): the core says -EOPNOTSUPP/-EINVAL, the "
			"driver refuses too, nothing changed",
			tried);
}

void sensor_check_limits(struct sensor_run *run)
{
	if (!check_order(run, "at open"))
		return;
	check_thresholds(run);
	check_range(run);
	check_readonly(run);
	if (check_order(run, "after the threshold checks"))
		cert_report_add(run->r, "limits-order", CERT_PASS,
				"every channel's limits are min <= max <= crit, before and after "
				"the threshold checks");
}
