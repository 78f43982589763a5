/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The benchmark's own pseudo-random generator: splitmix64.
 *
 * Every workload draws from one of these, seeded with a fixed value, so an
 * op list is the same on every run, every machine and every instruction
 * set: integer arithmetic only (prng_unit's double is exact), no libm.
 * Freestanding C11: the Cortex-M bench images compile it too
 * (target/bench/worst_image.c, through workload_gen.c).
 */
#ifndef KHEAP_BENCH_PRNG_H
#define KHEAP_BENCH_PRNG_H

#include <stdint.h>

struct prng {
	uint64_t state;
};

static inline void prng_seed(struct prng *r, uint64_t seed)
{
	r->state = seed;
}

static inline uint64_t prng_next(struct prng *r)
{
	uint64_t z = (r->state += 0x9e3779b97f4a7c15ull);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

/* Uniform in [0, n), n > 0 (multiply-shift; bias below 2^-32). */
static inline uint32_t prng_below(struct prng *r, uint32_t n)
{
	return (uint32_t)(((prng_next(r) >> 32) * (uint64_t)n) >> 32);
}

/* Uniform in [lo, hi]. */
static inline uint32_t prng_range(struct prng *r, uint32_t lo, uint32_t hi)
{
	return lo + prng_below(r, hi - lo + 1u);
}

/* Uniform in [0, 1). */
static inline double prng_unit(struct prng *r)
{
	return (double)(prng_next(r) >> 11) * (1.0 / 9007199254740992.0);
}

#endif /* KHEAP_BENCH_PRNG_H */
