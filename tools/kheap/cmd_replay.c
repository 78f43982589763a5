/* SPDX-License-Identifier: Apache-2.0 */
/*
 * `kheap replay`: one pass over the trace fills a replay_report (failures,
 * peak, fragmentation samples and the worst moment, blocks live at the
 * end); the text and JSON printers only read it.
 */
#include <inttypes.h>
#include <stdlib.h>

#include "commands.h"

/* Rows of the fragmentation table: heap statistics after an event. */
struct sample {
	size_t event; /* events applied */
	struct replay_stats stats;
};

/* Blocks live at the end that one site allocated. */
struct leak_group {
	uint32_t site;
	size_t blocks;
	uint64_t requested_bytes;
	uint32_t first_block; /* the first such block (trace order) */
};

/* The failures listed when --all is not given. */
#define FAILURES_LISTED 20u

struct replay_report {
	size_t outcome_counts[REPLAY_NOOP + 1];
	size_t *failed; /* indexes of the events that failed here */
	size_t failed_count;
	uint64_t peak_bytes;           /* the heap's watermark */
	size_t peak_event;             /* 0: the watermark of the empty heap */
	uint64_t peak_requested_bytes; /* live requested after peak_event */
	double worst_fragmentation;
	size_t worst_event; /* 0: never fragmented */
	struct replay_stats worst_stats;
	struct sample *samples;
	size_t sample_count;
	struct leak_group *leaks; /* largest first */
	size_t leak_group_count;
	size_t leaked_blocks;
	uint64_t leaked_bytes;
};

static void record_failure(struct replay_report *rep, size_t *cap, size_t i)
{
	if (rep->failed_count == *cap) {
		*cap = *cap ? *cap * 2u : 64u;
		rep->failed =
			xrealloc(rep->failed, *cap * sizeof(*rep->failed));
	}
	rep->failed[rep->failed_count++] = i;
}

/* After event i (0-based): the peak and the worst fragmentation. */
static void track_extremes(struct replay_report *rep, const struct replay *r,
			   size_t i)
{
	struct replay_stats st;

	replay_stats(r, &st);
	if (st.max_allocated_bytes > rep->peak_bytes) {
		rep->peak_bytes = st.max_allocated_bytes;
		rep->peak_event = i + 1u;
		rep->peak_requested_bytes = r->live_requested_bytes;
	}
	double frag = replay_fragmentation(&st);

	if (frag > rep->worst_fragmentation) {
		rep->worst_fragmentation = frag;
		rep->worst_event = i + 1u;
		rep->worst_stats = st;
	}
}

static int compare_leak_groups(const void *a, const void *b)
{
	const struct leak_group *x = a, *y = b;

	if (x->requested_bytes != y->requested_bytes) {
		return x->requested_bytes < y->requested_bytes ? 1 : -1;
	}
	return x->site < y->site ? -1 : x->site > y->site ? 1 : 0;
}

/* Blocks of the heap the trace never released, grouped by site. */
static void collect_leaks(const struct session *s, struct replay_report *rep)
{
	const struct trace *t = &s->trace;
	size_t cap = 0;
	/* Per site: its group's index + 1, 0 for none yet. */
	size_t *group_of_site = xcalloc(t->site_count, sizeof(size_t));

	for (uint32_t b = 0; b < t->block_count; b++) {
		const struct trace_block *blk = &t->blocks[b];
		const struct trace_event *e = &t->events[blk->alloc_event];

		if (blk->release_event != UINT32_MAX ||
		    e->heap != (uint32_t)s->heap) {
			continue;
		}
		rep->leaked_blocks++;
		rep->leaked_bytes += e->size_bytes;
		if (group_of_site[e->site] == 0u) {
			if (rep->leak_group_count == cap) {
				cap = cap ? cap * 2u : 64u;
				rep->leaks = xrealloc(
					rep->leaks, cap * sizeof(*rep->leaks));
			}
			rep->leaks[rep->leak_group_count++] =
				(struct leak_group){
					.site = e->site,
					.first_block = b,
				};
			group_of_site[e->site] = rep->leak_group_count;
		}
		struct leak_group *g = &rep->leaks[group_of_site[e->site] - 1u];

		g->blocks++;
		g->requested_bytes += e->size_bytes;
	}
	free(group_of_site);
	if (rep->leak_group_count > 0u) { /* qsort takes no NULL array */
		qsort(rep->leaks, rep->leak_group_count, sizeof(*rep->leaks),
		      compare_leak_groups);
	}
}

static void compute_replay(struct session *s, struct replay_report *rep)
{
	const struct trace *t = &s->trace;
	unsigned int samples = s->opt.samples;
	struct progress prog = {
		.on = s->opt.progress != 0,
		.what = "replay",
		.total = t->event_count,
		.last_percent = -1,
	};
	struct replay r;
	struct replay_stats st;
	size_t failed_cap = 0;

	rep->samples = xcalloc(samples + 1u, sizeof(*rep->samples));
	session_open_replay(s, &r);
	replay_stats(&r, &st);
	rep->peak_bytes = st.max_allocated_bytes;
	while (r.next_event < t->event_count) {
		size_t i = r.next_event;
		enum replay_outcome outcome = replay_step(&r);

		rep->outcome_counts[outcome]++;
		if (outcome == REPLAY_FAILED) {
			record_failure(rep, &failed_cap, i);
		}
		if (outcome != REPLAY_OTHER_HEAP) {
			track_extremes(rep, &r, i);
		}
		/* Evenly spaced samples, the last one at the end. */
		if (samples > 0u &&
		    (uint64_t)(i + 1u) * samples / t->event_count !=
			    (uint64_t)i * samples / t->event_count) {
			struct sample *row = &rep->samples[rep->sample_count++];

			replay_stats(&r, &row->stats);
			row->event = i + 1u;
		}
		if ((i & 0xfffu) == 0u) {
			progress_update(&prog, i);
		}
	}
	progress_end(&prog);
	replay_close(&r);
	collect_leaks(s, rep);
}

static size_t failures_listed(const struct session *s,
			      const struct replay_report *rep)
{
	return s->opt.all || rep->failed_count <= FAILURES_LISTED
		       ? rep->failed_count
		       : FAILURES_LISTED;
}

static size_t events_on_heap(const struct session *s,
			     const struct replay_report *rep)
{
	return s->trace.event_count - rep->outcome_counts[REPLAY_OTHER_HEAP];
}

static void print_replay_text(const struct session *s,
			      const struct replay_report *rep)
{
	const struct trace *t = &s->trace;
	size_t shown = failures_listed(s, rep);

	print_setup(s);
	printf("events: %zu on this heap (%zu in the trace); %zu failed in "
	       "the recording (not replayed); %zu frees of unknown blocks\n",
	       events_on_heap(s, rep), t->event_count,
	       rep->outcome_counts[REPLAY_RECORDED_FAILED],
	       rep->outcome_counts[REPLAY_UNKNOWN_FREE]);
	if (rep->failed_count == 0u) {
		printf("failures: none\n");
	} else {
		printf("failures: %zu event%s returned NULL here but not in "
		       "the recording%s\n",
		       rep->failed_count, rep->failed_count == 1u ? "" : "s",
		       shown < rep->failed_count
			       ? " (first 20; --all lists all)"
			       : "");
		for (size_t k = 0; k < shown; k++) {
			fputs("  ", stdout);
			print_event(stdout, s, rep->failed[k]);
		}
	}
	printf("peak: %" PRIu64 " bytes allocated (%.1f%% of the heap)",
	       rep->peak_bytes,
	       100.0 * (double)rep->peak_bytes / (double)s->cfg.heap_bytes);
	if (rep->peak_event > 0u) {
		printf(" in event %zu; %" PRIu64 " bytes requested were live "
		       "after it",
		       rep->peak_event, rep->peak_requested_bytes);
	}
	printf("\n");

	printf("fragmentation (1 - largest certain request / free bytes):\n");
	printf("  %10s %12s %12s %12s %7s\n", "after", "allocated", "free",
	       "largest", "frag");
	for (size_t k = 0; k < rep->sample_count; k++) {
		const struct replay_stats *x = &rep->samples[k].stats;

		printf("  %10zu %12" PRIu64 " %12" PRIu64 " %12" PRIu64
		       " %6.1f%%\n",
		       rep->samples[k].event, x->allocated_bytes, x->free_bytes,
		       x->max_alloc_bytes, 100.0 * replay_fragmentation(x));
	}
	if (rep->worst_event > 0u) {
		printf("  worst: %.1f%% after event %zu (free %" PRIu64
		       " bytes, largest certain request %" PRIu64 " bytes)\n",
		       100.0 * rep->worst_fragmentation, rep->worst_event,
		       rep->worst_stats.free_bytes,
		       rep->worst_stats.max_alloc_bytes);
	}

	if (rep->leaked_blocks == 0u) {
		printf("live at the end: none\n");
		return;
	}
	printf("live at the end (leaks): %zu block%s, %" PRIu64
	       " bytes requested\n",
	       rep->leaked_blocks, rep->leaked_blocks == 1u ? "" : "s",
	       rep->leaked_bytes);
	for (size_t g = 0; g < rep->leak_group_count; g++) {
		const struct leak_group *group = &rep->leaks[g];
		const struct trace_block *first =
			&t->blocks[group->first_block];

		printf("  %zu block%s, %" PRIu64 " bytes, at ", group->blocks,
		       group->blocks == 1u ? "" : "s", group->requested_bytes);
		print_site(stdout, s, group->site);
		printf(" (first: id %" PRIu64 ", event %" PRIu32 ", line %u)\n",
		       first->id, first->alloc_event + 1u,
		       t->events[first->alloc_event].line);
	}
}

static void json_stats(struct json *j, const struct replay_stats *st)
{
	json_u64(j, "allocated_bytes", st->allocated_bytes);
	json_u64(j, "free_bytes", st->free_bytes);
	json_u64(j, "max_alloc_bytes", st->max_alloc_bytes);
	json_double(j, "fragmentation", replay_fragmentation(st));
}

static void json_leaks(struct json *j, const struct session *s,
		       const struct replay_report *rep)
{
	const struct trace *t = &s->trace;

	json_object(j, "live_at_end");
	json_u64(j, "blocks", rep->leaked_blocks);
	json_u64(j, "requested_bytes", rep->leaked_bytes);
	json_array(j, "sites");
	for (size_t g = 0; g < rep->leak_group_count; g++) {
		const struct leak_group *group = &rep->leaks[g];
		const struct trace_block *first =
			&t->blocks[group->first_block];

		json_object(j, NULL);
		json_site(j, s, group->site);
		json_u64(j, "blocks", group->blocks);
		json_u64(j, "requested_bytes", group->requested_bytes);
		json_object(j, "first");
		json_u64(j, "id", first->id);
		json_u64(j, "event", first->alloc_event + 1u);
		json_u64(j, "line", t->events[first->alloc_event].line);
		json_end(j);
		json_end(j);
	}
	json_end(j);
	json_end(j);
}

static void print_replay_json(const struct session *s,
			      const struct replay_report *rep)
{
	struct json j;
	size_t shown = failures_listed(s, rep);

	json_begin(&j, stdout);
	json_setup(&j, s);
	json_object(&j, "events");
	json_u64(&j, "in_trace", s->trace.event_count);
	json_u64(&j, "on_heap", events_on_heap(s, rep));
	json_u64(&j, "recorded_failed",
		 rep->outcome_counts[REPLAY_RECORDED_FAILED]);
	json_u64(&j, "unknown_frees", rep->outcome_counts[REPLAY_UNKNOWN_FREE]);
	json_end(&j);
	json_u64(&j, "failure_count", rep->failed_count);
	json_array(&j, "failures");
	for (size_t k = 0; k < shown; k++) {
		json_event(&j, NULL, s, rep->failed[k]);
	}
	json_end(&j);
	json_object(&j, "peak");
	json_u64(&j, "allocated_bytes", rep->peak_bytes);
	json_double(&j, "heap_share",
		    (double)rep->peak_bytes / (double)s->cfg.heap_bytes);
	if (rep->peak_event > 0u) {
		json_u64(&j, "event", rep->peak_event);
		json_u64(&j, "requested_live_bytes", rep->peak_requested_bytes);
	} else {
		json_null(&j, "event");
		json_null(&j, "requested_live_bytes");
	}
	json_end(&j);
	json_array(&j, "samples");
	for (size_t k = 0; k < rep->sample_count; k++) {
		json_object(&j, NULL);
		json_u64(&j, "event", rep->samples[k].event);
		json_stats(&j, &rep->samples[k].stats);
		json_end(&j);
	}
	json_end(&j);
	if (rep->worst_event > 0u) {
		json_object(&j, "worst");
		json_u64(&j, "event", rep->worst_event);
		json_stats(&j, &rep->worst_stats);
		json_end(&j);
	} else {
		json_null(&j, "worst");
	}
	json_leaks(&j, s, rep);
	json_finish(&j);
}

int cmd_replay(struct session *s)
{
	struct replay_report rep = {0};

	session_set_up(s, true);
	compute_replay(s, &rep);
	if (s->opt.json) {
		print_replay_json(s, &rep);
	} else {
		print_replay_text(s, &rep);
	}
	int status = rep.failed_count > 0u ? KHEAP_EXIT_FAILED : KHEAP_EXIT_OK;

	free(rep.leaks);
	free(rep.samples);
	free(rep.failed);
	session_free(s);
	return status;
}
