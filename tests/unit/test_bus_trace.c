/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * test_bus_trace.c - unit tests of bus/trace.c: lines from the sample
 * traces and from a real mosquitto_sub, the writer's byte-exact format,
 * timestamps, malformed lines and reading a file.
 */
#define _GNU_SOURCE /* fmemopen */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "codec.h"
#include "trace.h"

#define ERRLEN 256

/* /work/shared/traces/scale_local.jsonl, lines 1, 5 and 4. */
static const char sample_state[] =
    "{\"tst\":\"2026-11-24T00:26:40.000000Z+0000\",\"topic\":\"onvm/hosts/alpha/state\",\"qos\":1,"
    "\"retain\":1,\"payloadlen\":184,\"payload\":\"{\\\"v\\\":1,\\\"host\\\":\\\"alpha\\\","
    "\\\"status\\\":\\\"online\\\",\\\"epoch\\\":1795476400000,\\\"ts_ms\\\":1795480000000,"
    "\\\"cores\\\":{\\\"total\\\":6,\\\"free\\\":3},\\\"tunnel\\\":{\\\"ip\\\":\\\"10.250.0.1\\\","
    "\\\"mac\\\":\\\"02:00:0a:fa:00:01\\\",\\\"udp_port\\\":4789}}\"}";
static const char sample_stats[] =
    "{\"tst\":\"2026-11-24T00:26:40.500000Z+0000\",\"topic\":\"onvm/hosts/alpha/stats\",\"qos\":0,"
    "\"retain\":0,\"payloadlen\":368,\"payload\":\"{\\\"v\\\":1,\\\"host\\\":\\\"alpha\\\","
    "\\\"ts_ms\\\":1795480000500,\\\"seq\\\":1,\\\"period_ms\\\":500,\\\"ports\\\":[{\\\"port\\\":"
    "0,"
    "\\\"rx_pps\\\":240000,\\\"tx_pps\\\":240000,\\\"drop_pps\\\":0}],\\\"instances\\\":[{"
    "\\\"instance\\\":1,\\\"service\\\":2,\\\"core\\\":1,\\\"rx_pps\\\":120000,\\\"tx_pps\\\":"
    "120000,"
    "\\\"drop_pps\\\":0,\\\"ring_fill\\\":0.03,\\\"busy\\\":0.15},{\\\"instance\\\":2,"
    "\\\"service\\\":5,\\\"core\\\":2,\\\"rx_pps\\\":120000,\\\"tx_pps\\\":120000,"
    "\\\"drop_pps\\\":0,\\\"ring_fill\\\":0.03,\\\"busy\\\":0.15}]}\"}";
static const char sample_services[] =
    "{\"tst\":\"2026-11-24T00:26:40.000000Z+0000\",\"topic\":\"onvm/hosts/beta/services\","
    "\"qos\":1,\"retain\":1,\"payloadlen\":57,\"payload\":\"{\\\"v\\\":1,\\\"host\\\":\\\"beta\\\","
    "\\\"ts_ms\\\":1795480000000,\\\"services\\\":{}}\"}";

/* Printed by mosquitto_sub 2.0.11 -v -F '%j' for odd payloads and topics. */
static const char mosq_ctl[] =
    "{\"tst\":\"2026-11-24T01:46:59.053643Z+0000\",\"topic\":\"onvm/hosts/h1/stats\",\"qos\":0,"
    "\"retain\":0,\"payloadlen\":19,\"payload\":\"ctl\\u0001\\u001f\x7f"
    " end\\\\ \\\"q\\\"\\b\\f\\n\\r\"}";
static const char mosq_not_utf8[] =
    "{\"tst\":\"2026-11-24T01:46:59.067053Z+0000\",\"topic\":\"onvm/hosts/h1/stats\",\"qos\":0,"
    "\"retain\":0,\"payloadlen\":8,\"payload\":\"bad\xff\xfeutf\"}";
static const char mosq_empty[] =
    "{\"tst\":\"2026-11-24T01:46:59.076894Z+0000\",\"topic\":\"onvm/hosts/h1/services\",\"qos\":0,"
    "\"retain\":0,\"payloadlen\":0,\"payload\":null}";
static const char mosq_topic[] =
    "{\"tst\":\"2026-11-24T01:46:59.086348Z+0000\",\"topic\":\"onvm/hosts/h\\\"1\\\\/services\","
    "\"qos\":0,\"retain\":0,\"payloadlen\":1,\"payload\":\"x\"}";

#define T0_US 1795480000000000LL /* 2026-11-24T00:26:40Z */

static void test_sample_lines(void **state)
{
	struct bus_trace_rec rec = {0};
	struct bus_msg msg = BUS_MSG_INIT;
	char err[ERRLEN];

	(void)state;
	assert_int_equal(
	    bus_trace_parse(&rec, sample_state, strlen(sample_state), err, sizeof(err)), 0);
	assert_int_equal(rec.tst_us, T0_US);
	assert_string_equal(rec.topic, "onvm/hosts/alpha/state");
	assert_int_equal(rec.qos, 1);
	assert_true(rec.retain);
	assert_int_equal(rec.payload_len, 184);
	assert_int_equal(rec.declared_len, 184);
	assert_int_equal(
	    bus_decode_any(rec.topic, rec.payload, rec.payload_len, &msg, err, sizeof(err)), 0);
	assert_int_equal(msg.kind, BUS_KIND_STATE);
	assert_int_equal(msg.u.state.cores.free, 3);

	assert_int_equal(
	    bus_trace_parse(&rec, sample_stats, strlen(sample_stats), err, sizeof(err)), 0);
	assert_int_equal(rec.tst_us, T0_US + 500000);
	assert_int_equal(rec.qos, 0);
	assert_false(rec.retain);
	assert_int_equal(rec.payload_len, 368);
	assert_int_equal(
	    bus_decode_any(rec.topic, rec.payload, rec.payload_len, &msg, err, sizeof(err)), 0);
	assert_int_equal(msg.u.stats.n_insts, 2);

	assert_int_equal(
	    bus_trace_parse(&rec, sample_services, strlen(sample_services), err, sizeof(err)), 0);
	assert_string_equal(rec.payload,
			    "{\"v\":1,\"host\":\"beta\",\"ts_ms\":1795480000000,\"services\":{}}");
	assert_int_equal(
	    bus_decode_any(rec.topic, rec.payload, rec.payload_len, &msg, err, sizeof(err)), 0);
	bus_msg_free(&msg);
	bus_trace_rec_free(&rec);
}

/* Parse line, then format it again: must give the same bytes. */
static void expect_same_line(struct bus_trace_rec *rec, const char *line)
{
	char err[ERRLEN], *again;
	size_t len;

	assert_int_equal(bus_trace_parse(rec, line, strlen(line), err, sizeof(err)), 0);
	assert_int_equal(bus_trace_format(rec->tst_us, rec->topic, rec->qos, rec->retain,
					  rec->payload, rec->payload_len, &again, &len),
			 0);
	assert_int_equal(len, strlen(line));
	assert_string_equal(again, line);
	free(again);
}

static void test_mosquitto_lines(void **state)
{
	struct bus_trace_rec rec = {0};

	(void)state;
	expect_same_line(&rec, mosq_ctl);
	assert_int_equal(rec.payload_len, 19);
	assert_memory_equal(rec.payload, "ctl\x01\x1f\x7f end\\ \"q\"\b\f\n\r", 19);
	assert_int_equal(rec.tst_us, T0_US + (80 * 60 + 19) * 1000000LL + 53643);

	expect_same_line(&rec, mosq_not_utf8);
	assert_int_equal(rec.payload_len, 8);
	assert_memory_equal(rec.payload, "bad\xff\xfeutf", 8);

	expect_same_line(&rec, mosq_empty);
	assert_int_equal(rec.payload_len, 0);
	assert_string_equal(rec.payload, "");

	expect_same_line(&rec, mosq_topic);
	assert_string_equal(rec.topic, "onvm/hosts/h\"1\\/services");

	expect_same_line(&rec, sample_state);
	expect_same_line(&rec, sample_stats);
	expect_same_line(&rec, sample_services);
	bus_trace_rec_free(&rec);
}

static void test_extra_fields_and_order(void **state)
{
	/* mosquitto_sub adds "mid" for QoS > 0; order and unknown fields are free. */
	static const char line[] =
	    "{\"payload\":\"\\u00e9\\/\",\"mid\":1,\"x\":{\"y\":[1,\"z\"]},\"retain\":true,"
	    "\"topic\":\"t\",\"tst\":\"2026-11-24T00:26:40Z\"}\r\n";
	struct bus_trace_rec rec = {0};
	char err[ERRLEN];

	(void)state;
	assert_int_equal(bus_trace_parse(&rec, line, strlen(line), err, sizeof(err)), 0);
	assert_int_equal(rec.tst_us, T0_US);
	assert_string_equal(rec.topic, "t");
	assert_true(rec.retain);
	assert_int_equal(rec.qos, 0);
	assert_string_equal(rec.payload, "\xc3\xa9/");
	assert_int_equal(rec.payload_len, 3);
	assert_int_equal(rec.declared_len, 3);
	bus_trace_rec_free(&rec);
}

static void test_tst(void **state)
{
	static const struct {
		const char *text;
		int64_t us;
	} good[] = {
	    {"2026-11-24T00:57:18.123644Z+0000", 1795481838123644LL},
	    {"1970-01-01T00:00:00.000000Z+0000", 0},
	    {"1970-01-01T00:00:00Z", 0},
	    {"2000-02-29T23:59:59.999999Z+0000", 951868799999999LL},
	    {"1969-12-31T23:59:59.5Z+0000", -500000},
	    {"2026-11-24T01:57:18.123644Z+0100", 1795481838123644LL},
	    {"2026-11-23T19:27:18.123644Z-0530", 1795481838123644LL},
	    {"2026-11-24T00:57:18.1236449Z", 1795481838123644LL},
	};
	static const char *const bad[] = {
	    "",
	    "2026-11-24T00:57:18.123644",
	    "2026-11-24 00:57:18.123644Z",
	    "2026-13-24T00:57:18Z",
	    "2026-02-29T00:57:18Z",
	    "2026-11-31T00:57:18Z",
	    "2026-11-24T24:00:00Z",
	    "2026-11-24T00:60:00Z",
	    "2026-11-24T00:00:60Z",
	    "2026-11-24T00:00:00.Z",
	    "2026-11-24T00:00:00Z+000",
	    "2026-11-24T00:00:00Z+0000x",
	    "2026-11-24T00:00:00Z 0000",
	    "2026-11-24T00:00:00.1234567890Z",
	    "26-11-24T00:00:00Z",
	    "2026-1-24T00:00:00Z",
	};
	char buf[BUS_TST_LEN];
	int64_t us;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		assert_int_equal(bus_trace_parse_tst(good[i].text, strlen(good[i].text), &us), 0);
		assert_int_equal(us, good[i].us);
	}
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (bus_trace_parse_tst(bad[i], strlen(bad[i]), &us) != BUS_ERR_FORMAT)
			fail_msg("accepted tst '%s'", bad[i]);

	assert_int_equal(bus_trace_format_tst(buf, sizeof(buf), 1795481838123644LL), 0);
	assert_string_equal(buf, "2026-11-24T00:57:18.123644Z+0000");
	assert_int_equal(bus_trace_format_tst(buf, sizeof(buf), 0), 0);
	assert_string_equal(buf, "1970-01-01T00:00:00.000000Z+0000");
	assert_int_equal(bus_trace_format_tst(buf, sizeof(buf), -500000), 0);
	assert_string_equal(buf, "1969-12-31T23:59:59.500000Z+0000");
	assert_int_equal(bus_trace_format_tst(buf, sizeof(buf), 951868799999999LL), 0);
	assert_string_equal(buf, "2000-02-29T23:59:59.999999Z+0000");
	assert_int_equal(bus_trace_format_tst(buf, sizeof(buf), 253402300800000000LL),
			 BUS_ERR_RANGE); /* year 10000 */
	assert_int_equal(bus_trace_format_tst(buf, sizeof(buf), -62167219200000001LL),
			 BUS_ERR_RANGE); /* before year 0 */
	assert_int_equal(bus_trace_format_tst(buf, 10, 0), BUS_ERR_NOSPC);

	/* Every day of several years survives format -> parse. */
	for (us = -86400LL * 1000000 * 800; us < 86400LL * 1000000 * 22000;
	     us += 86400LL * 1000000 * 3 + 1234567) {
		int64_t back;

		assert_int_equal(bus_trace_format_tst(buf, sizeof(buf), us), 0);
		assert_int_equal(bus_trace_parse_tst(buf, strlen(buf), &back), 0);
		assert_int_equal(back, us);
	}
}

static void test_malformed_lines(void **state)
{
	static const char *const bad[] = {
	    "",
	    "not json",
	    "[]",
	    "{}",
	    "{\"topic\":\"t\",\"payload\":\"p\"}",
	    "{\"tst\":\"2026-11-24T00:26:40Z\",\"payload\":\"p\"}",
	    "{\"tst\":\"2026-11-24T00:26:40Z\",\"topic\":\"t\"}",
	    "{\"tst\":\"yesterday\",\"topic\":\"t\",\"payload\":\"p\"}",
	    "{\"tst\":5,\"topic\":\"t\",\"payload\":\"p\"}",
	    "{\"tst\":\"2026-11-24T00:26:40Z\",\"topic\":\"\",\"payload\":\"p\"}",
	    "{\"tst\":\"2026-11-24T00:26:40Z\",\"topic\":\"t\\u0000\",\"payload\":\"p\"}",
	    "{\"tst\":\"2026-11-24T00:26:40Z\",\"topic\":7,\"payload\":\"p\"}",
	    "{\"tst\":\"2026-11-24T00:26:40Z\",\"topic\":\"t\",\"payload\":5}",
	    "{\"tst\":\"2026-11-24T00:26:40Z\",\"topic\":\"t\",\"payload\":\"p\",\"qos\":3}",
	    "{\"tst\":\"2026-11-24T00:26:40Z\",\"topic\":\"t\",\"payload\":\"p\",\"qos\":1.0}",
	    "{\"tst\":\"2026-11-24T00:26:40Z\",\"topic\":\"t\",\"payload\":\"p\",\"retain\":2}",
	    ("{\"tst\":\"2026-11-24T00:26:40Z\",\"topic\":\"t\",\"payload\":\"p\","
	     "\"payloadlen\":-1}"),
	    "{\"tst\":\"2026-11-24T00:26:40Z\",\"topic\":\"t\",\"payload\":\"p\",\"topic\":\"u\"}",
	    "{\"tst\":\"2026-11-24T00:26:40Z\",\"topic\":\"t\",\"payload\":\"p\"} x",
	    "{\"tst\":\"2026-11-24T00:26:40Z\",\"topic\":\"t\",\"payload\":\"p",
	    "{\"tst\":\"2026-11-24T00:26:40Z\",\"topic\":\"t\",\"payload\":\"a\nb\"}",
	    "{\"tst\":\"2026-11-24T00:26:40Z\",\"topic\":\"t\",\"payload\":\"\\q\"}",
	    "{\"tst\":\"2026-11-24T00:26:40Z\",\"topic\":\"t\",\"payload\":\"p\",\"x\":[}",
	};
	struct bus_trace_rec rec = {0};
	char err[ERRLEN];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		err[0] = '\0';
		if (bus_trace_parse(&rec, bad[i], strlen(bad[i]), err, sizeof(err)) !=
		    BUS_ERR_FORMAT)
			fail_msg("accepted line '%s'", bad[i]);
		assert_true(strlen(err) > 0);
	}
	bus_trace_rec_free(&rec);
}

static void test_writer(void **state)
{
	unsigned char every[256];
	struct bus_trace_rec rec = {0};
	char *line, err[ERRLEN];
	size_t len;
	int i;

	(void)state;
	assert_int_equal(bus_trace_format(T0_US + 123, "onvm/hosts/h2/cmd", 1, false, "{\"v\":1}",
					  7, &line, &len),
			 0);
	assert_string_equal(line, "{\"tst\":\"2026-11-24T00:26:40.000123Z+0000\",\"topic\":"
				  "\"onvm/hosts/h2/cmd\",\"qos\":1,\"retain\":0,\"payloadlen\":7,"
				  "\"payload\":\"{\\\"v\\\":1}\"}");
	assert_int_equal(len, strlen(line));
	free(line);

	/* Every byte value, NUL included (as \u0000), comes back. */
	for (i = 0; i < 256; i++)
		every[i] = (unsigned char)i;
	assert_int_equal(bus_trace_format(T0_US, "t", 2, true, every, sizeof(every), &line, &len),
			 0);
	assert_non_null(strstr(line, "\"payload\":\"\\u0000\\u0001"));
	assert_int_equal(bus_trace_parse(&rec, line, len, err, sizeof(err)), 0);
	assert_int_equal(rec.payload_len, 256);
	assert_memory_equal(rec.payload, every, 256);
	assert_int_equal(rec.qos, 2);
	assert_true(rec.retain);
	free(line);

	assert_int_equal(bus_trace_format(0, NULL, 0, false, "", 0, &line, NULL), BUS_ERR_ARG);
	assert_int_equal(bus_trace_format(0, "t", 3, false, "", 0, &line, NULL), BUS_ERR_ARG);
	assert_int_equal(bus_trace_format(0, "t", 0, false, NULL, 1, &line, NULL), BUS_ERR_ARG);
	assert_null(line);
	assert_int_equal(
	    bus_trace_format(253402300800000000LL, "t", 0, false, NULL, 0, &line, NULL),
	    BUS_ERR_RANGE);
	bus_trace_rec_free(&rec);
}

static void test_read_file(void **state)
{
	char text[4096], err[ERRLEN];
	struct bus_trace_rec rec = {0};
	FILE *f;
	int n;

	(void)state;
	n = snprintf(text, sizeof(text), "%s\n\n  \n%s\nbroken line\n%s", sample_state,
		     mosq_not_utf8, sample_services);
	f = fmemopen(text, (size_t)n, "r");
	assert_non_null(f);
	assert_int_equal(bus_trace_read(f, &rec, err, sizeof(err)), 1);
	assert_string_equal(rec.topic, "onvm/hosts/alpha/state");
	assert_int_equal(rec.lineno, 1);
	assert_int_equal(bus_trace_read(f, &rec, err, sizeof(err)), 1);
	assert_int_equal(rec.lineno, 4);
	assert_int_equal(rec.payload_len, 8);
	assert_int_equal(bus_trace_read(f, &rec, err, sizeof(err)), BUS_ERR_FORMAT);
	assert_int_equal(strncmp(err, "line 5: ", 8), 0);
	assert_int_equal(bus_trace_read(f, &rec, err, sizeof(err)), 1);
	assert_string_equal(rec.topic, "onvm/hosts/beta/services");
	assert_int_equal(bus_trace_read(f, &rec, err, sizeof(err)), 0);
	fclose(f);

	/* Writing then reading a file gives the same records. */
	f = tmpfile();
	assert_non_null(f);
	assert_int_equal(bus_trace_write(f, T0_US, "a/b", 0, false, "x\ny", 3), 0);
	assert_int_equal(bus_trace_write(f, T0_US + 1, "a/c", 1, true, NULL, 0), 0);
	rewind(f);
	assert_int_equal(bus_trace_read(f, &rec, err, sizeof(err)), 1);
	assert_memory_equal(rec.payload, "x\ny", 3);
	assert_int_equal(bus_trace_read(f, &rec, err, sizeof(err)), 1);
	assert_int_equal(rec.tst_us, T0_US + 1);
	assert_int_equal(rec.payload_len, 0);
	assert_int_equal(bus_trace_read(f, &rec, err, sizeof(err)), 0);
	fclose(f);
	bus_trace_rec_free(&rec);
	bus_trace_rec_free(NULL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_sample_lines),
	    cmocka_unit_test(test_mosquitto_lines),
	    cmocka_unit_test(test_extra_fields_and_order),
	    cmocka_unit_test(test_tst),
	    cmocka_unit_test(test_malformed_lines),
	    cmocka_unit_test(test_writer),
	    cmocka_unit_test(test_read_file),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
