/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * test_bus_topics.c - unit tests of bus/topics.c: builders, filters,
 * parser, name validation and the configurable root.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "topics.h"

static void test_host_topics(void **state)
{
	static const struct {
		enum bus_kind kind;
		const char *topic;
	} cases[] = {
	    {BUS_KIND_STATE, "onvm/hosts/h1/state"},
	    {BUS_KIND_SERVICES, "onvm/hosts/h1/services"},
	    {BUS_KIND_STATS, "onvm/hosts/h1/stats"},
	    {BUS_KIND_CMD, "onvm/hosts/h1/cmd"},
	    {BUS_KIND_EVENTS, "onvm/hosts/h1/events"},
	    {BUS_KIND_ALARMS, "onvm/hosts/h1/alarms"},
	};
	char buf[BUS_TOPIC_MAX];
	struct bus_topic parsed;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		assert_int_equal(bus_topic_host(buf, sizeof(buf), "h1", cases[i].kind), 0);
		assert_string_equal(buf, cases[i].topic);
		assert_int_equal(bus_topic_parse(buf, &parsed), 0);
		assert_int_equal(parsed.kind, cases[i].kind);
		assert_string_equal(parsed.name, "h1");
	}
	/* Only per-host kinds have per-host topics. */
	assert_int_equal(bus_topic_host(buf, sizeof(buf), "h1", BUS_KIND_DECISIONS), BUS_ERR_ARG);
	assert_int_equal(bus_topic_host(buf, sizeof(buf), "h1", BUS_KIND_UNKNOWN), BUS_ERR_ARG);
	assert_int_equal(bus_topic_host(buf, sizeof(buf), "h1", BUS_KIND_COUNT), BUS_ERR_ARG);
}

static void test_policy_topics(void **state)
{
	char buf[BUS_TOPIC_MAX];
	struct bus_topic parsed;

	(void)state;
	assert_int_equal(bus_topic_decisions(buf, sizeof(buf)), 0);
	assert_string_equal(buf, "onvm/policy/decisions");
	assert_int_equal(bus_topic_parse(buf, &parsed), 0);
	assert_int_equal(parsed.kind, BUS_KIND_DECISIONS);
	assert_string_equal(parsed.name, "");

	assert_int_equal(bus_topic_engine(buf, sizeof(buf), "pe-a"), 0);
	assert_string_equal(buf, "onvm/policy/engines/pe-a");
	assert_int_equal(bus_topic_parse(buf, &parsed), 0);
	assert_int_equal(parsed.kind, BUS_KIND_ENGINE);
	assert_string_equal(parsed.name, "pe-a");
	assert_int_equal(bus_topic_engine(buf, sizeof(buf), "pe/a"), BUS_ERR_NAME);
}

static void test_filters(void **state)
{
	char buf[BUS_TOPIC_MAX];

	(void)state;
	assert_int_equal(bus_topic_filter(buf, sizeof(buf), BUS_KIND_STATS), 0);
	assert_string_equal(buf, "onvm/hosts/+/stats");
	assert_int_equal(bus_topic_filter(buf, sizeof(buf), BUS_KIND_ENGINE), 0);
	assert_string_equal(buf, "onvm/policy/engines/+");
	assert_int_equal(bus_topic_filter(buf, sizeof(buf), BUS_KIND_DECISIONS), 0);
	assert_string_equal(buf, "onvm/policy/decisions");
	assert_int_equal(bus_topic_filter(buf, sizeof(buf), BUS_KIND_UNKNOWN), 0);
	assert_string_equal(buf, "onvm/#");
	assert_int_equal(bus_topic_filter(buf, sizeof(buf), BUS_KIND_COUNT), BUS_ERR_ARG);
}

static void test_name_validation(void **state)
{
	char longest[BUS_NAME_MAX + 1], too_long[BUS_NAME_MAX + 2];
	static const char *const bad[] = {"",	  "a/b",  "a+b",	 "a#",	      "a b",
					  "a\tb", "\x7f", "caf\xc3\xa9", "new\nline", " lead"};
	char buf[BUS_TOPIC_MAX];
	size_t i;

	(void)state;
	memset(longest, 'x', BUS_NAME_MAX);
	longest[BUS_NAME_MAX] = '\0';
	memset(too_long, 'x', BUS_NAME_MAX + 1);
	too_long[BUS_NAME_MAX + 1] = '\0';

	assert_true(bus_name_valid("h1"));
	assert_true(bus_name_valid("alpha-01.lab_x"));
	assert_true(bus_name_valid(longest));
	assert_false(bus_name_valid(too_long));
	assert_false(bus_name_valid(NULL));
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_false(bus_name_valid(bad[i]));
		assert_int_equal(bus_topic_host(buf, sizeof(buf), bad[i], BUS_KIND_STATE),
				 BUS_ERR_NAME);
	}
	assert_int_equal(bus_topic_host(buf, sizeof(buf), too_long, BUS_KIND_STATE), BUS_ERR_NAME);
	assert_int_equal(bus_topic_host(buf, sizeof(buf), NULL, BUS_KIND_STATE), BUS_ERR_NAME);
}

static void test_parse_rejects(void **state)
{
	static const struct {
		const char *topic;
		int err;
	} cases[] = {
	    {"", BUS_ERR_TOPIC},
	    {"onvm", BUS_ERR_TOPIC},
	    {"onvm/", BUS_ERR_TOPIC},
	    {"onvmx/hosts/h1/state", BUS_ERR_TOPIC},
	    {"other/hosts/h1/state", BUS_ERR_TOPIC},
	    {"/onvm/hosts/h1/state", BUS_ERR_TOPIC},
	    {"onvm/hosts/h1", BUS_ERR_TOPIC},
	    {"onvm/hosts/h1/", BUS_ERR_TOPIC},
	    {"onvm/hosts/h1/foo", BUS_ERR_TOPIC},
	    {"onvm/hosts/h1/state/extra", BUS_ERR_TOPIC},
	    {"onvm/hosts/h1/State", BUS_ERR_TOPIC},
	    {"onvm/policy/decisions/x", BUS_ERR_TOPIC},
	    {"onvm/policy", BUS_ERR_TOPIC},
	    {"onvm/hosts//state", BUS_ERR_NAME},
	    {"onvm/hosts/+/state", BUS_ERR_NAME},
	    {"onvm/hosts/a b/state", BUS_ERR_NAME},
	    {"onvm/hosts/0123456789012345678901234567890123456789012345678901234567890123/stats",
	     BUS_ERR_NAME},
	    {"onvm/policy/engines/", BUS_ERR_NAME},
	    {"onvm/policy/engines/a/b", BUS_ERR_NAME},
	};
	struct bus_topic parsed;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		memset(&parsed, 0x55, sizeof(parsed));
		assert_int_equal(bus_topic_parse(cases[i].topic, &parsed), cases[i].err);
		assert_int_equal(parsed.kind, BUS_KIND_UNKNOWN);
		assert_string_equal(parsed.name, "");
	}
	assert_int_equal(bus_topic_parse(NULL, &parsed), BUS_ERR_ARG);
	assert_int_equal(bus_topic_parse("onvm/policy/decisions", NULL), BUS_ERR_ARG);
}

static void test_buffer_too_small(void **state)
{
	char buf[12];

	(void)state;
	assert_int_equal(bus_topic_host(buf, sizeof(buf), "h1", BUS_KIND_STATE), BUS_ERR_NOSPC);
	assert_string_equal(buf, "");
	/* "onvm/hosts/h1/state" is 19 bytes: 20 fits, 19 does not. */
	assert_int_equal(bus_topic_host(buf, 0, "h1", BUS_KIND_STATE), BUS_ERR_NOSPC);
	{
		char exact[20];

		assert_int_equal(bus_topic_host(exact, 19, "h1", BUS_KIND_STATE), BUS_ERR_NOSPC);
		assert_int_equal(bus_topic_host(exact, 20, "h1", BUS_KIND_STATE), 0);
	}
	assert_int_equal(bus_topic_decisions(buf, sizeof(buf)), BUS_ERR_NOSPC);
	assert_int_equal(bus_topic_engine(buf, sizeof(buf), "pe-a"), BUS_ERR_NOSPC);
}

static void test_root(void **state)
{
	char buf[BUS_TOPIC_MAX], root_max[BUS_ROOT_MAX + 2], name_max[BUS_NAME_MAX + 1];
	static const char *const bad[] = {"", "/x", "x/", "a//b", "a+b", "a#", "$SYS", "a b"};
	struct bus_topic parsed;
	size_t i;

	(void)state;
	assert_string_equal(bus_topic_root(), "onvm");
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(bus_topic_set_root(bad[i]), BUS_ERR_NAME);
	assert_int_equal(bus_topic_set_root(NULL), BUS_ERR_NAME);
	assert_string_equal(bus_topic_root(), "onvm");

	assert_int_equal(bus_topic_set_root("lab/onvm2"), 0);
	assert_int_equal(bus_topic_host(buf, sizeof(buf), "h1", BUS_KIND_STATS), 0);
	assert_string_equal(buf, "lab/onvm2/hosts/h1/stats");
	assert_int_equal(bus_topic_parse(buf, &parsed), 0);
	assert_int_equal(parsed.kind, BUS_KIND_STATS);
	assert_int_equal(bus_topic_parse("onvm/hosts/h1/stats", &parsed), BUS_ERR_TOPIC);
	assert_int_equal(bus_topic_filter(buf, sizeof(buf), BUS_KIND_UNKNOWN), 0);
	assert_string_equal(buf, "lab/onvm2/#");

	/* The longest root and name still fit BUS_TOPIC_MAX. */
	memset(root_max, 'r', BUS_ROOT_MAX);
	root_max[BUS_ROOT_MAX] = '\0';
	memset(name_max, 'n', BUS_NAME_MAX);
	name_max[BUS_NAME_MAX] = '\0';
	assert_int_equal(bus_topic_set_root(root_max), 0);
	assert_int_equal(bus_topic_engine(buf, sizeof(buf), name_max), 0);
	assert_int_equal(bus_topic_host(buf, sizeof(buf), name_max, BUS_KIND_SERVICES), 0);
	assert_int_equal(bus_topic_parse(buf, &parsed), 0);
	assert_string_equal(parsed.name, name_max);
	root_max[BUS_ROOT_MAX] = 'r';
	root_max[BUS_ROOT_MAX + 1] = '\0';
	assert_int_equal(bus_topic_set_root(root_max), BUS_ERR_NAME);

	assert_int_equal(bus_topic_set_root(BUS_ROOT_DEFAULT), 0);
	assert_string_equal(bus_topic_root(), "onvm");
}

static void test_kind_names(void **state)
{
	(void)state;
	assert_string_equal(bus_kind_name(BUS_KIND_STATE), "state");
	assert_string_equal(bus_kind_name(BUS_KIND_ENGINE), "engine");
	assert_string_equal(bus_kind_name(BUS_KIND_UNKNOWN), "unknown");
	assert_string_equal(bus_kind_name((enum bus_kind)99), "unknown");
	assert_string_equal(bus_strerror(BUS_ERR_NAME), "invalid name");
	assert_string_equal(bus_strerror(-1000), "unknown error");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_host_topics),	  cmocka_unit_test(test_policy_topics),
	    cmocka_unit_test(test_filters),	  cmocka_unit_test(test_name_validation),
	    cmocka_unit_test(test_parse_rejects), cmocka_unit_test(test_buffer_too_small),
	    cmocka_unit_test(test_root),	  cmocka_unit_test(test_kind_names),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
