/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Tests of kheap's command line and its documentation (tools/kheap/cli.c):
 * every command answers --help and `kheap help COMMAND` with each of its
 * options described, usage errors print the usage, the manual page built
 * from the same table renders with man(1) and holds the same text, and
 * the PNG font draws lower case.
 *
 * Usage: test_kheap_cli [test-name-pattern]
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "cli.h"
#include "font.h"
#include "util.h"

#include "tool_test_util.h"

#define TRACE(name) TRACES_DIR "/" name

/* Run `kheap <args>`; returns the exit status, *out the output. */
static int kheap(const char *args, char **out)
{
	char cmd[2048];

	snprintf(cmd, sizeof(cmd), "'%s' %s", KHEAP_EXE, args);
	return run_command(cmd, out);
}

/* text with every run of white space made one space (wrapping differs
 * between the help printer and man). To free. */
static char *squeeze(const char *text)
{
	char *out = malloc(strlen(text) + 1u);
	size_t n = 0;

	assert_non_null(out);
	for (const char *p = text; *p != '\0'; p++) {
		bool space = *p == ' ' || *p == '\n' || *p == '\t';

		if (!space) {
			out[n++] = *p;
		} else if (n > 0u && out[n - 1u] != ' ') {
			out[n++] = ' ';
		}
	}
	out[n] = '\0';
	return out;
}

static void assert_contains(const char *text, const char *needle)
{
	if (strstr(text, needle) == NULL) {
		fail_msg("expected \"%s\" in:\n%s", needle, text);
	}
}

/* needle, white space squeezed, in text (already squeezed). */
static void assert_says(const char *squeezed, const char *needle)
{
	char *n = squeeze(needle);

	assert_contains(squeezed, n);
	free(n);
}

static size_t longest_line(const char *text)
{
	size_t longest = 0;

	while (*text != '\0') {
		size_t len = strcspn(text, "\n");

		longest = len > longest ? len : longest;
		text += len + (text[len] == '\n' ? 1u : 0u);
	}
	return longest;
}

/* "--heap NAME" as the help shows an option's first line. */
static void option_head(const struct cli_option *o, char *buf, size_t size)
{
	snprintf(buf, size, "%s%s%s%s%s", o->name, o->alias ? ", " : "",
		 o->alias ? o->alias : "", o->value ? " " : "",
		 o->value ? o->value : "");
}

/*
 * The command's description is in squeezed text `flat`, and each of its
 * options has its heading in `headings` (the text as printed, or squeezed
 * where line breaks may fall inside a heading) and its help in `flat`.
 */
static void assert_command_documented(const char *headings, const char *flat,
				      const struct cli_command *cmd)
{
	assert_says(flat, cmd->description);
	for (size_t k = 0; k < cmd->use_count; k++) {
		const struct cli_option *o = &cli_options[cmd->uses[k].id];
		char head[128];

		option_head(o, head, sizeof(head));
		assert_contains(headings, head);
		assert_says(flat, o->help);
	}
}

/* ---- help ------------------------------------------------------------------- */

static void test_every_command_answers_help(void **state)
{
	(void)state;
	assert_int_equal(cli_command_count, 3);
	for (size_t i = 0; i < cli_command_count; i++) {
		const struct cli_command *cmd = &cli_commands[i];
		char args[256];
		char *help, *help2, *help3;

		snprintf(args, sizeof(args), "%s --help", cmd->name);
		assert_int_equal(kheap(args, &help), KHEAP_EXIT_OK);
		snprintf(args, sizeof(args), "help %s", cmd->name);
		assert_int_equal(kheap(args, &help2), KHEAP_EXIT_OK);
		/* --help wins over a bad argument before it. */
		snprintf(args, sizeof(args), "%s x --bogus -h", cmd->name);
		assert_int_equal(kheap(args, &help3), KHEAP_EXIT_OK);
		assert_string_equal(help, help2);
		assert_string_equal(help, help3);

		snprintf(args, sizeof(args), "kheap %s TRACE", cmd->name);
		assert_contains(help, args);
		assert_true(longest_line(help) <= 80u);
		char *flat = squeeze(help);

		assert_command_documented(help, flat, cmd);
		assert_contains(help, "-h, --help");
		assert_contains(help, "Exit status:");
		free(flat);
		free(help);
		free(help2);
		free(help3);
	}
}

/* What each command's help must show, written out here rather than taken
 * from the table: a table missing an option fails. */
static void test_help_lists_the_options(void **state)
{
	static const struct {
		const char *command;
		const char *lines[12];
	} expected[] = {
		{"replay",
		 {"--heap NAME", "--heap-bytes N", "--format F",
		  "--ptr-bytes 4|8", "--samples N", "--all", "--symbolize",
		  "--json", "--progress", "--no-progress", NULL}},
		{"size",
		 {"--heap NAME", "--margin PCT", "--format F",
		  "--ptr-bytes 4|8", "--window BYTES", "--max-bytes N",
		  "--json", "--progress", "--no-progress", NULL}},
		{"map",
		 {"-o, --output FILE", "--heap NAME", "--heap-bytes N",
		  "--at EVENT[,EVENT...]", "--format F", "--ptr-bytes 4|8",
		  "--json", "--progress", "--no-progress", NULL}},
	};

	(void)state;
	for (size_t i = 0; i < sizeof(expected) / sizeof(expected[0]); i++) {
		char args[64];
		char *help;

		snprintf(args, sizeof(args), "help %s", expected[i].command);
		assert_int_equal(kheap(args, &help), KHEAP_EXIT_OK);
		for (size_t k = 0; expected[i].lines[k] != NULL; k++) {
			char line[96];

			/* An option's line: two spaces, the option, a line
			 * end. */
			snprintf(line, sizeof(line), "\n  %s\n",
				 expected[i].lines[k]);
			assert_contains(help, line);
		}
		free(help);
	}
}

static void test_global_help(void **state)
{
	char *help, *help2;

	(void)state;
	assert_int_equal(kheap("help", &help), KHEAP_EXIT_OK);
	assert_int_equal(kheap("--help", &help2), KHEAP_EXIT_OK);
	assert_string_equal(help, help2);
	assert_contains(help, "usage:\n  kheap replay TRACE [--heap NAME]");
	assert_contains(help, "\n  kheap size TRACE [--heap NAME]");
	assert_contains(help, "\n  kheap map TRACE -o FILE [--heap NAME]");
	assert_contains(help, "kheap help [COMMAND] | kheap COMMAND --help");
	assert_true(longest_line(help) <= 80u);
	free(help);
	free(help2);
}

struct usage_case {
	const char *args;
	const char *message;
	const char *synopsis; /* the usage printed with the error */
};

static const struct usage_case usage_cases[] = {
	{"help nosuch", "help: unknown command 'nosuch'",
	 "(kheap help shows the usage)"},
	{"help replay extra", "help: unexpected argument 'extra'",
	 "(kheap help shows the usage)"},
	{"replay " TRACE("ten_blocks.trace") " --bogus",
	 "kheap: unknown option '--bogus'\nusage:\n  kheap replay TRACE",
	 "(kheap replay --help describes every option)"},
	{"size " TRACE("ten_blocks.trace") " --at 5", "size takes no --at",
	 "  kheap size TRACE"},
	{"map " TRACE("ten_blocks.trace") " --samples 3",
	 "map takes no --samples", "  kheap map TRACE -o FILE"},
	{"replay " TRACE("ten_blocks.trace") " --all=yes",
	 "--all takes no value", "  kheap replay TRACE"},
	{"--man a b", "--man: unexpected argument 'b'", "(kheap help"},
};

static void test_usage_errors_print_the_usage(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(usage_cases) / sizeof(usage_cases[0]);
	     i++) {
		char *out;
		int status = kheap(usage_cases[i].args, &out);

		if (status != KHEAP_EXIT_USAGE ||
		    strstr(out, usage_cases[i].message) == NULL ||
		    strstr(out, usage_cases[i].synopsis) == NULL) {
			fail_msg("kheap %s: status %d, output:\n%s",
				 usage_cases[i].args, status, out);
		}
		free(out);
	}
}

/* ---- the manual page ----------------------------------------------------------- */

static void test_man_page_is_the_tools_output(void **state)
{
	char *page = read_file(KHEAP_MAN_PAGE, NULL);
	char *out;

	(void)state;
	assert_non_null(page);
	assert_int_equal(kheap("--man", &out), KHEAP_EXIT_OK);
	assert_string_equal(page, out);
	free(out);
	/* groff's man macros with every warning on: none. */
	assert_int_equal(
		run_command("groff -man -ww -z '" KHEAP_MAN_PAGE "'", &out), 0);
	assert_string_equal(out, "");
	free(out);
	free(page);
}

static void test_man_renders_every_option(void **state)
{
	char *out;

	(void)state;
	/* man -l as a user runs it on the installed page (the same file),
	 * in the C locale so that hyphens stay ASCII. */
	assert_int_equal(
		run_command("LC_ALL=C MANWIDTH=80 man -l '" KHEAP_MAN_PAGE "'",
			    &out),
		0);
	assert_contains(out, "KHEAP(1)");
	assert_contains(out, "kheap replay TRACE [--heap NAME]");
	char *flat = squeeze(out);

	for (size_t i = 0; i < cli_command_count; i++) {
		const struct cli_command *cmd = &cli_commands[i];

		assert_command_documented(flat, flat, cmd);
	}
	for (size_t i = 0; i < cli_exit_status_count; i++) {
		assert_says(flat, cli_exit_statuses[i].meaning);
	}
	free(flat);
	free(out);
}

/* ---- the font ---------------------------------------------------------------------- */

/* A glyph as 45 bits, its top row first. */
static uint64_t glyph_bits(char ch)
{
	uint64_t bits = 0;

	for (int y = 0; y < FONT_HEIGHT + FONT_DESCENT; y++) {
		for (int x = 0; x < FONT_WIDTH; x++) {
			bits = bits << 1 | (font_pixel(ch, x, y) ? 1u : 0u);
		}
	}
	return bits;
}

static void test_font_has_lower_case(void **state)
{
	(void)state;
	/* Every printable character has its own glyph: none falls back to
	 * '?' (a non-printable byte does). */
	for (int ch = ' '; ch <= '~'; ch++) {
		if (ch != '?' && glyph_bits((char)ch) == glyph_bits('?')) {
			fail_msg("'%c' is drawn as '?'", ch);
		}
	}
	assert_true(glyph_bits('\x01') == glyph_bits('?'));
	for (char ch = 'a'; ch <= 'z'; ch++) {
		char upper = (char)(ch - 'a' + 'A');

		if (glyph_bits(ch) == glyph_bits(upper)) {
			fail_msg("'%c' is drawn as '%c'", ch, upper);
		}
	}
	/* Letters without ascenders leave the capitals' top two rows empty. */
	const int below_top_two = (FONT_HEIGHT + FONT_DESCENT - 2) * FONT_WIDTH;

	for (const char *p = "acegmnopqrsuvwxyz"; *p != '\0'; p++) {
		assert_true(glyph_bits(*p) >> below_top_two == 0u);
	}
	/* g, j, p, q and y, and only they, reach below the baseline. */
	const uint64_t descent_rows =
		((uint64_t)1 << (FONT_DESCENT * FONT_WIDTH)) - 1u;

	for (int ch = ' '; ch <= '~'; ch++) {
		bool descends = (glyph_bits((char)ch) & descent_rows) != 0u;

		if (descends != (strchr("gjpqy", ch) != NULL)) {
			fail_msg("'%c' %s below the baseline", ch,
				 descends ? "reaches" : "does not reach");
		}
	}
	/* A label as the map draws it: k_malloc is not K_MALLOC, and the
	 * underscore (no case) is the same in both. */
	const char *lower = "k_malloc", *upper = "K_MALLOC";

	for (size_t i = 0; lower[i] != '\0'; i++) {
		if (lower[i] == '_') {
			assert_true(glyph_bits(lower[i]) ==
				    glyph_bits(upper[i]));
		} else {
			assert_true(glyph_bits(lower[i]) !=
				    glyph_bits(upper[i]));
		}
	}
}

int main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_every_command_answers_help),
		cmocka_unit_test(test_help_lists_the_options),
		cmocka_unit_test(test_global_help),
		cmocka_unit_test(test_usage_errors_print_the_usage),
		cmocka_unit_test(test_man_page_is_the_tools_output),
		cmocka_unit_test(test_man_renders_every_option),
		cmocka_unit_test(test_font_has_lower_case),
	};

	if (argc > 1) {
		cmocka_set_test_filter(argv[1]);
	}
	return cmocka_run_group_tests_name("kheap command line", tests, NULL,
					   NULL);
}
