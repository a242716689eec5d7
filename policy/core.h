/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * core.h - the policy daemon without MQTT: takes decoded messages and the
 * time they arrived, keeps the cluster view and the pending commands,
 * detects overload and spare capacity, asks the engine, and hands the
 * commands and decisions it makes to a sink as (topic, payload) pairs.
 *
 * The live daemon (live.h) and replay (replay.h) drive this same code; only
 * their clocks and sinks differ. Decisions are made only when a message
 * arrives, so a replay sees exactly what the live daemon would.
 *
 * Leadership: the online engine with the smallest id leads (strcmp on the
 * ids announced on <root>/policy/engines/<id>); a leader sends commands
 * and decisions, a shadow only decisions with "shadow": true. A core may
 * be told never to lead before a time (start-up grace, so a daemon that
 * has not yet heard the retained announcements does not lead by mistake),
 * or to always lead (replay).
 *
 * Alarms (docs/bus.md): a host's alarm about one of its instances is a
 * completed overload streak of that service on that host, decided at once
 * under the stats rules (pending, max, "no capacity" repeats, avoided
 * hosts). Only a host's word about itself counts: an alarm is ignored
 * when retained, when its host was offline, stale or unknown as it
 * arrived, when the host's map does not list the instance (starting or
 * running), or when its overload began (ts_ms - since_ms before it
 * arrived) before the latest spawn of the service was carried out, as
 * the stats streaks start again then. Stats streaks stay the fallback.
 */
#ifndef ONVM_POLICY_CORE_H
#define ONVM_POLICY_CORE_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "codec.h"
#include "engines.h"
#include "params.h"
#include "pending.h"
#include "service_rules.h"
#include "view.h"

#define POLICY_ID_MAX 40 /* engine id bytes, so "<id>-<n>" fits a command id */

/* Where commands and decisions go (the bus, or a trace on stdout). */
struct policy_sink {
	void (*emit)(void *ctx, const char *topic, int qos, bool retained, const char *payload,
		     size_t len);
	void *ctx;
};

struct policy_config {
	const char *engine_id; /* 1..POLICY_ID_MAX bytes, a valid bus name */
	struct policy_params params;
	const struct service_rules *rules; /* per-service min, max, scale-in (copied); NULL: none */
	bool always_lead;		   /* replay: lead whatever other engines announce */
	bool follow_engines;		   /* take in other engines' commands and announcements */
	uint64_t first_cmd_no;		   /* command ids are "<engine id>-<n>", n from this + 1 */
	FILE *log; /* one line per decision and bookkeeping event, or NULL */
};

struct policy_counters {
	uint64_t messages;   /* handled */
	uint64_t duplicates; /* stats with a seq already seen */
	uint64_t spawns;     /* spawn decisions (leader or shadow) */
	uint64_t stops;
	uint64_t no_capacity;
	uint64_t commands; /* sent as leader */
	uint64_t decisions;
	uint64_t engine_refusals; /* engine answers the core did not accept */
	uint64_t failures;	  /* encoding or memory failures */
	uint64_t alarms;	  /* alarms received */
	uint64_t alarms_ignored;  /* ... retained, from a host not usable, for an instance it
				     does not list, or begun before the latest spawn */
	uint64_t alarm_spawns;	  /* spawn decisions made from an alarm */
};

/* What a decision's reason says when it came from an alarm (onvm-top reads it). */
#define POLICY_REASON_ALARM "(alarm: "

struct policy_core;

/* The engine handle stays the caller's; NULL with a reason in err. */
struct policy_core *policy_core_create(const struct policy_config *config,
				       const struct policy_engine_handle *engine,
				       const struct policy_sink *sink, char *err, size_t errlen);
void policy_core_destroy(struct policy_core *core);

/* Take in one decoded message that arrived at now_ms (non-decreasing). */
void policy_core_handle(struct policy_core *core, const struct bus_msg *msg, bool retained,
			uint64_t now_ms);

/*
 * Time passes without a message (live only): end timed-out pending
 * commands and take up or hand over leadership. Never decides anything, so
 * replay, which has no ticks, decides exactly as the live daemon does.
 */
void policy_core_tick(struct policy_core *core, uint64_t now_ms);

/*
 * now_ms is the caller's local clock, and every deadline is measured on it.
 * Live, that is the monotonic clock, and the timestamps other machines read
 * (a command's ts_ms and expires_ms, a decision's ts_ms) are now_ms plus
 * this offset, the wall clock's lead over it, which the caller keeps up to
 * date.  Replay leaves it at 0: its recorded times are both.
 */
void policy_core_set_wall_offset(struct policy_core *core, int64_t offset_ms);

/*
 * Hold repairs (spawns for a service under its min) from now_ms until
 * until_ms: in that time a service is repaired only once every host that
 * lists instances of it has spoken since now_ms (or is offline). The core
 * holds them for one staleness bound after its first message by itself;
 * the live daemon holds them as long again after reconnecting, when every
 * host looks stale until it speaks again.
 */
void policy_core_hold_repairs(struct policy_core *core, uint64_t now_ms, uint64_t until_ms);

/* Replace the per-service rules (a --services reload); they apply from the
 * next message. 0, or -1 when out of memory (the old rules stay). */
int policy_core_set_rules(struct policy_core *core, const struct service_rules *rules);

/* Do not lead before this time. */
void policy_core_lead_after(struct policy_core *core, uint64_t now_ms);
bool policy_core_leading(const struct policy_core *core);

const struct view *policy_core_view(const struct policy_core *core);
const struct pending_set *policy_core_pending(const struct policy_core *core);
void policy_core_counters(const struct policy_core *core, struct policy_counters *out);

#endif /* ONVM_POLICY_CORE_H */
