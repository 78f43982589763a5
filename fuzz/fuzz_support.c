/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Shared pieces of kheap's fuzz targets; see fuzz_support.h.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_support.h"
#include "test_meta.h"

/*
 * Under AddressSanitizer everything in a region's buffer outside the
 * region is poisoned, so any access the heap makes outside its region
 * (not only past the guards) is reported at once.
 */
#if defined(__has_feature)
#if __has_feature(address_sanitizer)
#define FUZZ_ASAN 1
#endif
#endif
#if defined(__SANITIZE_ADDRESS__)
#define FUZZ_ASAN 1
#endif
#ifdef FUZZ_ASAN
void __asan_poison_memory_region(void const volatile *addr, size_t size);
void __asan_unpoison_memory_region(void const volatile *addr, size_t size);
#define POISON(addr, size) __asan_poison_memory_region((addr), (size))
#define UNPOISON(addr, size) __asan_unpoison_memory_region((addr), (size))
#else
#define POISON(addr, size) ((void)(addr), (void)(size))
#define UNPOISON(addr, size) ((void)(addr), (void)(size))
#endif

/* --- input decoding ----------------------------------------------------- */

void fuzz_input_init(struct fuzz_input *in, const uint8_t *data, size_t size)
{
	in->data = data;
	in->size = size;
	in->pos = 0u;
}

bool fuzz_more(const struct fuzz_input *in)
{
	return in->pos < in->size;
}

uint8_t fuzz_u8(struct fuzz_input *in)
{
	if (in->pos >= in->size) {
		return 0u;
	}
	return in->data[in->pos++];
}

uint16_t fuzz_u16(struct fuzz_input *in)
{
	uint16_t lo = fuzz_u8(in);

	return (uint16_t)(lo | (uint16_t)(fuzz_u8(in) << 8));
}

uint32_t fuzz_u32(struct fuzz_input *in)
{
	uint32_t lo = fuzz_u16(in);

	return lo | ((uint32_t)fuzz_u16(in) << 16);
}

uint64_t fuzz_u64(struct fuzz_input *in)
{
	uint64_t lo = fuzz_u32(in);

	return lo | ((uint64_t)fuzz_u32(in) << 32);
}

size_t fuzz_size(struct fuzz_input *in, size_t limit)
{
	uint8_t b = fuzz_u8(in);
	unsigned int low = b & 0x3fu;

	switch (b >> 6) {
	case 0:
		return low;
	case 1:
		return (size_t)fuzz_u16(in) % (limit + 64u);
	case 2: {
		size_t base = (size_t)1u << (low % 20u);
		int8_t delta = (int8_t)fuzz_u8(in);

		return delta < 0 && (size_t)-delta > base
			       ? 0u
			       : base + (size_t)(ptrdiff_t)delta;
	}
	default: {
		size_t d = fuzz_u8(in);

		switch (low % 6u) {
		case 0:
			return SIZE_MAX - d;
		case 1:
			return (size_t)PTRDIFF_MAX + d - 128u;
		case 2:
			/* limit + 0..127 or limit - 0..127 */
			return (d & 0x80u) != 0u ? limit + (d & 0x7fu)
			       : d < limit       ? limit - d
						 : 0u;
		case 3:
			return SIZE_MAX / 2u + d;
		case 4:
			/* Just below 4 GiB on 64-bit; wraps on 32-bit. */
			return (size_t)(((uint64_t)1u << 32) + d - 128u);
		default:
			return (size_t)fuzz_u64(in);
		}
	}
	}
}

size_t fuzz_align(struct fuzz_input *in)
{
	uint8_t b = fuzz_u8(in);
	unsigned int e = (b >> 2) & 0xfu;

	switch (b & 3u) {
	case 0:
		return e > 12u ? 0u : (size_t)1u << e;
	case 1: {
		/* A = 2..4096, R = 1..A/2. */
		unsigned int a_exp = 1u + e % 12u;
		unsigned int r_exp = (unsigned int)(b >> 6) % a_exp;

		if (a_exp > 2u) {
			r_exp = fuzz_u8(in) % a_exp;
		}
		return ((size_t)1u << a_exp) | ((size_t)1u << r_exp);
	}
	case 2:
		return fuzz_u16(in);
	default:
		return (size_t)1u << (13u + e);
	}
}

static bool is_power_of_two(size_t x)
{
	return x != 0u && (x & (x - 1u)) == 0u;
}

bool fuzz_align_form(size_t align, size_t *a, size_t *r)
{
	if (align == 0u || is_power_of_two(align)) {
		*a = align < SYS_HEAP_CHUNK_BYTES ? SYS_HEAP_CHUNK_BYTES
						  : align;
		*r = 0u;
		return true;
	}
	size_t low = align & (0u - align);
	size_t high = align - low;

	if (!is_power_of_two(high)) {
		return false;
	}
	*a = high;
	*r = low;
	return true;
}

bool fuzz_align_ok(const void *mem, size_t a, size_t r)
{
	return (((uintptr_t)mem + r) & (a - 1u)) == 0u;
}

/* --- oracle failures ---------------------------------------------------- */

struct fuzz_context fuzz_ctx;

/* KHEAP_FUZZ_TRACE=1: print every operation's number and name. */
static int trace = -1;

void fuzz_context_begin(const char *target)
{
	if (trace < 0) {
		const char *env = getenv("KHEAP_FUZZ_TRACE");

		trace = env != NULL && env[0] == '1';
	}
	fuzz_ctx.target = target;
	fuzz_ctx.op_index = 0u;
	fuzz_ctx.op_name = "init";
	if (trace > 0) {
		fprintf(stderr, "%s: new input\n", target);
	}
}

void fuzz_context_op(const char *name)
{
	fuzz_ctx.op_index++;
	fuzz_ctx.op_name = name;
	if (trace > 0) {
		fprintf(stderr, "  op %u: %s\n", fuzz_ctx.op_index, name);
	}
}

void fuzz_trace(const char *fmt, ...)
{
	va_list ap;

	if (trace <= 0) {
		return;
	}
	fputs("    ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

void fuzz_fail(const char *fmt, ...)
{
	va_list ap;

	fflush(stdout);
	fprintf(stderr, "%s: oracle failed at op %u (%s): ",
		fuzz_ctx.target != NULL ? fuzz_ctx.target : "fuzz",
		fuzz_ctx.op_index,
		fuzz_ctx.op_name != NULL ? fuzz_ctx.op_name : "?");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	fflush(stderr);
	abort();
}

void kheap_assert_fail(const char *file, int line, const char *expr)
{
	fuzz_fail("core assert failed: %s:%d: %s", file, line, expr);
}

void fuzz_fault_unexpected(const struct sys_heap_fault *fault)
{
	fuzz_fail("unexpected heap fault %s in %s(%p): %s",
		  fault_kind_name(fault->kind), fault->operation, fault->mem,
		  sys_heap_fault_message(fault->kind));
}

/* --- regions ------------------------------------------------------------ */

#define GUARD_BYTE(i) ((unsigned char)(0xa5u ^ (unsigned int)(i)))

static void poison_outside(const struct fuzz_region *region)
{
	unsigned char *end = region->mem + region->bytes;

	POISON(region->buffer, (size_t)(region->mem - region->buffer));
	POISON(end, (size_t)(region->buffer + FUZZ_BUFFER_BYTES - end));
}

void fuzz_region_decode(struct fuzz_input *in, unsigned char *buffer,
			struct fuzz_region *region, unsigned int flags)
{
	uint8_t b = fuzz_u8(in);
	size_t v = fuzz_u16(in);
	unsigned int shape = (b >> 3) & 7u;
	size_t bytes;

	if ((flags & FUZZ_REGION_SMALL_ONLY) != 0u ||
	    ((flags & FUZZ_REGION_VALID_ONLY) != 0u && shape == 7u)) {
		shape &= 3u;
	}
	switch (shape) {
	case 4:
		bytes = SYS_HEAP_SMALL_REGION_MAX_BYTES - v % 1024u;
		break;
	case 5:
	case 6:
		bytes = SYS_HEAP_SMALL_REGION_MAX_BYTES + 1u + v % 8192u;
		break;
	case 7:
		bytes = v % SYS_HEAP_MIN_REGION_BYTES;
		break;
	default:
		bytes = SYS_HEAP_MIN_REGION_BYTES +
			v % (8193u - SYS_HEAP_MIN_REGION_BYTES);
		break;
	}
	/* Also forgets the previous input's heap on this buffer, which
	 * memory-checker hooks left poisoned. */
	test_meta_release(buffer, FUZZ_BUFFER_BYTES);
	region->buffer = buffer;
	region->offset = b & 7u;
	region->mem = buffer + FUZZ_GUARD_BYTES + region->offset;
	region->bytes = bytes;
	for (size_t i = 0; i < FUZZ_GUARD_BYTES; i++) {
		region->mem[-(ptrdiff_t)(i + 1u)] = GUARD_BYTE(i);
		region->mem[bytes + i] = GUARD_BYTE(i + 1u);
	}
	poison_outside(region);
}

bool fuzz_region_init_ok(const struct fuzz_region *region)
{
	size_t lost = (8u - ((uintptr_t)region->mem & 7u)) & 7u;

	return region->bytes >= Z_HEAP_MIN_SIZE + lost;
}

void fuzz_region_check_guards(const struct fuzz_region *region)
{
	unsigned char *end = region->mem + region->bytes;

	/* The guards only: the region between them may be poisoned by
	 * memory-checker hooks, and stays so. */
	UNPOISON(region->buffer, (size_t)(region->mem - region->buffer));
	UNPOISON(end, (size_t)(region->buffer + FUZZ_BUFFER_BYTES - end));
	for (size_t i = 0; i < FUZZ_GUARD_BYTES; i++) {
		FUZZ_CHECK(region->mem[-(ptrdiff_t)(i + 1u)] == GUARD_BYTE(i),
			   "guard byte %zu before the region was overwritten",
			   i + 1u);
		FUZZ_CHECK(region->mem[region->bytes + i] == GUARD_BYTE(i + 1u),
			   "guard byte %zu after the region was overwritten",
			   i);
	}
	poison_outside(region);
}

bool fuzz_region_contains(const struct fuzz_region *region, const void *mem,
			  size_t bytes)
{
	uintptr_t start = (uintptr_t)region->mem;
	uintptr_t p = (uintptr_t)mem;

	return p >= start && p - start <= region->bytes &&
	       bytes <= region->bytes - (p - start);
}

/* --- the shadow model ---------------------------------------------------- */

void fuzz_model_reset(struct fuzz_model *model)
{
	model->count = 0u;
	model->next_id = 1u;
}

bool fuzz_model_full(const struct fuzz_model *model)
{
	return model->count >= FUZZ_MAX_BLOCKS;
}

struct fuzz_block *fuzz_model_add(struct fuzz_model *model,
				  const struct fuzz_block *block)
{
	FUZZ_CHECK(!fuzz_model_full(model), "model full");
	struct fuzz_block *b = &model->blocks[model->count++];

	*b = *block;
	b->id = model->next_id++;
	test_token_fill(b->mem, b->filled, b->id);
	return b;
}

struct fuzz_block *fuzz_model_add_usable(struct fuzz_model *model, void *mem,
					 size_t bytes, size_t usable, size_t a,
					 size_t r, uint8_t kind)
{
	struct fuzz_block b = {
		.mem = mem,
		.requested = bytes,
		.filled = usable,
		.usable = usable,
		.align = a,
		.rewind = r,
		.kind = kind,
	};

	return fuzz_model_add(model, &b);
}

void fuzz_model_remove(struct fuzz_model *model, size_t index)
{
	FUZZ_CHECK(index < model->count, "model index %zu out of range", index);
	model->blocks[index] = model->blocks[--model->count];
}

size_t fuzz_model_overlap(const struct fuzz_model *model, const void *mem,
			  size_t bytes, size_t skip)
{
	uintptr_t p = (uintptr_t)mem;
	uintptr_t end = p + (bytes == 0u ? 1u : bytes);

	for (size_t i = 0; i < model->count; i++) {
		const struct fuzz_block *b = &model->blocks[i];
		uintptr_t q = (uintptr_t)b->mem;
		uintptr_t q_end = q + (b->filled == 0u ? 1u : b->filled);

		if (i != skip && p < q_end && q < end) {
			return i;
		}
	}
	return SIZE_MAX;
}

size_t fuzz_model_pick(const struct fuzz_model *model, struct fuzz_input *in)
{
	uint16_t v = fuzz_u16(in);

	return model->count == 0u ? SIZE_MAX : v % model->count;
}

void fuzz_block_check(const struct fuzz_block *block, const char *when)
{
	size_t bad = test_token_check(block->mem, block->filled, block->id);

	FUZZ_CHECK(bad == SIZE_MAX,
		   "block %p (%zu bytes requested, id %u): byte %zu changed "
		   "(checked %s)",
		   (void *)block->mem, block->requested, block->id, bad, when);
}

void fuzz_block_refill(struct fuzz_model *model, struct fuzz_block *block)
{
	block->id = model->next_id++;
	test_token_fill(block->mem, block->filled, block->id);
}

/* --- heap listener tracker ------------------------------------------------ */

static struct fuzz_tracker *trackers[2];

static struct fuzz_tracker *tracker_of(uintptr_t heap_id)
{
	for (size_t i = 0; i < 2u; i++) {
		if (trackers[i] != NULL &&
		    HEAP_ID_FROM_POINTER(trackers[i]->heap) == heap_id) {
			return trackers[i];
		}
	}
	fuzz_fail("listener event for untracked heap id %#lx",
		  (unsigned long)heap_id);
}

size_t fuzz_tracker_find(const struct fuzz_tracker *tracker, const void *mem)
{
	for (size_t i = 0; i < tracker->count; i++) {
		if (tracker->blocks[i].mem == mem) {
			return i;
		}
	}
	return SIZE_MAX;
}

size_t fuzz_tracker_containing(const struct fuzz_tracker *tracker,
			       const void *mem, size_t bytes)
{
	uintptr_t p = (uintptr_t)mem;

	for (size_t i = 0; i < tracker->count; i++) {
		uintptr_t q = (uintptr_t)tracker->blocks[i].mem;

		if (p >= q && p - q <= tracker->blocks[i].usable &&
		    bytes <= tracker->blocks[i].usable - (p - q)) {
			return i;
		}
	}
	return SIZE_MAX;
}

size_t fuzz_tracker_span(const struct fuzz_tracker *tracker,
			 size_t header_bytes)
{
	size_t sum = 0u;

	for (size_t i = 0; i < tracker->count; i++) {
		sum += fuzz_block_span(tracker->blocks[i].usable, header_bytes);
	}
	return sum;
}

static void tracker_note(struct fuzz_tracker *t, enum heap_event_types event,
			 void *old_mem, size_t old_bytes, void *mem,
			 size_t bytes)
{
	t->events++;
	t->last_event = event;
	t->last_old = old_mem;
	t->last_old_bytes = old_bytes;
	t->last_mem = mem;
	t->last_bytes = bytes;
}

static void tracker_add(struct fuzz_tracker *t, void *mem, size_t bytes)
{
	FUZZ_CHECK(mem != NULL && bytes != 0u,
		   "listener: block %p of %zu usable bytes", mem, bytes);
	FUZZ_CHECK(fuzz_tracker_find(t, mem) == SIZE_MAX,
		   "listener: block %p handed out while live", mem);
	FUZZ_CHECK(t->count < FUZZ_MAX_BLOCKS, "listener: tracker full");
	t->blocks[t->count].mem = mem;
	t->blocks[t->count].usable = bytes;
	t->count++;
}

static void tracker_del(struct fuzz_tracker *t, void *mem, size_t bytes)
{
	size_t i = fuzz_tracker_find(t, mem);

	FUZZ_CHECK(i != SIZE_MAX, "listener: free of untracked block %p", mem);
	FUZZ_CHECK(t->blocks[i].usable == bytes,
		   "listener: block %p freed with %zu usable bytes, "
		   "handed out with %zu",
		   mem, bytes, t->blocks[i].usable);
	t->blocks[i] = t->blocks[--t->count];
}

static void on_alloc(uintptr_t heap_id, void *mem, size_t bytes)
{
	struct fuzz_tracker *t = tracker_of(heap_id);

	tracker_add(t, mem, bytes);
	tracker_note(t, HEAP_ALLOC, NULL, 0u, mem, bytes);
}

static void on_free(uintptr_t heap_id, void *mem, size_t bytes)
{
	struct fuzz_tracker *t = tracker_of(heap_id);

	tracker_del(t, mem, bytes);
	tracker_note(t, HEAP_FREE, NULL, 0u, mem, bytes);
}

static void on_realloc(uintptr_t heap_id, void *old_mem, size_t old_bytes,
		       void *new_mem, size_t new_bytes)
{
	struct fuzz_tracker *t = tracker_of(heap_id);

	tracker_del(t, old_mem, old_bytes);
	tracker_add(t, new_mem, new_bytes);
	tracker_note(t, HEAP_REALLOC, old_mem, old_bytes, new_mem, new_bytes);
}

void fuzz_tracker_start(struct fuzz_tracker *tracker,
			const struct sys_heap *heap)
{
	size_t slot = trackers[0] == NULL || trackers[0] == tracker ? 0u : 1u;

	FUZZ_CHECK(trackers[slot] == NULL || trackers[slot] == tracker,
		   "more than two trackers");
	tracker->heap = heap;
	tracker->count = 0u;
	tracker->events = 0u;
	tracker->last_event = HEAP_EVT_UNKNOWN;
	uintptr_t id = HEAP_ID_FROM_POINTER(heap);
	struct heap_listener alloc_l = {
		.heap_id = id, .event = HEAP_ALLOC, .alloc_cb = on_alloc};
	struct heap_listener free_l = {
		.heap_id = id, .event = HEAP_FREE, .free_cb = on_free};
	struct heap_listener realloc_l = {
		.heap_id = id, .event = HEAP_REALLOC, .realloc_cb = on_realloc};

	tracker->on_alloc = alloc_l;
	tracker->on_free = free_l;
	tracker->on_realloc = realloc_l;
	trackers[slot] = tracker;
	heap_listener_register(&tracker->on_alloc);
	heap_listener_register(&tracker->on_free);
	heap_listener_register(&tracker->on_realloc);
}

void fuzz_tracker_stop(struct fuzz_tracker *tracker)
{
	heap_listener_unregister(&tracker->on_alloc);
	heap_listener_unregister(&tracker->on_free);
	heap_listener_unregister(&tracker->on_realloc);
	for (size_t i = 0; i < 2u; i++) {
		if (trackers[i] == tracker) {
			trackers[i] = NULL;
		}
	}
}

/* --- stats ------------------------------------------------------------- */

struct sys_memory_stats fuzz_stats(const struct sys_heap *heap)
{
	struct sys_memory_stats stats;

	FUZZ_CHECK(sys_heap_runtime_stats_get(heap, &stats) == 0,
		   "sys_heap_runtime_stats_get failed");
	return stats;
}
