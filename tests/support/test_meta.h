/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Deliberate access to heap metadata from test code.
 *
 * With memory-checker hooks on (KHEAP_SANITIZER=asan or valgrind, see
 * kheap/sanitizer.h) every byte of a heap region that is not a live
 * block's usable byte is poisoned for AddressSanitizer and no-access for
 * Valgrind memcheck: block headers, free chunks, freed blocks, the control
 * block. Tests that touch those bytes on purpose (planting a corrupt
 * header, writing after a free to check that the heap notices, taking a
 * snapshot of the whole region to prove that a refused call wrote
 * nothing, refilling a region before the next init) do it through these
 * helpers, which neither tool watches:
 *
 * - they are not instrumented by AddressSanitizer (no_sanitize_address;
 *   a function with other sanitizer attributes is never inlined into an
 *   instrumented caller) and copy byte by byte through volatile pointers,
 *   so the compiler cannot turn them into a memcpy or memset call, which
 *   ASan intercepts and checks;
 * - under Valgrind they switch memcheck's error reporting off for the
 *   calling thread while they run, as the heap core does around its own
 *   metadata accesses, and mark what they copy out as defined: a region
 *   snapshot is raw bytes, whether or not a block's contents were ever
 *   written.
 *
 * Everything else in a test uses memory normally, so the tools still
 * check the tests themselves. Without a tool the helpers are plain byte
 * loops. Header-only and freestanding, so that every test program, fuzz
 * target and target image can use it without another source file.
 */
#ifndef KHEAP_TEST_META_H
#define KHEAP_TEST_META_H

#include <stddef.h>
#include <stdint.h>

#if defined(__has_include)
#if __has_include(<valgrind/memcheck.h>)
#include <valgrind/memcheck.h>
#define TEST_META_VALGRIND 1
#endif
#endif

#ifndef TEST_META_VALGRIND
#define TEST_META_VALGRIND 0
#endif

#if defined(__SANITIZE_ADDRESS__)
#define TEST_META_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define TEST_META_ASAN 1
#endif
#endif
#ifndef TEST_META_ASAN
#define TEST_META_ASAN 0
#endif
#if TEST_META_ASAN
#include <sanitizer/asan_interface.h>
#endif

#if defined(__GNUC__) || defined(__clang__)
#define TEST_META_FN static inline __attribute__((__no_sanitize_address__))
/* The word loops, kept out of line: inlined with a constant size below a
 * word, gcc -O2 warns (-Warray-bounds) about the loop that then never
 * runs. */
#define TEST_META_WORDS_FN                                                     \
	static __attribute__((__no_sanitize_address__, __noinline__,           \
			      __unused__))
#else
#define TEST_META_FN static inline
#define TEST_META_WORDS_FN static
#endif

#if TEST_META_VALGRIND
#define TEST_META_BEGIN() VALGRIND_DISABLE_ERROR_REPORTING
#define TEST_META_END() VALGRIND_ENABLE_ERROR_REPORTING
#define TEST_META_DEFINED(p, n) VALGRIND_MAKE_MEM_DEFINED((p), (n))
#else
#define TEST_META_BEGIN() ((void)0)
#define TEST_META_END() ((void)0)
#define TEST_META_DEFINED(p, n) ((void)0)
#endif

/* The copy behind test_meta_read and test_meta_write: whole words where
 * both sides are word-aligned (a snapshot of a big region is a quarter
 * of a million bytes, and every access costs under Valgrind), bytes
 * elsewhere. */
TEST_META_WORDS_FN void test_meta_copy(void *dst, const void *src, size_t n)
{
	size_t i = 0;

	if ((((uintptr_t)dst | (uintptr_t)src) & (sizeof(uint64_t) - 1u)) ==
	    0u) {
		volatile uint64_t *dw = (volatile uint64_t *)dst;
		const volatile uint64_t *sw = (const volatile uint64_t *)src;

		for (; i + sizeof(uint64_t) <= n; i += sizeof(uint64_t)) {
			dw[i / sizeof(uint64_t)] = sw[i / sizeof(uint64_t)];
		}
	}
	for (; i < n; i++) {
		((volatile uint8_t *)dst)[i] =
			((const volatile uint8_t *)src)[i];
	}
}

/* Copy n bytes of heap memory at src (metadata, free or freed bytes) to
 * ordinary memory at dst. */
TEST_META_FN void test_meta_read(void *dst, const void *src, size_t n)
{
	TEST_META_BEGIN();
	test_meta_copy(dst, src, n);
	TEST_META_DEFINED(dst, n);
	TEST_META_END();
}

/* Copy n bytes of ordinary memory at src over heap memory at dst. */
TEST_META_FN void test_meta_write(void *dst, const void *src, size_t n)
{
	TEST_META_BEGIN();
	test_meta_copy(dst, src, n);
	TEST_META_END();
}

/* Set n bytes of heap memory at dst to byte. */
TEST_META_FN void test_meta_fill(void *dst, uint8_t byte, size_t n)
{
	volatile uint8_t *d = (volatile uint8_t *)dst;

	TEST_META_BEGIN();
	for (size_t i = 0; i < n; i++) {
		d[i] = byte;
	}
	TEST_META_END();
}

/* The offset of the first byte where heap memory at mem differs from the
 * ordinary copy, or SIZE_MAX if all n bytes are equal. */
TEST_META_WORDS_FN size_t test_meta_diff(const void *mem, const void *copy,
					 size_t n)
{
	const volatile uint8_t *m = (const volatile uint8_t *)mem;
	const volatile uint8_t *c = (const volatile uint8_t *)copy;
	size_t first = SIZE_MAX;
	size_t i = 0;

	TEST_META_BEGIN();
	/* Equal words skipped whole, as in test_meta_copy; the first
	 * difference is then found byte by byte. */
	if ((((uintptr_t)mem | (uintptr_t)copy) & (sizeof(uint64_t) - 1u)) ==
	    0u) {
		const volatile uint64_t *mw = (const volatile uint64_t *)mem;
		const volatile uint64_t *cw = (const volatile uint64_t *)copy;

		while (i + sizeof(uint64_t) <= n &&
		       mw[i / sizeof(uint64_t)] == cw[i / sizeof(uint64_t)]) {
			i += sizeof(uint64_t);
		}
	}
	for (; i < n; i++) {
		if (m[i] != c[i]) {
			first = i;
			break;
		}
	}
	TEST_META_END();
	return first;
}

/* One byte of heap memory. */
TEST_META_FN uint8_t test_meta_get8(const void *mem)
{
	uint8_t v;

	test_meta_read(&v, mem, 1u);
	return v;
}

TEST_META_FN void test_meta_set8(void *mem, uint8_t v)
{
	test_meta_write(mem, &v, 1u);
}

/*
 * [mem, mem + n) is no longer (part of) a heap region: make it ordinary
 * memory again, accessible and defined, keeping its contents, and have
 * memcheck forget the blocks of the heaps that were there, which are not
 * leaks. For a test that reuses a buffer after a heap on it (the next
 * heap at another offset, guard bytes an earlier region covered), or that
 * drops a heap whose blocks are still allocated. (Memory returned by
 * free() or a returning function is made ordinary by the tools
 * themselves, but a heap's blocks in it stay known to memcheck.)
 */
#if TEST_META_VALGRIND && (defined(__GNUC__) || defined(__clang__))
/* Defined by the Valgrind hooks (sim/src/san_valgrind.c), if linked:
 * memcheck forgets the blocks of the heaps that were there. */
extern void kheap_san_forget(void *mem, size_t bytes) __attribute__((weak));
#endif

static inline void test_meta_release(void *mem, size_t n)
{
#if TEST_META_ASAN
	__asan_unpoison_memory_region(mem, n);
#endif
#if TEST_META_VALGRIND && (defined(__GNUC__) || defined(__clang__))
	if (kheap_san_forget != NULL) {
		kheap_san_forget(mem, n);
	}
#endif
	TEST_META_DEFINED(mem, n);
	(void)mem;
	(void)n;
}

#endif /* KHEAP_TEST_META_H */
