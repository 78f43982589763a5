/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Thread stack objects for the kheap simulator, spelled as in Zephyr so
 * that code declaring stacks compiles unchanged.
 *
 * Simulated threads are pthreads and run on stacks the C library gives
 * them: the memory these macros define is never used as a stack (it only
 * keeps K_THREAD_STACK_SIZEOF() and the symbols real). Its size is the
 * requested size, so a host build uses about as much static memory as the
 * device build would.
 */
#ifndef ZEPHYR_KERNEL_THREAD_STACK_H
#define ZEPHYR_KERNEL_THREAD_STACK_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

struct z_thread_stack_element {
	char data;
};

typedef struct z_thread_stack_element k_thread_stack_t;
typedef struct z_thread_stack_element k_kernel_stack_t;

/* Alignment of stack objects (that of a host stack pointer). */
#define Z_THREAD_STACK_OBJ_ALIGN 16

/* Bytes reserved for a stack of `size` bytes. */
#define K_THREAD_STACK_LEN(size) ((size_t)(size))
#define K_KERNEL_STACK_LEN(size) ((size_t)(size))

#define K_THREAD_STACK_DEFINE(sym, size)                                       \
	struct z_thread_stack_element                                          \
		__attribute__((__aligned__(Z_THREAD_STACK_OBJ_ALIGN)))         \
		sym[K_THREAD_STACK_LEN(size)]

#define K_THREAD_STACK_ARRAY_DEFINE(sym, nmemb, size)                          \
	struct z_thread_stack_element                                          \
		__attribute__((__aligned__(Z_THREAD_STACK_OBJ_ALIGN)))         \
		sym[nmemb][K_THREAD_STACK_LEN(size)]

#define K_THREAD_STACK_MEMBER(sym, size)                                       \
	struct z_thread_stack_element                                          \
		__attribute__((__aligned__(Z_THREAD_STACK_OBJ_ALIGN)))         \
		sym[K_THREAD_STACK_LEN(size)]

#define K_THREAD_STACK_EXTERN(sym) extern k_thread_stack_t sym[]
#define K_THREAD_STACK_ARRAY_EXTERN(sym, nmemb, size)                          \
	extern k_thread_stack_t sym[nmemb][K_THREAD_STACK_LEN(size)]

#define K_THREAD_STACK_SIZEOF(sym) (sizeof(sym))
#define K_THREAD_STACK_BUFFER(sym) ((char *)(sym))

#define K_KERNEL_STACK_DEFINE(sym, size) K_THREAD_STACK_DEFINE(sym, size)
#define K_KERNEL_STACK_ARRAY_DEFINE(sym, nmemb, size)                          \
	K_THREAD_STACK_ARRAY_DEFINE(sym, nmemb, size)
#define K_KERNEL_STACK_MEMBER(sym, size) K_THREAD_STACK_MEMBER(sym, size)
#define K_KERNEL_STACK_EXTERN(sym) K_THREAD_STACK_EXTERN(sym)
#define K_KERNEL_STACK_SIZEOF(sym) K_THREAD_STACK_SIZEOF(sym)

#ifdef __cplusplus
}
#endif

#endif /* ZEPHYR_KERNEL_THREAD_STACK_H */
