/* SPDX-License-Identifier: Apache-2.0 */
/*
 * cmocka_lite runner and assertions (see cmocka.h). Output follows
 * CMocka's layout so that logs read the same on host and target.
 */
#include "cmocka.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <kheap/target.h>

enum test_outcome {
	OUTCOME_PASSED,
	OUTCOME_FAILED,
	OUTCOME_SKIPPED,
};

static jmp_buf test_jump;
static bool test_running;
static const char *test_filter;
static const char *skip_filter;

void cmocka_set_test_filter(const char *pattern)
{
	test_filter = pattern;
}

void cmocka_set_skip_filter(const char *pattern)
{
	skip_filter = pattern;
}

/* Glob match: '*' any run of characters, '?' one character. */
static bool glob_match(const char *pattern, const char *text)
{
	const char *star = NULL;
	const char *resume = NULL;

	while (*text != '\0') {
		if (*pattern == '*') {
			star = pattern++;
			resume = text;
		} else if (*pattern == '?' || *pattern == *text) {
			pattern++;
			text++;
		} else if (star != NULL) {
			pattern = star + 1;
			text = ++resume;
		} else {
			return false;
		}
	}
	while (*pattern == '*') {
		pattern++;
	}
	return *pattern == '\0';
}

void cmocka_lite_print_message(const char *format, ...)
{
	va_list args;

	va_start(args, format);
	vprintf(format, args);
	va_end(args);
}

void cmocka_lite_print_error(const char *format, ...)
{
	va_list args;

	fflush(stdout);
	va_start(args, format);
	vfprintf(stderr, format, args);
	va_end(args);
	fflush(stderr);
}

/* Leave the running test with `outcome`. */
static void leave_test(enum test_outcome outcome) __attribute__((noreturn));

static void leave_test(enum test_outcome outcome)
{
	if (!test_running || k_is_in_isr()) {
		/* No runner to return to (or handler mode, which longjmp
		 * cannot leave): end the program as a failure. */
		cmocka_lite_print_error("cmocka_lite: assertion failed %s; "
					"exiting\n",
					k_is_in_isr()
						? "in an interrupt handler"
						: "outside a test");
		exit(TARGET_EXIT_FAIL);
	}
	longjmp(test_jump, (int)outcome + 1);
}

static void failed_at(const char *file, int line) __attribute__((noreturn));

static void failed_at(const char *file, int line)
{
	cmocka_lite_print_error("%s:%d: error: Failure!\n", file, line);
	leave_test(OUTCOME_FAILED);
}

void _fail(const char *file, int line)
{
	failed_at(file, line);
}

void _fail_msg(const char *file, int line, const char *format, ...)
{
	va_list args;

	fflush(stdout);
	fputs("ERROR: ", stderr);
	va_start(args, format);
	vfprintf(stderr, format, args);
	va_end(args);
	fputs("\n", stderr);
	failed_at(file, line);
}

void _skip(const char *file, int line)
{
	(void)file;
	(void)line;
	leave_test(OUTCOME_SKIPPED);
}

void _assert_true(LargestIntegralType result, const char *expression,
		  const char *file, int line)
{
	if (result == 0u) {
		cmocka_lite_print_error("%s\n", expression);
		failed_at(file, line);
	}
}

void _assert_return_code(LargestIntegralType result, size_t bytes,
			 LargestIntegralType error, const char *expression,
			 const char *file, int line)
{
	/* Negative in its own width. */
	LargestIntegralType sign = (LargestIntegralType)1u << (bytes * 8u - 1u);

	if ((result & sign) != 0u) {
		cmocka_lite_print_error("%s < 0, errno(%llu)\n", expression,
					(unsigned long long)error);
		failed_at(file, line);
	}
}

static void print_values(const char *relation, LargestIntegralType a,
			 LargestIntegralType b, const char *a_text,
			 const char *b_text)
{
	cmocka_lite_print_error("%s %s %s: %lld (%#llx) %s %lld (%#llx)\n",
				a_text, relation, b_text, (long long)a,
				(unsigned long long)a, relation, (long long)b,
				(unsigned long long)b);
}

void _assert_int_equal(LargestIntegralType a, LargestIntegralType b,
		       const char *a_text, const char *b_text, const char *file,
		       int line)
{
	if (a != b) {
		print_values("!=", a, b, a_text, b_text);
		failed_at(file, line);
	}
}

void _assert_int_not_equal(LargestIntegralType a, LargestIntegralType b,
			   const char *a_text, const char *b_text,
			   const char *file, int line)
{
	if (a == b) {
		print_values("==", a, b, a_text, b_text);
		failed_at(file, line);
	}
}

void _assert_in_range(LargestIntegralType value, LargestIntegralType minimum,
		      LargestIntegralType maximum, const char *expression,
		      const char *file, int line)
{
	if (value < minimum || value > maximum) {
		cmocka_lite_print_error("%s = %llu is not within the range "
					"[%llu, %llu]\n",
					expression, (unsigned long long)value,
					(unsigned long long)minimum,
					(unsigned long long)maximum);
		failed_at(file, line);
	}
}

void _assert_not_in_range(LargestIntegralType value,
			  LargestIntegralType minimum,
			  LargestIntegralType maximum, const char *expression,
			  const char *file, int line)
{
	if (value >= minimum && value <= maximum) {
		cmocka_lite_print_error("%s = %llu is within the range "
					"[%llu, %llu]\n",
					expression, (unsigned long long)value,
					(unsigned long long)minimum,
					(unsigned long long)maximum);
		failed_at(file, line);
	}
}

void _assert_string_equal(const char *a, const char *b, const char *a_text,
			  const char *b_text, const char *file, int line)
{
	if (a == NULL || b == NULL || strcmp(a, b) != 0) {
		cmocka_lite_print_error("%s != %s: \"%s\" != \"%s\"\n", a_text,
					b_text, a != NULL ? a : "(null)",
					b != NULL ? b : "(null)");
		failed_at(file, line);
	}
}

void _assert_string_not_equal(const char *a, const char *b, const char *a_text,
			      const char *b_text, const char *file, int line)
{
	if (a != NULL && b != NULL && strcmp(a, b) == 0) {
		cmocka_lite_print_error("%s == %s: \"%s\"\n", a_text, b_text,
					a);
		failed_at(file, line);
	}
}

void _assert_memory_equal(const void *a, const void *b, size_t size,
			  const char *file, int line)
{
	const unsigned char *pa = a;
	const unsigned char *pb = b;

	for (size_t i = 0; i < size; i++) {
		if (pa[i] != pb[i]) {
			cmocka_lite_print_error(
				"%zu bytes at %p and %p differ first at "
				"offset %zu: 0x%02x != 0x%02x\n",
				size, a, b, i, pa[i], pb[i]);
			failed_at(file, line);
		}
	}
}

void _assert_memory_not_equal(const void *a, const void *b, size_t size,
			      const char *file, int line)
{
	if (memcmp(a, b, size) == 0) {
		cmocka_lite_print_error("%zu bytes at %p and %p are equal\n",
					size, a, b);
		failed_at(file, line);
	}
}

/* ---- the runner ------------------------------------------------------- */

/* Run fn(state) and return how it ended. fixture: fn is a setup or
 * teardown (its non-zero return is a failure). */
static enum test_outcome run_guarded(const struct CMUnitTest *test,
				     CMFixtureFunction fixture, void **state)
{
	volatile enum test_outcome outcome = OUTCOME_PASSED;
	int jumped;

	test_running = true;
	jumped = setjmp(test_jump);
	if (jumped == 0) {
		if (fixture != NULL) {
			if (fixture(state) != 0) {
				outcome = OUTCOME_FAILED;
			}
		} else {
			test->test_func(state);
		}
	} else {
		outcome = (enum test_outcome)(jumped - 1);
	}
	test_running = false;
	return outcome;
}

int _cmocka_run_group_tests(const char *group_name,
			    const struct CMUnitTest *tests, size_t count,
			    CMFixtureFunction group_setup,
			    CMFixtureFunction group_teardown)
{
	void *group_state = NULL;
	size_t selected = 0, passed = 0, failed = 0, skipped = 0;
	static const char *failed_names[64];
	size_t failed_listed = 0;

	for (size_t i = 0; i < count; i++) {
		if (test_filter == NULL ||
		    glob_match(test_filter, tests[i].name)) {
			selected++;
		}
	}
	printf("[==========] %s: Running %zu test(s).\n", group_name, selected);
	fflush(stdout);
	if (group_setup != NULL) {
		struct CMUnitTest fixture = {.name = "group setup"};

		if (run_guarded(&fixture, group_setup, &group_state) !=
		    OUTCOME_PASSED) {
			printf("[  ERROR   ] %s: group setup failed\n",
			       group_name);
			return (int)(selected != 0u ? selected : 1u);
		}
	}
	for (size_t i = 0; i < count; i++) {
		const struct CMUnitTest *test = &tests[i];
		void *state = test->initial_state;
		enum test_outcome outcome;

		if (test_filter != NULL &&
		    !glob_match(test_filter, test->name)) {
			continue;
		}
		if (group_state != NULL && state == NULL) {
			state = group_state;
		}
		if (skip_filter != NULL &&
		    glob_match(skip_filter, test->name)) {
			printf("[  SKIPPED ] %s\n", test->name);
			skipped++;
			continue;
		}
		printf("[ RUN      ] %s\n", test->name);
		fflush(stdout);
		outcome = OUTCOME_PASSED;
		if (test->setup_func != NULL) {
			outcome = run_guarded(test, test->setup_func, &state);
			if (outcome == OUTCOME_FAILED) {
				cmocka_lite_print_error("Test setup failed\n");
			}
		}
		if (outcome == OUTCOME_PASSED) {
			outcome = run_guarded(test, NULL, &state);
			if (test->teardown_func != NULL &&
			    run_guarded(test, test->teardown_func, &state) ==
				    OUTCOME_FAILED &&
			    outcome == OUTCOME_PASSED) {
				cmocka_lite_print_error(
					"Test teardown failed\n");
				outcome = OUTCOME_FAILED;
			}
		}
		switch (outcome) {
		case OUTCOME_PASSED:
			printf("[       OK ] %s\n", test->name);
			passed++;
			break;
		case OUTCOME_SKIPPED:
			printf("[  SKIPPED ] %s\n", test->name);
			skipped++;
			break;
		default:
			printf("[  FAILED  ] %s\n", test->name);
			if (failed_listed <
			    sizeof(failed_names) / sizeof(failed_names[0])) {
				failed_names[failed_listed++] = test->name;
			}
			failed++;
			break;
		}
		fflush(stdout);
	}
	if (group_teardown != NULL) {
		struct CMUnitTest fixture = {.name = "group teardown"};

		if (run_guarded(&fixture, group_teardown, &group_state) !=
		    OUTCOME_PASSED) {
			printf("[  ERROR   ] %s: group teardown failed\n",
			       group_name);
			failed++;
		}
	}
	printf("[==========] %s: %zu test(s) run.\n", group_name,
	       passed + failed + skipped);
	printf("[  PASSED  ] %zu test(s).\n", passed);
	if (skipped != 0u) {
		printf("[  SKIPPED ] %zu test(s).\n", skipped);
	}
	if (failed != 0u) {
		printf("[  FAILED  ] %zu test(s), listed below:\n", failed);
		for (size_t i = 0; i < failed_listed; i++) {
			printf("[  FAILED  ] %s\n", failed_names[i]);
		}
	}
	fflush(stdout);
	return (int)failed;
}
