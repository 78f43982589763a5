/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The allocation trace recorder's interface to the rest of the simulator
 * (the hooks themselves are declared in sim_trace_hooks.h). See
 * sim_trace.c and docs/trace-format.md.
 */
#ifndef KHEAP_SIM_TRACE_H
#define KHEAP_SIM_TRACE_H

/* Write out what is buffered (called before the simulator aborts, so a
 * trace of a failing run is complete up to the failure). */
void z_sim_trace_flush(void);

/* The calling thread is exiting: forget a call it was inside (an aborted
 * thread leaves its frames without returning through the exit hook), so
 * that the frees of its exit path are recorded. */
void z_sim_trace_thread_exit(void);

#endif /* KHEAP_SIM_TRACE_H */
