/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Tracing hooks for the kernel-layer tracing test: forced with -include
 * into every file of a separate build of core/kernel (the CMake target
 * kheap_kernel_traced), so that kheap/tracing.h sees them defined and
 * keeps them. Each hook reports to kt_trace_record(), which
 * test_kernel_trace.c defines. Self-contained: included before anything
 * else in those files.
 */
#ifndef KHEAP_TEST_TRACE_HOOKS_H
#define KHEAP_TEST_TRACE_HOOKS_H

enum kt_trace_kind {
	KT_TRACE_ENTER,
	KT_TRACE_BLOCKING,
	KT_TRACE_EXIT,
	KT_TRACE_INIT,
};

/* obj_type and func arrive as the hook's tokens, spelled as strings. */
void kt_trace_record(enum kt_trace_kind kind, const char *obj_type,
		     const char *func, const void *obj);

#define SYS_PORT_TRACING_OBJ_FUNC_ENTER(obj_type, func, obj, ...)              \
	kt_trace_record(KT_TRACE_ENTER, #obj_type, #func, (const void *)(obj))
#define SYS_PORT_TRACING_OBJ_FUNC_BLOCKING(obj_type, func, obj, ...)           \
	kt_trace_record(KT_TRACE_BLOCKING, #obj_type, #func,                   \
			(const void *)(obj))
#define SYS_PORT_TRACING_OBJ_FUNC_EXIT(obj_type, func, obj, ...)               \
	kt_trace_record(KT_TRACE_EXIT, #obj_type, #func, (const void *)(obj))
#define SYS_PORT_TRACING_OBJ_INIT(obj_type, obj, ...)                          \
	kt_trace_record(KT_TRACE_INIT, #obj_type, "init", (const void *)(obj))

#endif /* KHEAP_TEST_TRACE_HOOKS_H */
