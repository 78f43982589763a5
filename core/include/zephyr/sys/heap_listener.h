/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Heap listeners: callbacks told about every block a sys_heap hands out,
 * takes back or resizes. API shaped after Zephyr's heap_listener.h.
 *
 * Contract:
 * - A listener watches one heap, named by HEAP_ID_FROM_POINTER(&sys_heap)
 *   (for a k_heap: HEAP_ID_FROM_POINTER(&k_heap->heap)).
 * - Callbacks run synchronously inside the heap call that caused them,
 *   after the heap is consistent again, under whatever lock the caller
 *   holds (k_heap's spinlock, possibly in ISR context): they must be short,
 *   must not block and must not call back into the same heap.
 * - alloc: fired by sys_heap_alloc/aligned_alloc/noalign_alloc and by
 *   realloc(NULL, n); bytes = sys_heap_usable_size() of the new block.
 *   free: fired by sys_heap_free and realloc(p, 0); bytes = usable size of
 *   the block before it was freed. realloc: fired once by every successful
 *   realloc of a live block to a non-zero size, in place or moved (no
 *   separate alloc/free events for it).
 * - Registration is not synchronised with heap operations: register and
 *   unregister while no other thread is using the listened-to heap
 *   (normally at start-up). Both are O(number of listeners).
 * - Zephyr's HEAP_RESIZE event (a heap region growing) does not exist in
 *   kheap: regions are fixed at init. HEAP_REALLOC is a kheap extension.
 */
#ifndef ZEPHYR_SYS_HEAP_LISTENER_H
#define ZEPHYR_SYS_HEAP_LISTENER_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define HEAP_ID_FROM_POINTER(heap_pointer) ((uintptr_t)(heap_pointer))

enum heap_event_types {
	HEAP_EVT_UNKNOWN = 0,
	HEAP_ALLOC,
	HEAP_FREE,
	HEAP_REALLOC,
	HEAP_EVT_MAX,
};

typedef void (*heap_listener_alloc_cb_t)(uintptr_t heap_id, void *mem,
					 size_t bytes);
typedef void (*heap_listener_free_cb_t)(uintptr_t heap_id, void *mem,
					size_t bytes);
typedef void (*heap_listener_realloc_cb_t)(uintptr_t heap_id, void *old_mem,
					   size_t old_bytes, void *new_mem,
					   size_t new_bytes);

struct heap_listener {
	/* Registry link; owned by heap_listener_register(). */
	struct heap_listener *next;
	uintptr_t heap_id;
	enum heap_event_types event;
	union {
		heap_listener_alloc_cb_t alloc_cb;
		heap_listener_free_cb_t free_cb;
		heap_listener_realloc_cb_t realloc_cb;
	};
};

#define HEAP_LISTENER_ALLOC_DEFINE(name, id, cb)                               \
	struct heap_listener name = {                                          \
		.heap_id = (id), .event = HEAP_ALLOC, .alloc_cb = (cb)}
#define HEAP_LISTENER_FREE_DEFINE(name, id, cb)                                \
	struct heap_listener name = {                                          \
		.heap_id = (id), .event = HEAP_FREE, .free_cb = (cb)}
#define HEAP_LISTENER_REALLOC_DEFINE(name, id, cb)                             \
	struct heap_listener name = {                                          \
		.heap_id = (id), .event = HEAP_REALLOC, .realloc_cb = (cb)}

/* Add a listener. Registering one that is already registered is a no-op. */
void heap_listener_register(struct heap_listener *listener);

/* Remove a listener. Unregistering one that is not registered is a no-op. */
void heap_listener_unregister(struct heap_listener *listener);

/* Called by the heap; not for applications. No-ops when nobody listens. */
void heap_listener_notify_alloc(uintptr_t heap_id, void *mem, size_t bytes);
void heap_listener_notify_free(uintptr_t heap_id, void *mem, size_t bytes);
void heap_listener_notify_realloc(uintptr_t heap_id, void *old_mem,
				  size_t old_bytes, void *new_mem,
				  size_t new_bytes);

#ifdef __cplusplus
}
#endif

#endif /* ZEPHYR_SYS_HEAP_LISTENER_H */
