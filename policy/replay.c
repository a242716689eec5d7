/* SPDX-License-Identifier: BSD-3-Clause */
/* replay.c - an engine over a recorded trace on a virtual clock (see replay.h). */
#include <errno.h>
#include <inttypes.h>
#include <string.h>

#include "ingest.h"
#include "replay.h"
#include "trace.h"

struct replay_sink {
	FILE *out;
	int64_t now_us;
	uint64_t written;
	int failed;
};

static void write_line(void *ctx, const char *topic, int qos, bool retained, const char *payload,
		       size_t len)
{
	struct replay_sink *sink = ctx;
	if (bus_trace_write(sink->out, sink->now_us, topic, qos, retained, payload, len) < 0)
		sink->failed = 1;
	else
		sink->written++;
}

/* Print a warning unless past the limit; always counted by the caller. */
static void warn(const struct replay_options *options, uint64_t *warned, const char *text)
{
	if (!options->warn)
		return;
	(*warned)++;
	if (options->max_warnings && *warned > options->max_warnings) {
		if (*warned == (uint64_t)options->max_warnings + 1)
			fprintf(options->warn, "replay: more warnings are only counted\n");
		return;
	}
	fprintf(options->warn, "replay: %s\n", text);
}

static bool engine_output(enum bus_kind kind)
{
	return kind == BUS_KIND_CMD || kind == BUS_KIND_DECISIONS || kind == BUS_KIND_ENGINE;
}

/* Feed one well-formed line; returns nothing: every outcome is counted. */
static void feed(struct policy_core *core, struct policy_ingest *ingest,
		 const struct bus_trace_rec *rec, const struct replay_options *options,
		 struct replay_result *result, uint64_t *warned, uint64_t now_ms)
{
	const struct bus_msg *msg = NULL;
	char why[256];
	int ret = policy_ingest_decode(ingest, rec->topic, rec->payload, rec->payload_len, &msg,
				       why, sizeof(why));
	if (ret == 0) {
		result->other_topics++;
		return;
	}
	if (ret < 0) {
		result->rejected_payloads++;
		char text[512];
		snprintf(text, sizeof(text), "line %lu: %.100s: %s", rec->lineno, rec->topic, why);
		warn(options, warned, text);
		return;
	}
	if (engine_output(msg->kind)) {
		result->engine_lines++;
		return;
	}
	if (msg->kind == BUS_KIND_STATS)
		result->records += msg->u.stats.n_insts;
	result->messages++;
	policy_core_handle(core, msg, rec->retain, now_ms);
}

static int replay_lines(FILE *in, struct policy_core *core, struct replay_sink *sink,
			const struct replay_options *options, struct replay_result *result,
			char *err, size_t errlen)
{
	struct bus_trace_rec rec = {0};
	struct policy_ingest ingest;
	policy_ingest_init(&ingest);
	uint64_t warned = 0;
	int status = 0;
	for (;;) {
		char why[256];
		int ret = bus_trace_read(in, &rec, why, sizeof(why));
		if (ret == 0)
			break;
		if (ret == BUS_ERR_IO) {
			snprintf(err, errlen, "cannot read the trace: %s", why);
			status = -1;
			break;
		}
		result->lines++;
		if (ret < 0) {
			result->malformed_lines++;
			warn(options, &warned, why);
			continue;
		}
		if (!result->has_first) {
			result->has_first = true;
			result->first_tst_us = rec.tst_us;
			sink->now_us = rec.tst_us;
		} else if (rec.tst_us > sink->now_us) {
			sink->now_us = rec.tst_us;
		}
		uint64_t now_ms = sink->now_us > 0 ? (uint64_t)sink->now_us / 1000 : 0;
		feed(core, &ingest, &rec, options, result, &warned, now_ms);
		if (sink->failed) {
			snprintf(err, errlen, "cannot write the output: %s", strerror(errno));
			status = -1;
			break;
		}
	}
	bus_trace_rec_free(&rec);
	policy_ingest_free(&ingest);
	return status;
}

int policy_replay(FILE *in, FILE *out, const struct replay_options *options,
		  const struct policy_engine_handle *engine, struct replay_result *result,
		  char *err, size_t errlen)
{
	*result = (struct replay_result){0};
	struct replay_sink sink = {.out = out};
	struct policy_sink core_sink = {.emit = write_line, .ctx = &sink};
	struct policy_config config = {
	    .engine_id = options->engine_id ? options->engine_id : REPLAY_ENGINE_ID,
	    .params = options->params,
	    .rules = options->rules,
	    .always_lead = true,
	    .follow_engines = false,
	    .first_cmd_no = 0,
	    .log = options->log,
	};
	struct policy_core *core = policy_core_create(&config, engine, &core_sink, err, errlen);
	if (!core)
		return -1;
	int status = replay_lines(in, core, &sink, options, result, err, errlen);
	if (status == 0 && fflush(out) != 0) {
		snprintf(err, errlen, "cannot write the output: %s", strerror(errno));
		status = -1;
	}
	policy_core_counters(core, &result->counters);
	result->outputs = sink.written;
	policy_core_destroy(core);
	return status;
}

void policy_replay_summary(FILE *f, const struct replay_result *r)
{
	fprintf(f,
		"replay: %" PRIu64 " lines: %" PRIu64 " messages (%" PRIu64
		" instance records), %" PRIu64 " malformed lines, %" PRIu64
		" rejected payloads, %" PRIu64 " other topics, %" PRIu64
		" engine lines skipped; %" PRIu64 " spawns, %" PRIu64 " stops, %" PRIu64
		" no-capacity, %" PRIu64 " commands, %" PRIu64 " decisions; alarms: %" PRIu64
		" received, %" PRIu64 " ignored, %" PRIu64 " spawns from them\n",
		r->lines, r->messages, r->records, r->malformed_lines, r->rejected_payloads,
		r->other_topics, r->engine_lines, r->counters.spawns, r->counters.stops,
		r->counters.no_capacity, r->counters.commands, r->counters.decisions,
		r->counters.alarms, r->counters.alarms_ignored, r->counters.alarm_spawns);
}
