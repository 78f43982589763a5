/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Small helpers of the kheap tool: checked allocation, number parsing, a
 * map from 64-bit keys to values and a set of interned strings.
 */
#ifndef KHEAP_TOOL_UTIL_H
#define KHEAP_TOOL_UTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Exit statuses of the kheap command (docs/tools.md). */
enum kheap_exit {
	KHEAP_EXIT_OK = 0,
	KHEAP_EXIT_FAILED = 1, /* replay: events failed; size: none fits */
	KHEAP_EXIT_USAGE = 2,  /* bad command line */
	KHEAP_EXIT_TRACE = 3,  /* trace unreadable or malformed */
	KHEAP_EXIT_OUTPUT = 4, /* cannot write the output file */
	KHEAP_EXIT_INTERNAL = 5,
};

/* Print "kheap: out of memory" and exit with KHEAP_EXIT_INTERNAL. */
_Noreturn void out_of_memory(void);
void *xmalloc(size_t bytes);
void *xcalloc(size_t count, size_t bytes);
void *xrealloc(void *p, size_t bytes);
char *xstrdup(const char *s);

/* A decimal or 0x-hexadecimal unsigned integer, the whole string
 * (command-line numbers). */
bool parse_u64(const char *text, uint64_t *value);

/* Decimal digits only, the whole string (the numbers of a trace:
 * docs/trace-format.md). */
bool parse_decimal_u64(const char *text, uint64_t *value);

/* parse_u64 with an optional binary suffix: k/K (KiB), m/M (MiB),
 * g/G (GiB), also written KiB, MiB, GiB. */
bool parse_bytes(const char *text, uint64_t *value);

/* Map from uint64_t keys to uint64_t values (open addressing). */
struct u64_map {
	uint64_t *keys;
	uint64_t *values;
	bool *used;
	size_t capacity;
	size_t count;
};

void u64_map_put(struct u64_map *m, uint64_t key, uint64_t value);
bool u64_map_get(const struct u64_map *m, uint64_t key, uint64_t *value);
void u64_map_free(struct u64_map *m);

/* A set of strings, each given a dense index in order of first sight. */
struct str_set {
	char **strings; /* by index */
	size_t count;
	size_t strings_cap;
	uint32_t *slots; /* hash slots: index + 1, 0 = empty */
	size_t capacity;
};

uint32_t str_set_intern(struct str_set *s, const char *text);
/* The index of text if the set holds it. O(1) expected. */
bool str_set_find(const struct str_set *s, const char *text, uint32_t *index);
/* Hand the strings over (caller frees each and the array) and reset. */
char **str_set_take(struct str_set *s, size_t *count);
/* Free the strings and reset. */
void str_set_free(struct str_set *s);

#endif /* KHEAP_TOOL_UTIL_H */
