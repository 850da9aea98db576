// SPDX-License-Identifier: MIT
/*
 * vireo-certify's report: one verdict per named check (PASS, FAIL or SKIP with a
 * one-line reason), printed as it comes, then a summary line, and on request the same
 * verdicts as TAP version 13 or JUnit XML for CI. Owns the formats; not the checks.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "certify.h"

#define REPORT_REASON_MAX 512

struct report_entry {
	char *name;
	char *reason;
	enum cert_result res;
	double seconds;
};

struct cert_report {
	char *driver;
	struct report_entry *entries;
	size_t n, cap;
	struct timespec last; /* when the previous verdict came in */
};

static const char *const g_result_names[] = {
	[CERT_PASS] = "PASS",
	[CERT_FAIL] = "FAIL",
	[CERT_SKIP] = "SKIP",
};

int cert_report_new(const char *driver, struct cert_report **out)
{
	struct cert_report *r = calloc(1, sizeof(*r));

	if (!r)
		return -ENOMEM;
	r->driver = strdup(driver);
	if (!r->driver) {
		free(r);
		return -ENOMEM;
	}
	clock_gettime(CLOCK_MONOTONIC, &r->last);
	*out = r;
	return 0;
}

void cert_report_free(struct cert_report *r)
{
	if (!r)
		return;
	for (size_t i = 0; i < r->n; i++) {
		free(r->entries[i].name);
		free(r->entries[i].reason);
	}
	free(r->entries);
	free(r->driver);
	free(r);
}

int cert_report_add(struct cert_report *r, const char *name, enum cert_result res, const char *fmt,
		    ...)
{
	char reason[REPORT_REASON_MAX];
	struct report_entry *e;
	struct timespec now;
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(reason, sizeof(reason), fmt, ap);
	va_end(ap);
	/* One line, always: a driver's text may have brought a newline in. */
	for (char *p = reason; *p; p++)
		if (*p == '\n' || *p == '\r')
			*p = ' ';
	printf("%s %s: %s\n", g_result_names[res], name, reason);
	fflush(stdout);
	if (r->n == r->cap) {
		size_t cap = r->cap ? r->cap * 2 : 16;
		struct report_entry *grown = realloc(r->entries, cap * sizeof(*grown));

		if (!grown)
			return -ENOMEM;
		r->entries = grown;
		r->cap = cap;
	}
	e = &r->entries[r->n];
	e->name = strdup(name);
	e->reason = strdup(reason);
	if (!e->name || !e->reason) {
		free(e->name);
		free(e->reason);
		return -ENOMEM;
	}
	e->res = res;
	clock_gettime(CLOCK_MONOTONIC, &now);
	e->seconds = (double)(now.tv_sec - r->last.tv_sec) +
		     (double)(now.tv_nsec - r->last.tv_nsec) / 1e9;
	r->last = now;
	r->n++;
	return 0;
}

unsigned int cert_report_count(const struct cert_report *r, enum cert_result res)
{
	unsigned int n = 0;

	for (size_t i = 0; i < r->n; i++)
		n += r->entries[i].res == res;
	return n;
}

void cert_report_summary(const struct cert_report *r)
{
	printf("certify: %s: %u passed, %u failed, %u skipped\n", r->driver,
	       cert_report_count(r, CERT_PASS), cert_report_count(r, CERT_FAIL),
	       cert_report_count(r, CERT_SKIP));
	fflush(stdout);
}

/* Closes @f, turning a write error anywhere into a negative errno. */
static int report_close(FILE *f)
{
	int bad = ferror(f);

	if (fclose(f) != 0 || bad)
		return -EIO;
	return 0;
}

int cert_report_write_tap(const struct cert_report *r, const char *path)
{
	FILE *f = fopen(path, "w");

	if (!f)
		return -errno;
	fprintf(f, "TAP version 13\n1..%zu\n", r->n);
	for (size_t i = 0; i < r->n; i++) {
		const struct report_entry *e = &r->entries[i];

		/* '#' starts a directive in TAP: keep it out of the description. */
		fprintf(f, "%s %zu - %s", e->res == CERT_FAIL ? "not ok" : "ok", i + 1, e->name);
		if (e->res == CERT_SKIP)
			fprintf(f, " # SKIP ");
		else
			fprintf(f, " # ");
		for (const char *p = e->reason; *p; p++)
			fputc(*p == '#' ? '_' : *p, f);
		fputc('\n', f);
	}
	fprintf(f, "# certify: %s: %u passed, %u failed, %u skipped\n", r->driver,
		cert_report_count(r, CERT_PASS), cert_report_count(r, CERT_FAIL),
		cert_report_count(r, CERT_SKIP));
	return report_close(f);
}

/* Writes @s with XML's five special characters escaped, control bytes dropped. */
static void xml_puts(FILE *f, const char *s)
{
	for (; *s; s++) {
		switch (*s) {
		case '&':
			fputs("&amp;", f);
			break;
		case '<':
			fputs("&lt;", f);
			break;
		case '>':
			fputs("&gt;", f);
			break;
		case '"':
			fputs("&quot;", f);
			break;
		case '\'':
			fputs("&apos;", f);
			break;
		default:
			if ((unsigned char)*s >= 0x20)
				fputc(*s, f);
		}
	}
}

int cert_report_write_junit(const struct cert_report *r, const char *path)
{
	FILE *f = fopen(path, "w");
	double total = 0;

	if (!f)
		return -errno;
	for (size_t i = 0; i < r->n; i++)
		total += r->entries[i].seconds;
	fputs("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuites>\n", f);
	fputs("  <testsuite name=\"vireo-certify.", f);
	xml_puts(f, r->driver);
	fprintf(f, "\" tests=\"%zu\" failures=\"%u\" errors=\"0\" skipped=\"%u\" time=\"%.3f\">\n",
		r->n, cert_report_count(r, CERT_FAIL), cert_report_count(r, CERT_SKIP), total);
	for (size_t i = 0; i < r->n; i++) {
		const struct report_entry *e = &r->entries[i];

		fputs("    <testcase classname=\"certify.", f);
		xml_puts(f, r->driver);
		fputs("\" name=\"", f);
		xml_puts(f, e->name);
		fprintf(f, "\" time=\"%.3f\">\n", e->seconds);
		if (e->res == CERT_FAIL)
			fputs("      <failure message=\"", f);
		else if (e->res == CERT_SKIP)
			fputs("      <skipped message=\"", f);
		else
			fputs("      <system-out>", f);
		xml_puts(f, e->reason);
		fputs(e->res == CERT_PASS ? "</system-out>\n" : "\"/>\n", f);
		fputs("    </testcase>\n", f);
	}
	fputs("  </testsuite>\n</testsuites>\n", f);
	return report_close(f);
}
