/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Corruption sensitivity per hardening level: flip one bit (and, as a
 * second kind of trial, one whole byte) of a block's metadata and see
 * whether the heap notices.
 *
 * Layouts: a fresh heap, ten blocks allocated in a row with sizes drawn
 * from a small set (so that free blocks share size classes and their
 * links point at each other), the fifth block T the one under test, its
 * neighbours L and R, and L's and R's outer neighbours kept in use so
 * that a freed L or R is a free chunk of its own. Three neighbour
 * configurations (L used and R free, L free and R used, both free), in
 * both header formats; of the other blocks, a random half is freed. The
 * layout comes from a seed, fixed by default so that the table in
 * docs/testing/hardening.md is reproducible (KHEAP_SEED=<n> for another).
 *
 * Fields: T's header (left_size; size and used bit), L's and R's
 * headers, the free-list links (free_prev, free_next) of a free
 * neighbour, and from FULL up T's canary. Every bit of every byte is
 * flipped on its own, and every byte is inverted (XOR 0xff).
 *
 * After each flip, two questions:
 * - does sys_heap_validate() alone say false (read-only, so asked in the
 *   test process);
 * - does the probe report a fault: free T; free every other live block in
 *   allocation order; allocate the layout's sizes again and the largest
 *   block left, then free those. It runs in a child process (an
 *   undetected flip may make the heap write anywhere) and counts as
 *   detected only if the fault handler was called; a crash or a hang is
 *   an undetected flip (counted separately).
 * Then the region is restored from its snapshot.
 *
 * Asserted: validate detects 100% of the flips of every field at every
 * level; the probe detects 100% of the flips of the three size-and-used
 * words (T's, L's, R's) from BASIC up. Every flip that escapes an
 * asserted field is printed (layout, field, byte, mask) before the test
 * fails.
 *
 * Usage: test_hardening_sensitivity_<level> [filter]
 *   KHEAP_SEED=<n>              another layout seed
 *   KHEAP_HARDENING_VERBOSE=1   print every flip the probe missed
 *   KHEAP_HARDENING_SAMPLE=<n>  every n-th trial only (slow tools)
 */
#include "test_heap_support.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hardening_trial.h"

#define DEFAULT_SEED 0x6b68656170686172ull

#define SMALL_REGION_BYTES (8u * 1024u)
#define BIG_REGION_BYTES (256u * 1024u + 2048u)

static uint8_t small_region[SMALL_REGION_BYTES] __attribute__((__aligned__(8)));
static uint8_t big_region[BIG_REGION_BYTES] __attribute__((__aligned__(8)));
static uint8_t snapshot[BIG_REGION_BYTES];

struct heap_format {
	const char *name;
	uint8_t *region;
	size_t region_bytes;
	size_t header_bytes;
};

static const struct heap_format formats[] = {
	{"small", small_region, SMALL_REGION_BYTES, 4u},
	{"big", big_region, BIG_REGION_BYTES, 8u},
};

#define FORMAT_COUNT (sizeof(formats) / sizeof(formats[0]))

/* --- fields --------------------------------------------------------------- */

enum field {
	F_OWN_LEFT,
	F_OWN_SIZE,
	F_LEFT_LEFT,
	F_LEFT_SIZE,
	F_RIGHT_LEFT,
	F_RIGHT_SIZE,
	F_FREE_PREV,
	F_FREE_NEXT,
	F_CANARY,
	FIELD_COUNT,
};

static const char *const field_names[FIELD_COUNT] = {
	"own header: left_size",
	"own header: size and used bit",
	"left neighbour's header: left_size",
	"left neighbour's header: size and used bit",
	"right neighbour's header: left_size",
	"right neighbour's header: size and used bit",
	"free neighbour's links: free_prev",
	"free neighbour's links: free_next",
	"own canary (FULL and up)",
};

/* Whether the probe must detect every flip of the field at this level. */
static bool probe_asserted(enum field f)
{
	return HARDENING_LEVEL >= SYS_HEAP_HARDENING_BASIC &&
	       (f == F_OWN_SIZE || f == F_LEFT_SIZE || f == F_RIGHT_SIZE);
}

struct field_stats {
	unsigned int bit_trials;
	unsigned int bit_probe;
	unsigned int bit_validate;
	unsigned int byte_trials;
	unsigned int byte_probe;
	unsigned int byte_validate;
	/* Undetected flips whose probe crashed or hung. */
	unsigned int died;
};

static struct field_stats stats[FIELD_COUNT];
static unsigned int escapes;

/* --- the layout ------------------------------------------------------------- */

#define BLOCKS 10u
#define T_INDEX 4u

enum neighbours {
	L_USED_R_FREE,
	L_FREE_R_USED,
	BOTH_FREE,
	NEIGHBOUR_CONFIGS,
};

static const char *const config_names[NEIGHBOUR_CONFIGS] = {
	"L used, R free", "L free, R used", "L and R free"};

struct layout {
	const struct heap_format *fmt;
	struct sys_heap heap;
	void *mem[BLOCKS];
	size_t size[BLOCKS];
	bool live[BLOCKS];
};

static struct layout lay;

static void build_layout(const struct heap_format *fmt, enum neighbours cfg,
			 uint64_t seed)
{
	/* Sizes from a small set, so that classes repeat. */
	static const size_t sizes[] = {8, 20, 40, 44, 64, 100, 120, 200};
	struct test_rng rng;

	test_rng_seed(&rng, seed);
	memset(&lay, 0, sizeof(lay));
	lay.fmt = fmt;
	/* Poisoned by the previous layout's heap under the sanitizer hooks:
	 * metadata bytes go through test_meta_* here and below. */
	test_meta_fill(fmt->region, 0, fmt->region_bytes);
	assert_int_equal(
		sys_heap_init(&lay.heap, fmt->region, fmt->region_bytes), 0);
	assert_int_equal(sys_heap_header_bytes(&lay.heap), fmt->header_bytes);
	for (size_t i = 0; i < BLOCKS; i++) {
		lay.size[i] = sizes[test_rng_below(
			&rng, sizeof(sizes) / sizeof(sizes[0]))];
		lay.mem[i] = sys_heap_alloc(&lay.heap, lay.size[i]);
		assert_non_null(lay.mem[i]);
		test_token_fill(lay.mem[i],
				sys_heap_usable_size(&lay.heap, lay.mem[i]),
				(uint32_t)i);
		lay.live[i] = true;
	}
	/* T's neighbours per the configuration; T +- 2 stay used. */
	for (size_t i = 0; i < BLOCKS; i++) {
		bool free_it;

		if (i == T_INDEX - 1u) {
			free_it = cfg != L_USED_R_FREE;
		} else if (i == T_INDEX + 1u) {
			free_it = cfg != L_FREE_R_USED;
		} else if (i + 2u >= T_INDEX && i <= T_INDEX + 2u) {
			free_it = false;
		} else {
			free_it = test_rng_percent(&rng, 50u) != 0;
		}
		if (free_it) {
			sys_heap_free(&lay.heap, lay.mem[i]);
			lay.live[i] = false;
		}
	}
	assert_true(sys_heap_validate(&lay.heap));
}

/* Where field f lies in the current layout; false if it has none. */
static bool field_bytes(enum field f, uint8_t **at, size_t *bytes)
{
	size_t hb = lay.fmt->header_bytes;
	uint8_t *t = lay.mem[T_INDEX];
	uint8_t *l = lay.mem[T_INDEX - 1u];
	uint8_t *r = lay.mem[T_INDEX + 1u];

	*bytes = hb / 2u;
	switch (f) {
	case F_OWN_LEFT:
		*at = t - hb;
		return true;
	case F_OWN_SIZE:
		*at = t - hb / 2u;
		return true;
	case F_LEFT_LEFT:
		*at = l - hb;
		return true;
	case F_LEFT_SIZE:
		*at = l - hb / 2u;
		return true;
	case F_RIGHT_LEFT:
		*at = r - hb;
		return true;
	case F_RIGHT_SIZE:
		*at = r - hb / 2u;
		return true;
	case F_CANARY:
		if (HARDENING_CANARY_BYTES == 0u) {
			return false;
		}
		*at = t + sys_heap_usable_size(&lay.heap, t);
		*bytes = HARDENING_CANARY_BYTES;
		return true;
	default:
		break;
	}
	return false;
}

/* The links of free neighbour n (a freed block's memory starts with its
 * free_prev, then its free_next, each half a header long). */
static void link_bytes(uint8_t *n, enum field f, uint8_t **at, size_t *bytes)
{
	size_t hb = lay.fmt->header_bytes;

	*bytes = hb / 2u;
	*at = f == F_FREE_PREV ? n : n + hb / 2u;
}

/* --- the probe (in the child) ----------------------------------------------- */

static unsigned int probe_faults;

static void count_fault(const struct sys_heap_fault *fault)
{
	(void)fault;
	probe_faults++;
}

static int probe_child(void *arg, void *report, size_t report_bytes)
{
	void *again[BLOCKS + 1u];
	size_t count = 0u;

	(void)arg;
	(void)report_bytes;
	probe_faults = 0u;
	sys_heap_fault_handler_set(count_fault);
	sys_heap_free(&lay.heap, lay.mem[T_INDEX]);
	for (size_t i = 0; i < BLOCKS && probe_faults == 0u; i++) {
		if (i != T_INDEX && lay.live[i]) {
			sys_heap_free(&lay.heap, lay.mem[i]);
		}
	}
	for (size_t i = 0; i < BLOCKS && probe_faults == 0u; i++) {
		void *p = sys_heap_alloc(&lay.heap, lay.size[i]);

		if (p != NULL) {
			again[count++] = p;
		}
	}
	if (probe_faults == 0u) {
		size_t largest = sys_heap_max_alloc_bytes(&lay.heap);
		void *p = largest != 0u ? sys_heap_alloc(&lay.heap, largest)
					: NULL;

		if (p != NULL) {
			again[count++] = p;
		}
	}
	while (count != 0u && probe_faults == 0u) {
		sys_heap_free(&lay.heap, again[--count]);
	}
	/* The answer goes through the report, not the exit status: under
	 * memcheck a child that leaves blocks allocated exits with its
	 * error code. 2: no fault, 1: a fault (0: no report, it died). */
	*(uint8_t *)report = probe_faults != 0u ? 1u : 2u;
	return 0;
}

/* --- trials ------------------------------------------------------------------- */

/*
 * At NONE under a memory checker (CONFIG_KHEAP_SANITIZER_HOOKS, the asan
 * and valgrind presets) the probe is not run: nothing is checked, so the
 * core hands the hooks ranges computed from the flipped metadata, and
 * poisoning gigabytes of shadow memory makes a trial take minutes. Only
 * the validate column is measured there (the probe's NONE column comes
 * from the other presets).
 */
#define PROBE_RUNS                                                             \
	(HARDENING_LEVEL != SYS_HEAP_HARDENING_NONE ||                         \
	 !CONFIG_KHEAP_SANITIZER_HOOKS)

static const char *layout_name;
/* KHEAP_HARDENING_VERBOSE=1: print every flip the probe missed. */
static bool verbose;
/* KHEAP_HARDENING_SAMPLE=N: run only every Nth trial (slow tools, such as
 * the valgrind preset, where every child runs under memcheck). */
static unsigned long sample_every = 1u;
static unsigned long trial_counter;

static void flip_trial(enum field f, uint8_t *p, size_t byte_index,
		       uint8_t mask)
{
	if (trial_counter++ % sample_every != 0u) {
		return;
	}
	struct field_stats *s = &stats[f];
	bool byte_trial = mask == 0xffu;
	size_t offset = (size_t)(p - lay.fmt->region);
	uint8_t report = 0u;

	test_meta_set8(p, (uint8_t)(snapshot[offset] ^ mask));
	bool valid = sys_heap_validate(&lay.heap);

	/* validate is read-only: the region is the snapshot plus the flip. */
	assert_int_equal(test_meta_get8(p) ^ mask, snapshot[offset]);
	assert_int_equal(test_meta_diff(lay.fmt->region, snapshot, offset),
			 SIZE_MAX);
	assert_int_equal(test_meta_diff(p + 1, snapshot + offset + 1u,
					lay.fmt->region_bytes - offset - 1u),
			 SIZE_MAX);

	struct child_end end = {0u, 0, 0};

	if (PROBE_RUNS) {
		end = run_in_child(probe_child, NULL, &report, sizeof(report),
				   5u, true);
	}
	bool detected = end.bytes == sizeof(report) && report == 1u;

	if (PROBE_RUNS && end.bytes != sizeof(report)) {
		s->died++;
	}
	if (byte_trial) {
		s->byte_trials++;
		s->byte_probe += detected ? 1u : 0u;
		s->byte_validate += valid ? 0u : 1u;
	} else {
		s->bit_trials++;
		s->bit_probe += detected ? 1u : 0u;
		s->bit_validate += valid ? 0u : 1u;
	}
	const char *what = NULL;

	if (valid) {
		escapes++;
		what = "ESCAPE";
	} else if (!detected && probe_asserted(f)) {
		escapes++;
		what = "ESCAPE";
	} else if (!detected && verbose) {
		what = "missed";
	}
	if (what != NULL) {
		printf("  %s %s [%s]: %s byte %zu ^ 0x%02x: %s%s\n", what,
		       lay.fmt->name, layout_name, field_names[f], byte_index,
		       (unsigned int)mask,
		       valid ? "validate true" : "validate false",
		       detected ? ", probe detected"
				: (end.signal != 0 ? ", probe died"
						   : ", probe silent"));
	}
	/* Restore the whole region from the snapshot. */
	test_meta_write(lay.fmt->region, snapshot, lay.fmt->region_bytes);
}

static void flip_field(enum field f, uint8_t *at, size_t bytes)
{
	for (size_t b = 0; b < bytes; b++) {
		for (unsigned int bit = 0; bit < 8u; bit++) {
			flip_trial(f, at + b, b, (uint8_t)(1u << bit));
		}
		flip_trial(f, at + b, b, 0xffu);
	}
}

static void run_layout(const struct heap_format *fmt, enum neighbours cfg,
		       uint64_t seed)
{
	uint8_t *at;
	size_t bytes;

	build_layout(fmt, cfg, seed);
	layout_name = config_names[cfg];
	test_meta_read(snapshot, fmt->region, fmt->region_bytes);
	for (enum field f = 0; f < FIELD_COUNT; f++) {
		if (f == F_FREE_PREV || f == F_FREE_NEXT) {
			for (size_t side = 0; side < 2u; side++) {
				size_t i = side == 0u ? T_INDEX - 1u
						      : T_INDEX + 1u;

				if (!lay.live[i]) {
					link_bytes(lay.mem[i], f, &at, &bytes);
					flip_field(f, at, bytes);
				}
			}
		} else if (field_bytes(f, &at, &bytes)) {
			flip_field(f, at, bytes);
		}
	}
	/* Free the layout's blocks (the region is back to the snapshot):
	 * memory checkers keep a live block registered until it is freed,
	 * and the next layout's heap reuses the region. */
	for (size_t i = 0; i < BLOCKS; i++) {
		if (lay.live[i]) {
			sys_heap_free(&lay.heap, lay.mem[i]);
			lay.live[i] = false;
		}
	}
	assert_true(sys_heap_validate(&lay.heap));
}

static uint64_t seed_for_run(void)
{
	uint64_t seed = DEFAULT_SEED;

	(void)test_seed_from_env("KHEAP_SEED", &seed);
	printf("seed=0x%016" PRIx64 " (replay: KHEAP_SEED=0x%016" PRIx64 ")\n",
	       seed, seed);
	return seed;
}

static void print_percent(unsigned int hits, unsigned int trials)
{
	if (trials == 0u) {
		printf(" - |");
	} else {
		printf(" %u/%u (%.1f%%) |", hits, trials,
		       100.0 * (double)hits / (double)trials);
	}
}

static void test_sensitivity(void **state)
{
	uint64_t seed = seed_for_run();

	(void)state;
	verbose = getenv("KHEAP_HARDENING_VERBOSE") != NULL &&
		  strcmp(getenv("KHEAP_HARDENING_VERBOSE"), "1") == 0;
	const char *sample = getenv("KHEAP_HARDENING_SAMPLE");

	if (sample != NULL && strtoul(sample, NULL, 0) > 1u) {
		sample_every = strtoul(sample, NULL, 0);
		printf("KHEAP_HARDENING_SAMPLE: every %lu-th trial only\n",
		       sample_every);
	}
	memset(stats, 0, sizeof(stats));
	escapes = 0u;
	trial_counter = 0u;
	for (size_t f = 0; f < FORMAT_COUNT; f++) {
		for (unsigned int cfg = 0; cfg < NEIGHBOUR_CONFIGS; cfg++) {
			run_layout(
				&formats[f], (enum neighbours)cfg,
				test_mix64(seed + f * NEIGHBOUR_CONFIGS + cfg));
		}
	}
	if (!PROBE_RUNS) {
		printf("\nNONE with memory-checker hooks: the probe was not "
		       "run (its column shows 0)\n");
	}
	printf("\nhardening level %s: single-bit and whole-byte flips, "
	       "both formats, %u layouts\n\n",
	       hardening_level_name(HARDENING_LEVEL),
	       (unsigned int)(FORMAT_COUNT * NEIGHBOUR_CONFIGS));
	printf("| field | bit flips: probe | bit flips: validate | "
	       "byte flips: probe | byte flips: validate | undetected, "
	       "probe crashed or hung |\n"
	       "| --- | --- | --- | --- | --- | --- |\n");

	for (enum field f = 0; f < FIELD_COUNT; f++) {
		const struct field_stats *s = &stats[f];

		if (s->bit_trials == 0u) {
			continue;
		}
		printf("| %s |", field_names[f]);
		print_percent(s->bit_probe, s->bit_trials);
		print_percent(s->bit_validate, s->bit_trials);
		print_percent(s->byte_probe, s->byte_trials);
		print_percent(s->byte_validate, s->byte_trials);
		printf(" %u |\n", s->died);
	}
	printf("\n");
	/* Every flip is judged on its own (flip_trial): validate must see
	 * each, the probe each flip of an asserted field. */
	if (escapes != 0u) {
		fail_msg("%u flips escaped an asserted detection (listed "
			 "above as ESCAPE)",
			 escapes);
	}
}

int main(int argc, char **argv)
{
	static const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_sensitivity),
	};

	if (argc > 1) {
		cmocka_set_test_filter(argv[1]);
	}
	return cmocka_run_group_tests_name("hardening sensitivity", tests, NULL,
					   NULL) == 0
		       ? 0
		       : 1;
}
