/* SPDX-License-Identifier: Apache-2.0 */
#include "test_fault_names.h"

const char *fault_kind_name(enum sys_heap_fault_kind kind)
{
	switch (kind) {
	case SYS_HEAP_FAULT_BAD_POINTER:
		return "BAD_POINTER";
	case SYS_HEAP_FAULT_NOT_ALLOCATED:
		return "NOT_ALLOCATED";
	case SYS_HEAP_FAULT_CORRUPT_HEADER:
		return "CORRUPT_HEADER";
	case SYS_HEAP_FAULT_OVERFLOW:
		return "OVERFLOW";
	case SYS_HEAP_FAULT_CORRUPT_LINKS:
		return "CORRUPT_LINKS";
	case SYS_HEAP_FAULT_CANARY:
		return "CANARY";
	case SYS_HEAP_FAULT_INVALID_HEAP:
		return "INVALID_HEAP";
	case SYS_HEAP_FAULT_BAD_REGION:
		return "BAD_REGION";
	}
	return "unknown";
}
