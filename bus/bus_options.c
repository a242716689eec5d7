/* SPDX-License-Identifier: BSD-3-Clause */
/* bus_options.c - the broker options every tool takes (see bus_options.h). */
#include <stdio.h>
#include <string.h>

#include "bus_err.h"
#include "bus_options.h"

const char bus_options_usage[] =
    "  -b, --broker URI           MQTT broker: tcp://HOST:PORT, or ssl://HOST:PORT (TLS)\n"
    "  -u, --bus-user NAME        identity on a password listener\n"
    "  -P, --bus-password-file F  file whose first line is that identity's password\n"
    "      --bus-ca FILE          TLS: CA certificate that signed the broker's\n"
    "      --bus-cert FILE        TLS: this identity's certificate (its CN is the identity)\n"
    "      --bus-key FILE         TLS: the certificate's private key\n"
    "      --bus-root PREFIX      topic root (default onvm)\n";

static int store(char *field, size_t size, const char *arg, const char *what, char *err,
		 size_t errlen)
{
	if (arg == NULL || arg[0] == '\0' || strlen(arg) >= size) {
		snprintf(err, errlen, "bad %s '%s' (empty or longer than %zu bytes)", what,
			 arg ? arg : "", size - 1);
		return -1;
	}
	memcpy(field, arg, strlen(arg) + 1);
	return 1;
}

int bus_options_parse(struct bus_options *o, int opt, const char *arg, char *err, size_t errlen)
{
	switch (opt) {
	case BUS_OPT_BROKER:
		return store(o->uri, sizeof(o->uri), arg, "--broker", err, errlen);
	case BUS_OPT_USER:
		if (strchr(arg, '/') != NULL) {
			snprintf(err, errlen, "bad --bus-user '%s': an identity has no '/'", arg);
			return -1;
		}
		return store(o->user, sizeof(o->user), arg, "--bus-user", err, errlen);
	case BUS_OPT_PASSWORD_FILE:
		return store(o->password_file, sizeof(o->password_file), arg, "--bus-password-file",
			     err, errlen);
	case BUS_OPT_CA:
		return store(o->ca_file, sizeof(o->ca_file), arg, "--bus-ca", err, errlen);
	case BUS_OPT_CERT:
		return store(o->cert_file, sizeof(o->cert_file), arg, "--bus-cert", err, errlen);
	case BUS_OPT_KEY:
		return store(o->key_file, sizeof(o->key_file), arg, "--bus-key", err, errlen);
	case BUS_OPT_ROOT:
		return store(o->root, sizeof(o->root), arg, "--bus-root", err, errlen);
	default:
		return 0;
	}
}

static int uri_is_tls(const char *uri)
{
	return strncmp(uri, "ssl://", 6) == 0 || strncmp(uri, "mqtts://", 8) == 0;
}

int bus_options_check(const struct bus_options *o, char *err, size_t errlen)
{
	int tls = uri_is_tls(o->uri);
	int tls_files = o->ca_file[0] || o->cert_file[0] || o->key_file[0];
	if (!o->uri[0] && (o->user[0] || o->password_file[0] || tls_files)) {
		snprintf(err, errlen, "bus options need --broker");
		return -1;
	}
	if (!tls && tls_files) {
		snprintf(err, errlen, "--bus-ca, --bus-cert and --bus-key need an ssl:// broker");
		return -1;
	}
	if (!o->cert_file[0] != !o->key_file[0]) {
		snprintf(err, errlen, "--bus-cert and --bus-key go together");
		return -1;
	}
	return 0;
}

int bus_options_client(const struct bus_options *o, const char *default_user, const char *id_suffix,
		       struct bus_client_options *client, struct bus_credentials *credentials,
		       char *err, size_t errlen)
{
	const char *user = o->user[0] ? o->user : default_user;
	if (bus_options_check(o, err, errlen) < 0)
		return -1;
	if (user == NULL || user[0] == '\0' || strchr(user, '/') != NULL) {
		snprintf(err, errlen, "no bus identity (--bus-user)");
		return -1;
	}
	int length = id_suffix ? snprintf(credentials->client_id, sizeof(credentials->client_id),
					  "%s/%s", user, id_suffix)
			       : snprintf(credentials->client_id, sizeof(credentials->client_id),
					  "%s", user);
	if (length < 0 || (size_t)length >= sizeof(credentials->client_id)) {
		snprintf(err, errlen, "client id too long");
		return -1;
	}
	credentials->password[0] = '\0';
	if (o->password_file[0] &&
	    bus_read_password(o->password_file, credentials->password,
			      sizeof(credentials->password), err, errlen) < 0)
		return -1;
	client->uri = o->uri;
	client->client_id = credentials->client_id;
	client->username = user;
	client->password = credentials->password[0] ? credentials->password : NULL;
	client->ca_file = o->ca_file[0] ? o->ca_file : NULL;
	client->cert_file = o->cert_file[0] ? o->cert_file : NULL;
	client->key_file = o->key_file[0] ? o->key_file : NULL;
	return 0;
}

struct bus_client *bus_options_connect(const struct bus_options *options, const char *default_user,
				       const char *id_suffix, struct bus_client_options *client,
				       struct bus_credentials *credentials,
				       const struct bus_client_callbacks *callbacks, char *err,
				       size_t errlen)
{
	if (bus_options_client(options, default_user, id_suffix, client, credentials, err, errlen) <
	    0)
		return NULL;
	char reason[256];
	struct bus_client *started = bus_client_start(client, callbacks, reason, sizeof(reason));
	explicit_bzero(credentials->password, sizeof(credentials->password));
	if (started == NULL)
		bus_set_err(err, errlen, "cannot start the bus client: %s", reason);
	return started;
}
