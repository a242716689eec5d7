/* SPDX-License-Identifier: BSD-3-Clause */
/* overload_options.c - the options of overload and liveness detection (see overload_options.h). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

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

int policy_parse_u64(const char *text, uint64_t max, uint64_t *out)
{
	char *end;
	if (!text || !*text || *text == '-')
		return -1;
	errno = 0;
	unsigned long long value = strtoull(text, &end, 10);
	if (errno || *end || value > max)
		return -1;
	*out = value;
	return 0;
}

int policy_parse_double(const char *text, double *out)
{
	char *end;
	if (!text || !*text)
		return -1;
	errno = 0;
	double value = strtod(text, &end);
	if (errno || *end || value != value)
		return -1;
	*out = value;
	return 0;
}

int overload_options_parse(struct policy_params *params, int opt, const char *arg, char *err,
			   size_t errlen)
{
	uint64_t u = 0;
	int bad;
	switch (opt) {
	case OVERLOAD_OPT_DROP_PPS:
		bad = policy_parse_double(arg, &params->drop_pps);
		break;
	case OVERLOAD_OPT_RING_FILL:
		bad = policy_parse_double(arg, &params->ring_fill);
		break;
	case OVERLOAD_OPT_PERIODS:
		bad = policy_parse_u64(arg, 1000, &u);
		if (!bad)
			params->periods = (uint32_t)u;
		break;
	case OVERLOAD_OPT_STALE_MS:
		bad = policy_parse_u64(arg, DAY_MS, &u);
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
