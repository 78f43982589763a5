/* SPDX-License-Identifier: Apache-2.0 */
/*
 * memcpy and memmove for the test images, replacing newlib's.
 *
 * newlib's ARMv7-M memcpy copies whole words from a source that is not
 * word aligned when the destination is (it relies on the hardware's
 * unaligned LDR). The images set CCR.UNALIGN_TRP so that any unaligned
 * access by kheap faults; these versions never make one, so a trap can
 * only come from the code under test. Word copies when both pointers
 * share their alignment, byte copies otherwise. Built with
 * -fno-tree-loop-distribute-patterns so that the compiler does not turn
 * the loops back into calls to memcpy.
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

/* Word accesses to memory of any declared type. */
typedef uint32_t __attribute__((__may_alias__)) word_t;

#define WORD_BYTES sizeof(word_t)

static int word_aligned_together(const void *a, const void *b)
{
	return (((uintptr_t)a ^ (uintptr_t)b) & (WORD_BYTES - 1u)) == 0u;
}

/* Front to back: also right for overlapping ranges with dst below src. */
static void copy_forward(unsigned char *d, const unsigned char *s, size_t bytes)
{
	if (word_aligned_together(d, s)) {
		while (bytes != 0u &&
		       ((uintptr_t)d & (WORD_BYTES - 1u)) != 0u) {
			*d++ = *s++;
			bytes--;
		}
		while (bytes >= WORD_BYTES) {
			*(word_t *)(void *)d = *(const word_t *)(const void *)s;
			d += WORD_BYTES;
			s += WORD_BYTES;
			bytes -= WORD_BYTES;
		}
	}
	while (bytes != 0u) {
		*d++ = *s++;
		bytes--;
	}
}

void *memcpy(void *restrict dst, const void *restrict src, size_t bytes)
{
	copy_forward(dst, src, bytes);
	return dst;
}

void *memmove(void *dst, const void *src, size_t bytes)
{
	unsigned char *d = dst;
	const unsigned char *s = src;

	if ((uintptr_t)d - (uintptr_t)s >= bytes) {
		/* No destructive overlap going forwards. */
		copy_forward(d, s, bytes);
		return dst;
	}
	/* dst is above src and overlaps it: copy from the end. */
	d += bytes;
	s += bytes;
	if (word_aligned_together(d, s)) {
		while (bytes != 0u &&
		       ((uintptr_t)d & (WORD_BYTES - 1u)) != 0u) {
			*--d = *--s;
			bytes--;
		}
		while (bytes >= WORD_BYTES) {
			d -= WORD_BYTES;
			s -= WORD_BYTES;
			*(word_t *)(void *)d = *(const word_t *)(const void *)s;
			bytes -= WORD_BYTES;
		}
	}
	while (bytes != 0u) {
		*--d = *--s;
		bytes--;
	}
	return dst;
}
