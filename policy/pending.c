/* pending.c - spawns and stops not yet seen carried out (see pending.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pending.h"

void pending_init(struct pending_set *set, const struct policy_params *params,
		  const struct pending_hooks *hooks)
{
	*set = (struct pending_set){
	    .settle_ms = params->settle_ms,
	    .timeout_ms = params->pending_ms,
	};
	if (hooks)
		set->hooks = *hooks;
}

void pending_free(struct pending_set *set)
{
	for (uint32_t i = 0; i < set->n; i++)
		free(set->items[i].known);
	free(set->items);
	set->items = NULL;
	set->n = set->cap = 0;
}

static struct pending *append(struct pending_set *set)
{
	if (set->n == set->cap) {
		uint32_t cap = set->cap ? set->cap * 2 : 8;
		struct pending *items = realloc(set->items, cap * sizeof(*items));
		if (!items)
			return NULL;
		set->items = items;
		set->cap = cap;
	}
	struct pending *pending = &set->items[set->n++];
	*pending = (struct pending){0};
	return pending;
}

/* Remove entry i (order kept, so iteration stays deterministic) after telling the hooks. */
static void end(struct pending_set *set, uint32_t i, enum pending_outcome outcome, uint64_t now_ms)
{
	if (set->hooks.ended)
		set->hooks.ended(set->hooks.ctx, &set->items[i], outcome, now_ms);
	free(set->items[i].known);
	memmove(&set->items[i], &set->items[i + 1], (set->n - i - 1) * sizeof(set->items[0]));
	set->n--;
}

static int remember_known(struct pending *pending, const struct view_host *host)
{
	uint32_t count = 0;
	for (uint32_t i = 0; i < host->n_insts; i++)
		count += host->insts[i].service == pending->service;
	if (!count)
		return 0;
	pending->known = malloc(count * sizeof(*pending->known));
	if (!pending->known)
		return -1;
	for (uint32_t i = 0; i < host->n_insts; i++)
		if (host->insts[i].service == pending->service)
			pending->known[pending->n_known++] = host->insts[i].instance;
	return 0;
}

int pending_add_spawn(struct pending_set *set, const struct view_host *host, const char *cmd_id,
		      bool shadow, uint16_t service, const char *origin, uint32_t count,
		      uint64_t now_ms)
{
	struct pending *pending = append(set);
	if (!pending)
		return -1;
	pending->op = PENDING_SPAWN;
	snprintf(pending->cmd_id, sizeof(pending->cmd_id), "%s", cmd_id ? cmd_id : "");
	pending->shadow = shadow;
	pending->service = service;
	snprintf(pending->host, sizeof(pending->host), "%s", host->name);
	snprintf(pending->origin, sizeof(pending->origin), "%s", origin ? origin : "");
	pending->count = count;
	pending->created_ms = now_ms;
	if (remember_known(pending, host) < 0) {
		set->n--;
		return -1;
	}
	return 0;
}

int pending_add_stop(struct pending_set *set, const char *host, const char *cmd_id, bool shadow,
		     uint16_t service, uint32_t instance, uint64_t now_ms)
{
	struct pending *pending = append(set);
	if (!pending)
		return -1;
	pending->op = PENDING_STOP;
	snprintf(pending->cmd_id, sizeof(pending->cmd_id), "%s", cmd_id ? cmd_id : "");
	pending->shadow = shadow;
	pending->service = service;
	snprintf(pending->host, sizeof(pending->host), "%s", host);
	pending->instance = instance;
	pending->created_ms = now_ms;
	return 0;
}

struct pending *pending_find_id(struct pending_set *set, const char *cmd_id)
{
	if (!cmd_id || !*cmd_id)
		return NULL;
	for (uint32_t i = 0; i < set->n; i++)
		if (strcmp(set->items[i].cmd_id, cmd_id) == 0)
			return &set->items[i];
	return NULL;
}

bool pending_spawn_blocks(const struct pending_set *set, uint16_t service)
{
	for (uint32_t i = 0; i < set->n; i++) {
		const struct pending *p = &set->items[i];
		if (p->op == PENDING_SPAWN && p->service == service && !p->carried_out)
			return true;
	}
	return false;
}

bool pending_stop_blocks(const struct pending_set *set, uint16_t service)
{
	for (uint32_t i = 0; i < set->n; i++)
		if (set->items[i].op == PENDING_STOP && set->items[i].service == service)
			return true;
	return false;
}

bool pending_stopping(const struct pending_set *set, const char *host, uint32_t instance)
{
	for (uint32_t i = 0; i < set->n; i++) {
		const struct pending *p = &set->items[i];
		if (p->op == PENDING_STOP && p->instance == instance && strcmp(p->host, host) == 0)
			return true;
	}
	return false;
}

uint32_t pending_promised(const struct pending_set *set, const char *host)
{
	uint32_t promised = 0;
	for (uint32_t i = 0; i < set->n; i++) {
		const struct pending *p = &set->items[i];
		if (p->op == PENDING_SPAWN && strcmp(p->host, host) == 0)
			promised += p->count;
	}
	return promised;
}

static int find_shadow(const struct pending_set *set, enum pending_op op, uint16_t service)
{
	for (uint32_t i = 0; i < set->n; i++) {
		const struct pending *p = &set->items[i];
		if (p->shadow && p->op == op && p->service == service)
			return (int)i;
	}
	return -1;
}

int pending_take_command(struct pending_set *set, const struct view *view,
			 const struct bus_cmd *cmd, uint64_t now_ms)
{
	if (pending_find_id(set, cmd->id))
		return 0; /* ours, or seen already */
	enum pending_op op = cmd->op == BUS_OP_SPAWN ? PENDING_SPAWN : PENDING_STOP;
	int shadow = find_shadow(set, op, cmd->service);
	if (shadow >= 0)
		end(set, (uint32_t)shadow, PENDING_REPLACED, now_ms);
	int ret;
	if (op == PENDING_SPAWN) {
		const struct view_host *host = view_host_find(view, cmd->target);
		struct view_host empty = {0};
		if (!host) {
			snprintf(empty.name, sizeof(empty.name), "%s", cmd->target);
			host = &empty;
		}
		ret = pending_add_spawn(set, host, cmd->id, false, cmd->service,
					cmd->has_origin ? cmd->origin : "", cmd->count, now_ms);
	} else {
		ret = pending_add_stop(set, cmd->target, cmd->id, false, cmd->service,
				       cmd->instance, now_ms);
	}
	if (ret == 0)
		set->items[set->n - 1].foreign = true;
	return ret;
}

static bool known_before(const struct pending *pending, uint32_t instance)
{
	for (uint32_t i = 0; i < pending->n_known; i++)
		if (pending->known[i] == instance)
			return true;
	return false;
}

/* A new running instance of the pending spawn's service on its host, or 0.
 * One still starting takes no traffic yet: until it runs, the overload it
 * was spawned for goes on and must not count as a new one. */
static uint32_t new_instance(const struct pending *pending, const struct view_host *host)
{
	for (uint32_t i = 0; i < host->n_insts; i++) {
		const struct bus_service_inst *inst = &host->insts[i];
		if (inst->service == pending->service && inst->state == BUS_INST_RUNNING &&
		    !known_before(pending, inst->instance))
			return inst->instance;
	}
	return 0;
}

static void carried_out(struct pending_set *set, struct pending *pending, uint32_t instance,
			uint64_t now_ms)
{
	pending->carried_out = true;
	pending->carried_out_ms = now_ms;
	pending->instance = instance;
	if (set->hooks.ended)
		set->hooks.ended(set->hooks.ctx, pending, PENDING_CARRIED_OUT, now_ms);
}

void pending_on_services(struct pending_set *set, const struct view_host *host, uint64_t now_ms)
{
	for (uint32_t i = 0; i < set->n;) {
		struct pending *p = &set->items[i];
		if (strcmp(p->host, host->name) != 0) {
			i++;
			continue;
		}
		if (p->op == PENDING_SPAWN && !p->carried_out) {
			uint32_t instance = new_instance(p, host);
			if (instance)
				carried_out(set, p, instance, now_ms);
		} else if (p->op == PENDING_STOP &&
			   !view_host_has_instance(host, p->service, p->instance)) {
			end(set, i, PENDING_CARRIED_OUT, now_ms);
			continue;
		}
		i++;
	}
}

void pending_on_state(struct pending_set *set, const struct view_host *host, uint64_t now_ms)
{
	(void)now_ms;
	for (uint32_t i = 0; i < set->n; i++)
		if (strcmp(set->items[i].host, host->name) == 0)
			set->items[i].state_after = true;
}

void pending_on_event(struct pending_set *set, const struct bus_event *event, uint64_t now_ms)
{
	for (uint32_t i = 0; i < set->n; i++) {
		struct pending *p = &set->items[i];
		if (strcmp(p->host, event->host) != 0)
			continue;
		bool named = event->has_cmd_id && strcmp(p->cmd_id, event->cmd_id) == 0;
		if (named && event->event == BUS_EV_REJECTED) {
			end(set, i, PENDING_REJECTED, now_ms);
			return;
		}
		if (named && event->event == BUS_EV_SPAWNED && p->op == PENDING_SPAWN &&
		    !p->carried_out) {
			carried_out(set, p, event->has_instance ? event->instance : 0, now_ms);
			return;
		}
		bool gone = event->event == BUS_EV_STOPPED || event->event == BUS_EV_EXITED;
		if (gone && p->op == PENDING_STOP && event->has_instance &&
		    event->instance == p->instance) {
			end(set, i, PENDING_CARRIED_OUT, now_ms);
			return;
		}
	}
}

static int expired_outcome(const struct pending_set *set, const struct pending *p,
			   const struct view *view, uint64_t now_ms)
{
	const struct view_host *host = view_host_find(view, p->host);
	if (host && host->has_state && host->status == BUS_STATUS_OFFLINE)
		return PENDING_HOST_GONE;
	if (p->carried_out)
		return p->state_after || now_ms - p->carried_out_ms >= set->settle_ms
			   ? PENDING_SETTLED
			   : -1;
	return now_ms - p->created_ms >= set->timeout_ms ? PENDING_TIMED_OUT : -1;
}

void pending_expire(struct pending_set *set, const struct view *view, uint64_t now_ms)
{
	for (uint32_t i = 0; i < set->n;) {
		int outcome = expired_outcome(set, &set->items[i], view, now_ms);
		if (outcome >= 0)
			end(set, i, (enum pending_outcome)outcome, now_ms);
		else
			i++;
	}
}

void pending_drop_shadow(struct pending_set *set, uint64_t now_ms)
{
	for (uint32_t i = 0; i < set->n;) {
		if (set->items[i].shadow)
			end(set, i, PENDING_DROPPED, now_ms);
		else
			i++;
	}
}

const char *pending_outcome_name(enum pending_outcome outcome)
{
	static const char *const names[] = {"carried out", "settled",  "rejected", "timed out",
					    "host gone",   "replaced", "dropped"};
	return (unsigned)outcome < sizeof(names) / sizeof(names[0]) ? names[outcome] : "?";
}
