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

struct map_moment {
	size_t event; /* events applied: 0 = the empty heap */
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

/* Image height in pixels for a document. */
uint32_t map_height(const struct map_doc *doc);

/* Write the image. Returns 0, or -1 with err set (cannot write). */
int map_write(const char *path, enum map_format format,
	      const struct map_doc *doc, char *err, size_t err_size);

#endif /* KHEAP_TOOL_RENDER_H */
