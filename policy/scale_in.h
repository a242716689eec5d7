/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * scale_in.h - when a service has spare capacity, which instance to stop.
 *
 * A service has spare capacity when, for scale_in_ms (counted from the
 * latest change of its instance set too), every instance of it on every
 * usable host reported no drops and a ring fill <= scale_in_fill, and,
 * once its per-instance capacity is known (view_capacity: the smallest any
 * host learnt from the rx_pps of its instances that dropped packets), its
 * offered load (rx + drops) fits in
 * one instance fewer with headroom: offered <= scale_in_headroom * (n - 1)
 * * capacity. Never below `floor` instances (max(min, 1) of the service's
 * rule); nothing while a spawn or a stop of the service is pending. The
 * window is the service's scale_in_after_ms when its rule gives one.
 *
 * The instance stopped: remote ones first (not on the service's home host:
 * the origin of its latest overload, else the host with most instances),
 * then the least loaded (fewest flows moved), then the smallest host name,
 * then the newest instance.
 */
#ifndef ONVM_POLICY_SCALE_IN_H
#define ONVM_POLICY_SCALE_IN_H

#include <stdint.h>

#include "pending.h"
#include "view.h"

struct scale_in_choice {
	uint16_t service;
	const struct view_host *host; /* where the instance to stop runs */
	uint32_t instance;
	const char *home; /* the service's home host */
	uint32_t n_live;  /* instances before the stop */
	double offered_pps;
	uint64_t calm_ms; /* how long it has been calm */
};

/* What one service's rule asks of scale-in. */
struct scale_in_limits {
	uint32_t floor;	    /* never fewer live instances; >= 1 */
	uint64_t window_ms; /* calm this long */
};

/* 1 and a choice when the service should lose an instance now, else 0. */
int scale_in_check(const struct view *view, const struct pending_set *pending, uint16_t service,
		   const struct scale_in_limits *limits, uint64_t now_ms,
		   struct scale_in_choice *choice);

#endif /* ONVM_POLICY_SCALE_IN_H */
