/* SPDX-License-Identifier: Apache-2.0 */
/*
 * kheapcount: a QEMU TCG plugin that counts the guest instructions of
 * every sys_heap call a bench image makes through its probe trampolines
 * (target/bench/worst_image.c), for docs/performance.md's worst-case
 * figures on Cortex-M. Method and the alternatives we rejected:
 * docs/design.md, "Worst-case measurement on Cortex-M".
 *
 * The image calls each measured function from a trampoline of its own:
 *
 *   kheap_probe_<kind>:        push {r4, lr}
 *   kheap_probe_<kind>_call:   bl   sys_heap_<kind>
 *   kheap_probe_<kind>_return: pop  {r4, pc}
 *
 * The driver (target/bench/qemu_worst.py) reads the two labels of each
 * trampoline from the ELF symbol table and passes them as arguments. The
 * plugin then
 *   - adds 1 to a counter before every instruction except the markers
 *     (an inline op: code in the translated block, no call);
 *   - snapshots the counter when the call instruction executes and again
 *     when the return label does: the difference is the instructions of
 *     the called function from its first instruction through its final
 *     return, callees included, and nothing of the caller;
 *   - counts, the same way, the instructions inside excluded ranges
 *     (memcpy), so that realloc is reported with and without the copy,
 *     and apart the calls that ran none of them (a realloc that resized
 *     in place: a moving one copies);
 *   - records each measured call's translated blocks, to check the count
 *     (their instruction counts must add up to it) and to keep the path
 *     of the worst call of each kind (with and without the copy), which
 *     the driver attributes to functions.
 * A call to the segment marker (the image's kheap_probe_segment) starts
 * a new segment: one (workload, heap size) run, numbered from 0, which
 * the image describes on its own output with the same number.
 *
 * Arguments (-plugin libkheapcount.so,name=value,...):
 *   alloc=CALL:RET aligned_alloc=CALL:RET free=CALL:RET realloc=CALL:RET
 *                  (at least one; an allocator without aligned allocation
 *                  or realloc has no trampoline for it)
 *   segment=ADDR   exclude=LO:HI (repeatable)   out=FILE (else QEMU's log)
 *   calls=FILE     also every call's count without the excluded ranges,
 *                  one little-endian 32-bit word per call in execution
 *                  order: the kind (0 alloc, 1 aligned_alloc, 2 free,
 *                  3 realloc) in the top 3 bits, the count below (capped
 *                  at 2^29 - 1); 0xffffffff starts each segment. Two
 *                  builds that run the same calls compare call by call
 *                  (the driver's cost of the hardening checks).
 * Addresses in any base strtoull accepts (0x...).
 *
 * One vCPU: every M-profile board has one, and the callbacks keep their
 * state in plain globals without locks.
 */
#define _POSIX_C_SOURCE 200809L

#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "qemu_plugin_api.h"

KHEAP_PLUGIN_EXPORT int qemu_plugin_version = KHEAP_QEMU_PLUGIN_API_VERSION;

enum kind {
	KIND_ALLOC,
	KIND_ALIGNED_ALLOC,
	KIND_FREE,
	KIND_REALLOC,
	KIND_COUNT,
};

static const char *const kind_names[KIND_COUNT] = {
	"alloc",
	"aligned_alloc",
	"free",
	"realloc",
};

#define MAX_EXCLUDED 8u
/* Translated blocks kept per call: a realloc that copies 2 KiB a byte at
 * a time on ARMv6-M runs a few thousand blocks; more marks the path
 * truncated (the count stays exact). */
#define PATH_MAX_TBS 16384u

/* What the translation callback learns about a block, kept for as long
 * as the plugin is loaded: paths point at these. */
struct tb_info {
	uint64_t vaddr;
	uint32_t insns;
	/* Starts at a return label: the caller's code, not the callee's. */
	bool is_return;
};

struct histogram {
	/* counts[n]: calls of exactly n instructions. */
	uint64_t *counts;
	size_t size;
};

/* The translated blocks of one call, in execution order. */
struct saved_path {
	const struct tb_info **tbs;
	size_t len;
	bool truncated;
};

struct kind_stats {
	uint64_t calls;
	uint64_t sum;
	uint64_t sum_excl;
	uint64_t max;
	uint64_t max_excl;
	/* Ordinals (among all measured calls of the segment) of the first
	 * call with the maximum count, with and without the copy. */
	uint64_t max_call;
	uint64_t max_excl_call;
	/* Calls that ran no excluded instruction, and their max. */
	uint64_t in_place;
	uint64_t max_in_place;
	struct histogram total;
	struct histogram excl;
	/* The paths of those two calls. */
	struct saved_path worst;
	struct saved_path worst_excl;
};

struct segment {
	uint64_t calls;
	struct kind_stats kinds[KIND_COUNT];
};

/* ---- configuration (from the arguments) ------------------------------- */

static struct {
	uint64_t call;
	uint64_t ret;
	bool set;
} markers[KIND_COUNT];
static uint64_t segment_addr;
static bool segment_set;
static struct {
	uint64_t lo;
	uint64_t hi;
} excluded[MAX_EXCLUDED];
static unsigned int excluded_count;
static char *out_path;
static FILE *calls_file;

#define CALL_RECORD_KIND_SHIFT 29u
#define CALL_RECORD_MAX_COUNT ((1u << CALL_RECORD_KIND_SHIFT) - 1u)
#define CALL_RECORD_SEGMENT 0xffffffffu

/* ---- run-time state ------------------------------------------------- */

/* Advanced by inline ops: every instruction but the markers, and the
 * instructions inside excluded ranges. */
static uint64_t insn_counter;
static uint64_t excl_counter;

static struct segment *segments;
static size_t segment_count;
static size_t segment_cap;

static bool in_call;
static enum kind call_kind;
static uint64_t call_start;
static uint64_t call_start_excl;
static uint64_t call_tb_insns;
static const struct tb_info **path;
static size_t path_len;
static bool path_truncated;

/* Self-checks, reported at exit; the driver fails the run unless all are
 * zero. */
static struct {
	/* Measured calls before the first segment marker. */
	uint64_t unsegmented;
	/* A call marker while a call was open (the previous one is lost). */
	uint64_t nested;
	/* A return marker with no open call of its kind. */
	uint64_t stray;
	/* Calls whose blocks' instruction counts do not add up to the
	 * counted instructions (a block left early, say by an exception). */
	uint64_t tb_mismatch;
	/* Out of memory in the plugin: the figures are incomplete. */
	uint64_t oom;
	/* A failed write of the calls file. */
	uint64_t io;
} checks;

/* ---- helpers ------------------------------------------------------------ */

static void oom(void)
{
	checks.oom++;
}

/* Count a call of n instructions: grow the histogram to hold n. */
static void histogram_add(struct histogram *h, uint64_t n)
{
	if (n >= h->size) {
		size_t size = h->size != 0u ? h->size : 256u;

		while (size <= n) {
			size *= 2u;
		}
		uint64_t *counts = realloc(h->counts, size * sizeof(*counts));

		if (counts == NULL) {
			oom();
			return;
		}
		memset(counts + h->size, 0, (size - h->size) * sizeof(*counts));
		h->counts = counts;
		h->size = size;
	}
	h->counts[n]++;
}

static void write_call_record(uint32_t word)
{
	unsigned char le[4] = {(unsigned char)word, (unsigned char)(word >> 8),
			       (unsigned char)(word >> 16),
			       (unsigned char)(word >> 24)};

	if (calls_file != NULL &&
	    fwrite(le, 1, sizeof(le), calls_file) != sizeof(le)) {
		checks.io++;
	}
}

static struct segment *current_segment(void)
{
	return segment_count != 0u ? &segments[segment_count - 1u] : NULL;
}

/* ---- execution callbacks --------------------------------------------- */

static void on_segment(unsigned int vcpu, void *udata)
{
	(void)vcpu;
	(void)udata;
	if (segment_count == segment_cap) {
		size_t cap = segment_cap != 0u ? segment_cap * 2u : 16u;
		struct segment *s = realloc(segments, cap * sizeof(*s));

		if (s == NULL) {
			oom();
			return;
		}
		segments = s;
		segment_cap = cap;
	}
	memset(&segments[segment_count], 0, sizeof(segments[0]));
	segment_count++;
	write_call_record(CALL_RECORD_SEGMENT);
}

static void on_call(unsigned int vcpu, void *udata)
{
	(void)vcpu;
	if (in_call) {
		checks.nested++;
	}
	in_call = true;
	call_kind = (enum kind)(uintptr_t)udata;
	call_start = insn_counter;
	call_start_excl = excl_counter;
	call_tb_insns = 0u;
	path_len = 0u;
	path_truncated = false;
}

static void save_path(struct saved_path *p)
{
	const struct tb_info **copy =
		realloc(p->tbs, (path_len + 1u) * sizeof(*copy));

	if (copy == NULL) {
		oom();
		return;
	}
	memcpy(copy, path, path_len * sizeof(*copy));
	p->tbs = copy;
	p->len = path_len;
	p->truncated = path_truncated;
}

static void on_return(unsigned int vcpu, void *udata)
{
	enum kind kind = (enum kind)(uintptr_t)udata;

	(void)vcpu;
	if (!in_call || kind != call_kind) {
		checks.stray++;
		in_call = false;
		return;
	}
	in_call = false;

	uint64_t n = insn_counter - call_start;
	uint64_t n_excl = n - (excl_counter - call_start_excl);
	struct segment *s = current_segment();

	if (call_tb_insns != n) {
		checks.tb_mismatch++;
	}
	if (s == NULL) {
		checks.unsegmented++;
		return;
	}
	struct kind_stats *k = &s->kinds[kind];

	if (k->calls == 0u || n > k->max) {
		k->max = n;
		k->max_call = s->calls;
		save_path(&k->worst);
	}
	if (k->calls == 0u || n_excl > k->max_excl) {
		k->max_excl = n_excl;
		k->max_excl_call = s->calls;
		save_path(&k->worst_excl);
	}
	if (n_excl == n) {
		k->in_place++;
		if (n > k->max_in_place) {
			k->max_in_place = n;
		}
	}
	write_call_record(((uint32_t)kind << CALL_RECORD_KIND_SHIFT) |
			  (uint32_t)(n_excl < CALL_RECORD_MAX_COUNT
					     ? n_excl
					     : CALL_RECORD_MAX_COUNT));
	k->calls++;
	k->sum += n;
	k->sum_excl += n_excl;
	histogram_add(&k->total, n);
	histogram_add(&k->excl, n_excl);
	s->calls++;
}

static void on_tb(unsigned int vcpu, void *udata)
{
	const struct tb_info *info = udata;

	(void)vcpu;
	if (!in_call || info->is_return) {
		return;
	}
	call_tb_insns += info->insns;
	if (path_len < PATH_MAX_TBS) {
		path[path_len++] = info;
	} else {
		path_truncated = true;
	}
}

/* ---- translation ------------------------------------------------------ */

static bool is_excluded(uint64_t vaddr)
{
	for (unsigned int i = 0; i < excluded_count; i++) {
		if (vaddr >= excluded[i].lo && vaddr < excluded[i].hi) {
			return true;
		}
	}
	return false;
}

static void on_translate(qemu_plugin_id_t id, struct qemu_plugin_tb *tb)
{
	size_t n = qemu_plugin_tb_n_insns(tb);
	struct tb_info *info = malloc(sizeof(*info));

	(void)id;
	if (info == NULL) {
		oom();
		return;
	}
	info->vaddr = qemu_plugin_tb_vaddr(tb);
	info->insns = 0u;
	info->is_return = false;

	for (size_t i = 0; i < n; i++) {
		struct qemu_plugin_insn *insn = qemu_plugin_tb_get_insn(tb, i);
		uint64_t vaddr = qemu_plugin_insn_vaddr(insn);
		bool marker = false;

		for (unsigned int k = 0; k < KIND_COUNT; k++) {
			if (!markers[k].set) {
				continue;
			}
			if (vaddr == markers[k].call) {
				qemu_plugin_register_vcpu_insn_exec_cb(
					insn, on_call, QEMU_PLUGIN_CB_NO_REGS,
					(void *)(uintptr_t)k);
				marker = true;
			} else if (vaddr == markers[k].ret) {
				qemu_plugin_register_vcpu_insn_exec_cb(
					insn, on_return, QEMU_PLUGIN_CB_NO_REGS,
					(void *)(uintptr_t)k);
				if (i == 0u) {
					info->is_return = true;
				}
				marker = true;
			}
		}
		if (vaddr == segment_addr) {
			qemu_plugin_register_vcpu_insn_exec_cb(
				insn, on_segment, QEMU_PLUGIN_CB_NO_REGS, NULL);
		}
		/* The marker instructions are the caller's: not counted, so
		 * that a call's count does not depend on the order in which
		 * QEMU runs an instruction's callback and inline op. */
		if (marker) {
			continue;
		}
		qemu_plugin_register_vcpu_insn_exec_inline(
			insn, QEMU_PLUGIN_INLINE_ADD_U64, &insn_counter, 1u);
		if (is_excluded(vaddr)) {
			qemu_plugin_register_vcpu_insn_exec_inline(
				insn, QEMU_PLUGIN_INLINE_ADD_U64, &excl_counter,
				1u);
		}
		info->insns++;
	}
	qemu_plugin_register_vcpu_tb_exec_cb(tb, on_tb, QEMU_PLUGIN_CB_NO_REGS,
					     info);
}

/* ---- output -------------------------------------------------------------- */

/* Where the report goes: out=FILE, else QEMU's log (qemu_plugin_outs). */
struct sink {
	FILE *file;
	char line[512];
	size_t used;
};

static void sink_flush(struct sink *s)
{
	if (s->used == 0u) {
		return;
	}
	s->line[s->used] = '\0';
	if (s->file != NULL) {
		fputs(s->line, s->file);
	} else {
		qemu_plugin_outs(s->line);
	}
	s->used = 0u;
}

static void sink_printf(struct sink *s, const char *format, ...)
	__attribute__((format(printf, 2, 3)));

static void sink_printf(struct sink *s, const char *format, ...)
{
	char piece[256];
	va_list ap;

	va_start(ap, format);
	int len = vsnprintf(piece, sizeof(piece), format, ap);

	va_end(ap);
	if (len < 0) {
		return;
	}
	if ((size_t)len >= sizeof(piece)) {
		len = (int)sizeof(piece) - 1;
	}
	if (s->used + (size_t)len >= sizeof(s->line)) {
		sink_flush(s);
	}
	memcpy(s->line + s->used, piece, (size_t)len);
	s->used += (size_t)len;
}

static void print_histogram(struct sink *s, size_t seg, enum kind kind,
			    const char *what, const struct histogram *h)
{
	sink_printf(s, "hist %zu %s %s", seg, kind_names[kind], what);
	for (size_t n = 0; n < h->size; n++) {
		if (h->counts[n] != 0u) {
			sink_printf(s, " %zu:%" PRIu64, n, h->counts[n]);
		}
	}
	sink_printf(s, "\n");
}

/* A worst call's blocks in execution order, as address:instructions. */
static void print_path(struct sink *s, size_t seg, enum kind kind,
		       const char *what, const struct saved_path *p)
{
	sink_printf(s, "path %zu %s %s truncated=%d", seg, kind_names[kind],
		    what, p->truncated ? 1 : 0);
	for (size_t t = 0; t < p->len; t++) {
		sink_printf(s, " %" PRIx64 ":%u", p->tbs[t]->vaddr,
			    p->tbs[t]->insns);
	}
	sink_printf(s, "\n");
}

static void report(qemu_plugin_id_t id, void *udata)
{
	struct sink s = {0};

	(void)id;
	(void)udata;
	if (out_path != NULL) {
		s.file = fopen(out_path, "w");
		if (s.file == NULL) {
			fprintf(stderr, "kheapcount: cannot write %s: %s\n",
				out_path, strerror(errno));
		}
	}
	sink_printf(&s, "kheapcount 1\n");
	for (size_t i = 0; i < segment_count; i++) {
		const struct segment *seg = &segments[i];

		sink_printf(&s, "segment %zu calls=%" PRIu64 "\n", i,
			    seg->calls);
		for (unsigned int k = 0; k < KIND_COUNT; k++) {
			const struct kind_stats *ks = &seg->kinds[k];

			if (ks->calls == 0u) {
				continue;
			}
			sink_printf(
				&s,
				"stats %zu %s calls=%" PRIu64 " sum=%" PRIu64
				" sum_excl=%" PRIu64 " max=%" PRIu64
				" max_excl=%" PRIu64 " max_call=%" PRIu64
				" max_excl_call=%" PRIu64 " in_place=%" PRIu64
				" max_in_place=%" PRIu64 "\n",
				i, kind_names[k], ks->calls, ks->sum,
				ks->sum_excl, ks->max, ks->max_excl,
				ks->max_call, ks->max_excl_call, ks->in_place,
				ks->max_in_place);
			print_histogram(&s, i, (enum kind)k, "total",
					&ks->total);
			print_histogram(&s, i, (enum kind)k, "excl", &ks->excl);
			print_path(&s, i, (enum kind)k, "total", &ks->worst);
			print_path(&s, i, (enum kind)k, "excl",
				   &ks->worst_excl);
		}
	}
	sink_printf(&s,
		    "checks segments=%zu unsegmented=%" PRIu64
		    " nested=%" PRIu64 " stray=%" PRIu64 " tb_mismatch=%" PRIu64
		    " open=%d oom=%" PRIu64 " io=%" PRIu64 "\n",
		    segment_count, checks.unsegmented, checks.nested,
		    checks.stray, checks.tb_mismatch, in_call ? 1 : 0,
		    checks.oom, checks.io);
	sink_flush(&s);
	if (s.file != NULL) {
		fclose(s.file);
	}
	if (calls_file != NULL) {
		fclose(calls_file);
	}
}

/* ---- installation -------------------------------------------------------- */

static bool parse_u64(const char *text, uint64_t *value, const char **end)
{
	char *stop;

	errno = 0;
	*value = strtoull(text, &stop, 0);
	*end = stop;
	return errno == 0 && stop != text;
}

/* "A:B" into two addresses. */
static bool parse_pair(const char *text, uint64_t *a, uint64_t *b)
{
	const char *end;

	return parse_u64(text, a, &end) && *end == ':' &&
	       parse_u64(end + 1, b, &end) && *end == '\0';
}

static bool parse_arg(const char *arg)
{
	const char *eq = strchr(arg, '=');
	const char *end;

	if (eq == NULL) {
		return false;
	}
	size_t name_len = (size_t)(eq - arg);
	const char *value = eq + 1;

	for (unsigned int k = 0; k < KIND_COUNT; k++) {
		if (strlen(kind_names[k]) == name_len &&
		    strncmp(arg, kind_names[k], name_len) == 0) {
			markers[k].set = parse_pair(value, &markers[k].call,
						    &markers[k].ret);
			return markers[k].set;
		}
	}
	if (name_len == 7u && strncmp(arg, "segment", 7) == 0) {
		segment_set = parse_u64(value, &segment_addr, &end) &&
			      *end == '\0';
		return segment_set;
	}
	if (name_len == 7u && strncmp(arg, "exclude", 7) == 0) {
		if (excluded_count == MAX_EXCLUDED) {
			return false;
		}
		unsigned int i = excluded_count++;

		return parse_pair(value, &excluded[i].lo, &excluded[i].hi) &&
		       excluded[i].lo < excluded[i].hi;
	}
	if (name_len == 5u && strncmp(arg, "calls", 5) == 0) {
		if (calls_file != NULL) {
			fclose(calls_file);
		}
		calls_file = fopen(value, "wb");
		return calls_file != NULL;
	}
	if (name_len == 3u && strncmp(arg, "out", 3) == 0) {
		free(out_path);
		out_path = strdup(value);
		return out_path != NULL;
	}
	return false;
}

int qemu_plugin_install(qemu_plugin_id_t id,
			const struct qemu_plugin_info *info, int argc,
			char **argv)
{
	if (!info->system_emulation) {
		fprintf(stderr, "kheapcount: system emulation only\n");
		return -1;
	}
	for (int i = 0; i < argc; i++) {
		if (!parse_arg(argv[i])) {
			fprintf(stderr, "kheapcount: bad argument '%s'\n",
				argv[i]);
			return -1;
		}
	}
	bool any = false;

	for (unsigned int k = 0; k < KIND_COUNT; k++) {
		any = any || markers[k].set;
	}
	if (!any) {
		fprintf(stderr, "kheapcount: no KIND=CALL:RET (the "
				"trampolines' labels)\n");
		return -1;
	}
	if (!segment_set) {
		fprintf(stderr, "kheapcount: missing segment=ADDR\n");
		return -1;
	}
	path = malloc(PATH_MAX_TBS * sizeof(*path));
	if (path == NULL) {
		return -1;
	}
	qemu_plugin_register_vcpu_tb_trans_cb(id, on_translate);
	qemu_plugin_register_atexit_cb(id, report, NULL);
	return 0;
}
