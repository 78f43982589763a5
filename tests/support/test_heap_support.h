/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Host test support shared by the sys_heap tests (CMocka based):
 * the core's assert hook, fault capture, region snapshots, block geometry
 * checks and seed handling. The freestanding pieces (PRNG, tokens) live
 * in test_rng.h and test_token.h so that target builds can reuse them.
 */
#ifndef KHEAP_TEST_HEAP_SUPPORT_H
#define KHEAP_TEST_HEAP_SUPPORT_H

/* CMocka needs these before its own header. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdbool.h>

#include <zephyr/sys/sys_heap.h>

#include "test_fault_names.h"

#include "test_meta.h"
#include "test_rng.h"
#include "test_token.h"

/* The core's KHEAP_ASSERT hook (KHEAP_ASSERT_HANDLER=kheap_assert_fail):
 * prints the failed invariant and aborts the test program. */
void kheap_assert_fail(const char *file, int line, const char *expr);

/* A function that prints what the test was doing (seed, step), called
 * before the support code fails a test on its own (an unexpected fault, a
 * core assert). NULL for none. */
void test_failure_context_set(void (*print_context)(void));

/* --- fault capture ----------------------------------------------------- */

/*
 * A sys_heap fault handler that records what the heap reports. Faults are
 * only legal while the capture is armed; an unexpected fault fails the
 * running test at once with the fault's description.
 */
struct fault_capture {
	/* Faults seen since the last arm. */
	unsigned int count;
	/* A copy of the last one. */
	struct sys_heap_fault last;
	bool armed;
};

extern struct fault_capture fault_capture;

/* Install the handler (disarmed, count 0). */
void fault_capture_install(void);
/* Restore the heap's default handler. */
void fault_capture_uninstall(void);
/* Expect faults from now on; resets count and last. */
void fault_capture_arm(void);
/* Unexpected again; returns the count seen while armed. */
unsigned int fault_capture_disarm(void);

/*
 * Assert that exactly one fault was captured since the last arm, for heap
 * and mem, of kind, raised by operation, with the fixed message of kind.
 */
void fault_capture_assert_one(const struct sys_heap *heap, const void *mem,
			      enum sys_heap_fault_kind kind,
			      const char *operation);

/* Name of a fault kind ("NOT_ALLOCATED", ...), for messages. */

/* --- region snapshots -------------------------------------------------- */

/* A copy of a memory range, to prove that a refused call wrote nothing. */
struct region_snapshot {
	const uint8_t *base;
	size_t bytes;
	uint8_t *copy;
};

void region_snapshot_take(struct region_snapshot *snap, const void *base,
			  size_t bytes);
/* Fail (naming what and the first differing offset) unless the range is
 * byte-identical to the snapshot. */
void region_snapshot_assert_same(const struct region_snapshot *snap,
				 const char *what);
void region_snapshot_release(struct region_snapshot *snap);

/* Fail (naming the first differing offset) unless every byte of
 * [mem, mem + bytes) is value: the guard bytes around a region. */
void test_assert_bytes_are(const void *mem, size_t bytes, uint8_t value);

/* --- block geometry ---------------------------------------------------- */

static inline size_t test_round_up_8(size_t bytes)
{
	return (bytes + 7u) & ~(size_t)7u;
}

/* Bytes a live block spans as counted by runtime stats:
 * round_up_8(usable_size + header_bytes). */
size_t test_block_bytes(const struct sys_heap *heap, const void *mem);

/* Fail unless [mem, mem + usable_size(mem)) lies inside
 * [region, region + region_bytes) and usable_size(mem) >= requested_bytes. */
void test_assert_block_in_region(const struct sys_heap *heap, const void *mem,
				 size_t requested_bytes, const void *region,
				 size_t region_bytes);

/* True iff mem satisfies align in sys_heap_aligned_alloc's sense: 0, a
 * power of two, or the rewind form A | R ((mem + R) % A == 0). Alignments
 * of 8 or less still require SYS_HEAP_CHUNK_BYTES alignment unless in
 * rewind form. */
bool test_pointer_honours_align(const void *mem, size_t align);

/* --- seeds ------------------------------------------------------------- */

/* Parse environment variable name as a seed (decimal or 0x hex).
 * Returns true and sets *seed if it is set and valid; a set but invalid
 * value fails the test. */
bool test_seed_from_env(const char *name, uint64_t *seed);

/* A seed that differs per run (time, clock, process, stack address); a
 * build that defines KHEAP_TEST_FIXED_SEED (the target images) gets that
 * value instead. */
uint64_t test_seed_random(void);

#endif /* KHEAP_TEST_HEAP_SUPPORT_H */
