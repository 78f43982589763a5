/* The allocators the timing runs compare; kheap first (the baseline). */
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "adapter.h"

const struct bench_allocator *const bench_adapters[] = {
	&bench_adapter_kheap,
	&bench_adapter_glibc,
	NULL,
};

const struct bench_allocator *const bench_references[] = {
	&bench_adapter_ref_bestfit,
	&bench_adapter_ref_firstfit,
	NULL,
};

void bench_die(const char *fmt, ...)
{
	va_list ap;

	fflush(stdout);
	fputs("kheap_bench: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	abort();
}

void bench_check_aligned(const char *who, const char *what, uintptr_t mem,
			 size_t align)
{
	if (mem != 0u && (mem & (align - 1u)) != 0u) {
		bench_die("%s: %s returned %#lx, not aligned to %zu", who, what,
			  (unsigned long)mem, align);
	}
}
