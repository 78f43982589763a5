/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The command-line table (cli.h) and its two renderings: plain text for
 * --help, roff for the manual page.
 */
#include "cli.h"

#include <string.h>

#define HELP_WIDTH 79
#define HELP_OPTION_INDENT 6

const struct cli_option cli_options[CLI_OPT_COUNT] = {
	[CLI_OPT_HEAP] = {CLI_OPT_HEAP, "--heap", NULL, "NAME",
			  "The heap to use when the trace has several: a name "
			  "from its @heap lines (the variable of a "
			  "K_HEAP_DEFINE, or sys for the system heap). "
			  "Default: the only heap with events, else sys."},
	[CLI_OPT_HEAP_BYTES] = {CLI_OPT_HEAP_BYTES, "--heap-bytes", NULL, "N",
				"The region size given to sys_heap_init, in "
				"bytes (at least 80). Default: the size the "
				"trace recorded for the heap; a trace that "
				"records none needs this option."},
	[CLI_OPT_FORMAT] = {CLI_OPT_FORMAT, "--format", NULL, "F",
			    "The header format the heap size must give: "
			    "small (4-byte headers, regions of at most 262144 "
			    "bytes), big (8-byte headers, larger regions) or "
			    "auto (follow the size; the default). With small "
			    "or big a size of the other kind is a usage "
			    "error, and size searches only that range."},
	[CLI_OPT_PTR_BYTES] = {CLI_OPT_PTR_BYTES, "--ptr-bytes", NULL, "4|8",
			       "The pointer size of the modelled target: the "
			       "k_malloc family keeps a heap reference of "
			       "this size below each block. Default: the "
			       "trace's ptr_bytes, else 4. Give 4 to model a "
			       "32-bit Cortex-M from a trace recorded on a "
			       "64-bit host."},
	[CLI_OPT_SAMPLES] = {CLI_OPT_SAMPLES, "--samples", NULL, "N",
			     "How many evenly spaced rows the fragmentation "
			     "table has, the last at the end of the trace "
			     "(0 to 10000; default 10)."},
	[CLI_OPT_ALL] = {CLI_OPT_ALL, "--all", NULL, NULL,
			 "List every failed event, not only the first 20."},
	[CLI_OPT_SYMBOLIZE] = {CLI_OPT_SYMBOLIZE, "--symbolize", NULL, NULL,
			       "Show each site (module+0xaddress) as function "
			       "file:line, with addr2line run without a shell, "
			       "when the module has debug information. A site "
			       "that cannot be resolved stays as recorded; "
			       "this never changes the exit status."},
	[CLI_OPT_MARGIN] = {CLI_OPT_MARGIN, "--margin", NULL, "PCT",
			    "The safety margin added to the smallest heap, in "
			    "percent (0 to 1000; default 20). The answer with "
			    "the margin is also given as the "
			    "CONFIG_HEAP_MEM_POOL_SIZE whose system heap is "
			    "at least that large."},
	[CLI_OPT_WINDOW] = {CLI_OPT_WINDOW, "--window", NULL, "BYTES",
			    "How far above the answer every size must also "
			    "work (default 512, at most 65536). A failure "
			    "inside the window moves the answer above it."},
	[CLI_OPT_MAX_BYTES] = {CLI_OPT_MAX_BYTES, "--max-bytes", NULL, "N",
			       "The largest heap size to try (default 1G). If "
			       "none up to it works, the command names the "
			       "first event that fails there and exits with "
			       "1."},
	[CLI_OPT_AT] = {CLI_OPT_AT, "--at", NULL, "EVENT[,EVENT...]",
			"The moments to draw, at most 26 (default peak,end). "
			"EVENT is an event number (the heap after that event: "
			"1 is the first event line, 0 the empty heap), peak "
			"(the most bytes allocated), worst (the most "
			"fragmented moment) or end. Each moment's label says "
			"which of these chose it."},
	[CLI_OPT_OUTPUT] = {CLI_OPT_OUTPUT, "-o", "--output", "FILE",
			    "The image to write. Its name chooses the format: "
			    "FILE.svg (text; each moment's numbers are also "
			    "data- attributes) or FILE.png."},
	[CLI_OPT_JSON] = {CLI_OPT_JSON, "--json", NULL, NULL,
			  "Print the result as one JSON object on standard "
			  "output instead of text (schema: docs/tools.md, "
			  "\"JSON output\"). Exit statuses do not change; "
			  "errors still go to standard error as text."},
	[CLI_OPT_PROGRESS] = {CLI_OPT_PROGRESS, "--progress", NULL, NULL,
			      "Show a percentage on standard error during "
			      "long replays (default: only when standard "
			      "error is a terminal)."},
	[CLI_OPT_NO_PROGRESS] = {CLI_OPT_NO_PROGRESS, "--no-progress", NULL,
				 NULL, "Never show progress."},
};

static const struct cli_use replay_uses[] = {
	{CLI_OPT_HEAP, false},      {CLI_OPT_HEAP_BYTES, false},
	{CLI_OPT_FORMAT, false},    {CLI_OPT_PTR_BYTES, false},
	{CLI_OPT_SAMPLES, false},   {CLI_OPT_ALL, false},
	{CLI_OPT_SYMBOLIZE, false}, {CLI_OPT_JSON, false},
	{CLI_OPT_PROGRESS, false},  {CLI_OPT_NO_PROGRESS, false},
};

static const struct cli_use size_uses[] = {
	{CLI_OPT_HEAP, false},        {CLI_OPT_MARGIN, false},
	{CLI_OPT_FORMAT, false},      {CLI_OPT_PTR_BYTES, false},
	{CLI_OPT_WINDOW, false},      {CLI_OPT_MAX_BYTES, false},
	{CLI_OPT_JSON, false},        {CLI_OPT_PROGRESS, false},
	{CLI_OPT_NO_PROGRESS, false},
};

static const struct cli_use map_uses[] = {
	{CLI_OPT_OUTPUT, true},       {CLI_OPT_HEAP, false},
	{CLI_OPT_HEAP_BYTES, false},  {CLI_OPT_AT, false},
	{CLI_OPT_FORMAT, false},      {CLI_OPT_PTR_BYTES, false},
	{CLI_OPT_JSON, false},        {CLI_OPT_PROGRESS, false},
	{CLI_OPT_NO_PROGRESS, false},
};

#define USES(a) a, sizeof(a) / sizeof(a[0])

const struct cli_command cli_commands[] = {
	{"replay", "TRACE",
	 "replay on a heap: failures, peak, fragmentation, leaks",
	 "Replays the trace on a fresh sys_heap of --heap-bytes bytes and "
	 "reports the events that return NULL there but did not in the "
	 "recording (exit status 1 if any), the peak of allocated bytes "
	 "(whole chunks, headers included) and the event where it was "
	 "reached, the fragmentation (1 - largest certain request / free "
	 "bytes) at evenly spaced points and its worst moment, and the blocks "
	 "still live at the end, grouped by the site that allocated them.",
	 USES(replay_uses)},
	{"size", "TRACE",
	 "the smallest heap the trace never fails on, with a margin",
	 "Finds the smallest heap size S on which the trace never fails, "
	 "checked by replaying: S works, S - 1 fails (unless S is the lower "
	 "end of the search) and every size from S to S + --window works. "
	 "Then adds --margin and gives the CONFIG_HEAP_MEM_POOL_SIZE for it. "
	 "Notes say when a smaller size works by luck, when the recorded "
	 "size works, and when calls failed in the recording.",
	 USES(size_uses)},
	{"map", "TRACE", "draw the heap at chosen moments (SVG or PNG)",
	 "Draws the heap at chosen moments as a grid of cells coloured by "
	 "what their bytes hold (control block, headers, requested bytes, "
	 "slack, free), above the allocated share and the fragmentation over "
	 "the whole trace. Each moment is labelled with why it was chosen "
	 "(peak, worst fragmentation, end, or --at N).",
	 USES(map_uses)},
};

const size_t cli_command_count = sizeof(cli_commands) / sizeof(cli_commands[0]);

const struct cli_exit_status cli_exit_statuses[] = {
	{0, "success (replay: no event failed; size: a size was found)"},
	{1, "the trace does not fit: replay had failures; size found no size "
	    "up to --max-bytes"},
	{2, "usage error: unknown command or option, a missing or bad value"},
	{3, "the trace cannot be read or breaks the format"},
	{4, "the output file cannot be written"},
	{5, "internal error: out of memory, a heap walk that fails"},
};

const size_t cli_exit_status_count =
	sizeof(cli_exit_statuses) / sizeof(cli_exit_statuses[0]);

/* What the tool is, and what holds for every command. */
static const char about_text[] =
	"kheap reads a trace of a program's allocation calls (written by "
	"kheap's simulator when the environment variable KHEAP_TRACE names a "
	"file) and replays it on kheap's own sys_heap, the allocator the "
	"device runs.";
static const char notes_text[] =
	"Byte counts accept K, M and G suffixes (KiB, MiB, GiB). Options may "
	"be written --name value or --name=value, before or after TRACE.";

const struct cli_command *cli_find_command(const char *name)
{
	for (size_t i = 0; i < cli_command_count; i++) {
		if (strcmp(cli_commands[i].name, name) == 0) {
			return &cli_commands[i];
		}
	}
	return NULL;
}

bool cli_takes(const struct cli_command *cmd, enum cli_option_id id)
{
	for (size_t i = 0; i < cmd->use_count; i++) {
		if (cmd->uses[i].id == id) {
			return true;
		}
	}
	return false;
}

/* ---- text ---------------------------------------------------------------- */

/* Word wrapping: items never break; a line holds at least one item. */
struct wrap {
	FILE *f;
	int width;
	int indent; /* of continuation lines */
	int column;
	bool line_empty;
};

static void wrap_item(struct wrap *w, const char *item, size_t len)
{
	if (!w->line_empty && w->column + 1 + (int)len > w->width) {
		fprintf(w->f, "\n%*s", w->indent, "");
		w->column = w->indent;
		w->line_empty = true;
	}
	if (!w->line_empty) {
		fputc(' ', w->f);
		w->column++;
	}
	fwrite(item, 1, len, w->f);
	w->column += (int)len;
	w->line_empty = false;
}

/* The words of text (split at spaces) as wrapped items. */
static void wrap_words(struct wrap *w, const char *text)
{
	while (*text != '\0') {
		size_t len = strcspn(text, " ");

		if (len > 0u) {
			wrap_item(w, text, len);
		}
		text += len + (text[len] == ' ' ? 1u : 0u);
	}
}

/* A paragraph, wrapped at HELP_WIDTH, every line indented. */
static void print_paragraph(FILE *f, int indent, const char *text)
{
	struct wrap w = {f, HELP_WIDTH, indent, indent, true};

	fprintf(f, "%*s", indent, "");
	wrap_words(&w, text);
	fputc('\n', f);
}

/* "[--heap NAME]", "-o FILE" or "[--all]". */
static void format_use(const struct cli_use *use, char *buf, size_t size)
{
	const struct cli_option *o = &cli_options[use->id];

	snprintf(buf, size, "%s%s%s%s%s", use->required ? "" : "[", o->name,
		 o->value ? " " : "", o->value ? o->value : "",
		 use->required ? "" : "]");
}

void cli_print_synopsis(FILE *f, const struct cli_command *cmd)
{
	char head[64];
	char item[96];

	snprintf(head, sizeof(head), "kheap %s %s", cmd->name, cmd->operand);
	/* Continuation lines start under TRACE. */
	struct wrap w = {f, HELP_WIDTH, 9 + (int)strlen(cmd->name), 2, true};

	fputs("  ", f);
	wrap_item(&w, head, strlen(head));
	for (size_t i = 0; i < cmd->use_count; i++) {
		format_use(&cmd->uses[i], item, sizeof(item));
		wrap_item(&w, item, strlen(item));
	}
	fputc('\n', f);
}

static void print_exit_statuses(FILE *f)
{
	fputs("Exit status:\n", f);
	for (size_t i = 0; i < cli_exit_status_count; i++) {
		char lead[8];

		snprintf(lead, sizeof(lead), "  %d ",
			 cli_exit_statuses[i].status);
		struct wrap w = {f, HELP_WIDTH, 4, 0, true};

		wrap_item(&w, lead, strlen(lead) - 1u);
		wrap_words(&w, cli_exit_statuses[i].meaning);
		fputc('\n', f);
	}
}

void cli_print_usage(FILE *f)
{
	fputs("usage:\n", f);
	for (size_t i = 0; i < cli_command_count; i++) {
		cli_print_synopsis(f, &cli_commands[i]);
	}
	fputs("  kheap help [COMMAND] | kheap COMMAND --help | kheap "
	      "--version\n\nCommands:\n",
	      f);
	for (size_t i = 0; i < cli_command_count; i++) {
		fprintf(f, "  %-8s %s\n", cli_commands[i].name,
			cli_commands[i].summary);
	}
	fputc('\n', f);
	print_paragraph(f, 0, about_text);
	fputc('\n', f);
	print_paragraph(f, 0, notes_text);
	fputc('\n', f);
	print_paragraph(f, 0,
			"kheap help COMMAND describes every option of a "
			"command; docs/tools.md has the details.");
	fputc('\n', f);
	print_exit_statuses(f);
}

void cli_print_command_help(FILE *f, const struct cli_command *cmd)
{
	fputs("usage:\n", f);
	cli_print_synopsis(f, cmd);
	fputc('\n', f);
	print_paragraph(f, 0, cmd->description);
	fputs("\nOptions:\n", f);
	for (size_t i = 0; i < cmd->use_count; i++) {
		const struct cli_option *o = &cli_options[cmd->uses[i].id];

		fprintf(f, "  %s%s%s%s%s\n", o->name, o->alias ? ", " : "",
			o->alias ? o->alias : "", o->value ? " " : "",
			o->value ? o->value : "");
		print_paragraph(f, HELP_OPTION_INDENT, o->help);
	}
	fputs("  -h, --help\n", f);
	print_paragraph(f, HELP_OPTION_INDENT, "Print this text and exit.");
	fputc('\n', f);
	print_paragraph(f, 0, notes_text);
	fputc('\n', f);
	print_exit_statuses(f);
}

/* ---- roff ---------------------------------------------------------------- */

/* Text for a roff line: backslashes and hyphens escaped (a hyphen in an
 * option must stay a minus sign), a leading '.' or '\'' made literal. */
static void roff_text(FILE *f, const char *text)
{
	if (text[0] == '.' || text[0] == '\'') {
		fputs("\\&", f);
	}
	for (const char *p = text; *p != '\0'; p++) {
		if (*p == '\\') {
			fputs("\\e", f);
		} else if (*p == '-') {
			fputs("\\-", f);
		} else {
			fputc(*p, f);
		}
	}
}

/* "\fB--heap\fR \fINAME\fR" (sep: the space before the value,
 * unbreakable in a synopsis); with_alias: "\fB-o\fR, \fB--output\fR". */
static void roff_option(FILE *f, const struct cli_option *o, const char *sep,
			bool with_alias)
{
	fputs("\\fB", f);
	roff_text(f, o->name);
	fputs("\\fR", f);
	if (with_alias && o->alias != NULL) {
		fputs(", \\fB", f);
		roff_text(f, o->alias);
		fputs("\\fR", f);
	}
	if (o->value != NULL) {
		fputs(sep, f);
		fputs("\\fI", f);
		roff_text(f, o->value);
		fputs("\\fR", f);
	}
}

static void roff_synopsis(FILE *f, const struct cli_command *cmd)
{
	fprintf(f, ".B kheap %s\n.I %s\n", cmd->name, cmd->operand);
	for (size_t i = 0; i < cmd->use_count; i++) {
		bool required = cmd->uses[i].required;

		fputs(required ? "" : "[", f);
		roff_option(f, &cli_options[cmd->uses[i].id], "\\ ", false);
		fputs(required ? "\n" : "]\n", f);
	}
	fputs(".br\n", f);
}

void cli_print_man(FILE *f, const char *version)
{
	fputs(".\\\" SPDX-License-Identifier: Apache-2.0\n"
	      ".\\\" Written by `kheap --man` from tools/kheap/cli.c (the "
	      "table that\n"
	      ".\\\" also gives `kheap help`): change that file, not this "
	      "one.\n",
	      f);
	fprintf(f, ".TH KHEAP 1 \"\" \"kheap %s\" \"User Commands\"\n",
		version);
	/* Left-aligned and unhyphenated: option names and synopsis items
	 * stay whole. */
	fputs(".nh\n.ad l\n", f);
	fputs(".SH NAME\nkheap \\- replay, size and draw heaps from kheap "
	      "allocation traces\n.SH SYNOPSIS\n",
	      f);
	for (size_t i = 0; i < cli_command_count; i++) {
		roff_synopsis(f, &cli_commands[i]);
	}
	fputs(".B kheap help\n.RI [ COMMAND ]\n.br\n"
	      ".B kheap\n.I COMMAND\n.B \\-\\-help\n.br\n"
	      ".B kheap \\-\\-version\n.SH DESCRIPTION\n",
	      f);
	roff_text(f, about_text);
	fputs("\n.PP\n", f);
	roff_text(f, notes_text);
	fputs("\n.SH COMMANDS\n", f);
	for (size_t i = 0; i < cli_command_count; i++) {
		const struct cli_command *cmd = &cli_commands[i];

		fprintf(f, ".SS \"kheap %s\"\n", cmd->name);
		roff_text(f, cmd->description);
		fputc('\n', f);
		for (size_t k = 0; k < cmd->use_count; k++) {
			const struct cli_option *o =
				&cli_options[cmd->uses[k].id];

			fputs(".TP\n", f);
			roff_option(f, o, " ", true);
			fputc('\n', f);
			roff_text(f, o->help);
			fputc('\n', f);
		}
		fputs(".TP\n\\fB\\-h\\fR, \\fB\\-\\-help\\fR\n"
		      "Print the command's help and exit.\n",
		      f);
	}
	fputs(".SH EXIT STATUS\n", f);
	for (size_t i = 0; i < cli_exit_status_count; i++) {
		fprintf(f, ".TP\n.B %d\n", cli_exit_statuses[i].status);
		roff_text(f, cli_exit_statuses[i].meaning);
		fputc('\n', f);
	}
	fputs(".SH SEE ALSO\n"
	      "docs/tools.md (the commands with examples, the JSON schema) and "
	      "docs/trace\\-format.md in kheap's sources.\n",
	      f);
}
