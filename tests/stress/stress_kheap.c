/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Concurrency stress of the kernel layer on the simulator.
 *
 * N worker threads run M random operations each on one shared k_heap and
 * on the system heap (the k_malloc family), at the same time:
 *
 *   alloc, aligned alloc, calloc, realloc, free     (K_NO_WAIT)
 *   alloc with a K_MSEC timeout                     (pends when full)
 *   k_malloc, k_calloc, k_aligned_alloc, k_realloc, k_free
 *   hand a block to another thread                  (exchange slots)
 *   free or allocate in ISR context                 (irq_offload)
 *
 * and a periodic timer interrupt takes blocks out of the exchange and
 * frees them, or allocates blocks and leaves them there. Every block is
 * filled with tokens (id and address) when it is allocated and checked
 * before it is freed, resized or handed on, by whichever thread or ISR
 * holds it then.
 *
 *   [ worker 0 ] --swap--> [ exchange: EXCHANGE_SLOTS blocks ] <--swap-- [ worker k ]
 *                                    ^        |
 *                            timer ISR: take and free / alloc and leave
 *
 * The run is cut into phases. At the end of each phase every worker
 * checks the tokens of its blocks and parks at a barrier (two k_sem);
 * the main thread then checks the blocks in the exchange and validates
 * both heaps under their locks (the timer ISR keeps running), and
 * releases the workers. At the end every block is freed and both heaps
 * must be back at their initial free bytes with nothing allocated.
 *
 * Options (command line, or the environment variable in brackets):
 *   --threads N     worker threads, 1..64            [KHEAP_STRESS_THREADS] 8
 *   --ops N         operations per thread            [KHEAP_STRESS_OPS] 50000
 *   --seed S        decimal or 0x hex                [KHEAP_STRESS_SEED] random
 *   --duration S    repeat with new seeds for S s    [KHEAP_STRESS_DURATION] 0
 *   --mode M        parallel | deterministic         [KHEAP_STRESS_MODE] parallel
 *   --clock C       real | virtual                   [KHEAP_STRESS_CLOCK]
 *                   (default: real in parallel mode, virtual in
 *                   deterministic mode, where a seed replays exactly)
 *   --phases N      quiescent checks per run         16
 *   --heap-bytes N  size of the shared k_heap        32768
 *   --preempt P     deterministic mode: extra preemption points, percent  20
 *   --no-isr        no timer interrupt and no irq_offload
 *   --verbose       a line per phase
 * Every run prints its seed and a replay command line. Exit status 0 if
 * every run passed; a failure prints what failed and aborts.
 */
#define _POSIX_C_SOURCE 200809L

#include <errno.h>
#include <stdarg.h>
#include <inttypes.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <kheap/sim.h>
#include <zephyr/irq_offload.h>
#include <zephyr/kernel.h>

#include "test_heap_support.h"
#include "test_rng.h"
#include "test_token.h"

#define MAX_THREADS 64
#define MAX_HEAP_BYTES (4u << 20)
/* Blocks a worker holds at most. */
#define LIVE_MAX 48
#define EXCHANGE_SLOTS 64
/* Largest request, per heap. */
#define KHEAP_MAX_REQUEST 512
#define KMALLOC_MAX_REQUEST 256
#define WORKER_PRIO 5

enum block_kind {
	KIND_KHEAP,   /* from stress_heap: k_heap_free */
	KIND_KMALLOC, /* k_malloc family: k_free */
};

/* A block and what was written into it. mem == NULL: no block. */
struct block {
	unsigned char *mem;
	size_t bytes;
	uint32_t id;
	enum block_kind kind;
};

struct stats {
	uint64_t ops;
	uint64_t allocs;
	uint64_t alloc_failed;
	uint64_t frees;
	uint64_t reallocs;
	uint64_t realloc_failed;
	uint64_t kmalloc_allocs;
	uint64_t handed;    /* blocks put into the exchange */
	uint64_t received;  /* blocks taken out of the exchange */
	uint64_t timed;     /* allocations with a K_MSEC timeout */
	uint64_t timed_ok;  /* of those, after a K_NO_WAIT probe had failed */
	uint64_t timed_out; /* of those, NULL at the deadline */
	uint64_t offloads;  /* irq_offload calls */
	uint64_t isr_frees;
	uint64_t isr_allocs;
};

struct worker {
	struct k_thread thread;
	unsigned int index;
	struct test_rng rng;
	struct block live[LIVE_MAX];
	unsigned int nlive;
	uint32_t next_id;
	uint64_t op; /* current operation, for failure messages */
	struct stats stats;
};

struct options {
	unsigned int threads;
	unsigned long ops;
	uint64_t seed;
	bool seed_given;
	unsigned long duration_s;
	enum sim_mode mode;
	enum sim_clock clock;
	bool clock_given;
	unsigned int phases;
	size_t heap_bytes;
	unsigned int preempt;
	bool isr;
	bool verbose;
};

static struct options opt = {
	.threads = 8,
	.ops = 50000,
	.mode = SIM_MODE_PARALLEL,
	.phases = 16,
	.heap_bytes = 32768,
	.preempt = 20,
	.isr = true,
};

static const char *argv0 = "stress_kheap";
static uint64_t run_seed;

static unsigned char __attribute__((__aligned__(8))) region[MAX_HEAP_BYTES];
static struct k_heap stress_heap;

static struct worker workers[MAX_THREADS];
K_THREAD_STACK_ARRAY_DEFINE(worker_stacks, MAX_THREADS, 4096);

/* The exchange: blocks on their way between threads and ISRs. Closed
 * (under the lock) before the final drain, so that the timer ISR leaves
 * nothing behind. */
static struct k_spinlock exchange_lock;
static struct block exchange[EXCHANGE_SLOTS];
static bool exchange_closed;

/* Barrier: workers give `arrived` and take `go[phase % 2]`. Two
 * semaphores, so that a fast worker cannot take a token meant for a
 * slow one of the previous phase. */
static struct k_sem arrived;
static struct k_sem go[2];

/* Timer ISR state (one handler, so its runs are serialised). */
static struct test_rng isr_rng;
static uint32_t isr_next_id;
static atomic_int isr_active;
static atomic_ullong isr_frees;
static atomic_ullong isr_allocs;

/* ---- failure reporting ---------------------------------------------- */

static void print_replay(FILE *out)
{
	fprintf(out,
		"stress: replay: %s --seed 0x%016" PRIx64
		" --threads %u --ops %lu --mode %s --clock %s --phases %u"
		" --heap-bytes %zu --preempt %u%s\n",
		argv0, run_seed, opt.threads, opt.ops,
		opt.mode == SIM_MODE_PARALLEL ? "parallel" : "deterministic",
		opt.clock == SIM_CLOCK_REAL ? "real" : "virtual", opt.phases,
		opt.heap_bytes, opt.preempt, opt.isr ? "" : " --no-isr");
	if (opt.mode == SIM_MODE_PARALLEL) {
		fprintf(out, "stress: (parallel mode: the seed replays the "
			     "operations, not the interleaving)\n");
	}
}

static void print_failure_context(void)
{
	fprintf(stderr, "stress: FAILED seed=0x%016" PRIx64 "\n", run_seed);
	print_replay(stderr);
	fflush(stderr);
}

static void __attribute__((__noreturn__, __format__(printf, 1, 2)))
stress_fail(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "stress: FAILED seed=0x%016" PRIx64 ": ", run_seed);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	print_replay(stderr);
	fflush(stderr);
	fflush(stdout);
	abort();
}

/* ---- blocks ------------------------------------------------------------ */

static const char *kind_name(enum block_kind kind)
{
	return kind == KIND_KHEAP ? "k_heap" : "k_malloc";
}

static void check_block(const struct block *b, const char *who,
			const char *when)
{
	size_t bad = test_token_check(b->mem, b->bytes, b->id);

	if (bad != SIZE_MAX) {
		stress_fail("%s, %s: %s block %p (%zu bytes, id 0x%08" PRIx32
			    ") corrupt at offset %zu",
			    who, when, kind_name(b->kind), (void *)b->mem,
			    b->bytes, b->id, bad);
	}
}

static void check_zero(const unsigned char *mem, size_t bytes, const char *who)
{
	for (size_t i = 0; i < bytes; i++) {
		if (mem[i] != 0u) {
			stress_fail("%s: calloc block %p (%zu bytes) not "
				    "zeroed at offset %zu",
				    who, (const void *)mem, bytes, i);
		}
	}
}

static void check_aligned(const void *mem, size_t align, const char *who)
{
	if (align != 0u && ((uintptr_t)mem & (align - 1u)) != 0u) {
		stress_fail("%s: block %p not aligned to %zu", who, mem, align);
	}
}

/* Check tokens, then free, in whatever context the caller is in. */
static void free_block(struct block *b, const char *who)
{
	check_block(b, who, "before free");
	if (b->kind == KIND_KHEAP) {
		k_heap_free(&stress_heap, b->mem);
	} else {
		k_free(b->mem);
	}
	b->mem = NULL;
}

static void fill_block(struct block *b, unsigned char *mem, size_t bytes,
		       uint32_t id, enum block_kind kind)
{
	b->mem = mem;
	b->bytes = bytes;
	b->id = id;
	b->kind = kind;
	test_token_fill(mem, bytes, id);
}

/* Put `in` (may be empty) into slot, return what was there. If the
 * exchange is closed, nothing goes in and `in` comes back. */
static struct block exchange_swap(unsigned int slot, struct block in)
{
	k_spinlock_key_t key = k_spin_lock(&exchange_lock);
	struct block out = in;

	if (!exchange_closed) {
		out = exchange[slot];
		exchange[slot] = in;
	}
	k_spin_unlock(&exchange_lock, key);
	return out;
}

static size_t random_align(struct test_rng *rng)
{
	return (size_t)1u << test_rng_range(rng, 3, 8);
}

/* ---- ISR context ------------------------------------------------------- */

/* Allocate a block in ISR context (K_NO_WAIT only); empty on failure. */
static struct block isr_alloc(struct test_rng *rng, uint32_t id)
{
	struct block b = {0};
	size_t bytes;
	unsigned char *mem;

	if (test_rng_percent(rng, 50)) {
		bytes = (size_t)test_rng_log_uniform(rng, KHEAP_MAX_REQUEST);
		mem = k_heap_alloc(&stress_heap, bytes, K_NO_WAIT);
		if (mem != NULL) {
			fill_block(&b, mem, bytes, id, KIND_KHEAP);
		}
	} else {
		bytes = (size_t)test_rng_log_uniform(rng, KMALLOC_MAX_REQUEST);
		mem = k_malloc(bytes);
		if (mem != NULL) {
			fill_block(&b, mem, bytes, id, KIND_KMALLOC);
		}
	}
	return b;
}

/* The periodic timer interrupt: take a slot's block and free it, or
 * leave a new block in an empty slot. */
static void timer_isr(void *arg)
{
	(void)arg;
	atomic_fetch_add(&isr_active, 1);
	if (!k_is_in_isr()) {
		stress_fail("timer handler: k_is_in_isr() is false");
	}
	for (int round = 0; round < 2; round++) {
		unsigned int slot =
			(unsigned int)test_rng_below(&isr_rng, EXCHANGE_SLOTS);
		struct block none = {0};
		struct block b = exchange_swap(slot, none);

		if (b.mem != NULL) {
			free_block(&b, "timer ISR");
			atomic_fetch_add(&isr_frees, 1);
			continue;
		}
		b = isr_alloc(&isr_rng, 0xf0000000u | isr_next_id++);
		if (b.mem == NULL) {
			continue;
		}
		atomic_fetch_add(&isr_allocs, 1);
		struct block back = exchange_swap(slot, b);

		if (back.mem != NULL) {
			/* Closed, or a thread filled the slot meanwhile. */
			free_block(&back, "timer ISR");
			atomic_fetch_add(&isr_frees, 1);
		}
	}
	atomic_fetch_sub(&isr_active, 1);
}

/* irq_offload routine: free one of the worker's blocks, or allocate one
 * for it, in ISR context on the worker's CPU. */
static void offload_isr(const void *arg)
{
	struct worker *w = (struct worker *)(uintptr_t)arg;

	if (!k_is_in_isr()) {
		stress_fail("irq_offload: k_is_in_isr() is false");
	}
	if (w->nlive > 0 &&
	    (w->nlive == LIVE_MAX || test_rng_percent(&w->rng, 50))) {
		unsigned int i =
			(unsigned int)test_rng_below(&w->rng, w->nlive);

		free_block(&w->live[i], "irq_offload");
		w->live[i] = w->live[--w->nlive];
		w->stats.isr_frees++;
	} else if (w->nlive < LIVE_MAX) {
		uint32_t id = ((uint32_t)w->index << 24) |
			      (w->next_id++ & 0xffffffu);
		struct block b = isr_alloc(&w->rng, id);

		if (b.mem != NULL) {
			w->live[w->nlive++] = b;
			w->stats.isr_allocs++;
		}
	}
}

/* ---- worker operations -------------------------------------------------- */

static uint32_t new_id(struct worker *w)
{
	return ((uint32_t)w->index << 24) | (w->next_id++ & 0xffffffu);
}

static void worker_fail_context(struct worker *w, char *who, size_t len)
{
	snprintf(who, len, "thread %u op %" PRIu64, w->index, w->op);
}

static void op_alloc_kheap(struct worker *w, const char *who)
{
	struct test_rng *rng = &w->rng;
	size_t bytes = (size_t)test_rng_log_uniform(rng, KHEAP_MAX_REQUEST);
	unsigned int pick = (unsigned int)test_rng_below(rng, 100);
	size_t align = 0;
	bool zeroed = false;
	unsigned char *mem;

	if (pick < 10) {
		/* A timed allocation: immediate if there is room, else
		 * pends until a free (any thread, any ISR) or the
		 * deadline. */
		w->stats.timed++;
		mem = k_heap_alloc(&stress_heap, bytes,
				   K_MSEC(test_rng_range(rng, 1, 3)));
		if (mem == NULL) {
			w->stats.timed_out++;
		}
	} else if (pick < 30) {
		align = random_align(rng);
		mem = k_heap_aligned_alloc(&stress_heap, align, bytes,
					   K_NO_WAIT);
	} else if (pick < 45) {
		size_t n = (size_t)test_rng_range(rng, 1, 8);

		bytes = (bytes + n - 1u) / n * n;
		mem = k_heap_calloc(&stress_heap, n, bytes / n, K_NO_WAIT);
		zeroed = true;
	} else {
		mem = k_heap_alloc(&stress_heap, bytes, K_NO_WAIT);
		if (mem == NULL && test_rng_percent(rng, 30)) {
			/* The probe failed: wait for memory. */
			w->stats.timed++;
			mem = k_heap_alloc(&stress_heap, bytes,
					   K_MSEC(test_rng_range(rng, 1, 3)));
			if (mem != NULL) {
				w->stats.timed_ok++;
			} else {
				w->stats.timed_out++;
			}
		}
	}
	if (mem == NULL) {
		w->stats.alloc_failed++;
		return;
	}
	w->stats.allocs++;
	check_aligned(mem, align != 0u ? align : 8u, who);
	if (zeroed) {
		check_zero(mem, bytes, who);
	}
	fill_block(&w->live[w->nlive++], mem, bytes, new_id(w), KIND_KHEAP);
}

static void op_alloc_kmalloc(struct worker *w, const char *who)
{
	struct test_rng *rng = &w->rng;
	size_t bytes = (size_t)test_rng_log_uniform(rng, KMALLOC_MAX_REQUEST);
	unsigned int pick = (unsigned int)test_rng_below(rng, 100);
	size_t align = 8;
	unsigned char *mem;
	bool zeroed = false;

	if (pick < 25) {
		align = random_align(rng);
		mem = k_aligned_alloc(align, bytes);
	} else if (pick < 45) {
		mem = k_calloc(1, bytes);
		zeroed = true;
	} else {
		mem = k_malloc(bytes);
	}
	if (mem == NULL) {
		w->stats.alloc_failed++;
		return;
	}
	w->stats.allocs++;
	w->stats.kmalloc_allocs++;
	check_aligned(mem, align, who);
	if (zeroed) {
		check_zero(mem, bytes, who);
	}
	fill_block(&w->live[w->nlive++], mem, bytes, new_id(w), KIND_KMALLOC);
}

static void op_realloc(struct worker *w, const char *who)
{
	struct test_rng *rng = &w->rng;
	unsigned int i = (unsigned int)test_rng_below(rng, w->nlive);
	struct block *b = &w->live[i];
	size_t max = b->kind == KIND_KHEAP ? KHEAP_MAX_REQUEST
					   : KMALLOC_MAX_REQUEST;
	size_t bytes = (size_t)test_rng_log_uniform(rng, max);
	unsigned char *mem;

	check_block(b, who, "before realloc");
	if (b->kind == KIND_KHEAP) {
		mem = k_heap_realloc(&stress_heap, b->mem, bytes, K_NO_WAIT);
	} else {
		mem = k_realloc(b->mem, bytes);
	}
	w->stats.reallocs++;
	if (mem == NULL) {
		/* Refused: the old block is intact. */
		w->stats.realloc_failed++;
		check_block(b, who, "after a failed realloc");
		return;
	}
	size_t kept = bytes < b->bytes ? bytes : b->bytes;
	size_t bad = test_token_check_moved(mem, kept, b->id, b->mem);

	if (bad != SIZE_MAX) {
		stress_fail("%s: realloc of %s block %p (%zu -> %zu bytes) "
			    "to %p lost data at offset %zu",
			    who, kind_name(b->kind), (void *)b->mem, b->bytes,
			    bytes, (void *)mem, bad);
	}
	check_aligned(mem, 8, who);
	fill_block(b, mem, bytes, new_id(w), b->kind);
}

static void op_free(struct worker *w, const char *who)
{
	unsigned int i = (unsigned int)test_rng_below(&w->rng, w->nlive);

	free_block(&w->live[i], who);
	w->live[i] = w->live[--w->nlive];
	w->stats.frees++;
}

/* Swap one of our blocks (or nothing) with a random exchange slot. */
static void op_exchange(struct worker *w, const char *who)
{
	struct test_rng *rng = &w->rng;
	unsigned int slot = (unsigned int)test_rng_below(rng, EXCHANGE_SLOTS);
	struct block in = {0};
	unsigned int i = 0;

	if (w->nlive > 0 &&
	    (w->nlive == LIVE_MAX || test_rng_percent(rng, 60))) {
		i = (unsigned int)test_rng_below(rng, w->nlive);
		in = w->live[i];
		check_block(&in, who, "before handing it on");
		w->live[i] = w->live[--w->nlive];
		w->stats.handed++;
	}
	struct block out = exchange_swap(slot, in);

	if (out.mem != NULL) {
		check_block(&out, who, "on receipt from the exchange");
		w->live[w->nlive++] = out;
		w->stats.received++;
	}
}

static void worker_op(struct worker *w)
{
	struct test_rng *rng = &w->rng;
	unsigned int pick = (unsigned int)test_rng_below(rng, 100);
	char who[48];

	worker_fail_context(w, who, sizeof(who));
	if (opt.isr && pick < 2) {
		w->stats.offloads++;
		irq_offload(offload_isr, w);
	} else if (pick < 14) {
		op_exchange(w, who);
	} else if (pick < 24 && w->nlive > 0) {
		op_realloc(w, who);
	} else if (w->nlive < LIVE_MAX &&
		   (w->nlive == 0 || test_rng_percent(rng, 55))) {
		if (test_rng_percent(rng, 70)) {
			op_alloc_kheap(w, who);
		} else {
			op_alloc_kmalloc(w, who);
		}
	} else {
		op_free(w, who);
	}
	w->stats.ops++;
}

static void check_all_live(struct worker *w, const char *when)
{
	char who[48];

	worker_fail_context(w, who, sizeof(who));
	for (unsigned int i = 0; i < w->nlive; i++) {
		check_block(&w->live[i], who, when);
	}
}

static void barrier_wait(unsigned int phase)
{
	k_sem_give(&arrived);
	(void)k_sem_take(&go[phase % 2u], K_FOREVER);
}

static void worker_main(void *p1, void *p2, void *p3)
{
	struct worker *w = p1;
	unsigned long per_phase = opt.ops / opt.phases;

	(void)p2;
	(void)p3;
	for (unsigned int phase = 0; phase < opt.phases; phase++) {
		unsigned long n = per_phase;

		if (phase == opt.phases - 1u) {
			n = opt.ops - per_phase * (opt.phases - 1u);
		}
		for (unsigned long k = 0; k < n; k++) {
			w->op++;
			worker_op(w);
		}
		check_all_live(w, "at a quiescent point");
		barrier_wait(phase);
	}
	/* Release everything this thread holds. */
	char who[48];

	worker_fail_context(w, who, sizeof(who));
	while (w->nlive > 0) {
		free_block(&w->live[--w->nlive], who);
		w->stats.frees++;
	}
}

/* ---- the main thread ------------------------------------------------------ */

struct heap_check {
	struct sys_memory_stats stats;
	bool valid;
};

static struct heap_check check_heap(struct k_heap *heap)
{
	struct heap_check c = {0};
	k_spinlock_key_t key = k_spin_lock(&heap->lock);

	c.valid = sys_heap_validate(&heap->heap);
	(void)sys_heap_runtime_stats_get(&heap->heap, &c.stats);
	k_spin_unlock(&heap->lock, key);
	return c;
}

static void check_quiescent(unsigned int phase, size_t kheap_total,
			    size_t system_total)
{
	char who[48];
	unsigned int in_exchange = 0;

	snprintf(who, sizeof(who), "main, phase %u", phase + 1u);
	k_spinlock_key_t key = k_spin_lock(&exchange_lock);

	for (unsigned int i = 0; i < EXCHANGE_SLOTS; i++) {
		if (exchange[i].mem != NULL) {
			check_block(&exchange[i], who, "in the exchange");
			in_exchange++;
		}
	}
	k_spin_unlock(&exchange_lock, key);

	struct heap_check kh = check_heap(&stress_heap);
	struct heap_check sh = check_heap(&_system_heap);

	if (!kh.valid) {
		stress_fail("%s: sys_heap_validate(k_heap) failed", who);
	}
	if (!sh.valid) {
		stress_fail("%s: sys_heap_validate(system heap) failed", who);
	}
	if (kh.stats.free_bytes + kh.stats.allocated_bytes != kheap_total ||
	    sh.stats.free_bytes + sh.stats.allocated_bytes != system_total) {
		stress_fail("%s: free + allocated bytes changed (k_heap %zu + "
			    "%zu != %zu, system %zu + %zu != %zu)",
			    who, kh.stats.free_bytes, kh.stats.allocated_bytes,
			    kheap_total, sh.stats.free_bytes,
			    sh.stats.allocated_bytes, system_total);
	}
	if (opt.verbose) {
		printf("stress:   phase %u/%u ok: k_heap %zu of %zu bytes "
		       "allocated, system heap %zu of %zu, %u blocks in the "
		       "exchange\n",
		       phase + 1u, opt.phases, kh.stats.allocated_bytes,
		       kheap_total, sh.stats.allocated_bytes, system_total,
		       in_exchange);
		fflush(stdout);
	}
}

static double wall_seconds(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static void configure_sim(uint64_t seed)
{
	struct sim_config c;

	sim_config_default(&c);
	c.mode = opt.mode;
	c.clock = opt.clock;
	c.seed = seed;
	c.ties = SIM_TIES_RANDOM;
	c.preempt_percent = opt.mode == SIM_MODE_DETERMINISTIC ? opt.preempt
							       : 0u;
	c.quiet = true;
	int rc = sim_configure(&c);

	if (rc != 0) {
		stress_fail("sim_configure: %d", rc);
	}
}

static void add_stats(struct stats *sum, const struct stats *s)
{
	sum->ops += s->ops;
	sum->allocs += s->allocs;
	sum->alloc_failed += s->alloc_failed;
	sum->frees += s->frees;
	sum->reallocs += s->reallocs;
	sum->realloc_failed += s->realloc_failed;
	sum->kmalloc_allocs += s->kmalloc_allocs;
	sum->handed += s->handed;
	sum->received += s->received;
	sum->timed += s->timed;
	sum->timed_ok += s->timed_ok;
	sum->timed_out += s->timed_out;
	sum->offloads += s->offloads;
	sum->isr_frees += s->isr_frees;
	sum->isr_allocs += s->isr_allocs;
}

/* One run with one seed; returns the operations done. */
static uint64_t run_once(uint64_t seed)
{
	run_seed = seed;
	configure_sim(seed);
	printf("stress: seed=0x%016" PRIx64 " mode=%s clock=%s threads=%u "
	       "ops=%lu phases=%u heap=%zu%s\n",
	       seed,
	       opt.mode == SIM_MODE_PARALLEL ? "parallel" : "deterministic",
	       opt.clock == SIM_CLOCK_REAL ? "real" : "virtual", opt.threads,
	       opt.ops, opt.phases, opt.heap_bytes, opt.isr ? "" : " no-isr");
	print_replay(stdout);
	fflush(stdout);

	/* The system heap initialises on first use. */
	k_free(k_malloc(1));
	struct heap_check sys0 = check_heap(&_system_heap);
	size_t system_total =
		sys0.stats.free_bytes + sys0.stats.allocated_bytes;

	if (k_heap_init(&stress_heap, region, opt.heap_bytes) != 0) {
		stress_fail("k_heap_init(%zu bytes) failed", opt.heap_bytes);
	}
	struct heap_check kh0 = check_heap(&stress_heap);
	size_t kheap_total = kh0.stats.free_bytes;

	if (!kh0.valid || kh0.stats.allocated_bytes != 0u) {
		stress_fail("fresh k_heap is not empty and valid");
	}

	memset(exchange, 0, sizeof(exchange));
	memset(&exchange_lock, 0, sizeof(exchange_lock));
	exchange_closed = false;
	k_sem_init(&arrived, 0, K_SEM_MAX_LIMIT);
	k_sem_init(&go[0], 0, K_SEM_MAX_LIMIT);
	k_sem_init(&go[1], 0, K_SEM_MAX_LIMIT);
	test_rng_seed(&isr_rng, test_mix64(seed ^ 0x1525u));
	isr_next_id = 0;
	atomic_store(&isr_frees, 0);
	atomic_store(&isr_allocs, 0);

	int timer = -1;

	if (opt.isr) {
		timer = sim_timer_irq_register(timer_isr, NULL, 1);
		if (timer < 0) {
			stress_fail("sim_timer_irq_register: %d", timer);
		}
	}

	double t0 = wall_seconds();

	for (unsigned int i = 0; i < opt.threads; i++) {
		struct worker *w = &workers[i];

		memset(w, 0, sizeof(*w));
		w->index = i;
		test_rng_seed(&w->rng, test_mix64(seed + i + 1u));
		k_thread_create(&w->thread, worker_stacks[i],
				K_THREAD_STACK_SIZEOF(worker_stacks[i]),
				worker_main, w, NULL, NULL, WORKER_PRIO, 0,
				K_NO_WAIT);
	}
	for (unsigned int phase = 0; phase < opt.phases; phase++) {
		for (unsigned int i = 0; i < opt.threads; i++) {
			(void)k_sem_take(&arrived, K_FOREVER);
		}
		check_quiescent(phase, kheap_total, system_total);
		for (unsigned int i = 0; i < opt.threads; i++) {
			k_sem_give(&go[phase % 2u]);
		}
	}
	for (unsigned int i = 0; i < opt.threads; i++) {
		if (k_thread_join(&workers[i].thread, K_FOREVER) != 0) {
			stress_fail("k_thread_join(worker %u) failed", i);
		}
	}

	/* Close the exchange, stop the timer, wait for a handler still
	 * running on the timer CPU, then free what is left. */
	k_spinlock_key_t key = k_spin_lock(&exchange_lock);

	exchange_closed = true;
	k_spin_unlock(&exchange_lock, key);
	if (timer >= 0) {
		(void)sim_timer_irq_unregister(timer);
	}
	while (atomic_load(&isr_active) != 0) {
		k_msleep(1);
	}
	for (unsigned int i = 0; i < EXCHANGE_SLOTS; i++) {
		if (exchange[i].mem != NULL) {
			free_block(&exchange[i], "main, final drain");
		}
	}
	double elapsed = wall_seconds() - t0;

	struct heap_check kh = check_heap(&stress_heap);
	struct heap_check sh = check_heap(&_system_heap);

	if (!kh.valid || !sh.valid) {
		stress_fail("final: sys_heap_validate failed (k_heap %d, "
			    "system heap %d)",
			    kh.valid, sh.valid);
	}
	if (kh.stats.free_bytes != kheap_total ||
	    kh.stats.allocated_bytes != 0u) {
		stress_fail("final: k_heap has %zu free (want %zu), %zu "
			    "allocated (want 0)",
			    kh.stats.free_bytes, kheap_total,
			    kh.stats.allocated_bytes);
	}
	if (sh.stats.free_bytes != sys0.stats.free_bytes ||
	    sh.stats.allocated_bytes != sys0.stats.allocated_bytes) {
		stress_fail("final: system heap has %zu free, %zu allocated "
			    "(want %zu, %zu)",
			    sh.stats.free_bytes, sh.stats.allocated_bytes,
			    sys0.stats.free_bytes, sys0.stats.allocated_bytes);
	}

	struct stats sum = {0};

	for (unsigned int i = 0; i < opt.threads; i++) {
		add_stats(&sum, &workers[i].stats);
	}
	unsigned long long tf = atomic_load(&isr_frees);
	unsigned long long ta = atomic_load(&isr_allocs);

	printf("stress: ok seed=0x%016" PRIx64 " ops=%" PRIu64
	       " time=%.2fs rate=%.0f ops/s\n",
	       seed, sum.ops, elapsed,
	       elapsed > 0 ? (double)sum.ops / elapsed : 0.0);
	printf("stress:   allocs %" PRIu64 " (k_malloc family %" PRIu64
	       ", failed %" PRIu64 "), frees %" PRIu64 ", reallocs %" PRIu64
	       " (failed %" PRIu64 "), handed on %" PRIu64 ", received %" PRIu64
	       "\n",
	       sum.allocs, sum.kmalloc_allocs, sum.alloc_failed, sum.frees,
	       sum.reallocs, sum.realloc_failed, sum.handed, sum.received);
	printf("stress:   timed allocs %" PRIu64 " (succeeded after a failed "
	       "probe %" PRIu64 ", timed out %" PRIu64 "), irq_offload %" PRIu64
	       " (frees %" PRIu64 ", allocs %" PRIu64 "), timer ISR frees %llu,"
	       " allocs %llu, peak k_heap %zu of %zu bytes\n",
	       sum.timed, sum.timed_ok, sum.timed_out, sum.offloads,
	       sum.isr_frees, sum.isr_allocs, tf, ta,
	       kh.stats.max_allocated_bytes, kheap_total);
	fflush(stdout);
	return sum.ops;
}

/* ---- options ------------------------------------------------------------ */

static void usage(FILE *out)
{
	fprintf(out,
		"usage: %s [--threads N] [--ops N] [--seed S] [--duration S]\n"
		"          [--mode parallel|deterministic] [--clock real|virtual]\n"
		"          [--phases N] [--heap-bytes N] [--preempt P] [--no-isr]\n"
		"          [--verbose]\n"
		"environment: KHEAP_STRESS_THREADS, KHEAP_STRESS_OPS, "
		"KHEAP_STRESS_SEED,\n"
		"             KHEAP_STRESS_DURATION, KHEAP_STRESS_MODE, "
		"KHEAP_STRESS_CLOCK\n",
		argv0);
}

static void __attribute__((__noreturn__))
bad_option(const char *what, const char *value)
{
	fprintf(stderr, "%s: bad %s '%s'\n", argv0, what, value);
	usage(stderr);
	exit(2);
}

static unsigned long parse_ulong(const char *what, const char *text,
				 unsigned long min, unsigned long max)
{
	char *end = NULL;

	errno = 0;
	unsigned long v = strtoul(text, &end, 0);

	if (errno != 0 || end == text || *end != '\0' || text[0] == '-' ||
	    v < min || v > max) {
		bad_option(what, text);
	}
	return v;
}

static void set_option(const char *name, const char *value)
{
	if (strcmp(name, "threads") == 0) {
		opt.threads =
			(unsigned int)parse_ulong(name, value, 1, MAX_THREADS);
	} else if (strcmp(name, "ops") == 0) {
		opt.ops = parse_ulong(name, value, 1, ULONG_MAX);
	} else if (strcmp(name, "seed") == 0) {
		if (!sim_parse_seed(value, &opt.seed)) {
			bad_option(name, value);
		}
		opt.seed_given = true;
	} else if (strcmp(name, "duration") == 0) {
		opt.duration_s = parse_ulong(name, value, 0, 1ul << 30);
	} else if (strcmp(name, "mode") == 0) {
		if (strcmp(value, "parallel") == 0) {
			opt.mode = SIM_MODE_PARALLEL;
		} else if (strcmp(value, "deterministic") == 0) {
			opt.mode = SIM_MODE_DETERMINISTIC;
		} else {
			bad_option(name, value);
		}
	} else if (strcmp(name, "clock") == 0) {
		if (strcmp(value, "real") == 0) {
			opt.clock = SIM_CLOCK_REAL;
		} else if (strcmp(value, "virtual") == 0) {
			opt.clock = SIM_CLOCK_VIRTUAL;
		} else {
			bad_option(name, value);
		}
		opt.clock_given = true;
	} else if (strcmp(name, "phases") == 0) {
		opt.phases = (unsigned int)parse_ulong(name, value, 1, 100000);
	} else if (strcmp(name, "heap-bytes") == 0) {
		opt.heap_bytes = parse_ulong(name, value, 256, MAX_HEAP_BYTES);
	} else if (strcmp(name, "preempt") == 0) {
		opt.preempt = (unsigned int)parse_ulong(name, value, 0, 100);
	} else {
		fprintf(stderr, "%s: unknown option '--%s'\n", argv0, name);
		usage(stderr);
		exit(2);
	}
}

static void parse_options(int argc, char **argv)
{
	static const char *const env[][2] = {
		{"KHEAP_STRESS_THREADS", "threads"},
		{"KHEAP_STRESS_OPS", "ops"},
		{"KHEAP_STRESS_SEED", "seed"},
		{"KHEAP_STRESS_DURATION", "duration"},
		{"KHEAP_STRESS_MODE", "mode"},
		{"KHEAP_STRESS_CLOCK", "clock"},
	};

	for (size_t i = 0; i < sizeof(env) / sizeof(env[0]); i++) {
		const char *v = getenv(env[i][0]);

		if (v != NULL && v[0] != '\0') {
			set_option(env[i][1], v);
		}
	}
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];

		if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
			usage(stdout);
			exit(0);
		} else if (strcmp(a, "--no-isr") == 0) {
			opt.isr = false;
		} else if (strcmp(a, "--verbose") == 0) {
			opt.verbose = true;
		} else if (strncmp(a, "--", 2) == 0 && i + 1 < argc) {
			set_option(a + 2, argv[++i]);
		} else {
			fprintf(stderr, "%s: unexpected argument '%s'\n", argv0,
				a);
			usage(stderr);
			exit(2);
		}
	}
	if (!opt.clock_given) {
		opt.clock = opt.mode == SIM_MODE_PARALLEL ? SIM_CLOCK_REAL
							  : SIM_CLOCK_VIRTUAL;
	}
	if (opt.phases > opt.ops) {
		opt.phases = (unsigned int)opt.ops;
	}
}

int main(int argc, char **argv)
{
	argv0 = argv[0];
	parse_options(argc, argv);
	/* A core assert prints the seed and the replay line first. */
	test_failure_context_set(print_failure_context);

	uint64_t seed = opt.seed_given ? opt.seed : test_seed_random();
	double start = wall_seconds();
	uint64_t total = 0;
	unsigned int runs = 0;

	do {
		total += run_once(seed);
		runs++;
		seed = test_mix64(seed + 0x9e3779b97f4a7c15u);
	} while (opt.duration_s > 0 &&
		 wall_seconds() - start < (double)opt.duration_s);

	double elapsed = wall_seconds() - start;

	printf("stress: PASSED %u run%s, %" PRIu64
	       " ops in %.2f s (%.0f ops/s)\n",
	       runs, runs == 1 ? "" : "s", total, elapsed,
	       elapsed > 0 ? (double)total / elapsed : 0.0);
	return 0;
}
