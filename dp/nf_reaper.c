/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * nf_reaper.c - see nf_reaper.h.  The thread sleeps while there is nothing
 * to reap and looks every REAP_RETRY_MS while a handed-over child still runs.
 */
#define _GNU_SOURCE
#include "nf_reaper.h"

#include "clock.h"

#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>

#define REAP_RETRY_MS 10
#define STOP_WAIT_MS  1000
#define SLOW_REAP_MS  100 /* said in the log: the kernel is slow to let go */

int nf_reaper_exited(pid_t pid, struct nf_exit *how)
{
	siginfo_t info;
	memset(&info, 0, sizeof(info));
	if (pid <= 0 || waitid(P_PID, (id_t)pid, &info, WEXITED | WNOHANG | WNOWAIT) < 0)
		return -1;
	if (info.si_pid != pid)
		return 0;
	how->signaled = info.si_code == CLD_KILLED || info.si_code == CLD_DUMPED;
	how->code = info.si_status;
	return 1;
}

static void deadline_in(struct timespec *deadline, unsigned ms)
{
	clock_gettime(CLOCK_MONOTONIC, deadline);
	deadline->tv_nsec += (long)(ms % 1000) * 1000000L;
	deadline->tv_sec += ms / 1000 + deadline->tv_nsec / 1000000000L;
	deadline->tv_nsec %= 1000000000L;
}

/* Reap whichever of pids[0..count) have ended: they go to reaped[], and
 * their number is returned. */
static unsigned reap_ended(const pid_t *pids, unsigned count, pid_t *reaped)
{
	unsigned nb_reaped = 0;
	for (unsigned i = 0; i < count; i++) {
		uint64_t start_ms = onvm_mono_ms();
		pid_t done = waitpid(pids[i], NULL, WNOHANG); /* the slow part, here */
		uint64_t took_ms = onvm_mono_ms() - start_ms;
		if (took_ms >= SLOW_REAP_MS)
			fprintf(stderr, "onvm-mgr: reaping pid %d took the kernel %" PRIu64 " ms\n",
				(int)pids[i], took_ms);
		if (done == pids[i] || (done < 0 && errno == ECHILD))
			reaped[nb_reaped++] = pids[i];
	}
	return nb_reaped;
}

static void forget(struct nf_reaper *reaper, const pid_t *reaped, unsigned count)
{
	for (unsigned i = 0; i < count; i++) {
		for (unsigned j = 0; j < reaper->nb_pids; j++) {
			if (reaper->pids[j] == reaped[i]) {
				reaper->pids[j] = reaper->pids[--reaper->nb_pids];
				reaper->reaped++;
				break;
			}
		}
	}
}

static void *reaper_main(void *arg)
{
	struct nf_reaper *reaper = arg;
	pid_t batch[NF_REAPER_MAX], reaped[NF_REAPER_MAX];
	pthread_mutex_lock(&reaper->lock);
	while (!reaper->stopping) {
		if (reaper->nb_pids == 0) {
			pthread_cond_wait(&reaper->work, &reaper->lock);
			continue;
		}
		unsigned count = reaper->nb_pids;
		memcpy(batch, reaper->pids, count * sizeof(batch[0]));
		pthread_mutex_unlock(&reaper->lock);
		unsigned nb_reaped = reap_ended(batch, count, reaped);
		pthread_mutex_lock(&reaper->lock);
		forget(reaper, reaped, nb_reaped);
		if (reaper->nb_pids == 0)
			pthread_cond_broadcast(&reaper->reaped_all);
		if (nb_reaped < count && !reaper->stopping) {
			struct timespec deadline;
			deadline_in(&deadline, REAP_RETRY_MS);
			pthread_cond_timedwait(&reaper->work, &reaper->lock, &deadline);
		}
	}
	pthread_mutex_unlock(&reaper->lock);
	return NULL;
}

int nf_reaper_start(struct nf_reaper *reaper)
{
	memset(reaper, 0, sizeof(*reaper));
	pthread_condattr_t attr;
	pthread_condattr_init(&attr);
	pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
	pthread_mutex_init(&reaper->lock, NULL);
	pthread_cond_init(&reaper->work, &attr);
	pthread_cond_init(&reaper->reaped_all, &attr);
	pthread_condattr_destroy(&attr);
	int rc = pthread_create(&reaper->thread, NULL, reaper_main, reaper);
	if (rc != 0)
		return -rc;
	pthread_setname_np(reaper->thread, "onvm-reaper");
	reaper->started = 1;
	return 0;
}

void nf_reaper_hand_over(struct nf_reaper *reaper, pid_t pid)
{
	if (pid <= 0)
		return;
	pthread_mutex_lock(&reaper->lock);
	if (reaper->nb_pids < NF_REAPER_MAX) {
		reaper->pids[reaper->nb_pids++] = pid;
		pthread_cond_signal(&reaper->work);
		pthread_mutex_unlock(&reaper->lock);
		return;
	}
	reaper->overflow++;
	pthread_mutex_unlock(&reaper->lock);
	/* Full: reap it here if it has ended, or leave it to the process's exit. */
	if (waitpid(pid, NULL, WNOHANG) == 0)
		fprintf(stderr, "onvm-mgr: %d children wait to be reaped; pid %d is left\n",
			NF_REAPER_MAX, (int)pid);
}

unsigned nf_reaper_pending(struct nf_reaper *reaper)
{
	pthread_mutex_lock(&reaper->lock);
	unsigned pending = reaper->nb_pids;
	pthread_mutex_unlock(&reaper->lock);
	return pending;
}

void nf_reaper_stop(struct nf_reaper *reaper)
{
	if (!reaper->started)
		return;
	/* Reap what has ended (the stopped NFs), but wait a little, no more:
	 * the thread may be inside a slow reap, or a child may not end. */
	struct timespec deadline;
	deadline_in(&deadline, STOP_WAIT_MS);
	pthread_mutex_lock(&reaper->lock);
	while (reaper->nb_pids > 0 &&
	       pthread_cond_timedwait(&reaper->reaped_all, &reaper->lock, &deadline) == 0)
		;
	reaper->stopping = 1;
	pthread_cond_signal(&reaper->work);
	pthread_mutex_unlock(&reaper->lock);
	if (pthread_clockjoin_np(reaper->thread, NULL, CLOCK_MONOTONIC, &deadline) != 0)
		pthread_detach(reaper->thread);
	reaper->started = 0;
}
