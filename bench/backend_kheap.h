/* SPDX-License-Identifier: Apache-2.0 */
/* kheap's sys_heap as the allocator under test (see heap_backend.h). */
#ifndef KHEAP_BENCH_BACKEND_KHEAP_H
#define KHEAP_BENCH_BACKEND_KHEAP_H

#include <stdbool.h>
#include <stddef.h>

#include <zephyr/sys/sys_heap.h>

#define BENCH_HEAP_NAME "kheap"
#define BENCH_HEAP_ALLOC sys_heap_alloc
#define BENCH_HEAP_ALIGNED_ALLOC sys_heap_aligned_alloc
#define BENCH_HEAP_FREE sys_heap_free
#define BENCH_HEAP_REALLOC sys_heap_realloc
#define BENCH_HEAP_HAS_ALIGNED_ALLOC 1
#define BENCH_HEAP_HAS_REALLOC 1

typedef struct sys_heap *bench_heap_t;

static inline bench_heap_t bench_heap_init(void *mem, size_t bytes)
{
	static struct sys_heap heap;

	return sys_heap_init(&heap, mem, bytes) == 0 ? &heap : NULL;
}

static inline bool bench_heap_check(bench_heap_t h)
{
	return sys_heap_validate(h);
}

static inline size_t bench_heap_header_bytes(bench_heap_t h)
{
	return sys_heap_header_bytes(h);
}

#endif /* KHEAP_BENCH_BACKEND_KHEAP_H */
