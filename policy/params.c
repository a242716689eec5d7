/* SPDX-License-Identifier: BSD-3-Clause */
/* params.c - defaults and checks of the policy parameters (see params.h). */
#include <stdio.h>

#include "params.h"

void policy_params_default(struct policy_params *params)
{
	*params = (struct policy_params){
	    .drop_pps = 1000,
	    .ring_fill = 0.8,
	    .periods = 3,
	    .stale_ms = 5000,
	    .pending_ms = 10000,
	    .settle_ms = 2000,
	    .cmd_ttl_ms = 5000,
	    .nocap_repeat_ms = 10000,
	    .reject_backoff_ms = 30000,
	    .scale_in = true,
	    .scale_in_ms = 60000,
	    .scale_in_fill = 0.2,
	    .scale_in_headroom = 0.7,
	    .scale_in_check_ms = 1000,
	};
}

int policy_params_check(const struct policy_params *params, char *err, size_t errlen)
{
	const char *why = NULL;
	if (!(params->drop_pps >= 0))
		why = "drop-pps must be >= 0";
	else if (!(params->ring_fill > 0 && params->ring_fill <= 1))
		why = "ring-fill must be in (0, 1]";
	else if (params->periods < 1 || params->periods > 1000)
		why = "periods must be 1..1000";
	else if (params->stale_ms < 1)
		why = "stale-ms must be > 0";
	else if (params->pending_ms < 1)
		why = "pending-ms must be > 0";
	else if (params->cmd_ttl_ms < 1)
		why = "cmd-ttl-ms must be > 0";
	else if (!(params->scale_in_fill >= 0 && params->scale_in_fill <= 1))
		why = "scale-in-fill must be in [0, 1]";
	else if (!(params->scale_in_headroom > 0 && params->scale_in_headroom <= 1))
		why = "scale-in-headroom must be in (0, 1]";
	else if (params->scale_in_ms < 1)
		why = "scale-in-ms must be > 0";
	if (why && err && errlen)
		snprintf(err, errlen, "%s", why);
	return why ? -1 : 0;
}
