/* SPDX-License-Identifier: Apache-2.0 */
/*
 * k_heap: a sys_heap behind a spinlock, with a wait queue for callers
 * willing to wait for memory. Knows nothing of chunk layout (only the
 * sys_heap API) and nothing of any kernel beyond kheap/port.h.
 *
 * Waiting protocol: a caller computes its deadline once, tries, and on
 * failure pends on the heap's wait queue for the time left, releasing the
 * lock atomically. Every free wakes all waiters; each retries in turn
 * under the lock. After the deadline passes one last attempt is made.
 */
#include <string.h>

#include <kheap/k_heap.h>

#include "kernel_internal.h"

#define EINVAL_RESULT (-22)

static const char isr_blocking_message[] =
	"blocking call from ISR context (only K_NO_WAIT is allowed there)";
static const char bad_align_message[] = "alignment is not a power of two";

/*
 * Addresses of heaps set up by k_heap_init, for z_kheap_is_known(). A
 * table of addresses, never dereferenced, so a heap whose storage is gone
 * (a local struct k_heap, freed memory) leaves only a stale number behind.
 * Once it overflows, heaps beyond it cannot be told from garbage and the
 * check is given up (registry_overflowed) rather than refusing their
 * blocks.
 */
static const struct k_heap *registered_heaps[KHEAP_MAX_DYNAMIC_HEAPS];
static size_t registered_count;
static bool registry_overflowed;
static struct k_spinlock registry_lock;

/* Record heap in the registry if it is not there yet. */
static void register_heap(const struct k_heap *heap)
{
	k_spinlock_key_t key = k_spin_lock(&registry_lock);
	bool listed = false;

	for (size_t i = 0; i < registered_count; i++) {
		listed = listed || registered_heaps[i] == heap;
	}
	if (!listed) {
		if (registered_count < KHEAP_MAX_DYNAMIC_HEAPS) {
			registered_heaps[registered_count++] = heap;
		} else {
			registry_overflowed = true;
		}
	}
	k_spin_unlock(&registry_lock, key);
}

static void report_heap_fault(const struct sys_heap_fault *fault)
{
	kheap_port_fault(fault->operation, sys_heap_fault_message(fault->kind),
			 fault->heap, fault->mem);
}

/* Idempotent, so every init may do it. */
void z_kheap_fault_route_install(void)
{
	sys_heap_fault_handler_set(report_heap_fault);
}

bool z_kheap_align_valid(size_t align, const void *heap, const char *operation)
{
	if ((align & (align - 1u)) != 0u) {
		kheap_port_fault(operation, bad_align_message, heap, NULL);
		return false;
	}
	return true;
}

/* Initialise a K_HEAP_DEFINE heap on first use. Called with its lock
 * held, so two first users cannot both initialise it. */
static void ensure_initialised(struct k_heap *heap)
{
	if (heap->heap.heap == NULL && heap->init_mem != NULL) {
		z_kheap_fault_route_install();
		(void)sys_heap_init(&heap->heap, heap->init_mem,
				    heap->init_bytes);
		heap->init_mem = NULL;
	}
}

int k_heap_init(struct k_heap *heap, void *mem, size_t bytes)
{
	if (heap == NULL) {
		return EINVAL_RESULT;
	}
	SYS_PORT_TRACING_OBJ_INIT(k_heap, heap);
	z_kheap_fault_route_install();
	memset(&heap->wait_q, 0, sizeof(heap->wait_q));
	memset(&heap->lock, 0, sizeof(heap->lock));
	heap->init_mem = NULL;
	heap->init_bytes = 0u;

	int result = sys_heap_init(&heap->heap, mem, bytes);

	register_heap(heap);
	return result;
}

/* The static heap array, bounded by GNU ld's section symbols. */
extern struct k_heap __start_k_heap_area[];
extern struct k_heap __stop_k_heap_area[];

int k_heap_array_get(struct k_heap **heaps)
{
	size_t count = (size_t)(__stop_k_heap_area - __start_k_heap_area);

	*heaps = count == 0u ? NULL : __start_k_heap_area;
	return (int)count;
}

bool z_kheap_is_known(const struct k_heap *heap)
{
	/* Compare addresses as integers: heap may point anywhere. */
	uintptr_t first = (uintptr_t)__start_k_heap_area;
	uintptr_t offset = (uintptr_t)heap - first;

	if (offset < (uintptr_t)__stop_k_heap_area - first) {
		return offset % sizeof(struct k_heap) == 0u;
	}
	k_spinlock_key_t key = k_spin_lock(&registry_lock);
	bool known = registry_overflowed;

	for (size_t i = 0; i < registered_count; i++) {
		known = known || registered_heaps[i] == heap;
	}
	k_spin_unlock(&registry_lock, key);
	return known;
}

/* Refuse blocking calls from ISRs; true if the call may go on. */
static bool timeout_allowed(const struct k_heap *heap, k_timeout_t timeout,
			    const char *operation)
{
	if (k_is_in_isr() && !K_TIMEOUT_EQ(timeout, K_NO_WAIT)) {
		kheap_port_fault(operation, isr_blocking_message, heap, NULL);
		return false;
	}
	return true;
}

/*
 * Pend for the time left until `end`, or return false (lock still held)
 * if it has passed. On true the lock has been released and retaken.
 */
static bool wait_for_free(struct k_heap *heap, k_spinlock_key_t *key,
			  k_timepoint_t end)
{
	k_timeout_t left = sys_timepoint_timeout(end);

	if (K_TIMEOUT_EQ(left, K_NO_WAIT)) {
		return false;
	}
	(void)z_pend_curr(&heap->lock, *key, &heap->wait_q, left);
	*key = k_spin_lock(&heap->lock);
	return true;
}

/*
 * k_heap_aligned_alloc, for the public call (rewind false: align must be 0
 * or a power of two) and for the kernel layer's own calls (rewind true:
 * also sys_heap's rewind form A | R, which the k_malloc family uses).
 */
static void *heap_alloc_aligned(struct k_heap *heap, size_t align, size_t bytes,
				k_timeout_t timeout, bool rewind)
{
	void *mem = NULL;

	SYS_PORT_TRACING_OBJ_FUNC_ENTER(k_heap, aligned_alloc, heap, timeout);
	if ((!rewind &&
	     !z_kheap_align_valid(align, heap, "k_heap_aligned_alloc")) ||
	    !timeout_allowed(heap, timeout, "k_heap_alloc")) {
		SYS_PORT_TRACING_OBJ_FUNC_EXIT(k_heap, aligned_alloc, heap,
					       timeout, mem);
		return NULL;
	}
	k_timepoint_t end = sys_timepoint_calc(timeout);
	k_spinlock_key_t key = k_spin_lock(&heap->lock);
	bool blocked = false;

	ensure_initialised(heap);
	if (sys_heap_request_fits(&heap->heap, align, bytes)) {
		do {
			mem = sys_heap_aligned_alloc(&heap->heap, align, bytes);
			if (mem != NULL || sys_timepoint_expired(end)) {
				break;
			}
			/* Traced once per call, when it is about to pend. */
			if (!blocked) {
				blocked = true;
				SYS_PORT_TRACING_OBJ_FUNC_BLOCKING(
					k_heap, aligned_alloc, heap, timeout);
			}
		} while (wait_for_free(heap, &key, end));
	}
	k_spin_unlock(&heap->lock, key);
	SYS_PORT_TRACING_OBJ_FUNC_EXIT(k_heap, aligned_alloc, heap, timeout,
				       mem);
	return mem;
}

void *k_heap_aligned_alloc(struct k_heap *heap, size_t align, size_t bytes,
			   k_timeout_t timeout)
{
	return heap_alloc_aligned(heap, align, bytes, timeout, false);
}

void *z_kheap_aligned_alloc(struct k_heap *heap, size_t align, size_t bytes,
			    k_timeout_t timeout)
{
	return heap_alloc_aligned(heap, align, bytes, timeout, true);
}

void *k_heap_alloc(struct k_heap *heap, size_t bytes, k_timeout_t timeout)
{
	SYS_PORT_TRACING_OBJ_FUNC_ENTER(k_heap, alloc, heap, timeout);
	void *mem = k_heap_aligned_alloc(heap, 0u, bytes, timeout);

	SYS_PORT_TRACING_OBJ_FUNC_EXIT(k_heap, alloc, heap, timeout, mem);
	return mem;
}

void *k_heap_calloc(struct k_heap *heap, size_t num, size_t size,
		    k_timeout_t timeout)
{
	void *mem = NULL;

	SYS_PORT_TRACING_OBJ_FUNC_ENTER(k_heap, calloc, heap, timeout);
	if (size == 0u || num <= SIZE_MAX / size) {
		mem = k_heap_alloc(heap, num * size, timeout);
	}
	if (mem != NULL) {
		memset(mem, 0, num * size);
	}
	SYS_PORT_TRACING_OBJ_FUNC_EXIT(k_heap, calloc, heap, timeout, mem);
	return mem;
}

void *z_kheap_aligned_realloc(struct k_heap *heap, void *ptr, size_t align,
			      size_t bytes, k_timeout_t timeout)
{
	void *mem = NULL;

	if (ptr == NULL) {
		return k_heap_aligned_alloc(heap, align, bytes, timeout);
	}
	if (bytes == 0u) {
		k_heap_free(heap, ptr);
		return NULL;
	}
	if (!timeout_allowed(heap, timeout, "k_heap_realloc")) {
		return NULL;
	}
	k_timepoint_t end = sys_timepoint_calc(timeout);
	k_spinlock_key_t key = k_spin_lock(&heap->lock);

	ensure_initialised(heap);
	if (!sys_heap_owns(&heap->heap, ptr)) {
		/* Let sys_heap report the misuse with its message. */
		(void)sys_heap_aligned_realloc(&heap->heap, ptr, align, bytes);
	} else if (sys_heap_request_fits(&heap->heap, align, bytes)) {
		bool blocked = false;

		do {
			mem = sys_heap_aligned_realloc(&heap->heap, ptr, align,
						       bytes);
			if (mem != NULL || sys_timepoint_expired(end)) {
				break;
			}
			if (!blocked) {
				blocked = true;
				SYS_PORT_TRACING_OBJ_FUNC_BLOCKING(
					k_heap, realloc, heap, timeout);
			}
			/* The deadline passing between the expiry test
			 * above and this one, with the lock held, needs a
			 * real clock; the allocation loop covers the same
			 * helper. GCOVR_EXCL_BR_START */
		} while (wait_for_free(heap, &key, end));
		/* GCOVR_EXCL_BR_STOP */
	}
	k_spin_unlock(&heap->lock, key);
	return mem;
}

void *k_heap_realloc(struct k_heap *heap, void *ptr, size_t bytes,
		     k_timeout_t timeout)
{
	SYS_PORT_TRACING_OBJ_FUNC_ENTER(k_heap, realloc, heap, ptr, timeout);
	void *mem = z_kheap_aligned_realloc(heap, ptr, 0u, bytes, timeout);

	SYS_PORT_TRACING_OBJ_FUNC_EXIT(k_heap, realloc, heap, ptr, timeout,
				       mem);
	return mem;
}

void k_heap_free(struct k_heap *heap, void *mem)
{
	if (mem == NULL) {
		return;
	}
	SYS_PORT_TRACING_OBJ_FUNC_ENTER(k_heap, free, heap);
	k_spinlock_key_t key = k_spin_lock(&heap->lock);

	ensure_initialised(heap);
	sys_heap_free(&heap->heap, mem);
	if (z_unpend_all(&heap->wait_q)) {
		z_reschedule(&heap->lock, key);
	} else {
		k_spin_unlock(&heap->lock, key);
	}
	SYS_PORT_TRACING_OBJ_FUNC_EXIT(k_heap, free, heap);
}
