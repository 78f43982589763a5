/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Shared between the port's files only.
 */
#ifndef KHEAP_TARGET_INTERNAL_H
#define KHEAP_TARGET_INTERNAL_H

/* The SysTick exception handler (port.c): advances the tick. */
void SysTick_Handler(void);

#endif /* KHEAP_TARGET_INTERNAL_H */
