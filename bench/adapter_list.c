/* SPDX-License-Identifier: Apache-2.0 */
/* The allocators the timing runs compare; kheap first (the baseline). */
#include <dlfcn.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "adapter.h"

const struct bench_allocator *const bench_adapters[] = {
	&bench_adapter_kheap,
#ifdef KHEAP_BENCH_BACKEND_ADAPTER
	&bench_adapter_backend,
#endif
	&bench_adapter_glibc,    &bench_adapter_jemalloc,
	&bench_adapter_mimalloc, NULL,
};

const struct bench_allocator *const bench_references[] = {
	&bench_adapter_ref_bestfit,
	&bench_adapter_ref_firstfit,
	NULL,
};

#define MAX_LOADED 16u

/* load() results, so that every subcommand loads an allocator once. */
static struct {
	const struct bench_allocator *a;
	const char *why;
} loaded[MAX_LOADED];
static size_t nloaded;

const char *bench_adapter_ready(const struct bench_allocator *a)
{
	for (size_t i = 0; i < nloaded; i++) {
		if (loaded[i].a == a) {
			return loaded[i].why;
		}
	}
	const char *why = a->load != NULL ? a->load() : NULL;

	if (nloaded < MAX_LOADED) {
		loaded[nloaded].a = a;
		loaded[nloaded].why = why;
		nloaded++;
	}
	return why;
}

static bool named_in(const char *name, const char *filter)
{
	size_t n = strlen(name);

	for (const char *p = filter; *p != '\0';) {
		size_t len = strcspn(p, ",");

		if (len == n && strncmp(p, name, n) == 0) {
			return true;
		}
		p += len;
		p += *p == ',';
	}
	return false;
}

size_t bench_active_adapters(const struct bench_allocator **out,
			     const char *filter)
{
	static bool reported[MAX_LOADED];
	size_t n = 0;

	for (size_t k = 0; bench_adapters[k] != NULL; k++) {
		const struct bench_allocator *a = bench_adapters[k];

		if (filter != NULL && !named_in(a->name, filter)) {
			continue;
		}
		const char *why = bench_adapter_ready(a);

		if (why == NULL) {
			out[n++] = a;
			continue;
		}
		/* Said once per process, however many subcommands ask. */
		if (k < MAX_LOADED && !reported[k]) {
			reported[k] = true;
			printf("UNAVAILABLE alloc=%s reason=%s\n", a->name,
			       why);
			fprintf(stderr,
				"kheap_bench: %s is NOT measured in this run: "
				"%s\n",
				a->name, why);
		}
	}
	out[n] = NULL;
	return n;
}

void *bench_dlopen(const char *soname, bool deep, char *why, size_t why_len)
{
	int flags = RTLD_NOW | RTLD_LOCAL;

#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
	deep = false;
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer) ||     \
	__has_feature(memory_sanitizer)
	deep = false;
#endif
#endif
	if (deep) {
		flags |= RTLD_DEEPBIND;
	}
	void *handle = dlopen(soname, flags);

	if (handle == NULL) {
		const char *err = dlerror();

		snprintf(why, why_len, "dlopen(%s) failed: %s%s", soname,
			 err != NULL ? err : "unknown error",
			 err != NULL && strstr(err, "static TLS") != NULL
				 ? " (start kheap_bench with GLIBC_TUNABLES="
				   "glibc.rtld.optional_static_tls=16384, as "
				   "scripts/bench does)"
				 : "");
	}
	return handle;
}

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

void bench_count_misaligned(size_t *count, const char *who, const char *what,
			    uintptr_t mem, size_t align)
{
	if (mem != 0u && (mem & (align - 1u)) != 0u) {
		if (*count == 0u) {
			fprintf(stderr,
				"kheap_bench: %s: %s returned %#lx, not "
				"aligned to %zu (counted; this allocator's "
				"figures for the workload are reported as "
				"invalid)\n",
				who, what, (unsigned long)mem, align);
		}
		(*count)++;
	}
}
