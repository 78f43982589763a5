/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Kernel-layer paths the other kernel tests do not reach, found with
 * scripts/coverage (docs/testing/coverage.md):
 *
 * - k_heap_realloc of a pointer its heap does not own: sys_heap reports
 *   it (the fault names realloc), nothing changes;
 * - a blocking k_heap_realloc woken by a free that does not help: it
 *   pends again (traced once) and fails exactly at its deadline, the
 *   block kept;
 * - k_free and k_realloc of a tracked (autofree) block that was already
 *   freed: one fault each, from the call, heap unchanged;
 * - k_realloc to sizes that cannot fit the heap reference: NULL, the
 *   block kept;
 * - z_thread_malloc from a thread the kernel does not know (a plain
 *   pthread): no pool, NULL;
 * - a thread created in ISR context inherits no pool (it has no creator
 *   thread);
 * - more than KHEAP_MAX_DYNAMIC_HEAPS heaps: the k_free registry gives up
 *   its check instead of refusing blocks of the later heaps (in a forked
 *   child, since the registry cannot be reset).
 *
 * Deterministic schedule, virtual clock. Not randomized.
 *
 * Usage: test_kernel_coverage [test-name-pattern]
 */
#include "kernel_test.h"

#include <pthread.h>
#include <signal.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <zephyr/irq_offload.h>

static struct k_heap pool;
static unsigned char pool_region[2048] __attribute__((__aligned__(8)));

static int setup(void **state)
{
	kt_setup_det(state);
	assert_int_equal(k_heap_init(&pool, pool_region, sizeof(pool_region)),
			 0);
	k_thread_heap_assign(k_current_get(), NULL);
	k_thread_pool_autofree(NULL, false);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	kt_join_all();
	(void)sim_fault_capture(false);
	k_thread_pool_autofree(NULL, false);
	k_thread_heap_assign(k_current_get(), NULL);
	return 0;
}

/* ---- k_heap_realloc ---------------------------------------------------- */

static void test_k_heap_realloc_foreign_pointer_reported(void **state)
{
	(void)state;
	unsigned char local[32] __attribute__((__aligned__(8)));
	size_t before = kt_heap_free_bytes(&pool);

	kt_faults_expect();
	assert_null(k_heap_realloc(&pool, local + 8, 64, K_NO_WAIT));
	kt_faults_assert_one("realloc", "not inside", &pool.heap, local + 8);
	assert_int_equal(kt_heap_free_bytes(&pool), before);
	assert_true(kt_heap_valid(&pool));
}

static void free_one_entry(void *p1, void *p2, void *p3)
{
	(void)p2;
	(void)p3;
	k_heap_free(&pool, p1);
}

/* The heap is full of small blocks; a free of one wakes the realloc,
 * whose retry still fails: it pends again until its deadline. */
static void test_k_heap_realloc_pends_again_after_useless_free(void **state)
{
	(void)state;
	enum {
		MAX_FILL = 256
	};
	void *fill[MAX_FILL];
	unsigned int n = 0;
	unsigned char *p = k_heap_alloc(&pool, 64, K_NO_WAIT);

	assert_non_null(p);
	test_token_fill(p, 64, 0x5e);
	while (n < MAX_FILL &&
	       (fill[n] = k_heap_alloc(&pool, 8, K_NO_WAIT)) != NULL) {
		n++;
	}
	assert_true(n > 4 && n < MAX_FILL);
	/* At tick 3 one 8-byte block comes back: far too small. */
	kt_spawn(0, free_one_entry, fill[n / 2], NULL, K_PRIO_PREEMPT(1),
		 K_TICKS(3));
	int64_t start = sys_clock_tick_get();

	kt_faults_expect();
	assert_null(k_heap_realloc(&pool, p, 1024, K_TICKS(10)));
	kt_faults_assert_none();
	assert_int_equal(sys_clock_tick_get() - start, 10);
	assert_int_equal(test_token_check(p, 64, 0x5e), SIZE_MAX);
	kt_join_all();
	for (unsigned int i = 0; i < n; i++) {
		if (i != n / 2) {
			k_heap_free(&pool, fill[i]);
		}
	}
	k_heap_free(&pool, p);
	assert_int_equal(kt_heap_allocated_bytes(&pool), 0);
	assert_true(kt_heap_valid(&pool));
}

/* ---- the k_malloc family ------------------------------------------------ */

/* A pointer with no heap reference below it: k_realloc reports it, as
 * k_free does. */
static void test_k_realloc_without_heap_reference_reported(void **state)
{
	(void)state;
	uintptr_t words[4] = {0, 0x5a5a5a5au, 0, 0};
	size_t before = kt_heap_free_bytes(&_system_heap);

	kt_faults_expect();
	assert_null(k_realloc(&words[2], 64));
	kt_faults_assert_one("k_realloc", "no heap reference", NULL, &words[2]);
	assert_int_equal(kt_heap_free_bytes(&_system_heap), before);
}

static void test_k_realloc_sizes_beyond_the_reference(void **state)
{
	(void)state;
	unsigned char *p = k_malloc(40);
	size_t before = kt_heap_free_bytes(&_system_heap);

	assert_non_null(p);
	test_token_fill(p, 40, 0x77);
	assert_null(k_realloc(p, SIZE_MAX));
	assert_null(k_realloc(p, SIZE_MAX - sizeof(void *) + 1u));
	assert_int_equal(test_token_check(p, 40, 0x77), SIZE_MAX);
	assert_int_equal(kt_heap_free_bytes(&_system_heap), before);
	k_free(p);
	assert_true(kt_heap_valid(&_system_heap));
}

/* A tracked block's node outlives its free (the block's memory keeps the
 * heap reference): the second k_free and a k_realloc must see that the
 * block is gone. */
static void test_tracked_block_used_after_free_reported(void **state)
{
	(void)state;
	k_thread_heap_assign(k_current_get(), &pool);
	k_thread_pool_autofree(NULL, true);
	size_t before = kt_heap_free_bytes(&pool);
	void *mem = z_thread_malloc(48);

	assert_non_null(mem);
	k_free(mem);
	assert_int_equal(kt_heap_free_bytes(&pool), before);

	kt_faults_expect();
	k_free(mem);
	kt_faults_assert_one("k_free", "not allocated", &pool, mem);
	kt_faults_expect();
	assert_null(k_realloc(mem, 100));
	kt_faults_assert_one("k_realloc", "not allocated", &pool, mem);
	assert_int_equal(kt_heap_free_bytes(&pool), before);
	assert_true(kt_heap_valid(&pool));
}

/* ---- thread pools: callers without a creator or without a thread ------- */

static void *foreign_result;

static void *foreign_thread(void *arg)
{
	(void)arg;
	foreign_result = z_thread_malloc(16);
	return NULL;
}

static void test_z_thread_malloc_from_foreign_pthread_is_null(void **state)
{
	(void)state;
	pthread_t thread;

	/* main has a pool; a pthread the simulator did not create is no
	 * kernel thread and has none. */
	k_thread_heap_assign(k_current_get(), &pool);
	foreign_result = &foreign_result;
	assert_int_equal(pthread_create(&thread, NULL, foreign_thread, NULL),
			 0);
	assert_int_equal(pthread_join(thread, NULL), 0);
	assert_null(foreign_result);
	assert_int_equal(kt_heap_allocated_bytes(&pool), 0);
}

static void *child_block;
static struct k_heap *child_pool_seen;

static void isr_child_entry(void *p1, void *p2, void *p3)
{
	(void)p1;
	(void)p2;
	(void)p3;
	child_pool_seen = kheap_port_thread_data(NULL)->resource_pool;
	child_block = z_thread_malloc(16);
}

static void create_in_isr(const void *arg)
{
	(void)arg;
	kt_spawn(0, isr_child_entry, NULL, NULL, K_PRIO_PREEMPT(1), K_NO_WAIT);
}

static void test_thread_created_in_isr_inherits_no_pool(void **state)
{
	(void)state;
	k_thread_heap_assign(k_current_get(), &pool);
	child_pool_seen = &pool;
	child_block = &child_block;
	irq_offload(create_in_isr, NULL);
	kt_join_all();
	assert_null(child_pool_seen);
	assert_null(child_block);
}

/* ---- the k_free registry's overflow ------------------------------------- */

#define MANY_HEAPS (KHEAP_MAX_DYNAMIC_HEAPS + 2)

static struct k_heap many[MANY_HEAPS];
static unsigned char many_regions[MANY_HEAPS][256]
	__attribute__((__aligned__(8)));

/* libgcov's flush (coverage builds, KHEAP_COVERAGE_BUILD from CMake): a
 * forked child that leaves with _exit() writes no counters otherwise. */
#if KHEAP_COVERAGE_BUILD
extern void __gcov_dump(void);
#endif

/* In the child: exit status 0 if every check held, else the check's
 * number. */
static int registry_overflow_child(void)
{
	for (int i = 0; i < MANY_HEAPS; i++) {
		if (k_heap_init(&many[i], many_regions[i],
				sizeof(many_regions[i])) != 0) {
			return 1;
		}
	}
	/* Blocks of the last heaps (beyond the table) are still freed into
	 * their heap by k_free. */
	struct k_heap *last = &many[MANY_HEAPS - 1];

	k_thread_heap_assign(k_current_get(), last);
	void *mem = z_thread_malloc(32);

	if (mem == NULL) {
		return 2;
	}
	if (kt_heap_allocated_bytes(last) == 0u) {
		return 3;
	}
	kt_faults_expect();
	k_free(mem);
	if (sim_fault_count() != 0u) {
		return 4;
	}
	(void)sim_fault_capture(false);
	if (kt_heap_allocated_bytes(last) != 0u || !kt_heap_valid(last)) {
		return 5;
	}
	return 0;
}

static void test_registry_overflow_keeps_k_free_working(void **state)
{
	(void)state;
	fflush(stdout);
	fflush(stderr);
	pid_t child = fork();

	assert_true(child >= 0);
	if (child == 0) {
		signal(SIGABRT, SIG_DFL);
		int result = registry_overflow_child();

#if KHEAP_COVERAGE_BUILD
		__gcov_dump();
#endif
		_exit(result);
	}
	int status = 0;

	assert_int_equal(waitpid(child, &status, 0), child);
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
		fail_msg("registry overflow: child %s %d",
			 WIFSIGNALED(status) ? "killed by signal"
					     : "failed check",
			 WIFSIGNALED(status) ? WTERMSIG(status)
					     : WEXITSTATUS(status));
	}
}

int main(int argc, char **argv)
{
	kt_program_args(argc, argv);
	const struct CMUnitTest tests[] = {
#define KT_TEST(name) cmocka_unit_test_setup_teardown(name, setup, teardown)
		KT_TEST(test_k_heap_realloc_foreign_pointer_reported),
		KT_TEST(test_k_heap_realloc_pends_again_after_useless_free),
		KT_TEST(test_k_realloc_without_heap_reference_reported),
		KT_TEST(test_k_realloc_sizes_beyond_the_reference),
		KT_TEST(test_tracked_block_used_after_free_reported),
		KT_TEST(test_z_thread_malloc_from_foreign_pthread_is_null),
		KT_TEST(test_thread_created_in_isr_inherits_no_pool),
		KT_TEST(test_registry_overflow_keeps_k_free_working),
#undef KT_TEST
	};
	return cmocka_run_group_tests_name("kernel layer: remaining paths",
					   tests, NULL, NULL);
}
