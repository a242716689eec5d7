/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * replay.h - run an engine over a recorded trace (docs/traces.md).
 *
 * Every line of the trace is fed, in order, to the same core the live
 * daemon runs, on a virtual clock taken from the line's "tst" (never going
 * back). Commands and decisions are written as trace lines stamped with the
 * virtual time of the decision, so the output is itself a trace; the same
 * trace and engine give byte-identical output. The replayed engine always
 * leads; the trace's own commands, decisions and engine announcements are
 * what engines wrote, not inputs, and are skipped (counted). Malformed
 * lines and rejected payloads are skipped with a counted warning.
 */
#ifndef ONVM_POLICY_REPLAY_H
#define ONVM_POLICY_REPLAY_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "core.h"
#include "engines.h"
#include "params.h"

#define REPLAY_ENGINE_ID "replay"

struct replay_options {
	const char *engine_id; /* NULL: REPLAY_ENGINE_ID */
	struct policy_params params;
	const struct service_rules *rules; /* --services, or NULL */
	FILE *log;			   /* the core's decision log, or NULL */
	FILE *warn;			   /* warnings and the summary, or NULL */
	unsigned max_warnings;		   /* then only counted (0: no limit) */
};

struct replay_result {
	uint64_t lines; /* read, malformed included */
	uint64_t malformed_lines;
	uint64_t messages; /* decoded and fed to the core */
	uint64_t rejected_payloads;
	uint64_t other_topics;
	uint64_t engine_lines; /* commands, decisions, announcements: skipped */
	uint64_t records;      /* instance records in the stats fed */
	uint64_t outputs;      /* lines written */
	bool has_first;	       /* a well-formed line was read ... */
	int64_t first_tst_us;  /* ... at this time: where expect files count from */
	struct policy_counters counters;
};

/*
 * Replay in to out. 0 when the whole trace was read (whatever it held), -1
 * when it could not be read or the output not written (reason in err).
 */
int policy_replay(FILE *in, FILE *out, const struct replay_options *options,
		  const struct policy_engine_handle *engine, struct replay_result *result,
		  char *err, size_t errlen);

void policy_replay_summary(FILE *f, const struct replay_result *result);

#endif /* ONVM_POLICY_REPLAY_H */
