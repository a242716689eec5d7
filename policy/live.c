/* SPDX-License-Identifier: BSD-3-Clause */
/* live.c - the policy daemon on the bus (see live.h). */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "bus_client.h"
#include "clock.h"
#include "run_control.h"
#include "core.h"
#include "inbox.h"
#include "ingest.h"
#include "live.h"
#include "log.h"
#include "onvm_version.h"
#include "topics.h"

#define QUEUE_MAX	 100000	    /* messages waiting for the core; more are dropped */
#define QUEUE_BYTES_MAX	 (64 << 20) /* ... and bytes: 1000 full-size payloads */
#define WAIT_MS		 200	    /* longest idle wait of the main loop */
#define REJECT_LOG_FIRST 20	    /* rejected payloads logged one by one ... */
#define REJECT_LOG_EVERY 1000	    /* ... then one in this many */

struct live {
	struct inbox inbox; /* its lock is never held calling paho */
	struct bus_client *client;
	char engine_topic[BUS_TOPIC_MAX];
	char *online_payload;
	uint64_t rejected;
};

/* The core's clock: monotonic, so a step of the wall clock moves no
 * deadline; the core stamps what it publishes with the wall clock's current
 * lead over it. */
static uint64_t live_now(struct policy_core *core)
{
	uint64_t now = onvm_mono_ms();
	policy_core_set_wall_offset(core, (int64_t)(onvm_wall_ms() - now));
	return now;
}

/* ---- paho's thread ---- */

static bool log_this_one(uint64_t count)
{
	return count <= REJECT_LOG_FIRST || count % REJECT_LOG_EVERY == 0;
}

static void on_message(void *ctx, const char *topic, const void *payload, size_t len, int retained)
{
	struct live *live = ctx;
	uint64_t count;
	switch (inbox_put(&live->inbox, topic, payload, len, retained != 0, &count)) {
	case INBOX_QUEUED:
		break;
	case INBOX_TOO_BIG:
		if (log_this_one(count))
			onvm_log(ONVM_LOG_WARNING,
				 "dropped %.100s: %zu bytes, over the bus's bounds "
				 "(%" PRIu64 " so far)",
				 topic, len, count);
		break;
	case INBOX_FULL:
		if (log_this_one(count))
			onvm_log(ONVM_LOG_WARNING,
				 "dropped %.100s: the queue is full (%d messages or %d "
				 "bytes; %" PRIu64 " so far)",
				 topic, QUEUE_MAX, QUEUE_BYTES_MAX, count);
		break;
	case INBOX_NO_MEMORY:
		if (log_this_one(count))
			onvm_log(ONVM_LOG_WARNING,
				 "dropped %.100s: out of memory (%" PRIu64 " so far)", topic,
				 count);
		break;
	}
}

/* The main loop announces the engine again: it owns the client pointer. */
static void on_connected(void *ctx)
{
	struct live *live = ctx;
	inbox_notify(&live->inbox);
}

static void on_disconnected(void *ctx, const char *cause)
{
	(void)ctx;
	onvm_log(ONVM_LOG_NOTICE, "connection lost (%s); reconnecting", cause);
}

/* ---- the sink ---- */

static void publish(void *ctx, const char *topic, int qos, bool retained, const char *payload,
		    size_t len)
{
	struct live *live = ctx;
	if (bus_client_publish(live->client, topic, payload, len, qos, retained) < 0)
		onvm_log(ONVM_LOG_WARNING, "could not publish on %s", topic);
}

/* ---- set-up ---- */

static int default_id(char *out, size_t outlen)
{
	char name[256];
	if (gethostname(name, sizeof(name)) < 0)
		return -1;
	name[sizeof(name) - 1] = '\0';
	name[strcspn(name, ".")] = '\0';
	snprintf(out, outlen, "%.*s", POLICY_ID_MAX, name);
	return 0;
}

static char *engine_payload(enum bus_status status, const char *name, uint64_t started_ms)
{
	struct bus_engine engine = {.status = status};
	if (status == BUS_STATUS_ONLINE) {
		engine.has_name = engine.has_started = true;
		snprintf(engine.name, sizeof(engine.name), "%s", name);
		engine.started_ms = started_ms;
		engine.has_version = true;
		snprintf(engine.version, sizeof(engine.version), "%s", ONVM_VERSION);
	}
	char *payload = NULL;
	char err[128];
	if (bus_encode_engine(&engine, &payload, err, sizeof(err)) < 0) {
		onvm_log(ONVM_LOG_ERR, "cannot encode the announcement: %s", err);
		return NULL;
	}
	return payload;
}

static int subscribe_all(struct bus_client *client)
{
	static const enum bus_kind kinds[] = {BUS_KIND_STATE,  BUS_KIND_SERVICES, BUS_KIND_STATS,
					      BUS_KIND_EVENTS, BUS_KIND_ALARMS,	  BUS_KIND_CMD,
					      BUS_KIND_ENGINE};
	for (size_t i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++) {
		char filter[BUS_TOPIC_MAX];
		if (bus_topic_filter(filter, sizeof(filter), kinds[i]) < 0 ||
		    bus_client_subscribe(client, filter, kinds[i] == BUS_KIND_STATS ? 0 : 1) < 0)
			return -1;
	}
	return 0;
}

/* ---- the main loop ---- */

static void handle(struct live *live, struct policy_core *core, struct policy_ingest *ingest,
		   const struct inbox_item *item)
{
	const struct bus_msg *msg = NULL;
	char why[256];
	int ret = policy_ingest_decode(ingest, item->topic, item->payload, item->len, &msg, why,
				       sizeof(why));
	if (ret < 0) {
		live->rejected++;
		if (log_this_one(live->rejected))
			onvm_log(ONVM_LOG_WARNING, "rejected %.100s (%" PRIu64 " so far): %s",
				 item->topic, live->rejected, why);
		return;
	}
	if (ret > 0)
		policy_core_handle(core, msg, item->retained, live_now(core));
}

/* SIGHUP: read the --services file again; a bad file keeps the old rules. */
static void reload_rules(struct policy_core *core, const char *path)
{
	if (!path) {
		onvm_log(ONVM_LOG_NOTICE, "SIGHUP: no --services file to reload");
		return;
	}
	struct service_rules rules;
	char err[512];
	if (service_rules_load(path, &rules, err, sizeof(err)) < 0)
		onvm_log(ONVM_LOG_WARNING, "reload of --services failed, old rules kept: %s", err);
	else if (policy_core_set_rules(core, &rules) < 0)
		onvm_log(ONVM_LOG_WARNING, "reload of --services: out of memory, old rules kept");
	else
		onvm_log(ONVM_LOG_NOTICE, "reloaded --services %s: %u services", path, rules.n);
	service_rules_free(&rules);
}

static void run_loop(struct live *live, struct policy_core *core, uint64_t grace_ms,
		     uint64_t stale_ms, const char *services)
{
	struct policy_ingest ingest;
	policy_ingest_init(&ingest);
	while (!run_stop_requested()) {
		bool reconnected;
		struct inbox_item *items =
		    inbox_take_all(&live->inbox, run_stop_requested() ? 0 : WAIT_MS, &reconnected);
		if (reconnected) {
			if (bus_client_publish(live->client, live->engine_topic,
					       live->online_payload, strlen(live->online_payload),
					       1, 1) < 0)
				onvm_log(ONVM_LOG_WARNING, "could not announce the engine");
			uint64_t now = live_now(core);
			policy_core_lead_after(core, now + grace_ms);
			policy_core_hold_repairs(core, now, now + stale_ms);
			onvm_log(ONVM_LOG_NOTICE, "connected; may lead in %" PRIu64 " ms",
				 grace_ms);
		}
		while (items) {
			struct inbox_item *next = items->next;
			handle(live, core, &ingest, items);
			free(items);
			items = next;
		}
		if (run_reload_requested())
			reload_rules(core, services);
		policy_core_tick(core, live_now(core));
	}
	policy_ingest_free(&ingest);
}

static struct bus_client *connect_bus(const struct policy_options *options, struct live *live,
				      const char *id, const char *offline_payload)
{
	char err[256];
	struct bus_client_options client_options = {
	    .will_topic = live->engine_topic,
	    .will_payload = offline_payload,
	    .will_qos = 1,
	    .will_retained = 1,
	};
	struct bus_client_callbacks callbacks = {
	    .message = on_message,
	    .connected = on_connected,
	    .disconnected = on_disconnected,
	    .ctx = live,
	};
	/* Several engines may share the policy identity: each has its own id. */
	struct bus_credentials credentials; /* client_options points into it */
	struct bus_client *client =
	    bus_options_connect(&options->bus, POLICY_USER_DEFAULT, id, &client_options,
				&credentials, &callbacks, err, sizeof(err));
	live->client = client;
	if (!client)
		onvm_log(ONVM_LOG_ERR, "%s", err);
	else if (subscribe_all(client) < 0)
		onvm_log(ONVM_LOG_ERR, "cannot subscribe");
	return client;
}

static void say_goodbye(struct live *live, const char *offline_payload)
{
	if (bus_client_is_connected(live->client))
		bus_client_publish(live->client, live->engine_topic, offline_payload,
				   strlen(offline_payload), 1, 1);
	usleep(200 * 1000); /* let the QoS 1 announcement leave */
	bus_client_stop(live->client);
}

static int run(const struct policy_options *options, const struct policy_engine_handle *engine,
	       struct live *live, const char *id, const char *offline_payload)
{
	char err[256];
	struct policy_sink sink = {.emit = publish, .ctx = live};
	struct policy_config config = {
	    .engine_id = id,
	    .params = options->params,
	    .rules = &options->rules,
	    .follow_engines = true,
	    .first_cmd_no = onvm_wall_ms() * 1000, /* ids stay unique across restarts */
	    .log = stdout,
	};
	struct policy_core *core = policy_core_create(&config, engine, &sink, err, sizeof(err));
	if (!core) {
		onvm_log(ONVM_LOG_ERR, "%s", err);
		return 1;
	}
	policy_core_lead_after(core, UINT64_MAX); /* not before connecting */
	run_stop_on_signals();
	run_reload_on_sighup();
	if (!connect_bus(options, live, id, offline_payload)) {
		policy_core_destroy(core);
		return 1;
	}
	onvm_log(ONVM_LOG_NOTICE, "engine %s (%s) on %s", id, engine->ops->name, options->bus.uri);
	run_loop(live, core, options->grace_ms, options->params.stale_ms, options->services);
	say_goodbye(live, offline_payload);
	struct policy_counters counters;
	policy_core_counters(core, &counters);
	struct inbox_counters queue;
	inbox_counters(&live->inbox, &queue);
	onvm_log(ONVM_LOG_NOTICE,
		 "stopped: %" PRIu64 " messages, %" PRIu64 " spawns, %" PRIu64 " stops, %" PRIu64
		 " commands; alarms: %" PRIu64 " received, %" PRIu64 " ignored, %" PRIu64
		 " spawns from them; dropped: %" PRIu64 " too big, %" PRIu64
		 " from a full queue, %" PRIu64 " out of memory",
		 counters.messages, counters.spawns, counters.stops, counters.commands,
		 counters.alarms, counters.alarms_ignored, counters.alarm_spawns, queue.too_big,
		 queue.full, queue.no_memory);
	policy_core_destroy(core);
	return 0;
}

int policy_live_run(const struct policy_options *options, const struct policy_engine_handle *engine)
{
	char id[BUS_NAME_LEN];
	if (options->id)
		snprintf(id, sizeof(id), "%s", options->id);
	else if (default_id(id, sizeof(id)) < 0) {
		onvm_log(ONVM_LOG_ERR, "no --id and no host name");
		return 1;
	}
	if (options->bus.root[0] && bus_topic_set_root(options->bus.root) < 0) {
		onvm_log(ONVM_LOG_ERR, "bad topic root '%s'", options->bus.root);
		return 1;
	}
	struct live live = {0};
	if (inbox_init(&live.inbox, QUEUE_MAX, QUEUE_BYTES_MAX) < 0) {
		onvm_log(ONVM_LOG_ERR, "cannot make the message queue");
		return 1;
	}
	int status = 1;
	char *offline = engine_payload(BUS_STATUS_OFFLINE, NULL, 0);
	live.online_payload = engine_payload(BUS_STATUS_ONLINE, engine->ops->name, onvm_wall_ms());
	if (bus_topic_engine(live.engine_topic, sizeof(live.engine_topic), id) < 0)
		onvm_log(ONVM_LOG_ERR, "bad engine id '%s'", id);
	else if (offline && live.online_payload)
		status = run(options, engine, &live, id, offline);
	free(offline);
	free(live.online_payload);
	inbox_destroy(&live.inbox); /* after bus_client_stop: no more puts */
	return status;
}
