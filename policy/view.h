/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * view.h - the cluster view a policy engine decides from: hosts (status,
 * free cores, liveness), the service-to-instance map, each host's latest
 * per-instance load, per (host, service) overload streaks, calm windows
 * and learnt per-instance capacity, and what each service has learnt (home
 * host, "no capacity" and rejection memory).
 *
 * Pure: it is fed decoded bus messages with the time they arrived (a
 * virtual clock in replay) and never reads the wall clock. Messages with
 * the retained flag are history: they set what a host published but do
 * not prove it alive. Pending spawns and stops live in pending.h.
 */
#ifndef ONVM_POLICY_VIEW_H
#define ONVM_POLICY_VIEW_H

#include <stdbool.h>
#include <stdint.h>

#include "codec.h"
#include "params.h"

#define VIEW_SERVICES 65536 /* service ids are 1..65535 */

/*
 * A capacity sample is at most this: no instance on one core takes in more
 * than a 100 GbE port's worth of 64-byte frames (148.8 Mpps). A host that
 * reports more is wrong, and must not make every scale-in look safe.
 */
#define VIEW_CAPACITY_MAX_PPS 150e6

/* One service on one host, from the host's stats. */
struct view_host_svc {
	uint16_t service;
	bool reported;		   /* listed in the host's latest stats */
	bool unserved;		   /* ... only as unserved demand: no instance anywhere */
	bool streak;		   /* overloaded in every report since streak_seq */
	uint64_t streak_seq;	   /* seq of the first overloaded report of the streak */
	uint64_t streak_ms;	   /* ... and when it arrived */
	uint32_t streak_period_ms; /* the longest period_ms the streak's reports gave */
	bool calm;		   /* calm in every report since calm_since_ms */
	uint64_t calm_since_ms;
	uint32_t n_insts;	/* instances in the latest report */
	double rx_pps;		/* latest report, summed over its instances */
	double drop_pps;	/* summed */
	double max_drop_pps;	/* worst instance */
	double max_ring_fill;	/* worst instance */
	double max_rising_fill; /* worst instance whose ring is not draining */
	bool has_capacity;	/* learnt from this host's reports: */
	double capacity_pps;	/* rx_pps of a saturated instance (a moving average whose
				   samples are capped at VIEW_CAPACITY_MAX_PPS and at twice
				   the average) */
};

/* A service's rejection memory on one host. */
struct view_avoid {
	uint16_t service;
	uint64_t until_ms;
};

struct view_host {
	char name[BUS_NAME_LEN];
	/* From its state. */
	bool has_state;
	enum bus_status status;
	uint64_t epoch_ms;
	uint32_t cores_total, cores_free;
	/* Liveness: the last message that was not retained history. */
	bool seen;
	uint64_t last_seen_ms;
	/* Its stats stream. */
	bool has_seq;
	uint64_t last_seq;
	uint64_t last_stats_ms; /* when its latest stats arrived */
	uint32_t period_ms;
	uint64_t missed_periods; /* seq gaps, counted */
	double load_pps;	 /* rx_pps of all its instances, latest stats */
	uint32_t n_load, load_cap;
	struct bus_inst_stats *load; /* latest per-instance stats */
	/* Its part of the service map, sorted by (service, instance). */
	uint32_t n_insts, insts_cap;
	struct bus_service_inst *insts;
	/* Per service, sorted by service id. */
	uint32_t n_svcs, svcs_cap;
	struct view_host_svc *svcs;
	uint32_t n_avoid, avoid_cap;
	struct view_avoid *avoid; /* sorted by service */
};

/* What the cluster knows of one service. */
struct view_service {
	uint16_t service;
	char home[BUS_NAME_LEN]; /* origin of its latest overload ("" if none) */
	uint64_t changed_ms;	 /* its instance set last changed */
	bool nocap_said;	 /* a "no capacity" decision was made ... */
	uint64_t nocap_ms;	 /* ... at this time */
	bool checked;		 /* scale-in looked at it ... */
	uint64_t checked_ms;	 /* ... at this time */
	bool atmax_said;	 /* an "at max" decision was made ... */
	uint64_t atmax_ms;	 /* ... at this time */
	char lost[96];		 /* how it last lost an instance ("" if never) */
	uint64_t restarted_ms;	 /* a spawn of it was last carried out: its streaks (and
				    alarms about overloads begun before) start again (0: never) */
};

struct view {
	struct policy_params params;
	uint32_t n_hosts;
	struct view_host **sorted; /* by name (strcmp) */
	uint32_t sorted_cap;
	struct view_host **table; /* open addressing on the name */
	uint32_t table_cap;
	struct view_service **services; /* VIEW_SERVICES entries, made on first use */
	uint64_t duplicate_stats;	/* stats with a seq already seen, ignored */
};

struct view *view_create(const struct policy_params *params);
void view_destroy(struct view *view);

/* FNV-1a of a host name or command id: the policy's hash tables' one hash. */
uint32_t view_name_hash(const char *name);

struct view_host *view_host_find(const struct view *view, const char *name);
/* Find or add; NULL only when out of memory. */
struct view_host *view_host_get(struct view *view, const char *name);
/* Find or add; NULL only when out of memory. */
struct view_service *view_service_get(struct view *view, uint16_t service);
struct view_service *view_service_find(const struct view *view, uint16_t service);

/* Take in a message received at now_ms. 0, or -1 when out of memory. */
int view_apply_state(struct view *view, const struct bus_state *state, bool retained,
		     uint64_t now_ms);
int view_apply_services(struct view *view, const struct bus_services *services, bool retained,
			uint64_t now_ms);
/* Returns 1 when the stats were taken in, 0 for a duplicate (ignored), -1 out of memory. */
int view_apply_stats(struct view *view, const struct bus_stats *stats, bool retained,
		     uint64_t now_ms);
/*
 * An "exited" event: the instance is gone from the host's map now (its
 * next services map says the same, or brings it back). 1 if it was there.
 */
int view_instance_exited(struct view *view, const char *host, uint16_t service, uint32_t instance,
			 uint64_t now_ms);
/* Any other message from a host: it is alive. */
void view_host_heard(struct view *view, const char *host, bool retained, uint64_t now_ms);

/* Online, with cores known, heard from within the staleness bound. */
bool view_host_usable(const struct view *view, const struct view_host *host, uint64_t now_ms);
/* Online by its state but not heard from within the staleness bound. */
bool view_host_stale(const struct view *view, const struct view_host *host, uint64_t now_ms);

/*
 * Length of the host's current overload streak of this service, in periods:
 * the periods its seq numbers span, but never more than the time between the
 * streak's first and latest reports (rounded to whole periods, plus the first
 * report's own period) allows, so a seq jump cannot lengthen it.
 */
uint32_t view_streak_len(const struct view_host *host, const struct view_host_svc *svc);
/* Forget every overload streak of the service (it just got a new instance). */
void view_reset_streaks(struct view *view, uint16_t service);

/* Instances of the service in the host's map that are starting or running. */
uint32_t view_host_instances(const struct view_host *host, uint16_t service);
bool view_host_has_instance(const struct view_host *host, uint16_t service, uint32_t instance);
/* The instance is in the host's map, starting or running. */
bool view_host_runs_instance(const struct view_host *host, uint16_t service, uint32_t instance);
struct view_host_svc *view_host_svc_find(const struct view_host *host, uint16_t service);
/* The latest stats of one instance on the host, or NULL. */
const struct bus_inst_stats *view_host_load(const struct view_host *host, uint32_t instance);

/*
 * The per-instance capacity of a service, 0 when no host has learnt one:
 * the smallest any host learnt, so one host's numbers can only make
 * scale-in more careful, never less.
 */
double view_capacity(const struct view *view, uint16_t service);

/* Rejection memory: avoid the host for the service until until_ms. */
int view_avoid(struct view_host *host, uint16_t service, uint64_t until_ms);
bool view_avoided(const struct view_host *host, uint16_t service, uint64_t now_ms);

#endif /* ONVM_POLICY_VIEW_H */
