/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * log.h - levelled, timestamped log lines for the programs and libraries
 * without DPDK (bus/, policy/); dp/ and nflib/ use rte_log.
 *
 * A line:  2026-12-02T19:25:01.123Z NOTICE onvm-policy: connected; ...
 * Errors and warnings go to stderr, the rest to stdout, each line whole
 * (other threads' lines never cut into it).  The threshold is
 * ONVM_LOG_LEVEL (err, warning, notice, info or debug; default info) unless
 * the program sets one.
 */
#ifndef ONVM_LOG_H
#define ONVM_LOG_H

#include <stdarg.h>
#include <stdio.h>

enum onvm_log_level {
	ONVM_LOG_ERR = 0,
	ONVM_LOG_WARNING,
	ONVM_LOG_NOTICE,
	ONVM_LOG_INFO,
	ONVM_LOG_DEBUG,
};

/* The program's name in every line; reads ONVM_LOG_LEVEL.  Call once, early. */
void onvm_log_init(const char *program);

void onvm_log_set_level(enum onvm_log_level level);
enum onvm_log_level onvm_log_get_level(void);

/* "err", "warning", "notice", "info", "debug" (or 0..4): 0, or -1. */
int onvm_log_parse_level(const char *text, enum onvm_log_level *level);

void onvm_log(enum onvm_log_level level, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* The same line to a chosen stream (NULL: by level). */
void onvm_vlog_to(FILE *out, enum onvm_log_level level, const char *fmt, va_list args)
    __attribute__((format(printf, 3, 0)));

/* The line's prefix, for tests: "2026-...Z LEVEL program: " into buf. */
size_t onvm_log_prefix(char *buf, size_t len, enum onvm_log_level level);

#endif /* ONVM_LOG_H */
