/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * params.h - the tunable parameters of overload detection, placement
 * bookkeeping and scale-in, with their defaults (see policy/README.md).
 *
 * An instance is overloaded in a stats period when its drop_pps exceeds
 * drop_pps or its ring_fill reaches ring_fill without falling since the
 * previous report (a draining ring is not overload); a service is overloaded on a
 * host when one of its instances there is. It is acted on after `periods`
 * consecutive periods, counted by the stats "seq": a gap between two
 * overloaded reports is bridged (a lost period never counts as calm), an
 * explicit calm report ends the streak.
 */
#ifndef ONVM_POLICY_PARAMS_H
#define ONVM_POLICY_PARAMS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct policy_params {
	/* Overload detection. */
	double drop_pps;  /* instance overloaded when drop_pps > this (default 1000) */
	double ring_fill; /* ... or ring_fill >= this, 0..1 (default 0.8) */
	uint32_t periods; /* for this many consecutive stats periods (default 3) */

	/* Liveness and bookkeeping. */
	uint64_t stale_ms;   /* host stale after max(stale_ms, 3 stats periods) of silence (5000) */
	uint64_t pending_ms; /* a spawn or stop not seen carried out is forgotten after (10000) */
	uint64_t
	    settle_ms; /* promised core kept after the instance shows up, until a state (2000) */
	uint64_t cmd_ttl_ms;	    /* expires_ms = decision time + this (5000) */
	uint64_t nocap_repeat_ms;   /* repeat a "no capacity" decision at most this often (10000) */
	uint64_t reject_backoff_ms; /* a host that rejected a spawn of S is avoided for S (30000) */

	/* Scale-in. */
	bool scale_in;		    /* default on */
	uint64_t scale_in_ms;	    /* spare capacity sustained this long (60000) */
	double scale_in_fill;	    /* calm: no drops and ring_fill <= this (0.2) */
	double scale_in_headroom;   /* with a learnt capacity: offered <= this * (n-1) * capacity
				       (0.7) */
	uint64_t scale_in_check_ms; /* check a service at most this often (1000) */
};

void policy_params_default(struct policy_params *params);

/* Check ranges; 0, or -1 with a reason in err. */
int policy_params_check(const struct policy_params *params, char *err, size_t errlen);

#endif /* ONVM_POLICY_PARAMS_H */
