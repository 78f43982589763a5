/* SPDX-License-Identifier: Apache-2.0 */
/*
 * kheap/sanitizer.h for Valgrind memcheck: each live block is a
 * malloc-like block of exactly its usable size, and every other byte of
 * the region (headers, free chunks, the control block, padding) is
 * no-access. memcheck then reports a user's read or write of those bytes
 * ("Invalid read/write"), describes an address by the block it is in or
 * next to ("inside a block of size N free'd", "0 bytes after a block of
 * size N alloc'd"), reports uses of never-written block bytes and lists
 * heap blocks that were never freed as leaks.
 *
 * memcheck cannot exempt the allocator's own code, which reads and writes
 * that no-access metadata all the time. The core brackets those accesses
 * with kheap_san_enter()/kheap_san_exit(), and this file turns error
 * reporting off for the calling thread in between. That is enough: a load
 * from no-access memory yields the bytes that are there, marked defined,
 * and a store to it goes through without changing its no-access state.
 *
 * memcheck keeps a record of every malloc-like block until it is freed.
 * A heap can end without its blocks being freed: sys_heap_init over the
 * same memory again, or a test that drops a region. Its records would
 * then show as leaks, and blocks of the new heap overlapping them stop
 * memcheck's leak check ("Block ... overlaps with block ..."). So this
 * file also remembers, per region, where live blocks start (a bitmap, one
 * bit per 8 bytes, in memory of its own), and forgets the blocks of every
 * region that a new one overlaps (kheap_san_region_open) or that a test
 * releases (kheap_san_forget). The bookkeeping only ever serves that: a
 * region it lost track of (more than REGION_MAX at once) still gets every
 * report, only its blocks are not forgotten.
 *
 * The client requests are a few instructions each and do nothing outside
 * Valgrind, so a build with these hooks also runs natively.
 */
#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>

#include <kheap/sanitizer.h>

#include <valgrind/memcheck.h>

/* Not part of kheap/sanitizer.h: the heap regions overlapping
 * [mem, mem + bytes) are gone, forget their blocks. test_meta_release()
 * (tests/support/test_meta.h) calls it through a weak reference. */
void kheap_san_forget(void *mem, size_t bytes);

/* Regions tracked at once; beyond that the least recently used one is
 * dropped (its blocks stay known to memcheck). */
#define REGION_MAX 1024u
#define BITS_PER_WORD 64u

struct region {
	/* 8-aligned base (blocks are 8-aligned) and end of the region. */
	uintptr_t base;
	uintptr_t end;
	/* Bit i: a live block starts at base + 8 * i. NULL if the bitmap
	 * could not be mapped: the region's blocks are then not tracked. */
	uint64_t *live;
	size_t map_bytes;
	uint64_t last_use;
};

/* Sorted by base, not overlapping. Guarded by lock: the hooks of
 * different heaps run under different heap locks, on any thread. */
static struct region regions[REGION_MAX];
static size_t region_count;
static uint64_t use_clock;
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;

/* The region containing addr, or NULL. */
static struct region *find_locked(uintptr_t addr)
{
	size_t lo = 0;
	size_t hi = region_count;

	/* The last region whose base is <= addr. */
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2u;

		if (regions[mid].base <= addr) {
			lo = mid + 1u;
		} else {
			hi = mid;
		}
	}
	if (lo == 0u || addr >= regions[lo - 1u].end) {
		return NULL;
	}
	regions[lo - 1u].last_use = ++use_clock;
	return &regions[lo - 1u];
}

/* Forget every block of region i (memcheck frees them), drop it. */
static void drop_locked(size_t i)
{
	struct region *r = &regions[i];

	if (r->live != NULL) {
		size_t words = r->map_bytes / sizeof(uint64_t);

		for (size_t w = 0; w < words; w++) {
			uint64_t bits = r->live[w];

			while (bits != 0u) {
				unsigned int b =
					(unsigned int)__builtin_ctzll(bits);

				bits &= bits - 1u;
				VALGRIND_FREELIKE_BLOCK(
					(void *)(r->base +
						 8u * (w * BITS_PER_WORD + b)),
					0);
			}
		}
		munmap(r->live, r->map_bytes);
	}
	memmove(&regions[i], &regions[i + 1u],
		(region_count - i - 1u) * sizeof(regions[0]));
	region_count--;
}

/* Drop every region overlapping [start, end). */
static void drop_overlapping_locked(uintptr_t start, uintptr_t end)
{
	size_t i = 0;

	while (i < region_count) {
		if (regions[i].base < end && start < regions[i].end) {
			drop_locked(i);
		} else {
			i++;
		}
	}
}

static void track_region(void *mem, size_t bytes)
{
	uintptr_t base = (uintptr_t)mem & ~(uintptr_t)7u;
	uintptr_t end = (uintptr_t)mem + bytes;
	size_t slots = (size_t)((end - base + 7u) / 8u);
	size_t map_bytes = ((slots + BITS_PER_WORD - 1u) / BITS_PER_WORD) *
			   sizeof(uint64_t);
	/* Pages of zeros on demand: a big region costs only what its
	 * blocks touch. Not malloc: that would be memcheck's to check. */
	void *live = mmap(NULL, map_bytes, PROT_READ | PROT_WRITE,
			  MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	pthread_mutex_lock(&lock);
	drop_overlapping_locked(base, end);
	if (region_count == REGION_MAX) {
		size_t oldest = 0;

		for (size_t i = 1; i < region_count; i++) {
			if (regions[i].last_use < regions[oldest].last_use) {
				oldest = i;
			}
		}
		/* Its blocks stay known to memcheck; munmap only. */
		if (regions[oldest].live != NULL) {
			munmap(regions[oldest].live, regions[oldest].map_bytes);
			regions[oldest].live = NULL;
		}
		drop_locked(oldest);
	}
	size_t at = 0;

	while (at < region_count && regions[at].base < base) {
		at++;
	}
	memmove(&regions[at + 1u], &regions[at],
		(region_count - at) * sizeof(regions[0]));
	regions[at] = (struct region){
		.base = base,
		.end = end,
		.live = live == MAP_FAILED ? NULL : live,
		.map_bytes = live == MAP_FAILED ? 0u : map_bytes,
		.last_use = ++use_clock,
	};
	region_count++;
	pthread_mutex_unlock(&lock);
}

/* Record that a block starts (or no longer starts) at mem. Returns
 * whether one was recorded there before. */
static bool mark_block(void *mem, bool live)
{
	uintptr_t addr = (uintptr_t)mem;
	bool was_live = false;

	pthread_mutex_lock(&lock);
	struct region *r = find_locked(addr);

	if (r != NULL && r->live != NULL) {
		size_t slot = (size_t)((addr - r->base) / 8u);
		uint64_t bit = (uint64_t)1u << (slot % BITS_PER_WORD);

		was_live = (r->live[slot / BITS_PER_WORD] & bit) != 0u;
		if (live) {
			r->live[slot / BITS_PER_WORD] |= bit;
		} else {
			r->live[slot / BITS_PER_WORD] &= ~bit;
		}
	}
	pthread_mutex_unlock(&lock);
	return was_live;
}

void kheap_san_forget(void *mem, size_t bytes)
{
	pthread_mutex_lock(&lock);
	drop_overlapping_locked((uintptr_t)mem, (uintptr_t)mem + bytes);
	pthread_mutex_unlock(&lock);
}

void kheap_san_region_open(void *mem, size_t bytes)
{
	/* The core writes the control block with reporting off, so the
	 * region's state does not matter; the blocks of any earlier heap
	 * on this memory are gone now. */
	track_region(mem, bytes);
}

void kheap_san_region_close(void *mem, size_t bytes)
{
	VALGRIND_MAKE_MEM_NOACCESS(mem, bytes);
}

void kheap_san_alloc(void *mem, size_t usable_bytes)
{
	/* A damaged heap can hand out a block that is still live, at the
	 * same address (sys_heap.h, "Corruption"). memcheck would keep two
	 * records there while the registry holds one bit, so the second
	 * would outlive the heap as a leak: the new block replaces the old
	 * record, as it replaces the old block. */
	if (mark_block(mem, true)) {
		VALGRIND_FREELIKE_BLOCK(mem, 0);
	}
	/* Addressable and undefined: reading a block's bytes before writing
	 * them is reported where the value is used. */
	VALGRIND_MALLOCLIKE_BLOCK(mem, usable_bytes, 0, 0);
}

void kheap_san_free(void *mem, size_t usable_bytes)
{
	(void)mark_block(mem, false);
	/* FREELIKE_BLOCK makes the block no-access and remembers it, so a
	 * later access is described as inside a freed block; the explicit
	 * NOACCESS is for memcheck versions that do not. */
	VALGRIND_FREELIKE_BLOCK(mem, 0);
	VALGRIND_MAKE_MEM_NOACCESS(mem, usable_bytes);
}

void kheap_san_resize(void *mem, size_t old_usable_bytes,
		      size_t new_usable_bytes)
{
	/* Grown bytes become addressable and undefined, shrunk ones
	 * no-access; the kept bytes keep their state. */
	VALGRIND_RESIZEINPLACE_BLOCK(mem, old_usable_bytes, new_usable_bytes,
				     0);
}

void kheap_san_enter(void)
{
	VALGRIND_DISABLE_ERROR_REPORTING;
}

void kheap_san_exit(void)
{
	VALGRIND_ENABLE_ERROR_REPORTING;
}
