/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * fuzz_policy_replay.c - libFuzzer target for replay: the input is a trace
 * (any bytes). Beyond "no crash, no leak, no hang" it checks that replaying
 * the same input twice gives byte-identical output, and that every output
 * line is a trace line whose payload the bus decoders accept.
 *
 * Build and run (from the source root; no paho, no DPDK):
 *   clang -g -O1 -fsanitize=fuzzer,address,undefined -Ibus -Ipolicy \
 *     tests/fuzz/fuzz_policy_replay.c policy/params.c policy/view.c policy/pending.c \
 *     policy/scale_in.c policy/engines.c policy/core.c policy/ingest.c policy/replay.c \
 *     bus/codec.c bus/topics.c bus/trace.c bus/json_scan.c bus/bus_err.c \
 *     -ljansson -ldl -o /tmp/fuzz_replay
 *   /tmp/fuzz_replay -max_total_time=60 -max_len=65536 tests/traces
 */
#define _GNU_SOURCE /* fmemopen, open_memstream */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "codec.h"
#include "engines.h"
#include "replay.h"
#include "topics.h"
#include "trace.h"

/* Replay data into a malloc'd buffer; returns its length. */
static size_t replay_once(const uint8_t *data, size_t size, char **out)
{
	static char empty;
	FILE *in = size ? fmemopen((void *)data, size, "r") : fmemopen(&empty, 1, "r");
	size_t out_len = 0;
	FILE *sink = open_memstream(out, &out_len);
	if (!in || !sink)
		abort();
	if (!size)
		fgetc(in);
	struct policy_engine_handle engine;
	char err[256];
	if (policy_engine_open("local-first", NULL, &engine, err, sizeof(err)) < 0)
		abort();
	struct replay_options options = {.engine_id = "fuzz"};
	policy_params_default(&options.params);
	options.params.scale_in_ms = 2000; /* reach the scale-in code too */
	struct replay_result result;
	policy_replay(in, sink, &options, &engine, &result, err, sizeof(err));
	policy_engine_close(&engine);
	fclose(in);
	fclose(sink);
	return out_len;
}

/* Every output line parses as a trace line carrying a valid payload. */
static void check_lines(char *text, size_t len)
{
	FILE *f = fmemopen(text, len, "r");
	if (!f)
		abort();
	struct bus_trace_rec rec = {0};
	struct bus_msg msg = BUS_MSG_INIT;
	char err[256];
	int ret;
	while ((ret = bus_trace_read(f, &rec, err, sizeof(err))) != 0) {
		if (ret < 0 || bus_decode_any(rec.topic, rec.payload, rec.payload_len, &msg, err,
					      sizeof(err)) < 0) {
			fprintf(stderr, "bad output line: %s\n", err);
			abort();
		}
	}
	bus_msg_free(&msg);
	bus_trace_rec_free(&rec);
	fclose(f);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *first = NULL, *second = NULL;
	size_t first_len = replay_once(data, size, &first);
	size_t second_len = replay_once(data, size, &second);
	if (first_len != second_len || memcmp(first, second, first_len) != 0) {
		fprintf(stderr, "two replays of the same input differ\n");
		abort();
	}
	if (first_len)
		check_lines(first, first_len);
	free(first);
	free(second);
	return 0;
}
