/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Helpers shared by the tools tests (see tool_test_util.h).
 */
#include "tool_test_util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

int run_command(const char *cmd, char **output)
{
	size_t cmd_len = strlen(cmd);
	char *full = malloc(cmd_len + 8u);
	size_t len = 0, cap = 4096;
	char *text = malloc(cap);

	if (full == NULL || text == NULL) {
		free(full);
		free(text);
		return -1;
	}
	memcpy(full, cmd, cmd_len);
	memcpy(full + cmd_len, " 2>&1", 6);
	FILE *p = popen(full, "r");

	free(full);
	if (p == NULL) {
		free(text);
		return -1;
	}
	for (;;) {
		if (cap - len < 1024u) {
			char *grown = realloc(text, cap * 2u);

			if (grown == NULL) {
				break;
			}
			text = grown;
			cap *= 2u;
		}
		size_t n = fread(text + len, 1, cap - len - 1u, p);

		if (n == 0u) {
			break;
		}
		len += n;
	}
	text[len] = '\0';
	int status = pclose(p);

	if (output != NULL) {
		*output = text;
	} else {
		free(text);
	}
	return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

char *read_file(const char *path, size_t *bytes)
{
	FILE *f = fopen(path, "rb");
	char *data = NULL;
	size_t len = 0, cap = 0;

	if (f == NULL) {
		return NULL;
	}
	for (;;) {
		if (cap - len < 4096u) {
			cap = cap ? cap * 2u : 65536u;
			char *grown = realloc(data, cap);

			if (grown == NULL) {
				free(data);
				fclose(f);
				return NULL;
			}
			data = grown;
		}
		size_t n = fread(data + len, 1, cap - len - 1u, f);

		if (n == 0u) {
			break;
		}
		len += n;
	}
	fclose(f);
	data[len] = '\0';
	if (bytes != NULL) {
		*bytes = len;
	}
	return data;
}

bool write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	if (f == NULL) {
		return false;
	}
	bool ok = fputs(text, f) >= 0;

	return fclose(f) == 0 && ok;
}
