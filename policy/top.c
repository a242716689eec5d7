/* top.c - the model behind onvm-top (see top.h). */
#define _GNU_SOURCE /* strverscmp */
#include <inttypes.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "ingest.h"
#include "top.h"

#define RECENT_CMDS 64 /* command ids remembered, to tell spawns from stops */

/* The latest stats of one instance of the watched service. */
struct top_inst {
	uint32_t instance;
	double rx_pps;
	bool has_first_rx;
	uint64_t first_rx_ms;
};

struct top_host {
	char name[BUS_NAME_LEN];
	/* From its state. */
	bool has_state;
	enum bus_status status;
	bool has_cores;
	uint32_t cores_total, cores_free;
	/* Liveness: arrival of its last message that was not retained history. */
	bool live;
	uint64_t last_live_ms;
	/* Instances of the watched service in its services map. */
	uint32_t instances;
	/* Its latest stats. */
	bool has_stats;
	uint64_t stats_ts_ms, stats_rx_ms;
	double svc_tx_pps, svc_drop_pps, gen_tx_pps;
	bool has_gen; /* a load generator instance runs here */
	uint32_t n_insts, insts_cap;
	struct top_inst *insts;
	/* The current overloaded run of the watched service. */
	bool in_run, run_announced;
	bool said_overloaded; /* an "overloaded" line not yet followed by "calm again" */
	uint64_t run_start_ms;
	uint32_t run_periods;
};

struct recent_cmd {
	char id[BUS_NAME_LEN];
	enum bus_cmd_op op;
	uint32_t instance;
};

struct top {
	struct top_config config;
	uint32_t n_hosts;
	struct top_host *hosts[TOP_MAX_HOSTS]; /* natural name order */
	uint32_t n_scale;
	uint32_t scale_cap;
	struct top_scale_out *scale; /* in decision order */
	uint64_t floor_ms;	     /* end of the latest scale-out: onsets come after it */
	struct recent_cmd cmds[RECENT_CMDS];
	uint32_t next_cmd;
	struct policy_ingest ingest;
	struct top_counters counters;
};

void top_config_default(struct top_config *config)
{
	*config = (struct top_config){
	    .service = 2,
	    .gen_service = 9,
	    .drop_pps = 1000,
	    .ring_fill = 0.8,
	    .stale_ms = 5000,
	};
}

struct top *top_create(const struct top_config *config)
{
	struct top *top = calloc(1, sizeof(*top));
	if (!top)
		return NULL;
	top->config = *config;
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

static void host_heard(struct top_host *host, bool retained, uint64_t now_ms)
{
	if (retained)
		return;
	host->live = true;
	host->last_live_ms = now_ms;
}

static bool host_stale(const struct top *top, const struct top_host *host, uint64_t now_ms)
{
	uint64_t since = host->live ? host->last_live_ms : top->config.start_ms;
	return now_ms > since && now_ms - since > top->config.stale_ms;
}

static enum top_host_status host_status(const struct top *top, const struct top_host *host,
					uint64_t now_ms)
{
	if (host->has_state && host->status == BUS_STATUS_OFFLINE)
		return TOP_HOST_OFFLINE;
	if (host_stale(top, host, now_ms))
		return TOP_HOST_STALE;
	return host->has_state ? TOP_HOST_ONLINE : TOP_HOST_UNKNOWN;
}

/* Whether the host's latest stats still describe it. */
static bool stats_current(const struct top *top, const struct top_host *host, uint64_t now_ms)
{
	if (!host->has_stats || host_status(top, host, now_ms) == TOP_HOST_OFFLINE)
		return false;
	return now_ms <= host->stats_rx_ms || now_ms - host->stats_rx_ms <= top->config.stale_ms;
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

static void apply_state(struct top *top, const struct bus_state *state, bool retained,
			uint64_t now_ms)
{
	struct top_host *host = host_get(top, state->host);
	if (!host)
		return;
	bool changed = !host->has_state || host->status != state->status;
	host->has_state = true;
	host->status = state->status;
	if (state->has_cores) {
		host->has_cores = true;
		host->cores_total = state->cores.total;
		host->cores_free = state->cores.free;
	}
	host_heard(host, retained, now_ms);
	if (!changed)
		return;
	uint64_t ts = state->has_ts_ms ? state->ts_ms : now_ms;
	if (state->status == BUS_STATUS_OFFLINE)
		say(top, ts, "%s: offline", host->name);
	else if (host->has_cores)
		say(top, ts, "%s: online, %" PRIu32 " of %" PRIu32 " NF cores free", host->name,
		    host->cores_free, host->cores_total);
	else
		say(top, ts, "%s: online", host->name);
}

static void apply_services(struct top *top, const struct bus_services *services, bool retained,
			   uint64_t now_ms)
{
	struct top_host *host = host_get(top, services->host);
	if (!host)
		return;
	uint32_t count = 0;
	for (uint32_t i = 0; i < services->n_insts; i++)
		count += services->insts[i].service == top->config.service &&
			 services->insts[i].state != BUS_INST_STOPPING;
	host->instances = count;
	host_heard(host, retained, now_ms);
}

static bool inst_overloaded(const struct top *top, const struct bus_inst_stats *inst)
{
	return inst->drop_pps > top->config.drop_pps || inst->ring_fill >= top->config.ring_fill;
}

/* Follow the host's overloaded run of the watched service, one stats period at a time. */
static void track_overload(struct top *top, struct top_host *host, bool overloaded, double drop_pps,
			   double fill, uint64_t ts_ms)
{
	if (!overloaded) {
		if (host->said_overloaded)
			say(top, ts_ms, "%s: service %u calm again", host->name,
			    top->config.service);
		host->said_overloaded = false;
		host->in_run = false;
		return;
	}
	if (!host->in_run || host->run_start_ms <= top->floor_ms) {
		host->in_run = true;
		host->run_announced = false;
		host->run_start_ms = ts_ms;
		host->run_periods = 0;
	}
	host->run_periods++;
	/* One overloaded period may be a blip: tell from the second on. */
	if (host->run_periods == 2 && !host->run_announced) {
		host->run_announced = true;
		host->said_overloaded = true;
		say(top, ts_ms,
		    "%s: service %u overloaded since %+.1fs (drops %.0f pps, ring fill %.2f)",
		    host->name, top->config.service, rel_s(top, host->run_start_ms), drop_pps,
		    fill);
	}
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
	host_heard(host, retained, now_ms);
	if (host->has_stats && stats->ts_ms < host->stats_ts_ms)
		return 0; /* older than what we have */
	if (keep_instances(host, stats, top->config.service) < 0)
		return -1;
	double svc_tx = 0, svc_drop = 0, gen_tx = 0, worst_drop = 0, worst_fill = 0;
	bool has_service = false, has_gen = false, overloaded = false;
	for (uint32_t i = 0; i < stats->n_insts; i++) {
		const struct bus_inst_stats *inst = &stats->insts[i];
		if (inst->service == top->config.gen_service) {
			gen_tx += inst->tx_pps;
			has_gen = true;
		}
		if (inst->service != top->config.service)
			continue;
		has_service = true;
		svc_tx += inst->tx_pps;
		svc_drop += inst->drop_pps;
		overloaded |= inst_overloaded(top, inst);
		if (inst->drop_pps > worst_drop)
			worst_drop = inst->drop_pps;
		if (inst->ring_fill > worst_fill)
			worst_fill = inst->ring_fill;
	}
	host->has_stats = true;
	host->stats_ts_ms = stats->ts_ms;
	host->stats_rx_ms = now_ms;
	host->svc_tx_pps = svc_tx;
	host->svc_drop_pps = svc_drop;
	host->gen_tx_pps = gen_tx;
	host->has_gen = has_gen;
	/* A first packet ends a scale-out: the overload may have started after it. */
	for (uint32_t i = 0; i < top->n_scale; i++)
		if (strcmp(top->scale[i].target, host->name) == 0)
			check_first_packet(top, &top->scale[i], host);
	track_overload(top, host, has_service && overloaded, worst_drop, worst_fill, stats->ts_ms);
	return 0;
}

static void apply_event(struct top *top, const struct bus_event *ev, bool retained, uint64_t now_ms)
{
	struct top_host *host = host_get(top, ev->host);
	if (host)
		host_heard(host, retained, now_ms);
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

	if (ev->service != top->config.service || (ev->event == BUS_EV_EXITED && !ev->has_cmd_id) ||
	    ev->event == BUS_EV_STOPPED)
		return;
	struct top_scale_out *so = scale_out_for_event(top, ev);
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

static void apply_cmd(struct top *top, const struct bus_cmd *cmd)
{
	struct recent_cmd *slot = &top->cmds[top->next_cmd];
	top->next_cmd = (top->next_cmd + 1) % RECENT_CMDS;
	snprintf(slot->id, sizeof(slot->id), "%s", cmd->id);
	slot->op = cmd->op;
	slot->instance = cmd->instance;
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

static void record_scale_out(struct top *top, const struct bus_decision *d)
{
	if (grow_scale(top) < 0)
		return;
	struct top_scale_out *so = &top->scale[top->n_scale++];
	*so = (struct top_scale_out){.decision_ms = d->ts_ms};
	snprintf(so->origin, sizeof(so->origin), "%s", d->origin);
	snprintf(so->reason, sizeof(so->reason), "%s", d->reason);
	if (d->has_target)
		snprintf(so->target, sizeof(so->target), "%s", d->target);
	if (d->has_cmd_id)
		snprintf(so->cmd_id, sizeof(so->cmd_id), "%s", d->cmd_id);
	const struct top_host *origin = host_find(top, d->origin);
	if (origin && origin->run_periods && origin->run_start_ms > top->floor_ms &&
	    origin->run_start_ms <= d->ts_ms) {
		so->has_onset = true;
		so->onset_ms = origin->run_start_ms;
	}
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

static void apply_decision(struct top *top, const struct bus_decision *d)
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
	if (!d->has_target) {
		say(top, d->ts_ms, "decision: no host for service %u overloaded on %s: %s",
		    d->service, d->origin, reason_why(d->reason));
	} else {
		say(top, d->ts_ms, "decision: spawn service %u on %s (%s): %s", d->service,
		    d->target, strcmp(d->origin, d->target) == 0 ? "local" : "remote",
		    reason_why(d->reason));
	}
	if (d->service == top->config.service)
		record_scale_out(top, d);
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
		apply_state(top, &msg->u.state, retained, now_ms);
		break;
	case BUS_KIND_SERVICES:
		apply_services(top, &msg->u.services, retained, now_ms);
		break;
	case BUS_KIND_STATS:
		return apply_stats(top, &msg->u.stats, retained, now_ms);
	case BUS_KIND_CMD:
		apply_cmd(top, &msg->u.cmd);
		break;
	case BUS_KIND_EVENTS:
		apply_event(top, &msg->u.event, retained, now_ms);
		break;
	case BUS_KIND_DECISIONS:
		apply_decision(top, &msg->u.decision);
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

/* ---- queries ---- */

void top_get_totals(const struct top *top, uint64_t now_ms, struct top_totals *totals)
{
	*totals = (struct top_totals){.t_s = rel_s(top, now_ms)};
	for (uint32_t i = 0; i < top->n_hosts; i++) {
		const struct top_host *host = top->hosts[i];
		enum top_host_status status = host_status(top, host, now_ms);
		if (status == TOP_HOST_ONLINE || status == TOP_HOST_UNKNOWN)
			totals->instances += host->instances;
		if (!stats_current(top, host, now_ms))
			continue;
		/*
		 * A generator counts only the packets its target's ring took; those
		 * it could not enqueue are the drops of the instances on its host.
		 */
		totals->offered_pps += host->gen_tx_pps + (host->has_gen ? host->svc_drop_pps : 0);
		totals->delivered_pps += host->svc_tx_pps;
		totals->drop_pps += host->svc_drop_pps;
	}
}

uint32_t top_host_count(const struct top *top)
{
	return top->n_hosts;
}

void top_get_host(const struct top *top, uint32_t index, uint64_t now_ms, struct top_host_row *row)
{
	const struct top_host *host = top->hosts[index];
	*row = (struct top_host_row){
	    .name = host->name,
	    .status = host_status(top, host, now_ms),
	    .has_cores = host->has_cores,
	    .cores_free = host->cores_free,
	    .cores_total = host->cores_total,
	    .instances = host->instances,
	};
	if (row->status == TOP_HOST_OFFLINE)
		row->instances = 0;
	if (stats_current(top, host, now_ms))
		row->delivered_pps = host->svc_tx_pps;
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

static const char *status_name(enum top_host_status status)
{
	switch (status) {
	case TOP_HOST_ONLINE:
		return "online";
	case TOP_HOST_OFFLINE:
		return "offline";
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
	    "%u)\nsent, deliv = what service %u sent on, drops = its drops (pps, all hosts); "
	    "n = its\ninstances; per host: status, free/total NF cores, instances of service %u, "
	    "its rate there\n",
	    top->config.gen_service, top->config.service, top->config.service);
}

void top_print_header(const struct top *top, uint64_t now_ms, FILE *out)
{
	(void)now_ms;
	fprintf(out, "%6s %6s %6s %6s %3s |", "t_s", "offer", "deliv", "drops", "n");
	for (uint32_t i = 0; i < top->n_hosts; i++) {
		if (i && i % TOP_HOSTS_PER_ROW == 0)
			fprintf(out, "\n%31s |", "");
		fprintf(out, "  %-20.20s", top->hosts[i]->name);
	}
	fputc('\n', out);
}

static void print_cell(const struct top_host_row *row, FILE *out)
{
	char cores[16] = "-", pps[16];
	if (row->has_cores && row->status != TOP_HOST_OFFLINE)
		snprintf(cores, sizeof(cores), "%" PRIu32 "/%" PRIu32, row->cores_free,
			 row->cores_total);
	fprintf(out, "  %-7s %-3s %2" PRIu32 " %5s", status_name(row->status), cores,
		row->instances, fmt_pps(row->delivered_pps, pps, sizeof(pps)));
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
	fprintf(out, "# t_s\toffered_pps\tdelivered_pps\tdrop_pps\tinstances\n");
}

void top_print_tsv_line(const struct top *top, uint64_t now_ms, FILE *out)
{
	struct top_totals t;
	top_get_totals(top, now_ms, &t);
	fprintf(out, "%.3f\t%.0f\t%.0f\t%.0f\t%" PRIu32 "\n", t.t_s, t.offered_pps, t.delivered_pps,
		t.drop_pps, t.instances);
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
	if (so->has_onset)
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
		"->first packet %s\n",
		number, top->config.service, so->origin, so->target, placement(so),
		fmt_since(so, true, so->decision_ms, d, sizeof(d)),
		so->failed ? "failed" : fmt_since(so, so->spawned, so->spawned_ms, s, sizeof(s)),
		fmt_since(so, so->has_first, so->first_ms, f, sizeof(f)));
}

void top_print_summary(const struct top *top, FILE *out)
{
	fprintf(
	    out,
	    "\n== reaction times of service %u (publisher clocks, from the overload onset) ==\n",
	    top->config.service);
	uint32_t number = 0, nocap = 0;
	for (uint32_t i = 0; i < top->n_scale; i++)
		if (top->scale[i].target[0])
			print_scale_out_block(top, &top->scale[i], ++number, out);
	if (!number)
		fprintf(out, "no scale-out of service %u seen\n", top->config.service);
	for (uint32_t i = 0; i < top->n_scale; i++) {
		const struct top_scale_out *so = &top->scale[i];
		if (so->target[0])
			continue;
		nocap++;
		fprintf(out, "no capacity at %+.3f s: service %u overloaded on %s: %s\n",
			rel_s(top, so->decision_ms), top->config.service, so->origin,
			reason_why(so->reason));
	}
	number = 0;
	for (uint32_t i = 0; i < top->n_scale; i++)
		if (top->scale[i].target[0])
			print_scale_out_line(top, &top->scale[i], ++number, out);
	fprintf(out,
		"%" PRIu32 " scale-outs, %" PRIu32 " no-capacity decisions; messages: %" PRIu64
		" decoded, %" PRIu64 " rejected, %" PRIu64 " outside the contract\n",
		number, nocap, top->counters.decoded, top->counters.rejected,
		top->counters.ignored);
}
