/* SPDX-License-Identifier: Apache-2.0 */
/*
 * jemalloc (Debian's libjemalloc2), loaded with dlopen at run time.
 *
 * Debian builds jemalloc without a symbol prefix: its malloc is called
 * "malloc". Linking it would make it the malloc of the whole process, and
 * the glibc adapter would silently measure jemalloc. Loaded RTLD_LOCAL its
 * symbols stay out of the global scope, so the rest of the process keeps
 * glibc's malloc and this adapter reaches jemalloc's functions through
 * dlsym; RTLD_DEEPBIND makes jemalloc's own calls to malloc and free (it
 * has some, through its PLT) bind to jemalloc rather than to glibc.
 *
 * The library has initial-exec TLS: glibc loads it at run time only with
 * a larger static TLS reserve (GLIBC_TUNABLES=
 * glibc.rtld.optional_static_tls=16384, which scripts/bench sets). Without
 * it, or without the library, load() says why and the other allocators
 * are measured as usual.
 *
 * Not region-bounded: memory comes from jemalloc's own mmap'd extents.
 */
#include <dlfcn.h>
#include <stdio.h>
#include <string.h>
#include <sys/types.h>

#include "adapter.h"

static void *(*je_malloc)(size_t);
static void (*je_free)(void *);
static void *(*je_realloc)(void *, size_t);
static int (*je_posix_memalign)(void **, size_t, size_t);
static size_t (*je_usable_size)(void *);
static int (*je_mallctl)(const char *, void *, size_t *, void *, size_t);
static size_t misaligned;

/* Looks a symbol up in jemalloc itself (dlsym on the handle searches the
 * library first, not the global scope). */
static int sym(void *handle, const char *name, void *fn, size_t fn_size,
	       char *why, size_t why_len)
{
	void *p = dlsym(handle, name);

	if (p == NULL) {
		snprintf(why, why_len, "libjemalloc.so.2 has no %s", name);
		return -1;
	}
	/* Object pointer to function pointer: POSIX guarantees dlsym's
	 * result converts; memcpy keeps -Wpedantic quiet. */
	memcpy(fn, &p, fn_size);
	return 0;
}

static const char *jemalloc_load(void)
{
	static char why[640];
	void *h = bench_dlopen("libjemalloc.so.2", true, why, sizeof(why));

	if (h == NULL) {
		return why;
	}
	if (sym(h, "malloc", &je_malloc, sizeof(je_malloc), why, sizeof(why)) ||
	    sym(h, "free", &je_free, sizeof(je_free), why, sizeof(why)) ||
	    sym(h, "realloc", &je_realloc, sizeof(je_realloc), why,
		sizeof(why)) ||
	    sym(h, "posix_memalign", &je_posix_memalign,
		sizeof(je_posix_memalign), why, sizeof(why)) ||
	    sym(h, "malloc_usable_size", &je_usable_size,
		sizeof(je_usable_size), why, sizeof(why)) ||
	    sym(h, "mallctl", &je_mallctl, sizeof(je_mallctl), why,
		sizeof(why))) {
		return why;
	}
	/* A symbol from glibc instead would mean the library is not
	 * jemalloc (or the lookup went to the global scope). */
	if (dlsym(h, "malloc") == dlsym(RTLD_DEFAULT, "malloc")) {
		return "dlsym(malloc) on libjemalloc.so.2 returned glibc's "
		       "malloc";
	}
	/* The first call initialises jemalloc: outside any measurement. */
	je_free(je_malloc(1));

	/* Keep freed pages mapped between rounds, as the glibc adapter's
	 * M_TRIM_THRESHOLD does and as kheap's pre-faulted region is:
	 * nobody pays page faults in timed rounds. -1: never purge. Set on
	 * the arena this (only) thread uses and as the default of arenas
	 * created later. */
	ssize_t never = -1;
	unsigned int arena = 0;
	size_t len = sizeof(arena);
	char name[64];

	if (je_mallctl("thread.arena", &arena, &len, NULL, 0) != 0) {
		arena = 0;
	}
	for (int i = 0; i < 4; i++) {
		const char *what = (i & 1) ? "muzzy" : "dirty";

		if (i < 2) {
			snprintf(name, sizeof(name), "arenas.%s_decay_ms",
				 what);
		} else {
			snprintf(name, sizeof(name), "arena.%u.%s_decay_ms",
				 arena, what);
		}
		if (je_mallctl(name, NULL, NULL, &never, sizeof(never)) != 0) {
			fprintf(stderr,
				"kheap_bench: jemalloc: mallctl(%s) failed; "
				"it may return pages to the kernel between "
				"rounds\n",
				name);
		}
	}
	return NULL;
}

static int jemalloc_init(void *region, size_t bytes)
{
	(void)region;
	(void)bytes;
	return 0;
}

static void *jemalloc_alloc(size_t bytes)
{
	void *mem = je_malloc(bytes);

	bench_count_misaligned(&misaligned, "jemalloc", "malloc",
			       (uintptr_t)mem, 8);
	return mem;
}

static void *jemalloc_aligned_alloc(size_t align, size_t bytes)
{
	void *mem;

	if (align < sizeof(void *)) {
		align = sizeof(void *);
	}
	if (je_posix_memalign(&mem, align, bytes) != 0) {
		return NULL;
	}
	bench_count_misaligned(&misaligned, "jemalloc", "posix_memalign",
			       (uintptr_t)mem, align);
	return mem;
}

static void jemalloc_free(void *mem)
{
	je_free(mem);
}

static void *jemalloc_realloc(void *mem, size_t bytes)
{
	void *new_mem = je_realloc(mem, bytes);

	bench_count_misaligned(&misaligned, "jemalloc", "realloc",
			       (uintptr_t)new_mem, 8);
	return new_mem;
}

static size_t jemalloc_usable_size(void *mem)
{
	return je_usable_size(mem);
}

const struct bench_allocator bench_adapter_jemalloc = {
	.name = "jemalloc",
	.region_bounded = false,
	.w3_note = "takes memory from the kernel in extents of its own; "
		   "the only way to give it a fixed region is a custom extent "
		   "allocator under its extent hooks, which would measure "
		   "that allocator as much as jemalloc",
	.load = jemalloc_load,
	.init = jemalloc_init,
	.alloc = jemalloc_alloc,
	.aligned_alloc = jemalloc_aligned_alloc,
	.free = jemalloc_free,
	.realloc = jemalloc_realloc,
	.check = NULL,
	.usable_size = jemalloc_usable_size,
	.misaligned = &misaligned,
};
