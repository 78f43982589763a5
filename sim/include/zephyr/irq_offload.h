/* SPDX-License-Identifier: Apache-2.0 */
/*
 * irq_offload for the kheap simulator: run a function as an interrupt
 * handler (Zephyr's test facility).
 */
#ifndef ZEPHYR_IRQ_OFFLOAD_H
#define ZEPHYR_IRQ_OFFLOAD_H

#ifdef __cplusplus
extern "C" {
#endif

typedef void (*irq_offload_routine_t)(const void *parameter);

/**
 * Run routine(parameter) synchronously in ISR context on the calling
 * thread's CPU: k_is_in_isr() is true inside, blocking calls are faults,
 * and when it returns the scheduler runs a thread it made ready if that
 * thread should preempt the caller (as on interrupt exit). Interrupt
 * masking by a spinlock the caller holds is not modelled: the routine
 * runs anyway, and taking that same lock inside it is reported as a
 * recursive acquisition.
 */
void irq_offload(irq_offload_routine_t routine, const void *parameter);

#ifdef __cplusplus
}
#endif

#endif /* ZEPHYR_IRQ_OFFLOAD_H */
