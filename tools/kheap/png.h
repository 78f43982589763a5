/* SPDX-License-Identifier: Apache-2.0 */
/*
 * A small PNG encoder of our own (no libpng): 8-bit RGB, one IDAT chunk
 * whose zlib stream is a single fixed-Huffman deflate block. Heap maps
 * are large areas of flat colour, so rows are filtered (Up when a row
 * repeats the one above, Sub otherwise, which turns a run of one colour
 * into zeros) and runs of equal bytes become distance-1 matches; that is
 * all the compression they need.
 */
#ifndef KHEAP_TOOL_PNG_H
#define KHEAP_TOOL_PNG_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/* CRC-32 (ISO 3309, as PNG uses it) of data, continuing from crc
 * (start with 0). */
uint32_t png_crc32(uint32_t crc, const uint8_t *data, size_t bytes);

/* Adler-32 (RFC 1950) of data, continuing from adler (start with 1). */
uint32_t png_adler32(uint32_t adler, const uint8_t *data, size_t bytes);

/* Write an image of width x height pixels, rgb holding 3 bytes per
 * pixel row by row. Returns 0, or -1 if writing fails. */
int png_write_rgb(FILE *f, const uint8_t *rgb, uint32_t width, uint32_t height);

#endif /* KHEAP_TOOL_PNG_H */
