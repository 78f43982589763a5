/* SPDX-License-Identifier: Apache-2.0 */
#define _POSIX_C_SOURCE 200809L

#include "hardening_trial.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

const char *hardening_level_name(int level)
{
	static const char *const names[HARDENING_LEVEL_COUNT] = {
		"NONE", "BASIC", "MODERATE", "FULL", "EXTREME"};

	return level >= 0 && level < HARDENING_LEVEL_COUNT ? names[level] : "?";
}

/* Coverage runtimes write their counters at exit(), which a child that
 * leaves with _exit() skips: call them by hand where they are linked in
 * (weak, so an uninstrumented build has none). */
extern void __gcov_dump(void) __attribute__((__weak__));
extern int __llvm_profile_write_file(void) __attribute__((__weak__));

static void flush_coverage(void)
{
	if (__gcov_dump != NULL) {
		__gcov_dump();
	}
	if (__llvm_profile_write_file != NULL) {
		(void)__llvm_profile_write_file();
	}
}

static void write_all(int fd, const void *data, size_t bytes)
{
	const unsigned char *p = data;

	while (bytes != 0u) {
		ssize_t n = write(fd, p, bytes);

		if (n < 0 && errno == EINTR) {
			continue;
		}
		if (n <= 0) {
			return;
		}
		p += n;
		bytes -= (size_t)n;
	}
}

/* The child's end of the report pipe (-1 in the parent). */
static int report_fd = -1;
static size_t report_size;

void child_report(const void *report)
{
	if (report_fd >= 0) {
		write_all(report_fd, report, report_size);
	}
}

struct child_end run_in_child(int (*fn)(void *arg, void *report,
					size_t report_bytes),
			      void *arg, void *report, size_t report_bytes,
			      unsigned int timeout_s, bool quiet)
{
	struct child_end end = {0u, -1, 0};
	int fds[2];
	pid_t pid;
	int status;

	/* Buffered output would otherwise be written twice, once by each
	 * process. */
	fflush(stdout);
	fflush(stderr);
	if (pipe(fds) != 0) {
		perror("hardening: pipe");
		abort();
	}
	pid = fork();
	if (pid < 0) {
		perror("hardening: fork");
		abort();
	}
	if (pid == 0) {
		int code;

		close(fds[0]);
		/* The test runner (CMocka) catches crash signals and jumps
		 * back into its loop; in the child a crash must end the
		 * child. */
		static const int crash_signals[] = {SIGSEGV, SIGBUS, SIGILL,
						    SIGFPE,  SIGSYS, SIGABRT};

		for (size_t i = 0;
		     i < sizeof(crash_signals) / sizeof(crash_signals[0]);
		     i++) {
			signal(crash_signals[i], SIG_DFL);
		}
		if (quiet) {
			int null_fd = open("/dev/null", O_WRONLY);

			if (null_fd >= 0) {
				dup2(null_fd, 2);
				close(null_fd);
			}
		}
		report_fd = fds[1];
		report_size = report_bytes;
		code = fn(arg, report, report_bytes);
		child_report(report);
		close(fds[1]);
		flush_coverage();
		_exit(code);
	}
	close(fds[1]);
	/* Keep the last complete report the child sent, until it closes
	 * the pipe (it ended) or the time is up: then it is killed. SIGKILL
	 * from here, not an alarm in the child: a child stuck in a fault
	 * storm (the sanitizer hooks poisoning a range taken from corrupt
	 * metadata) may take minutes to act on its own SIGALRM. */
	unsigned char *latest = malloc(report_bytes);
	size_t got = 0u;
	struct timespec now;

	if (latest == NULL) {
		abort();
	}
	clock_gettime(CLOCK_MONOTONIC, &now);
	int64_t deadline_ms = (int64_t)now.tv_sec * 1000 +
			      now.tv_nsec / 1000000 + (int64_t)timeout_s * 1000;

	for (;;) {
		struct pollfd pfd = {.fd = fds[0], .events = POLLIN};

		clock_gettime(CLOCK_MONOTONIC, &now);
		int64_t left_ms = deadline_ms - ((int64_t)now.tv_sec * 1000 +
						 now.tv_nsec / 1000000);

		if (left_ms <= 0) {
			kill(pid, SIGKILL);
			break;
		}
		int ready = poll(&pfd, 1, (int)left_ms);

		if (ready < 0 && errno == EINTR) {
			continue;
		}
		if (ready <= 0) {
			continue;
		}
		ssize_t n = read(fds[0], latest + got, report_bytes - got);

		if (n < 0 && errno == EINTR) {
			continue;
		}
		if (n <= 0) {
			break;
		}
		got += (size_t)n;
		if (got == report_bytes) {
			memcpy(report, latest, report_bytes);
			end.bytes = report_bytes;
			got = 0u;
		}
	}
	free(latest);
	close(fds[0]);
	while (waitpid(pid, &status, 0) < 0) {
		if (errno != EINTR) {
			perror("hardening: waitpid");
			abort();
		}
	}
	if (WIFEXITED(status)) {
		end.exit_code = WEXITSTATUS(status);
	} else if (WIFSIGNALED(status)) {
		end.signal = WTERMSIG(status);
	}
	return end;
}
