/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The kernel layer on real interrupts (target/ port, under QEMU): what a
 * simulator cannot show.
 *
 * - Allocation and free from the SysTick handler with K_NO_WAIT, while
 *   the thread uses the same heap (and the k_malloc family, thread pools).
 * - A blocking k_heap_alloc in thread mode woken by a free made in an
 *   interrupt handler; a timeout that expires on exactly the right tick,
 *   also when frees keep waking the waiter before it.
 * - The lock really masks interrupts: a handler that works on the heap
 *   without the lock, and would corrupt it inside a critical section,
 *   never runs inside one; with BASEPRI an interrupt above the threshold
 *   still does.
 * - The port's checks: lock misuse, blocking calls from handlers.
 *
 * Assertions are made in thread mode only: handlers record what they saw
 * in counters that the thread checks afterwards.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include <kheap/k_heap.h>
#include <kheap/target.h>
#include <zephyr/sys/sys_heap.h>

/* An external interrupt line no device of the boards drives here. */
#define TEST_IRQ 29u

/* ICSR: SysTick pending. */
#define ICSR (*(volatile uint32_t *)0xe000ed04u)
#define ICSR_PENDSTSET (1u << 26)

#define HEAP_BYTES 2048u
#define EAGAIN_RESULT (-11)

static struct k_heap heap;
static uint8_t heap_region[HEAP_BYTES] __attribute__((aligned(8)));

/* ---- fault capture ------------------------------------------------------ */

static volatile unsigned int faults;
static const char *volatile fault_operation;
static const char *volatile fault_message;
static const void *volatile fault_object;

static void capture_fault(const char *operation, const char *message,
			  const void *object, const void *pointer)
{
	(void)pointer;
	faults++;
	fault_operation = operation;
	fault_message = message;
	fault_object = object;
}

static void faults_reset(void)
{
	faults = 0;
	fault_operation = NULL;
	fault_message = NULL;
	fault_object = NULL;
}

/* ---- fixture ------------------------------------------------------------ */

static int setup(void **state)
{
	(void)state;
	faults_reset();
	target_fault_hook_set(NULL);
	assert_int_equal(k_heap_init(&heap, heap_region, sizeof(heap_region)),
			 0);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	target_tick_hook_set(NULL);
	target_pendsv_connect(NULL);
	target_irq_disable(TEST_IRQ);
	target_fault_hook_set(NULL);
	/* One tick, so that a handler still running has finished. */
	target_sleep_ticks(1);
	return 0;
}

static bool heap_valid(void)
{
	k_spinlock_key_t key = k_spin_lock(&heap.lock);
	bool valid = sys_heap_validate(&heap.heap);

	k_spin_unlock(&heap.lock, key);
	return valid;
}

static size_t heap_allocated_bytes(void)
{
	struct sys_memory_stats stats;
	k_spinlock_key_t key = k_spin_lock(&heap.lock);

	(void)sys_heap_runtime_stats_get(&heap.heap, &stats);
	k_spin_unlock(&heap.lock, key);
	return stats.allocated_bytes;
}

/* Allocate blocks of `bytes` until the heap is full; returns the count. */
static size_t fill_heap(void **blocks, size_t capacity, size_t bytes)
{
	size_t count = 0;

	while (count < capacity) {
		void *mem = k_heap_alloc(&heap, bytes, K_NO_WAIT);

		if (mem == NULL) {
			break;
		}
		blocks[count++] = mem;
	}
	assert_true(count < capacity);
	assert_true(count > 2u);
	return count;
}

static void free_all(void **blocks, size_t count)
{
	for (size_t i = 0; i < count; i++) {
		k_heap_free(&heap, blocks[i]);
		blocks[i] = NULL;
	}
}

/* ---- context ------------------------------------------------------------ */

static volatile bool isr_saw_isr;
static volatile bool isr_saw_no_thread_data;
static volatile uint32_t isr_ticks;

static void context_tick(int64_t tick)
{
	(void)tick;
	isr_saw_isr = k_is_in_isr();
	isr_saw_no_thread_data = kheap_port_thread_data(NULL) == NULL;
	isr_ticks++;
}

static void test_context_and_tick(void **state)
{
	(void)state;
	assert_false(k_is_in_isr());
	assert_ptr_equal(kheap_port_thread_data(NULL), &k_current_get()->kheap);
	assert_ptr_equal(kheap_port_thread_data(k_current_get()),
			 &k_current_get()->kheap);

	int64_t t0 = sys_clock_tick_get();

	isr_ticks = 0;
	target_tick_hook_set(context_tick);
	target_sleep_ticks(10);
	target_tick_hook_set(NULL);

	int64_t t1 = sys_clock_tick_get();

	assert_in_range(t1 - t0, 10, 11);
	assert_in_range(isr_ticks, 9, 11);
	assert_true(isr_saw_isr);
	assert_true(isr_saw_no_thread_data);
}

/* ---- alloc and free from the SysTick handler ------------------------------ */

#define ISR_SLOTS 8u
#define ISR_RUN_TICKS 100

static void *isr_blocks[ISR_SLOTS];
static size_t isr_sizes[ISR_SLOTS];
static volatile uint32_t isr_allocs, isr_frees, isr_refused, isr_corrupt;
static volatile uint32_t isr_malloc_ok, isr_malloc_refused, isr_pool_ok;

static uint8_t slot_pattern(size_t slot)
{
	return (uint8_t)(0xa5u ^ (slot * 17u));
}

static void alloc_free_tick(int64_t tick)
{
	size_t slot = (size_t)tick % ISR_SLOTS;
	uint8_t *mem = isr_blocks[slot];

	if (mem != NULL) {
		for (size_t i = 0; i < isr_sizes[slot]; i++) {
			if (mem[i] != slot_pattern(slot)) {
				isr_corrupt++;
				break;
			}
		}
		k_heap_free(&heap, mem);
		isr_blocks[slot] = NULL;
		isr_frees++;
	}
	size_t bytes = 8u + (size_t)(tick * 37) % 120u;

	mem = k_heap_alloc(&heap, bytes, K_NO_WAIT);
	if (mem != NULL) {
		memset(mem, slot_pattern(slot), bytes);
		isr_blocks[slot] = mem;
		isr_sizes[slot] = bytes;
		isr_allocs++;
	} else {
		isr_refused++;
	}

	/* The k_malloc family and thread pools from a handler: the system
	 * heap. */
	uint8_t *m = k_malloc(24);

	if (m != NULL) {
		memset(m, 0x3c, 24);
		k_free(m);
		isr_malloc_ok++;
	} else {
		isr_malloc_refused++;
	}
	void *p = z_thread_malloc(16);

	if (p != NULL) {
		k_free(p);
		isr_pool_ok++;
	}
}

static void test_isr_alloc_and_free_no_wait(void **state)
{
	uint32_t thread_rounds = 0, thread_refused = 0, thread_corrupt = 0;

	(void)state;
	isr_allocs = isr_frees = isr_refused = isr_corrupt = 0;
	isr_malloc_ok = isr_malloc_refused = isr_pool_ok = 0;
	memset(isr_blocks, 0, sizeof(isr_blocks));

	int64_t end = sys_clock_tick_get() + ISR_RUN_TICKS;

	target_tick_hook_set(alloc_free_tick);
	while (sys_clock_tick_get() < end) {
		/* The thread works on the same heap meanwhile. */
		size_t bytes = 16u + (thread_rounds * 53u) % 200u;
		uint8_t *mem = k_heap_alloc(&heap, bytes, K_NO_WAIT);

		thread_rounds++;
		if (mem == NULL) {
			thread_refused++;
			continue;
		}
		memset(mem, 0x77, bytes);
		for (size_t i = 0; i < bytes; i++) {
			if (mem[i] != 0x77u) {
				thread_corrupt++;
				break;
			}
		}
		k_heap_free(&heap, mem);
	}
	target_tick_hook_set(NULL);
	target_sleep_ticks(1);

	for (size_t slot = 0; slot < ISR_SLOTS; slot++) {
		k_heap_free(&heap, isr_blocks[slot]);
		isr_blocks[slot] = NULL;
	}
	print_message("    %u ISR allocs, %u ISR frees, %u refused, %u thread "
		      "rounds, %u k_malloc from ISR\n",
		      (unsigned int)isr_allocs, (unsigned int)isr_frees,
		      (unsigned int)isr_refused, (unsigned int)thread_rounds,
		      (unsigned int)isr_malloc_ok);
	assert_in_range(isr_allocs + isr_refused, ISR_RUN_TICKS - 2,
			ISR_RUN_TICKS + 2);
	assert_true(isr_allocs >= ISR_RUN_TICKS / 2);
	assert_true(isr_frees + ISR_SLOTS >= isr_allocs);
	assert_int_equal(isr_corrupt, 0);
	assert_int_equal(thread_corrupt, 0);
	assert_true(thread_rounds > 100u);
	assert_true(thread_rounds > thread_refused);
	assert_int_equal(isr_malloc_refused, 0);
	assert_int_equal(isr_pool_ok, isr_malloc_ok);
	assert_true(heap_valid());
	assert_int_equal(heap_allocated_bytes(), 0);
}

/* ---- blocking calls from handlers are refused ----------------------------- */

static volatile uint32_t isr_blocking_done;
static void *volatile isr_blocking_result;

static void blocking_tick(int64_t tick)
{
	(void)tick;
	if (isr_blocking_done == 0u) {
		isr_blocking_result = k_heap_alloc(&heap, 16, K_TICKS(5));
		isr_blocking_done = 1;
	}
}

static void test_isr_blocking_call_refused(void **state)
{
	(void)state;
	isr_blocking_done = 0;
	isr_blocking_result = (void *)1;
	target_fault_hook_set(capture_fault);
	target_tick_hook_set(blocking_tick);
	target_sleep_ticks(3);
	target_tick_hook_set(NULL);
	target_fault_hook_set(NULL);

	assert_int_equal(isr_blocking_done, 1);
	assert_null(isr_blocking_result);
	assert_int_equal(faults, 1);
	assert_string_equal(fault_operation, "k_heap_alloc");
	assert_ptr_equal(fault_object, &heap);
	assert_int_equal(heap_allocated_bytes(), 0);
}

/* ---- waiting -------------------------------------------------------------- */

#define MAX_BLOCKS 64u
#define BLOCK_BYTES 100u

static void *blocks[MAX_BLOCKS];
static void *volatile isr_victim;
static volatile int64_t isr_free_at;
static volatile int64_t isr_freed_on;

static void free_victim_tick(int64_t tick)
{
	if (isr_victim != NULL && tick >= isr_free_at) {
		k_heap_free(&heap, isr_victim);
		isr_victim = NULL;
		isr_freed_on = tick;
	}
}

/* A blocking alloc that only a free in a handler can satisfy. */
static void wait_for_isr_free(k_timeout_t timeout, int64_t delay)
{
	size_t count = fill_heap(blocks, MAX_BLOCKS, BLOCK_BYTES);
	struct target_wait_stats before, after;

	assert_null(k_heap_alloc(&heap, BLOCK_BYTES, K_NO_WAIT));
	target_sleep_ticks(1);
	isr_free_at = sys_clock_tick_get() + delay;
	isr_freed_on = -1;
	isr_victim = blocks[count / 2u];
	target_wait_stats_get(&before);
	target_tick_hook_set(free_victim_tick);

	void *mem = k_heap_alloc(&heap, BLOCK_BYTES, timeout);
	int64_t returned = sys_clock_tick_get();

	target_tick_hook_set(NULL);
	target_wait_stats_get(&after);
	assert_non_null(mem);
	/* It got the victim's place, as soon as it was freed. */
	assert_ptr_equal(mem, blocks[count / 2u]);
	assert_int_equal(isr_freed_on, isr_free_at);
	assert_in_range(returned, isr_freed_on, isr_freed_on + 2);
	assert_int_equal(after.pends - before.pends, 1);
	assert_int_equal(after.woken - before.woken, 1);
	assert_int_equal(after.timed_out, before.timed_out);
	assert_int_equal(after.last_end_tick, isr_freed_on);

	blocks[count / 2u] = mem;
	free_all(blocks, count);
	assert_true(heap_valid());
	assert_int_equal(heap_allocated_bytes(), 0);
}

static void test_blocking_alloc_woken_by_isr_free(void **state)
{
	(void)state;
	wait_for_isr_free(K_MSEC(1000), 5);
}

static void test_forever_alloc_woken_by_isr_free(void **state)
{
	(void)state;
	wait_for_isr_free(K_FOREVER, 3);
}

/* Nobody frees: the call returns NULL on the deadline tick, not before
 * and not after. A timeout of N ticks counts from the tick after the one
 * the clock was read in (kheap_port_tick_ceil: part of that tick had
 * passed), so the deadline tick is t0 + N + 1. */
static void expect_timeout(k_timeout_t timeout, int64_t ticks)
{
	struct target_wait_stats before, after;

	/* Start right after a tick so that the tick cannot change between
	 * reading the clock and computing the deadline. */
	target_sleep_ticks(1);

	int64_t t0 = sys_clock_tick_get();

	target_wait_stats_get(&before);
	void *mem = k_heap_alloc(&heap, BLOCK_BYTES, timeout);
	int64_t t1 = sys_clock_tick_get();

	target_wait_stats_get(&after);
	assert_null(mem);
	if (ticks == 0) {
		assert_int_equal(after.pends, before.pends);
		assert_in_range(t1 - t0, 0, 1);
		return;
	}
	assert_int_equal(after.pends - before.pends, 1);
	assert_int_equal(after.timed_out - before.timed_out, 1);
	/* Exact inside the port; the caller's own reading may come a tick
	 * later if QEMU is descheduled in between. */
	assert_int_equal(after.last_start_tick, t0);
	assert_int_equal(after.last_end_tick, t0 + ticks + 1);
	assert_in_range(t1 - t0, ticks + 1, ticks + 3);
}

static void test_timeout_expires_on_the_right_tick(void **state)
{
	size_t count = fill_heap(blocks, MAX_BLOCKS, BLOCK_BYTES);

	(void)state;
	expect_timeout(K_NO_WAIT, 0);
	expect_timeout(K_TICKS(1), 1);
	expect_timeout(K_TICKS(10), 10);
	/* 1 ms per tick at the default 1000 ticks per second. */
	expect_timeout(K_MSEC(7), 7 * CONFIG_SYS_CLOCK_TICKS_PER_SEC / 1000);
	free_all(blocks, count);
	assert_int_equal(heap_allocated_bytes(), 0);
}

/* Every tick a handler frees a small block and takes it back: each free
 * wakes the waiter, which finds no room and waits again for the time
 * left. The deadline is computed once, so it still returns on time (the
 * last wait ends woken too: the handler frees on the deadline tick). */
static void *volatile isr_small;

static void churn_tick(int64_t tick)
{
	(void)tick;
	if (isr_small != NULL) {
		k_heap_free(&heap, isr_small);
		isr_small = k_heap_alloc(&heap, 8, K_NO_WAIT);
	}
}

static void test_deadline_holds_across_wakeups(void **state)
{
	struct target_wait_stats before, after;
	void *smalls[8];
	size_t small_count = 0;

	(void)state;
	size_t count = fill_heap(blocks, MAX_BLOCKS, BLOCK_BYTES);

	/* Fill what is left at the end with small blocks, then free a block
	 * between two used ones and put a small one in its place: what is
	 * left there is too small for BLOCK_BYTES. */
	while (small_count < 8u &&
	       (smalls[small_count] = k_heap_alloc(&heap, 8, K_NO_WAIT)) !=
		       NULL) {
		small_count++;
	}
	assert_true(small_count < 8u);
	k_heap_free(&heap, blocks[count / 2u]);
	blocks[count / 2u] = NULL;
	isr_small = k_heap_alloc(&heap, 8, K_NO_WAIT);
	assert_non_null(isr_small);
	assert_null(k_heap_alloc(&heap, BLOCK_BYTES, K_NO_WAIT));

	target_sleep_ticks(1);
	int64_t t0 = sys_clock_tick_get();

	target_wait_stats_get(&before);
	target_tick_hook_set(churn_tick);
	void *mem = k_heap_alloc(&heap, BLOCK_BYTES, K_TICKS(12));
	int64_t t1 = sys_clock_tick_get();

	target_tick_hook_set(NULL);
	target_wait_stats_get(&after);
	assert_null(mem);
	/* The deadline is tick t0 + 13: 12 whole ticks after the read. */
	assert_in_range(t1 - t0, 13, 15);
	/* A wait per tick, each ended by a free (two ticks may come back to
	 * back when QEMU catches up, and wake the waiter once). */
	assert_in_range(after.pends - before.pends, 7, 13);
	assert_int_equal(after.woken - before.woken,
			 after.pends - before.pends);
	assert_int_equal(after.timed_out, before.timed_out);
	assert_int_equal(after.last_end_tick, t0 + 13);

	k_heap_free(&heap, isr_small);
	isr_small = NULL;
	free_all(blocks, count);
	free_all(smalls, small_count);
	assert_int_equal(heap_allocated_bytes(), 0);
}

/* ---- the lock masks interrupts -------------------------------------------- */

static volatile bool in_critical;
static volatile uint32_t masked_isr_runs, masked_isr_violations;
static volatile uint32_t masked_isr_heap_ops;

/* Works on the sys_heap behind the k_heap without its lock: harmless
 * between critical sections, corrupting inside one. It checks first and
 * records a violation instead. */
static void raw_heap_isr(void)
{
	masked_isr_runs++;
	if (in_critical) {
		masked_isr_violations++;
		return;
	}
	void *mem = sys_heap_alloc(&heap.heap, 40);

	if (mem != NULL) {
		memset(mem, 0xee, 40);
		sys_heap_free(&heap.heap, mem);
		masked_isr_heap_ops++;
	}
}

static volatile uint32_t tick_isr_ops;

static void locked_tick(int64_t tick)
{
	void *mem = k_heap_alloc(&heap, 24u + (size_t)tick % 64u, K_NO_WAIT);

	if (mem != NULL) {
		k_heap_free(&heap, mem);
		tick_isr_ops++;
	}
}

static void test_lock_masks_interrupts(void **state)
{
	void *live[16];
	uint32_t rounds = 0, deferred_ticks = 0;

	(void)state;
	masked_isr_runs = masked_isr_violations = masked_isr_heap_ops = 0;
	tick_isr_ops = 0;
	/* Some live blocks so that the critical section has work to do. */
	for (size_t i = 0; i < 16u; i++) {
		live[i] = k_heap_alloc(&heap, 8u + 4u * i, K_NO_WAIT);
		assert_non_null(live[i]);
	}
	target_pendsv_connect(raw_heap_isr);
	target_tick_hook_set(locked_tick);

	int64_t end = sys_clock_tick_get() + 200;

	while (sys_clock_tick_get() < end || deferred_ticks < 3u) {
		k_spinlock_key_t key = k_spin_lock(&heap.lock);
		void *mem;

		in_critical = true;
#if TARGET_LOCK_USES_BASEPRI
		assert_int_equal(target_basepri(), TARGET_LOCK_BASEPRI);
		assert_int_equal(target_primask(), 0);
#else
		assert_int_equal(target_primask(), 1);
#endif
		mem = sys_heap_alloc(&heap.heap, 64);
		/* Half way through: the handler becomes pending, and must
		 * wait for the unlock. */
		target_pendsv_pend();
		if (mem != NULL) {
			memset(mem, 0x42, 64);
		}
		bool valid = sys_heap_validate(&heap.heap);

		sys_heap_free(&heap.heap, mem);
		if ((ICSR & ICSR_PENDSTSET) != 0u) {
			/* A tick arrived inside and is held back too. */
			deferred_ticks++;
		}
		in_critical = false;
		k_spin_unlock(&heap.lock, key);
		rounds++;
		/* The pending handler ran at the unlock. */
		assert_int_equal(masked_isr_runs, rounds);
		assert_true(valid);
		if (rounds > 200000u) {
			break;
		}
	}
	target_tick_hook_set(NULL);
	target_pendsv_connect(NULL);
#if TARGET_LOCK_USES_BASEPRI
	assert_int_equal(target_basepri(), 0);
#endif
	assert_int_equal(target_primask(), 0);
	print_message("    %u critical sections, %u ticks held back, %u "
		      "handler heap ops, %u tick heap ops\n",
		      (unsigned int)rounds, (unsigned int)deferred_ticks,
		      (unsigned int)masked_isr_heap_ops,
		      (unsigned int)tick_isr_ops);
	assert_int_equal(masked_isr_violations, 0);
	assert_int_equal(masked_isr_heap_ops, rounds);
	assert_true(deferred_ticks >= 3u);
	assert_true(tick_isr_ops > 100u);
	for (size_t i = 0; i < 16u; i++) {
		k_heap_free(&heap, live[i]);
	}
	assert_true(heap_valid());
	assert_int_equal(heap_allocated_bytes(), 0);
}

/* With BASEPRI only interrupts at or below the kernel's priority are
 * masked: a zero-latency interrupt still runs inside the lock (and must
 * not use kheap). With PRIMASK every interrupt waits. */
static volatile uint32_t irq_runs;

static void count_irq(void)
{
	irq_runs++;
}

static void test_lock_masks_by_priority(void **state)
{
	struct k_spinlock lock = {0};
	k_spinlock_key_t key;

	(void)state;
	/* At kernel priority: held back until the unlock. */
	irq_runs = 0;
	target_irq_connect(TEST_IRQ, count_irq, TARGET_PRIO_KERNEL);
	key = k_spin_lock(&lock);
	target_irq_pend(TEST_IRQ);
	for (volatile int i = 0; i < 1000; i++) {
	}
	assert_int_equal(irq_runs, 0);
	k_spin_unlock(&lock, key);
	assert_int_equal(irq_runs, 1);

	/* Above the lock's threshold. */
	irq_runs = 0;
	target_irq_connect(TEST_IRQ, count_irq, TARGET_PRIO_ZERO_LATENCY);
	key = k_spin_lock(&lock);
	target_irq_pend(TEST_IRQ);
#if TARGET_LOCK_USES_BASEPRI
	assert_int_equal(irq_runs, 1);
#else
	assert_int_equal(irq_runs, 0);
#endif
	k_spin_unlock(&lock, key);
	assert_int_equal(irq_runs, 1);
	target_irq_disable(TEST_IRQ);
}

/* ---- the port's misuse checks --------------------------------------------- */

static struct k_spinlock isr_lock;
static volatile k_spinlock_key_t isr_key;
static volatile int isr_pend_result;

/* Takes a lock and returns without releasing it (misuse). */
static void lock_and_leave_isr(void)
{
	k_spinlock_key_t key = k_spin_lock(&isr_lock);

	isr_key = key;
	/* Put the mask back, or the thread would stay masked: exception
	 * return restores neither PRIMASK nor BASEPRI. */
#if TARGET_LOCK_USES_BASEPRI
	__asm__ volatile("msr basepri, %0" ::"r"(key.key) : "memory");
#else
	target_irq_restore((uint32_t)key.key);
#endif
}

static void pend_in_isr(void)
{
	struct k_spinlock lock = {0};
	_wait_q_t wait_q = {{0}};
	k_spinlock_key_t key = k_spin_lock(&lock);

	isr_pend_result = z_pend_curr(&lock, key, &wait_q, K_TICKS(1));
}

static void test_lock_misuse_reported(void **state)
{
	struct k_spinlock lock = {0};
	k_spinlock_key_t key, again;

	(void)state;
	target_fault_hook_set(capture_fault);

	/* Recursion: reported; the inner pair changes nothing. */
	key = k_spin_lock(&lock);
	again = k_spin_lock(&lock);
	assert_int_equal(faults, 1);
	assert_string_equal(fault_operation, "k_spin_lock");
	assert_ptr_equal(fault_message, target_msg_lock_recursive);
	assert_ptr_equal(fault_object, &lock);
	k_spin_unlock(&lock, again);
	assert_int_equal(faults, 1);
#if TARGET_LOCK_USES_BASEPRI
	assert_int_equal(target_basepri(), TARGET_LOCK_BASEPRI);
#else
	assert_int_equal(target_primask(), 1);
#endif

	/* Wrong key: refused, the lock stays held. */
	k_spinlock_key_t wrong = {.key = key.key ^ 0x20u};

	k_spin_unlock(&lock, wrong);
	assert_int_equal(faults, 2);
	assert_ptr_equal(fault_message, target_msg_unlock_wrong_key);
	k_spin_unlock(&lock, key);
	assert_int_equal(faults, 2);
	assert_int_equal(target_primask(), 0);

	/* Not held. */
	k_spin_unlock(&lock, key);
	assert_int_equal(faults, 3);
	assert_string_equal(fault_operation, "k_spin_unlock");
	assert_ptr_equal(fault_message, target_msg_unlock_not_held);

	/* Held by a handler, unlocked by the thread. */
	memset(&isr_lock, 0, sizeof(isr_lock));
	target_pendsv_connect(lock_and_leave_isr);
	target_pendsv_pend();
	k_spin_unlock(&isr_lock, isr_key);
	assert_int_equal(faults, 4);
	assert_ptr_equal(fault_message, target_msg_unlock_not_owner);

	/* z_pend_curr from a handler: reported, lock released, -EAGAIN. */
	target_pendsv_connect(pend_in_isr);
	target_pendsv_pend();
	assert_int_equal(faults, 5);
	assert_string_equal(fault_operation, "z_pend_curr");
	assert_ptr_equal(fault_message, target_msg_pend_in_isr);
	assert_int_equal(isr_pend_result, EAGAIN_RESULT);

	target_fault_hook_set(NULL);
	target_pendsv_connect(NULL);
#if TARGET_LOCK_USES_BASEPRI
	assert_int_equal(target_basepri(), 0);
#endif
	assert_int_equal(target_primask(), 0);
}

/* ---- thread pools and static heaps ---------------------------------------- */

K_HEAP_DEFINE(static_heap, 512);

static void test_thread_pool_and_static_heaps(void **state)
{
	struct k_heap *heaps;
	int count = k_heap_array_get(&heaps);
	bool found = false;

	(void)state;
	/* The linker script kept the section and its bounds: the system
	 * heap and ours, initialised from flash. */
	assert_true(count >= 2);
	for (int i = 0; i < count; i++) {
		found = found || &heaps[i] == &static_heap;
	}
	assert_true(found);
	void *mem = k_heap_alloc(&static_heap, 100, K_NO_WAIT);

	assert_non_null(mem);
	assert_true((uint8_t *)mem >= (uint8_t *)kheap_region_static_heap);
	assert_true((uint8_t *)mem < (uint8_t *)kheap_region_static_heap +
					     sizeof(kheap_region_static_heap));
	k_heap_free(&static_heap, mem);

	/* The main thread has no pool until it is given one. */
	k_thread_heap_assign(k_current_get(), NULL);
	assert_null(z_thread_malloc(16));
	k_thread_heap_assign(k_current_get(), &heap);
	mem = z_thread_malloc(16);
	assert_non_null(mem);
	assert_true((uint8_t *)mem >= heap_region &&
		    (uint8_t *)mem < heap_region + sizeof(heap_region));
	k_free(mem);
	k_thread_system_pool_assign(k_current_get());
	mem = z_thread_malloc(16);
	assert_non_null(mem);
	k_free(mem);
	k_thread_heap_assign(k_current_get(), NULL);
	assert_int_equal(heap_allocated_bytes(), 0);
}

/* Zephyr's k_thread::resource_pool and the kernel layer's pool are one
 * pointer, written through either name. */
static void test_resource_pool_field(void **state)
{
	struct k_thread *self = k_current_get();

	(void)state;
	self->resource_pool = &heap;
	assert_ptr_equal(kheap_port_thread_data(NULL)->resource_pool, &heap);
	void *mem = z_thread_malloc(16);

	assert_non_null(mem);
	assert_true((uint8_t *)mem >= heap_region &&
		    (uint8_t *)mem < heap_region + sizeof(heap_region));
	k_free(mem);
	k_thread_heap_assign(self, NULL);
	assert_null(self->resource_pool);
	assert_null(z_thread_malloc(16));
	assert_int_equal(heap_allocated_bytes(), 0);
}

#define TEST(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)

static const struct CMUnitTest tests[] = {
	TEST(test_context_and_tick),
	TEST(test_isr_alloc_and_free_no_wait),
	TEST(test_isr_blocking_call_refused),
	TEST(test_blocking_alloc_woken_by_isr_free),
	TEST(test_forever_alloc_woken_by_isr_free),
	TEST(test_timeout_expires_on_the_right_tick),
	TEST(test_deadline_holds_across_wakeups),
	TEST(test_lock_masks_interrupts),
	TEST(test_lock_masks_by_priority),
	TEST(test_lock_misuse_reported),
	TEST(test_thread_pool_and_static_heaps),
	TEST(test_resource_pool_field),
};

int main(int argc, char **argv)
{
	if (argc > 1) {
		cmocka_set_test_filter(argv[1]);
	}
	printf("kheap kernel layer on %s, lock: %s\n",
#if defined(__ARM_ARCH_6M__)
	       "ARMv6-M",
#elif defined(__ARM_ARCH_7EM__)
	       "ARMv7E-M",
#elif defined(__ARM_ARCH_7M__)
	       "ARMv7-M",
#elif defined(__ARM_ARCH_8M_MAIN__)
	       "ARMv8-M mainline",
#else
	       "Cortex-M",
#endif
	       TARGET_LOCK_USES_BASEPRI ? "BASEPRI" : "PRIMASK");
	return cmocka_run_group_tests_name("kernel layer on interrupts", tests,
					   NULL, NULL) == 0
		       ? 0
		       : 1;
}
