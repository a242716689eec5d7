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
#include <string.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
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

/* A hand-started NF must be a process of this manager: one that maps a file
 * of its EAL runtime folder.  Any other live process is not taken for one. */
static void test_maps_names_only_a_process_mapping_the_folder(void **state)
{
	(void)state;
	pid_t bystander = start_sleeper(); /* forked before the mapping: has none */
	char dir[] = "/tmp/onvm_maps_XXXXXX", path[64];
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/config", dir);
	int fd = open(path, O_RDWR | O_CREAT, 0600);
	assert_true(fd >= 0);
	assert_int_equal(ftruncate(fd, 4096), 0);
	void *mapped = mmap(NULL, 4096, PROT_READ, MAP_SHARED, fd, 0);
	assert_true(mapped != MAP_FAILED);

	struct nf_process self, other;
	assert_int_equal(nf_process_record(&other, bystander, 0), 0);
	self = (struct nf_process){.pid = getpid()}; /* record() refuses ourselves */
	assert_int_equal(nf_process_start_time(getpid(), &self.start_time), 0);
	assert_true(nf_process_maps(&self, dir));
	assert_false(nf_process_maps(&other, dir));
	char sibling[80]; /* a folder whose name starts like dir's */
	snprintf(sibling, sizeof(sibling), "%.*s", (int)strlen(dir) - 1, dir);
	assert_false(nf_process_maps(&self, sibling));
	assert_false(nf_process_maps(&self, "/nonexistent/onvm"));

	munmap(mapped, 4096);
	close(fd);
	unlink(path);
	rmdir(dir);
	kill(bystander, SIGKILL);
	waitpid(bystander, NULL, 0);
}

static struct catalog_service slow_thing(void)
{
	static char arg0[] = "-c", arg1[] = "2000";
	struct catalog_service service = {.id = 2, .name = "slow_thing", .nb_args = 2, .cores = 1};
	strcpy(service.exec, "/opt/onvm/slow_thing");
	service.args[0] = arg0;
	service.args[1] = arg1;
	return service;
}

static void assert_argv(char *const *argv, const char *const *expected)
{
	unsigned i = 0;
	for (; expected[i]; i++) {
		assert_non_null(argv[i]);
		assert_string_equal(argv[i], expected[i]);
	}
	assert_null(argv[i]);
}

/* The whole command line is built before fork(), from its inputs alone. */
static void test_launch_is_built_from_its_inputs(void **state)
{
	(void)state;
	struct catalog_service service = slow_thing();
	const uint16_t lcores[] = {5, 6};
	const struct nf_launch_spec spec = {
	    .service = &service,
	    .file_prefix = "h1",
	    .huge_dir = "/mnt/huge",
	    .lcores = lcores,
	    .nb_lcores = 2,
	    .nb_cpus = 2,
	};
	struct nf_launch launch, again;
	assert_int_equal(nf_launch_build(&launch, &spec), 0);
	static const char *const expected[] = {"/opt/onvm/slow_thing",
					       "--lcores=5@1,6@0",
					       "--proc-type=secondary",
					       "--file-prefix=h1",
					       "--no-pci",
					       "--no-telemetry",
					       "--log-level=lib.eal:warning",
					       "--huge-dir=/mnt/huge",
					       "--",
					       "-r",
					       "2",
					       "-n",
					       "slow_thing",
					       "--",
					       "-c",
					       "2000",
					       NULL};
	assert_argv(launch.argv, expected);
	assert_string_equal(launch.exec, "/opt/onvm/slow_thing");
	assert_string_equal(launch.exec_error, "onvm-mgr: cannot run /opt/onvm/slow_thing\n");
	/* The same inputs give the same vector. */
	assert_int_equal(nf_launch_build(&again, &spec), 0);
	for (unsigned i = 0; expected[i]; i++)
		assert_string_equal(again.argv[i], launch.argv[i]);

	const struct nf_launch_spec no_huge_dir = {.service = &service,
						   .file_prefix = "onvm",
						   .lcores = lcores,
						   .nb_lcores = 1,
						   .nb_cpus = 4};
	assert_int_equal(nf_launch_build(&launch, &no_huge_dir), 0);
	static const char *const expected_short[] = {"/opt/onvm/slow_thing",
						     "--lcores=5@1",
						     "--proc-type=secondary",
						     "--file-prefix=onvm",
						     "--no-pci",
						     "--no-telemetry",
						     "--log-level=lib.eal:warning",
						     "--",
						     "-r",
						     "2",
						     "-n",
						     "slow_thing",
						     "--",
						     "-c",
						     "2000",
						     NULL};
	assert_argv(launch.argv, expected_short);
}

/* An argument that would not fit is an error, never a truncated command line. */
static void test_launch_refuses_what_does_not_fit(void **state)
{
	(void)state;
	struct catalog_service service = slow_thing();
	uint16_t lcores[64];
	for (unsigned i = 0; i < 64; i++)
		lcores[i] = (uint16_t)(100 + i);
	struct nf_launch_spec spec = {.service = &service,
				      .file_prefix = "h1",
				      .lcores = lcores,
				      .nb_lcores = 64,
				      .nb_cpus = 2};
	struct nf_launch launch;
	assert_int_equal(nf_launch_build(&launch, &spec), -1); /* --lcores too long */
	spec.nb_lcores = 0;
	assert_int_equal(nf_launch_build(&launch, &spec), -1); /* no lcore at all */
	spec.nb_lcores = 1;
	char long_prefix[200];
	memset(long_prefix, 'p', sizeof(long_prefix) - 1);
	long_prefix[sizeof(long_prefix) - 1] = '\0';
	spec.file_prefix = long_prefix;
	assert_int_equal(nf_launch_build(&launch, &spec), -1);
	spec.file_prefix = "h1";
	service.nb_args = CATALOG_MAX_ARGS + 1;
	assert_int_equal(nf_launch_build(&launch, &spec), -1);
	service.nb_args = CATALOG_MAX_ARGS; /* the most a catalog holds fits */
	for (unsigned i = 2; i < CATALOG_MAX_ARGS; i++)
		service.args[i] = service.args[1];
	assert_int_equal(nf_launch_build(&launch, &spec), 0);
	assert_null(launch.argv[13 + CATALOG_MAX_ARGS]); /* 13 of ours without --huge-dir */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_never_records_what_must_not_be_signalled),
	    cmocka_unit_test(test_signals_the_recorded_process),
	    cmocka_unit_test(test_a_different_start_time_is_another_process),
	    cmocka_unit_test(test_a_child_is_ours_until_reaped),
	    cmocka_unit_test(test_start_time_of_this_process),
	    cmocka_unit_test(test_maps_names_only_a_process_mapping_the_folder),
	    cmocka_unit_test(test_launch_is_built_from_its_inputs),
	    cmocka_unit_test(test_launch_refuses_what_does_not_fit),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
