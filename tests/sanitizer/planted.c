/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Planted heap bugs for the memory-checker hooks (kheap/sanitizer.h;
 * docs/testing/sanitizers.md).
 *
 *   planted <bug> <heap>     makes exactly one bad access, then exits 0
 *   planted control          the same operations, done correctly
 *
 * bug:  uaf-read, uaf-write   a byte of a block after it was freed
 *       overflow              the byte right after a block's usable size
 *       header-read           the byte right before a block (its header)
 *       free-read             a byte in the middle of a free chunk that
 *                             was never allocated since init
 *       shrink-read           the first byte that a realloc gave back by
 *                             shrinking the block in place
 * heap: small                 sys_heap over a 16 KiB static region
 *                             (4-byte headers)
 *       big                   sys_heap over a 300 KiB static region
 *                             (8-byte headers)
 *       kmalloc               k_malloc/k_realloc/k_free on the system heap
 *                             (uaf-read, uaf-write, overflow, shrink-read)
 *
 * ctest (label planted) expects AddressSanitizer (asan preset) or memcheck
 * (valgrind preset) to report each bug with its kind, size 1 and the
 * function that made the access; the control must run clean. Every bad
 * access is made by touch_read() or touch_write(), never inlined, so that
 * it is the top frame of the report. Without a tool the bugs go unseen,
 * so other presets register only the control.
 *
 * The regions are static arrays rather than malloc()ed: memcheck describes
 * an address inside a live malloc() block by that block, and would name
 * the region instead of the heap block that was freed.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <zephyr/kernel.h>
#include <zephyr/sys/sys_heap.h>

#define SMALL_BYTES (16u * 1024u)
#define BIG_BYTES (300u * 1024u)
/* Requests whose usable size has no slack in either header format:
 * 100 + 4 is a multiple of 8 (small), and so is 96 + 8 (big). Large
 * enough that the middle of the block is far from its neighbours:
 * memcheck describes an address near a live block by that block. */
#define SMALL_REQUEST 100u
#define BIG_REQUEST 96u
/* Through k_malloc, with its 8-byte heap reference, on the system heap
 * (16 KiB: 4-byte headers): 100 + 8 + 4 is a multiple of 8. */
#define KMALLOC_REQUEST 100u

static uint8_t small_region[SMALL_BYTES] __attribute__((__aligned__(8)));
static uint8_t big_region[BIG_BYTES] __attribute__((__aligned__(8)));
static struct sys_heap heap;
/* Blocks still live when a planted program stops: reachable from here,
 * so that memcheck does not add leak reports to the planted one. */
static void *volatile kept[4];

__attribute__((__noinline__)) static uint8_t
touch_read(const volatile uint8_t *p)
{
	return *p;
}

__attribute__((__noinline__)) static void touch_write(volatile uint8_t *p,
						      uint8_t v)
{
	*p = v;
}

static void fail(const char *what)
{
	fprintf(stderr, "planted: setup failed: %s\n", what);
	exit(2);
}

static void init_heap(const char *which)
{
	uint8_t *region = strcmp(which, "big") == 0 ? big_region : small_region;
	size_t bytes = region == big_region ? BIG_BYTES : SMALL_BYTES;

	if (sys_heap_init(&heap, region, bytes) != 0) {
		fail("sys_heap_init");
	}
	if (sys_heap_header_bytes(&heap) != (region == big_region ? 8u : 4u)) {
		fail("header format");
	}
}

/* A live block whose usable size is exactly its request, filled. */
static uint8_t *exact_block(size_t *usable)
{
	size_t request = sys_heap_header_bytes(&heap) == 4u ? SMALL_REQUEST
							    : BIG_REQUEST;
	uint8_t *p = sys_heap_alloc(&heap, request);

	if (p == NULL) {
		fail("sys_heap_alloc");
	}
	*usable = sys_heap_usable_size(&heap, p);
	if (*usable != request) {
		fail("usable size");
	}
	memset(p, 0x11, *usable);
	return p;
}

static int plant_sys_heap(const char *bug, const char *which)
{
	size_t usable;

	init_heap(which);
	uint8_t *p = exact_block(&usable);
	/* A neighbour, so that nothing merges with p's chunk when p is
	 * freed: a freed block stays one free chunk of its own. */
	uint8_t *q = sys_heap_alloc(&heap, 64);

	if (q == NULL) {
		fail("neighbour");
	}
	kept[0] = p;
	kept[1] = q;
	if (strcmp(bug, "uaf-read") == 0) {
		sys_heap_free(&heap, p);
		/* The middle: past the free-list links that free wrote, far
		 * from the live neighbour. */
		(void)touch_read(p + usable / 2u);
	} else if (strcmp(bug, "uaf-write") == 0) {
		sys_heap_free(&heap, p);
		touch_write(p + usable / 2u, 0x22);
	} else if (strcmp(bug, "overflow") == 0) {
		touch_write(p + usable, 0x22);
	} else if (strcmp(bug, "header-read") == 0) {
		(void)touch_read(p - 1);
	} else if (strcmp(bug, "free-read") == 0) {
		/* The rest of the region after q is one free chunk; its
		 * middle was never handed out. */
		if (strcmp(which, "big") == 0) {
			(void)touch_read(big_region + BIG_BYTES / 2u);
		} else {
			(void)touch_read(small_region + SMALL_BYTES / 2u);
		}
	} else if (strcmp(bug, "shrink-read") == 0) {
		uint8_t *big = sys_heap_alloc(&heap, 512);

		if (big == NULL || sys_heap_realloc(&heap, big, 16) != big) {
			fail("in-place shrink");
		}
		kept[2] = big;
		/* The first byte given back. */
		(void)touch_read(big + sys_heap_usable_size(&heap, big));
	} else {
		fail("unknown bug");
	}
	/* Reported (or, without a tool, unseen): stop here, the heap may
	 * now be damaged. */
	return 0;
}

static int plant_kmalloc(const char *bug)
{
	uint8_t *p = k_malloc(KMALLOC_REQUEST);

	if (p == NULL) {
		fail("k_malloc");
	}
	kept[0] = p;
	memset(p, 0x11, KMALLOC_REQUEST);
	if (strcmp(bug, "uaf-read") == 0) {
		k_free(p);
		(void)touch_read(p + KMALLOC_REQUEST / 2u);
	} else if (strcmp(bug, "uaf-write") == 0) {
		k_free(p);
		touch_write(p + KMALLOC_REQUEST / 2u, 0x22);
	} else if (strcmp(bug, "overflow") == 0) {
		touch_write(p + KMALLOC_REQUEST, 0x22);
	} else if (strcmp(bug, "shrink-read") == 0) {
		uint8_t *big = k_malloc(512);

		if (big == NULL || k_realloc(big, KMALLOC_REQUEST) != big) {
			fail("in-place shrink");
		}
		kept[1] = big;
		(void)touch_read(big + KMALLOC_REQUEST);
	} else {
		fail("unknown bug");
	}
	return 0;
}

/* Everything the planted programs do, correctly: it must run clean. */
static void control_sys_heap(const char *which)
{
	size_t usable;

	init_heap(which);
	uint8_t *p = exact_block(&usable);
	uint8_t *q = sys_heap_alloc(&heap, 64);

	if (q == NULL) {
		fail("neighbour");
	}
	/* Every usable byte, first and last included. */
	touch_write(p, 0x33);
	touch_write(p + usable - 1u, 0x33);
	if (touch_read(p) != 0x33 || touch_read(p + usable - 1u) != 0x33) {
		fail("data");
	}
	/* Shrink in place, grow in place, move: the kept bytes stay the
	 * caller's, and so do the new ones. */
	uint8_t *big = sys_heap_alloc(&heap, 512);

	if (big == NULL) {
		fail("alloc 512");
	}
	memset(big, 0x44, 512);
	if (sys_heap_realloc(&heap, big, 16) != big) {
		fail("in-place shrink");
	}
	if (sys_heap_realloc(&heap, big, 400) != big) {
		fail("in-place grow");
	}
	memset(big + 16, 0x55, 384);
	uint8_t *moved = sys_heap_realloc(&heap, p, 2000);

	if (moved == NULL || moved[0] != 0x33) {
		fail("moving realloc");
	}
	touch_write(moved + sys_heap_usable_size(&heap, moved) - 1u, 0x66);
	/* A block reused after a free is the caller's again. */
	sys_heap_free(&heap, q);
	q = sys_heap_alloc(&heap, 64);
	if (q == NULL) {
		fail("realloc after free");
	}
	memset(q, 0x77, 64);
	sys_heap_free(&heap, q);
	sys_heap_free(&heap, big);
	sys_heap_free(&heap, moved);
	if (!sys_heap_validate(&heap)) {
		fail("validate");
	}
	/* A second heap over the same memory. */
	init_heap(which);
	p = exact_block(&usable);
	sys_heap_free(&heap, p);
}

static void control_kmalloc(void)
{
	uint8_t *p = k_malloc(KMALLOC_REQUEST);
	uint8_t *z = k_calloc(4, 8);

	if (p == NULL || z == NULL || z[31] != 0) {
		fail("k_malloc");
	}
	memset(p, 0x11, KMALLOC_REQUEST);
	touch_write(p + 19, 0x22);
	p = k_realloc(p, 300);
	if (p == NULL || p[0] != 0x11 || p[19] != 0x22) {
		fail("k_realloc");
	}
	memset(p, 0x33, 300);
	p = k_realloc(p, 16);
	if (p == NULL || p[15] != 0x33) {
		fail("k_realloc shrink");
	}
	k_free(p);
	k_free(z);
}

int main(int argc, char **argv)
{
	if (argc == 2 && strcmp(argv[1], "control") == 0) {
		control_sys_heap("small");
		control_sys_heap("big");
		control_kmalloc();
		printf("planted: control ran clean\n");
		return 0;
	}
	if (argc != 3) {
		fprintf(stderr, "usage: planted <bug> small|big|kmalloc | "
				"planted control\n");
		return 2;
	}
	if (strcmp(argv[2], "kmalloc") == 0) {
		return plant_kmalloc(argv[1]);
	}
	if (strcmp(argv[2], "small") != 0 && strcmp(argv[2], "big") != 0) {
		fail("unknown heap");
	}
	return plant_sys_heap(argv[1], argv[2]);
}
