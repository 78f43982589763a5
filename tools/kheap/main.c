/* SPDX-License-Identifier: Apache-2.0 */
/*
 * kheap: heap insight from allocation traces (docs/tools.md).
 *
 *   kheap replay TRACE [options]   replay on a sys_heap, report failures,
 *                                  peak, fragmentation and leaks
 *   kheap size TRACE [options]     smallest heap the trace never fails on
 *   kheap map TRACE -o OUT [options]  heap map image (SVG or PNG)
 *
 * Exit status: 0 success; 1 the trace does not fit (replay: events
 * failed; size: no size in range works); 2 usage error; 3 trace error;
 * 4 output error; 5 internal error (out of memory, a failed heap walk).
 */
#include <inttypes.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <kheap/version.h>

#include "render.h"
#include "replay.h"
#include "sizing.h"
#include "symbolize.h"
#include "trace.h"
#include "util.h"

#define MAX_MOMENTS 26u
/* Upper end of `kheap size`'s search unless --max-bytes says otherwise:
 * replays allocate the region on the host. */
#define DEFAULT_MAX_BYTES (1ull << 30)
#define DEFAULT_WINDOW_BYTES 512u
/* Every 8 bytes of window can cost a replay of the whole trace (and every
 * byte a heap set-up), three windows per search: 64 KiB is 128 times the
 * default and still ends in minutes on long traces. */
#define MAX_WINDOW_BYTES 65536u
#define DEFAULT_MARGIN_PERCENT 20u

static const char usage_text[] =
	"usage:\n"
	"  kheap replay TRACE [--heap NAME] [--heap-bytes N] [--format F]\n"
	"               [--ptr-bytes 4|8] [--samples N] [--all] "
	"[--symbolize]\n"
	"  kheap size TRACE [--heap NAME] [--margin PCT] [--format F]\n"
	"             [--ptr-bytes 4|8] [--window BYTES] [--max-bytes N]\n"
	"  kheap map TRACE -o OUT.svg|OUT.png [--heap NAME] [--heap-bytes N]\n"
	"            [--at EVENT[,EVENT...]] [--format F] [--ptr-bytes 4|8]\n"
	"  kheap help | --version\n"
	"\n"
	"  F: small (4-byte headers, regions <= 262144 bytes), big (8-byte\n"
	"     headers, larger regions) or auto (follow the size; default).\n"
	"  EVENT: an event number (1 = the first event line; 0 = before any),\n"
	"     peak (most bytes allocated), worst (most fragmented) or end.\n"
	"  Sizes accept K, M, G suffixes (KiB, MiB, GiB). Every command takes\n"
	"  --progress / --no-progress (default: progress when stderr is a\n"
	"  terminal).\n"
	"\n"
	"Exit status: 0 ok, 1 the trace does not fit, 2 usage error,\n"
	"3 trace error, 4 output error, 5 internal error. See docs/tools.md.\n";

enum header_format {
	FORMAT_AUTO,
	FORMAT_SMALL,
	FORMAT_BIG,
};

struct options {
	const char *command;
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
	int progress; /* -1: if stderr is a terminal */
	unsigned int margin_percent;
	uint64_t window_bytes;
	uint64_t max_bytes;
};

static _Noreturn void usage_error(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "kheap: ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\n(kheap help shows the usage)\n");
	exit(KHEAP_EXIT_USAGE);
}

static _Noreturn void fail_with(enum kheap_exit status, const char *message)
{
	fprintf(stderr, "kheap: %s\n", message);
	exit(status);
}

/* ---- command line ------------------------------------------------------- */

/* "--name value" or "--name=value"; advances *i past the value. */
static const char *option_value(int argc, char **argv, int *i, const char *name)
{
	size_t len = strlen(name);
	const char *arg = argv[*i];

	if (strncmp(arg, name, len) != 0) {
		return NULL;
	}
	if (arg[len] == '=') {
		return arg + len + 1;
	}
	if (arg[len] != '\0') {
		return NULL;
	}
	if (*i + 1 >= argc) {
		usage_error("%s needs a value", name);
	}
	return argv[++*i];
}

static uint64_t bytes_arg(const char *name, const char *value)
{
	uint64_t v;

	if (!parse_bytes(value, &v)) {
		usage_error("%s: '%s' is not a byte count", name, value);
	}
	return v;
}

static unsigned int uint_arg(const char *name, const char *value,
			     unsigned int max)
{
	uint64_t v;

	if (!parse_u64(value, &v) || v > max) {
		usage_error("%s: '%s' is not a number from 0 to %u", name,
			    value, max);
	}
	return (unsigned int)v;
}

static void parse_options(int argc, char **argv, struct options *o)
{
	memset(o, 0, sizeof(*o));
	o->progress = -1;
	o->samples = 10;
	o->margin_percent = DEFAULT_MARGIN_PERCENT;
	o->window_bytes = DEFAULT_WINDOW_BYTES;
	o->max_bytes = DEFAULT_MAX_BYTES;
	o->command = argv[1];
	for (int i = 2; i < argc; i++) {
		const char *v;
		const char *arg = argv[i];

		if (arg[0] != '-' || arg[1] == '\0') {
			if (o->trace_path != NULL) {
				usage_error("unexpected argument '%s'", arg);
			}
			o->trace_path = arg;
		} else if ((v = option_value(argc, argv, &i, "--heap-bytes"))) {
			o->heap_bytes = bytes_arg("--heap-bytes", v);
			o->heap_bytes_given = true;
		} else if ((v = option_value(argc, argv, &i, "--heap"))) {
			o->heap_name = v;
		} else if ((v = option_value(argc, argv, &i, "--format"))) {
			if (strcmp(v, "small") == 0) {
				o->format = FORMAT_SMALL;
			} else if (strcmp(v, "big") == 0) {
				o->format = FORMAT_BIG;
			} else if (strcmp(v, "auto") == 0) {
				o->format = FORMAT_AUTO;
			} else {
				usage_error("--format: '%s' is not small, big "
					    "or auto",
					    v);
			}
		} else if ((v = option_value(argc, argv, &i, "--ptr-bytes"))) {
			o->ptr_bytes = uint_arg("--ptr-bytes", v, 8);
			if (o->ptr_bytes != 4u && o->ptr_bytes != 8u) {
				usage_error("--ptr-bytes must be 4 or 8");
			}
		} else if ((v = option_value(argc, argv, &i, "--samples"))) {
			o->samples = uint_arg("--samples", v, 10000);
		} else if ((v = option_value(argc, argv, &i, "--margin"))) {
			o->margin_percent = uint_arg("--margin", v, 1000);
		} else if ((v = option_value(argc, argv, &i, "--window"))) {
			o->window_bytes = bytes_arg("--window", v);
			if (o->window_bytes > MAX_WINDOW_BYTES) {
				usage_error(
					"--window: %s is more than %u bytes "
					"(64K), the largest window kheap "
					"size checks",
					v, MAX_WINDOW_BYTES);
			}
		} else if ((v = option_value(argc, argv, &i, "--max-bytes"))) {
			o->max_bytes = bytes_arg("--max-bytes", v);
		} else if ((v = option_value(argc, argv, &i, "--at"))) {
			o->at = v;
		} else if ((v = option_value(argc, argv, &i, "-o")) ||
			   (v = option_value(argc, argv, &i, "--output"))) {
			o->output = v;
		} else if (strcmp(arg, "--all") == 0) {
			o->all = true;
		} else if (strcmp(arg, "--symbolize") == 0) {
			o->symbolize = true;
		} else if (strcmp(arg, "--progress") == 0) {
			o->progress = 1;
		} else if (strcmp(arg, "--no-progress") == 0) {
			o->progress = 0;
		} else {
			usage_error("unknown option '%s'", arg);
		}
	}
	if (o->trace_path == NULL) {
		usage_error("%s: no trace file given", o->command);
	}
	if (o->progress < 0) {
		o->progress = isatty(STDERR_FILENO) ? 1 : 0;
	}
}

/* ---- shared set-up -------------------------------------------------------- */

struct session {
	struct options opt;
	struct trace trace;
	int heap;
	struct replay_config cfg;
};

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

static const char *format_name(uint64_t heap_bytes)
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

/* Load the trace, pick the heap, fill s->cfg (heap_bytes if needed). */
static void set_up(struct session *s, bool need_heap_bytes)
{
	load_trace(s);
	s->heap = choose_heap(s);
	const struct trace_heap *h = &s->trace.heaps[s->heap];

	s->cfg.heap = s->heap;
	s->cfg.phase = h->phase;
	s->cfg.ptr_bytes = s->opt.ptr_bytes     ? s->opt.ptr_bytes
			   : s->trace.ptr_bytes ? s->trace.ptr_bytes
						: 4u;
	if (!need_heap_bytes) {
		return;
	}
	if (s->opt.heap_bytes_given) {
		s->cfg.heap_bytes = s->opt.heap_bytes;
	} else if (h->bytes_known) {
		s->cfg.heap_bytes = h->bytes;
	} else {
		usage_error("the trace does not record heap %s's size: give "
			    "--heap-bytes",
			    h->name);
	}
	check_format(&s->opt, s->cfg.heap_bytes);
}

static void open_replay(struct session *s, struct replay *r)
{
	char err[256];

	if (replay_open(r, &s->trace, &s->cfg, err, sizeof(err)) != 0) {
		usage_error("%s", err);
	}
}

/* Progress on stderr, at most every 1% of the events. */
struct progress {
	bool on;
	const char *what;
	size_t total;
	int last_percent;
};

static void progress_update(struct progress *p, size_t done)
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

static void progress_end(struct progress *p)
{
	if (p->on && p->last_percent >= 0) {
		fprintf(stderr, "\r%70s\r", "");
		fflush(stderr);
	}
}

/* ---- sites ------------------------------------------------------------------ */

/* Symbolised sites ("<module>+0x<addr>" -> "function file:line"), filled
 * by --symbolize (symbolize.h). */
static char **site_symbols;

static void print_site(FILE *f, const struct trace *t, uint32_t site)
{
	fputs(t->sites[site], f);
	if (site_symbols != NULL && site_symbols[site] != NULL) {
		fprintf(f, " (%s)", site_symbols[site]);
	}
}

static void print_event(FILE *f, const struct trace *t, size_t i)
{
	const struct trace_event *e = &t->events[i];

	fprintf(f, "event %zu (line %u, tick %" PRIu64 ", thread %s): %s",
		i + 1u, e->line, e->tick, t->threads[e->thread],
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
	print_site(f, t, e->site);
	fputc('\n', f);
}

static void print_setup(const struct session *s, const char *command)
{
	const struct trace_heap *h = &s->trace.heaps[s->heap];

	printf("kheap %s: %s, heap %s", command, s->opt.trace_path, h->name);
	if (s->cfg.heap_bytes != 0u) {
		printf(": %" PRIu64 " bytes (%s)", s->cfg.heap_bytes,
		       format_name(s->cfg.heap_bytes));
	}
	printf(", pointer size %u%s\n", s->cfg.ptr_bytes,
	       s->opt.ptr_bytes == 0u && s->trace.ptr_bytes == 0u
		       ? " (not in the trace: assumed)"
		       : "");
}

/* ---- replay --------------------------------------------------------------- */

struct sample {
	size_t event;
	struct replay_stats stats;
};

struct leak_group {
	uint32_t site;
	size_t blocks;
	uint64_t bytes;
	uint32_t first_block;
};

static int compare_leak_groups(const void *a, const void *b)
{
	const struct leak_group *x = a, *y = b;

	if (x->bytes != y->bytes) {
		return x->bytes < y->bytes ? 1 : -1;
	}
	return x->site < y->site ? -1 : x->site > y->site ? 1 : 0;
}

static int cmd_replay(struct session *s)
{
	const struct trace *t;
	struct replay r;
	struct progress prog = {.what = "replay", .last_percent = -1};
	size_t counts[6] = {0};
	size_t *failed = NULL;
	size_t failed_count = 0, failed_cap = 0;
	uint64_t peak = 0, peak_requested = 0;
	size_t peak_event = 0;
	double worst_frag = 0.0;
	size_t worst_event = 0;
	struct replay_stats worst_stats = {0}, st;
	unsigned int samples = s->opt.samples;
	struct sample *table = xcalloc(samples + 1u, sizeof(*table));
	size_t table_count = 0;

	set_up(s, true);
	t = &s->trace;
	if (s->opt.symbolize) {
		site_symbols = symbolize_sites(t, stderr);
	}
	open_replay(s, &r);
	print_setup(s, "replay");
	prog.on = s->opt.progress != 0;
	prog.total = t->event_count;
	replay_stats(&r, &st);
	peak = st.max_allocated_bytes;
	while (r.next_event < t->event_count) {
		size_t i = r.next_event;
		enum replay_outcome outcome = replay_step(&r);

		counts[outcome]++;
		if (outcome == REPLAY_FAILED) {
			if (failed_count == failed_cap) {
				failed_cap = failed_cap ? failed_cap * 2u : 64u;
				failed = xrealloc(failed,
						  failed_cap * sizeof(*failed));
			}
			failed[failed_count++] = i;
		}
		if (outcome != REPLAY_OTHER_HEAP) {
			replay_stats(&r, &st);
			if (st.max_allocated_bytes > peak) {
				peak = st.max_allocated_bytes;
				peak_event = i + 1u;
				peak_requested = r.live_requested_bytes;
			}
			double frag = replay_fragmentation(&st);

			if (frag > worst_frag) {
				worst_frag = frag;
				worst_event = i + 1u;
				worst_stats = st;
			}
		}
		/* Evenly spaced samples, the last one at the end. */
		if (samples > 0u &&
		    (uint64_t)(i + 1u) * samples / t->event_count !=
			    (uint64_t)i * samples / t->event_count) {
			replay_stats(&r, &table[table_count].stats);
			table[table_count++].event = i + 1u;
		}
		if ((i & 0xfffu) == 0u) {
			progress_update(&prog, i);
		}
	}
	progress_end(&prog);

	size_t on_heap = t->event_count - counts[REPLAY_OTHER_HEAP];

	printf("events: %zu on this heap (%zu in the trace); %zu failed in "
	       "the recording (not replayed); %zu frees of unknown blocks\n",
	       on_heap, t->event_count, counts[REPLAY_RECORDED_FAILED],
	       counts[REPLAY_UNKNOWN_FREE]);
	if (failed_count == 0u) {
		printf("failures: none\n");
	} else {
		size_t shown = s->opt.all || failed_count <= 20u ? failed_count
								 : 20u;

		printf("failures: %zu event%s returned NULL here but not in "
		       "the recording%s\n",
		       failed_count, failed_count == 1u ? "" : "s",
		       shown < failed_count ? " (first 20; --all lists all)"
					    : "");
		for (size_t k = 0; k < shown; k++) {
			fputs("  ", stdout);
			print_event(stdout, t, failed[k]);
		}
	}
	printf("peak: %" PRIu64 " bytes allocated (%.1f%% of the heap)", peak,
	       100.0 * (double)peak / (double)s->cfg.heap_bytes);
	if (peak_event > 0u) {
		printf(" in event %zu; %" PRIu64 " bytes requested were live "
		       "after it",
		       peak_event, peak_requested);
	}
	printf("\n");

	printf("fragmentation (1 - largest certain request / free bytes):\n");
	printf("  %10s %12s %12s %12s %7s\n", "after", "allocated", "free",
	       "largest", "frag");
	for (size_t k = 0; k < table_count; k++) {
		const struct replay_stats *x = &table[k].stats;

		printf("  %10zu %12" PRIu64 " %12" PRIu64 " %12" PRIu64
		       " %6.1f%%\n",
		       table[k].event, x->allocated_bytes, x->free_bytes,
		       x->max_alloc_bytes, 100.0 * replay_fragmentation(x));
	}
	if (worst_event > 0u) {
		printf("  worst: %.1f%% after event %zu (free %" PRIu64
		       " bytes, largest certain request %" PRIu64 " bytes)\n",
		       100.0 * worst_frag, worst_event, worst_stats.free_bytes,
		       worst_stats.max_alloc_bytes);
	}

	/* Live at the end: blocks the trace never released, grouped by
	 * site (group_of_site: group index + 1, 0 for none yet). */
	struct leak_group *groups = NULL;
	size_t group_count = 0, group_cap = 0, leaked = 0;
	uint64_t leaked_bytes = 0;
	size_t *group_of_site = xcalloc(t->site_count, sizeof(size_t));

	for (uint32_t b = 0; b < t->block_count; b++) {
		const struct trace_block *blk = &t->blocks[b];
		const struct trace_event *e = &t->events[blk->alloc_event];

		if (blk->release_event != UINT32_MAX ||
		    e->heap != (uint32_t)s->heap) {
			continue;
		}
		leaked++;
		leaked_bytes += e->size_bytes;
		if (group_of_site[e->site] == 0u) {
			if (group_count == group_cap) {
				group_cap = group_cap ? group_cap * 2u : 64u;
				groups = xrealloc(groups,
						  group_cap * sizeof(*groups));
			}
			groups[group_count++] = (struct leak_group){
				.site = e->site,
				.first_block = b,
			};
			group_of_site[e->site] = group_count;
		}
		struct leak_group *g = &groups[group_of_site[e->site] - 1u];

		g->blocks++;
		g->bytes += e->size_bytes;
	}
	free(group_of_site);
	if (leaked == 0u) {
		printf("live at the end: none\n");
	} else {
		qsort(groups, group_count, sizeof(*groups),
		      compare_leak_groups);
		printf("live at the end (leaks): %zu block%s, %" PRIu64
		       " bytes requested\n",
		       leaked, leaked == 1u ? "" : "s", leaked_bytes);
		for (size_t g = 0; g < group_count; g++) {
			const struct trace_block *first =
				&t->blocks[groups[g].first_block];

			printf("  %zu block%s, %" PRIu64 " bytes, at ",
			       groups[g].blocks,
			       groups[g].blocks == 1u ? "" : "s",
			       groups[g].bytes);
			print_site(stdout, t, groups[g].site);
			printf(" (first: id %" PRIu64 ", event %" PRIu32
			       ", line %u)\n",
			       first->id, first->alloc_event + 1u,
			       t->events[first->alloc_event].line);
		}
	}
	free(groups);
	free(table);
	free(failed);
	symbolize_free(site_symbols, t->site_count);
	site_symbols = NULL;
	replay_close(&r);
	trace_free(&s->trace);
	return failed_count > 0u ? KHEAP_EXIT_FAILED : KHEAP_EXIT_OK;
}

/* ---- size ------------------------------------------------------------------ */

/*
 * The system heap's setting for a region of region_bytes: the system heap
 * gets Z_HEAP_MIN_SIZE_FOR(CONFIG_HEAP_MEM_POOL_SIZE) bytes (the setting
 * is what stays usable, the metadata comes on top), so the smallest
 * setting whose region is at least that large, checked by replaying the
 * trace on the region it gives.
 */
static void print_pool_size(struct session *s, uint64_t region_bytes)
{
	uint64_t pool = sizing_pool_size_for_region(region_bytes);
	uint64_t region = Z_HEAP_MIN_SIZE_FOR(pool);
	struct replay_config rc = s->cfg;
	char err[256];

	rc.heap_bytes = region;
	if (replay_count_failures(&s->trace, &rc, true, NULL, err,
				  sizeof(err)) != 0) {
		printf("  note: CONFIG_HEAP_MEM_POOL_SIZE=%" PRIu64
		       " gives a %" PRIu64 "-byte system heap, on which the "
		       "trace fails: define the heap with K_HEAP_DEFINE "
		       "instead\n",
		       pool, region);
		return;
	}
	printf("CONFIG_HEAP_MEM_POOL_SIZE=%" PRIu64
	       " (a system heap of %" PRIu64 " bytes)\n",
	       pool, region);
}

static int cmd_size(struct session *s)
{
	struct sizing_config cfg = {0};
	struct sizing_result res;
	char err[256];

	set_up(s, false);
	if (s->opt.heap_bytes_given) {
		usage_error("size takes no --heap-bytes (it searches for one)");
	}
	cfg.replay = s->cfg;
	cfg.min_bytes = Z_HEAP_MIN_SIZE;
	cfg.max_bytes = s->opt.max_bytes;
	if (s->opt.format == FORMAT_SMALL &&
	    cfg.max_bytes > SYS_HEAP_SMALL_REGION_MAX_BYTES) {
		cfg.max_bytes = SYS_HEAP_SMALL_REGION_MAX_BYTES;
	}
	if (s->opt.format == FORMAT_BIG) {
		cfg.min_bytes = SYS_HEAP_SMALL_REGION_MAX_BYTES + 1u;
	}
	if (cfg.max_bytes < cfg.min_bytes) {
		usage_error("--max-bytes %" PRIu64 " is below the smallest "
			    "size to try (%" PRIu64 ")",
			    cfg.max_bytes, cfg.min_bytes);
	}
	cfg.window_bytes = s->opt.window_bytes;
	cfg.margin_percent = s->opt.margin_percent;
	cfg.progress = s->opt.progress != 0;
	print_setup(s, "size");
	if (sizing_run(&s->trace, &cfg, &res, err, sizeof(err)) != 0) {
		fail_with(KHEAP_EXIT_INTERNAL, err);
	}
	if (!res.found) {
		printf("no heap size from %" PRIu64 " to %" PRIu64
		       " bytes fits this trace (%lu replays); at %" PRIu64
		       " bytes the first failure is\n  ",
		       cfg.min_bytes, cfg.max_bytes, res.replays,
		       cfg.max_bytes);
		print_event(stdout, &s->trace, res.fail_event_at_max);
		trace_free(&s->trace);
		return KHEAP_EXIT_FAILED;
	}
	printf("smallest heap: %" PRIu64 " bytes (%s)\n", res.min_bytes,
	       format_name(res.min_bytes));
	if (res.below_fails) {
		printf("  %" PRIu64 " bytes fails first at ",
		       res.min_bytes - 1u);
		print_event(stdout, &s->trace, res.below_fail_event);
	} else if (res.min_bytes == cfg.min_bytes) {
		printf("  (the smallest size searched)\n");
	}
	printf("  every size from %" PRIu64 " to %" PRIu64
	       " bytes works%s (%lu replays)\n",
	       res.min_bytes, res.window_end_bytes,
	       res.window_clipped ? " (window clipped at the search range)"
				  : "",
	       res.replays);
	if (res.isolated_success != 0u) {
		printf("  note: %" PRIu64 " bytes also works, but %" PRIu64
		       " fails: failure is not monotone in the size for this "
		       "trace\n",
		       res.isolated_success, res.min_bytes - 1u);
	}
	const struct trace_heap *h = &s->trace.heaps[s->heap];

	if (h->bytes_known && h->bytes < res.min_bytes &&
	    h->bytes >= cfg.min_bytes) {
		struct replay_config rc = s->cfg;

		rc.heap_bytes = h->bytes;
		if (replay_count_failures(&s->trace, &rc, true, NULL, err,
					  sizeof(err)) == 0) {
			printf("  note: the recorded size, %" PRIu64
			       " bytes, also works (it is where the trace "
			       "was made), but sizes just below the answer "
			       "do not\n",
			       h->bytes);
		}
	}
	size_t recorded_failures = 0;

	for (size_t i = 0; i < s->trace.event_count; i++) {
		const struct trace_event *e = &s->trace.events[i];

		recorded_failures += e->heap == (uint32_t)s->heap &&
				     e->result == TRACE_NO_BLOCK &&
				     !trace_op_is_free((enum trace_op)e->op) &&
				     e->size_bytes != 0u;
	}
	if (recorded_failures > 0u) {
		printf("  note: %zu call%s failed in the recording; the answer "
		       "assumes they fail at every size (the program may "
		       "have acted on them)\n",
		       recorded_failures, recorded_failures == 1u ? "" : "s");
	}
	if (res.margin_found) {
		printf("with %u%% margin: %" PRIu64 " bytes\n",
		       cfg.margin_percent, res.margin_bytes);
		print_pool_size(s, res.margin_bytes);
	} else {
		printf("with %u%% margin: no size up to %" PRIu64
		       " bytes works\n",
		       cfg.margin_percent, cfg.max_bytes);
	}
	trace_free(&s->trace);
	return KHEAP_EXIT_OK;
}

/* ---- map ------------------------------------------------------------------- */

/* Parse --at into sorted event numbers (0..event_count). */
static size_t parse_at(const char *spec, size_t event_count, size_t peak,
		       size_t worst, size_t *out)
{
	char *copy = xstrdup(spec);
	size_t n = 0;

	for (char *tok = strtok(copy, ","); tok != NULL;
	     tok = strtok(NULL, ",")) {
		uint64_t v;

		if (n == MAX_MOMENTS) {
			usage_error("--at: at most %u moments", MAX_MOMENTS);
		}
		if (strcmp(tok, "peak") == 0) {
			v = peak;
		} else if (strcmp(tok, "worst") == 0) {
			v = worst;
		} else if (strcmp(tok, "end") == 0) {
			v = event_count;
		} else if (!parse_u64(tok, &v) || v > event_count) {
			usage_error("--at: '%s' is not an event number from 0 "
				    "to %zu, peak, worst or end",
				    tok, event_count);
		}
		out[n++] = (size_t)v;
	}
	free(copy);
	if (n == 0u) {
		usage_error("--at: no events given");
	}
	/* Sort (a replay runs forward) and drop duplicates. */
	for (size_t i = 1; i < n; i++) {
		for (size_t j = i; j > 0u && out[j - 1u] > out[j]; j--) {
			size_t tmp = out[j];

			out[j] = out[j - 1u];
			out[j - 1u] = tmp;
		}
	}
	size_t m = 0;

	for (size_t i = 0; i < n; i++) {
		if (m == 0u || out[m - 1u] != out[i]) {
			out[m++] = out[i];
		}
	}
	return m;
}

static void describe_moment(const struct trace *t, struct map_moment *mo)
{
	if (mo->event == 0u) {
		snprintf(mo->caption, sizeof(mo->caption),
			 "before the first event");
		return;
	}
	const struct trace_event *e = &t->events[mo->event - 1u];
	char what[64] = "";

	if (!trace_op_is_free((enum trace_op)e->op)) {
		snprintf(what, sizeof(what), " %" PRIu64 " B", e->size_bytes);
	}
	snprintf(mo->caption, sizeof(mo->caption),
		 "after event %zu (line %u, tick %" PRIu64 "): %s%s at %.40s",
		 mo->event, e->line, e->tick,
		 trace_op_name((enum trace_op)e->op), what, t->sites[e->site]);
}

static int cmd_map(struct session *s)
{
	const struct trace *t;
	struct replay r;
	struct replay_stats st;
	struct progress prog = {.what = "map", .last_percent = -1};
	struct map_series *series = xcalloc(1, sizeof(*series));
	size_t peak_event = 0, worst_event = 0;
	uint64_t peak = 0;
	double worst = 0.0;
	enum map_format format;
	char err[256];

	if (s->opt.output == NULL) {
		usage_error("map: give the output file with -o OUT.svg or -o "
			    "OUT.png");
	}
	size_t len = strlen(s->opt.output);

	if (len > 4u && strcmp(s->opt.output + len - 4u, ".svg") == 0) {
		format = MAP_SVG;
	} else if (len > 4u && strcmp(s->opt.output + len - 4u, ".png") == 0) {
		format = MAP_PNG;
	} else {
		usage_error("map: the output file must end in .svg or .png");
	}
	set_up(s, true);
	t = &s->trace;

	/* Pass 1: the curves, the peak and the most fragmented moment. */
	for (size_t c = 0; c < MAP_PLOT_WIDTH_PX; c++) {
		series->usage[c] = -1.0f;
		series->fragmentation[c] = -1.0f;
	}
	series->event_count = t->event_count;
	prog.on = s->opt.progress != 0;
	prog.total = t->event_count * 2u;
	open_replay(s, &r);
	while (r.next_event < t->event_count) {
		size_t i = r.next_event;

		(void)replay_step(&r);
		replay_stats(&r, &st);
		size_t c = map_column_of(i, t->event_count);
		float usage = (float)((double)st.allocated_bytes /
				      (double)s->cfg.heap_bytes);
		float frag = (float)replay_fragmentation(&st);

		series->usage[c] = usage > series->usage[c] ? usage
							    : series->usage[c];
		series->fragmentation[c] = frag > series->fragmentation[c]
						   ? frag
						   : series->fragmentation[c];
		if (st.max_allocated_bytes > peak) {
			peak = st.max_allocated_bytes;
			peak_event = i + 1u;
		}
		if (frag > worst) {
			worst = frag;
			worst_event = i + 1u;
		}
		if ((i & 0xfffu) == 0u) {
			progress_update(&prog, i);
		}
	}
	replay_close(&r);
	/* Columns no event fell in continue the previous one. */
	for (size_t c = 0; c < MAP_PLOT_WIDTH_PX; c++) {
		float prev_u = c ? series->usage[c - 1u] : 0.0f;
		float prev_f = c ? series->fragmentation[c - 1u] : 0.0f;

		if (series->usage[c] < 0.0f) {
			series->usage[c] = prev_u;
			series->fragmentation[c] = prev_f;
		}
	}

	/* Pass 2: the layouts at the chosen moments. */
	size_t events[MAX_MOMENTS];
	size_t n = parse_at(s->opt.at != NULL ? s->opt.at : "peak,end",
			    t->event_count, peak_event, worst_event, events);
	struct map_moment *moments = xcalloc(n, sizeof(*moments));

	open_replay(s, &r);
	for (size_t m = 0; m < n; m++) {
		while (r.next_event < events[m]) {
			(void)replay_step(&r);
			if ((r.next_event & 0xfffu) == 0u) {
				progress_update(&prog,
						t->event_count + r.next_event);
			}
		}
		moments[m].event = events[m];
		replay_stats(&r, &moments[m].stats);
		if (replay_layout(&r, &moments[m].layout, err, sizeof(err)) !=
		    0) {
			fail_with(KHEAP_EXIT_INTERNAL, err);
		}
		describe_moment(t, &moments[m]);
	}
	replay_close(&r);
	progress_end(&prog);

	struct map_doc doc = {
		.moments = moments,
		.moment_count = n,
		.series = series,
	};
	const char *base = strrchr(s->opt.trace_path, '/');

	snprintf(doc.title, sizeof(doc.title), "kheap map: %.60s",
		 base ? base + 1 : s->opt.trace_path);
	snprintf(doc.subtitle, sizeof(doc.subtitle),
		 "heap %s: %" PRIu64
		 " bytes, %s, pointer size %u, cell %" PRIu64 " B",
		 t->heaps[s->heap].name, s->cfg.heap_bytes,
		 format_name(s->cfg.heap_bytes), s->cfg.ptr_bytes,
		 map_cell_bytes(s->cfg.heap_bytes));
	int rc = map_write(s->opt.output, format, &doc, err, sizeof(err));

	for (size_t m = 0; m < n; m++) {
		layout_free(&moments[m].layout);
	}
	free(moments);
	free(series);
	trace_free(&s->trace);
	if (rc != 0) {
		fail_with(KHEAP_EXIT_OUTPUT, err);
	}
	printf("kheap map: wrote %s (%zu moment%s)\n", s->opt.output, n,
	       n == 1u ? "" : "s");
	return KHEAP_EXIT_OK;
}

int main(int argc, char **argv)
{
	struct session s;

	if (argc < 2 || strcmp(argv[1], "help") == 0 ||
	    strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
		fputs(usage_text, argc < 2 ? stderr : stdout);
		return argc < 2 ? KHEAP_EXIT_USAGE : KHEAP_EXIT_OK;
	}
	if (strcmp(argv[1], "--version") == 0) {
		printf("kheap %s (trace format %u)\n", KHEAP_VERSION_STRING,
		       TRACE_FORMAT_VERSION);
		return KHEAP_EXIT_OK;
	}
	memset(&s, 0, sizeof(s));
	if (strcmp(argv[1], "replay") != 0 && strcmp(argv[1], "size") != 0 &&
	    strcmp(argv[1], "map") != 0) {
		usage_error("unknown command '%s'", argv[1]);
	}
	parse_options(argc, argv, &s.opt);
	if (strcmp(argv[1], "replay") == 0) {
		return cmd_replay(&s);
	}
	if (strcmp(argv[1], "size") == 0) {
		return cmd_size(&s);
	}
	return cmd_map(&s);
}
