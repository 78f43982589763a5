/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Example from Zephyr's memory-pool module documentation: basic allocation.
 * The function is the documentation's code as given; main() runs it.
 */
#include <zephyr/kernel.h>

void memory_pool_example(void)
{
	/* 分配内存 */
	void *buffer = k_malloc(1024);
	if (buffer) {
		/* 使用内存 */
		sprintf(buffer, "Hello, Memory Pool!");
		printk("Buffer content: %s\n", (char *)buffer);

		/* 释放内存 */
		k_free(buffer);
	} else {
		printk("Memory allocation failed!\n");
	}
}

int main(void)
{
	memory_pool_example();
	return 0;
}
