/* SPDX-License-Identifier: Apache-2.0 */
/* Bookkeeping of the allocator under test (see heap_bookkeeping.h). */
#include "heap_bookkeeping.h"

#include <stdbool.h>

#include "heap_backend.h"

/* Does a fresh heap over the region serve a request of bytes? */
static bool serves(void *mem, size_t region_bytes, size_t bytes)
{
	bench_heap_t h = bench_heap_init(mem, region_bytes);

	return h != NULL && BENCH_HEAP_ALLOC(h, bytes) != NULL;
}

size_t bk_largest_block(void *mem, size_t region_bytes)
{
	/* serves(lo) and !serves(hi) throughout. */
	size_t lo = 1u;
	size_t hi = region_bytes + 1u;

	if (!serves(mem, region_bytes, 1u)) {
		return 0u;
	}
	while (hi - lo > 1u) {
		size_t mid = lo + (hi - lo) / 2u;

		if (serves(mem, region_bytes, mid)) {
			lo = mid;
		} else {
			hi = mid;
		}
	}
	return lo;
}

size_t bk_min_region(void *mem, size_t max_bytes)
{
	for (size_t bytes = 1u; bytes <= max_bytes; bytes++) {
		if (serves(mem, bytes, 1u)) {
			return bytes;
		}
	}
	return 0u;
}

/* The sweep's sizes above 1 KiB after bytes: the smallest of 2^k - 8,
 * 2^k, 2^k + 8 and 1.5 * 2^k (k >= 10) above it. */
static size_t next_landmark(size_t bytes)
{
	size_t best = 0u;

	for (size_t p = 1024u; p != 0u && p / 2u <= bytes; p *= 2u) {
		size_t marks[4] = {p - 8u, p, p + 8u, p + p / 2u};

		for (unsigned int i = 0; i < 4u; i++) {
			if (marks[i] > bytes &&
			    (best == 0u || marks[i] < best)) {
				best = marks[i];
			}
		}
	}
	return best;
}

size_t bk_next_size(size_t bytes, size_t min_bytes, size_t max_bytes)
{
	size_t next;

	if (bytes == 0u) {
		return min_bytes;
	}
	if (bytes >= max_bytes) {
		return 0u;
	}
	if (bytes < 1024u) {
		/* The next multiple of 8. */
		next = (bytes | 7u) + 1u;
	} else {
		next = next_landmark(bytes);
	}
	return next == 0u || next > max_bytes ? max_bytes : next;
}
