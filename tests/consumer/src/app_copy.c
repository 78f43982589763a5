/* SPDX-License-Identifier: Apache-2.0 */
/*
 * A consumer that copied core/src and core/include into its own tree and
 * compiles them with its own flags, setting the two definitions kheap's
 * CMake build can pass: the hardening level and the internal-assert
 * handler (app_assert_fail, defined here). Prints "kheap copy: ok".
 */
#include <stdio.h>
#include <stdlib.h>

#include <zephyr/sys/sys_heap.h>

#if CONFIG_SYS_HEAP_HARDENING_LEVEL != SYS_HEAP_HARDENING_FULL
#error "the build passes -DCONFIG_SYS_HEAP_HARDENING_LEVEL=3"
#endif

void app_assert_fail(const char *file, int line, const char *expr);

void app_assert_fail(const char *file, int line, const char *expr)
{
	printf("kheap internal assert: %s:%d: %s\n", file, line, expr);
	abort();
}

static unsigned char region[4096];
static struct sys_heap heap;

int main(void)
{
	if (sys_heap_init(&heap, region, sizeof(region)) != 0) {
		printf("kheap copy consumer: sys_heap_init failed\n");
		return 1;
	}
	void *block = sys_heap_alloc(&heap, 100);

	if (block == NULL || !sys_heap_validate(&heap)) {
		printf("kheap copy consumer: sys_heap_alloc failed\n");
		return 1;
	}
	sys_heap_free(&heap, block);
	printf("kheap copy: ok\n");
	return 0;
}
