/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * fuzz_bus_decode.c - libFuzzer target for the bus decoders and the trace
 * line parser.
 *
 * The first input byte picks the target (low 4 bits) and whether the
 * decoder gets a topic host (bit 4); the rest is the payload or line.
 * Beyond "no crash, no leak" it checks three properties:
 *   - a payload our decoder accepts is JSON to jansson too;
 *   - an accepted message re-encodes, and decoding that gives the same
 *     struct (encode/decode round trip);
 *   - an accepted trace line re-formats into a line that parses the same.
 *
 * Build and run (from the source root; the pure bus modules only, no paho):
 *   clang -g -O1 -fsanitize=fuzzer,address,undefined -Ibus tests/fuzz/fuzz_bus_decode.c \
 *     bus/codec.c bus/topics.c bus/trace.c bus/json_scan.c bus/bus_err.c \
 *     -ljansson -o /tmp/fuzz_bus
 *   /tmp/fuzz_bus -max_total_time=30 tests/fuzz/corpus
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "codec.h"
#include "trace.h"

#define ERRLEN 256

static void check(int ok, const char *what)
{
	if (!ok) {
		fprintf(stderr, "fuzz_bus_decode: property failed: %s\n", what);
		abort();
	}
}

/* Our decoder accepted the payload: jansson must parse it as well. */
static void check_json(const uint8_t *data, size_t len)
{
	json_error_t jerr;
	json_t *root = json_loadb((const char *)data, len, JSON_DECODE_ANY, &jerr);

	check(root != NULL && json_is_object(root), "accepted payload is a JSON object");
	json_decref(root);
}

/* Encoders may only fail for size: reals can print longer than they came. */
static int encoded(int ret, char *json, const char *what)
{
	if (ret == BUS_ERR_TOOBIG)
		return 0;
	check(ret == 0 && json != NULL, what);
	return 1;
}

static void round_trip_state(const struct bus_state *in)
{
	struct bus_state again;
	char *json = NULL, err[ERRLEN];

	if (encoded(bus_encode_state(in, &json, err, sizeof(err)), json, "encode state")) {
		check(bus_decode_state(NULL, json, strlen(json), &again, err, sizeof(err)) == 0,
		      "decode own state");
		check(memcmp(&again, in, sizeof(again)) == 0, "state round trip");
	}
	free(json);
}

static void round_trip_services(const struct bus_services *in)
{
	struct bus_services again = {0};
	char *json = NULL, err[ERRLEN];

	if (encoded(bus_encode_services(in, &json, err, sizeof(err)), json, "encode services")) {
		check(bus_decode_services(NULL, json, strlen(json), &again, err, sizeof(err)) == 0,
		      "decode own services");
		check(strcmp(again.host, in->host) == 0 && again.ts_ms == in->ts_ms &&
			  again.n_insts == in->n_insts,
		      "services header round trip");
		check(in->n_insts == 0 ||
			  memcmp(again.insts, in->insts, in->n_insts * sizeof(in->insts[0])) == 0,
		      "services entries round trip");
	}
	free(json);
	bus_services_free(&again);
}

static void round_trip_stats(const struct bus_stats *in)
{
	struct bus_stats again = {0};
	char *json = NULL, err[ERRLEN];

	if (encoded(bus_encode_stats(in, &json, err, sizeof(err)), json, "encode stats")) {
		check(bus_decode_stats(NULL, json, strlen(json), &again, err, sizeof(err)) == 0,
		      "decode own stats");
		check(strcmp(again.host, in->host) == 0 && again.ts_ms == in->ts_ms &&
			  again.seq == in->seq && again.period_ms == in->period_ms &&
			  again.n_ports == in->n_ports && again.n_insts == in->n_insts,
		      "stats header round trip");
		check(in->n_ports == 0 ||
			  memcmp(again.ports, in->ports, in->n_ports * sizeof(in->ports[0])) == 0,
		      "stats ports round trip");
		check(in->n_insts == 0 ||
			  memcmp(again.insts, in->insts, in->n_insts * sizeof(in->insts[0])) == 0,
		      "stats instances round trip");
	}
	free(json);
	bus_stats_free(&again);
}

static void round_trip_cmd(const struct bus_cmd *in)
{
	struct bus_cmd again, copy = *in;
	char *json = NULL, err[ERRLEN];

	memset(copy.target, 0, sizeof(copy.target)); /* a topic part, not encoded */
	if (encoded(bus_encode_cmd(in, &json, err, sizeof(err)), json, "encode cmd")) {
		check(bus_decode_cmd(NULL, json, strlen(json), &again, err, sizeof(err)) == 0,
		      "decode own cmd");
		check(memcmp(&again, &copy, sizeof(again)) == 0, "cmd round trip");
	}
	free(json);
}

static void round_trip_engine(const struct bus_engine *in)
{
	struct bus_engine again, copy = *in;
	char *json = NULL, err[ERRLEN];

	memset(copy.id, 0, sizeof(copy.id)); /* a topic part, not encoded */
	if (encoded(bus_encode_engine(in, &json, err, sizeof(err)), json, "encode engine")) {
		check(bus_decode_engine(NULL, json, strlen(json), &again, err, sizeof(err)) == 0,
		      "decode own engine");
		check(memcmp(&again, &copy, sizeof(again)) == 0, "engine round trip");
	}
	free(json);
}

static void round_trip_event(const struct bus_event *in)
{
	struct bus_event again;
	char *json = NULL, err[ERRLEN];

	if (encoded(bus_encode_event(in, &json, err, sizeof(err)), json, "encode event")) {
		check(bus_decode_event(NULL, json, strlen(json), &again, err, sizeof(err)) == 0,
		      "decode own event");
		check(memcmp(&again, in, sizeof(again)) == 0, "event round trip");
	}
	free(json);
}

static void round_trip_decision(const struct bus_decision *in)
{
	struct bus_decision again;
	char *json = NULL, err[ERRLEN];

	if (encoded(bus_encode_decision(in, &json, err, sizeof(err)), json, "encode decision")) {
		check(bus_decode_decision(NULL, json, strlen(json), &again, err, sizeof(err)) == 0,
		      "decode own decision");
		check(memcmp(&again, in, sizeof(again)) == 0, "decision round trip");
	}
	free(json);
}

static void round_trip_alarm(const struct bus_alarm *in)
{
	struct bus_alarm again;
	char *json = NULL, err[ERRLEN];

	if (encoded(bus_encode_alarm(in, &json, err, sizeof(err)), json, "encode alarm")) {
		check(bus_decode_alarm(NULL, json, strlen(json), &again, err, sizeof(err)) == 0,
		      "decode own alarm");
		check(memcmp(&again, in, sizeof(again)) == 0, "alarm round trip");
	}
	free(json);
}

static void fuzz_trace(const uint8_t *data, size_t len)
{
	struct bus_trace_rec rec = {0}, again = {0};
	char err[ERRLEN], *line = NULL;
	size_t line_len;

	if (bus_trace_parse(&rec, (const char *)data, len, err, sizeof(err)) == 0 &&
	    bus_trace_format(rec.tst_us, rec.topic, rec.qos, rec.retain, rec.payload,
			     rec.payload_len, &line, &line_len) == 0) {
		check(bus_trace_parse(&again, line, line_len, err, sizeof(err)) == 0,
		      "parse own trace line");
		check(again.tst_us == rec.tst_us && again.qos == rec.qos &&
			  again.retain == rec.retain && again.topic_len == rec.topic_len &&
			  memcmp(again.topic, rec.topic, rec.topic_len) == 0 &&
			  again.payload_len == rec.payload_len &&
			  memcmp(again.payload, rec.payload, rec.payload_len) == 0,
		      "trace line round trip");
	}
	free(line);
	bus_trace_rec_free(&rec);
	bus_trace_rec_free(&again);
}

static const char *const any_topics[] = {
    "onvm/hosts/h1/state",   "onvm/hosts/h1/services",	"onvm/hosts/h1/stats",
    "onvm/hosts/h1/cmd",     "onvm/hosts/h1/events",	"onvm/policy/decisions",
    "onvm/policy/engines/e", "onvm/hosts/h1/elsewhere", "onvm/hosts/h1/alarms",
};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	union {
		struct bus_state state;
		struct bus_cmd cmd;
		struct bus_event event;
		struct bus_decision decision;
		struct bus_engine engine;
		struct bus_alarm alarm;
	} u;
	struct bus_services services = {0};
	struct bus_stats stats = {0};
	struct bus_msg msg = BUS_MSG_INIT;
	const char *host;
	char err[ERRLEN];
	uint8_t sel;
	int ret = 1; /* neither accepted nor rejected: no checks below */

	if (size < 1)
		return 0;
	sel = data[0];
	host = (sel & 0x10) ? "h1" : NULL;
	data++;
	size--;

	switch (sel & 0x0f) {
	case 0:
		ret = bus_decode_state(host, data, size, &u.state, err, sizeof(err));
		if (ret == 0)
			round_trip_state(&u.state);
		break;
	case 1:
		ret = bus_decode_services(host, data, size, &services, err, sizeof(err));
		if (ret == 0)
			round_trip_services(&services);
		/* Decode again into the used struct: its array is reused. */
		bus_decode_services(host, data, size, &services, err, sizeof(err));
		break;
	case 2:
		ret = bus_decode_stats(host, data, size, &stats, err, sizeof(err));
		if (ret == 0)
			round_trip_stats(&stats);
		bus_decode_stats(host, data, size, &stats, err, sizeof(err));
		break;
	case 3:
		ret = bus_decode_cmd(host, data, size, &u.cmd, err, sizeof(err));
		if (ret == 0)
			round_trip_cmd(&u.cmd);
		break;
	case 4:
		ret = bus_decode_event(host, data, size, &u.event, err, sizeof(err));
		if (ret == 0)
			round_trip_event(&u.event);
		break;
	case 5:
		ret = bus_decode_decision(host, data, size, &u.decision, err, sizeof(err));
		if (ret == 0)
			round_trip_decision(&u.decision);
		break;
	case 6:
		ret = bus_decode_engine(host, data, size, &u.engine, err, sizeof(err));
		if (ret == 0)
			round_trip_engine(&u.engine);
		break;
	case 7:
		/* Every topic in turn through one reused message. */
		for (size_t i = 0; i < sizeof(any_topics) / sizeof(any_topics[0]); i++) {
			int r =
			    bus_decode_any(any_topics[(i + (sel >> 4)) %
						      (sizeof(any_topics) / sizeof(any_topics[0]))],
					   data, size, &msg, err, sizeof(err));

			check(r >= 0 || err[0] != '\0', "rejection without a reason");
		}
		break;
	case 8:
		ret = bus_decode_alarm(host, data, size, &u.alarm, err, sizeof(err));
		if (ret == 0)
			round_trip_alarm(&u.alarm);
		break;
	default:
		fuzz_trace(data, size);
		break;
	}
	if (ret < 0)
		check(err[0] != '\0', "rejection without a reason");
	if (ret == 0 && size > 0)
		check_json(data, size);
	bus_services_free(&services);
	bus_stats_free(&stats);
	bus_msg_free(&msg);
	return 0;
}
