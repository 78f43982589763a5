/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The Cortex-M system registers the port touches (ARMv6-M, ARMv7-M and
 * ARMv8-M share these addresses). On ARMv6-M the System Handler Priority
 * and NVIC priority registers are word-access only, so every access here
 * is a 32-bit one.
 */
#ifndef KHEAP_TARGET_CORTEX_M_H
#define KHEAP_TARGET_CORTEX_M_H

#include <stdint.h>

#define REG32(address) (*(volatile uint32_t *)(uintptr_t)(address))

/* SysTick */
#define SYST_CSR REG32(0xe000e010u)
#define SYST_RVR REG32(0xe000e014u)
#define SYST_CVR REG32(0xe000e018u)
#define SYST_CSR_ENABLE (1u << 0)
#define SYST_CSR_TICKINT (1u << 1)
#define SYST_CSR_CLKSOURCE (1u << 2)

/* NVIC: 32 interrupts per enable/pending register, 4 per priority one */
#define NVIC_ISER(n) REG32(0xe000e100u + 4u * (n))
#define NVIC_ICER(n) REG32(0xe000e180u + 4u * (n))
#define NVIC_ISPR(n) REG32(0xe000e200u + 4u * (n))
#define NVIC_ICPR(n) REG32(0xe000e280u + 4u * (n))
#define NVIC_IPR(n) REG32(0xe000e400u + 4u * (n))

/* System control block */
#define SCB_ICSR REG32(0xe000ed04u)
#define SCB_VTOR REG32(0xe000ed08u)
#define SCB_CCR REG32(0xe000ed14u)
#define SCB_SHPR2 REG32(0xe000ed1cu)
#define SCB_SHPR3 REG32(0xe000ed20u)
#define SCB_SHCSR REG32(0xe000ed24u)
#define SCB_CFSR REG32(0xe000ed28u)
#define SCB_HFSR REG32(0xe000ed2cu)
#define SCB_CPACR REG32(0xe000ed88u)

#define SCB_ICSR_PENDSVSET (1u << 28)
#define SCB_CCR_UNALIGN_TRP (1u << 3)
#define SCB_CCR_DIV_0_TRP (1u << 4)
#define SCB_CCR_STKALIGN (1u << 9)
#define SCB_SHCSR_MEMFAULTENA (1u << 16)
#define SCB_SHCSR_BUSFAULTENA (1u << 17)
#define SCB_SHCSR_USGFAULTENA (1u << 18)
#define SCB_SHCSR_SECUREFAULTENA (1u << 19)

/* Exception numbers */
#define EXC_HARDFAULT 3u
#define EXC_MEMMANAGE 4u
#define EXC_BUSFAULT 5u
#define EXC_USAGEFAULT 6u
#define EXC_SECUREFAULT 7u
#define EXC_PENDSV 14u
#define EXC_SYSTICK 15u
#define EXC_IRQ0 16u

static inline void cortex_m_barrier(void)
{
	__asm__ volatile("dsb\n\tisb" ::: "memory");
}

#endif /* KHEAP_TARGET_CORTEX_M_H */
