/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Checks that defend the heap against corrupted metadata, apart from the
 * allocation policy. Shared by the core's .c files only.
 *
 * The guarantee they give (zephyr/sys/sys_heap.h, "Corruption"; design
 * and the rejected alternatives: docs/design.md, "Hardening levels"):
 *
 * - BASIC and up: every chunk id read from memory a user can reach (the
 *   block area: headers, sizes, left sizes, free-list links) is
 *   range-checked before the heap reads or writes through it, and no id
 *   that failed reaches a list head. So writes into the block area can
 *   make the heap hand out wrong blocks inside its region, but never
 *   make it read or write outside the region; a call that meets such
 *   damage is refused before it changes anything.
 * - FULL and up: the control block (at the region's start, where an
 *   underflow of the first block lands) is checked too: its layout
 *   fields are sealed into the magic (control_seal), checked on entry to
 *   every call; the list heads and bitmaps, which every call changes,
 *   are range-checked where they are used as addresses or indexes.
 *
 * The last part checks a block the caller names (free, realloc,
 * usable_size): check_live_block and check_merge_partners, which return a
 * fault kind.
 *
 * Each helper is one question with a bool answer; the caller decides what
 * a "no" means (refuse and report, or stop a read-only walk). None hides
 * control flow. A helper is compiled in from the level its comment names
 * (below it the answer is a constant the compiler folds).
 *
 * Invariant the helpers rely on: a list head whose bitmap bit is set holds
 * an id below end_chunk (BASIC and up maintain it; FULL and up check it,
 * since the control block may be written).
 */
#ifndef KHEAP_HEAP_CHECKS_H
#define KHEAP_HEAP_CHECKS_H

#include "heap_internal.h"

/* Hot-path helpers are inlined wherever the hot paths are (sys_heap.c,
 * HOT), so that the header format stays a constant inside them. */
#if defined(__GNUC__) && defined(__OPTIMIZE__) && !defined(__OPTIMIZE_SIZE__)
#define CHECK_FN static inline __attribute__((__always_inline__, __unused__))
#elif defined(__GNUC__)
#define CHECK_FN static inline __attribute__((__unused__))
#else
#define CHECK_FN static inline
#endif

/* Optimising for speed, a loop of two passes is two copies of its body
 * (GCC's -O2 would keep the loop). */
#if defined(__GNUC__) && defined(__OPTIMIZE__) && !defined(__OPTIMIZE_SIZE__)
#define UNROLL_AT_SPEED _Pragma("GCC unroll 2")
#else
#define UNROLL_AT_SPEED
#endif

#define CHECKS_BLOCK_AREA (HARDENING >= SYS_HEAP_HARDENING_BASIC)
#define CHECKS_CONTROL_BLOCK (HARDENING >= SYS_HEAP_HARDENING_FULL)

/* ---- ids from the block area (BASIC and up) ---------------------------- */

/*
 * Is id, read from the block area (a free-list link, a chunk reached
 * through one), the id of a chunk of this heap? Reading a chunk's header
 * and links (up to 16 bytes from its start) is then inside the region:
 * the end sentinel's header follows the last chunk.
 */
CHECK_FN bool chunk_id_ok(struct heap_view v, uint32_t id)
{
	return !CHECKS_BLOCK_AREA || id < v.h->end_chunk;
}

/*
 * May chunk c (< end_chunk), read off a free list with size_chunks in its
 * header, serve a request of want_chunks? Its size must reach the request
 * (a corrupt size in a larger class may not) and stop at the heap's end,
 * so that splitting it writes inside the region.
 */
CHECK_FN bool taken_size_ok(struct heap_view v, chunkid_t c,
			    chunksz_t size_chunks, chunksz_t want_chunks)
{
	return !CHECKS_BLOCK_AREA || (size_chunks >= want_chunks &&
				      size_chunks <= v.h->end_chunk - c);
}

/*
 * Does class cls, read from a head mark, have a list head? Classes
 * 1..head_count have one (class 0 wraps to a large value).
 */
static inline bool class_has_head(const struct z_heap *h, uint32_t cls)
{
	return cls - 1u < h->head_count;
}

/*
 * Are prev and next, read from free chunk c's links, sound: its
 * predecessor (or, for a list head, whose prev is its class's head mark,
 * that class's head slot) points at it, and its successor points back at
 * it or it is its list's tail (next == c)? Every id is range-checked
 * before it is read through. Four reads at most. c < end_chunk.
 */
INLINE bool links_ok(struct heap_view v, chunkid_t c, uint32_t prev,
		     chunkid_t next)
{
	chunkid_t end = v.h->end_chunk;

	if ((prev & head_mark_bit(v)) != 0u) {
		uint32_t cls = prev & ~head_mark_bit(v);

		if (!class_has_head(v.h, cls) || list_head(v, cls) != c) {
			return false;
		}
	} else if (prev >= end || free_next(v, prev) != c) {
		return false;
	}
	return next == c || (next < end && free_prev(v, next) == c);
}

/*
 * Is word, the size-and-used word of chunk c (< end_chunk), that of a free
 * chunk: marked free, at least min_chunks long, ending inside the heap
 * where a right neighbour agrees with its size?
 */
CHECK_FN bool free_word_ok(struct heap_view v, chunkid_t c, uint32_t word)
{
	chunksz_t size = word >> 1;

	return (word & 1u) == 0u && size >= min_chunks(v) &&
	       size <= v.h->end_chunk - c && left_size(v, c + size) == size;
}

/*
 * Does free chunk c agree with its left neighbour: chunk 0 has none
 * (left_size 0); any other chunk's left_size names a used chunk of that
 * size (free chunks never touch). FULL and up, for a chunk the allocation
 * path takes: the canary moves the end of a short overflow of the left
 * neighbour from c's size onto its left_size. c < end_chunk.
 */
CHECK_FN bool free_left_ok(struct heap_view v, chunkid_t c)
{
	chunksz_t left = left_size(v, c);

	if (left - 1u >= c) {
		/* left 0 (wraps) or reaching below chunk 0. */
		return (left | c) == 0u;
	}
	uint32_t left_word = field_get(v, c - left, SIZE_AND_USED);

	return left_word == ((left << 1) | 1u);
}

/*
 * Is c what a free-list member must be: inside the heap, marked free,
 * sized inside the heap with a right neighbour that agrees, and linked
 * both ways? Used from MODERATE up before a chunk whose header the
 * current call has not checked otherwise is unlinked or its size trusted
 * (a chunk the allocation search reads, a merge partner), so that a
 * corrupt chunk is refused instead of turning an unlink into a write
 * through a link that is not its own. BASIC range-checks instead
 * (chunk_id_ok, links_in_heap): the writes stay inside the region.
 */
CHECK_FN bool free_chunk_ok(struct heap_view v, chunkid_t c)
{
	if (c >= v.h->end_chunk) {
		return false;
	}
	return free_word_ok(v, c, field_get(v, c, SIZE_AND_USED)) &&
	       links_ok(v, c, free_prev(v, c), free_next(v, c));
}

/* ---- the control block (FULL and up) ------------------------------------ */

/*
 * The seal of the control block's fields that no call changes: the ones
 * every address is computed from (the layout word: chunk_base_offset,
 * head_count and the header format; end_chunk) and the lists-damaged
 * flag (clear between calls), mixed with the control block's own
 * address. From FULL up the magic is Z_HEAP_MAGIC ^ seal, so one compare
 * on entry to every call finds a change of any one of them (each term,
 * an odd multiple of one word, changes with any change of that word).
 * Below FULL the seal is 0 and the magic the plain constant. Not secret:
 * a guard against accidents.
 */
static inline uint32_t control_seal(const struct z_heap *h)
{
	if (!CHECKS_CONTROL_BLOCK) {
		return 0u;
	}
	/* The layout word, as one 4-byte aligned load (a may_alias load,
	 * not a memcpy call, which some targets make at -O2). */
	uint32_t layout =
		*(const hfield32_t *)(const void *)&h->chunk_base_offset;

	return (layout * 0x9e3779b1u) ^ (h->end_chunk * 0x85ebca77u) ^
	       (uint32_t)(uintptr_t)h;
}

/* The magic of control block h: sealed from FULL up. */
static inline uint32_t control_magic(const struct z_heap *h)
{
	return Z_HEAP_MAGIC ^ control_seal(h);
}

/* The control block of an initialised heap, or NULL: not initialised
 * (init failed or never ran), or, from FULL up, its layout fields changed
 * since init (control_damaged tells which). Inlined at -Os too: every
 * public call starts here, and as a call it cost the worst allocation 9
 * instructions (Cortex-M3 -Os BASIC, 242 -> 233) against 32 bytes of code
 * inlined. */
INLINE const struct z_heap *heap_of(const struct sys_heap *heap)
{
	if (heap == NULL || heap->heap == NULL ||
	    heap->heap->magic != control_magic(heap->heap)) {
		return NULL;
	}
	return heap->heap;
}

/* For a heap heap_of() refused: was it initialised, its control block
 * damaged since (FULL and up)? Below FULL a damaged magic reads as "not
 * initialised" and a damaged layout field is not seen. */
static inline bool control_damaged(const struct sys_heap *heap)
{
	return CHECKS_CONTROL_BLOCK && heap != NULL && heap->heap != NULL;
}

/*
 * Can the allocation search use first level fl, found in fl_bitmap? The
 * level must have a bitmap byte and list heads (below fl_count(h)): checked
 * before its byte is read. FULL and up; below, the control block is
 * trusted and this holds by construction.
 */
CHECK_FN bool first_level_ok(struct heap_view v, unsigned int fl)
{
	return !CHECKS_CONTROL_BLOCK || fl < fl_count(v.h);
}

/*
 * Has a first level whose fl_bitmap bit is set second-level bits sl_bits?
 * Its second level must not be empty (the lowest set bit of 0 is
 * undefined). FULL and up, as first_level_ok.
 */
CHECK_FN bool second_level_ok(uint32_t sl_bits)
{
	return !CHECKS_CONTROL_BLOCK || sl_bits != 0u;
}

/*
 * Has class cls, found in the bitmaps above a request's class (so cls >=
 * 1), a list head? The heads end at head_count (a region pays for no
 * class it cannot use), so a bitmap bit damaged past it would name a head
 * slot in the block area. FULL and up; below, the bitmaps are trusted and
 * only classes up to head_count are ever set.
 */
CHECK_FN bool class_ok(struct heap_view v, unsigned int cls)
{
	return !CHECKS_CONTROL_BLOCK || cls <= v.h->head_count;
}

/*
 * Is id, read from a list head that is about to be written through, a
 * chunk of this heap? FULL and up (below, a head holds only ids that
 * were checked before they were stored).
 */
CHECK_FN bool head_id_ok(struct heap_view v, chunkid_t id)
{
	return !CHECKS_CONTROL_BLOCK || id < v.h->end_chunk;
}

/* ---- a block the caller names (BASIC and up) ---------------------------- */

/* A block that passed the checks: its chunk, size, left neighbour's size
 * and that neighbour's size-and-used word (1, "in use", for chunk 0). */
struct live_block {
	chunkid_t c;
	chunksz_t size;
	chunksz_t left;
	uint32_t left_word;
};

/*
 * Used block c of size_chunks, whose left_size agrees with its left
 * neighbour, and the header at right = c + size_chunks (inside the heap),
 * whose left_size does not agree with size_chunks: did c's own size
 * change (a write before the block: CORRUPT_HEADER), rather than the next
 * header (c written past its end: OVERFLOW)? Decided by both neighbours:
 * c's size is the changed one if it is impossible for a used block (more
 * chunks than are in use), or if the header at right names a left
 * neighbour that starts inside c's claimed extent and whose size agrees:
 * that block and the header at right are then sound, and c's size runs
 * over a block boundary. A size changed to a smaller value that still
 * ends inside the block cannot be told from an overflow (false).
 */
COLD bool own_size_changed(struct heap_view v, chunksz_t size_chunks,
			   chunkid_t right)
{
	chunksz_t right_left = left_size(v, right);

	if (size_chunks > v.h->allocated_chunks) {
		return true;
	}
	/* 1 <= right_left < size_chunks: a boundary in (c, right). */
	return right_left - 1u < size_chunks - 1u &&
	       chunk_size(v, right - right_left) == right_left;
}

/*
 * The O(1) checks made before a block is freed, resized or measured, as
 * many as the hardening level asks for (kheap/config.h). Returns 0 and
 * fills *b if mem looks like a live block, else the fault kind.
 */
HOT enum sys_heap_fault_kind
check_live_block(struct heap_view v, const void *mem, struct live_block *b)
{
	chunkid_t end = v.h->end_chunk;
	/* Below the first block wraps to a huge offset: one compare. */
	uintptr_t offset = (uintptr_t)mem - (uintptr_t)chunk_mem(v, 0);

	if (UNLIKELY(offset >= ((uintptr_t)end << CHUNK_SHIFT))) {
		return SYS_HEAP_FAULT_BAD_POINTER;
	}
	chunkid_t c = (chunkid_t)(offset >> CHUNK_SHIFT);
	/* chunk_ptr(v, c), without truncating c to 32 bits first. */
	const unsigned char *hdr = view_base(v) + (offset & ~(uintptr_t)7u);
	uint32_t size_and_used = id_get(v, hdr, SIZE_AND_USED);
	chunksz_t size = size_and_used >> 1;
	chunksz_t left = id_get(v, hdr, LEFT_SIZE);
	/* Cannot wrap: c and size are below 2^31. */
	chunkid_t right = c + size;
	uint32_t left_word = 1u;

	if (HARDENING == SYS_HEAP_HARDENING_NONE) {
		/* Trust the headers (see kheap/config.h). */
		if (left != 0u) {
			left_word = field_get(v, c - left, SIZE_AND_USED);
		}
		goto sound;
	}
	/*
	 * The block ends inside the heap, and mem (up to 7 bytes past the
	 * block's start for rewound blocks) lies inside the block, before
	 * the canary (FULL and up) and the next header: a stale pointer 1..7
	 * bytes into a small block would otherwise have a negative usable
	 * size. That also refuses sizes below min_chunks.
	 */
	if (UNLIKELY(right > end || (uintptr_t)mem >= (uintptr_t)view_base(v) +
							      ((uintptr_t)right
							       << CHUNK_SHIFT) -
							      CANARY_BYTES)) {
		return SYS_HEAP_FAULT_CORRUPT_HEADER;
	}
	const unsigned char *right_hdr = chunk_ptr(v, right);

	if (UNLIKELY((size_and_used & 1u) == 0u)) {
		return SYS_HEAP_FAULT_NOT_ALLOCATED;
	}
	/* Own header before the neighbour's: an interior pointer or an
	 * overflow from the left shows here, not as our overflow. Only
	 * chunk 0 has no left neighbour (left_size 0). */
	if (UNLIKELY(left - 1u >= c)) {
		if ((left | c) != 0u) {
			return SYS_HEAP_FAULT_CORRUPT_HEADER;
		}
	} else {
		left_word = field_get(v, c - left, SIZE_AND_USED);
		if (UNLIKELY((left_word >> 1) != left)) {
			return SYS_HEAP_FAULT_CORRUPT_HEADER;
		}
	}
	if (UNLIKELY(id_get(v, right_hdr, LEFT_SIZE) != size)) {
		return own_size_changed(v, size, right)
			       ? SYS_HEAP_FAULT_CORRUPT_HEADER
			       : SYS_HEAP_FAULT_OVERFLOW;
	}
	/* The canary last: its place depends on the size checked above. */
	if (HARDENING >= SYS_HEAP_HARDENING_FULL &&
	    UNLIKELY(!canary_intact(v, c, size))) {
		return SYS_HEAP_FAULT_CANARY;
	}
sound:
	b->c = c;
	b->size = size;
	b->left = left;
	b->left_word = left_word;
	return (enum sys_heap_fault_kind)0;
}

/*
 * BASIC, for a free neighbour about to be unlinked: may its unlink write
 * through prev and next, the links read from it? prev is a chunk of the
 * heap or the head mark of a class that has a head, and next a chunk of
 * the heap. That is what keeps the unlink's writes inside the region;
 * whether the links are the chunk's own (links_ok) is MODERATE's
 * question, as on the allocation path.
 */
CHECK_FN bool links_in_heap(struct heap_view v, uint32_t prev, chunkid_t next)
{
	chunkid_t end = v.h->end_chunk;
	uint32_t mark = head_mark_bit(v);
	bool prev_ok = (prev & mark) != 0u ? class_has_head(v.h, prev & ~mark)
					   : prev < end;

	return prev_ok && next < end;
}

/*
 * May free neighbour c, whose size-and-used word is word, be unlinked
 * and merged? BASIC: its links may be written through (links_in_heap),
 * and, for the right neighbour (right_side), its size is at least one
 * chunk and ends inside the heap, so that the merged block's header and
 * links lie inside it (the left neighbour's size already agrees with the
 * block's left_size: check_live_block). MODERATE and up: a sound list
 * member (free_chunk_ok).
 */
CHECK_FN bool merge_partner_ok(struct heap_view v, chunkid_t c, uint32_t word,
			       bool right_side)
{
	if (HARDENING >= SYS_HEAP_HARDENING_MODERATE) {
		return free_chunk_ok(v, c);
	}
	return (!right_side || (word >> 1) - 1u < v.h->end_chunk - c) &&
	       links_in_heap(v, free_prev(v, c), free_next(v, c));
}

/*
 * BASIC and up, before live block b is freed or grown: a neighbour that
 * says it is free will be unlinked, so merge_partner_ok must hold for it.
 * Returns 0 or SYS_HEAP_FAULT_CORRUPT_LINKS.
 */
HOT enum sys_heap_fault_kind check_merge_partners(struct heap_view v,
						  const struct live_block *b)
{
	if (HARDENING == SYS_HEAP_HARDENING_NONE) {
		return (enum sys_heap_fault_kind)0;
	}
	/* Left, then right: one copy of merge_partner_ok for both at -Os. */
	chunkid_t partner = b->c - b->left;
	uint32_t partner_word = b->left_word;
	chunkid_t right = b->c + b->size;

	UNROLL_AT_SPEED
	for (unsigned int side = 0u; side < 2u; side++) {
		if ((partner_word & 1u) == 0u &&
		    UNLIKELY(!merge_partner_ok(v, partner, partner_word,
					       side != 0u))) {
			return SYS_HEAP_FAULT_CORRUPT_LINKS;
		}
		partner = right;
		partner_word = field_get(v, right, SIZE_AND_USED);
	}
	return (enum sys_heap_fault_kind)0;
}

#endif /* KHEAP_HEAP_CHECKS_H */
