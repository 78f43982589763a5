/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Read-only inspection of a sys_heap: the O(n) validator, runtime stats
 * and size queries. Nothing in this file writes to a heap except
 * sys_heap_runtime_stats_reset_max.
 */
#include <kheap/sanitizer.h>

#include "heap_checks.h"

#define EINVAL_RESULT (-22)

/*
 * A free chunk's term in the membership fingerprint: the chunk walk adds
 * the term of every free chunk it meets, the list walks subtract the term
 * of every member. Counting members per class alone is not enough: a
 * header left behind inside a block by an earlier split (or written by
 * the user) can look like a free chunk of the right class with sound
 * links, and stand in a list for a real free chunk. The sums then differ
 * unless the stand-in's term equals the missing chunk's, which the mix
 * (an odd multiplier, then the high bits folded down) makes a matter of
 * chance for ids that are not chosen against it. A guard against
 * accidents, as the canaries are.
 */
static uint64_t member_term(chunkid_t c)
{
	uint64_t x = ((uint64_t)c + 1u) * 0x9e3779b97f4a7c15u;

	return x ^ (x >> 29);
}

/*
 * Walk the chunks left to right. Checks tiling, neighbour sizes,
 * coalescing and (FULL hardening) the canaries of used chunks, counts
 * free chunks per class, sums their sizes and adds their terms to
 * *members (member_term).
 */
static bool validate_chunks(struct heap_view v, uint32_t *free_per_class,
			    chunksz_t *free_sum, uint64_t *members)
{
	const struct z_heap *h = v.h;
	chunkid_t c = 0;
	chunksz_t prev_size = 0;
	bool prev_free = false;

	*free_sum = 0;
	while (c < h->end_chunk) {
		chunksz_t size = chunk_size(v, c);

		if (size < min_chunks(v) || size > h->end_chunk - c ||
		    left_size(v, c) != prev_size) {
			return false;
		}
		if (HARDENING >= SYS_HEAP_HARDENING_FULL && chunk_used(v, c) &&
		    !canary_intact(v, c, size)) {
			return false;
		}
		if (!chunk_used(v, c)) {
			if (prev_free) {
				return false;
			}
			free_per_class[size_class(size)]++;
			*free_sum += size;
			*members += member_term(c);
		}
		prev_free = !chunk_used(v, c);
		prev_size = size;
		c += size;
	}
	/* The sentinel: header only, used, size 0. */
	/* The loop refused any size past the end: c is the end exactly. */
	KHEAP_ASSERT(c == h->end_chunk);
	return left_size(v, c) == prev_size && chunk_size(v, c) == 0u &&
	       chunk_used(v, c);
}

/*
 * Walk one class list: every member free, of this class, doubly linked
 * (the head's free_prev is head_mark(cls), the tail's free_next is
 * itself), and exactly as many members as the chunk walk found; each
 * member's term is taken off *members (member_term). The walk stops
 * after `expected` steps, so a corrupted cycle cannot loop forever.
 */
static bool validate_class_list(struct heap_view v, unsigned int cls,
				uint32_t expected, uint64_t *members)
{
	const struct z_heap *h = v.h;
	chunkid_t c = list_head(v, cls);
	uint32_t prev = head_mark(v, cls);

	for (uint32_t n = 1;; n++) {
		if (c >= h->end_chunk || chunk_used(v, c) ||
		    size_class(chunk_size(v, c)) != cls ||
		    free_prev(v, c) != prev) {
			return false;
		}
		chunkid_t next = free_next(v, c);

		*members -= member_term(c);
		if (n == expected) {
			return next == c;
		}
		if (next == c) {
			return false;
		}
		prev = c;
		c = next;
	}
}

static bool validate_index(struct heap_view v, const uint32_t *free_per_class,
			   uint64_t *members)
{
	const struct z_heap *h = v.h;
	/* 64 bits: with one class per doubling (SL_SHIFT 0) a damaged
	 * head_count can name a level past the 32 of fl_bitmap, whose bit
	 * then makes the compare fail. */
	uint64_t fl_bits = 0;

	/* Levels from fl_count(h) up have no bitmap byte: their fl_bitmap bits
	 * must be clear (the compare at the end). */
	for (unsigned int fl = 0; fl < fl_count(h); fl++) {
		for (unsigned int sl = 0; sl < SL_COUNT; sl++) {
			unsigned int cls = (fl << SL_SHIFT) + sl;
			bool bit = (*sl_byte(v, fl) >> sl) & 1u;

			if (bit != (free_per_class[cls] != 0u)) {
				return false;
			}
			if (bit &&
			    !validate_class_list(v, cls, free_per_class[cls],
						 members)) {
				return false;
			}
		}
		if (*sl_byte(v, fl) != 0u) {
			fl_bits |= (uint64_t)1u << fl;
		}
	}
	return fl_bits == h->fl_bitmap;
}

static bool validate_heap(const struct z_heap *h)
{
	/* Indexed by every class of a chunk count and of the levels below
	 * fl_count(h): head_count, checked below, is at most
	 * size_class(UINT32_MAX) + 1, and its last level is whole. */
	uint32_t free_per_class[(FL_MAX + 2u) << SL_SHIFT] = {0};
	chunksz_t free_sum;
	/* The chunk walk's free chunks minus the lists' members: 0 iff the
	 * lists hold the free chunks the walk found (member_term). */
	uint64_t members = 0;
	struct heap_view v = any_view(h);

	/* The heads cover the whole block area's class, with at most one
	 * head more (heads_for in sys_heap.c: removing a head grows the
	 * area by at most one chunk, its class by at most one); fewer heads
	 * wrap to a large difference. */
	if (h->end_chunk < min_chunks(v) ||
	    h->head_count - size_class(h->end_chunk) > 1u) {
		return false;
	}
	if (!validate_chunks(v, free_per_class, &free_sum, &members) ||
	    !validate_index(v, free_per_class, &members) || members != 0u) {
		return false;
	}
	/* free_sum <= end_chunk < 2^31, so the first test also refuses
	 * allocated_chunks > end_chunk (the difference then wraps above
	 * 2^31). */
	return free_sum == h->end_chunk - h->allocated_chunks &&
	       h->max_allocated_chunks >= h->allocated_chunks &&
	       h->max_allocated_chunks <= h->end_chunk;
}

/* The public calls below read the region between KHEAP_SAN_ENTER and
 * KHEAP_SAN_EXIT (see sys_heap.c). heap_of() itself reads the control
 * block's magic. */

bool sys_heap_validate(const struct sys_heap *heap)
{
	KHEAP_SAN_ENTER();
	const struct z_heap *h = heap_of(heap);
	bool sound = h != NULL && validate_heap(h);

	KHEAP_SAN_EXIT();
	return sound;
}

int sys_heap_runtime_stats_get(const struct sys_heap *heap,
			       struct sys_memory_stats *stats)
{
	int result = EINVAL_RESULT;

	KHEAP_SAN_ENTER();
	const struct z_heap *h = heap_of(heap);

	if (h != NULL && stats != NULL) {
		stats->free_bytes =
			(size_t)(h->end_chunk - h->allocated_chunks) *
			CHUNK_BYTES;
		stats->allocated_bytes =
			(size_t)h->allocated_chunks * CHUNK_BYTES;
		stats->max_allocated_bytes =
			(size_t)h->max_allocated_chunks * CHUNK_BYTES;
		result = 0;
	}
	KHEAP_SAN_EXIT();
	return result;
}

int sys_heap_runtime_stats_reset_max(struct sys_heap *heap)
{
	int result = EINVAL_RESULT;

	KHEAP_SAN_ENTER();
	struct z_heap *h = (struct z_heap *)(uintptr_t)heap_of(heap);

	if (h != NULL) {
		h->max_allocated_chunks = h->allocated_chunks;
		result = 0;
	}
	KHEAP_SAN_EXIT();
	return result;
}

size_t sys_heap_header_bytes(const struct sys_heap *heap)
{
	KHEAP_SAN_ENTER();
	const struct z_heap *h = heap_of(heap);
	size_t bytes = h == NULL ? 0u : header_bytes(any_view(h));

	KHEAP_SAN_EXIT();
	return bytes;
}

/* Size in chunks of the largest free chunk (0 if none): the top class
 * bounds it; only that class's list needs a scan. Read-only and bounded on
 * a corrupt heap: a link outside the heap ends the scan, and (FULL and
 * up, where the control block is checked) so does a first level without
 * list heads or second-level bits. */
chunksz_t z_heap_largest_free_chunks(struct heap_view v)
{
	const struct z_heap *h = v.h;

	if (h->fl_bitmap == 0u) {
		return 0u;
	}
	unsigned int fl = highest_bit(h->fl_bitmap);

	if (!first_level_ok(v, fl) || !second_level_ok(*sl_byte(v, fl))) {
		return 0u;
	}
	unsigned int cls = (fl << SL_SHIFT) + highest_bit(*sl_byte(v, fl));
	chunkid_t c = list_head(v, cls);
	chunksz_t largest = 0;

	/* To the tail; bounded in case of corruption. */
	for (chunkid_t n = 0; n < h->end_chunk && chunk_id_ok(v, c); n++) {
		chunkid_t next = free_next(v, c);

		if (chunk_size(v, c) > largest) {
			largest = chunk_size(v, c);
		}
		if (next == c) {
			break;
		}
		c = next;
	}
	return largest;
}

static size_t max_alloc_bytes(const struct z_heap *h)
{
	struct heap_view v = any_view(h);
	chunksz_t largest = z_heap_largest_free_chunks(v);

	/* None, or a corrupt size past the heap (whose class has no list
	 * head). */
	if (largest - 1u >= h->end_chunk) {
		return 0u;
	}
	/*
	 * The good-fit search serves a request of `largest` chunks only if
	 * that chunk is among the probed heads of its class; otherwise
	 * only requests that map below its class are certain to succeed.
	 */
	unsigned int cls = size_class(largest);
	chunkid_t c = list_head(v, cls);

	for (unsigned int i = 0; i < SYS_HEAP_FIT_PROBES && chunk_id_ok(v, c);
	     i++) {
		if (chunk_size(v, c) == largest) {
			return (size_t)largest * CHUNK_BYTES -
			       block_overhead_bytes(v);
		}
		c = free_next(v, c);
	}
	chunksz_t below = class_min_chunks(cls) - 1u;

	/* Only classes of 16 chunks and up hold more than one size (below
	 * them the head is the largest and was returned above), so below
	 * is at least 15 chunks: more than any block's overhead. On a
	 * corrupt heap (a link outside it, a size its class does not
	 * hold) there is no certain size. */
	if (below < 15u) {
		return 0u;
	}
	return (size_t)below * CHUNK_BYTES - block_overhead_bytes(v);
}

#if CONFIG_SYS_HEAP_MONITOR
int sys_heap_monitor_get(const struct sys_heap *heap,
			 struct sys_heap_monitor *monitor)
{
	int result = EINVAL_RESULT;

	KHEAP_SAN_ENTER();
	const struct z_heap *h = heap_of(heap);

	if (h != NULL && monitor != NULL) {
		chunksz_t free_chunks = h->end_chunk - h->allocated_chunks;
		chunksz_t largest = z_heap_largest_free_chunks(any_view(h));

		monitor->alloc_failures = h->alloc_failures;
		monitor->allocated_bytes =
			(size_t)h->allocated_chunks * CHUNK_BYTES;
		monitor->max_allocated_bytes =
			(size_t)h->max_allocated_chunks * CHUNK_BYTES;
		monitor->free_bytes = (size_t)free_chunks * CHUNK_BYTES;
		monitor->largest_free_bytes = (size_t)largest * CHUNK_BYTES;
		/* largest <= free_chunks; 64-bit product cannot overflow. */
		monitor->fragmentation_permille =
			free_chunks == 0u
				? 0u
				: (uint32_t)(1000u - (uint64_t)largest * 1000u /
							     free_chunks);
		monitor->threshold_bytes =
			(size_t)h->threshold_chunks * CHUNK_BYTES;
		result = 0;
	}
	KHEAP_SAN_EXIT();
	return result;
}

int sys_heap_usage_threshold_set(struct sys_heap *heap, size_t bytes)
{
	int result = EINVAL_RESULT;

	KHEAP_SAN_ENTER();
	struct z_heap *h = (struct z_heap *)(uintptr_t)heap_of(heap);

	if (h != NULL) {
		/* Rounded up without the wrap of bytes + 7 near SIZE_MAX. */
		size_t chunks = (bytes >> CHUNK_SHIFT) +
				((bytes & (CHUNK_BYTES - 1u)) != 0u ? 1u : 0u);

		/* Above the heap's size the threshold can never be
		 * crossed: keep it there rather than truncate it. */
		h->threshold_chunks = chunks > h->end_chunk ? h->end_chunk
							    : (chunksz_t)chunks;
		result = 0;
	}
	KHEAP_SAN_EXIT();
	return result;
}
#endif

size_t sys_heap_max_alloc_bytes(const struct sys_heap *heap)
{
	KHEAP_SAN_ENTER();
	const struct z_heap *h = heap_of(heap);
	size_t bytes = h == NULL ? 0u : max_alloc_bytes(h);

	KHEAP_SAN_EXIT();
	return bytes;
}
