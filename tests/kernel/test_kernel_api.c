/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Kernel-layer API and edge cases, one test per item: k_heap_init,
 * K_HEAP_DEFINE (before main, listed by k_heap_array_get, the 1-byte
 * heap), the k_heap_* calls and the k_malloc family with Zephyr's
 * semantics (docs/api.md: Zephyr's k_heap and k_malloc contracts), impossible requests that
 * return at once even with K_FOREVER, blocks freed into their own heap,
 * misuse reported through the port's fault hook (captured), and ISR
 * context.
 *
 * Runs on the simulator in deterministic mode with the virtual clock
 * (each test reconfigures it), so "returns at once" is checked exactly:
 * virtual time must not move.
 *
 * Usage: test_kernel_api [test-name-pattern]
 */
#include "kernel_test.h"
#include "test_meta.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <zephyr/irq_offload.h>

#define KMALLOC_ALIGN 8u
#define TOKEN_ID 0x4b41u
/* Sizes that no heap can serve on either pointer width: a power of two a
 * quarter of the address space, and the square root of the address space
 * (its square overflows size_t). */
#define HUGE_POW2_BYTES ((size_t)1 << (sizeof(size_t) * 8u - 2u))
#define HALF_WIDTH_POW2 ((size_t)1 << (sizeof(size_t) * 4u))

/* ---- statically defined heaps, some used before main() --------------- */

K_HEAP_DEFINE(first_use_heap, 2048);
K_HEAP_DEFINE(constructor_heap, 1024);
K_HEAP_DEFINE(static_thread_heap, 1024);
K_HEAP_DEFINE(tiny_heap, 1);

/* What the constructor and the static thread saw. */
static bool constructor_heap_was_uninitialised;
static void *constructor_block;
static void *constructor_kmalloc_block;
static bool main_has_started;
static bool static_thread_ran_before_main;
static bool static_thread_heap_was_uninitialised;
static void *static_thread_block;

__attribute__((__constructor__)) static void use_heaps_from_constructor(void)
{
	constructor_heap_was_uninitialised = constructor_heap.heap.heap == NULL;
	constructor_block = k_heap_alloc(&constructor_heap, 100, K_NO_WAIT);
	constructor_kmalloc_block = k_malloc(48);
}

static void static_thread_entry(void *p1, void *p2, void *p3)
{
	(void)p1;
	(void)p2;
	(void)p3;
	static_thread_ran_before_main = !main_has_started;
	static_thread_heap_was_uninitialised = static_thread_heap.heap.heap ==
					       NULL;
	/* K_FOREVER: a static heap must be usable (and not block) even
	 * before main(). */
	static_thread_block = k_heap_alloc(&static_thread_heap, 200, K_FOREVER);
}

/* Cooperative and more urgent than main: runs before main() starts. */
K_THREAD_DEFINE(early_heap_user, 1024, static_thread_entry, NULL, NULL, NULL,
		K_PRIO_COOP(1), 0, 0);

/* ---- helpers --------------------------------------------------------- */

static bool inside(const void *mem, size_t bytes, const void *region,
		   size_t region_bytes)
{
	uintptr_t p = (uintptr_t)mem;
	uintptr_t r = (uintptr_t)region;

	return p >= r && p + bytes <= r + region_bytes;
}

/* A low-priority thread that sleeps: if the test thread blocked, virtual
 * time would jump to the sleeper's wake-up, so an unchanged tick count
 * proves the call returned without waiting. */
static void sleeper_entry(void *p1, void *p2, void *p3)
{
	(void)p1;
	(void)p2;
	(void)p3;
	k_sleep(K_TICKS(1000));
}

static void start_time_witness(void)
{
	kt_spawn(0, sleeper_entry, NULL, NULL, K_PRIO_PREEMPT(10), K_NO_WAIT);
	assert_int_equal(k_uptime_ticks(), 0);
}

static void assert_time_stood_still(void)
{
	assert_int_equal(k_uptime_ticks(), 0);
	kt_join_all();
}

static void fill_tokens(void *mem, size_t bytes, uint32_t id)
{
	test_token_fill(mem, bytes, id);
}

static void assert_tokens(const void *mem, size_t bytes, uint32_t id)
{
	size_t bad = test_token_check(mem, bytes, id);

	if (bad != SIZE_MAX) {
		fail_msg("block %p: byte %zu of %zu overwritten", mem, bad,
			 bytes);
	}
}

static void assert_tokens_moved(const void *mem, size_t bytes, uint32_t id,
				const void *old)
{
	size_t bad = test_token_check_moved(mem, bytes, id, old);

	if (bad != SIZE_MAX) {
		fail_msg("block %p (moved from %p): byte %zu of %zu lost", mem,
			 old, bad, bytes);
	}
}

static void assert_zero(const void *mem, size_t bytes)
{
	const unsigned char *p = mem;

	for (size_t i = 0; i < bytes; i++) {
		if (p[i] != 0u) {
			fail_msg("byte %zu of %zu at %p is 0x%02x, not 0", i,
				 bytes, mem, p[i]);
		}
	}
}

/* A region of `bytes` at offset `offset` inside a guarded buffer: every
 * byte outside the region keeps GUARD_BYTE. */
#define GUARD_BYTE 0xc5u
#define GUARD_BYTES 64u
static _Alignas(8) unsigned char guarded_buffer[16384 + 2 * GUARD_BYTES];

static void *guarded_region(size_t offset, size_t bytes)
{
	assert_true(GUARD_BYTES + offset + bytes + GUARD_BYTES <=
		    sizeof(guarded_buffer));
	/* An earlier heap on the buffer left it poisoned for memory
	 * checkers: it is ordinary memory again from here. */
	test_meta_release(guarded_buffer, sizeof(guarded_buffer));
	memset(guarded_buffer, GUARD_BYTE, sizeof(guarded_buffer));
	return guarded_buffer + GUARD_BYTES + offset;
}

static void assert_guards_intact(const void *region, size_t bytes)
{
	size_t start = (size_t)((const unsigned char *)region - guarded_buffer);

	for (size_t i = 0; i < sizeof(guarded_buffer); i++) {
		if (i >= start && i < start + bytes) {
			continue;
		}
		if (guarded_buffer[i] != GUARD_BYTE) {
			fail_msg("guard byte %zd from the region start "
				 "changed to 0x%02x",
				 (ssize_t)i - (ssize_t)start,
				 guarded_buffer[i]);
		}
	}
}

/*
 * k_heap_init records heaps by address only, so a heap object whose
 * storage ends (a local variable, freed memory) must not break later
 * k_heap_init and k_free calls: test_k_heap_init_storage_reused.
 */
static struct k_heap heap_a;
static struct k_heap heap_b;
static struct k_heap scratch_heap;
static unsigned char heap_a_region[4096] __attribute__((__aligned__(8)));
static unsigned char heap_b_region[4096] __attribute__((__aligned__(8)));

static int setup(void **state)
{
	kt_setup_det(state);
	assert_int_equal(
		k_heap_init(&heap_a, heap_a_region, sizeof(heap_a_region)), 0);
	assert_int_equal(
		k_heap_init(&heap_b, heap_b_region, sizeof(heap_b_region)), 0);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	kt_join_all();
	(void)sim_fault_capture(false);
	k_thread_heap_assign(k_current_get(), NULL);
	assert_true(kt_heap_valid(&_system_heap));
	return 0;
}

/* ---- k_heap_init ------------------------------------------------------ */

static void test_k_heap_init_ok(void **state)
{
	(void)state;
	const size_t bytes = 2048;

	for (size_t offset = 0; offset < 8; offset++) {
		struct k_heap *heap = &scratch_heap;
		unsigned char *region = guarded_region(offset, bytes);
		void *blocks[64];
		size_t count = 0;

		assert_int_equal(k_heap_init(heap, region, bytes), 0);
		size_t initial_free = kt_heap_free_bytes(heap);

		/* The control block comes out of the region. */
		assert_true(initial_free >= bytes - 256 &&
			    initial_free < bytes);
		/* Fill the heap with 100-byte blocks, every byte written. */
		while (count < 64 &&
		       (blocks[count] = k_heap_alloc(heap, 100, K_NO_WAIT))) {
			assert_true(inside(blocks[count], 100, region, bytes));
			assert_int_equal((uintptr_t)blocks[count] % 8u, 0);
			fill_tokens(blocks[count], 100, (uint32_t)count);
			count++;
		}
		assert_true(count >= (bytes - 256) / 112);
		assert_true(kt_heap_valid(heap));
		for (size_t i = 0; i < count; i++) {
			assert_tokens(blocks[i], 100, (uint32_t)i);
			k_heap_free(heap, blocks[i]);
		}
		assert_int_equal(kt_heap_free_bytes(heap), initial_free);
		assert_guards_intact(region, bytes);
	}
}

static void test_k_heap_init_too_small(void **state)
{
	(void)state;
	const size_t bytes = Z_HEAP_MIN_SIZE - 1u;
	struct k_heap *heap = &scratch_heap;
	unsigned char *region = guarded_region(0, bytes);

	assert_int_equal(k_heap_init(heap, region, bytes), -EINVAL);
	assert_int_equal(k_heap_init(heap, NULL, 4096), -EINVAL);
	assert_int_equal(k_heap_init(NULL, region, 4096), -EINVAL);
	assert_int_equal(k_heap_init(heap, region, bytes), -EINVAL);

	start_time_witness();
	assert_null(k_heap_alloc(heap, 1, K_NO_WAIT));
	assert_null(k_heap_alloc(heap, 1, K_FOREVER));
	assert_null(k_heap_alloc(heap, 8, K_MSEC(100)));
	assert_null(k_heap_aligned_alloc(heap, 16, 8, K_FOREVER));
	assert_null(k_heap_calloc(heap, 2, 4, K_FOREVER));
	assert_null(k_heap_realloc(heap, NULL, 4, K_FOREVER));
	k_heap_free(heap, NULL);
	assert_time_stood_still();
	assert_guards_intact(region, bytes);
}

/*
 * Regression: k_heap_init once linked heap objects into a registry
 * through the objects themselves, so when a heap's storage ended (a local
 * k_heap, a k_heap inside freed memory) the next k_heap_init walked
 * through the dead object and crashed. The registry now holds addresses
 * only. Runs in a forked child so a crash fails the test cleanly.
 */
static __attribute__((__noinline__)) void init_heap_in_a_frame(void)
{
	struct k_heap local_heap;
	unsigned char region[512] __attribute__((__aligned__(8)));

	assert_int_equal(k_heap_init(&local_heap, region, sizeof(region)), 0);
	void *mem = k_heap_alloc(&local_heap, 8, K_NO_WAIT);

	k_heap_free(&local_heap, mem);
}

static __attribute__((__noinline__)) void reuse_the_frame(void)
{
	volatile unsigned char junk[4096];

	for (size_t i = 0; i < sizeof(junk); i++) {
		junk[i] = 0xa5;
	}
}

static void test_k_heap_init_storage_reused(void **state)
{
	(void)state;
	fflush(stdout);
	fflush(stderr);
	pid_t child = fork();

	assert_true(child >= 0);
	if (child == 0) {
		int null_fd = open("/dev/null", O_WRONLY);

		if (null_fd >= 0) {
			dup2(null_fd, 2);
		}
		/* Die of the crash itself, not through CMocka's handlers. */
		signal(SIGSEGV, SIG_DFL);
		signal(SIGBUS, SIG_DFL);
		signal(SIGABRT, SIG_DFL);
		signal(SIGILL, SIG_DFL);
		init_heap_in_a_frame();
		reuse_the_frame();
		(void)k_heap_init(&heap_b, heap_b_region,
				  sizeof(heap_b_region));
		_exit(0);
	}
	int status = 0;

	assert_int_equal(waitpid(child, &status, 0), child);
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
		fail_msg("k_heap_init after a k_heap_init heap's storage was "
			 "reused: child %s %d",
			 WIFSIGNALED(status) ? "killed by signal"
					     : "exited with",
			 WIFSIGNALED(status) ? WTERMSIG(status)
					     : WEXITSTATUS(status));
	}
}

/* ---- K_HEAP_DEFINE ---------------------------------------------------- */

static void test_k_heap_define_initialised_on_first_use(void **state)
{
	(void)state;
	/* Nothing in this program touches first_use_heap before. */
	assert_null(first_use_heap.heap.heap);
	void *mem = k_heap_alloc(&first_use_heap, 64, K_NO_WAIT);

	assert_non_null(mem);
	assert_non_null(first_use_heap.heap.heap);
	assert_true(inside(mem, 64, kheap_region_first_use_heap,
			   sizeof(kheap_region_first_use_heap)));
	assert_true(kt_heap_valid(&first_use_heap));
	k_heap_free(&first_use_heap, mem);
	assert_int_equal(kt_heap_allocated_bytes(&first_use_heap), 0);
}

static void test_k_heap_define_usable_before_main(void **state)
{
	(void)state;
	/* From a constructor, before the simulator even started. */
	assert_true(constructor_heap_was_uninitialised);
	assert_non_null(constructor_block);
	assert_true(inside(constructor_block, 100,
			   kheap_region_constructor_heap,
			   sizeof(kheap_region_constructor_heap)));
	k_heap_free(&constructor_heap, constructor_block);
	assert_int_equal(kt_heap_allocated_bytes(&constructor_heap), 0);
	assert_non_null(constructor_kmalloc_block);
	k_free(constructor_kmalloc_block);

	/* From a K_THREAD_DEFINE thread that ran before main(). */
	assert_true(static_thread_ran_before_main);
	assert_true(static_thread_heap_was_uninitialised);
	assert_non_null(static_thread_block);
	assert_true(inside(static_thread_block, 200,
			   kheap_region_static_thread_heap,
			   sizeof(kheap_region_static_thread_heap)));
	k_heap_free(&static_thread_heap, static_thread_block);
	assert_int_equal(kt_heap_allocated_bytes(&static_thread_heap), 0);
	assert_true(kt_heap_valid(&static_thread_heap));
}

static void test_k_heap_array_get_lists_static_heaps(void **state)
{
	(void)state;
	struct k_heap *expected[] = {&_system_heap, &first_use_heap,
				     &constructor_heap, &static_thread_heap,
				     &tiny_heap};
	struct k_heap *heaps = NULL;
	int count = k_heap_array_get(&heaps);

	assert_int_equal(count, sizeof(expected) / sizeof(expected[0]));
	assert_non_null(heaps);
	for (size_t e = 0; e < sizeof(expected) / sizeof(expected[0]); e++) {
		int found = 0;

		for (int i = 0; i < count; i++) {
			found += &heaps[i] == expected[e];
		}
		assert_int_equal(found, 1);
	}
	/* k_heap_init heaps are not static heaps. */
	for (int i = 0; i < count; i++) {
		assert_ptr_not_equal(&heaps[i], &heap_a);
	}
}

static void test_k_heap_define_tiny_one_byte_block(void **state)
{
	(void)state;
	assert_int_equal(sizeof(kheap_region_tiny_heap), Z_HEAP_MIN_SIZE);
	for (int round = 0; round < 3; round++) {
		unsigned char *one = k_heap_alloc(&tiny_heap, 1, K_NO_WAIT);

		assert_non_null(one);
		assert_true(inside(one, 1, kheap_region_tiny_heap,
				   sizeof(kheap_region_tiny_heap)));
		*one = 0x7e;
		assert_null(k_heap_alloc(&tiny_heap, 1, K_NO_WAIT));
		assert_int_equal(*one, 0x7e);
		k_heap_free(&tiny_heap, one);
	}
	assert_true(kt_heap_valid(&tiny_heap));

	/* The same size through k_heap_init in a guarded buffer: the one
	 * block's whole usable size may be written, and no byte around the
	 * region changes. (The K_HEAP_DEFINE region has no room for guard
	 * words; the asan preset checks its bounds with redzones.) */
	for (size_t offset = 0; offset < 8; offset++) {
		struct k_heap *heap = &scratch_heap;
		const size_t bytes = SYS_HEAP_MIN_REGION_BYTES;
		unsigned char *region = guarded_region(offset, bytes);

		assert_int_equal(k_heap_init(heap, region, bytes), 0);
		unsigned char *one = k_heap_alloc(heap, 1, K_NO_WAIT);

		assert_non_null(one);
		size_t usable = sys_heap_usable_size(&heap->heap, one);

		assert_true(usable >= 1);
		assert_true(inside(one, usable, region, bytes));
		memset(one, 0x3c, usable);
		assert_null(k_heap_alloc(heap, 1, K_NO_WAIT));
		k_heap_free(heap, one);
		assert_non_null(one = k_heap_alloc(heap, 1, K_NO_WAIT));
		k_heap_free(heap, one);
		assert_true(kt_heap_valid(heap));
		assert_guards_intact(region, bytes);
	}
}

/* ---- k_heap_alloc and friends ----------------------------------------- */

static void test_k_heap_alloc_zero_returns_null_at_once(void **state)
{
	(void)state;
	start_time_witness();
	assert_null(k_heap_alloc(&heap_a, 0, K_NO_WAIT));
	assert_null(k_heap_alloc(&heap_a, 0, K_FOREVER));
	assert_null(k_heap_aligned_alloc(&heap_a, 64, 0, K_FOREVER));
	assert_null(k_heap_calloc(&heap_a, 0, 16, K_FOREVER));
	assert_null(k_heap_calloc(&heap_a, 16, 0, K_FOREVER));
	assert_time_stood_still();
	assert_int_equal(kt_heap_allocated_bytes(&heap_a), 0);
}

static void test_k_heap_alloc_impossible_returns_null_at_once(void **state)
{
	(void)state;
	const size_t too_big[] = {
		sizeof(heap_a_region),
		sizeof(heap_a_region) * 2,
		SIZE_MAX / 2,
		SIZE_MAX - 8,
		SIZE_MAX,
	};

	/* Make the heap busy so that a blocking call would really wait. */
	void *busy = k_heap_alloc(&heap_a, 1024, K_NO_WAIT);

	assert_non_null(busy);
	start_time_witness();
	for (size_t i = 0; i < sizeof(too_big) / sizeof(too_big[0]); i++) {
		assert_null(k_heap_alloc(&heap_a, too_big[i], K_FOREVER));
		assert_null(k_heap_alloc(&heap_a, too_big[i], K_MSEC(500)));
		assert_null(k_heap_aligned_alloc(&heap_a, 8, too_big[i],
						 K_FOREVER));
		assert_null(
			k_heap_realloc(&heap_a, busy, too_big[i], K_FOREVER));
	}
	/* Oversized alignments (malformed ones are faults:
	 * test_kernel_zephyr.c). */
	assert_null(k_heap_aligned_alloc(&heap_a, 8192, 16, K_FOREVER));
	assert_null(
		k_heap_aligned_alloc(&heap_a, HUGE_POW2_BYTES, 16, K_FOREVER));
	assert_null(k_heap_aligned_alloc(&heap_a, 2048, SIZE_MAX - 1024,
					 K_FOREVER));
	/* calloc products that overflow. */
	assert_null(k_heap_calloc(&heap_a, SIZE_MAX / 2 + 2, 2, K_FOREVER));
	assert_null(k_heap_calloc(&heap_a, 2, SIZE_MAX / 2 + 2, K_FOREVER));
	assert_time_stood_still();
	k_heap_free(&heap_a, busy);
	assert_int_equal(kt_heap_allocated_bytes(&heap_a), 0);
}

static void test_k_heap_aligned_alloc(void **state)
{
	(void)state;
	static const size_t sizes[] = {1, 8, 13, 64, 200, 1000};
	size_t initial_free = kt_heap_free_bytes(&heap_a);

	for (size_t align = 1; align <= 1024; align *= 2) {
		for (size_t s = 0; s < sizeof(sizes) / sizeof(sizes[0]); s++) {
			void *mem = k_heap_aligned_alloc(&heap_a, align,
							 sizes[s], K_NO_WAIT);

			assert_non_null(mem);
			assert_int_equal((uintptr_t)mem % align, 0);
			assert_int_equal((uintptr_t)mem % 8u, 0);
			assert_true(inside(mem, sizes[s], heap_a_region,
					   sizeof(heap_a_region)));
			fill_tokens(mem, sizes[s], (uint32_t)align);
			assert_true(kt_heap_valid(&heap_a));
			assert_tokens(mem, sizes[s], (uint32_t)align);
			k_heap_free(&heap_a, mem);
			assert_int_equal(kt_heap_free_bytes(&heap_a),
					 initial_free);
		}
	}
}

static void test_k_heap_calloc_overflow_both_orders(void **state)
{
	(void)state;
	const size_t half = SIZE_MAX / 2 + 1;

	assert_null(k_heap_calloc(&heap_a, half, 2, K_NO_WAIT));
	assert_null(k_heap_calloc(&heap_a, 2, half, K_NO_WAIT));
	assert_null(k_heap_calloc(&heap_a, SIZE_MAX, SIZE_MAX, K_NO_WAIT));
	assert_null(k_heap_calloc(&heap_a, HALF_WIDTH_POW2, HALF_WIDTH_POW2,
				  K_NO_WAIT));
	assert_null(k_heap_calloc(&heap_a, 3, SIZE_MAX / 3 + 1, K_NO_WAIT));
	assert_null(k_heap_calloc(&heap_a, SIZE_MAX / 3 + 1, 3, K_NO_WAIT));
	assert_int_equal(kt_heap_allocated_bytes(&heap_a), 0);
}

/* Leave the first bytes of the heap dirty, so that zeroing is real. */
static void dirty_heap(struct k_heap *heap, size_t bytes)
{
	void *mem = k_heap_alloc(heap, bytes, K_NO_WAIT);

	assert_non_null(mem);
	memset(mem, 0xa5, bytes);
	k_heap_free(heap, mem);
}

static void test_k_heap_calloc_zeroes(void **state)
{
	(void)state;
	static const size_t shapes[][2] = {{1, 1},   {3, 7},   {16, 16},
					   {1, 500}, {500, 1}, {25, 120}};

	for (size_t i = 0; i < sizeof(shapes) / sizeof(shapes[0]); i++) {
		size_t bytes = shapes[i][0] * shapes[i][1];

		dirty_heap(&heap_a, 3000);
		unsigned char *mem = k_heap_calloc(&heap_a, shapes[i][0],
						   shapes[i][1], K_NO_WAIT);

		assert_non_null(mem);
		assert_zero(mem, bytes);
		k_heap_free(&heap_a, mem);
	}
	assert_int_equal(kt_heap_allocated_bytes(&heap_a), 0);
}

static void test_k_heap_realloc(void **state)
{
	(void)state;
	size_t initial_free = kt_heap_free_bytes(&heap_a);

	/* NULL: allocates. */
	unsigned char *p = k_heap_realloc(&heap_a, NULL, 100, K_NO_WAIT);

	assert_non_null(p);
	fill_tokens(p, 100, 1);
	/* Grow: data kept (in place here: nothing follows the block). */
	unsigned char *grown = k_heap_realloc(&heap_a, p, 400, K_NO_WAIT);

	assert_non_null(grown);
	assert_tokens_moved(grown, 100, 1, p);
	fill_tokens(grown, 400, 2);
	/* Grow by moving when the right neighbour is live. */
	void *blocker = k_heap_alloc(&heap_a, 64, K_NO_WAIT);

	assert_non_null(blocker);
	unsigned char *moved = grown;
	if ((uintptr_t)blocker > (uintptr_t)grown) {
		moved = k_heap_realloc(&heap_a, grown, 1500, K_NO_WAIT);
		assert_non_null(moved);
		assert_ptr_not_equal(moved, grown);
		assert_tokens_moved(moved, 400, 2, grown);
		fill_tokens(moved, 1500, 3);
	}
	/* Shrink in place. */
	size_t before = kt_heap_allocated_bytes(&heap_a);
	unsigned char *shrunk = k_heap_realloc(&heap_a, moved, 40, K_NO_WAIT);

	assert_ptr_equal(shrunk, moved);
	assert_true(kt_heap_allocated_bytes(&heap_a) < before);
	/* Failure: too big now (K_NO_WAIT) and never possible (K_FOREVER,
	 * at once): NULL, block untouched. */
	fill_tokens(shrunk, 40, 4);
	before = kt_heap_allocated_bytes(&heap_a);
	assert_null(k_heap_realloc(&heap_a, shrunk, 4000, K_NO_WAIT));
	assert_null(k_heap_realloc(&heap_a, shrunk, SIZE_MAX, K_FOREVER));
	assert_tokens(shrunk, 40, 4);
	assert_int_equal(kt_heap_allocated_bytes(&heap_a), before);
	/* 0: frees and returns NULL. */
	assert_null(k_heap_realloc(&heap_a, shrunk, 0, K_NO_WAIT));
	k_heap_free(&heap_a, blocker);
	assert_int_equal(kt_heap_free_bytes(&heap_a), initial_free);
	assert_true(kt_heap_valid(&heap_a));
}

static void test_k_heap_free_null_is_noop(void **state)
{
	(void)state;
	struct sys_memory_stats before;
	struct sys_memory_stats after;

	kt_heap_stats(&heap_a, &before);
	k_heap_free(&heap_a, NULL);
	kt_heap_stats(&heap_a, &after);
	assert_memory_equal(&before, &after, sizeof(before));
}

/* ---- the k_malloc family ---------------------------------------------- */

static void test_k_malloc_zero_unique_and_freeable(void **state)
{
	(void)state;
	size_t initial_free = kt_heap_free_bytes(&_system_heap);
	void *blocks[8];

	for (int i = 0; i < 8; i++) {
		blocks[i] = k_malloc(0);
		assert_non_null(blocks[i]);
		for (int j = 0; j < i; j++) {
			assert_ptr_not_equal(blocks[i], blocks[j]);
		}
	}
	for (int i = 0; i < 8; i++) {
		k_free(blocks[i]);
	}
	assert_int_equal(kt_heap_free_bytes(&_system_heap), initial_free);
}

/*
 * k_malloc's heap reference costs one 8-byte slot on every pointer width:
 * a request of the largest free block minus that slot succeeds. (On
 * 32-bit targets a 4-byte reference placed by sys_heap's rewind form
 * made the heap search for two more chunks and refuse it.)
 */
static void test_k_malloc_largest_block_minus_ref_slot(void **state)
{
	(void)state;
	const size_t ref_slot_bytes = 8u;
	size_t largest = sys_heap_max_alloc_bytes(&_system_heap.heap);

	assert_true(largest > ref_slot_bytes);
	void *mem = k_malloc(largest - ref_slot_bytes);

	assert_non_null(mem);
	k_free(mem);
	assert_null(k_malloc(largest - ref_slot_bytes + 1u));
}

static void test_k_free_null_is_noop(void **state)
{
	(void)state;
	struct sys_memory_stats before;
	struct sys_memory_stats after;

	kt_heap_stats(&_system_heap, &before);
	kt_faults_expect();
	k_free(NULL);
	kt_faults_assert_none();
	kt_heap_stats(&_system_heap, &after);
	assert_memory_equal(&before, &after, sizeof(before));
}

static void test_k_calloc_overflow_both_orders(void **state)
{
	(void)state;
	const size_t half = SIZE_MAX / 2 + 1;
	size_t initial_free = kt_heap_free_bytes(&_system_heap);

	assert_null(k_calloc(half, 2));
	assert_null(k_calloc(2, half));
	assert_null(k_calloc(SIZE_MAX, SIZE_MAX));
	assert_null(k_calloc(3, SIZE_MAX / 3 + 1));
	assert_null(k_calloc(SIZE_MAX / 3 + 1, 3));
	/* The product fits but the heap reference does not. */
	assert_null(k_calloc(1, SIZE_MAX - 4));
	assert_null(k_calloc(SIZE_MAX - 4, 1));
	assert_int_equal(kt_heap_free_bytes(&_system_heap), initial_free);
}

static void test_k_calloc_zeroes(void **state)
{
	(void)state;
	static const size_t shapes[][2] = {{1, 1},   {4, 9},   {32, 32},
					   {1, 700}, {700, 1}, {0, 5}};
	size_t initial_free = kt_heap_free_bytes(&_system_heap);

	for (size_t i = 0; i < sizeof(shapes) / sizeof(shapes[0]); i++) {
		size_t bytes = shapes[i][0] * shapes[i][1];
		void *dirty = k_malloc(4000);

		assert_non_null(dirty);
		memset(dirty, 0x5a, 4000);
		k_free(dirty);
		unsigned char *mem = k_calloc(shapes[i][0], shapes[i][1]);

		assert_non_null(mem);
		assert_int_equal((uintptr_t)mem % KMALLOC_ALIGN, 0);
		assert_zero(mem, bytes);
		k_free(mem);
	}
	assert_int_equal(kt_heap_free_bytes(&_system_heap), initial_free);
}

static void test_k_realloc_zero_frees(void **state)
{
	(void)state;
	size_t initial_free = kt_heap_free_bytes(&_system_heap);
	void *mem = k_malloc(300);

	assert_non_null(mem);
	assert_true(kt_heap_free_bytes(&_system_heap) < initial_free);
	kt_faults_expect();
	assert_null(k_realloc(mem, 0));
	/* k_realloc(NULL, 0) frees nothing and allocates nothing. */
	assert_null(k_realloc(NULL, 0));
	kt_faults_assert_none();
	assert_int_equal(kt_heap_free_bytes(&_system_heap), initial_free);
}

static void test_k_realloc_null_is_k_malloc(void **state)
{
	(void)state;
	size_t initial_free = kt_heap_free_bytes(&_system_heap);
	unsigned char *mem = k_realloc(NULL, 100);

	assert_non_null(mem);
	assert_int_equal((uintptr_t)mem % KMALLOC_ALIGN, 0);
	size_t taken = initial_free - kt_heap_free_bytes(&_system_heap);

	fill_tokens(mem, 100, 7);
	k_free(mem);
	/* Exactly what k_malloc takes for the same size. */
	mem = k_malloc(100);
	assert_non_null(mem);
	assert_int_equal(initial_free - kt_heap_free_bytes(&_system_heap),
			 taken);
	k_free(mem);
	assert_int_equal(kt_heap_free_bytes(&_system_heap), initial_free);
}

/* Two adjacent k_malloc blocks, lower address first. */
static void adjacent_pair(size_t bytes, unsigned char **low,
			  unsigned char **high)
{
	unsigned char *a = k_malloc(bytes);
	unsigned char *b = k_malloc(bytes);

	assert_non_null(a);
	assert_non_null(b);
	*low = a < b ? a : b;
	*high = a < b ? b : a;
	/* Nothing else is allocated, so they are neighbours. */
	assert_true((size_t)(*high - *low) <= bytes + 32u);
}

static void test_k_realloc_grow_in_place(void **state)
{
	(void)state;
	size_t initial_free = kt_heap_free_bytes(&_system_heap);
	unsigned char *low;
	unsigned char *high;

	adjacent_pair(64, &low, &high);
	fill_tokens(low, 64, 11);
	k_free(high); /* the right neighbour is free now */
	unsigned char *grown = k_realloc(low, 1000);

	assert_ptr_equal(grown, low);
	assert_tokens(grown, 64, 11);
	fill_tokens(grown, 1000, 12);
	assert_true(kt_heap_valid(&_system_heap));
	assert_tokens(grown, 1000, 12);
	k_free(grown);
	assert_int_equal(kt_heap_free_bytes(&_system_heap), initial_free);
}

static void test_k_realloc_grow_moves_keeping_data(void **state)
{
	(void)state;
	size_t initial_free = kt_heap_free_bytes(&_system_heap);
	unsigned char *low;
	unsigned char *high;

	adjacent_pair(64, &low, &high);
	fill_tokens(low, 64, 21);
	fill_tokens(high, 64, 22);
	unsigned char *moved = k_realloc(low, 1000);

	assert_non_null(moved);
	assert_ptr_not_equal(moved, low);
	assert_int_equal((uintptr_t)moved % KMALLOC_ALIGN, 0);
	assert_tokens_moved(moved, 64, 21, low);
	assert_tokens(high, 64, 22);
	/* The old block went back to the heap: the block and its neighbour
	 * are all that is allocated. */
	k_free(high);
	k_free(moved);
	assert_int_equal(kt_heap_free_bytes(&_system_heap), initial_free);
}

static void test_k_realloc_shrink_in_place(void **state)
{
	(void)state;
	size_t initial_free = kt_heap_free_bytes(&_system_heap);
	unsigned char *mem = k_malloc(1000);

	assert_non_null(mem);
	fill_tokens(mem, 1000, 31);
	size_t free_before = kt_heap_free_bytes(&_system_heap);
	unsigned char *shrunk = k_realloc(mem, 24);

	assert_ptr_equal(shrunk, mem);
	assert_tokens(shrunk, 24, 31);
	assert_true(kt_heap_free_bytes(&_system_heap) > free_before);
	k_free(shrunk);
	assert_int_equal(kt_heap_free_bytes(&_system_heap), initial_free);
}

static void test_k_realloc_failure_keeps_block(void **state)
{
	(void)state;
	size_t initial_free = kt_heap_free_bytes(&_system_heap);
	unsigned char *mem = k_malloc(100);

	assert_non_null(mem);
	fill_tokens(mem, 100, 41);
	size_t free_before = kt_heap_free_bytes(&_system_heap);

	assert_null(k_realloc(mem, SIZE_MAX));
	assert_null(k_realloc(mem, SIZE_MAX - 7));
	assert_null(k_realloc(mem, CONFIG_HEAP_MEM_POOL_SIZE));
	assert_tokens(mem, 100, 41);
	assert_int_equal(kt_heap_free_bytes(&_system_heap), free_before);

	/* Full heap: a size that would fit an empty heap fails too. */
	void *fillers[256];
	size_t count = 0;

	while (count < 256 && (fillers[count] = k_malloc(200)) != NULL) {
		count++;
	}
	assert_true(count > 0 && count < 256);
	free_before = kt_heap_free_bytes(&_system_heap);
	assert_null(k_realloc(mem, 2000));
	assert_tokens(mem, 100, 41);
	assert_int_equal(kt_heap_free_bytes(&_system_heap), free_before);
	for (size_t i = 0; i < count; i++) {
		k_free(fillers[i]);
	}
	k_free(mem);
	assert_int_equal(kt_heap_free_bytes(&_system_heap), initial_free);
}

static void test_k_aligned_alloc_sweep(void **state)
{
	(void)state;
	static const size_t sizes[] = {0, 1, 7, 8, 9, 24, 100, 1000, 3000};
	size_t initial_free = kt_heap_free_bytes(&_system_heap);
	unsigned int allocations = 0;

	for (size_t align = 1; align <= 4096; align *= 2) {
		size_t want = align < KMALLOC_ALIGN ? KMALLOC_ALIGN : align;

		for (size_t s = 0; s < sizeof(sizes) / sizeof(sizes[0]); s++) {
			/* 0..2 small blocks first shift where it lands. */
			for (int prefix = 0; prefix < 3; prefix++) {
				void *before[2] = {NULL, NULL};

				for (int i = 0; i < prefix; i++) {
					before[i] = k_malloc(24);
					assert_non_null(before[i]);
				}
				unsigned char *mem =
					k_aligned_alloc(align, sizes[s]);

				assert_non_null(mem);
				assert_int_equal((uintptr_t)mem % want, 0);
				fill_tokens(mem, sizes[s], (uint32_t)align);
				assert_true(kt_heap_valid(&_system_heap));
				assert_tokens(mem, sizes[s], (uint32_t)align);
				k_free(mem);
				for (int i = 0; i < prefix; i++) {
					k_free(before[i]);
				}
				assert_int_equal(
					kt_heap_free_bytes(&_system_heap),
					initial_free);
				allocations++;
			}
		}
	}
	printf("# %u aligned allocations, heap back to %zu free bytes each "
	       "time\n",
	       allocations, initial_free);
}

/* The heap reference rewind: an aligned block costs no more heap than an
 * unaligned one of the same size. */
static void test_k_aligned_alloc_wastes_no_padding(void **state)
{
	(void)state;
	size_t initial_free = kt_heap_free_bytes(&_system_heap);
	void *plain = k_malloc(100);

	assert_non_null(plain);
	size_t plain_cost = initial_free - kt_heap_free_bytes(&_system_heap);

	k_free(plain);
	for (size_t align = 16; align <= 1024; align *= 2) {
		void *mem = k_aligned_alloc(align, 100);

		assert_non_null(mem);
		size_t cost = initial_free - kt_heap_free_bytes(&_system_heap);

		if (cost > plain_cost + 8u) {
			fail_msg("align %zu costs %zu bytes, unaligned %zu",
				 align, cost, plain_cost);
		}
		k_free(mem);
	}
	assert_int_equal(kt_heap_free_bytes(&_system_heap), initial_free);
}

/* Alignments that are not powers of two are faults, then NULL; powers of
 * two too large for the heap are NULL without a fault. */
static void test_k_aligned_alloc_malformed_align(void **state)
{
	(void)state;
	static const size_t bad[] = {
		3, 5, 6, 12, 24, 48, 0x1001, (size_t)3 << 20, SIZE_MAX};
	static const size_t too_large[] = {SIZE_MAX / 2 + 1, HUGE_POW2_BYTES};
	size_t initial_free = kt_heap_free_bytes(&_system_heap);

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		kt_faults_expect();
		assert_null(k_aligned_alloc(bad[i], 16));
		kt_faults_assert_one("k_aligned_alloc",
				     "alignment is not a power of two",
				     &_system_heap, NULL);
	}
	for (size_t i = 0; i < sizeof(too_large) / sizeof(too_large[0]); i++) {
		assert_null(k_aligned_alloc(too_large[i], 16));
	}
	assert_int_equal(kt_heap_free_bytes(&_system_heap), initial_free);
}

static void test_k_malloc_blocks_8_byte_aligned(void **state)
{
	(void)state;
	size_t initial_free = kt_heap_free_bytes(&_system_heap);
	void *blocks[128];

	for (size_t size = 0; size < 128; size++) {
		blocks[size] = k_malloc(size);
		assert_non_null(blocks[size]);
		assert_int_equal((uintptr_t)blocks[size] % KMALLOC_ALIGN, 0);
		fill_tokens(blocks[size], size, (uint32_t)size);
	}
	for (size_t size = 0; size < 128; size++) {
		assert_tokens(blocks[size], size, (uint32_t)size);
		k_free(blocks[size]);
	}
	assert_int_equal(kt_heap_free_bytes(&_system_heap), initial_free);
}

/* A thread whose pool is heap_a allocates; main frees. */
static void *pool_thread_block;

static void pool_thread_entry(void *p1, void *p2, void *p3)
{
	(void)p1;
	(void)p2;
	(void)p3;
	pool_thread_block = z_thread_malloc(200);
}

static void test_k_free_returns_block_to_its_own_heap(void **state)
{
	(void)state;
	size_t system_free = kt_heap_free_bytes(&_system_heap);
	size_t pool_free = kt_heap_free_bytes(&heap_a);
	k_tid_t thread = kt_spawn(1, pool_thread_entry, NULL, NULL,
				  K_PRIO_PREEMPT(1), K_FOREVER);

	k_thread_heap_assign(thread, &heap_a);
	k_thread_start(thread);
	kt_join_all();

	assert_non_null(pool_thread_block);
	assert_true(inside(pool_thread_block, 200, heap_a_region,
			   sizeof(heap_a_region)));
	assert_true(kt_heap_free_bytes(&heap_a) < pool_free);
	assert_int_equal(kt_heap_free_bytes(&_system_heap), system_free);
	/* Grow it: stays in its heap. */
	void *grown = k_realloc(pool_thread_block, 2000);

	assert_non_null(grown);
	assert_true(inside(grown, 2000, heap_a_region, sizeof(heap_a_region)));
	assert_int_equal(kt_heap_free_bytes(&_system_heap), system_free);
	k_free(grown);
	assert_int_equal(kt_heap_free_bytes(&heap_a), pool_free);
	assert_int_equal(kt_heap_free_bytes(&_system_heap), system_free);
	assert_true(kt_heap_valid(&heap_a));
}

/* ---- misuse, reported through the port's fault hook ------------------- */

static const char no_heap_ref_message[] = "no heap reference";

static void test_k_free_double_free_reported(void **state)
{
	(void)state;
	size_t initial_free = kt_heap_free_bytes(&_system_heap);
	void *keep = k_malloc(40);
	void *mem = k_malloc(40);
	void *after = k_malloc(40);

	k_free(mem);
	size_t free_before = kt_heap_free_bytes(&_system_heap);

	kt_faults_expect();
	k_free(mem);
	/* Either the heap reference below it is gone (overwritten by the
	 * free block's links) or sys_heap sees a free block. */
	unsigned int faults = sim_fault_count();
	const char *operation = sim_fault_last_operation();

	if (strcmp(operation, "k_free") == 0) {
		kt_faults_assert_one("k_free", no_heap_ref_message, NULL, mem);
	} else {
		kt_faults_assert_one(
			"free",
			sys_heap_fault_message(SYS_HEAP_FAULT_NOT_ALLOCATED),
			&_system_heap.heap, NULL);
	}
	assert_int_equal(faults, 1);
	assert_int_equal(kt_heap_free_bytes(&_system_heap), free_before);
	assert_true(kt_heap_valid(&_system_heap));
	k_free(keep);
	k_free(after);
	assert_int_equal(kt_heap_free_bytes(&_system_heap), initial_free);
}

static void test_k_free_stack_pointer_reported(void **state)
{
	(void)state;
	/* words[0] is what k_free reads as the heap reference. */
	uintptr_t words[4] = {0x1234567u, 0, 0, 0};
	size_t initial_free = kt_heap_free_bytes(&_system_heap);

	kt_faults_expect();
	k_free(&words[1]);
	kt_faults_assert_one("k_free", no_heap_ref_message, NULL, &words[1]);

	/* A forged reference to the system heap: the heap itself refuses
	 * the pointer. */
	words[0] = (uintptr_t)&_system_heap;
	kt_faults_expect();
	k_free(&words[1]);
	kt_faults_assert_one("free",
			     sys_heap_fault_message(SYS_HEAP_FAULT_BAD_POINTER),
			     &_system_heap.heap, NULL);
	assert_int_equal(kt_heap_free_bytes(&_system_heap), initial_free);
	assert_true(kt_heap_valid(&_system_heap));
}

static void test_k_free_pointer_not_from_k_malloc_reported(void **state)
{
	(void)state;
	size_t heap_a_free = kt_heap_free_bytes(&heap_a);
	size_t system_free = kt_heap_free_bytes(&_system_heap);
	unsigned char *mem = k_heap_alloc(&heap_a, 64, K_NO_WAIT);

	assert_non_null(mem);
	/* A k_heap_alloc block has no heap reference below it. */
	kt_faults_expect();
	k_free(mem);
	kt_faults_assert_one("k_free", no_heap_ref_message, NULL, mem);

	/* An interior pointer of a k_malloc block: user data below it. */
	unsigned char *block = k_malloc(64);

	assert_non_null(block);
	memset(block, 0, 64);
	kt_faults_expect();
	k_free(block + 16);
	kt_faults_assert_one("k_free", no_heap_ref_message, NULL, block + 16);

	k_free(block);
	k_heap_free(&heap_a, mem);
	assert_int_equal(kt_heap_free_bytes(&heap_a), heap_a_free);
	assert_int_equal(kt_heap_free_bytes(&_system_heap), system_free);
}

static void test_k_heap_free_foreign_pointer_reported(void **state)
{
	(void)state;
	void *from_a = k_heap_alloc(&heap_a, 64, K_NO_WAIT);
	struct sys_memory_stats a_before;
	struct sys_memory_stats b_before;
	struct sys_memory_stats a_after;
	struct sys_memory_stats b_after;

	assert_non_null(from_a);
	kt_heap_stats(&heap_a, &a_before);
	kt_heap_stats(&heap_b, &b_before);
	kt_faults_expect();
	k_heap_free(&heap_b, from_a);
	kt_faults_assert_one("free",
			     sys_heap_fault_message(SYS_HEAP_FAULT_BAD_POINTER),
			     &heap_b.heap, from_a);
	kt_heap_stats(&heap_a, &a_after);
	kt_heap_stats(&heap_b, &b_after);
	assert_memory_equal(&a_before, &a_after, sizeof(a_before));
	assert_memory_equal(&b_before, &b_after, sizeof(b_before));
	assert_true(kt_heap_valid(&heap_a));
	assert_true(kt_heap_valid(&heap_b));
	k_heap_free(&heap_a, from_a);
	assert_int_equal(kt_heap_allocated_bytes(&heap_a), 0);
}

static void test_k_heap_double_free_reported(void **state)
{
	(void)state;
	void *keep = k_heap_alloc(&heap_a, 64, K_NO_WAIT);
	void *mem = k_heap_alloc(&heap_a, 64, K_NO_WAIT);

	assert_non_null(keep);
	assert_non_null(mem);
	k_heap_free(&heap_a, mem);
	size_t free_before = kt_heap_free_bytes(&heap_a);

	kt_faults_expect();
	k_heap_free(&heap_a, mem);
	kt_faults_assert_one(
		"free", sys_heap_fault_message(SYS_HEAP_FAULT_NOT_ALLOCATED),
		&heap_a.heap, mem);
	assert_int_equal(kt_heap_free_bytes(&heap_a), free_before);
	k_heap_free(&heap_a, keep);
	assert_int_equal(kt_heap_allocated_bytes(&heap_a), 0);
}

/* ---- ISR context ------------------------------------------------------- */

struct isr_calls {
	void *alloc_forever;
	void *alloc_timeout;
	void *realloc_forever;
	void *calloc_forever;
	void *block; /* a block of heap_a for the realloc */
	unsigned int faults_after_alloc;
	const char *operation;
	const char *message;
};

static void blocking_calls_in_isr(const void *arg)
{
	struct isr_calls *calls = (struct isr_calls *)arg;

	calls->alloc_forever = k_heap_alloc(&heap_a, 16, K_FOREVER);
	calls->faults_after_alloc = sim_fault_count();
	calls->operation = sim_fault_last_operation();
	calls->message = sim_fault_last_message();
	calls->alloc_timeout = k_heap_alloc(&heap_a, 16, K_MSEC(10));
	calls->realloc_forever =
		k_heap_realloc(&heap_a, calls->block, 200, K_FOREVER);
	calls->calloc_forever = k_heap_calloc(&heap_a, 2, 8, K_FOREVER);
}

static void test_blocking_alloc_from_isr_reported(void **state)
{
	(void)state;
	struct isr_calls calls = {0};

	calls.block = k_heap_alloc(&heap_a, 32, K_NO_WAIT);
	assert_non_null(calls.block);
	size_t allocated = kt_heap_allocated_bytes(&heap_a);

	kt_faults_expect();
	irq_offload(blocking_calls_in_isr, &calls);
	unsigned int faults = sim_fault_count();

	(void)sim_fault_capture(false);
	assert_null(calls.alloc_forever);
	assert_null(calls.alloc_timeout);
	assert_null(calls.realloc_forever);
	assert_null(calls.calloc_forever);
	assert_int_equal(calls.faults_after_alloc, 1);
	assert_string_equal(calls.operation, "k_heap_alloc");
	assert_non_null(strstr(calls.message, "ISR"));
	assert_int_equal(faults, 4);
	assert_int_equal(kt_heap_allocated_bytes(&heap_a), allocated);
	assert_int_equal(k_uptime_ticks(), 0);
	k_heap_free(&heap_a, calls.block);
	assert_int_equal(kt_heap_allocated_bytes(&heap_a), 0);
}

struct isr_work {
	void *thread_block; /* allocated by the thread, freed in the ISR */
	bool in_isr;
	bool heap_alloc_ok;
	bool calloc_ok;
	bool realloc_ok;
	bool kmalloc_ok;
	void *kept; /* allocated in the ISR, freed by the thread */
};

static void no_wait_calls_in_isr(const void *arg)
{
	struct isr_work *work = (struct isr_work *)arg;

	work->in_isr = k_is_in_isr();
	void *mem = k_heap_alloc(&heap_a, 100, K_NO_WAIT);

	work->heap_alloc_ok = mem != NULL;
	void *bigger = k_heap_realloc(&heap_a, mem, 300, K_NO_WAIT);

	work->realloc_ok = bigger != NULL;
	k_heap_free(&heap_a, bigger != NULL ? bigger : mem);
	unsigned char *zeroed = k_heap_calloc(&heap_a, 10, 10, K_NO_WAIT);

	work->calloc_ok = zeroed != NULL && zeroed[0] == 0 && zeroed[99] == 0;
	k_heap_free(&heap_a, zeroed);
	void *small = k_malloc(50);

	work->kmalloc_ok = small != NULL;
	k_free(small);
	k_heap_free(&heap_a, work->thread_block);
	work->kept = k_malloc(20);
}

static void test_no_wait_alloc_and_free_from_isr(void **state)
{
	(void)state;
	struct isr_work work = {0};
	size_t system_free = kt_heap_free_bytes(&_system_heap);

	work.thread_block = k_heap_alloc(&heap_a, 64, K_NO_WAIT);
	assert_non_null(work.thread_block);
	kt_faults_expect();
	irq_offload(no_wait_calls_in_isr, &work);
	kt_faults_assert_none();
	assert_true(work.in_isr);
	assert_false(k_is_in_isr());
	assert_true(work.heap_alloc_ok);
	assert_true(work.realloc_ok);
	assert_true(work.calloc_ok);
	assert_true(work.kmalloc_ok);
	assert_non_null(work.kept);
	k_free(work.kept);
	assert_int_equal(kt_heap_allocated_bytes(&heap_a), 0);
	assert_int_equal(kt_heap_free_bytes(&_system_heap), system_free);
}

int main(int argc, char **argv)
{
	main_has_started = true;
	kt_program_args(argc, argv);
	const struct CMUnitTest tests[] = {
#define KT_TEST(name) cmocka_unit_test_setup_teardown(name, setup, teardown)
		/* Before anything else touches the static heaps. */
		KT_TEST(test_k_heap_define_initialised_on_first_use),
		KT_TEST(test_k_heap_define_usable_before_main),
		KT_TEST(test_k_heap_array_get_lists_static_heaps),
		KT_TEST(test_k_heap_define_tiny_one_byte_block),
		KT_TEST(test_k_heap_init_ok),
		KT_TEST(test_k_heap_init_too_small),
		KT_TEST(test_k_heap_init_storage_reused),
		KT_TEST(test_k_heap_alloc_zero_returns_null_at_once),
		KT_TEST(test_k_heap_alloc_impossible_returns_null_at_once),
		KT_TEST(test_k_heap_aligned_alloc),
		KT_TEST(test_k_heap_calloc_overflow_both_orders),
		KT_TEST(test_k_heap_calloc_zeroes),
		KT_TEST(test_k_heap_realloc),
		KT_TEST(test_k_heap_free_null_is_noop),
		KT_TEST(test_k_malloc_zero_unique_and_freeable),
		KT_TEST(test_k_malloc_largest_block_minus_ref_slot),
		KT_TEST(test_k_free_null_is_noop),
		KT_TEST(test_k_calloc_overflow_both_orders),
		KT_TEST(test_k_calloc_zeroes),
		KT_TEST(test_k_realloc_zero_frees),
		KT_TEST(test_k_realloc_null_is_k_malloc),
		KT_TEST(test_k_realloc_grow_in_place),
		KT_TEST(test_k_realloc_grow_moves_keeping_data),
		KT_TEST(test_k_realloc_shrink_in_place),
		KT_TEST(test_k_realloc_failure_keeps_block),
		KT_TEST(test_k_aligned_alloc_sweep),
		KT_TEST(test_k_aligned_alloc_wastes_no_padding),
		KT_TEST(test_k_aligned_alloc_malformed_align),
		KT_TEST(test_k_malloc_blocks_8_byte_aligned),
		KT_TEST(test_k_free_returns_block_to_its_own_heap),
		KT_TEST(test_k_free_double_free_reported),
		KT_TEST(test_k_free_stack_pointer_reported),
		KT_TEST(test_k_free_pointer_not_from_k_malloc_reported),
		KT_TEST(test_k_heap_free_foreign_pointer_reported),
		KT_TEST(test_k_heap_double_free_reported),
		KT_TEST(test_blocking_alloc_from_isr_reported),
		KT_TEST(test_no_wait_alloc_and_free_from_isr),
#undef KT_TEST
	};
	return cmocka_run_group_tests_name("kernel layer API", tests, NULL,
					   NULL);
}
