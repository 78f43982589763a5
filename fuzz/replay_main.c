/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Replay driver: runs inputs through a fuzz target's
 * LLVMFuzzerTestOneInput() without libFuzzer, so the checked-in corpus
 * is an ordinary test (ctest label "fuzz") in every host build.
 *
 *   replay_<target> [-v] [--every N] PATH...
 *
 * Each PATH is a file (one input) or a directory (every regular file in
 * it and its subdirectories, in name order; names starting with '.' are
 * skipped). -v prints each input's name before running it. --every N
 * runs a deterministic sample of a directory: every seed-* and regress-*
 * file, and of the grown inputs the 1st, (N+1)th, (2N+1)th... in name
 * order (for the memcheck preset, where a whole grown corpus costs
 * minutes; the other presets replay all of it). An oracle
 * failure aborts the program; the signal handler first prints which input
 * was running. Exit status: 0 when every input ran, 1 on a usage or I/O
 * error or when the paths held no input at all.
 */
#define _POSIX_C_SOURCE 200809L

#include <dirent.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Under AddressSanitizer, its report ends the program (SIGSEGV included):
 * a death callback names the input instead of a signal handler. */
#if defined(__has_feature)
#if __has_feature(address_sanitizer)
#define REPLAY_ASAN 1
#endif
#endif
#if defined(__SANITIZE_ADDRESS__)
#define REPLAY_ASAN 1
#endif
#ifdef REPLAY_ASAN
void __sanitizer_set_death_callback(void (*callback)(void));
#endif

static const char *current_input;
static bool verbose;
/* --every N: 1 runs every input. */
static unsigned long sample_every = 1u;
/* Grown inputs met so far in directories (the sample's position). */
static unsigned long grown_seen;
static unsigned long inputs_run;
static unsigned long long bytes_run;

static void write_str(const char *s)
{
	size_t n = strlen(s);

	while (n > 0u) {
		ssize_t w = write(STDERR_FILENO, s, n);

		if (w <= 0) {
			return;
		}
		s += w;
		n -= (size_t)w;
	}
}

static void name_current_input(void)
{
	if (current_input != NULL) {
		write_str("replay: crashed while running input ");
		write_str(current_input);
		write_str("\n");
	}
}

/* Name the input that crashed, then die of the same signal. */
static void on_fatal_signal(int sig)
{
	name_current_input();
	signal(sig, SIG_DFL);
	raise(sig);
}

static int run_file(const char *path)
{
	FILE *f = fopen(path, "rb");

	if (f == NULL) {
		perror(path);
		return 1;
	}
	if (fseek(f, 0, SEEK_END) != 0) {
		perror(path);
		fclose(f);
		return 1;
	}
	long len = ftell(f);

	if (len < 0 || fseek(f, 0, SEEK_SET) != 0) {
		perror(path);
		fclose(f);
		return 1;
	}
	/* Exactly len bytes (at least 1 for malloc), so that the sanitizers
	 * see any read past the input's end. */
	uint8_t *data = malloc(len == 0 ? 1u : (size_t)len);

	if (data == NULL || fread(data, 1u, (size_t)len, f) != (size_t)len) {
		fprintf(stderr, "%s: read error\n", path);
		free(data);
		fclose(f);
		return 1;
	}
	fclose(f);
	if (verbose) {
		fprintf(stderr, "replay: %s (%ld bytes)\n", path, len);
	}
	current_input = path;
	(void)LLVMFuzzerTestOneInput(data, (size_t)len);
	current_input = NULL;
	free(data);
	inputs_run++;
	bytes_run += (unsigned long long)len;
	return 0;
}

/* Is a directory entry at path (named base) in the sample? Seeds and
 * regressions always are. */
static bool sampled(const char *base)
{
	if (strncmp(base, "seed-", 5u) == 0 ||
	    strncmp(base, "regress-", 8u) == 0) {
		return true;
	}
	return grown_seen++ % sample_every == 0u;
}

static int compare_names(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static int run_path(const char *path);
static int run_entry(const char *path, size_t base_offset);

static int run_dir(const char *path)
{
	DIR *dir = opendir(path);

	if (dir == NULL) {
		perror(path);
		return 1;
	}
	char **names = NULL;
	size_t count = 0u;
	size_t cap = 0u;
	struct dirent *e;
	int rc = 0;

	while ((e = readdir(dir)) != NULL) {
		if (e->d_name[0] == '.') {
			continue;
		}
		if (count == cap) {
			cap = cap == 0u ? 64u : 2u * cap;
			char **more = realloc(names, cap * sizeof(*names));

			if (more == NULL) {
				rc = 1;
				break;
			}
			names = more;
		}
		size_t n = strlen(path) + strlen(e->d_name) + 2u;

		names[count] = malloc(n);
		if (names[count] == NULL) {
			rc = 1;
			break;
		}
		snprintf(names[count], n, "%s/%s", path, e->d_name);
		count++;
	}
	closedir(dir);
	if (count != 0u) {
		qsort(names, count, sizeof(*names), compare_names);
	}
	for (size_t i = 0; i < count; i++) {
		if (rc == 0) {
			rc = run_entry(names[i], strlen(path) + 1u);
		}
		free(names[i]);
	}
	free(names);
	return rc;
}

static int run_path(const char *path)
{
	struct stat sb;

	if (stat(path, &sb) != 0) {
		perror(path);
		return 1;
	}
	if (S_ISDIR(sb.st_mode)) {
		return run_dir(path);
	}
	if (S_ISREG(sb.st_mode)) {
		return run_file(path);
	}
	return 0;
}

/* An entry of a directory: subdirectories always, files if sampled. */
static int run_entry(const char *path, size_t base_offset)
{
	struct stat sb;

	if (stat(path, &sb) != 0) {
		perror(path);
		return 1;
	}
	if (S_ISREG(sb.st_mode) && !sampled(path + base_offset)) {
		return 0;
	}
	return run_path(path);
}

static int usage(const char *argv0)
{
	fprintf(stderr, "usage: %s [-v] [--every N] CORPUS_DIR_OR_FILE...\n",
		argv0);
	return 1;
}

int main(int argc, char **argv)
{
	int first = 1;

	while (first < argc && argv[first][0] == '-') {
		if (strcmp(argv[first], "-v") == 0) {
			verbose = true;
			first++;
			continue;
		}
		if (strcmp(argv[first], "--every") != 0 || first + 1 >= argc) {
			return usage(argv[0]);
		}
		char *end;
		unsigned long every = strtoul(argv[first + 1], &end, 10);

		if (*argv[first + 1] == '\0' || *end != '\0' || every == 0u) {
			return usage(argv[0]);
		}
		sample_every = every;
		first += 2;
	}
	if (first >= argc) {
		return usage(argv[0]);
	}
	signal(SIGABRT, on_fatal_signal);
#ifdef REPLAY_ASAN
	__sanitizer_set_death_callback(name_current_input);
#else
	signal(SIGSEGV, on_fatal_signal);
	signal(SIGBUS, on_fatal_signal);
	signal(SIGFPE, on_fatal_signal);
	signal(SIGILL, on_fatal_signal);
#endif
	for (int i = first; i < argc; i++) {
		if (run_path(argv[i]) != 0) {
			return 1;
		}
	}
	if (inputs_run == 0u) {
		fprintf(stderr, "replay: no inputs found\n");
		return 1;
	}
	printf("replay: %lu inputs, %llu bytes, all passed", inputs_run,
	       bytes_run);
	if (sample_every > 1u) {
		printf(" (every %lu of %lu grown inputs, and every seed and "
		       "regression)",
		       sample_every, grown_seen);
	}
	printf("\n");
	return 0;
}
