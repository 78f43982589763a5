/* SPDX-License-Identifier: Apache-2.0 */
/*
 * `kheap size`: the search (sizing.h) and the checks around its answer
 * fill a size_report; the text and JSON printers only read it.
 */
#include <inttypes.h>
#include <stdlib.h>

#include "commands.h"
#include "sizing.h"

struct size_report {
	struct sizing_config cfg;
	struct sizing_result res;
	/* The recorded size lies below the answer, in the searched range,
	 * and the trace replays on it without failure. */
	bool recorded_size_works;
	size_t recorded_failures; /* calls that failed in the recording */
	/* The answer with the margin as CONFIG_HEAP_MEM_POOL_SIZE. */
	uint64_t pool_size;
	uint64_t pool_region_bytes; /* Z_HEAP_MIN_SIZE_FOR(pool_size) */
	bool pool_region_works;
};

static bool works_at(const struct session *s, uint64_t heap_bytes)
{
	struct replay_config rc = s->cfg;
	char err[256];

	rc.heap_bytes = heap_bytes;
	return replay_count_failures(&s->trace, &rc, true, NULL, err,
				     sizeof(err)) == 0;
}

static struct sizing_config size_config(const struct session *s)
{
	struct sizing_config cfg = {0};

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
	return cfg;
}

static size_t count_recorded_failures(const struct session *s)
{
	size_t failures = 0;

	for (size_t i = 0; i < s->trace.event_count; i++) {
		const struct trace_event *e = &s->trace.events[i];

		failures += e->heap == (uint32_t)s->heap &&
			    e->result == TRACE_NO_BLOCK &&
			    !trace_op_is_free((enum trace_op)e->op) &&
			    e->size_bytes != 0u;
	}
	return failures;
}

static void compute_size(struct session *s, struct size_report *rep)
{
	char err[256];

	rep->cfg = size_config(s);
	if (sizing_run(&s->trace, &rep->cfg, &rep->res, err, sizeof(err)) !=
	    0) {
		fail_with(KHEAP_EXIT_INTERNAL, err);
	}
	if (!rep->res.found) {
		return;
	}
	const struct trace_heap *h = &s->trace.heaps[s->heap];

	rep->recorded_size_works =
		h->bytes_known && h->bytes < rep->res.min_bytes &&
		h->bytes >= rep->cfg.min_bytes && works_at(s, h->bytes);
	rep->recorded_failures = count_recorded_failures(s);
	if (rep->res.margin_found) {
		/* The system heap gets Z_HEAP_MIN_SIZE_FOR(the setting)
		 * bytes (the setting is what stays usable, the metadata
		 * comes on top): the smallest setting whose region is at
		 * least the answer, checked by replaying on that region. */
		rep->pool_size =
			sizing_pool_size_for_region(rep->res.margin_bytes);
		rep->pool_region_bytes = Z_HEAP_MIN_SIZE_FOR(rep->pool_size);
		rep->pool_region_works = works_at(s, rep->pool_region_bytes);
	}
}

static void print_size_text(const struct session *s,
			    const struct size_report *rep)
{
	const struct sizing_result *res = &rep->res;
	const struct sizing_config *cfg = &rep->cfg;

	print_setup(s);
	if (!res->found) {
		printf("no heap size from %" PRIu64 " to %" PRIu64
		       " bytes fits this trace (%lu replays); at %" PRIu64
		       " bytes the first failure is\n  ",
		       cfg->min_bytes, cfg->max_bytes, res->replays,
		       cfg->max_bytes);
		print_event(stdout, s, res->fail_event_at_max);
		return;
	}
	printf("smallest heap: %" PRIu64 " bytes (%s)\n", res->min_bytes,
	       format_name(res->min_bytes));
	if (res->below_fails) {
		printf("  %" PRIu64 " bytes fails first at ",
		       res->min_bytes - 1u);
		print_event(stdout, s, res->below_fail_event);
	} else if (res->min_bytes == cfg->min_bytes) {
		printf("  (the smallest size searched)\n");
	}
	printf("  every size from %" PRIu64 " to %" PRIu64
	       " bytes works%s (%lu replays)\n",
	       res->min_bytes, res->window_end_bytes,
	       res->window_clipped ? " (window clipped at the search range)"
				   : "",
	       res->replays);
	if (res->isolated_success != 0u) {
		printf("  note: %" PRIu64 " bytes also works, but %" PRIu64
		       " fails: failure is not monotone in the size for this "
		       "trace\n",
		       res->isolated_success, res->min_bytes - 1u);
	}
	if (rep->recorded_size_works) {
		printf("  note: the recorded size, %" PRIu64
		       " bytes, also works (it is where the trace was made), "
		       "but sizes just below the answer do not\n",
		       s->trace.heaps[s->heap].bytes);
	}
	if (rep->recorded_failures > 0u) {
		printf("  note: %zu call%s failed in the recording; the answer "
		       "assumes they fail at every size (the program may "
		       "have acted on them)\n",
		       rep->recorded_failures,
		       rep->recorded_failures == 1u ? "" : "s");
	}
	if (!res->margin_found) {
		printf("with %u%% margin: no size up to %" PRIu64
		       " bytes works\n",
		       cfg->margin_percent, cfg->max_bytes);
		return;
	}
	printf("with %u%% margin: %" PRIu64 " bytes\n", cfg->margin_percent,
	       res->margin_bytes);
	if (rep->pool_region_works) {
		printf("CONFIG_HEAP_MEM_POOL_SIZE=%" PRIu64
		       " (a system heap of %" PRIu64 " bytes)\n",
		       rep->pool_size, rep->pool_region_bytes);
	} else {
		printf("  note: CONFIG_HEAP_MEM_POOL_SIZE=%" PRIu64
		       " gives a %" PRIu64 "-byte system heap, on which the "
		       "trace fails: define the heap with K_HEAP_DEFINE "
		       "instead\n",
		       rep->pool_size, rep->pool_region_bytes);
	}
}

static void json_u64_or_null(struct json *j, const char *key, bool known,
			     uint64_t value)
{
	if (known) {
		json_u64(j, key, value);
	} else {
		json_null(j, key);
	}
}

static void print_size_json(const struct session *s,
			    const struct size_report *rep)
{
	const struct sizing_result *res = &rep->res;
	const struct sizing_config *cfg = &rep->cfg;
	struct json j;

	json_begin(&j, stdout);
	json_setup(&j, s);
	json_object(&j, "search");
	json_u64(&j, "min_bytes", cfg->min_bytes);
	json_u64(&j, "max_bytes", cfg->max_bytes);
	json_u64(&j, "window_bytes", cfg->window_bytes);
	json_u64(&j, "margin_percent", cfg->margin_percent);
	json_u64(&j, "replays", res->replays);
	json_end(&j);
	json_bool(&j, "found", res->found);
	if (!res->found) {
		json_event(&j, "failure_at_max", s, res->fail_event_at_max);
		json_finish(&j);
		return;
	}
	json_u64(&j, "smallest_bytes", res->min_bytes);
	json_u64(&j, "header_bytes", replay_header_bytes_for(res->min_bytes));
	if (res->below_fails) {
		json_event(&j, "below_fails_at", s, res->below_fail_event);
	} else {
		json_null(&j, "below_fails_at");
	}
	json_u64(&j, "window_end_bytes", res->window_end_bytes);
	json_bool(&j, "window_clipped", res->window_clipped);
	json_u64_or_null(&j, "isolated_success_bytes",
			 res->isolated_success != 0u, res->isolated_success);
	json_bool(&j, "recorded_size_works", rep->recorded_size_works);
	json_u64(&j, "recorded_failures", rep->recorded_failures);
	if (res->margin_found) {
		json_object(&j, "margin");
		json_u64(&j, "bytes", res->margin_bytes);
		json_u64(&j, "pool_size", rep->pool_size);
		json_u64(&j, "pool_region_bytes", rep->pool_region_bytes);
		json_bool(&j, "pool_region_works", rep->pool_region_works);
		json_end(&j);
	} else {
		json_null(&j, "margin");
	}
	json_finish(&j);
}

int cmd_size(struct session *s)
{
	struct size_report rep = {0};

	session_set_up(s, false);
	compute_size(s, &rep);
	if (s->opt.json) {
		print_size_json(s, &rep);
	} else {
		print_size_text(s, &rep);
	}
	int status = rep.res.found ? KHEAP_EXIT_OK : KHEAP_EXIT_FAILED;

	session_free(s);
	return status;
}
