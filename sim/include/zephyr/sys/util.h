/* SPDX-License-Identifier: Apache-2.0 */
/*
 * A few of Zephyr's utility macros, for code built on the kheap
 * simulator. Each is defined only if nothing defined it before.
 */
#ifndef ZEPHYR_SYS_UTIL_H
#define ZEPHYR_SYS_UTIL_H

#include <stddef.h>
#include <stdint.h>

#include <zephyr/sys/util_macro.h>
#include <zephyr/toolchain.h>

#ifdef __cplusplus
extern "C" {
#endif

#ifndef ARRAY_SIZE
#define ARRAY_SIZE(array) (sizeof(array) / sizeof((array)[0]))
#endif
#ifndef MIN
#define MIN(a, b) (((a) < (b)) ? (a) : (b))
#endif
#ifndef MAX
#define MAX(a, b) (((a) > (b)) ? (a) : (b))
#endif
#ifndef CLAMP
#define CLAMP(val, low, high)                                                  \
	(((val) <= (low)) ? (low) : (((val) >= (high)) ? (high) : (val)))
#endif
#ifndef BIT
#define BIT(n) (1UL << (n))
#endif
#ifndef BIT64
#define BIT64(n) (1ULL << (n))
#endif
#ifndef DIV_ROUND_UP
#define DIV_ROUND_UP(n, d) (((n) + (d)-1) / (d))
#endif
#ifndef ROUND_UP
#define ROUND_UP(x, align)                                                     \
	((((unsigned long)(x) + ((unsigned long)(align)-1)) /                  \
	  (unsigned long)(align)) *                                            \
	 (unsigned long)(align))
#endif
#ifndef ROUND_DOWN
#define ROUND_DOWN(x, align)                                                   \
	(((unsigned long)(x) / (unsigned long)(align)) * (unsigned long)(align))
#endif
#ifndef IS_POWER_OF_TWO
#define IS_POWER_OF_TWO(x) (((x) != 0U) && (((x) & ((x)-1U)) == 0U))
#endif
#ifndef CONTAINER_OF
#define CONTAINER_OF(ptr, type, field)                                         \
	((type *)(((char *)(ptr)) - offsetof(type, field)))
#endif
/* Integers carried in pointers (thread entry arguments, queue data). */
#ifndef POINTER_TO_INT
#define POINTER_TO_INT(x) ((int32_t)(intptr_t)(x))
#endif
#ifndef INT_TO_POINTER
#define INT_TO_POINTER(x) ((void *)(intptr_t)(x))
#endif
#ifndef POINTER_TO_UINT
#define POINTER_TO_UINT(x) ((uint32_t)(uintptr_t)(x))
#endif
#ifndef UINT_TO_POINTER
#define UINT_TO_POINTER(x) ((void *)(uintptr_t)(x))
#endif
#ifndef STRINGIFY
#define Z_STRINGIFY(x) #x
#define STRINGIFY(s) Z_STRINGIFY(s)
#endif

#ifdef __cplusplus
}
#endif

#endif /* ZEPHYR_SYS_UTIL_H */
