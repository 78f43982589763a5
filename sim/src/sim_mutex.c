/* SPDX-License-Identifier: Apache-2.0 */
/*
 * k_mutex (recursive, with one level of priority inheritance) and
 * k_condvar, on the simulator's wait queues. All state is guarded by
 * sim.mtx, so a condition variable's wait releases the mutex and queues
 * the caller in one step.
 *
 * Priority inheritance changes the owner's scheduling priority (its
 * record's prio, which k_thread_priority_get reports): the deterministic
 * schedule then runs it as Zephyr would; the parallel schedule records it
 * (priorities do not steer that schedule).
 */
#include "sim_internal.h"

#include <errno.h>

/* The more urgent of a waiter's priority and `limit`, but no more urgent
 * than CONFIG_PRIORITY_CEILING. */
static int inherited_prio(int waiter_prio, int limit)
{
	int prio = waiter_prio < limit ? waiter_prio : limit;

	return prio < CONFIG_PRIORITY_CEILING ? CONFIG_PRIORITY_CEILING : prio;
}

/* sim.mtx held. The owner's record; the owner is a live thread. */
static struct sim_thread *owner_record(const struct k_mutex *mutex)
{
	return mutex->owner != NULL ? mutex->owner->sim : NULL;
}

/* Mutexes are for threads: in an ISR, a fault and false. */
static bool thread_context(const char *op, const struct k_mutex *mutex)
{
	if (sim_tls.isr_depth > 0) {
		sim_fault(op, SIM_MSG_MUTEX_IN_ISR, NULL, mutex);
		return false;
	}
	return true;
}

int k_mutex_init(struct k_mutex *mutex)
{
	mutex->wait_q.port_state[0] = 0;
	mutex->wait_q.port_state[1] = 0;
	mutex->owner = NULL;
	mutex->lock_count = 0;
	mutex->owner_orig_prio = K_LOWEST_APPLICATION_THREAD_PRIO;
	return 0;
}

/* sim.mtx held. Take the mutex if it is free or self's; false if not. */
static bool try_lock_locked(struct k_mutex *mutex, struct sim_thread *self)
{
	if (mutex->lock_count == 0u) {
		mutex->owner = self->thread;
		mutex->owner_orig_prio = self->prio;
	} else if (mutex->owner != self->thread) {
		return false;
	}
	mutex->lock_count++;
	return true;
}

/* sim.mtx held, self waiting for the mutex has given up: the owner keeps
 * only the priority the remaining waiters give it. */
static void withdraw_inheritance_locked(struct k_mutex *mutex)
{
	struct sim_thread *owner = owner_record(mutex);

	if (owner == NULL) {
		return;
	}
	struct sim_thread *waiter = sim_wq_best_locked(&mutex->wait_q);
	int prio = mutex->owner_orig_prio;

	if (waiter != NULL) {
		prio = inherited_prio(waiter->prio, prio);
	}
	owner->prio = prio;
}

/* sim.mtx held. Lock for self, waiting up to `deadline` (the caller made
 * sure it may block): 0 or -EAGAIN. */
static int lock_wait_locked(struct k_mutex *mutex, struct sim_thread *self,
			    k_ticks_t deadline)
{
	struct sim_thread *owner = owner_record(mutex);
	int prio = inherited_prio(self->prio, owner->prio);

	if (prio < owner->prio) {
		owner->prio = prio;
	}
	/* Woken with 0 only by k_mutex_unlock handing over the mutex. */
	if (sim_block_locked(self, SIM_W_MUTEX, mutex, &mutex->wait_q,
			     deadline) == 0) {
		return 0;
	}
	withdraw_inheritance_locked(mutex);
	return -EAGAIN;
}

int k_mutex_lock(struct k_mutex *mutex, k_timeout_t timeout)
{
	sim_init_once();
	if (!thread_context("k_mutex_lock", mutex)) {
		sim_site_clear();
		return -EPERM;
	}
	struct sim_thread *self = sim_self_required("k_mutex_lock");
	int rc = 0;

	sim_lock();
	if (!try_lock_locked(mutex, self)) {
		if (K_TIMEOUT_EQ(timeout, K_NO_WAIT)) {
			rc = -EBUSY;
		} else {
			if (sim_tls.hold_depth > 0) {
				sim_fault("k_mutex_lock",
					  SIM_MSG_BLOCK_WITH_LOCK, NULL, mutex);
			}
			rc = lock_wait_locked(mutex, self,
					      sim_deadline(timeout));
		}
	}
	sim_unlock();
	sim_site_clear();
	return rc;
}

/* sim.mtx held. Undo one lock by self (the owner): the last one restores
 * its priority and hands the mutex to the most urgent waiter. */
static void unlock_locked(struct k_mutex *mutex, struct sim_thread *self)
{
	if (mutex->lock_count > 1u) {
		mutex->lock_count--;
		return;
	}
	self->prio = mutex->owner_orig_prio;
	struct sim_thread *next = sim_wq_best_locked(&mutex->wait_q);

	if (next == NULL) {
		mutex->owner = NULL;
		mutex->lock_count = 0;
		return;
	}
	/* lock_count stays 1: it is the new owner's first lock. */
	mutex->owner = next->thread;
	mutex->owner_orig_prio = next->prio;
	sim_make_ready_locked(next, 0);
}

int k_mutex_unlock(struct k_mutex *mutex)
{
	sim_init_once();
	if (!thread_context("k_mutex_unlock", mutex)) {
		return -EPERM;
	}
	struct sim_thread *self = sim_self_required("k_mutex_unlock");
	int rc = 0;

	sim_lock();
	if (mutex->owner == NULL) {
		rc = -EINVAL;
	} else if (mutex->owner != self->thread) {
		rc = -EPERM;
	} else {
		unlock_locked(mutex, self);
	}
	sim_unlock();
	if (rc == 0) {
		/* A waiter that got the mutex, or a thread more urgent than
		 * the caller's restored priority, may run now. */
		sim_wake_point();
	}
	return rc;
}

/* ---- k_condvar ------------------------------------------------------------ */

int k_condvar_init(struct k_condvar *condvar)
{
	condvar->wait_q.port_state[0] = 0;
	condvar->wait_q.port_state[1] = 0;
	return 0;
}

int k_condvar_signal(struct k_condvar *condvar)
{
	sim_init_once();
	sim_lock();
	struct sim_thread *waiter = sim_wq_best_locked(&condvar->wait_q);

	if (waiter != NULL) {
		sim_make_ready_locked(waiter, 0);
	}
	sim_unlock();
	if (waiter != NULL) {
		sim_wake_point();
	}
	return 0;
}

int k_condvar_broadcast(struct k_condvar *condvar)
{
	sim_init_once();
	sim_lock();
	int woken = 0;
	struct sim_thread *waiter;

	/* Most urgent first, so that they run in that order. */
	while ((waiter = sim_wq_best_locked(&condvar->wait_q)) != NULL) {
		sim_make_ready_locked(waiter, 0);
		woken++;
	}
	sim_unlock();
	if (woken > 0) {
		sim_wake_point();
	}
	return woken;
}

int k_condvar_wait(struct k_condvar *condvar, struct k_mutex *mutex,
		   k_timeout_t timeout)
{
	sim_init_once();
	bool wait = !K_TIMEOUT_EQ(timeout, K_NO_WAIT);

	if (!thread_context("k_condvar_wait", mutex) ||
	    (wait && !sim_may_block("k_condvar_wait", condvar))) {
		sim_site_clear();
		return -EPERM;
	}
	struct sim_thread *self = sim_self_required("k_condvar_wait");
	int rc = -EAGAIN;

	sim_lock();
	if (mutex->owner != self->thread) {
		sim_unlock();
		sim_fault("k_condvar_wait", SIM_MSG_CONDVAR_NOT_OWNER, NULL,
			  mutex);
		sim_site_clear();
		return -EPERM;
	}
	/* Release and queue under one hold of sim.mtx: no signal can come
	 * in between. */
	unlock_locked(mutex, self);
	if (wait) {
		rc = sim_block_locked(self, SIM_W_CONDVAR, condvar,
				      &condvar->wait_q, sim_deadline(timeout));
	}
	sim_unlock();
	if (!wait) {
		sim_wake_point();
	}
	(void)k_mutex_lock(mutex, K_FOREVER);
	sim_site_clear();
	return rc == 0 ? 0 : -EAGAIN;
}
