// SPDX-License-Identifier: MIT
/* toolsd's log: one line to stderr; journald (or the console) keeps it. */
#include <stdarg.h>
#include <stdio.h>

#include "toolsd.h"

void toolsd_log(const char *fmt, ...)
{
	va_list ap;

	fputs("vireo-toolsd: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}
