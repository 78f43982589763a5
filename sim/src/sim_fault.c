/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Fault reporting: kheap_port_fault and the simulator's own checks.
 * Default: print the report on stderr and abort(). With capture on (a
 * test hook), record it and return so the faulting call carries on as
 * the port contract says.
 *
 * Callable with sim.mtx or a k_spinlock held: it takes only fault_mtx.
 */
#include "sim_internal.h"
#include "sim_trace.h"

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
	fprintf(stderr, "%s\n", f.text);
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
