/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The simulator's k_mutex and k_condvar against Zephyr's documented
 * behaviour: recursive locking, the owner and lock count, unlock errors,
 * K_NO_WAIT and timeouts, hand-over to the most urgent waiter, priority
 * inheritance (raised while a more urgent thread waits, withdrawn when it
 * gives up, restored on unlock, bounded by nothing by default), ISR
 * misuse; condition variables with a predicate, signal, broadcast,
 * timeouts (the mutex held again on return), misuse; and a shared
 * counter and a bounded buffer in both schedules.
 *
 * Usage: test_kobj_mutex [test-name-pattern]
 */
#include "kernel_test.h"

#include <stdatomic.h>
#include <string.h>

#include <zephyr/irq_offload.h>

K_MUTEX_DEFINE(mutex);
K_CONDVAR_DEFINE(condvar);

static struct sim_trace order;

static int setup(void **state)
{
	kt_setup_det(state);
	k_mutex_init(&mutex);
	k_condvar_init(&condvar);
	trace_reset(&order);
	return 0;
}

/* ---- k_mutex ------------------------------------------------------------- */

static void lock_in_thread(void *p1, void *p2, void *p3)
{
	int *rc = p1;
	k_timeout_t *timeout = p2;

	(void)p3;
	*rc = k_mutex_lock(&mutex, *timeout);
	if (*rc == 0) {
		k_mutex_unlock(&mutex);
	}
}

static void test_recursive_lock_and_errors(void **state)
{
	int rc = 1;
	k_timeout_t no_wait = K_NO_WAIT;

	(void)state;
	assert_int_equal(k_mutex_unlock(&mutex), -EINVAL);
	assert_int_equal(k_mutex_lock(&mutex, K_NO_WAIT), 0);
	assert_int_equal(k_mutex_lock(&mutex, K_FOREVER), 0);
	assert_int_equal(k_mutex_lock(&mutex, K_MSEC(1)), 0);
	assert_ptr_equal(mutex.owner, k_current_get());
	assert_int_equal(mutex.lock_count, 3);
	/* Another thread: -EBUSY with K_NO_WAIT. */
	kt_spawn(0, lock_in_thread, &rc, &no_wait, K_PRIO_PREEMPT(1),
		 K_NO_WAIT);
	kt_join_all();
	assert_int_equal(rc, -EBUSY);
	assert_int_equal(k_mutex_unlock(&mutex), 0);
	assert_int_equal(k_mutex_unlock(&mutex), 0);
	assert_int_equal(mutex.lock_count, 1);
	assert_int_equal(k_mutex_unlock(&mutex), 0);
	assert_null(mutex.owner);
	assert_int_equal(k_mutex_unlock(&mutex), -EINVAL);
}

static void hold_then_release(void *p1, void *p2, void *p3)
{
	struct k_sem *release = p1;

	(void)p2;
	(void)p3;
	k_mutex_lock(&mutex, K_FOREVER);
	k_sem_take(release, K_FOREVER);
	k_mutex_unlock(&mutex);
}

static void test_unlock_by_other_thread_and_timeout(void **state)
{
	struct k_sem release;

	(void)state;
	k_sem_init(&release, 0, 1);
	kt_spawn(0, hold_then_release, &release, NULL, K_PRIO_PREEMPT(1),
		 K_NO_WAIT);
	k_msleep(1);
	assert_int_equal(k_mutex_unlock(&mutex), -EPERM);
	int64_t start = k_uptime_ticks();

	assert_int_equal(k_mutex_lock(&mutex, K_TICKS(6)), -EAGAIN);
	assert_int_equal(k_uptime_ticks() - start, 6);
	k_sem_give(&release);
	kt_join_all();
	assert_null(mutex.owner);
	assert_int_equal(k_mutex_lock(&mutex, K_NO_WAIT), 0);
	assert_int_equal(k_mutex_unlock(&mutex), 0);
}

static void note_lock(void *p1, void *p2, void *p3)
{
	const char *name = p1;

	(void)p2;
	(void)p3;
	k_mutex_lock(&mutex, K_FOREVER);
	trace_add(&order, "%s ", name);
	KT_CHECK(mutex.owner == k_current_get() && mutex.lock_count == 1,
		 "%s: not the owner", name);
	k_mutex_unlock(&mutex);
}

/* Waiters get the mutex most urgent first, then in arrival order. */
static void test_handover_order(void **state)
{
	(void)state;
	assert_int_equal(k_mutex_lock(&mutex, K_NO_WAIT), 0);
	kt_spawn(0, note_lock, "p5a", NULL, K_PRIO_PREEMPT(5), K_NO_WAIT);
	kt_spawn(1, note_lock, "p2", NULL, K_PRIO_PREEMPT(2), K_NO_WAIT);
	kt_spawn(2, note_lock, "p5b", NULL, K_PRIO_PREEMPT(5), K_NO_WAIT);
	kt_spawn(3, note_lock, "p3", NULL, K_PRIO_PREEMPT(3), K_NO_WAIT);
	k_msleep(1);
	/* Handed over, not released: nobody can slip in. */
	assert_int_equal(k_mutex_unlock(&mutex), 0);
	kt_join_all();
	assert_string_equal(order.buf, "p2 p3 p5a p5b ");
}

/* ---- priority inheritance --------------------------------------------- */

struct inheritance {
	struct k_sem release_low;
	int low_prio_while_urgent_waits;
	int urgent_rc;
	k_timeout_t urgent_timeout;
};

static void low_holder(void *p1, void *p2, void *p3)
{
	struct inheritance *in = p1;

	(void)p2;
	(void)p3;
	k_mutex_lock(&mutex, K_FOREVER);
	trace_add(&order, "L-locked ");
	k_sem_take(&in->release_low, K_FOREVER);
	in->low_prio_while_urgent_waits = k_thread_priority_get(NULL);
	trace_add(&order, "L-unlocks ");
	k_mutex_unlock(&mutex);
	trace_add(&order, "L-done ");
}

static void urgent_locker(void *p1, void *p2, void *p3)
{
	struct inheritance *in = p1;

	(void)p2;
	(void)p3;
	in->urgent_rc = k_mutex_lock(&mutex, in->urgent_timeout);
	trace_add(&order, "H-%s ", in->urgent_rc == 0 ? "locked" : "gave-up");
	if (in->urgent_rc == 0) {
		k_mutex_unlock(&mutex);
	}
}

static void medium_worker(void *p1, void *p2, void *p3)
{
	(void)p1;
	(void)p2;
	(void)p3;
	trace_add(&order, "M-runs ");
}

/*
 * L (prio 10) holds the mutex; H (prio 2) waits for it, so L runs at
 * prio 2: M (prio 5), ready meanwhile, cannot get ahead of L. When L
 * unlocks it drops back to 10 and H runs at once, then M, then L.
 */
static void test_priority_inheritance(void **state)
{
	struct inheritance in = {.urgent_timeout = K_FOREVER};

	(void)state;
	k_sem_init(&in.release_low, 0, 1);
	k_thread_priority_set(k_current_get(), K_PRIO_COOP(1));
	k_tid_t low = kt_spawn(0, low_holder, &in, NULL, K_PRIO_PREEMPT(10),
			       K_NO_WAIT);
	k_msleep(1); /* L locks and waits for release_low */
	kt_spawn(1, urgent_locker, &in, NULL, K_PRIO_PREEMPT(2), K_NO_WAIT);
	k_msleep(1); /* H waits for the mutex */
	assert_int_equal(k_thread_priority_get(low), 2);
	kt_spawn(2, medium_worker, NULL, NULL, K_PRIO_PREEMPT(5), K_NO_WAIT);
	k_sem_give(&in.release_low);
	kt_join_all();
	assert_int_equal(in.low_prio_while_urgent_waits, 2);
	assert_int_equal(in.urgent_rc, 0);
	assert_string_equal(order.buf,
			    "L-locked L-unlocks H-locked M-runs L-done ");
}

/* H gives up after 5 ticks: L drops back to its own priority, or to
 * that of the most urgent waiter left. */
static void test_inheritance_withdrawn_on_timeout(void **state)
{
	struct inheritance in = {.urgent_timeout = K_TICKS(5)};
	int medium_rc = 1;
	k_timeout_t forever = K_FOREVER;

	(void)state;
	k_sem_init(&in.release_low, 0, 1);
	k_thread_priority_set(k_current_get(), K_PRIO_COOP(1));
	k_tid_t low = kt_spawn(0, low_holder, &in, NULL, K_PRIO_PREEMPT(10),
			       K_NO_WAIT);
	k_msleep(1);
	kt_spawn(1, lock_in_thread, &medium_rc, &forever, K_PRIO_PREEMPT(6),
		 K_NO_WAIT);
	k_sleep(K_TICKS(1));
	assert_int_equal(k_thread_priority_get(low), 6);
	kt_spawn(2, urgent_locker, &in, NULL, K_PRIO_PREEMPT(2), K_NO_WAIT);
	k_sleep(K_TICKS(1));
	assert_int_equal(k_thread_priority_get(low), 2);
	k_sleep(K_TICKS(5));
	assert_int_equal(in.urgent_rc, -EAGAIN);
	assert_int_equal(k_thread_priority_get(low), 6);
	k_sem_give(&in.release_low);
	kt_join_all();
	assert_int_equal(medium_rc, 0);
	assert_int_equal(k_thread_priority_get(low), 10);
}

/* A waiter less urgent than the owner changes nothing. */
static void test_no_inheritance_downwards(void **state)
{
	int rc = 1;
	k_timeout_t ticks = K_TICKS(3);

	(void)state;
	k_thread_priority_set(k_current_get(), 4);
	assert_int_equal(k_mutex_lock(&mutex, K_NO_WAIT), 0);
	kt_spawn(0, lock_in_thread, &rc, &ticks, K_PRIO_PREEMPT(9), K_NO_WAIT);
	k_msleep(1);
	assert_int_equal(k_thread_priority_get(NULL), 4);
	k_msleep(5);
	assert_int_equal(rc, -EAGAIN);
	assert_int_equal(k_mutex_unlock(&mutex), 0);
	assert_int_equal(k_thread_priority_get(NULL), 4);
}

/* ---- ISRs ----------------------------------------------------------------- */

struct isr_results {
	int lock_rc;
	int unlock_rc;
	int wait_rc;
	int signal_rc;
};

static void isr_mutex(const void *arg)
{
	struct isr_results *r = (struct isr_results *)arg;

	r->lock_rc = k_mutex_lock(&mutex, K_NO_WAIT);
}

static void isr_unlock(const void *arg)
{
	struct isr_results *r = (struct isr_results *)arg;

	r->unlock_rc = k_mutex_unlock(&mutex);
}

static void isr_wait(const void *arg)
{
	struct isr_results *r = (struct isr_results *)arg;

	r->wait_rc = k_condvar_wait(&condvar, &mutex, K_NO_WAIT);
}

static void test_isr_misuse(void **state)
{
	struct isr_results r = {1, 1, 1, 1};

	(void)state;
	kt_faults_expect();
	irq_offload(isr_mutex, &r);
	kt_faults_assert_one("k_mutex_lock", SIM_MSG_MUTEX_IN_ISR, NULL,
			     &mutex);
	assert_int_equal(r.lock_rc, -EPERM);
	assert_null(mutex.owner);
	assert_int_equal(k_mutex_lock(&mutex, K_NO_WAIT), 0);
	kt_faults_expect();
	irq_offload(isr_unlock, &r);
	kt_faults_assert_one("k_mutex_unlock", SIM_MSG_MUTEX_IN_ISR, NULL,
			     &mutex);
	assert_int_equal(r.unlock_rc, -EPERM);
	assert_ptr_equal(mutex.owner, k_current_get());
	kt_faults_expect();
	irq_offload(isr_wait, &r);
	kt_faults_assert_one("k_condvar_wait", SIM_MSG_MUTEX_IN_ISR, NULL,
			     &mutex);
	assert_int_equal(r.wait_rc, -EPERM);
	assert_int_equal(k_mutex_unlock(&mutex), 0);
}

/* ---- k_condvar --------------------------------------------------------------- */

static int items_ready;

struct waiter_result {
	int rc;
	bool owned_after;
	int64_t tick;
};

static void wait_for_item(void *p1, void *p2, void *p3)
{
	struct waiter_result *w = p1;
	const char *name = p2;

	(void)p3;
	k_mutex_lock(&mutex, K_FOREVER);
	while (items_ready == 0) {
		w->rc = k_condvar_wait(&condvar, &mutex, K_FOREVER);
	}
	items_ready--;
	trace_add(&order, "%s ", name);
	w->owned_after = mutex.owner == k_current_get();
	k_mutex_unlock(&mutex);
}

static void test_signal_wakes_most_urgent(void **state)
{
	struct waiter_result w[3] = {{0}};

	(void)state;
	items_ready = 0;
	kt_spawn(0, wait_for_item, &w[0], "w6", K_PRIO_PREEMPT(6), K_NO_WAIT);
	kt_spawn(1, wait_for_item, &w[1], "w3", K_PRIO_PREEMPT(3), K_NO_WAIT);
	kt_spawn(2, wait_for_item, &w[2], "w4", K_PRIO_PREEMPT(4), K_NO_WAIT);
	k_msleep(1);
	/* Nobody can have the mutex: every waiter released it. */
	assert_null(mutex.owner);
	for (int i = 0; i < 3; i++) {
		k_mutex_lock(&mutex, K_FOREVER);
		items_ready++;
		assert_int_equal(k_condvar_signal(&condvar), 0);
		k_mutex_unlock(&mutex);
		k_msleep(1);
	}
	kt_join_all();
	assert_string_equal(order.buf, "w3 w4 w6 ");
	for (int i = 0; i < 3; i++) {
		assert_int_equal(w[i].rc, 0);
		assert_true(w[i].owned_after);
	}
	/* No waiter: a signal is lost, not stored. */
	assert_int_equal(k_condvar_signal(&condvar), 0);
	assert_int_equal(k_condvar_broadcast(&condvar), 0);
}

static void test_broadcast(void **state)
{
	struct waiter_result w[3] = {{0}};

	(void)state;
	items_ready = 0;
	for (int i = 0; i < 3; i++) {
		kt_spawn(i, wait_for_item, &w[i], "w", K_PRIO_PREEMPT(3 + i),
			 K_NO_WAIT);
	}
	k_msleep(1);
	k_mutex_lock(&mutex, K_FOREVER);
	items_ready = 3;
	assert_int_equal(k_condvar_broadcast(&condvar), 3);
	k_mutex_unlock(&mutex);
	kt_join_all();
	assert_string_equal(order.buf, "w w w ");
	assert_int_equal(items_ready, 0);
}

static void test_wait_timeout_relocks(void **state)
{
	(void)state;
	k_mutex_lock(&mutex, K_FOREVER);
	k_mutex_lock(&mutex, K_FOREVER); /* twice: one level is released */
	int64_t start = k_uptime_ticks();

	/* Still held once while waiting: a K_NO_WAIT try by another
	 * thread would fail; the wait itself times out. */
	assert_int_equal(k_condvar_wait(&condvar, &mutex, K_TICKS(4)), -EAGAIN);
	assert_int_equal(k_uptime_ticks() - start, 4);
	assert_ptr_equal(mutex.owner, k_current_get());
	assert_int_equal(mutex.lock_count, 2);
	k_mutex_unlock(&mutex);
	/* K_NO_WAIT: releases, re-takes, -EAGAIN. */
	assert_int_equal(k_condvar_wait(&condvar, &mutex, K_NO_WAIT), -EAGAIN);
	assert_int_equal(mutex.lock_count, 1);
	k_mutex_unlock(&mutex);
	assert_null(mutex.owner);
}

static void test_wait_without_mutex(void **state)
{
	(void)state;
	kt_faults_expect();
	assert_int_equal(k_condvar_wait(&condvar, &mutex, K_TICKS(3)), -EPERM);
	kt_faults_assert_one("k_condvar_wait", SIM_MSG_CONDVAR_NOT_OWNER, NULL,
			     &mutex);
	assert_int_equal(k_uptime_ticks(), 0);
	assert_null(mutex.owner);
}

static void isr_signal(const void *arg)
{
	struct isr_results *r = (struct isr_results *)arg;

	items_ready = 1; /* the waiter holds no lock while it waits */
	r->signal_rc = k_condvar_signal(&condvar);
}

static void test_signal_from_isr(void **state)
{
	struct waiter_result w = {0};
	struct isr_results r = {1, 1, 1, 1};

	(void)state;
	items_ready = 0;
	kt_spawn(0, wait_for_item, &w, "w", K_PRIO_PREEMPT(1), K_NO_WAIT);
	k_msleep(1);
	irq_offload(isr_signal, &r);
	kt_join_all();
	assert_int_equal(r.signal_rc, 0);
	assert_string_equal(order.buf, "w ");
}

/* ---- both schedules: a shared counter and a bounded buffer ---------------- */

#define WORKERS 4
#define ROUNDS 200
#define SLOTS 3

static long counter;
static int buffer_fill;
static long produced_sum, consumed_sum;
K_CONDVAR_DEFINE(not_full);
K_CONDVAR_DEFINE(not_empty);

static void count_up(void *p1, void *p2, void *p3)
{
	(void)p1;
	(void)p2;
	(void)p3;
	for (int i = 0; i < ROUNDS; i++) {
		KT_CHECK(k_mutex_lock(&mutex, K_FOREVER) == 0, "lock");
		/* Recursive, and a read-modify-write that a missing
		 * exclusion would tear. */
		k_mutex_lock(&mutex, K_FOREVER);
		long seen = counter;

		if ((i & 3) == 0) {
			k_yield();
		}
		counter = seen + 1;
		k_mutex_unlock(&mutex);
		k_mutex_unlock(&mutex);
	}
}

static void produce(void *p1, void *p2, void *p3)
{
	(void)p1;
	(void)p2;
	(void)p3;
	for (long v = 1; v <= ROUNDS; v++) {
		k_mutex_lock(&mutex, K_FOREVER);
		while (buffer_fill == SLOTS) {
			k_condvar_wait(&not_full, &mutex, K_FOREVER);
		}
		buffer_fill++;
		produced_sum += v;
		k_condvar_signal(&not_empty);
		k_mutex_unlock(&mutex);
	}
}

static void consume(void *p1, void *p2, void *p3)
{
	(void)p1;
	(void)p2;
	(void)p3;
	for (long v = 1; v <= ROUNDS; v++) {
		k_mutex_lock(&mutex, K_FOREVER);
		while (buffer_fill == 0) {
			/* A timeout only sends it round the loop again. */
			(void)k_condvar_wait(&not_empty, &mutex, K_TICKS(3));
		}
		KT_CHECK(buffer_fill > 0 && buffer_fill <= SLOTS, "fill %d",
			 buffer_fill);
		buffer_fill--;
		consumed_sum += v;
		k_condvar_signal(&not_full);
		k_mutex_unlock(&mutex);
	}
}

static void shared_state(uint64_t seed, void *arg)
{
	(void)seed;
	(void)arg;
	k_mutex_init(&mutex);
	k_condvar_init(&not_full);
	k_condvar_init(&not_empty);
	counter = 0;
	buffer_fill = 0;
	produced_sum = 0;
	consumed_sum = 0;
	for (int i = 0; i < WORKERS; i++) {
		kt_spawn(i, count_up, NULL, NULL, K_PRIO_PREEMPT(3 + i % 2),
			 K_NO_WAIT);
	}
	for (int i = 0; i < 2; i++) {
		kt_spawn(WORKERS + 2 * i, produce, NULL, NULL,
			 K_PRIO_PREEMPT(2 + i), K_NO_WAIT);
		kt_spawn(WORKERS + 2 * i + 1, consume, NULL, NULL,
			 K_PRIO_PREEMPT(3 - i), K_NO_WAIT);
	}
	kt_join_all();
	KT_CHECK(counter == (long)WORKERS * ROUNDS, "counter %ld", counter);
	KT_CHECK(buffer_fill == 0 && produced_sum == consumed_sum,
		 "fill %d, produced %ld, consumed %ld", buffer_fill,
		 produced_sum, consumed_sum);
	KT_CHECK(mutex.owner == NULL, "mutex still held");
}

static void test_shared_state_deterministic(void **state)
{
	(void)state;
	kt_for_each_seed("test_shared_state_deterministic", 8, 30, 60,
			 shared_state, NULL);
}

static void test_shared_state_parallel(void **state)
{
	(void)state;
	kt_run_parallel("test_shared_state_parallel", 120, shared_state, NULL);
}

int main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_recursive_lock_and_errors,
						setup, kt_teardown_det),
		cmocka_unit_test_setup_teardown(
			test_unlock_by_other_thread_and_timeout, setup,
			kt_teardown_det),
		cmocka_unit_test_setup_teardown(test_handover_order, setup,
						kt_teardown_det),
		cmocka_unit_test_setup_teardown(test_priority_inheritance,
						setup, kt_teardown_det),
		cmocka_unit_test_setup_teardown(
			test_inheritance_withdrawn_on_timeout, setup,
			kt_teardown_det),
		cmocka_unit_test_setup_teardown(test_no_inheritance_downwards,
						setup, kt_teardown_det),
		cmocka_unit_test_setup_teardown(test_isr_misuse, setup,
						kt_teardown_det),
		cmocka_unit_test_setup_teardown(test_signal_wakes_most_urgent,
						setup, kt_teardown_det),
		cmocka_unit_test_setup_teardown(test_broadcast, setup,
						kt_teardown_det),
		cmocka_unit_test_setup_teardown(test_wait_timeout_relocks,
						setup, kt_teardown_det),
		cmocka_unit_test_setup_teardown(test_wait_without_mutex, setup,
						kt_teardown_det),
		cmocka_unit_test_setup_teardown(test_signal_from_isr, setup,
						kt_teardown_det),
		cmocka_unit_test_setup_teardown(test_shared_state_deterministic,
						setup, kt_teardown_det),
		cmocka_unit_test_setup_teardown(test_shared_state_parallel,
						setup, kt_teardown_det),
	};

	kt_program_args(argc, argv);
	return cmocka_run_group_tests_name("k_mutex, k_condvar", tests, NULL,
					   NULL);
}
