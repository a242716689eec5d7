/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * nf_reaper.h - learn at once that a child NF died; reap it elsewhere.
 *
 * Reaping a dead DPDK process can keep the reaper inside waitpid() for
 * seconds: the kernel then drops the process's /proc entries
 * (release_task -> proc_invalidate_siblings_dcache), and that walk has
 * been seen to run for over 10 s on a busy 2-core machine.  A control thread
 * that reaps its children itself stops noticing deaths, timeouts and bus
 * commands for that long.
 *
 * So the control thread only looks: nf_reaper_exited() reads a child's exit
 * status and leaves it a zombie (waitid WNOWAIT), which also keeps its pid
 * from being reused.  It then hands the pid to the reaper, whose own thread
 * reaps it whenever the kernel lets it; a pid handed over while the process
 * still runs (an NF that unregistered and is on its way out) is reaped once
 * it has exited.
 */
#ifndef NF_REAPER_H
#define NF_REAPER_H

#include <pthread.h>
#include <stdint.h>
#include <sys/types.h>

#define NF_REAPER_MAX 256 /* pids waiting to be reaped */

struct nf_reaper {
	pthread_t thread;
	pthread_mutex_t lock;
	pthread_cond_t work;	   /* a pid was handed over, or stop */
	pthread_cond_t reaped_all; /* nothing is left to reap */
	pid_t pids[NF_REAPER_MAX]; /* handed over, not yet reaped */
	unsigned nb_pids;
	int started, stopping;
	uint64_t reaped;   /* children reaped so far */
	uint64_t overflow; /* pids reaped on the caller's thread: the list was full */
};

/* How a child ended, from its exit status. */
struct nf_exit {
	int signaled; /* killed by a signal */
	int code;     /* the signal, or the exit status */
};

int nf_reaper_start(struct nf_reaper *reaper);

/* Whether child pid has ended (1, with how), is still running (0), or is
 * not a child of ours (-1).  Does not reap it. */
int nf_reaper_exited(pid_t pid, struct nf_exit *how);

/* The reaper takes pid, a child of ours, and reaps it once it has ended. */
void nf_reaper_hand_over(struct nf_reaper *reaper, pid_t pid);

/* Children handed over and not yet reaped. */
unsigned nf_reaper_pending(struct nf_reaper *reaper);

/* Stop the thread, once what was handed over is reaped or a second has
 * passed; children not reaped by then are left to the process's exit. */
void nf_reaper_stop(struct nf_reaper *reaper);

#endif /* NF_REAPER_H */
