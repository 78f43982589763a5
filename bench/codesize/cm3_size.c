/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Code-size probe for Cortex-M: built twice by scripts/bench, with and
 * without KHEAP_SIZE_WITH_HEAP, and linked with --gc-sections against the
 * cortex-m3 preset's libkheap_core.a. The difference in text is what
 * sys_heap_init/alloc/aligned_alloc/free/realloc/aligned_realloc and
 * everything they reach (helpers, fault reporting, listener hooks) add to
 * a program.
 *
 * Both variants keep memcpy and memset (the core's only libc calls) so the
 * difference counts kheap's own code, not newlib's.
 */
#include <stddef.h>
#include <string.h>

#ifdef KHEAP_SIZE_WITH_HEAP
#include <zephyr/sys/sys_heap.h>
#endif

/* In both variants, so that data and bss cancel out too. */
static char region[4096] __attribute__((__aligned__(8)));

volatile size_t size_probe_input = 64;
void *volatile size_probe_sink;
void *(*volatile size_probe_memcpy)(void *, const void *, size_t) = memcpy;
void *(*volatile size_probe_memset)(void *, int, size_t) = memset;

int main(void)
{
#ifdef KHEAP_SIZE_WITH_HEAP
	struct sys_heap heap;
	void *a, *b;

	(void)sys_heap_init(&heap, region, sizeof(region));
	a = sys_heap_alloc(&heap, size_probe_input);
	b = sys_heap_aligned_alloc(&heap, 64, size_probe_input);
	a = sys_heap_realloc(&heap, a, size_probe_input * 2u);
	b = sys_heap_aligned_realloc(&heap, b, 32, size_probe_input * 3u);
	size_probe_sink = a;
	sys_heap_free(&heap, a);
	sys_heap_free(&heap, b);
#else
	size_probe_sink = region;
#endif
	return 0;
}
