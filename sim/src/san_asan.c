/* SPDX-License-Identifier: Apache-2.0 */
/*
 * kheap/sanitizer.h for AddressSanitizer: the heap region is poisoned
 * except for the usable bytes of live blocks, so a user's access to a
 * header, a free chunk, a freed block or the control block is reported
 * ("use-after-poison").
 *
 * Built only with KHEAP_SANITIZER=asan, where the core libraries are
 * compiled without address instrumentation (-fno-sanitize=address): the
 * core's own reads and writes of its metadata are therefore never
 * checked, and kheap_san_enter()/kheap_san_exit() have nothing to do.
 * The core's calls to memset/memcpy still go through ASan's interceptors;
 * the hooks run before them (region_open before the control block is
 * cleared, alloc before realloc copies), so those only ever touch bytes
 * that are already unpoisoned.
 *
 * ASan tracks 8-byte granules as "the first k bytes are addressable".
 * Every block starts 8-byte aligned and its header sits right below it,
 * so the only granule a block shares is its last one, with the next
 * block's 4-byte header (small heaps) after the usable bytes: exactly the
 * shape a granule can express. Usable bytes are therefore exact, and a
 * one-byte overflow is caught on both header formats.
 */
#include <stddef.h>

#include <kheap/sanitizer.h>

#include <sanitizer/asan_interface.h>

void kheap_san_region_open(void *mem, size_t bytes)
{
	/* An earlier heap here left the region poisoned; the core is about
	 * to memset its control block through ASan's interceptor. */
	__asan_unpoison_memory_region(mem, bytes);
}

void kheap_san_region_close(void *mem, size_t bytes)
{
	/* Nothing in the region is the user's until it is allocated. A
	 * region whose end shares a granule with addressable bytes after
	 * it keeps that last partial granule addressable: ASan cannot
	 * poison the head of a granule and not its tail. */
	__asan_poison_memory_region(mem, bytes);
}

void kheap_san_alloc(void *mem, size_t usable_bytes)
{
	__asan_unpoison_memory_region(mem, usable_bytes);
}

void kheap_san_free(void *mem, size_t usable_bytes)
{
	__asan_poison_memory_region(mem, usable_bytes);
}

void kheap_san_resize(void *mem, size_t old_usable_bytes,
		      size_t new_usable_bytes)
{
	/* Poison the old extent first so that a shrink also poisons the
	 * shared last granule of the new extent's tail, then open exactly
	 * the new one. */
	__asan_poison_memory_region(mem, old_usable_bytes);
	__asan_unpoison_memory_region(mem, new_usable_bytes);
}

void kheap_san_enter(void)
{
}

void kheap_san_exit(void)
{
}
