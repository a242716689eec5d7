/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * test_bus_options.c - unit tests of bus/bus_options.c: one option set for
 * every tool, checked for consistency, and a client id bound to the identity.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "bus_options.h"

static int set(struct bus_options *o, int opt, const char *arg)
{
	char err[256];
	return bus_options_parse(o, opt, arg, err, sizeof(err));
}

static void test_parse_stores_bus_options_only(void **state)
{
	(void)state;
	struct bus_options o = {0};
	assert_int_equal(set(&o, 'b', "ssl://10.0.0.1:8883"), 1);
	assert_int_equal(set(&o, 'u', "h1"), 1);
	assert_int_equal(set(&o, BUS_OPT_CA, "/ca.crt"), 1);
	assert_int_equal(set(&o, BUS_OPT_CERT, "/h1.crt"), 1);
	assert_int_equal(set(&o, BUS_OPT_KEY, "/h1.key"), 1);
	assert_int_equal(set(&o, BUS_OPT_ROOT, "lab/onvm"), 1);
	assert_int_equal(set(&o, 'x', "whatever"), 0);
	assert_string_equal(o.uri, "ssl://10.0.0.1:8883");
	assert_string_equal(o.cert_file, "/h1.crt");
	assert_string_equal(o.root, "lab/onvm");

	/* An identity never holds '/': "monitor/x" is a client id, not a user. */
	assert_int_equal(set(&o, 'u', "monitor/x"), -1);
	assert_int_equal(set(&o, 'b', ""), -1);
	char long_path[PATH_MAX + 8];
	memset(long_path, 'a', sizeof(long_path) - 1);
	long_path[sizeof(long_path) - 1] = '\0';
	assert_int_equal(set(&o, BUS_OPT_KEY, long_path), -1);
}

static void test_check_refuses_what_cannot_work(void **state)
{
	(void)state;
	char err[256];
	struct bus_options tls_on_tcp = {.uri = "tcp://h:1883", .ca_file = "/ca"};
	assert_int_equal(bus_options_check(&tls_on_tcp, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "ssl://"));

	struct bus_options cert_alone = {.uri = "ssl://h:8883", .cert_file = "/c"};
	assert_int_equal(bus_options_check(&cert_alone, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "together"));

	struct bus_options no_broker = {.password_file = "/p"};
	assert_int_equal(bus_options_check(&no_broker, err, sizeof(err)), -1);

	struct bus_options tls = {
	    .uri = "ssl://h:8883", .ca_file = "/ca", .cert_file = "/c", .key_file = "/k"};
	assert_int_equal(bus_options_check(&tls, err, sizeof(err)), 0);
	struct bus_options none = {0};
	assert_int_equal(bus_options_check(&none, err, sizeof(err)), 0);
}

static void test_client_id_is_bound_to_the_identity(void **state)
{
	(void)state;
	char err[256];
	struct bus_client_options client = {0};
	struct bus_credentials credentials;

	/* A manager: its host name is its identity and its client id. */
	struct bus_options manager = {.uri = "tcp://127.0.0.1:1"};
	assert_int_equal(
	    bus_options_client(&manager, "h2", NULL, &client, &credentials, err, sizeof(err)), 0);
	assert_string_equal(client.client_id, "h2");
	assert_string_equal(client.username, "h2");
	assert_null(client.password);
	assert_null(client.cert_file);

	/* An engine under the policy identity: "policy/<engine id>". */
	struct bus_options engine = {.uri = "tcp://127.0.0.1:1", .user = "policy"};
	assert_int_equal(
	    bus_options_client(&engine, "x", "pe-a", &client, &credentials, err, sizeof(err)), 0);
	assert_string_equal(client.client_id, "policy/pe-a");
	assert_string_equal(client.username, "policy");

	/* The password comes from its file, never from the command line. */
	char path[] = "/tmp/test_bus_options.XXXXXX";
	int fd = mkstemp(path);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, "s3cret\nrest\n", 12), 12);
	close(fd);
	struct bus_options with_password = {.uri = "tcp://127.0.0.1:1"};
	snprintf(with_password.password_file, sizeof(with_password.password_file), "%s", path);
	assert_int_equal(bus_options_client(&with_password, "monitor", "top-1", &client,
					    &credentials, err, sizeof(err)),
			 0);
	assert_string_equal(client.password, "s3cret");
	unlink(path);
	assert_int_equal(bus_options_client(&with_password, "monitor", "top-1", &client,
					    &credentials, err, sizeof(err)),
			 -1);
	assert_non_null(strstr(err, path));

	/* No identity at all is an error, not an anonymous login. */
	struct bus_options anonymous = {.uri = "tcp://127.0.0.1:1"};
	assert_int_equal(
	    bus_options_client(&anonymous, NULL, NULL, &client, &credentials, err, sizeof(err)),
	    -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_parse_stores_bus_options_only),
	    cmocka_unit_test(test_check_refuses_what_cannot_work),
	    cmocka_unit_test(test_client_id_is_bound_to_the_identity),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
