/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * bus_client.h - an MQTT client for the bus, on paho.mqtt.c's asynchronous
 * API.
 *
 * It connects in the background and keeps reconnecting with a jittered,
 * doubling back-off, so that many managers do not reconnect in step; it
 * subscribes again after every reconnection (a clean session forgets them)
 * and calls `connected` so the owner can republish its retained state.  A
 * persistent session (clean session off) makes the broker keep QoS 1
 * messages for a client that was briefly away.  Callbacks run on paho's
 * thread: they must not block, and must not take a lock under which the
 * owner calls into this client.
 */
#ifndef ONVM_BUS_CLIENT_H
#define ONVM_BUS_CLIENT_H

#include <stddef.h>
#include <stdint.h>

struct bus_client;

struct bus_client_options {
	const char *uri;       /* "tcp://127.0.0.1:1883", or "ssl://..." for TLS */
	const char *client_id; /* the identity, or "identity/suffix" (bus_options.h) */
	const char *username;  /* NULL: anonymous */
	const char *password;
	const char *ca_file;   /* TLS: the CA certificate to trust (NULL: system's) */
	const char *cert_file; /* TLS: this client's certificate (NULL: none) */
	const char *key_file;  /* TLS: its private key */

	/* Last Will: published by the broker if the client vanishes. */
	const char *will_topic; /* NULL: none */
	const char *will_payload;
	int will_qos;
	int will_retained;

	int persistent_session; /* 1: clean session off */
	unsigned keepalive_s;	/* default 5 */
	unsigned retry_min_ms;	/* first reconnect delay, default 200 */
	unsigned retry_max_ms;	/* longest, default 2000 */
};

struct bus_client_callbacks {
	/* A message arrived: topic and payload are only valid during the call. */
	void (*message)(void *ctx, const char *topic, const void *payload, size_t len,
			int retained);
	/* (Re)connected and subscriptions sent again. */
	void (*connected)(void *ctx);
	/* The connection was lost; reconnection is under way. */
	void (*disconnected)(void *ctx, const char *cause);
	void *ctx;
};

struct bus_client_counters {
	uint64_t published;
	uint64_t publish_failures; /* not connected, or the client refused */
	uint64_t received;
	uint64_t connects;
	uint64_t connection_losses;
};

/* Create the client and start connecting in the background.  NULL on a bad
 * option or URI, with the reason in err. */
struct bus_client *bus_client_start(const struct bus_client_options *options,
				    const struct bus_client_callbacks *callbacks, char *err,
				    size_t errlen);

/* Subscribe now (if connected) and after every reconnection.  0 or -1. */
int bus_client_subscribe(struct bus_client *client, const char *filter, int qos);

/* Publish without waiting.  0, or -1 when not connected or refused. */
int bus_client_publish(struct bus_client *client, const char *topic, const void *payload,
		       size_t len, int qos, int retained);

int bus_client_is_connected(const struct bus_client *client);

/* Wait up to timeout_ms for a connection.  0 when connected, -1 otherwise. */
int bus_client_wait_connected(struct bus_client *client, unsigned timeout_ms);

void bus_client_counters(const struct bus_client *client, struct bus_client_counters *out);

/* Read a password: the first line of path.  0, or -1 with the reason in err. */
int bus_read_password(const char *path, char *password, size_t size, char *err, size_t errlen);

/* Disconnect (the Last Will is not sent) and free everything. */
void bus_client_stop(struct bus_client *client);

#endif /* ONVM_BUS_CLIENT_H */
