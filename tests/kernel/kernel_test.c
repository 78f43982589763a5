/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Helpers shared by the kernel-layer tests: see kernel_test.h.
 */
#include "kernel_test.h"
#include "test_meta.h"

#include <inttypes.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* ---- simulated threads ---------------------------------------------- */

struct k_thread kt_threads[KT_MAX_THREADS];
K_THREAD_STACK_ARRAY_DEFINE(kt_stacks, KT_MAX_THREADS, KT_STACK_BYTES);
static bool slot_live[KT_MAX_THREADS];

k_tid_t kt_spawn(int slot, k_thread_entry_t entry, void *p1, void *p2, int prio,
		 k_timeout_t delay)
{
	assert_true(slot >= 0 && slot < KT_MAX_THREADS);
	assert_false(slot_live[slot]);
	slot_live[slot] = true;
	return k_thread_create(&kt_threads[slot], kt_stacks[slot],
			       K_THREAD_STACK_SIZEOF(kt_stacks[slot]), entry,
			       p1, p2, NULL, prio, 0, delay);
}

void kt_join_all(void)
{
	for (int slot = 0; slot < KT_MAX_THREADS; slot++) {
		if (slot_live[slot]) {
			assert_int_equal(
				k_thread_join(&kt_threads[slot], K_FOREVER), 0);
			slot_live[slot] = false;
		}
	}
}

/* ---- heaps ---------------------------------------------------------- */

static void ensure_heap_initialised(struct k_heap *heap)
{
	if (heap->heap.heap == NULL) {
		void *first_use = k_heap_alloc(heap, 1, K_NO_WAIT);

		k_heap_free(heap, first_use);
	}
}

void kt_heap_stats(struct k_heap *heap, struct sys_memory_stats *stats)
{
	ensure_heap_initialised(heap);
	k_spinlock_key_t key = k_spin_lock(&heap->lock);
	int rc = sys_heap_runtime_stats_get(&heap->heap, stats);

	k_spin_unlock(&heap->lock, key);
	assert_int_equal(rc, 0);
}

size_t kt_heap_free_bytes(struct k_heap *heap)
{
	struct sys_memory_stats stats;

	kt_heap_stats(heap, &stats);
	return stats.free_bytes;
}

size_t kt_heap_allocated_bytes(struct k_heap *heap)
{
	struct sys_memory_stats stats;

	kt_heap_stats(heap, &stats);
	return stats.allocated_bytes;
}

bool kt_heap_valid(struct k_heap *heap)
{
	ensure_heap_initialised(heap);
	k_spinlock_key_t key = k_spin_lock(&heap->lock);
	bool valid = sys_heap_validate(&heap->heap);

	k_spin_unlock(&heap->lock, key);
	return valid;
}

/* ---- faults --------------------------------------------------------- */

void kt_faults_expect(void)
{
	sim_fault_clear();
	(void)sim_fault_capture(true);
}

void kt_faults_assert_one(const char *operation, const char *message_part,
			  const void *object, const void *pointer)
{
	struct sim_fault fault;
	unsigned int count = sim_fault_count();
	bool have = sim_fault_last(&fault);

	(void)sim_fault_capture(false);
	if (count != 1u || !have) {
		fail_msg("expected one fault from %s (\"%s\"), got %u%s%s",
			 operation, message_part, count, have ? "; last: " : "",
			 have ? fault.text : "");
	}
	if (strcmp(fault.operation, operation) != 0 ||
	    strstr(fault.message, message_part) == NULL) {
		fail_msg("expected a fault from %s with \"%s\", got: %s",
			 operation, message_part, fault.text);
	}
	if (object != NULL && fault.object != object) {
		fail_msg("fault on object %p, expected %p: %s", fault.object,
			 object, fault.text);
	}
	if (pointer != NULL && fault.pointer != pointer) {
		fail_msg("fault for pointer %p, expected %p: %s", fault.pointer,
			 pointer, fault.text);
	}
	sim_fault_clear();
}

void kt_capture_fd(int fd, void (*fn)(void *arg), void *arg, char *out,
		   size_t size)
{
	int fds[2];
	int saved = dup(fd);

	assert_true(saved >= 0);
	assert_int_equal(pipe(fds), 0);
	fflush(stdout);
	fflush(stderr);
	dup2(fds[1], fd);
	fn(arg);
	fflush(stdout);
	fflush(stderr);
	dup2(saved, fd);
	close(saved);
	close(fds[1]);
	size_t len = 0;
	ssize_t n;

	while (len + 1u < size &&
	       (n = read(fds[0], out + len, size - 1u - len)) > 0) {
		len += (size_t)n;
	}
	out[len] = '\0';
	close(fds[0]);
}

void kt_faults_assert_none(void)
{
	struct sim_fault fault;
	unsigned int count = sim_fault_count();
	bool have = sim_fault_last(&fault);

	(void)sim_fault_capture(false);
	if (count != 0u) {
		fail_msg("expected no fault, got %u; last: %s", count,
			 have ? fault.text : "?");
	}
}

/* ---- checks made on simulated threads ------------------------------- */

static pthread_mutex_t check_mutex = PTHREAD_MUTEX_INITIALIZER;
static unsigned int check_failures;
static char first_check_failure[512];

void kt_check_failed(const char *file, int line, const char *fmt, ...)
{
	char text[384];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	pthread_mutex_lock(&check_mutex);
	if (check_failures++ == 0u) {
		snprintf(first_check_failure, sizeof(first_check_failure),
			 "%s:%d: %s (tick %" PRId64 ")", file, line, text,
			 sys_clock_tick_get());
	}
	pthread_mutex_unlock(&check_mutex);
}

void kt_checks_reset(void)
{
	pthread_mutex_lock(&check_mutex);
	check_failures = 0u;
	first_check_failure[0] = '\0';
	pthread_mutex_unlock(&check_mutex);
}

void kt_checks_assert_passed(void)
{
	pthread_mutex_lock(&check_mutex);
	unsigned int failures = check_failures;
	char text[sizeof(first_check_failure)];

	memcpy(text, first_check_failure, sizeof(text));
	pthread_mutex_unlock(&check_mutex);
	if (failures != 0u) {
		fail_msg("%u failed check(s) in simulated threads; first: %s",
			 failures, text);
	}
}

/* ---- seeds, replay and the watchdog ---------------------------------- */

static const char *program_name = "test";
static const char *current_name;
static uint64_t current_seed;
static char watchdog_message[256];

int kt_teardown_det(void **state)
{
	(void)state;
	kt_join_all();
	(void)sim_fault_capture(false);
	k_current_get()->resource_pool = NULL;
	k_thread_priority_set(k_current_get(), CONFIG_MAIN_THREAD_PRIORITY);
	return 0;
}

void kt_program_args(int argc, char **argv)
{
	if (argc > 0 && argv[0] != NULL) {
		program_name = argv[0];
	}
	if (argc > 1) {
		cmocka_set_test_filter(argv[1]);
	}
}

uint64_t kt_current_seed(void)
{
	return current_seed;
}

static void watchdog_fired(int signo)
{
	(void)signo;
	ssize_t ignored = write(2, watchdog_message, strlen(watchdog_message));

	(void)ignored;
	_exit(1);
}

void kt_watchdog_arm(unsigned int seconds, const char *what)
{
	struct sigaction action;

#if TEST_META_VALGRIND
	/* Under Valgrind every access and every simulated thread switch is
	 * many times slower (the valgrind preset); the watchdog is there
	 * for hangs, not to time the run. */
	if (RUNNING_ON_VALGRIND) {
		seconds *= 10u;
	}
#endif
	snprintf(watchdog_message, sizeof(watchdog_message),
		 "\nkernel test watchdog: %s did not finish within %u s "
		 "(seed 0x%016" PRIx64 ", replay: KHEAP_SIM_SEED=0x%016" PRIx64
		 ")\n",
		 what, seconds, current_seed, current_seed);
	memset(&action, 0, sizeof(action));
	action.sa_handler = watchdog_fired;
	sigemptyset(&action.sa_mask);
	sigaction(SIGALRM, &action, NULL);
	alarm(seconds);
}

void kt_watchdog_disarm(void)
{
	alarm(0);
}

static void deadlock_reported(const char *report)
{
	(void)report; /* already printed on stderr by the simulator */
	fprintf(stderr,
		"kernel test: deadlock in %s, seed 0x%016" PRIx64
		" (replay: KHEAP_SIM_SEED=0x%016" PRIx64 " %s %s)\n",
		current_name ? current_name : "?", current_seed, current_seed,
		program_name, current_name ? current_name : "");
	fflush(stderr);
	_exit(1);
}

/* A seed number per test name, so that tests do not share seeds. */
static uint64_t name_hash(const char *name)
{
	uint64_t hash = 0x6b65726e656c0000ull; /* "kernel" */

	for (const char *c = name; *c != '\0'; c++) {
		hash = test_mix64(hash ^ (uint64_t)(unsigned char)*c);
	}
	return hash;
}

static void run_one_seed(const char *name, uint64_t seed,
			 unsigned int preempt_percent,
			 unsigned int watchdog_seconds,
			 void (*scenario)(uint64_t seed, void *arg), void *arg)
{
	struct sim_config config;

	sim_config_default(&config);
	config.mode = SIM_MODE_DETERMINISTIC;
	config.clock = SIM_CLOCK_VIRTUAL;
	config.ties = SIM_TIES_RANDOM;
	config.seed = seed;
	config.preempt_percent = preempt_percent;
	config.quiet = true;
	assert_int_equal(sim_configure(&config), 0);

	current_name = name;
	current_seed = seed;
	printf("# %s: seed 0x%016" PRIx64
	       " (deterministic, virtual clock, random ties, preempt %u%%; "
	       "replay: KHEAP_SIM_SEED=0x%016" PRIx64 " %s %s)\n",
	       name, seed, preempt_percent, seed, program_name, name);
	fflush(stdout);
	kt_checks_reset();
	kt_watchdog_arm(watchdog_seconds, name);
	scenario(seed, arg);
	kt_join_all();
	kt_watchdog_disarm();
	kt_checks_assert_passed();
	current_seed = 0;
}

void kt_for_each_seed(const char *name, unsigned int seed_count,
		      unsigned int preempt_percent,
		      unsigned int watchdog_seconds,
		      void (*scenario)(uint64_t seed, void *arg), void *arg)
{
	uint64_t seed;

	sim_deadlock_hook_set(deadlock_reported);
	if (sim_seed_from_env(&seed)) {
		run_one_seed(name, seed, preempt_percent, watchdog_seconds,
			     scenario, arg);
		return;
	}
	uint64_t base = name_hash(name);
	const char *more = getenv("KHEAP_KERNEL_SEEDS");

	if (more != NULL && *more != '\0') {
		char *end;
		unsigned long count = strtoul(more, &end, 10);

		if (*end != '\0' || count > 100000000ul) {
			fail_msg("KHEAP_KERNEL_SEEDS=%s: expected a count",
				 more);
		}
		seed_count = (unsigned int)count;
	}
	for (unsigned int i = 0; i < seed_count; i++) {
		run_one_seed(name, test_mix64(base + i), preempt_percent,
			     watchdog_seconds, scenario, arg);
	}
	/* One fresh seed per run explores new interleavings; it is printed
	 * like the others, so a failure replays. */
	struct sim_config fresh;

	sim_config_default(&fresh);
	run_one_seed(name, fresh.seed, preempt_percent, watchdog_seconds,
		     scenario, arg);
	sim_deadlock_hook_set(NULL);
}

void kt_run_parallel(const char *name, unsigned int watchdog_seconds,
		     void (*scenario)(uint64_t seed, void *arg), void *arg)
{
	sim_test_config(SIM_MODE_PARALLEL, SIM_CLOCK_VIRTUAL, 1,
			SIM_TIES_RANDOM, 0);
	kt_checks_reset();
	kt_watchdog_arm(watchdog_seconds, name);
	scenario(0, arg);
	kt_join_all();
	kt_watchdog_disarm();
	kt_checks_assert_passed();
}

int kt_setup_det(void **state)
{
	(void)state;
	sim_test_det();
	(void)sim_fault_capture(false);
	kt_checks_reset();
	return 0;
}
