// SPDX-License-Identifier: MIT
/*
 * The balloon's host half: validate, punch, verify, answer. One batch of the guest
 * module may come as several "balloon-batch" messages (parts, so a line stays under
 * the agent protocol's 64 KiB); each message is checked whole before any of it is
 * punched, and the batch is answered once its last part is in.
 *
 * Guest-physical ranges are translated with a snapshot of the vsock device's memory
 * table (dup'd region fds), so a table the frontend changes meanwhile cannot be freed
 * under us; punching an old region's memfd only touches memory no guest uses any more.
 */
#include "agent/balloon.h"

#include <errno.h>
#include <fcntl.h>
#include <json-c/json.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <vireo/log.h>

#include "agent/client.h"
#include "mem/guest_mem.h"
#include "vhost-user/dev.h"

#define TAG "balloon"

#define BALLOON_PAGE	   4096ull
#define BALLOON_MAX_PARTS  64
#define BALLOON_MAX_RANGES 4096 /* per message */
/* Batch flag bit 0: free pages the guest kernel reported (counted apart). */
#define BALLOON_FLAG_REPORTED 1ull

struct agent_balloon {
	char id[64];
	agent_mem_fn mem;
	void *mem_arg;
	agent_post_fn post;
	void *post_arg;

	/* The client's thread: the batch being received. */
	bool active;
	uint64_t seq;
	int64_t parts, next_part;
	bool ok;
	enum agent_balloon_refusal why;
	char detail[120];

	pthread_mutex_t lock; /* protects st */
	struct agent_balloon_stats st;
};

static struct vireo_ratelimit g_rl = VIREO_RATELIMIT_INIT(5000, 10);

static const char *const g_refusal_names[BALLOON_REFUSE_MAX] = {
	[BALLOON_REFUSE_MALFORMED] = "refused_malformed",
	[BALLOON_REFUSE_ZERO] = "refused_zero_length",
	[BALLOON_REFUSE_UNALIGNED] = "refused_unaligned",
	[BALLOON_REFUSE_WRAP] = "refused_wrap",
	[BALLOON_REFUSE_FOREIGN] = "refused_foreign",
	[BALLOON_REFUSE_NO_TABLE] = "refused_no_memory_table",
	[BALLOON_REFUSE_PUNCH] = "refused_punch_failed",
	[BALLOON_REFUSE_NOT_HOLE] = "refused_not_released",
};

const char *agent_balloon_refusal_name(enum agent_balloon_refusal r)
{
	return (unsigned int)r < BALLOON_REFUSE_MAX ? g_refusal_names[r] : "refused_unknown";
}

struct agent_balloon *agent_balloon_new(const char *id, agent_mem_fn mem, void *mem_arg,
					agent_post_fn post, void *post_arg)
{
	struct agent_balloon *b = calloc(1, sizeof(*b));

	if (!b)
		return NULL;
	snprintf(b->id, sizeof(b->id), "%s", id);
	b->mem = mem;
	b->mem_arg = mem_arg;
	b->post = post;
	b->post_arg = post_arg;
	pthread_mutex_init(&b->lock, NULL);
	return b;
}

void agent_balloon_free(struct agent_balloon *b)
{
	if (!b)
		return;
	pthread_mutex_destroy(&b->lock);
	free(b);
}

void agent_balloon_reset(struct agent_balloon *b)
{
	b->active = false;
}

void agent_balloon_get_stats(struct agent_balloon *b, struct agent_balloon_stats *st)
{
	pthread_mutex_lock(&b->lock);
	*st = b->st;
	pthread_mutex_unlock(&b->lock);
}

/* ---- one message's ranges ---- */

/* A JSON integer in 0..2^64-1 (json-c keeps those above 2^63 as unsigned). */
static bool bl_get_u64(struct json_object *v, uint64_t *out)
{
	if (!v || !json_object_is_type(v, json_type_int) || json_object_get_int64(v) < 0)
		return false;
	*out = json_object_get_uint64(v);
	return true;
}

struct bl_table {
	struct vu_mem_span spans[VIREO_MEM_MAX_REGIONS];
	int n;
};

static const struct vu_mem_span *bl_span_of(const struct bl_table *t, uint64_t gpa)
{
	for (int i = 0; i < t->n; i++)
		if (gpa >= t->spans[i].gpa && gpa - t->spans[i].gpa < t->spans[i].size)
			return &t->spans[i];
	return NULL;
}

/* The memfds' allocated bytes, each file once (regions may share one). */
static uint64_t bl_allocated(const struct bl_table *t)
{
	struct stat seen[VIREO_MEM_MAX_REGIONS];
	uint64_t total = 0;
	int nseen = 0;

	for (int i = 0; i < t->n; i++) {
		struct stat s;
		bool dup = false;

		if (fstat(t->spans[i].fd, &s) < 0)
			continue;
		for (int j = 0; j < nseen; j++)
			dup |= seen[j].st_dev == s.st_dev && seen[j].st_ino == s.st_ino;
		if (dup)
			continue;
		seen[nseen++] = s;
		total += (uint64_t)s.st_blocks * 512;
	}
	return total;
}

/*
 * Walks [gpa, gpa + len) region by region: it must lie in one region or across
 * regions that touch. With @punch, each piece is punched and checked to be a hole.
 */
static int bl_walk(const struct bl_table *t, uint64_t gpa, uint64_t len, bool punch,
		   enum agent_balloon_refusal *why, char *detail, size_t dlen)
{
	uint64_t cur = gpa, last = gpa + len - 1;

	for (;;) {
		const struct vu_mem_span *s = bl_span_of(t, cur);
		uint64_t piece_last, off, plen;
		off_t data;

		if (!s) {
			*why = BALLOON_REFUSE_FOREIGN;
			snprintf(detail, dlen, "gpa %#llx is not guest RAM",
				 (unsigned long long)cur);
			return -EFAULT;
		}
		piece_last = s->gpa + (s->size - 1);
		if (piece_last > last)
			piece_last = last;
		off = s->mmap_offset + (cur - s->gpa);
		plen = piece_last - cur + 1;
		if (punch) {
			if (fallocate(s->fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, (off_t)off,
				      (off_t)plen) < 0) {
				*why = BALLOON_REFUSE_PUNCH;
				snprintf(detail, dlen, "fallocate(PUNCH_HOLE) at %#llx: %s",
					 (unsigned long long)cur, strerror(errno));
				return -errno;
			}
			/* The host really got it back: no data left in the piece. */
			data = lseek(s->fd, (off_t)off, SEEK_DATA);
			if (!(data < 0 && errno == ENXIO) &&
			    !(data >= 0 && (uint64_t)data >= off + plen)) {
				*why = BALLOON_REFUSE_NOT_HOLE;
				snprintf(detail, dlen, "gpa %#llx still holds data after the punch",
					 (unsigned long long)cur);
				return -EIO;
			}
		}
		if (piece_last == last)
			return 0;
		cur = piece_last + 1;
	}
}

/* Checks every range of one message, then punches them all; 0 or a refusal. */
static int bl_apply(struct agent_balloon *b, struct json_object *ranges, uint64_t flags,
		    enum agent_balloon_refusal *why, char *detail, size_t dlen)
{
	struct bl_table t;
	uint64_t bytes = 0, before = 0, after;
	size_t n;
	int rc = 0;

	if (!ranges || !json_object_is_type(ranges, json_type_array) ||
	    (n = json_object_array_length(ranges)) == 0 || n > BALLOON_MAX_RANGES) {
		*why = BALLOON_REFUSE_MALFORMED;
		snprintf(detail, dlen, "\"ranges\" must be a list of 1..%d [gpa, len] pairs",
			 BALLOON_MAX_RANGES);
		return -EINVAL;
	}
	t.n = b->mem(b->mem_arg, t.spans, VIREO_MEM_MAX_REGIONS);
	if (t.n <= 0) {
		*why = BALLOON_REFUSE_NO_TABLE;
		snprintf(detail, dlen, "no guest memory table: %s",
			 t.n == 0 ? "the frontend is not connected" : strerror(-t.n));
		return -ENODEV;
	}
	for (int pass = 0; pass < 2 && rc == 0; pass++) {
		if (pass == 1)
			before = bl_allocated(&t);
		for (size_t i = 0; i < n && rc == 0; i++) {
			struct json_object *r = json_object_array_get_idx(ranges, i);
			uint64_t gpa, len;

			if (!json_object_is_type(r, json_type_array) ||
			    json_object_array_length(r) != 2 ||
			    !bl_get_u64(json_object_array_get_idx(r, 0), &gpa) ||
			    !bl_get_u64(json_object_array_get_idx(r, 1), &len)) {
				*why = BALLOON_REFUSE_MALFORMED;
				snprintf(detail, dlen,
					 "range %zu is not [gpa, len] (integers >= 0)", i);
				rc = -EINVAL;
			} else if (len == 0) {
				*why = BALLOON_REFUSE_ZERO;
				snprintf(detail, dlen, "range %zu has length 0", i);
				rc = -EINVAL;
			} else if ((gpa | len) & (BALLOON_PAGE - 1)) {
				*why = BALLOON_REFUSE_UNALIGNED;
				snprintf(detail, dlen,
					 "range %zu [%#llx, +%#llx] is not page-aligned", i,
					 (unsigned long long)gpa, (unsigned long long)len);
				rc = -EINVAL;
			} else if (gpa + (len - 1) < gpa) {
				*why = BALLOON_REFUSE_WRAP;
				snprintf(detail, dlen, "range %zu [%#llx, +%#llx] wraps past 2^64",
					 i, (unsigned long long)gpa, (unsigned long long)len);
				rc = -EINVAL;
			} else {
				rc = bl_walk(&t, gpa, len, pass == 1, why, detail, dlen);
				bytes += pass == 1 ? len : 0;
			}
		}
	}
	if (rc == 0) {
		after = bl_allocated(&t);
		pthread_mutex_lock(&b->lock);
		b->st.ranges += n;
		b->st.bytes_punched += bytes;
		if (flags & BALLOON_FLAG_REPORTED)
			b->st.bytes_reported += bytes;
		b->st.bytes_released += before > after ? before - after : 0;
		b->st.memfd_allocated = after;
		pthread_mutex_unlock(&b->lock);
		/* Punched again (a batch re-sent after a reconnect), or the guest raced us. */
		if (before <= after)
			vireo_log_ratelimited(&g_rl, VIREO_LOG_DEBUG, TAG,
					      "%s: %llu bytes punched, allocated size did not drop",
					      b->id, (unsigned long long)bytes);
	}
	for (int i = 0; i < t.n; i++)
		close(t.spans[i].fd);
	return rc;
}

/* ---- batches ---- */

static void bl_answer(struct agent_balloon *b)
{
	struct json_object *args = json_object_new_object();

	b->active = false;
	pthread_mutex_lock(&b->lock);
	b->st.batches++;
	if (b->ok)
		b->st.batches_acked++;
	else
		b->st.batches_nacked++;
	b->st.last_batch_ns = agent_now_ns();
	pthread_mutex_unlock(&b->lock);
	if (!args)
		return;
	json_object_object_add(args, "seq", json_object_new_uint64(b->seq));
	json_object_object_add(args, "ok", json_object_new_boolean(b->ok));
	if (!b->ok) {
		char msg[200];

		snprintf(msg, sizeof(msg), "%s: %s", agent_balloon_refusal_name(b->why) + 8,
			 b->detail);
		json_object_object_add(args, "error", json_object_new_string(msg));
	}
	b->post(b->post_arg, "balloon-done", args);
}

static void bl_refuse(struct agent_balloon *b, enum agent_balloon_refusal why, const char *detail)
{
	pthread_mutex_lock(&b->lock);
	b->st.refused[why]++;
	pthread_mutex_unlock(&b->lock);
	vireo_log_ratelimited(&g_rl, VIREO_LOG_WARN, TAG, "%s: balloon batch %llu refused (%s): %s",
			      b->id, (unsigned long long)b->seq,
			      agent_balloon_refusal_name(why) + 8, detail);
	if (b->ok) {
		b->ok = false;
		b->why = why;
		snprintf(b->detail, sizeof(b->detail), "%s", detail);
	}
}

static bool bl_get_i64(struct json_object *o, const char *key, int64_t min, int64_t max,
		       int64_t *out)
{
	struct json_object *v;

	if (!json_object_object_get_ex(o, key, &v) || !json_object_is_type(v, json_type_int))
		return false;
	*out = json_object_get_int64(v);
	return *out >= min && *out <= max;
}

static void bl_batch(struct agent_balloon *b, struct json_object *ev)
{
	struct json_object *ranges = NULL;
	int64_t seq, part, parts, flags = 0;
	enum agent_balloon_refusal why;
	char detail[120];

	if (!bl_get_i64(ev, "seq", 1, INT64_MAX, &seq) ||
	    !bl_get_i64(ev, "part", 0, BALLOON_MAX_PARTS - 1, &part) ||
	    !bl_get_i64(ev, "parts", 1, BALLOON_MAX_PARTS, &parts) || part >= parts ||
	    (json_object_object_get_ex(ev, "flags", NULL) &&
	     !bl_get_i64(ev, "flags", 0, UINT32_MAX, &flags))) {
		/* Nothing to answer: without a seq the agent cannot tell which batch. */
		pthread_mutex_lock(&b->lock);
		b->st.refused[BALLOON_REFUSE_MALFORMED]++;
		pthread_mutex_unlock(&b->lock);
		vireo_log_ratelimited(&g_rl, VIREO_LOG_WARN, TAG,
				      "%s: a balloon-batch without a valid seq/part/parts/flags "
				      "dropped",
				      b->id);
		return;
	}
	json_object_object_get_ex(ev, "ranges", &ranges);
	if (b->active && (uint64_t)seq != b->seq) {
		bl_refuse(b, BALLOON_REFUSE_MALFORMED, "incomplete: the next batch began");
		bl_answer(b);
	}
	if (!b->active) {
		b->active = true;
		b->seq = (uint64_t)seq;
		b->parts = parts;
		b->next_part = 0;
		b->ok = true;
	}
	if (part != b->next_part || parts != b->parts)
		bl_refuse(b, BALLOON_REFUSE_MALFORMED, "parts out of order");
	else if (b->ok && bl_apply(b, ranges, (uint64_t)flags, &why, detail, sizeof(detail)) < 0)
		bl_refuse(b, why, detail);
	b->next_part = part + 1;
	if (part == parts - 1)
		bl_answer(b);
}

/* "memstats": the guest's memory statistics; fields that are not integers read 0. */
static void bl_memstats(struct agent_balloon *b, struct json_object *ev)
{
	static const char *const keys[] = { "total",   "free",	   "available",	  "cached",
					    "swap_in", "swap_out", "major_faults" };
	uint64_t v[7] = { 0 };

	for (int i = 0; i < 7; i++) {
		struct json_object *o;

		if (json_object_object_get_ex(ev, keys[i], &o) && !bl_get_u64(o, &v[i]))
			v[i] = 0;
	}
	pthread_mutex_lock(&b->lock);
	b->st.stats_ns = agent_now_ns();
	b->st.mem_total = v[0];
	b->st.mem_free = v[1];
	b->st.mem_available = v[2];
	b->st.mem_cached = v[3];
	b->st.swap_in = v[4];
	b->st.swap_out = v[5];
	b->st.major_faults = v[6];
	pthread_mutex_unlock(&b->lock);
}

bool agent_balloon_event(struct agent_balloon *b, const char *name, struct json_object *ev)
{
	if (strcmp(name, "balloon-batch") == 0)
		bl_batch(b, ev);
	else if (strcmp(name, "memstats") == 0)
		bl_memstats(b, ev);
	else
		return false;
	return true;
}

/* ---- what the control socket shows ---- */

struct json_object *agent_balloon_stats_json(const struct agent_balloon_stats *st)
{
	struct json_object *o = json_object_new_object();
	int64_t now = agent_now_ns();

	json_object_object_add(o, "batches", json_object_new_uint64(st->batches));
	json_object_object_add(o, "batches_acked", json_object_new_uint64(st->batches_acked));
	json_object_object_add(o, "batches_nacked", json_object_new_uint64(st->batches_nacked));
	json_object_object_add(o, "ranges", json_object_new_uint64(st->ranges));
	json_object_object_add(o, "bytes_punched", json_object_new_uint64(st->bytes_punched));
	json_object_object_add(o, "bytes_reported", json_object_new_uint64(st->bytes_reported));
	json_object_object_add(o, "bytes_released", json_object_new_uint64(st->bytes_released));
	json_object_object_add(o, "memfd_allocated", json_object_new_uint64(st->memfd_allocated));
	for (unsigned int i = 0; i < BALLOON_REFUSE_MAX; i++)
		json_object_object_add(o, g_refusal_names[i],
				       json_object_new_uint64(st->refused[i]));
	json_object_object_add(
		o, "last_batch_age_s",
		st->last_batch_ns ? json_object_new_double((double)(now - st->last_batch_ns) / 1e9)
				  : NULL);
	return o;
}

struct json_object *agent_balloon_memstats_json(const struct agent_balloon_stats *st)
{
	struct json_object *o = json_object_new_object();

	json_object_object_add(o, "sampled", json_object_new_boolean(st->stats_ns != 0));
	json_object_object_add(
		o, "age_s",
		st->stats_ns ? json_object_new_double((double)(agent_now_ns() - st->stats_ns) / 1e9)
			     : NULL);
	json_object_object_add(o, "total", json_object_new_uint64(st->mem_total));
	json_object_object_add(o, "free", json_object_new_uint64(st->mem_free));
	json_object_object_add(o, "available", json_object_new_uint64(st->mem_available));
	json_object_object_add(o, "cached", json_object_new_uint64(st->mem_cached));
	json_object_object_add(o, "swap_in", json_object_new_uint64(st->swap_in));
	json_object_object_add(o, "swap_out", json_object_new_uint64(st->swap_out));
	json_object_object_add(o, "major_faults", json_object_new_uint64(st->major_faults));
	return o;
}
