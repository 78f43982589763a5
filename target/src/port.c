/* SPDX-License-Identifier: Apache-2.0 */
/*
 * kheap/port.h for bare-metal Cortex-M: one thread of execution (the main
 * program) and interrupt handlers.
 *
 * - Lock: masks interrupts (BASEPRI on ARMv7-M/ARMv8-M mainline, PRIMASK
 *   on ARMv6-M) and returns the previous mask as the key. The lock words
 *   record the holder (IPSR + 1: 1 for the thread, one value per
 *   exception) and the key, so recursion, unlock by another context, of a
 *   free lock or with a wrong key are reported. On one CPU a lock found
 *   held at k_spin_lock can only be a recursion (or an interrupt the mask
 *   does not cover taking it), which would deadlock a real spinlock.
 * - Tick: a 64-bit counter that the SysTick handler advances; timeouts
 *   count from the next tick (kheap_port_tick_ceil).
 * - Waiting: the wait queue holds the one waiter; z_pend_curr releases
 *   the lock, then sleeps with WFI and interrupts enabled until an
 *   interrupt handler's z_unpend_all() marks it woken or the deadline
 *   tick passes.
 */
#include <stdio.h>

#include <kheap/k_heap.h>
#include <kheap/port.h>
#include <kheap/target.h>

#include "cortex_m.h"
#include "semihost.h"
#include "target_internal.h"

#define EAGAIN_RESULT (-11)

_Static_assert(KHEAP_PORT_LOCK_WORDS >= 2, "the lock needs two words");
_Static_assert(KHEAP_PORT_WAITQ_WORDS >= 1, "the wait queue needs a word");

/* Lock words. */
#define LOCK_HOLDER 0
#define LOCK_KEY 1
/* Wait queue word: the waiting thread, or 0. */
#define WAITQ_WAITER 0

/* Set in a key returned by a refused (recursive) k_spin_lock: unlocking
 * with it only restores the mask. Masks never use bit 31. */
#define KEY_REFUSED ((uintptr_t)1u << 31)

const char target_msg_lock_recursive[] =
	"lock already held: recursive k_spin_lock, or taken from an "
	"interrupt the lock does not mask";
const char target_msg_unlock_not_held[] = "unlock of a lock that is not held";
const char target_msg_unlock_not_owner[] =
	"unlock from a context that does not hold the lock";
const char target_msg_unlock_wrong_key[] =
	"unlock with a key other than the one k_spin_lock returned";
const char target_msg_pend_in_isr[] = "z_pend_curr called from an ISR";
const char target_msg_pend_without_lock[] =
	"z_pend_curr called without holding the lock";

/* ---- the thread --------------------------------------------------------- */

static struct k_thread main_thread;
static volatile bool main_thread_woken;

struct k_thread *k_current_get(void)
{
	return &main_thread;
}

struct kheap_thread_data *kheap_port_thread_data(struct k_thread *thread)
{
	if (thread != NULL) {
		return &thread->kheap;
	}
	return k_is_in_isr() ? NULL : &main_thread.kheap;
}

bool k_is_in_isr(void)
{
	return (target_ipsr() & 0x1ffu) != 0u;
}

static uintptr_t context_id(void)
{
	return (uintptr_t)(target_ipsr() & 0x1ffu) + 1u;
}

/* ---- faults ------------------------------------------------------------- */

static volatile target_fault_hook_t fault_hook;

void target_fault_hook_set(target_fault_hook_t hook)
{
	fault_hook = hook;
}

void kheap_port_fault(const char *operation, const char *message,
		      const void *object, const void *pointer)
{
	target_fault_hook_t hook = fault_hook;

	if (hook != NULL) {
		hook(operation, message, object, pointer);
		return;
	}
	if (!k_is_in_isr()) {
		fflush(stdout);
	}
	semihost_write0("kheap fault: ");
	semihost_write0(operation != NULL ? operation : "?");
	semihost_write0("(");
	semihost_write_hex((uint32_t)(uintptr_t)pointer);
	semihost_write0(") on heap ");
	semihost_write_hex((uint32_t)(uintptr_t)object);
	semihost_write0(": ");
	semihost_write0(message != NULL ? message : "?");
	semihost_write0(k_is_in_isr() ? " [in ISR]\n" : "\n");
	semihost_exit(TARGET_EXIT_KHEAP_FAULT);
}

/* ---- interrupt masking -------------------------------------------------- */

static inline uintptr_t mask_raise(void)
{
#if TARGET_LOCK_USES_BASEPRI
	uintptr_t old = target_basepri();

	/* BASEPRI_MAX only ever raises the masking level, so a nested lock
	 * taken at a higher level keeps it. */
	__asm__ volatile("msr basepri_max, %0" ::"r"(TARGET_LOCK_BASEPRI)
			 : "memory");
	return old;
#else
	return target_irq_save();
#endif
}

static inline void mask_restore(uintptr_t key)
{
#if TARGET_LOCK_USES_BASEPRI
	__asm__ volatile("msr basepri, %0" ::"r"(key) : "memory");
#else
	target_irq_restore((uint32_t)key);
#endif
	/* A now unmasked pending interrupt is taken before what follows. */
	__asm__ volatile("isb" ::: "memory");
}

/* ---- the lock ----------------------------------------------------------- */

k_spinlock_key_t k_spin_lock(struct k_spinlock *lock)
{
	k_spinlock_key_t key = {.key = mask_raise()};

	if (lock->port_state[LOCK_HOLDER] != 0u) {
		kheap_port_fault("k_spin_lock", target_msg_lock_recursive, lock,
				 NULL);
		key.key |= KEY_REFUSED;
		return key;
	}
	lock->port_state[LOCK_HOLDER] = context_id();
	lock->port_state[LOCK_KEY] = key.key;
	return key;
}

void k_spin_unlock(struct k_spinlock *lock, k_spinlock_key_t key)
{
	const char *problem = NULL;

	if ((key.key & KEY_REFUSED) != 0u) {
		mask_restore(key.key & ~KEY_REFUSED);
		return;
	}
	if (lock->port_state[LOCK_HOLDER] == 0u) {
		problem = target_msg_unlock_not_held;
	} else if (lock->port_state[LOCK_HOLDER] != context_id()) {
		problem = target_msg_unlock_not_owner;
	} else if (lock->port_state[LOCK_KEY] != key.key) {
		problem = target_msg_unlock_wrong_key;
	}
	if (problem != NULL) {
		/* Refused: the lock and the mask stay as they are. */
		kheap_port_fault("k_spin_unlock", problem, lock, NULL);
		return;
	}
	lock->port_state[LOCK_HOLDER] = 0u;
	mask_restore(key.key);
}

/* ---- time --------------------------------------------------------------- */

/* Written by the SysTick handler only; read with interrupts masked. */
static volatile uint64_t tick_count;
static volatile target_tick_hook_t tick_hook;

void SysTick_Handler(void)
{
	uint64_t tick = tick_count + 1u;
	target_tick_hook_t hook = tick_hook;

	tick_count = tick;
	if (hook != NULL) {
		hook((int64_t)tick);
	}
}

void target_tick_hook_set(target_tick_hook_t hook)
{
	tick_hook = hook;
	cortex_m_barrier();
}

int64_t sys_clock_tick_get(void)
{
	uint32_t primask = target_irq_save();
	uint64_t tick = tick_count;

	target_irq_restore(primask);
	return (int64_t)tick;
}

int64_t kheap_port_tick_ceil(void)
{
	/* The counter says which tick it is, not how far into it: a
	 * timeout counts from the next one, so that it never ends early
	 * (and lasts up to a tick longer). */
	return sys_clock_tick_get() + 1;
}

/* With PRIMASK set (so nothing is missed between the check and the
 * sleep), sleep until an interrupt is pending, then let it run. WFI wakes
 * for a pending interrupt even while PRIMASK masks it. */
static inline void wait_for_interrupt(void)
{
	__asm__ volatile("wfi\n\t"
			 "cpsie i\n\t"
			 "isb\n\t"
			 "cpsid i" ::
				 : "memory");
}

void target_sleep_ticks(uint32_t ticks)
{
	uint32_t primask = target_irq_save();
	uint64_t end = tick_count + ticks;

	while (tick_count < end) {
		wait_for_interrupt();
	}
	target_irq_restore(primask);
}

/* ---- waiting ------------------------------------------------------------ */

static struct target_wait_stats wait_stats;

void target_wait_stats_get(struct target_wait_stats *stats)
{
	uint32_t primask = target_irq_save();

	*stats = wait_stats;
	target_irq_restore(primask);
}

int z_pend_curr(struct k_spinlock *lock, k_spinlock_key_t key,
		_wait_q_t *wait_q, k_timeout_t timeout)
{
	if (k_is_in_isr()) {
		kheap_port_fault("z_pend_curr", target_msg_pend_in_isr, wait_q,
				 NULL);
		k_spin_unlock(lock, key);
		return EAGAIN_RESULT;
	}
	if (lock->port_state[LOCK_HOLDER] != context_id() ||
	    (key.key & KEY_REFUSED) != 0u) {
		kheap_port_fault("z_pend_curr", target_msg_pend_without_lock,
				 wait_q, NULL);
		return EAGAIN_RESULT;
	}
	/* Interrupts that could wake us are masked from here on: queue
	 * ourselves and release the lock (its mask stays until the loop). */
	uint32_t primask = target_irq_save();
	uint64_t start = tick_count;
	uint64_t deadline = UINT64_MAX;

	if (timeout.ticks != K_TICKS_FOREVER) {
		deadline = start +
			   (timeout.ticks > 0 ? (uint64_t)timeout.ticks : 0u);
	}
	main_thread_woken = false;
	wait_q->port_state[WAITQ_WAITER] = (uintptr_t)&main_thread;
	lock->port_state[LOCK_HOLDER] = 0u;
	wait_stats.pends++;

#if TARGET_LOCK_USES_BASEPRI
	/* Only PRIMASK masks now, and WFI wakes for every interrupt. */
	__asm__ volatile("msr basepri, %0" ::"r"(0u) : "memory");
#endif
	while (!main_thread_woken && tick_count < deadline) {
		wait_for_interrupt();
	}

	int result = 0;

	if (main_thread_woken) {
		wait_stats.woken++;
	} else {
		result = EAGAIN_RESULT;
		wait_stats.timed_out++;
		if (wait_q->port_state[WAITQ_WAITER] ==
		    (uintptr_t)&main_thread) {
			wait_q->port_state[WAITQ_WAITER] = 0u;
		}
	}
	wait_stats.last_start_tick = (int64_t)start;
	wait_stats.last_end_tick = (int64_t)tick_count;
	main_thread_woken = false;

	/* Back to the caller's mask from before k_spin_lock. */
#if TARGET_LOCK_USES_BASEPRI
	mask_restore(key.key);
	target_irq_restore(primask);
#else
	(void)primask;
	mask_restore(key.key);
#endif
	return result;
}

bool z_unpend_all(_wait_q_t *wait_q)
{
	uintptr_t waiter = wait_q->port_state[WAITQ_WAITER];

	if (waiter == 0u) {
		return false;
	}
	wait_q->port_state[WAITQ_WAITER] = 0u;
	if (waiter == (uintptr_t)&main_thread) {
		main_thread_woken = true;
	}
	return true;
}

void z_reschedule(struct k_spinlock *lock, k_spinlock_key_t key)
{
	/* One thread: nothing to switch to. From an ISR the woken thread
	 * runs when the handler returns to its wait loop. */
	k_spin_unlock(lock, key);
}

/* ---- start-up ----------------------------------------------------------- */

/* SysTick's reload register is 24 bits wide. */
#define SYST_RVR_MAX 0xffffffu

void target_port_init(uint32_t systick_clock_hz)
{
	uint32_t cycles_per_tick =
		systick_clock_hz / (uint32_t)CONFIG_SYS_CLOCK_TICKS_PER_SEC;

	z_thread_pool_init(&main_thread.kheap);
	SYST_CSR = 0u;
	if (cycles_per_tick < 2u || cycles_per_tick - 1u > SYST_RVR_MAX) {
		kheap_port_fault("target_port_init",
				 "SysTick reload out of range for this clock",
				 NULL, NULL);
		return;
	}
	SYST_RVR = cycles_per_tick - 1u;
	SYST_CVR = 0u;
	SYST_CSR = SYST_CSR_ENABLE | SYST_CSR_TICKINT | SYST_CSR_CLKSOURCE;
}
