// SPDX-License-Identifier: MIT
/*
 * The traffic of vireo-certify's net checks. A phase has flows (one per sending
 * instance and queue pair); frame SEQ of a flow is derived from the seed, the phase,
 * the flow and SEQ, so a receiver rebuilds and compares it byte for byte without a
 * copy. Frames are offered to host_net_tx() in scattered iovecs and received with
 * host_net_rx() into scattered buffers of MTU + 18 bytes with guard gaps, as vireod
 * offers guest buffers. Every frame received is checked: intact, not seen before, not
 * behind an earlier one of its flow on that queue. net_traffic() runs a phase with a
 * thread per sender and per receiver (the transmit and receive threads of <vireo/net.h>);
 * the synchronous calls serve checks that need one step at a time. Owns the frames
 * and the phase bookkeeping; not the verdicts.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/internal.h"
#include "net_run.h"

#define TR_GUARD 64   /* gap around each receive iovec */
#define TR_FILL	 0xa5 /* what the gaps hold */

struct tr_flow {
	unsigned int from, pair, to;
	uint32_t total, min_len, max_len;
	uint32_t next;			 /* synchronous sends: the next seq to offer */
	atomic_uint taken;		 /* frames the driver took */
	atomic_uint received;		 /* distinct frames received */
	_Atomic uint64_t *seen;		 /* a bit per seq */
	uint32_t last[2][NET_MAX_PAIRS]; /* per receiving queue: last seq + 1 (that thread's) */
};

struct net_phase {
	struct net_run *run;
	struct net_spec spec;
	struct tr_flow flows[2 * NET_MAX_PAIRS];
	int index[2][NET_MAX_PAIRS]; /* flow of (sender, pair); -1: none */
	unsigned int nflows;
	atomic_bool stop;
	atomic_uint_fast64_t progress_ms;
	atomic_uint_fast64_t sent_bytes, received, received_bytes, partial, csum_valid,
		csum_partial;
	pthread_mutex_t lock; /* why */
	char why[256];
};

/* ---- frames ---- */

static uint64_t tr_mix(uint64_t x)
{
	x += 0x9e3779b97f4a7c15ull;
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
	x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
	return x ^ (x >> 31);
}

static void tr_put16(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static void tr_put32(uint8_t *p, uint32_t v)
{
	tr_put16(p, v >> 16);
	tr_put16(p + 2, v);
}

static uint32_t tr_get16(const uint8_t *p)
{
	return (uint32_t)p[0] << 8 | p[1];
}

static uint32_t tr_get32(const uint8_t *p)
{
	return tr_get16(p) << 16 | tr_get16(p + 2);
}

/* The Internet checksum of @len bytes, complemented (what NEEDS_CSUM asks for). */
static uint16_t tr_csum(const uint8_t *p, size_t len)
{
	uint64_t sum = 0;

	for (; len > 1; p += 2, len -= 2)
		sum += (uint32_t)p[0] << 8 | p[1];
	if (len)
		sum += (uint32_t)p[0] << 8;
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
}

static uint64_t tr_key(const struct net_phase *ph, const struct tr_flow *f, uint32_t seq)
{
	return tr_mix(ph->run->opts->seed ^
		      tr_mix(((uint64_t)ph->run->phase << 48) ^
			     ((uint64_t)(f->from * 64 + f->pair) << 32) ^ seq));
}

/* The length of frame @seq of @f (random in the flow's range). */
static uint32_t tr_len(const struct net_phase *ph, const struct tr_flow *f, uint32_t seq)
{
	return f->min_len + (uint32_t)(tr_key(ph, f, seq) % (f->max_len - f->min_len + 1));
}

/* Where the checksum of a NEEDS_CSUM frame starts and goes (inside 60 bytes). */
static void tr_csum_at(uint64_t key, uint16_t *start, uint16_t *offset)
{
	*start = (uint16_t)(NET_HDR_END + 2 * ((key >> 20) % 4));
	*offset = (key >> 24) & 1 ? 16 : 6; /* TCP's and UDP's */
}

/* Frame @seq of @f, @len bytes, as it is sent (a NEEDS_CSUM frame holds its seed). */
static void tr_build(const struct net_phase *ph, const struct tr_flow *f, uint32_t seq,
		     uint32_t len, uint8_t *buf)
{
	const struct net_run *run = ph->run;
	uint64_t s = tr_key(ph, f, seq) | 1;

	memcpy(buf, run->inst[f->to].info.mac, 6);
	memcpy(buf + 6, run->inst[f->from].info.mac, 6);
	tr_put16(buf + 12, NET_ETHERTYPE);
	tr_put32(buf + 14, NET_MAGIC);
	tr_put32(buf + 18, run->phase);
	tr_put16(buf + 22, f->from * 64 + f->pair);
	tr_put32(buf + 24, seq);
	tr_put16(buf + 28, len & 0xffff);
	for (uint32_t i = NET_HDR_END; i < len; i += 8) {
		uint64_t v;

		s ^= s >> 12;
		s ^= s << 25;
		s ^= s >> 27;
		v = s * 0x2545f4914f6cdd1dull;
		memcpy(buf + i, &v, len - i < 8 ? len - i : 8);
	}
}

/* Splits @len bytes at @buf into 1..4 random iovecs. */
static uint16_t tr_split(uint64_t key, uint8_t *buf, uint32_t len, struct iovec *iov)
{
	unsigned int n = 1 + (unsigned int)(key >> 40) % 4, k = 0;
	uint32_t off = 0;

	for (unsigned int i = 0; i < n && off < len; i++) {
		uint32_t left = len - off;
		uint32_t l = i == n - 1 ? left : 1 + (uint32_t)(tr_mix(key + i) % left);

		iov[k].iov_base = buf + off;
		iov[k++].iov_len = l;
		off += l;
	}
	return (uint16_t)k;
}

/* Fills @p for frame @seq of @f into @buf (room for its length). */
static void tr_prepare(struct net_phase *ph, struct tr_flow *f, uint32_t seq, uint32_t len,
		       uint8_t *buf, struct iovec *iov, struct vireo_pkt *p)
{
	uint64_t key = tr_key(ph, f, seq);

	tr_build(ph, f, seq, len, buf);
	*p = (struct vireo_pkt){ .struct_size = sizeof(*p), .len = len, .iov = iov };
	p->iovcnt = tr_split(key, buf, len, iov);
	if (ph->spec.csum) {
		p->flags = VIREO_PKT_F_NEEDS_CSUM;
		tr_csum_at(key, &p->csum_start, &p->csum_offset);
	}
}

static void tr_fail(struct net_phase *ph, const char *fmt, ...) VIREO_PRINTF(2, 3);
static void tr_fail(struct net_phase *ph, const char *fmt, ...)
{
	va_list ap;

	pthread_mutex_lock(&ph->lock);
	if (!ph->why[0]) {
		va_start(ap, fmt);
		vsnprintf(ph->why, sizeof(ph->why), fmt, ap);
		va_end(ap);
	}
	pthread_mutex_unlock(&ph->lock);
	atomic_store(&ph->stop, true);
}

static void tr_progress(struct net_phase *ph)
{
	atomic_store(&ph->progress_ms, net_now_ms());
}

/* Whether nothing moved for NET_STALL_MS; fails the phase, naming what is missing. */
static bool tr_stalled(struct net_phase *ph)
{
	if (net_now_ms() - atomic_load(&ph->progress_ms) < NET_STALL_MS)
		return false;
	for (unsigned int i = 0; i < ph->nflows; i++) {
		struct tr_flow *f = &ph->flows[i];
		unsigned int got = atomic_load(&f->received), taken = atomic_load(&f->taken);

		if (got == f->total)
			continue;
		tr_fail(ph,
			"nothing moved for %u ms: %s -> %s, pair %u: %u of %u frames taken, "
			"%u received",
			NET_STALL_MS, ph->run->inst[f->from].id, ph->run->inst[f->to].id, f->pair,
			taken, f->total, got);
		break;
	}
	ph->run->stuck = true;
	atomic_store(&ph->stop, true);
	return true;
}

/* ---- receiving ---- */

/* Checks one received frame of instance @in, queue @q (@buf, a flat copy of it, is
 * completed in place when it came with a partial checksum). */
static void tr_check(struct net_phase *ph, struct net_inst *in, unsigned int q, uint8_t *buf,
		     const struct vireo_pkt *p, uint8_t *want)
{
	uint32_t len = p->len, seq, hlen, id;
	struct tr_flow *f;
	uint16_t cs = 0, co = 0;
	int fi;

	if (len < NET_HDR_END || tr_get16(buf + 12) != NET_ETHERTYPE ||
	    tr_get32(buf + 14) != NET_MAGIC || tr_get32(buf + 18) != ph->run->phase) {
		atomic_fetch_add(&in->foreign, 1);
		return;
	}
	id = tr_get16(buf + 22);
	seq = tr_get32(buf + 24);
	hlen = tr_get16(buf + 28);
	fi = id / 64 < 2 && id % 64 < NET_MAX_PAIRS ? ph->index[id / 64][id % 64] : -1;
	if (fi < 0 || ph->flows[fi].to != in->index || seq >= ph->flows[fi].total) {
		tr_fail(ph, "%s pair %u: a frame of flow %u seq %u that was never sent here",
			in->id, q, id, seq);
		return;
	}
	f = &ph->flows[fi];
	if ((len & 0xffff) != hlen) {
		tr_fail(ph, "%s pair %u: flow %u seq %u: %u bytes received, %u sent", in->id, q, id,
			seq, len, hlen);
		return;
	}
	tr_build(ph, f, seq, len, want);
	if (ph->spec.csum) {
		tr_csum_at(tr_key(ph, f, seq), &cs, &co);
		tr_put16(want + cs + co, tr_csum(want + cs, len - cs));
	}
	/*
	 * A receive offload may hand the frame on still partial, as the sender asked for
	 * it (a TAP with TUN_F_CSUM does): the guest would complete it, so the harness
	 * does, and the frame must then be what was sent.
	 */
	if (p->flags & VIREO_PKT_F_NEEDS_CSUM) {
		if (!ph->spec.csum || p->csum_start != cs || p->csum_offset != co ||
		    (uint32_t)cs + co + 2u > len) {
			tr_fail(ph,
				"%s pair %u: flow %u seq %u: received with a partial checksum at "
				"%u+%u, sent %s",
				in->id, q, id, seq, p->csum_start, p->csum_offset,
				ph->spec.csum ? "with another" : "without one");
			return;
		}
		tr_put16(buf + cs + co, tr_csum(buf + cs, len - cs));
		atomic_fetch_add(&ph->csum_partial, 1);
	}
	if (memcmp(want, buf, len)) {
		size_t at = 0;

		while (at < len && want[at] == buf[at])
			at++;
		tr_fail(ph,
			"%s pair %u: flow %u seq %u (%u bytes): byte %zu is 0x%02x, sent 0x%02x%s",
			in->id, q, id, seq, len, at, buf[at], want[at],
			ph->spec.csum && at >= cs + co && at < cs + co + 2u
				? " (the checksum the sender asked for)"
				: "");
		return;
	}
	if (atomic_fetch_or(&f->seen[seq / 64], 1ull << (seq % 64)) & (1ull << (seq % 64))) {
		tr_fail(ph, "%s pair %u: flow %u seq %u received twice", in->id, q, id, seq);
		return;
	}
	if (f->last[in->index][q] && seq < f->last[in->index][q]) {
		tr_fail(ph, "%s pair %u: flow %u seq %u arrived after seq %u", in->id, q, id, seq,
			f->last[in->index][q] - 1);
		return;
	}
	f->last[in->index][q] = seq + 1;
	if (p->flags & VIREO_PKT_F_CSUM_VALID)
		atomic_fetch_add(&ph->csum_valid, 1);
	atomic_fetch_add(&f->received, 1);
	atomic_fetch_add(&ph->received, 1);
	atomic_fetch_add(&ph->received_bytes, len);
	tr_progress(ph);
}

/* Receive buffers of one queue: MTU + 18 bytes each, in scattered iovecs with guards. */
struct tr_rxbuf {
	uint8_t *mem, *flat, *want;
	uint32_t cap;
	struct iovec iov[NET_BATCH][4];
	struct vireo_pkt pkt[NET_BATCH];
	struct vireo_pkt *pkts[NET_BATCH];
	uint16_t n[NET_BATCH];
};

static int tr_rxbuf_init(struct tr_rxbuf *b, uint32_t cap)
{
	memset(b, 0, sizeof(*b));
	b->cap = cap;
	b->mem = malloc((size_t)NET_BATCH * (cap + 5 * TR_GUARD));
	b->flat = malloc(cap);
	b->want = malloc(cap);
	if (!b->mem || !b->flat || !b->want)
		return -ENOMEM;
	return 0;
}

static void tr_rxbuf_free(struct tr_rxbuf *b)
{
	free(b->mem);
	free(b->flat);
	free(b->want);
}

/* Lays out fresh buffers (new random split each burst) filled with TR_FILL. */
static void tr_rxbuf_prep(struct tr_rxbuf *b, uint64_t *rng)
{
	size_t stride = b->cap + 5 * TR_GUARD;

	memset(b->mem, TR_FILL, NET_BATCH * stride);
	for (unsigned int i = 0; i < NET_BATCH; i++) {
		uint8_t *base = b->mem + i * stride + TR_GUARD;
		unsigned int n = 1 + (unsigned int)((*rng = tr_mix(*rng)) % 4);
		uint32_t off = 0;

		b->n[i] = 0;
		for (unsigned int k = 0; k < n && off < b->cap; k++) {
			uint32_t left = b->cap - off;
			uint32_t l = k == n - 1 ? left : 1 + (uint32_t)(tr_mix(*rng + k) % left);

			b->iov[i][k].iov_base = base + off + k * TR_GUARD;
			b->iov[i][k].iov_len = l;
			b->n[i]++;
			off += l;
		}
		b->pkt[i] = (struct vireo_pkt){ .struct_size = sizeof(b->pkt[i]),
						.len = b->cap,
						.iov = b->iov[i],
						.iovcnt = b->n[i] };
		b->pkts[i] = &b->pkt[i];
	}
}

/* Whether buffer @i's bytes outside its iovecs (and past the frame) are untouched. */
static bool tr_rxbuf_guards_ok(const struct tr_rxbuf *b, unsigned int i, uint32_t len)
{
	const uint8_t *base = b->mem + i * (b->cap + 5 * TR_GUARD);
	const uint8_t *end = base + b->cap + 5 * TR_GUARD;
	const uint8_t *p = base;

	for (unsigned int k = 0; k < b->n[i]; k++) {
		const uint8_t *s = b->iov[i][k].iov_base;
		size_t l = b->iov[i][k].iov_len, used = len < l ? len : l;

		for (; p < s; p++)
			if (*p != TR_FILL)
				return false;
		/* Bytes past the frame's end may hold anything the driver left: skip. */
		p = s + l;
		len -= (uint32_t)used;
	}
	for (; p < end; p++)
		if (*p != TR_FILL)
			return false;
	return true;
}

/*
 * One receive burst on @in pair @q of *@n buffers (0: a random count, stored back);
 * checks every frame. Return: frames, or < 0.
 */
static int tr_rx_once(struct net_phase *ph, struct net_inst *in, unsigned int q, struct tr_rxbuf *b,
		      unsigned int *n, uint64_t *rng)
{
	int got;

	tr_rxbuf_prep(b, rng);
	/* As many buffers as a guest happens to have posted: any count up to a burst. */
	if (!*n)
		*n = 1 + (unsigned int)((*rng = tr_mix(*rng)) % NET_BATCH);
	got = host_net_rx(in->hn, q, b->pkts, *n);
	if (got < 0) {
		tr_fail(ph, "%s pair %u: rx_burst failed: %s", in->id, q, strerror(-got));
		return got;
	}
	for (int i = 0; i < got; i++) {
		struct vireo_pkt *p = b->pkts[i];
		size_t off = 0;

		if (p->len == 0) {
			tr_fail(ph,
				"%s pair %u: the driver filled a buffer with a bad length or flags",
				in->id, q);
			return -EIO;
		}
		if (!tr_rxbuf_guards_ok(b, (unsigned int)i, p->len)) {
			tr_fail(ph, "%s pair %u: bytes written outside a receive buffer's iovecs",
				in->id, q);
			return -EIO;
		}
		for (unsigned int k = 0; k < p->iovcnt && off < p->len; k++) {
			size_t l =
				p->iov[k].iov_len < p->len - off ? p->iov[k].iov_len : p->len - off;

			memcpy(b->flat + off, p->iov[k].iov_base, l);
			off += l;
		}
		tr_check(ph, in, q, b->flat, p, b->want);
	}
	return got;
}

/* ---- phases ---- */

int net_phase_new(struct net_run *run, const struct net_spec *spec, struct net_phase **out)
{
	struct net_phase *ph = calloc(1, sizeof(*ph));

	if (!ph)
		return -ENOMEM;
	run->phase++;
	ph->run = run;
	ph->spec = *spec;
	pthread_mutex_init(&ph->lock, NULL);
	memset(ph->index, -1, sizeof(ph->index));
	for (unsigned int i = 0; i < run->ninst; i++) {
		const struct net_inst *in = &run->inst[i];
		struct net_inst *to = net_peer_of(run, i);
		unsigned int pairs = spec->all_pairs ? in->npairs : 1;

		for (unsigned int q = 0; q < pairs; q++) {
			struct tr_flow *f = &ph->flows[ph->nflows];

			f->from = i;
			f->pair = q;
			f->to = to->index;
			f->total = spec->frames;
			f->min_len = spec->min_len;
			f->max_len = spec->max_len ? spec->max_len : in->info.mtu + 14u;
			if (f->max_len < f->min_len)
				f->max_len = f->min_len;
			f->seen = calloc((spec->frames + 63) / 64 + 1, sizeof(*f->seen));
			if (!f->seen) {
				net_phase_free(ph);
				return -ENOMEM;
			}
			ph->index[i][q] = (int)ph->nflows++;
		}
	}
	tr_progress(ph);
	*out = ph;
	return 0;
}

void net_phase_free(struct net_phase *ph)
{
	if (!ph)
		return;
	for (unsigned int i = 0; i < ph->nflows; i++)
		free(ph->flows[i].seen);
	pthread_mutex_destroy(&ph->lock);
	free(ph);
}

bool net_phase_seen(struct net_phase *ph, unsigned int from, uint32_t seq)
{
	struct tr_flow *f = &ph->flows[ph->index[from][0]];

	return seq < f->total && (atomic_load(&f->seen[seq / 64]) & (1ull << (seq % 64)));
}

unsigned int net_phase_received(struct net_phase *ph, unsigned int from)
{
	return atomic_load(&ph->flows[ph->index[from][0]].received);
}

void net_phase_tally(struct net_phase *ph, struct net_tally *t)
{
	memset(t, 0, sizeof(*t));
	for (unsigned int i = 0; i < ph->nflows; i++)
		t->sent += atomic_load(&ph->flows[i].taken);
	t->sent_bytes = atomic_load(&ph->sent_bytes);
	t->received = atomic_load(&ph->received);
	t->received_bytes = atomic_load(&ph->received_bytes);
	t->partial = atomic_load(&ph->partial);
	t->csum_valid = atomic_load(&ph->csum_valid);
	t->csum_partial = atomic_load(&ph->csum_partial);
	t->flows = ph->nflows;
	snprintf(t->why, sizeof(t->why), "%s", ph->why);
}

int net_phase_tx(struct net_phase *ph, unsigned int from, unsigned int count, uint32_t len)
{
	struct tr_flow *f = &ph->flows[ph->index[from][0]];
	struct net_inst *in = &ph->run->inst[from];
	struct vireo_pkt pkt[NET_BATCH], *pkts[NET_BATCH];
	struct iovec iov[NET_BATCH][4];
	uint8_t *bufs[NET_BATCH] = { 0 };
	int rc = -ENOMEM;

	if (count > NET_BATCH)
		count = NET_BATCH;
	if (f->next + count > f->total)
		count = f->total - f->next;
	if (count == 0)
		return 0;
	for (unsigned int i = 0; i < count; i++) {
		uint32_t l = len ? len : tr_len(ph, f, f->next + i);

		bufs[i] = malloc(l);
		if (!bufs[i])
			goto out_free;
		tr_prepare(ph, f, f->next + i, l, bufs[i], iov[i], &pkt[i]);
		pkts[i] = &pkt[i];
	}
	atomic_store(&in->ready[1][0], false);
	rc = host_net_tx(in->hn, 0, pkts, count);
	if (rc > 0) {
		for (int i = 0; i < rc; i++)
			atomic_fetch_add(&ph->sent_bytes, pkt[i].len);
		f->next += (uint32_t)rc;
		atomic_fetch_add(&f->taken, (unsigned int)rc);
		if ((unsigned int)rc < count)
			atomic_fetch_add(&ph->partial, 1);
		tr_progress(ph);
	}
out_free:
	for (unsigned int i = 0; i < count; i++)
		free(bufs[i]);
	return rc;
}

int net_phase_rx(struct net_phase *ph, struct net_inst *in, unsigned int q)
{
	struct tr_rxbuf b;
	uint64_t rng = tr_mix(ph->run->rng++);
	int rc;

	if (tr_rxbuf_init(&b, in->info.mtu + NET_L2) < 0) {
		tr_rxbuf_free(&b);
		return -ENOMEM;
	}
	atomic_store(&in->ready[0][q], false);
	rc = tr_rx_once(ph, in, q, &b, &(unsigned int){ NET_BATCH }, &rng);
	tr_rxbuf_free(&b);
	return ph->why[0] ? -EIO : rc;
}

/* ---- threads ---- */

struct tr_worker {
	struct net_phase *ph;
	struct net_inst *in;
	unsigned int pair;
	pthread_t thread;
	bool started;
};

static bool tr_done_for(struct net_phase *ph, unsigned int to)
{
	for (unsigned int i = 0; i < ph->nflows; i++)
		if (ph->flows[i].to == to &&
		    atomic_load(&ph->flows[i].received) < ph->flows[i].total)
			return false;
	return true;
}

static void *tr_receiver(void *arg)
{
	struct tr_worker *w = arg;
	struct net_phase *ph = w->ph;
	struct tr_rxbuf b;
	uint64_t rng = tr_mix(ph->run->opts->seed ^ (w->in->index * 64 + w->pair));
	bool woken = true; /* buffers arrived: the core's first call needs no rx_ready */

	if (tr_rxbuf_init(&b, w->in->info.mtu + NET_L2) < 0) {
		tr_fail(ph, "out of memory for receive buffers");
		goto out;
	}
	while (!atomic_load(&ph->stop) && !tr_done_for(ph, w->in->index)) {
		if (!woken) {
			woken = net_wait_ready(w->in, w->pair, false, 50);
			if (!woken && tr_stalled(ph))
				break;
			continue;
		}
		atomic_store(&w->in->ready[0][w->pair], false);
		/* As vireod: bursts until one comes back short, then wait for rx_ready. */
		unsigned int n = 0;
		int got = tr_rx_once(ph, w->in, w->pair, &b, &n, &rng);

		if (got < 0)
			break;
		woken = (unsigned int)got == n;
	}
out:
	tr_rxbuf_free(&b);
	return NULL;
}

static void *tr_sender(void *arg)
{
	struct tr_worker *w = arg;
	struct net_phase *ph = w->ph;
	struct tr_flow *f = &ph->flows[ph->index[w->in->index][w->pair]];
	unsigned int batch =
		w->in->info.queue_size < NET_BATCH ? w->in->info.queue_size : NET_BATCH;
	struct vireo_pkt pkt[NET_BATCH], *pkts[NET_BATCH];
	struct iovec iov[NET_BATCH][4];
	uint8_t *bufs[NET_BATCH] = { 0 };
	uint32_t seqs[NET_BATCH], next = 0;
	unsigned int k = 0;

	for (unsigned int i = 0; i < batch; i++) {
		bufs[i] = malloc(f->max_len);
		if (!bufs[i]) {
			tr_fail(ph, "out of memory for frames");
			goto out;
		}
	}
	while (!atomic_load(&ph->stop)) {
		int rc;

		while (k < batch && next < f->total &&
		       next < atomic_load(&f->received) + NET_WINDOW) {
			seqs[k] = next;
			tr_prepare(ph, f, next, tr_len(ph, f, next), bufs[k], iov[k], &pkt[k]);
			pkts[k] = &pkt[k];
			k++;
			next++;
		}
		if (k == 0) {
			if (next == f->total)
				break;
			/* The window is full: the receiver catches up. */
			(void)net_wait_ready(w->in, w->pair, true, 2);
			if (tr_stalled(ph))
				break;
			continue;
		}
		atomic_store(&w->in->ready[1][w->pair], false);
		rc = host_net_tx(w->in->hn, w->pair, pkts, k);
		if (rc < 0) {
			tr_fail(ph, "%s pair %u: tx_burst failed: %s", w->in->id, w->pair,
				strerror(-rc));
			break;
		}
		for (int i = 0; i < rc; i++)
			atomic_fetch_add(&ph->sent_bytes, pkt[i].len);
		atomic_fetch_add(&f->taken, (unsigned int)rc);
		if (rc > 0)
			tr_progress(ph);
		if ((unsigned int)rc == k) {
			k = 0;
			continue;
		}
		/* Taken in part: the rest waits, in order, for vireo_net_tx_ready(). */
		atomic_fetch_add(&ph->partial, 1);
		for (unsigned int i = (unsigned int)rc; i < k; i++) {
			uint8_t *tmp = bufs[i - rc];

			seqs[i - rc] = seqs[i];
			bufs[i - rc] = bufs[i];
			bufs[i] = tmp;
		}
		k -= (unsigned int)rc;
		for (unsigned int i = 0; i < k; i++) {
			tr_prepare(ph, f, seqs[i], tr_len(ph, f, seqs[i]), bufs[i], iov[i],
				   &pkt[i]);
			pkts[i] = &pkt[i];
		}
		while (!atomic_load(&ph->stop) && !net_wait_ready(w->in, w->pair, true, 50)) {
			if (net_now_ms() - atomic_load(&ph->progress_ms) >= NET_STALL_MS) {
				tr_fail(ph,
					"%s pair %u: took %d of %u frames, then no "
					"vireo_net_tx_ready() for %u ms",
					w->in->id, w->pair, rc, k + rc, NET_STALL_MS);
				ph->run->stuck = true;
			}
		}
	}
out:
	for (unsigned int i = 0; i < batch; i++)
		free(bufs[i]);
	return NULL;
}

int net_traffic(struct net_run *run, const struct net_spec *spec, struct net_tally *t)
{
	struct tr_worker w[4 * NET_MAX_PAIRS];
	struct net_phase *ph;
	unsigned int nw = 0;

	memset(t, 0, sizeof(*t));
	if (net_phase_new(run, spec, &ph) < 0) {
		snprintf(t->why, sizeof(t->why), "out of memory");
		return -ENOMEM;
	}
	memset(w, 0, sizeof(w));
	/* Receivers on every pair of every receiving instance: a driver may steer. */
	for (unsigned int i = 0; i < run->ninst; i++) {
		for (unsigned int q = 0; q < run->inst[i].npairs; q++)
			w[nw++] = (struct tr_worker){ .ph = ph, .in = &run->inst[i], .pair = q };
	}
	for (unsigned int f = 0; f < ph->nflows; f++)
		w[nw++] = (struct tr_worker){ .ph = ph,
					      .in = &run->inst[ph->flows[f].from],
					      .pair = ph->flows[f].pair };
	for (unsigned int i = 0; i < nw; i++) {
		bool rx = i < nw - ph->nflows;

		w[i].started = pthread_create(&w[i].thread, NULL, rx ? tr_receiver : tr_sender,
					      &w[i]) == 0;
		if (!w[i].started)
			tr_fail(ph, "cannot start a thread");
	}
	for (unsigned int i = 0; i < nw; i++)
		if (w[i].started)
			pthread_join(w[i].thread, NULL);
	net_phase_tally(ph, t);
	net_phase_free(ph);
	return t->why[0] ? -EIO : 0;
}
