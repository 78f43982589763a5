/* SPDX-License-Identifier: Apache-2.0 */
/*
 * sys_multi_heap: one allocator over several sys_heaps, Zephyr's API and
 * semantics. The heaps may be discontiguous and differ in kind (speed,
 * cacheability, ...); every allocation goes through a choice function
 * that picks the heap from an opaque configuration value the caller
 * passes (cfg) and makes the allocation there. Frees and reallocs find a
 * block's heap from its address.
 *
 * Rules for every function here:
 * - Not thread-safe and not ISR-safe by itself, like sys_heap: the caller
 *   serialises all calls on one multi-heap and on the heaps in it.
 * - Cost: the choice function's, plus O(MAX_MULTI_HEAPS) to find a
 *   block's heap (free, realloc, get_heap); the heaps' own operations are
 *   O(1) (sys_heap.h).
 * - Misuse is reported through the sys_heap fault handler
 *   (sys_heap_fault_handler_set) and the call then does nothing.
 */
#ifndef ZEPHYR_SYS_MULTI_HEAP_H
#define ZEPHYR_SYS_MULTI_HEAP_H

#include <stddef.h>

#include <zephyr/sys/sys_heap.h>

#ifdef __cplusplus
extern "C" {
#endif

/* How many heaps one multi-heap holds (Zephyr's value; a build may
 * change it). */
#ifndef MAX_MULTI_HEAPS
#define MAX_MULTI_HEAPS 8
#endif

struct sys_multi_heap;

/**
 * A choice function: pick a heap of mheap for an allocation of size
 * bytes aligned to align (0: none; otherwise as sys_heap_aligned_alloc)
 * from cfg, which the caller of sys_multi_heap_alloc passed through
 * unchanged, allocate it there (it may pad or align the request) and
 * return the block, or NULL to fail the allocation. It may only return
 * blocks of the multi-heap's heaps (mheap->heaps[0 .. nheaps - 1]).
 */
typedef void *(*sys_multi_heap_fn_t)(struct sys_multi_heap *mheap, void *cfg,
				     size_t align, size_t size);

/* One heap of a multi-heap and the data given with it. */
struct sys_multi_heap_rec {
	struct sys_heap *heap;
	void *user_data;
};

struct sys_multi_heap {
	unsigned int nheaps;
	sys_multi_heap_fn_t choice;
	/* In address order of the heaps' regions. */
	struct sys_multi_heap_rec heaps[MAX_MULTI_HEAPS];
};

/**
 * Initialise an empty multi-heap that allocates through choice_fn. A NULL
 * choice_fn selects sys_multi_heap_default_select (kheap extension;
 * Zephyr requires a function). Heaps are added afterwards. O(1).
 */
void sys_multi_heap_init(struct sys_multi_heap *mheap,
			 sys_multi_heap_fn_t choice_fn);

/**
 * Add an initialised sys_heap, with user_data for the choice function.
 * The records stay sorted by region address. Returns 0, -EINVAL (-22)
 * if mheap or heap is NULL, heap is not initialised, or its region
 * overlaps that of a heap already added (the same heap twice included),
 * and -ENOMEM (-12) if MAX_MULTI_HEAPS heaps are there already. (Zephyr
 * returns void and asserts; callers may ignore the result.)
 * O(MAX_MULTI_HEAPS).
 */
int sys_multi_heap_add_heap(struct sys_multi_heap *mheap, struct sys_heap *heap,
			    void *user_data);

/** Allocate bytes through the choice function (align 0). NULL if it
 * finds nothing, or for a NULL mheap. */
void *sys_multi_heap_alloc(struct sys_multi_heap *mheap, void *cfg,
			   size_t bytes);

/** sys_multi_heap_alloc() aligned to align (a power of two; passed to
 * the choice function as is). */
void *sys_multi_heap_aligned_alloc(struct sys_multi_heap *mheap, void *cfg,
				   size_t align, size_t bytes);

/**
 * The record of the heap whose region holds addr (its control block or
 * block area), or NULL if none does (Zephyr returns the nearest heap
 * below addr without checking its end). Nothing is reported.
 * O(MAX_MULTI_HEAPS).
 */
const struct sys_multi_heap_rec *
sys_multi_heap_get_heap(const struct sys_multi_heap *mheap, void *addr);

/**
 * Free a block to the heap it came from. NULL: no-op. A block in no
 * heap's region is reported as SYS_HEAP_FAULT_BAD_POINTER (heap NULL,
 * operation "multi_heap_free"); one inside a heap goes through
 * sys_heap_free and its checks.
 */
void sys_multi_heap_free(struct sys_multi_heap *mheap, void *block);

/**
 * Resize a block, as sys_heap_aligned_realloc: ptr NULL allocates
 * (through the choice function); bytes 0 frees and returns NULL.
 * Otherwise first in its own heap (in place when it can, else moved
 * within that heap), then, if that heap has no room, through the choice
 * function with cfg, copying the smaller of the old usable size and
 * bytes and freeing the old block. On failure returns NULL and the old
 * block is untouched and still allocated. A ptr in no heap's region is
 * reported as SYS_HEAP_FAULT_BAD_POINTER (operation
 * "multi_heap_realloc"); one that fails its heap's free() checks is
 * reported by that heap; both return NULL.
 */
void *sys_multi_heap_aligned_realloc(struct sys_multi_heap *mheap, void *cfg,
				     void *ptr, size_t align, size_t bytes);

/* sys_multi_heap_aligned_realloc() without alignment (as in Zephyr, a
 * macro). */
#define sys_multi_heap_realloc(mheap, cfg, ptr, bytes)                         \
	sys_multi_heap_aligned_realloc(mheap, cfg, ptr, 0, bytes)

/**
 * kheap extension: the default choice function. Ignores cfg and takes
 * the first heap, in address order, that serves the request
 * (sys_heap_aligned_alloc with align and size). O(nheaps) heap calls.
 */
void *sys_multi_heap_default_select(struct sys_multi_heap *mheap, void *cfg,
				    size_t align, size_t size);

#ifdef __cplusplus
}
#endif

#endif /* ZEPHYR_SYS_MULTI_HEAP_H */
