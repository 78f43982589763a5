/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Region sizing: Z_HEAP_MIN_SIZE, Z_HEAP_MIN_SIZE_FOR() and
 * SYS_HEAP_MIN_REGION_BYTES against what sys_heap_init() and
 * sys_heap_alloc() actually do.
 *
 * - The macros are integer constant expressions (static arrays,
 *   _Static_assert and #if use them below).
 * - Below Z_HEAP_MIN_SIZE every size is refused; at an 8-aligned address
 *   Z_HEAP_MIN_SIZE is accepted and holds exactly one block; at every
 *   other offset the smallest accepted size is exactly what the lost
 *   start bytes add, and SYS_HEAP_MIN_REGION_BYTES is accepted at all.
 * - Z_HEAP_MIN_SIZE_FOR(n) is exact, for every n up to a bound and for
 *   sampled larger ones in both header formats: a region of that size
 *   serves sys_heap_alloc(n), one byte less does not, and every larger
 *   region serves it too (checked for the sizes right above it and
 *   across the 4-byte/8-byte header cutover, where a size that fits
 *   4-byte headers may still need the 8-byte format's room).
 *
 * Built with a fixed header format (CONFIG_SYS_HEAP_SMALL_ONLY or
 * CONFIG_SYS_HEAP_BIG_ONLY, kheap/config.h; tests/CMakeLists.txt runs it
 * over those cores too) the same holds with that format's figures, and
 * with 4-byte headers only, every region above
 * SYS_HEAP_SMALL_REGION_MAX_BYTES is refused.
 *
 * The same file runs on the Cortex-M targets (target/, cmocka_lite) for
 * 32-bit pointers: KHEAP_TEST_SIZING_MAX_BYTES bounds the regions (the
 * micro:bit has 16 KiB of RAM) and KHEAP_TEST_BIG_REGIONS=0 leaves out the
 * big format and the cutover.
 *
 * Usage: test_sys_heap_sizing [test-name-pattern]
 * KHEAP_SEED=<n> fixes the seed of the sampled sizes.
 */
#include "test_fixture.h"
#include "test_heap_support.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <zephyr/sys/sys_heap.h>

#ifndef KHEAP_TEST_SIZING_MAX_BYTES
#define KHEAP_TEST_SIZING_MAX_BYTES (64u * 1024u)
#endif
#ifndef KHEAP_TEST_BIG_REGIONS
#define KHEAP_TEST_BIG_REGIONS 1
#endif

/* Every request size from 0 up to this is checked one by one. */
#define EVERY_SIZE_UP_TO                                                       \
	(KHEAP_TEST_SIZING_MAX_BYTES / 16u < 4096u                             \
		 ? KHEAP_TEST_SIZING_MAX_BYTES / 16u                           \
		 : 4096u)

/* The header bytes of the smallest regions in this build. */
#define SMALL_REGION_HEADER_BYTES (CONFIG_SYS_HEAP_BIG_ONLY ? 8u : 4u)

/* The largest region this build accepts that the test allocates. */
#define LARGEST_REGION_BYTES                                                   \
	(CONFIG_SYS_HEAP_SMALL_ONLY ? (size_t)SYS_HEAP_SMALL_REGION_MAX_BYTES  \
				    : (size_t)1u << 20)

/* Regions right above Z_HEAP_MIN_SIZE_FOR(n) that must serve n too. */
#define SIZES_ABOVE 24u

/* --- constant expressions ----------------------------------------------- */

/* Usable where C requires an integer constant expression ... */
static _Alignas(8) unsigned char min_region[Z_HEAP_MIN_SIZE];
static _Alignas(8) unsigned char region_for_100[Z_HEAP_MIN_SIZE_FOR(100)];
_Static_assert(Z_HEAP_MIN_SIZE == Z_HEAP_MIN_SIZE_FOR(1),
	       "Z_HEAP_MIN_SIZE serves 1 byte");
_Static_assert(Z_HEAP_MIN_SIZE_FOR(0) == Z_HEAP_MIN_SIZE, "0 bytes count as 1");
_Static_assert(SYS_HEAP_MIN_REGION_BYTES == Z_HEAP_MIN_SIZE + 7u,
	       "7 bytes of a misaligned start at most");

/* ... and by the preprocessor (no casts or sizeof inside). */
#if Z_HEAP_MIN_SIZE_FOR(1000) <= 1000
#error "Z_HEAP_MIN_SIZE_FOR must add the heap's metadata"
#endif

/* --- helpers -------------------------------------------------------------- */

/* An 8-aligned buffer for regions of up to max_bytes at any offset below
 * 8, with guard bytes after. */
struct buffer {
	uint8_t *mem;
	size_t bytes;
};

#define GUARD_BYTES 16u
#define GUARD_VALUE 0xe7u

static struct buffer buffer_new(size_t max_bytes)
{
	struct buffer b = {.bytes = 8u + max_bytes + GUARD_BYTES};
	void *mem = NULL;

	/* malloc's result is aligned for every type: 8 bytes at least. */
	mem = malloc(b.bytes);
	assert_non_null(mem);
	assert_int_equal((uintptr_t)mem % 8u, 0);
	b.mem = mem;
	return b;
}

static void buffer_free(struct buffer *b)
{
	test_meta_release(b->mem, b->bytes);
	free(b->mem);
	b->mem = NULL;
}

/*
 * Does a region of region_bytes at offset `offset` of b serve one
 * sys_heap_alloc(request)? Fails the test if init writes outside the
 * region or a served block is not inside it; refusals are fine.
 */
static bool region_serves(struct buffer *b, size_t offset, size_t region_bytes,
			  size_t request)
{
	uint8_t *region = b->mem + offset;
	struct sys_heap heap;
	bool served = false;

	assert_true(offset + region_bytes + GUARD_BYTES <= b->bytes);
	/* An earlier, larger heap may have left the guard bytes poisoned
	 * for memory checkers (the new heap forgets the old one's blocks
	 * itself). */
	test_meta_release(region + region_bytes, GUARD_BYTES);
	memset(region + region_bytes, GUARD_VALUE, GUARD_BYTES);
	if (sys_heap_init(&heap, region, region_bytes) == 0) {
		void *mem = sys_heap_alloc(&heap, request > 0u ? request : 1u);

		if (mem != NULL) {
			test_assert_block_in_region(&heap, mem, request, region,
						    region_bytes);
			served = true;
		}
		assert_true(sys_heap_validate(&heap));
	} else {
		/* A refused region stays an empty heap. */
		assert_null(sys_heap_alloc(&heap, 1));
		assert_int_equal(sys_heap_header_bytes(&heap), 0);
	}
	test_assert_bytes_are(region + region_bytes, GUARD_BYTES, GUARD_VALUE);
	return served;
}

/*
 * Check Z_HEAP_MIN_SIZE_FOR(request) at an 8-aligned address: it serves
 * the request, one byte less does not, and SIZES_ABOVE larger sizes do.
 */
static void check_exact(struct buffer *b, size_t request)
{
	size_t exact = Z_HEAP_MIN_SIZE_FOR(request);

	if (!region_serves(b, 0u, exact, request)) {
		fail_msg("Z_HEAP_MIN_SIZE_FOR(%zu) = %zu does not serve it",
			 request, exact);
	}
	if (region_serves(b, 0u, exact - 1u, request)) {
		fail_msg("Z_HEAP_MIN_SIZE_FOR(%zu) = %zu is not the smallest: "
			 "%zu serves it",
			 request, exact, exact - 1u);
	}
	for (size_t more = 1; more <= SIZES_ABOVE; more++) {
		if (!region_serves(b, 0u, exact + more, request)) {
			fail_msg("a region of %zu does not serve %zu although "
				 "Z_HEAP_MIN_SIZE_FOR gives %zu",
				 exact + more, request, exact);
		}
	}
}

/* --- tests ---------------------------------------------------------------- */

static void test_min_size_usable_as_array_size(void **state)
{
	struct sys_heap heap;

	(void)state;
	assert_int_equal(sys_heap_init(&heap, min_region, sizeof(min_region)),
			 0);
	assert_non_null(sys_heap_alloc(&heap, 1));
	assert_int_equal(sys_heap_init(&heap, region_for_100,
				       sizeof(region_for_100)),
			 0);
	assert_non_null(sys_heap_alloc(&heap, 100));
	test_meta_release(min_region, sizeof(min_region));
	test_meta_release(region_for_100, sizeof(region_for_100));
}

static void test_every_size_below_minimum_is_refused(void **state)
{
	struct buffer b = buffer_new(Z_HEAP_MIN_SIZE);
	struct sys_heap heap;

	(void)state;
	for (size_t bytes = 0; bytes < Z_HEAP_MIN_SIZE; bytes++) {
		memset(&heap, 0x5a, sizeof(heap));
		assert_int_equal(sys_heap_init(&heap, b.mem, bytes), -22);
		assert_null(sys_heap_alloc(&heap, 1));
		assert_int_equal(sys_heap_header_bytes(&heap), 0);
	}
	assert_int_equal(sys_heap_init(&heap, b.mem, Z_HEAP_MIN_SIZE), 0);
	assert_true(sys_heap_validate(&heap));
	buffer_free(&b);
}

/*
 * At offset o from an 8-aligned address the first 8 - o bytes cannot be
 * used (none at o = 0): the smallest region accepted is Z_HEAP_MIN_SIZE
 * plus those, one byte less is refused, and the smallest heap holds
 * exactly one block, of up to 4 bytes (8 with the FULL canary, whose 4
 * bytes come out of a second chunk).
 */
static void test_smallest_region_at_every_offset(void **state)
{
	struct buffer b = buffer_new(SYS_HEAP_MIN_REGION_BYTES);
	const size_t hdr = SMALL_REGION_HEADER_BYTES;
	/* The one block of the smallest region: a 1-byte request's chunks,
	 * less header and canary. */
	const size_t one_block_usable =
		(hdr + 1u + SYS_HEAP_CANARY_BYTES + 7u) / 8u * 8u - hdr -
		SYS_HEAP_CANARY_BYTES;

	(void)state;
	for (size_t offset = 0; offset < 8u; offset++) {
		size_t smallest = Z_HEAP_MIN_SIZE + (8u - offset) % 8u;
		uint8_t *region = b.mem + offset;
		struct sys_heap heap;

		assert_false(region_serves(&b, offset, smallest - 1u, 1u));
		assert_true(region_serves(&b, offset, smallest, 1u));
		assert_true(region_serves(&b, offset, SYS_HEAP_MIN_REGION_BYTES,
					  1u));

		test_meta_release(b.mem, b.bytes);
		assert_int_equal(sys_heap_init(&heap, region, smallest), 0);
		assert_int_equal(sys_heap_header_bytes(&heap), hdr);
		void *mem = sys_heap_alloc(&heap, one_block_usable);

		assert_non_null(mem);
		assert_int_equal(sys_heap_usable_size(&heap, mem),
				 one_block_usable);
		assert_null(sys_heap_alloc(&heap, 1));
		sys_heap_free(&heap, mem);
		assert_null(sys_heap_alloc(&heap, one_block_usable + 1u));
		assert_true(sys_heap_validate(&heap));
	}
	buffer_free(&b);
}

static void test_min_size_for_every_small_request(void **state)
{
	struct buffer b =
		buffer_new(Z_HEAP_MIN_SIZE_FOR(EVERY_SIZE_UP_TO) + SIZES_ABOVE);

	(void)state;
	for (size_t request = 0; request <= EVERY_SIZE_UP_TO; request++) {
		check_exact(&b, request);
	}
	buffer_free(&b);
}

/* Sampled requests up to what the test's regions allow, log-uniform so
 * that every octave gets its share. */
static void test_min_size_for_sampled_requests(void **state)
{
	const size_t max_region = KHEAP_TEST_BIG_REGIONS
					  ? LARGEST_REGION_BYTES
					  : KHEAP_TEST_SIZING_MAX_BYTES;
	struct buffer b = buffer_new(max_region);
	struct test_rng rng;

	(void)state;
	test_rng_seed(&rng, test_seed());
	for (unsigned int i = 0; i < 100u; i++) {
		size_t request =
			(size_t)test_rng_log_uniform(&rng, max_region - 1024u);

		if (Z_HEAP_MIN_SIZE_FOR(request) + SIZES_ABOVE > max_region) {
			continue;
		}
		check_exact(&b, request);
	}
	buffer_free(&b);
}

/*
 * Across the header cutover: for every request whose smallest region is
 * near SYS_HEAP_SMALL_REGION_MAX_BYTES, every region from
 * Z_HEAP_MIN_SIZE_FOR(request) up to past the cutover serves it, although
 * the regions above the cutover have 8-byte headers and a larger control
 * block. With 4-byte headers only, the regions above the cutover are
 * refused instead; with 8-byte headers only there is no cutover, and the
 * same must hold.
 */
static void test_min_size_for_across_header_cutover(void **state)
{
	const size_t small_max = SYS_HEAP_SMALL_REGION_MAX_BYTES;
	const size_t past_cutover = small_max + 64u;

	(void)state;
	if (!KHEAP_TEST_BIG_REGIONS) {
		skip();
	}
	struct buffer b = buffer_new(past_cutover + 1024u);
	size_t first = 0;
	unsigned int small_answers = 0;
	unsigned int big_answers = 0;

	/* The largest region that serves anything. */
	const size_t last_region = CONFIG_SYS_HEAP_SMALL_ONLY ? small_max
							      : past_cutover;

	if (CONFIG_SYS_HEAP_SMALL_ONLY) {
		for (size_t region = small_max + 1u; region <= past_cutover;
		     region++) {
			struct sys_heap heap;

			assert_int_equal(sys_heap_init(&heap, b.mem, region),
					 -22);
			assert_null(sys_heap_alloc(&heap, 1));
		}
	}
	/* The requests whose smallest region lies within 1 KiB below the
	 * cutover, and those just beyond (every third). */
	while (Z_HEAP_MIN_SIZE_FOR(first) < small_max - 1024u) {
		first += 64u;
	}
	for (size_t request = first;
	     Z_HEAP_MIN_SIZE_FOR(request) <= last_region; request += 3u) {
		size_t exact = Z_HEAP_MIN_SIZE_FOR(request);

		assert_true(region_serves(&b, 0u, exact, request));
		assert_false(region_serves(&b, 0u, exact - 1u, request));
		if (exact <= small_max) {
			small_answers++;
		} else {
			big_answers++;
		}
		/* Region sizes up to past the cutover, in steps that hit
		 * every size around it. */
		for (size_t region = exact; region <= last_region;
		     region += region < small_max - 16u ? 61u : 1u) {
			if (!region_serves(&b, 0u, region, request)) {
				fail_msg("a region of %zu does not serve %zu "
					 "although Z_HEAP_MIN_SIZE_FOR gives "
					 "%zu",
					 region, request, exact);
			}
		}
	}
	/* Both kinds of answer were checked (one with a fixed format). */
	assert_true(small_answers > 0u || CONFIG_SYS_HEAP_BIG_ONLY);
	assert_true(big_answers > 0u || CONFIG_SYS_HEAP_SMALL_ONLY);
	buffer_free(&b);
}

static const struct CMUnitTest sizing_tests[] = {
	cmocka_unit_test(test_min_size_usable_as_array_size),
	cmocka_unit_test(test_every_size_below_minimum_is_refused),
	cmocka_unit_test(test_smallest_region_at_every_offset),
	cmocka_unit_test(test_min_size_for_every_small_request),
	cmocka_unit_test(test_min_size_for_sampled_requests),
	cmocka_unit_test(test_min_size_for_across_header_cutover),
};

int main(int argc, char **argv)
{
	int failed;

	if (argc > 1) {
		cmocka_set_test_filter(argv[1]);
	}
	fault_capture_install();
	printf("Z_HEAP_MIN_SIZE %zu, SYS_HEAP_MIN_REGION_BYTES %zu, "
	       "pointer %zu bytes\n",
	       (size_t)Z_HEAP_MIN_SIZE, (size_t)SYS_HEAP_MIN_REGION_BYTES,
	       sizeof(void *));
	failed = cmocka_run_group_tests_name("sys_heap sizing", sizing_tests,
					     NULL, NULL);
	fault_capture_uninstall();
	return failed == 0 ? 0 : 1;
}
