/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * test_policy_service_rules.c - unit tests of policy/service_rules.c, the
 * --services file: a good file and its defaults, and every fault that must
 * refuse it (unknown keys, bad types and ranges, min > max, duplicates,
 * unreadable or non-JSON files).
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

#include "service_rules.h"

static int parse(const char *text, struct service_rules *rules, char *err, size_t errlen)
{
	return service_rules_parse(text, strlen(text), "svc.json", rules, err, errlen);
}

/* The text is refused, with a reason containing want. */
static void refused(const char *text, const char *want)
{
	struct service_rules rules;
	char err[256] = "";
	assert_int_equal(parse(text, &rules, err, sizeof(err)), -1);
	if (!strstr(err, want))
		fail_msg("'%s': reason '%s' lacks '%s'", text, err, want);
	assert_int_equal(rules.n, 0);
	assert_null(rules.rules);
}

static void test_good_file(void **state)
{
	(void)state;
	struct service_rules rules;
	char err[256];
	assert_int_equal(parse("{\"services\":[{\"id\":7},{\"id\":2,\"min\":1,\"max\":6,"
			       "\"scale_in_after_ms\":60000},{\"id\":65535,\"min\":4096}]}",
			       &rules, err, sizeof(err)),
			 0);
	assert_int_equal(rules.n, 3);
	const struct service_rule *two = service_rules_find(&rules, 2);
	assert_non_null(two);
	assert_int_equal(two->min, 1);
	assert_true(two->has_max);
	assert_int_equal(two->max, 6);
	assert_true(two->has_scale_in_ms);
	assert_int_equal(two->scale_in_ms, 60000);
	const struct service_rule *seven = service_rules_find(&rules, 7);
	assert_non_null(seven);
	assert_int_equal(seven->min, 0); /* the defaults */
	assert_false(seven->has_max);
	assert_false(seven->has_scale_in_ms);
	assert_int_equal(service_rules_find(&rules, 65535)->min, 4096);
	assert_null(service_rules_find(&rules, 3));
	struct service_rules copy;
	assert_int_equal(service_rules_copy(&copy, &rules), 0);
	assert_int_equal(service_rules_find(&copy, 2)->max, 6);
	service_rules_free(&copy);
	service_rules_free(&rules);
	assert_int_equal(parse("{\"services\":[]}", &rules, err, sizeof(err)), 0);
	assert_int_equal(rules.n, 0);
	assert_null(service_rules_find(&rules, 2));
}

static void test_unknown_keys(void **state)
{
	(void)state;
	refused("{\"services\":[{\"id\":2}],\"extra\":1}", "unknown key \"extra\"");
	refused("{\"services\":[{\"id\":2,\"maximum\":3}]}",
		"services[0]: unknown key \"maximum\"");
	refused("{}", "\"services\" must be an array");
}

static void test_bad_values(void **state)
{
	(void)state;
	refused("{\"services\":[{\"id\":0}]}", "\"id\" must be an integer in 1..65535");
	refused("{\"services\":[{\"id\":65536}]}", "\"id\" must be an integer in 1..65535");
	refused("{\"services\":[{\"id\":\"2\"}]}", "\"id\" must be an integer");
	refused("{\"services\":[{\"id\":2.0}]}", "\"id\" must be an integer");
	refused("{\"services\":[{\"id\":true}]}", "\"id\" must be an integer");
	refused("{\"services\":[{\"min\":1}]}", "no \"id\"");
	refused("{\"services\":[{\"id\":2,\"min\":-1}]}", "\"min\" must be an integer in 0..4096");
	refused("{\"services\":[{\"id\":2,\"min\":4097}]}", "\"min\"");
	refused("{\"services\":[{\"id\":2,\"max\":0}]}", "\"max\" must be an integer in 1..4096");
	refused("{\"services\":[{\"id\":2,\"max\":null}]}", "\"max\"");
	refused("{\"services\":[{\"id\":2,\"scale_in_after_ms\":0}]}", "\"scale_in_after_ms\"");
	refused("{\"services\":[{\"id\":2,\"scale_in_after_ms\":86400001}]}",
		"\"scale_in_after_ms\"");
	refused("{\"services\":[2]}", "services[0]: not an object");
	refused("[]", "not a JSON object");
	refused("{\"services\":[{\"id\":2}]", "not valid JSON");
}

static void test_min_over_max(void **state)
{
	(void)state;
	refused("{\"services\":[{\"id\":2,\"min\":3,\"max\":2}]}", "service 2: min 3 > max 2");
	struct service_rules rules;
	char err[256];
	assert_int_equal(
	    parse("{\"services\":[{\"id\":2,\"min\":2,\"max\":2}]}", &rules, err, sizeof(err)), 0);
	service_rules_free(&rules);
}

static void test_duplicates(void **state)
{
	(void)state;
	refused("{\"services\":[{\"id\":4},{\"id\":2},{\"id\":4,\"min\":1}]}",
		"service 4 is listed twice");
	refused("{\"services\":[{\"id\":2,\"min\":1,\"min\":2}]}", "duplicate");
}

static void test_files(void **state)
{
	(void)state;
	struct service_rules rules;
	char err[512];
	assert_int_equal(service_rules_load("/nonexistent/svc.json", &rules, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "cannot read /nonexistent/svc.json"));
	char path[] = "/tmp/test_service_rules.XXXXXX";
	int fd = mkstemp(path);
	assert_true(fd >= 0);
	const char text[] = "{\"services\": [{\"id\": 3, \"min\": 1}]}\n";
	assert_int_equal(write(fd, text, sizeof(text) - 1), (ssize_t)(sizeof(text) - 1));
	close(fd);
	assert_int_equal(service_rules_load(path, &rules, err, sizeof(err)), 0);
	assert_int_equal(service_rules_find(&rules, 3)->min, 1);
	service_rules_free(&rules);
	unlink(path);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_good_file),  cmocka_unit_test(test_unknown_keys),
	    cmocka_unit_test(test_bad_values), cmocka_unit_test(test_min_over_max),
	    cmocka_unit_test(test_duplicates), cmocka_unit_test(test_files),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
