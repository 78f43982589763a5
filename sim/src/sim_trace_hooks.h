/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The simulator's definitions of the kernel layer's tracing hooks
 * (kheap/tracing.h), forced with -include into the copy of core/kernel
 * that kheap_sim links (CMake target kheap_kernel_sim). They feed the
 * allocation trace recorder (sim_trace.c), which writes a trace only when
 * KHEAP_TRACE names a file; otherwise each hook costs one call and one
 * atomic load.
 *
 * Why the hooks read the calls' parameters by name: the hooks carry what
 * Zephyr's carry (the heap and, on exit, the result), not the requested
 * size or the pointer being freed. A hook expands inside the traced
 * function, so a definition can use that function's parameters: `bytes`,
 * `align`, `num`, `size`, `nmemb`, `ptr`, `mem` as named in core/kernel.
 * A renamed parameter or a new hooked function makes this copy of the
 * kernel layer fail to compile (Z_SIM_TRACE_..._<obj_type>_<func> not
 * defined) rather than record something wrong; update the table below.
 *
 * The caller's address is __builtin_return_address(0) evaluated in the
 * traced function: the return address into the application's code.
 */
#ifndef KHEAP_SIM_TRACE_HOOKS_H
#define KHEAP_SIM_TRACE_HOOKS_H

#include <stddef.h>

/* The recorded operations; their trace names are in sim_trace.c. */
enum z_sim_trace_op {
	Z_SIM_TR_K_MALLOC,
	Z_SIM_TR_K_CALLOC,
	Z_SIM_TR_K_REALLOC,
	Z_SIM_TR_K_ALIGNED_ALLOC,
	Z_SIM_TR_K_FREE,
	Z_SIM_TR_HEAP_ALLOC,
	Z_SIM_TR_HEAP_ALIGNED_ALLOC,
	Z_SIM_TR_HEAP_CALLOC,
	Z_SIM_TR_HEAP_REALLOC,
	Z_SIM_TR_HEAP_FREE,
};

/* heap: the struct k_heap (NULL: k_free, whose heap is the block's);
 * ptr: the block freed or resized (NULL if none); n1 * n2: the bytes
 * requested (n2 is 1 except for calloc); align: 0 if none. */
void z_sim_trace_enter(enum z_sim_trace_op op, const void *heap,
		       const void *ptr, size_t n1, size_t n2, size_t align,
		       const void *caller);
/* result: the call's return value (NULL for the free calls). */
void z_sim_trace_exit(const void *result);
/* k_heap_init(heap, mem, bytes). */
void z_sim_trace_heap_init(const void *heap, const void *mem, size_t bytes);

#define Z_SIM_TRACE_CALLER __builtin_return_address(0)

#define SYS_PORT_TRACING_OBJ_FUNC_ENTER(obj_type, func, obj, ...)              \
	Z_SIM_TRACE_ENTER_##obj_type##_##func(obj)
#define SYS_PORT_TRACING_OBJ_FUNC_EXIT(obj_type, func, obj, ...)               \
	Z_SIM_TRACE_EXIT_##obj_type##_##func(obj)
/* Pending is not an event of the trace: the call is recorded when it
 * returns. */
#define SYS_PORT_TRACING_OBJ_FUNC_BLOCKING(obj_type, func, obj, ...)           \
	do {                                                                   \
	} while (0)
#define SYS_PORT_TRACING_OBJ_INIT(obj_type, obj, ...)                          \
	z_sim_trace_heap_init((obj), mem, bytes)

/* k_heap_*(heap, ...): parameters as in core/kernel/kheap.c. */
#define Z_SIM_TRACE_ENTER_k_heap_alloc(obj)                                    \
	z_sim_trace_enter(Z_SIM_TR_HEAP_ALLOC, (obj), NULL, bytes, 1u, 0u,     \
			  Z_SIM_TRACE_CALLER)
#define Z_SIM_TRACE_ENTER_k_heap_aligned_alloc(obj)                            \
	z_sim_trace_enter(Z_SIM_TR_HEAP_ALIGNED_ALLOC, (obj), NULL, bytes, 1u, \
			  align, Z_SIM_TRACE_CALLER)
#define Z_SIM_TRACE_ENTER_k_heap_calloc(obj)                                   \
	z_sim_trace_enter(Z_SIM_TR_HEAP_CALLOC, (obj), NULL, num, size, 0u,    \
			  Z_SIM_TRACE_CALLER)
#define Z_SIM_TRACE_ENTER_k_heap_realloc(obj)                                  \
	z_sim_trace_enter(Z_SIM_TR_HEAP_REALLOC, (obj), ptr, bytes, 1u, 0u,    \
			  Z_SIM_TRACE_CALLER)
#define Z_SIM_TRACE_ENTER_k_heap_free(obj)                                     \
	z_sim_trace_enter(Z_SIM_TR_HEAP_FREE, (obj), mem, 0u, 1u, 0u,          \
			  Z_SIM_TRACE_CALLER)

/* The k_malloc family: parameters as in core/kernel/kmalloc.c. */
#define Z_SIM_TRACE_ENTER_k_heap_sys_k_malloc(obj)                             \
	z_sim_trace_enter(Z_SIM_TR_K_MALLOC, (obj), NULL, size, 1u, 0u,        \
			  Z_SIM_TRACE_CALLER)
#define Z_SIM_TRACE_ENTER_k_heap_sys_k_calloc(obj)                             \
	z_sim_trace_enter(Z_SIM_TR_K_CALLOC, (obj), NULL, nmemb, size, 0u,     \
			  Z_SIM_TRACE_CALLER)
#define Z_SIM_TRACE_ENTER_k_heap_sys_k_realloc(obj)                            \
	z_sim_trace_enter(Z_SIM_TR_K_REALLOC, (obj), ptr, size, 1u, 0u,        \
			  Z_SIM_TRACE_CALLER)
#define Z_SIM_TRACE_ENTER_k_heap_sys_k_aligned_alloc(obj)                      \
	z_sim_trace_enter(Z_SIM_TR_K_ALIGNED_ALLOC, (obj), NULL, size, 1u,     \
			  align, Z_SIM_TRACE_CALLER)
/* k_free's hook object is the pointer itself. */
#define Z_SIM_TRACE_ENTER_k_heap_sys_k_free(obj)                               \
	z_sim_trace_enter(Z_SIM_TR_K_FREE, NULL, (obj), 0u, 1u, 0u,            \
			  Z_SIM_TRACE_CALLER)

/* Exits: every allocating function returns a local named `mem`. */
#define Z_SIM_TRACE_EXIT_k_heap_alloc(obj) z_sim_trace_exit(mem)
#define Z_SIM_TRACE_EXIT_k_heap_aligned_alloc(obj) z_sim_trace_exit(mem)
#define Z_SIM_TRACE_EXIT_k_heap_calloc(obj) z_sim_trace_exit(mem)
#define Z_SIM_TRACE_EXIT_k_heap_realloc(obj) z_sim_trace_exit(mem)
#define Z_SIM_TRACE_EXIT_k_heap_free(obj) z_sim_trace_exit(NULL)
#define Z_SIM_TRACE_EXIT_k_heap_sys_k_malloc(obj) z_sim_trace_exit(mem)
#define Z_SIM_TRACE_EXIT_k_heap_sys_k_calloc(obj) z_sim_trace_exit(mem)
#define Z_SIM_TRACE_EXIT_k_heap_sys_k_realloc(obj) z_sim_trace_exit(mem)
#define Z_SIM_TRACE_EXIT_k_heap_sys_k_aligned_alloc(obj) z_sim_trace_exit(mem)
#define Z_SIM_TRACE_EXIT_k_heap_sys_k_free(obj) z_sim_trace_exit(NULL)

#endif /* KHEAP_SIM_TRACE_HOOKS_H */
