/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Model-based property test of sys_heap.
 *
 * A shadow model keeps every live block (pointer, requested size,
 * alignment, usable size, token id). Random operation sequences, driven by
 * the seeded PRNG, run against the heap and the model together; after
 * EVERY operation:
 *   - sys_heap_validate() is true;
 *   - the new or resized block lies inside the region, honours its
 *     alignment, is at least as large as requested and overlaps no other
 *     live block;
 *   - runtime stats equal the model: allocated_bytes is the sum of
 *     round_up_8(usable_size + header_bytes) over live blocks, free +
 *     allocated is constant, max_allocated_bytes is the watermark;
 *   - listeners saw exactly the events the operation implies;
 *   - refused requests changed nothing.
 * Tokens are checked in every block before it is freed or resized, in all
 * live blocks every FULL_CHECK_INTERVAL operations and at the end of each
 * run. The live set is steered toward a target fill (50% or 100% of the
 * heap); at 100% most allocations fail at the edge, which is the point.
 *
 * Usage: test_sys_heap_property <configuration>   (see configs[] below)
 *   KHEAP_SEED=<n>            run only this seed (replay a failure)
 *   KHEAP_PROPERTY_OPS=<n>    operations per seed instead of 2 per heap byte
 *
 * The Cortex-M targets (target/) run the same file, bounded at build time:
 * KHEAP_PROPERTY_MAX_SEEDS fixed seeds at most per configuration,
 * KHEAP_PROPERTY_MAX_OPS operations at most per seed, and with
 * KHEAP_TEST_FIXED_SEED defined no extra "random" seed.
 */
#include "test_heap_support.h"
#include "test_listener_log.h"

#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <zephyr/sys/heap_listener.h>
#include <zephyr/sys/sys_heap.h>

/* --- configurations ---------------------------------------------------- */

struct prop_config {
	const char *name;
	size_t region_bytes;
	/* Steer the live set toward this share of the heap. */
	unsigned int target_fill_percent;
	/* How many of the fixed seeds to run (plus one random seed). */
	unsigned int fixed_seeds;
	/* Ordinary requests are log-uniform in [min_request_bytes,
	 * max_request_bytes]; TINY_REQUEST_PERCENT of them are 1..64. */
	size_t min_request_bytes;
	size_t max_request_bytes;
};

/*
 * Regions just over SYS_HEAP_SMALL_REGION_MAX_BYTES get 8-byte headers.
 * The run time is ops (2 per heap byte) x blocks (validate walks them all
 * after every op), so these 130-times-larger heaps run fewer seeds and
 * larger requests: at 100% fill, requests of a few bytes would otherwise
 * fill every gap and leave ten thousand blocks to walk per op.
 */
#define BIG_REGION_BYTES (SYS_HEAP_SMALL_REGION_MAX_BYTES + 2048u)

static const struct prop_config configs[] = {
	{"small-2k-50", 2048, 50, 32, 1, 256},
	{"small-2k-100", 2048, 100, 32, 1, 256},
	{"small-8k-50", 8192, 50, 32, 1, 1024},
	{"small-8k-100", 8192, 100, 32, 1, 1024},
	{"big-258k-50", BIG_REGION_BYTES, 50, 2, 512, 8192},
	{"big-258k-100", BIG_REGION_BYTES, 100, 2, 1024, 8192},
};

/* Bounds for builds that run on slow or small targets (default: none). */
#ifndef KHEAP_PROPERTY_MAX_SEEDS
#define KHEAP_PROPERTY_MAX_SEEDS UINT_MAX
#endif
#ifndef KHEAP_PROPERTY_MAX_OPS
#define KHEAP_PROPERTY_MAX_OPS UINT64_MAX
#endif

#define TINY_REQUEST_PERCENT 5u
#define TINY_REQUEST_MAX_BYTES 64u

#define OPS_PER_HEAP_BYTE 2u
#define FULL_CHECK_INTERVAL 256u
/* Tokens are written over at most this many bytes of a block. */
#define FILL_CAP_BYTES 4096u
/* Refused requests in regions up to this size are checked byte by byte
 * (a snapshot per refusal); larger ones by stats and validate only. */
#define SNAPSHOT_MAX_REGION_BYTES 16384u

/* --- model ------------------------------------------------------------- */

struct live_block {
	uint8_t *mem;
	size_t requested_bytes;
	/* The align argument it was allocated or last resized with. */
	size_t align;
	/* usable_size when it was created or last resized: the heap never
	 * resizes a live block behind the caller's back. */
	size_t usable_bytes;
	/* Bytes holding tokens of token_id, from mem. */
	size_t filled_bytes;
	uint32_t token_id;
};

enum op_kind {
	OP_ALLOC,
	OP_ALIGNED_ALLOC,
	OP_NOALIGN_ALLOC,
	OP_REALLOC,
	OP_ALIGNED_REALLOC,
	OP_FREE,
	OP_USABLE_SIZE,
	OP_MAX_ALLOC,
	OP_RESET_MAX,
	OP_BAD_REQUEST,
	OP_COUNT,
};

static const char *const op_names[OP_COUNT] = {
	"alloc",           "aligned_alloc", "noalign_alloc", "realloc",
	"aligned_realloc", "free",          "usable_size",   "max_alloc",
	"reset_max",       "bad_request",
};

struct run {
	const struct prop_config *config;
	uint64_t seed;
	struct test_rng rng;
	uint8_t *region;
	struct sys_heap heap;
	size_t header_bytes;
	/* Header plus the FULL-hardening canary: what a block costs beyond
	 * its usable bytes, before rounding. */
	size_t overhead_bytes;
	/* free_bytes + allocated_bytes, fixed at init. */
	size_t total_bytes;

	struct live_block *blocks;
	size_t count;
	size_t capacity;
	uint32_t next_token_id;

	/* Model of the stats. */
	size_t allocated_bytes;
	/* Watermark bounds: a moving realloc holds both blocks for a
	 * moment, which the heap may count. */
	size_t max_low_bytes;
	size_t max_high_bytes;

	/* Progress, for failure messages. */
	uint64_t op_index;
	uint64_t op_total;
	char op_text[160];

	/* Counters for the summary line. */
	uint64_t ops_done[OP_COUNT];
	uint64_t allocs_refused;
};

static struct run run;

/* Listener events of the current operation: listener_log
 * (test_listener_log.h), reset before each one. */

/* --- failure reporting ------------------------------------------------- */

static void print_replay(void)
{
	fprintf(stderr,
		"\nFAILED config=%s seed=0x%016" PRIx64 " op %" PRIu64
		" of %" PRIu64 ": %s\n"
		"replay: KHEAP_SEED=0x%016" PRIx64
		" ./test_sys_heap_property %s\n",
		run.config != NULL ? run.config->name : "?", run.seed,
		run.op_index, run.op_total, run.op_text, run.seed,
		run.config != NULL ? run.config->name : "?");
}

#define prop_check(cond, ...)                                                  \
	do {                                                                   \
		if (!(cond)) {                                                 \
			print_replay();                                        \
			fail_msg(__VA_ARGS__);                                 \
		}                                                              \
	} while (0)

/* --- listeners --------------------------------------------------------- */

static HEAP_LISTENER_ALLOC_DEFINE(listener_alloc, 0, listener_log_on_alloc);
static HEAP_LISTENER_FREE_DEFINE(listener_free, 0, listener_log_on_free);
static HEAP_LISTENER_REALLOC_DEFINE(listener_realloc, 0,
				    listener_log_on_realloc);

static void expect_no_events(void)
{
	prop_check(listener_log.alloc_count + listener_log.free_count +
				   listener_log.realloc_count ==
			   0u,
		   "unexpected listener events: %u alloc, %u free, %u realloc",
		   listener_log.alloc_count, listener_log.free_count,
		   listener_log.realloc_count);
}

static void expect_alloc_event(void *mem, size_t usable)
{
	prop_check(listener_log.alloc_count == 1u &&
			   listener_log.free_count == 0u &&
			   listener_log.realloc_count == 0u,
		   "alloc: events %u alloc, %u free, %u realloc",
		   listener_log.alloc_count, listener_log.free_count,
		   listener_log.realloc_count);
	prop_check(listener_log.mem == mem && listener_log.bytes == usable,
		   "alloc event (%p, %zu), expected (%p, %zu)",
		   listener_log.mem, listener_log.bytes, mem, usable);
}

static void expect_free_event(void *mem, size_t usable)
{
	prop_check(listener_log.free_count == 1u &&
			   listener_log.alloc_count == 0u &&
			   listener_log.realloc_count == 0u,
		   "free: events %u alloc, %u free, %u realloc",
		   listener_log.alloc_count, listener_log.free_count,
		   listener_log.realloc_count);
	prop_check(listener_log.mem == mem && listener_log.bytes == usable,
		   "free event (%p, %zu), expected (%p, %zu)", listener_log.mem,
		   listener_log.bytes, mem, usable);
}

static void expect_realloc_event(void *old_mem, size_t old_usable, void *mem,
				 size_t usable)
{
	prop_check(listener_log.realloc_count == 1u &&
			   listener_log.alloc_count == 0u &&
			   listener_log.free_count == 0u,
		   "realloc: events %u alloc, %u free, %u realloc",
		   listener_log.alloc_count, listener_log.free_count,
		   listener_log.realloc_count);
	prop_check(
		listener_log.old_mem == old_mem &&
			listener_log.old_bytes == old_usable &&
			listener_log.mem == mem && listener_log.bytes == usable,
		"realloc event (%p, %zu -> %p, %zu), expected "
		"(%p, %zu -> %p, %zu)",
		listener_log.old_mem, listener_log.old_bytes, listener_log.mem,
		listener_log.bytes, old_mem, old_usable, mem, usable);
}

/* --- model helpers ----------------------------------------------------- */

static size_t block_bytes_of(size_t usable)
{
	return test_round_up_8(usable + run.overhead_bytes);
}

static void model_add(uint8_t *mem, size_t requested, size_t align,
		      size_t usable)
{
	if (run.count == run.capacity) {
		size_t capacity = run.capacity != 0u ? run.capacity * 2u : 64u;
		struct live_block *blocks =
			realloc(run.blocks, capacity * sizeof(*blocks));

		assert_non_null(blocks);
		run.blocks = blocks;
		run.capacity = capacity;
	}
	struct live_block *b = &run.blocks[run.count++];

	b->mem = mem;
	b->requested_bytes = requested;
	b->align = align;
	b->usable_bytes = usable;
	b->token_id = run.next_token_id++;
	b->filled_bytes = usable < FILL_CAP_BYTES ? usable : FILL_CAP_BYTES;
	test_token_fill(mem, b->filled_bytes, b->token_id);
	run.allocated_bytes += block_bytes_of(usable);
}

static void model_remove(size_t index)
{
	run.allocated_bytes -= block_bytes_of(run.blocks[index].usable_bytes);
	run.blocks[index] = run.blocks[--run.count];
}

static void check_tokens(const struct live_block *b)
{
	size_t bad = test_token_check(b->mem, b->filled_bytes, b->token_id);

	prop_check(bad == SIZE_MAX,
		   "block %p (%zu bytes requested, token %u): byte %zu "
		   "overwritten",
		   (void *)b->mem, b->requested_bytes,
		   (unsigned int)b->token_id, bad);
}

/* A block the heap just returned: inside the region, aligned as asked,
 * large enough, disjoint from every other live block (skip: its own
 * model index, or SIZE_MAX). Returns its usable size. */
static size_t check_new_block(const uint8_t *mem, size_t requested,
			      size_t align, size_t skip)
{
	uintptr_t lo = (uintptr_t)run.region;
	uintptr_t hi = lo + run.config->region_bytes;
	uintptr_t p = (uintptr_t)mem;
	size_t usable = sys_heap_usable_size(&run.heap, mem);

	prop_check(usable >= requested, "block %p: usable %zu < requested %zu",
		   (const void *)mem, usable, requested);
	prop_check(p >= lo && p < hi && usable <= hi - p,
		   "block %p + %zu outside the region [%p, %p)",
		   (const void *)mem, usable, (void *)run.region, (void *)hi);
	prop_check(test_pointer_honours_align(mem, align),
		   "block %p does not honour align %#zx", (const void *)mem,
		   align);
	for (size_t i = 0; i < run.count; i++) {
		const struct live_block *b = &run.blocks[i];

		if (i == skip) {
			continue;
		}
		prop_check((uintptr_t)mem + usable <= (uintptr_t)b->mem ||
				   (uintptr_t)b->mem + b->usable_bytes <= p,
			   "block %p + %zu overlaps live block %p + %zu",
			   (const void *)mem, usable, (void *)b->mem,
			   b->usable_bytes);
	}
	return usable;
}

/* --- request generators ------------------------------------------------ */

static size_t random_request_bytes(void)
{
	if (test_rng_percent(&run.rng, 2)) {
		/* Now and then something large: mostly refused at high
		 * fill, which is a case too. */
		return (size_t)test_rng_range(&run.rng, 1,
					      run.config->region_bytes);
	}
	if (test_rng_percent(&run.rng, TINY_REQUEST_PERCENT)) {
		return (size_t)test_rng_log_uniform(&run.rng,
						    TINY_REQUEST_MAX_BYTES);
	}
	size_t bytes;

	do {
		bytes = (size_t)test_rng_log_uniform(
			&run.rng, run.config->max_request_bytes);
	} while (bytes < run.config->min_request_bytes);
	return bytes;
}

/* 0, a power of two up to 4096, or a rewind form A | R (R < A, both
 * powers of two, A up to 4096). */
static size_t random_align(void)
{
	unsigned int roll = (unsigned int)test_rng_below(&run.rng, 10);

	if (roll == 0u) {
		return 0;
	}
	size_t a = (size_t)1u << test_rng_below(&run.rng, 13);

	if (roll <= 6u || a == 1u) {
		return a;
	}
	size_t r = (size_t)1u << test_rng_below(&run.rng, 12);

	while (r >= a) {
		r >>= 1;
	}
	return a | r;
}

/* The power-of-two part of an align argument (A of A | R). */
static size_t align_power(size_t align)
{
	size_t rewind = align & (0u - align);

	return align == rewind ? align : align - rewind;
}

/* --- the operations ---------------------------------------------------- */

static void do_allocate(enum op_kind kind)
{
	size_t bytes = random_request_bytes();
	size_t align = 0;
	void *mem;

	if (test_rng_percent(&run.rng, 1)) {
		bytes = 0;
	}
	switch (kind) {
	case OP_ALIGNED_ALLOC:
		align = random_align();
		snprintf(run.op_text, sizeof(run.op_text),
			 "aligned_alloc(align %#zx, %zu)", align, bytes);
		mem = sys_heap_aligned_alloc(&run.heap, align, bytes);
		break;
	case OP_NOALIGN_ALLOC: {
		size_t ignored = (size_t)test_rng_next(&run.rng);

		snprintf(run.op_text, sizeof(run.op_text),
			 "noalign_alloc(align %#zx, %zu)", ignored, bytes);
		mem = sys_heap_noalign_alloc(&run.heap, ignored, bytes);
		break;
	}
	default:
		snprintf(run.op_text, sizeof(run.op_text), "alloc(%zu)", bytes);
		mem = sys_heap_alloc(&run.heap, bytes);
		break;
	}
	if (mem == NULL) {
		run.allocs_refused++;
		expect_no_events();
		return;
	}
	prop_check(bytes != 0u, "%s returned %p", run.op_text, mem);
	prop_check(align_power(align) <= run.config->region_bytes,
		   "%s: align larger than the region was accepted",
		   run.op_text);
	size_t usable = check_new_block(mem, bytes, align, SIZE_MAX);

	expect_alloc_event(mem, usable);
	model_add(mem, bytes, align, usable);
}

static void do_free(void)
{
	size_t index = (size_t)test_rng_below(&run.rng, run.count);
	struct live_block *b = &run.blocks[index];

	snprintf(run.op_text, sizeof(run.op_text), "free(%p) (%zu bytes)",
		 (void *)b->mem, b->requested_bytes);
	check_tokens(b);
	sys_heap_free(&run.heap, b->mem);
	expect_free_event(b->mem, b->usable_bytes);
	model_remove(index);
}

static void do_resize(bool aligned)
{
	size_t index = (size_t)test_rng_below(&run.rng, run.count);
	struct live_block *b = &run.blocks[index];
	size_t align = aligned ? random_align() : 0u;
	size_t bytes;

	if (test_rng_percent(&run.rng, 3)) {
		bytes = 0;
	} else if (test_rng_percent(&run.rng, 40)) {
		/* Shrink (in place by contract). */
		bytes = (size_t)test_rng_range(&run.rng, 1, b->requested_bytes);
	} else {
		bytes = random_request_bytes();
	}
	snprintf(run.op_text, sizeof(run.op_text),
		 "%s(%p (%zu bytes, align %#zx), align %#zx, %zu)",
		 aligned ? "aligned_realloc" : "realloc", (void *)b->mem,
		 b->requested_bytes, b->align, align, bytes);
	check_tokens(b);

	uint8_t *old_mem = b->mem;
	size_t old_usable = b->usable_bytes;
	size_t allocated_before = run.allocated_bytes;
	struct sys_memory_stats before;

	assert_int_equal(sys_heap_runtime_stats_get(&run.heap, &before), 0);
	uint8_t *mem = aligned ? sys_heap_aligned_realloc(&run.heap, old_mem,
							  align, bytes)
			       : sys_heap_realloc(&run.heap, old_mem, bytes);

	if (bytes == 0u) {
		prop_check(mem == NULL, "%s returned %p", run.op_text,
			   (void *)mem);
		expect_free_event(old_mem, old_usable);
		model_remove(index);
		return;
	}
	if (mem == NULL) {
		/* Refused: the block is intact and still live. */
		struct sys_memory_stats after;

		run.allocs_refused++;
		expect_no_events();
		check_tokens(b);
		prop_check(sys_heap_usable_size(&run.heap, old_mem) ==
				   old_usable,
			   "refused %s changed the block's size", run.op_text);
		assert_int_equal(sys_heap_runtime_stats_get(&run.heap, &after),
				 0);
		prop_check(memcmp(&before, &after, sizeof(before)) == 0,
			   "refused %s changed the stats", run.op_text);
		return;
	}

	bool honours = align == 0u ||
		       test_pointer_honours_align(old_mem, align);

	if (bytes <= old_usable && honours) {
		prop_check(mem == old_mem, "%s: shrink moved the block to %p",
			   run.op_text, (void *)mem);
	}
	/* Plain realloc keeps a block where it is (rewound or not); a moved
	 * block is 8-byte aligned or aligned as asked. */
	size_t new_align = align == 0u && mem == old_mem ? b->align : align;
	size_t usable = check_new_block(mem, bytes, new_align, index);
	size_t kept = bytes < b->requested_bytes ? bytes : b->requested_bytes;

	if (kept > b->filled_bytes) {
		kept = b->filled_bytes;
	}
	size_t bad = test_token_check_moved(mem, kept, b->token_id, old_mem);

	prop_check(bad == SIZE_MAX, "%s -> %p: byte %zu of %zu not preserved",
		   run.op_text, (void *)mem, bad, kept);
	expect_realloc_event(old_mem, old_usable, mem, usable);

	if (mem != old_mem) {
		/* Both blocks were allocated for a moment. */
		size_t transient = allocated_before + block_bytes_of(usable);

		if (transient > run.max_high_bytes) {
			run.max_high_bytes = transient;
		}
	}
	model_remove(index);
	model_add(mem, bytes, new_align, usable);
}

static void do_usable_size(void)
{
	size_t index = (size_t)test_rng_below(&run.rng, run.count);
	const struct live_block *b = &run.blocks[index];

	snprintf(run.op_text, sizeof(run.op_text), "usable_size(%p)",
		 (void *)b->mem);
	size_t usable = sys_heap_usable_size(&run.heap, b->mem);

	prop_check(usable == b->usable_bytes,
		   "usable_size(%p) = %zu, was %zu when allocated",
		   (void *)b->mem, usable, b->usable_bytes);
	expect_no_events();
}

/* The largest request max_alloc_bytes() names must succeed. */
static void do_max_alloc(void)
{
	size_t max_bytes = sys_heap_max_alloc_bytes(&run.heap);
	struct sys_memory_stats stats;

	snprintf(run.op_text, sizeof(run.op_text), "alloc(max_alloc %zu)",
		 max_bytes);
	assert_int_equal(sys_heap_runtime_stats_get(&run.heap, &stats), 0);
	if (max_bytes == 0u) {
		if (stats.free_bytes == 0u) {
			prop_check(sys_heap_alloc(&run.heap, 1) == NULL,
				   "alloc(1) succeeded with 0 free bytes");
		}
		expect_no_events();
		return;
	}
	prop_check(max_bytes + run.overhead_bytes <= stats.free_bytes,
		   "max_alloc %zu > free bytes %zu", max_bytes,
		   stats.free_bytes);
	void *mem = sys_heap_alloc(&run.heap, max_bytes);

	prop_check(mem != NULL, "alloc(max_alloc_bytes() = %zu) failed",
		   max_bytes);
	size_t usable = check_new_block(mem, max_bytes, 0, SIZE_MAX);

	expect_alloc_event(mem, usable);
	model_add(mem, max_bytes, 0, usable);
}

static void do_reset_max(void)
{
	snprintf(run.op_text, sizeof(run.op_text), "reset_max");
	assert_int_equal(sys_heap_runtime_stats_reset_max(&run.heap), 0);
	run.max_low_bytes = run.allocated_bytes;
	run.max_high_bytes = run.allocated_bytes;
	expect_no_events();
}

/* Requests that must be refused: sizes near SIZE_MAX / PTRDIFF_MAX or
 * larger than the region, malformed or oversized alignments, through
 * every entry point. Nothing may change. */
static void do_bad_request(void)
{
	const size_t bad_sizes[] = {
		SIZE_MAX,
		SIZE_MAX - (size_t)test_rng_below(&run.rng, 17),
		(size_t)PTRDIFF_MAX,
		(size_t)PTRDIFF_MAX + 1u,
		run.config->region_bytes,
		run.config->region_bytes - 1u,
	};
	const size_t bad_aligns[] = {
		7,
		0x70,
		4096u | 64u | 8u,
		SIZE_MAX,
		run.config->region_bytes * 2u,
	};
	size_t bytes = bad_sizes[test_rng_below(&run.rng, 6)];
	size_t bad_align = bad_aligns[test_rng_below(&run.rng, 5)];
	size_t align = random_align();
	unsigned int entry = (unsigned int)test_rng_below(&run.rng, 6);
	struct live_block *b =
		run.count != 0u
			? &run.blocks[test_rng_below(&run.rng, run.count)]
			: NULL;
	struct sys_memory_stats before, after;
	struct region_snapshot snap = {0};
	bool snapshot = run.config->region_bytes <= SNAPSHOT_MAX_REGION_BYTES;
	void *result;

	if (b == NULL && entry >= 3u) {
		entry = 0;
	}
	assert_int_equal(sys_heap_runtime_stats_get(&run.heap, &before), 0);
	if (snapshot) {
		region_snapshot_take(&snap, run.region,
				     run.config->region_bytes);
	}
	switch (entry) {
	case 0:
		snprintf(run.op_text, sizeof(run.op_text), "alloc(%#zx)",
			 bytes);
		result = sys_heap_alloc(&run.heap, bytes);
		break;
	case 1:
		snprintf(run.op_text, sizeof(run.op_text),
			 "aligned_alloc(%#zx, %#zx)", align, bytes);
		result = sys_heap_aligned_alloc(&run.heap, align, bytes);
		break;
	case 2:
		snprintf(run.op_text, sizeof(run.op_text),
			 "aligned_alloc(bad align %#zx, 16)", bad_align);
		result = sys_heap_aligned_alloc(&run.heap, bad_align, 16);
		break;
	case 3:
		snprintf(run.op_text, sizeof(run.op_text), "realloc(%p, %#zx)",
			 (void *)b->mem, bytes);
		result = sys_heap_realloc(&run.heap, b->mem, bytes);
		break;
	case 4:
		snprintf(run.op_text, sizeof(run.op_text),
			 "aligned_realloc(%p, %#zx, %#zx)", (void *)b->mem,
			 align, bytes);
		result = sys_heap_aligned_realloc(&run.heap, b->mem, align,
						  bytes);
		break;
	default:
		/* Only malformed aligns here: a block that happens to have
		 * a huge alignment may legitimately be resized in place. */
		bad_align = bad_aligns[test_rng_below(&run.rng, 4)];
		snprintf(run.op_text, sizeof(run.op_text),
			 "aligned_realloc(%p, bad align %#zx, 16)",
			 (void *)b->mem, bad_align);
		result = sys_heap_aligned_realloc(&run.heap, b->mem, bad_align,
						  16);
		break;
	}
	prop_check(result == NULL, "%s returned %p", run.op_text, result);
	expect_no_events();
	if (snapshot) {
		prop_check(test_meta_diff(run.region, snap.copy,
					  run.config->region_bytes) == SIZE_MAX,
			   "refused %s changed the region", run.op_text);
		region_snapshot_release(&snap);
	}
	assert_int_equal(sys_heap_runtime_stats_get(&run.heap, &after), 0);
	prop_check(memcmp(&before, &after, sizeof(before)) == 0,
		   "refused %s changed the stats", run.op_text);
	if (b != NULL) {
		check_tokens(b);
	}
}

/* --- checks after every operation -------------------------------------- */

static void check_after_op(bool full)
{
	struct sys_memory_stats stats;
	size_t recount = 0;

	prop_check(sys_heap_validate(&run.heap), "validate failed after %s",
		   run.op_text);
	assert_int_equal(sys_heap_runtime_stats_get(&run.heap, &stats), 0);

	/* run.allocated_bytes is kept as the sum of round_up_8(usable +
	 * header) with each block's usable size as the heap reported it;
	 * the full check re-reads every usable size (the costly part). */
	if (full) {
		for (size_t i = 0; i < run.count; i++) {
			recount +=
				test_block_bytes(&run.heap, run.blocks[i].mem);
		}
		prop_check(recount == run.allocated_bytes,
			   "usable sizes changed: recount %zu, model %zu",
			   recount, run.allocated_bytes);
	}
	prop_check(stats.allocated_bytes == run.allocated_bytes,
		   "allocated_bytes %zu, model %zu", stats.allocated_bytes,
		   run.allocated_bytes);
	prop_check(stats.free_bytes + stats.allocated_bytes == run.total_bytes,
		   "free %zu + allocated %zu != %zu", stats.free_bytes,
		   stats.allocated_bytes, run.total_bytes);

	if (run.allocated_bytes > run.max_low_bytes) {
		run.max_low_bytes = run.allocated_bytes;
	}
	if (run.allocated_bytes > run.max_high_bytes) {
		run.max_high_bytes = run.allocated_bytes;
	}
	prop_check(stats.max_allocated_bytes >= run.max_low_bytes &&
			   stats.max_allocated_bytes <= run.max_high_bytes,
		   "max_allocated_bytes %zu outside the model's [%zu, %zu]",
		   stats.max_allocated_bytes, run.max_low_bytes,
		   run.max_high_bytes);

	if (full) {
		for (size_t i = 0; i < run.count; i++) {
			check_tokens(&run.blocks[i]);
		}
	}
}

/* --- one run ----------------------------------------------------------- */

static enum op_kind choose_op(void)
{
	/* Weights below and above the target fill. */
	static const unsigned int grow_weights[OP_COUNT] = {
		[OP_ALLOC] = 30,          [OP_ALIGNED_ALLOC] = 15,
		[OP_NOALIGN_ALLOC] = 5,   [OP_REALLOC] = 12,
		[OP_ALIGNED_REALLOC] = 6, [OP_FREE] = 16,
		[OP_USABLE_SIZE] = 5,     [OP_MAX_ALLOC] = 2,
		[OP_RESET_MAX] = 1,       [OP_BAD_REQUEST] = 1,
	};
	static const unsigned int shrink_weights[OP_COUNT] = {
		[OP_ALLOC] = 10,          [OP_ALIGNED_ALLOC] = 5,
		[OP_NOALIGN_ALLOC] = 2,   [OP_REALLOC] = 12,
		[OP_ALIGNED_REALLOC] = 6, [OP_FREE] = 55,
		[OP_USABLE_SIZE] = 5,     [OP_MAX_ALLOC] = 0,
		[OP_RESET_MAX] = 1,       [OP_BAD_REQUEST] = 1,
	};
	size_t target =
		run.total_bytes / 100u * run.config->target_fill_percent;
	const unsigned int *weights =
		run.allocated_bytes < target ? grow_weights : shrink_weights;
	unsigned int total = 0;

	for (unsigned int k = 0; k < OP_COUNT; k++) {
		total += weights[k];
	}
	unsigned int roll = (unsigned int)test_rng_below(&run.rng, total);
	unsigned int k = 0;

	while (roll >= weights[k]) {
		roll -= weights[k];
		k++;
	}
	/* Block operations need a live block. */
	if (run.count == 0u && (k == OP_REALLOC || k == OP_ALIGNED_REALLOC ||
				k == OP_FREE || k == OP_USABLE_SIZE)) {
		k = OP_ALLOC;
	}
	return (enum op_kind)k;
}

static void run_one_seed(const struct prop_config *config, uint64_t seed,
			 uint64_t ops)
{
	struct sys_memory_stats stats;

	free(run.blocks);
	memset(&run, 0, sizeof(run));
	run.config = config;
	run.seed = seed;
	run.op_total = ops;
	snprintf(run.op_text, sizeof(run.op_text), "init");
	test_rng_seed(&run.rng, seed);
	printf("seed=0x%016" PRIx64 " config=%s ops=%" PRIu64 "\n", seed,
	       config->name, ops);
	fflush(stdout);

	run.region = malloc(config->region_bytes);
	assert_non_null(run.region);
	assert_int_equal(
		sys_heap_init(&run.heap, run.region, config->region_bytes), 0);
	run.header_bytes = sys_heap_header_bytes(&run.heap);
	assert_int_equal(run.header_bytes,
			 config->region_bytes <= SYS_HEAP_SMALL_REGION_MAX_BYTES
				 ? 4
				 : 8);
	run.overhead_bytes = run.header_bytes + SYS_HEAP_CANARY_BYTES;
	assert_int_equal(sys_heap_runtime_stats_get(&run.heap, &stats), 0);
	run.total_bytes = stats.free_bytes + stats.allocated_bytes;

	listener_alloc.heap_id = HEAP_ID_FROM_POINTER(&run.heap);
	listener_free.heap_id = HEAP_ID_FROM_POINTER(&run.heap);
	listener_realloc.heap_id = HEAP_ID_FROM_POINTER(&run.heap);
	heap_listener_register(&listener_alloc);
	heap_listener_register(&listener_free);
	heap_listener_register(&listener_realloc);

	for (run.op_index = 0; run.op_index < ops; run.op_index++) {
		enum op_kind kind = choose_op();

		listener_log_reset();
		run.ops_done[kind]++;
		switch (kind) {
		case OP_ALLOC:
		case OP_ALIGNED_ALLOC:
		case OP_NOALIGN_ALLOC:
			do_allocate(kind);
			break;
		case OP_REALLOC:
			do_resize(false);
			break;
		case OP_ALIGNED_REALLOC:
			do_resize(true);
			break;
		case OP_FREE:
			do_free();
			break;
		case OP_USABLE_SIZE:
			do_usable_size();
			break;
		case OP_MAX_ALLOC:
			do_max_alloc();
			break;
		case OP_RESET_MAX:
			do_reset_max();
			break;
		default:
			do_bad_request();
			break;
		}
		check_after_op((run.op_index + 1u) % FULL_CHECK_INTERVAL == 0u);
	}

	/* Drain: every block intact, then the heap is whole again. */
	snprintf(run.op_text, sizeof(run.op_text), "final drain");
	check_after_op(true);
	size_t live_at_end = run.count;

	while (run.count != 0u) {
		listener_log_reset();
		do_free();
		check_after_op(false);
	}
	assert_int_equal(sys_heap_runtime_stats_get(&run.heap, &stats), 0);
	prop_check(stats.allocated_bytes == 0u &&
			   stats.free_bytes == run.total_bytes,
		   "after freeing everything: free %zu, allocated %zu",
		   stats.free_bytes, stats.allocated_bytes);
	size_t whole = sys_heap_max_alloc_bytes(&run.heap);
	void *mem = sys_heap_alloc(&run.heap, whole);

	prop_check(whole + run.overhead_bytes == run.total_bytes,
		   "empty heap: max_alloc %zu, expected one block of %zu bytes",
		   whole, run.total_bytes);
	prop_check(mem != NULL, "empty heap: alloc(max_alloc %zu) failed",
		   whole);
	/* Given back before the region goes: memcheck (valgrind preset)
	 * reports a heap block still live when its region is freed. */
	sys_heap_free(&run.heap, mem);

	heap_listener_unregister(&listener_alloc);
	heap_listener_unregister(&listener_free);
	heap_listener_unregister(&listener_realloc);
	printf("  ok: %" PRIu64 " ops, %" PRIu64 " refused, %zu live at the "
	       "end;",
	       ops, run.allocs_refused, live_at_end);
	for (unsigned int k = 0; k < OP_COUNT; k++) {
		printf(" %s %" PRIu64, op_names[k], run.ops_done[k]);
	}
	printf("\n");
	free(run.region);
	run.region = NULL;
	free(run.blocks);
	run.blocks = NULL;
}

/* --- seeds and main ---------------------------------------------------- */

/* The i-th fixed seed: a fixed mix, the same on every platform. */
static uint64_t fixed_seed(unsigned int i)
{
	return test_mix64(0x6b68656170000000ull + i);
}

static const struct prop_config *selected;

static void test_property(void **state)
{
	const struct prop_config *config = selected;
	uint64_t ops = (uint64_t)config->region_bytes * OPS_PER_HEAP_BYTE;
	unsigned int seeds = config->fixed_seeds;
	uint64_t seed;
	uint64_t ops_override;

	(void)state;
	if (ops > (uint64_t)KHEAP_PROPERTY_MAX_OPS) {
		ops = (uint64_t)KHEAP_PROPERTY_MAX_OPS;
	}
	if (seeds > (unsigned int)KHEAP_PROPERTY_MAX_SEEDS) {
		seeds = (unsigned int)KHEAP_PROPERTY_MAX_SEEDS;
	}
	if (test_seed_from_env("KHEAP_PROPERTY_OPS", &ops_override)) {
		ops = ops_override;
	}
	if (test_seed_from_env("KHEAP_SEED", &seed)) {
		run_one_seed(config, seed, ops);
		return;
	}
	for (unsigned int i = 0; i < seeds; i++) {
		run_one_seed(config, fixed_seed(i), ops);
	}
#ifndef KHEAP_TEST_FIXED_SEED
	seed = test_seed_random();
	printf("random seed:\n");
	run_one_seed(config, seed, ops);
#endif
}

static void usage(void)
{
	fprintf(stderr, "usage: test_sys_heap_property <configuration>\n"
			"configurations:");
	for (size_t i = 0; i < sizeof(configs) / sizeof(configs[0]); i++) {
		fprintf(stderr, " %s", configs[i].name);
	}
	fprintf(stderr, "\nenvironment: KHEAP_SEED=<seed> replays one seed, "
			"KHEAP_PROPERTY_OPS=<n> sets the ops per seed\n");
}

static void on_internal_failure(void)
{
	if (run.config != NULL) {
		print_replay();
	}
}

int main(int argc, char **argv)
{
	if (argc != 2) {
		usage();
		return 2;
	}
	for (size_t i = 0; i < sizeof(configs) / sizeof(configs[0]); i++) {
		if (strcmp(argv[1], configs[i].name) == 0) {
			selected = &configs[i];
		}
	}
	if (selected == NULL) {
		usage();
		return 2;
	}
	const struct CMUnitTest tests[] = {
		{.name = selected->name, .test_func = test_property},
	};

	fault_capture_install();
	test_failure_context_set(on_internal_failure);
	int failed = cmocka_run_group_tests_name("sys_heap property", tests,
						 NULL, NULL);

	fault_capture_uninstall();
	return failed == 0 ? 0 : 1;
}
