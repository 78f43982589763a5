/* SPDX-License-Identifier: Apache-2.0 */
/*
 * kheap: heap insight from allocation traces (docs/tools.md).
 *
 *   kheap replay TRACE [options]      replay on a sys_heap: failures,
 *                                     peak, fragmentation, leaks
 *   kheap size TRACE [options]        smallest heap the trace never
 *                                     fails on
 *   kheap map TRACE -o OUT [options]  heap map image (SVG or PNG)
 *   kheap help [COMMAND], kheap COMMAND --help, kheap --version
 *   kheap --man                       the manual page (roff), for the
 *                                     build (not listed in the help)
 *
 * The commands and options are a table (cli.c) that drives the parser
 * below, the help text and the manual page. Exit statuses: util.h.
 */
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <kheap/version.h>
#include <zephyr/sys/sys_heap.h>

#include "cli.h"
#include "commands.h"

/* Upper end of `kheap size`'s search unless --max-bytes says otherwise:
 * replays allocate the region on the host. */
#define DEFAULT_MAX_BYTES (1ull << 30)
#define DEFAULT_WINDOW_BYTES 512u
/* Every 8 bytes of window can cost a replay of the whole trace (and every
 * byte a heap set-up), three windows per search: 64 KiB is 128 times the
 * default and still ends in minutes on long traces. */
#define MAX_WINDOW_BYTES 65536u
#define DEFAULT_MARGIN_PERCENT 20u
#define DEFAULT_SAMPLES 10u
#define MAX_SAMPLES 10000u
#define MAX_MARGIN_PERCENT 1000u

static uint64_t bytes_arg(const char *name, const char *value)
{
	uint64_t v;

	if (!parse_bytes(value, &v)) {
		usage_error("%s: '%s' is not a byte count", name, value);
	}
	return v;
}

static unsigned int uint_arg(const char *name, const char *value,
			     unsigned int max)
{
	uint64_t v;

	if (!parse_u64(value, &v) || v > max) {
		usage_error("%s: '%s' is not a number from 0 to %u", name,
			    value, max);
	}
	return (unsigned int)v;
}

static enum header_format format_arg(const char *value)
{
	if (strcmp(value, "small") == 0) {
		return FORMAT_SMALL;
	}
	if (strcmp(value, "big") == 0) {
		return FORMAT_BIG;
	}
	if (strcmp(value, "auto") != 0) {
		usage_error("--format: '%s' is not small, big or auto", value);
	}
	return FORMAT_AUTO;
}

/* Store an option's value (NULL for flags). */
static void apply_option(struct options *o, enum cli_option_id id,
			 const char *v)
{
	switch (id) {
	case CLI_OPT_HEAP:
		o->heap_name = v;
		break;
	case CLI_OPT_HEAP_BYTES:
		o->heap_bytes = bytes_arg("--heap-bytes", v);
		o->heap_bytes_given = true;
		break;
	case CLI_OPT_FORMAT:
		o->format = format_arg(v);
		break;
	case CLI_OPT_PTR_BYTES:
		if (strcmp(v, "4") != 0 && strcmp(v, "8") != 0) {
			usage_error("--ptr-bytes must be 4 or 8, not '%s'", v);
		}
		o->ptr_bytes = v[0] == '4' ? 4u : 8u;
		break;
	case CLI_OPT_SAMPLES:
		o->samples = uint_arg("--samples", v, MAX_SAMPLES);
		break;
	case CLI_OPT_ALL:
		o->all = true;
		break;
	case CLI_OPT_SYMBOLIZE:
		o->symbolize = true;
		break;
	case CLI_OPT_MARGIN:
		o->margin_percent = uint_arg("--margin", v, MAX_MARGIN_PERCENT);
		break;
	case CLI_OPT_WINDOW:
		o->window_bytes = bytes_arg("--window", v);
		if (o->window_bytes > MAX_WINDOW_BYTES) {
			usage_error("--window: %s is more than %u bytes (64K), "
				    "the largest window kheap size checks",
				    v, MAX_WINDOW_BYTES);
		}
		break;
	case CLI_OPT_MAX_BYTES:
		o->max_bytes = bytes_arg("--max-bytes", v);
		if (o->max_bytes > SYS_HEAP_MAX_REGION_BYTES) {
			usage_error("--max-bytes: %s is above sys_heap's "
				    "maximum region (%" PRIu64 " bytes)",
				    v, (uint64_t)SYS_HEAP_MAX_REGION_BYTES);
		}
		break;
	case CLI_OPT_AT:
		o->at = v;
		break;
	case CLI_OPT_OUTPUT:
		o->output = v;
		break;
	case CLI_OPT_JSON:
		o->json = true;
		break;
	case CLI_OPT_PROGRESS:
		o->progress = 1;
		break;
	case CLI_OPT_NO_PROGRESS:
		o->progress = 0;
		break;
	case CLI_OPT_COUNT:
		break;
	}
}

/* Whether arg spells the option ("--name", "--name=value", or the alias);
 * *value gets the text after '=' or NULL. */
static bool spells(const char *arg, const char *name, const char **value)
{
	size_t len;

	if (name == NULL) {
		return false;
	}
	len = strlen(name);
	if (strncmp(arg, name, len) != 0 ||
	    (arg[len] != '\0' && arg[len] != '=')) {
		return false;
	}
	*value = arg[len] == '=' ? arg + len + 1 : NULL;
	return true;
}

/* The option argv[*i] names, or CLI_OPT_COUNT; *value its value (the next
 * argument unless given with '='; *i advances past it). */
static enum cli_option_id match_option(int argc, char **argv, int *i,
				       const char **value)
{
	const char *arg = argv[*i];

	for (int id = 0; id < CLI_OPT_COUNT; id++) {
		const struct cli_option *o = &cli_options[id];

		if (!spells(arg, o->name, value) &&
		    !spells(arg, o->alias, value)) {
			continue;
		}
		if (o->value == NULL && *value != NULL) {
			usage_error("%s takes no value", o->name);
		}
		if (o->value != NULL && *value == NULL) {
			if (*i + 1 >= argc) {
				usage_error("%s needs a value", o->name);
			}
			*value = argv[++*i];
		}
		return (enum cli_option_id)id;
	}
	return CLI_OPT_COUNT;
}

static bool is_help(const char *arg)
{
	return strcmp(arg, "--help") == 0 || strcmp(arg, "-h") == 0;
}

static void parse_options(int argc, char **argv, struct options *o)
{
	const struct cli_command *cmd = o->command;

	o->progress = -1;
	o->samples = DEFAULT_SAMPLES;
	o->margin_percent = DEFAULT_MARGIN_PERCENT;
	o->window_bytes = DEFAULT_WINDOW_BYTES;
	o->max_bytes = DEFAULT_MAX_BYTES;
	/* --help anywhere wins over any error in the other arguments. */
	for (int i = 2; i < argc; i++) {
		if (is_help(argv[i])) {
			cli_print_command_help(stdout, cmd);
			exit(KHEAP_EXIT_OK);
		}
	}
	for (int i = 2; i < argc; i++) {
		const char *arg = argv[i];
		const char *value = NULL;

		if (arg[0] != '-' || arg[1] == '\0') {
			if (o->trace_path != NULL) {
				usage_error("unexpected argument '%s'", arg);
			}
			o->trace_path = arg;
			continue;
		}
		enum cli_option_id id = match_option(argc, argv, &i, &value);

		if (id == CLI_OPT_COUNT) {
			usage_error("unknown option '%s'", arg);
		}
		if (!cli_takes(cmd, id)) {
			usage_error("%s takes no %s", cmd->name,
				    cli_options[id].name);
		}
		apply_option(o, id, value);
	}
	if (o->trace_path == NULL) {
		usage_error("%s: no trace file given", cmd->name);
	}
	if (o->progress < 0) {
		o->progress = isatty(STDERR_FILENO) ? 1 : 0;
	}
}

/* `kheap help [COMMAND]`. */
static int help(int argc, char **argv)
{
	if (argc < 3) {
		cli_print_usage(stdout);
		return KHEAP_EXIT_OK;
	}
	const struct cli_command *cmd = cli_find_command(argv[2]);

	if (cmd == NULL) {
		usage_error("help: unknown command '%s'", argv[2]);
	}
	if (argc > 3) {
		usage_error("help: unexpected argument '%s'", argv[3]);
	}
	cli_print_command_help(stdout, cmd);
	return KHEAP_EXIT_OK;
}

/* `kheap --man [FILE]`: the manual page, on stdout or into FILE. */
static int man_page(int argc, char **argv)
{
	FILE *f = stdout;

	if (argc > 3) {
		usage_error("--man: unexpected argument '%s'", argv[3]);
	}
	if (argc == 3 && (f = fopen(argv[2], "w")) == NULL) {
		fprintf(stderr, "kheap: %s: cannot open for writing\n",
			argv[2]);
		return KHEAP_EXIT_OUTPUT;
	}
	cli_print_man(f, KHEAP_VERSION_STRING);
	if (ferror(f) || (f != stdout && fclose(f) != 0)) {
		fprintf(stderr, "kheap: cannot write the manual page\n");
		return KHEAP_EXIT_OUTPUT;
	}
	return KHEAP_EXIT_OK;
}

int main(int argc, char **argv)
{
	struct session s;

	if (argc < 2) {
		cli_print_usage(stderr);
		return KHEAP_EXIT_USAGE;
	}
	if (strcmp(argv[1], "help") == 0 || is_help(argv[1])) {
		return help(argc, argv);
	}
	if (strcmp(argv[1], "--version") == 0) {
		printf("kheap %s (trace format %u)\n", KHEAP_VERSION_STRING,
		       TRACE_FORMAT_VERSION);
		return KHEAP_EXIT_OK;
	}
	if (strcmp(argv[1], "--man") == 0) {
		return man_page(argc, argv);
	}
	memset(&s, 0, sizeof(s));
	s.opt.command = cli_find_command(argv[1]);
	if (s.opt.command == NULL) {
		usage_error("unknown command '%s'", argv[1]);
	}
	session_set_command(s.opt.command);
	parse_options(argc, argv, &s.opt);
	if (strcmp(argv[1], "replay") == 0) {
		return cmd_replay(&s);
	}
	if (strcmp(argv[1], "size") == 0) {
		return cmd_size(&s);
	}
	return cmd_map(&s);
}
