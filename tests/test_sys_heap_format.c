/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The build-time header format (kheap/config.h): AUTO, and
 * CONFIG_SYS_HEAP_SMALL_ONLY / CONFIG_SYS_HEAP_BIG_ONLY. Built once per
 * core (tests/CMakeLists.txt: kheap_core, kheap_core_small,
 * kheap_core_big); the build's definitions say which format to expect.
 *
 * - Each region size gets the format the build promises: AUTO 4-byte
 *   headers up to SYS_HEAP_SMALL_REGION_MAX_BYTES and 8-byte ones above,
 *   SMALL_ONLY 4-byte headers and -EINVAL above that size (an empty heap
 *   that allocates nothing), BIG_ONLY 8-byte headers at every size.
 * - A random sequence of alloc, aligned_alloc, realloc and free on a
 *   small and (where the build accepts it) a big region: every block
 *   keeps its contents, honours its alignment, lies in the region, and
 *   the heap validates after every call and is whole once all is freed.
 *
 * Usage: test_sys_heap_format [test-name-pattern]
 * KHEAP_SEED=<n> replays a run (the seed is printed).
 */
#include "test_fixture.h"
#include "test_heap_support.h"
#include "test_meta.h"
#include "test_rng.h"

#include <stdlib.h>
#include <string.h>

#include <zephyr/sys/sys_heap.h>

#define SMALL_REGION_BYTES (16u * 1024u)
#define BIG_REGION_BYTES (1024u * 1024u)
#define LIVE_SLOTS 64u
#define STEPS 4000u

/* The header bytes this build gives a region of `bytes`; 0: refused. */
static size_t expected_header_bytes(size_t bytes)
{
	if (CONFIG_SYS_HEAP_BIG_ONLY) {
		return 8u;
	}
	if (bytes <= SYS_HEAP_SMALL_REGION_MAX_BYTES) {
		return 4u;
	}
	return CONFIG_SYS_HEAP_SMALL_ONLY ? 0u : 8u;
}

static void check_region_format(size_t bytes)
{
	uint8_t *region = malloc(bytes);
	struct sys_heap heap;

	assert_non_null(region);
	size_t want = expected_header_bytes(bytes);
	int rc = sys_heap_init(&heap, region, bytes);

	if (want == 0u) {
		assert_int_equal(rc, -22);
		assert_null(sys_heap_alloc(&heap, 1));
		assert_int_equal(sys_heap_header_bytes(&heap), 0);
	} else {
		assert_int_equal(rc, 0);
		assert_int_equal(sys_heap_header_bytes(&heap), want);
		assert_true(sys_heap_validate(&heap));
		void *mem = sys_heap_alloc(&heap, 1);

		assert_non_null(mem);
		assert_int_equal((uintptr_t)mem % 8u, 0);
		sys_heap_free(&heap, mem);
	}
	test_meta_release(region, bytes);
	free(region);
}

static void test_format_by_region_size(void **state)
{
	const size_t sizes[] = {
		Z_HEAP_MIN_SIZE,
		SMALL_REGION_BYTES,
		SYS_HEAP_SMALL_REGION_MAX_BYTES - 8u,
		SYS_HEAP_SMALL_REGION_MAX_BYTES,
		SYS_HEAP_SMALL_REGION_MAX_BYTES + 1u,
		SYS_HEAP_SMALL_REGION_MAX_BYTES + 8u,
		BIG_REGION_BYTES,
	};

	(void)state;
	for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		check_region_format(sizes[i]);
	}
}

struct live {
	uint8_t *mem;
	size_t bytes;
	uint8_t fill;
};

static void check_contents(const struct live *l)
{
	test_assert_bytes_are(l->mem, l->bytes, l->fill);
}

/* Random calls on a heap over `bytes`, checked after each one. */
static void run_sequence(size_t region_bytes, uint64_t seed)
{
	uint8_t *region = malloc(region_bytes);
	struct live live[LIVE_SLOTS] = {{0}};
	struct sys_heap heap;
	struct test_rng rng;
	const size_t max_request = region_bytes / 16u;

	assert_non_null(region);
	test_rng_seed(&rng, seed);
	fault_capture_install();
	assert_int_equal(sys_heap_init(&heap, region, region_bytes), 0);
	for (unsigned int step = 0; step < STEPS; step++) {
		struct live *l = &live[test_rng_below(&rng, LIVE_SLOTS)];
		size_t bytes = (size_t)test_rng_log_uniform(&rng, max_request);
		size_t align = (size_t)1u << test_rng_below(&rng, 8u);
		uint8_t fill = (uint8_t)(step | 1u);
		/* The block the call made or resized, if any. */
		void *placed = NULL;

		bytes = bytes > 0u ? bytes : 1u;
		if (l->mem != NULL) {
			check_contents(l);
		}
		if (l->mem == NULL) {
			bool aligned = test_rng_percent(&rng, 50) != 0;

			placed = aligned ? sys_heap_aligned_alloc(&heap, align,
								  bytes)
					 : sys_heap_alloc(&heap, bytes);
			if (placed != NULL) {
				assert_true(test_pointer_honours_align(
					placed, aligned ? align : 8u));
			}
		} else if (test_rng_percent(&rng, 50)) {
			void *mem = sys_heap_realloc(&heap, l->mem, bytes);

			if (mem == NULL) {
				/* The old block stays, unchanged. */
				check_contents(l);
			} else {
				size_t kept = l->bytes < bytes ? l->bytes
							       : bytes;

				test_assert_bytes_are(mem, kept, l->fill);
				placed = mem;
			}
		} else {
			sys_heap_free(&heap, l->mem);
			l->mem = NULL;
		}
		if (placed != NULL) {
			test_assert_block_in_region(&heap, placed, bytes,
						    region, region_bytes);
			assert_true(sys_heap_usable_size(&heap, placed) >=
				    bytes);
			memset(placed, fill, bytes);
			l->mem = placed;
			l->bytes = bytes;
			l->fill = fill;
		}
		assert_true(sys_heap_validate(&heap));
	}
	for (unsigned int i = 0; i < LIVE_SLOTS; i++) {
		if (live[i].mem != NULL) {
			check_contents(&live[i]);
			sys_heap_free(&heap, live[i].mem);
		}
	}
	assert_true(sys_heap_validate(&heap));
	struct sys_memory_stats stats;

	assert_int_equal(sys_heap_runtime_stats_get(&heap, &stats), 0);
	assert_int_equal(stats.allocated_bytes, 0);
	fault_capture_uninstall();
	test_meta_release(region, region_bytes);
	free(region);
}

static void test_sequence_small_region(void **state)
{
	(void)state;
	run_sequence(SMALL_REGION_BYTES, test_seed());
}

static void test_sequence_big_region(void **state)
{
	(void)state;
	if (expected_header_bytes(BIG_REGION_BYTES) == 0u) {
		/* Refused by this build: test_format_by_region_size. */
		return;
	}
	run_sequence(BIG_REGION_BYTES, test_seed() + 1u);
}

int main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_format_by_region_size),
		cmocka_unit_test(test_sequence_small_region),
		cmocka_unit_test(test_sequence_big_region),
	};

	if (argc > 1) {
		cmocka_set_test_filter(argv[1]);
	}
	return cmocka_run_group_tests_name(
		CONFIG_SYS_HEAP_SMALL_ONLY ? "format, small only"
		: CONFIG_SYS_HEAP_BIG_ONLY ? "format, big only"
					   : "format, auto",
		tests, NULL, NULL);
}
