/* SPDX-License-Identifier: Apache-2.0 */
/* Op lists from the workload generator, and their replay (see workload.h). */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "prng.h"
#include "workload.h"

double workload_mean_size(const struct workload_spec *spec)
{
	double lo = spec->min_size;
	double hi = spec->max_size;

	if (!spec->log_sizes) {
		return (lo + hi) / 2.0;
	}
	return (hi - lo) / log(hi / lo);
}

static void *xrealloc(void *p, size_t bytes)
{
	void *q = realloc(p, bytes);

	if (q == NULL) {
		bench_die("out of memory (%zu bytes)", bytes);
	}
	return q;
}

/* ops ops, or (after_fill) the ops to the fill and then ops more. */
static void make(struct op_list *list, const struct workload_spec *spec,
		 size_t ops, bool after_fill)
{
	struct wl_gen g;
	uint32_t capacity = wl_slot_capacity(spec->region_bytes);
	uint32_t *words = xrealloc(NULL, (size_t)capacity * WL_WORDS_PER_SLOT *
						 sizeof(uint32_t));
	size_t cap = after_fill ? ops + 1024u : ops;
	size_t n = 0;

	if (spec->min_size < 8u) {
		bench_die("workload %s: min_size must be >= 8", spec->name);
	}
	wl_init(&g, spec, spec->region_bytes, words, capacity);
	list->spec = spec;
	list->ops = xrealloc(NULL, cap * sizeof(struct op));
	while (after_fill ? !wl_filled(&g) || n < (size_t)g.fill_ops + ops
			  : n < ops) {
		if (n == cap) {
			cap *= 2u;
			list->ops =
				xrealloc(list->ops, cap * sizeof(struct op));
		}
		wl_next(&g, &list->ops[n++]);
	}
	list->count = n;
	list->slots = g.nslots;
	list->fill_ops = (size_t)g.fill_ops;
	list->forced_frees = g.forced_frees;
	free(words);
}

void op_list_make(struct op_list *list, const struct workload_spec *spec)
{
	make(list, spec, spec->ops, false);
}

void op_list_make_after_fill(struct op_list *list,
			     const struct workload_spec *spec,
			     size_t ops_after_fill)
{
	make(list, spec, ops_after_fill, true);
}

void op_list_free(struct op_list *list)
{
	free(list->ops);
	list->ops = NULL;
	list->count = 0;
}

static void check_token(const struct bench_allocator *a, const void *mem,
			uint32_t slot)
{
	uint64_t token;

	memcpy(&token, mem, sizeof(token));
	if (token != slot_token(slot)) {
		bench_die("%s: block %p of slot %u was overwritten "
			  "(token %#llx, expected %#llx)",
			  a->name, mem, slot, (unsigned long long)token,
			  (unsigned long long)slot_token(slot));
	}
}

static void put_token(void *mem, uint32_t slot)
{
	uint64_t token = slot_token(slot);

	memcpy(mem, &token, sizeof(token));
}

void replay(const struct bench_allocator *a, const struct op_list *list,
	    void **slots, size_t begin, size_t end, struct replay_stats *st)
{
	const struct op *ops = list->ops;

	for (size_t i = begin; i < end; i++) {
		const struct op *op = &ops[i];
		uint32_t s = op->slot;
		void *mem;

		switch (op->kind) {
		case OP_ALLOC:
			mem = a->alloc(op->size);
			goto allocated;
		case OP_ALIGNED_ALLOC:
			mem = a->aligned_alloc((size_t)1 << op->align_shift,
					       op->size);
allocated:
			slots[s] = mem;
			if (mem == NULL) {
				st->failed_allocs++;
			} else {
				put_token(mem, s);
			}
			break;
		case OP_FREE:
			mem = slots[s];
			if (mem == NULL) {
				st->skipped++;
				break;
			}
			check_token(a, mem, s);
			a->free(mem);
			slots[s] = NULL;
			break;
		case OP_REALLOC:
			mem = slots[s];
			if (mem == NULL) {
				st->skipped++;
				break;
			}
			check_token(a, mem, s);
			/* Compared as an integer: the old pointer is
			 * indeterminate once the block has moved. */
			uintptr_t old = (uintptr_t)mem;

			mem = a->realloc(mem, op->size);
			if (mem == NULL) {
				st->failed_reallocs++;
				break;
			}
			check_token(a, mem, s);
			st->reallocs++;
			st->realloc_moved += (uintptr_t)mem != old;
			slots[s] = mem;
			break;
		}
	}
}

void replay_release(const struct bench_allocator *a, const struct op_list *list,
		    void **slots)
{
	for (uint32_t s = 0; s < list->slots; s++) {
		if (slots[s] != NULL) {
			check_token(a, slots[s], s);
			a->free(slots[s]);
			slots[s] = NULL;
		}
	}
}

void *bench_region(size_t bytes)
{
	void *p = mmap(NULL, bytes, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	if (p == MAP_FAILED) {
		bench_die("cannot map a %zu-byte region", bytes);
	}
	memset(p, 0xa5, bytes);
	return p;
}

void bench_region_free(void *region, size_t bytes)
{
	munmap(region, bytes);
}
