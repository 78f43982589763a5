/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Helpers of the kheap tool (see util.h).
 */
#include "util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

_Noreturn void out_of_memory(void)
{
	fprintf(stderr, "kheap: out of memory\n");
	exit(KHEAP_EXIT_INTERNAL);
}

void *xmalloc(size_t bytes)
{
	void *p = malloc(bytes != 0u ? bytes : 1u);

	if (p == NULL) {
		out_of_memory();
	}
	return p;
}

void *xcalloc(size_t count, size_t bytes)
{
	void *p = calloc(count != 0u ? count : 1u, bytes != 0u ? bytes : 1u);

	if (p == NULL) {
		out_of_memory();
	}
	return p;
}

void *xrealloc(void *p, size_t bytes)
{
	void *q = realloc(p, bytes != 0u ? bytes : 1u);

	if (q == NULL) {
		out_of_memory();
	}
	return q;
}

char *xstrdup(const char *s)
{
	size_t n = strlen(s) + 1u;
	char *copy = xmalloc(n);

	memcpy(copy, s, n);
	return copy;
}

/* The digits of p (at least one, nothing else) in base 10 or 16. */
static bool parse_digits(const char *p, unsigned int base, uint64_t *value)
{
	uint64_t v = 0;

	if (*p == '\0') {
		return false;
	}
	for (; *p != '\0'; p++) {
		unsigned int digit;

		if (*p >= '0' && *p <= '9') {
			digit = (unsigned int)(*p - '0');
		} else if (base == 16 && *p >= 'a' && *p <= 'f') {
			digit = (unsigned int)(*p - 'a') + 10u;
		} else if (base == 16 && *p >= 'A' && *p <= 'F') {
			digit = (unsigned int)(*p - 'A') + 10u;
		} else {
			return false;
		}
		if (v > (UINT64_MAX - digit) / base) {
			return false;
		}
		v = v * base + digit;
	}
	*value = v;
	return true;
}

bool parse_u64(const char *text, uint64_t *value)
{
	if (text[0] == '0' && (text[1] == 'x' || text[1] == 'X')) {
		return parse_digits(text + 2, 16, value);
	}
	return parse_digits(text, 10, value);
}

bool parse_decimal_u64(const char *text, uint64_t *value)
{
	return parse_digits(text, 10, value);
}

bool parse_bytes(const char *text, uint64_t *value)
{
	static const struct {
		const char *suffix;
		unsigned int shift;
	} suffixes[] = {
		{"KiB", 10}, {"MiB", 20}, {"GiB", 30}, {"k", 10}, {"K", 10},
		{"m", 20},   {"M", 20},   {"g", 30},   {"G", 30},
	};
	size_t len = strlen(text);
	char number[32];

	for (size_t i = 0; i < sizeof(suffixes) / sizeof(suffixes[0]); i++) {
		size_t slen = strlen(suffixes[i].suffix);

		if (len > slen && len - slen < sizeof(number) &&
		    strcmp(text + len - slen, suffixes[i].suffix) == 0 &&
		    !(text[0] == '0' && (text[1] == 'x' || text[1] == 'X'))) {
			uint64_t v;

			memcpy(number, text, len - slen);
			number[len - slen] = '\0';
			if (!parse_u64(number, &v) ||
			    v > (UINT64_MAX >> suffixes[i].shift)) {
				return false;
			}
			*value = v << suffixes[i].shift;
			return true;
		}
	}
	return parse_u64(text, value);
}

/* ---- hashing --------------------------------------------------------- */

/* splitmix64's finaliser: a bijection that spreads every input bit. */
static uint64_t mix64(uint64_t key)
{
	key ^= key >> 30;
	key *= 0xbf58476d1ce4e5b9u;
	key ^= key >> 27;
	key *= 0x94d049bb133111ebu;
	key ^= key >> 31;
	return key;
}

/* A per-process secret folded into every hash. Traces are hostile input:
 * with a fixed hash, a trace could be written whose ids or names all
 * land in one probe sequence and make loading quadratic. */
static uint64_t hash_seed(void)
{
	static uint64_t seed;

	if (seed == 0u) {
		struct timespec now;
		uint64_t entropy = (uint64_t)(uintptr_t)&seed;

		clock_gettime(CLOCK_MONOTONIC, &now);
		entropy ^= (uint64_t)now.tv_nsec << 20 ^ (uint64_t)now.tv_sec;
		entropy ^= (uint64_t)getpid() << 40;
		seed = mix64(entropy) | 1u;
	}
	return seed;
}

/* ---- u64_map ------------------------------------------------------------- */

static size_t hash64(uint64_t key, size_t capacity)
{
	return (size_t)mix64(key ^ hash_seed()) & (capacity - 1u);
}

void u64_map_put(struct u64_map *m, uint64_t key, uint64_t value)
{
	if ((m->count + 1u) * 2u > m->capacity) {
		struct u64_map old = *m;

		m->capacity = old.capacity ? old.capacity * 2u : 1024u;
		m->keys = xcalloc(m->capacity, sizeof(*m->keys));
		m->values = xcalloc(m->capacity, sizeof(*m->values));
		m->used = xcalloc(m->capacity, sizeof(*m->used));
		m->count = 0;
		for (size_t i = 0; i < old.capacity; i++) {
			if (old.used[i]) {
				u64_map_put(m, old.keys[i], old.values[i]);
			}
		}
		u64_map_free(&old);
	}
	size_t i = hash64(key, m->capacity);

	while (m->used[i] && m->keys[i] != key) {
		i = (i + 1u) & (m->capacity - 1u);
	}
	if (!m->used[i]) {
		m->used[i] = true;
		m->keys[i] = key;
		m->count++;
	}
	m->values[i] = value;
}

bool u64_map_get(const struct u64_map *m, uint64_t key, uint64_t *value)
{
	if (m->capacity == 0u) {
		return false;
	}
	size_t i = hash64(key, m->capacity);

	while (m->used[i]) {
		if (m->keys[i] == key) {
			*value = m->values[i];
			return true;
		}
		i = (i + 1u) & (m->capacity - 1u);
	}
	return false;
}

void u64_map_free(struct u64_map *m)
{
	free(m->keys);
	free(m->values);
	free(m->used);
	memset(m, 0, sizeof(*m));
}

/* ---- str_set ------------------------------------------------------------- */

static size_t hash_str(const char *s, size_t capacity)
{
	/* FNV-1a from a seeded start, then mixed: the low bits of plain
	 * FNV-1a depend only on the low bits of its state. */
	uint64_t h = 0xcbf29ce484222325u ^ hash_seed();

	for (; *s != '\0'; s++) {
		h = (h ^ (unsigned char)*s) * 0x100000001b3u;
	}
	return (size_t)mix64(h) & (capacity - 1u);
}

static void str_set_rehash(struct str_set *s)
{
	free(s->slots);
	s->capacity = s->capacity ? s->capacity * 2u : 256u;
	s->slots = xcalloc(s->capacity, sizeof(*s->slots));
	for (size_t k = 0; k < s->count; k++) {
		size_t i = hash_str(s->strings[k], s->capacity);

		while (s->slots[i] != 0u) {
			i = (i + 1u) & (s->capacity - 1u);
		}
		s->slots[i] = (uint32_t)k + 1u;
	}
}

/* The slot holding text, or the empty slot where it would go
 * (capacity > count, so there is one). */
static size_t str_set_slot(const struct str_set *s, const char *text)
{
	size_t i = hash_str(text, s->capacity);

	while (s->slots[i] != 0u &&
	       strcmp(s->strings[s->slots[i] - 1u], text) != 0) {
		i = (i + 1u) & (s->capacity - 1u);
	}
	return i;
}

bool str_set_find(const struct str_set *s, const char *text, uint32_t *index)
{
	if (s->capacity == 0u) {
		return false;
	}
	size_t i = str_set_slot(s, text);

	if (s->slots[i] == 0u) {
		return false;
	}
	*index = s->slots[i] - 1u;
	return true;
}

uint32_t str_set_intern(struct str_set *s, const char *text)
{
	if ((s->count + 1u) * 2u > s->capacity) {
		str_set_rehash(s);
	}
	size_t i = str_set_slot(s, text);

	if (s->slots[i] != 0u) {
		return s->slots[i] - 1u;
	}
	if (s->count == s->strings_cap) {
		s->strings_cap = s->strings_cap ? s->strings_cap * 2u : 64u;
		s->strings =
			xrealloc(s->strings, s->strings_cap * sizeof(char *));
	}
	s->strings[s->count] = xstrdup(text);
	s->slots[i] = (uint32_t)s->count + 1u;
	return (uint32_t)s->count++;
}

char **str_set_take(struct str_set *s, size_t *count)
{
	char **strings = s->strings;

	*count = s->count;
	free(s->slots);
	memset(s, 0, sizeof(*s));
	return strings;
}

void str_set_free(struct str_set *s)
{
	size_t count;
	char **strings = str_set_take(s, &count);

	for (size_t i = 0; i < count; i++) {
		free(strings[i]);
	}
	free(strings);
}
