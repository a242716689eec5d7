/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * bench.h - the yardstick of the replay benchmark: how fast jansson alone
 * parses the stats payloads of a trace (tests/bench/replay.sh compares the
 * replay's instance records per second with this).
 */
#ifndef ONVM_POLICY_BENCH_H
#define ONVM_POLICY_BENCH_H

#include <stdint.h>
#include <stdio.h>

struct bench_parse_result {
	uint64_t payloads; /* stats payloads parsed */
	uint64_t records;  /* instance records in them */
	double seconds;	   /* parsing only: the trace is read into memory first */
};

/* 0, or -1 when the trace cannot be read or a payload does not parse. */
int policy_bench_parse(FILE *trace, struct bench_parse_result *result, char *err, size_t errlen);

#endif /* ONVM_POLICY_BENCH_H */
