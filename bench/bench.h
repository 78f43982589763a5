/* SPDX-License-Identifier: Apache-2.0 */
/* Subcommands of kheap_bench and their shared helpers. */
#ifndef KHEAP_BENCH_BENCH_H
#define KHEAP_BENCH_BENCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct bench_options {
	bool quick;
	/* Timing rounds per allocator (0: the mode's default). */
	unsigned int rounds;
	/* Heap size and op counts for calls/worst (0: defaults). */
	size_t heap_bytes;
	size_t warm_ops;
	size_t ops;
	/* worst: print the instruction addresses of this op (0: none). */
	size_t trace_op;
	/* worst: write every measured call's count to this file. */
	const char *calls_path;
	/* control: the largest region of the sweep (0: 1 MiB). */
	size_t max_bytes;
	/* util: W3 ramp length in ops (0: the default). */
	size_t ramp_ops;
	/* util: number of W3 seeds (0: the default, 20). */
	size_t seeds;
	/* util: skip the reference allocators (--no-reference). */
	bool no_reference;
	/* Restrict the time subcommand to one workload (NULL: all). */
	const char *only;
	/* Allocators to measure, comma-separated (NULL: all). */
	const char *alloc;
	/* replay: the workload to replay (W1, W2, W4, W6, mixed). */
	const char *workload;
};

int bench_time(const struct bench_options *opt);
int bench_util(const struct bench_options *opt);
int bench_meta(const struct bench_options *opt);
int bench_calls(const struct bench_options *opt);
int bench_worst(const struct bench_options *opt);
int bench_replay(const struct bench_options *opt);
int bench_list(const struct bench_options *opt);
int bench_control(const struct bench_options *opt);

/* Monotonic clock in nanoseconds. */
uint64_t bench_now_ns(void);

/* CPU time of the calling thread in nanoseconds (user and system): the
 * time it ran, not the time it waited while others ran on its CPU. */
uint64_t bench_cpu_ns(void);

/* Pin the calling process to the CPU it is running on. */
void bench_pin_cpu(void);

/* Warm-up ops that bring the mixed workload to its steady live set at a
 * given heap size. */
size_t bench_mixed_warm_ops(size_t heap_bytes);

/* Sort helpers. */
void bench_sort_doubles(double *v, size_t n);
void bench_sort_u32(uint32_t *v, size_t n);

#endif /* KHEAP_BENCH_BENCH_H */
