/* SPDX-License-Identifier: Apache-2.0 */
/* The workload generator (see workload_gen.h). Freestanding C11. */
#include "workload_gen.h"

const struct workload_spec workload_w1 = {
	.name = "W1",
	.seed = 0x57310001u,
	.region_bytes = 64u * 1024u,
	.ops = 2000000u,
	.min_size = 8u,
	.max_size = 128u,
	.log_sizes = false,
	.live_pct = 50u,
};

const struct workload_spec workload_w2 = {
	.name = "W2",
	.seed = 0x57310002u,
	.region_bytes = 1024u * 1024u,
	.ops = 1000000u,
	.min_size = 16u,
	.max_size = 16384u,
	.log_sizes = true,
	.live_pct = 50u,
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
	.live_pct = 50u,
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
	.live_pct = 50u,
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
	.live_pct = 50u,
};

static bool same_name(const char *a, const char *b)
{
	while (*a != '\0' && *a == *b) {
		a++;
		b++;
	}
	return *a == *b;
}

const struct workload_spec *workload_by_name(const char *name)
{
	static const struct workload_spec *const all[] = {
		&workload_w1, &workload_w2,    &workload_w4,
		&workload_w6, &workload_mixed,
	};

	for (size_t i = 0; i < sizeof(all) / sizeof(all[0]); i++) {
		if (same_name(all[i]->name, name)) {
			return all[i];
		}
	}
	return NULL;
}

/* ---- log-uniform sizes in fixed point ------------------------------------ */

/*
 * 2^(i / 32) in 16.16 fixed point, i = 0..32: 2^x for x in [0, 1) by
 * linear interpolation between these (relative error under 1e-4). With
 * log2_q16 below, log-uniform draws need neither libm nor floating point
 * (thousands of soft-float instructions per draw on Cortex-M0), and give
 * the same sizes on every machine.
 */
static const uint32_t exp2_q16[33] = {
	65536,  66971,  68438,  69936,  71468,  73032,  74632,  76266,  77936,
	79642,  81386,  83169,  84990,  86851,  88752,  90696,  92682,  94711,
	96785,  98905,  101070, 103283, 105545, 107856, 110218, 112631, 115098,
	117618, 120194, 122825, 125515, 128263, 131072,
};

static uint32_t top_bit(uint32_t x)
{
	uint32_t bit = 0u;

	while ((x >> bit) > 1u) {
		bit++;
	}
	return bit;
}

/* log2(x) in 16.16 fixed point, x >= 1: the integer part from the top
 * bit, then one fraction bit per squaring of the mantissa. */
static uint32_t log2_q16(uint32_t x)
{
	uint32_t ip = top_bit(x);
	/* Mantissa in [1, 2) as 1.31 fixed point. */
	uint64_t m = (uint64_t)x << (31u - ip);
	uint32_t frac = 0u;

	for (unsigned int bit = 0; bit < 16u; bit++) {
		m = (m * m) >> 31;
		frac <<= 1;
		if (m >= (2ull << 31)) {
			m >>= 1;
			frac |= 1u;
		}
	}
	return (ip << 16) | frac;
}

/* x * 2^(e / 65536), for x * 2^(e / 65536) < 2^46. */
static uint64_t scale_exp2(uint32_t x, uint32_t e)
{
	uint32_t ip = e >> 16;
	uint32_t f = e & 0xffffu;
	uint32_t i = f >> 11;
	uint32_t rem = f & 0x7ffu;
	uint32_t v =
		exp2_q16[i] + (((exp2_q16[i + 1u] - exp2_q16[i]) * rem) >> 11);

	return ((uint64_t)x * v << ip) >> 16;
}

/* e uniform in [0, range_q16): the top 32 bits of a draw, scaled. */
static uint32_t draw_q16(struct prng *r, uint32_t range_q16)
{
	uint32_t u = (uint32_t)(prng_next(r) >> 32);

	return (uint32_t)(((uint64_t)u * range_q16) >> 32);
}

static uint32_t clamp(uint64_t v, uint32_t lo, uint32_t hi)
{
	return v < lo ? lo : (v > hi ? hi : (uint32_t)v);
}

struct wl_size_draw wl_size_draw_make(uint32_t lo, uint32_t hi, bool log)
{
	struct wl_size_draw d = {lo, hi, log, 0u};

	if (log) {
		d.span_q16 = log2_q16(hi + 1u) - log2_q16(lo);
	}
	return d;
}

uint32_t wl_draw_size(struct prng *r, const struct wl_size_draw *d)
{
	if (!d->log) {
		return prng_range(r, d->lo, d->hi);
	}
	return clamp(scale_exp2(d->lo, draw_q16(r, d->span_q16)), d->lo, d->hi);
}

uint32_t wl_log_uniform(struct prng *r, uint32_t lo, uint32_t hi)
{
	struct wl_size_draw d = wl_size_draw_make(lo, hi, true);

	return wl_draw_size(r, &d);
}

/* A resize of a block of old bytes: a factor of 2^u, u uniform in
 * [-span, span], clamped to the spec's sizes. */
static uint32_t draw_resize(struct prng *r, const struct workload_spec *spec,
			    uint32_t old)
{
	uint32_t span = spec->realloc_log2_span;
	uint64_t scaled = scale_exp2(old, draw_q16(r, (2u * span) << 16));

	return clamp(scaled >> span, spec->min_size, spec->realloc_max);
}

/* ---- the generator ------------------------------------------------------ */

uint32_t wl_slot_capacity(size_t region_bytes)
{
	size_t n = region_bytes / 64u;

	if (n < 64u) {
		return 64u;
	}
	return n > UINT32_MAX / WL_WORDS_PER_SLOT
		       ? UINT32_MAX / WL_WORDS_PER_SLOT
		       : (uint32_t)n;
}

void wl_init(struct wl_gen *g, const struct workload_spec *spec,
	     size_t region_bytes, uint32_t *words, uint32_t capacity)
{
	g->spec = spec;
	prng_seed(&g->rng, spec->seed);
	g->sizes = wl_size_draw_make(spec->min_size, spec->max_size,
				     spec->log_sizes);
	g->resizes = wl_size_draw_make(
		spec->min_size,
		spec->realloc_max != 0u ? spec->realloc_max : spec->max_size,
		spec->log_sizes);
	g->live_bytes = 0u;
	g->target_bytes = (uint64_t)region_bytes * spec->live_pct / 100u;
	g->live = words;
	g->spare = words + capacity;
	g->size = words + 2u * (size_t)capacity;
	g->capacity = capacity;
	g->nlive = 0u;
	g->nspare = 0u;
	g->nslots = 0u;
	g->ops = 0u;
	g->fill_ops = 0u;
	g->forced_frees = 0u;
}

/* A resize of a random live block, if the draw says so and the block is
 * small enough; false otherwise (the op is then an alloc or a free). */
static bool next_resize(struct wl_gen *g, struct op *op)
{
	const struct workload_spec *spec = g->spec;

	if (spec->realloc_pct == 0u || g->nlive == 0u ||
	    prng_below(&g->rng, 100u) >= spec->realloc_pct) {
		return false;
	}
	uint32_t s = g->live[prng_below(&g->rng, g->nlive)];

	if (g->size[s] > spec->realloc_max) {
		return false;
	}
	uint32_t n = spec->realloc_log2_span != 0u
			     ? draw_resize(&g->rng, spec, g->size[s])
			     : wl_draw_size(&g->rng, &g->resizes);

	op->kind = OP_REALLOC;
	op->slot = s;
	op->size = n;
	g->live_bytes = g->live_bytes + n - g->size[s];
	g->size[s] = n;
	return true;
}

static void next_alloc(struct wl_gen *g, struct op *op)
{
	const struct workload_spec *spec = g->spec;
	uint32_t s = g->nspare != 0u ? g->spare[--g->nspare] : g->nslots++;

	op->slot = s;
	op->size = wl_draw_size(&g->rng, &g->sizes);
	op->kind = OP_ALLOC;
	if (spec->aligned_pct != 0u &&
	    prng_below(&g->rng, 100u) < spec->aligned_pct) {
		op->kind = OP_ALIGNED_ALLOC;
		op->align_shift = (uint8_t)prng_range(
			&g->rng, spec->min_align_shift, spec->max_align_shift);
	}
	g->size[s] = op->size;
	g->live[g->nlive++] = s;
	g->live_bytes += op->size;
}

static void next_free(struct wl_gen *g, struct op *op)
{
	uint32_t k = prng_below(&g->rng, g->nlive);
	uint32_t s = g->live[k];

	op->kind = OP_FREE;
	op->slot = s;
	g->live[k] = g->live[--g->nlive];
	g->live_bytes -= g->size[s];
	g->spare[g->nspare++] = s;
}

void wl_next(struct wl_gen *g, struct op *op)
{
	op->slot = 0u;
	op->size = 0u;
	op->kind = OP_ALLOC;
	op->align_shift = 0u;
	g->ops++;
	if (!next_resize(g, op)) {
		bool want_alloc;

		if (g->nlive == 0u) {
			want_alloc = true;
		} else if (g->live_bytes < g->target_bytes) {
			want_alloc = prng_below(&g->rng, 3u) != 0u;
		} else {
			want_alloc = prng_below(&g->rng, 3u) == 0u;
		}
		if (want_alloc && g->nlive == g->capacity) {
			want_alloc = false;
			g->forced_frees++;
		}
		if (want_alloc) {
			next_alloc(g, op);
		} else {
			next_free(g, op);
		}
	}
	if (g->fill_ops == 0u && g->live_bytes >= g->target_bytes) {
		g->fill_ops = g->ops;
	}
}
