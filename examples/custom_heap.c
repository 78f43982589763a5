/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Example from Zephyr's memory-pool module documentation: a custom memory
 * pool with k_heap_init. The definitions and the function are the
 * documentation's code as given; main() runs it.
 */
#include <zephyr/kernel.h>

/* 定义自定义内存池 */
#define CUSTOM_HEAP_SIZE 4096
static uint8_t custom_heap[CUSTOM_HEAP_SIZE];
static struct k_heap custom_heap_obj;

void custom_memory_pool_example(void)
{
	/* 初始化自定义内存池 */
	k_heap_init(&custom_heap_obj, custom_heap, CUSTOM_HEAP_SIZE);

	/* 从自定义内存池分配内存 */
	void *buffer = k_heap_alloc(&custom_heap_obj, 256, K_NO_WAIT);
	if (buffer) {
		printk("Allocated from custom heap\n");
		k_heap_free(&custom_heap_obj, buffer);
	} else {
		printk("Custom heap allocation failed\n");
	}
}

int main(void)
{
	custom_memory_pool_example();
	return 0;
}
