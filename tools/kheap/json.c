/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The JSON writer (json.h).
 */
#include "json.h"

#include <inttypes.h>
#include <math.h>
#include <stdlib.h>

static void write_string(FILE *f, const char *s)
{
	fputc('"', f);
	for (const unsigned char *p = (const unsigned char *)s; *p != '\0';
	     p++) {
		if (*p == '"' || *p == '\\') {
			fputc('\\', f);
			fputc(*p, f);
		} else if (*p == '\n') {
			fputs("\\n", f);
		} else if (*p < 0x20u || *p > 0x7eu) {
			fprintf(f, "\\u%04x", (unsigned int)*p);
		} else {
			fputc(*p, f);
		}
	}
	fputc('"', f);
}

/* The comma, line break and indentation before a value, and its key. */
static void begin_value(struct json *j, const char *key)
{
	if (j->has_members[j->depth]) {
		fputc(',', j->f);
	}
	j->has_members[j->depth] = true;
	fprintf(j->f, "\n%*s", 2 * j->depth, "");
	if (key != NULL) {
		write_string(j->f, key);
		fputs(": ", j->f);
	}
}

static void open_container(struct json *j, const char *key, char opener,
			   char closer)
{
	begin_value(j, key);
	fputc(opener, j->f);
	if (j->depth == JSON_MAX_DEPTH) {
		abort(); /* a schema deeper than the writer's stack */
	}
	j->depth++;
	j->has_members[j->depth] = false;
	j->closer[j->depth] = closer;
}

void json_begin(struct json *j, FILE *f)
{
	j->f = f;
	fputc('{', f);
	j->depth = 1;
	j->has_members[1] = false;
	j->closer[1] = '}';
}

void json_finish(struct json *j)
{
	while (j->depth > 0) {
		json_end(j);
	}
	fputc('\n', j->f);
}

void json_object(struct json *j, const char *key)
{
	open_container(j, key, '{', '}');
}

void json_array(struct json *j, const char *key)
{
	open_container(j, key, '[', ']');
}

void json_end(struct json *j)
{
	if (j->depth == 0) {
		abort(); /* more closes than opens */
	}
	if (j->has_members[j->depth]) {
		fprintf(j->f, "\n%*s", 2 * (j->depth - 1), "");
	}
	fputc(j->closer[j->depth], j->f);
	j->depth--;
}

void json_string(struct json *j, const char *key, const char *value)
{
	begin_value(j, key);
	if (value == NULL) {
		fputs("null", j->f);
	} else {
		write_string(j->f, value);
	}
}

void json_u64(struct json *j, const char *key, uint64_t value)
{
	begin_value(j, key);
	fprintf(j->f, "%" PRIu64, value);
}

void json_double(struct json *j, const char *key, double value)
{
	begin_value(j, key);
	if (isfinite(value)) {
		fprintf(j->f, "%.6g", value);
	} else {
		fputs("null", j->f);
	}
}

void json_bool(struct json *j, const char *key, bool value)
{
	begin_value(j, key);
	fputs(value ? "true" : "false", j->f);
}

void json_null(struct json *j, const char *key)
{
	begin_value(j, key);
	fputs("null", j->f);
}
