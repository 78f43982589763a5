/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Memory-checker hooks: how the core tells a tool such as AddressSanitizer
 * or Valgrind memcheck which bytes of a heap region belong to a user.
 *
 * With CONFIG_KHEAP_SANITIZER_HOOKS set to 1 the core calls the functions
 * below and the port (or the test harness) defines them; sim/ has an
 * AddressSanitizer and a Valgrind implementation. With 0 (the default)
 * every hook is an empty macro and nothing here is referenced.
 *
 * The model: after sys_heap_init() no byte of the region may be touched by
 * the user; each live block's usable bytes (sys_heap_usable_size) may.
 * Block headers, free chunks, the control block, padding and the
 * FULL-hardening canary stay inaccessible. The core itself reads and
 * writes that metadata only between kheap_san_enter() and
 * kheap_san_exit(), so a tool that cannot exempt the allocator's own code
 * (memcheck) can stop reporting there; AddressSanitizer builds compile
 * the core without address instrumentation instead.
 * User code the core calls (the fault handler, heap listeners, the usage
 * callback) runs outside the bracket, so the tool checks it.
 *
 * Every hook is called with the heap's lock held, if it has one, and may
 * be called from an ISR; implementations must not block or allocate.
 */
#ifndef KHEAP_SANITIZER_H
#define KHEAP_SANITIZER_H

#include <stddef.h>

#include <kheap/config.h>

#ifdef __cplusplus
extern "C" {
#endif

#if CONFIG_KHEAP_SANITIZER_HOOKS

/* [mem, mem + bytes) is about to become a heap region: the core is going
 * to write its control block there (the region may have been poisoned by
 * an earlier heap on the same memory). */
void kheap_san_region_open(void *mem, size_t bytes);
/* sys_heap_init() finished: nothing in [mem, mem + bytes) is the user's. */
void kheap_san_region_close(void *mem, size_t bytes);
/* A block is named by its first byte (the memory after its header) in
 * every hook, whatever pointer the caller passed: a rewound aligned block,
 * handed out up to 7 bytes past that, counts those bytes as its own.
 *
 * A new live block: usable_bytes from mem are the caller's. Called before
 * the core copies into it (realloc). */
void kheap_san_alloc(void *mem, size_t usable_bytes);
/* A live block is freed: its usable_bytes from mem are no longer the
 * caller's. Called after the checks passed, before the core reuses the
 * memory for free-list links. */
void kheap_san_free(void *mem, size_t usable_bytes);
/* A live block was resized in place. */
void kheap_san_resize(void *mem, size_t old_usable_bytes,
		      size_t new_usable_bytes);
/* The core starts / stops touching heap metadata. Calls nest. */
void kheap_san_enter(void);
void kheap_san_exit(void);

#define KHEAP_SAN_REGION_OPEN(mem, bytes) kheap_san_region_open(mem, bytes)
#define KHEAP_SAN_REGION_CLOSE(mem, bytes) kheap_san_region_close(mem, bytes)
#define KHEAP_SAN_ENTER() kheap_san_enter()
#define KHEAP_SAN_EXIT() kheap_san_exit()

#else

#define KHEAP_SAN_REGION_OPEN(mem, bytes) ((void)0)
#define KHEAP_SAN_REGION_CLOSE(mem, bytes) ((void)0)
#define KHEAP_SAN_ENTER() ((void)0)
#define KHEAP_SAN_EXIT() ((void)0)

#endif

#ifdef __cplusplus
}
#endif

#endif /* KHEAP_SANITIZER_H */
