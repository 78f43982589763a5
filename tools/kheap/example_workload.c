/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The workload behind docs/img/heap_map_example.png: a small gateway on
 * the 16 KiB system heap. scripts/heap-map-example records it with
 * KHEAP_TRACE and draws it with `kheap map`.
 *
 * - main keeps a configuration table for the whole run;
 * - main receives messages of 32..480 bytes, queues them, and a
 *   consumer frees them in arrival order; one in eight is also kept in
 *   a cache of recent messages, whose entries are replaced at random (the
 *   long-lived blocks that fragment the heap);
 * - every 50 messages it forgets a 24-byte log record (the leak);
 * - an "updater" thread takes a 2 KiB, 64-byte aligned buffer now and
 *   then and gives it back.
 *
 * A fixed-seed PRNG and the simulator's virtual clock make every run
 * the same.
 */
#include <stdint.h>

#include <zephyr/kernel.h>

#define MESSAGES 600
#define QUEUE_SLOTS 24
#define CACHE_SLOTS 10
#define UPDATER_STACK_BYTES 4096

K_THREAD_STACK_DEFINE(updater_stack, UPDATER_STACK_BYTES);
static struct k_thread updater;
static volatile int running = 1;

static uint64_t rng_state = 0x2545f4914f6cdd1du;

static uint32_t next_random(void)
{
	/* xorshift64*: small, and enough for a demonstration */
	rng_state ^= rng_state >> 12;
	rng_state ^= rng_state << 25;
	rng_state ^= rng_state >> 27;
	return (uint32_t)((rng_state * 0x2545f4914f6cdd1du) >> 32);
}

static void updater_entry(void *p1, void *p2, void *p3)
{
	(void)p1;
	(void)p2;
	(void)p3;
	while (running) {
		k_msleep(40);
		void *chunk = k_aligned_alloc(64, 2048);

		k_msleep(15);
		k_free(chunk);
	}
}

int main(void)
{
	void *queue[QUEUE_SLOTS] = {0};
	void *cache[CACHE_SLOTS] = {0};
	unsigned int head = 0;

	void *config = k_calloc(32, 16);

	k_thread_create(&updater, updater_stack, UPDATER_STACK_BYTES,
			updater_entry, NULL, NULL, NULL, K_PRIO_PREEMPT(2), 0,
			K_NO_WAIT);
	k_thread_name_set(&updater, "updater");
	k_thread_name_set(NULL, "gateway");

	for (unsigned int i = 0; i < MESSAGES; i++) {
		size_t bytes = 32u + next_random() % 449u;
		void *message = k_malloc(bytes);

		/* The consumer: the oldest queued message goes. */
		k_free(queue[head]);
		queue[head] = message;
		head = (head + 1u) % QUEUE_SLOTS;

		if (message != NULL && next_random() % 8u == 0u) {
			unsigned int slot = next_random() % CACHE_SLOTS;
			void *copy = k_malloc(bytes);

			k_free(cache[slot]);
			cache[slot] = copy;
		}
		if (i % 50u == 49u) {
			(void)k_malloc(24); /* a log record nobody frees */
		}
		k_msleep(1);
	}
	running = 0;
	k_thread_join(&updater, K_FOREVER);
	for (unsigned int i = 0; i < QUEUE_SLOTS; i++) {
		k_free(queue[i]);
	}
	for (unsigned int i = 0; i < CACHE_SLOTS; i++) {
		k_free(cache[i]);
	}
	k_free(config);
	return 0;
}
