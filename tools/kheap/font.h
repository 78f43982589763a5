/* SPDX-License-Identifier: Apache-2.0 */
/*
 * A 5x7 pixel font for the labels of PNG heap maps (SVG maps use real
 * text): every printable ASCII character, lower case included; other
 * bytes are drawn as '?'.
 */
#ifndef KHEAP_TOOL_FONT_H
#define KHEAP_TOOL_FONT_H

#include <stdbool.h>

#define FONT_WIDTH 5
#define FONT_HEIGHT 7  /* rows from the capitals' top to the baseline */
#define FONT_DESCENT 2 /* rows below the baseline (g, j, p, q, y) */
#define FONT_ADVANCE 6 /* pixels from one character to the next */

/* Whether pixel (x, y) of ch's glyph is set (x < 5, y < 9: rows 7 and 8
 * are below the baseline). */
bool font_pixel(char ch, int x, int y);

#endif /* KHEAP_TOOL_FONT_H */
