/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Zephyr's heap-library helpers in zephyr/sys/sys_heap.h:
 *
 * - sys_heap_stress(): argument checks; the counts it returns agree with
 *   what its callbacks saw; it frees only live blocks, each once, and
 *   never holds more than its scratch records; its requests follow the
 *   documented power law within [1, total_bytes]; the fill it steers to
 *   stays near the target; a seed replays the same run. Over a sys_heap
 *   the heap stays valid throughout.
 * - The heap array (CONFIG_SYS_HEAP_ARRAY_SIZE): absent in the default
 *   core (nothing saved), and in kheap_core_assert (4 entries, with
 *   CONFIG_ASSERT) every successful sys_heap_init saves its handle once,
 *   in order, until the array is full; a refused init saves nothing (and
 *   there is reported as SYS_HEAP_FAULT_BAD_REGION).
 *
 * Built twice (tests/CMakeLists.txt): over kheap_core and over
 * kheap_core_assert.
 *
 * Usage: test_heap_library [test-name-pattern]
 * KHEAP_SEED=<n> fixes the seed of the randomized tests.
 */
#include "test_fixture.h"
#include "test_heap_support.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <kheap/config.h>
#include <zephyr/sys/sys_heap.h>

/* --- a callback pair that watches the rig ------------------------------- */

#define WATCH_MAX_LIVE 4096u

struct watch {
	struct sys_heap *heap; /* NULL: allocation always fails */
	void *live[WATCH_MAX_LIVE];
	size_t live_count;
	size_t max_live;
	uint32_t allocs;
	uint32_t successes;
	uint32_t frees;
	size_t min_request;
	size_t max_request;
	uint32_t small_requests; /* 16 bytes or less */
	/* Every request, in order, folded into one number. */
	uint64_t request_hash;
	bool validate_each;
};

static void watch_reset(struct watch *w, struct sys_heap *heap)
{
	memset(w, 0, sizeof(*w));
	w->heap = heap;
	w->min_request = SIZE_MAX;
}

static void *watch_alloc(void *arg, size_t bytes)
{
	struct watch *w = arg;

	w->allocs++;
	w->request_hash = test_mix64(w->request_hash ^ bytes);
	w->min_request = bytes < w->min_request ? bytes : w->min_request;
	w->max_request = bytes > w->max_request ? bytes : w->max_request;
	w->small_requests += bytes <= 16u;
	void *mem = w->heap != NULL ? sys_heap_alloc(w->heap, bytes) : NULL;

	if (mem != NULL) {
		assert_true(w->live_count < WATCH_MAX_LIVE);
		w->live[w->live_count++] = mem;
		w->max_live = w->live_count > w->max_live ? w->live_count
							  : w->max_live;
		w->successes++;
		if (w->validate_each) {
			assert_true(sys_heap_validate(w->heap));
		}
	}
	return mem;
}

static void watch_free(void *arg, void *mem)
{
	struct watch *w = arg;
	size_t i = 0;

	/* Only a live block, and only once. */
	while (i < w->live_count && w->live[i] != mem) {
		i++;
	}
	if (i == w->live_count) {
		fail_msg("sys_heap_stress freed %p, which is not live", mem);
	}
	w->live[i] = w->live[--w->live_count];
	w->frees++;
	sys_heap_free(w->heap, mem);
	if (w->validate_each) {
		assert_true(sys_heap_validate(w->heap));
	}
}

static void watch_release(struct watch *w)
{
	while (w->live_count > 0u) {
		sys_heap_free(w->heap, w->live[--w->live_count]);
	}
}

static void assert_counts_agree(const struct watch *w,
				const struct z_heap_stress_result *r,
				uint32_t op_count)
{
	assert_int_equal(r->total_allocs, w->allocs);
	assert_int_equal(r->successful_allocs, w->successes);
	assert_int_equal(r->total_frees, w->frees);
	assert_int_equal(r->total_allocs + r->total_frees, op_count);
	assert_int_equal(w->live_count, r->successful_allocs - r->total_frees);
}

#define REGION_BYTES (64u * 1024u)
#define RECORDS 512u

static uint8_t *region;
static uint8_t *scratch;
static size_t scratch_bytes;
static struct sys_heap heap;
static struct watch watch;

static int stress_setup(void **state)
{
	(void)state;
	region = malloc(REGION_BYTES);
	scratch_bytes = RECORDS * sys_heap_stress_record_bytes();
	scratch = malloc(scratch_bytes);
	assert_non_null(region);
	assert_non_null(scratch);
	assert_int_equal(sys_heap_init(&heap, region, REGION_BYTES), 0);
	watch_reset(&watch, &heap);
	return 0;
}

static int stress_teardown(void **state)
{
	(void)state;
	watch_release(&watch);
	assert_true(sys_heap_validate(&heap));
	test_meta_release(region, REGION_BYTES);
	free(region);
	free(scratch);
	return 0;
}

/* --- sys_heap_stress ------------------------------------------------------- */

static void test_stress_refuses_bad_arguments(void **state)
{
	(void)state;
	struct z_heap_stress_result r;
	/* Room for exactly one record, one byte off its alignment: none. */
	size_t one = sys_heap_stress_record_bytes();

	memset(&r, 0xa5, sizeof(r));
	sys_heap_stress(NULL, watch_free, &watch, REGION_BYTES, 100, scratch,
			scratch_bytes, 50, &r);
	assert_int_equal(r.total_allocs + r.total_frees, 0);
	assert_int_equal(r.accumulated_in_use_bytes, 0);
	memset(&r, 0xa5, sizeof(r));
	sys_heap_stress(watch_alloc, NULL, &watch, REGION_BYTES, 100, scratch,
			scratch_bytes, 50, &r);
	assert_int_equal(r.total_allocs, 0);
	sys_heap_stress(watch_alloc, watch_free, &watch, 0, 100, scratch,
			scratch_bytes, 50, &r);
	assert_int_equal(r.total_allocs, 0);
	sys_heap_stress(watch_alloc, watch_free, &watch, REGION_BYTES, 100,
			NULL, scratch_bytes, 50, &r);
	assert_int_equal(r.total_allocs, 0);
	sys_heap_stress(watch_alloc, watch_free, &watch, REGION_BYTES, 100,
			scratch, one - 1u, 50, &r);
	assert_int_equal(r.total_allocs, 0);
	sys_heap_stress(watch_alloc, watch_free, &watch, REGION_BYTES, 100,
			scratch + 1, one, 50, &r);
	assert_int_equal(r.total_allocs, 0);
	/* Too small for the alignment padding itself. */
	sys_heap_stress(watch_alloc, watch_free, &watch, REGION_BYTES, 100,
			scratch + 1, 2, 50, &r);
	assert_int_equal(r.total_allocs, 0);
	/* No result to write: nothing is done. */
	sys_heap_stress(watch_alloc, watch_free, &watch, REGION_BYTES, 100,
			scratch, scratch_bytes, 50, NULL);
	assert_int_equal(watch.allocs + watch.frees, 0);

	/* A misaligned scratch with room for one record after the padding
	 * works, and holds one live block at a time. */
	sys_heap_stress(watch_alloc, watch_free, &watch, REGION_BYTES, 100,
			scratch + 1, 2u * one, 50, &r);
	assert_counts_agree(&watch, &r, 100);
	assert_int_equal(watch.max_live, 1);
}

static void test_stress_counts_and_frees(void **state)
{
	(void)state;
	struct z_heap_stress_result r;
	const uint32_t ops = 20000;

	sys_heap_stress_seed(test_seed());
	watch.validate_each = true;
	sys_heap_stress(watch_alloc, watch_free, &watch, REGION_BYTES, ops,
			scratch, scratch_bytes, 60, &r);
	assert_counts_agree(&watch, &r, ops);
	assert_true(watch.max_live <= RECORDS);
	assert_true(r.successful_allocs > 0u);
	assert_true(r.total_frees > 0u);
	/* Requests: never 0, never above the heap, mostly small. */
	assert_true(watch.min_request >= 1u);
	assert_true(watch.max_request <= REGION_BYTES);
	assert_true(watch.small_requests * 10u > watch.allocs * 4u);
	assert_true(watch.small_requests * 10u < watch.allocs * 7u);
	assert_true(watch.max_request > 4096u);
}

/* With room for two records, at most two blocks are live. */
static void test_stress_respects_records(void **state)
{
	(void)state;
	struct z_heap_stress_result r;

	sys_heap_stress_seed(test_seed());
	sys_heap_stress(watch_alloc, watch_free, &watch, REGION_BYTES, 5000,
			scratch, 2u * sys_heap_stress_record_bytes(), 100, &r);
	assert_counts_agree(&watch, &r, 5000);
	assert_int_equal(watch.max_live, 2);
}

/* The mean fill (accumulated / ops) stays near the target, just below
 * it, for low, middle and high targets; 0 and more than 100 count as 1
 * and 100. */
static void test_stress_fill_follows_target(void **state)
{
	(void)state;
	static const int targets[] = {10, 50, 90, 0, 250};
	static const unsigned int expected[] = {10, 50, 90, 1, 100};
	const uint32_t ops = 40000;
	const size_t total = REGION_BYTES / 8u;
	uint64_t seed = test_seed();

	for (size_t i = 0; i < sizeof(targets) / sizeof(targets[0]); i++) {
		struct z_heap_stress_result r;

		watch_release(&watch);
		watch_reset(&watch, &heap);
		sys_heap_stress_seed(seed + i);
		sys_heap_stress(watch_alloc, watch_free, &watch, total, ops,
				scratch, scratch_bytes, targets[i], &r);
		assert_counts_agree(&watch, &r, ops);
		uint64_t mean_percent =
			r.accumulated_in_use_bytes * 100u / ops / total;

		printf("# target %d: mean fill %u%% (%u allocations, %u "
		       "failed)\n",
		       targets[i], (unsigned int)mean_percent, r.total_allocs,
		       r.total_allocs - r.successful_allocs);
		/* Below the target (the rig frees at or above it; a large
		 * request may overshoot for a moment), and above two thirds
		 * of it. */
		assert_true(mean_percent <= expected[i] + 2u);
		assert_true(mean_percent * 3u >= expected[i] * 2u);
	}
}

/* The same seed replays the same requests and results; another does
 * not. */
static void test_stress_replays_from_seed(void **state)
{
	(void)state;
	struct z_heap_stress_result first;
	struct z_heap_stress_result again;
	struct z_heap_stress_result other;
	uint64_t seed = test_seed();

	sys_heap_stress_seed(seed);
	sys_heap_stress(watch_alloc, watch_free, &watch, REGION_BYTES, 3000,
			scratch, scratch_bytes, 70, &first);
	uint64_t first_hash = watch.request_hash;

	watch_release(&watch);
	watch_reset(&watch, &heap);
	sys_heap_stress_seed(seed);
	sys_heap_stress(watch_alloc, watch_free, &watch, REGION_BYTES, 3000,
			scratch, scratch_bytes, 70, &again);
	assert_int_equal(watch.request_hash, first_hash);
	assert_memory_equal(&first, &again, sizeof(first));

	watch_release(&watch);
	watch_reset(&watch, &heap);
	sys_heap_stress_seed(seed ^ 1u);
	sys_heap_stress(watch_alloc, watch_free, &watch, REGION_BYTES, 3000,
			scratch, scratch_bytes, 70, &other);
	assert_int_not_equal(watch.request_hash, first_hash);
}

/* Failed allocations are counted and use up their operation. */
static void test_stress_counts_failures(void **state)
{
	(void)state;
	struct z_heap_stress_result r;

	watch_reset(&watch, NULL);
	sys_heap_stress(watch_alloc, watch_free, &watch, REGION_BYTES, 500,
			scratch, scratch_bytes, 50, &r);
	assert_int_equal(r.total_allocs, 500);
	assert_int_equal(r.successful_allocs, 0);
	assert_int_equal(r.total_frees, 0);
	assert_int_equal(r.accumulated_in_use_bytes, 0);
	watch.heap = &heap;
}

/* --- the heap array ------------------------------------------------------------ */

static void test_heap_array(void **state)
{
	(void)state;
	static uint8_t regions[6][256] __attribute__((__aligned__(8)));
	struct sys_heap heaps[6];
	struct sys_heap **saved = (struct sys_heap **)&saved;

	assert_int_equal(sys_heap_array_get(NULL), -22);
	assert_int_equal(sys_heap_array_save(NULL), -22);
	if (CONFIG_SYS_HEAP_ARRAY_SIZE == 0) {
		assert_int_equal(sys_heap_init(&heaps[0], regions[0], 256), 0);
		assert_int_equal(sys_heap_array_get(&saved), 0);
		assert_null(saved);
		assert_int_equal(sys_heap_array_save(&heaps[0]), -22);
		return;
	}
	/* This test runs first: nothing is saved yet. */
	assert_int_equal(sys_heap_array_get(&saved), 0);
	assert_int_equal(sys_heap_init(&heaps[0], regions[0], 256), 0);
	assert_int_equal(sys_heap_init(&heaps[1], regions[1], 256), 0);
	/* Again: saved once. */
	assert_int_equal(sys_heap_init(&heaps[0], regions[0], 256), 0);
	assert_int_equal(sys_heap_array_save(&heaps[1]), 0);
	/* Refused: not saved (and an assertion with CONFIG_ASSERT). */
	if (KHEAP_ZEPHYR_ASSERTS) {
		fault_capture_arm();
	}
	assert_int_equal(sys_heap_init(&heaps[2], regions[2], 8), -22);
	if (KHEAP_ZEPHYR_ASSERTS) {
		fault_capture_assert_one(&heaps[2], regions[2],
					 SYS_HEAP_FAULT_BAD_REGION, "init");
		(void)fault_capture_disarm();
	}
	assert_int_equal(sys_heap_array_get(&saved), 2);
	assert_ptr_equal(saved[0], &heaps[0]);
	assert_ptr_equal(saved[1], &heaps[1]);

	for (size_t i = 2; i < 6; i++) {
		assert_int_equal(sys_heap_init(&heaps[i], regions[i], 256), 0);
	}
	/* Full at CONFIG_SYS_HEAP_ARRAY_SIZE: later heaps are not saved. */
	assert_int_equal(sys_heap_array_get(&saved),
			 CONFIG_SYS_HEAP_ARRAY_SIZE);
	for (int i = 0; i < CONFIG_SYS_HEAP_ARRAY_SIZE; i++) {
		assert_ptr_equal(saved[i], &heaps[i]);
		assert_true(sys_heap_validate(saved[i]));
	}
	assert_int_equal(sys_heap_array_save(&heaps[5]), -22);
	/* Saved handles stay saved. */
	assert_int_equal(sys_heap_array_save(&heaps[0]), 0);
}

int main(int argc, char **argv)
{
	int failed = 0;

	if (argc > 1) {
		cmocka_set_test_filter(argv[1]);
	}
	fault_capture_install();
	const struct CMUnitTest array_tests[] = {
		cmocka_unit_test(test_heap_array),
	};
	const struct CMUnitTest stress_tests[] = {
#define STRESS_TEST(fn)                                                        \
	cmocka_unit_test_setup_teardown(fn, stress_setup, stress_teardown)
		STRESS_TEST(test_stress_refuses_bad_arguments),
		STRESS_TEST(test_stress_counts_and_frees),
		STRESS_TEST(test_stress_respects_records),
		STRESS_TEST(test_stress_fill_follows_target),
		STRESS_TEST(test_stress_replays_from_seed),
		STRESS_TEST(test_stress_counts_failures),
#undef STRESS_TEST
	};
	/* The array first: every other test initialises heaps. */
	failed += cmocka_run_group_tests_name("heap array", array_tests, NULL,
					      NULL);
	failed += cmocka_run_group_tests_name("sys_heap_stress", stress_tests,
					      NULL, NULL);
	fault_capture_uninstall();
	return failed == 0 ? 0 : 1;
}
