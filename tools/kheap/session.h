/* SPDX-License-Identifier: Apache-2.0 */
/*
 * What the kheap commands share: the parsed options, the loaded trace and
 * the heap chosen in it, usage errors, progress lines, and the text and
 * JSON forms of an event and of the set-up. Part of the kheap executable
 * (not the library): usage_error and fail_with exit the process.
 */
#ifndef KHEAP_TOOL_SESSION_H
#define KHEAP_TOOL_SESSION_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "cli.h"
#include "json.h"
#include "replay.h"
#include "trace.h"
#include "util.h"

enum header_format {
	FORMAT_AUTO,
	FORMAT_SMALL,
	FORMAT_BIG,
};

struct options {
	const struct cli_command *command;
	const char *trace_path;
	const char *heap_name;
	const char *output;
	const char *at;
	uint64_t heap_bytes;
	bool heap_bytes_given;
	enum header_format format;
	unsigned int ptr_bytes; /* 0: from the trace */
	unsigned int samples;
	bool all;
	bool symbolize;
	bool json;
	int progress; /* -1: if stderr is a terminal */
	unsigned int margin_percent;
	uint64_t window_bytes;
	uint64_t max_bytes;
};

struct session {
	struct options opt;
	struct trace trace;
	int heap;
	struct replay_config cfg;
	/* --symbolize: per site "function file:line" or NULL; else NULL. */
	char **site_symbols;
};

/* The command whose synopsis usage errors print (NULL: the global one). */
void session_set_command(const struct cli_command *cmd);

/* "kheap: <message>", the usage, exit status 2. */
_Noreturn void usage_error(const char *fmt, ...)
	__attribute__((format(printf, 1, 2)));
/* "kheap: <message>", the given exit status. */
_Noreturn void fail_with(enum kheap_exit status, const char *message);

/* Load the trace, pick the heap, fill s->cfg; with need_heap_bytes also
 * its heap_bytes (--heap-bytes or the recorded size, checked against
 * --format). Exits on errors. */
void session_set_up(struct session *s, bool need_heap_bytes);
/* replay_open, exiting with a usage error on a bad configuration and
 * with KHEAP_EXIT_INTERNAL when the region cannot be allocated. */
void session_open_replay(struct session *s, struct replay *r);
/* Free the trace and the symbols. */
void session_free(struct session *s);

/* "4-byte headers" or "8-byte headers". */
const char *format_name(uint64_t heap_bytes);

/* Progress on stderr, at most every 1% of the total. */
struct progress {
	bool on;
	const char *what;
	size_t total;
	int last_percent;
};

void progress_update(struct progress *p, size_t done);
void progress_end(struct progress *p);

/* "event 3 (line 5, tick 0, thread t): k_heap_alloc 100 bytes -> id 3 at
 * site" and a line end. */
void print_event(FILE *f, const struct session *s, size_t event_index);
void print_site(FILE *f, const struct session *s, uint32_t site);
/* "kheap replay: TRACE, heap h: N bytes (...), pointer size P". */
void print_setup(const struct session *s);

/* The same as JSON: an event object (key: its member name, or NULL in
 * an array), the site (and "symbol" with --symbolize) as members, and
 * the set-up members (command, trace, heap object). */
void json_event(struct json *j, const char *key, const struct session *s,
		size_t event_index);
void json_site(struct json *j, const struct session *s, uint32_t site);
void json_setup(struct json *j, const struct session *s);

#endif /* KHEAP_TOOL_SESSION_H */
