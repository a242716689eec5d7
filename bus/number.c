/* SPDX-License-Identifier: BSD-3-Clause */
/* number.c - the one strict number parser (see number.h). */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "number.h"

int onvm_parse_uint_prefix(const char *text, uint64_t min, uint64_t max, uint64_t *out,
			   const char **end)
{
	if (text == NULL || *text < '0' || *text > '9')
		return -1;
	uint64_t value = 0;
	const char *cursor = text;
	for (; *cursor >= '0' && *cursor <= '9'; cursor++) {
		unsigned digit = (unsigned)(*cursor - '0');
		if (value > (UINT64_MAX - digit) / 10)
			return -1; /* overflow */
		value = value * 10 + digit;
	}
	if (value < min || value > max)
		return -1;
	*out = value;
	*end = cursor;
	return 0;
}

int onvm_parse_uint(const char *text, uint64_t min, uint64_t max, uint64_t *out)
{
	uint64_t value;
	const char *end;
	if (onvm_parse_uint_prefix(text, min, max, &value, &end) < 0 || *end != '\0')
		return -1;
	*out = value;
	return 0;
}

int onvm_parse_double(const char *text, double min, double max, double *out)
{
	if (text == NULL || *text == '\0')
		return -1;
	/* strtod alone would also take spaces, hex, "inf" and "nan". */
	if (text[strspn(text, "0123456789.eE+-")] != '\0')
		return -1;
	char *end;
	double value = strtod(text, &end);
	if (end == text || *end != '\0' || !isfinite(value) || value < min || value > max)
		return -1;
	*out = value;
	return 0;
}
