/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Replay of a trace on a sys_heap (see replay.h), and the heap's layout
 * read back with sys_heap_walk.
 */
#include "replay.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util.h"

/* Replay regions are placed at this alignment plus the recorded phase,
 * so that alignments up to it fall as they did in the recording. */
#define REGION_ALIGN_BYTES 4096u

/* The k_malloc family's alignment: max_align_t on Cortex-M, at least a
 * pointer (core/kernel/kmalloc.c, KMALLOC_ALIGN). */
static uint64_t kmalloc_align(unsigned int ptr_bytes)
{
	return ptr_bytes > 8u ? ptr_bytes : 8u;
}

unsigned int replay_header_bytes_for(uint64_t heap_bytes)
{
	return heap_bytes <= SYS_HEAP_SMALL_REGION_MAX_BYTES ? 4u : 8u;
}

int replay_open(struct replay *r, const struct trace *t,
		const struct replay_config *cfg, char *err, size_t err_size)
{
	memset(r, 0, sizeof(*r));
	r->trace = t;
	r->cfg = *cfg;
	/* The region is 4096-aligned: Z_HEAP_MIN_SIZE is its minimum. */
	if (cfg->heap_bytes < Z_HEAP_MIN_SIZE) {
		snprintf(err, err_size,
			 "heap size %" PRIu64 " bytes is below sys_heap's "
			 "minimum region (%u bytes)",
			 cfg->heap_bytes, (unsigned int)Z_HEAP_MIN_SIZE);
		return REPLAY_OPEN_BAD_CONFIG;
	}
	if (cfg->heap_bytes > SYS_HEAP_MAX_REGION_BYTES ||
	    cfg->heap_bytes > SIZE_MAX - 2u * REGION_ALIGN_BYTES) {
		snprintf(err, err_size,
			 "heap size %" PRIu64 " bytes is above sys_heap's "
			 "maximum region (%" PRIu64 " bytes)",
			 cfg->heap_bytes, (uint64_t)SYS_HEAP_MAX_REGION_BYTES);
		return REPLAY_OPEN_BAD_CONFIG;
	}
	if (cfg->ptr_bytes != 4u && cfg->ptr_bytes != 8u) {
		snprintf(err, err_size, "pointer size must be 4 or 8 bytes");
		return REPLAY_OPEN_BAD_CONFIG;
	}
	size_t span = (size_t)cfg->heap_bytes + cfg->phase;

	span = (span + REGION_ALIGN_BYTES - 1u) &
	       ~(size_t)(REGION_ALIGN_BYTES - 1u);
	r->region_alloc = aligned_alloc(REGION_ALIGN_BYTES, span);
	if (r->region_alloc == NULL) {
		snprintf(err, err_size,
			 "out of memory: cannot allocate %" PRIu64
			 " bytes for the replayed heap",
			 cfg->heap_bytes);
		return REPLAY_OPEN_NO_MEMORY;
	}
	r->region = (unsigned char *)r->region_alloc + cfg->phase;
	if (sys_heap_init(&r->heap, r->region, (size_t)cfg->heap_bytes) != 0) {
		snprintf(err, err_size,
			 "sys_heap_init refused a region of %" PRIu64 " bytes",
			 cfg->heap_bytes);
		free(r->region_alloc);
		return REPLAY_OPEN_BAD_CONFIG;
	}
	r->blocks = xcalloc(t->block_count, sizeof(*r->blocks));
	return 0;
}

void replay_close(struct replay *r)
{
	/* The blocks the trace never freed go back to the heap before the
	 * region does: a memory checker that watches the heap (the valgrind
	 * preset) would otherwise report them as the tool's own leaks. */
	if (r->blocks != NULL && r->trace != NULL) {
		for (size_t i = 0; i < r->trace->block_count; i++) {
			if (r->blocks[i] != NULL) {
				sys_heap_free(&r->heap, r->blocks[i]);
			}
		}
	}
	free(r->blocks);
	free(r->region_alloc);
	memset(r, 0, sizeof(*r));
}

/*
 * The sys_heap request the kernel layer makes for an event: k_heap_*
 * pass align and size through; the k_malloc family asks for its
 * alignment (at least 8) in rewind form A | R and R more bytes, R being
 * the heap reference (a pointer) stored just below the caller's block.
 * False if the kernel layer would refuse the request outright.
 */
static bool sys_request(const struct replay *r, const struct trace_event *e,
			size_t *align, size_t *bytes)
{
	uint64_t n = e->size_bytes;
	uint64_t a = trace_op_is_aligned((enum trace_op)e->op) ? e->align : 0u;

	if (e->size_overflow) {
		return false;
	}
	if (trace_op_is_kmalloc_family((enum trace_op)e->op)) {
		uint64_t ref = r->cfg.ptr_bytes;
		uint64_t base = kmalloc_align(r->cfg.ptr_bytes);

		if ((a & (a - 1u)) != 0u) {
			return false;
		}
		a = a < base ? base : a;
		if (n > UINT64_MAX - ref) {
			return false;
		}
		n += ref;
		a |= ref;
	}
	if (n > SIZE_MAX || a > SIZE_MAX) {
		return false;
	}
	*align = (size_t)a;
	*bytes = (size_t)n;
	return true;
}

static uint64_t block_requested(const struct replay *r, uint32_t block)
{
	const struct trace *t = r->trace;

	return t->events[t->blocks[block].alloc_event].size_bytes;
}

static void release(struct replay *r, uint32_t block)
{
	sys_heap_free(&r->heap, r->blocks[block]);
	r->blocks[block] = NULL;
	r->live_requested_bytes -= block_requested(r, block);
}

static enum replay_outcome place(struct replay *r, uint32_t block, void *p)
{
	r->blocks[block] = p;
	if (p == NULL) {
		return REPLAY_FAILED;
	}
	r->live_requested_bytes += block_requested(r, block);
	return REPLAY_DONE;
}

enum replay_outcome replay_step(struct replay *r)
{
	const struct trace_event *e = &r->trace->events[r->next_event++];
	enum trace_op op = (enum trace_op)e->op;
	size_t align = 0, bytes = 0;

	/* A free the recorder could not place may be on any heap. */
	if (e->heap == TRACE_NO_HEAP && e->arg == TRACE_UNKNOWN_BLOCK) {
		return REPLAY_UNKNOWN_FREE;
	}
	if (e->heap != (uint32_t)r->cfg.heap) {
		return REPLAY_OTHER_HEAP;
	}
	if (trace_op_is_free(op) ||
	    (trace_op_is_realloc(op) && e->size_bytes == 0u)) {
		if (e->arg == TRACE_NO_BLOCK) {
			return REPLAY_NOOP;
		}
		if (e->arg == TRACE_UNKNOWN_BLOCK) {
			return REPLAY_UNKNOWN_FREE;
		}
		if (r->blocks[e->arg - 1u] == NULL) {
			return REPLAY_NOOP;
		}
		release(r, e->arg - 1u);
		return REPLAY_DONE;
	}
	if (e->result == TRACE_NO_BLOCK) {
		return REPLAY_RECORDED_FAILED;
	}
	uint32_t block = e->result - 1u;
	bool valid = sys_request(r, e, &align, &bytes);

	if (trace_op_is_realloc(op) && e->arg != TRACE_NO_BLOCK &&
	    e->arg != TRACE_UNKNOWN_BLOCK && r->blocks[e->arg - 1u] != NULL) {
		uint32_t old = e->arg - 1u;
		void *p = valid ? sys_heap_aligned_realloc(&r->heap,
							   r->blocks[old],
							   align, bytes)
				: NULL;

		if (p == NULL) {
			/* The recorded program no longer holds the old
			 * block: let it go rather than cascade. */
			release(r, old);
			return place(r, block, NULL);
		}
		r->blocks[old] = NULL;
		r->live_requested_bytes -= block_requested(r, old);
		return place(r, block, p);
	}
	/* An allocation, or a realloc of nothing (NULL, a block that failed
	 * here, or one the recorder did not know). */
	return place(r, block,
		     valid ? sys_heap_aligned_alloc(&r->heap, align, bytes)
			   : NULL);
}

void replay_stats(const struct replay *r, struct replay_stats *stats)
{
	struct sys_memory_stats s;

	(void)sys_heap_runtime_stats_get(&r->heap, &s);
	stats->free_bytes = s.free_bytes;
	stats->allocated_bytes = s.allocated_bytes;
	stats->max_alloc_bytes = sys_heap_max_alloc_bytes(&r->heap);
	stats->max_allocated_bytes = s.max_allocated_bytes;
}

double replay_fragmentation(const struct replay_stats *stats)
{
	if (stats->free_bytes == 0u) {
		return 0.0;
	}
	double f = 1.0 -
		   (double)stats->max_alloc_bytes / (double)stats->free_bytes;

	return f < 0.0 ? 0.0 : f;
}

void *replay_block_ptr(const struct replay *r, uint32_t block_index)
{
	return r->blocks[block_index];
}

uint64_t replay_block_requested(const struct replay *r, uint32_t block_index,
				uint64_t *offset_bytes)
{
	const struct trace *t = r->trace;
	const struct trace_event *e =
		&t->events[t->blocks[block_index].alloc_event];

	*offset_bytes = trace_op_is_kmalloc_family((enum trace_op)e->op)
				? r->cfg.ptr_bytes
				: 0u;
	return e->size_bytes;
}

long replay_count_failures(const struct trace *t,
			   const struct replay_config *cfg,
			   bool stop_at_failure, size_t *first_failure,
			   char *err, size_t err_size)
{
	struct replay r;
	long failures = 0;

	if (replay_open(&r, t, cfg, err, err_size) != 0) {
		return -1;
	}
	while (r.next_event < t->event_count) {
		if (replay_step(&r) == REPLAY_FAILED) {
			if (failures++ == 0 && first_failure != NULL) {
				*first_failure = r.next_event - 1u;
			}
			if (stop_at_failure) {
				break;
			}
		}
	}
	replay_close(&r);
	return failures;
}

/* ---- layout ------------------------------------------------------------ */

struct live_block {
	uintptr_t address;
	uint32_t block;
};

static int compare_live(const void *a, const void *b)
{
	uintptr_t x = ((const struct live_block *)a)->address;
	uintptr_t y = ((const struct live_block *)b)->address;

	return x < y ? -1 : x > y ? 1 : 0;
}

static void add_segment(struct layout *l, size_t *capacity, uint64_t offset,
			uint64_t bytes, enum layout_kind kind)
{
	if (bytes == 0u) {
		return;
	}
	if (l->count > 0u) {
		struct layout_segment *last = &l->segments[l->count - 1u];

		if (last->kind == kind &&
		    last->offset_bytes + last->bytes == offset) {
			last->bytes += bytes;
			return;
		}
	}
	if (l->count == *capacity) {
		*capacity = *capacity ? *capacity * 2u : 256u;
		l->segments =
			xrealloc(l->segments, *capacity * sizeof(*l->segments));
	}
	l->segments[l->count++] = (struct layout_segment){
		.offset_bytes = offset,
		.bytes = bytes,
		.kind = kind,
	};
}

static struct layout_block *add_block(struct layout *l, size_t *capacity)
{
	if (l->block_count == *capacity) {
		*capacity = *capacity ? *capacity * 2u : 64u;
		l->blocks = xrealloc(l->blocks, *capacity * sizeof(*l->blocks));
	}
	return &l->blocks[l->block_count++];
}

/* sys_heap_walk's visitor: one block of the heap, in address order. */
struct layout_walk {
	const struct replay *r;
	struct layout *out;
	size_t capacity;
	size_t block_capacity;
	const struct live_block *live; /* in address order */
	size_t live_count, next_live;
	uint64_t end; /* offset of the end of the last block visited */
	bool bad;
};

static bool layout_block(void *ctx, const struct sys_heap_block *b)
{
	struct layout_walk *w = ctx;
	struct layout *out = w->out;
	uintptr_t base = (uintptr_t)w->r->region;
	uint64_t start = (uintptr_t)b->header - base;
	uint64_t body = start + b->header_bytes;
	uint64_t end = start + b->block_bytes;

	if (w->end == 0u) {
		/* Everything before the first block is the control block. */
		out->header_bytes = (unsigned int)b->header_bytes;
		add_segment(out, &w->capacity, 0, start, LAYOUT_CONTROL);
	}
	w->end = end;
	struct layout_block *lb = add_block(out, &w->block_capacity);

	*lb = (struct layout_block){
		.offset_bytes = start,
		.bytes = b->block_bytes,
		.used = b->used,
		.trace_block = UINT32_MAX,
	};
	add_segment(out, &w->capacity, start, b->header_bytes, LAYOUT_HEADER);
	if (!b->used) {
		if (b->block_bytes > out->largest_free_bytes) {
			out->largest_free_bytes = b->block_bytes;
		}
		add_segment(out, &w->capacity, body, end - body, LAYOUT_FREE);
		return true;
	}
	while (w->next_live < w->live_count &&
	       w->live[w->next_live].address < base + body) {
		w->next_live++;
	}
	if (w->next_live == w->live_count ||
	    w->live[w->next_live].address >= base + end) {
		/* Not a block of this replay (cannot happen). */
		add_segment(out, &w->capacity, body, end - body, LAYOUT_SLACK);
		return true;
	}
	uint64_t offset;
	uint64_t p = w->live[w->next_live].address - base;
	uint64_t requested = replay_block_requested(
		w->r, w->live[w->next_live].block, &offset);
	uint64_t data = p + offset;
	uint64_t data_end = data + requested;

	if (data_end > end) {
		w->bad = true;
		return false;
	}
	lb->trace_block = w->live[w->next_live].block;
	lb->requested_bytes = requested;
	add_segment(out, &w->capacity, body, p - body, LAYOUT_SLACK);
	add_segment(out, &w->capacity, p, offset, LAYOUT_HEADER);
	add_segment(out, &w->capacity, data, requested, LAYOUT_USED);
	add_segment(out, &w->capacity, data_end, end - data_end, LAYOUT_SLACK);
	w->next_live++;
	return true;
}

int replay_layout(const struct replay *r, struct layout *out, char *err,
		  size_t err_size)
{
	const struct trace *t = r->trace;
	struct layout_walk w = {.r = r, .out = out};

	memset(out, 0, sizeof(*out));
	out->region_bytes = r->cfg.heap_bytes;

	/* The replay's live blocks in address order, to match used blocks. */
	struct live_block *live =
		xmalloc((t->block_count + 1u) * sizeof(*live));

	for (uint32_t b = 0; b < t->block_count; b++) {
		if (r->blocks[b] != NULL) {
			live[w.live_count++] = (struct live_block){
				.address = (uintptr_t)r->blocks[b],
				.block = b,
			};
		}
	}
	qsort(live, w.live_count, sizeof(*live), compare_live);
	w.live = live;

	int rc = sys_heap_walk(&r->heap, layout_block, &w);

	free(live);
	/* The end sentinel is a header-only block after the last one. */
	if (rc != 0 || w.bad || w.end == 0u ||
	    w.end + out->header_bytes > r->cfg.heap_bytes) {
		if (rc != 0) {
			snprintf(err, err_size, "sys_heap_walk failed (%d)",
				 rc);
		} else {
			snprintf(err, err_size,
				 "the heap's blocks do not fit the region and "
				 "the replay's blocks (sys_heap_walk)");
		}
		layout_free(out);
		return -1;
	}
	add_segment(out, &w.capacity, w.end, out->header_bytes, LAYOUT_HEADER);
	add_segment(out, &w.capacity, w.end + out->header_bytes,
		    r->cfg.heap_bytes - w.end - out->header_bytes,
		    LAYOUT_CONTROL);
	return 0;
}

void layout_free(struct layout *l)
{
	free(l->segments);
	free(l->blocks);
	memset(l, 0, sizeof(*l));
}
