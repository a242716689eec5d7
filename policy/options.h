/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * options.h - the command line of onvm-policy.
 */
#ifndef ONVM_POLICY_OPTIONS_H
#define ONVM_POLICY_OPTIONS_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "bus_options.h"
#include "config_file.h"
#include "params.h"
#include "service_rules.h"

enum policy_mode {
	POLICY_MODE_LIVE = 0,
	POLICY_MODE_REPLAY,
	POLICY_MODE_BENCH_PARSE,
	POLICY_MODE_LIST_ENGINES,
	POLICY_MODE_HELP,
	POLICY_MODE_VERSION,
};

#define POLICY_BROKER_DEFAULT "tcp://127.0.0.1:18830"
#define POLICY_USER_DEFAULT   "policy"
#define POLICY_GRACE_DEFAULT  1000 /* ms */

struct policy_options {
	enum policy_mode mode;
	const char *trace; /* replay, bench-parse: a file or "-" */
	const char *check; /* replay: an expect file, or NULL */
	const char *engine;
	const char *engine_args;
	const char *id; /* NULL: the default of the mode */
	struct policy_params params;
	const char *services;	    /* --services FILE, or NULL */
	struct service_rules rules; /* its rules: policy_options_load_services() */
	bool verbose;
	bool stats;
	/* live: the identity defaults to POLICY_USER_DEFAULT, the broker to
	 * POLICY_BROKER_DEFAULT */
	struct bus_options bus;
	uint64_t grace_ms;
	/* --config FILE: its options, and the merged command line the pointers
	 * above may point into (policy_options_free() releases them). */
	struct config_merged config;
};

/* 0, or -1 with a reason in err (print it with the usage, exit 2).  With
 * --config FILE, the file's options come first and the command line's win;
 * call policy_options_free() after a 0. */
int policy_options_parse(int argc, char **argv, struct policy_options *options, char *err,
			 size_t errlen);

/* Read the --services file into options->rules (none: no rules). 0, or -1
 * with a reason in err (exit 2). */
int policy_options_load_services(struct policy_options *options, char *err, size_t errlen);
void policy_options_free(struct policy_options *options);

void policy_usage(FILE *f, const char *prog);

#endif /* ONVM_POLICY_OPTIONS_H */
