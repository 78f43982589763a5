/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Fault reporting: kheap_port_fault and the simulator's own checks, the
 * sys_heap reports of programs that use raw heaps, and Zephyr's assert
 * hooks (<zephyr/sys/__assert.h>).
 * Default: print the report on stderr and abort(). With capture on (a
 * test hook), record it and return so the faulting call carries on as
 * the port contract says. Built with CONFIG_ASSERT, a fault not captured
 * is a failed assertion: reported as Zephyr reports one, then
 * assert_post_action(), which a program may define (the default aborts);
 * if it returns, so does the faulting call, refused.
 *
 * Callable with sim.mtx or a k_spinlock held: it takes only fault_mtx.
 */
#include "sim_internal.h"
#include "sim_trace.h"

#include <kheap/config.h>
#include <zephyr/sys/__assert.h>

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static pthread_mutex_t fault_mtx = PTHREAD_MUTEX_INITIALIZER;
static bool capture;
static unsigned int fault_count;
static bool have_last;
static struct sim_fault last;

static void stop_with_context(void);

static void format_fault(char *buf, size_t size, const char *operation,
			 const char *message, const void *object,
			 const void *pointer)
{
	if (object) {
		snprintf(buf, size, "kheap fault: %s(%p) on heap %p: %s",
			 operation, pointer, object, message);
	} else {
		snprintf(buf, size, "kheap fault: %s(%p): %s", operation,
			 pointer, message);
	}
}

void sim_fault(const char *operation, const char *message, const void *object,
	       const void *pointer)
{
	struct sim_fault f = {
		.operation = operation ? operation : "?",
		.message = message ? message : "?",
		.object = object,
		.pointer = pointer,
	};

	format_fault(f.text, sizeof(f.text), f.operation, f.message, object,
		     pointer);
	pthread_mutex_lock(&fault_mtx);
	if (capture) {
		fault_count++;
		last = f;
		have_last = true;
		pthread_mutex_unlock(&fault_mtx);
		return;
	}
	pthread_mutex_unlock(&fault_mtx);

	fflush(stdout);
#if KHEAP_ZEPHYR_ASSERTS
	/* Where Zephyr would assert: its report, then the post action. */
	assert_print("ASSERTION FAIL [%s] @ %s:%d\n", f.operation, __FILE__,
		     __LINE__);
	assert_print("\t%s\n", f.text);
	assert_post_action(__FILE__, __LINE__);
#else
	fprintf(stderr, "%s\n", f.text);
	stop_with_context();
#endif
}

/* Where the simulator was, then abort(): the end of an unhandled fault. */
static void stop_with_context(void)
{
	struct sim_thread *self = sim_tls.self;
	fprintf(stderr,
		"kheap fault: in %s%s%s%s at tick %" PRId64
		" (seed 0x%016" PRIx64 ")\n",
		sim_tls.isr_depth > 0 ? "an ISR interrupting " : "",
		self ? "thread \"" : "a thread the simulator does not manage",
		self ? self->name : "", self ? "\"" : "", sim_now(),
		(uint64_t)sim.cfg.seed);
	fflush(stderr);
	z_sim_trace_flush();
	abort();
}

void kheap_port_fault(const char *operation, const char *message,
		      const void *object, const void *pointer)
{
	sim_fault(operation, message, object, pointer);
}

/* ---- Zephyr's assert hooks ---------------------------------------------- */

void assert_print(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fflush(stderr);
}

/* Zephyr's default stops the system (k_panic); so does this one. A
 * program (a test) defines its own to intercept assertions. */
__attribute__((__weak__)) void assert_post_action(const char *file,
						  unsigned int line)
{
	(void)file;
	(void)line;
	stop_with_context();
}

/* ---- sys_heap reports of raw heaps --------------------------------------- */

/* sys_heap_print_info's output: printk, as on a Zephyr console. */
static void heap_output(void *ctx, const char *text)
{
	(void)ctx;
	printk("%s", text);
}

void sim_heap_reports_install(void)
{
	sys_heap_output_set(heap_output, NULL);
	/* A raw sys_heap's faults reach kheap_port_fault, as a k_heap's do. */
	z_kheap_fault_route_install();
}

bool sim_fault_capture(bool on)
{
	pthread_mutex_lock(&fault_mtx);
	bool was = capture;
	capture = on;
	pthread_mutex_unlock(&fault_mtx);
	return was;
}

unsigned int sim_fault_count(void)
{
	pthread_mutex_lock(&fault_mtx);
	unsigned int n = fault_count;
	pthread_mutex_unlock(&fault_mtx);
	return n;
}

bool sim_fault_last(struct sim_fault *out)
{
	pthread_mutex_lock(&fault_mtx);
	bool have = have_last;
	if (have && out) {
		*out = last;
	}
	pthread_mutex_unlock(&fault_mtx);
	return have;
}

/* The strings are static sentences (the port contract's "fixed
 * sentence"), so returning them after unlocking is safe. */
const char *sim_fault_last_message(void)
{
	pthread_mutex_lock(&fault_mtx);
	const char *m = have_last ? last.message : "";
	pthread_mutex_unlock(&fault_mtx);
	return m;
}

const char *sim_fault_last_operation(void)
{
	pthread_mutex_lock(&fault_mtx);
	const char *m = have_last ? last.operation : "";
	pthread_mutex_unlock(&fault_mtx);
	return m;
}

void sim_fault_clear(void)
{
	pthread_mutex_lock(&fault_mtx);
	fault_count = 0;
	have_last = false;
	memset(&last, 0, sizeof(last));
	pthread_mutex_unlock(&fault_mtx);
}

void sim_fatal(const char *fmt, ...)
{
	va_list ap;

	fflush(stdout);
	fprintf(stderr, "kheap sim: fatal: ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\n");
	fflush(stderr);
	z_sim_trace_flush();
	abort();
}
