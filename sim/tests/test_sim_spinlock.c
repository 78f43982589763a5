/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Spinlock validation and fault reporting: each fault class is captured
 * with its message; the default handler prints and aborts.
 */
#include "sim_test.h"

#include <signal.h>
#include <stdatomic.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <zephyr/irq_offload.h>

static struct k_spinlock lock_a;
static struct k_spinlock lock_b;

static void reset_locks(void)
{
	memset(&lock_a, 0, sizeof(lock_a));
	memset(&lock_b, 0, sizeof(lock_b));
}

static void expect_fault(unsigned int before, const char *op, const char *msg,
			 const void *pointer)
{
	struct sim_fault f;

	assert_int_equal(sim_fault_count(), before + 1);
	assert_true(sim_fault_last(&f));
	assert_string_equal(f.operation, op);
	assert_string_equal(f.message, msg);
	assert_ptr_equal(f.pointer, pointer);
	char text[320];
	snprintf(text, sizeof(text), "kheap fault: %s(%p): %s", op, pointer,
		 msg);
	assert_string_equal(f.text, text);
}

static int setup(void **state)
{
	(void)state;
	sim_test_det();
	reset_locks();
	sim_fault_capture(true);
	sim_fault_clear();
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	sim_fault_capture(false);
	return 0;
}

static void test_lock_unlock_ok(void **state)
{
	(void)state;
	k_spinlock_key_t ka = k_spin_lock(&lock_a);
	k_spinlock_key_t kb = k_spin_lock(&lock_b);
	k_spin_unlock(&lock_b, kb);
	k_spin_unlock(&lock_a, ka);
	/* Out-of-order release is allowed (as in Zephyr). */
	ka = k_spin_lock(&lock_a);
	kb = k_spin_lock(&lock_b);
	k_spin_unlock(&lock_a, ka);
	k_spin_unlock(&lock_b, kb);
	assert_int_equal(sim_fault_count(), 0);
}

static void test_recursive(void **state)
{
	(void)state;
	k_spinlock_key_t k = k_spin_lock(&lock_a);
	k_spinlock_key_t k2 = k_spin_lock(&lock_a);
	expect_fault(0, "k_spin_lock", SIM_MSG_SPIN_RECURSIVE, &lock_a);
	/* The faulted acquisition took nothing: releasing it is a no-op. */
	k_spin_unlock(&lock_a, k2);
	assert_int_equal(sim_fault_count(), 1);
	k_spin_unlock(&lock_a, k);
	k = k_spin_lock(&lock_a);
	k_spin_unlock(&lock_a, k);
	assert_int_equal(sim_fault_count(), 1);
}

static void test_wrong_key(void **state)
{
	(void)state;
	k_spinlock_key_t k = k_spin_lock(&lock_a);
	k_spinlock_key_t bad = {.key = k.key ^ 4};
	k_spin_unlock(&lock_a, bad);
	expect_fault(0, "k_spin_unlock", SIM_MSG_SPIN_WRONG_KEY, &lock_a);

	k_spinlock_key_t zero = {0};
	k_spin_unlock(&lock_a, zero);
	expect_fault(1, "k_spin_unlock", SIM_MSG_SPIN_WRONG_KEY, &lock_a);

	/* The key of another lock. */
	k_spinlock_key_t kb = k_spin_lock(&lock_b);
	k_spin_unlock(&lock_a, kb);
	expect_fault(2, "k_spin_unlock", SIM_MSG_SPIN_WRONG_KEY, &lock_a);

	/* The lock is still held: the faulted unlocks released nothing. */
	k_spin_lock(&lock_a);
	expect_fault(3, "k_spin_lock", SIM_MSG_SPIN_RECURSIVE, &lock_a);
	k_spin_unlock(&lock_b, kb);
	k_spin_unlock(&lock_a, k);
	assert_int_equal(sim_fault_count(), 4);

	/* A key from an earlier acquisition of the same lock. */
	k = k_spin_lock(&lock_a);
	k_spin_unlock(&lock_a, k);
	k_spinlock_key_t k2 = k_spin_lock(&lock_a);
	k_spin_unlock(&lock_a, k);
	expect_fault(4, "k_spin_unlock", SIM_MSG_SPIN_WRONG_KEY, &lock_a);
	k_spin_unlock(&lock_a, k2);
	assert_int_equal(sim_fault_count(), 5);
}

static void test_not_held(void **state)
{
	(void)state;
	k_spinlock_key_t k = {.key = 1};
	k_spin_unlock(&lock_a, k);
	expect_fault(0, "k_spin_unlock", SIM_MSG_SPIN_NOT_HELD, &lock_a);
}

/* Deterministic mode: a thread that blocks holding a lock (itself a
 * fault) leaves it held; another thread's unlock is by a non-owner and
 * its lock attempt would spin for ever. */
static k_spinlock_key_t holder_key;
static struct k_thread holder;
K_THREAD_STACK_DEFINE(holder_stack, 2048);

static void holder_entry(void *a, void *b, void *c)
{
	(void)a;
	(void)b;
	(void)c;
	holder_key = k_spin_lock(&lock_a);
	k_sleep(K_TICKS(5));
	k_spin_unlock(&lock_a, holder_key);
}

static void test_non_owner_det(void **state)
{
	(void)state;
	k_thread_create(&holder, holder_stack,
			K_THREAD_STACK_SIZEOF(holder_stack), holder_entry, NULL,
			NULL, NULL, 5, 0, K_NO_WAIT);
	k_sleep(K_TICKS(1));
	expect_fault(0, "k_sleep", SIM_MSG_BLOCK_WITH_LOCK, NULL);
	k_spin_unlock(&lock_a, holder_key);
	expect_fault(1, "k_spin_unlock", SIM_MSG_SPIN_NON_OWNER, &lock_a);
	k_spin_lock(&lock_a);
	expect_fault(2, "k_spin_lock", SIM_MSG_SPIN_HELD_ELSEWHERE, &lock_a);
	assert_int_equal(k_thread_join(&holder, K_FOREVER), 0);
	assert_int_equal(sim_fault_count(), 3);
	k_spinlock_key_t k = k_spin_lock(&lock_a);
	k_spin_unlock(&lock_a, k);
	assert_int_equal(sim_fault_count(), 3);
}

/* Parallel mode: the holder really runs while another thread unlocks. */
static atomic_int stage;

static void spinning_holder(void *a, void *b, void *c)
{
	(void)a;
	(void)b;
	(void)c;
	holder_key = k_spin_lock(&lock_a);
	atomic_store(&stage, 1);
	while (atomic_load(&stage) != 2) {
	}
	k_spin_unlock(&lock_a, holder_key);
}

static void test_non_owner_parallel(void **state)
{
	(void)state;
	sim_test_config(SIM_MODE_PARALLEL, SIM_CLOCK_VIRTUAL, 1, SIM_TIES_FIFO,
			0);
	atomic_store(&stage, 0);
	k_thread_create(&holder, holder_stack,
			K_THREAD_STACK_SIZEOF(holder_stack), spinning_holder,
			NULL, NULL, NULL, 5, 0, K_NO_WAIT);
	while (atomic_load(&stage) != 1) {
		k_yield();
	}
	k_spin_unlock(&lock_a, holder_key);
	expect_fault(0, "k_spin_unlock", SIM_MSG_SPIN_NON_OWNER, &lock_a);
	atomic_store(&stage, 2);
	assert_int_equal(k_thread_join(&holder, K_FOREVER), 0);
	assert_int_equal(sim_fault_count(), 1);
}

static k_spinlock_key_t isr_key;

static void isr_takes_lock(const void *arg)
{
	(void)arg;
	isr_key = k_spin_lock(&lock_a);
}

static void test_recursive_from_isr(void **state)
{
	(void)state;
	k_spinlock_key_t k = k_spin_lock(&lock_a);
	irq_offload(isr_takes_lock, NULL);
	expect_fault(0, "k_spin_lock", SIM_MSG_SPIN_RECURSIVE_ISR, &lock_a);
	k_spin_unlock(&lock_a, isr_key);
	k_spin_unlock(&lock_a, k);
	assert_int_equal(sim_fault_count(), 1);
	/* Without the thread holding it, the ISR takes it cleanly. */
	irq_offload(isr_takes_lock, NULL);
	assert_int_equal(sim_fault_count(), 2);
	expect_fault(1, "isr", SIM_MSG_ISR_WITH_LOCK, NULL);
}

static void exit_holding(void *a, void *b, void *c)
{
	(void)a;
	(void)b;
	(void)c;
	k_spin_lock(&lock_b);
}

static void test_exit_with_lock(void **state)
{
	(void)state;
	k_thread_create(&holder, holder_stack,
			K_THREAD_STACK_SIZEOF(holder_stack), exit_holding, NULL,
			NULL, NULL, 5, 0, K_NO_WAIT);
	assert_int_equal(k_thread_join(&holder, K_FOREVER), 0);
	expect_fault(0, "k_thread_exit", SIM_MSG_EXIT_WITH_LOCK, &holder);
}

static struct k_sem isr_sem;
static int isr_rc;

static void isr_blocks(const void *arg)
{
	(void)arg;
	isr_rc = k_sem_take(&isr_sem, K_TICKS(5));
}

static void isr_sleeps(const void *arg)
{
	(void)arg;
	k_sleep(K_TICKS(3));
}

static _wait_q_t isr_wq;

static void isr_pends(const void *arg)
{
	(void)arg;
	k_spinlock_key_t k = k_spin_lock(&lock_b);
	isr_rc = z_pend_curr(&lock_b, k, &isr_wq, K_TICKS(5));
}

static void test_blocking_in_isr(void **state)
{
	(void)state;
	k_sem_init(&isr_sem, 0, 1);
	irq_offload(isr_blocks, NULL);
	assert_int_equal(isr_rc, -EBUSY);
	expect_fault(0, "k_sem_take", SIM_MSG_BLOCK_IN_ISR, &isr_sem);
	irq_offload(isr_sleeps, NULL);
	expect_fault(1, "k_sleep", SIM_MSG_BLOCK_IN_ISR, NULL);
	irq_offload(isr_pends, NULL);
	assert_int_equal(isr_rc, -EAGAIN);
	expect_fault(2, "z_pend_curr", SIM_MSG_BLOCK_IN_ISR, &isr_wq);
	/* z_pend_curr released the lock even so. */
	k_spinlock_key_t k = k_spin_lock(&lock_b);
	k_spin_unlock(&lock_b, k);
	assert_int_equal(sim_fault_count(), 3);
	assert_int_equal(k_uptime_ticks(), 0);
}

static void idle_entry(void *a, void *b, void *c)
{
	(void)a;
	(void)b;
	(void)c;
	k_sleep(K_TICKS(10));
}

static void test_create_live_object(void **state)
{
	(void)state;
	k_thread_create(&holder, holder_stack,
			K_THREAD_STACK_SIZEOF(holder_stack), idle_entry, NULL,
			NULL, NULL, 5, 0, K_NO_WAIT);
	k_thread_create(&holder, holder_stack,
			K_THREAD_STACK_SIZEOF(holder_stack), idle_entry, NULL,
			NULL, NULL, 5, 0, K_NO_WAIT);
	expect_fault(0, "k_thread_create", SIM_MSG_THREAD_IN_USE, &holder);
	assert_int_equal(k_thread_join(&holder, K_FOREVER), 0);
	assert_int_equal(k_uptime_ticks(), 10);
}

static void test_port_fault_format(void **state)
{
	(void)state;
	void *heap = (void *)(uintptr_t)0x1000;
	void *ptr = (void *)(uintptr_t)0x2008;

	kheap_port_fault("k_heap_free", "double free", heap, ptr);
	struct sim_fault f;
	assert_true(sim_fault_last(&f));
	assert_int_equal(sim_fault_count(), 1);
	char text[320];
	snprintf(text, sizeof(text),
		 "kheap fault: k_heap_free(%p) on heap %p: double free", ptr,
		 heap);
	assert_string_equal(f.text, text);
	assert_string_equal(sim_fault_last_message(), "double free");
	assert_string_equal(sim_fault_last_operation(), "k_heap_free");
	sim_fault_clear();
	assert_int_equal(sim_fault_count(), 0);
	assert_false(sim_fault_last(NULL));
}

/* Without capture: the report goes to stderr and the process aborts. */
static void test_default_handler_aborts(void **state)
{
	(void)state;
	int fds[2];
	assert_int_equal(pipe(fds), 0);
	fflush(stdout);
	fflush(stderr);
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		dup2(fds[1], 2);
		close(fds[0]);
		sim_fault_capture(false);
		k_spin_lock(&lock_a);
		k_spin_lock(&lock_a);
		_exit(0);
	}
	close(fds[1]);
	char out[2048];
	size_t len = 0;
	ssize_t n;
	while ((n = read(fds[0], out + len, sizeof(out) - 1 - len)) > 0) {
		len += (size_t)n;
	}
	out[len] = '\0';
	close(fds[0]);
	int status;
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFSIGNALED(status));
	assert_int_equal(WTERMSIG(status), SIGABRT);
	char expect[320];
	snprintf(expect, sizeof(expect), "kheap fault: k_spin_lock(%p): %s\n",
		 (void *)&lock_a, SIM_MSG_SPIN_RECURSIVE);
	assert_non_null(strstr(out, expect));
	assert_non_null(strstr(out, "in thread \"main\" at tick 0"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_default_handler_aborts,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_lock_unlock_ok, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_recursive, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_wrong_key, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_not_held, setup, teardown),
		cmocka_unit_test_setup_teardown(test_non_owner_det, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_non_owner_parallel, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_recursive_from_isr, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_exit_with_lock, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_blocking_in_isr, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_create_live_object, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_port_fault_format, setup,
						teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
