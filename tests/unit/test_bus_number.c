/* SPDX-License-Identifier: BSD-3-Clause */
/* test_bus_number.c - unit tests for the strict number parser (bus/number.c). */
#include <float.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "number.h"

static void test_uint(void **state)
{
	(void)state;
	uint64_t value = 7;
	assert_int_equal(onvm_parse_uint("0", 0, 10, &value), 0);
	assert_int_equal(value, 0);
	assert_int_equal(onvm_parse_uint("18446744073709551615", 0, UINT64_MAX, &value), 0);
	assert_true(value == UINT64_MAX);
	assert_int_equal(onvm_parse_uint("007", 0, 10, &value), 0);
	assert_int_equal(value, 7);
	static const char *const bad[] = {"",
					  " 5",
					  "5 ",
					  "+5",
					  "-5",
					  "5x",
					  "0x10",
					  "1e3",
					  "5.0",
					  "18446744073709551616",
					  "99999999999999999999999"};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		value = 42;
		if (onvm_parse_uint(bad[i], 0, UINT64_MAX, &value) != -1)
			fail_msg("'%s' was taken", bad[i]);
		assert_int_equal(value, 42); /* untouched */
	}
	assert_int_equal(onvm_parse_uint(NULL, 0, 1, &value), -1);
	assert_int_equal(onvm_parse_uint("11", 0, 10, &value), -1);
	assert_int_equal(onvm_parse_uint("4", 5, 10, &value), -1);
}

static void test_uint_prefix(void **state)
{
	(void)state;
	uint64_t value;
	const char *end = NULL;
	assert_int_equal(onvm_parse_uint_prefix("2-5", 0, 9, &value, &end), 0);
	assert_int_equal(value, 2);
	assert_string_equal(end, "-5");
	assert_int_equal(onvm_parse_uint_prefix("12:3", 0, 99, &value, &end), 0);
	assert_string_equal(end, ":3");
	assert_int_equal(onvm_parse_uint_prefix(":3", 0, 99, &value, &end), -1);
	assert_int_equal(onvm_parse_uint_prefix("100:3", 0, 99, &value, &end), -1);
}

static void test_double(void **state)
{
	(void)state;
	double value = 0;
	assert_int_equal(onvm_parse_double("0.5", 0, 1, &value), 0);
	assert_true(value == 0.5);
	assert_int_equal(onvm_parse_double("-2", -DBL_MAX, DBL_MAX, &value), 0);
	assert_true(value == -2);
	assert_int_equal(onvm_parse_double("1e3", 0, DBL_MAX, &value), 0);
	assert_true(value == 1000);
	static const char *const bad[] = {"",	   " 1",   "1 ", "inf", "nan", "0x10",
					  "1e999", "1..2", "e",	 "-",	"0.5x"};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (onvm_parse_double(bad[i], -DBL_MAX, DBL_MAX, &value) != -1)
			fail_msg("'%s' was taken", bad[i]);
	assert_int_equal(onvm_parse_double("1.5", 0, 1, &value), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_uint),
	    cmocka_unit_test(test_uint_prefix),
	    cmocka_unit_test(test_double),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
