/* SPDX-License-Identifier: Apache-2.0 */
/* kheap-specific hooks of the benchmark (stats, metadata). */
#ifndef KHEAP_BENCH_KHEAP_H
#define KHEAP_BENCH_KHEAP_H

#include <zephyr/sys/sys_heap.h>

/* The heap behind bench_adapter_kheap. */
struct sys_heap *bench_kheap_heap(void);

#endif /* KHEAP_BENCH_KHEAP_H */
