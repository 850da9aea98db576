// SPDX-License-Identifier: MIT
/*
 * `vireo-bench net`: the command line and the two output forms (text and --json)
 * of the virtio-net run; the run itself is net.c's. main.c hands over argv when
 * the first argument is "net".
 *
 *   vireo-bench net --socket PATH [--frame 64] [--pairs N] [--seconds S]
 *                   [--warmup S] [--poll] [--verify N] [--json] ...
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "net.h"
#include "net_frame.h"
#include "net_main.h"

enum {
	EXIT_ALL_OK = 0,
	EXIT_BAD_FRAMES = 1,
	EXIT_USAGE = 2,
	EXIT_RUN_FAILED = 3,
};

static void usage(FILE *f)
{
	fprintf(f,
		"usage: vireo-bench net --socket PATH [options]\n"
		"Sends frames through a vhost-user-net backend that sends them back (a loopback\n"
		"driver, or a forwarder), playing the VMM: guest RAM is a memfd, rings and\n"
		"frames are built here. Every frame back is checked; sequence numbers count\n"
		"the lost ones.\n"
		"\n"
		"  --socket PATH    the backend's vhost-user socket (required)\n"
		"  --frame BYTES    Ethernet frame length, without the virtio header\n"
		"                   (default 64, %u..%u)\n"
		"  --pairs N        queue pairs, one thread each (default 1, max %u)\n"
		"  --qsize N        ring entries per queue (default 256)\n"
		"  --seconds S      measurement window (default 5)\n"
		"  --warmup S       unmeasured run before the window (default 1)\n"
		"  --verify N       check every Nth frame's payload whole (default 64; 1: all);\n"
		"                   every frame's header and sequence number are checked\n"
		"  --poll           busy-poll the used rings (default: sleep on the call "
		"eventfds)\n"
		"  --no-event-idx   do not negotiate VIRTIO_F_EVENT_IDX even if offered\n"
		"  --no-mrg-rxbuf   do not negotiate VIRTIO_NET_F_MRG_RXBUF even if offered\n"
		"  --timeout S      fail when nothing moves for S seconds (default 5)\n"
		"  --label TEXT     a name for this run in the output\n"
		"  --json           print one JSON object instead of text\n"
		"\n"
		"pps counts good frames back inside the window; tx pps counts transmit buffers\n"
		"the backend returned. Drops: frames the backend took and never sent back.\n"
		"Exit status: 0 clean; 1 bad or out-of-order frames came back; 2 bad usage;\n"
		"3 the run failed (backend refused, broke the protocol, stalled).\n",
		BENCH_FRAME_MIN_LEN, BENCH_FRAME_MAX_LEN, BENCH_NET_MAX_PAIRS);
}

static void on_signal(int sig)
{
	(void)sig;
	bench_net_stop();
}

enum {
	OPT_SOCKET = 256,
	OPT_FRAME,
	OPT_PAIRS,
	OPT_QSIZE,
	OPT_SECONDS,
	OPT_WARMUP,
	OPT_VERIFY,
	OPT_POLL,
	OPT_NO_EVENT_IDX,
	OPT_NO_MRG_RXBUF,
	OPT_TIMEOUT,
	OPT_LABEL,
	OPT_JSON,
	OPT_HELP,
};

static const struct option long_opts[] = {
	{ "socket", required_argument, NULL, OPT_SOCKET },
	{ "frame", required_argument, NULL, OPT_FRAME },
	{ "pairs", required_argument, NULL, OPT_PAIRS },
	{ "qsize", required_argument, NULL, OPT_QSIZE },
	{ "seconds", required_argument, NULL, OPT_SECONDS },
	{ "warmup", required_argument, NULL, OPT_WARMUP },
	{ "verify", required_argument, NULL, OPT_VERIFY },
	{ "poll", no_argument, NULL, OPT_POLL },
	{ "no-event-idx", no_argument, NULL, OPT_NO_EVENT_IDX },
	{ "no-mrg-rxbuf", no_argument, NULL, OPT_NO_MRG_RXBUF },
	{ "timeout", required_argument, NULL, OPT_TIMEOUT },
	{ "label", required_argument, NULL, OPT_LABEL },
	{ "json", no_argument, NULL, OPT_JSON },
	{ "help", no_argument, NULL, OPT_HELP },
	{ NULL, 0, NULL, 0 }, /* sentinel */
};

struct cli {
	struct bench_net_opts o;
	const char *label;
	bool json;
};

/* Returns 0, 1 for --help, or -EINVAL with a message printed. */
static int parse_args(int argc, char **argv, struct cli *c)
{
	unsigned long long v = 0;
	int opt, rc = 0;

	c->o = (struct bench_net_opts){
		.pairs = 1,
		.qsize = 256,
		.frame_len = 64,
		.seconds = 5,
		.warmup = 1,
		.timeout = 5,
		.verify = 64,
	};
	while (rc == 0 && (opt = getopt_long(argc, argv, "h", long_opts, NULL)) != -1) {
		switch (opt) {
		case OPT_SOCKET:
			c->o.socket = optarg;
			break;
		case OPT_FRAME:
			rc = bench_parse_uint(optarg, BENCH_FRAME_MAX_LEN, false, &v);
			c->o.frame_len = (uint32_t)v;
			break;
		case OPT_PAIRS:
			rc = bench_parse_uint(optarg, BENCH_NET_MAX_PAIRS, false, &v);
			c->o.pairs = (unsigned int)v;
			break;
		case OPT_QSIZE:
			rc = bench_parse_uint(optarg, 4096, false, &v);
			c->o.qsize = (unsigned int)v;
			break;
		case OPT_SECONDS:
			rc = bench_parse_seconds(optarg, &c->o.seconds);
			break;
		case OPT_WARMUP:
			rc = bench_parse_seconds(optarg, &c->o.warmup);
			break;
		case OPT_VERIFY:
			rc = bench_parse_uint(optarg, 1u << 30, false, &v);
			c->o.verify = (unsigned int)v;
			break;
		case OPT_POLL:
			c->o.poll = true;
			break;
		case OPT_NO_EVENT_IDX:
			c->o.no_event_idx = true;
			break;
		case OPT_NO_MRG_RXBUF:
			c->o.no_mrg_rxbuf = true;
			break;
		case OPT_TIMEOUT:
			rc = bench_parse_seconds(optarg, &c->o.timeout);
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

static double per_s(uint64_t n, double window)
{
	return window > 0 ? (double)n / window : 0.0;
}

/* Ethernet frame bits per second (no preamble, gap or FCS: what the rings carry). */
static double gbits(uint64_t frames, uint32_t len, double window)
{
	return per_s(frames, window) * len * 8 / 1e9;
}

static uint64_t bad_of(const struct bench_net_stats *s)
{
	return s->bad + s->out_of_order + s->bad_hdr;
}

static void print_text(const struct cli *c, const struct bench_net_result *r, int rc)
{
	const struct bench_net_opts *o = &c->o;
	const struct bench_net_stats *t = &r->total;

	if (!r->features)
		return; /* never got as far as the backend: stderr says why */
	printf("vireo-bench net%s%s: %u-byte frames, %u queue pair(s), ring %u, %.1f s window "
	       "after %.1f s warm-up, %s, EVENT_IDX %s, MRG_RXBUF %s\n",
	       c->label ? " " : "", c->label ? c->label : "", o->frame_len, o->pairs, r->qsize,
	       o->seconds, o->warmup, o->poll ? "busy-polling" : "eventfd wake-ups",
	       r->event_idx ? "on" : "off", r->mrg_rxbuf ? "on" : "off");
	printf("backend %s: %u queue(s)\n", o->socket, r->max_queues);
	printf("  features 0x%" PRIx64 " (acked 0x%" PRIx64 "), protocol 0x%" PRIx64
	       " (acked 0x%" PRIx64 ")\n",
	       r->features, r->acked, r->protocol_features, r->protocol_acked);
	if (rc < 0 && !t->sent)
		return;
	printf("  rx pps      %.0f  (%.2f Gbit/s of frames)\n", per_s(t->rx_window, r->window_s),
	       gbits(t->rx_window, o->frame_len, r->window_s));
	printf("  tx pps      %.0f\n", per_s(t->tx_window, r->window_s));
	printf("  frames      %" PRIu64 " sent, %" PRIu64 " taken, %" PRIu64 " back good, %" PRIu64
	       " dropped (%" PRIu64 " skipped by seq), %" PRIu64 " payloads checked whole\n",
	       t->sent, t->tx_done, t->received, bench_net_drops(t), t->seq_gaps, t->verified);
	printf("  bad         %" PRIu64 " frames, %" PRIu64 " out of order, %" PRIu64
	       " bad headers; %" PRIu64 " foreign frames ignored\n",
	       t->bad, t->out_of_order, t->bad_hdr, t->foreign);
	printf("  notifies    %" PRIu64 " kicks, %" PRIu64 " call wake-ups\n", t->kicks,
	       t->wakeups);
	for (unsigned int i = 0; o->pairs > 1 && i < r->npairs; i++) {
		const struct bench_net_stats *q = &r->pairs[i];

		printf("  pair %-6u rx pps %.0f  tx pps %.0f  dropped %" PRIu64 "  bad %" PRIu64
		       "\n",
		       i, per_s(q->rx_window, r->window_s), per_s(q->tx_window, r->window_s),
		       bench_net_drops(q), bad_of(q));
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

static void json_stats(const struct bench_net_stats *s, double window, uint32_t len)
{
	printf("{\"pps\": %.1f, \"gbit_s\": %.4f, \"tx_pps\": %.1f, \"sent\": %" PRIu64
	       ", \"tx_done\": %" PRIu64 ", \"received\": %" PRIu64 ", \"rx_window\": %" PRIu64
	       ", \"tx_window\": %" PRIu64 ", \"dropped\": %" PRIu64 ", \"seq_gaps\": %" PRIu64
	       ", \"verified\": %" PRIu64 ", \"bad\": %" PRIu64 ", \"out_of_order\": %" PRIu64
	       ", \"bad_hdr\": %" PRIu64 ", \"foreign\": %" PRIu64 ", \"kicks\": %" PRIu64
	       ", \"wakeups\": %" PRIu64 "}",
	       per_s(s->rx_window, window), gbits(s->rx_window, len, window),
	       per_s(s->tx_window, window), s->sent, s->tx_done, s->received, s->rx_window,
	       s->tx_window, bench_net_drops(s), s->seq_gaps, s->verified, s->bad, s->out_of_order,
	       s->bad_hdr, s->foreign, s->kicks, s->wakeups);
}

static void print_json(const struct cli *c, const struct bench_net_result *r, int rc)
{
	const struct bench_net_opts *o = &c->o;

	printf("{\"tool\": \"vireo-bench\", \"device\": \"net\", \"label\": ");
	json_string(c->label ? c->label : "");
	printf(", \"socket\": ");
	json_string(o->socket);
	printf(", \"ok\": %s, \"error\": ", rc < 0 ? "false" : "true");
	json_string(rc < 0 ? r->error : "");
	printf(",\n \"config\": {\"frame\": %u, \"pairs\": %u, \"qsize\": %u, \"seconds\": %.3f, "
	       "\"warmup\": %.3f, \"verify\": %u, \"notify\": \"%s\", \"event_idx\": %s, "
	       "\"mrg_rxbuf\": %s},\n",
	       o->frame_len, o->pairs, r->qsize, o->seconds, o->warmup, o->verify,
	       o->poll ? "poll" : "eventfd", r->event_idx ? "true" : "false",
	       r->mrg_rxbuf ? "true" : "false");
	printf(" \"backend\": {\"features\": \"0x%" PRIx64 "\", \"acked\": \"0x%" PRIx64
	       "\", \"protocol_features\": \"0x%" PRIx64 "\", \"protocol_acked\": \"0x%" PRIx64
	       "\", \"max_queues\": %u},\n",
	       r->features, r->acked, r->protocol_features, r->protocol_acked, r->max_queues);
	printf(" \"result\": ");
	json_stats(&r->total, r->window_s, o->frame_len);
	printf(",\n \"pairs\": [");
	for (unsigned int i = 0; i < r->npairs; i++) {
		printf("%s\n  ", i ? "," : "");
		json_stats(&r->pairs[i], r->window_s, o->frame_len);
	}
	printf("]}\n");
}

int bench_net_main(int argc, char **argv)
{
	struct sigaction sa = { .sa_handler = on_signal };
	struct bench_net_result res;
	struct cli c = { 0 };
	int rc;

	rc = parse_args(argc, argv, &c);
	if (rc) {
		usage(rc > 0 ? stdout : stderr);
		return rc > 0 ? EXIT_ALL_OK : EXIT_USAGE;
	}
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);

	rc = bench_net_run(&c.o, &res);
	if (c.json)
		print_json(&c, &res, rc);
	else
		print_text(&c, &res, rc);
	if (rc < 0)
		fprintf(stderr, "vireo-bench: %s\n", res.error);
	bench_net_result_free(&res);
	if (rc == -EINVAL)
		return EXIT_USAGE;
	if (rc < 0)
		return EXIT_RUN_FAILED;
	return bad_of(&res.total) ? EXIT_BAD_FRAMES : EXIT_ALL_OK;
}
