/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The simulator's core: configuration, the clocks, thread records, wait
 * queues, the two schedulers, the idle step (advancing virtual time,
 * timeouts, timer interrupts) and the deadlock report.
 * See sim_internal.h for the locking rules.
 */
#include "sim_internal.h"
#include "sim_trace.h"

#include <errno.h>
#include <inttypes.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

_Thread_local struct sim_tls sim_tls;

struct sim_global sim = {
	.mtx = PTHREAD_MUTEX_INITIALIZER,
};

atomic_int sim_mode_now;
atomic_int sim_clock_now;
atomic_uint sim_preempt_now;
atomic_llong sim_vnow;
atomic_ullong sim_real_start_ns;

static pthread_once_t sim_once = PTHREAD_ONCE_INIT;
static atomic_bool sim_initialised;
static struct k_thread main_thread_obj;
static struct sim_thread main_record;
static sim_deadlock_hook_t deadlock_hook;

/* Candidate buffer for random tie breaks (sim.mtx held). */
static struct sim_thread **cand;
static size_t cand_cap;

#define NSEC_PER_SEC 1000000000LL
#define TPS ((int64_t)CONFIG_SYS_CLOCK_TICKS_PER_SEC)

/* ---- small helpers --------------------------------------------------- */

void sim_lock(void)
{
	pthread_mutex_lock(&sim.mtx);
}

void sim_unlock(void)
{
	pthread_mutex_unlock(&sim.mtx);
}

bool sim_is_det(void)
{
	return atomic_load_explicit(&sim_mode_now, memory_order_relaxed) ==
	       SIM_MODE_DETERMINISTIC;
}

bool sim_is_virtual(void)
{
	return atomic_load_explicit(&sim_clock_now, memory_order_relaxed) ==
	       SIM_CLOCK_VIRTUAL;
}

void sim_cond_init(pthread_cond_t *cv)
{
	pthread_condattr_t attr;

	pthread_condattr_init(&attr);
	pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
	pthread_cond_init(cv, &attr);
	pthread_condattr_destroy(&attr);
}

uint64_t sim_mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * NSEC_PER_SEC + (uint64_t)ts.tv_nsec;
}

/* Nanoseconds of the real clock since the simulator was configured. */
static int64_t real_elapsed_ns(void)
{
	uint64_t start =
		atomic_load_explicit(&sim_real_start_ns, memory_order_relaxed);

	return (int64_t)(sim_mono_ns() - start);
}

k_ticks_t sim_now(void)
{
	if (sim_is_virtual()) {
		return atomic_load_explicit(&sim_vnow, memory_order_relaxed);
	}
	int64_t ns = real_elapsed_ns();

	return ns / NSEC_PER_SEC * TPS + ns % NSEC_PER_SEC * TPS / NSEC_PER_SEC;
}

k_ticks_t sim_now_ceil(void)
{
	if (sim_is_virtual()) {
		return atomic_load_explicit(&sim_vnow, memory_order_relaxed);
	}
	int64_t ns = real_elapsed_ns();
	/* Ticks times 1e9 in the last second: a remainder is a partial
	 * tick. */
	int64_t scaled = ns % NSEC_PER_SEC * TPS;

	return ns / NSEC_PER_SEC * TPS + scaled / NSEC_PER_SEC +
	       (scaled % NSEC_PER_SEC != 0 ? 1 : 0);
}

/* `timeout` ticks after tick `from`; -1 (never) for K_FOREVER and when
 * the sum does not fit. */
static k_ticks_t deadline_after(k_ticks_t from, k_timeout_t timeout)
{
	if (timeout.ticks == K_TICKS_FOREVER ||
	    timeout.ticks > INT64_MAX - from) {
		return -1;
	}
	return from + timeout.ticks;
}

k_ticks_t sim_deadline(k_timeout_t timeout)
{
	if (timeout.ticks != K_TICKS_FOREVER && timeout.ticks <= 0) {
		return sim_now();
	}
	return deadline_after(sim_now_ceil(), timeout);
}

k_ticks_t sim_pend_deadline(k_timeout_t timeout)
{
	if (timeout.ticks != K_TICKS_FOREVER && timeout.ticks <= 0) {
		return sim_now();
	}
	return deadline_after(sim_now(), timeout);
}

/* The CLOCK_MONOTONIC time at which real-clock tick `tick` begins. */
static struct timespec tick_abstime(k_ticks_t tick)
{
	uint64_t start =
		atomic_load_explicit(&sim_real_start_ns, memory_order_relaxed);
	/* Rounded up: at that instant sim_now() has reached `tick`. */
	int64_t ns = tick / TPS * NSEC_PER_SEC +
		     (tick % TPS * NSEC_PER_SEC + TPS - 1) / TPS;
	uint64_t at = start + (uint64_t)ns;
	struct timespec ts = {
		.tv_sec = (time_t)(at / NSEC_PER_SEC),
		.tv_nsec = (long)(at % NSEC_PER_SEC),
	};

	return ts;
}

/* splitmix64: the scheduler's PRNG. */
static uint64_t splitmix64(uint64_t *state)
{
	uint64_t z = (*state += 0x9E3779B97F4A7C15ULL);

	z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
	z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
	return z ^ (z >> 31);
}

uint64_t sim_rand_locked(void)
{
	return splitmix64(&sim.rng);
}

const char *sim_thread_label(const struct sim_thread *t)
{
	return t ? t->name : "idle";
}

/* ---- configuration --------------------------------------------------- */

static uint64_t fresh_seed(void)
{
	static atomic_ullong counter;
	uint64_t s = sim_mono_ns() ^ ((uint64_t)getpid() << 32) ^
		     (uint64_t)(uintptr_t)&counter ^
		     atomic_fetch_add(&counter, 1) * 0x2545F4914F6CDD1DULL;

	return splitmix64(&s);
}

bool sim_parse_seed(const char *text, uint64_t *seed)
{
	char *end;

	if (!text || !*text || *text == '-') {
		return false;
	}
	errno = 0;
	unsigned long long v = strtoull(text, &end, 0);
	if (errno || *end) {
		return false;
	}
	*seed = v;
	return true;
}

bool sim_seed_from_env(uint64_t *seed)
{
	const char *s = getenv("KHEAP_SIM_SEED");

	return s && sim_parse_seed(s, seed);
}

static _Noreturn void bad_env(const char *name, const char *value,
			      const char *expected)
{
	fprintf(stderr, "kheap sim: %s=%s: expected %s\n", name, value,
		expected);
	exit(2);
}

void sim_config_default(struct sim_config *cfg)
{
	const char *v;

	memset(cfg, 0, sizeof(*cfg));
	cfg->mode = SIM_MODE_DETERMINISTIC;
	cfg->clock = SIM_CLOCK_VIRTUAL;
	cfg->ties = SIM_TIES_RANDOM;
	cfg->preempt_percent = 0;
	cfg->quiet = false;
	cfg->seed = fresh_seed();

	if ((v = getenv("KHEAP_SIM_MODE")) && *v) {
		if (!strcmp(v, "deterministic")) {
			cfg->mode = SIM_MODE_DETERMINISTIC;
		} else if (!strcmp(v, "parallel")) {
			cfg->mode = SIM_MODE_PARALLEL;
		} else {
			bad_env("KHEAP_SIM_MODE", v,
				"deterministic or parallel");
		}
	}
	if ((v = getenv("KHEAP_SIM_CLOCK")) && *v) {
		if (!strcmp(v, "virtual")) {
			cfg->clock = SIM_CLOCK_VIRTUAL;
		} else if (!strcmp(v, "real")) {
			cfg->clock = SIM_CLOCK_REAL;
		} else {
			bad_env("KHEAP_SIM_CLOCK", v, "virtual or real");
		}
	}
	if ((v = getenv("KHEAP_SIM_TIES")) && *v) {
		if (!strcmp(v, "random")) {
			cfg->ties = SIM_TIES_RANDOM;
		} else if (!strcmp(v, "fifo")) {
			cfg->ties = SIM_TIES_FIFO;
		} else {
			bad_env("KHEAP_SIM_TIES", v, "random or fifo");
		}
	}
	if ((v = getenv("KHEAP_SIM_SEED")) && *v) {
		if (!sim_parse_seed(v, &cfg->seed)) {
			bad_env("KHEAP_SIM_SEED", v,
				"a decimal or 0x-hexadecimal number");
		}
	}
	if ((v = getenv("KHEAP_SIM_PREEMPT")) && *v) {
		char *end;
		unsigned long p = strtoul(v, &end, 10);
		if (*end || p > 100 || *v == '-') {
			bad_env("KHEAP_SIM_PREEMPT", v, "a percentage 0..100");
		}
		cfg->preempt_percent = (unsigned int)p;
	}
	if ((v = getenv("KHEAP_SIM_QUIET")) && *v) {
		if (!strcmp(v, "1")) {
			cfg->quiet = true;
		} else if (!strcmp(v, "0")) {
			cfg->quiet = false;
		} else {
			bad_env("KHEAP_SIM_QUIET", v, "0 or 1");
		}
	}
}

void sim_config_get(struct sim_config *cfg)
{
	sim_init_once();
	sim_lock();
	*cfg = sim.cfg;
	sim_unlock();
}

static void timers_clear_locked(void)
{
	memset(sim.timers, 0, sizeof(sim.timers));
}

/* sim.mtx held; `self` is the one live thread. */
static void apply_config_locked(const struct sim_config *cfg,
				struct sim_thread *self)
{
	sim.cfg = *cfg;
	atomic_store(&sim_mode_now, (int)cfg->mode);
	atomic_store(&sim_clock_now, (int)cfg->clock);
	atomic_store(&sim_preempt_now, cfg->preempt_percent);
	atomic_store(&sim_vnow, 0);
	atomic_store(&sim_real_start_ns, sim_mono_ns());
	sim.rng = cfg->seed;
	sim.seq = 0;
	sim.next_id = 0;
	sim.switches = 0;
	timers_clear_locked();
	self->state = SIM_ST_RUNNING;
	self->deadline = -1;
	self->wait = SIM_W_NONE;
	sim.cpu = self;
	sim.running = 1;
}

void sim_banner(void)
{
	struct sim_config c;

	sim_config_get(&c);
	if (c.mode == SIM_MODE_DETERMINISTIC) {
		fprintf(stderr,
			"kheap sim: deterministic schedule, %s clock, %s ties, "
			"preempt %u%%, seed 0x%016" PRIx64
			" (replay: KHEAP_SIM_SEED=0x%016" PRIx64 ")\n",
			c.clock == SIM_CLOCK_VIRTUAL ? "virtual" : "real",
			c.ties == SIM_TIES_FIFO ? "fifo" : "random",
			c.preempt_percent, c.seed, c.seed);
	} else {
		fprintf(stderr, "kheap sim: parallel schedule, %s clock\n",
			c.clock == SIM_CLOCK_VIRTUAL ? "virtual" : "real");
	}
	fflush(stderr);
}

static void sim_init(void)
{
	struct sim_config cfg;

	sim_config_default(&cfg);
	sim_cond_init(&sim.idle_cv);
	sim_cond_init(&sim.never_cv);
	sim_cond_init(&sim.timer_cv);

	sim_lock();
	main_record.thread = &main_thread_obj;
	main_record.is_main = true;
	main_record.prio = CONFIG_MAIN_THREAD_PRIORITY;
	main_record.deadline = -1;
	snprintf(main_record.name, sizeof(main_record.name), "main");
	sim_cond_init(&main_record.cv);
	main_thread_obj.sim = &main_record;
	sim.threads = sim.threads_tail = &main_record;
	sim_tls.self = &main_record;
	apply_config_locked(&cfg, &main_record);
	sim_unlock();
	atomic_store(&sim_initialised, true);
	sim_heap_reports_install();

	if (!cfg.quiet) {
		sim_banner();
	}
}

void sim_init_once(void)
{
	if (!atomic_load_explicit(&sim_initialised, memory_order_acquire)) {
		pthread_once(&sim_once, sim_init);
	}
	sim_start_static_threads();
}

static void timer_thread_stop(void);

int sim_configure(const struct sim_config *cfg)
{
	if (!cfg || (unsigned int)cfg->mode > SIM_MODE_PARALLEL ||
	    (unsigned int)cfg->clock > SIM_CLOCK_REAL ||
	    (unsigned int)cfg->ties > SIM_TIES_FIFO ||
	    cfg->preempt_percent > 100) {
		return -EINVAL;
	}
	sim_init_once();
	struct sim_thread *self = sim_tls.self;
	if (!self || sim_tls.isr_depth > 0) {
		return -EBUSY;
	}

	timer_thread_stop();
	sim_lock();
	while (sim.idling) {
		sim_unlock();
		sched_yield();
		sim_lock();
	}
	for (struct sim_thread *t = sim.threads; t; t = t->all_next) {
		if (t != self && t->state != SIM_ST_DEAD) {
			sim_unlock();
			return -EBUSY;
		}
	}
	apply_config_locked(cfg, self);
	sim_unlock();

	sim_fault_clear();
	if (!cfg->quiet) {
		sim_banner();
	}
	return 0;
}

void sim_deadlock_hook_set(sim_deadlock_hook_t hook)
{
	sim_lock();
	deadlock_hook = hook;
	sim_unlock();
}

uint64_t sim_context_switches(void)
{
	sim_init_once();
	sim_lock();
	uint64_t n = sim.switches;
	sim_unlock();
	return n;
}

int sim_live_count_locked(void)
{
	int n = 0;

	for (struct sim_thread *t = sim.threads; t; t = t->all_next) {
		n += t->state != SIM_ST_DEAD;
	}
	return n;
}

int sim_threads_alive(void)
{
	sim_init_once();
	sim_lock();
	int n = sim_live_count_locked();
	sim_unlock();
	return n;
}

/* ---- thread records -------------------------------------------------- */

struct sim_thread *sim_self(void)
{
	if (!sim_tls.self) {
		sim_init_once();
	}
	return sim_tls.self;
}

struct sim_thread *sim_self_required(const char *op)
{
	struct sim_thread *self = sim_self();

	if (!self) {
		sim_fatal("%s called from a thread the simulator does not "
			  "manage (create threads with k_thread_create)",
			  op);
	}
	return self;
}

struct sim_thread *sim_record_find_locked(const struct k_thread *thread)
{
	for (struct sim_thread *t = sim.threads; t; t = t->all_next) {
		if (t->thread == thread) {
			return t;
		}
	}
	return NULL;
}

/* A record for a new thread: a dead one is recycled (records are never
 * freed, so a stale k_thread.sim pointer always points at a record). */
struct sim_thread *sim_record_new_locked(struct k_thread *thread)
{
	struct sim_thread *rec = NULL;

	for (struct sim_thread *t = sim.threads; t; t = t->all_next) {
		if (t->state == SIM_ST_DEAD && !t->is_main) {
			rec = t;
			break;
		}
	}
	if (!rec) {
		rec = calloc(1, sizeof(*rec));
		if (!rec) {
			sim_fatal("out of memory for a thread record");
		}
		sim_cond_init(&rec->cv);
		rec->state = SIM_ST_DEAD;
		sim.threads_tail->all_next = rec;
		sim.threads_tail = rec;
	}
	rec->thread = thread;
	rec->id = ++sim.next_id;
	return rec;
}

/* ---- wait queues ----------------------------------------------------- */

/* A _wait_q_t holds the head and tail of a singly linked list of thread
 * records (linked through wq_next). The head word is also read without
 * sim.mtx (z_unpend_all's fast path), so it is accessed atomically. */
static struct sim_thread *wq_head(_wait_q_t *wq)
{
	return (struct sim_thread *)__atomic_load_n(&wq->port_state[0],
						    __ATOMIC_RELAXED);
}

static void wq_set_head(_wait_q_t *wq, struct sim_thread *t)
{
	__atomic_store_n(&wq->port_state[0], (uintptr_t)t, __ATOMIC_RELAXED);
}

struct sim_thread *sim_wq_head_locked(_wait_q_t *wq)
{
	return wq_head(wq);
}

void sim_wq_push_locked(_wait_q_t *wq, struct sim_thread *t)
{
	struct sim_thread *tail = (struct sim_thread *)wq->port_state[1];

	t->wq = wq;
	t->wq_next = NULL;
	if (tail) {
		tail->wq_next = t;
	} else {
		wq_set_head(wq, t);
	}
	wq->port_state[1] = (uintptr_t)t;
}

void sim_wq_remove_locked(_wait_q_t *wq, struct sim_thread *t)
{
	struct sim_thread *prev = NULL;

	for (struct sim_thread *w = wq_head(wq); w; prev = w, w = w->wq_next) {
		if (w != t) {
			continue;
		}
		if (prev) {
			prev->wq_next = t->wq_next;
		} else {
			wq_set_head(wq, t->wq_next);
		}
		if ((struct sim_thread *)wq->port_state[1] == t) {
			wq->port_state[1] = (uintptr_t)prev;
		}
		break;
	}
	t->wq = NULL;
	t->wq_next = NULL;
}

/* The most urgent waiter, the earliest among equals. */
struct sim_thread *sim_wq_best_locked(_wait_q_t *wq)
{
	struct sim_thread *best = NULL;

	for (struct sim_thread *w = wq_head(wq); w; w = w->wq_next) {
		if (!best || w->prio < best->prio) {
			best = w;
		}
	}
	return best;
}

/* ---- readiness and blocking ------------------------------------------ */

static int eff_prio(const struct sim_thread *t)
{
	/* A thread being aborted runs its exit path before anyone else. */
	if (atomic_load_explicit(&t->abort_requested, memory_order_relaxed)) {
		return INT32_MIN;
	}
	return t->prio;
}

void sim_make_ready_locked(struct sim_thread *t, int result)
{
	if (t->state != SIM_ST_BLOCKED) {
		return;
	}
	if (t->wq) {
		sim_wq_remove_locked(t->wq, t);
	}
	t->wait = SIM_W_NONE;
	t->wait_obj = NULL;
	t->deadline = -1;
	t->wake_result = result;
	t->state = SIM_ST_READY;
	t->ready_seq = ++sim.seq;
	if (!sim_is_det()) {
		sim.running++;
		pthread_cond_signal(&t->cv);
	}
}

bool sim_preemptible(const struct sim_thread *self)
{
	return self->prio >= 0 && self->sched_lock == 0 &&
	       sim_tls.hold_depth == 0 && sim_tls.isr_depth == 0;
}

static int cmp_ready_seq(const void *a, const void *b)
{
	const struct sim_thread *x = *(struct sim_thread *const *)a;
	const struct sim_thread *y = *(struct sim_thread *const *)b;

	return x->ready_seq < y->ready_seq ? -1 : x->ready_seq > y->ready_seq;
}

/*
 * Deterministic mode: the ready thread to run next (other than
 * `exclude`): the most urgent; among equals the earliest ready (FIFO
 * ties) or one drawn from the seed in ready order (random ties), so the
 * choice depends only on the seed and the program, never on record
 * layout.
 */
static struct sim_thread *det_pick_locked(const struct sim_thread *exclude)
{
	struct sim_thread *first = NULL;
	int best = 0;
	size_t n = 0;

	for (struct sim_thread *t = sim.threads; t; t = t->all_next) {
		if (t->state != SIM_ST_READY || t == exclude) {
			continue;
		}
		int p = eff_prio(t);
		if (!first || p < best) {
			first = t;
			best = p;
			n = 1;
		} else if (p == best) {
			n++;
			if (t->ready_seq < first->ready_seq) {
				first = t;
			}
		}
	}
	if (n <= 1 || sim.cfg.ties == SIM_TIES_FIFO) {
		return first;
	}
	if (n > cand_cap) {
		size_t cap = n * 2;
		struct sim_thread **c = realloc(cand, cap * sizeof(*c));
		if (!c) {
			sim_fatal("out of memory");
		}
		cand = c;
		cand_cap = cap;
	}
	size_t k = 0;
	for (struct sim_thread *t = sim.threads; t; t = t->all_next) {
		if (t->state == SIM_ST_READY && t != exclude &&
		    eff_prio(t) == best) {
			cand[k++] = t;
		}
	}
	qsort(cand, k, sizeof(*cand), cmp_ready_seq);
	return cand[sim_rand_locked() % k];
}

static void det_give_locked(struct sim_thread *next)
{
	if (sim.cpu != next) {
		sim.switches++;
	}
	sim.cpu = next;
	next->state = SIM_ST_RUNNING;
	pthread_cond_signal(&next->cv);
}

static void det_wait_cpu_locked(struct sim_thread *self)
{
	while (sim.cpu != self) {
		pthread_cond_wait(&self->cv, &sim.mtx);
	}
}

static k_ticks_t next_event_locked(void)
{
	k_ticks_t next = -1;

	for (struct sim_thread *t = sim.threads; t; t = t->all_next) {
		if (t->state == SIM_ST_BLOCKED && t->deadline >= 0 &&
		    (next < 0 || t->deadline < next)) {
			next = t->deadline;
		}
	}
	for (int i = 0; i < SIM_TIMER_IRQ_MAX; i++) {
		struct sim_timer *tm = &sim.timers[i];
		if (tm->active && (next < 0 || tm->next_due < next)) {
			next = tm->next_due;
		}
	}
	return next;
}

/* Run due timer handlers in ISR context, earliest first (sim.mtx is
 * dropped while each runs). */
static void run_timers_locked(k_ticks_t now, struct sim_thread *interrupted)
{
	for (;;) {
		struct sim_timer *due = NULL;
		for (int i = 0; i < SIM_TIMER_IRQ_MAX; i++) {
			struct sim_timer *tm = &sim.timers[i];
			if (tm->active && tm->next_due <= now &&
			    (!due || tm->next_due < due->next_due)) {
				due = tm;
			}
		}
		if (!due) {
			return;
		}
		sim_timer_handler_t h = due->handler;
		void *arg = due->arg;
		due->next_due += due->period;
		sim_unlock();
		sim_run_isr(h, arg, interrupted);
		sim_lock();
	}
}

static int cmp_expiry(const void *a, const void *b)
{
	const struct sim_thread *x = *(struct sim_thread *const *)a;
	const struct sim_thread *y = *(struct sim_thread *const *)b;

	if (x->deadline != y->deadline) {
		return x->deadline < y->deadline ? -1 : 1;
	}
	return x->block_seq < y->block_seq ? -1 : x->block_seq > y->block_seq;
}

/* Time out every thread whose deadline is <= now (in deadline order,
 * then blocking order), then run due timer interrupts. */
static void expire_locked(k_ticks_t now, struct sim_thread *interrupted)
{
	size_t n = 0;

	for (struct sim_thread *t = sim.threads; t; t = t->all_next) {
		n += t->state == SIM_ST_BLOCKED && t->deadline >= 0 &&
		     t->deadline <= now;
	}
	if (n > 0) {
		if (n > cand_cap) {
			struct sim_thread **c =
				realloc(cand, n * 2 * sizeof(*c));
			if (!c) {
				sim_fatal("out of memory");
			}
			cand = c;
			cand_cap = n * 2;
		}
		size_t k = 0;
		for (struct sim_thread *t = sim.threads; t; t = t->all_next) {
			if (t->state == SIM_ST_BLOCKED && t->deadline >= 0 &&
			    t->deadline <= now) {
				cand[k++] = t;
			}
		}
		qsort(cand, k, sizeof(*cand), cmp_expiry);
		for (size_t i = 0; i < k; i++) {
			sim_make_ready_locked(cand[i], -EAGAIN);
		}
	}
	run_timers_locked(now, interrupted);
}

/* ---- deadlock and the end of the program ----------------------------- */

static void describe_wait(FILE *f, const struct sim_thread *t)
{
	const struct k_thread *other = t->wait_obj;
	const struct sim_thread *o = NULL;

	if (t->wait == SIM_W_JOIN || t->wait == SIM_W_ABORT) {
		o = sim_record_find_locked(other);
	}
	switch (t->wait) {
	case SIM_W_WAITQ:
		fprintf(f, "pending on wait queue %p (z_pend_curr)",
			t->wait_obj);
		break;
	case SIM_W_SEM:
		fprintf(f, "k_sem_take on k_sem %p", t->wait_obj);
		break;
	case SIM_W_JOIN:
		fprintf(f, "k_thread_join of thread \"%s\"", o ? o->name : "?");
		break;
	case SIM_W_ABORT:
		fprintf(f, "k_thread_abort of thread \"%s\"",
			o ? o->name : "?");
		break;
	case SIM_W_SLEEP:
		fprintf(f, "k_sleep");
		break;
	case SIM_W_START:
		fprintf(f, "start delay");
		break;
	case SIM_W_NOT_STARTED:
		fprintf(f, "not started (created with K_FOREVER, waiting for "
			   "k_thread_start)");
		break;
	case SIM_W_QUEUE:
		fprintf(f, "k_queue_get on k_queue %p", t->wait_obj);
		break;
	case SIM_W_MSGQ_PUT:
		fprintf(f, "k_msgq_put on full k_msgq %p", t->wait_obj);
		break;
	case SIM_W_MSGQ_GET:
		fprintf(f, "k_msgq_get on empty k_msgq %p", t->wait_obj);
		break;
	case SIM_W_MUTEX: {
		const struct k_mutex *m = t->wait_obj;

		o = m->owner ? sim_record_find_locked(m->owner) : NULL;
		fprintf(f, "k_mutex_lock on k_mutex %p held by thread \"%s\"",
			t->wait_obj, o ? o->name : "?");
		break;
	}
	case SIM_W_CONDVAR:
		fprintf(f, "k_condvar_wait on k_condvar %p", t->wait_obj);
		break;
	case SIM_W_NONE:
		fprintf(f, "running");
		break;
	}
	if (t->deadline >= 0) {
		fprintf(f, " until tick %" PRId64, t->deadline);
	} else if (t->wait != SIM_W_NOT_STARTED && t->wait != SIM_W_NONE) {
		fprintf(f, " forever");
	}
	if (t->site_file) {
		fprintf(f, " at %s:%d", t->site_file, t->site_line);
	}
}

static void list_threads(FILE *f)
{
	for (struct sim_thread *t = sim.threads; t; t = t->all_next) {
		if (t->state == SIM_ST_DEAD) {
			continue;
		}
		fprintf(f, "kheap sim:   thread \"%s\" (prio %d): ", t->name,
			t->prio);
		describe_wait(f, t);
		fprintf(f, "\n");
	}
}

/* Every live thread is blocked and no deadline or timer is pending. */
static _Noreturn void no_progress_locked(void)
{
	char *report = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&report, &len);

	if (!f) {
		sim_fatal("deadlock (and no memory for the report)");
	}
	if (sim.main_returned) {
		/* main() has returned: on a device the system would idle
		 * for ever; here the program ends with main's status. */
		fprintf(f,
			"kheap sim: main() returned and every remaining thread "
			"is blocked for ever; exiting with status %d\n",
			sim.main_rc);
		list_threads(f);
		fclose(f);
		fputs(report, stderr);
		fflush(stderr);
		free(report);
		int rc = sim.main_rc;
		sim_unlock();
		fflush(stdout);
		exit(rc);
	}
	fprintf(f,
		"kheap sim: deadlock at tick %" PRId64
		": every thread is blocked and no timeout or timer interrupt "
		"is pending\n",
		sim_now());
	list_threads(f);
	if (sim.cfg.mode == SIM_MODE_DETERMINISTIC) {
		fprintf(f,
			"kheap sim: deterministic schedule, %s clock, seed "
			"0x%016" PRIx64 " (replay: KHEAP_SIM_SEED=0x%016" PRIx64
			")\n",
			sim.cfg.clock == SIM_CLOCK_VIRTUAL ? "virtual" : "real",
			sim.cfg.seed, sim.cfg.seed);
	} else {
		fprintf(f, "kheap sim: parallel schedule, %s clock\n",
			sim.cfg.clock == SIM_CLOCK_VIRTUAL ? "virtual"
							   : "real");
	}
	fclose(f);
	fflush(stdout);
	fputs(report, stderr);
	fflush(stderr);
	z_sim_trace_flush();
	if (deadlock_hook) {
		deadlock_hook(report);
	}
	abort();
}

/* No live thread is left (main() returned or was aborted). */
static _Noreturn void finish_locked(void)
{
	int rc = sim.main_returned ? sim.main_rc : 0;

	sim_unlock();
	fflush(stdout);
	exit(rc);
}

/* ---- the deterministic scheduler -------------------------------------- */

/* Nothing is ready: advance time to the next event (virtual) or wait for
 * it (real), then time threads out and run timer interrupts. */
static void det_idle_step_locked(void)
{
	sim.cpu = NULL;
	if (sim_live_count_locked() == 0) {
		finish_locked();
	}
	k_ticks_t next = next_event_locked();
	if (next < 0) {
		no_progress_locked();
	}
	k_ticks_t now;
	if (sim_is_virtual()) {
		now = atomic_load(&sim_vnow);
		if (next > now) {
			now = next;
			atomic_store(&sim_vnow, now);
		}
	} else {
		while ((now = sim_now()) < next) {
			struct timespec at = tick_abstime(next);
			pthread_cond_timedwait(&sim.idle_cv, &sim.mtx, &at);
		}
	}
	expire_locked(now, NULL);
}

/* self's state is already BLOCKED, READY or DEAD: run the next thread
 * (idling until one is ready) and return when self runs again, or at
 * once once the CPU is handed on if self is DEAD. */
static void det_reschedule_locked(struct sim_thread *self)
{
	bool dead = self->state == SIM_ST_DEAD;

	for (;;) {
		struct sim_thread *next = det_pick_locked(NULL);
		if (next) {
			det_give_locked(next);
			break;
		}
		det_idle_step_locked();
	}
	if (!dead) {
		det_wait_cpu_locked(self);
	}
}

/* ---- the parallel scheduler ------------------------------------------ */

static void par_idle_locked(void)
{
	while (sim.running == 0 && !sim.idling) {
		if (sim_live_count_locked() == 0) {
			finish_locked();
		}
		k_ticks_t next = next_event_locked();
		if (next < 0) {
			no_progress_locked();
		}
		if (!sim_is_virtual()) {
			/* Blocked threads time out on their own; the timer
			 * thread runs timer interrupts. */
			return;
		}
		sim.idling = true;
		k_ticks_t now = atomic_load(&sim_vnow);
		if (next > now) {
			now = next;
			atomic_store(&sim_vnow, now);
		}
		expire_locked(now, NULL);
		sim.idling = false;
	}
}

static void par_wait_locked(struct sim_thread *self)
{
	while (self->state == SIM_ST_BLOCKED) {
		if (!sim_is_virtual() && self->deadline >= 0) {
			struct timespec at = tick_abstime(self->deadline);
			pthread_cond_timedwait(&self->cv, &sim.mtx, &at);
			if (self->state == SIM_ST_BLOCKED &&
			    self->deadline >= 0 &&
			    sim_now() >= self->deadline) {
				sim_make_ready_locked(self, -EAGAIN);
			}
		} else {
			pthread_cond_wait(&self->cv, &sim.mtx);
		}
	}
	self->state = SIM_ST_RUNNING;
}

/* ---- scheduling entry points ----------------------------------------- */

static void exit_if_aborted_locked(struct sim_thread *self)
{
	if (atomic_load(&self->abort_requested) && !self->exiting &&
	    sim_tls.isr_depth == 0) {
		sim_unlock();
		sim_thread_exit(self);
	}
}

void sim_check_abort(struct sim_thread *self)
{
	if (self && atomic_load(&self->abort_requested) && !self->exiting &&
	    sim_tls.isr_depth == 0) {
		sim_thread_exit(self);
	}
}

void sim_wait_to_run_locked(struct sim_thread *self)
{
	if (sim_is_det()) {
		det_wait_cpu_locked(self);
	} else {
		par_wait_locked(self);
	}
}

int sim_block_locked(struct sim_thread *self, enum sim_wait kind,
		     const void *obj, _wait_q_t *wq, k_ticks_t deadline)
{
	exit_if_aborted_locked(self);
	self->wait = kind;
	self->wait_obj = obj;
	self->deadline = deadline;
	self->block_seq = ++sim.seq;
	self->site_file = sim_tls.site_file;
	self->site_line = sim_tls.site_line;
	self->wake_result = 0;
	self->state = SIM_ST_BLOCKED;
	if (wq) {
		sim_wq_push_locked(wq, self);
	}
	if (sim_is_det()) {
		det_reschedule_locked(self);
	} else {
		sim.running--;
		par_idle_locked();
		par_wait_locked(self);
	}
	exit_if_aborted_locked(self);
	return self->wake_result;
}

void sim_point_locked(struct sim_thread *self, bool extra)
{
	exit_if_aborted_locked(self);
	if (!sim_is_det() || sim_tls.isr_depth > 0 || sim.cpu != self) {
		return;
	}
	if (!sim_is_virtual()) {
		expire_locked(sim_now(), self);
	}
	if (!sim_preemptible(self)) {
		return;
	}
	struct sim_thread *next = det_pick_locked(self);
	if (!next) {
		return;
	}
	if (eff_prio(next) < self->prio) {
		/* Preempted: keeps its place among its equals. */
		self->state = SIM_ST_READY;
	} else if (extra && sim.cfg.preempt_percent > 0 &&
		   eff_prio(next) == self->prio &&
		   sim_rand_locked() % 100 < sim.cfg.preempt_percent) {
		/* Extra preemption point taken: behind its equals. */
		self->state = SIM_ST_READY;
		self->ready_seq = ++sim.seq;
	} else {
		return;
	}
	det_give_locked(next);
	det_wait_cpu_locked(self);
	exit_if_aborted_locked(self);
}

void sim_yield_locked(struct sim_thread *self)
{
	exit_if_aborted_locked(self);
	if (!sim_is_det()) {
		sim_unlock();
		sched_yield();
		sim_lock();
		return;
	}
	if (sim.cpu != self) {
		return;
	}
	if (!sim_is_virtual()) {
		expire_locked(sim_now(), self);
	}
	struct sim_thread *next = det_pick_locked(self);
	if (!next || eff_prio(next) > self->prio) {
		return;
	}
	self->state = SIM_ST_READY;
	self->ready_seq = ++sim.seq;
	det_give_locked(next);
	det_wait_cpu_locked(self);
	exit_if_aborted_locked(self);
}

void sim_leave_locked(struct sim_thread *self)
{
	if (sim_is_det()) {
		if (sim.cpu == self) {
			det_reschedule_locked(self);
		}
	} else {
		sim.running--;
		par_idle_locked();
	}
}

/* ---- timer interrupts ------------------------------------------------- */

static void *timer_thread_main(void *arg)
{
	(void)arg;
	sim_lock();
	while (!sim.timer_thread_stop) {
		k_ticks_t next = -1;
		for (int i = 0; i < SIM_TIMER_IRQ_MAX; i++) {
			struct sim_timer *tm = &sim.timers[i];
			if (tm->active && (next < 0 || tm->next_due < next)) {
				next = tm->next_due;
			}
		}
		if (next < 0) {
			pthread_cond_wait(&sim.timer_cv, &sim.mtx);
			continue;
		}
		k_ticks_t now = sim_now();
		if (now < next) {
			struct timespec at = tick_abstime(next);
			pthread_cond_timedwait(&sim.timer_cv, &sim.mtx, &at);
			continue;
		}
		run_timers_locked(now, NULL);
	}
	sim_unlock();
	return NULL;
}

static void timer_thread_stop(void)
{
	sim_lock();
	if (!sim.timer_thread_running) {
		sim_unlock();
		return;
	}
	sim.timer_thread_stop = true;
	pthread_cond_broadcast(&sim.timer_cv);
	pthread_t tid = sim.timer_thread;
	sim_unlock();
	pthread_join(tid, NULL);
	sim_lock();
	sim.timer_thread_running = false;
	sim.timer_thread_stop = false;
	sim_unlock();
}

int sim_timer_irq_register(sim_timer_handler_t handler, void *arg,
			   k_ticks_t period_ticks)
{
	if (!handler || period_ticks < 1) {
		return -EINVAL;
	}
	sim_init_once();
	sim_lock();
	int id = -ENOMEM;
	for (int i = 0; i < SIM_TIMER_IRQ_MAX; i++) {
		if (!sim.timers[i].active) {
			id = i;
			break;
		}
	}
	if (id >= 0) {
		struct sim_timer *tm = &sim.timers[id];
		tm->active = true;
		tm->handler = handler;
		tm->arg = arg;
		tm->period = period_ticks;
		tm->next_due = sim_now() + period_ticks;
		if (!sim_is_det() && !sim_is_virtual()) {
			if (!sim.timer_thread_running) {
				if (pthread_create(&sim.timer_thread, NULL,
						   timer_thread_main, NULL)) {
					sim_fatal("cannot create the timer "
						  "thread");
				}
				sim.timer_thread_running = true;
			}
			pthread_cond_broadcast(&sim.timer_cv);
		}
	}
	sim_unlock();
	return id;
}

int sim_timer_irq_unregister(int id)
{
	if (id < 0 || id >= SIM_TIMER_IRQ_MAX) {
		return -EINVAL;
	}
	sim_init_once();
	sim_lock();
	int rc = sim.timers[id].active ? 0 : -EINVAL;
	sim.timers[id].active = false;
	sim_unlock();
	return rc;
}
