/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The allocation trace recorder: with KHEAP_TRACE=<path> in the
 * environment, every k_malloc family and k_heap_* call the program makes
 * is written to <path> as one line of the kheap trace format
 * (docs/trace-format.md), which the `kheap` tool replays.
 *
 * Two sources feed it:
 * - the kernel layer's tracing hooks (sim_trace_hooks.h, forced into the
 *   copy of the kernel layer that kheap_sim links) say which call is
 *   running, with its arguments and caller; only the outermost hooked
 *   call of a thread (or ISR) is an event (k_heap_alloc calls
 *   k_heap_aligned_alloc, k_free calls k_heap_free: one event each);
 * - heap listeners (zephyr/sys/heap_listener.h), registered for each
 *   heap the first time a call names it, report each block changing
 *   hands, inside the heap's lock.
 * An event is written from the listener of its first block change, so
 * the trace has every heap's operations in the order the heap performed
 * them, whatever the schedule (preemption, parallel mode): a replay of
 * the same heap size then reproduces the recorded heap exactly. Calls
 * that change nothing (failed allocations) are written when they return;
 * frees the heap refused (faults) become comment lines.
 *
 * Blocks are named by ids (1, 2, ...), one per block a listener reports,
 * through maps from the block's address and from the caller's pointer
 * (which differs for the k_malloc family and z_thread_malloc) to its id.
 * The site is the caller's return address minus one (inside the call
 * instruction), written as <module>+0x<address> with the address that
 * addr2line expects for that module (`@module` lines give the paths).
 *
 * Without KHEAP_TRACE every hook returns after one atomic load. One
 * mutex (a leaf: nothing here calls the kernel) guards the maps and the
 * output. Output is fully buffered; the simulator flushes it before it
 * aborts (faults, deadlock report, fatal errors) and stdio at exit().
 */
/* The hooks' declarations first: <kheap/tracing.h> (reached through
 * sim_internal.h) then keeps these definitions instead of its empty
 * ones. Nothing here expands a hook. */
#include "sim_trace_hooks.h"

#include "sim_internal.h"
#include "sim_trace.h"

#include <dlfcn.h>
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* The system heap, if the kernel layer defines one (it does unless
 * CONFIG_HEAP_MEM_POOL_SIZE is 0). */
#pragma weak _system_heap

/* The trace format version this recorder writes. */
#define TRACE_VERSION 1

/* Nesting levels with their own call context: thread code, then ISRs
 * (an ISR may run on a pthread whose thread is inside a hooked call). */
#define CTX_LEVELS 4

/* Region address phase recorded for heaps (see docs/trace-format.md). */
#define PHASE_MODULUS 4096u

enum trace_state {
	TRACE_UNKNOWN = 0,
	TRACE_OFF,
	TRACE_ON,
};

static atomic_int trace_state;
static pthread_once_t trace_once = PTHREAD_ONCE_INIT;
static pthread_mutex_t trace_mtx = PTHREAD_MUTEX_INITIALIZER;
static FILE *trace_out;
static uint64_t next_block_id = 1;

static const char *const op_names[] = {
	[Z_SIM_TR_K_MALLOC] = "k_malloc",
	[Z_SIM_TR_K_CALLOC] = "k_calloc",
	[Z_SIM_TR_K_REALLOC] = "k_realloc",
	[Z_SIM_TR_K_ALIGNED_ALLOC] = "k_aligned_alloc",
	[Z_SIM_TR_K_FREE] = "k_free",
	[Z_SIM_TR_HEAP_ALLOC] = "k_heap_alloc",
	[Z_SIM_TR_HEAP_ALIGNED_ALLOC] = "k_heap_aligned_alloc",
	[Z_SIM_TR_HEAP_CALLOC] = "k_heap_calloc",
	[Z_SIM_TR_HEAP_REALLOC] = "k_heap_realloc",
	[Z_SIM_TR_HEAP_FREE] = "k_heap_free",
};

/* ---- a small map from addresses to values ------------------------------ */

/*
 * Open addressing with linear probing and backward-shift deletion (no
 * tombstones, so lookups stay short however many blocks come and go).
 * Key 0 marks an empty slot; addresses are never 0.
 */
struct addr_map {
	uintptr_t *keys;
	uint64_t *values;
	int *aux;
	size_t capacity; /* a power of two, or 0 */
	size_t count;
};

static size_t addr_hash(uintptr_t key, size_t capacity)
{
	/* Fibonacci hashing: block addresses differ in their middle bits. */
	uint64_t h = (uint64_t)key * 0x9e3779b97f4a7c15u;

	return (size_t)(h >> 32) & (capacity - 1u);
}

static void oom(void)
{
	fprintf(stderr, "kheap sim: out of memory recording KHEAP_TRACE\n");
	abort();
}

static void map_put(struct addr_map *m, uintptr_t key, uint64_t value, int aux);

static void map_grow(struct addr_map *m)
{
	struct addr_map old = *m;
	size_t capacity = old.capacity == 0u ? 256u : old.capacity * 2u;

	m->keys = calloc(capacity, sizeof(*m->keys));
	m->values = calloc(capacity, sizeof(*m->values));
	m->aux = calloc(capacity, sizeof(*m->aux));
	if (m->keys == NULL || m->values == NULL || m->aux == NULL) {
		oom();
	}
	m->capacity = capacity;
	m->count = 0;
	for (size_t i = 0; i < old.capacity; i++) {
		if (old.keys[i] != 0u) {
			map_put(m, old.keys[i], old.values[i], old.aux[i]);
		}
	}
	free(old.keys);
	free(old.values);
	free(old.aux);
}

static void map_put(struct addr_map *m, uintptr_t key, uint64_t value, int aux)
{
	if ((m->count + 1u) * 2u > m->capacity) {
		map_grow(m);
	}
	size_t i = addr_hash(key, m->capacity);

	while (m->keys[i] != 0u && m->keys[i] != key) {
		i = (i + 1u) & (m->capacity - 1u);
	}
	if (m->keys[i] == 0u) {
		m->count++;
	}
	m->keys[i] = key;
	m->values[i] = value;
	m->aux[i] = aux;
}

/* The slot holding key, or SIZE_MAX. */
static size_t map_find(const struct addr_map *m, uintptr_t key)
{
	if (m->capacity == 0u || key == 0u) {
		return SIZE_MAX;
	}
	size_t i = addr_hash(key, m->capacity);

	while (m->keys[i] != 0u) {
		if (m->keys[i] == key) {
			return i;
		}
		i = (i + 1u) & (m->capacity - 1u);
	}
	return SIZE_MAX;
}

static void map_remove_slot(struct addr_map *m, size_t hole)
{
	size_t mask = m->capacity - 1u;
	size_t i = hole;

	/* Shift later members of the probe run back into the hole when
	 * their home slot is not between the hole and their position. */
	for (;;) {
		i = (i + 1u) & mask;
		if (m->keys[i] == 0u) {
			break;
		}
		size_t home = addr_hash(m->keys[i], m->capacity);

		if (((i - home) & mask) >= ((i - hole) & mask)) {
			m->keys[hole] = m->keys[i];
			m->values[hole] = m->values[i];
			m->aux[hole] = m->aux[i];
			hole = i;
		}
	}
	m->keys[hole] = 0u;
	m->count--;
}

/* ---- heaps, modules, sites ----------------------------------------------- */

/* The longest heap name the trace format allows. */
#define HEAP_NAME_MAX 31u

struct traced_heap {
	const void *kheap; /* the struct k_heap */
	char name[HEAP_NAME_MAX + 1u];
};

static struct traced_heap *heaps;
static size_t heap_count;
static unsigned int heap_serial;

/* Live blocks by the address sys_heap returned: value id, aux heap. */
static struct addr_map blocks;
/* Live blocks by id: value the block's address, aux heap. */
static struct addr_map live_ids;
/* The caller's pointer where it differs from the block's address (the
 * k_malloc family, z_thread_malloc): value id. Entries of freed blocks
 * stay until their address is reused; lookups check the id is live. */
static struct addr_map user_ptrs;
/* Call sites: return address -> site text (a char * as uint64_t). */
static struct addr_map sites;
/* Heaps whose listeners are registered: sys_heap address -> 1. */
static struct addr_map listened;
/* A listener has reported something: the core notifies listeners
 * (CONFIG_SYS_HEAP_LISTENER), so a free it did not report was refused. */
static bool listener_seen;

static void heap_event(enum heap_event_types event, uintptr_t heap_id,
		       void *old_mem, void *mem);

static void on_alloc(uintptr_t heap_id, void *mem, size_t bytes)
{
	(void)bytes;
	heap_event(HEAP_ALLOC, heap_id, NULL, mem);
}

static void on_free(uintptr_t heap_id, void *mem, size_t bytes)
{
	(void)bytes;
	heap_event(HEAP_FREE, heap_id, NULL, mem);
}

static void on_realloc(uintptr_t heap_id, void *old_mem, size_t old_bytes,
		       void *new_mem, size_t new_bytes)
{
	(void)old_bytes;
	(void)new_bytes;
	heap_event(HEAP_REALLOC, heap_id, old_mem, new_mem);
}

static uintptr_t sys_heap_id(const void *kheap)
{
	return HEAP_ID_FROM_POINTER(&((const struct k_heap *)kheap)->heap);
}

/*
 * trace_mtx held. Listen to a heap's blocks: listener callbacks run
 * inside the heap's lock at the moment a block changes hands, so events
 * written from them are in the heap's own order whatever the schedule.
 * Registering while other threads use other heaps is not synchronised
 * with their notifications (heap_listener.h); on the deterministic
 * schedule nothing runs meanwhile.
 */
static void listen_to(const void *kheap)
{
	uintptr_t id = sys_heap_id(kheap);

	if (map_find(&listened, id) != SIZE_MAX) {
		return;
	}
	map_put(&listened, id, 1u, 0);
	struct heap_listener *l = calloc(3, sizeof(*l));

	if (l == NULL) {
		oom();
	}
	l[0].heap_id = id;
	l[0].event = HEAP_ALLOC;
	l[0].alloc_cb = on_alloc;
	l[1].heap_id = id;
	l[1].event = HEAP_FREE;
	l[1].free_cb = on_free;
	l[2].heap_id = id;
	l[2].event = HEAP_REALLOC;
	l[2].realloc_cb = on_realloc;
	for (int i = 0; i < 3; i++) {
		heap_listener_register(&l[i]);
	}
}

struct module {
	char *path;
	char name[64];
};

static struct module *modules;
static size_t module_count;

/* The names K_HEAP_DEFINE records when built with KHEAP_HEAP_NAMES
 * (kheap/k_heap.h); both NULL if the program defines no such heap. */
extern const struct kheap_heap_name __start_k_heap_names[]
	__attribute__((__weak__));
extern const struct kheap_heap_name __stop_k_heap_names[]
	__attribute__((__weak__));

/* The variable name K_HEAP_DEFINE gave kheap, or NULL. */
static const char *defined_heap_name(const void *kheap)
{
	if (__start_k_heap_names == NULL) {
		return NULL;
	}
	for (const struct kheap_heap_name *n = __start_k_heap_names;
	     n < __stop_k_heap_names; n++) {
		if ((const void *)n->heap == kheap) {
			return n->name;
		}
	}
	return NULL;
}

/* trace_mtx held. Whether a heap was declared under `name`; "sys" is
 * reserved for the system heap. */
static bool heap_name_taken(const char *name, bool is_system)
{
	if (!is_system && strcmp(name, "sys") == 0) {
		return true;
	}
	for (size_t i = 0; i < heap_count; i++) {
		if (strcmp(heaps[i].name, name) == 0) {
			return true;
		}
	}
	return false;
}

/*
 * trace_mtx held. A name for a new heap declaration: "sys" for the system
 * heap, the K_HEAP_DEFINE variable name (at most HEAP_NAME_MAX
 * characters, ".2", ".3", ... appended if another heap has it), else the
 * first free "h1", "h2", ... (k_heap_init heaps).
 */
static void heap_name_choose(char *out, const char *wanted, bool is_system)
{
	if (is_system) {
		snprintf(out, HEAP_NAME_MAX + 1u, "sys");
		return;
	}
	if (wanted == NULL) {
		do {
			snprintf(out, HEAP_NAME_MAX + 1u, "h%u", ++heap_serial);
		} while (heap_name_taken(out, false));
		return;
	}
	snprintf(out, HEAP_NAME_MAX + 1u, "%s", wanted);
	for (unsigned int n = 2; heap_name_taken(out, false); n++) {
		char suffix[16];
		int suffix_len = snprintf(suffix, sizeof(suffix), ".%u", n);
		size_t base_len = strlen(wanted);

		if (base_len > HEAP_NAME_MAX - (size_t)suffix_len) {
			base_len = HEAP_NAME_MAX - (size_t)suffix_len;
		}
		memcpy(out, wanted, base_len);
		memcpy(out + base_len, suffix, (size_t)suffix_len + 1u);
	}
}

/* trace_mtx held. Declare a heap under a new name: `wanted` (a
 * K_HEAP_DEFINE variable name) or, if NULL, a generated one. */
static int heap_declare(const void *kheap, const char *wanted, const void *mem,
			size_t bytes, bool size_known)
{
	struct traced_heap *grown =
		realloc(heaps, (heap_count + 1u) * sizeof(*heaps));

	if (grown == NULL) {
		oom();
	}
	heaps = grown;
	struct traced_heap *h = &heaps[heap_count];

	h->kheap = kheap;
	heap_name_choose(h->name, wanted,
			 kheap != NULL && kheap == (const void *)&_system_heap);
	fprintf(trace_out, "@heap %s ", h->name);
	if (size_known) {
		fprintf(trace_out, "%zu", bytes);
	} else {
		fputc('-', trace_out);
	}
	if (mem != NULL) {
		fprintf(trace_out, " phase=%u",
			(unsigned int)((uintptr_t)mem % PHASE_MODULUS));
	}
	fputc('\n', trace_out);
	if (kheap != NULL) {
		listen_to(kheap);
	}
	return (int)heap_count++;
}

/* trace_mtx held. The index of a heap, declared on first sight. */
static int heap_index(const void *kheap)
{
	/* The latest declaration wins: k_heap_init on a used struct starts
	 * a new heap. */
	for (size_t i = heap_count; i-- > 0u;) {
		if (heaps[i].kheap == kheap) {
			return (int)i;
		}
	}
	const struct k_heap *kh = kheap;
	const void *mem = NULL;

	/* A K_HEAP_DEFINE heap: its size is in the struct; its region's
	 * address is read only in the deterministic schedule, where no
	 * other thread can be initialising it at the same time. */
	if (sim_is_det()) {
		mem = kh->init_mem != NULL ? kh->init_mem
					   : (const void *)kh->heap.heap;
	}
	return heap_declare(kheap, defined_heap_name(kheap), mem,
			    kh->init_bytes, kh->init_bytes != 0u);
}

/* trace_mtx held. The heap a listener's heap id names, or -1. */
static int heap_by_id(uintptr_t heap_id)
{
	for (size_t i = heap_count; i-- > 0u;) {
		if (heaps[i].kheap != NULL &&
		    sys_heap_id(heaps[i].kheap) == heap_id) {
			return (int)i;
		}
	}
	return -1;
}

/* trace_mtx held. The module name for a path, declared on first use. */
static const char *module_name(const char *path)
{
	for (size_t i = 0; i < module_count; i++) {
		if (strcmp(modules[i].path, path) == 0) {
			return modules[i].name;
		}
	}
	struct module *grown =
		realloc(modules, (module_count + 1u) * sizeof(*modules));

	if (grown == NULL) {
		oom();
	}
	modules = grown;
	struct module *m = &modules[module_count];
	const char *base = strrchr(path, '/');

	base = base != NULL ? base + 1 : path;
	m->path = strdup(path);
	if (m->path == NULL) {
		oom();
	}
	/* Keep names tokens of the format: no spaces or '+'. */
	size_t n = 0;
	for (; base[n] != '\0' && n < sizeof(m->name) - 8u; n++) {
		char ch = base[n];

		m->name[n] = (ch > ' ' && ch < 127 && ch != '+') ? ch : '_';
	}
	m->name[n] = '\0';
	for (size_t i = 0; i < module_count; i++) {
		if (strcmp(modules[i].name, m->name) == 0) {
			snprintf(m->name + n, sizeof(m->name) - n, "~%zu",
				 module_count + 1u);
			break;
		}
	}
	fprintf(trace_out, "@module %s %s\n", m->name, m->path);
	module_count++;
	return m->name;
}

/* trace_mtx held. The site text for a return address (cached). */
static const char *site_text(const void *caller)
{
	if (caller == NULL) {
		return "-";
	}
	size_t slot = map_find(&sites, (uintptr_t)caller);

	if (slot != SIZE_MAX) {
		return (const char *)(uintptr_t)sites.values[slot];
	}
	/* The call instruction ends at the return address. */
	uintptr_t pc = (uintptr_t)caller - 1u;
	char text[128];
	Dl_info info;

	if (dladdr((void *)pc, &info) == 0 || info.dli_fname == NULL ||
	    info.dli_fbase == NULL) {
		snprintf(text, sizeof(text), "0x%" PRIxPTR, pc);
	} else {
		const unsigned char *elf = info.dli_fbase;
		/* e_type (offset 16), in the byte order of e_ident[EI_DATA]:
		 * position-dependent executables (ET_EXEC, 2) are
		 * symbolised by absolute address, everything else by the
		 * offset from its load address. */
		unsigned int type =
			elf[5] == 2u ? (unsigned int)elf[16] << 8 | elf[17]
				     : (unsigned int)elf[17] << 8 | elf[16];
		uintptr_t address = type == 2u ? pc
					       : pc - (uintptr_t)info.dli_fbase;
		char resolved[PATH_MAX];
		const char *path = info.dli_fname;

		if (path[0] == '\0' || realpath(path, resolved) == NULL) {
			ssize_t n = readlink("/proc/self/exe", resolved,
					     sizeof(resolved) - 1u);

			if (path[0] == '\0' && n > 0) {
				resolved[n] = '\0';
			} else {
				snprintf(resolved, sizeof(resolved), "%s",
					 path);
			}
		}
		snprintf(text, sizeof(text), "%s+0x%" PRIxPTR,
			 module_name(resolved), address);
	}
	char *copy = strdup(text);

	if (copy == NULL) {
		oom();
	}
	map_put(&sites, (uintptr_t)caller, (uint64_t)(uintptr_t)copy, 0);
	return copy;
}

/* ---- starting ---------------------------------------------------------- */

static void trace_open(void)
{
	const char *path = getenv("KHEAP_TRACE");

	if (path == NULL || path[0] == '\0') {
		atomic_store(&trace_state, TRACE_OFF);
		return;
	}
	trace_out = fopen(path, "w");
	if (trace_out == NULL) {
		fprintf(stderr,
			"kheap sim: KHEAP_TRACE: cannot open '%s' for "
			"writing: %s\n",
			path, strerror(errno));
		exit(2);
	}
	/* Full buffering: a line per call must not cost a write(2). */
	(void)setvbuf(trace_out, NULL, _IOFBF, 1u << 20);
	fprintf(trace_out,
		"kheap-trace %d ptr_bytes=%zu tick_hz=%d clock=%s mode=%s\n",
		TRACE_VERSION, sizeof(void *),
		(int)CONFIG_SYS_CLOCK_TICKS_PER_SEC,
		sim_is_virtual() ? "virtual" : "real",
		sim_is_det() ? "deterministic" : "parallel");
	fprintf(trace_out,
		"# written by the kheap simulator (KHEAP_TRACE); format: "
		"docs/trace-format.md\n");
	fprintf(trace_out, "# tick thread op heap size align id arg site\n");
	atomic_store(&trace_state, TRACE_ON);
}

static bool trace_on(void)
{
	int state = atomic_load_explicit(&trace_state, memory_order_acquire);

	if (state == TRACE_UNKNOWN) {
		sim_init_once();
		pthread_once(&trace_once, trace_open);
		state = atomic_load_explicit(&trace_state,
					     memory_order_acquire);
	}
	return state == TRACE_ON;
}

void z_sim_trace_flush(void)
{
	if (atomic_load(&trace_state) == TRACE_ON) {
		fflush(trace_out);
	}
}

/* ---- calls --------------------------------------------------------------- */

/* The outermost hooked call of a context, while it runs. */
struct call_ctx {
	int depth;
	bool active;
	enum z_sim_trace_op op;
	const void *kheap;
	size_t n1, n2, align;
	const void *caller;
	const void *ptr; /* the block passed in, or NULL */
	uint64_t arg_id; /* its id, or 0 if not known */
	bool written;    /* the event is out */
	uint64_t new_id; /* the block it produced */
	const void *new_block;
};

static _Thread_local struct call_ctx call_ctx[CTX_LEVELS];

static struct call_ctx *current_ctx(void)
{
	int level = sim_tls.isr_depth;

	return &call_ctx[level < CTX_LEVELS ? level : CTX_LEVELS - 1];
}

static bool is_free_op(enum z_sim_trace_op op)
{
	return op == Z_SIM_TR_K_FREE || op == Z_SIM_TR_HEAP_FREE;
}

/* trace_mtx held. The id of the block a caller's pointer names, or 0. */
static uint64_t resolve(const void *ptr)
{
	size_t slot = map_find(&user_ptrs, (uintptr_t)ptr);

	if (slot != SIZE_MAX &&
	    map_find(&live_ids, (uintptr_t)user_ptrs.values[slot]) !=
		    SIZE_MAX) {
		return user_ptrs.values[slot];
	}
	slot = map_find(&blocks, (uintptr_t)ptr);
	return slot != SIZE_MAX ? blocks.values[slot] : 0u;
}

/* trace_mtx held. A block appears / goes. */
static uint64_t block_born(const void *block, int heap)
{
	uint64_t id = next_block_id++;

	map_put(&blocks, (uintptr_t)block, id, heap);
	map_put(&live_ids, (uintptr_t)id, (uint64_t)(uintptr_t)block, heap);
	return id;
}

static uint64_t block_died(const void *block)
{
	size_t slot = map_find(&blocks, (uintptr_t)block);

	if (slot == SIZE_MAX) {
		return 0u;
	}
	uint64_t id = blocks.values[slot];

	map_remove_slot(&blocks, slot);
	slot = map_find(&live_ids, (uintptr_t)id);
	if (slot != SIZE_MAX) {
		map_remove_slot(&live_ids, slot);
	}
	return id;
}

/* trace_mtx held. The heap of an event written on return (no listener
 * saw it): the passed block's heap, "-" for an unknown block passed to
 * k_free or k_realloc (they work in the block's own heap), else the
 * call's heap. */
static int fallback_heap(const struct call_ctx *c)
{
	if (c->arg_id != 0u) {
		size_t slot = map_find(&live_ids, (uintptr_t)c->arg_id);

		if (slot != SIZE_MAX) {
			return live_ids.aux[slot];
		}
	}
	if (c->ptr != NULL &&
	    (c->op == Z_SIM_TR_K_FREE || c->op == Z_SIM_TR_K_REALLOC)) {
		return -1;
	}
	return c->kheap != NULL ? heap_index(c->kheap) : -1;
}

/* trace_mtx held. Escape a thread name into one token. */
static void put_thread(FILE *f)
{
	struct sim_thread *self = sim_tls.self;

	if (sim_tls.isr_depth > 0) {
		fputs("isr", f);
		return;
	}
	if (self == NULL) {
		fputc('-', f);
		return;
	}
	fprintf(f, "%" PRIu64 ":", self->id);
	for (const unsigned char *s = (const unsigned char *)self->name;
	     *s != '\0'; s++) {
		if (*s <= ' ' || *s >= 127u || *s == '%') {
			fprintf(f, "%%%02X", *s);
		} else {
			fputc(*s, f);
		}
	}
}

/* trace_mtx held. One event line; ids 0: none. */
static void write_event(struct call_ctx *c, int heap, uint64_t new_id,
			uint64_t arg_id)
{
	FILE *f = trace_out;
	/* First: it may declare a module on a line of its own. */
	const char *site = site_text(c->caller);

	c->written = true;
	fprintf(f, "%" PRId64 " ", (int64_t)sim_now());
	put_thread(f);
	fprintf(f, " %s %s ", op_names[c->op],
		heap >= 0 ? heaps[heap].name : "-");
	/* size */
	if (is_free_op(c->op)) {
		fputc('-', f);
	} else if (c->op == Z_SIM_TR_K_CALLOC ||
		   c->op == Z_SIM_TR_HEAP_CALLOC) {
		fprintf(f, "%zux%zu", c->n1, c->n2);
	} else {
		fprintf(f, "%zu", c->n1);
	}
	/* align */
	if (c->op == Z_SIM_TR_K_ALIGNED_ALLOC ||
	    c->op == Z_SIM_TR_HEAP_ALIGNED_ALLOC) {
		fprintf(f, " %zu", c->align);
	} else {
		fputs(" -", f);
	}
	/* id */
	if (new_id != 0u) {
		fprintf(f, " %" PRIu64, new_id);
	} else {
		fputs(" -", f);
	}
	/* arg: the block passed in */
	if (arg_id != 0u) {
		fprintf(f, " %" PRIu64, arg_id);
	} else if (c->ptr != NULL) {
		fputs(" ?", f);
	} else {
		fputs(" -", f);
	}
	fprintf(f, " %s\n", site);
}

/*
 * A listener event: a block changed hands inside the heap's lock. The
 * call it belongs to is this context's outermost hooked call; its event
 * is written now, at its first change (a tracked k_realloc allocates,
 * then frees the old block: one event). Blocks change hands only
 * through the hooked calls, so an event with no call in progress comes
 * from sys_heap used directly and is not part of the trace.
 */
static void heap_event(enum heap_event_types event, uintptr_t heap_id,
		       void *old_mem, void *mem)
{
	struct call_ctx *c = current_ctx();

	if (!c->active) {
		return;
	}
	pthread_mutex_lock(&trace_mtx);
	listener_seen = true;
	int heap = heap_by_id(heap_id);

	switch (event) {
	case HEAP_ALLOC: {
		uint64_t id = block_born(mem, heap);

		if (!c->written) {
			c->new_id = id;
			c->new_block = mem;
			write_event(c, heap, id, c->arg_id);
		}
		break;
	}
	case HEAP_FREE: {
		uint64_t id = block_died(mem);

		if (!c->written) {
			write_event(c, heap, 0u, id);
		}
		break;
	}
	case HEAP_REALLOC: {
		uint64_t old_id = block_died(old_mem);
		uint64_t id = block_born(mem, heap);

		if (!c->written) {
			c->new_id = id;
			c->new_block = mem;
			write_event(c, heap, id, old_id);
		}
		break;
	}
	default:
		break;
	}
	pthread_mutex_unlock(&trace_mtx);
}

void z_sim_trace_enter(enum z_sim_trace_op op, const void *heap,
		       const void *ptr, size_t n1, size_t n2, size_t align,
		       const void *caller)
{
	if (!trace_on()) {
		return;
	}
	struct call_ctx *c = current_ctx();

	if (c->depth++ > 0) {
		return; /* an inner call: part of the outer one's event */
	}
	*c = (struct call_ctx){
		.depth = 1,
		.active = true,
		.op = op,
		.kheap = heap,
		.n1 = n1,
		.n2 = n2,
		.align = align,
		.caller = caller,
		.ptr = ptr,
	};
	pthread_mutex_lock(&trace_mtx);
	if (heap != NULL) {
		/* Declared (and listened to) before it can change. */
		(void)heap_index(heap);
	}
	if (ptr != NULL) {
		c->arg_id = resolve(ptr);
	}
	pthread_mutex_unlock(&trace_mtx);
}

void z_sim_trace_exit(const void *result)
{
	if (!trace_on()) {
		return;
	}
	struct call_ctx *c = current_ctx();

	if (c->depth == 0 || --c->depth > 0 || !c->active) {
		return;
	}
	c->active = false;
	pthread_mutex_lock(&trace_mtx);
	if (!c->written && listener_seen && c->ptr != NULL &&
	    (is_free_op(c->op) || c->n1 == 0u)) {
		/* A free the heap refused (a fault was reported): nothing
		 * changed, so it is a comment, not an event. */
		const char *site = site_text(c->caller);

		if (c->arg_id != 0u) {
			fprintf(trace_out,
				"# refused: %s of id %" PRIu64 " at %s\n",
				op_names[c->op], c->arg_id, site);
		} else {
			fprintf(trace_out,
				"# refused: %s of an unknown pointer at %s\n",
				op_names[c->op], site);
		}
	} else if (!c->written) {
		/*
		 * No block changed hands: a failed or refused call. (Or a
		 * core built without listeners: then a successful call is
		 * recorded here, in the order the calls return.)
		 */
		int heap = fallback_heap(c);
		uint64_t id = 0;

		if (result != NULL) {
			id = block_born(result, heap);
		} else if (c->arg_id != 0u &&
			   (is_free_op(c->op) || c->n1 == 0u)) {
			size_t slot = map_find(&live_ids, (uintptr_t)c->arg_id);

			if (slot != SIZE_MAX) {
				(void)block_died((const void *)(uintptr_t)
							 live_ids.values[slot]);
			}
		}
		write_event(c, heap, id, c->arg_id);
	} else if (result != NULL && c->new_id != 0u &&
		   result != c->new_block) {
		/* The caller's pointer is not the block's address. */
		map_put(&user_ptrs, (uintptr_t)result, c->new_id, 0);
	}
	pthread_mutex_unlock(&trace_mtx);
}

void z_sim_trace_heap_init(const void *heap, const void *mem, size_t bytes)
{
	if (!trace_on()) {
		return;
	}
	pthread_mutex_lock(&trace_mtx);
	/* k_heap_init heaps keep generated names, even a K_HEAP_DEFINE
	 * struct set up again. */
	(void)heap_declare(heap, NULL, mem, bytes, true);
	pthread_mutex_unlock(&trace_mtx);
}

void z_sim_trace_thread_exit(void)
{
	if (atomic_load(&trace_state) != TRACE_ON) {
		return;
	}
	for (int i = 0; i < CTX_LEVELS; i++) {
		call_ctx[i].depth = 0;
		call_ctx[i].active = false;
	}
}
