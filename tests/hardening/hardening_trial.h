/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Shared pieces of the hardening tests (test_hardening_matrix.c,
 * test_hardening_sensitivity.c): the level the program was built for, and
 * running one trial in a child process.
 *
 * Why a child process: at the lower levels a misuse or a flipped header
 * bit is, by design, not detected, and the heap then does whatever the
 * damaged metadata says, which may be a write far outside the region.
 * A trial that runs in a fork()ed child can do that harmlessly; the parent
 * only reads what the child reports (or how it died).
 */
#ifndef KHEAP_HARDENING_TRIAL_H
#define KHEAP_HARDENING_TRIAL_H

#include <stdbool.h>
#include <stddef.h>

#include <kheap/config.h>
#include <zephyr/sys/sys_heap.h>

#define HARDENING_LEVEL CONFIG_SYS_HEAP_HARDENING_LEVEL
#define HARDENING_LEVEL_COUNT 5

/* "NONE", "BASIC", "MODERATE", "FULL", "EXTREME". */
const char *hardening_level_name(int level);

/* Bytes of a used block taken by the FULL canary at this level. */
#define HARDENING_CANARY_BYTES                                                 \
	(HARDENING_LEVEL >= SYS_HEAP_HARDENING_FULL ? 4u : 0u)

/*
 * How a child ended: it wrote `bytes` of its report (0 if it died first),
 * and exited with `exit_code`, or was killed by `signal`.
 */
struct child_end {
	size_t bytes;
	int exit_code;
	int signal;
};

/*
 * Run fn(arg, report, report_bytes) in a child process with a time limit
 * of timeout_s seconds (then the child is killed with SIGKILL); the child's report buffer, as it is when fn
 * returns (or as last sent with child_report), is copied back into
 * report. With quiet the child's stderr goes to /dev/null (a trial that
 * is expected to corrupt the heap may trip a sanitizer or a core assert;
 * that is its outcome, not noise for the log).
 * fn returns the child's exit code.
 */
struct child_end run_in_child(int (*fn)(void *arg, void *report,
					size_t report_bytes),
			      void *arg, void *report, size_t report_bytes,
			      unsigned int timeout_s, bool quiet);

/* In the child: send the report as it is now (report_bytes long, as given
 * to run_in_child), so that the parent has it even if the child dies
 * later. The parent keeps the last one it received. */
void child_report(const void *report);

#endif /* KHEAP_HARDENING_TRIAL_H */
