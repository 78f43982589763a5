/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Heap listener registry: an intrusive singly linked list. The heap calls
 * z_heap_notify only when the list is non-empty, so a build with
 * listeners but none registered pays one load and a branch per call.
 */
#include "heap_internal.h"

struct heap_listener *z_heap_listeners;

void heap_listener_register(struct heap_listener *listener)
{
	for (struct heap_listener *l = z_heap_listeners; l != NULL;
	     l = l->next) {
		if (l == listener) {
			return;
		}
	}
	listener->next = z_heap_listeners;
	z_heap_listeners = listener;
}

void heap_listener_unregister(struct heap_listener *listener)
{
	for (struct heap_listener **link = &z_heap_listeners; *link != NULL;
	     link = &(*link)->next) {
		if (*link == listener) {
			*link = listener->next;
			listener->next = NULL;
			return;
		}
	}
}

/*
 * One loop for every event: alloc and free callbacks have the same type,
 * so only realloc needs its own call. The heap calls this directly (one
 * function to link instead of three).
 */
void z_heap_notify(uintptr_t heap_id, enum heap_event_types event,
		   void *old_mem, size_t old_bytes, void *mem, size_t bytes)
{
	for (struct heap_listener *l = z_heap_listeners; l != NULL;
	     l = l->next) {
		if (l->heap_id != heap_id || l->event != event) {
			continue;
		}
		if (event == HEAP_REALLOC) {
			l->realloc_cb(heap_id, old_mem, old_bytes, mem, bytes);
		} else {
			l->alloc_cb(heap_id, mem, bytes);
		}
	}
}

void heap_listener_notify_alloc(uintptr_t heap_id, void *mem, size_t bytes)
{
	z_heap_notify(heap_id, HEAP_ALLOC, NULL, 0u, mem, bytes);
}

void heap_listener_notify_free(uintptr_t heap_id, void *mem, size_t bytes)
{
	z_heap_notify(heap_id, HEAP_FREE, NULL, 0u, mem, bytes);
}

void heap_listener_notify_realloc(uintptr_t heap_id, void *old_mem,
				  size_t old_bytes, void *new_mem,
				  size_t new_bytes)
{
	z_heap_notify(heap_id, HEAP_REALLOC, old_mem, old_bytes, new_mem,
		      new_bytes);
}
