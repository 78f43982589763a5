/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The k_malloc family over the system heap, and thread resource pools.
 *
 * Every block carries the address of its k_heap in the pointer-sized
 * word just below the caller's pointer, at the end of a slot of
 * REF_SLOT_BYTES (the pointer size rounded up to KMALLOC_ALIGN):
 *
 *   [ sys_heap block ............................................ ]
 *   [ (rewind gap) ][ (pad) heap ref ][ caller's memory ...        ]
 *                                     ^ returned, aligned
 *
 * sys_heap's rewind form (align | REF_SLOT_BYTES) places the block so
 * that block + REF_SLOT_BYTES is aligned; for k_malloc's own alignment the
 * slot is the alignment, so the request is a plain one. On 32-bit targets
 * the slot spends 4 bytes of padding: blocks are 8-aligned, so a 4-byte
 * rewind would make the heap search for an aligned start and ask for two
 * more chunks than the block needs. Blocks
 * tracked for a thread's autofree (a kheap extension) carry a list node
 * instead, whose last word is the ref with bit 0 set:
 *
 *   [ block ][ pad ][ prev | next | owner | block | ref|1 ][ memory ... ]
 */
#include <string.h>

#include <kheap/k_heap.h>
#include <kheap/sanitizer.h>

#include "kernel_internal.h"

/* k_malloc alignment: max_align_t on Cortex-M (8), at least a pointer. */
#define KMALLOC_ALIGN (sizeof(void *) > 8u ? sizeof(void *) : 8u)
#define REF_SLOT_BYTES                                                         \
	((sizeof(uintptr_t) + KMALLOC_ALIGN - 1u) & ~(KMALLOC_ALIGN - 1u))
#define REF_TRACKED ((uintptr_t)1u)

#if K_HEAP_MEM_POOL_SIZE > 0
/* Metadata on top of the configured size, as in Zephyr (k_heap.h). */
K_HEAP_DEFINE(_system_heap, Z_HEAP_MIN_SIZE_FOR(K_HEAP_MEM_POOL_SIZE));
#define SYSTEM_HEAP (&_system_heap)
#else
#define SYSTEM_HEAP ((struct k_heap *)NULL)
#endif

/* A block tracked for its thread's autofree. */
struct owned_block {
	struct owned_block *prev;
	struct owned_block *next;
	struct kheap_thread_data *owner;
	void *block;
	uintptr_t heap_ref;
};

/* Guards every thread's owned-block list (cross-thread k_free included).
 * Never held while a heap lock is taken. */
static struct k_spinlock owned_lock;

static uintptr_t *ref_of(void *mem)
{
	return (uintptr_t *)mem - 1;
}

/* The sys_heap block of an untracked k_malloc family pointer. */
static void *block_of(void *mem)
{
	return (unsigned char *)mem - REF_SLOT_BYTES;
}

/*
 * Reads of what may not be the caller's memory: k_free and k_realloc look
 * below a pointer that may be stale (freed) or foreign before the heap
 * can check it. With memory-checker hooks (kheap/sanitizer.h) those bytes
 * may be poisoned, so the reads are the core's kind of access: bracketed
 * for memcheck and not instrumented by AddressSanitizer. Everything else
 * in this file touches only live blocks and stays checked.
 */
#if CONFIG_KHEAP_SANITIZER_HOOKS && defined(__GNUC__)
#define UNCHECKED_READ __attribute__((__no_sanitize_address__, __noinline__))
#else
#define UNCHECKED_READ
#endif

/* The heap reference below ptr. */
UNCHECKED_READ static uintptr_t ref_read(void *ptr)
{
	KHEAP_SAN_ENTER();
	uintptr_t ref = *ref_of(ptr);

	KHEAP_SAN_EXIT();
	return ref;
}

/* The block of the tracked-block node below ptr. */
UNCHECKED_READ static void *node_block_read(void *ptr)
{
	KHEAP_SAN_ENTER();
	void *block = ((struct owned_block *)ptr - 1)->block;

	KHEAP_SAN_EXIT();
	return block;
}

/* Raise a caller's alignment (0 or a power of two: checked on entry) to
 * the k_malloc family's. */
static size_t kmalloc_align(size_t align)
{
	return align < KMALLOC_ALIGN ? KMALLOC_ALIGN : align;
}

static void *heap_aligned_alloc(struct k_heap *heap, size_t align, size_t size)
{
	align = kmalloc_align(align);
	if (heap == NULL || size > SIZE_MAX - REF_SLOT_BYTES) {
		return NULL;
	}
	/* A | R: block + R is A-aligned (R == A means plain A). */
	void *block = z_kheap_aligned_alloc(heap, align | REF_SLOT_BYTES,
					    size + REF_SLOT_BYTES, K_NO_WAIT);

	if (block == NULL) {
		return NULL;
	}
	void *mem = (unsigned char *)block + REF_SLOT_BYTES;

	*ref_of(mem) = (uintptr_t)heap;
	return mem;
}

static void owned_link(struct owned_block *node, struct kheap_thread_data *td)
{
	k_spinlock_key_t key = k_spin_lock(&owned_lock);
	struct owned_block *head = td->owned_blocks;

	node->owner = td;
	node->prev = NULL;
	node->next = head;
	if (head != NULL) {
		head->prev = node;
	}
	td->owned_blocks = node;
	k_spin_unlock(&owned_lock, key);
}

static void owned_unlink(struct owned_block *node)
{
	k_spinlock_key_t key = k_spin_lock(&owned_lock);

	if (node->prev != NULL) {
		node->prev->next = node->next;
	} else {
		node->owner->owned_blocks = node->next;
	}
	if (node->next != NULL) {
		node->next->prev = node->prev;
	}
	k_spin_unlock(&owned_lock, key);
}

static void *tracked_alloc(struct k_heap *heap, struct kheap_thread_data *td,
			   size_t align, size_t size)
{
	align = kmalloc_align(align);
	size_t prefix = (sizeof(struct owned_block) + align - 1u) &
			~(align - 1u);

	if (size > SIZE_MAX - prefix) {
		return NULL;
	}
	unsigned char *block =
		z_kheap_aligned_alloc(heap, align, prefix + size, K_NO_WAIT);

	if (block == NULL) {
		return NULL;
	}
	unsigned char *mem = block + prefix;
	struct owned_block *node = (struct owned_block *)(void *)mem - 1;

	node->block = block;
	node->heap_ref = (uintptr_t)heap | REF_TRACKED;
	owned_link(node, td);
	return mem;
}

/*
 * The heap a k_malloc family pointer belongs to, or NULL after reporting
 * a pointer with no valid heap reference below it.
 */
static struct k_heap *owner_heap(void *ptr, const char *operation)
{
	struct k_heap *heap = (struct k_heap *)(ref_read(ptr) & ~REF_TRACKED);

	if (!z_kheap_is_known(heap)) {
		kheap_port_fault(operation,
				 "pointer has no heap reference below it (not "
				 "from the k_malloc family, or already freed)",
				 heap, ptr);
		return NULL;
	}
	return heap;
}

/* Whether a tracked block's node is intact (its block still live). */
static bool tracked_block_live(struct k_heap *heap, void *ptr)
{
	k_spinlock_key_t key = k_spin_lock(&heap->lock);
	bool live = sys_heap_owns(&heap->heap, node_block_read(ptr));

	k_spin_unlock(&heap->lock, key);
	return live;
}

void k_free(void *ptr)
{
	if (ptr == NULL) {
		return;
	}
	SYS_PORT_TRACING_OBJ_FUNC_ENTER(k_heap_sys, k_free, ptr);
	struct k_heap *heap = owner_heap(ptr, "k_free");

	if (heap == NULL) {
		SYS_PORT_TRACING_OBJ_FUNC_EXIT(k_heap_sys, k_free, ptr);
		return;
	}
	if ((ref_read(ptr) & REF_TRACKED) == 0u) {
		k_heap_free(heap, block_of(ptr));
	} else if (!tracked_block_live(heap, ptr)) {
		kheap_port_fault(
			"k_free",
			sys_heap_fault_message(SYS_HEAP_FAULT_NOT_ALLOCATED),
			heap, ptr);
	} else {
		struct owned_block *node = (struct owned_block *)ptr - 1;

		owned_unlink(node);
		k_heap_free(heap, node->block);
	}
	SYS_PORT_TRACING_OBJ_FUNC_EXIT(k_heap_sys, k_free, ptr);
}

void *k_aligned_alloc(size_t align, size_t size)
{
	SYS_PORT_TRACING_OBJ_FUNC_ENTER(k_heap_sys, k_aligned_alloc,
					SYSTEM_HEAP);
	void *mem = z_kheap_align_valid(align, SYSTEM_HEAP, "k_aligned_alloc")
			    ? heap_aligned_alloc(SYSTEM_HEAP, align, size)
			    : NULL;

	SYS_PORT_TRACING_OBJ_FUNC_EXIT(k_heap_sys, k_aligned_alloc, SYSTEM_HEAP,
				       mem);
	return mem;
}

void *k_malloc(size_t size)
{
	SYS_PORT_TRACING_OBJ_FUNC_ENTER(k_heap_sys, k_malloc, SYSTEM_HEAP);
	void *mem = heap_aligned_alloc(SYSTEM_HEAP, KMALLOC_ALIGN, size);

	SYS_PORT_TRACING_OBJ_FUNC_EXIT(k_heap_sys, k_malloc, SYSTEM_HEAP, mem);
	return mem;
}

void *k_calloc(size_t nmemb, size_t size)
{
	void *mem = NULL;

	SYS_PORT_TRACING_OBJ_FUNC_ENTER(k_heap_sys, k_calloc, SYSTEM_HEAP);
	if (size == 0u || nmemb <= SIZE_MAX / size) {
		mem = heap_aligned_alloc(SYSTEM_HEAP, KMALLOC_ALIGN,
					 nmemb * size);
	}
	if (mem != NULL) {
		memset(mem, 0, nmemb * size);
	}
	SYS_PORT_TRACING_OBJ_FUNC_EXIT(k_heap_sys, k_calloc, SYSTEM_HEAP, mem);
	return mem;
}

/* k_realloc without its tracing hooks. */
static void *realloc_in_own_heap(void *ptr, size_t size)
{
	/* size 0 first: k_realloc(NULL, 0) frees nothing and returns NULL. */
	if (size == 0u) {
		k_free(ptr);
		return NULL;
	}
	if (ptr == NULL) {
		return k_malloc(size);
	}
	struct k_heap *heap = owner_heap(ptr, "k_realloc");

	if (heap == NULL || size > SIZE_MAX - REF_SLOT_BYTES) {
		return NULL;
	}
	if ((ref_read(ptr) & REF_TRACKED) != 0u) {
		/* Tracked blocks move with their node: allocate, copy, free. */
		if (!tracked_block_live(heap, ptr)) {
			kheap_port_fault("k_realloc",
					 sys_heap_fault_message(
						 SYS_HEAP_FAULT_NOT_ALLOCATED),
					 heap, ptr);
			return NULL;
		}
		struct owned_block *node = (struct owned_block *)ptr - 1;
		size_t old_size = (size_t)((unsigned char *)node->block +
					   sys_heap_usable_size(&heap->heap,
								node->block) -
					   (unsigned char *)ptr);
		void *mem =
			tracked_alloc(heap, node->owner, KMALLOC_ALIGN, size);

		if (mem != NULL) {
			memcpy(mem, ptr, old_size < size ? old_size : size);
			k_free(ptr);
		}
		return mem;
	}
	void *block = z_kheap_aligned_realloc(heap, block_of(ptr),
					      KMALLOC_ALIGN | REF_SLOT_BYTES,
					      size + REF_SLOT_BYTES, K_NO_WAIT);

	return block == NULL ? NULL : (unsigned char *)block + REF_SLOT_BYTES;
}

void *k_realloc(void *ptr, size_t size)
{
	SYS_PORT_TRACING_OBJ_FUNC_ENTER(k_heap_sys, k_realloc, SYSTEM_HEAP,
					ptr);
	void *mem = realloc_in_own_heap(ptr, size);

	SYS_PORT_TRACING_OBJ_FUNC_EXIT(k_heap_sys, k_realloc, SYSTEM_HEAP, ptr,
				       mem);
	return mem;
}

/* ---- thread resource pools ------------------------------------------- */

void k_thread_heap_assign(struct k_thread *thread, struct k_heap *heap)
{
	kheap_port_thread_data(thread)->resource_pool = heap;
}

void k_thread_system_pool_assign(struct k_thread *thread)
{
	k_thread_heap_assign(thread, SYSTEM_HEAP);
}

void k_thread_pool_autofree(struct k_thread *thread, bool enable)
{
	kheap_port_thread_data(thread)->release_on_exit = enable;
}

void *z_thread_aligned_alloc(size_t align, size_t size)
{
	if (!z_kheap_align_valid(align, NULL, "z_thread_aligned_alloc")) {
		return NULL;
	}
	if (k_is_in_isr()) {
		return heap_aligned_alloc(SYSTEM_HEAP, align, size);
	}
	struct kheap_thread_data *td = kheap_port_thread_data(NULL);

	if (td == NULL || td->resource_pool == NULL) {
		return NULL;
	}
	if (td->release_on_exit) {
		return tracked_alloc(td->resource_pool, td, align, size);
	}
	return heap_aligned_alloc(td->resource_pool, align, size);
}

void *z_thread_malloc(size_t size)
{
	return z_thread_aligned_alloc(KMALLOC_ALIGN, size);
}

void z_thread_pool_init(struct kheap_thread_data *thread_data)
{
	struct kheap_thread_data *creator = kheap_port_thread_data(NULL);

	thread_data->resource_pool = creator != NULL ? creator->resource_pool
						     : NULL;
	thread_data->owned_blocks = NULL;
	thread_data->release_on_exit = false;
}

void z_thread_pool_release(struct kheap_thread_data *thread_data)
{
	for (;;) {
		k_spinlock_key_t key = k_spin_lock(&owned_lock);
		struct owned_block *node = thread_data->owned_blocks;

		if (node == NULL) {
			k_spin_unlock(&owned_lock, key);
			return;
		}
		thread_data->owned_blocks = node->next;
		if (node->next != NULL) {
			node->next->prev = NULL;
		}
		k_spin_unlock(&owned_lock, key);
		k_heap_free((struct k_heap *)(node->heap_ref & ~REF_TRACKED),
			    node->block);
	}
}
