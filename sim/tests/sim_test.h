/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Helpers shared by the simulator's tests (header-only).
 */
#ifndef SIM_TEST_H
#define SIM_TEST_H

#include <inttypes.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <cmocka.h>

#include <kheap/sim.h>
#include <zephyr/kernel.h>

/* Reconfigure the simulator for one test case; prints the seed. */
static inline void sim_test_config(enum sim_mode mode, enum sim_clock clock,
				   uint64_t seed, enum sim_ties ties,
				   unsigned int preempt_percent)
{
	struct sim_config c;

	sim_config_default(&c);
	c.mode = mode;
	c.clock = clock;
	c.seed = seed;
	c.ties = ties;
	c.preempt_percent = preempt_percent;
	c.quiet = true;
	int rc = sim_configure(&c);
	assert_int_equal(rc, 0);
	printf("# sim: %s, %s clock, %s ties, preempt %u%%, seed 0x%016" PRIx64
	       "\n",
	       mode == SIM_MODE_DETERMINISTIC ? "deterministic" : "parallel",
	       clock == SIM_CLOCK_VIRTUAL ? "virtual" : "real",
	       ties == SIM_TIES_FIFO ? "fifo" : "random", preempt_percent,
	       seed);
	fflush(stdout);
}

/* Deterministic, virtual time, FIFO ties, no extra preemption. */
static inline void sim_test_det(void)
{
	sim_test_config(SIM_MODE_DETERMINISTIC, SIM_CLOCK_VIRTUAL, 1,
			SIM_TIES_FIFO, 0);
}

/* An execution trace: short labels appended by threads. */
struct sim_trace {
	char buf[4096];
	size_t len;
};

static inline void trace_add(struct sim_trace *t, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	int n = vsnprintf(t->buf + t->len, sizeof(t->buf) - t->len, fmt, ap);
	va_end(ap);
	if (n > 0 && (size_t)n < sizeof(t->buf) - t->len) {
		t->len += (size_t)n;
	}
}

static inline void trace_reset(struct sim_trace *t)
{
	t->len = 0;
	t->buf[0] = '\0';
}

#endif /* SIM_TEST_H */
