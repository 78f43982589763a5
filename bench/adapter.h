/*
 * Allocator adapters: one small table of functions per allocator, so that
 * every workload is replayed through exactly the same code whichever
 * allocator is measured. Adding an allocator is one more adapter_*.c file
 * and one line in bench_adapters[] (adapter_list.c).
 *
 * Every adapter checks the alignment of every block it returns and aborts
 * with a message if it is wrong (GUIDE §5: some allocators return
 * misaligned blocks for large alignments).
 */
#ifndef KHEAP_BENCH_ADAPTER_H
#define KHEAP_BENCH_ADAPTER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct bench_allocator {
	const char *name;
	/* True if the allocator serves only the region given to init() (so
	 * fill-to-failure utilization means something). */
	bool region_bounded;
	/* Start a fresh heap over [region, region + bytes). Allocators that
	 * are not region-bounded ignore the region. Returns 0 on success. */
	int (*init)(void *region, size_t bytes);
	void *(*alloc)(size_t bytes);
	void *(*aligned_alloc)(size_t align, size_t bytes);
	void (*free)(void *mem);
	void *(*realloc)(void *mem, size_t bytes);
	/* Optional: full consistency check after a run (not timed); returns
	 * false if the heap is corrupt. NULL if the allocator has none. */
	bool (*check)(void);
};

extern const struct bench_allocator bench_adapter_kheap;
extern const struct bench_allocator bench_adapter_glibc;
extern const struct bench_allocator bench_adapter_ref_bestfit;
extern const struct bench_allocator bench_adapter_ref_firstfit;

/* NULL-terminated list of the allocators compared by the timing runs;
 * kheap first (it is the baseline of every ratio). */
extern const struct bench_allocator *const bench_adapters[];

/* NULL-terminated list of the reference policies (adapter_ref.c): O(n)
 * allocators that only W3 runs, to show what the workload allows. */
extern const struct bench_allocator *const bench_references[];

/* Abort with a message unless the block at address mem (0: a failed
 * allocation, not checked) is a multiple of align. The address is passed as
 * an integer: the block's contents are never read. */
void bench_check_aligned(const char *who, const char *what, uintptr_t mem,
			 size_t align);

/* Abort with a message (printf-style). */
void bench_die(const char *fmt, ...)
	__attribute__((__noreturn__, __format__(__printf__, 1, 2)));

#endif /* KHEAP_BENCH_ADAPTER_H */
