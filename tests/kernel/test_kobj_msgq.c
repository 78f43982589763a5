/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The simulator's k_msgq against Zephyr's documented behaviour: FIFO
 * order round the ring, peek and peek_at, counts and attributes, purge,
 * K_NO_WAIT failures, timeouts, senders and receivers that wait (served
 * most urgent first, messages handed over directly), k_msgq_alloc_init
 * from the caller's resource pool and k_msgq_cleanup, ISR use, and many
 * senders and receivers in both schedules.
 *
 * Usage: test_kobj_msgq [test-name-pattern]
 */
#include "kernel_test.h"

#include <stdatomic.h>
#include <string.h>

#include <zephyr/irq_offload.h>

struct message {
	uint32_t sender;
	uint32_t sequence;
};

#define DEPTH 4

K_MSGQ_DEFINE(msgq, sizeof(struct message), DEPTH, 4);

static struct k_heap pool;
static unsigned char pool_region[2048] __attribute__((__aligned__(8)));

static int setup(void **state)
{
	kt_setup_det(state);
	assert_int_equal(k_heap_init(&pool, pool_region, sizeof(pool_region)),
			 0);
	k_msgq_purge(&msgq);
	k_current_get()->resource_pool = NULL;
	return 0;
}

static struct message msg(uint32_t sender, uint32_t sequence)
{
	struct message m = {.sender = sender, .sequence = sequence};

	return m;
}

/* Put with K_NO_WAIT; the result. */
static int put(struct k_msgq *q, uint32_t sender, uint32_t sequence)
{
	struct message m = msg(sender, sequence);

	return k_msgq_put(q, &m, K_NO_WAIT);
}

/* Get with K_NO_WAIT; the sequence number, or -1 if none. */
static int64_t get_sequence(struct k_msgq *q)
{
	struct message m;

	return k_msgq_get(q, &m, K_NO_WAIT) == 0 ? (int64_t)m.sequence : -1;
}

/* ---- the ring ------------------------------------------------------------ */

static void test_order_counts_and_wrap(void **state)
{
	struct k_msgq_attrs attrs;
	struct message m;

	(void)state;
	k_msgq_get_attrs(&msgq, &attrs);
	assert_int_equal(attrs.msg_size, sizeof(struct message));
	assert_int_equal(attrs.max_msgs, DEPTH);
	assert_int_equal(attrs.used_msgs, 0);
	assert_int_equal(k_msgq_get(&msgq, &m, K_NO_WAIT), -ENOMSG);
	assert_int_equal(k_msgq_peek(&msgq, &m), -ENOMSG);
	/* Several rounds of the ring. */
	uint32_t next_put = 0, next_get = 0;

	for (int round = 0; round < 5; round++) {
		while (k_msgq_num_free_get(&msgq) > 0u) {
			assert_int_equal(put(&msgq, 0, next_put++), 0);
		}
		assert_int_equal(put(&msgq, 0, 999), -ENOMSG);
		assert_int_equal(k_msgq_num_used_get(&msgq), DEPTH);
		assert_int_equal(k_msgq_peek(&msgq, &m), 0);
		assert_int_equal(m.sequence, next_get);
		for (uint32_t i = 0; i < DEPTH; i++) {
			assert_int_equal(k_msgq_peek_at(&msgq, &m, i), 0);
			assert_int_equal(m.sequence, next_get + i);
		}
		assert_int_equal(k_msgq_peek_at(&msgq, &m, DEPTH), -ENOMSG);
		/* Take some, so that the next round starts mid-ring. */
		for (int i = 0; i <= round % DEPTH; i++) {
			assert_int_equal(get_sequence(&msgq), next_get++);
		}
	}
	k_msgq_purge(&msgq);
	assert_int_equal(k_msgq_num_used_get(&msgq), 0);
	assert_int_equal(k_msgq_num_free_get(&msgq), DEPTH);
	assert_int_equal(get_sequence(&msgq), -1);
	/* Usable again after the purge. */
	assert_int_equal(put(&msgq, 0, 42), 0);
	assert_int_equal(get_sequence(&msgq), 42);
}

static void test_init_over_own_buffer(void **state)
{
	static char buffer[3 * sizeof(uint64_t)];
	struct k_msgq q;
	uint64_t v = 7, out = 0;

	(void)state;
	k_msgq_init(&q, buffer, sizeof(uint64_t), 3);
	assert_int_equal(k_msgq_put(&q, &v, K_NO_WAIT), 0);
	assert_int_equal(memcmp(buffer, &v, sizeof(v)), 0);
	assert_int_equal(k_msgq_get(&q, &out, K_NO_WAIT), 0);
	assert_int_equal(out, 7);
	/* Not allocated: cleanup frees nothing and succeeds. */
	assert_int_equal(k_msgq_cleanup(&q), 0);
	assert_int_equal(k_msgq_put(&q, &v, K_NO_WAIT), 0);

	/* Messages of 0 bytes: a counting queue. */
	k_msgq_init(&q, buffer, 0, 3);
	for (int i = 0; i < 3; i++) {
		assert_int_equal(k_msgq_put(&q, &v, K_NO_WAIT), 0);
	}
	assert_int_equal(k_msgq_put(&q, &v, K_NO_WAIT), -ENOMSG);
	assert_int_equal(k_msgq_peek_at(&q, &out, 2), 0);
	assert_int_equal(k_msgq_peek_at(&q, &out, 3), -ENOMSG);
	assert_int_equal(k_msgq_get(&q, &out, K_NO_WAIT), 0);
	assert_int_equal(k_msgq_num_used_get(&q), 2);
}

/* ---- waiting ----------------------------------------------------------- */

static void test_timeouts(void **state)
{
	struct message m = msg(0, 0);

	(void)state;
	int64_t start = k_uptime_ticks();

	assert_int_equal(k_msgq_get(&msgq, &m, K_TICKS(7)), -EAGAIN);
	assert_int_equal(k_uptime_ticks() - start, 7);
	for (uint32_t i = 0; i < DEPTH; i++) {
		assert_int_equal(put(&msgq, 0, i), 0);
	}
	start = k_uptime_ticks();
	assert_int_equal(k_msgq_put(&msgq, &m, K_MSEC(5)), -EAGAIN);
	assert_int_equal(k_uptime_ticks() - start, (int64_t)K_MSEC(5).ticks);
	assert_int_equal(k_msgq_num_used_get(&msgq), DEPTH);
}

struct outcome {
	int rc;
	struct message m;
	int64_t tick;
	int order;
};

static atomic_int finish_order;

static void receiver(void *p1, void *p2, void *p3)
{
	struct outcome *o = p1;

	(void)p2;
	(void)p3;
	o->rc = k_msgq_get(&msgq, &o->m, K_FOREVER);
	o->tick = k_uptime_ticks();
	o->order = atomic_fetch_add(&finish_order, 1);
}

static void sender(void *p1, void *p2, void *p3)
{
	struct outcome *o = p1;

	(void)p2;
	(void)p3;
	o->rc = k_msgq_put(&msgq, &o->m, K_FOREVER);
	o->tick = k_uptime_ticks();
	o->order = atomic_fetch_add(&finish_order, 1);
}

/* Receivers waiting on an empty queue get messages directly, most urgent
 * first, then in arrival order; the queue stays empty. */
static void test_waiting_receivers(void **state)
{
	static const int prios[] = {6, 3, 3, 1};
	struct outcome o[4] = {{0}};

	(void)state;
	for (int i = 0; i < 4; i++) {
		kt_spawn(i, receiver, &o[i], NULL, prios[i], K_NO_WAIT);
		k_msleep(1);
	}
	for (uint32_t i = 0; i < 4; i++) {
		assert_int_equal(put(&msgq, 9, i), 0);
		assert_int_equal(k_msgq_num_used_get(&msgq), 0);
	}
	kt_join_all();
	static const uint32_t expected_sequence[] = {3, 1, 2, 0};

	for (int i = 0; i < 4; i++) {
		assert_int_equal(o[i].rc, 0);
		assert_int_equal(o[i].m.sender, 9);
		assert_int_equal(o[i].m.sequence, expected_sequence[i]);
	}
}

/* Senders waiting on a full queue: each get lets the most urgent one's
 * message in at the tail; their puts return 0. */
static void test_waiting_senders(void **state)
{
	static const int prios[] = {5, 2, 5};
	struct outcome o[3];

	(void)state;
	for (uint32_t i = 0; i < DEPTH; i++) {
		assert_int_equal(put(&msgq, 0, i), 0);
	}
	for (int i = 0; i < 3; i++) {
		o[i] = (struct outcome){.rc = 1,
					.m = msg(1, 100u + (uint32_t)i)};
		kt_spawn(i, sender, &o[i], NULL, prios[i], K_NO_WAIT);
		k_msleep(1);
	}
	/* Drain: the four first, then the senders' in priority order. */
	static const int64_t expected[] = {0, 1, 2, 3, 101, 100, 102};

	for (size_t i = 0; i < sizeof(expected) / sizeof(expected[0]); i++) {
		assert_int_equal(get_sequence(&msgq), expected[i]);
	}
	assert_int_equal(get_sequence(&msgq), -1);
	kt_join_all();
	for (int i = 0; i < 3; i++) {
		assert_int_equal(o[i].rc, 0);
	}
}

static void test_purge_releases_senders(void **state)
{
	struct outcome o = {.rc = 1, .m = msg(1, 50)};

	(void)state;
	for (uint32_t i = 0; i < DEPTH; i++) {
		assert_int_equal(put(&msgq, 0, i), 0);
	}
	kt_spawn(0, sender, &o, NULL, K_PRIO_PREEMPT(3), K_NO_WAIT);
	k_msleep(2);
	k_msgq_purge(&msgq);
	kt_join_all();
	assert_int_equal(o.rc, -ENOMSG);
	assert_int_equal(o.tick, 2);
	assert_int_equal(k_msgq_num_used_get(&msgq), 0);
}

/* A receiver more urgent than the sender runs as soon as it has the
 * message. */
static void test_put_preempts_for_urgent_receiver(void **state)
{
	struct outcome o = {0};

	(void)state;
	atomic_store(&finish_order, 0);
	k_thread_priority_set(k_current_get(), 5);
	kt_spawn(0, receiver, &o, NULL, K_PRIO_PREEMPT(1), K_NO_WAIT);
	assert_int_equal(put(&msgq, 4, 4), 0);
	assert_int_equal(atomic_load(&finish_order), 1);
	assert_int_equal(o.m.sequence, 4);
}

/* ---- k_msgq_alloc_init and k_msgq_cleanup ---------------------------------- */

static void test_alloc_init_and_cleanup(void **state)
{
	struct k_msgq q;
	uint32_t v = 0x1234, out = 0;

	(void)state;
	/* No pool: -ENOMEM. */
	assert_int_equal(k_msgq_alloc_init(&q, sizeof(v), 8), -ENOMEM);
	/* msg_size * max_msgs overflows: -EINVAL. */
	k_current_get()->resource_pool = &pool;
	assert_int_equal(k_msgq_alloc_init(&q, SIZE_MAX / 2u, 3), -EINVAL);

	size_t empty = kt_heap_free_bytes(&pool);

	/* Larger than the pool: -ENOMEM. */
	assert_int_equal(k_msgq_alloc_init(&q, 64, 64), -ENOMEM);
	assert_int_equal(k_msgq_alloc_init(&q, sizeof(v), 8), 0);
	assert_true(kt_heap_free_bytes(&pool) + 8 * sizeof(v) <= empty);
	assert_true(q.flags & K_MSGQ_FLAG_ALLOC);
	assert_int_equal(k_msgq_put(&q, &v, K_NO_WAIT), 0);
	assert_int_equal(k_msgq_get(&q, &out, K_NO_WAIT), 0);
	assert_int_equal(out, 0x1234);
	assert_int_equal(k_msgq_cleanup(&q), 0);
	assert_int_equal(kt_heap_free_bytes(&pool), empty);
	assert_false(q.flags & K_MSGQ_FLAG_ALLOC);
	/* A second cleanup frees nothing more. */
	assert_int_equal(k_msgq_cleanup(&q), 0);
	assert_true(kt_heap_valid(&pool));
}

static void test_cleanup_busy(void **state)
{
	struct outcome o = {0};

	(void)state;
	k_current_get()->resource_pool = &pool;
	size_t empty = kt_heap_free_bytes(&pool);

	/* The waiting receiver uses the global msgq: give it an allocated
	 * buffer for this test. */
	struct k_msgq saved = msgq;

	assert_int_equal(k_msgq_alloc_init(&msgq, sizeof(struct message), 2),
			 0);
	kt_spawn(0, receiver, &o, NULL, K_PRIO_PREEMPT(3), K_NO_WAIT);
	k_msleep(1);
	assert_int_equal(k_msgq_cleanup(&msgq), -EBUSY);
	assert_int_equal(put(&msgq, 2, 2), 0);
	kt_join_all();
	assert_int_equal(o.m.sequence, 2);
	assert_int_equal(k_msgq_cleanup(&msgq), 0);
	assert_int_equal(kt_heap_free_bytes(&pool), empty);
	msgq = saved;
}

/* ---- ISRs ---------------------------------------------------------------- */

struct isr_report {
	int put_rc;
	int get_rc;
	int blocking_put_rc;
	int blocking_get_rc;
	int alloc_rc;
	struct message got;
	struct k_msgq allocated;
};

static void isr_routine(const void *arg)
{
	struct isr_report *r = (struct isr_report *)arg;
	struct message m = msg(5, 55);

	r->put_rc = k_msgq_put(&msgq, &m, K_NO_WAIT);
	r->get_rc = k_msgq_get(&msgq, &r->got, K_NO_WAIT);
	r->blocking_put_rc = k_msgq_put(&msgq, &m, K_MSEC(1));
	r->alloc_rc = k_msgq_alloc_init(&r->allocated, 8, 2);
}

static void isr_blocking_get(const void *arg)
{
	struct isr_report *r = (struct isr_report *)arg;

	r->blocking_get_rc = k_msgq_get(&msgq, &r->got, K_FOREVER);
}

static void test_isr_use(void **state)
{
	struct isr_report r = {0};

	(void)state;
	size_t system_free = kt_heap_free_bytes(&_system_heap);

	kt_faults_expect();
	irq_offload(isr_routine, &r);
	kt_faults_assert_one("k_msgq_put", SIM_MSG_BLOCK_IN_ISR, NULL, &msgq);
	assert_int_equal(r.put_rc, 0);
	assert_int_equal(r.get_rc, 0);
	assert_int_equal(r.got.sequence, 55);
	assert_int_equal(r.blocking_put_rc, -ENOMSG);
	assert_int_equal(k_msgq_num_used_get(&msgq), 0);
	/* In an ISR the buffer comes from the system heap. */
	assert_int_equal(r.alloc_rc, 0);
	assert_true(kt_heap_free_bytes(&_system_heap) < system_free);
	assert_int_equal(k_msgq_cleanup(&r.allocated), 0);
	assert_int_equal(kt_heap_free_bytes(&_system_heap), system_free);

	kt_faults_expect();
	irq_offload(isr_blocking_get, &r);
	kt_faults_assert_one("k_msgq_get", SIM_MSG_BLOCK_IN_ISR, NULL, &msgq);
	assert_int_equal(r.blocking_get_rc, -ENOMSG);
}

/* ---- many senders and receivers ------------------------------------------ */

#define SENDERS 3
#define RECEIVERS 3
#define MESSAGES_PER_SENDER 150

static atomic_int received[SENDERS][MESSAGES_PER_SENDER];
static atomic_uint last_sequence[RECEIVERS][SENDERS];

static void send_many(void *p1, void *p2, void *p3)
{
	uint32_t me = POINTER_TO_UINT(p1);

	(void)p2;
	(void)p3;
	for (uint32_t i = 0; i < MESSAGES_PER_SENDER; i++) {
		struct message m = msg(me, i);
		int rc = k_msgq_put(&msgq, &m,
				    (i & 1u) ? K_FOREVER : K_MSEC(50));

		if (rc == -EAGAIN) {
			rc = k_msgq_put(&msgq, &m, K_FOREVER);
		}
		KT_CHECK(rc == 0, "put gave %d", rc);
	}
}

static void receive_many(void *p1, void *p2, void *p3)
{
	uint32_t me = POINTER_TO_UINT(p1);
	atomic_int *left = p2;

	(void)p3;
	while (atomic_fetch_sub(left, 1) > 0) {
		struct message m;
		int rc = k_msgq_get(&msgq, &m, K_FOREVER);

		KT_CHECK(rc == 0 && m.sender < SENDERS &&
				 m.sequence < MESSAGES_PER_SENDER,
			 "get gave %d, message %u/%u", rc, m.sender,
			 m.sequence);
		if (rc != 0 || m.sender >= SENDERS ||
		    m.sequence >= MESSAGES_PER_SENDER) {
			continue;
		}
		atomic_fetch_add(&received[m.sender][m.sequence], 1);
		/* One receiver sees each sender's messages in order. */
		unsigned int last = atomic_load(&last_sequence[me][m.sender]);

		KT_CHECK(last == 0u || m.sequence + 1u > last,
			 "sender %u: %u after %u", m.sender, m.sequence,
			 last - 1u);
		atomic_store(&last_sequence[me][m.sender], m.sequence + 1u);
	}
}

static void senders_receivers(uint64_t seed, void *arg)
{
	static atomic_int left;

	(void)seed;
	(void)arg;
	k_msgq_purge(&msgq);
	atomic_store(&left, SENDERS * MESSAGES_PER_SENDER);
	memset(received, 0, sizeof(received));
	memset(last_sequence, 0, sizeof(last_sequence));
	for (uint32_t i = 0; i < RECEIVERS; i++) {
		kt_spawn((int)i, receive_many, UINT_TO_POINTER(i), &left,
			 K_PRIO_PREEMPT(3 + (int)i % 2), K_NO_WAIT);
	}
	for (uint32_t i = 0; i < SENDERS; i++) {
		kt_spawn(RECEIVERS + (int)i, send_many, UINT_TO_POINTER(i),
			 NULL, K_PRIO_PREEMPT(2 + (int)i % 3), K_NO_WAIT);
	}
	kt_join_all();
	for (int s = 0; s < SENDERS; s++) {
		for (int i = 0; i < MESSAGES_PER_SENDER; i++) {
			KT_CHECK(atomic_load(&received[s][i]) == 1,
				 "message %d/%d received %d times", s, i,
				 atomic_load(&received[s][i]));
		}
	}
	KT_CHECK(k_msgq_num_used_get(&msgq) == 0, "messages left");
}

static void test_senders_receivers_deterministic(void **state)
{
	(void)state;
	kt_for_each_seed("test_senders_receivers_deterministic", 8, 30, 60,
			 senders_receivers, NULL);
}

static void test_senders_receivers_parallel(void **state)
{
	(void)state;
	kt_run_parallel("test_senders_receivers_parallel", 120,
			senders_receivers, NULL);
}

int main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_order_counts_and_wrap,
						setup, kt_teardown_det),
		cmocka_unit_test_setup_teardown(test_init_over_own_buffer,
						setup, kt_teardown_det),
		cmocka_unit_test_setup_teardown(test_timeouts, setup,
						kt_teardown_det),
		cmocka_unit_test_setup_teardown(test_waiting_receivers, setup,
						kt_teardown_det),
		cmocka_unit_test_setup_teardown(test_waiting_senders, setup,
						kt_teardown_det),
		cmocka_unit_test_setup_teardown(test_purge_releases_senders,
						setup, kt_teardown_det),
		cmocka_unit_test_setup_teardown(
			test_put_preempts_for_urgent_receiver, setup,
			kt_teardown_det),
		cmocka_unit_test_setup_teardown(test_alloc_init_and_cleanup,
						setup, kt_teardown_det),
		cmocka_unit_test_setup_teardown(test_cleanup_busy, setup,
						kt_teardown_det),
		cmocka_unit_test_setup_teardown(test_isr_use, setup,
						kt_teardown_det),
		cmocka_unit_test_setup_teardown(
			test_senders_receivers_deterministic, setup,
			kt_teardown_det),
		cmocka_unit_test_setup_teardown(test_senders_receivers_parallel,
						setup, kt_teardown_det),
	};

	kt_program_args(argc, argv);
	return cmocka_run_group_tests_name("k_msgq", tests, NULL, NULL);
}
