/* SPDX-License-Identifier: Apache-2.0 */
/*
 * sys_heap on real 32-bit Cortex-M layouts (target/ port, under QEMU):
 * pointer and size widths, both header formats (4-byte headers up to
 * SYS_HEAP_SMALL_REGION_MAX_BYTES, 8-byte ones above), the cutover
 * between them, 8-byte alignment of every block at every base offset,
 * and the architecture checks: the count-leading-zeros path the core
 * uses, and that an unaligned access really faults (so that the other
 * images, which run with the same trap, prove the core makes none).
 *
 * KHEAP_TARGET_LAYOUT_BIG=0 (the micro:bit, 16 KiB of RAM) leaves out
 * everything that needs a region above 256 KiB.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdalign.h>
#include <stdio.h>
#include <string.h>

#include <kheap/config.h>
#include <kheap/target.h>
#include <zephyr/sys/sys_heap.h>

#ifndef KHEAP_TARGET_LAYOUT_BIG
#define KHEAP_TARGET_LAYOUT_BIG 1
#endif

#if defined(__ARM_ARCH_6M__) && !defined(KHEAP_SOFT_CLZ)
#error "ARMv6-M has no CLZ instruction: the core must use its software bit scans"
#endif
#if defined(__ARM_FEATURE_CLZ) && defined(KHEAP_SOFT_CLZ)
#error "the core uses the software clz although the CPU has CLZ"
#endif

#define SMALL_BYTES 4096u
#define GUARD 8u

static uint8_t small_region[SMALL_BYTES + GUARD] __attribute__((aligned(8)));
#if KHEAP_TARGET_LAYOUT_BIG
/* Room for the largest small region plus one byte, at any offset. */
#define BIG_BYTES (SYS_HEAP_SMALL_REGION_MAX_BYTES + 64u)
static uint8_t big_region[BIG_BYTES + GUARD] __attribute__((aligned(8)));
#endif

static size_t round_up_8(size_t bytes)
{
	return (bytes + 7u) & ~(size_t)7u;
}

/* xorshift32: enough to vary sizes; the tests' shared PRNG is checked
 * elsewhere (target-unit). */
static uint32_t rng_state = 0x6b686561u;

static uint32_t next_random(void)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 17;
	rng_state ^= rng_state << 5;
	return rng_state;
}

static void test_abi_widths(void **state)
{
	(void)state;
	assert_int_equal(sizeof(void *), 4);
	assert_int_equal(sizeof(size_t), 4);
	assert_int_equal(sizeof(uintptr_t), 4);
	assert_int_equal(alignof(max_align_t), 8);
	assert_int_equal(SYS_HEAP_CHUNK_BYTES, 8);
}

/*
 * Consecutive allocations on a fresh heap lie back to back: each takes
 * round_up_8(request + header) bytes, its pointer is 8-byte aligned and
 * its usable size is the rest after the header.
 */
static void check_format(uint8_t *region, size_t bytes, size_t header)
{
	for (size_t offset = 0; offset < 8u; offset++) {
		struct sys_heap heap;
		uint8_t *previous = NULL;
		size_t previous_span = 0;

		assert_int_equal(sys_heap_init(&heap, region + offset, bytes),
				 0);
		assert_int_equal(sys_heap_header_bytes(&heap), header);
		for (size_t request = 1; request <= 64u; request++) {
			uint8_t *mem = sys_heap_alloc(&heap, request);
			size_t span = round_up_8(request + header);

			assert_non_null(mem);
			assert_int_equal((uintptr_t)mem % 8u, 0);
			assert_true(mem >= region + offset);
			assert_true(mem + request <= region + offset + bytes);
			assert_int_equal(sys_heap_usable_size(&heap, mem),
					 span - header);
			if (previous != NULL) {
				assert_int_equal(mem - previous, previous_span);
			}
			memset(mem, 0xa5, span - header);
			previous = mem;
			previous_span = span;
		}
		assert_true(sys_heap_validate(&heap));
	}
}

static void test_small_format_layout(void **state)
{
	(void)state;
	check_format(small_region, SMALL_BYTES, 4);
}

static void test_big_format_layout(void **state)
{
	(void)state;
#if KHEAP_TARGET_LAYOUT_BIG
	check_format(big_region, BIG_BYTES, 8);
#else
	print_message("    no region above 256 KiB fits in this board's RAM\n");
	skip();
#endif
}

static void test_cutover_on_target(void **state)
{
	(void)state;
#if KHEAP_TARGET_LAYOUT_BIG
	const size_t small_max = SYS_HEAP_SMALL_REGION_MAX_BYTES;
	struct sys_heap heap;
	void *mem;

	assert_int_equal(small_max, 262144u);
	for (size_t bytes = small_max - 8u; bytes <= small_max + 8u; bytes++) {
		size_t header = bytes <= small_max ? 4u : 8u;

		assert_int_equal(sys_heap_init(&heap, big_region, bytes), 0);
		assert_int_equal(sys_heap_header_bytes(&heap), header);
		/* The smallest block, and then the whole heap in one. */
		mem = sys_heap_alloc(&heap, 1);
		assert_non_null(mem);
		assert_int_equal(sys_heap_usable_size(&heap, mem), header);
		sys_heap_free(&heap, mem);
		size_t whole = sys_heap_max_alloc_bytes(&heap);

		mem = sys_heap_alloc(&heap, whole);
		assert_non_null(mem);
		assert_int_equal((uintptr_t)mem % 8u, 0);
		assert_true((uint8_t *)mem + whole <= big_region + bytes);
		assert_null(sys_heap_alloc(&heap, 1));
		sys_heap_free(&heap, mem);
		assert_true(sys_heap_validate(&heap));
	}
#else
	print_message("    no region above 256 KiB fits in this board's RAM\n");
	skip();
#endif
}

/* Random alloc, aligned_alloc, realloc and free at every base offset:
 * every block 8-byte aligned (or as asked), inside the region, intact. */
#define LIVE 48u

static void churn(uint8_t *region, size_t bytes, size_t max_request)
{
	for (size_t offset = 0; offset < 8u; offset++) {
		struct sys_heap heap;
		uint8_t *live[LIVE] = {NULL};
		size_t sizes[LIVE] = {0};
		uint8_t *base = region + offset;

		assert_int_equal(sys_heap_init(&heap, base, bytes), 0);
		for (unsigned int step = 0; step < 3000u; step++) {
			size_t slot = next_random() % LIVE;
			size_t request = 1u + next_random() % max_request;
			size_t align = 0;
			uint8_t *mem;

			if (live[slot] != NULL) {
				for (size_t i = 0; i < sizes[slot]; i++) {
					assert_int_equal(live[slot][i],
							 (uint8_t)slot);
				}
			}
			switch (next_random() % 4u) {
			case 0:
				sys_heap_free(&heap, live[slot]);
				live[slot] = NULL;
				continue;
			case 1:
				align = (size_t)8u << (next_random() % 6u);
				sys_heap_free(&heap, live[slot]);
				live[slot] = NULL;
				mem = sys_heap_aligned_alloc(&heap, align,
							     request);
				break;
			case 2:
				mem = sys_heap_realloc(&heap, live[slot],
						       request);
				if (mem == NULL) {
					continue;
				}
				break;
			default:
				sys_heap_free(&heap, live[slot]);
				live[slot] = NULL;
				mem = sys_heap_alloc(&heap, request);
				break;
			}
			if (mem == NULL) {
				continue;
			}
			assert_int_equal((uintptr_t)mem % 8u, 0);
			if (align != 0u) {
				assert_int_equal((uintptr_t)mem % align, 0);
			}
			assert_true(mem >= base &&
				    mem + request <= base + bytes);
			assert_true(sys_heap_usable_size(&heap, mem) >=
				    request);
			memset(mem, (int)slot, request);
			live[slot] = mem;
			sizes[slot] = request;
		}
		assert_true(sys_heap_validate(&heap));
	}
}

static void test_every_block_aligned_small(void **state)
{
	(void)state;
	churn(small_region, SMALL_BYTES, 200);
}

static void test_every_block_aligned_big(void **state)
{
	(void)state;
#if KHEAP_TARGET_LAYOUT_BIG
	churn(big_region, BIG_BYTES, 12000);
#else
	skip();
#endif
}

/* ---- architecture ------------------------------------------------------- */

static void test_clz_path(void **state)
{
	(void)state;
#ifdef KHEAP_SOFT_CLZ
	print_message(
		"    software bit scans (z_heap_bit_of, kheap_soft_clz32)\n");
	for (unsigned int bit = 0; bit < 32u; bit++) {
		uint32_t single = (uint32_t)1u << bit;

		assert_int_equal(kheap_soft_clz32(single), 31u - bit);
		assert_int_equal(kheap_soft_clz32(single | (single - 1u)),
				 31u - bit);
		assert_int_equal(kheap_soft_clz32(single | 1u), 31u - bit);
	}
#else
	print_message("    CLZ instruction\n");
	assert_int_equal(KHEAP_CLZ32(1u), 31);
	assert_int_equal(KHEAP_CLZ32(0x80000000u), 0);
#endif
}

/* One load or store through an address the compiler cannot see. */
static uint32_t load_word(const void *address)
{
	uint32_t value;

	__asm__ volatile("ldr %0, [%1]"
			 : "=r"(value)
			 : "r"(address)
			 : "memory");
	return value;
}

static uint32_t load_half(const void *address)
{
	uint32_t value;

	__asm__ volatile("ldrh %0, [%1]"
			 : "=r"(value)
			 : "r"(address)
			 : "memory");
	return value;
}

static void store_word(void *address, uint32_t value)
{
	__asm__ volatile("str %0, [%1]" ::"r"(value), "r"(address) : "memory");
}

static void expect_fault(unsigned int before)
{
	struct target_cpu_fault fault;

	assert_int_equal(target_cpu_faults_seen(&fault), before + 1u);
#if TARGET_HAS_CFSR
	assert_int_equal(fault.exception, 6); /* UsageFault */
	assert_true((fault.cfsr & TARGET_CFSR_UNALIGNED) != 0u);
#else
	assert_int_equal(fault.exception, 3); /* HardFault */
#endif
}

static void test_unaligned_access_faults(void **state)
{
	static uint32_t words[4] = {0x11223344u, 0x55667788u, 0x99aabbccu, 0};
	uint8_t *bytes = (uint8_t *)words;

	(void)state;
#if TARGET_HAS_CFSR
	/* CCR.UNALIGN_TRP (ARMv6-M traps always). */
	assert_true((*(volatile uint32_t *)0xe000ed14u & (1u << 3)) != 0u);
#endif
	target_cpu_fault_expect();
	assert_int_equal(load_word(&words[1]), 0x55667788u);
	assert_int_equal(load_half(bytes + 2), 0x1122u);
	store_word(&words[3], 0x01020304u);
	assert_int_equal(target_cpu_faults_seen(NULL), 0);

	for (size_t offset = 1; offset < 4u; offset++) {
		target_cpu_fault_expect();
		(void)load_word(bytes + offset);
		expect_fault(0);
		target_cpu_fault_expect();
		store_word(bytes + 4u + offset, 0xdeadbeefu);
		expect_fault(0);
	}
	target_cpu_fault_expect();
	(void)load_half(bytes + 1);
	expect_fault(0);
	/* The faulting stores wrote nothing. */
	assert_int_equal(words[1], 0x55667788u);
	assert_int_equal(words[2], 0x99aabbccu);
}

static const struct CMUnitTest tests[] = {
	cmocka_unit_test(test_abi_widths),
	cmocka_unit_test(test_small_format_layout),
	cmocka_unit_test(test_big_format_layout),
	cmocka_unit_test(test_cutover_on_target),
	cmocka_unit_test(test_every_block_aligned_small),
	cmocka_unit_test(test_every_block_aligned_big),
	cmocka_unit_test(test_clz_path),
	cmocka_unit_test(test_unaligned_access_faults),
};

int main(int argc, char **argv)
{
	if (argc > 1) {
		cmocka_set_test_filter(argv[1]);
	}
	return cmocka_run_group_tests_name("sys_heap on 32-bit layouts", tests,
					   NULL, NULL) == 0
		       ? 0
		       : 1;
}
