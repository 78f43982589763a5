/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The simulator's k_queue, k_fifo and k_lifo, against Zephyr's documented
 * behaviour: order, peeking, insert/remove, lists, blocking gets with
 * timeouts, waiters served most urgent first, cancel_wait, the *_alloc_*
 * calls that take a wrapper from the caller's resource pool (-ENOMEM
 * without one; freed again by the get), ISR use, misuse faults, and many
 * producers and consumers in both schedules (deterministic over seeds
 * with random preemption; parallel for ThreadSanitizer).
 *
 * Usage: test_kobj_queue [test-name-pattern]
 */
#include "kernel_test.h"

#include <stdatomic.h>
#include <string.h>

#include <zephyr/irq_offload.h>

/* A queue item as Zephyr code writes it: the first word is the kernel's. */
struct item {
	void *reserved;
	int value;
};

static struct k_heap pool;
static unsigned char pool_region[4096] __attribute__((__aligned__(8)));

K_FIFO_DEFINE(fifo);
K_LIFO_DEFINE(lifo);
static struct k_queue queue;

static int setup(void **state)
{
	kt_setup_det(state);
	assert_int_equal(k_heap_init(&pool, pool_region, sizeof(pool_region)),
			 0);
	k_queue_init(&queue);
	k_fifo_init(&fifo);
	k_lifo_init(&lifo);
	k_current_get()->resource_pool = NULL;
	return 0;
}

static int value_of(void *item)
{
	return item != NULL ? ((struct item *)item)->value : -1;
}

/* ---- order and inspection ---------------------------------------------- */

static void test_fifo_order_and_peek(void **state)
{
	struct item a = {.value = 1}, b = {.value = 2}, c = {.value = 3};

	(void)state;
	assert_true(k_fifo_is_empty(&fifo));
	assert_null(k_fifo_peek_head(&fifo));
	assert_null(k_fifo_get(&fifo, K_NO_WAIT));
	k_fifo_put(&fifo, &a);
	k_fifo_put(&fifo, &b);
	k_fifo_put(&fifo, &c);
	assert_false(k_fifo_is_empty(&fifo));
	assert_ptr_equal(k_fifo_peek_head(&fifo), &a);
	assert_ptr_equal(k_fifo_peek_tail(&fifo), &c);
	assert_int_equal(value_of(k_fifo_get(&fifo, K_NO_WAIT)), 1);
	assert_int_equal(value_of(k_fifo_get(&fifo, K_FOREVER)), 2);
	assert_int_equal(value_of(k_fifo_get(&fifo, K_MSEC(5))), 3);
	assert_true(k_fifo_is_empty(&fifo));
	assert_null(k_fifo_peek_tail(&fifo));
	/* An item can go round again once taken. */
	k_fifo_put(&fifo, &a);
	assert_ptr_equal(k_fifo_get(&fifo, K_NO_WAIT), &a);
}

static void test_lifo_order(void **state)
{
	struct item a = {.value = 1}, b = {.value = 2}, c = {.value = 3};

	(void)state;
	k_lifo_put(&lifo, &a);
	k_lifo_put(&lifo, &b);
	k_lifo_put(&lifo, &c);
	assert_int_equal(value_of(k_lifo_get(&lifo, K_NO_WAIT)), 3);
	assert_int_equal(value_of(k_lifo_get(&lifo, K_NO_WAIT)), 2);
	assert_int_equal(value_of(k_lifo_get(&lifo, K_NO_WAIT)), 1);
	assert_null(k_lifo_get(&lifo, K_NO_WAIT));
}

/* Take every item (K_NO_WAIT) and return their values as digits. */
static int drain(struct k_queue *q)
{
	int digits = 0;
	void *item;

	while ((item = k_queue_get(q, K_NO_WAIT)) != NULL) {
		digits = digits * 10 + value_of(item);
	}
	return digits;
}

static void test_insert_remove_unique(void **state)
{
	struct item a = {.value = 1}, b = {.value = 2}, c = {.value = 3},
		    d = {.value = 4}, e = {.value = 5};

	(void)state;
	k_queue_append(&queue, &b);
	k_queue_prepend(&queue, &a);
	k_queue_insert(&queue, &b, &d);   /* a b d */
	k_queue_insert(&queue, &b, &c);   /* a b c d */
	k_queue_insert(&queue, NULL, &e); /* e a b c d: NULL is the head */
	assert_true(k_queue_remove(&queue, &e));
	assert_true(k_queue_remove(&queue, &d)); /* the tail */
	assert_ptr_equal(k_queue_peek_tail(&queue), &c);
	assert_false(k_queue_remove(&queue, &d));
	assert_false(k_queue_unique_append(&queue, &b));
	assert_true(k_queue_unique_append(&queue, &d));
	assert_int_equal(drain(&queue), 1234);
}

static void test_misuse_faults(void **state)
{
	struct item a = {.value = 1}, b = {.value = 2};
	unsigned char bytes[16] __attribute__((__aligned__(8)));

	(void)state;
	kt_faults_expect();
	k_queue_append(&queue, NULL);
	kt_faults_assert_one("k_queue_append", SIM_MSG_QUEUE_ITEM, NULL, NULL);
	kt_faults_expect();
	k_fifo_put(&fifo, bytes + 2);
	kt_faults_assert_one("k_queue_append", SIM_MSG_QUEUE_ITEM, NULL,
			     bytes + 2);
	kt_faults_expect();
	k_queue_append(&queue, &a);
	k_queue_insert(&queue, &b, &b); /* b is not queued */
	kt_faults_assert_one("k_queue_insert", SIM_MSG_QUEUE_PREV, NULL, &b);
	assert_int_equal(drain(&queue), 1);
	assert_true(k_fifo_is_empty(&fifo));
}

/* ---- lists --------------------------------------------------------------- */

static struct item list_items[5];

static void list_link(int count)
{
	for (int i = 0; i < count; i++) {
		list_items[i].value = i + 1;
		list_items[i].reserved = i + 1 < count ? &list_items[i + 1]
						       : NULL;
	}
}

static void get_into(void *p1, void *p2, void *p3)
{
	void **got = p1;

	(void)p2;
	(void)p3;
	*got = k_queue_get(&queue, K_FOREVER);
}

static void test_append_list(void **state)
{
	void *got = NULL;

	(void)state;
	assert_int_equal(k_queue_append_list(&queue, NULL, &list_items[0]),
			 -EINVAL);
	assert_int_equal(k_queue_append_list(&queue, &list_items[0], NULL),
			 -EINVAL);
	/* A waiter takes the first item; the rest are queued in order,
	 * after what was there. */
	struct item first = {.value = 9};

	kt_spawn(0, get_into, &got, NULL, K_PRIO_PREEMPT(1), K_NO_WAIT);
	k_msleep(1);
	list_link(4);
	assert_int_equal(
		k_queue_append_list(&queue, &list_items[0], &list_items[3]), 0);
	kt_join_all();
	assert_ptr_equal(got, &list_items[0]);
	k_queue_prepend(&queue, &first);
	assert_int_equal(drain(&queue), 9234);

	/* k_fifo_put_list; tail's link is set whatever it held. */
	list_link(3);
	list_items[2].reserved = &first;
	assert_int_equal(k_fifo_put_list(&fifo, &list_items[0], &list_items[2]),
			 0);
	assert_int_equal(drain(&fifo._queue), 123);

	/* A tail that cannot be reached, even round a cycle: a fault and
	 * nothing queued. */
	list_link(3);
	list_items[2].reserved = &list_items[0];
	kt_faults_expect();
	assert_int_equal(k_queue_append_list(&queue, &list_items[0],
					     &list_items[4]),
			 -EINVAL);
	kt_faults_assert_one("k_queue_append_list", SIM_MSG_QUEUE_LIST, NULL,
			     &list_items[4]);
	assert_true(k_queue_is_empty(&queue));
}

/* ---- blocking, timeouts, priorities -------------------------------------- */

static void test_get_times_out(void **state)
{
	(void)state;
	int64_t start = k_uptime_ticks();

	assert_null(k_queue_get(&queue, K_TICKS(10)));
	assert_int_equal(k_uptime_ticks() - start, 10);
}

struct receipt {
	void *item;
	int64_t tick;
	int order;
};

static atomic_int receipt_order;

static void receive(void *p1, void *p2, void *p3)
{
	struct receipt *r = p1;
	k_timeout_t *timeout = p2;

	(void)p3;
	r->item = k_fifo_get(&fifo, timeout != NULL ? *timeout : K_FOREVER);
	r->tick = k_uptime_ticks();
	r->order = atomic_fetch_add(&receipt_order, 1);
}

static void test_get_waits_for_put(void **state)
{
	struct receipt r = {0};
	struct item a = {.value = 7};

	(void)state;
	kt_spawn(0, receive, &r, NULL, K_PRIO_PREEMPT(5), K_NO_WAIT);
	k_msleep(5);
	assert_null(r.item);
	k_fifo_put(&fifo, &a);
	kt_join_all();
	assert_ptr_equal(r.item, &a);
	assert_int_equal(r.tick, 5);
	/* Handed straight to the waiter: never queued. */
	assert_true(k_fifo_is_empty(&fifo));
}

/* Waiters are served most urgent first, then in the order they came. */
static void test_waiters_by_priority(void **state)
{
	static const int prios[] = {4, 2, 6, 2};
	struct receipt r[4] = {{0}};
	struct item items[4];

	(void)state;
	atomic_store(&receipt_order, 0);
	for (int i = 0; i < 4; i++) {
		kt_spawn(i, receive, &r[i], NULL, prios[i], K_NO_WAIT);
		k_msleep(1); /* each waits before the next is created */
	}
	for (int i = 0; i < 4; i++) {
		items[i].value = i;
		k_fifo_put(&fifo, &items[i]);
	}
	kt_join_all();
	/* Thread 1 (prio 2, first) gets item 0, thread 3 (prio 2) item 1,
	 * thread 0 (prio 4) item 2, thread 2 (prio 6) item 3. */
	assert_ptr_equal(r[1].item, &items[0]);
	assert_ptr_equal(r[3].item, &items[1]);
	assert_ptr_equal(r[0].item, &items[2]);
	assert_ptr_equal(r[2].item, &items[3]);
}

/* A more urgent waiter runs as soon as a preemptible putter gives it an
 * item; a less urgent one waits until the putter blocks. */
static void test_put_preempts_for_urgent_waiter(void **state)
{
	struct receipt urgent = {0}, lazy = {0};
	struct item a = {.value = 1}, b = {.value = 2};

	(void)state;
	atomic_store(&receipt_order, 0);
	k_thread_priority_set(k_current_get(), 5);
	kt_spawn(0, receive, &urgent, NULL, K_PRIO_PREEMPT(1), K_NO_WAIT);
	kt_spawn(1, receive, &lazy, NULL, K_PRIO_PREEMPT(9), K_NO_WAIT);
	k_msleep(1);
	k_fifo_put(&fifo, &a);
	/* The urgent waiter has run already... */
	assert_int_equal(atomic_load(&receipt_order), 1);
	k_fifo_put(&fifo, &b);
	/* ...the lazy one has not. */
	assert_int_equal(atomic_load(&receipt_order), 1);
	kt_join_all();
	assert_ptr_equal(urgent.item, &a);
	assert_ptr_equal(lazy.item, &b);
}

static void test_cancel_wait(void **state)
{
	struct receipt r = {.item = &r};
	struct item a = {.value = 1};

	(void)state;
	kt_spawn(0, receive, &r, NULL, K_PRIO_PREEMPT(5), K_NO_WAIT);
	k_msleep(3);
	k_fifo_cancel_wait(&fifo);
	kt_join_all();
	assert_null(r.item);
	assert_int_equal(r.tick, 3);
	/* Without a waiter it does nothing. */
	k_fifo_put(&fifo, &a);
	k_fifo_cancel_wait(&fifo);
	assert_ptr_equal(k_fifo_get(&fifo, K_NO_WAIT), &a);
}

/* ---- allocation from the resource pool -------------------------------------- */

static size_t pool_free(void)
{
	return kt_heap_free_bytes(&pool);
}

static void test_alloc_put_uses_callers_pool(void **state)
{
	(void)state;
	size_t empty = pool_free();

	k_current_get()->resource_pool = &pool;
	/* Any pointer, even unaligned or NULL, can be queued this way. */
	assert_int_equal(k_fifo_alloc_put(&fifo, INT_TO_POINTER(3)), 0);
	size_t one = pool_free();

	assert_true(one < empty);
	assert_int_equal(k_queue_alloc_prepend(&fifo._queue, NULL), 0);
	assert_int_equal(k_fifo_alloc_put(&fifo, INT_TO_POINTER(5)), 0);
	assert_ptr_equal(k_fifo_peek_tail(&fifo), INT_TO_POINTER(5));
	assert_null(k_fifo_get(&fifo, K_NO_WAIT));
	assert_int_equal(POINTER_TO_INT(k_fifo_get(&fifo, K_NO_WAIT)), 3);
	assert_int_equal(POINTER_TO_INT(k_fifo_get(&fifo, K_NO_WAIT)), 5);
	/* Every wrapper went back to the pool. */
	assert_int_equal(pool_free(), empty);

	assert_int_equal(k_lifo_alloc_put(&lifo, INT_TO_POINTER(1)), 0);
	assert_int_equal(k_lifo_alloc_put(&lifo, INT_TO_POINTER(2)), 0);
	assert_int_equal(POINTER_TO_INT(k_lifo_get(&lifo, K_NO_WAIT)), 2);
	assert_int_equal(POINTER_TO_INT(k_lifo_get(&lifo, K_NO_WAIT)), 1);
	assert_int_equal(pool_free(), empty);
	assert_true(kt_heap_valid(&pool));
}

static void test_alloc_put_enomem(void **state)
{
	void *got = NULL;

	(void)state;
	/* No pool. */
	assert_int_equal(k_queue_alloc_append(&queue, INT_TO_POINTER(1)),
			 -ENOMEM);
	assert_int_equal(k_lifo_alloc_put(&lifo, INT_TO_POINTER(1)), -ENOMEM);
	assert_true(k_queue_is_empty(&queue));
	assert_true(k_queue_is_empty(&lifo._queue));

	/* A full pool. */
	k_current_get()->resource_pool = &pool;
	while (z_thread_malloc(8) != NULL) {
	}
	assert_int_equal(k_queue_alloc_append(&queue, INT_TO_POINTER(1)),
			 -ENOMEM);
	assert_true(k_queue_is_empty(&queue));

	/* A waiting thread takes the item directly: nothing to allocate, so
	 * it succeeds even so (as in Zephyr). */
	kt_spawn(0, get_into, &got, NULL, K_PRIO_PREEMPT(1), K_NO_WAIT);
	k_msleep(1);
	assert_int_equal(k_queue_alloc_append(&queue, INT_TO_POINTER(8)), 0);
	kt_join_all();
	assert_ptr_equal(got, INT_TO_POINTER(8));
}

/* A thread created by a thread with a pool inherits it. */
static void alloc_put_in_thread(void *p1, void *p2, void *p3)
{
	int *rc = p1;

	(void)p2;
	(void)p3;
	*rc = k_fifo_alloc_put(&fifo, INT_TO_POINTER(11));
}

static void test_alloc_put_from_inherited_pool(void **state)
{
	int rc = 1;

	(void)state;
	size_t empty = pool_free();

	k_current_get()->resource_pool = &pool;
	kt_spawn(0, alloc_put_in_thread, &rc, NULL, K_PRIO_PREEMPT(1),
		 K_NO_WAIT);
	kt_join_all();
	assert_int_equal(rc, 0);
	assert_true(pool_free() < empty);
	assert_int_equal(POINTER_TO_INT(k_fifo_get(&fifo, K_NO_WAIT)), 11);
	assert_int_equal(pool_free(), empty);
}

/* ---- ISRs -------------------------------------------------------------- */

struct isr_report {
	int alloc_rc;
	void *got_no_wait;
	void *got_blocking;
	struct item *item;
};

static void isr_routine(const void *arg)
{
	struct isr_report *report = (struct isr_report *)arg;

	k_fifo_put(&fifo, report->item);
	report->alloc_rc = k_fifo_alloc_put(&fifo, INT_TO_POINTER(4));
	report->got_no_wait = k_fifo_get(&fifo, K_NO_WAIT);
	report->got_blocking = k_fifo_get(&fifo, K_TICKS(1));
}

static void test_isr_use(void **state)
{
	struct item a = {.value = 1};
	struct isr_report report = {.item = &a, .got_blocking = &a};

	(void)state;
	size_t system_free = kt_heap_free_bytes(&_system_heap);

	/* The caller's pool is not used in an ISR: the system heap is. */
	k_current_get()->resource_pool = &pool;
	size_t empty = pool_free();

	kt_faults_expect();
	irq_offload(isr_routine, &report);
	kt_faults_assert_one("k_queue_get", SIM_MSG_BLOCK_IN_ISR, NULL, &fifo);
	assert_int_equal(report.alloc_rc, 0);
	assert_ptr_equal(report.got_no_wait, &a);
	assert_null(report.got_blocking);
	assert_int_equal(pool_free(), empty);
	assert_true(kt_heap_free_bytes(&_system_heap) < system_free);
	/* The refused blocking get took nothing. */
	assert_int_equal(POINTER_TO_INT(k_fifo_get(&fifo, K_NO_WAIT)), 4);
	assert_int_equal(kt_heap_free_bytes(&_system_heap), system_free);
}

/* An ISR's put wakes a waiter, which runs at the interrupt's exit if it
 * is more urgent than the interrupted thread. */
static void isr_put(const void *arg)
{
	k_fifo_put(&fifo, (void *)arg);
}

static void test_isr_put_wakes_waiter(void **state)
{
	struct receipt r = {0};
	struct item a = {.value = 1};

	(void)state;
	atomic_store(&receipt_order, 0);
	kt_spawn(0, receive, &r, NULL, K_PRIO_PREEMPT(0), K_NO_WAIT);
	k_thread_priority_set(k_current_get(), 5);
	k_msleep(2);
	irq_offload(isr_put, &a);
	assert_int_equal(atomic_load(&receipt_order), 1);
	kt_join_all();
	assert_ptr_equal(r.item, &a);
}

/* ---- many producers and consumers -------------------------------------- */

/* Producers put values 1..ITEM_COUNT with k_fifo_alloc_put from a pool
 * too small for all of them (4 KiB); consumers take them with blocking
 * gets. Every value arrives exactly once and every wrapper is freed. */

#define PRODUCERS 4
#define CONSUMERS 4
#define ITEMS_PER_PRODUCER 100
#define ITEM_COUNT (PRODUCERS * ITEMS_PER_PRODUCER)

static atomic_int seen[ITEM_COUNT];
static atomic_int enomem_count;
static atomic_int enomem_total; /* over every run */

static void produce(void *p1, void *p2, void *p3)
{
	int first = POINTER_TO_INT(p1);

	(void)p2;
	(void)p3;
	for (int i = 0; i < ITEMS_PER_PRODUCER; i++) {
		/* Values 1..ITEM_COUNT: 0 would be the NULL pointer. */
		void *value = INT_TO_POINTER(first + i + 1);
		int rc;

		/* The pool is small: while it is full, sleep (a yield
		 * would let only threads as urgent as this one run). */
		while ((rc = k_fifo_alloc_put(&fifo, value)) == -ENOMEM) {
			atomic_fetch_add(&enomem_count, 1);
			k_msleep(1);
		}
		KT_CHECK(rc == 0, "alloc_put gave %d", rc);
		if ((i & 7) == 0) {
			k_yield();
		}
	}
}

static void consume(void *p1, void *p2, void *p3)
{
	atomic_int *left = p1;

	(void)p2;
	(void)p3;
	while (atomic_fetch_sub(left, 1) > 0) {
		int value = POINTER_TO_INT(k_fifo_get(&fifo, K_FOREVER));

		KT_CHECK(value >= 1 && value <= ITEM_COUNT, "value %d", value);
		if (value >= 1 && value <= ITEM_COUNT) {
			atomic_fetch_add(&seen[value - 1], 1);
		}
	}
}

static void producers_consumers(uint64_t seed, void *arg)
{
	static atomic_int left;

	(void)seed;
	(void)arg;
	size_t empty = pool_free();

	atomic_store(&left, ITEM_COUNT);
	atomic_store(&enomem_count, 0);
	for (int i = 0; i < ITEM_COUNT; i++) {
		atomic_store(&seen[i], 0);
	}
	k_current_get()->resource_pool = &pool;
	for (int i = 0; i < CONSUMERS; i++) {
		kt_spawn(i, consume, &left, NULL, K_PRIO_PREEMPT(3 + i % 2),
			 K_NO_WAIT);
	}
	for (int i = 0; i < PRODUCERS; i++) {
		kt_spawn(CONSUMERS + i, produce,
			 INT_TO_POINTER(i * ITEMS_PER_PRODUCER), NULL,
			 K_PRIO_PREEMPT(2 + i % 2), K_NO_WAIT);
	}
	kt_join_all();
	for (int i = 0; i < ITEM_COUNT; i++) {
		KT_CHECK(atomic_load(&seen[i]) == 1, "value %d seen %d times",
			 i + 1, atomic_load(&seen[i]));
	}
	KT_CHECK(pool_free() == empty, "pool not back to empty");
	KT_CHECK(k_fifo_is_empty(&fifo), "items left over");
	atomic_fetch_add(&enomem_total, atomic_load(&enomem_count));
}

static void test_producers_consumers_deterministic(void **state)
{
	(void)state;
	atomic_store(&enomem_total, 0);
	kt_for_each_seed("test_producers_consumers_deterministic", 8, 30, 60,
			 producers_consumers, NULL);
	/* Producers are the more urgent: they fill the pool with wrappers
	 * and meet -ENOMEM, so both the queued and the handed-over paths
	 * ran. */
	assert_true(atomic_load(&enomem_total) > 0);
}

static void test_producers_consumers_parallel(void **state)
{
	(void)state;
	kt_run_parallel("test_producers_consumers_parallel", 120,
			producers_consumers, NULL);
}

int main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_fifo_order_and_peek, setup,
						kt_teardown_det),
		cmocka_unit_test_setup_teardown(test_lifo_order, setup,
						kt_teardown_det),
		cmocka_unit_test_setup_teardown(test_insert_remove_unique,
						setup, kt_teardown_det),
		cmocka_unit_test_setup_teardown(test_misuse_faults, setup,
						kt_teardown_det),
		cmocka_unit_test_setup_teardown(test_append_list, setup,
						kt_teardown_det),
		cmocka_unit_test_setup_teardown(test_get_times_out, setup,
						kt_teardown_det),
		cmocka_unit_test_setup_teardown(test_get_waits_for_put, setup,
						kt_teardown_det),
		cmocka_unit_test_setup_teardown(test_waiters_by_priority, setup,
						kt_teardown_det),
		cmocka_unit_test_setup_teardown(
			test_put_preempts_for_urgent_waiter, setup,
			kt_teardown_det),
		cmocka_unit_test_setup_teardown(test_cancel_wait, setup,
						kt_teardown_det),
		cmocka_unit_test_setup_teardown(test_alloc_put_uses_callers_pool,
						setup, kt_teardown_det),
		cmocka_unit_test_setup_teardown(test_alloc_put_enomem, setup,
						kt_teardown_det),
		cmocka_unit_test_setup_teardown(
			test_alloc_put_from_inherited_pool, setup,
			kt_teardown_det),
		cmocka_unit_test_setup_teardown(test_isr_use, setup,
						kt_teardown_det),
		cmocka_unit_test_setup_teardown(test_isr_put_wakes_waiter,
						setup, kt_teardown_det),
		cmocka_unit_test_setup_teardown(
			test_producers_consumers_deterministic, setup,
			kt_teardown_det),
		cmocka_unit_test_setup_teardown(
			test_producers_consumers_parallel, setup,
			kt_teardown_det),
	};

	kt_program_args(argc, argv);
	return cmocka_run_group_tests_name("k_queue, k_fifo, k_lifo", tests,
					   NULL, NULL);
}
