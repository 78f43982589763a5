/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The Valgrind hooks' block registry (sim/src/san_valgrind.c) when a
 * damaged heap hands out a block that is still live, at the same address
 * (allowed by sys_heap.h, "Corruption": damage the checks miss can make
 * allocations hand out wrong blocks). memcheck must then hold one record
 * for that address, as the registry does, so that the blocks of the heap
 * are all forgotten when a new heap opens over its memory.
 *
 *   san_registry     calls the hooks as such a heap does, twice, then
 *                    prints "san_registry: ran clean"
 *
 * ctest (valgrind preset, label planted) runs it under memcheck with its
 * leak check: a second record left behind is "definitely lost" (the
 * fuzz_corrupt corpus replay met it first).
 */
#include <stdint.h>
#include <stdio.h>

#include <kheap/sanitizer.h>

#define REGION_BYTES 4096u
#define BLOCK_OFFSET 256u
#define BLOCK_BYTES 64u

static uint8_t freed_region[REGION_BYTES] __attribute__((__aligned__(8)));
static uint8_t dropped_region[REGION_BYTES] __attribute__((__aligned__(8)));

/* The block is handed out twice; one owner frees it (the heap refuses
 * the second free: the block is free by then); a new heap opens over the
 * region. */
static void handed_out_twice_then_freed(void)
{
	uint8_t *block = freed_region + BLOCK_OFFSET;

	kheap_san_region_open(freed_region, REGION_BYTES);
	kheap_san_alloc(block, BLOCK_BYTES);
	kheap_san_alloc(block, BLOCK_BYTES);
	kheap_san_free(block, BLOCK_BYTES);
	kheap_san_region_open(freed_region, REGION_BYTES);
}

/* The block is handed out twice and still live when a new heap opens over
 * the region. */
static void handed_out_twice_then_dropped(void)
{
	uint8_t *block = dropped_region + BLOCK_OFFSET;

	kheap_san_region_open(dropped_region, REGION_BYTES);
	kheap_san_alloc(block, BLOCK_BYTES);
	kheap_san_alloc(block, BLOCK_BYTES);
	kheap_san_region_open(dropped_region, REGION_BYTES);
}

int main(void)
{
	handed_out_twice_then_freed();
	handed_out_twice_then_dropped();
	printf("san_registry: ran clean\n");
	return 0;
}
