/* SPDX-License-Identifier: BSD-3-Clause */
/* scale_in.c - spare capacity and the instance to stop (see scale_in.h). */
#include <string.h>

#include "scale_in.h"

/* Instances of the service on the host that could be stopped. */
static uint32_t live_instances(const struct pending_set *pending, const struct view_host *host,
			       uint16_t service)
{
	uint32_t count = 0;
	for (uint32_t i = 0; i < host->n_insts; i++) {
		const struct bus_service_inst *inst = &host->insts[i];
		if (inst->service == service &&
		    (inst->state == BUS_INST_RUNNING || inst->state == BUS_INST_STARTING) &&
		    !pending_stopping(pending, host->name, inst->instance))
			count++;
	}
	return count;
}

/*
 * Sum the service over usable hosts. 0 when some host running it is not
 * calm (or did not report it), else 1 with the totals.
 */
static int survey(const struct view *view, const struct pending_set *pending, uint16_t service,
		  uint64_t now_ms, struct scale_in_choice *choice, uint64_t *since_ms)
{
	for (uint32_t i = 0; i < view->n_hosts; i++) {
		const struct view_host *host = view->sorted[i];
		if (!view_host_usable(view, host, now_ms))
			continue;
		uint32_t count = live_instances(pending, host, service);
		if (!count)
			continue;
		const struct view_host_svc *svc = view_host_svc_find(host, service);
		if (!svc || !svc->reported || !svc->calm)
			return 0;
		if (svc->calm_since_ms > *since_ms)
			*since_ms = svc->calm_since_ms;
		choice->offered_pps += svc->rx_pps + svc->drop_pps;
		choice->n_live += count;
	}
	return 1;
}

static const char *home_host(const struct view *view, const struct pending_set *pending,
			     const struct view_service *svc, uint16_t service, uint64_t now_ms)
{
	if (svc && svc->home[0]) {
		const struct view_host *home = view_host_find(view, svc->home);
		if (home && view_host_usable(view, home, now_ms) &&
		    live_instances(pending, home, service))
			return home->name;
	}
	const char *best = NULL;
	uint32_t best_count = 0;
	for (uint32_t i = 0; i < view->n_hosts; i++) {
		const struct view_host *host = view->sorted[i];
		if (!view_host_usable(view, host, now_ms))
			continue;
		uint32_t count = live_instances(pending, host, service);
		if (count > best_count) {
			best = host->name;
			best_count = count;
		}
	}
	return best;
}

struct victim {
	const struct view_host *host;
	uint32_t instance;
	int remote;
	double rx_pps;
};

/* Is a a better instance to stop than b? (Hosts come in name order.) */
static int better_victim(const struct victim *a, const struct victim *b)
{
	if (!b->host)
		return 1;
	if (a->remote != b->remote)
		return a->remote > b->remote;
	if (a->rx_pps != b->rx_pps)
		return a->rx_pps < b->rx_pps;
	if (a->host != b->host)
		return 0; /* b's host name is smaller */
	return a->instance > b->instance;
}

static struct victim pick_victim(const struct view *view, const struct pending_set *pending,
				 uint16_t service, const char *home, uint64_t now_ms)
{
	struct victim best = {0};
	for (uint32_t i = 0; i < view->n_hosts; i++) {
		const struct view_host *host = view->sorted[i];
		if (!view_host_usable(view, host, now_ms))
			continue;
		for (uint32_t j = 0; j < host->n_insts; j++) {
			const struct bus_service_inst *inst = &host->insts[j];
			if (inst->service != service || inst->state != BUS_INST_RUNNING ||
			    pending_stopping(pending, host->name, inst->instance))
				continue;
			const struct bus_inst_stats *load = view_host_load(host, inst->instance);
			struct victim candidate = {
			    .host = host,
			    .instance = inst->instance,
			    .remote = !home || strcmp(host->name, home) != 0,
			    .rx_pps = load ? load->rx_pps : 0,
			};
			if (better_victim(&candidate, &best))
				best = candidate;
		}
	}
	return best;
}

int scale_in_check(const struct view *view, const struct pending_set *pending, uint16_t service,
		   const struct scale_in_limits *limits, uint64_t now_ms,
		   struct scale_in_choice *choice)
{
	const struct policy_params *params = &view->params;
	*choice = (struct scale_in_choice){.service = service};
	if (!params->scale_in || pending_spawn_blocks(pending, service) ||
	    pending_stop_blocks(pending, service))
		return 0;
	const struct view_service *svc = view_service_find(view, service);
	uint64_t since_ms = svc ? svc->changed_ms : 0;
	uint32_t floor = limits->floor > 1 ? limits->floor : 1;
	if (!survey(view, pending, service, now_ms, choice, &since_ms) || choice->n_live <= floor)
		return 0;
	if (now_ms < since_ms || now_ms - since_ms < limits->window_ms)
		return 0;
	double capacity = view_capacity(view, service);
	if (capacity > 0 &&
	    !(choice->offered_pps <= params->scale_in_headroom * (choice->n_live - 1) * capacity))
		return 0;
	choice->calm_ms = now_ms - since_ms;
	choice->home = home_host(view, pending, svc, service, now_ms);
	struct victim victim = pick_victim(view, pending, service, choice->home, now_ms);
	if (!victim.host)
		return 0; /* only starting instances: wait */
	choice->host = victim.host;
	choice->instance = victim.instance;
	return 1;
}
