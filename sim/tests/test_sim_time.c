/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Virtual time in deterministic mode: exact sleeps and timeouts, k_sem,
 * the port's wait queues, timer interrupts, irq_offload, joins, delayed
 * starts, aborts and the thread-exit hook.
 */
#include "sim_test.h"

#include <string.h>

#include <zephyr/irq_offload.h>

static struct sim_trace trace;
static struct k_thread threads[4];
K_THREAD_STACK_ARRAY_DEFINE(stacks, 4, 2048);

static k_tid_t spawn(int i, k_thread_entry_t entry, void *p1, int prio,
		     k_timeout_t delay)
{
	k_tid_t t = k_thread_create(&threads[i], stacks[i],
				    K_THREAD_STACK_SIZEOF(stacks[i]), entry, p1,
				    NULL, NULL, prio, 0, delay);
	char name[8];
	snprintf(name, sizeof(name), "%c", 'A' + i);
	k_thread_name_set(t, name);
	return t;
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
	sim_fault_capture(false);
	return 0;
}

static void test_sleep_exact(void **state)
{
	(void)state;
	assert_int_equal(k_uptime_ticks(), 0);
	assert_int_equal(k_sleep(K_TICKS(5)), 0);
	assert_int_equal(k_uptime_ticks(), 5);
	assert_int_equal(k_msleep(10), 0);
	assert_int_equal(k_uptime_ticks(), 15);
	/* 1500 us is 1.5 ticks: rounded up. */
	assert_int_equal(k_usleep(1500), 0);
	assert_int_equal(k_uptime_ticks(), 17);
	k_sleep(K_SECONDS(1));
	assert_int_equal(k_uptime_ticks(), 1017);
	assert_int_equal(k_uptime_get(), 1017);
	assert_int_equal(k_uptime_get_32(), 1017);
	assert_int_equal(sys_clock_tick_get(), 1017);
	assert_int_equal(k_cycle_get_64(),
			 1017ULL * (CONFIG_SYS_CLOCK_HW_CYCLES_PER_SEC / 1000));
	int64_t ref = 17;
	assert_int_equal(k_uptime_delta(&ref), 1000);
	assert_int_equal(ref, 1017);
	/* K_NO_WAIT sleeps are yields; time does not move. */
	k_sleep(K_NO_WAIT);
	assert_int_equal(k_uptime_ticks(), 1017);
	/* busy waiting in virtual time takes virtual time */
	k_busy_wait(3000);
	assert_int_equal(k_uptime_ticks(), 1020);
}

static void sleeper(void *p1, void *p2, void *p3)
{
	(void)p2;
	(void)p3;
	k_sleep(K_TICKS((intptr_t)p1));
	trace_add(&trace, "%s@%lld ", k_thread_name_get(k_current_get()),
		  (long long)k_uptime_ticks());
}

static void test_sleepers_wake_in_deadline_order(void **state)
{
	(void)state;
	spawn(0, sleeper, (void *)30, 5, K_NO_WAIT);
	spawn(1, sleeper, (void *)10, 5, K_NO_WAIT);
	spawn(2, sleeper, (void *)20, 5, K_NO_WAIT);
	join_all(3);
	assert_string_equal(trace.buf, "B@10 C@20 A@30 ");
	assert_int_equal(k_uptime_ticks(), 30);
}

static K_SEM_DEFINE(sem, 0, 1);

static void test_sem_timeout_exact(void **state)
{
	(void)state;
	k_sem_init(&sem, 0, 1);
	assert_int_equal(k_sem_take(&sem, K_NO_WAIT), -EBUSY);
	assert_int_equal(k_uptime_ticks(), 0);
	assert_int_equal(k_sem_take(&sem, K_TICKS(7)), -EAGAIN);
	assert_int_equal(k_uptime_ticks(), 7);
	assert_int_equal(k_sem_take(&sem, K_MSEC(20)), -EAGAIN);
	assert_int_equal(k_uptime_ticks(), 27);
}

static void giver(void *p1, void *p2, void *p3)
{
	(void)p2;
	(void)p3;
	k_sleep(K_TICKS((intptr_t)p1));
	k_sem_give(&sem);
}

static void test_sem_give_wakes_at_exact_tick(void **state)
{
	(void)state;
	k_sem_init(&sem, 0, 1);
	spawn(0, giver, (void *)3, 5, K_NO_WAIT);
	assert_int_equal(k_sem_take(&sem, K_TICKS(100)), 0);
	assert_int_equal(k_uptime_ticks(), 3);
	/* A give due at the very tick of the deadline: both threads become
	 * ready at tick 7, the more urgent waiter runs first and has timed
	 * out, so the give stays in the count. */
	spawn(1, giver, (void *)4, 5, K_NO_WAIT);
	assert_int_equal(k_sem_take(&sem, K_TICKS(4)), -EAGAIN);
	assert_int_equal(k_uptime_ticks(), 7);
	join_all(2);
	assert_int_equal(k_sem_count_get(&sem), 1);
}

static void test_sem_count_limit_reset(void **state)
{
	(void)state;
	struct k_sem s;
	assert_int_equal(k_sem_init(&s, 0, 0), -EINVAL);
	assert_int_equal(k_sem_init(&s, 3, 2), -EINVAL);
	assert_int_equal(k_sem_init(&s, 0, 2), 0);
	k_sem_give(&s);
	k_sem_give(&s);
	k_sem_give(&s);
	assert_int_equal(k_sem_count_get(&s), 2);
	assert_int_equal(k_sem_take(&s, K_NO_WAIT), 0);
	assert_int_equal(k_sem_count_get(&s), 1);
	k_sem_reset(&s);
	assert_int_equal(k_sem_count_get(&s), 0);
	assert_int_equal(k_sem_take(&s, K_NO_WAIT), -EBUSY);
}

static int reset_rc = 1;

static void reset_waiter(void *p1, void *p2, void *p3)
{
	(void)p1;
	(void)p2;
	(void)p3;
	reset_rc = k_sem_take(&sem, K_FOREVER);
}

static void test_sem_reset_wakes_waiters(void **state)
{
	(void)state;
	k_sem_init(&sem, 0, 1);
	spawn(0, reset_waiter, NULL, 5, K_NO_WAIT);
	k_sleep(K_TICKS(2));
	k_sem_reset(&sem);
	join_all(1);
	assert_int_equal(reset_rc, -EAGAIN);
	assert_int_equal(k_uptime_ticks(), 2);
}

static void sem_waiter(void *p1, void *p2, void *p3)
{
	(void)p1;
	(void)p2;
	(void)p3;
	if (k_sem_take(&sem, K_FOREVER) == 0) {
		trace_add(&trace, "%d", k_thread_priority_get(k_current_get()));
	}
}

static void test_sem_serves_most_urgent_first(void **state)
{
	(void)state;
	k_sem_init(&sem, 0, 10);
	spawn(0, sem_waiter, NULL, 5, K_NO_WAIT);
	spawn(1, sem_waiter, NULL, 3, K_NO_WAIT);
	spawn(2, sem_waiter, NULL, 4, K_NO_WAIT);
	spawn(3, sem_waiter, NULL, 3, K_NO_WAIT);
	k_sleep(K_TICKS(1));
	for (int i = 0; i < 4; i++) {
		k_sem_give(&sem);
	}
	join_all(4);
	assert_string_equal(trace.buf, "3345");
	assert_int_equal(k_sem_count_get(&sem), 0);
}

/* ---- the port's wait queues ------------------------------------------ */

static struct k_spinlock wq_lock;
static _wait_q_t wq;
static int pend_rc[4];
static int64_t pend_tick[4];

static void pender(void *p1, void *p2, void *p3)
{
	intptr_t i = (intptr_t)p1;
	(void)p3;
	k_spinlock_key_t k = k_spin_lock(&wq_lock);
	pend_rc[i] = z_pend_curr(&wq_lock, k, &wq, K_TICKS((intptr_t)p2));
	pend_tick[i] = k_uptime_ticks();
}

static void test_pend_wake_and_timeout(void **state)
{
	(void)state;
	memset(&wq, 0, sizeof(wq));
	memset(&wq_lock, 0, sizeof(wq_lock));
	k_thread_create(&threads[0], stacks[0],
			K_THREAD_STACK_SIZEOF(stacks[0]), pender, (void *)0,
			(void *)10, NULL, 5, 0, K_NO_WAIT);
	k_thread_create(&threads[1], stacks[1],
			K_THREAD_STACK_SIZEOF(stacks[1]), pender, (void *)1,
			(void *)3, NULL, 5, 0, K_NO_WAIT);
	k_sleep(K_TICKS(4));
	/* Thread 1 timed out at 3; thread 0 is woken now, at 4. */
	k_spinlock_key_t k = k_spin_lock(&wq_lock);
	assert_true(z_unpend_all(&wq));
	z_reschedule(&wq_lock, k);
	k = k_spin_lock(&wq_lock);
	assert_false(z_unpend_all(&wq));
	k_spin_unlock(&wq_lock, k);
	join_all(2);
	assert_int_equal(pend_rc[0], 0);
	assert_int_equal(pend_tick[0], 4);
	assert_int_equal(pend_rc[1], -EAGAIN);
	assert_int_equal(pend_tick[1], 3);

	/* K_NO_WAIT: no pending at all, lock released. */
	k = k_spin_lock(&wq_lock);
	assert_int_equal(z_pend_curr(&wq_lock, k, &wq, K_NO_WAIT), -EAGAIN);
	k = k_spin_lock(&wq_lock);
	k_spin_unlock(&wq_lock, k);
	assert_int_equal(k_uptime_ticks(), 4);
}

static void test_unpend_wakes_all_in_queue_order(void **state)
{
	(void)state;
	memset(&wq, 0, sizeof(wq));
	for (intptr_t i = 0; i < 3; i++) {
		k_thread_create(&threads[i], stacks[i],
				K_THREAD_STACK_SIZEOF(stacks[i]), pender,
				(void *)i, (void *)(intptr_t)K_TICKS_FOREVER,
				NULL, 5, 0, K_NO_WAIT);
	}
	k_sleep(K_TICKS(1));
	k_spinlock_key_t k = k_spin_lock(&wq_lock);
	assert_true(z_unpend_all(&wq));
	k_spin_unlock(&wq_lock, k);
	join_all(3);
	for (int i = 0; i < 3; i++) {
		assert_int_equal(pend_rc[i], 0);
		assert_int_equal(pend_tick[i], 1);
	}
}

/* ---- timer interrupts and irq_offload -------------------------------- */

struct tick_log {
	int n;
	int64_t at[16];
	bool in_isr[16];
};

static void log_tick(void *arg)
{
	struct tick_log *log = arg;

	if (log->n < 16) {
		log->at[log->n] = k_uptime_ticks();
		log->in_isr[log->n] = k_is_in_isr();
		log->n++;
	}
}

static void test_timer_irq_fires_at_exact_ticks(void **state)
{
	(void)state;
	struct tick_log log = {0};
	k_sleep(K_TICKS(2));
	int id = sim_timer_irq_register(log_tick, &log, 10);
	assert_true(id >= 0);
	k_sleep(K_TICKS(35));
	assert_int_equal(log.n, 3);
	for (int i = 0; i < 3; i++) {
		assert_int_equal(log.at[i], 12 + 10 * i);
		assert_true(log.in_isr[i]);
	}
	assert_int_equal(k_uptime_ticks(), 37);
	assert_int_equal(sim_timer_irq_unregister(id), 0);
	assert_int_equal(sim_timer_irq_unregister(id), -EINVAL);
	k_sleep(K_TICKS(30));
	assert_int_equal(log.n, 3);
	assert_false(k_is_in_isr());
}

static void test_timer_irq_register_errors(void **state)
{
	(void)state;
	struct tick_log log = {0};
	int ids[SIM_TIMER_IRQ_MAX];
	assert_int_equal(sim_timer_irq_register(log_tick, &log, 0), -EINVAL);
	assert_int_equal(sim_timer_irq_register(NULL, &log, 5), -EINVAL);
	for (int i = 0; i < SIM_TIMER_IRQ_MAX; i++) {
		ids[i] = sim_timer_irq_register(log_tick, &log, 1000);
		assert_true(ids[i] >= 0);
	}
	assert_int_equal(sim_timer_irq_register(log_tick, &log, 5), -ENOMEM);
	for (int i = 0; i < SIM_TIMER_IRQ_MAX; i++) {
		assert_int_equal(sim_timer_irq_unregister(ids[i]), 0);
	}
}

static void give_from_isr(void *arg)
{
	k_sem_give(arg);
}

static void test_timer_irq_wakes_thread(void **state)
{
	(void)state;
	k_sem_init(&sem, 0, 1);
	int id = sim_timer_irq_register(give_from_isr, &sem, 10);
	assert_int_equal(k_sem_take(&sem, K_FOREVER), 0);
	assert_int_equal(k_uptime_ticks(), 10);
	assert_int_equal(k_sem_take(&sem, K_FOREVER), 0);
	assert_int_equal(k_uptime_ticks(), 20);
	sim_timer_irq_unregister(id);
}

static bool offload_in_isr;
static k_tid_t offload_current;
static struct kheap_thread_data *offload_td;

static void offload_fn(const void *arg)
{
	offload_in_isr = k_is_in_isr();
	offload_current = k_current_get();
	offload_td = kheap_port_thread_data(NULL);
	if (arg) {
		k_sem_give((struct k_sem *)arg);
	}
	trace_add(&trace, "I");
}

static void urgent_waiter(void *p1, void *p2, void *p3)
{
	(void)p1;
	(void)p2;
	(void)p3;
	k_sem_take(&sem, K_FOREVER);
	trace_add(&trace, "T");
}

static void test_irq_offload(void **state)
{
	(void)state;
	assert_false(k_is_in_isr());
	irq_offload(offload_fn, NULL);
	assert_true(offload_in_isr);
	assert_ptr_equal(offload_current, k_current_get());
	assert_null(offload_td);
	assert_non_null(kheap_port_thread_data(NULL));
	assert_ptr_equal(kheap_port_thread_data(k_current_get()),
			 kheap_port_thread_data(NULL));
	assert_false(k_is_in_isr());

	/* A more urgent thread made ready by the ISR runs as soon as the
	 * interrupt returns, before the interrupted thread goes on. */
	k_sem_init(&sem, 0, 1);
	k_thread_priority_set(k_current_get(), 5);
	spawn(0, urgent_waiter, NULL, 2, K_NO_WAIT);
	trace_reset(&trace);
	irq_offload(offload_fn, &sem);
	trace_add(&trace, "M");
	join_all(1);
	k_thread_priority_set(k_current_get(), 0);
	assert_string_equal(trace.buf, "ITM");
}

/* ---- joins, delayed starts, aborts ------------------------------------ */

static void test_join(void **state)
{
	(void)state;
	spawn(0, sleeper, (void *)50, 5, K_NO_WAIT);
	assert_int_equal(k_thread_join(&threads[0], K_NO_WAIT), -EBUSY);
	assert_int_equal(k_thread_join(&threads[0], K_TICKS(20)), -EAGAIN);
	assert_int_equal(k_uptime_ticks(), 20);
	assert_int_equal(k_thread_join(k_current_get(), K_FOREVER), -EDEADLK);
	assert_int_equal(k_thread_join(&threads[0], K_FOREVER), 0);
	assert_int_equal(k_uptime_ticks(), 50);
	assert_int_equal(k_thread_join(&threads[0], K_FOREVER), 0);
	assert_int_equal(k_thread_join(&threads[0], K_NO_WAIT), 0);
	assert_int_equal(sim_threads_alive(), 1);
}

static void mark(void *p1, void *p2, void *p3)
{
	(void)p2;
	(void)p3;
	trace_add(&trace, "%s@%lld ", (const char *)p1,
		  (long long)k_uptime_ticks());
}

static void test_delayed_and_deferred_start(void **state)
{
	(void)state;
	k_thread_create(&threads[0], stacks[0],
			K_THREAD_STACK_SIZEOF(stacks[0]), mark, "delayed", NULL,
			NULL, 5, 0, K_TICKS(25));
	k_thread_create(&threads[1], stacks[1],
			K_THREAD_STACK_SIZEOF(stacks[1]), mark, "deferred",
			NULL, NULL, 5, 0, K_FOREVER);
	k_sleep(K_TICKS(40));
	assert_string_equal(trace.buf, "delayed@25 ");
	k_thread_start(&threads[1]);
	join_all(2);
	assert_string_equal(trace.buf, "delayed@25 deferred@40 ");
}

static void blocked_forever(void *p1, void *p2, void *p3)
{
	(void)p1;
	(void)p2;
	(void)p3;
	k_sem_take(&sem, K_FOREVER);
	trace_add(&trace, "unreachable");
}

static void self_abort(void *p1, void *p2, void *p3)
{
	(void)p1;
	(void)p2;
	(void)p3;
	trace_add(&trace, "S");
	k_thread_abort(k_current_get());
	trace_add(&trace, "unreachable");
}

static void test_abort(void **state)
{
	(void)state;
	k_sem_init(&sem, 0, 1);
	/* Blocked. */
	spawn(0, blocked_forever, NULL, 5, K_NO_WAIT);
	k_sleep(K_TICKS(1));
	k_thread_abort(&threads[0]);
	assert_int_equal(k_thread_join(&threads[0], K_NO_WAIT), 0);
	/* Ready, never ran. */
	spawn(1, blocked_forever, NULL, 5, K_NO_WAIT);
	k_thread_abort(&threads[1]);
	assert_int_equal(k_thread_join(&threads[1], K_NO_WAIT), 0);
	/* Itself. */
	spawn(2, self_abort, NULL, 5, K_NO_WAIT);
	assert_int_equal(k_thread_join(&threads[2], K_FOREVER), 0);
	assert_string_equal(trace.buf, "S");
	assert_int_equal(sim_threads_alive(), 1);
	/* Thread objects can be reused once their thread has exited. */
	spawn(0, mark, "again", 5, K_NO_WAIT);
	join_all(1);
	assert_string_equal(trace.buf, "Sagain@1 ");
	assert_int_equal(k_sem_count_get(&sem), 0);
}

static void test_names_and_priorities(void **state)
{
	(void)state;
	assert_string_equal(k_thread_name_get(k_current_get()), "main");
	assert_int_equal(k_thread_priority_get(k_current_get()),
			 CONFIG_MAIN_THREAD_PRIORITY);
	assert_true(k_is_preempt_thread());
	k_sched_lock();
	assert_false(k_is_preempt_thread());
	k_sched_unlock();
	spawn(0, sleeper, (void *)1, K_PRIO_COOP(3), K_NO_WAIT);
	assert_int_equal(k_thread_priority_get(&threads[0]), -13);
	assert_string_equal(k_thread_name_get(&threads[0]), "A");
	k_thread_name_set(&threads[0],
			  "a-much-longer-name-than-fits-in-32-bytes");
	assert_int_equal(strlen(k_thread_name_get(&threads[0])),
			 CONFIG_THREAD_MAX_NAME_LEN - 1);
	join_all(1);
}

/* ---- the thread-exit hook --------------------------------------------- */

#if !KHEAP_SIM_HAVE_KERNEL
/* Standalone build: stand in for the kernel layer's hook. */
static int released;
static struct kheap_thread_data *released_td;

void z_thread_pool_release(struct kheap_thread_data *thread_data)
{
	released++;
	released_td = thread_data;
}

static void test_exit_hook(void **state)
{
	(void)state;
	released = 0;
	spawn(0, mark, "x", 5, K_NO_WAIT);
	join_all(1);
	assert_int_equal(released, 1);
	assert_ptr_equal(released_td, &threads[0].kheap);
	spawn(1, blocked_forever, NULL, 5, K_NO_WAIT);
	k_sleep(K_TICKS(1));
	k_thread_abort(&threads[1]);
	assert_int_equal(released, 2);
	assert_ptr_equal(released_td, &threads[1].kheap);
}
#else
/* With the kernel layer: blocks a thread allocated from its pool with
 * autofree on are released when it exits (normally or aborted). */
K_HEAP_DEFINE(pool, 8192);

/* The largest block the pool can give now. */
static size_t largest_block(void)
{
	size_t lo = 0, hi = 8192;

	while (lo < hi) {
		size_t mid = (lo + hi + 1) / 2;
		void *p = k_heap_alloc(&pool, mid, K_NO_WAIT);
		if (p) {
			k_heap_free(&pool, p);
			lo = mid;
		} else {
			hi = mid - 1;
		}
	}
	return lo;
}

static size_t pool_largest;

static void pool_user(void *p1, void *p2, void *p3)
{
	(void)p2;
	(void)p3;
	for (int i = 0; i < 4; i++) {
		if (z_thread_malloc(100) == NULL) {
			trace_add(&trace, "fail");
		}
	}
	if (p1) {
		k_sem_take(&sem, K_FOREVER);
	}
}

static void test_exit_hook(void **state)
{
	(void)state;
	size_t largest = largest_block();
	assert_true(largest > 1000);

	k_sem_init(&sem, 0, 1);
	for (int round = 0; round < 2; round++) {
		k_thread_create(&threads[0], stacks[0],
				K_THREAD_STACK_SIZEOF(stacks[0]), pool_user,
				round ? (void *)1 : NULL, NULL, NULL, 5, 0,
				K_FOREVER);
		k_thread_heap_assign(&threads[0], &pool);
		k_thread_pool_autofree(&threads[0], true);
		k_thread_start(&threads[0]);
		k_sleep(K_TICKS(1));
		if (round) {
			k_thread_abort(&threads[0]);
		}
		join_all(1);
		/* Everything came back: the largest block fits again. */
		assert_int_equal(largest_block(), largest);
	}
	assert_string_equal(trace.buf, "");
}

/* An aborted thread's exit hook frees blocks another thread waits for:
 * the waiter gets them (and the exit path is not re-entered). */
static void big_waiter(void *p1, void *p2, void *p3)
{
	(void)p1;
	(void)p2;
	(void)p3;
	void *p = k_heap_alloc(&pool, pool_largest, K_FOREVER);
	trace_add(&trace, p ? "got@%lld" : "none@%lld",
		  (long long)k_uptime_ticks());
	k_heap_free(&pool, p);
}

static void test_abort_releases_to_waiter(void **state)
{
	(void)state;
	k_sem_init(&sem, 0, 1);
	pool_largest = largest_block();
	k_thread_create(&threads[0], stacks[0],
			K_THREAD_STACK_SIZEOF(stacks[0]), pool_user, (void *)1,
			NULL, NULL, 5, 0, K_FOREVER);
	k_thread_heap_assign(&threads[0], &pool);
	k_thread_pool_autofree(&threads[0], true);
	k_thread_start(&threads[0]);
	k_sleep(K_TICKS(1));
	k_thread_create(&threads[1], stacks[1],
			K_THREAD_STACK_SIZEOF(stacks[1]), big_waiter, NULL,
			NULL, NULL, 4, 0, K_NO_WAIT);
	k_sleep(K_TICKS(2));
	assert_string_equal(trace.buf, "");
	k_thread_abort(&threads[0]);
	join_all(2);
	assert_string_equal(trace.buf, "got@3");
}
#endif

int main(void)
{
	const struct CMUnitTest tests[] =
	{ cmocka_unit_test_setup(test_sleep_exact, setup),
	  cmocka_unit_test_setup(test_sleepers_wake_in_deadline_order, setup),
	  cmocka_unit_test_setup(test_sem_timeout_exact, setup),
	  cmocka_unit_test_setup(test_sem_give_wakes_at_exact_tick, setup),
	  cmocka_unit_test_setup(test_sem_count_limit_reset, setup),
	  cmocka_unit_test_setup(test_sem_reset_wakes_waiters, setup),
	  cmocka_unit_test_setup(test_sem_serves_most_urgent_first, setup),
	  cmocka_unit_test_setup(test_pend_wake_and_timeout, setup),
	  cmocka_unit_test_setup(test_unpend_wakes_all_in_queue_order, setup),
	  cmocka_unit_test_setup(test_timer_irq_fires_at_exact_ticks, setup),
	  cmocka_unit_test_setup(test_timer_irq_register_errors, setup),
	  cmocka_unit_test_setup(test_timer_irq_wakes_thread, setup),
	  cmocka_unit_test_setup(test_irq_offload, setup),
	  cmocka_unit_test_setup(test_join, setup),
	  cmocka_unit_test_setup(test_delayed_and_deferred_start, setup),
	  cmocka_unit_test_setup(test_abort, setup),
	  cmocka_unit_test_setup(test_names_and_priorities, setup),
	  cmocka_unit_test_setup(test_exit_hook, setup),
#if KHEAP_SIM_HAVE_KERNEL
	  cmocka_unit_test_setup(test_abort_releases_to_waiter, setup),
#endif
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
