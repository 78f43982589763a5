/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The worst-case bench image: runs the benchmark workloads
 * (bench/workload_gen.h, the generator the x86-64 benchmark uses) on
 * heaps from 16 KiB up to the largest the board's RAM holds, calling
 * every alloc, aligned_alloc, free and realloc of the allocator under
 * test (bench/heap_backend.h: kheap's sys_heap unless the build names
 * another) through a probe trampoline whose labels the kheapcount QEMU
 * plugin watches (target/bench/plugin/kheapcount.c). The plugin counts
 * the instructions of each call; this program only generates the calls,
 * checks the blocks it gets, and describes each run on its output so
 * that the driver (target/bench/qemu_worst.py) can pair the plugin's
 * figures with it. Method: docs/design.md, "Worst-case measurement on
 * Cortex-M".
 *
 * Command line (semihosting; every argument optional):
 *   target_worst [ops=N] [sizes=S+S+...] [workloads=W+W+...]
 *   ops        calls after the live set first reaches its target
 *              (default 20000)
 *   sizes      heap sizes in bytes, with K or M suffixes, or "max"
 *              (default 16K,max)
 *   workloads  W1, W2, W4, W6, mixed (default W1, mixed, W4)
 *   target_worst bookkeeping [max=BYTES]
 *              the minimum region and, for every size of the sweep up to
 *              max (default 1M, at most the pool), region minus the
 *              largest single block on a fresh heap
 *              (bench/heap_bookkeeping.h)
 * Lists are separated by '+' (or ','; QEMU's -semihosting-config needs a
 * comma doubled).
 * Output, one line each (parsed by the driver):
 *   POOL bytes=... max=... alloc=NAME
 *   SEG <n> workload=... heap=... header=... seed=...
 *   END <n> ops=... alloc=... aligned_alloc=... free=... realloc=...
 *       failed_alloc=... failed_aligned_alloc=... failed_realloc=...
 *       skipped=... unsupported=... forced_free=... fill_ops=... live=...
 *   DONE segments=...
 *   MINREGION alloc=NAME ptr_bytes=4 bytes=...        (bookkeeping)
 *   CONTROL alloc=NAME ptr_bytes=4 region=... largest=... control=...
 * Segment <n> is the plugin's segment <n>: the call to
 * kheap_probe_segment() right after the SEG line starts it.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <kheap/target.h>

#include "heap_backend.h"
#include "heap_bookkeeping.h"
#include "workload_gen.h"

/*
 * How many free-list heads an allocation probes (SYS_HEAP_FIT_PROBES), for
 * the analytical bound (wcet_bound.py reads this word from the image: the
 * probe loop's passes follow from it). Other backends have no probe
 * count; the bound then assumes none beyond its default.
 */
#ifdef SYS_HEAP_FIT_PROBES
__attribute__((__used__))
const uint32_t kheap_bound_fit_probes = SYS_HEAP_FIT_PROBES;
#endif

/* ---- the probe trampolines ------------------------------------------- */

/*
 * One per measured function. The call instruction and the return label
 * are what the plugin watches: it counts from the first instruction
 * after the bl (the callee's first) up to the return label (after the
 * callee's last), so the trampoline's own push and pop are not counted.
 * Plain labels, not functions, so that the symbol table gives their
 * addresses without the Thumb bit. Thumb-1 instructions only: the same
 * text serves ARMv6-M. A backend without aligned allocation or realloc
 * has no probe for it (the driver then passes the plugin no labels).
 */
#define KHEAP_PROBE(kind, symbol)                                              \
	".p2align 2\n"                                                         \
	".global kheap_probe_" kind "\n"                                       \
	".type kheap_probe_" kind ", %function\n"                              \
	".thumb_func\n"                                                        \
	"kheap_probe_" kind ":\n"                                              \
	"\tpush {r4, lr}\n"                                                    \
	".global kheap_probe_" kind "_call\n"                                  \
	"kheap_probe_" kind "_call:\n"                                         \
	"\tbl " symbol "\n"                                                    \
	".global kheap_probe_" kind "_return\n"                                \
	"kheap_probe_" kind "_return:\n"                                       \
	"\tpop {r4, pc}\n"                                                     \
	".size kheap_probe_" kind ", . - kheap_probe_" kind "\n"

#if BENCH_HEAP_HAS_ALIGNED_ALLOC
#define PROBE_ALIGNED_ALLOC                                                    \
	KHEAP_PROBE("aligned_alloc", BENCH_STR(BENCH_HEAP_ALIGNED_ALLOC))
#else
#define PROBE_ALIGNED_ALLOC ""
#endif
#if BENCH_HEAP_HAS_REALLOC
#define PROBE_REALLOC KHEAP_PROBE("realloc", BENCH_STR(BENCH_HEAP_REALLOC))
#else
#define PROBE_REALLOC ""
#endif

__asm__(".section .text.kheap_probe, \"ax\", %progbits\n"
	".syntax unified\n"
	".thumb\n" KHEAP_PROBE("alloc", BENCH_STR(BENCH_HEAP_ALLOC))
		KHEAP_PROBE("free", BENCH_STR(BENCH_HEAP_FREE))
			PROBE_ALIGNED_ALLOC PROBE_REALLOC
	/* The segment marker: its first instruction starts a segment. */
	".p2align 2\n"
	".global kheap_probe_segment\n"
	".type kheap_probe_segment, %function\n"
	".thumb_func\n"
	"kheap_probe_segment:\n"
	"\tbx lr\n"
	".size kheap_probe_segment, . - kheap_probe_segment\n"
	".text\n");

void *kheap_probe_alloc(bench_heap_t heap, size_t bytes);
void *kheap_probe_aligned_alloc(bench_heap_t heap, size_t align, size_t bytes);
void kheap_probe_free(bench_heap_t heap, void *mem);
void *kheap_probe_realloc(bench_heap_t heap, void *mem, size_t bytes);
void kheap_probe_segment(void);

/* ---- the pool ----------------------------------------------------------- */

/*
 * All of the heap under test and the driver's tables come from one
 * static pool sized per board (KHEAP_WORST_POOL_BYTES, from
 * target/bench/CMakeLists.txt): the heap at its start, the generator's
 * words and the slot table at its end. 512-byte alignment, the largest
 * the workloads ask for, so that a run behaves the same on every board
 * (aligned requests depend on the address modulo the alignment).
 */
#ifndef KHEAP_WORST_POOL_BYTES
#error "KHEAP_WORST_POOL_BYTES (the board's pool for heap and table) is not set"
#endif
static uint8_t pool[KHEAP_WORST_POOL_BYTES] __attribute__((aligned(512)));

/* Table bytes per slot: the generator's words and the block pointer. */
#define SLOT_BYTES (WL_WORDS_PER_SLOT * sizeof(uint32_t) + sizeof(void *))

static size_t table_bytes(size_t heap_bytes)
{
	return (size_t)wl_slot_capacity(heap_bytes) * SLOT_BYTES;
}

static bool fits_pool(size_t heap_bytes)
{
	return heap_bytes <= sizeof(pool) &&
	       table_bytes(heap_bytes) <= sizeof(pool) - heap_bytes;
}

/* The largest heap whose tables fit beside it, in whole KiB. */
static size_t max_heap_bytes(void)
{
	size_t bytes =
		(size_t)((uint64_t)sizeof(pool) * 64u / (64u + SLOT_BYTES));

	bytes &= ~(size_t)1023u;
	while (bytes != 0u && !fits_pool(bytes)) {
		bytes -= 1024u;
	}
	return bytes;
}

/* ---- one run ------------------------------------------------------------ */

struct counts {
	uint32_t calls[4];
	uint32_t failed[4];
	uint32_t skipped;
	uint32_t unsupported;
};

static void fail(unsigned int seg, const char *what, const void *mem)
{
	printf("ERROR seg=%u %s (block %p)\n", seg, what, mem);
	exit(TARGET_EXIT_FAIL);
}

/* A word derived from the block's address, kept in its first 4 bytes. */
static uint32_t token_of(const void *mem)
{
	return (uint32_t)(uintptr_t)mem * 0x9e3779b1u ^ 0x6b686561u;
}

static void store_token(uint8_t *mem)
{
	uint32_t t = token_of(mem);

	memcpy(mem, &t, sizeof(t));
}

/* The block's token, moved with it: after a realloc it is the old
 * block's. */
static bool token_is(const uint8_t *mem, const void *owner)
{
	uint32_t t;

	memcpy(&t, mem, sizeof(t));
	return t == token_of(owner);
}

static void check_block(unsigned int seg, const uint8_t *mem, size_t align)
{
	if (((uintptr_t)mem & (align - 1u)) != 0u) {
		fail(seg, "misaligned block", mem);
	}
}

/* An allocation (aligned or not) into an empty slot. */
static void run_alloc(unsigned int seg, bench_heap_t heap, const struct op *op,
		      uint8_t **slot, struct counts *c)
{
	uint8_t *mem;
	size_t align = BENCH_HEAP_MIN_ALIGN;

	if (op->kind == OP_ALIGNED_ALLOC) {
#if BENCH_HEAP_HAS_ALIGNED_ALLOC
		align = (size_t)1u << op->align_shift;
		mem = kheap_probe_aligned_alloc(heap, align, op->size);
#else
		c->unsupported++;
		return;
#endif
	} else {
		mem = kheap_probe_alloc(heap, op->size);
	}
	c->calls[op->kind]++;
	if (mem == NULL) {
		c->failed[op->kind]++;
		return;
	}
	check_block(seg, mem, align);
	store_token(mem);
	*slot = mem;
}

static void run_free(unsigned int seg, bench_heap_t heap, uint8_t **slot,
		     struct counts *c)
{
	if (!token_is(*slot, *slot)) {
		fail(seg, "block overwritten", *slot);
	}
	kheap_probe_free(heap, *slot);
	c->calls[OP_FREE]++;
	*slot = NULL;
}

static void run_realloc(unsigned int seg, bench_heap_t heap,
			const struct op *op, uint8_t **slot, struct counts *c)
{
#if BENCH_HEAP_HAS_REALLOC
	uint8_t *mem = kheap_probe_realloc(heap, *slot, op->size);

	c->calls[OP_REALLOC]++;
	if (mem == NULL) {
		/* The old block is still there. */
		c->failed[OP_REALLOC]++;
		return;
	}
	check_block(seg, mem, BENCH_HEAP_MIN_ALIGN);
	if (!token_is(mem, *slot)) {
		fail(seg, "realloc lost the block", mem);
	}
	store_token(mem);
	*slot = mem;
#else
	(void)seg;
	(void)heap;
	(void)op;
	(void)slot;
	c->unsupported++;
#endif
}

static void run(unsigned int seg, const struct workload_spec *spec,
		size_t heap_bytes, uint32_t steady_ops)
{
	struct wl_gen g;
	struct counts c;
	uint32_t cap = wl_slot_capacity(heap_bytes);
	uint8_t *table = pool + sizeof(pool) - table_bytes(heap_bytes);
	uint8_t **slots = (uint8_t **)table;
	uint32_t *words = (uint32_t *)(slots + cap);
	bench_heap_t heap = bench_heap_init(pool, heap_bytes);

	if (heap == NULL) {
		fail(seg, "the heap's init failed", pool);
	}
	memset(&c, 0, sizeof(c));
	memset(slots, 0, cap * sizeof(*slots));
	wl_init(&g, spec, heap_bytes, words, cap);
	printf("SEG %u workload=%s heap=%lu header=%lu seed=0x%08lx\n", seg,
	       spec->name, (unsigned long)heap_bytes,
	       (unsigned long)bench_heap_header_bytes(heap),
	       (unsigned long)spec->seed);
	fflush(stdout);
	kheap_probe_segment();

	while (!wl_filled(&g) || g.ops < g.fill_ops + steady_ops) {
		struct op op;

		wl_next(&g, &op);
		uint8_t **slot = &slots[op.slot];

		if (op.kind == OP_ALLOC || op.kind == OP_ALIGNED_ALLOC) {
			run_alloc(seg, heap, &op, slot, &c);
		} else if (*slot == NULL) {
			/* Its allocation failed (or was not supported). */
			c.skipped++;
		} else if (op.kind == OP_FREE) {
			run_free(seg, heap, slot, &c);
		} else {
			run_realloc(seg, heap, &op, slot, &c);
		}
	}
	if (!bench_heap_check(heap)) {
		fail(seg, "the heap's check failed", pool);
	}
	uint32_t live = 0u;

	for (uint32_t s = 0; s < g.nslots; s++) {
		live += slots[s] != NULL;
	}
	printf("END %u ops=%lu alloc=%lu aligned_alloc=%lu free=%lu "
	       "realloc=%lu failed_alloc=%lu failed_aligned_alloc=%lu "
	       "failed_realloc=%lu skipped=%lu unsupported=%lu "
	       "forced_free=%lu fill_ops=%lu live=%lu\n",
	       seg, (unsigned long)g.ops, (unsigned long)c.calls[OP_ALLOC],
	       (unsigned long)c.calls[OP_ALIGNED_ALLOC],
	       (unsigned long)c.calls[OP_FREE],
	       (unsigned long)c.calls[OP_REALLOC],
	       (unsigned long)c.failed[OP_ALLOC],
	       (unsigned long)c.failed[OP_ALIGNED_ALLOC],
	       (unsigned long)c.failed[OP_REALLOC], (unsigned long)c.skipped,
	       (unsigned long)c.unsupported, (unsigned long)g.forced_frees,
	       (unsigned long)g.fill_ops, (unsigned long)live);
}

/* ---- bookkeeping ------------------------------------------------------ */

static void bookkeeping(size_t max)
{
	size_t min = bk_min_region(pool, sizeof(pool) < 65536u ? sizeof(pool)
							       : 65536u);

	printf("MINREGION alloc=%s ptr_bytes=%lu bytes=%lu\n", BENCH_HEAP_NAME,
	       (unsigned long)sizeof(void *), (unsigned long)min);
	if (min == 0u) {
		return;
	}
	for (size_t r = bk_next_size(0u, min, max); r != 0u;
	     r = bk_next_size(r, min, max)) {
		size_t largest = bk_largest_block(pool, r);

		printf("CONTROL alloc=%s ptr_bytes=%lu region=%lu largest=%lu "
		       "control=%lu\n",
		       BENCH_HEAP_NAME, (unsigned long)sizeof(void *),
		       (unsigned long)r, (unsigned long)largest,
		       (unsigned long)(r - largest));
	}
}

/* ---- the command line --------------------------------------------------- */

#define MAX_SIZES 16u

static bool parse_size(const char *text, size_t *bytes)
{
	char *end;
	unsigned long v;

	if (strcmp(text, "max") == 0) {
		*bytes = max_heap_bytes();
		return true;
	}
	v = strtoul(text, &end, 10);
	if (end == text) {
		return false;
	}
	if (*end == 'K') {
		v *= 1024ul;
		end++;
	} else if (*end == 'M') {
		v *= 1024ul * 1024ul;
		end++;
	}
	*bytes = v;
	return *end == '\0';
}

/* The workloads run when none is named: the three shapes whose worst
 * calls differ (small blocks; mixed sizes, alignments and resizes;
 * aligned blocks). */
static const struct workload_spec *const default_workloads[] = {
	&workload_w1,
	&workload_mixed,
	&workload_w4,
};
#define MAX_WORKLOADS 8u

static int usage(void)
{
	printf("usage: target_worst [ops=N] [sizes=S+...] [workloads=W+...]\n"
	       "       target_worst bookkeeping [max=BYTES]\n");
	return TARGET_EXIT_USAGE;
}

static bool parse_count(const char *text, unsigned long *value)
{
	char *end;

	*value = strtoul(text, &end, 10);
	return end != text && *end == '\0' && *value != 0ul;
}

int main(int argc, char **argv)
{
	size_t sizes[MAX_SIZES];
	unsigned int nsizes = 0;
	const struct workload_spec *use[MAX_WORKLOADS];
	unsigned int nworkloads = 0;
	unsigned long ops = 20000ul;
	bool book = argc > 1 && strcmp(argv[1], "bookkeeping") == 0;
	size_t book_max = 1024u * 1024u;

	for (int a = book ? 2 : 1; a < argc; a++) {
		char *arg = argv[a];
		char *list;

		if (book && strncmp(arg, "max=", 4) == 0) {
			if (!parse_size(arg + 4, &book_max)) {
				return usage();
			}
		} else if (!book && strncmp(arg, "ops=", 4) == 0) {
			if (!parse_count(arg + 4, &ops)) {
				return usage();
			}
		} else if (!book && strncmp(arg, "sizes=", 6) == 0) {
			for (list = strtok(arg + 6, "+,"); list != NULL;
			     list = strtok(NULL, "+,")) {
				if (nsizes == MAX_SIZES ||
				    !parse_size(list, &sizes[nsizes]) ||
				    !fits_pool(sizes[nsizes])) {
					printf("bad or too large heap size "
					       "'%s' (max %lu)\n",
					       list,
					       (unsigned long)max_heap_bytes());
					return TARGET_EXIT_USAGE;
				}
				nsizes++;
			}
		} else if (!book && strncmp(arg, "workloads=", 10) == 0) {
			for (list = strtok(arg + 10, "+,"); list != NULL;
			     list = strtok(NULL, "+,")) {
				const struct workload_spec *w =
					workload_by_name(list);

				if (w == NULL || nworkloads == MAX_WORKLOADS) {
					printf("unknown workload '%s'\n", list);
					return TARGET_EXIT_USAGE;
				}
				use[nworkloads++] = w;
			}
		} else {
			return usage();
		}
	}
	if (book) {
		bookkeeping(book_max < sizeof(pool) ? book_max : sizeof(pool));
		printf("DONE segments=0\n");
		return TARGET_EXIT_PASS;
	}
	if (nsizes == 0u) {
		sizes[nsizes++] = 16u * 1024u;
		sizes[nsizes++] = max_heap_bytes();
	}
	if (nworkloads == 0u) {
		for (unsigned int i = 0;
		     i <
		     sizeof(default_workloads) / sizeof(default_workloads[0]);
		     i++) {
			use[nworkloads++] = default_workloads[i];
		}
	}
	/*
	 * SysTick is running (the port starts it): a tick taken inside a
	 * measured call would add its handler's instructions to the call.
	 * With PRIMASK set no interrupt is taken; nothing here waits for
	 * one.
	 */
	__asm__ volatile("cpsid i" ::: "memory");

	printf("POOL bytes=%lu max=%lu alloc=%s\n", (unsigned long)sizeof(pool),
	       (unsigned long)max_heap_bytes(), BENCH_HEAP_NAME);
	unsigned int seg = 0;

	for (unsigned int i = 0; i < nworkloads; i++) {
		for (unsigned int s = 0; s < nsizes; s++) {
			run(seg++, use[i], sizes[s], (uint32_t)ops);
		}
	}
	printf("DONE segments=%u\n", seg);
	return TARGET_EXIT_PASS;
}
