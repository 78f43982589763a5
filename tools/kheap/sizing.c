/* SPDX-License-Identifier: Apache-2.0 */
/*
 * `kheap size` (see sizing.h for the guarantee and the method).
 */
#include "sizing.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "util.h"

/* Where the first chunk lies, how many bytes of chunks, which header
 * format: everything about a region size that the allocator sees. */
struct geometry {
	uint64_t first_chunk_offset;
	uint64_t blocks_bytes;
	unsigned int header_bytes;
};

/* sys_heap_walk's visitor: the first block's header, the blocks' total. */
struct geometry_walk {
	uintptr_t region;
	struct geometry *out;
	unsigned int blocks;
};

static bool geometry_block(void *ctx, const struct sys_heap_block *b)
{
	struct geometry_walk *w = ctx;

	if (w->blocks++ == 0u) {
		w->out->first_chunk_offset = (uintptr_t)b->header - w->region;
		w->out->header_bytes = (unsigned int)b->header_bytes;
	}
	w->out->blocks_bytes += b->block_bytes;
	return true;
}

static bool geometry_of(uint64_t bytes, unsigned int phase,
			struct geometry *out)
{
	size_t span = ((size_t)bytes + phase + 4095u) & ~(size_t)4095u;
	unsigned char *mem = aligned_alloc(4096u, span);
	struct sys_heap heap;
	struct geometry g = {0};
	struct geometry_walk w = {.region = (uintptr_t)(mem + phase),
				  .out = &g};
	bool ok;

	if (mem == NULL) {
		return false;
	}
	ok = sys_heap_init(&heap, mem + phase, (size_t)bytes) == 0 &&
	     sys_heap_walk(&heap, geometry_block, &w) == 0 && w.blocks > 0u;
	if (ok) {
		*out = g;
	}
	free(mem);
	return ok;
}

static bool same_geometry(const struct geometry *a, const struct geometry *b)
{
	return a->first_chunk_offset == b->first_chunk_offset &&
	       a->blocks_bytes == b->blocks_bytes &&
	       a->header_bytes == b->header_bytes;
}

uint64_t sizing_peak_requested(const struct trace *t, int heap)
{
	uint64_t live = 0, peak = 0;

	for (size_t i = 0; i < t->event_count; i++) {
		const struct trace_event *e = &t->events[i];

		if (e->heap != (uint32_t)heap) {
			continue;
		}
		if (e->arg != TRACE_NO_BLOCK && e->arg != TRACE_UNKNOWN_BLOCK &&
		    t->blocks[e->arg - 1u].release_event == i) {
			live -= t->events[t->blocks[e->arg - 1u].alloc_event]
					.size_bytes;
		}
		if (e->result != TRACE_NO_BLOCK && !e->size_overflow) {
			live += e->size_bytes;
		}
		peak = live > peak ? live : peak;
	}
	return peak;
}

struct search {
	const struct trace *t;
	const struct sizing_config *cfg;
	struct sizing_result *out;
	char *err;
	size_t err_size;
	bool error;
	size_t last_fail_event;
};

/* Whether the trace replays without failure on a heap of `bytes`. */
static bool works(struct search *s, uint64_t bytes)
{
	struct replay_config rc = s->cfg->replay;
	size_t first = 0;

	if (s->error) {
		return false;
	}
	rc.heap_bytes = bytes;
	if (s->cfg->progress) {
		fprintf(stderr,
			"\rkheap size: replay %lu at %" PRIu64 " bytes        ",
			s->out->replays + 1u, bytes);
		fflush(stderr);
	}
	long failures = replay_count_failures(s->t, &rc, true, &first, s->err,
					      s->err_size);

	s->out->replays++;
	if (failures < 0) {
		s->error = true;
		return false;
	}
	if (failures > 0) {
		s->last_fail_event = first;
	}
	return failures == 0;
}

/* The smallest working size above lo, which fails, assuming failure is
 * monotone between lo and the size found (a binary search). 0 if no size
 * up to the range's end works. */
static uint64_t first_working_above(struct search *s, uint64_t lo)
{
	uint64_t max = s->cfg->max_bytes;
	uint64_t step = lo / 4u > 64u ? lo / 4u : 64u;
	uint64_t hi = lo;

	/* Grow geometrically to a size that works. */
	for (;;) {
		hi = max - hi < step ? max : hi + step;
		if (works(s, hi)) {
			break;
		}
		if (hi == max || s->error) {
			s->out->fail_event_at_max = s->last_fail_event;
			return 0;
		}
		lo = hi;
		step *= 2u;
	}
	while (hi - lo > 1u) {
		uint64_t mid = lo + (hi - lo) / 2u;

		if (works(s, mid)) {
			hi = mid;
		} else {
			lo = mid;
		}
	}
	return hi;
}

/*
 * Check the sizes in (from, to] one per distinct geometry; return the
 * first that fails, or 0 if all work.
 */
static uint64_t first_failure_in(struct search *s, uint64_t from, uint64_t to)
{
	struct geometry previous = {0}, g = {0};
	unsigned int phase = s->cfg->replay.phase;

	if (!geometry_of(from, phase, &previous)) {
		previous.blocks_bytes = UINT64_MAX;
	}
	for (uint64_t b = from + 1u; b <= to && !s->error; b++) {
		if (geometry_of(b, phase, &g) && same_geometry(&g, &previous)) {
			continue;
		}
		previous = g;
		if (!works(s, b)) {
			return b;
		}
	}
	return 0;
}

/* The smallest size >= start that works with a clean window above it. */
static uint64_t stable_from(struct search *s, uint64_t start,
			    uint64_t *window_end, bool *clipped)
{
	uint64_t candidate = works(s, start) ? start
					     : first_working_above(s, start);

	while (candidate != 0u && !s->error) {
		uint64_t end = candidate + s->cfg->window_bytes;

		*clipped = end > s->cfg->max_bytes;
		if (*clipped) {
			end = s->cfg->max_bytes;
		}
		uint64_t failing = first_failure_in(s, candidate, end);

		if (failing == 0u) {
			*window_end = end;
			return candidate;
		}
		candidate = first_working_above(s, failing);
	}
	return 0;
}

int sizing_run(const struct trace *t, const struct sizing_config *cfg,
	       struct sizing_result *out, char *err, size_t err_size)
{
	struct search s = {
		.t = t,
		.cfg = cfg,
		.out = out,
		.err = err,
		.err_size = err_size,
	};
	uint64_t lower = cfg->min_bytes;
	uint64_t peak = sizing_peak_requested(t, cfg->replay.heap);

	memset(out, 0, sizeof(*out));
	if (cfg->min_bytes < Z_HEAP_MIN_SIZE ||
	    cfg->max_bytes < cfg->min_bytes) {
		snprintf(err, err_size, "empty search range");
		return -1;
	}
	/* A region smaller than the requested bytes live at the peak
	 * cannot hold them: the search starts there. */
	if (peak > lower) {
		lower = peak < cfg->max_bytes ? peak : cfg->max_bytes;
	}
	bool clipped = false;
	uint64_t window_end = 0;
	uint64_t found = stable_from(&s, lower, &window_end, &clipped);

	if (s.error) {
		goto done;
	}
	if (found == 0u) {
		goto done;
	}
	out->found = true;
	out->min_bytes = found;
	out->window_end_bytes = window_end;
	out->window_clipped = clipped;
	if (found > cfg->min_bytes) {
		out->below_fails = !works(&s, found - 1u);
		out->below_fail_event = s.last_fail_event;
		/* Isolated successes just below: the same window. */
		uint64_t from = found - 1u > cfg->window_bytes
					? found - 1u - cfg->window_bytes
					: cfg->min_bytes;

		from = from < cfg->min_bytes ? cfg->min_bytes : from;
		struct geometry previous = {0}, g = {0};

		previous.blocks_bytes = UINT64_MAX;
		for (uint64_t b = found - 1u; b >= from && b > 0u && !s.error;
		     b--) {
			if (geometry_of(b, cfg->replay.phase, &g) &&
			    same_geometry(&g, &previous)) {
				continue;
			}
			previous = g;
			if (b != found - 1u && works(&s, b)) {
				out->isolated_success = b;
				break;
			}
		}
	}
	/* The margin size, and the stable size from there if it fails. */
	uint64_t with_margin =
		found + (found * cfg->margin_percent + 99u) / 100u;

	if (with_margin <= cfg->max_bytes && !s.error) {
		bool margin_clipped;
		uint64_t margin_end;

		out->margin_bytes = with_margin <= window_end
					    ? with_margin
					    : stable_from(&s, with_margin,
							  &margin_end,
							  &margin_clipped);
		out->margin_found = out->margin_bytes != 0u;
	}
done:
	if (cfg->progress) {
		fprintf(stderr, "\r%60s\r", "");
	}
	return s.error ? -1 : 0;
}

uint64_t sizing_pool_size_for_region(uint64_t region_bytes)
{
	uint64_t low = 1u;
	uint64_t high = region_bytes > 1u ? region_bytes : 1u;

	/* Z_HEAP_MIN_SIZE_FOR(C) > C, so C = region_bytes is enough. */
	while (low < high) {
		uint64_t mid = low + (high - low) / 2u;

		if (Z_HEAP_MIN_SIZE_FOR(mid) >= region_bytes) {
			high = mid;
		} else {
			low = mid + 1u;
		}
	}
	return low;
}
