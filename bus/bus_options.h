/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * bus_options.h - the broker options every tool takes, defined once.
 *
 * onvm-mgr, onvm-policy and onvm-top connect to the bus the same way, so they
 * share one option table, one usage text and one way to turn the options into
 * a bus_client_options:
 *
 *   -b, --broker URI             tcp://HOST:PORT, or ssl://HOST:PORT for TLS
 *   -u, --bus-user NAME          the identity on a password listener
 *   -P, --bus-password-file F    its password: the file's first line
 *       --bus-ca FILE            TLS: the CA that signed the broker
 *       --bus-cert FILE          TLS: this identity's certificate (CN = identity)
 *       --bus-key FILE           TLS: its private key
 *       --bus-root PREFIX        topic root (default onvm)
 *
 * No option carries a secret: passwords and keys are read from files.  The
 * client id is bound to the identity: the identity itself, or
 * "identity/suffix" for tools that may run several times at once (the
 * project's broker refuses any other id, see mosquitto/onvm_identity.c).
 */
#ifndef ONVM_BUS_OPTIONS_H
#define ONVM_BUS_OPTIONS_H

#include <getopt.h>
#include <limits.h>
#include <stddef.h>

#include "bus_client.h"

struct bus_options {
	char uri[256];
	char user[64];
	char password_file[PATH_MAX];
	char ca_file[PATH_MAX];
	char cert_file[PATH_MAX];
	char key_file[PATH_MAX];
	char root[128];
};

/* getopt codes; the long-only ones sit above any character. */
enum bus_option_code {
	BUS_OPT_BROKER = 'b',
	BUS_OPT_USER = 'u',
	BUS_OPT_PASSWORD_FILE = 'P',
	BUS_OPT_CA = 0x1000,
	BUS_OPT_CERT,
	BUS_OPT_KEY,
	BUS_OPT_ROOT,
};

/* For a tool's getopt_long: its short options string and its long table. */
#define BUS_SHORT_OPTIONS "b:u:P:"
/* clang-format off */
#define BUS_LONG_OPTIONS                                                               \
	{"broker", required_argument, NULL, BUS_OPT_BROKER},                           \
	{"bus-user", required_argument, NULL, BUS_OPT_USER},                           \
	{"bus-password-file", required_argument, NULL, BUS_OPT_PASSWORD_FILE},         \
	{"bus-ca", required_argument, NULL, BUS_OPT_CA},                               \
	{"bus-cert", required_argument, NULL, BUS_OPT_CERT},                           \
	{"bus-key", required_argument, NULL, BUS_OPT_KEY},                             \
	{"bus-root", required_argument, NULL, BUS_OPT_ROOT}
/* clang-format on */

/* The lines of a usage text that describe them. */
extern const char bus_options_usage[];

/* Store a bus option: 1 when opt was one (stored), 0 when it is not a bus
 * option, -1 for a bad value (the reason in err). */
int bus_options_parse(struct bus_options *options, int opt, const char *arg, char *err,
		      size_t errlen);

/* After parsing: the options agree with each other (TLS files need an
 * ssl:// broker, a certificate needs its key).  0 or -1. */
int bus_options_check(const struct bus_options *options, char *err, size_t errlen);

/* What bus_options_client fills in besides the client options. */
struct bus_credentials {
	char client_id[160];
	char password[256];
};

/* Fill client with the broker, identity and TLS files of options (user
 * default_user when none was given), the client id "user" or
 * "user/id_suffix", and the password read from its file.  The strings point
 * into options and credentials.  0, or -1 with the reason in err. */
int bus_options_client(const struct bus_options *options, const char *default_user,
		       const char *id_suffix, struct bus_client_options *client,
		       struct bus_credentials *credentials, char *err, size_t errlen);

/* bus_options_client, then bus_client_start with callbacks: the client, or
 * NULL with the reason in err ("cannot start the bus client: ..." when the
 * options were fine).  client may hold other fields already (a Last Will);
 * its strings point into options and credentials, which the caller keeps;
 * the password is wiped once the client has it. */
struct bus_client *bus_options_connect(const struct bus_options *options, const char *default_user,
				       const char *id_suffix, struct bus_client_options *client,
				       struct bus_credentials *credentials,
				       const struct bus_client_callbacks *callbacks, char *err,
				       size_t errlen);

#endif /* ONVM_BUS_OPTIONS_H */
