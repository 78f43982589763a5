/* SPDX-License-Identifier: Apache-2.0 */
/*
 * What the heap API adds to a program, for scripts/codesize: linked twice
 * with --gc-sections, with and without KHEAP_PROBE_HEAP; the difference
 * is the code and data that init, alloc, aligned_alloc, realloc and free
 * of the allocator under test (bench/heap_backend.h: kheap's sys_heap
 * unless the build names another) and everything they reach bring in.
 * The C library functions an allocator may call (memcpy, memset, and
 * printf for a peer's diagnostics) are kept in both variants so that the
 * C library's share cancels out.
 */
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#ifdef KHEAP_PROBE_HEAP
#include "heap_backend.h"
#endif

static char probe_region[2048] __attribute__((aligned(8)));

volatile size_t probe_bytes = 48;
void *volatile probe_result;
void *(*volatile probe_memcpy)(void *, const void *, size_t) = memcpy;
void *(*volatile probe_memset)(void *, int, size_t) = memset;
int (*volatile probe_printf)(const char *, ...) = printf;

int main(void)
{
	/* Read in both variants, so that the linker keeps the pointers and
	 * the functions they point to (unread, --gc-sections drops them). */
	(void)probe_memcpy;
	(void)probe_memset;
	(void)probe_printf;
#ifdef KHEAP_PROBE_HEAP
	bench_heap_t heap = bench_heap_init(probe_region, sizeof(probe_region));
	void *a = BENCH_HEAP_ALLOC(heap, probe_bytes);
#if BENCH_HEAP_HAS_ALIGNED_ALLOC
	void *b = BENCH_HEAP_ALIGNED_ALLOC(heap, 32, probe_bytes);
#else
	void *b = BENCH_HEAP_ALLOC(heap, probe_bytes);
#endif

#if BENCH_HEAP_HAS_REALLOC
	a = BENCH_HEAP_REALLOC(heap, a, probe_bytes * 3u);
#endif
	probe_result = a;
	BENCH_HEAP_FREE(heap, a);
	BENCH_HEAP_FREE(heap, b);
#else
	probe_result = probe_region;
#endif
	return 0;
}
