/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Replay driver: runs inputs through a fuzz target's
 * LLVMFuzzerTestOneInput() without libFuzzer, so the checked-in corpus
 * is an ordinary test (ctest label "fuzz") in every host build.
 *
 *   replay_<target> [-v] PATH...
 *
 * Each PATH is a file (one input) or a directory (every regular file in
 * it and its subdirectories, in name order; names starting with '.' are
 * skipped). -v prints each input's name before running it. An oracle
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

static int compare_names(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static int run_path(const char *path);

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
			rc = run_path(names[i]);
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

int main(int argc, char **argv)
{
	int first = 1;

	if (argc > 1 && strcmp(argv[1], "-v") == 0) {
		verbose = true;
		first = 2;
	}
	if (first >= argc) {
		fprintf(stderr, "usage: %s [-v] CORPUS_DIR_OR_FILE...\n",
			argv[0]);
		return 1;
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
	printf("replay: %lu inputs, %llu bytes, all passed\n", inputs_run,
	       bytes_run);
	return 0;
}
