/* SPDX-License-Identifier: Apache-2.0 */
/*
 * A program that uses only a raw sys_heap on the simulator: no k_heap, no
 * k_malloc. Its heap's output and fault reports must still go where a
 * Zephyr port puts them: sys_heap_print_info through printk (stdout),
 * and the double free at the end through the fault handler, which
 * prints the report on stderr and stops the program.
 * The ctest raw-heap-program-output (sim/tests/run_expect.cmake) runs it
 * and checks both.
 */
#include <zephyr/kernel.h>
#include <zephyr/sys/sys_heap.h>

static unsigned char region[1024] __attribute__((__aligned__(8)));

int main(void)
{
	struct sys_heap heap;

	if (sys_heap_init(&heap, region, sizeof(region)) != 0) {
		return 1;
	}
	void *kept = sys_heap_alloc(&heap, 40);
	void *freed = sys_heap_alloc(&heap, 24);

	sys_heap_free(&heap, freed);
	printk("raw heap:\n");
	sys_heap_print_info(&heap, true);
	printk("double free next\n");
	sys_heap_free(&heap, freed);
	printk("the double free was not stopped\n");
	sys_heap_free(&heap, kept);
	return 0;
}
