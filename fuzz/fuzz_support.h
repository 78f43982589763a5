/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Shared pieces of kheap's fuzz targets in fuzz/: the input decoder,
 * the oracle failure report, guarded regions, the shadow model of live
 * blocks and a heap-listener tracker. The PRNG and the block tokens come
 * from tests/support (test_rng.h, test_token.h).
 *
 * Every target is a libFuzzer entry point, LLVMFuzzerTestOneInput(), that
 * decodes its bytes into heap operations and checks each one against its
 * oracles. An oracle failure prints what failed, the input's operation
 * number and name, and calls abort(): libFuzzer reports a crash, the
 * replay program (replay_main.c) dies with SIGABRT and ctest fails.
 */
#ifndef KHEAP_FUZZ_SUPPORT_H
#define KHEAP_FUZZ_SUPPORT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <zephyr/sys/heap_listener.h>
#include <zephyr/sys/sys_heap.h>

#include "test_fault_names.h"
#include "test_rng.h"
#include "test_token.h"

/* libFuzzer's entry point, defined once per target. */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* --- input decoding ----------------------------------------------------- */

/*
 * A cursor over the fuzzer's bytes. Reads past the end return zeros, so
 * every input decodes to something; fuzz_more() tells when to stop.
 */
struct fuzz_input {
	const uint8_t *data;
	size_t size;
	size_t pos;
};

void fuzz_input_init(struct fuzz_input *in, const uint8_t *data, size_t size);
bool fuzz_more(const struct fuzz_input *in);
uint8_t fuzz_u8(struct fuzz_input *in);
uint16_t fuzz_u16(struct fuzz_input *in);
uint32_t fuzz_u32(struct fuzz_input *in);
uint64_t fuzz_u64(struct fuzz_input *in);

/*
 * A request size (2 to 9 bytes of input). The first byte picks a shape:
 *   00xxxxxx  x                      tiny: 0..63
 *   01xxxxxx  u16 % (limit + 64)     anywhere up to just past limit
 *   10eeeeee  (1 << (e % 20)) + d    around a power of two (d: s8)
 *   11kkkkkk  special k: SIZE_MAX - d, PTRDIFF_MAX + d, limit + d,
 *             SIZE_MAX / 2 + d, 1 << 32 + d, u64
 * limit is normally the region size; it keeps most requests plausible.
 */
size_t fuzz_size(struct fuzz_input *in, size_t limit);

/*
 * An align argument (1 or 2 bytes):
 *   bits 0-1 = 0: 0 or a power of two 1..4096 (bits 2-5: exponent 0..12,
 *                 13+ meaning 0)
 *   bits 0-1 = 1: rewind form A | R, A = 2..4096, R < A a power of two
 *   bits 0-1 = 2: a raw 16-bit value (mostly malformed)
 *   bits 0-1 = 3: a power of two 8 KiB .. 2^28 (often above the heap)
 */
size_t fuzz_align(struct fuzz_input *in);

/*
 * Decode an align argument as sys_heap_aligned_alloc's contract defines
 * it: 0, a power of two, or A | R with A > R both powers of two. Returns
 * false for any other value. *a is the alignment (at least 8 when there
 * is no rewind: every block is 8-byte aligned), *r the rewind (0 if
 * none).
 */
bool fuzz_align_form(size_t align, size_t *a, size_t *r);

/* Whether mem honours align (decoded with fuzz_align_form). */
bool fuzz_align_ok(const void *mem, size_t a, size_t r);

/* --- oracle failures ---------------------------------------------------- */

/* What the input is doing now, printed with every failure. */
struct fuzz_context {
	const char *target;
	unsigned int op_index;
	const char *op_name;
};

extern struct fuzz_context fuzz_ctx;

/* Start a new input of target: op 0, no op name. */
void fuzz_context_begin(const char *target);
/* The operation about to run (a string literal). */
void fuzz_context_op(const char *name);

/* With KHEAP_FUZZ_TRACE=1 in the environment, print a detail line under
 * the current operation (which is printed too); else nothing. */
__attribute__((__format__(__printf__, 1, 2))) void fuzz_trace(const char *fmt,
							      ...);

/* Print "<target>: oracle failed at op N (<name>): <message>" and abort. */
__attribute__((__noreturn__, __format__(__printf__, 1, 2))) void
fuzz_fail(const char *fmt, ...);

#define FUZZ_CHECK(cond, ...)                                                  \
	do {                                                                   \
		if (!(cond)) {                                                 \
			fuzz_fail(__VA_ARGS__);                                \
		}                                                              \
	} while (0)

/* The core's KHEAP_ASSERT hook: an internal invariant broke. Defined here
 * so that every target reports it as an oracle failure. */
void kheap_assert_fail(const char *file, int line, const char *expr);

/* A sys_heap fault handler for targets that expect no misuse: any fault
 * is an oracle failure. */
void fuzz_fault_unexpected(const struct sys_heap_fault *fault);

/* Name of a fault kind, for messages. */

/* --- regions ------------------------------------------------------------ */

/* Guard bytes kept on both sides of every region and checked after every
 * operation: the heap must never touch memory outside its region. */
#define FUZZ_GUARD_BYTES 64u

/* Largest region a target decodes (a few KiB above the 256 KiB cutover
 * between header formats). */
#define FUZZ_REGION_MAX (SYS_HEAP_SMALL_REGION_MAX_BYTES + 8192u)

/* A buffer for one guarded region of up to FUZZ_REGION_MAX bytes at any
 * base offset 0..7. */
#define FUZZ_BUFFER_BYTES (FUZZ_REGION_MAX + 8u + 2u * FUZZ_GUARD_BYTES)

struct fuzz_region {
	unsigned char *buffer;
	unsigned char *mem;
	size_t bytes;
	/* Base offset 0..7 from an 8-aligned address. */
	size_t offset;
};

/* fuzz_region_decode flags. */
/* Only shapes 0-3 (small regions up to 8 KiB). */
#define FUZZ_REGION_SMALL_ONLY 1u
/* No sizes sys_heap_init refuses (shape 7 becomes a small region). */
#define FUZZ_REGION_VALID_ONLY 2u

/*
 * Decode a region (3 bytes): base offset 0..7 (bits 0-2 of the first
 * byte) and a size of shape (bits 3-5):
 *   0-3: small, SYS_HEAP_MIN_REGION_BYTES .. 8192 bytes (4-byte headers)
 *   4:   small, just below the cutover (262144 - 0..1023)
 *   5-6: big, just above the cutover (262145 + 0..8191, 8-byte headers)
 *   7:   around the minimum, 0 .. SYS_HEAP_MIN_REGION_BYTES - 1 bytes:
 *        sys_heap_init refuses all but the largest, depending on the
 *        offset (fuzz_region_init_ok)
 * then lay it out in buffer (FUZZ_BUFFER_BYTES, 8-aligned) and fill the
 * guards.
 */
void fuzz_region_decode(struct fuzz_input *in, unsigned char *buffer,
			struct fuzz_region *region, unsigned int flags);

/* Whether sys_heap_init accepts the region: Z_HEAP_MIN_SIZE bytes from
 * the first 8-aligned address in it. */
bool fuzz_region_init_ok(const struct fuzz_region *region);

/* Fail unless both guards are intact. */
void fuzz_region_check_guards(const struct fuzz_region *region);

/* Whether [mem, mem + bytes) lies inside the region. */
bool fuzz_region_contains(const struct fuzz_region *region, const void *mem,
			  size_t bytes);

/* --- the shadow model ---------------------------------------------------- */

#define FUZZ_MAX_BLOCKS 1024u

struct fuzz_block {
	unsigned char *mem;
	/* Bytes the caller asked for. */
	size_t requested;
	/* Bytes filled with tokens: the usable size (sys_heap) or the
	 * requested size (kernel APIs, which expose no usable size). */
	size_t filled;
	/* sys_heap_usable_size() when the block was made (0 if unknown). */
	size_t usable;
	/* The decoded alignment and rewind the block must honour. */
	size_t align;
	size_t rewind;
	/* Token id of the fill. */
	uint32_t id;
	/* Which API family owns the block (target-defined). */
	uint8_t kind;
};

struct fuzz_model {
	struct fuzz_block blocks[FUZZ_MAX_BLOCKS];
	size_t count;
	uint32_t next_id;
};

void fuzz_model_reset(struct fuzz_model *model);
bool fuzz_model_full(const struct fuzz_model *model);
/* Add a block (the caller has checked it) and fill it with tokens over
 * filled bytes. Returns the new entry. */
struct fuzz_block *fuzz_model_add(struct fuzz_model *model,
				  const struct fuzz_block *block);
/* fuzz_model_add for a sys_heap block the caller has checked: `usable`
 * bytes at mem (all filled) for a request of `bytes` at alignment a with
 * rewind r, of the given kind. */
struct fuzz_block *fuzz_model_add_usable(struct fuzz_model *model, void *mem,
					 size_t bytes, size_t usable, size_t a,
					 size_t r, uint8_t kind);
void fuzz_model_remove(struct fuzz_model *model, size_t index);
/* Index of a live block overlapping [mem, mem + bytes) other than skip
 * (a zero-byte span overlaps a block that contains its address or
 * starts there), or SIZE_MAX. */
size_t fuzz_model_overlap(const struct fuzz_model *model, const void *mem,
			  size_t bytes, size_t skip);
/* Pick a live block index from one input byte pair; SIZE_MAX if empty. */
size_t fuzz_model_pick(const struct fuzz_model *model, struct fuzz_input *in);

/* Fail unless the block's tokens are intact. */
void fuzz_block_check(const struct fuzz_block *block, const char *when);
/* Refill a block with the tokens of a fresh id. */
void fuzz_block_refill(struct fuzz_model *model, struct fuzz_block *block);

/* round_up_8(usable + header): the bytes a live block adds to
 * allocated_bytes in sys_heap's runtime stats. */
static inline size_t fuzz_block_span(size_t usable, size_t header_bytes)
{
	return (usable + header_bytes + SYS_HEAP_CANARY_BYTES + 7u) &
	       ~(size_t)7u;
}

/* --- heap listener tracker ------------------------------------------------ */

/*
 * Listens to one sys_heap's alloc, free and realloc events and keeps the
 * set of blocks they describe (pointer and usable size). Every event is
 * checked for consistency on arrival (an alloc of a tracked pointer, a
 * free of an untracked one or with another size fails the input).
 */
struct fuzz_tracker_block {
	void *mem;
	size_t usable;
};

struct fuzz_tracker {
	const struct sys_heap *heap;
	struct heap_listener on_alloc;
	struct heap_listener on_free;
	struct heap_listener on_realloc;
	struct fuzz_tracker_block blocks[FUZZ_MAX_BLOCKS];
	size_t count;
	/* Events seen since start, and the last one. */
	unsigned int events;
	enum heap_event_types last_event;
	void *last_old;
	size_t last_old_bytes;
	void *last_mem;
	size_t last_bytes;
};

/* Register the listeners for heap (at most two trackers at a time). */
void fuzz_tracker_start(struct fuzz_tracker *tracker,
			const struct sys_heap *heap);
void fuzz_tracker_stop(struct fuzz_tracker *tracker);
/* Index of the tracked block at mem, or SIZE_MAX. */
size_t fuzz_tracker_find(const struct fuzz_tracker *tracker, const void *mem);
/* The tracked block that contains [mem, mem + bytes), or SIZE_MAX. */
size_t fuzz_tracker_containing(const struct fuzz_tracker *tracker,
			       const void *mem, size_t bytes);
/* Sum of fuzz_block_span() over the tracked blocks. */
size_t fuzz_tracker_span(const struct fuzz_tracker *tracker,
			 size_t header_bytes);

/* --- stats ------------------------------------------------------------- */

/* sys_heap_runtime_stats_get(), failing the input if it does not return 0. */
struct sys_memory_stats fuzz_stats(const struct sys_heap *heap);

#endif /* KHEAP_FUZZ_SUPPORT_H */
