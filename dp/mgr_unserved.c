/* SPDX-License-Identifier: BSD-3-Clause */
/* mgr_unserved.c - per-service unserved demand over a period (see mgr_unserved.h). */
#include <stdlib.h>

#include "mgr_unserved.h"

void mgr_unserved_sum(const struct mgr_unserved_counters *counters, unsigned nb,
		      uint64_t totals[ONVM_MAX_SERVICES])
{
	for (unsigned service = 0; service < ONVM_MAX_SERVICES; service++) {
		uint64_t sum = 0;
		for (unsigned i = 0; i < nb; i++)
			sum += __atomic_load_n(&counters[i].pkts[service], __ATOMIC_RELAXED);
		totals[service] = sum;
	}
}

static int largest_first(const void *a, const void *b)
{
	const struct mgr_unserved_count *left = a, *right = b;
	if (left->pkts != right->pkts)
		return left->pkts > right->pkts ? -1 : 1;
	return (int)left->service - (int)right->service;
}

void mgr_unserved_step(struct mgr_unserved_state *state, const uint64_t totals[ONVM_MAX_SERVICES],
		       uint64_t now_ms, unsigned period_ms, struct mgr_unserved_period *out)
{
	out->nb_counts = 0;
	out->nb_notes = 0;
	for (unsigned service = 1; service < ONVM_MAX_SERVICES; service++) {
		/* Counters only grow; a total below the last one would be a bug:
		 * nothing is counted for it, and it becomes the new base. */
		uint64_t pkts = totals[service] > state->totals[service]
				    ? totals[service] - state->totals[service]
				    : 0;
		state->totals[service] = totals[service];
		if (period_ms == 0)
			continue;
		if (pkts) {
			out->counts[out->nb_counts++] =
			    (struct mgr_unserved_count){(uint16_t)service, pkts, 0.0};
			if (!state->unserved[service]) {
				state->unserved[service] = 1;
				state->began_ms[service] = now_ms - period_ms;
				state->dropped[service] = 0;
				out->notes[out->nb_notes++] = (struct mgr_unserved_note){
				    .service = (uint16_t)service,
				    .change = MGR_UNSERVED_BEGAN,
				    .pkts = pkts,
				};
			}
			state->last_ms[service] = now_ms;
			state->dropped[service] += pkts;
		} else if (state->unserved[service] &&
			   now_ms - state->last_ms[service] >= MGR_UNSERVED_QUIET_MS) {
			state->unserved[service] = 0;
			out->notes[out->nb_notes++] = (struct mgr_unserved_note){
			    .service = (uint16_t)service,
			    .change = MGR_UNSERVED_ENDED,
			    .pkts = state->dropped[service],
			    .lasted_ms = state->last_ms[service] - state->began_ms[service],
			};
		}
	}
	qsort(out->counts, out->nb_counts, sizeof(out->counts[0]), largest_first);
}
