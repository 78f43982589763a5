/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Threads: k_thread_create and friends, static threads (K_THREAD_DEFINE),
 * the exit path, sleeping and yielding, and main() as a simulated thread.
 */
#include "sim_internal.h"
#include "sim_trace.h"

#include <errno.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/*
 * The kernel layer frees a thread's pool blocks when it exits. With
 * kheap_kernel linked (KHEAP_SIM_HAVE_KERNEL) the call is direct; without
 * it the simulator builds and runs alone and the reference is weak.
 */
#if !KHEAP_SIM_HAVE_KERNEL
#pragma weak z_thread_pool_release
#pragma weak z_thread_pool_init
#pragma weak z_thread_malloc
#pragma weak k_free
#endif

/* The kernel layer's per-thread data: inherited pool, autofree off. */
static void pool_init(struct k_thread *thread)
{
	memset(&thread->kheap, 0, sizeof(thread->kheap));
#if KHEAP_SIM_HAVE_KERNEL
	z_thread_pool_init(&thread->kheap);
#else
	if (z_thread_pool_init) {
		z_thread_pool_init(&thread->kheap);
	}
#endif
}

static void pool_release(struct k_thread *thread)
{
	z_sim_trace_thread_exit();
#if KHEAP_SIM_HAVE_KERNEL
	z_thread_pool_release(&thread->kheap);
#else
	if (z_thread_pool_release) {
		z_thread_pool_release(&thread->kheap);
	}
#endif
}

void *sim_pool_alloc(size_t bytes)
{
#if KHEAP_SIM_HAVE_KERNEL
	return z_thread_malloc(bytes);
#else
	return z_thread_malloc ? z_thread_malloc(bytes) : NULL;
#endif
}

void sim_pool_free(void *block)
{
#if KHEAP_SIM_HAVE_KERNEL
	k_free(block);
#else
	if (k_free) {
		k_free(block);
	}
#endif
}

struct k_thread sim_idle_thread;

/* k_thread::resource_pool is the kernel layer's pool (kernel.h). */
_Static_assert(offsetof(struct kheap_thread_data, resource_pool) == 0,
	       "k_thread::resource_pool aliases kheap.resource_pool");

/* ---- creation -------------------------------------------------------- */

static void *trampoline(void *arg)
{
	struct sim_thread *self = arg;
	jmp_buf exit_jmp;

	sim_tls.self = self;
	sim_tls.exit_jmp = &exit_jmp;
	if (setjmp(exit_jmp) != 0) {
		/* sim_thread_exit() is done with this thread. */
		return NULL;
	}
	sim_lock();
	sim_wait_to_run_locked(self);
	k_thread_entry_t entry = self->entry;
	void *p1 = self->p1, *p2 = self->p2, *p3 = self->p3;
	sim_unlock();
	sim_check_abort(self);
	entry(p1, p2, p3);
	sim_thread_exit(self);
}

/* sim.mtx held. */
static void launch_locked(struct sim_thread *rec)
{
	pthread_attr_t attr;
	pthread_t tid;

	pthread_attr_init(&attr);
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	int rc = pthread_create(&tid, &attr, trampoline, rec);
	pthread_attr_destroy(&attr);
	if (rc != 0) {
		sim_fatal("cannot create a pthread for thread \"%s\": %s",
			  rec->name, strerror(rc));
	}
}

k_tid_t k_thread_create(struct k_thread *new_thread, k_thread_stack_t *stack,
			size_t stack_size, k_thread_entry_t entry, void *p1,
			void *p2, void *p3, int prio, uint32_t options,
			k_timeout_t delay)
{
	(void)stack;
	(void)stack_size;
	(void)options;

	sim_init_once();
	if (!new_thread || !entry) {
		sim_fatal("k_thread_create: %s is NULL",
			  new_thread ? "entry" : "the thread object");
	}
	if (prio < K_HIGHEST_THREAD_PRIO || prio > K_LOWEST_THREAD_PRIO) {
		sim_fatal("k_thread_create: priority %d outside [%d, %d]", prio,
			  K_HIGHEST_THREAD_PRIO, K_LOWEST_THREAD_PRIO);
	}

	sim_lock();
	struct sim_thread *rec = sim_record_find_locked(new_thread);
	if (rec && rec->state != SIM_ST_DEAD) {
		sim_unlock();
		sim_fault("k_thread_create", SIM_MSG_THREAD_IN_USE, NULL,
			  new_thread);
		return new_thread;
	}
	if (rec && !rec->is_main) {
		rec->id = ++sim.next_id;
	} else {
		rec = sim_record_new_locked(new_thread);
	}
	snprintf(rec->name, sizeof(rec->name), "thread-%llu",
		 (unsigned long long)rec->id);
	rec->prio = prio;
	rec->sched_lock = 0;
	rec->entry = entry;
	rec->p1 = p1;
	rec->p2 = p2;
	rec->p3 = p3;
	rec->wait = SIM_W_NONE;
	rec->wait_obj = NULL;
	rec->wq = NULL;
	rec->wq_next = NULL;
	rec->deadline = -1;
	rec->site_file = NULL;
	rec->site_line = 0;
	rec->wake_result = 0;
	atomic_store(&rec->abort_requested, false);
	rec->exiting = false;
	memset(&rec->join_q, 0, sizeof(rec->join_q));
	pool_init(new_thread);
	new_thread->sim = rec;

	if (delay.ticks == 0) {
		rec->state = SIM_ST_READY;
		rec->ready_seq = ++sim.seq;
		if (!sim_is_det()) {
			sim.running++;
		}
	} else {
		rec->state = SIM_ST_BLOCKED;
		rec->block_seq = ++sim.seq;
		if (delay.ticks == K_TICKS_FOREVER) {
			rec->wait = SIM_W_NOT_STARTED;
		} else {
			rec->wait = SIM_W_START;
			rec->deadline = sim_deadline(delay);
		}
	}
	launch_locked(rec);

	struct sim_thread *self = sim_tls.self;
	if (self && rec->state == SIM_ST_READY && sim_tls.isr_depth == 0) {
		sim_point_locked(self, true);
	}
	sim_unlock();
	return new_thread;
}

void k_thread_start(k_tid_t thread)
{
	sim_init_once();
	sim_lock();
	struct sim_thread *rec = sim_record_find_locked(thread);
	if (rec && rec->state == SIM_ST_BLOCKED &&
	    (rec->wait == SIM_W_NOT_STARTED || rec->wait == SIM_W_START)) {
		sim_make_ready_locked(rec, 0);
		struct sim_thread *self = sim_tls.self;
		if (self && sim_tls.isr_depth == 0) {
			sim_point_locked(self, true);
		}
	}
	sim_unlock();
}

/* ---- exit, join, abort ----------------------------------------------- */

_Noreturn void sim_thread_exit(struct sim_thread *self)
{
	self->exiting = true;
	if (sim_tls.hold_depth != 0) {
		sim_fault("k_thread_exit", SIM_MSG_EXIT_WITH_LOCK, NULL,
			  self->thread);
		sim_tls.hold_depth = 0;
	}
	/* The kernel layer's exit hook runs as the thread, before anyone
	 * can see it dead. */
	pool_release(self->thread);

	sim_lock();
	self->state = SIM_ST_DEAD;
	self->wait = SIM_W_NONE;
	self->deadline = -1;
	struct sim_thread *w;
	while ((w = sim_wq_head_locked(&self->join_q)) != NULL) {
		sim_make_ready_locked(w, 0);
	}
	bool is_main = self->is_main;
	sim_leave_locked(self);
	if (is_main) {
		/* main's pthread cannot end without ending the process:
		 * park it (the last thread to exit calls exit()). */
		for (;;) {
			pthread_cond_wait(&sim.never_cv, &sim.mtx);
		}
	}
	jmp_buf *jb = sim_tls.exit_jmp;
	sim_unlock();
	/* The record may be recycled from here on: touch it no more. */
	longjmp(*jb, 1);
}

void sim_site_clear(void)
{
	sim_tls.site_file = NULL;
	sim_tls.site_line = 0;
}

bool sim_may_block(const char *op, const void *pointer)
{
	if (sim_tls.isr_depth > 0) {
		sim_fault(op, SIM_MSG_BLOCK_IN_ISR, NULL, pointer);
		return false;
	}
	if (sim_tls.hold_depth > 0) {
		sim_fault(op, SIM_MSG_BLOCK_WITH_LOCK, NULL, pointer);
	}
	return true;
}

int k_thread_join(struct k_thread *thread, k_timeout_t timeout)
{
	int rc;

	sim_init_once();
	struct sim_thread *self = sim_tls.self;
	sim_lock();
	struct sim_thread *rec = sim_record_find_locked(thread);
	if (!rec || rec->state == SIM_ST_DEAD) {
		rc = 0;
	} else if (rec == self) {
		rc = -EDEADLK;
	} else if (self && rec->state == SIM_ST_BLOCKED &&
		   rec->wait == SIM_W_JOIN && rec->wait_obj == self->thread) {
		rc = -EDEADLK;
	} else if (timeout.ticks == 0) {
		rc = -EBUSY;
	} else {
		sim_unlock();
		if (!sim_may_block("k_thread_join", thread)) {
			sim_site_clear();
			return -EBUSY;
		}
		self = sim_self_required("k_thread_join");
		sim_lock();
		rc = 0;
		if (rec->state != SIM_ST_DEAD && rec->thread == thread) {
			rc = sim_block_locked(self, SIM_W_JOIN, thread,
					      &rec->join_q,
					      sim_deadline(timeout));
		}
	}
	sim_unlock();
	sim_site_clear();
	return rc;
}

void k_thread_abort(k_tid_t thread)
{
	sim_init_once();
	struct sim_thread *self = sim_tls.self;
	bool in_isr = sim_tls.isr_depth > 0;

	sim_lock();
	struct sim_thread *rec = sim_record_find_locked(thread);
	if (!rec || rec->state == SIM_ST_DEAD) {
		sim_unlock();
		sim_site_clear();
		return;
	}
	if (rec == self && !in_isr) {
		sim_unlock();
		sim_site_clear();
		sim_thread_exit(self);
	}
	atomic_store(&rec->abort_requested, true);
	sim_make_ready_locked(rec, SIM_WAKE_ABORTED);
	if (!in_isr && self && rec != self) {
		while (rec->state != SIM_ST_DEAD && rec->thread == thread) {
			sim_block_locked(self, SIM_W_ABORT, thread,
					 &rec->join_q, -1);
		}
	}
	sim_unlock();
	sim_site_clear();
}

/* ---- names and priorities -------------------------------------------- */

static struct sim_thread *rec_or_self_locked(k_tid_t thread)
{
	return thread ? sim_record_find_locked(thread) : sim_tls.self;
}

int k_thread_name_set(k_tid_t thread, const char *str)
{
	sim_init_once();
	sim_lock();
	struct sim_thread *rec = rec_or_self_locked(thread);
	if (rec) {
		snprintf(rec->name, sizeof(rec->name), "%s", str ? str : "");
	}
	sim_unlock();
	return rec ? 0 : -EINVAL;
}

const char *k_thread_name_get(k_tid_t thread)
{
	if (thread == &sim_idle_thread) {
		return "idle";
	}
	sim_init_once();
	sim_lock();
	struct sim_thread *rec = rec_or_self_locked(thread);
	const char *name = rec ? rec->name : NULL;
	sim_unlock();
	return name;
}

int k_thread_priority_get(k_tid_t thread)
{
	if (thread == &sim_idle_thread) {
		return K_IDLE_PRIO;
	}
	sim_init_once();
	sim_lock();
	struct sim_thread *rec = rec_or_self_locked(thread);
	int prio = rec ? rec->prio : K_IDLE_PRIO;
	sim_unlock();
	return prio;
}

void k_thread_priority_set(k_tid_t thread, int prio)
{
	if (prio < K_HIGHEST_THREAD_PRIO || prio > K_LOWEST_THREAD_PRIO) {
		sim_fatal("k_thread_priority_set: priority %d outside [%d, %d]",
			  prio, K_HIGHEST_THREAD_PRIO, K_LOWEST_THREAD_PRIO);
	}
	sim_init_once();
	sim_lock();
	struct sim_thread *rec = rec_or_self_locked(thread);
	if (rec && rec->state != SIM_ST_DEAD) {
		rec->prio = prio;
		struct sim_thread *self = sim_tls.self;
		if (self && sim_tls.isr_depth == 0) {
			sim_point_locked(self, false);
		}
	}
	sim_unlock();
}

k_tid_t k_current_get(void)
{
	if (sim_tls.isr_depth > 0) {
		return sim_tls.isr_thread ? sim_tls.isr_thread->thread
					  : &sim_idle_thread;
	}
	struct sim_thread *self = sim_self();
	return self ? self->thread : NULL;
}

int k_is_preempt_thread(void)
{
	struct sim_thread *self = sim_self();

	if (!self || sim_tls.isr_depth > 0) {
		return 0;
	}
	sim_lock();
	int preempt = self->prio >= 0 && self->sched_lock == 0;
	sim_unlock();
	return preempt;
}

struct kheap_thread_data *kheap_port_thread_data(struct k_thread *thread)
{
	if (thread) {
		return &thread->kheap;
	}
	if (sim_tls.isr_depth > 0) {
		return NULL;
	}
	struct sim_thread *self = sim_self();
	return self ? &self->thread->kheap : NULL;
}

/* ---- scheduling calls ------------------------------------------------ */

void k_yield(void)
{
	struct sim_thread *self = sim_self();

	if (!self || sim_tls.isr_depth > 0) {
		return;
	}
	sim_lock();
	sim_yield_locked(self);
	sim_unlock();
}

void k_sched_lock(void)
{
	struct sim_thread *self = sim_self();

	if (!self || sim_tls.isr_depth > 0) {
		return;
	}
	sim_lock();
	self->sched_lock++;
	sim_unlock();
}

void k_sched_unlock(void)
{
	struct sim_thread *self = sim_self();

	if (!self || sim_tls.isr_depth > 0) {
		return;
	}
	sim_lock();
	if (self->sched_lock > 0 && --self->sched_lock == 0) {
		sim_point_locked(self, false);
	}
	sim_unlock();
}

int32_t k_sleep(k_timeout_t timeout)
{
	sim_init_once();
	if (!sim_may_block("k_sleep", NULL)) {
		sim_site_clear();
		return 0;
	}
	if (timeout.ticks == 0) {
		k_yield();
		sim_site_clear();
		return 0;
	}
	struct sim_thread *self = sim_self_required("k_sleep");
	sim_lock();
	k_ticks_t deadline = sim_deadline(timeout);
	int rc = sim_block_locked(self, SIM_W_SLEEP, NULL, NULL, deadline);
	k_ticks_t now = sim_now();
	sim_unlock();
	sim_site_clear();
	if (rc == -EAGAIN) {
		return 0;
	}
	/* Woken early by k_wakeup. */
	if (deadline < 0) {
		return (int32_t)K_TICKS_FOREVER;
	}
	k_ticks_t left = deadline > now ? deadline - now : 0;
	int64_t ms = (left * 1000 + CONFIG_SYS_CLOCK_TICKS_PER_SEC - 1) /
		     CONFIG_SYS_CLOCK_TICKS_PER_SEC;
	return ms > INT32_MAX ? INT32_MAX : (int32_t)ms;
}

int32_t k_msleep(int32_t ms)
{
	return k_sleep(K_MSEC(ms));
}

int32_t k_usleep(int32_t us)
{
	int32_t ms = k_sleep(K_USEC(us));

	return ms > INT32_MAX / 1000 ? INT32_MAX : ms * 1000;
}

void k_wakeup(k_tid_t thread)
{
	sim_init_once();
	sim_lock();
	struct sim_thread *rec = sim_record_find_locked(thread);
	if (rec && rec->state == SIM_ST_BLOCKED && rec->wait == SIM_W_SLEEP) {
		sim_make_ready_locked(rec, 0);
		struct sim_thread *self = sim_tls.self;
		if (self && sim_tls.isr_depth == 0 && sim_tls.hold_depth == 0) {
			sim_point_locked(self, false);
		}
	}
	sim_unlock();
}

void k_busy_wait(uint32_t usec)
{
	sim_init_once();
	if (usec == 0) {
		return;
	}
	if (sim_is_virtual()) {
		/* Time only passes while every thread is blocked. */
		if (sim_tls.isr_depth == 0 && sim_tls.self) {
			k_sleep(K_USEC(usec));
		}
		return;
	}
	uint64_t end = sim_mono_ns() + (uint64_t)usec * 1000u;
	while (sim_mono_ns() < end) {
		struct sim_thread *self = sim_tls.self;
		if (self && sim_is_det() && sim_tls.isr_depth == 0 &&
		    sim_tls.hold_depth == 0) {
			sim_point(self, false);
		}
	}
}

/* ---- static threads and main() --------------------------------------- */

static pthread_mutex_t static_mtx = PTHREAD_MUTEX_INITIALIZER;
static struct z_sim_static_thread *static_head;
static struct z_sim_static_thread **static_tail = &static_head;
static atomic_bool static_started;

static void static_start(struct z_sim_static_thread *d)
{
	k_timeout_t delay = d->delay_ms == SYS_FOREVER_MS ? K_FOREVER
			    : d->delay_ms <= 0            ? K_NO_WAIT
							  : K_MSEC(d->delay_ms);

	k_sched_lock();
	k_thread_create(d->thread, d->stack, d->stack_size, d->entry, d->p1,
			d->p2, d->p3, d->prio, d->options, delay);
	k_thread_name_set(d->thread, d->thread_name);
	k_sched_unlock();
}

void z_sim_static_thread_register(struct z_sim_static_thread *desc)
{
	pthread_mutex_lock(&static_mtx);
	bool started = atomic_load(&static_started);
	if (!started) {
		desc->next = NULL;
		*static_tail = desc;
		static_tail = &desc->next;
	}
	pthread_mutex_unlock(&static_mtx);
	if (started) {
		static_start(desc);
	}
}

/*
 * Start the K_THREAD_DEFINE threads (once, from the first simulator call,
 * normally just before main() runs). They are created with the
 * scheduler locked, then one reschedule point lets those more urgent than
 * the caller run first, as Zephyr starts static threads before main().
 */
void sim_start_static_threads(void)
{
	if (atomic_load_explicit(&static_started, memory_order_acquire)) {
		return;
	}
	pthread_mutex_lock(&static_mtx);
	if (atomic_load(&static_started)) {
		pthread_mutex_unlock(&static_mtx);
		return;
	}
	struct z_sim_static_thread *list = static_head;
	static_head = NULL;
	static_tail = &static_head;
	atomic_store_explicit(&static_started, true, memory_order_release);
	pthread_mutex_unlock(&static_mtx);

	if (!list) {
		return;
	}
	k_sched_lock();
	for (struct z_sim_static_thread *d = list; d; d = d->next) {
		static_start(d);
	}
	k_sched_unlock();
}

/*
 * The program's main() becomes the simulated main thread: kheap_sim links
 * with -Wl,--wrap=main, so the C runtime calls __wrap_main, which sets the
 * kernel up (configuration from the environment, static threads) and
 * calls the application's main() (__real_main). When main() returns the
 * process exits with its status; if other simulated threads are still
 * alive, main's thread exits like any other and the process ends when
 * the last thread has exited (or every remaining one is blocked for ever).
 */
int __real_main(int argc, char **argv, char **envp);
int __wrap_main(int argc, char **argv, char **envp);

int __wrap_main(int argc, char **argv, char **envp)
{
	sim_init_once();
	int rc = __real_main(argc, argv, envp);

	struct sim_thread *self = sim_tls.self;
	if (!self) {
		return rc;
	}
	sim_lock();
	int mine = self->state != SIM_ST_DEAD ? 1 : 0;
	if (sim_live_count_locked() <= mine) {
		sim_unlock();
		return rc;
	}
	sim.main_returned = true;
	sim.main_rc = rc;
	sim_unlock();
	sim_thread_exit(self);
}
