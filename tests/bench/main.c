// SPDX-License-Identifier: MIT
/*
 * vireo-bench: a vhost-user frontend for benchmarking vhost-user backends, so
 * the figure measured is the backend's and not a guest's or an emulator's.
 * This file owns the command line, signals and the two output forms (text and
 * --json); the run itself is blk.c's.
 *
 *   vireo-bench blk --socket PATH [--queues N] [--qd N] [--bs 4096]
 *                   [--rw randread|randwrite|read|write] [--seconds S]
 *                   [--warmup S] [--poll] [--json] ...
 *   vireo-bench net ...   (net_main.c)
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "blk.h"
#include "net_main.h"

/* Exit codes (documented in usage()). */
enum {
	EXIT_ALL_OK = 0,
	EXIT_IO_ERRORS = 1,
	EXIT_USAGE = 2,
	EXIT_RUN_FAILED = 3,
};

static void usage(FILE *f)
{
	fprintf(f,
		"usage: vireo-bench blk --socket PATH [options]\n"
		"Drives virtio-blk requests through a vhost-user-blk backend's virtqueues,\n"
		"playing the VMM: guest RAM is a memfd, rings and requests are built here.\n"
		"\n"
		"  --socket PATH   the backend's vhost-user socket (required)\n"
		"  --queues N      queues, one thread each (default 1, max %u)\n"
		"  --qd N          requests in flight per queue (default 1, max %u)\n"
		"  --bs BYTES      request size, a multiple of 512; k/m suffixes (default 4096)\n"
		"  --rw MODE       randread, randwrite, read or write (default randread)\n"
		"  --seconds S     measurement window (default 5)\n"
		"  --warmup S      unmeasured run before the window (default 1)\n"
		"  --poll          busy-poll the used ring (default: sleep on the call eventfd)\n"
		"  --no-event-idx  do not negotiate VIRTIO_F_EVENT_IDX even if offered\n"
		"  --writeback     set the device's cache to writeback first (SET_CONFIG)\n"
		"  --qsize N       ring entries (default: max(128, 3 * qd) rounded up to 2^n)\n"
		"  --timeout S     fail when no request completes for S seconds (default 5)\n"
		"  --seed N        seed of the random offsets (default 1)\n"
		"  --label TEXT    a name for this run in the output\n"
		"  --json          print one JSON object instead of text\n"
		"\n"
		"Offsets are 4 KiB-aligned, uniformly random (rand*) or sequential per queue.\n"
		"Latency is per request, from making it available to reaping it.\n"
		"Exit status: 0 every request returned VIRTIO_BLK_S_OK; 1 some did not;\n"
		"2 bad usage; 3 the run failed (backend refused, broke the protocol, stalled).\n",
		BENCH_MAX_QUEUES, BENCH_MAX_QD);
}

static void on_signal(int sig)
{
	(void)sig;
	bench_blk_stop();
}

enum {
	OPT_SOCKET = 256,
	OPT_QUEUES,
	OPT_QD,
	OPT_BS,
	OPT_RW,
	OPT_SECONDS,
	OPT_WARMUP,
	OPT_POLL,
	OPT_NO_EVENT_IDX,
	OPT_WRITEBACK,
	OPT_QSIZE,
	OPT_TIMEOUT,
	OPT_SEED,
	OPT_LABEL,
	OPT_JSON,
	OPT_HELP,
};

static const struct option long_opts[] = {
	{ "socket", required_argument, NULL, OPT_SOCKET },
	{ "queues", required_argument, NULL, OPT_QUEUES },
	{ "qd", required_argument, NULL, OPT_QD },
	{ "bs", required_argument, NULL, OPT_BS },
	{ "rw", required_argument, NULL, OPT_RW },
	{ "seconds", required_argument, NULL, OPT_SECONDS },
	{ "warmup", required_argument, NULL, OPT_WARMUP },
	{ "poll", no_argument, NULL, OPT_POLL },
	{ "no-event-idx", no_argument, NULL, OPT_NO_EVENT_IDX },
	{ "writeback", no_argument, NULL, OPT_WRITEBACK },
	{ "qsize", required_argument, NULL, OPT_QSIZE },
	{ "timeout", required_argument, NULL, OPT_TIMEOUT },
	{ "seed", required_argument, NULL, OPT_SEED },
	{ "label", required_argument, NULL, OPT_LABEL },
	{ "json", no_argument, NULL, OPT_JSON },
	{ "help", no_argument, NULL, OPT_HELP },
	{ NULL, 0, NULL, 0 }, /* sentinel */
};

struct cli {
	struct bench_blk_opts o;
	const char *label;
	bool json;
};

/* Returns 0, 1 for --help, or -EINVAL with a message printed. */
static int parse_args(int argc, char **argv, struct cli *c)
{
	unsigned long long v;
	int opt, rc = 0;

	c->o = (struct bench_blk_opts){
		.queues = 1,
		.qd = 1,
		.bs = 4096,
		.rw = BENCH_RW_RANDREAD,
		.seconds = 5,
		.warmup = 1,
		.timeout = 5,
		.seed = 1,
	};
	while (rc == 0 && (opt = getopt_long(argc, argv, "h", long_opts, NULL)) != -1) {
		switch (opt) {
		case OPT_SOCKET:
			c->o.socket = optarg;
			break;
		case OPT_QUEUES:
			rc = bench_parse_uint(optarg, BENCH_MAX_QUEUES, true, &v);
			c->o.queues = (unsigned int)v;
			break;
		case OPT_QD:
			rc = bench_parse_uint(optarg, BENCH_MAX_QD, true, &v);
			c->o.qd = (unsigned int)v;
			break;
		case OPT_BS:
			rc = bench_parse_uint(optarg, BENCH_MAX_BS, true, &v);
			c->o.bs = (uint32_t)v;
			break;
		case OPT_RW:
			rc = bench_rw_parse(optarg, &c->o.rw);
			break;
		case OPT_SECONDS:
			rc = bench_parse_seconds(optarg, &c->o.seconds);
			break;
		case OPT_WARMUP:
			rc = bench_parse_seconds(optarg, &c->o.warmup);
			break;
		case OPT_POLL:
			c->o.poll = true;
			break;
		case OPT_NO_EVENT_IDX:
			c->o.no_event_idx = true;
			break;
		case OPT_WRITEBACK:
			c->o.writeback = true;
			break;
		case OPT_QSIZE:
			rc = bench_parse_uint(optarg, 32768, true, &v);
			c->o.qsize = (unsigned int)v;
			break;
		case OPT_TIMEOUT:
			rc = bench_parse_seconds(optarg, &c->o.timeout);
			break;
		case OPT_SEED:
			rc = bench_parse_uint(optarg, UINT64_MAX, true, &v);
			c->o.seed = v;
			break;
		case OPT_LABEL:
			c->label = optarg;
			break;
		case OPT_JSON:
			c->json = true;
			break;
		case OPT_HELP:
		case 'h':
			return 1;
		default:
			return -EINVAL;
		}
		if (rc < 0)
			fprintf(stderr, "vireo-bench: bad value for --%s: %s\n",
				long_opts[opt - OPT_SOCKET].name, optarg);
	}
	if (rc == 0 && optind < argc) {
		fprintf(stderr, "vireo-bench: unexpected argument: %s\n", argv[optind]);
		rc = -EINVAL;
	}
	if (rc == 0 && !c->o.socket) {
		fprintf(stderr, "vireo-bench: --socket is required\n");
		rc = -EINVAL;
	}
	return rc;
}

static double us(uint64_t ns)
{
	return (double)ns / 1000.0;
}

/* Per second over the window; 0 when the window never started. */
static double per_s(uint64_t n, double window)
{
	return window > 0 ? (double)n / window : 0.0;
}

static uint64_t errors_of(const struct bench_queue_stats *s)
{
	return s->completed - s->status[BENCH_ST_OK];
}

static void print_text(const struct cli *c, const struct bench_blk_result *r, int rc)
{
	const struct bench_blk_opts *o = &c->o;
	const struct bench_queue_stats *t = &r->total;
	const struct bench_hist *h = &t->hist;
	double iops = per_s(t->ios, r->window_s);

	if (!r->capacity)
		return; /* never got as far as the backend's config: stderr says why */
	printf("vireo-bench blk%s%s: %s bs=%u queues=%u qd=%u, %.1f s window after %.1f s "
	       "warm-up, %s, EVENT_IDX %s\n",
	       c->label ? " " : "", c->label ? c->label : "", bench_rw_name(o->rw), o->bs,
	       o->queues, o->qd, o->seconds, o->warmup,
	       o->poll ? "busy-polling" : "eventfd wake-ups", r->event_idx ? "on" : "off");
	printf("backend %s: %.0f MiB, blk_size %u, %u queue(s), ring %u, cache %s\n", o->socket,
	       (double)r->capacity / (1 << 20), r->blk_size, r->max_queues, r->qsize,
	       r->writeback ? "writeback" : "writethrough");
	printf("  features 0x%" PRIx64 " (acked 0x%" PRIx64 "), protocol 0x%" PRIx64
	       " (acked 0x%" PRIx64 ")\n",
	       r->features, r->acked, r->protocol_features, r->protocol_acked);
	if (rc < 0 && !r->total.completed)
		return;
	printf("  IOPS        %.0f\n", iops);
	printf("  bandwidth   %.2f MiB/s\n", iops * o->bs / (1 << 20));
	printf("  latency us  mean %.1f  p50 %.1f  p99 %.1f  p99.9 %.1f  (min %.1f, max %.1f)\n",
	       bench_hist_mean(h) / 1000.0, us(bench_hist_percentile(h, 50)),
	       us(bench_hist_percentile(h, 99)), us(bench_hist_percentile(h, 99.9)),
	       us(bench_hist_percentile(h, 0)), us(bench_hist_percentile(h, 100)));
	printf("  requests    %" PRIu64 " OK in the window; %" PRIu64 " submitted, %" PRIu64
	       " completed, %" PRIu64 " errors (IOERR %" PRIu64 ", UNSUPP %" PRIu64
	       ", bad status %" PRIu64 ")\n",
	       t->ios, t->submitted, t->completed, errors_of(t), t->status[BENCH_ST_IOERR],
	       t->status[BENCH_ST_UNSUPP], t->status[BENCH_ST_OTHER]);
	printf("  notifies    %" PRIu64 " kicks, %" PRIu64 " call wake-ups\n", t->kicks,
	       t->wakeups);
	if (t->len_mismatch)
		printf("  warning     %" PRIu64 " used elements had an unexpected len\n",
		       t->len_mismatch);
	for (unsigned int i = 0; o->queues > 1 && i < r->nqueues; i++) {
		const struct bench_queue_stats *q = &r->queues[i];

		printf("  queue %-5u IOPS %.0f  p50 %.1f us  p99 %.1f us  errors %" PRIu64 "\n", i,
		       per_s(q->ios, r->window_s), us(bench_hist_percentile(&q->hist, 50)),
		       us(bench_hist_percentile(&q->hist, 99)), errors_of(q));
	}
}

static void json_string(const char *s)
{
	putchar('"');
	for (; s && *s; s++) {
		unsigned char ch = (unsigned char)*s;

		if (ch == '"' || ch == '\\')
			printf("\\%c", ch);
		else if (ch < 0x20)
			printf("\\u%04x", ch);
		else
			putchar(ch);
	}
	putchar('"');
}

static void json_lat(const struct bench_hist *h)
{
	printf("{\"mean\": %.0f, \"min\": %" PRIu64 ", \"p50\": %" PRIu64 ", \"p99\": %" PRIu64
	       ", \"p99_9\": %" PRIu64 ", \"max\": %" PRIu64 "}",
	       bench_hist_mean(h), bench_hist_percentile(h, 0), bench_hist_percentile(h, 50),
	       bench_hist_percentile(h, 99), bench_hist_percentile(h, 99.9),
	       bench_hist_percentile(h, 100));
}

static void json_stats(const struct bench_queue_stats *s, double window, uint32_t bs)
{
	double iops = per_s(s->ios, window);

	printf("{\"ios\": %" PRIu64 ", \"iops\": %.1f, \"mib_s\": %.3f, \"submitted\": %" PRIu64
	       ", \"completed\": %" PRIu64 ", \"errors\": %" PRIu64 ", \"ioerr\": %" PRIu64
	       ", \"unsupp\": %" PRIu64 ", \"bad_status\": %" PRIu64 ", \"len_mismatch\": %" PRIu64
	       ", \"kicks\": %" PRIu64 ", \"wakeups\": %" PRIu64 ", \"lat_ns\": ",
	       s->ios, iops, iops * bs / (1 << 20), s->submitted, s->completed, errors_of(s),
	       s->status[BENCH_ST_IOERR], s->status[BENCH_ST_UNSUPP], s->status[BENCH_ST_OTHER],
	       s->len_mismatch, s->kicks, s->wakeups);
	json_lat(&s->hist);
	putchar('}');
}

static void print_json(const struct cli *c, const struct bench_blk_result *r, int rc)
{
	const struct bench_blk_opts *o = &c->o;

	printf("{\"tool\": \"vireo-bench\", \"device\": \"blk\", \"label\": ");
	json_string(c->label ? c->label : "");
	printf(", \"socket\": ");
	json_string(o->socket);
	printf(", \"ok\": %s, \"error\": ", rc < 0 ? "false" : "true");
	json_string(rc < 0 ? r->error : "");
	printf(",\n \"config\": {\"rw\": \"%s\", \"bs\": %u, \"queues\": %u, \"qd\": %u, "
	       "\"seconds\": %.3f, \"warmup\": %.3f, \"notify\": \"%s\", \"event_idx\": %s, "
	       "\"qsize\": %u, \"seed\": %" PRIu64 "},\n",
	       bench_rw_name(o->rw), o->bs, o->queues, o->qd, o->seconds, o->warmup,
	       o->poll ? "poll" : "eventfd", r->event_idx ? "true" : "false", r->qsize, o->seed);
	printf(" \"backend\": {\"features\": \"0x%" PRIx64 "\", \"acked\": \"0x%" PRIx64
	       "\", \"protocol_features\": \"0x%" PRIx64 "\", \"protocol_acked\": \"0x%" PRIx64
	       "\", \"max_queues\": %u, \"capacity\": %" PRIu64
	       ", \"blk_size\": %u, \"writeback\": %s},\n",
	       r->features, r->acked, r->protocol_features, r->protocol_acked, r->max_queues,
	       r->capacity, r->blk_size, r->writeback ? "true" : "false");
	printf(" \"result\": ");
	json_stats(&r->total, r->window_s, o->bs);
	printf(",\n \"queues\": [");
	for (unsigned int i = 0; i < r->nqueues; i++) {
		printf("%s\n  ", i ? "," : "");
		json_stats(&r->queues[i], r->window_s, o->bs);
	}
	printf("]}\n");
}

int main(int argc, char **argv)
{
	struct sigaction sa = { .sa_handler = on_signal };
	struct bench_blk_result res;
	struct cli c = { 0 };
	int rc;

	if (argc >= 2 && strcmp(argv[1], "net") == 0)
		return bench_net_main(argc - 1, argv + 1);
	if (argc < 2 || strcmp(argv[1], "blk") != 0) {
		if (argc >= 2 && (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h"))) {
			usage(stdout);
			return EXIT_ALL_OK;
		}
		fprintf(stderr, "vireo-bench: the first argument names the device: blk or net "
				"(vireo-bench net --help)\n");
		usage(stderr);
		return EXIT_USAGE;
	}
	rc = parse_args(argc - 1, argv + 1, &c);
	if (rc) {
		usage(rc > 0 ? stdout : stderr);
		return rc > 0 ? EXIT_ALL_OK : EXIT_USAGE;
	}
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);

	rc = bench_blk_run(&c.o, &res);
	if (c.json)
		print_json(&c, &res, rc);
	else
		print_text(&c, &res, rc);
	if (rc < 0)
		fprintf(stderr, "vireo-bench: %s\n", res.error);
	bench_blk_result_free(&res);
	if (rc == -EINVAL)
		return EXIT_USAGE;
	if (rc < 0)
		return EXIT_RUN_FAILED;
	return errors_of(&res.total) ? EXIT_IO_ERRORS : EXIT_ALL_OK;
}
