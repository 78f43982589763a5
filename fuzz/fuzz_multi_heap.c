/* SPDX-License-Identifier: Apache-2.0 */
/*
 * fuzz_multi_heap: operation sequences over a sys_multi_heap of up to four
 * sys_heaps against a shadow model.
 *
 * Input: a byte whose low two bits give the heap count - 1, then each
 * heap's region (3 bytes, fuzz_region_decode: the first heap any shape,
 * the others small; a region sys_heap_init refuses is tried and must be
 * refused by sys_multi_heap_add_heap too), then operations until the
 * input ends, each an opcode byte and its operands:
 *
 *   op % 16  operation                          operands
 *   0, 1, 2  sys_multi_heap_alloc               cfg, size
 *   3, 4     sys_multi_heap_aligned_alloc       cfg, align, size
 *   5, 6     sys_multi_heap_realloc             block (or NULL), cfg, size
 *   7        sys_multi_heap_aligned_realloc     block (or NULL), cfg, align,
 *                                               size
 *   8, 9     sys_multi_heap_free                block (or NULL)
 *   10       sys_multi_heap_get_heap            an address: in a heap's
 *                                               region, its guards, or
 *                                               a live block
 *   11       free or realloc of a pointer in no heap (a guard byte):
 *            exactly one fault, BAD_POINTER, and nothing changes
 *   12       sys_multi_heap_add_heap of a heap already there: -EINVAL
 *   13       the default chooser called directly   align, size
 *   14       free every other block
 *   15       fill: allocate through the default chooser until it fails
 *
 * cfg is one byte: 0..3 point the test's chooser at that heap, anything
 * else (and cfg NULL, when the byte is 0xff) makes it behave as
 * sys_multi_heap_default_select. The chooser records what it was given.
 *
 * Oracles, after every operation: every heap validates and its guards
 * are intact; the chooser received cfg, align and size unchanged and the
 * call returned its result; a new or resized block lies in the region of
 * the heap sys_multi_heap_get_heap names for it, honours its alignment
 * and overlaps no live block; tokens are checked before every free and
 * resize and realloc keeps the data (a failed one leaves the block
 * untouched); each heap's allocated_bytes equals the model's blocks in
 * it; faults happen only where an operation provokes them. At the end
 * every block is checked and freed and every heap is empty again.
 */
#include <string.h>

#include <zephyr/sys/multi_heap.h>

#include "fuzz_support.h"
#include "test_meta.h"

#define HEAPS 4u

static unsigned char buffers[HEAPS][FUZZ_BUFFER_BYTES]
	__attribute__((__aligned__(8)));
static struct fuzz_model model;

struct heap_slot {
	struct sys_heap heap;
	struct fuzz_region region;
	bool added;
	size_t header;
};

struct choice_seen {
	void *cfg;
	size_t align;
	size_t size;
	void *result;
	unsigned int calls;
};

static struct {
	struct heap_slot slots[HEAPS];
	unsigned int count;
	struct sys_multi_heap mh;
	struct choice_seen choice;
	/* Faults the current operation expects, and those seen. */
	unsigned int faults_expected;
	unsigned int faults_seen;
	struct sys_heap_fault last_fault;
} st;

static uint8_t cfg_bytes[256];

/* --- the chooser and the fault handler ---------------------------------- */

static void *choose(struct sys_multi_heap *mheap, void *cfg, size_t align,
		    size_t size)
{
	void *mem;

	FUZZ_CHECK(mheap == &st.mh, "chooser called with another multi-heap");
	if (cfg != NULL && *(const uint8_t *)cfg < mheap->nheaps) {
		mem = sys_heap_aligned_alloc(
			mheap->heaps[*(const uint8_t *)cfg].heap, align, size);
	} else {
		mem = sys_multi_heap_default_select(mheap, cfg, align, size);
	}
	st.choice = (struct choice_seen){cfg, align, size, mem,
					 st.choice.calls + 1u};
	return mem;
}

static void on_fault(const struct sys_heap_fault *fault)
{
	st.faults_seen++;
	st.last_fault = *fault;
	FUZZ_CHECK(st.faults_seen <= st.faults_expected,
		   "unexpected fault: %s(%p) %s: %s", fault->operation,
		   fault->mem, fault_kind_name(fault->kind),
		   sys_heap_fault_message(fault->kind));
}

/* --- decoding --------------------------------------------------------------- */

static void *decode_cfg(struct fuzz_input *in)
{
	uint8_t b = fuzz_u8(in);

	return b == 0xffu ? NULL : &cfg_bytes[b];
}

/* The slot whose region holds [mem, mem + bytes), or HEAPS. */
static unsigned int slot_of(const void *mem, size_t bytes)
{
	for (unsigned int i = 0; i < st.count; i++) {
		if (st.slots[i].added &&
		    fuzz_region_contains(&st.slots[i].region, mem, bytes)) {
			return i;
		}
	}
	return HEAPS;
}

/* The slot of a heap handle, or HEAPS. */
static unsigned int slot_of_heap(const struct sys_heap *heap)
{
	for (unsigned int i = 0; i < st.count; i++) {
		if (&st.slots[i].heap == heap) {
			return i;
		}
	}
	return HEAPS;
}

/* --- checks ------------------------------------------------------------------ */

static void check_all(void)
{
	size_t expected[HEAPS] = {0};

	for (size_t i = 0; i < model.count; i++) {
		const struct fuzz_block *b = &model.blocks[i];

		expected[b->kind] +=
			fuzz_block_span(b->usable, st.slots[b->kind].header);
	}
	for (unsigned int i = 0; i < st.count; i++) {
		struct heap_slot *s = &st.slots[i];

		fuzz_region_check_guards(&s->region);
		if (!s->added) {
			continue;
		}
		FUZZ_CHECK(sys_heap_validate(&s->heap),
			   "heap %u failed validation", i);
		struct sys_memory_stats stats = fuzz_stats(&s->heap);

		FUZZ_CHECK(stats.allocated_bytes == expected[i],
			   "heap %u: allocated_bytes %zu, model says %zu", i,
			   stats.allocated_bytes, expected[i]);
	}
	FUZZ_CHECK(st.faults_seen == st.faults_expected,
		   "%u faults, expected %u", st.faults_seen,
		   st.faults_expected);
	st.faults_seen = 0u;
	st.faults_expected = 0u;
}

/* The chooser was called once more, with these arguments, and its result
 * is what the call returned. */
static void check_choice(unsigned int calls_before, void *cfg, size_t align,
			 size_t size, void *mem)
{
	FUZZ_CHECK(st.choice.calls == calls_before + 1u,
		   "chooser called %u times, expected once",
		   st.choice.calls - calls_before);
	FUZZ_CHECK(st.choice.cfg == cfg && st.choice.align == align &&
			   st.choice.size == size,
		   "chooser got (%p, %zu, %zu), expected (%p, %zu, %zu)",
		   st.choice.cfg, st.choice.align, st.choice.size, cfg, align,
		   size);
	FUZZ_CHECK(st.choice.result == mem, "call returned %p, chooser %p", mem,
		   st.choice.result);
}

/* Record a new block: in the region of the heap get_heap names, aligned
 * to a with rewind r (fuzz_align_form), at least `bytes`, overlapping
 * nothing. */
static void add_block_aligned(unsigned char *mem, size_t bytes, size_t a,
			      size_t r)
{
	const struct sys_multi_heap_rec *rec =
		sys_multi_heap_get_heap(&st.mh, mem);

	FUZZ_CHECK(rec != NULL, "get_heap finds no heap for block %p",
		   (void *)mem);
	unsigned int slot = slot_of_heap(rec->heap);
	size_t usable = sys_heap_usable_size(rec->heap, mem);

	FUZZ_CHECK(slot < st.count && usable >= bytes &&
			   fuzz_region_contains(&st.slots[slot].region, mem,
						usable),
		   "block %p (%zu of %zu bytes) outside heap %u's region",
		   (void *)mem, usable, bytes, slot);
	FUZZ_CHECK(fuzz_align_ok(mem, a, r),
		   "block %p does not honour align %zu rewind %zu", (void *)mem,
		   a, r);
	FUZZ_CHECK(fuzz_model_overlap(&model, mem, usable, SIZE_MAX) ==
			   SIZE_MAX,
		   "block %p overlaps a live block", (void *)mem);
	(void)fuzz_model_add_usable(&model, mem, bytes, usable, a, r,
				    (uint8_t)slot);
}

/* add_block_aligned for a block asked for with sys_heap's align. */
static void add_block(unsigned char *mem, size_t bytes, size_t align)
{
	size_t a;
	size_t r;

	FUZZ_CHECK(fuzz_align_form(align, &a, &r),
		   "block %p for a malformed align %zu", (void *)mem, align);
	add_block_aligned(mem, bytes, a, r);
}

/* --- operations ------------------------------------------------------------- */

static void do_alloc(void *cfg, size_t align, size_t bytes, bool aligned)
{
	unsigned int calls = st.choice.calls;
	unsigned char *mem = aligned ? sys_multi_heap_aligned_alloc(
					       &st.mh, cfg, align, bytes)
				     : sys_multi_heap_alloc(&st.mh, cfg, bytes);

	check_choice(calls, cfg, aligned ? align : 0u, bytes, mem);
	if (mem != NULL && cfg != NULL &&
	    *(const uint8_t *)cfg < st.mh.nheaps) {
		/* The chooser's pick: the block is in that heap. */
		const struct sys_multi_heap_rec *rec =
			sys_multi_heap_get_heap(&st.mh, mem);

		FUZZ_CHECK(rec == &st.mh.heaps[*(const uint8_t *)cfg],
			   "block %p not in the chosen heap %u", (void *)mem,
			   *(const uint8_t *)cfg);
	}
	if (mem != NULL && !fuzz_model_full(&model)) {
		add_block(mem, bytes, aligned ? align : 0u);
	} else if (mem != NULL) {
		sys_multi_heap_free(&st.mh, mem);
	}
}

static void do_free(size_t i)
{
	if (i == SIZE_MAX) {
		sys_multi_heap_free(&st.mh, NULL);
		return;
	}
	fuzz_block_check(&model.blocks[i], "before free");
	sys_multi_heap_free(&st.mh, model.blocks[i].mem);
	fuzz_model_remove(&model, i);
}

static void do_realloc(size_t i, void *cfg, size_t align, size_t bytes)
{
	unsigned int calls = st.choice.calls;

	if (i == SIZE_MAX) {
		unsigned char *mem = sys_multi_heap_aligned_realloc(
			&st.mh, cfg, NULL, align, bytes);

		check_choice(calls, cfg, align, bytes, mem);
		if (mem != NULL && !fuzz_model_full(&model)) {
			add_block(mem, bytes, align);
		} else if (mem != NULL) {
			sys_multi_heap_free(&st.mh, mem);
		}
		return;
	}
	struct fuzz_block old = model.blocks[i];

	fuzz_block_check(&old, "before realloc");
	unsigned char *mem = sys_multi_heap_aligned_realloc(
		&st.mh, cfg, old.mem, align, bytes);

	if (bytes == 0u) {
		FUZZ_CHECK(mem == NULL, "realloc(p, 0) gave %p", (void *)mem);
		fuzz_model_remove(&model, i);
		return;
	}
	if (mem == NULL) {
		fuzz_block_check(&old, "after a failed realloc");
		FUZZ_CHECK(sys_multi_heap_get_heap(&st.mh, old.mem) != NULL,
			   "a failed realloc lost its block");
		return;
	}
	/* The chooser runs only when the block's own heap had no room. */
	FUZZ_CHECK(st.choice.calls == calls || (st.choice.calls == calls + 1u &&
						st.choice.result == mem),
		   "realloc: chooser called %u times, returned %p for %p",
		   st.choice.calls - calls, st.choice.result, (void *)mem);
	size_t kept = old.filled < bytes ? old.filled : bytes;

	FUZZ_CHECK(test_token_check_moved(mem, kept, old.id, old.mem) ==
			   SIZE_MAX,
		   "realloc lost the data of %p (now %p)", (void *)old.mem,
		   (void *)mem);
	fuzz_model_remove(&model, i);
	if (mem == old.mem) {
		/* Resized in place: the alignment it had. */
		add_block_aligned(mem, bytes, old.align, old.rewind);
	} else {
		add_block(mem, bytes, align);
	}
}

/* An address near a heap or a block: get_heap names the heap whose region
 * holds it, if any (a block's address always has its own heap). */
static void do_get_heap(struct fuzz_input *in)
{
	uint8_t b = fuzz_u8(in);
	uint16_t v = fuzz_u16(in);
	const unsigned char *addr;

	if ((b & 1u) != 0u && model.count > 0u) {
		const struct fuzz_block *blk = &model.blocks[v % model.count];

		addr = blk->mem + (blk->usable > 0u ? v % blk->usable : 0u);
		const struct sys_multi_heap_rec *rec =
			sys_multi_heap_get_heap(&st.mh, (void *)addr);

		FUZZ_CHECK(rec != NULL &&
				   rec->heap == &st.slots[blk->kind].heap,
			   "get_heap(%p) inside a block of heap %u gave %p",
			   (const void *)addr, blk->kind,
			   rec ? (const void *)rec->heap : NULL);
		return;
	}
	const struct heap_slot *s = &st.slots[(b >> 1) % st.count];

	/* From the guard before the region to the guard after it. */
	addr = s->region.mem - FUZZ_GUARD_BYTES +
	       v % (s->region.bytes + 2u * FUZZ_GUARD_BYTES);
	const struct sys_multi_heap_rec *rec =
		sys_multi_heap_get_heap(&st.mh, (void *)addr);
	unsigned int slot = slot_of(addr, 1u);

	if (rec == NULL) {
		/* Outside every added heap, or in a region's slack (the
		 * skipped start, the bytes past the end sentinel). */
		return;
	}
	FUZZ_CHECK(slot < st.count && rec->heap == &st.slots[slot].heap,
		   "get_heap(%p) gave a heap whose region does not hold it",
		   (const void *)addr);
}

/* A pointer in no heap: a guard byte before the first region. */
static void do_foreign(struct fuzz_input *in)
{
	uint8_t b = fuzz_u8(in);
	unsigned char *foreign = st.slots[0].region.mem - 1 - b % 8u;

	st.faults_expected = 1u;
	if ((b & 0x80u) != 0u) {
		sys_multi_heap_free(&st.mh, foreign);
	} else {
		FUZZ_CHECK(sys_multi_heap_realloc(&st.mh, NULL, foreign, 16u) ==
				   NULL,
			   "realloc of a foreign pointer gave memory");
	}
	FUZZ_CHECK(st.faults_seen == 1u &&
			   st.last_fault.kind == SYS_HEAP_FAULT_BAD_POINTER &&
			   st.last_fault.heap == NULL &&
			   st.last_fault.mem == foreign,
		   "a foreign pointer was not reported as BAD_POINTER");
}

static void do_add_again(struct fuzz_input *in)
{
	struct heap_slot *s = &st.slots[fuzz_u8(in) % st.count];
	unsigned int before = st.mh.nheaps;

	FUZZ_CHECK(sys_multi_heap_add_heap(&st.mh, &s->heap, NULL) == -22,
		   "a heap was added twice (or an uninitialised one)");
	FUZZ_CHECK(st.mh.nheaps == before, "nheaps changed");
}

static void do_default_select(size_t align, size_t bytes)
{
	unsigned char *mem =
		sys_multi_heap_default_select(&st.mh, NULL, align, bytes);

	if (mem != NULL && !fuzz_model_full(&model)) {
		add_block(mem, bytes, align);
	} else if (mem != NULL) {
		sys_multi_heap_free(&st.mh, mem);
	}
}

static void do_free_every_other(void)
{
	for (size_t i = model.count; i-- > 0;) {
		if ((i & 1u) == 0u) {
			do_free(i);
		}
	}
}

static void do_fill(struct fuzz_input *in)
{
	size_t bytes = 8u + fuzz_u8(in) * 8u;

	while (!fuzz_model_full(&model)) {
		unsigned char *mem =
			sys_multi_heap_default_select(&st.mh, NULL, 0u, bytes);

		if (mem == NULL) {
			break;
		}
		add_block(mem, bytes, 0u);
	}
}

static void run_op(struct fuzz_input *in, uint8_t op)
{
	size_t limit = st.slots[0].region.bytes;
	void *cfg;
	size_t align;

	switch (op % 16u) {
	case 0:
	case 1:
	case 2:
		fuzz_context_op("alloc");
		cfg = decode_cfg(in);
		do_alloc(cfg, 0u, fuzz_size(in, limit), false);
		break;
	case 3:
	case 4:
		fuzz_context_op("aligned_alloc");
		cfg = decode_cfg(in);
		align = fuzz_align(in);
		do_alloc(cfg, align, fuzz_size(in, limit), true);
		break;
	case 5:
	case 6:
	case 7: {
		fuzz_context_op("realloc");
		size_t i = fuzz_model_pick(&model, in);

		cfg = decode_cfg(in);
		align = op % 16u == 7u ? fuzz_align(in) : 0u;
		do_realloc(i, cfg, align, fuzz_size(in, limit));
		break;
	}
	case 8:
	case 9:
		fuzz_context_op("free");
		do_free(fuzz_model_pick(&model, in));
		break;
	case 10:
		fuzz_context_op("get_heap");
		do_get_heap(in);
		break;
	case 11:
		fuzz_context_op("foreign");
		do_foreign(in);
		break;
	case 12:
		fuzz_context_op("add_again");
		do_add_again(in);
		break;
	case 13:
		fuzz_context_op("default_select");
		align = fuzz_align(in);
		do_default_select(align, fuzz_size(in, limit));
		break;
	case 14:
		fuzz_context_op("free_every_other");
		do_free_every_other();
		break;
	default:
		fuzz_context_op("fill");
		do_fill(in);
		break;
	}
	check_all();
}

/* --- set-up and the end of an input ---------------------------------------- */

static void set_up(struct fuzz_input *in)
{
	memset(&st, 0, sizeof(st));
	sys_multi_heap_init(&st.mh, choose);
	st.count = (fuzz_u8(in) & 3u) + 1u;
	for (unsigned int i = 0; i < st.count; i++) {
		struct heap_slot *s = &st.slots[i];

		fuzz_region_decode(in, buffers[i], &s->region,
				   i == 0u ? 0u : FUZZ_REGION_SMALL_ONLY);
		bool ok = fuzz_region_init_ok(&s->region);
		int rc =
			sys_heap_init(&s->heap, s->region.mem, s->region.bytes);

		FUZZ_CHECK(rc == (ok ? 0 : -22), "init(%zu bytes): %d",
			   s->region.bytes, rc);
		rc = sys_multi_heap_add_heap(&st.mh, &s->heap, NULL);
		FUZZ_CHECK(rc == (ok ? 0 : -22), "add_heap of heap %u: %d", i,
			   rc);
		s->added = ok;
		s->header = sys_heap_header_bytes(&s->heap);
	}
	/* Records in address order. */
	for (unsigned int i = 1; i < st.mh.nheaps; i++) {
		FUZZ_CHECK((uintptr_t)st.mh.heaps[i - 1u].heap->heap <
				   (uintptr_t)st.mh.heaps[i].heap->heap,
			   "heaps not in address order");
	}
	/* The test's chooser names heaps by their index in mh.heaps. */
	for (unsigned int i = 0; i < 256u; i++) {
		cfg_bytes[i] = (uint8_t)i;
	}
}

static void tear_down(void)
{
	while (model.count > 0u) {
		do_free(model.count - 1u);
	}
	for (unsigned int i = 0; i < st.count; i++) {
		struct heap_slot *s = &st.slots[i];

		if (s->added) {
			FUZZ_CHECK(fuzz_stats(&s->heap).allocated_bytes == 0u,
				   "heap %u not empty after every free", i);
		}
	}
	check_all();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fuzz_input in;

	fuzz_context_begin("fuzz_multi_heap");
	fuzz_input_init(&in, data, size);
	sys_heap_fault_handler_set(on_fault);
	fuzz_model_reset(&model);
	set_up(&in);
	check_all();
	while (fuzz_more(&in)) {
		run_op(&in, fuzz_u8(&in));
	}
	fuzz_context_op("end");
	tear_down();
	return 0;
}
