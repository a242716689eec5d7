/* SPDX-License-Identifier: BSD-3-Clause */
/* test_bus_log.c - unit tests for the levelled logger (bus/log.c). */
#include <regex.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "log.h"

static void log_to(FILE *out, enum onvm_log_level level, const char *fmt, ...)
{
	va_list args;
	va_start(args, fmt);
	onvm_vlog_to(out, level, fmt, args);
	va_end(args);
}

/* What the logger wrote to a stream, as one string. */
static char *captured(FILE *out)
{
	static char text[4096];
	rewind(out);
	size_t got = fread(text, 1, sizeof(text) - 1, out);
	text[got] = '\0';
	return text;
}

static void test_line_format(void **state)
{
	(void)state;
	onvm_log_init("onvm-test");
	onvm_log_set_level(ONVM_LOG_INFO);
	FILE *out = tmpfile();
	assert_non_null(out);
	log_to(out, ONVM_LOG_NOTICE, "connected; may lead in %d ms", 300);
	regex_t line;
	assert_int_equal(regcomp(&line,
				 "^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\\.[0-9]{3}Z "
				 "NOTICE onvm-test: connected; may lead in 300 ms\n$",
				 REG_EXTENDED),
			 0);
	const char *text = captured(out);
	if (regexec(&line, text, 0, NULL, 0) != 0)
		fail_msg("unexpected line: '%s'", text);
	regfree(&line);
	fclose(out);
}

static void test_threshold(void **state)
{
	(void)state;
	FILE *out = tmpfile();
	assert_non_null(out);
	onvm_log_set_level(ONVM_LOG_WARNING);
	log_to(out, ONVM_LOG_INFO, "hidden");
	log_to(out, ONVM_LOG_ERR, "shown");
	const char *text = captured(out);
	assert_null(strstr(text, "hidden"));
	assert_non_null(strstr(text, " ERR onvm-test: shown\n"));
	onvm_log_set_level(ONVM_LOG_INFO);
	fclose(out);
}

static void test_parse_level_and_env(void **state)
{
	(void)state;
	enum onvm_log_level level;
	assert_int_equal(onvm_log_parse_level("debug", &level), 0);
	assert_int_equal(level, ONVM_LOG_DEBUG);
	assert_int_equal(onvm_log_parse_level("WARNING", &level), 0);
	assert_int_equal(level, ONVM_LOG_WARNING);
	assert_int_equal(onvm_log_parse_level("2", &level), 0);
	assert_int_equal(level, ONVM_LOG_NOTICE);
	assert_int_equal(onvm_log_parse_level("loud", &level), -1);
	assert_int_equal(onvm_log_parse_level("", &level), -1);

	setenv("ONVM_LOG_LEVEL", "err", 1);
	onvm_log_init("onvm-test");
	assert_int_equal(onvm_log_get_level(), ONVM_LOG_ERR);
	setenv("ONVM_LOG_LEVEL", "nonsense", 1);
	onvm_log_set_level(ONVM_LOG_INFO);
	onvm_log_init("onvm-test"); /* a bad value keeps the level */
	assert_int_equal(onvm_log_get_level(), ONVM_LOG_INFO);
	unsetenv("ONVM_LOG_LEVEL");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_line_format),
	    cmocka_unit_test(test_threshold),
	    cmocka_unit_test(test_parse_level_and_env),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
