/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Misuse x hardening level: what each level promises to detect, checked.
 *
 * The table `rows` below is the single source of truth: for every misuse
 * class and every level (kheap/config.h, CONFIG_SYS_HEAP_HARDENING_LEVEL)
 * it says which fault kind the heap reports, or that it reports nothing.
 * This file is built once per level (test_hardening_matrix_<level>, the
 * level comes from the core it links), and each program checks its own
 * level's column, for both header formats. `--matrix` prints the whole
 * table as markdown; the ctest `hardening-matrix-docs` checks that
 * docs/testing/hardening.md holds exactly that text between its markers,
 * so the documentation cannot drift from what is tested. Levels are monotonic:
 * test_levels_monotonic checks that every row detected at a level is
 * detected at every level above it, which with each program's check of
 * its column in both header formats makes it a property of the heap.
 *
 * "Detected" means all of: exactly one fault, of the expected kind, naming
 * the heap, the pointer the caller passed (NULL for an allocation), the
 * call ("free", "realloc", "usable_size", "alloc"), of a kind with a
 * non-empty message; the call returned its refusal value and left the
 * region byte-identical; sys_heap_validate() is false exactly while the
 * damage the misuse made (overwritten header bytes or links) is in place
 * and true once it is undone; and then every block frees, the heap is
 * whole again and its largest block can be allocated and freed.
 * "Not detected" means no fault at all; the heap is then corrupt or has
 * freed someone else's block, and the trial stops there.
 *
 * Each trial runs in a child process (hardening_trial.c): an undetected
 * misuse may make the heap write anywhere.
 *
 * Usage: test_hardening_matrix_<level> [--matrix | --observed | filter]
 *   --matrix    print the expected table (markdown) and exit
 *   --observed  run every trial and print what this level actually does
 *   filter      CMocka test-name filter ('*' allowed)
 */
#include "test_heap_support.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hardening_trial.h"

/* --- heaps ------------------------------------------------------------- */

struct heap_format {
	const char *name;
	uint8_t *region;
	size_t region_bytes;
	size_t header_bytes;
};

/* Static, not malloc()ed: a child leaves with _exit() and owns nothing
 * that a leak checker could report. */
#define SMALL_REGION_BYTES (16u * 1024u)
#define BIG_REGION_BYTES (256u * 1024u + 2048u)
#define OTHER_REGION_BYTES 2048u

static uint8_t small_region[SMALL_REGION_BYTES] __attribute__((__aligned__(8)));
static uint8_t big_region[BIG_REGION_BYTES] __attribute__((__aligned__(8)));
static uint8_t other_region[OTHER_REGION_BYTES] __attribute__((__aligned__(8)));

static const struct heap_format formats[] = {
	{"small region (16 KiB, 4-byte headers)", small_region,
	 SMALL_REGION_BYTES, 4u},
	{"big region (258 KiB, 8-byte headers)", big_region, BIG_REGION_BYTES,
	 8u},
};

/* --- one trial ---------------------------------------------------------- */

#define MAX_LIVE 8u
#define FAILURE_BYTES 400u

/* What a child reports about its trial. */
struct outcome {
	unsigned int faults;
	/* The first fault (kind 0: none). */
	int kind;
	char operation[24];
	/* The first check after the fault that did not hold, "" if all did. */
	char failure[FAILURE_BYTES];
};

struct live_block {
	void *mem;
	/* Bytes filled with the tokens of id, from mem. */
	size_t filled;
	uint32_t id;
};

struct trial {
	const struct heap_format *fmt;
	struct sys_heap heap;
	struct sys_memory_stats initial;
	size_t initial_max_alloc;
	struct live_block live[MAX_LIVE];
	size_t live_count;
	/* Metadata the scenario overwrote before its misuse call, and the
	 * original bytes: restored once the call has been refused. */
	uint8_t *damage;
	uint8_t saved[32];
	size_t damage_bytes;
	/* The pointer a fault must name. */
	const void *call_mem;
	/* The call's result was its refusal value (NULL, 0; free: true). */
	bool refused;
	struct outcome out;
};

/* Faults seen by the child's handler. */
static struct {
	bool armed;
	unsigned int count;
	struct sys_heap_fault first;
	unsigned int unexpected;
} cap;

static void capture_fault(const struct sys_heap_fault *fault)
{
	if (!cap.armed) {
		cap.unexpected++;
		return;
	}
	if (cap.count++ == 0u) {
		cap.first = *fault;
	}
}

/* Record a failed check (the first one only) and report it. */
static bool fail_trial(struct trial *t, const char *fmt, ...)
	__attribute__((__format__(__printf__, 2, 3)));

static bool fail_trial(struct trial *t, const char *fmt, ...)
{
	va_list ap;

	if (t->out.failure[0] == '\0') {
		va_start(ap, fmt);
		vsnprintf(t->out.failure, sizeof(t->out.failure), fmt, ap);
		va_end(ap);
	}
	return false;
}

#define TRY(t, cond, ...)                                                      \
	do {                                                                   \
		if (!(cond)) {                                                 \
			fail_trial((t), __VA_ARGS__);                          \
			return false;                                          \
		}                                                              \
	} while (0)

/* Allocate a block of bytes and fill `fill` bytes of it with tokens. */
static bool add_block(struct trial *t, size_t bytes, size_t fill, void **out)
{
	void *mem = sys_heap_alloc(&t->heap, bytes);

	TRY(t, mem != NULL, "setup: alloc(%zu) failed", bytes);
	TRY(t, t->live_count < MAX_LIVE, "setup: too many blocks");
	TRY(t, sys_heap_usable_size(&t->heap, mem) >= bytes,
	    "setup: usable_size %zu < %zu", sys_heap_usable_size(&t->heap, mem),
	    bytes);
	if (fill == SIZE_MAX) {
		fill = sys_heap_usable_size(&t->heap, mem);
	}
	uint32_t id = (uint32_t)t->live_count + 1u;

	test_token_fill(mem, fill, id);
	t->live[t->live_count++] = (struct live_block){mem, fill, id};
	*out = mem;
	return true;
}

static bool free_block(struct trial *t, void *mem)
{
	for (size_t i = 0; i < t->live_count; i++) {
		if (t->live[i].mem == mem) {
			size_t bad = test_token_check(mem, t->live[i].filled,
						      t->live[i].id);

			TRY(t, bad == SIZE_MAX,
			    "block %p: byte %zu overwritten", mem, bad);
			sys_heap_free(&t->heap, mem);
			t->live[i] = t->live[--t->live_count];
			TRY(t, sys_heap_validate(&t->heap),
			    "validate false after free(%p)", mem);
			return true;
		}
	}
	return fail_trial(t, "free of unknown block %p", mem);
}

/* XOR `pattern` into bytes at p, remembering them for the restore. */
static bool damage(struct trial *t, void *p, size_t bytes, uint8_t pattern)
{
	uint8_t *d = p;

	TRY(t, bytes <= sizeof(t->saved), "damage of %zu bytes", bytes);
	t->damage = d;
	t->damage_bytes = bytes;
	/* Metadata and freed bytes: poisoned under the sanitizer hooks. */
	test_meta_read(t->saved, d, bytes);
	for (size_t i = 0; i < bytes; i++) {
		test_meta_set8(d + i, (uint8_t)(t->saved[i] ^ pattern));
	}
	return true;
}

static size_t usable(struct trial *t, const void *mem)
{
	return sys_heap_usable_size(&t->heap, mem);
}

/* --- the scenarios ------------------------------------------------------ */

/*
 * Each sets up blocks (a fault there fails the trial), may damage
 * metadata, and sets call_mem; its call() makes the one misuse call.
 * Blocks a, b, c are 40 bytes each, allocated in a row from a fresh heap
 * (so they are adjacent, in that order, before the heap's free rest).
 */
static void *blk_a, *blk_b, *blk_c, *blk_g;

static bool abc(struct trial *t)
{
	return add_block(t, 40u, SIZE_MAX, &blk_a) &&
	       add_block(t, 40u, SIZE_MAX, &blk_b) &&
	       add_block(t, 40u, SIZE_MAX, &blk_c);
}

/* Free b (its neighbours a and c stay used). */
static bool abc_b_freed(struct trial *t)
{
	return abc(t) && free_block(t, blk_b);
}

static bool setup_double_free(struct trial *t)
{
	if (!abc_b_freed(t)) {
		return false;
	}
	t->call_mem = blk_b;
	return true;
}

static bool setup_reused_same(struct trial *t)
{
	void *b2;

	if (!abc_b_freed(t) || !add_block(t, 40u, SIZE_MAX, &b2)) {
		return false;
	}
	TRY(t, b2 == blk_b, "setup: the freed block was not reused (%p, %p)",
	    b2, blk_b);
	t->call_mem = blk_b;
	return true;
}

/*
 * g | a | b | c; a and b freed (b merges into a, its header stays behind
 * marked free); a block of 80 bytes then takes a's place and covers b's
 * old header, which its new owner has not overwritten (it filled only its
 * first 16 bytes). b's pointer is now interior to a live block.
 */
static bool setup_reused_interior(struct trial *t)
{
	void *n;

	if (!add_block(t, 40u, SIZE_MAX, &blk_g) || !abc(t) ||
	    !free_block(t, blk_a) || !free_block(t, blk_b) ||
	    !add_block(t, 80u, 16u, &n)) {
		return false;
	}
	TRY(t, n == blk_a, "setup: the merged block was not reused");
	TRY(t, (uint8_t *)blk_b < (uint8_t *)n + usable(t, n),
	    "setup: b is not inside the new block");
	t->call_mem = blk_b;
	return true;
}

/* 16 bytes into a 200-byte block whose data is 0xa5 (a header read there
 * says: size far beyond the heap). */
static bool setup_interior(struct trial *t)
{
	void *a;
	void *b;

	if (!add_block(t, 200u, 0u, &a) || !add_block(t, 40u, SIZE_MAX, &b)) {
		return false;
	}
	memset(a, 0xa5, usable(t, a));
	t->live[0].filled = 0u;
	t->call_mem = (uint8_t *)a + 16;
	return true;
}

/* 4 bytes into a live block: the same chunk as the block itself. */
static bool setup_interior_first_8(struct trial *t)
{
	if (!abc(t)) {
		return false;
	}
	t->call_mem = (uint8_t *)blk_b + 4;
	return true;
}

static uint64_t not_in_heap;

static bool setup_outside(struct trial *t)
{
	if (!abc(t)) {
		return false;
	}
	t->call_mem = &not_in_heap;
	return true;
}

static bool setup_other_heap(struct trial *t)
{
	static struct sys_heap other;

	if (!abc(t)) {
		return false;
	}
	TRY(t, sys_heap_init(&other, other_region, OTHER_REGION_BYTES) == 0,
	    "setup: init of the other heap");
	t->call_mem = sys_heap_alloc(&other, 40u);
	TRY(t, t->call_mem != NULL, "setup: alloc from the other heap");
	return true;
}

/* One byte past a's usable size. */
static bool setup_overflow_1(struct trial *t)
{
	if (!abc(t) ||
	    !damage(t, (uint8_t *)blk_a + usable(t, blk_a), 1u, 0x5au)) {
		return false;
	}
	t->call_mem = blk_a;
	return true;
}

/* From a's usable size up to b's memory: everything in between (the
 * canary at FULL and up) and b's whole header. */
static bool setup_overflow_header(struct trial *t)
{
	if (!abc(t)) {
		return false;
	}
	uint8_t *past = (uint8_t *)blk_a + usable(t, blk_a);

	if (!damage(t, past, (size_t)((uint8_t *)blk_b - past), 0x5au)) {
		return false;
	}
	t->call_mem = blk_a;
	return true;
}

/* One byte before b (4-byte headers: the low byte of its own size and
 * used bit; 8-byte headers: bits 16-23 of them) set to 0x41, as a write
 * through b's pointer at index -2 makes it: b's size is now wrong, its
 * left_size still right. */
static bool setup_own_size_byte(struct trial *t)
{
	if (!abc(t)) {
		return false;
	}
	uint8_t *p = (uint8_t *)blk_b - 2;

	if (!damage(t, p, 1u, (uint8_t)(test_meta_get8(p) ^ 0x41u))) {
		return false;
	}
	t->call_mem = blk_b;
	return true;
}

/* b freed; then 8 bytes written past a's usable size: from FULL up the
 * canary and b's left_size (8-byte headers) or b's whole header (4-byte
 * headers); below FULL b's header, and its links with 4-byte headers. */
static bool setup_overflow_into_free(struct trial *t)
{
	if (!abc_b_freed(t) ||
	    !damage(t, (uint8_t *)blk_a + usable(t, blk_a), 8u, 0x5au)) {
		return false;
	}
	t->call_mem = NULL;
	return true;
}

/* The first 8 bytes of the region, the control block's magic and the
 * offset of its blocks, overwritten: an underflow of the first block
 * that ran back to the region's start. */
static bool setup_control_block(struct trial *t)
{
	if (!abc(t) || !damage(t, t->fmt->region, 8u, 0xa5u)) {
		return false;
	}
	t->call_mem = NULL;
	return true;
}

/* b freed, then written through its stale pointer: its free-list links
 * (the first header-size bytes of its memory) overwritten. */
static bool setup_uaf_links(struct trial *t)
{
	if (!abc_b_freed(t) || !damage(t, blk_b, t->fmt->header_bytes, 0xa5u)) {
		return false;
	}
	return true;
}

static bool setup_uaf_links_alloc(struct trial *t)
{
	/* An allocation reports no caller pointer. */
	t->call_mem = NULL;
	return setup_uaf_links(t);
}

static bool setup_uaf_links_free_left(struct trial *t)
{
	if (!setup_uaf_links(t)) {
		return false;
	}
	t->call_mem = blk_a;
	return true;
}

static bool setup_uaf_links_free_right(struct trial *t)
{
	if (!setup_uaf_links(t)) {
		return false;
	}
	t->call_mem = blk_c;
	return true;
}

static bool setup_after_free(struct trial *t)
{
	if (!abc_b_freed(t)) {
		return false;
	}
	t->call_mem = blk_b;
	return true;
}

/* The calls. Each returns whether the result was the refusal value. */
static bool call_free(struct trial *t)
{
	sys_heap_free(&t->heap, (void *)(uintptr_t)t->call_mem);
	return true;
}

static bool call_realloc(struct trial *t)
{
	return sys_heap_realloc(&t->heap, (void *)(uintptr_t)t->call_mem,
				80u) == NULL;
}

static bool call_usable_size(struct trial *t)
{
	return sys_heap_usable_size(&t->heap, t->call_mem) == 0u;
}

/* Takes b: the head of the class of 40-byte blocks, the only member. */
static bool call_alloc(struct trial *t)
{
	return sys_heap_alloc(&t->heap, 40u) == NULL;
}

/* --- the table ---------------------------------------------------------- */

#define ND 0 /* not detected */
#define BAD_POINTER SYS_HEAP_FAULT_BAD_POINTER
#define NOT_ALLOCATED SYS_HEAP_FAULT_NOT_ALLOCATED
#define CORRUPT_HEADER SYS_HEAP_FAULT_CORRUPT_HEADER
#define OVERFLOW SYS_HEAP_FAULT_OVERFLOW
#define CORRUPT_LINKS SYS_HEAP_FAULT_CORRUPT_LINKS
#define CANARY SYS_HEAP_FAULT_CANARY
#define INVALID_HEAP SYS_HEAP_FAULT_INVALID_HEAP

struct misuse_row {
	/* CMocka test name. */
	const char *id;
	/* Docs: what the program did, and the call that meets it. */
	const char *misuse;
	const char *call_text;
	/* The operation a fault names. */
	const char *operation;
	bool (*setup)(struct trial *t);
	bool (*call)(struct trial *t);
	/* Per level NONE..EXTREME: the fault kind, or ND. */
	int expected[HARDENING_LEVEL_COUNT];
};

/*
 * The matrix. Expected per level, left to right: NONE, BASIC, MODERATE,
 * FULL, EXTREME. (Kept out of clang-format: one row per misuse reads
 * better than one line per field.)
 */
/* clang-format off */
static const struct misuse_row rows[] = {
	{"double_free",
	 "double free, at once", "`free(b)`", "free",
	 setup_double_free, call_free,
	 {ND, NOT_ALLOCATED, NOT_ALLOCATED, NOT_ALLOCATED, NOT_ALLOCATED}},
	{"double_free_after_reuse_same_address",
	 "double free after the block was handed out again at the same "
	 "address (frees the new owner's block)", "`free(b)`", "free",
	 setup_reused_same, call_free,
	 {ND, ND, ND, ND, ND}},
	{"double_free_after_reuse_interior",
	 "double free after a larger block took over the space (the old "
	 "pointer is inside it; its old header not yet overwritten)",
	 "`free(b)`", "free",
	 setup_reused_interior, call_free,
	 {ND, NOT_ALLOCATED, NOT_ALLOCATED, NOT_ALLOCATED, NOT_ALLOCATED}},
	{"interior_pointer",
	 "interior pointer, 16 bytes into a block (data 0xa5)", "`free(p)`",
	 "free",
	 setup_interior, call_free,
	 {ND, CORRUPT_HEADER, CORRUPT_HEADER, CORRUPT_HEADER, CORRUPT_HEADER}},
	{"interior_pointer_first_8_bytes",
	 "interior pointer, 4 bytes into a block (frees the block)",
	 "`free(p)`", "free",
	 setup_interior_first_8, call_free,
	 {ND, ND, ND, ND, ND}},
	{"pointer_outside_heap",
	 "pointer outside the heap (a global variable)", "`free(p)`", "free",
	 setup_outside, call_free,
	 {BAD_POINTER, BAD_POINTER, BAD_POINTER, BAD_POINTER, BAD_POINTER}},
	{"pointer_from_other_heap",
	 "a block of another heap", "`free(p)`", "free",
	 setup_other_heap, call_free,
	 {BAD_POINTER, BAD_POINTER, BAD_POINTER, BAD_POINTER, BAD_POINTER}},
	{"overflow_1_byte",
	 "write 1 byte past `usable_size(a)`", "`free(a)`", "free",
	 setup_overflow_1, call_free,
	 {ND, OVERFLOW, OVERFLOW, CANARY, INVALID_HEAP}},
	/* FULL: the header is checked before the canary (whose place
	 * depends on the size in the header). */
	{"overflow_through_next_header",
	 "write from `usable_size(a)` through the next block's whole header",
	 "`free(a)`", "free",
	 setup_overflow_header, call_free,
	 {ND, OVERFLOW, OVERFLOW, OVERFLOW, INVALID_HEAP}},
	/* A size that is impossible, or that runs over a block boundary
	 * the next header confirms, is the block's own (not an overflow). */
	{"own_size_byte_before_block",
	 "write one byte before a block that changes its own size field "
	 "(`((uint8_t *)b)[-2] = 0x41`)", "`free(b)`", "free",
	 setup_own_size_byte, call_free,
	 {ND, CORRUPT_HEADER, CORRUPT_HEADER, CORRUPT_HEADER, INVALID_HEAP}},
	/* FULL with 8-byte headers: only b's left_size changes, which the
	 * allocation path checks from MODERATE up (levels are monotonic). */
	{"overflow_8_bytes_into_free_then_alloc",
	 "write 8 bytes past `usable_size(a)` into its free right "
	 "neighbour b, then an allocation takes b", "`alloc(40)`", "alloc",
	 setup_overflow_into_free, call_alloc,
	 {ND, CORRUPT_LINKS, CORRUPT_LINKS, CORRUPT_LINKS, INVALID_HEAP}},
	/* BASIC: the link is range-checked before the list head takes it. */
	{"use_after_free_links_then_alloc",
	 "write over free-list links after free (use after free), then an "
	 "allocation takes that block", "`alloc(40)`", "alloc",
	 setup_uaf_links_alloc, call_alloc,
	 {ND, CORRUPT_LINKS, CORRUPT_LINKS, CORRUPT_LINKS, INVALID_HEAP}},
	{"use_after_free_links_then_free_left",
	 "the same, then its left neighbour is freed (merges with it)",
	 "`free(a)`", "free",
	 setup_uaf_links_free_left, call_free,
	 {ND, CORRUPT_LINKS, CORRUPT_LINKS, CORRUPT_LINKS, INVALID_HEAP}},
	{"use_after_free_links_then_free_right",
	 "the same, then its right neighbour is freed (merges with it)",
	 "`free(c)`", "free",
	 setup_uaf_links_free_right, call_free,
	 {ND, CORRUPT_LINKS, CORRUPT_LINKS, CORRUPT_LINKS, INVALID_HEAP}},
	{"realloc_after_free",
	 "realloc after free", "`realloc(b, 80)`", "realloc",
	 setup_after_free, call_realloc,
	 {ND, NOT_ALLOCATED, NOT_ALLOCATED, NOT_ALLOCATED, NOT_ALLOCATED}},
	{"usable_size_after_free",
	 "usable_size after free", "`usable_size(b)`", "usable_size",
	 setup_after_free, call_usable_size,
	 {ND, NOT_ALLOCATED, NOT_ALLOCATED, NOT_ALLOCATED, NOT_ALLOCATED}},
	/* Below FULL the damaged magic reads as "not initialised": the
	 * allocation returns NULL and reports nothing. */
	{"control_block_overwritten",
	 "an underflow that reached the region's start: the control "
	 "block's first 8 bytes (magic, offset of the blocks) overwritten",
	 "`alloc(40)`", "alloc",
	 setup_control_block, call_alloc,
	 {ND, ND, ND, CORRUPT_HEADER, CORRUPT_HEADER}},
};
/* clang-format on */

#define ROW_COUNT (sizeof(rows) / sizeof(rows[0]))

/* --- running a trial (in the child) -------------------------------------- */

/* After a detected misuse: the checks of "detected" (file comment). */
static bool check_detected(struct trial *t, const struct misuse_row *row,
			   const uint8_t *snapshot)
{
	const struct sys_heap_fault *f = &cap.first;
	const char *message = sys_heap_fault_message(f->kind);

	TRY(t, cap.count == 1u, "%u faults reported, expected 1", cap.count);
	TRY(t, f->heap == &t->heap, "the fault names heap %p, not %p",
	    (const void *)f->heap, (const void *)&t->heap);
	TRY(t, f->mem == t->call_mem, "the fault names pointer %p, not %p",
	    f->mem, t->call_mem);
	TRY(t,
	    f->operation != NULL && strcmp(f->operation, row->operation) == 0,
	    "the fault names operation \"%s\", not \"%s\"",
	    f->operation != NULL ? f->operation : "(null)", row->operation);
	TRY(t, message[0] != '\0', "the fault's kind %d has no message",
	    (int)f->kind);
	TRY(t, t->refused, "the refused call did not return NULL/0");
	size_t changed =
		test_meta_diff(t->fmt->region, snapshot, t->fmt->region_bytes);

	TRY(t, changed == SIZE_MAX, "the refused call changed region byte %zu",
	    changed);
	TRY(t, sys_heap_validate(&t->heap) == (t->damage_bytes == 0u),
	    "validate %s while the damage is in place",
	    t->damage_bytes == 0u ? "false" : "true");
	if (t->damage_bytes != 0u) {
		test_meta_write(t->damage, t->saved, t->damage_bytes);
		TRY(t, sys_heap_validate(&t->heap),
		    "validate false after the damage was undone");
	}
	/* The heap is usable again: every block frees, the heap is whole,
	 * and its largest block comes and goes. */
	while (t->live_count != 0u) {
		if (!free_block(t, t->live[t->live_count - 1u].mem)) {
			return false;
		}
	}
	struct sys_memory_stats s;

	TRY(t, sys_heap_runtime_stats_get(&t->heap, &s) == 0, "stats");
	TRY(t, s.allocated_bytes == 0u && s.free_bytes == t->initial.free_bytes,
	    "after freeing everything: free %zu (was %zu), allocated %zu",
	    s.free_bytes, t->initial.free_bytes, s.allocated_bytes);
	TRY(t, sys_heap_max_alloc_bytes(&t->heap) == t->initial_max_alloc,
	    "max_alloc_bytes %zu, was %zu", sys_heap_max_alloc_bytes(&t->heap),
	    t->initial_max_alloc);
	void *all = sys_heap_alloc(&t->heap, t->initial_max_alloc);

	TRY(t, all != NULL, "the whole heap (%zu bytes) is not allocatable",
	    t->initial_max_alloc);
	sys_heap_free(&t->heap, all);
	TRY(t, sys_heap_validate(&t->heap), "validate after the last cycle");
	TRY(t, cap.unexpected == 0u, "a fault after the trial's call");
	return true;
}

struct trial_args {
	const struct misuse_row *row;
	const struct heap_format *fmt;
};

static uint8_t snapshot[BIG_REGION_BYTES];

static int trial_child(void *arg, void *report, size_t report_bytes)
{
	const struct trial_args *a = arg;
	struct trial t;

	(void)report_bytes;
	memset(&t, 0, sizeof(t));
	t.fmt = a->fmt;
	sys_heap_fault_handler_set(capture_fault);
	test_meta_fill(t.fmt->region, 0xcd, t.fmt->region_bytes);
	if (sys_heap_init(&t.heap, t.fmt->region, t.fmt->region_bytes) != 0 ||
	    sys_heap_header_bytes(&t.heap) != t.fmt->header_bytes) {
		fail_trial(&t, "init");
	} else if (sys_heap_runtime_stats_get(&t.heap, &t.initial) == 0 &&
		   (t.initial_max_alloc = sys_heap_max_alloc_bytes(&t.heap),
		    a->row->setup(&t))) {
		if (cap.unexpected != 0u) {
			fail_trial(&t, "a fault during setup: %s",
				   fault_kind_name(cap.first.kind));
		} else {
			test_meta_read(snapshot, t.fmt->region,
				       t.fmt->region_bytes);
			cap.armed = true;
			t.refused = a->row->call(&t);
			cap.armed = false;
			t.out.faults = cap.count;
			if (cap.count != 0u) {
				t.out.kind = (int)cap.first.kind;
				snprintf(t.out.operation,
					 sizeof(t.out.operation), "%s",
					 cap.first.operation != NULL
						 ? cap.first.operation
						 : "(null)");
				/* What was detected reaches the parent even
				 * if a check below crashes. */
				child_report(&t.out);
				check_detected(&t, a->row, snapshot);
			}
		}
	}
	memcpy(report, &t.out, sizeof(t.out));
	return 0;
}

/* Run one trial; a child that died reports "not detected" plus how. */
static struct outcome run_trial(const struct misuse_row *row,
				const struct heap_format *fmt, bool quiet)
{
	struct trial_args a = {row, fmt};
	struct outcome out;

	memset(&out, 0, sizeof(out));
	struct child_end end =
		run_in_child(trial_child, &a, &out, sizeof(out), 20u, quiet);

	if (end.bytes != sizeof(out)) {
		memset(&out, 0, sizeof(out));
	}
	if ((end.signal != 0 || end.exit_code != 0) && out.failure[0] == '\0') {
		if (end.signal != 0) {
			snprintf(out.failure, sizeof(out.failure),
				 "(the trial died: signal %d)", end.signal);
		} else {
			snprintf(out.failure, sizeof(out.failure),
				 "(the trial died: exit %d)", end.exit_code);
		}
	}
	return out;
}

/* --- the tests ---------------------------------------------------------- */

static const struct heap_format *format;

static const char *kind_text(int kind)
{
	return kind == ND ? "not detected"
			  : fault_kind_name((enum sys_heap_fault_kind)kind);
}

static void test_misuse_row(void **state)
{
	const struct misuse_row *row = *state;
	int expected = row->expected[HARDENING_LEVEL];
	struct outcome out = run_trial(row, format, expected == ND);

	if (out.kind != expected) {
		fail_msg("%s, level %s: %s in %s, expected %s%s%s", row->id,
			 hardening_level_name(HARDENING_LEVEL),
			 kind_text(out.kind),
			 out.faults != 0u ? out.operation : "-",
			 kind_text(expected),
			 out.failure[0] != '\0' ? ": " : "", out.failure);
	}
	if (expected != ND && out.failure[0] != '\0') {
		fail_msg("%s, level %s: %s detected, but %s", row->id,
			 hardening_level_name(HARDENING_LEVEL),
			 kind_text(out.kind), out.failure);
	}
	if (expected == ND && out.failure[0] != '\0' &&
	    strncmp(out.failure, "(the trial", 10) != 0) {
		/* A setup failure: the scenario itself did not happen. */
		fail_msg("%s: %s", row->id, out.failure);
	}
}

/*
 * Levels are monotonic: a misuse detected at a level is detected at every
 * level above it. Checked on the table for every row; each level's
 * program checks its own column in both header formats, so together the
 * programs check it of what the heap does.
 */
static void test_levels_monotonic(void **state)
{
	(void)state;
	for (size_t i = 0; i < ROW_COUNT; i++) {
		for (int level = 1; level < HARDENING_LEVEL_COUNT; level++) {
			if (rows[i].expected[level - 1] != ND &&
			    rows[i].expected[level] == ND) {
				fail_msg("%s: detected at %s, not at %s",
					 rows[i].id,
					 hardening_level_name(level - 1),
					 hardening_level_name(level));
			}
		}
	}
}

/* --- the printed table ---------------------------------------------------- */

static void print_matrix(void)
{
	static const enum sys_heap_fault_kind kinds[] = {
		SYS_HEAP_FAULT_BAD_POINTER,    SYS_HEAP_FAULT_NOT_ALLOCATED,
		SYS_HEAP_FAULT_CORRUPT_HEADER, SYS_HEAP_FAULT_OVERFLOW,
		SYS_HEAP_FAULT_CORRUPT_LINKS,  SYS_HEAP_FAULT_CANARY,
		SYS_HEAP_FAULT_INVALID_HEAP,
	};

	printf("| misuse | call |");
	for (int level = 0; level < HARDENING_LEVEL_COUNT; level++) {
		printf(" %s |", hardening_level_name(level));
	}
	printf("\n| --- | --- |");
	for (int level = 0; level < HARDENING_LEVEL_COUNT; level++) {
		printf(" --- |");
	}
	printf("\n");
	for (size_t i = 0; i < ROW_COUNT; i++) {
		printf("| %s | %s |", rows[i].misuse, rows[i].call_text);
		for (int level = 0; level < HARDENING_LEVEL_COUNT; level++) {
			int kind = rows[i].expected[level];

			if (kind == ND) {
				printf(" - |");
			} else {
				printf(" `%s` |", kind_text(kind));
			}
		}
		printf("\n");
	}
	printf("\n| fault kind | message |\n| --- | --- |\n");
	for (size_t i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++) {
		printf("| `%s` | %s |\n", fault_kind_name(kinds[i]),
		       sys_heap_fault_message(kinds[i]));
	}
}

static void print_observed(void)
{
	printf("level %s: observed outcome per misuse (small | big)\n",
	       hardening_level_name(HARDENING_LEVEL));
	for (size_t i = 0; i < ROW_COUNT; i++) {
		printf("%-40s", rows[i].id);
		for (size_t f = 0; f < 2u; f++) {
			struct outcome out =
				run_trial(&rows[i], &formats[f], true);

			printf(" | %-14s %-11s", kind_text(out.kind),
			       out.faults != 0u ? out.operation : "");
			if (out.failure[0] != '\0') {
				printf(" [%s]", out.failure);
			}
		}
		printf("\n");
	}
}

int main(int argc, char **argv)
{
	static struct CMUnitTest tests[ROW_COUNT];
	int failed = 0;

	if (argc > 1 && strcmp(argv[1], "--matrix") == 0) {
		print_matrix();
		return 0;
	}
	if (argc > 1 && strcmp(argv[1], "--observed") == 0) {
		print_observed();
		return 0;
	}
	if (argc > 1) {
		cmocka_set_test_filter(argv[1]);
	}
	for (size_t i = 0; i < ROW_COUNT; i++) {
		tests[i] = (struct CMUnitTest){
			.name = rows[i].id,
			.test_func = test_misuse_row,
			.initial_state = (void *)(uintptr_t)&rows[i],
		};
	}
	printf("hardening level %s (%d)\n",
	       hardening_level_name(HARDENING_LEVEL), HARDENING_LEVEL);
	static const struct CMUnitTest table_tests[] = {
		cmocka_unit_test(test_levels_monotonic),
	};

	failed += cmocka_run_group_tests_name("hardening matrix table",
					      table_tests, NULL, NULL);
	for (size_t f = 0; f < sizeof(formats) / sizeof(formats[0]); f++) {
		char name[128];

		format = &formats[f];
		snprintf(name, sizeof(name), "hardening %s: %s",
			 hardening_level_name(HARDENING_LEVEL), format->name);
		failed += _cmocka_run_group_tests(name, tests, ROW_COUNT, NULL,
						  NULL);
	}
	return failed == 0 ? 0 : 1;
}
