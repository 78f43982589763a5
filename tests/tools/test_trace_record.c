/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The allocation trace that the simulator recorded for trace_demo
 * (ctest trace-record-run, KHEAP_TRACE set), checked line by line:
 * header, declarations, one event per call of trace_demo.c in the order
 * the heap saw them, with thread, heap, size, alignment, ids and site.
 * Then the trace is read and replayed by the kheap tool, which must
 * reproduce the recorded system heap's statistics exactly.
 *
 * Usage: test_trace_record [test-name-pattern]
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "replay.h"
#include "trace.h"

#include "tool_test_util.h"

/* One expected event: the fields as written, and the marker of the call
 * in trace_demo.c ("@name"). thread: "main", "worker%20one" (after the
 * "<id>:" prefix) or "isr". */
struct expected_event {
	const char *tick;
	const char *thread;
	const char *op;
	const char *heap;
	const char *size;
	const char *align;
	const char *id;
	const char *arg;
	const char *marker;
};

static const struct expected_event expected[] = {
	{"0", "main", "k_malloc", "sys", "100", "-", "1", "-", "a"},
	{"0", "main", "k_calloc", "sys", "4x25", "-", "2", "-", "b"},
	{"0", "main", "k_aligned_alloc", "sys", "200", "64", "3", "-", "c"},
	{"0", "main", "k_realloc", "sys", "300", "-", "4", "1", "realloc"},
	{"0", "main", "k_free", "sys", "-", "-", "-", "2", "free_b"},
	{"0", "main", "k_heap_alloc", "demo_heap", "1500", "-", "5", "-",
	 "big"},
	/* The worker waits from tick 0; main's free is written before the
	 * worker's allocation that it lets through. */
	{"10", "main", "k_heap_free", "demo_heap", "-", "-", "-", "5",
	 "free_big"},
	{"10", "worker%20one", "k_heap_alloc", "demo_heap", "1000", "-", "6",
	 "-", "worker_alloc"},
	{"10", "worker%20one", "k_heap_free", "demo_heap", "-", "-", "-", "6",
	 "worker_free"},
	{"10", "isr", "k_malloc", "sys", "16", "-", "7", "-", "isr_alloc"},
	{"10", "isr", "k_free", "sys", "-", "-", "-", "7", "isr_free"},
	/* Failed (id '-'); the k_free(NULL) after it is not an event. */
	{"10", "main", "k_malloc", "sys", "1048576", "-", "-", "-", "too_big"},
	{"10", "main", "k_free", "sys", "-", "-", "-", "3", "free_c"},
	/* A k_heap_init heap keeps a generated name. */
	{"10", "main", "k_heap_alloc", "h1", "100", "-", "8", "-",
	 "init_alloc"},
	{"10", "main", "k_heap_free", "h1", "-", "-", "-", "8", "init_free"},
};

#define EXPECTED_COUNT (sizeof(expected) / sizeof(expected[0]))

/* The line of trace_demo.c holding "@marker", or 0. */
static int marker_line(const char *source, const char *marker)
{
	char needle[64];
	int line = 1;

	snprintf(needle, sizeof(needle), "/* @%s */", marker);
	const char *hit = strstr(source, needle);

	if (hit == NULL) {
		return 0;
	}
	for (const char *p = source; p < hit; p++) {
		line += *p == '\n';
	}
	return line;
}

/* "<file>:<line>" for a site "<module>+0x<address>" via addr2line, or
 * 0 if it cannot tell (no debug information, no addr2line). */
static int site_line(const char *module_path, const char *address)
{
	char cmd[1024];
	char *out;

	snprintf(cmd, sizeof(cmd), "addr2line -e '%s' %s", module_path,
		 address);
	if (run_command(cmd, &out) != 0) {
		free(out);
		return 0;
	}
	const char *name = strstr(out, "trace_demo.c:");
	int line = name != NULL ? atoi(name + strlen("trace_demo.c:")) : 0;

	free(out);
	return line;
}

static void test_lines(void **state)
{
	char *text = read_file(DEMO_TRACE, NULL);
	char *source = read_file(DEMO_SOURCE, NULL);
	char module_path[512] = "";
	char main_id[32] = "", worker_id[32] = "";
	size_t events = 0;
	bool sys_declared = false, demo_declared = false, h1_declared = false;
	int symbolised = 0;

	(void)state;
	assert_non_null(text);
	assert_non_null(source);
	char *save = NULL;
	char *line = strtok_r(text, "\n", &save);

	/* The header: version, the host's pointer size, the tick rate. */
	assert_non_null(line);
	char expected_start[48];

	snprintf(expected_start, sizeof(expected_start),
		 "kheap-trace 1 ptr_bytes=%zu tick_hz=", sizeof(void *));
	assert_true(strncmp(line, expected_start, strlen(expected_start)) == 0);
	assert_non_null(strstr(line, " clock=virtual mode=deterministic"));

	for (line = strtok_r(NULL, "\n", &save); line != NULL;
	     line = strtok_r(NULL, "\n", &save)) {
		char f[9][128];

		if (line[0] == '#') {
			continue;
		}
		if (strncmp(line, "@heap ", 6) == 0) {
			char name[32];
			unsigned long bytes, phase;

			assert_int_equal(sscanf(line,
						"@heap %31s %lu phase=%lu",
						name, &bytes, &phase),
					 3);
			assert_true(phase < 4096u);
			if (strcmp(name, "sys") == 0) {
				/* The default CONFIG_HEAP_MEM_POOL_SIZE, 16384,
				 * with the metadata on top. */
				assert_int_equal(bytes,
						 Z_HEAP_MIN_SIZE_FOR(16384));
				sys_declared = true;
			} else if (strcmp(name, "demo_heap") == 0) {
				/* K_HEAP_DEFINE's variable name. */
				assert_int_equal(bytes, 2048);
				demo_declared = true;
			} else {
				assert_string_equal(name, "h1");
				assert_int_equal(bytes, 1024);
				h1_declared = true;
			}
			continue;
		}
		if (strncmp(line, "@module ", 8) == 0) {
			char name[64];

			assert_int_equal(sscanf(line, "@module %63s %511s",
						name, module_path),
					 2);
			assert_string_equal(name, "trace_demo");
			continue;
		}
		/* An event: nine fields. */
		assert_int_equal(sscanf(line,
					"%127s %127s %127s %127s %127s %127s "
					"%127s %127s %127s",
					f[0], f[1], f[2], f[3], f[4], f[5],
					f[6], f[7], f[8]),
				 9);
		assert_true(events < EXPECTED_COUNT);
		const struct expected_event *x = &expected[events++];

		/* Declarations come before the first use. */
		assert_true(strcmp(f[3], "sys") != 0 || sys_declared);
		assert_true(strcmp(f[3], "demo_heap") != 0 || demo_declared);
		assert_true(strcmp(f[3], "h1") != 0 || h1_declared);
		assert_string_equal(f[0], x->tick);
		if (strcmp(x->thread, "isr") == 0) {
			assert_string_equal(f[1], "isr");
		} else {
			/* "<id>:<name>", one id per thread. */
			char *colon = strchr(f[1], ':');
			char *id = strcmp(x->thread, "main") == 0 ? main_id
								  : worker_id;

			assert_non_null(colon);
			assert_string_equal(colon + 1, x->thread);
			*colon = '\0';
			assert_true(strspn(f[1], "0123456789") == strlen(f[1]));
			assert_true(strlen(f[1]) < 32u);
			if (id[0] == '\0') {
				memcpy(id, f[1], strlen(f[1]) + 1u);
			}
			assert_string_equal(f[1], id);
		}
		assert_string_equal(f[2], x->op);
		assert_string_equal(f[3], x->heap);
		assert_string_equal(f[4], x->size);
		assert_string_equal(f[5], x->align);
		assert_string_equal(f[6], x->id);
		assert_string_equal(f[7], x->arg);
		/* The site: trace_demo+0x<address>, at the marked call. */
		assert_true(strncmp(f[8], "trace_demo+0x", 13) == 0);
		assert_true(module_path[0] != '\0');
		int want = marker_line(source, x->marker);
		int got = site_line(module_path, f[8] + strlen("trace_demo+"));

		assert_true(want > 0);
		if (got != 0) {
			if (got != want) {
				fail_msg("event %zu (%s): site %s is line %d, "
					 "the call is on line %d",
					 events, x->marker, f[8], got, want);
			}
			symbolised++;
		}
	}
	assert_int_equal(events, EXPECTED_COUNT);
	assert_string_not_equal(main_id, worker_id);
	/* The module is the program itself. */
	assert_non_null(strstr(module_path, "trace_demo"));
	print_message("%d of %zu sites checked against their source lines\n",
		      symbolised, EXPECTED_COUNT);
	free(text);
	free(source);
}

/* Reading the trace back and replaying the system heap on its recorded
 * size gives the statistics the program read from the real heap. */
static void test_replay_matches_recording(void **state)
{
	struct trace t;
	struct replay r;
	struct replay_stats st;
	char err[512];
	unsigned long allocated, max;
	int heap_bytes;
	char *stats = read_file(DEMO_STATS, NULL);

	(void)state;
	assert_non_null(stats);
	assert_int_equal(sscanf(stats, "allocated %lu max %lu heap %d",
				&allocated, &max, &heap_bytes),
			 3);
	free(stats);
	if (trace_load(DEMO_TRACE, &t, err, sizeof(err)) != 0) {
		fail_msg("%s", err);
	}
	int sys = trace_heap_find(&t, "sys");

	assert_true(sys >= 0);
	assert_int_equal(t.heaps[sys].bytes, (uint64_t)heap_bytes);
	struct replay_config cfg = {
		.heap = sys,
		.heap_bytes = t.heaps[sys].bytes,
		.phase = t.heaps[sys].phase,
		.ptr_bytes = t.ptr_bytes,
	};

	assert_int_equal(replay_open(&r, &t, &cfg, err, sizeof(err)), 0);
	while (r.next_event < t.event_count) {
		assert_int_not_equal(replay_step(&r), REPLAY_FAILED);
	}
	replay_stats(&r, &st);
	assert_int_equal(st.allocated_bytes, allocated);
	assert_int_equal(st.max_allocated_bytes, max);
	replay_close(&r);
	trace_free(&t);

	/* The command agrees, and names the leak's site. */
	char *out;

	assert_int_equal(run_command("'" KHEAP_EXE "' replay '" DEMO_TRACE "'",
				     &out),
			 0);
	assert_non_null(strstr(out, "failures: none"));
	assert_non_null(strstr(out, "live at the end (leaks): 1 block, 300 "
				    "bytes requested\n  1 block, 300 bytes, "
				    "at trace_demo+0x"));
	free(out);
}

/* The value of "<key> <value>" at the start of a line of text (the rest
 * of that line), or "" if no line starts so. */
static void line_value(const char *text, const char *key, char *value,
		       size_t size)
{
	const char *at = strstr(text, key);

	value[0] = '\0';
	while (at != NULL && at != text && at[-1] != '\n') {
		at = strstr(at + 1, key);
	}
	if (at != NULL) {
		at += strlen(key);
		snprintf(value, size, "%.*s", (int)strcspn(at, "\n"), at);
	}
}

/* --symbolize (addr2line run without a shell) names the leak's function
 * and line, the line addr2line gives when asked directly; without debug
 * information (release) the site stays as recorded. */
static void test_symbolize(void **state)
{
	char *text = read_file(DEMO_TRACE, NULL);
	char module_path[512], leak[512], expected[1100];
	char *out;

	(void)state;
	assert_non_null(text);
	line_value(text, "@module trace_demo ", module_path,
		   sizeof(module_path));
	assert_true(module_path[0] != '\0');
	/* The leak: the block k_realloc returned (id 4). */
	const char *realloc_line = strstr(text, " k_realloc sys 300 - 4 1 ");

	assert_non_null(realloc_line);
	line_value(realloc_line + 1, "k_realloc sys 300 - 4 1 ", leak,
		   sizeof(leak));
	free(text);
	assert_true(strncmp(leak, "trace_demo+0x", 13) == 0);
	int line = site_line(module_path, leak + strlen("trace_demo+"));

	assert_int_equal(run_command("'" KHEAP_EXE "' replay '" DEMO_TRACE
				     "' --symbolize",
				     &out),
			 0);
	assert_null(strstr(out, "kheap: --symbolize:"));
	if (line != 0) {
		snprintf(expected, sizeof(expected),
			 "%s (main trace_demo.c:%d)", leak, line);
		assert_non_null(strstr(out, expected));
	} else {
		/* The symbol table may still name the function. */
		print_message("no debug information: no file and line\n");
		snprintf(expected, sizeof(expected), "%s (main) (first:", leak);
		if (strstr(out, expected) == NULL) {
			snprintf(expected, sizeof(expected),
				 "%s (first:", leak);
			assert_non_null(strstr(out, expected));
		}
	}
	free(out);
}

/* Run cmd, which must succeed and print `needle`. */
static void assert_command_prints(const char *cmd, const char *needle)
{
	char *out;

	assert_int_equal(run_command(cmd, &out), 0);
	/* Also for the compiler: at -O3 it does not know that a failed
	 * assertion does not return, and warns of a null %s below. */
	if (out == NULL) {
		fail_msg("'%s' printed nothing", cmd);
		return;
	}
	if (strstr(out, needle) == NULL) {
		fail_msg("'%s' does not print '%s':\n%s", cmd, needle, out);
	}
	free(out);
}

/* The tool knows the K_HEAP_DEFINE heap by the program's name for it:
 * replay and map select it with --heap demo_heap and print that name. */
static void test_defined_heap_name(void **state)
{
	(void)state;
	assert_command_prints("'" KHEAP_EXE "' replay '" DEMO_TRACE
			      "' --heap demo_heap",
			      ", heap demo_heap: 2048 bytes");
	assert_command_prints("'" KHEAP_EXE "' map '" DEMO_TRACE
			      "' --heap demo_heap -o '" DEMO_MAP "'",
			      "");
	char *svg = read_file(DEMO_MAP, NULL);

	assert_non_null(svg);
	assert_non_null(strstr(svg, "heap demo_heap: 2048 bytes"));
	free(svg);
	/* The k_heap_init heap keeps its generated name. */
	assert_command_prints("'" KHEAP_EXE "' replay '" DEMO_TRACE
			      "' --heap h1",
			      ", heap h1: 1024 bytes");
}

/* trace_names' heaps, in the order they are first used. */
static void test_heap_names(void **state)
{
	static const char *const expected_names[] = {
		"h1",    /* K_HEAP_DEFINE(h1) */
		"h2",    /* k_heap_init: h1 is taken */
		"sys.2", /* K_HEAP_DEFINE(sys): sys is the system heap's */
		"sys",   /* the system heap */
		/* cut to 31 characters */
		"heap_with_a_name_longer_than_th",
	};
	const size_t names_count =
		sizeof(expected_names) / sizeof(expected_names[0]);
	char *text = read_file(NAMES_TRACE, NULL);
	size_t count = 0;

	(void)state;
	assert_non_null(text);
	for (const char *line = strstr(text, "\n@heap "); line != NULL;
	     line = strstr(line + 1, "\n@heap ")) {
		char name[64];

		assert_int_equal(sscanf(line, "\n@heap %63s", name), 1);
		assert_true(count < names_count);
		assert_string_equal(name, expected_names[count]);
		count++;
	}
	assert_int_equal(count, names_count);
	free(text);
}

int main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_lines),
		cmocka_unit_test(test_replay_matches_recording),
		cmocka_unit_test(test_symbolize),
		cmocka_unit_test(test_defined_heap_name),
		cmocka_unit_test(test_heap_names),
	};

	if (argc > 1) {
		cmocka_set_test_filter(argv[1]);
	}
	return cmocka_run_group_tests_name("trace recording", tests, NULL,
					   NULL);
}
