/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The workload generator: the one definition of every benchmark workload,
 * compiled by the x86-64 benchmark (bench/workload.c makes op lists with
 * it) and by the Cortex-M worst-case images (target/bench/worst_image.c
 * draws the same ops one at a time), so that the two sets of figures run
 * the same op sequence and cannot drift apart. Freestanding C11: no libc
 * call, no floating point, no allocation (the caller owns every array).
 *
 * An op names a slot (an index into the driver's pointer table) rather
 * than a pointer. The generator keeps a model in which every allocation
 * succeeds; when one fails in a real allocator its slot stays empty, and
 * a later op on an empty slot (free or realloc) is skipped. So every
 * allocator, on every machine, executes the same list.
 *
 * The model: live slots (dense, swap-remove), their requested sizes, a
 * stack of free slots. While the live requested bytes are below the
 * target (live_pct of the region) 2 of 3 ops allocate, otherwise 2 of 3
 * free a random live block; realloc_pct of the ops resize a random live
 * block of at most realloc_max bytes instead. Slots are below
 * wl_slot_capacity(region): when every slot is live the generator frees
 * instead of allocating (counted in forced_frees), the same way on every
 * machine.
 */
#ifndef KHEAP_BENCH_WORKLOAD_GEN_H
#define KHEAP_BENCH_WORKLOAD_GEN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "prng.h"

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
	/* The x86-64 benchmark's region and op count (the Cortex-M images
	 * choose their own heap sizes and counts). */
	size_t region_bytes;
	size_t ops;
	/* Request sizes: uniform or log-uniform in [min_size, max_size];
	 * min_size >= 8 (the drivers keep a token in each block). */
	uint32_t min_size;
	uint32_t max_size;
	bool log_sizes;
	/* Percentage of allocations that are aligned, with alignments
	 * 1 << [min_align_shift, max_align_shift] (uniform over shifts). */
	unsigned int aligned_pct;
	unsigned int min_align_shift;
	unsigned int max_align_shift;
	/* Percentage of ops that resize a live block of at most realloc_max
	 * bytes. */
	unsigned int realloc_pct;
	uint32_t realloc_max;
	/* 0: the new size is drawn afresh from [min_size, realloc_max]
	 * (log-uniform if log_sizes). n > 0: the new size is the old one
	 * times 2^u, u uniform in [-n, n] (clamped to [min_size,
	 * realloc_max]), so resizes mix small steps (often in place) and
	 * large ones (often moving). */
	unsigned int realloc_log2_span;
	/* The live set (requested bytes) is kept near this percentage of
	 * the region. */
	unsigned int live_pct;
};

/* A size distribution with its log-uniform span precomputed. */
struct wl_size_draw {
	uint32_t lo;
	uint32_t hi;
	bool log;
	/* log2((hi + 1) / lo) in 16.16 fixed point. */
	uint32_t span_q16;
};

struct wl_gen {
	const struct workload_spec *spec;
	struct prng rng;
	struct wl_size_draw sizes;
	struct wl_size_draw resizes;
	uint64_t live_bytes;
	uint64_t target_bytes;
	/* capacity entries each, from the caller's words (see wl_init). */
	uint32_t *live;
	uint32_t *spare;
	uint32_t *size;
	uint32_t capacity;
	uint32_t nlive;
	uint32_t nspare;
	/* Slots used so far (the driver's table needs this many). */
	uint32_t nslots;
	/* Ops generated so far, and how many had been generated when the
	 * live bytes first reached the target (0 until then). */
	uint64_t ops;
	uint64_t fill_ops;
	uint32_t forced_frees;
};

/* Words of caller storage per slot (wl_init's words). */
#define WL_WORDS_PER_SLOT 3u

/* Slots for a region: one per 64 bytes, at least 64. The small
 * workload's model holds one live block per 136 bytes or so, so the cap
 * is a safety net, not a shape. */
uint32_t wl_slot_capacity(size_t region_bytes);

/* Start the workload spec over a region of region_bytes (the live
 * target is live_pct of it). words: WL_WORDS_PER_SLOT * capacity
 * uint32_t the generator owns until the run ends. */
void wl_init(struct wl_gen *g, const struct workload_spec *spec,
	     size_t region_bytes, uint32_t *words, uint32_t capacity);

/* The next op of the workload. */
void wl_next(struct wl_gen *g, struct op *op);

/* Has the model's live set reached its target yet? */
static inline bool wl_filled(const struct wl_gen *g)
{
	return g->fill_ops != 0u;
}

/* A size distribution over [lo, hi], 1 <= lo <= hi < 2^31. */
struct wl_size_draw wl_size_draw_make(uint32_t lo, uint32_t hi, bool log);
uint32_t wl_draw_size(struct prng *r, const struct wl_size_draw *d);

/* Log-uniform in [lo, hi] (ln(size) uniform), the same arithmetic as
 * the workloads' sizes. */
uint32_t wl_log_uniform(struct prng *r, uint32_t lo, uint32_t hi);

/* The standard workloads. ops and region may be scaled by the caller
 * (quick mode, W5 sizes). */
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

#endif /* KHEAP_BENCH_WORKLOAD_GEN_H */
