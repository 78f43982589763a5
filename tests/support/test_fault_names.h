/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Names of sys_heap fault kinds for test and fuzz diagnostics. No CMocka:
 * the fuzz targets and the target images use it too.
 */
#ifndef KHEAP_TEST_FAULT_NAMES_H
#define KHEAP_TEST_FAULT_NAMES_H

#include <zephyr/sys/sys_heap.h>

/* "BAD_POINTER", "NOT_ALLOCATED", ...; "unknown" for other values. */
const char *fault_kind_name(enum sys_heap_fault_kind kind);

#endif /* KHEAP_TEST_FAULT_NAMES_H */
