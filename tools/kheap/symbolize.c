/* SPDX-License-Identifier: Apache-2.0 */
/*
 * --symbolize (see symbolize.h): addr2line without a shell.
 */
#include "symbolize.h"

#include <errno.h>
#include <fcntl.h>
#include <spawn.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "util.h"

extern char **environ;

/* Malformed sites named one by one before only their count is given. */
#define MAX_REPORTED_SITES 10u

bool symbolize_address_ok(const char *text)
{
	size_t digits = 0;

	if (text[0] != '0' || text[1] != 'x') {
		return false;
	}
	for (const char *p = text + 2; *p != '\0'; p++) {
		bool hex = (*p >= '0' && *p <= '9') ||
			   (*p >= 'a' && *p <= 'f') || (*p >= 'A' && *p <= 'F');

		if (!hex) {
			return false;
		}
		digits++;
	}
	return digits >= 1u && digits <= 16u;
}

/* Trace text in a message: bytes outside '!'..'~' as \xNN, so that a
 * hostile site cannot send control sequences to a terminal. */
static void print_escaped(FILE *f, const char *text)
{
	for (const unsigned char *p = (const unsigned char *)text; *p != '\0';
	     p++) {
		if (*p < 0x21u || *p > 0x7eu || *p == '\\') {
			fprintf(f, "\\x%02x", *p);
		} else {
			fputc(*p, f);
		}
	}
}

/* The sites to look up in one module. */
struct module_sites {
	size_t *sites; /* indexes into t->sites */
	size_t count;
	size_t cap;
};

static void add_site(struct module_sites *m, size_t site)
{
	if (m->count == m->cap) {
		m->cap = m->cap ? m->cap * 2u : 16u;
		m->sites = xrealloc(m->sites, m->cap * sizeof(*m->sites));
	}
	m->sites[m->count++] = site;
}

/* One line of addr2line's output in buf (size SYMBOLIZE_MAX_LINE_BYTES),
 * without its '\n'; the rest of a longer line is read and dropped.
 * False at the end of the output. */
static bool read_output_line(FILE *f, char *buf)
{
	if (fgets(buf, (int)SYMBOLIZE_MAX_LINE_BYTES, f) == NULL) {
		return false;
	}
	size_t len = strcspn(buf, "\n");

	if (buf[len] != '\n') {
		int c;

		while ((c = getc(f)) != EOF && c != '\n') {
		}
	}
	buf[len] = '\0';
	return true;
}

/* "function file:line" from addr2line's two lines (the file without its
 * directories), "function" alone without debug information ("??:?"), or
 * NULL if it knows neither. */
static char *symbol_text(const char *function, const char *location)
{
	bool known_function = strcmp(function, "??") != 0;
	bool known_location = strncmp(location, "??", 2) != 0;

	if (!known_function && !known_location) {
		return NULL;
	}
	const char *slash = strrchr(location, '/');
	const char *file = slash != NULL ? slash + 1 : location;
	size_t bytes = strlen(function) + strlen(file) + 2u;
	char *text = xmalloc(bytes);

	snprintf(text, bytes, known_location ? "%s %s" : "%s", function, file);
	return text;
}

/* The addresses of m's sites, one per line, in a temporary file rewound
 * to its start (addr2line's standard input); NULL on error. */
static FILE *address_file(const struct trace *t, const struct module_sites *m)
{
	FILE *f = tmpfile();

	if (f == NULL) {
		return NULL;
	}
	for (size_t k = 0; k < m->count; k++) {
		const char *site = t->sites[m->sites[k]];

		fprintf(f, "%s\n", strrchr(site, '+') + 1);
	}
	if (fflush(f) != 0 || fseek(f, 0, SEEK_SET) != 0) {
		fclose(f);
		return NULL;
	}
	return f;
}

/*
 * Run `addr2line -f -e PATH` with the addresses of m's sites on its
 * standard input and its output on a pipe: two lines (function, then
 * file:line) per address. Fills symbols[] for m's sites.
 */
static void run_addr2line(const struct trace *t, const char *path,
			  const struct module_sites *m, char **symbols,
			  FILE *report)
{
	struct stat st;

	if (stat(path, &st) != 0 || !S_ISREG(st.st_mode)) {
		fputs("kheap: --symbolize: module file '", report);
		print_escaped(report, path);
		fputs("' is not a readable regular file: its sites are left as "
		      "recorded\n",
		      report);
		return;
	}
	FILE *input = address_file(t, m);
	int out[2] = {-1, -1};
	posix_spawn_file_actions_t actions;
	pid_t pid;
	char *argv[] = {"addr2line", "-f", "-e", (char *)path, NULL};

	if (input == NULL || pipe(out) != 0) {
		fprintf(report, "kheap: --symbolize: %s\n", strerror(errno));
		if (input != NULL) {
			fclose(input);
		}
		return;
	}
	/* Only the child's 0, 1 and 2 survive the exec. */
	fcntl(out[0], F_SETFD, FD_CLOEXEC);
	fcntl(out[1], F_SETFD, FD_CLOEXEC);
	fcntl(fileno(input), F_SETFD, FD_CLOEXEC);
	posix_spawn_file_actions_init(&actions);
	posix_spawn_file_actions_adddup2(&actions, fileno(input), 0);
	posix_spawn_file_actions_adddup2(&actions, out[1], 1);
	posix_spawn_file_actions_addopen(&actions, 2, "/dev/null", O_WRONLY, 0);
	int rc = posix_spawnp(&pid, "addr2line", &actions, NULL, argv, environ);

	posix_spawn_file_actions_destroy(&actions);
	close(out[1]);
	fclose(input);
	if (rc != 0) {
		fprintf(report,
			"kheap: --symbolize: cannot run addr2line (binutils): "
			"%s\n",
			strerror(rc));
		close(out[0]);
		return;
	}
	FILE *output = fdopen(out[0], "r");
	char function[SYMBOLIZE_MAX_LINE_BYTES];
	char location[SYMBOLIZE_MAX_LINE_BYTES];
	size_t done = 0;

	while (output != NULL && done < m->count &&
	       read_output_line(output, function) &&
	       read_output_line(output, location)) {
		symbols[m->sites[done++]] = symbol_text(function, location);
	}
	/* Closing the pipe ends a child that has more to say (SIGPIPE). */
	if (output != NULL) {
		fclose(output);
	} else {
		close(out[0]);
	}
	int status;

	while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
	}
	if (done < m->count) {
		fputs("kheap: --symbolize: addr2line failed on '", report);
		print_escaped(report, path);
		fprintf(report, "': %zu of %zu sites left as recorded\n",
			m->count - done, m->count);
	}
}

/* A malformed address in a site of a declared module. */
static void report_bad_site(FILE *report, const char *site, size_t bad)
{
	if (bad > MAX_REPORTED_SITES) {
		return;
	}
	fputs("kheap: --symbolize: site '", report);
	print_escaped(report, site);
	fputs("' is not <module>+0x<hex digits>: left as recorded\n", report);
}

char **symbolize_sites(const struct trace *t, FILE *report)
{
	char **symbols = xcalloc(t->site_count, sizeof(char *));
	struct str_set names = {0};
	/* first_module[k]: the first @module declaring the name of index k
	 * (a later declaration of the same name is ignored). */
	size_t *first_module = xcalloc(t->module_count, sizeof(size_t));
	struct module_sites *per_name =
		xcalloc(t->module_count, sizeof(*per_name));
	size_t bad = 0, beyond_limit = 0, taken = 0;
	char *name = NULL;
	size_t name_cap = 0;

	for (size_t m = 0; m < t->module_count; m++) {
		size_t before = names.count;
		uint32_t k = str_set_intern(&names, t->modules[m].name);

		if (names.count > before) {
			first_module[k] = m;
		}
	}
	for (size_t i = 0; i < t->site_count; i++) {
		const char *site = t->sites[i];
		const char *plus = strrchr(site, '+');
		uint32_t k;

		if (plus == NULL) {
			continue; /* "file:line", "-": nothing to look up */
		}
		size_t len = (size_t)(plus - site);

		if (len + 1u > name_cap) {
			name_cap = len + 1u;
			name = xrealloc(name, name_cap);
		}
		memcpy(name, site, len);
		name[len] = '\0';
		if (!str_set_find(&names, name, &k)) {
			continue; /* no such module: as recorded */
		}
		if (!symbolize_address_ok(plus + 1)) {
			report_bad_site(report, site, ++bad);
		} else if (taken == SYMBOLIZE_MAX_SITES) {
			beyond_limit++;
		} else {
			add_site(&per_name[k], i);
			taken++;
		}
	}
	size_t runs = 0, modules_beyond_limit = 0;

	for (uint32_t k = 0; k < names.count; k++) {
		if (per_name[k].count == 0u) {
			continue;
		}
		if (runs == SYMBOLIZE_MAX_MODULES) {
			modules_beyond_limit++;
		} else {
			runs++;
			run_addr2line(t, t->modules[first_module[k]].path,
				      &per_name[k], symbols, report);
		}
	}
	if (bad > MAX_REPORTED_SITES) {
		fprintf(report,
			"kheap: --symbolize: %zu more malformed sites left as "
			"recorded\n",
			bad - MAX_REPORTED_SITES);
	}
	if (beyond_limit > 0u) {
		fprintf(report,
			"kheap: --symbolize: only the first %u sites are "
			"looked up; %zu left as recorded\n",
			SYMBOLIZE_MAX_SITES, beyond_limit);
	}
	if (modules_beyond_limit > 0u) {
		fprintf(report,
			"kheap: --symbolize: only %u modules are looked up; "
			"the sites of %zu more are left as recorded\n",
			SYMBOLIZE_MAX_MODULES, modules_beyond_limit);
	}
	for (uint32_t k = 0; k < names.count; k++) {
		free(per_name[k].sites);
	}
	free(per_name);
	free(first_module);
	free(name);
	str_set_free(&names);
	return symbols;
}

void symbolize_free(char **symbols, size_t count)
{
	if (symbols == NULL) {
		return;
	}
	for (size_t i = 0; i < count; i++) {
		free(symbols[i]);
	}
	free(symbols);
}
