/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The heap array (CONFIG_SYS_HEAP_ARRAY_SIZE, Zephyr's option): handles of
 * initialised heaps, for code that reports on every heap in the system.
 * sys_heap_init() saves each heap it initialises; a handle is saved once
 * however often its heap is initialised again. With size 0 there is no
 * array: nothing is saved and the functions report an empty one (one
 * definition of each for both cases, so that coverage tools merge the
 * builds).
 */
#include <kheap/config.h>
#include <zephyr/sys/sys_heap.h>

#define EINVAL_RESULT (-22)

#if CONFIG_SYS_HEAP_ARRAY_SIZE > 0
static struct sys_heap *saved_heaps[CONFIG_SYS_HEAP_ARRAY_SIZE];
#define SAVED_HEAPS saved_heaps
#else
#define SAVED_HEAPS ((struct sys_heap **)NULL)
#endif

/* Handles saved; never more than CONFIG_SYS_HEAP_ARRAY_SIZE. */
static size_t saved_count;

int sys_heap_array_save(struct sys_heap *heap)
{
	if (heap == NULL) {
		return EINVAL_RESULT;
	}
	for (size_t i = 0; i < saved_count; i++) {
		if (SAVED_HEAPS[i] == heap) {
			return 0;
		}
	}
	if (saved_count == (size_t)CONFIG_SYS_HEAP_ARRAY_SIZE) {
		return EINVAL_RESULT;
	}
	SAVED_HEAPS[saved_count++] = heap;
	return 0;
}

int sys_heap_array_get(struct sys_heap ***heaps)
{
	if (heaps == NULL) {
		return EINVAL_RESULT;
	}
	*heaps = SAVED_HEAPS;
	return (int)saved_count;
}
