/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * onvm_identity.c - a Mosquitto 2 plugin that binds client ids to identities
 * on the password listeners, cuts off revoked identities, and keeps Nagle's
 * algorithm off on bridges.
 *
 * MQTT lets any client connect with any client id, and the broker then drops
 * whoever held that id before (and publishes its Last Will): with nothing
 * more, the read-only monitor password is enough to knock a host offline.
 * On the TLS listener the broker itself binds the two
 * (use_identity_as_username + use_username_as_clientid: the client id is the
 * certificate's CN).  Password listeners cannot do that without allowing only
 * one connection per identity, so this plugin checks every password login:
 * the client id must be the user name itself, or the user name followed by
 * '/' and anything ("monitor/top-4711").  Identity names never contain '/',
 * so no identity can take a client id of another, on any listener.
 *
 * It only refuses: a login it accepts still needs the right password
 * (password_file), and a refusal is logged with the id and the user.
 * Certificate logins never reach a basic-auth plugin; they are already bound.
 *
 * Revocation: with "plugin_opt_revoked_file PATH" (one identity a line,
 * written by make-certs.sh --revoke), those identities are refused here too,
 * and on every reload (SIGHUP) their connections are closed, with their Last
 * Will.  The broker's CRL only stops new TLS handshakes; without this a
 * revoked host stayed connected until it went away by itself.
 *
 * Nagle on bridges: set_tcp_nodelay covers the sockets the broker accepts,
 * but Mosquitto 2.0.11 leaves its own bridge connection with Nagle's
 * algorithm on, so a reply behind an unacknowledged message waited for the
 * peer's delayed ACK: a spawn through a bridge took 47 ms instead of 5.
 * Every quarter of a second the plugin turns Nagle off on any of the
 * broker's TCP sockets that still has it.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>

#include <mosquitto.h>
#include <mosquitto_broker.h>
#include <mosquitto_plugin.h>

#define MAX_REVOKED  1024
#define NAME_MAX_LEN 64

static mosquitto_plugin_id_t *plugin_id;
static char revoked_file[4096];
static char revoked[MAX_REVOKED][NAME_MAX_LEN];
static int revoked_count;

/* Read the revoked identities; a missing file means none. */
static void load_revoked(void)
{
	revoked_count = 0;
	if (revoked_file[0] == '\0')
		return;
	FILE *file = fopen(revoked_file, "r");
	if (file == NULL)
		return;
	char line[256];
	while (revoked_count < MAX_REVOKED && fgets(line, sizeof(line), file)) {
		line[strcspn(line, "\r\n")] = '\0';
		size_t length = strlen(line);
		if (length == 0 || length >= NAME_MAX_LEN)
			continue;
		memcpy(revoked[revoked_count++], line, length + 1);
	}
	fclose(file);
}

static int is_revoked(const char *identity)
{
	for (int i = 0; i < revoked_count; i++)
		if (strcmp(revoked[i], identity) == 0)
			return 1;
	return 0;
}

/* TCP_NODELAY on each of this process's TCP sockets that lacks it. */
static void no_delay_everywhere(void)
{
	DIR *fds = opendir("/proc/self/fd");
	if (fds == NULL)
		return;
	const struct dirent *entry;
	while ((entry = readdir(fds)) != NULL) {
		char *end;
		long fd = strtol(entry->d_name, &end, 10);
		struct stat status;
		if (*end != '\0' || fd < 0 || fd == dirfd(fds) || fstat((int)fd, &status) < 0 ||
		    !S_ISSOCK(status.st_mode))
			continue;
		int protocol = 0, no_delay = 0;
		socklen_t length = sizeof(protocol);
		if (getsockopt((int)fd, SOL_SOCKET, SO_PROTOCOL, &protocol, &length) < 0 ||
		    protocol != IPPROTO_TCP)
			continue;
		length = sizeof(no_delay);
		if (getsockopt((int)fd, IPPROTO_TCP, TCP_NODELAY, &no_delay, &length) == 0 &&
		    !no_delay) {
			no_delay = 1;
			setsockopt((int)fd, IPPROTO_TCP, TCP_NODELAY, &no_delay, sizeof(no_delay));
		}
	}
	closedir(fds);
}

static int on_tick(int event, void *event_data, void *userdata)
{
	static struct timespec last;
	struct timespec now;
	(void)event;
	(void)event_data;
	(void)userdata;
	clock_gettime(CLOCK_MONOTONIC, &now);
	long elapsed_ms =
	    (now.tv_sec - last.tv_sec) * 1000 + (now.tv_nsec - last.tv_nsec) / 1000000;
	if (elapsed_ms >= 250) {
		last = now;
		no_delay_everywhere();
	}
	return MOSQ_ERR_SUCCESS;
}

static int on_reload(int event, void *event_data, void *userdata)
{
	(void)event;
	(void)event_data;
	(void)userdata;
	load_revoked();
	for (int i = 0; i < revoked_count; i++)
		if (mosquitto_kick_client_by_username(revoked[i], true) == MOSQ_ERR_SUCCESS)
			mosquitto_log_printf(MOSQ_LOG_NOTICE,
					     "onvm_identity: disconnecting revoked identity '%s'",
					     revoked[i]);
	return MOSQ_ERR_SUCCESS;
}

/* 1 when client_id is identity, or identity + "/" + a suffix. */
static int client_id_bound(const char *client_id, const char *identity)
{
	size_t length = strlen(identity);
	if (length == 0 || strncmp(client_id, identity, length) != 0)
		return 0;
	return client_id[length] == '\0' || client_id[length] == '/';
}

static int on_basic_auth(int event, void *event_data, void *userdata)
{
	const struct mosquitto_evt_basic_auth *auth = event_data;
	const char *client_id = mosquitto_client_id(auth->client);
	(void)event;
	(void)userdata;

	if (auth->username == NULL)
		return MOSQ_ERR_PLUGIN_DEFER; /* anonymous: the broker refuses it */
	if (is_revoked(auth->username)) {
		mosquitto_log_printf(MOSQ_LOG_NOTICE,
				     "onvm_identity: refused revoked identity '%s'",
				     auth->username);
		return MOSQ_ERR_AUTH;
	}
	if (client_id != NULL && client_id_bound(client_id, auth->username))
		return MOSQ_ERR_PLUGIN_DEFER; /* now the password decides */
	mosquitto_log_printf(MOSQ_LOG_NOTICE,
			     "onvm_identity: refused client id '%s' for user '%s' (it must be "
			     "'%s' or '%s/...')",
			     client_id ? client_id : "", auth->username, auth->username,
			     auth->username);
	return MOSQ_ERR_AUTH;
}

int mosquitto_plugin_version(int supported_version_count, const int *supported_versions)
{
	for (int i = 0; i < supported_version_count; i++)
		if (supported_versions[i] == 5)
			return 5;
	return -1;
}

int mosquitto_plugin_init(mosquitto_plugin_id_t *identifier, void **userdata,
			  struct mosquitto_opt *options, int option_count)
{
	(void)userdata;
	plugin_id = identifier;
	for (int i = 0; i < option_count; i++) {
		if (strcmp(options[i].key, "revoked_file") != 0)
			continue;
		if (strlen(options[i].value) >= sizeof(revoked_file)) {
			mosquitto_log_printf(MOSQ_LOG_ERR, "onvm_identity: revoked_file too long");
			return MOSQ_ERR_INVAL;
		}
		strcpy(revoked_file, options[i].value);
	}
	load_revoked();
	int ret =
	    mosquitto_callback_register(plugin_id, MOSQ_EVT_BASIC_AUTH, on_basic_auth, NULL, NULL);
	if (ret == MOSQ_ERR_SUCCESS)
		ret =
		    mosquitto_callback_register(plugin_id, MOSQ_EVT_RELOAD, on_reload, NULL, NULL);
	if (ret == MOSQ_ERR_SUCCESS)
		ret = mosquitto_callback_register(plugin_id, MOSQ_EVT_TICK, on_tick, NULL, NULL);
	return ret;
}

int mosquitto_plugin_cleanup(void *userdata, struct mosquitto_opt *options, int option_count)
{
	(void)userdata;
	(void)options;
	(void)option_count;
	mosquitto_callback_unregister(plugin_id, MOSQ_EVT_TICK, on_tick, NULL);
	mosquitto_callback_unregister(plugin_id, MOSQ_EVT_RELOAD, on_reload, NULL);
	return mosquitto_callback_unregister(plugin_id, MOSQ_EVT_BASIC_AUTH, on_basic_auth, NULL);
}
