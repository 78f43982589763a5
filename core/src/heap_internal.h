/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Internal layout of a kheap sys_heap. Shared by the core's .c files only.
 *
 * Region layout (addresses grow to the right):
 *
 *   [slack][struct z_heap][heads][pad][sl_bitmap][chunk 0][chunk 1]...[end]
 *    <8 B   fixed 24 B    head_count    fl_count B ^                    ^
 *                         ids                    chunk_base      sentinel
 *
 * The second-level bitmap (one byte per first level in use) ends where
 * chunk 0 starts, level 0 last: byte fl is the (fl + 1)th byte below
 * chunk_base, so the hot paths find it from chunk 0's address (in a
 * register) without the head count, in as many instructions as a field
 * of the control block.
 *
 * The block area is measured in chunks of 8 bytes. Chunk c starts at
 * chunk_base + 8*c with its header; the block's memory starts right after
 * the header. chunk_base is chosen so that chunk_base + header_bytes is
 * 8-aligned, so every block's memory is 8-aligned with 4-byte headers
 * (chunk_base is then 4 mod 8) as well as with 8-byte ones.
 *
 * Header (every chunk, used or free), fields of 16 bits in small heaps and
 * 32 bits in big heaps:
 *
 *   [ left_size ][ size_and_used ] [ free_prev ][ free_next ]
 *     chunks of     size<<1 | used   only in free chunks, in the
 *     left neighbour                 block memory (chunk ids)
 *
 * left_size comes first so that writing past the end of a block changes
 * the next chunk's left_size, which free() compares with the block's own
 * size (O(1) overflow detection).
 *
 * The end sentinel is a header-only chunk at index end_chunk with size 0
 * and the used bit set: it stops right-coalescing and carries the last
 * chunk's size in its left_size. Chunk 0 has left_size 0: no left
 * neighbour. Every real chunk is at least min_chunks() long.
 *
 * Invariants (checked by sys_heap_validate):
 * - chunks tile [0, end_chunk) exactly; left_size(c + size(c)) == size(c);
 * - no two neighbouring chunks are both free (coalescing is immediate);
 * - every free chunk is on exactly the list of its size class; a class's
 *   bit is set in sl_byte(fl) iff its list is non-empty; bit fl of
 *   fl_bitmap is set iff sl_byte(fl) != 0;
 * - class lists are doubly linked, newest first. The tail's free_next is
 *   the tail itself; the head's free_prev is head_mark(cls): the top bit
 *   of the field (no chunk id has it) plus the class. So no "null" id is
 *   needed, and unlinking any chunk never recomputes its class. A class's
 *   head id means something only while its bitmap bit is set;
 * - allocated_chunks is end_chunk minus the free chunks' sizes.
 */
#ifndef KHEAP_HEAP_INTERNAL_H
#define KHEAP_HEAP_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <kheap/config.h>
#include <zephyr/sys/sys_heap.h>

/* A helper inlined wherever the compiler optimises (-Os too): small, and
 * on a hot path whose call would cost more than its body. Not optimising
 * (-O0 debugging and coverage builds) it is one function, so that each of
 * its branches is counted once, as HOT's are. */
#if defined(__GNUC__) && defined(__OPTIMIZE__)
#define INLINE static inline __attribute__((__always_inline__, __unused__))
#elif defined(__GNUC__)
#define INLINE static __attribute__((__unused__))
#else
#define INLINE static inline
#endif

/* Chunk ids and chunk counts: units of CHUNK_BYTES, never bytes. */
typedef uint32_t chunkid_t;
typedef uint32_t chunksz_t;

typedef uint16_t KHEAP_MAY_ALIAS hfield16_t;
typedef uint32_t KHEAP_MAY_ALIAS hfield32_t;

#define CHUNK_BYTES ((size_t)SYS_HEAP_CHUNK_BYTES)
#define CHUNK_SHIFT 3u

/* Second-level subdivisions per power of two: 1 to 8 (0 to 3 bits,
 * CONFIG_SYS_HEAP_SL_BITS). Sizes below SL_COUNT chunks each have an exact
 * class of their own in first level 0. A level's second-level bits fit
 * one bitmap byte. */
#define SL_SHIFT ((unsigned int)CONFIG_SYS_HEAP_SL_BITS)
#define SL_COUNT (1u << SL_SHIFT)
#define FL_MAX 32u

/* Size limits per header format, in chunks. */
#define SMALL_MAX_CHUNKS 0x7fffu
#define BIG_MAX_CHUNKS 0x7fffffffu

#define Z_HEAP_MAGIC 0x6b686570u /* "khep" */

enum chunk_field {
	LEFT_SIZE = 0,
	SIZE_AND_USED = 1,
	FREE_PREV = 2,
	FREE_NEXT = 3,
};

struct z_heap {
	/* Z_HEAP_MAGIC; from FULL up, xor the seal of the layout word and
	 * end_chunk (heap_checks.h, control_seal). */
	uint32_t magic;
	/* The layout word: the next three fields, sealed as one. */
	/* Bytes from this struct to chunk 0 (at most the struct, 32 bitmap
	 * bytes, 232 heads of 4 bytes and a header: below 2^16). */
	uint16_t chunk_base_offset;
	/* Class-list heads (after this struct), for classes 1..head_count:
	 * one per class up to that of the whole block area
	 * (size_class(end_chunk) <= head_count), so a small region pays for
	 * no class it cannot use: that class or one more (sys_heap.c,
	 * heads_for), so at most 232 (8 classes per doubling). Class 0 (no
	 * chunk has 0 chunks) has no head. The bitmap has fl_count(h)
	 * bytes. */
	uint8_t head_count;
	/* HEAP_BIG and HEAP_LISTS_DAMAGED. */
	uint8_t flags;
	/* Chunks in the block area; also the id of the end sentinel. */
	chunkid_t end_chunk;
	/* Bit fl set iff the bitmap byte of level fl (sl_byte) != 0. */
	uint32_t fl_bitmap;
	/* Chunks in use (headers and padding included) and their maximum. */
	chunksz_t allocated_chunks;
	chunksz_t max_allocated_chunks;
#if CONFIG_SYS_HEAP_MONITOR
	/* Allocating calls (alloc, aligned alloc, a realloc that grows)
	 * that returned NULL on this heap since init. */
	uint32_t alloc_failures;
	/* The usage threshold in chunks; 0: none. */
	chunksz_t threshold_chunks;
#endif
	/* Followed by the class-list heads, hfield16_t or hfield32_t. */
};

/* flags: 32-bit header fields (8-byte headers); else 16-bit fields. */
#define HEAP_BIG 0x1u
/* flags, FULL and up: set while a call that found a damaged list head
 * and went on without it has not reported it yet (sys_heap.c,
 * list_push); clear between calls, so sealed clear. Always clear below
 * FULL. */
#define HEAP_LISTS_DAMAGED 0x2u

/* control_seal reads chunk_base_offset, head_count and flags as one
 * aligned word. */
_Static_assert(offsetof(struct z_heap, flags) ==
			       offsetof(struct z_heap, chunk_base_offset) +
				       3u &&
		       offsetof(struct z_heap, chunk_base_offset) % 4u == 0u,
	       "the layout word is one aligned word");

/* First levels, and so bitmap bytes (sl_byte), that classes 0..heads
 * use (derived, not stored: one field less to seal). */
static inline unsigned int fl_count_for(unsigned int heads)
{
	return (heads >> SL_SHIFT) + 1u;
}

static inline unsigned int fl_count(const struct z_heap *h)
{
	return fl_count_for(h->head_count);
}

/* Globals shared by the core's files. */
extern sys_heap_fault_handler_t z_heap_fault_handler;
extern struct heap_listener *z_heap_listeners;

/* Report misuse through the fault handler, from outside the memory
 * checker's bracket (sys_heap.c). */
void z_heap_report_fault(const struct sys_heap *heap, const void *mem,
			 enum sys_heap_fault_kind kind, const char *operation);

/* Tell the listeners of heap_id about an event (heap_listener.c); old_mem
 * and old_bytes only for HEAP_REALLOC. */
void z_heap_notify(uintptr_t heap_id, enum heap_event_types event,
		   void *old_mem, size_t old_bytes, void *mem, size_t bytes);

/*
 * The header format (kheap/config.h): fixed at build time with
 * CONFIG_SYS_HEAP_SMALL_ONLY or CONFIG_SYS_HEAP_BIG_ONLY, when every
 * format test below is a constant; else (AUTO) chosen per heap at init.
 */
#define FORMAT_FIXED (CONFIG_SYS_HEAP_SMALL_ONLY || CONFIG_SYS_HEAP_BIG_ONLY)

/* The format a region of `bytes` gets. */
static inline bool format_for_region(size_t bytes)
{
	return CONFIG_SYS_HEAP_BIG_ONLY ||
	       (!CONFIG_SYS_HEAP_SMALL_ONLY &&
		bytes > SYS_HEAP_SMALL_REGION_MAX_BYTES);
}

/*
 * A heap as the hot paths see it: the control block, chunk 0's address and
 * the header format, loaded once per call and passed by value, so that no
 * header store forces a reload of the control block (header stores may
 * alias it). Where the format is a compile-time constant (a fixed format,
 * or a path compiled once per format: WITH_FORMAT in sys_heap.c), every
 * format test folds away.
 */
struct heap_view {
	struct z_heap *h;
	unsigned char *base;
	bool big;
};

static inline struct heap_view view_of(const struct z_heap *h, bool big)
{
	struct z_heap *rw = (struct z_heap *)(uintptr_t)h;
	unsigned char *base = (unsigned char *)rw + rw->chunk_base_offset;

#if defined(__GNUC__) && defined(__x86_64__)
	/* Keep chunk 0's address in a register: otherwise GCC reassociates
	 * chunk addresses as h + (offset + 8 * c), which costs the x86-64
	 * worst alloc 9 instructions and aligned alloc 23. Measured on
	 * x86-64 and Cortex-M only: on Cortex-M3 GCC keeps the base in a
	 * register anyway and the pin cost more than it saved (on M0 it
	 * saved 1), so only x86-64 has it (docs/design.md, "Making the hot
	 * paths short, and the code small"). */
	__asm__("" : "+r"(base));
#endif
	struct heap_view v = {
		.h = rw,
		.base = base,
		.big = big,
	};
	return v;
}

static inline struct heap_view any_view(const struct z_heap *h)
{
	return view_of(h, (h->flags & HEAP_BIG) != 0u);
}

/* The header format: true for 32-bit fields (8-byte headers). */
static inline bool view_big(struct heap_view v)
{
	if (FORMAT_FIXED) {
		return CONFIG_SYS_HEAP_BIG_ONLY != 0;
	}
	return v.big;
}

/* Chunk 0's address. */
static inline unsigned char *view_base(struct heap_view v)
{
	return v.base;
}

/* Where class 0's head would be: class c's head is the cth id from here.
 * Class 0 has none (no chunk has 0 chunks), so the heads start right after
 * the control block and this address is inside it; the checks that take
 * a class from memory refuse class 0 (links_ok, class_ok). */
static inline unsigned char *heads_base(struct heap_view v)
{
	return (unsigned char *)v.h + sizeof(struct z_heap) -
	       (view_big(v) ? 4u : 2u);
}

/* Byte fl of the second-level bitmap (fl < fl_count): bit sl is set iff
 * class (fl, sl) is non-empty. The (fl + 1)th byte below chunk 0. */
static inline uint8_t *sl_byte(struct heap_view v, unsigned int fl)
{
	return view_base(v) - 1 - fl;
}

static inline unsigned char *chunk_ptr(struct heap_view v, chunkid_t c)
{
	return view_base(v) + ((size_t)c << CHUNK_SHIFT);
}

static inline size_t header_bytes(struct heap_view v)
{
	return view_big(v) ? 8u : 4u;
}

static inline chunksz_t min_chunks(struct heap_view v)
{
	/* A free chunk holds its header and two links. */
	return view_big(v) ? 2u : 1u;
}

/* Element i of an array of 16- or 32-bit ids, by heap format. */
static inline uint32_t id_get(struct heap_view v, const unsigned char *p,
			      size_t i)
{
	if (view_big(v)) {
		return ((const hfield32_t *)(const void *)p)[i];
	}
	return ((const hfield16_t *)(const void *)p)[i];
}

static inline void id_set(struct heap_view v, unsigned char *p, size_t i,
			  uint32_t value)
{
	if (view_big(v)) {
		((hfield32_t *)(void *)p)[i] = value;
	} else {
		((hfield16_t *)(void *)p)[i] = (uint16_t)value;
	}
}

static inline uint32_t field_get(struct heap_view v, chunkid_t c,
				 enum chunk_field f)
{
	return id_get(v, chunk_ptr(v, c), (size_t)f);
}

static inline void field_set(struct heap_view v, chunkid_t c,
			     enum chunk_field f, uint32_t value)
{
	id_set(v, chunk_ptr(v, c), (size_t)f, value);
}

static inline chunksz_t chunk_size(struct heap_view v, chunkid_t c)
{
	return field_get(v, c, SIZE_AND_USED) >> 1;
}

static inline bool chunk_used(struct heap_view v, chunkid_t c)
{
	return (field_get(v, c, SIZE_AND_USED) & 1u) != 0u;
}

static inline chunksz_t left_size(struct heap_view v, chunkid_t c)
{
	return field_get(v, c, LEFT_SIZE);
}

static inline chunkid_t list_head(struct heap_view v, unsigned int cls)
{
	return id_get(v, heads_base(v), cls);
}

static inline void set_list_head(struct heap_view v, unsigned int cls,
				 chunkid_t c)
{
	id_set(v, heads_base(v), cls, c);
}

/* Memory of chunk c as handed to the user (8-byte aligned). */
static inline unsigned char *chunk_mem(struct heap_view v, chunkid_t c)
{
	return chunk_ptr(v, c) + header_bytes(v);
}

/*
 * The bit scans in software, for targets without a CLZ instruction
 * (ARMv6-M; KHEAP_SOFT_CLZ, kheap/config.h): a value with one bit set,
 * times the de Bruijn constant 0x077cb531, has distinct top five bits for
 * each bit position, and z_heap_bit_of (sys_heap.c) maps them back. Five
 * inlined instructions and a byte load for the lowest bit, ten more for
 * the highest, instead of a call to a binary search (measured in
 * docs/design.md, "Making the hot paths short, and the code small").
 */
extern const uint8_t z_heap_bit_of[32];

static inline unsigned int single_bit_index(uint32_t single)
{
	return z_heap_bit_of[(single * 0x077cb531u) >> 27];
}

/* Every bit below the highest set, then the highest alone. */
static inline unsigned int soft_highest_bit(uint32_t value)
{
	value |= value >> 1;
	value |= value >> 2;
	value |= value >> 4;
	value |= value >> 8;
	value |= value >> 16;
	return single_bit_index(value ^ (value >> 1));
}

/* Index of the lowest set bit of a non-zero value. */
static inline unsigned int lowest_bit(uint32_t value)
{
#if defined(KHEAP_SOFT_CLZ)
	return single_bit_index(value & (0u - value));
#elif defined(__GNUC__) && KHEAP_CPU_HAS_CLZ
	/* One instruction where there is a CLZ (x86 tzcnt/bsf, ARMv7-M
	 * rbit + clz). */
	return (unsigned int)__builtin_ctz(value);
#else
	/* No CLZ and a port's own KHEAP_CLZ32 (kheap/config.h): use it
	 * rather than the builtin's library call. */
	return 31u - KHEAP_CLZ32(value & (0u - value));
#endif
}

/* Index of the highest set bit of a non-zero value. */
static inline unsigned int highest_bit(uint32_t value)
{
#if defined(KHEAP_SOFT_CLZ)
	return soft_highest_bit(value);
#else
	return 31u - KHEAP_CLZ32(value);
#endif
}

/*
 * Size class of a chunk count, with S = SL_SHIFT and N = SL_COUNT = 2^S:
 * first level 0 holds exact classes for 0..N-1 chunks; first level
 * fl >= 1 covers [N << (fl-1), N << fl) in N equal steps. Returns
 * fl * N + sl.
 *
 * Without a branch: with m = max(msb, S) - S (the msb of chunks | N,
 * minus S), chunks >> m lies in [N, 2N) for chunks >= N and equals chunks
 * below N, and (m << S) + (chunks >> m) is fl * N + sl in both cases.
 */
INLINE unsigned int size_class(chunksz_t chunks)
{
	unsigned int m = highest_bit(chunks | SL_COUNT) - SL_SHIFT;

	return (m << SL_SHIFT) + (chunks >> m);
}

/* The free_prev of a class list's head: the field's top bit, which no
 * chunk id has (ids are below SMALL_MAX_CHUNKS or BIG_MAX_CHUNKS), plus
 * the class. */
static inline uint32_t head_mark_bit(struct heap_view v)
{
	return view_big(v) ? 0x80000000u : 0x8000u;
}

static inline uint32_t head_mark(struct heap_view v, unsigned int cls)
{
	return head_mark_bit(v) | cls;
}

/* Free-list links of a free chunk. */
static inline chunkid_t free_next(struct heap_view v, chunkid_t c)
{
	return field_get(v, c, FREE_NEXT);
}

static inline chunkid_t free_prev(struct heap_view v, chunkid_t c)
{
	return field_get(v, c, FREE_PREV);
}

/* The smallest chunk count in class cls. */
static inline chunksz_t class_min_chunks(unsigned int cls)
{
	unsigned int fl = cls >> SL_SHIFT;
	unsigned int sl = cls & (SL_COUNT - 1u);

	return fl == 0u ? sl : (SL_COUNT + sl) << (fl - 1u);
}

/* ---- how the core's functions are compiled -------------------------- */

/*
 * The same source at every optimisation level. Optimising for speed, the
 * hot paths are inlined into each public call, and with both header
 * formats (AUTO) compiled once per format (WITH_FORMAT), so that the format
 * is a constant inside them. Optimising for size (or not at all: -O0
 * debugging and coverage builds measure one copy of each branch) the
 * helpers are the compiler's to inline, and with both formats the format
 * is a run-time value in the view. With one format (kheap/config.h) it is
 * a constant everywhere.
 */
#if defined(__GNUC__) && defined(__OPTIMIZE__) && !defined(__OPTIMIZE_SIZE__)
#define HOT static inline __attribute__((__always_inline__, __unused__))
#define FORMAT_COPIES (!FORMAT_FIXED)
#else
#if defined(__GNUC__)
/* Some helpers serve only optional features (listeners, sanitizer
 * hooks) that a configuration may leave out. */
#define HOT static __attribute__((__unused__))
#else
#define HOT static
#endif
#define FORMAT_COPIES 0
#endif

#if FORMAT_COPIES
#define WITH_FORMAT(h, fn, ...)                                                \
	(((h)->flags & HEAP_BIG) != 0u ? fn(view_of((h), true), __VA_ARGS__)   \
				       : fn(view_of((h), false), __VA_ARGS__))
#else
#define WITH_FORMAT(h, fn, ...) fn(any_view(h), __VA_ARGS__)
#endif

#if defined(__GNUC__)
/* Unused in the files that include this header for other helpers. */
#define COLD static __attribute__((__noinline__, __cold__, __unused__))
#define UNLIKELY(x) __builtin_expect(!!(x), 0)
#else
#define COLD static
#define UNLIKELY(x) (x)
#endif

/* ---- hardening (levels: kheap/config.h) ----------------------------- */

#define HARDENING CONFIG_SYS_HEAP_HARDENING_LEVEL

/*
 * FULL and up: the last CANARY_BYTES of every used block hold a value
 * derived from the block's chunk id and the heap's address, so a write
 * past the usable bytes changes it before it reaches the next header, and
 * a canary copied from another block or heap does not match. It guards
 * against accidents, not an attacker who can read the heap.
 */
#define CANARY_BYTES ((size_t)(HARDENING >= SYS_HEAP_HARDENING_FULL ? 4u : 0u))

typedef uint32_t KHEAP_MAY_ALIAS canary_word_t;

/* Bytes of a used block that are not the user's: header and canary. */
static inline size_t block_overhead_bytes(struct heap_view v)
{
	return header_bytes(v) + CANARY_BYTES;
}

static inline uint32_t canary_expected(struct heap_view v, chunkid_t c)
{
	uint32_t mix = (uint32_t)(uintptr_t)v.h ^ 0x5bd1e995u;

	/* Odd multiplier: distinct chunk ids give distinct values. */
	return (c * 0x9e3779b1u) ^ mix;
}

/* The canary word of used chunk c of size_chunks (4-byte aligned: chunk
 * addresses are). */
static inline canary_word_t *canary_slot(struct heap_view v, chunkid_t c,
					 chunksz_t size_chunks)
{
	return (canary_word_t *)(void *)(chunk_ptr(v, c + size_chunks) -
					 CANARY_BYTES);
}

/* Does used chunk c of size_chunks still hold its canary? (FULL+) */
static inline bool canary_intact(struct heap_view v, chunkid_t c,
				 chunksz_t size_chunks)
{
	return *canary_slot(v, c, size_chunks) == canary_expected(v, c);
}

/* Size in chunks of the largest free chunk, 0 if none (heap_validate.c). */
chunksz_t z_heap_largest_free_chunks(struct heap_view v);

#endif /* KHEAP_HEAP_INTERNAL_H */
