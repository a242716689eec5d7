/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * pending.h - spawns and stops decided but not yet seen carried out.
 *
 * A pending spawn of service S on host T
 *  - blocks further spawns of S until the new instance shows up in T's
 *    services map (or a "spawned" event names the command), T rejects the
 *    command, T goes offline, or pending_ms pass;
 *  - promises `count` cores of T, which are not offered again until the
 *    instance has shown up in T's map AND T has published a state since
 *    the command (so its free count includes the new instance), or
 *    settle_ms after it showed up, or the pending ends otherwise;
 *  - times out (PENDING_TIMED_OUT, which the core counts as T's rejection)
 *    when its instance is not in T's map after pending_ms, even if a
 *    "spawned" event said it was carried out: a host that answers yes and
 *    does nothing must not keep getting the placements.
 * A pending stop blocks further stops of S until the instance leaves the
 * map (or a "stopped"/"exited" event names it), a rejection, or a timeout.
 * Shadow entries are decisions a shadow engine made but did not send:
 * they block like the others until a leader's command for the same
 * service replaces them or pending_ms pass, and are dropped on takeover.
 *
 * Every per-message question (does S have a spawn pending, what is promised
 * on T, which entry has this id, what ends now) is answered from an index
 * in O(1) or O(entries on that one host), never by scanning every entry:
 * a cluster of 1000 hosts with a spawn pending on each costs each message
 * what a cluster of 10 does (tests/bench/replay.sh).
 */
#ifndef ONVM_POLICY_PENDING_H
#define ONVM_POLICY_PENDING_H

#include <stdbool.h>
#include <stdint.h>

#include "codec.h"
#include "view.h"

enum pending_op { PENDING_SPAWN = 0, PENDING_STOP };

enum pending_outcome {
	PENDING_CARRIED_OUT = 0, /* spawn: the instance showed up; stop: it left */
	PENDING_SETTLED,	 /* spawn: the promised cores are released */
	PENDING_REJECTED,
	PENDING_TIMED_OUT,
	PENDING_HOST_GONE,
	PENDING_REPLACED, /* shadow entry replaced by the leader's command */
	PENDING_DROPPED,  /* shadow entry dropped on takeover */
};

struct pending_host;

struct pending {
	enum pending_op op;
	char cmd_id[BUS_NAME_LEN]; /* "" for a shadow decision */
	bool shadow;
	bool foreign; /* another engine's command */
	uint16_t service;
	char host[BUS_NAME_LEN]; /* where it runs */
	char origin[BUS_NAME_LEN];
	uint32_t count;	   /* spawn: cores promised */
	uint32_t instance; /* stop: the instance; spawn: the new one once seen (0 before) */
	uint64_t created_ms;
	bool carried_out; /* spawn: showed up or said so, no longer blocks */
	uint64_t carried_out_ms;
	bool state_after; /* the host published a state after the decision */
	uint32_t n_known; /* spawn: instances of the service on the host at decision time */
	uint32_t *known;

	/* Kept by pending.c: the indexes that keep each message's work
	 * independent of how many entries there are. */
	struct pending *prev, *next;		   /* every entry, in creation order */
	struct pending *host_prev, *host_next;	   /* the same host's, in creation order */
	struct pending *queue_prev, *queue_next;   /* its end queue (pending.c), in order */
	struct pending *shadow_prev, *shadow_next; /* shadow entries of (service, op) */
	struct pending *id_next;		   /* same hash of cmd_id */
	struct pending_host *at;		   /* its host's index entry */
	int queue;
};

/* Told of every end (and of a spawn carried out, which keeps its promise a while). */
struct pending_hooks {
	void (*ended)(void *ctx, const struct pending *pending, enum pending_outcome outcome,
		      uint64_t now_ms);
	void *ctx;
};

struct pending_queue {
	struct pending *head, *tail;
};

/* Per service: what blocks it, and its shadow entries per op. */
struct pending_svc {
	uint32_t spawns_blocking; /* spawns not carried out */
	uint32_t spawns_unseen;	  /* spawns whose instance is not yet in its host's map */
	uint32_t stops;
	struct pending *shadow[2], *shadow_tail[2];
};

struct pending_set {
	uint32_t n;
	struct pending *first, *last; /* creation order */
	struct pending_hooks hooks;
	uint64_t settle_ms, timeout_ms;
	/* Ends in time order: not carried out (by created_ms), carried out (by
	 * carried_out_ms), and carried out with a state since (settle now). */
	struct pending_queue waiting, settling, ready;
	struct pending **ids; /* chains by cmd_id hash */
	uint32_t ids_cap;
	struct pending_host **hosts; /* open addressing by name */
	uint32_t hosts_cap, n_hosts;
	struct pending_host *gone; /* hosts seen offline with entries: end them */
	struct pending_svc *svcs;  /* VIEW_SERVICES */
};

/* 0, or -1 when out of memory. */
int pending_init(struct pending_set *set, const struct policy_params *params,
		 const struct pending_hooks *hooks);
void pending_free(struct pending_set *set);

/* Add; the host's current instances of the service are remembered. 0 or -1 (memory). */
int pending_add_spawn(struct pending_set *set, const struct view_host *host, const char *cmd_id,
		      bool shadow, uint16_t service, const char *origin, uint32_t count,
		      uint64_t now_ms);
int pending_add_stop(struct pending_set *set, const char *host, const char *cmd_id, bool shadow,
		     uint16_t service, uint32_t instance, uint64_t now_ms);

struct pending *pending_find_id(struct pending_set *set, const char *cmd_id);

bool pending_spawn_blocks(const struct pending_set *set, uint16_t service);
/* Spawns of the service whose instance is not in its host's map yet:
 * instances to come, which max and min count. */
uint32_t pending_spawns_unseen(const struct pending_set *set, uint16_t service);
bool pending_stop_blocks(const struct pending_set *set, uint16_t service);
bool pending_stopping(const struct pending_set *set, const char *host, uint32_t instance);
/* Cores promised on the host to spawns whose promise still holds. */
uint32_t pending_promised(const struct pending_set *set, const char *host);

/* Another engine's command (seen on the bus): replace a shadow entry of the
 * same service and op, or add a foreign entry. */
int pending_take_command(struct pending_set *set, const struct view *view,
			 const struct bus_cmd *cmd, uint64_t now_ms);

/* The view changed: a host's map, a host's state, an event. Every state
 * taken into the view must be told here: a host seen offline is how its
 * entries come to end (at the next pending_expire). */
void pending_on_services(struct pending_set *set, const struct view_host *host, uint64_t now_ms);
void pending_on_state(struct pending_set *set, const struct view_host *host, uint64_t now_ms);
void pending_on_event(struct pending_set *set, const struct bus_event *event, uint64_t now_ms);

/* End what timed out, settled, or sits on an offline host. */
void pending_expire(struct pending_set *set, const struct view *view, uint64_t now_ms);

/* On takeover: forget every shadow entry. */
void pending_drop_shadow(struct pending_set *set, uint64_t now_ms);

const char *pending_outcome_name(enum pending_outcome outcome);

#endif /* ONVM_POLICY_PENDING_H */
