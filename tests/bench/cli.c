// SPDX-License-Identifier: MIT
/* vireo-bench's option values (see cli.h). */
#include "cli.h"

#include <errno.h>
#include <stdlib.h>

int bench_parse_uint(const char *s, unsigned long long max, bool suffixes, unsigned long long *out)
{
	unsigned long long v;
	char *end;

	errno = 0;
	v = strtoull(s, &end, 0);
	if (errno || end == s || s[0] == '-')
		return -EINVAL;
	if (suffixes && (*end == 'k' || *end == 'K')) {
		v <<= 10;
		end++;
	} else if (suffixes && (*end == 'm' || *end == 'M')) {
		v <<= 20;
		end++;
	}
	if (*end || v > max)
		return -EINVAL;
	*out = v;
	return 0;
}

int bench_parse_seconds(const char *s, double *out)
{
	char *end;
	double v;

	errno = 0;
	v = strtod(s, &end);
	if (errno || end == s || *end || !(v >= 0) || v > 86400)
		return -EINVAL;
	*out = v;
	return 0;
}
