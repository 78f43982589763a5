/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The kheap command line as data: its commands, their options and the
 * exit statuses, each with its description. This table is the one source
 * of the option parser, the help text (`kheap help`, `kheap COMMAND
 * --help`) and the manual page (`kheap --man`, installed as kheap.1), so
 * the three cannot disagree.
 *
 * Descriptions are single paragraphs without line breaks: the help
 * printer wraps them, roff fills them.
 */
#ifndef KHEAP_TOOL_CLI_H
#define KHEAP_TOOL_CLI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

enum cli_option_id {
	CLI_OPT_HEAP,
	CLI_OPT_HEAP_BYTES,
	CLI_OPT_FORMAT,
	CLI_OPT_PTR_BYTES,
	CLI_OPT_SAMPLES,
	CLI_OPT_ALL,
	CLI_OPT_SYMBOLIZE,
	CLI_OPT_MARGIN,
	CLI_OPT_WINDOW,
	CLI_OPT_MAX_BYTES,
	CLI_OPT_AT,
	CLI_OPT_OUTPUT,
	CLI_OPT_JSON,
	CLI_OPT_PROGRESS,
	CLI_OPT_NO_PROGRESS,
	CLI_OPT_COUNT,
};

struct cli_option {
	enum cli_option_id id;
	const char *name;  /* "--heap" */
	const char *alias; /* another spelling ("-o"), or NULL */
	const char *value; /* placeholder ("NAME"); NULL: a flag */
	const char *help;  /* one paragraph */
};

/* An option as a command takes it. */
struct cli_use {
	enum cli_option_id id;
	bool required; /* shown outside brackets in the synopsis */
};

struct cli_command {
	const char *name;        /* "replay" */
	const char *operand;     /* "TRACE" */
	const char *summary;     /* one line, for lists */
	const char *description; /* one paragraph */
	const struct cli_use *uses;
	size_t use_count;
};

struct cli_exit_status {
	int status;
	const char *meaning;
};

extern const struct cli_option cli_options[CLI_OPT_COUNT];
extern const struct cli_command cli_commands[];
extern const size_t cli_command_count;
extern const struct cli_exit_status cli_exit_statuses[];
extern const size_t cli_exit_status_count;

/* The command named name, or NULL. */
const struct cli_command *cli_find_command(const char *name);

/* Whether cmd takes the option. */
bool cli_takes(const struct cli_command *cmd, enum cli_option_id id);

/* `kheap help`: every command's synopsis and where to read more. */
void cli_print_usage(FILE *f);

/* A command's synopsis only (after a usage error). */
void cli_print_synopsis(FILE *f, const struct cli_command *cmd);

/* `kheap COMMAND --help`: synopsis, description, every option, exit
 * statuses. Lines fit 80 columns. */
void cli_print_command_help(FILE *f, const struct cli_command *cmd);

/* The manual page in roff (man(7) macros), version in its header. */
void cli_print_man(FILE *f, const char *version);

#endif /* KHEAP_TOOL_CLI_H */
