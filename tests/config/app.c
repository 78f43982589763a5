/* SPDX-License-Identifier: Apache-2.0 */
/*
 * One application, built several times with kheap_sim_configure and
 * different Kconfig fragments (tests/config/CMakeLists.txt). Each build
 * gets the values its fragment should produce as EXPECT_* definitions,
 * written by hand in the CMake file, and checks at run time that the
 * simulator, the kernel layer and the core it was linked with were built
 * with them: the system heap's size, the tick rate, the main thread's
 * priority, heap listeners, run-time monitoring; and at compile time what
 * the application sees (the hardening level, CONFIG_ASSERT, options kheap
 * does not read). Prints "ok" and returns 0, or prints each failure and
 * returns 1.
 */
#include <string.h>

#include <zephyr/kernel.h>
#include <zephyr/sys/heap_listener.h>

static int failures;

static void check(bool ok, const char *what)
{
	if (!ok) {
		printk("FAIL: %s\n", what);
		failures++;
	}
}

/* The system heap holds the configured bytes (less a margin for the
 * heap's bookkeeping and the k_malloc header), and not twice as many. */
static void check_pool_size(void)
{
	BUILD_ASSERT(CONFIG_HEAP_MEM_POOL_SIZE == EXPECT_POOL_BYTES,
		     "CONFIG_HEAP_MEM_POOL_SIZE as configured");
	void *most = k_malloc(EXPECT_POOL_BYTES - 512);

	check(most != NULL, "k_malloc of the configured bytes less 512");
	k_free(most);
	void *twice = k_malloc(2 * EXPECT_POOL_BYTES);

	check(twice == NULL, "k_malloc of twice the configured bytes fails");
	k_free(twice);
}

/* The simulator counts time in the configured ticks. */
static void check_ticks(void)
{
	BUILD_ASSERT(CONFIG_SYS_CLOCK_TICKS_PER_SEC == EXPECT_TICKS_PER_SEC,
		     "CONFIG_SYS_CLOCK_TICKS_PER_SEC as configured");
	int64_t start_ticks = k_uptime_ticks();
	int64_t start_ms = k_uptime_get();

	k_msleep(1000);
	check(k_uptime_ticks() - start_ticks == EXPECT_TICKS_PER_SEC,
	      "one second is EXPECT_TICKS_PER_SEC ticks");
	check(k_uptime_get() - start_ms == 1000,
	      "the simulator converts them back to 1000 ms");
}

static int listener_calls;

static void count_alloc(uintptr_t heap_id, void *mem, size_t bytes)
{
	(void)heap_id;
	(void)mem;
	(void)bytes;
	listener_calls++;
}

/* Heap listeners are called exactly when the core was built with them. */
static void check_listeners(void)
{
	struct heap_listener listener = {
		.heap_id = HEAP_ID_FROM_POINTER(&_system_heap.heap),
		.event = HEAP_ALLOC,
		.alloc_cb = count_alloc,
	};

	heap_listener_register(&listener);
	k_free(k_malloc(16));
	heap_listener_unregister(&listener);
	check(listener_calls == EXPECT_LISTENER_CALLS,
	      "heap listener calls as configured");
}

static void check_monitor(void)
{
#if EXPECT_MONITOR
	/* Compiles only if the application sees CONFIG_SYS_HEAP_MONITOR,
	 * links only if the core has it. */
	struct sys_heap_monitor before, after;

	/* A request that fits an empty heap but not this one reaches the
	 * heap and fails there (an impossible one would be refused before
	 * it, uncounted). */
	void *most = k_malloc(EXPECT_POOL_BYTES - 512);

	check(sys_heap_monitor_get(&_system_heap.heap, &before) == 0,
	      "monitor readable");
	check(k_malloc(1024) == NULL, "k_malloc beyond what is left fails");
	check(sys_heap_monitor_get(&_system_heap.heap, &after) == 0,
	      "monitor readable again");
	check(after.alloc_failures == before.alloc_failures + 1,
	      "the failed allocation is counted");
	k_free(most);
#else
	BUILD_ASSERT(!CONFIG_SYS_HEAP_MONITOR, "no monitoring");
#endif
}

/* What the application itself sees. */
BUILD_ASSERT(CONFIG_SYS_HEAP_HARDENING_LEVEL == EXPECT_HARDENING_LEVEL,
	     "the core's hardening level, seen by the application");
BUILD_ASSERT(IS_ENABLED(CONFIG_ASSERT) == EXPECT_ASSERT,
	     "CONFIG_ASSERT as configured");
#ifdef CONFIG_MEM_SLAB_TRACE_MAX_UTILIZATION
#error "an option set to n must not be defined"
#endif

int main(void)
{
	check_pool_size();
	check_ticks();
	check_listeners();
	check_monitor();
	check(k_thread_priority_get(k_current_get()) == EXPECT_MAIN_PRIO,
	      "main runs at the configured priority");
	/* Options kheap does not read reach the application. */
	check(strcmp(CONFIG_APP_GREETING, EXPECT_GREETING) == 0,
	      "CONFIG_APP_GREETING from the last fragment that sets it");
#ifdef EXPECT_APP_COUNT
	check(CONFIG_APP_COUNT == EXPECT_APP_COUNT, "CONFIG_APP_COUNT");
#endif
	if (failures == 0) {
		printk("ok: %d-byte pool, %d ticks per second\n",
		       CONFIG_HEAP_MEM_POOL_SIZE,
		       CONFIG_SYS_CLOCK_TICKS_PER_SEC);
	}
	return failures == 0 ? 0 : 1;
}
