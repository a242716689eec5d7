/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * test_policy_top.c - unit tests of onvm-top's model (policy/top.c): raw
 * bus payloads in, table totals, event lines, and the reaction times of
 * local and remote scale-outs (onset, decision, spawned, first packet, with
 * and without first_rx_ms), spawns that fail, "no capacity", shadow
 * decisions, stops, malformed messages, events that arrive before their
 * decision, the draining rule the policy
 * applies, unserved demand, repairs, scale-outs decided from an alarm, and
 * service ids other than the defaults.
 */
#include <inttypes.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "top.h"
#include "view.h"

#define T0 UINT64_C(1795480000000) /* the table's start */

struct fixture {
	struct top *top;
	char events[16384];
};

static void capture(void *ctx, const char *line)
{
	struct fixture *f = ctx;
	size_t used = strlen(f->events);
	snprintf(f->events + used, sizeof(f->events) - used, "%s\n", line);
}

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	struct top_config config;
	top_config_default(&config);
	config.start_ms = T0;
	config.event = capture;
	config.event_ctx = f;
	f->top = top_create(&config);
	*state = f;
	return f->top ? 0 : -1;
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	top_destroy(f->top);
	free(f);
	return 0;
}

/* Feed a payload on onvm/<topic> at time T0 + at; returns top_feed_payload's answer. */
static int feed(struct fixture *f, const char *topic, uint64_t at, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static int feed(struct fixture *f, const char *topic, uint64_t at, const char *fmt, ...)
{
	char payload[4096], full_topic[256], err[256];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(payload, sizeof(payload), fmt, ap);
	va_end(ap);
	snprintf(full_topic, sizeof(full_topic), "onvm/%s", topic);
	return top_feed_payload(f->top, full_topic, payload, strlen(payload), false, T0 + at, err,
				sizeof(err));
}

static void put_state(struct fixture *f, const char *host, unsigned free_cores, uint64_t at)
{
	char topic[64];
	snprintf(topic, sizeof(topic), "hosts/%s/state", host);
	assert_int_equal(feed(f, topic, at,
			      "{\"v\":1,\"host\":\"%s\",\"status\":\"online\",\"epoch\":1,"
			      "\"ts_ms\":%" PRIu64 ",\"cores\":{\"total\":3,\"free\":%u}}",
			      host, T0 + at, free_cores),
			 1);
}

/* The services map: service 2 instances given, plus the generator (9) on h1. */
static void services(struct fixture *f, const char *host, unsigned n_slow, uint64_t at)
{
	char topic[64], list[512] = "";
	snprintf(topic, sizeof(topic), "hosts/%s/services", host);
	for (unsigned i = 0; i < n_slow; i++)
		snprintf(list + strlen(list), sizeof(list) - strlen(list),
			 "%s{\"instance\":%u,\"core\":%u,\"state\":\"running\"}", i ? "," : "",
			 10 + i, 2 + i);
	assert_int_equal(feed(f, topic, at,
			      "{\"v\":1,\"host\":\"%s\",\"ts_ms\":%" PRIu64
			      ",\"services\":{\"2\":[%s]%s}}",
			      host, T0 + at, list,
			      strcmp(host, "h1") == 0 ? ",\"9\":[{\"instance\":1,\"core\":1,"
							"\"state\":\"running\"}]"
						      : ""),
			 1);
}

/* One slow_thing instance's stats record (first_rx < 0: not reported). */
static void inst(char *buf, size_t len, unsigned instance, double rx, double drop, double fill,
		 int64_t first_rx)
{
	char extra[64] = "";
	if (first_rx >= 0)
		snprintf(extra, sizeof(extra), ",\"first_rx_ms\":%" PRIu64,
			 T0 + (uint64_t)first_rx);
	size_t used = strlen(buf);
	snprintf(buf + used, len - used,
		 "%s{\"instance\":%u,\"service\":2,\"core\":2,\"rx_pps\":%.0f,\"tx_pps\":%.0f,"
		 "\"drop_pps\":%.0f,\"ring_fill\":%.2f,\"busy\":1%s}",
		 used ? "," : "", instance, rx, rx, drop, fill, extra);
}

/* Stats of a host with the given instance records; h1 also carries the generator. */
static void stats(struct fixture *f, const char *host, uint64_t seq, uint64_t at, const char *insts,
		  double offered)
{
	char topic[64], gen[256] = "";
	snprintf(topic, sizeof(topic), "hosts/%s/stats", host);
	if (strcmp(host, "h1") == 0)
		snprintf(gen, sizeof(gen),
			 "%s{\"instance\":1,\"service\":9,\"core\":1,\"rx_pps\":0,\"tx_pps\":%.0f,"
			 "\"drop_pps\":0,\"ring_fill\":0,\"busy\":1}",
			 insts[0] ? "," : "", offered);
	assert_int_equal(feed(f, topic, at,
			      "{\"v\":1,\"host\":\"%s\",\"ts_ms\":%" PRIu64 ",\"seq\":%" PRIu64
			      ",\"period_ms\":500,\"ports\":[],\"instances\":[%s%s]}",
			      host, T0 + at, seq, insts, gen),
			 1);
}

/* h1's stats with its instance 10 (and 11 when given) at these loads. */
static void h1_stats(struct fixture *f, uint64_t seq, uint64_t at, double drop, double fill)
{
	char insts[1024] = "";
	inst(insts, sizeof(insts), 10, 20000, drop, fill, 0);
	stats(f, "h1", seq, at, insts, 20000);
}

static void cmd(struct fixture *f, const char *host, const char *id, const char *op_fields)
{
	char topic[64];
	snprintf(topic, sizeof(topic), "hosts/%s/cmd", host);
	assert_int_equal(feed(f, topic, 0,
			      "{\"v\":1,\"id\":\"%s\",\"engine\":\"pe-a\",%s,\"reason\":\"r\"}", id,
			      op_fields),
			 1);
}

static void decision(struct fixture *f, uint64_t at, const char *origin, const char *target,
		     const char *cmd_id, bool shadow)
{
	char target_json[64] = "null", cmd_json[64] = "";
	if (target)
		snprintf(target_json, sizeof(target_json), "\"%s\"", target);
	if (cmd_id)
		snprintf(cmd_json, sizeof(cmd_json), ",\"cmd_id\":\"%s\"", cmd_id);
	assert_int_equal(feed(f, "policy/decisions", at,
			      "{\"v\":1,\"engine\":\"pe-a\",\"ts_ms\":%" PRIu64
			      ",\"service\":2,\"origin\":\"%s\",\"target\":%s%s,\"reason\":\"%s\","
			      "\"shadow\":%s}",
			      T0 + at, origin, target_json, cmd_json,
			      target ? "service 2 overloaded on h1; the best host"
				     : "no capacity: overloaded; no free core",
			      shadow ? "true" : "false"),
			 1);
}

static void spawned(struct fixture *f, const char *host, uint64_t at, unsigned instance,
		    const char *cmd_id)
{
	char topic[64], cmd_json[64] = "";
	snprintf(topic, sizeof(topic), "hosts/%s/events", host);
	if (cmd_id)
		snprintf(cmd_json, sizeof(cmd_json), ",\"cmd_id\":\"%s\"", cmd_id);
	assert_int_equal(feed(f, topic, at,
			      "{\"v\":1,\"host\":\"%s\",\"ts_ms\":%" PRIu64
			      ",\"event\":\"spawned\",\"service\":2,\"instance\":%u,\"core\":4%s}",
			      host, T0 + at, instance, cmd_json),
			 1);
}

static char *summary(struct fixture *f)
{
	char *text = NULL;
	size_t len = 0;
	FILE *out = open_memstream(&text, &len);
	assert_non_null(out);
	top_print_summary(f->top, out);
	fclose(out);
	return text;
}

/* Two hosts up; h1 runs slow_thing (instance 10) and the generator. */
static void cluster(struct fixture *f)
{
	put_state(f, "h1", 1, 0);
	put_state(f, "h2", 3, 0);
	services(f, "h1", 1, 0);
	services(f, "h2", 0, 0);
}

/*
 * h1 overloaded from +1000 (after a calm +500), decided local at +2010,
 * spawned at +2300, first packet (first_rx_ms) at +2320; then calm, then
 * overloaded again from +3500, remote to h2 at +4510, spawned at +4900,
 * packets first seen in h2's stats at +5500 (no first_rx_ms).
 */
static void local_then_remote(struct fixture *f)
{
	cluster(f);
	h1_stats(f, 1, 500, 0, 0.1);
	h1_stats(f, 2, 1000, 5000, 1.0);
	h1_stats(f, 3, 1500, 5000, 1.0);
	h1_stats(f, 4, 2000, 5000, 1.0);
	cmd(f, "h1", "pe-a-1", "\"op\":\"spawn\",\"service\":2,\"count\":1");
	decision(f, 2010, "h1", "h1", "pe-a-1", false);
	decision(f, 2011, "h1", "h2", NULL, true); /* a shadow: not a scale-out */
	spawned(f, "h1", 2300, 11, "pe-a-1");
	services(f, "h1", 2, 2300);
	put_state(f, "h1", 0, 2300);

	char insts[1024] = "";
	inst(insts, sizeof(insts), 10, 20000, 3000, 1.0, 0);
	inst(insts, sizeof(insts), 11, 5000, 0, 0.1, 2320);
	stats(f, "h1", 5, 2500, insts, 28000);
	h1_stats(f, 6, 3000, 0, 0.1);
	h1_stats(f, 7, 3500, 8000, 1.0);
	h1_stats(f, 8, 4000, 8000, 1.0);
	h1_stats(f, 9, 4500, 8000, 1.0);
	cmd(f, "h2", "pe-a-2", "\"op\":\"spawn\",\"service\":2,\"count\":1");
	decision(f, 4510, "h1", "h2", "pe-a-2", false);
	spawned(f, "h2", 4900, 10, "pe-a-2");
	services(f, "h2", 1, 4900);

	insts[0] = '\0';
	inst(insts, sizeof(insts), 10, 0, 0, 0, -1);
	stats(f, "h2", 1, 5000, insts, 0);
	insts[0] = '\0';
	inst(insts, sizeof(insts), 10, 9000, 0, 0.2, -1);
	stats(f, "h2", 2, 5500, insts, 0);
	decision(f, 6000, "h1", NULL, NULL, false);
}

static void test_local_then_remote_times(void **state)
{
	struct fixture *f = *state;
	local_then_remote(f);
	assert_int_equal(top_scale_out_count(f->top), 3);

	const struct top_scale_out *a = top_get_scale_out(f->top, 0);
	assert_string_equal(a->origin, "h1");
	assert_string_equal(a->target, "h1");
	assert_true(a->has_onset);
	assert_int_equal(a->onset_ms, T0 + 1000);
	assert_int_equal(a->decision_ms - a->onset_ms, 1010);
	assert_true(a->spawned);
	assert_int_equal(a->spawned_ms - a->onset_ms, 1300);
	assert_int_equal(a->instance, 11);
	assert_true(a->has_first);
	assert_false(a->first_from_stats);
	assert_int_equal(a->first_ms - a->onset_ms, 1320);

	const struct top_scale_out *b = top_get_scale_out(f->top, 1);
	assert_string_equal(b->target, "h2");
	assert_true(b->has_onset);
	assert_int_equal(b->onset_ms, T0 + 3500);
	assert_int_equal(b->spawned_ms - b->onset_ms, 1400);
	assert_true(b->has_first);
	assert_true(b->first_from_stats);
	assert_int_equal(b->first_ms - b->onset_ms, 2000);

	const struct top_scale_out *c = top_get_scale_out(f->top, 2);
	assert_string_equal(c->target, "");

	char *text = summary(f);
	assert_non_null(
	    strstr(text, "scale-out 1: service 2 h1 -> h1 (local) onset->decision "
			 "1010 ms, ->spawned 1300 ms, ->first packet 1320 ms; onset: stats\n"));
	assert_non_null(
	    strstr(text, "scale-out 2: service 2 h1 -> h2 (remote) onset->decision "
			 "1010 ms, ->spawned 1400 ms, ->first packet 2000 ms; onset: stats\n"));
	assert_non_null(
	    strstr(text, "no capacity at +6.000 s: service 2 overloaded on h1: no free core\n"));
	assert_non_null(strstr(text, "2 scale-outs, 0 repairs, 1 no-capacity decisions"));
	free(text);

	struct top_counters counters;
	top_get_counters(f->top, &counters);
	assert_int_equal(counters.shadow_decisions, 1);
	assert_int_equal(counters.rejected, 0);
}

static void test_event_lines(void **state)
{
	struct fixture *f = *state;
	local_then_remote(f);
	assert_non_null(strstr(f->events, "h1: online, 1 of 3 NF cores free"));
	assert_non_null(strstr(f->events, "h1: service 2 overloaded since +1.0s"));
	assert_non_null(
	    strstr(f->events, "decision: spawn service 2 on h1 (local): the best host\n"));
	assert_non_null(
	    strstr(f->events, "decision: spawn service 2 on h2 (remote): the best host\n"));
	assert_non_null(
	    strstr(f->events, "h2: spawned service 2 instance 10 on core 4 for pe-a-2"));
	assert_non_null(strstr(f->events, "h2: service 2 instance 10 handled its first packet"));
	assert_non_null(strstr(f->events, "h1: service 2 calm again"));
	assert_non_null(
	    strstr(f->events, "decision: no host for service 2 overloaded on h1: no free core\n"));
	/* One line for the shadow decision would say "on h2" at +2.0 s: there is none. */
	assert_null(strstr(f->events, "[   +2.0s] decision: spawn service 2 on h2"));
}

static void test_totals_and_rows(void **state)
{
	struct fixture *f = *state;
	local_then_remote(f);
	struct top_totals t;
	top_get_totals(f->top, T0 + 5600, &t);
	assert_true(t.offered_pps == 28000);   /* h1: 20000 sent, 8000 dropped */
	assert_true(t.delivered_pps == 29000); /* 20000 on h1, 9000 on h2 */
	assert_true(t.drop_pps == 8000);
	assert_int_equal(t.instances, 3);
	assert_int_equal(top_host_count(f->top), 2);

	struct top_host_row row;
	top_get_host(f->top, 1, T0 + 5600, &row);
	assert_string_equal(row.name, "h2");
	assert_int_equal(row.status, TOP_HOST_ONLINE);
	assert_int_equal(row.instances, 1);
	assert_true(row.delivered_pps == 9000);

	/* Silent for longer than the staleness bound: stale, its rates gone. */
	top_get_host(f->top, 1, T0 + 5500 + 6000, &row);
	assert_int_equal(row.status, TOP_HOST_STALE);
	assert_true(row.delivered_pps == 0);
	/* The clock's turn tells it once. */
	top_tick(f->top, T0 + 5500 + 6000);
	top_tick(f->top, T0 + 5500 + 7000);
	const char *stale =
	    "h2: stale: silent since +5.5s; its 1 instances of service 2 count as gone\n";
	const char *at = strstr(f->events, stale);
	assert_non_null(at);
	assert_null(strstr(at + 1, stale));

	char *text = NULL;
	size_t len = 0;
	FILE *out = open_memstream(&text, &len);
	top_print_header(f->top, T0 + 5600, out);
	top_print_row(f->top, T0 + 5600, out);
	top_print_tsv_line(f->top, T0 + 5600, out);
	fclose(out);
	assert_non_null(strstr(text, "   5.6  28.0k  29.0k   8.0k   3 |  0/3    2 20.0k     -  "
				     "3/3    1  9.0k     -\n"));
	assert_non_null(strstr(text, "5.600\t28000\t29000\t8000\t3\t0\n"));
	for (char *line = strtok(text, "\n"); line; line = strtok(NULL, "\n"))
		assert_true(strlen(line) <= 100);
	free(text);
}

/* Overload that goes on after a scale-out: the onset is the first period after it ended. */
static void test_onset_after_previous_scale_out(void **state)
{
	struct fixture *f = *state;
	cluster(f);
	h1_stats(f, 1, 500, 5000, 1.0);
	h1_stats(f, 2, 1000, 5000, 1.0);
	h1_stats(f, 3, 1500, 5000, 1.0);
	decision(f, 1510, "h1", "h1", "pe-a-1", false);
	spawned(f, "h1", 1800, 11, "pe-a-1");
	char insts[1024] = "";
	inst(insts, sizeof(insts), 10, 20000, 5000, 1.0, 0);
	inst(insts, sizeof(insts), 11, 20000, 5000, 1.0, 1790);
	stats(f, "h1", 4, 2000, insts, 50000); /* the first packet was at +1790 */
	stats(f, "h1", 5, 2500, insts, 50000);
	stats(f, "h1", 6, 3000, insts, 50000);
	decision(f, 3010, "h1", "h2", "pe-a-2", false);

	const struct top_scale_out *a = top_get_scale_out(f->top, 0);
	assert_int_equal(a->onset_ms, T0 + 500);
	assert_int_equal(a->first_ms, T0 + 1790);
	const struct top_scale_out *b = top_get_scale_out(f->top, 1);
	assert_true(b->has_onset);
	assert_int_equal(b->onset_ms, T0 + 2000);
	assert_false(b->spawned);
	char *text = summary(f);
	assert_non_null(strstr(text, "scale-out 2: service 2 h1 -> h2 (remote) onset->decision "
				     "1010 ms, ->spawned n/a, ->first packet n/a; onset: stats\n"));
	free(text);
}

/*
 * A draining ring is not overload, for onvm-top exactly as for the policy:
 * h1's ring fills (+1000), then drains through 0.95 and 0.9 (+1500, +2000)
 * and only then holds at 0.9 (+2500 on). The onset is +2500, the first
 * period of the streak the policy's own view counts, not +1000.
 */
static void test_draining_ring_is_no_onset(void **state)
{
	struct fixture *f = *state;
	static const double fills[] = {0.1, 1.0, 0.95, 0.9, 0.9, 0.9, 0.9};
	struct policy_params params;
	policy_params_default(&params);
	struct view *policy_view = view_create(&params);
	assert_non_null(policy_view);
	struct bus_stats decoded = {0};
	char err[256];
	cluster(f);
	for (uint64_t seq = 1; seq <= sizeof(fills) / sizeof(fills[0]); seq++) {
		uint64_t at = 500 * seq;
		h1_stats(f, seq, at, 0, fills[seq - 1]);
		/* The same report, as the policy takes it. */
		char payload[1024], insts[512] = "";
		inst(insts, sizeof(insts), 10, 20000, 0, fills[seq - 1], 0);
		snprintf(payload, sizeof(payload),
			 "{\"v\":1,\"host\":\"h1\",\"ts_ms\":%" PRIu64 ",\"seq\":%" PRIu64
			 ",\"period_ms\":500,\"ports\":[],\"instances\":[%s]}",
			 T0 + at, seq, insts);
		assert_int_equal(
		    bus_decode_stats("h1", payload, strlen(payload), &decoded, err, sizeof(err)),
		    0);
		assert_int_equal(view_apply_stats(policy_view, &decoded, false, T0 + at), 1);
	}
	const struct view_host_svc *svc = view_host_svc_find(view_host_find(policy_view, "h1"), 2);
	assert_non_null(svc);
	assert_true(svc->streak);
	assert_int_equal(svc->streak_ms, T0 + 2500); /* the policy's streak */

	decision(f, 3510, "h1", "h2", "pe-a-1", false);
	const struct top_scale_out *so = top_get_scale_out(f->top, 0);
	assert_non_null(so);
	assert_true(so->has_onset);
	assert_int_equal(so->onset_ms, svc->streak_ms);
	assert_null(strstr(f->events, "overloaded since +1.0s"));
	assert_non_null(strstr(f->events, "h1: service 2 overloaded since +2.5s"));
	bus_stats_free(&decoded);
	view_destroy(policy_view);
}

/* A row and the TSV line at now (T0 + at), as printed. */
static char *printed_row(struct fixture *f, uint64_t at)
{
	char *text = NULL;
	size_t len = 0;
	FILE *out = open_memstream(&text, &len);
	assert_non_null(out);
	top_print_row(f->top, T0 + at, out);
	top_print_tsv_line(f->top, T0 + at, out);
	fclose(out);
	return text;
}

/*
 * Unserved demand: h2 drops 5000 pps of service 2 (and 100 of service 4)
 * because no host has an instance. It is offered and dropped load of the
 * watched service, h2's unserved column, and a line when it starts and ends.
 */
static void test_unserved_demand(void **state)
{
	struct fixture *f = *state;
	cluster(f);
	h1_stats(f, 1, 500, 0, 0.1);
	assert_int_equal(feed(f, "hosts/h2/stats", 500,
			      "{\"v\":1,\"host\":\"h2\",\"ts_ms\":%" PRIu64 ",\"seq\":1,"
			      "\"period_ms\":500,\"ports\":[],\"instances\":[],\"unserved\":["
			      "{\"service\":4,\"pps\":100},{\"service\":2,\"pps\":5000}]}",
			      T0 + 500),
			 1);
	struct top_totals t;
	top_get_totals(f->top, T0 + 600, &t);
	assert_true(t.unserved_pps == 5000);
	assert_true(t.offered_pps == 25000); /* 20000 sent by the generator, 5000 unserved */
	assert_true(t.delivered_pps == 20000);
	assert_true(t.drop_pps == 5000);
	struct top_host_row row;
	top_get_host(f->top, 0, T0 + 600, &row);
	assert_true(row.unserved_pps == 0);
	top_get_host(f->top, 1, T0 + 600, &row);
	assert_string_equal(row.name, "h2");
	assert_true(row.unserved_pps == 5000);
	assert_non_null(strstr(f->events, "h2: service 2 unserved: 5000 pps for it arrive and no "
					  "host has an instance\n"));
	char *text = printed_row(f, 600);
	assert_non_null(strstr(text, "   0.6  25.0k  20.0k   5.0k   1 |  1/3    1 20.0k     -  "
				     "3/3    0     0  5.0k\n"));
	assert_non_null(strstr(text, "0.600\t25000\t20000\t5000\t1\t5000\n"));
	free(text);

	/* Served again: the column and the totals go back to nothing. */
	assert_int_equal(feed(f, "hosts/h2/stats", 1000,
			      "{\"v\":1,\"host\":\"h2\",\"ts_ms\":%" PRIu64 ",\"seq\":2,"
			      "\"period_ms\":500,\"ports\":[],\"instances\":[]}",
			      T0 + 1000),
			 1);
	assert_non_null(strstr(f->events, "h2: service 2 served again\n"));
	top_get_totals(f->top, T0 + 1100, &t);
	assert_true(t.unserved_pps == 0);
	assert_true(t.drop_pps == 0);
	top_get_host(f->top, 1, T0 + 1100, &row);
	assert_true(row.unserved_pps == 0);
}

/* A repair decision (no origin) on the bus, at T0 + at. */
static void repair(struct fixture *f, uint64_t at, const char *target, const char *cmd_id)
{
	assert_int_equal(feed(f, "policy/decisions", at,
			      "{\"v\":1,\"engine\":\"pe-a\",\"ts_ms\":%" PRIu64
			      ",\"service\":2,\"origin\":null,\"target\":\"%s\",\"cmd_id\":"
			      "\"%s\",\"reason\":\"below min 1\",\"shadow\":false}",
			      T0 + at, target, cmd_id),
			 1);
}

/*
 * A decision with no origin is a repair: listed apart, timed from the loss
 * it replaces. h3's instance is lost when h3 falls silent (last heard at
 * +200, stale by +5600); later h1's instance exits (+6500).
 */
static void test_repair(void **state)
{
	struct fixture *f = *state;
	cluster(f);
	put_state(f, "h3", 2, 0);
	services(f, "h3", 1, 0);
	char insts[512] = "";
	inst(insts, sizeof(insts), 10, 9000, 0, 0.1, 0);
	stats(f, "h3", 1, 200, insts, 0);
	for (uint64_t seq = 1; seq <= 11; seq++) { /* h1 and h2 stay alive */
		h1_stats(f, seq, 500 * seq, 0, 0.1);
		stats(f, "h2", seq, 500 * seq, "", 0);
	}
	cmd(f, "h2", "pe-a-7", "\"op\":\"spawn\",\"service\":2,\"count\":1");
	repair(f, 5600, "h2", "pe-a-7");
	spawned(f, "h2", 5900, 10, "pe-a-7");
	insts[0] = '\0';
	inst(insts, sizeof(insts), 10, 9000, 0, 0.1, 5920);
	stats(f, "h2", 12, 6000, insts, 0);
	assert_int_equal(feed(f, "hosts/h1/events", 6500,
			      "{\"v\":1,\"host\":\"h1\",\"ts_ms\":%" PRIu64
			      ",\"event\":\"exited\",\"service\":2,\"instance\":10}",
			      T0 + 6500),
			 1);
	repair(f, 6600, "h2", "pe-a-8");

	assert_int_equal(top_scale_out_count(f->top), 2);
	const struct top_scale_out *so = top_get_scale_out(f->top, 0);
	assert_true(so->repair);
	assert_false(so->has_onset);
	assert_string_equal(so->origin, "");
	assert_true(so->has_loss);
	assert_string_equal(so->lost_on, "h3");
	assert_int_equal(so->loss_ms, T0 + 200);
	assert_true(so->spawned);
	assert_int_equal(so->first_ms, T0 + 5920);
	so = top_get_scale_out(f->top, 1);
	assert_true(so->has_loss);
	assert_string_equal(so->lost_on, "h1");
	assert_int_equal(so->loss_ms, T0 + 6500);
	assert_non_null(
	    strstr(f->events, "decision: repair: spawn service 2 on h2: below min 1\n"));
	char *text = summary(f);
	assert_non_null(strstr(text, "repair 1: service 2 -> h2 (lost on h3 at +0.200 s (last "
				     "heard)), command pe-a-7: ->decision 5400 ms, ->spawned "
				     "5700 ms, ->first packet 5720 ms\n"));
	assert_non_null(strstr(text, "repair 2: service 2 -> h2 (lost on h1 at +6.500 s "
				     "(exited)), command pe-a-8: ->decision 100 ms, ->spawned "
				     "n/a, ->first packet n/a\n"));
	assert_non_null(strstr(text, "no scale-out of service 2 seen\n"));
	assert_non_null(strstr(text, "0 scale-outs, 2 repairs, 0 no-capacity decisions"));
	assert_null(strstr(text, "\nscale-out "));
	free(text);
}

/* A repair after a host went offline: timed from its offline state. */
static void test_repair_after_offline(void **state)
{
	struct fixture *f = *state;
	cluster(f);
	assert_int_equal(
	    feed(f, "hosts/h1/state", 3000, "{\"v\":1,\"host\":\"h1\",\"status\":\"offline\"}"), 1);
	repair(f, 3250, "h2", "pe-a-3");
	const struct top_scale_out *so = top_get_scale_out(f->top, 0);
	assert_non_null(so);
	assert_true(so->has_loss);
	assert_string_equal(so->lost_on, "h1");
	assert_int_equal(so->loss_ms, T0 + 3000);
	assert_string_equal(so->loss_how, "offline");
	char *text = summary(f);
	assert_non_null(strstr(text, "repair 1: service 2 -> h2 (lost on h1 at +3.000 s "
				     "(offline)), command pe-a-3: ->decision 250 ms,"));
	free(text);
}

/* The service ids are the configuration's: here 5 watched, 6 the generator. */
static void test_other_service_ids(void **state)
{
	struct fixture *f = *state;
	top_destroy(f->top);
	struct top_config config;
	top_config_default(&config);
	config.service = 5;
	config.gen_service = 6;
	config.start_ms = T0;
	config.event = capture;
	config.event_ctx = f;
	f->top = top_create(&config);
	assert_non_null(f->top);
	put_state(f, "h1", 1, 0);
	assert_int_equal(feed(f, "hosts/h1/services", 0,
			      "{\"v\":1,\"host\":\"h1\",\"ts_ms\":%" PRIu64 ",\"services\":{"
			      "\"5\":[{\"instance\":3,\"core\":2,\"state\":\"running\"}],"
			      "\"2\":[{\"instance\":4,\"core\":3,\"state\":\"running\"}]}}",
			      T0),
			 1);
	for (uint64_t seq = 1; seq <= 3; seq++)
		assert_int_equal(
		    feed(f, "hosts/h1/stats", 500 * seq,
			 "{\"v\":1,\"host\":\"h1\",\"ts_ms\":%" PRIu64 ",\"seq\":%" PRIu64
			 ",\"period_ms\":500,\"ports\":[],\"instances\":["
			 "{\"instance\":3,\"service\":5,\"core\":2,\"rx_pps\":7000,\"tx_pps\":7000,"
			 "\"drop_pps\":3000,\"ring_fill\":1,\"busy\":1},"
			 "{\"instance\":4,\"service\":2,\"core\":3,\"rx_pps\":1,\"tx_pps\":1,"
			 "\"drop_pps\":9999,\"ring_fill\":1,\"busy\":1},"
			 "{\"instance\":1,\"service\":6,\"core\":1,\"rx_pps\":0,\"tx_pps\":7000,"
			 "\"drop_pps\":0,\"ring_fill\":0,\"busy\":1}]}",
			 T0 + 500 * seq, seq),
		    1);
	struct top_totals t;
	top_get_totals(f->top, T0 + 1600, &t);
	assert_true(t.offered_pps == 10000); /* 7000 sent by 6, 3000 dropped by 5 */
	assert_true(t.delivered_pps == 7000);
	assert_true(t.drop_pps == 3000);
	assert_int_equal(t.instances, 1);
	assert_non_null(strstr(f->events, "h1: service 5 overloaded since +0.5s"));
	assert_null(strstr(f->events, "service 2 overloaded"));
	char *text = NULL;
	size_t len = 0;
	FILE *out = open_memstream(&text, &len);
	top_print_legend(f->top, out);
	fclose(out);
	assert_non_null(strstr(text, "load generator (service 6)"));
	assert_non_null(strstr(text, "what service 5 sent on"));
	free(text);
}

static void test_rejected_and_stop(void **state)
{
	struct fixture *f = *state;
	cluster(f);
	h1_stats(f, 1, 500, 5000, 1.0);
	decision(f, 600, "h1", "h2", "pe-a-1", false);
	assert_int_equal(feed(f, "hosts/h2/events", 700,
			      "{\"v\":1,\"host\":\"h2\",\"ts_ms\":%" PRIu64
			      ",\"event\":\"rejected\",\"service\":2,\"cmd_id\":\"pe-a-1\","
			      "\"error\":\"no free core\"}",
			      T0 + 700),
			 1);
	cmd(f, "h1", "pe-a-2", "\"op\":\"stop\",\"service\":2,\"instance\":10");
	decision(f, 800, "h1", "h1", "pe-a-2", false);
	decision(f, 900, "h1", "h3", "pe-a-3", false);
	assert_int_equal(feed(f, "hosts/h3/events", 950,
			      "{\"v\":1,\"host\":\"h3\",\"ts_ms\":%" PRIu64
			      ",\"event\":\"exited\",\"service\":2,\"instance\":4,"
			      "\"cmd_id\":\"pe-a-3\",\"error\":\"killed before registering\"}",
			      T0 + 950),
			 1);
	assert_int_equal(top_scale_out_count(f->top), 2);
	assert_true(top_get_scale_out(f->top, 0)->failed);
	assert_true(top_get_scale_out(f->top, 1)->failed);
	assert_false(top_get_scale_out(f->top, 1)->spawned);
	assert_non_null(strstr(f->events, "h2: rejected service 2: no free core for pe-a-1"));
	assert_non_null(strstr(f->events, "decision: stop service 2 instance 10 on h1"));
	char *text = summary(f);
	assert_non_null(strstr(text, "spawned         never: rejected: no free core\n"));
	assert_non_null(strstr(text, "spawned         never: exited: killed before registering\n"));
	assert_non_null(strstr(text,
			       "scale-out 2: service 2 h1 -> h3 (remote) onset->decision "
			       "400 ms, ->spawned failed, ->first packet n/a; onset: stats\n"));
	free(text);
}

static void test_malformed_messages(void **state)
{
	struct fixture *f = *state;
	cluster(f);
	assert_int_equal(feed(f, "hosts/h1/stats", 100, "not json"), -1);
	assert_int_equal(feed(f, "hosts/h1/stats", 100, "{\"v\":2}"), -1);
	assert_int_equal(
	    feed(f, "hosts/h2/state", 100, "{\"v\":1,\"host\":\"h1\",\"status\":\"offline\"}"),
	    -1); /* host differs from the topic */
	assert_int_equal(feed(f, "policy/decisions", 100, "{\"v\":1,\"service\":\"two\"}"), -1);
	assert_int_equal(feed(f, "elsewhere/x", 100, "{}"), 0);
	char err[64];
	assert_int_equal(
	    top_feed_payload(f->top, "other/topic", "x", 1, false, T0, err, sizeof(err)), 0);
	struct top_counters counters;
	top_get_counters(f->top, &counters);
	assert_int_equal(counters.rejected, 4);
	assert_int_equal(counters.ignored, 2);
	assert_int_equal(top_scale_out_count(f->top), 0);
	struct top_host_row row;
	top_get_host(f->top, 1, T0 + 200, &row);
	assert_int_equal(row.status, TOP_HOST_ONLINE);
}

static void test_offline_and_natural_order(void **state)
{
	struct fixture *f = *state;
	put_state(f, "h10", 3, 0);
	put_state(f, "h2", 3, 0);
	put_state(f, "h1", 3, 0);
	services(f, "h2", 2, 0);
	assert_int_equal(
	    feed(f, "hosts/h2/state", 50, "{\"v\":1,\"host\":\"h2\",\"status\":\"offline\"}"), 1);
	struct top_host_row row;
	const char *order[] = {"h1", "h2", "h10"};
	for (uint32_t i = 0; i < 3; i++) {
		top_get_host(f->top, i, T0 + 100, &row);
		assert_string_equal(row.name, order[i]);
	}
	top_get_host(f->top, 1, T0 + 100, &row);
	assert_int_equal(row.status, TOP_HOST_OFFLINE);
	assert_int_equal(row.instances, 0);
	struct top_totals t;
	top_get_totals(f->top, T0 + 100, &t);
	assert_int_equal(t.instances, 0);
	assert_non_null(strstr(f->events, "h2: offline"));
}

/* h1's alarm: its instance 10 of service 2 overloaded since T0 + since, told at T0 + at. */
static void alarm(struct fixture *f, uint64_t at, uint64_t since)
{
	assert_int_equal(feed(f, "hosts/h1/alarms", at,
			      "{\"v\":1,\"host\":\"h1\",\"ts_ms\":%" PRIu64
			      ",\"service\":2,\"instance\":10,\"drop_pps\":9000,\"ring_fill\":1.0,"
			      "\"since_ms\":%" PRIu64 "}",
			      T0 + at, T0 + since),
			 1);
}

static void decision_because(struct fixture *f, uint64_t at, const char *target, const char *cmd_id,
			     const char *reason)
{
	assert_int_equal(feed(f, "policy/decisions", at,
			      "{\"v\":1,\"engine\":\"pe-a\",\"ts_ms\":%" PRIu64
			      ",\"service\":2,\"origin\":\"h1\",\"target\":\"%s\","
			      "\"cmd_id\":\"%s\",\"reason\":\"%s\",\"shadow\":false}",
			      T0 + at, target, cmd_id, reason),
			 1);
}

/*
 * A scale-out the policy decided from an alarm is timed from the alarm's
 * since_ms (+1015, what h1's manager measured), not from the first
 * overloaded stats period (+1500): h1 is calm at +1000, alarms at +1040,
 * the decision says "(alarm: " at +1045, spawned +1300, first packet +1320.
 * The next overload is decided from stats (+3000) while an alarm of it was
 * seen (+2520): that one keeps the stats onset (+2500).
 */
static void test_alarm_onset(void **state)
{
	struct fixture *f = *state;
	cluster(f);
	h1_stats(f, 1, 500, 0, 0.1);
	h1_stats(f, 2, 1000, 0, 0.1);
	alarm(f, 1040, 1015);
	cmd(f, "h1", "pe-a-1", "\"op\":\"spawn\",\"service\":2,\"count\":1");
	decision_because(f, 1045, "h1", "pe-a-1",
			 "service 2 overloaded on h1 (alarm: instance 10, drops 9000 pps, ring "
			 "1.00, for 25 ms); local: h1 has 1 free core(s)");
	h1_stats(f, 3, 1500, 5000, 1.0);
	spawned(f, "h1", 1300, 11, "pe-a-1");
	services(f, "h1", 2, 1300);
	char insts[1024] = "";
	inst(insts, sizeof(insts), 10, 20000, 0, 0.5, 0);
	inst(insts, sizeof(insts), 11, 5000, 0, 0.1, 1320);
	stats(f, "h1", 4, 2000, insts, 25000);

	const struct top_scale_out *a = top_get_scale_out(f->top, 0);
	assert_non_null(a);
	assert_true(a->has_onset);
	assert_true(a->onset_from_alarm);
	assert_int_equal(a->alarm_instance, 10);
	assert_int_equal(a->onset_ms, T0 + 1015);
	assert_int_equal(a->decision_ms - a->onset_ms, 30);
	assert_int_equal(a->first_ms - a->onset_ms, 305);
	assert_non_null(strstr(f->events,
			       "h1: alarm: service 2 instance 10 overloaded since +1.015s "
			       "(drops 9000 pps, ring fill 1.00)"));

	h1_stats(f, 5, 2500, 8000, 1.0);
	alarm(f, 2520, 2500);
	h1_stats(f, 6, 3000, 8000, 1.0);
	h1_stats(f, 7, 3500, 8000, 1.0);
	cmd(f, "h2", "pe-a-2", "\"op\":\"spawn\",\"service\":2,\"count\":1");
	decision_because(f, 3510, "h2", "pe-a-2",
			 "service 2 overloaded on h1 for 3 periods (drops 8000 pps, ring 1.00); "
			 "remote: h2 has 3 free core(s)");
	const struct top_scale_out *b = top_get_scale_out(f->top, 1);
	assert_non_null(b);
	assert_true(b->has_onset);
	assert_false(b->onset_from_alarm);
	assert_int_equal(b->onset_ms, T0 + 2500);

	char *text = summary(f);
	assert_non_null(strstr(text, "  overload onset  at +1.015 s (alarm from h1: instance 10 "
				     "overloaded since then, as its manager measured)\n"));
	assert_non_null(strstr(text,
			       "scale-out 1: service 2 h1 -> h1 (local) onset->decision 30 "
			       "ms, ->spawned 285 ms, ->first packet 305 ms; onset: alarm\n"));
	assert_non_null(strstr(text, "  overload onset  at +2.500 s (first overloaded stats "
				     "period on h1)\n"));
	assert_non_null(strstr(text, "scale-out 2: service 2 h1 -> h2 (remote) onset->decision "
				     "1010 ms, ->spawned n/a, ->first packet n/a; onset: stats\n"));
	free(text);
}

/*
 * Replay in the order a broker may deliver: h2's "spawned" (and h3's
 * "rejected") reach onvm-top before the decisions they answer, which come
 * from another publisher on another topic; a stop's decision comes before
 * its command.  Each event is kept by cmd_id and attached when its decision
 * arrives; the stop is not counted as a scale-out.
 */
static void test_event_before_decision(void **state)
{
	struct fixture *f = *state;
	cluster(f);
	put_state(f, "h3", 3, 0);
	h1_stats(f, 1, 500, 0, 0.1);
	h1_stats(f, 2, 1000, 5000, 1.0);
	h1_stats(f, 3, 1500, 5000, 1.0);
	h1_stats(f, 4, 2000, 5000, 1.0);
	spawned(f, "h2", 2300, 10, "pe-a-1");
	assert_int_equal(feed(f, "hosts/h3/events", 2400,
			      "{\"v\":1,\"host\":\"h3\",\"ts_ms\":%" PRIu64
			      ",\"event\":\"rejected\",\"service\":2,\"cmd_id\":\"pe-a-2\","
			      "\"error\":\"no free core\"}",
			      T0 + 2400),
			 1);
	spawned(f, "h2", 2450, 12, "pe-a-9"); /* answers nothing onvm-top sees */
	decision(f, 2010, "h1", "h2", "pe-a-1", false);
	decision(f, 2020, "h1", "h3", "pe-a-2", false);
	decision(f, 2500, "h1", "h1", "pe-a-3", false);
	cmd(f, "h1", "pe-a-3", "\"op\":\"stop\",\"service\":2,\"instance\":10");

	assert_int_equal(top_scale_out_count(f->top), 2);
	const struct top_scale_out *a = top_get_scale_out(f->top, 0);
	assert_string_equal(a->cmd_id, "pe-a-1");
	assert_true(a->spawned);
	assert_int_equal(a->instance, 10);
	assert_int_equal(a->spawned_ms - a->onset_ms, 1300);
	const struct top_scale_out *b = top_get_scale_out(f->top, 1);
	assert_string_equal(b->cmd_id, "pe-a-2");
	assert_true(b->failed);
	char *text = summary(f);
	assert_non_null(strstr(text, "scale-out 1: service 2 h1 -> h2 (remote) onset->decision "
				     "1010 ms, ->spawned 1300 ms,"));
	assert_non_null(strstr(text, "spawned         never: rejected: no free core\n"));
	assert_non_null(strstr(text, "2 scale-outs, 0 repairs, 0 no-capacity decisions"));
	free(text);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_local_then_remote_times, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_event_lines, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_totals_and_rows, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_onset_after_previous_scale_out, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_draining_ring_is_no_onset, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_unserved_demand, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_repair, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_repair_after_offline, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_other_service_ids, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_rejected_and_stop, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_malformed_messages, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_offline_and_natural_order, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_alarm_onset, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_event_before_decision, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
