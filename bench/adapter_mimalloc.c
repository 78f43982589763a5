/* SPDX-License-Identifier: Apache-2.0 */
/*
 * mimalloc (Debian's libmimalloc2.0), through its own mi_* functions,
 * loaded with dlopen at run time.
 *
 * Debian's libmimalloc also exports malloc and free: linking it would make
 * it the malloc of the whole process, and the glibc adapter would silently
 * measure mimalloc. Loaded RTLD_LOCAL it replaces nothing; the
 * adapter calls mi_malloc, mi_malloc_aligned, mi_realloc and mi_free, which
 * are mimalloc's explicit API. Without the library, load() says why and the
 * other allocators are measured as usual.
 *
 * Debian's 2.0.9 returns misaligned blocks for some 256-byte aligned
 * requests (a known upstream bug); the adapter counts them and the report
 * marks the affected figures invalid.
 *
 * Not region-bounded: memory comes from mimalloc's own segments.
 */
#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "adapter.h"

static void *(*mi_malloc_fn)(size_t);
static void *(*mi_malloc_aligned_fn)(size_t, size_t);
static void (*mi_free_fn)(void *);
static void *(*mi_realloc_fn)(void *, size_t);
static size_t (*mi_usable_size_fn)(const void *);
static size_t misaligned;

static int sym(void *handle, const char *name, void *fn, size_t fn_size,
	       char *why, size_t why_len)
{
	void *p = dlsym(handle, name);

	if (p == NULL) {
		snprintf(why, why_len, "libmimalloc.so.2 has no %s", name);
		return -1;
	}
	memcpy(fn, &p, fn_size);
	return 0;
}

static const char *mimalloc_load(void)
{
	static char why[640];

	/* Keep freed memory committed between rounds, as the glibc
	 * adapter's M_TRIM_THRESHOLD does and as kheap's pre-faulted region
	 * is. mimalloc reads its options from the environment when it is
	 * loaded; the names are those of 2.0.x and (ignored by 2.0.x) 2.1+.
	 * A value already set by the user wins. */
	setenv("MIMALLOC_ALLOW_DECOMMIT", "0", 0);
	setenv("MIMALLOC_PURGE_DELAY", "-1", 0);

	void *h = bench_dlopen("libmimalloc.so.2", false, why, sizeof(why));

	if (h == NULL) {
		return why;
	}
	if (sym(h, "mi_malloc", &mi_malloc_fn, sizeof(mi_malloc_fn), why,
		sizeof(why)) ||
	    sym(h, "mi_malloc_aligned", &mi_malloc_aligned_fn,
		sizeof(mi_malloc_aligned_fn), why, sizeof(why)) ||
	    sym(h, "mi_free", &mi_free_fn, sizeof(mi_free_fn), why,
		sizeof(why)) ||
	    sym(h, "mi_realloc", &mi_realloc_fn, sizeof(mi_realloc_fn), why,
		sizeof(why)) ||
	    sym(h, "mi_usable_size", &mi_usable_size_fn,
		sizeof(mi_usable_size_fn), why, sizeof(why))) {
		return why;
	}
	/* The first call initialises the thread's heap: outside any
	 * measurement. */
	mi_free_fn(mi_malloc_fn(1));
	return NULL;
}

static int mimalloc_init(void *region, size_t bytes)
{
	(void)region;
	(void)bytes;
	return 0;
}

static void *mimalloc_alloc(size_t bytes)
{
	void *mem = mi_malloc_fn(bytes);

	bench_count_misaligned(&misaligned, "mimalloc", "mi_malloc",
			       (uintptr_t)mem, 8);
	return mem;
}

static void *mimalloc_aligned_alloc(size_t align, size_t bytes)
{
	void *mem = mi_malloc_aligned_fn(bytes, align);

	bench_count_misaligned(&misaligned, "mimalloc", "mi_malloc_aligned",
			       (uintptr_t)mem, align < 8 ? 8 : align);
	return mem;
}

static void mimalloc_free(void *mem)
{
	mi_free_fn(mem);
}

static void *mimalloc_realloc(void *mem, size_t bytes)
{
	void *new_mem = mi_realloc_fn(mem, bytes);

	bench_count_misaligned(&misaligned, "mimalloc", "mi_realloc",
			       (uintptr_t)new_mem, 8);
	return new_mem;
}

static size_t mimalloc_usable_size(void *mem)
{
	return mi_usable_size_fn(mem);
}

const struct bench_allocator bench_adapter_mimalloc = {
	.name = "mimalloc",
	.region_bounded = false,
	.w3_note = "its only way to use given memory, an exclusive arena "
		   "(mi_manage_os_memory_ex), refuses regions below 32 MiB in "
		   "Debian's 2.0.9 (tried on 32 MiB-aligned memory: 256 KiB, "
		   "4, 8 and 16 MiB are refused, 32 MiB is accepted)",
	.load = mimalloc_load,
	.init = mimalloc_init,
	.alloc = mimalloc_alloc,
	.aligned_alloc = mimalloc_aligned_alloc,
	.free = mimalloc_free,
	.realloc = mimalloc_realloc,
	.check = NULL,
	.usable_size = mimalloc_usable_size,
	.misaligned = &misaligned,
};
