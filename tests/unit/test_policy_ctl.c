/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * test_policy_ctl.c - unit tests of onvm-ctl's logic (policy/ctl.c): the
 * command line (verbs, their options, what is refused, --config), the tables and
 * their JSON from raw bus payloads, who leads among the engines, the
 * command it builds, the answers a request takes (and those it does not),
 * and watch's lines, with answers that arrive before their command or
 * decision.
 */
#include <inttypes.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "ctl.h"
#include "ingest.h"

#define T0 UINT64_C(1795480000000)

/* ---- the command line ---- */

static int parse(struct ctl_options *o, const char *line)
{
	char copy[1024], *argv[64], err[256];
	int argc = 0;
	snprintf(copy, sizeof(copy), "onvm-ctl %s", line);
	for (char *word = strtok(copy, " "); word && argc < 63; word = strtok(NULL, " "))
		argv[argc++] = word;
	argv[argc] = NULL;
	return ctl_parse(argc, argv, o, err, sizeof(err));
}

static void test_parse(void **state)
{
	(void)state;
	struct ctl_options o;
	assert_int_equal(parse(&o, "-b tcp://127.0.0.1:1883 hosts"), 0);
	assert_int_equal(o.verb, CTL_HOSTS);
	assert_false(o.json);
	assert_int_equal(o.wait_ms, CTL_WAIT_MS_DEFAULT);
	assert_string_equal(ctl_default_user(o.verb), "monitor");

	assert_int_equal(parse(&o, "instances -b tcp://b:1 --json -H h2 --wait-ms 300"), 0);
	assert_int_equal(o.verb, CTL_INSTANCES);
	assert_true(o.json);
	assert_string_equal(o.host, "h2");
	assert_int_equal(o.wait_ms, 300);

	assert_int_equal(parse(&o, "-b tcp://b:1 -u ops spawn 7 -H h1 -c 3 -t 2000 -r why"), 0);
	assert_int_equal(o.verb, CTL_SPAWN);
	assert_int_equal(o.service, 7);
	assert_int_equal(o.count, 3);
	assert_int_equal(o.timeout_ms, 2000);
	assert_string_equal(o.reason, "why");
	assert_string_equal(o.bus.user, "ops");
	assert_string_equal(ctl_default_user(o.verb), "policy");

	assert_int_equal(parse(&o, "-b tcp://b:1 stop --host h1 --instance 4"), 0);
	assert_int_equal(o.verb, CTL_STOP);
	assert_int_equal(o.instance, 4);
	assert_int_equal(o.service, 0); /* looked up in the services map */
	assert_int_equal(parse(&o, "-b tcp://b:1 watch -n 5"), 0);
	assert_int_equal(o.messages, 5);
	assert_int_equal(parse(&o, "-b tcp://b:1 engines --json"), 0);

	assert_int_equal(parse(&o, "-h"), CTL_PARSE_HELP);
	assert_int_equal(parse(&o, "--version"), CTL_PARSE_VERSION);

	static const char *const bad[] = {
	    "-b tcp://b:1",			   /* no verb */
	    "hosts",				   /* no broker */
	    "-b tcp://b:1 status",		   /* unknown verb */
	    "-b tcp://b:1 spawn",		   /* no service */
	    "-b tcp://b:1 spawn 2",		   /* no host */
	    "-b tcp://b:1 spawn 0 -H h1",	   /* service out of range */
	    "-b tcp://b:1 spawn 65536 -H h1",	   /* ... */
	    "-b tcp://b:1 spawn 2x -H h1",	   /* not a number */
	    "-b tcp://b:1 spawn 2 -H h1 -c 65",	   /* count out of range */
	    "-b tcp://b:1 spawn 2 -H a/b",	   /* not a host name */
	    "-b tcp://b:1 spawn 2 -H h1 extra",	   /* extra argument */
	    "-b tcp://b:1 stop -H h1",		   /* no instance */
	    "-b tcp://b:1 stop -I 0 -H h1",	   /* instance 0 */
	    "-b tcp://b:1 hosts -c 2",		   /* an option of another verb */
	    "-b tcp://b:1 engines -H h1",	   /* ... */
	    "-b tcp://b:1 watch --json",	   /* ... */
	    "-b tcp://b:1 spawn 2 -H h1 --json",   /* ... */
	    "-b tcp://b:1 hosts --wait-ms 700000", /* out of range */
	    "-b tcp://b:1 hosts --frob",	   /* unknown option */
	    "-b tcp://b:1 hosts -w",		   /* missing value */
	    "-b tcp://b:1 --bus-cert c.pem hosts", /* TLS file on tcp:// */
	    "-b tcp://b:1 spawn 2 -H h1 -t 50",	   /* timeout too short */
	    "-b tcp://b:1 -u a/b hosts",	   /* identity with '/' */
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		if (parse(&o, bad[i]) != -1)
			fail_msg("accepted '%s'", bad[i]);
	}
}

/* --config FILE: the file's options first, the command line's win. */
static void test_config_file(void **state)
{
	(void)state;
	char path[] = "/tmp/test_policy_ctl.XXXXXX", line[512];
	int fd = mkstemp(path);
	assert_true(fd >= 0);
	FILE *file = fdopen(fd, "w");
	fputs("{\"broker\": \"tcp://broker:1883\", \"bus-user\": \"ops\", \"wait-ms\": 300}", file);
	fclose(file);
	struct ctl_options o;
	snprintf(line, sizeof(line), "--config %s hosts", path);
	assert_int_equal(parse(&o, line), 0);
	assert_string_equal(o.bus.uri, "tcp://broker:1883");
	assert_string_equal(o.bus.user, "ops");
	assert_int_equal(o.wait_ms, 300);
	snprintf(line, sizeof(line), "hosts -u other --config=%s", path);
	assert_int_equal(parse(&o, line), 0);
	assert_string_equal(o.bus.user, "other");
	snprintf(line, sizeof(line), "--config %s --config %s hosts", path, path);
	assert_int_equal(parse(&o, line), -1);

	file = fopen(path, "w");
	fputs("{\"broker\": \"tcp://broker:1883\", \"verb\": \"hosts\"}", file);
	fclose(file);
	snprintf(line, sizeof(line), "--config %s hosts", path);
	assert_int_equal(parse(&o, line), -1); /* an unknown key */
	unlink(path);
}

/* ---- the cluster ---- */

struct fixture {
	struct ctl_cluster *cluster;
	struct policy_ingest ingest;
	struct ctl_watch watch;
	char line[CTL_LINE_LEN];
};

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	f->cluster = ctl_cluster_create();
	policy_ingest_init(&f->ingest);
	*state = f;
	return f->cluster ? 0 : -1;
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	ctl_cluster_destroy(f->cluster);
	policy_ingest_free(&f->ingest);
	free(f);
	return 0;
}

static const struct bus_msg *decode(struct fixture *f, const char *topic, const char *fmt,
				    va_list ap) __attribute__((format(printf, 3, 0)));

static const struct bus_msg *decode(struct fixture *f, const char *topic, const char *fmt,
				    va_list ap)
{
	char payload[4096], full[256], err[256];
	vsnprintf(payload, sizeof(payload), fmt, ap);
	snprintf(full, sizeof(full), "onvm/%s", topic);
	const struct bus_msg *msg = NULL;
	if (policy_ingest_decode(&f->ingest, full, payload, strlen(payload), &msg, err,
				 sizeof(err)) != 1)
		fail_msg("%s %s: %s", full, payload, err);
	return msg;
}

/* Feed the cluster a payload on onvm/TOPIC. */
static void feed(struct fixture *f, const char *topic, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void feed(struct fixture *f, const char *topic, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	const struct bus_msg *msg = decode(f, topic, fmt, ap);
	va_end(ap);
	assert_int_equal(ctl_cluster_feed(f->cluster, msg), 0);
}

/* Watch's line for a payload on onvm/TOPIC, in f->line. */
static const char *watch(struct fixture *f, bool retained, const char *topic, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static const char *watch(struct fixture *f, bool retained, const char *topic, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	const struct bus_msg *msg = decode(f, topic, fmt, ap);
	va_end(ap);
	ctl_watch_line(&f->watch, msg, retained, f->line, sizeof(f->line));
	return f->line;
}

static char *printed(struct fixture *f, enum ctl_verb verb, const char *host, bool json)
{
	char *text = NULL;
	size_t len = 0;
	FILE *out = open_memstream(&text, &len);
	assert_non_null(out);
	switch (verb) {
	case CTL_HOSTS:
		ctl_print_hosts(f->cluster, host, json, out);
		break;
	case CTL_SERVICES:
		ctl_print_services(f->cluster, host, json, out);
		break;
	case CTL_INSTANCES:
		ctl_print_instances(f->cluster, host, json, out);
		break;
	default:
		ctl_print_engines(f->cluster, json, out);
		break;
	}
	fclose(out);
	if (getenv("CTL_TEST_SHOW"))
		fputs(text, stderr);
	return text;
}

static void state(struct fixture *f, const char *host, unsigned free_cores)
{
	char topic[64];
	snprintf(topic, sizeof(topic), "hosts/%s/state", host);
	feed(f, topic,
	     "{\"v\":1,\"host\":\"%s\",\"status\":\"online\",\"epoch\":1,\"ts_ms\":%" PRIu64
	     ",\"cores\":{\"total\":4,\"free\":%u},\"version\":\"0.9.0\"}",
	     host, T0, free_cores);
}

/* h10 (listed after h2: natural order) runs service 2 twice and 3 once; h2 runs 2 once. */
static void cluster(struct fixture *f)
{
	state(f, "h10", 1);
	state(f, "h2", 3);
	feed(
	    f, "hosts/h10/services",
	    "{\"v\":1,\"host\":\"h10\",\"ts_ms\":1,\"services\":{\"2\":[{\"instance\":1,\"core\":1,"
	    "\"state\":\"running\"},{\"instance\":4,\"core\":2,\"state\":\"starting\"}],"
	    "\"3\":[{\"instance\":2,\"core\":3,\"state\":\"running\"}]}}");
	feed(f, "hosts/h2/services",
	     "{\"v\":1,\"host\":\"h2\",\"ts_ms\":1,\"services\":{\"2\":[{\"instance\":7,\"core\":1,"
	     "\"state\":\"running\"}]}}");
}

static void h10_stats(struct fixture *f)
{
	feed(f, "hosts/h10/stats",
	     "{\"v\":1,\"host\":\"h10\",\"ts_ms\":%" PRIu64 ",\"seq\":3,\"period_ms\":500,"
	     "\"ports\":[],\"instances\":[{\"instance\":1,\"service\":2,\"core\":1,\"rx_pps\":1000,"
	     "\"tx_pps\":900,\"drop_pps\":100,\"ring_fill\":0.5,\"busy\":1},{\"instance\":2,"
	     "\"service\":3,\"core\":3,\"rx_pps\":50,\"tx_pps\":50,\"drop_pps\":0,"
	     "\"ring_fill\":0,\"busy\":0.25}]}",
	     T0);
}

static void test_tables(void **state)
{
	struct fixture *f = *state;
	assert_false(ctl_cluster_settled(f->cluster)); /* nothing known yet */
	cluster(f);
	assert_false(ctl_cluster_settled(f->cluster));
	h10_stats(f);
	assert_false(ctl_cluster_settled(f->cluster)); /* h2 sent none */
	feed(f, "hosts/h2/stats",
	     "{\"v\":1,\"host\":\"h2\",\"ts_ms\":%" PRIu64 ",\"seq\":1,\"period_ms\":500,"
	     "\"ports\":[],\"instances\":[]}",
	     T0);
	assert_true(ctl_cluster_settled(f->cluster));

	char *text = printed(f, CTL_HOSTS, NULL, false);
	assert_non_null(strstr(text, "HOST "));
	char *h2 = strstr(text, "\nh2 ");
	char *h10 = strstr(text, "\nh10 ");
	assert_non_null(h2);
	assert_non_null(h10);
	assert_true(h2 < h10);
	assert_non_null(strstr(text, "h10              online       1     4         3       1050"
				     "        100 0.9.0\n"));
	free(text);

	text = printed(f, CTL_HOSTS, "h2", true);
	assert_string_equal(text, "{\"hosts\":[{\"host\":\"h2\",\"status\":\"online\","
				  "\"instances\":1,\"cores\":{\"total\":4,\"free\":3},"
				  "\"rx_pps\":0.0,\"drop_pps\":0.0,\"version\":\"0.9.0\"}]}\n");
	free(text);

	text = printed(f, CTL_SERVICES, NULL, false);
	assert_non_null(strstr(text, "\n2               3       1000        100 h2,h10\n"));
	assert_non_null(strstr(text, "\n3               1         50          0 h10\n"));
	free(text);
	text = printed(f, CTL_SERVICES, NULL, true);
	assert_non_null(strstr(text, "{\"service\":2,\"instances\":3,\"hosts\":[\"h2\",\"h10\"],"
				     "\"rx_pps\":1000.0,\"drop_pps\":100.0}"));
	free(text);

	text = printed(f, CTL_INSTANCES, "h10", false);
	assert_non_null(strstr(text, "\nh10                     1       2     1 running        1000"
				     "        900        100  0.50  1.00\n"));
	assert_non_null(strstr(text, "\nh10                     4       2     2 starting          -"
				     "          -          -     -     -\n"));
	assert_null(strstr(text, "h2 "));
	free(text);

	uint16_t service = 0;
	assert_true(ctl_cluster_instance(f->cluster, "h10", 2, &service));
	assert_int_equal(service, 3);
	assert_false(ctl_cluster_instance(f->cluster, "h10", 7, &service));
	assert_false(ctl_cluster_instance(f->cluster, "h9", 1, &service));

	/* Offline: its retained map no longer counts. */
	feed(f, "hosts/h10/state", "{\"v\":1,\"host\":\"h10\",\"status\":\"offline\"}");
	text = printed(f, CTL_SERVICES, NULL, false);
	assert_non_null(strstr(text, "\n2               1          -          - h2\n"));
	assert_null(strstr(text, "\n3 "));
	free(text);
	text = printed(f, CTL_HOSTS, "h10", false);
	assert_non_null(
	    strstr(text, "\nh10              offline      -     -         0          -"));
	free(text);
	/* A cleared map: no instances. */
	feed(f, "hosts/h2/services", "%s", "");
	text = printed(f, CTL_INSTANCES, NULL, true);
	assert_string_equal(text, "{\"instances\":[]}\n");
	free(text);
}

static void engine(struct fixture *f, const char *id, bool online)
{
	char topic[64];
	snprintf(topic, sizeof(topic), "policy/engines/%s", id);
	if (online)
		feed(f, topic,
		     "{\"v\":1,\"status\":\"online\",\"name\":\"spread\",\"started_ms\":%" PRIu64
		     "}",
		     T0);
	else
		feed(f, topic, "{\"v\":1,\"status\":\"offline\"}");
}

static void test_engines(void **state)
{
	struct fixture *f = *state;
	assert_null(ctl_cluster_leader(f->cluster));
	char *text = printed(f, CTL_ENGINES, NULL, false);
	assert_non_null(strstr(text, "no engine online"));
	free(text);
	engine(f, "pe-b", true);
	engine(f, "pe-a", false);
	engine(f, "pe-c", true);
	assert_string_equal(ctl_cluster_leader(f->cluster), "pe-b");
	engine(f, "pe-a", true); /* back: the smallest id leads again */
	assert_string_equal(ctl_cluster_leader(f->cluster), "pe-a");
	engine(f, "pe-a", false);
	assert_string_equal(ctl_cluster_leader(f->cluster), "pe-b");
	text = printed(f, CTL_ENGINES, NULL, false);
	assert_non_null(strstr(text, "\npe-a             offline  -       -"));
	assert_non_null(strstr(text,
			       "\npe-b             online   leader  spread           -        "
			       "2026-11-24T00:26:40Z\n"));
	assert_non_null(strstr(text, "\npe-c             online   shadow  spread"));
	free(text);
	text = printed(f, CTL_ENGINES, NULL, true);
	assert_non_null(strstr(text, "{\"leader\":\"pe-b\",\"engines\":[{\"engine\":\"pe-a\","
				     "\"status\":\"offline\",\"role\":\"-\"},"));
	free(text);
}

/* ---- commands ---- */

static void test_build_cmd(void **state)
{
	(void)state;
	struct ctl_options o;
	assert_int_equal(parse(&o, "-b tcp://b:1 spawn 2 -H h1 -c 2 -t 4000"), 0);
	char id[BUS_NAME_LEN], other[BUS_NAME_LEN];
	ctl_make_id(id, sizeof(id), 1234, T0);
	ctl_make_id(other, sizeof(other), 1234, T0);
	assert_string_not_equal(id, other); /* fresh, even within one ms */
	assert_int_equal(strncmp(id, "ctl-1234-1795480000000-", 23), 0);

	struct bus_cmd cmd, back;
	ctl_build_cmd(&o, id, T0, &cmd);
	char *payload = NULL, err[256];
	assert_int_equal(bus_encode_cmd(&cmd, &payload, err, sizeof(err)), 0);
	assert_int_equal(bus_decode_cmd("h1", payload, strlen(payload), &back, err, sizeof(err)),
			 0);
	free(payload);
	assert_string_equal(back.id, id);
	assert_string_equal(back.engine, CTL_ENGINE_NAME);
	assert_int_equal(back.op, BUS_OP_SPAWN);
	assert_int_equal(back.service, 2);
	assert_int_equal(back.count, 2);
	assert_true(back.has_expires);
	assert_int_equal(back.expires_ms, T0 + 4000);
	assert_string_equal(back.reason, CTL_REASON_DEFAULT);

	assert_int_equal(parse(&o, "-b tcp://b:1 stop -H h1 -I 9 -s 3"), 0);
	ctl_build_cmd(&o, id, T0, &cmd);
	assert_int_equal(bus_encode_cmd(&cmd, &payload, err, sizeof(err)), 0);
	assert_int_equal(bus_decode_cmd("h1", payload, strlen(payload), &back, err, sizeof(err)),
			 0);
	free(payload);
	assert_int_equal(back.op, BUS_OP_STOP);
	assert_int_equal(back.instance, 9);
	assert_int_equal(back.service, 3);
}

static struct bus_event event(const char *host, enum bus_event_kind kind, const char *cmd_id,
			      uint32_t instance, const char *error)
{
	struct bus_event ev = {.event = kind, .service = 2, .ts_ms = T0};
	snprintf(ev.host, sizeof(ev.host), "%s", host);
	if (cmd_id) {
		ev.has_cmd_id = true;
		snprintf(ev.cmd_id, sizeof(ev.cmd_id), "%s", cmd_id);
	}
	if (instance) {
		ev.has_instance = ev.has_core = true;
		ev.instance = instance;
		ev.core = 3;
	}
	if (error) {
		ev.has_error = true;
		snprintf(ev.error, sizeof(ev.error), "%s", error);
	}
	return ev;
}

static void test_request(void **state)
{
	(void)state;
	struct ctl_options o;
	struct bus_cmd cmd;
	struct ctl_request r;
	char line[CTL_LINE_LEN];
	assert_int_equal(parse(&o, "-b tcp://b:1 spawn 2 -H h1 -c 3"), 0);
	ctl_build_cmd(&o, "c-1", T0, &cmd);
	ctl_request_init(&r, &cmd);

	struct bus_event ev = event("h1", BUS_EV_SPAWNED, "c-0", 5, NULL); /* another command */
	assert_int_equal(ctl_request_event(&r, &ev, line, sizeof(line)), 0);
	ev = event("h2", BUS_EV_SPAWNED, "c-1", 5, NULL); /* another host */
	assert_int_equal(ctl_request_event(&r, &ev, line, sizeof(line)), 0);
	ev = event("h1", BUS_EV_SPAWNED, NULL, 5, NULL); /* no id: started by hand */
	assert_int_equal(ctl_request_event(&r, &ev, line, sizeof(line)), 0);

	ev = event("h1", BUS_EV_SPAWNED, "c-1", 5, NULL);
	assert_int_equal(ctl_request_event(&r, &ev, line, sizeof(line)), 1);
	assert_string_equal(line, "h1: spawned service 2 instance 5 on core 3");
	assert_false(r.finished);
	ev = event("h1", BUS_EV_SPAWNED, "c-1", 6, NULL);
	assert_int_equal(ctl_request_event(&r, &ev, line, sizeof(line)), 1);
	assert_false(r.finished);
	ev = event("h1", BUS_EV_REJECTED, "c-1", 0, "2 of 3 started; no free core");
	assert_int_equal(ctl_request_event(&r, &ev, line, sizeof(line)), 1);
	assert_string_equal(line, "h1: rejected service 2: 2 of 3 started; no free core");
	assert_true(r.finished);
	assert_false(r.ok);
	assert_int_equal(r.spawned, 2);
	/* Finished: later answers are not its. */
	assert_int_equal(ctl_request_event(&r, &ev, line, sizeof(line)), 0);

	assert_int_equal(parse(&o, "-b tcp://b:1 spawn 2 -H h1"), 0);
	ctl_build_cmd(&o, "c-2", T0, &cmd);
	ctl_request_init(&r, &cmd);
	ev = event("h1", BUS_EV_SPAWNED, "c-2", 8, NULL);
	assert_int_equal(ctl_request_event(&r, &ev, line, sizeof(line)), 1);
	assert_true(r.finished);
	assert_true(r.ok);

	/* A stop is done by its "stopped". */
	assert_int_equal(parse(&o, "-b tcp://b:1 stop -H h1 -I 8 -s 2"), 0);
	ctl_build_cmd(&o, "c-3", T0, &cmd);
	ctl_request_init(&r, &cmd);
	ev = event("h1", BUS_EV_SPAWNED, "c-3", 8, NULL); /* not an answer to a stop */
	assert_int_equal(ctl_request_event(&r, &ev, line, sizeof(line)), 1);
	assert_false(r.finished);
	ev = event("h1", BUS_EV_STOPPED, "c-3", 8, NULL);
	assert_int_equal(ctl_request_event(&r, &ev, line, sizeof(line)), 1);
	assert_true(r.finished);
	assert_true(r.ok);
}

/* ---- watch ---- */

static void test_watch_lines(void **state)
{
	struct fixture *f = *state;
	assert_string_equal(
	    watch(f, true, "hosts/h1/state",
		  "{\"v\":1,\"host\":\"h1\",\"status\":\"online\",\"epoch\":5,\"ts_ms\":6,"
		  "\"cores\":{\"total\":4,\"free\":2},\"tunnel\":{\"ip\":\"10.250.0.1\","
		  "\"mac\":\"02:00:0a:fa:00:01\",\"udp_port\":4789}}"),
	    "state h1 online cores 2/4 free epoch 5 tunnel 10.250.0.1:4789 [retained]");
	assert_string_equal(
	    watch(f, false, "hosts/h1/services",
		  "{\"v\":1,\"host\":\"h1\",\"ts_ms\":1,\"services\":{\"2\":[{\"instance\":1,"
		  "\"core\":2,\"state\":\"running\"},{\"instance\":4,\"core\":3,\"state\":"
		  "\"starting\"}],\"3\":[{\"instance\":2,\"core\":4,\"state\":\"stopping\"}]}}"),
	    "services h1 service 2: 1@2, 4@3 starting; service 3: 2@4 stopping");
	assert_string_equal(
	    watch(f, false, "hosts/h1/stats",
		  "{\"v\":1,\"host\":\"h1\",\"ts_ms\":1,\"seq\":25,\"period_ms\":500,\"ports\":[],"
		  "\"instances\":[{\"instance\":1,\"service\":2,\"core\":2,\"rx_pps\":900,"
		  "\"tx_pps\":600,\"drop_pps\":300,\"ring_fill\":0.98,\"busy\":1}],"
		  "\"unserved\":[{\"service\":4,\"pps\":5000}]}"),
	    "stats h1 seq 25 period 500 ms: 1 instances rx 900 drop 300 pps, max ring 0.98; "
	    "unserved service 4 5000 pps");
	assert_string_equal(
	    watch(f, false, "hosts/h1/alarms",
		  "{\"v\":1,\"host\":\"h1\",\"ts_ms\":9,\"service\":2,\"instance\":1,"
		  "\"drop_pps\":9000,\"ring_fill\":0.97,\"since_ms\":8}"),
	    "alarm h1 service 2 instance 1 drops 9000 pps ring 0.97 since 8");
	assert_string_equal(watch(f, true, "policy/engines/pe-a",
				  "{\"v\":1,\"status\":\"online\",\"name\":\"local-first\","
				  "\"started_ms\":1,\"version\":\"0.9.0\"}"),
			    "engine pe-a online local-first version 0.9.0 [retained]");

	/* In the usual order: the command, the decision, the answer. */
	assert_string_equal(
	    watch(f, false, "hosts/h2/cmd",
		  "{\"v\":1,\"id\":\"pe-a-1\",\"engine\":\"pe-a\",\"op\":\"spawn\",\"service\":2,"
		  "\"count\":1,\"origin\":\"h1\",\"reason\":\"overloaded\"}"),
	    "cmd h2 spawn service 2 count 1 id pe-a-1 by pe-a origin h1: overloaded");
	assert_string_equal(
	    watch(f, false, "policy/decisions",
		  "{\"v\":1,\"engine\":\"pe-a\",\"ts_ms\":1,\"service\":2,\"origin\":\"h1\","
		  "\"target\":\"h2\",\"cmd_id\":\"pe-a-1\",\"reason\":\"overloaded\","
		  "\"shadow\":false}"),
	    "decision pe-a service 2 h1 -> h2 cmd pe-a-1: overloaded");
	assert_string_equal(
	    watch(f, false, "hosts/h2/events",
		  "{\"v\":1,\"host\":\"h2\",\"ts_ms\":2,\"cmd_id\":\"pe-a-1\",\"event\":"
		  "\"spawned\",\"service\":2,\"instance\":3,\"core\":2}"),
	    "event h2 spawned service 2 instance 3 on core 2 for pe-a-1 (the spawn of service 2 on "
	    "h2 by pe-a)");

	/* The answer first: the decision and the command that come later tell of it. */
	assert_string_equal(
	    watch(f, false, "hosts/h3/events",
		  "{\"v\":1,\"host\":\"h3\",\"ts_ms\":2,\"cmd_id\":\"pe-a-2\",\"event\":"
		  "\"rejected\",\"service\":2,\"error\":\"no free core\"}"),
	    "event h3 rejected service 2: no free core for pe-a-2");
	assert_string_equal(
	    watch(
		f, false, "policy/decisions",
		"{\"v\":1,\"engine\":\"pe-a\",\"ts_ms\":1,\"service\":2,\"origin\":null,"
		"\"target\":\"h3\",\"cmd_id\":\"pe-a-2\",\"reason\":\"repair\",\"shadow\":false}"),
	    "decision pe-a service 2 (repair) -> h3 cmd pe-a-2: repair (already answered: rejected "
	    "on h3)");
	assert_string_equal(
	    watch(f, false, "hosts/h3/cmd",
		  "{\"v\":1,\"id\":\"pe-a-2\",\"engine\":\"pe-a\",\"op\":\"spawn\",\"service\":2,"
		  "\"count\":1,\"reason\":\"repair\"}"),
	    "cmd h3 spawn service 2 count 1 id pe-a-2 by pe-a: repair (already answered: rejected "
	    "on h3)");
	/* The decision first, then the answer: it names the decision. */
	watch(f, false, "policy/decisions",
	      "{\"v\":1,\"engine\":\"pe-b\",\"ts_ms\":1,\"service\":2,\"origin\":\"h1\","
	      "\"target\":\"h1\",\"cmd_id\":\"pe-b-1\",\"reason\":\"r\",\"shadow\":false}");
	assert_string_equal(
	    watch(f, false, "hosts/h1/events",
		  "{\"v\":1,\"host\":\"h1\",\"ts_ms\":2,\"cmd_id\":\"pe-b-1\",\"event\":"
		  "\"spawned\",\"service\":2,\"instance\":9}"),
	    "event h1 spawned service 2 instance 9 for pe-b-1 (pe-b's decision for h1)");
	assert_string_equal(
	    watch(f, false, "policy/decisions",
		  "{\"v\":1,\"engine\":\"pe-b\",\"ts_ms\":1,\"service\":2,\"origin\":\"h1\","
		  "\"target\":null,\"reason\":\"no capacity\",\"shadow\":true}"),
	    "decision pe-b service 2 h1 -> nobody shadow: no capacity");

	/* A long line is cut, never overrun. */
	char small[16];
	const struct bus_msg *msg = NULL;
	char err[128];
	const char *p = "{\"v\":1,\"status\":\"offline\"}";
	assert_int_equal(policy_ingest_decode(&f->ingest,
					      "onvm/policy/engines/a-very-long-engine-id", p,
					      strlen(p), &msg, err, sizeof(err)),
			 1);
	ctl_watch_line(&f->watch, msg, true, small, sizeof(small));
	assert_string_equal(small, "engine a-very-l");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_parse),
	    cmocka_unit_test(test_config_file),
	    cmocka_unit_test_setup_teardown(test_tables, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_engines, setup, teardown),
	    cmocka_unit_test(test_build_cmd),
	    cmocka_unit_test(test_request),
	    cmocka_unit_test_setup_teardown(test_watch_lines, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
