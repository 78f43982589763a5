/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The kheap kernel simulator's own API: configuration, the periodic timer
 * interrupt, fault capture and diagnostics. Zephyr-style code does not
 * need this header (it includes <zephyr/kernel.h>); tests and host
 * programs that steer the simulator do. See docs/simulator.md.
 *
 * Everything here is callable from any simulated thread unless a function
 * says otherwise.
 */
#ifndef KHEAP_SIM_H
#define KHEAP_SIM_H

#include <stdbool.h>
#include <stdint.h>

#include <kheap/port.h>

#ifdef __cplusplus
extern "C" {
#endif

/* How simulated threads are scheduled. */
enum sim_mode {
	/* One simulated thread runs at a time, chosen as Zephyr's scheduler
	 * on a single-core device would; open choices come from the seed. */
	SIM_MODE_DETERMINISTIC = 0,
	/* Every simulated thread is a free-running pthread; priorities are
	 * ignored and spinlocks are real locks (for ThreadSanitizer and
	 * throughput). */
	SIM_MODE_PARALLEL = 1,
};

/* Where kernel time comes from. */
enum sim_clock {
	/* Starts at tick 0 and advances, straight to the next deadline or
	 * timer interrupt, only when every simulated thread is blocked. */
	SIM_CLOCK_VIRTUAL = 0,
	/* CLOCK_MONOTONIC since the simulator was (re)configured. */
	SIM_CLOCK_REAL = 1,
};

/* Deterministic mode: how to choose between ready threads of equal
 * priority when the running thread blocks or yields. */
enum sim_ties {
	/* Uniformly at random from the seed (default: explores orders). */
	SIM_TIES_RANDOM = 0,
	/* The one that became ready first, as Zephyr documents. */
	SIM_TIES_FIFO = 1,
};

struct sim_config {
	enum sim_mode mode;
	enum sim_clock clock;
	enum sim_ties ties;
	/* Seed of the scheduler's PRNG (deterministic mode). */
	uint64_t seed;
	/* Deterministic mode: probability in percent (0..100) that a
	 * preemptible thread is switched out at an extra preemption point
	 * (k_spin_unlock releasing the last lock, z_reschedule, k_sem_give,
	 * k_thread_create, the end of irq_offload) in favour of a ready
	 * thread of equal priority. 0 (default): only where Zephyr would
	 * switch. */
	unsigned int preempt_percent;
	/* Do not print the configuration banner on stderr. */
	bool quiet;
};

/*
 * Fill *cfg with the defaults (deterministic, virtual clock, random ties,
 * preempt_percent 0, a fresh random seed), then apply the environment:
 *   KHEAP_SIM_MODE=deterministic|parallel
 *   KHEAP_SIM_CLOCK=virtual|real
 *   KHEAP_SIM_SEED=<decimal or 0x-hex>
 *   KHEAP_SIM_TIES=random|fifo
 *   KHEAP_SIM_PREEMPT=<0..100>
 *   KHEAP_SIM_QUIET=0|1
 * A malformed variable is reported on stderr and the program exits with
 * status 2.
 */
void sim_config_default(struct sim_config *cfg);

/*
 * (Re)configure and reset the simulator: virtual time back to tick 0 (or
 * real time counted from now), the PRNG reseeded, timer interrupts
 * unregistered, records of exited threads dropped, fault capture state
 * cleared. Prints a banner with the seed on stderr unless cfg->quiet.
 * Only while the caller is the one live simulated thread: returns -EBUSY
 * (-16) otherwise, -EINVAL (-22) for a malformed configuration, else 0.
 * The simulator configures itself from sim_config_default() before main()
 * runs; a program calls this only to change that.
 */
int sim_configure(const struct sim_config *cfg);

/* The configuration in force. */
void sim_config_get(struct sim_config *cfg);

/* Parse a seed as KHEAP_SIM_SEED accepts it; false if malformed. */
bool sim_parse_seed(const char *text, uint64_t *seed);

/* If KHEAP_SIM_SEED is set, store it in *seed and return true (a test
 * that loops over seeds uses this to replay a single one). */
bool sim_seed_from_env(uint64_t *seed);

/* ---- periodic timer interrupt -------------------------------------- */

typedef void (*sim_timer_handler_t)(void *arg);

/* How many handlers may be registered at once. */
#define SIM_TIMER_IRQ_MAX 8

/*
 * Run handler(arg) in ISR context every period_ticks ticks, first at
 * now + period_ticks. Virtual clock: exactly at those ticks (time jumps
 * there when every thread is blocked). Real clock, deterministic mode: at
 * the first kernel call (or idle moment) at or after each due tick, never
 * while the running thread holds a spinlock. Real clock, parallel mode:
 * from a timer thread that is its own CPU (spinlocks serialise it with
 * threads as on SMP). Returns an id >= 0, or -EINVAL (period < 1 or no
 * handler), -ENOMEM (SIM_TIMER_IRQ_MAX registered).
 */
int sim_timer_irq_register(sim_timer_handler_t handler, void *arg,
			   k_ticks_t period_ticks);

/* Stop a handler; it does not run again once this returns (unless it is
 * running right now on another CPU in parallel mode). -EINVAL if unknown. */
int sim_timer_irq_unregister(int id);

/* ---- faults ---------------------------------------------------------- */

/* The messages of the simulator's own faults (operation in brackets). */
/* [k_spin_lock] a thread takes a lock it holds */
#define SIM_MSG_SPIN_RECURSIVE                                                 \
	"recursive acquisition: the calling thread already holds this spinlock"
/* [k_spin_lock] an ISR takes a lock the thread it interrupted holds */
#define SIM_MSG_SPIN_RECURSIVE_ISR                                             \
	"recursive acquisition: an ISR took a spinlock held by the thread it interrupted"
/* [k_spin_lock] deterministic mode: held by a thread that cannot run */
#define SIM_MSG_SPIN_HELD_ELSEWHERE                                            \
	"deadlock: the spinlock is held by a thread that is not running"
/* [k_spin_unlock] */
#define SIM_MSG_SPIN_NON_OWNER                                                 \
	"unlock by a non-owner: another thread holds this spinlock"
#define SIM_MSG_SPIN_NOT_HELD "unlock of a spinlock that is not held"
#define SIM_MSG_SPIN_WRONG_KEY                                                 \
	"unlock with the wrong key: not the key k_spin_lock returned for this lock"
/* [the blocking call] from an ISR with a timeout other than K_NO_WAIT */
#define SIM_MSG_BLOCK_IN_ISR                                                   \
	"blocking call from an ISR (only K_NO_WAIT is allowed)"
/* [the blocking call] while the caller holds a spinlock */
#define SIM_MSG_BLOCK_WITH_LOCK "blocking call with a spinlock held"
/* [k_thread_exit] / [isr] */
#define SIM_MSG_EXIT_WITH_LOCK "thread exited while holding a spinlock"
#define SIM_MSG_ISR_WITH_LOCK "ISR returned while holding a spinlock"
/* [k_thread_create] */
#define SIM_MSG_THREAD_IN_USE "thread object in use: its thread has not exited"
/* [k_mutex_lock, k_mutex_unlock, k_condvar_wait] from an ISR */
#define SIM_MSG_MUTEX_IN_ISR "mutexes cannot be used in an ISR"
/* [k_condvar_wait] */
#define SIM_MSG_CONDVAR_NOT_OWNER "the mutex is not held by the calling thread"
/* [k_queue_append and the other k_queue, k_fifo, k_lifo puts] */
#define SIM_MSG_QUEUE_ITEM                                                     \
	"queue item is NULL or not 4-byte aligned (its first word is the kernel's link)"
/* [k_queue_insert] */
#define SIM_MSG_QUEUE_PREV "prev is not an item of this queue"
/* [k_queue_append_list] */
#define SIM_MSG_QUEUE_LIST                                                     \
	"tail is not reachable from head through the items' first words"

/* A fault as kheap_port_fault (or the simulator's own checks) saw it. */
struct sim_fault {
	const char *operation; /* e.g. "k_spin_unlock" */
	const char *message;   /* fixed sentence naming the problem */
	const void *object;    /* the heap, or NULL */
	const void *pointer;   /* the caller's pointer (lock, block), or NULL */
	char text[320];        /* the line the default handler prints */
};

/*
 * While capture is on, faults are recorded (count and the last one) and
 * the faulting call returns as the port contract describes, instead of
 * the default: print the report on stderr and abort(). Returns the
 * previous setting. Turning capture on does not clear the record.
 */
bool sim_fault_capture(bool on);

/* Faults recorded since the last sim_fault_clear() (or configure). */
unsigned int sim_fault_count(void);

/* Copy the last recorded fault into *out; false if there is none. */
bool sim_fault_last(struct sim_fault *out);

/* Shorthands: the last fault's message / operation, or "" if none. */
const char *sim_fault_last_message(void);
const char *sim_fault_last_operation(void);

/* Forget recorded faults. */
void sim_fault_clear(void);

/* ---- deadlock -------------------------------------------------------- */

/*
 * Called with the deadlock report (the text also printed on stderr) when
 * every simulated thread is blocked and nothing can wake any of them.
 * The simulator then aborts; a test hook may _exit() with a status of its
 * own instead. NULL restores the default (print and abort).
 */
typedef void (*sim_deadlock_hook_t)(const char *report);
void sim_deadlock_hook_set(sim_deadlock_hook_t hook);

/* ---- diagnostics ----------------------------------------------------- */

/* Context switches the deterministic scheduler has made since the last
 * configure. */
uint64_t sim_context_switches(void);

/* Simulated threads that have not exited (including main and threads
 * not started yet). */
int sim_threads_alive(void);

#ifdef __cplusplus
}
#endif

#endif /* KHEAP_SIM_H */
