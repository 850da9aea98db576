/* SPDX-License-Identifier: MIT */
/* vireo-bench's option values, shared by its blk (main.c) and net (net_main.c) modes. */
#ifndef VIREO_BENCH_CLI_H
#define VIREO_BENCH_CLI_H

#include <stdbool.h>

/**
 * bench_parse_uint() - A whole number up to @max (decimal, 0x hex or 0 octal); with
 * @suffixes, a k or m after it multiplies by 2^10 or 2^20 (sizes). Return: 0 or -EINVAL.
 */
int bench_parse_uint(const char *s, unsigned long long max, bool suffixes, unsigned long long *out);

/** bench_parse_seconds() - Seconds, fractions allowed, 0 to 86400. Return: 0 or -EINVAL. */
int bench_parse_seconds(const char *s, double *out);

#endif /* VIREO_BENCH_CLI_H */
