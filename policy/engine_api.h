/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * engine_api.h - the C interface of a placement engine, built in or loaded
 * at run time from a shared object (onvm-policy --engine ./libmine.so).
 *
 * The daemon keeps the cluster view, detects overload and scale-in, and
 * enforces the rules every engine must obey (offline and stale hosts are
 * never offered, cores promised to pending spawns are not offered twice, a
 * service with a pending spawn is not asked about again). When service S
 * is overloaded on host ORIGIN it asks the engine where one more instance
 * should go: the engine gets the candidate hosts and the stats message that
 * completed the overload (or the host's alarm that reported it, docs/bus.md
 * 3a), and picks one candidate or none. When S has
 * fewer instances than its --services min (a host went offline or stale,
 * an instance exited), the daemon asks for a repair: the same request with
 * no origin and no stats.
 *
 * Rules for engines:
 *  - read time only from req->now_ms, never the wall clock, and use no
 *    randomness that is not seeded from the inputs: replaying a trace must
 *    give byte-identical output;
 *  - know nothing of MQTT; return quickly (the daemon is single-threaded);
 *  - everything in a request is valid only during the call.
 *
 * A shared-object engine exports one function, named by
 * POLICY_ENGINE_SYMBOL, returning a pointer to a static struct
 * policy_engine whose api_version is POLICY_ENGINE_API_VERSION. Build it
 * with -fPIC -shared and the include paths of policy/ and bus/ (it needs
 * no library: everything it sees comes through these structs).
 * examples/engine_least_loaded.c is one.
 *
 * Versions: 2 (this one) added repairs: req->origin and req->stats may be
 * NULL, and then no candidate has is_origin set; an engine must choose as
 * if no host were local (or choose nothing, with a why). Version 1 engines
 * were never asked that, so the daemon refuses to load them. Still version
 * 2 (same release): req->alarm, appended at the end, is the alarm an
 * overload came from; then req->stats is NULL. An engine that does not
 * know the field never reads it.
 */
#ifndef ONVM_POLICY_ENGINE_API_H
#define ONVM_POLICY_ENGINE_API_H

#include <stddef.h>
#include <stdint.h>

#include "codec.h"

#define POLICY_ENGINE_API_VERSION 2
#define POLICY_ENGINE_SYMBOL	  "onvm_policy_engine"
#define POLICY_WHY_LEN		  128

/* A host that can take one more instance now: online, fresh, >= 1 free core. */
struct policy_candidate {
	const char *host;
	uint32_t free_cores;	    /* reported free minus cores promised to pending spawns; >= 1 */
	uint32_t total_cores;	    /* as reported in its state */
	uint32_t service_instances; /* instances of the service it runs (starting or running) */
	uint32_t all_instances;	    /* instances of any service it runs */
	double load_pps;	    /* packets/s its instances received in its latest stats */
	int is_origin;		    /* 1 for the host where the service is overloaded
				       (0 for every candidate of a repair) */
};

struct policy_request {
	uint64_t now_ms; /* the clock handed to the engine (virtual in replay) */
	uint16_t service;
	const char *origin; /* host where the service is overloaded; NULL: a repair */
	/* Candidates sorted by host name (strcmp), so index order breaks ties. */
	const struct policy_candidate *candidates;
	size_t n_candidates;
	const struct bus_stats *stats; /* the stats message that completed the overload;
					  NULL for a repair or an alarm */
	const struct bus_alarm *alarm; /* the host's alarm the overload came from (then
					  origin is its host); NULL otherwise */
};

struct policy_choice {
	int index;		  /* into candidates, or -1: spawn nothing */
	char why[POLICY_WHY_LEN]; /* short explanation, goes into the decision's reason */
};

struct policy_engine {
	uint32_t api_version; /* POLICY_ENGINE_API_VERSION */
	const char *name;     /* 1..63 bytes, no control characters; announced on the bus */
	const char *summary;  /* one sentence for --help */
	/* Optional: make the engine's state from --engine-args (may be NULL);
	 * NULL return with *err set = refuse to start. */
	void *(*create)(const char *args, char *err, size_t errlen);
	void (*destroy)(void *state); /* optional */
	/* Required: choose where one more instance of req->service goes. The
	 * daemon checks the answer (an index out of range spawns nothing). */
	void (*place)(void *state, const struct policy_request *req, struct policy_choice *choice);
	/* Optional: see every decoded message, after the view has taken it in. */
	void (*observe)(void *state, const struct bus_msg *msg, uint64_t now_ms);
};

/* What a shared-object engine exports. */
typedef const struct policy_engine *(*policy_engine_entry_fn)(void);

#endif /* ONVM_POLICY_ENGINE_API_H */
