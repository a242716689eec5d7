/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * test_policy_core.c - unit tests of policy/core.c: the command and
 * decision a spawn makes (decoded back from the sink), shadow mode and
 * leadership from engine announcements, the start-up grace, a shadow
 * decision replaced by the leader's command, takeover, a pending spawn
 * blocking the service, "no capacity", an engine answering nonsense, an
 * alarm as the engine sees it (with the counters), and the options parser.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "core.h"
#include "options.h"
#include "topics.h"

#define MAX_OUT 16

struct captured {
	int n;
	char topic[MAX_OUT][BUS_TOPIC_MAX];
	char payload[MAX_OUT][1024];
	int qos[MAX_OUT];
};

static void capture(void *ctx, const char *topic, int qos, bool retained, const char *payload,
		    size_t len)
{
	struct captured *out = ctx;
	assert_false(retained);
	assert_true(out->n < MAX_OUT);
	snprintf(out->topic[out->n], BUS_TOPIC_MAX, "%s", topic);
	snprintf(out->payload[out->n], 1024, "%.*s", (int)len, payload);
	out->qos[out->n] = qos;
	out->n++;
}

struct fixture {
	struct captured out;
	struct policy_engine_handle engine;
	struct policy_core *core;
};

static struct policy_core *make_core(struct fixture *f, const char *id, bool always_lead)
{
	char err[256];
	struct policy_config config = {
	    .engine_id = id, .always_lead = always_lead, .follow_engines = true, .first_cmd_no = 0};
	policy_params_default(&config.params);
	assert_int_equal(policy_engine_open("local-first", NULL, &f->engine, err, sizeof(err)), 0);
	struct policy_sink sink = {.emit = capture, .ctx = &f->out};
	f->core = policy_core_create(&config, &f->engine, &sink, err, sizeof(err));
	assert_non_null(f->core);
	return f->core;
}

/* A leading core ("x") with a test engine, whose output goes to out. */
static struct policy_core *core_with_engine(struct captured *out, const struct policy_engine *ops)
{
	char err[128];
	struct policy_engine_handle engine = {.ops = ops};
	struct policy_config config = {.engine_id = "x", .always_lead = true};
	policy_params_default(&config.params);
	struct policy_sink sink = {.emit = capture, .ctx = out};
	struct policy_core *core = policy_core_create(&config, &engine, &sink, err, sizeof(err));
	assert_non_null(core);
	return core;
}

static void state_msg(struct policy_core *core, const char *host, uint32_t free, uint64_t now)
{
	struct bus_msg msg = {.kind = BUS_KIND_STATE};
	msg.u.state =
	    (struct bus_state){.status = BUS_STATUS_ONLINE, .has_cores = true, .cores = {8, free}};
	snprintf(msg.u.state.host, sizeof(msg.u.state.host), "%s", host);
	policy_core_handle(core, &msg, false, now);
}

static void services_msg(struct policy_core *core, const char *host, uint16_t service,
			 uint32_t instance, uint64_t now)
{
	struct bus_service_inst inst = {service, instance, 1, BUS_INST_RUNNING};
	struct bus_msg msg = {.kind = BUS_KIND_SERVICES};
	msg.u.services = (struct bus_services){.n_insts = 1, .insts = &inst, .insts_cap = 1};
	snprintf(msg.u.services.host, sizeof(msg.u.services.host), "%s", host);
	policy_core_handle(core, &msg, false, now);
}

static void stats_msg(struct policy_core *core, const char *host, uint64_t seq, double drop,
		      uint64_t now)
{
	struct bus_inst_stats inst = {.instance = 1,
				      .service = 2,
				      .rx_pps = 100000,
				      .drop_pps = drop,
				      .ring_fill = drop > 0 ? 0.99 : 0.01};
	struct bus_msg msg = {.kind = BUS_KIND_STATS};
	msg.u.stats =
	    (struct bus_stats){.seq = seq, .period_ms = 500, .n_insts = 1, .insts = &inst};
	snprintf(msg.u.stats.host, sizeof(msg.u.stats.host), "%s", host);
	policy_core_handle(core, &msg, false, now);
}

static void engine_msg(struct policy_core *core, const char *id, bool online, uint64_t now)
{
	struct bus_msg msg = {.kind = BUS_KIND_ENGINE};
	msg.u.engine =
	    (struct bus_engine){.status = online ? BUS_STATUS_ONLINE : BUS_STATUS_OFFLINE};
	snprintf(msg.u.engine.id, sizeof(msg.u.engine.id), "%s", id);
	policy_core_handle(core, &msg, false, now);
}

/* alpha (origin, no free core, runs 2) and beta (3 free cores). */
static void two_hosts(struct policy_core *core)
{
	state_msg(core, "alpha", 0, 0);
	services_msg(core, "alpha", 2, 1, 0);
	state_msg(core, "beta", 3, 0);
}

/* Three overloaded periods from seq, both hosts reporting. */
static void overload(struct policy_core *core, uint64_t seq, uint64_t now)
{
	for (uint64_t i = 0; i < 3; i++) {
		stats_msg(core, "beta", seq + i, 0, now + i * 500);
		stats_msg(core, "alpha", seq + i, 50000, now + i * 500);
	}
}

static void teardown(struct fixture *f)
{
	policy_core_destroy(f->core);
	policy_engine_close(&f->engine);
}

static void decode_cmd(const struct captured *out, int i, struct bus_cmd *cmd)
{
	struct bus_topic topic;
	assert_int_equal(bus_topic_parse(out->topic[i], &topic), 0);
	assert_int_equal(topic.kind, BUS_KIND_CMD);
	assert_int_equal(
	    bus_decode_cmd(topic.name, out->payload[i], strlen(out->payload[i]), cmd, NULL, 0), 0);
	assert_int_equal(out->qos[i], 1);
}

static void decode_decision(const struct captured *out, int i, struct bus_decision *decision)
{
	assert_string_equal(out->topic[i], "onvm/policy/decisions");
	assert_int_equal(
	    bus_decode_decision(NULL, out->payload[i], strlen(out->payload[i]), decision, NULL, 0),
	    0);
}

static void test_leader_spawn(void **state)
{
	(void)state;
	struct fixture f = {0};
	struct policy_core *core = make_core(&f, "pe-a", true);
	two_hosts(core);
	overload(core, 1, 1000);
	assert_int_equal(f.out.n, 2);
	struct bus_cmd cmd;
	decode_cmd(&f.out, 0, &cmd);
	assert_string_equal(cmd.target, "beta");
	assert_string_equal(cmd.id, "pe-a-1");
	assert_string_equal(cmd.engine, "pe-a");
	assert_int_equal(cmd.op, BUS_OP_SPAWN);
	assert_int_equal(cmd.service, 2);
	assert_int_equal(cmd.count, 1);
	assert_true(cmd.has_origin);
	assert_string_equal(cmd.origin, "alpha");
	assert_true(cmd.has_expires);
	assert_int_equal(cmd.expires_ms, 2000 + 5000);
	struct bus_decision decision;
	decode_decision(&f.out, 1, &decision);
	assert_false(decision.shadow);
	assert_true(decision.has_target);
	assert_string_equal(decision.target, "beta");
	assert_string_equal(decision.cmd_id, "pe-a-1");
	assert_int_equal(decision.ts_ms, 2000);
	assert_non_null(strstr(decision.reason, "overloaded on alpha"));

	/* Blocked while pending: more overload decides nothing. */
	overload(core, 4, 2500);
	assert_int_equal(f.out.n, 2);
	struct policy_counters counters;
	policy_core_counters(core, &counters);
	assert_int_equal(counters.spawns, 1);
	assert_int_equal(counters.commands, 1);
	teardown(&f);
}

static void test_shadow_then_takeover(void **state)
{
	(void)state;
	struct fixture f = {0};
	struct policy_core *core = make_core(&f, "pe-b", false);
	engine_msg(core, "pe-a", true, 0);
	engine_msg(core, "pe-c", true, 0); /* larger id: no matter */
	two_hosts(core);
	overload(core, 1, 1000);
	assert_false(policy_core_leading(core));
	assert_int_equal(f.out.n, 1); /* a decision only */
	struct bus_decision decision;
	decode_decision(&f.out, 0, &decision);
	assert_true(decision.shadow);
	assert_false(decision.has_cmd_id);
	assert_string_equal(decision.target, "beta");

	/* The leader's own command replaces the shadow entry; no double promise. */
	struct bus_msg msg = {.kind = BUS_KIND_CMD};
	msg.u.cmd = (struct bus_cmd){.op = BUS_OP_SPAWN, .service = 2, .count = 1};
	snprintf(msg.u.cmd.id, sizeof(msg.u.cmd.id), "pe-a-9");
	snprintf(msg.u.cmd.target, sizeof(msg.u.cmd.target), "beta");
	policy_core_handle(core, &msg, false, 2010);
	const struct pending_set *pending = policy_core_pending(core);
	assert_int_equal(pending->n, 1);
	assert_string_equal(pending->first->cmd_id, "pe-a-9");

	/* The leader goes: this one leads, and its next decision sends a command. */
	engine_msg(core, "pe-a", false, 2100);
	assert_true(policy_core_leading(core));
	state_msg(core, "gamma", 2, 14000);
	f.out.n = 0;
	/* The leader's spawn timed out meanwhile, unanswered: beta is avoided. */
	overload(core, 4, 15000);
	assert_int_equal(f.out.n, 2);
	struct bus_cmd cmd;
	decode_cmd(&f.out, 0, &cmd);
	assert_string_equal(cmd.id, "pe-b-1");
	assert_string_equal(cmd.target, "gamma");
	teardown(&f);
}

/* seq jumping by 100 in one period does not complete a streak early: the
 * third period of overload is decided when three periods of time passed. */
static void test_seq_jump_no_early_spawn(void **state)
{
	(void)state;
	struct fixture f = {0};
	struct policy_core *core = make_core(&f, "pe-a", true);
	two_hosts(core);
	stats_msg(core, "beta", 1, 0, 1000);
	stats_msg(core, "alpha", 1, 50000, 1000);
	stats_msg(core, "alpha", 101, 50000, 1500);
	stats_msg(core, "alpha", 201, 50000, 1500);
	stats_msg(core, "beta", 2, 0, 1500);
	assert_int_equal(f.out.n, 0);
	stats_msg(core, "alpha", 202, 50000, 2000);
	assert_int_equal(f.out.n, 2);
	struct bus_decision decision;
	decode_decision(&f.out, 1, &decision);
	assert_int_equal(decision.ts_ms, 2000);
	teardown(&f);
}

/* A shadow's own decision was never sent: its timing out is nobody's
 * rejection, and the host it named is not avoided. */
static void test_shadow_timeout_not_a_rejection(void **state)
{
	(void)state;
	struct fixture f = {0};
	struct policy_core *core = make_core(&f, "pe-b", false);
	engine_msg(core, "pe-a", true, 0);
	two_hosts(core);
	state_msg(core, "gamma", 2, 0);
	overload(core, 1, 1000);
	assert_int_equal(f.out.n, 1);
	state_msg(core, "beta", 3, 14000);
	state_msg(core, "gamma", 2, 14000);
	f.out.n = 0;
	overload(core, 4, 15000);
	assert_int_equal(f.out.n, 1);
	struct bus_decision decision;
	decode_decision(&f.out, 0, &decision);
	assert_true(decision.shadow);
	assert_string_equal(decision.target, "beta");
	teardown(&f);
}

static void test_takeover_drops_shadow_decisions(void **state)
{
	(void)state;
	struct fixture f = {0};
	struct policy_core *core = make_core(&f, "pe-b", false);
	engine_msg(core, "pe-a", true, 0);
	two_hosts(core);
	overload(core, 1, 1000); /* shadow decision at 2000, never carried out */
	assert_int_equal(f.out.n, 1);
	engine_msg(core, "pe-a", false, 2100);
	f.out.n = 0;
	/* Not 10 s later: at once, as the shadow entry was dropped. */
	stats_msg(core, "beta", 4, 0, 2500);
	stats_msg(core, "alpha", 4, 50000, 2500);
	assert_int_equal(f.out.n, 2);
	teardown(&f);
}

static void test_grace(void **state)
{
	(void)state;
	struct fixture f = {0};
	struct policy_core *core = make_core(&f, "pe-a", false);
	policy_core_lead_after(core, 5000);
	two_hosts(core);
	overload(core, 1, 1000);
	assert_false(policy_core_leading(core));
	assert_int_equal(f.out.n, 1);
	stats_msg(core, "alpha", 10, 0, 5000);
	assert_true(policy_core_leading(core));
	teardown(&f);
}

static void test_no_capacity(void **state)
{
	(void)state;
	struct fixture f = {0};
	struct policy_core *core = make_core(&f, "pe-a", true);
	state_msg(core, "alpha", 0, 0);
	state_msg(core, "beta", 0, 0);
	overload(core, 1, 1000);
	assert_int_equal(f.out.n, 1);
	struct bus_decision decision;
	decode_decision(&f.out, 0, &decision);
	assert_false(decision.has_target);
	assert_non_null(strstr(decision.reason, "no capacity"));
	overload(core, 4, 2500); /* not repeated within 10 s */
	assert_int_equal(f.out.n, 1);
	overload(core, 7, 12000);
	assert_int_equal(f.out.n, 2);
	teardown(&f);
}

static void bad_place(void *state, const struct policy_request *req, struct policy_choice *choice)
{
	(void)state;
	choice->index = (int)req->n_candidates + 5;
	snprintf(choice->why, sizeof(choice->why), "bad\nanswer\x01");
}

static void test_engine_answer_checked(void **state)
{
	(void)state;
	static const struct policy_engine bad = {
	    .api_version = POLICY_ENGINE_API_VERSION, .name = "bad", .place = bad_place};
	struct captured out = {0};
	struct policy_core *core = core_with_engine(&out, &bad);
	two_hosts(core);
	overload(core, 1, 1000);
	assert_int_equal(out.n, 1); /* no command: a decision with no target */
	struct bus_decision decision;
	decode_decision(&out, 0, &decision);
	assert_false(decision.has_target);
	struct policy_counters counters;
	policy_core_counters(core, &counters);
	assert_int_equal(counters.engine_refusals, 1);
	policy_core_destroy(core);
}

/* What the recording engine was asked last. */
static struct {
	int calls;
	bool had_stats;
	char origin[BUS_NAME_LEN];
	struct bus_alarm alarm;
	bool had_alarm;
} asked;

static void recording_place(void *state, const struct policy_request *req,
			    struct policy_choice *choice)
{
	(void)state;
	asked.calls++;
	asked.had_stats = req->stats != NULL;
	asked.had_alarm = req->alarm != NULL;
	if (req->alarm)
		asked.alarm = *req->alarm;
	snprintf(asked.origin, sizeof(asked.origin), "%s", req->origin ? req->origin : "");
	choice->index = req->n_candidates ? 0 : -1;
	snprintf(choice->why, sizeof(choice->why), "the first");
}

static void alarm_msg(struct policy_core *core, const char *host, uint32_t instance, bool retained,
		      uint64_t now)
{
	struct bus_msg msg = {.kind = BUS_KIND_ALARMS};
	msg.u.alarm = (struct bus_alarm){.ts_ms = now,
					 .service = 2,
					 .instance = instance,
					 .drop_pps = 9000,
					 .ring_fill = 1.0,
					 .since_ms = now - 25};
	snprintf(msg.u.alarm.host, sizeof(msg.u.alarm.host), "%s", host);
	policy_core_handle(core, &msg, retained, now);
}

/*
 * An alarm decides at once; the engine gets it as req->alarm, with no
 * stats and the alarm's host as the origin. A second alarm while the
 * spawn is pending asks nothing; a retained one is ignored. Counted.
 */
static void test_alarm_reaches_engine(void **state)
{
	(void)state;
	static const struct policy_engine recording = {
	    .api_version = POLICY_ENGINE_API_VERSION, .name = "rec", .place = recording_place};
	struct captured out = {0};
	struct policy_core *core = core_with_engine(&out, &recording);
	memset(&asked, 0, sizeof(asked));
	two_hosts(core);
	stats_msg(core, "alpha", 1, 0, 500);
	alarm_msg(core, "alpha", 1, false, 600);
	assert_int_equal(asked.calls, 1);
	assert_false(asked.had_stats);
	assert_true(asked.had_alarm);
	assert_string_equal(asked.alarm.host, "alpha");
	assert_int_equal(asked.alarm.instance, 1);
	assert_string_equal(asked.origin, "alpha");
	assert_int_equal(out.n, 2); /* the command and the decision */
	struct bus_decision decision;
	decode_decision(&out, 1, &decision);
	assert_int_equal(decision.ts_ms, 600);
	assert_string_equal(decision.reason, "service 2 overloaded on alpha (alarm: instance 1, "
					     "drops 9000 pps, ring 1.00, for 25 ms); the first");

	alarm_msg(core, "alpha", 1, false, 700); /* the spawn is pending */
	alarm_msg(core, "alpha", 1, true, 800);	 /* broker history */
	assert_int_equal(asked.calls, 1);
	assert_int_equal(out.n, 2);
	struct policy_counters counters;
	policy_core_counters(core, &counters);
	assert_int_equal(counters.alarms, 3);
	assert_int_equal(counters.alarms_ignored, 1);
	assert_int_equal(counters.alarm_spawns, 1);
	assert_int_equal(counters.spawns, 1);
	policy_core_destroy(core);
}

static void test_create_checks(void **state)
{
	(void)state;
	struct captured out = {0};
	struct policy_engine_handle engine;
	char err[256];
	assert_int_equal(policy_engine_open("local-first", NULL, &engine, err, sizeof(err)), 0);
	struct policy_sink sink = {.emit = capture, .ctx = &out};
	struct policy_config config = {.engine_id = "has space"};
	policy_params_default(&config.params);
	assert_null(policy_core_create(&config, &engine, &sink, err, sizeof(err)));
	config.engine_id = "an-engine-id-that-is-longer-than-forty-bytes-x";
	assert_null(policy_core_create(&config, &engine, &sink, err, sizeof(err)));
	config.engine_id = "ok";
	config.params.periods = 0;
	assert_null(policy_core_create(&config, &engine, &sink, err, sizeof(err)));
	policy_engine_close(&engine);
}

static int parse(struct policy_options *o, const char *const *args, int n)
{
	char *argv[32];
	for (int i = 0; i < n; i++)
		argv[i] = (char *)args[i];
	char err[256];
	return policy_options_parse(n, argv, o, err, sizeof(err));
}

static void test_options(void **state)
{
	(void)state;
	struct policy_options o;
	const char *live[] = {"p", "-i", "pe-a", "-P", "pass", "--periods", "5"};
	assert_int_equal(parse(&o, live, 7), 0);
	assert_int_equal(o.mode, POLICY_MODE_LIVE);
	assert_string_equal(o.id, "pe-a");
	assert_string_equal(o.engine, "local-first");
	assert_int_equal(o.params.periods, 5);
	assert_string_equal(o.bus.user, "policy");
	assert_string_equal(o.bus.uri, "tcp://127.0.0.1:18830");
	assert_string_equal(o.bus.password_file, "pass");

	const char *tls[] = {"p",	  "-b", "ssl://b:8883", "--bus-ca", "ca", "--bus-cert", "c",
			     "--bus-key", "k",	"-u",		"pe-b"};
	assert_int_equal(parse(&o, tls, 11), 0);
	assert_string_equal(o.bus.cert_file, "c");
	assert_string_equal(o.bus.user, "pe-b");
	const char *key_alone[] = {"p", "-b", "ssl://b:8883", "--bus-key", "k"};
	assert_int_equal(parse(&o, key_alone, 5), -1);

	const char *replay[] = {"p",	  "--replay",	   "t.jsonl", "--engine",
				"spread", "--drop-pps",	   "10",      "--ring-fill",
				"0.5",	  "--scale-in-ms", "9000",    "--no-scale-in"};
	assert_int_equal(parse(&o, replay, 12), 0);
	assert_int_equal(o.mode, POLICY_MODE_REPLAY);
	assert_string_equal(o.trace, "t.jsonl");
	assert_true(o.params.drop_pps == 10);
	assert_true(o.params.ring_fill == 0.5);
	assert_int_equal(o.params.scale_in_ms, 9000);
	assert_false(o.params.scale_in);

	const char *bad_number[] = {"p", "--periods", "x"};
	assert_int_equal(parse(&o, bad_number, 3), -1);
	const char *bad_fill[] = {"p", "--ring-fill", "1.5"};
	assert_int_equal(parse(&o, bad_fill, 3), -1);
	const char *negative[] = {"p", "--stale-ms", "-1"};
	assert_int_equal(parse(&o, negative, 3), -1);
	const char *check_alone[] = {"p", "--check", "e.json"};
	assert_int_equal(parse(&o, check_alone, 3), -1);
	const char *stray[] = {"p", "stray"};
	assert_int_equal(parse(&o, stray, 2), -1);
	const char *unknown[] = {"p", "--frobnicate"};
	assert_int_equal(parse(&o, unknown, 2), -1);
	const char *missing[] = {"p", "--replay"};
	assert_int_equal(parse(&o, missing, 2), -1);
}

static const char *write_file(const char *name, const char *text)
{
	static char path[256];
	snprintf(path, sizeof(path), "/tmp/test_policy_core_%d_%s", (int)getpid(), name);
	FILE *file = fopen(path, "w");
	assert_non_null(file);
	fputs(text, file);
	fclose(file);
	return path;
}

/* --config FILE: the file's options, then the command line's, which win. */
static void test_options_config_file(void **state)
{
	(void)state;
	struct policy_options o;
	const char *path = write_file(
	    "config.json", "{\"engine\": \"spread\", \"verbose\": true, \"ring-fill\": 0.5,"
			   " \"grace-ms\": 300, \"id\": \"pe-file\"}");
	const char *alone[] = {"p", "--config", path};
	assert_int_equal(parse(&o, alone, 3), 0);
	assert_string_equal(o.engine, "spread");
	assert_true(o.verbose);
	assert_true(o.params.ring_fill == 0.5);
	assert_int_equal(o.grace_ms, 300);
	assert_string_equal(o.id, "pe-file");
	policy_options_free(&o);

	const char *flags_win[] = {"p", "-e", "local-first", "--config", path, "-i", "pe-flag"};
	assert_int_equal(parse(&o, flags_win, 7), 0);
	assert_string_equal(o.id, "pe-flag");
	assert_string_equal(o.engine,
			    "local-first"); /* before --config, still the command line's */
	assert_int_equal(o.grace_ms, 300);
	policy_options_free(&o);
	unlink(path);

	path = write_file("bad.json", "{\"ring-fil\": 0.5}");
	char err[256];
	char *argv[] = {"p", "--config", (char *)path, NULL};
	assert_int_equal(policy_options_parse(3, argv, &o, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "unknown key \"ring-fil\""));
	unlink(path);
	path = write_file("range.json", "{\"ring-fill\": 1.5}");
	argv[2] = (char *)path;
	assert_int_equal(policy_options_parse(3, argv, &o, err, sizeof(err)), -1);
	unlink(path);
	const char *twice[] = {"p", "--config", "a", "--config=b"};
	assert_int_equal(parse(&o, twice, 4), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_leader_spawn),
	    cmocka_unit_test(test_shadow_then_takeover),
	    cmocka_unit_test(test_seq_jump_no_early_spawn),
	    cmocka_unit_test(test_shadow_timeout_not_a_rejection),
	    cmocka_unit_test(test_takeover_drops_shadow_decisions),
	    cmocka_unit_test(test_grace),
	    cmocka_unit_test(test_no_capacity),
	    cmocka_unit_test(test_engine_answer_checked),
	    cmocka_unit_test(test_alarm_reaches_engine),
	    cmocka_unit_test(test_create_checks),
	    cmocka_unit_test(test_options),
	    cmocka_unit_test(test_options_config_file),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
