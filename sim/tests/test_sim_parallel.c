/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The parallel schedule (threads really run at once) and the real clock.
 */
#include "sim_test.h"

#include <stdatomic.h>
#include <string.h>
#include <time.h>

#define NTHREADS 8
#define INCREMENTS 100000

static struct k_thread threads[NTHREADS];
K_THREAD_STACK_ARRAY_DEFINE(stacks, NTHREADS, 4096);
static struct k_spinlock counter_lock;
static long counter;

static void incrementer(void *p1, void *p2, void *p3)
{
	(void)p1;
	(void)p2;
	(void)p3;
	for (int i = 0; i < INCREMENTS; i++) {
		k_spinlock_key_t k = k_spin_lock(&counter_lock);
		counter++;
		k_spin_unlock(&counter_lock, k);
	}
}

static void run_counter(enum sim_clock clock)
{
	sim_test_config(SIM_MODE_PARALLEL, clock, 1, SIM_TIES_RANDOM, 0);
	memset(&counter_lock, 0, sizeof(counter_lock));
	counter = 0;
	for (int i = 0; i < NTHREADS; i++) {
		k_thread_create(&threads[i], stacks[i],
				K_THREAD_STACK_SIZEOF(stacks[i]), incrementer,
				NULL, NULL, NULL, 5, 0, K_NO_WAIT);
	}
	for (int i = 0; i < NTHREADS; i++) {
		assert_int_equal(k_thread_join(&threads[i], K_FOREVER), 0);
	}
	k_spinlock_key_t k = k_spin_lock(&counter_lock);
	assert_int_equal(counter, (long)NTHREADS * INCREMENTS);
	k_spin_unlock(&counter_lock, k);
}

static void test_spinlock_counter_virtual(void **state)
{
	(void)state;
	run_counter(SIM_CLOCK_VIRTUAL);
}

static void test_spinlock_counter_real(void **state)
{
	(void)state;
	run_counter(SIM_CLOCK_REAL);
}

/* Two threads hand a token back and forth through two semaphores. */
static struct k_sem ping, pong;
#define ROUNDS 5000

static void ponger(void *p1, void *p2, void *p3)
{
	(void)p1;
	(void)p2;
	(void)p3;
	for (int i = 0; i < ROUNDS; i++) {
		k_sem_take(&ping, K_FOREVER);
		k_sem_give(&pong);
	}
}

static void test_sem_ping_pong(void **state)
{
	(void)state;
	sim_test_config(SIM_MODE_PARALLEL, SIM_CLOCK_VIRTUAL, 1,
			SIM_TIES_RANDOM, 0);
	k_sem_init(&ping, 0, 1);
	k_sem_init(&pong, 0, 1);
	k_thread_create(&threads[0], stacks[0],
			K_THREAD_STACK_SIZEOF(stacks[0]), ponger, NULL, NULL,
			NULL, 5, 0, K_NO_WAIT);
	for (int i = 0; i < ROUNDS; i++) {
		k_sem_give(&ping);
		assert_int_equal(k_sem_take(&pong, K_FOREVER), 0);
	}
	assert_int_equal(k_thread_join(&threads[0], K_FOREVER), 0);
	/* No one ever waited on a deadline: time stood still. */
	assert_int_equal(k_uptime_ticks(), 0);
}

static atomic_llong woke_at[4];

static void sleeper(void *p1, void *p2, void *p3)
{
	(void)p2;
	(void)p3;
	intptr_t i = (intptr_t)p1;
	k_sleep(K_TICKS(10 * (i + 1)));
	atomic_store(&woke_at[i], k_uptime_ticks());
}

/* Virtual time in parallel mode: time moves only when every thread is
 * blocked, straight to the next deadline. */
static void test_virtual_sleeps_exact(void **state)
{
	(void)state;
	sim_test_config(SIM_MODE_PARALLEL, SIM_CLOCK_VIRTUAL, 1,
			SIM_TIES_RANDOM, 0);
	for (intptr_t i = 0; i < 4; i++) {
		k_thread_create(&threads[i], stacks[i],
				K_THREAD_STACK_SIZEOF(stacks[i]), sleeper,
				(void *)i, NULL, NULL, 5, 0, K_NO_WAIT);
	}
	for (int i = 0; i < 4; i++) {
		assert_int_equal(k_thread_join(&threads[i], K_FOREVER), 0);
		assert_int_equal(atomic_load(&woke_at[i]), 10 * (i + 1));
	}
	assert_int_equal(k_uptime_ticks(), 40);
	struct k_sem s;
	k_sem_init(&s, 0, 1);
	assert_int_equal(k_sem_take(&s, K_TICKS(5)), -EAGAIN);
	assert_int_equal(k_uptime_ticks(), 45);
}

static uint64_t wall_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static void check_real_sleep(void)
{
	uint64_t t0 = wall_ns();
	int64_t k0 = k_uptime_ticks();
	k_msleep(20);
	uint64_t elapsed = wall_ns() - t0;
	assert_true(elapsed >= 19000000u);
	assert_true(k_uptime_ticks() - k0 >= 20);
	struct k_sem s;
	k_sem_init(&s, 0, 1);
	t0 = wall_ns();
	assert_int_equal(k_sem_take(&s, K_MSEC(15)), -EAGAIN);
	assert_true(wall_ns() - t0 >= 14000000u);
}

/* How long the real-clock tests wait for their interrupts at most. */
#define REAL_CLOCK_PATIENCE_MS 5000

static atomic_int isr_count;
static atomic_bool isr_flag_ok;

static void count_isr(void *arg)
{
	(void)arg;
	atomic_fetch_add(&isr_count, 1);
	if (!k_is_in_isr()) {
		atomic_store(&isr_flag_ok, false);
	}
}

static void test_real_clock_parallel(void **state)
{
	(void)state;
	sim_test_config(SIM_MODE_PARALLEL, SIM_CLOCK_REAL, 1, SIM_TIES_RANDOM,
			0);
	check_real_sleep();
	atomic_store(&isr_count, 0);
	atomic_store(&isr_flag_ok, true);
	int id = sim_timer_irq_register(count_isr, NULL, 2);
	assert_true(id >= 0);
	/* Wait for 5 interrupts (10 ms of ticks), with a generous bound so
	 * a loaded machine that deschedules us cannot fail the test. */
	int64_t give_up = k_uptime_get() + REAL_CLOCK_PATIENCE_MS;
	while (atomic_load(&isr_count) < 5 && k_uptime_get() < give_up) {
		k_msleep(2);
	}
	sim_timer_irq_unregister(id);
	assert_true(atomic_load(&isr_count) >= 5);
	assert_true(atomic_load(&isr_flag_ok));
}

static void test_real_clock_deterministic(void **state)
{
	(void)state;
	sim_test_config(SIM_MODE_DETERMINISTIC, SIM_CLOCK_REAL, 1,
			SIM_TIES_RANDOM, 0);
	check_real_sleep();
	atomic_store(&isr_count, 0);
	atomic_store(&isr_flag_ok, true);
	int id = sim_timer_irq_register(count_isr, NULL, 2);
	/* Delivered at kernel calls: polling the clock makes progress. */
	int64_t give_up = k_uptime_get() + REAL_CLOCK_PATIENCE_MS;
	while (atomic_load(&isr_count) < 5 && k_uptime_get() < give_up) {
	}
	sim_timer_irq_unregister(id);
	assert_true(atomic_load(&isr_count) >= 5);
	assert_true(atomic_load(&isr_flag_ok));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_spinlock_counter_virtual),
		cmocka_unit_test(test_spinlock_counter_real),
		cmocka_unit_test(test_sem_ping_pong),
		cmocka_unit_test(test_virtual_sleeps_exact),
		cmocka_unit_test(test_real_clock_parallel),
		cmocka_unit_test(test_real_clock_deterministic),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
