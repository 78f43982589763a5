/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Zephyr application code's small dependencies on the simulator, from
 * Zephyr's headers: IS_ENABLED, __aligned, __packed, ARG_UNUSED,
 * BUILD_ASSERT, POINTER_TO_INT / INT_TO_POINTER, Z_TIMEOUT_MS/US/TICKS,
 * K_TIMEOUT_EQ; and struct k_thread::resource_pool, the same storage the
 * kernel layer's thread pools use (k_thread_heap_assign,
 * z_thread_malloc, inheritance by new threads).
 *
 * Usage: test_zephyr_compat [test-name-pattern]
 */
#include "kernel_test.h"

#include <stdalign.h>

#include <zephyr/kernel.h>
#include <zephyr/sys/util.h>
#include <zephyr/sys/util_macro.h>
#include <zephyr/sys_clock.h>
#include <zephyr/toolchain.h>

/* ---- macros ---------------------------------------------------------------- */

#define COMPAT_ON 1
#define COMPAT_OFF 0
#define COMPAT_TWO 2
#define COMPAT_EMPTY

/* In #if as in C. */
#if !IS_ENABLED(COMPAT_ON) || IS_ENABLED(COMPAT_OFF) ||                        \
	IS_ENABLED(COMPAT_UNDEFINED)
#error "IS_ENABLED in #if"
#endif

static void test_is_enabled(void **state)
{
	(void)state;
	assert_int_equal(IS_ENABLED(COMPAT_ON), 1);
	assert_int_equal(IS_ENABLED(COMPAT_OFF), 0);
	assert_int_equal(IS_ENABLED(COMPAT_TWO), 0);
	assert_int_equal(IS_ENABLED(COMPAT_EMPTY), 0);
	assert_int_equal(IS_ENABLED(COMPAT_UNDEFINED), 0);
	/* A constant expression: usable where C needs one. */
	static const int table[IS_ENABLED(COMPAT_ON) + 1] = {0, 1};

	assert_int_equal(table[IS_ENABLED(COMPAT_ON)], 1);
}

struct __packed packed_pair {
	uint8_t tag;
	uint32_t value;
};

struct aligned_pair {
	uint8_t tag;
	uint8_t __aligned(32) payload[3];
};

BUILD_ASSERT(sizeof(struct packed_pair) == 5, "__packed removes padding");
BUILD_ASSERT(sizeof(uint32_t) == 4);

static uint8_t __aligned(64) aligned_buffer[10];

static int unused_parameter(int used, int unused)
{
	ARG_UNUSED(unused);
	return used;
}

static void test_toolchain_macros(void **state)
{
	(void)state;
	assert_int_equal(sizeof(struct packed_pair), 5);
	assert_int_equal(offsetof(struct packed_pair, value), 1);
	assert_int_equal(offsetof(struct aligned_pair, payload), 32);
	assert_int_equal(alignof(struct aligned_pair), 32);
	assert_int_equal((uintptr_t)aligned_buffer % 64u, 0);
	assert_int_equal(unused_parameter(3, 4), 3);
}

static void test_pointer_int_round_trip(void **state)
{
	static const int32_t values[] = {0,      1,         -1,
					 123456, INT32_MIN, INT32_MAX};

	(void)state;
	for (size_t i = 0; i < sizeof(values) / sizeof(values[0]); i++) {
		void *p = INT_TO_POINTER(values[i]);

		assert_int_equal(POINTER_TO_INT(p), values[i]);
	}
	assert_int_equal(POINTER_TO_UINT(UINT_TO_POINTER(UINT32_MAX)),
			 UINT32_MAX);
	assert_null(INT_TO_POINTER(0));
}

static void test_timeouts(void **state)
{
	(void)state;
	assert_true(K_TIMEOUT_EQ(Z_TIMEOUT_MS(25), K_MSEC(25)));
	assert_true(K_TIMEOUT_EQ(Z_TIMEOUT_US(1500), K_USEC(1500)));
	assert_true(K_TIMEOUT_EQ(Z_TIMEOUT_TICKS(7), K_TICKS(7)));
	assert_true(K_TIMEOUT_EQ(Z_TIMEOUT_NS(1), K_NSEC(1)));
	assert_true(K_TIMEOUT_EQ(Z_TIMEOUT_NO_WAIT, K_NO_WAIT));
	assert_true(K_TIMEOUT_EQ(Z_FOREVER, K_FOREVER));
	assert_false(K_TIMEOUT_EQ(K_NO_WAIT, K_FOREVER));
	assert_false(K_TIMEOUT_EQ(Z_TIMEOUT_TICKS(1), Z_TIMEOUT_TICKS(2)));
	/* Durations round up to whole ticks (1000 ticks per second). */
	assert_int_equal(Z_TIMEOUT_US(1).ticks, 1);
	assert_int_equal(Z_TIMEOUT_MS(3).ticks,
			 (3 * CONFIG_SYS_CLOCK_TICKS_PER_SEC + 999) / 1000);
	/* Usable as a sleep. */
	int64_t start = k_uptime_ticks();

	k_sleep(Z_TIMEOUT_TICKS(4));
	assert_int_equal(k_uptime_ticks() - start, 4);
}

/* ---- k_thread::resource_pool ----------------------------------------------- */

static struct k_heap pool_a, pool_b;
static unsigned char region_a[2048] __attribute__((__aligned__(8)));
static unsigned char region_b[2048] __attribute__((__aligned__(8)));

static bool in_region(const void *mem, const unsigned char *region,
		      size_t bytes)
{
	return (const unsigned char *)mem >= region &&
	       (const unsigned char *)mem < region + bytes;
}

static int setup(void **state)
{
	kt_setup_det(state);
	assert_int_equal(k_heap_init(&pool_a, region_a, sizeof(region_a)), 0);
	assert_int_equal(k_heap_init(&pool_b, region_b, sizeof(region_b)), 0);
	return 0;
}

static void test_resource_pool_field(void **state)
{
	(void)state;
	struct k_thread *self = k_current_get();

	/* Writes through Zephyr's field reach the kernel layer... */
	self->resource_pool = &pool_a;
	assert_ptr_equal(kheap_port_thread_data(NULL)->resource_pool, &pool_a);
	void *a = z_thread_malloc(64);

	assert_true(in_region(a, region_a, sizeof(region_a)));
	k_free(a);
	self->resource_pool = NULL;
	assert_null(z_thread_malloc(64));

	/* ...and the kernel layer's writes show in the field. */
	k_thread_heap_assign(self, &pool_b);
	assert_ptr_equal(self->resource_pool, &pool_b);
	void *b = z_thread_malloc(64);

	assert_true(in_region(b, region_b, sizeof(region_b)));
	k_free(b);
	k_thread_system_pool_assign(self);
	assert_ptr_equal(self->resource_pool, &_system_heap);
}

struct child_view {
	struct k_heap *pool_at_start;
	void *block;
};

static void child(void *p1, void *p2, void *p3)
{
	struct child_view *view = p1;

	(void)p2;
	(void)p3;
	view->pool_at_start = k_current_get()->resource_pool;
	view->block = z_thread_malloc(32);
}

/* A new thread inherits its creator's pool; Zephyr's create, assign,
 * start pattern gives it another through the field. */
static void test_resource_pool_of_new_threads(void **state)
{
	struct child_view inherited = {0}, assigned = {0};

	(void)state;
	k_current_get()->resource_pool = &pool_a;
	kt_spawn(0, child, &inherited, NULL, K_PRIO_PREEMPT(1), K_NO_WAIT);
	k_tid_t late = kt_spawn(1, child, &assigned, NULL, K_PRIO_PREEMPT(1),
				K_FOREVER);

	late->resource_pool = &pool_b;
	k_thread_start(late);
	kt_join_all();
	assert_ptr_equal(inherited.pool_at_start, &pool_a);
	assert_true(in_region(inherited.block, region_a, sizeof(region_a)));
	assert_ptr_equal(assigned.pool_at_start, &pool_b);
	assert_true(in_region(assigned.block, region_b, sizeof(region_b)));
	k_free(inherited.block);
	k_free(assigned.block);
}

int main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_is_enabled),
		cmocka_unit_test(test_toolchain_macros),
		cmocka_unit_test(test_pointer_int_round_trip),
		cmocka_unit_test_setup_teardown(test_timeouts, setup,
						kt_teardown_det),
		cmocka_unit_test_setup_teardown(test_resource_pool_field, setup,
						kt_teardown_det),
		cmocka_unit_test_setup_teardown(
			test_resource_pool_of_new_threads, setup,
			kt_teardown_det),
	};

	kt_program_args(argc, argv);
	return cmocka_run_group_tests_name("Zephyr compatibility", tests, NULL,
					   NULL);
}
