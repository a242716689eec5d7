/* SPDX-License-Identifier: BSD-3-Clause */
/* onvm_backoff.c - idle back-off for polling loops (see onvm_backoff.h). */
#include <time.h>

#include <rte_pause.h>

#include "onvm_backoff.h"

uint32_t onvm_backoff_next_sleep(const struct onvm_backoff *backoff)
{
	if (backoff->idle_polls < ONVM_BACKOFF_SPIN_POLLS)
		return 0;
	if (backoff->sleep_us == 0)
		return 1;
	uint32_t next = backoff->sleep_us * 2;
	return next > ONVM_BACKOFF_MAX_US ? ONVM_BACKOFF_MAX_US : next;
}

uint32_t onvm_backoff_idle(struct onvm_backoff *backoff)
{
	uint32_t sleep_us = onvm_backoff_next_sleep(backoff);

	if (backoff->idle_polls < UINT32_MAX)
		backoff->idle_polls++;
	if (sleep_us == 0) {
		rte_pause();
		return 0;
	}
	backoff->sleep_us = sleep_us;
	struct timespec interval = {.tv_sec = 0, .tv_nsec = (long)sleep_us * 1000};
	nanosleep(&interval, NULL);
	return sleep_us;
}
