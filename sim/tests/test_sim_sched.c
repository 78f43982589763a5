/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The deterministic schedule: Zephyr's priority rules on one CPU, and
 * seeded choices that replay exactly.
 */
#include "sim_test.h"

#include <string.h>

static struct sim_trace trace;
static struct k_thread threads[6];
K_THREAD_STACK_ARRAY_DEFINE(stacks, 6, 2048);
static struct k_sem sem;

static k_tid_t spawn(int i, k_thread_entry_t entry, void *p1, int prio)
{
	return k_thread_create(&threads[i], stacks[i],
			       K_THREAD_STACK_SIZEOF(stacks[i]), entry, p1,
			       NULL, NULL, prio, 0, K_NO_WAIT);
}

static void join_all(int n)
{
	for (int i = 0; i < n; i++) {
		assert_int_equal(k_thread_join(&threads[i], K_FOREVER), 0);
	}
}

static int setup(void **state)
{
	(void)state;
	sim_test_det();
	trace_reset(&trace);
	k_sem_init(&sem, 0, 10);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	k_thread_priority_set(k_current_get(), CONFIG_MAIN_THREAD_PRIORITY);
	return 0;
}

static void say(void *p1, void *p2, void *p3)
{
	(void)p2;
	(void)p3;
	trace_add(&trace, "%s", (const char *)p1);
}

/* Less urgent threads wait until main blocks, then run most urgent
 * first. */
static void test_priority_order(void **state)
{
	(void)state;
	spawn(0, say, "A3 ", 3);
	spawn(1, say, "B1 ", 1);
	trace_add(&trace, "M1 ");
	spawn(2, say, "C2 ", 2);
	trace_add(&trace, "M2 ");
	k_yield(); /* only equal or more urgent threads would run */
	trace_add(&trace, "M3 ");
	join_all(3);
	assert_string_equal(trace.buf, "M1 M2 M3 B1 C2 A3 ");
}

/* A more urgent new thread preempts its (preemptible) creator at once. */
static void test_urgent_new_thread_preempts(void **state)
{
	(void)state;
	k_thread_priority_set(k_current_get(), 5);
	trace_add(&trace, "M1 ");
	spawn(0, say, "T2 ", 2);
	trace_add(&trace, "M2 ");
	spawn(1, say, "T5 ", 5); /* equal: waits */
	trace_add(&trace, "M3 ");
	join_all(2);
	assert_string_equal(trace.buf, "M1 T2 M2 M3 T5 ");
}

static void coop_creator(void *p1, void *p2, void *p3)
{
	(void)p1;
	(void)p2;
	(void)p3;
	trace_add(&trace, "X1 ");
	/* More urgent than this cooperative thread: it still waits. */
	k_thread_create(&threads[1], stacks[1],
			K_THREAD_STACK_SIZEOF(stacks[1]), say, "Y ", NULL, NULL,
			K_PRIO_COOP(0), 0, K_NO_WAIT);
	trace_add(&trace, "X2 ");
	k_sem_give(&sem); /* wakes the more urgent main: still no switch */
	trace_add(&trace, "X3 ");
	k_yield();
	trace_add(&trace, "X4 ");
}

static void test_coop_not_preempted(void **state)
{
	(void)state;
	/* Main at K_PRIO_COOP(1) waits on sem; X is coop and less urgent. */
	k_thread_priority_set(k_current_get(), K_PRIO_COOP(1));
	k_thread_create(&threads[0], stacks[0],
			K_THREAD_STACK_SIZEOF(stacks[0]), coop_creator, NULL,
			NULL, NULL, K_PRIO_COOP(2), 0, K_NO_WAIT);
	trace_add(&trace, "M1 ");
	assert_int_equal(k_sem_take(&sem, K_FOREVER), 0);
	trace_add(&trace, "M2 ");
	join_all(2);
	/* X yields: Y (most urgent) runs, then main (woken by the give),
	 * then X resumes. */
	assert_string_equal(trace.buf, "M1 X1 X2 X3 Y M2 X4 ");
}

static void urgent_taker(void *p1, void *p2, void *p3)
{
	(void)p1;
	(void)p2;
	(void)p3;
	k_sem_take(&sem, K_FOREVER);
	trace_add(&trace, "H ");
}

/* A give that readies a more urgent thread switches to it at once. */
static void test_give_preempts_preemptible(void **state)
{
	(void)state;
	k_thread_priority_set(k_current_get(), 5);
	spawn(0, urgent_taker, NULL, 2);
	trace_add(&trace, "M1 ");
	k_sem_give(&sem);
	trace_add(&trace, "M2 ");
	join_all(1);
	assert_string_equal(trace.buf, "M1 H M2 ");
}

static void test_sched_lock_defers_preemption(void **state)
{
	(void)state;
	k_thread_priority_set(k_current_get(), 5);
	k_sched_lock();
	spawn(0, say, "T ", 2);
	trace_add(&trace, "M1 ");
	k_sched_unlock();
	trace_add(&trace, "M2 ");
	join_all(1);
	assert_string_equal(trace.buf, "M1 T M2 ");
}

static void test_priority_set_preempts(void **state)
{
	(void)state;
	spawn(0, say, "T ", 5);
	trace_add(&trace, "M1 ");
	k_thread_priority_set(&threads[0], 0); /* equal: no switch */
	trace_add(&trace, "M2 ");
	k_thread_priority_set(&threads[0], -1);
	trace_add(&trace, "M3 ");
	join_all(1);
	assert_string_equal(trace.buf, "M1 M2 T M3 ");
}

static void yielder(void *p1, void *p2, void *p3)
{
	(void)p2;
	(void)p3;
	for (int i = 0; i < 3; i++) {
		trace_add(&trace, "%s", (const char *)p1);
		k_yield();
	}
}

static void test_yield_round_robin_fifo(void **state)
{
	(void)state;
	spawn(0, yielder, "A", 5);
	spawn(1, yielder, "B", 5);
	spawn(2, yielder, "C", 5);
	join_all(3);
	assert_string_equal(trace.buf, "ABCABCABC");
}

/* ---- seeded choices ---------------------------------------------------- */

static struct k_spinlock seeded_lock;
static int shared_counter;

static void worker(void *p1, void *p2, void *p3)
{
	(void)p2;
	(void)p3;
	for (int i = 0; i < 12; i++) {
		k_spinlock_key_t k = k_spin_lock(&seeded_lock);
		shared_counter++;
		trace_add(&trace, "%s", (const char *)p1);
		k_spin_unlock(&seeded_lock, k);
	}
}

/* Four equal-priority workers; returns the interleaving. */
static void run_seeded(uint64_t seed, enum sim_ties ties, unsigned int preempt,
		       char *out, size_t size)
{
	static const char *names[] = {"a", "b", "c", "d"};

	sim_test_config(SIM_MODE_DETERMINISTIC, SIM_CLOCK_VIRTUAL, seed, ties,
			preempt);
	trace_reset(&trace);
	memset(&seeded_lock, 0, sizeof(seeded_lock));
	shared_counter = 0;
	for (int i = 0; i < 4; i++) {
		spawn(i, worker, (void *)names[i], 5);
	}
	join_all(4);
	assert_int_equal(shared_counter, 48);
	/* Truncating copy (the traces compared fit; gcc -Os warns about
	 * snprintf's possible truncation). */
	size_t n = strnlen(trace.buf, size - 1u);

	memcpy(out, trace.buf, n);
	out[n] = '\0';
}

static void test_same_seed_same_interleaving(void **state)
{
	(void)state;
	char first[256], again[256];
	uint64_t seed = 0x5eed;

	sim_seed_from_env(&seed);
	run_seeded(seed, SIM_TIES_RANDOM, 50, first, sizeof(first));
	run_seeded(seed, SIM_TIES_RANDOM, 50, again, sizeof(again));
	printf("# seed 0x%llx: %s\n", (unsigned long long)seed, first);
	assert_string_equal(first, again);
}

static void test_seeds_explore_interleavings(void **state)
{
	(void)state;
	char traces[8][256];
	int distinct = 0;

	for (int s = 0; s < 8; s++) {
		run_seeded((uint64_t)s + 1, SIM_TIES_RANDOM, 50, traces[s],
			   sizeof(traces[s]));
		bool seen = false;
		for (int j = 0; j < s; j++) {
			seen = seen || !strcmp(traces[j], traces[s]);
		}
		distinct += !seen;
		printf("# seed %d: %s\n", s + 1, traces[s]);
	}
	assert_true(distinct >= 4);
	/* Preemption at lock release interleaves inside a thread's loop. */
	bool interleaved = false;
	for (int s = 0; s < 8; s++) {
		interleaved = interleaved ||
			      strncmp(traces[s], "aaaaaaaaaaaa", 12) != 0;
	}
	assert_true(interleaved);
}

static void test_without_preemption_runs_to_completion(void **state)
{
	(void)state;
	char out[256];

	/* FIFO ties, no preemption points: creation order, no
	 * interleaving, whatever the seed. */
	for (uint64_t seed = 1; seed <= 3; seed++) {
		run_seeded(seed, SIM_TIES_FIFO, 0, out, sizeof(out));
		assert_string_equal(
			out,
			"aaaaaaaaaaaabbbbbbbbbbbbccccccccccccdddddddddddd");
	}
	/* Random ties without preemption: threads still run to
	 * completion, in a seeded order. */
	run_seeded(7, SIM_TIES_RANDOM, 0, out, sizeof(out));
	for (int i = 0; i < 4; i++) {
		for (int j = 1; j < 12; j++) {
			assert_int_equal(out[12 * i + j], out[12 * i]);
		}
	}
	assert_true(sim_context_switches() > 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_priority_order, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_urgent_new_thread_preempts,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_coop_not_preempted, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_give_preempts_preemptible,
						setup, teardown),
		cmocka_unit_test_setup_teardown(
			test_sched_lock_defers_preemption, setup, teardown),
		cmocka_unit_test_setup_teardown(test_priority_set_preempts,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_yield_round_robin_fifo,
						setup, teardown),
		cmocka_unit_test_setup_teardown(
			test_same_seed_same_interleaving, setup, teardown),
		cmocka_unit_test_setup_teardown(
			test_seeds_explore_interleavings, setup, teardown),
		cmocka_unit_test_setup_teardown(
			test_without_preemption_runs_to_completion, setup,
			teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
