/* SPDX-License-Identifier: Apache-2.0 */
/*
 * printk, ISR context (irq_offload, timer handlers), time queries, call
 * sites for diagnostics, and the core's assert hook.
 */
#include "sim_internal.h"
#include "sim_trace.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

/* ---- printk ----------------------------------------------------------- */

void vprintk(const char *fmt, va_list ap)
{
	vfprintf(stdout, fmt, ap);
	fflush(stdout);
}

void printk(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vprintk(fmt, ap);
	va_end(ap);
}

int snprintk(char *str, size_t len, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	int n = vsnprintf(str, len, fmt, ap);
	va_end(ap);
	return n;
}

/* ---- ISR context ------------------------------------------------------- */

bool k_is_in_isr(void)
{
	return sim_tls.isr_depth > 0;
}

static void isr_enter(struct sim_thread *interrupted, int *hold,
		      struct sim_thread **prev)
{
	*prev = sim_tls.isr_thread;
	*hold = sim_tls.hold_depth;
	if (sim_tls.isr_depth == 0) {
		sim_tls.isr_thread = interrupted;
	}
	sim_tls.isr_depth++;
}

static void isr_exit(int hold, struct sim_thread *prev)
{
	sim_tls.isr_depth--;
	if (sim_tls.hold_depth != hold) {
		sim_fault("isr", SIM_MSG_ISR_WITH_LOCK, NULL, NULL);
		sim_tls.hold_depth = hold;
	}
	sim_tls.isr_thread = prev;
}

void sim_run_isr(sim_timer_handler_t handler, void *arg,
		 struct sim_thread *interrupted)
{
	struct sim_thread *prev;
	int hold;

	isr_enter(interrupted, &hold, &prev);
	handler(arg);
	isr_exit(hold, prev);
}

void irq_offload(irq_offload_routine_t routine, const void *parameter)
{
	sim_init_once();
	struct sim_thread *self = sim_tls.self;
	struct sim_thread *interrupted =
		sim_tls.isr_depth > 0 ? sim_tls.isr_thread : self;
	struct sim_thread *prev;
	int hold;

	isr_enter(interrupted, &hold, &prev);
	routine(parameter);
	isr_exit(hold, prev);

	/* Interrupt exit: switch to a thread the handler made ready if it
	 * should preempt the caller. */
	if (self && sim_tls.isr_depth == 0 && sim_tls.hold_depth == 0) {
		sim_point(self, true);
	}
}

void sim_point(struct sim_thread *self, bool extra)
{
	if (!sim_is_det()) {
		sim_check_abort(self);
		return;
	}
	sim_lock();
	sim_point_locked(self, extra);
	sim_unlock();
}

void sim_wake_point(void)
{
	struct sim_thread *self = sim_tls.self;

	if (self && sim_tls.isr_depth == 0 && sim_tls.hold_depth == 0) {
		sim_point(self, true);
	}
}

/* ---- time ------------------------------------------------------------- */

int64_t sys_clock_tick_get(void)
{
	sim_init_once();
	return sim_now();
}

int64_t kheap_port_tick_ceil(void)
{
	sim_init_once();
	return sim_now_ceil();
}

/* Real clock in deterministic mode: reading the time is a point where a
 * due timer interrupt is delivered, so polling loops make progress. */
static k_ticks_t observed_now(void)
{
	sim_init_once();
	if (!sim_is_virtual() && sim_is_det() && sim_tls.self &&
	    sim_tls.isr_depth == 0 && sim_tls.hold_depth == 0) {
		sim_point(sim_tls.self, false);
	}
	return sim_now();
}

int64_t k_uptime_ticks(void)
{
	return observed_now();
}

int64_t k_uptime_get(void)
{
	return (int64_t)k_ticks_to_ms_floor64((uint64_t)observed_now());
}

uint32_t k_uptime_get_32(void)
{
	return (uint32_t)k_uptime_get();
}

int64_t k_uptime_delta(int64_t *reftime)
{
	int64_t now = k_uptime_get();
	int64_t delta = now - *reftime;

	*reftime = now;
	return delta;
}

uint64_t k_cycle_get_64(void)
{
	const uint64_t hz = CONFIG_SYS_CLOCK_HW_CYCLES_PER_SEC;

	if (sim_is_virtual()) {
		uint64_t t = (uint64_t)observed_now();
		return t / CONFIG_SYS_CLOCK_TICKS_PER_SEC * hz +
		       t % CONFIG_SYS_CLOCK_TICKS_PER_SEC * hz /
			       CONFIG_SYS_CLOCK_TICKS_PER_SEC;
	}
	(void)observed_now();
	uint64_t ns = sim_mono_ns() - atomic_load(&sim_real_start_ns);
	return ns / 1000000000u * hz + ns % 1000000000u * hz / 1000000000u;
}

uint32_t k_cycle_get_32(void)
{
	return (uint32_t)k_cycle_get_64();
}

/* ---- call sites --------------------------------------------------------- */

void z_sim_site_set(const char *file, int line)
{
	sim_tls.site_file = file;
	sim_tls.site_line = line;
}

/* ---- the core's assert hook ------------------------------------------- */

/* Programs built with KHEAP_ASSERTS get this unless they define their
 * own (the tests' support library does). */
void kheap_assert_fail(const char *file, int line, const char *expr);

__attribute__((__weak__)) void kheap_assert_fail(const char *file, int line,
						 const char *expr)
{
	fflush(stdout);
	fprintf(stderr, "kheap assert: %s:%d: %s\n", file, line, expr);
	fflush(stderr);
	z_sim_trace_flush();
	abort();
}
