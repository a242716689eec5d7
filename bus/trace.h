/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * trace.h - read and write bus traces (docs/traces.md).
 *
 * A trace is what `mosquitto_sub -v -F '%j' -t 'onvm/#'` prints: one JSON
 * object per line,
 *   {"tst":"2026-11-24T00:57:18.123644Z+0000","topic":"onvm/hosts/h1/stats",
 *    "qos":0,"retain":0,"payloadlen":N,"payload":"<payload as a JSON string>"}
 * The reader keeps payloads byte for byte, including bytes that are not
 * UTF-8 (mosquitto_sub prints those raw). The writer prints exactly the
 * same format as mosquitto_sub, except that a NUL byte in a payload is
 * written as \u0000 where mosquitto_sub would cut the string.
 */
#ifndef ONVM_BUS_TRACE_H
#define ONVM_BUS_TRACE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "bus_err.h"

/* "2026-11-24T00:57:18.123644Z+0000" plus NUL. */
#define BUS_TST_LEN 33

/*
 * One trace line. topic and payload point into buffers owned by the
 * record, valid until the next parse; both are NUL-terminated for
 * convenience (the payload may also hold NUL bytes: use payload_len).
 * Zero the record before first use (= {0}); release with
 * bus_trace_rec_free().
 */
struct bus_trace_rec {
	int64_t tst_us; /* Unix time in microseconds, UTC */
	const char *topic;
	size_t topic_len;
	int qos;	       /* 0..2; 0 when the line has no "qos" */
	bool retain;	       /* false when the line has no "retain" */
	uint64_t declared_len; /* "payloadlen"; payload_len when absent */
	const char *payload;   /* "" for "payload":null (empty payload) */
	size_t payload_len;
	unsigned long lineno; /* lines consumed by bus_trace_read() */
	/* private */
	char *buf;
	size_t buf_cap;
	char *line;
	size_t line_cap;
};

/*
 * Parse one line (a trailing "\n" or "\r\n" is allowed). Requires "tst",
 * "topic" and "payload"; unknown fields are ignored. Returns 0, or
 * BUS_ERR_FORMAT with a reason in err, or BUS_ERR_NOMEM / BUS_ERR_ARG.
 */
int bus_trace_parse(struct bus_trace_rec *rec, const char *line, size_t len, char *err,
		    size_t errlen);

/*
 * Read the next line of f into rec, skipping blank lines. Returns 1 with a
 * record, 0 at end of file, or a negative BUS_ERR_* for a malformed line
 * (which is consumed: call again to go on) or a read error (BUS_ERR_IO).
 * err is prefixed with the line number.
 */
int bus_trace_read(FILE *f, struct bus_trace_rec *rec, char *err, size_t errlen);

void bus_trace_rec_free(struct bus_trace_rec *rec);

/*
 * "YYYY-MM-DDTHH:MM:SS[.ffffff]Z[+HHMM|-HHMM]" <-> Unix microseconds. The
 * parser reads up to 9 fraction digits (keeps microseconds) and applies
 * the offset that mosquitto_sub appends to its local time. The formatter
 * always writes UTC with 6 digits and "Z+0000", for years 0..9999.
 */
int bus_trace_parse_tst(const char *s, size_t len, int64_t *tst_us);
int bus_trace_format_tst(char *buf, size_t buflen, int64_t tst_us);

/*
 * Format one line (without the newline) into a malloc'd string, as
 * mosquitto_sub -F '%j' prints it; an empty payload is written as null.
 * *out gets the line, *out_len (may be NULL) its length. Returns 0,
 * BUS_ERR_ARG (qos not 0..2, NULL topic, NULL payload with len > 0),
 * BUS_ERR_RANGE (time outside years 0..9999) or BUS_ERR_NOMEM.
 */
int bus_trace_format(int64_t tst_us, const char *topic, int qos, bool retain, const void *payload,
		     size_t len, char **out, size_t *out_len);

/* bus_trace_format() and write the line plus "\n" to f; BUS_ERR_IO on failure. */
int bus_trace_write(FILE *f, int64_t tst_us, const char *topic, int qos, bool retain,
		    const void *payload, size_t len);

#endif /* ONVM_BUS_TRACE_H */
