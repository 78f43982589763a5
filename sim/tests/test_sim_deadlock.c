/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The deadlock report: when every thread is blocked and nothing can wake
 * one, the simulator names each thread and its wait site, prints the
 * seed, and aborts (or calls the test hook). Each case runs in a forked
 * child (only the main thread exists when it forks).
 */
#include "sim_test.h"

#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

static int report_fd = -1;

static void hook(const char *report)
{
	size_t len = strlen(report);
	while (len > 0) {
		ssize_t n = write(report_fd, report, len);
		if (n <= 0) {
			break;
		}
		report += n;
		len -= (size_t)n;
	}
	_exit(42);
}

/* Run scenario() in a child; return its output and exit status. */
static int run_child(void (*scenario)(void), bool with_hook, char *out,
		     size_t size)
{
	int fds[2];
	assert_int_equal(pipe(fds), 0);
	fflush(stdout);
	fflush(stderr);
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		close(fds[0]);
		dup2(fds[1], 2);
		if (with_hook) {
			report_fd = fds[1];
			sim_deadlock_hook_set(hook);
		}
		scenario();
		_exit(0);
	}
	close(fds[1]);
	size_t len = 0;
	ssize_t n;
	while ((n = read(fds[0], out + len, size - 1 - len)) > 0) {
		len += (size_t)n;
	}
	out[len] = '\0';
	close(fds[0]);
	int status;
	assert_int_equal(waitpid(pid, &status, 0), pid);
	printf("%s", out);
	return status;
}

/* The line `line` of this source file. */
static void source_line(int line, char *buf, size_t size)
{
	FILE *f = fopen(__FILE__, "r");
	assert_non_null(f);
	buf[0] = '\0';
	for (int i = 1; i <= line && fgets(buf, (int)size, f); i++) {
	}
	fclose(f);
}

/* The report has "<prefix> at <this file>:<line>" and that line of this
 * file makes the call `call`. */
static void expect_site(const char *out, const char *prefix, const char *call)
{
	char at[512];
	snprintf(at, sizeof(at), "%s at %s:", prefix, __FILE__);
	const char *p = strstr(out, at);
	if (!p) {
		printf("# missing: %s\n", at);
	}
	assert_non_null(p);
	int line = atoi(p + strlen(at));
	char text[256];
	source_line(line, text, sizeof(text));
	if (!strstr(text, call)) {
		printf("# line %d is: %s", line, text);
	}
	assert_non_null(strstr(text, call));
}

static struct k_thread worker;
K_THREAD_STACK_DEFINE(worker_stack, 2048);
static K_SEM_DEFINE(never, 0, 1);

static void stuck_worker(void *p1, void *p2, void *p3)
{
	(void)p1;
	(void)p2;
	(void)p3;
	k_sleep(K_TICKS(3));
	k_sem_take(&never, K_FOREVER);
}

static void join_deadlock(void)
{
	k_thread_create(&worker, worker_stack,
			K_THREAD_STACK_SIZEOF(worker_stack), stuck_worker, NULL,
			NULL, NULL, 5, 0, K_NO_WAIT);
	k_thread_name_set(&worker, "worker");
	k_thread_join(&worker, K_FOREVER);
}

static void check_join_report(const char *out)
{
	char prefix[256];

	assert_non_null(strstr(out, "kheap sim: deadlock at tick 3: every "
				    "thread is blocked"));
	expect_site(out,
		    "thread \"main\" (prio 0): k_thread_join of thread "
		    "\"worker\" forever",
		    "k_thread_join(&worker, K_FOREVER)");
	snprintf(prefix, sizeof(prefix),
		 "thread \"worker\" (prio 5): k_sem_take on k_sem %p forever",
		 (void *)&never);
	expect_site(out, prefix, "k_sem_take(&never, K_FOREVER)");
}

static void det_virtual_join_deadlock(void)
{
	sim_test_config(SIM_MODE_DETERMINISTIC, SIM_CLOCK_VIRTUAL, 0xabc,
			SIM_TIES_RANDOM, 0);
	join_deadlock();
}

static void test_report_with_hook(void **state)
{
	(void)state;
	char out[4096];
	int status =
		run_child(det_virtual_join_deadlock, true, out, sizeof(out));
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 42);
	check_join_report(out);
	assert_non_null(strstr(out, "seed 0x0000000000000abc (replay: "
				    "KHEAP_SIM_SEED=0x0000000000000abc)"));
}

static void test_report_aborts_by_default(void **state)
{
	(void)state;
	char out[4096];
	int status =
		run_child(det_virtual_join_deadlock, false, out, sizeof(out));
	assert_true(WIFSIGNALED(status));
	assert_int_equal(WTERMSIG(status), SIGABRT);
	check_join_report(out);
}

static void det_real_join_deadlock(void)
{
	sim_test_config(SIM_MODE_DETERMINISTIC, SIM_CLOCK_REAL, 1,
			SIM_TIES_RANDOM, 0);
	join_deadlock();
}

static void par_virtual_join_deadlock(void)
{
	sim_test_config(SIM_MODE_PARALLEL, SIM_CLOCK_VIRTUAL, 1,
			SIM_TIES_RANDOM, 0);
	join_deadlock();
}

static void test_report_in_other_modes(void **state)
{
	(void)state;
	char out[4096];
	int status =
		run_child(par_virtual_join_deadlock, true, out, sizeof(out));
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 42);
	check_join_report(out);
	assert_non_null(strstr(out, "parallel schedule, virtual clock"));

	/* Real time: the deadlock is found once the worker's 3-tick sleep
	 * is over (the tick number is not exact). */
	status = run_child(det_real_join_deadlock, true, out, sizeof(out));
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 42);
	assert_non_null(strstr(out, "kheap sim: deadlock at tick"));
	assert_non_null(strstr(out, "k_thread_join of thread \"worker\""));
}

static struct k_thread never_started;

static void unused_entry(void *p1, void *p2, void *p3)
{
	(void)p1;
	(void)p2;
	(void)p3;
	k_sem_give(&never);
}

static void waits_for_unstarted(void)
{
	sim_test_config(SIM_MODE_DETERMINISTIC, SIM_CLOCK_VIRTUAL, 1,
			SIM_TIES_RANDOM, 0);
	k_thread_create(&never_started, worker_stack,
			K_THREAD_STACK_SIZEOF(worker_stack), unused_entry, NULL,
			NULL, NULL, 5, 0, K_FOREVER);
	k_thread_name_set(&never_started, "dormant");
	k_sleep(K_FOREVER);
}

static void test_report_lists_unstarted_and_sleepers(void **state)
{
	(void)state;
	char out[4096];
	int status = run_child(waits_for_unstarted, true, out, sizeof(out));
	assert_int_equal(WEXITSTATUS(status), 42);
	expect_site(out, "thread \"main\" (prio 0): k_sleep forever",
		    "k_sleep(K_FOREVER)");
	assert_non_null(strstr(out, "thread \"dormant\" (prio 5): not started "
				    "(created with K_FOREVER, waiting for "
				    "k_thread_start)\n"));
}

#if KHEAP_SIM_HAVE_KERNEL
/* A heap wait: the wait queue and the k_heap_alloc call site. */
K_HEAP_DEFINE(small_heap, 1024);
/* The child exits with this block still allocated, by design: kept in a
 * static so that memcheck (valgrind preset) sees it as reachable rather
 * than as a leak. */
static void *volatile held_block;
static void heap_deadlock(void)
{
	sim_test_config(SIM_MODE_DETERMINISTIC, SIM_CLOCK_VIRTUAL, 1,
			SIM_TIES_RANDOM, 0);
	held_block = k_heap_alloc(&small_heap, 600, K_NO_WAIT);
	assert_non_null(held_block);
	k_heap_alloc(&small_heap, 600, K_FOREVER);
}

static void test_report_names_heap_wait_site(void **state)
{
	(void)state;
	char out[4096];
	char prefix[256];
	int status = run_child(heap_deadlock, true, out, sizeof(out));
	assert_int_equal(WEXITSTATUS(status), 42);
	snprintf(prefix, sizeof(prefix),
		 "thread \"main\" (prio 0): pending on wait queue %p "
		 "(z_pend_curr) forever",
		 (void *)&small_heap.wait_q);
	expect_site(out, prefix, "k_heap_alloc(&small_heap, 600, K_FOREVER)");
}
#endif

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_report_with_hook),
		cmocka_unit_test(test_report_aborts_by_default),
		cmocka_unit_test(test_report_in_other_modes),
		cmocka_unit_test(test_report_lists_unstarted_and_sleepers),
#if KHEAP_SIM_HAVE_KERNEL
		cmocka_unit_test(test_report_names_heap_wait_site),
#endif
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
