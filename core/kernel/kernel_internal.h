/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Shared by the kernel layer's files only.
 */
#ifndef KHEAP_KERNEL_INTERNAL_H
#define KHEAP_KERNEL_INTERNAL_H

#include <stdbool.h>

#include <kheap/k_heap.h>

/* Whether heap is a K_HEAP_DEFINE heap or was set up by k_heap_init. */
bool z_kheap_is_known(const struct k_heap *heap);

/* k_heap_aligned_alloc that also takes sys_heap's rewind form A | R. */
void *z_kheap_aligned_alloc(struct k_heap *heap, size_t align, size_t bytes,
			    k_timeout_t timeout);

/* Whether a kernel-layer alignment is 0 or a power of two; otherwise
 * report it through kheap_port_fault for operation on heap. */
bool z_kheap_align_valid(size_t align, const void *heap, const char *operation);

/* k_heap_realloc with sys_heap_aligned_realloc's align argument. */
void *z_kheap_aligned_realloc(struct k_heap *heap, void *ptr, size_t align,
			      size_t bytes, k_timeout_t timeout);

#endif /* KHEAP_KERNEL_INTERNAL_H */
