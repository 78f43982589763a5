/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Timepoints: absolute deadlines computed once from a relative timeout, so
 * that a call which waits several times never waits longer in total than
 * its timeout.
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
		timepoint.tick = (uint64_t)sys_clock_tick_get() +
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
	return K_TICKS(timepoint.tick - now);
}

bool sys_timepoint_expired(k_timepoint_t timepoint)
{
	return K_TIMEOUT_EQ(sys_timepoint_timeout(timepoint), K_NO_WAIT);
}
