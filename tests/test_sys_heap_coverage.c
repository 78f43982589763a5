/* SPDX-License-Identifier: Apache-2.0 */
/*
 * White-box tests for the core's defensive paths: the ones the contract
 * tests (test_sys_heap_unit, the property tests, the hardening matrix)
 * do not reach because they need a specific corruption or an unusual
 * argument. Found with scripts/coverage (docs/testing/coverage.md):
 * each test names the check it drives.
 *
 * - validate: every control-block field check, the end sentinel, a class
 *   list cut short, bitmap bits beyond fl_count(h);
 * - print_info and max_alloc_bytes on a heap that is not initialised, has
 *   a zero-sized chunk or a free list with a cycle: they stop, bounded;
 * - a control block whose magic is gone reads as "not initialised";
 * - BASIC and up: free and realloc refuse a free neighbour whose header or
 *   links are corrupt, one case per condition of the link checks, and
 *   leave the region byte-identical;
 * - BASIC and up: the allocation path refuses a listed chunk marked used;
 * - MODERATE and up: the allocation path refuses a corrupt free-list head,
 *   a corrupt probed member, a corrupt head of a larger class and a head
 *   id outside the heap;
 * - EXTREME: allocation on a heap that fails validation is refused;
 * - the heap_listener_notify_* entry points, sys_heap_owns(heap, NULL),
 *   calls on a heap whose init failed.
 *
 * The corruptions need the chunk layout of core/src/heap_internal.h
 * (included for struct z_heap and its constants only); all metadata is
 * read and written through tests/support/test_meta.h, so the asan and
 * valgrind presets do not report the deliberate accesses.
 *
 * The program is built once per hardening level of interest (ctest
 * sys_heap-coverage-*); tests that need a level skip below it. Not
 * randomized.
 *
 * Usage: test_sys_heap_coverage [test-name-pattern]
 */
#include "test_heap_support.h"
#include "test_listener_log.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <kheap/config.h>
#include <zephyr/sys/heap_listener.h>
#include <zephyr/sys/sys_heap.h>

#include "heap_internal.h"

#define LEVEL CONFIG_SYS_HEAP_HARDENING_LEVEL
/* Bytes of a block that are not usable: the header, and the canary at
 * FULL and up. */
#define CANARY_SIZE (LEVEL >= SYS_HEAP_HARDENING_FULL ? 4u : 0u)

/* The heap under test and what the tests need of its layout. */
struct fixture {
	struct sys_heap heap;
	unsigned char *region;
	size_t region_bytes;
	/* The control block (struct z_heap) and the memory of chunk 0. */
	unsigned char *ctrl;
	unsigned char *chunk0_mem;
	size_t hdr;
	/* Header field width: 2 (small heaps) or 4 bytes (big). */
	size_t fw;
	uint32_t end_chunk;
};

static struct fixture fx;

/* ---- metadata access (through test_meta) ------------------------------ */

static uint32_t read_uint(const void *p, size_t width)
{
	if (width == 1u) {
		return test_meta_get8(p);
	}
	if (width == 2u) {
		uint16_t v;

		test_meta_read(&v, p, sizeof(v));
		return v;
	}
	uint32_t v;

	test_meta_read(&v, p, sizeof(v));
	return v;
}

static void write_uint(void *p, size_t width, uint32_t value)
{
	if (width == 1u) {
		test_meta_set8(p, (uint8_t)value);
	} else if (width == 2u) {
		uint16_t v = (uint16_t)value;

		test_meta_write(p, &v, sizeof(v));
	} else {
		test_meta_write(p, &value, sizeof(value));
	}
}

static unsigned char *field_addr(uint32_t c, enum chunk_field field)
{
	return fx.chunk0_mem + (size_t)c * CHUNK_BYTES - fx.hdr +
	       (size_t)field * fx.fw;
}

static uint32_t get_field(uint32_t c, enum chunk_field field)
{
	return read_uint(field_addr(c, field), fx.fw);
}

static void set_field(uint32_t c, enum chunk_field field, uint32_t value)
{
	write_uint(field_addr(c, field), fx.fw, value);
}

static uint32_t chunk_of(const void *mem)
{
	return (uint32_t)(((const unsigned char *)mem - fx.chunk0_mem) /
			  CHUNK_BYTES);
}

static unsigned char *ctrl_field(size_t offset)
{
	return fx.ctrl + offset;
}

#define CTRL_GET(member)                                                       \
	read_uint(ctrl_field(offsetof(struct z_heap, member)),                 \
		  sizeof(((struct z_heap *)0)->member))
#define CTRL_SET(member, value)                                                \
	write_uint(ctrl_field(offsetof(struct z_heap, member)),                \
		   sizeof(((struct z_heap *)0)->member), (value))

/* The head slot of class cls >= 1 (after the control block; class 0 has
 * none: its slot would be the control block's last bytes). */
static unsigned char *head_slot(unsigned int cls)
{
	return fx.ctrl + sizeof(struct z_heap) + (size_t)cls * fx.fw - fx.fw;
}

/* The second-level bitmap byte of first level fl: the (fl + 1)th byte
 * below chunk 0's header (heap_internal.h). */
static unsigned char *sl_byte_at(unsigned int fl)
{
	return fx.chunk0_mem - fx.hdr - 1u - fl;
}

static uint32_t head_mark_bit_now(void)
{
	return fx.fw == 2u ? 0x8000u : 0x80000000u;
}

/* A block of exactly `chunks` chunks. */
static void *alloc_chunks(uint32_t chunks)
{
	void *mem = sys_heap_alloc(&fx.heap,
				   chunks * CHUNK_BYTES - fx.hdr - CANARY_SIZE);

	assert_non_null(mem);
	return mem;
}

/* ---- fixtures ---------------------------------------------------------- */

static int setup_heap(size_t bytes)
{
	memset(&fx, 0, sizeof(fx));
	fx.region_bytes = bytes;
	fx.region = malloc(bytes);
	assert_non_null(fx.region);
	assert_int_equal(sys_heap_init(&fx.heap, fx.region, bytes), 0);
	fx.ctrl =
		(unsigned char *)(((uintptr_t)fx.region + 7u) & ~(uintptr_t)7u);
	fx.hdr = sys_heap_header_bytes(&fx.heap);
	fx.fw = fx.hdr / 2u;
	/* On a fresh heap the first block is chunk 0. */
	fx.chunk0_mem = sys_heap_alloc(&fx.heap, 1);
	assert_non_null(fx.chunk0_mem);
	sys_heap_free(&fx.heap, fx.chunk0_mem);
	fx.end_chunk = CTRL_GET(end_chunk);
	fault_capture_install();
	return 0;
}

static int setup_small(void **state)
{
	(void)state;
	return setup_heap(4096);
}

static int setup_big(void **state)
{
	(void)state;
	return setup_heap(SYS_HEAP_SMALL_REGION_MAX_BYTES + 4096u);
}

static int setup_common(void **state)
{
	(void)state;
	fault_capture_install();
	return 0;
}

static int teardown_common(void **state)
{
	(void)state;
	fault_capture_uninstall();
	return 0;
}

static int teardown_heap(void **state)
{
	(void)state;
	fault_capture_uninstall();
	test_meta_release(fx.region, fx.region_bytes);
	free(fx.region);
	fx.region = NULL;
	return 0;
}

/* Corrupt a word, check, restore: the heap must validate again. */
static void restore_and_validate(unsigned char *p, size_t width, uint32_t saved)
{
	write_uint(p, width, saved);
	assert_true(sys_heap_validate(&fx.heap));
}

/* ---- validate and the control block ------------------------------------ */

static void test_validate_checks_control_block_fields(void **state)
{
	(void)state;
	void *a = alloc_chunks(4);
	uint32_t head_count = CTRL_GET(head_count);
	uint32_t fl_count = fl_count_for(head_count);
	uint32_t end = CTRL_GET(end_chunk);
	uint32_t allocated = CTRL_GET(allocated_chunks);
	uint32_t max = CTRL_GET(max_allocated_chunks);
	uint32_t magic = CTRL_GET(magic);
	const size_t end_off = offsetof(struct z_heap, end_chunk);
	const size_t max_off = offsetof(struct z_heap, max_allocated_chunks);
	const size_t use_off = offsetof(struct z_heap, allocated_chunks);

	assert_true(sys_heap_validate(&fx.heap));
	/* Heads that do not match the block area: none, one short (too few
	 * for its class), two past it (init leaves at most one more) and a
	 * whole first level past it. */
	const uint32_t bad_head_counts[] = {
		0u, head_count - 1u, head_count + 2u, head_count + SL_COUNT};

	/* The fixtures' heads cover exactly the block area's class. */
	assert_int_equal(head_count, size_class(CTRL_GET(end_chunk)));
	for (size_t i = 0; i < 4; i++) {
		CTRL_SET(head_count, bad_head_counts[i]);
		assert_false(sys_heap_validate(&fx.heap));
		restore_and_validate(
			ctrl_field(offsetof(struct z_heap, head_count)), 1u,
			head_count);
	}
	CTRL_SET(end_chunk, 0u);
	assert_false(sys_heap_validate(&fx.heap));
	restore_and_validate(ctrl_field(end_off), 4u, end);

	/* The watermark below the current use, and above the heap. */
	assert_true(allocated >= 1u);
	CTRL_SET(max_allocated_chunks, allocated - 1u);
	assert_false(sys_heap_validate(&fx.heap));
	restore_and_validate(ctrl_field(max_off), 4u, max);
	CTRL_SET(max_allocated_chunks, end + 1u);
	assert_false(sys_heap_validate(&fx.heap));
	restore_and_validate(ctrl_field(max_off), 4u, max);
	/* The use counter disagreeing with the free chunks: one more, and
	 * one past the heap (which also fails the free-chunk sum). */
	CTRL_SET(allocated_chunks, allocated + 1u);
	assert_false(sys_heap_validate(&fx.heap));
	restore_and_validate(ctrl_field(use_off), 4u, allocated);
	CTRL_SET(allocated_chunks, end + 1u);
	assert_false(sys_heap_validate(&fx.heap));
	restore_and_validate(ctrl_field(use_off), 4u, allocated);

	/* A first-level bit at fl_count: a level without a bitmap byte. */
	uint32_t fl_bitmap = CTRL_GET(fl_bitmap);

	CTRL_SET(fl_bitmap, fl_bitmap | (1u << fl_count));
	assert_false(sys_heap_validate(&fx.heap));
	restore_and_validate(ctrl_field(offsetof(struct z_heap, fl_bitmap)), 4u,
			     fl_bitmap);

	/* Without its magic the control block is not a heap: below FULL
	 * every call treats it as uninitialised; from FULL up (the magic
	 * seals the layout) as a damaged control block, reported. */
	CTRL_SET(magic, magic ^ 1u);
	assert_false(sys_heap_validate(&fx.heap));
	assert_int_equal(sys_heap_usable_size(&fx.heap, NULL), 0);
	if (LEVEL >= SYS_HEAP_HARDENING_FULL) {
		fault_capture_arm();
		assert_null(sys_heap_alloc(&fx.heap, 8));
		fault_capture_assert_one(
			&fx.heap, NULL, SYS_HEAP_FAULT_CORRUPT_HEADER, "alloc");
	} else {
		assert_null(sys_heap_alloc(&fx.heap, 8));
	}
	fault_capture_arm();
	sys_heap_free(&fx.heap, a);
	fault_capture_assert_one(&fx.heap, a,
				 LEVEL >= SYS_HEAP_HARDENING_FULL
					 ? SYS_HEAP_FAULT_CORRUPT_HEADER
					 : SYS_HEAP_FAULT_BAD_POINTER,
				 "free");
	restore_and_validate(ctrl_field(0), 4u, magic);
	sys_heap_free(&fx.heap, a);
	assert_true(sys_heap_validate(&fx.heap));
}

static void test_validate_checks_end_sentinel(void **state)
{
	(void)state;
	uint32_t word = get_field(fx.end_chunk, SIZE_AND_USED);

	assert_int_equal(word, 1u);
	/* A sentinel with a size, and one marked free. */
	set_field(fx.end_chunk, SIZE_AND_USED, 3u);
	assert_false(sys_heap_validate(&fx.heap));
	set_field(fx.end_chunk, SIZE_AND_USED, 0u);
	assert_false(sys_heap_validate(&fx.heap));
	restore_and_validate(field_addr(fx.end_chunk, SIZE_AND_USED), fx.fw,
			     word);
}

/* Two free chunks of one class, newest (b) first: the list b -> a. */
struct two_free {
	void *a, *x, *b, *y;
	uint32_t ca, cb;
};

static void make_two_free(struct two_free *t, uint32_t chunks_a,
			  uint32_t chunks_b)
{
	t->a = alloc_chunks(chunks_a);
	t->x = alloc_chunks(2);
	t->b = alloc_chunks(chunks_b);
	t->y = alloc_chunks(2);
	t->ca = chunk_of(t->a);
	t->cb = chunk_of(t->b);
	sys_heap_free(&fx.heap, t->a);
	sys_heap_free(&fx.heap, t->b);
	assert_true(sys_heap_validate(&fx.heap));
}

static void free_two(struct two_free *t)
{
	sys_heap_free(&fx.heap, t->x);
	sys_heap_free(&fx.heap, t->y);
	assert_true(sys_heap_validate(&fx.heap));
}

static void test_validate_checks_list_length(void **state)
{
	(void)state;
	struct two_free t;

	make_two_free(&t, 20, 20);
	/* The head looks like the tail: the list is one short. */
	uint32_t next = get_field(t.cb, FREE_NEXT);

	assert_int_equal(next, t.ca);
	set_field(t.cb, FREE_NEXT, t.cb);
	assert_false(sys_heap_validate(&fx.heap));
	restore_and_validate(field_addr(t.cb, FREE_NEXT), fx.fw, next);
	free_two(&t);
}

/*
 * A class list's members must be the free chunks the chunk walk finds,
 * not only as many: a header inside a used block that looks like a free
 * chunk of the class (left there by an earlier split, or written by the
 * user) and stands in the list for the real one is refused. (fuzz_corrupt
 * found this at EXTREME: validation passed on entry, then failed after a
 * call that wrote over the stand-in.)
 */
static void test_validate_checks_list_members_are_chunks(void **state)
{
	(void)state;
	void *a = alloc_chunks(20);
	uint32_t top = chunk_of(a) + 20u;
	uint32_t top_size = fx.end_chunk - top;
	unsigned int cls = size_class(top_size);
	unsigned char *slot = head_slot(cls);
	uint32_t saved_head = read_uint(slot, fx.fw);
	/* The stand-in: chunk 8 of a's 20, a copy of the top chunk's
	 * header as the only member of its class. */
	uint32_t fake = chunk_of(a) + 8u;

	assert_int_equal(saved_head, top);
	set_field(fake, LEFT_SIZE, 8u);
	set_field(fake, SIZE_AND_USED, top_size << 1);
	set_field(fake, FREE_PREV, head_mark_bit_now() | cls);
	set_field(fake, FREE_NEXT, fake);
	assert_true(sys_heap_validate(&fx.heap));
	write_uint(slot, fx.fw, fake);
	assert_false(sys_heap_validate(&fx.heap));
	restore_and_validate(slot, fx.fw, saved_head);
	sys_heap_free(&fx.heap, a);
	assert_true(sys_heap_validate(&fx.heap));
}

/* ---- print_info and max_alloc_bytes on damaged heaps ------------------- */

struct captured {
	char text[8192];
	size_t len;
};

static void capture_out(void *ctx, const char *text)
{
	struct captured *c = ctx;
	size_t n = strlen(text);

	if (c->len + n < sizeof(c->text)) {
		memcpy(c->text + c->len, text, n + 1u);
		c->len += n;
	}
}

static void test_info_and_largest_bounded_on_list_cycle(void **state)
{
	(void)state;
	/* Fill the heap so that a and b (one class, the largest free
	 * chunks) are the only large free chunks. */
	struct two_free t;

	make_two_free(&t, 40, 41);
	void *rest =
		sys_heap_alloc(&fx.heap, sys_heap_max_alloc_bytes(&fx.heap));
	assert_non_null(rest);
	size_t largest = sys_heap_max_alloc_bytes(&fx.heap);

	/* a, the tail, now points back at b: b -> a -> b -> ... */
	uint32_t next = get_field(t.ca, FREE_NEXT);

	assert_int_equal(next, t.ca);
	set_field(t.ca, FREE_NEXT, t.cb);
	struct captured out = {.len = 0};

	sys_heap_print_info_to(&fx.heap, false, capture_out, &out);
	assert_non_null(strstr(out.text, "blocks"));
	assert_int_equal(sys_heap_max_alloc_bytes(&fx.heap), largest);
	assert_false(sys_heap_validate(&fx.heap));
	restore_and_validate(field_addr(t.ca, FREE_NEXT), fx.fw, next);
	sys_heap_free(&fx.heap, rest);
	free_two(&t);
}

static void test_info_stops_at_zero_sized_chunk(void **state)
{
	(void)state;
	void *a = alloc_chunks(3);
	void *b = alloc_chunks(3);
	uint32_t cb = chunk_of(b);
	uint32_t word = get_field(cb, SIZE_AND_USED);
	struct captured out = {.len = 0};

	set_field(cb, SIZE_AND_USED, 1u);
	sys_heap_print_info_to(&fx.heap, true, capture_out, &out);
	assert_non_null(strstr(out.text, "zero-sized chunk"));
	restore_and_validate(field_addr(cb, SIZE_AND_USED), fx.fw, word);
	sys_heap_free(&fx.heap, a);
	sys_heap_free(&fx.heap, b);
}

static bool count_blocks(void *ctx, const struct sys_heap_block *block)
{
	(void)block;
	(*(unsigned int *)ctx)++;
	return true;
}

/* sys_heap_walk stops with an error at a size that runs past the end of
 * the heap (a zero size is test_sys_heap_walk's). */
static void test_walk_stops_at_size_past_the_end(void **state)
{
	(void)state;
	void *a = alloc_chunks(3);
	void *b = alloc_chunks(3);
	uint32_t cb = chunk_of(b);
	uint32_t word = get_field(cb, SIZE_AND_USED);
	unsigned int seen = 0;

	assert_int_equal(sys_heap_walk(&fx.heap, count_blocks, &seen), 0);
	assert_int_equal(seen, 3);
	set_field(cb, SIZE_AND_USED, ((fx.end_chunk - cb + 1u) << 1) | 1u);
	seen = 0;
	assert_int_equal(sys_heap_walk(&fx.heap, count_blocks, &seen), -14);
	assert_int_equal(seen, 1);
	restore_and_validate(field_addr(cb, SIZE_AND_USED), fx.fw, word);
	assert_int_equal(sys_heap_walk(&fx.heap, NULL, NULL), -22);
	sys_heap_free(&fx.heap, a);
	sys_heap_free(&fx.heap, b);
}

/* A heap whose init failed: every call refuses or reports, nothing
 * crashes. */
static void test_calls_on_uninitialised_heap(void **state)
{
	(void)state;
	struct sys_heap dead;
	unsigned char block[64] __attribute__((__aligned__(8)));
	struct captured out = {.len = 0};

	assert_int_not_equal(sys_heap_init(&dead, block, 8), 0);
	sys_heap_print_info_to(&dead, true, capture_out, &out);
	assert_non_null(strstr(out.text, "not initialised"));
	assert_false(sys_heap_validate(&dead));
	assert_false(sys_heap_owns(&dead, block + 8));
	assert_false(sys_heap_request_fits(&dead, 0, 8));
	assert_null(sys_heap_alloc(&dead, 8));
	assert_null(sys_heap_aligned_alloc(&dead, 64, 8));
	assert_null(sys_heap_realloc(&dead, NULL, 8));
	assert_int_equal(sys_heap_max_alloc_bytes(&dead), 0);
	assert_int_equal(sys_heap_header_bytes(&dead), 0);
	assert_int_equal(sys_heap_walk(&dead, count_blocks, NULL), -22);

	fault_capture_arm();
	sys_heap_free(&dead, block + 8);
	fault_capture_assert_one(&dead, block + 8, SYS_HEAP_FAULT_BAD_POINTER,
				 "free");
	fault_capture_arm();
	assert_int_equal(sys_heap_usable_size(&dead, block + 8), 0);
	fault_capture_assert_one(&dead, block + 8, SYS_HEAP_FAULT_BAD_POINTER,
				 "usable_size");
	fault_capture_arm();
	assert_null(sys_heap_realloc(&dead, block + 8, 16));
	fault_capture_assert_one(&dead, block + 8, SYS_HEAP_FAULT_BAD_POINTER,
				 "realloc");
	fault_capture_disarm();
}

static void test_owns_and_fits_edge_arguments(void **state)
{
	(void)state;
	void *a = alloc_chunks(3);

	assert_true(sys_heap_owns(&fx.heap, a));
	assert_false(sys_heap_owns(&fx.heap, NULL));
	assert_true(sys_heap_request_fits(&fx.heap, 64, 100));
	assert_false(sys_heap_request_fits(&fx.heap, 7u << 4, 100));
	assert_false(sys_heap_request_fits(&fx.heap, 0, fx.region_bytes));
	sys_heap_free(&fx.heap, a);
	assert_false(sys_heap_owns(&fx.heap, a));
}

/* ---- listener entry points ---------------------------------------------- */

/* heap_listener_notify_* are public (Zephyr's API): a heap other than
 * sys_heap may report through them. */
static void test_listener_notify_entry_points(void **state)
{
	(void)state;
	const uintptr_t id = 0x1234u;
	unsigned char x, y;

	HEAP_LISTENER_ALLOC_DEFINE(la, id, listener_log_on_alloc);
	HEAP_LISTENER_FREE_DEFINE(lf, id, listener_log_on_free);
	HEAP_LISTENER_REALLOC_DEFINE(lr, id, listener_log_on_realloc);

	listener_log_reset();
	heap_listener_register(&la);
	heap_listener_register(&lf);
	heap_listener_register(&lr);
	heap_listener_notify_alloc(id, &x, 10);
	assert_int_equal(listener_log.alloc_count, 1);
	assert_ptr_equal(listener_log.mem, &x);
	assert_int_equal(listener_log.bytes, 10);
	heap_listener_notify_free(id, &x, 10);
	assert_int_equal(listener_log.free_count, 1);
	heap_listener_notify_realloc(id, &x, 10, &y, 20);
	assert_int_equal(listener_log.realloc_count, 1);
	assert_ptr_equal(listener_log.old_mem, &x);
	assert_int_equal(listener_log.old_bytes, 10);
	assert_ptr_equal(listener_log.mem, &y);
	assert_int_equal(listener_log.bytes, 20);
	/* Another heap's events reach nobody here. */
	heap_listener_notify_alloc(id + 1u, &x, 10);
	assert_int_equal(listener_log.alloc_count, 1);
	heap_listener_unregister(&la);
	heap_listener_unregister(&lf);
	heap_listener_unregister(&lr);
	heap_listener_notify_alloc(id, &x, 10);
	assert_int_equal(listener_log.alloc_count, 1);
}

/* ---- BASIC and up: free and realloc check a free neighbour ------------- */

/*
 * The layout, left to right:
 *   [ m 16 ][ guard ][ a ][ l 17 ][ b ][ r 5 ][ c ][ rest, free ]
 * with m, l and r free. m and l share a class (16 and 17 chunks), r is
 * alone in its class. b is the block freed or resized; l and r are its
 * neighbours. l_first: l is its list's head, m behind it (freed in the
 * order m, l); else m is the head and l behind it.
 */
struct neighbours {
	void *a, *l, *m_guard, *m, *b, *r, *c;
	uint32_t cl, cm, cr, cb;
};

static void make_neighbours(struct neighbours *n, bool l_first)
{
	n->m = alloc_chunks(16);
	n->m_guard = alloc_chunks(2);
	n->a = alloc_chunks(2);
	n->l = alloc_chunks(17);
	n->b = alloc_chunks(3);
	n->r = alloc_chunks(5);
	n->c = alloc_chunks(2);
	n->cl = chunk_of(n->l);
	n->cm = chunk_of(n->m);
	n->cr = chunk_of(n->r);
	n->cb = chunk_of(n->b);
	sys_heap_free(&fx.heap, l_first ? n->m : n->l);
	sys_heap_free(&fx.heap, l_first ? n->l : n->m);
	sys_heap_free(&fx.heap, n->r);
	assert_true(sys_heap_validate(&fx.heap));
	uint32_t head = l_first ? n->cl : n->cm;
	uint32_t tail = l_first ? n->cm : n->cl;

	assert_int_equal(get_field(head, FREE_NEXT), tail);
	assert_int_equal(get_field(tail, FREE_PREV), head);
}

static void free_neighbours(struct neighbours *n)
{
	sys_heap_free(&fx.heap, n->b);
	sys_heap_free(&fx.heap, n->a);
	sys_heap_free(&fx.heap, n->c);
	sys_heap_free(&fx.heap, n->m_guard);
	assert_true(sys_heap_validate(&fx.heap));
}

/* free(b) and realloc(b, grow) must both be refused with CORRUPT_LINKS
 * and leave the region as it was; then the damage is undone. */
static void expect_refused(struct neighbours *n, unsigned char *field,
			   size_t width, uint32_t saved, const char *what)
{
	struct region_snapshot snap;

	region_snapshot_take(&snap, fx.region, fx.region_bytes);
	fault_capture_arm();
	sys_heap_free(&fx.heap, n->b);
	fault_capture_assert_one(&fx.heap, n->b, SYS_HEAP_FAULT_CORRUPT_LINKS,
				 "free");
	region_snapshot_assert_same(&snap, what);
	fault_capture_arm();
	assert_null(sys_heap_realloc(&fx.heap, n->b, 8u * CHUNK_BYTES));
	fault_capture_assert_one(&fx.heap, n->b, SYS_HEAP_FAULT_CORRUPT_LINKS,
				 "realloc");
	region_snapshot_assert_same(&snap, what);
	fault_capture_disarm();
	region_snapshot_release(&snap);
	write_uint(field, width, saved);
	assert_true(sys_heap_validate(&fx.heap));
}

static void corrupt_and_expect(struct neighbours *n, uint32_t c,
			       enum chunk_field field, uint32_t value,
			       const char *what)
{
	uint32_t saved = get_field(c, field);

	set_field(c, field, value);
	expect_refused(n, field_addr(c, field), fx.fw, saved, what);
}

static void test_free_checks_left_neighbour_links(void **state)
{
	(void)state;
	struct neighbours n;

	if (LEVEL < SYS_HEAP_HARDENING_BASIC ||
	    LEVEL >= SYS_HEAP_HARDENING_EXTREME) {
		skip(); /* no checks / validation on entry reports first */
	}
	make_neighbours(&n, true);
	uint32_t mark = head_mark_bit_now();
	uint32_t l_prev = get_field(n.cl, FREE_PREV);
	uint32_t head_count = CTRL_GET(head_count);

	/* BASIC checks that the unlink's writes stay in the heap (links in
	 * range); MODERATE and up that the links are l's own. */
	bool links_sound = LEVEL >= SYS_HEAP_HARDENING_MODERATE;

	/* l is a head: its mark names a class past the heads (the first
	 * one past them), or a class whose head is someone else. */
	corrupt_and_expect(&n, n.cl, FREE_PREV, mark | (head_count + 1u),
			   "left head mark past the index");
	if (links_sound) {
		corrupt_and_expect(&n, n.cl, FREE_PREV,
				   (l_prev & ~mark) == 1u ? mark | 2u
							  : mark | 1u,
				   "left head mark of another class");
	}
	/* A mark of class 0, which has no head: where its slot would be,
	 * the control block's last bytes, made to name l, so that only the
	 * class check refuses it (else freeing b would write l's successor
	 * there). */
	unsigned char *slot0 = head_slot(1u) - fx.fw;
	uint32_t slot0_saved = read_uint(slot0, fx.fw);
	struct region_snapshot snap;

	write_uint(slot0, fx.fw, n.cl);
	set_field(n.cl, FREE_PREV, mark);
	region_snapshot_take(&snap, fx.region, fx.region_bytes);
	fault_capture_arm();
	sys_heap_free(&fx.heap, n.b);
	fault_capture_assert_one(&fx.heap, n.b, SYS_HEAP_FAULT_CORRUPT_LINKS,
				 "free");
	fault_capture_disarm();
	region_snapshot_assert_same(&snap, "left head mark of class 0");
	region_snapshot_release(&snap);
	set_field(n.cl, FREE_PREV, l_prev);
	write_uint(slot0, fx.fw, slot0_saved);
	assert_true(sys_heap_validate(&fx.heap));
	/* l as a list member: a predecessor outside the heap, and one that
	 * does not point back. */
	corrupt_and_expect(&n, n.cl, FREE_PREV, fx.end_chunk,
			   "left prev outside the heap");
	if (links_sound) {
		corrupt_and_expect(&n, n.cl, FREE_PREV, n.cr,
				   "left prev not linked to it");
	}
	/* l's successor outside the heap, and one that does not point
	 * back. */
	corrupt_and_expect(&n, n.cl, FREE_NEXT, fx.end_chunk + 1u,
			   "left next outside the heap");
	if (links_sound) {
		corrupt_and_expect(&n, n.cm, FREE_PREV, n.cr,
				   "left next not linked back");
	}
	free_neighbours(&n);
}

static void test_free_checks_right_neighbour(void **state)
{
	(void)state;
	struct neighbours n;

	if (LEVEL < SYS_HEAP_HARDENING_BASIC ||
	    LEVEL >= SYS_HEAP_HARDENING_EXTREME) {
		skip();
	}
	make_neighbours(&n, true);
	uint32_t r_size = get_field(n.cr, SIZE_AND_USED) >> 1;

	/* r's size below a block and past the heap's end (BASIC: the
	 * merged header must lie inside the heap); from MODERATE up also
	 * one that its right neighbour's left_size disagrees with. */
	corrupt_and_expect(&n, n.cr, SIZE_AND_USED, 0u, "right size 0");
	corrupt_and_expect(&n, n.cr, SIZE_AND_USED,
			   (fx.end_chunk - n.cr + 1u) << 1,
			   "right size past the end");
	/* r's links: outside the heap; from MODERATE up, a successor
	 * inside it that is not r's (r is alone in its class). */
	corrupt_and_expect(&n, n.cr, FREE_NEXT, fx.end_chunk, "right next out");
	if (LEVEL >= SYS_HEAP_HARDENING_MODERATE) {
		corrupt_and_expect(&n, n.cr + r_size, LEFT_SIZE, r_size + 1u,
				   "right's neighbour disagrees");
		corrupt_and_expect(&n, n.cr, FREE_NEXT, n.cl,
				   "right next is l");
	}
	free_neighbours(&n);
}

/* ---- MODERATE and up: the allocation path checks what it takes ---------- */

static void expect_alloc_refused(size_t bytes, unsigned char *field,
				 size_t width, uint32_t saved, const char *what)
{
	struct region_snapshot snap;

	region_snapshot_take(&snap, fx.region, fx.region_bytes);
	fault_capture_arm();
	assert_null(sys_heap_alloc(&fx.heap, bytes));
	fault_capture_assert_one(&fx.heap, NULL, SYS_HEAP_FAULT_CORRUPT_LINKS,
				 "alloc");
	region_snapshot_assert_same(&snap, what);
	fault_capture_disarm();
	region_snapshot_release(&snap);
	write_uint(field, width, saved);
	assert_true(sys_heap_validate(&fx.heap));
}

static size_t bytes_for_chunks(uint32_t chunks)
{
	return chunks * CHUNK_BYTES - fx.hdr - CANARY_SIZE;
}

static void corrupt_and_expect_alloc(size_t bytes, unsigned char *field,
				     uint32_t value, const char *what)
{
	uint32_t saved = read_uint(field, fx.fw);

	write_uint(field, fx.fw, value);
	expect_alloc_refused(bytes, field, fx.fw, saved, what);
}

static void test_alloc_checks_taken_chunks(void **state)
{
	(void)state;
	struct neighbours n;

	if (LEVEL < SYS_HEAP_HARDENING_MODERATE ||
	    LEVEL >= SYS_HEAP_HARDENING_EXTREME) {
		skip();
	}
	/* Class 16/17 lists m (16, the head) then l (17). */
	make_neighbours(&n, false);
	uint32_t l_word = get_field(n.cl, SIZE_AND_USED);

	/* A request of 16 chunks takes the head of its own class, m. */
	corrupt_and_expect_alloc(bytes_for_chunks(16),
				 field_addr(n.cm, FREE_PREV), n.cr,
				 "probed head");
	/* One of 17 finds m too small and probes l, marked used. */
	corrupt_and_expect_alloc(bytes_for_chunks(17),
				 field_addr(n.cl, SIZE_AND_USED), l_word | 1u,
				 "probed member marked used");
	/* One of 4 chunks finds its class empty and takes the head of the
	 * next larger non-empty class: r (5 chunks). */
	corrupt_and_expect_alloc(bytes_for_chunks(4),
				 field_addr(n.cr, FREE_NEXT), n.cl,
				 "head of a larger class");
	/* A head id outside the heap, in r's class slot. */
	corrupt_and_expect_alloc(bytes_for_chunks(5), head_slot(5),
				 fx.end_chunk, "head outside the heap");

	/* Undamaged, the same requests succeed. */
	void *got = sys_heap_alloc(&fx.heap, bytes_for_chunks(17));

	assert_ptr_equal(got, n.l);
	sys_heap_free(&fx.heap, got);
	free_neighbours(&n);
}

/* BASIC and up: a chunk read off a free list must be marked free, at each
 * place the search reads one: the probed head, a probed member, the head
 * of a larger class. */
static void test_alloc_refuses_listed_chunk_marked_used(void **state)
{
	(void)state;
	struct neighbours n;

	if (LEVEL < SYS_HEAP_HARDENING_BASIC ||
	    LEVEL >= SYS_HEAP_HARDENING_EXTREME) {
		skip();
	}
	/* Class 16/17 lists m (16, the head) then l (17). */
	make_neighbours(&n, false);
	corrupt_and_expect_alloc(bytes_for_chunks(16),
				 field_addr(n.cm, SIZE_AND_USED),
				 get_field(n.cm, SIZE_AND_USED) | 1u,
				 "probed head marked used");
	corrupt_and_expect_alloc(bytes_for_chunks(17),
				 field_addr(n.cl, SIZE_AND_USED),
				 get_field(n.cl, SIZE_AND_USED) | 1u,
				 "probed member marked used");
	corrupt_and_expect_alloc(bytes_for_chunks(4),
				 field_addr(n.cr, SIZE_AND_USED),
				 get_field(n.cr, SIZE_AND_USED) | 1u,
				 "head of a larger class marked used");
	free_neighbours(&n);
}

/* ---- BASIC and up: ids read from the block area are range-checked ------- */

/*
 * Each place the allocation search reads an id or a size from a free
 * chunk refuses a value that would make it read or write outside the
 * heap, before anything changes (CORRUPT_LINKS): a probed member's link,
 * a taken chunk's size past the end, a taken chunk's successor link, and
 * a head of a larger class smaller than the request.
 */
static void test_alloc_checks_listed_ids(void **state)
{
	(void)state;
	struct neighbours n;

	if (LEVEL < SYS_HEAP_HARDENING_BASIC ||
	    LEVEL >= SYS_HEAP_HARDENING_EXTREME) {
		skip();
	}
	/* Class 16/17 lists m (16, the head) then l (17, the tail). */
	make_neighbours(&n, false);
	/* 17 chunks: m is too small, its link to the next member points
	 * past the heap. */
	corrupt_and_expect_alloc(bytes_for_chunks(17),
				 field_addr(n.cm, FREE_NEXT), fx.end_chunk + 1u,
				 "probed member's id past the end");
	/* 16 chunks take the head m: its size runs past the end, or its
	 * successor is outside the heap. */
	corrupt_and_expect_alloc(bytes_for_chunks(16),
				 field_addr(n.cm, SIZE_AND_USED),
				 (fx.end_chunk - n.cm + 1u) << 1,
				 "taken size past the end");
	corrupt_and_expect_alloc(bytes_for_chunks(16),
				 field_addr(n.cm, FREE_NEXT), fx.end_chunk,
				 "taken head's successor outside the heap");
	/* 17 chunks take the member l: its own successor (it is the tail:
	 * itself) outside the heap. */
	corrupt_and_expect_alloc(bytes_for_chunks(17),
				 field_addr(n.cl, FREE_NEXT), fx.end_chunk + 2u,
				 "taken member's successor outside the heap");
	/* 4 chunks: their class is empty, the next larger class's head r
	 * says it has 3 chunks. */
	corrupt_and_expect_alloc(
		bytes_for_chunks(4), field_addr(n.cr, SIZE_AND_USED), 3u << 1,
		"larger class's head smaller than the request");
	free_neighbours(&n);
}

/* FULL and up: a chunk taken off a list agrees with its left neighbour
 * (used, of its left_size); chunk 0 has none. */
/*
 * A sound free chunk listed in a larger class than its size's: the search
 * takes the larger class's head as large enough, and the size check of
 * the taken chunk (takeable: taken_size_ok at BASIC, the size test from
 * MODERATE up, where free_chunk_ok finds nothing else wrong) refuses it.
 */
static void test_alloc_refuses_small_chunk_in_larger_class(void **state)
{
	(void)state;
	if (LEVEL < SYS_HEAP_HARDENING_BASIC ||
	    LEVEL >= SYS_HEAP_HARDENING_EXTREME) {
		skip();
	}
	/* x (3 chunks) and y (5) free between used blocks: each the only
	 * member of its class. */
	void *x = alloc_chunks(3);
	void *g1 = alloc_chunks(2);
	void *y = alloc_chunks(5);
	void *g2 = alloc_chunks(2);
	uint32_t cx = chunk_of(x);

	sys_heap_free(&fx.heap, x);
	sys_heap_free(&fx.heap, y);
	/* x, linked both ways, becomes the head of y's class (5). */
	unsigned char *slot = head_slot(size_class(5));
	uint32_t saved_head = read_uint(slot, fx.fw);
	uint32_t saved_prev = get_field(cx, FREE_PREV);

	set_field(cx, FREE_PREV, head_mark_bit_now() | size_class(5));
	write_uint(slot, fx.fw, cx);
	/* 4 chunks: class 4 is empty, class 5's head is taken. */
	struct region_snapshot snap;

	region_snapshot_take(&snap, fx.region, fx.region_bytes);
	fault_capture_arm();
	assert_null(sys_heap_alloc(&fx.heap, bytes_for_chunks(4)));
	fault_capture_assert_one(&fx.heap, NULL, SYS_HEAP_FAULT_CORRUPT_LINKS,
				 "alloc");
	fault_capture_disarm();
	region_snapshot_assert_same(&snap, "a 3-chunk head in the 5-chunk "
					   "class");
	region_snapshot_release(&snap);
	assert_false(sys_heap_validate(&fx.heap));
	write_uint(slot, fx.fw, saved_head);
	restore_and_validate(field_addr(cx, FREE_PREV), fx.fw, saved_prev);
	sys_heap_free(&fx.heap, g1);
	sys_heap_free(&fx.heap, g2);
}

static void test_alloc_checks_taken_left_size(void **state)
{
	(void)state;
	struct neighbours n;

	if (LEVEL < SYS_HEAP_HARDENING_FULL ||
	    LEVEL >= SYS_HEAP_HARDENING_EXTREME) {
		skip();
	}
	make_neighbours(&n, false);
	assert_int_equal(n.cm, 0u);
	/* m is chunk 0: a left_size other than 0. */
	corrupt_and_expect_alloc(bytes_for_chunks(16),
				 field_addr(n.cm, LEFT_SIZE), 5u,
				 "chunk 0 with a left neighbour");
	/* l follows a (2 chunks): no left neighbour, one that starts
	 * inside a (its data is not a header of that size), and one below
	 * chunk 0. */
	memset(n.a, 0xff, 2u * CHUNK_BYTES - fx.hdr - CANARY_SIZE);
	corrupt_and_expect_alloc(bytes_for_chunks(17),
				 field_addr(n.cl, LEFT_SIZE), 0u,
				 "left_size 0 past chunk 0");
	corrupt_and_expect_alloc(bytes_for_chunks(17),
				 field_addr(n.cl, LEFT_SIZE), 1u,
				 "left neighbour inside a block");
	corrupt_and_expect_alloc(bytes_for_chunks(17),
				 field_addr(n.cl, LEFT_SIZE), n.cl + 1u,
				 "left neighbour below chunk 0");
	free_neighbours(&n);
}

/*
 * A block's own size changed to one that runs over a block boundary the
 * next header confirms: the block's header is the corrupt one
 * (CORRUPT_HEADER); when the header found there does not confirm one,
 * the mismatch is read as an overflow into it (OVERFLOW).
 */
static void test_own_size_decided_by_both_neighbours(void **state)
{
	(void)state;
	if (LEVEL < SYS_HEAP_HARDENING_BASIC ||
	    LEVEL >= SYS_HEAP_HARDENING_EXTREME) {
		skip();
	}
	void *a = alloc_chunks(3);
	void *b = alloc_chunks(3);
	void *c = alloc_chunks(3);
	void *d = alloc_chunks(3);
	/* More chunks in use than b's new size. */
	void *fill = alloc_chunks(20);
	uint32_t cb = chunk_of(b);
	uint32_t cd = chunk_of(d);
	uint32_t word = get_field(cb, SIZE_AND_USED);
	struct region_snapshot snap;

	/* b claims 6 chunks: up to d, whose left_size (3) names c, a
	 * block of 3 chunks. */
	set_field(cb, SIZE_AND_USED, (6u << 1) | 1u);
	region_snapshot_take(&snap, fx.region, fx.region_bytes);
	fault_capture_arm();
	sys_heap_free(&fx.heap, b);
	fault_capture_assert_one(&fx.heap, b, SYS_HEAP_FAULT_CORRUPT_HEADER,
				 "free");
	region_snapshot_assert_same(&snap, "own size over a boundary");
	region_snapshot_release(&snap);
	/* d's left_size then names no block (c's data is not a header of
	 * 2 chunks): an overflow into d. */
	uint32_t d_left = get_field(cd, LEFT_SIZE);

	memset(c, 0xff, 3u * CHUNK_BYTES - fx.hdr - CANARY_SIZE);
	set_field(cd, LEFT_SIZE, 2u);
	fault_capture_arm();
	sys_heap_free(&fx.heap, b);
	fault_capture_assert_one(&fx.heap, b, SYS_HEAP_FAULT_OVERFLOW, "free");
	fault_capture_disarm();
	set_field(cd, LEFT_SIZE, d_left);
	restore_and_validate(field_addr(cb, SIZE_AND_USED), fx.fw, word);
	sys_heap_free(&fx.heap, a);
	sys_heap_free(&fx.heap, b);
	sys_heap_free(&fx.heap, c);
	sys_heap_free(&fx.heap, d);
	sys_heap_free(&fx.heap, fill);
	assert_true(sys_heap_validate(&fx.heap));
}

/*
 * Read-only queries on a heap whose lists hold ids past the end or sizes
 * their classes do not hold: largest free chunk, max_alloc_bytes and
 * print_info stop at an id outside the heap and give no certain size.
 */
static void test_queries_bounded_on_bad_ids(void **state)
{
	(void)state;
	struct two_free t;

	if (LEVEL >= SYS_HEAP_HARDENING_EXTREME) {
		skip(); /* (queries are not validated; the layout differs) */
	}
	/* g is chunk 0; its memory holds what a stale head slot (0) reads
	 * as links: the second link word points past the end. */
	void *g = alloc_chunks(3);

	assert_int_equal(chunk_of(g), 0u);
	make_two_free(&t, 40, 41);
	void *rest =
		sys_heap_alloc(&fx.heap, sys_heap_max_alloc_bytes(&fx.heap));
	assert_non_null(rest);
	set_field(0, FREE_NEXT, fx.end_chunk + 9u);
	uint32_t next = get_field(t.cb, FREE_NEXT);
	struct captured out = {.len = 0};

	/* b (the head, 41 chunks) links past the end: the scan of the top
	 * class and print_info stop there. */
	set_field(t.cb, FREE_NEXT, fx.end_chunk + 7u);
	sys_heap_print_info_to(&fx.heap, false, capture_out, &out);
	assert_non_null(strstr(out.text, "1 blocks"));
	assert_int_equal(sys_heap_max_alloc_bytes(&fx.heap),
			 41u * CHUNK_BYTES - fx.hdr - CANARY_SIZE);
	set_field(t.cb, FREE_NEXT, next);

	/* a (the tail) claims a size of a higher class, whose head slot is
	 * stale (chunk 0, g): no size is certain beyond that class's
	 * bound; a size past the heap gives none. */
	unsigned int high = size_class(200u);
	unsigned int low = size_class(10u);
	uint32_t high_slot = read_uint(head_slot(high), fx.fw);
	uint32_t low_slot = read_uint(head_slot(low), fx.fw);
	uint32_t a_word = get_field(t.ca, SIZE_AND_USED);
	uint32_t b_word = get_field(t.cb, SIZE_AND_USED);

	write_uint(head_slot(high), fx.fw, 0u);
	write_uint(head_slot(low), fx.fw, 0u);
	set_field(t.ca, SIZE_AND_USED, 200u << 1);
	assert_int_equal(sys_heap_max_alloc_bytes(&fx.heap),
			 (size_t)(class_min_chunks(high) - 1u) * CHUNK_BYTES -
				 fx.hdr - CANARY_SIZE);
	set_field(t.ca, SIZE_AND_USED, (fx.end_chunk + 1u) << 1);
	assert_int_equal(sys_heap_max_alloc_bytes(&fx.heap), 0u);
	/* ... or a largest size of a class below 16 chunks whose head
	 * (stale, g) is not it: b says 10 chunks and is the tail. */
	set_field(t.cb, SIZE_AND_USED, 10u << 1);
	set_field(t.cb, FREE_NEXT, t.cb);
	assert_int_equal(sys_heap_max_alloc_bytes(&fx.heap), 0u);
	set_field(t.cb, FREE_NEXT, next);
	set_field(t.cb, SIZE_AND_USED, b_word);
	write_uint(head_slot(high), fx.fw, high_slot);
	write_uint(head_slot(low), fx.fw, low_slot);
	restore_and_validate(field_addr(t.ca, SIZE_AND_USED), fx.fw, a_word);
	sys_heap_free(&fx.heap, rest);
	free_two(&t);
	sys_heap_free(&fx.heap, g);
	assert_true(sys_heap_validate(&fx.heap));
}

/* ---- FULL and up: the control block is checked ------------------------- */

/* Every call on a heap whose layout field changed: refused, the changing
 * ones reported as CORRUPT_HEADER, the region untouched. */
static void expect_control_refused(void *live, const char *what)
{
	struct region_snapshot snap;
	struct sys_memory_stats stats;
	struct captured out = {.len = 0};

	region_snapshot_take(&snap, fx.region, fx.region_bytes);
	fault_capture_arm();
	assert_null(sys_heap_alloc(&fx.heap, 8));
	fault_capture_assert_one(&fx.heap, NULL, SYS_HEAP_FAULT_CORRUPT_HEADER,
				 "alloc");
	fault_capture_arm();
	assert_null(sys_heap_aligned_alloc(&fx.heap, 64, 8));
	fault_capture_assert_one(&fx.heap, NULL, SYS_HEAP_FAULT_CORRUPT_HEADER,
				 "alloc");
	fault_capture_arm();
	sys_heap_free(&fx.heap, live);
	fault_capture_assert_one(&fx.heap, live, SYS_HEAP_FAULT_CORRUPT_HEADER,
				 "free");
	fault_capture_arm();
	assert_null(sys_heap_realloc(&fx.heap, live, 100));
	fault_capture_assert_one(&fx.heap, live, SYS_HEAP_FAULT_CORRUPT_HEADER,
				 "realloc");
	fault_capture_arm();
	assert_int_equal(sys_heap_usable_size(&fx.heap, live), 0);
	fault_capture_assert_one(&fx.heap, live, SYS_HEAP_FAULT_CORRUPT_HEADER,
				 "usable_size");
	fault_capture_disarm();
	assert_false(sys_heap_validate(&fx.heap));
	assert_int_equal(sys_heap_walk(&fx.heap, count_blocks, NULL), -14);
	assert_int_equal(sys_heap_walk(&fx.heap, NULL, NULL), -22);
	assert_int_equal(sys_heap_runtime_stats_get(&fx.heap, &stats), -22);
	assert_int_equal(sys_heap_max_alloc_bytes(&fx.heap), 0);
	assert_int_equal(sys_heap_header_bytes(&fx.heap), 0);
	assert_false(sys_heap_owns(&fx.heap, live));
	assert_false(sys_heap_request_fits(&fx.heap, 0, 8));
	sys_heap_print_info_to(&fx.heap, true, capture_out, &out);
	assert_non_null(strstr(out.text, "control block corrupt"));
	region_snapshot_assert_same(&snap, what);
	region_snapshot_release(&snap);
}

static void test_control_block_layout_sealed(void **state)
{
	(void)state;
	if (LEVEL < SYS_HEAP_HARDENING_FULL) {
		skip();
	}
	void *a = alloc_chunks(4);
	static const struct {
		size_t offset;
		size_t width;
		uint32_t flip;
	} fields[] = {
		{offsetof(struct z_heap, chunk_base_offset), 2u, 8u},
		{offsetof(struct z_heap, end_chunk), 4u, 1u},
		{offsetof(struct z_heap, flags), 1u, HEAP_BIG},
		{offsetof(struct z_heap, flags), 1u, HEAP_LISTS_DAMAGED},
		{offsetof(struct z_heap, head_count), 1u, 0x80u},
	};

	for (size_t i = 0; i < sizeof(fields) / sizeof(fields[0]); i++) {
		unsigned char *p = ctrl_field(fields[i].offset);
		uint32_t saved = read_uint(p, fields[i].width);

		write_uint(p, fields[i].width, saved ^ fields[i].flip);
		expect_control_refused(a, "layout field changed");
		restore_and_validate(p, fields[i].width, saved);
	}
	/* A heap handle that is NULL is not a damaged heap. */
	fault_capture_arm();
	sys_heap_free(NULL, a);
	fault_capture_assert_one(NULL, a, SYS_HEAP_FAULT_BAD_POINTER, "free");
	fault_capture_disarm();
	sys_heap_free(&fx.heap, a);
	assert_true(sys_heap_validate(&fx.heap));
}

/*
 * FULL and up: a pointer 1..7 bytes into a block (as a rewound aligned
 * pointer may be) must lie before the block's canary. A stale pointer
 * that lands in a new small block's canary is refused (CORRUPT_HEADER);
 * without the check its usable size was negative (a huge size_t) and a
 * realloc copied that much.
 */
static void test_pointer_into_canary_refused(void **state)
{
	(void)state;
	if (LEVEL < SYS_HEAP_HARDENING_FULL) {
		skip();
	}
	/* The smallest block: 4 usable bytes with 8-byte headers, then the
	 * canary; with 4-byte headers 8 usable bytes, so every pointer up
	 * to 7 bytes in stays before it. */
	unsigned char *p = sys_heap_alloc(&fx.heap, 1);
	size_t usable = sys_heap_usable_size(&fx.heap, p);

	assert_non_null(p);
	if (usable <= 7u) {
		unsigned char *in_canary = p + usable;

		fault_capture_arm();
		assert_int_equal(sys_heap_usable_size(&fx.heap, in_canary), 0u);
		fault_capture_assert_one(&fx.heap, in_canary,
					 SYS_HEAP_FAULT_CORRUPT_HEADER,
					 "usable_size");
		fault_capture_arm();
		assert_null(sys_heap_realloc(&fx.heap, in_canary, 64));
		fault_capture_assert_one(&fx.heap, in_canary,
					 SYS_HEAP_FAULT_CORRUPT_HEADER,
					 "realloc");
		fault_capture_disarm();
	}
	/* The last byte before the canary, or 7 bytes in, is the block's. */
	size_t in = usable <= 7u ? usable - 1u : 7u;

	assert_int_equal(sys_heap_usable_size(&fx.heap, p + in), usable - in);
	sys_heap_free(&fx.heap, p);
	assert_true(sys_heap_validate(&fx.heap));
}

/* The heap again as setup_heap() made it (after a test that left it
 * damaged beyond repair). */
static void reinit_heap(void)
{
	test_meta_release(fx.region, fx.region_bytes);
	assert_int_equal(sys_heap_init(&fx.heap, fx.region, fx.region_bytes),
			 0);
	assert_true(sys_heap_validate(&fx.heap));
}

/*
 * BASIC: a moving realloc whose allocation trusted a damaged size (y says
 * 14 chunks, covering a and b) writes over b's right neighbour's
 * left_size; checked again after the allocation, b is refused (OVERFLOW)
 * instead of being merged through unchecked metadata. The new block stays
 * allocated: allocated_bytes grows. (From MODERATE up the allocation
 * refuses y itself, whose right neighbour disagrees.)
 */
static void test_moving_realloc_rechecks_old_block(void **state)
{
	(void)state;
	if (LEVEL != SYS_HEAP_HARDENING_BASIC) {
		skip();
	}
	void *y = alloc_chunks(8);
	void *a = alloc_chunks(3);
	void *b = alloc_chunks(3);
	void *c = alloc_chunks(3);
	struct sys_memory_stats before;
	struct sys_memory_stats after;

	assert_int_equal(chunk_of(y), 0u);
	sys_heap_free(&fx.heap, y);
	set_field(0, SIZE_AND_USED, 14u << 1);
	assert_int_equal(sys_heap_runtime_stats_get(&fx.heap, &before), 0);
	fault_capture_arm();
	assert_null(sys_heap_realloc(&fx.heap, b, bytes_for_chunks(7)));
	fault_capture_assert_one(&fx.heap, b, SYS_HEAP_FAULT_OVERFLOW,
				 "realloc");
	fault_capture_disarm();
	assert_int_equal(sys_heap_runtime_stats_get(&fx.heap, &after), 0);
	assert_int_equal(after.allocated_bytes,
			 before.allocated_bytes + 7u * CHUNK_BYTES);
	(void)a;
	(void)c;
	reinit_heap();
}

/*
 * A list head damaged in the control block (an id past the end) is found
 * when a call pushes a chunk onto that class: the call goes on with the
 * chunk as the class's only member and reports CORRUPT_LINKS at its end
 * (free, alloc that splits, realloc that shrinks). Nothing is written
 * through the damaged id. The old list's members are lost (validate
 * fails), so the heap is made afresh after each case.
 */
static void test_damaged_list_head_dropped(void **state)
{
	(void)state;
	if (LEVEL < SYS_HEAP_HARDENING_FULL ||
	    LEVEL >= SYS_HEAP_HARDENING_EXTREME) {
		skip(); /* EXTREME: validation on entry refuses the call */
	}
	/* free: x (4 chunks) listed, its class head then damaged; y (4
	 * chunks, between used blocks) is freed into that class. */
	void *x = alloc_chunks(4);
	void *g1 = alloc_chunks(2);
	void *y = alloc_chunks(4);
	void *g2 = alloc_chunks(2);
	unsigned char *slot = head_slot(size_class(4));

	sys_heap_free(&fx.heap, x);
	write_uint(slot, fx.fw, fx.end_chunk + 3u);
	fault_capture_arm();
	sys_heap_free(&fx.heap, y);
	fault_capture_assert_one(&fx.heap, y, SYS_HEAP_FAULT_CORRUPT_LINKS,
				 "free");
	fault_capture_disarm();
	assert_int_equal(read_uint(slot, fx.fw), chunk_of(y));
	assert_false(sys_heap_validate(&fx.heap));
	(void)g1;
	(void)g2;
	reinit_heap();

	/* alloc: x (10 chunks) free between used blocks; a request of 6
	 * leaves a tail of 4 for the damaged class. */
	x = alloc_chunks(10);
	g1 = alloc_chunks(2);
	y = alloc_chunks(4);
	g2 = alloc_chunks(2);
	sys_heap_free(&fx.heap, y);
	sys_heap_free(&fx.heap, x);
	write_uint(slot, fx.fw, fx.end_chunk + 3u);
	fault_capture_arm();
	void *got = sys_heap_alloc(&fx.heap, bytes_for_chunks(6));

	fault_capture_assert_one(&fx.heap, NULL, SYS_HEAP_FAULT_CORRUPT_LINKS,
				 "alloc");
	fault_capture_disarm();
	assert_ptr_equal(got, x);
	reinit_heap();

	/* realloc: x (10 chunks) shrunk to 6 gives its tail of 4 to the
	 * damaged class. */
	x = alloc_chunks(10);
	g1 = alloc_chunks(2);
	y = alloc_chunks(4);
	g2 = alloc_chunks(2);
	sys_heap_free(&fx.heap, y);
	write_uint(slot, fx.fw, fx.end_chunk + 3u);
	fault_capture_arm();
	got = sys_heap_realloc(&fx.heap, x, bytes_for_chunks(6));
	fault_capture_assert_one(&fx.heap, x, SYS_HEAP_FAULT_CORRUPT_LINKS,
				 "realloc");
	fault_capture_disarm();
	assert_ptr_equal(got, x);
	reinit_heap();
}

/*
 * The allocation search and the largest-block scan use a first level of
 * fl_bitmap only if it has list heads (below fl_count(h)) and second-level
 * bits: a damaged bitmap is refused (CORRUPT_LINKS), not used as an index.
 */
static void test_damaged_bitmaps_refused(void **state)
{
	(void)state;
	if (LEVEL < SYS_HEAP_HARDENING_FULL ||
	    LEVEL >= SYS_HEAP_HARDENING_EXTREME) {
		skip();
	}
	/* Everything allocated: no free chunk, bitmaps empty. */
	void *all =
		sys_heap_alloc(&fx.heap, sys_heap_max_alloc_bytes(&fx.heap));

	assert_non_null(all);
	assert_int_equal(CTRL_GET(fl_bitmap), 0u);
	uint32_t fl_count = fl_count_for(CTRL_GET(head_count));
	unsigned char *sl_top = sl_byte_at(fl_count);
	/* Not a bitmap byte: padding or a head's, restored below. */
	uint8_t sl_top_saved = test_meta_get8(sl_top);
	unsigned char *fl_bits = ctrl_field(offsetof(struct z_heap, fl_bitmap));
	struct region_snapshot snap;

	/* Level 1 marked non-empty, with no second-level bit. */
	CTRL_SET(fl_bitmap, 2u);
	assert_int_equal(sys_heap_max_alloc_bytes(&fx.heap), 0u);
	expect_alloc_refused(8, fl_bits, 4u, 0u,
			     "first level without second-level bits");
	/* A level past the index (refused before the byte after the bitmap,
	 * set here as if it were the level's, is read). */
	test_meta_set8(sl_top, 1u);
	CTRL_SET(fl_bitmap, 1u << fl_count);
	assert_int_equal(sys_heap_max_alloc_bytes(&fx.heap), 0u);
	region_snapshot_take(&snap, fx.region, fx.region_bytes);
	fault_capture_arm();
	assert_null(sys_heap_alloc(&fx.heap, 8));
	fault_capture_assert_one(&fx.heap, NULL, SYS_HEAP_FAULT_CORRUPT_LINKS,
				 "alloc");
	fault_capture_disarm();
	region_snapshot_assert_same(&snap, "first level past the index");
	region_snapshot_release(&snap);
	CTRL_SET(fl_bitmap, 0u);
	restore_and_validate(sl_top, 1u, sl_top_saved);

	/* A class past head_count in the last level (it has such classes
	 * when head_count + 1 is not a multiple of 8: the big heap here), whose
	 * head slot would lie past the heads. */
	uint32_t head_count = CTRL_GET(head_count);

	if ((head_count + 1u) % SL_COUNT != 0u) {
		unsigned char *sl_last = sl_byte_at(fl_count - 1u);

		test_meta_set8(sl_last, (uint8_t)(1u << (SL_COUNT - 1u)));
		CTRL_SET(fl_bitmap, 1u << (fl_count - 1u));
		region_snapshot_take(&snap, fx.region, fx.region_bytes);
		fault_capture_arm();
		assert_null(sys_heap_alloc(&fx.heap, 8));
		fault_capture_assert_one(&fx.heap, NULL,
					 SYS_HEAP_FAULT_CORRUPT_LINKS, "alloc");
		fault_capture_disarm();
		region_snapshot_assert_same(&snap, "class past head_count");
		region_snapshot_release(&snap);
		CTRL_SET(fl_bitmap, 0u);
		restore_and_validate(sl_last, 1u, 0u);
	}
	sys_heap_free(&fx.heap, all);
	assert_true(sys_heap_validate(&fx.heap));
}

/* ---- EXTREME: every call validates the heap first ----------------------- */

static void test_extreme_refuses_alloc_on_invalid_heap(void **state)
{
	(void)state;
	if (LEVEL < SYS_HEAP_HARDENING_EXTREME) {
		skip();
	}
	uint32_t word = get_field(fx.end_chunk, SIZE_AND_USED);

	set_field(fx.end_chunk, SIZE_AND_USED, 3u);
	fault_capture_arm();
	assert_null(sys_heap_alloc(&fx.heap, 16));
	fault_capture_assert_one(&fx.heap, NULL, SYS_HEAP_FAULT_INVALID_HEAP,
				 "alloc");
	fault_capture_arm();
	assert_null(sys_heap_aligned_alloc(&fx.heap, 64, 16));
	fault_capture_assert_one(&fx.heap, NULL, SYS_HEAP_FAULT_INVALID_HEAP,
				 "alloc");
	fault_capture_disarm();
	restore_and_validate(field_addr(fx.end_chunk, SIZE_AND_USED), fx.fw,
			     word);
}

static const struct CMUnitTest common_tests[] = {
	cmocka_unit_test(test_calls_on_uninitialised_heap),
	cmocka_unit_test(test_listener_notify_entry_points),
};

#define FORMAT_TESTS                                                           \
	cmocka_unit_test(test_validate_checks_control_block_fields),           \
		cmocka_unit_test(test_validate_checks_end_sentinel),           \
		cmocka_unit_test(test_validate_checks_list_length),            \
		cmocka_unit_test(                                              \
			test_validate_checks_list_members_are_chunks),         \
		cmocka_unit_test(test_info_and_largest_bounded_on_list_cycle), \
		cmocka_unit_test(test_info_stops_at_zero_sized_chunk),         \
		cmocka_unit_test(test_walk_stops_at_size_past_the_end),        \
		cmocka_unit_test(test_owns_and_fits_edge_arguments),           \
		cmocka_unit_test(test_free_checks_left_neighbour_links),       \
		cmocka_unit_test(test_free_checks_right_neighbour),            \
		cmocka_unit_test(test_alloc_checks_taken_chunks),              \
		cmocka_unit_test(test_alloc_refuses_listed_chunk_marked_used), \
		cmocka_unit_test(test_alloc_checks_listed_ids),                \
		cmocka_unit_test(                                              \
			test_alloc_refuses_small_chunk_in_larger_class),       \
		cmocka_unit_test(test_alloc_checks_taken_left_size),           \
		cmocka_unit_test(test_own_size_decided_by_both_neighbours),    \
		cmocka_unit_test(test_queries_bounded_on_bad_ids),             \
		cmocka_unit_test(test_control_block_layout_sealed),            \
		cmocka_unit_test(test_pointer_into_canary_refused),            \
		cmocka_unit_test(test_moving_realloc_rechecks_old_block),      \
		cmocka_unit_test(test_damaged_list_head_dropped),              \
		cmocka_unit_test(test_damaged_bitmaps_refused),                \
		cmocka_unit_test(test_extreme_refuses_alloc_on_invalid_heap)

int main(int argc, char **argv)
{
	const struct CMUnitTest small_tests[] = {FORMAT_TESTS};
	const struct CMUnitTest big_tests[] = {FORMAT_TESTS};
	int failed = 0;

	if (argc > 1) {
		cmocka_set_test_filter(argv[1]);
	}
	printf("# hardening level %d\n", LEVEL);
	failed += cmocka_run_group_tests_name("coverage: common", common_tests,
					      setup_common, teardown_common);
	failed += cmocka_run_group_tests_name(
		"coverage: small heap (4-byte headers)", small_tests,
		setup_small, teardown_heap);
	failed += cmocka_run_group_tests_name(
		"coverage: big heap (8-byte headers)", big_tests, setup_big,
		teardown_heap);
	return failed;
}
