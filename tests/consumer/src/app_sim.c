/* SPDX-License-Identifier: Apache-2.0 */
/*
 * A Zephyr-style program on kheap's simulator (kheap::sim, kheap-sim.pc):
 * a K_HEAP_DEFINE heap, the k_malloc family and a second thread, as a
 * Zephyr application would use them. Prints "kheap <version> sim: ok".
 */
#include <zephyr/kernel.h>

#include <kheap/version.h>

K_HEAP_DEFINE(app_heap, 2048);

static volatile int worker_result = -1;

static void worker(void *p1, void *p2, void *p3)
{
	(void)p1;
	(void)p2;
	(void)p3;
	char *text = k_calloc(4, 8);

	worker_result = text != NULL && text[31] == 0 ? 0 : 1;
	k_free(text);
}

K_THREAD_DEFINE(worker_thread, 4096, worker, NULL, NULL, NULL, 5, 0, 0);

int main(void)
{
	void *block = k_heap_alloc(&app_heap, 100, K_NO_WAIT);
	char *text = k_malloc(32);

	if (block == NULL || text == NULL) {
		printk("kheap sim consumer: allocation failed\n");
		return 1;
	}
	k_heap_free(&app_heap, block);
	k_free(text);
	k_thread_join(worker_thread, K_FOREVER);
	if (worker_result != 0) {
		printk("kheap sim consumer: k_calloc in a thread failed\n");
		return 1;
	}
	printk("kheap %s sim: ok\n", KHEAP_VERSION_STRING);
	return 0;
}
