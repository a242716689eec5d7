/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * expect.h - check a replay's output against what a trace should give.
 *
 * The expect file is a JSON object; every key is optional:
 *   "spawns": [{"host", "service", "origin"?, "by_ms"?, "after_ms"?}]
 *       each needs its own spawn command to that host for that service;
 *   "no_other_spawn": true    no spawn command beyond those listed;
 *   "stops": [{"host", "service", "instance"?, "by_ms"?, "after_ms"?}]
 *   "no_other_stop": true
 *   "decisions": [{"service", "origin"?, "target": "h" | null,
 *                  "reason_contains"?, "shadow"?, "by_ms"?, "after_ms"?}]
 *       each needs its own decision line that matches;
 *   "origin": a host name, or null for none (a repair's command or
 *       decision); absent: any;
 *   "commands": N, "decisions_total": N    exact line counts;
 *   "by_ms": deadline for every listed item without its own.
 * Times count from the first line of the replayed trace, in ms.
 */
#ifndef ONVM_POLICY_EXPECT_H
#define ONVM_POLICY_EXPECT_H

#include <stdint.h>
#include <stdio.h>

/*
 * Read the replay output from `output` (a trace) and check it against the
 * expect file; first_tst_us is the time of the trace's first line.
 * Mismatches are written to report, one a line. Returns 0 when everything
 * matches, 1 on a mismatch, -1 when the expect file or the output cannot
 * be read.
 */
int policy_expect_check(const char *expect_path, FILE *output, int64_t first_tst_us, FILE *report);

#endif /* ONVM_POLICY_EXPECT_H */
