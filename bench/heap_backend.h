/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The allocator under test of the drivers that must run any allocator
 * the same way: the worst-case counters (bench_worst.c on x86-64,
 * target/bench/worst_image.c on Cortex-M), the bookkeeping sweep
 * (heap_bookkeeping.c) and the code-size probe
 * (target/codesize/size_probe.c). kheap's sys_heap by default; a build
 * that defines KHEAP_BENCH_BACKEND as a quoted header name gets that
 * header instead, so a peer allocator runs under the same driver, with
 * the same workloads (workload_gen.h), and its figures compare.
 *
 * A backend header defines:
 *   BENCH_HEAP_NAME                 the allocator's name, a string
 *   bench_heap_t                    the handle the calls take first
 *   BENCH_HEAP_ALLOC(h, bytes)      the functions, each named by a
 *   BENCH_HEAP_ALIGNED_ALLOC(h, align, bytes)  macro that expands to
 *   BENCH_HEAP_FREE(h, mem)         an identifier (the Cortex-M probes
 *   BENCH_HEAP_REALLOC(h, mem, bytes) call the symbol itself)
 *   BENCH_HEAP_HAS_ALIGNED_ALLOC    1, or 0 if the allocator has none
 *   BENCH_HEAP_HAS_REALLOC          1, or 0 likewise (the drivers then
 *                                   skip those ops and count them)
 *   bench_heap_t bench_heap_init(void *mem, size_t bytes)
 *                                   a fresh heap over the region, or
 *                                   NULL if the allocator refuses it
 *   bool bench_heap_check(bench_heap_t h)
 *                                   full consistency check (true if the
 *                                   allocator has none)
 *   size_t bench_heap_header_bytes(bench_heap_t h)
 *                                   bytes in front of each block (0 if
 *                                   the allocator does not say)
 * and may define
 *   BENCH_HEAP_MIN_ALIGN            the alignment of every block it
 *                                   returns (default 8, kheap's)
 * The functions may keep one heap's state in static storage: the drivers
 * use one heap at a time.
 */
#ifndef KHEAP_BENCH_HEAP_BACKEND_H
#define KHEAP_BENCH_HEAP_BACKEND_H

#ifdef KHEAP_BENCH_BACKEND
#include KHEAP_BENCH_BACKEND
#else
#include "backend_kheap.h"
#endif

#ifndef BENCH_HEAP_MIN_ALIGN
#define BENCH_HEAP_MIN_ALIGN 8u
#endif

#define BENCH_STR_(x) #x
/* The symbol a BENCH_HEAP_* macro names, as a string. */
#define BENCH_STR(x) BENCH_STR_(x)

#endif /* KHEAP_BENCH_HEAP_BACKEND_H */
