/* SPDX-License-Identifier: BSD-3-Clause */
/* pending.c - spawns and stops not yet seen carried out (see pending.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pending.h"

/* Which end queue an entry waits in. */
enum { QUEUE_WAITING = 0, QUEUE_SETTLING, QUEUE_READY };

#define IDS_MIN	  64
#define HOSTS_MIN 64

/* The entries on one host; made on first use, kept (like the view's hosts). */
struct pending_host {
	char name[BUS_NAME_LEN];
	struct pending *head, *tail;
	uint32_t promised; /* cores promised to its spawns */
	bool gone_listed;  /* on set->gone */
	struct pending_host *gone_next;
};

int pending_init(struct pending_set *set, const struct policy_params *params,
		 const struct pending_hooks *hooks)
{
	*set = (struct pending_set){
	    .settle_ms = params->settle_ms,
	    .timeout_ms = params->pending_ms,
	    .ids_cap = IDS_MIN,
	    .hosts_cap = HOSTS_MIN,
	};
	if (hooks)
		set->hooks = *hooks;
	set->ids = calloc(set->ids_cap, sizeof(*set->ids));
	set->hosts = calloc(set->hosts_cap, sizeof(*set->hosts));
	set->svcs = calloc(VIEW_SERVICES, sizeof(*set->svcs));
	if (!set->ids || !set->hosts || !set->svcs) {
		pending_free(set);
		return -1;
	}
	return 0;
}

void pending_free(struct pending_set *set)
{
	for (struct pending *p = set->first, *next; p; p = next) {
		next = p->next;
		free(p->known);
		free(p);
	}
	if (set->hosts)
		for (uint32_t i = 0; i < set->hosts_cap; i++)
			free(set->hosts[i]);
	free(set->hosts);
	free(set->ids);
	free(set->svcs);
	*set = (struct pending_set){.hooks = set->hooks};
}

/* ---- the host index ---- */

static struct pending_host *host_find(const struct pending_set *set, const char *name)
{
	if (!set->hosts)
		return NULL;
	uint32_t mask = set->hosts_cap - 1;
	for (uint32_t slot = view_name_hash(name) & mask;; slot = (slot + 1) & mask) {
		struct pending_host *host = set->hosts[slot];
		if (!host || strcmp(host->name, name) == 0)
			return host;
	}
}

static void host_put(struct pending_host **table, uint32_t cap, struct pending_host *host)
{
	uint32_t mask = cap - 1;
	uint32_t slot = view_name_hash(host->name) & mask;
	while (table[slot])
		slot = (slot + 1) & mask;
	table[slot] = host;
}

static struct pending_host *host_get(struct pending_set *set, const char *name)
{
	struct pending_host *host = host_find(set, name);
	if (host)
		return host;
	if ((set->n_hosts + 1) * 2 > set->hosts_cap) {
		uint32_t cap = set->hosts_cap * 2;
		struct pending_host **table = calloc(cap, sizeof(*table));
		if (!table)
			return NULL;
		for (uint32_t i = 0; i < set->hosts_cap; i++)
			if (set->hosts[i])
				host_put(table, cap, set->hosts[i]);
		free(set->hosts);
		set->hosts = table;
		set->hosts_cap = cap;
	}
	host = calloc(1, sizeof(*host));
	if (!host)
		return NULL;
	snprintf(host->name, sizeof(host->name), "%s", name);
	host_put(set->hosts, set->hosts_cap, host);
	set->n_hosts++;
	return host;
}

/* ---- the id index ---- */

static int ids_grow(struct pending_set *set)
{
	if (set->n < set->ids_cap)
		return 0;
	uint32_t cap = set->ids_cap * 2;
	struct pending **ids = calloc(cap, sizeof(*ids));
	if (!ids)
		return -1;
	/* Re-chained in creation order, so each chain stays in creation order. */
	struct pending **tails = calloc(cap, sizeof(*tails));
	if (!tails) {
		free(ids);
		return -1;
	}
	for (struct pending *p = set->first; p; p = p->next) {
		if (!p->cmd_id[0])
			continue;
		uint32_t slot = view_name_hash(p->cmd_id) & (cap - 1);
		p->id_next = NULL;
		if (tails[slot])
			tails[slot]->id_next = p;
		else
			ids[slot] = p;
		tails[slot] = p;
	}
	free(tails);
	free(set->ids);
	set->ids = ids;
	set->ids_cap = cap;
	return 0;
}

static void ids_add(struct pending_set *set, struct pending *pending)
{
	if (!pending->cmd_id[0])
		return;
	struct pending **link = &set->ids[view_name_hash(pending->cmd_id) & (set->ids_cap - 1)];
	while (*link)
		link = &(*link)->id_next;
	*link = pending;
}

static void ids_remove(struct pending_set *set, struct pending *pending)
{
	if (!pending->cmd_id[0])
		return;
	struct pending **link = &set->ids[view_name_hash(pending->cmd_id) & (set->ids_cap - 1)];
	while (*link && *link != pending)
		link = &(*link)->id_next;
	if (*link)
		*link = pending->id_next;
}

/* ---- end queues ---- */

static struct pending_queue *queue_of(struct pending_set *set, int queue)
{
	return queue == QUEUE_WAITING	 ? &set->waiting
	       : queue == QUEUE_SETTLING ? &set->settling
					 : &set->ready;
}

static void queue_push(struct pending_set *set, struct pending *pending, int queue)
{
	struct pending_queue *q = queue_of(set, queue);
	pending->queue = queue;
	pending->queue_next = NULL;
	pending->queue_prev = q->tail;
	if (q->tail)
		q->tail->queue_next = pending;
	else
		q->head = pending;
	q->tail = pending;
}

static void queue_remove(struct pending_set *set, struct pending *pending)
{
	struct pending_queue *q = queue_of(set, pending->queue);
	if (pending->queue_prev)
		pending->queue_prev->queue_next = pending->queue_next;
	else
		q->head = pending->queue_next;
	if (pending->queue_next)
		pending->queue_next->queue_prev = pending->queue_prev;
	else
		q->tail = pending->queue_prev;
}

/* ---- entries ---- */

static struct pending *add_entry(struct pending_set *set, enum pending_op op, const char *host,
				 const char *cmd_id, bool shadow, uint16_t service, uint64_t now_ms)
{
	if (!set->svcs || !set->ids || !set->hosts || ids_grow(set) < 0)
		return NULL;
	struct pending_host *at = host_get(set, host);
	struct pending *pending = calloc(1, sizeof(*pending));
	if (!at || !pending) {
		free(pending);
		return NULL;
	}
	pending->op = op;
	snprintf(pending->cmd_id, sizeof(pending->cmd_id), "%s", cmd_id ? cmd_id : "");
	pending->shadow = shadow;
	pending->service = service;
	snprintf(pending->host, sizeof(pending->host), "%s", at->name);
	pending->created_ms = now_ms;
	pending->at = at;
	return pending;
}

/* Put a filled-in entry into every index. */
static void link_entry(struct pending_set *set, struct pending *pending)
{
	pending->prev = set->last;
	if (set->last)
		set->last->next = pending;
	else
		set->first = pending;
	set->last = pending;
	set->n++;

	struct pending_host *at = pending->at;
	pending->host_prev = at->tail;
	if (at->tail)
		at->tail->host_next = pending;
	else
		at->head = pending;
	at->tail = pending;

	struct pending_svc *svc = &set->svcs[pending->service];
	if (pending->op == PENDING_SPAWN) {
		at->promised += pending->count;
		svc->spawns_blocking++;
		svc->spawns_unseen++;
	} else {
		svc->stops++;
	}
	if (pending->shadow) {
		pending->shadow_prev = svc->shadow_tail[pending->op];
		if (pending->shadow_prev)
			pending->shadow_prev->shadow_next = pending;
		else
			svc->shadow[pending->op] = pending;
		svc->shadow_tail[pending->op] = pending;
	}
	ids_add(set, pending);
	queue_push(set, pending, QUEUE_WAITING);
}

static void unlink_entry(struct pending_set *set, struct pending *pending)
{
	if (pending->prev)
		pending->prev->next = pending->next;
	else
		set->first = pending->next;
	if (pending->next)
		pending->next->prev = pending->prev;
	else
		set->last = pending->prev;
	set->n--;

	struct pending_host *at = pending->at;
	if (pending->host_prev)
		pending->host_prev->host_next = pending->host_next;
	else
		at->head = pending->host_next;
	if (pending->host_next)
		pending->host_next->host_prev = pending->host_prev;
	else
		at->tail = pending->host_prev;

	struct pending_svc *svc = &set->svcs[pending->service];
	if (pending->op == PENDING_SPAWN) {
		at->promised -= pending->count;
		if (!pending->carried_out)
			svc->spawns_blocking--;
		if (pending->queue == QUEUE_WAITING)
			svc->spawns_unseen--;
	} else {
		svc->stops--;
	}
	if (pending->shadow) {
		if (pending->shadow_prev)
			pending->shadow_prev->shadow_next = pending->shadow_next;
		else
			svc->shadow[pending->op] = pending->shadow_next;
		if (pending->shadow_next)
			pending->shadow_next->shadow_prev = pending->shadow_prev;
		else
			svc->shadow_tail[pending->op] = pending->shadow_prev;
	}
	ids_remove(set, pending);
	queue_remove(set, pending);
}

/* Tell the hooks, then forget the entry. */
static void end(struct pending_set *set, struct pending *pending, enum pending_outcome outcome,
		uint64_t now_ms)
{
	if (set->hooks.ended)
		set->hooks.ended(set->hooks.ctx, pending, outcome, now_ms);
	unlink_entry(set, pending);
	free(pending->known);
	free(pending);
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

/* A host seen offline with entries on it: they end at the next expiry. */
static void note_gone(struct pending_set *set, struct pending_host *at,
		      const struct view_host *host)
{
	if (at->gone_listed || !host || !host->has_state || host->status != BUS_STATUS_OFFLINE)
		return;
	at->gone_listed = true;
	at->gone_next = set->gone;
	set->gone = at;
}

static struct pending *add_spawn(struct pending_set *set, const struct view_host *host,
				 const char *cmd_id, bool shadow, uint16_t service,
				 const char *origin, uint32_t count, uint64_t now_ms)
{
	struct pending *pending =
	    add_entry(set, PENDING_SPAWN, host->name, cmd_id, shadow, service, now_ms);
	if (!pending)
		return NULL;
	snprintf(pending->origin, sizeof(pending->origin), "%s", origin ? origin : "");
	pending->count = count;
	if (remember_known(pending, host) < 0) {
		free(pending);
		return NULL;
	}
	link_entry(set, pending);
	note_gone(set, pending->at, host);
	return pending;
}

static struct pending *add_stop(struct pending_set *set, const char *host, const char *cmd_id,
				bool shadow, uint16_t service, uint32_t instance, uint64_t now_ms)
{
	struct pending *pending =
	    add_entry(set, PENDING_STOP, host, cmd_id, shadow, service, now_ms);
	if (!pending)
		return NULL;
	pending->instance = instance;
	link_entry(set, pending);
	return pending;
}

int pending_add_spawn(struct pending_set *set, const struct view_host *host, const char *cmd_id,
		      bool shadow, uint16_t service, const char *origin, uint32_t count,
		      uint64_t now_ms)
{
	return add_spawn(set, host, cmd_id, shadow, service, origin, count, now_ms) ? 0 : -1;
}

int pending_add_stop(struct pending_set *set, const char *host, const char *cmd_id, bool shadow,
		     uint16_t service, uint32_t instance, uint64_t now_ms)
{
	return add_stop(set, host, cmd_id, shadow, service, instance, now_ms) ? 0 : -1;
}

/* ---- questions ---- */

struct pending *pending_find_id(struct pending_set *set, const char *cmd_id)
{
	if (!cmd_id || !*cmd_id || !set->ids)
		return NULL;
	for (struct pending *p = set->ids[view_name_hash(cmd_id) & (set->ids_cap - 1)]; p;
	     p = p->id_next)
		if (strcmp(p->cmd_id, cmd_id) == 0)
			return p;
	return NULL;
}

bool pending_spawn_blocks(const struct pending_set *set, uint16_t service)
{
	return set->svcs && set->svcs[service].spawns_blocking > 0;
}

uint32_t pending_spawns_unseen(const struct pending_set *set, uint16_t service)
{
	return set->svcs ? set->svcs[service].spawns_unseen : 0;
}

bool pending_stop_blocks(const struct pending_set *set, uint16_t service)
{
	return set->svcs && set->svcs[service].stops > 0;
}

bool pending_stopping(const struct pending_set *set, const char *host, uint32_t instance)
{
	const struct pending_host *at = host_find(set, host);
	for (const struct pending *p = at ? at->head : NULL; p; p = p->host_next)
		if (p->op == PENDING_STOP && p->instance == instance)
			return true;
	return false;
}

uint32_t pending_promised(const struct pending_set *set, const char *host)
{
	const struct pending_host *at = host_find(set, host);
	return at ? at->promised : 0;
}

/* ---- other engines' commands ---- */

int pending_take_command(struct pending_set *set, const struct view *view,
			 const struct bus_cmd *cmd, uint64_t now_ms)
{
	if (pending_find_id(set, cmd->id))
		return 0; /* ours, or seen already */
	enum pending_op op = cmd->op == BUS_OP_SPAWN ? PENDING_SPAWN : PENDING_STOP;
	struct pending *shadow = set->svcs ? set->svcs[cmd->service].shadow[op] : NULL;
	if (shadow)
		end(set, shadow, PENDING_REPLACED, now_ms);
	const struct view_host *host = view_host_find(view, cmd->target);
	struct pending *added;
	if (op == PENDING_SPAWN) {
		struct view_host empty = {0};
		if (!host) {
			snprintf(empty.name, sizeof(empty.name), "%s", cmd->target);
			host = &empty;
		}
		added = add_spawn(set, host, cmd->id, false, cmd->service,
				  cmd->has_origin ? cmd->origin : "", cmd->count, now_ms);
		host = host == &empty ? NULL : host;
	} else {
		added =
		    add_stop(set, cmd->target, cmd->id, false, cmd->service, cmd->instance, now_ms);
	}
	if (!added)
		return -1;
	added->foreign = true;
	note_gone(set, added->at, host);
	return 0;
}

/* ---- what the hosts say ---- */

static bool known_before(const struct pending *pending, uint32_t instance)
{
	for (uint32_t i = 0; i < pending->n_known; i++)
		if (pending->known[i] == instance)
			return true;
	return false;
}

/* Another spawn on the same host owns the instance: its "spawned" event
 * named it, or the map showed it to that spawn first. */
static bool claimed_by_other(const struct pending *pending, uint32_t instance)
{
	for (const struct pending *p = pending->at->head; p; p = p->host_next)
		if (p != pending && p->op == PENDING_SPAWN && p->service == pending->service &&
		    p->instance == instance)
			return true;
	return false;
}

/* A new running instance of the pending spawn's service on its host, or 0.
 * One still starting takes no traffic yet: until it runs, the overload it
 * was spawned for goes on and must not count as a new one. An instance an
 * earlier spawn owns is not this one's, or two spawns in a row would both
 * count the first one's instance, and the second would be made again. */
static uint32_t new_instance(const struct pending *pending, const struct view_host *host)
{
	for (uint32_t i = 0; i < host->n_insts; i++) {
		const struct bus_service_inst *inst = &host->insts[i];
		if (inst->service == pending->service && inst->state == BUS_INST_RUNNING &&
		    !known_before(pending, inst->instance) &&
		    !claimed_by_other(pending, inst->instance))
			return inst->instance;
	}
	return 0;
}

/* The spawn's instance is in the host's map: its promise may settle now. */
static void seen_in_map(struct pending_set *set, struct pending *pending, uint64_t now_ms)
{
	pending->carried_out_ms = now_ms;
	set->svcs[pending->service].spawns_unseen--;
	queue_remove(set, pending);
	queue_push(set, pending, pending->state_after ? QUEUE_READY : QUEUE_SETTLING);
}

/* The spawn happened: it no longer blocks its service. Until its instance
 * is seen in the host's map (a "spawned" event alone is only the host's
 * word), it keeps waiting for the pending bound like one not answered. */
static void carried_out(struct pending_set *set, struct pending *pending, uint32_t instance,
			uint64_t now_ms)
{
	pending->carried_out = true;
	pending->carried_out_ms = now_ms;
	pending->instance = instance;
	set->svcs[pending->service].spawns_blocking--;
	if (set->hooks.ended)
		set->hooks.ended(set->hooks.ctx, pending, PENDING_CARRIED_OUT, now_ms);
}

void pending_on_services(struct pending_set *set, const struct view_host *host, uint64_t now_ms)
{
	struct pending_host *at = host_find(set, host->name);
	for (struct pending *p = at ? at->head : NULL, *next; p; p = next) {
		next = p->host_next;
		if (p->op == PENDING_SPAWN && p->queue == QUEUE_WAITING) {
			/* An instance its "spawned" event named is the one to see
			 * (in any state); otherwise a new running one. */
			uint32_t instance = p->instance ? p->instance : new_instance(p, host);
			if (p->instance && !view_host_has_instance(host, p->service, p->instance))
				instance = 0;
			if (!instance)
				continue;
			if (!p->carried_out)
				carried_out(set, p, instance, now_ms);
			seen_in_map(set, p, now_ms);
		} else if (p->op == PENDING_STOP &&
			   !view_host_has_instance(host, p->service, p->instance)) {
			end(set, p, PENDING_CARRIED_OUT, now_ms);
		}
	}
}

void pending_on_state(struct pending_set *set, const struct view_host *host, uint64_t now_ms)
{
	(void)now_ms;
	struct pending_host *at = host_find(set, host->name);
	if (!at || !at->head)
		return;
	for (struct pending *p = at->head; p; p = p->host_next) {
		p->state_after = true;
		if (p->queue == QUEUE_SETTLING) {
			queue_remove(set, p);
			queue_push(set, p, QUEUE_READY);
		}
	}
	note_gone(set, at, host);
}

void pending_on_event(struct pending_set *set, const struct bus_event *event, uint64_t now_ms)
{
	if (!set->ids)
		return;
	if (event->has_cmd_id && event->cmd_id[0] &&
	    (event->event == BUS_EV_REJECTED || event->event == BUS_EV_SPAWNED)) {
		for (struct pending *p =
			 set->ids[view_name_hash(event->cmd_id) & (set->ids_cap - 1)];
		     p; p = p->id_next) {
			if (strcmp(p->cmd_id, event->cmd_id) != 0 ||
			    strcmp(p->host, event->host) != 0)
				continue;
			if (event->event == BUS_EV_REJECTED) {
				end(set, p, PENDING_REJECTED, now_ms);
				return;
			}
			if (p->op == PENDING_SPAWN && !p->carried_out) {
				carried_out(set, p, event->has_instance ? event->instance : 0,
					    now_ms);
				return;
			}
		}
		return;
	}
	bool gone = event->event == BUS_EV_STOPPED || event->event == BUS_EV_EXITED;
	if (!gone || !event->has_instance)
		return;
	struct pending_host *at = host_find(set, event->host);
	for (struct pending *p = at ? at->head : NULL; p; p = p->host_next)
		if (p->op == PENDING_STOP && p->instance == event->instance) {
			end(set, p, PENDING_CARRIED_OUT, now_ms);
			return;
		}
}

/* ---- ends in time ---- */

static void end_gone_hosts(struct pending_set *set, const struct view *view, uint64_t now_ms)
{
	while (set->gone) {
		struct pending_host *at = set->gone;
		set->gone = at->gone_next;
		at->gone_listed = false;
		const struct view_host *host = view_host_find(view, at->name);
		if (!host || !host->has_state || host->status != BUS_STATUS_OFFLINE)
			continue; /* back online meanwhile */
		while (at->head)
			end(set, at->head, PENDING_HOST_GONE, now_ms);
	}
}

void pending_expire(struct pending_set *set, const struct view *view, uint64_t now_ms)
{
	end_gone_hosts(set, view, now_ms);
	while (set->waiting.head && now_ms - set->waiting.head->created_ms >= set->timeout_ms)
		end(set, set->waiting.head, PENDING_TIMED_OUT, now_ms);
	while (set->ready.head)
		end(set, set->ready.head, PENDING_SETTLED, now_ms);
	while (set->settling.head && now_ms - set->settling.head->carried_out_ms >= set->settle_ms)
		end(set, set->settling.head, PENDING_SETTLED, now_ms);
}

void pending_drop_shadow(struct pending_set *set, uint64_t now_ms)
{
	for (struct pending *p = set->first, *next; p; p = next) {
		next = p->next;
		if (p->shadow)
			end(set, p, PENDING_DROPPED, now_ms);
	}
}

const char *pending_outcome_name(enum pending_outcome outcome)
{
	static const char *const names[] = {"carried out", "settled",  "rejected", "timed out",
					    "host gone",   "replaced", "dropped"};
	return (unsigned)outcome < sizeof(names) / sizeof(names[0]) ? names[outcome] : "?";
}
