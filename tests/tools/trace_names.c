/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Heap names in an allocation trace (ctest trace-names-run records it,
 * test_trace_record's test_heap_names checks the @heap lines): a
 * K_HEAP_DEFINE heap is declared under its variable name, made unique and
 * cut to the format's 31 characters; k_heap_init heaps get h1, h2, ...
 * that no other heap has; "sys" is the system heap's alone.
 */
#include <zephyr/kernel.h>

#define REGION_BYTES 512

K_HEAP_DEFINE(h1, REGION_BYTES);
K_HEAP_DEFINE(sys, REGION_BYTES);
K_HEAP_DEFINE(heap_with_a_name_longer_than_the_format_allows, REGION_BYTES);

static struct k_heap dynamic_heap;
static unsigned char dynamic_region[REGION_BYTES];

static void use(struct k_heap *heap)
{
	k_heap_free(heap, k_heap_alloc(heap, 16, K_NO_WAIT));
}

int main(void)
{
	use(&h1);
	(void)k_heap_init(&dynamic_heap, dynamic_region, REGION_BYTES);
	use(&dynamic_heap);
	use(&sys);
	k_free(k_malloc(16));
	use(&heap_with_a_name_longer_than_the_format_allows);
	return 0;
}
