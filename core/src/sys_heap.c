/* SPDX-License-Identifier: Apache-2.0 */
/*
 * kheap sys_heap: two-level segregated fit with immediate coalescing.
 *
 * Layout and invariants: heap_internal.h. Design and the alternatives we
 * rejected: docs/design.md. Every path here is O(1): the only loops are
 * the bounded probe of one class list (SYS_HEAP_FIT_PROBES) and the
 * initial clearing of the class index.
 *
 * How the hot paths are written (measured in docs/performance.md):
 * - every control-block field a path needs is read before it stores to a
 *   block header, because header stores may alias the control block;
 * - a size class is computed without a branch, and never to unlink a
 *   chunk: a list head's free_prev holds its class (head_mark), other
 *   chunks need none (see heap_internal.h);
 * - misuse reports and listener notifications are out of line;
 * - the checks against misuse and corruption are in heap_checks.h, this
 *   file asks them one question at a time.
 */
#include <string.h>

#include <kheap/failure_injection.h>
#include <kheap/sanitizer.h>

#include "heap_checks.h"

#define EINVAL_RESULT (-22)

sys_heap_fault_handler_t z_heap_fault_handler;

/* Z_HEAP_MIN_SIZE_FOR (sys_heap.h) computes region sizes from this. */
_Static_assert(sizeof(struct z_heap) == Z_HEAP_CONTROL_BYTES,
	       "Z_HEAP_CONTROL_BYTES must match struct z_heap");

/* ---- free lists ------------------------------------------------------ */

HOT void clear_class_bits(struct heap_view v, unsigned int cls)
{
	unsigned int fl = cls >> SL_SHIFT;
	uint8_t *sl = sl_byte(v, fl);
	unsigned int bits = *sl & ~(1u << (cls & (SL_COUNT - 1u)));

	*sl = (uint8_t)bits;
	if (bits == 0u) {
		/* ~(1 << fl) as a rotation: one instruction less on x86. */
		v.h->fl_bitmap &= (~1u << fl) | (~1u >> ((32u - fl) & 31u));
	}
}

/*
 * Push free chunk c of `size` chunks onto the head of its class list.
 * FULL and up, the old head of a non-empty class is checked before it is
 * written through (the control block may have been written): a damaged
 * one is dropped, c starts the list afresh, and HEAP_LISTS_DAMAGED tells the
 * public call to report it.
 */
HOT void list_push(struct heap_view v, chunkid_t c, chunksz_t size)
{
	struct z_heap *h = v.h;
	unsigned int cls = size_class(size);
	unsigned int fl = cls >> SL_SHIFT;
	unsigned int sl = cls & (SL_COUNT - 1u);
	unsigned int bits = *sl_byte(v, fl);
	chunkid_t next = list_head(v, cls);

	if (((bits >> sl) & 1u) == 0u) {
		/* The class was empty: c is also the tail. */
		next = c;
		*sl_byte(v, fl) = (uint8_t)(bits | (1u << sl));
		h->fl_bitmap |= 1u << fl;
	} else if (UNLIKELY(!head_id_ok(v, next))) {
		h->flags |= HEAP_LISTS_DAMAGED;
		next = c;
	}
	set_list_head(v, cls, c);
	/* The old head's prev first: if the class was empty, that is c's
	 * own, overwritten by its mark next. */
	field_set(v, next, FREE_PREV, c);
	field_set(v, c, FREE_PREV, head_mark(v, cls));
	field_set(v, c, FREE_NEXT, next);
}

/* Unlink c, the head of class cls, whose successor is next (checked by
 * the caller). */
HOT void list_pop_head(struct heap_view v, chunkid_t c, chunkid_t next,
		       unsigned int cls)
{
	if (next == c) {
		clear_class_bits(v, cls);
		return;
	}
	set_list_head(v, cls, next);
	field_set(v, next, FREE_PREV, head_mark(v, cls));
}

/* Unlink c, which follows prev on its list (so is not the head) and is
 * followed by next (checked by the caller). */
HOT void list_unlink_after(struct heap_view v, chunkid_t prev, chunkid_t c,
			   chunkid_t next)
{
	/* At the tail prev becomes the tail; the second store then writes
	 * c's own link, which is dropped. */
	field_set(v, prev, FREE_NEXT, next == c ? prev : next);
	field_set(v, next, FREE_PREV, prev);
}

/* Unlink free chunk c, whose links were checked (merge_partner_ok). */
HOT void list_unlink(struct heap_view v, chunkid_t c)
{
	uint32_t prev = free_prev(v, c);
	chunkid_t next = free_next(v, c);

	if ((prev & head_mark_bit(v)) != 0u) {
		list_pop_head(v, c, next, prev & ~head_mark_bit(v));
	} else {
		list_unlink_after(v, prev, c, next);
	}
}

/* ---- misuse reports ------------------------------------------------------ */

COLD void report_fault(const struct sys_heap *heap, const void *mem,
		       enum sys_heap_fault_kind kind, const char *operation)
{
	sys_heap_fault_handler_t handler = z_heap_fault_handler;

	if (handler != NULL) {
		struct sys_heap_fault fault = {
			.heap = heap,
			.mem = mem,
			.kind = kind,
			.operation = operation,
		};
		/* User code: outside the memory checker's bracket, so that
		 * the tool checks it (every caller is inside one). */
		KHEAP_SAN_EXIT();
		handler(&fault);
		KHEAP_SAN_ENTER();
	}
}

/* ---- chunk headers --------------------------------------------------- */

/* Write c's size and state, and the matching left_size of its right
 * neighbour (the invariant left_size(c + size) == size). */
INLINE void set_header(struct heap_view v, chunkid_t c, chunksz_t size_chunks,
		       bool used)
{
	field_set(v, c, SIZE_AND_USED, (size_chunks << 1) | (used ? 1u : 0u));
	field_set(v, c + size_chunks, LEFT_SIZE, size_chunks);
	if (HARDENING >= SYS_HEAP_HARDENING_FULL && used) {
		*canary_slot(v, c, size_chunks) = canary_expected(v, c);
	}
}

/*
 * Mark chunk c (size_chunks long, on no list, its right neighbour in use)
 * in use, cut down to keep_chunks, returning the tail to the free lists
 * if it can stand alone. Returns the chunks c keeps. Counters are the
 * caller's.
 *   [ c ][ tail ][ used ] => [ c ][ free ][ used ]
 */
INLINE chunksz_t cut_tail(struct heap_view v, chunkid_t c,
			  chunksz_t size_chunks, chunksz_t keep_chunks)
{
	chunksz_t tail_chunks = size_chunks - keep_chunks;

	if (tail_chunks >= min_chunks(v)) {
		chunkid_t tail = c + keep_chunks;

		set_header(v, tail, tail_chunks, false);
		list_push(v, tail, tail_chunks);
		size_chunks = keep_chunks;
	}
	/* Also the right neighbour's left_size when there is no tail: c
	 * may have grown (realloc) or lost a lead (aligned alloc). */
	set_header(v, c, size_chunks, true);
	return size_chunks;
}

/*
 * cut_tail for a chunk whose right neighbour may be free (a block resized
 * in place): with merge_right a tail that can stand alone first merges
 * with a free right neighbour.
 *   [ c ][ tail ][ free right ] => [ c ][ ------ free ------ ]
 */
HOT chunksz_t split_used(struct heap_view v, chunkid_t c, chunksz_t size_chunks,
			 chunksz_t keep_chunks, bool merge_right)
{
	if (merge_right && size_chunks - keep_chunks >= min_chunks(v)) {
		chunkid_t right = c + size_chunks;
		uint32_t right_word = field_get(v, right, SIZE_AND_USED);

		if ((right_word & 1u) == 0u) {
			list_unlink(v, right);
			size_chunks += right_word >> 1;
		}
	}
	return cut_tail(v, c, size_chunks, keep_chunks);
}

/* Count chunks going into use and raise the watermark. */
HOT void count_allocated(struct z_heap *h, chunksz_t chunks)
{
	chunksz_t allocated = h->allocated_chunks + chunks;

	h->allocated_chunks = allocated;
	if (allocated > h->max_allocated_chunks) {
		h->max_allocated_chunks = allocated;
	}
}

/* ---- size arithmetic ------------------------------------------------- */

/*
 * Chunks needed for a block of `bytes` usable bytes plus its header (and
 * canary, at FULL hardening).
 * Callers guarantee 1 <= bytes <= heap bytes + 7, so the sum cannot
 * overflow (the region also holds the control block) and the result is
 * at least min_chunks (a header of 8 bytes plus 1 byte needs 2 chunks).
 */
HOT size_t chunks_for_bytes(struct heap_view v, size_t bytes)
{
	return (bytes + block_overhead_bytes(v) + CHUNK_BYTES - 1u) >>
	       CHUNK_SHIFT;
}

/* ---- allocation ------------------------------------------------------ */

/*
 * The size of chunk c, just read off a free list by the allocation
 * search, in *size_chunks; false if c must not be used (the search then
 * reports corruption). c is a chunk of the heap: a list head, or a link
 * the caller checked (BASIC), or either checked here (MODERATE and up:
 * a sound list member, free_chunk_ok, before its size is trusted). BASIC
 * and up: marked free (a used bit set on a listed chunk is a corrupt
 * header; one test of a word that is read anyway).
 */
HOT bool listed_size(struct heap_view v, chunkid_t c, chunksz_t *size_chunks)
{
	if (HARDENING >= SYS_HEAP_HARDENING_MODERATE && !free_chunk_ok(v, c)) {
		return false;
	}
	uint32_t word = field_get(v, c, SIZE_AND_USED);

	*size_chunks = word >> 1;
	return HARDENING == SYS_HEAP_HARDENING_NONE || (word & 1u) == 0u;
}

/*
 * May listed chunk c of size_chunks serve want_chunks and be unlinked?
 * Its successor goes to *next. Its size must reach the request (a corrupt
 * size in a larger class may not) and stop at the heap's end, and its
 * successor be a chunk of the heap: BASIC checks that here, MODERATE and
 * up had free_chunk_ok check the size's limit and the links already.
 * FULL and up: c agrees with its left neighbour (free_left_ok): the
 * canary moves the end of a short overflow of that neighbour from c's
 * size onto c's left_size, which MODERATE does not need to check.
 */
HOT bool takeable(struct heap_view v, chunkid_t c, chunksz_t size_chunks,
		  chunksz_t want_chunks, chunkid_t *next)
{
	*next = free_next(v, c);
	if (HARDENING >= SYS_HEAP_HARDENING_MODERATE) {
		return size_chunks >= want_chunks &&
		       (HARDENING < SYS_HEAP_HARDENING_FULL ||
			free_left_ok(v, c));
	}
	return taken_size_ok(v, c, size_chunks, want_chunks) &&
	       chunk_id_ok(v, *next);
}

/*
 * Find a free chunk of at least want_chunks and take it off its list:
 * returns false if the constant-time search finds none, or finds a chunk
 * that fails the checks (listed_size, takeable, first_level_ok and
 * second_level_ok), which it
 * reports for heap before anything has changed.
 *
 * First up to SYS_HEAP_FIT_PROBES heads of the request's own class (whose
 * members may be smaller than the request), then the head of the first
 * non-empty larger class (all of whose members are large enough).
 */
HOT bool take_chunk(struct heap_view v, const struct sys_heap *heap,
		    chunksz_t want_chunks, chunkid_t *chunk,
		    chunksz_t *size_chunks)
{
	struct z_heap *h = v.h;
	unsigned int cls = size_class(want_chunks);
	unsigned int fl = cls >> SL_SHIFT;
	unsigned int sl = cls & (SL_COUNT - 1u);
	uint32_t sl_bits = *sl_byte(v, fl);
	chunkid_t c;
	chunkid_t next;
	chunksz_t size;

	if (((sl_bits >> sl) & 1u) != 0u) {
		/* The request's own class: its members may be too small. */
		c = list_head(v, cls);
		if (!listed_size(v, c, &size)) {
			goto corrupt;
		}
		if (size >= want_chunks) {
			goto take_head;
		}
		/* The next heads of the class. Past the tail the walk stays
		 * on the tail (self-link). */
		chunkid_t prev = c;

		for (unsigned int i = 1u; i < SYS_HEAP_FIT_PROBES; i++) {
			c = free_next(v, prev);
			/* A link: BASIC checks it is a chunk of the heap,
			 * MODERATE and up (listed_size) that it is a sound
			 * one. */
			if ((HARDENING < SYS_HEAP_HARDENING_MODERATE &&
			     !chunk_id_ok(v, c)) ||
			    !listed_size(v, c, &size)) {
				goto corrupt;
			}
			if (size >= want_chunks) {
				if (!takeable(v, c, size, want_chunks, &next)) {
					goto corrupt;
				}
				list_unlink_after(v, prev, c, next);
				goto taken;
			}
			prev = c;
		}
	}
	/* The first non-empty larger class: every member is large enough. */
	uint32_t mask = sl_bits & (~1u << sl);

	if (mask == 0u) {
		uint32_t fl_mask = h->fl_bitmap & (~1u << fl);

		if (fl_mask == 0u) {
			return false;
		}
		fl = lowest_bit(fl_mask);
		if (!first_level_ok(v, fl)) {
			goto corrupt;
		}
		mask = *sl_byte(v, fl);
		if (!second_level_ok(mask)) {
			goto corrupt;
		}
	}
	cls = (fl << SL_SHIFT) + lowest_bit(mask);
	if (!class_ok(v, cls)) {
		goto corrupt;
	}
	c = list_head(v, cls);
	if (!listed_size(v, c, &size)) {
		goto corrupt;
	}
take_head:
	if (!takeable(v, c, size, want_chunks, &next)) {
		goto corrupt;
	}
	list_pop_head(v, c, next, cls);
taken:
	*chunk = c;
	*size_chunks = size;
	return true;
corrupt:
	report_fault(heap, NULL, SYS_HEAP_FAULT_CORRUPT_LINKS, "alloc");
	return false;
}

/* ---- alignment ------------------------------------------------------- */

/*
 * Decode an align argument into a power-of-two alignment and a rewind
 * (see sys_heap_aligned_alloc). Returns false for malformed values.
 * align 0 and power-of-two values up to 8 decode to alignment 8, which
 * every block has anyway.
 */
INLINE bool decode_align(size_t align, size_t *align_bytes,
			 size_t *rewind_bytes)
{
	size_t rewind = align & (0u - align);

	if (align != rewind) {
		align -= rewind;
		if ((align & (align - 1u)) != 0u) {
			return false;
		}
	} else {
		rewind = 0u;
	}
	if (align < CHUNK_BYTES) {
		align = CHUNK_BYTES;
	}
	*align_bytes = align;
	*rewind_bytes = rewind;
	return true;
}

/* Does a decoded alignment ask for nothing every block has? A rewind is
 * below its alignment, so alignment 8 with a rewind of 1, 2 or 4 sets
 * other bits: one compare. */
INLINE bool plain_alignment(size_t align_bytes, size_t rewind_bytes)
{
	return (align_bytes | rewind_bytes) == CHUNK_BYTES;
}

/*
 * The chunk count a request of `bytes` at alignment argument `align`
 * (sys_heap_aligned_alloc; 0 for a plain request) searches for on heap h
 * (header format big). Returns 0 for a malformed align (decode_align) and
 * for requests that can never succeed on this heap, even empty: 0 bytes,
 * or more than it holds. Overflow-free for every size_t. Takes the control
 * block and the format rather than a view: a view copied into an inlined
 * helper keeps GCC (-Os) from passing the caller's view in registers.
 */
INLINE size_t search_chunks(const struct z_heap *h, bool big, size_t align,
			    size_t bytes)
{
	size_t heap_bytes = (size_t)h->end_chunk << CHUNK_SHIFT;
	size_t align_bytes;
	size_t rewind_bytes;

	/* bytes == 0 wraps to SIZE_MAX: one test for both bounds. */
	if (bytes - 1u >= heap_bytes) {
		return 0u;
	}
	/* chunks_for_bytes, from the format. */
	size_t want =
		(bytes + (big ? 8u : 4u) + CANARY_BYTES + CHUNK_BYTES - 1u) >>
		CHUNK_SHIFT;

	if (align != 0u) {
		if (!decode_align(align, &align_bytes, &rewind_bytes)) {
			return 0u;
		}
		if (!plain_alignment(align_bytes, rewind_bytes)) {
			if (align_bytes > heap_bytes - bytes) {
				return 0u;
			}
			/*
			 * The aligned start lies at most align_bytes - 1 past
			 * the chunk's memory, plus align_bytes more when a
			 * one-chunk lead must be skipped in a big heap; a
			 * rewind of under 8 bytes costs one more chunk at the
			 * end.
			 */
			want += (align_bytes >> CHUNK_SHIFT) * (big ? 2u : 1u) +
				1u;
		}
	}
	return want > h->end_chunk ? 0u : want;
}

/*
 * Cut the lead off taken chunk *c (of *size chunks) for an aligned block:
 * the block starts at the first p >= chunk_mem(*c) with (p + rewind) %
 * align == 0 whose lead is either empty or long enough to be a free
 * chunk. The lead goes back to the free lists (c's left neighbour is in
 * use: it was free); *c and *size become the rest's. Returns p, 0..7
 * bytes past chunk_mem(*c).
 *   [ ------------- c ------------- ] => [ lead ][ c ---------------- ]
 */
HOT uintptr_t carve_lead(struct heap_view v, chunkid_t *c, chunksz_t *size,
			 size_t align_bytes, size_t rewind_bytes)
{
	uintptr_t mem = (uintptr_t)chunk_mem(v, *c);
	uintptr_t p = ((mem + rewind_bytes + align_bytes - 1u) &
		       ~(uintptr_t)(align_bytes - 1u)) -
		      rewind_bytes;
	chunksz_t lead_chunks = (chunksz_t)((p - mem) >> CHUNK_SHIFT);

	if (lead_chunks != 0u) {
		if (lead_chunks < min_chunks(v)) {
			p += align_bytes;
			lead_chunks = (chunksz_t)((p - mem) >> CHUNK_SHIFT);
		}
		set_header(v, *c, lead_chunks, false);
		list_push(v, *c, lead_chunks);
		*c += lead_chunks;
		*size -= lead_chunks;
	}
	return p;
}

/*
 * sys_heap_aligned_alloc (align 0 for a plain request) on an initialised
 * heap of header format big: one search, then an aligned request cuts its
 * lead, and the block its tail (split_used: c's right neighbour is in
 * use).
 *   [ ------------- c ------------- ] => [ lead ][ block ][ tail ]
 * Takes the heap and its format, not a view: four arguments that stay in
 * registers where this is a call (-Os), and GCC then need not split a
 * view.
 */
HOT void *alloc_block(const struct sys_heap *heap, bool big, size_t align,
		      size_t bytes)
{
	struct heap_view v = view_of(heap->heap, big);
	chunkid_t c;
	chunksz_t size;
	size_t want = search_chunks(v.h, big, align, bytes);

	if (want == 0u || !take_chunk(v, heap, (chunksz_t)want, &c, &size)) {
		return NULL;
	}
	uintptr_t mem = (uintptr_t)chunk_mem(v, c);

	if (align != 0u) {
		size_t align_bytes = CHUNK_BYTES;
		size_t rewind_bytes = 0u;

		/* Decoded once more (search_chunks accepted it): cheaper than
		 * keeping both values across the search. */
		(void)decode_align(align, &align_bytes, &rewind_bytes);
		mem = carve_lead(v, &c, &size, align_bytes, rewind_bytes);
		want = chunks_for_bytes(v, bytes + (mem & (CHUNK_BYTES - 1u)));
	}
	KHEAP_ASSERT(want <= size);
	count_allocated(v.h, cut_tail(v, c, size, (chunksz_t)want));
	return (void *)mem;
}

/* An allocation from view v of heap (heap->heap is v.h). */
INLINE void *aligned_alloc_in(struct heap_view v, const struct sys_heap *heap,
			      size_t align, size_t bytes)
{
	return alloc_block(heap, view_big(v), align, bytes);
}

/* Usable bytes from mem to the end of its chunk c of size_chunks (the
 * canary, at FULL hardening, is not usable). */
HOT size_t usable_bytes(struct heap_view v, chunkid_t c, chunksz_t size_chunks,
			const void *mem)
{
	return (size_t)(chunk_ptr(v, c + size_chunks) -
			(const unsigned char *)mem) -
	       CANARY_BYTES;
}

/* The chunk of a live block's pointer (up to 7 bytes past its memory). */
HOT chunkid_t chunk_of(struct heap_view v, const void *mem)
{
	return (chunkid_t)(((uintptr_t)mem - (uintptr_t)chunk_mem(v, 0)) >>
			   CHUNK_SHIFT);
}

/* Usable bytes of the live block at mem, found from its header. */
HOT size_t usable_at(struct heap_view v, const void *mem)
{
	chunkid_t c = chunk_of(v, mem);

	return usable_bytes(v, c, chunk_size(v, c), mem);
}

/*
 * The memory-checker hooks (kheap/sanitizer.h) name a block by its
 * chunk's memory, not by the pointer a call was given: free and realloc
 * accept any pointer in the first 8 bytes of a block (rewound aligned
 * blocks start up to 7 bytes in), and the tool must see the same address
 * on alloc, resize and free.
 */
#if CONFIG_KHEAP_SANITIZER_HOOKS
/* The live block at mem is new. */
HOT void san_alloc(struct heap_view v, const void *mem)
{
	unsigned char *start = chunk_mem(v, chunk_of(v, mem));

	kheap_san_alloc(start, usable_at(v, start));
}

/* Block b (as it was checked) is being freed. */
HOT void san_free(struct heap_view v, const struct live_block *b)
{
	unsigned char *start = chunk_mem(v, b->c);

	kheap_san_free(start, usable_bytes(v, b->c, b->size, start));
}

/* Block b (as it was checked) was resized in place. */
HOT void san_resize(struct heap_view v, const struct live_block *b)
{
	unsigned char *start = chunk_mem(v, b->c);

	kheap_san_resize(start, usable_bytes(v, b->c, b->size, start),
			 usable_at(v, start));
}
#define SAN_ALLOC(v, mem) san_alloc(v, mem)
#define SAN_FREE(v, b) san_free(v, b)
#define SAN_RESIZE(v, b) san_resize(v, b)
#else
#define SAN_ALLOC(v, mem) ((void)0)
#define SAN_FREE(v, b) ((void)0)
#define SAN_RESIZE(v, b) ((void)0)
#endif

/*
 * Return used block b to the free lists, merging with free neighbours.
 * b passed check_live_block and its neighbours check_merge_partners (or
 * were written by this call), so their headers and links can be trusted;
 * the end sentinel counts as a used right neighbour.
 *   [ free left ][ c ][ free right ] => [ ---------- free ---------- ]
 */
HOT void free_block(struct heap_view v, const struct live_block *b)
{
	/* All of b read before the first call: b is in memory, which a
	 * call could change as far as the compiler knows. */
	chunkid_t c = b->c;
	chunksz_t size = b->size;
	chunksz_t left = b->left;
	bool left_free = (b->left_word & 1u) == 0u;
	chunkid_t right = c + size;
	chunksz_t total = size;

	v.h->allocated_chunks -= size;
	if (left_free) {
		/* c's header stays behind inside the merged block: mark it
		 * free so a second free of c is seen as a double free. */
		field_set(v, c, SIZE_AND_USED, size << 1);
		c -= left;
		list_unlink(v, c);
		total += left;
	}
	uint32_t right_word = field_get(v, right, SIZE_AND_USED);

	if ((right_word & 1u) == 0u) {
		list_unlink(v, right);
		total += right_word >> 1;
	}
	/* set_header(v, c, total, false), inlined: a call costs the worst
	 * free more than the two stores. */
	field_set(v, c, SIZE_AND_USED, total << 1);
	field_set(v, c + total, LEFT_SIZE, total);
	list_push(v, c, total);
}

#if CONFIG_SYS_HEAP_LISTENER
/* Listener calls, out of line. The block at mem is live and sound. */
COLD void notify(const struct sys_heap *heap, enum heap_event_types event,
		 void *old_mem, size_t old_bytes, void *mem)
{
	size_t usable = usable_at(any_view(heap->heap), mem);

	/* Listeners are user code: checked by the memory checker. */
	KHEAP_SAN_EXIT();
	z_heap_notify(HEAP_ID_FROM_POINTER(heap), event, old_mem, old_bytes,
		      mem, usable);
	KHEAP_SAN_ENTER();
}
#endif

/*
 * EXTREME: the whole heap is validated on entry to and before returning
 * from every call that changes it; a failure is reported for the call.
 * Returns false if the heap is corrupt.
 */
#if HARDENING >= SYS_HEAP_HARDENING_EXTREME
COLD bool heap_sound(const struct sys_heap *heap, const void *mem,
		     const char *operation)
{
	if (sys_heap_validate(heap)) {
		return true;
	}
	report_fault(heap, mem, SYS_HEAP_FAULT_INVALID_HEAP, operation);
	return false;
}
#define HEAP_SOUND(heap, mem, operation) heap_sound(heap, mem, operation)
#else
#define HEAP_SOUND(heap, mem, operation) true
#endif

/* sys_heap_free once the heap is known to be initialised. */
HOT void free_checked(struct heap_view v, struct sys_heap *heap, void *mem)
{
	struct live_block b;
	enum sys_heap_fault_kind kind = check_live_block(v, mem, &b);

	if (kind == 0) {
		kind = check_merge_partners(v, &b);
	}
	if (UNLIKELY(kind != 0)) {
		report_fault(heap, mem, kind, "free");
		return;
	}
#if CONFIG_SYS_HEAP_LISTENER
	if (z_heap_listeners != NULL) {
		notify(heap, HEAP_FREE, NULL, 0u, mem);
	}
#endif
	SAN_FREE(v, &b);
	free_block(v, &b);
}

/* ---- public API ------------------------------------------------------ */

/*
 * Every public call that reads or writes the region runs between
 * KHEAP_SAN_ENTER and KHEAP_SAN_EXIT (kheap/sanitizer.h): a memory checker
 * that watches the region must not report the core's own metadata
 * accesses. Without sanitizer hooks both are empty.
 */

/* Bytes from the control block's start to the end of its heads, for
 * classes 1..heads (0: none, the area heads_for starts from), and the
 * bitmap bytes of their levels. */
static size_t control_bytes(bool big, unsigned int heads)
{
	return sizeof(struct z_heap) + fl_count_for(heads) +
	       heads * (big ? 4u : 2u);
}

/*
 * Where a region's chunks go: the block area left after the control block
 * holds `heads` class-list heads, in chunks, and chunk 0's address. start
 * is the region's 8-aligned start. The region holds the control block and
 * chunk 0's header for every head count init tries: it has at least
 * Z_HEAP_MIN_SIZE - 7 bytes from start, and the counts tried are at most
 * one more than the class of the whole area, whose heads take a few bytes
 * per doubling of the region.
 */
static chunkid_t area_chunks(uintptr_t start, uintptr_t end, bool big,
			     unsigned int heads, uintptr_t *chunk_base)
{
	size_t hdr_bytes = big ? 8u : 4u;
	size_t ctrl_bytes = control_bytes(big, heads);
	/* chunk_base + hdr_bytes is 8-aligned: so is every block. */
	uintptr_t base =
		((start + ctrl_bytes + hdr_bytes + 7u) & ~(uintptr_t)7u) -
		hdr_bytes;

	KHEAP_ASSERT(base + hdr_bytes <= end);
	*chunk_base = base;
	return (chunkid_t)((end - base - hdr_bytes) >> CHUNK_SHIFT);
}

/*
 * The number of class-list heads for a region: one per class up to that
 * of the block area they leave. Fewer heads leave more room, so the
 * fewest that still cover their own area are taken: the count starts
 * from the area with no heads (an upper bound) and goes down while one
 * less still covers. Each head removed grows the area by at most one
 * chunk, so this stops after a few steps. Taking the fewest makes the
 * area grow with the region: one more byte never leaves fewer chunks
 * (Z_HEAP_MIN_SIZE_FOR in sys_heap.h depends on this).
 */
static unsigned int heads_for(uintptr_t start, uintptr_t end, bool big)
{
	uintptr_t base;
	unsigned int heads =
		size_class(area_chunks(start, end, big, 0u, &base));

	/* Class 1 (one chunk) is the smallest an area init accepts has: an
	 * area of 0 chunks (class 0, no head) is refused after this. */
	while (heads > 1u && size_class(area_chunks(start, end, big, heads - 1u,
						    &base)) <= heads - 1u) {
		heads--;
	}
	return heads;
}

void z_heap_report_fault(const struct sys_heap *heap, const void *mem,
			 enum sys_heap_fault_kind kind, const char *operation)
{
	/* report_fault leaves the memory checker's bracket for the
	 * handler: enter it first, as every other caller has. */
	KHEAP_SAN_ENTER();
	report_fault(heap, mem, kind, operation);
	KHEAP_SAN_EXIT();
}

/* Refuse a region: -EINVAL, reported as a fault only where Zephyr asserts
 * (built with CONFIG_ASSERT, kheap/config.h). */
static int refuse_region(const struct sys_heap *heap, const void *mem)
{
#if KHEAP_ZEPHYR_ASSERTS
	z_heap_report_fault(heap, mem, SYS_HEAP_FAULT_BAD_REGION, "init");
#else
	(void)heap;
	(void)mem;
#endif
	return EINVAL_RESULT;
}

int sys_heap_init(struct sys_heap *heap, void *mem, size_t bytes)
{
	if (heap == NULL) {
		return EINVAL_RESULT;
	}
	heap->heap = NULL;
	/* With 4-byte headers only, a region the format cannot address is
	 * refused (CONFIG_SYS_HEAP_SMALL_ONLY, kheap/config.h). */
	uint64_t max_bytes = CONFIG_SYS_HEAP_SMALL_ONLY
				     ? SYS_HEAP_SMALL_REGION_MAX_BYTES
				     : SYS_HEAP_MAX_REGION_BYTES;

	if (mem == NULL || bytes < Z_HEAP_MIN_SIZE ||
	    (uint64_t)bytes > max_bytes ||
	    (uintptr_t)mem + bytes < (uintptr_t)mem) {
		return refuse_region(heap, mem);
	}
	bool big = format_for_region(bytes);
	uintptr_t end = (uintptr_t)mem + bytes;
	uintptr_t start = ((uintptr_t)mem + 7u) & ~(uintptr_t)7u;
	unsigned int heads = heads_for(start, end, big);
	uintptr_t chunk_base;
	chunkid_t end_chunk = area_chunks(start, end, big, heads, &chunk_base);
	/* The block a 1-byte request takes: the smallest a heap must hold
	 * (a region of Z_HEAP_MIN_SIZE bytes at an 8-aligned address holds
	 * exactly that; up to 7 bytes of a misaligned start are lost). */
	chunksz_t one_byte_chunks =
		(chunksz_t)(((big ? 8u : 4u) + 1u + CANARY_BYTES + 7u) >>
			    CHUNK_SHIFT);

	if (end_chunk < one_byte_chunks) {
		return refuse_region(heap, mem);
	}
	struct z_heap *h = (struct z_heap *)start;
	/* The control block, its bitmap and the heads below chunk 0. */
	size_t ctrl_bytes = chunk_base - start;

	KHEAP_ASSERT(end_chunk <= (big ? BIG_MAX_CHUNKS : SMALL_MAX_CHUNKS));
	KHEAP_SAN_REGION_OPEN(mem, bytes);
	KHEAP_SAN_ENTER();
	memset(h, 0, ctrl_bytes);
	h->chunk_base_offset = (uint16_t)(chunk_base - start);
	h->end_chunk = end_chunk;
	h->flags = big ? (uint8_t)HEAP_BIG : 0u;
	h->head_count = (uint8_t)heads;
	h->magic = control_magic(h);

	struct heap_view v = any_view(h);

	field_set(v, 0, LEFT_SIZE, 0u);
	set_header(v, 0, end_chunk, false);
	/* The end sentinel: size 0, in use. */
	field_set(v, end_chunk, SIZE_AND_USED, 1u);
	list_push(v, 0, end_chunk);
	heap->heap = h;
	KHEAP_SAN_REGION_CLOSE(mem, bytes);
	KHEAP_SAN_EXIT();
#if CONFIG_SYS_HEAP_ARRAY_SIZE > 0
	(void)sys_heap_array_save(heap);
#endif
	return 0;
}

INLINE struct z_heap *heap_rw(struct sys_heap *heap)
{
	return (struct z_heap *)(uintptr_t)heap_of(heap);
}

/* A call on a heap that heap_of() refused: a control block damaged since
 * init (FULL and up) is reported as CORRUPT_HEADER; an uninitialised heap
 * as uninitialised_kind (0: not at all, as for an allocation). */
COLD void report_unusable(const struct sys_heap *heap, const void *mem,
			  enum sys_heap_fault_kind uninitialised_kind,
			  const char *operation)
{
	if (control_damaged(heap)) {
		report_fault(heap, mem, SYS_HEAP_FAULT_CORRUPT_HEADER,
			     operation);
	} else if (uninitialised_kind != 0) {
		report_fault(heap, mem, uninitialised_kind, operation);
	}
}

/* FULL and up, at the end of a call that changed the heap: report a
 * damaged list head it met and went on without (list_push). */
static inline void report_lists_damaged(struct sys_heap *heap, const void *mem,
					const char *operation)
{
	struct z_heap *h = heap->heap;

	if (CHECKS_CONTROL_BLOCK &&
	    UNLIKELY((h->flags & HEAP_LISTS_DAMAGED) != 0u)) {
		h->flags &= (uint8_t)~HEAP_LISTS_DAMAGED;
		report_fault(heap, mem, SYS_HEAP_FAULT_CORRUPT_LINKS,
			     operation);
	}
}

#if CONFIG_SYS_HEAP_MONITOR
sys_heap_usage_fn z_heap_usage_callback;

void sys_heap_usage_callback_set(sys_heap_usage_fn callback)
{
	z_heap_usage_callback = callback;
}

/* The usage threshold was crossed upwards: tell the callback. */
COLD void monitor_crossed(const struct sys_heap *heap, chunksz_t threshold)
{
	sys_heap_usage_fn callback = z_heap_usage_callback;

	if (callback != NULL) {
		size_t allocated_bytes =
			(size_t)heap->heap->allocated_chunks * CHUNK_BYTES;

		/* User code: checked by the memory checker. */
		KHEAP_SAN_EXIT();
		callback(heap, allocated_bytes,
			 (size_t)threshold * CHUNK_BYTES);
		KHEAP_SAN_ENTER();
	}
}

/* After an allocating call that succeeded on a heap using used_before
 * chunks on entry: one compare unless a threshold is set. */
HOT void monitor_grew(const struct sys_heap *heap, chunksz_t used_before)
{
	const struct z_heap *h = heap->heap;
	chunksz_t threshold = h->threshold_chunks;

	if (UNLIKELY(threshold != 0u) && used_before <= threshold &&
	    h->allocated_chunks > threshold) {
		monitor_crossed(heap, threshold);
	}
}
#define USED_CHUNKS(h) ((h)->allocated_chunks)
/* An allocation that was attempted found no room (or was made to fail by
 * injection). Not for calls refused as misuse. */
#define MONITOR_FAILED(h) ((h)->alloc_failures++)
#define MONITOR_GREW(heap, used_before) monitor_grew(heap, used_before)
#else
#define USED_CHUNKS(h) 0u
#define MONITOR_FAILED(h) ((void)0)
#define MONITOR_GREW(heap, used_before) ((void)(used_before))
#endif

/*
 * The end of every allocating call: the checker learns of the new block,
 * listeners are told, monitoring counts, EXTREME validates. mem may be
 * NULL.
 */
static void *alloc_done(struct sys_heap *heap, chunksz_t used_before, void *mem)
{
	(void)heap; /* Unused with neither hooks, listeners nor EXTREME. */
	if (mem == NULL) {
		MONITOR_FAILED(heap->heap);
	} else {
		MONITOR_GREW(heap, used_before);
		SAN_ALLOC(any_view(heap->heap), mem);
	}
#if CONFIG_SYS_HEAP_LISTENER
	/* The listeners first: without any, one test. */
	if (z_heap_listeners != NULL && mem != NULL) {
		notify(heap, HEAP_ALLOC, NULL, 0u, mem);
	}
#endif
	report_lists_damaged(heap, NULL, "alloc");
	(void)HEAP_SOUND(heap, mem, "alloc");
	KHEAP_SAN_EXIT();
	return mem;
}

/* Failure injection (kheap/failure_injection.h): true if this internal
 * allocation is to fail. */
#if CONFIG_KHEAP_FAILURE_INJECTION
#define INJECTED_FAILURE() z_kheap_fail_this_alloc()
#else
#define INJECTED_FAILURE() false
#endif

/* sys_heap_alloc and sys_heap_aligned_alloc (align 0 for a plain
 * request; inlined where the hot paths are, so that a plain request skips
 * the alignment decoding there). align last: sys_heap_alloc then passes
 * its own arguments on as they are. */
HOT void *alloc_entry(struct sys_heap *heap, size_t bytes, size_t align)
{
	KHEAP_SAN_ENTER();
	struct z_heap *h = heap_rw(heap);

	if (h == NULL) {
		report_unusable(heap, NULL, (enum sys_heap_fault_kind)0,
				"alloc");
		KHEAP_SAN_EXIT();
		return NULL;
	}
	if (!HEAP_SOUND(heap, NULL, "alloc")) {
		KHEAP_SAN_EXIT();
		return NULL;
	}
	chunksz_t used_before = USED_CHUNKS(h);

	return alloc_done(heap, used_before,
			  INJECTED_FAILURE() ? NULL
					     : WITH_FORMAT(h, aligned_alloc_in,
							   heap, align, bytes));
}

void *sys_heap_alloc(struct sys_heap *heap, size_t bytes)
{
	return alloc_entry(heap, bytes, 0u);
}

void *sys_heap_noalign_alloc(struct sys_heap *heap, size_t align, size_t bytes)
{
	(void)align;
	return alloc_entry(heap, bytes, 0u);
}

void *sys_heap_aligned_alloc(struct sys_heap *heap, size_t align, size_t bytes)
{
	return alloc_entry(heap, bytes, align);
}

void sys_heap_free(struct sys_heap *heap, void *mem)
{
	if (mem == NULL) {
		return;
	}
	KHEAP_SAN_ENTER();
	struct z_heap *h = heap_rw(heap);

	if (h == NULL) {
		report_unusable(heap, mem, SYS_HEAP_FAULT_BAD_POINTER, "free");
	} else if (HEAP_SOUND(heap, mem, "free")) {
		WITH_FORMAT(h, free_checked, heap, mem);
		report_lists_damaged(heap, mem, "free");
		(void)HEAP_SOUND(heap, mem, "free");
	}
	KHEAP_SAN_EXIT();
}

HOT size_t usable_size_in(struct heap_view v, const struct sys_heap *heap,
			  const void *mem)
{
	struct live_block b;
	enum sys_heap_fault_kind kind = check_live_block(v, mem, &b);

	if (kind != 0) {
		report_fault(heap, mem, kind, "usable_size");
		return 0u;
	}
	return usable_bytes(v, b.c, b.size, mem);
}

size_t sys_heap_usable_size(const struct sys_heap *heap, const void *mem)
{
	if (mem == NULL) {
		return 0u;
	}
	size_t usable = 0u;

	KHEAP_SAN_ENTER();
	const struct z_heap *h = heap_of(heap);

	if (h == NULL) {
		report_unusable(heap, mem, SYS_HEAP_FAULT_BAD_POINTER,
				"usable_size");
	} else {
		usable = usable_size_in(any_view(h), heap, mem);
	}

	KHEAP_SAN_EXIT();
	return usable;
}

/*
 * Resize used block b in place to hold `bytes` from mem, if possible:
 * shrink, or grow into a free right neighbour. Returns false (heap
 * unchanged) if neither works. b's neighbours passed
 * check_merge_partners.
 *   [ c ][ free right ] => [ c ...... ][ rest ]
 */
HOT bool resize_in(struct heap_view v, const struct live_block *b,
		   const void *mem, size_t bytes)
{
	struct z_heap *h = v.h;
	chunkid_t c = b->c;
	chunksz_t size = b->size;
	bool merge_right = true;

	/* Also keeps bytes + gap (under 8) from overflowing. */
	if (bytes > ((size_t)h->end_chunk << CHUNK_SHIFT)) {
		return false;
	}
	/* mem is 0..7 bytes past chunk_mem(c). */
	chunksz_t want = (chunksz_t)chunks_for_bytes(
		v, bytes + ((uintptr_t)mem & (CHUNK_BYTES - 1u)));

	if (want > size) {
		chunkid_t right = c + size;
		uint32_t right_word = field_get(v, right, SIZE_AND_USED);

		if ((right_word & 1u) != 0u ||
		    want > size + (right_word >> 1)) {
			return false;
		}
		/* Take all of right; split_used gives back what is not
		 * needed. Right's own right neighbour is in use (free
		 * chunks never touch), so no second merge: that
		 * neighbour's links were never checked. */
		list_unlink(v, right);
		size += right_word >> 1;
		merge_right = false;
	}
	chunksz_t kept = split_used(v, c, size, want, merge_right);

	if (kept > b->size) {
		count_allocated(h, kept - b->size);
	} else {
		h->allocated_chunks -= b->size - kept;
	}
	return true;
}

HOT void *realloc_in(struct heap_view v, struct sys_heap *heap, void *ptr,
		     size_t align, size_t bytes)
{
	size_t align_bytes;
	size_t rewind_bytes;
	struct live_block b;
	enum sys_heap_fault_kind kind = check_live_block(v, ptr, &b);

	if (kind == 0) {
		kind = check_merge_partners(v, &b);
	}
	if (kind != 0) {
		report_fault(heap, ptr, kind, "realloc");
		return NULL;
	}
	/* Plain realloc (align 0) keeps any block in place, rewound or not;
	 * an aligned one only a block that already has the alignment. */
	bool move = false;

	if (align != 0u) {
		if (!decode_align(align, &align_bytes, &rewind_bytes)) {
			MONITOR_FAILED(v.h);
			return NULL;
		}
		move = (((uintptr_t)ptr + rewind_bytes) & (align_bytes - 1u)) !=
		       0u;
	}
	size_t old_bytes = usable_bytes(v, b.c, b.size, ptr);
	void *mem = ptr;

	if (move || !resize_in(v, &b, ptr, bytes)) {
		if (INJECTED_FAILURE()) {
			MONITOR_FAILED(v.h);
			return NULL;
		}
		mem = aligned_alloc_in(v, heap, align, bytes);
		if (mem == NULL) {
			MONITOR_FAILED(v.h);
			return NULL;
		}
		SAN_ALLOC(v, mem);
		/* memmove: on a damaged heap the new block may overlap. */
		memmove(mem, ptr, old_bytes < bytes ? old_bytes : bytes);
		/*
		 * The allocation changed the heap since b was checked: it may
		 * have written b's neighbours (soundly), or, on a damaged
		 * heap whose sizes it trusted, over b or the links free_block
		 * would follow. Check again; if the damage shows only now,
		 * the new block stays allocated (a leak) and b as it is.
		 */
		kind = check_live_block(v, ptr, &b);
		if (kind == 0) {
			kind = check_merge_partners(v, &b);
		}
		if (UNLIKELY(kind != 0)) {
			report_fault(heap, ptr, kind, "realloc");
			return NULL;
		}
		SAN_FREE(v, &b);
		free_block(v, &b);
	} else {
		SAN_RESIZE(v, &b);
	}
#if CONFIG_SYS_HEAP_LISTENER
	if (z_heap_listeners != NULL) {
		notify(heap, HEAP_REALLOC, ptr, old_bytes, mem);
	}
#endif
	return mem;
}

void *sys_heap_aligned_realloc(struct sys_heap *heap, void *ptr, size_t align,
			       size_t bytes)
{
	if (ptr == NULL) {
		return sys_heap_aligned_alloc(heap, align, bytes);
	}
	if (bytes == 0u) {
		/* Checked and reported as a free. */
		sys_heap_free(heap, ptr);
		return NULL;
	}
	void *mem = NULL;

	KHEAP_SAN_ENTER();
	struct z_heap *h = heap_rw(heap);

	if (h == NULL) {
		report_unusable(heap, ptr, SYS_HEAP_FAULT_BAD_POINTER,
				"realloc");
	} else if (HEAP_SOUND(heap, ptr, "realloc")) {
		chunksz_t used_before = USED_CHUNKS(h);

		mem = WITH_FORMAT(h, realloc_in, heap, ptr, align, bytes);
		if (mem != NULL) {
			MONITOR_GREW(heap, used_before);
		}
		report_lists_damaged(heap, ptr, "realloc");
		(void)HEAP_SOUND(heap, ptr, "realloc");
	}
	KHEAP_SAN_EXIT();
	return mem;
}

void *sys_heap_realloc(struct sys_heap *heap, void *ptr, size_t bytes)
{
	return sys_heap_aligned_realloc(heap, ptr, 0u, bytes);
}

bool sys_heap_request_fits(const struct sys_heap *heap, size_t align,
			   size_t bytes)
{
	KHEAP_SAN_ENTER();
	const struct z_heap *h = heap_of(heap);
	bool fits = h != NULL &&
		    search_chunks(h, view_big(any_view(h)), align, bytes) != 0u;

	KHEAP_SAN_EXIT();
	return fits;
}

bool sys_heap_owns(const struct sys_heap *heap, const void *mem)
{
	struct live_block b;

	KHEAP_SAN_ENTER();
	const struct z_heap *h = heap_of(heap);
	bool owned = h != NULL && mem != NULL &&
		     check_live_block(any_view(h), mem, &b) == 0;

	KHEAP_SAN_EXIT();
	return owned;
}

void sys_heap_fault_handler_set(sys_heap_fault_handler_t handler)
{
	z_heap_fault_handler = handler;
}

/* Bit positions by the top five bits of a single bit times 0x077cb531
 * (heap_internal.h, single_bit_index). */
const uint8_t z_heap_bit_of[32] = {
	0,  1,  28, 2,  29, 14, 24, 3, 30, 22, 20, 15, 25, 17, 4,  8,
	31, 27, 13, 23, 21, 19, 16, 7, 26, 12, 18, 6,  11, 5,  10, 9,
};

unsigned int kheap_soft_clz32(uint32_t value)
{
	return 31u - soft_highest_bit(value);
}
