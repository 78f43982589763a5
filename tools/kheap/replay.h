/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Replaying a trace on a sys_heap of a chosen size.
 *
 * The replay performs, for each event of the selected heap, the
 * sys_heap call that the kernel layer makes for it (the k_malloc family
 * adds its heap reference: align | ptr_bytes and size + ptr_bytes, as
 * core/kernel/kmalloc.c does), on a fresh sys_heap over a region of
 * heap_bytes bytes placed at the recorded address phase. Rules
 * (docs/trace-format.md, "Replay"):
 * - an event recorded as failed (id '-') is not replayed: it changed
 *   nothing in the recorded program;
 * - an event that succeeded in the recording but returns NULL here is a
 *   failure of this heap size; its block is then absent, later frees of
 *   it do nothing and a realloc of it allocates afresh; a failed realloc
 *   also releases the old block (the recorded program no longer held
 *   it), so that one failure does not cascade into others;
 * - frees of unknown blocks ('?') are counted and skipped (on every heap
 *   when the trace does not say which heap they were on).
 */
#ifndef KHEAP_TOOL_REPLAY_H
#define KHEAP_TOOL_REPLAY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <zephyr/sys/sys_heap.h>

#include "trace.h"

/* What replay_step() did with an event. */
enum replay_outcome {
	REPLAY_DONE,            /* replayed, succeeded */
	REPLAY_FAILED,          /* returned NULL here, not in the recording */
	REPLAY_OTHER_HEAP,      /* belongs to another heap: skipped */
	REPLAY_RECORDED_FAILED, /* failed in the recording: skipped */
	REPLAY_UNKNOWN_FREE,    /* frees a block the recorder did not know */
	REPLAY_NOOP,            /* free(NULL), or of a block that failed */
};

struct replay_config {
	int heap;               /* index into trace.heaps */
	uint64_t heap_bytes;    /* region size given to sys_heap_init */
	unsigned int phase;     /* region address modulo 4096 */
	unsigned int ptr_bytes; /* pointer size of the modelled target */
};

struct replay {
	const struct trace *trace;
	struct replay_config cfg;
	struct sys_heap heap;
	void *region_alloc;    /* what to free */
	unsigned char *region; /* the region given to sys_heap_init */
	void **blocks;         /* per trace block: sys_heap pointer or NULL */
	uint64_t live_requested_bytes;
	size_t next_event;
};

/* What replay_open returns besides 0. */
enum replay_open_error {
	/* heap_bytes outside sys_heap_init's range, a bad pointer size. */
	REPLAY_OPEN_BAD_CONFIG = -1,
	/* The host could not allocate the region. */
	REPLAY_OPEN_NO_MEMORY = -2,
};

/* Checks the configuration and allocates the region. Returns 0, or an
 * enum replay_open_error with a message in err. */
int replay_open(struct replay *r, const struct trace *t,
		const struct replay_config *cfg, char *err, size_t err_size);
void replay_close(struct replay *r);

/* Replay event r->next_event and advance. */
enum replay_outcome replay_step(struct replay *r);

/* Heap statistics after the last step. */
struct replay_stats {
	uint64_t free_bytes;      /* sys_heap_runtime_stats_get */
	uint64_t allocated_bytes; /* whole chunks, headers included */
	uint64_t max_alloc_bytes; /* sys_heap_max_alloc_bytes */
	/* The heap's own watermark of allocated_bytes: it also sees the
	 * moment inside a moving realloc when both blocks are allocated. */
	uint64_t max_allocated_bytes;
};

void replay_stats(const struct replay *r, struct replay_stats *stats);

/* 1 - max_alloc_bytes / free_bytes: 0 when the free space is one block
 * (or nothing is free), towards 1 when it is scattered. */
double replay_fragmentation(const struct replay_stats *stats);

/* The pointer a block has in this replay (NULL: not live here). */
void *replay_block_ptr(const struct replay *r, uint32_t block_index);

/* The bytes of a live block the caller asked for, and where they start
 * (after the k_malloc family's heap reference). */
uint64_t replay_block_requested(const struct replay *r, uint32_t block_index,
				uint64_t *offset_bytes);

/* Header format the region size implies (4 or 8 bytes). */
unsigned int replay_header_bytes_for(uint64_t heap_bytes);

/*
 * Run a whole replay of the trace with cfg and count failures (stops at
 * the first failure if stop_at_failure). Returns the failure count, or
 * -1 with err set. first_failure gets the index of the first failed event
 * (if any).
 */
long replay_count_failures(const struct trace *t,
			   const struct replay_config *cfg,
			   bool stop_at_failure, size_t *first_failure,
			   char *err, size_t err_size);

/* ---- the heap's layout (for maps) -------------------------------------- */

enum layout_kind {
	LAYOUT_CONTROL, /* control block, alignment slack at the ends */
	LAYOUT_HEADER,  /* block headers, the k_malloc heap reference */
	LAYOUT_USED,    /* bytes the program asked for */
	LAYOUT_SLACK,   /* rounding and alignment inside used blocks */
	LAYOUT_FREE,    /* free blocks (after their headers) */
	LAYOUT_KINDS,
};

struct layout_segment {
	uint64_t offset_bytes; /* from the start of the region */
	uint64_t bytes;
	enum layout_kind kind;
};

/* A block of the heap as sys_heap_walk reports it. */
struct layout_block {
	uint64_t offset_bytes; /* of its header, from the region's start */
	uint64_t bytes;        /* header included */
	bool used;
	uint32_t trace_block; /* block index in the trace; UINT32_MAX: none */
	uint64_t requested_bytes; /* used blocks of the replay; else 0 */
};

struct layout {
	struct layout_segment *segments;
	size_t count;
	struct layout_block *blocks; /* address order, end marker excluded */
	size_t block_count;
	uint64_t region_bytes;
	uint64_t largest_free_bytes; /* largest free block, header included */
	unsigned int header_bytes;
};

/*
 * Describe the region byte by byte, from the heap's own blocks
 * (sys_heap_walk) and the replay's live blocks. Returns 0, or -1 with err
 * set if the walk fails or its blocks do not fit the region.
 */
int replay_layout(const struct replay *r, struct layout *out, char *err,
		  size_t err_size);
void layout_free(struct layout *l);

#endif /* KHEAP_TOOL_REPLAY_H */
