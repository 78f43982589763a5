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

sys_heap_fault_handler_t z_heap_fault_handler;

/* ---- free lists ------------------------------------------------------ */

static void set_class_bits(struct z_heap *h, unsigned int cls)
{
	unsigned int fl = cls >> SL_SHIFT;

	h->sl_bitmap[fl] |= (uint8_t)(1u << (cls & (SL_COUNT - 1u)));
	h->fl_bitmap |= 1u << fl;
}

static void clear_class_bits(struct z_heap *h, unsigned int cls)
{
	unsigned int fl = cls >> SL_SHIFT;

	h->sl_bitmap[fl] &= (uint8_t)(~(1u << (cls & (SL_COUNT - 1u))));
	if (h->sl_bitmap[fl] == 0u) {
		h->fl_bitmap &= ~(1u << fl);
	}
}

static bool class_empty(const struct z_heap *h, unsigned int cls)
{
	unsigned int fl = cls >> SL_SHIFT;

	return (h->sl_bitmap[fl] & (1u << (cls & (SL_COUNT - 1u)))) == 0u;
}

/* Push free chunk c onto the head of its class list (LIFO). */
static void free_list_add(struct z_heap *h, chunkid_t c)
{
	unsigned int cls = size_class(chunk_size(h, c));

	if (class_empty(h, cls)) {
		field_set(h, c, FREE_PREV, c);
		field_set(h, c, FREE_NEXT, c);
		set_class_bits(h, cls);
	} else {
		chunkid_t next = list_head(h, cls);
		chunkid_t prev = free_prev(h, next);

		field_set(h, c, FREE_PREV, prev);
		field_set(h, c, FREE_NEXT, next);
		field_set(h, prev, FREE_NEXT, c);
		field_set(h, next, FREE_PREV, c);
	}
	set_list_head(h, cls, c);
}

static void free_list_remove(struct z_heap *h, chunkid_t c)
{
	unsigned int cls = size_class(chunk_size(h, c));
	chunkid_t next = free_next(h, c);

	if (next == c) {
		clear_class_bits(h, cls);
		return;
	}
	chunkid_t prev = free_prev(h, c);

	field_set(h, prev, FREE_NEXT, next);
	field_set(h, next, FREE_PREV, prev);
	if (list_head(h, cls) == c) {
		set_list_head(h, cls, next);
	}
}

/* ---- chunk headers --------------------------------------------------- */

static void set_header(struct z_heap *h, chunkid_t c, chunksz_t size_chunks,
		       bool used)
{
	field_set(h, c, SIZE_AND_USED, (size_chunks << 1) | (used ? 1u : 0u));
	field_set(h, c + size_chunks, LEFT_SIZE, size_chunks);
}

static void set_used(struct z_heap *h, chunkid_t c, bool used)
{
	uint32_t v = field_get(h, c, SIZE_AND_USED);

	field_set(h, c, SIZE_AND_USED, (v & ~1u) | (used ? 1u : 0u));
}

/*
 * Split chunk c (not on a free list) so that it keeps size_chunks and the
 * rest becomes a chunk of its own, returned.
 *   [ ------------ c ------------ ] => [ c (size_chunks) ][ rest ]
 */
static chunkid_t split_chunk(struct z_heap *h, chunkid_t c,
			     chunksz_t size_chunks)
{
	chunksz_t total = chunk_size(h, c);
	chunkid_t rest = c + size_chunks;

	set_header(h, c, size_chunks, chunk_used(h, c));
	set_header(h, rest, total - size_chunks, false);
	return rest;
}

/*
 * Give the tail of chunk c beyond keep_chunks back to the free lists if it
 * is large enough to stand alone, merging it with a free right neighbour.
 *   [ c ][ tail ][ free right ] => [ c ][ ----- free ----- ]
 */
static void trim_tail(struct z_heap *h, chunkid_t c, chunksz_t keep_chunks)
{
	chunksz_t total = chunk_size(h, c);

	if (total - keep_chunks < min_chunks(h)) {
		return;
	}
	chunkid_t tail = split_chunk(h, c, keep_chunks);
	chunkid_t right = tail + (total - keep_chunks);

	h->free_chunks += total - keep_chunks;
	if (!chunk_used(h, right)) {
		free_list_remove(h, right);
		set_header(h, tail, total - keep_chunks + chunk_size(h, right),
			   false);
	}
	free_list_add(h, tail);
}

/* ---- size arithmetic ------------------------------------------------- */

/*
 * Chunks needed for a block of `bytes` usable bytes plus its header.
 * Overflow-free for every size_t: bytes / 8 is taken first. The result
 * may exceed the heap; callers compare it with end_chunk.
 */
static size_t chunks_for_bytes(const struct z_heap *h, size_t bytes)
{
	size_t chunks = (bytes >> CHUNK_SHIFT) +
			(((bytes & (CHUNK_BYTES - 1u)) + header_bytes(h) +
			  CHUNK_BYTES - 1u) >>
			 CHUNK_SHIFT);

	return chunks < min_chunks(h) ? min_chunks(h) : chunks;
}

/* ---- search ---------------------------------------------------------- */

/*
 * Take a free chunk of at least want_chunks off its list, or return
 * end_chunk if the constant-time search finds none.
 *
 * First up to SYS_HEAP_FIT_PROBES heads of the request's own class (whose
 * members may be smaller than the request), then the head of the first
 * non-empty larger class (all of whose members are large enough).
 */
static chunkid_t take_free_chunk(struct z_heap *h, chunksz_t want_chunks)
{
	unsigned int cls = size_class(want_chunks);
	unsigned int fl = cls >> SL_SHIFT;
	unsigned int sl = cls & (SL_COUNT - 1u);

	if (!class_empty(h, cls)) {
		chunkid_t c = list_head(h, cls);

		for (unsigned int i = 0; i < SYS_HEAP_FIT_PROBES; i++) {
			if (chunk_size(h, c) >= want_chunks) {
				free_list_remove(h, c);
				return c;
			}
			c = free_next(h, c);
		}
	}

	uint32_t sl_mask = (uint32_t)h->sl_bitmap[fl] & (~1u << sl);

	if (sl_mask == 0u) {
		uint32_t fl_mask = h->fl_bitmap & (~1u << fl);

		if (fl_mask == 0u) {
			return h->end_chunk;
		}
		fl = lowest_bit(fl_mask);
		sl_mask = h->sl_bitmap[fl];
	}
	chunkid_t c = list_head(h, (fl << SL_SHIFT) + lowest_bit(sl_mask));

	free_list_remove(h, c);
	return c;
}

/* Raise the allocation watermark after free_chunks went down. */
static void note_allocated(struct z_heap *h)
{
	chunksz_t allocated = h->end_chunk - h->free_chunks;

	if (allocated > h->max_allocated_chunks) {
		h->max_allocated_chunks = allocated;
	}
}

/* Mark a chunk taken off the free lists as used, trimmed to keep_chunks. */
static void commit_used(struct z_heap *h, chunkid_t c, chunksz_t keep_chunks)
{
	h->free_chunks -= chunk_size(h, c);
	set_used(h, c, true);
	trim_tail(h, c, keep_chunks);
	note_allocated(h);
}

static struct z_heap *heap_rw(struct sys_heap *heap)
{
	return (struct z_heap *)(uintptr_t)heap_of(heap);
}

static void *alloc_chunks(struct z_heap *h, size_t bytes)
{
	if (bytes == 0u) {
		return NULL;
	}
	size_t want = chunks_for_bytes(h, bytes);

	if (want > h->end_chunk) {
		return NULL;
	}
	chunkid_t c = take_free_chunk(h, (chunksz_t)want);

	if (c == h->end_chunk) {
		return NULL;
	}
	commit_used(h, c, (chunksz_t)want);
	return chunk_mem(h, c);
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
 * Where an aligned block starts inside free chunk c: the first address
 * p >= chunk_mem(c) with (p + rewind) % align == 0 whose leading
 * fragment is either empty or large enough to be a free chunk.
 */
static unsigned char *aligned_start(const struct z_heap *h, chunkid_t c,
				    size_t align_bytes, size_t rewind_bytes)
{
	uintptr_t mem = (uintptr_t)chunk_mem(h, c);
	uintptr_t p = ((mem + rewind_bytes + align_bytes - 1u) &
		       ~(uintptr_t)(align_bytes - 1u)) -
		      rewind_bytes;
	uintptr_t lead_chunks = (p - mem) >> CHUNK_SHIFT;

	if (lead_chunks != 0u && lead_chunks < min_chunks(h)) {
		p += align_bytes;
	}
	return (unsigned char *)p;
}

static chunkid_t mem_to_chunk(const struct z_heap *h, const void *mem)
{
	uintptr_t offset = (uintptr_t)mem - (uintptr_t)chunk_mem(h, 0);

	return (chunkid_t)(offset >> CHUNK_SHIFT);
}

static void *aligned_alloc_chunks(struct z_heap *h, size_t align, size_t bytes)
{
	size_t align_bytes;
	size_t rewind_bytes;

	if (!decode_align(align, &align_bytes, &rewind_bytes)) {
		return NULL;
	}
	if (align_bytes == CHUNK_BYTES && rewind_bytes == 0u) {
		return alloc_chunks(h, bytes);
	}
	size_t heap_bytes = (size_t)h->end_chunk << CHUNK_SHIFT;

	if (bytes == 0u || align_bytes > heap_bytes ||
	    bytes > heap_bytes - align_bytes) {
		return NULL;
	}
	/*
	 * Worst case the aligned start lies align_bytes - 1 past the chunk's
	 * memory, plus a bump of align_bytes when the lead would be one
	 * chunk in a big heap; a rewind of under 8 bytes costs one chunk.
	 */
	size_t want = chunks_for_bytes(h, bytes) +
		      (align_bytes >> CHUNK_SHIFT) * (h->big ? 2u : 1u) + 1u;

	if (want > h->end_chunk) {
		return NULL;
	}
	chunkid_t c = take_free_chunk(h, (chunksz_t)want);

	if (c == h->end_chunk) {
		return NULL;
	}
	unsigned char *mem = aligned_start(h, c, align_bytes, rewind_bytes);
	chunkid_t used = mem_to_chunk(h, mem);

	/*
	 * [ lead ][ used ............ ] => lead back to the free lists.
	 * c's left neighbour is in use (coalescing invariant), so the lead
	 * needs no merging.
	 */
	if (used != c) {
		split_chunk(h, c, used - c);
		free_list_add(h, c);
	}
	size_t gap_bytes = (size_t)(mem - chunk_mem(h, used));

	KHEAP_ASSERT(chunks_for_bytes(h, bytes + gap_bytes) <=
		     chunk_size(h, used));
	commit_used(h, used, (chunksz_t)chunks_for_bytes(h, bytes + gap_bytes));
	return mem;
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
 * Returns 0 if mem looks like a live block of h, else the fault kind.
 */
static enum sys_heap_fault_kind
check_live_block(const struct z_heap *h, const void *mem, chunkid_t *chunk)
{
	uintptr_t first = (uintptr_t)chunk_mem(h, 0);
	uintptr_t end = (uintptr_t)chunk_ptr(h, h->end_chunk);

	if ((uintptr_t)mem < first || (uintptr_t)mem >= end) {
		return SYS_HEAP_FAULT_BAD_POINTER;
	}
	chunkid_t c = mem_to_chunk(h, mem);
	chunksz_t size = chunk_size(h, c);
	chunksz_t left = left_size(h, c);

	if (size < min_chunks(h) || size > h->end_chunk - c ||
	    (uintptr_t)mem >= (uintptr_t)chunk_ptr(h, c + size)) {
		return SYS_HEAP_FAULT_CORRUPT_HEADER;
	}
	if (!chunk_used(h, c)) {
		return SYS_HEAP_FAULT_NOT_ALLOCATED;
	}
	if (left_size(h, c + size) != size) {
		return SYS_HEAP_FAULT_OVERFLOW;
	}
	if (c == 0u ? left != 0u
		    : (left == 0u || left > c ||
		       chunk_size(h, c - left) != left)) {
		return SYS_HEAP_FAULT_CORRUPT_HEADER;
	}
	*chunk = c;
	return (enum sys_heap_fault_kind)0;
}

/* Look up mem for `operation`; reports and returns false on misuse. */
static bool find_live_block(const struct sys_heap *heap, const struct z_heap *h,
			    const void *mem, const char *operation,
			    chunkid_t *chunk)
{
	enum sys_heap_fault_kind kind;

	if (h == NULL) {
		kind = SYS_HEAP_FAULT_BAD_POINTER;
	} else {
		kind = check_live_block(h, mem, chunk);
	}
	if (kind != 0) {
		report_fault(heap, mem, kind, operation);
		return false;
	}
	return true;
}

/* Usable bytes from mem to the end of its chunk c. */
static size_t usable_bytes(const struct z_heap *h, chunkid_t c, const void *mem)
{
	return (size_t)(chunk_ptr(h, c + chunk_size(h, c)) -
			(const unsigned char *)mem);
}

/*
 * Return used chunk c to the free lists, merging with free neighbours.
 *   [ free left ][ c ][ free right ] => [ ---------- free ---------- ]
 */
static void free_chunk(struct z_heap *h, chunkid_t c)
{
	chunksz_t size = chunk_size(h, c);
	chunkid_t right = c + size;

	h->free_chunks += size;
	set_used(h, c, false);
	if (!chunk_used(h, right)) {
		free_list_remove(h, right);
		size += chunk_size(h, right);
		set_header(h, c, size, false);
	}
	chunksz_t left = left_size(h, c);

	if (left != 0u && !chunk_used(h, c - left)) {
		c -= left;
		free_list_remove(h, c);
		size += left;
		set_header(h, c, size, false);
	}
	free_list_add(h, c);
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

	field_set(h, 0, LEFT_SIZE, 0u);
	set_header(h, 0, end_chunk, false);
	field_set(h, end_chunk, SIZE_AND_USED, 1u);
	free_list_add(h, 0);
	heap->heap = h;
	return 0;
}

void *sys_heap_alloc(struct sys_heap *heap, size_t bytes)
{
	struct z_heap *h = heap_rw(heap);

	if (h == NULL) {
		return NULL;
	}
	void *mem = alloc_chunks(h, bytes);

#if CONFIG_SYS_HEAP_LISTENER
	if (mem != NULL && z_heap_listeners != NULL) {
		heap_listener_notify_alloc(HEAP_ID_FROM_POINTER(heap), mem,
					   sys_heap_usable_size(heap, mem));
	}
#endif
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
	void *mem = aligned_alloc_chunks(h, align, bytes);

#if CONFIG_SYS_HEAP_LISTENER
	if (mem != NULL && z_heap_listeners != NULL) {
		heap_listener_notify_alloc(HEAP_ID_FROM_POINTER(heap), mem,
					   sys_heap_usable_size(heap, mem));
	}
#endif
	return mem;
}

void sys_heap_free(struct sys_heap *heap, void *mem)
{
	struct z_heap *h = heap_rw(heap);
	chunkid_t c;

	if (mem == NULL || !find_live_block(heap, h, mem, "free", &c)) {
		return;
	}
#if CONFIG_SYS_HEAP_LISTENER
	if (z_heap_listeners != NULL) {
		heap_listener_notify_free(HEAP_ID_FROM_POINTER(heap), mem,
					  usable_bytes(h, c, mem));
	}
#endif
	free_chunk(h, c);
}

size_t sys_heap_usable_size(const struct sys_heap *heap, const void *mem)
{
	const struct z_heap *h = heap_of(heap);
	chunkid_t c;

	if (mem == NULL || !find_live_block(heap, h, mem, "usable_size", &c)) {
		return 0u;
	}
	return usable_bytes(h, c, mem);
}

/*
 * Resize chunk c in place to hold `bytes` from mem, if possible: shrink,
 * or grow into a free right neighbour.
 *   [ c ][ free right ] => [ c ...... ][ rest ]
 */
static bool resize_in_place(struct z_heap *h, chunkid_t c, const void *mem,
			    size_t bytes)
{
	size_t gap_bytes =
		(size_t)((const unsigned char *)mem - chunk_mem(h, c));

	/* Also keeps bytes + gap_bytes (gap < 8) from overflowing. */
	if (bytes > ((size_t)h->end_chunk << CHUNK_SHIFT)) {
		return false;
	}
	size_t want = chunks_for_bytes(h, bytes + gap_bytes);
	chunksz_t size = chunk_size(h, c);

	if (want <= size) {
		trim_tail(h, c, (chunksz_t)want);
		return true;
	}
	chunkid_t right = c + size;

	if (chunk_used(h, right) || want > size + chunk_size(h, right)) {
		return false;
	}
	chunksz_t right_size = chunk_size(h, right);

	free_list_remove(h, right);
	h->free_chunks -= right_size;
	set_header(h, c, size + right_size, true);
	trim_tail(h, c, (chunksz_t)want);
	note_allocated(h);
	return true;
}

void *sys_heap_aligned_realloc(struct sys_heap *heap, void *ptr, size_t align,
			       size_t bytes)
{
	struct z_heap *h = heap_rw(heap);
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
	if (!find_live_block(heap, h, ptr, "realloc", &c) ||
	    !decode_align(align, &align_bytes, &rewind_bytes)) {
		return NULL;
	}
	size_t old_bytes = usable_bytes(h, c, ptr);
	void *mem = ptr;

	/* Plain realloc (align 0) keeps any block in place, rewound or not. */
	if ((align != 0u && !mem_aligned(ptr, align_bytes, rewind_bytes)) ||
	    !resize_in_place(h, c, ptr, bytes)) {
		mem = aligned_alloc_chunks(h, align, bytes);
		if (mem == NULL) {
			return NULL;
		}
		memcpy(mem, ptr, old_bytes < bytes ? old_bytes : bytes);
		free_chunk(h, c);
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
