/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * bus_err.h - error codes shared by the bus library (topics, codecs, traces).
 *
 * Every bus function that can fail returns 0 on success or one of the
 * negative BUS_ERR_* codes below; bus_strerror() names a code.
 */
#ifndef ONVM_BUS_ERR_H
#define ONVM_BUS_ERR_H

#include <stddef.h>

enum bus_err {
	BUS_OK = 0,
	BUS_ERR_ARG = -1,      /* invalid argument from the caller (NULL, bad enum, ...) */
	BUS_ERR_NOSPC = -2,    /* output buffer too small */
	BUS_ERR_NOMEM = -3,    /* memory allocation failed */
	BUS_ERR_NAME = -4,     /* invalid host name, engine id or topic root */
	BUS_ERR_TOPIC = -5,    /* topic is not part of the bus contract */
	BUS_ERR_TOOBIG = -6,   /* payload larger than BUS_PAYLOAD_MAX */
	BUS_ERR_JSON = -7,     /* payload is not valid JSON */
	BUS_ERR_NOTOBJ = -8,   /* payload is JSON but not an object */
	BUS_ERR_VERSION = -9,  /* "v" missing, mistyped or not a supported version */
	BUS_ERR_MISSING = -10, /* a required field is missing */
	BUS_ERR_TYPE = -11,    /* a field has the wrong JSON type */
	BUS_ERR_RANGE = -12,   /* a number is out of its allowed range */
	BUS_ERR_VALUE = -13,   /* a string is malformed (name, id, address, length) */
	BUS_ERR_ENUM = -14,    /* a string is not one of the allowed words */
	BUS_ERR_HOST = -15,    /* the payload's host differs from the topic's host */
	BUS_ERR_LIMIT = -16,   /* an array has more entries than the library accepts */
	BUS_ERR_EMPTY = -17,   /* zero-length payload where a message is required */
	BUS_ERR_FORMAT = -18,  /* malformed trace line */
	BUS_ERR_IO = -19,      /* read or write error */
};

/* printf into a caller's error buffer; nothing when err is NULL or errlen 0. */
void bus_set_err(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Short description of a BUS_ERR_* code; never NULL. */
const char *bus_strerror(int err);

#endif /* ONVM_BUS_ERR_H */
