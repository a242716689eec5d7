/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * test_policy_exporter.c - unit tests of onvm-exporter's model
 * (policy/exporter.c): raw bus payloads in, /metrics text out. Host up by
 * state and staleness, counters summed from rates (a repeated period once,
 * a lost one counted as missed, a restart from zero), instances of a
 * service on up hosts, decisions by kind and role, command results once
 * per id, rejections by kind, the bounds (hosts, instances, eviction),
 * label escaping, and the exposition format itself.
 */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "exporter.h"

#define T0 UINT64_C(1000000) /* monotonic ms */

/* The staleness bound: the policy's. */
static uint64_t stale_ms(void)
{
	struct exporter_config config;
	exporter_config_default(&config);
	return config.stale_ms;
}

struct fixture {
	struct exporter *e;
	char *text;
};

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	struct exporter_config config;
	exporter_config_default(&config);
	config.max_hosts = 4;
	f->e = exporter_create(&config);
	assert_non_null(f->e);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	exporter_destroy(f->e);
	free(f->text);
	free(f);
	return 0;
}

/* Feed a payload; the expected result of exporter_feed. */
static void feed_r(struct fixture *f, int expect, bool retained, uint64_t now, const char *topic,
		   const char *fmt, ...) __attribute__((format(printf, 6, 7)));
static void feed_r(struct fixture *f, int expect, bool retained, uint64_t now, const char *topic,
		   const char *fmt, ...)
{
	static char payload[65536];
	char err[256] = "";
	va_list args;
	va_start(args, fmt);
	vsnprintf(payload, sizeof(payload), fmt, args);
	va_end(args);
	int ret =
	    exporter_feed(f->e, topic, payload, strlen(payload), retained, now, err, sizeof(err));
	if (ret != expect)
		fail_msg("%s %s: %d (expected %d): %s", topic, payload, ret, expect, err);
}
#define feed(f, now, topic, ...) feed_r(f, 1, false, now, topic, __VA_ARGS__)

static const char *render(struct fixture *f, uint64_t now)
{
	free(f->text);
	size_t len = 0;
	f->text = exporter_render(f->e, now, &len);
	assert_non_null(f->text);
	assert_int_equal(strlen(f->text), len);
	return f->text;
}

/* The value of one sample (name with its labels, as rendered), NAN if absent. */
static double sample(const char *text, const char *series)
{
	size_t len = strlen(series);
	for (const char *line = text; *line;) {
		const char *end = strchr(line, '\n');
		if (strncmp(line, series, len) == 0 && line[len] == ' ')
			return strtod(line + len + 1, NULL);
		if (!end)
			break;
		line = end + 1;
	}
	return NAN;
}

static void state_online(struct fixture *f, uint64_t now, const char *host, unsigned total,
			 unsigned free_cores)
{
	char topic[64];
	snprintf(topic, sizeof(topic), "onvm/hosts/%s/state", host);
	feed(f, now, topic,
	     "{\"v\":1,\"host\":\"%s\",\"status\":\"online\",\"epoch\":1795480000000,"
	     "\"ts_ms\":1795480012000,\"cores\":{\"total\":%u,\"free\":%u},\"version\":\"0.9.0\"}",
	     host, total, free_cores);
}

static void stats(struct fixture *f, uint64_t now, const char *host, unsigned seq, double rx_pps)
{
	char topic[64];
	snprintf(topic, sizeof(topic), "onvm/hosts/%s/stats", host);
	feed(f, now, topic,
	     "{\"v\":1,\"host\":\"%s\",\"ts_ms\":1795480012500,\"seq\":%u,\"period_ms\":500,"
	     "\"ports\":[{\"port\":0,\"rx_pps\":%g,\"tx_pps\":0,\"drop_pps\":0}],"
	     "\"instances\":[{\"instance\":1,\"service\":2,\"core\":2,\"rx_pps\":%g,\"tx_pps\":600,"
	     "\"drop_pps\":10,\"ring_fill\":0.25,\"busy\":1}],\"unserved\":[{\"service\":4,"
	     "\"pps\":5000}],\"cmd_queue_drops\":1,\"cmd_window_refusals\":2,\"bus_rejects\":3,"
	     "\"peer_endpoint_rejects\":4,\"peer_services_rejects\":5}",
	     host, seq, rx_pps, rx_pps);
}

#define H1_INST "{host=\"h1\",service=\"2\",instance=\"1\"}"

static void test_host_up_and_down(void **state)
{
	struct fixture *f = *state;
	state_online(f, T0, "h1", 4, 2);
	stats(f, T0 + 100, "h1", 1, 1000);
	const char *text = render(f, T0 + 200);
	assert_true(sample(text, "onvm_host_up{host=\"h1\"}") == 1);
	assert_true(sample(text, "onvm_host_nf_cores{host=\"h1\"}") == 4);
	assert_true(sample(text, "onvm_host_nf_cores_free{host=\"h1\"}") == 2);
	assert_true(sample(text, "onvm_host_info{host=\"h1\",version=\"0.9.0\"}") == 1);
	assert_true(sample(text, "onvm_host_bus_rejects_total{host=\"h1\"}") == 3);
	assert_true(sample(text, "onvm_instance_ring_fill_ratio" H1_INST) == 0.25);
	assert_true(sample(text, "onvm_instance_busy_ratio" H1_INST) == 1);
	assert_true(sample(text, "onvm_instance_rx_packets_per_second" H1_INST) == 1000);

	/* Silent past the staleness bound (5 s, more than 3 periods): down, and
	 * its instances are gone. */
	text = render(f, T0 + 100 + stale_ms() + 1);
	assert_true(sample(text, "onvm_host_up{host=\"h1\"}") == 0);
	assert_true(isnan(sample(text, "onvm_instance_rx_packets_total" H1_INST)));

	/* Heard again, then the Last Will: down at once. */
	stats(f, T0 + 7000, "h1", 2, 1000);
	assert_true(sample(render(f, T0 + 7000), "onvm_host_up{host=\"h1\"}") == 1);
	feed(f, T0 + 7100, "onvm/hosts/h1/state",
	     "{\"v\":1,\"host\":\"h1\",\"status\":\"offline\"}");
	assert_true(sample(render(f, T0 + 7100), "onvm_host_up{host=\"h1\"}") == 0);
}

static void test_retained_state_is_no_sign_of_life(void **state)
{
	struct fixture *f = *state;
	feed_r(f, 1, true, T0, "onvm/hosts/h1/state",
	       "{\"v\":1,\"host\":\"h1\",\"status\":\"online\",\"epoch\":1,\"ts_ms\":1,"
	       "\"cores\":{\"total\":4,\"free\":4}}");
	const char *text = render(f, T0);
	assert_true(sample(text, "onvm_host_up{host=\"h1\"}") == 0);
	assert_true(sample(text, "onvm_host_nf_cores{host=\"h1\"}") == 4);
}

static void test_counters_from_rates(void **state)
{
	struct fixture *f = *state;
	state_online(f, T0, "h1", 4, 2);
	stats(f, T0 + 500, "h1", 1, 1000);  /* 500 packets in 500 ms */
	stats(f, T0 + 1000, "h1", 2, 3000); /* 1500 more */
	stats(f, T0 + 1000, "h1", 2, 3000); /* the same period again: once */
	const char *text = render(f, T0 + 1000);
	assert_true(sample(text, "onvm_instance_rx_packets_total" H1_INST) == 2000);
	assert_true(sample(text, "onvm_instance_tx_packets_total" H1_INST) == 600);
	assert_true(sample(text, "onvm_instance_drop_packets_total" H1_INST) == 10);
	assert_true(sample(text, "onvm_port_rx_packets_total{host=\"h1\",port=\"0\"}") == 2000);
	assert_true(
	    sample(text, "onvm_service_unserved_packets_total{host=\"h1\",service=\"4\"}") == 5000);
	assert_true(sample(text, "onvm_host_stats_periods_total{host=\"h1\"}") == 2);
	assert_true(sample(text, "onvm_host_stats_periods_missed_total{host=\"h1\"}") == 0);

	/* Periods 3 and 4 lost: counted as missed, not as packets. */
	stats(f, T0 + 2500, "h1", 5, 1000);
	text = render(f, T0 + 2500);
	assert_true(sample(text, "onvm_instance_rx_packets_total" H1_INST) == 2500);
	assert_true(sample(text, "onvm_host_stats_periods_missed_total{host=\"h1\"}") == 2);

	/* The manager restarted (seq back to 1): its counters start again. */
	stats(f, T0 + 3000, "h1", 1, 1000);
	assert_true(sample(render(f, T0 + 3000), "onvm_instance_rx_packets_total" H1_INST) == 500);

	/* A new epoch does the same. */
	stats(f, T0 + 3500, "h1", 2, 1000);
	feed(f, T0 + 3600, "onvm/hosts/h1/state",
	     "{\"v\":1,\"host\":\"h1\",\"status\":\"online\",\"epoch\":1795480099999,"
	     "\"ts_ms\":1,\"cores\":{\"total\":4,\"free\":2}}");
	stats(f, T0 + 4000, "h1", 3, 1000);
	assert_true(sample(render(f, T0 + 4000), "onvm_instance_rx_packets_total" H1_INST) == 500);
}

/* Stats before the host's first state (the exporter came up between them)
 * are of the same manager: the state does not start them again. */
static void test_first_state_after_stats(void **state)
{
	struct fixture *f = *state;
	stats(f, T0, "h1", 1, 1000);
	state_online(f, T0 + 10, "h1", 4, 2);
	stats(f, T0 + 500, "h1", 2, 1000);
	const char *text = render(f, T0 + 500);
	assert_true(sample(text, "onvm_instance_rx_packets_total" H1_INST) == 1000);
	/* Reals in their shortest exact form. */
	assert_non_null(strstr(text, "\nonvm_host_stats_period_seconds{host=\"h1\"} 0.5\n"));
}

static void test_absurd_rates_are_bounded(void **state)
{
	struct fixture *f = *state;
	state_online(f, T0, "h1", 4, 2);
	stats(f, T0 + 500, "h1", 1, 1e300);
	const char *text = render(f, T0 + 500);
	assert_true(sample(text, "onvm_instance_rx_packets_per_second" H1_INST) ==
		    EXPORTER_RATE_MAX);
	assert_true(sample(text, "onvm_instance_rx_packets_total" H1_INST) ==
		    EXPORTER_RATE_MAX / 2);
	/* A seq that jumps to the top, three times: the missed count stops there. */
	for (int jump = 0; jump < 3; jump++) {
		feed(f, T0 + 600 + 200 * (uint64_t)jump, "onvm/hosts/h1/stats",
		     "{\"v\":1,\"host\":\"h1\",\"ts_ms\":1,\"seq\":1,\"period_ms\":500,"
		     "\"ports\":[],\"instances\":[]}");
		feed(f, T0 + 700 + 200 * (uint64_t)jump, "onvm/hosts/h1/stats",
		     "{\"v\":1,\"host\":\"h1\",\"ts_ms\":1,\"seq\":9223372036854775807,"
		     "\"period_ms\":500,\"ports\":[],\"instances\":[]}");
	}
	text = render(f, T0 + 1200);
	assert_true(sample(text, "onvm_host_stats_periods_missed_total{host=\"h1\"}") >= 1.8e19);
}

static void test_service_instances_of_up_hosts(void **state)
{
	struct fixture *f = *state;
	state_online(f, T0, "h1", 4, 2);
	state_online(f, T0, "h2", 4, 2);
	feed(f, T0, "onvm/hosts/h1/services",
	     "{\"v\":1,\"host\":\"h1\",\"ts_ms\":1,\"services\":{\"2\":[{\"instance\":1,\"core\":2,"
	     "\"state\":\"running\"},{\"instance\":4,\"core\":3,\"state\":\"starting\"}],"
	     "\"3\":[{\"instance\":2,\"core\":4,\"state\":\"stopping\"}]}}");
	feed(f, T0, "onvm/hosts/h2/services",
	     "{\"v\":1,\"host\":\"h2\",\"ts_ms\":1,\"services\":{\"2\":[{\"instance\":7,\"core\":2,"
	     "\"state\":\"running\"}]}}");
	const char *text = render(f, T0 + 10);
	assert_true(sample(text, "onvm_service_instances{service=\"2\",state=\"running\"}") == 2);
	assert_true(sample(text, "onvm_service_instances{service=\"2\",state=\"starting\"}") == 1);
	assert_true(sample(text, "onvm_service_instances{service=\"3\",state=\"stopping\"}") == 1);
	/* h2 gone: its instances with it. */
	feed(f, T0 + 20, "onvm/hosts/h2/state", "{\"v\":1,\"host\":\"h2\",\"status\":\"offline\"}");
	text = render(f, T0 + 30);
	assert_true(sample(text, "onvm_service_instances{service=\"2\",state=\"running\"}") == 1);
	/* h1 clears its map on a clean exit: service 2 is still known (h2's
	 * map named it), with no instance. */
	feed(f, T0 + 40, "onvm/hosts/h1/services", "%s", "");
	text = render(f, T0 + 50);
	assert_true(sample(text, "onvm_service_instances{service=\"2\",state=\"running\"}") == 0);
	assert_true(
	    isnan(sample(text, "onvm_service_instances{service=\"3\",state=\"stopping\"}")));
}

static void test_decisions_by_kind_and_role(void **state)
{
	struct fixture *f = *state;
	static const char *const decisions[] = {
	    "\"origin\":\"h1\",\"target\":\"h2\",\"reason\":\"overloaded\",\"shadow\":false",
	    "\"origin\":\"h1\",\"target\":\"h2\",\"reason\":\"overloaded\",\"shadow\":true",
	    "\"origin\":null,\"target\":\"h2\",\"reason\":\"repair: below min\",\"shadow\":false",
	    "\"origin\":\"h1\",\"target\":null,\"reason\":\"at max: 4 of 4\",\"shadow\":false",
	    "\"origin\":\"h1\",\"target\":null,\"reason\":\"no capacity: full\",\"shadow\":false",
	    "\"origin\":\"h1\",\"target\":\"h1\",\"reason\":\"scale-in: spare\",\"shadow\":false",
	};
	for (size_t i = 0; i < sizeof(decisions) / sizeof(decisions[0]); i++)
		feed(f, T0, "onvm/policy/decisions",
		     "{\"v\":1,\"engine\":\"pe-a\",\"ts_ms\":1,\"service\":2,%s}", decisions[i]);
	feed(f, T0, "onvm/policy/engines/pe-a",
	     "{\"v\":1,\"status\":\"online\",\"name\":\"local-first\",\"started_ms\":1}");
	feed(f, T0, "onvm/policy/engines/pe-b",
	     "{\"v\":1,\"status\":\"online\",\"name\":\"spread\",\"started_ms\":1}");
	const char *text = render(f, T0);
#define DECISIONS(kind, role)                                                                      \
	sample(text,                                                                               \
	       "onvm_policy_decisions_total{engine=\"pe-a\",kind=\"" kind "\",role=\"" role "\"}")
	assert_true(DECISIONS("scale_out", "leader") == 1);
	assert_true(DECISIONS("scale_out", "shadow") == 1);
	assert_true(DECISIONS("repair", "leader") == 1);
	assert_true(DECISIONS("at_max", "leader") == 1);
	assert_true(DECISIONS("no_capacity", "leader") == 1);
	assert_true(DECISIONS("scale_in", "leader") == 1);
	assert_true(DECISIONS("repair", "shadow") == 0);
	assert_true(sample(text, "onvm_policy_engine_leader{engine=\"pe-a\"}") == 1);
	assert_true(sample(text, "onvm_policy_engine_leader{engine=\"pe-b\"}") == 0);
	assert_true(sample(text, "onvm_policy_engine_up{engine=\"pe-b\",name=\"spread\"}") == 1);
	feed(f, T0, "onvm/policy/engines/pe-a", "{\"v\":1,\"status\":\"offline\"}");
	text = render(f, T0);
	assert_true(sample(text, "onvm_policy_engine_leader{engine=\"pe-b\"}") == 1);
	/* An engine that decides is kept, announced or not; an offline one that
	 * stopped deciding is forgotten. */
	feed(f, T0, "onvm/policy/decisions",
	     "{\"v\":1,\"engine\":\"pe-c\",\"ts_ms\":1,\"service\":2,%s}", decisions[0]);
	feed(f, T0 + EXPORTER_EVICT_DEFAULT_MS - 1, "onvm/policy/decisions",
	     "{\"v\":1,\"engine\":\"pe-c\",\"ts_ms\":1,\"service\":2,%s}", decisions[0]);
	exporter_tick(f->e, T0 + EXPORTER_EVICT_DEFAULT_MS);
	text = render(f, T0 + EXPORTER_EVICT_DEFAULT_MS);
	assert_true(isnan(DECISIONS("scale_out", "leader")));
	assert_true(sample(text, "onvm_policy_decisions_total{engine=\"pe-c\",kind=\"scale_out\","
				 "role=\"leader\"}") == 2);
	assert_true(sample(text, "onvm_policy_engine_leader{engine=\"pe-b\"}") == 1);
}

static void test_command_results_once_per_id(void **state)
{
	struct fixture *f = *state;
	static const char cmd[] = "{\"v\":1,\"id\":\"pe-a-1\",\"engine\":\"pe-a\",\"op\":\"spawn\","
				  "\"service\":2,\"count\":2,\"reason\":\"x\"}";
	feed(f, T0, "onvm/hosts/h1/cmd", "%s", cmd);
	feed(f, T0, "onvm/hosts/h1/cmd", "%s", cmd); /* resent */
	static const char spawned[] = "{\"v\":1,\"host\":\"h1\",\"ts_ms\":1,\"cmd_id\":\"pe-a-1\","
				      "\"event\":\"spawned\",\"service\":2,\"instance\":%d}";
	feed(f, T0, "onvm/hosts/h1/events", spawned, 3);
	feed(f, T0, "onvm/hosts/h1/events", spawned, 4); /* count 2: two instances, one result */
	feed(f, T0, "onvm/hosts/h1/events", spawned, 3); /* the repeat's answer */
	feed(f, T0, "onvm/hosts/h1/events",
	     "{\"v\":1,\"host\":\"h1\",\"ts_ms\":1,\"cmd_id\":\"by-hand-1\",\"event\":\"rejected\","
	     "\"service\":42,\"error\":\"not in the catalog\"}");
	feed(f, T0, "onvm/hosts/h1/events",
	     "{\"v\":1,\"host\":\"h1\",\"ts_ms\":1,\"event\":\"exited\",\"service\":2,"
	     "\"instance\":3,\"error\":\"killed\"}");
	const char *text = render(f, T0);
	assert_true(sample(text, "onvm_commands_total{host=\"h1\",op=\"spawn\"}") == 1);
	assert_true(sample(text, "onvm_command_results_total{host=\"h1\",result=\"spawned\"}") ==
		    1);
	assert_true(sample(text, "onvm_command_results_total{host=\"h1\",result=\"rejected\"}") ==
		    1);
	assert_true(sample(text, "onvm_command_results_total{host=\"h1\",result=\"stopped\"}") ==
		    0);
	assert_true(sample(text, "onvm_events_total{host=\"h1\",event=\"spawned\"}") == 3);
	assert_true(sample(text, "onvm_events_total{host=\"h1\",event=\"exited\"}") == 1);
}

static void test_rejections_by_kind(void **state)
{
	struct fixture *f = *state;
	feed_r(f, -1, false, T0, "onvm/hosts/h1/stats", "%s", "not json");
	feed_r(f, -1, false, T0, "onvm/hosts/h1/state",
	       "{\"v\":1,\"host\":\"h2\",\"status\":\"offline\"}");
	feed_r(f, -1, false, T0, "onvm/policy/decisions", "%s", "{\"v\":2}");
	feed_r(f, -1, false, T0, "onvm/elsewhere", "%s", "{}");
	const char *text = render(f, T0);
	assert_true(sample(text, "onvm_bus_rejected_messages_total{kind=\"stats\"}") == 1);
	assert_true(sample(text, "onvm_bus_rejected_messages_total{kind=\"state\"}") == 1);
	assert_true(sample(text, "onvm_bus_rejected_messages_total{kind=\"decisions\"}") == 1);
	assert_true(sample(text, "onvm_bus_rejected_messages_total{kind=\"unknown\"}") == 1);
	assert_true(sample(text, "onvm_bus_rejected_messages_total{kind=\"events\"}") == 0);
	assert_int_equal(exporter_host_count(f->e), 0);
}

static void test_bounded_hosts_and_eviction(void **state)
{
	struct fixture *f = *state; /* max_hosts 4 */
	const char *names[] = {"h1", "h2", "h3", "h4"};
	for (int i = 0; i < 4; i++) {
		state_online(f, T0, names[i], 4, 2);
		stats(f, T0, names[i], 1, 1000);
	}
	/* Full of hosts that are up: a fifth is not tracked, and that is counted. */
	feed_r(f, 0, false, T0, "onvm/hosts/h5/state",
	       "{\"v\":1,\"host\":\"h5\",\"status\":\"offline\"}");
	assert_int_equal(exporter_host_count(f->e), 4);
	assert_true(sample(render(f, T0), "onvm_exporter_dropped_total{what=\"host\"}") == 1);
	/* h3 goes offline: a newcomer takes its place. */
	feed(f, T0 + 10, "onvm/hosts/h3/state", "{\"v\":1,\"host\":\"h3\",\"status\":\"offline\"}");
	state_online(f, T0 + 20, "h5", 4, 4);
	const char *text = render(f, T0 + 20);
	assert_true(isnan(sample(text, "onvm_host_up{host=\"h3\"}")));
	assert_true(sample(text, "onvm_host_nf_cores_free{host=\"h5\"}") == 4);
	/* Not up for evict_ms since they were last up: forgotten (h1, h2 and h4
	 * were last heard at T0, h5 at T0 + 20). */
	feed(f, T0 + 30, "onvm/hosts/h4/state", "{\"v\":1,\"host\":\"h4\",\"status\":\"offline\"}");
	exporter_tick(f->e, T0 + EXPORTER_EVICT_DEFAULT_MS - 1);
	assert_int_equal(exporter_host_count(f->e), 4);
	exporter_tick(f->e, T0 + EXPORTER_EVICT_DEFAULT_MS);
	assert_int_equal(exporter_host_count(f->e), 1);
	text = render(f, T0 + EXPORTER_EVICT_DEFAULT_MS);
	assert_true(isnan(sample(text, "onvm_host_up{host=\"h4\"}")));
	assert_true(sample(text, "onvm_host_up{host=\"h5\"}") == 0);
}

static void test_bounded_instances(void **state)
{
	struct fixture *f = *state;
	state_online(f, T0, "h1", 4, 2);
	char payload[65536];
	int len = snprintf(payload, sizeof(payload),
			   "{\"v\":1,\"host\":\"h1\",\"ts_ms\":1,\"seq\":1,\"period_ms\":500,"
			   "\"ports\":[],\"instances\":[");
	for (int i = 1; i <= 100; i++)
		len += snprintf(payload + len, sizeof(payload) - (size_t)len,
				"%s{\"instance\":%d,\"service\":2,\"core\":1,\"rx_pps\":1,"
				"\"tx_pps\":1,\"drop_pps\":0,\"ring_fill\":0,\"busy\":0}",
				i > 1 ? "," : "", i);
	snprintf(payload + len, sizeof(payload) - (size_t)len, "]}");
	feed_r(f, 0, false, T0, "onvm/hosts/h1/stats", "%s", payload);
	const char *text = render(f, T0);
	assert_true(sample(text, "onvm_exporter_dropped_total{what=\"instance\"}") == 36);
	size_t series = 0;
	for (const char *p = text; (p = strstr(p, "\nonvm_instance_busy_ratio{")); p++)
		series++;
	assert_int_equal(series, EXPORTER_MAX_INSTANCES);
}

static void test_label_values_escaped(void **state)
{
	struct fixture *f = *state;
	/* An engine name is text: quotes and backslashes are allowed on the bus. */
	feed(f, T0, "onvm/policy/engines/pe-x",
	     "{\"v\":1,\"status\":\"online\",\"name\":\"a\\\"b\\\\c\",\"started_ms\":1}");
	const char *text = render(f, T0);
	assert_true(sample(text, "onvm_policy_engine_up{engine=\"pe-x\",name=\"a\\\"b\\\\c\"}") ==
		    1);
}

/* Every family has HELP and TYPE once, before its samples; each sample is
 * NAME{LABELS} VALUE with a known family. */
static void test_exposition_format(void **state)
{
	struct fixture *f = *state;
	state_online(f, T0, "h1", 4, 2);
	stats(f, T0, "h1", 1, 1000);
	feed(f, T0, "onvm/policy/decisions",
	     "{\"v\":1,\"engine\":\"pe-a\",\"ts_ms\":1,\"service\":2,\"origin\":\"h1\","
	     "\"target\":\"h2\",\"reason\":\"x\",\"shadow\":false}");
	char *text = strdup(render(f, T0));
	char families[128][96];
	int n_families = 0;
	char current[96] = "";
	bool typed = false;
	for (char *line = strtok(text, "\n"); line; line = strtok(NULL, "\n")) {
		char name[96], type[16];
		if (sscanf(line, "# HELP %95s", name) == 1) {
			for (int i = 0; i < n_families; i++)
				assert_string_not_equal(families[i], name);
			assert_true(n_families < 128);
			snprintf(families[n_families++], sizeof(families[0]), "%s", name);
			snprintf(current, sizeof(current), "%s", name);
			typed = false;
			continue;
		}
		if (sscanf(line, "# TYPE %95s %15s", name, type) == 2) {
			assert_string_equal(name, current);
			assert_true(strcmp(type, "gauge") == 0 || strcmp(type, "counter") == 0);
			size_t len = strlen(name);
			bool total = len > 6 && strcmp(name + len - 6, "_total") == 0;
			assert_int_equal(total, strcmp(type, "counter") == 0);
			typed = true;
			continue;
		}
		assert_true(typed);
		size_t len = strlen(current);
		assert_int_equal(strncmp(line, current, len), 0);
		assert_true(line[len] == '{' || line[len] == ' ');
		const char *space = strrchr(line, ' ');
		char *end;
		strtod(space + 1, &end);
		assert_true(*end == '\0' && end > space + 1);
	}
	assert_true(n_families > 20);
	free(text);
}

static void test_snapshot_is_a_copy(void **state)
{
	struct fixture *f = *state;
	state_online(f, T0, "h1", 4, 2);
	stats(f, T0, "h1", 1, 1000);
	struct exporter *copy = exporter_snapshot(f->e);
	assert_non_null(copy);
	stats(f, T0 + 500, "h1", 2, 1000);
	size_t len;
	char *text = exporter_render(copy, T0 + 500, &len);
	assert_true(sample(text, "onvm_instance_rx_packets_total" H1_INST) == 500);
	free(text);
	exporter_destroy(copy);
	assert_true(sample(render(f, T0 + 500), "onvm_instance_rx_packets_total" H1_INST) == 1000);
}

#define TEST(name) cmocka_unit_test_setup_teardown(name, setup, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
	    TEST(test_host_up_and_down),	   TEST(test_retained_state_is_no_sign_of_life),
	    TEST(test_counters_from_rates),	   TEST(test_first_state_after_stats),
	    TEST(test_absurd_rates_are_bounded),   TEST(test_service_instances_of_up_hosts),
	    TEST(test_decisions_by_kind_and_role), TEST(test_command_results_once_per_id),
	    TEST(test_rejections_by_kind),	   TEST(test_bounded_hosts_and_eviction),
	    TEST(test_bounded_instances),	   TEST(test_label_values_escaped),
	    TEST(test_exposition_format),	   TEST(test_snapshot_is_a_copy),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
