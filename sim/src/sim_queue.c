/* SPDX-License-Identifier: Apache-2.0 */
/*
 * k_queue (k_fifo and k_lifo are macros over it): a singly linked list of
 * nodes and a wait queue of threads in k_queue_get. All of it is guarded
 * by sim.mtx.
 *
 * A node is either the caller's item, whose first word the queue uses as
 * its link, or a wrapper (struct alloc_node) that the *_alloc_* calls
 * allocate from the caller's resource pool. A link word holds the address
 * of the next node with bit 0 set when the node holding it is a wrapper
 * (items are 4-byte aligned, so the low bits of an address are free).
 *
 * An item given while a thread waits goes straight to the most urgent
 * waiter (through its swap_data) and never enters the list; so a wrapper
 * is allocated only when nobody waits, as in Zephyr. The allocation is
 * made with sim.mtx released (the kernel layer takes spinlocks, which
 * come before sim.mtx in the lock order), so the call checks for waiters
 * again after it.
 */
#include "sim_internal.h"

#include <errno.h>

#define LINK_WRAPPER ((uintptr_t)1u)
#define LINK_FLAGS ((uintptr_t)3u)

struct alloc_node {
	uintptr_t link; /* first, as in every node */
	void *data;
};

enum position {
	AT_TAIL,
	AT_TAIL_UNIQUE, /* at the tail unless the item is queued already */
	AT_HEAD,
	AFTER_PREV,
};

/* ---- the list (sim.mtx held) -------------------------------------------- */

static uintptr_t *link_of(void *node)
{
	return (uintptr_t *)node;
}

static void *next_of(void *node)
{
	return (void *)(*link_of(node) & ~LINK_FLAGS);
}

static bool is_wrapper(void *node)
{
	return (*link_of(node) & LINK_WRAPPER) != 0u;
}

/* The item a node carries. */
static void *data_of(void *node)
{
	return is_wrapper(node) ? ((struct alloc_node *)node)->data : node;
}

static void set_next(void *node, void *next)
{
	*link_of(node) = (uintptr_t)next | (*link_of(node) & LINK_WRAPPER);
}

/* The node carrying `data` (an item, or a wrapper's item), or NULL. */
static void *node_of_data(struct k_queue *queue, void *data)
{
	for (void *node = queue->head; node != NULL; node = next_of(node)) {
		if (data_of(node) == data) {
			return node;
		}
	}
	return NULL;
}

/* Whether `data` itself is a node of the queue (not a wrapper's item). */
static bool is_queued_item(struct k_queue *queue, void *data)
{
	for (void *node = queue->head; node != NULL; node = next_of(node)) {
		if (node == data) {
			return true;
		}
	}
	return false;
}

/* Link `node` (its link word already says whether it is a wrapper) after
 * `prev`, or at the head when prev is NULL. */
static void list_insert(struct k_queue *queue, void *prev, void *node)
{
	if (prev == NULL) {
		set_next(node, queue->head);
		queue->head = node;
	} else {
		set_next(node, next_of(prev));
		set_next(prev, node);
	}
	if (next_of(node) == NULL) {
		queue->tail = node;
	}
}

static void *list_pop(struct k_queue *queue)
{
	void *node = queue->head;

	if (node != NULL) {
		queue->head = next_of(node);
		if (queue->head == NULL) {
			queue->tail = NULL;
		}
	}
	return node;
}

/* Hand `data` to the most urgent waiter; false if nobody waits. */
static bool hand_to_waiter(struct k_queue *queue, void *data)
{
	struct sim_thread *waiter = sim_wq_best_locked(&queue->wait_q);

	if (waiter == NULL) {
		return false;
	}
	waiter->swap_data = data;
	sim_make_ready_locked(waiter, 0);
	return true;
}

/* ---- inserting ------------------------------------------------------------ */

static bool item_ok(const void *data)
{
	return data != NULL && ((uintptr_t)data & LINK_FLAGS) == 0u;
}

/* sim.mtx held. Make `node` (the item, or with `wrapped` a wrapper of
 * it) a node and link it at `where`; false if prev is not queued. */
static bool link_at(struct k_queue *queue, enum position where, void *prev,
		    void *node, bool wrapped, void *data)
{
	void *prev_node = NULL;

	switch (where) {
	case AT_HEAD:
		break;
	case AT_TAIL:
	case AT_TAIL_UNIQUE:
		prev_node = queue->tail;
		break;
	case AFTER_PREV:
		prev_node = prev == NULL ? NULL : node_of_data(queue, prev);
		if (prev != NULL && prev_node == NULL) {
			return false;
		}
		break;
	}
	if (wrapped) {
		struct alloc_node *wrapper = node;

		wrapper->link = LINK_WRAPPER;
		wrapper->data = data;
	} else {
		*link_of(node) = 0u;
	}
	list_insert(queue, prev_node, node);
	return true;
}

/*
 * The insertion behind every put: hand `data` to a waiter, or link it (the
 * item itself, or with `alloc` a wrapper from the caller's pool) at
 * `where`. 0, -EEXIST (AT_TAIL_UNIQUE: already queued), -ENOMEM (alloc,
 * nobody waiting, no memory), or -EINVAL after a fault for a bad item or
 * prev.
 */
static int32_t queue_insert(struct k_queue *queue, enum position where,
			    void *prev, void *data, bool alloc, const char *op)
{
	sim_init_once();
	if (!alloc && !item_ok(data)) {
		sim_fault(op, SIM_MSG_QUEUE_ITEM, NULL, data);
		return -EINVAL;
	}
	struct alloc_node *wrapper = NULL;
	bool allocated = false;
	bool wrapper_used = false;
	int32_t rc;

	for (;;) {
		sim_lock();
		if (where == AT_TAIL_UNIQUE && is_queued_item(queue, data)) {
			rc = -EEXIST;
			break;
		}
		if (hand_to_waiter(queue, data)) {
			rc = 0;
			break;
		}
		if (!alloc || wrapper != NULL) {
			void *node = alloc ? (void *)wrapper : data;

			rc = link_at(queue, where, prev, node, alloc, data)
				     ? 0
				     : -EINVAL;
			wrapper_used = alloc && rc == 0;
			break;
		}
		/* Nobody waits: allocate a wrapper (sim.mtx released), then
		 * look again. */
		sim_unlock();
		if (allocated) {
			return -ENOMEM;
		}
		wrapper = sim_pool_alloc(sizeof(*wrapper));
		allocated = true;
	}
	sim_unlock();
	if (wrapper != NULL && !wrapper_used) {
		sim_pool_free(wrapper);
	}
	if (rc == -EINVAL) {
		sim_fault(op, SIM_MSG_QUEUE_PREV, NULL, prev);
	}
	sim_wake_point();
	return rc;
}

void k_queue_init(struct k_queue *queue)
{
	queue->head = NULL;
	queue->tail = NULL;
	queue->wait_q.port_state[0] = 0;
	queue->wait_q.port_state[1] = 0;
}

void k_queue_append(struct k_queue *queue, void *data)
{
	(void)queue_insert(queue, AT_TAIL, NULL, data, false, "k_queue_append");
}

int32_t k_queue_alloc_append(struct k_queue *queue, void *data)
{
	return queue_insert(queue, AT_TAIL, NULL, data, true,
			    "k_queue_alloc_append");
}

void k_queue_prepend(struct k_queue *queue, void *data)
{
	(void)queue_insert(queue, AT_HEAD, NULL, data, false,
			   "k_queue_prepend");
}

int32_t k_queue_alloc_prepend(struct k_queue *queue, void *data)
{
	return queue_insert(queue, AT_HEAD, NULL, data, true,
			    "k_queue_alloc_prepend");
}

void k_queue_insert(struct k_queue *queue, void *prev, void *data)
{
	(void)queue_insert(queue, AFTER_PREV, prev, data, false,
			   "k_queue_insert");
}

bool k_queue_unique_append(struct k_queue *queue, void *data)
{
	return queue_insert(queue, AT_TAIL_UNIQUE, NULL, data, false,
			    "k_queue_unique_append") == 0;
}

/* Whether head..tail is a chain of good items through their first
 * words; their number in *count. A cycle that misses tail is caught by a
 * second walker at half speed: after n items it is at item n / 2, the
 * walk at item n - 1, the same item for n > 2 only round a cycle. */
static bool list_ok(void *head, void *tail, size_t *count)
{
	void *slow = head;
	size_t n = 0;

	for (void *node = head; item_ok(node); node = *(void **)node) {
		n++;
		if (node == tail) {
			*count = n;
			return true;
		}
		if (n % 2u == 0u) {
			slow = *(void **)slow;
			if (n > 2u && slow == node) {
				return false;
			}
		}
	}
	return false;
}

int k_queue_append_list(struct k_queue *queue, void *head, void *tail)
{
	size_t count = 0;

	if (head == NULL || tail == NULL) {
		return -EINVAL;
	}
	sim_init_once();
	if (!list_ok(head, tail, &count)) {
		sim_fault("k_queue_append_list", SIM_MSG_QUEUE_LIST, NULL,
			  tail);
		return -EINVAL;
	}
	sim_lock();
	void *node = head;

	/* Each waiter takes one item, most urgent first. */
	while (count > 0u) {
		void *next = *(void **)node;

		if (!hand_to_waiter(queue, node)) {
			break;
		}
		node = next;
		count--;
	}
	/* The rest joins the list as it is linked (the links of items
	 * carry no flags). */
	if (count > 0u) {
		*link_of(tail) = 0u;
		if (queue->tail == NULL) {
			queue->head = node;
		} else {
			set_next(queue->tail, node);
		}
		queue->tail = tail;
	}
	sim_unlock();
	sim_wake_point();
	return 0;
}

/* ---- taking -------------------------------------------------------------- */

/* sim.mtx held. Take the head node: false if there is none; else its item
 * in *data and, if it is a wrapper, the wrapper to free (after releasing
 * sim.mtx) in *wrapper. */
static bool take_head(struct k_queue *queue, void **data, void **wrapper)
{
	void *node = list_pop(queue);

	if (node == NULL) {
		return false;
	}
	*data = data_of(node);
	*wrapper = is_wrapper(node) ? node : NULL;
	return true;
}

void *k_queue_get(struct k_queue *queue, k_timeout_t timeout)
{
	sim_init_once();
	bool wait = !K_TIMEOUT_EQ(timeout, K_NO_WAIT);
	void *data = NULL;
	void *wrapper = NULL;

	if (wait && !sim_may_block("k_queue_get", queue)) {
		sim_site_clear();
		return NULL;
	}
	sim_lock();
	if (!take_head(queue, &data, &wrapper) && wait) {
		/* sim_init_once is done: finding the record takes no lock. */
		struct sim_thread *self = sim_self_required("k_queue_get");

		/* Woken with an item in swap_data, or NULL. */
		self->swap_data = NULL;
		int rc = sim_block_locked(self, SIM_W_QUEUE, queue,
					  &queue->wait_q,
					  sim_deadline(timeout));

		data = rc == 0 ? self->swap_data : NULL;
	}
	sim_unlock();
	sim_site_clear();
	if (wrapper != NULL) {
		sim_pool_free(wrapper);
	}
	return data;
}

bool k_queue_remove(struct k_queue *queue, void *data)
{
	sim_init_once();
	sim_lock();
	void *prev = NULL;
	bool found = false;

	for (void *node = queue->head; node != NULL;
	     prev = node, node = next_of(node)) {
		if (node != data) {
			continue;
		}
		if (prev == NULL) {
			queue->head = next_of(node);
		} else {
			set_next(prev, next_of(node));
		}
		if (queue->tail == node) {
			queue->tail = prev;
		}
		found = true;
		break;
	}
	sim_unlock();
	return found;
}

void k_queue_cancel_wait(struct k_queue *queue)
{
	sim_init_once();
	sim_lock();
	bool woke = hand_to_waiter(queue, NULL);

	sim_unlock();
	if (woke) {
		sim_wake_point();
	}
}

int k_queue_is_empty(struct k_queue *queue)
{
	sim_init_once();
	sim_lock();
	int empty = queue->head == NULL;

	sim_unlock();
	return empty;
}

void *k_queue_peek_head(struct k_queue *queue)
{
	sim_init_once();
	sim_lock();
	void *data = queue->head != NULL ? data_of(queue->head) : NULL;

	sim_unlock();
	return data;
}

void *k_queue_peek_tail(struct k_queue *queue)
{
	sim_init_once();
	sim_lock();
	void *data = queue->tail != NULL ? data_of(queue->tail) : NULL;

	sim_unlock();
	return data;
}
