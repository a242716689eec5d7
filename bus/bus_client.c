/* SPDX-License-Identifier: BSD-3-Clause */
/* bus_client.c - MQTT client with background reconnection (see bus_client.h). */
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <MQTTAsync.h>

#include "bus_client.h"
#include "log.h"
#include "clock.h"

#define MAX_SUBSCRIPTIONS 16
#define FILTER_MAX	  256

struct subscription {
	char filter[FILTER_MAX];
	int qos;
};

struct bus_client {
	MQTTAsync handle;
	struct bus_client_options options;
	struct bus_client_callbacks callbacks;
	char *uri, *client_id, *username, *password, *ca_file, *cert_file, *key_file, *will_topic,
	    *will_payload;

	pthread_mutex_t lock; /* guards the fields below; never held while calling paho */
	pthread_cond_t wake;
	pthread_t reconnect_thread;
	int connected;
	int connecting;
	int stopping;
	unsigned retry_ms;
	struct subscription subscriptions[MAX_SUBSCRIPTIONS];
	unsigned nb_subscriptions;
	char last_failure[160]; /* paho's thread only */
	unsigned seed;

	/* Counters: written on paho's or the owner's thread, read anywhere. */
	struct bus_client_counters counters;
};

static void count(uint64_t *counter)
{
	__atomic_fetch_add(counter, 1, __ATOMIC_RELAXED);
}

static char *copy_or_null(const char *text)
{
	return text ? strdup(text) : NULL;
}

static void subscribe_one(struct bus_client *client, const char *filter, int qos)
{
	MQTTAsync_responseOptions response = MQTTAsync_responseOptions_initializer;
	int ret = MQTTAsync_subscribe(client->handle, filter, qos, &response);
	if (ret != MQTTASYNC_SUCCESS)
		onvm_log(ONVM_LOG_WARNING, "bus: subscribe %s failed (%d)", filter, ret);
}

static void subscribe_all(struct bus_client *client)
{
	struct subscription copy[MAX_SUBSCRIPTIONS];
	pthread_mutex_lock(&client->lock);
	unsigned count_now = client->nb_subscriptions;
	memcpy(copy, client->subscriptions, sizeof(copy[0]) * count_now);
	pthread_mutex_unlock(&client->lock);
	for (unsigned i = 0; i < count_now; i++)
		subscribe_one(client, copy[i].filter, copy[i].qos);
}

/* The broker's TCP port from a tcp://, mqtt://, ssl:// or mqtts:// URI. */
static int broker_port(const char *uri)
{
	const char *host = strstr(uri, "://");
	host = host ? host + 3 : uri;
	const char *colon = strrchr(host, ':');
	if (colon && colon[1] >= '0' && colon[1] <= '9')
		return atoi(colon + 1);
	return strncmp(uri, "ssl", 3) == 0 || strncmp(uri, "mqtts", 5) == 0 ? 8883 : 1883;
}

static int peer_port(int fd)
{
	struct sockaddr_storage peer;
	socklen_t length = sizeof(peer);
	if (getpeername(fd, (struct sockaddr *)&peer, &length) != 0)
		return -1;
	if (peer.ss_family == AF_INET)
		return ntohs(((struct sockaddr_in *)&peer)->sin_port);
	if (peer.ss_family == AF_INET6)
		return ntohs(((struct sockaddr_in6 *)&peer)->sin6_port);
	return -1;
}

/*
 * paho leaves Nagle's algorithm on and has no hook to turn it off.  With it
 * on, a message sent while the previous one is unacknowledged waits for the
 * broker's delayed ACK: 40 ms on Linux, seen between a manager's "spawned"
 * event and the services map that follows it.  So, once connected, turn it
 * off on this process's TCP sockets to the broker's port.
 */
static void no_delay_to_broker(const struct bus_client *client)
{
	int port = broker_port(client->uri);
	struct rlimit limit;
	int max_fd = getrlimit(RLIMIT_NOFILE, &limit) == 0 && limit.rlim_cur < 4096
			 ? (int)limit.rlim_cur
			 : 4096;
	for (int fd = 0; fd < max_fd; fd++) {
		int type;
		socklen_t length = sizeof(type);
		if (getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &length) != 0 ||
		    type != SOCK_STREAM || peer_port(fd) != port)
			continue;
		int on = 1;
		setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &on, sizeof(on));
	}
}

static void on_connect(void *context, MQTTAsync_successData *response)
{
	struct bus_client *client = context;
	(void)response;
	pthread_mutex_lock(&client->lock);
	client->connected = 1;
	client->connecting = 0;
	client->retry_ms = client->options.retry_min_ms;
	pthread_cond_broadcast(&client->wake);
	pthread_mutex_unlock(&client->lock);
	client->last_failure[0] = '\0';
	count(&client->counters.connects);
	no_delay_to_broker(client);
	subscribe_all(client);
	if (client->callbacks.connected)
		client->callbacks.connected(client->callbacks.ctx);
}

/* Ask the reconnect thread to try again after the current back-off. */
static void schedule_reconnect(struct bus_client *client)
{
	pthread_mutex_lock(&client->lock);
	client->connected = 0;
	client->connecting = 0;
	pthread_cond_broadcast(&client->wake);
	pthread_mutex_unlock(&client->lock);
}

/* Say why a connection failed, once per new reason: a refused certificate
 * or identity must not be silent, nor fill the log every two seconds. */
static void report_connect_failure(struct bus_client *client, const MQTTAsync_failureData *response)
{
	char reason[sizeof(client->last_failure)];
	snprintf(reason, sizeof(reason), "%s (code %d)",
		 response && response->message ? response->message : "no answer",
		 response ? response->code : 0);
	if (strcmp(reason, client->last_failure) == 0)
		return;
	snprintf(client->last_failure, sizeof(client->last_failure), "%s", reason);
	onvm_log(ONVM_LOG_WARNING, "bus: cannot connect to %s as %s: %s; retrying", client->uri,
		 client->client_id, reason);
}

static void on_connect_failure(void *context, MQTTAsync_failureData *response)
{
	struct bus_client *client = context;
	report_connect_failure(client, response);
	schedule_reconnect(client);
}

static void on_connection_lost(void *context, char *cause)
{
	struct bus_client *client = context;
	count(&client->counters.connection_losses);
	if (client->callbacks.disconnected)
		client->callbacks.disconnected(client->callbacks.ctx, cause ? cause : "unknown");
	schedule_reconnect(client);
}

static int on_message(void *context, char *topic, int topic_len, MQTTAsync_message *message)
{
	struct bus_client *client = context;
	char topic_copy[FILTER_MAX * 2];
	const char *topic_text = topic;
	if (topic_len > 0) {
		/* Not NUL-terminated (it may hold a NUL): copy what fits. */
		size_t length = (size_t)topic_len < sizeof(topic_copy) - 1 ? (size_t)topic_len
									   : sizeof(topic_copy) - 1;
		memcpy(topic_copy, topic, length);
		topic_copy[length] = '\0';
		topic_text = topic_copy;
	}
	count(&client->counters.received);
	if (client->callbacks.message)
		client->callbacks.message(client->callbacks.ctx, topic_text, message->payload,
					  (size_t)message->payloadlen, message->retained);
	MQTTAsync_freeMessage(&message);
	MQTTAsync_free(topic);
	return 1;
}

static void start_connect(struct bus_client *client)
{
	MQTTAsync_connectOptions connect = MQTTAsync_connectOptions_initializer;
	MQTTAsync_willOptions will = MQTTAsync_willOptions_initializer;
	MQTTAsync_SSLOptions ssl = MQTTAsync_SSLOptions_initializer;

	connect.keepAliveInterval = (int)client->options.keepalive_s;
	connect.cleansession = !client->options.persistent_session;
	connect.username = client->username;
	connect.password = client->password;
	connect.connectTimeout = 2;
	connect.onSuccess = on_connect;
	connect.onFailure = on_connect_failure;
	connect.context = client;
	if (client->will_topic) {
		will.topicName = client->will_topic;
		will.message = client->will_payload ? client->will_payload : "";
		will.qos = client->options.will_qos;
		will.retained = client->options.will_retained;
		connect.will = &will;
	}
	if (strncmp(client->uri, "ssl://", 6) == 0 || strncmp(client->uri, "mqtts://", 8) == 0) {
		ssl.trustStore = client->ca_file;
		ssl.keyStore = client->cert_file;
		ssl.privateKey = client->key_file;
		ssl.enableServerCertAuth = 1;
		ssl.verify = 1;
		connect.ssl = &ssl;
	}
	int ret = MQTTAsync_connect(client->handle, &connect);
	if (ret != MQTTASYNC_SUCCESS)
		schedule_reconnect(client);
}

/* Jitter: a delay between half and all of the back-off. */
static unsigned jittered(struct bus_client *client, unsigned delay_ms)
{
	return delay_ms / 2 + (unsigned)rand_r(&client->seed) % (delay_ms / 2 + 1);
}

static void *reconnect_loop(void *arg)
{
	struct bus_client *client = arg;
	unsigned delay_ms = 0; /* the first attempt goes at once */

	pthread_mutex_lock(&client->lock);
	while (!client->stopping) {
		if (client->connected || client->connecting) {
			pthread_cond_wait(&client->wake, &client->lock);
			continue;
		}
		/* Wait out the back-off, unless told to stop (wake's clock is
		 * monotonic: a wall-clock step neither cuts nor stretches it). */
		struct timespec until;
		onvm_mono_deadline(&until, delay_ms);
		while (!client->stopping &&
		       pthread_cond_timedwait(&client->wake, &client->lock, &until) != ETIMEDOUT)
			;
		if (client->stopping)
			break;
		client->connecting = 1;
		delay_ms = jittered(client, client->retry_ms);
		client->retry_ms = client->retry_ms * 2 > client->options.retry_max_ms
				       ? client->options.retry_max_ms
				       : client->retry_ms * 2;
		pthread_mutex_unlock(&client->lock);
		start_connect(client);
		pthread_mutex_lock(&client->lock);
	}
	pthread_mutex_unlock(&client->lock);
	return NULL;
}

static void free_client(struct bus_client *client)
{
	free(client->uri);
	free(client->client_id);
	free(client->username);
	free(client->password);
	free(client->ca_file);
	free(client->cert_file);
	free(client->key_file);
	free(client->will_topic);
	free(client->will_payload);
	free(client);
}

struct bus_client *bus_client_start(const struct bus_client_options *options,
				    const struct bus_client_callbacks *callbacks, char *err,
				    size_t errlen)
{
	if (options->uri == NULL || options->client_id == NULL || options->client_id[0] == '\0') {
		snprintf(err, errlen, "a broker URI and a client id are required");
		return NULL;
	}
	struct bus_client *client = calloc(1, sizeof(*client));
	if (client == NULL) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	client->options = *options;
	if (client->options.keepalive_s == 0)
		client->options.keepalive_s = 5;
	if (client->options.retry_min_ms == 0)
		client->options.retry_min_ms = 200;
	if (client->options.retry_max_ms < client->options.retry_min_ms)
		client->options.retry_max_ms =
		    client->options.retry_min_ms < 2000 ? 2000 : client->options.retry_min_ms;
	client->retry_ms = client->options.retry_min_ms;
	client->callbacks = *callbacks;
	client->uri = strdup(options->uri);
	client->client_id = strdup(options->client_id);
	client->username = copy_or_null(options->username);
	client->password = copy_or_null(options->password);
	client->ca_file = copy_or_null(options->ca_file);
	client->cert_file = copy_or_null(options->cert_file);
	client->key_file = copy_or_null(options->key_file);
	client->will_topic = copy_or_null(options->will_topic);
	client->will_payload = copy_or_null(options->will_payload);
	client->seed = (unsigned)onvm_mono_ms() ^ (unsigned)getpid() ^ (unsigned)(uintptr_t)client;
	pthread_mutex_init(&client->lock, NULL);
	pthread_condattr_t wake_attr;
	if (onvm_mono_condattr(&wake_attr) != 0 ||
	    pthread_cond_init(&client->wake, &wake_attr) != 0) {
		snprintf(err, errlen, "cannot make a condition variable on the monotonic clock");
		pthread_mutex_destroy(&client->lock);
		free_client(client);
		return NULL;
	}
	pthread_condattr_destroy(&wake_attr);

	int ret = MQTTAsync_create(&client->handle, client->uri, client->client_id,
				   MQTTCLIENT_PERSISTENCE_NONE, NULL);
	if (ret != MQTTASYNC_SUCCESS) {
		snprintf(err, errlen, "cannot create an MQTT client for %s (%d: bad URI?)",
			 options->uri, ret);
		free_client(client);
		return NULL;
	}
	MQTTAsync_setCallbacks(client->handle, client, on_connection_lost, on_message, NULL);
	if (pthread_create(&client->reconnect_thread, NULL, reconnect_loop, client) != 0) {
		snprintf(err, errlen, "cannot start the reconnect thread");
		MQTTAsync_destroy(&client->handle);
		free_client(client);
		return NULL;
	}
	return client;
}

int bus_client_subscribe(struct bus_client *client, const char *filter, int qos)
{
	if (strlen(filter) >= FILTER_MAX)
		return -1;
	pthread_mutex_lock(&client->lock);
	if (client->nb_subscriptions == MAX_SUBSCRIPTIONS) {
		pthread_mutex_unlock(&client->lock);
		return -1;
	}
	struct subscription *subscription = &client->subscriptions[client->nb_subscriptions++];
	snprintf(subscription->filter, sizeof(subscription->filter), "%s", filter);
	subscription->qos = qos;
	int connected = client->connected;
	pthread_mutex_unlock(&client->lock);
	if (connected)
		subscribe_one(client, filter, qos);
	return 0;
}

int bus_client_publish(struct bus_client *client, const char *topic, const void *payload,
		       size_t len, int qos, int retained)
{
	MQTTAsync_message message = MQTTAsync_message_initializer;
	message.payload = (void *)(uintptr_t)payload;
	message.payloadlen = (int)len;
	message.qos = qos;
	message.retained = retained;
	int ret = bus_client_is_connected(client)
		      ? MQTTAsync_sendMessage(client->handle, topic, &message, NULL)
		      : MQTTASYNC_DISCONNECTED;
	if (ret != MQTTASYNC_SUCCESS) {
		count(&client->counters.publish_failures);
		return -1;
	}
	count(&client->counters.published);
	return 0;
}

int bus_client_is_connected(const struct bus_client *client)
{
	return __atomic_load_n(&client->connected, __ATOMIC_ACQUIRE);
}

int bus_client_wait_connected(struct bus_client *client, unsigned timeout_ms)
{
	struct timespec until;
	onvm_mono_deadline(&until, timeout_ms);
	pthread_mutex_lock(&client->lock);
	while (!client->connected && !client->stopping)
		if (pthread_cond_timedwait(&client->wake, &client->lock, &until) == ETIMEDOUT)
			break;
	int connected = client->connected;
	pthread_mutex_unlock(&client->lock);
	return connected ? 0 : -1;
}

void bus_client_counters(const struct bus_client *client, struct bus_client_counters *out)
{
	out->published = __atomic_load_n(&client->counters.published, __ATOMIC_RELAXED);
	out->publish_failures =
	    __atomic_load_n(&client->counters.publish_failures, __ATOMIC_RELAXED);
	out->received = __atomic_load_n(&client->counters.received, __ATOMIC_RELAXED);
	out->connects = __atomic_load_n(&client->counters.connects, __ATOMIC_RELAXED);
	out->connection_losses =
	    __atomic_load_n(&client->counters.connection_losses, __ATOMIC_RELAXED);
}

/* Wait until the messages paho still holds are delivered, or timeout_ms. */
static void wait_for_deliveries(struct bus_client *client, unsigned timeout_ms)
{
	uint64_t deadline = onvm_mono_ms() + timeout_ms;
	MQTTAsync_token *tokens = NULL;
	if (MQTTAsync_getPendingTokens(client->handle, &tokens) != MQTTASYNC_SUCCESS || !tokens)
		return;
	for (int i = 0; tokens[i] != -1; i++) {
		uint64_t now = onvm_mono_ms();
		if (now >= deadline)
			break;
		MQTTAsync_waitForCompletion(client->handle, tokens[i],
					    (unsigned long)(deadline - now));
	}
	MQTTAsync_free(tokens);
}

void bus_client_stop(struct bus_client *client)
{
	if (client == NULL)
		return;
	pthread_mutex_lock(&client->lock);
	client->stopping = 1;
	pthread_cond_broadcast(&client->wake);
	pthread_mutex_unlock(&client->lock);
	pthread_join(client->reconnect_thread, NULL);

	if (MQTTAsync_isConnected(client->handle)) {
		/* What was published last (a clean exit's offline state) goes out
		 * first, within a second; paho's own disconnect timeout would
		 * otherwise wait out the whole second. */
		wait_for_deliveries(client, 1000);
		MQTTAsync_disconnectOptions disconnect = MQTTAsync_disconnectOptions_initializer;
		disconnect.timeout = 0;
		MQTTAsync_disconnect(client->handle, &disconnect);
		/* Give the disconnect (and queued messages) a moment to go out. */
		for (int i = 0; i < 100 && MQTTAsync_isConnected(client->handle); i++) {
			struct timespec pause = {.tv_sec = 0, .tv_nsec = 10 * 1000000L};
			nanosleep(&pause, NULL);
		}
	}
	MQTTAsync_destroy(&client->handle);
	pthread_mutex_destroy(&client->lock);
	pthread_cond_destroy(&client->wake);
	free_client(client);
}

int bus_read_password(const char *path, char *password, size_t size, char *err, size_t errlen)
{
	FILE *file = fopen(path, "r");
	if (file == NULL) {
		snprintf(err, errlen, "cannot read password file %s: %s", path, strerror(errno));
		return -1;
	}
	int ok = fgets(password, (int)size, file) != NULL;
	fclose(file);
	if (!ok) {
		snprintf(err, errlen, "password file %s is empty", path);
		return -1;
	}
	password[strcspn(password, "\r\n")] = '\0';
	return 0;
}
