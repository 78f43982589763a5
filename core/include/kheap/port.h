/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The kernel port contract: everything kheap's kernel layer (k_heap,
 * k_malloc, thread resource pools) needs from a kernel, and nothing more.
 *
 * The core defines the types here with opaque storage that a port
 * interprets as it likes, and declares the functions a port implements.
 * Ports shipped with kheap: sim/ (pthread simulator, host) and target/
 * (bare-metal Cortex-M). The core includes no header of either.
 *
 * Names follow Zephyr where Zephyr has the concept, so that a port onto
 * Zephyr itself is a thin shim and application code reads the same.
 */
#ifndef KHEAP_PORT_H
#define KHEAP_PORT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ---- time ------------------------------------------------------------ */

/* Kernel ticks per second. A port or the build may override it. */
#ifndef CONFIG_SYS_CLOCK_TICKS_PER_SEC
#define CONFIG_SYS_CLOCK_TICKS_PER_SEC 1000
#endif

typedef int64_t k_ticks_t;

/* A relative timeout in ticks; K_TICKS_FOREVER means wait forever. */
typedef struct {
	k_ticks_t ticks;
} k_timeout_t;

#define K_TICKS_FOREVER ((k_ticks_t)-1)

#define K_TICKS(t) ((k_timeout_t){.ticks = (k_ticks_t)(t)})
#define K_NO_WAIT K_TICKS(0)
#define K_FOREVER K_TICKS(K_TICKS_FOREVER)
/* Milli/microseconds to ticks, rounded up so a timeout never shortens. */
#define K_USEC(us)                                                             \
	K_TICKS(((int64_t)(us)*CONFIG_SYS_CLOCK_TICKS_PER_SEC + 999999) /      \
		1000000)
#define K_MSEC(ms)                                                             \
	K_TICKS(((int64_t)(ms)*CONFIG_SYS_CLOCK_TICKS_PER_SEC + 999) / 1000)
#define K_SECONDS(s) K_MSEC((int64_t)(s)*1000)
#define K_TIMEOUT_EQ(a, b) ((a).ticks == (b).ticks)

/* An absolute point in kernel time (ticks since boot); UINT64_MAX is
 * "never". */
typedef struct {
	uint64_t tick;
} k_timepoint_t;

/**
 * Port: current kernel time in ticks since boot, monotonic: the whole
 * ticks elapsed (rounded down). Callable from threads and ISRs. O(1).
 */
int64_t sys_clock_tick_get(void);

/**
 * Port: current kernel time in ticks rounded up: sys_clock_tick_get() if
 * the clock stands exactly at the start of a tick (a virtual clock that
 * jumps from tick to tick), sys_clock_tick_get() + 1 once part of the
 * current tick has passed (a free-running clock read between two ticks).
 * Relative timeouts count from here, so that N ticks are N whole ticks
 * (Zephyr adds a tick for the partly elapsed one). A port that cannot
 * tell returns sys_clock_tick_get() + 1: its timeouts may then last up to
 * a tick longer, never shorter. Callable from threads and ISRs. O(1).
 */
int64_t kheap_port_tick_ceil(void);

/* The kernel layer implements these three from kheap_port_tick_ceil()
 * and sys_clock_tick_get(). */

/** The point in time at which `timeout` from now expires: N ticks after
 * kheap_port_tick_ceil(), so at least N whole ticks from now. */
k_timepoint_t sys_timepoint_calc(k_timeout_t timeout);

/** The timeout left until `timepoint`, in ticks from
 * sys_clock_tick_get(): K_NO_WAIT once it has passed, K_FOREVER for
 * "never" (and for a point further away than k_ticks_t counts). */
k_timeout_t sys_timepoint_timeout(k_timepoint_t timepoint);

/** Whether `timepoint` has passed. */
bool sys_timepoint_expired(k_timepoint_t timepoint);

/* ---- locking --------------------------------------------------------- */

/* Storage for a port's spinlock; zero-initialised means unlocked. */
#ifndef KHEAP_PORT_LOCK_WORDS
#define KHEAP_PORT_LOCK_WORDS 2
#endif
struct k_spinlock {
	uintptr_t port_state[KHEAP_PORT_LOCK_WORDS];
};

/* Whatever the port needs to restore on unlock (e.g. the interrupt mask). */
typedef struct {
	uintptr_t key;
} k_spinlock_key_t;

/**
 * Port: take the lock, masking interrupts on this CPU (so ISRs that take
 * it cannot run inside the critical section) and return the previous
 * state. Never blocks for long; may be called from ISRs. Taking a lock the
 * caller already holds is a fault the port reports.
 */
k_spinlock_key_t k_spin_lock(struct k_spinlock *lock);

/**
 * Port: release a lock taken with k_spin_lock and restore `key`. Releasing
 * a lock the caller does not hold, or with the wrong key, is a fault the
 * port reports.
 */
void k_spin_unlock(struct k_spinlock *lock, k_spinlock_key_t key);

/* ---- waiting --------------------------------------------------------- */

/* Storage for a port's wait queue; zero-initialised means empty. */
#ifndef KHEAP_PORT_WAITQ_WORDS
#define KHEAP_PORT_WAITQ_WORDS 2
#endif
typedef struct {
	uintptr_t port_state[KHEAP_PORT_WAITQ_WORDS];
} _wait_q_t;

/**
 * Port: block the current thread on `wait_q`, releasing `lock` (held
 * with `key`) atomically with going to sleep, until z_unpend_all() wakes
 * it or `timeout` expires: when sys_clock_tick_get() reaches its value
 * at the call plus timeout.ticks (the kernel layer passes the ticks left
 * to a timepoint, so no tick is added for a partly elapsed one). Returns
 * 0 when woken, -EAGAIN (-11) on timeout.
 * The lock is NOT held on return. Threads only: never called from an ISR
 * and never with K_NO_WAIT (the kernel layer checks both first).
 */
int z_pend_curr(struct k_spinlock *lock, k_spinlock_key_t key,
		_wait_q_t *wait_q, k_timeout_t timeout);

/**
 * Port: make every thread waiting on `wait_q` ready. Called with the
 * lock that protects the queue held, from threads or ISRs. Returns true
 * if any thread was woken.
 */
bool z_unpend_all(_wait_q_t *wait_q);

/**
 * Port: release `lock` (held with `key`) and give the scheduler a chance
 * to run a thread that z_unpend_all() made ready and that should preempt
 * the caller. From an ISR it only releases the lock.
 */
void z_reschedule(struct k_spinlock *lock, k_spinlock_key_t key);

/* ---- context --------------------------------------------------------- */

/** Port: true while an interrupt handler runs. O(1). */
bool k_is_in_isr(void);

struct k_heap;
struct k_thread;

/* Per-thread data the kernel layer keeps; each port's thread object
 * embeds one and calls z_thread_pool_init() on it when the thread is
 * created and z_thread_pool_release() when it exits (kheap/k_heap.h). */
struct kheap_thread_data {
	/* The thread's resource pool (NULL: none). The first member, so that
	 * a port may overlay Zephyr's k_thread::resource_pool on it (the
	 * simulator does). */
	struct k_heap *resource_pool;
	/* Opt-in: blocks the thread allocated from its pool, released when
	 * the thread exits (kheap extension; see k_thread_pool_autofree). */
	void *owned_blocks;
	bool release_on_exit;
};

/**
 * Port: the kernel-layer data of `thread`, or of the calling thread when
 * `thread` is NULL (then NULL in ISR context). O(1).
 */
struct kheap_thread_data *kheap_port_thread_data(struct k_thread *thread);

/* ---- faults ---------------------------------------------------------- */

/**
 * Port: a misuse the kernel layer or the heap detected, in call
 * `operation` (e.g. "k_heap_free") on `object` (the heap) with `pointer`
 * (the caller's pointer, or NULL): `message` is a fixed sentence naming
 * the problem. The port reports it, for instance as
 *   "kheap fault: k_heap_free(0x...) on heap 0x...: <message>"
 * and normally stops the system; if it returns, the kernel layer refuses
 * the call (returns NULL or does nothing) and carries on.
 * Callable from threads and ISRs, possibly with a heap lock held.
 */
void kheap_port_fault(const char *operation, const char *message,
		      const void *object, const void *pointer);

#ifdef __cplusplus
}
#endif

#endif /* KHEAP_PORT_H */
