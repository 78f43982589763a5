/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Zephyr's __ASSERT family for code built on the kheap simulator. Always
 * enabled (the simulator is a test host): a failed assertion prints the
 * condition and location on stderr and aborts.
 */
#ifndef ZEPHYR_SYS___ASSERT_H
#define ZEPHYR_SYS___ASSERT_H

#include <stdio.h>
#include <stdlib.h>

#ifdef __cplusplus
extern "C" {
#endif

#define __ASSERT(test, ...)                                                    \
	do {                                                                   \
		if (!(test)) {                                                 \
			fprintf(stderr, "ASSERTION FAIL [%s] @ %s:%d\n",       \
				#test, __FILE__, __LINE__);                    \
			fprintf(stderr, "\t" __VA_ARGS__);                     \
			fprintf(stderr, "\n");                                 \
			abort();                                               \
		}                                                              \
	} while (0)

#define __ASSERT_NO_MSG(test) __ASSERT(test, "%s", "")

#ifdef __cplusplus
}
#endif

#endif /* ZEPHYR_SYS___ASSERT_H */
