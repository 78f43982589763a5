/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Tracing hooks of the kernel layer (kheap/tracing.h). This program links
 * kheap_kernel_traced: core/kernel built with trace_hooks.h forced in, so
 * every hook calls kt_trace_record() below, which logs the event.
 *
 * For every k_heap_* and k_malloc-family call, on success and failure
 * paths (refused requests, faults): the call's first event is ENTER and
 * its last EXIT of its own name, every ENTER has its EXIT (properly
 * nested per thread), the heap is the hook's object, and BLOCKING is
 * reported once per call that pends, never for a call that does not.
 * k_heap_init reports INIT.
 *
 * Usage: test_kernel_trace [test-name-pattern]
 */
/* First, as in the traced kernel layer (the hooks stay defined here too,
 * unused). */
#include "trace_hooks.h"

#include "kernel_test.h"

#include <string.h>

#include <zephyr/irq_offload.h>

/* ---- the event log ------------------------------------------------------ */

struct trace_event {
	enum kt_trace_kind kind;
	const char *obj_type;
	const char *func;
	const void *obj;
	const struct k_thread *thread;
};

#define MAX_EVENTS 1024
static struct trace_event events[MAX_EVENTS];
static unsigned int event_count;
static bool events_overflowed;

void kt_trace_record(enum kt_trace_kind kind, const char *obj_type,
		     const char *func, const void *obj)
{
	if (event_count == MAX_EVENTS) {
		events_overflowed = true;
		return;
	}
	events[event_count++] = (struct trace_event){
		.kind = kind,
		.obj_type = obj_type,
		.func = func,
		.obj = obj,
		.thread = k_current_get(),
	};
}

static void events_reset(void)
{
	event_count = 0;
	events_overflowed = false;
}

static const char *const kind_names[] = {"ENTER", "BLOCKING", "EXIT", "INIT"};

static void print_events(void)
{
	for (unsigned int i = 0; i < event_count; i++) {
		printf("#   %2u %-8s %s.%s(%p) thread %p\n", i,
		       kind_names[events[i].kind], events[i].obj_type,
		       events[i].func, events[i].obj,
		       (const void *)events[i].thread);
	}
}

static bool event_is(const struct trace_event *e, enum kt_trace_kind kind,
		     const char *obj_type, const char *func)
{
	return e->kind == kind && strcmp(e->obj_type, obj_type) == 0 &&
	       strcmp(e->func, func) == 0;
}

/*
 * Check the events of one call made by `thread` (NULL: every event):
 * it opens with ENTER obj_type.func and closes with the matching EXIT,
 * ENTER/EXIT pairs nest properly, BLOCKING only inside an open call, and
 * exactly `blocking` BLOCKING events. obj, if not NULL, is the outermost
 * hooks' object.
 */
static void check_call(const char *what, const struct k_thread *thread,
		       const char *obj_type, const char *func, const void *obj,
		       unsigned int blocking)
{
	const struct trace_event *mine[MAX_EVENTS];
	unsigned int count = 0;

	assert_false(events_overflowed);
	for (unsigned int i = 0; i < event_count; i++) {
		if (thread == NULL || events[i].thread == thread) {
			mine[count++] = &events[i];
		}
	}
	const struct trace_event *open[16];
	unsigned int depth = 0;
	unsigned int blocking_seen = 0;
	const char *problem = NULL;

	if (count < 2 || !event_is(mine[0], KT_TRACE_ENTER, obj_type, func) ||
	    !event_is(mine[count - 1], KT_TRACE_EXIT, obj_type, func)) {
		problem =
			"does not open with its ENTER and close with its EXIT";
	} else if (obj != NULL &&
		   (mine[0]->obj != obj || mine[count - 1]->obj != obj)) {
		problem = "the hooks' object is not the heap";
	}
	for (unsigned int i = 0; i < count && problem == NULL; i++) {
		const struct trace_event *e = mine[i];

		switch (e->kind) {
		case KT_TRACE_ENTER:
			if (depth == 16) {
				problem = "nests too deeply";
				break;
			}
			open[depth++] = e;
			break;
		case KT_TRACE_EXIT:
			if (depth == 0 ||
			    !event_is(open[depth - 1], KT_TRACE_ENTER,
				      e->obj_type, e->func)) {
				problem = "has an EXIT that matches no ENTER";
				break;
			}
			depth--;
			if (depth == 0 && i != count - 1) {
				problem = "has events after its EXIT";
			}
			break;
		case KT_TRACE_BLOCKING:
			blocking_seen++;
			if (depth == 0 ||
			    !event_is(open[depth - 1], KT_TRACE_ENTER,
				      e->obj_type, e->func)) {
				problem = "reports BLOCKING outside the "
					  "blocking call";
			}
			break;
		case KT_TRACE_INIT:
			problem = "reports INIT";
			break;
		}
	}
	if (problem == NULL && depth != 0) {
		problem = "leaves an ENTER without its EXIT";
	}
	if (problem == NULL && blocking_seen != blocking) {
		problem = blocking == 0 ? "reports BLOCKING without blocking"
					: "reports BLOCKING the wrong number "
					  "of times";
	}
	if (problem != NULL) {
		print_events();
		fail_msg("%s (%s.%s) %s (%u BLOCKING, expected %u)", what,
			 obj_type, func, problem, blocking_seen, blocking);
	}
}

/* Nothing traced at all (NULL frees may be no-ops in the trace). */
static void check_nothing_or_balanced(const char *what)
{
	unsigned int depth = 0;

	for (unsigned int i = 0; i < event_count; i++) {
		depth += events[i].kind == KT_TRACE_ENTER;
		if (events[i].kind == KT_TRACE_EXIT) {
			if (depth == 0) {
				print_events();
				fail_msg("%s: EXIT without ENTER", what);
			}
			depth--;
		}
	}
	if (depth != 0) {
		print_events();
		fail_msg("%s: ENTER without EXIT", what);
	}
}

/* ---- fixtures ------------------------------------------------------------ */

static struct k_heap heap;
static unsigned char heap_region[4096] __attribute__((__aligned__(8)));

static int setup(void **state)
{
	kt_setup_det(state);
	assert_int_equal(k_heap_init(&heap, heap_region, sizeof(heap_region)),
			 0);
	events_reset();
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	kt_join_all();
	(void)sim_fault_capture(false);
	return 0;
}

#define K_HEAP "k_heap"
#define K_HEAP_SYS "k_heap_sys"

/* ---- tests ----------------------------------------------------------------- */

static void test_trace_k_heap_init(void **state)
{
	(void)state;
	events_reset();
	assert_int_equal(k_heap_init(&heap, heap_region, sizeof(heap_region)),
			 0);
	assert_int_equal(event_count, 1);
	assert_true(events[0].kind == KT_TRACE_INIT);
	assert_string_equal(events[0].obj_type, K_HEAP);
	assert_ptr_equal(events[0].obj, &heap);
}

static void test_trace_k_heap_calls(void **state)
{
	(void)state;
	void *mem;
	void *other;

	events_reset();
	mem = k_heap_alloc(&heap, 64, K_NO_WAIT);
	assert_non_null(mem);
	check_call("k_heap_alloc", NULL, K_HEAP, "alloc", &heap, 0);

	events_reset();
	assert_null(k_heap_alloc(&heap, 0, K_FOREVER));
	check_call("k_heap_alloc of 0 bytes", NULL, K_HEAP, "alloc", &heap, 0);

	events_reset();
	assert_null(k_heap_alloc(&heap, 1u << 20, K_FOREVER));
	check_call("k_heap_alloc too large", NULL, K_HEAP, "alloc", &heap, 0);

	events_reset();
	other = k_heap_aligned_alloc(&heap, 256, 32, K_NO_WAIT);
	assert_non_null(other);
	check_call("k_heap_aligned_alloc", NULL, K_HEAP, "aligned_alloc", &heap,
		   0);

	events_reset();
	k_heap_free(&heap, other);
	check_call("k_heap_free", NULL, K_HEAP, "free", &heap, 0);

	events_reset();
	other = k_heap_calloc(&heap, 4, 8, K_NO_WAIT);
	assert_non_null(other);
	check_call("k_heap_calloc", NULL, K_HEAP, "calloc", &heap, 0);
	k_heap_free(&heap, other);

	events_reset();
	assert_null(k_heap_calloc(&heap, SIZE_MAX, 2, K_FOREVER));
	check_call("k_heap_calloc overflowing", NULL, K_HEAP, "calloc", &heap,
		   0);

	events_reset();
	mem = k_heap_realloc(&heap, mem, 500, K_NO_WAIT);
	assert_non_null(mem);
	check_call("k_heap_realloc", NULL, K_HEAP, "realloc", &heap, 0);

	events_reset();
	other = k_heap_realloc(&heap, NULL, 20, K_NO_WAIT);
	assert_non_null(other);
	check_call("k_heap_realloc of NULL", NULL, K_HEAP, "realloc", &heap, 0);

	events_reset();
	assert_null(k_heap_realloc(&heap, other, 0, K_NO_WAIT));
	check_call("k_heap_realloc to 0", NULL, K_HEAP, "realloc", &heap, 0);

	events_reset();
	assert_null(k_heap_realloc(&heap, mem, SIZE_MAX, K_FOREVER));
	check_call("k_heap_realloc too large", NULL, K_HEAP, "realloc", &heap,
		   0);

	/* Full heap, K_NO_WAIT: fails without blocking. */
	void *rest = k_heap_alloc(&heap, sys_heap_max_alloc_bytes(&heap.heap),
				  K_NO_WAIT);

	assert_non_null(rest);
	events_reset();
	assert_null(k_heap_alloc(&heap, 64, K_NO_WAIT));
	check_call("k_heap_alloc on a full heap", NULL, K_HEAP, "alloc", &heap,
		   0);
	k_heap_free(&heap, rest);

	events_reset();
	k_heap_free(&heap, mem);
	check_call("k_heap_free", NULL, K_HEAP, "free", &heap, 0);

	events_reset();
	k_heap_free(&heap, NULL);
	check_nothing_or_balanced("k_heap_free(NULL)");
}

static void test_trace_k_malloc_family(void **state)
{
	(void)state;
	void *mem;

	events_reset();
	mem = k_malloc(100);
	assert_non_null(mem);
	check_call("k_malloc", NULL, K_HEAP_SYS, "k_malloc", NULL, 0);

	events_reset();
	assert_null(k_malloc(SIZE_MAX));
	check_call("k_malloc too large", NULL, K_HEAP_SYS, "k_malloc", NULL, 0);

	events_reset();
	mem = k_realloc(mem, 300);
	assert_non_null(mem);
	check_call("k_realloc", NULL, K_HEAP_SYS, "k_realloc", NULL, 0);

	events_reset();
	assert_null(k_realloc(mem, SIZE_MAX));
	check_call("k_realloc too large", NULL, K_HEAP_SYS, "k_realloc", NULL,
		   0);

	events_reset();
	k_free(mem);
	check_call("k_free", NULL, K_HEAP_SYS, "k_free", NULL, 0);

	events_reset();
	mem = k_calloc(3, 40);
	assert_non_null(mem);
	check_call("k_calloc", NULL, K_HEAP_SYS, "k_calloc", NULL, 0);

	events_reset();
	assert_null(k_realloc(mem, 0));
	check_call("k_realloc to 0", NULL, K_HEAP_SYS, "k_realloc", NULL, 0);

	events_reset();
	assert_null(k_calloc(SIZE_MAX / 2, 3));
	check_call("k_calloc overflowing", NULL, K_HEAP_SYS, "k_calloc", NULL,
		   0);

	events_reset();
	mem = k_aligned_alloc(128, 50);
	assert_non_null(mem);
	check_call("k_aligned_alloc", NULL, K_HEAP_SYS, "k_aligned_alloc", NULL,
		   0);

	events_reset();
	kt_faults_expect();
	assert_null(k_aligned_alloc(24, 50));
	kt_faults_assert_one("k_aligned_alloc", "not a power of two", NULL,
			     NULL);
	check_call("k_aligned_alloc malformed", NULL, K_HEAP_SYS,
		   "k_aligned_alloc", NULL, 0);

	events_reset();
	k_free(mem);
	check_call("k_free", NULL, K_HEAP_SYS, "k_free", NULL, 0);

	events_reset();
	k_free(NULL);
	check_nothing_or_balanced("k_free(NULL)");
}

static void test_trace_refused_calls_exit(void **state)
{
	(void)state;
	uintptr_t words[2] = {0x55u, 0};

	/* A pointer with no heap reference: refused with a fault. */
	events_reset();
	kt_faults_expect();
	k_free(&words[1]);
	kt_faults_assert_one("k_free", "no heap reference", NULL, &words[1]);
	check_call("k_free refused", NULL, K_HEAP_SYS, "k_free", NULL, 0);

	/* An alignment that is not a power of two: refused with a fault. */
	events_reset();
	kt_faults_expect();
	assert_null(k_heap_aligned_alloc(&heap, 3, 64, K_NO_WAIT));
	kt_faults_assert_one("k_heap_aligned_alloc", "not a power of two",
			     &heap, NULL);
	check_call("k_heap_aligned_alloc refused", NULL, K_HEAP,
		   "aligned_alloc", &heap, 0);
}

static void blocking_alloc_in_isr(const void *arg)
{
	void **result = (void **)arg;

	*result = k_heap_alloc(&heap, 16, K_FOREVER);
}

static void test_trace_isr_refusal_exits(void **state)
{
	(void)state;
	void *result = &result;

	events_reset();
	kt_faults_expect();
	irq_offload(blocking_alloc_in_isr, &result);
	kt_faults_assert_one("k_heap_alloc", "ISR", &heap, NULL);
	assert_null(result);
	check_call("k_heap_alloc refused in an ISR", NULL, K_HEAP, "alloc",
		   &heap, 0);
}

/* ---- BLOCKING ----------------------------------------------------------- */

struct blocking_call {
	size_t bytes;
	k_timeout_t timeout;
	void *resize; /* realloc this block instead of allocating */
	void *result;
};

static void blocking_entry(void *p1, void *p2, void *p3)
{
	struct blocking_call *call = p1;

	(void)p2;
	(void)p3;
	if (call->resize != NULL) {
		call->result = k_heap_realloc(&heap, call->resize, call->bytes,
					      call->timeout);
	} else {
		call->result = k_heap_alloc(&heap, call->bytes, call->timeout);
	}
}

#define SMALL_BLOCKS 48

/* Fill the heap with small blocks; the rest in one block. */
static void fill_with_small_blocks(void **small, void **rest)
{
	for (int i = 0; i < SMALL_BLOCKS; i++) {
		small[i] = k_heap_alloc(&heap, 24, K_NO_WAIT);
		assert_non_null(small[i]);
	}
	*rest = k_heap_alloc(&heap, sys_heap_max_alloc_bytes(&heap.heap),
			     K_NO_WAIT);
	assert_non_null(*rest);
	assert_int_equal(sys_heap_max_alloc_bytes(&heap.heap), 0);
}

static void test_trace_blocking_once_per_pending_call(void **state)
{
	(void)state;
	void *small[SMALL_BLOCKS];
	void *rest;
	struct blocking_call call = {.bytes = 1000, .timeout = K_FOREVER};

	fill_with_small_blocks(small, &rest);
	events_reset();
	k_tid_t waiter = kt_spawn(0, blocking_entry, &call, NULL,
				  K_PRIO_PREEMPT(1), K_NO_WAIT);

	/* Two frees that wake the waiter without helping it. */
	k_sleep(K_TICKS(5));
	k_heap_free(&heap, small[0]);
	k_sleep(K_TICKS(5));
	k_heap_free(&heap, small[2]);
	k_sleep(K_TICKS(5));
	k_heap_free(&heap, rest);
	kt_join_all();
	assert_non_null(call.result);
	check_call("k_heap_alloc woken three times", waiter, K_HEAP, "alloc",
		   &heap, 1);

	/* Timing out: still one BLOCKING, none for the last attempt. */
	void *held = call.result;

	rest = k_heap_alloc(&heap, sys_heap_max_alloc_bytes(&heap.heap),
			    K_NO_WAIT);
	assert_non_null(rest);
	assert_null(k_heap_alloc(&heap, 1000, K_NO_WAIT));
	call.timeout = K_TICKS(10);
	call.result = NULL;
	events_reset();
	waiter = kt_spawn(0, blocking_entry, &call, NULL, K_PRIO_PREEMPT(1),
			  K_NO_WAIT);
	kt_join_all();
	assert_null(call.result);
	check_call("k_heap_alloc timing out", waiter, K_HEAP, "alloc", &heap,
		   1);
	k_heap_free(&heap, held);
	k_heap_free(&heap, rest);
	for (int i = 1; i < SMALL_BLOCKS; i++) {
		if (i != 2) {
			k_heap_free(&heap, small[i]);
		}
	}
	assert_int_equal(kt_heap_allocated_bytes(&heap), 0);
}

static void test_trace_blocking_realloc(void **state)
{
	(void)state;
	void *small[SMALL_BLOCKS];
	void *rest;

	fill_with_small_blocks(small, &rest);
	struct blocking_call call = {
		.bytes = 1000,
		.timeout = K_FOREVER,
		.resize = small[5],
	};

	events_reset();
	k_tid_t waiter = kt_spawn(0, blocking_entry, &call, NULL,
				  K_PRIO_PREEMPT(1), K_NO_WAIT);

	k_sleep(K_TICKS(3));
	k_heap_free(&heap, rest);
	kt_join_all();
	assert_non_null(call.result);
	check_call("k_heap_realloc that waits", waiter, K_HEAP, "realloc",
		   &heap, 1);
	k_heap_free(&heap, call.result);
	for (int i = 0; i < SMALL_BLOCKS; i++) {
		if (i != 5) {
			k_heap_free(&heap, small[i]);
		}
	}
	assert_int_equal(kt_heap_allocated_bytes(&heap), 0);
}

int main(int argc, char **argv)
{
	kt_program_args(argc, argv);
	const struct CMUnitTest tests[] = {
#define KT_TEST(name) cmocka_unit_test_setup_teardown(name, setup, teardown)
		KT_TEST(test_trace_k_heap_init),
		KT_TEST(test_trace_k_heap_calls),
		KT_TEST(test_trace_k_malloc_family),
		KT_TEST(test_trace_refused_calls_exit),
		KT_TEST(test_trace_isr_refusal_exits),
		KT_TEST(test_trace_blocking_once_per_pending_call),
		KT_TEST(test_trace_blocking_realloc),
#undef KT_TEST
	};
	return cmocka_run_group_tests_name("kernel layer tracing hooks", tests,
					   NULL, NULL);
}
