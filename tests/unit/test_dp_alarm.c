/* SPDX-License-Identifier: BSD-3-Clause */
/* test_dp_alarm.c - unit tests for the overload alarm state machine (dp/mgr_alarm.h). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>

#include <cmocka.h>

#include "mgr_alarm.h"

#define ALARM_MS  20
#define PERIOD_MS 2
#define CAPACITY  4095 /* a 4096-entry DPDK ring holds 4095 */
#define FULL	  CAPACITY
#define HIGH	  3600 /* over 0.8 of the ring */

/* One instance fed samples every PERIOD_MS; drops and count are what the
 * next sample reads. */
struct feed {
	struct mgr_alarm_params params;
	struct mgr_alarm_inst inst;
	struct mgr_alarm alarm;
	uint64_t now_ms;
	uint64_t drops;
	uint32_t count;
	unsigned raised;       /* alarms seen */
	uint64_t raised_at_ms; /* the last one's sample time */
};

static int setup(void **state)
{
	struct feed *feed = calloc(1, sizeof(*feed));
	if (feed == NULL)
		return -1;
	mgr_alarm_params_default(&feed->params, ALARM_MS);
	mgr_alarm_reset(&feed->inst, 7);
	feed->now_ms = 1000000;
	*state = feed;
	return 0;
}

static int teardown(void **state)
{
	free(*state);
	return 0;
}

static enum mgr_alarm_verdict sample_at(struct feed *feed, uint64_t now_ms)
{
	feed->now_ms = now_ms;
	struct mgr_alarm_sample sample = {now_ms, feed->drops, feed->count, CAPACITY};
	enum mgr_alarm_verdict verdict =
	    mgr_alarm_sample(&feed->inst, &feed->params, &sample, &feed->alarm);
	if (verdict == MGR_ALARM_RAISE) {
		feed->raised++;
		feed->raised_at_ms = now_ms;
	}
	return verdict;
}

static enum mgr_alarm_verdict sample(struct feed *feed)
{
	return sample_at(feed, feed->now_ms + PERIOD_MS);
}

/* ms of samples in which the instance drops drops_per_sample each time, its ring full. */
static void overload_for(struct feed *feed, unsigned ms, unsigned drops_per_sample)
{
	for (unsigned elapsed = 0; elapsed < ms; elapsed += PERIOD_MS) {
		feed->drops += drops_per_sample;
		feed->count = FULL;
		sample(feed);
	}
}

/* ms of samples with nothing to do. */
static void calm_for(struct feed *feed, unsigned ms)
{
	feed->count = 0;
	for (unsigned elapsed = 0; elapsed < ms; elapsed += PERIOD_MS)
		sample(feed);
}

/* The first sample is the base: counters from before it are not drops. */
static void test_first_sample_is_the_base(void **state)
{
	struct feed *feed = *state;
	feed->drops = 1000000;
	feed->count = FULL;
	assert_int_equal(sample(feed), MGR_ALARM_CALM);
	feed->count = 0;
	assert_int_equal(sample(feed), MGR_ALARM_IDLE);
	assert_int_equal(feed->raised, 0);
}

/* Steady overload: one alarm, at the sample alarm_ms after the onset, with
 * the window's rate and fill; none more however long it lasts. */
static void test_steady_overload_raises_exactly_one(void **state)
{
	struct feed *feed = *state;
	calm_for(feed, 10);
	feed->drops += 18; /* 9 packets a ms */
	feed->count = FULL;
	assert_int_equal(sample(feed), MGR_ALARM_OVERLOADED);
	uint64_t onset_ms = feed->now_ms;
	overload_for(feed, ALARM_MS - PERIOD_MS, 18);
	assert_int_equal(feed->raised, 0);
	overload_for(feed, PERIOD_MS, 18);
	assert_int_equal(feed->raised, 1);
	assert_int_equal(feed->raised_at_ms, onset_ms + ALARM_MS);
	assert_int_equal(feed->alarm.onset_ms, onset_ms);
	assert_int_equal(feed->alarm.now_ms, onset_ms + ALARM_MS);
	assert_float_equal(feed->alarm.drop_pps, 9000.0, 0.5);
	assert_float_equal(feed->alarm.ring_fill, 1.0, 1e-9);
	overload_for(feed, 5000, 18);
	assert_int_equal(feed->raised, 1);
	assert_int_equal(feed->inst.alarms, 1);
}

/* A burst shorter than alarm_ms, however heavy, raises nothing; nor do many
 * of them with a calm sample between. */
static void test_short_bursts_raise_none(void **state)
{
	struct feed *feed = *state;
	calm_for(feed, 10);
	for (int burst = 0; burst < 100; burst++) {
		overload_for(feed, ALARM_MS - PERIOD_MS, 1000);
		feed->count = HIGH; /* emptied a little since: draining */
		assert_int_equal(sample(feed), MGR_ALARM_CALM);
	}
	assert_int_equal(feed->raised, 0);
}

/* A full ring that empties at the NF's pace (after a burst or a scale-out)
 * is not overload, even at 1000 pps (2 packets a sample) and for longer
 * than alarm_ms above the threshold. */
static void test_draining_full_ring_raises_none(void **state)
{
	struct feed *feed = *state;
	calm_for(feed, 10);
	overload_for(feed, PERIOD_MS, 50); /* full, dropping: a streak begins */
	unsigned margin = (unsigned)(MGR_ALARM_DRAIN_MARGIN * CAPACITY);
	while (feed->count > 2) {
		feed->count -= 2;
		enum mgr_alarm_verdict verdict = sample(feed);
		/* The streak lives through the margin, and then no new one begins:
		 * the samples count as calm (towards re-arming, too). */
		if (feed->count + margin < FULL)
			assert_int_equal(verdict, MGR_ALARM_CALM);
	}
	assert_int_equal(feed->raised, 0);
}

/* Draining in steps (an NF that takes a burst now and then): flat samples
 * may begin a streak, but a drop below the streak's peak by the margin ends it. */
static void test_stepwise_drain_raises_none(void **state)
{
	struct feed *feed = *state;
	feed->count = FULL;
	sample(feed);
	while (feed->count > 0.8 * CAPACITY) {
		for (int flat = 0; flat < 4; flat++)
			sample(feed); /* 8 ms flat */
		feed->count -= 32;
		sample(feed);
	}
	assert_int_equal(feed->raised, 0);
}

/* A ring over the threshold and still filling, or flat, is overload before
 * any drop: noise below the margin does not end the streak. */
static void test_filling_ring_raises_before_drops(void **state)
{
	struct feed *feed = *state;
	feed->count = 3000;
	sample(feed);
	for (unsigned ms = 0; ms <= ALARM_MS + PERIOD_MS; ms += PERIOD_MS) {
		feed->count += (ms / PERIOD_MS) % 2 ? 30 : -10; /* net +10 a sample */
		if (feed->count < HIGH)
			feed->count = HIGH;
		sample(feed);
	}
	assert_int_equal(feed->raised, 1);
	assert_float_equal(feed->alarm.drop_pps, 0.0, 1e-9);
	assert_true(feed->alarm.ring_fill > 0.8 && feed->alarm.ring_fill < 1.0);
}

/* A full ring that drops now and then (a small excess), its count a little
 * below full between the drops, is one overload, not many short ones. */
static void test_intermittent_drops_at_full_ring(void **state)
{
	struct feed *feed = *state;
	calm_for(feed, 10);
	for (unsigned ms = 0; ms < 200; ms += PERIOD_MS) {
		int drop = (ms / PERIOD_MS) % 4 == 0;
		feed->drops += drop ? 3 : 0;
		feed->count = drop ? FULL : FULL - 12;
		sample(feed);
	}
	assert_int_equal(feed->raised, 1);
	assert_true(feed->alarm.drop_pps > 0.0);
}

/* A ring below the threshold is not overload, however it moves. */
static void test_ring_below_threshold_is_calm(void **state)
{
	struct feed *feed = *state;
	feed->count = 3000;
	for (int i = 0; i < 100; i++) {
		feed->count += 2;
		assert_int_equal(sample(feed), MGR_ALARM_CALM);
	}
	assert_int_equal(feed->raised, 0);
}

/* Re-arming: calm for rearm_ms, then a new overload raises a second alarm;
 * a calm shorter than that (here broken by one overloaded sample) does not. */
static void test_rearm_after_calm(void **state)
{
	struct feed *feed = *state;
	overload_for(feed, 100, 10);
	assert_int_equal(feed->raised, 1);
	calm_for(feed, MGR_ALARM_REARM_MS - 10);
	overload_for(feed, PERIOD_MS, 10); /* breaks the calm */
	calm_for(feed, MGR_ALARM_REARM_MS - 10);
	overload_for(feed, 100, 10);
	assert_int_equal(feed->raised, 1);
	feed->count = 0;
	uint64_t calm_from_ms = feed->now_ms + PERIOD_MS;
	while (sample(feed) != MGR_ALARM_REARMED)
		assert_true(feed->now_ms < calm_from_ms + MGR_ALARM_REARM_MS);
	assert_int_equal(feed->now_ms, calm_from_ms + MGR_ALARM_REARM_MS);
	overload_for(feed, 100, 10);
	assert_int_equal(feed->raised, 2);
	assert_int_equal(feed->inst.alarms, 2);
}

/* A single overloaded sample after a long gap (a stalled control thread) is
 * not a streak of that length. */
static void test_one_late_sample_is_not_a_streak(void **state)
{
	struct feed *feed = *state;
	sample(feed);
	feed->drops += 100;
	feed->count = FULL;
	assert_int_equal(sample_at(feed, feed->now_ms + 10 * ALARM_MS), MGR_ALARM_OVERLOADED);
	feed->drops += 100;
	assert_int_equal(sample(feed), MGR_ALARM_OVERLOADED);
	assert_int_equal(feed->raised, 0);
}

/* The drop counter is NF-writable: going back counts nothing and is the new
 * base; a huge jump saturates; a count above the capacity is a full ring;
 * the clock never runs back. */
static void test_untrusted_counters(void **state)
{
	struct feed *feed = *state;
	feed->drops = 5000000;
	sample(feed);
	feed->drops = 0; /* reset by an NF */
	for (int i = 0; i < 50; i++)
		assert_int_equal(sample(feed), MGR_ALARM_IDLE);
	feed->drops = 10; /* counted from the new base */
	assert_int_equal(sample(feed), MGR_ALARM_OVERLOADED);
	calm_for(feed, 10);

	feed->drops = UINT64_MAX / 2;
	sample(feed);
	feed->drops = UINT64_MAX;
	for (int i = 0; i < 20; i++) {
		feed->drops = i % 2 ? UINT64_MAX : 0;
		sample(feed);
	}
	feed->drops = 1;
	overload_for(feed, ALARM_MS + PERIOD_MS, UINT32_MAX);
	assert_int_equal(feed->raised, 1);
	assert_true(feed->alarm.drop_pps >= 0.0);

	struct mgr_alarm_inst inst;
	struct mgr_alarm alarm;
	mgr_alarm_reset(&inst, 8);
	struct mgr_alarm_sample wild = {100, 0, UINT32_MAX, CAPACITY};
	mgr_alarm_sample(&inst, &feed->params, &wild, &alarm);
	unsigned raised = 0;
	for (uint64_t t = 102; t < 200; t += 2) {
		wild.now_ms = t % 10 ? t : 1; /* a clock that jumps back now and then */
		raised += mgr_alarm_sample(&inst, &feed->params, &wild, &alarm) == MGR_ALARM_RAISE;
	}
	assert_int_equal(raised, 1);
	assert_float_equal(alarm.ring_fill, 1.0, 1e-9);
	assert_true(alarm.now_ms >= alarm.onset_ms + ALARM_MS);

	struct mgr_alarm_sample no_ring = {300, 0, 5, 0}; /* no capacity: an empty ring */
	assert_int_equal(mgr_alarm_sample(&inst, &feed->params, &no_ring, &alarm), MGR_ALARM_IDLE);
}

/* A new instance in the slot starts afresh: no alarm owed from the old one. */
static void test_reset_forgets(void **state)
{
	struct feed *feed = *state;
	overload_for(feed, 100, 10);
	assert_int_equal(feed->raised, 1);
	mgr_alarm_reset(&feed->inst, 9);
	assert_int_equal(feed->inst.instance, 9);
	overload_for(feed, ALARM_MS + 2 * PERIOD_MS, 10);
	assert_int_equal(feed->raised, 2);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_first_sample_is_the_base, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_steady_overload_raises_exactly_one, setup,
					    teardown),
	    cmocka_unit_test_setup_teardown(test_short_bursts_raise_none, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_draining_full_ring_raises_none, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_stepwise_drain_raises_none, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_filling_ring_raises_before_drops, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_intermittent_drops_at_full_ring, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_ring_below_threshold_is_calm, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_rearm_after_calm, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_one_late_sample_is_not_a_streak, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_untrusted_counters, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_reset_forgets, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
