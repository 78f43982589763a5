/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Timeouts on the simulator's real clock last at least as long as asked
 * (docs/simulator.md, "The two clocks"), statistically:
 *
 * - k_heap_alloc(h, 16, K_MSEC(5)) on a full heap, WAITS times in the
 *   deterministic schedule and WAITS / 2 times in the parallel one: the
 *   kernel layer's timepoints (core/kernel/timeout.c) and the port's
 *   z_pend_curr;
 * - the same, WAITS / 2 times, while another thread frees and takes back
 *   a block too small to help about every tick: each free wakes the
 *   waiter, which fails again and waits for the time left (the deadline
 *   is computed once, and a free late in the last tick must not end the
 *   wait early);
 * - k_sem_take(K_MSEC(3)) on an empty semaphore and k_sleep(K_USEC(1500))
 *   (2 ticks), WAITS / 2 times each: the simulator's own deadlines.
 *
 * Each wait starts at a chosen point of a tick of the simulator's clock,
 * i % 10 tenths of a tick after a tick begins, so that waits start early,
 * midway and late in their tick (a wait counted from the rounded-down
 * tick ends up to a tick early when it starts late in one). It is timed
 * with CLOCK_MONOTONIC around the call. Asserted: every wait returns its
 * timeout result and lasts at least its timeout in whole ticks. Printed:
 * the lateness (elapsed time minus the timeout) as a histogram in tenths
 * of a tick; no upper bound is asserted, since a loaded host may delay
 * any wake-up.
 */
#include "kernel_test.h"

#include <errno.h>
#include <inttypes.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <time.h>

#define WAITS 200u
#define NS_PER_TICK (1000000000ull / CONFIG_SYS_CLOCK_TICKS_PER_SEC)
#define HEAP_BYTES 1024u
/* Lateness buckets: early, then tenths of a tick 0.0-0.1 .. 1.0-1.1,
 * then 1.1 ticks and more. */
#define TENTHS 11u
#define BUCKETS (TENTHS + 2u)

static uint64_t mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* Spin until `tenths` tenths of a tick after the start of the next tick
 * of the simulator's clock. */
static void align_to_phase(unsigned int tenths)
{
	int64_t tick = sys_clock_tick_get();

	while (sys_clock_tick_get() == tick) {
	}
	uint64_t target = mono_ns() + tenths * NS_PER_TICK / 10u;

	while (mono_ns() < target) {
	}
}

/* One kind of wait: runs once, returns true if it timed out as it
 * should. */
struct wait_kind {
	const char *name;
	int64_t timeout_ticks;
	bool (*wait)(void);
};

static struct k_heap heap;
static unsigned char heap_region[HEAP_BYTES] __attribute__((__aligned__(8)));
static struct k_sem sem;

static bool heap_wait(void)
{
	return k_heap_alloc(&heap, 16, K_MSEC(5)) == NULL;
}

static bool sem_wait(void)
{
	return k_sem_take(&sem, K_MSEC(3)) == -EAGAIN;
}

static bool sleep_wait(void)
{
	return k_sleep(K_USEC(1500)) == 0;
}

static const struct wait_kind heap_kind = {"k_heap_alloc(K_MSEC(5))", 5,
					   heap_wait};
static const struct wait_kind sem_kind = {"k_sem_take(K_MSEC(3))", 3, sem_wait};
static const struct wait_kind sleep_kind = {"k_sleep(K_USEC(1500))", 2,
					    sleep_wait};

static int compare_i64(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;

	return x < y ? -1 : x > y;
}

static unsigned int bucket_of(int64_t late_ns)
{
	if (late_ns < 0) {
		return 0;
	}
	uint64_t tenths = (uint64_t)late_ns * 10u / NS_PER_TICK;

	return tenths < TENTHS ? (unsigned int)tenths + 1u : TENTHS + 1u;
}

/* Run `count` waits of `kind`; print the lateness histogram; assert each
 * waited at least its timeout. */
static void measure(const struct wait_kind *kind, unsigned int count,
		    const char *mode)
{
	int64_t *late_ns = calloc(count, sizeof(*late_ns));
	unsigned int histogram[BUCKETS] = {0};
	unsigned int short_waits = 0, wrong_results = 0;
	int64_t timeout_ns = kind->timeout_ticks * (int64_t)NS_PER_TICK;

	assert_non_null(late_ns);
	for (unsigned int i = 0; i < count; i++) {
		align_to_phase(i % 10u);
		uint64_t start = mono_ns();
		bool timed_out = kind->wait();
		uint64_t end = mono_ns();

		late_ns[i] = (int64_t)(end - start) - timeout_ns;
		wrong_results += !timed_out;
		short_waits += late_ns[i] < 0;
		histogram[bucket_of(late_ns[i])]++;
	}
	qsort(late_ns, count, sizeof(*late_ns), compare_i64);
	printf("# %s, %s, %u waits: lateness min %" PRId64
	       " us, median %" PRId64 " us, max %" PRId64 " us; %u ended "
	       "early\n",
	       kind->name, mode, count, late_ns[0] / 1000,
	       late_ns[count / 2u] / 1000, late_ns[count - 1u] / 1000,
	       short_waits);
	printf("#   lateness (tick = %" PRIu64 " us)  waits\n",
	       (uint64_t)NS_PER_TICK / 1000u);
	printf("#   < 0 (early)%19u\n", histogram[0]);
	for (unsigned int t = 0; t < TENTHS; t++) {
		printf("#   %u.%u-%u.%u ticks%16u\n", t / 10u, t % 10u,
		       (t + 1u) / 10u, (t + 1u) % 10u, histogram[t + 1u]);
	}
	printf("#   >= %u.%u ticks%17u\n", TENTHS / 10u, TENTHS % 10u,
	       histogram[TENTHS + 1u]);
	fflush(stdout);
	int64_t min_late = late_ns[0];

	free(late_ns);
	assert_int_equal(wrong_results, 0);
	if (min_late < 0) {
		fail_msg("%s: %u of %u waits ended early, the shortest %" PRId64
			 " us before its timeout",
			 kind->name, short_waits, count, -min_late / 1000);
	}
}

/* The blocks that fill the heap (at most one per 16 bytes). */
static void *blocks[HEAP_BYTES / 16u];
static size_t block_count;

/* A heap with no room for another 16-byte block, filled with 8-byte
 * blocks; returns the first (freeing it leaves a hole too small for 16). */
static void *fill_heap(void)
{
	void *block;

	assert_int_equal(k_heap_init(&heap, heap_region, sizeof(heap_region)),
			 0);
	block_count = 0;
	while ((block = k_heap_alloc(&heap, 8, K_NO_WAIT)) != NULL) {
		assert_true(block_count < sizeof(blocks) / sizeof(blocks[0]));
		blocks[block_count++] = block;
	}
	assert_true(block_count > 0u);
	assert_null(k_heap_alloc(&heap, 16, K_NO_WAIT));
	return blocks[0];
}

/* Free what fill_heap allocated (blocks[0] may have moved: `first`). */
static void empty_heap(void *first)
{
	blocks[0] = first;
	for (size_t i = 0; i < block_count; i++) {
		k_heap_free(&heap, blocks[i]);
	}
	assert_int_equal(kt_heap_allocated_bytes(&heap), 0);
}

/* The churn thread: frees `churn_block` and takes it back, then sleeps
 * 300 us (a tick, rounded up), until told to stop. */
static void *volatile churn_block;
static atomic_bool churn_stop;
static atomic_uint churn_frees;

static void churn(void *p1, void *p2, void *p3)
{
	(void)p1;
	(void)p2;
	(void)p3;
	while (!atomic_load(&churn_stop)) {
		k_heap_free(&heap, churn_block);
		atomic_fetch_add(&churn_frees, 1u);
		churn_block = k_heap_alloc(&heap, 8, K_NO_WAIT);
		KT_CHECK(churn_block != NULL, "the freed block came back");
		k_usleep(300);
	}
}

static void test_heap_waits_deterministic(void **state)
{
	(void)state;
	sim_test_config(SIM_MODE_DETERMINISTIC, SIM_CLOCK_REAL, 1,
			SIM_TIES_FIFO, 0);
	void *first = fill_heap();

	measure(&heap_kind, WAITS, "deterministic schedule");
	empty_heap(first);
}

static void test_heap_waits_woken_by_frees(void **state)
{
	(void)state;
	sim_test_config(SIM_MODE_DETERMINISTIC, SIM_CLOCK_REAL, 1,
			SIM_TIES_FIFO, 0);
	churn_block = fill_heap();
	atomic_store(&churn_stop, false);
	atomic_store(&churn_frees, 0u);
	kt_checks_reset();
	kt_spawn(0, churn, NULL, NULL, 0, K_NO_WAIT);
	measure(&heap_kind, WAITS / 2u,
		"deterministic schedule, woken by frees");
	atomic_store(&churn_stop, true);
	kt_join_all();
	kt_checks_assert_passed();
	empty_heap(churn_block);
	/* A free every tick or two (each wakes the waiter): the waits were
	 * woken, on average at least once each even on a loaded host. */
	printf("# %u frees during the waits\n", atomic_load(&churn_frees));
	assert_true(atomic_load(&churn_frees) >= WAITS / 2u);
}

static void test_heap_waits_parallel(void **state)
{
	(void)state;
	sim_test_config(SIM_MODE_PARALLEL, SIM_CLOCK_REAL, 1, SIM_TIES_FIFO, 0);
	void *first = fill_heap();

	measure(&heap_kind, WAITS / 2u, "parallel schedule");
	empty_heap(first);
}

static void test_sem_and_sleep_waits(void **state)
{
	(void)state;
	sim_test_config(SIM_MODE_DETERMINISTIC, SIM_CLOCK_REAL, 1,
			SIM_TIES_FIFO, 0);
	assert_int_equal(k_sem_init(&sem, 0, 1), 0);
	measure(&sem_kind, WAITS / 2u, "deterministic schedule");
	measure(&sleep_kind, WAITS / 2u, "deterministic schedule");
}

/* The longest timeouts: counted from the rounded-up tick, the time left
 * to a deadline can be one tick more than a k_ticks_t holds; that is
 * "forever", never a wrap to a negative (or no) wait. */
static void test_longest_timeouts(void **state)
{
	(void)state;
	sim_test_config(SIM_MODE_DETERMINISTIC, SIM_CLOCK_REAL, 1,
			SIM_TIES_FIFO, 0);
	align_to_phase(5);
	k_timepoint_t longest = sys_timepoint_calc(K_TICKS(INT64_MAX));
	k_timepoint_t shorter = sys_timepoint_calc(K_TICKS(INT64_MAX - 2));

	assert_true(K_TIMEOUT_EQ(sys_timepoint_timeout(longest), K_FOREVER));
	assert_false(sys_timepoint_expired(longest));
	assert_true(sys_timepoint_timeout(shorter).ticks >= INT64_MAX - 2);
	assert_false(sys_timepoint_expired(shorter));
}

int main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_heap_waits_deterministic),
		cmocka_unit_test(test_heap_waits_woken_by_frees),
		cmocka_unit_test(test_heap_waits_parallel),
		cmocka_unit_test(test_sem_and_sleep_waits),
		cmocka_unit_test(test_longest_timeouts),
	};

	if (argc > 1) {
		cmocka_set_test_filter(argv[1]);
	}
	return cmocka_run_group_tests_name("real-clock timeouts", tests, NULL,
					   NULL);
}
