/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * overload_options.h - the options of overload and liveness detection,
 * defined once.
 *
 * onvm-policy decides with these parameters and onvm-top reports the
 * overload onsets the policy sees, so both take the same option names,
 * parse them with the same strict parsers into the same struct
 * policy_params, and check them with policy_params_check:
 *
 *       --drop-pps X     an instance dropping more is overloaded
 *       --ring-fill F    ... as is one whose ring is this full and not draining
 *       --periods K      consecutive overloaded stats periods acted on
 *       --stale-ms MS    a host silent this long is stale
 */
#ifndef ONVM_POLICY_OVERLOAD_OPTIONS_H
#define ONVM_POLICY_OVERLOAD_OPTIONS_H

#include <getopt.h>
#include <stddef.h>
#include <stdint.h>

#include "params.h"

/* getopt codes, above bus_options.h's and any tool's own. */
enum overload_option_code {
	OVERLOAD_OPT_DROP_PPS = 0x2000,
	OVERLOAD_OPT_RING_FILL,
	OVERLOAD_OPT_PERIODS,
	OVERLOAD_OPT_STALE_MS,
};

/* clang-format off */
#define OVERLOAD_LONG_OPTIONS                                                          \
	{"drop-pps", required_argument, NULL, OVERLOAD_OPT_DROP_PPS},                  \
	{"ring-fill", required_argument, NULL, OVERLOAD_OPT_RING_FILL},                \
	{"periods", required_argument, NULL, OVERLOAD_OPT_PERIODS},                    \
	{"stale-ms", required_argument, NULL, OVERLOAD_OPT_STALE_MS}
/* clang-format on */

/* The lines of a usage text that describe them, with their defaults. */
extern const char overload_options_usage[];

/* Store an option: 1 when opt was one (stored), 0 when it is not one of
 * them, -1 for a bad number (the reason in err). Ranges are
 * policy_params_check's. */
int overload_options_parse(struct policy_params *params, int opt, const char *arg, char *err,
			   size_t errlen);

#endif /* ONVM_POLICY_OVERLOAD_OPTIONS_H */
