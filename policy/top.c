/* SPDX-License-Identifier: BSD-3-Clause */
/* top.c - the model behind onvm-top (see top.h). */
#define _GNU_SOURCE /* strverscmp */
#include <inttypes.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "core.h"
#include "ingest.h"
#include "top.h"
#include "view.h"

#define RECENT_CMDS  64 /* command ids remembered, to tell spawns from stops */
#define EARLY_EVENTS 64 /* events kept until the decision they answer arrives */

/* The latest stats of one instance of the watched service. */
struct top_inst {
	uint32_t instance;
	double rx_pps;
	bool has_first_rx;
	uint64_t first_rx_ms;
};

/*
 * What the table shows of a host. Its status, liveness, services map and
 * overload streaks are the policy view's (struct top's view).
 */
struct top_host {
	char name[BUS_NAME_LEN];
	/* From its state: whether it told its cores (the view keeps the numbers). */
	bool has_cores;
	uint64_t offline_ms; /* when it last went offline (0: not seen) */
	bool said_stale;     /* a "stale" line not yet followed by another status */
	/* Its latest stats. */
	bool has_stats;
	uint64_t stats_ts_ms, stats_rx_ms;
	double svc_tx_pps, svc_drop_pps, gen_tx_pps;
	double svc_unserved_pps; /* the watched service's unserved demand */
	bool has_gen;		 /* a load generator instance runs here */
	uint32_t n_insts, insts_cap;
	struct top_inst *insts;
	/* The latest overloaded run of the watched service: the view's streak,
	 * restarted when a scale-out ended during it. */
	bool has_run, in_run, run_announced;
	bool said_overloaded; /* an "overloaded" line not yet followed by "calm again" */
	uint64_t run_start_ms;
	/* Its latest alarm of the watched service. */
	bool has_alarm;
	uint64_t alarm_since_ms;
	uint32_t alarm_instance;
};

struct recent_cmd {
	char id[BUS_NAME_LEN];
	enum bus_cmd_op op;
	uint32_t instance;
};

struct top {
	struct top_config config;
	struct view *view; /* the policy's view of the same messages */
	uint32_t n_hosts;
	struct top_host *hosts[TOP_MAX_HOSTS]; /* natural name order */
	uint32_t n_scale;
	uint32_t scale_cap;
	struct top_scale_out *scale; /* in decision order */
	uint64_t floor_ms;	     /* end of the latest scale-out: onsets come after it */
	/* The latest crash of an instance of the watched service (exited, no command). */
	char exit_host[BUS_NAME_LEN];
	uint64_t exit_ms;
	struct recent_cmd cmds[RECENT_CMDS];
	uint32_t next_cmd;
	/*
	 * Answers that came before their decision: a host's event and the
	 * policy's decision travel on different topics from different
	 * publishers, so the broker may deliver them in either order.  Kept
	 * by cmd_id (oldest overwritten first) until the decision names it.
	 */
	struct bus_event early[EARLY_EVENTS];
	uint32_t next_early;
	struct policy_ingest ingest;
	struct top_counters counters;
};

void top_config_default(struct top_config *config)
{
	*config = (struct top_config){
	    .service = TOP_SERVICE_DEFAULT,
	    .gen_service = TOP_GEN_SERVICE_DEFAULT,
	};
	policy_params_default(&config->params);
}

struct top *top_create(const struct top_config *config)
{
	if (policy_params_check(&config->params, NULL, 0) < 0)
		return NULL;
	struct top *top = calloc(1, sizeof(*top));
	if (!top)
		return NULL;
	top->config = *config;
	top->view = view_create(&config->params);
	if (!top->view) {
		free(top);
		return NULL;
	}
	policy_ingest_init(&top->ingest);
	return top;
}

void top_destroy(struct top *top)
{
	if (!top)
		return;
	for (uint32_t i = 0; i < top->n_hosts; i++) {
		free(top->hosts[i]->insts);
		free(top->hosts[i]);
	}
	policy_ingest_free(&top->ingest);
	view_destroy(top->view);
	free(top->scale);
	free(top);
}

/* ---- helpers ---- */

static double rel_s(const struct top *top, uint64_t ms)
{
	return ((double)ms - (double)top->config.start_ms) / 1000.0;
}

static int64_t diff_ms(uint64_t later, uint64_t earlier)
{
	return (int64_t)(later - earlier);
}

/* An event line, stamped with the time (ts_ms) it happened. */
static void say(const struct top *top, uint64_t ts_ms, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void say(const struct top *top, uint64_t ts_ms, const char *fmt, ...)
{
	if (!top->config.event)
		return;
	char line[TOP_LINE_LEN];
	int used = snprintf(line, sizeof(line), "[%+7.1fs] ", rel_s(top, ts_ms));
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(line + used, sizeof(line) - (size_t)used, fmt, ap);
	va_end(ap);
	top->config.event(top->config.event_ctx, line);
}

static struct top_host *host_find(const struct top *top, const char *name)
{
	for (uint32_t i = 0; i < top->n_hosts; i++)
		if (strcmp(top->hosts[i]->name, name) == 0)
			return top->hosts[i];
	return NULL;
}

/* Find or add, keeping natural order; NULL when out of memory or full. */
static struct top_host *host_get(struct top *top, const char *name)
{
	struct top_host *host = host_find(top, name);
	if (host)
		return host;
	if (top->n_hosts >= TOP_MAX_HOSTS)
		return NULL;
	host = calloc(1, sizeof(*host));
	if (!host)
		return NULL;
	snprintf(host->name, sizeof(host->name), "%s", name);
	uint32_t at = top->n_hosts;
	while (at > 0 && strverscmp(top->hosts[at - 1]->name, name) > 0) {
		top->hosts[at] = top->hosts[at - 1];
		at--;
	}
	top->hosts[at] = host;
	top->n_hosts++;
	return host;
}

/* The policy's status of the host: offline, stale (silent past the bound) or online. */
static enum top_host_status host_status(const struct top *top, const struct top_host *host,
					uint64_t now_ms)
{
	const struct view_host *seen = view_host_find(top->view, host->name);
	if (!seen || !seen->has_state)
		return TOP_HOST_UNKNOWN;
	if (seen->status == BUS_STATUS_OFFLINE)
		return TOP_HOST_OFFLINE;
	return view_host_usable(top->view, seen, now_ms) ? TOP_HOST_ONLINE : TOP_HOST_STALE;
}

static uint32_t host_instances(const struct top *top, const struct top_host *host)
{
	const struct view_host *seen = view_host_find(top->view, host->name);
	return seen ? view_host_instances(seen, top->config.service) : 0;
}

/* Whether the host's latest stats still describe it. */
static bool stats_current(const struct top *top, const struct top_host *host, uint64_t now_ms)
{
	enum top_host_status status = host_status(top, host, now_ms);
	if (!host->has_stats || status == TOP_HOST_OFFLINE || status == TOP_HOST_STALE)
		return false;
	return now_ms <= host->stats_rx_ms ||
	       now_ms - host->stats_rx_ms <= top->config.params.stale_ms;
}

static const struct recent_cmd *recent_cmd_find(const struct top *top, const char *id)
{
	for (uint32_t i = 0; i < RECENT_CMDS; i++)
		if (top->cmds[i].id[0] && strcmp(top->cmds[i].id, id) == 0)
			return &top->cmds[i];
	return NULL;
}

static void raise_floor(struct top *top, uint64_t ms)
{
	if (ms > top->floor_ms)
		top->floor_ms = ms;
}

/* ---- scale-outs ---- */

static const char *placement(const struct top_scale_out *so)
{
	return strcmp(so->origin, so->target) == 0 ? "local" : "remote";
}

/* The scale-out an event answers: by command id, else the oldest open one to that host. */
static struct top_scale_out *scale_out_for_event(struct top *top, const struct bus_event *ev)
{
	for (uint32_t i = 0; i < top->n_scale; i++) {
		struct top_scale_out *so = &top->scale[i];
		if (!so->target[0] || strcmp(so->target, ev->host) != 0)
			continue;
		if (ev->has_cmd_id && so->cmd_id[0]) {
			if (strcmp(so->cmd_id, ev->cmd_id) == 0)
				return so;
		} else if (!so->spawned && !so->failed) {
			return so;
		}
	}
	return NULL;
}

static const struct top_inst *host_inst(const struct top_host *host, uint32_t instance)
{
	for (uint32_t i = 0; i < host->n_insts; i++)
		if (host->insts[i].instance == instance)
			return &host->insts[i];
	return NULL;
}

/* Look for the first packet of a spawned instance in the host's latest stats. */
static void check_first_packet(struct top *top, struct top_scale_out *so,
			       const struct top_host *host)
{
	if (!so->spawned || so->has_first || !host->has_stats)
		return;
	const struct top_inst *inst = host_inst(host, so->instance);
	if (!inst)
		return;
	if (inst->has_first_rx) {
		so->first_ms = inst->first_rx_ms;
	} else if (inst->rx_pps > 0) {
		so->first_ms = host->stats_ts_ms;
		so->first_from_stats = true;
	} else {
		return;
	}
	so->has_first = true;
	raise_floor(top, so->first_ms);
	if (so->has_onset)
		say(top, so->first_ms,
		    "%s: service %u instance %" PRIu32 " handled its first packet (onset +%" PRId64
		    " ms)",
		    host->name, top->config.service, so->instance,
		    diff_ms(so->first_ms, so->onset_ms));
	else
		say(top, so->first_ms,
		    "%s: service %u instance %" PRIu32 " handled its first packet", host->name,
		    top->config.service, so->instance);
}

/* ---- messages ---- */

static int apply_state(struct top *top, const struct bus_state *state, bool retained,
		       uint64_t now_ms)
{
	struct top_host *host = host_get(top, state->host);
	if (!host)
		return -1;
	const struct view_host *seen = view_host_find(top->view, state->host);
	bool changed = !seen || !seen->has_state || seen->status != state->status;
	if (view_apply_state(top->view, state, retained, now_ms) < 0)
		return -1;
	seen = view_host_find(top->view, state->host);
	host->has_cores |= state->has_cores;
	if (!changed)
		return 0;
	uint64_t ts = state->has_ts_ms ? state->ts_ms : now_ms;
	if (state->status == BUS_STATUS_OFFLINE) {
		host->offline_ms = ts;
		say(top, ts, "%s: offline", host->name);
	} else if (host->has_cores)
		say(top, ts, "%s: online, %" PRIu32 " of %" PRIu32 " NF cores free", host->name,
		    seen->cores_free, seen->cores_total);
	else
		say(top, ts, "%s: online", host->name);
	return 0;
}

static int apply_services(struct top *top, const struct bus_services *services, bool retained,
			  uint64_t now_ms)
{
	if (!host_get(top, services->host))
		return -1;
	return view_apply_services(top->view, services, retained, now_ms);
}

/*
 * Follow the host's overloaded run of the watched service, one stats period
 * at a time, from the streak the policy's view keeps for it (seen: the
 * view's host, with these stats already applied).
 */
static void track_overload(struct top *top, struct top_host *host, const struct view_host *seen,
			   uint64_t ts_ms)
{
	const struct view_host_svc *svc = view_host_svc_find(seen, top->config.service);
	if (!svc || !svc->streak) {
		if (host->said_overloaded)
			say(top, ts_ms, "%s: service %u calm again", host->name,
			    top->config.service);
		host->said_overloaded = false;
		host->in_run = false;
		return;
	}
	bool streak_starts = svc->streak_seq == seen->last_seq;
	if (!host->in_run || streak_starts || host->run_start_ms <= top->floor_ms) {
		host->has_run = true;
		host->in_run = true;
		host->run_announced = false;
		host->run_start_ms = ts_ms;
	}
	/* Told when the policy would act on the stats. */
	if (!host->run_announced && view_streak_len(seen, svc) >= top->config.params.periods) {
		host->run_announced = true;
		host->said_overloaded = true;
		say(top, ts_ms,
		    "%s: service %u overloaded since %+.1fs (drops %.0f pps, ring fill %.2f)",
		    host->name, top->config.service, rel_s(top, host->run_start_ms),
		    svc->max_drop_pps, svc->max_ring_fill);
	}
}

/* The watched service's unserved demand in these stats; its start and end are told. */
static void track_unserved(struct top *top, struct top_host *host, const struct bus_stats *stats)
{
	double pps = 0;
	for (uint32_t i = 0; i < stats->n_unserved; i++)
		if (stats->unserved[i].service == top->config.service)
			pps += stats->unserved[i].pps;
	if (pps > 0 && !(host->svc_unserved_pps > 0))
		say(top, stats->ts_ms,
		    "%s: service %u unserved: %.0f pps for it arrive and no host has an instance",
		    host->name, top->config.service, pps);
	else if (!(pps > 0) && host->svc_unserved_pps > 0)
		say(top, stats->ts_ms, "%s: service %u served again", host->name,
		    top->config.service);
	host->svc_unserved_pps = pps;
}

static int keep_instances(struct top_host *host, const struct bus_stats *stats, uint16_t service)
{
	if (stats->n_insts > host->insts_cap) {
		struct top_inst *bigger = realloc(host->insts, stats->n_insts * sizeof(*bigger));
		if (!bigger)
			return -1;
		host->insts = bigger;
		host->insts_cap = stats->n_insts;
	}
	host->n_insts = 0;
	for (uint32_t i = 0; i < stats->n_insts; i++) {
		const struct bus_inst_stats *in = &stats->insts[i];
		if (in->service != service)
			continue;
		host->insts[host->n_insts++] = (struct top_inst){
		    .instance = in->instance,
		    .rx_pps = in->rx_pps,
		    .has_first_rx = in->has_first_rx,
		    .first_rx_ms = in->first_rx_ms,
		};
	}
	return 0;
}

static int apply_stats(struct top *top, const struct bus_stats *stats, bool retained,
		       uint64_t now_ms)
{
	struct top_host *host = host_get(top, stats->host);
	if (!host)
		return -1;
	int taken = view_apply_stats(top->view, stats, retained, now_ms);
	if (taken <= 0)
		return taken; /* out of memory, or a seq already seen */
	if (host->has_stats && stats->ts_ms < host->stats_ts_ms)
		return 0; /* older than what the table shows */
	if (keep_instances(host, stats, top->config.service) < 0)
		return -1;
	double svc_tx = 0, svc_drop = 0, gen_tx = 0;
	bool has_gen = false;
	for (uint32_t i = 0; i < stats->n_insts; i++) {
		const struct bus_inst_stats *inst = &stats->insts[i];
		if (inst->service == top->config.gen_service) {
			gen_tx += inst->tx_pps;
			has_gen = true;
		}
		if (inst->service != top->config.service)
			continue;
		svc_tx += inst->tx_pps;
		svc_drop += inst->drop_pps;
	}
	host->has_stats = true;
	host->stats_ts_ms = stats->ts_ms;
	host->stats_rx_ms = now_ms;
	host->svc_tx_pps = svc_tx;
	host->svc_drop_pps = svc_drop;
	host->gen_tx_pps = gen_tx;
	host->has_gen = has_gen;
	track_unserved(top, host, stats);
	/* A first packet ends a scale-out: the overload may have started after it. */
	for (uint32_t i = 0; i < top->n_scale; i++)
		if (strcmp(top->scale[i].target, host->name) == 0)
			check_first_packet(top, &top->scale[i], host);
	track_overload(top, host, view_host_find(top->view, stats->host), stats->ts_ms);
	return 0;
}

static void attach_event(struct top *top, struct top_scale_out *so, const struct bus_event *ev,
			 const struct top_host *host);

static void keep_early_event(struct top *top, const struct bus_event *ev)
{
	top->early[top->next_early] = *ev;
	top->next_early = (top->next_early + 1) % EARLY_EVENTS;
}

/* A decision arrived: the events that answered its command before it, oldest first. */
static void attach_early_events(struct top *top, struct top_scale_out *so)
{
	if (!so->cmd_id[0] || !so->target[0])
		return;
	for (uint32_t n = 0; n < EARLY_EVENTS; n++) {
		struct bus_event *ev = &top->early[(top->next_early + n) % EARLY_EVENTS];
		if (!ev->has_cmd_id || strcmp(ev->cmd_id, so->cmd_id) != 0 ||
		    strcmp(ev->host, so->target) != 0)
			continue;
		attach_event(top, so, ev, host_find(top, ev->host));
		ev->has_cmd_id = false; /* taken */
	}
}

static void apply_event(struct top *top, const struct bus_event *ev, bool retained, uint64_t now_ms)
{
	struct top_host *host = host_get(top, ev->host);
	view_host_heard(top->view, ev->host, retained, now_ms);
	char detail[BUS_TEXT_LEN + 64] = "";
	if (ev->has_instance)
		snprintf(detail, sizeof(detail), " instance %" PRIu32, ev->instance);
	if (ev->has_core)
		snprintf(detail + strlen(detail), sizeof(detail) - strlen(detail),
			 " on core %" PRIu32, ev->core);
	if (ev->has_error)
		snprintf(detail + strlen(detail), sizeof(detail) - strlen(detail), ": %s",
			 ev->error);
	say(top, ev->ts_ms, "%s: %s service %u%s%s%s", ev->host, bus_event_name(ev->event),
	    ev->service, detail, ev->has_cmd_id ? " for " : "", ev->has_cmd_id ? ev->cmd_id : "");

	if (ev->service == top->config.service && ev->event == BUS_EV_EXITED && !ev->has_cmd_id &&
	    ev->ts_ms >= top->exit_ms) {
		snprintf(top->exit_host, sizeof(top->exit_host), "%s", ev->host);
		top->exit_ms = ev->ts_ms;
	}
	if (ev->service != top->config.service || (ev->event == BUS_EV_EXITED && !ev->has_cmd_id) ||
	    ev->event == BUS_EV_STOPPED)
		return;
	struct top_scale_out *so = scale_out_for_event(top, ev);
	if (!so && ev->has_cmd_id) {
		keep_early_event(top, ev);
		return;
	}
	attach_event(top, so, ev, host);
}

/* The answer to a scale-out: its first spawned, rejected or exited event counts. */
static void attach_event(struct top *top, struct top_scale_out *so, const struct bus_event *ev,
			 const struct top_host *host)
{
	if (!so || so->spawned || so->failed)
		return;
	if (ev->event != BUS_EV_SPAWNED) {
		so->failed = true;
		snprintf(so->failure, sizeof(so->failure), "%s%s%s", bus_event_name(ev->event),
			 ev->has_error ? ": " : "", ev->has_error ? ev->error : "");
		return;
	}
	so->spawned = true;
	so->spawned_ms = ev->ts_ms;
	so->instance = ev->has_instance ? ev->instance : 0;
	so->core = ev->has_core ? ev->core : 0;
	raise_floor(top, so->spawned_ms);
	if (host)
		check_first_packet(top, so, host);
}

/* An alarm is told; the watched service's latest, per host, may time a scale-out. */
static int apply_alarm(struct top *top, const struct bus_alarm *alarm, bool retained,
		       uint64_t now_ms)
{
	struct top_host *host = host_get(top, alarm->host);
	if (!host)
		return -1;
	view_host_heard(top->view, alarm->host, retained, now_ms);
	say(top, alarm->ts_ms,
	    "%s: alarm: service %u instance %" PRIu32
	    " overloaded since %+.3fs (drops %.0f pps, ring fill %.2f)",
	    alarm->host, alarm->service, alarm->instance, rel_s(top, alarm->since_ms),
	    alarm->drop_pps, alarm->ring_fill);
	if (alarm->service != top->config.service || retained)
		return 0;
	host->has_alarm = true;
	host->alarm_since_ms = alarm->since_ms;
	host->alarm_instance = alarm->instance;
	return 0;
}

static void apply_cmd(struct top *top, const struct bus_cmd *cmd)
{
	struct recent_cmd *slot = &top->cmds[top->next_cmd];
	top->next_cmd = (top->next_cmd + 1) % RECENT_CMDS;
	snprintf(slot->id, sizeof(slot->id), "%s", cmd->id);
	slot->op = cmd->op;
	slot->instance = cmd->instance;
	if (cmd->op != BUS_OP_STOP)
		return;
	/* A stop whose decision came first was taken for a scale-out: it is none. */
	for (uint32_t i = 0; i < top->n_scale; i++) {
		if (strcmp(top->scale[i].cmd_id, cmd->id) != 0)
			continue;
		memmove(&top->scale[i], &top->scale[i + 1],
			(top->n_scale - i - 1) * sizeof(top->scale[0]));
		top->n_scale--;
		break;
	}
}

/* Room for one more scale-out; -1 when out of memory or at TOP_MAX_SCALE. */
static int grow_scale(struct top *top)
{
	if (top->n_scale < top->scale_cap)
		return 0;
	if (top->scale_cap >= TOP_MAX_SCALE)
		return -1;
	uint32_t cap = top->scale_cap ? 2 * top->scale_cap : 16;
	struct top_scale_out *bigger = realloc(top->scale, cap * sizeof(*bigger));
	if (!bigger)
		return -1;
	top->scale = bigger;
	top->scale_cap = cap;
	return 0;
}

/* Consider a loss at ms on host: the latest one before the decision is kept. */
static void consider_loss(struct top_scale_out *so, const char *host, uint64_t ms, const char *how)
{
	if (ms == 0 || ms > so->decision_ms || (so->has_loss && ms <= so->loss_ms))
		return;
	so->has_loss = true;
	so->loss_ms = ms;
	snprintf(so->lost_on, sizeof(so->lost_on), "%s", host);
	so->loss_how = how;
}

/*
 * What a repair replaces: the latest loss, before its decision, of
 * instances of the service, as the policy sees losses: a host that listed
 * some went offline (its state's time) or silent past the staleness bound
 * (when it was last heard), or one of them exited.
 */
static void find_loss(const struct top *top, struct top_scale_out *so, uint64_t now_ms)
{
	for (uint32_t i = 0; i < top->n_hosts; i++) {
		const struct top_host *host = top->hosts[i];
		const struct view_host *seen = view_host_find(top->view, host->name);
		if (!seen || view_host_instances(seen, top->config.service) == 0)
			continue;
		enum top_host_status status = host_status(top, host, now_ms);
		if (status == TOP_HOST_OFFLINE)
			consider_loss(so, host->name, host->offline_ms, "offline");
		else if (status == TOP_HOST_STALE && seen->seen)
			consider_loss(so, host->name, seen->last_seen_ms, "last heard");
	}
	consider_loss(so, top->exit_host, top->exit_ms, "exited");
}

static void record_scale_out(struct top *top, const struct bus_decision *d, uint64_t now_ms)
{
	if (grow_scale(top) < 0)
		return;
	struct top_scale_out *so = &top->scale[top->n_scale++];
	*so = (struct top_scale_out){.decision_ms = d->ts_ms, .repair = !d->has_origin};
	if (d->has_origin)
		snprintf(so->origin, sizeof(so->origin), "%s", d->origin);
	snprintf(so->reason, sizeof(so->reason), "%s", d->reason);
	if (d->has_target)
		snprintf(so->target, sizeof(so->target), "%s", d->target);
	if (d->has_cmd_id)
		snprintf(so->cmd_id, sizeof(so->cmd_id), "%s", d->cmd_id);
	if (so->repair)
		find_loss(top, so, now_ms);
	const struct top_host *origin = d->has_origin ? host_find(top, d->origin) : NULL;
	if (origin && origin->has_alarm && strstr(d->reason, POLICY_REASON_ALARM) &&
	    origin->alarm_since_ms > top->floor_ms && origin->alarm_since_ms <= d->ts_ms) {
		so->has_onset = true;
		so->onset_from_alarm = true;
		so->alarm_instance = origin->alarm_instance;
		so->onset_ms = origin->alarm_since_ms;
	} else if (origin && origin->has_run && origin->run_start_ms > top->floor_ms &&
		   origin->run_start_ms <= d->ts_ms) {
		so->has_onset = true;
		so->onset_ms = origin->run_start_ms;
	}
	attach_early_events(top, so);
}

/*
 * The engine's own words: a reason reads "<what was overloaded>; <why this
 * host>", and the overload already had its line.
 */
static const char *reason_why(const char *reason)
{
	const char *why = strrchr(reason, ';');
	return why && why[1] == ' ' && why[2] ? why + 2 : reason;
}

static void apply_decision(struct top *top, const struct bus_decision *d, uint64_t now_ms)
{
	if (d->shadow) {
		top->counters.shadow_decisions++;
		return;
	}
	const struct recent_cmd *cmd = d->has_cmd_id ? recent_cmd_find(top, d->cmd_id) : NULL;
	if (cmd && cmd->op == BUS_OP_STOP) {
		say(top, d->ts_ms, "decision: stop service %u instance %" PRIu32 " on %s: %s",
		    d->service, cmd->instance, d->target, d->reason);
		return;
	}
	if (!d->has_origin) {
		say(top, d->ts_ms, "decision: repair: spawn service %u on %s: %s", d->service,
		    d->has_target ? d->target : "no host", d->reason);
	} else if (!d->has_target) {
		say(top, d->ts_ms, "decision: no host for service %u overloaded on %s: %s",
		    d->service, d->origin, reason_why(d->reason));
	} else {
		say(top, d->ts_ms, "decision: spawn service %u on %s (%s): %s", d->service,
		    d->target, strcmp(d->origin, d->target) == 0 ? "local" : "remote",
		    reason_why(d->reason));
	}
	if (d->service == top->config.service)
		record_scale_out(top, d, now_ms);
}

static void apply_engine(struct top *top, const struct bus_engine *engine, uint64_t now_ms)
{
	if (engine->status == BUS_STATUS_ONLINE)
		say(top, now_ms, "policy engine %s online (%s)", engine->id,
		    engine->has_name ? engine->name : "?");
	else
		say(top, now_ms, "policy engine %s offline", engine->id);
}

int top_feed(struct top *top, const struct bus_msg *msg, bool retained, uint64_t now_ms)
{
	switch (msg->kind) {
	case BUS_KIND_STATE:
		return apply_state(top, &msg->u.state, retained, now_ms);
	case BUS_KIND_SERVICES:
		return apply_services(top, &msg->u.services, retained, now_ms);
	case BUS_KIND_STATS:
		return apply_stats(top, &msg->u.stats, retained, now_ms);
	case BUS_KIND_ALARMS:
		return apply_alarm(top, &msg->u.alarm, retained, now_ms);
	case BUS_KIND_CMD:
		apply_cmd(top, &msg->u.cmd);
		break;
	case BUS_KIND_EVENTS:
		apply_event(top, &msg->u.event, retained, now_ms);
		break;
	case BUS_KIND_DECISIONS:
		apply_decision(top, &msg->u.decision, now_ms);
		break;
	case BUS_KIND_ENGINE:
		apply_engine(top, &msg->u.engine, now_ms);
		break;
	default:
		break;
	}
	return 0;
}

int top_feed_payload(struct top *top, const char *topic, const void *payload, size_t len,
		     bool retained, uint64_t now_ms, char *err, size_t errlen)
{
	const struct bus_msg *msg = NULL;
	int ret = policy_ingest_decode(&top->ingest, topic, payload, len, &msg, err, errlen);
	if (ret == 0) {
		top->counters.ignored++;
		return 0;
	}
	if (ret < 0) {
		top->counters.rejected++;
		return -1;
	}
	top->counters.decoded++;
	if (top_feed(top, msg, retained, now_ms) < 0) {
		snprintf(err, errlen, "out of memory or too many hosts");
		return -1;
	}
	return 1;
}

/* ---- the clock ---- */

void top_tick(struct top *top, uint64_t now_ms)
{
	for (uint32_t i = 0; i < top->n_hosts; i++) {
		struct top_host *host = top->hosts[i];
		bool stale = host_status(top, host, now_ms) == TOP_HOST_STALE;
		const struct view_host *seen = view_host_find(top->view, host->name);
		/* Only a host heard and then silent: retained history alone is no news. */
		if (stale && seen && seen->seen && !host->said_stale)
			say(top, now_ms,
			    "%s: stale: silent since %+.1fs; its %" PRIu32
			    " instances of service %u count as gone",
			    host->name, rel_s(top, seen->last_seen_ms), host_instances(top, host),
			    top->config.service);
		host->said_stale = stale;
	}
}

/* ---- queries ---- */

void top_get_totals(const struct top *top, uint64_t now_ms, struct top_totals *totals)
{
	*totals = (struct top_totals){.t_s = rel_s(top, now_ms)};
	for (uint32_t i = 0; i < top->n_hosts; i++) {
		const struct top_host *host = top->hosts[i];
		enum top_host_status status = host_status(top, host, now_ms);
		if (status == TOP_HOST_ONLINE || status == TOP_HOST_UNKNOWN)
			totals->instances += host_instances(top, host);
		if (!stats_current(top, host, now_ms))
			continue;
		/*
		 * A generator counts only the packets its target's ring took; those
		 * it could not enqueue are the drops of the instances on its host.
		 */
		totals->offered_pps += host->gen_tx_pps + (host->has_gen ? host->svc_drop_pps : 0) +
				       host->svc_unserved_pps;
		totals->delivered_pps += host->svc_tx_pps;
		totals->drop_pps += host->svc_drop_pps + host->svc_unserved_pps;
		totals->unserved_pps += host->svc_unserved_pps;
	}
}

uint32_t top_host_count(const struct top *top)
{
	return top->n_hosts;
}

void top_get_host(const struct top *top, uint32_t index, uint64_t now_ms, struct top_host_row *row)
{
	const struct top_host *host = top->hosts[index];
	const struct view_host *seen = view_host_find(top->view, host->name);
	*row = (struct top_host_row){
	    .name = host->name,
	    .status = host_status(top, host, now_ms),
	    .has_cores = host->has_cores && seen,
	    .cores_free = seen ? seen->cores_free : 0,
	    .cores_total = seen ? seen->cores_total : 0,
	    .instances = host_instances(top, host),
	};
	if (row->status == TOP_HOST_OFFLINE)
		row->instances = 0;
	if (stats_current(top, host, now_ms)) {
		row->delivered_pps = host->svc_tx_pps;
		row->unserved_pps = host->svc_unserved_pps;
	}
}

uint32_t top_scale_out_count(const struct top *top)
{
	return top->n_scale;
}

const struct top_scale_out *top_get_scale_out(const struct top *top, uint32_t index)
{
	return index < top->n_scale ? &top->scale[index] : NULL;
}

void top_get_counters(const struct top *top, struct top_counters *counters)
{
	*counters = top->counters;
}

/* ---- printing ---- */

/* A rate in at most 6 characters: 950, 12.3k, 1.23M. */
static const char *fmt_pps(double pps, char *buf, size_t len)
{
	if (pps < 999.5)
		snprintf(buf, len, "%.0f", pps);
	else if (pps < 99950)
		snprintf(buf, len, "%.1fk", pps / 1e3);
	else if (pps < 999500)
		snprintf(buf, len, "%.0fk", pps / 1e3);
	else
		snprintf(buf, len, "%.2fM", pps / 1e6);
	return buf;
}

/* A host's status in at most 5 characters: its free/total NF cores when online. */
static const char *fmt_status(const struct top_host_row *row, char *buf, size_t len)
{
	switch (row->status) {
	case TOP_HOST_ONLINE:
		if (row->has_cores)
			snprintf(buf, len, "%" PRIu32 "/%" PRIu32, row->cores_free,
				 row->cores_total);
		else
			snprintf(buf, len, "up");
		return buf;
	case TOP_HOST_OFFLINE:
		return "off";
	case TOP_HOST_STALE:
		return "stale";
	default:
		return "?";
	}
}

void top_print_legend(const struct top *top, FILE *out)
{
	fprintf(
	    out,
	    "every row: t_s = seconds since start; offer = what the load generator (service "
	    "%u)\nsent plus unserved demand, deliv = what service %u sent on, drops = its drops "
	    "and\nunserved demand (pps, all hosts); n = its instances; per host: free/total NF "
	    "cores\n(or off, stale, ?), instances of service %u, its rate there, unsv = its "
	    "unserved\ndemand there (packets for it dropped: no host had an instance)\n",
	    top->config.gen_service, top->config.service, top->config.service);
}

void top_print_header(const struct top *top, uint64_t now_ms, FILE *out)
{
	(void)now_ms;
	fprintf(out, "%6s %6s %6s %6s %3s |", "t_s", "offer", "deliv", "drops", "n");
	for (uint32_t i = 0; i < top->n_hosts; i++) {
		if (i && i % TOP_HOSTS_PER_ROW == 0)
			fprintf(out, "\n%31s |", "");
		fprintf(out, "  %-14.14s %5s", top->hosts[i]->name, "unsv");
	}
	fputc('\n', out);
}

/* As wide as a header cell: "  1/3    2 20.0k  5.0k" (status, n, rate, unserved). */
static void print_cell(const struct top_host_row *row, FILE *out)
{
	char status[16], pps[16], unserved[16] = "-";
	if (row->unserved_pps > 0)
		fmt_pps(row->unserved_pps, unserved, sizeof(unserved));
	fprintf(out, "  %-5s %2" PRIu32 " %5s %5s", fmt_status(row, status, sizeof(status)),
		row->instances, fmt_pps(row->delivered_pps, pps, sizeof(pps)), unserved);
}

void top_print_row(const struct top *top, uint64_t now_ms, FILE *out)
{
	struct top_totals t;
	char a[16], b[16], c[16];
	top_get_totals(top, now_ms, &t);
	fprintf(out, "%6.1f %6s %6s %6s %3" PRIu32 " |", t.t_s,
		fmt_pps(t.offered_pps, a, sizeof(a)), fmt_pps(t.delivered_pps, b, sizeof(b)),
		fmt_pps(t.drop_pps, c, sizeof(c)), t.instances);
	for (uint32_t i = 0; i < top->n_hosts; i++) {
		struct top_host_row row;
		if (i && i % TOP_HOSTS_PER_ROW == 0)
			fprintf(out, "\n%31s |", "");
		top_get_host(top, i, now_ms, &row);
		print_cell(&row, out);
	}
	fputc('\n', out);
}

void top_print_tsv_header(FILE *out)
{
	fprintf(out, "# t_s\toffered_pps\tdelivered_pps\tdrop_pps\tinstances\tunserved_pps\n");
}

void top_print_tsv_line(const struct top *top, uint64_t now_ms, FILE *out)
{
	struct top_totals t;
	top_get_totals(top, now_ms, &t);
	fprintf(out, "%.3f\t%.0f\t%.0f\t%.0f\t%" PRIu32 "\t%.0f\n", t.t_s, t.offered_pps,
		t.delivered_pps, t.drop_pps, t.instances, t.unserved_pps);
}

/* "+1510 ms" relative to the onset, or "n/a". */
static const char *fmt_since(const struct top_scale_out *so, bool has, uint64_t ms, char *buf,
			     size_t len)
{
	if (!has || !so->has_onset)
		snprintf(buf, len, "n/a");
	else
		snprintf(buf, len, "%" PRId64 " ms", diff_ms(ms, so->onset_ms));
	return buf;
}

static void print_scale_out_block(const struct top *top, const struct top_scale_out *so,
				  uint32_t number, FILE *out)
{
	char buf[32];
	fprintf(out,
		"scale-out %" PRIu32
		": service %u overloaded on %s -> new instance on %s (%s)%s%s\n",
		number, top->config.service, so->origin, so->target, placement(so),
		so->cmd_id[0] ? ", command " : "", so->cmd_id);
	if (so->has_onset && so->onset_from_alarm)
		fprintf(out,
			"  overload onset  at %+.3f s (alarm from %s: instance %" PRIu32
			" overloaded since then, as its manager measured)\n",
			rel_s(top, so->onset_ms), so->origin, so->alarm_instance);
	else if (so->has_onset)
		fprintf(out, "  overload onset  at %+.3f s (first overloaded stats period on %s)\n",
			rel_s(top, so->onset_ms), so->origin);
	else
		fprintf(out, "  overload onset  unknown (not seen since the previous scale-out)\n");
	fprintf(out, "  decision        %s (at %+.3f s)\n",
		fmt_since(so, true, so->decision_ms, buf, sizeof(buf)),
		rel_s(top, so->decision_ms));
	if (so->failed)
		fprintf(out, "  spawned         never: %s\n", so->failure);
	else if (so->spawned)
		fprintf(out, "  spawned         %s: instance %" PRIu32 " on core %" PRIu32 "\n",
			fmt_since(so, true, so->spawned_ms, buf, sizeof(buf)), so->instance,
			so->core);
	else
		fprintf(out, "  spawned         not seen\n");
	if (so->has_first)
		fprintf(out, "  first packet    %s (%s)\n",
			fmt_since(so, true, so->first_ms, buf, sizeof(buf)),
			so->first_from_stats ? "first stats period with packets" : "first_rx_ms");
	else if (so->spawned)
		fprintf(out, "  first packet    not seen\n");
}

static void print_scale_out_line(const struct top *top, const struct top_scale_out *so,
				 uint32_t number, FILE *out)
{
	char d[32], s[32], f[32];
	fprintf(out,
		"scale-out %" PRIu32 ": service %u %s -> %s (%s) onset->decision %s, ->spawned %s, "
		"->first packet %s; onset: %s\n",
		number, top->config.service, so->origin, so->target, placement(so),
		fmt_since(so, true, so->decision_ms, d, sizeof(d)),
		so->failed ? "failed" : fmt_since(so, so->spawned, so->spawned_ms, s, sizeof(s)),
		fmt_since(so, so->has_first, so->first_ms, f, sizeof(f)),
		!so->has_onset	       ? "not seen"
		: so->onset_from_alarm ? "alarm"
				       : "stats");
}

/* "+1510 ms" after from_ms, or "n/a". */
static const char *fmt_after(bool has, uint64_t ms, uint64_t from_ms, char *buf, size_t len)
{
	if (has)
		snprintf(buf, len, "%" PRId64 " ms", diff_ms(ms, from_ms));
	else
		snprintf(buf, len, "n/a");
	return buf;
}

/* A repair's times, from the loss it replaces (else from its decision). */
static void print_repair_line(const struct top *top, const struct top_scale_out *so,
			      uint32_t number, FILE *out)
{
	char from[BUS_NAME_LEN + 64], d[32], s[32], f[32];
	uint64_t from_ms = so->has_loss ? so->loss_ms : so->decision_ms;
	if (so->has_loss)
		snprintf(from, sizeof(from), "lost on %s at %+.3f s (%s)", so->lost_on,
			 rel_s(top, so->loss_ms), so->loss_how);
	else
		snprintf(from, sizeof(from), "loss not seen, decided at %+.3f s",
			 rel_s(top, so->decision_ms));
	fprintf(out,
		"repair %" PRIu32 ": service %u -> %s (%s)%s%s: ->decision %s, ->spawned %s, "
		"->first packet %s\n",
		number, top->config.service, so->target, from, so->cmd_id[0] ? ", command " : "",
		so->cmd_id, fmt_after(true, so->decision_ms, from_ms, d, sizeof(d)),
		so->failed ? "failed"
			   : fmt_after(so->spawned, so->spawned_ms, from_ms, s, sizeof(s)),
		fmt_after(so->has_first, so->first_ms, from_ms, f, sizeof(f)));
}

void top_print_summary(const struct top *top, FILE *out)
{
	fprintf(
	    out,
	    "\n== reaction times of service %u (publisher clocks, from the overload onset) ==\n",
	    top->config.service);
	uint32_t number = 0, nocap = 0, repairs = 0;
	for (uint32_t i = 0; i < top->n_scale; i++)
		if (top->scale[i].target[0] && !top->scale[i].repair)
			print_scale_out_block(top, &top->scale[i], ++number, out);
	if (!number)
		fprintf(out, "no scale-out of service %u seen\n", top->config.service);
	for (uint32_t i = 0; i < top->n_scale; i++) {
		const struct top_scale_out *so = &top->scale[i];
		if (so->target[0])
			continue;
		nocap++;
		if (so->repair)
			fprintf(out, "no capacity at %+.3f s: service %u repair: %s\n",
				rel_s(top, so->decision_ms), top->config.service, so->reason);
		else
			fprintf(out, "no capacity at %+.3f s: service %u overloaded on %s: %s\n",
				rel_s(top, so->decision_ms), top->config.service, so->origin,
				reason_why(so->reason));
	}
	number = 0;
	for (uint32_t i = 0; i < top->n_scale; i++) {
		const struct top_scale_out *so = &top->scale[i];
		if (!so->target[0])
			continue;
		if (so->repair)
			print_repair_line(top, so, ++repairs, out);
		else
			print_scale_out_line(top, so, ++number, out);
	}
	fprintf(out,
		"%" PRIu32 " scale-outs, %" PRIu32 " repairs, %" PRIu32
		" no-capacity decisions; messages: %" PRIu64 " decoded, %" PRIu64
		" rejected, %" PRIu64 " outside the contract\n",
		number, repairs, nocap, top->counters.decoded, top->counters.rejected,
		top->counters.ignored);
}
