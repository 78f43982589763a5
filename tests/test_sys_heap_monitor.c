/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Run-time monitoring tests (CONFIG_SYS_HEAP_MONITOR): the "run-time
 * monitoring" section of core/include/zephyr/sys/sys_heap.h.
 *
 * Built against kheap_core_monitor (the core with CONFIG_SYS_HEAP_MONITOR=1).
 * Tests that depend on the header format run twice: over a 32 KiB region
 * (4-byte headers) and over a 1 MiB region (8-byte headers). Argument
 * checks and the minimum region run once, in the "common" group.
 *
 * Usage: test_sys_heap_monitor [test-name-pattern]   (CMocka filter)
 * KHEAP_SEED=<n> fixes the seed of the randomized test.
 *
 * Block sizes are chosen as whole blocks (header, canary and rounding
 * included) so that every expected usage figure is exact: alloc_block()
 * requests block_bytes minus the per-block overhead and checks that the
 * heap made a block of exactly that size.
 */
#include "test_fixture.h"
#include "test_heap_support.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <kheap/config.h>
#include <zephyr/sys/sys_heap.h>

#if !CONFIG_SYS_HEAP_MONITOR
#error "test_sys_heap_monitor needs a core built with CONFIG_SYS_HEAP_MONITOR=1"
#endif

/* --- the heap under test ----------------------------------------------- */

static const struct heap_format small_format =
	HEAP_FORMAT_SMALL("sys_heap monitor", "32 KiB", 32u * 1024u);

static const struct heap_format big_format =
	HEAP_FORMAT_BIG("sys_heap monitor");

/* The format of the group being run. */
static const struct heap_format *format;

static struct heap_fixture fx;
/* Bytes all blocks of the heap span (free + allocated). */
static size_t total_bytes;

/* What the usage callback has seen since the last usage_calls_reset(). */
struct usage_calls {
	unsigned int count;
	const struct sys_heap *heap;
	size_t allocated_bytes;
	size_t threshold_bytes;
};

static struct usage_calls calls;

static void on_usage(const struct sys_heap *heap, size_t allocated_bytes,
		     size_t threshold_bytes)
{
	calls.count++;
	calls.heap = heap;
	calls.allocated_bytes = allocated_bytes;
	calls.threshold_bytes = threshold_bytes;
}

static void usage_calls_reset(void)
{
	memset(&calls, 0, sizeof(calls));
}

static int fixture_setup(void **state)
{
	(void)state;
	usage_calls_reset();
	sys_heap_usage_callback_set(on_usage);
	heap_fixture_setup(&fx, format);
	total_bytes = fx.initial.free_bytes + fx.initial.allocated_bytes;
	return 0;
}

static int fixture_teardown(void **state)
{
	(void)state;
	/* The callback is one global: never leave it pointing at a test's
	 * recorder for the next test (or group). */
	sys_heap_usage_callback_set(NULL);
	heap_fixture_teardown(&fx);
	return 0;
}

/* --- helpers ----------------------------------------------------------- */

static struct sys_memory_stats stats_of(const struct sys_heap *heap)
{
	struct sys_memory_stats stats;

	assert_int_equal(sys_heap_runtime_stats_get(heap, &stats), 0);
	return stats;
}

/*
 * sys_heap_monitor_get() on heap, checked against everything that can be
 * known without it: the runtime stats (same counters), the free/largest
 * relation and the documented fragmentation formula.
 */
static struct sys_heap_monitor monitor_of(const struct sys_heap *heap)
{
	struct sys_heap_monitor m;
	struct sys_memory_stats stats = stats_of(heap);

	memset(&m, 0xa5, sizeof(m));
	assert_int_equal(sys_heap_monitor_get(heap, &m), 0);
	assert_int_equal(m.allocated_bytes, stats.allocated_bytes);
	assert_int_equal(m.max_allocated_bytes, stats.max_allocated_bytes);
	assert_int_equal(m.free_bytes, stats.free_bytes);
	assert_true(m.largest_free_bytes <= m.free_bytes);
	assert_int_equal(m.largest_free_bytes % SYS_HEAP_CHUNK_BYTES, 0);
	assert_int_equal(m.threshold_bytes % SYS_HEAP_CHUNK_BYTES, 0);
	if (m.free_bytes == 0u) {
		assert_int_equal(m.fragmentation_permille, 0);
		assert_int_equal(m.largest_free_bytes, 0);
	} else {
		assert_true(m.largest_free_bytes > 0u);
		assert_int_equal(m.fragmentation_permille,
				 1000u - m.largest_free_bytes * 1000u /
						 m.free_bytes);
	}
	return m;
}

static struct sys_heap_monitor monitor_now(void)
{
	return monitor_of(&fx.heap);
}

static uint32_t failures_now(void)
{
	return monitor_now().alloc_failures;
}

/* Bytes of a block that are not the caller's: header and canary. */
static size_t overhead_bytes(void)
{
	return format->header_bytes + SYS_HEAP_CANARY_BYTES;
}

/* The request that makes a block of exactly block_bytes (a multiple of 8,
 * at least 16: the smallest block in every format and hardening level). */
static size_t request_for(size_t block_bytes)
{
	assert_int_equal(block_bytes % SYS_HEAP_CHUNK_BYTES, 0);
	assert_true(block_bytes >= 16u);
	return block_bytes - overhead_bytes();
}

static void check_block(const void *mem, size_t block_bytes)
{
	assert_non_null(mem);
	test_assert_block_in_region(&fx.heap, mem, request_for(block_bytes),
				    fx.region, fx.region_bytes);
	assert_int_equal(test_block_bytes(&fx.heap, mem), block_bytes);
	assert_true(sys_heap_validate(&fx.heap));
}

static void *alloc_block(size_t block_bytes)
{
	void *mem = sys_heap_alloc(&fx.heap, request_for(block_bytes));

	check_block(mem, block_bytes);
	return mem;
}

static void *aligned_alloc_block(size_t align, size_t block_bytes)
{
	void *mem = sys_heap_aligned_alloc(&fx.heap, align,
					   request_for(block_bytes));

	check_block(mem, block_bytes);
	assert_true(test_pointer_honours_align(mem, align));
	return mem;
}

static void *realloc_block(void *mem, size_t block_bytes)
{
	void *out = sys_heap_realloc(&fx.heap, mem, request_for(block_bytes));

	check_block(out, block_bytes);
	return out;
}

static void free_block(void *mem)
{
	sys_heap_free(&fx.heap, mem);
	assert_true(sys_heap_validate(&fx.heap));
}

static size_t allocated_now(void)
{
	return stats_of(&fx.heap).allocated_bytes;
}

/* The layout the exact tests build on: consecutive allocations from a
 * fresh heap are consecutive blocks. Checked, not assumed. */
static void assert_adjacent(const void *left, size_t left_block_bytes,
			    const void *right)
{
	if ((const uint8_t *)left + left_block_bytes !=
	    (const uint8_t *)right) {
		fail_msg("layout: block %p (%zu bytes) is not followed by %p",
			 left, left_block_bytes, right);
	}
}

/* Exactly `count` usage calls so far; the last one for heap at
 * allocated_bytes over threshold_bytes. */
static void assert_calls(unsigned int count, const struct sys_heap *heap,
			 size_t allocated_bytes, size_t threshold_bytes)
{
	assert_int_equal(calls.count, count);
	assert_ptr_equal(calls.heap, heap);
	assert_int_equal(calls.allocated_bytes, allocated_bytes);
	assert_int_equal(calls.threshold_bytes, threshold_bytes);
}

/* --- failure counter --------------------------------------------------- */

/* Every allocating call that returns NULL counts once; successful calls,
 * frees and a realloc to 0 bytes (a free) do not. A failure leaves the
 * heap's usage as it was. */
static void test_failures_count_each_null_call(void **state)
{
	uint32_t expected = 0;

	(void)state;
	assert_int_equal(failures_now(), 0);

	void *a = alloc_block(64);
	void *b = alloc_block(64);

	assert_adjacent(a, 64, b);
	assert_int_equal(failures_now(), 0);
	struct sys_memory_stats before = stats_of(&fx.heap);

	/* sys_heap_alloc: too large, absurdly large, 0 bytes. */
	assert_null(sys_heap_alloc(&fx.heap, fx.region_bytes));
	assert_int_equal(failures_now(), ++expected);
	assert_null(sys_heap_alloc(&fx.heap, SIZE_MAX));
	assert_int_equal(failures_now(), ++expected);
	assert_null(sys_heap_alloc(&fx.heap, 0));
	assert_int_equal(failures_now(), ++expected);

	/* sys_heap_aligned_alloc: too large, bad align (7: neither a power
	 * of two nor the rewind form), 0 bytes. */
	assert_null(sys_heap_aligned_alloc(&fx.heap, 64, fx.region_bytes));
	assert_int_equal(failures_now(), ++expected);
	assert_null(sys_heap_aligned_alloc(&fx.heap, 7, 16));
	assert_int_equal(failures_now(), ++expected);
	assert_null(sys_heap_aligned_alloc(&fx.heap, 64, 0));
	assert_int_equal(failures_now(), ++expected);

	/* sys_heap_noalign_alloc goes through sys_heap_alloc. */
	assert_null(sys_heap_noalign_alloc(&fx.heap, 8, fx.region_bytes));
	assert_int_equal(failures_now(), ++expected);

	/* A realloc that cannot grow: b is in the way and no free block is
	 * that large. The old block stays. */
	size_t usable = sys_heap_usable_size(&fx.heap, a);

	assert_null(sys_heap_realloc(&fx.heap, a, fx.initial_max_alloc_bytes));
	assert_int_equal(failures_now(), ++expected);
	assert_null(sys_heap_aligned_realloc(&fx.heap, a, 64,
					     fx.initial_max_alloc_bytes));
	assert_int_equal(failures_now(), ++expected);
	/* Invalid align (7) on realloc: NULL, block untouched. */
	assert_null(sys_heap_aligned_realloc(&fx.heap, a, 7, 16));
	assert_int_equal(failures_now(), ++expected);
	assert_int_equal(sys_heap_usable_size(&fx.heap, a), usable);
	/* realloc(NULL) is an alloc, and fails like one. */
	assert_null(sys_heap_realloc(&fx.heap, NULL, fx.region_bytes));
	assert_int_equal(failures_now(), ++expected);
	assert_null(sys_heap_realloc(&fx.heap, NULL, 0));
	assert_int_equal(failures_now(), ++expected);

	/* None of that changed the heap's usage. */
	struct sys_memory_stats after = stats_of(&fx.heap);

	assert_memory_equal(&before, &after, sizeof(before));

	/* Successful calls of every kind: no count. */
	void *c = aligned_alloc_block(256, 128);
	void *d = sys_heap_noalign_alloc(&fx.heap, 4096, 1);

	assert_non_null(d);
	a = realloc_block(a, 32);  /* shrinks in place */
	a = realloc_block(a, 512); /* moves: b is in the way */
	d = sys_heap_realloc(&fx.heap, d, 100);
	assert_non_null(d);
	void *e = sys_heap_realloc(&fx.heap, NULL, 16);

	assert_non_null(e);
	assert_int_equal(failures_now(), expected);

	/* Frees, free(NULL) and realloc to 0 (a free returning NULL). */
	sys_heap_free(&fx.heap, NULL);
	assert_null(sys_heap_realloc(&fx.heap, e, 0));
	free_block(d);
	free_block(c);
	assert_int_equal(failures_now(), expected);

	/* An exhausted heap: the whole heap in one block, then any alloc. */
	free_block(a);
	free_block(b);
	void *whole = sys_heap_alloc(&fx.heap, fx.initial_max_alloc_bytes);

	assert_non_null(whole);
	assert_int_equal(stats_of(&fx.heap).free_bytes, 0);
	assert_null(sys_heap_alloc(&fx.heap, 1));
	assert_int_equal(failures_now(), ++expected);
	assert_null(sys_heap_aligned_alloc(&fx.heap, 8, 1));
	assert_int_equal(failures_now(), ++expected);
	/* Growing the only block by a byte cannot work either. */
	assert_null(sys_heap_realloc(&fx.heap, whole,
				     fx.initial_max_alloc_bytes + 1u));
	assert_int_equal(failures_now(), ++expected);
	free_block(whole);
	assert_int_equal(failures_now(), expected);
}

/* Each heap has its own counter. */
static void test_failures_are_per_heap(void **state)
{
	const size_t other_bytes = 4096u;
	uint8_t *other_region = malloc(other_bytes);
	struct sys_heap other;

	(void)state;
	assert_non_null(other_region);
	assert_int_equal(sys_heap_init(&other, other_region, other_bytes), 0);
	assert_null(sys_heap_alloc(&other, other_bytes));
	assert_null(sys_heap_alloc(&other, 0));
	assert_int_equal(monitor_of(&other).alloc_failures, 2);
	assert_int_equal(failures_now(), 0);
	assert_null(sys_heap_alloc(&fx.heap, 0));
	assert_int_equal(monitor_of(&other).alloc_failures, 2);
	assert_int_equal(failures_now(), 1);

	/* A new init starts from 0. */
	assert_int_equal(sys_heap_init(&other, other_region, other_bytes), 0);
	assert_int_equal(monitor_of(&other).alloc_failures, 0);
	free(other_region);
}

/* --- usage threshold --------------------------------------------------- */

/* Threshold 1001 bytes, which the heap rounds up to 1008. */
#define THRESHOLD_REQUEST 1001u
#define THRESHOLD 1008u

/* The callback fires exactly once per upward crossing, by any allocating
 * call, with the heap, the new usage and the rounded threshold; not on
 * calls that stay at or below or that start above; again after usage has
 * fallen to the threshold (or below) and rises past it again. */
static void test_threshold_fires_once_per_upward_crossing(void **state)
{
	unsigned int n = 0;

	(void)state;
	assert_int_equal(
		sys_heap_usage_threshold_set(&fx.heap, THRESHOLD_REQUEST), 0);
	assert_int_equal(monitor_now().threshold_bytes, THRESHOLD);

	/* Up to exactly the threshold: not above it, no call. */
	void *a = alloc_block(512);
	void *b = alloc_block(THRESHOLD - 512u);

	assert_int_equal(allocated_now(), THRESHOLD);
	assert_int_equal(calls.count, 0);

	/* A failing call while at the threshold does not fire. */
	assert_null(sys_heap_alloc(&fx.heap, fx.region_bytes));
	assert_int_equal(calls.count, 0);

	/* One block more: crossed (alloc). */
	void *c = alloc_block(16);

	assert_calls(++n, &fx.heap, THRESHOLD + 16u, THRESHOLD);

	/* Calls that stay above: alloc, aligned alloc, noalign, realloc
	 * in place and moving, realloc(NULL). */
	void *d = alloc_block(64);
	void *e = aligned_alloc_block(128, 64);
	void *f = sys_heap_noalign_alloc(&fx.heap, 64, 1);

	assert_non_null(f);
	c = realloc_block(c, 32);
	d = realloc_block(d, 1024);
	void *g = sys_heap_realloc(&fx.heap, NULL, 1);

	assert_non_null(g);
	assert_int_equal(calls.count, n);

	/* Back down to exactly the threshold: frees never call. */
	free_block(g);
	free_block(f);
	free_block(e);
	free_block(d);
	free_block(c);
	assert_int_equal(allocated_now(), THRESHOLD);
	assert_int_equal(calls.count, n);

	/* Up again: crossed again (alloc). */
	c = alloc_block(16);
	assert_calls(++n, &fx.heap, THRESHOLD + 16u, THRESHOLD);
	free_block(c);

	/* Below, then crossed by an aligned alloc. */
	free_block(b);
	assert_int_equal(allocated_now(), 512);
	e = aligned_alloc_block(256, 512);
	assert_calls(++n, &fx.heap, 1024, THRESHOLD);
	assert_int_equal(allocated_now(), 1024);
	free_block(e);

	/* Crossed by noalign_alloc and by realloc(NULL, ...). */
	f = sys_heap_noalign_alloc(&fx.heap, 4096, request_for(512));
	check_block(f, 512);
	assert_calls(++n, &fx.heap, 1024, THRESHOLD);
	free_block(f);
	g = sys_heap_realloc(&fx.heap, NULL, request_for(512));
	check_block(g, 512);
	assert_calls(++n, &fx.heap, 1024, THRESHOLD);
	free_block(g);
	free_block(a);
	assert_int_equal(allocated_now(), 0);

	/* Crossed by a realloc that grows in place: x, then a free
	 * neighbour (held by y, then freed), then a guard. Building that
	 * layout would cross the threshold itself, so it is off meanwhile. */
	assert_int_equal(sys_heap_usage_threshold_set(&fx.heap, 0), 0);
	void *x = alloc_block(512);
	void *y = alloc_block(1024);
	void *guard = alloc_block(64);

	assert_adjacent(x, 512, y);
	assert_adjacent(y, 1024, guard);
	free_block(y);
	assert_int_equal(allocated_now(), 576);
	assert_int_equal(calls.count, n);
	assert_int_equal(
		sys_heap_usage_threshold_set(&fx.heap, THRESHOLD_REQUEST), 0);
	void *grown = realloc_block(x, 1024);

	assert_ptr_equal(grown, x);
	assert_calls(++n, &fx.heap, 1088, THRESHOLD);

	/* Down by a realloc that shrinks, up again by one that grows. */
	x = realloc_block(x, 512);
	assert_ptr_equal(x, grown);
	assert_int_equal(allocated_now(), 576);
	assert_int_equal(calls.count, n);
	x = realloc_block(x, 1024);
	assert_ptr_equal(x, grown);
	assert_calls(++n, &fx.heap, 1088, THRESHOLD);
	free_block(x);
	free_block(guard);
	assert_int_equal(allocated_now(), 0);

	/* Crossed by a realloc that moves: x's right neighbour is used. */
	x = alloc_block(256);
	y = alloc_block(64);
	assert_adjacent(x, 256, y);
	void *moved = realloc_block(x, 1024);

	assert_ptr_not_equal(moved, x);
	assert_calls(++n, &fx.heap, 1088, THRESHOLD);
	free_block(moved);

	/* A move that is above the threshold only while both copies
	 * exist (256 + 64 + 768 > 1008) but ends below it: no call. */
	free_block(y);
	assert_int_equal(allocated_now(), 0);
	x = alloc_block(256);
	y = alloc_block(64);
	assert_adjacent(x, 256, y);
	moved = realloc_block(x, 768);
	assert_ptr_not_equal(moved, x);
	assert_int_equal(allocated_now(), 64u + 768u);
	assert_int_equal(calls.count, n);
	guard = alloc_block(64);
	assert_int_equal(calls.count, n);

	/* Crossed by an aligned realloc that must move for its
	 * alignment: twice z's lowest set bit, which z does not have. */
	void *z = alloc_block(64);
	size_t align = ((uintptr_t)z & (0u - (uintptr_t)z)) << 1;

	assert_int_equal(allocated_now(), 64u + 64u + 768u + 64u);
	void *aligned =
		sys_heap_aligned_realloc(&fx.heap, z, align, request_for(128));

	check_block(aligned, 128);
	assert_ptr_not_equal(aligned, z);
	assert_int_equal((uintptr_t)aligned % align, 0);
	assert_calls(++n, &fx.heap, 64u + 64u + 768u + 128u, THRESHOLD);
	assert_int_equal(allocated_now(), 64u + 64u + 768u + 128u);
	free_block(aligned);
	free_block(moved);
	free_block(guard);
	free_block(y);
	assert_int_equal(allocated_now(), 0);
	assert_int_equal(calls.count, n);
}

/* A threshold set while usage is already above it does not fire, nor do
 * later calls that stay above; it fires after usage falls and rises. */
static void test_threshold_set_while_above(void **state)
{
	(void)state;
	void *a = alloc_block(1024);

	assert_int_equal(sys_heap_usage_threshold_set(&fx.heap, 512), 0);
	assert_int_equal(calls.count, 0);
	void *b = alloc_block(64);

	assert_int_equal(calls.count, 0);
	free_block(a);
	assert_int_equal(allocated_now(), 64);
	a = alloc_block(1024);
	assert_calls(1, &fx.heap, 1088, 512);
	free_block(a);
	free_block(b);
}

/* 0 disables the threshold; a small value is rounded up to 8. */
static void test_threshold_zero_disables_and_rounds_up(void **state)
{
	(void)state;
	assert_int_equal(monitor_now().threshold_bytes, 0);

	/* No threshold after init: filling the whole heap does not call. */
	void *whole = sys_heap_alloc(&fx.heap, fx.initial_max_alloc_bytes);

	assert_non_null(whole);
	assert_int_equal(allocated_now(), total_bytes);
	assert_int_equal(calls.count, 0);
	free_block(whole);

	/* Set, then cleared: still no call. */
	assert_int_equal(sys_heap_usage_threshold_set(&fx.heap, 64), 0);
	assert_int_equal(monitor_now().threshold_bytes, 64);
	assert_int_equal(sys_heap_usage_threshold_set(&fx.heap, 0), 0);
	assert_int_equal(monitor_now().threshold_bytes, 0);
	whole = sys_heap_alloc(&fx.heap, fx.initial_max_alloc_bytes);
	assert_non_null(whole);
	assert_int_equal(calls.count, 0);
	free_block(whole);

	/* Rounding: 1..8 all mean 8 bytes, 9 means 16. */
	for (size_t bytes = 1; bytes <= 8u; bytes++) {
		assert_int_equal(sys_heap_usage_threshold_set(&fx.heap, bytes),
				 0);
		assert_int_equal(monitor_now().threshold_bytes, 8);
	}
	assert_int_equal(sys_heap_usage_threshold_set(&fx.heap, 9), 0);
	assert_int_equal(monitor_now().threshold_bytes, 16);

	/* Threshold 8 (from 1): the smallest block (8 bytes with 4-byte
	 * headers and no canary, else 16) crosses iff it is larger than 8. */
	assert_int_equal(sys_heap_usage_threshold_set(&fx.heap, 1), 0);
	void *tiny = sys_heap_alloc(&fx.heap, 1);

	assert_non_null(tiny);
	size_t tiny_bytes = test_block_bytes(&fx.heap, tiny);

	if (tiny_bytes > 8u) {
		assert_calls(1, &fx.heap, tiny_bytes, 8);
	} else {
		assert_int_equal(calls.count, 0);
		void *next = sys_heap_alloc(&fx.heap, 1);

		assert_non_null(next);
		assert_calls(1, &fx.heap, 16, 8);
		free_block(next);
	}
	free_block(tiny);
}

/* A threshold at or above the heap's size can never be exceeded; one just
 * below it is exceeded by filling the heap. What threshold_bytes reads for
 * these is not checked: the core keeps them as the heap's size (not the
 * rounded request the header describes), and the last 7 size_t values
 * wrap to 0 ("none") when rounded up; both still never fire. */
static void test_threshold_above_heap_never_fires(void **state)
{
	const size_t above[] = {
		total_bytes,
		total_bytes + 1u,
		fx.region_bytes,
		2u * fx.region_bytes,
		(size_t)UINT32_MAX * 8u,
		SIZE_MAX / 2u,
		SIZE_MAX - 8u,
		SIZE_MAX,
	};

	(void)state;
	for (size_t i = 0; i < sizeof(above) / sizeof(above[0]); i++) {
		assert_int_equal(
			sys_heap_usage_threshold_set(&fx.heap, above[i]), 0);
		/* The whole heap in one block, then in small blocks. */
		void *whole =
			sys_heap_alloc(&fx.heap, fx.initial_max_alloc_bytes);

		assert_non_null(whole);
		assert_int_equal(allocated_now(), total_bytes);
		free_block(whole);
		void *first = sys_heap_alloc(&fx.heap, 1);

		assert_non_null(first);
		void *rest = sys_heap_realloc(&fx.heap, first,
					      fx.initial_max_alloc_bytes);
		assert_ptr_equal(rest, first);
		assert_int_equal(allocated_now(), total_bytes);
		free_block(rest);
		if (calls.count != 0u) {
			fail_msg("threshold %zu (heap %zu bytes) fired at "
				 "%zu bytes",
				 above[i], total_bytes, calls.allocated_bytes);
		}
	}

	/* One granule below the heap's size: filling it crosses. */
	assert_int_equal(
		sys_heap_usage_threshold_set(&fx.heap, total_bytes - 8u), 0);
	void *whole = sys_heap_alloc(&fx.heap, fx.initial_max_alloc_bytes);

	assert_non_null(whole);
	assert_calls(1, &fx.heap, total_bytes, total_bytes - 8u);
	free_block(whole);
}

/* Without a callback, crossings are harmless; installing one later does
 * not report the crossing that already happened. */
static void test_null_callback_is_safe(void **state)
{
	(void)state;
	sys_heap_usage_callback_set(NULL);
	assert_int_equal(sys_heap_usage_threshold_set(&fx.heap, 256), 0);
	void *a = alloc_block(512);
	void *b = sys_heap_realloc(&fx.heap, NULL, request_for(64));

	check_block(b, 64);
	assert_null(sys_heap_alloc(&fx.heap, 0));
	assert_int_equal(failures_now(), 1);
	assert_int_equal(calls.count, 0);

	sys_heap_usage_callback_set(on_usage);
	void *c = alloc_block(64);

	assert_int_equal(calls.count, 0);
	free_block(a);
	free_block(c);
	assert_int_equal(allocated_now(), 64);
	a = alloc_block(512);
	assert_calls(1, &fx.heap, 576, 256);
	free_block(a);
	free_block(b);
}

/* The callback is told which heap crossed, with that heap's figures. */
static void test_callback_gets_the_crossing_heap(void **state)
{
	const size_t other_bytes = 4096u;
	uint8_t *other_region = malloc(other_bytes);
	struct sys_heap other;

	(void)state;
	assert_non_null(other_region);
	assert_int_equal(sys_heap_init(&other, other_region, other_bytes), 0);
	assert_int_equal(sys_heap_usage_threshold_set(&other, 100), 0);
	assert_int_equal(sys_heap_usage_threshold_set(&fx.heap, 2000), 0);

	/* 4-byte headers in the other heap: a 60-byte request is 64. */
	size_t other_overhead = 4u + SYS_HEAP_CANARY_BYTES;
	void *o1 = sys_heap_alloc(&other, 64u - other_overhead);
	void *o2 = sys_heap_alloc(&other, 64u - other_overhead);

	assert_non_null(o1);
	assert_non_null(o2);
	assert_calls(1, &other, 128, 104);
	assert_int_equal(monitor_of(&other).threshold_bytes, 104);

	void *a = alloc_block(2048);

	assert_calls(2, &fx.heap, 2048, 2000);
	/* fx.heap staying above does not re-fire; the other heap's
	 * threshold is its own. */
	void *b = alloc_block(64);

	assert_int_equal(calls.count, 2);
	sys_heap_free(&other, o2);
	void *o3 = sys_heap_alloc(&other, 64u - other_overhead);

	assert_calls(3, &other, 128, 104);
	sys_heap_free(&other, o3);
	sys_heap_free(&other, o1);
	assert_true(sys_heap_validate(&other));
	free_block(a);
	free_block(b);
	free(other_region);
}

/* --- fragmentation ----------------------------------------------------- */

static void test_fragmentation_fresh_heap_is_zero(void **state)
{
	struct sys_heap_monitor m;

	(void)state;
	m = monitor_now();
	assert_int_equal(m.alloc_failures, 0);
	assert_int_equal(m.allocated_bytes, 0);
	assert_int_equal(m.max_allocated_bytes, 0);
	assert_int_equal(m.free_bytes, total_bytes);
	assert_int_equal(m.largest_free_bytes, total_bytes);
	assert_int_equal(m.fragmentation_permille, 0);
	assert_int_equal(m.threshold_bytes, 0);
}

/* No free memory at all: 0 (not a division by zero). Filled two ways: one
 * block, and the smallest blocks until nothing is left. */
static void test_fragmentation_full_heap_is_zero(void **state)
{
	struct sys_heap_monitor m;
	size_t capacity = total_bytes / 8u;
	void **blocks = calloc(capacity, sizeof(void *));
	size_t count = 0;

	(void)state;
	assert_non_null(blocks);
	void *whole = sys_heap_alloc(&fx.heap, fx.initial_max_alloc_bytes);

	assert_non_null(whole);
	m = monitor_now();
	assert_int_equal(m.free_bytes, 0);
	assert_int_equal(m.largest_free_bytes, 0);
	assert_int_equal(m.fragmentation_permille, 0);
	free_block(whole);

	for (;;) {
		void *mem = sys_heap_alloc(&fx.heap, 1);

		if (mem == NULL) {
			break;
		}
		assert_true(count < capacity);
		if (count > 0u) {
			assert_adjacent(blocks[count - 1u],
					test_block_bytes(&fx.heap,
							 blocks[count - 1u]),
					mem);
		}
		blocks[count++] = mem;
	}
	assert_true(count > 2u);
	/* What is left is smaller than the smallest block (with the FULL
	 * canary a small heap's blocks are 2 chunks, so 1 chunk may stay
	 * free); as one piece it is not fragmented. */
	size_t smallest = test_block_bytes(&fx.heap, blocks[0]);
	m = monitor_now();
	size_t leftover = m.free_bytes;

	assert_true(leftover < smallest);
	assert_int_equal(m.fragmentation_permille, 0);
	/* Free every other one: separate pieces, all of the smallest block
	 * size but perhaps the last (which may have taken a remainder too
	 * small to split off). The leftover joins the last block if that
	 * one is freed, else it is a piece of its own. */
	size_t freed_bytes = leftover;
	size_t largest = leftover;

	for (size_t i = 0; i < count; i += 2u) {
		size_t bytes = test_block_bytes(&fx.heap, blocks[i]);

		if (i == count - 1u) {
			bytes += leftover;
			freed_bytes -= leftover;
		}
		freed_bytes += bytes;
		largest = bytes > largest ? bytes : largest;
		sys_heap_free(&fx.heap, blocks[i]);
		blocks[i] = NULL;
	}
	assert_true(sys_heap_validate(&fx.heap));
	m = monitor_now();
	assert_int_equal(m.free_bytes, freed_bytes);
	assert_int_equal(m.largest_free_bytes, largest);
	assert_int_equal(m.fragmentation_permille,
			 1000u - largest * 1000u / freed_bytes);
	/* Thousands of equal pieces: as fragmented as it gets. */
	assert_true(m.fragmentation_permille >= 999u);
	for (size_t i = 1; i < count; i += 2u) {
		sys_heap_free(&fx.heap, blocks[i]);
	}
	assert_int_equal(monitor_now().fragmentation_permille, 0);
	free(blocks);
}

/*
 * A constructed layout with hand-computed figures: 16 blocks of 64 bytes
 * and a tail block taking the rest, so nothing is free. Freeing blocks
 * 0, 2, .. 14 leaves 8 separate 64-byte pieces:
 *   free 512, largest 64: 1000 - 64 * 1000 / 512 = 875.
 * Freeing block 1 then merges blocks 0..2 into one 192-byte piece:
 *   free 576, largest 192: 1000 - 192000 / 576 = 1000 - 333 = 667.
 * Freeing the tail adds one piece larger than all the rest together.
 */
static void test_fragmentation_exact_for_constructed_layout(void **state)
{
	enum {
		N = 16
	};
	const size_t piece = 64u;
	void *blocks[N];
	struct sys_heap_monitor m;
	struct sys_memory_stats stats;

	(void)state;
	for (size_t i = 0; i < N; i++) {
		blocks[i] = alloc_block(piece);
		if (i > 0u) {
			assert_adjacent(blocks[i - 1u], piece, blocks[i]);
		}
	}
	size_t tail_request = sys_heap_max_alloc_bytes(&fx.heap);
	void *tail = sys_heap_alloc(&fx.heap, tail_request);

	assert_non_null(tail);
	assert_adjacent(blocks[N - 1], piece, tail);
	size_t tail_bytes = test_block_bytes(&fx.heap, tail);

	assert_int_equal(N * piece + tail_bytes, total_bytes);
	assert_int_equal(monitor_now().fragmentation_permille, 0);

	for (size_t i = 0; i < N; i += 2u) {
		free_block(blocks[i]);
	}
	stats = stats_of(&fx.heap);
	assert_int_equal(stats.free_bytes, 8u * piece);
	m = monitor_now();
	assert_int_equal(m.free_bytes, 512);
	assert_int_equal(m.largest_free_bytes, 64);
	assert_int_equal(m.fragmentation_permille, 875);
	assert_int_equal(m.fragmentation_permille,
			 1000u - piece * 1000u / stats.free_bytes);

	free_block(blocks[1]);
	stats = stats_of(&fx.heap);
	assert_int_equal(stats.free_bytes, 9u * piece);
	m = monitor_now();
	assert_int_equal(m.free_bytes, 576);
	assert_int_equal(m.largest_free_bytes, 192);
	assert_int_equal(m.fragmentation_permille, 667);
	assert_int_equal(m.fragmentation_permille,
			 1000u - 3u * piece * 1000u / stats.free_bytes);

	/* The tail comes back: largest is the tail block, and the figure
	 * falls to 1000 - tail * 1000 / (576 + tail). */
	free_block(tail);
	m = monitor_now();
	assert_int_equal(m.free_bytes, 576u + tail_bytes);
	assert_int_equal(m.largest_free_bytes, tail_bytes);
	assert_int_equal(m.fragmentation_permille,
			 1000u - tail_bytes * 1000u / (576u + tail_bytes));
	assert_true(m.fragmentation_permille < 100u);

	for (size_t i = 3; i < N; i += 2u) {
		free_block(blocks[i]);
	}
	m = monitor_now();
	assert_int_equal(m.free_bytes, total_bytes);
	assert_int_equal(m.fragmentation_permille, 0);
}

/*
 * The largest free block is found wherever it sits in the top size class
 * list, not only at its head: two free blocks of 17 and 16 chunks (136
 * and 128 bytes, one size class), freed in both orders.
 *   free 264, largest 136: 1000 - 136000 / 264 = 1000 - 515 = 485.
 */
static void test_fragmentation_largest_not_at_list_head(void **state)
{
	(void)state;
	for (int order = 0; order < 2; order++) {
		void *g0 = alloc_block(16);
		void *p = alloc_block(136);
		void *g1 = alloc_block(16);
		void *q = alloc_block(128);
		void *g2 = alloc_block(16);

		assert_adjacent(g0, 16, p);
		assert_adjacent(p, 136, g1);
		assert_adjacent(g1, 16, q);
		assert_adjacent(q, 128, g2);
		void *tail = sys_heap_alloc(&fx.heap,
					    sys_heap_max_alloc_bytes(&fx.heap));

		assert_non_null(tail);
		assert_int_equal(stats_of(&fx.heap).free_bytes, 0);
		if (order == 0) {
			free_block(p);
			free_block(q);
		} else {
			free_block(q);
			free_block(p);
		}
		struct sys_heap_monitor m = monitor_now();

		assert_int_equal(m.free_bytes, 264);
		assert_int_equal(m.largest_free_bytes, 136);
		assert_int_equal(m.fragmentation_permille, 485);
		free_block(g0);
		free_block(g1);
		free_block(g2);
		free_block(tail);
		assert_int_equal(monitor_now().free_bytes, total_bytes);
	}
}

/* --- high watermark ---------------------------------------------------- */

static void test_watermark_is_runtime_stats_max(void **state)
{
	struct sys_heap_monitor m;

	(void)state;
	void *a = alloc_block(1024);
	void *b = alloc_block(2048);

	m = monitor_now();
	assert_int_equal(m.max_allocated_bytes, 3072);
	free_block(b);
	m = monitor_now();
	assert_int_equal(m.allocated_bytes, 1024);
	assert_int_equal(m.max_allocated_bytes, 3072);
	a = realloc_block(a, 4096);
	m = monitor_now();
	assert_int_equal(m.max_allocated_bytes, 4096);
	assert_int_equal(sys_heap_runtime_stats_reset_max(&fx.heap), 0);
	free_block(a);
	m = monitor_now();
	assert_int_equal(m.max_allocated_bytes, 4096);
	assert_int_equal(sys_heap_runtime_stats_reset_max(&fx.heap), 0);
	assert_int_equal(monitor_now().max_allocated_bytes, 0);
}

/* --- randomized model check -------------------------------------------- */

#define MODEL_SLOTS 64u
#define MODEL_STEPS 4000u

/* The largest free block, recomputed from the live blocks alone: blocks
 * tile the block area (which starts at first_mem - header) and free
 * neighbours always coalesce, so every gap between live blocks is exactly
 * one free block. */
static size_t largest_gap(void *const *live, size_t count,
			  const uint8_t *first_mem)
{
	const uint8_t *sorted[MODEL_SLOTS];
	size_t n = 0;
	size_t largest = 0;
	const uint8_t *cursor = first_mem;

	for (size_t i = 0; i < count; i++) {
		if (live[i] != NULL) {
			const uint8_t *p = live[i];
			size_t j = n++;

			/* Insertion sort by address. */
			while (j > 0u && sorted[j - 1u] > p) {
				sorted[j] = sorted[j - 1u];
				j--;
			}
			sorted[j] = p;
		}
	}
	for (size_t i = 0; i < n; i++) {
		size_t gap = (size_t)(sorted[i] - cursor);

		largest = gap > largest ? gap : largest;
		cursor = sorted[i] + test_block_bytes(&fx.heap, sorted[i]);
	}
	size_t gap = (size_t)(first_mem + total_bytes - cursor);

	return gap > largest ? gap : largest;
}

/*
 * Random allocating calls, frees, threshold changes and watermark resets,
 * each checked against a model: the failure counter rises by one exactly
 * when an allocating call returns NULL, the callback fires exactly when a
 * successful call takes usage from <= threshold to > threshold, and the
 * monitor agrees with the runtime stats and with the largest free block
 * recomputed from the live blocks.
 */
static void test_random_operations_match_model(void **state)
{
	uint64_t seed = test_seed();
	struct test_rng rng;
	void *live[MODEL_SLOTS] = {0};
	size_t threshold = 0;
	uint32_t failures = 0;
	unsigned int expected_calls = 0;
	size_t max_request = fx.region_bytes / 16u;

	(void)state;
	test_rng_seed(&rng, seed);
	/* Where the block area starts: the first block of a fresh heap. */
	uint8_t *first_mem = sys_heap_alloc(&fx.heap, 1);

	assert_non_null(first_mem);
	sys_heap_free(&fx.heap, first_mem);
	assert_int_equal(sys_heap_runtime_stats_reset_max(&fx.heap), 0);

	for (unsigned int step = 0; step < MODEL_STEPS; step++) {
		size_t slot = (size_t)test_rng_below(&rng, MODEL_SLOTS);
		unsigned int op = (unsigned int)test_rng_below(&rng, 100);
		size_t bytes = (size_t)test_rng_log_uniform(&rng, max_request);
		size_t align = (size_t)8u << test_rng_below(&rng, 8);
		size_t before = allocated_now();
		bool allocating = true;
		void *result = NULL;

		if (test_rng_percent(&rng, 3)) {
			/* Sometimes impossible or invalid. */
			bytes = test_rng_percent(&rng, 50) ? 0u
							   : fx.region_bytes;
		}
		if (op < 5u) {
			threshold = test_rng_percent(&rng, 20)
					    ? 0u
					    : (size_t)test_rng_below(
						      &rng, total_bytes / 4u);
			assert_int_equal(sys_heap_usage_threshold_set(
						 &fx.heap, threshold),
					 0);
			threshold = test_round_up_8(threshold);
			allocating = false;
		} else if (op < 7u) {
			assert_int_equal(
				sys_heap_runtime_stats_reset_max(&fx.heap), 0);
			allocating = false;
		} else if (live[slot] != NULL && op < 45u) {
			sys_heap_free(&fx.heap, live[slot]);
			live[slot] = NULL;
			allocating = false;
		} else if (live[slot] != NULL) {
			if (op < 60u) {
				result = sys_heap_aligned_realloc(
					&fx.heap, live[slot], align, bytes);
			} else {
				result = sys_heap_realloc(&fx.heap, live[slot],
							  bytes);
			}
			if (bytes == 0u) {
				/* A free, not an allocating call. */
				live[slot] = NULL;
				allocating = false;
			} else if (result != NULL) {
				live[slot] = result;
			}
		} else if (op < 60u) {
			result = sys_heap_aligned_alloc(&fx.heap, align, bytes);
			live[slot] = result;
		} else {
			result = sys_heap_alloc(&fx.heap, bytes);
			live[slot] = result;
		}

		size_t after = allocated_now();

		if (allocating && result == NULL) {
			failures++;
		}
		if (allocating && result != NULL && threshold != 0u &&
		    before <= threshold && after > threshold) {
			expected_calls++;
			assert_ptr_equal(calls.heap, &fx.heap);
			assert_int_equal(calls.allocated_bytes, after);
			assert_int_equal(calls.threshold_bytes, threshold);
		}
		struct sys_heap_monitor m = monitor_now();

		if (m.alloc_failures != failures ||
		    calls.count != expected_calls ||
		    m.threshold_bytes != threshold) {
			fail_msg("step %u (op %u, %zu bytes, align %zu): "
				 "failures %u (model %u), calls %u (model "
				 "%u), threshold %zu (model %zu), usage "
				 "%zu -> %zu",
				 step, op, bytes, align,
				 (unsigned int)m.alloc_failures,
				 (unsigned int)failures, calls.count,
				 expected_calls, m.threshold_bytes, threshold,
				 before, after);
		}
		size_t gap = largest_gap(live, MODEL_SLOTS, first_mem);

		if (m.largest_free_bytes != gap) {
			fail_msg("step %u: largest free %zu, recount %zu", step,
				 m.largest_free_bytes, gap);
		}
		assert_true(sys_heap_validate(&fx.heap));
	}
	for (size_t i = 0; i < MODEL_SLOTS; i++) {
		sys_heap_free(&fx.heap, live[i]);
	}
	assert_int_equal(monitor_now().free_bytes, total_bytes);
}

/* --- common: arguments and the minimum region ------------------------- */

static void test_monitor_calls_reject_bad_heaps(void **state)
{
	uint64_t region[64];
	uint64_t not_a_heap[16] = {0};
	struct sys_heap heap;
	struct sys_heap uninitialised = {.heap = NULL};
	struct sys_heap garbage = {.heap = (struct z_heap *)(void *)not_a_heap};
	struct sys_heap failed;
	struct sys_heap_monitor m;

	(void)state;
	assert_int_equal(sys_heap_init(&failed, region, 8), -EINVAL);
	assert_int_equal(sys_heap_init(&heap, region, sizeof(region)), 0);

	assert_int_equal(sys_heap_monitor_get(NULL, &m), -EINVAL);
	assert_int_equal(sys_heap_monitor_get(&heap, NULL), -EINVAL);
	assert_int_equal(sys_heap_monitor_get(&uninitialised, &m), -EINVAL);
	assert_int_equal(sys_heap_monitor_get(&garbage, &m), -EINVAL);
	assert_int_equal(sys_heap_monitor_get(&failed, &m), -EINVAL);

	assert_int_equal(sys_heap_usage_threshold_set(NULL, 8), -EINVAL);
	assert_int_equal(sys_heap_usage_threshold_set(&uninitialised, 8),
			 -EINVAL);
	assert_int_equal(sys_heap_usage_threshold_set(&garbage, 8), -EINVAL);
	assert_int_equal(sys_heap_usage_threshold_set(&failed, 8), -EINVAL);
	/* Nothing was written through the bogus handle. */
	for (size_t i = 0; i < 16u; i++) {
		assert_int_equal(not_a_heap[i], 0);
	}

	/* Allocating on an uninitialised heap fails without a heap to
	 * count on, and does not crash. */
	assert_null(sys_heap_alloc(&uninitialised, 8));
	assert_null(sys_heap_alloc(&failed, 8));

	assert_int_equal(sys_heap_monitor_get(&heap, &m), 0);
	assert_int_equal(sys_heap_usage_threshold_set(&heap, 8), 0);
}

/* Monitoring makes the control block 8 bytes larger, and the minimum
 * region with it: a region of SYS_HEAP_MIN_REGION_BYTES at every base
 * offset holds exactly one block of 1 to 4 bytes (1 to 8 with the FULL
 * hardening canary); the smallest region at each offset (Z_HEAP_MIN_SIZE
 * plus the start bytes lost to alignment) less one byte is refused. */
static void test_minimum_region_with_monitoring(void **state)
{
	enum {
		GUARD_BYTES = 32
	};
	_Alignas(8) uint8_t buffer[GUARD_BYTES + 8 + SYS_HEAP_MIN_REGION_BYTES +
				   GUARD_BYTES];
	const size_t usable = SYS_HEAP_CANARY_BYTES != 0u ? 8u : 4u;

	(void)state;
	assert_int_equal(Z_HEAP_MIN_SIZE,
			 (SYS_HEAP_CANARY_BYTES != 0u ? 56u : 40u) + 8u);
	for (size_t offset = 0; offset < 8u; offset++) {
		uint8_t *region = buffer + GUARD_BYTES + offset;
		struct sys_heap heap;

		/* The previous offset's heap left part of the buffer
		 * poisoned for memory checkers. */
		test_meta_release(buffer, sizeof(buffer));
		memset(buffer, 0xe7, sizeof(buffer));
		assert_int_equal(sys_heap_init(&heap, region,
					       SYS_HEAP_MIN_REGION_BYTES),
				 0);
		assert_int_equal(sys_heap_header_bytes(&heap), 4);
		assert_true(sys_heap_validate(&heap));
		assert_int_equal(monitor_of(&heap).fragmentation_permille, 0);

		void *mem = sys_heap_alloc(&heap, 1);

		assert_non_null(mem);
		test_assert_block_in_region(&heap, mem, usable, region,
					    SYS_HEAP_MIN_REGION_BYTES);
		memset(mem, 0x11, sys_heap_usable_size(&heap, mem));
		assert_null(sys_heap_alloc(&heap, 1));
		assert_int_equal(monitor_of(&heap).alloc_failures, 1);
		assert_int_equal(monitor_of(&heap).free_bytes, 0);
		sys_heap_free(&heap, mem);

		/* The one block is of 1..usable bytes, not more. */
		assert_null(sys_heap_alloc(&heap, usable + 1u));
		mem = sys_heap_alloc(&heap, usable);
		assert_non_null(mem);
		memset(mem, 0x22, usable);
		sys_heap_free(&heap, mem);
		assert_true(sys_heap_validate(&heap));
		assert_int_equal(monitor_of(&heap).alloc_failures, 2);

		test_assert_bytes_are(buffer, GUARD_BYTES + offset, 0xe7);
		test_assert_bytes_are(region + SYS_HEAP_MIN_REGION_BYTES,
				      sizeof(buffer) - GUARD_BYTES - offset -
					      SYS_HEAP_MIN_REGION_BYTES,
				      0xe7);

		assert_int_equal(sys_heap_init(&heap, region,
					       Z_HEAP_MIN_SIZE +
						       (8u - offset) % 8u - 1u),
				 -EINVAL);
		assert_int_equal(sys_heap_monitor_get(
					 &heap, &(struct sys_heap_monitor){0}),
				 -EINVAL);
	}
}

/* --- test tables ------------------------------------------------------- */

#define HEAP_TEST(fn)                                                          \
	cmocka_unit_test_setup_teardown(fn, fixture_setup, fixture_teardown)

static const struct CMUnitTest common_tests[] = {
	cmocka_unit_test(test_monitor_calls_reject_bad_heaps),
	cmocka_unit_test(test_minimum_region_with_monitoring),
};

static const struct CMUnitTest per_format_tests[] = {
	HEAP_TEST(test_failures_count_each_null_call),
	HEAP_TEST(test_failures_are_per_heap),
	HEAP_TEST(test_threshold_fires_once_per_upward_crossing),
	HEAP_TEST(test_threshold_set_while_above),
	HEAP_TEST(test_threshold_zero_disables_and_rounds_up),
	HEAP_TEST(test_threshold_above_heap_never_fires),
	HEAP_TEST(test_null_callback_is_safe),
	HEAP_TEST(test_callback_gets_the_crossing_heap),
	HEAP_TEST(test_fragmentation_fresh_heap_is_zero),
	HEAP_TEST(test_fragmentation_full_heap_is_zero),
	HEAP_TEST(test_fragmentation_exact_for_constructed_layout),
	HEAP_TEST(test_fragmentation_largest_not_at_list_head),
	HEAP_TEST(test_watermark_is_runtime_stats_max),
	HEAP_TEST(test_random_operations_match_model),
};

int main(int argc, char **argv)
{
	int failed = 0;

	if (argc > 1) {
		cmocka_set_test_filter(argv[1]);
	}
	fault_capture_install();
	failed += cmocka_run_group_tests_name("sys_heap monitor common",
					      common_tests, NULL, NULL);
	failed += HEAP_FORMAT_RUN_GROUP(format, small_format, per_format_tests);
	failed += HEAP_FORMAT_RUN_GROUP(format, big_format, per_format_tests);
	fault_capture_uninstall();
	return failed == 0 ? 0 : 1;
}
