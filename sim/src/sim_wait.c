/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The port's wait-queue operations (z_pend_curr, z_unpend_all,
 * z_reschedule) and k_sem, both on the simulator's wait queues.
 */
#include "sim_internal.h"

#include <errno.h>

int z_pend_curr(struct k_spinlock *lock, k_spinlock_key_t key,
		_wait_q_t *wait_q, k_timeout_t timeout)
{
	sim_init_once();
	struct sim_thread *self = sim_tls.self;

	if (sim_tls.isr_depth > 0 || !self) {
		sim_spin_release(lock, key, "z_pend_curr");
		if (sim_tls.isr_depth > 0) {
			sim_fault("z_pend_curr", SIM_MSG_BLOCK_IN_ISR, NULL,
				  wait_q);
			return -EAGAIN;
		}
		sim_fatal("z_pend_curr called from a thread the simulator "
			  "does not manage (create threads with "
			  "k_thread_create)");
	}
	if (timeout.ticks == 0) {
		sim_spin_release(lock, key, "z_pend_curr");
		return -EAGAIN;
	}

	/* Queue first, then release the lock, all under sim.mtx: a waker
	 * needs the lock to call z_unpend_all and then sim.mtx, so it
	 * cannot slip in between. */
	sim_lock();
	k_ticks_t deadline = sim_pend_deadline(timeout);
	sim_spin_release(lock, key, "z_pend_curr");
	if (sim_tls.hold_depth > 0) {
		sim_fault("z_pend_curr", SIM_MSG_BLOCK_WITH_LOCK, NULL, wait_q);
	}
	int rc = sim_block_locked(self, SIM_W_WAITQ, wait_q, wait_q, deadline);
	sim_unlock();
	return rc == 0 ? 0 : -EAGAIN;
}

bool z_unpend_all(_wait_q_t *wait_q)
{
	/* Fast path: a waiter is queued only with the caller's lock held,
	 * so an empty queue seen here stays empty until it is released. */
	if (__atomic_load_n(&wait_q->port_state[0], __ATOMIC_RELAXED) == 0) {
		return false;
	}
	sim_lock();
	bool woke = false;
	struct sim_thread *t;
	while ((t = sim_wq_head_locked(wait_q)) != NULL) {
		sim_make_ready_locked(t, 0);
		woke = true;
	}
	sim_unlock();
	return woke;
}

void z_reschedule(struct k_spinlock *lock, k_spinlock_key_t key)
{
	sim_spin_release(lock, key, "z_reschedule");
	if (sim_tls.isr_depth > 0 || sim_tls.hold_depth > 0 || !sim_tls.self) {
		return;
	}
	sim_point(sim_tls.self, true);
}

/* ---- k_sem ------------------------------------------------------------ */

int k_sem_init(struct k_sem *sem, unsigned int initial_count,
	       unsigned int limit)
{
	if (limit == 0 || initial_count > limit) {
		return -EINVAL;
	}
	sem->count = initial_count;
	sem->limit = limit;
	sem->wait_q.port_state[0] = 0;
	sem->wait_q.port_state[1] = 0;
	return 0;
}

int k_sem_take(struct k_sem *sem, k_timeout_t timeout)
{
	sim_init_once();
	sim_lock();
	if (sem->count > 0) {
		sem->count--;
		sim_unlock();
		sim_tls.site_file = NULL;
		return 0;
	}
	if (timeout.ticks == 0) {
		sim_unlock();
		sim_tls.site_file = NULL;
		return -EBUSY;
	}
	sim_unlock();
	if (sim_tls.isr_depth > 0) {
		sim_fault("k_sem_take", SIM_MSG_BLOCK_IN_ISR, NULL, sem);
		sim_tls.site_file = NULL;
		return -EBUSY;
	}
	if (sim_tls.hold_depth > 0) {
		sim_fault("k_sem_take", SIM_MSG_BLOCK_WITH_LOCK, NULL, sem);
	}
	struct sim_thread *self = sim_self_required("k_sem_take");

	sim_lock();
	int rc;
	if (sem->count > 0) {
		sem->count--;
		rc = 0;
	} else {
		/* k_sem_give hands the count straight to the woken
		 * waiter (result 0); a timeout or reset gives -EAGAIN. */
		rc = sim_block_locked(self, SIM_W_SEM, sem, &sem->wait_q,
				      sim_deadline(timeout));
	}
	sim_unlock();
	sim_tls.site_file = NULL;
	return rc;
}

void k_sem_give(struct k_sem *sem)
{
	sim_init_once();
	sim_lock();
	struct sim_thread *w = sim_wq_best_locked(&sem->wait_q);
	if (w) {
		sim_make_ready_locked(w, 0);
	} else if (sem->count < sem->limit) {
		sem->count++;
	}
	sim_unlock();
	sim_wake_point();
}

void k_sem_reset(struct k_sem *sem)
{
	sim_init_once();
	sim_lock();
	sem->count = 0;
	struct sim_thread *w;
	while ((w = sim_wq_head_locked(&sem->wait_q)) != NULL) {
		sim_make_ready_locked(w, -EAGAIN);
	}
	struct sim_thread *self = sim_tls.self;
	bool point = self && sim_tls.isr_depth == 0 && sim_tls.hold_depth == 0;
	sim_unlock();
	if (point) {
		sim_point(self, false);
	}
}

unsigned int k_sem_count_get(struct k_sem *sem)
{
	sim_init_once();
	sim_lock();
	unsigned int n = sem->count;
	sim_unlock();
	return n;
}
