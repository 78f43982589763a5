/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Thread resource pools: k_thread_heap_assign, k_thread_system_pool_assign,
 * z_thread_malloc (the thread's pool; the system heap in ISR context; NULL
 * without a pool), inheritance by child threads (z_thread_pool_init), the
 * create / assign / start pattern, and kheap's autofree extension
 * (k_thread_pool_autofree): forgotten blocks freed at exit, no double
 * frees, cross-thread k_free and k_realloc of tracked blocks.
 *
 * Deterministic schedule, virtual clock; assertions on simulated threads
 * go through KT_CHECK (kernel_test.h).
 *
 * Usage: test_kernel_pools [test-name-pattern]
 */
#include "kernel_test.h"

#include <string.h>

#include <zephyr/irq_offload.h>

static struct k_heap pool_a;
static struct k_heap pool_b;
static unsigned char pool_a_region[4096] __attribute__((__aligned__(8)));
static unsigned char pool_b_region[4096] __attribute__((__aligned__(8)));

static bool in_region(const void *mem, size_t bytes, const void *region,
		      size_t region_bytes)
{
	uintptr_t p = (uintptr_t)mem;
	uintptr_t r = (uintptr_t)region;

	return mem != NULL && p >= r && p + bytes <= r + region_bytes;
}

static bool in_pool_a(const void *mem, size_t bytes)
{
	return in_region(mem, bytes, pool_a_region, sizeof(pool_a_region));
}

static bool in_pool_b(const void *mem, size_t bytes)
{
	return in_region(mem, bytes, pool_b_region, sizeof(pool_b_region));
}

static bool in_system_heap(const void *mem, size_t bytes)
{
	/* The system heap's region is its K_HEAP_DEFINE array, whose bounds
	 * are not exported: ask the heap whether the block (which starts
	 * with the 8-byte slot holding the heap reference, just below mem)
	 * is one of its own. */
	const size_t ref_slot_bytes = (sizeof(void *) + 7u) & ~(size_t)7u;

	if (mem == NULL) {
		return false;
	}
	k_spinlock_key_t key = k_spin_lock(&_system_heap.lock);
	const unsigned char *block =
		(const unsigned char *)mem - ref_slot_bytes;
	bool owned = sys_heap_owns(&_system_heap.heap, block) &&
		     sys_heap_usable_size(&_system_heap.heap, block) >=
			     bytes + ref_slot_bytes;

	k_spin_unlock(&_system_heap.lock, key);
	return owned;
}

/* The free bytes of the three heaps, to compare before and after. */
struct heap_levels {
	size_t system;
	size_t a;
	size_t b;
};

static struct heap_levels levels(void)
{
	struct heap_levels now = {
		.system = kt_heap_free_bytes(&_system_heap),
		.a = kt_heap_free_bytes(&pool_a),
		.b = kt_heap_free_bytes(&pool_b),
	};

	return now;
}

static void assert_levels(struct heap_levels expected)
{
	struct heap_levels now = levels();

	assert_int_equal(now.system, expected.system);
	assert_int_equal(now.a, expected.a);
	assert_int_equal(now.b, expected.b);
	assert_true(kt_heap_valid(&_system_heap));
	assert_true(kt_heap_valid(&pool_a));
	assert_true(kt_heap_valid(&pool_b));
}

static int setup(void **state)
{
	kt_setup_det(state);
	assert_int_equal(
		k_heap_init(&pool_a, pool_a_region, sizeof(pool_a_region)), 0);
	assert_int_equal(
		k_heap_init(&pool_b, pool_b_region, sizeof(pool_b_region)), 0);
	/* main has no pool unless a test gives it one. */
	k_thread_heap_assign(k_current_get(), NULL);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	kt_join_all();
	(void)sim_fault_capture(false);
	k_thread_heap_assign(k_current_get(), NULL);
	return 0;
}

/* What a thread saw, for the test thread to check after joining. */
struct pool_report {
	void *block;
	void *aligned_block;
	void *isr_block;
	struct k_heap *pool_seen;
	bool autofree_seen;
};

static void allocate_entry(void *p1, void *p2, void *p3)
{
	struct pool_report *report = p1;

	(void)p2;
	(void)p3;
	report->pool_seen = kheap_port_thread_data(NULL)->resource_pool;
	report->block = z_thread_malloc(300);
	report->aligned_block = z_thread_aligned_alloc(64, 100);
}

static void test_thread_heap_assign_serves_z_thread_malloc(void **state)
{
	(void)state;
	struct heap_levels start = levels();
	struct pool_report report = {0};
	k_tid_t thread = kt_spawn(0, allocate_entry, &report, NULL,
				  K_PRIO_PREEMPT(1), K_FOREVER);

	k_thread_heap_assign(thread, &pool_a);
	k_thread_start(thread);
	kt_join_all();
	assert_ptr_equal(report.pool_seen, &pool_a);
	assert_true(in_pool_a(report.block, 300));
	assert_true(in_pool_a(report.aligned_block, 100));
	assert_int_equal((uintptr_t)report.aligned_block % 64u, 0);
	assert_true(kt_heap_free_bytes(&pool_a) < start.a);
	assert_int_equal(kt_heap_free_bytes(&_system_heap), start.system);
	k_free(report.block);
	k_free(report.aligned_block);
	assert_levels(start);
}

static void test_system_pool_assign_serves_z_thread_malloc(void **state)
{
	(void)state;
	struct heap_levels start = levels();
	struct pool_report report = {0};
	k_tid_t thread = kt_spawn(0, allocate_entry, &report, NULL,
				  K_PRIO_PREEMPT(1), K_FOREVER);

	k_thread_system_pool_assign(thread);
	k_thread_start(thread);
	kt_join_all();
	assert_ptr_equal(report.pool_seen, &_system_heap);
	assert_true(in_system_heap(report.block, 300));
	assert_true(kt_heap_free_bytes(&_system_heap) < start.system);
	assert_int_equal(kt_heap_free_bytes(&pool_a), start.a);
	k_free(report.block);
	k_free(report.aligned_block);
	assert_levels(start);
}

static void test_z_thread_malloc_without_pool_is_null(void **state)
{
	(void)state;
	struct heap_levels start = levels();
	struct pool_report report = {0};

	/* main has none; a thread main creates inherits none. */
	assert_null(z_thread_malloc(16));
	assert_null(z_thread_aligned_alloc(16, 16));
	kt_spawn(0, allocate_entry, &report, NULL, K_PRIO_PREEMPT(1),
		 K_NO_WAIT);
	kt_join_all();
	assert_null(report.pool_seen);
	assert_null(report.block);
	assert_null(report.aligned_block);
	/* Removing a pool again: NULL. */
	k_thread_heap_assign(k_current_get(), &pool_a);
	void *mem = z_thread_malloc(16);

	assert_true(in_pool_a(mem, 16));
	k_free(mem);
	k_thread_heap_assign(k_current_get(), NULL);
	assert_null(z_thread_malloc(16));
	assert_levels(start);
}

static void isr_thread_malloc(const void *arg)
{
	struct pool_report *report = (struct pool_report *)arg;

	report->isr_block = z_thread_malloc(120);
}

static void isr_allocate_entry(void *p1, void *p2, void *p3)
{
	struct pool_report *report = p1;

	(void)p2;
	(void)p3;
	irq_offload(isr_thread_malloc, report);
	report->block = z_thread_malloc(120);
}

static void test_z_thread_malloc_in_isr_uses_system_heap(void **state)
{
	(void)state;
	struct heap_levels start = levels();
	struct pool_report report = {0};
	k_tid_t thread = kt_spawn(0, isr_allocate_entry, &report, NULL,
				  K_PRIO_PREEMPT(1), K_FOREVER);

	k_thread_heap_assign(thread, &pool_a);
	k_thread_start(thread);
	kt_join_all();
	/* In the ISR: the system heap, although the interrupted thread
	 * has a pool; in the thread itself: its pool. */
	assert_true(in_system_heap(report.isr_block, 120));
	assert_false(in_pool_a(report.isr_block, 120));
	assert_true(in_pool_a(report.block, 120));
	k_free(report.isr_block);
	k_free(report.block);
	/* And from main, which has no pool at all. */
	irq_offload(isr_thread_malloc, &report);
	assert_true(in_system_heap(report.isr_block, 120));
	k_free(report.isr_block);
	assert_levels(start);
}

/* ---- inheritance and the create / assign / start pattern -------------- */

static struct pool_report child_report;
static struct pool_report grandchild_report;

static void grandchild_entry(void *p1, void *p2, void *p3)
{
	(void)p1;
	(void)p2;
	(void)p3;
	grandchild_report.pool_seen =
		kheap_port_thread_data(NULL)->resource_pool;
	grandchild_report.block = z_thread_malloc(40);
}

static void child_entry(void *p1, void *p2, void *p3)
{
	(void)p1;
	(void)p2;
	(void)p3;
	struct kheap_thread_data *mine = kheap_port_thread_data(NULL);

	child_report.pool_seen = mine->resource_pool;
	child_report.autofree_seen = mine->release_on_exit;
	child_report.block = z_thread_malloc(60);
	kt_spawn(2, grandchild_entry, NULL, NULL, K_PRIO_PREEMPT(3), K_NO_WAIT);
}

static void parent_entry(void *p1, void *p2, void *p3)
{
	(void)p2;
	(void)p3;
	bool autofree = p1 != NULL;

	if (autofree) {
		k_thread_pool_autofree(NULL, true);
	}
	kt_spawn(1, child_entry, NULL, NULL, K_PRIO_PREEMPT(2), K_NO_WAIT);
}

static void test_pool_inherited_by_child_threads(void **state)
{
	(void)state;
	struct heap_levels start = levels();

	memset(&child_report, 0, sizeof(child_report));
	memset(&grandchild_report, 0, sizeof(grandchild_report));
	k_tid_t parent = kt_spawn(0, parent_entry, (void *)1, NULL,
				  K_PRIO_PREEMPT(1), K_FOREVER);

	k_thread_heap_assign(parent, &pool_a);
	k_thread_start(parent);
	kt_join_all();
	assert_ptr_equal(child_report.pool_seen, &pool_a);
	assert_ptr_equal(grandchild_report.pool_seen, &pool_a);
	assert_true(in_pool_a(child_report.block, 60));
	assert_true(in_pool_a(grandchild_report.block, 40));
	/* Autofree is not inherited: the child's blocks outlive it. */
	assert_false(child_report.autofree_seen);
	k_free(child_report.block);
	k_free(grandchild_report.block);
	assert_levels(start);
}

static void assigning_parent_entry(void *p1, void *p2, void *p3)
{
	(void)p1;
	(void)p2;
	(void)p3;
	/* Zephyr's pattern: create not started, assign, start. */
	k_tid_t child = kt_spawn(1, child_entry, NULL, NULL, K_PRIO_PREEMPT(2),
				 K_FOREVER);

	k_thread_heap_assign(child, &pool_b);
	k_thread_start(child);
}

static void test_create_forever_assign_start(void **state)
{
	(void)state;
	struct heap_levels start = levels();

	memset(&child_report, 0, sizeof(child_report));
	memset(&grandchild_report, 0, sizeof(grandchild_report));
	k_tid_t parent = kt_spawn(0, assigning_parent_entry, NULL, NULL,
				  K_PRIO_PREEMPT(1), K_FOREVER);

	k_thread_heap_assign(parent, &pool_a);
	k_thread_start(parent);
	kt_join_all();
	assert_ptr_equal(child_report.pool_seen, &pool_b);
	assert_true(in_pool_b(child_report.block, 60));
	/* The grandchild inherits the child's pool. */
	assert_ptr_equal(grandchild_report.pool_seen, &pool_b);
	assert_true(in_pool_b(grandchild_report.block, 40));
	assert_int_equal(kt_heap_free_bytes(&pool_a), start.a);
	k_free(child_report.block);
	k_free(grandchild_report.block);
	assert_levels(start);
}

/* ---- autofree ---------------------------------------------------------- */

struct autofree_plan {
	unsigned int blocks;     /* z_thread_malloc this many */
	unsigned int free_every; /* and k_free every n-th itself (0: none) */
	bool enable_in_thread;   /* else the creator enabled it */
	unsigned int allocated;  /* what the thread got */
	unsigned int freed;
};

static void autofree_entry(void *p1, void *p2, void *p3)
{
	struct autofree_plan *plan = p1;

	(void)p2;
	(void)p3;
	if (plan->enable_in_thread) {
		k_thread_pool_autofree(NULL, true);
	}
	for (unsigned int i = 0; i < plan->blocks; i++) {
		size_t bytes = 8u + (i * 37u) % 200u;
		unsigned char *mem = z_thread_malloc(bytes);

		KT_CHECK(in_pool_a(mem, bytes), "block %u not from the pool",
			 i);
		if (mem == NULL) {
			continue;
		}
		plan->allocated++;
		test_token_fill(mem, bytes, i);
		if (plan->free_every != 0u && i % plan->free_every == 0u) {
			KT_CHECK(test_token_check(mem, bytes, i) == SIZE_MAX,
				 "block %u overwritten", i);
			k_free(mem);
			plan->freed++;
		}
	}
}

static void run_autofree(struct autofree_plan *plan)
{
	k_tid_t thread = kt_spawn(0, autofree_entry, plan, NULL,
				  K_PRIO_PREEMPT(1), K_FOREVER);

	k_thread_heap_assign(thread, &pool_a);
	if (!plan->enable_in_thread) {
		k_thread_pool_autofree(thread, true);
	}
	kt_faults_expect();
	k_thread_start(thread);
	kt_join_all();
	kt_faults_assert_none();
	kt_checks_assert_passed();
}

static void test_autofree_releases_forgotten_blocks(void **state)
{
	(void)state;
	struct heap_levels start = levels();
	struct autofree_plan plan = {.blocks = 20};

	run_autofree(&plan);
	assert_int_equal(plan.allocated, 20);
	assert_levels(start);

	struct autofree_plan in_thread = {.blocks = 12,
					  .enable_in_thread = true};

	run_autofree(&in_thread);
	assert_int_equal(in_thread.allocated, 12);
	assert_levels(start);
}

static void test_autofree_no_double_free_of_freed_blocks(void **state)
{
	(void)state;
	struct heap_levels start = levels();
	struct autofree_plan plan = {.blocks = 24, .free_every = 2};

	run_autofree(&plan);
	assert_int_equal(plan.allocated, 24);
	assert_int_equal(plan.freed, 12);
	assert_levels(start);

	struct autofree_plan all = {.blocks = 10, .free_every = 1};

	run_autofree(&all);
	assert_int_equal(all.freed, 10);
	assert_levels(start);
}

/* The thread hands its blocks to main, which frees one of them while the
 * thread is still alive. */
static K_SEM_DEFINE(handed_over, 0, 1);
static K_SEM_DEFINE(may_exit, 0, 1);
static unsigned char *handed_blocks[3];

static void hand_over_entry(void *p1, void *p2, void *p3)
{
	(void)p1;
	(void)p2;
	(void)p3;
	for (int i = 0; i < 3; i++) {
		handed_blocks[i] = z_thread_malloc(100u + 50u * (unsigned)i);
		KT_CHECK(in_pool_a(handed_blocks[i], 100), "block %d", i);
		if (handed_blocks[i] != NULL) {
			memset(handed_blocks[i], 0x40 + i, 100);
		}
	}
	k_sem_give(&handed_over);
	k_sem_take(&may_exit, K_FOREVER);
	/* Block 0 was freed by main: the others are still ours. */
	KT_CHECK(handed_blocks[2][99] == 0x42, "block 2 changed");
}

static void test_autofree_cross_thread_free(void **state)
{
	(void)state;
	struct heap_levels start = levels();

	k_sem_reset(&handed_over);
	k_sem_reset(&may_exit);
	k_tid_t thread = kt_spawn(0, hand_over_entry, NULL, NULL,
				  K_PRIO_PREEMPT(1), K_FOREVER);

	k_thread_heap_assign(thread, &pool_a);
	k_thread_pool_autofree(thread, true);
	kt_faults_expect();
	k_thread_start(thread);
	assert_int_equal(k_sem_take(&handed_over, K_FOREVER), 0);
	size_t before = kt_heap_free_bytes(&pool_a);

	k_free(handed_blocks[0]);
	assert_true(kt_heap_free_bytes(&pool_a) > before);
	k_sem_give(&may_exit);
	kt_join_all();
	kt_faults_assert_none();
	kt_checks_assert_passed();
	assert_levels(start);
}

static void *realloc_results[4];

static void realloc_entry(void *p1, void *p2, void *p3)
{
	(void)p1;
	(void)p2;
	(void)p3;
	unsigned char *mem = z_thread_malloc(32);

	KT_CHECK(mem != NULL, "no block");
	if (mem == NULL) {
		return;
	}
	test_token_fill(mem, 32, 1);
	/* Grow: data kept, still in the pool, still tracked. */
	unsigned char *grown = k_realloc(mem, 600);

	realloc_results[0] = grown;
	KT_CHECK(in_pool_a(grown, 600), "grown block not in the pool");
	if (grown == NULL) {
		return;
	}
	KT_CHECK(test_token_check_moved(grown, 32, 1, mem) == SIZE_MAX,
		 "grow lost data");
	test_token_fill(grown, 600, 2);
	/* Shrink: the first bytes kept. */
	unsigned char *shrunk = k_realloc(grown, 20);

	realloc_results[1] = shrunk;
	KT_CHECK(in_pool_a(shrunk, 20), "shrunk block not in the pool");
	if (shrunk == NULL) {
		return;
	}
	KT_CHECK(test_token_check_moved(shrunk, 20, 2, grown) == SIZE_MAX,
		 "shrink lost data");
	/* Failure: NULL, block untouched. */
	KT_CHECK(k_realloc(shrunk, 100000) == NULL, "impossible realloc");
	KT_CHECK(test_token_check_moved(shrunk, 20, 2, grown) == SIZE_MAX,
		 "failed realloc changed the block");
	/* A second block, resized to 0 (freed) before exit. */
	void *gone = z_thread_malloc(50);

	KT_CHECK(gone != NULL, "second block");
	KT_CHECK(k_realloc(gone, 0) == NULL, "realloc to 0");
	/* shrunk is left for autofree. */
}

static void test_autofree_realloc_tracked_block(void **state)
{
	(void)state;
	struct heap_levels start = levels();

	memset(realloc_results, 0, sizeof(realloc_results));
	k_tid_t thread = kt_spawn(0, realloc_entry, NULL, NULL,
				  K_PRIO_PREEMPT(1), K_FOREVER);

	k_thread_heap_assign(thread, &pool_a);
	k_thread_pool_autofree(thread, true);
	kt_faults_expect();
	k_thread_start(thread);
	kt_join_all();
	kt_faults_assert_none();
	kt_checks_assert_passed();
	assert_non_null(realloc_results[1]);
	assert_levels(start);
}

static void blocked_forever_entry(void *p1, void *p2, void *p3)
{
	(void)p1;
	(void)p2;
	(void)p3;
	for (int i = 0; i < 5; i++) {
		KT_CHECK(z_thread_malloc(64) != NULL, "block %d", i);
	}
	k_sem_give(&handed_over);
	k_sem_take(&may_exit, K_FOREVER);
}

static void test_autofree_on_abort(void **state)
{
	(void)state;
	struct heap_levels start = levels();

	k_sem_reset(&handed_over);
	k_sem_reset(&may_exit);
	k_tid_t thread = kt_spawn(0, blocked_forever_entry, NULL, NULL,
				  K_PRIO_PREEMPT(1), K_FOREVER);

	k_thread_heap_assign(thread, &pool_a);
	k_thread_pool_autofree(thread, true);
	k_thread_start(thread);
	assert_int_equal(k_sem_take(&handed_over, K_FOREVER), 0);
	assert_true(kt_heap_free_bytes(&pool_a) < start.a);
	k_thread_abort(thread);
	kt_join_all();
	kt_checks_assert_passed();
	assert_levels(start);
}

/* A thread aborted while it pends in k_heap_alloc: it leaves the heap's
 * wait queue, its tracked blocks are freed, and later frees on that heap
 * wake nobody stale. */
static void pending_when_aborted_entry(void *p1, void *p2, void *p3)
{
	(void)p1;
	(void)p2;
	(void)p3;
	for (int i = 0; i < 3; i++) {
		KT_CHECK(z_thread_malloc(64) != NULL, "block %d", i);
	}
	k_sem_give(&handed_over);
	void *never = k_heap_alloc(&pool_a, 3000, K_FOREVER);

	KT_CHECK(false, "k_heap_alloc returned %p after the abort", never);
}

static void late_waiter_entry(void *p1, void *p2, void *p3)
{
	void **result = p1;

	(void)p2;
	(void)p3;
	*result = k_heap_alloc(&pool_a, 3000, K_MSEC(50));
}

static void test_autofree_on_abort_while_pending(void **state)
{
	(void)state;
	struct heap_levels start = levels();
	void *filler = k_heap_alloc(&pool_a, 2000, K_NO_WAIT);

	assert_non_null(filler);
	k_sem_reset(&handed_over);
	k_tid_t thread = kt_spawn(0, pending_when_aborted_entry, NULL, NULL,
				  K_PRIO_PREEMPT(1), K_FOREVER);

	k_thread_heap_assign(thread, &pool_a);
	k_thread_pool_autofree(thread, true);
	k_thread_start(thread);
	assert_int_equal(k_sem_take(&handed_over, K_FOREVER), 0);
	k_sleep(K_TICKS(1)); /* the thread runs on and pends */
	k_thread_abort(thread);
	kt_join_all();
	kt_checks_assert_passed();
	/* Its three blocks are back; the filler is all that is left. */
	size_t filler_cost = start.a - kt_heap_free_bytes(&pool_a);

	assert_true(filler_cost >= 2000 && filler_cost < 2000 + 64);
	/* A new waiter is served by the next free; the dead one is not
	 * in the way. */
	void *late = NULL;

	kt_spawn(0, late_waiter_entry, &late, NULL, K_PRIO_PREEMPT(1),
		 K_NO_WAIT);
	k_sleep(K_TICKS(5));
	k_heap_free(&pool_a, filler);
	kt_join_all();
	assert_non_null(late);
	k_heap_free(&pool_a, late);
	assert_levels(start);
}

/* Without autofree (the default, as in Zephyr) blocks outlive their
 * thread; blocks taken before autofree was enabled are not tracked. */
static void *untracked_blocks[2];

static void untracked_entry(void *p1, void *p2, void *p3)
{
	(void)p2;
	(void)p3;
	untracked_blocks[0] = z_thread_malloc(80);
	if (p1 != NULL) {
		k_thread_pool_autofree(NULL, true);
		untracked_blocks[1] = z_thread_malloc(90); /* tracked */
	}
}

static void test_autofree_is_opt_in_and_not_retroactive(void **state)
{
	(void)state;
	struct heap_levels start = levels();

	memset(untracked_blocks, 0, sizeof(untracked_blocks));
	k_tid_t thread = kt_spawn(0, untracked_entry, NULL, NULL,
				  K_PRIO_PREEMPT(1), K_FOREVER);

	k_thread_heap_assign(thread, &pool_a);
	k_thread_start(thread);
	kt_join_all();
	assert_true(in_pool_a(untracked_blocks[0], 80));
	assert_true(kt_heap_free_bytes(&pool_a) < start.a);
	k_free(untracked_blocks[0]);
	assert_levels(start);

	thread = kt_spawn(0, untracked_entry, (void *)1, NULL,
			  K_PRIO_PREEMPT(1), K_FOREVER);
	k_thread_heap_assign(thread, &pool_a);
	k_thread_start(thread);
	kt_join_all();
	/* The tracked block went at exit; the earlier one is still live. */
	assert_true(in_pool_a(untracked_blocks[0], 80));
	size_t first_block_cost = start.a - kt_heap_free_bytes(&pool_a);

	assert_true(first_block_cost > 80 && first_block_cost < 80 + 64);
	k_free(untracked_blocks[0]);
	assert_levels(start);
}

int main(int argc, char **argv)
{
	kt_program_args(argc, argv);
	const struct CMUnitTest tests[] = {
#define KT_TEST(name) cmocka_unit_test_setup_teardown(name, setup, teardown)
		KT_TEST(test_thread_heap_assign_serves_z_thread_malloc),
		KT_TEST(test_system_pool_assign_serves_z_thread_malloc),
		KT_TEST(test_z_thread_malloc_without_pool_is_null),
		KT_TEST(test_z_thread_malloc_in_isr_uses_system_heap),
		KT_TEST(test_pool_inherited_by_child_threads),
		KT_TEST(test_create_forever_assign_start),
		KT_TEST(test_autofree_releases_forgotten_blocks),
		KT_TEST(test_autofree_no_double_free_of_freed_blocks),
		KT_TEST(test_autofree_cross_thread_free),
		KT_TEST(test_autofree_realloc_tracked_block),
		KT_TEST(test_autofree_on_abort),
		KT_TEST(test_autofree_on_abort_while_pending),
		KT_TEST(test_autofree_is_opt_in_and_not_retroactive),
#undef KT_TEST
	};
	return cmocka_run_group_tests_name("kernel layer thread pools", tests,
					   NULL, NULL);
}
