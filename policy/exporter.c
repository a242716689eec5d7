/* SPDX-License-Identifier: BSD-3-Clause */
/* exporter.c - the model behind onvm-exporter and its /metrics text (see exporter.h). */
#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "exporter.h"
#include "params.h"

#define LABEL_MAX 63 /* bytes of a label value: the bus's names */

/* What onvm_exporter_dropped_total{what} counts: entries past a bound. */
#define DROP_REASONS(X)                                                                            \
	X(DROP_HOST, "host")                                                                       \
	X(DROP_INSTANCE, "instance")                                                               \
	X(DROP_PORT, "port")                                                                       \
	X(DROP_SERVICE, "service")                                                                 \
	X(DROP_UNSERVED, "unserved")                                                               \
	X(DROP_ENGINE, "engine")
#define AS_ENUM(id, name) id,
#define AS_NAME(id, name) name,
enum drop_reason { DROP_REASONS(AS_ENUM) DROP_COUNT };
static const char *const drop_names[DROP_COUNT] = {DROP_REASONS(AS_NAME)};

/* Events that answer a command: the results of onvm_command_results_total. */
#define RESULTS 3 /* spawned, rejected, stopped: the first three bus_event_kinds */

struct exp_instance {
	uint32_t instance;
	uint16_t service;
	uint32_t core;
	double rx_pps, tx_pps, drop_pps, ring_fill, busy;
	uint64_t rx, tx, drop; /* packets, rate * period summed */
};

struct exp_port {
	uint16_t port;
	double rx_pps, tx_pps, drop_pps;
	uint64_t rx, tx, drop;
};

struct exp_unserved {
	uint16_t service;
	double pps;
	uint64_t packets;
};

/* A service in the host's map: its instances by state (bus_inst_state). */
struct exp_service {
	uint16_t service;
	uint32_t by_state[3];
};

struct exp_host {
	char name[BUS_NAME_LEN];
	/* From its state. */
	bool has_state;
	enum bus_status status;
	uint64_t epoch_ms;
	bool has_cores;
	uint32_t cores_total, cores_free;
	char version[BUS_NAME_LEN]; /* "" if not sent */
	/* Liveness (monotonic ms). */
	bool seen;
	uint64_t last_seen_ms;
	uint64_t last_up_ms; /* when it was last up, or added: eviction counts from it */
	/* Its stats stream. */
	bool has_stats;
	uint64_t last_seq;
	uint32_t period_ms;
	uint64_t periods, missed_periods;
	bool has_cmd_counts, has_reject_counts;
	uint64_t cmd_queue_drops, cmd_window_refusals, bus_rejects, peer_endpoint_rejects,
	    peer_services_rejects;
	uint32_t n_insts; /* sorted by instance */
	struct exp_instance insts[EXPORTER_MAX_INSTANCES];
	uint32_t n_ports; /* sorted by port */
	struct exp_port ports[EXPORTER_MAX_INSTANCES];
	uint32_t n_unserved; /* sorted by service */
	struct exp_unserved unserved[EXPORTER_MAX_INSTANCES];
	/* Its services map, sorted by service. */
	uint32_t n_services;
	struct exp_service services[EXPORTER_MAX_INSTANCES];
	/* Its events, alarms, and the commands sent to it. */
	uint64_t events[4];	   /* by bus_event_kind */
	uint64_t results[RESULTS]; /* events with a cmd_id, once per (cmd_id, event) */
	uint64_t commands[2];	   /* by bus_cmd_op, once per id */
	uint64_t alarms;
};

struct exp_engine {
	char id[BUS_NAME_LEN];
	bool has_status;
	enum bus_status status;
	char name[BUS_NAME_LEN];
	uint64_t last_up_ms;
	uint64_t decisions[EXPORTER_DECISION_KINDS][2]; /* [kind][shadow] */
};

struct exporter {
	struct exporter_config config;
	uint32_t n_hosts;
	struct exp_host **hosts; /* config.max_hosts entries, sorted by name */
	uint32_t n_engines;
	struct exp_engine engines[EXPORTER_MAX_ENGINES]; /* sorted by id */
	uint64_t messages[BUS_KIND_COUNT];		 /* taken in, by kind */
	uint64_t rejects[BUS_KIND_COUNT];		 /* rejected by the decoders, by kind */
	uint64_t dropped[DROP_COUNT];
	bool connected;
	/* Hashes of (host, id, what) already counted, a ring. */
	uint64_t recent[EXPORTER_RECENT_IDS];
	uint32_t n_recent, recent_next;
	struct bus_msg msg; /* decoding area, reused */
};

void exporter_config_default(struct exporter_config *config)
{
	struct policy_params params;
	policy_params_default(&params);
	*config = (struct exporter_config){.stale_ms = params.stale_ms,
					   .evict_ms = EXPORTER_EVICT_DEFAULT_MS,
					   .max_hosts = EXPORTER_MAX_HOSTS};
}

struct exporter *exporter_create(const struct exporter_config *config)
{
	if (config->max_hosts < 1 || config->max_hosts > EXPORTER_MAX_HOSTS)
		return NULL;
	struct exporter *e = calloc(1, sizeof(*e));
	if (!e)
		return NULL;
	e->config = *config;
	e->hosts = calloc(config->max_hosts, sizeof(*e->hosts));
	if (!e->hosts) {
		free(e);
		return NULL;
	}
	e->msg = (struct bus_msg)BUS_MSG_INIT;
	return e;
}

void exporter_destroy(struct exporter *e)
{
	if (!e)
		return;
	for (uint32_t i = 0; i < e->n_hosts; i++)
		free(e->hosts[i]);
	free(e->hosts);
	bus_msg_free(&e->msg);
	free(e);
}

struct exporter *exporter_snapshot(const struct exporter *src)
{
	struct exporter *e = malloc(sizeof(*e));
	if (!e)
		return NULL;
	memcpy(e, src, sizeof(*e));
	e->msg = (struct bus_msg)BUS_MSG_INIT;
	e->n_hosts = 0;
	e->hosts = calloc(src->config.max_hosts, sizeof(*e->hosts));
	if (!e->hosts) {
		free(e);
		return NULL;
	}
	for (uint32_t i = 0; i < src->n_hosts; i++) {
		e->hosts[i] = malloc(sizeof(*e->hosts[i]));
		if (!e->hosts[i]) {
			exporter_destroy(e);
			return NULL;
		}
		memcpy(e->hosts[i], src->hosts[i], sizeof(*e->hosts[i]));
		e->n_hosts++;
	}
	return e;
}

void exporter_set_connected(struct exporter *e, bool connected)
{
	e->connected = connected;
}

uint32_t exporter_host_count(const struct exporter *e)
{
	return e->n_hosts;
}

/* ---- hosts ---- */

/* The index of name in the sorted table, or where it would go (*found false). */
static uint32_t host_index(const struct exporter *e, const char *name, bool *found)
{
	uint32_t low = 0, high = e->n_hosts;
	while (low < high) {
		uint32_t mid = low + (high - low) / 2;
		int cmp = strcmp(e->hosts[mid]->name, name);
		if (cmp == 0) {
			*found = true;
			return mid;
		}
		if (cmp < 0)
			low = mid + 1;
		else
			high = mid;
	}
	*found = false;
	return low;
}

static uint64_t stale_bound(const struct exporter *e, const struct exp_host *host)
{
	uint64_t periods = (uint64_t)host->period_ms * 3;
	return periods > e->config.stale_ms ? periods : e->config.stale_ms;
}

/* Online by its state and heard from within the staleness bound. */
static bool host_up(const struct exporter *e, const struct exp_host *host, uint64_t now_ms)
{
	return host->has_state && host->status == BUS_STATUS_ONLINE && host->seen &&
	       (now_ms < host->last_seen_ms || now_ms - host->last_seen_ms <= stale_bound(e, host));
}

static void remove_host(struct exporter *e, uint32_t index)
{
	free(e->hosts[index]);
	memmove(&e->hosts[index], &e->hosts[index + 1],
		(e->n_hosts - index - 1) * sizeof(*e->hosts));
	e->n_hosts--;
}

/* The host that has been down longest, to make room; -1 if every one is up. */
static int64_t longest_down(const struct exporter *e, uint64_t now_ms)
{
	int64_t best = -1;
	for (uint32_t i = 0; i < e->n_hosts; i++) {
		const struct exp_host *host = e->hosts[i];
		if (host_up(e, host, now_ms))
			continue;
		if (best < 0 || host->last_up_ms < e->hosts[best]->last_up_ms)
			best = i;
	}
	return best;
}

/* Find or add; NULL (counted) when the table is full of hosts that are up. */
static struct exp_host *host_get(struct exporter *e, const char *name, uint64_t now_ms)
{
	bool found;
	uint32_t at = host_index(e, name, &found);
	if (found)
		return e->hosts[at];
	if (e->n_hosts == e->config.max_hosts) {
		int64_t victim = longest_down(e, now_ms);
		if (victim < 0) {
			e->dropped[DROP_HOST]++;
			return NULL;
		}
		remove_host(e, (uint32_t)victim);
		at = host_index(e, name, &found);
	}
	struct exp_host *host = calloc(1, sizeof(*host));
	if (!host)
		return NULL;
	snprintf(host->name, sizeof(host->name), "%s", name);
	host->last_up_ms = now_ms;
	memmove(&e->hosts[at + 1], &e->hosts[at], (e->n_hosts - at) * sizeof(*e->hosts));
	e->hosts[at] = host;
	e->n_hosts++;
	return host;
}

static void heard(struct exporter *e, struct exp_host *host, bool retained, uint64_t now_ms)
{
	if (retained)
		return; /* broker history, no sign of life */
	host->seen = true;
	host->last_seen_ms = now_ms;
	if (host_up(e, host, now_ms))
		host->last_up_ms = now_ms;
}

/* The manager restarted: what it counted is gone, and so are the exporter's sums. */
static void restart_stream(struct exp_host *host)
{
	host->has_stats = false;
	host->n_insts = host->n_ports = host->n_unserved = 0;
}

static void take_state(struct exporter *e, const struct bus_state *state, bool retained,
		       uint64_t now_ms)
{
	struct exp_host *host = host_get(e, state->host, now_ms);
	if (!host)
		return;
	/* A new epoch is a restarted manager (the first state is no news: stats
	 * that came before it are of this epoch). */
	if (state->status == BUS_STATUS_ONLINE && state->has_epoch && host->has_state &&
	    host->epoch_ms != state->epoch_ms)
		restart_stream(host);
	host->has_state = true;
	host->status = state->status;
	if (state->has_epoch)
		host->epoch_ms = state->epoch_ms;
	host->has_cores = state->has_cores;
	host->cores_total = state->cores.total;
	host->cores_free = state->cores.free;
	if (state->has_version)
		snprintf(host->version, sizeof(host->version), "%s", state->version);
	else if (state->status == BUS_STATUS_ONLINE)
		host->version[0] = '\0';
	heard(e, host, retained, now_ms);
}

static void take_services(struct exporter *e, const struct bus_services *services, bool retained,
			  uint64_t now_ms)
{
	struct exp_host *host = host_get(e, services->host, now_ms);
	if (!host)
		return;
	host->n_services = 0;
	/* Sorted by (service, instance): one entry per run of a service. */
	for (uint32_t i = 0; i < services->n_insts; i++) {
		const struct bus_service_inst *inst = &services->insts[i];
		struct exp_service *last =
		    host->n_services ? &host->services[host->n_services - 1] : NULL;
		if (!last || last->service != inst->service) {
			if (host->n_services == EXPORTER_MAX_INSTANCES) {
				e->dropped[DROP_SERVICE]++;
				continue;
			}
			last = &host->services[host->n_services++];
			*last = (struct exp_service){.service = inst->service};
		}
		if ((unsigned)inst->state < 3)
			last->by_state[inst->state]++;
	}
	heard(e, host, retained, now_ms);
}

static double bounded_rate(double pps)
{
	return pps >= 0 && pps <= EXPORTER_RATE_MAX ? pps : (pps > 0 ? EXPORTER_RATE_MAX : 0);
}

static double bounded_ratio(double ratio)
{
	return ratio >= 0 && ratio <= 1 ? ratio : (ratio > 1 ? 1 : 0);
}

/* Counters stop at their top rather than wrap, whatever a host claims. */
static void add_saturating(uint64_t *counter, uint64_t add)
{
	*counter = *counter > UINT64_MAX - add ? UINT64_MAX : *counter + add;
}

/* Packets of one period at pps. */
static void add_packets(uint64_t *counter, double pps, uint32_t period_ms)
{
	double packets = round(bounded_rate(pps) * period_ms / 1000.0);
	add_saturating(counter, (uint64_t)packets); /* <= 1e12 * 600000 / 1000: fits */
}

static int cmp_instance(const void *a, const void *b)
{
	uint32_t x = ((const struct exp_instance *)a)->instance;
	uint32_t y = ((const struct exp_instance *)b)->instance;
	return (x > y) - (x < y);
}

static int cmp_port(const void *a, const void *b)
{
	uint16_t x = ((const struct exp_port *)a)->port, y = ((const struct exp_port *)b)->port;
	return (x > y) - (x < y);
}

static int cmp_unserved(const void *a, const void *b)
{
	uint16_t x = ((const struct exp_unserved *)a)->service;
	uint16_t y = ((const struct exp_unserved *)b)->service;
	return (x > y) - (x < y);
}

/* The entry of the previous stats with the same key (arrays sorted by key). */
#define FIND_PREVIOUS(array, n, field, key)                                                        \
	({                                                                                         \
		__typeof__(&(array)[0]) found_ = NULL;                                             \
		uint32_t low_ = 0, high_ = (n);                                                    \
		while (low_ < high_) {                                                             \
			uint32_t mid_ = low_ + (high_ - low_) / 2;                                 \
			if ((array)[mid_].field == (key)) {                                        \
				found_ = &(array)[mid_];                                           \
				break;                                                             \
			}                                                                          \
			if ((array)[mid_].field < (key))                                           \
				low_ = mid_ + 1;                                                   \
			else                                                                       \
				high_ = mid_;                                                      \
		}                                                                                  \
		found_;                                                                            \
	})

static void take_instances(struct exporter *e, struct exp_host *host, const struct bus_stats *stats,
			   bool count)
{
	struct exp_instance next[EXPORTER_MAX_INSTANCES];
	uint32_t n = 0;
	for (uint32_t i = 0; i < stats->n_insts; i++) {
		const struct bus_inst_stats *in = &stats->insts[i];
		if (n == EXPORTER_MAX_INSTANCES) {
			e->dropped[DROP_INSTANCE]++;
			continue;
		}
		next[n++] = (struct exp_instance){
		    .instance = in->instance,
		    .service = in->service,
		    .core = in->core,
		    .rx_pps = bounded_rate(in->rx_pps),
		    .tx_pps = bounded_rate(in->tx_pps),
		    .drop_pps = bounded_rate(in->drop_pps),
		    .ring_fill = bounded_ratio(in->ring_fill),
		    .busy = bounded_ratio(in->busy),
		};
	}
	qsort(next, n, sizeof(next[0]), cmp_instance);
	uint32_t kept = 0;
	for (uint32_t i = 0; i < n; i++) {
		struct exp_instance *inst = &next[i];
		if (kept && next[kept - 1].instance == inst->instance)
			continue; /* listed twice: the first counts */
		const struct exp_instance *old =
		    FIND_PREVIOUS(host->insts, host->n_insts, instance, inst->instance);
		if (old && old->service == inst->service) {
			inst->rx = old->rx;
			inst->tx = old->tx;
			inst->drop = old->drop;
		}
		if (count) {
			add_packets(&inst->rx, inst->rx_pps, stats->period_ms);
			add_packets(&inst->tx, inst->tx_pps, stats->period_ms);
			add_packets(&inst->drop, inst->drop_pps, stats->period_ms);
		}
		next[kept++] = *inst;
	}
	memcpy(host->insts, next, kept * sizeof(next[0]));
	host->n_insts = kept;
}

static void take_ports(struct exporter *e, struct exp_host *host, const struct bus_stats *stats,
		       bool count)
{
	struct exp_port next[EXPORTER_MAX_INSTANCES];
	uint32_t n = 0;
	for (uint32_t i = 0; i < stats->n_ports; i++) {
		const struct bus_port_stats *in = &stats->ports[i];
		if (n == EXPORTER_MAX_INSTANCES) {
			e->dropped[DROP_PORT]++;
			continue;
		}
		next[n++] = (struct exp_port){.port = in->port,
					      .rx_pps = bounded_rate(in->rx_pps),
					      .tx_pps = bounded_rate(in->tx_pps),
					      .drop_pps = bounded_rate(in->drop_pps)};
	}
	qsort(next, n, sizeof(next[0]), cmp_port);
	uint32_t kept = 0;
	for (uint32_t i = 0; i < n; i++) {
		struct exp_port *port = &next[i];
		if (kept && next[kept - 1].port == port->port)
			continue;
		const struct exp_port *old =
		    FIND_PREVIOUS(host->ports, host->n_ports, port, port->port);
		if (old) {
			port->rx = old->rx;
			port->tx = old->tx;
			port->drop = old->drop;
		}
		if (count) {
			add_packets(&port->rx, port->rx_pps, stats->period_ms);
			add_packets(&port->tx, port->tx_pps, stats->period_ms);
			add_packets(&port->drop, port->drop_pps, stats->period_ms);
		}
		next[kept++] = *port;
	}
	memcpy(host->ports, next, kept * sizeof(next[0]));
	host->n_ports = kept;
}

/* Unserved demand keeps its counter while the service stays listed (largest first:
 * the first EXPORTER_MAX_INSTANCES of a message are kept). */
static void take_unserved(struct exporter *e, struct exp_host *host, const struct bus_stats *stats,
			  bool count)
{
	struct exp_unserved next[EXPORTER_MAX_INSTANCES];
	uint32_t n = 0;
	for (uint32_t i = 0; i < stats->n_unserved; i++) {
		if (n == EXPORTER_MAX_INSTANCES) {
			e->dropped[DROP_UNSERVED]++;
			continue;
		}
		next[n++] = (struct exp_unserved){.service = stats->unserved[i].service,
						  .pps = bounded_rate(stats->unserved[i].pps)};
	}
	qsort(next, n, sizeof(next[0]), cmp_unserved);
	uint32_t kept = 0;
	for (uint32_t i = 0; i < n; i++) {
		struct exp_unserved *entry = &next[i];
		if (kept && next[kept - 1].service == entry->service)
			continue;
		const struct exp_unserved *old =
		    FIND_PREVIOUS(host->unserved, host->n_unserved, service, entry->service);
		if (old)
			entry->packets = old->packets;
		if (count)
			add_packets(&entry->packets, entry->pps, stats->period_ms);
		next[kept++] = *entry;
	}
	memcpy(host->unserved, next, kept * sizeof(next[0]));
	host->n_unserved = kept;
}

static void take_stats(struct exporter *e, const struct bus_stats *stats, bool retained,
		       uint64_t now_ms)
{
	struct exp_host *host = host_get(e, stats->host, now_ms);
	if (!host)
		return;
	/* A repeated period is not counted twice; a lower seq is a new stream. */
	bool count = true;
	if (host->has_stats && stats->seq == host->last_seq)
		count = false;
	else if (host->has_stats && stats->seq < host->last_seq)
		restart_stream(host);
	else if (host->has_stats)
		add_saturating(&host->missed_periods, stats->seq - host->last_seq - 1);
	if (count)
		host->periods++;
	host->has_stats = true;
	host->last_seq = stats->seq;
	host->period_ms = stats->period_ms;
	take_instances(e, host, stats, count);
	take_ports(e, host, stats, count);
	take_unserved(e, host, stats, count);
	host->has_cmd_counts = stats->has_cmd_counts;
	host->cmd_queue_drops = stats->cmd_queue_drops;
	host->cmd_window_refusals = stats->cmd_window_refusals;
	host->has_reject_counts = stats->has_reject_counts;
	host->bus_rejects = stats->bus_rejects;
	host->peer_endpoint_rejects = stats->peer_endpoint_rejects;
	host->peer_services_rejects = stats->peer_services_rejects;
	heard(e, host, retained, now_ms);
}

/* FNV-1a over (host, id, what): one hash per thing counted once. */
static uint64_t recent_hash(const char *host, const char *id, unsigned what)
{
	uint64_t hash = UINT64_C(14695981039346656037);
	for (const char *part[2] = {host, id}, **p = part; p < part + 2; p++) {
		for (const unsigned char *c = (const unsigned char *)*p; *c; c++)
			hash = (hash ^ *c) * UINT64_C(1099511628211);
		hash = (hash ^ 0xff) * UINT64_C(1099511628211); /* no name ends in 0xff */
	}
	return (hash ^ what) * UINT64_C(1099511628211);
}

/* True the first time (host, id, what) is seen among the latest EXPORTER_RECENT_IDS. */
static bool first_time(struct exporter *e, const char *host, const char *id, unsigned what)
{
	uint64_t hash = recent_hash(host, id, what);
	for (uint32_t i = 0; i < e->n_recent; i++)
		if (e->recent[i] == hash)
			return false;
	e->recent[e->recent_next] = hash;
	e->recent_next = (e->recent_next + 1) % EXPORTER_RECENT_IDS;
	if (e->n_recent < EXPORTER_RECENT_IDS)
		e->n_recent++;
	return true;
}

#define RECENT_CMD 8 /* past the event kinds */

static void take_event(struct exporter *e, const struct bus_event *event, bool retained,
		       uint64_t now_ms)
{
	struct exp_host *host = host_get(e, event->host, now_ms);
	if (!host)
		return;
	unsigned kind = (unsigned)event->event;
	if (kind < 4)
		host->events[kind]++;
	/* A repeated command is answered with the first answer again: one result. */
	if (kind < RESULTS && event->has_cmd_id && first_time(e, host->name, event->cmd_id, kind))
		host->results[kind]++;
	heard(e, host, retained, now_ms);
}

static void take_cmd(struct exporter *e, const struct bus_cmd *cmd, uint64_t now_ms)
{
	struct exp_host *host = host_get(e, cmd->target, now_ms);
	if (host && (unsigned)cmd->op < 2 && first_time(e, host->name, cmd->id, RECENT_CMD))
		host->commands[cmd->op]++;
}

static void take_alarm(struct exporter *e, const struct bus_alarm *alarm, bool retained,
		       uint64_t now_ms)
{
	struct exp_host *host = host_get(e, alarm->host, now_ms);
	if (!host)
		return;
	host->alarms++;
	heard(e, host, retained, now_ms);
}

/* ---- engines ---- */

static struct exp_engine *engine_get(struct exporter *e, const char *id, uint64_t now_ms)
{
	uint32_t at = 0;
	while (at < e->n_engines && strcmp(e->engines[at].id, id) < 0)
		at++;
	if (at < e->n_engines && strcmp(e->engines[at].id, id) == 0)
		return &e->engines[at];
	if (e->n_engines == EXPORTER_MAX_ENGINES) {
		e->dropped[DROP_ENGINE]++;
		return NULL;
	}
	memmove(&e->engines[at + 1], &e->engines[at], (e->n_engines - at) * sizeof(e->engines[0]));
	e->n_engines++;
	struct exp_engine *engine = &e->engines[at];
	*engine = (struct exp_engine){.last_up_ms = now_ms};
	snprintf(engine->id, sizeof(engine->id), "%s", id);
	return engine;
}

static void take_engine(struct exporter *e, const struct bus_engine *in, uint64_t now_ms)
{
	struct exp_engine *engine = engine_get(e, in->id, now_ms);
	if (!engine)
		return;
	engine->has_status = true;
	engine->status = in->status;
	if (in->has_name)
		snprintf(engine->name, sizeof(engine->name), "%s", in->name);
	engine->last_up_ms = now_ms;
}

enum exporter_decision_kind exporter_decision_kind(const struct bus_decision *decision)
{
	if (!decision->has_target)
		return strncmp(decision->reason, "at max", 6) == 0 ? EXPORTER_DECISION_AT_MAX
								   : EXPORTER_DECISION_NO_CAPACITY;
	if (strncmp(decision->reason, "scale-in", 8) == 0)
		return EXPORTER_DECISION_SCALE_IN;
	return decision->has_origin ? EXPORTER_DECISION_SCALE_OUT : EXPORTER_DECISION_REPAIR;
}

const char *exporter_decision_kind_name(enum exporter_decision_kind kind)
{
	static const char *const names[EXPORTER_DECISION_KINDS] = {
	    "scale_out", "repair", "scale_in", "at_max", "no_capacity"};
	return (unsigned)kind < EXPORTER_DECISION_KINDS ? names[kind] : "unknown";
}

static void take_decision(struct exporter *e, const struct bus_decision *decision, uint64_t now_ms)
{
	struct exp_engine *engine = engine_get(e, decision->engine, now_ms);
	if (!engine)
		return;
	engine->decisions[exporter_decision_kind(decision)][decision->shadow ? 1 : 0]++;
	engine->last_up_ms = now_ms; /* deciding: not to be forgotten, announced or not */
}

static uint64_t dropped_sum(const struct exporter *e)
{
	uint64_t sum = 0;
	for (int i = 0; i < DROP_COUNT; i++)
		sum += e->dropped[i];
	return sum;
}

int exporter_feed(struct exporter *e, const char *topic, const void *payload, size_t len,
		  bool retained, uint64_t now_ms, char *err, size_t errlen)
{
	int ret = bus_decode_any(topic, payload, len, &e->msg, err, errlen);
	if (ret < 0) {
		struct bus_topic parsed;
		if (bus_topic_parse(topic, &parsed) < 0)
			parsed.kind = BUS_KIND_UNKNOWN;
		e->rejects[parsed.kind]++;
		return -1;
	}
	const struct bus_msg *msg = &e->msg;
	e->messages[msg->kind]++;
	uint64_t dropped_before = dropped_sum(e);
	switch (msg->kind) {
	case BUS_KIND_STATE:
		take_state(e, &msg->u.state, retained, now_ms);
		break;
	case BUS_KIND_SERVICES:
		if (ret == BUS_DECODE_CLEARED) {
			/* The host publishes no map: the topic tells whose. */
			struct bus_topic parsed;
			struct exp_host *host = NULL;
			bool found;
			if (bus_topic_parse(topic, &parsed) == 0) {
				uint32_t at = host_index(e, parsed.name, &found);
				host = found ? e->hosts[at] : NULL;
			}
			if (host)
				host->n_services = 0;
		} else {
			take_services(e, &msg->u.services, retained, now_ms);
		}
		break;
	case BUS_KIND_STATS:
		take_stats(e, &msg->u.stats, retained, now_ms);
		break;
	case BUS_KIND_CMD:
		take_cmd(e, &msg->u.cmd, now_ms);
		break;
	case BUS_KIND_EVENTS:
		take_event(e, &msg->u.event, retained, now_ms);
		break;
	case BUS_KIND_ALARMS:
		take_alarm(e, &msg->u.alarm, retained, now_ms);
		break;
	case BUS_KIND_DECISIONS:
		take_decision(e, &msg->u.decision, now_ms);
		break;
	case BUS_KIND_ENGINE:
		take_engine(e, &msg->u.engine, now_ms);
		break;
	default:
		return 0;
	}
	return dropped_sum(e) == dropped_before ? 1 : 0;
}

void exporter_tick(struct exporter *e, uint64_t now_ms)
{
	for (uint32_t i = 0; i < e->n_hosts;) {
		struct exp_host *host = e->hosts[i];
		if (host_up(e, host, now_ms)) {
			host->last_up_ms = now_ms;
		} else if (now_ms > host->last_up_ms &&
			   now_ms - host->last_up_ms >= e->config.evict_ms) {
			remove_host(e, i);
			continue;
		}
		i++;
	}
	for (uint32_t i = 0; i < e->n_engines;) {
		struct exp_engine *engine = &e->engines[i];
		if (engine->status == BUS_STATUS_ONLINE) {
			engine->last_up_ms = now_ms;
		} else if (now_ms > engine->last_up_ms &&
			   now_ms - engine->last_up_ms >= e->config.evict_ms) {
			memmove(engine, engine + 1, (e->n_engines - i - 1) * sizeof(*engine));
			e->n_engines--;
			continue;
		}
		i++;
	}
}

/* ---- the text exposition format ---- */

struct text {
	char *buf;
	size_t len, cap;
	bool failed;
};

static void text_printf(struct text *t, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void text_printf(struct text *t, const char *fmt, ...)
{
	if (t->failed)
		return;
	for (;;) {
		va_list args;
		va_start(args, fmt);
		int n = vsnprintf(t->buf + t->len, t->cap - t->len, fmt, args);
		va_end(args);
		if (n < 0) {
			t->failed = true;
			return;
		}
		if ((size_t)n < t->cap - t->len) {
			t->len += (size_t)n;
			return;
		}
		size_t cap =
		    t->cap * 2 > t->len + (size_t)n + 1 ? t->cap * 2 : t->len + (size_t)n + 1;
		char *buf = realloc(t->buf, cap);
		if (!buf) {
			t->failed = true;
			return;
		}
		t->buf = buf;
		t->cap = cap;
	}
}

static void family(struct text *t, const char *name, const char *type, const char *help)
{
	text_printf(t, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

/* A label value, escaped (\\, \", \n), cut to LABEL_MAX bytes on a UTF-8 boundary. */
static void label(struct text *t, const char *key, const char *value, bool first)
{
	char escaped[LABEL_MAX * 2 + 1];
	size_t len = strnlen(value, LABEL_MAX + 1), out = 0;
	if (len > LABEL_MAX) {
		len = LABEL_MAX;
		while (len > 0 && ((unsigned char)value[len] & 0xc0) == 0x80)
			len--;
	}
	for (size_t i = 0; i < len; i++) {
		char c = value[i];
		if (c == '\\' || c == '"' || c == '\n') {
			escaped[out++] = '\\';
			c = c == '\n' ? 'n' : c;
		}
		escaped[out++] = c;
	}
	escaped[out] = '\0';
	text_printf(t, "%s%s=\"%s\"", first ? "{" : ",", key, escaped);
}

static void value(struct text *t, double v)
{
	char shortest[32];
	if (v == floor(v) && fabs(v) < 9007199254740992.0) {
		text_printf(t, "} %.0f\n", v);
		return;
	}
	/* 15 digits when they give the same double back (0.1, not 0.10000000000000001). */
	snprintf(shortest, sizeof(shortest), "%.15g", v);
	if (strtod(shortest, NULL) == v)
		text_printf(t, "} %s\n", shortest);
	else
		text_printf(t, "} %.17g\n", v);
}

static void host_sample(struct text *t, const char *name, const struct exp_host *host, double v)
{
	text_printf(t, "%s", name);
	label(t, "host", host->name, true);
	value(t, v);
}

static void u16_label(struct text *t, const char *key, unsigned v)
{
	char buf[16];
	snprintf(buf, sizeof(buf), "%u", v);
	label(t, key, buf, false);
}

/* Per host: name suffix, type, help, whether it has a value, the value. */
#define HOST_METRICS(X)                                                                            \
	X("up", "gauge",                                                                           \
	  "Whether the host's manager is online and was heard from within the staleness bound.",   \
	  true, host_up(e, h, now_ms) ? 1 : 0)                                                     \
	X("nf_cores", "gauge", "NF cores the manager owns.", h->has_cores, h->cores_total)         \
	X("nf_cores_free", "gauge", "NF cores the manager can still give to new instances.",       \
	  h->has_cores, h->cores_free)                                                             \
	X("start_time_seconds", "gauge", "When the manager started (its epoch), Unix time.",       \
	  h->epoch_ms > 0, (double)h->epoch_ms / 1000.0)                                           \
	X("stats_period_seconds", "gauge", "The length of the host's stats period.", h->has_stats, \
	  h->period_ms / 1000.0)                                                                   \
	X("stats_periods_total", "counter", "Stats periods received.", true, (double)h->periods)   \
	X("stats_periods_missed_total", "counter",                                                 \
	  "Stats periods lost on the way (gaps in seq); their packets are not in the counters.",   \
	  true, (double)h->missed_periods)                                                         \
	X("cmd_queue_drops_total", "counter",                                                      \
	  "Commands the manager lost because its command queue was full.", h->has_cmd_counts,      \
	  (double)h->cmd_queue_drops)                                                              \
	X("cmd_window_refusals_total", "counter",                                                  \
	  "Commands the manager refused because every remembered command id was live.",            \
	  h->has_cmd_counts, (double)h->cmd_window_refusals)                                       \
	X("bus_rejects_total", "counter", "Bus messages the manager rejected.",                    \
	  h->has_reject_counts, (double)h->bus_rejects)                                            \
	X("peer_endpoint_rejects_total", "counter",                                                \
	  "Other hosts' tunnel endpoints the manager did not believe.", h->has_reject_counts,      \
	  (double)h->peer_endpoint_rejects)                                                        \
	X("peer_services_rejects_total", "counter",                                                \
	  "Other hosts' service maps the manager did not believe.", h->has_reject_counts,          \
	  (double)h->peer_services_rejects)                                                        \
	X("alarms_total", "counter", "Overload alarms the manager raised.", true, (double)h->alarms)

/* Per instance and per port, of up hosts: name suffix, type, help, value. */
#define INSTANCE_METRICS(X)                                                                        \
	X("rx_packets_per_second", "gauge", "Packets received per second, latest stats period.",   \
	  i->rx_pps)                                                                               \
	X("tx_packets_per_second", "gauge", "Packets sent per second, latest stats period.",       \
	  i->tx_pps)                                                                               \
	X("drop_packets_per_second", "gauge",                                                      \
	  "Packets lost per second (its RX ring was full), latest stats period.", i->drop_pps)     \
	X("rx_packets_total", "counter", "Packets received (rate times period, summed).",          \
	  (double)i->rx)                                                                           \
	X("tx_packets_total", "counter", "Packets sent (rate times period, summed).",              \
	  (double)i->tx)                                                                           \
	X("drop_packets_total", "counter", "Packets lost (rate times period, summed).",            \
	  (double)i->drop)                                                                         \
	X("ring_fill_ratio", "gauge", "How full the instance's RX ring is, 0..1.", i->ring_fill)   \
	X("busy_ratio", "gauge", "The share of the instance's loop spent on packets, 0..1.",       \
	  i->busy)                                                                                 \
	X("core", "gauge", "The lcore the instance runs on.", (double)i->core)

#define PORT_METRICS(X)                                                                            \
	X("rx_packets_per_second", "gauge", "Packets received per second, latest stats period.",   \
	  p->rx_pps)                                                                               \
	X("tx_packets_per_second", "gauge", "Packets sent per second, latest stats period.",       \
	  p->tx_pps)                                                                               \
	X("drop_packets_per_second", "gauge",                                                      \
	  "Packets refused or with no instance to go to, per second, latest stats period.",        \
	  p->drop_pps)                                                                             \
	X("rx_packets_total", "counter", "Packets received (rate times period, summed).",          \
	  (double)p->rx)                                                                           \
	X("tx_packets_total", "counter", "Packets sent (rate times period, summed).",              \
	  (double)p->tx)                                                                           \
	X("drop_packets_total", "counter", "Packets dropped (rate times period, summed).",         \
	  (double)p->drop)

static void render_hosts(struct text *t, const struct exporter *e, uint64_t now_ms)
{
#define HOST_FAMILY(suffix, type, help, has, v)                                                    \
	family(t, "onvm_host_" suffix, type, help);                                                \
	for (uint32_t k = 0; k < e->n_hosts; k++) {                                                \
		const struct exp_host *h = e->hosts[k];                                            \
		if (has)                                                                           \
			host_sample(t, "onvm_host_" suffix, h, v);                                 \
	}
	HOST_METRICS(HOST_FAMILY)
#undef HOST_FAMILY
	family(t, "onvm_host_info", "gauge", "The manager's release, as its state gives it.");
	for (uint32_t k = 0; k < e->n_hosts; k++) {
		const struct exp_host *h = e->hosts[k];
		if (!h->version[0])
			continue;
		text_printf(t, "onvm_host_info");
		label(t, "host", h->name, true);
		label(t, "version", h->version, false);
		value(t, 1);
	}
}

static void render_instances(struct text *t, const struct exporter *e, uint64_t now_ms)
{
#define INSTANCE_FAMILY(suffix, type, help, v)                                                     \
	family(t, "onvm_instance_" suffix, type, help);                                            \
	for (uint32_t k = 0; k < e->n_hosts; k++) {                                                \
		const struct exp_host *h = e->hosts[k];                                            \
		if (!host_up(e, h, now_ms))                                                        \
			continue;                                                                  \
		for (uint32_t n = 0; n < h->n_insts; n++) {                                        \
			const struct exp_instance *i = &h->insts[n];                               \
			text_printf(t, "onvm_instance_" suffix);                                   \
			label(t, "host", h->name, true);                                           \
			u16_label(t, "service", i->service);                                       \
			text_printf(t, ",instance=\"%" PRIu32 "\"", i->instance);                  \
			value(t, v);                                                               \
		}                                                                                  \
	}
	INSTANCE_METRICS(INSTANCE_FAMILY)
#undef INSTANCE_FAMILY
#define PORT_FAMILY(suffix, type, help, v)                                                         \
	family(t, "onvm_port_" suffix, type, help);                                                \
	for (uint32_t k = 0; k < e->n_hosts; k++) {                                                \
		const struct exp_host *h = e->hosts[k];                                            \
		if (!host_up(e, h, now_ms))                                                        \
			continue;                                                                  \
		for (uint32_t n = 0; n < h->n_ports; n++) {                                        \
			const struct exp_port *p = &h->ports[n];                                   \
			text_printf(t, "onvm_port_" suffix);                                       \
			label(t, "host", h->name, true);                                           \
			u16_label(t, "port", p->port);                                             \
			value(t, v);                                                               \
		}                                                                                  \
	}
	PORT_METRICS(PORT_FAMILY)
#undef PORT_FAMILY
}

struct service_count {
	uint16_t service;
	uint32_t by_state[3];
};

static int cmp_service_count(const void *a, const void *b)
{
	uint16_t x = ((const struct service_count *)a)->service;
	uint16_t y = ((const struct service_count *)b)->service;
	return (x > y) - (x < y);
}

static void render_services(struct text *t, const struct exporter *e, uint64_t now_ms)
{
	/* The cluster's instances of each service: those of up hosts' maps. */
	size_t n = 0;
	for (uint32_t k = 0; k < e->n_hosts; k++)
		n += e->hosts[k]->n_services;
	struct service_count *all = calloc(n ? n : 1, sizeof(*all));
	if (!all) {
		t->failed = true;
		return;
	}
	n = 0;
	for (uint32_t k = 0; k < e->n_hosts; k++) {
		const struct exp_host *h = e->hosts[k];
		bool up = host_up(e, h, now_ms);
		for (uint32_t s = 0; s < h->n_services; s++) {
			all[n].service = h->services[s].service;
			for (int state = 0; state < 3; state++)
				all[n].by_state[state] = up ? h->services[s].by_state[state] : 0;
			n++;
		}
	}
	qsort(all, n, sizeof(*all), cmp_service_count);
	family(t, "onvm_service_instances", "gauge",
	       "Instances of the service in the maps of the hosts that are up, by state.");
	for (size_t i = 0; i < n;) {
		size_t j = i + 1;
		uint32_t sum[3] = {all[i].by_state[0], all[i].by_state[1], all[i].by_state[2]};
		for (; j < n && all[j].service == all[i].service; j++)
			for (int state = 0; state < 3; state++)
				sum[state] += all[j].by_state[state];
		for (int state = 0; state < 3; state++) {
			text_printf(t, "onvm_service_instances");
			text_printf(t, "{service=\"%u\"", all[i].service);
			label(t, "state", bus_inst_state_name((enum bus_inst_state)state), false);
			value(t, sum[state]);
		}
		i = j;
	}
	free(all);
	family(t, "onvm_service_unserved_packets_per_second", "gauge",
	       "Packets per second for a service with no instance anywhere, dropped on arrival at "
	       "the host, latest stats period.");
	for (uint32_t k = 0; k < e->n_hosts; k++) {
		const struct exp_host *h = e->hosts[k];
		if (!host_up(e, h, now_ms))
			continue;
		for (uint32_t u = 0; u < h->n_unserved; u++) {
			text_printf(t, "onvm_service_unserved_packets_per_second");
			label(t, "host", h->name, true);
			u16_label(t, "service", h->unserved[u].service);
			value(t, h->unserved[u].pps);
		}
	}
	family(t, "onvm_service_unserved_packets_total", "counter",
	       "Packets for a service with no instance anywhere, dropped on arrival at the host "
	       "(rate times period, summed).");
	for (uint32_t k = 0; k < e->n_hosts; k++) {
		const struct exp_host *h = e->hosts[k];
		if (!host_up(e, h, now_ms))
			continue;
		for (uint32_t u = 0; u < h->n_unserved; u++) {
			text_printf(t, "onvm_service_unserved_packets_total");
			label(t, "host", h->name, true);
			u16_label(t, "service", h->unserved[u].service);
			value(t, (double)h->unserved[u].packets);
		}
	}
}

static void render_commands(struct text *t, const struct exporter *e)
{
	family(t, "onvm_commands_total", "counter",
	       "Commands sent to the host, by op, each command id once.");
	for (uint32_t k = 0; k < e->n_hosts; k++)
		for (int op = 0; op < 2; op++) {
			const struct exp_host *h = e->hosts[k];
			text_printf(t, "onvm_commands_total");
			label(t, "host", h->name, true);
			label(t, "op", bus_cmd_op_name((enum bus_cmd_op)op), false);
			value(t, (double)h->commands[op]);
		}
	family(t, "onvm_command_results_total", "counter",
	       "The host's answers to commands, by result, each (command id, result) once.");
	for (uint32_t k = 0; k < e->n_hosts; k++)
		for (int result = 0; result < RESULTS; result++) {
			const struct exp_host *h = e->hosts[k];
			text_printf(t, "onvm_command_results_total");
			label(t, "host", h->name, true);
			label(t, "result", bus_event_name((enum bus_event_kind)result), false);
			value(t, (double)h->results[result]);
		}
	family(t, "onvm_events_total", "counter",
	       "The host's events, by kind (exited: an instance ended on its own).");
	for (uint32_t k = 0; k < e->n_hosts; k++)
		for (int event = 0; event < 4; event++) {
			const struct exp_host *h = e->hosts[k];
			text_printf(t, "onvm_events_total");
			label(t, "host", h->name, true);
			label(t, "event", bus_event_name((enum bus_event_kind)event), false);
			value(t, (double)h->events[event]);
		}
}

static void render_engines(struct text *t, const struct exporter *e)
{
	const struct exp_engine *leader = NULL;
	for (uint32_t k = 0; k < e->n_engines && !leader; k++)
		if (e->engines[k].has_status && e->engines[k].status == BUS_STATUS_ONLINE)
			leader = &e->engines[k]; /* sorted: the smallest online id */
	family(t, "onvm_policy_engine_up", "gauge",
	       "Whether the policy engine announces itself online.");
	for (uint32_t k = 0; k < e->n_engines; k++) {
		const struct exp_engine *engine = &e->engines[k];
		if (!engine->has_status)
			continue;
		text_printf(t, "onvm_policy_engine_up");
		label(t, "engine", engine->id, true);
		label(t, "name", engine->name, false);
		value(t, engine->status == BUS_STATUS_ONLINE ? 1 : 0);
	}
	family(t, "onvm_policy_engine_leader", "gauge",
	       "Whether the engine leads (the online engine with the smallest id).");
	for (uint32_t k = 0; k < e->n_engines; k++) {
		const struct exp_engine *engine = &e->engines[k];
		if (!engine->has_status)
			continue;
		text_printf(t, "onvm_policy_engine_leader");
		label(t, "engine", engine->id, true);
		value(t, engine == leader ? 1 : 0);
	}
	family(
	    t, "onvm_policy_decisions_total", "counter",
	    "Decisions the engine published, by kind and role (leader, or shadow: sent nothing).");
	for (uint32_t k = 0; k < e->n_engines; k++)
		for (int kind = 0; kind < EXPORTER_DECISION_KINDS; kind++)
			for (int shadow = 0; shadow < 2; shadow++) {
				const struct exp_engine *engine = &e->engines[k];
				text_printf(t, "onvm_policy_decisions_total");
				label(t, "engine", engine->id, true);
				label(t, "kind", exporter_decision_kind_name(kind), false);
				label(t, "role", shadow ? "shadow" : "leader", false);
				value(t, (double)engine->decisions[kind][shadow]);
			}
}

static void render_exporter(struct text *t, const struct exporter *e)
{
	family(t, "onvm_bus_messages_total", "counter",
	       "Bus messages the exporter decoded and took in, by kind.");
	for (int kind = BUS_KIND_STATE; kind < BUS_KIND_COUNT; kind++) {
		text_printf(t, "onvm_bus_messages_total");
		label(t, "kind", bus_kind_name((enum bus_kind)kind), true);
		value(t, (double)e->messages[kind]);
	}
	family(t, "onvm_bus_rejected_messages_total", "counter",
	       "Bus messages the exporter's decoders rejected, by kind (unknown: not a contract "
	       "topic).");
	for (int kind = 0; kind < BUS_KIND_COUNT; kind++) {
		text_printf(t, "onvm_bus_rejected_messages_total");
		label(t, "kind", bus_kind_name((enum bus_kind)kind), true);
		value(t, (double)e->rejects[kind]);
	}
	family(t, "onvm_exporter_dropped_total", "counter",
	       "Entries the exporter did not track because a bound was reached, by what.");
	for (int what = 0; what < DROP_COUNT; what++) {
		text_printf(t, "onvm_exporter_dropped_total");
		label(t, "what", drop_names[what], true);
		value(t, (double)e->dropped[what]);
	}
	family(t, "onvm_exporter_hosts", "gauge", "Hosts the exporter tracks.");
	text_printf(t, "onvm_exporter_hosts %" PRIu32 "\n", e->n_hosts);
	family(t, "onvm_exporter_bus_connected", "gauge",
	       "Whether the exporter is connected to the broker.");
	text_printf(t, "onvm_exporter_bus_connected %d\n", e->connected ? 1 : 0);
}

char *exporter_render(const struct exporter *e, uint64_t now_ms, size_t *len)
{
	struct text t = {.cap = 16384};
	t.buf = malloc(t.cap);
	if (!t.buf)
		return NULL;
	t.buf[0] = '\0';
	render_hosts(&t, e, now_ms);
	render_instances(&t, e, now_ms);
	render_services(&t, e, now_ms);
	render_commands(&t, e);
	render_engines(&t, e);
	render_exporter(&t, e);
	if (t.failed) {
		free(t.buf);
		return NULL;
	}
	*len = t.len;
	return t.buf;
}
