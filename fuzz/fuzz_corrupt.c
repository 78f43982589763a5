/* SPDX-License-Identifier: Apache-2.0 */
/*
 * fuzz_corrupt: sys_heap calls interleaved with arbitrary writes into the
 * heap's block area, as a program with a use-after-free, an overflow or
 * an underflow makes them.
 *
 * The contract (sys_heap.h, "Corruption"; docs/api.md) promises that from
 * BASIC up no sequence of calls and writes into the block area (from the
 * first block's header to the end of the region) makes the heap read or
 * write outside its region, and that a call which meets the corruption is
 * refused, reported through the fault handler and leaves the heap as it
 * was. From FULL up the same holds for writes into the control block
 * (the region's start, below the first block), which the heap detects
 * before it uses a field of it as an address.
 *
 * The region lies between guard pages (mmap, PROT_NONE: the low guard a
 * megabyte, the high one as much address space as the farthest address a
 * corrupt 32-bit chunk id can make, where the system lets us reserve it),
 * abutting one of them exactly; under AddressSanitizer the slack in the
 * region's first and last page is poisoned too. So an access outside the
 * region is a crash with or without ASan, and the fuzzer needs no other
 * oracle for it.
 *
 * Oracles, per call (snapshot of the region before it):
 *   - a fault names this heap, a known kind, an operation and the kind's
 *     fixed message; at most one per call;
 *   - a call that reports a fault returns its refusal value (NULL, 0)
 *     and leaves the region byte-identical (the one allowance: with
 *     control-block writes at FULL and up, a damaged list head found
 *     halfway through a call is reported as CORRUPT_LINKS by a call that
 *     went on without it);
 *   - every refused call reported: free() that changes nothing reported a
 *     fault; usable_size() of 0 reported one; alloc, aligned alloc and
 *     realloc that return NULL changed nothing;
 *   - a block handed out lies inside the block area with its requested
 *     bytes, aligned as asked;
 *   - the read-only calls (validate, walk, stats, print_info,
 *     max_alloc_bytes, owns, request_fits) change nothing and report
 *     nothing, and terminate.
 * No model of the blocks: after the first write the heap's answers
 * depend on the damage, and the point is that they stay inside the
 * region and honest about refusals.
 *
 * Input: a header of 4 bytes, then operations until the input ends:
 *   byte 0  bits 0-2 base offset 0..7 from an 8-aligned address; bit 3
 *           8-byte headers (a region above 256 KiB); bit 4 the region
 *           abuts the low guard page (else the high one); bit 5 writes
 *           may also hit the control block (FULL and up; ignored below);
 *           bits 6-7 the size shape of a small region
 *   u16     the size: small regions 95 .. 2 KiB, .. 16 KiB, 255-256 KiB
 *           or 32 .. 96 KiB by shape; big ones 256 KiB + 1 .. + 8 KiB
 *   u8      the byte every region byte starts as
 *
 *   op % 16  operation
 *   0, 1     alloc(size)
 *   2        aligned_alloc(align, size)
 *   3        free(block)
 *   4        realloc(block, size)
 *   5        aligned_realloc(block, align, size)
 *   6        usable_size(block), owns(block)
 *   7        read-only calls: validate, walk, stats, max_alloc_bytes,
 *            print_info, header_bytes, request_fits
 *   8        write 1..8 bytes (set or XOR) at a signed offset from a
 *            block's pointer
 *   9        write a 16- or 32-bit word that looks like metadata (a chunk
 *            id near the block's, near the end, a head mark, 0, ~0...)
 *            at a signed offset from a block's pointer
 *   10       write 1..8 bytes anywhere in the block area
 *   11       burst: a seeded run of allocations and frees
 *   12       copy the 16 bytes around one block's header over another's
 *   13       control-block write (mode bit, FULL and up), else as 10
 *   14       free(block) twice
 *   15       alloc(max_alloc_bytes())
 * A block is one of the pointers the heap handed out, live or freed
 * (u8 index).
 *
 * Built per hardening level (CMake: fuzz_corrupt is BASIC, the level of
 * kheap_core; fuzz_corrupt_moderate, _full and _extreme, and the replay
 * programs of every level, link cores built at those levels).
 */
#define _DEFAULT_SOURCE 1

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "fuzz_support.h"
#include "test_meta.h"

#define LEVEL CONFIG_SYS_HEAP_HARDENING_LEVEL
#define CTRL_WRITES_CHECKED (LEVEL >= SYS_HEAP_HARDENING_FULL)

/* Largest region: just above the header format cutover. */
#define REGION_MAX (SYS_HEAP_SMALL_REGION_MAX_BYTES + 8192u + 8u)
#define LOW_GUARD_BYTES ((size_t)1u << 20)

#define MAX_PTRS 256u

static struct {
	unsigned char *reservation;
	size_t reservation_bytes;
	/* The pages a region may occupy, between the guards. */
	unsigned char *area;
	size_t area_bytes;
	size_t page;
} guard;

static unsigned char snapshot[REGION_MAX];

/* The input's heap. */
static struct {
	struct sys_heap heap;
	unsigned char *region;
	size_t bytes;
	/* The first block's header: the block area is [block_area,
	 * region + bytes). */
	unsigned char *block_area;
	bool ctrl_writes;
	unsigned char *live[MAX_PTRS];
	size_t live_count;
	unsigned char *freed[MAX_PTRS];
	size_t freed_count;
	size_t freed_next;
} st;

/* Faults of the current call. */
static struct {
	unsigned int count;
	struct sys_heap_fault first;
} faults;

static void on_fault(const struct sys_heap_fault *fault)
{
	const char *message = sys_heap_fault_message(fault->kind);

	FUZZ_CHECK(fault->heap == &st.heap, "fault names heap %p",
		   (const void *)fault->heap);
	FUZZ_CHECK(fault->kind >= SYS_HEAP_FAULT_BAD_POINTER &&
			   fault->kind <= SYS_HEAP_FAULT_INVALID_HEAP,
		   "unknown fault kind %d", (int)fault->kind);
	FUZZ_CHECK(fault->operation != NULL && message[0] != '\0',
		   "fault %s without operation or without a message",
		   fault_kind_name(fault->kind));
	if (faults.count++ == 0u) {
		faults.first = *fault;
	}
	fuzz_trace("fault %s in %s(%p)", fault_kind_name(fault->kind),
		   fault->operation, fault->mem);
}

/* --- the guarded area --------------------------------------------------- */

static size_t round_up(size_t n, size_t to)
{
	return (n + to - 1u) / to * to;
}

/* Reserve [low guard][area][high guard] once. The high guard covers every
 * address a corrupt chunk id can reach (32-bit ids of 8 bytes plus a
 * 32-bit base offset: under 40 GiB) where the system lets us reserve that
 * much address space (Valgrind does not); smaller reservations still
 * guard the nearest wild accesses. */
static void guard_setup(void)
{
	static const size_t high_guards[] = {
		(size_t)40u << 30,
		(size_t)4u << 30,
		(size_t)64u << 20,
		(size_t)1u << 20,
	};

	if (guard.reservation != NULL) {
		return;
	}
	guard.page = (size_t)sysconf(_SC_PAGESIZE);
	guard.area_bytes = round_up(REGION_MAX, guard.page) + guard.page;
	for (size_t i = 0; i < sizeof(high_guards) / sizeof(high_guards[0]);
	     i++) {
		size_t total = LOW_GUARD_BYTES + guard.area_bytes +
			       (SIZE_MAX > 0xffffffffu ? high_guards[i]
						       : (size_t)1u << 20);
		void *p = mmap(NULL, total, PROT_NONE,
			       MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1,
			       0);

		if (p != MAP_FAILED) {
			guard.reservation = p;
			guard.reservation_bytes = total;
			guard.area = guard.reservation + LOW_GUARD_BYTES;
			return;
		}
	}
	fprintf(stderr, "fuzz_corrupt: cannot reserve guard pages\n");
	abort();
}

static void poison(void *mem, size_t bytes)
{
#if TEST_META_ASAN
	__asan_poison_memory_region(mem, bytes);
#else
	(void)mem;
	(void)bytes;
#endif
}

/* Make the pages of [mem, mem + bytes) the only accessible ones of the
 * area, and poison their bytes outside it. */
static void guard_region(unsigned char *mem, size_t bytes)
{
	uintptr_t first = (uintptr_t)mem & ~(uintptr_t)(guard.page - 1u);
	uintptr_t last = round_up((uintptr_t)mem + bytes, guard.page);

	/* Forget the previous input's region (memory-checker hooks). */
	if (mprotect(guard.area, guard.area_bytes, PROT_READ | PROT_WRITE) !=
	    0) {
		abort();
	}
	test_meta_release(guard.area, guard.area_bytes);
	if (mprotect(guard.area, (size_t)(first - (uintptr_t)guard.area),
		     PROT_NONE) != 0 ||
	    mprotect((void *)last,
		     (size_t)((uintptr_t)guard.area + guard.area_bytes - last),
		     PROT_NONE) != 0) {
		abort();
	}
	poison((void *)first, (size_t)((uintptr_t)mem - first));
	poison(mem + bytes, (size_t)(last - ((uintptr_t)mem + bytes)));
}

/* --- region and heap ------------------------------------------------------ */

static bool walk_first(void *ctx, const struct sys_heap_block *block)
{
	*(const void **)ctx = block->header;
	return false;
}

static bool setup_heap(struct fuzz_input *in)
{
	uint8_t flags = fuzz_u8(in);
	size_t v = fuzz_u16(in);
	uint8_t fill = fuzz_u8(in);
	size_t offset = flags & 7u;
	size_t bytes;

	if ((flags & 8u) != 0u) {
		bytes = SYS_HEAP_SMALL_REGION_MAX_BYTES + 1u + v % 8192u;
	} else {
		switch (flags >> 6) {
		case 0:
			bytes = SYS_HEAP_MIN_REGION_BYTES +
				v % (2048u - SYS_HEAP_MIN_REGION_BYTES);
			break;
		case 1:
			bytes = SYS_HEAP_MIN_REGION_BYTES +
				v % (16384u - SYS_HEAP_MIN_REGION_BYTES);
			break;
		case 2:
			bytes = SYS_HEAP_SMALL_REGION_MAX_BYTES - v % 1024u;
			break;
		default:
			bytes = 32768u + v;
			break;
		}
	}
	unsigned char *mem;

	if ((flags & 16u) != 0u) {
		/* At the low guard, offset bytes up. */
		mem = guard.area + offset;
	} else {
		/* Ending at the high guard (the size gives the offset). */
		mem = guard.area + guard.area_bytes - bytes;
	}
	guard_region(mem, bytes);
	memset(mem, fill, bytes);
	st.region = mem;
	st.bytes = bytes;
	st.ctrl_writes = CTRL_WRITES_CHECKED && (flags & 32u) != 0u;
	st.live_count = 0u;
	st.freed_count = 0u;
	st.freed_next = 0u;
	fuzz_trace("region %p, %zu bytes, fill 0x%02x%s", (void *)mem, bytes,
		   fill, st.ctrl_writes ? ", control-block writes" : "");
	if (sys_heap_init(&st.heap, mem, bytes) != 0) {
		fuzz_fail("init of %zu bytes failed", bytes);
	}
	const void *first = NULL;

	(void)sys_heap_walk(&st.heap, walk_first, &first);
	FUZZ_CHECK(first != NULL, "no first block after init");
	st.block_area = (unsigned char *)(uintptr_t)first;
	return true;
}

static unsigned char *region_end(void)
{
	return st.region + st.bytes;
}

/* --- pointers handed out ------------------------------------------------- */

static void forget_live(size_t i)
{
	st.live[i] = st.live[--st.live_count];
}

static size_t live_index(const unsigned char *mem)
{
	for (size_t i = 0; i < st.live_count; i++) {
		if (st.live[i] == mem) {
			return i;
		}
	}
	return SIZE_MAX;
}

static void add_live(unsigned char *mem)
{
	if (live_index(mem) == SIZE_MAX && st.live_count < MAX_PTRS) {
		st.live[st.live_count++] = mem;
	}
}

static void add_freed(unsigned char *mem)
{
	size_t i = live_index(mem);

	if (i != SIZE_MAX) {
		forget_live(i);
	}
	st.freed[st.freed_next] = mem;
	st.freed_next = (st.freed_next + 1u) % MAX_PTRS;
	if (st.freed_count < MAX_PTRS) {
		st.freed_count++;
	}
}

/* One of the pointers handed out, live or freed; NULL if none. */
static unsigned char *pick(struct fuzz_input *in)
{
	size_t n = st.live_count + st.freed_count;
	size_t i = fuzz_u8(in);

	if (n == 0u) {
		return NULL;
	}
	i %= n;
	return i < st.live_count ? st.live[i] : st.freed[i - st.live_count];
}

/* --- one call under the oracles ------------------------------------------- */

/* With memory-checker hooks (the asan and valgrind presets' replays) the
 * region's metadata is poisoned: copy and compare it through test_meta.
 * Without them (the libFuzzer binaries), plain memcpy and memcmp, several
 * times faster over a big region. */
static void call_begin(void)
{
	faults.count = 0u;
#if CONFIG_KHEAP_SANITIZER_HOOKS
	test_meta_read(snapshot, st.region, st.bytes);
#else
	memcpy(snapshot, st.region, st.bytes);
#endif
}

static bool region_changed(void)
{
#if CONFIG_KHEAP_SANITIZER_HOOKS
	return test_meta_diff(st.region, snapshot, st.bytes) != SIZE_MAX;
#else
	return memcmp(st.region, snapshot, st.bytes) != 0;
#endif
}

/* With control-block writes (FULL and up): did the call report a damaged
 * list head (or the control block's flag for one) at its end, after it
 * went on, so that the region may have changed? */
static bool ctrl_damage_reported(void)
{
	return st.ctrl_writes && faults.count != 0u &&
	       faults.first.kind == SYS_HEAP_FAULT_CORRUPT_LINKS;
}

/* After a call that reported faults.count faults: a refused call changed
 * nothing (refused: whether it returned its refusal value). */
static void check_fault_means_refusal(bool refused)
{
	FUZZ_CHECK(faults.count <= 1u, "%u faults in one call", faults.count);
	if (faults.count == 0u || ctrl_damage_reported()) {
		return;
	}
	FUZZ_CHECK(refused, "%s reported, but the call was not refused",
		   fault_kind_name(faults.first.kind));
	FUZZ_CHECK(!region_changed(),
		   "%s reported, but the refused call changed the region",
		   fault_kind_name(faults.first.kind));
}

/* A block handed out: inside the block area with its bytes, aligned (if
 * aligned: a block resized in place keeps its pointer). */
static void check_block(unsigned char *mem, size_t bytes, size_t align,
			bool aligned)
{
	size_t a;
	size_t r;

	FUZZ_CHECK(mem > st.block_area && mem <= region_end() &&
			   bytes <= (size_t)(region_end() - mem),
		   "block %p of %zu bytes is not inside the block area "
		   "[%p, %p)",
		   (void *)mem, bytes, (void *)st.block_area,
		   (void *)region_end());
	FUZZ_CHECK(!aligned || (fuzz_align_form(align, &a, &r) &&
				fuzz_align_ok(mem, a, r)),
		   "block %p does not honour align %#zx", (void *)mem, align);
}

static void *do_alloc(size_t align, size_t bytes)
{
	call_begin();
	unsigned char *mem =
		align == 0u ? sys_heap_alloc(&st.heap, bytes)
			    : sys_heap_aligned_alloc(&st.heap, align, bytes);

	fuzz_trace("alloc(%#zx, %zu) = %p", align, bytes, (void *)mem);
	check_fault_means_refusal(mem == NULL);
	if (mem == NULL) {
		FUZZ_CHECK(!region_changed() || ctrl_damage_reported(),
			   "a failed allocation changed the region");
		return NULL;
	}
	check_block(mem, bytes, align, true);
	add_live(mem);
	/* The user writes the first bytes. */
	test_meta_fill(mem, 0x5c, bytes < 16u ? bytes : 16u);
	return mem;
}

static void do_free(unsigned char *mem)
{
	call_begin();
	sys_heap_free(&st.heap, mem);
	fuzz_trace("free(%p)", (void *)mem);
	check_fault_means_refusal(true);
	if (faults.count == 0u) {
		FUZZ_CHECK(region_changed(),
			   "free(%p) changed nothing and reported nothing",
			   (void *)mem);
		add_freed(mem);
	}
}

/* Bytes in live blocks by the heap's own count (0 if it has none). */
static size_t allocated_bytes(void)
{
	struct sys_memory_stats stats;

	return sys_heap_runtime_stats_get(&st.heap, &stats) == 0
		       ? stats.allocated_bytes
		       : 0u;
}

/*
 * A moving realloc checks the old block and its neighbours again after it
 * allocated the new one: an allocation that trusted a damaged size may
 * have written over them. Damage found then is reported, the call returns
 * NULL, and the new block stays allocated (the one refusal that changes
 * the region: the heap's count of allocated bytes grew).
 */
static bool refused_after_move(size_t allocated_before)
{
	return faults.count == 1u && region_changed() &&
	       allocated_bytes() > allocated_before;
}

static void do_realloc(unsigned char *mem, size_t align, size_t bytes)
{
	size_t allocated_before = allocated_bytes();

	call_begin();
	unsigned char *out =
		sys_heap_aligned_realloc(&st.heap, mem, align, bytes);

	fuzz_trace("realloc(%p, %#zx, %zu) = %p", (void *)mem, align, bytes,
		   (void *)out);
	if (bytes == 0u) {
		/* A free. */
		FUZZ_CHECK(out == NULL, "realloc to 0 bytes returned %p",
			   (void *)out);
		check_fault_means_refusal(true);
		if (faults.count == 0u) {
			FUZZ_CHECK(region_changed(),
				   "realloc(%p, 0) changed nothing and "
				   "reported nothing",
				   (void *)mem);
			add_freed(mem);
		}
		return;
	}
	if (out == NULL && refused_after_move(allocated_before)) {
		return;
	}
	check_fault_means_refusal(out == NULL);
	if (out == NULL) {
		FUZZ_CHECK(!region_changed() || ctrl_damage_reported(),
			   "a failed realloc changed the region");
		return;
	}
	/* A plain realloc keeps any block in place, a rewound one too: its
	 * pointer keeps the alignment it had. */
	check_block(out, bytes, align, out != mem || align != 0u);
	if (out != mem) {
		add_freed(mem);
	}
	add_live(out);
}

static bool count_block(void *ctx, const struct sys_heap_block *block)
{
	const unsigned char *h = block->header;

	FUZZ_CHECK(h >= st.block_area && h < region_end() &&
			   block->block_bytes <= (size_t)(region_end() - h),
		   "walk reports a block %p of %zu bytes outside the area",
		   block->header, block->block_bytes);
	(*(size_t *)ctx)++;
	return true;
}

static void discard_text(void *ctx, const char *text)
{
	(void)ctx;
	(void)text;
}

static void do_read_only(struct fuzz_input *in)
{
	size_t blocks = 0u;
	struct sys_memory_stats stats;
	size_t align = fuzz_align(in);
	size_t bytes = fuzz_size(in, st.bytes);

	call_begin();
	bool valid = sys_heap_validate(&st.heap);
	int walked = sys_heap_walk(&st.heap, count_block, &blocks);

	(void)sys_heap_runtime_stats_get(&st.heap, &stats);
	(void)sys_heap_max_alloc_bytes(&st.heap);
	sys_heap_print_info_to(&st.heap, (bytes & 1u) != 0u, discard_text,
			       NULL);
	(void)sys_heap_header_bytes(&st.heap);
	(void)sys_heap_request_fits(&st.heap, align, bytes);
	fuzz_trace("validate %d, walk %d over %zu blocks", valid, walked,
		   blocks);
	FUZZ_CHECK(faults.count == 0u, "a read-only call reported %s",
		   fault_kind_name(faults.first.kind));
	FUZZ_CHECK(!region_changed(), "a read-only call changed the region");
	FUZZ_CHECK(walked == 0 || walked == -14, "walk returned %d", walked);
}

static void do_usable(unsigned char *mem)
{
	call_begin();
	size_t usable = sys_heap_usable_size(&st.heap, mem);
	bool owned = sys_heap_owns(&st.heap, mem);

	fuzz_trace("usable_size(%p) = %zu, owns %d", (void *)mem, usable,
		   owned);
	FUZZ_CHECK(faults.count == (usable == 0u ? 1u : 0u),
		   "usable_size %zu with %u faults", usable, faults.count);
	FUZZ_CHECK(!region_changed(), "usable_size changed the region");
	if (usable != 0u) {
		FUZZ_CHECK(usable <= (size_t)(region_end() - mem),
			   "usable_size %zu runs past the region", usable);
	}
}

/* --- writes ------------------------------------------------------------- */

/* Write n bytes (set, or XOR with xor) at p, clipped to [lo, hi). */
static void poke(unsigned char *p, const uint8_t *values, size_t n, bool xor,
		 unsigned char *lo, unsigned char *hi)
{
	for (size_t i = 0; i < n; i++) {
		unsigned char *q = p + i;

		if (q < lo || q >= hi) {
			continue;
		}
		uint8_t v = values[i];

		if (xor) {
			v ^= test_meta_get8(q);
		}
		test_meta_set8(q, v);
	}
	fuzz_trace("write %zu bytes at region + %td%s", n, p - st.region,
		   xor? " (xor)" : "");
}

static void poke_bytes_at(struct fuzz_input *in, unsigned char *p,
			  unsigned char *lo, unsigned char *hi)
{
	uint8_t mode = fuzz_u8(in);
	size_t n = 1u + (mode & 7u);
	uint8_t values[8];

	for (size_t i = 0; i < n; i++) {
		values[i] = fuzz_u8(in);
	}
	poke(p, values, n, (mode & 8u) != 0u, lo, hi);
}

static void do_poke_near(struct fuzz_input *in)
{
	unsigned char *mem = pick(in);
	int16_t offset = (int16_t)fuzz_u16(in);

	if (mem == NULL) {
		mem = st.block_area;
	}
	/* Mostly around the header and the first words; sometimes far. */
	ptrdiff_t off = (offset & 0x100) != 0 ? offset : (int8_t)offset;

	poke_bytes_at(in, mem + off, st.block_area, region_end());
}

static uint32_t chunk_id_of(const unsigned char *mem)
{
	size_t header = sys_heap_header_bytes(&st.heap);

	return (uint32_t)((size_t)(mem - st.block_area - header) /
			  SYS_HEAP_CHUNK_BYTES);
}

static void do_poke_word(struct fuzz_input *in)
{
	unsigned char *mem = pick(in);
	int8_t offset = (int8_t)fuzz_u8(in);
	uint8_t kind = fuzz_u8(in);
	int8_t d = (int8_t)fuzz_u8(in);
	uint32_t end_chunk = (uint32_t)((size_t)(region_end() - st.block_area) /
					SYS_HEAP_CHUNK_BYTES);
	uint32_t value;

	if (mem == NULL) {
		mem = st.block_area + sys_heap_header_bytes(&st.heap);
	}
	switch (kind % 8u) {
	case 0:
		value = chunk_id_of(mem) + (uint32_t)(int32_t)d;
		break;
	case 1:
		value = end_chunk + (uint32_t)(int32_t)d;
		break;
	case 2:
		/* A head mark (small and big heaps) with a class. */
		value = ((kind & 8u) != 0u ? 0x80000000u : 0x8000u) |
			(uint8_t)d;
		break;
	case 3:
		value = (uint32_t)(int32_t)d;
		break;
	case 4:
		/* A size and used bit. */
		value = ((uint32_t)(uint8_t)d << 1) | ((kind >> 4) & 1u);
		break;
	case 5:
		value = 0xffffffffu - (uint8_t)d;
		break;
	default:
		value = fuzz_u32(in);
		break;
	}
	uint8_t bytes[4] = {(uint8_t)value, (uint8_t)(value >> 8),
			    (uint8_t)(value >> 16), (uint8_t)(value >> 24)};

	poke(mem + offset, bytes, (kind & 0x80u) != 0u ? 4u : 2u, false,
	     st.block_area, region_end());
}

static void do_poke_anywhere(struct fuzz_input *in)
{
	size_t area = (size_t)(region_end() - st.block_area);
	uint32_t at = fuzz_u32(in) & 0xffffffu;

	poke_bytes_at(in, st.block_area + at % area, st.block_area,
		      region_end());
}

static void do_poke_ctrl(struct fuzz_input *in)
{
	if (!st.ctrl_writes) {
		do_poke_anywhere(in);
		return;
	}
	size_t ctrl = (size_t)(st.block_area - st.region);
	uint16_t at = fuzz_u16(in);

	poke_bytes_at(in, st.region + at % ctrl, st.region, st.block_area);
}

static void do_copy_header(struct fuzz_input *in)
{
	unsigned char *from = pick(in);
	unsigned char *to = pick(in);
	uint8_t bytes[16];

	if (from == NULL || to == NULL) {
		return;
	}
	from -= 8;
	for (size_t i = 0; i < sizeof(bytes); i++) {
		unsigned char *q = from + i;

		bytes[i] = q >= st.block_area && q < region_end()
				   ? test_meta_get8(q)
				   : 0u;
	}
	poke(to - 8, bytes, sizeof(bytes), false, st.block_area, region_end());
}

/* --- operations ----------------------------------------------------------- */

static void do_burst(struct fuzz_input *in)
{
	struct test_rng rng;
	unsigned int steps = 1u + fuzz_u8(in) % 32u;
	size_t max_bytes = 1u + (size_t)fuzz_u16(in) % 2048u;

	test_rng_seed(&rng, fuzz_u16(in));
	for (unsigned int i = 0; i < steps; i++) {
		if (st.live_count != 0u && test_rng_percent(&rng, 40)) {
			size_t j = (size_t)test_rng_below(&rng, st.live_count);

			do_free(st.live[j]);
		} else {
			(void)do_alloc(0u, (size_t)test_rng_log_uniform(
						   &rng, max_bytes));
		}
	}
}

static void run_op(struct fuzz_input *in)
{
	uint8_t op = fuzz_u8(in);

	switch (op % 16u) {
	case 0:
	case 1:
		fuzz_context_op("alloc");
		(void)do_alloc(0u, fuzz_size(in, st.bytes));
		break;
	case 2: {
		fuzz_context_op("aligned_alloc");
		size_t align = fuzz_align(in);

		(void)do_alloc(align, fuzz_size(in, st.bytes));
		break;
	}
	case 3: {
		fuzz_context_op("free");
		unsigned char *mem = pick(in);

		if (mem != NULL) {
			do_free(mem);
		}
		break;
	}
	case 4:
	case 5: {
		fuzz_context_op("realloc");
		unsigned char *mem = pick(in);
		size_t align = op % 16u == 5u ? fuzz_align(in) : 0u;
		size_t bytes = fuzz_size(in, st.bytes);

		if (mem != NULL) {
			do_realloc(mem, align, bytes);
		}
		break;
	}
	case 6: {
		fuzz_context_op("usable_size");
		unsigned char *mem = pick(in);

		if (mem != NULL) {
			do_usable(mem);
		}
		break;
	}
	case 7:
		fuzz_context_op("read_only");
		do_read_only(in);
		break;
	case 8:
		fuzz_context_op("write_near");
		do_poke_near(in);
		break;
	case 9:
		fuzz_context_op("write_word");
		do_poke_word(in);
		break;
	case 10:
		fuzz_context_op("write_anywhere");
		do_poke_anywhere(in);
		break;
	case 11:
		fuzz_context_op("burst");
		do_burst(in);
		break;
	case 12:
		fuzz_context_op("copy_header");
		do_copy_header(in);
		break;
	case 13:
		fuzz_context_op("write_control");
		do_poke_ctrl(in);
		break;
	case 14: {
		fuzz_context_op("double_free");
		unsigned char *mem = pick(in);

		if (mem != NULL) {
			do_free(mem);
			do_free(mem);
		}
		break;
	}
	default:
		fuzz_context_op("alloc_max");
		call_begin();
		size_t max = sys_heap_max_alloc_bytes(&st.heap);

		FUZZ_CHECK(faults.count == 0u && !region_changed(),
			   "max_alloc_bytes reported or changed something");
		if (max != 0u) {
			(void)do_alloc(0u, max);
		}
		break;
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fuzz_input in;

	guard_setup();
	fuzz_context_begin("fuzz_corrupt");
	sys_heap_fault_handler_set(on_fault);
	fuzz_input_init(&in, data, size);
	if (!setup_heap(&in)) {
		return 0;
	}
	while (fuzz_more(&in)) {
		run_op(&in);
	}
	sys_heap_fault_handler_set(NULL);
	/* The heap ends with its input. Under memcheck its blocks are
	 * forgotten now rather than when the next input opens a region:
	 * a damaged heap's blocks can overlap, and overlapping blocks still
	 * live at exit stop memcheck's leak check. */
	test_meta_release(st.region, st.bytes);
	return 0;
}
