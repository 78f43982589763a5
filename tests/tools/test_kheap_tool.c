/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Tests of the kheap tool (tools/kheap, docs/tools.md): the trace
 * reader's checks, replay, size and map on hand-written traces whose
 * answers are worked out by hand below, the PNG and SVG outputs, and the
 * command's exit statuses.
 *
 * The arithmetic behind the expected numbers (small heaps, 4-byte
 * headers, 8-byte chunks; design.md "Memory layout"):
 * - a request of n bytes takes ceil((n + 4) / 8) chunks: 100 bytes ->
 *   13 chunks = 104 bytes, 150 -> 20 chunks = 160 bytes;
 * - the control block is 24 bytes plus a 2-byte list head per size class
 *   from 1 up to that of the region's chunk count and a bitmap byte per 8 such
 *   classes, and chunk 0 starts 4 bytes before an 8-byte boundary; the
 *   last 4 bytes hold the end sentinel's header (the tests below work
 *   out each heap).
 *
 * Usage: test_kheap_tool [test-name-pattern]
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include <kheap/version.h>

#include "png.h"
#include "replay.h"
#include "sizing.h"
#include "symbolize.h"
#include "trace.h"
#include "util.h"

#include "tool_test_util.h"

#ifdef HAVE_ZLIB
#include <zlib.h>
#endif

#define TRACE(name) TRACES_DIR "/" name
#define OUT(name) OUT_DIR "/" name

/* ---- helpers ---------------------------------------------------------------- */

static void load(const char *path, struct trace *t)
{
	char err[512];

	if (trace_load(path, t, err, sizeof(err)) != 0) {
		fail_msg("%s", err);
	}
}

static struct replay_config config_for(const struct trace *t, const char *heap,
				       uint64_t heap_bytes)
{
	int h = trace_heap_find(t, heap);

	assert_true(h >= 0);
	return (struct replay_config){
		.heap = h,
		.heap_bytes = heap_bytes,
		.phase = t->heaps[h].phase,
		.ptr_bytes = t->ptr_bytes ? t->ptr_bytes : 4u,
	};
}

/* Run `kheap <args>`; returns the exit status, *out the output. */
static int kheap(const char *args, char **out)
{
	char cmd[2048];

	snprintf(cmd, sizeof(cmd), "'%s' %s", KHEAP_EXE, args);
	return run_command(cmd, out);
}

static void assert_contains(const char *text, const char *needle)
{
	if (strstr(text, needle) == NULL) {
		fail_msg("expected \"%s\" in:\n%s", needle, text);
	}
}

/* ---- units -------------------------------------------------------------------- */

static void test_checksums(void **state)
{
	(void)state;
	/* The standard check values of both algorithms. */
	assert_int_equal(png_crc32(0, (const uint8_t *)"123456789", 9),
			 0xcbf43926u);
	assert_int_equal(png_adler32(1, (const uint8_t *)"Wikipedia", 9),
			 0x11e60398u);
	/* Continuing a checksum equals checksumming in one go. */
	uint32_t c = png_crc32(0, (const uint8_t *)"1234", 4);

	assert_int_equal(png_crc32(c, (const uint8_t *)"56789", 5),
			 0xcbf43926u);
}

static void test_parse_numbers(void **state)
{
	uint64_t v;

	(void)state;
	assert_true(parse_bytes("16384", &v) && v == 16384u);
	assert_true(parse_bytes("16K", &v) && v == 16384u);
	assert_true(parse_bytes("12KiB", &v) && v == 12288u);
	assert_true(parse_bytes("1M", &v) && v == 1048576u);
	assert_true(parse_bytes("0x100", &v) && v == 256u);
	assert_false(parse_bytes("1.5K", &v));
	assert_false(parse_bytes("", &v));
	assert_false(parse_bytes("K", &v));
	assert_false(parse_u64("18446744073709551616", &v));
	assert_true(parse_u64("18446744073709551615", &v) && v == UINT64_MAX);
}

/* ---- the reader's checks ------------------------------------------------------ */

struct bad_trace {
	const char *text;
	const char *message; /* expected in the error, with its line */
};

#define H "kheap-trace 1\n"

static const struct bad_trace bad_traces[] = {
	{"", "empty file"},
	{"hello\n", ":1: not a kheap trace"},
	{"kheap-trace\n", ":1: trace header: missing or malformed version"},
	{"kheap-trace 2\n", ":1: trace format version 2 is not supported"},
	/* Numbers are decimal digits only (docs/trace-format.md). */
	{"kheap-trace 0x1\n", ":1: trace header: missing or malformed version"},
	{"kheap-trace +1\n", ":1: trace header: missing or malformed version"},
	{"kheap-trace 1 ptr_bytes=0x8\n",
	 ":1: trace header: ptr_bytes must be"},
	{H "@heap h 0x100\n", ":2: @heap h: bad size '0x100'"},
	/* Above SYS_HEAP_MAX_REGION_BYTES (2^34 - 1): no region has it. */
	{H "@heap h 17179869184\n",
	 ":2: @heap h: size 17179869184 is above sys_heap's maximum region"},
	{H "@heap h 100 phase=0x8\n", ":2: @heap h: expected phase="},
	{H "0x0 t k_malloc h 1 - 1 - s\n", ":2: bad tick '0x0'"},
	{H "0 t k_malloc h 0x10 - 1 - s\n", ":2: bad size '0x10'"},
	{H "0 t k_malloc h 1 - 0x1 - s\n", ":2: bad id '0x1'"},
	{"kheap-trace 1 ptr_bytes=3\n", ":1: trace header: ptr_bytes must be"},
	{"kheap-trace 1 junk\n", ":1: trace header: 'junk' is not key=value"},
	{H "0 t k_foo h 1 - 1 - s\n", ":2: unknown operation 'k_foo'"},
	{H "0 t k_malloc h 1 - 1 -\n", ":2: an event has 9 fields"},
	{H "0 t k_malloc h 1 - 1 - s x\n", ":2: an event has 9 fields"},
	{H "x t k_malloc h 1 - 1 - s\n", ":2: bad tick 'x'"},
	{H "0 t k_malloc h 1 - 1 - s\n0 t k_malloc h 1 - 1 - s\n",
	 ":3: id 1 already used at line 2"},
	{H "0 t k_free h - - - 5 s\n", ":2: id 5 was never allocated"},
	{H "0 t k_malloc h 1 - 1 - s\n0 t k_free h - - - 1 s\n"
	   "0 t k_free h - - - 1 s\n",
	 ":4: id 1 is not live: released at line 3"},
	{H "0 t k_malloc - 1 - 1 - s\n", ":2: k_malloc needs a heap name"},
	{H "0 t k_free h 8 - - - s\n", ":2: k_free takes no size"},
	{H "0 t k_aligned_alloc h 8 - 1 - s\n",
	 ":2: k_aligned_alloc needs an alignment"},
	{H "0 t k_malloc h 1 8 1 - s\n", ":2: k_malloc takes no alignment"},
	{H "0 t k_malloc h 1 - 0 - s\n", ":2: bad id '0'"},
	{H "0 t k_malloc h 1 - 1 2 s\n", ":2: k_malloc takes no block"},
	{H "0 t k_free h - - 1 - s\n", ":2: k_free returns no block"},
	{H "0 t k_malloc h 1 - 1 - s\n0 t k_realloc h 0 - 2 1 s\n",
	 ":3: k_realloc to 0 bytes frees"},
	{H "0 t k_malloc h zz - 1 - s\n", ":2: bad size 'zz'"},
	{H "0 t k_calloc h 3x - 1 - s\n", ":2: bad calloc size '3x'"},
	{H "@heap a 1000\n@heap b 1000\n0 t k_heap_alloc a 8 - 1 - s\n"
	   "0 t k_heap_free b - - - 1 s\n",
	 ":5: id 1 belongs to heap a, not b"},
	{H "@heap h x\n", ":2: @heap h: bad size 'x'"},
	{H "@heap h 100\n@heap h 100\n", ":3: heap 'h' declared twice"},
	{H "@heap h 100 phase=4096\n", ":2: @heap h: expected phase="},
	{H "@heap h/x 100\n", ":2: bad heap name 'h/x'"},
	{H "@heap\n", ":2: @heap needs"},
	{H "@module m\n", ":2: @module needs"},
	{H "@foo bar\n", ":2: unknown declaration '@foo'"},
};

static void test_reader_rejects_malformed_traces(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(bad_traces) / sizeof(bad_traces[0]);
	     i++) {
		struct trace t;
		char err[512];
		const char *path = OUT("bad.trace");

		assert_true(write_file(path, bad_traces[i].text));
		if (trace_load(path, &t, err, sizeof(err)) == 0) {
			fail_msg("case %zu accepted:\n%s", i,
				 bad_traces[i].text);
		}
		if (strstr(err, bad_traces[i].message) == NULL ||
		    strncmp(err, path, strlen(path)) != 0) {
			fail_msg("case %zu: expected \"%s\", got \"%s\"", i,
				 bad_traces[i].message, err);
		}
	}
}

static void test_reader_accepts_the_format(void **state)
{
	struct trace t;

	(void)state;
	assert_true(write_file(
		OUT("good.trace"),
		"kheap-trace 1 ptr_bytes=8 tick_hz=10000 future_key=x\n"
		"# a comment\n"
		"\n"
		"@heap sys 16384 phase=8\n"
		"@module app /path with spaces/app\n"
		"3 7:name%20x k_calloc sys 3x5 - 42 - app+0x10\n"
		"4 isr k_realloc - 20 - 43 42 app.c:3\n"
		"5 - k_heap_alloc other 8 - 44 - -\n"
		"6 - k_free - - - - ? -\n"
		"7 - k_free - - - - 43 -\n"));
	load(OUT("good.trace"), &t);
	assert_int_equal(t.ptr_bytes, 8);
	assert_int_equal(t.tick_hz, 10000);
	assert_int_equal(t.event_count, 5);
	assert_int_equal(t.heap_count, 2);
	assert_string_equal(t.heaps[0].name, "sys");
	assert_int_equal(t.heaps[0].bytes, 16384);
	assert_int_equal(t.heaps[0].phase, 8);
	assert_false(t.heaps[1].bytes_known); /* "other": named, not declared */
	assert_int_equal(t.module_count, 1);
	assert_string_equal(t.modules[0].path, "/path with spaces/app");
	assert_int_equal(t.events[0].size_bytes, 15);
	assert_string_equal(t.threads[t.events[0].thread], "7:name%20x");
	/* The realloc's heap comes from its block. */
	assert_int_equal(t.events[1].heap, 0);
	assert_int_equal(t.blocks[t.events[1].arg - 1u].id, 42);
	assert_int_equal(t.events[3].arg, TRACE_UNKNOWN_BLOCK);
	assert_int_equal(t.events[3].heap, TRACE_NO_HEAP);
	assert_int_equal(t.blocks[0].release_event, 1);
	trace_free(&t);
}

/* ---- replay and size on hand-written traces ------------------------------------ */

/*
 * ten_blocks.trace: ten k_heap_alloc(100), then ten frees. Each block is
 * 13 chunks = 104 bytes, so the peak is 10 * 104 = 1040 bytes. With
 * 8-byte headers (a region above 256 KiB) a block is 14 chunks = 112
 * bytes: 1120.
 */
static void test_ten_blocks_peak(void **state)
{
	struct trace t;
	struct replay r;
	struct replay_stats st;
	char err[256];

	(void)state;
	load(TRACE("ten_blocks.trace"), &t);
	struct replay_config cfg = config_for(&t, "h", 2048);

	assert_int_equal(replay_open(&r, &t, &cfg, err, sizeof(err)), 0);
	while (r.next_event < t.event_count) {
		assert_int_equal(replay_step(&r), REPLAY_DONE);
		replay_stats(&r, &st);
		if (r.next_event == 10u) {
			assert_int_equal(st.allocated_bytes, 1040);
			assert_int_equal(r.live_requested_bytes, 1000);
		}
	}
	replay_stats(&r, &st);
	assert_int_equal(st.max_allocated_bytes, 1040);
	assert_int_equal(st.allocated_bytes, 0);
	replay_close(&r);

	cfg.heap_bytes = 300000;
	assert_int_equal(replay_open(&r, &t, &cfg, err, sizeof(err)), 0);
	while (r.next_event < t.event_count) {
		(void)replay_step(&r);
	}
	replay_stats(&r, &st);
	assert_int_equal(st.max_allocated_bytes, 1120);
	replay_close(&r);
	trace_free(&t);
}

/*
 * The smallest heap for ten_blocks.trace: 1040 bytes of chunks (130
 * chunks, of size class 40, so 40 class-list heads (classes 1 to 40) and
 * 6 bitmap bytes: a 24 + 80 + 6 = 110 byte control block; chunk 0 starts
 * at 116 (4 bytes before an 8-byte boundary), its
 * memory 8-aligned) plus the 4-byte end sentinel: 116 + 1040 + 4 = 1160
 * bytes. At 1159 only 129 chunks fit and the tenth allocation fails. 20%
 * margin: 1392 bytes. The system heap for it:
 * CONFIG_HEAP_MEM_POOL_SIZE=1261, whose region, Z_HEAP_MIN_SIZE_FOR(1261),
 * is 1392 bytes (1260 would give 1384); with no margin 1029 gives exactly
 * 1160.
 */
static void test_ten_blocks_size(void **state)
{
	struct trace t;
	struct sizing_result res;
	char err[256];
	char *out;

	(void)state;
	load(TRACE("ten_blocks.trace"), &t);
	struct sizing_config cfg = {
		.replay = config_for(&t, "h", 0),
		.min_bytes = Z_HEAP_MIN_SIZE,
		.max_bytes = 1u << 20,
		.window_bytes = 512,
		.margin_percent = 20,
	};

	assert_int_equal(sizing_run(&t, &cfg, &res, err, sizeof(err)), 0);
	assert_true(res.found);
	assert_int_equal(res.min_bytes, 1160);
	assert_true(res.below_fails);
	assert_int_equal(res.below_fail_event, 9); /* the tenth alloc */
	assert_true(res.window_end_bytes >= 1160u + 512u);
	assert_int_equal(res.isolated_success, 0);
	assert_true(res.margin_found);
	assert_int_equal(res.margin_bytes, 1392);
	assert_int_equal(sizing_pool_size_for_region(1392), 1261);
	assert_int_equal(Z_HEAP_MIN_SIZE_FOR(1261), 1392);
	assert_int_equal(Z_HEAP_MIN_SIZE_FOR(1260), 1384);
	assert_int_equal(sizing_pool_size_for_region(1160), 1029);
	assert_int_equal(sizing_pool_size_for_region(1), 1);
	assert_int_equal(sizing_peak_requested(&t, cfg.replay.heap), 1000);
	trace_free(&t);

	assert_int_equal(kheap("size " TRACE("ten_blocks.trace"), &out), 0);
	assert_contains(out, "smallest heap: 1160 bytes (4-byte headers)");
	assert_contains(out, "1159 bytes fails first at event 10 (line 14");
	assert_contains(out, "CONFIG_HEAP_MEM_POOL_SIZE=1261 (a system heap "
			     "of 1392 bytes)");
	free(out);
	assert_int_equal(kheap("size " TRACE("ten_blocks.trace") " --margin 0",
			       &out),
			 0);
	assert_contains(out, "CONFIG_HEAP_MEM_POOL_SIZE=1029 (a system heap "
			     "of 1160 bytes)");
	free(out);
	/* Forced 8-byte headers: the smallest such region is used. */
	assert_int_equal(
		kheap("size " TRACE(
			      "ten_blocks.trace") " --format big --margin 0",
		      &out),
		0);
	assert_contains(out, "smallest heap: 262145 bytes (8-byte headers)");
	free(out);
}

/*
 * failure.trace on 512 bytes: 52 chunks (29 class heads and 4 bitmap
 * bytes, an 86-byte control block, chunk 0 at 92: 92 + 416 + 4 = 512). Two
 * 150-byte blocks take 2 * 20 chunks; the 100-byte block needs 13 more and
 * only 12 are left: event 3 fails. Its id 3 is then absent (event 6 frees
 * nothing). Event 5 fits in the 20 chunks freed by event 4. The smallest
 * heap holds 53 chunks at the peak (still 29 heads, chunk 0 at 92):
 * 92 + 424 + 4 = 520 bytes.
 */
static void test_failure_trace(void **state)
{
	struct trace t;
	struct replay r;
	char err[256];
	char *out;
	size_t first = 0;

	(void)state;
	load(TRACE("failure.trace"), &t);
	struct replay_config cfg = config_for(&t, "h", 512);
	static const enum replay_outcome expected[] = {
		REPLAY_DONE, REPLAY_DONE, REPLAY_FAILED,
		REPLAY_DONE, REPLAY_DONE, REPLAY_NOOP,
	};

	assert_int_equal(replay_open(&r, &t, &cfg, err, sizeof(err)), 0);
	for (size_t i = 0; i < t.event_count; i++) {
		assert_int_equal(replay_step(&r), expected[i]);
	}
	replay_close(&r);
	assert_int_equal(replay_count_failures(&t, &cfg, false, &first, err,
					       sizeof(err)),
			 1);
	assert_int_equal(first, 2);
	cfg.heap_bytes = 1024; /* the recorded size */
	assert_int_equal(replay_count_failures(&t, &cfg, false, &first, err,
					       sizeof(err)),
			 0);
	trace_free(&t);

	assert_int_equal(
		kheap("replay " TRACE("failure.trace") " --heap-bytes 512",
		      &out),
		KHEAP_EXIT_FAILED);
	assert_contains(out, "failures: 1 event returned NULL here");
	assert_contains(out, "  event 3 (line 7, tick 0, thread 1:main): "
			     "k_heap_alloc 100 bytes -> id 3 at app.c:12");
	free(out);
	assert_int_equal(kheap("replay " TRACE("failure.trace"), &out), 0);
	assert_contains(out, "heap h: 1024 bytes (4-byte headers)");
	assert_contains(out, "failures: none");
	free(out);
	assert_int_equal(kheap("size " TRACE("failure.trace"), &out), 0);
	assert_contains(out, "smallest heap: 520 bytes");
	free(out);
}

/*
 * leak.trace: at the end ids 2 and 3 (app.c:11, 2 x 50 bytes), 4
 * (app.c:12, calloc 10x20 = 200 bytes) and 6 (app.c:31, the realloc of
 * id 5 to 128 bytes) are live: 4 blocks, 428 bytes, listed by bytes.
 */
static void test_leak_trace(void **state)
{
	char *out;

	(void)state;
	assert_int_equal(kheap("replay " TRACE("leak.trace"), &out), 0);
	assert_contains(out, "events: 9 on this heap (9 in the trace); 1 "
			     "failed in the recording (not replayed); 1 frees "
			     "of unknown blocks");
	assert_contains(out, "live at the end (leaks): 4 blocks, 428 bytes "
			     "requested\n"
			     "  1 block, 200 bytes, at app.c:12 (first: id 4, "
			     "event 4, line 9)\n"
			     "  1 block, 128 bytes, at app.c:31 (first: id 6, "
			     "event 7, line 12)\n"
			     "  2 blocks, 100 bytes, at app.c:11 (first: id 2, "
			     "event 2, line 7)\n");
	free(out);
}

/*
 * kmalloc.trace: ten k_malloc(100) with 8-byte pointers: 100 + 8 (heap
 * reference) + 4 (header) = 112 bytes = 14 chunks each, 1120 in all.
 */
static void test_kmalloc_overhead(void **state)
{
	char *out;

	(void)state;
	assert_int_equal(kheap("replay " TRACE("kmalloc.trace"), &out), 0);
	assert_contains(out, "pointer size 8");
	assert_contains(out, "peak: 1120 bytes allocated");
	free(out);
}

/* ---- exit statuses and messages ------------------------------------------------- */

struct cli_case {
	const char *args;
	int status;
	const char *message;
};

static const struct cli_case cli_cases[] = {
	{"", KHEAP_EXIT_USAGE, "usage:"},
	{"help", KHEAP_EXIT_OK, "usage:"},
	{"--version", KHEAP_EXIT_OK,
	 "kheap " KHEAP_VERSION_STRING " (trace format 1)"},
	{"frobnicate x", KHEAP_EXIT_USAGE, "unknown command 'frobnicate'"},
	{"replay", KHEAP_EXIT_USAGE, "replay: no trace file given"},
	{"replay a b", KHEAP_EXIT_USAGE, "unexpected argument 'b'"},
	{"replay " TRACE("ten_blocks.trace") " --bogus", KHEAP_EXIT_USAGE,
	 "unknown option '--bogus'"},
	{"replay " TRACE("ten_blocks.trace") " --heap-bytes", KHEAP_EXIT_USAGE,
	 "--heap-bytes needs a value"},
	{"replay " TRACE("ten_blocks.trace") " --heap-bytes x",
	 KHEAP_EXIT_USAGE, "--heap-bytes: 'x' is not a byte count"},
	{"replay " TRACE("ten_blocks.trace") " --heap-bytes 32",
	 KHEAP_EXIT_USAGE, "below sys_heap's minimum region (40 bytes)"},
	{"replay " TRACE("ten_blocks.trace") " --heap-bytes 300000 --format "
					     "small",
	 KHEAP_EXIT_USAGE, "--format small needs a heap of at most 262144"},
	{"replay " TRACE("ten_blocks.trace") " --format big", KHEAP_EXIT_USAGE,
	 "--format big needs a heap of more than 262144"},
	{"replay " TRACE("ten_blocks.trace") " --format medium",
	 KHEAP_EXIT_USAGE, "--format: 'medium' is not small, big or auto"},
	{"replay " TRACE("ten_blocks.trace") " --ptr-bytes 2", KHEAP_EXIT_USAGE,
	 "--ptr-bytes must be 4 or 8"},
	{"replay " TRACE("ten_blocks.trace") " --ptr-bytes 16",
	 KHEAP_EXIT_USAGE, "--ptr-bytes must be 4 or 8, not '16'"},
	{"replay " TRACE("ten_blocks.trace") " --heap nosuch", KHEAP_EXIT_USAGE,
	 "the trace has no heap 'nosuch' (heaps: h)"},
	{"replay " OUT("no-such-file.trace"), KHEAP_EXIT_TRACE,
	 "no-such-file.trace: cannot open"},
	{"replay " TRACE("ten_blocks.trace") " --heap-bytes 1159",
	 KHEAP_EXIT_FAILED, "failures: 1 event"},
	{"size " TRACE("ten_blocks.trace") " --heap-bytes 4096",
	 KHEAP_EXIT_USAGE, "size takes no --heap-bytes"},
	{"size " TRACE("ten_blocks.trace") " --max-bytes 1000",
	 KHEAP_EXIT_FAILED,
	 "no heap size from 40 to 1000 bytes fits this trace"},
	{"size " TRACE("ten_blocks.trace") " --max-bytes 32", KHEAP_EXIT_USAGE,
	 "--max-bytes 32 is below the smallest size to try (40)"},
	/* Progress goes to stderr (here joined with stdout). */
	{"replay " TRACE("ten_blocks.trace") " --progress", KHEAP_EXIT_OK,
	 "kheap replay:   0% (0/20 events)"},
	{"size " TRACE("ten_blocks.trace") " --progress", KHEAP_EXIT_OK,
	 "kheap size: replay 1 at 1000 bytes"},
	{"map " TRACE("ten_blocks.trace"), KHEAP_EXIT_USAGE,
	 "map: give the output file with -o"},
	{"map " TRACE("ten_blocks.trace") " -o x.jpg", KHEAP_EXIT_USAGE,
	 "the output file must end in .svg or .png"},
	{"map " TRACE("ten_blocks.trace") " -o " OUT("x.svg") " --at 21",
	 KHEAP_EXIT_USAGE, "--at: '21' is not an event number from 0 to 20"},
	{"map " TRACE("ten_blocks.trace") " -o /nonexistent-dir/x.png",
	 KHEAP_EXIT_OUTPUT, "/nonexistent-dir/x.png: cannot open for writing"},
};

static void test_exit_statuses(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(cli_cases) / sizeof(cli_cases[0]); i++) {
		char *out;
		int status = kheap(cli_cases[i].args, &out);

		if (status != cli_cases[i].status ||
		    strstr(out, cli_cases[i].message) == NULL) {
			fail_msg("kheap %s: status %d (expected %d), "
				 "output:\n%s\nexpected: %s",
				 cli_cases[i].args, status, cli_cases[i].status,
				 out, cli_cases[i].message);
		}
		free(out);
	}
}

static void test_trace_errors_exit_3(void **state)
{
	char *out;

	(void)state;
	assert_true(
		write_file(OUT("bad3.trace"), H "0 t k_free h - - - 9 s\n"));
	assert_int_equal(kheap("size " OUT("bad3.trace"), &out),
			 KHEAP_EXIT_TRACE);
	assert_contains(out, "bad3.trace:2: id 9 was never allocated");
	free(out);
	assert_true(write_file(OUT("multi.trace"),
			       H "0 t k_heap_alloc a 8 - 1 - s\n"
				 "0 t k_heap_alloc b 8 - 2 - s\n"));
	assert_int_equal(kheap("replay " OUT("multi.trace"), &out),
			 KHEAP_EXIT_USAGE);
	assert_contains(out, "the trace uses several heaps (a, b): choose "
			     "one with --heap");
	free(out);
	assert_int_equal(kheap("replay " OUT("multi.trace") " --heap a", &out),
			 KHEAP_EXIT_USAGE);
	assert_contains(out, "does not record heap a's size: give "
			     "--heap-bytes");
	free(out);
}

/* ---- hostile and huge input ------------------------------------------------- */

/* A file of `bytes` copies of `fill`, after `prefix`. */
static void write_filled(const char *path, const char *prefix, char fill,
			 size_t bytes, const char *suffix)
{
	size_t prefix_len = strlen(prefix), suffix_len = strlen(suffix);
	char *text = malloc(prefix_len + bytes + suffix_len);
	FILE *f = fopen(path, "wb");

	assert_non_null(text);
	assert_non_null(f);
	memcpy(text, prefix, prefix_len);
	memset(text + prefix_len, fill, bytes);
	memcpy(text + prefix_len + bytes, suffix, suffix_len);
	assert_int_equal(fwrite(text, 1, prefix_len + bytes + suffix_len, f),
			 prefix_len + bytes + suffix_len);
	assert_int_equal(fclose(f), 0);
	free(text);
}

static void expect_load_error(const char *path, const char *message)
{
	struct trace t;
	char err[512];

	if (trace_load(path, &t, err, sizeof(err)) == 0) {
		trace_free(&t);
		fail_msg("%s accepted", path);
	}
	if (strstr(err, message) == NULL) {
		fail_msg("%s: expected \"%s\", got \"%s\"", path, message, err);
	}
}

/*
 * A line longer than TRACE_MAX_LINE_BYTES stops the reader there, with
 * its line number: a file without line ends (/dev/zero, a binary) costs
 * at most that much memory, not the whole file.
 */
static void test_long_lines_are_refused(void **state)
{
	char *out;

	(void)state;
	write_filled(OUT("long1.trace"), "", 'x', 200000, "\n");
	expect_load_error(OUT("long1.trace"),
			  "long1.trace:1: line too long (more than 65536 "
			  "bytes): not a kheap trace");
	write_filled(OUT("long2.trace"), H, 'x', TRACE_MAX_LINE_BYTES + 1u, "");
	expect_load_error(OUT("long2.trace"), "long2.trace:2: line too long");
	write_filled(OUT("zeros.trace"), "", '\0', 300000, "");
	expect_load_error(OUT("zeros.trace"), "zeros.trace:1: line too long");
	write_filled(OUT("nul.trace"), H "0 t k_malloc h 1 - 1 - s", '\0', 1,
		     "\n");
	expect_load_error(OUT("nul.trace"), "nul.trace:2: NUL byte in line");

	/* The longest line accepted: a comment of exactly the limit. */
	struct trace t;

	write_filled(OUT("longest.trace"), H "#", 'x',
		     TRACE_MAX_LINE_BYTES - 1u,
		     "\n@heap h 1000\n0 t k_heap_alloc h 8 - 1 - s\n");
	load(OUT("longest.trace"), &t);
	assert_int_equal(t.event_count, 1);
	trace_free(&t);

	/* A 10 MB stream of zeros (what /dev/zero gives) read by the command:
	 * exit 3 at the first line, long before the end of the stream. */
	assert_int_equal(run_command("head -c 10000000 /dev/zero | '" KHEAP_EXE
				     "' replay /dev/stdin",
				     &out),
			 KHEAP_EXIT_TRACE);
	assert_contains(out, "kheap: /dev/stdin:1: line too long (more than "
			     "65536 bytes): not a kheap trace");
	free(out);
}

/* The trace names more heaps than the old 16-bit heap index held, each
 * used: every event keeps its heap, and one of the last can be replayed
 * by name. (The time this takes is measured by scripts/bench-tools.) */
#define MANY_HEAPS 70000u

static void test_many_heaps(void **state)
{
	const char *path = OUT("many_heaps.trace");
	FILE *f = fopen(path, "w");
	struct trace t;
	char *out;

	(void)state;
	assert_non_null(f);
	fputs("kheap-trace 1 ptr_bytes=4\n", f);
	for (unsigned int i = 0; i < MANY_HEAPS; i++) {
		/* Half declared, half only named by their event. */
		if (i % 2u == 0u) {
			fprintf(f, "@heap h%u %u\n", i, 1024u + i % 512u);
		}
		fprintf(f, "%u 1:main k_heap_alloc h%u %u - %u - app.c:1\n", i,
			i, 8u + i % 64u, i + 1u);
	}
	/* Frees name the block only; the heap comes from it. */
	fprintf(f, "0 1:main k_heap_free - - - - 1 app.c:2\n");
	fprintf(f, "0 1:main k_heap_free h%u - - - %u app.c:2\n",
		MANY_HEAPS - 1u, MANY_HEAPS);
	assert_int_equal(fclose(f), 0);

	load(path, &t);
	assert_int_equal(t.heap_count, MANY_HEAPS);
	assert_int_equal(t.event_count, MANY_HEAPS + 2u);
	for (unsigned int i = 0; i < MANY_HEAPS; i++) {
		char name[32];

		snprintf(name, sizeof(name), "h%u", i);
		assert_string_equal(t.heaps[t.events[i].heap].name, name);
		assert_int_equal(t.heaps[t.events[i].heap].bytes_known,
				 i % 2u == 0u);
	}
	assert_int_equal(t.events[MANY_HEAPS].heap, 0);
	assert_int_equal(t.events[MANY_HEAPS + 1u].heap, MANY_HEAPS - 1u);
	assert_int_equal(t.heaps[MANY_HEAPS - 1u].event_count, 2);
	assert_int_equal(trace_heap_find(&t, "h69998"), 69998);
	trace_free(&t);

	assert_int_equal(
		kheap("replay '" OUT("many_heaps.trace") "' --heap "
							 "h69998 --samples 0",
		      &out),
		0);
	assert_contains(out,
			"heap h69998: 1390 bytes"); /* 1024 + 69998 % 512 */
	assert_contains(out, "events: 1 on this heap (70002 in the trace)");
	free(out);
	/* A name declared after many others is still found as declared
	 * (line 1 + 35000 @heap + 70002 events + 1). */
	f = fopen(path, "a");
	assert_non_null(f);
	fprintf(f, "@heap h69998 100\n");
	assert_int_equal(fclose(f), 0);
	expect_load_error(path, "many_heaps.trace:105004: heap 'h69998' "
				"declared twice");
}

static void test_hostile_command_input(void **state)
{
	char *out;

	(void)state;
	/* No events on any heap: exit 3, and the message names the file. */
	assert_true(write_file(OUT("no-events.trace"),
			       H "@heap a 1000\n@heap b 1000\n"));
	assert_int_equal(kheap("replay " OUT("no-events.trace"), &out),
			 KHEAP_EXIT_TRACE);
	assert_contains(out, "kheap: " OUT("no-events.trace") ": the trace "
							      "has no events");
	free(out);
	assert_true(write_file(OUT("header-only.trace"), H));
	assert_int_equal(kheap("size " OUT("header-only.trace"), &out),
			 KHEAP_EXIT_TRACE);
	assert_contains(out, "header-only.trace: the trace has no events");
	free(out);

	/* --max-bytes is bounded by the largest region sys_heap takes. */
	assert_int_equal(
		kheap("size " TRACE(
			      "ten_blocks.trace") " --max-bytes 17179869184",
		      &out),
		KHEAP_EXIT_USAGE);
	assert_contains(out, "--max-bytes: 17179869184 is above sys_heap's "
			     "maximum region");
	free(out);

	/* --window is bounded: each 8 bytes may cost a replay. */
	assert_int_equal(
		kheap("size " TRACE("ten_blocks.trace") " --window 16G", &out),
		KHEAP_EXIT_USAGE);
	assert_contains(out, "--window: 16G is more than 65536 bytes (64K)");
	free(out);
	assert_int_equal(
		kheap("size " TRACE("ten_blocks.trace") " --window 65537",
		      &out),
		KHEAP_EXIT_USAGE);
	free(out);
	assert_int_equal(
		kheap("size " TRACE("ten_blocks.trace") " --window "
							"64K --margin 0",
		      &out),
		0);
	assert_contains(out, "every size from 1160 to 66696 bytes works");
	free(out);
}

static void test_symbolize_address_check(void **state)
{
	(void)state;
	assert_true(symbolize_address_ok("0x0"));
	assert_true(symbolize_address_ok("0x250d"));
	assert_true(symbolize_address_ok("0xDEADbeef"));
	assert_true(symbolize_address_ok("0xffffffffffffffff"));
	assert_false(symbolize_address_ok("0x"));
	assert_false(symbolize_address_ok("250d"));
	assert_false(symbolize_address_ok("0X250d"));
	assert_false(symbolize_address_ok("0x1ffffffffffffffff"));
	assert_false(symbolize_address_ok("0x1;touch${IFS}PWNED"));
	assert_false(symbolize_address_ok("0x1 2"));
	assert_false(symbolize_address_ok("0x-1"));
	assert_false(symbolize_address_ok("0x1g"));
}

/*
 * --symbolize on a hostile trace: the address part of sites, which once
 * went into a shell command line, must never run anything. kheap runs in
 * a scratch directory where every payload would leave a file; none may
 * appear, and each bad site is reported.
 */
#define SCRATCH OUT_DIR "/symbolize-scratch"

static void test_symbolize_runs_no_shell(void **state)
{
	static const char *const payloads[] = {
		"m+0x1;touch${IFS}PWNED",
		"m+0x1|touch${IFS}PWNED2",
		"m+0x1&&touch${IFS}PWNED3",
		"m+0x1$(touch${IFS}PWNED4)",
		"m+0x1`touch${IFS}PWNED5`",
		"m+0x1>PWNED6",
		"m+0x1\x1b[2J",
	};
	static const char *const files[] = {"PWNED",  "PWNED2", "PWNED3",
					    "PWNED4", "PWNED5", "PWNED6"};
	size_t count = sizeof(payloads) / sizeof(payloads[0]);
	char path[512], cmd[1024];
	char *out;
	struct stat st;

	(void)state;
	mkdir(SCRATCH, 0777);
	for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		snprintf(path, sizeof(path), "%s/%s", SCRATCH, files[i]);
		unlink(path);
	}
	FILE *f = fopen(SCRATCH "/hostile.trace", "w");

	assert_non_null(f);
	fprintf(f, "kheap-trace 1\n@heap h 4096\n@module m %s\n", KHEAP_EXE);
	for (size_t i = 0; i < count; i++) {
		fprintf(f, "0 1:main k_heap_alloc h 8 - %zu - %s\n", i + 1u,
			payloads[i]);
	}
	assert_int_equal(fclose(f), 0);

	snprintf(cmd, sizeof(cmd),
		 "cd '%s' && '%s' replay hostile.trace --symbolize", SCRATCH,
		 KHEAP_EXE);
	assert_int_equal(run_command(cmd, &out), 0);
	for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		snprintf(path, sizeof(path), "%s/%s", SCRATCH, files[i]);
		if (stat(path, &st) == 0) {
			fail_msg("--symbolize ran a command from the trace: %s "
				 "exists\n%s",
				 path, out);
		}
	}
	assert_contains(out, "kheap: --symbolize: site "
			     "'m+0x1;touch${IFS}PWNED' is not "
			     "<module>+0x<hex digits>: left as recorded");
	assert_contains(out, "site 'm+0x1$(touch${IFS}PWNED4)' is not");
	/* Control bytes are escaped in the message. */
	assert_contains(out, "site 'm+0x1\\x1b[2J' is not");
	free(out);
}

/* ---- PNG ------------------------------------------------------------------------ */

static uint32_t be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	       (uint32_t)p[2] << 8 | p[3];
}

/* A bitwise CRC-32, independent of the tool's table-driven one. */
static uint32_t slow_crc32(const uint8_t *p, size_t n)
{
	uint32_t crc = 0xffffffffu;

	for (size_t i = 0; i < n; i++) {
		crc ^= p[i];
		for (int k = 0; k < 8; k++) {
			crc = (crc >> 1) ^ (0xedb88320u & (0u - (crc & 1u)));
		}
	}
	return ~crc;
}

/* The height attribute of an SVG written by kheap map. */
static unsigned long svg_height(const char *svg)
{
	const char *h = strstr(svg, " height=\"");

	assert_non_null(h);
	return strtoul(h + 9, NULL, 10);
}

static void test_png_is_well_formed(void **state)
{
	size_t bytes;
	char *out;

	(void)state;
	assert_int_equal(
		kheap("map " TRACE("ten_blocks.trace") " --at 10,end "
						       "-o " OUT("ten.png"),
		      &out),
		0);
	assert_contains(out, "wrote");
	free(out);
	assert_int_equal(
		kheap("map " TRACE("ten_blocks.trace") " --at 10,end "
						       "-o " OUT("ten.svg"),
		      NULL),
		0);
	char *svg = read_file(OUT("ten.svg"), NULL);
	uint8_t *png = (uint8_t *)read_file(OUT("ten.png"), &bytes);

	assert_non_null(svg);
	assert_non_null(png);
	static const uint8_t signature[8] = {0x89, 'P',  'N',  'G',
					     '\r', '\n', 0x1a, '\n'};

	assert_true(bytes > 8u + 25u + 12u);
	assert_memory_equal(png, signature, 8);

	/* Chunks: IHDR first, IDATs, IEND last; every CRC right. */
	size_t at = 8;
	uint32_t width = 0, height = 0;
	uint8_t *idat = NULL;
	size_t idat_bytes = 0;
	bool seen_iend = false;
	int index = 0;

	while (at < bytes) {
		assert_true(at + 12u <= bytes);
		uint32_t len = be32(png + at);
		const uint8_t *type = png + at + 4;

		assert_true(at + 12u + len <= bytes);
		assert_int_equal(slow_crc32(type, len + 4u),
				 be32(png + at + 8u + len));
		if (index == 0) {
			assert_memory_equal(type, "IHDR", 4);
			assert_int_equal(len, 13);
			width = be32(type + 4);
			height = be32(type + 8);
			/* 8-bit RGB, deflate, no interlace */
			assert_int_equal(type[12], 8);
			assert_int_equal(type[13], 2);
			assert_int_equal(type[14], 0);
			assert_int_equal(type[15], 0);
			assert_int_equal(type[16], 0);
		} else if (memcmp(type, "IDAT", 4) == 0) {
			idat = realloc(idat, idat_bytes + len);
			assert_non_null(idat);
			memcpy(idat + idat_bytes, type + 4, len);
			idat_bytes += len;
		} else if (memcmp(type, "IEND", 4) == 0) {
			assert_int_equal(len, 0);
			seen_iend = true;
			assert_int_equal(at + 12u, bytes);
		}
		at += 12u + len;
		index++;
	}
	assert_true(seen_iend);
	assert_int_equal(width, 960);
	assert_int_equal(height, svg_height(svg));

	/* zlib framing: deflate, a valid header check. */
	assert_true(idat_bytes > 6u);
	assert_int_equal(idat[0] & 0x0fu, 8);
	assert_int_equal((idat[0] * 256u + idat[1]) % 31u, 0);
#ifdef HAVE_ZLIB
	/* An independent decoder: the image data and its checksum. */
	size_t row = 1u + width * 3u;
	uLongf raw_bytes = (uLongf)(row * height);
	uint8_t *raw = malloc(raw_bytes + 1u);

	assert_non_null(raw);
	assert_int_equal(uncompress(raw, &raw_bytes, idat, idat_bytes), Z_OK);
	assert_int_equal(raw_bytes, row * height);
	/* Undo the filters (Sub and Up are all the encoder uses) and look
	 * for the legend's colours. */
	bool seen[5] = {false};
	static const uint32_t colours[5] = {0x5f5f5f, 0xd62728, 0x1f77b4,
					    0x9ecae1, 0xd9f0d3};

	for (uint32_t y = 0; y < height; y++) {
		uint8_t *line = raw + y * row;
		const uint8_t *above = y > 0u ? line - row : NULL;

		assert_true(line[0] == 1u || line[0] == 2u);
		for (size_t i = 1; i < row; i++) {
			uint8_t left = i > 3u ? line[i - 3u] : 0u;
			uint8_t up = above != NULL ? above[i] : 0u;

			line[i] = (uint8_t)(line[i] +
					    (line[0] == 1u ? left : up));
		}
		for (size_t x = 0; x < width; x++) {
			uint32_t rgb = (uint32_t)line[1 + 3 * x] << 16 |
				       (uint32_t)line[2 + 3 * x] << 8 |
				       line[3 + 3 * x];

			for (int k = 0; k < 5; k++) {
				seen[k] = seen[k] || rgb == colours[k];
			}
		}
	}
	for (int k = 0; k < 5; k++) {
		assert_true(seen[k]);
	}
	free(raw);
#endif
	free(idat);
	free(png);
	free(svg);
}

/* ---- SVG ------------------------------------------------------------------------ */

/* A small XML well-formedness check: balanced, properly nested tags,
 * quoted attributes, only the predefined entities, one root. Returns
 * NULL if well formed, else what is wrong. */
static const char *xml_problem(const char *s)
{
	const char *stack[64];
	size_t stack_len[64];
	size_t depth = 0;
	int roots = 0;

	if (strncmp(s, "<?xml ", 6) == 0) {
		s = strstr(s, "?>");
		if (s == NULL) {
			return "unterminated XML declaration";
		}
		s += 2;
	}
	while (*s != '\0') {
		if (*s == '&') {
			if (strncmp(s, "&amp;", 5) && strncmp(s, "&lt;", 4) &&
			    strncmp(s, "&gt;", 4) && strncmp(s, "&quot;", 6) &&
			    strncmp(s, "&apos;", 6)) {
				return "bad entity in text";
			}
			s++;
			continue;
		}
		if (*s != '<') {
			if (depth == 0u && *s != '\n' && *s != ' ') {
				return "text outside the root";
			}
			s++;
			continue;
		}
		if (strncmp(s, "<!--", 4) == 0) {
			s = strstr(s, "-->");
			if (s == NULL) {
				return "unterminated comment";
			}
			s += 3;
			continue;
		}
		bool closing = s[1] == '/';
		const char *name = s + (closing ? 2 : 1);
		size_t len = strspn(name, "abcdefghijklmnopqrstuvwxyz"
					  "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
					  "_:-.");

		if (len == 0u) {
			return "bad tag name";
		}
		const char *p = name + len;

		if (closing) {
			if (*p != '>' || depth == 0u ||
			    stack_len[depth - 1u] != len ||
			    strncmp(stack[depth - 1u], name, len) != 0) {
				return "mismatched closing tag";
			}
			depth--;
			s = p + 1;
			continue;
		}
		/* attributes */
		for (;;) {
			p += strspn(p, " \n\t");
			if (*p == '>' || (p[0] == '/' && p[1] == '>')) {
				break;
			}
			size_t alen = strspn(p, "abcdefghijklmnopqrstuvwxyz"
						"ABCDEFGHIJKLMNOPQRSTUVWXYZ"
						"0123456789_:-.");

			if (alen == 0u || p[alen] != '=' ||
			    p[alen + 1] != '"') {
				return "bad attribute";
			}
			p += alen + 2;
			while (*p != '"') {
				if (*p == '\0' || *p == '<') {
					return "bad attribute value";
				}
				p++;
			}
			p++;
		}
		if (depth == 0u) {
			roots++;
		}
		if (*p == '>') {
			if (depth == 64u) {
				return "too deep";
			}
			stack[depth] = name;
			stack_len[depth++] = len;
			s = p + 1;
		} else {
			s = p + 2;
		}
	}
	if (depth != 0u) {
		return "unclosed element";
	}
	return roots == 1 ? NULL : "not exactly one root element";
}

static size_t count(const char *text, const char *needle)
{
	size_t n = 0;

	for (const char *p = strstr(text, needle); p != NULL;
	     p = strstr(p + 1, needle)) {
		n++;
	}
	return n;
}

static void test_svg_is_well_formed(void **state)
{
	(void)state;
	assert_int_equal(
		kheap("map " TRACE("ten_blocks.trace") " --at 10,0 "
						       "-o " OUT("ten2.svg"),
		      NULL),
		0);
	char *svg = read_file(OUT("ten2.svg"), NULL);

	assert_non_null(svg);
	assert_null(xml_problem(svg));
	/* The checker itself rejects what it should. */
	assert_non_null(xml_problem("<a><b></a></b>"));
	assert_non_null(xml_problem("<a x=1></a>"));
	assert_non_null(xml_problem("<a>&nbsp;</a>"));
	assert_non_null(xml_problem("<a></a><b></b>"));

	assert_int_equal(count(svg, "<svg "), 1);
	assert_non_null(strstr(svg, "<svg xmlns=\"http://www.w3.org/2000/svg\" "
				    "width=\"960\""));
	assert_int_equal(count(svg, "<rect class=\"legend\""), 5);
	assert_int_equal(count(svg, "<g class=\"heap-map\""), 2);
	/* Moments in event order: the empty heap, then the peak. */
	const char *empty = strstr(svg,
				   "<g class=\"heap-map\" data-event=\"0\" "
				   "data-allocated-bytes=\"0\"");
	const char *peak = strstr(svg, "<g class=\"heap-map\" "
				       "data-event=\"10\" "
				       "data-allocated-bytes=\"1040\"");

	assert_non_null(empty);
	assert_non_null(peak);
	assert_true(empty < peak);
	assert_non_null(strstr(peak, "data-cell-bytes=\"4\""));
	/* The cells of a moment tile its grid: 2048 bytes in 4-byte cells
	 * are 4 rows of 128 cells, 7 pixels each. */
	const char *end = strstr(peak, "</g>");
	unsigned long width_sum = 0;
	size_t cells = 0;

	for (const char *p = strstr(peak, "<rect class=\"cell\"");
	     p != NULL && p < end; p = strstr(p + 1, "<rect class=\"cell\"")) {
		const char *w = strstr(p, " width=\"");

		width_sum += strtoul(w + 8, NULL, 10);
		cells++;
	}
	assert_true(cells > 10u);
	assert_int_equal(width_sum, 4u * 128u * 7u);
	assert_int_equal(count(svg, "<polyline class=\"usage\""), 1);
	assert_int_equal(count(svg, "<polyline class=\"fragmentation\""), 1);
	free(svg);
}

int main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_checksums),
		cmocka_unit_test(test_parse_numbers),
		cmocka_unit_test(test_reader_rejects_malformed_traces),
		cmocka_unit_test(test_reader_accepts_the_format),
		cmocka_unit_test(test_ten_blocks_peak),
		cmocka_unit_test(test_ten_blocks_size),
		cmocka_unit_test(test_failure_trace),
		cmocka_unit_test(test_leak_trace),
		cmocka_unit_test(test_kmalloc_overhead),
		cmocka_unit_test(test_exit_statuses),
		cmocka_unit_test(test_trace_errors_exit_3),
		cmocka_unit_test(test_long_lines_are_refused),
		cmocka_unit_test(test_many_heaps),
		cmocka_unit_test(test_hostile_command_input),
		cmocka_unit_test(test_symbolize_address_check),
		cmocka_unit_test(test_symbolize_runs_no_shell),
		cmocka_unit_test(test_png_is_well_formed),
		cmocka_unit_test(test_svg_is_well_formed),
	};

	if (argc > 1) {
		cmocka_set_test_filter(argv[1]);
	}
	return cmocka_run_group_tests_name("kheap tool", tests, NULL, NULL);
}
