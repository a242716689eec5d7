/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * clock.h - the project's two clocks, each read in one place.
 *
 * Wall time (Unix ms) is what other machines understand: it goes into
 * `ts_ms`, `epoch`, `first_rx_ms` and is compared with a command's
 * `expires_ms`, and with nothing else.  It can jump (NTP, an operator's
 * `date -s`), so every local deadline -- stats period, liveness, spawn
 * timeout, drain, back-off, reconnect, peer freshness -- is measured on the
 * monotonic clock, which only moves forward, at the same rate, and means
 * nothing outside this machine.
 *
 * No DPDK and no MQTT here: the bus library, the manager and nflib (every
 * NF) all link it.
 */
#ifndef ONVM_CLOCK_H
#define ONVM_CLOCK_H

#include <pthread.h>
#include <stdint.h>
#include <time.h>

/* Unix time in ms: for the bus only. */
uint64_t onvm_wall_ms(void);

/* Monotonic ms since an arbitrary point: for local deadlines only. */
uint64_t onvm_mono_ms(void);

/* The same clock in ns: for measuring short intervals (an NF's start phases). */
uint64_t onvm_mono_ns(void);

/* *deadline = ms from now on the monotonic clock, for a condition variable
 * whose attribute names CLOCK_MONOTONIC (onvm_mono_condattr). */
void onvm_mono_deadline(struct timespec *deadline, unsigned ms);

/* A condition variable attribute on CLOCK_MONOTONIC, for onvm_mono_deadline(). */
int onvm_mono_condattr(pthread_condattr_t *attr);

#endif
