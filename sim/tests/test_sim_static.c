/* SPDX-License-Identifier: Apache-2.0 */
/*
 * K_THREAD_DEFINE: static threads start before main() as on Zephyr: a
 * cooperative one more urgent than main runs before main() starts, a
 * less urgent one when main blocks, a delayed one after its delay, one
 * defined with SYS_FOREVER_MS only on k_thread_start.
 * Runs in the configuration ctest sets (deterministic, virtual time).
 */
#include "sim_test.h"

static struct sim_trace trace;

static void record(void *p1, void *p2, void *p3)
{
	(void)p2;
	(void)p3;
	trace_add(&trace, "%s@%lld ", (const char *)p1,
		  (long long)k_uptime_ticks());
}

K_THREAD_DEFINE(early, 1024, record, "early", NULL, NULL, K_PRIO_COOP(1), 0, 0);
K_THREAD_DEFINE(later, 1024, record, "later", NULL, NULL, 5, 0, 0);
K_THREAD_DEFINE(delayed, 1024, record, "delayed", NULL, NULL, 5, 0, 50);
K_THREAD_DEFINE(on_demand, 1024, record, "on_demand", NULL, NULL, 5, 0,
		SYS_FOREVER_MS);

static void test_static_threads(void **state)
{
	(void)state;
	/* Before main() ran any kernel call. */
	assert_string_equal(trace.buf, "early@0 ");
	assert_string_equal(k_thread_name_get(early), "early");
	assert_int_equal(k_thread_priority_get(later), 5);
	k_sleep(K_TICKS(1));
	assert_string_equal(trace.buf, "early@0 later@0 ");
	k_sleep(K_TICKS(59));
	assert_string_equal(trace.buf, "early@0 later@0 delayed@50 ");
	k_thread_start(on_demand);
	assert_int_equal(k_thread_join(on_demand, K_FOREVER), 0);
	assert_string_equal(trace.buf,
			    "early@0 later@0 delayed@50 on_demand@60 ");
	assert_int_equal(k_thread_join(early, K_NO_WAIT), 0);
	assert_int_equal(k_thread_join(later, K_NO_WAIT), 0);
	assert_int_equal(k_thread_join(delayed, K_NO_WAIT), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_static_threads),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
