/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The kheap commands. Each computes a report first and then prints it as
 * text or, with --json, as JSON (schema: docs/tools.md); the return value
 * is the exit status.
 */
#ifndef KHEAP_TOOL_COMMANDS_H
#define KHEAP_TOOL_COMMANDS_H

#include "session.h"

int cmd_replay(struct session *s);
int cmd_size(struct session *s);
int cmd_map(struct session *s);

#endif /* KHEAP_TOOL_COMMANDS_H */
