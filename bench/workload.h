/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Op lists: a workload's ops (workload_gen.h, the generator the Cortex-M
 * images share) generated once from its fixed seed, then replayed
 * identically against every allocator.
 */
#ifndef KHEAP_BENCH_WORKLOAD_H
#define KHEAP_BENCH_WORKLOAD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "adapter.h"
#include "workload_gen.h"

struct op_list {
	const struct workload_spec *spec;
	struct op *ops;
	size_t count;
	/* Size of the slot table the replay needs. */
	uint32_t slots;
	/* Ops up to and including the one whose allocation first brought
	 * the model's live set to its target (0: never). */
	size_t fill_ops;
	/* Allocations the generator turned into frees (every slot live). */
	uint32_t forced_frees;
};

struct replay_stats {
	size_t failed_allocs;
	size_t failed_reallocs;
	size_t skipped;
	/* Successful reallocs, and those that returned a new address. */
	size_t reallocs;
	size_t realloc_moved;
};

/* Build the op list of a workload: spec->ops ops over a region of
 * spec->region_bytes (aborts on out-of-memory). */
void op_list_make(struct op_list *list, const struct workload_spec *spec);

/* The same, but the ops until the model's live set first reaches its
 * target and then ops_after_fill more (the Cortex-M images' runs). */
void op_list_make_after_fill(struct op_list *list,
			     const struct workload_spec *spec,
			     size_t ops_after_fill);
void op_list_free(struct op_list *list);

/* Replay ops[begin, end) through allocator a; slots has list->slots
 * entries (NULL at the start). Verifies each block's token before it is
 * freed or resized and aborts if it changed. */
void replay(const struct bench_allocator *a, const struct op_list *list,
	    void **slots, size_t begin, size_t end, struct replay_stats *st);

/* Free every block still in slots and clear the table. */
void replay_release(const struct bench_allocator *a, const struct op_list *list,
		    void **slots);

/* The token stored in the first 8 bytes of the block of a slot. */
static inline uint64_t slot_token(uint32_t slot)
{
	return ((uint64_t)slot + 1u) * 0x9e3779b97f4a7c15ull;
}

/* Mean request of the spec's size distribution (for scaling op counts). */
double workload_mean_size(const struct workload_spec *spec);

/* Page-aligned, pre-faulted region of the given size (aborts on failure). */
void *bench_region(size_t bytes);
void bench_region_free(void *region, size_t bytes);

#endif /* KHEAP_BENCH_WORKLOAD_H */
