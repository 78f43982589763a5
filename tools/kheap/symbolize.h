/* SPDX-License-Identifier: Apache-2.0 */
/*
 * `kheap replay --symbolize`: call sites "<module>+0x<address>" to
 * "function file:line", with binutils' addr2line.
 *
 * A trace is hostile input, so none of its text reaches a shell:
 * addr2line runs from an argument vector (posix_spawnp) with the module's
 * path as one argument and the addresses on its standard input, one per
 * line, each checked first to be "0x" and 1 to 16 hex digits (a site whose
 * address is anything else is reported and left as recorded). The work is
 * bounded: at most SYMBOLIZE_MAX_MODULES runs of addr2line and
 * SYMBOLIZE_MAX_SITES addresses, and each line of its output is cut at
 * SYMBOLIZE_MAX_LINE_BYTES.
 */
#ifndef KHEAP_TOOL_SYMBOLIZE_H
#define KHEAP_TOOL_SYMBOLIZE_H

#include <stdbool.h>
#include <stdio.h>

#include "trace.h"

#define SYMBOLIZE_MAX_MODULES 64u
#define SYMBOLIZE_MAX_SITES 65536u
#define SYMBOLIZE_MAX_LINE_BYTES 512u

/* Whether text is a site's address: "0x" then 1 to 16 hex digits. */
bool symbolize_address_ok(const char *text);

/*
 * The symbols of t's sites: an array of t->site_count strings, each
 * "function file:line", "function" (no debug information) or NULL (not a
 * "<module>+0x<address>" site of a declared module, or addr2line could
 * not tell). Problems (malformed
 * addresses, a module path that is not a regular file, addr2line missing
 * or failing, limits reached) are reported on `report`, one line each,
 * starting with "kheap: --symbolize: "; they never stop the replay.
 * Free with symbolize_free().
 */
char **symbolize_sites(const struct trace *t, FILE *report);

void symbolize_free(char **symbols, size_t count);

#endif /* KHEAP_TOOL_SYMBOLIZE_H */
