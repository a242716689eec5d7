/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * test_policy_engines.c - unit tests of policy/engines.c: each built-in
 * engine's choice on hand-made candidate lists (every rule of local-first,
 * ties, empty lists), and opening engines by name and by path.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "engines.h"

/* Candidates must be sorted by name, as the core hands them. */
#define CAND(name, free, running, origin)                                                          \
	{                                                                                          \
		name, free, 8, running, running, 0, origin                                         \
	}

static int place(const char *engine_name, const struct policy_candidate *cands, size_t n)
{
	const struct policy_engine *engine = policy_builtin_engine(engine_name);
	assert_non_null(engine);
	struct policy_request req = {.now_ms = 1000,
				     .service = 2,
				     .origin = "alpha",
				     .candidates = cands,
				     .n_candidates = n};
	struct policy_choice choice = {.index = -2};
	engine->place(NULL, &req, &choice);
	assert_true(choice.why[0] != '\0');
	return choice.index;
}

/* A repair: no origin, no stats, no candidate is the origin. */
static int place_repair(const char *engine_name, const struct policy_candidate *cands, size_t n,
			char *why, size_t whylen)
{
	const struct policy_engine *engine = policy_builtin_engine(engine_name);
	assert_non_null(engine);
	struct policy_request req = {
	    .now_ms = 1000, .service = 2, .origin = NULL, .candidates = cands, .n_candidates = n};
	struct policy_choice choice = {.index = -2};
	engine->place(NULL, &req, &choice);
	assert_true(choice.why[0] != '\0');
	snprintf(why, whylen, "%s", choice.why);
	return choice.index;
}

static void test_repair_without_origin(void **state)
{
	(void)state;
	char why[POLICY_WHY_LEN];
	/* local-first, rule 2: a host running the service beats more free cores. */
	const struct policy_candidate running[] = {CAND("alpha", 1, 1, 0), CAND("beta", 6, 0, 0)};
	assert_int_equal(place_repair("local-first", running, 2, why, sizeof(why)), 0);
	assert_non_null(strstr(why, "already runs the service"));
	/* rule 3: the most free cores, ties to the smaller name. */
	const struct policy_candidate idle[] = {CAND("alpha", 2, 0, 0), CAND("beta", 6, 0, 0),
						CAND("gamma", 6, 0, 0)};
	assert_int_equal(place_repair("local-first", idle, 3, why, sizeof(why)), 1);
	/* rule 4: nothing. */
	assert_int_equal(place_repair("local-first", NULL, 0, why, sizeof(why)), -1);
	/* local-only has no origin to place on, whatever is free. */
	assert_int_equal(place_repair("local-only", idle, 3, why, sizeof(why)), -1);
	assert_non_null(strstr(why, "no origin"));
	assert_int_equal(place_repair("spread", idle, 3, why, sizeof(why)), 1);
	assert_int_equal(place_repair("pack", idle, 3, why, sizeof(why)), 0);
}

static void test_local_first_rule1_local(void **state)
{
	(void)state;
	const struct policy_candidate cands[] = {CAND("alpha", 1, 1, 1), CAND("beta", 6, 1, 0)};
	assert_int_equal(place("local-first", cands, 2), 0);
}

static void test_local_first_rule2_running(void **state)
{
	(void)state;
	const struct policy_candidate cands[] = {CAND("beta", 2, 1, 0), CAND("charlie", 3, 0, 0),
						 CAND("delta", 3, 2, 0), CAND("epsilon", 9, 0, 0)};
	assert_int_equal(place("local-first", cands, 4), 2);
}

static void test_local_first_rule2_tie(void **state)
{
	(void)state;
	const struct policy_candidate cands[] = {CAND("delta", 3, 1, 0), CAND("zeta", 3, 1, 0)};
	assert_int_equal(place("local-first", cands, 2), 0);
}

static void test_local_first_rule3_most_free(void **state)
{
	(void)state;
	const struct policy_candidate cands[] = {CAND("beta", 2, 0, 0), CAND("charlie", 5, 0, 0),
						 CAND("gamma", 5, 0, 0)};
	assert_int_equal(place("local-first", cands, 3), 1);
}

static void test_local_first_rule4_nothing(void **state)
{
	(void)state;
	assert_int_equal(place("local-first", NULL, 0), -1);
}

static void test_spread(void **state)
{
	(void)state;
	const struct policy_candidate cands[] = {CAND("alpha", 2, 1, 1), CAND("beta", 4, 0, 0),
						 CAND("gamma", 4, 1, 0)};
	assert_int_equal(place("spread", cands, 3), 1);
	assert_int_equal(place("spread", NULL, 0), -1);
}

static void test_pack(void **state)
{
	(void)state;
	const struct policy_candidate cands[] = {CAND("alpha", 3, 1, 1), CAND("beta", 1, 0, 0),
						 CAND("gamma", 1, 1, 0)};
	assert_int_equal(place("pack", cands, 3), 1);
	assert_int_equal(place("pack", NULL, 0), -1);
}

static void test_local_only(void **state)
{
	(void)state;
	const struct policy_candidate with_origin[] = {CAND("alpha", 1, 1, 1),
						       CAND("beta", 6, 1, 0)};
	const struct policy_candidate without[] = {CAND("beta", 6, 1, 0)};
	assert_int_equal(place("local-only", with_origin, 2), 0);
	assert_int_equal(place("local-only", without, 1), -1);
}

static void test_builtin_list(void **state)
{
	(void)state;
	size_t count;
	const struct policy_engine *const *engines = policy_builtin_engines(&count);
	assert_true(count >= 3);
	assert_string_equal(engines[0]->name, POLICY_DEFAULT_ENGINE);
	for (size_t i = 0; i < count; i++) {
		assert_int_equal(engines[i]->api_version, POLICY_ENGINE_API_VERSION);
		assert_non_null(engines[i]->summary);
		assert_ptr_equal(policy_builtin_engine(engines[i]->name), engines[i]);
	}
	assert_null(policy_builtin_engine("no-such-engine"));
}

static void test_open(void **state)
{
	(void)state;
	struct policy_engine_handle handle;
	char err[256];
	assert_int_equal(policy_engine_open("spread", NULL, &handle, err, sizeof(err)), 0);
	assert_string_equal(handle.ops->name, "spread");
	assert_null(handle.library);
	policy_engine_close(&handle);

	assert_int_equal(policy_engine_open("nope", NULL, &handle, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "unknown engine"));
	assert_int_equal(policy_engine_open("./no-such-lib.so", NULL, &handle, err, sizeof(err)),
			 -1);
	assert_non_null(strstr(err, "cannot load"));
	/* A shared object without the entry point (where the machine has this one). */
	const char *libm = "/lib/x86_64-linux-gnu/libm.so.6";
	if (access(libm, R_OK) == 0) {
		assert_int_equal(policy_engine_open(libm, NULL, &handle, err, sizeof(err)), -1);
		assert_non_null(strstr(err, POLICY_ENGINE_SYMBOL));
	}
	assert_int_equal(policy_engine_open("", NULL, &handle, err, sizeof(err)), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_local_first_rule1_local),
	    cmocka_unit_test(test_local_first_rule2_running),
	    cmocka_unit_test(test_local_first_rule2_tie),
	    cmocka_unit_test(test_local_first_rule3_most_free),
	    cmocka_unit_test(test_local_first_rule4_nothing),
	    cmocka_unit_test(test_spread),
	    cmocka_unit_test(test_pack),
	    cmocka_unit_test(test_local_only),
	    cmocka_unit_test(test_repair_without_origin),
	    cmocka_unit_test(test_builtin_list),
	    cmocka_unit_test(test_open),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
