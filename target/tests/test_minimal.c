/* SPDX-License-Identifier: Apache-2.0 */
/*
 * A program that uses kheap and no other part of the C library (no
 * printf): what a product image links. ctest runs it under QEMU and
 * checks its symbols (target-clz-path): on ARMv6-M the core's software
 * bit scan (its table z_heap_bit_of) must be there and libgcc's
 * __clzsi2 must not (printf's
 * floating-point code would pull that in, so the other images cannot
 * show it).
 */
#include <stddef.h>
#include <stdint.h>

#include <kheap/k_heap.h>
#include <kheap/target.h>
#include <zephyr/sys/sys_heap.h>

static struct k_heap heap;
static uint8_t region[2048] __attribute__((aligned(8)));

int main(void)
{
	void *blocks[16];
	size_t count = 0;

	if (k_heap_init(&heap, region, sizeof(region)) != 0) {
		return TARGET_EXIT_FAIL;
	}
	/* Sizes across several size classes, so that the bucket search
	 * (count leading zeros) runs for each. */
	for (size_t bytes = 1; count < 16u; bytes = bytes * 2u + 3u) {
		blocks[count] =
			k_heap_alloc(&heap, 1u + bytes % 100u, K_NO_WAIT);
		if (blocks[count] == NULL ||
		    ((uintptr_t)blocks[count] & 7u) != 0u) {
			return TARGET_EXIT_FAIL;
		}
		count++;
	}
	for (size_t i = 0; i < count; i += 2u) {
		k_heap_free(&heap, blocks[i]);
	}
	for (size_t i = 1; i < count; i += 2u) {
		k_heap_free(&heap, blocks[i]);
	}
	void *all = k_heap_alloc(&heap, sys_heap_max_alloc_bytes(&heap.heap),
				 K_NO_WAIT);

	if (all == NULL || !sys_heap_validate(&heap.heap)) {
		return TARGET_EXIT_FAIL;
	}
	k_heap_free(&heap, all);
	return TARGET_EXIT_PASS;
}
