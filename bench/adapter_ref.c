/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Reference allocators for W3: what an unbounded-time policy achieves over
 * the same region with the same block format as kheap's small heaps
 * (4-byte header, 8-byte granularity, 8-byte minimum block, immediate
 * coalescing). They show how much of W3's gap to 100% is the workload
 * (fragmentation that even a best fit cannot avoid) and how much is
 * kheap's constant-time policy.
 *
 * Not allocators to use: the free blocks are kept in a sorted array in
 * host memory (O(n) per call), the region is used only for the blocks
 * themselves, and there is no control block in it, so they get the region
 * minus alignment slack (kheap loses about 0.1% of a 256 KiB region to its
 * control block). W3 uses alloc and free only; aligned_alloc and realloc
 * abort.
 *
 *   ref-bestfit   the smallest free block that fits, lowest address among
 *                 equals; the block is split at its start
 *   ref-firstfit  the lowest-addressed free block that fits
 */
#include <stdlib.h>
#include <string.h>

#include "adapter.h"

#define REF_CHUNK 8u
#define REF_HEADER 4u

struct ref_free {
	uint32_t start; /* chunk index */
	uint32_t size;  /* chunks */
};

static unsigned char *ref_base; /* chunk 0; memory at +REF_HEADER */
static uint32_t ref_chunks;
static struct ref_free *ref_free_list; /* sorted by start, never adjacent */
static size_t ref_free_count;
static uint32_t *ref_used_size; /* size of the used block starting at c */
static bool ref_best;

static int ref_init(void *region, size_t bytes)
{
	uintptr_t start = (uintptr_t)region;
	uintptr_t end = start + bytes;
	/* Chunk memory 8-aligned: chunks start at 4 mod 8. */
	uintptr_t base =
		((start + REF_HEADER + 7u) & ~(uintptr_t)7u) - REF_HEADER;

	free(ref_free_list);
	free(ref_used_size);
	ref_base = (unsigned char *)base;
	ref_chunks = (uint32_t)((end - base) / REF_CHUNK);
	ref_free_list = malloc((ref_chunks / 2u + 2u) * sizeof(*ref_free_list));
	ref_used_size = calloc(ref_chunks, sizeof(*ref_used_size));
	if (ref_free_list == NULL || ref_used_size == NULL) {
		bench_die("reference allocator: out of memory");
	}
	ref_free_list[0].start = 0;
	ref_free_list[0].size = ref_chunks;
	ref_free_count = 1;
	return 0;
}

static int ref_init_best(void *region, size_t bytes)
{
	ref_best = true;
	return ref_init(region, bytes);
}

static int ref_init_first(void *region, size_t bytes)
{
	ref_best = false;
	return ref_init(region, bytes);
}

static void *ref_alloc(size_t bytes)
{
	if (bytes == 0u || bytes > (size_t)ref_chunks * REF_CHUNK) {
		return NULL;
	}
	uint32_t want =
		(uint32_t)((bytes + REF_HEADER + REF_CHUNK - 1u) / REF_CHUNK);
	size_t pick = ref_free_count;

	for (size_t i = 0; i < ref_free_count; i++) {
		if (ref_free_list[i].size < want) {
			continue;
		}
		if (!ref_best) {
			pick = i;
			break;
		}
		if (pick == ref_free_count ||
		    ref_free_list[i].size < ref_free_list[pick].size) {
			pick = i;
			if (ref_free_list[i].size == want) {
				break;
			}
		}
	}
	if (pick == ref_free_count) {
		return NULL;
	}
	struct ref_free *f = &ref_free_list[pick];
	uint32_t c = f->start;

	if (f->size == want) {
		memmove(f, f + 1, (ref_free_count - pick - 1u) * sizeof(*f));
		ref_free_count--;
	} else {
		f->start += want;
		f->size -= want;
	}
	ref_used_size[c] = want;
	void *mem = ref_base + (size_t)c * REF_CHUNK + REF_HEADER;

	bench_check_aligned("reference", "alloc", (uintptr_t)mem, 8);
	return mem;
}

static void ref_free(void *mem)
{
	if (mem == NULL) {
		return;
	}
	uint32_t c = (uint32_t)(((unsigned char *)mem - REF_HEADER - ref_base) /
				REF_CHUNK);
	uint32_t size = ref_used_size[c];

	if (size == 0u) {
		bench_die("reference allocator: bad free");
	}
	ref_used_size[c] = 0;
	/* First free block after c. */
	size_t lo = 0, hi = ref_free_count;

	while (lo < hi) {
		size_t mid = (lo + hi) / 2u;

		if (ref_free_list[mid].start < c) {
			lo = mid + 1u;
		} else {
			hi = mid;
		}
	}
	bool left =
		lo > 0u &&
		ref_free_list[lo - 1u].start + ref_free_list[lo - 1u].size == c;
	bool right = lo < ref_free_count && c + size == ref_free_list[lo].start;

	if (left && right) {
		ref_free_list[lo - 1u].size += size + ref_free_list[lo].size;
		memmove(&ref_free_list[lo], &ref_free_list[lo + 1u],
			(ref_free_count - lo - 1u) * sizeof(*ref_free_list));
		ref_free_count--;
	} else if (left) {
		ref_free_list[lo - 1u].size += size;
	} else if (right) {
		ref_free_list[lo].start = c;
		ref_free_list[lo].size += size;
	} else {
		memmove(&ref_free_list[lo + 1u], &ref_free_list[lo],
			(ref_free_count - lo) * sizeof(*ref_free_list));
		ref_free_list[lo].start = c;
		ref_free_list[lo].size = size;
		ref_free_count++;
	}
}

static void *ref_aligned_alloc(size_t align, size_t bytes)
{
	(void)align;
	(void)bytes;
	bench_die("reference allocator: aligned_alloc is not provided");
}

static void *ref_realloc(void *mem, size_t bytes)
{
	(void)mem;
	(void)bytes;
	bench_die("reference allocator: realloc is not provided");
}

static bool ref_check(void)
{
	uint64_t free_chunks = 0;

	for (size_t i = 0; i < ref_free_count; i++) {
		if (i > 0u &&
		    ref_free_list[i - 1u].start + ref_free_list[i - 1u].size >=
			    ref_free_list[i].start) {
			return false;
		}
		free_chunks += ref_free_list[i].size;
	}
	return free_chunks <= ref_chunks;
}

const struct bench_allocator bench_adapter_ref_bestfit = {
	.name = "ref-bestfit",
	.region_bounded = true,
	.init = ref_init_best,
	.alloc = ref_alloc,
	.aligned_alloc = ref_aligned_alloc,
	.free = ref_free,
	.realloc = ref_realloc,
	.check = ref_check,
};

const struct bench_allocator bench_adapter_ref_firstfit = {
	.name = "ref-firstfit",
	.region_bounded = true,
	.init = ref_init_first,
	.alloc = ref_alloc,
	.aligned_alloc = ref_aligned_alloc,
	.free = ref_free,
	.realloc = ref_realloc,
	.check = ref_check,
};
