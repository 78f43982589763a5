/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Deterministic pseudo-random numbers for kheap tests.
 *
 * splitmix64: a 64-bit counter passed through a fixed mixing function.
 * Only uint64_t arithmetic (no floating point, no 128-bit products, no
 * libc), so a seed produces the same sequence on every host and on
 * Cortex-M targets. Not for cryptography.
 */
#ifndef KHEAP_TEST_RNG_H
#define KHEAP_TEST_RNG_H

#include <stdint.h>

struct test_rng {
	uint64_t state;
};

/* Start the sequence of seed. Any value, 0 included, is a valid seed. */
void test_rng_seed(struct test_rng *rng, uint64_t seed);

/* Next 64 random bits. */
uint64_t test_rng_next(struct test_rng *rng);

/* Uniform in [0, bound); bound 0 returns 0. Unbiased (rejection). */
uint64_t test_rng_below(struct test_rng *rng, uint64_t bound);

/* Uniform in [lo, hi] (inclusive); requires lo <= hi. */
uint64_t test_rng_range(struct test_rng *rng, uint64_t lo, uint64_t hi);

/* True with probability percent / 100. */
int test_rng_percent(struct test_rng *rng, unsigned int percent);

/* Log-uniform in [1, max_value]: first a bit length, then a value of that
 * length, so small values are as likely as large ones per octave. */
uint64_t test_rng_log_uniform(struct test_rng *rng, uint64_t max_value);

/* The splitmix64 finaliser on its own: a stateless 64-bit mix, used to
 * derive fixed seed lists and token bytes. */
uint64_t test_mix64(uint64_t value);

/*
 * The reference run: test_rng_checksum(TEST_RNG_REFERENCE_SEED,
 * TEST_RNG_REFERENCE_ROUNDS) folds the outputs of next, below, range,
 * percent and log_uniform into one value, which must be
 * TEST_RNG_REFERENCE_CHECKSUM on every platform: the unit tests check it
 * on the host and on every Cortex-M target, so a seed replays the same
 * operations everywhere.
 */
#define TEST_RNG_REFERENCE_SEED 0x6b68656170ull
#define TEST_RNG_REFERENCE_ROUNDS 4096u
#define TEST_RNG_REFERENCE_CHECKSUM 0x9733354ce421daf4ull

uint64_t test_rng_checksum(uint64_t seed, unsigned int rounds);

#endif /* KHEAP_TEST_RNG_H */
