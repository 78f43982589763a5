/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Zephyr's toolchain abstractions that application code uses, for the
 * kheap simulator (GCC and Clang). Each is defined only if nothing
 * defined it before.
 */
#ifndef ZEPHYR_TOOLCHAIN_H
#define ZEPHYR_TOOLCHAIN_H

#ifdef __cplusplus
extern "C" {
#endif

/* Align a variable or member to `x` bytes (a power of two). */
#ifndef __aligned
#define __aligned(x) __attribute__((__aligned__(x)))
#endif

/* Lay a struct out without padding (members may be unaligned). */
#ifndef __packed
#define __packed __attribute__((__packed__))
#endif

/* Keep a definition even if nothing refers to it. */
#ifndef __used
#define __used __attribute__((__used__))
#endif

/* A definition that may be unused without a warning. */
#ifndef __maybe_unused
#define __maybe_unused __attribute__((__unused__))
#endif

/* Mark a parameter as deliberately unused. */
#ifndef ARG_UNUSED
#define ARG_UNUSED(x) (void)(x)
#endif

/* A compile-time assertion with an optional message:
 * BUILD_ASSERT(sizeof(long) == 8, "LP64 only"). */
#ifndef BUILD_ASSERT
#define BUILD_ASSERT(expr, ...) _Static_assert((expr), "" __VA_ARGS__)
#endif

#ifdef __cplusplus
}
#endif

#endif /* ZEPHYR_TOOLCHAIN_H */
