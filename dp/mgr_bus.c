/* SPDX-License-Identifier: BSD-3-Clause */
/* mgr_bus.c - the manager on the MQTT bus (see mgr_bus.h). */
#include <errno.h>
#include <inttypes.h>
#include <numa.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "onvm_log.h"
#include "bus_client.h"
#include "clock.h"
#include "codec.h"
#include "mgr.h"
#include "mgr_bus.h"
#include "mgr_cmds.h"
#include "mgr_due.h"
#include "mgr_peers.h"
#include "mgr_stats.h"
#include "onvm_version.h"
#include "topics.h"

struct mgr_bus {
	struct onvm_mgr *mgr;
	struct bus_client *client;
	char host[BUS_NAME_LEN];
	char topic_state[BUS_TOPIC_MAX], topic_services[BUS_TOPIC_MAX];
	char topic_stats[BUS_TOPIC_MAX], topic_events[BUS_TOPIC_MAX];
	char topic_cmd[BUS_TOPIC_MAX], topic_alarms[BUS_TOPIC_MAX];
	uint64_t epoch_ms; /* wall */

	struct mgr_cmd_queue queue; /* paho thread -> control thread */

	volatile int republish; /* set on (re)connection */
	int last_free_cores;	/* as last published or being published; -1: never */
	uint32_t last_nb_insts; /* the service map, likewise */
	struct bus_service_inst last_insts[ONVM_MAX_INSTANCES];
	struct mgr_due state_due, services_due;
	uint64_t fit_notes; /* values the encoder had to clamp or leave out */
	uint64_t rejected;  /* bus messages refused (paho's thread writes) */

	struct mgr_cmd_window window; /* command ids, for at most once */

	struct bus_stats stats; /* reused every period: no allocation in steady state */

	struct mgr_peers peers;	 /* the other hosts, for remote members */
	struct bus_msg received; /* paho's thread: reused for every message */
};

/* Timestamps on the bus are wall time; every local deadline is mgr_now_ms(). */
static uint64_t wall_ms(void)
{
	return onvm_wall_ms();
}

/* ---- paho's thread ---- */

/* What other hosts say of themselves; 1 when msg was such a message. */
static int note_peer(struct mgr_bus *bus, const struct bus_msg *msg, int retained)
{
	uint64_t now = mgr_now_ms(); /* peers' freshness is a local deadline */
	switch (msg->kind) {
	case BUS_KIND_STATE:
		mgr_peers_note_state(&bus->peers, &msg->u.state, retained, now);
		return 1;
	case BUS_KIND_SERVICES:
		mgr_peers_note_services(&bus->peers, &msg->u.services, retained, now);
		return 1;
	case BUS_KIND_STATS:
		mgr_peers_note_stats(&bus->peers, &msg->u.stats, now);
		return 1;
	default:
		return 0;
	}
}

static void on_message(void *ctx, const char *topic, const void *payload, size_t len, int retained)
{
	struct mgr_bus *bus = ctx;
	struct mgr_queued_cmd item = {0};
	struct bus_msg *msg = &bus->received;
	struct bus_topic parsed;
	int is_cmd = bus_topic_parse(topic, &parsed) == 0 && parsed.kind == BUS_KIND_CMD;

	int ret = bus_decode_any(topic, payload, len, msg, item.error, sizeof(item.error));
	if (ret >= 0 && note_peer(bus, msg, retained)) { /* BUS_DECODE_CLEARED too */
		mgr_wake(bus->mgr);
		return;
	}
	if (ret == 0 && msg->kind == BUS_KIND_CMD && strcmp(msg->u.cmd.target, bus->host) == 0) {
		item.valid = 1;
		item.cmd = msg->u.cmd;
	} else if (ret == 0) {
		snprintf(item.error, sizeof(item.error), "not a command for %s: %s", bus->host,
			 topic);
	}
	if (!item.valid) {
		__atomic_fetch_add(&bus->rejected, 1, __ATOMIC_RELAXED);
		MGR_LOG(WARNING, "bus: rejected message on %s: %s", topic, item.error);
		if (is_cmd)
			bus_cmd_peek_id(payload, len, item.bad_id, sizeof(item.bad_id));
	}
	/* A bad message about another host is logged and counted, not answered:
	 * only a command gets a rejected event. */
	if (!item.valid && !is_cmd)
		return;

	uint64_t dropped = mgr_cmd_queue_put(&bus->queue, &item);
	/* Never silent (counted in stats as cmd_queue_drops), but not a line
	 * per command of a flood: the first drops, then every 1024th. */
	if (dropped && (dropped <= 8 || dropped % 1024 == 0))
		MGR_LOG(ERR,
			"bus: command queue full (%d waiting): dropped %s "
			"(%" PRIu64 " dropped so far)",
			MGR_CMD_QUEUE_SIZE - 1, item.valid ? item.cmd.id : "a bad command",
			dropped);
	mgr_wake(bus->mgr);
}

static void on_connected(void *ctx)
{
	struct mgr_bus *bus = ctx;
	bus->republish = 1;
	mgr_wake(bus->mgr);
	MGR_LOG(INFO, "bus: connected");
	fflush(stdout);
}

static void on_disconnected(void *ctx, const char *cause)
{
	(void)ctx;
	MGR_LOG(INFO, "bus: connection lost (%s); reconnecting, packets keep flowing", cause);
	fflush(stdout);
}

/* ---- control thread ---- */

/* 0, or -1 when the client could not take it (disconnected, or full). */
static int publish(struct mgr_bus *bus, const char *topic, const char *payload, int qos,
		   int retained)
{
	return bus_client_publish(bus->client, topic, payload, strlen(payload), qos, retained);
}

/* An encoder that had to clamp or leave out a value (an NF's shared memory
 * is not to be trusted) still gives a payload: say so, without a line per
 * period for the same bad value. */
static void note_fitted(struct mgr_bus *bus, const char *what, const char *note)
{
	if (note[0] == '\0')
		return;
	uint64_t count = ++bus->fit_notes;
	if (count <= 8 || count % 1024 == 0)
		MGR_LOG(WARNING, "bus: %s: %s (%" PRIu64 " so far)", what, note, count);
}

static void publish_event(struct mgr_bus *bus, const struct bus_event *event)
{
	char *payload = NULL;
	char err[128];
	if (bus_encode_event(event, &payload, err, sizeof(err)) < 0) {
		MGR_LOG(ERR, "bus: cannot encode event: %s", err);
		return;
	}
	note_fitted(bus, "event", err);
	publish(bus, bus->topic_events, payload, 1, 0);
	struct mgr_seen_cmd *seen =
	    event->has_cmd_id ? mgr_cmd_find(&bus->window, event->cmd_id) : NULL;
	if (seen)
		mgr_cmd_keep_answer(seen, payload); /* kept to answer a repeat */
	else
		free(payload);
}

/* A rejected command: cmd when it decoded, else NULL with its readable id
 * (bad_id, "" when it had none). */
static void reject(struct mgr_bus *bus, const struct bus_cmd *cmd, const char *bad_id,
		   const char *why)
{
	struct bus_event event = {.ts_ms = wall_ms(), .event = BUS_EV_REJECTED, .has_error = true};
	snprintf(event.host, sizeof(event.host), "%s", bus->host);
	snprintf(event.error, sizeof(event.error), "%s", why);
	if (!cmd && bad_id && bad_id[0]) {
		event.has_cmd_id = true;
		snprintf(event.cmd_id, sizeof(event.cmd_id), "%s", bad_id);
	}
	if (cmd) {
		event.service = cmd->service;
		event.has_cmd_id = true;
		snprintf(event.cmd_id, sizeof(event.cmd_id), "%s", cmd->id);
		if (cmd->op == BUS_OP_STOP) {
			event.has_instance = true;
			event.instance = cmd->instance;
		}
	}
	MGR_LOG(INFO, "bus: rejected %s: %s", event.has_cmd_id ? event.cmd_id : "a message", why);
	fflush(stdout);
	publish_event(bus, &event);
}

static void run_spawn(struct mgr_bus *bus, const struct bus_cmd *cmd)
{
	char err[BUS_TEXT_LEN];
	for (unsigned i = 0; i < cmd->count; i++) {
		if (mgr_nf_spawn(bus->mgr, cmd->service, cmd->id, err, sizeof(err)) < 0) {
			char why[BUS_TEXT_LEN];
			if (i == 0)
				snprintf(why, sizeof(why), "%s", err);
			else
				snprintf(why, sizeof(why), "%u of %u started; %.180s", i,
					 cmd->count, err);
			reject(bus, cmd, NULL, why);
			return;
		}
	}
	/* The spawned events follow as the NFs register. */
}

static void run_stop(struct mgr_bus *bus, const struct bus_cmd *cmd)
{
	char err[BUS_TEXT_LEN];
	const struct mgr_slot *target = NULL; /* the manager's record, not the NF's memory */
	for (unsigned slot = 0; slot < ONVM_MAX_INSTANCES; slot++) {
		const struct mgr_slot *bookkeeping = &bus->mgr->slots[slot];
		if (bookkeeping->state != ONVM_INST_FREE &&
		    bookkeeping->instance_id == cmd->instance)
			target = bookkeeping;
	}
	if (target && target->service_id != cmd->service) {
		snprintf(err, sizeof(err), "instance %u serves service %u, not %u", cmd->instance,
			 target->service_id, cmd->service);
		reject(bus, cmd, NULL, err);
		return;
	}
	if (mgr_nf_stop(bus->mgr, cmd->instance, cmd->id, err, sizeof(err)) < 0)
		reject(bus, cmd, NULL, err);
}

static void run_command(struct mgr_bus *bus, const struct bus_cmd *cmd)
{
	struct mgr_seen_cmd *seen;
	char why[BUS_TEXT_LEN];
	switch (mgr_cmd_admit(&bus->window, cmd, wall_ms(), &seen, why, sizeof(why))) {
	case MGR_CMD_REPEAT:
		/* At most once: answer a repeat with what the first got, nothing more. */
		MGR_LOG(INFO, "bus: command %s seen before; repeating its %u answer(s)", cmd->id,
			seen->nb_answers);
		for (unsigned i = 0; i < seen->nb_answers; i++)
			publish(bus, bus->topic_events, seen->answers[i], 1, 0);
		return;
	case MGR_CMD_REFUSE:
		reject(bus, cmd, NULL, why);
		return;
	case MGR_CMD_RUN:
		break;
	}
	MGR_LOG(INFO, "bus: command %s from %s: %s service %u", cmd->id, cmd->engine,
		bus_cmd_op_name(cmd->op), cmd->service);
	if (cmd->op == BUS_OP_SPAWN)
		run_spawn(bus, cmd);
	else
		run_stop(bus, cmd);
}

/* The offline state, as the Last Will (no time: the broker sends it later)
 * or at a clean exit (with the time).  NULL if it cannot be encoded. */
static char *offline_payload(const struct mgr_bus *bus, bool with_time)
{
	struct bus_state state = {
	    .status = BUS_STATUS_OFFLINE,
	    .has_ts_ms = with_time,
	    .ts_ms = with_time ? wall_ms() : 0,
	};
	snprintf(state.host, sizeof(state.host), "%s", bus->host);
	char *payload = NULL;
	char err[128];
	if (bus_encode_state(&state, &payload, err, sizeof(err)) < 0) {
		MGR_LOG(ERR, "bus: cannot encode the offline state: %s", err);
		return NULL;
	}
	return payload;
}

/* 1 when published (or unpublishable: nothing to retry), 0 to try again. */
static int publish_state(struct mgr_bus *bus, unsigned free_cores)
{
	struct bus_state state = {
	    .status = BUS_STATUS_ONLINE,
	    .has_ts_ms = true,
	    .has_epoch = true,
	    .has_cores = true,
	    .ts_ms = wall_ms(),
	    .epoch_ms = bus->epoch_ms,
	    .cores = {.total = mgr_total_cores(bus->mgr), .free = free_cores},
	    .has_version = true,
	    .version = ONVM_VERSION,
	};
	snprintf(state.host, sizeof(state.host), "%s", bus->host);
	const struct mgr_tunnel *tunnel = &bus->mgr->tunnel;
	if (tunnel->enabled) {
		state.has_tunnel = true;
		memcpy(state.tunnel.ip, tunnel->local.ip, sizeof(state.tunnel.ip));
		memcpy(state.tunnel.mac, tunnel->local.mac.addr_bytes, sizeof(state.tunnel.mac));
		state.tunnel.udp_port = tunnel->local.udp_port;
	}
	if (numa_available() >= 0) {
		state.has_numa = true;
		state.numa.nodes = (uint32_t)numa_num_configured_nodes();
	}
	char *payload = NULL;
	char err[128];
	if (bus_encode_state(&state, &payload, err, sizeof(err)) < 0) {
		MGR_LOG(ERR, "bus: cannot encode state: %s", err);
		return 1; /* the same again would fail too */
	}
	note_fitted(bus, "state", err);
	int ret = publish(bus, bus->topic_state, payload, 1, 1);
	free(payload);
	return ret == 0;
}

static enum bus_inst_state bus_state_of(uint32_t state)
{
	if (state == ONVM_INST_STARTING)
		return BUS_INST_STARTING;
	return state == ONVM_INST_RUNNING ? BUS_INST_RUNNING : BUS_INST_STOPPING;
}

/* The host's part of the service map, from the manager's slot records. */
static uint32_t collect_services(const struct mgr_bus *bus, struct bus_service_inst *insts)
{
	uint32_t count = 0;
	for (unsigned slot = 0; slot < ONVM_MAX_INSTANCES; slot++) {
		const struct mgr_slot *bookkeeping = &bus->mgr->slots[slot];
		uint32_t state = bookkeeping->state;
		if ((state != ONVM_INST_STARTING && state != ONVM_INST_RUNNING &&
		     state != ONVM_INST_STOPPING) ||
		    bookkeeping->standby)
			continue; /* warm standbys are not instances yet */
		insts[count++] = (struct bus_service_inst){
		    .service = bookkeeping->service_id,
		    .instance = bookkeeping->instance_id,
		    .core = (uint32_t)(bookkeeping->core < 0 ? 0 : bookkeeping->core),
		    .state = bus_state_of(state),
		};
	}
	return count;
}

/* The map as last collected: 1 when published (or unpublishable), 0 to try again. */
static int publish_services(struct mgr_bus *bus)
{
	struct bus_services services = {.ts_ms = wall_ms(),
					.n_insts = bus->last_nb_insts,
					.insts_cap = bus->last_nb_insts,
					.insts = bus->last_insts};
	snprintf(services.host, sizeof(services.host), "%s", bus->host);
	char *payload = NULL;
	char err[128];
	if (bus_encode_services(&services, &payload, err, sizeof(err)) < 0) {
		MGR_LOG(ERR, "bus: cannot encode services: %s", err);
		return 1; /* the same map would fail again */
	}
	note_fitted(bus, "services", err);
	int ret = publish(bus, bus->topic_services, payload, 1, 1);
	free(payload);
	if (ret < 0 && bus->services_due.not_before_ms == 0)
		MGR_LOG(WARNING, "bus: could not publish the service map; will retry");
	return ret == 0;
}

void mgr_bus_poll(struct mgr_bus *bus, uint64_t now)
{
	struct mgr_queued_cmd item;
	while (mgr_cmd_queue_take(&bus->queue, &item)) {
		if (item.valid)
			run_command(bus, &item.cmd);
		else
			reject(bus, NULL, item.bad_id, item.error);
	}

	int force = __atomic_exchange_n(&bus->republish, 0, __ATOMIC_ACQ_REL);
	unsigned free_cores = mgr_free_cores(bus->mgr);
	if (force || (int)free_cores != bus->last_free_cores) {
		bus->last_free_cores = (int)free_cores;
		mgr_due_changed(&bus->state_due);
	}
	if (mgr_due_now(&bus->state_due, now))
		mgr_due_tried(&bus->state_due, publish_state(bus, free_cores), now);
	if (force || bus->mgr->topology_changed) {
		bus->mgr->topology_changed = 0;
		struct bus_service_inst insts[ONVM_MAX_INSTANCES];
		uint32_t count = collect_services(bus, insts);
		if (force || count != bus->last_nb_insts ||
		    memcmp(insts, bus->last_insts, count * sizeof(insts[0])) != 0) {
			memcpy(bus->last_insts, insts, count * sizeof(insts[0]));
			bus->last_nb_insts = count;
			mgr_due_changed(&bus->services_due);
		}
	}
	if (mgr_due_now(&bus->services_due, now))
		mgr_due_tried(&bus->services_due, publish_services(bus), now);
	mgr_peers_apply(&bus->peers, &bus->mgr->shm->map, &bus->mgr->tunnel, now);
}

/* ---- hooks from the manager (control thread) ---- */

static void on_stats(void *ctx, const struct mgr_stats_snapshot *snapshot)
{
	struct mgr_bus *bus = ctx;
	struct bus_stats *stats = &bus->stats;
	if (snapshot->period_ms == 0)
		return; /* the first snapshot has no rates yet */
	stats->ts_ms = snapshot->ts_ms;
	stats->seq = snapshot->seq;
	stats->has_cmd_counts = true;
	stats->cmd_queue_drops = mgr_cmd_queue_drops(&bus->queue);
	stats->cmd_window_refusals = bus->window.refused_full;
	struct mgr_peer_counters peer_counters = mgr_peers_counters(&bus->peers);
	stats->has_reject_counts = true;
	stats->bus_rejects = __atomic_load_n(&bus->rejected, __ATOMIC_RELAXED);
	stats->peer_endpoint_rejects = peer_counters.endpoint_rejects;
	stats->peer_services_rejects = peer_counters.services_rejects;
	stats->period_ms = snapshot->period_ms;
	stats->n_ports = snapshot->nb_ports;
	for (unsigned i = 0; i < snapshot->nb_ports; i++) {
		const struct mgr_port_stats *port = &snapshot->ports[i];
		stats->ports[i] =
		    (struct bus_port_stats){port->port, port->rx_pps, port->tx_pps, port->drop_pps};
	}
	stats->n_insts = snapshot->nb_instances;
	for (unsigned i = 0; i < snapshot->nb_instances; i++) {
		const struct mgr_instance_stats *inst = &snapshot->instances[i];
		stats->insts[i] = (struct bus_inst_stats){
		    .instance = inst->instance,
		    .service = inst->service,
		    .core = (uint32_t)(inst->core < 0 ? 0 : inst->core),
		    .rx_pps = inst->rx_pps,
		    .tx_pps = inst->tx_pps,
		    .drop_pps = inst->drop_pps,
		    .ring_fill = inst->ring_fill,
		    .busy = inst->busy,
		    .has_first_rx = inst->first_rx_ms != 0,
		    .first_rx_ms = inst->first_rx_ms,
		};
	}
	/* Largest first: when more services than a message may list are
	 * unserved, the bound keeps the largest.  An empty list says none. */
	const struct mgr_unserved_period *unserved = &snapshot->unserved;
	stats->n_unserved = RTE_MIN(unserved->nb_counts, stats->unserved_cap);
	for (unsigned i = 0; i < stats->n_unserved; i++)
		stats->unserved[i] =
		    (struct bus_unserved){unserved->counts[i].service, unserved->counts[i].pps};
	char *payload = NULL;
	char err[128];
	if (bus_encode_stats(stats, &payload, err, sizeof(err)) < 0) {
		MGR_LOG(ERR, "bus: cannot encode stats: %s", err);
		return;
	}
	note_fitted(bus, "stats", err);
	publish(bus, bus->topic_stats, payload, 0, 0);
	free(payload);
}

/* QoS 1, not retained (docs/bus.md): an alarm is news, and stale to anyone
 * who connects later.  paho queues it; the sampler does not wait. */
static void on_alarm(void *ctx, const struct mgr_alarm_report *report)
{
	struct mgr_bus *bus = ctx;
	struct bus_alarm alarm = {
	    .ts_ms = report->ts_ms,
	    .service = report->service,
	    .instance = report->instance,
	    .drop_pps = report->drop_pps,
	    .ring_fill = report->ring_fill,
	    .since_ms = report->since_ms,
	};
	snprintf(alarm.host, sizeof(alarm.host), "%s", bus->host);
	char *payload = NULL;
	char err[128];
	if (bus_encode_alarm(&alarm, &payload, err, sizeof(err)) < 0) {
		MGR_LOG(ERR, "bus: cannot encode alarm: %s", err);
		return;
	}
	note_fitted(bus, "alarm", err);
	if (publish(bus, bus->topic_alarms, payload, 1, 0) < 0)
		MGR_LOG(WARNING, "bus: alarm of service %u instance %u not sent (not connected)",
			report->service, report->instance);
	free(payload);
}

static const enum bus_event_kind event_kinds[] = {
    [MGR_EVENT_SPAWNED] = BUS_EV_SPAWNED,
    [MGR_EVENT_REJECTED] = BUS_EV_REJECTED,
    [MGR_EVENT_STOPPED] = BUS_EV_STOPPED,
    [MGR_EVENT_EXITED] = BUS_EV_EXITED,
};

static void on_event(void *ctx, const struct mgr_event *event)
{
	struct mgr_bus *bus = ctx;
	struct bus_event message = {
	    .ts_ms = wall_ms(),
	    .event = event_kinds[event->kind],
	    .service = event->service,
	    .has_instance = event->instance != 0,
	    .instance = event->instance,
	    .has_core = event->core >= 0,
	    .core = (uint32_t)(event->core < 0 ? 0 : event->core),
	    .has_cmd_id = event->cmd_id != NULL,
	    .has_error = event->error != NULL,
	};
	snprintf(message.host, sizeof(message.host), "%s", bus->host);
	if (event->cmd_id)
		snprintf(message.cmd_id, sizeof(message.cmd_id), "%s", event->cmd_id);
	if (event->error)
		snprintf(message.error, sizeof(message.error), "%s", event->error);
	publish_event(bus, &message);
}

/* ---- start and stop ---- */

static int build_topics(struct mgr_bus *bus)
{
	int ret = bus_topic_host(bus->topic_state, BUS_TOPIC_MAX, bus->host, BUS_KIND_STATE);
	ret |= bus_topic_host(bus->topic_services, BUS_TOPIC_MAX, bus->host, BUS_KIND_SERVICES);
	ret |= bus_topic_host(bus->topic_stats, BUS_TOPIC_MAX, bus->host, BUS_KIND_STATS);
	ret |= bus_topic_host(bus->topic_events, BUS_TOPIC_MAX, bus->host, BUS_KIND_EVENTS);
	ret |= bus_topic_host(bus->topic_cmd, BUS_TOPIC_MAX, bus->host, BUS_KIND_CMD);
	ret |= bus_topic_host(bus->topic_alarms, BUS_TOPIC_MAX, bus->host, BUS_KIND_ALARMS);
	return ret ? -1 : 0;
}

int mgr_bus_start(struct onvm_mgr *mgr, struct mgr_bus **bus_out)
{
	const struct mgr_config *config = &mgr->config;
	struct mgr_bus *bus = calloc(1, sizeof(*bus));
	if (bus == NULL)
		return -1;
	bus->mgr = mgr;
	bus->epoch_ms = wall_ms();
	bus->last_free_cores = -1;
	bus->received = (struct bus_msg)BUS_MSG_INIT;
	mgr_cmd_queue_init(&bus->queue);
	if (mgr_peers_init(&bus->peers, config->host) < 0) {
		mgr_cmd_queue_destroy(&bus->queue);
		free(bus);
		return -1;
	}
	if (mgr->tunnel.enabled)
		mgr_peer_rules_init(&bus->peers.rules, config->fabric_ip, config->fabric_prefix,
				    mgr->tunnel.local.ip, mgr->tunnel.local.mac.addr_bytes);
	snprintf(bus->host, sizeof(bus->host), "%s", config->host);
	bus->stats.ports = calloc(ONVM_MAX_PORTS, sizeof(*bus->stats.ports));
	bus->stats.insts = calloc(ONVM_MAX_INSTANCES, sizeof(*bus->stats.insts));
	bus->stats.unserved = calloc(BUS_MAX_UNSERVED, sizeof(*bus->stats.unserved));
	bus->stats.ports_cap = ONVM_MAX_PORTS;
	bus->stats.insts_cap = ONVM_MAX_INSTANCES;
	bus->stats.unserved_cap = BUS_MAX_UNSERVED;
	snprintf(bus->stats.host, sizeof(bus->stats.host), "%s", config->host);

	char err[256];
	if ((config->bus.root[0] && bus_topic_set_root(config->bus.root) != 0) ||
	    build_topics(bus) < 0 || !bus->stats.ports || !bus->stats.insts ||
	    !bus->stats.unserved) {
		MGR_LOG(ERR, "bus: bad host name or topic root");
		mgr_bus_stop(bus);
		return -1;
	}
	char *will = offline_payload(bus, false);
	if (will == NULL) {
		mgr_bus_stop(bus);
		return -1;
	}
	struct bus_client_options options = {
	    .will_topic = bus->topic_state,
	    .will_payload = will,
	    .will_qos = 1,
	    .will_retained = 1,
	    .persistent_session = 1,
	    .keepalive_s = config->bus_keepalive_s,
	};
	/* A manager is its identity: one connection, client id = identity. */
	struct bus_credentials credentials;
	if (bus_options_client(&config->bus, bus->host, NULL, &options, &credentials, err,
			       sizeof(err)) < 0) {
		MGR_LOG(ERR, "bus: %s", err);
		free(will);
		mgr_bus_stop(bus);
		return -1;
	}
	struct bus_client_callbacks callbacks = {
	    .message = on_message,
	    .connected = on_connected,
	    .disconnected = on_disconnected,
	    .ctx = bus,
	};
	bus->client = bus_client_start(&options, &callbacks, err, sizeof(err));
	explicit_bzero(credentials.password, sizeof(credentials.password));
	free(will); /* the client keeps its own copy */
	if (bus->client == NULL) {
		MGR_LOG(ERR, "bus: %s", err);
		mgr_bus_stop(bus);
		return -1;
	}
	bus_client_subscribe(bus->client, bus->topic_cmd, 1);
	/* The other hosts: their instances become remote members of services. */
	static const enum bus_kind peer_kinds[] = {BUS_KIND_STATE, BUS_KIND_SERVICES,
						   BUS_KIND_STATS};
	for (unsigned i = 0; i < sizeof(peer_kinds) / sizeof(peer_kinds[0]); i++) {
		char filter[BUS_TOPIC_MAX];
		if (bus_topic_filter(filter, sizeof(filter), peer_kinds[i]) == 0)
			bus_client_subscribe(bus->client, filter,
					     peer_kinds[i] == BUS_KIND_STATS ? 0 : 1);
	}
	mgr->stats_fn = on_stats;
	mgr->stats_ctx = bus;
	mgr->event_fn = on_event;
	mgr->event_ctx = bus;
	mgr->alarm_fn = on_alarm;
	mgr->alarm_ctx = bus;
	MGR_LOG(INFO, "bus: host %s, broker %s as %s, keepalive %u s", bus->host, config->bus.uri,
		credentials.client_id, config->bus_keepalive_s);
	*bus_out = bus;
	return 0;
}

int mgr_bus_connected(const struct mgr_bus *bus)
{
	return bus && bus->client && bus_client_is_connected(bus->client);
}

void mgr_bus_stop(struct mgr_bus *bus)
{
	if (bus == NULL)
		return;
	if (bus->mgr->event_ctx == bus) {
		bus->mgr->event_fn = NULL;
		bus->mgr->stats_fn = NULL;
		bus->mgr->alarm_fn = NULL;
	}
	if (bus->client) {
		/* A clean exit: no map, and offline (the Last Will is not sent on a
		 * clean disconnect). */
		bus_client_publish(bus->client, bus->topic_services, "", 0, 1, 1);
		char *offline = offline_payload(bus, true);
		if (offline)
			publish(bus, bus->topic_state, offline, 1, 1);
		free(offline);
		bus_client_stop(bus->client);
	}
	mgr_cmd_window_free(&bus->window);
	free(bus->stats.ports);
	free(bus->stats.insts);
	free(bus->stats.unserved);
	bus_msg_free(&bus->received);
	mgr_peers_destroy(&bus->peers);
	mgr_cmd_queue_destroy(&bus->queue);
	free(bus);
}
