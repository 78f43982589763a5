/* SPDX-License-Identifier: Apache-2.0 */
/*
 * A small JSON writer for `kheap ... --json` (schema: docs/tools.md).
 *
 * The caller opens and closes objects and arrays in order; the writer
 * places commas and indentation. Members of an object take a key, values
 * inside an array take key NULL. Strings come from traces and are
 * hostile: the output is ASCII whatever they hold (quotes, backslashes,
 * control bytes and bytes above 0x7e are written as escapes, a byte
 * above 0x7f as \u00XX, that is, read as Latin-1), so it always parses.
 * Non-finite numbers are written as null.
 */
#ifndef KHEAP_TOOL_JSON_H
#define KHEAP_TOOL_JSON_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

/* Deeper nesting than kheap's schema needs is a programming error. */
#define JSON_MAX_DEPTH 8

struct json {
	FILE *f;
	int depth;
	/* Per open level (1 = the root): whether it has a member yet, and
	 * the bracket that closes it. */
	bool has_members[JSON_MAX_DEPTH + 1];
	char closer[JSON_MAX_DEPTH + 1];
};

/* Start the document's root object. */
void json_begin(struct json *j, FILE *f);
/* Close the root object and end the line. */
void json_finish(struct json *j);

void json_object(struct json *j, const char *key);
void json_array(struct json *j, const char *key);
/* Close the innermost object or array. */
void json_end(struct json *j);

/* value NULL writes null. */
void json_string(struct json *j, const char *key, const char *value);
void json_u64(struct json *j, const char *key, uint64_t value);
void json_double(struct json *j, const char *key, double value);
void json_bool(struct json *j, const char *key, bool value);
void json_null(struct json *j, const char *key);

#endif /* KHEAP_TOOL_JSON_H */
