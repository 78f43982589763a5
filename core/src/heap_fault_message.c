/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The text of each fault kind, apart from the core: the core reports kinds
 * (struct sys_heap_fault) and never calls this, so a program that never
 * asks for the text links none of it (with --gc-sections, or by leaving
 * this file out of a port's build).
 */
#include <zephyr/sys/sys_heap.h>

const char *sys_heap_fault_message(enum sys_heap_fault_kind kind)
{
	switch (kind) {
	case SYS_HEAP_FAULT_BAD_POINTER:
		return "pointer is not inside this heap's block area";
	case SYS_HEAP_FAULT_NOT_ALLOCATED:
		return "block is not allocated (double free or stale pointer)";
	case SYS_HEAP_FAULT_CORRUPT_HEADER:
		return "block header is corrupt (interior pointer, a write "
		       "before the block, an overflow of the previous one), "
		       "or the control block is";
	case SYS_HEAP_FAULT_OVERFLOW:
		return "block overflowed: the next block's header no longer "
		       "matches its size";
	case SYS_HEAP_FAULT_CORRUPT_LINKS:
		return "free-list links are corrupt (a free block was written "
		       "after free, or overflowed into)";
	case SYS_HEAP_FAULT_CANARY:
		return "block canary is corrupt: the block was written past "
		       "its usable size";
	case SYS_HEAP_FAULT_INVALID_HEAP:
		return "heap failed validation (metadata corrupted before or "
		       "during this call)";
	case SYS_HEAP_FAULT_BAD_REGION:
		return "region cannot hold a heap (smaller than Z_HEAP_MIN_SIZE "
		       "once aligned, too large, NULL or wrapping)";
	}
	return "";
}
