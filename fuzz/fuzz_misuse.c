/* SPDX-License-Identifier: Apache-2.0 */
/*
 * fuzz_misuse: sequences of legal operations and misuse of sys_heap, with
 * the fault handler capturing what the heap reports.
 *
 * The contract (sys_heap.h, sys_heap_free; docs/api.md, "Misuse
 * detection") promises that a refused pointer is reported once, with the
 * documented kind and the name of the call, and that the refused call
 * changes nothing. This target checks exactly that, for:
 *
 *   misuse                          documented kind      when asserted
 *   double free (at once)           NOT_ALLOCATED        always
 *   stale pointer (free, realloc,   NOT_ALLOCATED        the freed block
 *     usable_size after free)                            was not reused
 *   interior pointer, 8+ bytes in   CORRUPT_HEADER (or   the block is
 *                                   NOT_ALLOCATED)       filled with tokens
 *   pointer outside the heap, from  BAD_POINTER          always
 *     another heap, to a heap that
 *     was never initialised
 *   write past usable_size into     OVERFLOW             the write changed
 *     the next block's header                            the next header's
 *                                                        left_size
 *
 * A stale pointer into a block that was handed out again ("double free
 * after reuse") and an interior pointer within a block's first 8 bytes
 * are not detected at this level (the contract says so): when such a
 * pointer lands on a live block's first chunk the call may act on that
 * block; the model follows whatever the heap reports and only checks that
 * the heap stays consistent.
 *
 * Oracles for every refused call: exactly one fault with the heap, the
 * pointer, an allowed kind, the operation ("free", "realloc",
 * "usable_size"; realloc to 0 bytes is a free) and the kind's fixed
 * message; free/realloc/usable_size returned NULL/0; both regions are
 * byte-identical to a snapshot taken just before; sys_heap_owns() is
 * false for the pointer. After every operation, overwritten header bytes
 * are restored (an overflow must make sys_heap_validate() false while it
 * is in place) and then sys_heap_validate(), the stats (allocated_bytes =
 * sum of round_up_8(usable + header) over live blocks) and the guards
 * hold; at the end every block is checked and freed, the heap is whole
 * again and an allocation of max_alloc_bytes() succeeds.
 *
 * Input: region A (3 bytes, fuzz_region_decode with
 * FUZZ_REGION_VALID_ONLY: both header formats), then operations:
 *
 *   op % 13  operation
 *   0, 1     alloc(size)
 *   2        aligned_alloc(align, size)
 *   3        free(block)
 *   4        realloc(block, size)
 *   5        free(block), then a misuse call on the same pointer
 *   6        a misuse call on a stale (freed) pointer
 *   7        a misuse call on an interior pointer of a live block
 *   8        a misuse call on a pointer outside heap A
 *   9        a misuse call on a block of heap B passed to heap A, of A
 *            to B, or of A to a never initialised heap
 *   10       overflow: XOR 1..header bytes past a block's usable size,
 *            one or two misuse calls on that block, restore
 *   11       burst: a seeded run of allocations (tests/support PRNG)
 *   12       damage 1..8 random bytes of the block area: validate
 *            terminates, writes nothing, stays true if only user data
 *            changed; then the region is restored
 *
 * A misuse call is one byte (free, realloc, aligned_realloc, realloc to
 * 0 bytes, usable_size) plus the realloc's size and alignment.
 *
 * Hardening levels (kheap/config.h; the matrix in
 * docs/testing/hardening.md): the table above is the default level, BASIC,
 * and MODERATE (whose extra checks are on the allocation path, which this
 * target never corrupts).
 * The level is the one the linked core was built with
 * (CONFIG_SYS_HEAP_HARDENING_LEVEL, PUBLIC on kheap_core_h<N>); ctest
 * replays the corpus at every level. Differences:
 *   NONE      only pointers outside the block area are refused, so only
 *             those misuse calls are made (operations 8 and 9; the other
 *             misuse operations decode their operands and do nothing but
 *             their legal part, so an input means the same at every
 *             level); validate (operation 12) is the same;
 *   FULL      a 4-byte canary ends every used block: a write past
 *             usable_size changes it first, and is reported as CANARY,
 *             or as OVERFLOW if it also changed the next header (8-byte
 *             headers: the 5th..8th byte written), which is checked
 *             first; a block spans round_up_8(usable + 4 + header)
 *             bytes;
 *   EXTREME   the heap is validated on entry to free and realloc, so an
 *             overflow is reported as INVALID_HEAP by them (usable_size
 *             is not validated: CANARY).
 */
#include <stdlib.h>
#include <string.h>

#include "fuzz_support.h"
#include "test_meta.h"

#define STALE_MAX 64u
#define HEAP_B_BYTES 2048u

static unsigned char buffer[FUZZ_BUFFER_BYTES] __attribute__((__aligned__(8)));
static unsigned char snapshot_a[FUZZ_REGION_MAX];
static unsigned char region_b[HEAP_B_BYTES] __attribute__((__aligned__(8)));
static unsigned char snapshot_b[HEAP_B_BYTES];
static unsigned char corrupted[FUZZ_REGION_MAX];
static struct fuzz_model model;
/* KHEAP_FUZZ_STRICT=1: no allowance for known issues (see do_stale). */
static int strict = -1;
#define LEVEL CONFIG_SYS_HEAP_HARDENING_LEVEL
/* NONE checks nothing but the pointer's range. */
#define CHECKS_BLOCKS (LEVEL >= SYS_HEAP_HARDENING_BASIC)
/* The FULL canary at the end of every used block (a variable: compared
 * with indexes, a constant 0 would be an always-true comparison). */
static const size_t canary_bytes = LEVEL >= SYS_HEAP_HARDENING_FULL ? 4u : 0u;

/* A global whose address is never inside a heap. */
static unsigned char not_a_heap[64];

/* A pointer freed earlier. */
struct stale {
	unsigned char *mem;
	/* The block's extent: header start to the end of its usable bytes. */
	uintptr_t start;
	uintptr_t end;
	/* Some block handed out since overlaps the extent. */
	bool reused;
	/* The block's header right after the free. */
	unsigned char header[8];
};

static struct {
	struct sys_heap heap;
	struct fuzz_region region;
	size_t header;
	size_t total;
	size_t init_free;
	size_t init_max_alloc;
	/* Chunk 0's header: where the block area starts. */
	unsigned char *block_area;
	struct sys_heap heap_b;
	void *b_blocks[3];
	struct stale stale[STALE_MAX];
	size_t stale_count;
	size_t stale_next;
	/* Counts, for a replay's curiosity. */
	unsigned int refused;
} st;

/* --- fault capture -------------------------------------------------------- */

static struct {
	bool armed;
	unsigned int count;
	struct sys_heap_fault last;
} cap;

static void capture(const struct sys_heap_fault *fault)
{
	if (!cap.armed) {
		fuzz_fault_unexpected(fault);
	}
	cap.count++;
	cap.last = *fault;
}

#define KIND_BIT(k) (1u << (unsigned int)(k))

/* --- checks ------------------------------------------------------------- */

static uintptr_t extent_start(const void *mem)
{
	return ((uintptr_t)mem & ~(uintptr_t)7u) - st.header;
}

static void check_heap(void)
{
	FUZZ_CHECK(sys_heap_validate(&st.heap), "sys_heap_validate(A) failed");
	FUZZ_CHECK(sys_heap_validate(&st.heap_b),
		   "sys_heap_validate(B) failed");
	fuzz_region_check_guards(&st.region);

	struct sys_memory_stats s = fuzz_stats(&st.heap);
	size_t span = 0u;

	for (size_t i = 0; i < model.count; i++) {
		span += fuzz_block_span(model.blocks[i].usable, st.header);
	}
	FUZZ_CHECK(s.allocated_bytes == span,
		   "allocated_bytes %zu, model says %zu (%zu blocks)",
		   s.allocated_bytes, span, model.count);
	FUZZ_CHECK(s.free_bytes + s.allocated_bytes == st.total,
		   "free %zu + allocated %zu != %zu", s.free_bytes,
		   s.allocated_bytes, st.total);
}

/* Mark stale pointers whose block overlaps a block just handed out. */
static void mark_reused(const void *mem, size_t usable)
{
	uintptr_t start = extent_start(mem);
	uintptr_t end = (uintptr_t)mem + usable;

	for (size_t i = 0; i < st.stale_count; i++) {
		if (st.stale[i].start < end && start < st.stale[i].end) {
			st.stale[i].reused = true;
		}
	}
}

static void add_stale(const struct fuzz_block *b)
{
	struct stale *s = &st.stale[st.stale_next];

	s->mem = b->mem;
	s->start = extent_start(b->mem);
	s->end = (uintptr_t)b->mem + b->usable;
	s->reused = false;
	test_meta_read(s->header, (const void *)s->start, st.header);
	st.stale_next = (st.stale_next + 1u) % STALE_MAX;
	if (st.stale_count < STALE_MAX) {
		st.stale_count++;
	}
}

static void new_block(void *mem, size_t bytes, size_t a, size_t r)
{
	size_t usable = sys_heap_usable_size(&st.heap, mem);

	FUZZ_CHECK(usable >= bytes, "usable %zu < %zu", usable, bytes);
	FUZZ_CHECK(fuzz_region_contains(&st.region, mem, usable),
		   "block %p + %zu outside region A", mem, usable);
	FUZZ_CHECK(fuzz_align_ok(mem, a, r), "block %p misaligned", mem);
	FUZZ_CHECK(fuzz_model_overlap(&model, mem, usable, SIZE_MAX) ==
			   SIZE_MAX,
		   "block %p overlaps a live block", mem);
	mark_reused(mem, usable);
	(void)fuzz_model_add_usable(&model, mem, bytes, usable, a, r, 0u);
}

/* --- legal operations ------------------------------------------------- */

static void do_alloc(size_t align, size_t bytes)
{
	size_t a;
	size_t r;

	if (fuzz_model_full(&model)) {
		return;
	}
	void *mem = sys_heap_aligned_alloc(&st.heap, align, bytes);

	if (mem == NULL) {
		return;
	}
	FUZZ_CHECK(bytes != 0u && fuzz_align_form(align, &a, &r),
		   "alloc(align %zu, %zu) must fail", align, bytes);
	new_block(mem, bytes, a, r);
}

static void free_index(size_t i)
{
	struct fuzz_block b = model.blocks[i];

	fuzz_block_check(&b, "before free");
	sys_heap_free(&st.heap, b.mem);
	fuzz_model_remove(&model, i);
	add_stale(&b);
}

static void do_realloc(size_t i, size_t bytes)
{
	struct fuzz_block old = model.blocks[i];

	if (bytes == 0u) {
		return;
	}
	fuzz_block_check(&old, "before realloc");
	void *mem = sys_heap_realloc(&st.heap, old.mem, bytes);

	if (mem == NULL) {
		fuzz_block_check(&old, "after a failed realloc");
		return;
	}
	size_t keep = old.usable < bytes ? old.usable : bytes;

	FUZZ_CHECK(test_token_check_moved(mem, keep, old.id, old.mem) ==
			   SIZE_MAX,
		   "realloc %p -> %p lost data", (void *)old.mem, mem);
	fuzz_model_remove(&model, i);
	if (mem != old.mem) {
		add_stale(&old);
	}
	new_block(mem, bytes, mem == old.mem ? old.align : 8u,
		  mem == old.mem ? old.rewind : 0u);
}

/* --- misuse calls ---------------------------------------------------------- */

enum call {
	CALL_FREE,
	CALL_REALLOC,
	CALL_ALIGNED_REALLOC,
	CALL_REALLOC_ZERO,
	CALL_USABLE_SIZE,
	CALL_COUNT,
};

struct call_args {
	enum call call;
	size_t bytes;
	size_t align;
};

static const char *const call_names[CALL_COUNT] = {
	"free", "realloc", "aligned_realloc", "realloc(p, 0)", "usable_size"};

/* The operation a fault from this call names. */
static const char *call_operation(enum call call)
{
	switch (call) {
	case CALL_REALLOC:
	case CALL_ALIGNED_REALLOC:
		return "realloc";
	case CALL_USABLE_SIZE:
		return "usable_size";
	default:
		return "free";
	}
}

static struct call_args decode_call(struct fuzz_input *in)
{
	struct call_args c;

	c.call = (enum call)(fuzz_u8(in) % CALL_COUNT);
	c.bytes = fuzz_size(in, st.region.bytes);
	if (c.bytes == 0u) {
		c.bytes = 1u;
	}
	/* Well-formed: which of a bad pointer and a bad align is reported
	 * first is not part of the contract. */
	c.align = (size_t)8u << (fuzz_u8(in) % 10u);
	return c;
}

/* Make the call; returns whether it returned the "refused" value. */
static bool make_call(struct sys_heap *heap, void *mem,
		      const struct call_args *c)
{
	switch (c->call) {
	case CALL_FREE:
		sys_heap_free(heap, mem);
		return true;
	case CALL_REALLOC:
		return sys_heap_realloc(heap, mem, c->bytes) == NULL;
	case CALL_ALIGNED_REALLOC:
		return sys_heap_aligned_realloc(heap, mem, c->align,
						c->bytes) == NULL;
	case CALL_REALLOC_ZERO:
		return sys_heap_realloc(heap, mem, 0u) == NULL;
	default:
		return sys_heap_usable_size(heap, mem) == 0u;
	}
}

static void take_snapshots(void)
{
	test_meta_read(snapshot_a, st.region.mem, st.region.bytes);
	test_meta_read(snapshot_b, region_b, HEAP_B_BYTES);
}

static void compare_snapshots(const char *what)
{
	size_t i = test_meta_diff(st.region.mem, snapshot_a, st.region.bytes);

	if (i != SIZE_MAX) {
		fuzz_fail("refused %s changed byte %zu of region A", what, i);
	}
	FUZZ_CHECK(test_meta_diff(region_b, snapshot_b, HEAP_B_BYTES) ==
			   SIZE_MAX,
		   "refused %s changed region B", what);
}

/*
 * A call the heap must refuse: exactly one fault, for heap and mem, of a
 * kind in kinds, naming the call; nothing changes.
 */
static void refused_call(struct sys_heap *heap, void *mem,
			 const struct call_args *c, unsigned int kinds)
{
	const char *name = call_names[c->call];

	take_snapshots();
	cap.count = 0u;
	cap.armed = true;
	bool refused = make_call(heap, mem, c);

	cap.armed = false;
	FUZZ_CHECK(cap.count == 1u, "%s(%p): %u faults reported, expected 1",
		   name, (void *)mem, cap.count);
	FUZZ_CHECK(refused, "%s(%p) was refused but returned a result", name,
		   (void *)mem);
	FUZZ_CHECK(cap.last.heap == heap && cap.last.mem == mem,
		   "%s(%p): fault names heap %p, pointer %p", name, (void *)mem,
		   (const void *)cap.last.heap, cap.last.mem);
	FUZZ_CHECK((KIND_BIT(cap.last.kind) & kinds) != 0u,
		   "%s(%p): reported as %s (mask %#x)", name, (void *)mem,
		   fault_kind_name(cap.last.kind), kinds);
	FUZZ_CHECK(cap.last.operation != NULL &&
			   strcmp(cap.last.operation,
				  call_operation(c->call)) == 0,
		   "%s(%p): fault names operation \"%s\", expected \"%s\"",
		   name, (void *)mem,
		   cap.last.operation != NULL ? cap.last.operation : "(null)",
		   call_operation(c->call));
	FUZZ_CHECK(sys_heap_fault_message(cap.last.kind)[0] != '\0',
		   "%s(%p): fault kind %s has no message", name, (void *)mem,
		   fault_kind_name(cap.last.kind));
	compare_snapshots(name);
	FUZZ_CHECK(!sys_heap_owns(heap, mem),
		   "owns(%p) true for a refused pointer", (void *)mem);
	st.refused++;
	fuzz_trace("%s(%p) refused: %s", name, (void *)mem,
		   fault_kind_name(cap.last.kind));
}

/* --- misuse operations ------------------------------------------------------ */

static size_t pick(struct fuzz_input *in)
{
	return fuzz_model_pick(&model, in);
}

static void do_double_free(struct fuzz_input *in)
{
	size_t i = pick(in);
	struct call_args c = decode_call(in);

	if (i == SIZE_MAX) {
		return;
	}
	unsigned char *mem = model.blocks[i].mem;

	free_index(i);
	if (CHECKS_BLOCKS) {
		refused_call(&st.heap, mem, &c,
			     KIND_BIT(SYS_HEAP_FAULT_NOT_ALLOCATED));
	}
}

/* The live block whose first chunk holds mem (so the heap reads mem as
 * that block: reuse, not detected), or SIZE_MAX. */
static size_t live_first_chunk(const void *mem)
{
	for (size_t i = 0; i < model.count; i++) {
		if (((uintptr_t)model.blocks[i].mem & ~(uintptr_t)7u) ==
		    ((uintptr_t)mem & ~(uintptr_t)7u)) {
			return i;
		}
	}
	return SIZE_MAX;
}

/* Whether mem is an interior pointer the heap reads through token bytes
 * of live block b: at least one whole chunk past the block's first
 * chunk (two for a rewound block, whose first bytes are not filled). */
static bool interior_of(const struct fuzz_block *b, const void *mem)
{
	uintptr_t first = (uintptr_t)b->mem & ~(uintptr_t)7u;
	uintptr_t skip = ((uintptr_t)b->mem & 7u) != 0u ? 16u : 8u;
	uintptr_t p = (uintptr_t)mem & ~(uintptr_t)7u;

	return p >= first + skip &&
	       (uintptr_t)mem < (uintptr_t)b->mem + b->filled;
}

static void do_stale(struct fuzz_input *in)
{
	uint8_t k = fuzz_u8(in);
	struct call_args c = decode_call(in);

	if (st.stale_count == 0u || !CHECKS_BLOCKS) {
		return;
	}
	struct stale *s = &st.stale[k % st.stale_count];

	if (!s->reused) {
		unsigned int kinds = KIND_BIT(SYS_HEAP_FAULT_NOT_ALLOCATED);

		/*
		 * Known issue (KNOWN_ISSUES.md; docs/testing/fuzzing.md,
		 * "Findings"): in a heap with 8-byte headers, a free chunk
		 * that starts 8 bytes before the stale block keeps its
		 * free-list links where the stale block's header was, and the
		 * pointer is reported as CORRUPT_HEADER. Accepted only when
		 * the header bytes did change since the free, and not with
		 * KHEAP_FUZZ_STRICT=1.
		 */
		if (!strict && test_meta_diff((const void *)s->start, s->header,
					      st.header) != SIZE_MAX) {
			kinds |= KIND_BIT(SYS_HEAP_FAULT_CORRUPT_HEADER);
			fuzz_trace("stale header of %p was overwritten",
				   (void *)s->mem);
		}
		refused_call(&st.heap, s->mem, &c, kinds);
		return;
	}
	size_t i = live_first_chunk(s->mem);

	if (i != SIZE_MAX) {
		/*
		 * Double free after reuse: not detected at this level. A
		 * free may release the block that now lives there; follow
		 * what the heap reports. Only free and usable_size: what a
		 * realloc through the wrong pointer copies is undefined.
		 */
		struct fuzz_block b = model.blocks[i];

		fuzz_block_check(&b, "before a free after reuse");
		cap.count = 0u;
		cap.armed = true;
		/* (The memory-checker hooks name a block by its first byte,
		 * so a free through another pointer into the block's first
		 * chunk tells the tool about the block it registered.) */
		if (c.call == CALL_USABLE_SIZE) {
			(void)sys_heap_usable_size(&st.heap, s->mem);
			cap.armed = false;
			return;
		}
		sys_heap_free(&st.heap, s->mem);
		cap.armed = false;
		fuzz_trace("free(%p) after reuse: %s", (void *)s->mem,
			   cap.count == 0u ? "freed the new block"
					   : fault_kind_name(cap.last.kind));
		if (cap.count == 0u) {
			FUZZ_CHECK(!sys_heap_owns(&st.heap, b.mem),
				   "free(%p) reported nothing, but block %p "
				   "is still live",
				   (void *)s->mem, (void *)b.mem);
			fuzz_model_remove(&model, i);
			add_stale(&b);
		}
		return;
	}
	for (size_t j = 0; j < model.count; j++) {
		if (interior_of(&model.blocks[j], s->mem)) {
			refused_call(
				&st.heap, s->mem, &c,
				KIND_BIT(SYS_HEAP_FAULT_CORRUPT_HEADER) |
					KIND_BIT(SYS_HEAP_FAULT_NOT_ALLOCATED));
			return;
		}
	}
	/* Reused and free again, or in a block's unfilled first bytes:
	 * what the heap reads there is not defined by the contract. */
}

static void do_interior(struct fuzz_input *in)
{
	size_t i = pick(in);
	uint16_t off = fuzz_u16(in);
	struct call_args c = decode_call(in);

	if (i == SIZE_MAX || !CHECKS_BLOCKS) {
		return;
	}
	const struct fuzz_block *b = &model.blocks[i];
	uintptr_t first = (uintptr_t)b->mem & ~(uintptr_t)7u;
	uintptr_t lo = first + (((uintptr_t)b->mem & 7u) != 0u ? 16u : 8u);
	uintptr_t hi = (uintptr_t)b->mem + b->filled;

	if (lo >= hi) {
		return;
	}
	unsigned char *mem = (unsigned char *)(lo + off % (hi - lo));

	FUZZ_CHECK(interior_of(b, mem), "interior pointer arithmetic");
	refused_call(&st.heap, mem, &c,
		     KIND_BIT(SYS_HEAP_FAULT_CORRUPT_HEADER) |
			     KIND_BIT(SYS_HEAP_FAULT_NOT_ALLOCATED));
	fuzz_block_check(b, "after an interior pointer was refused");
}

/* sys_heap_walk visitor: the first block's memory, then stop. */
static bool first_block_memory(void *ctx, const struct sys_heap_block *block)
{
	const unsigned char **first = ctx;

	*first = (const unsigned char *)block->header + block->header_bytes;
	return false;
}

/*
 * Bytes from heap A's region start to its first block's memory: the
 * control block with its heads and bitmap, and alignment slack. Every
 * pointer there is outside the block area. The layout decides how many
 * (a region-sized index), so ask the walk; if it cannot start (a damaged
 * first header), the fixed part of the control block is always below the
 * first block.
 */
static size_t control_extent_bytes(void)
{
	const unsigned char *first = NULL;

	(void)sys_heap_walk(&st.heap, first_block_memory, &first);
	if (first == NULL) {
		return Z_HEAP_CONTROL_BYTES;
	}
	return (size_t)(first - st.region.mem);
}

static void do_outside(struct fuzz_input *in)
{
	uint8_t sel = fuzz_u8(in);
	uint8_t k = fuzz_u8(in);
	struct call_args c = decode_call(in);
	unsigned char local[16];
	unsigned char *mem;

	switch (sel % 7u) {
	case 0:
		/* The stack. */
		mem = local + k % sizeof(local);
		break;
	case 1:
		/* A global. */
		mem = not_a_heap + k % sizeof(not_a_heap);
		break;
	case 2:
		/* Heap B's region. */
		mem = region_b + k % HEAP_B_BYTES;
		break;
	case 3:
		/* Heap A's control block. */
		mem = st.region.mem + k % control_extent_bytes();
		break;
	case 4:
		/* Just past heap A's region (the guard). */
		mem = st.region.mem + st.region.bytes + k % FUZZ_GUARD_BYTES;
		break;
	case 5:
		/* Just before heap A's region (the guard). */
		mem = st.region.mem - 1 - k % FUZZ_GUARD_BYTES;
		break;
	default:
		/* Small integers as pointers: never dereferenced. */
		mem = (unsigned char *)(uintptr_t)(1u + k);
		break;
	}
	refused_call(&st.heap, mem, &c, KIND_BIT(SYS_HEAP_FAULT_BAD_POINTER));
}

static void do_foreign(struct fuzz_input *in)
{
	uint8_t sel = fuzz_u8(in);
	size_t i = pick(in);
	struct call_args c = decode_call(in);
	static struct sys_heap never_initialised;

	switch (sel % 3u) {
	case 0: {
		/* A block of heap B, given to heap A. */
		void *mem = st.b_blocks[(sel >> 2) % 3u];

		if (mem != NULL) {
			refused_call(&st.heap, mem, &c,
				     KIND_BIT(SYS_HEAP_FAULT_BAD_POINTER));
		}
		break;
	}
	case 1:
		/* A block of heap A, given to heap B. */
		if (i != SIZE_MAX) {
			refused_call(&st.heap_b, model.blocks[i].mem, &c,
				     KIND_BIT(SYS_HEAP_FAULT_BAD_POINTER));
		}
		break;
	default:
		/* A block of heap A, given to a heap never initialised. */
		if (i != SIZE_MAX) {
			memset(&never_initialised, 0,
			       sizeof(never_initialised));
			refused_call(&never_initialised, model.blocks[i].mem,
				     &c, KIND_BIT(SYS_HEAP_FAULT_BAD_POINTER));
		}
		break;
	}
}

/*
 * How a write past usable_size is reported by call, at this level. From
 * FULL up the first 4 bytes written are the canary, checked after the
 * headers: the write is an OVERFLOW if it reached the next header
 * (header_changed), else CANARY.
 */
static unsigned int overflow_kinds(enum call call, bool header_changed)
{
	if (LEVEL >= SYS_HEAP_HARDENING_EXTREME && call != CALL_USABLE_SIZE) {
		/* validate on entry sees the damage first. */
		return KIND_BIT(SYS_HEAP_FAULT_INVALID_HEAP);
	}
	if (LEVEL >= SYS_HEAP_HARDENING_FULL && !header_changed) {
		return KIND_BIT(SYS_HEAP_FAULT_CANARY);
	}
	return KIND_BIT(SYS_HEAP_FAULT_OVERFLOW);
}

static void do_overflow(struct fuzz_input *in)
{
	size_t i = pick(in);
	size_t n = 1u + fuzz_u8(in) % 8u;
	uint8_t pattern[8];
	uint8_t saved[8];
	unsigned int calls = 1u + (fuzz_u8(in) & 1u);

	for (size_t k = 0; k < sizeof(pattern); k++) {
		pattern[k] = fuzz_u8(in);
	}
	/* The first byte belongs to the next header's left_size (from FULL
	 * up: to the canary): change it for sure, so the overflow is one the
	 * contract promises to see. */
	pattern[0] |= 1u;
	if (i == SIZE_MAX) {
		return;
	}
	if (!CHECKS_BLOCKS) {
		/* Undetected at NONE: only the operands, as at other levels. */
		for (unsigned int k = 0; k < calls; k++) {
			(void)decode_call(in);
		}
		return;
	}
	const struct fuzz_block *b = &model.blocks[i];
	unsigned char *past = b->mem + b->usable;

	if (n > st.header) {
		n = st.header;
	}
	FUZZ_CHECK(fuzz_region_contains(&st.region, past, n),
		   "the next header of %p is outside the region",
		   (void *)b->mem);
	/* The overflow is planted through test_meta: memory checkers would
	 * rightly report it otherwise. */
	test_meta_read(saved, past, n);
	bool header_changed = false;

	for (size_t k = 0; k < n; k++) {
		test_meta_set8(past + k, (uint8_t)(saved[k] ^ pattern[k]));
		header_changed = header_changed ||
				 (k >= canary_bytes && pattern[k] != 0u);
	}
	/* The next block's left_size (or the canary) no longer matches: an
	 * invariant that validate checks, without writing. Both snapshots:
	 * compare_snapshots() checks region B too, which would otherwise be
	 * compared with whatever an earlier call left in snapshot_b. */
	take_snapshots();
	FUZZ_CHECK(!sys_heap_validate(&st.heap),
		   "validate missed an overflow into the header after %p",
		   (void *)b->mem);
	compare_snapshots("validate");
	for (unsigned int k = 0; k < calls; k++) {
		struct call_args c = decode_call(in);

		refused_call(&st.heap, b->mem, &c,
			     overflow_kinds(c.call, header_changed));
	}
	test_meta_write(past, saved, n);
	fuzz_block_check(b, "after an overflow was refused");
}

/* Whether [p, p + 1) lies in the usable bytes of a live block. */
static bool in_user_data(const unsigned char *p)
{
	for (size_t i = 0; i < model.count; i++) {
		const struct fuzz_block *b = &model.blocks[i];

		if (p >= b->mem && p < b->mem + b->usable) {
			return true;
		}
	}
	return false;
}

/*
 * Random damage to the block area (headers, free-list links, user data;
 * the control block is left alone: it alone knows the region's size).
 * sys_heap_validate() must terminate without touching memory outside the
 * region (ASan poisons it) and without writing, and must still say true
 * if only user data changed. Then the region is restored.
 */
static void do_corrupt(struct fuzz_input *in)
{
	size_t n = 1u + fuzz_u8(in) % 8u;
	size_t area = st.region.bytes - (size_t)(st.block_area - st.region.mem);
	bool only_user_data = true;

	/* Damage and restore through test_meta: headers and free memory
	 * are off limits to memory checkers. */
	test_meta_read(snapshot_a, st.region.mem, st.region.bytes);
	for (size_t k = 0; k < n; k++) {
		unsigned char *p = st.block_area + fuzz_u32(in) % area;
		uint8_t x = fuzz_u8(in);

		if (x == 0u) {
			x = 0x80u;
		}
		test_meta_set8(p, (uint8_t)(test_meta_get8(p) ^ x));
		only_user_data = only_user_data && in_user_data(p);
	}
	test_meta_read(corrupted, st.region.mem, st.region.bytes);
	bool valid = sys_heap_validate(&st.heap);

	FUZZ_CHECK(test_meta_diff(st.region.mem, corrupted, st.region.bytes) ==
			   SIZE_MAX,
		   "validate wrote to a damaged heap");
	FUZZ_CHECK(valid || !only_user_data,
		   "validate failed, but only user data changed");
	fuzz_trace("%zu bytes damaged%s: validate %s", n,
		   only_user_data ? " (user data only)" : "",
		   valid ? "true" : "false");
	test_meta_write(st.region.mem, snapshot_a, st.region.bytes);
}

static void do_burst(struct fuzz_input *in)
{
	struct test_rng rng;
	unsigned int steps = 1u + fuzz_u8(in) % 32u;
	uint64_t max_size = 1u + st.region.bytes / (4u + fuzz_u8(in) % 60u);

	test_rng_seed(&rng, fuzz_u32(in));
	for (unsigned int k = 0; k < steps; k++) {
		if (model.count != 0u && test_rng_percent(&rng, 30u)) {
			free_index((size_t)test_rng_below(&rng, model.count));
		} else {
			do_alloc(test_rng_percent(&rng, 20u)
					 ? (size_t)16u
						   << test_rng_below(&rng, 6u)
					 : 0u,
				 (size_t)test_rng_log_uniform(&rng, max_size));
		}
	}
}

/* --- the input ------------------------------------------------------------ */

static void run_op(struct fuzz_input *in, uint8_t op)
{
	size_t align;
	size_t i;

	switch (op % 13u) {
	case 0:
	case 1:
		fuzz_context_op("alloc");
		do_alloc(0u, fuzz_size(in, st.region.bytes));
		break;
	case 2:
		fuzz_context_op("aligned_alloc");
		align = fuzz_align(in);
		do_alloc(align, fuzz_size(in, st.region.bytes));
		break;
	case 3:
		fuzz_context_op("free");
		i = pick(in);
		if (i != SIZE_MAX) {
			free_index(i);
		}
		break;
	case 4:
		fuzz_context_op("realloc");
		i = pick(in);
		if (i != SIZE_MAX) {
			do_realloc(i, fuzz_size(in, st.region.bytes));
		}
		break;
	case 5:
		fuzz_context_op("double_free");
		do_double_free(in);
		break;
	case 6:
		fuzz_context_op("stale");
		do_stale(in);
		break;
	case 7:
		fuzz_context_op("interior");
		do_interior(in);
		break;
	case 8:
		fuzz_context_op("outside");
		do_outside(in);
		break;
	case 9:
		fuzz_context_op("foreign");
		do_foreign(in);
		break;
	case 10:
		fuzz_context_op("overflow");
		do_overflow(in);
		break;
	case 11:
		fuzz_context_op("burst");
		do_burst(in);
		break;
	default:
		fuzz_context_op("corrupt");
		do_corrupt(in);
		break;
	}
	check_heap();
}

static void init_heap_b(void)
{
	FUZZ_CHECK(sys_heap_init(&st.heap_b, region_b, HEAP_B_BYTES) == 0,
		   "init(B) failed");
	for (size_t k = 0; k < 3u; k++) {
		st.b_blocks[k] = sys_heap_alloc(&st.heap_b, 24u + 40u * k);
		FUZZ_CHECK(st.b_blocks[k] != NULL, "alloc from B failed");
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fuzz_input in;

	if (strict < 0) {
		const char *env = getenv("KHEAP_FUZZ_STRICT");

		strict = env != NULL && env[0] == '1';
	}

	fuzz_context_begin("fuzz_misuse");
	fuzz_input_init(&in, data, size);
	sys_heap_fault_handler_set(capture);
	cap.armed = false;
	fuzz_model_reset(&model);
	memset(&st, 0, sizeof(st));
	fuzz_region_decode(&in, buffer, &st.region, FUZZ_REGION_VALID_ONLY);
	FUZZ_CHECK(sys_heap_init(&st.heap, st.region.mem, st.region.bytes) == 0,
		   "init(%zu) failed", st.region.bytes);
	init_heap_b();
	st.header = sys_heap_header_bytes(&st.heap);
	/* The first block of a fresh heap is chunk 0. */
	void *first = sys_heap_alloc(&st.heap, 1u);

	FUZZ_CHECK(first != NULL, "a fresh heap refused 1 byte");
	st.block_area = (unsigned char *)extent_start(first);
	sys_heap_free(&st.heap, first);
	struct sys_memory_stats s = fuzz_stats(&st.heap);

	st.total = s.free_bytes + s.allocated_bytes;
	st.init_free = s.free_bytes;
	st.init_max_alloc = sys_heap_max_alloc_bytes(&st.heap);
	check_heap();

	while (fuzz_more(&in)) {
		run_op(&in, fuzz_u8(&in));
	}

	fuzz_context_op("final free");
	while (model.count != 0u) {
		free_index(model.count - 1u);
	}
	check_heap();
	s = fuzz_stats(&st.heap);
	FUZZ_CHECK(
		s.allocated_bytes == 0u && s.free_bytes == st.init_free,
		"after freeing everything: free %zu (was %zu), allocated %zu",
		s.free_bytes, st.init_free, s.allocated_bytes);
	size_t max = sys_heap_max_alloc_bytes(&st.heap);

	FUZZ_CHECK(max == st.init_max_alloc,
		   "after freeing everything: max_alloc_bytes %zu, was %zu",
		   max, st.init_max_alloc);
	void *all = sys_heap_alloc(&st.heap, max);

	FUZZ_CHECK(all != NULL, "the whole heap (%zu bytes) is not usable",
		   max);
	sys_heap_free(&st.heap, all);
	for (size_t k = 0; k < 3u; k++) {
		sys_heap_free(&st.heap_b, st.b_blocks[k]);
	}
	check_heap();
	return 0;
}
