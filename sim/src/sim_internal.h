/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The kheap simulator's internals, shared by the sources in sim/src only.
 *
 * Locking: one global mutex (sim.mtx) guards every scheduler structure:
 * thread records, wait queues (their port_state words), semaphore counts,
 * timers, the CPU token. It is never held while user code runs (thread
 * bodies, ISR handlers) and never taken while spinning on a k_spinlock.
 * A k_spinlock may be held when sim.mtx is taken (lock order: k_spinlock,
 * then sim.mtx). Fault reporting takes only its own leaf mutex.
 *
 * Deterministic mode: the thread whose record is sim.cpu holds the one
 * simulated CPU; every other simulated thread's pthread waits on its own
 * condition variable until sim.cpu names it. The CPU changes hands only
 * inside the simulator, with sim.mtx held, so every switch is an ordering
 * point (ThreadSanitizer sees the hand-over through the mutex).
 *
 * Parallel mode: sim.running counts threads that are not blocked; when it
 * drops to zero in virtual time, the thread that blocked last advances the
 * clock (the "idle step").
 */
#ifndef KHEAP_SIM_INTERNAL_H
#define KHEAP_SIM_INTERNAL_H

/* Included first by every simulator source: POSIX/GNU interfaces
 * (open_memstream, pthread_condattr_setclock), and <zephyr/kernel.h>
 * without its call-site macros (this file defines those functions). */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE 1
#endif
#ifndef KHEAP_SIM_INTERNAL
#define KHEAP_SIM_INTERNAL 1
#endif

#include <pthread.h>
#include <setjmp.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include <kheap/sim.h>
#include <zephyr/irq_offload.h>
#include <zephyr/kernel.h>

enum sim_state {
	SIM_ST_READY,   /* runnable (parallel mode: running) */
	SIM_ST_RUNNING, /* deterministic mode: holds the CPU */
	SIM_ST_BLOCKED, /* waiting for an event or a deadline */
	SIM_ST_DEAD,
};

/* What a blocked thread waits for (for the deadlock report). */
enum sim_wait {
	SIM_W_NONE,
	SIM_W_WAITQ,       /* z_pend_curr on a wait queue */
	SIM_W_SEM,         /* k_sem_take */
	SIM_W_JOIN,        /* k_thread_join */
	SIM_W_ABORT,       /* k_thread_abort waiting for the victim */
	SIM_W_SLEEP,       /* k_sleep / k_busy_wait */
	SIM_W_START,       /* created with a start delay */
	SIM_W_NOT_STARTED, /* created with K_FOREVER, no k_thread_start yet */
	SIM_W_QUEUE,       /* k_queue_get (k_fifo_get, k_lifo_get) */
	SIM_W_MSGQ_PUT,    /* k_msgq_put on a full queue */
	SIM_W_MSGQ_GET,    /* k_msgq_get on an empty queue */
	SIM_W_MUTEX,       /* k_mutex_lock */
	SIM_W_CONDVAR,     /* k_condvar_wait */
};

/* Wake results besides 0 and -EAGAIN. */
#define SIM_WAKE_ABORTED (-4) /* -EINTR: the thread is being aborted */

struct sim_thread {
	struct k_thread *thread;
	struct sim_thread *all_next; /* sim.threads list, creation order */
	pthread_cond_t cv;           /* signalled when the thread may run */
	uint64_t id;
	char name[CONFIG_THREAD_MAX_NAME_LEN];
	int prio;
	int sched_lock;
	bool is_main;
	enum sim_state state;
	uint64_t ready_seq; /* when it last became ready (FIFO ties) */

	k_thread_entry_t entry;
	void *p1, *p2, *p3;

	/* While blocked. */
	enum sim_wait wait;
	const void *wait_obj;
	_wait_q_t *wq;              /* queue it is linked on, or NULL */
	struct sim_thread *wq_next; /* next waiter on that queue */
	k_ticks_t deadline;         /* tick it times out at; -1: never */
	uint64_t block_seq;         /* when it blocked (expiry order) */
	const char *site_file;
	int site_line;
	int wake_result;
	/* Data handed to or taken from the blocked thread by the thread
	 * that wakes it: the k_queue item it receives, or the k_msgq
	 * message buffer it receives into or sends from. */
	void *swap_data;

	/* Set by k_thread_abort; read racily by the thread itself. */
	atomic_bool abort_requested;
	/* The thread runs its exit path (abort checks no longer apply);
	 * read and written only by the thread itself. */
	bool exiting;
	_wait_q_t join_q;
};

/* Per-pthread ("per-CPU" for spinlock ownership) state. */
struct sim_tls {
	struct sim_thread *self; /* NULL: not a simulated thread */
	int isr_depth;
	int hold_depth; /* spinlocks held by this pthread's contexts */
	uint64_t key_seq;
	const char *site_file;
	int site_line;
	jmp_buf *exit_jmp; /* the thread trampoline's, for exit */
	/* In an ISR: the thread it interrupted (NULL: the idle thread). */
	struct sim_thread *isr_thread;
};

extern _Thread_local struct sim_tls sim_tls;

#define SIM_TIMER_NONE (-1)

struct sim_timer {
	bool active;
	sim_timer_handler_t handler;
	void *arg;
	k_ticks_t period;
	k_ticks_t next_due;
};

struct sim_global {
	pthread_mutex_t mtx;
	struct sim_config cfg;
	struct sim_thread *threads; /* every record, creation order */
	struct sim_thread *threads_tail;
	struct sim_thread *cpu; /* deterministic: CPU holder, NULL = idle */
	int running;            /* parallel: threads not blocked or dead */
	bool idling;            /* parallel: an idle step is in progress */
	uint64_t rng;
	uint64_t seq;
	uint64_t next_id;
	uint64_t switches;
	struct sim_timer timers[SIM_TIMER_IRQ_MAX];
	pthread_cond_t idle_cv; /* deterministic real-time idle waits */
	pthread_cond_t never_cv;
	/* Timer thread (parallel mode, real clock). */
	bool timer_thread_running;
	bool timer_thread_stop;
	pthread_t timer_thread;
	pthread_cond_t timer_cv;
	/* main() returned with these threads still alive. */
	bool main_returned;
	int main_rc;
};

extern struct sim_global sim;

/* Hot-path copies of the configuration (read without sim.mtx). */
extern atomic_int sim_mode_now;
extern atomic_int sim_clock_now;
extern atomic_uint sim_preempt_now;
extern atomic_llong sim_vnow;
extern atomic_ullong sim_real_start_ns;

/* ---- sim_core.c ------------------------------------------------------ */

void sim_init_once(void);
void sim_lock(void);
void sim_unlock(void);
bool sim_is_det(void);
bool sim_is_virtual(void);
uint64_t sim_mono_ns(void);
/* The current tick, rounded down (sim_now) or up (sim_now_ceil): they
 * differ only with the real clock, between two ticks. */
k_ticks_t sim_now(void);
k_ticks_t sim_now_ceil(void);
/* Absolute deadline for a relative timeout of the kernel API (k_sleep,
 * k_sem_take, ...): counted from sim_now_ceil(), so that it lasts at least
 * that many whole ticks; -1 for K_FOREVER; sim_now() for K_NO_WAIT. */
k_ticks_t sim_deadline(k_timeout_t timeout);
/* The deadline of z_pend_curr: `timeout` ticks after sim_now() (the kernel
 * layer passes the ticks left to a timepoint it rounded up itself). */
k_ticks_t sim_pend_deadline(k_timeout_t timeout);
uint64_t sim_rand_locked(void);
void sim_cond_init(pthread_cond_t *cv);

struct sim_thread *sim_self(void);
/* The calling simulated thread; a fatal error naming `op` if the caller
 * is not one. */
struct sim_thread *sim_self_required(const char *op);
const char *sim_thread_label(const struct sim_thread *t);

/* Records. */
struct sim_thread *sim_record_find_locked(const struct k_thread *thread);
struct sim_thread *sim_record_new_locked(struct k_thread *thread);
int sim_live_count_locked(void);

/* Wait queues (sim.mtx held). */
void sim_wq_push_locked(_wait_q_t *wq, struct sim_thread *t);
void sim_wq_remove_locked(_wait_q_t *wq, struct sim_thread *t);
struct sim_thread *sim_wq_head_locked(_wait_q_t *wq);
struct sim_thread *sim_wq_best_locked(_wait_q_t *wq);

/* Scheduling (sim.mtx held). */
void sim_make_ready_locked(struct sim_thread *t, int result);
int sim_block_locked(struct sim_thread *self, enum sim_wait kind,
		     const void *obj, _wait_q_t *wq, k_ticks_t deadline);
void sim_wait_to_run_locked(struct sim_thread *self);
/* Reschedule point of the running thread: processes a real clock, then
 * switches to a more urgent ready thread if self is preemptible, and with
 * `extra` may switch to an equal one as the preempt knob says. */
void sim_point_locked(struct sim_thread *self, bool extra);
void sim_yield_locked(struct sim_thread *self);
/* self is DEAD: hand the CPU on (deterministic) or leave the running
 * count (parallel). */
void sim_leave_locked(struct sim_thread *self);
bool sim_preemptible(const struct sim_thread *self);
void sim_check_abort(struct sim_thread *self);

/* ---- sim_thread.c ---------------------------------------------------- */

/* Run the exit path of the calling thread (sim.mtx not held); does not
 * return. */
_Noreturn void sim_thread_exit(struct sim_thread *self);
void sim_start_static_threads(void);

/* Returns false (after reporting a BLOCK_IN_ISR fault) in an ISR; a
 * spinlock held is reported (BLOCK_WITH_LOCK) and the call carries on. */
bool sim_may_block(const char *op, const void *pointer);

/* Forget the call site recorded by <zephyr/kernel.h>'s macros. */
void sim_site_clear(void);

/* The calling thread's resource pool (kheap/k_heap.h: z_thread_malloc;
 * the system heap in an ISR) and k_free; without the kernel layer
 * (KHEAP_SIM_HAVE_KERNEL 0) allocation fails. */
void *sim_pool_alloc(size_t bytes);
void sim_pool_free(void *block);

/* ---- sim_spinlock.c -------------------------------------------------- */

/* Release without a preemption point (z_pend_curr, z_reschedule). */
void sim_spin_release(struct k_spinlock *lock, k_spinlock_key_t key,
		      const char *op);

/* ---- sim_fault.c ----------------------------------------------------- */

/* Point sys_heap's print output at printk and its fault reports at
 * kheap_port_fault, for programs that use raw sys_heaps (at start-up). */
void sim_heap_reports_install(void);

void sim_fault(const char *operation, const char *message, const void *object,
	       const void *pointer);
__attribute__((__format__(__printf__, 1, 2))) _Noreturn void
sim_fatal(const char *fmt, ...);
void sim_banner(void);

/* ---- sim_misc.c ------------------------------------------------------ */

/* Run a timer handler in ISR context on the calling pthread, as an
 * interrupt of `interrupted` (NULL: of the idle thread). */
void sim_run_isr(sim_timer_handler_t handler, void *arg,
		 struct sim_thread *interrupted);
/* Reschedule point for the calling thread, sim.mtx not held. */
void sim_point(struct sim_thread *self, bool extra);
/* After the caller made a thread ready: an extra reschedule point (see
 * sim_point_locked) if the caller is a thread outside an ISR holding no
 * spinlock. */
void sim_wake_point(void);
/* The idle thread object (k_current_get() in an ISR of an idle CPU). */
extern struct k_thread sim_idle_thread;

#endif /* KHEAP_SIM_INTERNAL_H */
