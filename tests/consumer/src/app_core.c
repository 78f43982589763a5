/* SPDX-License-Identifier: Apache-2.0 */
/*
 * A consumer of the heap alone (kheap::core, kheap.pc): the README's
 * example, checked. Prints "kheap <version> core: ok" and exits 0, or
 * names the step that went wrong and exits 1.
 */
#include <stdint.h>
#include <stdio.h>

#include <kheap/version.h>
#include <zephyr/sys/sys_heap.h>

static unsigned char region[4096];
static struct sys_heap heap;

static int fail(const char *what)
{
	printf("kheap core consumer: %s\n", what);
	return 1;
}

int main(void)
{
	sys_heap_init(&heap, region, sizeof(region));
	void *aligned = sys_heap_aligned_alloc(&heap, 64, 100);

	if (aligned == NULL || (uintptr_t)aligned % 64u != 0u) {
		return fail("sys_heap_aligned_alloc(64, 100)");
	}
	void *grown = sys_heap_realloc(&heap, aligned, 200);

	if (grown == NULL) {
		return fail("sys_heap_realloc(200)");
	}
	sys_heap_free(&heap, grown);
	if (!sys_heap_validate(&heap)) {
		return fail("sys_heap_validate after free");
	}
	printf("kheap %s core: ok\n", KHEAP_VERSION_STRING);
	return 0;
}
