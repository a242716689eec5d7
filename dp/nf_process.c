/* SPDX-License-Identifier: BSD-3-Clause */
/* nf_process.c - the process behind an NF (see nf_process.h). */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "nf_process.h"

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
	if (process->child) /* a zombie is still ours: alive until reaped */
		return kill(process->pid, 0) == 0 || errno != ESRCH;
	return nf_process_start_time(process->pid, &start_time) == 0 &&
	       start_time == process->start_time;
}

int nf_process_signal(const struct nf_process *process, int sig)
{
	if (!nf_process_alive(process))
		return -1;
	return kill(process->pid, sig);
}
