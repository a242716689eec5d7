/* SPDX-License-Identifier: BSD-3-Clause */
/* test_dp_args.c - unit tests for the manager's command line (dp/mgr_args.c). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "mgr_args.h"

#define MAX_WORDS 300

/*
 * Words live in a pool that is never freed or reused: glibc's getopt keeps a
 * pointer into the last argv it parsed (see
 * test_reparse_after_error_in_option_cluster), so freeing a line's words
 * would make the next parse read freed memory.
 */
static char word_pool[1 << 16];
static size_t word_pool_used;

/* A writable argv (the parser overwrites its "--" slot) and the result. */
struct line {
	int argc;
	char *argv[MAX_WORDS + 1];
	struct mgr_config config;
	char errors[4096]; /* what the parser wrote to stderr */
};

static int setup_line(void **state)
{
	*state = calloc(1, sizeof(struct line));
	return *state == NULL ? -1 : 0;
}

static int teardown_line(void **state)
{
	free(*state);
	return 0;
}

static void clear_words(struct line *line)
{
	line->argc = 0;
	line->argv[0] = NULL;
}

static void add_word(struct line *line, const char *word)
{
	size_t size = strlen(word) + 1;
	assert_true(line->argc < MAX_WORDS);
	assert_true(word_pool_used + size <= sizeof(word_pool));
	char *copy = memcpy(word_pool + word_pool_used, word, size);
	word_pool_used += size;
	line->argv[line->argc++] = copy;
	line->argv[line->argc] = NULL;
}

/* Split text on spaces into line->argv (replacing what was there). */
static void set_words(struct line *line, const char *text)
{
	char *copy = strdup(text);
	char *save = NULL;
	assert_non_null(copy);
	clear_words(line);
	for (char *word = strtok_r(copy, " ", &save); word; word = strtok_r(NULL, " ", &save))
		add_word(line, word);
	free(copy);
}

/* Run mgr_args_parse on line->argv, keeping what it prints on stderr. */
static int run_parse(struct line *line)
{
	FILE *capture = tmpfile();
	assert_non_null(capture);
	fflush(stderr);
	int saved = dup(STDERR_FILENO);
	assert_true(saved >= 0);
	assert_true(dup2(fileno(capture), STDERR_FILENO) >= 0);

	int ret = mgr_args_parse(line->argc, line->argv, &line->config);

	fflush(stderr);
	assert_true(dup2(saved, STDERR_FILENO) >= 0);
	close(saved);
	rewind(capture);
	size_t got = fread(line->errors, 1, sizeof(line->errors) - 1, capture);
	line->errors[got] = '\0';
	fclose(capture);
	return ret;
}

static int parse_text(struct line *line, const char *text)
{
	set_words(line, text);
	return run_parse(line);
}

static void assert_contains(const char *text, const char *part)
{
	if (strstr(text, part) == NULL)
		fail_msg("'%s' does not contain '%s'", text, part);
}

static void parse_ok(struct line *line, const char *text)
{
	int ret = parse_text(line, text);
	if (ret != 0)
		fail_msg("'%s' gave %d: %s", text, ret, line->errors);
}

/* A bad line: -1, the usage, and an error line containing message. */
static void parse_bad(struct line *line, const char *text, const char *message)
{
	int ret = parse_text(line, text);
	if (ret != -1)
		fail_msg("'%s' gave %d, expected -1", text, ret);
	assert_contains(line->errors, "onvm-mgr: ");
	assert_contains(line->errors, message);
	assert_contains(line->errors, "usage: ");
}

static void assert_eal(const struct mgr_config *config, const char *const *expected)
{
	int i = 0;
	for (; expected[i] != NULL; i++) {
		if (i >= config->eal_argc)
			fail_msg("eal_argv has %d args, expected more ('%s')", config->eal_argc,
				 expected[i]);
		assert_string_equal(config->eal_argv[i], expected[i]);
	}
	assert_int_equal(config->eal_argc, i);
	assert_null(config->eal_argv[i]);
}

static int has_eal_arg(const struct mgr_config *config, const char *arg)
{
	for (int i = 0; i < config->eal_argc; i++)
		if (strcmp(config->eal_argv[i], arg) == 0)
			return 1;
	return 0;
}

static void assert_defaults_after_eal(const struct mgr_config *config)
{
	assert_string_equal(config->catalog_path, "");
	assert_int_equal(config->nf_cores_given, 0);
	assert_int_equal(core_pool_size(&config->nf_cores), 0);
	assert_int_equal(config->nb_start, 0);
	assert_int_equal(config->default_service, 1);
	for (int port = 0; port < ONVM_MAX_PORTS; port++)
		assert_int_equal(config->chains[port].set, 0);
	assert_int_equal(config->stats_period_ms, MGR_DEFAULT_STATS_PERIOD_MS);
	assert_string_equal(config->stats_file, "");
	assert_int_equal(config->nb_mbufs, 65535);
	assert_int_equal(config->bus_keepalive_s, MGR_DEFAULT_BUS_KEEPALIVE_S);
	assert_int_equal(config->alarm_ms, MGR_ALARM_DEFAULT_MS);
	assert_int_equal(config->quiet, 0);
	assert_int_equal(config->no_direct_tx, 0);
	assert_string_equal(config->host, "");
	assert_string_equal(config->bus.uri, "");
}

/* ---- whole command lines ---- */

static void test_defaults_without_separator(void **state)
{
	struct line *line = *state;
	parse_ok(line, "onvm-mgr");
	static const char *const eal[] = {"onvm-mgr", "--no-pci", NULL};
	assert_eal(&line->config, eal);
	assert_string_equal(line->config.file_prefix, MGR_DEFAULT_PREFIX);
	assert_string_equal(line->config.huge_dir, "");
	assert_defaults_after_eal(&line->config);
}

static void test_eal_args_and_empty_options(void **state)
{
	struct line *line = *state;
	parse_ok(line, "onvm-mgr -l 0,1 --vdev=net_null0 --");
	static const char *const eal[] = {"onvm-mgr",	      "-l",	  "0,1",
					  "--vdev=net_null0", "--no-pci", NULL};
	assert_eal(&line->config, eal);
	assert_string_equal(line->config.file_prefix, MGR_DEFAULT_PREFIX);
	assert_defaults_after_eal(&line->config);
}

static void test_all_short_options(void **state)
{
	struct line *line = *state;
	parse_ok(line, "onvm-mgr -l 0,1 --file-prefix=h1 --vdev=net_null0 -- -c cat.json -k 2-5 "
		       "-s 2,3 -d 4 -p 0:2,3>1 -p 1:5 -t 250 -f /tmp/stats -m 4095 -q -H host1 "
		       "-b tcp://127.0.0.1:1883");
	const struct mgr_config *config = &line->config;
	static const char *const eal[] = {"onvm-mgr",	      "-l",	  "0,1", "--file-prefix=h1",
					  "--vdev=net_null0", "--no-pci", NULL};
	assert_eal(config, eal);
	assert_string_equal(config->file_prefix, "h1");
	assert_string_equal(config->catalog_path, "cat.json");
	assert_int_equal(config->nf_cores_given, 1);
	assert_int_equal(core_pool_size(&config->nf_cores), 4);
	assert_true(core_pool_contains(&config->nf_cores, 2));
	assert_true(core_pool_contains(&config->nf_cores, 5));
	assert_int_equal(config->nb_start, 2);
	assert_int_equal(config->start_services[0], 2);
	assert_int_equal(config->start_services[1], 3);
	assert_int_equal(config->default_service, 4);
	assert_int_equal(config->chains[0].set, 1);
	assert_int_equal(config->chains[0].chain_len, 2);
	assert_int_equal(config->chains[0].chain[0], 2);
	assert_int_equal(config->chains[0].chain[1], 3);
	assert_int_equal(config->chains[0].egress_port, 1);
	assert_int_equal(config->chains[1].set, 1);
	assert_int_equal(config->chains[1].chain_len, 1);
	assert_int_equal(config->chains[1].chain[0], 5);
	assert_int_equal(config->chains[1].egress_port, -1);
	assert_int_equal(config->chains[2].set, 0);
	assert_int_equal(config->stats_period_ms, 250);
	assert_string_equal(config->stats_file, "/tmp/stats");
	assert_int_equal(config->nb_mbufs, 4095);
	assert_int_equal(config->quiet, 1);
	assert_string_equal(config->host, "host1");
	assert_string_equal(config->bus.uri, "tcp://127.0.0.1:1883");
}

static void test_all_long_options(void **state)
{
	struct line *line = *state;
	parse_ok(line, "onvm-mgr --file-prefix h2 --huge-dir=/mnt/huge -- --catalog=c.json "
		       "--nf-cores 8 --start=7 --default-service 9 --port-chain=3:4>2 "
		       "--stats-period 60000 --stats-file=s.txt --mbufs 1023 --quiet "
		       "--no-direct-tx --host=h --broker b:1");
	const struct mgr_config *config = &line->config;
	static const char *const eal[] = {
	    "onvm-mgr", "--file-prefix", "h2", "--huge-dir=/mnt/huge", "--no-pci", NULL};
	assert_eal(config, eal);
	assert_string_equal(config->file_prefix, "h2");
	assert_string_equal(config->huge_dir, "/mnt/huge");
	assert_string_equal(config->catalog_path, "c.json");
	assert_int_equal(core_pool_size(&config->nf_cores), 1);
	assert_true(core_pool_contains(&config->nf_cores, 8));
	assert_int_equal(config->nb_start, 1);
	assert_int_equal(config->start_services[0], 7);
	assert_int_equal(config->default_service, 9);
	assert_int_equal(config->chains[3].set, 1);
	assert_int_equal(config->chains[3].chain[0], 4);
	assert_int_equal(config->chains[3].egress_port, 2);
	assert_int_equal(config->stats_period_ms, 60000);
	assert_string_equal(config->stats_file, "s.txt");
	assert_int_equal(config->nb_mbufs, 1023);
	assert_int_equal(config->quiet, 1);
	assert_int_equal(config->no_direct_tx, 1);
	assert_string_equal(config->host, "h");
	assert_string_equal(config->bus.uri, "b:1");
}

static void test_huge_dir_separate_value(void **state)
{
	struct line *line = *state;
	parse_ok(line, "onvm-mgr --huge-dir /dev/hugepages --file-prefix=x --");
	assert_string_equal(line->config.huge_dir, "/dev/hugepages");
	assert_string_equal(line->config.file_prefix, "x");
	assert_true(has_eal_arg(&line->config, "/dev/hugepages"));
}

static void test_pci_options_skip_no_pci(void **state)
{
	struct line *line = *state;
	static const char *const lines[] = {
	    "onvm-mgr -a 0000:01:00.0 --",	"onvm-mgr --allow=0000:01:00.0 --",
	    "onvm-mgr --allow 0000:01:00.0",	"onvm-mgr -b 0000:01:00.0 -- -q",
	    "onvm-mgr --block=0000:01:00.0 --", "onvm-mgr --pci-whitelist 0000:01:00.0 --",
	};
	for (size_t i = 0; i < sizeof(lines) / sizeof(lines[0]); i++) {
		parse_ok(line, lines[i]);
		if (has_eal_arg(&line->config, "--no-pci"))
			fail_msg("'%s': --no-pci added", lines[i]);
		assert_null(line->config.eal_argv[line->config.eal_argc]);
	}
}

static void test_manager_b_is_broker_not_pci(void **state)
{
	/* -b after "--" is the broker; it must not turn PCI probing on. */
	struct line *line = *state;
	parse_ok(line, "onvm-mgr -l 0 -- -H h1 -b tcp://h:1883");
	assert_true(has_eal_arg(&line->config, "--no-pci"));
	assert_string_equal(line->config.bus.uri, "tcp://h:1883");
	assert_string_equal(line->config.host, "h1");
}

static void test_broker_needs_a_valid_host(void **state)
{
	struct line *line = *state;
	parse_bad(line, "onvm-mgr -- -b tcp://h:1883", "--broker needs --host");
	parse_bad(line, "onvm-mgr -- -b tcp://h:1883 -H a/b", "--broker needs --host");
	parse_bad(line, "onvm-mgr -- -b tcp://h:1883 -H h#", "--broker needs --host");
	parse_ok(line, "onvm-mgr -- -b tcp://h:1883 -H h-1.x_y --bus-root lab/onvm "
		       "--bus-user u --bus-password-file /p");
	assert_string_equal(line->config.bus.root, "lab/onvm");
	assert_string_equal(line->config.bus.user, "u");
	assert_string_equal(line->config.bus.password_file, "/p");
	parse_ok(line, "onvm-mgr -- -b ssl://h:8883 -H h1 --bus-ca /ca --bus-cert /c --bus-key /k");
	assert_string_equal(line->config.bus.ca_file, "/ca");
	assert_string_equal(line->config.bus.cert_file, "/c");
	assert_string_equal(line->config.bus.key_file, "/k");
	parse_bad(line, "onvm-mgr -- -b tcp://h:1883 -H h1 --bus-ca /ca", "need an ssl:// broker");
	parse_bad(line, "onvm-mgr -- -b ssl://h:8883 -H h1 --bus-cert /c", "go together");
	parse_bad(line, "onvm-mgr -- -H h1 --bus-password-file /p", "need --broker");
}

/* --bus-keepalive: whole seconds in 1..MGR_MAX_BUS_KEEPALIVE_S, with a broker. */
static void test_bus_keepalive(void **state)
{
	struct line *line = *state;
	parse_ok(line, "onvm-mgr -- -H h1 -b tcp://h:1883");
	assert_int_equal(line->config.bus_keepalive_s, MGR_DEFAULT_BUS_KEEPALIVE_S);
	parse_ok(line, "onvm-mgr -- -H h1 -b tcp://h:1883 --bus-keepalive 1");
	assert_int_equal(line->config.bus_keepalive_s, 1);
	parse_ok(line, "onvm-mgr -- -H h1 -b tcp://h:1883 --bus-keepalive=300");
	assert_int_equal(line->config.bus_keepalive_s, MGR_MAX_BUS_KEEPALIVE_S);
	const char *bad = "bad bus keepalive";
	parse_bad(line, "onvm-mgr -- -H h1 -b tcp://h:1883 --bus-keepalive 0", bad);
	parse_bad(line, "onvm-mgr -- -H h1 -b tcp://h:1883 --bus-keepalive 301", bad);
	parse_bad(line, "onvm-mgr -- -H h1 -b tcp://h:1883 --bus-keepalive -5", bad);
	parse_bad(line, "onvm-mgr -- -H h1 -b tcp://h:1883 --bus-keepalive 2.5", bad);
	parse_bad(line, "onvm-mgr -- -H h1 -b tcp://h:1883 --bus-keepalive 5s", bad);
	parse_bad(line, "onvm-mgr -- -H h1 -b tcp://h:1883 --bus-keepalive= ", bad);
	parse_bad(line, "onvm-mgr -- -H h1 -b tcp://h:1883 --bus-keepalive 99999999999999999999",
		  bad);
	parse_bad(line, "onvm-mgr -- -H h1 --bus-keepalive 5", "--bus-keepalive needs --broker");
}

/* --alarm-ms: whole ms in 0..MGR_ALARM_MAX_MS; 0 turns alarms off; no bus needed
 * (the alarms are logged too). */
static void test_alarm_ms(void **state)
{
	struct line *line = *state;
	parse_ok(line, "onvm-mgr -- -q");
	assert_int_equal(line->config.alarm_ms, MGR_ALARM_DEFAULT_MS);
	parse_ok(line, "onvm-mgr -- --alarm-ms 0");
	assert_int_equal(line->config.alarm_ms, 0);
	parse_ok(line, "onvm-mgr -- --alarm-ms=5");
	assert_int_equal(line->config.alarm_ms, 5);
	parse_ok(line, "onvm-mgr -- -H h1 -b tcp://h:1883 --alarm-ms 10000");
	assert_int_equal(line->config.alarm_ms, MGR_ALARM_MAX_MS);
	const char *bad = "bad alarm time";
	parse_bad(line, "onvm-mgr -- --alarm-ms 10001", bad);
	parse_bad(line, "onvm-mgr -- --alarm-ms -1", bad);
	parse_bad(line, "onvm-mgr -- --alarm-ms +20", bad);
	parse_bad(line, "onvm-mgr -- --alarm-ms 20ms", bad);
	parse_bad(line, "onvm-mgr -- --alarm-ms 2.5", bad);
	parse_bad(line, "onvm-mgr -- --alarm-ms 0x14", bad);
	parse_bad(line, "onvm-mgr -- --alarm-ms=", bad);
	parse_bad(line, "onvm-mgr -- --alarm-ms 99999999999999999999", bad);
	parse_bad(line, "onvm-mgr -- --alarm-ms", "missing value");
}

static void test_fabric(void **state)
{
	struct line *line = *state;
	/* Without --fabric, the -T address's /24. */
	parse_ok(line, "onvm-mgr -- -T 1:10.250.7.9 -H h1 -b tcp://h:1");
	assert_int_equal(line->config.fabric_prefix, 24);
	assert_memory_equal(line->config.fabric_ip, ((const uint8_t[]){10, 250, 7, 9}), 4);
	parse_ok(line, "onvm-mgr -- -T 1:10.250.7.9 --fabric 10.250.0.0/16 -H h1 -b tcp://h:1");
	assert_int_equal(line->config.fabric_prefix, 16);
	parse_bad(line, "onvm-mgr -- -T 1:10.251.0.1 --fabric 10.250.0.0/16 -H h1 -b tcp://h:1",
		  "outside --fabric");
	parse_bad(line, "onvm-mgr -- --fabric 10.250.0.0/16 -H h1 -b tcp://h:1",
		  "goes with --tunnel");
	parse_bad(line, "onvm-mgr -- -T 1:10.250.0.1 --fabric 10.250.0.0 -H h1 -b tcp://h:1",
		  "bad fabric");
	parse_bad(line, "onvm-mgr -- -T 1:10.250.0.1 --fabric 10.250.0.0/32 -H h1 -b tcp://h:1",
		  "bad fabric");
	parse_bad(line, "onvm-mgr -- -T 1:10.250.0.1 --fabric ten/8 -H h1 -b tcp://h:1",
		  "not an IPv4 address");
}

static void test_tunnel_and_netns(void **state)
{
	struct line *line = *state;
	parse_ok(line, "onvm-mgr -- -T 1:10.250.0.7 --netns lab-h7 -H h7 -b tcp://h:1");
	assert_true(line->config.tunnel_set);
	assert_int_equal(line->config.tunnel_port, 1);
	const uint8_t ip[4] = {10, 250, 0, 7};
	assert_memory_equal(line->config.tunnel_ip, ip, 4);
	assert_string_equal(line->config.netns, "lab-h7");
	parse_ok(line, "onvm-mgr -- --tunnel=0:192.168.1.1 -H h -b tcp://h:1");
	assert_int_equal(line->config.tunnel_port, 0);

	const char *want = "want PORT:IPv4";
	parse_bad(line, "onvm-mgr -- -T 1 -H h -b tcp://h:1", want);
	parse_bad(line, "onvm-mgr -- -T 1:10.250.0 -H h -b tcp://h:1", want);
	parse_bad(line, "onvm-mgr -- -T 1:10.250.0.300 -H h -b tcp://h:1", want);
	parse_bad(line, "onvm-mgr -- -T 16:10.0.0.1 -H h -b tcp://h:1", want);
	parse_bad(line, "onvm-mgr -- -T x:10.0.0.1 -H h -b tcp://h:1", want);
	parse_bad(line, "onvm-mgr -- -T 1:fe80::1 -H h -b tcp://h:1", want);
	parse_bad(line, "onvm-mgr -- -T 1:10.0.0.1", "--tunnel needs --broker");
	parse_bad(line, "onvm-mgr -- --netns a/b", "bad namespace name");
	parse_bad(line, "onvm-mgr -- --netns", "unknown option or missing value");
}

static void test_eal_attached_allow_value_skips_no_pci(void **state)
{
	/* EAL (getopt) takes "-a0000:01:00.0" as -a with a value: it names a device. */
	struct line *line = *state;
	parse_ok(line, "onvm-mgr -a0000:01:00.0 --");
	assert_false(has_eal_arg(&line->config, "--no-pci"));
}

static void test_help(void **state)
{
	struct line *line = *state;
	assert_int_equal(parse_text(line, "onvm-mgr -l 0 -- -h"), 1);
	assert_contains(line->errors, "usage: onvm-mgr");
	assert_contains(line->errors, "--port-chain");
	assert_int_equal(parse_text(line, "onvm-mgr -- -q --help"), 1);
}

static void test_bad_options(void **state)
{
	struct line *line = *state;
	parse_bad(line, "onvm-mgr -- -z", "unknown option or missing value: -z");
	parse_bad(line, "onvm-mgr -- --bogus", "unknown option or missing value: --bogus");
	parse_bad(line, "onvm-mgr -- --quiet=1", "unknown option or missing value");
	parse_bad(line, "onvm-mgr -- -q -c", "unknown option or missing value: -c");
	parse_bad(line, "onvm-mgr -- --catalog", "unknown option or missing value: --catalog");
}

static void test_bad_stats_period(void **state)
{
	struct line *line = *state;
	parse_bad(line, "onvm-mgr -- -t 99", "bad stats period '99'");
	parse_bad(line, "onvm-mgr -- -t 60001", "bad stats period '60001'");
	parse_bad(line, "onvm-mgr -- -t -100", "bad stats period '-100'");
	parse_bad(line, "onvm-mgr -- -t 1s", "bad stats period '1s'");
	parse_bad(line, "onvm-mgr -- --stats-period=", "bad stats period ''");
	parse_ok(line, "onvm-mgr -- -t 100");
	assert_int_equal(line->config.stats_period_ms, 100);
}

static void test_bad_numbers(void **state)
{
	struct line *line = *state;
	parse_bad(line, "onvm-mgr -- -d 0", "bad default service '0'");
	parse_bad(line, "onvm-mgr -- -d 256", "bad default service '256'");
	parse_bad(line, "onvm-mgr -- -d x", "bad default service 'x'");
	parse_bad(line, "onvm-mgr -- -m 1022", "bad mbuf count '1022'");
	parse_bad(line, "onvm-mgr -- -m 4194305", "bad mbuf count '4194305'");
	parse_bad(line, "onvm-mgr -- -m 99999999999999999999999", "bad mbuf count");
	parse_ok(line, "onvm-mgr -- -d 255 -m 4194304");
	assert_int_equal(line->config.default_service, 255);
	assert_int_equal(line->config.nb_mbufs, 4194304);
}

static void test_bad_core_list_option(void **state)
{
	struct line *line = *state;
	parse_bad(line, "onvm-mgr -- -k 5-2", "bad core list '5-2'");
}

static void test_bad_chain_options(void **state)
{
	struct line *line = *state;
	static const char *const bad[] = {
	    "0",      "0:",   "0:1,", "16:1", "0:1>x", "0:0",	"0:1,2,3,4,5,6,7,8,9",
	    "0:1>16", "0:1>", "x:1",  ":1",   "0:1;2", "0:256",
	};
	char text[256];
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		snprintf(text, sizeof(text), "onvm-mgr -- -p %s", bad[i]);
		char message[128];
		snprintf(message, sizeof(message), "bad port chain '%s'", bad[i]);
		parse_bad(line, text, message);
	}
}

static void test_bad_start_options(void **state)
{
	struct line *line = *state;
	parse_bad(line, "onvm-mgr -- -s 2,,3", "bad start list '2,,3'");
	parse_bad(line, "onvm-mgr -- -s x", "bad start list 'x'");
	parse_bad(line, "onvm-mgr -- -s 2;3", "bad start list '2;3': unexpected ';'");
	parse_ok(line, "onvm-mgr -- -s 2,3,3");
	assert_int_equal(line->config.nb_start, 3);
	assert_int_equal(line->config.start_services[0], 2);
	assert_int_equal(line->config.start_services[1], 3);
	assert_int_equal(line->config.start_services[2], 3);
}

static void test_unexpected_positional(void **state)
{
	struct line *line = *state;
	parse_bad(line, "onvm-mgr -- -q stray", "unexpected argument: stray");
	parse_bad(line, "onvm-mgr -l 0 -- stray -q", "unexpected argument: stray");
}

static void test_too_many_eal_args(void **state)
{
	struct line *line = *state;
	clear_words(line);
	add_word(line, "onvm-mgr");
	for (int i = 0; i < MGR_MAX_EAL_ARGS; i++)
		add_word(line, "-v");
	add_word(line, "--");
	assert_int_equal(run_parse(line), -1);
	assert_contains(line->errors, "too many EAL arguments");
}

static void test_most_eal_args_accepted(void **state)
{
	struct line *line = *state;
	clear_words(line);
	add_word(line, "onvm-mgr");
	for (int i = 0; i < MGR_MAX_EAL_ARGS - 3; i++)
		add_word(line, "-v");
	add_word(line, "--");
	add_word(line, "-q");
	assert_int_equal(run_parse(line), 0);
	assert_int_equal(line->config.eal_argc, MGR_MAX_EAL_ARGS - 1);
	assert_string_equal(line->config.eal_argv[MGR_MAX_EAL_ARGS - 2], "--no-pci");
	assert_null(line->config.eal_argv[MGR_MAX_EAL_ARGS - 1]);
	assert_int_equal(line->config.quiet, 1);
}

static void test_eal_args_limit_with_two_word_option(void **state)
{
	/* 125 words, then "--file-prefix h1" (two words) and the added --no-pci:
	 * the list and its NULL must still fit in eal_argv[MGR_MAX_EAL_ARGS]. */
	struct line *line = *state;
	clear_words(line);
	add_word(line, "onvm-mgr");
	for (int i = 0; i < MGR_MAX_EAL_ARGS - 4; i++)
		add_word(line, "-v");
	add_word(line, "--file-prefix");
	add_word(line, "h1");
	add_word(line, "--");
	/* Not through run_parse: a sanitizer report must reach the real stderr. */
	int ret = mgr_args_parse(line->argc, line->argv, &line->config);
	if (ret == 0) {
		assert_true(line->config.eal_argc < MGR_MAX_EAL_ARGS);
		assert_null(line->config.eal_argv[line->config.eal_argc]);
		assert_string_equal(line->config.file_prefix, "h1");
	} else {
		assert_int_equal(ret, -1); /* refusing the line is fine too */
	}
}

static void test_reparse_after_error_in_option_cluster(void **state)
{
	/* "-zq" stops at the unknown -z; a later parse must not pick up the "q". */
	struct line *line = *state;
	struct line *other = calloc(1, sizeof(*other));
	assert_non_null(other);
	parse_bad(other, "onvm-mgr -- -zq", "unknown option or missing value");
	parse_ok(line, "onvm-mgr -- -c x.json");
	assert_string_equal(line->config.catalog_path, "x.json");
	int quiet = line->config.quiet;
	free(other);
	assert_int_equal(quiet, 0);
}

/* ---- mgr_args_parse_chain / mgr_args_parse_start directly ---- */

static void test_chain_good(void **state)
{
	struct line *line = *state;
	char err[256] = "";
	struct mgr_config *config = &line->config;
	assert_int_equal(mgr_args_parse_chain("0:1,2>1", config, err, sizeof(err)), 0);
	assert_int_equal(config->chains[0].set, 1);
	assert_int_equal(config->chains[0].chain_len, 2);
	assert_int_equal(config->chains[0].chain[0], 1);
	assert_int_equal(config->chains[0].chain[1], 2);
	assert_int_equal(config->chains[0].egress_port, 1);

	assert_int_equal(mgr_args_parse_chain("1:3", config, err, sizeof(err)), 0);
	assert_int_equal(config->chains[1].set, 1);
	assert_int_equal(config->chains[1].chain_len, 1);
	assert_int_equal(config->chains[1].chain[0], 3);
	assert_int_equal(config->chains[1].egress_port, -1);

	assert_int_equal(mgr_args_parse_chain("15:1,2,3,4,5,6,7,255>15", config, err, sizeof(err)),
			 0);
	assert_int_equal(config->chains[15].chain_len, ONVM_MAX_CHAIN);
	assert_int_equal(config->chains[15].chain[7], 255);
	assert_int_equal(config->chains[15].egress_port, 15);

	/* A later chain for the same port replaces the earlier one. */
	assert_int_equal(mgr_args_parse_chain("0:9", config, err, sizeof(err)), 0);
	assert_int_equal(config->chains[0].chain_len, 1);
	assert_int_equal(config->chains[0].chain[0], 9);
	assert_int_equal(config->chains[0].egress_port, -1);
}

static void test_chain_bad_keeps_config(void **state)
{
	struct line *line = *state;
	char err[256] = "";
	struct mgr_config *config = &line->config;
	assert_int_equal(mgr_args_parse_chain("0:4", config, err, sizeof(err)), 0);
	static const char *const bad[] = {
	    "0", "0:", "0:1,", "16:1", "0:1>x", "0:0", "0:1,2,3,4,5,6,7,8,9", "-1:1", "0:1>-1",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		err[0] = '\0';
		if (mgr_args_parse_chain(bad[i], config, err, sizeof(err)) != -1)
			fail_msg("chain '%s' accepted", bad[i]);
		assert_contains(err, "bad port chain");
		assert_contains(err, bad[i]);
		assert_int_equal(config->chains[0].chain_len, 1);
		assert_int_equal(config->chains[0].chain[0], 4);
	}
}

static void test_start_lists(void **state)
{
	struct line *line = *state;
	char err[256] = "";
	struct mgr_config *config = &line->config;
	assert_int_equal(mgr_args_parse_start("255", config, err, sizeof(err)), 0);
	assert_int_equal(config->nb_start, 1);
	assert_int_equal(config->start_services[0], 255);
	assert_int_equal(mgr_args_parse_start("256", config, err, sizeof(err)), -1);
	assert_contains(err, "bad start list '256'");
	assert_int_equal(mgr_args_parse_start("0", config, err, sizeof(err)), -1);
	assert_int_equal(mgr_args_parse_start("", config, err, sizeof(err)), -1);
	assert_int_equal(mgr_args_parse_start("3,", config, err, sizeof(err)), -1);

	char text[512] = "";
	for (int i = 0; i < MGR_MAX_START; i++)
		strcat(text, i ? ",2" : "2");
	assert_int_equal(mgr_args_parse_start(text, config, err, sizeof(err)), 0);
	assert_int_equal(config->nb_start, MGR_MAX_START);
	strcat(text, ",2");
	assert_int_equal(mgr_args_parse_start(text, config, err, sizeof(err)), -1);
	assert_contains(err, "at most 64");
}

/* A --config file in a temporary directory; returns its path. */
static const char *write_config(const char *name, const char *json)
{
	static char path[256];
	snprintf(path, sizeof(path), "/tmp/test_dp_args_%d_%s.json", (int)getpid(), name);
	FILE *file = fopen(path, "w");
	assert_non_null(file);
	fputs(json, file);
	fclose(file);
	return path;
}

static void test_config_file_alone(void **state)
{
	struct line *line = *state;
	const char *path = write_config(
	    "alone", "{\"eal\": [\"-l\", \"0,1\", \"--vdev=net_null0\"], \"catalog\": \"/c.json\","
		     " \"nf-cores\": \"2-5\", \"stats-period\": 200, \"quiet\": true,"
		     " \"alarm-ms\": 0, \"start\": [\"2\", \"3\"]}");
	char text[512];
	snprintf(text, sizeof(text), "onvm-mgr --config %s", path);
	parse_ok(line, text);
	assert_eal(&line->config, (const char *const[]){"onvm-mgr", "-l", "0,1", "--vdev=net_null0",
							"--no-pci", NULL});
	assert_string_equal(line->config.catalog_path, "/c.json");
	assert_int_equal(line->config.stats_period_ms, 200);
	assert_int_equal(line->config.alarm_ms, 0);
	assert_true(line->config.quiet);
	assert_true(line->config.nf_cores_given);
	/* A repeated option: the last --start wins, as on a command line. */
	assert_int_equal(line->config.nb_start, 1);
	assert_int_equal(line->config.start_services[0], 3);
	unlink(path);
}

static void test_config_file_flags_override(void **state)
{
	struct line *line = *state;
	const char *path =
	    write_config("override", "{\"eal\": [\"-l\", \"0,1\"], \"stats-period\": 200,"
				     " \"quiet\": false, \"catalog\": \"/file.json\"}");
	char text[512];
	/* Command-line EAL arguments replace the file's; later options win. */
	snprintf(text, sizeof(text), "onvm-mgr -l 0,3 -- --config=%s -t 500 -q", path);
	parse_ok(line, text);
	assert_eal(&line->config, (const char *const[]){"onvm-mgr", "-l", "0,3", "--no-pci", NULL});
	assert_int_equal(line->config.stats_period_ms, 500);
	assert_true(line->config.quiet);
	assert_string_equal(line->config.catalog_path, "/file.json");
	/* Without a command-line value the file's stays. */
	snprintf(text, sizeof(text), "onvm-mgr --config %s -- -c /flag.json", path);
	parse_ok(line, text);
	assert_eal(&line->config, (const char *const[]){"onvm-mgr", "-l", "0,1", "--no-pci", NULL});
	assert_int_equal(line->config.stats_period_ms, 200);
	assert_false(line->config.quiet);
	assert_string_equal(line->config.catalog_path, "/flag.json");
	unlink(path);
}

static void config_bad(struct line *line, const char *name, const char *json, const char *message)
{
	const char *path = write_config(name, json);
	char text[512];
	snprintf(text, sizeof(text), "onvm-mgr --config %s", path);
	int ret = parse_text(line, text);
	if (ret != -1)
		fail_msg("%s gave %d, expected -1", json, ret);
	assert_contains(line->errors, "onvm-mgr: ");
	assert_contains(line->errors, path);
	assert_contains(line->errors, message);
	unlink(path);
}

static void test_config_file_bad(void **state)
{
	struct line *line = *state;
	config_bad(line, "unknown", "{\"catalgo\": \"/c.json\"}", "unknown key \"catalgo\"");
	config_bad(line, "reserved", "{\"help\": true}", "unknown key \"help\" (not for a file)");
	config_bad(line, "nested", "{\"config\": \"/other.json\"}", "unknown key \"config\"");
	config_bad(line, "duplicate", "{\"quiet\": true, \"quiet\": false}", "duplicate");
	config_bad(line, "flag_type", "{\"quiet\": 1}", "\"quiet\" takes true or false");
	config_bad(line, "value_type", "{\"stats-period\": {\"ms\": 1}}", "string or a number");
	config_bad(line, "null", "{\"catalog\": null}", "string or a number");
	config_bad(line, "list_item", "{\"start\": [\"2\", true]}",
		   "string or a number in its list");
	config_bad(line, "empty", "{\"catalog\": \"\"}", "an empty string");
	config_bad(line, "empty_list", "{\"start\": []}", "an empty list");
	config_bad(line, "eal_type", "{\"eal\": \"-l 0,1\"}", "\"eal\" takes a list of strings");
	config_bad(line, "eal_item", "{\"eal\": [\"-l\", 0]}", "\"eal\" entry 1 is not a string");
	config_bad(line, "syntax", "{\"quiet\": true,", ":1:");
	config_bad(line, "array", "[\"-q\"]", "not a JSON object");
	/* A value the option itself refuses: the option's own error. */
	const char *path = write_config("range", "{\"stats-period\": 5}");
	char text[512];
	snprintf(text, sizeof(text), "onvm-mgr --config %s", path);
	assert_int_equal(parse_text(line, text), -1);
	assert_contains(line->errors, "bad stats period '5'");
	unlink(path);

	parse_bad(line, "onvm-mgr -- --config", "--config needs a FILE");
	parse_bad(line, "onvm-mgr --config /a.json -- --config /b.json", "--config given twice");
	assert_int_equal(parse_text(line, "onvm-mgr --config /nonexistent/x.json"), -1);
	assert_contains(line->errors, "/nonexistent/x.json: cannot open");
}

#define LINE_TEST(f) cmocka_unit_test_setup_teardown(f, setup_line, teardown_line)

int main(void)
{
	const struct CMUnitTest tests[] = {
	    LINE_TEST(test_defaults_without_separator),
	    LINE_TEST(test_eal_args_and_empty_options),
	    LINE_TEST(test_all_short_options),
	    LINE_TEST(test_all_long_options),
	    LINE_TEST(test_huge_dir_separate_value),
	    LINE_TEST(test_pci_options_skip_no_pci),
	    LINE_TEST(test_manager_b_is_broker_not_pci),
	    LINE_TEST(test_broker_needs_a_valid_host),
	    LINE_TEST(test_tunnel_and_netns),
	    LINE_TEST(test_fabric),
	    LINE_TEST(test_alarm_ms),
	    LINE_TEST(test_bus_keepalive),
	    LINE_TEST(test_eal_attached_allow_value_skips_no_pci),
	    LINE_TEST(test_help),
	    LINE_TEST(test_bad_options),
	    LINE_TEST(test_bad_stats_period),
	    LINE_TEST(test_bad_numbers),
	    LINE_TEST(test_bad_core_list_option),
	    LINE_TEST(test_bad_chain_options),
	    LINE_TEST(test_bad_start_options),
	    LINE_TEST(test_unexpected_positional),
	    LINE_TEST(test_too_many_eal_args),
	    LINE_TEST(test_most_eal_args_accepted),
	    LINE_TEST(test_chain_good),
	    LINE_TEST(test_chain_bad_keeps_config),
	    LINE_TEST(test_start_lists),
	    LINE_TEST(test_reparse_after_error_in_option_cluster),
	    LINE_TEST(test_eal_args_limit_with_two_word_option),
	    LINE_TEST(test_config_file_alone),
	    LINE_TEST(test_config_file_flags_override),
	    LINE_TEST(test_config_file_bad),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
