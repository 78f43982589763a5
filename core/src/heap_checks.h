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
 * Is free chunk c linked both ways: its predecessor (or, for a list head,
 * its class's head slot) points at it, and its successor points back at
 * it or it is its list's tail? Every id is range-checked before it is
 * read through. Six reads at most. c < end_chunk.
 */
CHECK_FN bool links_ok(struct heap_view v, chunkid_t c)
{
	chunkid_t end = v.h->end_chunk;
	uint32_t prev = free_prev(v, c);
	chunkid_t next = free_next(v, c);

	if ((prev & head_mark_bit(v)) != 0u) {
		uint32_t cls = prev & ~head_mark_bit(v);

		if (cls >= v.h->class_count || list_head(v, cls) != c) {
			return false;
		}
	} else if (prev >= end || free_next(v, prev) != c) {
		return false;
	}
	return next == c || (next < end && free_prev(v, next) == c);
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
 * both ways? Used before a chunk whose header the current call has not
 * checked otherwise is unlinked or its size trusted (MODERATE and up on
 * the allocation path, BASIC and up for merge partners), so that a
 * corrupt chunk is refused instead of turning an unlink into a write
 * through a stray link.
 */
CHECK_FN bool free_chunk_ok(struct heap_view v, chunkid_t c)
{
	chunkid_t end = v.h->end_chunk;

	if (c >= end) {
		return false;
	}
	uint32_t word = field_get(v, c, SIZE_AND_USED);
	chunksz_t size = word >> 1;

	if ((word & 1u) != 0u || size < min_chunks(v) || size > end - c ||
	    left_size(v, c + size) != size) {
		return false;
	}
	return links_ok(v, c);
}

/* ---- the control block (FULL and up) ------------------------------------ */

/*
 * The seal of the control block's fields that no call changes: the ones
 * every address is computed from (chunk_base_offset, end_chunk, the
 * header format, fl_count, class_count) and lists_damaged (0 between
 * calls), mixed with the control block's own address. From FULL
 * up the magic is Z_HEAP_MAGIC ^ seal, so one compare on entry to every
 * call finds a change of any one of them (each term, an odd multiple,
 * changes with each of its fields alone). Below FULL the seal is 0 and
 * the magic the plain constant. Not secret: a guard against accidents.
 */
static inline uint32_t control_seal(const struct z_heap *h)
{
	if (!CHECKS_CONTROL_BLOCK) {
		return 0u;
	}
	/* big, fl_count, lists_damaged and class_count, as one word (4-byte
	 * aligned: offset 24 of the control block; a may_alias load, not a
	 * memcpy call, which some targets make at -O2). */
	uint32_t format = *(const hfield32_t *)(const void *)&h->big;

	/* Rotated into the offset's term: a damaged field need not stay
	 * in its range, but the term still changes with either alone. */
	format = (format << 16) | (format >> 16);
	return ((h->chunk_base_offset ^ format) * 0x9e3779b1u) ^
	       (h->end_chunk * 0x85ebca77u) ^ (uint32_t)(uintptr_t)h;
}

/* The magic of control block h: sealed from FULL up. */
static inline uint32_t control_magic(const struct z_heap *h)
{
	return Z_HEAP_MAGIC ^ control_seal(h);
}

/* The control block of an initialised heap, or NULL: not initialised
 * (init failed or never ran), or, from FULL up, its layout fields changed
 * since init (control_damaged tells which). */
static inline const struct z_heap *heap_of(const struct sys_heap *heap)
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
 * Can the allocation search use first level fl (found in fl_bitmap) with
 * second-level bits sl_bits? The level must have list heads (below
 * fl_count) and a non-empty second level (the lowest set bit of 0 is
 * undefined). FULL and up; below, the control block is trusted and both
 * hold by construction.
 */
CHECK_FN bool first_level_ok(struct heap_view v, unsigned int fl,
			     uint32_t sl_bits)
{
	return !CHECKS_CONTROL_BLOCK || (fl < v.h->fl_count && sl_bits != 0u);
}

/*
 * Has class cls, found in the bitmaps, a list head? The heads end at
 * class_count (a region pays for no class it cannot use), so a bitmap bit
 * damaged past it would name a head slot in the block area. FULL and up;
 * below, the bitmaps are trusted and only classes below class_count are
 * ever set.
 */
CHECK_FN bool class_ok(struct heap_view v, unsigned int cls)
{
	return !CHECKS_CONTROL_BLOCK || cls < v.h->class_count;
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

#endif /* KHEAP_HEAP_CHECKS_H */
