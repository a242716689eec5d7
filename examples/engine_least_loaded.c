/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * engine_least_loaded.c - an out-of-tree placement engine for onvm-policy,
 * loaded at run time:
 *
 *     onvm-policy --engine ./libengine_least_loaded.so [--engine-args max_pps=N]
 *
 * It puts the new instance on the host whose instances received the fewest
 * packets per second in its latest stats (ties: more free cores, then the
 * smaller host name, which is the candidates' order), skipping hosts that
 * already receive more than max_pps (default: no limit). It shows the whole
 * interface of policy/engine_api.h: an exported entry point, state made
 * from --engine-args, place(), and observe() (here: counting messages).
 * It never looks at req->origin, so a repair (origin NULL, API version 2)
 * is placed like any other spawn.
 *
 * Build: cc -shared -fPIC -I policy -I bus examples/engine_least_loaded.c
 *        -o libengine_least_loaded.so   (no library needed)
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine_api.h"

struct least_loaded {
	double max_pps; /* 0: no limit */
	unsigned long messages_seen;
};

static void *create(const char *args, char *err, size_t errlen)
{
	struct least_loaded *state = calloc(1, sizeof(*state));
	if (!state) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	if (args && *args) {
		char *end;
		if (strncmp(args, "max_pps=", 8) != 0 ||
		    (state->max_pps = strtod(args + 8, &end)) < 0 || *end) {
			snprintf(err, errlen, "least-loaded: engine args are max_pps=N, not '%s'",
				 args);
			free(state);
			return NULL;
		}
	}
	return state;
}

static void destroy(void *state)
{
	free(state);
}

/* Is a a better place than b? Candidates come sorted by host name. */
static int better(const struct policy_candidate *a, const struct policy_candidate *b)
{
	if (a->load_pps != b->load_pps)
		return a->load_pps < b->load_pps;
	return a->free_cores > b->free_cores;
}

static void place(void *opaque, const struct policy_request *req, struct policy_choice *choice)
{
	const struct least_loaded *state = opaque;
	int best = -1;
	for (size_t i = 0; i < req->n_candidates; i++) {
		const struct policy_candidate *c = &req->candidates[i];
		if (state->max_pps > 0 && c->load_pps > state->max_pps)
			continue;
		if (best < 0 || better(c, &req->candidates[best]))
			best = (int)i;
	}
	choice->index = best;
	if (best < 0)
		snprintf(choice->why, sizeof(choice->why), "least-loaded: no host under the limit");
	else
		snprintf(choice->why, sizeof(choice->why), "least-loaded: %s receives %.0f pps",
			 req->candidates[best].host, req->candidates[best].load_pps);
}

static void observe(void *opaque, const struct bus_msg *msg, uint64_t now_ms)
{
	struct least_loaded *state = opaque;
	(void)msg;
	(void)now_ms;
	state->messages_seen++;
}

static const struct policy_engine engine = {
    .api_version = POLICY_ENGINE_API_VERSION,
    .name = "least-loaded",
    .summary = "the host whose instances receive the fewest packets per second",
    .create = create,
    .destroy = destroy,
    .place = place,
    .observe = observe,
};

const struct policy_engine *onvm_policy_engine(void);

const struct policy_engine *onvm_policy_engine(void)
{
	return &engine;
}
