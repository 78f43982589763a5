/*
 * kheap sys_heap: two-level segregated fit with immediate coalescing.
 *
 * Layout and invariants: heap_internal.h. Design and the alternatives we
 * rejected: docs/design.md. Every path here is O(1): the only loops are
 * the bounded probe of one class list (SYS_HEAP_FIT_PROBES) and the
 * initial clearing of the class index.
 */
#include <string.h>

#include "heap_internal.h"

#define EINVAL_RESULT (-22)

/*
 * Hot paths are compiled once per header format (WITH_FORMAT), so that the
 * format is a constant inside them. When optimising for size the helpers
 * stay out of line and the format is a run-time value instead.
 */
#if defined(__GNUC__) && !defined(__OPTIMIZE_SIZE__)
#define HOT static inline __attribute__((__always_inline__))
#define WITH_FORMAT(h, fn, ...)                                                \
	((h)->big != 0u ? fn(view_of((h), true), __VA_ARGS__)                  \
			: fn(view_of((h), false), __VA_ARGS__))
#else
#define HOT static
#define WITH_FORMAT(h, fn, ...) fn(any_view(h), __VA_ARGS__)
#endif

sys_heap_fault_handler_t z_heap_fault_handler;

/* ---- free lists ------------------------------------------------------ */

HOT void set_class_bits(struct z_heap *h, unsigned int cls)
{
	unsigned int fl = cls >> SL_SHIFT;

	h->sl_bitmap[fl] |= (uint8_t)(1u << (cls & (SL_COUNT - 1u)));
	h->fl_bitmap |= 1u << fl;
}

HOT void clear_class_bits(struct z_heap *h, unsigned int cls)
{
	unsigned int fl = cls >> SL_SHIFT;
	unsigned int bits = h->sl_bitmap[fl] & ~(1u << (cls & (SL_COUNT - 1u)));

	h->sl_bitmap[fl] = (uint8_t)bits;
	if (bits == 0u) {
		h->fl_bitmap &= ~(1u << fl);
	}
}

/* Push free chunk c of `size` chunks onto the head of its class (LIFO). */
HOT void free_list_add(struct heap_view v, chunkid_t c, chunksz_t size)
{
	unsigned int cls = size_class(size);

	if (class_empty(v.h, cls)) {
		field_set(v, c, FREE_PREV, c);
		field_set(v, c, FREE_NEXT, c);
		set_class_bits(v.h, cls);
	} else {
		chunkid_t next = list_head(v, cls);
		chunkid_t prev = free_prev(v, next);

		field_set(v, c, FREE_PREV, prev);
		field_set(v, c, FREE_NEXT, next);
		field_set(v, prev, FREE_NEXT, c);
		field_set(v, next, FREE_PREV, c);
	}
	set_list_head(v, cls, c);
}

/* Unlink free chunk c from the list of class cls. */
HOT void free_list_remove(struct heap_view v, chunkid_t c, unsigned int cls)
{
	chunkid_t next = free_next(v, c);

	if (next == c) {
		clear_class_bits(v.h, cls);
		return;
	}
	chunkid_t prev = free_prev(v, c);

	field_set(v, prev, FREE_NEXT, next);
	field_set(v, next, FREE_PREV, prev);
	if (list_head(v, cls) == c) {
		set_list_head(v, cls, next);
	}
}

/* ---- chunk headers --------------------------------------------------- */

/* Write c's size and state, and the matching left_size of its right
 * neighbour (the invariant left_size(c + size) == size). */
HOT void set_header(struct heap_view v, chunkid_t c, chunksz_t size_chunks,
		    bool used)
{
	field_set(v, c, SIZE_AND_USED, (size_chunks << 1) | (used ? 1u : 0u));
	field_set(v, c + size_chunks, LEFT_SIZE, size_chunks);
}

/*
 * Mark chunk c (size_chunks long, on no list, counted as allocated) in use,
 * cut down to keep_chunks,
 * returning the tail to the free lists if it can stand alone. With
 * merge_right the tail first merges with a free right neighbour; callers
 * that know the neighbour is in use pass false.
 *   [ c ][ tail ][ free right ] => [ c ][ ------ free ------ ]
 */
HOT chunksz_t trim_used(struct heap_view v, chunkid_t c, chunksz_t size_chunks,
			chunksz_t keep_chunks, bool merge_right)
{
	chunksz_t tail_chunks = size_chunks - keep_chunks;

	if (tail_chunks < min_chunks(v)) {
		set_header(v, c, size_chunks, true);
		return size_chunks;
	}
	chunkid_t tail = c + keep_chunks;
	chunkid_t right = c + size_chunks;

	set_header(v, c, keep_chunks, true);
	v.h->free_chunks += tail_chunks;
	if (merge_right && !chunk_used(v, right)) {
		chunksz_t right_chunks = chunk_size(v, right);

		free_list_remove(v, right, size_class(right_chunks));
		tail_chunks += right_chunks;
	}
	set_header(v, tail, tail_chunks, false);
	free_list_add(v, tail, tail_chunks);
	return keep_chunks;
}

/* Raise the allocation watermark after free_chunks went down. */
HOT void note_allocated(struct z_heap *h)
{
	chunksz_t allocated = h->end_chunk - h->free_chunks;

	if (allocated > h->max_allocated_chunks) {
		h->max_allocated_chunks = allocated;
	}
}

/* ---- size arithmetic ------------------------------------------------- */

/*
 * Chunks needed for a block of `bytes` usable bytes plus its header.
 * Callers guarantee 1 <= bytes <= heap bytes + 7, so the sum cannot
 * overflow (the region also holds the control block) and the result is
 * at least min_chunks (a header of 8 bytes plus 1 byte needs 2 chunks).
 */
HOT size_t chunks_for_bytes(struct heap_view v, size_t bytes)
{
	return (bytes + header_bytes(v) + CHUNK_BYTES - 1u) >> CHUNK_SHIFT;
}

/* ---- allocation ------------------------------------------------------ */

/*
 * Find a free chunk of at least want_chunks, take it off its list and
 * return it with its size, or return end_chunk if the constant-time search
 * finds none. The chunk is still counted in free_chunks.
 *
 * First up to SYS_HEAP_FIT_PROBES heads of the request's own class (whose
 * members may be smaller than the request), then the head of the first
 * non-empty larger class (all of whose members are large enough).
 */
HOT chunkid_t take_chunk(struct heap_view v, chunksz_t want_chunks,
			 chunksz_t *size_chunks)
{
	struct z_heap *h = v.h;
	unsigned int cls = size_class(want_chunks);
	chunkid_t c;
	chunksz_t size;

	if (!class_empty(h, cls)) {
		c = list_head(v, cls);
		for (unsigned int i = 0; i < SYS_HEAP_FIT_PROBES; i++) {
			size = chunk_size(v, c);
			if (size >= want_chunks) {
				goto found;
			}
			c = free_next(v, c);
		}
	}
	unsigned int fl = cls >> SL_SHIFT;
	uint32_t sl_mask = (uint32_t)h->sl_bitmap[fl] &
			   (~1u << (cls & (SL_COUNT - 1u)));

	if (sl_mask == 0u) {
		uint32_t fl_mask = h->fl_bitmap & (~1u << fl);

		if (fl_mask == 0u) {
			return h->end_chunk;
		}
		fl = lowest_bit(fl_mask);
		sl_mask = h->sl_bitmap[fl];
	}
	cls = (fl << SL_SHIFT) + lowest_bit(sl_mask);
	c = list_head(v, cls);
	size = chunk_size(v, c);
found:
	free_list_remove(v, c, cls);
	*size_chunks = size;
	return c;
}

/* Turn taken chunk c into a used block of keep_chunks; c's right
 * neighbour is in use (free chunks never touch). */
HOT void claim_chunk(struct heap_view v, chunkid_t c, chunksz_t size_chunks,
		     chunksz_t keep_chunks)
{
	v.h->free_chunks -= size_chunks;
	trim_used(v, c, size_chunks, keep_chunks, false);
	note_allocated(v.h);
}

/*
 * The chunk count to search for: exact for plain requests, padded for
 * aligned ones (see aligned_alloc_in). Returns 0 for requests that can
 * never succeed on this heap, even empty: 0 bytes, or more than it holds.
 * Overflow-free for every size_t.
 */
HOT size_t search_chunks(struct heap_view v, size_t align_bytes,
			 size_t rewind_bytes, size_t bytes)
{
	size_t heap_bytes = (size_t)v.h->end_chunk << CHUNK_SHIFT;

	/* bytes == 0 wraps to SIZE_MAX: one test for both bounds. */
	if (bytes - 1u >= heap_bytes) {
		return 0u;
	}
	size_t want = chunks_for_bytes(v, bytes);

	if (align_bytes != CHUNK_BYTES || rewind_bytes != 0u) {
		if (align_bytes > heap_bytes - bytes) {
			return 0u;
		}
		/*
		 * The aligned start lies at most align_bytes - 1 past the
		 * chunk's memory, plus align_bytes more when a one-chunk lead
		 * must be skipped in a big heap; a rewind of under 8 bytes
		 * costs one more chunk at the end.
		 */
		want += (align_bytes >> CHUNK_SHIFT) * (v.big ? 2u : 1u) + 1u;
	}
	return want > v.h->end_chunk ? 0u : want;
}

HOT void *alloc_in(struct heap_view v, size_t bytes)
{
	size_t want = search_chunks(v, CHUNK_BYTES, 0u, bytes);

	if (want == 0u) {
		return NULL;
	}
	chunksz_t size;
	chunkid_t c = take_chunk(v, (chunksz_t)want, &size);

	if (c == v.h->end_chunk) {
		return NULL;
	}
	claim_chunk(v, c, size, (chunksz_t)want);
	return chunk_mem(v, c);
}

/* ---- alignment ------------------------------------------------------- */

/*
 * Decode an align argument into a power-of-two alignment and a rewind
 * (see sys_heap_aligned_alloc). Returns false for malformed values.
 * align 0 and power-of-two values up to 8 decode to alignment 8, which
 * every block has anyway.
 */
static bool decode_align(size_t align, size_t *align_bytes,
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

static bool mem_aligned(const void *mem, size_t align_bytes,
			size_t rewind_bytes)
{
	return (((uintptr_t)mem + rewind_bytes) & (align_bytes - 1u)) == 0u;
}

/*
 * Carve an aligned block out of `used` chunk c: the block starts at the
 * first p >= chunk_mem(c) with (p + rewind) % align == 0 whose lead is
 * either empty or long enough to be a free chunk; the lead and the tail
 * go back to the free lists. c's neighbours are in use (it was free).
 *   [ ------------- c ------------- ] => [ lead ][ block ][ tail ]
 */
HOT void *carve_aligned(struct heap_view v, chunkid_t c, chunksz_t size,
			size_t align_bytes, size_t rewind_bytes, size_t bytes)
{
	uintptr_t mem = (uintptr_t)chunk_mem(v, c);
	uintptr_t p = ((mem + rewind_bytes + align_bytes - 1u) &
		       ~(uintptr_t)(align_bytes - 1u)) -
		      rewind_bytes;
	chunksz_t lead_chunks = (chunksz_t)((p - mem) >> CHUNK_SHIFT);

	if (lead_chunks != 0u && lead_chunks < min_chunks(v)) {
		p += align_bytes;
		lead_chunks = (chunksz_t)((p - mem) >> CHUNK_SHIFT);
	}
	if (lead_chunks != 0u) {
		/* The lead stays free; c's left neighbour is in use. */
		set_header(v, c, lead_chunks, false);
		free_list_add(v, c, lead_chunks);
		c += lead_chunks;
		size -= lead_chunks;
	}
	size_t gap_bytes = (size_t)(p - (uintptr_t)chunk_mem(v, c));
	size_t want = chunks_for_bytes(v, bytes + gap_bytes);

	KHEAP_ASSERT(want <= size);
	claim_chunk(v, c, size, (chunksz_t)want);
	return (void *)p;
}

HOT void *aligned_alloc_in(struct heap_view v, size_t align, size_t bytes)
{
	size_t align_bytes;
	size_t rewind_bytes;

	if (!decode_align(align, &align_bytes, &rewind_bytes)) {
		return NULL;
	}
	if (align_bytes == CHUNK_BYTES && rewind_bytes == 0u) {
		return alloc_in(v, bytes);
	}
	size_t want = search_chunks(v, align_bytes, rewind_bytes, bytes);

	if (want == 0u) {
		return NULL;
	}
	chunksz_t size;
	chunkid_t c = take_chunk(v, (chunksz_t)want, &size);

	if (c == v.h->end_chunk) {
		return NULL;
	}
	return carve_aligned(v, c, size, align_bytes, rewind_bytes, bytes);
}

/* ---- misuse checks --------------------------------------------------- */

static void report_fault(const struct sys_heap *heap, const void *mem,
			 enum sys_heap_fault_kind kind, const char *operation)
{
	sys_heap_fault_handler_t handler = z_heap_fault_handler;

	if (handler != NULL) {
		struct sys_heap_fault fault = {
			.heap = heap,
			.mem = mem,
			.kind = kind,
			.operation = operation,
			.message = sys_heap_fault_message(kind),
		};
		handler(&fault);
	}
}

/*
 * The O(1) checks made before a block is freed, resized or measured.
 * Returns 0 and sets *chunk if mem looks like a live block, else the
 * fault kind.
 */
HOT enum sys_heap_fault_kind check_live_block(struct heap_view v,
					      const void *mem, chunkid_t *chunk,
					      chunksz_t *size_chunks)
{
	chunkid_t end = v.h->end_chunk;
	/* Below the first block wraps to a huge offset: one compare. */
	uintptr_t offset = (uintptr_t)mem - (uintptr_t)chunk_mem(v, 0);

	if (offset >= ((uintptr_t)end << CHUNK_SHIFT)) {
		return SYS_HEAP_FAULT_BAD_POINTER;
	}
	chunkid_t c = (chunkid_t)(offset >> CHUNK_SHIFT);
	uint32_t size_and_used = field_get(v, c, SIZE_AND_USED);
	chunksz_t size = size_and_used >> 1;
	chunksz_t left = left_size(v, c);

	/* Size in range, and mem (up to 7 bytes past the block's start
	 * for rewound blocks) still inside the block. */
	if (size < min_chunks(v) || size > end - c ||
	    (offset & (CHUNK_BYTES - 1u)) + header_bytes(v) >=
		    ((size_t)size << CHUNK_SHIFT)) {
		return SYS_HEAP_FAULT_CORRUPT_HEADER;
	}
	if ((size_and_used & 1u) == 0u) {
		return SYS_HEAP_FAULT_NOT_ALLOCATED;
	}
	/* Own header before the neighbour's: an interior pointer or an
	 * overflow from the left shows here, not as our overflow. */
	if (c == 0u ? left != 0u
		    : (left == 0u || left > c ||
		       chunk_size(v, c - left) != left)) {
		return SYS_HEAP_FAULT_CORRUPT_HEADER;
	}
	if (left_size(v, c + size) != size) {
		return SYS_HEAP_FAULT_OVERFLOW;
	}
	*chunk = c;
	*size_chunks = size;
	return (enum sys_heap_fault_kind)0;
}

/* Look up mem for `operation`; reports and returns false on misuse. */
static bool find_live_block(const struct sys_heap *heap, const void *mem,
			    const char *operation, chunkid_t *chunk)
{
	const struct z_heap *h = heap_of(heap);
	enum sys_heap_fault_kind kind = SYS_HEAP_FAULT_BAD_POINTER;
	chunksz_t size;

	if (h != NULL) {
		kind = WITH_FORMAT(h, check_live_block, mem, chunk, &size);
	}
	if (kind != 0) {
		report_fault(heap, mem, kind, operation);
		return false;
	}
	return true;
}

/* Usable bytes from mem to the end of its chunk c. */
static size_t usable_bytes(struct heap_view v, chunkid_t c, const void *mem)
{
	return (size_t)(chunk_ptr(v, c + chunk_size(v, c)) -
			(const unsigned char *)mem);
}

/*
 * Return used chunk c of size_chunks to the free lists, merging with free
 * neighbours. c passed check_live_block, so its neighbours' headers agree
 * with it; the end sentinel counts as a used right neighbour and chunk 0
 * (left_size 0) has none on the left.
 *   [ free left ][ c ][ free right ] => [ ---------- free ---------- ]
 */
HOT void free_in(struct heap_view v, chunkid_t c, chunksz_t size_chunks)
{
	chunksz_t left = left_size(v, c);
	uint32_t right_word = field_get(v, c + size_chunks, SIZE_AND_USED);
	uint32_t left_word = left != 0u ? field_get(v, c - left, SIZE_AND_USED)
					: 1u;
	chunksz_t total = size_chunks;

	if ((right_word & 1u) == 0u) {
		chunksz_t right_size = right_word >> 1;

		free_list_remove(v, c + size_chunks, size_class(right_size));
		total += right_size;
	}
	if ((left_word & 1u) == 0u) {
		/* c's header stays behind inside the merged block: mark it
		 * free so a second free of c is seen as a double free. */
		field_set(v, c, SIZE_AND_USED, size_chunks << 1);
		c -= left;
		free_list_remove(v, c, size_class(left));
		total += left;
	}
	set_header(v, c, total, false);
	free_list_add(v, c, total);
	v.h->free_chunks += size_chunks;
}

/* sys_heap_free once the heap is known to be initialised. */
HOT void free_checked(struct heap_view v, struct sys_heap *heap, void *mem)
{
	chunkid_t c;
	chunksz_t size;
	enum sys_heap_fault_kind kind = check_live_block(v, mem, &c, &size);

	if (kind != 0) {
		report_fault(heap, mem, kind, "free");
		return;
	}
#if CONFIG_SYS_HEAP_LISTENER
	if (z_heap_listeners != NULL) {
		heap_listener_notify_free(HEAP_ID_FROM_POINTER(heap), mem,
					  usable_bytes(v, c, mem));
	}
#endif
	free_in(v, c, size);
}

/* ---- public API ------------------------------------------------------ */

static size_t fl_count_for(size_t max_chunks)
{
	if (max_chunks < SL_COUNT) {
		return 1u;
	}
	return (size_class((chunksz_t)max_chunks) >> SL_SHIFT) + 1u;
}

int sys_heap_init(struct sys_heap *heap, void *mem, size_t bytes)
{
	if (heap == NULL) {
		return EINVAL_RESULT;
	}
	heap->heap = NULL;
	if (mem == NULL || bytes < SYS_HEAP_MIN_REGION_BYTES ||
	    (bytes >> CHUNK_SHIFT) > BIG_MAX_CHUNKS ||
	    (uintptr_t)mem + bytes < (uintptr_t)mem) {
		return EINVAL_RESULT;
	}
	bool big = bytes > SYS_HEAP_SMALL_REGION_MAX_BYTES;
	size_t hdr_bytes = big ? 8u : 4u;
	size_t min_size = big ? 2u : 1u;
	uintptr_t end = (uintptr_t)mem + bytes;
	uintptr_t start = ((uintptr_t)mem + 7u) & ~(uintptr_t)7u;
	/* An upper bound on the block area sizes the class index. */
	size_t max_chunks = (bytes - sizeof(struct z_heap)) >> CHUNK_SHIFT;
	size_t fl_count = fl_count_for(max_chunks);
	size_t ctrl_bytes =
		sizeof(struct z_heap) + fl_count * SL_COUNT * (big ? 4u : 2u);
	uintptr_t chunk_base =
		((start + ctrl_bytes + hdr_bytes + 7u) & ~(uintptr_t)7u) -
		hdr_bytes;

	if (chunk_base + hdr_bytes >= end ||
	    ((end - chunk_base - hdr_bytes) >> CHUNK_SHIFT) < min_size) {
		return EINVAL_RESULT;
	}
	chunkid_t end_chunk =
		(chunkid_t)((end - chunk_base - hdr_bytes) >> CHUNK_SHIFT);
	struct z_heap *h = (struct z_heap *)start;

	KHEAP_ASSERT(end_chunk <= (big ? BIG_MAX_CHUNKS : SMALL_MAX_CHUNKS));
	memset(h, 0, ctrl_bytes);
	h->magic = Z_HEAP_MAGIC;
	h->chunk_base_offset = (uint32_t)(chunk_base - start);
	h->end_chunk = end_chunk;
	h->big = big ? 1u : 0u;
	h->fl_count = (uint8_t)fl_count;
	h->free_chunks = end_chunk;

	struct heap_view v = any_view(h);

	field_set(v, 0, LEFT_SIZE, 0u);
	set_header(v, 0, end_chunk, false);
	/* The end sentinel: size 0, in use. */
	field_set(v, end_chunk, SIZE_AND_USED, 1u);
	free_list_add(v, 0, end_chunk);
	heap->heap = h;
	return 0;
}

static struct z_heap *heap_rw(struct sys_heap *heap)
{
	return (struct z_heap *)(uintptr_t)heap_of(heap);
}

static void notify_alloc(struct sys_heap *heap, void *mem)
{
#if CONFIG_SYS_HEAP_LISTENER
	if (mem != NULL && z_heap_listeners != NULL) {
		heap_listener_notify_alloc(HEAP_ID_FROM_POINTER(heap), mem,
					   sys_heap_usable_size(heap, mem));
	}
#else
	(void)heap;
	(void)mem;
#endif
}

void *sys_heap_alloc(struct sys_heap *heap, size_t bytes)
{
	struct z_heap *h = heap_rw(heap);

	if (h == NULL) {
		return NULL;
	}
	void *mem = WITH_FORMAT(h, alloc_in, bytes);

	notify_alloc(heap, mem);
	return mem;
}

void *sys_heap_noalign_alloc(struct sys_heap *heap, size_t align, size_t bytes)
{
	(void)align;
	return sys_heap_alloc(heap, bytes);
}

void *sys_heap_aligned_alloc(struct sys_heap *heap, size_t align, size_t bytes)
{
	struct z_heap *h = heap_rw(heap);

	if (h == NULL) {
		return NULL;
	}
	void *mem = WITH_FORMAT(h, aligned_alloc_in, align, bytes);

	notify_alloc(heap, mem);
	return mem;
}

void sys_heap_free(struct sys_heap *heap, void *mem)
{
	if (mem == NULL) {
		return;
	}
	struct z_heap *h = heap_rw(heap);

	if (h == NULL) {
		report_fault(heap, mem, SYS_HEAP_FAULT_BAD_POINTER, "free");
		return;
	}
	WITH_FORMAT(h, free_checked, heap, mem);
}

size_t sys_heap_usable_size(const struct sys_heap *heap, const void *mem)
{
	chunkid_t c;

	if (mem == NULL || !find_live_block(heap, mem, "usable_size", &c)) {
		return 0u;
	}
	return usable_bytes(any_view(heap_of(heap)), c, mem);
}

/*
 * Resize used chunk c in place to hold `bytes` from mem, if possible:
 * shrink, or grow into a free right neighbour. Returns false (heap
 * unchanged) if neither works.
 *   [ c ][ free right ] => [ c ...... ][ rest ]
 */
HOT bool resize_in(struct heap_view v, chunkid_t c, const void *mem,
		   size_t bytes)
{
	size_t gap_bytes =
		(size_t)((const unsigned char *)mem - chunk_mem(v, c));

	/* Also keeps bytes + gap_bytes (gap < 8) from overflowing. */
	if (bytes > ((size_t)v.h->end_chunk << CHUNK_SHIFT)) {
		return false;
	}
	size_t want = chunks_for_bytes(v, bytes + gap_bytes);
	chunksz_t size = chunk_size(v, c);

	if (want <= size) {
		trim_used(v, c, size, (chunksz_t)want, true);
		return true;
	}
	chunkid_t right = c + size;
	chunksz_t right_size = chunk_size(v, right);

	if (chunk_used(v, right) || want > size + right_size) {
		return false;
	}
	free_list_remove(v, right, size_class(right_size));
	v.h->free_chunks -= right_size;
	/* right's own right neighbour is in use: no merge needed. */
	trim_used(v, c, size + right_size, (chunksz_t)want, false);
	note_allocated(v.h);
	return true;
}

void *sys_heap_aligned_realloc(struct sys_heap *heap, void *ptr, size_t align,
			       size_t bytes)
{
	size_t align_bytes;
	size_t rewind_bytes;
	chunkid_t c;

	if (ptr == NULL) {
		return sys_heap_aligned_alloc(heap, align, bytes);
	}
	if (bytes == 0u) {
		/* Checked and reported as a free. */
		sys_heap_free(heap, ptr);
		return NULL;
	}
	if (!find_live_block(heap, ptr, "realloc", &c) ||
	    !decode_align(align, &align_bytes, &rewind_bytes)) {
		return NULL;
	}
	struct z_heap *h = heap_rw(heap);
	size_t old_bytes = usable_bytes(any_view(h), c, ptr);
	void *mem = ptr;

	/* Plain realloc (align 0) keeps any block in place, rewound or not. */
	if ((align != 0u && !mem_aligned(ptr, align_bytes, rewind_bytes)) ||
	    !WITH_FORMAT(h, resize_in, c, ptr, bytes)) {
		mem = WITH_FORMAT(h, aligned_alloc_in, align, bytes);
		if (mem == NULL) {
			return NULL;
		}
		memcpy(mem, ptr, old_bytes < bytes ? old_bytes : bytes);
		WITH_FORMAT(h, free_in, c, chunk_size(any_view(h), c));
	}
#if CONFIG_SYS_HEAP_LISTENER
	if (z_heap_listeners != NULL) {
		heap_listener_notify_realloc(HEAP_ID_FROM_POINTER(heap), ptr,
					     old_bytes, mem,
					     sys_heap_usable_size(heap, mem));
	}
#endif
	return mem;
}

void *sys_heap_realloc(struct sys_heap *heap, void *ptr, size_t bytes)
{
	return sys_heap_aligned_realloc(heap, ptr, 0u, bytes);
}

HOT bool request_fits_in(struct heap_view v, size_t align, size_t bytes)
{
	size_t align_bytes;
	size_t rewind_bytes;

	return decode_align(align, &align_bytes, &rewind_bytes) &&
	       search_chunks(v, align_bytes, rewind_bytes, bytes) != 0u;
}

bool sys_heap_request_fits(const struct sys_heap *heap, size_t align,
			   size_t bytes)
{
	const struct z_heap *h = heap_of(heap);

	return h != NULL && request_fits_in(any_view(h), align, bytes);
}

bool sys_heap_owns(const struct sys_heap *heap, const void *mem)
{
	const struct z_heap *h = heap_of(heap);
	chunkid_t c;

	chunksz_t size;

	return h != NULL && mem != NULL &&
	       check_live_block(any_view(h), mem, &c, &size) == 0;
}

void sys_heap_fault_handler_set(sys_heap_fault_handler_t handler)
{
	z_heap_fault_handler = handler;
}

const char *sys_heap_fault_message(enum sys_heap_fault_kind kind)
{
	switch (kind) {
	case SYS_HEAP_FAULT_BAD_POINTER:
		return "pointer is not inside this heap's block area";
	case SYS_HEAP_FAULT_NOT_ALLOCATED:
		return "block is not allocated (double free or stale pointer)";
	case SYS_HEAP_FAULT_CORRUPT_HEADER:
		return "block header is corrupt (interior pointer, or the "
		       "previous block overflowed into it)";
	case SYS_HEAP_FAULT_OVERFLOW:
		return "block overflowed: the next block's header no longer "
		       "matches its size";
	}
	return "";
}

unsigned int kheap_soft_clz32(uint32_t value)
{
	/* Binary search over halves; value != 0. */
	unsigned int zeros = 0u;

	if ((value & 0xffff0000u) == 0u) {
		zeros += 16u;
		value <<= 16;
	}
	if ((value & 0xff000000u) == 0u) {
		zeros += 8u;
		value <<= 8;
	}
	if ((value & 0xf0000000u) == 0u) {
		zeros += 4u;
		value <<= 4;
	}
	if ((value & 0xc0000000u) == 0u) {
		zeros += 2u;
		value <<= 2;
	}
	if ((value & 0x80000000u) == 0u) {
		zeros += 1u;
	}
	return zeros;
}
