/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Allocation-failure injection, for tests of composite operations.
 *
 * Built only with CONFIG_KHEAP_FAILURE_INJECTION=1 (test builds). An
 * "internal allocation" is every search for free space the core makes:
 * each sys_heap_alloc, sys_heap_aligned_alloc and sys_heap_noalign_alloc
 * call, and the allocation a sys_heap_realloc / sys_heap_aligned_realloc
 * makes when the block must move (a realloc that resizes in place makes
 * none). k_heap_*, k_malloc and friends reach the core only through these.
 *
 * An injected failure behaves exactly like a heap with no room: the call
 * returns NULL (realloc leaves the old block untouched) and the heap is
 * unchanged. One global state for all heaps and threads, unlocked: for
 * single-threaded tests.
 */
#ifndef KHEAP_FAILURE_INJECTION_H
#define KHEAP_FAILURE_INJECTION_H

#include <stdbool.h>

#include <kheap/config.h>

#ifdef __cplusplus
extern "C" {
#endif

#if CONFIG_KHEAP_FAILURE_INJECTION

/* From now on, count internal allocations from 1; number nth fails, and
 * with sticky so does every later one. nth 0 disables injection. Resets
 * both counters. */
void kheap_fail_nth(unsigned long nth, bool sticky);

/* Internal allocations counted since the last kheap_fail_nth(). */
unsigned long kheap_fail_calls(void);

/* Failures injected since the last kheap_fail_nth(). */
unsigned long kheap_fail_injected(void);

/* The core's query, once per internal allocation: true to fail it. */
bool z_kheap_fail_this_alloc(void);

#endif

#ifdef __cplusplus
}
#endif

#endif /* KHEAP_FAILURE_INJECTION_H */
