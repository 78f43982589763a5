/* SPDX-License-Identifier: Apache-2.0 */
/*
 * A heap listener recorder shared by the tests that check what the
 * listeners of one heap are told: how many events of each kind since the
 * last reset, and the arguments of the last one. Register
 * listener_log_on_alloc/_free/_realloc with HEAP_LISTENER_*_DEFINE.
 *
 * Built for the host (CMocka) and for the targets (cmocka_lite).
 */
#ifndef KHEAP_TEST_LISTENER_LOG_H
#define KHEAP_TEST_LISTENER_LOG_H

#include <stddef.h>
#include <stdint.h>

struct listener_log {
	unsigned int alloc_count, free_count, realloc_count;
	/* The last event's block (for realloc: the new one). */
	void *mem;
	size_t bytes;
	/* The last realloc's old block. */
	void *old_mem;
	size_t old_bytes;
};

extern struct listener_log listener_log;

/* Forget every event seen so far. */
void listener_log_reset(void);

void listener_log_on_alloc(uintptr_t heap_id, void *mem, size_t bytes);
void listener_log_on_free(uintptr_t heap_id, void *mem, size_t bytes);
void listener_log_on_realloc(uintptr_t heap_id, void *old_mem, size_t old_bytes,
			     void *new_mem, size_t new_bytes);

#endif /* KHEAP_TEST_LISTENER_LOG_H */
