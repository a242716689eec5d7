/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * json_scan.h - a strict, allocation-free pull parser for JSON text.
 *
 * The codecs use it to decode payloads straight into C structs (parsing a
 * jansson tree first is several times slower), and the trace reader uses it
 * in "raw" mode to read mosquitto_sub lines, whose payload strings may hold
 * bytes that are not UTF-8. Grammar is RFC 8259; numbers that overflow a
 * double or int64 integers are errors, as in jansson.
 *
 * Every function returns -1 on a syntax error and records the first error
 * (jscan_error()); callers stop at the first -1.
 */
#ifndef ONVM_BUS_JSON_SCAN_H
#define ONVM_BUS_JSON_SCAN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Strings: accept any byte >= 0x80 and \u0000 (mosquitto_sub output). */
#define JSCAN_RAW 0x1u

/* Nesting limit for skipped values. */
#define JSCAN_MAX_DEPTH 32

enum jtok {
	JT_END = 0, /* no more input */
	JT_OBJECT,
	JT_ARRAY,
	JT_STRING,
	JT_NUMBER,
	JT_TRUE,
	JT_FALSE,
	JT_NULL,
	JT_BAD, /* a byte that starts no JSON value */
};

struct jscan {
	const char *start;
	const char *p;
	const char *end;
	unsigned flags;
	const char *why; /* first syntax error, NULL if none */
	size_t why_off;	 /* its byte offset */
};

struct jnum {
	bool is_int; /* no fraction and no exponent */
	int64_t i;   /* valid when is_int */
	double d;    /* always valid */
};

void jscan_init(struct jscan *s, const void *buf, size_t len, unsigned flags);

/* Record a syntax error (the first one wins) and return -1. */
int jscan_fail(struct jscan *s, const char *why);

/* Skip whitespace; type of the next value, or JT_END at the end. */
enum jtok jscan_peek(struct jscan *s);

/*
 * Parse a string. Copies the decoded bytes into dst (at most cap - 1,
 * always NUL-terminated when cap > 0; dst may be NULL when cap is 0) and
 * stores the full decoded length in *len (may be NULL).
 */
int jscan_string(struct jscan *s, char *dst, size_t cap, size_t *len);

int jscan_number(struct jscan *s, struct jnum *num);

/* Consume true, false or null; *value gets true for "true". */
int jscan_literal(struct jscan *s, enum jtok tok, bool *value);

/* Skip one value of any type. */
int jscan_skip(struct jscan *s);

/*
 * Objects: jscan_obj_begin() consumes '{'. Each jscan_obj_next() returns 1
 * with the next key and its ':' consumed, 0 after the closing '}', or -1.
 * *first must start true. *key points at the key's klen bytes: into the
 * input when the key has no escapes (not NUL-terminated), else into buf
 * (cap bytes; a longer decoded key is cut, klen still gives its length).
 */
int jscan_obj_begin(struct jscan *s);
int jscan_obj_next(struct jscan *s, bool *first, char *buf, size_t cap, const char **key,
		   size_t *klen);

/* Arrays: like objects; jscan_arr_next() returns 1 when a value follows. */
int jscan_arr_begin(struct jscan *s);
int jscan_arr_next(struct jscan *s, bool *first);

#endif /* ONVM_BUS_JSON_SCAN_H */
