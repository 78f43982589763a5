/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Bookkeeping of the allocator under test (heap_backend.h), measured the
 * same way for every allocator, on x86-64 (kheap_bench control) and on
 * Cortex-M (target_worst bookkeeping):
 *
 *   control(R) = R - the largest single request a fresh heap over a
 *                region of R bytes serves
 *
 * which counts everything a region loses before the first allocation:
 * the in-region control block, alignment and end markers, the header of
 * the block, and any rounding the allocator applies to a request. The
 * minimum region is the smallest R for which the allocator accepts the
 * region and then serves a 1-byte request. Freestanding C11; compiled
 * with the backend of the build that uses it.
 */
#ifndef KHEAP_BENCH_HEAP_BOOKKEEPING_H
#define KHEAP_BENCH_HEAP_BOOKKEEPING_H

#include <stddef.h>

/* The largest n for which alloc(n) succeeds on a fresh heap over
 * [mem, mem + region_bytes); 0 if the allocator refuses the region or a
 * 1-byte request. A binary search, one fresh heap per probe (success is
 * monotonic in n on a fresh heap of a single free block). */
size_t bk_largest_block(void *mem, size_t region_bytes);

/* The smallest region in [1, max_bytes] over which the allocator serves a
 * 1-byte request (0: none). */
size_t bk_min_region(void *mem, size_t max_bytes);

/* The sweep of region sizes, in increasing order: call with 0 for the
 * first size (min_bytes), then with the previous one; 0 after the last
 * (max_bytes). Every 8 bytes up to 1 KiB; above, each power of two 2^k,
 * 2^k - 8, 2^k + 8 and 1.5 * 2^k (where class counts and header formats
 * change), and max_bytes. */
size_t bk_next_size(size_t bytes, size_t min_bytes, size_t max_bytes);

#endif /* KHEAP_BENCH_HEAP_BOOKKEEPING_H */
