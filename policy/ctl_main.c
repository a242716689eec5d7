/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * ctl_main.c - onvm-ctl: the command line for people.  The logic (the
 * command line, the tables, the requests, the watch lines) is ctl.c; this
 * file runs the MQTT client and the clock.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bus_client.h"
#include "clock.h"
#include "ctl.h"
#include "ingest.h"
#include "log.h"
#include "onvm_version.h"
#include "run_control.h"

#define SLICE_MS 100 /* the main thread looks at signals this often */

/* Shared with paho's thread; the lock is never held while calling the client. */
struct ctl_run {
	const struct ctl_options *options;
	pthread_mutex_t lock;
	pthread_cond_t changed;
	bool subscribed; /* the subscriptions went out: a command may follow them */
	struct policy_ingest ingest;
	struct ctl_cluster *cluster;
	struct ctl_watch watch;
	bool has_request;
	struct ctl_request request;
	uint64_t watched; /* messages printed by watch */
};

static void on_connected(void *ctx)
{
	struct ctl_run *run = ctx;
	pthread_mutex_lock(&run->lock);
	run->subscribed = true;
	pthread_cond_broadcast(&run->changed);
	pthread_mutex_unlock(&run->lock);
}

static void on_disconnected(void *ctx, const char *cause)
{
	(void)ctx;
	fprintf(stderr, "onvm-ctl: connection lost (%s); reconnecting\n", cause);
}

static void on_message(void *ctx, const char *topic, const void *payload, size_t len, int retained)
{
	struct ctl_run *run = ctx;
	const struct bus_msg *msg = NULL;
	char err[256], line[CTL_LINE_LEN];
	pthread_mutex_lock(&run->lock);
	int ret = policy_ingest_decode(&run->ingest, topic, payload, len, &msg, err, sizeof(err));
	if (run->options->verb == CTL_WATCH) {
		if (run->options->messages && run->watched >= run->options->messages)
			goto out;
		if (ret > 0)
			ctl_watch_line(&run->watch, msg, retained != 0, line, sizeof(line));
		else
			snprintf(line, sizeof(line), "%s %.200s: %s",
				 ret < 0 ? "rejected" : "other", topic, err);
		printf("%s\n", line);
		fflush(stdout);
		run->watched++;
	} else if (ret < 0) {
		fprintf(stderr, "onvm-ctl: rejected %.200s: %s\n", topic, err);
	} else if (ret > 0) {
		if (ctl_cluster_feed(run->cluster, msg) < 0)
			fprintf(stderr, "onvm-ctl: %.200s skipped: out of memory or too many\n",
				topic);
		if (run->has_request && msg->kind == BUS_KIND_EVENTS &&
		    ctl_request_event(&run->request, &msg->u.event, line, sizeof(line)) > 0) {
			printf("%s\n", line);
			fflush(stdout);
		}
	}
out:
	pthread_cond_broadcast(&run->changed);
	pthread_mutex_unlock(&run->lock);
}

/* Wait, with the lock held, until done(run) or deadline (monotonic ms) or a signal. */
static bool wait_until(struct ctl_run *run, bool (*done)(const struct ctl_run *), uint64_t deadline)
{
	while (!done(run) && !run_stop_requested()) {
		uint64_t now = onvm_mono_ms();
		if (now >= deadline)
			return false;
		struct timespec ts;
		uint64_t left = deadline - now;
		onvm_mono_deadline(&ts, (unsigned)(left < SLICE_MS ? left : SLICE_MS));
		pthread_cond_timedwait(&run->changed, &run->lock, &ts);
	}
	return done(run);
}

static bool is_subscribed(const struct ctl_run *run)
{
	return run->subscribed;
}

static bool is_settled(const struct ctl_run *run)
{
	return ctl_cluster_settled(run->cluster);
}

static bool never(const struct ctl_run *run)
{
	(void)run;
	return false;
}

static bool request_finished(const struct ctl_run *run)
{
	return run->request.finished;
}

static bool watch_finished(const struct ctl_run *run)
{
	return run->options->messages && run->watched >= run->options->messages;
}

static bool stop_target_known(const struct ctl_run *run)
{
	uint16_t service;
	return ctl_cluster_instance(run->cluster, run->options->host, run->options->instance,
				    &service);
}

static int subscribe(struct bus_client *client, enum bus_kind kind, const char *host)
{
	char filter[BUS_TOPIC_MAX];
	int ret = host ? bus_topic_host(filter, sizeof(filter), host, kind)
		       : bus_topic_filter(filter, sizeof(filter), kind);
	return ret < 0 ? -1 : bus_client_subscribe(client, filter, 1);
}

/* What each verb reads. */
static int subscribe_verb(struct bus_client *client, const struct ctl_options *o)
{
	switch (o->verb) {
	case CTL_HOSTS:
	case CTL_SERVICES:
	case CTL_INSTANCES:
		return subscribe(client, BUS_KIND_STATE, NULL) |
		       subscribe(client, BUS_KIND_SERVICES, NULL) |
		       subscribe(client, BUS_KIND_STATS, NULL);
	case CTL_ENGINES:
		return subscribe(client, BUS_KIND_ENGINE, NULL);
	case CTL_SPAWN:
	case CTL_STOP:
		return subscribe(client, BUS_KIND_STATE, o->host) |
		       subscribe(client, BUS_KIND_SERVICES, o->host) |
		       subscribe(client, BUS_KIND_EVENTS, o->host);
	case CTL_WATCH:
		return subscribe(client, BUS_KIND_UNKNOWN, NULL);
	}
	return -1;
}

static struct bus_client *connect_bus(struct ctl_run *run)
{
	const struct ctl_options *o = run->options;
	char suffix[32], err[256];
	snprintf(suffix, sizeof(suffix), "ctl-%ld", (long)getpid());
	struct bus_client_options client_options = {0};
	struct bus_client_callbacks callbacks = {
	    .message = on_message,
	    .connected = on_connected,
	    .disconnected = on_disconnected,
	    .ctx = run,
	};
	struct bus_credentials credentials; /* client_options points into it */
	struct bus_client *client =
	    bus_options_connect(&o->bus, ctl_default_user(o->verb), suffix, &client_options,
				&credentials, &callbacks, err, sizeof(err));
	if (!client) {
		fprintf(stderr, "onvm-ctl: %s\n", err);
		return NULL;
	}
	if (subscribe_verb(client, o) < 0) {
		fprintf(stderr, "onvm-ctl: cannot subscribe\n");
		bus_client_stop(client);
		return NULL;
	}
	pthread_mutex_lock(&run->lock);
	bool up = wait_until(run, is_subscribed, onvm_mono_ms() + o->connect_ms);
	pthread_mutex_unlock(&run->lock);
	if (!up) {
		if (!run_stop_requested())
			fprintf(stderr,
				"onvm-ctl: cannot reach the broker at %s within %llu ms "
				"(not running, unreachable, or it refused identity %s)\n",
				o->bus.uri, (unsigned long long)o->connect_ms,
				client_options.client_id);
		bus_client_stop(client);
		return NULL;
	}
	return client;
}

static void print_table(const struct ctl_run *run)
{
	const struct ctl_options *o = run->options;
	switch (o->verb) {
	case CTL_HOSTS:
		ctl_print_hosts(run->cluster, o->host, o->json, stdout);
		break;
	case CTL_SERVICES:
		ctl_print_services(run->cluster, o->host, o->json, stdout);
		break;
	case CTL_INSTANCES:
		ctl_print_instances(run->cluster, o->host, o->json, stdout);
		break;
	case CTL_ENGINES:
		ctl_print_engines(run->cluster, o->json, stdout);
		break;
	default:
		break;
	}
}

/* Send the command and wait for its answer: 0 done, 1 refused or unanswered. */
static int run_command(struct ctl_run *run, struct bus_client *client)
{
	const struct ctl_options *o = run->options;
	struct ctl_options cmd_options = *o;
	pthread_mutex_lock(&run->lock);
	if (o->verb == CTL_STOP && !o->service) {
		/* The retained map names the instance's service. */
		wait_until(run, stop_target_known, onvm_mono_ms() + o->wait_ms);
		if (!ctl_cluster_instance(run->cluster, o->host, o->instance,
					  &cmd_options.service)) {
			pthread_mutex_unlock(&run->lock);
			fprintf(stderr,
				"onvm-ctl: %s's services map lists no instance %u (give -s "
				"SERVICE to send the stop anyway)\n",
				o->host, (unsigned)o->instance);
			return 1;
		}
	}
	char id[BUS_NAME_LEN], topic[BUS_TOPIC_MAX], err[256];
	uint64_t now = onvm_wall_ms();
	ctl_make_id(id, sizeof(id), (long)getpid(), now);
	struct bus_cmd cmd;
	ctl_build_cmd(&cmd_options, id, now, &cmd);
	char *payload = NULL;
	if (bus_topic_host(topic, sizeof(topic), o->host, BUS_KIND_CMD) < 0 ||
	    bus_encode_cmd(&cmd, &payload, err, sizeof(err)) < 0) {
		pthread_mutex_unlock(&run->lock);
		fprintf(stderr, "onvm-ctl: cannot encode the command: %s\n", err);
		return 1;
	}
	/* Set up before it is sent: its answer cannot come before. */
	ctl_request_init(&run->request, &cmd);
	run->has_request = true;
	printf("sending %s to %s: %s service %u", id, o->host, bus_cmd_op_name(cmd.op),
	       cmd.service);
	if (cmd.op == BUS_OP_STOP)
		printf(" instance %u\n", (unsigned)cmd.instance);
	else
		printf(" count %u\n", (unsigned)cmd.count);
	fflush(stdout);
	pthread_mutex_unlock(&run->lock);

	int sent = bus_client_publish(client, topic, payload, strlen(payload), 1, 0);
	free(payload);
	if (sent < 0) {
		fprintf(stderr, "onvm-ctl: could not publish on %s\n", topic);
		return 1;
	}

	pthread_mutex_lock(&run->lock);
	bool finished = wait_until(run, request_finished, onvm_mono_ms() + o->timeout_ms);
	bool ok = run->request.ok;
	uint32_t spawned = run->request.spawned;
	const struct bus_state *state = ctl_cluster_state(run->cluster, o->host);
	bool offline = state && state->status == BUS_STATUS_OFFLINE;
	bool unknown = !state;
	pthread_mutex_unlock(&run->lock);
	if (finished)
		return ok ? 0 : 1;
	if (!run_stop_requested())
		fprintf(stderr, "onvm-ctl: no %s from %s within %llu ms%s%s (command %s expired)\n",
			cmd.op == BUS_OP_SPAWN && spawned ? "complete answer" : "answer", o->host,
			(unsigned long long)o->timeout_ms, offline ? "; it is offline" : "",
			unknown ? "; no such host on the bus" : "", id);
	return 1;
}

static int run_ctl(const struct ctl_options *o)
{
	struct ctl_run run = {.options = o};
	run.cluster = ctl_cluster_create();
	if (!run.cluster) {
		fprintf(stderr, "onvm-ctl: out of memory\n");
		return 1;
	}
	pthread_condattr_t attr;
	onvm_mono_condattr(&attr);
	pthread_cond_init(&run.changed, &attr);
	pthread_condattr_destroy(&attr);
	pthread_mutex_init(&run.lock, NULL);
	policy_ingest_init(&run.ingest);
	run_stop_on_signals();

	int status = 1;
	struct bus_client *client = connect_bus(&run);
	if (client) {
		switch (o->verb) {
		case CTL_SPAWN:
		case CTL_STOP:
			status = run_command(&run, client);
			break;
		case CTL_WATCH:
			pthread_mutex_lock(&run.lock);
			wait_until(&run, watch_finished, UINT64_MAX);
			pthread_mutex_unlock(&run.lock);
			status = 0;
			break;
		default:
			pthread_mutex_lock(&run.lock);
			wait_until(&run, o->verb == CTL_ENGINES ? never : is_settled,
				   onvm_mono_ms() + o->wait_ms);
			pthread_mutex_unlock(&run.lock);
			status = 0;
			break;
		}
		bus_client_stop(client); /* no callback runs after this */
		if (status == 0 && o->verb != CTL_WATCH && o->verb != CTL_SPAWN &&
		    o->verb != CTL_STOP)
			print_table(&run);
		fflush(stdout);
	}
	policy_ingest_free(&run.ingest);
	ctl_cluster_destroy(run.cluster);
	pthread_mutex_destroy(&run.lock);
	pthread_cond_destroy(&run.changed);
	return status;
}

int main(int argc, char **argv)
{
	struct ctl_options options;
	char err[512];
	onvm_log_init("onvm-ctl");
	int ret = ctl_parse(argc, argv, &options, err, sizeof(err));
	if (ret == CTL_PARSE_VERSION) {
		onvm_version_print(stdout, "onvm-ctl");
		return 0;
	}
	if (ret == CTL_PARSE_HELP) {
		ctl_usage(stdout, argv[0]);
		return 0;
	}
	if (ret < 0) {
		fprintf(stderr, "onvm-ctl: %s\n", err);
		ctl_usage(stderr, argv[0]);
		return 2;
	}
	if (options.bus.root[0] && bus_topic_set_root(options.bus.root) < 0) {
		fprintf(stderr, "onvm-ctl: bad --bus-root '%s'\n", options.bus.root);
		return 2;
	}
	return run_ctl(&options);
}
