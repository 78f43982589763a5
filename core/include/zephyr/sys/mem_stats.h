/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Memory statistics record shared by sys_heap and k_heap (Zephyr's
 * <zephyr/sys/mem_stats.h> layout).
 */
#ifndef ZEPHYR_SYS_MEM_STATS_H
#define ZEPHYR_SYS_MEM_STATS_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

struct sys_memory_stats {
	/* Bytes in free blocks, headers included. */
	size_t free_bytes;
	/* Bytes in live blocks, headers and alignment padding included. */
	size_t allocated_bytes;
	/* Highest allocated_bytes since init or the last reset_max. */
	size_t max_allocated_bytes;
};

#ifdef __cplusplus
}
#endif

#endif /* ZEPHYR_SYS_MEM_STATS_H */
