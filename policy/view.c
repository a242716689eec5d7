/* SPDX-License-Identifier: BSD-3-Clause */
/* view.c - the cluster view (see view.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "view.h"

#define TABLE_MIN 64

/* ---- growing arrays ---- */

static int grow(void **array, uint32_t *cap, uint32_t need, size_t item_size)
{
	if (need <= *cap)
		return 0;
	uint32_t new_cap = *cap ? *cap : 8;
	while (new_cap < need)
		new_cap *= 2;
	void *bigger = realloc(*array, (size_t)new_cap * item_size);
	if (!bigger)
		return -1;
	*array = bigger;
	*cap = new_cap;
	return 0;
}

/* ---- the view and its host table ---- */

struct view *view_create(const struct policy_params *params)
{
	struct view *view = calloc(1, sizeof(*view));
	if (!view)
		return NULL;
	view->params = *params;
	view->table_cap = TABLE_MIN;
	view->table = calloc(view->table_cap, sizeof(*view->table));
	view->services = calloc(VIEW_SERVICES, sizeof(*view->services));
	if (!view->table || !view->services) {
		view_destroy(view);
		return NULL;
	}
	return view;
}

static void host_free(struct view_host *host)
{
	free(host->load);
	free(host->insts);
	free(host->svcs);
	free(host->avoid);
	free(host);
}

void view_destroy(struct view *view)
{
	if (!view)
		return;
	for (uint32_t i = 0; i < view->n_hosts; i++)
		host_free(view->sorted[i]);
	if (view->services)
		for (uint32_t i = 0; i < VIEW_SERVICES; i++)
			free(view->services[i]);
	free(view->services);
	free(view->sorted);
	free(view->table);
	free(view);
}

uint32_t view_name_hash(const char *name)
{
	uint32_t hash = 2166136261u; /* FNV-1a */
	for (const unsigned char *p = (const unsigned char *)name; *p; p++)
		hash = (hash ^ *p) * 16777619u;
	return hash;
}

struct view_host *view_host_find(const struct view *view, const char *name)
{
	uint32_t mask = view->table_cap - 1;
	for (uint32_t slot = view_name_hash(name) & mask;; slot = (slot + 1) & mask) {
		struct view_host *host = view->table[slot];
		if (!host || strcmp(host->name, name) == 0)
			return host;
	}
}

static void table_put(struct view_host **table, uint32_t cap, struct view_host *host)
{
	uint32_t mask = cap - 1;
	uint32_t slot = view_name_hash(host->name) & mask;
	while (table[slot])
		slot = (slot + 1) & mask;
	table[slot] = host;
}

static int table_grow(struct view *view)
{
	uint32_t cap = view->table_cap * 2;
	struct view_host **table = calloc(cap, sizeof(*table));
	if (!table)
		return -1;
	for (uint32_t i = 0; i < view->n_hosts; i++)
		table_put(table, cap, view->sorted[i]);
	free(view->table);
	view->table = table;
	view->table_cap = cap;
	return 0;
}

/* Index where name belongs in the sorted array. */
static uint32_t sorted_position(const struct view *view, const char *name)
{
	uint32_t low = 0, high = view->n_hosts;
	while (low < high) {
		uint32_t mid = low + (high - low) / 2;
		if (strcmp(view->sorted[mid]->name, name) < 0)
			low = mid + 1;
		else
			high = mid;
	}
	return low;
}

struct view_host *view_host_get(struct view *view, const char *name)
{
	struct view_host *host = view_host_find(view, name);
	if (host)
		return host;
	if ((view->n_hosts + 1) * 2 > view->table_cap && table_grow(view) < 0)
		return NULL;
	if (grow((void **)&view->sorted, &view->sorted_cap, view->n_hosts + 1,
		 sizeof(*view->sorted)) < 0)
		return NULL;
	host = calloc(1, sizeof(*host));
	if (!host)
		return NULL;
	snprintf(host->name, sizeof(host->name), "%s", name);
	uint32_t at = sorted_position(view, name);
	memmove(&view->sorted[at + 1], &view->sorted[at],
		(view->n_hosts - at) * sizeof(*view->sorted));
	view->sorted[at] = host;
	view->n_hosts++;
	table_put(view->table, view->table_cap, host);
	return host;
}

struct view_service *view_service_find(const struct view *view, uint16_t service)
{
	return view->services[service];
}

struct view_service *view_service_get(struct view *view, uint16_t service)
{
	if (!view->services[service]) {
		view->services[service] = calloc(1, sizeof(struct view_service));
		if (view->services[service])
			view->services[service]->service = service;
	}
	return view->services[service];
}

/* ---- liveness ---- */

static void heard(struct view_host *host, bool retained, uint64_t now_ms)
{
	if (retained)
		return;
	host->seen = true;
	host->last_seen_ms = now_ms;
}

void view_host_heard(struct view *view, const char *name, bool retained, uint64_t now_ms)
{
	struct view_host *host = view_host_find(view, name);
	if (host)
		heard(host, retained, now_ms);
}

static uint64_t stale_bound(const struct view *view, const struct view_host *host)
{
	uint64_t periods = (uint64_t)host->period_ms * 3;
	return periods > view->params.stale_ms ? periods : view->params.stale_ms;
}

static bool host_fresh(const struct view *view, const struct view_host *host, uint64_t now_ms)
{
	return host->seen && (now_ms < host->last_seen_ms ||
			      now_ms - host->last_seen_ms <= stale_bound(view, host));
}

bool view_host_usable(const struct view *view, const struct view_host *host, uint64_t now_ms)
{
	return host->has_state && host->status == BUS_STATUS_ONLINE &&
	       host_fresh(view, host, now_ms);
}

bool view_host_stale(const struct view *view, const struct view_host *host, uint64_t now_ms)
{
	return host->has_state && host->status == BUS_STATUS_ONLINE &&
	       !host_fresh(view, host, now_ms);
}

/* ---- per (host, service) ---- */

struct view_host_svc *view_host_svc_find(const struct view_host *host, uint16_t service)
{
	uint32_t low = 0, high = host->n_svcs;
	while (low < high) {
		uint32_t mid = low + (high - low) / 2;
		if (host->svcs[mid].service < service)
			low = mid + 1;
		else if (host->svcs[mid].service > service)
			high = mid;
		else
			return &host->svcs[mid];
	}
	return NULL;
}

static struct view_host_svc *host_svc_get(struct view_host *host, uint16_t service)
{
	struct view_host_svc *found = view_host_svc_find(host, service);
	if (found)
		return found;
	if (grow((void **)&host->svcs, &host->svcs_cap, host->n_svcs + 1, sizeof(*host->svcs)) < 0)
		return NULL;
	uint32_t at = 0;
	while (at < host->n_svcs && host->svcs[at].service < service)
		at++;
	memmove(&host->svcs[at + 1], &host->svcs[at], (host->n_svcs - at) * sizeof(*host->svcs));
	host->svcs[at] = (struct view_host_svc){.service = service};
	host->n_svcs++;
	return &host->svcs[at];
}

static void forget_streaks(struct view_host *host)
{
	for (uint32_t i = 0; i < host->n_svcs; i++) {
		host->svcs[i].streak = false;
		host->svcs[i].calm = false;
	}
}

uint32_t view_streak_len(const struct view_host *host, const struct view_host_svc *svc)
{
	if (!svc->streak || !svc->reported || host->last_seq < svc->streak_seq ||
	    host->last_stats_ms < svc->streak_ms)
		return 0;
	uint64_t len = host->last_seq - svc->streak_seq + 1;
	uint64_t period = svc->streak_period_ms ? svc->streak_period_ms : 1;
	uint64_t elapsed = host->last_stats_ms - svc->streak_ms;
	/* Rounded: reports arrive a little early or late, and a period of
	 * jitter must not cost a period of reaction. */
	uint64_t by_time = (elapsed + period / 2) / period + 1;
	if (len > by_time)
		len = by_time;
	return len > UINT32_MAX ? UINT32_MAX : (uint32_t)len;
}

void view_reset_streaks(struct view *view, uint16_t service)
{
	for (uint32_t i = 0; i < view->n_hosts; i++) {
		struct view_host_svc *svc = view_host_svc_find(view->sorted[i], service);
		if (svc)
			svc->streak = false;
	}
}

/* ---- state ---- */

int view_apply_state(struct view *view, const struct bus_state *state, bool retained,
		     uint64_t now_ms)
{
	struct view_host *host = view_host_get(view, state->host);
	if (!host)
		return -1;
	if (state->has_epoch && host->has_state && host->epoch_ms != state->epoch_ms) {
		/* The manager restarted: its seq starts again and old streaks mean nothing. */
		host->has_seq = false;
		forget_streaks(host);
	}
	host->has_state = true;
	host->status = state->status;
	if (state->has_epoch)
		host->epoch_ms = state->epoch_ms;
	if (state->has_cores) {
		host->cores_total = state->cores.total;
		host->cores_free = state->cores.free;
	}
	if (state->status == BUS_STATUS_OFFLINE) {
		host->has_seq = false;
		forget_streaks(host);
	}
	heard(host, retained, now_ms);
	return 0;
}

/* ---- services ---- */

static bool inst_counts(const struct bus_service_inst *inst)
{
	return inst->state == BUS_INST_STARTING || inst->state == BUS_INST_RUNNING;
}

/* First index of the service in the host's sorted map. */
static uint32_t first_inst(const struct view_host *host, uint16_t service)
{
	uint32_t low = 0, high = host->n_insts;
	while (low < high) {
		uint32_t mid = low + (high - low) / 2;
		if (host->insts[mid].service < service)
			low = mid + 1;
		else
			high = mid;
	}
	return low;
}

uint32_t view_host_instances(const struct view_host *host, uint16_t service)
{
	uint32_t count = 0;
	for (uint32_t i = first_inst(host, service);
	     i < host->n_insts && host->insts[i].service == service; i++)
		count += inst_counts(&host->insts[i]);
	return count;
}

bool view_host_has_instance(const struct view_host *host, uint16_t service, uint32_t instance)
{
	for (uint32_t i = first_inst(host, service);
	     i < host->n_insts && host->insts[i].service == service; i++)
		if (host->insts[i].instance == instance)
			return true;
	return false;
}

bool view_host_runs_instance(const struct view_host *host, uint16_t service, uint32_t instance)
{
	for (uint32_t i = first_inst(host, service);
	     i < host->n_insts && host->insts[i].service == service; i++)
		if (host->insts[i].instance == instance)
			return inst_counts(&host->insts[i]);
	return false;
}

/* Note, per service, that its instance set on this host changed. */
static void mark_changes(struct view *view, const struct view_host *host,
			 const struct bus_services *next, uint64_t now_ms)
{
	uint32_t i = 0, j = 0;
	while (i < host->n_insts || j < next->n_insts) {
		const struct bus_service_inst *old = i < host->n_insts ? &host->insts[i] : NULL;
		const struct bus_service_inst *new = j < next->n_insts ? &next->insts[j] : NULL;
		int order;
		if (!old)
			order = 1;
		else if (!new)
			order = -1;
		else if (old->service != new->service)
			order = old->service < new->service ? -1 : 1;
		else
			order = old->instance < new->instance ? -1 : old->instance > new->instance;
		uint16_t changed = 0;
		const struct bus_service_inst *lost = NULL;
		if (order < 0) {
			changed = old->service;
			lost = inst_counts(old) ? old : NULL;
			i++;
		} else if (order > 0) {
			changed = new->service;
			j++;
		} else {
			if (inst_counts(old) != inst_counts(new)) {
				changed = old->service;
				lost = inst_counts(old) ? old : NULL;
			}
			i++;
			j++;
		}
		struct view_service *svc = changed ? view_service_get(view, changed) : NULL;
		if (svc)
			svc->changed_ms = now_ms;
		if (svc && lost)
			snprintf(svc->lost, sizeof(svc->lost), "instance %u left %s's map",
				 lost->instance, host->name);
	}
}

int view_apply_services(struct view *view, const struct bus_services *services, bool retained,
			uint64_t now_ms)
{
	struct view_host *host = view_host_get(view, services->host);
	if (!host)
		return -1;
	uint32_t count = services->cleared ? 0 : services->n_insts;
	if (grow((void **)&host->insts, &host->insts_cap, count, sizeof(*host->insts)) < 0)
		return -1;
	struct bus_services next = *services;
	next.n_insts = count;
	mark_changes(view, host, &next, now_ms);
	if (count)
		memcpy(host->insts, services->insts, count * sizeof(*host->insts));
	host->n_insts = count;
	heard(host, retained, now_ms);
	return 0;
}

int view_instance_exited(struct view *view, const char *name, uint16_t service, uint32_t instance,
			 uint64_t now_ms)
{
	struct view_host *host = view_host_find(view, name);
	if (!host)
		return 0;
	for (uint32_t i = first_inst(host, service);
	     i < host->n_insts && host->insts[i].service == service; i++) {
		if (host->insts[i].instance != instance)
			continue;
		memmove(&host->insts[i], &host->insts[i + 1],
			(host->n_insts - i - 1) * sizeof(*host->insts));
		host->n_insts--;
		struct view_service *svc = view_service_get(view, service);
		if (svc) {
			svc->changed_ms = now_ms;
			snprintf(svc->lost, sizeof(svc->lost), "instance %u exited on %s", instance,
				 host->name);
		}
		return 1;
	}
	return 0;
}

/* ---- stats ---- */

const struct bus_inst_stats *view_host_load(const struct view_host *host, uint32_t instance)
{
	for (uint32_t i = 0; i < host->n_load; i++)
		if (host->load[i].instance == instance)
			return &host->load[i];
	return NULL;
}

static bool inst_overloaded(const struct policy_params *params, const struct bus_inst_stats *inst)
{
	return inst->drop_pps > params->drop_pps || inst->ring_fill >= params->ring_fill;
}

/* Learn, for this host, what one instance of the service handles when it saturates. */
static void learn_capacity(struct view_host_svc *svc, const struct bus_inst_stats *inst,
			   double drop_pps)
{
	if (!(inst->drop_pps > drop_pps) || !(inst->rx_pps > 0))
		return;
	double sample = inst->rx_pps < VIEW_CAPACITY_MAX_PPS ? inst->rx_pps : VIEW_CAPACITY_MAX_PPS;
	if (!svc->has_capacity) {
		svc->capacity_pps = sample;
		svc->has_capacity = true;
		return;
	}
	/* One report moves it by at most 30 %: a single wild number is noise. */
	if (sample > 2 * svc->capacity_pps)
		sample = 2 * svc->capacity_pps;
	svc->capacity_pps = 0.7 * svc->capacity_pps + 0.3 * sample;
}

double view_capacity(const struct view *view, uint16_t service)
{
	double capacity = 0;
	for (uint32_t i = 0; i < view->n_hosts; i++) {
		const struct view_host_svc *svc = view_host_svc_find(view->sorted[i], service);
		if (svc && svc->has_capacity && (capacity == 0 || svc->capacity_pps < capacity))
			capacity = svc->capacity_pps;
	}
	return capacity;
}

/*
 * A ring emptying since the last report is catching up, not overloaded:
 * right after a scale-out the old instances' rings are still full and take
 * a while to drain, and counting them would spawn again for nothing.
 */
#define DRAINING_MARGIN 0.005 /* of the ring (20 of 4096 slots): noise is not draining */

static bool ring_draining(const struct view_host *host, const struct bus_inst_stats *inst)
{
	const struct bus_inst_stats *before = view_host_load(host, inst->instance);
	return before && inst->ring_fill < before->ring_fill - DRAINING_MARGIN;
}

/* Sum one instance's report into its service's aggregate. */
static void add_report(struct view_host_svc *svc, const struct bus_inst_stats *inst, bool draining)
{
	svc->n_insts++;
	svc->rx_pps += inst->rx_pps;
	svc->drop_pps += inst->drop_pps;
	if (inst->drop_pps > svc->max_drop_pps)
		svc->max_drop_pps = inst->drop_pps;
	if (inst->ring_fill > svc->max_ring_fill)
		svc->max_ring_fill = inst->ring_fill;
	if (!draining && inst->ring_fill > svc->max_rising_fill)
		svc->max_rising_fill = inst->ring_fill;
}

/*
 * Unserved demand (docs/bus.md): packets for a service with no instance
 * anywhere, dropped here. It is that service's overload on this host with
 * zero instances, judged like drops; entries of one service are summed. A
 * service the same stats list instances of is judged by those instances.
 */
static int add_unserved(struct view_host *host, const struct bus_stats *stats)
{
	for (uint32_t i = 0; i < stats->n_unserved; i++) {
		const struct bus_unserved *entry = &stats->unserved[i];
		struct view_host_svc *svc = host_svc_get(host, entry->service);
		if (!svc)
			return -1;
		if (svc->n_insts)
			continue;
		svc->reported = true;
		svc->unserved = true;
		svc->drop_pps += entry->pps;
		svc->max_drop_pps = svc->drop_pps;
	}
	return 0;
}

/* After the aggregates are summed: extend or end streaks and calm windows. */
static void judge_reports(const struct view *view, struct view_host *host, uint64_t seq,
			  uint64_t now_ms)
{
	const struct policy_params *params = &view->params;
	for (uint32_t i = 0; i < host->n_svcs; i++) {
		struct view_host_svc *svc = &host->svcs[i];
		if (!svc->reported) {
			svc->streak = false;
			svc->calm = false;
			continue;
		}
		bool overloaded = svc->max_drop_pps > params->drop_pps ||
				  svc->max_rising_fill >= params->ring_fill;
		if (!overloaded)
			svc->streak = false;
		else if (!svc->streak) {
			svc->streak = true;
			svc->streak_seq = seq;
			svc->streak_ms = now_ms;
			svc->streak_period_ms = host->period_ms;
		} else if (host->period_ms > svc->streak_period_ms) {
			svc->streak_period_ms = host->period_ms;
		}
		bool calm = svc->max_drop_pps < 1 && svc->max_ring_fill <= params->scale_in_fill;
		if (!calm)
			svc->calm = false;
		else if (!svc->calm) {
			svc->calm = true;
			svc->calm_since_ms = now_ms;
		}
	}
}

/* Seq bookkeeping: 0 to go on, 1 for a duplicate. Resets streaks when the
 * stream restarted or the host was silent past the staleness bound. */
static int check_seq(struct view *view, struct view_host *host, const struct bus_stats *stats,
		     uint64_t now_ms)
{
	if (host->has_seq && stats->seq == host->last_seq) {
		view->duplicate_stats++;
		return 1;
	}
	if (host->has_seq && stats->seq > host->last_seq)
		host->missed_periods += stats->seq - host->last_seq - 1;
	if (!host->has_seq || stats->seq < host->last_seq || !host_fresh(view, host, now_ms))
		forget_streaks(host);
	host->has_seq = true;
	host->last_seq = stats->seq;
	host->last_stats_ms = now_ms;
	host->period_ms = stats->period_ms;
	return 0;
}

static int keep_load(struct view_host *host, const struct bus_stats *stats)
{
	if (grow((void **)&host->load, &host->load_cap, stats->n_insts, sizeof(*host->load)) < 0)
		return -1;
	if (stats->n_insts)
		memcpy(host->load, stats->insts, stats->n_insts * sizeof(*host->load));
	host->n_load = stats->n_insts;
	host->load_pps = 0;
	for (uint32_t i = 0; i < stats->n_insts; i++)
		host->load_pps += stats->insts[i].rx_pps;
	return 0;
}

int view_apply_stats(struct view *view, const struct bus_stats *stats, bool retained,
		     uint64_t now_ms)
{
	struct view_host *host = view_host_get(view, stats->host);
	if (!host)
		return -1;
	if (check_seq(view, host, stats, now_ms))
		return 0;
	for (uint32_t i = 0; i < host->n_svcs; i++) {
		struct view_host_svc *svc = &host->svcs[i];
		svc->reported = false;
		svc->unserved = false;
		svc->n_insts = 0;
		svc->rx_pps = svc->drop_pps = svc->max_drop_pps = 0;
		svc->max_ring_fill = svc->max_rising_fill = 0;
	}
	for (uint32_t i = 0; i < stats->n_insts; i++) {
		const struct bus_inst_stats *inst = &stats->insts[i];
		struct view_host_svc *svc = host_svc_get(host, inst->service);
		if (!svc)
			return -1;
		svc->reported = true;
		add_report(svc, inst, ring_draining(host, inst)); /* host->load: the last report */
		if (inst_overloaded(&view->params, inst))
			learn_capacity(svc, inst, view->params.drop_pps);
	}
	if (add_unserved(host, stats) < 0)
		return -1;
	if (keep_load(host, stats) < 0)
		return -1;
	judge_reports(view, host, stats->seq, now_ms);
	heard(host, retained, now_ms);
	return 1;
}

/* ---- rejection memory ---- */

/* Index of the service in the host's avoid list (sorted by service), or where it belongs. */
static uint32_t avoid_position(const struct view_host *host, uint16_t service)
{
	uint32_t low = 0, high = host->n_avoid;
	while (low < high) {
		uint32_t mid = low + (high - low) / 2;
		if (host->avoid[mid].service < service)
			low = mid + 1;
		else
			high = mid;
	}
	return low;
}

int view_avoid(struct view_host *host, uint16_t service, uint64_t until_ms)
{
	uint32_t at = avoid_position(host, service);
	if (at < host->n_avoid && host->avoid[at].service == service) {
		host->avoid[at].until_ms = until_ms;
		return 0;
	}
	if (grow((void **)&host->avoid, &host->avoid_cap, host->n_avoid + 1, sizeof(*host->avoid)) <
	    0)
		return -1;
	memmove(&host->avoid[at + 1], &host->avoid[at],
		(host->n_avoid - at) * sizeof(*host->avoid));
	host->avoid[at] = (struct view_avoid){service, until_ms};
	host->n_avoid++;
	return 0;
}

bool view_avoided(const struct view_host *host, uint16_t service, uint64_t now_ms)
{
	uint32_t at = avoid_position(host, service);
	return at < host->n_avoid && host->avoid[at].service == service &&
	       now_ms < host->avoid[at].until_ms;
}
