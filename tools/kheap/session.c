/* SPDX-License-Identifier: Apache-2.0 */
/*
 * What the kheap commands share (session.h).
 */
#include "session.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include <kheap/version.h>

#include "symbolize.h"

static const struct cli_command *current_command;

void session_set_command(const struct cli_command *cmd)
{
	current_command = cmd;
}

_Noreturn void usage_error(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "kheap: ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	if (current_command != NULL) {
		fputs("\nusage:\n", stderr);
		cli_print_synopsis(stderr, current_command);
		fprintf(stderr, "(kheap %s --help describes every option)\n",
			current_command->name);
	} else {
		fprintf(stderr, "\n(kheap help shows the usage)\n");
	}
	exit(KHEAP_EXIT_USAGE);
}

_Noreturn void fail_with(enum kheap_exit status, const char *message)
{
	fprintf(stderr, "kheap: %s\n", message);
	exit(status);
}

/* ---- set-up ------------------------------------------------------------- */

static void load_trace(struct session *s)
{
	char err[512];

	if (trace_load(s->opt.trace_path, &s->trace, err, sizeof(err)) != 0) {
		fail_with(KHEAP_EXIT_TRACE, err);
	}
}

/* "a, b, c" (the first eight names, then how many more). */
static void list_heaps(const struct trace *t, char *buf, size_t size)
{
	size_t n = 0;

	buf[0] = '\0';
	for (size_t i = 0; i < t->heap_count && i < 8u && n < size; i++) {
		int w = snprintf(buf + n, size - n, "%s%s", i ? ", " : "",
				 t->heaps[i].name);

		n += w > 0 ? (size_t)w : 0u;
	}
	if (t->heap_count > 8u && n < size) {
		snprintf(buf + n, size - n, " and %zu more",
			 t->heap_count - 8u);
	}
}

/* The heap to replay: --heap, else the only heap with events, else the
 * system heap. */
static int choose_heap(const struct session *s)
{
	const struct trace *t = &s->trace;
	char names[512];
	int with_events = -1;
	size_t count = 0;

	list_heaps(t, names, sizeof(names));
	if (s->opt.heap_name != NULL) {
		int h = trace_heap_find(t, s->opt.heap_name);

		if (h < 0) {
			usage_error("the trace has no heap '%s' (heaps: %s)",
				    s->opt.heap_name,
				    t->heap_count ? names : "none");
		}
		return h;
	}
	for (size_t i = 0; i < t->heap_count; i++) {
		if (t->heaps[i].event_count > 0u) {
			with_events = (int)i;
			count++;
		}
	}
	if (count == 1u) {
		return with_events;
	}
	if (count == 0u) {
		if (t->heap_count == 1u) {
			return 0;
		}
		fprintf(stderr, "kheap: %s: the trace has no events\n",
			s->opt.trace_path);
		exit(KHEAP_EXIT_TRACE);
	}
	int sys = trace_heap_find(t, "sys");

	if (sys >= 0) {
		return sys;
	}
	usage_error("the trace uses several heaps (%s): choose one with "
		    "--heap",
		    names);
}

const char *format_name(uint64_t heap_bytes)
{
	return heap_bytes <= SYS_HEAP_SMALL_REGION_MAX_BYTES ? "4-byte headers"
							     : "8-byte headers";
}

static void check_format(const struct options *o, uint64_t heap_bytes)
{
	if (o->format == FORMAT_SMALL &&
	    heap_bytes > SYS_HEAP_SMALL_REGION_MAX_BYTES) {
		usage_error("--format small needs a heap of at most %u bytes "
			    "(4-byte headers); %" PRIu64 " bytes gives 8-byte "
			    "headers",
			    SYS_HEAP_SMALL_REGION_MAX_BYTES, heap_bytes);
	}
	if (o->format == FORMAT_BIG &&
	    heap_bytes <= SYS_HEAP_SMALL_REGION_MAX_BYTES) {
		usage_error("--format big needs a heap of more than %u bytes "
			    "(8-byte headers); %" PRIu64 " bytes gives 4-byte "
			    "headers",
			    SYS_HEAP_SMALL_REGION_MAX_BYTES, heap_bytes);
	}
}

/* --heap-bytes, else the recorded size, checked against --format. */
static uint64_t heap_bytes_of(const struct session *s,
			      const struct trace_heap *h)
{
	uint64_t heap_bytes = s->opt.heap_bytes;

	if (!s->opt.heap_bytes_given) {
		if (!h->bytes_known) {
			usage_error("the trace does not record heap %s's "
				    "size: give --heap-bytes",
				    h->name);
		}
		heap_bytes = h->bytes;
	}
	check_format(&s->opt, heap_bytes);
	return heap_bytes;
}

void session_set_up(struct session *s, bool need_heap_bytes)
{
	load_trace(s);
	s->heap = choose_heap(s);
	const struct trace_heap *h = &s->trace.heaps[s->heap];

	s->cfg.heap = s->heap;
	s->cfg.phase = h->phase;
	s->cfg.ptr_bytes = s->opt.ptr_bytes     ? s->opt.ptr_bytes
			   : s->trace.ptr_bytes ? s->trace.ptr_bytes
						: 4u;
	if (need_heap_bytes) {
		s->cfg.heap_bytes = heap_bytes_of(s, h);
	}
	if (s->opt.symbolize) {
		s->site_symbols = symbolize_sites(&s->trace, stderr);
	}
}

void session_open_replay(struct session *s, struct replay *r)
{
	char err[256];

	int status = replay_open(r, &s->trace, &s->cfg, err, sizeof(err));

	if (status == REPLAY_OPEN_NO_MEMORY) {
		fail_with(KHEAP_EXIT_INTERNAL, err);
	}
	if (status != 0) {
		usage_error("%s", err);
	}
}

void session_free(struct session *s)
{
	symbolize_free(s->site_symbols, s->trace.site_count);
	s->site_symbols = NULL;
	trace_free(&s->trace);
}

/* ---- progress -------------------------------------------------------------- */

void progress_update(struct progress *p, size_t done)
{
	if (!p->on || p->total == 0u) {
		return;
	}
	int percent = (int)((uint64_t)done * 100u / p->total);

	if (percent != p->last_percent) {
		p->last_percent = percent;
		fprintf(stderr, "\rkheap %s: %3d%% (%zu/%zu events)", p->what,
			percent, done, p->total);
		fflush(stderr);
	}
}

void progress_end(struct progress *p)
{
	if (p->on && p->last_percent >= 0) {
		fprintf(stderr, "\r%70s\r", "");
		fflush(stderr);
	}
}

/* ---- text -------------------------------------------------------------------- */

void print_site(FILE *f, const struct session *s, uint32_t site)
{
	fputs(s->trace.sites[site], f);
	if (s->site_symbols != NULL && s->site_symbols[site] != NULL) {
		fprintf(f, " (%s)", s->site_symbols[site]);
	}
}

void print_event(FILE *f, const struct session *s, size_t event_index)
{
	const struct trace *t = &s->trace;
	const struct trace_event *e = &t->events[event_index];

	fprintf(f, "event %zu (line %u, tick %" PRIu64 ", thread %s): %s",
		event_index + 1u, e->line, e->tick, t->threads[e->thread],
		trace_op_name((enum trace_op)e->op));
	if (!trace_op_is_free((enum trace_op)e->op)) {
		fprintf(f, " %" PRIu64 " bytes", e->size_bytes);
	}
	if (trace_op_is_aligned((enum trace_op)e->op)) {
		fprintf(f, " align %" PRIu64, e->align);
	}
	if (e->arg != TRACE_NO_BLOCK && e->arg != TRACE_UNKNOWN_BLOCK) {
		fprintf(f, " of id %" PRIu64, t->blocks[e->arg - 1u].id);
	}
	if (e->result != TRACE_NO_BLOCK) {
		fprintf(f, " -> id %" PRIu64, t->blocks[e->result - 1u].id);
	}
	fputs(" at ", f);
	print_site(f, s, e->site);
	fputc('\n', f);
}

static bool ptr_bytes_assumed(const struct session *s)
{
	return s->opt.ptr_bytes == 0u && s->trace.ptr_bytes == 0u;
}

void print_setup(const struct session *s)
{
	const struct trace_heap *h = &s->trace.heaps[s->heap];

	printf("kheap %s: %s, heap %s", s->opt.command->name, s->opt.trace_path,
	       h->name);
	if (s->cfg.heap_bytes != 0u) {
		printf(": %" PRIu64 " bytes (%s)", s->cfg.heap_bytes,
		       format_name(s->cfg.heap_bytes));
	}
	printf(", pointer size %u%s\n", s->cfg.ptr_bytes,
	       ptr_bytes_assumed(s) ? " (not in the trace: assumed)" : "");
}

/* ---- JSON -------------------------------------------------------------------- */

void json_site(struct json *j, const struct session *s, uint32_t site)
{
	json_string(j, "site", s->trace.sites[site]);
	if (s->site_symbols != NULL) {
		json_string(j, "symbol", s->site_symbols[site]);
	}
}

/* A block reference as the trace wrote its id (null: none or unknown). */
static void json_block_id(struct json *j, const char *key,
			  const struct trace *t, uint32_t ref)
{
	if (ref == TRACE_NO_BLOCK || ref == TRACE_UNKNOWN_BLOCK) {
		json_null(j, key);
	} else {
		json_u64(j, key, t->blocks[ref - 1u].id);
	}
}

void json_event(struct json *j, const char *key, const struct session *s,
		size_t event_index)
{
	const struct trace *t = &s->trace;
	const struct trace_event *e = &t->events[event_index];
	enum trace_op op = (enum trace_op)e->op;

	json_object(j, key);
	json_u64(j, "event", event_index + 1u);
	json_u64(j, "line", e->line);
	json_u64(j, "tick", e->tick);
	json_string(j, "thread", t->threads[e->thread]);
	json_string(j, "op", trace_op_name(op));
	if (trace_op_is_free(op)) {
		json_null(j, "size_bytes");
	} else {
		json_u64(j, "size_bytes", e->size_bytes);
	}
	if (trace_op_is_aligned(op)) {
		json_u64(j, "align", e->align);
	} else {
		json_null(j, "align");
	}
	json_block_id(j, "arg_id", t, e->arg);
	json_block_id(j, "id", t, e->result);
	json_site(j, s, e->site);
	json_end(j);
}

void json_setup(struct json *j, const struct session *s)
{
	const struct trace_heap *h = &s->trace.heaps[s->heap];

	json_string(j, "kheap_version", KHEAP_VERSION_STRING);
	json_string(j, "command", s->opt.command->name);
	json_string(j, "trace", s->opt.trace_path);
	json_object(j, "heap");
	json_string(j, "name", h->name);
	if (s->cfg.heap_bytes != 0u) {
		json_u64(j, "bytes", s->cfg.heap_bytes);
		json_u64(j, "header_bytes",
			 replay_header_bytes_for(s->cfg.heap_bytes));
	} else {
		json_null(j, "bytes");
		json_null(j, "header_bytes");
	}
	json_u64(j, "ptr_bytes", s->cfg.ptr_bytes);
	json_bool(j, "ptr_bytes_assumed", ptr_bytes_assumed(s));
	json_end(j);
}
