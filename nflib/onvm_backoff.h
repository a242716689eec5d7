/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * onvm_backoff.h - idle back-off for polling loops.
 *
 * A polling loop that finds no work spins briefly, then sleeps for growing
 * intervals up to a cap, so that on a small machine a broker, managers and
 * several NFs can share the cores.  Any work resets it to spinning.
 */
#ifndef ONVM_BACKOFF_H
#define ONVM_BACKOFF_H

#include <stdint.h>

#define ONVM_BACKOFF_SPIN_POLLS 256 /* idle polls before the first sleep */
#define ONVM_BACKOFF_MAX_US	500 /* longest single sleep */

struct onvm_backoff {
	uint32_t idle_polls;
	uint32_t sleep_us;
};

/* Call after a poll that found work. */
static inline void onvm_backoff_reset(struct onvm_backoff *backoff)
{
	backoff->idle_polls = 0;
	backoff->sleep_us = 0;
}

/* Call after a poll that found nothing; may sleep.  Returns the microseconds slept. */
uint32_t onvm_backoff_idle(struct onvm_backoff *backoff);

/* The sleep (in microseconds) the next idle poll would take; pure, for tests. */
uint32_t onvm_backoff_next_sleep(const struct onvm_backoff *backoff);

#endif
