/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The C library's malloc family for the test images, served by kheap:
 * one sys_heap over the RAM between .bss and the stack (__heap_start to
 * __heap_end in the linker script).
 *
 * newlib's own malloc grows its arena with _sbrk in steps rounded up to
 * 4 KiB pages, which wastes most of the micro:bit's 16 KiB; a sys_heap
 * uses every byte. Like newlib's default malloc this is for thread mode
 * only: interrupt handlers use k_malloc or a k_heap.
 *
 * newlib calls the reentrant forms (_malloc_r, ...) itself, so both sets
 * are defined and newlib's allocator is never linked.
 */
#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <zephyr/sys/sys_heap.h>

struct _reent;

extern char __heap_start[], __heap_end[];

static struct sys_heap libc_heap;
static bool libc_heap_ready;

static struct sys_heap *heap(void)
{
	if (!libc_heap_ready) {
		(void)sys_heap_init(&libc_heap, __heap_start,
				    (size_t)(__heap_end - __heap_start));
		libc_heap_ready = true;
	}
	return &libc_heap;
}

static void *checked(void *mem)
{
	if (mem == NULL) {
		errno = ENOMEM;
	}
	return mem;
}

void *malloc(size_t bytes)
{
	/* malloc(0) returns a unique pointer, as newlib's does. */
	return checked(sys_heap_alloc(heap(), bytes != 0u ? bytes : 1u));
}

void free(void *mem)
{
	sys_heap_free(heap(), mem);
}

void *realloc(void *mem, size_t bytes)
{
	if (mem != NULL && bytes == 0u) {
		sys_heap_free(heap(), mem);
		return NULL;
	}
	return checked(sys_heap_realloc(heap(), mem, bytes != 0u ? bytes : 1u));
}

void *calloc(size_t count, size_t size)
{
	if (size != 0u && count > SIZE_MAX / size) {
		errno = ENOMEM;
		return NULL;
	}
	void *mem = malloc(count * size);

	if (mem != NULL) {
		memset(mem, 0, count * size);
	}
	return mem;
}

void *_malloc_r(struct _reent *reent, size_t bytes);
void _free_r(struct _reent *reent, void *mem);
void *_realloc_r(struct _reent *reent, void *mem, size_t bytes);
void *_calloc_r(struct _reent *reent, size_t count, size_t size);

void *_malloc_r(struct _reent *reent, size_t bytes)
{
	(void)reent;
	return malloc(bytes);
}

void _free_r(struct _reent *reent, void *mem)
{
	(void)reent;
	free(mem);
}

void *_realloc_r(struct _reent *reent, void *mem, size_t bytes)
{
	(void)reent;
	return realloc(mem, bytes);
}

void *_calloc_r(struct _reent *reent, size_t count, size_t size)
{
	(void)reent;
	return calloc(count, size);
}
