/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Tracing hooks on entry and exit of every kernel-layer call, named as in
 * Zephyr's tracing API. Each compiles to nothing unless a port or the
 * application defines it before this header is included (for example in
 * a header forced with -include). Arguments are evaluated only by a
 * definition that uses them.
 *
 *   SYS_PORT_TRACING_OBJ_FUNC_ENTER(obj_type, func, obj, ...)
 *   SYS_PORT_TRACING_OBJ_FUNC_BLOCKING(obj_type, func, obj, ...)
 *   SYS_PORT_TRACING_OBJ_FUNC_EXIT(obj_type, func, obj, ...)
 *   SYS_PORT_TRACING_OBJ_INIT(obj_type, obj, ...)
 *
 * obj_type is k_heap for k_heap_* and k_heap_sys for the k_malloc
 * family; func is the call's name without its prefix (alloc, free, ...).
 */
#ifndef KHEAP_TRACING_H
#define KHEAP_TRACING_H

#ifdef __cplusplus
extern "C" {
#endif

#ifndef SYS_PORT_TRACING_OBJ_FUNC_ENTER
#define SYS_PORT_TRACING_OBJ_FUNC_ENTER(obj_type, func, obj, ...)              \
	do {                                                                   \
	} while (0)
#endif

#ifndef SYS_PORT_TRACING_OBJ_FUNC_BLOCKING
#define SYS_PORT_TRACING_OBJ_FUNC_BLOCKING(obj_type, func, obj, ...)           \
	do {                                                                   \
	} while (0)
#endif

#ifndef SYS_PORT_TRACING_OBJ_FUNC_EXIT
#define SYS_PORT_TRACING_OBJ_FUNC_EXIT(obj_type, func, obj, ...)               \
	do {                                                                   \
	} while (0)
#endif

#ifndef SYS_PORT_TRACING_OBJ_INIT
#define SYS_PORT_TRACING_OBJ_INIT(obj_type, obj, ...)                          \
	do {                                                                   \
	} while (0)
#endif

#ifdef __cplusplus
}
#endif

#endif /* KHEAP_TRACING_H */
