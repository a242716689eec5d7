/* SPDX-License-Identifier: BSD-3-Clause */
/* overload_options.c - the options of overload and liveness detection (see overload_options.h). */
#include <errno.h>
#include <float.h>
#include <stdio.h>
#include <stdlib.h>

#include "number.h"
#include "overload_options.h"

#define DAY_MS 86400000ull

const char overload_options_usage[] =
    "overload: a service is overloaded on a host when one of its instances drops more\n"
    "than --drop-pps, or fills its ring to --ring-fill while the ring is not draining\n"
    "(falling since the previous report), for --periods consecutive stats periods (by\n"
    "seq; lost periods between overloaded ones count as overloaded):\n"
    "      --drop-pps X        (default 1000)\n"
    "      --ring-fill F       0..1 (default 0.8)\n"
    "      --periods K         (default 3)\n"
    "      --stale-ms MS       a host silent for max(MS, 3 stats periods) is stale:\n"
    "                          never chosen, its instances count as gone (5000)\n";

int overload_options_parse(struct policy_params *params, int opt, const char *arg, char *err,
			   size_t errlen)
{
	uint64_t u = 0;
	int bad;
	switch (opt) {
	case OVERLOAD_OPT_DROP_PPS:
		bad = onvm_parse_double(arg, -DBL_MAX, DBL_MAX, &params->drop_pps);
		break;
	case OVERLOAD_OPT_RING_FILL:
		bad = onvm_parse_double(arg, -DBL_MAX, DBL_MAX, &params->ring_fill);
		break;
	case OVERLOAD_OPT_PERIODS:
		bad = onvm_parse_uint(arg, 0, 1000, &u);
		if (!bad)
			params->periods = (uint32_t)u;
		break;
	case OVERLOAD_OPT_STALE_MS:
		bad = onvm_parse_uint(arg, 0, DAY_MS, &u);
		if (!bad)
			params->stale_ms = u;
		break;
	default:
		return 0;
	}
	if (bad) {
		snprintf(err, errlen, "bad number '%s'", arg ? arg : "");
		return -1;
	}
	return 1;
}
