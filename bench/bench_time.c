/* SPDX-License-Identifier: Apache-2.0 */
/*
 * ns/op of each workload for every adapter, measured in interleaved rounds
 * (kheap, glibc, jemalloc, mimalloc, kheap, glibc, ...) and reported as the
 * median round and as a ratio to kheap's median in the same run: absolute
 * times on these machines move by 15-40% between runs, same-run ratios by
 * under 10%.
 *
 * A round's time is the thread's CPU time (CLOCK_THREAD_CPUTIME_ID), not
 * wall time: the machines are shared, and wall time also counts the time
 * the benchmark waits while other processes run on its CPU, which lands
 * on whichever allocator's round it happens in. Wall-clock medians are
 * printed too (ns_wall_median).
 */
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench.h"
#include "workload.h"

#define MAX_ROUNDS 64u
#define MAX_ADAPTERS 8u

struct timed_workload {
	struct workload_spec spec;
	/* Ops replayed before the clock starts (steady state only). */
	size_t warm_ops;
};

static void run_workload(const struct timed_workload *tw, unsigned int rounds,
			 const struct bench_allocator *const *adapters)
{
	const struct workload_spec *spec = &tw->spec;
	struct op_list list;
	double ns[MAX_ADAPTERS][MAX_ROUNDS];
	double wall[MAX_ADAPTERS][MAX_ROUNDS];
	struct replay_stats stats[MAX_ADAPTERS];
	size_t nadapters = 0;
	void *region = bench_region(spec->region_bytes);

	op_list_make(&list, spec);
	void **slots = calloc(list.slots, sizeof(void *));

	if (slots == NULL) {
		bench_die("out of memory");
	}
	size_t misaligned_before[MAX_ADAPTERS];

	while (adapters[nadapters] != NULL) {
		const size_t *m = adapters[nadapters]->misaligned;

		misaligned_before[nadapters] = m != NULL ? *m : 0u;
		nadapters++;
	}
	memset(stats, 0, sizeof(stats));
	/* Round 0 is a warm-up (page faults, caches, branch predictors). */
	for (unsigned int r = 0; r <= rounds; r++) {
		for (size_t k = 0; k < nadapters; k++) {
			const struct bench_allocator *a = adapters[k];
			struct replay_stats st;

			memset(&st, 0, sizeof(st));
			if (a->init(region, spec->region_bytes) != 0) {
				bench_die("%s: init(%zu) failed", a->name,
					  spec->region_bytes);
			}
			replay(a, &list, slots, 0, tw->warm_ops, &st);
			memset(&st, 0, sizeof(st));
			uint64_t w0 = bench_now_ns();
			uint64_t t0 = bench_cpu_ns();

			replay(a, &list, slots, tw->warm_ops, list.count, &st);
			uint64_t t1 = bench_cpu_ns();
			uint64_t w1 = bench_now_ns();

			if (a->check != NULL && !a->check()) {
				bench_die("%s: heap check failed after %s",
					  a->name, spec->name);
			}
			replay_release(a, &list, slots);
			if (r == 0) {
				continue;
			}
			ns[k][r - 1] = (double)(t1 - t0) /
				       (double)(list.count - tw->warm_ops);
			wall[k][r - 1] = (double)(w1 - w0) /
					 (double)(list.count - tw->warm_ops);
			stats[k] = st;
		}
	}

	double median[MAX_ADAPTERS];
	double ratios[MAX_ROUNDS];

	for (size_t k = 0; k < nadapters; k++) {
		double sorted[MAX_ROUNDS];
		double sorted_wall[MAX_ROUNDS];

		memcpy(sorted, ns[k], rounds * sizeof(double));
		bench_sort_doubles(sorted, rounds);
		median[k] = sorted[rounds / 2];
		/* Paired: each round's ratio to kheap's run just before. */
		for (unsigned int r = 0; r < rounds; r++) {
			ratios[r] = ns[k][r] / ns[0][r];
		}
		bench_sort_doubles(ratios, rounds);
		memcpy(sorted_wall, wall[k], rounds * sizeof(double));
		bench_sort_doubles(sorted_wall, rounds);
		const size_t *m = adapters[k]->misaligned;

		/* misaligned: blocks a peer returned misaligned over all
		 * rounds (its figures for this workload are then invalid). */
		printf("TIME workload=%s alloc=%s region=%zu ops=%zu "
		       "warm_ops=%zu rounds=%u ns_median=%.2f ns_min=%.2f "
		       "ns_max=%.2f ns_wall_median=%.2f ratio=%.3f "
		       "paired_ratio=%.3f "
		       "failed_allocs=%zu failed_reallocs=%zu skipped=%zu "
		       "reallocs=%zu realloc_moved=%zu misaligned=%zu\n",
		       spec->name, adapters[k]->name, spec->region_bytes,
		       list.count - tw->warm_ops, tw->warm_ops, rounds,
		       median[k], sorted[0], sorted[rounds - 1],
		       sorted_wall[rounds / 2], median[k] / median[0],
		       ratios[rounds / 2], stats[k].failed_allocs,
		       stats[k].failed_reallocs, stats[k].skipped,
		       stats[k].reallocs, stats[k].realloc_moved,
		       m != NULL ? *m - misaligned_before[k] : 0u);
	}
	free(slots);
	op_list_free(&list);
	bench_region_free(region, spec->region_bytes);
}

int bench_time(const struct bench_options *opt)
{
	static const struct {
		const char *name;
		size_t region;
	} w5[] = {
		{"W5-16K", 16u << 10},
		{"W5-256K", 256u << 10},
		{"W5-4M", 4u << 20},
		{"W5-64M", 64u << 20},
	};
	unsigned int rounds = opt->rounds ? opt->rounds : (opt->quick ? 3 : 7);
	size_t scale = opt->quick ? 10u : 1u;
	struct timed_workload tw;

	const struct bench_allocator *adapters[MAX_ADAPTERS + 1];

	if (rounds > MAX_ROUNDS) {
		rounds = MAX_ROUNDS;
	}
	/* Before any measurement: loading a library is not timed. */
	if (bench_active_adapters(adapters, opt->alloc) > MAX_ADAPTERS) {
		bench_die("more than %u adapters", MAX_ADAPTERS);
	}
	if (adapters[0] == NULL) {
		bench_die("no allocator to measure");
	}
	/* The region a non-region-bounded allocator uses stays mapped
	 * between rounds, like kheap's pre-faulted region: no trimming. */
	mallopt(M_TRIM_THRESHOLD, 1 << 30);
	bench_pin_cpu();

	const struct workload_spec *fixed[] = {&workload_w1, &workload_w2,
					       &workload_w4, &workload_w6};

	for (size_t i = 0; i < sizeof(fixed) / sizeof(fixed[0]); i++) {
		if (opt->only != NULL && strcmp(opt->only, fixed[i]->name)) {
			continue;
		}
		tw.spec = *fixed[i];
		tw.spec.ops /= scale;
		tw.warm_ops = 0;
		run_workload(&tw, rounds, adapters);
	}
	for (size_t i = 0; i < sizeof(w5) / sizeof(w5[0]); i++) {
		if (opt->only != NULL && strcmp(opt->only, w5[i].name) &&
		    strcmp(opt->only, "W5")) {
			continue;
		}
		tw.spec = workload_w2;
		tw.spec.name = w5[i].name;
		tw.spec.region_bytes = w5[i].region;
		/* Steady state only: fill to the live target untimed, then
		 * time a fixed number of ops at every size. */
		tw.warm_ops = (size_t)(0.5 * (double)w5[i].region /
				       workload_mean_size(&tw.spec) * 4.5) +
			      2000u;
		tw.spec.ops = tw.warm_ops + 1000000u / scale;
		run_workload(&tw, rounds, adapters);
	}
	return 0;
}
