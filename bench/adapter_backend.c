/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The allocator under test of a backend build (heap_backend.h,
 * cmake/bench-backend.cmake) as one more adapter, so that the W3,
 * metadata and timing runs measure it beside kheap and the others with
 * the same op lists. A peer, like jemalloc and mimalloc: misaligned
 * blocks are counted, not fatal. Nothing in the default build.
 */
#ifdef KHEAP_BENCH_BACKEND_ADAPTER

#include "adapter.h"
#include "heap_backend.h"

static bench_heap_t heap;
static size_t misaligned;

static int backend_init(void *region, size_t bytes)
{
	heap = bench_heap_init(region, bytes);
	return heap != NULL ? 0 : -1;
}

static void *backend_alloc(size_t bytes)
{
	void *mem = BENCH_HEAP_ALLOC(heap, bytes);

	bench_count_misaligned(&misaligned, BENCH_HEAP_NAME, "alloc",
			       (uintptr_t)mem, BENCH_HEAP_MIN_ALIGN);
	return mem;
}

static void *backend_aligned_alloc(size_t align, size_t bytes)
{
#if BENCH_HEAP_HAS_ALIGNED_ALLOC
	void *mem = BENCH_HEAP_ALIGNED_ALLOC(heap, align, bytes);

	bench_count_misaligned(
		&misaligned, BENCH_HEAP_NAME, "aligned_alloc", (uintptr_t)mem,
		align < BENCH_HEAP_MIN_ALIGN ? BENCH_HEAP_MIN_ALIGN : align);
	return mem;
#else
	(void)align;
	(void)bytes;
	bench_die("%s has no aligned allocation", BENCH_HEAP_NAME);
#endif
}

static void backend_free(void *mem)
{
	BENCH_HEAP_FREE(heap, mem);
}

static void *backend_realloc(void *mem, size_t bytes)
{
#if BENCH_HEAP_HAS_REALLOC
	void *new_mem = BENCH_HEAP_REALLOC(heap, mem, bytes);

	bench_count_misaligned(&misaligned, BENCH_HEAP_NAME, "realloc",
			       (uintptr_t)new_mem, BENCH_HEAP_MIN_ALIGN);
	return new_mem;
#else
	(void)mem;
	(void)bytes;
	bench_die("%s has no realloc", BENCH_HEAP_NAME);
#endif
}

static bool backend_check(void)
{
	return bench_heap_check(heap);
}

const struct bench_allocator bench_adapter_backend = {
	.name = BENCH_HEAP_NAME,
	.region_bounded = true,
	.init = backend_init,
	.alloc = backend_alloc,
	.aligned_alloc = backend_aligned_alloc,
	.free = backend_free,
	.realloc = backend_realloc,
	.check = backend_check,
	.misaligned = &misaligned,
};

#else
/* ISO C wants a declaration in every translation unit. */
typedef int kheap_bench_no_backend_adapter;
#endif
