/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Allocation-failure injection (kheap/failure_injection.h). Compiled into
 * every core library but empty unless CONFIG_KHEAP_FAILURE_INJECTION is 1.
 */
#include <kheap/failure_injection.h>

#if CONFIG_KHEAP_FAILURE_INJECTION

/* 0: injection off. Otherwise the 1-based number of the internal
 * allocation that fails first. */
static unsigned long fail_at_call;
static bool fail_sticky;
static unsigned long calls_counted;
static unsigned long failures_injected;

void kheap_fail_nth(unsigned long nth, bool sticky)
{
	fail_at_call = nth;
	fail_sticky = sticky;
	calls_counted = 0u;
	failures_injected = 0u;
}

unsigned long kheap_fail_calls(void)
{
	return calls_counted;
}

unsigned long kheap_fail_injected(void)
{
	return failures_injected;
}

bool z_kheap_fail_this_alloc(void)
{
	calls_counted++;
	if (fail_at_call == 0u || calls_counted < fail_at_call ||
	    (calls_counted > fail_at_call && !fail_sticky)) {
		return false;
	}
	failures_injected++;
	return true;
}

#else

/* ISO C wants at least one declaration in a translation unit. */
typedef int kheap_failure_injection_disabled;

#endif
