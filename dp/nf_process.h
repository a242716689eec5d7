/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * nf_process.h - the process behind an NF, as the manager knows it.
 *
 * An NF's pid also sits in shared memory, where the NF (or any bug in it)
 * can write 0, -1 or another process's pid; as root, kill(0) signals the
 * manager's own process group and kill(-1) every process on the machine.
 * So the manager keeps its own record of each NF's process, in its private
 * memory: the pid its nursery started, or the pid a hand-started NF registered with
 * together with that process's start time (/proc/PID/stat), and signals
 * only a process that is still that one.
 */
#ifndef NF_PROCESS_H
#define NF_PROCESS_H

#include <limits.h>
#include <stdint.h>
#include <sys/types.h>

#include "catalog.h"

struct nf_process {
	pid_t pid;	     /* 0: none */
	uint64_t start_time; /* clock ticks after boot, /proc/PID/stat field 22 */
	int child;	     /* started by the manager's nursery, which reports its end */
};

/* The start time of process pid: 0, or -1 when there is no such process. */
int nf_process_start_time(pid_t pid, uint64_t *start_time);

/* Record a process the manager's nursery started (child) or one that
 * registered by itself.  0, or -1 when pid is not a live process other than
 * init and the manager (then nothing is recorded). */
int nf_process_record(struct nf_process *process, pid_t pid, int child);

/* Whether process is still the one recorded: alive (a zombie counts), with
 * the same start time, so a reused pid is never taken for it. */
int nf_process_alive(const struct nf_process *process);

/* Whether the recorded process, still that one, maps a file under folder
 * dir (a hand-started NF maps its manager's EAL runtime folder): a pid
 * that names some other live process is then not taken for an NF. */
int nf_process_maps(const struct nf_process *process, const char *dir);

/* Send sig to the recorded process if it is still that one: 0, or -1. */
int nf_process_signal(const struct nf_process *process, int sig);

/*
 * The command line of a spawned NF, built whole by the manager and sent to
 * its nursery (nf_nursery.h), which has threads too: between fork() and
 * exec() a child may only make async-signal-safe calls (no snprintf, no
 * malloc: another thread may have held their locks at the fork).  Every
 * string argv points to is in the struct or in the catalog service.
 */
#define NF_ARGV_MAX (CATALOG_MAX_ARGS + 16) /* 14 of ours at most, the catalog's, NULL */

struct nf_launch {
	const char *exec;
	char *argv[NF_ARGV_MAX]; /* NULL-terminated */
	char lcores[160];	 /* --lcores=5@1,6@0: each lcore pinned to a real CPU */
	char file_prefix[96];
	char huge_dir[PATH_MAX + 16];
	char service_id[8];
	char exec_error[PATH_MAX + 32]; /* written by the child if exec fails */
	char log_path[PATH_MAX];	/* the NF's stdout and stderr; "": the manager's */
};

struct nf_launch_spec {
	const struct catalog_service *service;
	const char *file_prefix; /* the manager's --file-prefix */
	const char *huge_dir;	 /* "" or NULL: none */
	const uint16_t *lcores;
	unsigned nb_lcores;
	unsigned nb_cpus; /* lcores are mapped onto CPUs modulo this */
};

/* Fill launch from spec; nothing else is read or written.  0, or -1 when an
 * argument would not fit (nothing must be cut short silently). */
int nf_launch_build(struct nf_launch *launch, const struct nf_launch_spec *spec);

#endif /* NF_PROCESS_H */
