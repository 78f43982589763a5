/* SPDX-License-Identifier: Apache-2.0 */
/*
 * k_msgq: a ring buffer of fixed-size messages with one wait queue, which
 * holds senders while the ring is full and receivers while it is empty
 * (never both: a sender waits only on a full ring, a receiver only on an
 * empty one). A waiter's swap_data is its message buffer; the thread that
 * wakes it copies the message in or out, so a woken thread's operation
 * is complete. All of it is guarded by sim.mtx.
 */
#include "sim_internal.h"

#include <errno.h>
#include <string.h>

/* ---- the ring (sim.mtx held) -------------------------------------------- */

static char *ring_advance(const struct k_msgq *msgq, char *slot)
{
	slot += msgq->msg_size;
	return slot == msgq->buffer_end ? msgq->buffer_start : slot;
}

static void ring_write(struct k_msgq *msgq, const void *data)
{
	memcpy(msgq->write_ptr, data, msgq->msg_size);
	msgq->write_ptr = ring_advance(msgq, msgq->write_ptr);
	msgq->used_msgs++;
}

static void ring_read(struct k_msgq *msgq, void *data)
{
	memcpy(data, msgq->read_ptr, msgq->msg_size);
	msgq->read_ptr = ring_advance(msgq, msgq->read_ptr);
	msgq->used_msgs--;
}

/* Message `idx` (0: the oldest); idx < used_msgs. */
static const char *ring_at(const struct k_msgq *msgq, uint32_t idx)
{
	size_t ring_bytes = (size_t)(msgq->buffer_end - msgq->buffer_start);

	if (ring_bytes == 0u) {
		return msgq->read_ptr; /* 0-byte messages */
	}
	size_t offset = (size_t)(msgq->read_ptr - msgq->buffer_start) +
			(size_t)idx * msgq->msg_size;

	return msgq->buffer_start + offset % ring_bytes;
}

/* ---- set-up -------------------------------------------------------------- */

void k_msgq_init(struct k_msgq *msgq, char *buffer, size_t msg_size,
		 uint32_t max_msgs)
{
	msgq->wait_q.port_state[0] = 0;
	msgq->wait_q.port_state[1] = 0;
	msgq->msg_size = msg_size;
	msgq->max_msgs = max_msgs;
	msgq->buffer_start = buffer;
	msgq->buffer_end = buffer + (size_t)max_msgs * msg_size;
	msgq->read_ptr = buffer;
	msgq->write_ptr = buffer;
	msgq->used_msgs = 0;
	msgq->flags = 0;
}

int k_msgq_alloc_init(struct k_msgq *msgq, size_t msg_size, uint32_t max_msgs)
{
	if (max_msgs != 0u && msg_size > SIZE_MAX / max_msgs) {
		return -EINVAL;
	}
	sim_init_once();
	char *buffer = sim_pool_alloc(msg_size * max_msgs);

	if (buffer == NULL) {
		return -ENOMEM;
	}
	k_msgq_init(msgq, buffer, msg_size, max_msgs);
	msgq->flags = K_MSGQ_FLAG_ALLOC;
	return 0;
}

int k_msgq_cleanup(struct k_msgq *msgq)
{
	sim_init_once();
	sim_lock();
	if (sim_wq_head_locked(&msgq->wait_q) != NULL) {
		sim_unlock();
		return -EBUSY;
	}
	char *buffer = NULL;

	if ((msgq->flags & K_MSGQ_FLAG_ALLOC) != 0u) {
		buffer = msgq->buffer_start;
		msgq->flags &= (uint8_t)~K_MSGQ_FLAG_ALLOC;
	}
	sim_unlock();
	if (buffer != NULL) {
		sim_pool_free(buffer);
	}
	return 0;
}

/* ---- sending and receiving ------------------------------------------------ */

/* Block the caller on msgq with its buffer in swap_data (sim.mtx held;
 * sim_init_once done, so finding the caller's record takes no lock); the
 * call's result: 0 (the waker copied the message), -EAGAIN, -ENOMSG
 * (purged). */
static int wait_locked(struct k_msgq *msgq, enum sim_wait kind, void *buffer,
		       k_timeout_t timeout)
{
	struct sim_thread *self = sim_self_required(
		kind == SIM_W_MSGQ_PUT ? "k_msgq_put" : "k_msgq_get");

	self->swap_data = buffer;
	return sim_block_locked(self, kind, msgq, &msgq->wait_q,
				sim_deadline(timeout));
}

int k_msgq_put(struct k_msgq *msgq, const void *data, k_timeout_t timeout)
{
	sim_init_once();
	bool wait = !K_TIMEOUT_EQ(timeout, K_NO_WAIT);

	if (wait && !sim_may_block("k_msgq_put", msgq)) {
		sim_site_clear();
		return -ENOMSG;
	}
	int rc = 0;
	bool woke = false;

	sim_lock();
	if (msgq->used_msgs < msgq->max_msgs) {
		/* Room: waiters, if any, are receivers. */
		struct sim_thread *receiver = sim_wq_best_locked(&msgq->wait_q);

		if (receiver != NULL) {
			memcpy(receiver->swap_data, data, msgq->msg_size);
			sim_make_ready_locked(receiver, 0);
			woke = true;
		} else {
			ring_write(msgq, data);
		}
	} else if (!wait) {
		rc = -ENOMSG;
	} else {
		rc = wait_locked(msgq, SIM_W_MSGQ_PUT, (void *)data, timeout);
	}
	sim_unlock();
	sim_site_clear();
	if (woke) {
		sim_wake_point();
	}
	return rc;
}

int k_msgq_get(struct k_msgq *msgq, void *data, k_timeout_t timeout)
{
	sim_init_once();
	bool wait = !K_TIMEOUT_EQ(timeout, K_NO_WAIT);

	if (wait && !sim_may_block("k_msgq_get", msgq)) {
		sim_site_clear();
		return -ENOMSG;
	}
	int rc = 0;
	bool woke = false;

	sim_lock();
	if (msgq->used_msgs > 0u) {
		ring_read(msgq, data);
		/* Room: the most urgent waiting sender's message joins. */
		struct sim_thread *sender = sim_wq_best_locked(&msgq->wait_q);

		if (sender != NULL) {
			ring_write(msgq, sender->swap_data);
			sim_make_ready_locked(sender, 0);
			woke = true;
		}
	} else if (!wait) {
		rc = -ENOMSG;
	} else {
		rc = wait_locked(msgq, SIM_W_MSGQ_GET, data, timeout);
	}
	sim_unlock();
	sim_site_clear();
	if (woke) {
		sim_wake_point();
	}
	return rc;
}

int k_msgq_peek(struct k_msgq *msgq, void *data)
{
	return k_msgq_peek_at(msgq, data, 0);
}

int k_msgq_peek_at(struct k_msgq *msgq, void *data, uint32_t idx)
{
	sim_init_once();
	sim_lock();
	int rc = -ENOMSG;

	if (idx < msgq->used_msgs) {
		memcpy(data, ring_at(msgq, idx), msgq->msg_size);
		rc = 0;
	}
	sim_unlock();
	return rc;
}

void k_msgq_purge(struct k_msgq *msgq)
{
	sim_init_once();
	sim_lock();
	struct sim_thread *waiter;
	bool woke = false;

	while ((waiter = sim_wq_head_locked(&msgq->wait_q)) != NULL) {
		sim_make_ready_locked(waiter, -ENOMSG);
		woke = true;
	}
	msgq->used_msgs = 0;
	msgq->read_ptr = msgq->write_ptr;
	sim_unlock();
	if (woke) {
		sim_wake_point();
	}
}

uint32_t k_msgq_num_free_get(struct k_msgq *msgq)
{
	sim_init_once();
	sim_lock();
	uint32_t n = msgq->max_msgs - msgq->used_msgs;

	sim_unlock();
	return n;
}

uint32_t k_msgq_num_used_get(struct k_msgq *msgq)
{
	sim_init_once();
	sim_lock();
	uint32_t n = msgq->used_msgs;

	sim_unlock();
	return n;
}

void k_msgq_get_attrs(struct k_msgq *msgq, struct k_msgq_attrs *attrs)
{
	sim_init_once();
	sim_lock();
	attrs->msg_size = msgq->msg_size;
	attrs->max_msgs = msgq->max_msgs;
	attrs->used_msgs = msgq->used_msgs;
	sim_unlock();
}
