/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * test_bus_codec.c - unit tests of bus/codec.c: golden payloads from
 * docs/bus.md and the sample traces, encode/decode round trips, and one
 * rejection test per way a payload can be wrong.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <math.h>

#include <cmocka.h>

#include "codec.h"

#define ERRLEN 256

/* ---- golden payloads: docs/bus.md ---- */
static const char design_state[] =
    "{\"v\":1,\"host\":\"h1\",\"status\":\"online\",\"epoch\":1795480000000,"
    "\"ts_ms\":1795480012000,\"cores\":{\"total\":4,\"free\":2},"
    "\"tunnel\":{\"ip\":\"10.250.0.1\",\"mac\":\"02:00:0a:fa:00:01\",\"udp_port\":4789}}";
static const char design_services[] =
    "{\"v\":1,\"host\":\"h1\",\"ts_ms\":1795480012000,"
    "\"services\":{\"2\":[{\"instance\":1,\"core\":1,\"state\":\"running\"}]}}";
static const char design_stats[] =
    "{\"v\":1,\"host\":\"h1\",\"ts_ms\":1795480012500,\"seq\":25,\"period_ms\":500,"
    "\"ports\":[{\"port\":0,\"rx_pps\":900000,\"tx_pps\":610000,\"drop_pps\":0}],"
    "\"instances\":[{\"instance\":1,\"service\":2,\"core\":1,\"rx_pps\":900000,"
    "\"tx_pps\":610000,\"drop_pps\":290000,\"ring_fill\":0.98,\"busy\":1.0}]}";
static const char design_cmd[] =
    "{\"v\":1,\"id\":\"pe-a-17\",\"engine\":\"pe-a\",\"op\":\"spawn\",\"service\":2,\"count\":1,"
    "\"origin\":\"h1\",\"reason\":\"service 2 overloaded on h1; h1 has no free core\"}";
static const char design_event[] =
    "{\"v\":1,\"host\":\"h2\",\"ts_ms\":1795480013100,\"cmd_id\":\"pe-a-17\",\"event\":\"spawned\","
    "\"service\":2,\"instance\":3,\"core\":2}";
static const char design_decision[] =
    "{\"v\":1,\"engine\":\"pe-a\",\"ts_ms\":1795480013000,\"service\":2,\"origin\":\"h1\","
    "\"target\":\"h2\",\"cmd_id\":\"pe-a-17\",\"reason\":\"...\",\"shadow\":false}";

/* ---- golden payloads: /work/shared/traces (copied) ---- */
static const char trace_services_alpha[] =
    "{\"v\":1,\"host\":\"alpha\",\"ts_ms\":1795480009000,\"services\":{\"2\":[{\"instance\":1,"
    "\"core\":1,\"state\":\"running\"},{\"instance\":3,\"core\":2,\"state\":\"running\"}],"
    "\"5\":[{\"instance\":2,\"core\":3,\"state\":\"running\"}]}}";
static const char trace_services_beta[] =
    "{\"v\":1,\"host\":\"beta\",\"ts_ms\":1795480000000,\"services\":{}}";
static const char trace_stats_alpha[] =
    "{\"v\":1,\"host\":\"alpha\",\"ts_ms\":1795480000500,\"seq\":1,\"period_ms\":500,\"ports\":[{"
    "\"port\":0,\"rx_pps\":240000,\"tx_pps\":240000,\"drop_pps\":0}],\"instances\":[{\"instance\":"
    "1,\"service\":2,\"core\":1,\"rx_pps\":120000,\"tx_pps\":120000,\"drop_pps\":0,\"ring_fill\":"
    "0.03,\"busy\":0.15},{\"instance\":2,\"service\":5,\"core\":2,\"rx_pps\":120000,\"tx_pps\":"
    "120000,\"drop_pps\":0,\"ring_fill\":0.03,\"busy\":0.15}]}";
static const char trace_stats_beta[] =
    "{\"v\":1,\"host\":\"beta\",\"ts_ms\":1795480000500,\"seq\":1,\"period_ms\":500,\"ports\":[{"
    "\"port\":0,\"rx_pps\":0,\"tx_pps\":0,\"drop_pps\":0}],\"instances\":[]}";

static int decode_any_str(const char *topic, const char *payload, struct bus_msg *msg, char *err)
{
	return bus_decode_any(topic, payload, strlen(payload), msg, err, ERRLEN);
}

static void test_golden_state(void **state)
{
	struct bus_state st;
	char err[ERRLEN];

	(void)state;
	assert_int_equal(
	    bus_decode_state("h1", design_state, strlen(design_state), &st, err, sizeof(err)), 0);
	assert_string_equal(st.host, "h1");
	assert_int_equal(st.status, BUS_STATUS_ONLINE);
	assert_true(st.has_epoch && st.has_ts_ms && st.has_cores && st.has_tunnel);
	assert_false(st.has_numa);
	assert_int_equal(st.epoch_ms, 1795480000000ull);
	assert_int_equal(st.ts_ms, 1795480012000ull);
	assert_int_equal(st.cores.total, 4);
	assert_int_equal(st.cores.free, 2);
	assert_memory_equal(st.tunnel.ip, ((uint8_t[]){10, 250, 0, 1}), 4);
	assert_memory_equal(st.tunnel.mac, ((uint8_t[]){0x02, 0x00, 0x0a, 0xfa, 0x00, 0x01}), 6);
	assert_int_equal(st.tunnel.udp_port, 4789);
}

static void test_golden_state_forms(void **state)
{
	static const char lwt[] = "{\"v\":1,\"host\":\"h1\",\"status\":\"offline\"}";
	static const char lwt_ts[] = "{\"status\":\"offline\",\"ts_ms\":5,\"host\":\"h1\",\"v\":1}";
	static const char numa[] =
	    "{\"v\":1,\"host\":\"h1\",\"status\":\"online\",\"epoch\":1,\"ts_ms\":2,"
	    "\"cores\":{\"total\":8,\"free\":8},\"numa\":{\"nodes\":2,\"extra\":[1]},"
	    "\"tunnel\":{\"ip\":\"255.0.0.9\",\"mac\":\"AA:bb:CC:dd:EE:ff\",\"udp_port\":65535}}";
	struct bus_state st;
	char err[ERRLEN];

	(void)state;
	assert_int_equal(bus_decode_state("h1", lwt, strlen(lwt), &st, err, sizeof(err)), 0);
	assert_int_equal(st.status, BUS_STATUS_OFFLINE);
	assert_false(st.has_ts_ms || st.has_epoch || st.has_cores || st.has_tunnel);
	assert_int_equal(bus_decode_state("h1", lwt_ts, strlen(lwt_ts), &st, err, sizeof(err)), 0);
	assert_true(st.has_ts_ms);
	assert_int_equal(st.ts_ms, 5);
	assert_int_equal(bus_decode_state(NULL, numa, strlen(numa), &st, err, sizeof(err)), 0);
	assert_true(st.has_numa);
	assert_int_equal(st.numa.nodes, 2);
	assert_memory_equal(st.tunnel.ip, ((uint8_t[]){255, 0, 0, 9}), 4);
	assert_memory_equal(st.tunnel.mac, ((uint8_t[]){0xaa, 0xbb, 0xcc, 0xdd, 0xee, 0xff}), 6);
}

static void test_golden_services(void **state)
{
	struct bus_services sv = {0};
	char err[ERRLEN];

	(void)state;
	assert_int_equal(bus_decode_services("h1", design_services, strlen(design_services), &sv,
					     err, sizeof(err)),
			 0);
	assert_false(sv.cleared);
	assert_int_equal(sv.ts_ms, 1795480012000ull);
	assert_int_equal(sv.n_insts, 1);
	assert_int_equal(sv.insts[0].service, 2);
	assert_int_equal(sv.insts[0].instance, 1);
	assert_int_equal(sv.insts[0].core, 1);
	assert_int_equal(sv.insts[0].state, BUS_INST_RUNNING);

	/* Reuses the array; sorted by (service, instance). */
	assert_int_equal(bus_decode_services("alpha", trace_services_alpha,
					     strlen(trace_services_alpha), &sv, err, sizeof(err)),
			 0);
	assert_int_equal(sv.n_insts, 3);
	assert_int_equal(sv.insts[0].service, 2);
	assert_int_equal(sv.insts[0].instance, 1);
	assert_int_equal(sv.insts[1].service, 2);
	assert_int_equal(sv.insts[1].instance, 3);
	assert_int_equal(sv.insts[1].core, 2);
	assert_int_equal(sv.insts[2].service, 5);
	assert_int_equal(sv.insts[2].instance, 2);
	assert_int_equal(sv.insts[2].core, 3);

	assert_int_equal(bus_decode_services("beta", trace_services_beta,
					     strlen(trace_services_beta), &sv, err, sizeof(err)),
			 0);
	assert_int_equal(sv.n_insts, 0);
	bus_services_free(&sv);
}

static void test_services_cleared(void **state)
{
	uint64_t rejected = bus_reject_count(BUS_KIND_SERVICES);
	struct bus_msg msg = BUS_MSG_INIT;
	char err[ERRLEN];

	(void)state;
	assert_int_equal(bus_decode_any("onvm/hosts/h1/services", "", 0, &msg, err, sizeof(err)),
			 BUS_DECODE_CLEARED);
	assert_int_equal(msg.kind, BUS_KIND_SERVICES);
	assert_true(msg.u.services.cleared);
	assert_string_equal(msg.u.services.host, "h1");
	assert_int_equal(msg.u.services.n_insts, 0);
	assert_int_equal(bus_reject_count(BUS_KIND_SERVICES), rejected);
	/* NULL payload with zero length is the same. */
	assert_int_equal(bus_decode_any("onvm/hosts/h1/services", NULL, 0, &msg, err, sizeof(err)),
			 BUS_DECODE_CLEARED);
	bus_msg_free(&msg);
}

static void test_golden_stats(void **state)
{
	struct bus_stats st = {0};
	struct bus_inst_stats *ins;
	char err[ERRLEN];

	(void)state;
	assert_int_equal(
	    bus_decode_stats("h1", design_stats, strlen(design_stats), &st, err, sizeof(err)), 0);
	assert_int_equal(st.seq, 25);
	assert_int_equal(st.period_ms, 500);
	assert_int_equal(st.n_ports, 1);
	assert_int_equal(st.ports[0].port, 0);
	assert_true(st.ports[0].rx_pps == 900000.0);
	assert_true(st.ports[0].tx_pps == 610000.0);
	assert_int_equal(st.n_insts, 1);
	ins = &st.insts[0];
	assert_int_equal(ins->instance, 1);
	assert_int_equal(ins->service, 2);
	assert_int_equal(ins->core, 1);
	assert_true(ins->drop_pps == 290000.0);
	assert_true(ins->ring_fill == 0.98);
	assert_true(ins->busy == 1.0);

	assert_int_equal(bus_decode_stats("alpha", trace_stats_alpha, strlen(trace_stats_alpha),
					  &st, err, sizeof(err)),
			 0);
	assert_int_equal(st.n_insts, 2);
	assert_int_equal(st.insts[1].service, 5);
	assert_true(st.insts[1].ring_fill == 0.03);
	assert_true(st.insts[1].busy == 0.15);
	assert_int_equal(bus_decode_stats("beta", trace_stats_beta, strlen(trace_stats_beta), &st,
					  err, sizeof(err)),
			 0);
	assert_int_equal(st.n_insts, 0);
	assert_int_equal(st.n_ports, 1);
	bus_stats_free(&st);
}

static void test_golden_cmd_event_decision(void **state)
{
	static const char stop[] =
	    "{\"v\":1,\"id\":\"x:1\",\"engine\":\"pe-b\",\"op\":\"stop\","
	    "\"service\":7,\"instance\":9,\"reason\":\"\",\"expires_ms\":99}";
	static const char no_target[] =
	    "{\"v\":1,\"engine\":\"pe-a\",\"ts_ms\":1,\"service\":2,\"origin\":\"h1\","
	    "\"target\":null,\"reason\":\"no capacity\",\"shadow\":true}";
	struct bus_decision dec;
	struct bus_event ev;
	struct bus_cmd cmd;
	char err[ERRLEN];

	(void)state;
	assert_int_equal(
	    bus_decode_cmd("h2", design_cmd, strlen(design_cmd), &cmd, err, sizeof(err)), 0);
	assert_string_equal(cmd.target, "h2");
	assert_string_equal(cmd.id, "pe-a-17");
	assert_string_equal(cmd.engine, "pe-a");
	assert_int_equal(cmd.op, BUS_OP_SPAWN);
	assert_int_equal(cmd.service, 2);
	assert_int_equal(cmd.count, 1);
	assert_true(cmd.has_origin);
	assert_string_equal(cmd.origin, "h1");
	assert_false(cmd.has_expires);
	assert_string_equal(cmd.reason, "service 2 overloaded on h1; h1 has no free core");

	assert_int_equal(bus_decode_cmd(NULL, stop, strlen(stop), &cmd, err, sizeof(err)), 0);
	assert_int_equal(cmd.op, BUS_OP_STOP);
	assert_int_equal(cmd.instance, 9);
	assert_true(cmd.has_expires);
	assert_int_equal(cmd.expires_ms, 99);
	assert_string_equal(cmd.target, "");

	assert_int_equal(
	    bus_decode_event("h2", design_event, strlen(design_event), &ev, err, sizeof(err)), 0);
	assert_int_equal(ev.event, BUS_EV_SPAWNED);
	assert_true(ev.has_cmd_id && ev.has_instance && ev.has_core);
	assert_false(ev.has_error);
	assert_string_equal(ev.cmd_id, "pe-a-17");
	assert_int_equal(ev.instance, 3);
	assert_int_equal(ev.core, 2);
	assert_int_equal(ev.ts_ms, 1795480013100ull);

	assert_int_equal(bus_decode_decision(NULL, design_decision, strlen(design_decision), &dec,
					     err, sizeof(err)),
			 0);
	assert_string_equal(dec.engine, "pe-a");
	assert_true(dec.has_target);
	assert_string_equal(dec.target, "h2");
	assert_string_equal(dec.origin, "h1");
	assert_true(dec.has_cmd_id);
	assert_false(dec.shadow);
	assert_int_equal(
	    bus_decode_decision(NULL, no_target, strlen(no_target), &dec, err, sizeof(err)), 0);
	assert_false(dec.has_target);
	assert_false(dec.has_cmd_id);
	assert_true(dec.shadow);
}

static void test_golden_engine(void **state)
{
	static const char online[] =
	    "{\"v\":1,\"status\":\"online\",\"name\":\"local first\",\"started_ms\":17}";
	static const char versioned[] = "{\"v\":1,\"status\":\"online\",\"name\":\"x\","
					"\"started_ms\":1,\"version\":\"0.9.0\"}";
	static const char bad_version[] = "{\"v\":1,\"status\":\"online\",\"name\":\"x\","
					  "\"started_ms\":1,\"version\":\"\"}";
	static const char lwt[] = "{\"v\":1,\"status\":\"offline\"}";
	struct bus_msg msg = BUS_MSG_INIT;
	char err[ERRLEN];

	(void)state;
	assert_int_equal(decode_any_str("onvm/policy/engines/pe-a", online, &msg, err), 0);
	assert_int_equal(msg.kind, BUS_KIND_ENGINE);
	assert_string_equal(msg.u.engine.id, "pe-a");
	assert_int_equal(msg.u.engine.status, BUS_STATUS_ONLINE);
	assert_string_equal(msg.u.engine.name, "local first");
	assert_int_equal(msg.u.engine.started_ms, 17);
	assert_false(msg.u.engine.has_version);
	assert_int_equal(decode_any_str("onvm/policy/engines/pe-a", versioned, &msg, err), 0);
	assert_true(msg.u.engine.has_version);
	assert_string_equal(msg.u.engine.version, "0.9.0");
	assert_true(decode_any_str("onvm/policy/engines/pe-a", bad_version, &msg, err) < 0);
	assert_int_equal(decode_any_str("onvm/policy/engines/pe-a", lwt, &msg, err), 0);
	assert_int_equal(msg.u.engine.status, BUS_STATUS_OFFLINE);
	assert_false(msg.u.engine.has_name);
	bus_msg_free(&msg);
}

static void test_golden_alarm(void **state)
{
	static const char design[] =
	    "{\"v\":1,\"host\":\"h1\",\"ts_ms\":1795480012990,\"service\":2,\"instance\":1,"
	    "\"drop_pps\":9000,\"ring_fill\":1.0,\"since_ms\":1795480012970}";
	static const char no_instance[] =
	    "{\"v\":1,\"host\":\"h1\",\"ts_ms\":1,\"service\":2,\"drop_pps\":9000,"
	    "\"ring_fill\":1.0,\"since_ms\":1}";
	static const char full[] =
	    "{\"v\":1,\"host\":\"h1\",\"ts_ms\":1,\"service\":2,\"instance\":1,"
	    "\"drop_pps\":9000,\"ring_fill\":1.5,\"since_ms\":1}";
	struct bus_msg msg = BUS_MSG_INIT;
	struct bus_alarm again;
	char err[ERRLEN], *json;

	(void)state;
	assert_int_equal(decode_any_str("onvm/hosts/h1/alarms", design, &msg, err), 0);
	assert_int_equal(msg.kind, BUS_KIND_ALARMS);
	assert_string_equal(msg.u.alarm.host, "h1");
	assert_int_equal(msg.u.alarm.service, 2);
	assert_int_equal(msg.u.alarm.instance, 1);
	assert_true(msg.u.alarm.drop_pps == 9000);
	assert_true(msg.u.alarm.ring_fill == 1.0);
	assert_int_equal(msg.u.alarm.since_ms, 1795480012970ull);
	assert_int_equal(bus_encode_alarm(&msg.u.alarm, &json, err, sizeof(err)), 0);
	assert_int_equal(bus_decode_alarm("h1", json, strlen(json), &again, err, sizeof(err)), 0);
	assert_memory_equal(&again, &msg.u.alarm, sizeof(again));
	free(json);
	/* Another host's topic, a missing instance, a fill beyond 1: rejected. */
	assert_int_equal(decode_any_str("onvm/hosts/h2/alarms", design, &msg, err), BUS_ERR_HOST);
	assert_int_equal(decode_any_str("onvm/hosts/h1/alarms", no_instance, &msg, err),
			 BUS_ERR_MISSING);
	assert_int_equal(decode_any_str("onvm/hosts/h1/alarms", full, &msg, err), BUS_ERR_RANGE);
	bus_msg_free(&msg);
}

static void test_lenient_parts(void **state)
{
	/* Unknown fields (any type, nested) are ignored; field order is free;
	 * reals accept JSON integers and exponents; whitespace is free. */
	static const char stats[] =
	    " {\"instances\":[{\"busy\":1,\"ring_fill\":0,\"drop_pps\":1e3,\"tx_pps\":0.5,"
	    "\"rx_pps\":2E+2,\"core\":0,\"service\":65535,\"instance\":4294967295,\"x\":{\"y\":[]}}"
	    "],"
	    "\"ports\":[],\"future\":{\"a\":[1,2,{\"b\":null}],\"c\":\"\\u00e9\\ud83d\\ude00\"},"
	    "\"period_ms\":10,\"seq\":0,\"ts_ms\":0,\"host\":\"h1\",\"v\":1,\"w\":-1.5e-3}\n";
	struct bus_stats st = {0};
	char err[ERRLEN];

	(void)state;
	assert_int_equal(bus_decode_stats("h1", stats, strlen(stats), &st, err, sizeof(err)), 0);
	assert_int_equal(st.n_insts, 1);
	assert_int_equal(st.insts[0].instance, 4294967295u);
	assert_int_equal(st.insts[0].service, 65535);
	assert_true(st.insts[0].drop_pps == 1000.0);
	assert_true(st.insts[0].rx_pps == 200.0);
	assert_true(st.insts[0].tx_pps == 0.5);
	assert_true(st.insts[0].busy == 1.0);
	bus_stats_free(&st);
}

/* ---- rejections ---- */

struct bad_case {
	const char *topic;
	const char *payload;
	int err;
};

#define STATE	  "onvm/hosts/h1/state"
#define SERVICES  "onvm/hosts/h1/services"
#define STATS	  "onvm/hosts/h1/stats"
#define CMD	  "onvm/hosts/h1/cmd"
#define EVENTS	  "onvm/hosts/h1/events"
#define DECISIONS "onvm/policy/decisions"
#define ENGINE	  "onvm/policy/engines/pe-a"

#define ST_HEAD "{\"v\":1,\"host\":\"h1\",\"status\":\"online\",\"epoch\":1,\"ts_ms\":2,"
#define CORES	"\"cores\":{\"total\":4,\"free\":2}"
#define TUN(ip, mac, port)                                                                         \
	",\"tunnel\":{\"ip\":\"" ip "\",\"mac\":\"" mac "\",\"udp_port\":" port "}}"
#define STATS_HEAD "{\"v\":1,\"host\":\"h1\",\"ts_ms\":1,\"seq\":1,\"period_ms\":500,"
#define PORT0	   "\"ports\":[{\"port\":0,\"rx_pps\":1,\"tx_pps\":1,\"drop_pps\":0}]"
#define INST_BASE                                                                                  \
	"\"instances\":[{\"instance\":1,\"service\":2,\"core\":1,\"rx_pps\":1,\"tx_pps\":1,"       \
	"\"drop_pps\":0,\"ring_fill\":0.5,\"busy\":0.5}]}"
#define SV_HEAD	 "{\"v\":1,\"host\":\"h1\",\"ts_ms\":1,\"services\":"
#define CMD_HEAD "{\"v\":1,\"id\":\"c1\",\"engine\":\"pe-a\",\"reason\":\"r\","
#define EV_HEAD	 "{\"v\":1,\"host\":\"h1\",\"ts_ms\":1,\"service\":2,"
#define DEC_HEAD                                                                                   \
	"{\"v\":1,\"engine\":\"pe-a\",\"ts_ms\":1,\"service\":2,\"origin\":\"h1\",\"reason\":"     \
	"\"r\","

static const struct bad_case bad_cases[] = {
    /* not JSON */
    {STATE, "{", BUS_ERR_JSON},
    {STATE, "nope", BUS_ERR_JSON},
    {STATE, "{\"v\":1,}", BUS_ERR_JSON},
    {STATE, "{\"v\":1 \"host\":\"h1\"}", BUS_ERR_JSON},
    {STATE, "{\"v\":01}", BUS_ERR_JSON},
    {STATE, "{\"v\":1}}", BUS_ERR_JSON},
    {STATE, "{\"v\":1} x", BUS_ERR_JSON},
    {STATE, "{\"v\":1,\"host\":\"h\x01\"}", BUS_ERR_JSON},
    {STATE, "{\"v\":1,\"host\":\"\xff\"}", BUS_ERR_JSON},
    {STATE, "{\"v\":1,\"host\":\"\xc0\xaf\"}", BUS_ERR_JSON},
    {STATE, "{\"v\":1,\"host\":\"h\\u0000\"}", BUS_ERR_JSON},
    {STATE, "{\"v\":1,\"host\":\"\\ud800\"}", BUS_ERR_JSON},
    {STATE, "{\"v\":1,\"host\":\"\\x\"}", BUS_ERR_JSON},
    {STATE, "{\"v\":1,\"x\":1e999}", BUS_ERR_JSON},
    {STATE, "{\"v\":1,\"x\":99999999999999999999}", BUS_ERR_JSON},
    {STATE, "{\"v\":1,\"x\":tru}", BUS_ERR_JSON},
    {STATE, "{\"v\":1,\"x\":-}", BUS_ERR_JSON},
    {STATE, "{\"v\":1,\"x\":1.}", BUS_ERR_JSON},
    {STATE,
     "{\"v\":1,\"x\":[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[1]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]}",
     BUS_ERR_JSON},
    {STATE, "{\"v\":1,\"v\":1,\"host\":\"h1\",\"status\":\"offline\"}", BUS_ERR_JSON},
    {STATE, "{\"host\":\"h1\",\"status\":\"bogus\",\"v\":1,\"x\":[}", BUS_ERR_JSON},
    /* not an object */
    {STATE, "[]", BUS_ERR_NOTOBJ},
    {STATE, "3", BUS_ERR_NOTOBJ},
    {STATE, "\"state\"", BUS_ERR_NOTOBJ},
    {STATE, " null ", BUS_ERR_NOTOBJ},
    /* version */
    {STATE, "{\"host\":\"h1\",\"status\":\"offline\"}", BUS_ERR_VERSION},
    {STATE, "{\"v\":2,\"host\":\"h1\",\"status\":\"offline\"}", BUS_ERR_VERSION},
    {STATE, "{\"v\":\"1\",\"host\":\"h1\",\"status\":\"offline\"}", BUS_ERR_VERSION},
    {STATE, "{\"v\":1.0,\"host\":\"h1\",\"status\":\"offline\"}", BUS_ERR_VERSION},
    {STATE, "{\"host\":5,\"status\":\"offline\",\"v\":2}", BUS_ERR_VERSION},
    {STATE, "{\"host\":5,\"status\":\"offline\"}", BUS_ERR_VERSION},
    /* missing fields */
    {STATE, "{\"v\":1,\"status\":\"offline\"}", BUS_ERR_MISSING},
    {STATE, "{\"v\":1,\"host\":\"h1\"}", BUS_ERR_MISSING},
    {STATE, ST_HEAD "\"numa\":{\"nodes\":1}}", BUS_ERR_MISSING},
    {STATE, "{\"v\":1,\"host\":\"h1\",\"status\":\"online\",\"ts_ms\":2," CORES "}",
     BUS_ERR_MISSING},
    {STATE, ST_HEAD "\"cores\":{\"total\":4}}", BUS_ERR_MISSING},
    {STATE, ST_HEAD CORES ",\"tunnel\":{\"ip\":\"1.2.3.4\",\"udp_port\":1}}", BUS_ERR_MISSING},
    {STATS, STATS_HEAD PORT0 "}", BUS_ERR_MISSING},
    {STATS, "{\"v\":1,\"host\":\"h1\",\"ts_ms\":1,\"period_ms\":500," PORT0 ",\"instances\":[]}",
     BUS_ERR_MISSING},
    {STATS, STATS_HEAD "\"ports\":[{\"port\":0,\"rx_pps\":1,\"tx_pps\":1}],\"instances\":[]}",
     BUS_ERR_MISSING},
    {SERVICES, "{\"v\":1,\"host\":\"h1\",\"ts_ms\":1}", BUS_ERR_MISSING},
    {SERVICES, SV_HEAD "{\"2\":[{\"instance\":1,\"core\":1}]}}", BUS_ERR_MISSING},
    {CMD, CMD_HEAD "\"op\":\"spawn\",\"service\":2}", BUS_ERR_MISSING},
    {CMD, CMD_HEAD "\"op\":\"stop\",\"service\":2,\"count\":1}", BUS_ERR_MISSING},
    {CMD, "{\"v\":1,\"id\":\"c1\",\"engine\":\"pe-a\",\"op\":\"spawn\",\"service\":2,\"count\":1}",
     BUS_ERR_MISSING},
    {EVENTS, "{\"v\":1,\"host\":\"h1\",\"ts_ms\":1,\"service\":2}", BUS_ERR_MISSING},
    {DECISIONS, DEC_HEAD "\"target\":null}", BUS_ERR_MISSING},
    {DECISIONS, DEC_HEAD "\"shadow\":true}", BUS_ERR_MISSING},
    {ENGINE, "{\"v\":1,\"status\":\"online\",\"started_ms\":1}", BUS_ERR_MISSING},
    {ENGINE, "{\"v\":1,\"name\":\"x\"}", BUS_ERR_MISSING},
    /* mistyped fields */
    {STATE, "{\"v\":1,\"host\":5,\"status\":\"offline\"}", BUS_ERR_TYPE},
    {STATE, "{\"v\":1,\"host\":\"h1\",\"status\":true}", BUS_ERR_TYPE},
    {STATE, ST_HEAD "\"cores\":[4,2]}", BUS_ERR_TYPE},
    {STATE, ST_HEAD "\"cores\":{\"total\":\"4\",\"free\":2}}", BUS_ERR_TYPE},
    {STATE, "{\"v\":1,\"host\":\"h1\",\"status\":\"offline\",\"ts_ms\":\"2\"}", BUS_ERR_TYPE},
    {STATE, "{\"v\":1,\"host\":\"h1\",\"status\":\"offline\",\"ts_ms\":null}", BUS_ERR_TYPE},
    {STATS, STATS_HEAD "\"ports\":{},\"instances\":[]}", BUS_ERR_TYPE},
    {STATS, STATS_HEAD PORT0 ",\"instances\":[1]}", BUS_ERR_TYPE},
    {STATS,
     "{\"v\":1,\"host\":\"h1\",\"ts_ms\":1,\"seq\":1e3,\"period_ms\":500," PORT0
     ",\"instances\":[]}",
     BUS_ERR_TYPE},
    {SERVICES, SV_HEAD "[]}", BUS_ERR_TYPE},
    {SERVICES, SV_HEAD "{\"2\":{}}}", BUS_ERR_TYPE},
    {SERVICES, SV_HEAD "{\"2\":[{\"instance\":1.5,\"core\":1,\"state\":\"running\"}]}}",
     BUS_ERR_TYPE},
    {DECISIONS, DEC_HEAD "\"target\":\"h2\",\"shadow\":\"false\"}", BUS_ERR_TYPE},
    {DECISIONS, DEC_HEAD "\"target\":7,\"shadow\":false}", BUS_ERR_TYPE},
    {CMD, CMD_HEAD "\"op\":\"spawn\",\"service\":\"2\",\"count\":1}", BUS_ERR_TYPE},
    /* out of range */
    {STATE, ST_HEAD "\"cores\":{\"total\":4,\"free\":5}}", BUS_ERR_RANGE},
    {STATE, ST_HEAD "\"cores\":{\"total\":-1,\"free\":0}}", BUS_ERR_RANGE},
    /* a host's claims past any machine: cores, and stats periods */
    {STATE, ST_HEAD "\"cores\":{\"total\":4097,\"free\":0}}", BUS_ERR_RANGE},
    {STATE, ST_HEAD "\"cores\":{\"total\":65535,\"free\":65535}}", BUS_ERR_RANGE},
    {STATS,
     "{\"v\":1,\"host\":\"h1\",\"ts_ms\":1,\"seq\":1,\"period_ms\":9," PORT0 ",\"instances\":[]}",
     BUS_ERR_RANGE},
    {STATS,
     "{\"v\":1,\"host\":\"h1\",\"ts_ms\":1,\"seq\":1,\"period_ms\":600001," PORT0
     ",\"instances\":[]}",
     BUS_ERR_RANGE},
    {STATE, ST_HEAD CORES ",\"numa\":{\"nodes\":0}}", BUS_ERR_RANGE},
    {STATE, ST_HEAD CORES TUN("1.2.3.4", "02:00:0a:fa:00:01", "0"), BUS_ERR_RANGE},
    {STATE, ST_HEAD CORES TUN("1.2.3.4", "02:00:0a:fa:00:01", "65536"), BUS_ERR_RANGE},
    {STATE, "{\"v\":1,\"host\":\"h1\",\"status\":\"offline\",\"ts_ms\":-1}", BUS_ERR_RANGE},
    {STATS,
     "{\"v\":1,\"host\":\"h1\",\"ts_ms\":1,\"seq\":1,\"period_ms\":0," PORT0 ",\"instances\":[]}",
     BUS_ERR_RANGE},
    {CMD, CMD_HEAD "\"op\":\"spawn\",\"service\":2,\"count\":65}", BUS_ERR_RANGE},
    {CMD, CMD_HEAD "\"op\":\"spawn\",\"service\":2,\"count\":0}", BUS_ERR_RANGE},
    {SERVICES, SV_HEAD "{\"2\":[{\"instance\":1,\"core\":-2,\"state\":\"running\"}]}}",
     BUS_ERR_RANGE},
    /* malformed strings and keys */
    {STATE, "{\"v\":1,\"host\":\"a b\",\"status\":\"offline\"}", BUS_ERR_VALUE},
    {STATE, "{\"v\":1,\"host\":\"\",\"status\":\"offline\"}", BUS_ERR_VALUE},
    {STATE,
     "{\"v\":1,\"host\":\"0123456789012345678901234567890123456789012345678901234567890123\","
     "\"status\":\"offline\"}",
     BUS_ERR_VALUE},
    {STATE, ST_HEAD CORES TUN("10.250.0", "02:00:0a:fa:00:01", "1"), BUS_ERR_VALUE},
    {STATE, ST_HEAD CORES TUN("256.1.1.1", "02:00:0a:fa:00:01", "1"), BUS_ERR_VALUE},
    {STATE, ST_HEAD CORES TUN("01.2.3.4", "02:00:0a:fa:00:01", "1"), BUS_ERR_VALUE},
    {STATE, ST_HEAD CORES TUN("1.2.3.4 ", "02:00:0a:fa:00:01", "1"), BUS_ERR_VALUE},
    {STATE, ST_HEAD CORES TUN("1.2.3.4.5", "02:00:0a:fa:00:01", "1"), BUS_ERR_VALUE},
    {STATE, ST_HEAD CORES TUN("1.2.3.4", "02:00:0a:fa:00", "1"), BUS_ERR_VALUE},
    {STATE, ST_HEAD CORES TUN("1.2.3.4", "02:00:0a:fa:00:0g", "1"), BUS_ERR_VALUE},
    {STATE, ST_HEAD CORES TUN("1.2.3.4", "02-00-0a-fa-00-01", "1"), BUS_ERR_VALUE},
    {CMD,
     "{\"v\":1,\"id\":\"c 1\",\"engine\":\"pe-a\",\"reason\":\"r\",\"op\":\"spawn\","
     "\"service\":2,\"count\":1}",
     BUS_ERR_VALUE},
    {CMD,
     "{\"v\":1,\"id\":\"\",\"engine\":\"pe-a\",\"reason\":\"r\",\"op\":\"spawn\","
     "\"service\":2,\"count\":1}",
     BUS_ERR_VALUE},
    {CMD, CMD_HEAD "\"op\":\"spawn\",\"service\":2,\"count\":1,\"origin\":\"h/1\"}", BUS_ERR_VALUE},
    {EVENTS, EV_HEAD "\"event\":\"rejected\",\"error\":\"line\\nbreak\"}", BUS_ERR_VALUE},
    {SERVICES, SV_HEAD "{\"02\":[]}}", BUS_ERR_VALUE},
    {SERVICES, SV_HEAD "{\"0\":[]}}", BUS_ERR_VALUE},
    {SERVICES, SV_HEAD "{\"65536\":[]}}", BUS_ERR_VALUE},
    {SERVICES, SV_HEAD "{\"x\":[]}}", BUS_ERR_VALUE},
    {SERVICES,
     SV_HEAD "{\"2\":[{\"instance\":1,\"core\":1,\"state\":\"running\"}],"
	     "\"3\":[{\"instance\":1,\"core\":2,\"state\":\"running\"}]}}",
     BUS_ERR_VALUE},
    {ENGINE, "{\"v\":1,\"status\":\"online\",\"name\":\"\",\"started_ms\":1}", BUS_ERR_VALUE},
    /* bad enum words */
    {STATE, "{\"v\":1,\"host\":\"h1\",\"status\":\"up\"}", BUS_ERR_ENUM},
    {STATE, "{\"v\":1,\"host\":\"h1\",\"status\":\"ONLINE\"}", BUS_ERR_ENUM},
    {SERVICES, SV_HEAD "{\"2\":[{\"instance\":1,\"core\":1,\"state\":\"run\"}]}}", BUS_ERR_ENUM},
    {CMD, CMD_HEAD "\"op\":\"start\",\"service\":2,\"count\":1}", BUS_ERR_ENUM},
    {EVENTS, EV_HEAD "\"event\":\"died\"}", BUS_ERR_ENUM},
    {ENGINE, "{\"v\":1,\"status\":\"\"}", BUS_ERR_ENUM},
    /* host differs from the topic */
    {STATE, "{\"v\":1,\"host\":\"h2\",\"status\":\"offline\"}", BUS_ERR_HOST},
    {STATS,
     "{\"v\":1,\"host\":\"H1\",\"ts_ms\":1,\"seq\":1,\"period_ms\":500,\"ports\":[],"
     "\"instances\":[]}",
     BUS_ERR_HOST},
    {EVENTS, "{\"v\":1,\"host\":\"h10\",\"ts_ms\":1,\"service\":2,\"event\":\"exited\"}",
     BUS_ERR_HOST},
    {SERVICES, "{\"v\":1,\"host\":\"beta\",\"ts_ms\":1,\"services\":{}}", BUS_ERR_HOST},
    /* empty payload where a message is required */
    {STATE, "", BUS_ERR_EMPTY},
    {STATS, "", BUS_ERR_EMPTY},
    {ENGINE, "", BUS_ERR_EMPTY},
    /* topic outside the contract */
    {"onvm/hosts/h1/nope", "{\"v\":1}", BUS_ERR_TOPIC},
    {"elsewhere/x", "{\"v\":1}", BUS_ERR_TOPIC},
    {"onvm/hosts/a b/state", "{\"v\":1}", BUS_ERR_NAME},
};

/* Stats with one field of the instance replaced by a bad value. */
static const struct {
	const char *key;
	const char *value;
	int err;
} inst_cases[] = {
    {"busy", "\"1\"", BUS_ERR_TYPE},   {"service", "1.5", BUS_ERR_TYPE},
    {"instance", "2.0", BUS_ERR_TYPE}, {"core", "1e0", BUS_ERR_TYPE},
    {"rx_pps", "null", BUS_ERR_TYPE},  {"ring_fill", "1.5", BUS_ERR_RANGE},
    {"busy", "-0.1", BUS_ERR_RANGE},   {"drop_pps", "-1", BUS_ERR_RANGE},
    {"service", "0", BUS_ERR_RANGE},   {"service", "65536", BUS_ERR_RANGE},
    {"instance", "0", BUS_ERR_RANGE},  {"instance", "4294967296", BUS_ERR_RANGE},
    {"core", "-1", BUS_ERR_RANGE},     {"tx_pps", "\"x\"", BUS_ERR_TYPE},
};

/* STATS_HEAD PORT0 "," INST_BASE with the value of key replaced. */
static char *stats_with(const char *key, const char *value)
{
	static const char base[] = STATS_HEAD PORT0 "," INST_BASE;
	const char *inst = strstr(base, "\"instances\"");
	char pattern[40], *out;
	const char *at, *end;

	snprintf(pattern, sizeof(pattern), "\"%s\":", key);
	at = strstr(inst, pattern);
	assert_non_null(at);
	at += strlen(pattern);
	end = at + strcspn(at, ",}");
	out = malloc(sizeof(base) + strlen(value));
	assert_non_null(out);
	sprintf(out, "%.*s%s%s", (int)(at - base), base, value, end);
	return out;
}

static enum bus_kind kind_of(const char *topic)
{
	struct bus_topic parsed;

	bus_topic_parse(topic, &parsed);
	return parsed.kind;
}

static void expect_reject(const char *topic, const char *payload, size_t len, int code,
			  struct bus_msg *msg)
{
	enum bus_kind kind = kind_of(topic);
	uint64_t before = bus_reject_count(kind);
	char err[ERRLEN];
	int ret;

	memset(err, 0, sizeof(err));
	ret = bus_decode_any(topic, payload, len, msg, err, sizeof(err));
	if (ret != code)
		fail_msg("%s %.120s: got %d (%s), want %d", topic, payload, ret, err, code);
	assert_true(strlen(err) > 0);
	assert_null(strchr(err, '\n'));
	assert_int_equal(bus_reject_count(kind), before + 1);
}

static void test_rejections(void **state)
{
	struct bus_msg msg = BUS_MSG_INIT;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(bad_cases) / sizeof(bad_cases[0]); i++)
		expect_reject(bad_cases[i].topic, bad_cases[i].payload,
			      strlen(bad_cases[i].payload), bad_cases[i].err, &msg);
	for (i = 0; i < sizeof(inst_cases) / sizeof(inst_cases[0]); i++) {
		char *payload = stats_with(inst_cases[i].key, inst_cases[i].value);

		expect_reject(STATS, payload, strlen(payload), inst_cases[i].err, &msg);
		free(payload);
	}
	/* The unmodified template is fine. */
	{
		char *payload = stats_with("busy", "0.5");

		assert_int_equal(bus_decode_any(STATS, payload, strlen(payload), &msg, NULL, 0), 0);
		free(payload);
	}
	bus_msg_free(&msg);
}

static void test_error_text(void **state)
{
	char *ring = stats_with("ring_fill", "1.5");
	static const char svc[] =
	    SV_HEAD "{\"7\":[{\"instance\":1,\"core\":\"x\",\"state\":\"running\"}]}}";
	struct bus_msg msg = BUS_MSG_INIT;
	char err[ERRLEN];

	(void)state;
	assert_int_equal(decode_any_str(STATS, ring, &msg, err), BUS_ERR_RANGE);
	assert_string_equal(err, "instances[0].ring_fill: 1.5 out of range 0..1");
	assert_int_equal(decode_any_str(SERVICES, svc, &msg, err), BUS_ERR_TYPE);
	assert_string_equal(err, "services.7[0].core: expected an integer, got a string");
	assert_int_equal(
	    decode_any_str(STATE, "{\"v\":1,\"host\":\"h2\",\"status\":\"offline\"}", &msg, err),
	    BUS_ERR_HOST);
	assert_string_equal(err, "host 'h2' differs from the topic's host 'h1'");
	assert_int_equal(decode_any_str(STATE, "{\"v\":1,\"host\":\"h1\"", &msg, err),
			 BUS_ERR_JSON);
	assert_string_equal(err, "not JSON: expected ',' or '}' in object at offset 18");
	/* A tiny buffer gets a cut message; a NULL one nothing. */
	assert_int_equal(bus_decode_any(STATS, ring, strlen(ring), &msg, err, 8), BUS_ERR_RANGE);
	assert_string_equal(err, "instanc");
	assert_int_equal(bus_decode_any(STATS, ring, strlen(ring), &msg, NULL, 0), BUS_ERR_RANGE);
	free(ring);
	bus_msg_free(&msg);
}

static void test_too_big(void **state)
{
	size_t len = BUS_PAYLOAD_MAX + 1;
	char *big = malloc(len);
	struct bus_msg msg = BUS_MSG_INIT;
	static const char head[] = "{\"v\":1,\"host\":\"h1\",\"status\":\"offline\"}";

	(void)state;
	assert_non_null(big);
	/* Valid JSON padded with spaces: rejected on size alone. */
	memset(big, ' ', len);
	memcpy(big, head, sizeof(head) - 1);
	expect_reject(STATE, big, len, BUS_ERR_TOOBIG, &msg);
	/* Exactly the limit is fine. */
	assert_int_equal(bus_decode_any(STATE, big, len - 1, &msg, NULL, 0), 0);
	free(big);
	bus_msg_free(&msg);
}

/* Build "<head>[e,e,...]<tail>" with n copies of elem. */
static char *repeat(const char *head, const char *elem, unsigned n, const char *tail)
{
	size_t hl = strlen(head), el = strlen(elem), tl = strlen(tail);
	char *s = malloc(hl + n * (el + 1) + tl + 3), *p;
	unsigned i;

	assert_non_null(s);
	p = s;
	memcpy(p, head, hl);
	p += hl;
	*p++ = '[';
	for (i = 0; i < n; i++) {
		if (i)
			*p++ = ',';
		memcpy(p, elem, el);
		p += el;
	}
	*p++ = ']';
	memcpy(p, tail, tl + 1);
	return s;
}

static void test_limits(void **state)
{
	static const char port[] = "{\"port\":0,\"rx_pps\":0,\"tx_pps\":0,\"drop_pps\":0}";
	struct bus_msg msg = BUS_MSG_INIT;
	char *s, elem[64], *p;
	unsigned i;
	size_t len;

	(void)state;
	s = repeat(STATS_HEAD "\"ports\":", port, BUS_MAX_PORTS, ",\"instances\":[]}");
	assert_int_equal(bus_decode_any(STATS, s, strlen(s), &msg, NULL, 0), 0);
	assert_int_equal(msg.u.stats.n_ports, BUS_MAX_PORTS);
	free(s);
	s = repeat(STATS_HEAD "\"ports\":", port, BUS_MAX_PORTS + 1, ",\"instances\":[]}");
	expect_reject(STATS, s, strlen(s), BUS_ERR_LIMIT, &msg);
	free(s);

	/* BUS_MAX_INSTANCES services entries fit 64 KiB; one more is too many. */
	for (i = BUS_MAX_INSTANCES; i <= BUS_MAX_INSTANCES + 1; i++) {
		unsigned k;

		len = 64 + (size_t)i * 48;
		s = malloc(len);
		assert_non_null(s);
		p = s + sprintf(s, SV_HEAD "{\"1\":[");
		for (k = 1; k <= i; k++) {
			int n = snprintf(elem, sizeof(elem),
					 "%s{\"instance\":%u,\"core\":0,\"state\":\"running\"}",
					 k > 1 ? "," : "", k);
			memcpy(p, elem, (size_t)n);
			p += n;
		}
		strcpy(p, "]}}");
		assert_true(strlen(s) <= BUS_PAYLOAD_MAX);
		if (i == BUS_MAX_INSTANCES) {
			assert_int_equal(bus_decode_any(SERVICES, s, strlen(s), &msg, NULL, 0), 0);
			assert_int_equal(msg.u.services.n_insts, BUS_MAX_INSTANCES);
		} else {
			expect_reject(SERVICES, s, strlen(s), BUS_ERR_LIMIT, &msg);
		}
		free(s);
	}
	bus_msg_free(&msg);
}

static void test_unknown_topic_counted(void **state)
{
	uint64_t before = bus_reject_count(BUS_KIND_UNKNOWN);
	struct bus_msg msg = BUS_MSG_INIT;
	char err[ERRLEN];

	(void)state;
	assert_int_equal(decode_any_str("onvm/hosts/h1/x", "{}", &msg, err), BUS_ERR_TOPIC);
	assert_int_equal(bus_decode_any(NULL, "{}", 2, &msg, err, sizeof(err)), BUS_ERR_ARG);
	assert_int_equal(bus_reject_count(BUS_KIND_UNKNOWN), before + 2);
	assert_int_equal(bus_reject_count((enum bus_kind)42), 0);
}

/* ---- round trips ---- */

static void test_roundtrip_state(void **state)
{
	struct bus_state in, out;
	char *json, err[ERRLEN];

	(void)state;
	memset(&in, 0, sizeof(in));
	strcpy(in.host, "alpha");
	in.status = BUS_STATUS_ONLINE;
	in.has_ts_ms = in.has_epoch = in.has_cores = in.has_numa = in.has_tunnel = true;
	in.has_version = true;
	strcpy(in.version, "0.9.0");
	in.ts_ms = 1795480012000ull;
	in.epoch_ms = 1795476400000ull;
	in.cores.total = 6;
	in.cores.free = 3;
	in.numa.nodes = 2;
	memcpy(in.tunnel.ip, ((uint8_t[]){10, 250, 0, 1}), 4);
	memcpy(in.tunnel.mac, ((uint8_t[]){2, 0, 0x0a, 0xfa, 0, 1}), 6);
	in.tunnel.udp_port = 4789;
	assert_int_equal(bus_encode_state(&in, &json, err, sizeof(err)), 0);
	assert_string_equal(json, "{\"v\":1,\"host\":\"alpha\",\"status\":\"online\","
				  "\"epoch\":1795476400000,\"ts_ms\":1795480012000,"
				  "\"cores\":{\"total\":6,\"free\":3},\"numa\":{\"nodes\":2},"
				  "\"tunnel\":{\"ip\":\"10.250.0.1\",\"mac\":\"02:00:0a:fa:00:01\","
				  "\"udp_port\":4789},\"version\":\"0.9.0\"}");
	assert_int_equal(bus_decode_state("alpha", json, strlen(json), &out, err, sizeof(err)), 0);
	assert_memory_equal(&in, &out, sizeof(in));
	free(json);

	/* The LWT form. */
	memset(&in, 0, sizeof(in));
	strcpy(in.host, "alpha");
	in.status = BUS_STATUS_OFFLINE;
	assert_int_equal(bus_encode_state(&in, &json, err, sizeof(err)), 0);
	assert_string_equal(json, "{\"v\":1,\"host\":\"alpha\",\"status\":\"offline\"}");
	assert_int_equal(bus_decode_state("alpha", json, strlen(json), &out, err, sizeof(err)), 0);
	assert_memory_equal(&in, &out, sizeof(in));
	free(json);
}

static void test_roundtrip_services(void **state)
{
	struct bus_service_inst insts[3];
	struct bus_services in = {0}, out = {0};
	char *json, err[ERRLEN];

	(void)state;
	/* memset: the decoder zeroes padding, so memory compares equal. */
	memset(insts, 0, sizeof(insts));
	insts[0].service = 2;
	insts[0].instance = 1;
	insts[0].core = 1;
	insts[0].state = BUS_INST_RUNNING;
	insts[1].service = 2;
	insts[1].instance = 4;
	insts[1].core = 3;
	insts[1].state = BUS_INST_STARTING;
	insts[2].service = 9;
	insts[2].instance = 2;
	insts[2].core = 0;
	insts[2].state = BUS_INST_STOPPING;
	strcpy(in.host, "h1");
	in.ts_ms = 77;
	in.insts = insts;
	in.n_insts = 3;
	assert_int_equal(bus_encode_services(&in, &json, err, sizeof(err)), 0);
	assert_string_equal(json, "{\"v\":1,\"host\":\"h1\",\"ts_ms\":77,\"services\":{\"2\":["
				  "{\"instance\":1,\"core\":1,\"state\":\"running\"},"
				  "{\"instance\":4,\"core\":3,\"state\":\"starting\"}],\"9\":["
				  "{\"instance\":2,\"core\":0,\"state\":\"stopping\"}]}}");
	assert_int_equal(bus_decode_services("h1", json, strlen(json), &out, err, sizeof(err)), 0);
	assert_string_equal(out.host, "h1");
	assert_int_equal(out.ts_ms, 77);
	assert_int_equal(out.n_insts, 3);
	assert_memory_equal(out.insts, insts, sizeof(insts));
	free(json);

	/* Cleared encodes as the empty payload and decodes back as cleared. */
	in.cleared = true;
	assert_int_equal(bus_encode_services(&in, &json, err, sizeof(err)), 0);
	assert_string_equal(json, "");
	assert_int_equal(bus_decode_services("h1", json, 0, &out, err, sizeof(err)),
			 BUS_DECODE_CLEARED);
	assert_true(out.cleared);
	free(json);
	bus_services_free(&out);
}

static void test_roundtrip_stats(void **state)
{
	enum { N = 300 }; /* 17-digit reals: 300 fit in 64 KiB */
	struct bus_stats in = {0}, out = {0};
	struct bus_port_stats ports[2];
	struct bus_inst_stats *insts = calloc(N, sizeof(*insts));
	char *json, err[ERRLEN];
	unsigned i;

	(void)state;
	memset(ports, 0, sizeof(ports));
	ports[0].rx_pps = 900000;
	ports[0].tx_pps = 610000;
	ports[1].port = 1;
	ports[1].rx_pps = 0.25;
	ports[1].tx_pps = 1e15;
	ports[1].drop_pps = 3;
	assert_non_null(insts);
	for (i = 0; i < N; i++) {
		insts[i].instance = i + 1;
		insts[i].service = (uint16_t)(1 + i % 7);
		insts[i].core = i % 64;
		insts[i].rx_pps = i * 1000.0;
		insts[i].tx_pps = i * 999.5;
		insts[i].drop_pps = i / 3.0; /* needs 17 digits */
		insts[i].ring_fill = (double)i / N;
		insts[i].busy = i % 2 ? 1.0 : 0.1;
	}
	strcpy(in.host, "h1");
	in.ts_ms = 1795480012500ull;
	in.seq = 1ull << 40;
	in.period_ms = 500;
	in.ports = ports;
	in.n_ports = 2;
	in.insts = insts;
	in.n_insts = N;
	assert_int_equal(bus_encode_stats(&in, &json, err, sizeof(err)), 0);
	assert_true(strlen(json) <= BUS_PAYLOAD_MAX);
	assert_int_equal(bus_decode_stats("h1", json, strlen(json), &out, err, sizeof(err)), 0);
	assert_int_equal(out.seq, in.seq);
	assert_int_equal(out.period_ms, 500);
	assert_int_equal(out.n_ports, 2);
	assert_memory_equal(out.ports, ports, sizeof(ports));
	assert_int_equal(out.n_insts, N);
	assert_memory_equal(out.insts, insts, N * sizeof(*insts));
	free(json);

	/* Short reals stay short; integral pps are integers. */
	in.n_ports = 1;
	in.n_insts = 1;
	insts[0].ring_fill = 0.98;
	insts[0].busy = 1.0;
	insts[0].drop_pps = 290000;
	assert_int_equal(bus_encode_stats(&in, &json, err, sizeof(err)), 0);
	assert_non_null(strstr(json, "\"rx_pps\":0,\"tx_pps\":0,\"drop_pps\":290000,"
				     "\"ring_fill\":0.98,\"busy\":1.0}"));
	free(json);

	/* Unserved demand: optional, and kept from one decode to the next only
	 * when the payload lists it. */
	struct bus_unserved unserved[2];
	memset(unserved, 0, sizeof(unserved)); /* padding compares too */
	unserved[0].service = 3;
	unserved[0].pps = 5000;
	unserved[1].service = 9;
	unserved[1].pps = 0.5;
	in.unserved = unserved;
	in.n_unserved = 2;
	assert_int_equal(bus_encode_stats(&in, &json, err, sizeof(err)), 0);
	assert_non_null(strstr(
	    json, "\"unserved\":[{\"service\":3,\"pps\":5000},{\"service\":9,\"pps\":0.5}]"));
	assert_int_equal(bus_decode_stats("h1", json, strlen(json), &out, err, sizeof(err)), 0);
	assert_int_equal(out.n_unserved, 2);
	assert_memory_equal(out.unserved, unserved, sizeof(unserved));
	free(json);
	static const char without[] = "{\"v\":1,\"host\":\"h1\",\"ts_ms\":1,\"seq\":2,"
				      "\"period_ms\":100,\"ports\":[],\"instances\":[]}";
	assert_int_equal(bus_decode_stats("h1", without, strlen(without), &out, err, sizeof(err)),
			 0);
	assert_int_equal(out.n_unserved, 0);
	static const char bad[] = "{\"v\":1,\"host\":\"h1\",\"ts_ms\":1,\"seq\":2,"
				  "\"period_ms\":100,\"ports\":[],\"instances\":[],"
				  "\"unserved\":[{\"service\":0,\"pps\":1}]}";
	assert_int_equal(bus_decode_stats("h1", bad, strlen(bad), &out, err, sizeof(err)),
			 BUS_ERR_RANGE);
	in.unserved = NULL;
	in.n_unserved = 0;
	free(insts);
	bus_stats_free(&out);
}

static void test_roundtrip_cmd_event_decision_engine(void **state)
{
	struct bus_cmd cmd, cmd2;
	struct bus_event ev, ev2;
	struct bus_decision dec, dec2;
	struct bus_engine eng, eng2;
	char *json, err[ERRLEN];

	(void)state;
	memset(&cmd, 0, sizeof(cmd));
	strcpy(cmd.id, "pe-a-17");
	strcpy(cmd.engine, "pe-a");
	cmd.op = BUS_OP_SPAWN;
	cmd.service = 2;
	cmd.count = 1;
	strcpy(cmd.reason,
	       "service 2 overloaded on h1; h1 has no free core \"quoted\" caf\xc3\xa9");
	cmd.has_origin = true;
	strcpy(cmd.origin, "h1");
	cmd.has_expires = true;
	cmd.expires_ms = 1795480016000ull;
	assert_int_equal(bus_encode_cmd(&cmd, &json, err, sizeof(err)), 0);
	assert_int_equal(bus_decode_cmd(NULL, json, strlen(json), &cmd2, err, sizeof(err)), 0);
	assert_memory_equal(&cmd, &cmd2, sizeof(cmd));
	free(json);
	cmd.op = BUS_OP_STOP;
	cmd.count = 0;
	cmd.instance = 12;
	cmd.has_origin = cmd.has_expires = false;
	memset(cmd.origin, 0, sizeof(cmd.origin));
	cmd.expires_ms = 0;
	assert_int_equal(bus_encode_cmd(&cmd, &json, err, sizeof(err)), 0);
	assert_null(strstr(json, "count"));
	assert_non_null(strstr(json, "\"origin\":null")); /* a repair: no host asked */
	assert_int_equal(bus_decode_cmd(NULL, json, strlen(json), &cmd2, err, sizeof(err)), 0);
	assert_memory_equal(&cmd, &cmd2, sizeof(cmd));
	free(json);

	memset(&ev, 0, sizeof(ev));
	strcpy(ev.host, "h2");
	ev.ts_ms = 5;
	ev.event = BUS_EV_REJECTED;
	ev.service = 2;
	ev.has_cmd_id = ev.has_error = true;
	strcpy(ev.cmd_id, "pe-a-17");
	strcpy(ev.error, "no free core");
	assert_int_equal(bus_encode_event(&ev, &json, err, sizeof(err)), 0);
	assert_int_equal(bus_decode_event("h2", json, strlen(json), &ev2, err, sizeof(err)), 0);
	assert_memory_equal(&ev, &ev2, sizeof(ev));
	free(json);

	memset(&dec, 0, sizeof(dec));
	strcpy(dec.engine, "pe-a");
	dec.ts_ms = 1795480013000ull;
	dec.service = 2;
	dec.has_origin = true;
	strcpy(dec.origin, "h1");
	strcpy(dec.reason, "no capacity");
	dec.shadow = true;
	assert_int_equal(bus_encode_decision(&dec, &json, err, sizeof(err)), 0);
	assert_string_equal(json, "{\"v\":1,\"engine\":\"pe-a\",\"ts_ms\":1795480013000,"
				  "\"service\":2,\"origin\":\"h1\",\"target\":null,"
				  "\"reason\":\"no capacity\",\"shadow\":true}");
	assert_int_equal(bus_decode_decision(NULL, json, strlen(json), &dec2, err, sizeof(err)), 0);
	assert_memory_equal(&dec, &dec2, sizeof(dec));
	free(json);
	dec.has_origin = false;
	memset(dec.origin, 0, sizeof(dec.origin));
	assert_int_equal(bus_encode_decision(&dec, &json, err, sizeof(err)), 0);
	assert_non_null(strstr(json, "\"origin\":null"));
	assert_int_equal(bus_decode_decision(NULL, json, strlen(json), &dec2, err, sizeof(err)), 0);
	assert_memory_equal(&dec, &dec2, sizeof(dec));
	free(json);

	memset(&eng, 0, sizeof(eng));
	eng.status = BUS_STATUS_ONLINE;
	eng.has_name = eng.has_started = true;
	strcpy(eng.name, "local-first");
	eng.started_ms = 3;
	assert_int_equal(bus_encode_engine(&eng, &json, err, sizeof(err)), 0);
	assert_int_equal(bus_decode_engine(NULL, json, strlen(json), &eng2, err, sizeof(err)), 0);
	assert_memory_equal(&eng, &eng2, sizeof(eng));
	free(json);
}

static void test_encoder_rejects(void **state)
{
	struct bus_state st;
	struct bus_stats stats = {0};
	struct bus_inst_stats inst = {.instance = 1, .service = 2, .ring_fill = 2.0};
	struct bus_cmd cmd;
	char *json = (char *)1, err[ERRLEN];

	(void)state;
	memset(&st, 0, sizeof(st));
	st.status = BUS_STATUS_OFFLINE; /* host "" */
	assert_int_equal(bus_encode_state(&st, &json, err, sizeof(err)), BUS_ERR_VALUE);
	assert_null(json);
	assert_true(strlen(err) > 0);
	strcpy(st.host, "h1");
	st.status = BUS_STATUS_ONLINE; /* no cores, epoch, ts_ms */
	assert_int_equal(bus_encode_state(&st, &json, err, sizeof(err)), BUS_ERR_MISSING);
	st.has_ts_ms = st.has_epoch = st.has_cores = true;
	st.cores.total = 1;
	st.cores.free = 2;
	assert_int_equal(bus_encode_state(&st, &json, err, sizeof(err)), BUS_ERR_RANGE);
	st.status = (enum bus_status)7;
	assert_int_equal(bus_encode_state(&st, &json, err, sizeof(err)), BUS_ERR_ARG);

	strcpy(stats.host, "h1");
	stats.period_ms = 500;
	stats.insts = &inst;
	stats.n_insts = 1;
	stats.period_ms = 0; /* the period is not a measurement: out of range fails */
	assert_int_equal(bus_encode_stats(&stats, &json, err, sizeof(err)), BUS_ERR_RANGE);
	stats.period_ms = 500;
	stats.insts = NULL;
	assert_int_equal(bus_encode_stats(&stats, &json, err, sizeof(err)), BUS_ERR_ARG);

	memset(&cmd, 0, sizeof(cmd));
	strcpy(cmd.id, "c1");
	strcpy(cmd.engine, "pe-a");
	cmd.service = 2;
	cmd.op = BUS_OP_SPAWN; /* count 0 */
	assert_int_equal(bus_encode_cmd(&cmd, &json, err, sizeof(err)), BUS_ERR_MISSING);
	cmd.count = 1;
	strcpy(cmd.reason, "bad \xff utf8");
	assert_int_equal(bus_encode_cmd(&cmd, &json, err, sizeof(err)), BUS_ERR_VALUE);
	assert_int_equal(bus_encode_cmd(NULL, &json, err, sizeof(err)), BUS_ERR_ARG);
	assert_int_equal(bus_encode_cmd(&cmd, NULL, err, sizeof(err)), BUS_ERR_ARG);
}

/*
 * One measurement that does not fit (an NF can write anything into its
 * shared-memory slot) must not cost the host its whole stats or services:
 * the value is clamped, or left out when optional, the rest is published,
 * and err says what was changed.
 */
static void test_encoder_fits_measurements(void **state)
{
	struct bus_port_stats port = {.port = 0, .rx_pps = 10, .tx_pps = 10, .drop_pps = 0};
	struct bus_inst_stats insts[3] = {
	    {.instance = 1, .service = 2, .core = 70000, .rx_pps = 5, .ring_fill = 0.5},
	    {.instance = 2,
	     .service = 2,
	     .core = 3,
	     .rx_pps = 7,
	     .ring_fill = 2.0,
	     .busy = NAN,
	     .has_first_rx = true,
	     .first_rx_ms = UINT64_MAX},
	    {.instance = 3,
	     .service = 4,
	     .core = 4,
	     .rx_pps = 9,
	     .ring_fill = 0.25,
	     .has_first_rx = true,
	     .first_rx_ms = 1795480012000},
	};
	struct bus_stats stats = {.ts_ms = 1,
				  .seq = 1,
				  .period_ms = 500,
				  .ports = &port,
				  .n_ports = 1,
				  .insts = insts,
				  .n_insts = 3};
	struct bus_stats back = {0};
	char *json = NULL, err[ERRLEN] = "x";

	(void)state;
	strcpy(stats.host, "h1");
	assert_int_equal(bus_encode_stats(&stats, &json, err, sizeof(err)), 0);
	assert_non_null(strstr(err, "did not fit"));
	assert_int_equal(bus_decode_stats("h1", json, strlen(json), &back, err, sizeof(err)), 0);
	assert_int_equal(back.n_ports, 1);
	assert_int_equal(back.n_insts, 3);
	assert_int_equal(back.insts[0].core, 65535); /* clamped */
	assert_true(back.insts[0].rx_pps == 5);
	assert_true(back.insts[1].ring_fill == 1.0); /* clamped */
	assert_true(back.insts[1].busy == 0.0);	     /* NaN: the low end */
	assert_false(back.insts[1].has_first_rx);    /* left out */
	assert_int_equal(back.insts[1].core, 3);
	assert_true(back.insts[2].has_first_rx);
	assert_int_equal(back.insts[2].first_rx_ms, 1795480012000);
	assert_true(back.insts[2].rx_pps == 9);
	free(json);
	bus_stats_free(&back);

	/* Good values: err comes back empty. */
	insts[0].core = 1;
	insts[1].ring_fill = 1.0;
	insts[1].busy = 0.5;
	insts[1].first_rx_ms = 1;
	assert_int_equal(bus_encode_stats(&stats, &json, err, sizeof(err)), 0);
	assert_string_equal(err, "");
	free(json);

	/* The services map: a core above 65535 is clamped, the map still goes out. */
	struct bus_service_inst map[2] = {
	    {.service = 2, .instance = 1, .core = 100000, .state = BUS_INST_RUNNING},
	    {.service = 5, .instance = 2, .core = 2, .state = BUS_INST_RUNNING},
	};
	struct bus_services services = {.ts_ms = 1, .insts = map, .n_insts = 2, .insts_cap = 2};
	struct bus_services services_back = {0};
	strcpy(services.host, "h1");
	assert_int_equal(bus_encode_services(&services, &json, err, sizeof(err)), 0);
	assert_non_null(strstr(err, "core"));
	assert_int_equal(
	    bus_decode_services("h1", json, strlen(json), &services_back, err, sizeof(err)), 0);
	assert_int_equal(services_back.n_insts, 2);
	free(json);
	bus_services_free(&services_back);

	/* An event's optional core is left out. */
	struct bus_event event = {.ts_ms = 1,
				  .event = BUS_EV_SPAWNED,
				  .service = 2,
				  .has_instance = true,
				  .instance = 4,
				  .has_core = true,
				  .core = 65536};
	struct bus_event event_back;
	strcpy(event.host, "h1");
	assert_int_equal(bus_encode_event(&event, &json, err, sizeof(err)), 0);
	assert_int_equal(bus_decode_event("h1", json, strlen(json), &event_back, err, sizeof(err)),
			 0);
	assert_false(event_back.has_core);
	assert_int_equal(event_back.instance, 4);
	free(json);
}

static void test_msg_reuse_across_kinds(void **state)
{
	struct bus_msg msg = BUS_MSG_INIT;
	char err[ERRLEN];
	int round;

	(void)state;
	for (round = 0; round < 3; round++) {
		assert_int_equal(
		    decode_any_str("onvm/hosts/alpha/stats", trace_stats_alpha, &msg, err), 0);
		assert_int_equal(msg.kind, BUS_KIND_STATS);
		assert_int_equal(msg.u.stats.n_insts, 2);
		assert_int_equal(decode_any_str("onvm/hosts/h1/state", design_state, &msg, err), 0);
		assert_int_equal(msg.kind, BUS_KIND_STATE);
		assert_int_equal(
		    decode_any_str("onvm/hosts/alpha/services", trace_services_alpha, &msg, err),
		    0);
		assert_int_equal(msg.u.services.n_insts, 3);
		assert_int_equal(decode_any_str("onvm/hosts/h1/cmd", design_cmd, &msg, err), 0);
		assert_string_equal(msg.u.cmd.target, "h1");
		assert_int_equal(decode_any_str("onvm/hosts/h2/events", design_event, &msg, err),
				 0);
		assert_int_equal(
		    decode_any_str("onvm/policy/decisions", design_decision, &msg, err), 0);
		assert_int_equal(msg.kind, BUS_KIND_DECISIONS);
	}
	bus_msg_free(&msg);
	assert_int_equal(msg.kind, BUS_KIND_UNKNOWN);
	bus_msg_free(&msg);
	bus_msg_free(NULL);
}

static void test_enum_names(void **state)
{
	(void)state;
	assert_string_equal(bus_status_name(BUS_STATUS_ONLINE), "online");
	assert_string_equal(bus_inst_state_name(BUS_INST_STOPPING), "stopping");
	assert_string_equal(bus_cmd_op_name(BUS_OP_STOP), "stop");
	assert_string_equal(bus_event_name(BUS_EV_EXITED), "exited");
	assert_string_equal(bus_event_name((enum bus_event_kind)9), "?");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_golden_state),
	    cmocka_unit_test(test_golden_state_forms),
	    cmocka_unit_test(test_golden_services),
	    cmocka_unit_test(test_services_cleared),
	    cmocka_unit_test(test_golden_stats),
	    cmocka_unit_test(test_golden_cmd_event_decision),
	    cmocka_unit_test(test_golden_engine),
	    cmocka_unit_test(test_golden_alarm),
	    cmocka_unit_test(test_lenient_parts),
	    cmocka_unit_test(test_rejections),
	    cmocka_unit_test(test_error_text),
	    cmocka_unit_test(test_too_big),
	    cmocka_unit_test(test_limits),
	    cmocka_unit_test(test_unknown_topic_counted),
	    cmocka_unit_test(test_roundtrip_state),
	    cmocka_unit_test(test_roundtrip_services),
	    cmocka_unit_test(test_roundtrip_stats),
	    cmocka_unit_test(test_roundtrip_cmd_event_decision_engine),
	    cmocka_unit_test(test_encoder_rejects),
	    cmocka_unit_test(test_encoder_fits_measurements),
	    cmocka_unit_test(test_msg_reuse_across_kinds),
	    cmocka_unit_test(test_enum_names),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
