/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Start-up code for the Cortex-M test images: the vector table, the reset
 * handler (memory set-up, the system registers, newlib, the command line,
 * main), fault and interrupt dispatch, and the small pieces of C run time
 * newlib expects from a bare-metal program (_init, _fini, abort; the
 * malloc family is in malloc.c).
 *
 * Memory comes from the board's linker script (target/boards/): see
 * sections.ld for the symbols used here.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <kheap/target.h>

#include "cortex_m.h"
#include "semihost.h"
#include "target_internal.h"

#ifndef KHEAP_TARGET_CPU_HZ
#error "KHEAP_TARGET_CPU_HZ (the SysTick clock of the board) is not defined"
#endif

/* ---- linker-script symbols ------------------------------------------- */

extern uint32_t __stack_top[];
extern uint32_t __stack_limit[];
extern uint32_t __data_load[], __data_start[], __data_end[];
extern uint32_t __k_heap_area_load[], __k_heap_area_start[],
	__k_heap_area_end[];
extern uint32_t __bss_start[], __bss_end[];

/* newlib */
void initialise_monitor_handles(void);
void __libc_init_array(void);

int main(int argc, char **argv);

/* ---- the vector table ------------------------------------------------- */

void Reset_Handler(void) __attribute__((noreturn));
void target_fault_vector(void);
static void irq_dispatch(void);
static void pendsv_dispatch(void);
static void unexpected_exception(void);

typedef union {
	void (*handler)(void);
	void *stack;
} vector_t;

#define FAULT_VECTOR                                                           \
	{                                                                      \
		.handler = target_fault_vector                                 \
	}
#define IRQ_VECTOR                                                             \
	{                                                                      \
		.handler = irq_dispatch                                        \
	}
#define IRQ_VECTORS_8                                                          \
	IRQ_VECTOR, IRQ_VECTOR, IRQ_VECTOR, IRQ_VECTOR, IRQ_VECTOR,            \
		IRQ_VECTOR, IRQ_VECTOR, IRQ_VECTOR

/* Placed first in the image by the linker script (VTOR needs it aligned
 * to a power of two at least as large: 48 words -> 256 bytes). */
__attribute__((section(".vectors"), used, aligned(256)))
const vector_t target_vectors[EXC_IRQ0 + TARGET_IRQ_COUNT] = {
	{.stack = __stack_top},
	{.handler = Reset_Handler},
	{.handler = unexpected_exception}, /* NMI */
	FAULT_VECTOR,                      /* HardFault */
	FAULT_VECTOR,                      /* MemManage */
	FAULT_VECTOR,                      /* BusFault */
	FAULT_VECTOR,                      /* UsageFault */
	FAULT_VECTOR,                      /* SecureFault (v8-M) */
	{.handler = NULL},
	{.handler = NULL},
	{.handler = NULL},
	{.handler = unexpected_exception}, /* SVCall */
	{.handler = unexpected_exception}, /* DebugMonitor */
	{.handler = NULL},
	{.handler = pendsv_dispatch},
	{.handler = SysTick_Handler},
	IRQ_VECTORS_8,
	IRQ_VECTORS_8,
	IRQ_VECTORS_8,
	IRQ_VECTORS_8,
};

static void copy_words(uint32_t *to, const uint32_t *end, const uint32_t *from)
{
	while (to < end) {
		*to++ = *from++;
	}
}

static void zero_words(uint32_t *to, const uint32_t *end)
{
	while (to < end) {
		*to++ = 0u;
	}
}

static void arch_init(void)
{
#if TARGET_HAS_CFSR
	SCB_VTOR = (uint32_t)(uintptr_t)target_vectors;
	/* Every unaligned access and every division by zero faults; the
	 * configurable faults get their own handlers (not HardFault). */
	SCB_CCR |= SCB_CCR_UNALIGN_TRP | SCB_CCR_DIV_0_TRP | SCB_CCR_STKALIGN;
	SCB_SHCSR |= SCB_SHCSR_MEMFAULTENA | SCB_SHCSR_BUSFAULTENA |
		     SCB_SHCSR_USGFAULTENA;
#endif
#if defined(__ARM_ARCH_8M_MAIN__) || defined(__ARM_ARCH_8M_BASE__)
	/* A stack overflow faults (UsageFault STKOF) instead of running
	 * into the heap. */
	__asm__ volatile("msr msplim, %0" ::"r"(__stack_limit));
#endif
#if defined(__ARM_FP)
	/* Full access to CP10/CP11 before any floating-point instruction. */
	SCB_CPACR |= 0xfu << 20;
#endif
	/* PendSV and SysTick: kernel priority (bits 16-23 and 24-31). */
	SCB_SHPR3 = (SCB_SHPR3 & 0x0000ffffu) | (TARGET_PRIO_KERNEL << 16) |
		    (TARGET_PRIO_KERNEL << 24);
	cortex_m_barrier();
}

/* ---- stack high-water mark ----------------------------------------------- */

#define STACK_PAINT 0x5afe57acu

/* Fill the unused stack below the reset handler's frame with a pattern. */
static void __attribute__((noinline)) stack_paint(void)
{
	uint32_t marker;
	uintptr_t end = (uintptr_t)&marker - 64u;

	for (uint32_t *p = __stack_limit; (uintptr_t)p < end; p++) {
		*p = STACK_PAINT;
	}
}

size_t target_stack_used(void)
{
	const uint32_t *p = __stack_limit;

	while (p < __stack_top && *p == STACK_PAINT) {
		p++;
	}
	return (size_t)((const char *)__stack_top - (const char *)p);
}

/* Without printf, which would pull floating-point code into images that
 * have none (target_minimal). */
static void stack_report(void)
{
	size_t size = (size_t)((const char *)__stack_top -
			       (const char *)__stack_limit);

	fflush(stdout);
	semihost_write0("target: stack high-water mark ");
	semihost_write_decimal((uint32_t)target_stack_used());
	semihost_write0(" of ");
	semihost_write_decimal((uint32_t)size);
	semihost_write0(" bytes\n");
	if (*(volatile uint32_t *)__stack_limit != STACK_PAINT) {
		/* The lowest word was written: the stack has most likely
		 * run into the heap below it. */
		target_panic(TARGET_EXIT_STACK_OVERFLOW,
			     "the stack reached its limit (__stack_size)");
	}
}

/* ---- reset ------------------------------------------------------------ */

/* Split the semihosting command line into argv (space separated, no
 * quoting); argv[0] is the program name if the debugger gave one. */
#define CMDLINE_BYTES 160u
#define MAX_ARGS 16u

static char cmdline[CMDLINE_BYTES];
static char stdout_buffer[128];
static char *argv_storage[MAX_ARGS + 1u];
static char default_name[] = "kheap-target";

static int parse_cmdline(void)
{
	int argc = 0;
	char *p = cmdline;

	if (semihost_get_cmdline(cmdline, sizeof(cmdline)) != 0) {
		cmdline[0] = '\0';
	}
	while (*p != '\0' && (unsigned int)argc < MAX_ARGS) {
		while (*p == ' ') {
			*p++ = '\0';
		}
		if (*p == '\0') {
			break;
		}
		argv_storage[argc++] = p;
		while (*p != '\0' && *p != ' ') {
			p++;
		}
	}
	if (argc == 0) {
		argv_storage[argc++] = default_name;
	}
	argv_storage[argc] = NULL;
	return argc;
}

void Reset_Handler(void)
{
	copy_words(__data_start, __data_end, __data_load);
	copy_words(__k_heap_area_start, __k_heap_area_end, __k_heap_area_load);
	zero_words(__bss_start, __bss_end);
	stack_paint();
	arch_init();

	initialise_monitor_handles();
	/* A small line buffer of our own: newlib would malloc BUFSIZ. */
	setvbuf(stdout, stdout_buffer, _IOLBF, sizeof(stdout_buffer));
	__libc_init_array();
	atexit(stack_report);
	target_port_init(KHEAP_TARGET_CPU_HZ);

	int argc = parse_cmdline();

	exit(main(argc, argv_storage));
}

/* With -nostartfiles nothing else defines these; __libc_init_array
 * calls _init (the constructors are in .init_array). */
void _init(void)
{
}

void _fini(void)
{
}

/* ---- panics, abort ---------------------------------------------------- */

void target_panic(int status, const char *message)
{
	if (target_ipsr() == 0u) {
		/* Thread mode: stdio is safe to flush. */
		fflush(stdout);
		fflush(stderr);
	}
	semihost_write0("target: ");
	semihost_write0(message);
	semihost_write0("\n");
	semihost_exit(status);
}

void abort(void)
{
	target_panic(TARGET_EXIT_ABORT, "abort() called");
}

/* ---- CPU faults ------------------------------------------------------- */

static volatile unsigned int cpu_fault_armed;
static volatile unsigned int cpu_faults_seen;
static struct target_cpu_fault cpu_fault_last;

void target_cpu_fault_expect(void)
{
	cpu_faults_seen = 0u;
	cpu_fault_armed = 1u;
	cortex_m_barrier();
}

unsigned int target_cpu_faults_seen(struct target_cpu_fault *last)
{
	cpu_fault_armed = 0u;
	if (last != NULL) {
		*last = cpu_fault_last;
	}
	return cpu_faults_seen;
}

static const char *exception_name(uint32_t exception)
{
	switch (exception) {
	case EXC_HARDFAULT:
		return "HardFault";
	case EXC_MEMMANAGE:
		return "MemManage";
	case EXC_BUSFAULT:
		return "BusFault";
	case EXC_USAGEFAULT:
		return "UsageFault";
	case EXC_SECUREFAULT:
		return "SecureFault";
	default:
		return "exception";
	}
}

/* Called by target_fault_vector with the stacked frame (r0-r3, r12, lr,
 * pc, xpsr) of the code that faulted. */
void target_cpu_fault_entry(uint32_t *frame, uint32_t exc_return);

void target_cpu_fault_entry(uint32_t *frame, uint32_t exc_return)
{
	struct target_cpu_fault fault = {
		.exception = target_ipsr() & 0x1ffu,
		.pc = frame[6],
	};

#if TARGET_HAS_CFSR
	fault.cfsr = SCB_CFSR;
	fault.hfsr = SCB_HFSR;
#endif
	if (cpu_fault_armed != 0u) {
		const uint16_t *insn = (const uint16_t *)(uintptr_t)frame[6];

		cpu_fault_armed = 0u;
		cpu_faults_seen++;
		cpu_fault_last = fault;
#if TARGET_HAS_CFSR
		/* Write-one-to-clear. */
		SCB_CFSR = fault.cfsr;
		SCB_HFSR = fault.hfsr;
#endif
		/* Skip the faulting instruction: 32-bit Thumb encodings start
		 * with 0b11101, 0b11110 or 0b11111. */
		frame[6] += (insn[0] & 0xf800u) >= 0xe800u ? 4u : 2u;
		return;
	}
	semihost_write0("target: CPU fault: ");
	semihost_write0(exception_name(fault.exception));
	semihost_write0(" pc=");
	semihost_write_hex(fault.pc);
	semihost_write0(" lr=");
	semihost_write_hex(frame[5]);
	semihost_write0(" cfsr=");
	semihost_write_hex(fault.cfsr);
	semihost_write0(" hfsr=");
	semihost_write_hex(fault.hfsr);
	semihost_write0(" exc_return=");
	semihost_write_hex(exc_return);
	semihost_write0("\n");
	semihost_exit(TARGET_EXIT_CPU_FAULT);
}

/* Find the stack the exception frame is on (EXC_RETURN bit 2: process
 * stack) and pass it on; Thumb-1 only, so that ARMv6-M runs it too. */
__attribute__((naked)) void target_fault_vector(void)
{
	__asm__ volatile("movs r0, #4\n\t"
			 "mov r1, lr\n\t"
			 "tst r0, r1\n\t"
			 "beq 1f\n\t"
			 "mrs r0, psp\n\t"
			 "b 2f\n"
			 "1:\n\t"
			 "mrs r0, msp\n"
			 "2:\n\t"
			 "ldr r2, =target_cpu_fault_entry\n\t"
			 "bx r2\n\t"
			 ".ltorg\n");
}

/* ---- interrupts ------------------------------------------------------- */

static target_isr_t irq_handlers[TARGET_IRQ_COUNT];
static target_isr_t pendsv_handler;

static void unexpected(uint32_t exception)
{
	semihost_write0("target: unexpected exception ");
	semihost_write_hex(exception);
	semihost_write0("\n");
	semihost_exit(TARGET_EXIT_UNEXPECTED_IRQ);
}

static void unexpected_exception(void)
{
	unexpected(target_ipsr() & 0x1ffu);
}

static void irq_dispatch(void)
{
	uint32_t exception = target_ipsr() & 0x1ffu;
	uint32_t irq = exception - EXC_IRQ0;

	if (irq < TARGET_IRQ_COUNT && irq_handlers[irq] != NULL) {
		irq_handlers[irq]();
		return;
	}
	unexpected(exception);
}

static void pendsv_dispatch(void)
{
	if (pendsv_handler == NULL) {
		unexpected(EXC_PENDSV);
	}
	pendsv_handler();
}

void target_irq_connect(unsigned int irq, target_isr_t isr, uint32_t prio)
{
	uint32_t shift = 8u * (irq % 4u);

	if (irq >= TARGET_IRQ_COUNT) {
		target_panic(TARGET_EXIT_USAGE, "target_irq_connect: bad irq");
	}
	target_irq_disable(irq);
	irq_handlers[irq] = isr;
	NVIC_IPR(irq / 4u) = (NVIC_IPR(irq / 4u) & ~(0xffu << shift)) |
			     ((prio & 0xffu) << shift);
	NVIC_ICPR(irq / 32u) = 1u << (irq % 32u);
	cortex_m_barrier();
	NVIC_ISER(irq / 32u) = 1u << (irq % 32u);
	cortex_m_barrier();
}

void target_irq_disable(unsigned int irq)
{
	if (irq < TARGET_IRQ_COUNT) {
		NVIC_ICER(irq / 32u) = 1u << (irq % 32u);
		cortex_m_barrier();
	}
}

void target_irq_pend(unsigned int irq)
{
	if (irq < TARGET_IRQ_COUNT) {
		NVIC_ISPR(irq / 32u) = 1u << (irq % 32u);
		cortex_m_barrier();
	}
}

void target_pendsv_connect(target_isr_t isr)
{
	pendsv_handler = isr;
	cortex_m_barrier();
}

void target_pendsv_pend(void)
{
	SCB_ICSR = SCB_ICSR_PENDSVSET;
	cortex_m_barrier();
}
