/* SPDX-License-Identifier: BSD-3-Clause */
/* test_dp_catalog.c - unit tests for the service catalog (dp/catalog.c). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "catalog.h"

#define BASE "/opt/onvm"

/* ---- helpers ---- */

static int setup_catalog(void **state)
{
	*state = calloc(1, sizeof(struct catalog));
	return *state == NULL ? -1 : 0;
}

static int teardown_catalog(void **state)
{
	catalog_free(*state);
	free(*state);
	return 0;
}

static void assert_contains(const char *text, const char *part)
{
	if (strstr(text, part) == NULL)
		fail_msg("'%s' does not contain '%s'", text, part);
}

static void parse_ok(struct catalog *catalog, const char *text, const char *base_dir)
{
	char err[256] = "";
	if (catalog_parse(text, base_dir, catalog, err, sizeof(err)) != 0)
		fail_msg("catalog rejected: %s\n%s", err, text);
}

/* Parse text that must fail, with a message containing each of parts. */
static void parse_bad(struct catalog *catalog, const char *text, const char *part,
		      const char *part2)
{
	char err[256] = "";
	if (catalog_parse(text, BASE, catalog, err, sizeof(err)) != -1)
		fail_msg("catalog accepted:\n%s", text);
	if (err[0] == '\0')
		fail_msg("no message for:\n%s", text);
	assert_contains(err, part);
	if (part2 != NULL)
		assert_contains(err, part2);
	assert_int_equal(catalog->count, 0);
	assert_null(catalog_find(catalog, 2));
}

/* A catalog with one entry whose body is given (without braces). */
static void parse_bad_entry(struct catalog *catalog, const char *body, const char *part,
			    const char *part2)
{
	char text[4096];
	snprintf(text, sizeof(text),
		 "{\"services\": [{\"id\": 1, \"name\": \"ok\", \"exec\": \"a\"}, {%s}]}", body);
	parse_bad(catalog, text, part, part2);
}

static char *make_temp_dir(void)
{
	char *dir = strdup("/tmp/test_dp_catalog.XXXXXX");
	assert_non_null(dir);
	assert_non_null(mkdtemp(dir));
	return dir;
}

static void write_file(const char *path, const char *text, mode_t mode)
{
	FILE *file = fopen(path, "w");
	assert_non_null(file);
	assert_int_equal(fputs(text, file) >= 0, 1);
	assert_int_equal(fclose(file), 0);
	assert_int_equal(chmod(path, mode), 0);
}

/* ---- good catalogs ---- */

static const char good_catalog[] =
    "{\"services\": ["
    " {\"id\": 2, \"name\": \"slow_thing\", \"exec\": \"examples/slow_thing\","
    "  \"args\": [\"--cycles\", \"2000\"], \"cores\": 1},"
    " {\"id\": 7, \"name\": \"bounce\", \"exec\": \"/usr/local/bin/bounce\", \"cores\": 3},"
    " {\"id\": 255, \"name\": \"last\", \"exec\": \"last\", \"args\": []}"
    "]}";

static void test_good_catalog(void **state)
{
	struct catalog *catalog = *state;
	parse_ok(catalog, good_catalog, BASE);
	assert_int_equal(catalog->count, 3);

	const struct catalog_service *slow = catalog_find(catalog, 2);
	assert_non_null(slow);
	assert_int_equal(slow->id, 2);
	assert_string_equal(slow->name, "slow_thing");
	assert_string_equal(slow->exec, BASE "/examples/slow_thing");
	assert_int_equal(slow->nb_args, 2);
	assert_string_equal(slow->args[0], "--cycles");
	assert_string_equal(slow->args[1], "2000");
	assert_int_equal(slow->cores, 1);

	const struct catalog_service *bounce = catalog_find(catalog, 7);
	assert_non_null(bounce);
	assert_string_equal(bounce->name, "bounce");
	assert_string_equal(bounce->exec, "/usr/local/bin/bounce");
	assert_int_equal(bounce->nb_args, 0);
	assert_int_equal(bounce->cores, 3);

	const struct catalog_service *last = catalog_find(catalog, 255);
	assert_non_null(last);
	assert_string_equal(last->exec, BASE "/last");
	assert_int_equal(last->nb_args, 0);
	assert_int_equal(last->cores, 1); /* default */

	assert_null(catalog_find(catalog, 1));
	assert_null(catalog_find(catalog, 3));
	assert_null(catalog_find(catalog, 0));
}

static void test_relative_exec_without_base_dir_kept(void **state)
{
	struct catalog *catalog = *state;
	const char *text = "{\"services\": [{\"id\": 1, \"name\": \"n\", \"exec\": \"bin/nf\"}]}";
	parse_ok(catalog, text, NULL);
	assert_string_equal(catalog_find(catalog, 1)->exec, "bin/nf");
	catalog_free(catalog);
	parse_ok(catalog, text, "");
	assert_string_equal(catalog_find(catalog, 1)->exec, "bin/nf");
}

static void test_empty_services_array(void **state)
{
	struct catalog *catalog = *state;
	parse_ok(catalog, "{\"services\": []}", BASE);
	assert_int_equal(catalog->count, 0);
	assert_null(catalog_find(catalog, 1));
}

static void test_limits_accepted(void **state)
{
	struct catalog *catalog = *state;
	char text[8192];
	int used = snprintf(text, sizeof(text),
			    "{\"services\": [{\"id\": 1, \"name\": \"%031d\", \"exec\": \"x\", "
			    "\"cores\": 8, \"args\": [",
			    0);
	for (int i = 0; i < CATALOG_MAX_ARGS; i++)
		used += snprintf(text + used, sizeof(text) - (size_t)used, "%s\"a%d\"",
				 i ? "," : "", i);
	snprintf(text + used, sizeof(text) - (size_t)used, "]}]}");
	parse_ok(catalog, text, BASE);
	const struct catalog_service *service = catalog_find(catalog, 1);
	assert_non_null(service);
	assert_int_equal(strlen(service->name), CATALOG_NAME_LEN - 1);
	assert_int_equal(service->cores, 8);
	assert_int_equal(service->nb_args, CATALOG_MAX_ARGS);
	assert_string_equal(service->args[CATALOG_MAX_ARGS - 1], "a31");
}

/* n services with ids 1..n */
static void build_services(char *text, size_t size, int n)
{
	int used = snprintf(text, size, "{\"services\": [");
	for (int i = 1; i <= n; i++)
		used += snprintf(text + used, size - (size_t)used,
				 "%s{\"id\": %d, \"name\": \"s%d\", \"exec\": \"x\"}",
				 i > 1 ? "," : "", i, i);
	snprintf(text + used, size - (size_t)used, "]}");
}

static void test_max_services(void **state)
{
	struct catalog *catalog = *state;
	char text[16384];
	build_services(text, sizeof(text), CATALOG_MAX_SERVICES);
	parse_ok(catalog, text, BASE);
	assert_int_equal(catalog->count, CATALOG_MAX_SERVICES);
	assert_string_equal(catalog_find(catalog, CATALOG_MAX_SERVICES)->name, "s64");
	catalog_free(catalog);

	build_services(text, sizeof(text), CATALOG_MAX_SERVICES + 1);
	parse_bad(catalog, text, "more than 64 services", NULL);
}

static void test_free_twice_is_safe(void **state)
{
	struct catalog *catalog = *state;
	parse_ok(catalog, good_catalog, BASE);
	catalog_free(catalog);
	assert_int_equal(catalog->count, 0);
	assert_null(catalog_find(catalog, 2));
	catalog_free(catalog);
}

/* ---- bad catalogs ---- */

static void test_bad_not_json(void **state)
{
	struct catalog *catalog = *state;
	parse_bad(catalog, "{\"services\": [", "not valid JSON", NULL);
	parse_bad(catalog, "", "not valid JSON", NULL);
	parse_bad(catalog, "services", "not valid JSON", NULL);
}

static void test_bad_top_level(void **state)
{
	struct catalog *catalog = *state;
	const char *want = "top level must be an object with a \"services\" array";
	parse_bad(catalog, "[]", want, NULL);
	parse_bad(catalog, "[{\"services\": []}]", want, NULL);
	parse_bad(catalog, "{}", want, NULL);
	parse_bad(catalog, "{\"service\": []}", want, NULL);
	parse_bad(catalog, "{\"services\": {}}", want, NULL);
	parse_bad(catalog, "{\"services\": null}", want, NULL);
}

static void test_bad_entry_not_object(void **state)
{
	struct catalog *catalog = *state;
	parse_bad(catalog, "{\"services\": [3]}", "services[0]: must be an object", NULL);
	parse_bad(catalog, "{\"services\": [{\"id\": 1, \"name\": \"a\", \"exec\": \"a\"}, []]}",
		  "services[1]: must be an object", NULL);
}

static void test_bad_id(void **state)
{
	struct catalog *catalog = *state;
	const char *not_int = "services[1].id: missing or not an integer";
	parse_bad_entry(catalog, "\"name\": \"b\", \"exec\": \"b\"", not_int, NULL);
	parse_bad_entry(catalog, "\"id\": 1.5, \"name\": \"b\", \"exec\": \"b\"", not_int, NULL);
	parse_bad_entry(catalog, "\"id\": \"2\", \"name\": \"b\", \"exec\": \"b\"", not_int, NULL);
	parse_bad_entry(catalog, "\"id\": null, \"name\": \"b\", \"exec\": \"b\"", not_int, NULL);
	parse_bad_entry(catalog, "\"id\": 0, \"name\": \"b\", \"exec\": \"b\"",
			"services[1].id: 0 out of range 1..255", NULL);
	parse_bad_entry(catalog, "\"id\": 256, \"name\": \"b\", \"exec\": \"b\"",
			"services[1].id: 256 out of range", NULL);
	parse_bad_entry(catalog, "\"id\": -1, \"name\": \"b\", \"exec\": \"b\"",
			"services[1].id: -1 out of range", NULL);
	parse_bad_entry(catalog, "\"id\": 65537, \"name\": \"b\", \"exec\": \"b\"",
			"services[1].id: 65537 out of range", NULL);
}

static void test_bad_duplicate_id(void **state)
{
	struct catalog *catalog = *state;
	parse_bad_entry(catalog, "\"id\": 1, \"name\": \"b\", \"exec\": \"b\"",
			"services[1].id: service 1 listed twice", NULL);
}

static void test_bad_name(void **state)
{
	struct catalog *catalog = *state;
	const char *want = "services[1].name: missing, empty or over 31 chars";
	parse_bad_entry(catalog, "\"id\": 2, \"exec\": \"b\"", want, NULL);
	parse_bad_entry(catalog, "\"id\": 2, \"name\": \"\", \"exec\": \"b\"", want, NULL);
	parse_bad_entry(catalog, "\"id\": 2, \"name\": 5, \"exec\": \"b\"", want, NULL);
	parse_bad_entry(
	    catalog, "\"id\": 2, \"name\": \"abcdefghijabcdefghijabcdefghijab\", \"exec\": \"b\"",
	    want, NULL);
}

static void test_bad_exec(void **state)
{
	struct catalog *catalog = *state;
	parse_bad_entry(catalog, "\"id\": 2, \"name\": \"b\"",
			"services[1].exec: missing or not a string", NULL);
	parse_bad_entry(catalog, "\"id\": 2, \"name\": \"b\", \"exec\": [\"b\"]",
			"services[1].exec: missing or not a string", NULL);
	parse_bad_entry(catalog, "\"id\": 2, \"name\": \"b\", \"exec\": \"\"",
			"services[1].exec: must not be empty", NULL);
}

static void test_bad_exec_path_too_long(void **state)
{
	struct catalog *catalog = *state;
	size_t len = PATH_MAX - 2;
	char *base = malloc(len + 1);
	char text[256];
	char err[256] = "";
	assert_non_null(base);
	memset(base, 'd', len);
	base[0] = '/';
	base[len] = '\0';
	snprintf(text, sizeof(text),
		 "{\"services\": [{\"id\": 1, \"name\": \"n\", \"exec\": \"xy\"}]}");
	assert_int_equal(catalog_parse(text, base, catalog, err, sizeof(err)), -1);
	assert_contains(err, "services[0].exec: path too long");
	assert_int_equal(catalog->count, 0);
	free(base);
}

static void test_bad_args(void **state)
{
	struct catalog *catalog = *state;
	parse_bad_entry(catalog, "\"id\": 2, \"name\": \"b\", \"exec\": \"b\", \"args\": \"-v\"",
			"services[1].args: must be an array of strings", NULL);
	parse_bad_entry(catalog,
			"\"id\": 2, \"name\": \"b\", \"exec\": \"b\", \"args\": [\"-v\", 3, \"x\"]",
			"services[1].args[1]: must be a string", NULL);

	char body[1024];
	int used = snprintf(body, sizeof(body),
			    "\"id\": 2, \"name\": \"b\", \"exec\": \"b\", "
			    "\"args\": [");
	for (int i = 0; i <= CATALOG_MAX_ARGS; i++)
		used += snprintf(body + used, sizeof(body) - (size_t)used, "%s\"a\"", i ? "," : "");
	snprintf(body + used, sizeof(body) - (size_t)used, "]");
	parse_bad_entry(catalog, body, "services[1].args: more than 32 arguments", NULL);
}

static void test_warm(void **state)
{
	struct catalog *catalog = *state;
	parse_ok(catalog,
		 "{\"services\": [{\"id\": 1, \"name\": \"a\", \"exec\": \"a\", \"warm\": 4},"
		 " {\"id\": 2, \"name\": \"b\", \"exec\": \"b\"}]}",
		 BASE);
	assert_int_equal(catalog_find(catalog, 1)->warm, CATALOG_MAX_WARM);
	assert_int_equal(catalog_find(catalog, 2)->warm, 0); /* default: cold starts */
	const char *want = "services[1].warm: must be an integer 0..4";
	parse_bad_entry(catalog, "\"id\": 2, \"name\": \"b\", \"exec\": \"b\", \"warm\": 5", want,
			NULL);
	parse_bad_entry(catalog, "\"id\": 2, \"name\": \"b\", \"exec\": \"b\", \"warm\": -1", want,
			NULL);
	parse_bad_entry(catalog, "\"id\": 2, \"name\": \"b\", \"exec\": \"b\", \"warm\": true",
			want, NULL);
}

static void test_bad_cores(void **state)
{
	struct catalog *catalog = *state;
	const char *want = "services[1].cores: must be an integer 1..8";
	parse_bad_entry(catalog, "\"id\": 2, \"name\": \"b\", \"exec\": \"b\", \"cores\": 0", want,
			NULL);
	parse_bad_entry(catalog, "\"id\": 2, \"name\": \"b\", \"exec\": \"b\", \"cores\": 9", want,
			NULL);
	parse_bad_entry(catalog, "\"id\": 2, \"name\": \"b\", \"exec\": \"b\", \"cores\": 1.0",
			want, NULL);
	parse_bad_entry(catalog, "\"id\": 2, \"name\": \"b\", \"exec\": \"b\", \"cores\": \"2\"",
			want, NULL);
	parse_bad_entry(catalog, "\"id\": 2, \"name\": \"b\", \"exec\": \"b\", \"cores\": -1", want,
			NULL);
}

static void test_bad_unknown_key(void **state)
{
	struct catalog *catalog = *state;
	parse_bad_entry(catalog, "\"id\": 2, \"nmae\": \"b\", \"name\": \"b\", \"exec\": \"b\"",
			"services[1]: unknown key \"nmae\"", NULL);
	parse_bad_entry(catalog, "\"id\": 2, \"name\": \"b\", \"exec\": \"b\", \"core\": 2",
			"unknown key \"core\"", NULL);
}

static void test_bad_duplicate_key(void **state)
{
	struct catalog *catalog = *state;
	parse_bad_entry(catalog, "\"id\": 2, \"name\": \"b\", \"exec\": \"b\", \"id\": 3",
			"not valid JSON", "duplicate");
	parse_bad(catalog, "{\"services\": [], \"services\": []}", "not valid JSON", "duplicate");
}

static void test_bad_after_args_frees_them(void **state)
{
	/* The first entry's args are allocated before the second entry fails;
	 * under ASan a leak here fails the test run. */
	struct catalog *catalog = *state;
	parse_bad(catalog,
		  "{\"services\": [{\"id\": 1, \"name\": \"a\", \"exec\": \"a\", "
		  "\"args\": [\"x\", \"y\"]}, {\"id\": 2, \"name\": \"b\", \"exec\": \"b\", "
		  "\"args\": [\"z\", false]}]}",
		  "services[1].args[1]: must be a string", NULL);
}

static void test_small_error_buffer_truncates(void **state)
{
	struct catalog *catalog = *state;
	char err[12];
	memset(err, 'Z', sizeof(err));
	assert_int_equal(catalog_parse("[]", BASE, catalog, err, 8), -1);
	assert_int_equal(strlen(err), 7);
	assert_int_equal(err[8], 'Z');
}

/* ---- catalog_load ---- */

static void test_load_missing_file(void **state)
{
	struct catalog *catalog = *state;
	char err[512] = "";
	const char *path = "/nonexistent/dir/catalog.json";
	assert_int_equal(catalog_load(path, catalog, err, sizeof(err)), -1);
	assert_contains(err, "cannot open catalog");
	assert_contains(err, path);
	assert_int_equal(catalog->count, 0);
}

static void test_load_temp_file(void **state)
{
	struct catalog *catalog = *state;
	char *dir = make_temp_dir();
	char path[512];
	char err[512] = "";
	snprintf(path, sizeof(path), "%s/catalog.json", dir);
	write_file(path, good_catalog, 0644);

	assert_int_equal(catalog_load(path, catalog, err, sizeof(err)), 0);
	assert_int_equal(catalog->count, 3);
	char expected[600];
	snprintf(expected, sizeof(expected), "%s/examples/slow_thing", dir);
	assert_string_equal(catalog_find(catalog, 2)->exec, expected);
	assert_string_equal(catalog_find(catalog, 7)->exec, "/usr/local/bin/bounce");
	assert_string_equal(catalog_find(catalog, 2)->args[1], "2000");

	assert_int_equal(unlink(path), 0);
	assert_int_equal(rmdir(dir), 0);
	free(dir);
}

static void test_load_bad_file_names_path(void **state)
{
	struct catalog *catalog = *state;
	char *dir = make_temp_dir();
	char path[512];
	char err[1024] = "";
	snprintf(path, sizeof(path), "%s/catalog.json", dir);
	write_file(path, "{\"services\": [{\"id\": 0, \"name\": \"a\", \"exec\": \"a\"}]}", 0644);

	assert_int_equal(catalog_load(path, catalog, err, sizeof(err)), -1);
	char prefix[600];
	snprintf(prefix, sizeof(prefix), "catalog %s: ", path);
	assert_contains(err, prefix);
	assert_contains(err, "services[0].id: 0 out of range");
	assert_int_equal(catalog->count, 0);

	assert_int_equal(unlink(path), 0);
	assert_int_equal(rmdir(dir), 0);
	free(dir);
}

/* ---- catalog_check_programs ---- */

static void one_service(struct catalog *catalog, const char *exec)
{
	char text[1024];
	snprintf(text, sizeof(text),
		 "{\"services\": [{\"id\": 1, \"name\": \"first\", \"exec\": \"/bin/true\"},"
		 " {\"id\": 9, \"name\": \"nine\", \"exec\": \"%s\"}]}",
		 exec);
	parse_ok(catalog, text, BASE);
}

static void test_check_programs_ok(void **state)
{
	struct catalog *catalog = *state;
	char err[256] = "";
	one_service(catalog, "/bin/true");
	assert_int_equal(catalog_check_programs(catalog, err, sizeof(err)), 0);
	catalog_free(catalog);
	assert_int_equal(catalog_check_programs(catalog, err, sizeof(err)), 0);
}

static void test_check_programs_missing(void **state)
{
	struct catalog *catalog = *state;
	char err[512] = "";
	one_service(catalog, "/nonexistent/onvm_nf");
	assert_int_equal(catalog_check_programs(catalog, err, sizeof(err)), -1);
	assert_contains(err, "service 9 (nine)");
	assert_contains(err, "/nonexistent/onvm_nf");
}

static void test_check_programs_not_executable(void **state)
{
	struct catalog *catalog = *state;
	char *dir = make_temp_dir();
	char path[512];
	char err[1024] = "";
	snprintf(path, sizeof(path), "%s/nf", dir);
	write_file(path, "#!/bin/sh\n", 0644);
	one_service(catalog, path);
	assert_int_equal(catalog_check_programs(catalog, err, sizeof(err)), -1);
	assert_contains(err, "service 9 (nine)");
	assert_contains(err, path);

	catalog_free(catalog);
	assert_int_equal(chmod(path, 0755), 0);
	one_service(catalog, path);
	assert_int_equal(catalog_check_programs(catalog, err, sizeof(err)), 0);

	assert_int_equal(unlink(path), 0);
	assert_int_equal(rmdir(dir), 0);
	free(dir);
}

static void test_check_programs_rejects_directory(void **state)
{
	/* A folder is searchable (X_OK) but is not a program. */
	struct catalog *catalog = *state;
	char err[512] = "";
	one_service(catalog, "/tmp");
	assert_int_equal(catalog_check_programs(catalog, err, sizeof(err)), -1);
	assert_contains(err, "service 9 (nine)");
}

#define CATALOG_TEST(f) cmocka_unit_test_setup_teardown(f, setup_catalog, teardown_catalog)

int main(void)
{
	const struct CMUnitTest tests[] = {
	    CATALOG_TEST(test_good_catalog),
	    CATALOG_TEST(test_relative_exec_without_base_dir_kept),
	    CATALOG_TEST(test_empty_services_array),
	    CATALOG_TEST(test_limits_accepted),
	    CATALOG_TEST(test_max_services),
	    CATALOG_TEST(test_free_twice_is_safe),
	    CATALOG_TEST(test_bad_not_json),
	    CATALOG_TEST(test_bad_top_level),
	    CATALOG_TEST(test_bad_entry_not_object),
	    CATALOG_TEST(test_bad_id),
	    CATALOG_TEST(test_bad_duplicate_id),
	    CATALOG_TEST(test_bad_name),
	    CATALOG_TEST(test_bad_exec),
	    CATALOG_TEST(test_bad_exec_path_too_long),
	    CATALOG_TEST(test_bad_args),
	    CATALOG_TEST(test_warm),
	    CATALOG_TEST(test_bad_cores),
	    CATALOG_TEST(test_bad_unknown_key),
	    CATALOG_TEST(test_bad_duplicate_key),
	    CATALOG_TEST(test_bad_after_args_frees_them),
	    CATALOG_TEST(test_small_error_buffer_truncates),
	    CATALOG_TEST(test_load_missing_file),
	    CATALOG_TEST(test_load_temp_file),
	    CATALOG_TEST(test_load_bad_file_names_path),
	    CATALOG_TEST(test_check_programs_ok),
	    CATALOG_TEST(test_check_programs_missing),
	    CATALOG_TEST(test_check_programs_not_executable),
	    CATALOG_TEST(test_check_programs_rejects_directory),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
