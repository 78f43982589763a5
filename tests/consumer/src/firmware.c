/* SPDX-License-Identifier: Apache-2.0 */
/*
 * A product-like Cortex-M program (kheap::core, kheap::kernel and the
 * port, kheap::cortex_m) for any -mcpu: its own vector table and linker
 * script (vectors.c, firmware.ld), the port started with the core clock,
 * a K_HEAP_DEFINE heap, the k_malloc family and sys_heap directly. It is
 * compiled and linked, not run: the consumer test checks the image.
 */
#include <stdint.h>

#include <kheap/k_heap.h>
#include <kheap/target.h>
#include <zephyr/sys/sys_heap.h>

/* The board's core clock, which SysTick counts. */
#define CORE_CLOCK_HZ 64000000u

K_HEAP_DEFINE(app_heap, 4096);

static unsigned char scratch_region[2048];
static struct sys_heap scratch_heap;

int main(void);

int main(void)
{
	target_port_init(CORE_CLOCK_HZ);
	sys_heap_init(&scratch_heap, scratch_region, sizeof(scratch_region));

	void *message = k_heap_alloc(&app_heap, 64, K_MSEC(10));
	void *record = k_malloc(32);
	void *scratch = sys_heap_alloc(&scratch_heap, 128);

	int status = message != NULL && record != NULL && scratch != NULL;

	sys_heap_free(&scratch_heap, scratch);
	k_free(record);
	k_heap_free(&app_heap, message);
	return status ? 0 : 1;
}
