/* SPDX-License-Identifier: Apache-2.0 */
#include "semihost.h"

void semihost_write0(const char *text)
{
	(void)semihost_call(SEMIHOST_SYS_WRITE0, text);
}

void semihost_write_hex(uint32_t value)
{
	static const char digits[] = "0123456789abcdef";
	char text[11];

	text[0] = '0';
	text[1] = 'x';
	for (unsigned int i = 0; i < 8u; i++) {
		text[2u + i] = digits[(value >> (28u - 4u * i)) & 0xfu];
	}
	text[10] = '\0';
	semihost_write0(text);
}

void semihost_write_decimal(uint32_t value)
{
	char text[11];
	size_t i = sizeof(text) - 1u;

	text[i] = '\0';
	do {
		text[--i] = (char)('0' + value % 10u);
		value /= 10u;
	} while (value != 0u);
	semihost_write0(&text[i]);
}

int semihost_get_cmdline(char *buf, size_t bytes)
{
	struct {
		char *buf;
		size_t bytes;
	} block = {buf, bytes};

	if (bytes == 0u) {
		return -1;
	}
	buf[0] = '\0';
	if (semihost_call(SEMIHOST_SYS_GET_CMDLINE, &block) != 0u) {
		buf[0] = '\0';
		return -1;
	}
	buf[bytes - 1u] = '\0';
	return 0;
}

void semihost_exit(int status)
{
	/* SYS_EXIT_EXTENDED carries the status; debuggers without it
	 * ignore the call, and SYS_EXIT then reports plain success or
	 * failure. */
	const uintptr_t block[2] = {SEMIHOST_ADP_STOPPED_APPLICATION_EXIT,
				    (uintptr_t)status};

	(void)semihost_call(SEMIHOST_SYS_EXIT_EXTENDED, block);
	(void)semihost_call(
		SEMIHOST_SYS_EXIT,
		(const void *)(status == 0
				       ? SEMIHOST_ADP_STOPPED_APPLICATION_EXIT
				       : SEMIHOST_ADP_STOPPED_RUN_TIME_ERROR));
	for (;;) {
		__asm__ volatile("wfi");
	}
}
