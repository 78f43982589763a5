/* SPDX-License-Identifier: Apache-2.0 */
/*
 * printk for the kheap simulator: printf-style output to stdout, flushed
 * after every call so that it interleaves with stderr in order.
 */
#ifndef ZEPHYR_SYS_PRINTK_H
#define ZEPHYR_SYS_PRINTK_H

#include <stdarg.h>
#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

__attribute__((__format__(__printf__, 1, 2))) void printk(const char *fmt, ...);
__attribute__((__format__(__printf__, 1, 0))) void vprintk(const char *fmt,
							   va_list ap);
__attribute__((__format__(__printf__, 3, 4))) int
snprintk(char *str, size_t len, const char *fmt, ...);

#ifdef __cplusplus
}
#endif

#endif /* ZEPHYR_SYS_PRINTK_H */
