/* SPDX-License-Identifier: BSD-3-Clause */
/* core.c - decisions from decoded messages, without MQTT (see core.h). */
#include <inttypes.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "core.h"
#include "log.h"
#include "scale_in.h"
#include "topics.h"

struct known_engine {
	char id[BUS_NAME_LEN];
	bool online;
};

struct policy_core {
	char engine_id[BUS_NAME_LEN];
	struct policy_config config;
	struct policy_engine_handle engine;
	struct policy_sink sink;
	struct view *view;
	struct pending_set pending;
	struct policy_counters counters;
	uint64_t cmd_no;
	bool leading;
	uint64_t lead_after_ms;
	int64_t wall_offset_ms; /* what to add to now_ms for a bus timestamp */
	uint32_t n_engines, engines_cap;
	struct known_engine *engines;
	uint32_t cands_cap;
	struct policy_candidate *cands;
	struct service_rules rules; /* --services, sorted by id */
	bool started;		    /* a message arrived */
	/* Repairs are held (see check_repairs) from hold_from_ms to repair_after_ms. */
	uint64_t hold_from_ms, repair_after_ms;
	bool heard_in_hold; /* a live (not retained) message arrived since hold_from_ms */
};

#define REASON_LEN BUS_TEXT_LEN

static void core_log(const struct policy_core *core, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void core_log(const struct policy_core *core, const char *fmt, ...)
{
	if (!core->config.log)
		return;
	va_list args;
	va_start(args, fmt);
	onvm_vlog_to(core->config.log, ONVM_LOG_INFO, fmt, args);
	va_end(args);
}

/* snprintf that may cut: reasons are capped at the bus's text length. */
static void format_text(char *buf, size_t len, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void format_text(char *buf, size_t len, const char *fmt, ...)
{
	va_list args;
	va_start(args, fmt);
	vsnprintf(buf, len, fmt, args);
	va_end(args);
}

/* Bus text is printable ASCII here: an engine's words are cleaned. */
static void clean_text(char *text)
{
	for (unsigned char *p = (unsigned char *)text; *p; p++)
		if (*p < 0x20 || *p >= 0x7f)
			*p = '?';
}

/* ---- emitting ---- */

static void emit(struct policy_core *core, const char *topic, int qos, const char *payload)
{
	core->sink.emit(core->sink.ctx, topic, qos, false, payload, strlen(payload));
}

static int emit_cmd(struct policy_core *core, struct bus_cmd *cmd)
{
	char topic[BUS_TOPIC_MAX], err[128];
	char *payload = NULL;
	if (bus_topic_host(topic, sizeof(topic), cmd->target, BUS_KIND_CMD) < 0 ||
	    bus_encode_cmd(cmd, &payload, err, sizeof(err)) < 0) {
		core_log(core, "cannot encode command %s: %s", cmd->id, err);
		core->counters.failures++;
		return -1;
	}
	emit(core, topic, 1, payload);
	free(payload);
	core->counters.commands++;
	return 0;
}

static void emit_decision(struct policy_core *core, const struct bus_decision *decision)
{
	char topic[BUS_TOPIC_MAX], err[128];
	char *payload = NULL;
	if (bus_topic_decisions(topic, sizeof(topic)) < 0 ||
	    bus_encode_decision(decision, &payload, err, sizeof(err)) < 0) {
		core_log(core, "cannot encode a decision: %s", err);
		core->counters.failures++;
		return;
	}
	emit(core, topic, 1, payload);
	free(payload);
	core->counters.decisions++;
}

/* What a decision is about; target NULL for "nothing". */
struct verdict {
	enum bus_cmd_op op;
	uint16_t service;
	const char *origin;
	const char *target;
	uint32_t instance; /* stop */
	char reason[REASON_LEN];
};

/* now_ms on the wall clock, for what other machines read. */
static uint64_t wall_ms(const struct policy_core *core, uint64_t now_ms)
{
	return now_ms + (uint64_t)core->wall_offset_ms; /* wraps back for a negative offset */
}

void policy_core_set_wall_offset(struct policy_core *core, int64_t offset_ms)
{
	core->wall_offset_ms = offset_ms;
}

/* Send the command a verdict calls for; cmd_id gets its id, or "" if none was sent. */
static void send_command(struct policy_core *core, const struct verdict *verdict, uint64_t now_ms,
			 char *cmd_id, size_t cmd_id_len)
{
	struct bus_cmd cmd = {.op = verdict->op,
			      .service = verdict->service,
			      .has_origin = verdict->origin != NULL,
			      .has_expires = true,
			      .expires_ms = wall_ms(core, now_ms) + core->config.params.cmd_ttl_ms,
			      .has_ts_ms = true,
			      .ts_ms = wall_ms(core, now_ms)};
	/* Fits: ids are at most POLICY_ID_MAX bytes. */
	format_text(cmd_id, cmd_id_len, "%s-%" PRIu64, core->engine_id, ++core->cmd_no);
	snprintf(cmd.id, sizeof(cmd.id), "%s", cmd_id);
	snprintf(cmd.engine, sizeof(cmd.engine), "%s", core->engine_id);
	snprintf(cmd.target, sizeof(cmd.target), "%s", verdict->target);
	if (verdict->origin)
		snprintf(cmd.origin, sizeof(cmd.origin), "%s", verdict->origin);
	snprintf(cmd.reason, sizeof(cmd.reason), "%s", verdict->reason);
	if (verdict->op == BUS_OP_SPAWN)
		cmd.count = 1;
	else
		cmd.instance = verdict->instance;
	if (emit_cmd(core, &cmd) < 0)
		cmd_id[0] = '\0';
}

/*
 * Publish a verdict: the command (a leader with a target) and the decision.
 * cmd_id gets the id of the command sent, or "".
 */
static void publish_verdict(struct policy_core *core, const struct verdict *verdict,
			    uint64_t now_ms, char *cmd_id, size_t cmd_id_len)
{
	struct bus_decision decision = {
	    .ts_ms = wall_ms(core, now_ms), .service = verdict->service, .shadow = !core->leading};
	snprintf(decision.engine, sizeof(decision.engine), "%s", core->engine_id);
	if (verdict->origin) {
		decision.has_origin = true;
		snprintf(decision.origin, sizeof(decision.origin), "%s", verdict->origin);
	}
	snprintf(decision.reason, sizeof(decision.reason), "%s", verdict->reason);
	cmd_id[0] = '\0';
	if (verdict->target) {
		decision.has_target = true;
		snprintf(decision.target, sizeof(decision.target), "%s", verdict->target);
		if (core->leading)
			send_command(core, verdict, now_ms, cmd_id, cmd_id_len);
	}
	if (cmd_id[0]) {
		decision.has_cmd_id = true;
		snprintf(decision.cmd_id, sizeof(decision.cmd_id), "%s", cmd_id);
	}
	emit_decision(core, &decision);
	core_log(core, "%s%s service %u%s%s%s%s: %s", core->leading ? "" : "[shadow] ",
		 verdict->target ? bus_cmd_op_name(verdict->op) : "no spawn of", verdict->service,
		 verdict->target ? " on " : "", verdict->target ? verdict->target : "",
		 cmd_id[0] ? " as " : "", cmd_id, verdict->reason);
}

/* ---- spawning ---- */

static uint32_t effective_free(const struct policy_core *core, const struct view_host *host)
{
	uint32_t promised = pending_promised(&core->pending, host->name);
	return host->cores_free > promised ? host->cores_free - promised : 0;
}

static int grow_cands(struct policy_core *core)
{
	if (core->cands_cap >= core->view->n_hosts)
		return 0;
	uint32_t cap = core->view->n_hosts + 16;
	struct policy_candidate *cands = realloc(core->cands, cap * sizeof(*cands));
	if (!cands)
		return -1;
	core->cands = cands;
	core->cands_cap = cap;
	return 0;
}

/* Usable hosts with a free core not promised, not avoiding the service; by
 * name. origin NULL: a repair, no candidate is the origin. */
static size_t build_candidates(struct policy_core *core, uint16_t service, const char *origin,
			       uint64_t now_ms)
{
	size_t count = 0;
	for (uint32_t i = 0; i < core->view->n_hosts; i++) {
		const struct view_host *host = core->view->sorted[i];
		if (!view_host_usable(core->view, host, now_ms) ||
		    view_avoided(host, service, now_ms))
			continue;
		uint32_t free_cores = effective_free(core, host);
		if (!free_cores)
			continue;
		uint32_t all = 0;
		for (uint32_t j = 0; j < host->n_insts; j++)
			all += host->insts[j].state != BUS_INST_STOPPING;
		core->cands[count++] = (struct policy_candidate){
		    .host = host->name,
		    .free_cores = free_cores,
		    .total_cores = host->cores_total,
		    .service_instances = view_host_instances(host, service),
		    .all_instances = all,
		    .load_pps = host->load_pps,
		    .is_origin = origin && strcmp(host->name, origin) == 0,
		};
	}
	return count;
}

static void ask_engine(struct policy_core *core, const struct policy_request *req,
		       struct policy_choice *choice)
{
	*choice = (struct policy_choice){.index = -1};
	core->engine.ops->place(core->engine.state, req, choice);
	choice->why[sizeof(choice->why) - 1] = '\0';
	clean_text(choice->why);
	if (choice->index < -1 ||
	    (choice->index >= 0 && (size_t)choice->index >= req->n_candidates)) {
		core->counters.engine_refusals++;
		core_log(core, "engine %s answered candidate %d of %zu: ignored",
			 core->engine.ops->name, choice->index, req->n_candidates);
		choice->index = -1;
		snprintf(choice->why, sizeof(choice->why), "the engine chose no valid host");
	}
}

static void say_no_capacity(struct policy_core *core, struct view_service *svc,
			    struct verdict *verdict, const char *overload, const char *why,
			    uint64_t now_ms)
{
	if (svc->nocap_said && now_ms - svc->nocap_ms < core->config.params.nocap_repeat_ms)
		return;
	svc->nocap_said = true;
	svc->nocap_ms = now_ms;
	format_text(verdict->reason, sizeof(verdict->reason), "no capacity: %s; %s", overload, why);
	char cmd_id[BUS_NAME_LEN];
	publish_verdict(core, verdict, now_ms, cmd_id, sizeof(cmd_id));
	core->counters.no_capacity++;
}

/*
 * Ask the engine where one more instance of the service goes and publish
 * the answer: a spawn, or a rate-limited "no capacity". origin NULL is a
 * repair (no host asked); situation starts the reason; stats or alarm is
 * what the overload came from (both NULL for a repair). True for a spawn.
 */
static bool place_one(struct policy_core *core, struct view_service *svc, const char *origin,
		      const struct bus_stats *stats, const struct bus_alarm *alarm,
		      const char *situation, uint64_t now_ms)
{
	uint16_t service = svc->service;
	if (grow_cands(core) < 0) {
		core->counters.failures++;
		return false;
	}
	struct policy_request req = {
	    .now_ms = now_ms,
	    .service = service,
	    .origin = origin,
	    .candidates = core->cands,
	    .n_candidates = build_candidates(core, service, origin, now_ms),
	    .stats = stats,
	    .alarm = alarm,
	};
	struct policy_choice choice;
	ask_engine(core, &req, &choice);
	struct verdict verdict = {.op = BUS_OP_SPAWN, .service = service, .origin = origin};
	if (choice.index < 0) {
		say_no_capacity(core, svc, &verdict, situation, choice.why, now_ms);
		return false;
	}
	const char *target = core->cands[choice.index].host;
	const struct view_host *host = view_host_find(core->view, target);
	verdict.target = target;
	format_text(verdict.reason, sizeof(verdict.reason), "%s; %s", situation, choice.why);
	char cmd_id[BUS_NAME_LEN];
	publish_verdict(core, &verdict, now_ms, cmd_id, sizeof(cmd_id));
	if (pending_add_spawn(&core->pending, host, cmd_id, !core->leading, service, origin, 1,
			      now_ms) < 0)
		core->counters.failures++;
	svc->nocap_said = false;
	svc->atmax_said = false;
	core->counters.spawns++;
	return true;
}

/* Instances of the service on usable hosts (starting or running) plus
 * those pending spawns will bring: what min and max count. */
static uint32_t live_count(const struct policy_core *core, uint16_t service, uint64_t now_ms)
{
	uint32_t count = pending_spawns_unseen(&core->pending, service);
	for (uint32_t i = 0; i < core->view->n_hosts; i++) {
		const struct view_host *host = core->view->sorted[i];
		if (view_host_usable(core->view, host, now_ms))
			count += view_host_instances(host, service);
	}
	return count;
}

/* An overload at max: a decision without a target, as rarely as "no capacity". */
static void say_at_max(struct policy_core *core, struct view_service *svc, const char *origin,
		       uint32_t count, uint32_t max, const char *overload, uint64_t now_ms)
{
	if (svc->atmax_said && now_ms - svc->atmax_ms < core->config.params.nocap_repeat_ms)
		return;
	svc->atmax_said = true;
	svc->atmax_ms = now_ms;
	struct verdict verdict = {.op = BUS_OP_SPAWN, .service = svc->service, .origin = origin};
	format_text(verdict.reason, sizeof(verdict.reason),
		    "at max: service %u has %u of max %u instances; %s", svc->service, count, max,
		    overload);
	char cmd_id[BUS_NAME_LEN];
	publish_verdict(core, &verdict, now_ms, cmd_id, sizeof(cmd_id));
}

/*
 * Service S is overloaded on origin (a completed stats streak, or an
 * alarm): one more instance, unless S is at its max. overload starts the
 * reason.
 */
static void decide_overload(struct policy_core *core, const char *origin, uint16_t service,
			    const char *overload, const struct bus_stats *stats,
			    const struct bus_alarm *alarm, uint64_t now_ms)
{
	struct view_service *svc = view_service_get(core->view, service);
	if (!svc) {
		core->counters.failures++;
		return;
	}
	snprintf(svc->home, sizeof(svc->home), "%s", origin);
	const struct service_rule *rule = service_rules_find(&core->rules, service);
	if (rule && rule->has_max) {
		uint32_t count = live_count(core, service, now_ms);
		if (count >= rule->max) {
			say_at_max(core, svc, origin, count, rule->max, overload, now_ms);
			return;
		}
	}
	if (place_one(core, svc, origin, stats, alarm, overload, now_ms) && alarm)
		core->counters.alarm_spawns++;
}

static void decide_spawn(struct policy_core *core, const struct view_host *origin,
			 const struct view_host_svc *hs, const struct bus_stats *stats,
			 uint64_t now_ms)
{
	char overload[160];
	if (hs->unserved)
		snprintf(overload, sizeof(overload),
			 "service %u unserved on %s for %u periods (%.0f pps dropped: no instance "
			 "anywhere)",
			 hs->service, origin->name, view_streak_len(origin, hs), hs->drop_pps);
	else
		snprintf(overload, sizeof(overload),
			 "service %u overloaded on %s for %u periods (drops %.0f pps, ring %.2f)",
			 hs->service, origin->name, view_streak_len(origin, hs), hs->max_drop_pps,
			 hs->max_ring_fill);
	decide_overload(core, origin->name, hs->service, overload, stats, NULL, now_ms);
}

static void check_overloads(struct policy_core *core, const struct view_host *host,
			    const struct bus_stats *stats, uint64_t now_ms)
{
	for (uint32_t i = 0; i < host->n_svcs; i++) {
		const struct view_host_svc *hs = &host->svcs[i];
		if (view_streak_len(host, hs) >= core->config.params.periods &&
		    !pending_spawn_blocks(&core->pending, hs->service))
			decide_spawn(core, host, hs, stats, now_ms);
	}
}

/* ---- alarms ---- */

/* How long the host says the instance has been overloaded (its own clock). */
static uint64_t alarm_duration_ms(const struct bus_alarm *alarm)
{
	return alarm->ts_ms > alarm->since_ms ? alarm->ts_ms - alarm->since_ms : 0;
}

/* Why an alarm is not acted on, or NULL; usable: its host was usable as it arrived. */
static const char *alarm_ignored(const struct policy_core *core, const struct bus_alarm *alarm,
				 bool retained, bool usable, uint64_t now_ms)
{
	if (retained)
		return "retained: broker history";
	if (!usable)
		return "its host is offline, stale or unknown";
	const struct view_host *host = view_host_find(core->view, alarm->host);
	if (!host || !view_host_runs_instance(host, alarm->service, alarm->instance))
		return "its host does not list that instance running";
	/* The alarm's onset on our clock, at the latest (the transit only
	 * makes the real onset earlier). */
	uint64_t duration = alarm_duration_ms(alarm);
	uint64_t onset = now_ms > duration ? now_ms - duration : 0;
	const struct view_service *svc = view_service_find(core->view, alarm->service);
	if (svc && onset < svc->restarted_ms)
		return "its overload began before the latest spawn of the service was carried out";
	return NULL;
}

/*
 * An alarm is a completed overload streak of its service on its host
 * (docs/bus.md): decided at once under the stats rules. usable: the host
 * was usable before the alarm counted as a sign of life.
 */
static void check_alarm(struct policy_core *core, const struct bus_alarm *alarm, bool retained,
			bool usable, uint64_t now_ms)
{
	core->counters.alarms++;
	const char *ignored = alarm_ignored(core, alarm, retained, usable, now_ms);
	if (ignored) {
		core->counters.alarms_ignored++;
		core_log(core, "alarm of service %u instance %u on %s ignored: %s", alarm->service,
			 alarm->instance, alarm->host, ignored);
		return;
	}
	if (pending_spawn_blocks(&core->pending, alarm->service)) {
		core_log(core, "alarm of service %u on %s: a spawn of it is pending",
			 alarm->service, alarm->host);
		return;
	}
	char overload[224];
	snprintf(overload, sizeof(overload),
		 "service %u overloaded on %s " POLICY_REASON_ALARM
		 "instance %u, drops %.0f pps, ring %.2f, for %" PRIu64 " ms)",
		 alarm->service, alarm->host, alarm->instance, alarm->drop_pps, alarm->ring_fill,
		 alarm_duration_ms(alarm));
	decide_overload(core, alarm->host, alarm->service, overload, NULL, alarm, now_ms);
}

/* ---- repair ---- */

/* Why the service is short: a host that lists instances of it but cannot
 * be counted, else its latest loss, else it never had its instances. */
static void shortfall_cause(const struct policy_core *core, const struct view_service *svc,
			    uint64_t now_ms, char *buf, size_t len)
{
	for (uint32_t i = 0; i < core->view->n_hosts; i++) {
		const struct view_host *host = core->view->sorted[i];
		if (!view_host_instances(host, svc->service) ||
		    view_host_usable(core->view, host, now_ms))
			continue;
		if (host->has_state && host->status == BUS_STATUS_OFFLINE) {
			snprintf(buf, len, "%s went offline", host->name);
			return;
		}
		if (view_host_stale(core->view, host, now_ms)) {
			snprintf(buf, len, "%s is stale", host->name);
			return;
		}
	}
	snprintf(buf, len, "%s", svc->lost[0] ? svc->lost : "no loss seen: short from the start");
}

/* A host that lists instances of the service, is not known to be offline,
 * and has not spoken since the hold began: its instances may be alive. */
static bool unheard_host_lists(const struct policy_core *core, uint16_t service)
{
	for (uint32_t i = 0; i < core->view->n_hosts; i++) {
		const struct view_host *host = core->view->sorted[i];
		if (view_host_instances(host, service) &&
		    !(host->has_state && host->status == BUS_STATUS_OFFLINE) &&
		    (!host->seen || host->last_seen_ms < core->hold_from_ms))
			return true;
	}
	return false;
}

/*
 * min is a declaration: whenever fewer than min instances of a service
 * run (or are pending) on usable hosts, whatever the cause (a host offline
 * or stale, an exit, an instance gone from a map, or none ever started),
 * one more is spawned, with no origin, one command at a time.
 *
 * After the first message, or a reconnection (policy_core_hold_repairs),
 * the view is history: hosts known only from retained messages, or silent
 * while the daemon was away, look lost though they may be alive. For one
 * staleness bound, a service is then repaired only once a live message
 * has come (the retained burst is over) and every host that lists
 * instances of it has spoken since, or is known to be offline.
 */
static void check_repairs(struct policy_core *core, uint64_t now_ms)
{
	bool holding = now_ms < core->repair_after_ms;
	if (!core->rules.n || (holding && !core->heard_in_hold))
		return;
	for (uint32_t i = 0; i < core->rules.n; i++) {
		const struct service_rule *rule = &core->rules.rules[i];
		if (!rule->min || pending_spawn_blocks(&core->pending, rule->id) ||
		    (holding && unheard_host_lists(core, rule->id)))
			continue;
		uint32_t count = live_count(core, rule->id, now_ms);
		if (count >= rule->min)
			continue;
		struct view_service *svc = view_service_get(core->view, rule->id);
		if (!svc) {
			core->counters.failures++;
			continue;
		}
		char cause[128], situation[224];
		shortfall_cause(core, svc, now_ms, cause, sizeof(cause));
		snprintf(situation, sizeof(situation),
			 "repair: service %u has %u of min %u instances (%s)", rule->id, count,
			 rule->min, cause);
		place_one(core, svc, NULL, NULL, NULL, situation, now_ms);
	}
}

/* ---- scaling in ---- */

static void decide_stop(struct policy_core *core, const struct scale_in_choice *choice,
			uint64_t now_ms)
{
	struct verdict verdict = {
	    .op = BUS_OP_STOP,
	    .service = choice->service,
	    .origin = choice->home ? choice->home : choice->host->name,
	    .target = choice->host->name,
	    .instance = choice->instance,
	};
	snprintf(verdict.reason, sizeof(verdict.reason),
		 "service %u has spare capacity: %u instances, %.0f pps offered, calm for %" PRIu64
		 " ms; stopping %s instance %u",
		 choice->service, choice->n_live, choice->offered_pps, choice->calm_ms,
		 choice->home && strcmp(choice->home, choice->host->name) == 0 ? "home" : "remote",
		 choice->instance);
	char cmd_id[BUS_NAME_LEN];
	publish_verdict(core, &verdict, now_ms, cmd_id, sizeof(cmd_id));
	if (pending_add_stop(&core->pending, choice->host->name, cmd_id, !core->leading,
			     choice->service, choice->instance, now_ms) < 0)
		core->counters.failures++;
	core->counters.stops++;
}

static void check_spare(struct policy_core *core, const struct view_host *host, uint64_t now_ms)
{
	const struct policy_params *params = &core->config.params;
	if (!params->scale_in)
		return;
	for (uint32_t i = 0; i < host->n_svcs; i++) {
		if (!host->svcs[i].reported)
			continue;
		struct view_service *svc = view_service_get(core->view, host->svcs[i].service);
		if (!svc || (svc->checked && now_ms - svc->checked_ms < params->scale_in_check_ms))
			continue;
		svc->checked = true;
		svc->checked_ms = now_ms;
		const struct service_rule *rule = service_rules_find(&core->rules, svc->service);
		struct scale_in_limits limits = {
		    .floor = rule && rule->min > 1 ? rule->min : 1,
		    .window_ms =
			rule && rule->has_scale_in_ms ? rule->scale_in_ms : params->scale_in_ms,
		};
		struct scale_in_choice choice;
		if (scale_in_check(core->view, &core->pending, svc->service, &limits, now_ms,
				   &choice))
			decide_stop(core, &choice, now_ms);
	}
}

/* ---- pending ends ---- */

static void pending_ended(void *ctx, const struct pending *pending, enum pending_outcome outcome,
			  uint64_t now_ms)
{
	struct policy_core *core = ctx;
	struct view_service *svc = view_service_get(core->view, pending->service);
	struct view_host *host = view_host_find(core->view, pending->host);
	if (outcome == PENDING_CARRIED_OUT) {
		if (pending->op == PENDING_SPAWN) {
			view_reset_streaks(core->view, pending->service);
			if (svc)
				svc->restarted_ms = now_ms;
		}
		if (svc)
			svc->changed_ms = now_ms;
	} else if (pending->op == PENDING_SPAWN && host &&
		   (outcome == PENDING_REJECTED ||
		    (outcome == PENDING_TIMED_OUT && pending->cmd_id[0]))) {
		/* A command sent (ours or another engine's) and never answered is
		 * a rejection: the host took it and did nothing. */
		if (view_avoid(host, pending->service,
			       now_ms + core->config.params.reject_backoff_ms) < 0)
			core->counters.failures++;
	}
	if (outcome == PENDING_SETTLED)
		return;
	core_log(core, "%s%s of service %u on %s (%s): %s", pending->shadow ? "[shadow] " : "",
		 pending->op == PENDING_SPAWN ? "spawn" : "stop", pending->service, pending->host,
		 pending->cmd_id[0] ? pending->cmd_id : "not sent", pending_outcome_name(outcome));
}

/* ---- leadership ---- */

static void note_engine(struct policy_core *core, const struct bus_engine *engine)
{
	if (strcmp(engine->id, core->engine_id) == 0)
		return; /* our own announcement (or an old one of our id) */
	for (uint32_t i = 0; i < core->n_engines; i++)
		if (strcmp(core->engines[i].id, engine->id) == 0) {
			core->engines[i].online = engine->status == BUS_STATUS_ONLINE;
			return;
		}
	if (core->n_engines == core->engines_cap) {
		uint32_t cap = core->engines_cap ? core->engines_cap * 2 : 8;
		struct known_engine *engines = realloc(core->engines, cap * sizeof(*engines));
		if (!engines) {
			core->counters.failures++;
			return;
		}
		core->engines = engines;
		core->engines_cap = cap;
	}
	struct known_engine *known = &core->engines[core->n_engines++];
	snprintf(known->id, sizeof(known->id), "%s", engine->id);
	known->online = engine->status == BUS_STATUS_ONLINE;
}

static bool should_lead(const struct policy_core *core, uint64_t now_ms)
{
	if (core->config.always_lead)
		return true;
	if (now_ms < core->lead_after_ms)
		return false;
	for (uint32_t i = 0; i < core->n_engines; i++)
		if (core->engines[i].online && strcmp(core->engines[i].id, core->engine_id) < 0)
			return false;
	return true;
}

static void update_leadership(struct policy_core *core, uint64_t now_ms)
{
	bool lead = should_lead(core, now_ms);
	if (lead == core->leading)
		return;
	core->leading = lead;
	core_log(core, "engine %s now %s", core->engine_id, lead ? "leads" : "runs in shadow mode");
	if (lead)
		pending_drop_shadow(&core->pending, now_ms);
}

/* ---- messages ---- */

static int take_in(struct policy_core *core, const struct bus_msg *msg, bool retained,
		   uint64_t now_ms)
{
	struct view *view = core->view;
	int ret = 0;
	switch (msg->kind) {
	case BUS_KIND_STATE:
		ret = view_apply_state(view, &msg->u.state, retained, now_ms);
		if (ret == 0)
			pending_on_state(&core->pending, view_host_find(view, msg->u.state.host),
					 now_ms);
		break;
	case BUS_KIND_SERVICES:
		ret = view_apply_services(view, &msg->u.services, retained, now_ms);
		if (ret == 0)
			pending_on_services(&core->pending,
					    view_host_find(view, msg->u.services.host), now_ms);
		break;
	case BUS_KIND_STATS:
		ret = view_apply_stats(view, &msg->u.stats, retained, now_ms);
		if (ret == 0)
			core->counters.duplicates++;
		break;
	case BUS_KIND_EVENTS:
		view_host_heard(view, msg->u.event.host, retained, now_ms);
		if (msg->u.event.event == BUS_EV_EXITED && msg->u.event.has_instance)
			view_instance_exited(view, msg->u.event.host, msg->u.event.service,
					     msg->u.event.instance, now_ms);
		pending_on_event(&core->pending, &msg->u.event, now_ms);
		break;
	case BUS_KIND_ALARMS: {
		/* Judged as it arrived: then it is a sign of life like any other. */
		const struct view_host *host = view_host_find(view, msg->u.alarm.host);
		ret = host && view_host_usable(view, host, now_ms);
		view_host_heard(view, msg->u.alarm.host, retained, now_ms);
		break;
	}
	case BUS_KIND_CMD:
		if (core->config.follow_engines &&
		    pending_take_command(&core->pending, view, &msg->u.cmd, now_ms) < 0)
			ret = -1;
		break;
	case BUS_KIND_ENGINE:
		if (core->config.follow_engines)
			note_engine(core, &msg->u.engine);
		break;
	default:
		break;
	}
	if (ret < 0)
		core->counters.failures++;
	return ret;
}

void policy_core_handle(struct policy_core *core, const struct bus_msg *msg, bool retained,
			uint64_t now_ms)
{
	core->counters.messages++;
	if (!core->started) {
		core->started = true;
		policy_core_hold_repairs(core, now_ms, now_ms + core->config.params.stale_ms);
	}
	if (!retained)
		core->heard_in_hold = true;
	pending_expire(&core->pending, core->view, now_ms);
	int ret = take_in(core, msg, retained, now_ms);
	update_leadership(core, now_ms);
	if (core->engine.ops->observe)
		core->engine.ops->observe(core->engine.state, msg, now_ms);
	check_repairs(core, now_ms);
	if (msg->kind == BUS_KIND_ALARMS)
		check_alarm(core, &msg->u.alarm, retained, ret == 1, now_ms);
	if (msg->kind != BUS_KIND_STATS || ret != 1)
		return;
	const struct view_host *host = view_host_find(core->view, msg->u.stats.host);
	if (!host || (host->has_state && host->status == BUS_STATUS_OFFLINE))
		return; /* an offline host's instances count as gone */
	check_overloads(core, host, &msg->u.stats, now_ms);
	check_spare(core, host, now_ms);
}

void policy_core_tick(struct policy_core *core, uint64_t now_ms)
{
	pending_expire(&core->pending, core->view, now_ms);
	update_leadership(core, now_ms);
}

/* ---- life cycle ---- */

struct policy_core *policy_core_create(const struct policy_config *config,
				       const struct policy_engine_handle *engine,
				       const struct policy_sink *sink, char *err, size_t errlen)
{
	if (!config->engine_id || !bus_name_valid(config->engine_id) ||
	    strlen(config->engine_id) > POLICY_ID_MAX) {
		snprintf(err, errlen,
			 "engine id must be 1..%d printable bytes without / + # or space",
			 POLICY_ID_MAX);
		return NULL;
	}
	if (policy_params_check(&config->params, err, errlen) < 0)
		return NULL;
	if (!engine || !engine->ops || !engine->ops->place || !sink || !sink->emit) {
		snprintf(err, errlen, "no engine or no sink");
		return NULL;
	}
	struct policy_core *core = calloc(1, sizeof(*core));
	if (!core || !(core->view = view_create(&config->params))) {
		free(core);
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	snprintf(core->engine_id, sizeof(core->engine_id), "%s", config->engine_id);
	core->config = *config;
	core->config.engine_id = core->engine_id;
	core->engine = *engine;
	core->sink = *sink;
	core->cmd_no = config->first_cmd_no;
	core->leading = config->always_lead;
	if (service_rules_copy(&core->rules, config->rules) < 0) {
		view_destroy(core->view);
		free(core);
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	core->config.rules = NULL; /* the core's copy is core->rules */
	struct pending_hooks hooks = {.ended = pending_ended, .ctx = core};
	if (pending_init(&core->pending, &config->params, &hooks) < 0) {
		service_rules_free(&core->rules);
		view_destroy(core->view);
		free(core);
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	return core;
}

void policy_core_destroy(struct policy_core *core)
{
	if (!core)
		return;
	core->pending.hooks.ended = NULL;
	pending_free(&core->pending);
	view_destroy(core->view);
	free(core->engines);
	free(core->cands);
	service_rules_free(&core->rules);
	free(core);
}

int policy_core_set_rules(struct policy_core *core, const struct service_rules *rules)
{
	struct service_rules copy;
	if (service_rules_copy(&copy, rules) < 0)
		return -1;
	service_rules_free(&core->rules);
	core->rules = copy;
	return 0;
}

void policy_core_hold_repairs(struct policy_core *core, uint64_t now_ms, uint64_t until_ms)
{
	core->hold_from_ms = now_ms;
	core->heard_in_hold = false;
	if (until_ms > core->repair_after_ms)
		core->repair_after_ms = until_ms;
}

void policy_core_lead_after(struct policy_core *core, uint64_t now_ms)
{
	core->lead_after_ms = now_ms;
}

bool policy_core_leading(const struct policy_core *core)
{
	return core->leading;
}

const struct view *policy_core_view(const struct policy_core *core)
{
	return core->view;
}

const struct pending_set *policy_core_pending(const struct policy_core *core)
{
	return &core->pending;
}

void policy_core_counters(const struct policy_core *core, struct policy_counters *out)
{
	*out = core->counters;
}
