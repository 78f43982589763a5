/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Faults nobody handles end the program with their own exit status
 * (enum target_exit_status), which ctest checks:
 *   kheap   a k_heap_free of a pointer the heap never gave out  -> 3
 *   lock    k_spin_lock of a lock the caller holds              -> 3
 *   cpu     an unaligned load                                   -> 4
 *   abort   abort()                                             -> 6
 * Returning from main() at all is the failure (status 1).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <kheap/k_heap.h>
#include <kheap/target.h>

static struct k_heap heap;
static uint8_t region[512] __attribute__((aligned(8)));

int main(int argc, char **argv)
{
	const char *what = argc > 1 ? argv[1] : "";

	if (k_heap_init(&heap, region, sizeof(region)) != 0) {
		return TARGET_EXIT_FAIL;
	}
	if (strcmp(what, "kheap") == 0) {
		k_heap_free(&heap, region + 100);
	} else if (strcmp(what, "lock") == 0) {
		struct k_spinlock lock = {0};
		k_spinlock_key_t key = k_spin_lock(&lock);

		(void)k_spin_lock(&lock);
		k_spin_unlock(&lock, key);
	} else if (strcmp(what, "cpu") == 0) {
		static uint32_t words[2];
		uint32_t value;

		__asm__ volatile("ldr %0, [%1]"
				 : "=r"(value)
				 : "r"((uint8_t *)words + 1)
				 : "memory");
		printf("loaded %08lx\n", (unsigned long)value);
	} else if (strcmp(what, "abort") == 0) {
		abort();
	} else {
		printf("usage: target_fault kheap|lock|cpu|abort\n");
		return TARGET_EXIT_USAGE;
	}
	printf("the fault did not end the program\n");
	return TARGET_EXIT_FAIL;
}
