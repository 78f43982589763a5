/* SPDX-License-Identifier: Apache-2.0 */
/*
 * sys_heap_stress(): Zephyr's randomized stress rig, for any allocator
 * behind an alloc and a free callback (contract in zephyr/sys/sys_heap.h).
 * It only drives the callbacks; checking the heap afterwards is the
 * caller's business.
 */
#include <kheap/config.h>
#include <zephyr/sys/sys_heap.h>

/* A live block: the caller's scratch memory holds an array of these. */
struct stress_record {
	void *mem;
	size_t bytes;
};

struct stress {
	void *(*alloc_fn)(void *arg, size_t bytes);
	void (*free_fn)(void *arg, void *p);
	void *arg;
	size_t total_bytes;
	unsigned int target_percent;
	struct stress_record *records;
	size_t capacity;
	size_t live;
	/* Bytes requested by the live blocks. */
	uint64_t in_use_bytes;
};

#define DEFAULT_SEED 0x6b68656170737472u /* "kheapstr" */

static uint64_t stress_state = DEFAULT_SEED;

void sys_heap_stress_seed(uint64_t seed)
{
	stress_state = seed;
}

size_t sys_heap_stress_record_bytes(void)
{
	return sizeof(struct stress_record);
}

/* splitmix64: every seed gives a full-period, well mixed sequence. */
static uint32_t next_random(void)
{
	uint64_t z = (stress_state += 0x9e3779b97f4a7c15u);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9u;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebu;
	return (uint32_t)((z ^ (z >> 31)) >> 32);
}

/*
 * Allocate (true) or free? Allocate when nothing is live, free when the
 * records are full or the fill has reached the target; in between, free
 * with probability fill / (2 * target), so the fill hovers just below
 * the target.
 */
static bool choose_alloc(const struct stress *s)
{
	if (s->live == 0u) {
		return true;
	}
	if (s->live == s->capacity) {
		return false;
	}
	uint64_t fill_percent = s->in_use_bytes * 100u / s->total_bytes;

	if (fill_percent >= s->target_percent) {
		return false;
	}
	return next_random() % (2u * s->target_percent) >= fill_percent;
}

/*
 * A request size from a power law: a geometric number of extra bits (each
 * one half as likely as the last) on top of 4, capped so that the
 * largest request is a power of two no larger than total_bytes. Never 0.
 */
static size_t choose_bytes(const struct stress *s)
{
	unsigned int max_bits = 0u;

	/* floor(log2(total_bytes)): total_bytes is at least 1. */
	for (uint64_t rest = s->total_bytes; rest > 1u; rest >>= 1) {
		max_bits++;
	}
	/* Leading zeros of a random word: k with probability 2^-(k+1) (the
	 * | 1 makes a zero word count as 31, a 2^-32 difference). */
	unsigned int bits = 4u + KHEAP_CLZ32(next_random() | 1u);

	if (bits > max_bits) {
		bits = max_bits;
	}
	uint64_t mask = ((uint64_t)1u << bits) - 1u;
	uint64_t word = ((uint64_t)next_random() << 32) | next_random();

	return (size_t)(word & mask) + 1u;
}

static void stress_alloc(struct stress *s, struct z_heap_stress_result *r)
{
	size_t bytes = choose_bytes(s);
	void *mem = s->alloc_fn(s->arg, bytes);

	r->total_allocs++;
	if (mem != NULL) {
		r->successful_allocs++;
		s->records[s->live].mem = mem;
		s->records[s->live].bytes = bytes;
		s->live++;
		s->in_use_bytes += bytes;
	}
}

static void stress_free(struct stress *s, struct z_heap_stress_result *r)
{
	size_t victim = next_random() % s->live;
	struct stress_record record = s->records[victim];

	/* The last record takes the freed one's place. */
	s->records[victim] = s->records[--s->live];
	s->in_use_bytes -= record.bytes;
	r->total_frees++;
	s->free_fn(s->arg, record.mem);
}

void sys_heap_stress(void *(*alloc_fn)(void *arg, size_t bytes),
		     void (*free_fn)(void *arg, void *p), void *arg,
		     size_t total_bytes, uint32_t op_count, void *scratch_mem,
		     size_t scratch_bytes, int target_percent,
		     struct z_heap_stress_result *result)
{
	if (result == NULL) {
		return;
	}
	*result = (struct z_heap_stress_result){0};

	uintptr_t scratch = (uintptr_t)scratch_mem;
	size_t pad = (size_t)(0u - scratch) % _Alignof(struct stress_record);
	size_t capacity =
		scratch_mem == NULL || scratch_bytes < pad
			? 0u
			: (scratch_bytes - pad) / sizeof(struct stress_record);

	if (alloc_fn == NULL || free_fn == NULL || total_bytes == 0u ||
	    capacity == 0u) {
		return;
	}
	struct stress s = {
		.alloc_fn = alloc_fn,
		.free_fn = free_fn,
		.arg = arg,
		.total_bytes = total_bytes,
		.target_percent = target_percent < 1 ? 1u
				  : target_percent > 100
					  ? 100u
					  : (unsigned int)target_percent,
		.records = (struct stress_record *)(scratch + pad),
		.capacity = capacity,
	};

	for (uint32_t op = 0; op < op_count; op++) {
		if (choose_alloc(&s)) {
			stress_alloc(&s, result);
		} else {
			stress_free(&s, result);
		}
		result->accumulated_in_use_bytes += s.in_use_bytes;
	}
}
