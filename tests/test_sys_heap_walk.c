/* SPDX-License-Identifier: Apache-2.0 */
/*
 * sys_heap_walk: the read-only block walk that tools (heap maps, leak
 * reports) use. Run over both header formats.
 */
#include "test_heap_support.h"
#include "test_meta.h"

#include <stdlib.h>
#include <string.h>

#include <zephyr/sys/sys_heap.h>

#define SMALL_REGION_BYTES (16u * 1024u)
#define BIG_REGION_BYTES (SYS_HEAP_SMALL_REGION_MAX_BYTES + 4096u)
#define LIVE_BLOCKS 24

struct walk_record {
	size_t blocks;
	size_t stop_after;
	const unsigned char *next_header;
	size_t used_bytes;
	size_t free_bytes;
	bool tiles;
	bool header_bytes_agree;
	size_t header_bytes;
	/* Live pointers and whether the walk saw each inside a used block. */
	void **live;
	bool *seen;
	size_t live_count;
};

static bool record_block(void *ctx, const struct sys_heap_block *block)
{
	struct walk_record *r = ctx;
	const unsigned char *header = block->header;

	if (r->next_header != NULL && header != r->next_header) {
		r->tiles = false;
	}
	r->next_header = header + block->block_bytes;
	if (block->header_bytes != r->header_bytes) {
		r->header_bytes_agree = false;
	}
	if (block->used) {
		r->used_bytes += block->block_bytes;
	} else {
		r->free_bytes += block->block_bytes;
	}
	for (size_t i = 0; i < r->live_count; i++) {
		const unsigned char *p = r->live[i];

		if (block->used && p >= header + block->header_bytes &&
		    p < header + block->block_bytes) {
			r->seen[i] = true;
		}
	}
	r->blocks++;
	return r->stop_after == 0u || r->blocks < r->stop_after;
}

struct walk_fixture {
	struct sys_heap heap;
	unsigned char *region;
	size_t region_bytes;
};

static int setup(void **state, size_t region_bytes)
{
	struct walk_fixture *fx = calloc(1, sizeof(*fx));

	assert_non_null(fx);
	fx->region_bytes = region_bytes;
	fx->region = malloc(region_bytes);
	assert_non_null(fx->region);
	assert_int_equal(sys_heap_init(&fx->heap, fx->region, region_bytes), 0);
	*state = fx;
	return 0;
}

static int setup_small(void **state)
{
	return setup(state, SMALL_REGION_BYTES);
}

static int setup_big(void **state)
{
	return setup(state, BIG_REGION_BYTES);
}

static int teardown(void **state)
{
	struct walk_fixture *fx = *state;

	/* Some tests end with blocks still allocated: the heap goes with
	 * its region (memcheck would report them as leaks). */
	test_meta_release(fx->region, fx->region_bytes);
	free(fx->region);
	free(fx);
	return 0;
}

/* Blocks tile the heap from the first header to the sentinel; used and
 * free bytes match the runtime stats; every live pointer lies in a used
 * block's memory. */
static void test_walk_tiles_and_agrees_with_stats(void **state)
{
	struct walk_fixture *fx = *state;
	void *live[LIVE_BLOCKS];
	bool seen[LIVE_BLOCKS] = {false};
	size_t kept = 0;

	for (size_t i = 0; i < LIVE_BLOCKS; i++) {
		void *p = sys_heap_aligned_alloc(
			&fx->heap, i % 3 == 0 ? 64u : 0u, 24u + 40u * i);

		assert_non_null(p);
		/* Free every third block so that the walk sees free blocks
		 * between used ones. */
		if (i % 3 == 1) {
			sys_heap_free(&fx->heap, p);
		} else {
			live[kept++] = p;
		}
	}
	struct walk_record r = {
		.tiles = true,
		.header_bytes_agree = true,
		.header_bytes = sys_heap_header_bytes(&fx->heap),
		.live = live,
		.seen = seen,
		.live_count = kept,
	};
	struct sys_memory_stats stats;

	assert_int_equal(sys_heap_walk(&fx->heap, record_block, &r), 0);
	assert_int_equal(sys_heap_runtime_stats_get(&fx->heap, &stats), 0);
	assert_true(r.tiles);
	assert_true(r.header_bytes_agree);
	assert_int_equal(r.used_bytes, stats.allocated_bytes);
	assert_int_equal(r.free_bytes, stats.free_bytes);
	/* The last block ends at the sentinel's header, inside the region
	 * and at most a header plus 7 bytes of slack before its end. */
	assert_true(r.next_header > fx->region &&
		    r.next_header + r.header_bytes <=
			    fx->region + fx->region_bytes &&
		    r.next_header + r.header_bytes + 7u >=
			    fx->region + fx->region_bytes);
	for (size_t i = 0; i < kept; i++) {
		assert_true(seen[i]);
	}
	assert_true(r.blocks >= kept + 1u);
}

/* fn returning false stops the walk right there. */
static void test_walk_stops_when_asked(void **state)
{
	struct walk_fixture *fx = *state;

	for (int i = 0; i < 6; i++) {
		assert_non_null(sys_heap_alloc(&fx->heap, 100));
	}
	struct walk_record r = {.tiles = true, .stop_after = 3u};

	r.header_bytes = sys_heap_header_bytes(&fx->heap);
	r.header_bytes_agree = true;
	assert_int_equal(sys_heap_walk(&fx->heap, record_block, &r), 0);
	assert_int_equal(r.blocks, 3);
}

/* A zero size in a header stops the walk with -EFAULT instead of looping
 * forever; the heap is left as it was. */
static void test_walk_stops_on_corrupt_size(void **state)
{
	struct walk_fixture *fx = *state;
	unsigned char *a = sys_heap_alloc(&fx->heap, 40);
	unsigned char *b = sys_heap_alloc(&fx->heap, 40);
	size_t header = sys_heap_header_bytes(&fx->heap);
	/* b's size-and-used field is the second half of its header. */
	unsigned char *size_field = b - header / 2u;
	unsigned char saved[8];
	const unsigned char zero[8] = {0};

	assert_non_null(a);
	assert_non_null(b);
	test_meta_read(saved, size_field, header / 2u);
	test_meta_write(size_field, zero, header / 2u);

	struct walk_record r = {.tiles = true, .header_bytes = header};

	assert_int_equal(sys_heap_walk(&fx->heap, record_block, &r), -14);
	assert_int_equal(r.blocks, 1); /* a, then the corrupt b */
	test_meta_write(size_field, saved, header / 2u);
	assert_true(sys_heap_validate(&fx->heap));
}

static bool never_called(void *ctx, const struct sys_heap_block *block)
{
	(void)ctx;
	(void)block;
	fail_msg("walk called fn on a refused heap");
	return false;
}

static void test_walk_refuses_bad_arguments(void **state)
{
	struct walk_fixture *fx = *state;
	struct sys_heap uninit = {NULL};

	assert_int_equal(sys_heap_walk(&fx->heap, NULL, NULL), -22);
	assert_int_equal(sys_heap_walk(&uninit, never_called, NULL), -22);
	assert_int_equal(sys_heap_walk(NULL, never_called, NULL), -22);
}

#define WALK_TESTS(setup_fn)                                                   \
	cmocka_unit_test_setup_teardown(test_walk_tiles_and_agrees_with_stats, \
					setup_fn, teardown),                   \
		cmocka_unit_test_setup_teardown(test_walk_stops_when_asked,    \
						setup_fn, teardown),           \
		cmocka_unit_test_setup_teardown(                               \
			test_walk_stops_on_corrupt_size, setup_fn, teardown),  \
		cmocka_unit_test_setup_teardown(                               \
			test_walk_refuses_bad_arguments, setup_fn, teardown)

int main(void)
{
	const struct CMUnitTest small_tests[] = {WALK_TESTS(setup_small)};
	const struct CMUnitTest big_tests[] = {WALK_TESTS(setup_big)};
	int failed = 0;

	failed += cmocka_run_group_tests_name("walk, 4-byte headers",
					      small_tests, NULL, NULL);
	failed += cmocka_run_group_tests_name("walk, 8-byte headers", big_tests,
					      NULL, NULL);
	return failed == 0 ? 0 : 1;
}
