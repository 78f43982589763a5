/* SPDX-License-Identifier: Apache-2.0 */
/*
 * `kheap map`: two replays fill a map_report (the curves, the peak and
 * the worst moment; then the layouts at the chosen moments), render.c
 * draws it, and the text or JSON printer says what was drawn.
 */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "commands.h"
#include "render.h"

#define MAX_MOMENTS 26u

struct map_report {
	enum map_format format;
	struct map_series *series;
	size_t peak_event;  /* events applied at the peak */
	size_t worst_event; /* ... at the most fragmented moment */
	struct map_moment *moments;
	size_t moment_count;
	struct map_doc doc;
};

static enum map_format output_format(const char *output)
{
	size_t len;

	if (output == NULL) {
		usage_error("map: give the output file with -o OUT.svg or -o "
			    "OUT.png");
	}
	len = strlen(output);
	if (len > 4u && strcmp(output + len - 4u, ".svg") == 0) {
		return MAP_SVG;
	}
	if (len > 4u && strcmp(output + len - 4u, ".png") == 0) {
		return MAP_PNG;
	}
	usage_error("map: the output file must end in .svg or .png");
}

/* A moment chosen by --at: its event and why. */
struct chosen {
	size_t event;
	unsigned int reasons;
};

/* Parse --at into moments in event order, one per event (the reasons of
 * tokens naming the same event are merged). Returns the count. */
static size_t parse_at(const char *spec, size_t event_count, size_t peak,
		       size_t worst, struct chosen *out)
{
	char *copy = xstrdup(spec);
	size_t n = 0;

	for (char *tok = strtok(copy, ","); tok != NULL;
	     tok = strtok(NULL, ",")) {
		uint64_t v;
		unsigned int reason;

		if (n == MAX_MOMENTS) {
			usage_error("--at: at most %u moments", MAX_MOMENTS);
		}
		if (strcmp(tok, "peak") == 0) {
			v = peak;
			reason = MAP_REASON_PEAK;
		} else if (strcmp(tok, "worst") == 0) {
			v = worst;
			reason = MAP_REASON_WORST;
		} else if (strcmp(tok, "end") == 0) {
			v = event_count;
			reason = MAP_REASON_END;
		} else if (!parse_u64(tok, &v) || v > event_count) {
			usage_error("--at: '%s' is not an event number from 0 "
				    "to %zu, peak, worst or end",
				    tok, event_count);
		} else {
			reason = MAP_REASON_AT;
		}
		out[n++] = (struct chosen){(size_t)v, reason};
	}
	free(copy);
	if (n == 0u) {
		usage_error("--at: no events given");
	}
	/* Sort (a replay runs forward), then merge equal events. */
	for (size_t i = 1; i < n; i++) {
		for (size_t j = i; j > 0u && out[j - 1u].event > out[j].event;
		     j--) {
			struct chosen tmp = out[j];

			out[j] = out[j - 1u];
			out[j - 1u] = tmp;
		}
	}
	size_t m = 0;

	for (size_t i = 0; i < n; i++) {
		if (m > 0u && out[m - 1u].event == out[i].event) {
			out[m - 1u].reasons |= out[i].reasons;
		} else {
			out[m++] = out[i];
		}
	}
	return m;
}

/* "line 930, tick 425: k_malloc 24 B at <site>" ("" for event 0). */
static void describe_moment(const struct trace *t, struct map_moment *mo)
{
	if (mo->event == 0u) {
		mo->caption[0] = '\0';
		return;
	}
	const struct trace_event *e = &t->events[mo->event - 1u];
	char what[64] = "";

	if (!trace_op_is_free((enum trace_op)e->op)) {
		snprintf(what, sizeof(what), " %" PRIu64 " B", e->size_bytes);
	}
	snprintf(mo->caption, sizeof(mo->caption),
		 "line %u, tick %" PRIu64 ": %s%s at %.60s", e->line, e->tick,
		 trace_op_name((enum trace_op)e->op), what, t->sites[e->site]);
}

/* Pass 1: the curves, the peak and the most fragmented moment. */
static void trace_curves(struct session *s, struct map_report *rep,
			 struct progress *prog)
{
	const struct trace *t = &s->trace;
	struct map_series *series = xcalloc(1, sizeof(*series));
	uint64_t peak = 0;
	double worst = 0.0;
	struct replay r;
	struct replay_stats st;

	for (size_t c = 0; c < MAP_PLOT_WIDTH_PX; c++) {
		series->usage[c] = -1.0f;
		series->fragmentation[c] = -1.0f;
	}
	series->event_count = t->event_count;
	session_open_replay(s, &r);
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
			rep->peak_event = i + 1u;
		}
		if (frag > worst) {
			worst = frag;
			rep->worst_event = i + 1u;
		}
		if ((i & 0xfffu) == 0u) {
			progress_update(prog, i);
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
	rep->series = series;
}

/* Pass 2: the layouts at the chosen moments. */
static void take_layouts(struct session *s, struct map_report *rep,
			 struct progress *prog)
{
	const struct trace *t = &s->trace;
	struct chosen chosen[MAX_MOMENTS];
	size_t n = parse_at(s->opt.at != NULL ? s->opt.at : "peak,end",
			    t->event_count, rep->peak_event, rep->worst_event,
			    chosen);
	struct map_moment *moments = xcalloc(n, sizeof(*moments));
	struct replay r;
	char err[256];

	session_open_replay(s, &r);
	for (size_t m = 0; m < n; m++) {
		while (r.next_event < chosen[m].event) {
			(void)replay_step(&r);
			if ((r.next_event & 0xfffu) == 0u) {
				progress_update(prog,
						t->event_count + r.next_event);
			}
		}
		moments[m].event = chosen[m].event;
		moments[m].reasons = chosen[m].reasons;
		replay_stats(&r, &moments[m].stats);
		if (replay_layout(&r, &moments[m].layout, err, sizeof(err)) !=
		    0) {
			fail_with(KHEAP_EXIT_INTERNAL, err);
		}
		describe_moment(t, &moments[m]);
	}
	replay_close(&r);
	rep->moments = moments;
	rep->moment_count = n;
}

static void compute_map(struct session *s, struct map_report *rep)
{
	const struct trace *t = &s->trace;
	struct progress prog = {
		.on = s->opt.progress != 0,
		.what = "map",
		.total = t->event_count * 2u,
		.last_percent = -1,
	};

	trace_curves(s, rep, &prog);
	take_layouts(s, rep, &prog);
	progress_end(&prog);

	struct map_doc *doc = &rep->doc;
	const char *base = strrchr(s->opt.trace_path, '/');

	doc->moments = rep->moments;
	doc->moment_count = rep->moment_count;
	doc->series = rep->series;
	snprintf(doc->title, sizeof(doc->title), "kheap map: %.60s",
		 base ? base + 1 : s->opt.trace_path);
	snprintf(doc->subtitle, sizeof(doc->subtitle),
		 "heap %s: %" PRIu64
		 " bytes, %s, pointer size %u, cell %" PRIu64 " B",
		 t->heaps[s->heap].name, s->cfg.heap_bytes,
		 format_name(s->cfg.heap_bytes), s->cfg.ptr_bytes,
		 map_cell_bytes(s->cfg.heap_bytes));
}

static void print_map_text(const struct map_report *rep, const char *output)
{
	printf("kheap map: wrote %s (%zu moment%s)\n", output,
	       rep->moment_count, rep->moment_count == 1u ? "" : "s");
	for (size_t m = 0; m < rep->moment_count; m++) {
		char label[160];

		map_moment_label(&rep->moments[m], label, sizeof(label));
		printf("  %c: %s\n", (int)('A' + m), label);
	}
}

static void json_layout(struct json *j, const struct session *s,
			const struct layout *l)
{
	uint64_t kind_bytes[LAYOUT_KINDS] = {0};
	static const char *const kind_key[LAYOUT_KINDS] = {
		[LAYOUT_CONTROL] = "control", [LAYOUT_HEADER] = "header",
		[LAYOUT_USED] = "requested",  [LAYOUT_SLACK] = "slack",
		[LAYOUT_FREE] = "free",
	};

	for (size_t k = 0; k < l->count; k++) {
		kind_bytes[l->segments[k].kind] += l->segments[k].bytes;
	}
	json_object(j, "bytes_by_kind");
	for (int k = 0; k < LAYOUT_KINDS; k++) {
		json_u64(j, kind_key[k], kind_bytes[k]);
	}
	json_end(j);
	json_array(j, "blocks");
	for (size_t k = 0; k < l->block_count; k++) {
		const struct layout_block *b = &l->blocks[k];

		json_object(j, NULL);
		json_u64(j, "offset_bytes", b->offset_bytes);
		json_u64(j, "bytes", b->bytes);
		json_bool(j, "used", b->used);
		if (b->trace_block != UINT32_MAX) {
			json_u64(j, "id", s->trace.blocks[b->trace_block].id);
			json_u64(j, "requested_bytes", b->requested_bytes);
		} else {
			json_null(j, "id");
			json_null(j, "requested_bytes");
		}
		json_end(j);
	}
	json_end(j);
}

static void json_moment(struct json *j, const struct session *s,
			const struct map_moment *mo, size_t index)
{
	char text[160];

	json_object(j, NULL);
	snprintf(text, sizeof(text), "%c", (int)('A' + index));
	json_string(j, "letter", text);
	json_u64(j, "event", mo->event);
	json_array(j, "reasons");
	for (unsigned int k = 0; k < MAP_REASON_KINDS; k++) {
		if ((mo->reasons & (1u << k)) != 0u) {
			json_string(j, NULL,
				    map_reason_key((enum map_reason)(1u << k)));
		}
	}
	json_end(j);
	map_moment_label(mo, text, sizeof(text));
	json_string(j, "label", text);
	if (mo->event > 0u) {
		json_event(j, "after", s, mo->event - 1u);
	} else {
		json_null(j, "after");
	}
	json_u64(j, "allocated_bytes", mo->stats.allocated_bytes);
	json_u64(j, "free_bytes", mo->stats.free_bytes);
	json_u64(j, "max_alloc_bytes", mo->stats.max_alloc_bytes);
	json_u64(j, "largest_free_block_bytes", mo->layout.largest_free_bytes);
	json_double(j, "fragmentation", replay_fragmentation(&mo->stats));
	json_layout(j, s, &mo->layout);
	json_end(j);
}

static void print_map_json(const struct session *s,
			   const struct map_report *rep)
{
	struct json j;

	json_begin(&j, stdout);
	json_setup(&j, s);
	json_object(&j, "output");
	json_string(&j, "path", s->opt.output);
	json_string(&j, "format", rep->format == MAP_SVG ? "svg" : "png");
	json_u64(&j, "width_px", MAP_WIDTH_PX);
	json_u64(&j, "height_px", map_height(&rep->doc));
	json_end(&j);
	json_u64(&j, "event_count", s->trace.event_count);
	json_u64(&j, "cell_bytes", map_cell_bytes(s->cfg.heap_bytes));
	json_u64(&j, "peak_event", rep->peak_event);
	json_u64(&j, "worst_event", rep->worst_event);
	json_array(&j, "moments");
	for (size_t m = 0; m < rep->moment_count; m++) {
		json_moment(&j, s, &rep->moments[m], m);
	}
	json_end(&j);
	json_finish(&j);
}

static void free_map_report(struct map_report *rep)
{
	for (size_t m = 0; m < rep->moment_count; m++) {
		layout_free(&rep->moments[m].layout);
	}
	free(rep->moments);
	free(rep->series);
}

int cmd_map(struct session *s)
{
	struct map_report rep = {0};
	char err[256];

	rep.format = output_format(s->opt.output);
	session_set_up(s, true);
	compute_map(s, &rep);
	if (map_write(s->opt.output, rep.format, &rep.doc, err, sizeof(err)) !=
	    0) {
		fail_with(KHEAP_EXIT_OUTPUT, err);
	}
	if (s->opt.json) {
		print_map_json(s, &rep);
	} else {
		print_map_text(&rep, s->opt.output);
	}
	free_map_report(&rep);
	session_free(s);
	return KHEAP_EXIT_OK;
}
