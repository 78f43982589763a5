/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Assertions the Zephyr way: <zephyr/sys/__assert.h> and the misuse that
 * Zephyr asserts on.
 *
 * Built twice (tests/kernel/CMakeLists.txt):
 * - test_zephyr_assert_on: the simulator, the kernel layer and the core
 *   built with CONFIG_ASSERT=1. This program defines assert_post_action,
 *   as a Zephyr test does to intercept assertions; __ASSERT and
 *   __ASSERT_NO_MSG evaluate their test and reach it when the test is
 *   false, and so does each misuse Zephyr asserts on (sys_heap_init below
 *   the minimum, an alignment that is not a power of two, blocking from an
 *   ISR, a double free), once each, after Zephyr's report on stderr. The
 *   call is then refused as without assertions.
 * - test_zephyr_assert: without CONFIG_ASSERT. The macros compile to
 *   nothing and do not evaluate their test, assert_post_action is never
 *   called, and the misuse gives today's documented results: -EINVAL from
 *   sys_heap_init with no report, a fault report (captured here) and NULL
 *   or nothing for the others.
 *
 * Usage: test_zephyr_assert[_on] [test-name-pattern]
 */
#include "kernel_test.h"

#include <errno.h>
#include <string.h>
#include <unistd.h>

#include <kheap/config.h>
#include <zephyr/irq_offload.h>
#include <zephyr/sys/__assert.h>

/* What reached assert_post_action. */
static unsigned int asserts;
static const char *assert_file;
static unsigned int assert_line;

void assert_post_action(const char *file, unsigned int line)
{
	asserts++;
	assert_file = file;
	assert_line = line;
}

K_HEAP_DEFINE(assert_heap, 4096);

static _Alignas(8) unsigned char raw_region[512];

static int setup(void **state)
{
	asserts = 0;
	assert_file = NULL;
	assert_line = 0;
	return kt_setup_det(state);
}

static int teardown(void **state)
{
	(void)state;
	kt_faults_assert_none();
	return 0;
}

/*
 * Each misuse below: with CONFIG_ASSERT it must reach assert_post_action
 * exactly once and no fault may be left to the capture; without it the
 * port must see exactly one fault (`operation`, `message`) and
 * assert_post_action nothing.
 */
static void expect_misuse_begin(void)
{
	asserts = 0;
	if (!KHEAP_ZEPHYR_ASSERTS) {
		kt_faults_expect();
	}
}

static void expect_misuse_end(const char *operation, const char *message)
{
	if (KHEAP_ZEPHYR_ASSERTS) {
		assert_int_equal(asserts, 1);
		assert_non_null(strstr(assert_file, "sim_fault.c"));
		assert_true(assert_line > 0u);
	} else {
		kt_faults_assert_one(operation, message, NULL, NULL);
		assert_int_equal(asserts, 0);
	}
}

/* A refused heap region: an assertion with CONFIG_ASSERT, and without it
 * no report at all (capture on, to see one if it came). */
static void expect_no_fault_unless_asserts(void)
{
	asserts = 0;
	if (!KHEAP_ZEPHYR_ASSERTS) {
		kt_faults_expect();
	}
}

/* ---- the macros ------------------------------------------------------- */

static void test_assert_macros(void **state)
{
	(void)state;
	int evaluated = 0;
	unsigned int line = __LINE__ + 1u;
	__ASSERT(++evaluated == 0, "evaluated %d time", evaluated);

	if (KHEAP_ZEPHYR_ASSERTS) {
		assert_int_equal(evaluated, 1);
		assert_int_equal(asserts, 1);
		assert_string_equal(assert_file, __FILE__);
		assert_int_equal(assert_line, line);
	} else {
		/* Not even evaluated. */
		assert_int_equal(evaluated, 0);
		assert_int_equal(asserts, 0);
	}

	line = __LINE__ + 1u;
	__ASSERT_NO_MSG(++evaluated < 0);
	assert_int_equal(asserts, KHEAP_ZEPHYR_ASSERTS ? 2 : 0);
	assert_int_equal(evaluated, KHEAP_ZEPHYR_ASSERTS ? 2 : 0);
	if (KHEAP_ZEPHYR_ASSERTS) {
		assert_int_equal(assert_line, line);
	}

	/* True conditions assert nothing. */
	__ASSERT(evaluated >= 0, "never printed");
	__ASSERT_NO_MSG(evaluated >= 0);
	assert_int_equal(asserts, KHEAP_ZEPHYR_ASSERTS ? 2 : 0);

	/* __ASSERT_EVAL: expr2 and the test with assertions, expr1
	 * without. */
	int which = 0;

	__ASSERT_EVAL(which = 1, which = 2, which == 2, "expr2 ran");
	assert_int_equal(which, KHEAP_ZEPHYR_ASSERTS ? 2 : 1);
	assert_int_equal(asserts, KHEAP_ZEPHYR_ASSERTS ? 2 : 0);
}

static void failing_assert(void *arg)
{
	int value = *(int *)arg;

	(void)value; /* Without CONFIG_ASSERT the macros drop it. */
	__ASSERT(value == 0, "value is %d", value);
	__ASSERT_NO_MSG(value == 0);
}

/* Zephyr's report: the condition and where, then the message. */
static void test_assert_report(void **state)
{
	(void)state;
	static char report[1024];
	int value = 7;

	kt_capture_fd(STDERR_FILENO, failing_assert, &value, report,
		      sizeof(report));
	if (KHEAP_ZEPHYR_ASSERTS) {
		char expected[512];

		snprintf(expected, sizeof(expected),
			 "ASSERTION FAIL [value == 0] @ %s:", __FILE__);
		assert_non_null(strstr(report, expected));
		assert_non_null(strstr(report, "\n\tvalue is 7\n"));
		/* Once per macro. */
		assert_int_equal(asserts, 2);
	} else {
		assert_string_equal(report, "");
		assert_int_equal(asserts, 0);
	}
}

/* ---- misuse Zephyr asserts on ---------------------------------------------- */

static void test_heap_init_below_minimum(void **state)
{
	(void)state;
	struct sys_heap heap;

	/* Not a fault without CONFIG_ASSERT: only -EINVAL. */
	expect_no_fault_unless_asserts();
	assert_int_equal(sys_heap_init(&heap, raw_region, Z_HEAP_MIN_SIZE - 1u),
			 -EINVAL);
	assert_int_equal(asserts, KHEAP_ZEPHYR_ASSERTS ? 1 : 0);
	/* A misaligned region of Z_HEAP_MIN_SIZE bytes loses its start. */
	assert_int_equal(sys_heap_init(&heap, raw_region + 1, Z_HEAP_MIN_SIZE),
			 -EINVAL);
	assert_int_equal(asserts, KHEAP_ZEPHYR_ASSERTS ? 2 : 0);
	assert_int_equal(sys_heap_init(&heap, NULL, 4096), -EINVAL);
	assert_int_equal(asserts, KHEAP_ZEPHYR_ASSERTS ? 3 : 0);
	/* What Zephyr accepts is accepted, with nothing reported. */
	assert_int_equal(sys_heap_init(&heap, raw_region, Z_HEAP_MIN_SIZE), 0);
	assert_int_equal(asserts, KHEAP_ZEPHYR_ASSERTS ? 3 : 0);
	kt_faults_assert_none();
}

static void test_k_heap_init_below_minimum(void **state)
{
	(void)state;
	struct k_heap heap;

	expect_no_fault_unless_asserts();
	assert_int_equal(k_heap_init(&heap, raw_region, Z_HEAP_MIN_SIZE - 1u),
			 -EINVAL);
	assert_int_equal(asserts, KHEAP_ZEPHYR_ASSERTS ? 1 : 0);
	kt_faults_assert_none();
	assert_null(k_heap_alloc(&heap, 1, K_NO_WAIT));
}

static void test_non_power_of_two_alignment(void **state)
{
	(void)state;

	expect_misuse_begin();
	assert_null(k_heap_aligned_alloc(&assert_heap, 3, 64, K_NO_WAIT));
	expect_misuse_end("k_heap_aligned_alloc",
			  "alignment is not a power of two");

	expect_misuse_begin();
	assert_null(k_aligned_alloc(48, 64));
	expect_misuse_end("k_aligned_alloc", "alignment is not a power of two");
}

static void blocking_alloc(const void *arg)
{
	void **result = (void **)(uintptr_t)arg;

	*result = k_heap_alloc(&assert_heap, 16, K_FOREVER);
}

static void test_blocking_from_isr(void **state)
{
	(void)state;
	void *result = &result;

	expect_misuse_begin();
	irq_offload(blocking_alloc, &result);
	expect_misuse_end("k_heap_alloc", "ISR");
	assert_null(result);
}

static void test_double_free(void **state)
{
	(void)state;
	struct sys_heap heap;
	void *mem = k_heap_alloc(&assert_heap, 32, K_NO_WAIT);

	assert_non_null(mem);
	k_heap_free(&assert_heap, mem);
	expect_misuse_begin();
	k_heap_free(&assert_heap, mem);
	expect_misuse_end("free", "double free");
	assert_true(kt_heap_valid(&assert_heap));

	/* A raw sys_heap too. */
	assert_int_equal(sys_heap_init(&heap, raw_region, sizeof(raw_region)),
			 0);
	mem = sys_heap_alloc(&heap, 32);
	sys_heap_free(&heap, mem);
	expect_misuse_begin();
	sys_heap_free(&heap, mem);
	expect_misuse_end("free", "double free");
	assert_true(sys_heap_validate(&heap));
}

static void double_free_raw(void *arg)
{
	struct sys_heap *heap = arg;
	void *mem = sys_heap_alloc(heap, 32);

	sys_heap_free(heap, mem);
	sys_heap_free(heap, mem);
}

/* With CONFIG_ASSERT a fault is reported as Zephyr reports a failed
 * assertion; without, in the simulator's own format. */
static void test_fault_report_format(void **state)
{
	(void)state;
	static char report[1024];
	struct sys_heap heap;

	assert_int_equal(sys_heap_init(&heap, raw_region, sizeof(raw_region)),
			 0);
	expect_misuse_begin();
	kt_capture_fd(STDERR_FILENO, double_free_raw, &heap, report,
		      sizeof(report));
	if (KHEAP_ZEPHYR_ASSERTS) {
		assert_int_equal(asserts, 1);
		assert_non_null(strstr(report, "ASSERTION FAIL [free] @ "));
		assert_non_null(strstr(report, "\n\tkheap fault: free(0x"));
	} else {
		/* Captured: nothing printed. */
		kt_faults_assert_one("free", "double free", &heap, NULL);
		assert_string_equal(report, "");
	}
}

int main(int argc, char **argv)
{
	kt_program_args(argc, argv);
	printf("# CONFIG_ASSERT %s\n", KHEAP_ZEPHYR_ASSERTS ? "on" : "off");
	const struct CMUnitTest tests[] = {
#define KT_TEST(name) cmocka_unit_test_setup_teardown(name, setup, teardown)
		KT_TEST(test_assert_macros),
		KT_TEST(test_assert_report),
		KT_TEST(test_heap_init_below_minimum),
		KT_TEST(test_k_heap_init_below_minimum),
		KT_TEST(test_non_power_of_two_alignment),
		KT_TEST(test_blocking_from_isr),
		KT_TEST(test_double_free),
		KT_TEST(test_fault_report_format),
#undef KT_TEST
	};
	return cmocka_run_group_tests_name("assertions the Zephyr way", tests,
					   NULL, NULL);
}
