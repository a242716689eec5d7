/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * top.h - the model behind onvm-top: a live table of the cluster, a
 * timeline of the load, and how fast each scale-out reacted.
 *
 * Pure: it is fed decoded bus messages (or raw topic + payload, decoded
 * here by the strict bus codecs) with the wall time they arrived, and
 * prints to the FILEs it is handed; no MQTT. Arrival times only decide
 * liveness and the table's clock; every reaction time is computed from the
 * publishers' ts_ms (all hosts share one clock on this testbed).
 *
 * "Overloaded" is the policy's own: the states, services maps and stats
 * also feed a policy view (view.h) with the policy's parameters
 * (params.h), and a host's overloaded run of the watched service is that
 * view's streak, draining rings, bridged seq gaps and all. A scale-out of
 * the watched service is timed from its overload onset: the ts_ms of the
 * first stats period of the streak, on the decision's origin host, that
 * led to it, never earlier than the end of the previous scale-out. Then
 * come the decision (its ts_ms), the "spawned" event, and the new
 * instance's first packet (its first_rx_ms, else the first stats period in
 * which it received packets). The event is matched to its decision by
 * cmd_id in either order: a host's event and the policy's decision come
 * from different publishers on different topics, so an event that names no
 * decision yet is kept until one does (and a stop's decision that came
 * before its command is dropped when the command shows it was a stop). A scale-out the policy decided from an alarm
 * (its reason says so) is timed from the alarm's since_ms instead, the
 * onset its host's manager measured, when onvm-top saw that alarm (the
 * latest of the service from the origin host, its onset after the end of
 * the previous scale-out and not after the decision). A repair (a decision with no origin) is
 * timed from the loss it replaces: the latest, before its decision, of a
 * host with instances of the service going offline (its state's time) or
 * stale (when it was last heard, by arrival), or an instance exiting.
 *
 * Unserved demand (stats' "unserved": packets for a service with no
 * instance anywhere, dropped where they arrived) of the watched service is
 * offered load that was dropped: it counts in the offered and dropped
 * totals, and has a column per host.
 */
#ifndef ONVM_POLICY_TOP_H
#define ONVM_POLICY_TOP_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "codec.h"
#include "params.h"

#define TOP_MAX_HOSTS	  256
#define TOP_MAX_SCALE	  1024 /* scale-outs (and no-capacity decisions) remembered */
#define TOP_LINE_LEN	  512  /* longest event line */
#define TOP_HOSTS_PER_ROW 3    /* host cells on one table line (100 columns) */

#define TOP_SERVICE_DEFAULT	2 /* the watched service (the demo's slow_thing) */
#define TOP_GEN_SERVICE_DEFAULT 9 /* the load generator's service */

struct top_config {
	uint16_t service;	     /* the watched service */
	uint16_t gen_service;	     /* the load generator's service */
	struct policy_params params; /* overload and staleness, as onvm-policy's */
	uint64_t start_ms;	     /* wall time the table's clock counts from */
	/* Called with each event line (no newline), e.g. a decision; may be NULL. */
	void (*event)(void *ctx, const char *line);
	void *event_ctx;
};

enum top_host_status { TOP_HOST_UNKNOWN = 0, TOP_HOST_ONLINE, TOP_HOST_OFFLINE, TOP_HOST_STALE };

/* One host's cell of a table row. */
struct top_host_row {
	const char *name;
	enum top_host_status status;
	bool has_cores;
	uint32_t cores_free, cores_total;
	uint32_t instances;   /* of the watched service, from the host's services map */
	double delivered_pps; /* tx_pps of the watched service's instances there */
	double unserved_pps;  /* its unserved demand there */
};

/* The cluster-wide part of a table row (also one timeline line). */
struct top_totals {
	double t_s;	      /* since start_ms */
	double offered_pps;   /* tx_pps of the load generator's instances, plus the drops
				 of the watched service on their hosts (what they could not
				 enqueue), plus its unserved demand */
	double delivered_pps; /* tx_pps of the watched service's instances */
	double drop_pps;      /* drop_pps of the watched service's instances, plus its
				 unserved demand */
	double unserved_pps;  /* its unserved demand, all hosts */
	uint32_t instances;   /* of the watched service, on online hosts */
};

/* One scale-out or repair of the watched service, or a decision that found no host. */
struct top_scale_out {
	bool repair;		    /* no origin: a replacement no host asked for */
	char origin[BUS_NAME_LEN];  /* the overloaded host ("" for a repair) */
	bool has_loss;		    /* a repair: the loss it replaces, */
	uint64_t loss_ms;	    /* ... when (see loss_how), */
	char lost_on[BUS_NAME_LEN]; /* ... on which host, */
	const char *loss_how;	    /* ... and how: "offline", "last heard" or "exited" */
	char target[BUS_NAME_LEN];  /* "" for "no capacity" */
	char cmd_id[BUS_NAME_LEN];
	char reason[BUS_TEXT_LEN];
	bool has_onset;
	bool onset_from_alarm;	 /* onset_ms is an alarm's since_ms, not a stats period's ts_ms */
	uint32_t alarm_instance; /* ... the instance the alarm named */
	uint64_t onset_ms;
	uint64_t decision_ms;
	bool spawned;
	bool failed; /* rejected, or the NF exited before it registered */
	char failure[BUS_TEXT_LEN + 16];
	uint64_t spawned_ms;
	uint32_t instance, core;
	bool has_first;
	bool first_from_stats; /* no first_rx_ms: the first stats period with rx_pps > 0 */
	uint64_t first_ms;
};

struct top_counters {
	uint64_t decoded;
	uint64_t rejected; /* contract topics whose payload failed its schema */
	uint64_t ignored;  /* topics outside the contract */
	uint64_t shadow_decisions;
};

struct top;

void top_config_default(struct top_config *config);
/* NULL when out of memory or when config->params fail policy_params_check. */
struct top *top_create(const struct top_config *config);
void top_destroy(struct top *top);

/*
 * Take in a received message (retained: broker history, not a sign of
 * life). 0, or -1 when out of memory or too many hosts (the message is
 * then skipped).
 */
int top_feed(struct top *top, const struct bus_msg *msg, bool retained, uint64_t now_ms);

/*
 * Decode and take in a raw message. 1 taken, 0 not a contract topic, -1
 * rejected (counted; the reason in err) or not taken.
 */
int top_feed_payload(struct top *top, const char *topic, const void *payload, size_t len,
		     bool retained, uint64_t now_ms, char *err, size_t errlen);

/* The clock's turn (before a row): tells hosts that fell silent past the staleness bound. */
void top_tick(struct top *top, uint64_t now_ms);

void top_get_totals(const struct top *top, uint64_t now_ms, struct top_totals *totals);
uint32_t top_host_count(const struct top *top);
/* Hosts in natural name order (h2 before h10). */
void top_get_host(const struct top *top, uint32_t index, uint64_t now_ms, struct top_host_row *row);

uint32_t top_scale_out_count(const struct top *top);
const struct top_scale_out *top_get_scale_out(const struct top *top, uint32_t index);
void top_get_counters(const struct top *top, struct top_counters *counters);

/* What the columns mean, printed once. */
void top_print_legend(const struct top *top, FILE *out);
/* The column header line(s). */
void top_print_header(const struct top *top, uint64_t now_ms, FILE *out);
/* One table row (wrapped onto more lines beyond TOP_HOSTS_PER_ROW hosts). */
void top_print_row(const struct top *top, uint64_t now_ms, FILE *out);

void top_print_tsv_header(FILE *out);
void top_print_tsv_line(const struct top *top, uint64_t now_ms, FILE *out);

/* The reaction-time summary: one block and one grep-able line per scale-out. */
void top_print_summary(const struct top *top, FILE *out);

#endif /* ONVM_POLICY_TOP_H */
