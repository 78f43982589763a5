/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Workloads: op lists generated once from a fixed seed, then replayed
 * identically against every allocator.
 *
 * An op names a slot (an index into the replay's pointer table) rather
 * than a pointer. The generator keeps a model in which every allocation
 * succeeds; when one fails in a real allocator its slot stays empty, and a
 * later op on an empty slot (free or realloc) is skipped. So every
 * allocator executes the same list.
 */
#ifndef KHEAP_BENCH_WORKLOAD_H
#define KHEAP_BENCH_WORKLOAD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "adapter.h"

enum op_kind {
	OP_ALLOC,
	OP_ALIGNED_ALLOC,
	OP_FREE,
	OP_REALLOC,
};

struct op {
	uint32_t slot;
	/* Request in bytes (alloc, aligned alloc, realloc's new size). */
	uint32_t size;
	uint8_t kind;
	/* OP_ALIGNED_ALLOC: the alignment is 1 << align_shift. */
	uint8_t align_shift;
};

struct workload_spec {
	const char *name;
	uint64_t seed;
	size_t region_bytes;
	size_t ops;
	/* Request sizes: uniform or log-uniform in [min_size, max_size];
	 * min_size >= 8 (the replay stores an 8-byte token in each block). */
	uint32_t min_size;
	uint32_t max_size;
	bool log_sizes;
	/* Percentage of allocations that are aligned, with alignments
	 * 1 << [min_align_shift, max_align_shift] (uniform over shifts). */
	unsigned int aligned_pct;
	unsigned int min_align_shift;
	unsigned int max_align_shift;
	/* Percentage of ops that resize a live block of at most realloc_max
	 * bytes to a new size in [min_size, realloc_max]. */
	unsigned int realloc_pct;
	uint32_t realloc_max;
	/* 0: the new size is drawn afresh from the size distribution. n > 0:
	 * the new size is the old one times 2^u, u uniform in [-n, n]
	 * (clamped to [min_size, realloc_max]), so resizes are a mix of small
	 * steps (often in place) and large ones (often moving). */
	unsigned int realloc_log2_span;
	/* The live set (requested bytes) is kept near this share of the
	 * region: below it 2 of 3 ops allocate, above it 2 of 3 free. */
	double live_fraction;
};

struct op_list {
	const struct workload_spec *spec;
	struct op *ops;
	size_t count;
	/* Size of the slot table the replay needs. */
	uint32_t slots;
};

struct replay_stats {
	size_t failed_allocs;
	size_t failed_reallocs;
	size_t skipped;
	/* Successful reallocs, and those that returned a new address. */
	size_t reallocs;
	size_t realloc_moved;
};

/* Build the op list of a workload (aborts on out-of-memory). */
void op_list_make(struct op_list *list, const struct workload_spec *spec);
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

/* The standard workloads (GUIDE §5). ops and region may be scaled by the
 * caller (quick mode, W5 sizes). */
extern const struct workload_spec workload_w1;
extern const struct workload_spec workload_w2;
extern const struct workload_spec workload_w4;
/* Realloc-heavy: half the ops resize a live block by a factor of 1/4..4,
 * the rest allocate and free as in W2. */
extern const struct workload_spec workload_w6;
/* W2's sizes with aligned allocations and reallocs mixed in: the
 * instruction-count workload (splits, coalescing on both sides, aligned
 * carving, resize in place and by moving). */
extern const struct workload_spec workload_mixed;

/* The standard workload of that name (W1, W2, W4, W6, mixed), or NULL. */
const struct workload_spec *workload_by_name(const char *name);

/* Mean request of the spec's size distribution (for scaling op counts). */
double workload_mean_size(const struct workload_spec *spec);

/* Page-aligned, pre-faulted region of the given size (aborts on failure). */
void *bench_region(size_t bytes);
void bench_region_free(void *region, size_t bytes);

#endif /* KHEAP_BENCH_WORKLOAD_H */
