/* SPDX-License-Identifier: Apache-2.0 */
/*
 * cmocka_lite: the part of CMocka's API that kheap's tests use, for
 * targets CMocka is not built for (Debian ships no arm-none-eabi CMocka).
 * The host suites' test files compile unchanged against it; a failed
 * assertion longjmps back to the runner, which reports the test as
 * failed and goes on with the next one, like CMocka.
 *
 * Supported: struct CMUnitTest and the cmocka_unit_test* initialisers;
 * cmocka_run_group_tests(_name) with group and per-test fixtures;
 * cmocka_set_test_filter / cmocka_set_skip_filter ('*' and '?');
 * assert_true/false, assert_int_(not_)equal, assert_ptr_(not_)equal,
 * assert_(non_)null, assert_string_(not_)equal, assert_memory_(not_)equal,
 * assert_(not_)in_range, assert_return_code, fail, fail_msg, skip,
 * print_message, print_error. Not supported: mocks (will_return, expect_*,
 * check_expected), test_malloc leak checks.
 *
 * Assertions may fail only in thread mode: from an interrupt handler
 * there is no way back to the runner, so the program exits with status 1.
 */
#ifndef KHEAP_CMOCKA_LITE_H
#define KHEAP_CMOCKA_LITE_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

typedef uintmax_t LargestIntegralType;

typedef void (*CMUnitTestFunction)(void **state);
typedef int (*CMFixtureFunction)(void **state);

struct CMUnitTest {
	const char *name;
	CMUnitTestFunction test_func;
	CMFixtureFunction setup_func;
	CMFixtureFunction teardown_func;
	void *initial_state;
};

#define cmocka_unit_test(f)                                                    \
	{                                                                      \
#f, f, NULL, NULL, NULL                                        \
	}
#define cmocka_unit_test_setup(f, setup)                                       \
	{                                                                      \
#f, f, setup, NULL, NULL                                       \
	}
#define cmocka_unit_test_teardown(f, teardown)                                 \
	{                                                                      \
#f, f, NULL, teardown, NULL                                    \
	}
#define cmocka_unit_test_setup_teardown(f, setup, teardown)                    \
	{                                                                      \
#f, f, setup, teardown, NULL                                   \
	}
#define cmocka_unit_test_prestate(f, state)                                    \
	{                                                                      \
#f, f, NULL, NULL, state                                       \
	}
#define cmocka_unit_test_prestate_setup_teardown(f, setup, teardown, state)    \
	{                                                                      \
#f, f, setup, teardown, state                                  \
	}

#define cmocka_run_group_tests(group_tests, group_setup, group_teardown)       \
	_cmocka_run_group_tests(#group_tests, group_tests,                     \
				sizeof(group_tests) /                          \
					sizeof((group_tests)[0]),              \
				group_setup, group_teardown)
#define cmocka_run_group_tests_name(group_name, group_tests, group_setup,      \
				    group_teardown)                            \
	_cmocka_run_group_tests(group_name, group_tests,                       \
				sizeof(group_tests) /                          \
					sizeof((group_tests)[0]),              \
				group_setup, group_teardown)

/* Run `count` tests; returns how many failed (setup failures included). */
int _cmocka_run_group_tests(const char *group_name,
			    const struct CMUnitTest *tests, size_t count,
			    CMFixtureFunction group_setup,
			    CMFixtureFunction group_teardown);

/* Only tests whose name matches (glob: '*', '?') run; NULL: all. */
void cmocka_set_test_filter(const char *pattern);
/* Tests whose name matches are skipped; NULL: none. */
void cmocka_set_skip_filter(const char *pattern);

/* ---- assertions ------------------------------------------------------- */

#define cmocka_lite_integral(x) ((LargestIntegralType)(x))
#define cmocka_lite_pointer(p)                                                 \
	((LargestIntegralType)(uintptr_t)(const void *)(p))

#define assert_true(c)                                                         \
	_assert_true(cmocka_lite_integral(!!(c)), #c, __FILE__, __LINE__)
#define assert_false(c)                                                        \
	_assert_true(cmocka_lite_integral(!(c)), "!(" #c ")", __FILE__,        \
		     __LINE__)
#define assert_non_null(c)                                                     \
	_assert_true(cmocka_lite_integral((c) != NULL), #c " != NULL",         \
		     __FILE__, __LINE__)
#define assert_null(c)                                                         \
	_assert_true(cmocka_lite_integral((c) == NULL), #c " == NULL",         \
		     __FILE__, __LINE__)
#define assert_return_code(rc, error)                                          \
	_assert_return_code(cmocka_lite_integral(rc), sizeof(rc),              \
			    cmocka_lite_integral(error), #rc, __FILE__,        \
			    __LINE__)

#define assert_int_equal(a, b)                                                 \
	_assert_int_equal(cmocka_lite_integral(a), cmocka_lite_integral(b),    \
			  #a, #b, __FILE__, __LINE__)
#define assert_int_not_equal(a, b)                                             \
	_assert_int_not_equal(cmocka_lite_integral(a),                         \
			      cmocka_lite_integral(b), #a, #b, __FILE__,       \
			      __LINE__)
#define assert_ptr_equal(a, b)                                                 \
	_assert_int_equal(cmocka_lite_pointer(a), cmocka_lite_pointer(b), #a,  \
			  #b, __FILE__, __LINE__)
#define assert_ptr_not_equal(a, b)                                             \
	_assert_int_not_equal(cmocka_lite_pointer(a), cmocka_lite_pointer(b),  \
			      #a, #b, __FILE__, __LINE__)
#define assert_in_range(value, minimum, maximum)                               \
	_assert_in_range(cmocka_lite_integral(value),                          \
			 cmocka_lite_integral(minimum),                        \
			 cmocka_lite_integral(maximum), #value, __FILE__,      \
			 __LINE__)
#define assert_not_in_range(value, minimum, maximum)                           \
	_assert_not_in_range(cmocka_lite_integral(value),                      \
			     cmocka_lite_integral(minimum),                    \
			     cmocka_lite_integral(maximum), #value, __FILE__,  \
			     __LINE__)
#define assert_string_equal(a, b)                                              \
	_assert_string_equal((a), (b), #a, #b, __FILE__, __LINE__)
#define assert_string_not_equal(a, b)                                          \
	_assert_string_not_equal((a), (b), #a, #b, __FILE__, __LINE__)
#define assert_memory_equal(a, b, size)                                        \
	_assert_memory_equal((const void *)(a), (const void *)(b), (size),     \
			     __FILE__, __LINE__)
#define assert_memory_not_equal(a, b, size)                                    \
	_assert_memory_not_equal((const void *)(a), (const void *)(b), (size), \
				 __FILE__, __LINE__)

#define fail() _fail(__FILE__, __LINE__)
#define fail_msg(...) _fail_msg(__FILE__, __LINE__, __VA_ARGS__)
#define skip() _skip(__FILE__, __LINE__)

#define print_message(...) cmocka_lite_print_message(__VA_ARGS__)
#define print_error(...) cmocka_lite_print_error(__VA_ARGS__)

void _assert_true(LargestIntegralType result, const char *expression,
		  const char *file, int line);
void _assert_return_code(LargestIntegralType result, size_t bytes,
			 LargestIntegralType error, const char *expression,
			 const char *file, int line);
void _assert_int_equal(LargestIntegralType a, LargestIntegralType b,
		       const char *a_text, const char *b_text, const char *file,
		       int line);
void _assert_int_not_equal(LargestIntegralType a, LargestIntegralType b,
			   const char *a_text, const char *b_text,
			   const char *file, int line);
void _assert_in_range(LargestIntegralType value, LargestIntegralType minimum,
		      LargestIntegralType maximum, const char *expression,
		      const char *file, int line);
void _assert_not_in_range(LargestIntegralType value,
			  LargestIntegralType minimum,
			  LargestIntegralType maximum, const char *expression,
			  const char *file, int line);
void _assert_string_equal(const char *a, const char *b, const char *a_text,
			  const char *b_text, const char *file, int line);
void _assert_string_not_equal(const char *a, const char *b, const char *a_text,
			      const char *b_text, const char *file, int line);
void _assert_memory_equal(const void *a, const void *b, size_t size,
			  const char *file, int line);
void _assert_memory_not_equal(const void *a, const void *b, size_t size,
			      const char *file, int line);
void _fail(const char *file, int line) __attribute__((noreturn));
void _fail_msg(const char *file, int line, const char *format, ...)
	__attribute__((noreturn, format(printf, 3, 4)));
void _skip(const char *file, int line) __attribute__((noreturn));

void cmocka_lite_print_message(const char *format, ...)
	__attribute__((format(printf, 1, 2)));
void cmocka_lite_print_error(const char *format, ...)
	__attribute__((format(printf, 1, 2)));

#endif /* KHEAP_CMOCKA_LITE_H */
