/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Allocator adapters: one small table of functions per allocator, so that
 * every workload is replayed through exactly the same code whichever
 * allocator is measured. Adding an allocator is one more adapter_*.c file
 * and one line in bench_adapters[] (adapter_list.c).
 *
 * Every adapter checks the alignment of every block it returns (some
 * allocators return misaligned blocks for large alignments). kheap's
 * adapter aborts on a misaligned block: kheap is what this project tests.
 * The peers' adapters count them instead (bench_count_misaligned), so that
 * one peer's bug is reported against that peer's figures and does not stop
 * the others from being measured.
 *
 * An adapter's per-op functions call the allocator and the alignment check
 * (bench_check_aligned or bench_count_misaligned) and nothing else: under
 * callgrind, everything else they call is counted as the allocator's work
 * (kheap_bench replay, callgrind_summary.py --lib).
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
	/* Not region-bounded: why W3 does not apply, in a few words (printed
	 * in the report). */
	const char *w3_note;
	/* Optional: make the allocator usable (dlopen, dlsym, settings).
	 * Returns NULL on success, else a static message saying why the
	 * allocator cannot be measured in this process. Called once, before
	 * any other function (bench_adapter_ready()). */
	const char *(*load)(void);
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
	/* Optional: bytes usable in the live block mem (metadata figures). */
	size_t (*usable_size)(void *mem);
	/* Count of misaligned blocks this adapter returned (peers only;
	 * NULL: the adapter aborts on one instead). */
	const size_t *misaligned;
};

extern const struct bench_allocator bench_adapter_kheap;
extern const struct bench_allocator bench_adapter_glibc;
extern const struct bench_allocator bench_adapter_jemalloc;
extern const struct bench_allocator bench_adapter_mimalloc;
extern const struct bench_allocator bench_adapter_ref_bestfit;
extern const struct bench_allocator bench_adapter_ref_firstfit;
/* The allocator of a backend build (adapter_backend.c). */
extern const struct bench_allocator bench_adapter_backend;

/* NULL-terminated list of the allocators compared by the timing runs;
 * kheap first (it is the baseline of every ratio). */
extern const struct bench_allocator *const bench_adapters[];

/* NULL-terminated list of the reference policies (adapter_ref.c): O(n)
 * allocators that only W3 runs, to show what the workload allows. */
extern const struct bench_allocator *const bench_references[];

/* The allocators of bench_adapters[] that this run measures: those named
 * in filter (comma-separated; NULL: all) whose load() succeeds. For each
 * one that cannot be loaded, prints "UNAVAILABLE alloc=NAME reason=..."
 * on stdout and a line on stderr, once per process. Fills out (room for
 * every adapter plus a NULL) and returns the count. */
size_t bench_active_adapters(const struct bench_allocator **out,
			     const char *filter);

/* Load a on first use; NULL if ready, else why not (cached). */
const char *bench_adapter_ready(const struct bench_allocator *a);

/* dlopen a shared library with its symbols kept out of the process's
 * global scope, so that loading an allocator does not replace glibc's
 * malloc for the rest of the process. deep: also bind the library's own
 * references to its own definitions first (RTLD_DEEPBIND; ignored under
 * sanitizers, which refuse it). On failure returns NULL and writes why
 * into why[why_len]. */
void *bench_dlopen(const char *soname, bool deep, char *why, size_t why_len);

/* Abort with a message unless the block at address mem (0: a failed
 * allocation, not checked) is a multiple of align. The address is passed as
 * an integer: the block's contents are never read. */
void bench_check_aligned(const char *who, const char *what, uintptr_t mem,
			 size_t align);

/* The peers' check: counts a misaligned block in *count (and says so on
 * stderr the first time) instead of aborting. */
void bench_count_misaligned(size_t *count, const char *who, const char *what,
			    uintptr_t mem, size_t align);

/* Abort with a message (printf-style). */
void bench_die(const char *fmt, ...)
	__attribute__((__noreturn__, __format__(__printf__, 1, 2)));

#endif /* KHEAP_BENCH_ADAPTER_H */
