/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The kernel layer built with CONFIG_HEAP_MEM_POOL_SIZE=0 (Zephyr's "no
 * system heap"): the k_malloc family has no heap and returns NULL, the
 * system pool is no pool, and an ISR's z_thread_malloc (which serves from
 * the system heap) gets NULL too. k_heap and thread pools work as usual.
 * The program has no static heap either: k_heap_array_get lists none.
 *
 * Linked with kheap_kernel_nosys (tests/kernel/CMakeLists.txt). Not
 * randomized.
 *
 * Usage: test_kernel_no_system_heap [test-name-pattern]
 */
#include "kernel_test.h"

#include <zephyr/irq_offload.h>

#if CONFIG_HEAP_MEM_POOL_SIZE != 0
#error "build with CONFIG_HEAP_MEM_POOL_SIZE=0"
#endif

/*
 * No static heap at all. A Zephyr image's linker script always bounds the
 * static heap section; GNU ld here defines __start_/__stop_k_heap_area
 * only for a section that exists, so an empty member of it stands in.
 */
static struct k_heap no_static_heaps[0] KHEAP_STATIC_HEAP_SECTION;

/* A heap of the program's own, for the pool tests. */
static struct k_heap only_heap;
static unsigned char only_region[1024] __attribute__((__aligned__(8)));

static int setup(void **state)
{
	kt_setup_det(state);
	assert_int_equal(
		k_heap_init(&only_heap, only_region, sizeof(only_region)), 0);
	k_thread_heap_assign(k_current_get(), NULL);
	return 0;
}

static void test_k_malloc_family_returns_null(void **state)
{
	(void)state;
	assert_null(k_malloc(16));
	assert_null(k_calloc(2, 8));
	assert_null(k_aligned_alloc(64, 16));
	assert_null(k_realloc(NULL, 16));
	k_free(NULL);
}

static void test_system_pool_is_no_pool(void **state)
{
	(void)state;
	k_thread_system_pool_assign(k_current_get());
	assert_null(z_thread_malloc(16));
	/* A real pool still serves. */
	k_thread_heap_assign(k_current_get(), &only_heap);
	void *mem = z_thread_malloc(16);

	assert_non_null(mem);
	k_free(mem);
	assert_int_equal(kt_heap_allocated_bytes(&only_heap), 0);
	k_thread_heap_assign(k_current_get(), NULL);
}

static void *isr_block;

static void isr_thread_malloc(const void *arg)
{
	(void)arg;
	isr_block = z_thread_malloc(16);
}

static void test_isr_thread_malloc_returns_null(void **state)
{
	(void)state;
	k_thread_heap_assign(k_current_get(), &only_heap);
	isr_block = &isr_block;
	irq_offload(isr_thread_malloc, NULL);
	assert_null(isr_block);
	k_thread_heap_assign(k_current_get(), NULL);
}

static void test_no_static_heaps_listed(void **state)
{
	(void)state;
	struct k_heap *heaps = &only_heap;

	(void)no_static_heaps;
	assert_int_equal(k_heap_array_get(&heaps), 0);
	assert_null(heaps);
}

int main(int argc, char **argv)
{
	kt_program_args(argc, argv);
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(test_k_malloc_family_returns_null,
				       setup),
		cmocka_unit_test_setup(test_system_pool_is_no_pool, setup),
		cmocka_unit_test_setup(test_isr_thread_malloc_returns_null,
				       setup),
		cmocka_unit_test_setup(test_no_static_heaps_listed, setup),
	};
	return cmocka_run_group_tests_name("kernel layer without a system heap",
					   tests, NULL, NULL);
}
