/* SPDX-License-Identifier: Apache-2.0 */
/*
 * sys_multi_heap (zephyr/sys/multi_heap.h): one test per contract item,
 * then a model-based property test.
 *
 * The heaps are carved out of one buffer (so their address order is
 * known) or allocated apart. A recording choice function checks that
 * the multi-heap hands it cfg, align and size unchanged; it picks the
 * heap whose index cfg points at, or behaves as the default chooser when
 * cfg is NULL.
 *
 * The property test runs random allocations, aligned allocations,
 * reallocs (in place, moving inside a heap, moving across heaps) and
 * frees over four heaps of random sizes, against a shadow model: every
 * live block is aligned as asked, filled with its tokens, found in its
 * own heap by sys_multi_heap_get_heap, and disjoint from the others; the
 * heaps validate after every step and their allocated bytes add up to the
 * live blocks'. Seeds are printed (KHEAP_SEED replays one).
 *
 * Usage: test_multi_heap [test-name-pattern]
 */
#include "test_fixture.h"
#include "test_heap_support.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <zephyr/sys/multi_heap.h>
#include <zephyr/sys/sys_heap.h>

#define HEAPS 4u
#define HEAP_BYTES 4096u

/* Four heaps in one 8-aligned buffer, heap i at i * HEAP_BYTES. */
static uint8_t *buffer;
static struct sys_heap heaps[HEAPS];
static struct sys_multi_heap mh;
static int user_data[HEAPS];

/* --- the recording chooser ------------------------------------------------ */

struct choice_call {
	struct sys_multi_heap *mheap;
	void *cfg;
	size_t align;
	size_t size;
};

static struct choice_call last_choice;
static unsigned int choice_calls;

/* cfg: a pointer to the index of the heap to use, or NULL for the
 * default chooser's behaviour. */
static void *recording_choice(struct sys_multi_heap *mheap, void *cfg,
			      size_t align, size_t size)
{
	last_choice = (struct choice_call){mheap, cfg, align, size};
	choice_calls++;
	if (cfg == NULL) {
		return sys_multi_heap_default_select(mheap, cfg, align, size);
	}
	unsigned int index = *(const unsigned int *)cfg;

	return sys_heap_aligned_alloc(mheap->heaps[index].heap, align, size);
}

static unsigned int heap_index[HEAPS] = {0, 1, 2, 3};

static void *cfg_for(unsigned int heap)
{
	return &heap_index[heap];
}

static int setup(void **state)
{
	(void)state;
	buffer = malloc(HEAPS * HEAP_BYTES);
	assert_non_null(buffer);
	assert_int_equal((uintptr_t)buffer % 8u, 0);
	sys_multi_heap_init(&mh, recording_choice);
	/* Added out of address order. */
	static const unsigned int order[HEAPS] = {2, 0, 3, 1};

	for (unsigned int i = 0; i < HEAPS; i++) {
		unsigned int h = order[i];

		assert_int_equal(sys_heap_init(&heaps[h],
					       buffer + h * HEAP_BYTES,
					       HEAP_BYTES),
				 0);
		assert_int_equal(sys_multi_heap_add_heap(&mh, &heaps[h],
							 &user_data[h]),
				 0);
	}
	choice_calls = 0;
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	for (unsigned int h = 0; h < HEAPS; h++) {
		assert_true(sys_heap_validate(&heaps[h]));
	}
	test_meta_release(buffer, HEAPS * HEAP_BYTES);
	free(buffer);
	return 0;
}

/* The index of the heap whose region holds mem, or HEAPS. */
static unsigned int heap_of_block(const void *mem)
{
	uintptr_t offset = (uintptr_t)mem - (uintptr_t)buffer;

	return offset < HEAPS * HEAP_BYTES ? (unsigned int)(offset / HEAP_BYTES)
					   : HEAPS;
}

static size_t allocated_bytes(unsigned int h)
{
	struct sys_memory_stats stats;

	assert_int_equal(sys_heap_runtime_stats_get(&heaps[h], &stats), 0);
	return stats.allocated_bytes;
}

/* --- init and add_heap ---------------------------------------------------- */

static void test_heaps_kept_in_address_order(void **state)
{
	(void)state;
	assert_int_equal(mh.nheaps, HEAPS);
	assert_ptr_equal(mh.choice, recording_choice);
	for (unsigned int i = 0; i < HEAPS; i++) {
		assert_ptr_equal(mh.heaps[i].heap, &heaps[i]);
		assert_ptr_equal(mh.heaps[i].user_data, &user_data[i]);
	}
	assert_int_equal(MAX_MULTI_HEAPS, 8);
}

static void test_init_null_choice_is_default(void **state)
{
	(void)state;
	struct sys_multi_heap other;

	sys_multi_heap_init(&other, NULL);
	assert_ptr_equal(other.choice, sys_multi_heap_default_select);
	assert_int_equal(other.nheaps, 0);
	sys_multi_heap_init(NULL, recording_choice);
	/* Empty: nothing to allocate from. */
	assert_null(sys_multi_heap_alloc(&other, NULL, 8));
}

static void test_add_heap_refusals(void **state)
{
	(void)state;
	struct sys_heap copy = heaps[1];
	struct sys_heap uninitialised = {.heap = NULL};

	assert_int_equal(sys_multi_heap_add_heap(NULL, &heaps[0], NULL),
			 -EINVAL);
	assert_int_equal(sys_multi_heap_add_heap(&mh, NULL, NULL), -EINVAL);
	assert_int_equal(sys_multi_heap_add_heap(&mh, &uninitialised, NULL),
			 -EINVAL);
	/* The same heap again, or another handle to it: overlaps. */
	assert_int_equal(sys_multi_heap_add_heap(&mh, &heaps[1], NULL),
			 -EINVAL);
	assert_int_equal(sys_multi_heap_add_heap(&mh, &copy, NULL), -EINVAL);
	assert_int_equal(mh.nheaps, HEAPS);

	/* Full at MAX_MULTI_HEAPS. */
	static uint8_t more[MAX_MULTI_HEAPS][256]
		__attribute__((__aligned__(8)));
	struct sys_heap extra[MAX_MULTI_HEAPS];

	for (unsigned int i = 0; i < MAX_MULTI_HEAPS; i++) {
		assert_int_equal(sys_heap_init(&extra[i], more[i], 256), 0);
		int rc = sys_multi_heap_add_heap(&mh, &extra[i], NULL);

		assert_int_equal(rc, HEAPS + i < MAX_MULTI_HEAPS ? 0 : -ENOMEM);
	}
	assert_int_equal(mh.nheaps, MAX_MULTI_HEAPS);
	for (unsigned int i = 1; i < MAX_MULTI_HEAPS; i++) {
		assert_true((uintptr_t)mh.heaps[i - 1].heap->heap <
			    (uintptr_t)mh.heaps[i].heap->heap);
	}
	test_meta_release(more, sizeof(more));
}

/* --- allocation -------------------------------------------------------------- */

static void test_alloc_goes_through_the_chooser(void **state)
{
	(void)state;
	void *mem = sys_multi_heap_alloc(&mh, cfg_for(2), 100);

	assert_int_equal(choice_calls, 1);
	assert_ptr_equal(last_choice.mheap, &mh);
	assert_ptr_equal(last_choice.cfg, cfg_for(2));
	assert_int_equal(last_choice.align, 0);
	assert_int_equal(last_choice.size, 100);
	assert_int_equal(heap_of_block(mem), 2);

	void *aligned = sys_multi_heap_aligned_alloc(&mh, cfg_for(3), 256, 40);

	assert_int_equal(last_choice.align, 256);
	assert_int_equal(last_choice.size, 40);
	assert_int_equal(heap_of_block(aligned), 3);
	assert_int_equal((uintptr_t)aligned % 256u, 0);

	sys_multi_heap_free(&mh, mem);
	sys_multi_heap_free(&mh, aligned);
	assert_int_equal(allocated_bytes(2) + allocated_bytes(3), 0);
	assert_null(sys_multi_heap_alloc(NULL, NULL, 8));
	assert_null(sys_multi_heap_aligned_alloc(NULL, NULL, 8, 8));
}

static void test_default_chooser_first_fit_in_address_order(void **state)
{
	(void)state;
	void *blocks[64];
	size_t count = 0;

	/* Fills heap 0, then 1, ... in address order. */
	for (unsigned int h = 0; h < HEAPS; h++) {
		void *mem = sys_multi_heap_default_select(&mh, NULL, 0, 3000);

		assert_non_null(mem);
		assert_int_equal(heap_of_block(mem), h);
		blocks[count++] = mem;
	}
	assert_null(sys_multi_heap_default_select(&mh, NULL, 0, 3000));
	/* Smaller requests still fit in the rest of heap 0. */
	void *small = sys_multi_heap_default_select(&mh, NULL, 64, 100);

	assert_non_null(small);
	assert_int_equal(heap_of_block(small), 0);
	assert_int_equal((uintptr_t)small % 64u, 0);
	blocks[count++] = small;
	for (size_t i = 0; i < count; i++) {
		sys_multi_heap_free(&mh, blocks[i]);
	}
	assert_null(sys_multi_heap_default_select(NULL, NULL, 0, 8));
	/* cfg is ignored. */
	void *mem = sys_multi_heap_default_select(&mh, cfg_for(3), 0, 8);

	assert_int_equal(heap_of_block(mem), 0);
	sys_multi_heap_free(&mh, mem);
}

/* --- get_heap and free --------------------------------------------------------- */

static void test_get_heap_finds_the_region(void **state)
{
	(void)state;
	for (unsigned int h = 0; h < HEAPS; h++) {
		void *mem = sys_multi_heap_alloc(&mh, cfg_for(h), 16);
		const struct sys_multi_heap_rec *rec =
			sys_multi_heap_get_heap(&mh, mem);

		assert_non_null(rec);
		assert_ptr_equal(rec->heap, &heaps[h]);
		assert_ptr_equal(rec->user_data, &user_data[h]);
		/* The control block at the region's start belongs to it. */
		assert_ptr_equal(sys_multi_heap_get_heap(&mh, heaps[h].heap),
				 rec);
		sys_multi_heap_free(&mh, mem);
	}
	static int elsewhere;

	assert_null(sys_multi_heap_get_heap(&mh, &elsewhere));
	assert_null(sys_multi_heap_get_heap(&mh, NULL));
	assert_null(sys_multi_heap_get_heap(NULL, buffer));
	/* Past the last heap's end sentinel. */
	assert_null(sys_multi_heap_get_heap(&mh, buffer + HEAPS * HEAP_BYTES));
}

static void test_get_heap_skips_uninitialised_heaps(void **state)
{
	(void)state;
	void *mem = sys_multi_heap_alloc(&mh, cfg_for(1), 16);

	/* Heap 1's handle is re-initialised over nothing: it no longer
	 * holds any region. */
	assert_int_equal(sys_heap_init(&heaps[1], NULL, HEAP_BYTES), -EINVAL);
	assert_null(sys_multi_heap_get_heap(&mh, mem));
	fault_capture_arm();
	sys_multi_heap_free(&mh, mem);
	fault_capture_assert_one(NULL, mem, SYS_HEAP_FAULT_BAD_POINTER,
				 "multi_heap_free");
	(void)fault_capture_disarm();
	/* The others still work. */
	void *other = sys_multi_heap_alloc(&mh, cfg_for(2), 16);

	assert_int_equal(heap_of_block(other), 2);
	sys_multi_heap_free(&mh, other);
	assert_int_equal(
		sys_heap_init(&heaps[1], buffer + HEAP_BYTES, HEAP_BYTES), 0);
}

static void test_free_to_its_own_heap(void **state)
{
	(void)state;
	void *a = sys_multi_heap_alloc(&mh, cfg_for(0), 100);
	void *b = sys_multi_heap_alloc(&mh, cfg_for(3), 200);

	assert_true(allocated_bytes(0) > 0u);
	assert_true(allocated_bytes(3) > 0u);
	sys_multi_heap_free(&mh, b);
	assert_int_equal(allocated_bytes(3), 0);
	assert_true(allocated_bytes(0) > 0u);
	sys_multi_heap_free(&mh, a);
	assert_int_equal(allocated_bytes(0), 0);
	sys_multi_heap_free(&mh, NULL);
}

static void test_free_misuse_reported(void **state)
{
	(void)state;
	static int elsewhere;
	void *mem = sys_multi_heap_alloc(&mh, cfg_for(1), 100);

	sys_multi_heap_free(&mh, mem);
	fault_capture_arm();
	sys_multi_heap_free(&mh, mem);
	fault_capture_assert_one(&heaps[1], mem, SYS_HEAP_FAULT_NOT_ALLOCATED,
				 "free");
	fault_capture_arm();
	sys_multi_heap_free(&mh, &elsewhere);
	fault_capture_assert_one(NULL, &elsewhere, SYS_HEAP_FAULT_BAD_POINTER,
				 "multi_heap_free");
	(void)fault_capture_disarm();
}

/* --- realloc --------------------------------------------------------------------- */

static void fill(unsigned char *mem, size_t bytes, unsigned char seed)
{
	for (size_t i = 0; i < bytes; i++) {
		mem[i] = (unsigned char)(seed + i);
	}
}

static void assert_filled(const unsigned char *mem, size_t bytes,
			  unsigned char seed)
{
	for (size_t i = 0; i < bytes; i++) {
		assert_int_equal(mem[i], (unsigned char)(seed + i));
	}
}

static void test_realloc_null_and_zero(void **state)
{
	(void)state;
	void *mem = sys_multi_heap_realloc(&mh, cfg_for(2), NULL, 64);

	assert_int_equal(heap_of_block(mem), 2);
	assert_int_equal(last_choice.size, 64);
	assert_null(sys_multi_heap_realloc(&mh, cfg_for(2), mem, 0));
	assert_int_equal(allocated_bytes(2), 0);
}

static void test_realloc_in_place_and_within_heap(void **state)
{
	(void)state;
	unsigned char *mem = sys_multi_heap_alloc(&mh, cfg_for(1), 100);

	fill(mem, 100, 1);
	choice_calls = 0;
	/* The rest of heap 1 is free: grows in place. */
	unsigned char *grown = sys_multi_heap_realloc(&mh, NULL, mem, 1000);

	assert_ptr_equal(grown, mem);
	assert_filled(grown, 100, 1);
	/* A neighbour blocks growth: moves inside heap 1. */
	void *neighbour = sys_multi_heap_alloc(&mh, cfg_for(1), 16);
	unsigned char *moved = sys_multi_heap_realloc(&mh, NULL, grown, 2000);

	assert_int_equal(heap_of_block(neighbour), 1);
	assert_non_null(moved);
	assert_ptr_not_equal(moved, grown);
	assert_int_equal(heap_of_block(moved), 1);
	assert_filled(moved, 100, 1);
	assert_int_equal(choice_calls, 1); /* only the neighbour */
	/* Aligned. */
	unsigned char *aligned =
		sys_multi_heap_aligned_realloc(&mh, NULL, moved, 512, 2000);

	assert_non_null(aligned);
	assert_int_equal((uintptr_t)aligned % 512u, 0);
	assert_filled(aligned, 100, 1);
	sys_multi_heap_free(&mh, aligned);
	sys_multi_heap_free(&mh, neighbour);
	assert_int_equal(allocated_bytes(1), 0);
}

static void test_realloc_moves_to_another_heap(void **state)
{
	(void)state;
	unsigned char *mem = sys_multi_heap_alloc(&mh, cfg_for(0), 3000);
	void *neighbour = sys_multi_heap_alloc(&mh, cfg_for(0), 16);

	assert_int_equal(heap_of_block(neighbour), 0);
	fill(mem, 3000, 7);
	/* Heap 0 can neither grow the block (its neighbour) nor hold a
	 * second copy: the chooser (cfg) picks heap 2, the data follow and
	 * the old block is freed. */
	unsigned char *moved =
		sys_multi_heap_realloc(&mh, cfg_for(2), mem, 3500);

	assert_non_null(moved);
	assert_int_equal(heap_of_block(moved), 2);
	assert_int_equal(last_choice.size, 3500);
	assert_filled(moved, 3000, 7);
	sys_multi_heap_free(&mh, neighbour);
	assert_int_equal(allocated_bytes(0), 0);
	/* Shrinking moves nothing. */
	unsigned char *shrunk =
		sys_multi_heap_realloc(&mh, cfg_for(0), moved, 10);

	assert_ptr_equal(shrunk, moved);
	sys_multi_heap_free(&mh, shrunk);
}

static void test_realloc_failure_keeps_block(void **state)
{
	(void)state;
	unsigned char *mem = sys_multi_heap_alloc(&mh, cfg_for(3), 500);

	fill(mem, 500, 3);
	size_t before = allocated_bytes(3);

	/* No heap holds that much. */
	assert_null(sys_multi_heap_realloc(&mh, NULL, mem, 2u * HEAP_BYTES));
	assert_int_equal(allocated_bytes(3), before);
	assert_filled(mem, 500, 3);
	/* An alignment sys_heap refuses (three bits set): nowhere. */
	assert_null(sys_multi_heap_aligned_realloc(&mh, NULL, mem, 56, 600));
	assert_filled(mem, 500, 3);
	sys_multi_heap_free(&mh, mem);
}

static void test_realloc_misuse_reported(void **state)
{
	(void)state;
	static int elsewhere;
	void *mem = sys_multi_heap_alloc(&mh, cfg_for(1), 100);

	sys_multi_heap_free(&mh, mem);
	choice_calls = 0;
	fault_capture_arm();
	assert_null(sys_multi_heap_realloc(&mh, NULL, mem, 5000));
	fault_capture_assert_one(&heaps[1], mem, SYS_HEAP_FAULT_NOT_ALLOCATED,
				 "realloc");
	fault_capture_arm();
	assert_null(sys_multi_heap_realloc(&mh, NULL, &elsewhere, 8));
	fault_capture_assert_one(NULL, &elsewhere, SYS_HEAP_FAULT_BAD_POINTER,
				 "multi_heap_realloc");
	(void)fault_capture_disarm();
	/* Neither went on to allocate elsewhere. */
	assert_int_equal(choice_calls, 0);
}

/* --- property test ------------------------------------------------------------------ */

#define MODEL_MAX 256u

struct model_block {
	unsigned char *mem;
	size_t bytes;
	size_t align;
	unsigned int heap;
	uint32_t id;
};

struct model {
	struct model_block blocks[MODEL_MAX];
	size_t count;
	uint32_t next_id;
	/* Separately allocated heaps of random sizes. */
	uint8_t *regions[HEAPS];
	size_t region_bytes[HEAPS];
	struct sys_heap heaps[HEAPS];
	struct sys_multi_heap mh;
};

static struct model model;

/* Reallocs that moved a block to another heap, over the whole test: the
 * property test must have exercised that path. */
static unsigned int cross_heap_moves;

/* The heap of the model whose region holds mem, or HEAPS. */
static unsigned int model_heap_of(const void *mem)
{
	for (unsigned int h = 0; h < HEAPS; h++) {
		uintptr_t offset = (uintptr_t)mem - (uintptr_t)model.regions[h];

		if (offset < model.region_bytes[h]) {
			return h;
		}
	}
	return HEAPS;
}

static void model_add(unsigned char *mem, size_t bytes, size_t align)
{
	struct model_block *b = &model.blocks[model.count++];

	*b = (struct model_block){mem, bytes, align, model_heap_of(mem),
				  model.next_id++};
	assert_true(b->heap < HEAPS);
	test_token_fill(mem, bytes, b->id);
}

static void model_check(void)
{
	size_t expected[HEAPS] = {0};

	for (size_t i = 0; i < model.count; i++) {
		const struct model_block *b = &model.blocks[i];
		const struct sys_multi_heap_rec *rec =
			sys_multi_heap_get_heap(&model.mh, b->mem);

		assert_non_null(rec);
		assert_ptr_equal(rec->heap, &model.heaps[b->heap]);
		assert_int_equal((uintptr_t)b->mem % (b->align ? b->align : 8u),
				 0);
		assert_int_equal(test_token_check(b->mem, b->bytes, b->id),
				 SIZE_MAX);
		expected[b->heap] += test_block_bytes(rec->heap, b->mem);
		for (size_t j = 0; j < i; j++) {
			const struct model_block *o = &model.blocks[j];

			assert_true(b->mem + b->bytes <= o->mem ||
				    o->mem + o->bytes <= b->mem);
		}
	}
	for (unsigned int h = 0; h < HEAPS; h++) {
		struct sys_memory_stats stats;

		assert_true(sys_heap_validate(&model.heaps[h]));
		assert_int_equal(
			sys_heap_runtime_stats_get(&model.heaps[h], &stats), 0);
		assert_int_equal(stats.allocated_bytes, expected[h]);
	}
}

static void model_setup(struct test_rng *rng)
{
	memset(&model, 0, sizeof(model));
	sys_multi_heap_init(&model.mh, NULL);
	for (unsigned int h = 0; h < HEAPS; h++) {
		size_t bytes =
			(size_t)test_rng_range(rng, Z_HEAP_MIN_SIZE, 16384);

		model.regions[h] = malloc(bytes);
		model.region_bytes[h] = bytes;
		assert_non_null(model.regions[h]);
		assert_int_equal(sys_heap_init(&model.heaps[h],
					       model.regions[h], bytes),
				 0);
		assert_int_equal(sys_multi_heap_add_heap(&model.mh,
							 &model.heaps[h], NULL),
				 0);
	}
}

static void model_teardown(void)
{
	for (size_t i = 0; i < model.count; i++) {
		sys_multi_heap_free(&model.mh, model.blocks[i].mem);
	}
	for (unsigned int h = 0; h < HEAPS; h++) {
		test_meta_release(model.regions[h], model.region_bytes[h]);
		free(model.regions[h]);
	}
}

static size_t random_align(struct test_rng *rng)
{
	return test_rng_percent(rng, 50)
		       ? 0u
		       : (size_t)1u << test_rng_below(rng, 10);
}

static void model_step(struct test_rng *rng)
{
	unsigned int op = (unsigned int)test_rng_below(rng, 10);
	size_t bytes = (size_t)test_rng_log_uniform(rng, 8192);

	if (op < 4u && model.count < MODEL_MAX) {
		size_t align = random_align(rng);
		unsigned char *mem = sys_multi_heap_aligned_alloc(
			&model.mh, NULL, align, bytes);

		if (mem != NULL) {
			model_add(mem, bytes, align);
		}
		return;
	}
	if (model.count == 0u) {
		return;
	}
	size_t i = (size_t)test_rng_below(rng, model.count);
	struct model_block old = model.blocks[i];

	if (op < 7u) {
		sys_multi_heap_free(&model.mh, old.mem);
		model.blocks[i] = model.blocks[--model.count];
		return;
	}
	size_t align = random_align(rng);
	unsigned char *mem = sys_multi_heap_aligned_realloc(
		&model.mh, NULL, old.mem, align, bytes);

	if (mem == NULL) {
		/* Failed: the old block is untouched and still live. */
		assert_int_equal(test_token_check(old.mem, old.bytes, old.id),
				 SIZE_MAX);
		return;
	}
	size_t kept = old.bytes < bytes ? old.bytes : bytes;

	cross_heap_moves += model_heap_of(mem) != old.heap;

	assert_int_equal(test_token_check_moved(mem, kept, old.id, old.mem),
			 SIZE_MAX);
	model.blocks[i] = model.blocks[--model.count];
	model_add(mem, bytes, align);
}

static void test_property_random_operations(void **state)
{
	(void)state;
	uint64_t base = test_seed();

	for (unsigned int round = 0; round < 16u; round++) {
		struct test_rng rng;

		test_rng_seed(&rng, base + round);
		model_setup(&rng);
		for (unsigned int step = 0; step < 2000u; step++) {
			model_step(&rng);
			model_check();
		}
		model_teardown();
	}
	printf("# %u reallocs moved a block to another heap\n",
	       cross_heap_moves);
	assert_true(cross_heap_moves > 0u);
}

int main(int argc, char **argv)
{
	if (argc > 1) {
		cmocka_set_test_filter(argv[1]);
	}
	fault_capture_install();
	const struct CMUnitTest tests[] = {
#define MH_TEST(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
		MH_TEST(test_heaps_kept_in_address_order),
		MH_TEST(test_init_null_choice_is_default),
		MH_TEST(test_add_heap_refusals),
		MH_TEST(test_alloc_goes_through_the_chooser),
		MH_TEST(test_default_chooser_first_fit_in_address_order),
		MH_TEST(test_get_heap_finds_the_region),
		MH_TEST(test_get_heap_skips_uninitialised_heaps),
		MH_TEST(test_free_to_its_own_heap),
		MH_TEST(test_free_misuse_reported),
		MH_TEST(test_realloc_null_and_zero),
		MH_TEST(test_realloc_in_place_and_within_heap),
		MH_TEST(test_realloc_moves_to_another_heap),
		MH_TEST(test_realloc_failure_keeps_block),
		MH_TEST(test_realloc_misuse_reported),
		cmocka_unit_test(test_property_random_operations),
#undef MH_TEST
	};
	int failed = cmocka_run_group_tests_name("sys_multi_heap", tests, NULL,
						 NULL);

	fault_capture_uninstall();
	return failed == 0 ? 0 : 1;
}
