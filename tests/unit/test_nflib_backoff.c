/* SPDX-License-Identifier: BSD-3-Clause */
/* test_nflib_backoff.c - unit tests for the idle back-off (nflib/onvm_backoff.c). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "onvm_backoff.h"

/* ---- helpers ---- */

/* One idle poll: it must sleep what next_sleep announced. */
static uint32_t idle_once(struct onvm_backoff *backoff)
{
	uint32_t expected = onvm_backoff_next_sleep(backoff);
	uint32_t slept = onvm_backoff_idle(backoff);
	assert_int_equal(slept, expected);
	return slept;
}

/* The spinning phase: SPIN_POLLS idle polls that do not sleep. */
static void spin_through(struct onvm_backoff *backoff)
{
	for (unsigned i = 0; i < ONVM_BACKOFF_SPIN_POLLS; i++) {
		assert_int_equal(onvm_backoff_next_sleep(backoff), 0);
		assert_int_equal(idle_once(backoff), 0);
	}
}

static uint64_t now_us(void)
{
	struct timespec now;
	clock_gettime(CLOCK_MONOTONIC, &now);
	return (uint64_t)now.tv_sec * 1000000u + (uint64_t)now.tv_nsec / 1000u;
}

/* ---- tests ---- */

static void test_fresh_backoff_spins(void **state)
{
	(void)state;
	struct onvm_backoff backoff = {0};
	assert_int_equal(onvm_backoff_next_sleep(&backoff), 0);
	spin_through(&backoff);
	assert_int_equal(backoff.idle_polls, ONVM_BACKOFF_SPIN_POLLS);
	assert_int_equal(onvm_backoff_next_sleep(&backoff), 1);
}

static void test_sleeps_double_up_to_cap(void **state)
{
	(void)state;
	struct onvm_backoff backoff;
	onvm_backoff_reset(&backoff);
	spin_through(&backoff);
	/* 1, 2, 4, ... while below the cap, then the cap from there on. */
	for (uint32_t expected = 1; expected < ONVM_BACKOFF_MAX_US; expected *= 2)
		assert_int_equal(idle_once(&backoff), expected);
	for (int i = 0; i < 3; i++)
		assert_int_equal(idle_once(&backoff), ONVM_BACKOFF_MAX_US);
}

static void test_never_above_cap(void **state)
{
	(void)state;
	struct onvm_backoff backoff = {0};
	spin_through(&backoff);
	uint32_t previous = 0;
	for (unsigned i = 0; i < 30; i++) {
		uint32_t slept = idle_once(&backoff);
		assert_in_range(slept, 1, ONVM_BACKOFF_MAX_US);
		assert_true(slept >= previous); /* never shrinks without a reset */
		previous = slept;
	}
	assert_int_equal(previous, ONVM_BACKOFF_MAX_US);
}

static void test_reset_returns_to_spinning(void **state)
{
	(void)state;
	struct onvm_backoff backoff = {0};
	spin_through(&backoff);
	for (unsigned i = 0; i < 12; i++)
		idle_once(&backoff);
	assert_int_equal(onvm_backoff_next_sleep(&backoff), ONVM_BACKOFF_MAX_US);

	onvm_backoff_reset(&backoff);
	assert_int_equal(backoff.idle_polls, 0);
	assert_int_equal(backoff.sleep_us, 0);
	assert_int_equal(onvm_backoff_next_sleep(&backoff), 0);
	spin_through(&backoff);
	/* And the sleeps start again from 1. */
	assert_int_equal(idle_once(&backoff), 1);
	assert_int_equal(idle_once(&backoff), 2);
}

static void test_reset_while_spinning(void **state)
{
	(void)state;
	struct onvm_backoff backoff = {0};
	for (unsigned i = 0; i < ONVM_BACKOFF_SPIN_POLLS - 1; i++)
		idle_once(&backoff);
	onvm_backoff_reset(&backoff);
	/* A full spin phase again, not just the one poll that was left. */
	spin_through(&backoff);
	assert_int_equal(idle_once(&backoff), 1);
}

static void test_next_sleep_is_pure(void **state)
{
	(void)state;
	struct onvm_backoff backoff = {.idle_polls = ONVM_BACKOFF_SPIN_POLLS, .sleep_us = 16};
	struct onvm_backoff copy = backoff;
	for (unsigned i = 0; i < 5; i++)
		assert_int_equal(onvm_backoff_next_sleep(&backoff), 32);
	assert_memory_equal(&backoff, &copy, sizeof(backoff));
}

static void test_next_sleep_from_given_states(void **state)
{
	(void)state;
	struct onvm_backoff backoff = {.idle_polls = ONVM_BACKOFF_SPIN_POLLS - 1, .sleep_us = 64};
	assert_int_equal(onvm_backoff_next_sleep(&backoff), 0); /* still spinning */
	backoff.idle_polls = ONVM_BACKOFF_SPIN_POLLS;
	assert_int_equal(onvm_backoff_next_sleep(&backoff), 128);
	backoff.sleep_us = ONVM_BACKOFF_MAX_US / 2 + 1; /* doubling would pass the cap */
	assert_int_equal(onvm_backoff_next_sleep(&backoff), ONVM_BACKOFF_MAX_US);
	backoff.sleep_us = ONVM_BACKOFF_MAX_US;
	assert_int_equal(onvm_backoff_next_sleep(&backoff), ONVM_BACKOFF_MAX_US);
	backoff.sleep_us = 0;
	backoff.idle_polls = UINT32_MAX;
	assert_int_equal(onvm_backoff_next_sleep(&backoff), 1);
}

static void test_idle_counter_saturates(void **state)
{
	(void)state;
	struct onvm_backoff backoff = {.idle_polls = UINT32_MAX - 1, .sleep_us = 0};
	assert_int_equal(idle_once(&backoff), 1);
	assert_int_equal(backoff.idle_polls, UINT32_MAX);
	assert_int_equal(idle_once(&backoff), 2);
	assert_int_equal(backoff.idle_polls, UINT32_MAX); /* no wrap back to spinning */
	assert_int_equal(idle_once(&backoff), 4);
}

static void test_idle_really_sleeps(void **state)
{
	(void)state;
	struct onvm_backoff backoff = {.idle_polls = ONVM_BACKOFF_SPIN_POLLS,
				       .sleep_us = ONVM_BACKOFF_MAX_US};
	uint64_t total = 0;
	uint64_t start = now_us();
	for (unsigned i = 0; i < 5; i++)
		total += idle_once(&backoff);
	uint64_t elapsed = now_us() - start;
	assert_int_equal(total, 5 * ONVM_BACKOFF_MAX_US);
	assert_true(elapsed >= total);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_fresh_backoff_spins),
	    cmocka_unit_test(test_sleeps_double_up_to_cap),
	    cmocka_unit_test(test_never_above_cap),
	    cmocka_unit_test(test_reset_returns_to_spinning),
	    cmocka_unit_test(test_reset_while_spinning),
	    cmocka_unit_test(test_next_sleep_is_pure),
	    cmocka_unit_test(test_next_sleep_from_given_states),
	    cmocka_unit_test(test_idle_counter_saturates),
	    cmocka_unit_test(test_idle_really_sleeps),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
