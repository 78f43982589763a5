/* SPDX-License-Identifier: Apache-2.0 */
/*
 * splitmix64 (Steele, Lea, Flood, "Fast splittable pseudorandom number
 * generators", OOPSLA 2014): state advances by the golden-ratio constant,
 * the output is the state through a 64-bit finaliser.
 */
#include "test_rng.h"

#define SPLITMIX64_GAMMA 0x9e3779b97f4a7c15ull

uint64_t test_mix64(uint64_t value)
{
	value = (value ^ (value >> 30)) * 0xbf58476d1ce4e5b9ull;
	value = (value ^ (value >> 27)) * 0x94d049bb133111ebull;
	return value ^ (value >> 31);
}

void test_rng_seed(struct test_rng *rng, uint64_t seed)
{
	rng->state = seed;
}

uint64_t test_rng_next(struct test_rng *rng)
{
	rng->state += SPLITMIX64_GAMMA;
	return test_mix64(rng->state);
}

uint64_t test_rng_below(struct test_rng *rng, uint64_t bound)
{
	if (bound == 0u) {
		return 0u;
	}
	/* Reject the top partial copy of [0, bound) so that every residue
	 * is equally likely: 2^64 mod bound values are discarded. */
	uint64_t reject_below = (0u - bound) % bound;
	uint64_t value;

	do {
		value = test_rng_next(rng);
	} while (value < reject_below);
	return value % bound;
}

uint64_t test_rng_range(struct test_rng *rng, uint64_t lo, uint64_t hi)
{
	if (hi - lo == UINT64_MAX) {
		return test_rng_next(rng);
	}
	return lo + test_rng_below(rng, hi - lo + 1u);
}

int test_rng_percent(struct test_rng *rng, unsigned int percent)
{
	return test_rng_below(rng, 100u) < percent;
}

uint64_t test_rng_log_uniform(struct test_rng *rng, uint64_t max_value)
{
	unsigned int max_bits = 0;

	if (max_value <= 1u) {
		return 1u;
	}
	while (max_bits < 64u && (max_value >> max_bits) != 0u) {
		max_bits++;
	}
	/* Bit length 1..max_bits, then a value of exactly that length. */
	unsigned int bits = (unsigned int)test_rng_range(rng, 1u, max_bits);
	uint64_t lo = (uint64_t)1u << (bits - 1u);
	uint64_t hi = bits == 64u ? UINT64_MAX : ((uint64_t)1u << bits) - 1u;

	if (hi > max_value) {
		hi = max_value;
	}
	return test_rng_range(rng, lo, hi);
}

uint64_t test_rng_checksum(uint64_t seed, unsigned int rounds)
{
	struct test_rng rng;
	uint64_t sum = 0;

	test_rng_seed(&rng, seed);
	for (unsigned int i = 0; i < rounds; i++) {
		uint64_t word = test_rng_next(&rng);
		uint64_t below = test_rng_below(&rng, 1000003u);
		uint64_t range = test_rng_range(&rng, 5u, (uint64_t)1u << 40);
		uint64_t percent = (uint64_t)test_rng_percent(&rng, 37u);
		uint64_t log = test_rng_log_uniform(&rng, (uint64_t)1u << 20);

		sum = test_mix64(sum ^ word) + (below << 1) + (range << 2) +
		      (percent << 3) + (log << 4);
	}
	return sum;
}
