/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The mixed workload replayed directly on sys_heap_* for callgrind:
 * bench/callgrind_summary.py divides the inclusive cost of the calls that
 * calls_replay() makes to each sys_heap function by their number. Only
 * calls made from calls_replay() count (not, say, the alloc inside a
 * moving realloc).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <zephyr/sys/sys_heap.h>

#include "bench.h"
#include "workload.h"

static void die_misaligned(const void *mem, size_t align)
{
	bench_die("kheap returned %p, not aligned to %zu", mem, align);
}

__attribute__((__noinline__)) void calls_replay(struct sys_heap *h,
						const struct op_list *list,
						void **slots, size_t *failed)
{
	for (size_t i = 0; i < list->count; i++) {
		const struct op *op = &list->ops[i];
		void *mem = slots[op->slot];
		size_t align = 8;

		switch (op->kind) {
		case OP_ALLOC:
			mem = sys_heap_alloc(h, op->size);
			break;
		case OP_ALIGNED_ALLOC:
			align = (size_t)1 << op->align_shift;
			mem = sys_heap_aligned_alloc(h, align, op->size);
			break;
		case OP_FREE:
			if (mem != NULL) {
				sys_heap_free(h, mem);
			}
			slots[op->slot] = NULL;
			continue;
		case OP_REALLOC:
			if (mem == NULL) {
				continue;
			}
			mem = sys_heap_realloc(h, mem, op->size);
			if (mem == NULL) {
				(*failed)++;
				continue;
			}
			break;
		}
		if (mem == NULL) {
			(*failed)++;
		} else if (((uintptr_t)mem & (align - 1u)) != 0u) {
			die_misaligned(mem, align);
		}
		slots[op->slot] = mem;
	}
}

int bench_calls(const struct bench_options *opt)
{
	struct workload_spec spec = workload_mixed;
	struct op_list list;
	struct sys_heap h;
	size_t failed = 0;

	if (opt->heap_bytes != 0u) {
		spec.region_bytes = opt->heap_bytes;
	}
	spec.ops = bench_mixed_warm_ops(spec.region_bytes) +
		   (opt->ops ? opt->ops : 100000u);
	op_list_make(&list, &spec);

	void **slots = calloc(list.slots, sizeof(void *));
	void *region = bench_region(spec.region_bytes);

	if (slots == NULL) {
		bench_die("out of memory");
	}
	if (sys_heap_init(&h, region, spec.region_bytes) != 0) {
		bench_die("sys_heap_init failed");
	}
	calls_replay(&h, &list, slots, &failed);
	if (!sys_heap_validate(&h)) {
		bench_die("sys_heap_validate failed after the mixed workload");
	}
	printf("CALLS heap=%zu ops=%zu failed=%zu\n", spec.region_bytes,
	       list.count, failed);
	free(slots);
	op_list_free(&list);
	bench_region_free(region, spec.region_bytes);
	return 0;
}
