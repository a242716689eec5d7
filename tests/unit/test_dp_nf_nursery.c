/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * test_dp_nf_nursery.c - unit tests of dp/nf_nursery.c with a real nursery
 * and real programs: what it starts runs, each end is reported with its
 * cause and the process's start time, a program that cannot be run ends
 * with 127, and the nursery ends when the manager's side closes.
 */
#define _GNU_SOURCE
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "nf_nursery.h"

static uint64_t now_ms(void)
{
	struct timespec now;
	clock_gettime(CLOCK_MONOTONIC, &now);
	return (uint64_t)now.tv_sec * 1000 + (uint64_t)now.tv_nsec / 1000000;
}

/* A launch of /bin/sh -c SCRIPT. */
static void shell_launch(struct nf_launch *launch, const char *script)
{
	memset(launch, 0, sizeof(*launch));
	launch->exec = "/bin/sh";
	launch->argv[0] = (char *)(uintptr_t) "sh";
	launch->argv[1] = (char *)(uintptr_t) "-c";
	launch->argv[2] = (char *)(uintptr_t)script;
	launch->argv[3] = NULL;
	strcpy(launch->exec_error, "cannot run /bin/sh\n");
}

/* Start /bin/sh -c SCRIPT by the nursery; its pid. */
static pid_t spawn_script(struct nf_nursery *nursery, const char *script)
{
	struct nf_launch launch;
	shell_launch(&launch, script);
	pid_t pid = 0;
	char err[128];
	assert_int_equal(nf_nursery_spawn(nursery, &launch, &pid, err, sizeof(err)), 0);
	return pid;
}

/* The next death, waited for up to 5 s. */
static int next_death(struct nf_nursery *nursery, struct nf_death *death)
{
	uint64_t deadline = now_ms() + 5000;
	int got;
	while ((got = nf_nursery_next_death(nursery, death)) == 0 && now_ms() < deadline)
		usleep(1000);
	return got;
}

static void test_an_exit_is_told(void **state)
{
	(void)state;
	struct nf_nursery nursery;
	assert_int_equal(nf_nursery_start(&nursery), 0);
	pid_t pid = spawn_script(&nursery, "exit 7");
	struct nf_death death;
	assert_int_equal(next_death(&nursery, &death), 1);
	assert_int_equal(death.pid, pid);
	assert_false(death.how.signaled);
	assert_int_equal(death.how.code, 7);
	nf_nursery_stop(&nursery);
	waitpid(nursery.pid, NULL, 0);
}

static void test_a_kill_is_told_with_the_start_time(void **state)
{
	(void)state;
	struct nf_nursery nursery;
	assert_int_equal(nf_nursery_start(&nursery), 0);
	pid_t pid = spawn_script(&nursery, "exec sleep 30");
	struct nf_process process;
	assert_int_equal(nf_process_record(&process, pid, 1), 0);
	assert_true(nf_process_alive(&process));
	struct nf_death death;
	assert_int_equal(nf_nursery_next_death(&nursery, &death), 0); /* still running */
	kill(pid, SIGKILL);
	assert_int_equal(next_death(&nursery, &death), 1);
	assert_int_equal(death.pid, pid);
	assert_true(death.how.signaled);
	assert_int_equal(death.how.code, SIGKILL);
	assert_true(death.start_time == process.start_time);
	/* The nursery reaps it: the pid is no one's in the end. */
	uint64_t deadline = now_ms() + 5000;
	while (nf_process_alive(&process) && now_ms() < deadline)
		usleep(1000);
	assert_false(nf_process_alive(&process));
	nf_nursery_stop(&nursery);
	waitpid(nursery.pid, NULL, 0);
}

static void test_a_program_that_cannot_run_ends_with_127(void **state)
{
	(void)state;
	struct nf_nursery nursery;
	assert_int_equal(nf_nursery_start(&nursery), 0);
	struct nf_launch launch;
	shell_launch(&launch, "unused");
	launch.exec = "/nonexistent/nf";
	pid_t pid;
	char err[128];
	assert_int_equal(nf_nursery_spawn(&nursery, &launch, &pid, err, sizeof(err)), 0);
	struct nf_death death;
	assert_int_equal(next_death(&nursery, &death), 1);
	assert_int_equal(death.pid, pid);
	assert_int_equal(death.how.code, 127);
	nf_nursery_stop(&nursery);
	waitpid(nursery.pid, NULL, 0);
}

static void test_the_nursery_ends_with_its_manager_side(void **state)
{
	(void)state;
	struct nf_nursery nursery;
	assert_int_equal(nf_nursery_start(&nursery), 0);
	pid_t nursery_pid = nursery.pid;
	nf_nursery_stop(&nursery);
	int status;
	assert_int_equal(waitpid(nursery_pid, &status, 0), nursery_pid);
	assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	/* Stopped: nothing can be started, and that is said. */
	struct nf_launch launch;
	shell_launch(&launch, "exit 0");
	pid_t pid;
	char err[128];
	assert_int_equal(nf_nursery_spawn(&nursery, &launch, &pid, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "nursery"));
	struct nf_death death;
	assert_int_equal(nf_nursery_next_death(&nursery, &death), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_an_exit_is_told),
	    cmocka_unit_test(test_a_kill_is_told_with_the_start_time),
	    cmocka_unit_test(test_a_program_that_cannot_run_ends_with_127),
	    cmocka_unit_test(test_the_nursery_ends_with_its_manager_side),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
