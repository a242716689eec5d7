/* SPDX-License-Identifier: BSD-3-Clause */
/* run_control.c - stop signals (see run_control.h). */
#include <signal.h>
#include <stddef.h>

#include "run_control.h"

static volatile sig_atomic_t stop_requested;
static volatile sig_atomic_t reload_requested;

static void on_hangup(int sig)
{
	(void)sig;
	reload_requested = 1;
}

void run_reload_on_sighup(void)
{
	struct sigaction action = {.sa_handler = on_hangup};
	sigemptyset(&action.sa_mask);
	sigaction(SIGHUP, &action, NULL);
}

bool run_reload_requested(void)
{
	if (!reload_requested)
		return false;
	reload_requested = 0;
	return true;
}

static void on_signal(int sig)
{
	(void)sig;
	stop_requested = 1;
}

void run_stop_on_signals(void)
{
	struct sigaction action = {.sa_handler = on_signal};
	sigemptyset(&action.sa_mask);
	sigaction(SIGINT, &action, NULL);
	sigaction(SIGTERM, &action, NULL);
	signal(SIGPIPE, SIG_IGN);
}

bool run_stop_requested(void)
{
	return stop_requested != 0;
}
