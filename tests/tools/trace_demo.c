/* SPDX-License-Identifier: Apache-2.0 */
/*
 * A small simulator program whose allocation trace test_trace_record
 * checks line by line (see tests/tools/CMakeLists.txt: ctest runs it with
 * KHEAP_TRACE set, then the checker). Every call below is one expected
 * event, marked with a comment naming it (@name): test_trace_record.c
 * finds each call's line by its marker and checks that the recorded site
 * symbolises to it.
 *
 * At the end it writes the system heap's statistics (to the file named
 * by its argument, else stdout), which the checker
 * compares with `kheap replay` of the trace (the replay must reproduce
 * the recorded heap exactly).
 */
#include <stdio.h>

#include <zephyr/irq_offload.h>
#include <zephyr/kernel.h>

/* Recorded under its variable name, demo_heap. */
K_HEAP_DEFINE(demo_heap, 2048);

/* Set up with k_heap_init: recorded as h1. */
static struct k_heap init_heap;
static unsigned char init_region[1024];

#define WORKER_STACK_BYTES 4096
K_THREAD_STACK_DEFINE(worker_stack, WORKER_STACK_BYTES);
static struct k_thread worker;

static void worker_entry(void *p1, void *p2, void *p3)
{
	(void)p1;
	(void)p2;
	(void)p3;
	/* Waits until main frees its large block, at tick 10. */
	void *block;

	block = k_heap_alloc(&demo_heap, 1000, K_FOREVER); /* @worker_alloc */

	k_heap_free(&demo_heap, block); /* @worker_free */
}

static void isr_routine(const void *arg)
{
	(void)arg;
	void *p = k_malloc(16); /* @isr_alloc */

	k_free(p); /* @isr_free */
}

int main(int argc, char **argv)
{
	void *a = k_malloc(100);            /* @a */
	void *b = k_calloc(4, 25);          /* @b */
	void *c = k_aligned_alloc(64, 200); /* @c */

	a = k_realloc(a, 300); /* @realloc */
	k_free(b);             /* @free_b */

	void *big = k_heap_alloc(&demo_heap, 1500, K_NO_WAIT); /* @big */

	k_thread_create(&worker, worker_stack, WORKER_STACK_BYTES, worker_entry,
			NULL, NULL, NULL, K_PRIO_PREEMPT(1), 0, K_NO_WAIT);
	k_thread_name_set(&worker, "worker one");
	k_msleep(10);
	k_heap_free(&demo_heap, big); /* @free_big */
	k_thread_join(&worker, K_FOREVER);

	irq_offload(isr_routine, NULL);

	void *too_big = k_malloc(1u << 20); /* @too_big */

	k_free(too_big); /* NULL: not recorded */
	k_free(c);       /* @free_c */

	(void)k_heap_init(&init_heap, init_region, sizeof(init_region));
	void *small =
		k_heap_alloc(&init_heap, 100, K_NO_WAIT); /* @init_alloc */

	k_heap_free(&init_heap, small); /* @init_free */
	/* `a` is left allocated: the trace's one leak. */

	/* The system heap's statistics, for the replay comparison. */
	struct sys_memory_stats stats;
	FILE *f = argc > 1 ? fopen(argv[1], "w") : stdout;

	if (f == NULL) {
		return 1;
	}
	sys_heap_runtime_stats_get(&_system_heap.heap, &stats);
	/* The region: the configured size plus the metadata (k_heap.h). */
	fprintf(f, "allocated %zu max %zu heap %d\n", stats.allocated_bytes,
		stats.max_allocated_bytes,
		(int)Z_HEAP_MIN_SIZE_FOR(K_HEAP_MEM_POOL_SIZE));
	return f == stdout ? 0 : fclose(f);
}
