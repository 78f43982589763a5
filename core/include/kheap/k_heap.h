/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The kernel layer: k_heap (a sys_heap with a spinlock, a wait queue and
 * timeouts), the k_malloc family over the system heap, and thread
 * resource pools. Zephyr's API and semantics; a kernel port's
 * <zephyr/kernel.h> includes this header.
 *
 * Rules for every function here:
 * - Thread-safe: each k_heap has its own spinlock; calls on one heap from
 *   any number of threads and ISRs are serialised by it.
 * - ISR-safe with K_NO_WAIT only. A timeout other than K_NO_WAIT from an
 *   ISR is a fault (kheap_port_fault) and the call returns NULL.
 * - A request that can never succeed (0 bytes, larger than the heap could
 *   hold even when empty, a size computation that overflows) returns NULL
 *   at once, even with K_FOREVER. (Zephyr would block forever; this is a
 *   deliberate improvement.)
 * - An alignment that is neither 0 nor a power of two is misuse (Zephyr
 *   asserts): a fault (kheap_port_fault), then NULL at once.
 * - Allocation cost is that of sys_heap (O(1)) plus the lock; a blocking
 *   call may pend any number of times until its deadline, which is
 *   computed once on entry: a timeout of N ticks ends N whole ticks or
 *   more after the call (sys_timepoint_calc, kheap/port.h), never sooner,
 *   whatever wakes the caller in between.
 * - Misuse of a pointer (double free, foreign pointer, overflow) is
 *   reported through kheap_port_fault with the heap's message; the call
 *   then does nothing.
 */
#ifndef KHEAP_K_HEAP_H
#define KHEAP_K_HEAP_H

#include <stdbool.h>
#include <stddef.h>

#include <kheap/port.h>
#include <kheap/tracing.h>
#include <zephyr/sys/sys_heap.h>

#ifdef __cplusplus
extern "C" {
#endif

struct k_heap {
	struct sys_heap heap;
	_wait_q_t wait_q;
	struct k_spinlock lock;
	/* Region of a K_HEAP_DEFINE heap, initialised on first use. */
	void *init_mem;
	size_t init_bytes;
};

/*
 * k_free checks that a block's heap reference names a known heap: a
 * K_HEAP_DEFINE heap, or one of the first KHEAP_MAX_DYNAMIC_HEAPS heaps set
 * up with k_heap_init (beyond that the check is given up, not enforced).
 */
#ifndef KHEAP_MAX_DYNAMIC_HEAPS
#define KHEAP_MAX_DYNAMIC_HEAPS 16
#endif

/* Statically defined heaps live in this linker section so that
 * k_heap_array_get can list them. A port's linker script must keep it
 * (GNU ld defines __start_/__stop_ symbols for it automatically). */
#ifndef KHEAP_STATIC_HEAP_SECTION
#define KHEAP_STATIC_HEAP_SECTION                                              \
	__attribute__((__section__("k_heap_area"), __used__,                   \
		       __aligned__(__alignof__(struct k_heap))))
#endif

/*
 * Names of K_HEAP_DEFINE heaps, for diagnostics. A port that reports heaps
 * by name (the simulator's allocation trace) compiles code with
 * KHEAP_HEAP_NAMES=1: each K_HEAP_DEFINE then also places a
 * struct kheap_heap_name (the heap and its variable name) in the linker
 * section k_heap_names, which the port reads through GNU ld's
 * __start_k_heap_names/__stop_k_heap_names. Without it (the default, and
 * on Cortex-M) nothing is emitted: struct k_heap has no name field.
 */
struct kheap_heap_name {
	const struct k_heap *heap;
	const char *name;
};

#if defined(KHEAP_HEAP_NAMES) && KHEAP_HEAP_NAMES
#define Z_KHEAP_NAME_RECORD(name)                                              \
	static const struct kheap_heap_name __attribute__((                    \
		__section__("k_heap_names"), __used__,                         \
		__aligned__(__alignof__(struct kheap_heap_name))))             \
	kheap_name_##name = {&(name), #name}
#else
/* A redeclaration: takes the macro user's semicolon and emits nothing. */
#define Z_KHEAP_NAME_RECORD(name) extern struct k_heap name
#endif

/**
 * Define a heap over a region of `bytes` bytes, 8-byte aligned (at least
 * Z_HEAP_MIN_SIZE: a smaller size is raised to it), usable from any code
 * at any time (it initialises itself on first use, before main if called
 * then) and listed by k_heap_array_get(). Like Zephyr's, the heap's own
 * metadata comes out of `bytes`: K_HEAP_DEFINE(h, Z_HEAP_MIN_SIZE_FOR(n))
 * is a heap certain to serve one k_heap_alloc(&h, n, ...).
 */
#define K_HEAP_DEFINE(name, bytes)                                             \
	static unsigned char __attribute__((__aligned__(8)))                   \
	kheap_region_##name[(bytes) > Z_HEAP_MIN_SIZE ? (bytes)                \
						      : Z_HEAP_MIN_SIZE];      \
	KHEAP_STATIC_HEAP_SECTION struct k_heap name = {                       \
		.init_mem = kheap_region_##name,                               \
		.init_bytes = sizeof(kheap_region_##name),                     \
	};                                                                     \
	Z_KHEAP_NAME_RECORD(name)

/**
 * Initialise a heap over [mem, mem + bytes). Returns 0, or -EINVAL (-22)
 * for a region sys_heap_init() rejects (the heap then fails every
 * allocation). Zephyr returns void; callers may ignore the result.
 * Not for a heap in use.
 */
int k_heap_init(struct k_heap *heap, void *mem, size_t bytes);

/**
 * Allocate `bytes` (8-byte aligned). With a timeout other than K_NO_WAIT,
 * waits for frees until the deadline computed on entry: every k_heap_free
 * on this heap wakes all waiters, each retries, and one last attempt is
 * made at the deadline. Returns NULL on timeout, at once for impossible
 * requests, and for blocking calls from ISRs (fault).
 */
void *k_heap_alloc(struct k_heap *heap, size_t bytes, k_timeout_t timeout);

/**
 * k_heap_alloc() of a block aligned to `align`: 0 (no requirement) or a
 * power of two, as in Zephyr. Any other value is misuse (Zephyr asserts):
 * reported through kheap_port_fault ("alignment is not a power of two")
 * and the call returns NULL at once. sys_heap's rewind form A | R is for
 * sys_heap_aligned_alloc only.
 */
void *k_heap_aligned_alloc(struct k_heap *heap, size_t align, size_t bytes,
			   k_timeout_t timeout);

/** k_heap_alloc() of num * size zeroed bytes; NULL if the product
 * overflows. */
void *k_heap_calloc(struct k_heap *heap, size_t num, size_t size,
		    k_timeout_t timeout);

/**
 * Resize a block of this heap (sys_heap_realloc semantics: NULL ptr
 * allocates, 0 bytes frees and returns NULL, in place when possible). If
 * it cannot be resized now, waits as k_heap_alloc does. On failure
 * returns NULL and the block is untouched.
 */
void *k_heap_realloc(struct k_heap *heap, void *ptr, size_t bytes,
		     k_timeout_t timeout);

/** Free a block of this heap (NULL: no-op) and wake all waiters. */
void k_heap_free(struct k_heap *heap, void *mem);

/** Set *heaps to the first K_HEAP_DEFINE heap and return how many there
 * are (0 and NULL if none). */
int k_heap_array_get(struct k_heap **heaps);

/* ---- the k_malloc family over the system heap ------------------------ */

/* The system heap's usable size in bytes (Zephyr's Kconfig option), set
 * at build time; 0: no system heap, and every k_malloc family call
 * returns NULL. */
#ifndef CONFIG_HEAP_MEM_POOL_SIZE
#define CONFIG_HEAP_MEM_POOL_SIZE 16384
#endif

/* The system heap's final size as Zephyr computes it: code tests it (for
 * instance #if K_HEAP_MEM_POOL_SIZE > 0) to know whether there is a
 * system heap. Zephyr raises it to what subsystems ask for with
 * CONFIG_HEAP_MEM_POOL_ADD_SIZE_*; kheap has no such requests, so it is
 * CONFIG_HEAP_MEM_POOL_SIZE unless the build defines it. */
#ifndef K_HEAP_MEM_POOL_SIZE
#define K_HEAP_MEM_POOL_SIZE CONFIG_HEAP_MEM_POOL_SIZE
#endif

/* The system heap (defined by the core when K_HEAP_MEM_POOL_SIZE > 0), as
 * recent Zephyr defines it: over Z_HEAP_MIN_SIZE_FOR(K_HEAP_MEM_POOL_SIZE)
 * bytes, so that its metadata comes on top of the configured size. A
 * fresh system heap serves one k_malloc(K_HEAP_MEM_POOL_SIZE - 8): the
 * block's heap reference (and, on 32-bit targets, the padding that keeps
 * blocks 8-byte aligned) takes the other 8 bytes. */
extern struct k_heap _system_heap;

/**
 * Allocate from the system heap, never blocking. Blocks are aligned to
 * 8 bytes (max_align_t on Cortex-M; Zephyr gives only pointer alignment)
 * and carry their heap's address just below them, so k_free() finds the
 * heap. k_malloc(0) returns a unique non-NULL pointer that k_free
 * accepts. NULL when the heap is full or size + overhead overflows.
 */
void *k_malloc(size_t size);

/** k_malloc() of nmemb * size zeroed bytes; NULL if the product
 * overflows (either order). */
void *k_calloc(size_t nmemb, size_t size);

/**
 * Resize a k_malloc family block (in its own heap). ptr NULL: k_malloc.
 * size 0: frees ptr and returns NULL (also for ptr NULL). Shrinks in
 * place, grows in place when the next block is free, else moves. Blocks
 * tracked for a thread's autofree always move (so even a shrink needs
 * free space). On
 * failure returns NULL with the old block intact.
 */
void *k_realloc(void *ptr, size_t size);

/**
 * Allocate with alignment `align`: 0 or a power of two (smaller than 8
 * means 8; Zephyr asserts that it is a multiple of the pointer size,
 * kheap accepts any power of two). Any other align is misuse, reported
 * through kheap_port_fault ("alignment is not a power of two"), and the
 * call returns NULL. The heap pointer is stored just below the block
 * using sys_heap's rewind, so the alignment costs no extra padding. NULL
 * when no space is found.
 */
void *k_aligned_alloc(size_t align, size_t size);

/** Free a k_malloc family block, in whichever heap it came from (the
 * system heap or a thread's pool). NULL: no-op. */
void k_free(void *ptr);

/* ---- thread resource pools ------------------------------------------- */

/** Give `thread` a resource pool (NULL removes it). */
void k_thread_heap_assign(struct k_thread *thread, struct k_heap *heap);

/** Give `thread` the system heap as its resource pool. */
void k_thread_system_pool_assign(struct k_thread *thread);

/**
 * Allocate on the calling thread's behalf: from its resource pool; from
 * the system heap in ISR context; NULL if the thread has no pool. Never
 * blocks. Free with k_free(). z_thread_aligned_alloc's align is checked
 * as k_aligned_alloc's (a malformed one is a fault, then NULL).
 */
void *z_thread_malloc(size_t size);
void *z_thread_aligned_alloc(size_t align, size_t size);

/**
 * kheap extension: while enabled for `thread`, blocks z_thread_malloc
 * hands it are tracked, and whatever the thread has not freed when it
 * exits is freed for it (the port calls z_thread_pool_release on exit).
 * Tracked blocks cost two pointers more. Blocks allocated before the
 * mode was enabled are not tracked.
 */
void k_thread_pool_autofree(struct k_thread *thread, bool enable);

/**
 * Port: set up a new thread's kernel-layer data; called by the creating
 * thread (or at boot for static threads) before the new thread runs. The
 * child inherits its creator's resource pool, as in Zephyr, so a pool
 * given to a thread also serves the threads it creates; autofree starts
 * off. To give a thread another pool at creation, create it with a
 * K_FOREVER delay, call k_thread_heap_assign(), then start it.
 */
void z_thread_pool_init(struct kheap_thread_data *thread_data);

/**
 * Port: route sys_heap's fault reports (sys_heap_fault_handler_set) to
 * kheap_port_fault. k_heap_init() and the first use of a K_HEAP_DEFINE
 * heap do it; a port calls it at start-up so that a program that uses
 * only raw sys_heaps gets the same reports (the simulator does).
 */
void z_kheap_fault_route_install(void);

/** Port: free what a thread's pool still tracks for it; called once when
 * the thread exits (from the exiting thread or the one that reaps it). */
void z_thread_pool_release(struct kheap_thread_data *thread_data);

#ifdef __cplusplus
}
#endif

#endif /* KHEAP_K_HEAP_H */
