/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Example from Zephyr's memory-pool module documentation: reallocation.
 * The function is the documentation's code as given; main() runs it.
 */
#include <zephyr/kernel.h>

void realloc_example(void)
{
	/* 初始分配 */
	char *buffer = k_malloc(32);
	if (buffer) {
		strcpy(buffer, "Initial content");
		printk("Initial buffer: %s\n", buffer);

		/* 重分配更大的内存 */
		char *new_buffer = k_realloc(buffer, 64);
		if (new_buffer) {
			strcat(new_buffer, " - Extended");
			printk("Extended buffer: %s\n", new_buffer);
			k_free(new_buffer);
		} else {
			printk("Realloc failed, using original buffer\n");
			k_free(buffer);
		}
	}
}

int main(void)
{
	realloc_example();
	return 0;
}
