/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Heap map images: the region as a grid of cells coloured by what its
 * bytes hold (control block, headers, requested bytes, slack, free), at
 * chosen moments of a replay, above the usage and fragmentation curves
 * over the whole trace. One drawing routine feeds two outputs: SVG (text
 * elements, one rect per run of equal cells) and PNG (our own encoder,
 * a 5x7 font for labels).
 */
#ifndef KHEAP_TOOL_RENDER_H
#define KHEAP_TOOL_RENDER_H

#include <stddef.h>
#include <stdint.h>

#include "replay.h"

/* Image geometry (pixels). */
#define MAP_WIDTH_PX 960u
#define MAP_GRID_X_PX 32u
#define MAP_GRID_COLUMNS 128u
#define MAP_CELL_PX 7u
#define MAP_GRID_MAX_ROWS 64u
#define MAP_PLOT_WIDTH_PX (MAP_GRID_COLUMNS * MAP_CELL_PX)
#define MAP_PLOT_HEIGHT_PX 160u

/* Why a moment is drawn; one event can be chosen for several reasons. */
enum map_reason {
	MAP_REASON_AT = 1u << 0,    /* an event number given to --at */
	MAP_REASON_PEAK = 1u << 1,  /* most bytes allocated */
	MAP_REASON_WORST = 1u << 2, /* most fragmented */
	MAP_REASON_END = 1u << 3,   /* after the last event */
};
#define MAP_REASON_KINDS 4u

struct map_moment {
	size_t event;         /* events applied: 0 = the empty heap */
	unsigned int reasons; /* enum map_reason bits */
	/* The event's line, tick, operation and site ("" for event 0). */
	char caption[160];
	struct layout layout;
	struct replay_stats stats;
};

/* Per plot column: the highest usage and fragmentation (0..1) among the
 * events that fall in it. */
struct map_series {
	size_t event_count;
	float usage[MAP_PLOT_WIDTH_PX];
	float fragmentation[MAP_PLOT_WIDTH_PX];
};

struct map_doc {
	char title[160];
	char subtitle[160];
	const struct map_moment *moments;
	size_t moment_count;
	const struct map_series *series;
};

enum map_format {
	MAP_SVG,
	MAP_PNG,
};

/* Bytes per grid cell for a region: 4 (a small header) or the next
 * power of two that keeps the grid within MAP_GRID_MAX_ROWS rows. */
uint64_t map_cell_bytes(uint64_t region_bytes);

/* The plot column of event index i (0-based) among n events. */
size_t map_column_of(size_t i, size_t n);

/* The reason bit's name in JSON and SVG: "at", "peak", "worst", "end"
 * (bit: a single enum map_reason value). */
const char *map_reason_key(enum map_reason bit);

/* The label of a moment: why it was chosen and when, as in "peak (most
 * bytes allocated), end of the trace: after event 926". */
void map_moment_label(const struct map_moment *mo, char *buf, size_t size);

/* Image height in pixels for a document. */
uint32_t map_height(const struct map_doc *doc);

/* Write the image. Returns 0, or -1 with err set (cannot write). */
int map_write(const char *path, enum map_format format,
	      const struct map_doc *doc, char *err, size_t err_size);

#endif /* KHEAP_TOOL_RENDER_H */
