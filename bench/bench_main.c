/* SPDX-License-Identifier: Apache-2.0 */
/*
 * kheap_bench: the benchmark driver behind scripts/bench.
 *
 *   kheap_bench time  [--quick] [--rounds N] [--only NAME] [--alloc LIST]
 *       ns/op of W1, W2, W4, W5 and W6 for every adapter (or those of
 *       LIST, comma-separated), interleaved rounds.
 *   kheap_bench util  [--quick] [--ramp N] [--seeds N] [--no-reference]
 *                     [--heap BYTES]
 *       W3 fill-to-failure over 20 seeds (--ramp: pressure ramp length in
 *       ops, to study how the figure depends on it; --seeds: more seeds
 *       for comparing policies), for kheap and the O(n) reference
 *       policies of adapter_ref.c (--no-reference: kheap only); --heap:
 *       a region of 4 KiB to 256 KiB instead of W3's 256 KiB, requests
 *       up to BYTES / 64 instead of 4 KiB (0: W3's own).
 *   kheap_bench meta [--alloc LIST]
 *       kheap's header bytes and control-block overhead; every adapter's
 *       minimum block and overhead per live block after W1 and W2.
 *   kheap_bench calls --heap BYTES [--ops N]
 *       replays the mixed workload on kheap (run it under callgrind).
 *   kheap_bench worst --heap BYTES [--warm N] [--ops N] [--calls FILE]
 *       worst single call in instructions, by ptrace single-stepping;
 *       --trace OP also prints the address of every instruction of that
 *       op's call (the op named by max_at=), for objdump or addr2line;
 *       --calls FILE writes every measured call's count.
 *   kheap_bench control [--max BYTES]
 *       bookkeeping: the minimum region, and region minus the largest
 *       single block on a fresh heap at every size of the sweep.
 *   kheap_bench replay --alloc NAME --workload W [--ops N]
 *       replays the first N ops of workload W through one adapter, each
 *       call through a named trampoline (run it under callgrind:
 *       bench/callgrind_summary.py ... replay_calls call_alloc ...).
 *   kheap_bench list [--alloc LIST]
 *       the adapters, and whether each can be loaded here.
 *
 * Every result is one line "RECORD key=value ..." on stdout.
 */
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bench.h"
#include "workload.h"

uint64_t bench_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

uint64_t bench_cpu_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

void bench_pin_cpu(void)
{
	cpu_set_t set;
	int cpu = sched_getcpu();

	if (cpu < 0) {
		return;
	}
	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	(void)sched_setaffinity(0, sizeof(set), &set);
}

size_t bench_mixed_warm_ops(size_t heap_bytes)
{
	/* Net growth is about a third of a block per op below the target:
	 * three ops per live block, with 50% to spare. */
	double blocks =
		0.5 * (double)heap_bytes / workload_mean_size(&workload_mixed);

	return (size_t)(blocks * 4.5) + 2000u;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a;
	double y = *(const double *)b;

	return (x > y) - (x < y);
}

static int cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a;
	uint32_t y = *(const uint32_t *)b;

	return (x > y) - (x < y);
}

void bench_sort_doubles(double *v, size_t n)
{
	qsort(v, n, sizeof(*v), cmp_double);
}

void bench_sort_u32(uint32_t *v, size_t n)
{
	qsort(v, n, sizeof(*v), cmp_u32);
}

static void usage(void)
{
	fputs("usage: kheap_bench time|util|meta|calls|worst|replay|list|control "
	      "[--quick] [--rounds N] [--only W] [--heap BYTES] [--warm N] "
	      "[--ops N] [--trace OP] [--calls FILE] [--max BYTES] [--ramp N] [--seeds N] [--no-reference] "
	      "[--alloc A,B] [--workload W]\n",
	      stderr);
	exit(2);
}

static size_t number(const char *s)
{
	char *end;
	unsigned long long v = strtoull(s, &end, 0);

	if (*end == 'K' || *end == 'k') {
		v <<= 10;
		end++;
	} else if (*end == 'M' || *end == 'm') {
		v <<= 20;
		end++;
	}
	if (*s == '\0' || *end != '\0') {
		usage();
	}
	return (size_t)v;
}

int main(int argc, char **argv)
{
	struct bench_options opt;

	memset(&opt, 0, sizeof(opt));
	if (argc < 2) {
		usage();
	}
	for (int i = 2; i < argc; i++) {
		if (strcmp(argv[i], "--quick") == 0) {
			opt.quick = true;
		} else if (i + 1 < argc && strcmp(argv[i], "--rounds") == 0) {
			opt.rounds = (unsigned int)number(argv[++i]);
		} else if (i + 1 < argc && strcmp(argv[i], "--heap") == 0) {
			opt.heap_bytes = number(argv[++i]);
		} else if (i + 1 < argc && strcmp(argv[i], "--warm") == 0) {
			opt.warm_ops = number(argv[++i]);
		} else if (i + 1 < argc && strcmp(argv[i], "--ops") == 0) {
			opt.ops = number(argv[++i]);
		} else if (i + 1 < argc && strcmp(argv[i], "--trace") == 0) {
			opt.trace_op = number(argv[++i]);
		} else if (i + 1 < argc && strcmp(argv[i], "--calls") == 0) {
			opt.calls_path = argv[++i];
		} else if (i + 1 < argc && strcmp(argv[i], "--max") == 0) {
			opt.max_bytes = number(argv[++i]);
		} else if (i + 1 < argc && strcmp(argv[i], "--ramp") == 0) {
			opt.ramp_ops = number(argv[++i]);
		} else if (strcmp(argv[i], "--no-reference") == 0) {
			opt.no_reference = true;
		} else if (i + 1 < argc && strcmp(argv[i], "--seeds") == 0) {
			opt.seeds = number(argv[++i]);
		} else if (i + 1 < argc && strcmp(argv[i], "--only") == 0) {
			opt.only = argv[++i];
		} else if (i + 1 < argc && strcmp(argv[i], "--alloc") == 0) {
			opt.alloc = argv[++i];
		} else if (i + 1 < argc && strcmp(argv[i], "--workload") == 0) {
			opt.workload = argv[++i];
		} else {
			usage();
		}
	}
#ifndef NDEBUG
	fputs("kheap_bench: warning: built without NDEBUG; measure the "
	      "release preset\n",
	      stderr);
#endif
#ifdef KHEAP_ASSERT_HANDLER
	fputs("kheap_bench: warning: core asserts are on; measure the "
	      "release preset\n",
	      stderr);
#endif
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (strcmp(argv[1], "time") == 0) {
		return bench_time(&opt);
	} else if (strcmp(argv[1], "util") == 0) {
		return bench_util(&opt);
	} else if (strcmp(argv[1], "meta") == 0) {
		return bench_meta(&opt);
	} else if (strcmp(argv[1], "calls") == 0) {
		return bench_calls(&opt);
	} else if (strcmp(argv[1], "worst") == 0) {
		return bench_worst(&opt);
	} else if (strcmp(argv[1], "replay") == 0) {
		return bench_replay(&opt);
	} else if (strcmp(argv[1], "list") == 0) {
		return bench_list(&opt);
	} else if (strcmp(argv[1], "control") == 0) {
		return bench_control(&opt);
	}
	usage();
	return 2;
}
