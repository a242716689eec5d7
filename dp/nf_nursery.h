/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * nf_nursery.h - the small process that starts the manager's NFs, tells
 * how each one ended, and reaps it.
 *
 * Reaping a dead DPDK process can keep the reaper inside the kernel for
 * seconds, once over a minute here: release_task drops the process's /proc
 * entries (proc_invalidate_siblings_dcache -> d_walk).  A thread in that
 * state cannot be stopped, so a manager that reaped its NFs itself could
 * not notice anything meanwhile, and could not even exit until the kernel
 * was done.  The nursery bears that instead.  It is forked before EAL
 * starts any thread, so it is small and its fork() is clean, and it lives
 * until the manager closes its end (or dies: PR_SET_PDEATHSIG).
 *
 * Two sockets join them:
 *   - spawn: the manager sends a command line built whole (nf_launch), the
 *     nursery forks and execs it and answers with the pid;
 *   - deaths: for each NF that ended, pid, start time and exit status, read
 *     (waitid WNOWAIT) before the reap, so the pid cannot be reused before
 *     the report is written; then its own thread reaps it.
 * NFs die with the nursery (PR_SET_PDEATHSIG, SIGTERM), as they did with the
 * manager.
 */
#ifndef NF_NURSERY_H
#define NF_NURSERY_H

#include <stdint.h>
#include <sys/types.h>

#include "nf_process.h"

struct nf_nursery {
	pid_t pid;     /* the nursery process; 0 when not started */
	int spawn_fd;  /* requests and answers, in turn */
	int deaths_fd; /* reports, read without blocking */
};

/* How a process ended. */
struct nf_exit {
	int signaled; /* killed by a signal */
	int code;     /* the signal, or the exit status */
};

struct nf_death {
	pid_t pid;
	uint64_t start_time; /* as nf_process records it: tells a reused pid apart */
	struct nf_exit how;
};

/* Fork the nursery.  Call before any thread exists.  0, or -errno. */
int nf_nursery_start(struct nf_nursery *nursery);

/* Start launch's program: 0 with *pid, or -1 with a reason. */
int nf_nursery_spawn(struct nf_nursery *nursery, const struct nf_launch *launch, pid_t *pid,
		     char *err, size_t errlen);

/* The next death reported: 1, 0 when none is waiting, -1 when the nursery
 * is gone (then no more deaths will be told). */
int nf_nursery_next_death(struct nf_nursery *nursery, struct nf_death *death);

/* Close the manager's ends: the nursery ends once its reaps are done. */
void nf_nursery_stop(struct nf_nursery *nursery);

#endif /* NF_NURSERY_H */
