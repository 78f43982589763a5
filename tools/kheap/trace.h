/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Reading kheap allocation traces (format: docs/trace-format.md).
 *
 * trace_load() reads a whole trace into memory and checks it: every id
 * is allocated once and freed at most once, frees and reallocs name live
 * blocks, each operation has the fields it needs. Blocks are renumbered
 * densely (block indexes 0..block_count-1) so that a replay can keep its
 * state in plain arrays.
 */
#ifndef KHEAP_TOOL_TRACE_H
#define KHEAP_TOOL_TRACE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* The format version this reader understands. */
#define TRACE_FORMAT_VERSION 1u

/* Limits of the reader (docs/tools.md, "Limits"): a longer line is
 * refused (a trace's lines are short; this bounds the memory a file
 * without line ends, such as /dev/zero, can take), and so is a trace
 * naming more heaps. */
#define TRACE_MAX_LINE_BYTES 65536u
#define TRACE_MAX_HEAPS 16777216u

enum trace_op {
	OP_K_MALLOC,
	OP_K_CALLOC,
	OP_K_REALLOC,
	OP_K_ALIGNED_ALLOC,
	OP_K_FREE,
	OP_HEAP_ALLOC,
	OP_HEAP_ALIGNED_ALLOC,
	OP_HEAP_CALLOC,
	OP_HEAP_REALLOC,
	OP_HEAP_FREE,
	OP_COUNT,
};

/* Block reference values besides block index + 1. */
#define TRACE_NO_BLOCK 0u              /* "-" */
#define TRACE_UNKNOWN_BLOCK UINT32_MAX /* "?" (recorder did not know it) */
#define TRACE_NO_HEAP UINT32_MAX

struct trace_event {
	uint64_t tick;
	/* Requested bytes (calloc: the product); size_overflow if a
	 * calloc product does not fit in 64 bits. */
	uint64_t size_bytes;
	uint64_t align; /* 0 if the operation takes none */
	uint32_t line;  /* line number in the file */
	uint32_t thread;
	uint32_t site;
	/* Block index + 1, or TRACE_NO_BLOCK / TRACE_UNKNOWN_BLOCK. */
	uint32_t result; /* the block the call returned */
	uint32_t arg;    /* the block the call freed or resized */
	uint32_t heap;   /* index into trace.heaps, or TRACE_NO_HEAP */
	uint8_t op;      /* enum trace_op */
	bool size_overflow;
};

struct trace_block {
	uint64_t id;            /* as written in the trace */
	uint32_t alloc_event;   /* index of the event that returned it */
	uint32_t release_event; /* freed or reallocated; UINT32_MAX: never */
};

struct trace_heap {
	char name[32];
	uint64_t bytes; /* region bytes, if known */
	bool bytes_known;
	unsigned int phase; /* region address modulo 4096 */
	size_t event_count;
};

struct trace_module {
	char *name;
	char *path;
};

struct trace {
	unsigned int version;
	unsigned int ptr_bytes; /* 0: not given */
	uint64_t tick_hz;       /* 0: not given */
	struct trace_event *events;
	size_t event_count;
	struct trace_block *blocks;
	size_t block_count;
	struct trace_heap *heaps;
	size_t heap_count;
	char **threads; /* interned thread fields */
	size_t thread_count;
	char **sites; /* interned site fields */
	size_t site_count;
	struct trace_module *modules;
	size_t module_count;
};

/* Read and check a trace. Returns 0, or -1 with a message of the form
 * "<path>:<line>: <problem>" in err. Time and memory are linear in the
 * file's size (hash tables for ids, heap names, threads and sites). */
int trace_load(const char *path, struct trace *t, char *err, size_t err_size);

void trace_free(struct trace *t);

/* The operation's name as written in traces ("k_malloc", ...). */
const char *trace_op_name(enum trace_op op);

/* Operation classes. */
bool trace_op_is_free(enum trace_op op);
bool trace_op_is_realloc(enum trace_op op);
bool trace_op_is_aligned(enum trace_op op);
bool trace_op_is_calloc(enum trace_op op);
/* The k_malloc family: its blocks carry a heap reference. */
bool trace_op_is_kmalloc_family(enum trace_op op);

/* Index of a heap by name, or -1. O(heaps): for a few look-ups. */
int trace_heap_find(const struct trace *t, const char *name);

#endif /* KHEAP_TOOL_TRACE_H */
