/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Timepoints: absolute deadlines computed once from a relative timeout, so
 * that a call which waits several times never waits longer in total than
 * its timeout.
 *
 * A timeout of N ticks is counted from the current time rounded up to a
 * tick (kheap_port_tick_ceil), and a timepoint has passed once the
 * rounded-down tick count (sys_clock_tick_get) reaches it: so a wait
 * lasts at least N whole ticks whenever the clock was read. Counting from
 * the rounded-down count instead ended waits up to a tick early on a
 * free-running clock (read 0.9 ticks into tick T, a 5-tick wait ended at
 * T + 5, 4.1 ticks later).
 */
#include <kheap/port.h>

#define TIMEPOINT_NEVER UINT64_MAX

k_timepoint_t sys_timepoint_calc(k_timeout_t timeout)
{
	k_timepoint_t timepoint;

	if (timeout.ticks == K_TICKS_FOREVER) {
		timepoint.tick = TIMEPOINT_NEVER;
	} else if (timeout.ticks <= 0) {
		timepoint.tick = 0u;
	} else {
		timepoint.tick = (uint64_t)kheap_port_tick_ceil() +
				 (uint64_t)timeout.ticks;
	}
	return timepoint;
}

k_timeout_t sys_timepoint_timeout(k_timepoint_t timepoint)
{
	if (timepoint.tick == TIMEPOINT_NEVER) {
		return K_FOREVER;
	}
	uint64_t now = (uint64_t)sys_clock_tick_get();

	if (timepoint.tick <= now) {
		return K_NO_WAIT;
	}
	uint64_t left = timepoint.tick - now;

	/* Up to a tick more than the largest relative timeout. */
	if (left > (uint64_t)INT64_MAX) {
		return K_FOREVER;
	}
	return K_TICKS(left);
}

bool sys_timepoint_expired(k_timepoint_t timepoint)
{
	return K_TIMEOUT_EQ(sys_timepoint_timeout(timepoint), K_NO_WAIT);
}
