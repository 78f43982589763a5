/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The worst single call, in instructions, by ptrace single-stepping
 * (x86-64 Linux; perf counters are not available on these machines).
 *
 * The child replays the mixed workload on the allocator under test
 * (heap_backend.h: kheap unless the build names another): the ops up to
 * the fill (the model's live set first at its target, as on Cortex-M)
 * run at full speed, then every measured call is bracketed by two int3
 * instructions (start marker with the call kind in rax and the op index in
 * rdx, end marker). The parent, the tracer, continues the child to a start
 * marker, then PTRACE_SINGLESTEPs it to the end marker, counting one step
 * per instruction executed.
 *
 * The count includes the few instructions of the bracketing wrapper (set
 * up arguments, call through a pointer, store the result). They are
 * measured the same way on a calibration function with the same signature
 * and a known two-instruction body (xor eax, eax; ret) and subtracted, so
 * a figure is the instructions executed from the called function's first
 * instruction through its final ret, callees included.
 *
 * A realloc that moves also runs memcpy (glibc, outside this executable);
 * those instructions are counted separately so realloc is reported with
 * and without the copy. Resizes use blocks of at most 2 KiB, and
 * scripts/bench raises glibc's rep-movsb threshold above that
 * (GLIBC_TUNABLES), so the copy is a vector loop: a single-stepped
 * rep movsb traps once per byte.
 *
 * Realloc calls that run nothing outside the executable resized in
 * place (a moving realloc copies); their max is reported apart. With
 * --calls FILE every measured call's count without the copy is written
 * to FILE (bench/callcounts.py's format, the QEMU plugin's too), to
 * compare two builds call by call (the cost of the hardening checks).
 *
 * Tracer and child are pinned to one CPU: on these 2-vCPU VMs that makes
 * single-stepping about five times faster.
 */
#include <errno.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ptrace.h>
#include <sys/user.h>
#include <sys/wait.h>
#include <unistd.h>

#include "bench.h"
#include "heap_backend.h"
#include "workload.h"

#if !defined(__x86_64__) || !defined(__linux__)
int bench_worst(const struct bench_options *opt)
{
	(void)opt;
	fputs("kheap_bench worst: x86-64 Linux only\n", stderr);
	return 1;
}
#else

enum mark_kind {
	MK_ALLOC,
	MK_ALIGNED_ALLOC,
	MK_FREE,
	MK_REALLOC,
	MK_COUNT,
	/* Added to a kind for calibration calls. */
	MK_CALIBRATE = 8,
};

static const char *const mk_names[MK_COUNT] = {
	"alloc",
	"aligned_alloc",
	"free",
	"realloc",
};

#define EMPTY_BODY_INSNS 2u
#define CALIBRATION_CALLS 32u

/* The calibration functions: one body, one name per signature. */
__asm__(".text\n"
	".p2align 4\n"
	".globl bench_empty_alloc\n"
	".globl bench_empty_aligned_alloc\n"
	".globl bench_empty_free\n"
	".globl bench_empty_realloc\n"
	".type bench_empty_alloc, @function\n"
	".type bench_empty_aligned_alloc, @function\n"
	".type bench_empty_free, @function\n"
	".type bench_empty_realloc, @function\n"
	"bench_empty_alloc:\n"
	"bench_empty_aligned_alloc:\n"
	"bench_empty_free:\n"
	"bench_empty_realloc:\n"
	"\txorl %eax, %eax\n"
	"\tret\n"
	".size bench_empty_alloc, .-bench_empty_alloc\n"
	".size bench_empty_aligned_alloc, .-bench_empty_aligned_alloc\n"
	".size bench_empty_free, .-bench_empty_free\n"
	".size bench_empty_realloc, .-bench_empty_realloc\n");

void *bench_empty_alloc(bench_heap_t heap, size_t bytes);
void *bench_empty_aligned_alloc(bench_heap_t heap, size_t align, size_t bytes);
void bench_empty_free(bench_heap_t heap, void *mem);
void *bench_empty_realloc(bench_heap_t heap, void *mem, size_t bytes);

typedef void *(*alloc_fn)(bench_heap_t, size_t);
typedef void *(*aligned_alloc_fn)(bench_heap_t, size_t, size_t);
typedef void (*free_fn)(bench_heap_t, void *);
typedef void *(*realloc_fn)(bench_heap_t, void *, size_t);

#define MARK_START(kind, tag)                                                  \
	__asm__ volatile("int3"                                                \
			 :                                                     \
			 : "a"((unsigned long)(kind)),                         \
			   "d"((unsigned long)(tag))                           \
			 : "memory")
#define MARK_END() __asm__ volatile("int3" : : : "memory")

static __attribute__((__noinline__)) void *
mark_alloc(alloc_fn fn, bench_heap_t h, size_t bytes, unsigned int kind,
	   size_t tag)
{
	void *mem;

	MARK_START(kind, tag);
	mem = fn(h, bytes);
	MARK_END();
	return mem;
}

static __attribute__((__noinline__)) void *
mark_aligned_alloc(aligned_alloc_fn fn, bench_heap_t h, size_t align,
		   size_t bytes, unsigned int kind, size_t tag)
{
	void *mem;

	MARK_START(kind, tag);
	mem = fn(h, align, bytes);
	MARK_END();
	return mem;
}

static __attribute__((__noinline__)) void
mark_free(free_fn fn, bench_heap_t h, void *mem, unsigned int kind, size_t tag)
{
	MARK_START(kind, tag);
	fn(h, mem);
	MARK_END();
}

static __attribute__((__noinline__)) void *
mark_realloc(realloc_fn fn, bench_heap_t h, void *mem, size_t bytes,
	     unsigned int kind, size_t tag)
{
	void *new_mem;

	MARK_START(kind, tag);
	new_mem = fn(h, mem, bytes);
	MARK_END();
	return new_mem;
}

/* Ops the allocator under test has no call for (heap_backend.h), skipped
 * like ops on empty slots; the child reports them. */
static size_t unsupported_ops;

/* One op of the list, bracketed with markers if measured. */
static void child_op(bench_heap_t h, const struct op *op, void **slots,
		     bool measured, size_t index)
{
	void *mem = slots[op->slot];
	size_t align = BENCH_HEAP_MIN_ALIGN;

	switch (op->kind) {
	case OP_ALLOC:
		mem = measured ? mark_alloc(BENCH_HEAP_ALLOC, h, op->size,
					    MK_ALLOC, index)
			       : BENCH_HEAP_ALLOC(h, op->size);
		break;
	case OP_ALIGNED_ALLOC:
#if BENCH_HEAP_HAS_ALIGNED_ALLOC
		align = (size_t)1 << op->align_shift;
		mem = measured ? mark_aligned_alloc(BENCH_HEAP_ALIGNED_ALLOC, h,
						    align, op->size,
						    MK_ALIGNED_ALLOC, index)
			       : BENCH_HEAP_ALIGNED_ALLOC(h, align, op->size);
		break;
#else
		unsupported_ops++;
		return;
#endif
	case OP_FREE:
		if (mem == NULL) {
			return;
		}
		if (measured) {
			mark_free(BENCH_HEAP_FREE, h, mem, MK_FREE, index);
		} else {
			BENCH_HEAP_FREE(h, mem);
		}
		slots[op->slot] = NULL;
		return;
	case OP_REALLOC:
		if (mem == NULL) {
			return;
		}
#if BENCH_HEAP_HAS_REALLOC
		mem = measured ? mark_realloc(BENCH_HEAP_REALLOC, h, mem,
					      op->size, MK_REALLOC, index)
			       : BENCH_HEAP_REALLOC(h, mem, op->size);
		if (mem == NULL) {
			return;
		}
		break;
#else
		unsupported_ops++;
		return;
#endif
	}
	if (((uintptr_t)mem & (align - 1u)) != 0u) {
		bench_die("op %zu: %s returned %p, not aligned to %zu", index,
			  BENCH_HEAP_NAME, mem, align);
	}
	slots[op->slot] = mem;
}

static void calibrate(bench_heap_t h)
{
	static char dummy[16];

	for (unsigned int i = 0; i < CALIBRATION_CALLS; i++) {
		(void)mark_alloc(bench_empty_alloc, h, 16,
				 MK_ALLOC + MK_CALIBRATE, 0);
		(void)mark_aligned_alloc(bench_empty_aligned_alloc, h, 64, 16,
					 MK_ALIGNED_ALLOC + MK_CALIBRATE, 0);
		mark_free(bench_empty_free, h, dummy, MK_FREE + MK_CALIBRATE,
			  0);
		(void)mark_realloc(bench_empty_realloc, h, dummy, 16,
				   MK_REALLOC + MK_CALIBRATE, 0);
	}
}

static void child_main(const struct op_list *list, size_t warm,
		       size_t heap_bytes)
{
	void **slots = calloc(list->slots, sizeof(void *));
	void *region = bench_region(heap_bytes);
	bench_heap_t h = bench_heap_init(region, heap_bytes);

	if (slots == NULL || h == NULL) {
		bench_die("child: setup failed");
	}
	if (ptrace(PTRACE_TRACEME, 0, NULL, NULL) != 0) {
		bench_die("PTRACE_TRACEME: %s", strerror(errno));
	}
	raise(SIGSTOP);
	for (size_t i = 0; i < warm; i++) {
		child_op(h, &list->ops[i], slots, false, i);
	}
	calibrate(h);
	for (size_t i = warm; i < list->count; i++) {
		child_op(h, &list->ops[i], slots, true, i);
	}
	if (!bench_heap_check(h)) {
		bench_die("child: %s's heap check failed", BENCH_HEAP_NAME);
	}
	printf("WORSTSKIP heap=%zu alloc=%s unsupported=%zu\n", heap_bytes,
	       BENCH_HEAP_NAME, unsupported_ops);
	fflush(stdout);
	_exit(0);
}

struct kind_stats {
	uint32_t *insns;
	size_t count;
	uint64_t sum;
	uint32_t max;
	size_t max_op;
	/* realloc only: instructions outside the executable (memcpy). */
	uint64_t ext_sum;
	uint32_t max_excl;
	size_t max_excl_op;
	uint64_t sum_excl;
	/* Calls that ran nothing outside the executable: for realloc, those
	 * that resized in place (a moving realloc runs memcpy). */
	size_t in_place;
	uint32_t max_in_place;
	/* Calibration: steps of the empty call. */
	uint32_t cal_min;
	uint32_t cal_max;
	/* Instruction addresses of the worst call (file addresses; 0 for
	 * instructions outside the executable). */
	unsigned long *worst_path;
	uint32_t worst_path_len;
};

#define PATH_MAX_STEPS 8192u

struct text_range {
	unsigned long lo;
	unsigned long hi;
	/* Load address of the executable (its mapping at file offset 0). */
	unsigned long base;
};

/* The executable's code mapping(s) in the child. */
static struct text_range exe_text(pid_t pid)
{
	char path[64], exe[4096], line[4600];
	struct text_range r = {~0ul, 0ul, ~0ul};
	FILE *f;
	ssize_t n;

	snprintf(path, sizeof(path), "/proc/%d/exe", (int)pid);
	n = readlink(path, exe, sizeof(exe) - 1);
	if (n <= 0) {
		bench_die("readlink %s failed", path);
	}
	exe[n] = '\0';
	snprintf(path, sizeof(path), "/proc/%d/maps", (int)pid);
	f = fopen(path, "r");
	if (f == NULL) {
		bench_die("cannot open %s", path);
	}
	while (fgets(line, sizeof(line), f) != NULL) {
		unsigned long lo, hi, offset;
		char perms[8];
		int off = 0;

		if (sscanf(line, "%lx-%lx %7s %lx %*s %*s %n", &lo, &hi, perms,
			   &offset, &off) < 4 ||
		    off == 0) {
			continue;
		}
		line[strcspn(line, "\n")] = '\0';
		if (strcmp(line + off, exe) != 0) {
			continue;
		}
		if (offset == 0u && lo < r.base) {
			r.base = lo;
		}
		if (perms[2] == 'x') {
			r.lo = lo < r.lo ? lo : r.lo;
			r.hi = hi > r.hi ? hi : r.hi;
		}
	}
	fclose(f);
	if (r.lo >= r.hi) {
		bench_die("no code mapping of %s in the child", exe);
	}
	return r;
}

static void wait_stop(pid_t pid, int *status)
{
	if (waitpid(pid, status, 0) != pid) {
		bench_die("waitpid: %s", strerror(errno));
	}
}

static int si_code_of(pid_t pid)
{
	siginfo_t si;

	if (ptrace(PTRACE_GETSIGINFO, pid, NULL, &si) != 0) {
		bench_die("PTRACE_GETSIGINFO: %s", strerror(errno));
	}
	return si.si_code;
}

static void describe_op(const struct op_list *list, size_t i, char *buf,
			size_t len)
{
	const struct op *op = &list->ops[i];

	switch (op->kind) {
	case OP_ALLOC:
		snprintf(buf, len, "op%zu:alloc:%u", i, op->size);
		break;
	case OP_ALIGNED_ALLOC:
		snprintf(buf, len, "op%zu:aligned_alloc:%u:align%u", i,
			 op->size, 1u << op->align_shift);
		break;
	case OP_FREE:
		snprintf(buf, len, "op%zu:free:slot%u", i, op->slot);
		break;
	default:
		snprintf(buf, len, "op%zu:realloc:%u", i, op->size);
		break;
	}
}

static unsigned long peek_rip(pid_t pid)
{
	errno = 0;
	long rip = ptrace(PTRACE_PEEKUSER, pid,
			  (void *)offsetof(struct user_regs_struct, rip), NULL);

	return errno == 0 ? (unsigned long)rip : 0ul;
}

/* trace_op: print every instruction address of that op's measured call
 * ("TRACE" lines, addresses as in the executable file). */
/* Per-call record of the calls file: the kind in the top 3 bits, the
 * instructions without the copy below (target/bench/qemu_worst.py reads
 * the plugin's files of the same format). */
#define CALL_RECORD_KIND_SHIFT 29u
#define CALL_RECORD_MAX_COUNT ((1u << CALL_RECORD_KIND_SHIFT) - 1u)
/* Starts a segment (the run is one). */
#define CALL_RECORD_SEGMENT 0xffffffffu

static void write_word(FILE *f, uint32_t word)
{
	unsigned char le[4] = {(unsigned char)word, (unsigned char)(word >> 8),
			       (unsigned char)(word >> 16),
			       (unsigned char)(word >> 24)};

	if (fwrite(le, 1, sizeof(le), f) != sizeof(le)) {
		bench_die("cannot write the calls file");
	}
}

static void write_call_record(FILE *f, unsigned int kind, uint32_t excl)
{
	uint32_t count = excl < CALL_RECORD_MAX_COUNT ? excl
						      : CALL_RECORD_MAX_COUNT;

	write_word(f, ((uint32_t)kind << CALL_RECORD_KIND_SHIFT) | count);
}

static void trace(pid_t pid, const struct op_list *list, struct kind_stats *ks,
		  size_t trace_op, FILE *calls)
{
	int status;
	struct text_range text;

	wait_stop(pid, &status);
	if (!WIFSTOPPED(status) || WSTOPSIG(status) != SIGSTOP) {
		bench_die("child did not stop for tracing");
	}
	ptrace(PTRACE_SETOPTIONS, pid, NULL, (void *)PTRACE_O_EXITKILL);
	text = exe_text(pid);
	for (unsigned int k = 0; k < MK_COUNT; k++) {
		ks[k].cal_min = UINT32_MAX;
	}
	if (ptrace(PTRACE_CONT, pid, NULL, NULL) != 0) {
		bench_die("PTRACE_CONT: %s", strerror(errno));
	}
	unsigned long *path = calloc(PATH_MAX_STEPS, sizeof(*path));

	if (path == NULL) {
		bench_die("out of memory");
	}
	for (;;) {
		struct user_regs_struct regs;
		uint32_t steps = 0, ext = 0;

		wait_stop(pid, &status);
		if (WIFEXITED(status)) {
			if (WEXITSTATUS(status) != 0) {
				bench_die("child exited with %d",
					  WEXITSTATUS(status));
			}
			return;
		}
		if (WIFSIGNALED(status)) {
			bench_die("child killed by signal %d",
				  WTERMSIG(status));
		}
		if (WSTOPSIG(status) != SIGTRAP) {
			/* Deliver it (an abort, say) and carry on. */
			ptrace(PTRACE_CONT, pid, NULL,
			       (void *)(long)WSTOPSIG(status));
			continue;
		}
		if (si_code_of(pid) != SI_KERNEL ||
		    ptrace(PTRACE_GETREGS, pid, NULL, &regs) != 0) {
			bench_die("unexpected SIGTRAP in the child");
		}
		unsigned int kind = (unsigned int)regs.rax;
		size_t tag = (size_t)regs.rdx;
		unsigned int base = kind & (MK_CALIBRATE - 1u);

		if (base >= MK_COUNT || (kind & ~(MK_CALIBRATE | 7u)) != 0u) {
			bench_die("bad marker kind %u", kind);
		}
		for (;;) {
			ptrace(PTRACE_SINGLESTEP, pid, NULL, NULL);
			wait_stop(pid, &status);
			if (!WIFSTOPPED(status)) {
				bench_die("child ended inside a measured "
					  "call (op %zu)",
					  tag);
			}
			if (WSTOPSIG(status) != SIGTRAP) {
				char what[96];

				describe_op(list, tag, what, sizeof(what));
				kill(pid, SIGKILL);
				bench_die("signal %d inside measured call %s",
					  WSTOPSIG(status), what);
			}
			if (si_code_of(pid) == SI_KERNEL) {
				break;
			}
			steps++;
			bool tracing = tag == trace_op &&
				       (kind & MK_CALIBRATE) == 0u;
			/* One more ptrace call per step; it costs no
			 * measurable time next to the single-step itself. */
			unsigned long rip = peek_rip(pid);
			bool outside = rip < text.lo || rip >= text.hi;

			if (outside) {
				ext++;
			}
			if (steps <= PATH_MAX_STEPS) {
				path[steps - 1] = outside ? 0ul
							  : rip - text.base;
			}
			if (tracing) {
				printf("TRACE step=%u addr=%#lx%s\n", steps,
				       outside ? rip : rip - text.base,
				       outside ? " outside" : "");
			}
		}
		struct kind_stats *s = &ks[base];

		if (kind & MK_CALIBRATE) {
			s->cal_min = steps < s->cal_min ? steps : s->cal_min;
			s->cal_max = steps > s->cal_max ? steps : s->cal_max;
		} else {
			if (s->cal_min == UINT32_MAX ||
			    s->cal_min != s->cal_max) {
				bench_die("calibration of %s unstable "
					  "(%u..%u steps)",
					  mk_names[base], s->cal_min,
					  s->cal_max);
			}
			uint32_t overhead = s->cal_min - EMPTY_BODY_INSNS;
			uint32_t n = steps - overhead;
			uint32_t excl = n - ext;

			s->insns[s->count++] = n;
			s->sum += n;
			s->ext_sum += ext;
			s->sum_excl += excl;
			if (ext == 0u) {
				s->in_place++;
				if (n > s->max_in_place) {
					s->max_in_place = n;
				}
			}
			if (calls != NULL) {
				write_call_record(calls, base, excl);
			}
			if (n > s->max || s->worst_path == NULL) {
				uint32_t len = steps < PATH_MAX_STEPS
						       ? steps
						       : PATH_MAX_STEPS;

				s->max = n;
				s->max_op = tag;
				free(s->worst_path);
				s->worst_path = malloc(len * sizeof(*path));
				if (s->worst_path == NULL) {
					bench_die("out of memory");
				}
				memcpy(s->worst_path, path,
				       len * sizeof(*path));
				s->worst_path_len = len;
			}
			if (excl > s->max_excl) {
				s->max_excl = excl;
				s->max_excl_op = tag;
			}
		}
		ptrace(PTRACE_CONT, pid, NULL, NULL);
	}
	free(path);
}

int bench_worst(const struct bench_options *opt)
{
	struct workload_spec spec = workload_mixed;
	struct op_list list;
	struct kind_stats ks[MK_COUNT];
	size_t warm;
	uint64_t t0 = bench_now_ns();

	if (opt->heap_bytes != 0u) {
		spec.region_bytes = opt->heap_bytes;
	}
	if (opt->warm_ops != 0u) {
		warm = opt->warm_ops;
		spec.ops = warm + (opt->ops ? opt->ops : 20000u);
		op_list_make(&list, &spec);
	} else {
		/* As the Cortex-M images do: up to the fill, then the
		 * measured ops. */
		op_list_make_after_fill(&list, &spec,
					opt->ops ? opt->ops : 20000u);
		warm = list.fill_ops;
	}
	memset(ks, 0, sizeof(ks));
	for (unsigned int k = 0; k < MK_COUNT; k++) {
		ks[k].insns = calloc(list.count, sizeof(uint32_t));
		if (ks[k].insns == NULL) {
			bench_die("out of memory");
		}
	}
	bench_pin_cpu();
	fflush(stdout);

	pid_t pid = fork();

	if (pid < 0) {
		bench_die("fork: %s", strerror(errno));
	}
	if (pid == 0) {
		child_main(&list, warm, spec.region_bytes);
	}
	FILE *calls = NULL;

	if (opt->calls_path != NULL) {
		calls = fopen(opt->calls_path, "wb");
		if (calls == NULL) {
			bench_die("cannot write %s: %s", opt->calls_path,
				  strerror(errno));
		}
		write_word(calls, CALL_RECORD_SEGMENT);
	}
	trace(pid, &list, ks, opt->trace_op ? opt->trace_op : SIZE_MAX, calls);
	if (calls != NULL && fclose(calls) != 0) {
		bench_die("cannot write %s", opt->calls_path);
	}

	for (unsigned int k = 0; k < MK_COUNT; k++) {
		struct kind_stats *s = &ks[k];
		char worst[96], worst_excl[96];

		if (s->count == 0u) {
			continue;
		}
		bench_sort_u32(s->insns, s->count);
		size_t i999 = (s->count * 999u + 999u) / 1000u;

		describe_op(&list, s->max_op, worst, sizeof(worst));
		describe_op(&list, s->max_excl_op, worst_excl,
			    sizeof(worst_excl));
		printf("WORST heap=%zu fn=%s calls=%zu mean=%.1f median=%u "
		       "p999=%u max=%u max_at=%s wrapper_insns=%u",
		       spec.region_bytes, mk_names[k], s->count,
		       (double)s->sum / s->count, s->insns[s->count / 2],
		       s->insns[i999 ? i999 - 1 : 0], s->max, worst,
		       s->cal_min - EMPTY_BODY_INSNS);
		if (k == MK_REALLOC) {
			printf(" mean_excl_copy=%.1f max_excl_copy=%u "
			       "max_excl_copy_at=%s in_place=%zu "
			       "max_in_place=%u",
			       (double)s->sum_excl / s->count, s->max_excl,
			       worst_excl, s->in_place, s->max_in_place);
		}
		printf("\n");
		/* The worst call's path, wrapper instructions included:
		 * addresses as in the executable file, 0 = outside it. */
		printf("WORSTPATH heap=%zu fn=%s addrs=", spec.region_bytes,
		       mk_names[k]);
		for (uint32_t i = 0; i < s->worst_path_len; i++) {
			printf("%s%lx", i ? "," : "", s->worst_path[i]);
		}
		printf("\n");
		free(s->worst_path);
		free(s->insns);
	}
	printf("WORSTRUN heap=%zu alloc=%s warm_ops=%zu measured_ops=%zu "
	       "seconds=%.1f\n",
	       spec.region_bytes, BENCH_HEAP_NAME, warm, list.count - warm,
	       (double)(bench_now_ns() - t0) / 1e9);
	op_list_free(&list);
	return 0;
}
#endif
