/* SPDX-License-Identifier: Apache-2.0 */
/*
 * `kheap size`: the smallest heap on which a trace never fails.
 *
 * Failure is not monotone in the heap size for every trace: a larger
 * region moves the end of the last free block into another size class
 * (the good-fit search then picks other blocks), grows the control block
 * at some sizes, and above SYS_HEAP_SMALL_REGION_MAX_BYTES switches to
 * 8-byte headers. So the search gives this guarantee (docs/tools.md):
 *
 *   the answer S works, S - 1 fails (unless S is the lower end of the
 *   range), and every size from S to S + window works.
 *
 * Sizes are checked through the heap geometry they produce (where the
 * first chunk starts, how many chunks, header format): sizes with the same
 * geometry replay identically, so a window is checked with one replay
 * per distinct geometry. It is found by a binary search, then the window
 * above it is checked; a failure there restarts the search above the
 * failing size. The same window below S is also checked, and sizes there
 * that work (isolated successes) are reported.
 */
#ifndef KHEAP_TOOL_SIZING_H
#define KHEAP_TOOL_SIZING_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "replay.h"

struct sizing_config {
	struct replay_config replay; /* heap_bytes is ignored */
	uint64_t min_bytes;          /* search range, inclusive */
	uint64_t max_bytes;
	uint64_t window_bytes;
	unsigned int margin_percent;
	bool progress;
};

struct sizing_result {
	bool found;
	uint64_t min_bytes;        /* S */
	bool below_fails;          /* S - 1 was replayed and fails */
	size_t below_fail_event;   /* first failing event at S - 1 */
	uint64_t window_end_bytes; /* every size in [S, this] works */
	bool window_clipped;       /* stopped at the range's end */
	uint64_t isolated_success; /* a size below S that works, or 0 */
	bool margin_found;
	uint64_t margin_bytes; /* smallest stable size >= S * (1 + margin) */
	unsigned long replays; /* replays run */
	/* When nothing fits: the first event failing at max_bytes. */
	size_t fail_event_at_max;
};

/* Returns 0, or -1 with err set (configuration errors). */
int sizing_run(const struct trace *t, const struct sizing_config *cfg,
	       struct sizing_result *out, char *err, size_t err_size);

/* The largest sum of requested bytes live at once on the heap (a lower
 * bound for any region that fits the trace). */
uint64_t sizing_peak_requested(const struct trace *t, int heap);

/*
 * The CONFIG_HEAP_MEM_POOL_SIZE whose system heap has a region of at
 * least region_bytes: the smallest C >= 1 with Z_HEAP_MIN_SIZE_FOR(C) >=
 * region_bytes (the system heap's region is Z_HEAP_MIN_SIZE_FOR(C),
 * kheap/k_heap.h). Z_HEAP_MIN_SIZE_FOR grows with C, so a binary search.
 */
uint64_t sizing_pool_size_for_region(uint64_t region_bytes);

#endif /* KHEAP_TOOL_SIZING_H */
