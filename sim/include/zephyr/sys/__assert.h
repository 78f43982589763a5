/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Zephyr's assertion API for code built on the kheap simulator.
 *
 * With CONFIG_ASSERT (defined to 1 by the build, as Zephyr's Kconfig
 * does), __ASSERT_ON is CONFIG_ASSERT_LEVEL (default 2) and
 *   __ASSERT(test, fmt, ...)   __ASSERT_NO_MSG(test)
 *   __ASSERT_EVAL(expr1, expr2, test, fmt, ...)
 * evaluate test; when it is false they print, on stderr,
 *   ASSERTION FAIL [test] @ file:line
 *   	message (for __ASSERT)
 * through assert_print() and then call assert_post_action(file, line).
 * The simulator's assert_post_action is a weak definition that prints
 * where the simulator was and aborts (Zephyr's default stops the system);
 * a program, a test for instance, may define its own to intercept
 * assertions, as Zephyr's tests do. If it returns, execution goes on
 * after the assertion.
 *
 * Without CONFIG_ASSERT (or with CONFIG_FORCE_NO_ASSERT) __ASSERT and
 * __ASSERT_NO_MSG expand to nothing and do not evaluate test;
 * __ASSERT_EVAL evaluates expr1 only.
 *
 * The simulator built with CONFIG_ASSERT also reports every fault of the
 * kernel layer, the heaps and its own checks this way (docs/simulator.md,
 * "Assertions").
 */
#ifndef ZEPHYR_SYS___ASSERT_H
#define ZEPHYR_SYS___ASSERT_H

#include <stdbool.h>

#ifdef __cplusplus
extern "C" {
#endif

/* printf-style output of a failed assertion (stderr). */
__attribute__((__format__(__printf__, 1, 2))) void assert_print(const char *fmt,
								...);

/* What happens after a failed assertion has been reported. Weak in the
 * simulator: define it to take over. */
void assert_post_action(const char *file, unsigned int line);

#ifdef __cplusplus
}
#endif

#if defined(CONFIG_ASSERT) && (CONFIG_ASSERT + 0)
#ifndef CONFIG_ASSERT_LEVEL
#define CONFIG_ASSERT_LEVEL 2
#endif
#ifndef __ASSERT_ON
#define __ASSERT_ON CONFIG_ASSERT_LEVEL
#endif
#endif

#ifdef CONFIG_FORCE_NO_ASSERT
#undef __ASSERT_ON
#define __ASSERT_ON 0
#endif

#ifndef __ASSERT_ON
#define __ASSERT_ON 0
#endif

#if __ASSERT_ON

#define __ASSERT_LOC(test)                                                     \
	assert_print("ASSERTION FAIL [%s] @ %s:%d\n", #test, __FILE__, __LINE__)
#define __ASSERT_POST_ACTION() assert_post_action(__FILE__, __LINE__)

/* The message is a format string literal and its arguments. */
#define __ASSERT(test, ...)                                                    \
	do {                                                                   \
		if (!(test)) {                                                 \
			__ASSERT_LOC(test);                                    \
			assert_print("\t" __VA_ARGS__);                        \
			assert_print("\n");                                    \
			__ASSERT_POST_ACTION();                                \
		}                                                              \
	} while (false)

#define __ASSERT_NO_MSG(test)                                                  \
	do {                                                                   \
		if (!(test)) {                                                 \
			__ASSERT_LOC(test);                                    \
			__ASSERT_POST_ACTION();                                \
		}                                                              \
	} while (false)

#define __ASSERT_EVAL(expr1, expr2, test, ...)                                 \
	do {                                                                   \
		expr2;                                                         \
		__ASSERT(test, __VA_ARGS__);                                   \
	} while (false)

#else /* !__ASSERT_ON */

#define __ASSERT(test, ...)                                                    \
	do {                                                                   \
	} while (false)
#define __ASSERT_NO_MSG(test)                                                  \
	do {                                                                   \
	} while (false)
#define __ASSERT_EVAL(expr1, expr2, test, ...) expr1

#endif /* __ASSERT_ON */

#endif /* ZEPHYR_SYS___ASSERT_H */
