/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * test_dp_nf_reaper.c - unit tests of dp/nf_reaper.c with real children:
 * a death is seen, with its cause, before anyone reaps; the pid stays a
 * zombie (so it cannot be reused) until the reaper thread has reaped it;
 * a child handed over while it still runs is reaped once it ends.
 */
#define _GNU_SOURCE
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "nf_reaper.h"

static pid_t start_child(int exit_code)
{
	pid_t pid = fork();
	if (pid == 0) {
		if (exit_code < 0)
			pause();
		_exit(exit_code);
	}
	assert_true(pid > 0);
	return pid;
}

static uint64_t now_ms(void)
{
	struct timespec now;
	clock_gettime(CLOCK_MONOTONIC, &now);
	return (uint64_t)now.tv_sec * 1000 + (uint64_t)now.tv_nsec / 1000000;
}

/* Poll nf_reaper_exited until it is not 0, or 5 s have passed. */
static int wait_exited(pid_t pid, struct nf_exit *how)
{
	uint64_t deadline = now_ms() + 5000;
	int ended;
	while ((ended = nf_reaper_exited(pid, how)) == 0 && now_ms() < deadline)
		usleep(1000);
	return ended;
}

static void wait_reaped(struct nf_reaper *reaper)
{
	uint64_t deadline = now_ms() + 5000;
	while (nf_reaper_pending(reaper) > 0 && now_ms() < deadline)
		usleep(1000);
	assert_int_equal(nf_reaper_pending(reaper), 0);
}

static char state_of(pid_t pid)
{
	char path[64], state = '?';
	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	FILE *file = fopen(path, "r");
	if (file == NULL)
		return 0;
	if (fscanf(file, "%*d (%*[^)]) %c", &state) != 1)
		state = '?';
	fclose(file);
	return state;
}

static void test_a_death_is_seen_without_reaping(void **state)
{
	(void)state;
	struct nf_exit how = {0};
	pid_t pid = start_child(-1);
	assert_int_equal(nf_reaper_exited(pid, &how), 0); /* running */
	kill(pid, SIGKILL);
	assert_int_equal(wait_exited(pid, &how), 1);
	assert_true(how.signaled);
	assert_int_equal(how.code, SIGKILL);
	/* Only looked at: still a zombie, and still ours. */
	assert_int_equal(state_of(pid), 'Z');
	assert_int_equal(nf_reaper_exited(pid, &how), 1);

	struct nf_reaper reaper;
	assert_int_equal(nf_reaper_start(&reaper), 0);
	nf_reaper_hand_over(&reaper, pid);
	wait_reaped(&reaper);
	assert_int_equal(state_of(pid), 0); /* gone from /proc */
	assert_int_equal(nf_reaper_exited(pid, &how), -1);
	assert_int_equal(reaper.reaped, 1);
	nf_reaper_stop(&reaper);
}

static void test_an_exit_status_is_told(void **state)
{
	(void)state;
	struct nf_exit how = {0};
	pid_t pid = start_child(7);
	assert_int_equal(wait_exited(pid, &how), 1);
	assert_false(how.signaled);
	assert_int_equal(how.code, 7);
	struct nf_reaper reaper;
	assert_int_equal(nf_reaper_start(&reaper), 0);
	nf_reaper_hand_over(&reaper, pid);
	wait_reaped(&reaper);
	nf_reaper_stop(&reaper);
}

static void test_a_running_child_is_reaped_when_it_ends(void **state)
{
	(void)state;
	struct nf_reaper reaper;
	assert_int_equal(nf_reaper_start(&reaper), 0);
	pid_t pid = start_child(-1);
	nf_reaper_hand_over(&reaper, pid);
	usleep(30 * 1000); /* a few of the reaper's looks: it must not reap a live child */
	assert_int_equal(nf_reaper_pending(&reaper), 1);
	assert_int_equal(state_of(pid), 'S');
	kill(pid, SIGTERM);
	wait_reaped(&reaper);
	assert_int_equal(state_of(pid), 0);
	nf_reaper_stop(&reaper);
}

static void test_what_is_not_a_child_is_said(void **state)
{
	(void)state;
	struct nf_exit how;
	assert_int_equal(nf_reaper_exited(0, &how), -1);
	assert_int_equal(nf_reaper_exited(-1, &how), -1);
	assert_int_equal(nf_reaper_exited(1, &how), -1); /* init: not ours */
	assert_int_equal(nf_reaper_exited(getpid(), &how), -1);
	struct nf_reaper reaper;
	assert_int_equal(nf_reaper_start(&reaper), 0);
	nf_reaper_hand_over(&reaper, 0); /* ignored */
	nf_reaper_hand_over(&reaper, -1);
	assert_int_equal(nf_reaper_pending(&reaper), 0);
	nf_reaper_hand_over(&reaper, 1); /* not ours: dropped at the first look */
	wait_reaped(&reaper);
	nf_reaper_stop(&reaper);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_a_death_is_seen_without_reaping),
	    cmocka_unit_test(test_an_exit_status_is_told),
	    cmocka_unit_test(test_a_running_child_is_reaped_when_it_ends),
	    cmocka_unit_test(test_what_is_not_a_child_is_said),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
