/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Spinlocks that validate their use.
 *
 * port_state[0] holds the owner: the address of the owning pthread's
 * sim_tls (one per pthread, i.e. per simulated CPU context: an ISR run by
 * irq_offload or delivered to a thread shares its thread's CPU), 0 when
 * free. port_state[1] holds the key issued with the lock. Both words are
 * accessed atomically; acquisition is an acquire CAS on the owner word,
 * release an atomic store with release order.
 *
 * Keys are odd and unique per acquisition (a per-pthread sequence mixed
 * with the owner), so a key from another acquisition, or a zeroed one,
 * is recognised as wrong. A faulted k_spin_lock returns KEY_FAULTED (even,
 * never issued) without taking the lock; unlocking with it does nothing.
 */
#include "sim_internal.h"

#include <sched.h>

#define KEY_FAULTED ((uintptr_t)2)

static uintptr_t cpu_token(void)
{
	return (uintptr_t)&sim_tls;
}

k_spinlock_key_t k_spin_lock(struct k_spinlock *lock)
{
	const uintptr_t me = cpu_token();
	uintptr_t owner =
		__atomic_load_n(&lock->port_state[0], __ATOMIC_RELAXED);

	if (owner == me) {
		sim_fault("k_spin_lock",
			  sim_tls.isr_depth > 0 ? SIM_MSG_SPIN_RECURSIVE_ISR
						: SIM_MSG_SPIN_RECURSIVE,
			  NULL, lock);
		return (k_spinlock_key_t){.key = KEY_FAULTED};
	}
	if (owner != 0 && sim_is_det()) {
		/* One CPU: the holder is not running and cannot release it
		 * before we would spin for ever. */
		sim_fault("k_spin_lock", SIM_MSG_SPIN_HELD_ELSEWHERE, NULL,
			  lock);
		return (k_spinlock_key_t){.key = KEY_FAULTED};
	}
	for (unsigned int spins = 0;; spins++) {
		uintptr_t expected = 0;
		if (__atomic_load_n(&lock->port_state[0], __ATOMIC_RELAXED) ==
			    0 &&
		    __atomic_compare_exchange_n(&lock->port_state[0], &expected,
						me, false, __ATOMIC_ACQUIRE,
						__ATOMIC_RELAXED)) {
			break;
		}
		if (spins >= 16) {
			sched_yield();
		}
	}
	uintptr_t key =
		(uintptr_t)((++sim_tls.key_seq) * 0x9E3779B97F4A7C15ULL);
	key = ((key ^ me) << 1) | 1;
	__atomic_store_n(&lock->port_state[1], key, __ATOMIC_RELAXED);
	sim_tls.hold_depth++;
	return (k_spinlock_key_t){.key = key};
}

/* Validate and release; false if the unlock faulted (nothing released). */
static bool release(struct k_spinlock *lock, k_spinlock_key_t key,
		    const char *op)
{
	if (key.key == KEY_FAULTED) {
		return false;
	}
	uintptr_t owner =
		__atomic_load_n(&lock->port_state[0], __ATOMIC_RELAXED);
	if (owner == 0) {
		sim_fault(op, SIM_MSG_SPIN_NOT_HELD, NULL, lock);
		return false;
	}
	if (owner != cpu_token()) {
		sim_fault(op, SIM_MSG_SPIN_NON_OWNER, NULL, lock);
		return false;
	}
	if (__atomic_load_n(&lock->port_state[1], __ATOMIC_RELAXED) !=
	    key.key) {
		sim_fault(op, SIM_MSG_SPIN_WRONG_KEY, NULL, lock);
		return false;
	}
	sim_tls.hold_depth--;
	__atomic_store_n(&lock->port_state[1], 0, __ATOMIC_RELAXED);
	__atomic_store_n(&lock->port_state[0], 0, __ATOMIC_RELEASE);
	return true;
}

void sim_spin_release(struct k_spinlock *lock, k_spinlock_key_t key,
		      const char *op)
{
	release(lock, key, op);
}

void k_spin_unlock(struct k_spinlock *lock, k_spinlock_key_t key)
{
	if (!release(lock, key, "k_spin_unlock")) {
		return;
	}
	/* Releasing the last lock unmasks interrupts: deterministic mode
	 * delivers due real-clock interrupts here and, with the preempt
	 * knob, may switch threads. */
	if (sim_tls.hold_depth == 0 && sim_tls.isr_depth == 0 && sim_tls.self &&
	    sim_is_det() &&
	    (!sim_is_virtual() ||
	     atomic_load_explicit(&sim_preempt_now, memory_order_relaxed) >
		     0)) {
		sim_point(sim_tls.self, true);
	}
}
