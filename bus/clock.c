/* SPDX-License-Identifier: BSD-3-Clause */
/* clock.c - wall and monotonic time (see clock.h). */
#include "clock.h"

static uint64_t ms_of(const struct timespec *ts)
{
	return (uint64_t)ts->tv_sec * 1000u + (uint64_t)ts->tv_nsec / 1000000u;
}

uint64_t onvm_wall_ms(void)
{
	struct timespec now;
	clock_gettime(CLOCK_REALTIME, &now);
	return ms_of(&now);
}

uint64_t onvm_mono_ms(void)
{
	struct timespec now;
	clock_gettime(CLOCK_MONOTONIC, &now);
	return ms_of(&now);
}

uint64_t onvm_mono_ns(void)
{
	struct timespec now;
	clock_gettime(CLOCK_MONOTONIC, &now);
	return (uint64_t)now.tv_sec * 1000000000u + (uint64_t)now.tv_nsec;
}

void onvm_mono_deadline(struct timespec *deadline, unsigned ms)
{
	clock_gettime(CLOCK_MONOTONIC, deadline);
	deadline->tv_sec += ms / 1000;
	deadline->tv_nsec += (long)(ms % 1000) * 1000000L;
	if (deadline->tv_nsec >= 1000000000L) {
		deadline->tv_sec++;
		deadline->tv_nsec -= 1000000000L;
	}
}

int onvm_mono_condattr(pthread_condattr_t *attr)
{
	int ret = pthread_condattr_init(attr);
	if (ret == 0)
		ret = pthread_condattr_setclock(attr, CLOCK_MONOTONIC);
	return ret;
}
