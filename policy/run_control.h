/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * run_control.h - what the policy programs' long-running mains share:
 * stopping on SIGINT/SIGTERM.  (Their clocks are bus/clock.h's.)
 */
#ifndef ONVM_POLICY_RUN_CONTROL_H
#define ONVM_POLICY_RUN_CONTROL_H

#include <stdbool.h>
#include <stdint.h>

/* SIGINT and SIGTERM set the stop flag (and interrupt sleeps); SIGPIPE is
 * ignored. */
void run_stop_on_signals(void);

bool run_stop_requested(void);

/* SIGHUP asks for a reload; run_reload_requested() answers once per ask. */
void run_reload_on_sighup(void);
bool run_reload_requested(void);

#endif
