/* SPDX-License-Identifier: Apache-2.0 */
/*
 * sys_heap: a constant-time, unlocked heap over a caller-supplied region.
 *
 * Zephyr's sys_heap API and semantics, implemented by kheap's own
 * two-level segregated-fit allocator (design: docs/design.md).
 *
 * General contract, for every function below:
 * - Not thread-safe and not ISR-safe by itself: the caller serialises all
 *   calls on one heap (k_heap does this with a spinlock). Different heaps
 *   are independent.
 * - No function blocks, sleeps, prints or calls an OS. Diagnostics go
 *   through the fault handler and the print_info output hook.
 * - Constant time: alloc, aligned_alloc, noalign_alloc, free,
 *   usable_size and an in-place realloc execute a bounded number of
 *   steps: no loop depends on the heap size, the number of blocks or how
 *   fragmented the heap is. The bound is two bitmap searches, at most
 *   SYS_HEAP_FIT_PROBES free-list heads inspected, one split and one
 *   coalesce with each neighbour. A realloc that moves adds one memcpy of
 *   the old block. validate and print_info are O(number of blocks).
 * - Every returned block is 8-byte aligned (or aligned as requested) and
 *   lies entirely inside the region given to sys_heap_init().
 * - Sizes are in bytes. A request that cannot be satisfied returns NULL
 *   and leaves the heap unchanged; it never overflows internally, for any
 *   size_t value.
 * - Misuse that the heap detects (see sys_heap_free) is reported through
 *   the fault handler (sys_heap_fault_handler_set) and the offending call
 *   then does nothing: the heap is left exactly as it was.
 * - Corruption (the hardening level, CONFIG_SYS_HEAP_HARDENING_LEVEL in
 *   kheap/config.h, decides what is checked):
 *   - BASIC and above (BASIC is the default): no sequence of calls
 *     combined with arbitrary writes into the block area (from the first
 *     block's header to the end of the region: a use after free, an
 *     overflow, a wild write) makes the heap read or write outside its
 *     region. Every chunk id taken from memory a user can reach (sizes,
 *     left sizes, free-list links) is range-checked before it is used as
 *     an address, and one that fails never reaches a list head. The call
 *     that meets such damage is refused, reports it as
 *     SYS_HEAP_FAULT_CORRUPT_LINKS or SYS_HEAP_FAULT_CORRUPT_HEADER (or a
 *     kind listed under sys_heap_free) and leaves the heap as it was; one
 *     exception: a realloc that moves finds damage that its own
 *     allocation uncovered only after that allocation, and then leaves
 *     the new block allocated (see sys_heap_realloc). Damage the checks
 *     do not see can make allocations hand out wrong blocks (overlapping
 *     live ones, say), always inside the region.
 *   - FULL and above: the same for writes into the control block at the
 *     region's start (where an underflow of the first block lands): its
 *     layout fields are sealed and checked on entry to every call (a
 *     damaged one makes every call refuse: CORRUPT_HEADER for the calls
 *     that report, an error result for the queries), and the list heads
 *     and bitmaps are range-checked before they are used as addresses or
 *     indexes (CORRUPT_LINKS; a damaged head found while a freed or split
 *     chunk is listed is dropped, the call goes on and reports it at its
 *     end).
 *   - NONE trusts all metadata; BASIC and MODERATE trust the control
 *     block. There a damaged control block can make the heap read and
 *     write anywhere (its fields make every address), and a damaged
 *     magic makes the heap read as not initialised.
 *
 * Metadata: 8-byte granularity, a 4-byte header per block in regions of
 * up to SYS_HEAP_SMALL_REGION_MAX_BYTES and an 8-byte header above. The
 * smallest block is 8 bytes (4 usable) with 4-byte headers and 16 bytes
 * (8 usable) with 8-byte headers. The control block (size-class index,
 * counters) lives at the start of the region.
 */
#ifndef ZEPHYR_SYS_SYS_HEAP_H
#define ZEPHYR_SYS_SYS_HEAP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <kheap/config.h>
#include <zephyr/sys/heap_listener.h>
#include <zephyr/sys/mem_stats.h>

#ifdef __cplusplus
extern "C" {
#endif

struct z_heap;

/* A heap handle. Its only state is a pointer to the control block that
 * sys_heap_init() places at the start of the region; copying the handle
 * gives a second handle to the same heap. */
struct sys_heap {
	struct z_heap *heap;
};

/* Allocation granularity and the guaranteed alignment of every block. */
#define SYS_HEAP_CHUNK_BYTES 8u

/* Regions of at most this many bytes use 4-byte block headers; larger
 * regions use 8-byte headers. The choice depends only on the byte count
 * given to sys_heap_init(), never on the pointer size; a build may fix
 * it instead (CONFIG_SYS_HEAP_SMALL_ONLY: 4-byte headers, larger regions
 * refused; CONFIG_SYS_HEAP_BIG_ONLY: 8-byte headers; kheap/config.h). */
#define SYS_HEAP_SMALL_REGION_MAX_BYTES 262144u

/* Bytes of the control block before its size-class bitmap and class-list
 * heads (the core's internal layout, here for Z_HEAP_MIN_SIZE_FOR; the
 * core checks that it matches). Monitoring (CONFIG_SYS_HEAP_MONITOR) adds
 * 8. */
#define Z_HEAP_CONTROL_BYTES (24u + (CONFIG_SYS_HEAP_MONITOR ? 8u : 0u))

/*
 * Z_HEAP_MIN_SIZE_FOR(bytes): the size of the smallest 8-byte-aligned
 * region over which sys_heap_init() builds a heap that serves one
 * sys_heap_alloc() of `bytes` (1 to about SYS_HEAP_MAX_REGION_BYTES; 0
 * counts as 1). Every larger region serves it too. An integer constant
 * expression (usable for array sizes, in K_HEAP_DEFINE and in #if), exact
 * for the build's configuration (hardening level, monitoring): one byte
 * less does not serve it. A region at a misaligned address needs up to 7
 * bytes more.
 *
 * How: the block for `bytes` takes Z_HEAP_BLOCK_CHUNKS_ chunks of 8
 * bytes; the control block holds one bitmap byte per first level of
 * size classes (CONFIG_SYS_HEAP_SL_BITS, kheap/config.h) and one
 * class-list head (2 bytes with 4-byte headers, 4 with 8-byte ones)
 * per size class from 1 up to that block's; chunk
 * 0's header ends 8-aligned; the end sentinel's header follows the block.
 * With both formats (AUTO), a size that fits 4-byte headers is used only
 * if no region just above SYS_HEAP_SMALL_REGION_MAX_BYTES (8-byte
 * headers) would fail the request, so that every larger region serves it.
 * With CONFIG_SYS_HEAP_SMALL_ONLY a result above
 * SYS_HEAP_SMALL_REGION_MAX_BYTES names a region init refuses: no region
 * serves that request.
 */
#if CONFIG_SYS_HEAP_SMALL_ONLY
#define Z_HEAP_MIN_SIZE_FOR(bytes) Z_HEAP_REGION_FOR_(bytes, 4u, 2u)
#elif CONFIG_SYS_HEAP_BIG_ONLY
#define Z_HEAP_MIN_SIZE_FOR(bytes) Z_HEAP_REGION_FOR_(bytes, 8u, 4u)
#else
#define Z_HEAP_MIN_SIZE_FOR(bytes)                                             \
	((Z_HEAP_REGION_FOR_(bytes, 4u, 2u) <=                                 \
		  SYS_HEAP_SMALL_REGION_MAX_BYTES &&                           \
	  Z_HEAP_REGION_FOR_(bytes, 8u, 4u) <=                                 \
		  SYS_HEAP_SMALL_REGION_MAX_BYTES + 1u)                        \
		 ? Z_HEAP_REGION_FOR_(bytes, 4u, 2u)                           \
		 : Z_HEAP_REGION_FOR_(bytes, 8u, 4u))
#endif

/* The smallest region sys_heap_init() accepts, at an 8-byte-aligned
 * address: it holds one block, for a request of 1 byte and up to 4
 * (FULL hardening and up: up to 8, the rest of the block being the
 * canary's). 40 bytes by default, on 32- and 64-bit targets alike (64
 * with 8-byte headers only, CONFIG_SYS_HEAP_BIG_ONLY). */
#define Z_HEAP_MIN_SIZE Z_HEAP_MIN_SIZE_FOR(1u)

/* The smallest region sys_heap_init() accepts at any address. */
#define SYS_HEAP_MIN_REGION_BYTES (Z_HEAP_MIN_SIZE + 7u)

/* Helpers of Z_HEAP_MIN_SIZE_FOR, for one header format: hdr header
 * bytes, id bytes per class-list head. Castless, so that #if can use
 * them. */
/* Chunks of the block a request of `bytes` (0 counts as 1) takes. */
#define Z_HEAP_BLOCK_CHUNKS_(bytes, hdr)                                       \
	(((hdr) + ((bytes) > 0u ? (bytes) : 1u) + SYS_HEAP_CANARY_BYTES +      \
	  7u) /                                                                \
	 8u)
/* The size class of a block of c chunks (as the core's size_class()),
 * with S = CONFIG_SYS_HEAP_SL_BITS: shift = max(msb(c), S) - S counts the
 * powers of two 2^k, S < k <= 31, that c reaches. */
#define Z_HEAP_GE_(c, k) ((k) > CONFIG_SYS_HEAP_SL_BITS && (c) >= (1u << (k)))
#define Z_HEAP_GE4_(c, k)                                                      \
	(Z_HEAP_GE_(c, k) + Z_HEAP_GE_(c, (k) + 1) + Z_HEAP_GE_(c, (k) + 2) +  \
	 Z_HEAP_GE_(c, (k) + 3))
#define Z_HEAP_CLASS_SHIFT_(c)                                                 \
	(Z_HEAP_GE4_(c, 1) + Z_HEAP_GE4_(c, 5) + Z_HEAP_GE4_(c, 9) +           \
	 Z_HEAP_GE4_(c, 13) + Z_HEAP_GE4_(c, 17) + Z_HEAP_GE4_(c, 21) +        \
	 Z_HEAP_GE4_(c, 25) + Z_HEAP_GE_(c, 29) + Z_HEAP_GE_(c, 30) +          \
	 Z_HEAP_GE_(c, 31))
#define Z_HEAP_CLASS_(c)                                                       \
	((Z_HEAP_CLASS_SHIFT_(c) << CONFIG_SYS_HEAP_SL_BITS) +                 \
	 ((c) >> Z_HEAP_CLASS_SHIFT_(c)))
/* Control block, bitmap (a byte per first level up to the block's
 * class), heads and chunk 0's header, rounded so that the block is
 * 8-aligned, then the block, then the sentinel's header. */
#define Z_HEAP_REGION_FOR_(bytes, hdr, id)                                     \
	((Z_HEAP_CONTROL_BYTES +                                               \
	  (Z_HEAP_CLASS_(Z_HEAP_BLOCK_CHUNKS_(bytes, hdr)) >>                  \
	   CONFIG_SYS_HEAP_SL_BITS) +                                          \
	  1u + Z_HEAP_CLASS_(Z_HEAP_BLOCK_CHUNKS_(bytes, hdr)) * (id) +        \
	  (hdr) + 7u) /                                                        \
		 8u * 8u +                                                     \
	 8u * Z_HEAP_BLOCK_CHUNKS_(bytes, hdr))

/* The largest region sys_heap_init() accepts: 16 GiB - 1 (on a 32-bit
 * target the address space is the only limit). */
#define SYS_HEAP_MAX_REGION_BYTES (((uint64_t)1u << 34) - 1u)

/* Bytes at the end of every used block that belong to the heap: the
 * canary of FULL hardening and above (kheap/config.h), else none. A block's
 * overhead is sys_heap_header_bytes() plus this. */
#define SYS_HEAP_CANARY_BYTES                                                  \
	(CONFIG_SYS_HEAP_HARDENING_LEVEL >= SYS_HEAP_HARDENING_FULL ? 4u : 0u)

/* How many heads of the request's own size class alloc inspects before it
 * falls back to the next larger class (the constant in the time bound):
 * CONFIG_SYS_HEAP_FIT_PROBES, 2 by default (kheap/config.h). */
#define SYS_HEAP_FIT_PROBES ((unsigned int)CONFIG_SYS_HEAP_FIT_PROBES)

/**
 * Initialise a heap over [mem, mem + bytes).
 *
 * The region may have any alignment; up to 7 bytes at its start are
 * skipped to align the control block and the blocks. Nothing outside the
 * region is ever read or written. The control block takes
 * Z_HEAP_CONTROL_BYTES plus one class-list head per size class the
 * region can use, so small regions pay less.
 *
 * Returns 0 on success. Returns -EINVAL (-22) and leaves *heap as an empty
 * heap on which every allocation returns NULL when: heap or mem is NULL,
 * bytes > SYS_HEAP_MAX_REGION_BYTES, mem + bytes wraps around the address
 * space, or the region cannot hold the control block and one block for a
 * 1-byte request: always below Z_HEAP_MIN_SIZE bytes, and up to
 * SYS_HEAP_MIN_REGION_BYTES - 1 when mem is not 8-byte aligned; built
 * with CONFIG_SYS_HEAP_SMALL_ONLY, also when bytes >
 * SYS_HEAP_SMALL_REGION_MAX_BYTES (4-byte headers cannot address it). (Zephyr
 * returns void; the int result is an extension that callers may ignore.)
 *
 * Built with CONFIG_ASSERT (kheap/config.h), every refusal but heap ==
 * NULL is also reported through the fault handler, as
 * SYS_HEAP_FAULT_BAD_REGION with operation "init" and mem the region:
 * where Zephyr asserts. Without it nothing is reported.
 *
 * With CONFIG_SYS_HEAP_ARRAY_SIZE > 0, a successful init also saves the
 * handle for sys_heap_array_get() (sys_heap_array_save()).
 *
 * O(log bytes): clears the size-class index.
 */
int sys_heap_init(struct sys_heap *heap, void *mem, size_t bytes);

/**
 * Allocate bytes from the heap, 8-byte aligned, contents unspecified.
 *
 * The free chunks the search reads are checked before they are used, as
 * far as the hardening level asks: BASIC, that each is marked free, that
 * every id is inside the heap and that the chunk taken fits between the
 * request and the heap's end; MODERATE and above, that each is a sound
 * free-list member (size, right neighbour, links both ways); FULL and
 * above, also the taken chunk's left neighbour, the list heads and the
 * bitmaps. A failed check is reported as SYS_HEAP_FAULT_CORRUPT_LINKS
 * with operation "alloc" and mem NULL, before anything changed, and the
 * call returns NULL. FULL and above: a damaged control block is reported
 * as SYS_HEAP_FAULT_CORRUPT_HEADER. At EXTREME a heap that fails
 * sys_heap_validate is reported as SYS_HEAP_FAULT_INVALID_HEAP and the
 * call returns NULL.
 *
 * Returns NULL iff bytes == 0, the heap is not initialised, or no free
 * block of sufficient size is found by the constant-time search. The
 * search is "good fit": it takes the first head of the request's own size
 * class that is large enough (up to SYS_HEAP_FIT_PROBES heads), else any
 * block of the next non-empty larger class, so it can fail while a large
 * enough block sits deeper in the request's own class list.
 */
void *sys_heap_alloc(struct sys_heap *heap, size_t bytes);

/**
 * Allocate bytes aligned to align.
 *
 * align is 0 (same as sys_heap_alloc), a power of two, or Zephyr's
 * "rewind" form A | R with A > R both powers of two: the returned pointer
 * p then satisfies (p + R) % A == 0 (k_heap uses this to keep its heap
 * pointer just below an aligned block). Alignments of 8 or less cost
 * nothing extra. The unused space before and after the aligned block goes
 * back to the free lists.
 *
 * Returns NULL iff bytes == 0, align has any other form, align exceeds
 * the region, bytes + align overflows, or no block is found.
 */
void *sys_heap_aligned_alloc(struct sys_heap *heap, size_t align, size_t bytes);

/** sys_heap_alloc() with an ignored align argument (Zephyr's helper for
 * callers that take an allocation function pointer). */
void *sys_heap_noalign_alloc(struct sys_heap *heap, size_t align, size_t bytes);

/**
 * Free a block. mem == NULL is a no-op.
 *
 * Checks (O(1); which ones depends on CONFIG_SYS_HEAP_HARDENING_LEVEL,
 * kheap/config.h; the default is BASIC), each reported through the fault
 * handler with its own fault kind, after which the call does nothing:
 * - SYS_HEAP_FAULT_BAD_POINTER (every level): mem is not inside this
 *   heap's block area (another heap's block, a stack or static address).
 * - SYS_HEAP_FAULT_NOT_ALLOCATED (BASIC+): the block is free (double free,
 *   or a stale pointer into a block that was freed and not reused). In
 *   8-byte header heaps a stale header overwritten by a neighbour's
 *   free-list links is reported as SYS_HEAP_FAULT_CORRUPT_HEADER instead
 *   (still refused, heap unchanged). A pointer whose block was freed and
 *   then handed out again at the same address is a valid pointer to the
 *   new block: no level can tell.
 * - SYS_HEAP_FAULT_CORRUPT_HEADER (BASIC+): the block's own header, or its
 *   left neighbour's, is inconsistent (an interior pointer, a write just
 *   before the block, an overflow of the previous block). When the own
 *   size disagrees with the next header's left_size, both neighbours
 *   decide: the own size is the damaged one if it is impossible (more
 *   chunks than are in use) or runs over a block boundary that the next
 *   header confirms. FULL+: also a pointer into the block's canary, and
 *   a damaged control block.
 * - SYS_HEAP_FAULT_OVERFLOW (BASIC+): the next block's header no longer
 *   agrees with this block's size (the block was written past its end;
 *   also a block's own size changed to a smaller value, which cannot be
 *   told apart from it).
 * - SYS_HEAP_FAULT_CORRUPT_LINKS (BASIC+): a free neighbour that would be
 *   merged was written after it was freed, or overflowed into: BASIC
 *   finds its size or a free-list link pointing outside the heap,
 *   MODERATE and above also links that are not its own (it is not a
 *   consistent free-list member).
 * - SYS_HEAP_FAULT_CANARY (FULL+): the canary after the usable bytes
 *   changed (a write past the usable size that stopped short of the next
 *   header).
 * - SYS_HEAP_FAULT_INVALID_HEAP (EXTREME): sys_heap_validate failed on
 *   entry (the call is refused) or on exit.
 * At NONE only BAD_POINTER is detected; any other misuse corrupts the
 * heap. The matrix of misuse classes against levels, each cell backed by
 * a test, is in docs/testing/hardening.md.
 * Coalesces with free neighbours on both sides immediately.
 */
void sys_heap_free(struct sys_heap *heap, void *mem);

/**
 * Resize a block, keeping its contents up to the smaller size.
 *
 * ptr == NULL: sys_heap_alloc(bytes). bytes == 0: frees ptr, returns NULL.
 * Otherwise shrinks in place, grows in place into a free right neighbour
 * when it is large enough, and only else allocates a new block, copies
 * and frees the old one. Returns NULL on failure with the old block
 * untouched and still allocated. ptr is checked as in sys_heap_free
 * (fault, then NULL). A realloc that moves checks ptr's block and its
 * neighbours again after allocating the new block (an allocation on a
 * heap with damaged sizes can write over them): damage found then is
 * reported, the call returns NULL with ptr still allocated, and the new
 * block stays allocated (lost: the one refused call that changes the
 * heap).
 */
void *sys_heap_realloc(struct sys_heap *heap, void *ptr, size_t bytes);

/**
 * sys_heap_realloc() for an aligned block: the result honours align (as
 * in sys_heap_aligned_alloc). Resizes in place only if ptr already has
 * the requested alignment. Invalid align: NULL, block untouched.
 */
void *sys_heap_aligned_realloc(struct sys_heap *heap, void *ptr, size_t align,
			       size_t bytes);

/**
 * Bytes usable at mem: at least what was requested, up to the end of the
 * block. Returns 0 for mem == NULL; a pointer that fails the free()
 * checks is reported through the fault handler and also gives 0. O(1).
 */
size_t sys_heap_usable_size(const struct sys_heap *heap, const void *mem);

/**
 * Check every invariant of the heap: block sizes and neighbour links,
 * coalescing (no two adjacent free blocks), free-list links and
 * membership (each class list holds the free blocks of its class that
 * the block walk finds: counted, and matched by a fingerprint of their
 * positions, so a stray header inside a block that looks free cannot
 * stand in for one), the size-class bitmaps, and the counters behind runtime stats (FULL+: and
 * the control block's seal). Returns true iff all hold. Read-only (safe
 * to call on a heap being debugged; it never writes), O(number of
 * blocks), terminates on any corruption without reading outside the
 * region (as do walk, print_info, stats and max_alloc_bytes, from BASIC
 * up).
 */
bool sys_heap_validate(const struct sys_heap *heap);

/**
 * Fill *stats (see struct sys_memory_stats). free_bytes + allocated_bytes
 * is constant for a heap: the bytes its blocks span. Returns 0, or
 * -EINVAL (-22) if heap, its control block or stats is NULL (FULL+: or
 * the control block is damaged). O(1).
 */
int sys_heap_runtime_stats_get(const struct sys_heap *heap,
			       struct sys_memory_stats *stats);

/** Set max_allocated_bytes to the current allocated_bytes. Returns 0 or
 * -EINVAL (-22) as above. O(1). */
int sys_heap_runtime_stats_reset_max(struct sys_heap *heap);

/* --- the heap array (CONFIG_SYS_HEAP_ARRAY_SIZE, kheap/config.h) ----- */

/**
 * Save heap's handle in the heap array (sys_heap_init() does this for
 * every heap it initialises). A handle already saved is not saved twice
 * (Zephyr saves it again). Returns 0, or -EINVAL (-22) for NULL or when
 * the array is full or absent (CONFIG_SYS_HEAP_ARRAY_SIZE 0). Not locked:
 * call it, like sys_heap_init, before other threads use the array.
 * O(CONFIG_SYS_HEAP_ARRAY_SIZE).
 */
int sys_heap_array_save(struct sys_heap *heap);

/**
 * Set *heaps to the array of saved handles and return how many there
 * are, in the order they were saved (with no array: 0 and NULL).
 * -EINVAL (-22) if heaps is NULL. The handles point at the callers'
 * struct sys_heap objects, which must outlive their use. O(1).
 */
int sys_heap_array_get(struct sys_heap ***heaps);

/* --- stress test rig ----------------------------------------------- */

/* What sys_heap_stress() did. */
struct z_heap_stress_result {
	/* Allocations attempted, and those that returned a block. */
	uint32_t total_allocs;
	uint32_t successful_allocs;
	/* Blocks freed. */
	uint32_t total_frees;
	/* After every operation, the bytes requested by the blocks then
	 * live, summed: divided by the operation count, the mean fill. */
	uint64_t accumulated_in_use_bytes;
};

/**
 * Zephyr's randomized heap stress rig, for any allocator behind two
 * callbacks. Runs op_count operations; each either allocates a block of
 * random size (a power law: mostly small, occasionally up to total_bytes)
 * through alloc_fn(arg, bytes) or frees a random live block through
 * free_fn(arg, ptr). The choice steers the requested bytes in use towards
 * target_percent (1..100) of total_bytes: below it, frees get likelier
 * as the fill rises; at or above it, every operation frees. A failed
 * allocation is counted and uses up its operation.
 *
 * scratch_mem (scratch_bytes, any alignment) holds the records of live
 * blocks, a pointer and a size each (sys_heap_stress_record_bytes());
 * while it is full, operations free. Blocks still live when the rig
 * returns stay allocated (the caller can validate the heap at the fill
 * it reached, then free or re-initialise it); their records are left in
 * scratch_mem. Nothing is written into the blocks.
 *
 * The random sequence is a function of the seed (sys_heap_stress_seed,
 * kheap extension; a fixed default) and the calls made since: the same
 * seed and arguments replay the same operations. result is zeroed first.
 * Does nothing (result zeroed if not NULL) when alloc_fn, free_fn or
 * result is NULL, total_bytes is 0, or scratch_mem cannot hold one
 * record. O(op_count). Not thread-safe (one rig at a time).
 */
void sys_heap_stress(void *(*alloc_fn)(void *arg, size_t bytes),
		     void (*free_fn)(void *arg, void *p), void *arg,
		     size_t total_bytes, uint32_t op_count, void *scratch_mem,
		     size_t scratch_bytes, int target_percent,
		     struct z_heap_stress_result *result);

/** kheap extension: seed the stress rig's random sequence. */
void sys_heap_stress_seed(uint64_t seed);

/** kheap extension: scratch bytes per live block record. */
size_t sys_heap_stress_record_bytes(void);

/* --- kheap extensions ------------------------------------------------ */

/** Header bytes per block of this heap: 4 or 8 (0 if not initialised). */
size_t sys_heap_header_bytes(const struct sys_heap *heap);

/** The largest request that sys_heap_alloc() is certain to satisfy right
 * now (0 if none); a slightly larger one may still succeed. O(1): reads the largest non-empty size class, then scans
 * that one class's list (O(blocks in it)). */
size_t sys_heap_max_alloc_bytes(const struct sys_heap *heap);

/**
 * Whether sys_heap_aligned_alloc(heap, align, bytes) could ever succeed:
 * true iff it would on this heap when empty (bytes != 0, align well
 * formed, the padded request no larger than the heap). The kernel layer
 * uses it to fail impossible requests at once instead of waiting. O(1).
 */
bool sys_heap_request_fits(const struct sys_heap *heap, size_t align,
			   size_t bytes);

/**
 * Whether mem is a live block of this heap by the same O(1) checks as
 * sys_heap_free, without reporting anything. NULL gives false.
 */
bool sys_heap_owns(const struct sys_heap *heap, const void *mem);

/** Output hook for print_info: receives NUL-terminated text pieces. */
typedef void (*sys_heap_output_fn)(void *ctx, const char *text);

/** Set the output used by sys_heap_print_info() (default: none, so the
 * call prints nothing). The simulator points it at printk at start-up, as
 * Zephyr prints to its console; a bare-metal port may do the same. */
void sys_heap_output_set(sys_heap_output_fn out, void *ctx);

/**
 * Describe the heap: region and header format, free and allocated bytes,
 * the largest free block, the free blocks per size class, and with
 * dump_chunks one line per block. Read-only, O(number of blocks).
 */
void sys_heap_print_info(const struct sys_heap *heap, bool dump_chunks);

/** sys_heap_print_info() to an explicit output. */
void sys_heap_print_info_to(const struct sys_heap *heap, bool dump_chunks,
			    sys_heap_output_fn out, void *ctx);

/* --- heap walk (tools: heap maps, leak reports) ------------------------ */

/* One block as sys_heap_walk() sees it. */
struct sys_heap_block {
	/* The block's header; its memory starts header_bytes later. */
	const void *header;
	/* Header, usable bytes, padding and canary: the whole block. */
	size_t block_bytes;
	size_t header_bytes;
	bool used;
};

/* Visit one block; return false to stop the walk. */
typedef bool (*sys_heap_walk_fn)(void *ctx, const struct sys_heap_block *block);

/**
 * Call fn for every block of the heap in address order, used and free.
 * Everything from the region's start to the first block's header is the
 * control block (and alignment slack); the blocks then tile the rest up
 * to the end sentinel's header. Read-only, O(blocks).
 *
 * Returns 0 when every block was visited or fn stopped the walk, -EINVAL
 * (-22) for an uninitialised heap or NULL fn, and -EFAULT (-14) if a
 * block's size is impossible (a corrupt heap: the walk stops there, so it
 * always terminates) or (FULL+) the control block is damaged. fn runs with the same locking as the caller's call
 * and must not change the heap.
 */
int sys_heap_walk(const struct sys_heap *heap, sys_heap_walk_fn fn, void *ctx);

/* --- run-time monitoring (CONFIG_SYS_HEAP_MONITOR) -------------------- */

#if CONFIG_SYS_HEAP_MONITOR

struct sys_heap_monitor {
	/* Allocating calls that returned NULL since init: no room (a realloc
	 * that could neither grow nor move counts), impossible requests (0
	 * bytes, a bad alignment), injected failures. Calls refused
	 * as misuse (a fault) do not count. */
	uint32_t alloc_failures;
	/* Bytes in live blocks now and at most (as runtime stats). */
	size_t allocated_bytes;
	size_t max_allocated_bytes;
	/* Total free bytes and the largest free block, headers included. */
	size_t free_bytes;
	size_t largest_free_bytes;
	/* 1000 * (1 - largest_free_bytes / free_bytes): 0 when all free
	 * memory is one block (or there is none), near 1000 when it is
	 * scattered in small pieces. */
	uint32_t fragmentation_permille;
	/* The usage threshold set by sys_heap_usage_threshold_set (0:
	 * none), rounded up to the heap's 8-byte granularity. */
	size_t threshold_bytes;
};

/**
 * Fill *monitor. Returns 0, or -EINVAL (-22) for an uninitialised heap or
 * NULL monitor. O(free blocks of the largest size class): the largest free
 * block is searched for on that one list. Same locking rules as the other
 * sys_heap calls.
 */
int sys_heap_monitor_get(const struct sys_heap *heap,
			 struct sys_heap_monitor *monitor);

/**
 * Called when an allocating call takes a heap's usage (allocated_bytes)
 * from at or below its threshold to above it: once per crossing, again
 * only after usage has fallen back to the threshold or below. Runs inside
 * that call (under k_heap's lock, possibly in an ISR): it must not call
 * into the same heap and should only record or signal.
 */
typedef void (*sys_heap_usage_fn)(const struct sys_heap *heap,
				  size_t allocated_bytes,
				  size_t threshold_bytes);

/** The one function called for every heap's threshold (NULL: none). Set
 * it before heaps are used; it is one global, not locked. */
void sys_heap_usage_callback_set(sys_heap_usage_fn callback);

/**
 * Set heap's usage threshold in bytes (0 disables it; rounded up to 8). A
 * threshold at or above the heap's block area can never be crossed; it
 * is stored, and reported by sys_heap_monitor_get, as the block area's
 * size. Returns 0, or -EINVAL (-22) for an uninitialised heap. O(1).
 */
int sys_heap_usage_threshold_set(struct sys_heap *heap, size_t bytes);

#endif /* CONFIG_SYS_HEAP_MONITOR */

/* --- misuse reporting ------------------------------------------------ */

enum sys_heap_fault_kind {
	SYS_HEAP_FAULT_BAD_POINTER = 1,
	SYS_HEAP_FAULT_NOT_ALLOCATED,
	/* A block's own header, or (FULL and up) the control block. */
	SYS_HEAP_FAULT_CORRUPT_HEADER,
	SYS_HEAP_FAULT_OVERFLOW,
	/* BASIC and up: a free chunk that free/realloc would merge with, or
	 * that alloc reads, is not consistently linked or sized (the checks
	 * grow with the level; see sys_heap_alloc): a write after free, or
	 * an overflow into a free chunk. FULL and up: also a damaged list
	 * head or bitmap. */
	SYS_HEAP_FAULT_CORRUPT_LINKS,
	/* FULL and up: the canary word at the end of the block changed. */
	SYS_HEAP_FAULT_CANARY,
	/* EXTREME: sys_heap_validate failed on entry to or on exit from a
	 * call; the heap was corrupted before or during it. */
	SYS_HEAP_FAULT_INVALID_HEAP,
	/* Built with CONFIG_ASSERT: sys_heap_init was given a region it
	 * cannot use (mem is the region, operation "init"). */
	SYS_HEAP_FAULT_BAD_REGION,
};

struct sys_heap_fault {
	const struct sys_heap *heap;
	/* The pointer the caller passed. */
	const void *mem;
	enum sys_heap_fault_kind kind;
	/* The API call that detected it: "free", "realloc", "usable_size",
	 * "alloc" (any allocating call, MODERATE and up), "init"
	 * (CONFIG_ASSERT), "multi_heap_free" and "multi_heap_realloc"
	 * (zephyr/sys/multi_heap.h). */
	const char *operation;
};

typedef void (*sys_heap_fault_handler_t)(const struct sys_heap_fault *fault);

/**
 * Install the handler told about detected misuse; NULL restores the
 * default, which does nothing (the call is still refused). The kernel
 * layer installs one that passes every fault to the port's
 * kheap_port_fault (which prints "kheap fault: <operation>(<mem>) on heap
 * <h>: <message>" and normally stops) when a k_heap is initialised; the
 * simulator installs it at start-up, so raw sys_heaps report too
 * (z_kheap_fault_route_install, kheap/k_heap.h). A handler that returns
 * lets the refused call return to its caller. Set it before heaps are
 * used; it is one global, not locked.
 */
void sys_heap_fault_handler_set(sys_heap_fault_handler_t handler);

/**
 * The fixed sentence describing a fault kind ("" for unknown kinds), for
 * handlers that print one. Not called by the heap itself: the text lives
 * in its own file (core/src/heap_fault_message.c), which a program that
 * never calls this does not link. O(1), thread- and ISR-safe.
 */
const char *sys_heap_fault_message(enum sys_heap_fault_kind kind);

#ifdef __cplusplus
}
#endif

#endif /* ZEPHYR_SYS_SYS_HEAP_H */
