/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * test_dp_nf_process.c - unit tests of dp/nf_process.c with real processes:
 * the manager signals only the process it recorded, never a pid read from
 * shared memory that could be 0, -1, init, itself, or a reused pid.
 */
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "nf_process.h"

static pid_t start_sleeper(void)
{
	pid_t pid = fork();
	if (pid == 0) {
		pause();
		_exit(0);
	}
	assert_true(pid > 0);
	return pid;
}

static void test_never_records_what_must_not_be_signalled(void **state)
{
	(void)state;
	struct nf_process process = {0};
	assert_int_equal(nf_process_record(&process, 0, 0), -1);  /* our process group */
	assert_int_equal(nf_process_record(&process, -1, 0), -1); /* every process */
	assert_int_equal(nf_process_record(&process, 1, 0), -1);  /* init */
	assert_int_equal(nf_process_record(&process, getpid(), 0), -1);
	assert_int_equal(nf_process_record(&process, 0x3fffffff, 0), -1); /* no such process */
	assert_int_equal(process.pid, 0);
	/* Nothing recorded: nothing is signalled. */
	assert_int_equal(nf_process_signal(&process, SIGKILL), -1);
	struct nf_process forged = {.pid = -1};
	assert_int_equal(nf_process_signal(&forged, SIGKILL), -1);
	forged.pid = 0;
	assert_int_equal(nf_process_signal(&forged, SIGKILL), -1);
}

static void test_signals_the_recorded_process(void **state)
{
	(void)state;
	pid_t pid = start_sleeper();
	struct nf_process process;
	assert_int_equal(nf_process_record(&process, pid, 0), 0);
	assert_true(process.start_time > 0);
	assert_true(nf_process_alive(&process));
	assert_int_equal(nf_process_signal(&process, SIGKILL), 0);
	int status;
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
	assert_false(nf_process_alive(&process));
	assert_int_equal(nf_process_signal(&process, SIGKILL), -1);
}

/* The same pid with another start time is another process (a reused pid). */
static void test_a_different_start_time_is_another_process(void **state)
{
	(void)state;
	pid_t pid = start_sleeper();
	struct nf_process process;
	assert_int_equal(nf_process_record(&process, pid, 0), 0);
	struct nf_process impostor = process;
	impostor.start_time++;
	assert_false(nf_process_alive(&impostor));
	assert_int_equal(nf_process_signal(&impostor, SIGKILL), -1);
	assert_int_equal(kill(pid, 0), 0); /* the real one was left alone */
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
}

/* A child stays ours until it is reaped: a zombie is still alive to us. */
static void test_a_child_is_ours_until_reaped(void **state)
{
	(void)state;
	pid_t pid = start_sleeper();
	struct nf_process process;
	assert_int_equal(nf_process_record(&process, pid, 1), 0);
	kill(pid, SIGKILL);
	usleep(20000);
	assert_true(nf_process_alive(&process)); /* a zombie: its pid is not reused */
	waitpid(pid, NULL, 0);
	assert_false(nf_process_alive(&process));
}

static void test_start_time_of_this_process(void **state)
{
	(void)state;
	uint64_t first, second;
	assert_int_equal(nf_process_start_time(getpid(), &first), 0);
	assert_int_equal(nf_process_start_time(getpid(), &second), 0);
	assert_true(first == second);
	assert_int_equal(nf_process_start_time(0, &first), -1);
	assert_int_equal(nf_process_start_time(-5, &first), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_never_records_what_must_not_be_signalled),
	    cmocka_unit_test(test_signals_the_recorded_process),
	    cmocka_unit_test(test_a_different_start_time_is_another_process),
	    cmocka_unit_test(test_a_child_is_ours_until_reaped),
	    cmocka_unit_test(test_start_time_of_this_process),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
