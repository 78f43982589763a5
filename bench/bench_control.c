/* SPDX-License-Identifier: Apache-2.0 */
/*
 * kheap_bench control: the bookkeeping of the allocator under test
 * (heap_backend.h) on this host's pointer width, by heap_bookkeeping.c:
 *
 *   MINREGION alloc=NAME ptr_bytes=P bytes=N
 *   CONTROL alloc=NAME ptr_bytes=P region=R largest=L control=R-L
 *
 * for every region size of the sweep from the minimum region to --max
 * (default 1 MiB). The region starts page-aligned.
 */
#include <stdio.h>

#include "bench.h"
#include "heap_backend.h"
#include "heap_bookkeeping.h"
#include "workload.h"

/* No allocator we measure needs more to serve one byte. */
#define MIN_REGION_SEARCH_BYTES 65536u

int bench_control(const struct bench_options *opt)
{
	size_t max = opt->max_bytes != 0u ? opt->max_bytes : 1024u * 1024u;
	size_t map = max > MIN_REGION_SEARCH_BYTES ? max
						   : MIN_REGION_SEARCH_BYTES;
	void *region = bench_region(map);
	size_t min = bk_min_region(region, MIN_REGION_SEARCH_BYTES);

	printf("MINREGION alloc=%s ptr_bytes=%zu bytes=%zu\n", BENCH_HEAP_NAME,
	       sizeof(void *), min);
	if (min == 0u) {
		bench_die("%s serves no 1-byte request from any region up to "
			  "%u bytes",
			  BENCH_HEAP_NAME, MIN_REGION_SEARCH_BYTES);
	}
	for (size_t r = bk_next_size(0u, min, max); r != 0u;
	     r = bk_next_size(r, min, max)) {
		size_t largest = bk_largest_block(region, r);

		printf("CONTROL alloc=%s ptr_bytes=%zu region=%zu largest=%zu "
		       "control=%zu\n",
		       BENCH_HEAP_NAME, sizeof(void *), r, largest,
		       r - largest);
	}
	bench_region_free(region, map);
	return 0;
}
