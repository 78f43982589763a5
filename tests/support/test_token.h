/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Token fill and check: every test block is filled with bytes derived
 * from a block id and the block's address, so that a block overwritten by
 * the heap (or by another block), or a block handed out twice, shows up
 * as a mismatch. Freestanding: no libc.
 *
 * Byte i of a block filled at address base with id is the top byte of
 * key(id, base) + (i + 1) * golden, where key is a 32-bit hash: one
 * multiply-add per byte, different for every id, address and offset.
 */
#ifndef KHEAP_TEST_TOKEN_H
#define KHEAP_TEST_TOKEN_H

#include <stddef.h>
#include <stdint.h>

/* Fill [mem, mem + bytes) with the tokens of id at mem. */
void test_token_fill(void *mem, size_t bytes, uint32_t id);

/*
 * Check [mem, mem + bytes) against the tokens of id as they were written
 * at fill_base (the address the block had when it was filled: mem itself,
 * or the old address of a block that realloc moved). Returns the offset of
 * the first wrong byte, or SIZE_MAX if all are right.
 */
size_t test_token_check_moved(const void *mem, size_t bytes, uint32_t id,
			      const void *fill_base);

/* test_token_check_moved(mem, bytes, id, mem). */
size_t test_token_check(const void *mem, size_t bytes, uint32_t id);

#endif /* KHEAP_TEST_TOKEN_H */
