/* SPDX-License-Identifier: Apache-2.0 */
/*
 * W3 fill-to-failure utilization and kheap's metadata figures.
 *
 * W3: 256 KiB region, requests log-uniform 8 B..4 KiB. Op i allocates with
 * probability p(i) = 0.5 + 0.1 * min(1, i / W3_RAMP_OPS) and otherwise
 * frees a random live block, so the pressure rises until the first
 * allocation fails; utilization is then live requested bytes / region
 * bytes. The same rule then runs W3_STEADY_OPS more ops (at p = 0.6):
 * steady-state utilization is the mean over those ops, and the success
 * share is the fraction of allocation attempts that succeed.
 *
 * For the first seed the live utilization is also printed every
 * W3_TRACE_EVERY ops (W3TRACE lines: the utilization-over-time plot).
 *
 * The op list (alloc or free, request size, a random number) is generated
 * first from the seed; "a random live block" is live[rnd % live_count] of
 * the allocator's own live list, so allocators agree exactly up to their
 * first failure and each keeps a meaningful live set afterwards.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include <zephyr/sys/sys_heap.h>

#include "bench.h"
#include "bench_kheap.h"
#include "prng.h"
#include "workload.h"

/* The region and largest request of W3 as defined; `util --heap BYTES`
 * runs it on a smaller region with requests scaled to it (up to
 * BYTES / W3_REGION_PER_MAX_SIZE), to show utilization at other sizes. */
#define W3_REGION_BYTES (256u * 1024u)
/* Below 4 KiB the largest request (BYTES / 64) nears the smallest (8 B)
 * and a region holds a few dozen blocks: no longer W3's mix. */
#define W3_MIN_REGION_BYTES (4u * 1024u)
#define W3_MIN_SIZE 8u
#define W3_REGION_PER_MAX_SIZE 64u
#define W3_RAMP_OPS 10000u
#define W3_P_START 0.5
#define W3_P_END 0.6
#define W3_SEEDS 20u
#define W3_OPS 400000u
#define W3_TRACE_EVERY 250u

struct w3_op {
	uint32_t size; /* 0: free */
	uint32_t rnd;
};

struct w3_result {
	double util_first;
	size_t ops_to_failure;
	uint32_t fail_size;
	size_t live_blocks;
	size_t largest_free;
	double steady_util;
	double steady_success;
	double steady_success_bytes;
};

static void w3_make(struct w3_op *ops, size_t n, uint64_t seed, size_t ramp_ops,
		    uint32_t max_size)
{
	struct prng r;

	prng_seed(&r, seed);
	for (size_t i = 0; i < n; i++) {
		double t = (double)i / (double)ramp_ops;
		double p = W3_P_START +
			   (W3_P_END - W3_P_START) * (t < 1.0 ? t : 1.0);
		bool alloc = prng_unit(&r) < p;
		uint32_t size = wl_log_uniform(&r, W3_MIN_SIZE, max_size);

		ops[i].size = alloc ? size : 0u;
		ops[i].rnd = (uint32_t)(prng_next(&r) >> 32);
	}
}

static void w3_run(const struct bench_allocator *a, const struct w3_op *ops,
		   size_t n, size_t steady_ops, void *region,
		   size_t region_bytes, struct w3_result *res,
		   uint64_t trace_seed)
{
	static void *live[W3_REGION_BYTES / 8u];
	static uint32_t live_size[W3_REGION_BYTES / 8u];
	size_t nlive = 0;
	double live_bytes = 0.0;
	size_t first = n;
	double util_sum = 0.0;
	size_t attempts = 0, successes = 0;
	double bytes_tried = 0.0, bytes_got = 0.0;

	memset(res, 0, sizeof(*res));
	if (a->init(region, region_bytes) != 0) {
		bench_die("%s: init failed", a->name);
	}
	for (size_t i = 0; i < n; i++) {
		if (first != n && i > first + steady_ops) {
			break;
		}
		if (ops[i].size != 0u) {
			void *mem = a->alloc(ops[i].size);

			if (first != n) {
				attempts++;
				bytes_tried += ops[i].size;
			}
			if (mem == NULL) {
				if (first == n) {
					first = i;
					res->util_first = live_bytes /
							  (double)region_bytes;
					res->ops_to_failure = i;
					res->fail_size = ops[i].size;
					res->live_blocks = nlive;
					if (a == &bench_adapter_kheap) {
						res->largest_free =
							sys_heap_max_alloc_bytes(
								bench_kheap_heap());
					}
				}
			} else {
				if (nlive == sizeof(live) / sizeof(live[0])) {
					bench_die("W3: too many live blocks");
				}
				memset(mem, 0x5a, 8);
				live[nlive] = mem;
				live_size[nlive++] = ops[i].size;
				live_bytes += ops[i].size;
				if (first != n) {
					successes++;
					bytes_got += ops[i].size;
				}
			}
		} else if (nlive != 0u) {
			size_t k = ops[i].rnd % nlive;

			a->free(live[k]);
			live_bytes -= live_size[k];
			nlive--;
			live[k] = live[nlive];
			live_size[k] = live_size[nlive];
		}
		if (first != n && i > first) {
			util_sum += live_bytes / (double)region_bytes;
		}
		if (trace_seed != 0u && i % W3_TRACE_EVERY == 0u) {
			printf("W3TRACE alloc=%s seed=%#llx op=%zu "
			       "util_pct=%.2f failed=%d\n",
			       a->name, (unsigned long long)trace_seed, i,
			       100.0 * live_bytes / (double)region_bytes,
			       first != n);
		}
	}
	if (first == n) {
		bench_die("W3: %s never failed an allocation", a->name);
	}
	if (a->check != NULL && !a->check()) {
		bench_die("%s: heap check failed after W3", a->name);
	}
	res->steady_util = util_sum / (double)steady_ops;
	res->steady_success = attempts ? (double)successes / attempts : 0.0;
	res->steady_success_bytes = bytes_tried ? bytes_got / bytes_tried : 0.0;
	while (nlive != 0u) {
		a->free(live[--nlive]);
	}
}

/* W3 over every seed for one allocator; prints W3 lines and a W3SUM. */
static void w3_allocator(const struct bench_allocator *a, struct w3_op *ops,
			 unsigned int seeds, size_t ramp, size_t steady_ops,
			 void *region, size_t region_bytes)
{
	uint32_t max_size = (uint32_t)(region_bytes / W3_REGION_PER_MAX_SIZE);

	double sum = 0.0, min = 2.0, max = 0.0;
	double steady = 0.0, success = 0.0, success_bytes = 0.0;

	for (unsigned int s = 0; s < seeds; s++) {
		struct w3_result res;
		uint64_t seed = 0x57330000u + s;

		w3_make(ops, W3_OPS, seed, ramp, max_size);
		w3_run(a, ops, W3_OPS, steady_ops, region, region_bytes, &res,
		       s == 0u ? seed : 0u);
		printf("W3 alloc=%s seed=%#llx util_first_pct=%.2f "
		       "ops_to_failure=%zu fail_size=%u "
		       "live_blocks=%zu largest_free=%zu "
		       "steady_util_pct=%.2f steady_success_pct=%.2f "
		       "steady_success_bytes_pct=%.2f\n",
		       a->name, (unsigned long long)seed,
		       100.0 * res.util_first, res.ops_to_failure,
		       res.fail_size, res.live_blocks, res.largest_free,
		       100.0 * res.steady_util, 100.0 * res.steady_success,
		       100.0 * res.steady_success_bytes);
		sum += res.util_first;
		min = res.util_first < min ? res.util_first : min;
		max = res.util_first > max ? res.util_first : max;
		steady += res.steady_util;
		success += res.steady_success;
		success_bytes += res.steady_success_bytes;
	}
	printf("W3SUM alloc=%s seeds=%u region=%zu max_size=%u ramp_ops=%zu "
	       "steady_ops=%zu "
	       "util_first_mean_pct=%.2f util_first_min_pct=%.2f "
	       "util_first_max_pct=%.2f steady_util_mean_pct=%.2f "
	       "steady_success_mean_pct=%.2f "
	       "steady_success_bytes_mean_pct=%.2f\n",
	       a->name, seeds, region_bytes, max_size, ramp, steady_ops,
	       100.0 * sum / seeds, 100.0 * min, 100.0 * max,
	       100.0 * steady / seeds, 100.0 * success / seeds,
	       100.0 * success_bytes / seeds);
}

int bench_util(const struct bench_options *opt)
{
	size_t steady_ops = opt->quick ? 20000u : 100000u;
	size_t ramp = opt->ramp_ops ? opt->ramp_ops : W3_RAMP_OPS;
	unsigned int seeds = opt->seeds ? (unsigned int)opt->seeds : W3_SEEDS;
	size_t region_bytes = opt->heap_bytes ? opt->heap_bytes
					      : W3_REGION_BYTES;
	struct w3_op *ops;
	void *region;

	/* The live-block table holds a region's worth of 8-byte blocks. */
	if (region_bytes < W3_MIN_REGION_BYTES ||
	    region_bytes > W3_REGION_BYTES) {
		fprintf(stderr, "kheap_bench: util --heap: %u to %u bytes\n",
			W3_MIN_REGION_BYTES, W3_REGION_BYTES);
		return 2;
	}
	ops = malloc(W3_OPS * sizeof(*ops));
	region = bench_region(region_bytes);
	if (ops == NULL) {
		bench_die("out of memory");
	}
	for (size_t k = 0; bench_adapters[k] != NULL; k++) {
		const struct bench_allocator *a = bench_adapters[k];

		if (!a->region_bounded) {
			/* The reason is the rest of the line. */
			printf("W3SKIP alloc=%s reason=%s\n", a->name,
			       a->w3_note ? a->w3_note : "not region-bounded");
			continue;
		}
		w3_allocator(a, ops, seeds, ramp, steady_ops, region,
			     region_bytes);
	}
	for (size_t k = 0; !opt->no_reference && bench_references[k] != NULL;
	     k++) {
		w3_allocator(bench_references[k], ops, seeds, ramp, steady_ops,
			     region, region_bytes);
	}
	free(ops);
	bench_region_free(region, region_bytes);
	return 0;
}

/* Header and per-allocation overhead of kheap in a steady workload. */
static void overhead(const struct workload_spec *spec)
{
	const struct bench_allocator *a = &bench_adapter_kheap;
	struct op_list list;
	struct replay_stats st;
	struct sys_memory_stats ms;
	void *region = bench_region(spec->region_bytes);

	op_list_make(&list, spec);
	void **slots = calloc(list.slots, sizeof(void *));
	uint32_t *want = calloc(list.slots, sizeof(uint32_t));

	if (slots == NULL || want == NULL) {
		bench_die("out of memory");
	}
	memset(&st, 0, sizeof(st));
	a->init(region, spec->region_bytes);
	replay(a, &list, slots, 0, list.count, &st);
	for (size_t i = 0; i < list.count; i++) {
		if (list.ops[i].kind != OP_FREE) {
			want[list.ops[i].slot] = list.ops[i].size;
		}
	}
	/* A failed realloc keeps the old size: replays here never fail
	 * one (checked below). */
	size_t live = 0, requested = 0;

	for (uint32_t s = 0; s < list.slots; s++) {
		if (slots[s] != NULL) {
			live++;
			requested += want[s];
		}
	}
	sys_heap_runtime_stats_get(bench_kheap_heap(), &ms);
	printf("OVERHEAD workload=%s region=%zu live_blocks=%zu "
	       "requested=%zu allocated=%zu per_block=%.2f "
	       "failed_allocs=%zu failed_reallocs=%zu\n",
	       spec->name, spec->region_bytes, live, requested,
	       ms.allocated_bytes,
	       live ? (double)(ms.allocated_bytes - requested) / live : 0.0,
	       st.failed_allocs, st.failed_reallocs);
	replay_release(a, &list, slots);
	free(slots);
	free(want);
	op_list_free(&list);
	bench_region_free(region, spec->region_bytes);
}

static int cmp_addr(const void *x, const void *y)
{
	uintptr_t a = *(const uintptr_t *)x;
	uintptr_t b = *(const uintptr_t *)y;

	return (a > b) - (a < b);
}

/*
 * Any adapter's metadata on the region of a workload. The minimum block is
 * the smallest distance between 64 one-byte blocks allocated in a row (on
 * kheap's fresh heap they are adjacent; size-class allocators give the
 * smallest class's slots; glibc may reuse cached chunks, which are never
 * closer than its minimum chunk). In-band bytes = minimum block minus the
 * usable size of a one-byte block: the header that lies between blocks
 * (kheap's header, glibc's size field; 0 for allocators that keep their
 * metadata elsewhere). Then the workload runs to its end and, over the
 * live blocks, overhead per block = (sum of usable sizes - sum of requests)
 * / blocks + in-band bytes. Out-of-band metadata (slab bitmaps, page
 * descriptors) is not counted: no common API reports it per block.
 */
static void alloc_meta(const struct bench_allocator *a,
		       const struct workload_spec *spec)
{
	enum {
		PROBES = 64
	};
	uintptr_t addr[PROBES];
	void *probe[PROBES];
	struct op_list list;
	struct replay_stats st;
	void *region = bench_region(spec->region_bytes);

	if (a->init(region, spec->region_bytes) != 0) {
		bench_die("%s: init failed", a->name);
	}
	for (size_t i = 0; i < PROBES; i++) {
		probe[i] = a->alloc(1);
		if (probe[i] == NULL) {
			bench_die("%s: 1-byte allocation failed", a->name);
		}
		addr[i] = (uintptr_t)probe[i];
	}
	size_t usable_1 = a->usable_size(probe[0]);

	qsort(addr, PROBES, sizeof(addr[0]), cmp_addr);
	size_t min_block = SIZE_MAX;

	for (size_t i = 1; i < PROBES; i++) {
		size_t d = (size_t)(addr[i] - addr[i - 1u]);

		min_block = d != 0u && d < min_block ? d : min_block;
	}
	for (size_t i = 0; i < PROBES; i++) {
		a->free(probe[i]);
	}
	size_t in_band = min_block > usable_1 ? min_block - usable_1 : 0u;

	op_list_make(&list, spec);
	void **slots = calloc(list.slots, sizeof(void *));
	uint32_t *want = calloc(list.slots, sizeof(uint32_t));

	if (slots == NULL || want == NULL) {
		bench_die("out of memory");
	}
	memset(&st, 0, sizeof(st));
	replay(a, &list, slots, 0, list.count, &st);
	for (size_t i = 0; i < list.count; i++) {
		if (list.ops[i].kind != OP_FREE) {
			want[list.ops[i].slot] = list.ops[i].size;
		}
	}
	size_t live = 0, requested = 0, usable = 0;

	for (uint32_t s = 0; s < list.slots; s++) {
		if (slots[s] != NULL) {
			live++;
			requested += want[s];
			usable += a->usable_size(slots[s]);
		}
	}
	printf("ALLOCMETA alloc=%s workload=%s region=%zu min_block=%zu "
	       "usable_1=%zu in_band=%zu live_blocks=%zu requested=%zu "
	       "usable=%zu rounding_per_block=%.2f per_block=%.2f "
	       "failed_allocs=%zu failed_reallocs=%zu\n",
	       a->name, spec->name, spec->region_bytes, min_block, usable_1,
	       in_band, live, requested, usable,
	       live ? (double)(usable - requested) / live : 0.0,
	       live ? (double)(usable - requested) / live + (double)in_band
		    : 0.0,
	       st.failed_allocs, st.failed_reallocs);
	replay_release(a, &list, slots);
	free(slots);
	free(want);
	op_list_free(&list);
	bench_region_free(region, spec->region_bytes);
}

int bench_meta(const struct bench_options *opt)
{
	static const size_t sizes[] = {
		16u << 10, 256u << 10, (256u << 10) + 8u,
		4u << 20,  64u << 20,  1024u << 20,
	};

	for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		size_t bytes = sizes[i];
		/* Not pre-faulted: init touches only the control block. */
		void *region = mmap(NULL, bytes, PROT_READ | PROT_WRITE,
				    MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE,
				    -1, 0);
		struct sys_heap h;
		struct sys_memory_stats ms;

		if (region == MAP_FAILED) {
			bench_die("cannot map %zu bytes", bytes);
		}
		if (sys_heap_init(&h, region, bytes) != 0) {
			bench_die("sys_heap_init(%zu) failed", bytes);
		}
		sys_heap_runtime_stats_get(&h, &ms);
		size_t max_alloc = sys_heap_max_alloc_bytes(&h);
		/* Two 1-byte blocks split from the front of the one free
		 * block lie next to each other: their distance is the
		 * minimum block. */
		unsigned char *p1 = sys_heap_alloc(&h, 1);
		unsigned char *p2 = sys_heap_alloc(&h, 1);

		if (p1 == NULL || p2 == NULL) {
			bench_die("1-byte allocations failed");
		}
		size_t min_block = (size_t)(p2 > p1 ? p2 - p1 : p1 - p2);
		size_t min_usable = sys_heap_usable_size(&h, p1);

		printf("META region=%zu header_bytes=%zu min_block_bytes=%zu "
		       "min_usable_bytes=%zu free_after_init=%zu "
		       "control_bytes=%zu control_pct=%.4f "
		       "max_alloc_after_init=%zu\n",
		       bytes, sys_heap_header_bytes(&h), min_block, min_usable,
		       ms.free_bytes, bytes - ms.free_bytes,
		       100.0 * (double)(bytes - ms.free_bytes) / bytes,
		       max_alloc);
		munmap(region, bytes);
	}
	overhead(&workload_w1);
	overhead(&workload_w2);

	const struct bench_allocator *active[16];

	bench_active_adapters(active, opt->alloc);
	for (size_t k = 0; active[k] != NULL; k++) {
		if (active[k]->usable_size == NULL) {
			continue;
		}
		alloc_meta(active[k], &workload_w1);
		alloc_meta(active[k], &workload_w2);
	}
	return 0;
}
