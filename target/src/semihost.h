/* SPDX-License-Identifier: Apache-2.0 */
/*
 * ARM semihosting, the few calls the port makes itself (newlib's rdimon
 * does the rest for stdio). Each call is a BKPT 0xAB with the operation
 * in r0 and its argument in r1; the debugger (QEMU here) answers in r0.
 */
#ifndef KHEAP_TARGET_SEMIHOST_H
#define KHEAP_TARGET_SEMIHOST_H

#include <stddef.h>
#include <stdint.h>

#define SEMIHOST_SYS_WRITE0 0x04u
#define SEMIHOST_SYS_GET_CMDLINE 0x15u
#define SEMIHOST_SYS_EXIT 0x18u
#define SEMIHOST_SYS_EXIT_EXTENDED 0x20u

#define SEMIHOST_ADP_STOPPED_APPLICATION_EXIT 0x20026u
#define SEMIHOST_ADP_STOPPED_RUN_TIME_ERROR 0x20023u

static inline uintptr_t semihost_call(uintptr_t operation, const void *arg)
{
	register uintptr_t r0 __asm__("r0") = operation;
	register const void *r1 __asm__("r1") = arg;

	__asm__ volatile("bkpt 0xab" : "+r"(r0) : "r"(r1) : "memory");
	return r0;
}

/* Write a NUL-terminated string to the debug console (stderr in QEMU). */
void semihost_write0(const char *text);

/* Write a 32-bit value as 0x%08x. */
void semihost_write_hex(uint32_t value);

/* Write a 32-bit value in decimal. */
void semihost_write_decimal(uint32_t value);

/* The command line the debugger holds for the program (QEMU:
 * -semihosting-config arg=...), NUL-terminated in buf; 0 on success. */
int semihost_get_cmdline(char *buf, size_t bytes);

/* Stop the program; the debugger exits with `status`. */
void semihost_exit(int status) __attribute__((noreturn));

#endif /* KHEAP_TARGET_SEMIHOST_H */
