/* SPDX-License-Identifier: Apache-2.0 */
/*
 * kheap build-time configuration: every hook the core uses, in one place,
 * each with a default that a port, a build preset or the application can
 * override by defining the macro before this header is seen (normally with
 * -D on the compiler command line).
 *
 * The core is freestanding C11: it needs <stddef.h>, <stdint.h>,
 * <stdbool.h> and memcpy/memset/memmove, nothing else.
 */
#ifndef KHEAP_CONFIG_H
#define KHEAP_CONFIG_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/*
 * KHEAP_ASSERT(cond): debug-only internal invariant checks. These never
 * guard against caller misuse (that goes through the fault handler, always
 * on); they catch bugs in the allocator itself. Off unless
 * KHEAP_ASSERT_HANDLER is defined by the build ("default" preset).
 */
#ifndef KHEAP_ASSERT
#ifdef KHEAP_ASSERT_HANDLER
void KHEAP_ASSERT_HANDLER(const char *file, int line, const char *expr);
#define KHEAP_ASSERT(cond)                                                     \
	((cond) ? (void)0 : KHEAP_ASSERT_HANDLER(__FILE__, __LINE__, #cond))
#else
#define KHEAP_ASSERT(cond) ((void)0)
#endif
#endif

/*
 * KHEAP_CLZ32(x): count leading zeros of a non-zero 32-bit value.
 * Uses the compiler builtin where the target has a native instruction
 * (x86, ARMv7-M and later). ARMv6-M (Cortex-M0/M0+) has no CLZ, and the
 * builtin would pull in libgcc's __clzsi2: there KHEAP_SOFT_CLZ is set,
 * the core's bit scans are its own (a de Bruijn multiplication and a
 * 32-byte table, inlined: heap_internal.h) and KHEAP_CLZ32 is
 * kheap_soft_clz32, built on them. A port may define KHEAP_CLZ32 itself
 * (a CPU without CLZ then uses it for the core's bit scans too). Define
 * KHEAP_FORCE_SOFT_CLZ to test the software path on any host.
 */
/* 1 where the CPU counts leading zeros in one instruction, so that the
 * compiler's bit-scan builtins are inline, not library calls. */
#if !defined(__arm__) || defined(__ARM_FEATURE_CLZ)
#define KHEAP_CPU_HAS_CLZ 1
#else
#define KHEAP_CPU_HAS_CLZ 0
#endif
#ifndef KHEAP_CLZ32
#if defined(__GNUC__) && !defined(KHEAP_FORCE_SOFT_CLZ) && KHEAP_CPU_HAS_CLZ
#define KHEAP_CLZ32(x) ((unsigned int)__builtin_clz(x))
#else
#define KHEAP_SOFT_CLZ 1
#define KHEAP_CLZ32(x) kheap_soft_clz32(x)
#endif
#endif

/*
 * CONFIG_SYS_HEAP_LISTENER: heap listeners (zephyr/sys/heap_listener.h).
 * On by default; with 0 every notification compiles to nothing.
 */
#ifndef CONFIG_SYS_HEAP_LISTENER
#define CONFIG_SYS_HEAP_LISTENER 1
#endif

/*
 * The block-header format, as Zephyr's CONFIG_SYS_HEAP_SMALL_ONLY /
 * CONFIG_SYS_HEAP_BIG_ONLY / CONFIG_SYS_HEAP_AUTO (docs/api.md, "Build
 * configuration", says what each costs):
 * - AUTO (the default: neither of the others set): 4-byte headers for
 *   regions of up to SYS_HEAP_SMALL_REGION_MAX_BYTES, 8-byte ones above;
 *   the format is chosen per heap and tested on every header access.
 * - CONFIG_SYS_HEAP_SMALL_ONLY=1: 4-byte headers always; sys_heap_init
 *   refuses a region above SYS_HEAP_SMALL_REGION_MAX_BYTES (-EINVAL).
 * - CONFIG_SYS_HEAP_BIG_ONLY=1: 8-byte headers always, any region size.
 * With one format the core carries no format test and one copy of each
 * path.
 */
#ifndef CONFIG_SYS_HEAP_SMALL_ONLY
#define CONFIG_SYS_HEAP_SMALL_ONLY 0
#endif
#ifndef CONFIG_SYS_HEAP_BIG_ONLY
#define CONFIG_SYS_HEAP_BIG_ONLY 0
#endif
#if CONFIG_SYS_HEAP_SMALL_ONLY && CONFIG_SYS_HEAP_BIG_ONLY
#error "CONFIG_SYS_HEAP_SMALL_ONLY and CONFIG_SYS_HEAP_BIG_ONLY exclude each other"
#endif

/*
 * CONFIG_SYS_HEAP_FIT_PROBES: how many heads of the request's own size
 * class an allocation inspects before it takes the head of the next
 * non-empty larger class (like Zephyr's CONFIG_SYS_HEAP_ALLOC_LOOPS). At
 * least 1. More probes serve more requests from their own class (better
 * utilization) and add a bounded number of steps to the worst case
 * (docs/api.md, "Build configuration", has the measured trade-off).
 */
#ifndef CONFIG_SYS_HEAP_FIT_PROBES
#define CONFIG_SYS_HEAP_FIT_PROBES 2
#endif
#if CONFIG_SYS_HEAP_FIT_PROBES < 1
#error "CONFIG_SYS_HEAP_FIT_PROBES must be at least 1"
#endif

/*
 * CONFIG_SYS_HEAP_SL_BITS: size classes per doubling of the block size,
 * as a power of two: 0 (one class per power of two, Zephyr's buckets) to
 * 3 (8 classes, the default). Fewer classes mean fewer class-list heads
 * in the control block (2 or 4 bytes each) and a coarser good fit
 * (docs/api.md, "Build configuration", and docs/design.md, "Size classes
 * per doubling", have the measured trade-off).
 */
#ifndef CONFIG_SYS_HEAP_SL_BITS
#define CONFIG_SYS_HEAP_SL_BITS 3
#endif
#if CONFIG_SYS_HEAP_SL_BITS < 0 || CONFIG_SYS_HEAP_SL_BITS > 3
#error "CONFIG_SYS_HEAP_SL_BITS must be 0 to 3"
#endif

/*
 * KHEAP_MAY_ALIAS: lets the core read and write block headers through
 * integer lvalues in memory whose declared type is a byte array (the
 * caller's region) without breaking strict-aliasing rules.
 */
#ifndef KHEAP_MAY_ALIAS
#if defined(__GNUC__)
#define KHEAP_MAY_ALIAS __attribute__((__may_alias__))
#else
#define KHEAP_MAY_ALIAS
#endif
#endif

/*
 * CONFIG_SYS_HEAP_HARDENING_LEVEL: how much misuse and corruption the heap
 * checks for, fixed at build time (like Zephyr's CONFIG_SYS_HEAP_HARDENING_*).
 * Each level includes the ones below it; costs are in docs/performance.md
 * and what each level detects is the matrix in docs/testing/hardening.md.
 *
 * NONE      only a pointer outside the heap's block area is refused; any
 *           other misuse (double free, interior pointer, overflow)
 *           corrupts the heap. For code proven at a higher level.
 * BASIC     (default) free, realloc and usable_size check the block's own
 *           header and both neighbours' (double free, interior and stale
 *           pointers, overflow into the next header); a neighbour that
 *           free or realloc merges with is range-checked before it is
 *           unlinked (its size ends inside the heap, its free-list links
 *           name chunks of the heap or a class that has a head), and the
 *           allocation path refuses a listed chunk marked used, an id
 *           outside the heap and a taken size past its end. Together:
 *           writes into the block area never make the heap read or write
 *           outside its region (zephyr/sys/sys_heap.h, "Corruption").
 * MODERATE  also soundness, where BASIC checks ranges: every chunk the
 *           allocation path reads from a free list, and every neighbour
 *           free or realloc merges with, must be marked free, sized
 *           inside the heap with a right neighbour that agrees, and
 *           linked both ways.
 * FULL      also a canary word at the end of every used block (4 bytes
 *           of each block), checked by free, realloc, usable_size and
 *           sys_heap_validate; the chunk an allocation takes agrees with
 *           its left neighbour; and the control block: its layout fields
 *           sealed into the magic (checked on entry to every call), its
 *           list heads and bitmaps range-checked where they are used.
 * EXTREME   also sys_heap_validate on entry to and before returning from
 *           every allocating, freeing or resizing call: O(blocks) per call.
 */
#define SYS_HEAP_HARDENING_NONE 0
#define SYS_HEAP_HARDENING_BASIC 1
#define SYS_HEAP_HARDENING_MODERATE 2
#define SYS_HEAP_HARDENING_FULL 3
#define SYS_HEAP_HARDENING_EXTREME 4

#ifndef CONFIG_SYS_HEAP_HARDENING_LEVEL
#define CONFIG_SYS_HEAP_HARDENING_LEVEL SYS_HEAP_HARDENING_BASIC
#endif

/*
 * CONFIG_KHEAP_SANITIZER_HOOKS: with 1 the core tells a memory checker
 * (AddressSanitizer, Valgrind memcheck) which bytes of the region a user
 * may touch, through the functions of kheap/sanitizer.h, which the port
 * provides (sim/ has ASan and Valgrind versions). Off by default: the
 * hooks then compile to nothing.
 */
#ifndef CONFIG_KHEAP_SANITIZER_HOOKS
#define CONFIG_KHEAP_SANITIZER_HOOKS 0
#endif

/*
 * CONFIG_KHEAP_FAILURE_INJECTION: with 1 the core can be told to fail its
 * Nth internal allocation (kheap/failure_injection.h), so tests can drive
 * every composite operation (realloc that moves, calloc, the aligned
 * wrappers) through its failure path. Test builds only.
 */
#ifndef CONFIG_KHEAP_FAILURE_INJECTION
#define CONFIG_KHEAP_FAILURE_INJECTION 0
#endif

/*
 * CONFIG_SYS_HEAP_MONITOR: run-time monitoring of each heap (see "Run-time
 * monitoring" in zephyr/sys/sys_heap.h): allocation failure counters, a
 * usage threshold that calls a user function when usage crosses it, and
 * the fragmentation index query. Off by default: with 0 none of it is
 * compiled and the control block is 8 bytes smaller.
 */
#ifndef CONFIG_SYS_HEAP_MONITOR
#define CONFIG_SYS_HEAP_MONITOR 0
#endif

/*
 * CONFIG_SYS_HEAP_ARRAY_SIZE (Zephyr's option): with N > 0, every
 * successful sys_heap_init() saves the heap's handle in an array of N
 * entries that sys_heap_array_get() returns (zephyr/sys/sys_heap.h).
 * 0 (default): no array; sys_heap_array_get() reports none.
 */
#ifndef CONFIG_SYS_HEAP_ARRAY_SIZE
#define CONFIG_SYS_HEAP_ARRAY_SIZE 0
#endif

/*
 * CONFIG_ASSERT (Zephyr's option, defined to 1 or not at all): misuse
 * that Zephyr asserts on reaches the port's fault path. The core then
 * also reports the regions sys_heap_init() refuses, which it otherwise
 * only answers with -EINVAL (zephyr/sys/sys_heap.h). Defined to 0 or
 * empty it is off. The whole build must agree, like the hardening level.
 */
#if defined(CONFIG_ASSERT) && (CONFIG_ASSERT + 0)
#define KHEAP_ZEPHYR_ASSERTS 1
#else
#define KHEAP_ZEPHYR_ASSERTS 0
#endif

/* Software count-leading-zeros; defined by the core (see sys_heap.c). */
unsigned int kheap_soft_clz32(uint32_t value);

#ifdef __cplusplus
}
#endif

#endif /* KHEAP_CONFIG_H */
