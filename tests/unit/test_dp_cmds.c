/* SPDX-License-Identifier: BSD-3-Clause */
/* test_dp_cmds.c - unit tests for the command queue and window (dp/mgr_cmds.c). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "mgr_cmds.h"

#define T0 1795480000000ull /* a wall-clock ms */

static struct bus_cmd spawn(const char *id)
{
	struct bus_cmd cmd = {.op = BUS_OP_SPAWN, .service = 2, .count = 1};
	snprintf(cmd.id, sizeof(cmd.id), "%s", id);
	snprintf(cmd.engine, sizeof(cmd.engine), "pe-a");
	return cmd;
}

static struct bus_cmd spawn_expiring(const char *id, uint64_t expires_ms)
{
	struct bus_cmd cmd = spawn(id);
	cmd.has_expires = true;
	cmd.expires_ms = expires_ms;
	return cmd;
}

static enum mgr_cmd_verdict admit(struct mgr_cmd_window *window, const struct bus_cmd *cmd,
				  uint64_t now_ms, char *why)
{
	struct mgr_seen_cmd *seen;
	why[0] = '\0';
	return mgr_cmd_admit(window, cmd, now_ms, &seen, why, BUS_TEXT_LEN);
}

/* count commands named PREFIX-i, each expiring at expires_ms (0: none). */
static unsigned admit_many(struct mgr_cmd_window *window, const char *prefix, unsigned count,
			   uint64_t now_ms, uint64_t expires_ms)
{
	char why[BUS_TEXT_LEN], id[BUS_NAME_LEN];
	unsigned run = 0;
	for (unsigned i = 0; i < count; i++) {
		snprintf(id, sizeof(id), "%s-%u", prefix, i);
		struct bus_cmd cmd = expires_ms ? spawn_expiring(id, expires_ms) : spawn(id);
		run += admit(window, &cmd, now_ms, why) == MGR_CMD_RUN;
	}
	return run;
}

static void test_queue_full_drops_and_counts(void **state)
{
	(void)state;
	struct mgr_cmd_queue *queue = calloc(1, sizeof(*queue));
	mgr_cmd_queue_init(queue);
	struct mgr_queued_cmd item = {.valid = 1};
	unsigned kept = 0, dropped = 0;
	for (unsigned i = 0; i < 1000; i++) {
		snprintf(item.cmd.id, sizeof(item.cmd.id), "flood-%u", i);
		uint64_t drops = mgr_cmd_queue_put(queue, &item);
		if (drops) {
			dropped++;
			assert_int_equal(drops, dropped); /* the running count, for the log line */
		} else {
			kept++;
		}
	}
	assert_int_equal(kept, MGR_CMD_QUEUE_SIZE - 1);
	assert_int_equal(mgr_cmd_queue_drops(queue), 1000 - kept);
	/* What was kept comes out in order; then there is room again. */
	struct mgr_queued_cmd out;
	for (unsigned i = 0; i < kept; i++) {
		assert_true(mgr_cmd_queue_take(queue, &out));
		char id[BUS_NAME_LEN];
		snprintf(id, sizeof(id), "flood-%u", i);
		assert_string_equal(out.cmd.id, id);
	}
	assert_false(mgr_cmd_queue_take(queue, &out));
	assert_int_equal(mgr_cmd_queue_put(queue, &item), 0);
	mgr_cmd_queue_destroy(queue);
	free(queue);
}

static void test_repeat_is_answered_not_run(void **state)
{
	(void)state;
	struct mgr_cmd_window *window = calloc(1, sizeof(*window));
	char why[BUS_TEXT_LEN];
	struct bus_cmd cmd = spawn("pe-a-1");
	assert_int_equal(admit(window, &cmd, T0, why), MGR_CMD_RUN);
	assert_int_equal(admit(window, &cmd, T0 + 10, why), MGR_CMD_REPEAT);
	mgr_cmd_window_free(window);
	free(window);
}

/*
 * A command still live is never forgotten because newer ones came: with
 * every remembered id live, a new command is refused instead, and a copy of
 * the old one is still known.  Once its expiry has passed it may be
 * forgotten, and a copy is then refused by its own expires_ms.
 */
static void test_forgotten_command_does_not_run_twice(void **state)
{
	(void)state;
	struct mgr_cmd_window *window = calloc(1, sizeof(*window));
	char why[BUS_TEXT_LEN];
	struct bus_cmd first = spawn_expiring("pe-a-1", T0 + 5000);
	assert_int_equal(admit(window, &first, T0, why), MGR_CMD_RUN);

	/* 600 more within its life: at most the window's size are taken. */
	unsigned run = admit_many(window, "flood", 600, T0 + 1000, T0 + 5000);
	assert_int_equal(run, MGR_CMD_WINDOW - 1);
	assert_int_equal(window->refused_full, 600 - run);
	assert_int_equal(admit(window, &first, T0 + 2000, why), MGR_CMD_REPEAT);

	/* After its expiry the window moves on and forgets it... */
	assert_int_equal(admit_many(window, "later", MGR_CMD_WINDOW, T0 + 6000, T0 + 11000),
			 MGR_CMD_WINDOW);
	assert_null(mgr_cmd_find(window, "pe-a-1"));
	/* ...and its copy is refused, not run. */
	assert_int_equal(admit(window, &first, T0 + 6001, why), MGR_CMD_REFUSE);
	assert_non_null(strstr(why, "expired"));
	mgr_cmd_window_free(window);
	free(window);
}

/* Without expires_ms, a command's ts_ms + MGR_CMD_LIFETIME_MS is its expiry. */
static void test_forgotten_command_with_ts_only(void **state)
{
	(void)state;
	struct mgr_cmd_window *window = calloc(1, sizeof(*window));
	char why[BUS_TEXT_LEN];
	struct bus_cmd first = spawn("pe-a-2");
	first.has_ts_ms = true;
	first.ts_ms = T0;
	assert_int_equal(admit(window, &first, T0 + 5, why), MGR_CMD_RUN);
	uint64_t later = T0 + MGR_CMD_LIFETIME_MS + 1;
	assert_int_equal(admit_many(window, "later", MGR_CMD_WINDOW, later, later + 5000),
			 MGR_CMD_WINDOW);
	assert_null(mgr_cmd_find(window, "pe-a-2"));
	assert_int_equal(admit(window, &first, later + 1, why), MGR_CMD_REFUSE);
	assert_non_null(strstr(why, "expired"));
	mgr_cmd_window_free(window);
	free(window);
}

/* A command with neither time is remembered for MGR_CMD_LIFETIME_MS from its arrival. */
static void test_timeless_command_kept_for_its_lifetime(void **state)
{
	(void)state;
	struct mgr_cmd_window *window = calloc(1, sizeof(*window));
	char why[BUS_TEXT_LEN];
	struct bus_cmd first = spawn("by-hand-1");
	assert_int_equal(admit(window, &first, T0, why), MGR_CMD_RUN);
	uint64_t before_end = T0 + MGR_CMD_LIFETIME_MS - 1;
	admit_many(window, "flood", 2 * MGR_CMD_WINDOW, before_end, 0);
	assert_int_equal(admit(window, &first, before_end, why), MGR_CMD_REPEAT);
	mgr_cmd_window_free(window);
	free(window);
}

static void test_clock_skew(void **state)
{
	(void)state;
	struct mgr_cmd_window *window = calloc(1, sizeof(*window));
	char why[BUS_TEXT_LEN];
	struct bus_cmd cmd = spawn("skewed-1");
	cmd.has_ts_ms = true;
	cmd.ts_ms = T0 + MGR_CMD_MAX_SKEW_MS + 1;
	assert_int_equal(admit(window, &cmd, T0, why), MGR_CMD_REFUSE);
	assert_non_null(strstr(why, "clock skew"));
	assert_null(mgr_cmd_find(window, "skewed-1"));

	struct bus_cmd ahead = spawn("ahead-1"); /* within the tolerance */
	ahead.has_ts_ms = true;
	ahead.ts_ms = T0 + MGR_CMD_MAX_SKEW_MS;
	assert_int_equal(admit(window, &ahead, T0, why), MGR_CMD_RUN);

	struct bus_cmd far =
	    spawn_expiring("far-1", T0 + MGR_CMD_MAX_LIFE_MS + MGR_CMD_MAX_SKEW_MS + 1);
	assert_int_equal(admit(window, &far, T0, why), MGR_CMD_REFUSE);
	assert_non_null(strstr(why, "clock skew"));

	struct bus_cmd late = spawn_expiring("late-1", T0 - 1);
	assert_int_equal(admit(window, &late, T0, why), MGR_CMD_REFUSE);
	assert_string_equal(why, "command expired before it arrived");
	mgr_cmd_window_free(window);
	free(window);
}

/* Answers kept for a repeat are bounded and freed with the window (ASan checks). */
static void test_answers_kept_and_freed(void **state)
{
	(void)state;
	struct mgr_cmd_window *window = calloc(1, sizeof(*window));
	char why[BUS_TEXT_LEN];
	struct bus_cmd cmd = spawn("pe-a-9");
	struct mgr_seen_cmd *seen;
	assert_int_equal(mgr_cmd_admit(window, &cmd, T0, &seen, why, sizeof(why)), MGR_CMD_RUN);
	for (unsigned i = 0; i < MGR_CMD_ANSWERS + 3; i++)
		mgr_cmd_keep_answer(seen, strdup("{}"));
	assert_int_equal(seen->nb_answers, MGR_CMD_ANSWERS);
	mgr_cmd_window_free(window);
	free(window);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_queue_full_drops_and_counts),
	    cmocka_unit_test(test_repeat_is_answered_not_run),
	    cmocka_unit_test(test_forgotten_command_does_not_run_twice),
	    cmocka_unit_test(test_forgotten_command_with_ts_only),
	    cmocka_unit_test(test_timeless_command_kept_for_its_lifetime),
	    cmocka_unit_test(test_clock_skew),
	    cmocka_unit_test(test_answers_kept_and_freed),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
