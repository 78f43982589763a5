/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Heap map drawing (see render.h). The layout is computed once by
 * draw(); a canvas either measures, writes SVG elements or paints an RGB
 * raster that png.c encodes.
 */
#include "render.h"

#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "font.h"
#include "png.h"
#include "util.h"

/* Text is drawn at twice the font's size: 10x14 pixels per character. */
#define TEXT_SCALE 2
#define TEXT_ADVANCE_PX (FONT_ADVANCE * TEXT_SCALE)
#define TEXT_HEIGHT_PX (FONT_HEIGHT * TEXT_SCALE)
#define LINE_PX 20

static const uint32_t kind_rgb[LAYOUT_KINDS] = {
	[LAYOUT_CONTROL] = 0x5f5f5f, /* dark grey */
	[LAYOUT_HEADER] = 0xd62728,  /* red */
	[LAYOUT_USED] = 0x1f77b4,    /* blue */
	[LAYOUT_SLACK] = 0x9ecae1,   /* light blue */
	[LAYOUT_FREE] = 0xd9f0d3,    /* pale green */
};

static const char *const kind_label[LAYOUT_KINDS] = {
	[LAYOUT_CONTROL] = "control block",
	[LAYOUT_HEADER] = "headers",
	[LAYOUT_USED] = "requested",
	[LAYOUT_SLACK] = "slack",
	[LAYOUT_FREE] = "free",
};

#define RGB_WHITE 0xffffffu
#define RGB_BLACK 0x000000u
#define RGB_GRID 0xbbbbbbu
#define RGB_USAGE 0x1f77b4u
#define RGB_FRAG 0xff7f0eu
#define RGB_MARK 0x888888u

static const char *const reason_key[MAP_REASON_KINDS] = {
	"at",
	"peak",
	"worst",
	"end",
};

/* In labels; "--at" is followed by the event number. */
static const char *const reason_text[MAP_REASON_KINDS] = {
	"--at",
	"peak (most bytes allocated)",
	"worst fragmentation",
	"end of the trace",
};

const char *map_reason_key(enum map_reason bit)
{
	for (unsigned int k = 0; k < MAP_REASON_KINDS; k++) {
		if ((unsigned int)bit == 1u << k) {
			return reason_key[k];
		}
	}
	return "?";
}

void map_moment_label(const struct map_moment *mo, char *buf, size_t size)
{
	size_t n = 0;

	buf[0] = '\0';
	for (unsigned int k = 0; k < MAP_REASON_KINDS && n < size; k++) {
		if ((mo->reasons & (1u << k)) == 0u) {
			continue;
		}
		int w = (1u << k) == MAP_REASON_AT
				? snprintf(buf + n, size - n, "%s%s %zu",
					   n ? ", " : "", reason_text[k],
					   mo->event)
				: snprintf(buf + n, size - n, "%s%s",
					   n ? ", " : "", reason_text[k]);

		n += w > 0 ? (size_t)w : 0u;
	}
	if (n >= size) {
		return;
	}
	if (mo->event == 0u) {
		snprintf(buf + n, size - n, ": before the first event");
	} else {
		snprintf(buf + n, size - n, ": after event %zu", mo->event);
	}
}

/* The reason keys, space-separated (an SVG attribute value). */
static void svg_reasons(FILE *f, unsigned int reasons)
{
	bool first = true;

	for (unsigned int k = 0; k < MAP_REASON_KINDS; k++) {
		if ((reasons & (1u << k)) != 0u) {
			fprintf(f, "%s%s", first ? "" : " ", reason_key[k]);
			first = false;
		}
	}
}

uint64_t map_cell_bytes(uint64_t region_bytes)
{
	uint64_t cell = 4u;

	while ((region_bytes + cell * MAP_GRID_COLUMNS - 1u) /
		       (cell * MAP_GRID_COLUMNS) >
	       MAP_GRID_MAX_ROWS) {
		cell *= 2u;
	}
	return cell;
}

size_t map_column_of(size_t i, size_t n)
{
	return n == 0u ? 0u : (size_t)((uint64_t)i * MAP_PLOT_WIDTH_PX / n);
}

static uint32_t grid_rows(uint64_t region_bytes)
{
	uint64_t cell = map_cell_bytes(region_bytes);
	uint64_t cells = (region_bytes + cell - 1u) / cell;

	return (uint32_t)((cells + MAP_GRID_COLUMNS - 1u) / MAP_GRID_COLUMNS);
}

/* ---- canvases ------------------------------------------------------------ */

enum canvas_kind {
	CANVAS_MEASURE,
	CANVAS_SVG,
	CANVAS_RASTER,
};

struct canvas {
	enum canvas_kind kind;
	FILE *svg;
	uint8_t *rgb;
	uint32_t width, height;
};

static void svg_escaped(FILE *f, const char *text)
{
	for (; *text != '\0'; text++) {
		switch (*text) {
		case '&':
			fputs("&amp;", f);
			break;
		case '<':
			fputs("&lt;", f);
			break;
		case '>':
			fputs("&gt;", f);
			break;
		case '"':
			fputs("&quot;", f);
			break;
		default:
			/* Control characters are not allowed in XML. */
			fputc((unsigned char)*text < 0x20u ? '?' : *text, f);
		}
	}
}

static void set_pixel(struct canvas *c, int x, int y, uint32_t rgb)
{
	if (x < 0 || y < 0 || (uint32_t)x >= c->width ||
	    (uint32_t)y >= c->height) {
		return;
	}
	uint8_t *p = c->rgb + ((size_t)y * c->width + (size_t)x) * 3u;

	p[0] = (uint8_t)(rgb >> 16);
	p[1] = (uint8_t)(rgb >> 8);
	p[2] = (uint8_t)rgb;
}

static void rect(struct canvas *c, int x, int y, int w, int h, uint32_t rgb,
		 const char *cls)
{
	if (c->kind == CANVAS_SVG) {
		fprintf(c->svg,
			"<rect class=\"%s\" x=\"%d\" y=\"%d\" width=\"%d\" "
			"height=\"%d\" fill=\"#%06" PRIx32 "\"/>\n",
			cls, x, y, w, h, rgb);
	} else if (c->kind == CANVAS_RASTER) {
		for (int j = 0; j < h; j++) {
			for (int i = 0; i < w; i++) {
				set_pixel(c, x + i, y + j, rgb);
			}
		}
	}
}

/* Text with its top-left corner at (x, y), cut with "..." where it
 * would run past the right edge. */
static void text(struct canvas *c, int x, int y, const char *str, uint32_t rgb,
		 const char *cls)
{
	char s[256];
	size_t fits = ((size_t)MAP_WIDTH_PX - 4u - (size_t)x) / TEXT_ADVANCE_PX;

	snprintf(s, sizeof(s), "%s", str);
	if (fits < sizeof(s) && strlen(s) > fits && fits > 3u) {
		memcpy(s + fits - 3u, "...", 4);
	}
	if (c->kind == CANVAS_SVG) {
		fprintf(c->svg,
			"<text class=\"%s\" x=\"%d\" y=\"%d\" font-size=\"%d\" "
			"fill=\"#%06" PRIx32 "\">",
			cls, x, y + TEXT_HEIGHT_PX - 2, TEXT_HEIGHT_PX + 2,
			rgb);
		svg_escaped(c->svg, s);
		fputs("</text>\n", c->svg);
	} else if (c->kind == CANVAS_RASTER) {
		for (int k = 0; s[k] != '\0'; k++) {
			for (int gy = 0; gy < FONT_HEIGHT + FONT_DESCENT;
			     gy++) {
				for (int gx = 0; gx < FONT_WIDTH; gx++) {
					if (!font_pixel(s[k], gx, gy)) {
						continue;
					}
					rect(c,
					     x + k * TEXT_ADVANCE_PX +
						     gx * TEXT_SCALE,
					     y + gy * TEXT_SCALE, TEXT_SCALE,
					     TEXT_SCALE, rgb, "");
				}
			}
		}
	}
}

static void line(struct canvas *c, int x0, int y0, int x1, int y1, uint32_t rgb,
		 const char *cls)
{
	if (c->kind == CANVAS_SVG) {
		fprintf(c->svg,
			"<line class=\"%s\" x1=\"%d\" y1=\"%d\" x2=\"%d\" "
			"y2=\"%d\" stroke=\"#%06" PRIx32 "\"/>\n",
			cls, x0, y0, x1, y1, rgb);
		return;
	}
	if (c->kind != CANVAS_RASTER) {
		return;
	}
	/* Bresenham over all octants. */
	int dx = x1 > x0 ? x1 - x0 : x0 - x1;
	int dy = y1 > y0 ? y0 - y1 : y1 - y0;
	int sx = x0 < x1 ? 1 : -1;
	int sy = y0 < y1 ? 1 : -1;
	int e = dx + dy;

	for (;;) {
		set_pixel(c, x0, y0, rgb);
		if (x0 == x1 && y0 == y1) {
			break;
		}
		int e2 = 2 * e;

		if (e2 >= dy) {
			e += dy;
			x0 += sx;
		}
		if (e2 <= dx) {
			e += dx;
			y0 += sy;
		}
	}
}

static void polyline(struct canvas *c, const int *xs, const int *ys, size_t n,
		     uint32_t rgb, const char *cls)
{
	if (c->kind == CANVAS_SVG) {
		fprintf(c->svg,
			"<polyline class=\"%s\" fill=\"none\" "
			"stroke=\"#%06" PRIx32 "\" points=\"",
			cls, rgb);
		for (size_t i = 0; i < n; i++) {
			fprintf(c->svg, "%s%d,%d", i ? " " : "", xs[i], ys[i]);
		}
		fputs("\"/>\n", c->svg);
		return;
	}
	for (size_t i = 1; i < n; i++) {
		line(c, xs[i - 1u], ys[i - 1u], xs[i], ys[i], rgb, cls);
	}
}

/* ---- the drawing ----------------------------------------------------------- */

static uint32_t blend(const uint64_t counts[LAYOUT_KINDS])
{
	uint64_t total = 0;
	double r = 0, g = 0, b = 0;

	for (int k = 0; k < LAYOUT_KINDS; k++) {
		total += counts[k];
	}
	if (total == 0u) {
		return RGB_WHITE;
	}
	for (int k = 0; k < LAYOUT_KINDS; k++) {
		double share = (double)counts[k] / (double)total;

		r += share * (double)(kind_rgb[k] >> 16);
		g += share * (double)((kind_rgb[k] >> 8) & 0xffu);
		b += share * (double)(kind_rgb[k] & 0xffu);
	}
	return (uint32_t)(r + 0.5) << 16 | (uint32_t)(g + 0.5) << 8 |
	       (uint32_t)(b + 0.5);
}

/* The grid of one moment, top-left at y; returns its height. */
static int draw_grid(struct canvas *c, const struct layout *l, int y)
{
	uint64_t cell = map_cell_bytes(l->region_bytes);
	uint32_t rows = grid_rows(l->region_bytes);
	size_t cells = (size_t)rows * MAP_GRID_COLUMNS;

	if (c->kind == CANVAS_MEASURE) {
		return (int)(rows * MAP_CELL_PX);
	}
	uint64_t(*counts)[LAYOUT_KINDS] = xcalloc(cells, sizeof(*counts));
	uint32_t *colour = xmalloc(cells * sizeof(*colour));

	for (size_t s = 0; s < l->count; s++) {
		const struct layout_segment *seg = &l->segments[s];
		uint64_t at = seg->offset_bytes;
		uint64_t end = seg->offset_bytes + seg->bytes;

		while (at < end) {
			uint64_t index = at / cell;
			uint64_t cell_end = (index + 1u) * cell;
			uint64_t upto = end < cell_end ? end : cell_end;

			counts[index][seg->kind] += upto - at;
			at = upto;
		}
	}
	for (size_t i = 0; i < cells; i++) {
		colour[i] = blend(counts[i]);
	}
	for (uint32_t row = 0; row < rows; row++) {
		const uint32_t *line_colours =
			colour + (size_t)row * MAP_GRID_COLUMNS;

		for (uint32_t col = 0; col < MAP_GRID_COLUMNS;) {
			uint32_t run = 1;

			while (col + run < MAP_GRID_COLUMNS &&
			       line_colours[col + run] == line_colours[col]) {
				run++;
			}
			rect(c, (int)(MAP_GRID_X_PX + col * MAP_CELL_PX),
			     y + (int)(row * MAP_CELL_PX),
			     (int)(run * MAP_CELL_PX), (int)MAP_CELL_PX,
			     line_colours[col], "cell");
			col += run;
		}
	}
	free(counts);
	free(colour);
	return (int)(rows * MAP_CELL_PX);
}

static int plot_x(size_t column)
{
	return (int)(MAP_GRID_X_PX + column);
}

static void draw_series(struct canvas *c, const float *values, int top,
			uint32_t rgb, const char *cls)
{
	int xs[MAP_PLOT_WIDTH_PX], ys[MAP_PLOT_WIDTH_PX];

	for (size_t i = 0; i < MAP_PLOT_WIDTH_PX; i++) {
		float v = values[i] < 0.0f   ? 0.0f
			  : values[i] > 1.0f ? 1.0f
					     : values[i];

		xs[i] = plot_x(i);
		ys[i] = top + (int)MAP_PLOT_HEIGHT_PX -
			(int)(v * (float)(MAP_PLOT_HEIGHT_PX - 1u) + 0.5f) - 1;
	}
	polyline(c, xs, ys, MAP_PLOT_WIDTH_PX, rgb, cls);
}

/* Draw the whole image; returns its height. */
static int draw(struct canvas *c, const struct map_doc *doc)
{
	char buf[200];
	int y = 10;
	int right = (int)(MAP_GRID_X_PX + MAP_PLOT_WIDTH_PX);

	if (c->kind != CANVAS_MEASURE) {
		rect(c, 0, 0, (int)c->width, (int)c->height, RGB_WHITE,
		     "background");
	}
	text(c, MAP_GRID_X_PX, y, doc->title, RGB_BLACK, "title");
	y += LINE_PX + 2;
	text(c, MAP_GRID_X_PX, y, doc->subtitle, RGB_BLACK, "subtitle");
	y += LINE_PX + 6;

	/* Legend */
	int x = (int)MAP_GRID_X_PX;

	for (int k = 0; k < LAYOUT_KINDS; k++) {
		rect(c, x, y, TEXT_HEIGHT_PX, TEXT_HEIGHT_PX, kind_rgb[k],
		     "legend");
		text(c, x + TEXT_HEIGHT_PX + 6, y, kind_label[k], RGB_BLACK,
		     "legend-label");
		x += TEXT_HEIGHT_PX + 6 +
		     (int)strlen(kind_label[k]) * TEXT_ADVANCE_PX + 24;
	}
	y += LINE_PX + 12;

	for (size_t m = 0; m < doc->moment_count; m++) {
		const struct map_moment *mo = &doc->moments[m];
		const struct replay_stats *s = &mo->stats;

		char label[160];

		map_moment_label(mo, label, sizeof(label));
		snprintf(buf, sizeof(buf), "%c: %s", (int)('A' + m % 26u),
			 label);
		text(c, MAP_GRID_X_PX, y, buf, RGB_BLACK, "moment-label");
		y += LINE_PX;
		if (mo->caption[0] != '\0') {
			snprintf(buf, sizeof(buf), "   %s", mo->caption);
			text(c, MAP_GRID_X_PX, y, buf, RGB_BLACK, "caption");
			y += LINE_PX;
		}
		snprintf(buf, sizeof(buf),
			 "   allocated %" PRIu64 " B, free %" PRIu64
			 " B, largest free block %" PRIu64 " B",
			 s->allocated_bytes, s->free_bytes,
			 mo->layout.largest_free_bytes);
		text(c, MAP_GRID_X_PX, y, buf, RGB_BLACK, "caption");
		y += LINE_PX + 2;
		if (c->kind == CANVAS_SVG) {
			fprintf(c->svg,
				"<g class=\"heap-map\" data-event=\"%zu\" "
				"data-allocated-bytes=\"%" PRIu64 "\" "
				"data-free-bytes=\"%" PRIu64 "\" "
				"data-largest-free-bytes=\"%" PRIu64 "\" "
				"data-cell-bytes=\"%" PRIu64 "\" "
				"data-reasons=\"",
				mo->event, s->allocated_bytes, s->free_bytes,
				mo->layout.largest_free_bytes,
				map_cell_bytes(mo->layout.region_bytes));
			svg_reasons(c->svg, mo->reasons);
			fputs("\">\n", c->svg);
		}
		y += draw_grid(c, &mo->layout, y);
		if (c->kind == CANVAS_SVG) {
			fputs("</g>\n", c->svg);
		}
		y += 16;
	}

	/* Curves */
	const struct map_series *series = doc->series;

	text(c, MAP_GRID_X_PX, y,
	     "allocated/region (blue), fragmentation (orange); lines at 0, "
	     "50, 100%",
	     RGB_BLACK, "caption");
	y += LINE_PX + 4;
	int top = y;
	int bottom = y + (int)MAP_PLOT_HEIGHT_PX - 1;

	line(c, plot_x(0), top, right - 1, top, RGB_GRID, "axis");
	line(c, plot_x(0), (top + bottom) / 2, right - 1, (top + bottom) / 2,
	     RGB_GRID, "axis");
	line(c, plot_x(0), bottom, right - 1, bottom, RGB_BLACK, "axis");
	line(c, plot_x(0), top, plot_x(0), bottom, RGB_BLACK, "axis");
	for (size_t m = 0; m < doc->moment_count; m++) {
		size_t event = doc->moments[m].event;
		size_t column = event == 0u
					? 0u
					: map_column_of(event - 1u,
							series->event_count);
		char mark[2] = {(char)('A' + m % 26u), '\0'};
		/* The label right of its line, or left of it at the end. */
		int label_x = column + 2u * TEXT_ADVANCE_PX < MAP_PLOT_WIDTH_PX
				      ? plot_x(column) + 3
				      : plot_x(column) - TEXT_ADVANCE_PX - 2;

		line(c, plot_x(column), top, plot_x(column), bottom, RGB_MARK,
		     "marker");
		text(c, label_x, top + 2, mark, RGB_MARK, "marker");
	}
	draw_series(c, series->usage, top, RGB_USAGE, "usage");
	draw_series(c, series->fragmentation, top, RGB_FRAG, "fragmentation");
	y = bottom + 6;
	snprintf(buf, sizeof(buf), "event 1");
	text(c, MAP_GRID_X_PX, y, buf, RGB_BLACK, "axis-label");
	snprintf(buf, sizeof(buf), "event %zu", series->event_count);
	text(c, right - (int)strlen(buf) * TEXT_ADVANCE_PX, y, buf, RGB_BLACK,
	     "axis-label");
	y += LINE_PX + 8;
	return y;
}

uint32_t map_height(const struct map_doc *doc)
{
	struct canvas c = {.kind = CANVAS_MEASURE};

	return (uint32_t)draw(&c, doc);
}

int map_write(const char *path, enum map_format format,
	      const struct map_doc *doc, char *err, size_t err_size)
{
	uint32_t height = map_height(doc);
	FILE *f = fopen(path, format == MAP_PNG ? "wb" : "w");
	int rc = 0;

	if (f == NULL) {
		snprintf(err, err_size, "%s: cannot open for writing: %s", path,
			 strerror(errno));
		return -1;
	}
	if (format == MAP_SVG) {
		struct canvas c = {
			.kind = CANVAS_SVG,
			.svg = f,
			.width = MAP_WIDTH_PX,
			.height = height,
		};

		fprintf(f,
			"<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
			"<svg xmlns=\"http://www.w3.org/2000/svg\" "
			"width=\"%u\" height=\"%" PRIu32 "\" "
			"viewBox=\"0 0 %u %" PRIu32 "\" "
			"font-family=\"monospace\" "
			"shape-rendering=\"crispEdges\">\n",
			MAP_WIDTH_PX, height, MAP_WIDTH_PX, height);
		fputs("<title>", f);
		svg_escaped(f, doc->title);
		fputs("</title>\n", f);
		(void)draw(&c, doc);
		fputs("</svg>\n", f);
	} else {
		struct canvas c = {
			.kind = CANVAS_RASTER,
			.width = MAP_WIDTH_PX,
			.height = height,
		};

		c.rgb = xmalloc((size_t)MAP_WIDTH_PX * height * 3u);
		(void)draw(&c, doc);
		rc = png_write_rgb(f, c.rgb, MAP_WIDTH_PX, height);
		free(c.rgb);
	}
	if (ferror(f)) {
		rc = -1;
	}
	if (fclose(f) != 0) {
		rc = -1;
	}
	if (rc != 0) {
		snprintf(err, err_size, "%s: write error: %s", path,
			 strerror(errno));
	}
	return rc;
}
