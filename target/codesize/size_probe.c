/* SPDX-License-Identifier: Apache-2.0 */
/*
 * What the heap API adds to a program, for scripts/codesize: linked twice
 * with --gc-sections, with and without KHEAP_PROBE_HEAP; the difference
 * is the code and data that sys_heap_init/alloc/aligned_alloc/realloc/
 * free (and everything they reach) bring in. memcpy and memset are kept
 * in both variants so that the C library's share cancels out.
 */
#include <stddef.h>
#include <string.h>

#ifdef KHEAP_PROBE_HEAP
#include <zephyr/sys/sys_heap.h>
#endif

static char probe_region[2048] __attribute__((aligned(8)));

volatile size_t probe_bytes = 48;
void *volatile probe_result;
void *(*volatile probe_memcpy)(void *, const void *, size_t) = memcpy;
void *(*volatile probe_memset)(void *, int, size_t) = memset;

int main(void)
{
#ifdef KHEAP_PROBE_HEAP
	struct sys_heap heap;

	(void)sys_heap_init(&heap, probe_region, sizeof(probe_region));
	void *a = sys_heap_alloc(&heap, probe_bytes);
	void *b = sys_heap_aligned_alloc(&heap, 32, probe_bytes);

	a = sys_heap_realloc(&heap, a, probe_bytes * 3u);
	probe_result = a;
	sys_heap_free(&heap, a);
	sys_heap_free(&heap, b);
#else
	probe_result = probe_region;
#endif
	return 0;
}
