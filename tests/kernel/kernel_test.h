/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Helpers shared by the kernel-layer tests (tests/kernel): simulated
 * threads, heap statistics, fault expectations, seed loops with replay,
 * a real-time watchdog, and checks that simulated threads other than the
 * CMocka runner may make (CMocka's asserts longjmp and so must only run
 * on the thread that runs the test).
 *
 * Builds on sim/tests/sim_test.h (CMocka, <kheap/sim.h>,
 * <zephyr/kernel.h>, sim_test_config) and tests/support (PRNG, tokens).
 */
#ifndef KHEAP_KERNEL_TEST_H
#define KHEAP_KERNEL_TEST_H

#include "sim_test.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <zephyr/sys/sys_heap.h>

#include "test_rng.h"
#include "test_token.h"

/* ---- simulated threads ---------------------------------------------- */

/* Thread slots for the tests: enough for 32 waiters and their helpers. */
#define KT_MAX_THREADS 40
#define KT_STACK_BYTES 2048

extern struct k_thread kt_threads[KT_MAX_THREADS];

/* Create thread `slot` running entry(p1, p2, NULL). The slot must be
 * free (never used, or joined by kt_join_all). */
k_tid_t kt_spawn(int slot, k_thread_entry_t entry, void *p1, void *p2, int prio,
		 k_timeout_t delay);

/* Join every thread created by kt_spawn since the last call (K_FOREVER),
 * so that the caller is again the only live thread. */
void kt_join_all(void);

/* ---- heaps ---------------------------------------------------------- */

/* The heap's runtime statistics, read under its lock. Initialises a
 * K_HEAP_DEFINE heap that has not been used yet (one K_NO_WAIT
 * allocation and its free). */
void kt_heap_stats(struct k_heap *heap, struct sys_memory_stats *stats);
size_t kt_heap_free_bytes(struct k_heap *heap);
size_t kt_heap_allocated_bytes(struct k_heap *heap);

/* sys_heap_validate under the heap's lock. */
bool kt_heap_valid(struct k_heap *heap);

/* ---- faults --------------------------------------------------------- */

/* Turn the simulator's fault capture on and forget earlier faults. */
void kt_faults_expect(void);

/*
 * Assert that exactly one fault was captured since kt_faults_expect(),
 * raised by `operation`, whose message contains `message_part`, on
 * `object` (NULL: not checked) for `pointer` (NULL: not checked); then
 * turn capture off again.
 */
void kt_faults_assert_one(const char *operation, const char *message_part,
			  const void *object, const void *pointer);

/* Assert that no fault was captured; turn capture off. */
void kt_faults_assert_none(void);

/* ---- output ----------------------------------------------------------- */

/* Run fn(arg) with file descriptor fd (STDOUT_FILENO, STDERR_FILENO) sent
 * to a pipe; store what it wrote there, NUL-terminated, in out (at most
 * size - 1 bytes, and less than a pipe's buffer). */
void kt_capture_fd(int fd, void (*fn)(void *arg), void *arg, char *out,
		   size_t size);

/* ---- checks made on simulated threads ------------------------------- */

/*
 * Record the first failed check made by any simulated thread (with the
 * file and line), for the test thread to report: CMocka asserts may only
 * fail on the thread that runs the test.
 */
#define KT_CHECK(cond, ...)                                                    \
	((cond) ? (void)0 : kt_check_failed(__FILE__, __LINE__, __VA_ARGS__))

void kt_check_failed(const char *file, int line, const char *fmt, ...)
	__attribute__((__format__(__printf__, 3, 4)));

/* Forget recorded check failures. */
void kt_checks_reset(void);

/* Fail the running CMocka test if a thread recorded a failed check. */
void kt_checks_assert_passed(void);

/* ---- seeds, replay and the watchdog ---------------------------------- */

/* Seeds each randomized kernel test runs by default (plus one fresh
 * random seed); KHEAP_KERNEL_SEEDS=<n> sets another count (a soak). */
#define KT_DEFAULT_SEEDS 64u

/*
 * Run scenario(seed, arg) once per seed, each time after reconfiguring
 * the simulator (deterministic schedule, virtual clock, random ties,
 * preempt_percent extra preemption) with that seed: `seed_count` fixed
 * seeds derived from `name` (KHEAP_KERNEL_SEEDS overrides the count),
 * then one fresh random seed. Every seed is
 * printed with the command that replays it. If KHEAP_SIM_SEED is set,
 * runs that seed only. A real-time watchdog of `watchdog_seconds` guards
 * each seed, and a deadlock report names the test and the seed; either
 * ends the program with a failure. Thread check failures fail the test
 * after the seed that caused them.
 */
void kt_for_each_seed(const char *name, unsigned int seed_count,
		      unsigned int preempt_percent,
		      unsigned int watchdog_seconds,
		      void (*scenario)(uint64_t seed, void *arg), void *arg);

/*
 * Run scenario(0, arg) once in the parallel schedule (virtual clock), for
 * ThreadSanitizer's look at real concurrency, under a real-time watchdog
 * of `watchdog_seconds`; thread check failures fail the test.
 */
void kt_run_parallel(const char *name, unsigned int watchdog_seconds,
		     void (*scenario)(uint64_t seed, void *arg), void *arg);

/* The seed kt_for_each_seed is running (0 outside it). */
uint64_t kt_current_seed(void);

/* Arm / disarm the real-time watchdog (SIGALRM): if it fires, the program
 * prints `what` and the current seed and exits with status 1. */
void kt_watchdog_arm(unsigned int seconds, const char *what);
void kt_watchdog_disarm(void);

/* Deterministic, virtual clock, FIFO ties, no extra preemption, seed 1;
 * fault capture off, check failures forgotten. For setup functions. */
int kt_setup_det(void **state);

/* The matching teardown: join the test's threads, fault capture off, and
 * main back to no resource pool and CONFIG_MAIN_THREAD_PRIORITY. */
int kt_teardown_det(void **state);

/* Name the program's tests may be filtered by: main(argc, argv) passes
 * argv[1] to cmocka_set_test_filter. Remembered for replay lines. */
void kt_program_args(int argc, char **argv);

#endif /* KHEAP_KERNEL_TEST_H */
