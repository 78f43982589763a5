/* SPDX-License-Identifier: Apache-2.0 */
/*
 * C99 length modifiers for newlib's printf family.
 *
 * newlib as Debian builds it (without --enable-newlib-io-c99-formats)
 * prints "%zu" as "zu" and then reads the following arguments out of
 * step. The shared test code prints sizes with %zu, so the images link
 * with -Wl,--wrap for the printf family and these wrappers rewrite the
 * format first, for this ILP32 target: z and t (size_t, ptrdiff_t: 32
 * bits) and hh (promoted to int anyway) are dropped, j (intmax_t: 64
 * bits) becomes ll. Everything else passes through unchanged.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

_Static_assert(sizeof(size_t) == sizeof(unsigned int), "ILP32 only");
_Static_assert(sizeof(ptrdiff_t) == sizeof(int), "ILP32 only");
_Static_assert(sizeof(intmax_t) == sizeof(long long), "ILP32 only");

#define FORMAT_BYTES 512u

/* Copy format into out with the modifiers rewritten; returns the format
 * to use (format itself if it needs no change or does not fit). */
static const char *rewrite(const char *format, char *out)
{
	size_t o = 0;
	int changed = 0;

	for (const char *p = format; *p != '\0'; p++) {
		if (o + 4u >= FORMAT_BYTES) {
			return format;
		}
		out[o++] = *p;
		if (*p != '%') {
			continue;
		}
		p++;
		if (*p == '%') {
			out[o++] = *p;
			continue;
		}
		/* Flags, width, precision. */
		while (*p != '\0' && (*p == '-' || *p == '+' || *p == ' ' ||
				      *p == '#' || *p == '0' || *p == '.' ||
				      *p == '*' || (*p >= '1' && *p <= '9'))) {
			if (o + 4u >= FORMAT_BYTES) {
				return format;
			}
			out[o++] = *p++;
		}
		if (*p == 'z' || *p == 't') {
			p++;
			changed = 1;
		} else if (*p == 'j') {
			out[o++] = 'l';
			out[o++] = 'l';
			p++;
			changed = 1;
		} else if (p[0] == 'h' && p[1] == 'h') {
			p += 2;
			changed = 1;
		}
		if (*p == '\0') {
			break;
		}
		out[o++] = *p;
	}
	out[o] = '\0';
	return changed ? out : format;
}

int __real_vfprintf(FILE *stream, const char *format, va_list args);
int __real_vsnprintf(char *buf, size_t bytes, const char *format, va_list args);
int __real_vsprintf(char *buf, const char *format, va_list args);

int __wrap_vfprintf(FILE *stream, const char *format, va_list args);
int __wrap_vprintf(const char *format, va_list args);
int __wrap_fprintf(FILE *stream, const char *format, ...);
int __wrap_printf(const char *format, ...);
int __wrap_vsnprintf(char *buf, size_t bytes, const char *format, va_list args);
int __wrap_snprintf(char *buf, size_t bytes, const char *format, ...);
int __wrap_vsprintf(char *buf, const char *format, va_list args);
int __wrap_sprintf(char *buf, const char *format, ...);

int __wrap_vfprintf(FILE *stream, const char *format, va_list args)
{
	char copy[FORMAT_BYTES];

	return __real_vfprintf(stream, rewrite(format, copy), args);
}

int __wrap_vprintf(const char *format, va_list args)
{
	return __wrap_vfprintf(stdout, format, args);
}

int __wrap_fprintf(FILE *stream, const char *format, ...)
{
	va_list args;
	int result;

	va_start(args, format);
	result = __wrap_vfprintf(stream, format, args);
	va_end(args);
	return result;
}

int __wrap_printf(const char *format, ...)
{
	va_list args;
	int result;

	va_start(args, format);
	result = __wrap_vfprintf(stdout, format, args);
	va_end(args);
	return result;
}

int __wrap_vsnprintf(char *buf, size_t bytes, const char *format, va_list args)
{
	char copy[FORMAT_BYTES];

	return __real_vsnprintf(buf, bytes, rewrite(format, copy), args);
}

int __wrap_snprintf(char *buf, size_t bytes, const char *format, ...)
{
	va_list args;
	int result;

	va_start(args, format);
	result = __wrap_vsnprintf(buf, bytes, format, args);
	va_end(args);
	return result;
}

int __wrap_vsprintf(char *buf, const char *format, va_list args)
{
	char copy[FORMAT_BYTES];

	return __real_vsprintf(buf, rewrite(format, copy), args);
}

int __wrap_sprintf(char *buf, const char *format, ...)
{
	va_list args;
	int result;

	va_start(args, format);
	result = __wrap_vsprintf(buf, format, args);
	va_end(args);
	return result;
}
