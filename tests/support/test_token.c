/* SPDX-License-Identifier: Apache-2.0 */
#include "test_token.h"

#define TOKEN_STEP 0x9e3779b1u

/* A 32-bit hash of (id, base address). */
static uint32_t token_key(uint32_t id, uintptr_t base)
{
	uint32_t x = (id + 1u) * 0x85ebca6bu ^ (uint32_t)base;

	/* Fold in the high half of 64-bit addresses. */
	x ^= (uint32_t)((uint64_t)base >> 16 >> 16) * 0xc2b2ae35u;
	x ^= x >> 16;
	x *= 0x7feb352du;
	x ^= x >> 15;
	x *= 0x846ca68bu;
	x ^= x >> 16;
	return x;
}

void test_token_fill(void *mem, size_t bytes, uint32_t id)
{
	uint8_t *p = mem;
	uint32_t state = token_key(id, (uintptr_t)mem);

	for (size_t i = 0; i < bytes; i++) {
		state += TOKEN_STEP;
		p[i] = (uint8_t)(state >> 24);
	}
}

size_t test_token_check_moved(const void *mem, size_t bytes, uint32_t id,
			      const void *fill_base)
{
	const uint8_t *p = mem;
	uint32_t state = token_key(id, (uintptr_t)fill_base);

	for (size_t i = 0; i < bytes; i++) {
		state += TOKEN_STEP;
		if (p[i] != (uint8_t)(state >> 24)) {
			return i;
		}
	}
	return SIZE_MAX;
}

size_t test_token_check(const void *mem, size_t bytes, uint32_t id)
{
	return test_token_check_moved(mem, bytes, id, mem);
}
