/* SPDX-License-Identifier: Apache-2.0 */
/*
 * main() returning while another thread still runs: the program goes on
 * until that thread exits, then exits with main's status (checked by
 * run_expect.cmake: status 3 and "worker done at 10").
 */
#include <zephyr/kernel.h>

static struct k_thread worker;
K_THREAD_STACK_DEFINE(worker_stack, 1024);

static void work(void *p1, void *p2, void *p3)
{
	(void)p1;
	(void)p2;
	(void)p3;
	k_msleep(10);
	printk("worker done at %lld\n", (long long)k_uptime_get());
}

int main(void)
{
	k_thread_create(&worker, worker_stack,
			K_THREAD_STACK_SIZEOF(worker_stack), work, NULL, NULL,
			NULL, 5, 0, K_NO_WAIT);
	printk("main returns\n");
	return 3;
}
