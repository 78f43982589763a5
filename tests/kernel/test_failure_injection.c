/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Allocation-failure injection (kheap/failure_injection.h) through every
 * composite operation: the k_malloc family, the k_heap calls, the thread
 * pools (tracked autofree blocks included) and the core's own realloc /
 * aligned_realloc.
 *
 * A composite operation (a realloc that moves, a calloc, an aligned
 * wrapper that adds a heap reference) makes internal allocations, and a
 * bug on one of their failure paths (a leak, a freed or overwritten old
 * block, a half-linked autofree node) shows only when exactly that
 * allocation fails, which a full heap rarely arranges. So every scenario
 * below runs:
 *
 *   1. once without injection (kheap_fail_nth(0)): the number of internal
 *      allocations must be what the contract says (0 for an in-place
 *      resize, 1 for one that moves, ...), and the scenario must have the
 *      intended shape (a "grow that must move" really moves);
 *   2. for N = 1, 2, ... in "once" mode and in "sticky" mode, with the Nth
 *      internal allocation failing, until the operation makes fewer than
 *      N internal allocations. Each run with calls >= N must have injected
 *      a failure (kheap_fail_injected() > 0), so a core that stops asking
 *      z_kheap_fail_this_alloc() fails here.
 *
 * After each run: the result is what the contract says (NULL when an
 * allocation failed, unless a blocking call retried and its retry
 * succeeded), the heap is unchanged by a failed call (statistics and, for
 * the pools, every byte of the region), a failed realloc leaves the old
 * block allocated with its contents (tokens), a successful one carries the
 * contents over, calloc memory is zero, alignments hold, no fault is
 * reported, sys_heap_validate() holds, and after the test frees what it
 * holds the heap's free bytes are back at the baseline (no leak).
 *
 * Deterministic schedule, virtual clock: a blocking call's retry comes at
 * its deadline, which is checked to the tick. Not randomized: the
 * scenarios are a fixed table.
 *
 * Usage: test_failure_injection [test-name-pattern]
 */
#include "kernel_test.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include <kheap/failure_injection.h>
#include <zephyr/irq_offload.h>

#include "test_heap_support.h"

#if !CONFIG_KHEAP_FAILURE_INJECTION
#error "build against a core with CONFIG_KHEAP_FAILURE_INJECTION=1"
#endif

#define KMALLOC_ALIGN 8u
/* Blocking calls wait this long for their retry (virtual ticks). */
#define RETRY_TICKS 5

/* Two private heaps, one per header format (4-byte headers up to 256 KiB,
 * 8-byte above), besides the system heap of the k_malloc family. */
static struct k_heap pool_small;
static struct k_heap pool_big;
static unsigned char pool_small_region[4096] __attribute__((__aligned__(8)));
static unsigned char pool_big_region[300 * 1024]
	__attribute__((__aligned__(8)));

enum fi_where {
	FI_SYSTEM,
	FI_POOL_SMALL,
	FI_POOL_BIG,
};

enum fi_op {
	OP_K_MALLOC,
	OP_K_CALLOC,
	OP_K_ALIGNED_ALLOC,
	OP_K_REALLOC,
	OP_K_HEAP_ALLOC,
	OP_K_HEAP_ALIGNED_ALLOC,
	OP_K_HEAP_CALLOC,
	OP_K_HEAP_REALLOC,
	OP_Z_THREAD_MALLOC,
	OP_Z_THREAD_ALIGNED_ALLOC,
	OP_SYS_HEAP_ALLOC,
	OP_SYS_HEAP_ALIGNED_ALLOC,
	OP_SYS_HEAP_NOALIGN_ALLOC,
	OP_SYS_HEAP_REALLOC,
	OP_SYS_HEAP_ALIGNED_REALLOC,
};

/* What a realloc scenario must do when nothing fails. */
enum fi_shape {
	SHAPE_ANY,
	SHAPE_MOVES,
	SHAPE_IN_PLACE,
};

struct fi_scenario {
	const char *name;
	enum fi_op op;
	enum fi_where where;
	size_t align;
	/* Requested bytes (calloc: the element size). */
	size_t size;
	size_t nmemb;
	/* realloc: the block's size (0: realloc(NULL, size)) and, if
	 * nonzero, the alignment it was allocated with. */
	size_t old_bytes;
	size_t old_align;
	/* A block allocated before everything else, to move placements. */
	size_t prefix_bytes;
	/* realloc: a live block right after the old one, so that growing in
	 * place is impossible. */
	bool neighbour;
	/* Blocking calls: wait RETRY_TICKS for memory (else K_NO_WAIT). */
	bool blocking;
	/* Pool calls: main's pool is `where` with autofree on, so the
	 * k_malloc family's blocks are tracked. */
	bool autofree;
	/* Run the operation in ISR context (irq_offload). */
	bool in_isr;
	/* Internal allocations when nothing fails. */
	unsigned long expected_calls;
	enum fi_shape shape;
};

/* What one run saw. */
struct fi_outcome {
	void *result;
	unsigned long calls;
	unsigned long injected;
	int64_t ticks;
};

/* The blocks a run holds. */
#define MAX_FILLERS 40

struct fi_blocks {
	void *prefix;
	unsigned char *old;
	void *neighbour;
	/* Blocks that landed before the old block while looking for its
	 * right neighbour (an aligned block's free lead takes them). */
	void *fillers[MAX_FILLERS];
	unsigned int filler_count;
};

static struct k_heap *heap_of(enum fi_where where)
{
	switch (where) {
	case FI_POOL_SMALL:
		return &pool_small;
	case FI_POOL_BIG:
		return &pool_big;
	case FI_SYSTEM:
	default:
		return &_system_heap;
	}
}

static const char *where_name(enum fi_where where)
{
	switch (where) {
	case FI_POOL_SMALL:
		return "4 KiB k_heap";
	case FI_POOL_BIG:
		return "300 KiB k_heap";
	case FI_SYSTEM:
	default:
		return "system heap";
	}
}

static bool op_is_kmalloc_family(enum fi_op op)
{
	return op == OP_K_MALLOC || op == OP_K_CALLOC ||
	       op == OP_K_ALIGNED_ALLOC || op == OP_K_REALLOC ||
	       op == OP_Z_THREAD_MALLOC || op == OP_Z_THREAD_ALIGNED_ALLOC;
}

static bool op_is_sys_heap(enum fi_op op)
{
	return op >= OP_SYS_HEAP_ALLOC;
}

static bool op_is_realloc(enum fi_op op)
{
	return op == OP_K_REALLOC || op == OP_K_HEAP_REALLOC ||
	       op == OP_SYS_HEAP_REALLOC || op == OP_SYS_HEAP_ALIGNED_REALLOC;
}

static bool op_is_calloc(enum fi_op op)
{
	return op == OP_K_CALLOC || op == OP_K_HEAP_CALLOC;
}

/* The region a pool's snapshot covers (NULL for the system heap, whose
 * array is not exported: its statistics are compared instead). */
static void region_of(enum fi_where where, const void **base, size_t *bytes)
{
	*base = NULL;
	*bytes = 0;
	if (where == FI_POOL_SMALL) {
		*base = pool_small_region;
		*bytes = sizeof(pool_small_region);
	} else if (where == FI_POOL_BIG) {
		*base = pool_big_region;
		*bytes = sizeof(pool_big_region);
	}
}

/* ---- allocating and freeing the blocks a scenario works on ------------- */

/* A block of the scenario's family: k_malloc (or z_thread_malloc when
 * main has a pool), k_heap_alloc, or sys_heap_alloc. */
static void *family_alloc(const struct fi_scenario *s, size_t align,
			  size_t bytes)
{
	struct k_heap *heap = heap_of(s->where);

	if (op_is_kmalloc_family(s->op)) {
		if (s->where == FI_SYSTEM) {
			return align != 0u ? k_aligned_alloc(align, bytes)
					   : k_malloc(bytes);
		}
		return align != 0u ? z_thread_aligned_alloc(align, bytes)
				   : z_thread_malloc(bytes);
	}
	if (op_is_sys_heap(s->op)) {
		return align != 0u ? sys_heap_aligned_alloc(&heap->heap, align,
							    bytes)
				   : sys_heap_alloc(&heap->heap, bytes);
	}
	return k_heap_aligned_alloc(heap, align, bytes, K_NO_WAIT);
}

static void family_free(const struct fi_scenario *s, void *mem)
{
	struct k_heap *heap = heap_of(s->where);

	if (mem == NULL) {
		return;
	}
	if (op_is_kmalloc_family(s->op)) {
		k_free(mem);
	} else if (op_is_sys_heap(s->op)) {
		sys_heap_free(&heap->heap, mem);
	} else {
		k_heap_free(heap, mem);
	}
}

/* Whether main allocates from a pool for this scenario. */
static bool uses_thread_pool(const struct fi_scenario *s)
{
	return op_is_kmalloc_family(s->op) && s->where != FI_SYSTEM;
}

static void pool_setup(const struct fi_scenario *s)
{
	if (uses_thread_pool(s) || (s->in_isr && s->op == OP_Z_THREAD_MALLOC)) {
		/* In an ISR the pool is ignored: give main one anyway, so
		 * that using it would show in the wrong heap's stats. */
		k_thread_heap_assign(k_current_get(),
				     s->in_isr ? &pool_small
					       : heap_of(s->where));
		k_thread_pool_autofree(NULL, s->autofree);
	}
}

static void pool_teardown(void)
{
	k_thread_pool_autofree(NULL, false);
	k_thread_heap_assign(k_current_get(), NULL);
}

/* Dirty the heap's free space, so that calloc's zeroing is visible. */
static void dirty_free_space(const struct fi_scenario *s)
{
	void *mem = family_alloc(s, 0u, 1024u);

	assert_non_null(mem);
	memset(mem, 0xa5, 1024u);
	family_free(s, mem);
}

static void take_blocks(const struct fi_scenario *s, struct fi_blocks *b)
{
	memset(b, 0, sizeof(*b));
	if (op_is_calloc(s->op)) {
		dirty_free_space(s);
	}
	if (s->prefix_bytes != 0u) {
		b->prefix = family_alloc(s, 0u, s->prefix_bytes);
		assert_non_null(b->prefix);
	}
	if (op_is_realloc(s->op) && s->old_bytes != 0u) {
		b->old = family_alloc(s, s->old_align, s->old_bytes);
		assert_non_null(b->old);
		test_token_fill(b->old, s->old_bytes, 0x01d);
	}
	while (s->neighbour && b->neighbour == NULL) {
		void *mem = family_alloc(s, 0u, 24u);

		assert_non_null(mem);
		if ((uintptr_t)mem > (uintptr_t)b->old) {
			b->neighbour = mem;
			test_token_fill(b->neighbour, 24u, 0xb0b);
		} else {
			assert_true(b->filler_count < MAX_FILLERS);
			b->fillers[b->filler_count++] = mem;
		}
	}
}

/* ---- the operation ----------------------------------------------------- */

static const struct fi_scenario *isr_scenario;
static struct fi_blocks *isr_blocks;
static void *isr_result;

static void *do_op(const struct fi_scenario *s, struct fi_blocks *b)
{
	struct k_heap *heap = heap_of(s->where);
	k_timeout_t timeout = s->blocking ? K_TICKS(RETRY_TICKS) : K_NO_WAIT;

	switch (s->op) {
	case OP_K_MALLOC:
		return k_malloc(s->size);
	case OP_K_CALLOC:
		return k_calloc(s->nmemb, s->size);
	case OP_K_ALIGNED_ALLOC:
		return k_aligned_alloc(s->align, s->size);
	case OP_K_REALLOC:
		return k_realloc(b->old, s->size);
	case OP_K_HEAP_ALLOC:
		return k_heap_alloc(heap, s->size, timeout);
	case OP_K_HEAP_ALIGNED_ALLOC:
		return k_heap_aligned_alloc(heap, s->align, s->size, timeout);
	case OP_K_HEAP_CALLOC:
		return k_heap_calloc(heap, s->nmemb, s->size, timeout);
	case OP_K_HEAP_REALLOC:
		return k_heap_realloc(heap, b->old, s->size, timeout);
	case OP_Z_THREAD_MALLOC:
		return z_thread_malloc(s->size);
	case OP_Z_THREAD_ALIGNED_ALLOC:
		return z_thread_aligned_alloc(s->align, s->size);
	case OP_SYS_HEAP_ALLOC:
		return sys_heap_alloc(&heap->heap, s->size);
	case OP_SYS_HEAP_ALIGNED_ALLOC:
		return sys_heap_aligned_alloc(&heap->heap, s->align, s->size);
	case OP_SYS_HEAP_NOALIGN_ALLOC:
		return sys_heap_noalign_alloc(&heap->heap, s->align, s->size);
	case OP_SYS_HEAP_REALLOC:
		return sys_heap_realloc(&heap->heap, b->old, s->size);
	case OP_SYS_HEAP_ALIGNED_REALLOC:
		return sys_heap_aligned_realloc(&heap->heap, b->old, s->align,
						s->size);
	}
	return NULL;
}

static void op_in_isr(const void *unused)
{
	(void)unused;
	isr_result = do_op(isr_scenario, isr_blocks);
}

/* Run the operation with the Nth internal allocation failing (0: none,
 * but still counted). */
static struct fi_outcome run_op(const struct fi_scenario *s,
				struct fi_blocks *b, unsigned long nth,
				bool sticky)
{
	struct fi_outcome out;
	int64_t start = sys_clock_tick_get();

	kt_faults_expect();
	kheap_fail_nth(nth, sticky);
	if (s->in_isr) {
		isr_scenario = s;
		isr_blocks = b;
		isr_result = NULL;
		irq_offload(op_in_isr, NULL);
		out.result = isr_result;
	} else {
		out.result = do_op(s, b);
	}
	out.calls = kheap_fail_calls();
	out.injected = kheap_fail_injected();
	kheap_fail_nth(0u, false);
	out.ticks = sys_clock_tick_get() - start;
	kt_faults_assert_none();
	return out;
}

/* ---- checks ------------------------------------------------------------ */

/* The bytes a successful result must hold. */
static size_t request_bytes(const struct fi_scenario *s)
{
	return op_is_calloc(s->op) ? s->nmemb * s->size : s->size;
}

/* Whether the result must honour s->align (in sys_heap_aligned_alloc's
 * sense: a power of two, or the rewind form A | R). */
static bool result_aligned(const struct fi_scenario *s, const void *mem)
{
	uintptr_t p = (uintptr_t)mem;

	switch (s->op) {
	case OP_K_ALIGNED_ALLOC:
	case OP_Z_THREAD_ALIGNED_ALLOC:
		return (p &
			((s->align < KMALLOC_ALIGN ? KMALLOC_ALIGN : s->align) -
			 1u)) == 0u;
	case OP_K_HEAP_ALIGNED_ALLOC:
	case OP_SYS_HEAP_ALIGNED_ALLOC:
	case OP_SYS_HEAP_ALIGNED_REALLOC:
		return test_pointer_honours_align(mem, s->align);
	default:
		return (p & (KMALLOC_ALIGN - 1u)) == 0u;
	}
}

/* A successful call: the block is usable, aligned, zeroed (calloc), and a
 * realloc carried the contents over and has the intended shape. */
static void check_success(const struct fi_scenario *s, struct fi_blocks *b,
			  unsigned char *mem, const char *what)
{
	size_t bytes = request_bytes(s);

	if (!result_aligned(s, mem)) {
		fail_msg("%s: %p does not honour alignment %#zx", what,
			 (void *)mem, s->align);
	}
	if (op_is_calloc(s->op)) {
		for (size_t i = 0; i < bytes; i++) {
			if (mem[i] != 0u) {
				fail_msg("%s: calloc byte %zu is %#x", what, i,
					 mem[i]);
			}
		}
	}
	if (op_is_realloc(s->op) && b->old != NULL) {
		size_t kept = s->old_bytes < bytes ? s->old_bytes : bytes;
		size_t bad = test_token_check_moved(mem, kept, 0x01d, b->old);

		if (bad != SIZE_MAX) {
			fail_msg("%s: byte %zu of %zu not carried over", what,
				 bad, kept);
		}
		if (s->shape == SHAPE_MOVES && mem == b->old) {
			fail_msg("%s: expected to move, stayed at %p", what,
				 (void *)mem);
		}
		if (s->shape == SHAPE_IN_PLACE && mem != b->old) {
			fail_msg("%s: expected in place, moved %p -> %p", what,
				 (void *)b->old, (void *)mem);
		}
	}
	test_token_fill(mem, bytes, 0x2e5);
	assert_int_equal(test_token_check(mem, bytes, 0x2e5), SIZE_MAX);
}

/* Free what a run holds (the old block only if the call did not take it
 * over), then compare with the baseline. */
static void release_and_check(const struct fi_scenario *s, struct fi_blocks *b,
			      void *result, size_t baseline, const char *what)
{
	struct k_heap *heap = heap_of(s->where);
	/* realloc(p, 0) frees p and so does a successful realloc. */
	bool old_taken = op_is_realloc(s->op) &&
			 (result != NULL || s->size == 0u);

	kt_faults_expect();
	if (b->neighbour != NULL) {
		assert_int_equal(test_token_check(b->neighbour, 24u, 0xb0b),
				 SIZE_MAX);
	}
	family_free(s, result);
	if (!old_taken) {
		family_free(s, b->old);
	}
	family_free(s, b->neighbour);
	for (unsigned int i = 0; i < b->filler_count; i++) {
		family_free(s, b->fillers[i]);
	}
	family_free(s, b->prefix);
	/* A failed realloc that had freed the old block would show here as
	 * a double-free fault. */
	kt_faults_assert_none();
	if (!kt_heap_valid(heap)) {
		fail_msg("%s: sys_heap_validate failed after the run", what);
	}
	size_t free_now = kt_heap_free_bytes(heap);

	if (free_now != baseline) {
		fail_msg("%s: %zu free bytes after freeing everything, "
			 "baseline %zu (leak of %zd)",
			 what, free_now, baseline,
			 (ssize_t)baseline - (ssize_t)free_now);
	}
}

/* One run with the Nth allocation failing; returns its outcome. */
static struct fi_outcome run_one(const struct fi_scenario *s, unsigned long nth,
				 bool sticky, size_t baseline)
{
	struct k_heap *heap = heap_of(s->where);
	struct fi_blocks b;
	struct region_snapshot snap;
	const void *region;
	size_t region_bytes;
	char what[200];

	snprintf(what, sizeof(what), "%s (%s), %s N=%lu", s->name,
		 where_name(s->where),
		 nth == 0u ? "no injection"
		 : sticky  ? "sticky"
			   : "once",
		 nth);
	take_blocks(s, &b);
	region_of(s->where, &region, &region_bytes);
	if (region != NULL) {
		region_snapshot_take(&snap, region, region_bytes);
	}
	struct sys_memory_stats before;
	struct sys_memory_stats after;

	kt_heap_stats(heap, &before);
	struct fi_outcome out = run_op(s, &b, nth, sticky);

	kt_heap_stats(heap, &after);

	/* Every run that reached its Nth allocation injected a failure. */
	if (nth != 0u && out.calls >= nth && out.injected == 0u) {
		fail_msg("%s: %lu internal allocations, none failed", what,
			 out.calls);
	}
	if (nth != 0u && out.calls < nth && out.injected != 0u) {
		fail_msg("%s: %lu failures injected in %lu allocations", what,
			 out.injected, out.calls);
	}
	if (nth != 0u && out.calls >= nth) {
		unsigned long expected = sticky ? out.calls - nth + 1u : 1u;

		if (out.injected != expected) {
			fail_msg("%s: %lu failures injected, expected %lu",
				 what, out.injected, expected);
		}
	}

	/* The contract: NULL after an injected failure unless a blocking
	 * call retried after it and its retry succeeded (once mode); a
	 * realloc to 0 bytes is NULL anyway. */
	bool retried = s->blocking && out.injected != 0u && !sticky;
	bool frees = op_is_realloc(s->op) && s->size == 0u;
	bool want_success = !frees && (out.injected == 0u || retried);

	if (want_success) {
		if (out.result == NULL) {
			fail_msg("%s: NULL, expected success (%lu calls, %lu "
				 "injected)",
				 what, out.calls, out.injected);
		}
		check_success(s, &b, out.result, what);
	} else {
		if (out.result != NULL) {
			fail_msg("%s: %p, expected NULL (%lu calls, %lu "
				 "injected)",
				 what, out.result, out.calls, out.injected);
		}
		if (!frees) {
			/* A refused call changes nothing: not the heap,
			 * not the old block. */
			assert_memory_equal(&before, &after, sizeof(before));
			if (region != NULL) {
				region_snapshot_assert_same(&snap, what);
			}
			if (b.old != NULL) {
				size_t bad = test_token_check(
					b.old, s->old_bytes, 0x01d);

				if (bad != SIZE_MAX) {
					fail_msg("%s: old block byte %zu "
						 "changed",
						 what, bad);
				}
			}
		}
	}
	/* A blocking call that failed its first attempt waited for its
	 * deadline; otherwise no time passes. */
	int64_t want_ticks = s->blocking && out.injected != 0u ? RETRY_TICKS
							       : 0;

	if (out.ticks != want_ticks) {
		fail_msg("%s: took %" PRId64 " ticks, expected %" PRId64, what,
			 out.ticks, want_ticks);
	}
	if (region != NULL) {
		region_snapshot_release(&snap);
	}
	release_and_check(s, &b, out.result, baseline, what);
	return out;
}

/* Totals over every scenario, for the summary line. */
static unsigned long total_runs;
static unsigned long total_injected_runs;

static void run_scenario(const struct fi_scenario *s)
{
	struct k_heap *heap = heap_of(s->where);
	char line[256];
	int len;

	pool_setup(s);
	/* Each scenario starts on an empty heap, so that placements (and
	 * with them the shapes: in place or moving) are the ones intended. */
	assert_int_equal(kt_heap_allocated_bytes(heap), 0);
	size_t baseline = kt_heap_free_bytes(heap);
	struct fi_outcome dry = run_one(s, 0u, false, baseline);

	if (dry.calls != s->expected_calls) {
		fail_msg("%s (%s): %lu internal allocations without "
			 "injection, the contract says %lu",
			 s->name, where_name(s->where), dry.calls,
			 s->expected_calls);
	}
	len = snprintf(line, sizeof(line), "# %s (%s): %lu internal", s->name,
		       where_name(s->where), dry.calls);
	for (int mode = 0; mode < 2; mode++) {
		bool sticky = mode == 1;
		unsigned long nth;

		for (nth = 1u;; nth++) {
			struct fi_outcome out =
				run_one(s, nth, sticky, baseline);

			total_runs++;
			if (out.calls < nth) {
				break;
			}
			total_injected_runs++;
		}
		/* Every allocation the operation makes was failed once. */
		if (nth - 1u < s->expected_calls) {
			fail_msg("%s (%s), %s: failed only %lu of %lu "
				 "allocations",
				 s->name, where_name(s->where),
				 sticky ? "sticky" : "once", nth - 1u,
				 s->expected_calls);
		}
		if (len > 0 && (size_t)len < sizeof(line)) {
			len += snprintf(line + len, sizeof(line) - (size_t)len,
					"; %s N=1..%lu",
					sticky ? "sticky" : "once", nth - 1u);
		}
	}
	printf("%s\n", line);
	pool_teardown();
}

static void run_table(const struct fi_scenario *table, size_t count)
{
	for (size_t i = 0; i < count; i++) {
		run_scenario(&table[i]);
	}
}

#define RUN_TABLE(table) run_table((table), sizeof(table) / sizeof((table)[0]))

/* ---- the scenarios ----------------------------------------------------- */

/* Realloc shapes, for each realloc entry point: grow that must move (a
 * live neighbour), grow in place (free space after the block), shrink,
 * realloc(NULL, n) and realloc(p, 0). */
#define REALLOC_SHAPES(opname, op_, where_)                                    \
	{.name = opname " grow, must move",                                    \
	 .op = op_,                                                            \
	 .where = where_,                                                      \
	 .size = 300,                                                          \
	 .old_bytes = 64,                                                      \
	 .neighbour = true,                                                    \
	 .expected_calls = 1,                                                  \
	 .shape = SHAPE_MOVES},                                                \
		{                                                              \
			.name = opname " grow in place",                       \
			.op = op_,                                             \
			.where = where_,                                       \
			.size = 300,                                           \
			.old_bytes = 64,                                       \
			.expected_calls = 0,                                   \
			.shape = SHAPE_IN_PLACE,                               \
		},                                                             \
		{                                                              \
			.name = opname " shrink",                              \
			.op = op_,                                             \
			.where = where_,                                       \
			.size = 40,                                            \
			.old_bytes = 300,                                      \
			.neighbour = true,                                     \
			.expected_calls = 0,                                   \
			.shape = SHAPE_IN_PLACE,                               \
		},                                                             \
		{                                                              \
			.name = opname " NULL pointer",                        \
			.op = op_,                                             \
			.where = where_,                                       \
			.size = 100,                                           \
			.expected_calls = 1,                                   \
		},                                                             \
	{                                                                      \
		.name = opname " size 0", .op = op_, .where = where_,          \
		.size = 0, .old_bytes = 64, .neighbour = true,                 \
		.expected_calls = 0                                            \
	}

static void test_injection_counts_and_modes(void **state)
{
	(void)state;
	void *mem[4];

	/* nth 0: nothing fails, but every allocation is counted. */
	kheap_fail_nth(0u, false);
	for (int i = 0; i < 3; i++) {
		mem[i] = sys_heap_alloc(&pool_small.heap, 16);
		assert_non_null(mem[i]);
	}
	assert_int_equal(kheap_fail_calls(), 3);
	assert_int_equal(kheap_fail_injected(), 0);
	for (int i = 0; i < 3; i++) {
		sys_heap_free(&pool_small.heap, mem[i]);
	}

	/* Once: only the 2nd fails. */
	kheap_fail_nth(2u, false);
	for (int i = 0; i < 4; i++) {
		mem[i] = sys_heap_alloc(&pool_small.heap, 16);
	}
	assert_non_null(mem[0]);
	assert_null(mem[1]);
	assert_non_null(mem[2]);
	assert_non_null(mem[3]);
	assert_int_equal(kheap_fail_calls(), 4);
	assert_int_equal(kheap_fail_injected(), 1);

	/* Sticky: the 2nd and every later one; a free is no allocation. */
	kheap_fail_nth(2u, true);
	sys_heap_free(&pool_small.heap, mem[0]);
	assert_non_null(mem[0] = sys_heap_alloc(&pool_small.heap, 16));
	assert_null(sys_heap_aligned_alloc(&pool_small.heap, 64, 16));
	assert_null(sys_heap_noalign_alloc(&pool_small.heap, 64, 16));
	assert_int_equal(kheap_fail_calls(), 3);
	assert_int_equal(kheap_fail_injected(), 2);
	kheap_fail_nth(0u, false);
	for (int i = 0; i < 4; i++) {
		sys_heap_free(&pool_small.heap, mem[i]);
	}
	assert_int_equal(kt_heap_allocated_bytes(&pool_small), 0);
	assert_true(kt_heap_valid(&pool_small));
}

static void test_k_malloc_family(void **state)
{
	(void)state;
	static const struct fi_scenario table[] = {
		{.name = "k_malloc",
		 .op = OP_K_MALLOC,
		 .size = 100,
		 .expected_calls = 1},
		{.name = "k_malloc(0)",
		 .op = OP_K_MALLOC,
		 .size = 0,
		 .expected_calls = 1},
		{.name = "k_calloc",
		 .op = OP_K_CALLOC,
		 .nmemb = 10,
		 .size = 30,
		 .expected_calls = 1},
		REALLOC_SHAPES("k_realloc", OP_K_REALLOC, FI_SYSTEM),
	};

	RUN_TABLE(table);
}

static void test_k_aligned_alloc(void **state)
{
	(void)state;
	/* The heap reference goes below the caller's memory: k_aligned_alloc
	 * asks for the rewind form align | 8. Each alignment with and
	 * without a block before it (another placement). */
	static const size_t aligns[] = {1, 8, 16, 32, 64, 256, 1024, 4096};
	static const size_t prefixes[] = {0, 4, 20, 100};

	for (size_t a = 0; a < sizeof(aligns) / sizeof(aligns[0]); a++) {
		for (size_t p = 0; p < sizeof(prefixes) / sizeof(prefixes[0]);
		     p++) {
			struct fi_scenario s = {
				.name = "k_aligned_alloc",
				.op = OP_K_ALIGNED_ALLOC,
				.align = aligns[a],
				.size = 72,
				.prefix_bytes = prefixes[p],
				.expected_calls = 1,
			};

			run_scenario(&s);
		}
	}
}

static void test_k_heap_calls(void **state)
{
	(void)state;
	static const struct fi_scenario table[] = {
		{.name = "k_heap_alloc",
		 .op = OP_K_HEAP_ALLOC,
		 .where = FI_POOL_SMALL,
		 .size = 100,
		 .expected_calls = 1},
		{.name = "k_heap_alloc",
		 .op = OP_K_HEAP_ALLOC,
		 .where = FI_POOL_BIG,
		 .size = 100,
		 .expected_calls = 1},
		{.name = "k_heap_calloc",
		 .op = OP_K_HEAP_CALLOC,
		 .where = FI_POOL_SMALL,
		 .nmemb = 7,
		 .size = 33,
		 .expected_calls = 1},
		{.name = "k_heap_calloc",
		 .op = OP_K_HEAP_CALLOC,
		 .where = FI_POOL_BIG,
		 .nmemb = 7,
		 .size = 33,
		 .expected_calls = 1},
		REALLOC_SHAPES("k_heap_realloc", OP_K_HEAP_REALLOC,
			       FI_POOL_SMALL),
		REALLOC_SHAPES("k_heap_realloc", OP_K_HEAP_REALLOC,
			       FI_POOL_BIG),
	};

	RUN_TABLE(table);
}

/* With a timeout a failed attempt waits and tries again at its deadline:
 * in once mode the retry succeeds, in sticky mode it fails too. */
static void test_k_heap_blocking_retry(void **state)
{
	(void)state;
	static const struct fi_scenario table[] = {
		{.name = "k_heap_alloc, timeout",
		 .op = OP_K_HEAP_ALLOC,
		 .where = FI_POOL_SMALL,
		 .size = 100,
		 .blocking = true,
		 .expected_calls = 1},
		{.name = "k_heap_aligned_alloc, timeout",
		 .op = OP_K_HEAP_ALIGNED_ALLOC,
		 .where = FI_POOL_BIG,
		 .align = 256,
		 .size = 100,
		 .blocking = true,
		 .expected_calls = 1},
		{.name = "k_heap_calloc, timeout",
		 .op = OP_K_HEAP_CALLOC,
		 .where = FI_POOL_SMALL,
		 .nmemb = 3,
		 .size = 50,
		 .blocking = true,
		 .expected_calls = 1},
		{.name = "k_heap_realloc grow, must move, timeout",
		 .op = OP_K_HEAP_REALLOC,
		 .where = FI_POOL_SMALL,
		 .size = 300,
		 .old_bytes = 64,
		 .neighbour = true,
		 .blocking = true,
		 .expected_calls = 1,
		 .shape = SHAPE_MOVES},
		{.name = "k_heap_realloc NULL pointer, timeout",
		 .op = OP_K_HEAP_REALLOC,
		 .where = FI_POOL_BIG,
		 .size = 300,
		 .blocking = true,
		 .expected_calls = 1},
	};

	RUN_TABLE(table);
}

/* Power-of-two alignments up to 4096 and (sys_heap only: k_heap refuses
 * them) rewind forms A | R (R = 4 and R = 8 below A), behind prefixes of
 * several sizes, on both header formats: the placements include an empty
 * lead, a lead long enough to stay free, and (8-byte headers) a one-chunk
 * lead that is skipped. */
static void test_k_heap_aligned_alloc(void **state)
{
	(void)state;
	static const size_t aligns[] = {
		16, 64, 256, 1024, 4096, 64 | 4u, 256 | 4u, 4096 | 4u, 64 | 8u};
	static const size_t prefixes[] = {0, 4, 12, 20, 60, 124};
	static const enum fi_where wheres[] = {FI_POOL_SMALL, FI_POOL_BIG};
	static const enum fi_op ops[] = {OP_K_HEAP_ALIGNED_ALLOC,
					 OP_SYS_HEAP_ALIGNED_ALLOC};

	for (size_t o = 0; o < 2; o++) {
		for (size_t w = 0; w < 2; w++) {
			for (size_t a = 0;
			     a < sizeof(aligns) / sizeof(aligns[0]); a++) {
				for (size_t p = 0;
				     p < sizeof(prefixes) / sizeof(prefixes[0]);
				     p++) {
					/* The 4 KiB heap has no room for a
					 * 4096-aligned block. */
					if (wheres[w] == FI_POOL_SMALL &&
					    aligns[a] >= 4096u) {
						continue;
					}
					if (ops[o] == OP_K_HEAP_ALIGNED_ALLOC &&
					    (aligns[a] & (aligns[a] - 1u)) !=
						    0u) {
						continue;
					}
					struct fi_scenario s = {
						.name = ops[o] == OP_K_HEAP_ALIGNED_ALLOC
								? "k_heap_aligned_alloc"
								: "sys_heap_aligned_alloc",
						.op = ops[o],
						.where = wheres[w],
						.align = aligns[a],
						.size = 40,
						.prefix_bytes = prefixes[p],
						.expected_calls = 1,
					};

					run_scenario(&s);
				}
			}
		}
	}
}

static void test_thread_pools(void **state)
{
	(void)state;
	static const struct fi_scenario table[] = {
		{.name = "z_thread_malloc",
		 .op = OP_Z_THREAD_MALLOC,
		 .where = FI_POOL_SMALL,
		 .size = 100,
		 .expected_calls = 1},
		{.name = "z_thread_aligned_alloc",
		 .op = OP_Z_THREAD_ALIGNED_ALLOC,
		 .where = FI_POOL_BIG,
		 .align = 512,
		 .size = 100,
		 .expected_calls = 1},
		{.name = "z_thread_malloc, autofree",
		 .op = OP_Z_THREAD_MALLOC,
		 .where = FI_POOL_SMALL,
		 .size = 100,
		 .autofree = true,
		 .expected_calls = 1},
		{.name = "z_thread_aligned_alloc, autofree",
		 .op = OP_Z_THREAD_ALIGNED_ALLOC,
		 .where = FI_POOL_SMALL,
		 .align = 256,
		 .size = 100,
		 .autofree = true,
		 .expected_calls = 1},
		{.name = "z_thread_malloc in an ISR",
		 .op = OP_Z_THREAD_MALLOC,
		 .where = FI_SYSTEM,
		 .size = 100,
		 .in_isr = true,
		 .expected_calls = 1},
		/* Pool blocks (untracked) resize in their heap like
		 * k_malloc blocks. */
		REALLOC_SHAPES("k_realloc of a pool block", OP_K_REALLOC,
			       FI_POOL_BIG),
		/* Tracked blocks always move with their node: allocate,
		 * copy, free; even a shrink makes one allocation. */
		{.name = "k_realloc of a tracked block, grow",
		 .op = OP_K_REALLOC,
		 .where = FI_POOL_SMALL,
		 .size = 300,
		 .old_bytes = 64,
		 .neighbour = true,
		 .autofree = true,
		 .expected_calls = 1,
		 .shape = SHAPE_MOVES},
		{.name = "k_realloc of a tracked block, shrink",
		 .op = OP_K_REALLOC,
		 .where = FI_POOL_SMALL,
		 .size = 40,
		 .old_bytes = 300,
		 .autofree = true,
		 .expected_calls = 1,
		 .shape = SHAPE_MOVES},
		{.name = "k_realloc of a tracked block, size 0",
		 .op = OP_K_REALLOC,
		 .where = FI_POOL_SMALL,
		 .size = 0,
		 .old_bytes = 300,
		 .autofree = true,
		 .expected_calls = 0},
	};

	RUN_TABLE(table);
}

static void test_sys_heap_calls(void **state)
{
	(void)state;
	static const struct fi_scenario table[] = {
		{.name = "sys_heap_alloc",
		 .op = OP_SYS_HEAP_ALLOC,
		 .where = FI_POOL_SMALL,
		 .size = 100,
		 .expected_calls = 1},
		{.name = "sys_heap_noalign_alloc",
		 .op = OP_SYS_HEAP_NOALIGN_ALLOC,
		 .where = FI_POOL_BIG,
		 .align = 64,
		 .size = 100,
		 .expected_calls = 1},
		REALLOC_SHAPES("sys_heap_realloc", OP_SYS_HEAP_REALLOC,
			       FI_POOL_SMALL),
		REALLOC_SHAPES("sys_heap_realloc", OP_SYS_HEAP_REALLOC,
			       FI_POOL_BIG),
		/* An 8-aligned block asked for 256: moves, even when it
		 * could grow in place. */
		{.name = "sys_heap_aligned_realloc, alignment forces a move",
		 .op = OP_SYS_HEAP_ALIGNED_REALLOC,
		 .where = FI_POOL_SMALL,
		 .align = 256,
		 .size = 100,
		 .old_bytes = 64,
		 .prefix_bytes = 20,
		 .expected_calls = 1,
		 .shape = SHAPE_MOVES},
		{.name = "sys_heap_aligned_realloc, rewind form forces a move",
		 .op = OP_SYS_HEAP_ALIGNED_REALLOC,
		 .where = FI_POOL_BIG,
		 .align = 256 | 4u,
		 .size = 100,
		 .old_bytes = 64,
		 .prefix_bytes = 20,
		 .expected_calls = 1,
		 .shape = SHAPE_MOVES},
		/* Already aligned: grows in place, or moves (keeping the
		 * alignment) when the neighbour is live. */
		{.name = "sys_heap_aligned_realloc, aligned, grow in place",
		 .op = OP_SYS_HEAP_ALIGNED_REALLOC,
		 .where = FI_POOL_SMALL,
		 .align = 256,
		 .size = 400,
		 .old_bytes = 64,
		 .old_align = 256,
		 .expected_calls = 0,
		 .shape = SHAPE_IN_PLACE},
		{.name = "sys_heap_aligned_realloc, aligned, grow must move",
		 .op = OP_SYS_HEAP_ALIGNED_REALLOC,
		 .where = FI_POOL_BIG,
		 .align = 256,
		 .size = 400,
		 .old_bytes = 64,
		 .old_align = 256,
		 .neighbour = true,
		 .expected_calls = 1,
		 .shape = SHAPE_MOVES},
		{.name = "sys_heap_aligned_realloc, aligned, shrink",
		 .op = OP_SYS_HEAP_ALIGNED_REALLOC,
		 .where = FI_POOL_SMALL,
		 .align = 64,
		 .size = 16,
		 .old_bytes = 300,
		 .old_align = 64,
		 .neighbour = true,
		 .expected_calls = 0,
		 .shape = SHAPE_IN_PLACE},
		{.name = "sys_heap_aligned_realloc(NULL)",
		 .op = OP_SYS_HEAP_ALIGNED_REALLOC,
		 .where = FI_POOL_BIG,
		 .align = 1024,
		 .size = 100,
		 .expected_calls = 1},
		{.name = "sys_heap_aligned_realloc, size 0",
		 .op = OP_SYS_HEAP_ALIGNED_REALLOC,
		 .where = FI_POOL_SMALL,
		 .align = 64,
		 .size = 0,
		 .old_bytes = 64,
		 .old_align = 64,
		 .expected_calls = 0},
	};

	RUN_TABLE(table);
}

/* ---- autofree at thread exit after injected failures ------------------ */

struct exit_plan {
	void *kept[3];
	unsigned int failures_seen;
};

static void exit_entry(void *p1, void *p2, void *p3)
{
	struct exit_plan *plan = p1;

	(void)p2;
	(void)p3;
	/* A tracked allocation that fails must leave no node behind. */
	kheap_fail_nth(1u, false);
	void *lost = z_thread_malloc(48);

	KT_CHECK(lost == NULL, "injected z_thread_malloc returned %p", lost);
	plan->failures_seen += (unsigned int)kheap_fail_injected();

	plan->kept[0] = z_thread_malloc(64);
	plan->kept[1] = z_thread_aligned_alloc(128, 40);
	KT_CHECK(plan->kept[0] != NULL && plan->kept[1] != NULL,
		 "tracked allocations failed");
	if (plan->kept[0] == NULL || plan->kept[1] == NULL) {
		return;
	}
	test_token_fill(plan->kept[0], 64, 7);

	/* A tracked k_realloc whose allocation fails keeps the block and
	 * its node (still released at exit, once). */
	kheap_fail_nth(1u, true);
	void *grown = k_realloc(plan->kept[0], 500);

	plan->failures_seen += (unsigned int)kheap_fail_injected();
	kheap_fail_nth(0u, false);
	KT_CHECK(grown == NULL, "injected k_realloc returned %p", grown);
	KT_CHECK(test_token_check(plan->kept[0], 64, 7) == SIZE_MAX,
		 "tracked block changed by a failed k_realloc");
	/* And one that succeeds after that. */
	plan->kept[2] = k_realloc(plan->kept[1], 300);
	KT_CHECK(plan->kept[2] != NULL, "k_realloc of a tracked block failed");
	/* Exit holding kept[0] and kept[2]: autofree releases them. */
}

static void test_autofree_exit_after_injected_failures(void **state)
{
	(void)state;
	struct exit_plan plan = {0};
	size_t baseline = kt_heap_free_bytes(&pool_small);
	k_tid_t thread = kt_spawn(0, exit_entry, &plan, NULL, K_PRIO_PREEMPT(1),
				  K_FOREVER);

	k_thread_heap_assign(thread, &pool_small);
	k_thread_pool_autofree(thread, true);
	kt_faults_expect();
	k_thread_start(thread);
	kt_join_all();
	kt_faults_assert_none();
	kt_checks_assert_passed();
	assert_int_equal(plan.failures_seen, 2);
	assert_true(kt_heap_valid(&pool_small));
	assert_int_equal(kt_heap_free_bytes(&pool_small), baseline);
	assert_int_equal(kt_heap_allocated_bytes(&pool_small), 0);
}

/* ---- main -------------------------------------------------------------- */

static int setup(void **state)
{
	kt_setup_det(state);
	kheap_fail_nth(0u, false);
	assert_int_equal(k_heap_init(&pool_small, pool_small_region,
				     sizeof(pool_small_region)),
			 0);
	assert_int_equal(k_heap_init(&pool_big, pool_big_region,
				     sizeof(pool_big_region)),
			 0);
	k_thread_heap_assign(k_current_get(), NULL);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	kheap_fail_nth(0u, false);
	kt_join_all();
	(void)sim_fault_capture(false);
	pool_teardown();
	return 0;
}

static int group_teardown(void **state)
{
	(void)state;
	printf("# failure injection: %lu runs, %lu with an injected failure\n",
	       total_runs, total_injected_runs);
	return 0;
}

int main(int argc, char **argv)
{
	kt_program_args(argc, argv);
	const struct CMUnitTest tests[] = {
#define FI_TEST(name) cmocka_unit_test_setup_teardown(name, setup, teardown)
		FI_TEST(test_injection_counts_and_modes),
		FI_TEST(test_k_malloc_family),
		FI_TEST(test_k_aligned_alloc),
		FI_TEST(test_k_heap_calls),
		FI_TEST(test_k_heap_blocking_retry),
		FI_TEST(test_k_heap_aligned_alloc),
		FI_TEST(test_thread_pools),
		FI_TEST(test_sys_heap_calls),
		FI_TEST(test_autofree_exit_after_injected_failures),
#undef FI_TEST
	};
	return cmocka_run_group_tests_name("allocation-failure injection",
					   tests, NULL, group_teardown);
}
