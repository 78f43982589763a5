/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The core's internal-assert hook (KHEAP_ASSERTS builds): a failed
 * invariant inside sys_heap during a replay is a bug in the allocator,
 * not in the trace, so report it and stop.
 */
#include <stdio.h>
#include <stdlib.h>

void kheap_assert_fail(const char *file, int line, const char *expr);

void kheap_assert_fail(const char *file, int line, const char *expr)
{
	fflush(stdout);
	fprintf(stderr, "kheap: internal assert in the heap core: %s:%d: %s\n",
		file, line, expr);
	exit(5);
}
