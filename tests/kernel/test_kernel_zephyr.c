/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The kernel layer as Zephyr documents it, on the simulator:
 *
 * - Alignment: every kernel entry point that takes one (k_heap_aligned_alloc,
 *   k_aligned_alloc, z_thread_aligned_alloc) refuses anything but 0 or a
 *   power of two with a fault and NULL, at once even with K_FOREVER, from
 *   threads and ISRs, and the heap is left unchanged; 0 and powers of two
 *   are honoured.
 * - The system heap: K_HEAP_MEM_POOL_SIZE is the configured size, the
 *   heap's region is Z_HEAP_MIN_SIZE_FOR(K_HEAP_MEM_POOL_SIZE) (the
 *   configured bytes stay usable, the metadata comes on top), and a fresh
 *   system heap serves one k_malloc(K_HEAP_MEM_POOL_SIZE - 8) and lets it
 *   grow by realloc; K_HEAP_DEFINE with Z_HEAP_MIN_SIZE_FOR serves its
 *   request.
 * - Raw sys_heaps report where the kernel's do: their faults reach
 *   kheap_port_fault and sys_heap_print_info prints through printk
 *   (stdout). (raw_heap_program.c checks the same in a program that uses
 *   nothing but a raw sys_heap.)
 *
 * Built twice (tests/kernel/CMakeLists.txt): with the default system heap
 * and with CONFIG_HEAP_MEM_POOL_SIZE=256.
 *
 * Usage: test_kernel_zephyr [test-name-pattern]
 */
#include "kernel_test.h"

#include <string.h>
#include <unistd.h>

#include <zephyr/irq_offload.h>

/* k_malloc's bookkeeping per block: the heap reference (and, with 4-byte
 * pointers, the padding that keeps blocks 8-byte aligned). */
#define KMALLOC_OVERHEAD_BYTES 8u

K_HEAP_DEFINE(heap_for_500, Z_HEAP_MIN_SIZE_FOR(500));
K_HEAP_DEFINE(work_heap, 8192);

static const size_t malformed[] = {
	3,        5,      6,        12,
	24,       64 | 8, /* sys_heap's rewind form: for sys_heap only */
	4096 | 4, 0x1001, SIZE_MAX, (size_t)3 << 20,
};

static const char not_power_of_two[] = "alignment is not a power of two";

static int setup(void **state)
{
	return kt_setup_det(state);
}

static int teardown(void **state)
{
	(void)state;
	k_thread_heap_assign(k_current_get(), NULL);
	kt_faults_assert_none();
	return 0;
}

/* ---- alignment ----------------------------------------------------------- */

static void test_k_heap_aligned_alloc_refuses_non_power_of_two(void **state)
{
	(void)state;
	size_t free_before = kt_heap_free_bytes(&work_heap);

	for (size_t i = 0; i < sizeof(malformed) / sizeof(malformed[0]); i++) {
		kt_faults_expect();
		assert_null(k_heap_aligned_alloc(&work_heap, malformed[i], 64,
						 K_NO_WAIT));
		kt_faults_assert_one("k_heap_aligned_alloc", not_power_of_two,
				     &work_heap, NULL);

		/* At once, even when told to wait for ever. */
		int64_t start = k_uptime_ticks();

		kt_faults_expect();
		assert_null(k_heap_aligned_alloc(&work_heap, malformed[i], 64,
						 K_FOREVER));
		kt_faults_assert_one("k_heap_aligned_alloc", not_power_of_two,
				     &work_heap, NULL);
		assert_int_equal(k_uptime_ticks(), start);
	}
	assert_int_equal(kt_heap_free_bytes(&work_heap), free_before);
}

static void test_k_aligned_alloc_refuses_non_power_of_two(void **state)
{
	(void)state;
	size_t free_before = kt_heap_free_bytes(&_system_heap);

	for (size_t i = 0; i < sizeof(malformed) / sizeof(malformed[0]); i++) {
		kt_faults_expect();
		assert_null(k_aligned_alloc(malformed[i], 16));
		kt_faults_assert_one("k_aligned_alloc", not_power_of_two,
				     &_system_heap, NULL);
	}
	assert_int_equal(kt_heap_free_bytes(&_system_heap), free_before);
}

static void test_z_thread_aligned_alloc_refuses_non_power_of_two(void **state)
{
	(void)state;
	size_t free_before = kt_heap_free_bytes(&work_heap);

	/* With a pool, so that only the alignment stands in the way. */
	k_thread_heap_assign(k_current_get(), &work_heap);
	for (size_t i = 0; i < sizeof(malformed) / sizeof(malformed[0]); i++) {
		kt_faults_expect();
		assert_null(z_thread_aligned_alloc(malformed[i], 16));
		kt_faults_assert_one("z_thread_aligned_alloc", not_power_of_two,
				     NULL, NULL);
	}
	void *mem = z_thread_aligned_alloc(64, 16);

	assert_non_null(mem);
	assert_int_equal((uintptr_t)mem % 64u, 0);
	k_free(mem);
	assert_int_equal(kt_heap_free_bytes(&work_heap), free_before);
}

static void isr_aligned_alloc(const void *arg)
{
	void **result = (void **)(uintptr_t)arg;

	result[0] = k_heap_aligned_alloc(&work_heap, 3, 64, K_NO_WAIT);
	result[1] = k_aligned_alloc(24, 16);
}

static void test_alignment_refused_in_isr(void **state)
{
	(void)state;
	void *result[2] = {&result, &result};

	kt_faults_expect();
	irq_offload(isr_aligned_alloc, result);
	/* Two faults: capture keeps the count and the last. */
	assert_int_equal(sim_fault_count(), 2);
	assert_string_equal(sim_fault_last_operation(), "k_aligned_alloc");
	assert_string_equal(sim_fault_last_message(), not_power_of_two);
	(void)sim_fault_capture(false);
	sim_fault_clear();
	assert_null(result[0]);
	assert_null(result[1]);
}

static void test_powers_of_two_and_zero_honoured(void **state)
{
	(void)state;
	size_t free_before = kt_heap_free_bytes(&work_heap);

	for (size_t align = 1; align <= 4096u; align <<= 1) {
		void *block =
			k_heap_aligned_alloc(&work_heap, align, 100, K_NO_WAIT);

		assert_non_null(block);
		assert_int_equal((uintptr_t)block % align, 0);
		memset(block, 0x5a, 100);
		k_heap_free(&work_heap, block);
		/* The system heap may be small (256 bytes): alignments that
		 * leave room for the padding. */
		if (2u * align + 100u > K_HEAP_MEM_POOL_SIZE) {
			continue;
		}
		void *mem = k_aligned_alloc(align, 100);

		assert_non_null(mem);
		assert_int_equal((uintptr_t)mem % align, 0);
		memset(mem, 0xa5, 100);
		k_free(mem);
	}
	void *block = k_heap_aligned_alloc(&work_heap, 0, 100, K_NO_WAIT);
	void *mem = k_aligned_alloc(0, 100);

	assert_non_null(block);
	assert_non_null(mem);
	assert_int_equal((uintptr_t)block % 8u, 0);
	assert_int_equal((uintptr_t)mem % 8u, 0);
	k_heap_free(&work_heap, block);
	k_free(mem);
	assert_int_equal(kt_heap_free_bytes(&work_heap), free_before);
}

/* ---- the system heap ------------------------------------------------------ */

static void test_system_heap_sized_as_zephyr(void **state)
{
	(void)state;
	assert_int_equal(K_HEAP_MEM_POOL_SIZE, CONFIG_HEAP_MEM_POOL_SIZE);
	/* The region is the configured size plus the metadata. */
	assert_int_equal(_system_heap.init_bytes,
			 Z_HEAP_MIN_SIZE_FOR(K_HEAP_MEM_POOL_SIZE));
	assert_true(_system_heap.init_bytes > K_HEAP_MEM_POOL_SIZE);
	/* Nothing else is using it: the whole configured size is there. */
	assert_int_equal(kt_heap_allocated_bytes(&_system_heap), 0);
	assert_true(sys_heap_max_alloc_bytes(&_system_heap.heap) >=
		    K_HEAP_MEM_POOL_SIZE);

	unsigned char *mem =
		k_malloc(K_HEAP_MEM_POOL_SIZE - KMALLOC_OVERHEAD_BYTES);

	assert_non_null(mem);
	memset(mem, 0x3c, K_HEAP_MEM_POOL_SIZE - KMALLOC_OVERHEAD_BYTES);
	assert_null(k_malloc(1));
	k_free(mem);
	assert_int_equal(kt_heap_allocated_bytes(&_system_heap), 0);
}

/* A block of half the configured size grows by realloc to the whole of
 * it, keeping its bytes, and a second allocation then still fits after
 * a shrink. */
static void test_system_heap_realloc_to_configured_size(void **state)
{
	(void)state;
	const size_t most = K_HEAP_MEM_POOL_SIZE - KMALLOC_OVERHEAD_BYTES;
	const size_t half = most / 2u;
	unsigned char *mem = k_malloc(half);

	assert_non_null(mem);
	for (size_t i = 0; i < half; i++) {
		mem[i] = (unsigned char)i;
	}
	unsigned char *grown = k_realloc(mem, most);

	assert_non_null(grown);
	for (size_t i = 0; i < half; i++) {
		assert_int_equal(grown[i], (unsigned char)i);
	}
	unsigned char *shrunk = k_realloc(grown, 16);

	assert_ptr_equal(shrunk, grown);
	void *other = k_malloc(half);

	assert_non_null(other);
	k_free(other);
	k_free(shrunk);
	assert_int_equal(kt_heap_allocated_bytes(&_system_heap), 0);
}

static void test_k_heap_define_with_min_size_for(void **state)
{
	(void)state;
	assert_int_equal(heap_for_500.init_bytes, Z_HEAP_MIN_SIZE_FOR(500));
	void *mem = k_heap_alloc(&heap_for_500, 500, K_NO_WAIT);

	assert_non_null(mem);
	memset(mem, 0x77, 500);
	k_heap_free(&heap_for_500, mem);
	assert_true(kt_heap_valid(&heap_for_500));
}

/* ---- raw sys_heaps ---------------------------------------------------------- */

static _Alignas(8) unsigned char raw_region[1024];

/* A raw heap with one live and one freed block. */
static void raw_heap_with_a_freed_block(struct sys_heap *heap, void **live,
					void **freed)
{
	assert_int_equal(sys_heap_init(heap, raw_region, sizeof(raw_region)),
			 0);
	*live = sys_heap_alloc(heap, 40);
	*freed = sys_heap_alloc(heap, 24);
	assert_non_null(*live);
	assert_non_null(*freed);
	sys_heap_free(heap, *freed);
}

static void test_raw_heap_fault_reaches_the_port(void **state)
{
	(void)state;
	struct sys_heap heap;
	void *live;
	void *freed;

	raw_heap_with_a_freed_block(&heap, &live, &freed);
	kt_faults_expect();
	sys_heap_free(&heap, freed);
	kt_faults_assert_one(
		"free", sys_heap_fault_message(SYS_HEAP_FAULT_NOT_ALLOCATED),
		&heap, freed);
	assert_true(sys_heap_validate(&heap));
	sys_heap_free(&heap, live);
}

static struct sys_heap printed_heap;

static void print_raw_heap(void *arg)
{
	(void)arg;
	sys_heap_print_info(&printed_heap, true);
}

static void capture_text(void *ctx, const char *text)
{
	char *buf = ctx;

	strncat(buf, text, 4095u - strlen(buf));
}

static void test_raw_heap_print_info_through_printk(void **state)
{
	(void)state;
	static char printed[4096];
	static char expected[4096];
	void *live;
	void *freed;

	raw_heap_with_a_freed_block(&printed_heap, &live, &freed);
	kt_capture_fd(STDOUT_FILENO, print_raw_heap, NULL, printed,
		      sizeof(printed));
	expected[0] = '\0';
	sys_heap_print_info_to(&printed_heap, true, capture_text, expected);
	assert_true(strlen(expected) > 100u);
	assert_string_equal(printed, expected);
	sys_heap_free(&printed_heap, live);
}

int main(int argc, char **argv)
{
	kt_program_args(argc, argv);
	const struct CMUnitTest tests[] = {
#define KT_TEST(name) cmocka_unit_test_setup_teardown(name, setup, teardown)
		/* First, while the system heap is fresh. */
		KT_TEST(test_system_heap_sized_as_zephyr),
		KT_TEST(test_system_heap_realloc_to_configured_size),
		KT_TEST(test_k_heap_define_with_min_size_for),
		KT_TEST(test_k_heap_aligned_alloc_refuses_non_power_of_two),
		KT_TEST(test_k_aligned_alloc_refuses_non_power_of_two),
		KT_TEST(test_z_thread_aligned_alloc_refuses_non_power_of_two),
		KT_TEST(test_alignment_refused_in_isr),
		KT_TEST(test_powers_of_two_and_zero_honoured),
		KT_TEST(test_raw_heap_fault_reaches_the_port),
		KT_TEST(test_raw_heap_print_info_through_printk),
#undef KT_TEST
	};
	return cmocka_run_group_tests_name("kernel layer, Zephyr fidelity",
					   tests, NULL, NULL);
}
