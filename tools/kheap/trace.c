/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Trace reader: one pass over the file, checking every line as it goes,
 * so that an error names the first line at fault. Format:
 * docs/trace-format.md.
 */
#include "trace.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util.h"

#include <zephyr/sys/sys_heap.h>

static const char *const op_names[OP_COUNT] = {
	[OP_K_MALLOC] = "k_malloc",
	[OP_K_CALLOC] = "k_calloc",
	[OP_K_REALLOC] = "k_realloc",
	[OP_K_ALIGNED_ALLOC] = "k_aligned_alloc",
	[OP_K_FREE] = "k_free",
	[OP_HEAP_ALLOC] = "k_heap_alloc",
	[OP_HEAP_ALIGNED_ALLOC] = "k_heap_aligned_alloc",
	[OP_HEAP_CALLOC] = "k_heap_calloc",
	[OP_HEAP_REALLOC] = "k_heap_realloc",
	[OP_HEAP_FREE] = "k_heap_free",
};

const char *trace_op_name(enum trace_op op)
{
	return (unsigned int)op < OP_COUNT ? op_names[op] : "?";
}

bool trace_op_is_free(enum trace_op op)
{
	return op == OP_K_FREE || op == OP_HEAP_FREE;
}

bool trace_op_is_realloc(enum trace_op op)
{
	return op == OP_K_REALLOC || op == OP_HEAP_REALLOC;
}

bool trace_op_is_aligned(enum trace_op op)
{
	return op == OP_K_ALIGNED_ALLOC || op == OP_HEAP_ALIGNED_ALLOC;
}

bool trace_op_is_calloc(enum trace_op op)
{
	return op == OP_K_CALLOC || op == OP_HEAP_CALLOC;
}

bool trace_op_is_kmalloc_family(enum trace_op op)
{
	return op == OP_K_MALLOC || op == OP_K_CALLOC || op == OP_K_REALLOC ||
	       op == OP_K_ALIGNED_ALLOC || op == OP_K_FREE;
}

int trace_heap_find(const struct trace *t, const char *name)
{
	for (size_t i = 0; i < t->heap_count; i++) {
		if (strcmp(t->heaps[i].name, name) == 0) {
			return (int)i;
		}
	}
	return -1;
}

/* ---- the reader's state ------------------------------------------------- */

struct reader {
	struct trace *t;
	const char *path;
	uint32_t line;
	char *err;
	size_t err_size;
	size_t events_cap, blocks_cap, modules_cap;
	struct u64_map ids;     /* trace id -> block index */
	struct str_set threads; /* interned strings */
	struct str_set sites;
	/* Heap names; a name's index is its heap's index in t->heaps. */
	struct str_set heap_names;
	size_t heaps_cap;
	/* Heaps declared with @heap (not just named by an event). */
	bool *heap_declared;
};

static int fail(struct reader *r, const char *fmt, ...)
{
	va_list ap;
	int n = snprintf(r->err, r->err_size, "%s:%u: ", r->path, r->line);

	if (n < 0 || (size_t)n >= r->err_size) {
		return -1;
	}
	va_start(ap, fmt);
	vsnprintf(r->err + n, r->err_size - (size_t)n, fmt, ap);
	va_end(ap);
	return -1;
}

/* Split line into at most max whitespace-separated fields, in place. */
static size_t split(char *line, char **fields, size_t max)
{
	size_t n = 0;
	char *p = line;

	for (;;) {
		while (*p == ' ' || *p == '\t') {
			p++;
		}
		if (*p == '\0') {
			return n;
		}
		if (n == max) {
			return max + 1u; /* too many */
		}
		fields[n++] = p;
		while (*p != '\0' && *p != ' ' && *p != '\t') {
			p++;
		}
		if (*p != '\0') {
			*p++ = '\0';
		}
	}
}

static bool valid_name(const char *s)
{
	if (*s == '\0' || strlen(s) >= sizeof(((struct trace_heap *)0)->name)) {
		return false;
	}
	for (; *s != '\0'; s++) {
		char c = *s;

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		      (c >= '0' && c <= '9') || c == '_' || c == '.' ||
		      c == '-')) {
			return false;
		}
	}
	return true;
}

/* The heap called name, or -1. */
static int find_heap(const struct reader *r, const char *name)
{
	uint32_t index;

	return str_set_find(&r->heap_names, name, &index) ? (int)index : -1;
}

/* A new heap called name (not yet known); -1 if there are too many. */
static int add_heap(struct reader *r, const char *name)
{
	struct trace *t = r->t;

	if (t->heap_count >= TRACE_MAX_HEAPS) {
		return -1;
	}
	if (t->heap_count == r->heaps_cap) {
		r->heaps_cap = r->heaps_cap ? r->heaps_cap * 2u : 16u;
		t->heaps = xrealloc(t->heaps, r->heaps_cap * sizeof(*t->heaps));
		r->heap_declared =
			xrealloc(r->heap_declared, r->heaps_cap * sizeof(bool));
	}
	struct trace_heap *h = &t->heaps[t->heap_count];

	memset(h, 0, sizeof(*h));
	snprintf(h->name, sizeof(h->name), "%s", name);
	r->heap_declared[t->heap_count] = false;
	(void)str_set_intern(&r->heap_names, name);
	return (int)t->heap_count++;
}

/* The heap called name, added if new; -1 (with the error reported) if
 * there are too many. */
static int heap_named(struct reader *r, const char *name)
{
	int index = find_heap(r, name);

	if (index < 0) {
		index = add_heap(r, name);
		if (index < 0) {
			fail(r, "too many heaps (at most %u)", TRACE_MAX_HEAPS);
		}
	}
	return index;
}

/* ---- header and declarations --------------------------------------------- */

static int parse_header(struct reader *r, char *line)
{
	char *fields[64];
	size_t n = split(line, fields, 63);
	uint64_t v;

	if (n == 0 || strcmp(fields[0], "kheap-trace") != 0) {
		return fail(r, "not a kheap trace: the first line must be "
			       "'kheap-trace <version> ...'");
	}
	if (n < 2 || !parse_decimal_u64(fields[1], &v)) {
		return fail(r, "trace header: missing or malformed version");
	}
	if (v != TRACE_FORMAT_VERSION) {
		return fail(r,
			    "trace format version %llu is not supported (this "
			    "kheap reads version %u)",
			    (unsigned long long)v, TRACE_FORMAT_VERSION);
	}
	r->t->version = (unsigned int)v;
	for (size_t i = 2; i < n && i < 63; i++) {
		char *eq = strchr(fields[i], '=');

		if (eq == NULL) {
			return fail(r, "trace header: '%s' is not key=value",
				    fields[i]);
		}
		*eq = '\0';
		const char *key = fields[i];
		const char *value = eq + 1;

		if (strcmp(key, "ptr_bytes") == 0) {
			if (!parse_decimal_u64(value, &v) ||
			    (v != 4u && v != 8u)) {
				return fail(r,
					    "trace header: ptr_bytes must be 4 "
					    "or 8, not '%s'",
					    value);
			}
			r->t->ptr_bytes = (unsigned int)v;
		} else if (strcmp(key, "tick_hz") == 0) {
			if (!parse_decimal_u64(value, &v) || v == 0u) {
				return fail(r, "trace header: bad tick_hz '%s'",
					    value);
			}
			r->t->tick_hz = v;
		}
		/* Other keys describe the recording (clock, mode, ...);
		 * readers ignore keys they do not know. */
	}
	if (n > 63) {
		return fail(r, "trace header: too many fields");
	}
	return 0;
}

static int parse_heap_decl(struct reader *r, char **f, size_t n)
{
	if (n < 3 || n > 4) {
		return fail(r, "@heap needs: @heap <name> <bytes|-> "
			       "[phase=<n>]");
	}
	if (!valid_name(f[1])) {
		return fail(r,
			    "bad heap name '%s' (letters, digits, '_', '.', "
			    "'-'; at most 31)",
			    f[1]);
	}
	int index = find_heap(r, f[1]);

	if (index >= 0 && r->heap_declared[index]) {
		return fail(r, "heap '%s' declared twice", f[1]);
	}
	if (index < 0) {
		index = heap_named(r, f[1]);
		if (index < 0) {
			return -1;
		}
	}
	struct trace_heap *h = &r->t->heaps[index];

	r->heap_declared[index] = true;
	if (strcmp(f[2], "-") != 0) {
		if (!parse_decimal_u64(f[2], &h->bytes)) {
			return fail(r, "@heap %s: bad size '%s'", f[1], f[2]);
		}
		/* A size no sys_heap region can have: the trace, not the
		 * command line, is wrong (exit 3 with this line). */
		if (h->bytes > SYS_HEAP_MAX_REGION_BYTES) {
			return fail(
				r,
				"@heap %s: size %s is above sys_heap's "
				"maximum region (%llu bytes)",
				f[1], f[2],
				(unsigned long long)SYS_HEAP_MAX_REGION_BYTES);
		}
		h->bytes_known = true;
	}
	if (n == 4) {
		uint64_t phase;

		if (strncmp(f[3], "phase=", 6) != 0 ||
		    !parse_decimal_u64(f[3] + 6, &phase) || phase >= 4096u) {
			return fail(r,
				    "@heap %s: expected phase=<0..4095>, "
				    "not '%s'",
				    f[1], f[3]);
		}
		h->phase = (unsigned int)phase;
	}
	return 0;
}

static int parse_module_decl(struct reader *r, char *line)
{
	/* @module <name> <path...>: the path is the rest of the line. */
	char *p = line + strlen("@module");
	struct trace *t = r->t;

	while (*p == ' ' || *p == '\t') {
		p++;
	}
	char *name = p;

	while (*p != '\0' && *p != ' ' && *p != '\t') {
		p++;
	}
	if (*p == '\0' || p == name) {
		return fail(r, "@module needs: @module <name> <path>");
	}
	*p++ = '\0';
	while (*p == ' ' || *p == '\t') {
		p++;
	}
	if (*p == '\0') {
		return fail(r, "@module needs: @module <name> <path>");
	}
	if (t->module_count == r->modules_cap) {
		r->modules_cap = r->modules_cap ? r->modules_cap * 2u : 8u;
		t->modules = xrealloc(t->modules,
				      r->modules_cap * sizeof(*t->modules));
	}
	t->modules[t->module_count].name = xstrdup(name);
	t->modules[t->module_count].path = xstrdup(p);
	t->module_count++;
	return 0;
}

/* ---- events -------------------------------------------------------------- */

/* "-" -> TRACE_NO_BLOCK, "?" -> TRACE_UNKNOWN_BLOCK, else an id. */
static int parse_block_ref(struct reader *r, const char *text, const char *what,
			   bool allow_unknown, uint64_t *id, int *kind)
{
	if (strcmp(text, "-") == 0) {
		*kind = 0;
		return 0;
	}
	if (strcmp(text, "?") == 0 && allow_unknown) {
		*kind = 1;
		return 0;
	}
	if (!parse_decimal_u64(text, id) || *id == 0u) {
		return fail(r, "bad %s '%s' (a positive integer or '-'%s)",
			    what, text, allow_unknown ? " or '?'" : "");
	}
	*kind = 2;
	return 0;
}

static int parse_size(struct reader *r, struct trace_event *e, const char *text)
{
	const char *x = strchr(text, 'x');

	if (x != NULL && trace_op_is_calloc((enum trace_op)e->op)) {
		/* NxS: calloc's element count and element size. */
		char count_text[32];
		size_t len = (size_t)(x - text);
		uint64_t count, each;

		if (len == 0 || len >= sizeof(count_text)) {
			return fail(r, "bad calloc size '%s' (N or NxS)", text);
		}
		memcpy(count_text, text, len);
		count_text[len] = '\0';
		if (!parse_decimal_u64(count_text, &count) ||
		    !parse_decimal_u64(x + 1, &each)) {
			return fail(r, "bad calloc size '%s' (N or NxS)", text);
		}
		if (each != 0u && count > UINT64_MAX / each) {
			e->size_overflow = true;
			e->size_bytes = UINT64_MAX;
		} else {
			e->size_bytes = count * each;
		}
		return 0;
	}
	if (!parse_decimal_u64(text, &e->size_bytes)) {
		return fail(r, "bad size '%s' (bytes)", text);
	}
	return 0;
}

static uint32_t new_block(struct reader *r, uint64_t id, uint32_t event)
{
	struct trace *t = r->t;

	if (t->block_count == r->blocks_cap) {
		r->blocks_cap = r->blocks_cap ? r->blocks_cap * 2u : 1024u;
		t->blocks =
			xrealloc(t->blocks, r->blocks_cap * sizeof(*t->blocks));
	}
	uint32_t index = (uint32_t)t->block_count++;

	t->blocks[index] = (struct trace_block){
		.id = id,
		.alloc_event = event,
		.release_event = UINT32_MAX,
	};
	u64_map_put(&r->ids, id, index);
	return index;
}

static int parse_event(struct reader *r, char **f, size_t n)
{
	struct trace *t = r->t;
	struct trace_event e = {.line = r->line};
	int op = -1;

	if (n != 9) {
		return fail(r,
			    "an event has 9 fields (tick thread op heap size "
			    "align id arg site), this line has %s%zu",
			    n > 9 ? "more than " : "", n > 9 ? (size_t)9 : n);
	}
	if (!parse_decimal_u64(f[0], &e.tick)) {
		return fail(r, "bad tick '%s'", f[0]);
	}
	for (int i = 0; i < OP_COUNT; i++) {
		if (strcmp(f[2], op_names[i]) == 0) {
			op = i;
		}
	}
	if (op < 0) {
		return fail(r, "unknown operation '%s'", f[2]);
	}
	e.op = (uint8_t)op;
	bool is_free = trace_op_is_free((enum trace_op)op);
	bool is_realloc = trace_op_is_realloc((enum trace_op)op);
	bool is_alloc = !is_free && !is_realloc;

	/* size and align */
	if (is_free) {
		if (strcmp(f[4], "-") != 0) {
			return fail(r, "%s takes no size (write '-')", f[2]);
		}
	} else if (parse_size(r, &e, f[4]) != 0) {
		return -1;
	}
	if (trace_op_is_aligned((enum trace_op)op)) {
		if (!parse_decimal_u64(f[5], &e.align)) {
			return fail(r, "%s needs an alignment, not '%s'", f[2],
				    f[5]);
		}
	} else if (strcmp(f[5], "-") != 0) {
		return fail(r, "%s takes no alignment (write '-')", f[2]);
	}

	/* id (the result) and arg (the block passed in) */
	uint64_t result_id = 0, arg_id = 0;
	/* Set by parse_block_ref on success; initialised because GCC -O3
	 * cannot see that fail() never returns 0. */
	int result_kind = 0, arg_kind = 0;

	if (parse_block_ref(r, f[6], "id", false, &result_id, &result_kind) !=
		    0 ||
	    parse_block_ref(r, f[7], "arg", true, &arg_id, &arg_kind) != 0) {
		return -1;
	}
	if (is_free && result_kind != 0) {
		return fail(r, "%s returns no block: its id must be '-'", f[2]);
	}
	if (is_alloc && arg_kind != 0) {
		return fail(r, "%s takes no block: its arg must be '-'", f[2]);
	}
	if (is_realloc && e.size_bytes == 0u && result_kind != 0) {
		return fail(r, "%s to 0 bytes frees: its id must be '-'", f[2]);
	}

	/* heap: named, or '-' when the block passed in decides it */
	int heap = -1;

	if (strcmp(f[3], "-") != 0) {
		if (!valid_name(f[3])) {
			return fail(r, "bad heap name '%s'", f[3]);
		}
		heap = heap_named(r, f[3]);
		if (heap < 0) {
			return -1;
		}
	}
	uint32_t event_index = (uint32_t)t->event_count;

	if (arg_kind == 2) {
		uint64_t index;

		if (!u64_map_get(&r->ids, arg_id, &index)) {
			return fail(r, "id %llu was never allocated",
				    (unsigned long long)arg_id);
		}
		struct trace_block *b = &t->blocks[index];

		if (b->release_event != UINT32_MAX) {
			return fail(r,
				    "id %llu is not live: released at line %u",
				    (unsigned long long)arg_id,
				    t->events[b->release_event].line);
		}
		int block_heap = (int)t->events[b->alloc_event].heap;

		if (heap >= 0 && heap != block_heap) {
			return fail(r, "id %llu belongs to heap %s, not %s",
				    (unsigned long long)arg_id,
				    t->heaps[block_heap].name, f[3]);
		}
		heap = block_heap;
		e.arg = (uint32_t)index + 1u;
		/* A successful realloc or any free ends the old block. */
		if (is_free || e.size_bytes == 0u || result_kind != 0) {
			b->release_event = event_index;
		}
	} else {
		e.arg = arg_kind == 1 ? TRACE_UNKNOWN_BLOCK : TRACE_NO_BLOCK;
	}
	if (heap < 0 &&
	    (is_alloc || result_kind != 0 || (is_realloc && arg_kind == 0))) {
		return fail(r, "%s needs a heap name", f[2]);
	}
	e.heap = heap < 0 ? TRACE_NO_HEAP : (uint32_t)heap;
	if (heap >= 0) {
		t->heaps[heap].event_count++;
	}
	if (result_kind == 2) {
		uint64_t index;

		if (u64_map_get(&r->ids, result_id, &index)) {
			return fail(
				r, "id %llu already used at line %u",
				(unsigned long long)result_id,
				t->events[t->blocks[index].alloc_event].line);
		}
		e.result = new_block(r, result_id, event_index) + 1u;
	}
	e.thread = str_set_intern(&r->threads, f[1]);
	e.site = str_set_intern(&r->sites, f[8]);

	if (t->event_count == r->events_cap) {
		r->events_cap = r->events_cap ? r->events_cap * 2u : 4096u;
		t->events =
			xrealloc(t->events, r->events_cap * sizeof(*t->events));
	}
	t->events[t->event_count++] = e;
	if (t->event_count >= UINT32_MAX - 1u) {
		return fail(r, "too many events (at most %u)", UINT32_MAX - 2u);
	}
	return 0;
}

static int parse_line(struct reader *r, char *line)
{
	char *fields[10];

	if (line[0] == '#') {
		return 0;
	}
	if (strncmp(line, "@module", 7) == 0 &&
	    (line[7] == ' ' || line[7] == '\t')) {
		return parse_module_decl(r, line);
	}
	size_t n = split(line, fields, 9);

	if (n == 0) {
		return 0;
	}
	if (fields[0][0] == '@') {
		if (strcmp(fields[0], "@heap") == 0) {
			return parse_heap_decl(r, fields, n);
		}
		return fail(r, "unknown declaration '%s'", fields[0]);
	}
	return parse_event(r, fields, n > 9 ? 10 : n);
}

enum line_status {
	LINE_OK,
	LINE_END,      /* end of the file (or a read error: see ferror) */
	LINE_TOO_LONG, /* more than TRACE_MAX_LINE_BYTES before the '\n' */
};

/* The next line of f in buf (TRACE_MAX_LINE_BYTES + 1 bytes), without
 * its '\n' and NUL-terminated; *len counts its bytes, NULs included. A
 * line that is too long is not read beyond the limit. */
static enum line_status read_line(FILE *f, char *buf, size_t *len)
{
	size_t n = 0;
	int c;

	while ((c = getc_unlocked(f)) != EOF && c != '\n') {
		if (n == TRACE_MAX_LINE_BYTES) {
			return LINE_TOO_LONG;
		}
		buf[n++] = (char)c;
	}
	if (c == EOF && n == 0u) {
		return LINE_END;
	}
	buf[n] = '\0';
	*len = n;
	return LINE_OK;
}

int trace_load(const char *path, struct trace *t, char *err, size_t err_size)
{
	struct reader r = {
		.t = t,
		.path = path,
		.err = err,
		.err_size = err_size,
	};
	FILE *f = fopen(path, "r");
	char *line;
	size_t len;
	enum line_status status;
	int rc = 0;

	memset(t, 0, sizeof(*t));
	if (f == NULL) {
		snprintf(err, err_size, "%s: cannot open: %s", path,
			 strerror(errno));
		return -1;
	}
	line = xmalloc(TRACE_MAX_LINE_BYTES + 1u);
	while ((status = read_line(f, line, &len)) != LINE_END) {
		r.line++;
		if (status == LINE_TOO_LONG) {
			rc = fail(&r,
				  "line too long (more than %u bytes): not a "
				  "kheap trace",
				  TRACE_MAX_LINE_BYTES);
			break;
		}
		if (len > 0u && line[len - 1u] == '\r') {
			line[--len] = '\0';
		}
		if (memchr(line, '\0', len) != NULL) {
			rc = fail(&r, "NUL byte in line: not a kheap trace");
			break;
		}
		rc = r.line == 1u ? parse_header(&r, line)
				  : parse_line(&r, line);
		if (rc != 0) {
			break;
		}
	}
	if (rc == 0 && ferror(f)) {
		snprintf(err, err_size, "%s: read error: %s", path,
			 strerror(errno));
		rc = -1;
	}
	if (rc == 0 && r.line == 0u) {
		snprintf(err, err_size, "%s: empty file (not a kheap trace)",
			 path);
		rc = -1;
	}
	free(line);
	fclose(f);
	t->threads = str_set_take(&r.threads, &t->thread_count);
	t->sites = str_set_take(&r.sites, &t->site_count);
	str_set_free(&r.heap_names);
	u64_map_free(&r.ids);
	free(r.heap_declared);
	if (rc != 0) {
		trace_free(t);
	}
	return rc;
}

void trace_free(struct trace *t)
{
	free(t->events);
	free(t->blocks);
	free(t->heaps);
	for (size_t i = 0; i < t->thread_count; i++) {
		free(t->threads[i]);
	}
	free(t->threads);
	for (size_t i = 0; i < t->site_count; i++) {
		free(t->sites[i]);
	}
	free(t->sites);
	for (size_t i = 0; i < t->module_count; i++) {
		free(t->modules[i].name);
		free(t->modules[i].path);
	}
	free(t->modules);
	memset(t, 0, sizeof(*t));
}
