/*
 * Heap listener registry: an intrusive singly linked list. The heap calls
 * the notify functions only when the list is non-empty, so a build with
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

void heap_listener_notify_alloc(uintptr_t heap_id, void *mem, size_t bytes)
{
	for (struct heap_listener *l = z_heap_listeners; l != NULL;
	     l = l->next) {
		if (l->heap_id == heap_id && l->event == HEAP_ALLOC) {
			l->alloc_cb(heap_id, mem, bytes);
		}
	}
}

void heap_listener_notify_free(uintptr_t heap_id, void *mem, size_t bytes)
{
	for (struct heap_listener *l = z_heap_listeners; l != NULL;
	     l = l->next) {
		if (l->heap_id == heap_id && l->event == HEAP_FREE) {
			l->free_cb(heap_id, mem, bytes);
		}
	}
}

void heap_listener_notify_realloc(uintptr_t heap_id, void *old_mem,
				  size_t old_bytes, void *new_mem,
				  size_t new_bytes)
{
	for (struct heap_listener *l = z_heap_listeners; l != NULL;
	     l = l->next) {
		if (l->heap_id == heap_id && l->event == HEAP_REALLOC) {
			l->realloc_cb(heap_id, old_mem, old_bytes, new_mem,
				      new_bytes);
		}
	}
}
