/*
 * pending.h - spawns and stops decided but not yet seen carried out.
 *
 * A pending spawn of service S on host T
 *  - blocks further spawns of S until the new instance shows up in T's
 *    services map (or a "spawned" event names the command), T rejects the
 *    command, T goes offline, or pending_ms pass;
 *  - promises `count` cores of T, which are not offered again until the
 *    instance has shown up AND T has published a state since the command
 *    (so its free count includes the new instance), or settle_ms after it
 *    showed up, or the pending ends otherwise.
 * A pending stop blocks further stops of S until the instance leaves the
 * map (or a "stopped"/"exited" event names it), a rejection, or a timeout.
 * Shadow entries are decisions a shadow engine made but did not send:
 * they block like the others until a leader's command for the same
 * service replaces them or pending_ms pass, and are dropped on takeover.
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
	bool carried_out; /* spawn: showed up, no longer blocks */
	uint64_t carried_out_ms;
	bool state_after; /* the host published a state after the decision */
	uint32_t n_known; /* spawn: instances of the service on the host at decision time */
	uint32_t *known;
};

/* Told of every end (and of a spawn carried out, which keeps its promise a while). */
struct pending_hooks {
	void (*ended)(void *ctx, const struct pending *pending, enum pending_outcome outcome,
		      uint64_t now_ms);
	void *ctx;
};

struct pending_set {
	uint32_t n, cap;
	struct pending *items;
	struct pending_hooks hooks;
	uint64_t settle_ms, timeout_ms;
};

void pending_init(struct pending_set *set, const struct policy_params *params,
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
bool pending_stop_blocks(const struct pending_set *set, uint16_t service);
bool pending_stopping(const struct pending_set *set, const char *host, uint32_t instance);
/* Cores promised on the host to spawns whose promise still holds. */
uint32_t pending_promised(const struct pending_set *set, const char *host);

/* Another engine's command (seen on the bus): replace a shadow entry of the
 * same service and op, or add a foreign entry. */
int pending_take_command(struct pending_set *set, const struct view *view,
			 const struct bus_cmd *cmd, uint64_t now_ms);

/* The view changed: a host's map, a host's state, an event. */
void pending_on_services(struct pending_set *set, const struct view_host *host, uint64_t now_ms);
void pending_on_state(struct pending_set *set, const struct view_host *host, uint64_t now_ms);
void pending_on_event(struct pending_set *set, const struct bus_event *event, uint64_t now_ms);

/* End what timed out, settled, or sits on an offline host. */
void pending_expire(struct pending_set *set, const struct view *view, uint64_t now_ms);

/* On takeover: forget every shadow entry. */
void pending_drop_shadow(struct pending_set *set, uint64_t now_ms);

const char *pending_outcome_name(enum pending_outcome outcome);

#endif /* ONVM_POLICY_PENDING_H */
