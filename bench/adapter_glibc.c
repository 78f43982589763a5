/* SPDX-License-Identifier: Apache-2.0 */
/*
 * glibc's malloc family (malloc, posix_memalign, realloc, free), as the
 * process uses it. Not region-bounded: the region given to init() is
 * ignored and memory comes from the process heap (brk/mmap), so
 * fill-to-failure utilization does not apply to it.
 */
#include <malloc.h>
#include <stdlib.h>

#include "adapter.h"

static size_t misaligned;

static int glibc_init(void *region, size_t bytes)
{
	(void)region;
	(void)bytes;
	return 0;
}

static void *glibc_alloc(size_t bytes)
{
	void *mem = malloc(bytes);

	bench_count_misaligned(&misaligned, "glibc", "malloc", (uintptr_t)mem,
			       16);
	return mem;
}

/* posix_memalign rather than C11 aligned_alloc, which requires bytes to
 * be a multiple of align (glibc does not check; sanitizers do). Both take
 * the same path in glibc (_mid_memalign). */
static void *glibc_aligned_alloc(size_t align, size_t bytes)
{
	void *mem;

	if (align < sizeof(void *)) {
		align = sizeof(void *);
	}
	if (posix_memalign(&mem, align, bytes) != 0) {
		return NULL;
	}
	bench_count_misaligned(&misaligned, "glibc", "posix_memalign",
			       (uintptr_t)mem, align);
	return mem;
}

static void glibc_free(void *mem)
{
	free(mem);
}

static void *glibc_realloc(void *mem, size_t bytes)
{
	void *new_mem = realloc(mem, bytes);

	bench_count_misaligned(&misaligned, "glibc", "realloc",
			       (uintptr_t)new_mem, 16);
	return new_mem;
}

static size_t glibc_usable_size(void *mem)
{
	return malloc_usable_size(mem);
}

const struct bench_allocator bench_adapter_glibc = {
	.name = "glibc",
	.region_bounded = false,
	.w3_note = "serves every request from the process heap (brk/mmap): "
		   "no fixed region, never fails",
	.init = glibc_init,
	.alloc = glibc_alloc,
	.aligned_alloc = glibc_aligned_alloc,
	.free = glibc_free,
	.realloc = glibc_realloc,
	.check = NULL,
	.usable_size = glibc_usable_size,
	.misaligned = &misaligned,
};
