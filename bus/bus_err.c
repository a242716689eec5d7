/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * bus_err.c - names of the bus library's error codes.
 */
#include <stdarg.h>
#include <stdio.h>

#include "bus_err.h"

const char *bus_strerror(int err)
{
	switch (err) {
	case BUS_OK:
		return "success";
	case BUS_ERR_ARG:
		return "invalid argument";
	case BUS_ERR_NOSPC:
		return "buffer too small";
	case BUS_ERR_NOMEM:
		return "out of memory";
	case BUS_ERR_NAME:
		return "invalid name";
	case BUS_ERR_TOPIC:
		return "topic not in the bus contract";
	case BUS_ERR_TOOBIG:
		return "payload too large";
	case BUS_ERR_JSON:
		return "not JSON";
	case BUS_ERR_NOTOBJ:
		return "not a JSON object";
	case BUS_ERR_VERSION:
		return "bad or missing version";
	case BUS_ERR_MISSING:
		return "missing field";
	case BUS_ERR_TYPE:
		return "mistyped field";
	case BUS_ERR_RANGE:
		return "number out of range";
	case BUS_ERR_VALUE:
		return "malformed string";
	case BUS_ERR_ENUM:
		return "unknown word";
	case BUS_ERR_HOST:
		return "host differs from topic";
	case BUS_ERR_LIMIT:
		return "too many entries";
	case BUS_ERR_EMPTY:
		return "empty payload";
	case BUS_ERR_FORMAT:
		return "malformed trace line";
	case BUS_ERR_IO:
		return "I/O error";
	default:
		return "unknown error";
	}
}

void bus_set_err(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	if (!err || !errlen)
		return;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
}
