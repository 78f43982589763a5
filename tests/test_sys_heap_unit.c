/* SPDX-License-Identifier: Apache-2.0 */
/*
 * sys_heap unit tests: one test per contract item of
 * core/include/zephyr/sys/sys_heap.h and heap_listener.h.
 *
 * Tests that depend on the header format run twice: over a 32 KiB region
 * (4-byte headers) and over a 1 MiB region (8-byte headers). Tests of
 * things that have no format (argument checks, the cutover itself, the
 * software clz) run once, in the "common" group.
 *
 * Usage: test_sys_heap_unit [test-name-pattern]   (CMocka filter, '*' ok)
 * KHEAP_SEED=<n> fixes the seed of the randomized tests.
 *
 * The same file runs on the Cortex-M targets (target/, with cmocka_lite).
 * A target with little RAM builds it with a smaller small-format region
 * (KHEAP_TEST_SMALL_REGION_BYTES), without regions above
 * SYS_HEAP_SMALL_REGION_MAX_BYTES (KHEAP_TEST_BIG_REGIONS=0: no big-format
 * group, the cutover test is skipped) and a smaller print capture
 * (KHEAP_TEST_PRINT_CAPTURE_BYTES). Sizes chosen for 32 KiB are scaled
 * down to a smaller region by fit_bytes(); on the host nothing changes.
 */
#include "test_fixture.h"
#include "test_heap_support.h"

#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <kheap/config.h>
#include <zephyr/sys/heap_listener.h>
#include <zephyr/sys/sys_heap.h>

/* --- the heap under test ----------------------------------------------- */

#ifndef KHEAP_TEST_SMALL_REGION_BYTES
#define KHEAP_TEST_SMALL_REGION_BYTES (32u * 1024u)
#define KHEAP_TEST_SMALL_REGION_NAME "32 KiB"
#endif
#ifndef KHEAP_TEST_SMALL_REGION_NAME
#define KHEAP_TEST_SMALL_REGION_NAME "reduced"
#endif
#ifndef KHEAP_TEST_BIG_REGIONS
#define KHEAP_TEST_BIG_REGIONS 1
#endif
#ifndef KHEAP_TEST_PRINT_CAPTURE_BYTES
#define KHEAP_TEST_PRINT_CAPTURE_BYTES (1u << 18)
#endif

/* The region size the fixed sizes in these tests were chosen for. */
#define SIZED_FOR_REGION_BYTES (32u * 1024u)

static const struct heap_format small_format =
	HEAP_FORMAT_SMALL("sys_heap", KHEAP_TEST_SMALL_REGION_NAME,
			  KHEAP_TEST_SMALL_REGION_BYTES);

static const struct heap_format big_format = HEAP_FORMAT_BIG("sys_heap");

/* The format of the group being run. */
static const struct heap_format *format;

static struct heap_fixture fx;

static int fixture_setup(void **state)
{
	(void)state;
	heap_fixture_setup(&fx, format);
	return 0;
}

static void listeners_unregister_all(void);

static int fixture_teardown(void **state)
{
	(void)state;
	listeners_unregister_all();
	sys_heap_output_set(NULL, NULL);
	heap_fixture_teardown(&fx);
	return 0;
}

/* --- helpers ----------------------------------------------------------- */

/* A size chosen for a 32 KiB region, scaled down in proportion for a
 * smaller one (never below 1); unchanged for 32 KiB and more. */
static size_t fit_bytes(size_t bytes)
{
	size_t scaled;

	if (fx.region_bytes >= SIZED_FOR_REGION_BYTES) {
		return bytes;
	}
	scaled = bytes / (SIZED_FOR_REGION_BYTES / fx.region_bytes);
	return scaled != 0u ? scaled : 1u;
}

/* Capacity for a list of blocks: cap, or as many 8-byte blocks as the
 * region can hold if that is fewer. */
static size_t block_capacity(size_t region_bytes, size_t cap)
{
	size_t most = region_bytes / SYS_HEAP_CHUNK_BYTES;

	return most < cap ? most : cap;
}

static void check_valid(void)
{
	assert_true(sys_heap_validate(&fx.heap));
}

static struct sys_memory_stats stats_now(void)
{
	struct sys_memory_stats stats;

	assert_int_equal(sys_heap_runtime_stats_get(&fx.heap, &stats), 0);
	return stats;
}

/* Check a block the heap just returned: non-NULL, inside the region,
 * aligned, large enough. */
static void check_block(const void *mem, size_t bytes, size_t align)
{
	assert_non_null(mem);
	test_assert_block_in_region(&fx.heap, mem, bytes, fx.region,
				    fx.region_bytes);
	if (!test_pointer_honours_align(mem, align)) {
		fail_msg("block %p does not honour align %#zx", mem, align);
	}
}

/* check_block(), then fill the whole usable size with the tokens of id. */
static void accept_block(void *mem, size_t bytes, size_t align, uint32_t id)
{
	check_block(mem, bytes, align);
	test_token_fill(mem, sys_heap_usable_size(&fx.heap, mem), id);
}

static void *alloc_ok(size_t bytes, uint32_t id)
{
	void *mem = sys_heap_alloc(&fx.heap, bytes);

	accept_block(mem, bytes, 0u, id);
	check_valid();
	return mem;
}

static void *aligned_alloc_ok(size_t align, size_t bytes, uint32_t id)
{
	void *mem = sys_heap_aligned_alloc(&fx.heap, align, bytes);

	if (mem == NULL) {
		fail_msg("aligned_alloc(align %#zx, %zu bytes) failed", align,
			 bytes);
	}
	accept_block(mem, bytes, align, id);
	check_valid();
	return mem;
}

static void assert_tokens(const void *mem, size_t bytes, uint32_t id)
{
	size_t bad = test_token_check(mem, bytes, id);

	if (bad != SIZE_MAX) {
		fail_msg("block %p (id %u): byte %zu of %zu overwritten", mem,
			 (unsigned int)id, bad, bytes);
	}
}

static void assert_tokens_moved(const void *mem, size_t bytes, uint32_t id,
				const void *old_mem)
{
	size_t bad = test_token_check_moved(mem, bytes, id, old_mem);

	if (bad != SIZE_MAX) {
		fail_msg("block %p (id %u, was %p): byte %zu of %zu lost", mem,
			 (unsigned int)id, old_mem, bad, bytes);
	}
}

/* Check the block's tokens over its whole usable size, then free it. */
static void free_checked(void *mem, uint32_t id)
{
	assert_tokens(mem, sys_heap_usable_size(&fx.heap, mem), id);
	sys_heap_free(&fx.heap, mem);
	check_valid();
}

/* Stats against a recount over the given live blocks. */
static void assert_stats_match(void *const *live, size_t count)
{
	struct sys_memory_stats stats = stats_now();
	size_t allocated_bytes = 0;

	for (size_t i = 0; i < count; i++) {
		if (live[i] != NULL) {
			allocated_bytes += test_block_bytes(&fx.heap, live[i]);
		}
	}
	assert_int_equal(stats.allocated_bytes, allocated_bytes);
	assert_int_equal(stats.free_bytes + stats.allocated_bytes,
			 fx.initial.free_bytes + fx.initial.allocated_bytes);
	assert_true(stats.max_allocated_bytes >= stats.allocated_bytes);
}

/* Everything freed: the heap is exactly as large as after init, and one
 * block of the largest size fits again (and one byte more does not). */
static void assert_heap_back_to_initial(void)
{
	struct sys_memory_stats stats = stats_now();

	check_valid();
	assert_int_equal(stats.allocated_bytes, 0);
	assert_int_equal(stats.free_bytes, fx.initial.free_bytes);
	assert_int_equal(sys_heap_max_alloc_bytes(&fx.heap),
			 fx.initial_max_alloc_bytes);
	assert_null(sys_heap_alloc(&fx.heap, fx.initial_max_alloc_bytes + 1u));

	void *whole = sys_heap_alloc(&fx.heap, fx.initial_max_alloc_bytes);

	check_block(whole, fx.initial_max_alloc_bytes, 0u);
	assert_int_equal(sys_heap_max_alloc_bytes(&fx.heap), 0);
	sys_heap_free(&fx.heap, whole);
	check_valid();
}

/* sys_heap_alloc() until it fails, blocks of block_bytes; returns the
 * count and fills blocks[] (capacity max_blocks, which must not be hit). */
static size_t fill_heap(void **blocks, size_t max_blocks, size_t block_bytes,
			bool validate_each)
{
	size_t count = 0;

	for (;;) {
		void *mem = sys_heap_alloc(&fx.heap, block_bytes);

		if (mem == NULL) {
			break;
		}
		assert_true(count < max_blocks);
		accept_block(mem, block_bytes, 0u, (uint32_t)count);
		if (validate_each) {
			check_valid();
		}
		blocks[count++] = mem;
	}
	check_valid();
	return count;
}

static const size_t bad_sizes_fixed[] = {
	SIZE_MAX,
	SIZE_MAX - 1u,
	SIZE_MAX - 2u,
	SIZE_MAX - 3u,
	SIZE_MAX - 4u,
	SIZE_MAX - 5u,
	SIZE_MAX - 6u,
	SIZE_MAX - 7u,
	SIZE_MAX - 8u,
	SIZE_MAX - 9u,
	SIZE_MAX - 10u,
	SIZE_MAX - 11u,
	SIZE_MAX - 12u,
	SIZE_MAX - 13u,
	SIZE_MAX - 14u,
	SIZE_MAX - 15u,
	SIZE_MAX - 16u,
	(size_t)PTRDIFF_MAX,
	(size_t)PTRDIFF_MAX + 1u,
};

/* --- init -------------------------------------------------------------- */

static void test_init_succeeds_with_expected_format(void **state)
{
	(void)state;
	/* fixture_setup did the init; check what it produced. */
	assert_int_equal(sys_heap_header_bytes(&fx.heap), format->header_bytes);
	assert_int_equal(fx.initial.allocated_bytes, 0);
	assert_int_equal(fx.initial.max_allocated_bytes, 0);
	assert_true(fx.initial.free_bytes > 0u);
	assert_true(fx.initial.free_bytes < fx.region_bytes);
	/* The control block is small next to the region. */
	assert_true(fx.initial.free_bytes >= fx.region_bytes - 1024u);
	assert_true(fx.initial_max_alloc_bytes > 0u);
	assert_true(fx.initial_max_alloc_bytes < fx.initial.free_bytes);
	assert_true(fx.initial_max_alloc_bytes + format->header_bytes <=
		    fx.initial.free_bytes);
	assert_heap_back_to_initial();
}

static void test_init_rejects_null_arguments(void **state)
{
	uint64_t region[64];
	struct sys_heap heap;

	(void)state;
	assert_int_equal(sys_heap_init(NULL, region, sizeof(region)), -EINVAL);

	memset(&heap, 0xa5, sizeof(heap));
	assert_int_equal(sys_heap_init(&heap, NULL, sizeof(region)), -EINVAL);
	/* Left as an empty heap: every allocation fails, nothing else
	 * breaks. */
	assert_null(sys_heap_alloc(&heap, 1));
	assert_null(sys_heap_aligned_alloc(&heap, 64, 1));
	assert_null(sys_heap_noalign_alloc(&heap, 8, 1));
	assert_null(sys_heap_realloc(&heap, NULL, 1));
	assert_int_equal(sys_heap_header_bytes(&heap), 0);
	assert_int_equal(sys_heap_max_alloc_bytes(&heap), 0);
	sys_heap_free(&heap, NULL);
}

/* Sizes below the minimum at an 8-aligned address (every one of them and
 * the minimum itself: test_sys_heap_sizing.c). */
static void test_init_rejects_region_below_minimum(void **state)
{
	uint8_t *region = malloc(Z_HEAP_MIN_SIZE);
	static const size_t too_small[] = {0, 1, 8, Z_HEAP_MIN_SIZE / 2u,
					   Z_HEAP_MIN_SIZE - 1u};
	struct sys_heap heap;
	struct sys_memory_stats stats;

	(void)state;
	assert_non_null(region);
	for (size_t i = 0; i < sizeof(too_small) / sizeof(too_small[0]); i++) {
		memset(&heap, 0x5a, sizeof(heap));
		assert_int_equal(sys_heap_init(&heap, region, too_small[i]),
				 -EINVAL);
		assert_null(sys_heap_alloc(&heap, 1));
		assert_null(sys_heap_aligned_alloc(&heap, 16, 1));
		assert_null(sys_heap_realloc(&heap, NULL, 1));
		assert_int_equal(sys_heap_header_bytes(&heap), 0);
		assert_int_equal(sys_heap_runtime_stats_get(&heap, &stats),
				 -EINVAL);
	}
	/* The minimum itself is accepted. */
	assert_int_equal(sys_heap_init(&heap, region, Z_HEAP_MIN_SIZE), 0);
	assert_true(sys_heap_validate(&heap));
	free(region);
}

static void test_init_rejects_region_above_maximum_or_wrapping(void **state)
{
	uint64_t region[32];
	struct sys_heap heap;

	(void)state;
	/* Only the arguments are looked at: nothing may be written. */
	if ((uint64_t)SIZE_MAX > SYS_HEAP_MAX_REGION_BYTES) {
		size_t too_big = (size_t)SYS_HEAP_MAX_REGION_BYTES + 1u;

		assert_int_equal(sys_heap_init(&heap, region, too_big),
				 -EINVAL);
		assert_null(sys_heap_alloc(&heap, 1));
		assert_int_equal(sys_heap_init(&heap, region, SIZE_MAX),
				 -EINVAL);
		assert_null(sys_heap_alloc(&heap, 1));
	}
	/* mem + bytes past the top of the address space. */
	void *near_top = (void *)(UINTPTR_MAX - 4095u);

	assert_int_equal(sys_heap_init(&heap, near_top, 8192), -EINVAL);
	assert_null(sys_heap_alloc(&heap, 1));
}

/* Any base alignment works: blocks stay inside the region and 8-byte
 * aligned, nothing around the region is touched. */
static void test_init_accepts_every_base_offset(void **state)
{
	const size_t guard_bytes = 64u;
	const size_t region_bytes = format->region_bytes;
	const size_t buffer_bytes = region_bytes + 8u + 2u * guard_bytes;
	const size_t max_blocks = block_capacity(region_bytes, 4096u);
	uint8_t *buffer = malloc(buffer_bytes);
	void **blocks = calloc(max_blocks, sizeof(void *));

	(void)state;
	assert_non_null(buffer);
	assert_non_null(blocks);
	for (size_t offset = 0; offset < 8u; offset++) {
		uint8_t *region = buffer + guard_bytes + offset;
		struct sys_heap heap;
		struct sys_memory_stats initial, stats;
		size_t count = 0;

		/* The previous offset's heap left part of the buffer
		 * poisoned for memory checkers. */
		test_meta_release(buffer, buffer_bytes);
		memset(buffer, 0x3c, buffer_bytes);
		assert_int_equal(sys_heap_init(&heap, region, region_bytes), 0);
		assert_int_equal(sys_heap_header_bytes(&heap),
				 format->header_bytes);
		assert_true(sys_heap_validate(&heap));
		assert_int_equal(sys_heap_runtime_stats_get(&heap, &initial),
				 0);
		/* The skipped slack is at most 7 bytes. */
		assert_true(initial.free_bytes + 7u + 1024u >= region_bytes);

		for (;;) {
			/* Sizes 1 .. region/256, about 512 blocks. */
			size_t bytes =
				1u + (count * 37u) % (region_bytes / 256u);
			void *mem = sys_heap_alloc(&heap, bytes);

			if (mem == NULL) {
				break;
			}
			assert_true(count < max_blocks);
			assert_int_equal((uintptr_t)mem % 8u, 0);
			test_assert_block_in_region(&heap, mem, bytes, region,
						    region_bytes);
			test_token_fill(mem, sys_heap_usable_size(&heap, mem),
					(uint32_t)count);
			blocks[count++] = mem;
		}
		assert_true(count > 16u);
		assert_true(sys_heap_validate(&heap));
		for (size_t i = 0; i < count; i++) {
			size_t usable = sys_heap_usable_size(&heap, blocks[i]);

			assert_int_equal(test_token_check(blocks[i], usable,
							  (uint32_t)i),
					 SIZE_MAX);
			sys_heap_free(&heap, blocks[i]);
		}
		assert_true(sys_heap_validate(&heap));
		assert_int_equal(sys_heap_runtime_stats_get(&heap, &stats), 0);
		assert_int_equal(stats.free_bytes, initial.free_bytes);
		assert_int_equal(stats.allocated_bytes, 0);

		/* Guards on both sides untouched. */
		for (size_t i = 0; i < guard_bytes + offset; i++) {
			assert_int_equal(buffer[i], 0x3c);
		}
		for (size_t i = guard_bytes + offset + region_bytes;
		     i < buffer_bytes; i++) {
			assert_int_equal(buffer[i], 0x3c);
		}
	}
	free(blocks);
	free(buffer);
}

/* Header format: 4 bytes up to SYS_HEAP_SMALL_REGION_MAX_BYTES, 8 above,
 * decided by the byte count alone. */
static void test_header_cutover_is_exact(void **state)
{
	const size_t small_max = SYS_HEAP_SMALL_REGION_MAX_BYTES;
	struct sys_heap heap;
	void *mem;

	(void)state;
	if (!KHEAP_TEST_BIG_REGIONS) {
		/* No room for a region of 256 KiB + 1 (the micro:bit has
		 * 16 KiB of RAM). */
		skip();
	}
	uint8_t *region = malloc(small_max + 1u);

	assert_int_equal(small_max, 262144u);
	assert_non_null(region);

	assert_int_equal(sys_heap_init(&heap, region, small_max), 0);
	assert_int_equal(sys_heap_header_bytes(&heap), 4);
	assert_true(sys_heap_validate(&heap));
	mem = sys_heap_alloc(&heap, 1);
	assert_non_null(mem);
	assert_int_equal(sys_heap_usable_size(&heap, mem), 4);
	/* The largest block of the largest small heap is usable. */
	sys_heap_free(&heap, mem);
	mem = sys_heap_alloc(&heap, sys_heap_max_alloc_bytes(&heap));
	assert_non_null(mem);
	test_assert_block_in_region(&heap, mem, 1, region, small_max);
	sys_heap_free(&heap, mem);
	assert_true(sys_heap_validate(&heap));

	assert_int_equal(sys_heap_init(&heap, region, small_max + 1u), 0);
	assert_int_equal(sys_heap_header_bytes(&heap), 8);
	assert_true(sys_heap_validate(&heap));
	mem = sys_heap_alloc(&heap, 1);
	assert_non_null(mem);
	assert_int_equal(sys_heap_usable_size(&heap, mem), 8);
	sys_heap_free(&heap, mem);
	mem = sys_heap_alloc(&heap, sys_heap_max_alloc_bytes(&heap));
	assert_non_null(mem);
	test_assert_block_in_region(&heap, mem, 1, region, small_max + 1u);
	sys_heap_free(&heap, mem);
	assert_true(sys_heap_validate(&heap));

	/* An uninitialised handle has no format. */
	struct sys_heap none = {.heap = NULL};

	assert_int_equal(sys_heap_header_bytes(&none), 0);
	free(region);
}

static void test_handle_copy_is_the_same_heap(void **state)
{
	struct sys_heap copy = fx.heap;
	void *mem;

	(void)state;
	mem = sys_heap_alloc(&copy, 100);
	accept_block(mem, 100, 0, 1);
	assert_int_equal(sys_heap_usable_size(&fx.heap, mem),
			 sys_heap_usable_size(&copy, mem));
	free_checked(mem, 1);
	assert_heap_back_to_initial();
}

/* --- alloc / free ------------------------------------------------------ */

static void test_alloc_zero_returns_null(void **state)
{
	struct region_snapshot snap;

	(void)state;
	region_snapshot_take(&snap, fx.region, fx.region_bytes);
	assert_null(sys_heap_alloc(&fx.heap, 0));
	assert_null(sys_heap_aligned_alloc(&fx.heap, 0, 0));
	assert_null(sys_heap_aligned_alloc(&fx.heap, 64, 0));
	assert_null(sys_heap_noalign_alloc(&fx.heap, 8, 0));
	region_snapshot_assert_same(&snap, "alloc(0)");
	region_snapshot_release(&snap);
}

static void test_free_null_is_noop(void **state)
{
	struct region_snapshot snap;
	void *mem = alloc_ok(32, 1);

	(void)state;
	region_snapshot_take(&snap, fx.region, fx.region_bytes);
	sys_heap_free(&fx.heap, NULL);
	region_snapshot_assert_same(&snap, "free(NULL)");
	region_snapshot_release(&snap);
	free_checked(mem, 1);
	assert_heap_back_to_initial();
}

static void test_usable_size_of_null_is_zero(void **state)
{
	(void)state;
	assert_int_equal(sys_heap_usable_size(&fx.heap, NULL), 0);
}

/* On a fresh heap, a request of n bytes takes round_up_8(n + header)
 * bytes: the smallest block is 8 bytes (4 usable) with 4-byte headers and
 * 16 (8 usable) with 8-byte headers. */
static void test_block_size_is_request_plus_header_rounded_to_8(void **state)
{
	const size_t header = format->header_bytes;

	(void)state;
	for (size_t bytes = 1; bytes <= 200u; bytes++) {
		void *mem = alloc_ok(bytes, (uint32_t)bytes);
		struct sys_memory_stats stats = stats_now();
		size_t expect_usable = test_round_up_8(bytes + header) - header;

		assert_int_equal(sys_heap_usable_size(&fx.heap, mem),
				 expect_usable);
		assert_int_equal(stats.allocated_bytes,
				 test_round_up_8(bytes + header));
		free_checked(mem, (uint32_t)bytes);
	}
	void *smallest = alloc_ok(1, 0);

	assert_int_equal(sys_heap_usable_size(&fx.heap, smallest),
			 header == 4u ? 4u : 8u);
	free_checked(smallest, 0);
	assert_heap_back_to_initial();
}

/* Fill the heap with N equal blocks, free all (every other one first, to
 * exercise coalescing on both sides), and exactly N fit again. */
static void test_blocks_reusable_after_free(void **state)
{
	const size_t block_bytes = fx.region_bytes / 1024u;
	const size_t max_blocks = block_capacity(fx.region_bytes, 2048u);
	void **blocks = calloc(max_blocks, sizeof(void *));
	/* At least three quarters of what the region could hold. */
	const size_t expected =
		fx.region_bytes /
		test_round_up_8(block_bytes + format->header_bytes) * 3u / 4u;
	size_t count, again;

	(void)state;
	assert_non_null(blocks);
	count = fill_heap(blocks, max_blocks, block_bytes, true);
	assert_true(count > expected);
	assert_stats_match(blocks, count);
	for (size_t i = 0; i < count; i += 2u) {
		free_checked(blocks[i], (uint32_t)i);
	}
	for (size_t i = 1; i < count; i += 2u) {
		free_checked(blocks[i], (uint32_t)i);
	}
	assert_heap_back_to_initial();

	again = fill_heap(blocks, max_blocks, block_bytes, false);
	assert_int_equal(again, count);
	for (size_t i = again; i-- > 0;) {
		free_checked(blocks[i], (uint32_t)i);
	}
	assert_heap_back_to_initial();
	free(blocks);
}

/* Random sizes until the heap is full: every block 8-byte aligned,
 * inside the region, not overlapping any other (tokens intact). */
static void test_blocks_aligned_inside_region_and_disjoint(void **state)
{
	struct test_rng rng;
	const size_t max_blocks = block_capacity(fx.region_bytes, 4096u);
	void **blocks = calloc(max_blocks, sizeof(void *));
	size_t count = 0;
	unsigned int failures = 0;

	(void)state;
	assert_non_null(blocks);
	test_rng_seed(&rng, test_seed());
	while (failures < 16u && count < max_blocks) {
		size_t bytes = (size_t)test_rng_log_uniform(
			&rng, fx.region_bytes / 64u);
		void *mem = sys_heap_alloc(&fx.heap, bytes);

		if (mem == NULL) {
			failures++;
			continue;
		}
		accept_block(mem, bytes, 0, (uint32_t)count);
		assert_int_equal((uintptr_t)mem % 8u, 0);
		blocks[count++] = mem;
	}
	check_valid();
	assert_stats_match(blocks, count);
	for (size_t i = 0; i < count; i++) {
		free_checked(blocks[i], (uint32_t)i);
	}
	assert_heap_back_to_initial();
	free(blocks);
}

static void test_usable_size_at_least_requested(void **state)
{
	void *blocks[64];
	size_t count = 0;

	(void)state;
	for (size_t bytes = 1; count < 64u; bytes = bytes * 3u / 2u + 1u) {
		blocks[count] = alloc_ok(bytes, (uint32_t)count);
		assert_true(sys_heap_usable_size(&fx.heap, blocks[count]) >=
			    bytes);
		/* Never more than a chunk of slack on a roomy heap. */
		assert_true(sys_heap_usable_size(&fx.heap, blocks[count]) <
			    bytes + 8u);
		count++;
		if (bytes > fx.region_bytes / 256u) {
			break;
		}
	}
	for (size_t i = 0; i < count; i++) {
		free_checked(blocks[i], (uint32_t)i);
	}
	assert_heap_back_to_initial();
}

/* noalign_alloc ignores its align argument entirely, even invalid ones. */
static void test_noalign_alloc_ignores_align(void **state)
{
	static const size_t aligns[] = {0, 1, 7, 64, 4096, SIZE_MAX};
	void *blocks[6];

	(void)state;
	for (size_t i = 0; i < 6u; i++) {
		blocks[i] = sys_heap_noalign_alloc(&fx.heap, aligns[i], 40);
		accept_block(blocks[i], 40, 0, (uint32_t)i);
		assert_int_equal(sys_heap_usable_size(&fx.heap, blocks[i]),
				 test_round_up_8(40u + format->header_bytes) -
					 format->header_bytes);
		check_valid();
	}
	assert_stats_match(blocks, 6);
	for (size_t i = 0; i < 6u; i++) {
		free_checked(blocks[i], (uint32_t)i);
	}
	assert_null(sys_heap_noalign_alloc(&fx.heap, 8, 0));
	assert_heap_back_to_initial();
}

/* --- aligned alloc ----------------------------------------------------- */

/*
 * Every power-of-two alignment up to the region size x several sizes x
 * several prefix states (0..4 small blocks allocated first, so the free
 * block starts at different offsets). Where a placement must exist it
 * succeeds; the padding goes back to the heap (stats match a recount of
 * the live blocks), and after freeing everything the heap is whole again.
 */
static void test_aligned_alloc_sweep(void **state)
{
	static const size_t sizes[] = {1, 7, 8, 13, 64, 100, 1000};
	static const size_t prefix_sizes[] = {1, 5, 13, 29};

	(void)state;
	for (size_t prefix_count = 0; prefix_count <= 4u; prefix_count++) {
		for (size_t align = 1; align <= fx.region_bytes; align <<= 1) {
			for (size_t s = 0; s < sizeof(sizes) / sizeof(sizes[0]);
			     s++) {
				void *live[5] = {NULL};
				size_t bytes = sizes[s];

				for (size_t i = 0; i < prefix_count; i++) {
					live[i] = alloc_ok(prefix_sizes[i],
							   (uint32_t)i);
				}

				size_t room =
					sys_heap_max_alloc_bytes(&fx.heap);
				bool must_fit = 2u * align + bytes + 64u <=
						room;
				struct region_snapshot snap = {0};

				/* Only a request that may fail needs the
				 * (costly) snapshot. */
				if (!must_fit) {
					region_snapshot_take(&snap, fx.region,
							     fx.region_bytes);
				}
				void *mem = sys_heap_aligned_alloc(
					&fx.heap, align, bytes);

				if (mem == NULL) {
					if (must_fit) {
						fail_msg(
							"aligned_alloc(%zu, %zu) "
							"failed with %zu "
							"bytes free after %zu "
							"prefix blocks",
							align, bytes, room,
							prefix_count);
					}
					region_snapshot_assert_same(
						&snap, "failed aligned_alloc");
					check_valid();
				} else {
					accept_block(mem, bytes, align, 99);
					check_valid();
					live[prefix_count] = mem;
					assert_stats_match(live, 5);
					free_checked(mem, 99);
				}
				region_snapshot_release(&snap);
				for (size_t i = 0; i < prefix_count; i++) {
					free_checked(live[i], (uint32_t)i);
				}
				assert_heap_back_to_initial();
			}
		}
	}
}

/* Zephyr's rewind form A | R: (p + R) % A == 0, for every pair of powers
 * of two R < A up to 4096, with and without a prefix block. */
static void test_aligned_alloc_rewind_form(void **state)
{
	static const size_t sizes[] = {1, 24, 100};
	const size_t max_align = fit_bytes(4096u);

	(void)state;
	for (size_t a = 2; a <= max_align; a <<= 1) {
		for (size_t r = 1; r < a; r <<= 1) {
			for (size_t s = 0; s < 3u; s++) {
				void *prefix = (a + r) % 3u == 0u
						       ? alloc_ok(12, 7)
						       : NULL;
				void *mem = aligned_alloc_ok(a | r, sizes[s],
							     (uint32_t)a);

				assert_int_equal(((uintptr_t)mem + r) % a, 0);
				void *live[2] = {prefix, mem};

				assert_stats_match(live, 2);
				free_checked(mem, (uint32_t)a);
				if (prefix != NULL) {
					free_checked(prefix, 7);
				}
				assert_heap_back_to_initial();
			}
		}
	}
	/* The two examples of the brief, spelled out. */
	void *p16_4 = aligned_alloc_ok(16u | 4u, 10, 1);
	void *p64_8 = aligned_alloc_ok(64u | 8u, 10, 2);

	assert_int_equal(((uintptr_t)p16_4 + 4u) % 16u, 0);
	assert_int_equal(((uintptr_t)p64_8 + 8u) % 64u, 0);
	free_checked(p16_4, 1);
	free_checked(p64_8, 2);
	assert_heap_back_to_initial();
}

/* align must be 0, a power of two or A | R (two bits set): anything with
 * three or more bits set is refused without touching the heap. */
static void test_aligned_alloc_invalid_align_refused(void **state)
{
	static const size_t invalid[] = {
		7,        11,
		13,       14,
		15,       28,
		0x70,     4096u | 64u | 8u,
		0x5555,   (size_t)PTRDIFF_MAX,
		SIZE_MAX,
	};
	void *live = alloc_ok(100, 1);
	struct region_snapshot snap;

	(void)state;
	region_snapshot_take(&snap, fx.region, fx.region_bytes);
	for (size_t i = 0; i < sizeof(invalid) / sizeof(invalid[0]); i++) {
		assert_null(sys_heap_aligned_alloc(&fx.heap, invalid[i], 16));
		assert_null(sys_heap_aligned_realloc(&fx.heap, NULL, invalid[i],
						     16));
		region_snapshot_assert_same(&snap, "invalid align");
	}
	region_snapshot_release(&snap);
	check_valid();
	free_checked(live, 1);
	assert_heap_back_to_initial();
}

static void test_aligned_alloc_align_larger_than_heap_refused(void **state)
{
	size_t pow2 = 1;
	struct region_snapshot snap;

	(void)state;
	while (pow2 <= fx.region_bytes) {
		pow2 <<= 1;
	}
	const size_t aligns[] = {
		pow2,
		pow2 << 1,
		pow2 | 8u,
		(SIZE_MAX >> 1) + 1u,
		((SIZE_MAX >> 1) + 1u) | 16u,
	};

	region_snapshot_take(&snap, fx.region, fx.region_bytes);
	for (size_t i = 0; i < sizeof(aligns) / sizeof(aligns[0]); i++) {
		assert_null(sys_heap_aligned_alloc(&fx.heap, aligns[i], 1));
		region_snapshot_assert_same(&snap, "align > heap");
	}
	region_snapshot_release(&snap);
	check_valid();
}

static void test_aligned_alloc_align_plus_size_overflow_refused(void **state)
{
	const size_t top_bit = (SIZE_MAX >> 1) + 1u;
	const struct {
		size_t align;
		size_t bytes;
	} cases[] = {
		{16, SIZE_MAX - 15u},        {16, SIZE_MAX - 8u},
		{4096, SIZE_MAX - 4000u},    {4096, SIZE_MAX},
		{top_bit, top_bit},          {64u | 8u, SIZE_MAX - 60u},
		{4096u | 4u, SIZE_MAX - 4u}, {8, SIZE_MAX - 3u},
	};
	struct region_snapshot snap;

	(void)state;
	region_snapshot_take(&snap, fx.region, fx.region_bytes);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		assert_null(sys_heap_aligned_alloc(&fx.heap, cases[i].align,
						   cases[i].bytes));
		region_snapshot_assert_same(&snap, "align + size overflow");
	}
	region_snapshot_release(&snap);
	check_valid();
}

/* Sizes near SIZE_MAX and PTRDIFF_MAX, the region size and the whole
 * heap + 1 through every allocating entry point: NULL, and the
 * whole region byte-identical (including a live block's contents). */
static void test_huge_sizes_refused_everywhere(void **state)
{
	const size_t count_fixed =
		sizeof(bad_sizes_fixed) / sizeof(bad_sizes_fixed[0]);
	size_t sizes[sizeof(bad_sizes_fixed) / sizeof(bad_sizes_fixed[0]) + 3];
	static const size_t aligns[] = {0, 8, 64, 4096, 16u | 4u};
	void *live = alloc_ok(100, 5);
	size_t usable = sys_heap_usable_size(&fx.heap, live);
	struct sys_memory_stats before = stats_now();
	struct region_snapshot snap;

	(void)state;
	memcpy(sizes, bad_sizes_fixed, sizeof(bad_sizes_fixed));
	sizes[count_fixed] = fx.region_bytes;
	sizes[count_fixed + 1u] = fx.region_bytes - 1u;
	/* live plus all free space is the whole heap: even in place, a
	 * realloc cannot reach one byte more than the initial maximum. */
	sizes[count_fixed + 2u] = fx.initial_max_alloc_bytes + 1u;

	region_snapshot_take(&snap, fx.region, fx.region_bytes);
	for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		size_t bytes = sizes[i];

		assert_null(sys_heap_alloc(&fx.heap, bytes));
		assert_null(sys_heap_noalign_alloc(&fx.heap, 8, bytes));
		assert_null(sys_heap_realloc(&fx.heap, NULL, bytes));
		assert_null(sys_heap_realloc(&fx.heap, live, bytes));
		for (size_t a = 0; a < sizeof(aligns) / sizeof(aligns[0]);
		     a++) {
			assert_null(sys_heap_aligned_alloc(&fx.heap, aligns[a],
							   bytes));
			assert_null(sys_heap_aligned_realloc(&fx.heap, NULL,
							     aligns[a], bytes));
			assert_null(sys_heap_aligned_realloc(&fx.heap, live,
							     aligns[a], bytes));
		}
		region_snapshot_assert_same(&snap, "huge size");
	}
	region_snapshot_release(&snap);

	struct sys_memory_stats after = stats_now();

	assert_memory_equal(&before, &after, sizeof(before));
	assert_int_equal(sys_heap_usable_size(&fx.heap, live), usable);
	check_valid();
	free_checked(live, 5);
	assert_heap_back_to_initial();
}

/* --- realloc ----------------------------------------------------------- */

static void test_realloc_null_is_alloc(void **state)
{
	void *mem;

	(void)state;
	mem = sys_heap_realloc(&fx.heap, NULL, 48);
	accept_block(mem, 48, 0, 1);
	assert_int_equal(stats_now().allocated_bytes,
			 test_block_bytes(&fx.heap, mem));
	free_checked(mem, 1);
	assert_null(sys_heap_realloc(&fx.heap, NULL, 0));
	assert_heap_back_to_initial();
}

static void test_realloc_to_zero_frees(void **state)
{
	void *mem = alloc_ok(48, 1);

	(void)state;
	assert_null(sys_heap_realloc(&fx.heap, mem, 0));
	check_valid();
	assert_heap_back_to_initial();

	mem = aligned_alloc_ok(64, 48, 2);
	assert_null(sys_heap_aligned_realloc(&fx.heap, mem, 64, 0));
	check_valid();
	assert_heap_back_to_initial();
}

/* Shrinking keeps the pointer and the data; the freed tail is a block of
 * its own that the next fitting request gets. */
static void test_realloc_shrinks_in_place(void **state)
{
	const size_t header = format->header_bytes;
	void *mem = alloc_ok(1024, 1);
	void *guard = alloc_ok(16, 2);
	size_t old_usable = sys_heap_usable_size(&fx.heap, mem);
	size_t old_block = test_block_bytes(&fx.heap, mem);
	struct sys_memory_stats before = stats_now();

	(void)state;
	/* Its own size, and one byte less, fit the block as it is. */
	assert_ptr_equal(sys_heap_realloc(&fx.heap, mem, old_usable), mem);
	assert_ptr_equal(sys_heap_realloc(&fx.heap, mem, old_usable - 1u), mem);
	assert_int_equal(sys_heap_usable_size(&fx.heap, mem), old_usable);
	assert_int_equal(stats_now().allocated_bytes, before.allocated_bytes);
	check_valid();

	void *shrunk = sys_heap_realloc(&fx.heap, mem, 16);

	assert_ptr_equal(shrunk, mem);
	check_valid();
	assert_tokens(shrunk, 16, 1);
	assert_true(sys_heap_usable_size(&fx.heap, shrunk) >= 16u);
	assert_true(sys_heap_usable_size(&fx.heap, shrunk) < 16u + 8u);

	struct sys_memory_stats after = stats_now();
	size_t new_block = test_block_bytes(&fx.heap, shrunk);

	assert_int_equal(before.allocated_bytes - after.allocated_bytes,
			 old_block - new_block);

	/* The tail between the shrunk block and the guard is reusable: a
	 * request of exactly its usable size lands in it. */
	size_t tail_usable = old_block - new_block - header;
	uint8_t *tail_lo = (uint8_t *)shrunk + new_block;
	uint8_t *tail_hi = (uint8_t *)mem + old_usable;
	void *tail = alloc_ok(tail_usable, 3);

	assert_true((uint8_t *)tail >= tail_lo && (uint8_t *)tail < tail_hi);
	assert_int_equal(sys_heap_usable_size(&fx.heap, tail), tail_usable);
	assert_tokens(shrunk, 16, 1);
	assert_tokens(guard, 16, 2);
	free_checked(tail, 3);
	free_checked(guard, 2);
	sys_heap_free(&fx.heap, shrunk);
	assert_heap_back_to_initial();
}

/* Growing into a free right neighbour keeps the pointer and the data. */
static void test_realloc_grows_in_place_into_free_neighbour(void **state)
{
	void *mem = alloc_ok(64, 1);
	void *neighbour = alloc_ok(512, 2);
	void *guard = alloc_ok(64, 3);

	(void)state;
	free_checked(neighbour, 2);
	void *grown = sys_heap_realloc(&fx.heap, mem, 64u + 400u);

	assert_ptr_equal(grown, mem);
	check_valid();
	assert_tokens(grown, 64, 1);
	assert_true(sys_heap_usable_size(&fx.heap, grown) >= 464u);
	assert_tokens(guard, 64, 3);
	void *live[2] = {grown, guard};

	assert_stats_match(live, 2);

	/* Exactly all of the neighbour: still in place. */
	size_t all = (size_t)((uint8_t *)guard - (uint8_t *)mem) -
		     format->header_bytes;
	grown = sys_heap_realloc(&fx.heap, mem, all);
	assert_ptr_equal(grown, mem);
	assert_int_equal(sys_heap_usable_size(&fx.heap, grown), all);
	assert_tokens(grown, 64, 1);
	check_valid();
	assert_stats_match(live, 2);

	free_checked(guard, 3);
	sys_heap_free(&fx.heap, grown);
	assert_heap_back_to_initial();
}

/* The first block of a fresh heap can grow in place to the whole heap,
 * and not one byte further. */
static void test_realloc_grows_in_place_to_whole_heap(void **state)
{
	void *mem = alloc_ok(64, 1);
	struct region_snapshot snap;

	(void)state;
	void *grown =
		sys_heap_realloc(&fx.heap, mem, fx.initial_max_alloc_bytes);

	assert_ptr_equal(grown, mem);
	assert_tokens(grown, 64, 1);
	check_valid();
	assert_int_equal(stats_now().free_bytes, 0);

	region_snapshot_take(&snap, fx.region, fx.region_bytes);
	assert_null(sys_heap_realloc(&fx.heap, grown,
				     fx.initial_max_alloc_bytes + 1u));
	region_snapshot_assert_same(&snap, "realloc beyond the heap");
	region_snapshot_release(&snap);
	sys_heap_free(&fx.heap, grown);
	assert_heap_back_to_initial();
}

/* With a used right neighbour, realloc moves: data preserved, the old
 * block is freed. */
static void test_realloc_moves_when_neighbour_used(void **state)
{
	void *mem = alloc_ok(64, 1);
	void *neighbour = alloc_ok(64, 2);

	(void)state;
	void *moved = sys_heap_realloc(&fx.heap, mem, 1024);

	assert_non_null(moved);
	assert_ptr_not_equal(moved, mem);
	check_valid();
	test_assert_block_in_region(&fx.heap, moved, 1024, fx.region,
				    fx.region_bytes);
	assert_tokens_moved(moved, 64, 1, mem);
	assert_tokens(neighbour, 64, 2);
	void *live[2] = {moved, neighbour};

	assert_stats_match(live, 2);

	/* The old block is free: the heap says so. */
	fault_capture_arm();
	assert_int_equal(sys_heap_usable_size(&fx.heap, mem), 0);
	fault_capture_disarm();
	fault_capture_assert_one(&fx.heap, mem, SYS_HEAP_FAULT_NOT_ALLOCATED,
				 "usable_size");

	sys_heap_free(&fx.heap, moved);
	free_checked(neighbour, 2);
	assert_heap_back_to_initial();
}

/* A realloc that cannot be satisfied returns NULL and leaves the block
 * allocated with its contents; the heap is byte-identical. */
static void test_realloc_failure_keeps_block(void **state)
{
	void *mem = alloc_ok(100, 1);
	void *neighbour = alloc_ok(100, 2);
	size_t usable = sys_heap_usable_size(&fx.heap, mem);
	struct sys_memory_stats before = stats_now();
	struct region_snapshot snap;

	(void)state;
	/* Neither in place (the neighbour is used) nor by moving (no free
	 * block is that large). */
	size_t too_big = sys_heap_max_alloc_bytes(&fx.heap) + 1u;

	region_snapshot_take(&snap, fx.region, fx.region_bytes);
	assert_null(sys_heap_realloc(&fx.heap, mem, too_big));
	assert_null(sys_heap_aligned_realloc(&fx.heap, mem, 64, too_big));
	assert_null(
		sys_heap_realloc(&fx.heap, mem, fx.initial_max_alloc_bytes));
	assert_null(sys_heap_aligned_realloc(&fx.heap, mem, 64,
					     fx.initial_max_alloc_bytes));
	region_snapshot_assert_same(&snap, "failed realloc");
	region_snapshot_release(&snap);

	struct sys_memory_stats after = stats_now();

	assert_memory_equal(&before, &after, sizeof(before));
	assert_int_equal(sys_heap_usable_size(&fx.heap, mem), usable);
	check_valid();
	free_checked(mem, 1);
	free_checked(neighbour, 2);
	assert_heap_back_to_initial();
}

static void test_aligned_realloc_keeps_alignment(void **state)
{
	const size_t first_align = fit_bytes(512u);
	const size_t grow_align = fit_bytes(256u);
	const size_t grow_bytes = fit_bytes(1000u);
	const size_t big_align = fit_bytes(4096u);
	const size_t kept = fit_bytes(50u);
	void *neighbour;
	void *mem;

	(void)state;
	mem = sys_heap_aligned_realloc(&fx.heap, NULL, first_align, 10);
	accept_block(mem, 10, first_align, 1);
	assert_int_equal((uintptr_t)mem % first_align, 0);
	neighbour = alloc_ok(32, 9);

	void *grown =
		sys_heap_aligned_realloc(&fx.heap, mem, grow_align, grow_bytes);

	check_block(grown, grow_bytes, grow_align);
	check_valid();
	assert_tokens_moved(grown, 10, 1, mem);
	assert_int_equal((uintptr_t)grown % grow_align, 0);
	test_token_fill(grown, sys_heap_usable_size(&fx.heap, grown), 2);

	void *realigned =
		sys_heap_aligned_realloc(&fx.heap, grown, big_align, kept);

	assert_non_null(realigned);
	check_valid();
	assert_int_equal((uintptr_t)realigned % big_align, 0);
	assert_tokens_moved(realigned, kept, 2, grown);
	test_token_fill(realigned, kept, 3);

	void *rewound = sys_heap_aligned_realloc(&fx.heap, realigned, 64u | 8u,
						 fit_bytes(200u));

	assert_non_null(rewound);
	check_valid();
	assert_int_equal(((uintptr_t)rewound + 8u) % 64u, 0);
	assert_tokens_moved(rewound, kept, 3, realigned);
	void *live[2] = {rewound, neighbour};

	assert_stats_match(live, 2);

	/* Already aligned: resized in place. */
	size_t usable = sys_heap_usable_size(&fx.heap, rewound);
	void *shrunk = sys_heap_aligned_realloc(&fx.heap, rewound, 64u | 8u,
						usable / 2u);

	assert_ptr_equal(shrunk, rewound);
	check_valid();
	assert_null(sys_heap_aligned_realloc(&fx.heap, shrunk, 64u | 8u, 0));
	free_checked(neighbour, 9);
	assert_heap_back_to_initial();
}

static void test_aligned_realloc_invalid_align_keeps_block(void **state)
{
	static const size_t invalid[] = {7, 13, 0x70, SIZE_MAX};
	void *mem = aligned_alloc_ok(64, 100, 1);
	struct region_snapshot snap;

	(void)state;
	region_snapshot_take(&snap, fx.region, fx.region_bytes);
	for (size_t i = 0; i < sizeof(invalid) / sizeof(invalid[0]); i++) {
		assert_null(sys_heap_aligned_realloc(&fx.heap, mem, invalid[i],
						     50));
		assert_null(sys_heap_aligned_realloc(&fx.heap, mem, invalid[i],
						     500));
		region_snapshot_assert_same(&snap, "aligned_realloc bad align");
	}
	region_snapshot_release(&snap);
	check_valid();
	free_checked(mem, 1);
	assert_heap_back_to_initial();
}

/* --- stats ------------------------------------------------------------- */

/* A random alloc/free/realloc sequence; after each step the stats equal a
 * recount of the live blocks. */
static void test_stats_match_recount(void **state)
{
	enum {
		SLOTS = 48
	};
	void *live[SLOTS] = {NULL};
	struct test_rng rng;

	(void)state;
	test_rng_seed(&rng, test_seed());
	for (unsigned int step = 0; step < 2000u; step++) {
		size_t slot = (size_t)test_rng_below(&rng, SLOTS);
		size_t bytes = (size_t)test_rng_log_uniform(
			&rng, fx.region_bytes / 64u);

		if (live[slot] == NULL) {
			live[slot] = sys_heap_alloc(&fx.heap, bytes);
		} else if (test_rng_percent(&rng, 30)) {
			void *mem =
				sys_heap_realloc(&fx.heap, live[slot], bytes);

			if (mem != NULL) {
				live[slot] = mem;
			}
		} else {
			sys_heap_free(&fx.heap, live[slot]);
			live[slot] = NULL;
		}
		check_valid();
		assert_stats_match(live, SLOTS);
	}
	for (size_t i = 0; i < SLOTS; i++) {
		sys_heap_free(&fx.heap, live[i]);
	}
	assert_heap_back_to_initial();
}

/* max_allocated_bytes is the high-water mark of allocated_bytes;
 * reset_max brings it down to the current allocated_bytes. */
static void test_stats_max_is_watermark_and_resets(void **state)
{
	struct sys_memory_stats stats;

	(void)state;
	void *a = alloc_ok(fit_bytes(1000), 1);
	void *b = alloc_ok(fit_bytes(2000), 2);
	void *c = alloc_ok(fit_bytes(500), 3);
	size_t peak = stats_now().allocated_bytes;

	stats = stats_now();
	assert_int_equal(stats.max_allocated_bytes, peak);

	free_checked(b, 2);
	stats = stats_now();
	assert_true(stats.allocated_bytes < peak);
	assert_int_equal(stats.max_allocated_bytes, peak);

	/* Smaller than the freed block: the watermark does not move. */
	b = alloc_ok(fit_bytes(100), 4);
	stats = stats_now();
	assert_int_equal(stats.max_allocated_bytes, peak);

	assert_int_equal(sys_heap_runtime_stats_reset_max(&fx.heap), 0);
	stats = stats_now();
	assert_int_equal(stats.max_allocated_bytes, stats.allocated_bytes);
	size_t low = stats.allocated_bytes;

	free_checked(c, 3);
	stats = stats_now();
	assert_int_equal(stats.max_allocated_bytes, low);

	c = alloc_ok(fit_bytes(5000), 5);
	stats = stats_now();
	assert_int_equal(stats.max_allocated_bytes, stats.allocated_bytes);
	assert_true(stats.max_allocated_bytes > low);

	/* realloc growth raises the watermark too. */
	void *grown = sys_heap_realloc(&fx.heap, c, fit_bytes(6000));

	assert_non_null(grown);
	stats = stats_now();
	assert_int_equal(stats.max_allocated_bytes, stats.allocated_bytes);

	free_checked(a, 1);
	free_checked(b, 4);
	sys_heap_free(&fx.heap, grown);
	assert_int_equal(sys_heap_runtime_stats_reset_max(&fx.heap), 0);
	stats = stats_now();
	assert_int_equal(stats.max_allocated_bytes, 0);
	assert_heap_back_to_initial();
}

static void test_stats_reject_null(void **state)
{
	uint64_t region[64];
	struct sys_heap heap;
	struct sys_heap uninitialised = {.heap = NULL};
	struct sys_memory_stats stats;

	(void)state;
	assert_int_equal(sys_heap_init(&heap, region, sizeof(region)), 0);
	assert_int_equal(sys_heap_runtime_stats_get(NULL, &stats), -EINVAL);
	assert_int_equal(sys_heap_runtime_stats_get(&heap, NULL), -EINVAL);
	assert_int_equal(sys_heap_runtime_stats_get(&uninitialised, &stats),
			 -EINVAL);
	assert_int_equal(sys_heap_runtime_stats_reset_max(NULL), -EINVAL);
	assert_int_equal(sys_heap_runtime_stats_reset_max(&uninitialised),
			 -EINVAL);
	assert_int_equal(sys_heap_runtime_stats_get(&heap, &stats), 0);
	assert_int_equal(sys_heap_runtime_stats_reset_max(&heap), 0);
}

/* --- listeners --------------------------------------------------------- */

struct heap_event {
	enum heap_event_types type;
	uintptr_t heap_id;
	void *old_mem;
	size_t old_bytes;
	void *mem;
	size_t bytes;
};

#define MAX_EVENTS 64
static struct heap_event events[MAX_EVENTS];
static size_t event_count;
static size_t foreign_event_count;

static void record_event(enum heap_event_types type, uintptr_t heap_id,
			 void *old_mem, size_t old_bytes, void *mem,
			 size_t bytes)
{
	assert_true(event_count < MAX_EVENTS);
	events[event_count++] = (struct heap_event){
		.type = type,
		.heap_id = heap_id,
		.old_mem = old_mem,
		.old_bytes = old_bytes,
		.mem = mem,
		.bytes = bytes,
	};
}

static void on_alloc(uintptr_t heap_id, void *mem, size_t bytes)
{
	record_event(HEAP_ALLOC, heap_id, NULL, 0, mem, bytes);
}

static void on_free(uintptr_t heap_id, void *mem, size_t bytes)
{
	record_event(HEAP_FREE, heap_id, NULL, 0, mem, bytes);
}

static void on_realloc(uintptr_t heap_id, void *old_mem, size_t old_bytes,
		       void *new_mem, size_t new_bytes)
{
	record_event(HEAP_REALLOC, heap_id, old_mem, old_bytes, new_mem,
		     new_bytes);
}

static void on_foreign_alloc(uintptr_t heap_id, void *mem, size_t bytes)
{
	(void)heap_id;
	(void)mem;
	(void)bytes;
	foreign_event_count++;
}

static void on_foreign_free(uintptr_t heap_id, void *mem, size_t bytes)
{
	on_foreign_alloc(heap_id, mem, bytes);
}

static void on_foreign_realloc(uintptr_t heap_id, void *old_mem,
			       size_t old_bytes, void *new_mem,
			       size_t new_bytes)
{
	(void)old_mem;
	(void)old_bytes;
	on_foreign_alloc(heap_id, new_mem, new_bytes);
}

/* Heap ids are set at run time (the heap's address). */
static HEAP_LISTENER_ALLOC_DEFINE(listener_alloc, 0, on_alloc);
static HEAP_LISTENER_FREE_DEFINE(listener_free, 0, on_free);
static HEAP_LISTENER_REALLOC_DEFINE(listener_realloc, 0, on_realloc);
static HEAP_LISTENER_ALLOC_DEFINE(listener_foreign_alloc, 0, on_foreign_alloc);
static HEAP_LISTENER_FREE_DEFINE(listener_foreign_free, 0, on_foreign_free);
static HEAP_LISTENER_REALLOC_DEFINE(listener_foreign_realloc, 0,
				    on_foreign_realloc);

static struct heap_listener *const all_listeners[] = {
	&listener_alloc,        &listener_free,
	&listener_realloc,      &listener_foreign_alloc,
	&listener_foreign_free, &listener_foreign_realloc,
};

static void listeners_unregister_all(void)
{
	for (size_t i = 0; i < sizeof(all_listeners) / sizeof(all_listeners[0]);
	     i++) {
		heap_listener_unregister(all_listeners[i]);
	}
}

static void listeners_register_for(struct sys_heap *heap,
				   struct sys_heap *foreign)
{
	listener_alloc.heap_id = HEAP_ID_FROM_POINTER(heap);
	listener_free.heap_id = HEAP_ID_FROM_POINTER(heap);
	listener_realloc.heap_id = HEAP_ID_FROM_POINTER(heap);
	listener_foreign_alloc.heap_id = HEAP_ID_FROM_POINTER(foreign);
	listener_foreign_free.heap_id = HEAP_ID_FROM_POINTER(foreign);
	listener_foreign_realloc.heap_id = HEAP_ID_FROM_POINTER(foreign);
	for (size_t i = 0; i < sizeof(all_listeners) / sizeof(all_listeners[0]);
	     i++) {
		heap_listener_register(all_listeners[i]);
	}
	event_count = 0;
	foreign_event_count = 0;
}

static void expect_event(size_t index, enum heap_event_types type,
			 void *old_mem, size_t old_bytes, void *mem,
			 size_t bytes)
{
	const uintptr_t heap_id = HEAP_ID_FROM_POINTER(&fx.heap);

	assert_true(index < event_count);
	assert_int_equal(events[index].type, type);
	assert_int_equal(events[index].heap_id, heap_id);
	assert_ptr_equal(events[index].old_mem, old_mem);
	assert_int_equal(events[index].old_bytes, old_bytes);
	assert_ptr_equal(events[index].mem, mem);
	assert_int_equal(events[index].bytes, bytes);
}

/* Every alloc, free and realloc of the heap is seen once, with the
 * pointer and the usable size; a realloc is one HEAP_REALLOC event. */
static void test_listeners_see_every_event(void **state)
{
	struct sys_heap other;
	size_t usable, old_usable;

	(void)state;
	listeners_register_for(&fx.heap, &other);

	void *a = sys_heap_alloc(&fx.heap, 100);

	assert_non_null(a);
	assert_int_equal(event_count, 1);
	expect_event(0, HEAP_ALLOC, NULL, 0, a,
		     sys_heap_usable_size(&fx.heap, a));

	void *b = sys_heap_aligned_alloc(&fx.heap, 256, 50);

	assert_non_null(b);
	assert_int_equal(event_count, 2);
	expect_event(1, HEAP_ALLOC, NULL, 0, b,
		     sys_heap_usable_size(&fx.heap, b));

	void *c = sys_heap_noalign_alloc(&fx.heap, 64, 30);

	assert_non_null(c);
	assert_int_equal(event_count, 3);
	expect_event(2, HEAP_ALLOC, NULL, 0, c,
		     sys_heap_usable_size(&fx.heap, c));

	/* realloc that moves (c's right side is the free remainder, but a's
	 * neighbour b is used): one realloc event, no alloc or free. */
	old_usable = sys_heap_usable_size(&fx.heap, a);
	void *a2 = sys_heap_realloc(&fx.heap, a, fit_bytes(2000));

	assert_non_null(a2);
	assert_int_equal(event_count, 4);
	expect_event(3, HEAP_REALLOC, a, old_usable, a2,
		     sys_heap_usable_size(&fx.heap, a2));

	/* realloc in place (shrink). */
	old_usable = sys_heap_usable_size(&fx.heap, a2);
	void *a3 = sys_heap_realloc(&fx.heap, a2, 20);

	assert_ptr_equal(a3, a2);
	assert_int_equal(event_count, 5);
	expect_event(4, HEAP_REALLOC, a2, old_usable, a3,
		     sys_heap_usable_size(&fx.heap, a3));

	/* aligned_realloc is a realloc too. */
	old_usable = sys_heap_usable_size(&fx.heap, b);
	void *b2 = sys_heap_aligned_realloc(&fx.heap, b, fit_bytes(1024),
					    fit_bytes(300));

	assert_non_null(b2);
	assert_int_equal(event_count, 6);
	expect_event(5, HEAP_REALLOC, b, old_usable, b2,
		     sys_heap_usable_size(&fx.heap, b2));

	/* realloc(NULL, n) is an alloc. */
	void *d = sys_heap_realloc(&fx.heap, NULL, 40);

	assert_non_null(d);
	assert_int_equal(event_count, 7);
	expect_event(6, HEAP_ALLOC, NULL, 0, d,
		     sys_heap_usable_size(&fx.heap, d));

	/* realloc(p, 0) is a free, with the size before. */
	usable = sys_heap_usable_size(&fx.heap, d);
	assert_null(sys_heap_realloc(&fx.heap, d, 0));
	assert_int_equal(event_count, 8);
	expect_event(7, HEAP_FREE, NULL, 0, d, usable);

	usable = sys_heap_usable_size(&fx.heap, c);
	sys_heap_free(&fx.heap, c);
	assert_int_equal(event_count, 9);
	expect_event(8, HEAP_FREE, NULL, 0, c, usable);

	/* Failed or empty calls fire nothing. */
	assert_null(sys_heap_alloc(&fx.heap, 0));
	assert_null(sys_heap_alloc(&fx.heap, SIZE_MAX));
	assert_null(sys_heap_aligned_alloc(&fx.heap, 7, 8));
	assert_null(sys_heap_realloc(&fx.heap, a3, SIZE_MAX / 2u));
	assert_null(sys_heap_realloc(&fx.heap, NULL, 0));
	sys_heap_free(&fx.heap, NULL);
	fault_capture_arm();
	sys_heap_free(&fx.heap, c);
	assert_null(sys_heap_realloc(&fx.heap, c, 10));
	fault_capture_disarm();
	assert_int_equal(fault_capture.count, 2);
	assert_int_equal(event_count, 9);

	usable = sys_heap_usable_size(&fx.heap, a3);
	sys_heap_free(&fx.heap, a3);
	expect_event(9, HEAP_FREE, NULL, 0, a3, usable);
	usable = sys_heap_usable_size(&fx.heap, b2);
	sys_heap_free(&fx.heap, b2);
	assert_int_equal(event_count, 11);
	expect_event(10, HEAP_FREE, NULL, 0, b2, usable);
	assert_int_equal(foreign_event_count, 0);
	assert_heap_back_to_initial();
}

/* A listener for another heap id sees nothing of this heap, and the other
 * heap's events reach only it. */
static void test_listeners_for_other_heap_see_nothing(void **state)
{
	uint64_t other_region[128];
	struct sys_heap other;

	(void)state;
	assert_int_equal(
		sys_heap_init(&other, other_region, sizeof(other_region)), 0);
	listeners_register_for(&fx.heap, &other);

	void *mem = alloc_ok(64, 1);

	mem = sys_heap_realloc(&fx.heap, mem, 640);
	assert_non_null(mem);
	sys_heap_free(&fx.heap, mem);
	assert_int_equal(foreign_event_count, 0);
	assert_int_equal(event_count, 3);

	void *om = sys_heap_alloc(&other, 16);

	assert_non_null(om);
	om = sys_heap_realloc(&other, om, 32);
	assert_non_null(om);
	sys_heap_free(&other, om);
	assert_int_equal(foreign_event_count, 3);
	assert_int_equal(event_count, 3);
	assert_true(sys_heap_validate(&other));
	assert_heap_back_to_initial();
}

/* Unregistered listeners see nothing; registering twice does not double
 * the events; unregistering twice is harmless. */
static void test_listeners_unregister_stops_events(void **state)
{
	struct sys_heap other;

	(void)state;
	listeners_register_for(&fx.heap, &other);
	heap_listener_register(&listener_alloc);

	void *mem = alloc_ok(64, 1);

	assert_int_equal(event_count, 1);
	listeners_unregister_all();
	listeners_unregister_all();

	mem = sys_heap_realloc(&fx.heap, mem, 128);
	assert_non_null(mem);
	sys_heap_free(&fx.heap, mem);
	mem = alloc_ok(8, 2);
	sys_heap_free(&fx.heap, mem);
	assert_int_equal(event_count, 1);

	/* Only the free listener back: only frees reported. */
	heap_listener_register(&listener_free);
	mem = alloc_ok(8, 3);
	sys_heap_free(&fx.heap, mem);
	assert_int_equal(event_count, 2);
	assert_int_equal(events[1].type, HEAP_FREE);
	assert_heap_back_to_initial();
}

/* --- print_info -------------------------------------------------------- */

struct text_capture {
	char text[KHEAP_TEST_PRINT_CAPTURE_BYTES];
	size_t length;
	size_t lines;
	size_t calls;
};

static struct text_capture captured;

static void capture_text(void *ctx, const char *text)
{
	struct text_capture *capture = ctx;
	size_t length = strlen(text);

	capture->calls++;
	for (size_t i = 0; i < length; i++) {
		if (text[i] == '\n') {
			capture->lines++;
		}
	}
	if (length > sizeof(capture->text) - 1u - capture->length) {
		length = sizeof(capture->text) - 1u - capture->length;
	}
	memcpy(capture->text + capture->length, text, length);
	capture->length += length;
	capture->text[capture->length] = '\0';
}

static void capture_reset(void)
{
	memset(&captured, 0, sizeof(captured));
}

/* Case-insensitive substring search in the captured text. */
static bool captured_mentions(const char *needle)
{
	size_t needle_length = strlen(needle);

	for (size_t i = 0; i + needle_length <= captured.length; i++) {
		size_t j = 0;

		while (j < needle_length &&
		       tolower((unsigned char)captured.text[i + j]) ==
			       tolower((unsigned char)needle[j])) {
			j++;
		}
		if (j == needle_length) {
			return true;
		}
	}
	return false;
}

/* print_info describes the heap (with its free byte count) without
 * changing it; with dump_chunks one more line per block. */
static void test_print_info_to_describes_heap(void **state)
{
	void *blocks[5];
	struct region_snapshot snap;
	char free_text[32];
	size_t summary_lines;

	(void)state;
	for (size_t i = 0; i < 5u; i++) {
		blocks[i] = alloc_ok(100u * (i + 1u), (uint32_t)i);
	}
	free_checked(blocks[1], 1);
	free_checked(blocks[3], 3);
	snprintf(free_text, sizeof(free_text), "%zu", stats_now().free_bytes);

	region_snapshot_take(&snap, fx.region, fx.region_bytes);
	capture_reset();
	sys_heap_print_info_to(&fx.heap, false, capture_text, &captured);
	assert_true(captured.length > 0u);
	assert_true(captured.lines > 0u);
	assert_true(captured_mentions("free"));
	if (!captured_mentions(free_text)) {
		fail_msg("print_info does not mention free bytes %s:\n%s",
			 free_text, captured.text);
	}
	summary_lines = captured.lines;

	capture_reset();
	sys_heap_print_info_to(&fx.heap, true, capture_text, &captured);
	assert_true(captured_mentions(free_text));
	/* 6 blocks: 3 live, 2 free holes, the free remainder. */
	assert_true(captured.lines >= summary_lines + 6u);
	region_snapshot_assert_same(&snap, "print_info");
	region_snapshot_release(&snap);

	free_checked(blocks[0], 0);
	free_checked(blocks[2], 2);
	free_checked(blocks[4], 4);
	assert_heap_back_to_initial();
}

/* print_info goes to the hook set by sys_heap_output_set, and nowhere
 * once it is cleared. */
static void test_print_info_uses_output_hook(void **state)
{
	(void)state;
	capture_reset();
	sys_heap_print_info(&fx.heap, false);
	assert_int_equal(captured.calls, 0);

	sys_heap_output_set(capture_text, &captured);
	sys_heap_print_info(&fx.heap, false);
	assert_true(captured.calls > 0u);
	assert_true(captured.length > 0u);
	assert_true(captured_mentions("free"));

	size_t calls = captured.calls;

	sys_heap_output_set(NULL, NULL);
	sys_heap_print_info(&fx.heap, true);
	assert_int_equal(captured.calls, calls);
}

/* --- validate ---------------------------------------------------------- */

/* validate never writes, on a sound heap or a corrupted one, and detects
 * a corrupted header and corrupted free-list links. */
static void test_validate_is_read_only_and_detects_corruption(void **state)
{
	struct region_snapshot snap;
	void *a = alloc_ok(40, 1);
	void *b = alloc_ok(40, 2);
	void *c = alloc_ok(40, 3);
	void *d = alloc_ok(40, 4);

	(void)state;
	free_checked(c, 3);
	region_snapshot_take(&snap, fx.region, fx.region_bytes);
	assert_true(sys_heap_validate(&fx.heap));
	region_snapshot_assert_same(&snap, "validate");
	region_snapshot_release(&snap);

	/* Overflow from a into b's header (test_meta: on purpose). */
	uint8_t *past_a = (uint8_t *)a + sys_heap_usable_size(&fx.heap, a);
	uint8_t saved = test_meta_get8(past_a);

	test_meta_set8(past_a, (uint8_t)~saved);
	region_snapshot_take(&snap, fx.region, fx.region_bytes);
	assert_false(sys_heap_validate(&fx.heap));
	region_snapshot_assert_same(&snap, "validate (corrupt header)");
	region_snapshot_release(&snap);
	test_meta_set8(past_a, saved);
	assert_true(sys_heap_validate(&fx.heap));

	/* Use after free: c's free-list links overwritten. */
	uint8_t links[8];

	test_meta_read(links, c, sizeof(links));
	test_meta_fill(c, 0xa5, sizeof(links));
	region_snapshot_take(&snap, fx.region, fx.region_bytes);
	assert_false(sys_heap_validate(&fx.heap));
	region_snapshot_assert_same(&snap, "validate (corrupt links)");
	region_snapshot_release(&snap);
	test_meta_write(c, links, sizeof(links));
	assert_true(sys_heap_validate(&fx.heap));

	free_checked(a, 1);
	free_checked(b, 2);
	free_checked(d, 4);
	assert_heap_back_to_initial();
}

/* --- misuse (fault handler) -------------------------------------------- */

/* Run one refused call and check the heap did not change. */
#define EXPECT_REFUSED(call, what)                                             \
	do {                                                                   \
		struct region_snapshot snap_;                                  \
		region_snapshot_take(&snap_, fx.region, fx.region_bytes);      \
		fault_capture_arm();                                           \
		call;                                                          \
		fault_capture_disarm();                                        \
		region_snapshot_assert_same(&snap_, what);                     \
		region_snapshot_release(&snap_);                               \
		check_valid();                                                 \
	} while (0)

static void test_misuse_double_free_immediately(void **state)
{
	void *a = alloc_ok(40, 1);
	void *b = alloc_ok(40, 2);
	void *c = alloc_ok(40, 3);

	(void)state;
	free_checked(b, 2);
	EXPECT_REFUSED(sys_heap_free(&fx.heap, b), "double free");
	fault_capture_assert_one(&fx.heap, b, SYS_HEAP_FAULT_NOT_ALLOCATED,
				 "free");
	assert_tokens(a, 40, 1);
	assert_tokens(c, 40, 3);
	free_checked(a, 1);
	free_checked(c, 3);
	assert_heap_back_to_initial();
}

/* A stale pointer whose block was merged with a free neighbour, on either
 * side, is still recognised as not allocated. */
static void test_misuse_double_free_after_coalescing(void **state)
{
	void *a = alloc_ok(40, 1);
	void *b = alloc_ok(40, 2);
	void *c = alloc_ok(40, 3);
	void *d = alloc_ok(40, 4);
	void *e = alloc_ok(40, 5);

	(void)state;
	/* b merges into a (left). */
	free_checked(a, 1);
	free_checked(b, 2);
	EXPECT_REFUSED(sys_heap_free(&fx.heap, b), "double free (merged left)");
	fault_capture_assert_one(&fx.heap, b, SYS_HEAP_FAULT_NOT_ALLOCATED,
				 "free");
	EXPECT_REFUSED(sys_heap_free(&fx.heap, a),
		       "double free (merged block start)");
	fault_capture_assert_one(&fx.heap, a, SYS_HEAP_FAULT_NOT_ALLOCATED,
				 "free");

	/* d is freed first, then c's free absorbs it from the right (and
	 * c itself merges into the free a+b on its left). */
	free_checked(d, 4);
	free_checked(c, 3);
	EXPECT_REFUSED(sys_heap_free(&fx.heap, d),
		       "double free (merged right)");
	fault_capture_assert_one(&fx.heap, d, SYS_HEAP_FAULT_NOT_ALLOCATED,
				 "free");
	free_checked(e, 5);
	assert_heap_back_to_initial();
}

/* Free, the block is reused by a new allocation, the stale pointer frees
 * that one: the later free of the new pointer is the double free. */
static void test_misuse_double_free_after_reuse(void **state)
{
	void *a = alloc_ok(40, 1);
	void *guard = alloc_ok(40, 2);

	(void)state;
	free_checked(a, 1);
	void *reused = alloc_ok(40, 3);

	assert_ptr_equal(reused, a);
	sys_heap_free(&fx.heap, a);
	check_valid();
	EXPECT_REFUSED(sys_heap_free(&fx.heap, reused), "double free (reuse)");
	fault_capture_assert_one(&fx.heap, reused, SYS_HEAP_FAULT_NOT_ALLOCATED,
				 "free");
	free_checked(guard, 2);
	assert_heap_back_to_initial();
}

static void test_misuse_pointer_outside_heap(void **state)
{
	uint64_t on_stack = 0;
	void *const outside[] = {
		&on_stack,
		fx.region + fx.region_bytes,
		(void *)((uintptr_t)fx.region - 16u),
		(void *)((uintptr_t)fx.region + fx.region_bytes + 4096u),
		fx.region, /* the control block */
		(void *)(uintptr_t)8u,
	};
	void *live = alloc_ok(40, 1);

	(void)state;
	for (size_t i = 0; i < sizeof(outside) / sizeof(outside[0]); i++) {
		void *mem = outside[i];

		EXPECT_REFUSED(sys_heap_free(&fx.heap, mem), "free(outside)");
		fault_capture_assert_one(&fx.heap, mem,
					 SYS_HEAP_FAULT_BAD_POINTER, "free");
		EXPECT_REFUSED(assert_null(sys_heap_realloc(&fx.heap, mem, 8)),
			       "realloc(outside)");
		fault_capture_assert_one(&fx.heap, mem,
					 SYS_HEAP_FAULT_BAD_POINTER, "realloc");
		EXPECT_REFUSED(assert_int_equal(
				       sys_heap_usable_size(&fx.heap, mem), 0),
			       "usable_size(outside)");
		fault_capture_assert_one(&fx.heap, mem,
					 SYS_HEAP_FAULT_BAD_POINTER,
					 "usable_size");
	}
	assert_int_equal(on_stack, 0);
	free_checked(live, 1);
	assert_heap_back_to_initial();
}

static void test_misuse_pointer_from_other_heap(void **state)
{
	uint64_t other_region[256];
	struct sys_heap other;

	(void)state;
	assert_int_equal(
		sys_heap_init(&other, other_region, sizeof(other_region)), 0);
	void *foreign = sys_heap_alloc(&other, 64);

	assert_non_null(foreign);
	EXPECT_REFUSED(sys_heap_free(&fx.heap, foreign), "free(foreign)");
	fault_capture_assert_one(&fx.heap, foreign, SYS_HEAP_FAULT_BAD_POINTER,
				 "free");
	sys_heap_free(&other, foreign);
	assert_true(sys_heap_validate(&other));
	assert_heap_back_to_initial();
}

/*
 * A pointer into the middle of a live block is refused as a corrupt
 * header: where its header would be is user data. For the fill patterns
 * below that is certain (0x00: size 0; 0xff: size past the end; 0x03 and
 * 0x11: a plausible used size, but a left-neighbour link that points
 * before the heap). With arbitrary data (tokens) the data may by chance
 * read as a plausible free header, so NOT_ALLOCATED is accepted too; never
 * BAD_POINTER (it is inside the heap) nor OVERFLOW (nothing overflowed).
 */
static void test_misuse_interior_pointer(void **state)
{
	static const uint8_t patterns[] = {0x00, 0xff, 0x03, 0x11};
	void *a = alloc_ok(200, 1);
	void *b = alloc_ok(40, 2);

	(void)state;
	for (size_t k = 0; k < sizeof(patterns); k++) {
		memset(a, patterns[k], 200);
		for (size_t offset = 8; offset < 200u; offset += 8u) {
			void *inside = (uint8_t *)a + offset;

			EXPECT_REFUSED(sys_heap_free(&fx.heap, inside),
				       "free(interior, pattern)");
			fault_capture_assert_one(&fx.heap, inside,
						 SYS_HEAP_FAULT_CORRUPT_HEADER,
						 "free");
		}
	}

	test_token_fill(a, 200, 1);
	for (size_t offset = 8; offset < 200u; offset += 8u) {
		void *inside = (uint8_t *)a + offset;

		EXPECT_REFUSED(sys_heap_free(&fx.heap, inside),
			       "free(interior, tokens)");
		assert_int_equal(fault_capture.count, 1);
		assert_ptr_equal(fault_capture.last.mem, inside);
		if (fault_capture.last.kind != SYS_HEAP_FAULT_CORRUPT_HEADER &&
		    fault_capture.last.kind != SYS_HEAP_FAULT_NOT_ALLOCATED) {
			fail_msg("free(%p), %zu bytes into a live block: "
				 "fault %s, expected CORRUPT_HEADER",
				 inside, offset,
				 fault_kind_name(fault_capture.last.kind));
		}
	}
	assert_tokens(a, 200, 1);
	free_checked(a, 1);
	free_checked(b, 2);
	assert_heap_back_to_initial();
}

/* Writing 1..4 bytes past the usable size changes the next block's header:
 * free reports an overflow and leaves the heap alone; once the bytes are
 * restored the free goes through. Next block used, free, or the end. */
static void test_misuse_overflow_into_next_header(void **state)
{
	(void)state;
	for (unsigned int neighbour = 0; neighbour < 3u; neighbour++) {
		for (size_t written = 1; written <= 4u; written++) {
			void *a, *b = NULL, *c = NULL;

			if (neighbour == 2u) {
				/* The whole heap: the next header is the
				 * end of the block area. */
				a = alloc_ok(fx.initial_max_alloc_bytes, 1);
			} else {
				a = alloc_ok(40, 1);
				b = alloc_ok(40, 2);
				c = alloc_ok(40, 3);
				if (neighbour == 1u) {
					free_checked(b, 2);
					b = NULL;
				}
			}
			uint8_t *past = (uint8_t *)a +
					sys_heap_usable_size(&fx.heap, a);
			uint8_t saved[4];

			/* The overflow itself, on purpose: through
			 * test_meta, which memory checkers ignore. */
			test_meta_read(saved, past, written);
			for (size_t i = 0; i < written; i++) {
				test_meta_set8(past + i,
					       (uint8_t)(saved[i] ^ 0x5au));
			}
			assert_false(sys_heap_validate(&fx.heap));

			struct region_snapshot snap;

			region_snapshot_take(&snap, fx.region, fx.region_bytes);
			fault_capture_arm();
			sys_heap_free(&fx.heap, a);
			fault_capture_disarm();
			region_snapshot_assert_same(&snap, "free(overflowed)");
			region_snapshot_release(&snap);
			fault_capture_assert_one(
				&fx.heap, a, SYS_HEAP_FAULT_OVERFLOW, "free");

			test_meta_write(past, saved, written);
			check_valid();
			free_checked(a, 1);
			if (b != NULL) {
				free_checked(b, 2);
			}
			if (c != NULL) {
				free_checked(c, 3);
			}
			assert_heap_back_to_initial();
		}
	}
}

/* Writing just before a block (an underflow from the previous one)
 * changes its own header: validate sees it, free refuses it, the heap is
 * unchanged, and with the byte restored the free goes through. */
static void test_misuse_underflow_into_own_header(void **state)
{
	void *a = alloc_ok(40, 1);
	void *b = alloc_ok(40, 2);
	void *c = alloc_ok(40, 3);

	(void)state;
	for (size_t back = 1; back <= format->header_bytes; back++) {
		uint8_t *before_b = (uint8_t *)b - back;
		uint8_t saved = test_meta_get8(before_b);

		test_meta_set8(before_b, (uint8_t)~saved);
		assert_false(sys_heap_validate(&fx.heap));

		struct region_snapshot snap;

		region_snapshot_take(&snap, fx.region, fx.region_bytes);
		fault_capture_arm();
		sys_heap_free(&fx.heap, b);
		fault_capture_disarm();
		region_snapshot_assert_same(&snap, "free(underflowed)");
		region_snapshot_release(&snap);
		assert_int_equal(fault_capture.count, 1);
		assert_ptr_equal(fault_capture.last.mem, b);
		assert_string_equal(fault_capture.last.operation, "free");
		/* Any kind that names the block's own header: corrupt, or
		 * (if the used bit was hit) not allocated, or (if only the
		 * size changed) disagreeing with the next header. */
		if (fault_capture.last.kind == SYS_HEAP_FAULT_BAD_POINTER) {
			fail_msg("free after underflow of %zu: fault %s", back,
				 fault_kind_name(fault_capture.last.kind));
		}
		test_meta_set8(before_b, saved);
		check_valid();
	}
	free_checked(a, 1);
	free_checked(b, 2);
	free_checked(c, 3);
	assert_heap_back_to_initial();
}

static void test_misuse_realloc_after_free(void **state)
{
	void *a = alloc_ok(40, 1);
	void *guard = alloc_ok(40, 2);

	(void)state;
	free_checked(a, 1);
	EXPECT_REFUSED(assert_null(sys_heap_realloc(&fx.heap, a, 80)),
		       "realloc after free");
	fault_capture_assert_one(&fx.heap, a, SYS_HEAP_FAULT_NOT_ALLOCATED,
				 "realloc");
	EXPECT_REFUSED(assert_null(sys_heap_realloc(&fx.heap, a, 8)),
		       "realloc (shrink) after free");
	fault_capture_assert_one(&fx.heap, a, SYS_HEAP_FAULT_NOT_ALLOCATED,
				 "realloc");
	EXPECT_REFUSED(
		assert_null(sys_heap_aligned_realloc(&fx.heap, a, 64, 80)),
		"aligned_realloc after free");
	fault_capture_assert_one(&fx.heap, a, SYS_HEAP_FAULT_NOT_ALLOCATED,
				 "realloc");
	free_checked(guard, 2);
	assert_heap_back_to_initial();
}

static void test_misuse_usable_size_after_free(void **state)
{
	void *a = alloc_ok(40, 1);
	void *guard = alloc_ok(40, 2);

	(void)state;
	free_checked(a, 1);
	EXPECT_REFUSED(assert_int_equal(sys_heap_usable_size(&fx.heap, a), 0),
		       "usable_size after free");
	fault_capture_assert_one(&fx.heap, a, SYS_HEAP_FAULT_NOT_ALLOCATED,
				 "usable_size");
	free_checked(guard, 2);
	assert_heap_back_to_initial();
}

/* With the default handler (none installed) misuse is still refused. */
static void test_misuse_refused_with_default_handler(void **state)
{
	void *a = alloc_ok(40, 1);
	void *guard = alloc_ok(40, 2);
	struct region_snapshot snap;

	(void)state;
	free_checked(a, 1);
	sys_heap_fault_handler_set(NULL);
	region_snapshot_take(&snap, fx.region, fx.region_bytes);
	sys_heap_free(&fx.heap, a);
	assert_null(sys_heap_realloc(&fx.heap, a, 8));
	assert_int_equal(sys_heap_usable_size(&fx.heap, a), 0);
	region_snapshot_assert_same(&snap, "misuse, default handler");
	region_snapshot_release(&snap);
	fault_capture_install();
	check_valid();
	free_checked(guard, 2);
	assert_heap_back_to_initial();
}

static void test_fault_messages_fixed_per_kind(void **state)
{
	static const enum sys_heap_fault_kind kinds[] = {
		SYS_HEAP_FAULT_BAD_POINTER,    SYS_HEAP_FAULT_NOT_ALLOCATED,
		SYS_HEAP_FAULT_CORRUPT_HEADER, SYS_HEAP_FAULT_OVERFLOW,
		SYS_HEAP_FAULT_CORRUPT_LINKS,  SYS_HEAP_FAULT_CANARY,
		SYS_HEAP_FAULT_INVALID_HEAP,   SYS_HEAP_FAULT_BAD_REGION,
	};

	(void)state;
	for (size_t i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++) {
		const char *message = sys_heap_fault_message(kinds[i]);

		assert_non_null(message);
		assert_true(strlen(message) > 0u);
		for (size_t j = 0; j < i; j++) {
			assert_string_not_equal(
				message, sys_heap_fault_message(kinds[j]));
		}
	}
	assert_string_equal(sys_heap_fault_message((enum sys_heap_fault_kind)0),
			    "");
	assert_string_equal(sys_heap_fault_message((enum sys_heap_fault_kind)(
				    SYS_HEAP_FAULT_BAD_REGION + 1)),
			    "");
	assert_string_equal(
		sys_heap_fault_message((enum sys_heap_fault_kind)99), "");
}

/* --- software count-leading-zeros -------------------------------------- */

static void test_soft_clz_matches_builtin(void **state)
{
	struct test_rng rng;

	(void)state;
	for (unsigned int bit = 0; bit < 32u; bit++) {
		uint32_t single = (uint32_t)1u << bit;
		uint32_t below_filled = single | (single - 1u);

		assert_int_equal(kheap_soft_clz32(single), 31u - bit);
		assert_int_equal(kheap_soft_clz32(single),
				 (unsigned int)__builtin_clz(single));
		assert_int_equal(kheap_soft_clz32(below_filled), 31u - bit);
	}
	test_rng_seed(&rng, test_seed());
	for (unsigned int i = 0; i < 100000u; i++) {
		uint32_t value = (uint32_t)test_rng_next(&rng);

		/* Spread over every magnitude, not only the top bits. */
		value >>= test_rng_below(&rng, 32);
		if (value == 0u) {
			continue;
		}
		if (kheap_soft_clz32(value) !=
		    (unsigned int)__builtin_clz(value)) {
			fail_msg("soft clz(%#" PRIx32 ") = %u, builtin %d",
				 value, kheap_soft_clz32(value),
				 __builtin_clz(value));
		}
	}
}

/* --- the tests' PRNG --------------------------------------------------- */

/* The same seed gives the same sequence on every platform (the constant
 * is checked on the host and on every Cortex-M target), so a seed that
 * fails anywhere replays anywhere. */
static void test_rng_sequence_matches_reference(void **state)
{
	struct test_rng rng;

	(void)state;
	assert_int_equal(test_rng_checksum(TEST_RNG_REFERENCE_SEED,
					   TEST_RNG_REFERENCE_ROUNDS),
			 TEST_RNG_REFERENCE_CHECKSUM);
	/* The first outputs of seed 0, as published for splitmix64. */
	test_rng_seed(&rng, 0);
	assert_int_equal(test_rng_next(&rng), 0xe220a8397b1dcdafull);
	assert_int_equal(test_rng_next(&rng), 0x6e789e6aa1b965f4ull);
}

/* --- test tables ------------------------------------------------------- */

#define HEAP_TEST(fn)                                                          \
	cmocka_unit_test_setup_teardown(fn, fixture_setup, fixture_teardown)

static const struct CMUnitTest common_tests[] = {
	cmocka_unit_test(test_init_rejects_null_arguments),
	cmocka_unit_test(test_init_rejects_region_below_minimum),
	cmocka_unit_test(test_init_rejects_region_above_maximum_or_wrapping),
	cmocka_unit_test(test_header_cutover_is_exact),
	cmocka_unit_test(test_stats_reject_null),
	cmocka_unit_test(test_fault_messages_fixed_per_kind),
	cmocka_unit_test(test_soft_clz_matches_builtin),
	cmocka_unit_test(test_rng_sequence_matches_reference),
};

static const struct CMUnitTest per_format_tests[] = {
	HEAP_TEST(test_init_succeeds_with_expected_format),
	HEAP_TEST(test_init_accepts_every_base_offset),
	HEAP_TEST(test_handle_copy_is_the_same_heap),
	HEAP_TEST(test_alloc_zero_returns_null),
	HEAP_TEST(test_free_null_is_noop),
	HEAP_TEST(test_usable_size_of_null_is_zero),
	HEAP_TEST(test_block_size_is_request_plus_header_rounded_to_8),
	HEAP_TEST(test_blocks_reusable_after_free),
	HEAP_TEST(test_blocks_aligned_inside_region_and_disjoint),
	HEAP_TEST(test_usable_size_at_least_requested),
	HEAP_TEST(test_noalign_alloc_ignores_align),
	HEAP_TEST(test_aligned_alloc_sweep),
	HEAP_TEST(test_aligned_alloc_rewind_form),
	HEAP_TEST(test_aligned_alloc_invalid_align_refused),
	HEAP_TEST(test_aligned_alloc_align_larger_than_heap_refused),
	HEAP_TEST(test_aligned_alloc_align_plus_size_overflow_refused),
	HEAP_TEST(test_huge_sizes_refused_everywhere),
	HEAP_TEST(test_realloc_null_is_alloc),
	HEAP_TEST(test_realloc_to_zero_frees),
	HEAP_TEST(test_realloc_shrinks_in_place),
	HEAP_TEST(test_realloc_grows_in_place_into_free_neighbour),
	HEAP_TEST(test_realloc_grows_in_place_to_whole_heap),
	HEAP_TEST(test_realloc_moves_when_neighbour_used),
	HEAP_TEST(test_realloc_failure_keeps_block),
	HEAP_TEST(test_aligned_realloc_keeps_alignment),
	HEAP_TEST(test_aligned_realloc_invalid_align_keeps_block),
	HEAP_TEST(test_stats_match_recount),
	HEAP_TEST(test_stats_max_is_watermark_and_resets),
	HEAP_TEST(test_listeners_see_every_event),
	HEAP_TEST(test_listeners_for_other_heap_see_nothing),
	HEAP_TEST(test_listeners_unregister_stops_events),
	HEAP_TEST(test_print_info_to_describes_heap),
	HEAP_TEST(test_print_info_uses_output_hook),
	HEAP_TEST(test_validate_is_read_only_and_detects_corruption),
	HEAP_TEST(test_misuse_double_free_immediately),
	HEAP_TEST(test_misuse_double_free_after_coalescing),
	HEAP_TEST(test_misuse_double_free_after_reuse),
	HEAP_TEST(test_misuse_pointer_outside_heap),
	HEAP_TEST(test_misuse_pointer_from_other_heap),
	HEAP_TEST(test_misuse_interior_pointer),
	HEAP_TEST(test_misuse_overflow_into_next_header),
	HEAP_TEST(test_misuse_underflow_into_own_header),
	HEAP_TEST(test_misuse_realloc_after_free),
	HEAP_TEST(test_misuse_usable_size_after_free),
	HEAP_TEST(test_misuse_refused_with_default_handler),
};

int main(int argc, char **argv)
{
	int failed = 0;

	if (argc > 1) {
		cmocka_set_test_filter(argv[1]);
	}
	fault_capture_install();
	failed += cmocka_run_group_tests_name("sys_heap common", common_tests,
					      NULL, NULL);
	failed += HEAP_FORMAT_RUN_GROUP(format, small_format, per_format_tests);
#if KHEAP_TEST_BIG_REGIONS
	failed += HEAP_FORMAT_RUN_GROUP(format, big_format, per_format_tests);
#else
	(void)big_format;
#endif
	fault_capture_uninstall();
	return failed == 0 ? 0 : 1;
}
