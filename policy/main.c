/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * main.c - onvm-policy: the policy daemon, replay, and the parse-only
 * yardstick of the replay benchmark. Everything but picking the mode is in
 * the library (live.c, replay.c, bench.c).
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include "bench.h"
#include "engines.h"
#include "expect.h"
#include "live.h"
#include "log.h"
#include "onvm_version.h"
#include "options.h"
#include "replay.h"

static void list_engines(void)
{
	size_t count;
	const struct policy_engine *const *engines = policy_builtin_engines(&count);
	for (size_t i = 0; i < count; i++)
		printf("%-12s %s%s\n", engines[i]->name, engines[i]->summary,
		       strcmp(engines[i]->name, POLICY_DEFAULT_ENGINE) == 0 ? " (default)" : "");
	printf("%-12s a shared object exporting %s() (policy/engine_api.h, version %d)\n",
	       "./lib.so", POLICY_ENGINE_SYMBOL, POLICY_ENGINE_API_VERSION);
	printf("Every engine also places repairs (--services min): a request with no origin,\n"
	       "where local-first uses its rules 2-4 and local-only chooses nothing.\n");
}

static FILE *open_trace(const char *path)
{
	if (strcmp(path, "-") == 0)
		return stdin;
	FILE *f = fopen(path, "r");
	if (!f)
		fprintf(stderr, "onvm-policy: cannot open %s: %s\n", path, strerror(errno));
	return f;
}

static double seconds_now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static long peak_rss_kb(void)
{
	struct rusage usage;
	return getrusage(RUSAGE_SELF, &usage) == 0 ? usage.ru_maxrss : -1;
}

/* Check the replay output (kept in memory) against the expect file. */
static int check_output(const char *expect, char *output, size_t len,
			const struct replay_result *result)
{
	FILE *f = fmemopen(output, len ? len : 1, "r");
	if (!f) {
		fprintf(stderr, "onvm-policy: cannot check: %s\n", strerror(errno));
		return 1;
	}
	if (!len)
		fgetc(f); /* an empty output: fmemopen needs a size > 0 */
	int ret =
	    policy_expect_check(expect, f, result->has_first ? result->first_tst_us : 0, stderr);
	fclose(f);
	return ret == 0 ? 0 : 1;
}

static int run_replay(const struct policy_options *options,
		      const struct policy_engine_handle *engine)
{
	FILE *in = open_trace(options->trace);
	if (!in)
		return 1;
	char *captured = NULL;
	size_t captured_len = 0;
	FILE *out = options->check ? open_memstream(&captured, &captured_len) : stdout;
	if (!out) {
		fprintf(stderr, "onvm-policy: %s\n", strerror(errno));
		return 1;
	}
	struct replay_options replay = {
	    .engine_id = options->id,
	    .params = options->params,
	    .rules = &options->rules,
	    .log = options->verbose ? stderr : NULL,
	    .warn = stderr,
	    .max_warnings = 100,
	};
	struct replay_result result;
	char err[256];
	double start = seconds_now();
	int ret = policy_replay(in, out, &replay, engine, &result, err, sizeof(err));
	double elapsed = seconds_now() - start;
	if (in != stdin)
		fclose(in);
	if (ret < 0)
		fprintf(stderr, "onvm-policy: %s\n", err);
	policy_replay_summary(stderr, &result);
	if (options->stats)
		fprintf(stderr,
			"replay: %.3f s, %.0f instance records/s, %.0f lines/s, peak RSS %ld kB\n",
			elapsed, elapsed > 0 ? (double)result.records / elapsed : 0,
			elapsed > 0 ? (double)result.lines / elapsed : 0, peak_rss_kb());
	int status = ret < 0 ? 1 : 0;
	if (options->check) {
		fclose(out);
		fwrite(captured, 1, captured_len, stdout);
		fflush(stdout);
		if (status == 0)
			status = check_output(options->check, captured, captured_len, &result);
		free(captured);
	}
	return status;
}

static int run_bench_parse(const struct policy_options *options)
{
	FILE *in = open_trace(options->trace);
	if (!in)
		return 1;
	struct bench_parse_result result;
	char err[256];
	int ret = policy_bench_parse(in, &result, err, sizeof(err));
	if (in != stdin)
		fclose(in);
	if (ret < 0) {
		fprintf(stderr, "onvm-policy: %s\n", err);
		return 1;
	}
	printf("parse-only: %" PRIu64 " payloads, %" PRIu64 " instance records in %.3f s: %.0f "
	       "records/s\n",
	       result.payloads, result.records, result.seconds,
	       result.seconds > 0 ? (double)result.records / result.seconds : 0);
	return 0;
}

static int run_with_engine(const struct policy_options *options, const char *prog)
{
	struct policy_engine_handle engine;
	char err[512];
	if (policy_engine_open(options->engine, options->engine_args, &engine, err, sizeof(err)) <
	    0) {
		fprintf(stderr, "onvm-policy: %s\n", err);
		if (strchr(options->engine, '/'))
			return 1; /* a shared object that would not load */
		policy_usage(stderr, prog);
		return 2;
	}
	int status = options->mode == POLICY_MODE_REPLAY ? run_replay(options, &engine)
							 : policy_live_run(options, &engine);
	policy_engine_close(&engine);
	return status;
}

int main(int argc, char **argv)
{
	struct policy_options options;
	char err[256];
	onvm_log_init("onvm-policy");
	if (policy_options_parse(argc, argv, &options, err, sizeof(err)) < 0) {
		fprintf(stderr, "onvm-policy: %s\n", err);
		policy_usage(stderr, argv[0]);
		return 2;
	}
	if (policy_options_load_services(&options, err, sizeof(err)) < 0) {
		fprintf(stderr, "onvm-policy: --services: %s\n", err);
		return 2;
	}
	int status;
	switch (options.mode) {
	case POLICY_MODE_HELP:
		policy_usage(stdout, argv[0]);
		status = 0;
		break;
	case POLICY_MODE_VERSION:
		onvm_version_print(stdout, "onvm-policy");
		status = 0;
		break;
	case POLICY_MODE_LIST_ENGINES:
		list_engines();
		status = 0;
		break;
	case POLICY_MODE_BENCH_PARSE:
		status = run_bench_parse(&options);
		break;
	default:
		status = run_with_engine(&options, argv[0]);
	}
	policy_options_free(&options);
	return status;
}
