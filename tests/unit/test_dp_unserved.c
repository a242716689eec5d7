/* SPDX-License-Identifier: BSD-3-Clause */
/* test_dp_unserved.c - unit tests for unserved demand per period (dp/mgr_unserved.h). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>

#include <cmocka.h>

#include "mgr_unserved.h"

#define PERIOD_MS 500

struct fixture {
	struct mgr_unserved_state state;
	struct mgr_unserved_period period;
	uint64_t totals[ONVM_MAX_SERVICES];
	uint64_t now_ms;
};

static int setup(void **state)
{
	struct fixture *fixture = calloc(1, sizeof(*fixture));
	if (fixture == NULL)
		return -1;
	fixture->now_ms = 100000;
	mgr_unserved_step(&fixture->state, fixture->totals, fixture->now_ms, 0, &fixture->period);
	*state = fixture;
	return 0;
}

static int teardown(void **state)
{
	free(*state);
	return 0;
}

/* The next period: add drops to services, then step. */
static const struct mgr_unserved_period *period(struct fixture *fixture)
{
	fixture->now_ms += PERIOD_MS;
	mgr_unserved_step(&fixture->state, fixture->totals, fixture->now_ms, PERIOD_MS,
			  &fixture->period);
	return &fixture->period;
}

/* The first snapshot (period 0) is only the base: what the counters held
 * before it is never reported. */
static void test_first_period_is_the_base(void **state)
{
	(void)state;
	static struct mgr_unserved_state unserved;
	static struct mgr_unserved_period out;
	static uint64_t totals[ONVM_MAX_SERVICES];
	totals[4] = 1000;
	mgr_unserved_step(&unserved, totals, 5000, 0, &out);
	assert_int_equal(out.nb_counts, 0);
	assert_int_equal(out.nb_notes, 0);
	mgr_unserved_step(&unserved, totals, 5500, PERIOD_MS, &out);
	assert_int_equal(out.nb_counts, 0); /* nothing new */
	totals[4] += 10;
	mgr_unserved_step(&unserved, totals, 6000, PERIOD_MS, &out);
	assert_int_equal(out.nb_counts, 1);
	assert_int_equal(out.counts[0].service, 4);
	assert_int_equal(out.counts[0].pkts, 10);
}

/* A period lists each service with drops in it, largest first, ties by the
 * smaller id; a service with none in the period is absent (served again). */
static void test_counts_largest_first(void **state)
{
	struct fixture *fixture = *state;
	fixture->totals[9] += 5;
	fixture->totals[2] += 70;
	fixture->totals[200] += 5;
	fixture->totals[ONVM_MAX_SERVICES - 1] += 300;
	const struct mgr_unserved_period *out = period(fixture);
	assert_int_equal(out->nb_counts, 4);
	assert_int_equal(out->counts[0].service, ONVM_MAX_SERVICES - 1);
	assert_int_equal(out->counts[0].pkts, 300);
	assert_int_equal(out->counts[1].service, 2);
	assert_int_equal(out->counts[2].service, 9);
	assert_int_equal(out->counts[3].service, 200);
	assert_int_equal(out->counts[3].pkts, 5);

	fixture->totals[2] += 1;
	out = period(fixture);
	assert_int_equal(out->nb_counts, 1);
	assert_int_equal(out->counts[0].service, 2);
	assert_int_equal(out->counts[0].pkts, 1);

	out = period(fixture);
	assert_int_equal(out->nb_counts, 0);
}

/* Every service unserved at once: all listed, in order, none twice. */
static void test_every_service(void **state)
{
	struct fixture *fixture = *state;
	for (unsigned service = 1; service < ONVM_MAX_SERVICES; service++)
		fixture->totals[service] += service % 7 + 1;
	const struct mgr_unserved_period *out = period(fixture);
	assert_int_equal(out->nb_counts, ONVM_MAX_SERVICES - 1);
	uint8_t seen[ONVM_MAX_SERVICES] = {0};
	for (unsigned i = 0; i < out->nb_counts; i++) {
		assert_in_range(out->counts[i].service, 1, ONVM_MAX_SERVICES - 1);
		assert_false(seen[out->counts[i].service]);
		seen[out->counts[i].service] = 1;
		if (i > 0) {
			const struct mgr_unserved_count *before = &out->counts[i - 1];
			assert_true(before->pkts > out->counts[i].pkts ||
				    (before->pkts == out->counts[i].pkts &&
				     before->service < out->counts[i].service));
		}
	}
	assert_int_equal(out->nb_notes, ONVM_MAX_SERVICES - 1);
}

/* Service 0 is no service: whatever its counter says is never reported. */
static void test_service_zero_ignored(void **state)
{
	struct fixture *fixture = *state;
	fixture->totals[0] += 1000;
	const struct mgr_unserved_period *out = period(fixture);
	assert_int_equal(out->nb_counts, 0);
	assert_int_equal(out->nb_notes, 0);
}

/* One line when it begins, none while it goes on, one when it has dropped
 * nothing for MGR_UNSERVED_QUIET_MS, with what it dropped meanwhile. */
static void test_began_and_ended_once(void **state)
{
	struct fixture *fixture = *state;
	fixture->totals[5] += 100;
	const struct mgr_unserved_period *out = period(fixture);
	assert_int_equal(out->nb_notes, 1);
	assert_int_equal(out->notes[0].service, 5);
	assert_int_equal(out->notes[0].change, MGR_UNSERVED_BEGAN);
	assert_int_equal(out->notes[0].pkts, 100);
	for (int i = 0; i < 3; i++) {
		fixture->totals[5] += 100;
		assert_int_equal(period(fixture)->nb_notes, 0);
	}
	/* Quiet, but not yet for long enough. */
	for (unsigned quiet = PERIOD_MS; quiet < MGR_UNSERVED_QUIET_MS; quiet += PERIOD_MS) {
		out = period(fixture);
		assert_int_equal(out->nb_counts, 0);
		assert_int_equal(out->nb_notes, 0);
	}
	out = period(fixture);
	assert_int_equal(out->nb_notes, 1);
	assert_int_equal(out->notes[0].service, 5);
	assert_int_equal(out->notes[0].change, MGR_UNSERVED_ENDED);
	assert_int_equal(out->notes[0].pkts, 400);
	assert_int_equal(out->notes[0].lasted_ms, 4 * PERIOD_MS);
	for (int i = 0; i < 5; i++)
		assert_int_equal(period(fixture)->nb_notes, 0);
	/* And it can begin again. */
	fixture->totals[5] += 1;
	out = period(fixture);
	assert_int_equal(out->nb_notes, 1);
	assert_int_equal(out->notes[0].change, MGR_UNSERVED_BEGAN);
}

/* Drops every other period: listed in each period that has them, logged once. */
static void test_flapping_logs_once(void **state)
{
	struct fixture *fixture = *state;
	unsigned notes = 0;
	for (int i = 0; i < 20; i++) {
		if (i % 2 == 0)
			fixture->totals[3] += 10;
		const struct mgr_unserved_period *out = period(fixture);
		assert_int_equal(out->nb_counts, i % 2 == 0 ? 1 : 0);
		notes += out->nb_notes;
	}
	assert_int_equal(notes, 1);
}

/* A total below the last one (never from the manager's own counters) counts
 * nothing and becomes the base. */
static void test_total_going_back(void **state)
{
	struct fixture *fixture = *state;
	fixture->totals[7] = 1000;
	period(fixture);
	fixture->totals[7] = 10;
	assert_int_equal(period(fixture)->nb_counts, 0);
	fixture->totals[7] = 15;
	const struct mgr_unserved_period *out = period(fixture);
	assert_int_equal(out->nb_counts, 1);
	assert_int_equal(out->counts[0].pkts, 5);
}

/* The threads' counters add up per service. */
static void test_sum_of_sources(void **state)
{
	(void)state;
	static struct mgr_unserved_counters counters[MGR_UNSERVED_SOURCES];
	uint64_t totals[ONVM_MAX_SERVICES];
	counters[MGR_UNSERVED_RX].pkts[4] = 10;
	counters[MGR_UNSERVED_TX].pkts[4] = 5;
	counters[MGR_UNSERVED_TX].pkts[ONVM_MAX_SERVICES - 1] = 2;
	mgr_unserved_sum(counters, MGR_UNSERVED_SOURCES, totals);
	assert_int_equal(totals[4], 15);
	assert_int_equal(totals[ONVM_MAX_SERVICES - 1], 2);
	assert_int_equal(totals[1], 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_first_period_is_the_base),
	    cmocka_unit_test_setup_teardown(test_counts_largest_first, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_every_service, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_service_zero_ignored, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_began_and_ended_once, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_flapping_logs_once, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_total_going_back, setup, teardown),
	    cmocka_unit_test(test_sum_of_sources),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
