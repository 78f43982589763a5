/* SPDX-License-Identifier: Apache-2.0 */
/*
 * sys_multi_heap (contract in zephyr/sys/multi_heap.h). A block's heap is
 * the one whose region holds it; regions never overlap (add_heap refuses
 * that), so at most one does.
 */
#include <string.h>

#include <kheap/sanitizer.h>
#include <zephyr/sys/multi_heap.h>

#include "heap_checks.h"
#include "heap_internal.h"

#define EINVAL_RESULT (-22)
#define ENOMEM_RESULT (-12)

/* The bytes a heap uses of its region: from its control block to the end
 * of its end sentinel's header; empty for a handle that is no longer
 * initialised (sys_heap_init failed on it since it was added). Reads the
 * control block: callers are inside the memory checker's bracket
 * (kheap/sanitizer.h), as every core call that reads a region is. */
struct heap_span {
	uintptr_t start;
	uintptr_t end;
};

static struct heap_span span_of(const struct sys_heap *heap)
{
	const struct z_heap *h = heap_of(heap);
	struct heap_span span = {0u, 0u};

	if (h != NULL) {
		span.start = (uintptr_t)h;
		span.end = (uintptr_t)chunk_mem(any_view(h), h->end_chunk);
	}
	return span;
}

/* Where a heap with this span goes in mheap's address order; -1 if it
 * overlaps a heap already there. */
static int insertion_slot(const struct sys_multi_heap *mheap,
			  struct heap_span added)
{
	int slot = 0;

	for (unsigned int i = 0; i < mheap->nheaps; i++) {
		struct heap_span other = span_of(mheap->heaps[i].heap);

		if (added.start < other.end && other.start < added.end) {
			return -1;
		}
		if (other.start < added.start) {
			slot = (int)i + 1;
		}
	}
	return slot;
}

/* A pointer that is in no heap of the multi-heap: refused like a foreign
 * pointer given to sys_heap_free, but with no heap to name. */
static void report_foreign(const void *mem, const char *operation)
{
	z_heap_report_fault(NULL, mem, SYS_HEAP_FAULT_BAD_POINTER, operation);
}

void sys_multi_heap_init(struct sys_multi_heap *mheap,
			 sys_multi_heap_fn_t choice_fn)
{
	if (mheap == NULL) {
		return;
	}
	mheap->nheaps = 0u;
	mheap->choice = choice_fn != NULL ? choice_fn
					  : sys_multi_heap_default_select;
}

int sys_multi_heap_add_heap(struct sys_multi_heap *mheap, struct sys_heap *heap,
			    void *user_data)
{
	if (mheap == NULL) {
		return EINVAL_RESULT;
	}
	KHEAP_SAN_ENTER();
	struct heap_span added = span_of(heap);
	int slot = added.end == 0u ? -1 : insertion_slot(mheap, added);

	KHEAP_SAN_EXIT();
	if (slot < 0) {
		return EINVAL_RESULT;
	}
	if (mheap->nheaps == MAX_MULTI_HEAPS) {
		return ENOMEM_RESULT;
	}
	/* Insert at its place in address order. */
	memmove(&mheap->heaps[slot + 1], &mheap->heaps[slot],
		(mheap->nheaps - (unsigned int)slot) * sizeof(mheap->heaps[0]));
	mheap->heaps[slot].heap = heap;
	mheap->heaps[slot].user_data = user_data;
	mheap->nheaps++;
	return 0;
}

void *sys_multi_heap_alloc(struct sys_multi_heap *mheap, void *cfg,
			   size_t bytes)
{
	return sys_multi_heap_aligned_alloc(mheap, cfg, 0u, bytes);
}

void *sys_multi_heap_aligned_alloc(struct sys_multi_heap *mheap, void *cfg,
				   size_t align, size_t bytes)
{
	if (mheap == NULL) {
		return NULL;
	}
	return mheap->choice(mheap, cfg, align, bytes);
}

const struct sys_multi_heap_rec *
sys_multi_heap_get_heap(const struct sys_multi_heap *mheap, void *addr)
{
	const struct sys_multi_heap_rec *found = NULL;

	if (mheap == NULL) {
		return NULL;
	}
	KHEAP_SAN_ENTER();
	for (unsigned int i = 0; i < mheap->nheaps && found == NULL; i++) {
		struct heap_span span = span_of(mheap->heaps[i].heap);

		if ((uintptr_t)addr >= span.start &&
		    (uintptr_t)addr < span.end) {
			found = &mheap->heaps[i];
		}
	}
	KHEAP_SAN_EXIT();
	return found;
}

void sys_multi_heap_free(struct sys_multi_heap *mheap, void *block)
{
	if (block == NULL) {
		return;
	}
	const struct sys_multi_heap_rec *rec =
		sys_multi_heap_get_heap(mheap, block);

	if (rec == NULL) {
		report_foreign(block, "multi_heap_free");
		return;
	}
	sys_heap_free(rec->heap, block);
}

void *sys_multi_heap_aligned_realloc(struct sys_multi_heap *mheap, void *cfg,
				     void *ptr, size_t align, size_t bytes)
{
	if (ptr == NULL) {
		return sys_multi_heap_aligned_alloc(mheap, cfg, align, bytes);
	}
	if (bytes == 0u) {
		sys_multi_heap_free(mheap, ptr);
		return NULL;
	}
	const struct sys_multi_heap_rec *rec =
		sys_multi_heap_get_heap(mheap, ptr);

	if (rec == NULL) {
		report_foreign(ptr, "multi_heap_realloc");
		return NULL;
	}
	/* A pointer its heap refuses is reported by that heap, which then
	 * returns NULL: it must not be copied from below. */
	void *mem = sys_heap_aligned_realloc(rec->heap, ptr, align, bytes);

	if (mem != NULL || !sys_heap_owns(rec->heap, ptr)) {
		return mem;
	}
	/* Its own heap has no room: any heap the choice function picks. */
	mem = mheap->choice(mheap, cfg, align, bytes);
	if (mem != NULL) {
		size_t old_bytes = sys_heap_usable_size(rec->heap, ptr);

		memcpy(mem, ptr, old_bytes < bytes ? old_bytes : bytes);
		sys_heap_free(rec->heap, ptr);
	}
	return mem;
}

void *sys_multi_heap_default_select(struct sys_multi_heap *mheap, void *cfg,
				    size_t align, size_t size)
{
	(void)cfg;
	for (unsigned int i = 0; mheap != NULL && i < mheap->nheaps; i++) {
		void *mem = sys_heap_aligned_alloc(mheap->heaps[i].heap, align,
						   size);

		if (mem != NULL) {
			return mem;
		}
	}
	return NULL;
}
