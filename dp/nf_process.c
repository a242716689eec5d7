/* SPDX-License-Identifier: BSD-3-Clause */
/* nf_process.c - the process behind an NF (see nf_process.h). */
#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h> /* realpath */
#include <limits.h>
#include <string.h>
#include <unistd.h>

#include "nf_process.h"

static int print_into(char *buffer, size_t size, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

int nf_process_start_time(pid_t pid, uint64_t *start_time)
{
	char path[64], line[1024];
	if (pid <= 0)
		return -1;
	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	FILE *file = fopen(path, "r");
	if (file == NULL)
		return -1;
	int got = fgets(line, sizeof(line), file) != NULL;
	fclose(file);
	/* The command name (field 2) may hold spaces and ')': skip to its last ')'. */
	const char *rest = got ? strrchr(line, ')') : NULL;
	unsigned long long value;
	/* After ")": state (3), then fields 4..21, then starttime (22). */
	if (rest == NULL ||
	    sscanf(rest + 1,
		   " %*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %*u %*u %*d %*d %*d %*d "
		   "%*d %*d %llu",
		   &value) != 1)
		return -1;
	*start_time = value;
	return 0;
}

int nf_process_record(struct nf_process *process, pid_t pid, int child)
{
	uint64_t start_time;
	if (pid <= 1 || pid == getpid() || nf_process_start_time(pid, &start_time) < 0)
		return -1;
	*process = (struct nf_process){.pid = pid, .start_time = start_time, .child = child};
	return 0;
}

int nf_process_alive(const struct nf_process *process)
{
	uint64_t start_time;
	if (process->pid <= 1)
		return 0;
	/* A zombie still has its entry, and its start time, until reaped. */
	return nf_process_start_time(process->pid, &start_time) == 0 &&
	       start_time == process->start_time;
}

int nf_process_maps(const struct nf_process *process, const char *dir)
{
	char path[64], real_dir[PATH_MAX], needle[PATH_MAX + 2], line[PATH_MAX + 160];
	/* The kernel names mapped files by their real path (/var/run is /run). */
	if (process->pid <= 1 || realpath(dir, real_dir) == NULL ||
	    print_into(needle, sizeof(needle), " %s/", real_dir) < 0)
		return 0;
	snprintf(path, sizeof(path), "/proc/%d/maps", (int)process->pid);
	FILE *file = fopen(path, "r");
	if (file == NULL)
		return 0;
	int found = 0;
	/* The path is the last field, after spaces: " DIR/" cannot match inside
	 * another folder's name. */
	while (!found && fgets(line, sizeof(line), file))
		found = strstr(line, needle) != NULL;
	fclose(file);
	return found && nf_process_alive(process);
}

int nf_process_signal(const struct nf_process *process, int sig)
{
	if (!nf_process_alive(process))
		return -1;
	return kill(process->pid, sig);
}

/* snprintf into buffer: 0, or -1 when it did not fit. */
static int print_into(char *buffer, size_t size, const char *fmt, ...)
{
	va_list args;
	va_start(args, fmt);
	int length = vsnprintf(buffer, size, fmt, args);
	va_end(args);
	return length < 0 || (size_t)length >= size ? -1 : 0;
}

static int format_lcores(char *text, size_t size, const uint16_t *lcores, unsigned count,
			 unsigned nb_cpus)
{
	size_t used = strlen("--lcores=");
	if (count == 0 || nb_cpus == 0 || print_into(text, size, "--lcores=") < 0)
		return -1;
	for (unsigned i = 0; i < count; i++) {
		if (print_into(text + used, size - used, "%s%u@%u", i ? "," : "", lcores[i],
			       lcores[i] % nb_cpus) < 0)
			return -1;
		used += strlen(text + used);
	}
	return 0;
}

int nf_launch_build(struct nf_launch *launch, const struct nf_launch_spec *spec)
{
	const struct catalog_service *service = spec->service;
	char **argv = launch->argv;
	unsigned argc = 0;

	memset(launch, 0, sizeof(*launch));
	if (service->nb_args > CATALOG_MAX_ARGS ||
	    format_lcores(launch->lcores, sizeof(launch->lcores), spec->lcores, spec->nb_lcores,
			  spec->nb_cpus) < 0 ||
	    print_into(launch->file_prefix, sizeof(launch->file_prefix), "--file-prefix=%s",
		       spec->file_prefix) < 0 ||
	    print_into(launch->service_id, sizeof(launch->service_id), "%u", service->id) < 0 ||
	    print_into(launch->exec_error, sizeof(launch->exec_error), "onvm-mgr: cannot run %s\n",
		       service->exec) < 0)
		return -1;
	launch->exec = service->exec;
	argv[argc++] = (char *)(uintptr_t)service->exec;
	argv[argc++] = launch->lcores;
	argv[argc++] = (char *)(uintptr_t) "--proc-type=secondary";
	argv[argc++] = launch->file_prefix;
	argv[argc++] = (char *)(uintptr_t) "--no-pci";
	argv[argc++] = (char *)(uintptr_t) "--no-telemetry";
	argv[argc++] = (char *)(uintptr_t) "--log-level=lib.eal:warning";
	if (spec->huge_dir && spec->huge_dir[0]) {
		if (print_into(launch->huge_dir, sizeof(launch->huge_dir), "--huge-dir=%s",
			       spec->huge_dir) < 0)
			return -1;
		argv[argc++] = launch->huge_dir;
	}
	argv[argc++] = (char *)(uintptr_t) "--";
	argv[argc++] = (char *)(uintptr_t) "-r";
	argv[argc++] = launch->service_id;
	argv[argc++] = (char *)(uintptr_t) "-n";
	argv[argc++] = (char *)(uintptr_t)service->name;
	argv[argc++] = (char *)(uintptr_t) "--";
	for (unsigned i = 0; i < service->nb_args; i++)
		argv[argc++] = service->args[i];
	argv[argc] = NULL;
	return 0;
}
