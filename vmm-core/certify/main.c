// SPDX-License-Identifier: MIT
/*
 * vireo-certify: loads one driver .so through the core's driver host, exactly as
 * vireod would, and runs its class's conformance checks through the ABI, with no
 * guest. Owns the command line, the scratch backing file, the descriptor check and the
 * exit code; the class checks are blk_checks.c's and blk_limits.c's (net: net_checks.c's),
 * the output formats report.c's.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "certify.h"
#include "net_run.h"
#include "lib/internal.h"
#include "sensor_run.h"

static const char g_usage[] =
	"usage: vireo-certify [OPTION]... DRIVER.so\n"
	"Load a Vireo driver through the core's driver host and run its class's checks.\n"
	"The blk checks overwrite the device's first 32 MiB and its last block; the sensor\n"
	"checks move each writable limit one step and put it back.\n"
	"\n"
	"  --param KEY=VALUE  a driver parameter for its open op (repeatable)\n"
	"  --scratch SIZE     create a scratch file of SIZE bytes (64M, 1G) and pass it as\n"
	"                     path=FILE to a driver that declares a 'path' parameter\n"
	"  --seed N           seed of the random offsets, sizes and data (default: time)\n"
	"  --ops N            random reads and writes (default 512); net: frames per\n"
	"                     flow (direction and queue pair)\n"
	"  --peer             net: open a second instance with the same parameters and\n"
	"                     certify the two as a pair (else one instance must loop back)\n"
	"  --peer-param KEY=VALUE  net: a parameter of the second instance only, replacing\n"
	"                     the --param of the same key (repeatable; implies --peer)\n"
	"  --tap FILE         also write the verdicts as TAP version 13\n"
	"  --junit FILE       also write the verdicts as JUnit XML\n"
	"  --verbose          echo every log line of the core and the driver\n"
	"  --help             this text\n"
	"\n"
	"Exit status: 0 every check passed (some may be skipped); 1 a check failed;\n"
	"2 bad arguments or the run could not be set up; 77 the driver's class has no\n"
	"checks yet, which test harnesses count as skipped.\n";

enum {
	OPT_PARAM = 256,
	OPT_SCRATCH,
	OPT_SEED,
	OPT_OPS,
	OPT_TAP,
	OPT_JUNIT,
	OPT_VERBOSE,
	OPT_HELP,
	OPT_PEER,
	OPT_PEER_PARAM,
};

static const struct option g_longopts[] = {
	{ "param", required_argument, NULL, OPT_PARAM },
	{ "scratch", required_argument, NULL, OPT_SCRATCH },
	{ "seed", required_argument, NULL, OPT_SEED },
	{ "ops", required_argument, NULL, OPT_OPS },
	{ "tap", required_argument, NULL, OPT_TAP },
	{ "junit", required_argument, NULL, OPT_JUNIT },
	{ "verbose", no_argument, NULL, OPT_VERBOSE },
	{ "help", no_argument, NULL, OPT_HELP },
	{ "peer", no_argument, NULL, OPT_PEER },
	{ "peer-param", required_argument, NULL, OPT_PEER_PARAM },
	{ 0 } /* sentinel */
};

struct main_args {
	struct cert_opts opts;
	char *kv[CERT_MAX_PARAMS]; /* the --param copies the keys and values point into */
	uint64_t scratch_size;
	const char *tap, *junit;
	bool verbose;
	char scratch_path[64];
	struct cert_peer peer;		/* net: the second instance */
	char *peer_kv[CERT_MAX_PARAMS]; /* the --peer-param copies */
};

/* Parses a size or count the way driver parameters are parsed ("64M", "0x1000"). */
static int main_parse_uint(const char *opt, const char *text, uint64_t *out)
{
	union vireo_core_param_value v;
	char err[160];

	if (vireo_core_param_parse(VIREO_PARAM_UINT, text, &v, err, sizeof(err)) < 0) {
		fprintf(stderr, "vireo-certify: --%s: %s\n", opt, err);
		return -EINVAL;
	}
	*out = v.u;
	return 0;
}

static int main_add_param(struct main_args *a, const char *kv)
{
	char *copy, *eq;

	if (a->opts.nparams == CERT_MAX_PARAMS - 1) {
		fprintf(stderr, "vireo-certify: more than %d parameters\n", CERT_MAX_PARAMS - 1);
		return -E2BIG;
	}
	copy = strdup(kv);
	if (!copy)
		return -ENOMEM;
	eq = strchr(copy, '=');
	if (!eq || eq == copy) {
		fprintf(stderr, "vireo-certify: --param %s: expected KEY=VALUE\n", kv);
		free(copy);
		return -EINVAL;
	}
	*eq = '\0';
	a->kv[a->opts.nparams] = copy;
	a->opts.keys[a->opts.nparams] = copy;
	a->opts.values[a->opts.nparams] = eq + 1;
	a->opts.nparams++;
	return 0;
}

/* --peer-param KEY=VALUE: split like --param, kept for the net class's second instance. */
static int main_add_peer_param(struct main_args *a, const char *kv)
{
	struct cert_peer *p = &a->peer;
	char *copy, *eq;

	if (p->n == CERT_MAX_PARAMS) {
		fprintf(stderr, "vireo-certify: more than %d peer parameters\n", CERT_MAX_PARAMS);
		return -E2BIG;
	}
	copy = strdup(kv);
	if (!copy)
		return -ENOMEM;
	eq = strchr(copy, '=');
	if (!eq || eq == copy) {
		fprintf(stderr, "vireo-certify: --peer-param %s: expected KEY=VALUE\n", kv);
		free(copy);
		return -EINVAL;
	}
	*eq = '\0';
	a->peer_kv[p->n] = copy;
	p->keys[p->n] = copy;
	p->values[p->n] = eq + 1;
	p->n++;
	p->on = true;
	return 0;
}

static int main_parse(int argc, char **argv, struct main_args *a)
{
	uint64_t v;
	int c;

	a->opts.ops = 512;
	a->opts.seed = (uint64_t)time(NULL) ^ ((uint64_t)getpid() << 32);
	while ((c = getopt_long(argc, argv, "", g_longopts, NULL)) != -1) {
		switch (c) {
		case OPT_PARAM:
			if (main_add_param(a, optarg) < 0)
				return -EINVAL;
			break;
		case OPT_SCRATCH:
			if (main_parse_uint("scratch", optarg, &a->scratch_size) < 0)
				return -EINVAL;
			break;
		case OPT_SEED:
			if (main_parse_uint("seed", optarg, &a->opts.seed) < 0)
				return -EINVAL;
			break;
		case OPT_OPS:
			if (main_parse_uint("ops", optarg, &v) < 0 || v == 0 || v > 1000000) {
				fprintf(stderr, "vireo-certify: --ops: 1 to 1000000\n");
				return -EINVAL;
			}
			a->opts.ops = (unsigned int)v;
			break;
		case OPT_TAP:
			a->tap = optarg;
			break;
		case OPT_JUNIT:
			a->junit = optarg;
			break;
		case OPT_VERBOSE:
			a->verbose = true;
			break;
		case OPT_HELP:
			fputs(g_usage, stdout);
			exit(CERT_EXIT_PASS);
		case OPT_PEER:
			a->peer.on = true;
			break;
		case OPT_PEER_PARAM:
			if (main_add_peer_param(a, optarg) < 0)
				return -EINVAL;
			break;
		default:
			fputs(g_usage, stderr);
			return -EINVAL;
		}
	}
	if (optind != argc - 1) {
		fputs(g_usage, stderr);
		return -EINVAL;
	}
	a->opts.driver_path = argv[optind];
	if (!a->opts.seed)
		a->opts.seed = 1; /* xorshift needs a non-zero state */
	return 0;
}

/* Whether @drv declares parameter @name. */
static bool main_declares(const struct host_driver *drv, const char *name)
{
	const struct host_checked *info = host_driver_info(drv);

	for (size_t i = 0; i < info->nparams; i++)
		if (!strcmp(info->params[i].name, name))
			return true;
	return false;
}

/* --scratch: a sparse temporary file, passed as path= unless the user gave one. */
static int main_scratch(struct main_args *a, const struct host_driver *drv)
{
	const char *dir = getenv("TMPDIR");
	int fd;

	if (!a->scratch_size)
		return 0;
	for (size_t i = 0; i < a->opts.nparams; i++)
		if (!strcmp(a->opts.keys[i], "path"))
			return 0;
	if (!main_declares(drv, "path")) {
		printf("certify: --scratch ignored: the driver declares no 'path' parameter\n");
		return 0;
	}
	snprintf(a->scratch_path, sizeof(a->scratch_path), "%s/vireo-certify-XXXXXX",
		 dir && strlen(dir) < 32 ? dir : "/tmp");
	fd = mkstemp(a->scratch_path);
	if (fd < 0) {
		fprintf(stderr, "vireo-certify: creating %s: %s\n", a->scratch_path,
			strerror(errno));
		a->scratch_path[0] = '\0';
		return -errno;
	}
	if (ftruncate(fd, (off_t)a->scratch_size) < 0) {
		int rc = -errno;

		fprintf(stderr, "vireo-certify: sizing %s: %s\n", a->scratch_path, strerror(-rc));
		close(fd);
		return rc;
	}
	close(fd);
	a->opts.keys[a->opts.nparams] = "path";
	a->opts.values[a->opts.nparams] = a->scratch_path;
	a->opts.nparams++;
	printf("certify: scratch file %s, %" PRIu64 " bytes\n", a->scratch_path, a->scratch_size);
	return 0;
}

/* The descriptor check: the host's verdict, with what the driver says of itself. */
static void main_check_descriptor(struct cert_report *r, const struct host_driver *drv,
				  const struct host_verdict *v)
{
	const struct host_checked *info;

	if (!drv) {
		cert_report_add(r, "descriptor", CERT_FAIL, "refused (%s): %s",
				host_refusal_name(v->reason), v->line);
		return;
	}
	info = host_driver_info(drv);
	cert_report_add(r, "descriptor", CERT_PASS,
			"%s %s, licence %s, class %s, ABI %u.%u, %zu parameter(s), %zu match "
			"entr%s%s%s",
			info->desc.name, info->desc.version, info->desc.license,
			host_class_name(info->desc.dev_class), info->desc.abi_major,
			info->desc.abi_minor, info->nparams, info->nmatch,
			info->nmatch == 1 ? "y" : "ies", info->desc.description ? ": " : "",
			info->desc.description ? info->desc.description : "");
}

/* Runs the class's checks. Return: CERT_EXIT_SKIPPED for a class without checks. */
static int main_run_class(struct host_driver *drv, const struct cert_opts *opts,
			  const struct cert_peer *peer, struct cert_report *r)
{
	uint32_t cls = host_driver_info(drv)->desc.dev_class;
	char name[32];

	if (cls == VIREO_CLASS_BLK)
		return cert_blk_run(drv, opts, r) < 0 ? CERT_EXIT_USAGE : CERT_EXIT_PASS;
	if (cls == VIREO_CLASS_SENSOR)
		return cert_sensor_run(drv, opts, r) < 0 ? CERT_EXIT_USAGE : CERT_EXIT_PASS;
	if (cls == VIREO_CLASS_NET)
		return cert_net_run(drv, opts, peer, r) < 0 ? CERT_EXIT_USAGE : CERT_EXIT_PASS;
	snprintf(name, sizeof(name), "class-%s", host_class_name(cls));
	cert_report_add(r, name, CERT_SKIP, "class %s: no checks yet", host_class_name(cls));
	return CERT_EXIT_SKIPPED;
}

int main(int argc, char **argv)
{
	struct main_args a = { 0 };
	struct host_registry *reg = NULL;
	struct host_driver *drv = NULL;
	struct cert_report *r = NULL;
	struct host_verdict *v;
	const char *label;
	char name[64];
	int rc, status = CERT_EXIT_USAGE;

	v = calloc(1, sizeof(*v));
	if (!v || main_parse(argc, argv, &a) < 0)
		goto out_free_args;
	/* The report's label: the file name without ".so" (a dot splits JUnit classnames). */
	label = strrchr(a.opts.driver_path, '/') ? strrchr(a.opts.driver_path, '/') + 1
						 : a.opts.driver_path;
	snprintf(name, sizeof(name), "%.*s", (int)strcspn(label, "."), label);
	if (cert_report_new(name, &r) < 0 || host_registry_new(&reg) < 0)
		goto out_free_report;
	cert_log_start(a.verbose);
	printf("certify: %s, seed %" PRIu64 " (rerun with --seed %" PRIu64 ")\n",
	       a.opts.driver_path, a.opts.seed, a.opts.seed);
	rc = host_load(reg, a.opts.driver_path, &drv, v);
	main_check_descriptor(r, drv, v);
	if (rc < 0) {
		status = CERT_EXIT_FAIL;
		goto out_report;
	}
	if (main_scratch(&a, drv) < 0)
		goto out_stop_log;
	status = main_run_class(drv, &a.opts, &a.peer, r);
	if (status == CERT_EXIT_USAGE)
		goto out_stop_log;

out_report:
	cert_report_summary(r);
	if (a.tap && (rc = cert_report_write_tap(r, a.tap)) < 0) {
		fprintf(stderr, "vireo-certify: writing %s: %s\n", a.tap, strerror(-rc));
		status = CERT_EXIT_USAGE;
	}
	if (a.junit && (rc = cert_report_write_junit(r, a.junit)) < 0) {
		fprintf(stderr, "vireo-certify: writing %s: %s\n", a.junit, strerror(-rc));
		status = CERT_EXIT_USAGE;
	}
	if (status != CERT_EXIT_USAGE && cert_report_count(r, CERT_FAIL))
		status = CERT_EXIT_FAIL;
out_stop_log:
	host_registry_free(reg);
	cert_log_stop();
	if (a.scratch_path[0])
		unlink(a.scratch_path);
out_free_report:
	cert_report_free(r);
out_free_args:
	for (size_t i = 0; i < CERT_MAX_PARAMS; i++) {
		free(a.kv[i]);
		free(a.peer_kv[i]);
	}
	free(v);
	return status;
}
