/* SPDX-License-Identifier: Apache-2.0 */
/*
 * sys_heap_print_info: a human-readable description of a heap, written
 * through an output hook because the core never prints by itself. The
 * formatting is a few lines of our own (no snprintf in a freestanding
 * core). Read-only, O(number of chunks).
 */
#include <kheap/sanitizer.h>

#include "heap_checks.h"

static sys_heap_output_fn default_output;
static void *default_output_ctx;

void sys_heap_output_set(sys_heap_output_fn out, void *ctx)
{
	default_output = out;
	default_output_ctx = ctx;
}

/* A line under construction; long enough for any line printed here. */
struct line {
	char text[128];
	size_t len;
	sys_heap_output_fn out;
	void *ctx;
};

static void put_str(struct line *l, const char *s)
{
	/* The bound is never reached: the longest line is about 100 of
	 * the 128 bytes. GCOVR_EXCL_BR_START */
	while (*s != '\0' && l->len < sizeof(l->text) - 1u) {
		l->text[l->len++] = *s++;
	}
	/* GCOVR_EXCL_BR_STOP */
}

static void put_uint(struct line *l, uint64_t value, unsigned int base)
{
	char digits[24];
	size_t n = 0;

	do {
		digits[n++] = "0123456789abcdef"[value % base];
		value /= base;
	} while (value != 0u);
	/* As in put_str. GCOVR_EXCL_BR_START */
	while (n > 0u && l->len < sizeof(l->text) - 1u) {
		l->text[l->len++] = digits[--n];
	}
	/* GCOVR_EXCL_BR_STOP */
}

static void put_ptr(struct line *l, const void *p)
{
	put_str(l, "0x");
	put_uint(l, (uint64_t)(uintptr_t)p, 16u);
}

static void end_line(struct line *l)
{
	l->text[l->len++] = '\n';
	l->text[l->len] = '\0';
	l->out(l->ctx, l->text);
	l->len = 0;
}

static void print_classes(struct heap_view v, struct line *l)
{
	const struct z_heap *h = v.h;

	put_str(l, "  free blocks by size class (bytes incl. header):");
	end_line(l);
	/* Class 0 has no list (no chunk has 0 chunks). */
	for (unsigned int cls = 1; cls <= h->head_count; cls++) {
		if (((*sl_byte(v, cls >> SL_SHIFT) >> (cls & (SL_COUNT - 1u))) &
		     1u) == 0u) {
			continue;
		}
		chunkid_t c = list_head(v, cls);
		size_t count = 0;
		size_t chunks = 0;

		/* To the tail (free_next(tail) == tail), bounded by the
		 * number of chunks in case of corruption; a link outside
		 * the heap ends the list too. */
		while (chunk_id_ok(v, c)) {
			chunkid_t next = free_next(v, c);

			count++;
			chunks += chunk_size(v, c);
			if (next == c || count >= h->end_chunk) {
				break;
			}
			c = next;
		}
		put_str(l, "    [");
		put_uint(l, (uint64_t)class_min_chunks(cls) * CHUNK_BYTES, 10u);
		put_str(l, ", ");
		put_uint(l, (uint64_t)class_min_chunks(cls + 1u) * CHUNK_BYTES,
			 10u);
		put_str(l, "): ");
		put_uint(l, count, 10u);
		put_str(l, " blocks, ");
		put_uint(l, (uint64_t)chunks * CHUNK_BYTES, 10u);
		put_str(l, " bytes");
		end_line(l);
	}
}

static void print_chunks(struct heap_view v, struct line *l)
{
	chunkid_t c = 0;

	while (c < v.h->end_chunk) {
		chunksz_t size = chunk_size(v, c);

		put_str(l, "    chunk ");
		put_uint(l, c, 10u);
		put_str(l, " @");
		put_ptr(l, chunk_ptr(v, c));
		put_str(l, ": ");
		put_uint(l, (uint64_t)size * CHUNK_BYTES, 10u);
		put_str(l, chunk_used(v, c) ? " bytes used" : " bytes free");
		end_line(l);
		if (size == 0u) {
			put_str(l, "    (corrupt: zero-sized chunk, stopping)");
			end_line(l);
			return;
		}
		c += size;
	}
}

static void print_info(const struct sys_heap *heap, bool dump_chunks,
		       sys_heap_output_fn out, void *ctx)
{
	const struct z_heap *h = heap_of(heap);
	struct line l = {.len = 0, .out = out, .ctx = ctx};

	if (out == NULL) {
		return;
	}
	put_str(&l, "heap ");
	put_ptr(&l, heap);
	if (h == NULL) {
		put_str(&l, control_damaged(heap) ? ": control block corrupt"
						  : ": not initialised");
		end_line(&l);
		return;
	}
	struct heap_view v = any_view(h);

	put_str(&l, ": ");
	put_uint(&l, (uint64_t)h->end_chunk * CHUNK_BYTES, 10u);
	put_str(&l, " bytes of blocks at ");
	put_ptr(&l, chunk_ptr(v, 0));
	put_str(&l, ", ");
	put_uint(&l, header_bytes(v), 10u);
	put_str(&l, "-byte headers");
	end_line(&l);

	put_str(&l, "  free ");
	put_uint(&l,
		 (uint64_t)(h->end_chunk - h->allocated_chunks) * CHUNK_BYTES,
		 10u);
	put_str(&l, " bytes, allocated ");
	put_uint(&l, (uint64_t)h->allocated_chunks * CHUNK_BYTES, 10u);
	put_str(&l, " bytes, max allocated ");
	put_uint(&l, (uint64_t)h->max_allocated_chunks * CHUNK_BYTES, 10u);
	put_str(&l, " bytes");
	end_line(&l);

	put_str(&l, "  largest free block ");
	put_uint(&l, (uint64_t)z_heap_largest_free_chunks(v) * CHUNK_BYTES,
		 10u);
	put_str(&l, " bytes, largest allocation possible ");
	put_uint(&l, sys_heap_max_alloc_bytes(heap), 10u);
	put_str(&l, " bytes");
	end_line(&l);

	print_classes(v, &l);
	if (dump_chunks) {
		put_str(&l, "  blocks:");
		end_line(&l);
		print_chunks(v, &l);
	}
}

void sys_heap_print_info_to(const struct sys_heap *heap, bool dump_chunks,
			    sys_heap_output_fn out, void *ctx)
{
	/* Metadata is read between the memory-checker brackets (see
	 * sys_heap.c); the output function runs inside them too. */
	KHEAP_SAN_ENTER();
	print_info(heap, dump_chunks, out, ctx);
	KHEAP_SAN_EXIT();
}

static int walk(const struct z_heap *h, sys_heap_walk_fn fn, void *ctx)
{
	struct heap_view v = any_view(h);
	chunkid_t c = 0;

	while (c < h->end_chunk) {
		chunksz_t size = chunk_size(v, c);

		if (size == 0u || size > h->end_chunk - c) {
			return -14; /* -EFAULT: stop on a corrupt size. */
		}
		struct sys_heap_block block = {
			.header = chunk_ptr(v, c),
			.block_bytes = (size_t)size * CHUNK_BYTES,
			.header_bytes = header_bytes(v),
			.used = chunk_used(v, c),
		};

		if (!fn(ctx, &block)) {
			break;
		}
		c += size;
	}
	return 0;
}

int sys_heap_walk(const struct sys_heap *heap, sys_heap_walk_fn fn, void *ctx)
{
	int result = -22; /* -EINVAL */

	KHEAP_SAN_ENTER();
	const struct z_heap *h = heap_of(heap);

	if (h != NULL && fn != NULL) {
		result = walk(h, fn, ctx);
	} else if (fn != NULL && control_damaged(heap)) {
		result = -14; /* -EFAULT: a corrupt control block. */
	}
	KHEAP_SAN_EXIT();
	return result;
}

void sys_heap_print_info(const struct sys_heap *heap, bool dump_chunks)
{
	sys_heap_print_info_to(heap, dump_chunks, default_output,
			       default_output_ctx);
}
