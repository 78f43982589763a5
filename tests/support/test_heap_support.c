/* SPDX-License-Identifier: Apache-2.0 */
#define _POSIX_C_SOURCE 200809L

#include "test_heap_support.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static void (*failure_context)(void);

void test_failure_context_set(void (*print_context)(void))
{
	failure_context = print_context;
}

static void print_failure_context(void)
{
	if (failure_context != NULL) {
		failure_context();
	}
}

void kheap_assert_fail(const char *file, int line, const char *expr)
{
	print_failure_context();
	fprintf(stderr, "kheap internal assert failed: %s:%d: %s\n", file, line,
		expr);
	fflush(stderr);
	abort();
}

/* --- fault capture ----------------------------------------------------- */

struct fault_capture fault_capture;

static void fault_capture_handler(const struct sys_heap_fault *fault)
{
	if (!fault_capture.armed) {
		print_failure_context();
		fail_msg("unexpected heap fault: heap %p: %s(%p): %s",
			 (const void *)fault->heap, fault->operation,
			 fault->mem, fault_kind_name(fault->kind));
	}
	fault_capture.count++;
	fault_capture.last = *fault;
}

void fault_capture_install(void)
{
	memset(&fault_capture, 0, sizeof(fault_capture));
	sys_heap_fault_handler_set(fault_capture_handler);
}

void fault_capture_uninstall(void)
{
	sys_heap_fault_handler_set(NULL);
	memset(&fault_capture, 0, sizeof(fault_capture));
}

void fault_capture_arm(void)
{
	memset(&fault_capture, 0, sizeof(fault_capture));
	fault_capture.armed = true;
}

unsigned int fault_capture_disarm(void)
{
	fault_capture.armed = false;
	return fault_capture.count;
}

void fault_capture_assert_one(const struct sys_heap *heap, const void *mem,
			      enum sys_heap_fault_kind kind,
			      const char *operation)
{
	const struct sys_heap_fault *f = &fault_capture.last;

	if (fault_capture.count != 1u) {
		fail_msg("expected 1 fault %s in %s(%p), saw %u",
			 fault_kind_name(kind), operation, mem,
			 fault_capture.count);
	}
	if (f->kind != kind) {
		fail_msg("%s(%p): expected fault %s, got %s", operation, mem,
			 fault_kind_name(kind), fault_kind_name(f->kind));
	}
	assert_ptr_equal(f->heap, heap);
	assert_ptr_equal(f->mem, mem);
	assert_non_null(f->operation);
	assert_string_equal(f->operation, operation);
}

/* --- region snapshots -------------------------------------------------- */

void region_snapshot_take(struct region_snapshot *snap, const void *base,
			  size_t bytes)
{
	snap->base = base;
	snap->bytes = bytes;
	snap->copy = malloc(bytes != 0u ? bytes : 1u);
	assert_non_null(snap->copy);
	/* Headers and free memory included: invisible to memory checkers. */
	test_meta_read(snap->copy, base, bytes);
}

void region_snapshot_assert_same(const struct region_snapshot *snap,
				 const char *what)
{
	size_t i = test_meta_diff(snap->base, snap->copy, snap->bytes);

	if (i != SIZE_MAX) {
		fail_msg("%s: region changed at offset %zu "
			 "(of %zu): 0x%02x -> 0x%02x",
			 what, i, snap->bytes, snap->copy[i],
			 test_meta_get8(snap->base + i));
	}
}

void region_snapshot_release(struct region_snapshot *snap)
{
	free(snap->copy);
	snap->copy = NULL;
}

void test_assert_bytes_are(const void *mem, size_t bytes, uint8_t value)
{
	const uint8_t *p = mem;

	for (size_t i = 0; i < bytes; i++) {
		if (p[i] != value) {
			fail_msg("byte %zu of %p is %#x, expected %#x", i, mem,
				 (unsigned int)p[i], (unsigned int)value);
		}
	}
}

/* --- block geometry ---------------------------------------------------- */

size_t test_block_bytes(const struct sys_heap *heap, const void *mem)
{
	return test_round_up_8(sys_heap_usable_size(heap, mem) +
			       sys_heap_header_bytes(heap) +
			       SYS_HEAP_CANARY_BYTES);
}

void test_assert_block_in_region(const struct sys_heap *heap, const void *mem,
				 size_t requested_bytes, const void *region,
				 size_t region_bytes)
{
	uintptr_t lo = (uintptr_t)region;
	uintptr_t hi = lo + region_bytes;
	uintptr_t p = (uintptr_t)mem;
	size_t usable = sys_heap_usable_size(heap, mem);

	if (usable < requested_bytes) {
		fail_msg("block %p: usable_size %zu < requested %zu", mem,
			 usable, requested_bytes);
	}
	if (p < lo || p > hi || usable > hi - p) {
		fail_msg("block %p + %zu outside region [%p, %p)", mem, usable,
			 region, (const void *)hi);
	}
}

bool test_pointer_honours_align(const void *mem, size_t align)
{
	uintptr_t p = (uintptr_t)mem;
	size_t rewind = align & (0u - align);

	if (align != rewind) {
		/* Rewind form A | R: R is the lowest bit. */
		size_t a = align - rewind;

		return ((p + rewind) & (a - 1u)) == 0u;
	}
	if (align < SYS_HEAP_CHUNK_BYTES) {
		align = SYS_HEAP_CHUNK_BYTES;
	}
	return (p & (align - 1u)) == 0u;
}

/* --- seeds ------------------------------------------------------------- */

bool test_seed_from_env(const char *name, uint64_t *seed)
{
	const char *text = getenv(name);
	char *end = NULL;

	if (text == NULL || text[0] == '\0') {
		return false;
	}
	unsigned long long value = strtoull(text, &end, 0);

	if (end == text || *end != '\0') {
		fail_msg("%s=\"%s\" is not a number (decimal or 0x hex)", name,
			 text);
	}
	*seed = (uint64_t)value;
	return true;
}

uint64_t test_seed_random(void)
{
#ifdef KHEAP_TEST_FIXED_SEED
	/* Targets (target/) have no entropy worth having: their runs are
	 * reproducible, the "random" seed is this constant. */
	return (uint64_t)KHEAP_TEST_FIXED_SEED;
#else
	struct timespec ts;
	int on_stack = 0;
	uint64_t mixed;

	if (clock_gettime(CLOCK_REALTIME, &ts) != 0) {
		ts.tv_sec = time(NULL);
		ts.tv_nsec = 0;
	}
	mixed = (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
	mixed ^= (uint64_t)getpid() << 32;
	mixed ^= (uint64_t)(uintptr_t)&on_stack;
	mixed ^= (uint64_t)clock();
	return test_mix64(mixed);
#endif
}
