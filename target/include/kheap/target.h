/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The bare-metal Cortex-M port of kheap (target/): what a program running
 * on it can use beyond kheap's own API.
 *
 * Execution model: one thread of execution, the main program (the
 * "current thread" of kheap/port.h), plus interrupt handlers. The heap
 * lock masks interrupts: PRIMASK on ARMv6-M and ARMv8-M baseline, BASEPRI
 * (threshold TARGET_LOCK_BASEPRI) on ARMv7-M and ARMv8-M mainline. A
 * blocking call waits with WFI until an interrupt handler frees memory or
 * its deadline passes. The tick comes from SysTick at
 * CONFIG_SYS_CLOCK_TICKS_PER_SEC.
 *
 * Output and the exit status go through semihosting (newlib's rdimon), so
 * under QEMU `exit(n)` becomes QEMU's exit status.
 */
#ifndef KHEAP_TARGET_H
#define KHEAP_TARGET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <kheap/k_heap.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ---- exit statuses ---------------------------------------------------- */

/* What a target image's exit status means (QEMU passes it on). */
enum target_exit_status {
	TARGET_EXIT_PASS = 0,
	/* main() returned non-zero: a test failed. */
	TARGET_EXIT_FAIL = 1,
	/* main() refused its arguments. */
	TARGET_EXIT_USAGE = 2,
	/* kheap_port_fault() with no hook installed. */
	TARGET_EXIT_KHEAP_FAULT = 3,
	/* HardFault, MemManage, BusFault, UsageFault or SecureFault. */
	TARGET_EXIT_CPU_FAULT = 4,
	/* An interrupt nobody connected a handler to. */
	TARGET_EXIT_UNEXPECTED_IRQ = 5,
	/* abort(), a failed assert() or a kheap internal assert. */
	TARGET_EXIT_ABORT = 6,
	/* At exit: the stack was used up to its limit (the images paint it
	 * at reset and check the mark). */
	TARGET_EXIT_STACK_OVERFLOW = 7,
};

/* Print "target: <message>" on stderr and exit with `status` at once
 * (no atexit handlers). Callable from interrupt handlers. */
void target_panic(int status, const char *message) __attribute__((noreturn));

/* The most stack the program has used so far (the stack is painted at
 * reset; the images print this at exit). */
size_t target_stack_used(void);

/* ---- architecture ----------------------------------------------------- */

/* Whether the heap lock raises BASEPRI (1) or sets PRIMASK (0). */
#ifndef TARGET_LOCK_USES_BASEPRI
#if defined(__ARM_ARCH_7M__) || defined(__ARM_ARCH_7EM__) ||                   \
	defined(__ARM_ARCH_8M_MAIN__) || defined(__ARM_ARCH_8_1M_MAIN__)
#define TARGET_LOCK_USES_BASEPRI 1
#else
#define TARGET_LOCK_USES_BASEPRI 0
#endif
#endif

/* Whether the core has the configurable fault registers (CFSR, CCR's
 * UNALIGN_TRP): ARMv7-M and ARMv8-M mainline. */
#if defined(__ARM_ARCH_7M__) || defined(__ARM_ARCH_7EM__) ||                   \
	defined(__ARM_ARCH_8M_MAIN__) || defined(__ARM_ARCH_8_1M_MAIN__)
#define TARGET_HAS_CFSR 1
#else
#define TARGET_HAS_CFSR 0
#endif

/*
 * Interrupt priorities (the top two bits only, so that every Cortex-M has
 * them; lower values are more urgent). With BASEPRI the lock masks
 * priority values >= TARGET_LOCK_BASEPRI: interrupts that use kheap must
 * be at TARGET_PRIO_KERNEL or below; TARGET_PRIO_ZERO_LATENCY stays
 * unmasked and must not call kheap. With PRIMASK everything is masked.
 */
#define TARGET_PRIO_ZERO_LATENCY 0x00u
#define TARGET_LOCK_BASEPRI 0x40u
#define TARGET_PRIO_KERNEL 0x80u
#define TARGET_PRIO_LOWEST 0xc0u

static inline uint32_t target_ipsr(void)
{
	uint32_t value;

	__asm__ volatile("mrs %0, ipsr" : "=r"(value));
	return value;
}

static inline uint32_t target_primask(void)
{
	uint32_t value;

	__asm__ volatile("mrs %0, primask" : "=r"(value));
	return value;
}

#if TARGET_LOCK_USES_BASEPRI
static inline uint32_t target_basepri(void)
{
	uint32_t value;

	__asm__ volatile("mrs %0, basepri" : "=r"(value));
	return value;
}
#endif

/* Mask all maskable interrupts; returns the previous PRIMASK. */
static inline uint32_t target_irq_save(void)
{
	uint32_t primask = target_primask();

	__asm__ volatile("cpsid i" ::: "memory");
	return primask;
}

static inline void target_irq_restore(uint32_t primask)
{
	if ((primask & 1u) == 0u) {
		__asm__ volatile("cpsie i" ::: "memory");
	}
}

/* ---- start-up ----------------------------------------------------------- */

/*
 * Start the port: SysTick ticking at CONFIG_SYS_CLOCK_TICKS_PER_SEC from a
 * clock of `systick_clock_hz` (the core clock; the board's start-up code
 * knows it), and the main thread's kernel-layer data. Call it once, in
 * thread mode, before the first kernel-layer call (the test images' reset
 * handler does). The port defines SysTick_Handler, the CMSIS name: the
 * program's vector table must route SysTick there. A clock whose reload
 * value (systick_clock_hz / CONFIG_SYS_CLOCK_TICKS_PER_SEC - 1) is not
 * 1 to 0xffffff is reported through kheap_port_fault and the tick is not
 * started. O(1).
 */
void target_port_init(uint32_t systick_clock_hz);

/* ---- time ------------------------------------------------------------- */

/* Called from the SysTick handler after each tick, with the new tick
 * count (NULL: none). Runs at TARGET_PRIO_KERNEL. */
typedef void (*target_tick_hook_t)(int64_t tick);
void target_tick_hook_set(target_tick_hook_t hook);

/* Wait (WFI) until the tick count has advanced by `ticks`. Thread mode. */
void target_sleep_ticks(uint32_t ticks);

/* What the waits in z_pend_curr did since boot, for tests. */
struct target_wait_stats {
	uint32_t pends;
	uint32_t woken;
	uint32_t timed_out;
	/* The ticks at which the last wait began and ended. */
	int64_t last_start_tick;
	int64_t last_end_tick;
};
void target_wait_stats_get(struct target_wait_stats *stats);

/* ---- interrupts ------------------------------------------------------- */

typedef void (*target_isr_t)(void);

/* Number of external interrupt lines in the vector table. */
#define TARGET_IRQ_COUNT 32u

/* Route external interrupt `irq` to `isr` at priority `prio` and enable
 * it in the NVIC. */
void target_irq_connect(unsigned int irq, target_isr_t isr, uint32_t prio);
void target_irq_disable(unsigned int irq);
/* Make external interrupt `irq` pending (software trigger). */
void target_irq_pend(unsigned int irq);

/* The PendSV exception (priority TARGET_PRIO_KERNEL) and its trigger. */
void target_pendsv_connect(target_isr_t isr);
void target_pendsv_pend(void);

/* ---- faults ----------------------------------------------------------- */

/*
 * kheap_port_fault() calls the hook instead of printing and exiting with
 * TARGET_EXIT_KHEAP_FAULT (NULL restores that default). The port's own
 * misuse reports (lock recursion, unlock misuse) go the same way. While a
 * hook is installed the faulting call returns and is refused, as
 * kheap/port.h describes.
 */
typedef void (*target_fault_hook_t)(const char *operation, const char *message,
				    const void *object, const void *pointer);
void target_fault_hook_set(target_fault_hook_t hook);

/* The port's own fault messages (operation "k_spin_lock", ...). */
extern const char target_msg_lock_recursive[];
extern const char target_msg_unlock_not_held[];
extern const char target_msg_unlock_not_owner[];
extern const char target_msg_unlock_wrong_key[];
extern const char target_msg_pend_in_isr[];
extern const char target_msg_pend_without_lock[];

/*
 * CPU faults: normally fatal (a report, then TARGET_EXIT_CPU_FAULT).
 * After target_cpu_fault_expect() the next one is recorded instead and
 * the faulting instruction is skipped, so a test can prove that an access
 * faults.
 */
struct target_cpu_fault {
	/* Exception number (3 HardFault, 4 MemManage, 5 BusFault, 6
	 * UsageFault, 7 SecureFault). */
	uint32_t exception;
	uint32_t pc;
	/* CFSR and HFSR where the architecture has them, else 0. */
	uint32_t cfsr;
	uint32_t hfsr;
};
void target_cpu_fault_expect(void);
/* Faults recorded since the last expect; *last gets the last one. */
unsigned int target_cpu_faults_seen(struct target_cpu_fault *last);

/* CFSR bits (ARMv7-M and ARMv8-M mainline). */
#define TARGET_CFSR_UNALIGNED (1u << 24)
#define TARGET_CFSR_DIVBYZERO (1u << 25)

/* ---- threads ---------------------------------------------------------- */

/* The one thread: the main program. */
struct k_thread {
	union {
		/* The kernel layer's per-thread data (resource pool etc.). */
		struct kheap_thread_data kheap;
		/* Zephyr's name for the thread's resource pool: the same
		 * storage as kheap.resource_pool (its first member), so code
		 * that writes k_current_get()->resource_pool changes the pool
		 * z_thread_malloc uses, as in the simulator. */
		struct {
			struct k_heap *resource_pool;
		};
	};
};

/* The main program's thread object (also from interrupt handlers). */
struct k_thread *k_current_get(void);

#ifdef __cplusplus
}
#endif

#endif /* KHEAP_TARGET_H */
