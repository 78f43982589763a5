/* SPDX-License-Identifier: Apache-2.0 */
/*
 * fuzz_kernel_api: the kernel layer's allocation API on the simulator
 * (sim/): the k_malloc family over the system heap, thread resource
 * pools, and k_heap_* on a k_heap_init heap, against a shadow model.
 *
 * Input: the k_heap's region (3 bytes, fuzz_region_decode: both header
 * formats, any base offset, sizes k_heap_init must refuse), then
 * operations until the input ends:
 *
 *   op % 16  operation                       operands
 *   0, 1     k_malloc                        size
 *   2        k_calloc                        nmemb, size
 *   3        k_aligned_alloc                 align, size
 *   4        k_realloc                       k_malloc block (or NULL), size
 *   5        k_free                          k_malloc block (or NULL)
 *   6        k_heap_alloc, K_NO_WAIT         size
 *   7        k_heap_aligned_alloc, K_NO_WAIT align, size
 *   8        k_heap_calloc, K_NO_WAIT        nmemb, size
 *   9        k_heap_realloc, K_NO_WAIT       k_heap block (or NULL), size
 *   10       k_heap_free                     k_heap block (or NULL)
 *   11       the thread's resource pool      none / system heap / k_heap,
 *                                            autofree on or off
 *   12       z_thread_malloc / _aligned_alloc flags (aligned, from an
 *                                            ISR), align, size
 *   13       burst: a seeded run of k_malloc, k_free, k_heap_alloc and
 *            k_heap_free (tests/support PRNG)
 *   14       k_heap_aligned_alloc with a timeout of 1..8 ticks (or
 *            K_FOREVER for an impossible request), virtual time
 *   15       free every block of one API family
 *
 * Oracles: sys_heap_validate() of the system heap and the k_heap after
 * every operation; guards around the k_heap's region; every block is
 * aligned, holds its requested size inside a live sys_heap block of the
 * right heap (heap listeners track those) and overlaps no other block;
 * tokens are checked before every free and resize, k_realloc and
 * k_heap_realloc keep the data, calloc memory is zero; allocated_bytes of
 * each heap equals the sum of round_up_8(usable + header) over its live
 * sys_heap blocks, and free + allocated is constant; impossible requests
 * fail at once, even with K_FOREVER; an alignment that is neither 0 nor a
 * power of two is refused at once with exactly one fault report (the
 * only faults the target captures: any other aborts, the simulator's
 * default handler). At the end of each input everything is freed and
 * both heaps' stats are back to their baselines.
 */
#include <string.h>

#include <kheap/sim.h>
#include <zephyr/irq_offload.h>
#include <zephyr/kernel.h>

#include "fuzz_support.h"

/* Who owns a block, and so which API frees it. */
enum block_kind {
	/* k_malloc family, in the system heap. */
	KIND_SYSTEM = 0,
	/* k_malloc family (a thread pool), in the k_heap. */
	KIND_POOL = 1,
	/* k_heap_* in the k_heap. */
	KIND_KHEAP = 2,
};

/* Bit in fuzz_block.kind: allocated while autofree tracking was on. */
#define KIND_TRACKED 0x80u
#define KIND_OF(b) ((enum block_kind)((b)->kind & 0x7fu))

static unsigned char buffer[FUZZ_BUFFER_BYTES] __attribute__((__aligned__(8)));
static struct k_heap kh;
static struct fuzz_model model;
static struct fuzz_tracker system_tracker;
static struct fuzz_tracker kh_tracker;

static struct {
	bool started;
	struct sys_memory_stats system_baseline;
	size_t system_total;
	struct fuzz_region region;
	bool kh_ok;
	size_t kh_total;
	size_t kh_init_free;
	size_t kh_header;
	/* The thread's pool: NULL, &_system_heap or &kh; autofree on/off. */
	struct k_heap *pool;
	bool autofree;
} st;

static const struct sys_heap *system_sys_heap(void)
{
	return &_system_heap.heap;
}

/* --- checks ------------------------------------------------------------- */

static struct fuzz_tracker *tracker_for(enum block_kind kind)
{
	return kind == KIND_SYSTEM ? &system_tracker : &kh_tracker;
}

static void check_heap_stats(const struct sys_heap *heap,
			     const struct fuzz_tracker *t, size_t total,
			     size_t header)
{
	struct sys_memory_stats s = fuzz_stats(heap);
	size_t span = fuzz_tracker_span(t, header);

	FUZZ_CHECK(s.allocated_bytes == span,
		   "heap %p: allocated_bytes %zu, its %zu live blocks span %zu",
		   (const void *)heap, s.allocated_bytes, t->count, span);
	FUZZ_CHECK(s.free_bytes + s.allocated_bytes == total,
		   "heap %p: free %zu + allocated %zu != %zu",
		   (const void *)heap, s.free_bytes, s.allocated_bytes, total);
	FUZZ_CHECK(s.max_allocated_bytes >= s.allocated_bytes,
		   "heap %p: max %zu < allocated %zu", (const void *)heap,
		   s.max_allocated_bytes, s.allocated_bytes);
}

static void check_all(void)
{
	size_t in_system = 0u;
	size_t in_kh = 0u;

	FUZZ_CHECK(sys_heap_validate(system_sys_heap()),
		   "validate(system heap) failed");
	check_heap_stats(system_sys_heap(), &system_tracker, st.system_total,
			 4u);
	if (st.kh_ok) {
		FUZZ_CHECK(sys_heap_validate(&kh.heap),
			   "validate(k_heap) failed");
		check_heap_stats(&kh.heap, &kh_tracker, st.kh_total,
				 st.kh_header);
	}
	fuzz_region_check_guards(&st.region);
	for (size_t i = 0; i < model.count; i++) {
		if (KIND_OF(&model.blocks[i]) == KIND_SYSTEM) {
			in_system++;
		} else {
			in_kh++;
		}
	}
	FUZZ_CHECK(system_tracker.count == in_system &&
			   kh_tracker.count == in_kh,
		   "live sys_heap blocks: system %zu, k_heap %zu; model: %zu "
		   "and %zu",
		   system_tracker.count, kh_tracker.count, in_system, in_kh);
}

/* A block the kernel layer handed out: where it may be. */
static void check_new_block(const struct fuzz_block *b, size_t skip)
{
	const struct fuzz_tracker *t = tracker_for(KIND_OF(b));

	FUZZ_CHECK(fuzz_align_ok(b->mem, b->align, b->rewind),
		   "block %p misaligned (align %zu, rewind %zu)",
		   (void *)b->mem, b->align, b->rewind);
	size_t in = fuzz_tracker_containing(t, b->mem, b->filled);

	FUZZ_CHECK(in != SIZE_MAX,
		   "block %p + %zu is not inside a live block of its heap "
		   "(kind %u)",
		   (void *)b->mem, b->filled, (unsigned int)b->kind);
	if (KIND_OF(b) == KIND_KHEAP) {
		FUZZ_CHECK(t->blocks[in].mem == b->mem,
			   "k_heap block %p is not a sys_heap block",
			   (void *)b->mem);
	}
	if (KIND_OF(b) != KIND_SYSTEM) {
		FUZZ_CHECK(fuzz_region_contains(&st.region, b->mem, b->filled),
			   "block %p outside the k_heap region",
			   (void *)b->mem);
	} else {
		/* K_HEAP_DEFINE's region is 8-aligned: the control block
		 * sits at its start. The region is the configured size plus
		 * the metadata (kheap/k_heap.h). */
		uintptr_t start = (uintptr_t)system_sys_heap()->heap;
		uintptr_t p = (uintptr_t)t->blocks[in].mem;

		FUZZ_CHECK(
			p > start &&
				p + t->blocks[in].usable <=
					start + Z_HEAP_MIN_SIZE_FOR(
							K_HEAP_MEM_POOL_SIZE),
			"system heap block %p + %zu outside its region",
			t->blocks[in].mem, t->blocks[in].usable);
	}
	size_t other = fuzz_model_overlap(&model, b->mem, b->filled, skip);

	FUZZ_CHECK(other == SIZE_MAX, "block %p + %zu overlaps block %p + %zu",
		   (void *)b->mem, b->filled,
		   other == SIZE_MAX ? NULL : (void *)model.blocks[other].mem,
		   other == SIZE_MAX ? 0u : model.blocks[other].filled);
}

static void check_zero(const void *mem, size_t bytes)
{
	const unsigned char *p = mem;

	for (size_t i = 0; i < bytes; i++) {
		FUZZ_CHECK(p[i] == 0u, "calloc block %p: byte %zu is %#x", mem,
			   i, (unsigned int)p[i]);
	}
}

static void add_block(void *mem, size_t bytes, size_t a, size_t r,
		      unsigned int kind)
{
	struct fuzz_block b = {
		.mem = mem,
		.requested = bytes,
		.filled = bytes,
		.align = a,
		.rewind = r,
		.kind = (uint8_t)kind,
	};

	if (KIND_OF(&b) == KIND_KHEAP) {
		b.usable = sys_heap_usable_size(&kh.heap, mem);
		FUZZ_CHECK(b.usable >= bytes,
			   "k_heap block %p: usable %zu < %zu", mem, b.usable,
			   bytes);
		b.filled = b.usable;
	}
	check_new_block(&b, SIZE_MAX);
	fuzz_model_add(&model, &b);
}

/* --- the k_malloc family ---------------------------------------------- */

static bool power_of_two(size_t x)
{
	return x != 0u && (x & (x - 1u)) == 0u;
}

/* The kind of a k_malloc-family block of the current pool. */
static unsigned int pool_kind(void)
{
	unsigned int kind = st.pool == &kh ? KIND_POOL : KIND_SYSTEM;

	return st.autofree ? kind | KIND_TRACKED : kind;
}

/*
 * The kernel layer's entry points that take an alignment report one that
 * is neither 0 nor a power of two as a fault and return NULL: capture
 * around such a call and check exactly that.
 */
static bool align_refused(size_t align)
{
	return align != 0u && !power_of_two(align);
}

static void align_faults_begin(size_t align)
{
	if (align_refused(align)) {
		sim_fault_clear();
		(void)sim_fault_capture(true);
	}
}

static void align_faults_end(size_t align, const char *operation,
			     const void *mem)
{
	if (!align_refused(align)) {
		return;
	}
	(void)sim_fault_capture(false);
	FUZZ_CHECK(mem == NULL && sim_fault_count() == 1u &&
			   strcmp(sim_fault_last_operation(), operation) == 0,
		   "%s(align %zu): %p with %u faults (last: %s), expected "
		   "NULL and one fault",
		   operation, align, mem, sim_fault_count(),
		   sim_fault_last_operation());
	sim_fault_clear();
}

static void k_family_result(void *mem, size_t align, size_t bytes,
			    unsigned int kind, const char *call)
{
	if (mem == NULL) {
		return;
	}
	FUZZ_CHECK(align == 0u || power_of_two(align),
		   "%s(align %zu) must fail, gave %p", call, align, mem);
	size_t a = align < 8u ? 8u : align;

	add_block(mem, bytes, a, 0u, kind);
}

static void do_k_malloc(size_t bytes)
{
	/* A block carries its heap's address just below it, in a slot of
	 * sizeof(void *) rounded up to the 8-byte block alignment (on 32-bit
	 * targets the 4-byte address costs 8 bytes: blocks and k_malloc's
	 * results are both 8-aligned). k_malloc(n) must succeed when n plus
	 * that slot is at most max_alloc_bytes (0 included: a unique
	 * pointer). */
	const size_t ref_slot_bytes = (sizeof(void *) + 7u) & ~(size_t)7u;
	size_t max = sys_heap_max_alloc_bytes(system_sys_heap());
	void *mem = k_malloc(bytes);

	FUZZ_CHECK(mem != NULL || bytes > max || bytes + ref_slot_bytes > max,
		   "k_malloc(%zu) failed with max_alloc_bytes %zu", bytes, max);
	k_family_result(mem, 8u, bytes, KIND_SYSTEM, "k_malloc");
}

static void do_k_calloc(size_t n, size_t size)
{
	void *mem = k_calloc(n, size);

	if (mem == NULL) {
		return;
	}
	FUZZ_CHECK(size == 0u || n <= SIZE_MAX / size,
		   "k_calloc(%zu, %zu) overflows but gave %p", n, size, mem);
	check_zero(mem, n * size);
	k_family_result(mem, 8u, n * size, KIND_SYSTEM, "k_calloc");
}

static void do_k_aligned_alloc(size_t align, size_t bytes)
{
	align_faults_begin(align);
	void *mem = k_aligned_alloc(align, bytes);

	align_faults_end(align, "k_aligned_alloc", mem);
	k_family_result(mem, align, bytes, KIND_SYSTEM, "k_aligned_alloc");
}

struct isr_alloc {
	bool aligned;
	size_t align;
	size_t bytes;
	void *mem;
};

static void isr_alloc_fn(const void *arg)
{
	struct isr_alloc *a = (struct isr_alloc *)(uintptr_t)arg;

	FUZZ_CHECK(k_is_in_isr(), "irq_offload did not run in ISR context");
	a->mem = a->aligned ? z_thread_aligned_alloc(a->align, a->bytes)
			    : z_thread_malloc(a->bytes);
}

/* z_thread_malloc / z_thread_aligned_alloc, from the thread or from an
 * ISR (where they always use the system heap, untracked). */
static void do_z_thread_alloc(bool aligned, bool isr, size_t align,
			      size_t bytes)
{
	size_t checked_align = aligned ? align : 0u;

	align_faults_begin(checked_align);
	if (isr) {
		struct isr_alloc a = {
			.aligned = aligned, .align = align, .bytes = bytes};

		irq_offload(isr_alloc_fn, &a);
		align_faults_end(checked_align, "z_thread_aligned_alloc",
				 a.mem);
		k_family_result(a.mem, aligned ? align : 8u, bytes, KIND_SYSTEM,
				"z_thread_aligned_alloc (ISR)");
		return;
	}
	void *mem = aligned ? z_thread_aligned_alloc(align, bytes)
			    : z_thread_malloc(bytes);

	align_faults_end(checked_align, "z_thread_aligned_alloc", mem);

	if (st.pool == NULL) {
		FUZZ_CHECK(mem == NULL, "no pool, but z_thread_malloc gave %p",
			   mem);
		return;
	}
	k_family_result(mem, aligned ? align : 8u, bytes, pool_kind(),
			"z_thread_aligned_alloc");
}

/* A random k_malloc-family block, SIZE_MAX for NULL. */
static size_t pick_kind(struct fuzz_input *in, bool k_family)
{
	uint16_t v = fuzz_u16(in);
	size_t n = 0u;

	if (v == 0xffffu) {
		return SIZE_MAX;
	}
	for (size_t i = 0; i < model.count; i++) {
		n += (KIND_OF(&model.blocks[i]) == KIND_KHEAP) != k_family;
	}
	if (n == 0u) {
		return SIZE_MAX;
	}
	n = v % n;
	for (size_t i = 0; i < model.count; i++) {
		if ((KIND_OF(&model.blocks[i]) == KIND_KHEAP) != k_family &&
		    n-- == 0u) {
			return i;
		}
	}
	return SIZE_MAX;
}

static void free_index(size_t i)
{
	struct fuzz_block b = model.blocks[i];

	fuzz_block_check(&b, "before free");
	if (KIND_OF(&b) == KIND_KHEAP) {
		k_heap_free(&kh, b.mem);
	} else {
		k_free(b.mem);
	}
	fuzz_model_remove(&model, i);
}

static void do_k_free(size_t i)
{
	if (i == SIZE_MAX) {
		k_free(NULL);
		return;
	}
	free_index(i);
}

static void do_k_heap_free(size_t i)
{
	if (i == SIZE_MAX) {
		k_heap_free(&kh, NULL);
		return;
	}
	free_index(i);
}

/* After a realloc that succeeded: the first keep bytes moved along, and
 * the block (index i) now lives at mem with alignment a, rewind r. */
static void realloc_done(size_t i, void *mem, size_t bytes, size_t keep,
			 size_t a, size_t r)
{
	struct fuzz_block old = model.blocks[i];
	size_t bad = test_token_check_moved(mem, keep, old.id, old.mem);

	FUZZ_CHECK(bad == SIZE_MAX, "realloc %p -> %p lost byte %zu of %zu",
		   (void *)old.mem, mem, bad, keep);
	struct fuzz_block *b = &model.blocks[i];

	b->mem = mem;
	b->requested = bytes;
	b->filled = bytes;
	b->align = a;
	b->rewind = r;
	if (KIND_OF(b) == KIND_KHEAP) {
		b->usable = sys_heap_usable_size(&kh.heap, mem);
		FUZZ_CHECK(b->usable >= bytes, "usable %zu < %zu", b->usable,
			   bytes);
		b->filled = b->usable;
	}
	check_new_block(b, i);
	fuzz_block_refill(&model, b);
}

static void do_k_realloc(size_t i, size_t bytes)
{
	if (i == SIZE_MAX) {
		void *mem = k_realloc(NULL, bytes);

		if (bytes == 0u) {
			FUZZ_CHECK(mem == NULL, "k_realloc(NULL, 0) gave %p",
				   mem);
			return;
		}
		k_family_result(mem, 8u, bytes, KIND_SYSTEM, "k_realloc");
		return;
	}
	struct fuzz_block old = model.blocks[i];

	fuzz_block_check(&old, "before k_realloc");
	void *mem = k_realloc(old.mem, bytes);

	if (bytes == 0u) {
		FUZZ_CHECK(mem == NULL, "k_realloc(p, 0) gave %p", mem);
		fuzz_model_remove(&model, i);
		return;
	}
	if (mem == NULL) {
		/* Untracked blocks shrink in place; tracked ones always move
		 * (with their list node), so they may fail for lack of space. */
		FUZZ_CHECK(bytes > old.requested || (old.kind & KIND_TRACKED),
			   "k_realloc(%p, %zu) failed: a shrink from %zu must "
			   "succeed",
			   (void *)old.mem, bytes, old.requested);
		fuzz_block_check(&old, "after a failed k_realloc");
		return;
	}
	if (bytes <= old.requested && !(old.kind & KIND_TRACKED)) {
		FUZZ_CHECK(mem == old.mem, "k_realloc shrink moved %p to %p",
			   (void *)old.mem, mem);
	}
	realloc_done(i, mem, bytes,
		     old.requested < bytes ? old.requested : bytes,
		     mem == old.mem ? old.align : 8u, 0u);
}

/* --- k_heap --------------------------------------------------------------- */

static void kheap_result(void *mem, size_t align, size_t bytes)
{
	size_t a = SYS_HEAP_CHUNK_BYTES;
	size_t r = 0u;

	if (mem == NULL) {
		return;
	}
	FUZZ_CHECK(st.kh_ok, "refused k_heap handed out %p", mem);
	FUZZ_CHECK(bytes != 0u && !align_refused(align) &&
			   fuzz_align_form(align, &a, &r),
		   "k_heap alloc(align %zu, %zu) must fail, gave %p", align,
		   bytes, mem);
	add_block(mem, bytes, a, r, KIND_KHEAP);
}

static void do_k_heap_calloc(size_t n, size_t size)
{
	void *mem = k_heap_calloc(&kh, n, size, K_NO_WAIT);

	if (mem == NULL) {
		return;
	}
	FUZZ_CHECK(size == 0u || n <= SIZE_MAX / size,
		   "k_heap_calloc(%zu, %zu) overflows but gave %p", n, size,
		   mem);
	check_zero(mem, n * size);
	kheap_result(mem, 0u, n * size);
}

static void do_k_heap_realloc(size_t i, size_t bytes)
{
	if (i == SIZE_MAX) {
		void *mem = k_heap_realloc(&kh, NULL, bytes, K_NO_WAIT);

		kheap_result(mem, 0u, bytes);
		return;
	}
	struct fuzz_block old = model.blocks[i];

	fuzz_block_check(&old, "before k_heap_realloc");
	void *mem = k_heap_realloc(&kh, old.mem, bytes, K_NO_WAIT);

	if (bytes == 0u) {
		FUZZ_CHECK(mem == NULL, "k_heap_realloc(p, 0) gave %p", mem);
		fuzz_model_remove(&model, i);
		return;
	}
	if (mem == NULL) {
		FUZZ_CHECK(bytes > old.usable,
			   "k_heap_realloc(%p, %zu) failed: a shrink from %zu "
			   "must succeed",
			   (void *)old.mem, bytes, old.usable);
		fuzz_block_check(&old, "after a failed k_heap_realloc");
		return;
	}
	if (bytes <= old.usable) {
		FUZZ_CHECK(mem == old.mem,
			   "k_heap_realloc shrink moved %p to %p",
			   (void *)old.mem, mem);
	}
	/* In place keeps the block's alignment; a moved block is 8-aligned.
	 * k_heap blocks are filled over their whole usable size. */
	realloc_done(i, mem, bytes, old.usable < bytes ? old.usable : bytes,
		     mem == old.mem ? old.align : 8u,
		     mem == old.mem ? old.rewind : 0u);
}

/* A timed allocation: succeeds at once, or waits exactly its timeout in
 * virtual time; an impossible request returns NULL at once. */
static void do_timed_alloc(struct fuzz_input *in)
{
	uint8_t b = fuzz_u8(in);
	size_t align = fuzz_align(in);
	size_t bytes = fuzz_size(in, st.region.bytes);
	k_ticks_t ticks = 1 + (k_ticks_t)(b % 8u);
	bool fits = !align_refused(align) &&
		    sys_heap_request_fits(&kh.heap, align, bytes);
	k_timeout_t timeout = !fits && (b & 0x80u) ? K_FOREVER : K_TICKS(ticks);
	int64_t start = k_uptime_ticks();

	align_faults_begin(align);
	void *mem = k_heap_aligned_alloc(&kh, align, bytes, timeout);

	align_faults_end(align, "k_heap_aligned_alloc", mem);
	int64_t waited = k_uptime_ticks() - start;

	if (!fits) {
		FUZZ_CHECK(mem == NULL && waited == 0,
			   "impossible request (align %zu, %zu bytes): %p "
			   "after %lld ticks",
			   align, bytes, mem, (long long)waited);
		return;
	}
	if (mem != NULL) {
		FUZZ_CHECK(waited == 0,
			   "allocation succeeded after %lld ticks with "
			   "nothing freed",
			   (long long)waited);
	} else {
		FUZZ_CHECK(waited == ticks,
			   "timed out after %lld of %lld ticks",
			   (long long)waited, (long long)ticks);
	}
	kheap_result(mem, align, bytes);
}

/* --- the rest ----------------------------------------------------------- */

static void do_pool(struct fuzz_input *in)
{
	uint8_t b = fuzz_u8(in);
	struct k_heap *pools[3] = {NULL, &_system_heap, &kh};

	st.pool = pools[(b & 3u) % 3u];
	if (st.pool == &kh && !st.kh_ok) {
		st.pool = NULL;
	}
	st.autofree = (b & 4u) != 0u;
	k_thread_heap_assign(k_current_get(), st.pool);
	k_thread_pool_autofree(k_current_get(), st.autofree);
}

static void do_burst(struct fuzz_input *in)
{
	struct test_rng rng;
	unsigned int steps = 1u + fuzz_u8(in) % 64u;
	unsigned int alloc_percent = 20u + fuzz_u8(in) % 70u;
	uint64_t max_size = 1u + fuzz_u16(in) % 2048u;

	test_rng_seed(&rng, fuzz_u32(in));
	for (unsigned int k = 0; k < steps; k++) {
		if (k != 0u) {
			check_all();
			fuzz_context_op("burst");
		}
		if (model.count != 0u &&
		    (fuzz_model_full(&model) ||
		     !test_rng_percent(&rng, alloc_percent))) {
			free_index((size_t)test_rng_below(&rng, model.count));
		} else if (test_rng_percent(&rng, 50u)) {
			do_k_malloc(
				(size_t)test_rng_log_uniform(&rng, max_size));
		} else {
			size_t bytes =
				(size_t)test_rng_log_uniform(&rng, max_size);

			kheap_result(k_heap_alloc(&kh, bytes, K_NO_WAIT), 0u,
				     bytes);
		}
	}
}

static void do_free_family(struct fuzz_input *in)
{
	bool k_family = (fuzz_u8(in) & 1u) != 0u;

	for (size_t i = model.count; i-- > 0;) {
		if ((KIND_OF(&model.blocks[i]) == KIND_KHEAP) != k_family) {
			free_index(i);
		}
	}
}

static void run_op(struct fuzz_input *in, uint8_t op)
{
	size_t sys_limit = CONFIG_HEAP_MEM_POOL_SIZE;
	size_t limit = st.region.bytes;
	void *mem;
	size_t align;
	size_t bytes;
	size_t n;
	size_t i;

	if (fuzz_model_full(&model)) {
		/* Make room: only frees from here. */
		op = 15u;
	}
	switch (op % 16u) {
	case 0:
	case 1:
		fuzz_context_op("k_malloc");
		do_k_malloc(fuzz_size(in, sys_limit));
		break;
	case 2:
		fuzz_context_op("k_calloc");
		n = fuzz_size(in, 64u);
		do_k_calloc(n, fuzz_size(in, 1024u));
		break;
	case 3:
		fuzz_context_op("k_aligned_alloc");
		align = fuzz_align(in);
		do_k_aligned_alloc(align, fuzz_size(in, sys_limit));
		break;
	case 4:
		fuzz_context_op("k_realloc");
		i = pick_kind(in, true);
		do_k_realloc(i, fuzz_size(in, sys_limit));
		break;
	case 5:
		fuzz_context_op("k_free");
		do_k_free(pick_kind(in, true));
		break;
	case 6:
		fuzz_context_op("k_heap_alloc");
		bytes = fuzz_size(in, limit);
		kheap_result(k_heap_alloc(&kh, bytes, K_NO_WAIT), 0u, bytes);
		break;
	case 7:
		fuzz_context_op("k_heap_aligned_alloc");
		align = fuzz_align(in);
		bytes = fuzz_size(in, limit);
		align_faults_begin(align);
		mem = k_heap_aligned_alloc(&kh, align, bytes, K_NO_WAIT);
		align_faults_end(align, "k_heap_aligned_alloc", mem);
		kheap_result(mem, align, bytes);
		break;
	case 8:
		fuzz_context_op("k_heap_calloc");
		n = fuzz_size(in, 64u);
		do_k_heap_calloc(n, fuzz_size(in, 1024u));
		break;
	case 9:
		fuzz_context_op("k_heap_realloc");
		i = pick_kind(in, false);
		do_k_heap_realloc(i, fuzz_size(in, limit));
		break;
	case 10:
		fuzz_context_op("k_heap_free");
		do_k_heap_free(pick_kind(in, false));
		break;
	case 11:
		fuzz_context_op("pool");
		do_pool(in);
		break;
	case 12:
		fuzz_context_op("z_thread_alloc");
		n = fuzz_u8(in);
		align = fuzz_align(in);
		do_z_thread_alloc((n & 1u) != 0u, (n & 2u) != 0u, align,
				  fuzz_size(in, sys_limit));
		break;
	case 13:
		fuzz_context_op("burst");
		do_burst(in);
		break;
	case 14:
		fuzz_context_op("timed_alloc");
		do_timed_alloc(in);
		break;
	default:
		fuzz_context_op("free_family");
		do_free_family(in);
		break;
	}
	check_all();
}

/* Once per process: the simulator in a fixed configuration and the
 * system heap initialised, its stats the baseline of every input. */
static void start_once(void)
{
	struct sim_config cfg;

	sim_config_default(&cfg);
	cfg.mode = SIM_MODE_DETERMINISTIC;
	cfg.clock = SIM_CLOCK_VIRTUAL;
	cfg.seed = 1u;
	cfg.quiet = true;
	FUZZ_CHECK(sim_configure(&cfg) == 0, "sim_configure failed");
	k_free(k_malloc(1u));
	st.system_baseline = fuzz_stats(system_sys_heap());
	st.system_total = st.system_baseline.free_bytes +
			  st.system_baseline.allocated_bytes;
	st.started = true;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fuzz_input in;

	fuzz_context_begin("fuzz_kernel_api");
	if (!st.started) {
		start_once();
	}
	fuzz_input_init(&in, data, size);
	fuzz_model_reset(&model);
	fuzz_region_decode(&in, buffer, &st.region, 0u);

	int rc = k_heap_init(&kh, st.region.mem, st.region.bytes);

	st.kh_ok = fuzz_region_init_ok(&st.region);
	FUZZ_CHECK(rc == (st.kh_ok ? 0 : -22), "k_heap_init(%zu bytes): %d",
		   st.region.bytes, rc);
	st.kh_header = sys_heap_header_bytes(&kh.heap);
	struct sys_memory_stats s;

	if (st.kh_ok) {
		s = fuzz_stats(&kh.heap);
		st.kh_total = s.free_bytes + s.allocated_bytes;
		st.kh_init_free = s.free_bytes;
	}
	s = fuzz_stats(system_sys_heap());
	FUZZ_CHECK(s.free_bytes == st.system_baseline.free_bytes &&
			   s.allocated_bytes ==
				   st.system_baseline.allocated_bytes,
		   "system heap not at its baseline at the start of an input");
	st.pool = NULL;
	st.autofree = false;
	k_thread_heap_assign(k_current_get(), NULL);
	k_thread_pool_autofree(k_current_get(), false);
	fuzz_tracker_start(&system_tracker, system_sys_heap());
	fuzz_tracker_start(&kh_tracker, &kh.heap);
	check_all();

	while (fuzz_more(&in)) {
		run_op(&in, fuzz_u8(&in));
	}

	fuzz_context_op("final free");
	for (size_t i = 0; i < model.count; i++) {
		check_new_block(&model.blocks[i], i);
	}
	while (model.count != 0u) {
		free_index(model.count - 1u);
	}
	check_all();
	s = fuzz_stats(system_sys_heap());
	FUZZ_CHECK(
		s.free_bytes == st.system_baseline.free_bytes &&
			s.allocated_bytes == st.system_baseline.allocated_bytes,
		"system heap: free %zu, allocated %zu after freeing "
		"everything; baseline %zu, %zu",
		s.free_bytes, s.allocated_bytes, st.system_baseline.free_bytes,
		st.system_baseline.allocated_bytes);
	if (st.kh_ok) {
		s = fuzz_stats(&kh.heap);
		FUZZ_CHECK(s.allocated_bytes == 0u &&
				   s.free_bytes == st.kh_init_free,
			   "k_heap: free %zu, allocated %zu after freeing "
			   "everything",
			   s.free_bytes, s.allocated_bytes);
	}
	k_thread_heap_assign(k_current_get(), NULL);
	k_thread_pool_autofree(k_current_get(), false);
	fuzz_tracker_stop(&kh_tracker);
	fuzz_tracker_stop(&system_tracker);
	return 0;
}
