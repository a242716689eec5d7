/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * engines.h - the built-in placement engines and loading of shared-object
 * engines (the interface is engine_api.h).
 *
 *   local-first  docs/architecture.md: the origin host if it has a free core;
 *                else, among other hosts with a free core, those already
 *                running the service, most free cores first; else the host
 *                with the most free cores; else nothing ("no capacity").
 *   spread       the host with the most free cores anywhere, origin included:
 *                spreads instances for resilience and even load.
 *   pack         the host with the fewest free cores that still fits:
 *                fills hosts up, keeping others empty for big jobs or power-off.
 *   local-only   the origin host or nothing: for clusters without tunnels
 *                (so nothing for a repair, which has no origin).
 * A repair (no origin): local-first skips its rule 1, spread and pack
 * choose as always.
 * Ties always go to the lexicographically smallest host name.
 */
#ifndef ONVM_POLICY_ENGINES_H
#define ONVM_POLICY_ENGINES_H

#include <stddef.h>

#include "engine_api.h"

#define POLICY_DEFAULT_ENGINE "local-first"

/* An engine ready to use: its operations, its state, its library if loaded. */
struct policy_engine_handle {
	const struct policy_engine *ops;
	void *state;
	void *library; /* dlopen handle, NULL for a built-in */
};

/* The built-in engines, in --help order. */
const struct policy_engine *const *policy_builtin_engines(size_t *count);

/* A built-in engine by name, or NULL. */
const struct policy_engine *policy_builtin_engine(const char *name);

/*
 * Open an engine: a built-in name, or a path to a shared object (any
 * argument holding a '/'). args goes to its create(). Returns 0, or -1
 * with a reason in err.
 */
int policy_engine_open(const char *name_or_path, const char *args,
		       struct policy_engine_handle *handle, char *err, size_t errlen);

void policy_engine_close(struct policy_engine_handle *handle);

#endif /* ONVM_POLICY_ENGINES_H */
