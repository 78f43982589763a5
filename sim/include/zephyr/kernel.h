/* SPDX-License-Identifier: Apache-2.0 */
/*
 * <zephyr/kernel.h> for the kheap simulator: the part of Zephyr's kernel
 * API that code using the memory API needs (threads, sleeping, time, a
 * semaphore, queues, FIFOs, LIFOs, message queues, mutexes, condition
 * variables, printk, ISR context, spinlocks) plus kheap's k_heap/k_malloc
 * family, implemented on POSIX threads. See docs/simulator.md for the
 * clocks, the schedules and the differences from a real Zephyr kernel.
 *
 * Everything here may be called from any simulated thread (main() is one,
 * priority 0). Calls that may block are faults in ISR context.
 */
#ifndef ZEPHYR_KERNEL_H
#define ZEPHYR_KERNEL_H

#include <errno.h>
#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <kheap/port.h>
#include <kheap/k_heap.h>
#include <zephyr/kernel/thread_stack.h>
#include <zephyr/sys/printk.h>
#include <zephyr/sys/util.h>
#include <zephyr/sys_clock.h>
#include <zephyr/toolchain.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ---- configuration (Zephyr's defaults) ------------------------------ */

#ifndef CONFIG_NUM_COOP_PRIORITIES
#define CONFIG_NUM_COOP_PRIORITIES 16
#endif
#ifndef CONFIG_NUM_PREEMPT_PRIORITIES
#define CONFIG_NUM_PREEMPT_PRIORITIES 15
#endif
#ifndef CONFIG_MAIN_THREAD_PRIORITY
#define CONFIG_MAIN_THREAD_PRIORITY 0
#endif
/* Hardware cycle counter rate behind k_cycle_get_32(). */
#ifndef CONFIG_SYS_CLOCK_HW_CYCLES_PER_SEC
#define CONFIG_SYS_CLOCK_HW_CYCLES_PER_SEC 100000000
#endif
#ifndef CONFIG_THREAD_MAX_NAME_LEN
#define CONFIG_THREAD_MAX_NAME_LEN 32
#endif
#ifndef CONFIG_MP_MAX_NUM_CPUS
#define CONFIG_MP_MAX_NUM_CPUS 1
#endif

/* ---- priorities ------------------------------------------------------ */

/* Lower numbers are more urgent. Negative priorities are cooperative:
 * such a thread runs until it blocks, sleeps or yields. */
#define K_PRIO_COOP(x) (-(CONFIG_NUM_COOP_PRIORITIES - (x)))
#define K_PRIO_PREEMPT(x) (x)

#define K_HIGHEST_THREAD_PRIO (-CONFIG_NUM_COOP_PRIORITIES)
#define K_LOWEST_THREAD_PRIO CONFIG_NUM_PREEMPT_PRIORITIES
#define K_IDLE_PRIO K_LOWEST_THREAD_PRIO
#define K_HIGHEST_APPLICATION_THREAD_PRIO (K_HIGHEST_THREAD_PRIO)
#define K_LOWEST_APPLICATION_THREAD_PRIO (K_LOWEST_THREAD_PRIO - 1)

/* Thread options (accepted and ignored by the simulator). */
#define K_ESSENTIAL (1U << 0)
#define K_FP_REGS (1U << 1)
#define K_USER (1U << 2)
#define K_INHERIT_PERMS (1U << 3)
#define K_FP_IDX 1

/* ---- timeouts beyond port.h ----------------------------------------- */

#ifndef K_MINUTES
#define K_MINUTES(m) K_SECONDS((int64_t)(m)*60)
#endif
#ifndef K_HOURS
#define K_HOURS(h) K_MINUTES((int64_t)(h)*60)
#endif
#ifndef K_NSEC
#define K_NSEC(ns) Z_TIMEOUT_NS(ns)
#endif
#define SYS_FOREVER_MS (-1)
#define SYS_FOREVER_US (-1)
#define SYS_TIMEOUT_MS(ms) ((ms) == SYS_FOREVER_MS ? K_FOREVER : K_MSEC(ms))

/* ---- threads --------------------------------------------------------- */

typedef void (*k_thread_entry_t)(void *p1, void *p2, void *p3);

struct sim_thread;

struct k_thread {
	union {
		/* The kernel layer's per-thread data (resource pool etc.);
		 * zeroed by k_thread_create. */
		struct kheap_thread_data kheap;
		/* Zephyr's name for the thread's resource pool: the same
		 * storage as kheap.resource_pool, so code that writes
		 * k_current_get()->resource_pool = NULL changes the pool
		 * z_thread_malloc, k_queue_alloc_append and
		 * k_msgq_alloc_init use. */
		struct {
			struct k_heap *resource_pool;
		};
	};
	/* The simulator's record of the thread (private). */
	struct sim_thread *sim;
};

typedef struct k_thread *k_tid_t;

/**
 * Create a thread running entry(p1, p2, p3) at priority prio. The stack
 * is only checked for presence (the thread runs on a pthread stack). With
 * delay K_NO_WAIT it is ready at once (it runs now if it is more urgent
 * than a preemptible caller); K_FOREVER: not started until
 * k_thread_start(); otherwise it starts after delay. options are
 * ignored. Reusing a thread object requires that its thread has exited.
 */
k_tid_t k_thread_create(struct k_thread *new_thread, k_thread_stack_t *stack,
			size_t stack_size, k_thread_entry_t entry, void *p1,
			void *p2, void *p3, int prio, uint32_t options,
			k_timeout_t delay);

/** Start a thread created with delay K_FOREVER (no-op otherwise). */
void k_thread_start(k_tid_t thread);

/**
 * Wait for thread to exit. 0 when it has (also at once if it already
 * had), -EBUSY with K_NO_WAIT if it has not, -EAGAIN on timeout,
 * -EDEADLK when joining itself or a thread that is joining the caller.
 */
int k_thread_join(struct k_thread *thread, k_timeout_t timeout);

/**
 * End thread. When it returns the thread has exited (its resource pool
 * blocks released, joiners woken). Aborting the calling thread does not
 * return. Parallel mode: a running thread ends at its next kernel call.
 */
void k_thread_abort(k_tid_t thread);

/** Name a thread (copied, truncated to CONFIG_THREAD_MAX_NAME_LEN - 1
 * bytes); NULL thread = the caller. Returns 0. */
int k_thread_name_set(k_tid_t thread, const char *str);
const char *k_thread_name_get(k_tid_t thread);

int k_thread_priority_get(k_tid_t thread);
void k_thread_priority_set(k_tid_t thread, int prio);

/** The running thread (in an ISR: the interrupted thread, or the idle
 * thread). */
k_tid_t k_current_get(void);

/** Non-zero if the caller is a preemptible thread (not coop, scheduler
 * not locked, not in an ISR). */
int k_is_preempt_thread(void);

/** Let other ready threads of the same or higher priority run. */
void k_yield(void);

/** Sleep for timeout (K_FOREVER: until k_wakeup). Returns 0, or the
 * milliseconds left when woken early by k_wakeup. */
int32_t k_sleep(k_timeout_t timeout);
int32_t k_msleep(int32_t ms);
int32_t k_usleep(int32_t us);

/** End a k_sleep of thread early. */
void k_wakeup(k_tid_t thread);

/** Spin for usec microseconds. Real clock: busy waits; virtual clock:
 * time cannot pass while a thread runs, so this sleeps instead (other
 * threads may run meanwhile, unlike on a device). */
void k_busy_wait(uint32_t usec);

/** Keep the calling thread from being preempted until k_sched_unlock()
 * (nests). */
void k_sched_lock(void);
void k_sched_unlock(void);

/*
 * K_THREAD_DEFINE: a thread created and started by the simulator before
 * main() runs (like Zephyr's static threads, which start before main):
 * one more urgent than main (priority 0) runs before main() starts, one
 * less urgent runs when main blocks. delay is in milliseconds
 * (SYS_FOREVER_MS: not started until k_thread_start).
 */
struct z_sim_static_thread {
	struct k_thread *thread;
	k_thread_stack_t *stack;
	size_t stack_size;
	k_thread_entry_t entry;
	void *p1, *p2, *p3;
	int prio;
	uint32_t options;
	int32_t delay_ms;
	const char *thread_name;
	struct z_sim_static_thread *next;
};

void z_sim_static_thread_register(struct z_sim_static_thread *desc);

#define K_THREAD_DEFINE(name, z_stack_size, z_entry, z_p1, z_p2, z_p3, z_prio, \
			z_options, z_delay)                                    \
	K_THREAD_STACK_DEFINE(_k_thread_stack_##name, z_stack_size);           \
	struct k_thread _k_thread_obj_##name;                                  \
	static struct z_sim_static_thread _k_thread_data_##name = {            \
		.thread = &_k_thread_obj_##name,                               \
		.stack = _k_thread_stack_##name,                               \
		.stack_size = K_THREAD_STACK_SIZEOF(_k_thread_stack_##name),   \
		.entry = (k_thread_entry_t)(z_entry),                          \
		.p1 = (void *)(z_p1),                                          \
		.p2 = (void *)(z_p2),                                          \
		.p3 = (void *)(z_p3),                                          \
		.prio = (z_prio),                                              \
		.options = (z_options),                                        \
		.delay_ms = (z_delay),                                         \
		.thread_name = #name,                                          \
	};                                                                     \
	__attribute__((                                                        \
		__constructor__)) static void _k_thread_register_##name(void)  \
	{                                                                      \
		z_sim_static_thread_register(&_k_thread_data_##name);          \
	}                                                                      \
	const k_tid_t name = &_k_thread_obj_##name

/* ---- time ------------------------------------------------------------ */

/** Milliseconds since boot (floor). */
int64_t k_uptime_get(void);
uint32_t k_uptime_get_32(void);
/** Ticks since boot. */
int64_t k_uptime_ticks(void);
/** Milliseconds since *reftime; updates *reftime to now. */
int64_t k_uptime_delta(int64_t *reftime);
/** The hardware cycle counter (CONFIG_SYS_CLOCK_HW_CYCLES_PER_SEC). */
uint32_t k_cycle_get_32(void);
uint64_t k_cycle_get_64(void);

static inline uint32_t sys_clock_hw_cycles_per_sec(void)
{
	return CONFIG_SYS_CLOCK_HW_CYCLES_PER_SEC;
}

static inline uint64_t k_ms_to_ticks_ceil64(uint64_t ms)
{
	return (ms * CONFIG_SYS_CLOCK_TICKS_PER_SEC + 999) / 1000;
}

static inline uint32_t k_ms_to_ticks_ceil32(uint32_t ms)
{
	return (uint32_t)k_ms_to_ticks_ceil64(ms);
}

static inline uint64_t k_ticks_to_ms_floor64(uint64_t ticks)
{
	return ticks * 1000 / CONFIG_SYS_CLOCK_TICKS_PER_SEC;
}

static inline uint32_t k_ticks_to_ms_floor32(uint32_t ticks)
{
	return (uint32_t)k_ticks_to_ms_floor64(ticks);
}

static inline uint64_t k_ticks_to_us_floor64(uint64_t ticks)
{
	return ticks * 1000000 / CONFIG_SYS_CLOCK_TICKS_PER_SEC;
}

static inline uint64_t k_cyc_to_ns_floor64(uint64_t cycles)
{
	const uint64_t hz = CONFIG_SYS_CLOCK_HW_CYCLES_PER_SEC;

	return cycles / hz * 1000000000u + cycles % hz * 1000000000u / hz;
}

static inline uint64_t k_cyc_to_us_floor64(uint64_t cycles)
{
	const uint64_t hz = CONFIG_SYS_CLOCK_HW_CYCLES_PER_SEC;

	return cycles / hz * 1000000u + cycles % hz * 1000000u / hz;
}

/* ---- semaphores ------------------------------------------------------ */

struct k_sem {
	unsigned int count;
	unsigned int limit;
	_wait_q_t wait_q;
};

#define K_SEM_MAX_LIMIT UINT_MAX

#define Z_SEM_INITIALIZER(obj, initial_count, count_limit)                     \
	{                                                                      \
		.count = (initial_count), .limit = (count_limit),              \
		.wait_q = {{0}},                                               \
	}

#define K_SEM_DEFINE(name, initial_count, count_limit)                         \
	struct k_sem name =                                                    \
		Z_SEM_INITIALIZER(name, initial_count, count_limit);           \
	_Static_assert((count_limit) != 0 && (initial_count) <= (count_limit), \
		       "K_SEM_DEFINE: bad count or limit")

/** 0, or -EINVAL if limit is 0 or initial_count > limit. */
int k_sem_init(struct k_sem *sem, unsigned int initial_count,
	       unsigned int limit);

/**
 * Take the semaphore: 0 on success, -EBUSY if unavailable with K_NO_WAIT,
 * -EAGAIN on timeout or k_sem_reset(). Waiters are served most urgent
 * first, then in arrival order. Only K_NO_WAIT in an ISR.
 */
int k_sem_take(struct k_sem *sem, k_timeout_t timeout);

/** Give: wake the first waiter, or count up to the limit. ISR-safe. */
void k_sem_give(struct k_sem *sem);

/** Count to 0; waiters return -EAGAIN. */
void k_sem_reset(struct k_sem *sem);

unsigned int k_sem_count_get(struct k_sem *sem);

/* ---- queues, FIFOs, LIFOs, message queues, mutexes, condition
 * variables -------------------------------------------------------------- */

#include <kheap/sim_kobjects.h>

/* ---- call sites for diagnostics ------------------------------------- */

/*
 * Blocking calls made through this header record their call site, which
 * the deadlock report prints as the thread's wait site. The functions
 * keep their addresses (the macros are function-like).
 */
void z_sim_site_set(const char *file, int line);

#ifndef KHEAP_SIM_INTERNAL
#define Z_SIM_AT(call) (z_sim_site_set(__FILE__, __LINE__), call)
#define k_sem_take(sem, timeout) Z_SIM_AT(k_sem_take(sem, timeout))
#define k_thread_join(thread, timeout) Z_SIM_AT(k_thread_join(thread, timeout))
#define k_thread_abort(thread) Z_SIM_AT(k_thread_abort(thread))
#define k_sleep(timeout) Z_SIM_AT(k_sleep(timeout))
#define k_msleep(ms) Z_SIM_AT(k_msleep(ms))
#define k_usleep(us) Z_SIM_AT(k_usleep(us))
#define k_heap_alloc(heap, bytes, timeout)                                     \
	Z_SIM_AT(k_heap_alloc(heap, bytes, timeout))
#define k_heap_aligned_alloc(heap, align, bytes, timeout)                      \
	Z_SIM_AT(k_heap_aligned_alloc(heap, align, bytes, timeout))
#define k_heap_calloc(heap, num, size, timeout)                                \
	Z_SIM_AT(k_heap_calloc(heap, num, size, timeout))
#define k_heap_realloc(heap, ptr, bytes, timeout)                              \
	Z_SIM_AT(k_heap_realloc(heap, ptr, bytes, timeout))
#define k_queue_get(queue, timeout) Z_SIM_AT(k_queue_get(queue, timeout))
#define k_msgq_put(msgq, data, timeout)                                        \
	Z_SIM_AT(k_msgq_put(msgq, data, timeout))
#define k_msgq_get(msgq, data, timeout)                                        \
	Z_SIM_AT(k_msgq_get(msgq, data, timeout))
#define k_mutex_lock(mutex, timeout) Z_SIM_AT(k_mutex_lock(mutex, timeout))
#define k_condvar_wait(condvar, mutex, timeout)                                \
	Z_SIM_AT(k_condvar_wait(condvar, mutex, timeout))
#endif

#ifdef __cplusplus
}
#endif

#endif /* ZEPHYR_KERNEL_H */
