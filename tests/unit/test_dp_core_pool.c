/* SPDX-License-Identifier: BSD-3-Clause */
/* test_dp_core_pool.c - unit tests for the NF core pool (dp/core_pool.c). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "core_pool.h"

/* Parse a list that must be good. */
static void parse_ok(struct core_pool *pool, const char *list)
{
	char err[256] = "";
	if (core_pool_parse(pool, list, err, sizeof(err)) != 0)
		fail_msg("core list '%s' rejected: %s", list, err);
}

/* Parse a list that must be rejected with a message naming it. */
static void parse_bad(const char *list)
{
	struct core_pool pool;
	char err[256] = "";
	if (core_pool_parse(&pool, list, err, sizeof(err)) != -1)
		fail_msg("core list '%s' accepted", list);
	if (strstr(err, "bad core list") == NULL || strstr(err, list) == NULL)
		fail_msg("core list '%s': unclear message '%s'", list, err);
}

static void assert_members(const struct core_pool *pool, const int *cores, unsigned count)
{
	for (int core = -1; core <= CORE_POOL_MAX_LCORE; core++) {
		int expected = 0;
		for (unsigned i = 0; i < count; i++)
			expected |= cores[i] == core;
		if (core_pool_contains(pool, core) != expected)
			fail_msg("core %d: contains=%d, expected %d", core,
				 core_pool_contains(pool, core), expected);
	}
	assert_int_equal(core_pool_size(pool), count);
	assert_int_equal(core_pool_free_count(pool), count);
}

static void test_parse_ranges_and_singles(void **state)
{
	(void)state;
	struct core_pool pool;
	static const int expected[] = {2, 3, 4, 5, 8};
	parse_ok(&pool, "2-5,8");
	assert_members(&pool, expected, 5);
}

static void test_parse_single_zero(void **state)
{
	(void)state;
	struct core_pool pool;
	static const int expected[] = {0};
	parse_ok(&pool, "0");
	assert_members(&pool, expected, 1);
}

static void test_parse_highest_lcore_and_overlap(void **state)
{
	(void)state;
	struct core_pool pool;
	static const int expected[] = {1, 2, 3, 127};
	parse_ok(&pool, "1-3,2,127,3-3");
	assert_members(&pool, expected, 4);
}

static void test_parse_empty_list_gives_empty_pool(void **state)
{
	(void)state;
	struct core_pool pool;
	memset(&pool, 0xff, sizeof(pool));
	parse_ok(&pool, "");
	assert_int_equal(core_pool_size(&pool), 0);
	assert_int_equal(core_pool_free_count(&pool), 0);
	assert_int_equal(core_pool_take(&pool), -1);

	memset(&pool, 0xff, sizeof(pool));
	parse_ok(&pool, NULL);
	assert_int_equal(core_pool_size(&pool), 0);
}

static void test_parse_resets_previous_contents(void **state)
{
	(void)state;
	struct core_pool pool;
	parse_ok(&pool, "1-4");
	assert_int_equal(core_pool_take(&pool), 1);
	parse_ok(&pool, "6");
	static const int expected[] = {6};
	assert_members(&pool, expected, 1);
}

static void test_parse_bad_lists(void **state)
{
	(void)state;
	static const char *const bad[] = {
	    "a",   "5-2", "1,,2", "1-", "128",
	    "-1",  "2 3", "1,",	  ",1", "0-128",
	    "1-a", "3x",  " 1",	  "+1", "99999999999999999999",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		parse_bad(bad[i]);
}

static void test_take_lowest_then_exhausted(void **state)
{
	(void)state;
	struct core_pool pool;
	parse_ok(&pool, "8,2-3");
	assert_int_equal(core_pool_take(&pool), 2);
	assert_int_equal(core_pool_take(&pool), 3);
	assert_int_equal(core_pool_free_count(&pool), 1);
	assert_int_equal(core_pool_take(&pool), 8);
	assert_int_equal(core_pool_free_count(&pool), 0);
	assert_int_equal(core_pool_take(&pool), -1);
	assert_int_equal(core_pool_take(&pool), -1);
	assert_int_equal(core_pool_size(&pool), 3);
}

static void test_release_makes_core_free_again(void **state)
{
	(void)state;
	struct core_pool pool;
	parse_ok(&pool, "2-5");
	for (int core = 2; core <= 5; core++)
		assert_int_equal(core_pool_take(&pool), core);
	core_pool_release(&pool, 4);
	assert_int_equal(core_pool_free_count(&pool), 1);
	assert_int_equal(core_pool_take(&pool), 4);
	core_pool_release(&pool, 3);
	core_pool_release(&pool, 2);
	assert_int_equal(core_pool_take(&pool), 2);
	assert_int_equal(core_pool_take(&pool), 3);
	assert_int_equal(core_pool_take(&pool), -1);
}

static void test_release_of_free_core_is_harmless(void **state)
{
	(void)state;
	struct core_pool pool;
	parse_ok(&pool, "2-3");
	core_pool_release(&pool, 2);
	assert_int_equal(core_pool_free_count(&pool), 2);
	assert_int_equal(core_pool_size(&pool), 2);
}

static void test_release_outside_pool_is_ignored(void **state)
{
	(void)state;
	struct core_pool pool;
	parse_ok(&pool, "2-3");
	assert_int_equal(core_pool_take(&pool), 2);
	assert_int_equal(core_pool_take(&pool), 3);
	core_pool_release(&pool, 1);
	core_pool_release(&pool, 7);
	core_pool_release(&pool, -1);
	core_pool_release(&pool, CORE_POOL_MAX_LCORE);
	core_pool_release(&pool, 100000);
	assert_int_equal(core_pool_free_count(&pool), 0);
	assert_int_equal(core_pool_size(&pool), 2);
	assert_int_equal(core_pool_take(&pool), -1);
	assert_false(core_pool_contains(&pool, 7));
}

static void test_hold_given_core(void **state)
{
	(void)state;
	struct core_pool pool;
	parse_ok(&pool, "2-5");
	assert_int_equal(core_pool_hold(&pool, 3), 0);
	assert_int_equal(core_pool_free_count(&pool), 3);
	assert_int_equal(core_pool_take(&pool), 2);
	assert_int_equal(core_pool_take(&pool), 4); /* 3 is held */
	core_pool_release(&pool, 3);
	assert_int_equal(core_pool_take(&pool), 3);
}

static void test_hold_of_held_core_fails(void **state)
{
	(void)state;
	struct core_pool pool;
	parse_ok(&pool, "2-5");
	assert_int_equal(core_pool_hold(&pool, 5), 0);
	assert_int_equal(core_pool_hold(&pool, 5), -1);
	assert_int_equal(core_pool_take(&pool), 2);
	assert_int_equal(core_pool_hold(&pool, 2), -1);
	assert_int_equal(core_pool_free_count(&pool), 2);
}

static void test_hold_outside_pool_fails(void **state)
{
	(void)state;
	struct core_pool pool;
	parse_ok(&pool, "2-5");
	assert_int_equal(core_pool_hold(&pool, 1), -1);
	assert_int_equal(core_pool_hold(&pool, 6), -1);
	assert_int_equal(core_pool_hold(&pool, -1), -1);
	assert_int_equal(core_pool_hold(&pool, CORE_POOL_MAX_LCORE), -1);
	assert_int_equal(core_pool_free_count(&pool), 4);
	assert_int_equal(core_pool_size(&pool), 4);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_parse_ranges_and_singles),
	    cmocka_unit_test(test_parse_single_zero),
	    cmocka_unit_test(test_parse_highest_lcore_and_overlap),
	    cmocka_unit_test(test_parse_empty_list_gives_empty_pool),
	    cmocka_unit_test(test_parse_resets_previous_contents),
	    cmocka_unit_test(test_parse_bad_lists),
	    cmocka_unit_test(test_take_lowest_then_exhausted),
	    cmocka_unit_test(test_release_makes_core_free_again),
	    cmocka_unit_test(test_release_of_free_core_is_harmless),
	    cmocka_unit_test(test_release_outside_pool_is_ignored),
	    cmocka_unit_test(test_hold_given_core),
	    cmocka_unit_test(test_hold_of_held_core_fails),
	    cmocka_unit_test(test_hold_outside_pool_fails),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
