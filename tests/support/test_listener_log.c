/* SPDX-License-Identifier: Apache-2.0 */
#include "test_listener_log.h"

#include <string.h>

struct listener_log listener_log;

void listener_log_reset(void)
{
	memset(&listener_log, 0, sizeof(listener_log));
}

void listener_log_on_alloc(uintptr_t heap_id, void *mem, size_t bytes)
{
	(void)heap_id;
	listener_log.alloc_count++;
	listener_log.mem = mem;
	listener_log.bytes = bytes;
}

void listener_log_on_free(uintptr_t heap_id, void *mem, size_t bytes)
{
	(void)heap_id;
	listener_log.free_count++;
	listener_log.mem = mem;
	listener_log.bytes = bytes;
}

void listener_log_on_realloc(uintptr_t heap_id, void *old_mem, size_t old_bytes,
			     void *new_mem, size_t new_bytes)
{
	(void)heap_id;
	listener_log.realloc_count++;
	listener_log.old_mem = old_mem;
	listener_log.old_bytes = old_bytes;
	listener_log.mem = new_mem;
	listener_log.bytes = new_bytes;
}
