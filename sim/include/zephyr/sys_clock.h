/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Zephyr's <zephyr/sys_clock.h> for the kheap simulator: the timeout type
 * and constructors (from kheap/port.h) and the Z_TIMEOUT_* forms that
 * Zephyr's K_MSEC and friends are built from.
 */
#ifndef ZEPHYR_SYS_CLOCK_H
#define ZEPHYR_SYS_CLOCK_H

#include <stdint.h>

#include <kheap/port.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Timeouts from ticks, milli-, micro- and nanoseconds; durations round
 * up to whole ticks, so a timeout never shortens. The same values as
 * K_TICKS, K_MSEC, K_USEC and K_NSEC. */
#define Z_TIMEOUT_NO_WAIT K_NO_WAIT
#define Z_FOREVER K_FOREVER
#define Z_TIMEOUT_TICKS(t) K_TICKS(t)
#define Z_TIMEOUT_MS(t) K_MSEC(t)
#define Z_TIMEOUT_US(t) K_USEC(t)
#define Z_TIMEOUT_NS(t)                                                        \
	K_TICKS(((int64_t)(t)*CONFIG_SYS_CLOCK_TICKS_PER_SEC + 999999999) /    \
		1000000000)

/* Whether two timeouts are the same (K_TIMEOUT_EQ(t, K_NO_WAIT)). */
#ifndef K_TIMEOUT_EQ
#define K_TIMEOUT_EQ(a, b) ((a).ticks == (b).ticks)
#endif

#ifdef __cplusplus
}
#endif

#endif /* ZEPHYR_SYS_CLOCK_H */
