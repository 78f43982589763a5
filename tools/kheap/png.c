/* SPDX-License-Identifier: Apache-2.0 */
/*
 * PNG encoder (see png.h). References: the PNG specification (chunk
 * layout, CRC, filters) and RFC 1950/1951 (zlib, deflate).
 */
#include "png.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "util.h"

uint32_t png_crc32(uint32_t crc, const uint8_t *data, size_t bytes)
{
	static uint32_t table[256];
	static bool have_table;

	if (!have_table) {
		for (uint32_t n = 0; n < 256u; n++) {
			uint32_t c = n;

			for (int k = 0; k < 8; k++) {
				c = (c & 1u) ? 0xedb88320u ^ (c >> 1) : c >> 1;
			}
			table[n] = c;
		}
		have_table = true;
	}
	crc = ~crc;
	for (size_t i = 0; i < bytes; i++) {
		crc = table[(crc ^ data[i]) & 0xffu] ^ (crc >> 8);
	}
	return ~crc;
}

uint32_t png_adler32(uint32_t adler, const uint8_t *data, size_t bytes)
{
	uint32_t a = adler & 0xffffu, b = adler >> 16;

	while (bytes > 0u) {
		/* 5552 bytes keep b below 2^32 before the reduction. */
		size_t n = bytes < 5552u ? bytes : 5552u;

		bytes -= n;
		while (n-- > 0u) {
			a += *data++;
			b += a;
		}
		a %= 65521u;
		b %= 65521u;
	}
	return b << 16 | a;
}

/* ---- a growable byte buffer with an LSB-first bit writer --------------- */

struct out {
	uint8_t *data;
	size_t len, cap;
	uint32_t bits; /* pending bits, LSB first */
	unsigned int nbits;
};

static void put_byte(struct out *o, uint8_t b)
{
	if (o->len == o->cap) {
		o->cap = o->cap ? o->cap * 2u : 4096u;
		o->data = xrealloc(o->data, o->cap);
	}
	o->data[o->len++] = b;
}

static void put_bits(struct out *o, uint32_t value, unsigned int count)
{
	o->bits |= value << o->nbits;
	o->nbits += count;
	while (o->nbits >= 8u) {
		put_byte(o, (uint8_t)o->bits);
		o->bits >>= 8;
		o->nbits -= 8u;
	}
}

/* Huffman codes go out most significant bit first. */
static void put_code(struct out *o, uint32_t code, unsigned int length)
{
	uint32_t reversed = 0;

	for (unsigned int i = 0; i < length; i++) {
		reversed = reversed << 1 | ((code >> i) & 1u);
	}
	put_bits(o, reversed, length);
}

static void flush_bits(struct out *o)
{
	if (o->nbits > 0u) {
		put_byte(o, (uint8_t)o->bits);
	}
	o->bits = 0;
	o->nbits = 0;
}

/* The fixed literal/length code (RFC 1951, 3.2.6). */
static void put_symbol(struct out *o, unsigned int symbol)
{
	if (symbol <= 143u) {
		put_code(o, 0x30u + symbol, 8);
	} else if (symbol <= 255u) {
		put_code(o, 0x190u + symbol - 144u, 9);
	} else if (symbol <= 279u) {
		put_code(o, symbol - 256u, 7);
	} else {
		put_code(o, 0xc0u + symbol - 280u, 8);
	}
}

/* A match of length 3..258 at distance 1. */
static void put_match(struct out *o, unsigned int length)
{
	static const uint16_t base[29] = {3,   4,   5,   6,   7,  8,  9,  10,
					  11,  13,  15,  17,  19, 23, 27, 31,
					  35,  43,  51,  59,  67, 83, 99, 115,
					  131, 163, 195, 227, 258};
	static const uint8_t extra[29] = {0, 0, 0, 0, 0, 0, 0, 0, 1, 1,
					  1, 1, 2, 2, 2, 2, 3, 3, 3, 3,
					  4, 4, 4, 4, 5, 5, 5, 5, 0};
	unsigned int code = 28;

	while (base[code] > length) {
		code--;
	}
	put_symbol(o, 257u + code);
	put_bits(o, length - base[code], extra[code]);
	put_code(o, 0u, 5); /* distance code 0: distance 1 */
}

/* A zlib stream holding data in one fixed-Huffman block. */
static void deflate_fixed(struct out *o, const uint8_t *data, size_t bytes)
{
	put_byte(o, 0x78);  /* deflate, 32 KiB window */
	put_byte(o, 0x01);  /* no dictionary; 0x7801 % 31 == 0 */
	put_bits(o, 1u, 1); /* BFINAL */
	put_bits(o, 1u, 2); /* BTYPE 01: fixed Huffman codes */
	for (size_t i = 0; i < bytes;) {
		size_t run = 0;

		if (i > 0u) {
			while (run < 258u && i + run < bytes &&
			       data[i + run] == data[i - 1u]) {
				run++;
			}
		}
		if (run >= 3u) {
			put_match(o, (unsigned int)run);
			i += run;
		} else {
			put_symbol(o, data[i]);
			i++;
		}
	}
	put_symbol(o, 256u); /* end of block */
	flush_bits(o);
	uint32_t adler = png_adler32(1u, data, bytes);

	for (int shift = 24; shift >= 0; shift -= 8) {
		put_byte(o, (uint8_t)(adler >> shift));
	}
}

static void be32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

static int write_chunk(FILE *f, const char type[4], const uint8_t *data,
		       size_t bytes)
{
	uint8_t head[8], tail[4];
	uint32_t crc = png_crc32(0u, (const uint8_t *)type, 4);

	crc = png_crc32(crc, data, bytes);
	be32(head, (uint32_t)bytes);
	memcpy(head + 4, type, 4);
	be32(tail, crc);
	if (fwrite(head, 1, 8, f) != 8u ||
	    (bytes > 0u && fwrite(data, 1, bytes, f) != bytes) ||
	    fwrite(tail, 1, 4, f) != 4u) {
		return -1;
	}
	return 0;
}

int png_write_rgb(FILE *f, const uint8_t *rgb, uint32_t width, uint32_t height)
{
	static const uint8_t signature[8] = {0x89, 'P',  'N',  'G',
					     '\r', '\n', 0x1a, '\n'};
	size_t row_bytes = (size_t)width * 3u;
	size_t raw_bytes = (row_bytes + 1u) * height;
	uint8_t *raw = xmalloc(raw_bytes);
	uint8_t ihdr[13];
	struct out o = {0};
	int rc = 0;

	/* Filter each row (PNG filter types 1 Sub and 2 Up). */
	for (uint32_t y = 0; y < height; y++) {
		const uint8_t *row = rgb + (size_t)y * row_bytes;
		uint8_t *dst = raw + (size_t)y * (row_bytes + 1u);

		if (y > 0u && memcmp(row, row - row_bytes, row_bytes) == 0) {
			dst[0] = 2; /* Up: all zeros */
			memset(dst + 1, 0, row_bytes);
			continue;
		}
		dst[0] = 1; /* Sub: difference from the pixel to the left */
		for (size_t i = 0; i < row_bytes; i++) {
			dst[1u + i] = (uint8_t)(row[i] -
						(i >= 3u ? row[i - 3u] : 0u));
		}
	}
	deflate_fixed(&o, raw, raw_bytes);
	free(raw);

	be32(ihdr, width);
	be32(ihdr + 4, height);
	ihdr[8] = 8;  /* bit depth */
	ihdr[9] = 2;  /* colour type: RGB */
	ihdr[10] = 0; /* deflate */
	ihdr[11] = 0; /* adaptive filtering */
	ihdr[12] = 0; /* no interlace */
	if (fwrite(signature, 1, 8, f) != 8u ||
	    write_chunk(f, "IHDR", ihdr, sizeof(ihdr)) != 0 ||
	    write_chunk(f, "IDAT", o.data, o.len) != 0 ||
	    write_chunk(f, "IEND", NULL, 0) != 0) {
		rc = -1;
	}
	free(o.data);
	return rc;
}
