/* SPDX-License-Identifier: Apache-2.0 */
/* kheap's sys_heap over the region the workload provides. */
#include <stdio.h>

#include <zephyr/sys/sys_heap.h>

#include "adapter.h"
#include "bench_kheap.h"

static struct sys_heap heap;

struct sys_heap *bench_kheap_heap(void)
{
	return &heap;
}

static int kheap_init(void *region, size_t bytes)
{
	return sys_heap_init(&heap, region, bytes);
}

static void *kheap_alloc(size_t bytes)
{
	void *mem = sys_heap_alloc(&heap, bytes);

	bench_check_aligned("kheap", "sys_heap_alloc", (uintptr_t)mem, 8);
	return mem;
}

static void *kheap_aligned_alloc(size_t align, size_t bytes)
{
	void *mem = sys_heap_aligned_alloc(&heap, align, bytes);

	bench_check_aligned("kheap", "sys_heap_aligned_alloc", (uintptr_t)mem,
			    align < 8 ? 8 : align);
	return mem;
}

static void kheap_free(void *mem)
{
	sys_heap_free(&heap, mem);
}

static void *kheap_realloc(void *mem, size_t bytes)
{
	void *new_mem = sys_heap_realloc(&heap, mem, bytes);

	bench_check_aligned("kheap", "sys_heap_realloc", (uintptr_t)new_mem, 8);
	return new_mem;
}

static size_t kheap_usable_size(void *mem)
{
	return sys_heap_usable_size(&heap, mem);
}

static bool kheap_check(void)
{
	return sys_heap_validate(&heap);
}

const struct bench_allocator bench_adapter_kheap = {
	.name = "kheap",
	.region_bounded = true,
	.init = kheap_init,
	.alloc = kheap_alloc,
	.aligned_alloc = kheap_aligned_alloc,
	.free = kheap_free,
	.realloc = kheap_realloc,
	.check = kheap_check,
	.usable_size = kheap_usable_size,
};

#ifdef KHEAP_ASSERT_HANDLER
/* Debug builds of the core (asserts on) call this on a broken invariant. */
void kheap_assert_fail(const char *file, int line, const char *expr)
{
	bench_die("kheap assertion failed: %s:%d: %s", file, line, expr);
}
#endif
