/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The smallest start-up code a Cortex-M product has: a vector table with
 * the stack top, the reset handler and SysTick (routed to the port's
 * SysTick_Handler, the CMSIS name), and a reset handler that copies
 * .data (which holds the k_heap_area section), zeroes .bss and runs
 * main().
 */
#include <stdint.h>

extern uint32_t __stack_top[];
extern uint32_t __data_load[], __data_start[], __data_end[];
extern uint32_t __bss_start[], __bss_end[];

int main(void);
void SysTick_Handler(void);
void Reset_Handler(void);

static void default_handler(void)
{
	for (;;) {
	}
}

void Reset_Handler(void)
{
	const uint32_t *from = __data_load;

	for (uint32_t *to = __data_start; to < __data_end; to++) {
		*to = *from++;
	}
	for (uint32_t *to = __bss_start; to < __bss_end; to++) {
		*to = 0u;
	}
	(void)main();
	default_handler();
}

typedef void (*vector_t)(void);

__attribute__((section(".vectors"), used)) static const vector_t vectors[16] = {
	(vector_t)(uintptr_t)__stack_top,
	Reset_Handler,
	default_handler, /* NMI */
	default_handler, /* HardFault */
	default_handler, /* MemManage */
	default_handler, /* BusFault */
	default_handler, /* UsageFault */
	default_handler, /* SecureFault (ARMv8-M) */
	0,
	0,
	0,
	default_handler, /* SVCall */
	default_handler, /* DebugMonitor */
	0,
	default_handler, /* PendSV */
	SysTick_Handler,
};
