/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The two-format heap fixture shared by the sys_heap tests that run their
 * format-dependent tests twice: over a small region (4-byte headers) and
 * over a big one (8-byte headers). Each test program keeps its own
 * `format` (the format of the group being run) and `fx` (the per-test
 * heap) and calls heap_fixture_setup() / heap_fixture_teardown() from its
 * CMocka setup and teardown.
 *
 * Built for the host (CMocka) and for the targets (cmocka_lite).
 */
#ifndef KHEAP_TEST_FIXTURE_H
#define KHEAP_TEST_FIXTURE_H

#include "test_heap_support.h"

#include <stddef.h>
#include <stdint.h>

#include <zephyr/sys/sys_heap.h>

/* A header format and the region that gives it. */
struct heap_format {
	const char *group_name;
	size_t region_bytes;
	size_t header_bytes;
};

/* The big format's region: 1 MiB, well above
 * SYS_HEAP_SMALL_REGION_MAX_BYTES. */
#define HEAP_FORMAT_BIG_REGION_BYTES (1024u * 1024u)

/* Initialisers of the two formats; group_prefix ("sys_heap", ...) and
 * region_name ("32 KiB") must be string literals. */
#define HEAP_FORMAT_SMALL(group_prefix, region_name, bytes)                    \
	{                                                                      \
		.group_name = group_prefix " small region (" region_name       \
					   ", 4-byte headers)",                \
		.region_bytes = (bytes), .header_bytes = 4u,                   \
	}
#define HEAP_FORMAT_BIG(group_prefix)                                          \
	{                                                                      \
		.group_name = group_prefix                                     \
			" big region (1 MiB, 8-byte headers)",                 \
		.region_bytes = HEAP_FORMAT_BIG_REGION_BYTES,                  \
		.header_bytes = 8u,                                            \
	}

/* Run a CMocka group of tests over format fmt (a struct heap_format
 * object): set current (the program's format pointer) to it and name the
 * group after it. Evaluates to the number of failed tests. */
#define HEAP_FORMAT_RUN_GROUP(current, fmt, tests)                             \
	((current) = &(fmt),                                                   \
	 cmocka_run_group_tests_name((fmt).group_name, tests, NULL, NULL))

/* The per-test heap: a region of exactly format->region_bytes (so that
 * ASan sees any access past it), initialised before every test. */
struct heap_fixture {
	uint8_t *region;
	size_t region_bytes;
	struct sys_heap heap;
	/* Right after init. */
	struct sys_memory_stats initial;
	size_t initial_max_alloc_bytes;
};

/*
 * Install the fault capture, then initialise fx over a fresh region of
 * format->region_bytes (filled with 0xcd) and check that the heap has the
 * format's header size, validates, and record its stats and largest
 * allocation right after init. Fails the running test on any difference.
 */
void heap_fixture_setup(struct heap_fixture *fx,
			const struct heap_format *format);

/* Disarm the fault capture and free fx's region. */
void heap_fixture_teardown(struct heap_fixture *fx);

/* The seed of a randomized test: KHEAP_SEED if set, else a random one;
 * printed with the line that replays it. */
uint64_t test_seed(void);

#endif /* KHEAP_TEST_FIXTURE_H */
