/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * number.h - the one strict parser for the numbers people write: command
 * lines, configuration and catalog values.  Every program and library of
 * the project uses it, so "", " 5", "+5", "5x", "0x10" and out-of-range
 * values are refused the same way everywhere.
 */
#ifndef ONVM_NUMBER_H
#define ONVM_NUMBER_H

#include <stdint.h>

/* Decimal digits only, the whole text, within min..max.  0, or -1. */
int onvm_parse_uint(const char *text, uint64_t min, uint64_t max, uint64_t *out);

/* The same for a number that more text follows ("2-5", "0:3"): *end is set
 * just past the digits. */
int onvm_parse_uint_prefix(const char *text, uint64_t min, uint64_t max, uint64_t *out,
			   const char **end);

/* A finite decimal number ("0.5", "-2", "1e3"), the whole text, within
 * min..max.  No hex, inf, nan or spaces.  0, or -1. */
int onvm_parse_double(const char *text, double min, double max, double *out);

#endif /* ONVM_NUMBER_H */
