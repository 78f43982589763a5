/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The worst-case bench image: runs allocation workloads on sys_heap
 * heaps from 16 KiB up to the largest the board's RAM holds, calling
 * every sys_heap_alloc, aligned_alloc, free and realloc through a probe
 * trampoline whose labels the kheapcount QEMU plugin watches
 * (target/bench/plugin/kheapcount.c). The plugin counts the instructions
 * of each call; this program only generates the calls, checks the
 * blocks it gets, and describes each run on its output so that the
 * driver (target/bench/qemu_worst.py) can pair the plugin's figures
 * with it. Method: docs/design.md, "Worst-case measurement on
 * Cortex-M".
 *
 * Command line (semihosting; every argument optional):
 *   target_worst [ops=N] [sizes=S+S+...] [workloads=W+W+...]
 *   ops        calls after the live set first reaches its target
 *              (default 20000)
 *   sizes      heap sizes in bytes, with K or M suffixes, or "max"
 *              (default 16K,max)
 *   workloads  small, mixed, aligned (default all three)
 * Lists are separated by '+' (or ','; QEMU's -semihosting-config needs a
 * comma doubled).
 * Output, one line each (parsed by the driver):
 *   POOL bytes=... max=...
 *   SEG <n> workload=... heap=... header=... seed=...
 *   END <n> ops=... alloc=... aligned_alloc=... free=... realloc=...
 *       failed_alloc=... failed_aligned_alloc=... failed_realloc=...
 *       forced_free=... fill_ops=... live=...
 *   DONE segments=...
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
#include <zephyr/sys/sys_heap.h>

#include "prng.h"

/* ---- the probe trampolines ------------------------------------------- */

/*
 * One per measured function. The call instruction and the return label
 * are what the plugin watches: it counts from the first instruction
 * after the bl (the callee's first) up to the return label (after the
 * callee's last), so the trampoline's own push and pop are not counted.
 * Plain labels, not functions, so that the symbol table gives their
 * addresses without the Thumb bit. Thumb-1 instructions only: the same
 * text serves ARMv6-M.
 */
#define KHEAP_PROBE(kind)                                                      \
	".p2align 2\n"                                                         \
	".global kheap_probe_" kind "\n"                                       \
	".type kheap_probe_" kind ", %function\n"                              \
	".thumb_func\n"                                                        \
	"kheap_probe_" kind ":\n"                                              \
	"\tpush {r4, lr}\n"                                                    \
	".global kheap_probe_" kind "_call\n"                                  \
	"kheap_probe_" kind "_call:\n"                                         \
	"\tbl sys_heap_" kind "\n"                                             \
	".global kheap_probe_" kind "_return\n"                                \
	"kheap_probe_" kind "_return:\n"                                       \
	"\tpop {r4, pc}\n"                                                     \
	".size kheap_probe_" kind ", . - kheap_probe_" kind "\n"

__asm__(".section .text.kheap_probe, \"ax\", %progbits\n"
	".syntax unified\n"
	".thumb\n" KHEAP_PROBE("alloc") KHEAP_PROBE("aligned_alloc")
		KHEAP_PROBE("free") KHEAP_PROBE("realloc")
	/* The segment marker: its first instruction starts a segment. */
	".p2align 2\n"
	".global kheap_probe_segment\n"
	".type kheap_probe_segment, %function\n"
	".thumb_func\n"
	"kheap_probe_segment:\n"
	"\tbx lr\n"
	".size kheap_probe_segment, . - kheap_probe_segment\n"
	".text\n");

void *kheap_probe_alloc(struct sys_heap *heap, size_t bytes);
void *kheap_probe_aligned_alloc(struct sys_heap *heap, size_t align,
				size_t bytes);
void kheap_probe_free(struct sys_heap *heap, void *mem);
void *kheap_probe_realloc(struct sys_heap *heap, void *mem, size_t bytes);
void kheap_probe_segment(void);

/* ---- workloads ------------------------------------------------------------ */

/*
 * GUIDE §5's patterns, as bench/workload.c defines them for the host,
 * but generated while they run (the micro:bit cannot hold an op list)
 * and driven by the real outcome: a failed allocation adds nothing to
 * the live set. Below half the heap in live requested bytes, 2 of 3 ops
 * allocate; above it, 2 of 3 free a random live block.
 */
struct workload {
	const char *name;
	uint64_t seed;
	uint32_t min_size;
	uint32_t max_size;
	bool log_sizes;
	/* Share of allocations that are aligned, to 1 << [min, max]. */
	unsigned int aligned_pct;
	unsigned int min_align_shift;
	unsigned int max_align_shift;
	/* Share of ops that resize a live block of at most realloc_max
	 * bytes to [min_size, realloc_max]. */
	unsigned int realloc_pct;
	uint32_t realloc_max;
};

static const struct workload workloads[] = {
	/* W1's requests: uniform 8..128 B. */
	{"small", 0x57310001u, 8u, 128u, false, 0u, 0u, 0u, 0u, 0u},
	/* The host's instruction-count workload: W2's requests
	 * (log-uniform 16 B..16 KiB), a quarter of them aligned to
	 * 16..512, and 10 % of ops resizing a block of at most 2 KiB. */
	{"mixed", 0x5731000au, 16u, 16384u, true, 25u, 4u, 9u, 10u, 2048u},
	/* W4's: uniform 8..512 B, every one aligned to 8..256. */
	{"aligned", 0x57310004u, 8u, 512u, false, 100u, 3u, 8u, 0u, 0u},
};
#define WORKLOAD_COUNT (sizeof(workloads) / sizeof(workloads[0]))

/* ---- log-uniform sizes without libm --------------------------------------- */

/*
 * bench/prng.h's prng_log_range calls exp() and log(): thousands of
 * soft-float instructions per draw on these cores. Here: a log2 in 16.16
 * fixed point, computed once per run, and 2^x by a 33-entry table with
 * linear interpolation (relative error under 1e-4).
 */
static const uint32_t exp2_q16[33] = {
	65536,  66971,  68438,  69936,  71468,  73032,  74632,  76266,  77936,
	79642,  81386,  83169,  84990,  86851,  88752,  90696,  92682,  94711,
	96785,  98905,  101070, 103283, 105545, 107856, 110218, 112631, 115098,
	117618, 120194, 122825, 125515, 128263, 131072,
};

/* log2(x) in 16.16 fixed point, x >= 1: the integer part from the top
 * bit, then one fraction bit per squaring of the mantissa. */
static uint32_t log2_q16(uint32_t x)
{
	uint32_t ip = 31u - (uint32_t)__builtin_clz(x);
	/* Mantissa in [1, 2) as 1.31 fixed point. */
	uint64_t m = (uint64_t)x << (31u - ip);
	uint32_t frac = 0u;

	for (unsigned int bit = 0; bit < 16u; bit++) {
		m = (m * m) >> 31;
		frac <<= 1;
		if (m >= (2ull << 31)) {
			m >>= 1;
			frac |= 1u;
		}
	}
	return (ip << 16) | frac;
}

/* lo * 2^(e / 65536). */
static uint32_t scale_exp2(uint32_t lo, uint32_t e)
{
	uint32_t ip = e >> 16;
	uint32_t f = e & 0xffffu;
	uint32_t i = f >> 11;
	uint32_t rem = f & 0x7ffu;
	uint32_t v =
		exp2_q16[i] + (((exp2_q16[i + 1u] - exp2_q16[i]) * rem) >> 11);

	return (uint32_t)(((uint64_t)lo * v << ip) >> 16);
}

struct size_draw {
	uint32_t lo;
	uint32_t hi;
	bool log;
	/* log2((hi + 1) / lo) in 16.16. */
	uint32_t span_q16;
};

static struct size_draw size_draw_make(uint32_t lo, uint32_t hi, bool log)
{
	struct size_draw d = {lo, hi, log, 0u};

	if (log) {
		d.span_q16 = log2_q16(hi + 1u) - log2_q16(lo);
	}
	return d;
}

static uint32_t draw_size(struct prng *r, const struct size_draw *d)
{
	if (!d->log) {
		return prng_range(r, d->lo, d->hi);
	}
	uint32_t u = (uint32_t)(prng_next(r) >> 32);
	uint32_t e = (uint32_t)(((uint64_t)u * d->span_q16) >> 32);
	uint32_t v = scale_exp2(d->lo, e);

	return v < d->lo ? d->lo : (v > d->hi ? d->hi : v);
}

/* ---- the pool ----------------------------------------------------------- */

/*
 * All of the heap under test and the generator's live-block table come
 * from one static pool sized per board (KHEAP_WORST_POOL_BYTES, from
 * target/bench/CMakeLists.txt): the heap at its start, the table at its
 * end. 512-byte alignment, the largest the workloads ask for, so that a
 * run behaves the same on every board (aligned requests depend on the
 * address modulo the alignment).
 */
#ifndef KHEAP_WORST_POOL_BYTES
#error "KHEAP_WORST_POOL_BYTES (the board's pool for heap and table) is not set"
#endif
static uint8_t pool[KHEAP_WORST_POOL_BYTES] __attribute__((aligned(512)));

struct live_block {
	uint8_t *mem;
	uint32_t bytes;
};

/* One table entry per 64 heap bytes: the small workload's live set is
 * about one block per 136 bytes, so the cap (a forced free when the
 * table is full, counted and reported) is a safety net, not a shape. */
#define HEAP_BYTES_PER_ENTRY 64u
#define MIN_TABLE_ENTRIES 64u

static size_t table_entries(size_t heap_bytes)
{
	size_t n = heap_bytes / HEAP_BYTES_PER_ENTRY;

	return n < MIN_TABLE_ENTRIES ? MIN_TABLE_ENTRIES : n;
}

static bool fits_pool(size_t heap_bytes)
{
	size_t table = table_entries(heap_bytes) * sizeof(struct live_block);

	return heap_bytes <= sizeof(pool) && table <= sizeof(pool) - heap_bytes;
}

/* The largest heap whose table fits beside it, in whole KiB. */
static size_t max_heap_bytes(void)
{
	size_t bytes =
		(size_t)((uint64_t)sizeof(pool) * HEAP_BYTES_PER_ENTRY /
			 (HEAP_BYTES_PER_ENTRY + sizeof(struct live_block)));

	bytes &= ~(size_t)1023u;
	while (bytes != 0u && !fits_pool(bytes)) {
		bytes -= 1024u;
	}
	return bytes;
}

/* ---- one run ------------------------------------------------------------ */

struct counts {
	uint32_t ops;
	uint32_t calls[4];
	uint32_t failed[4];
	uint32_t forced_free;
	uint32_t fill_ops;
};

enum {
	K_ALLOC,
	K_ALIGNED_ALLOC,
	K_FREE,
	K_REALLOC
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

static void run(unsigned int seg, const struct workload *w, size_t heap_bytes,
		uint32_t steady_ops)
{
	struct sys_heap heap;
	struct prng r;
	struct counts c = {0};
	size_t cap = table_entries(heap_bytes);
	struct live_block *live =
		(struct live_block *)(pool + sizeof(pool)) - cap;
	uint32_t nlive = 0u;
	uint64_t live_bytes = 0u;
	uint64_t target = heap_bytes / 2u;
	struct size_draw sizes =
		size_draw_make(w->min_size, w->max_size, w->log_sizes);
	struct size_draw resizes =
		size_draw_make(w->min_size, w->realloc_max, w->log_sizes);
	bool filled = false;
	uint32_t after_fill = 0u;
	/* A run whose live set never reaches the target (requests too large
	 * for the heap) is measured from this op on. */
	uint32_t fill_limit = (uint32_t)(heap_bytes / 4u) + 10000u;

	if (sys_heap_init(&heap, pool, heap_bytes) != 0) {
		fail(seg, "sys_heap_init failed", pool);
	}
	prng_seed(&r, w->seed);
	printf("SEG %u workload=%s heap=%lu header=%lu seed=0x%08lx\n", seg,
	       w->name, (unsigned long)heap_bytes,
	       (unsigned long)sys_heap_header_bytes(&heap),
	       (unsigned long)w->seed);
	fflush(stdout);
	kheap_probe_segment();

	while (after_fill < steady_ops) {
		c.ops++;
		if (filled) {
			after_fill++;
		} else if (live_bytes >= target || c.ops > fill_limit) {
			filled = true;
			c.fill_ops = c.ops - 1u;
		}
		if (w->realloc_pct != 0u && nlive != 0u &&
		    prng_below(&r, 100u) < w->realloc_pct) {
			struct live_block *b = &live[prng_below(&r, nlive)];

			if (b->bytes <= w->realloc_max) {
				uint32_t n = draw_size(&r, &resizes);
				uint8_t *mem =
					kheap_probe_realloc(&heap, b->mem, n);

				c.calls[K_REALLOC]++;
				if (mem == NULL) {
					c.failed[K_REALLOC]++;
					continue;
				}
				if (((uintptr_t)mem & 7u) != 0u ||
				    !token_is(mem, b->mem)) {
					fail(seg, "realloc lost the block",
					     mem);
				}
				store_token(mem);
				live_bytes += (uint64_t)n - b->bytes;
				b->mem = mem;
				b->bytes = n;
				continue;
			}
		}
		bool want_alloc;

		if (nlive == 0u) {
			want_alloc = true;
		} else if (live_bytes < target) {
			want_alloc = prng_below(&r, 3u) != 0u;
		} else {
			want_alloc = prng_below(&r, 3u) == 0u;
		}
		if (want_alloc && nlive == cap) {
			want_alloc = false;
			c.forced_free++;
		}
		if (want_alloc) {
			uint32_t n = draw_size(&r, &sizes);
			size_t align = 8u;
			uint8_t *mem;
			unsigned int kind = K_ALLOC;

			if (w->aligned_pct != 0u &&
			    prng_below(&r, 100u) < w->aligned_pct) {
				align = (size_t)1u
					<< prng_range(&r, w->min_align_shift,
						      w->max_align_shift);
				kind = K_ALIGNED_ALLOC;
				mem = kheap_probe_aligned_alloc(&heap, align,
								n);
			} else {
				mem = kheap_probe_alloc(&heap, n);
			}
			c.calls[kind]++;
			if (mem == NULL) {
				c.failed[kind]++;
				continue;
			}
			if (((uintptr_t)mem & (align - 1u)) != 0u) {
				fail(seg, "misaligned block", mem);
			}
			store_token(mem);
			live[nlive].mem = mem;
			live[nlive].bytes = n;
			nlive++;
			live_bytes += n;
		} else {
			uint32_t k = prng_below(&r, nlive);
			struct live_block *b = &live[k];

			if (!token_is(b->mem, b->mem)) {
				fail(seg, "block overwritten", b->mem);
			}
			kheap_probe_free(&heap, b->mem);
			c.calls[K_FREE]++;
			live_bytes -= b->bytes;
			*b = live[--nlive];
		}
	}
	if (!sys_heap_validate(&heap)) {
		fail(seg, "sys_heap_validate failed", pool);
	}
	printf("END %u ops=%lu alloc=%lu aligned_alloc=%lu free=%lu "
	       "realloc=%lu failed_alloc=%lu failed_aligned_alloc=%lu "
	       "failed_realloc=%lu forced_free=%lu fill_ops=%lu live=%lu\n",
	       seg, (unsigned long)c.ops, (unsigned long)c.calls[K_ALLOC],
	       (unsigned long)c.calls[K_ALIGNED_ALLOC],
	       (unsigned long)c.calls[K_FREE],
	       (unsigned long)c.calls[K_REALLOC],
	       (unsigned long)c.failed[K_ALLOC],
	       (unsigned long)c.failed[K_ALIGNED_ALLOC],
	       (unsigned long)c.failed[K_REALLOC], (unsigned long)c.forced_free,
	       (unsigned long)(filled ? c.fill_ops : c.ops),
	       (unsigned long)nlive);
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

int main(int argc, char **argv)
{
	size_t sizes[MAX_SIZES];
	unsigned int nsizes = 0;
	bool use[WORKLOAD_COUNT];
	bool any_workload = false;
	unsigned long ops = 20000ul;

	for (unsigned int i = 0; i < WORKLOAD_COUNT; i++) {
		use[i] = false;
	}
	for (int a = 1; a < argc; a++) {
		char *arg = argv[a];
		char *list;

		if (strncmp(arg, "ops=", 4) == 0) {
			char *end;

			ops = strtoul(arg + 4, &end, 10);
			if (*end != '\0' || ops == 0ul) {
				printf("bad %s\n", arg);
				return TARGET_EXIT_USAGE;
			}
		} else if (strncmp(arg, "sizes=", 6) == 0) {
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
		} else if (strncmp(arg, "workloads=", 10) == 0) {
			for (list = strtok(arg + 10, "+,"); list != NULL;
			     list = strtok(NULL, "+,")) {
				unsigned int i = 0;

				while (i < WORKLOAD_COUNT &&
				       strcmp(list, workloads[i].name) != 0) {
					i++;
				}
				if (i == WORKLOAD_COUNT) {
					printf("unknown workload '%s'\n", list);
					return TARGET_EXIT_USAGE;
				}
				use[i] = true;
				any_workload = true;
			}
		} else {
			printf("usage: target_worst [ops=N] [sizes=S+...] "
			       "[workloads=W+...]\n");
			return TARGET_EXIT_USAGE;
		}
	}
	if (nsizes == 0u) {
		sizes[nsizes++] = 16u * 1024u;
		sizes[nsizes++] = max_heap_bytes();
	}
	if (!any_workload) {
		for (unsigned int i = 0; i < WORKLOAD_COUNT; i++) {
			use[i] = true;
		}
	}
	/*
	 * SysTick is running (the port starts it): a tick taken inside a
	 * measured call would add its handler's instructions to the call.
	 * With PRIMASK set no interrupt is taken; nothing here waits for
	 * one.
	 */
	__asm__ volatile("cpsid i" ::: "memory");

	printf("POOL bytes=%lu max=%lu\n", (unsigned long)sizeof(pool),
	       (unsigned long)max_heap_bytes());
	unsigned int seg = 0;

	for (unsigned int i = 0; i < WORKLOAD_COUNT; i++) {
		if (!use[i]) {
			continue;
		}
		for (unsigned int s = 0; s < nsizes; s++) {
			run(seg++, &workloads[i], sizes[s], (uint32_t)ops);
		}
	}
	printf("DONE segments=%u\n", seg);
	return TARGET_EXIT_PASS;
}
