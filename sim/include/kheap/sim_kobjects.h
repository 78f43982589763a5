/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The simulator's kernel objects beyond threads and semaphores, with
 * Zephyr's API and semantics: k_queue (and k_fifo, k_lifo over it),
 * k_msgq, k_mutex and k_condvar. Part of <zephyr/kernel.h>, which
 * includes it; include that instead. Differences from Zephyr are listed
 * in docs/simulator.md.
 *
 * Rules for every function here:
 * - Callable from any simulated thread, in both schedules. Waiters are
 *   served most urgent first, then in the order they started waiting;
 *   what a waiter receives is handed to it directly (an item, a message,
 *   the mutex), so a thread that was woken never finds it gone.
 * - A timeout other than K_NO_WAIT from an ISR is a fault
 *   (SIM_MSG_BLOCK_IN_ISR, checked on entry as Zephyr asserts); the call
 *   then returns its K_NO_WAIT failure value and changes nothing. Mutexes
 *   are not for ISRs at all (SIM_MSG_MUTEX_IN_ISR). A blocking call with
 *   a spinlock held is reported (SIM_MSG_BLOCK_WITH_LOCK) and carries on.
 * - Functions that allocate (k_queue_alloc_append, k_queue_alloc_prepend,
 *   k_msgq_alloc_init) take memory from the calling thread's resource
 *   pool (k_thread::resource_pool, z_thread_malloc), from the system heap
 *   in an ISR, never blocking; -ENOMEM when there is no pool or it is
 *   full.
 * - Each call is O(1) except where a function says otherwise, plus the
 *   simulator's scheduling.
 */
#ifndef KHEAP_SIM_KOBJECTS_H
#define KHEAP_SIM_KOBJECTS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <zephyr/kernel.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ---- k_queue ---------------------------------------------------------- */

/*
 * A queue of data items. An item's first word belongs to the kernel while
 * the item is queued (Zephyr's rule: items start with a reserved
 * pointer-sized member and are at least 4-byte aligned); the *_alloc_*
 * functions instead queue a wrapper allocated from the caller's resource
 * pool, freed again when the item is taken, so any pointer can be queued.
 */
struct k_queue {
	void *head; /* first node; nodes link through their first word */
	void *tail;
	_wait_q_t wait_q;
};

#define Z_QUEUE_INITIALIZER(obj)                                               \
	{                                                                      \
		.head = NULL, .tail = NULL, .wait_q = {{0}},                   \
	}

#define K_QUEUE_DEFINE(name) struct k_queue name = Z_QUEUE_INITIALIZER(name)

/** Make `queue` empty, with no waiters. Not for a queue in use. */
void k_queue_init(struct k_queue *queue);

/** Make the most urgent thread waiting in k_queue_get() (if any) return
 * NULL at once, as if its timeout had expired. ISR-safe. */
void k_queue_cancel_wait(struct k_queue *queue);

/**
 * Add `data` at the tail, or hand it to the most urgent waiter. `data`
 * must be non-NULL and 4-byte aligned (else a fault, SIM_MSG_QUEUE_ITEM,
 * and nothing is queued). ISR-safe.
 */
void k_queue_append(struct k_queue *queue, void *data);

/**
 * k_queue_append() of any pointer: when no thread is waiting, a wrapper
 * is allocated from the caller's resource pool (the system heap in an
 * ISR) and freed when the item is taken. 0, or -ENOMEM if no thread was
 * waiting and the allocation failed (no pool, or it is full). ISR-safe.
 */
int32_t k_queue_alloc_append(struct k_queue *queue, void *data);

/** Like k_queue_append(), at the head. ISR-safe. */
void k_queue_prepend(struct k_queue *queue, void *data);

/** Like k_queue_alloc_append(), at the head. ISR-safe. */
int32_t k_queue_alloc_prepend(struct k_queue *queue, void *data);

/**
 * Insert `data` after the item `prev` (NULL: at the head), or hand it to
 * a waiter. O(n): `prev` must be an item of this queue (else a fault,
 * SIM_MSG_QUEUE_PREV, and nothing is queued). ISR-safe.
 */
void k_queue_insert(struct k_queue *queue, void *prev, void *data);

/**
 * Add a list of items linked through their first words, from `head` to
 * `tail` (its link is overwritten): the first items go to waiting
 * threads, one each, the rest to the tail. O(n). 0, -EINVAL if head or
 * tail is NULL (a fault, SIM_MSG_QUEUE_LIST or SIM_MSG_QUEUE_ITEM, if
 * tail is not reachable or an item is misaligned; then nothing is
 * queued). ISR-safe.
 */
int k_queue_append_list(struct k_queue *queue, void *head, void *tail);

/**
 * Take the item at the head, waiting up to `timeout` for one. Returns the
 * item, or NULL on timeout, with K_NO_WAIT if empty, or when
 * k_queue_cancel_wait() woke the caller. ISR-safe with K_NO_WAIT.
 */
void *k_queue_get(struct k_queue *queue, k_timeout_t timeout);

/** Remove `data` (queued by a non-allocating call) from the queue; true
 * if it was there. Items queued by the *_alloc_* calls are not found
 * (as in Zephyr). O(n). ISR-safe. */
bool k_queue_remove(struct k_queue *queue, void *data);

/** k_queue_append() unless `data` is already queued (false then). O(n).
 * ISR-safe. */
bool k_queue_unique_append(struct k_queue *queue, void *data);

/** Non-zero if no item is queued. ISR-safe. */
int k_queue_is_empty(struct k_queue *queue);

/** The item at the head / tail without removing it, or NULL. ISR-safe. */
void *k_queue_peek_head(struct k_queue *queue);
void *k_queue_peek_tail(struct k_queue *queue);

/* ---- k_fifo and k_lifo -------------------------------------------------- */

/* First in, first out: a k_queue used at the tail. */
struct k_fifo {
	struct k_queue _queue;
};

#define Z_FIFO_INITIALIZER(obj)                                                \
	{                                                                      \
		._queue = Z_QUEUE_INITIALIZER(obj._queue)                      \
	}
#define K_FIFO_DEFINE(name) struct k_fifo name = Z_FIFO_INITIALIZER(name)

#define k_fifo_init(fifo) k_queue_init(&(fifo)->_queue)
#define k_fifo_cancel_wait(fifo) k_queue_cancel_wait(&(fifo)->_queue)
#define k_fifo_put(fifo, data) k_queue_append(&(fifo)->_queue, (void *)(data))
#define k_fifo_alloc_put(fifo, data)                                           \
	k_queue_alloc_append(&(fifo)->_queue, (void *)(data))
#define k_fifo_put_list(fifo, head, tail)                                      \
	k_queue_append_list(&(fifo)->_queue, head, tail)
#define k_fifo_get(fifo, timeout) k_queue_get(&(fifo)->_queue, timeout)
#define k_fifo_is_empty(fifo) k_queue_is_empty(&(fifo)->_queue)
#define k_fifo_peek_head(fifo) k_queue_peek_head(&(fifo)->_queue)
#define k_fifo_peek_tail(fifo) k_queue_peek_tail(&(fifo)->_queue)

/* Last in, first out: a k_queue used at the head. */
struct k_lifo {
	struct k_queue _queue;
};

#define Z_LIFO_INITIALIZER(obj)                                                \
	{                                                                      \
		._queue = Z_QUEUE_INITIALIZER(obj._queue)                      \
	}
#define K_LIFO_DEFINE(name) struct k_lifo name = Z_LIFO_INITIALIZER(name)

#define k_lifo_init(lifo) k_queue_init(&(lifo)->_queue)
#define k_lifo_put(lifo, data) k_queue_prepend(&(lifo)->_queue, (void *)(data))
#define k_lifo_alloc_put(lifo, data)                                           \
	k_queue_alloc_prepend(&(lifo)->_queue, (void *)(data))
#define k_lifo_get(lifo, timeout) k_queue_get(&(lifo)->_queue, timeout)

/* ---- k_msgq ------------------------------------------------------------- */

/* The queue's buffer was allocated by k_msgq_alloc_init(). */
#define K_MSGQ_FLAG_ALLOC 0x1u

/* A ring of max_msgs messages of msg_size bytes, copied in and out. */
struct k_msgq {
	_wait_q_t wait_q; /* senders while full, receivers while empty */
	size_t msg_size;
	uint32_t max_msgs;
	char *buffer_start;
	char *buffer_end;
	char *read_ptr;
	char *write_ptr;
	uint32_t used_msgs;
	uint8_t flags;
};

struct k_msgq_attrs {
	size_t msg_size;
	uint32_t max_msgs;
	uint32_t used_msgs;
};

#define Z_MSGQ_INITIALIZER(obj, q_buffer, q_msg_size, q_max_msgs)              \
	{                                                                      \
		.wait_q = {{0}}, .msg_size = (q_msg_size),                     \
		.max_msgs = (q_max_msgs), .buffer_start = (q_buffer),          \
		.buffer_end = (q_buffer) + (q_max_msgs) * (q_msg_size),        \
		.read_ptr = (q_buffer), .write_ptr = (q_buffer),               \
		.used_msgs = 0, .flags = 0,                                    \
	}

/* A queue of q_max_msgs messages of q_msg_size bytes in a buffer aligned
 * to q_align bytes (a power of two). */
#define K_MSGQ_DEFINE(q_name, q_msg_size, q_max_msgs, q_align)                 \
	static char __attribute__((__aligned__(q_align)))                      \
	kheap_msgq_buffer_##q_name[(q_max_msgs) * (q_msg_size)];               \
	struct k_msgq q_name = Z_MSGQ_INITIALIZER(                             \
		q_name, kheap_msgq_buffer_##q_name, q_msg_size, q_max_msgs)

/** Set `msgq` up over `buffer` (max_msgs * msg_size bytes). Not for a
 * queue in use. */
void k_msgq_init(struct k_msgq *msgq, char *buffer, size_t msg_size,
		 uint32_t max_msgs);

/**
 * k_msgq_init() over a buffer allocated from the caller's resource pool
 * (the system heap in an ISR). 0, -ENOMEM (no pool, or it is full),
 * -EINVAL (msg_size * max_msgs overflows). Release with k_msgq_cleanup().
 */
int k_msgq_alloc_init(struct k_msgq *msgq, size_t msg_size, uint32_t max_msgs);

/** Free the buffer of a k_msgq_alloc_init() queue (nothing for one set up
 * by k_msgq_init). 0, or -EBUSY while threads wait on it. */
int k_msgq_cleanup(struct k_msgq *msgq);

/**
 * Copy msg_size bytes from `data` into the queue, or straight into the
 * most urgent waiting receiver; when full, wait up to `timeout` for room.
 * 0, -ENOMSG (full with K_NO_WAIT, or purged while waiting), -EAGAIN
 * (timeout). ISR-safe with K_NO_WAIT.
 */
int k_msgq_put(struct k_msgq *msgq, const void *data, k_timeout_t timeout);

/**
 * Copy the oldest message into `data` (then the most urgent waiting
 * sender's message joins the queue), waiting up to `timeout` for one.
 * 0, -ENOMSG (empty with K_NO_WAIT, or purged while waiting), -EAGAIN
 * (timeout). ISR-safe with K_NO_WAIT.
 */
int k_msgq_get(struct k_msgq *msgq, void *data, k_timeout_t timeout);

/** Copy the oldest message without removing it: 0, or -ENOMSG if empty.
 * ISR-safe. */
int k_msgq_peek(struct k_msgq *msgq, void *data);

/** Copy message `idx` (0: the oldest): 0, or -ENOMSG if there are not
 * that many. ISR-safe. */
int k_msgq_peek_at(struct k_msgq *msgq, void *data, uint32_t idx);

/** Drop every message; waiting senders return -ENOMSG. O(waiters).
 * ISR-safe. */
void k_msgq_purge(struct k_msgq *msgq);

/** Messages the queue has room for / holds. ISR-safe. */
uint32_t k_msgq_num_free_get(struct k_msgq *msgq);
uint32_t k_msgq_num_used_get(struct k_msgq *msgq);

/** The queue's message size, capacity and fill. ISR-safe. */
void k_msgq_get_attrs(struct k_msgq *msgq, struct k_msgq_attrs *attrs);

/* ---- k_mutex ------------------------------------------------------------ */

/* Priority inheritance stops at this priority (Zephyr's default: none). */
#ifndef CONFIG_PRIORITY_CEILING
#define CONFIG_PRIORITY_CEILING (-127)
#endif

/*
 * A recursive mutex with priority inheritance: while a more urgent thread
 * waits, the owner runs at the waiter's priority (at most
 * CONFIG_PRIORITY_CEILING); it gets its own back when it unlocks, or when
 * that waiter gives up (then the most urgent remaining waiter's, if more
 * urgent than its own). One level, as in Zephyr: the owner of another
 * mutex the owner waits for is not raised.
 */
struct k_mutex {
	_wait_q_t wait_q;
	struct k_thread *owner; /* NULL when unlocked */
	uint32_t lock_count;
	int owner_orig_prio; /* the owner's priority when it took the lock */
};

#define Z_MUTEX_INITIALIZER(obj)                                               \
	{                                                                      \
		.wait_q = {{0}}, .owner = NULL, .lock_count = 0,               \
		.owner_orig_prio = K_LOWEST_APPLICATION_THREAD_PRIO,           \
	}
#define K_MUTEX_DEFINE(name) struct k_mutex name = Z_MUTEX_INITIALIZER(name)

/** Make `mutex` unlocked. Returns 0. Not for a mutex in use. */
int k_mutex_init(struct k_mutex *mutex);

/**
 * Lock, waiting up to `timeout`; the owner may lock again (each lock needs
 * an unlock). 0, -EBUSY (locked by another thread, K_NO_WAIT), -EAGAIN
 * (timeout). Threads only (in an ISR: fault, -EPERM).
 */
int k_mutex_lock(struct k_mutex *mutex, k_timeout_t timeout);

/**
 * Undo one lock; the last one hands the mutex to the most urgent waiter
 * and restores the caller's priority. 0, -EINVAL (not locked), -EPERM
 * (locked by another thread). Threads only (in an ISR: fault, -EPERM).
 */
int k_mutex_unlock(struct k_mutex *mutex);

/* ---- k_condvar ---------------------------------------------------------- */

struct k_condvar {
	_wait_q_t wait_q;
};

#define Z_CONDVAR_INITIALIZER(obj)                                             \
	{                                                                      \
		.wait_q = {{0}},                                               \
	}
#define K_CONDVAR_DEFINE(name)                                                 \
	struct k_condvar name = Z_CONDVAR_INITIALIZER(name)

/** Make `condvar` have no waiters. Returns 0. */
int k_condvar_init(struct k_condvar *condvar);

/** Wake the most urgent waiter, if any. Returns 0. ISR-safe. */
int k_condvar_signal(struct k_condvar *condvar);

/** Wake every waiter; returns how many. O(waiters). ISR-safe. */
int k_condvar_broadcast(struct k_condvar *condvar);

/**
 * Unlock `mutex` (one level, as k_mutex_unlock) and wait for a signal up
 * to `timeout`, atomically: a signal sent after the unlock is never
 * missed. The mutex is locked again (K_FOREVER) before returning, also on
 * timeout. 0 when signalled, -EAGAIN on timeout. -EPERM, without waiting,
 * if the caller does not hold `mutex` (a fault, SIM_MSG_CONDVAR_NOT_OWNER;
 * Zephyr would wait anyway) or in an ISR (fault).
 */
int k_condvar_wait(struct k_condvar *condvar, struct k_mutex *mutex,
		   k_timeout_t timeout);

#ifdef __cplusplus
}
#endif

#endif /* KHEAP_SIM_KOBJECTS_H */
