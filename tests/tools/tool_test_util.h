/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Helpers shared by the tools tests: run a command and capture its
 * output and exit status, read a whole file, write a temporary trace.
 */
#ifndef KHEAP_TOOL_TEST_UTIL_H
#define KHEAP_TOOL_TEST_UTIL_H

#include <stdbool.h>
#include <stddef.h>

/* Run cmd through the shell with stderr joined to stdout. Returns the
 * exit status (-1 if it did not exit normally); *output (if not NULL)
 * gets the text, to free. */
int run_command(const char *cmd, char **output);

/* The whole file (NUL-terminated; *bytes without the NUL), or NULL. */
char *read_file(const char *path, size_t *bytes);

/* Write text to path; false on error. */
bool write_file(const char *path, const char *text);

#endif /* KHEAP_TOOL_TEST_UTIL_H */
