/* SPDX-License-Identifier: Apache-2.0 */
/*
 * fuzz_sys_heap: operation sequences over one sys_heap against a shadow
 * model.
 *
 * Input: a region (3 bytes, see fuzz_region_decode: base offset 0..7,
 * small regions up to 8 KiB, regions just below and just above the
 * 256 KiB header-format cutover, and sizes sys_heap_init must refuse),
 * then operations until the input ends, each an opcode byte and its
 * operands:
 *
 *   op % 16  operation              operands
 *   0, 1     sys_heap_alloc         size
 *   2, 3     sys_heap_aligned_alloc align, size
 *   4        sys_heap_noalign_alloc align, size
 *   5, 6     sys_heap_realloc       block (or NULL), size
 *   7        sys_heap_aligned_realloc block (or NULL), align, size
 *   8, 9     sys_heap_free          block (or NULL)
 *   10       sys_heap_usable_size   block (or NULL)
 *   11       alloc of exactly sys_heap_max_alloc_bytes()
 *   12       burst: a seeded run of allocs and frees (tests/support PRNG)
 *   13       sys_heap_runtime_stats_reset_max
 *   14       read-only calls (validate, print_info, owns, usable_size,
 *            max_alloc_bytes, request_fits) leave the region unchanged
 *   15       free every other block (coalescing on both sides)
 *
 * A block operand is two bytes: 0xffff means NULL, anything else picks a
 * live block. Sizes and alignments: fuzz_size() and fuzz_align().
 *
 * Oracles, after every operation: sys_heap_validate(); the guards around
 * the region are intact; a new or resized block is inside the region,
 * honours its alignment, is at least as large as requested and overlaps
 * no live block; tokens (tests/support) are checked before every free
 * and resize, and realloc keeps the data; runtime stats equal the model
 * (allocated_bytes = sum of round_up_8(usable + header), free +
 * allocated constant, the max a watermark); the heap listeners saw
 * exactly the events the operation implies; a failed call changed
 * nothing; on an empty heap an allocation succeeds iff
 * sys_heap_request_fits(). At the end every block is checked and freed
 * and the heap must be whole again.
 */
#include <stdio.h>
#include <string.h>

#include "fuzz_support.h"
#include "test_meta.h"

static unsigned char buffer[FUZZ_BUFFER_BYTES] __attribute__((__aligned__(8)));
static unsigned char snapshot[FUZZ_REGION_MAX];
static struct fuzz_model model;
static struct fuzz_tracker tracker;

struct state {
	struct sys_heap heap;
	struct fuzz_region region;
	size_t header;
	/* free + allocated bytes after init. */
	size_t total;
	size_t init_free;
	size_t init_max_alloc;
	/* max_allocated_bytes before the operation, and the highest
	 * allocated_bytes the operation may have reached on its way. */
	size_t prev_max;
	size_t peak;
	bool reset;
	/* tracker.events before the operation. */
	unsigned int events_mark;
};

static struct state st;

/* --- checks ------------------------------------------------------------- */

static size_t model_span(void)
{
	size_t sum = 0u;

	for (size_t i = 0; i < model.count; i++) {
		sum += fuzz_block_span(model.blocks[i].usable, st.header);
	}
	return sum;
}

static void begin_op(const char *name)
{
	struct sys_memory_stats s = fuzz_stats(&st.heap);

	fuzz_context_op(name);
	st.prev_max = s.max_allocated_bytes;
	st.peak = 0u;
	st.reset = false;
	st.events_mark = tracker.events;
}

/* After every operation (and every step of a burst). */
static void check_heap(void)
{
	FUZZ_CHECK(sys_heap_validate(&st.heap), "sys_heap_validate failed");
	fuzz_region_check_guards(&st.region);

	struct sys_memory_stats s = fuzz_stats(&st.heap);
	size_t span = model_span();

	FUZZ_CHECK(s.allocated_bytes == span,
		   "allocated_bytes %zu, model says %zu (%zu blocks)",
		   s.allocated_bytes, span, model.count);
	FUZZ_CHECK(s.free_bytes + s.allocated_bytes == st.total,
		   "free %zu + allocated %zu != %zu", s.free_bytes,
		   s.allocated_bytes, st.total);
	size_t low = st.reset ? s.allocated_bytes
			      : (st.prev_max > s.allocated_bytes
					 ? st.prev_max
					 : s.allocated_bytes);
	size_t high = low > st.peak ? low : st.peak;

	FUZZ_CHECK(s.max_allocated_bytes >= low &&
			   s.max_allocated_bytes <= high,
		   "max_allocated_bytes %zu outside [%zu, %zu]",
		   s.max_allocated_bytes, low, high);
	FUZZ_CHECK(tracker.count == model.count,
		   "listeners track %zu blocks, model has %zu", tracker.count,
		   model.count);
}

static void expect_events(unsigned int n)
{
	FUZZ_CHECK(tracker.events - st.events_mark == n,
		   "listeners saw %u events, expected %u",
		   tracker.events - st.events_mark, n);
}

static void expect_event(enum heap_event_types event, void *old, size_t old_b,
			 void *mem, size_t bytes)
{
	expect_events(1u);
	FUZZ_CHECK(tracker.last_event == event && tracker.last_old == old &&
			   tracker.last_old_bytes == old_b &&
			   tracker.last_mem == mem &&
			   tracker.last_bytes == bytes,
		   "listener event %d (%p, %zu -> %p, %zu), expected %d "
		   "(%p, %zu -> %p, %zu)",
		   (int)tracker.last_event, tracker.last_old,
		   tracker.last_old_bytes, tracker.last_mem, tracker.last_bytes,
		   (int)event, old, old_b, mem, bytes);
}

/* A block the heap just handed out (new or resized): where it may be. */
static size_t check_new_block(void *mem, size_t bytes, size_t a, size_t r,
			      size_t skip)
{
	size_t usable = sys_heap_usable_size(&st.heap, mem);

	FUZZ_CHECK(usable >= bytes, "block %p: usable %zu < requested %zu", mem,
		   usable, bytes);
	FUZZ_CHECK(fuzz_region_contains(&st.region, mem, usable),
		   "block %p + %zu outside the region [%p, +%zu)", mem, usable,
		   (void *)st.region.mem, st.region.bytes);
	FUZZ_CHECK(fuzz_align_ok(mem, a, r),
		   "block %p misaligned (align %zu, rewind %zu)", mem, a, r);
	size_t other = fuzz_model_overlap(&model, mem, usable, skip);

	FUZZ_CHECK(other == SIZE_MAX,
		   "block %p + %zu overlaps live block %p + %zu", mem, usable,
		   other == SIZE_MAX ? NULL : (void *)model.blocks[other].mem,
		   other == SIZE_MAX ? 0u : model.blocks[other].filled);
	FUZZ_CHECK(sys_heap_owns(&st.heap, mem), "owns(%p) false for a block",
		   mem);
	return usable;
}

/* --- operations ---------------------------------------------------------- */

enum alloc_call {
	CALL_ALLOC,
	CALL_ALIGNED,
	CALL_NOALIGN,
	/* realloc(NULL, n) and aligned_realloc(NULL, align, n). */
	CALL_REALLOC_NULL,
	CALL_AREALLOC_NULL,
};

static void do_alloc(enum alloc_call call, size_t align, size_t bytes)
{
	size_t a = SYS_HEAP_CHUNK_BYTES;
	size_t r = 0u;
	bool form = true;

	bool aligned = call == CALL_ALIGNED || call == CALL_AREALLOC_NULL;

	if (aligned) {
		form = fuzz_align_form(align, &a, &r);
	}
	size_t fit_align = aligned ? align : 0u;
	bool fits = sys_heap_request_fits(&st.heap, fit_align, bytes);
	bool empty = model.count == 0u;
	void *mem;

	if (fuzz_model_full(&model)) {
		return;
	}
	switch (call) {
	case CALL_ALLOC:
		mem = sys_heap_alloc(&st.heap, bytes);
		break;
	case CALL_ALIGNED:
		mem = sys_heap_aligned_alloc(&st.heap, align, bytes);
		break;
	case CALL_REALLOC_NULL:
		mem = sys_heap_realloc(&st.heap, NULL, bytes);
		break;
	case CALL_AREALLOC_NULL:
		mem = sys_heap_aligned_realloc(&st.heap, NULL, align, bytes);
		break;
	default:
		mem = sys_heap_noalign_alloc(&st.heap, align, bytes);
		break;
	}
	if (empty) {
		FUZZ_CHECK((mem != NULL) == fits,
			   "empty heap: alloc(align %zu, %zu bytes) %s but "
			   "request_fits says %d",
			   align, bytes, mem != NULL ? "succeeded" : "failed",
			   (int)fits);
	}
	if (mem == NULL) {
		expect_events(0u);
		return;
	}
	FUZZ_CHECK(bytes != 0u && form,
		   "alloc(align %zu, %zu bytes) must fail, returned %p", align,
		   bytes, mem);
	FUZZ_CHECK(fits, "request_fits(%zu, %zu) false, alloc gave %p",
		   fit_align, bytes, mem);
	size_t usable = check_new_block(mem, bytes, a, r, SIZE_MAX);

	expect_event(HEAP_ALLOC, NULL, 0u, mem, usable);
	(void)fuzz_model_add_usable(&model, mem, bytes, usable, a, r, 0u);
	fuzz_trace("%p: %zu bytes (usable %zu, align %zu, rewind %zu)", mem,
		   bytes, usable, a, r);
}

static void do_free_index(size_t i)
{
	struct fuzz_block b = model.blocks[i];

	fuzz_block_check(&b, "before free");
	sys_heap_free(&st.heap, b.mem);
	expect_event(HEAP_FREE, NULL, 0u, b.mem, b.usable);
	fuzz_model_remove(&model, i);
}

static void do_free(size_t i)
{
	if (i == SIZE_MAX) {
		sys_heap_free(&st.heap, NULL);
		expect_events(0u);
		return;
	}
	do_free_index(i);
}

/* sys_heap_aligned_realloc(ptr, align, bytes); plain realloc is align 0. */
static void do_realloc(size_t i, size_t align, size_t bytes, bool aligned)
{
	if (i == SIZE_MAX) {
		/* realloc(NULL, n) allocates. */
		do_alloc(aligned ? CALL_AREALLOC_NULL : CALL_REALLOC_NULL,
			 align, bytes);
		return;
	}
	if (bytes == 0u) {
		/* realloc(p, 0) frees and returns NULL. */
		struct fuzz_block b = model.blocks[i];

		fuzz_block_check(&b, "before realloc to 0");
		void *mem = aligned ? sys_heap_aligned_realloc(&st.heap, b.mem,
							       align, 0u)
				    : sys_heap_realloc(&st.heap, b.mem, 0u);

		FUZZ_CHECK(mem == NULL, "realloc(%p, 0) returned %p",
			   (void *)b.mem, mem);
		expect_event(HEAP_FREE, NULL, 0u, b.mem, b.usable);
		fuzz_model_remove(&model, i);
		return;
	}
	size_t a = SYS_HEAP_CHUNK_BYTES;
	size_t r = 0u;
	bool form = true;

	bool call_aligned = aligned;

	/* align 0 is a plain realloc: no alignment beyond the block's own
	 * in place, 8 bytes if it moves. */
	if (aligned && align == 0u) {
		aligned = false;
	}
	if (aligned) {
		form = fuzz_align_form(align, &a, &r);
	}
	struct fuzz_block old = model.blocks[i];
	struct sys_memory_stats before = fuzz_stats(&st.heap);

	fuzz_block_check(&old, "before realloc");
	void *mem = call_aligned ? sys_heap_aligned_realloc(&st.heap, old.mem,
							    align, bytes)
				 : sys_heap_realloc(&st.heap, old.mem, bytes);
	bool in_place_ok = bytes <= old.usable &&
			   (!aligned || (form && fuzz_align_ok(old.mem, a, r)));

	if (mem == NULL) {
		FUZZ_CHECK(!in_place_ok,
			   "realloc(%p, align %zu, %zu) failed: a shrink of a "
			   "%zu-byte block must succeed in place",
			   (void *)old.mem, align, bytes, old.usable);
		expect_events(0u);
		fuzz_block_check(&old, "after a failed realloc");
		FUZZ_CHECK(sys_heap_usable_size(&st.heap, old.mem) ==
				   old.usable,
			   "failed realloc changed the block's usable size");
		return;
	}
	FUZZ_CHECK(form, "aligned_realloc with malformed align %zu gave %p",
		   align, mem);
	if (in_place_ok) {
		FUZZ_CHECK(mem == old.mem, "shrink moved %p to %p",
			   (void *)old.mem, mem);
	}
	if (!aligned && mem != old.mem) {
		/* A moved plain realloc gets a fresh 8-aligned block. */
		a = SYS_HEAP_CHUNK_BYTES;
		r = 0u;
	}
	if (!aligned && mem == old.mem) {
		/* In place: the block keeps its alignment. */
		a = old.align;
		r = old.rewind;
	}
	size_t usable = check_new_block(mem, bytes, a, r, i);
	size_t keep = old.usable < bytes ? old.usable : bytes;
	size_t bad = test_token_check_moved(mem, keep, old.id, old.mem);

	FUZZ_CHECK(bad == SIZE_MAX,
		   "realloc %p -> %p lost data at byte %zu of %zu",
		   (void *)old.mem, mem, bad, keep);
	expect_event(HEAP_REALLOC, old.mem, old.usable, mem, usable);
	if (mem != old.mem) {
		st.peak = before.allocated_bytes +
			  fuzz_block_span(usable, st.header);
	}
	struct fuzz_block *b = &model.blocks[i];

	b->mem = mem;
	b->requested = bytes;
	b->filled = usable;
	b->usable = usable;
	b->align = a;
	b->rewind = r;
	fuzz_block_refill(&model, b);
}

static void do_usable(size_t i)
{
	if (i == SIZE_MAX) {
		FUZZ_CHECK(sys_heap_usable_size(&st.heap, NULL) == 0u,
			   "usable_size(NULL) != 0");
		return;
	}
	const struct fuzz_block *b = &model.blocks[i];
	size_t usable = sys_heap_usable_size(&st.heap, b->mem);

	FUZZ_CHECK(usable == b->usable, "usable_size(%p) %zu, was %zu",
		   (void *)b->mem, usable, b->usable);
	fuzz_block_check(b, "at usable_size");
	expect_events(0u);
}

static void do_max_alloc(void)
{
	size_t max = sys_heap_max_alloc_bytes(&st.heap);

	if (max == 0u || fuzz_model_full(&model)) {
		return;
	}
	void *mem = sys_heap_alloc(&st.heap, max);

	FUZZ_CHECK(mem != NULL,
		   "alloc(max_alloc_bytes() = %zu) failed: it must succeed",
		   max);
	size_t usable =
		check_new_block(mem, max, SYS_HEAP_CHUNK_BYTES, 0u, SIZE_MAX);

	expect_event(HEAP_ALLOC, NULL, 0u, mem, usable);
	(void)fuzz_model_add_usable(&model, mem, max, usable,
				    SYS_HEAP_CHUNK_BYTES, 0u, 0u);
}

/* A seeded run of allocations and frees: a short input reaches a full,
 * fragmented heap. Every step is checked like a whole operation. */
static void do_burst(struct fuzz_input *in)
{
	struct test_rng rng;
	unsigned int steps = 1u + fuzz_u8(in) % 64u;
	unsigned int alloc_percent = 20u + fuzz_u8(in) % 70u;
	uint64_t max_size = 1u + st.region.bytes / (2u + fuzz_u8(in) % 62u);

	test_rng_seed(&rng, fuzz_u32(in));
	for (unsigned int k = 0; k < steps; k++) {
		if (k != 0u) {
			check_heap();
			begin_op("burst");
		}
		if (model.count != 0u &&
		    (fuzz_model_full(&model) ||
		     !test_rng_percent(&rng, alloc_percent))) {
			do_free_index(
				(size_t)test_rng_below(&rng, model.count));
		} else if (test_rng_percent(&rng, 25u)) {
			size_t align = (size_t)1u
				       << test_rng_range(&rng, 3u, 10u);

			do_alloc(CALL_ALIGNED, align,
				 (size_t)test_rng_log_uniform(&rng, max_size));
		} else {
			do_alloc(CALL_ALLOC, 0u,
				 (size_t)test_rng_log_uniform(&rng, max_size));
		}
	}
}

static void do_reset_max(void)
{
	FUZZ_CHECK(sys_heap_runtime_stats_reset_max(&st.heap) == 0,
		   "reset_max failed");
	st.reset = true;
	struct sys_memory_stats s = fuzz_stats(&st.heap);

	FUZZ_CHECK(s.max_allocated_bytes == s.allocated_bytes,
		   "after reset_max: max %zu != allocated %zu",
		   s.max_allocated_bytes, s.allocated_bytes);
}

static size_t print_bytes;

static void count_output(void *ctx, const char *text)
{
	(void)ctx;
	print_bytes += strlen(text);
}

/*
 * sys_heap_init() arguments it must refuse, on a scratch handle: NULL
 * heap or memory, a region that wraps around the address space, one above
 * the maximum, one below the minimum. Nothing is written anywhere (the
 * wrapping region is not even mapped), the scratch heap hands out nothing
 * and refuses every pointer; the fault kinds have fixed messages.
 */
static void refused_inits(struct fuzz_input *in)
{
	struct sys_heap scratch;
	uint8_t b = fuzz_u8(in);
	size_t bytes = fuzz_size(in, 4096u);
	void *mem = st.region.mem;
	unsigned char *wrap = (unsigned char *)(UINTPTR_MAX - (b % 200u));

	FUZZ_CHECK(sys_heap_init(NULL, mem, 4096u) == -22, "init(NULL heap)");
	FUZZ_CHECK(sys_heap_init(&scratch, NULL, bytes) == -22,
		   "init(NULL mem)");
	if (bytes > UINTPTR_MAX - (uintptr_t)wrap) {
		FUZZ_CHECK(sys_heap_init(&scratch, wrap, bytes) == -22,
			   "init(%p, %zu) wraps but was accepted", (void *)wrap,
			   bytes);
	}
	if ((uint64_t)SIZE_MAX > SYS_HEAP_MAX_REGION_BYTES) {
		FUZZ_CHECK(sys_heap_init(&scratch, mem,
					 (size_t)SYS_HEAP_MAX_REGION_BYTES +
						 1u + b) == -22,
			   "init above the maximum was accepted");
	}
	FUZZ_CHECK(sys_heap_init(&scratch, mem, b % Z_HEAP_MIN_SIZE) == -22,
		   "init below the minimum was accepted");
	FUZZ_CHECK(sys_heap_alloc(&scratch, bytes) == NULL &&
			   sys_heap_aligned_alloc(&scratch, 64u, bytes) == NULL,
		   "a refused heap handed out memory");
	FUZZ_CHECK(sys_heap_header_bytes(&scratch) == 0u &&
			   sys_heap_max_alloc_bytes(&scratch) == 0u &&
			   !sys_heap_request_fits(&scratch, 0u, bytes),
		   "a refused heap reports capacity");
	FUZZ_CHECK(sys_heap_fault_message((enum sys_heap_fault_kind)(
			   SYS_HEAP_FAULT_BAD_REGION + 1u + b % 50u))[0] ==
			   '\0',
		   "unknown fault kind with a message");
	FUZZ_CHECK(test_meta_diff(st.region.mem, snapshot, st.region.bytes) ==
			   SIZE_MAX,
		   "a refused init wrote to the region");
}

static void do_read_only(struct fuzz_input *in)
{
	bool dump = (fuzz_u8(in) & 1u) != 0u;
	size_t align = fuzz_align(in);
	size_t bytes = fuzz_size(in, st.region.bytes);

	test_meta_read(snapshot, st.region.mem, st.region.bytes);
	FUZZ_CHECK(sys_heap_validate(&st.heap), "validate failed");
	print_bytes = 0u;
	sys_heap_print_info_to(&st.heap, dump && st.region.bytes <= 8192u,
			       count_output, NULL);
	FUZZ_CHECK(print_bytes != 0u, "print_info printed nothing");
	(void)sys_heap_max_alloc_bytes(&st.heap);
	(void)sys_heap_request_fits(&st.heap, align, bytes);
	FUZZ_CHECK(sys_heap_header_bytes(&st.heap) == st.header,
		   "header_bytes changed");
	for (size_t i = 0; i < model.count; i++) {
		const struct fuzz_block *b = &model.blocks[i];

		FUZZ_CHECK(sys_heap_owns(&st.heap, b->mem),
			   "owns(%p) false for a live block", (void *)b->mem);
		FUZZ_CHECK(sys_heap_usable_size(&st.heap, b->mem) == b->usable,
			   "usable_size(%p) changed", (void *)b->mem);
	}
	FUZZ_CHECK(test_meta_diff(st.region.mem, snapshot, st.region.bytes) ==
			   SIZE_MAX,
		   "a read-only call wrote to the region");
	expect_events(0u);
	refused_inits(in);
}

static void do_free_alternate(struct fuzz_input *in)
{
	size_t phase = fuzz_u8(in) & 1u;

	/* Free by address order parity: sort-free, pick every other block
	 * by position in the region. */
	for (size_t i = model.count; i-- > 0;) {
		uintptr_t off = (uintptr_t)model.blocks[i].mem -
				(uintptr_t)st.region.mem;

		if (((off >> 4) & 1u) == phase) {
			begin_op("free_alternate");
			do_free_index(i);
			check_heap();
		}
	}
}

/* --- the input ------------------------------------------------------------ */

static size_t pick(struct fuzz_input *in)
{
	uint16_t v = fuzz_u16(in);

	if (v == 0xffffu || model.count == 0u) {
		return SIZE_MAX;
	}
	return v % model.count;
}

static void run_op(struct fuzz_input *in, uint8_t op)
{
	size_t limit = st.region.bytes;
	size_t i;
	size_t align;
	size_t bytes;

	switch (op % 16u) {
	case 0:
	case 1:
		begin_op("alloc");
		do_alloc(CALL_ALLOC, 0u, fuzz_size(in, limit));
		break;
	case 2:
	case 3:
		begin_op("aligned_alloc");
		align = fuzz_align(in);
		do_alloc(CALL_ALIGNED, align, fuzz_size(in, limit));
		break;
	case 4:
		begin_op("noalign_alloc");
		align = fuzz_align(in);
		do_alloc(CALL_NOALIGN, align, fuzz_size(in, limit));
		break;
	case 5:
	case 6:
		begin_op("realloc");
		i = pick(in);
		do_realloc(i, 0u, fuzz_size(in, limit), false);
		break;
	case 7:
		begin_op("aligned_realloc");
		i = pick(in);
		align = fuzz_align(in);
		bytes = fuzz_size(in, limit);
		do_realloc(i, align, bytes, true);
		break;
	case 8:
	case 9:
		begin_op("free");
		do_free(pick(in));
		break;
	case 10:
		begin_op("usable_size");
		do_usable(pick(in));
		break;
	case 11:
		begin_op("max_alloc");
		do_max_alloc();
		break;
	case 12:
		begin_op("burst");
		do_burst(in);
		break;
	case 13:
		begin_op("reset_max");
		do_reset_max();
		break;
	case 14:
		begin_op("read_only");
		do_read_only(in);
		break;
	default:
		do_free_alternate(in);
		return;
	}
	check_heap();
}

/* sys_heap_init refused the region: the heap must stay empty. */
static void run_refused(struct fuzz_input *in, int rc)
{
	FUZZ_CHECK(rc == -22, "init(%zu bytes) returned %d, expected -EINVAL",
		   st.region.bytes, rc);
	for (int k = 0; k < 4 && fuzz_more(in); k++) {
		size_t align = fuzz_align(in);
		size_t bytes = fuzz_size(in, 4096u);

		FUZZ_CHECK(sys_heap_alloc(&st.heap, bytes) == NULL &&
				   sys_heap_aligned_alloc(&st.heap, align,
							  bytes) == NULL,
			   "refused heap handed out memory");
	}
	fuzz_region_check_guards(&st.region);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fuzz_input in;

	fuzz_context_begin("fuzz_sys_heap");
	fuzz_input_init(&in, data, size);
	sys_heap_fault_handler_set(fuzz_fault_unexpected);
	fuzz_model_reset(&model);
	memset(&st, 0, sizeof(st));
	fuzz_region_decode(&in, buffer, &st.region, 0u);

	int rc = sys_heap_init(&st.heap, st.region.mem, st.region.bytes);

	if (!fuzz_region_init_ok(&st.region)) {
		run_refused(&in, rc);
		return 0;
	}
	FUZZ_CHECK(rc == 0, "init(%p, %zu) returned %d", (void *)st.region.mem,
		   st.region.bytes, rc);
	st.header = sys_heap_header_bytes(&st.heap);
	FUZZ_CHECK(st.header ==
			   (st.region.bytes <= SYS_HEAP_SMALL_REGION_MAX_BYTES
				    ? 4u
				    : 8u),
		   "%zu-byte region has %zu-byte headers", st.region.bytes,
		   st.header);
	struct sys_memory_stats s = fuzz_stats(&st.heap);

	FUZZ_CHECK(s.allocated_bytes == 0u && s.max_allocated_bytes == 0u,
		   "fresh heap: allocated %zu, max %zu", s.allocated_bytes,
		   s.max_allocated_bytes);
	st.total = s.free_bytes;
	st.init_free = s.free_bytes;
	st.init_max_alloc = sys_heap_max_alloc_bytes(&st.heap);
	FUZZ_CHECK(st.init_max_alloc != 0u, "fresh heap: max_alloc_bytes 0");
	fuzz_tracker_start(&tracker, &st.heap);
	check_heap();

	while (fuzz_more(&in)) {
		run_op(&in, fuzz_u8(&in));
	}

	/* The end: every block intact, freed, and the heap whole again. */
	while (model.count != 0u) {
		begin_op("final free");
		do_free_index(model.count - 1u);
		check_heap();
	}
	s = fuzz_stats(&st.heap);
	FUZZ_CHECK(s.allocated_bytes == 0u && s.free_bytes == st.init_free,
		   "after freeing everything: free %zu (was %zu), "
		   "allocated %zu",
		   s.free_bytes, st.init_free, s.allocated_bytes);
	FUZZ_CHECK(sys_heap_max_alloc_bytes(&st.heap) == st.init_max_alloc,
		   "after freeing everything: max_alloc_bytes %zu, was %zu",
		   sys_heap_max_alloc_bytes(&st.heap), st.init_max_alloc);
	fuzz_tracker_stop(&tracker);
	return 0;
}
