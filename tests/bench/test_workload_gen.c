/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The benchmark's workload generator (bench/workload_gen.c), which the
 * x86-64 benchmark and the Cortex-M bench image share, and the
 * bookkeeping sweep (bench/heap_bookkeeping.c) over kheap: the properties
 * every figure in docs/performance.md relies on. The workloads' seeds are
 * fixed, so nothing here is random.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "heap_backend.h"
#include "heap_bookkeeping.h"
#include "workload_gen.h"

#define REGION_BYTES (256u * 1024u)
#define OPS 200000u

static const struct workload_spec *const specs[] = {
	&workload_w1, &workload_w2, &workload_w4, &workload_w6, &workload_mixed,
};
#define SPEC_COUNT (sizeof(specs) / sizeof(specs[0]))

struct gen {
	struct wl_gen g;
	uint32_t *words;
};

static void gen_start(struct gen *x, const struct workload_spec *spec,
		      size_t region_bytes, uint32_t capacity)
{
	x->words =
		calloc((size_t)capacity * WL_WORDS_PER_SLOT, sizeof(uint32_t));
	assert_non_null(x->words);
	wl_init(&x->g, spec, region_bytes, x->words, capacity);
}

static void gen_end(struct gen *x)
{
	free(x->words);
}

/* The model the generator keeps, rebuilt from its ops alone: every free
 * and resize names a live slot, every allocation an empty one below the
 * capacity, every size is in the spec's range, and the live bytes the
 * generator reports are the sum of the live requests. */
static void test_ops_follow_the_model(void **state)
{
	(void)state;
	for (size_t i = 0; i < SPEC_COUNT; i++) {
		const struct workload_spec *spec = specs[i];
		uint32_t capacity = wl_slot_capacity(REGION_BYTES);
		uint32_t *live_size = calloc(capacity, sizeof(uint32_t));
		uint64_t live_bytes = 0;
		struct gen x;

		assert_non_null(live_size);
		gen_start(&x, spec, REGION_BYTES, capacity);
		for (uint32_t n = 0; n < OPS; n++) {
			struct op op;

			wl_next(&x.g, &op);
			assert_true(op.slot < capacity);
			switch (op.kind) {
			case OP_ALIGNED_ALLOC:
				assert_in_range(op.align_shift,
						spec->min_align_shift,
						spec->max_align_shift);
				/* fall through: the rest as any allocation */
			case OP_ALLOC:
				assert_int_equal(live_size[op.slot], 0);
				assert_in_range(op.size, spec->min_size,
						spec->max_size);
				live_size[op.slot] = op.size;
				live_bytes += op.size;
				break;
			case OP_FREE:
				assert_int_not_equal(live_size[op.slot], 0);
				live_bytes -= live_size[op.slot];
				live_size[op.slot] = 0;
				break;
			default:
				assert_int_equal(op.kind, OP_REALLOC);
				assert_in_range(live_size[op.slot], 1,
						spec->realloc_max);
				assert_in_range(op.size, spec->min_size,
						spec->realloc_max);
				live_bytes += op.size;
				live_bytes -= live_size[op.slot];
				live_size[op.slot] = op.size;
				break;
			}
			assert_true(live_bytes == x.g.live_bytes);
		}
		/* It reached its live target and kept near it. */
		assert_true(wl_filled(&x.g));
		assert_true(live_bytes > x.g.target_bytes / 2u);
		assert_true(live_bytes < x.g.target_bytes * 2u);
		gen_end(&x);
		free(live_size);
	}
}

static bool same_op(const struct op *a, const struct op *b)
{
	return a->slot == b->slot && a->size == b->size && a->kind == b->kind &&
	       a->align_shift == b->align_shift;
}

/* The same spec gives the same ops (the x86-64 list and the Cortex-M run
 * are the same sequence); another seed gives others. */
static void test_deterministic(void **state)
{
	struct workload_spec other = workload_mixed;
	struct gen a, b, c;
	bool differs = false;

	(void)state;
	other.seed ^= 1u;
	gen_start(&a, &workload_mixed, REGION_BYTES, 4096u);
	gen_start(&b, &workload_mixed, REGION_BYTES, 4096u);
	gen_start(&c, &other, REGION_BYTES, 4096u);
	for (uint32_t n = 0; n < OPS; n++) {
		struct op oa, ob, oc;

		wl_next(&a.g, &oa);
		wl_next(&b.g, &ob);
		wl_next(&c.g, &oc);
		assert_true(same_op(&oa, &ob));
		differs = differs || !same_op(&oa, &oc);
	}
	assert_true(differs);
	gen_end(&a);
	gen_end(&b);
	gen_end(&c);
}

/* Log-uniform sizes: ln(size) uniform, so about half the draws fall
 * below the geometric mean of the range's ends and a quarter in each
 * quarter of the log range; uniform sizes: mean at the middle. */
static void test_size_distributions(void **state)
{
	struct prng r;
	const uint32_t lo = 16u, hi = 16384u;
	struct wl_size_draw d = wl_size_draw_make(lo, hi, true);
	uint32_t below[4] = {0};
	const uint32_t n = 400000u;
	/* (hi + 1) / lo = 2^10 (nearly): quarter points at 2^2.5 steps. */
	const double q[3] = {lo * 5.65685, lo * 32.0, lo * 181.019};

	(void)state;
	prng_seed(&r, 0x6b686561u);
	for (uint32_t i = 0; i < n; i++) {
		uint32_t v = wl_draw_size(&r, &d);

		assert_in_range(v, lo, hi);
		below[v < q[0] ? 0 : v < q[1] ? 1 : v < q[2] ? 2 : 3]++;
	}
	for (unsigned int k = 0; k < 4u; k++) {
		/* 25% each; the fixed-point 2^x is within 1e-4. */
		assert_in_range(below[k], n / 4u - n / 100u, n / 4u + n / 100u);
	}
	d = wl_size_draw_make(8u, 128u, false);
	uint64_t sum = 0;

	for (uint32_t i = 0; i < n; i++) {
		uint32_t v = wl_draw_size(&r, &d);

		assert_in_range(v, 8u, 128u);
		sum += v;
	}
	assert_in_range(sum / n, 67u, 68u);
}

/* W6's resizes: the new size is the old one times 2^u, u in [-2, 2],
 * clamped to the spec's range. */
static void test_resize_factor(void **state)
{
	uint32_t capacity = wl_slot_capacity(REGION_BYTES);
	uint32_t *size = calloc(capacity, sizeof(uint32_t));
	struct gen x;
	uint32_t resizes = 0;

	(void)state;
	assert_non_null(size);
	gen_start(&x, &workload_w6, REGION_BYTES, capacity);
	for (uint32_t n = 0; n < OPS; n++) {
		struct op op;

		wl_next(&x.g, &op);
		if (op.kind == OP_REALLOC) {
			uint64_t old = size[op.slot];

			resizes++;
			if (op.size > workload_w6.min_size &&
			    op.size < workload_w6.realloc_max) {
				/* Truncation of the product: at most one
				 * byte below old * 4. */
				assert_true((uint64_t)op.size <= old * 4u);
				assert_true((uint64_t)op.size * 4u + 4u >= old);
			}
		}
		if (op.kind != OP_FREE) {
			size[op.slot] = op.size;
		}
	}
	assert_true(resizes > OPS / 4u);
	gen_end(&x);
	free(size);
}

/* With every slot live the generator frees instead, and counts it. */
static void test_capacity_is_a_hard_limit(void **state)
{
	struct gen x;

	(void)state;
	/* A region whose live target needs far more than 64 slots. */
	gen_start(&x, &workload_w1, 1024u * 1024u, 64u);
	for (uint32_t n = 0; n < OPS; n++) {
		struct op op;

		wl_next(&x.g, &op);
		assert_true(op.slot < 64u);
		assert_true(x.g.nlive <= 64u);
	}
	assert_true(x.g.forced_frees > 0u);
	assert_false(wl_filled(&x.g));
	gen_end(&x);
}

/* The sweep: increasing, from the minimum to the maximum, every 8 bytes
 * below 1 KiB and each power of two with its neighbours above. */
static void test_bookkeeping_sweep(void **state)
{
	size_t prev = 0, count = 0;
	bool saw[3] = {false, false, false};

	(void)state;
	for (size_t r = bk_next_size(0u, 95u, 1u << 20); r != 0u;
	     r = bk_next_size(r, 95u, 1u << 20)) {
		assert_true(r > prev);
		assert_true(prev == 0u || prev >= 1024u || r - prev <= 8u);
		saw[0] = saw[0] || r == 65536u - 8u;
		saw[1] = saw[1] || r == 65536u;
		saw[2] = saw[2] || r == 65536u + 8u;
		prev = r;
		count++;
	}
	assert_int_equal(prev, 1u << 20);
	assert_true(saw[0] && saw[1] && saw[2]);
	assert_true(count > 100u && count < 400u);
}

/* The largest block bk_largest_block finds is served by a fresh heap and
 * one byte more is not; the minimum region serves a byte and one byte
 * less does not. */
static void test_bookkeeping_finds_the_edges(void **state)
{
	static unsigned char region[16384] __attribute__((aligned(8)));
	size_t largest = bk_largest_block(region, sizeof(region));
	size_t min = bk_min_region(region, sizeof(region));
	bench_heap_t h;

	(void)state;
	assert_true(largest > 0u && largest < sizeof(region));
	h = bench_heap_init(region, sizeof(region));
	assert_non_null(h);
	/* The bookkeeping counts at least the block's header. */
	assert_true(sizeof(region) - largest >= bench_heap_header_bytes(h));
	assert_non_null(BENCH_HEAP_ALLOC(h, largest));
	h = bench_heap_init(region, sizeof(region));
	assert_non_null(h);
	assert_null(BENCH_HEAP_ALLOC(h, largest + 1u));

	assert_true(min > 1u);
	h = bench_heap_init(region, min);
	assert_non_null(h);
	void *byte = BENCH_HEAP_ALLOC(h, 1u);

	assert_non_null(byte);
	/* Freed: the refused init below starts no heap that would end
	 * this one's blocks for a memory checker. */
	BENCH_HEAP_FREE(h, byte);
	h = bench_heap_init(region, min - 1u);
	assert_true(h == NULL || BENCH_HEAP_ALLOC(h, 1u) == NULL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ops_follow_the_model),
		cmocka_unit_test(test_deterministic),
		cmocka_unit_test(test_size_distributions),
		cmocka_unit_test(test_resize_factor),
		cmocka_unit_test(test_capacity_is_a_hard_limit),
		cmocka_unit_test(test_bookkeeping_sweep),
		cmocka_unit_test(test_bookkeeping_finds_the_edges),
	};

	return cmocka_run_group_tests_name("workload generator, bookkeeping",
					   tests, NULL, NULL);
}
