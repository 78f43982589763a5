/* SPDX-License-Identifier: Apache-2.0 */
/* Op-list generation and replay (see workload.h). */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "prng.h"
#include "workload.h"

const struct workload_spec workload_w1 = {
	.name = "W1",
	.seed = 0x57310001u,
	.region_bytes = 64u * 1024u,
	.ops = 2000000u,
	.min_size = 8u,
	.max_size = 128u,
	.log_sizes = false,
	.live_fraction = 0.5,
};

const struct workload_spec workload_w2 = {
	.name = "W2",
	.seed = 0x57310002u,
	.region_bytes = 1024u * 1024u,
	.ops = 1000000u,
	.min_size = 16u,
	.max_size = 16384u,
	.log_sizes = true,
	.live_fraction = 0.5,
};

const struct workload_spec workload_w4 = {
	.name = "W4",
	.seed = 0x57310004u,
	.region_bytes = 256u * 1024u,
	.ops = 1000000u,
	.min_size = 8u,
	.max_size = 512u,
	.log_sizes = false,
	.aligned_pct = 100u,
	.min_align_shift = 3u,
	.max_align_shift = 8u,
	.live_fraction = 0.5,
};

const struct workload_spec workload_w6 = {
	.name = "W6",
	.seed = 0x57310006u,
	.region_bytes = 256u * 1024u,
	.ops = 1000000u,
	.min_size = 16u,
	.max_size = 4096u,
	.log_sizes = true,
	.realloc_pct = 50u,
	.realloc_max = 4096u,
	.realloc_log2_span = 2u,
	.live_fraction = 0.5,
};

const struct workload_spec workload_mixed = {
	.name = "mixed",
	.seed = 0x5731000au,
	.region_bytes = 1024u * 1024u,
	.ops = 100000u,
	.min_size = 16u,
	.max_size = 16384u,
	.log_sizes = true,
	.aligned_pct = 25u,
	.min_align_shift = 4u,
	.max_align_shift = 9u,
	.realloc_pct = 10u,
	.realloc_max = 2048u,
	.live_fraction = 0.5,
};

const struct workload_spec *workload_by_name(const char *name)
{
	static const struct workload_spec *const all[] = {
		&workload_w1, &workload_w2,    &workload_w4,
		&workload_w6, &workload_mixed,
	};

	for (size_t i = 0; i < sizeof(all) / sizeof(all[0]); i++) {
		if (strcmp(all[i]->name, name) == 0) {
			return all[i];
		}
	}
	return NULL;
}

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

/* A resize of a block of old bytes: a factor of 2^u, u uniform in
 * [-span, span], clamped to the spec's sizes. */
static uint32_t draw_resize(struct prng *r, const struct workload_spec *spec,
			    uint32_t old)
{
	double span = (double)spec->realloc_log2_span;
	double n = (double)old * exp2((2.0 * prng_unit(r) - 1.0) * span);

	if (n < (double)spec->min_size) {
		return spec->min_size;
	}
	if (n > (double)spec->realloc_max) {
		return spec->realloc_max;
	}
	return (uint32_t)n;
}

static uint32_t draw_size(struct prng *r, const struct workload_spec *spec,
			  uint32_t max)
{
	if (spec->log_sizes) {
		return prng_log_range(r, spec->min_size, max);
	}
	return prng_range(r, spec->min_size, max);
}

void op_list_make(struct op_list *list, const struct workload_spec *spec)
{
	struct prng r;
	/* The model: live slots (dense, swap-remove), their sizes, and a
	 * stack of slots free for reuse. */
	uint32_t *live = NULL;
	uint32_t *pos = NULL;
	uint32_t *size = NULL;
	uint32_t *spare = NULL;
	uint32_t nlive = 0, nspare = 0, nslots = 0, cap = 0;
	double live_bytes = 0.0;
	double target = spec->live_fraction * (double)spec->region_bytes;

	if (spec->min_size < 8u) {
		bench_die("workload %s: min_size must be >= 8", spec->name);
	}
	prng_seed(&r, spec->seed);
	list->spec = spec;
	list->count = spec->ops;
	list->ops = xrealloc(NULL, spec->ops * sizeof(struct op));

	for (size_t i = 0; i < spec->ops; i++) {
		struct op *op = &list->ops[i];

		memset(op, 0, sizeof(*op));
		if (spec->realloc_pct != 0u && nlive != 0u &&
		    prng_below(&r, 100u) < spec->realloc_pct) {
			uint32_t s = live[prng_below(&r, nlive)];

			if (size[s] <= spec->realloc_max) {
				uint32_t n =
					spec->realloc_log2_span != 0u
						? draw_resize(&r, spec, size[s])
						: draw_size(&r, spec,
							    spec->realloc_max);

				op->kind = OP_REALLOC;
				op->slot = s;
				op->size = n;
				live_bytes += (double)n - (double)size[s];
				size[s] = n;
				continue;
			}
		}
		bool want_alloc;

		if (nlive == 0u) {
			want_alloc = true;
		} else if (live_bytes < target) {
			want_alloc = prng_below(&r, 3u) != 0u;
		} else {
			want_alloc = prng_below(&r, 3u) == 0u;
		}
		if (want_alloc) {
			uint32_t s;

			if (nspare != 0u) {
				s = spare[--nspare];
			} else {
				if (nslots == cap) {
					cap = cap ? cap * 2u : 1024u;
					live = xrealloc(live, cap * 4u);
					pos = xrealloc(pos, cap * 4u);
					size = xrealloc(size, cap * 4u);
					spare = xrealloc(spare, cap * 4u);
				}
				s = nslots++;
			}
			op->slot = s;
			op->size = draw_size(&r, spec, spec->max_size);
			op->kind = OP_ALLOC;
			if (spec->aligned_pct != 0u &&
			    prng_below(&r, 100u) < spec->aligned_pct) {
				op->kind = OP_ALIGNED_ALLOC;
				op->align_shift = (uint8_t)prng_range(
					&r, spec->min_align_shift,
					spec->max_align_shift);
			}
			size[s] = op->size;
			pos[s] = nlive;
			live[nlive++] = s;
			live_bytes += op->size;
		} else {
			uint32_t k = prng_below(&r, nlive);
			uint32_t s = live[k];

			op->kind = OP_FREE;
			op->slot = s;
			live[k] = live[--nlive];
			pos[live[k]] = k;
			live_bytes -= size[s];
			spare[nspare++] = s;
		}
	}
	list->slots = nslots;
	free(live);
	free(pos);
	free(size);
	free(spare);
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
