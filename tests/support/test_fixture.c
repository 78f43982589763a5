/* SPDX-License-Identifier: Apache-2.0 */
#include "test_fixture.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void heap_fixture_setup(struct heap_fixture *fx,
			const struct heap_format *format)
{
	fault_capture_install();
	memset(fx, 0, sizeof(*fx));
	fx->region_bytes = format->region_bytes;
	fx->region = malloc(fx->region_bytes);
	assert_non_null(fx->region);
	memset(fx->region, 0xcd, fx->region_bytes);
	assert_int_equal(sys_heap_init(&fx->heap, fx->region, fx->region_bytes),
			 0);
	assert_int_equal(sys_heap_header_bytes(&fx->heap),
			 format->header_bytes);
	assert_true(sys_heap_validate(&fx->heap));
	assert_int_equal(sys_heap_runtime_stats_get(&fx->heap, &fx->initial),
			 0);
	fx->initial_max_alloc_bytes = sys_heap_max_alloc_bytes(&fx->heap);
}

void heap_fixture_teardown(struct heap_fixture *fx)
{
	fault_capture_disarm();
	free(fx->region);
	fx->region = NULL;
}

uint64_t test_seed(void)
{
	uint64_t seed;

	if (!test_seed_from_env("KHEAP_SEED", &seed)) {
		seed = test_seed_random();
	}
	printf("seed=0x%016" PRIx64 " (replay: KHEAP_SEED=0x%016" PRIx64 ")\n",
	       seed, seed);
	return seed;
}
