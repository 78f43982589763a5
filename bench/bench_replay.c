/* SPDX-License-Identifier: Apache-2.0 */
/*
 * kheap_bench replay: one workload through one adapter, for callgrind.
 *
 * Every allocator call goes through a trampoline of its own (call_alloc,
 * call_aligned_alloc, call_free, call_realloc) made from replay_calls(), so
 * bench/callgrind_summary.py can divide each trampoline's inclusive cost by
 * its calls whatever the allocator's own symbol names are (jemalloc's and
 * mimalloc's internals are not in the executable). The figure includes the
 * adapter's few instructions (an indirect call and the alignment check),
 * the same for every allocator; kheap's figures without them are those of
 * `kheap_bench calls`.
 *
 * kheap_bench list: the adapters and whether this process can load them
 * (scripts/bench asks it which allocators to run under callgrind).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench.h"
#include "workload.h"

/* External and (GCC) noclone so that callgrind sees these names exactly;
 * clang does not clone external functions and has no such attribute. */
#if defined(__clang__)
#define TRAMPOLINE __attribute__((__noinline__))
#else
#define TRAMPOLINE __attribute__((__noinline__, __noclone__))
#endif

TRAMPOLINE void *call_alloc(const struct bench_allocator *a, size_t bytes);
TRAMPOLINE void *call_aligned_alloc(const struct bench_allocator *a,
				    size_t align, size_t bytes);
TRAMPOLINE void call_free(const struct bench_allocator *a, void *mem);
TRAMPOLINE void *call_realloc(const struct bench_allocator *a, void *mem,
			      size_t bytes);
TRAMPOLINE void replay_calls(const struct bench_allocator *a,
			     const struct op_list *list, void **slots,
			     struct replay_stats *st);

void *call_alloc(const struct bench_allocator *a, size_t bytes)
{
	return a->alloc(bytes);
}

void *call_aligned_alloc(const struct bench_allocator *a, size_t align,
			 size_t bytes)
{
	return a->aligned_alloc(align, bytes);
}

void call_free(const struct bench_allocator *a, void *mem)
{
	a->free(mem);
}

void *call_realloc(const struct bench_allocator *a, void *mem, size_t bytes)
{
	return a->realloc(mem, bytes);
}

/* The replay of workload.c, with the calls made through the trampolines.
 * Blocks get their token, checked once at the end (not before each op:
 * that is not what is counted here). */
void replay_calls(const struct bench_allocator *a, const struct op_list *list,
		  void **slots, struct replay_stats *st)
{
	for (size_t i = 0; i < list->count; i++) {
		const struct op *op = &list->ops[i];
		void *mem = slots[op->slot];

		switch (op->kind) {
		case OP_ALLOC:
			mem = call_alloc(a, op->size);
			break;
		case OP_ALIGNED_ALLOC:
			mem = call_aligned_alloc(
				a, (size_t)1 << op->align_shift, op->size);
			break;
		case OP_FREE:
			if (mem == NULL) {
				st->skipped++;
			} else {
				call_free(a, mem);
			}
			slots[op->slot] = NULL;
			continue;
		case OP_REALLOC:
			if (mem == NULL) {
				st->skipped++;
				continue;
			}
			mem = call_realloc(a, mem, op->size);
			if (mem == NULL) {
				st->failed_reallocs++;
				continue;
			}
			st->reallocs++;
			slots[op->slot] = mem;
			continue;
		}
		if (mem == NULL) {
			st->failed_allocs++;
		} else {
			/* The token replay_release() checks. */
			uint64_t token = slot_token(op->slot);

			memcpy(mem, &token, sizeof(token));
		}
		slots[op->slot] = mem;
	}
}

int bench_replay(const struct bench_options *opt)
{
	const struct bench_allocator *active[16];
	const struct workload_spec *base =
		workload_by_name(opt->workload ? opt->workload : "");

	if (base == NULL) {
		bench_die("replay: --workload W1|W2|W4|W6|mixed is required");
	}
	if (opt->alloc == NULL || strchr(opt->alloc, ',') != NULL) {
		bench_die("replay: --alloc names one allocator");
	}
	if (bench_active_adapters(active, opt->alloc) == 0u) {
		bench_die("replay: allocator '%s' is unknown or unavailable",
			  opt->alloc);
	}

	const struct bench_allocator *a = active[0];
	struct workload_spec spec = *base;
	struct op_list list;
	struct replay_stats st;

	if (opt->ops != 0u && opt->ops < spec.ops) {
		spec.ops = opt->ops;
	}
	op_list_make(&list, &spec);

	void **slots = calloc(list.slots, sizeof(void *));
	void *region = bench_region(spec.region_bytes);

	if (slots == NULL) {
		bench_die("out of memory");
	}
	memset(&st, 0, sizeof(st));
	if (a->init(region, spec.region_bytes) != 0) {
		bench_die("%s: init failed", a->name);
	}
	replay_calls(a, &list, slots, &st);
	if (a->check != NULL && !a->check()) {
		bench_die("%s: heap check failed after %s", a->name, spec.name);
	}
	printf("REPLAY alloc=%s workload=%s region=%zu ops=%zu "
	       "failed_allocs=%zu failed_reallocs=%zu skipped=%zu "
	       "misaligned=%zu\n",
	       a->name, spec.name, spec.region_bytes, list.count,
	       st.failed_allocs, st.failed_reallocs, st.skipped,
	       a->misaligned != NULL ? *a->misaligned : 0u);
	/* The live blocks' tokens are checked but the blocks are not freed:
	 * every call of an adapter function in this process is then one of
	 * the replay's (callgrind_summary.py --lib relies on it). The
	 * process ends here. */
	for (uint32_t slot = 0; slot < list.slots; slot++) {
		uint64_t token;

		if (slots[slot] == NULL) {
			continue;
		}
		memcpy(&token, slots[slot], sizeof(token));
		if (token != slot_token(slot)) {
			bench_die("%s: block of slot %u was overwritten",
				  a->name, slot);
		}
	}
	free(slots);
	op_list_free(&list);
	/* Not unmapped: kheap's live blocks are in it. */
	(void)region;
	return 0;
}

int bench_list(const struct bench_options *opt)
{
	const struct bench_allocator *active[16];

	bench_active_adapters(active, opt->alloc);
	for (size_t k = 0; bench_adapters[k] != NULL; k++) {
		const struct bench_allocator *a = bench_adapters[k];
		bool on = false;

		for (size_t i = 0; active[i] != NULL; i++) {
			on |= active[i] == a;
		}
		printf("ADAPTER name=%s available=%s region_bounded=%s\n",
		       a->name, on ? "yes" : "no",
		       a->region_bounded ? "yes" : "no");
	}
	return 0;
}
