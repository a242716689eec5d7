/* SPDX-License-Identifier: BSD-3-Clause */
/* engines.c - built-in placement engines and shared-object loading (see engines.h). */
#include <dlfcn.h>
#include <stdio.h>
#include <string.h>

#include "engines.h"

static void choose(struct policy_choice *choice, int index, const char *fmt, const char *host,
		   uint32_t number)
{
	choice->index = index;
	snprintf(choice->why, sizeof(choice->why), fmt, host, number);
}

static void choose_nothing(struct policy_choice *choice, const char *why)
{
	choice->index = -1;
	snprintf(choice->why, sizeof(choice->why), "%s", why);
}

static int origin_index(const struct policy_request *req)
{
	for (size_t i = 0; i < req->n_candidates; i++)
		if (req->candidates[i].is_origin)
			return (int)i;
	return -1;
}

/*
 * The candidate with the most (most_free) or fewest free cores among those
 * accepted by the filter; candidates are sorted by name, so the first
 * found wins a tie. -1 when none is accepted.
 */
static int extreme_free(const struct policy_request *req, int most_free, int skip_origin,
			int only_running)
{
	int best = -1;
	for (size_t i = 0; i < req->n_candidates; i++) {
		const struct policy_candidate *c = &req->candidates[i];
		if ((skip_origin && c->is_origin) || (only_running && c->service_instances == 0))
			continue;
		if (best < 0) {
			best = (int)i;
			continue;
		}
		uint32_t best_free = req->candidates[best].free_cores;
		if (most_free ? c->free_cores > best_free : c->free_cores < best_free)
			best = (int)i;
	}
	return best;
}

static void place_local_first(void *state, const struct policy_request *req,
			      struct policy_choice *choice)
{
	(void)state;
	int index = origin_index(req);
	if (index >= 0) {
		choose(choice, index, "local: %s has %u free core(s)", req->candidates[index].host,
		       req->candidates[index].free_cores);
		return;
	}
	index = extreme_free(req, 1, 1, 1);
	if (index >= 0) {
		choose(choice, index,
		       "%s already runs the service and has the most free cores (%u)",
		       req->candidates[index].host, req->candidates[index].free_cores);
		return;
	}
	index = extreme_free(req, 1, 1, 0);
	if (index >= 0) {
		choose(choice, index, "%s has the most free cores (%u)",
		       req->candidates[index].host, req->candidates[index].free_cores);
		return;
	}
	choose_nothing(choice, "no online host has a free core");
}

static void place_spread(void *state, const struct policy_request *req,
			 struct policy_choice *choice)
{
	(void)state;
	int index = extreme_free(req, 1, 0, 0);
	if (index < 0) {
		choose_nothing(choice, "no online host has a free core");
		return;
	}
	choose(choice, index, "spread: %s has the most free cores (%u)",
	       req->candidates[index].host, req->candidates[index].free_cores);
}

static void place_pack(void *state, const struct policy_request *req, struct policy_choice *choice)
{
	(void)state;
	int index = extreme_free(req, 0, 0, 0);
	if (index < 0) {
		choose_nothing(choice, "no online host has a free core");
		return;
	}
	choose(choice, index, "pack: %s has the fewest free cores that fit (%u)",
	       req->candidates[index].host, req->candidates[index].free_cores);
}

static void place_local_only(void *state, const struct policy_request *req,
			     struct policy_choice *choice)
{
	(void)state;
	int index = origin_index(req);
	if (!req->origin) {
		choose_nothing(choice, "local-only: a repair has no origin host to place on");
		return;
	}
	if (index < 0) {
		choose_nothing(choice, "local-only: the origin host has no free core");
		return;
	}
	choose(choice, index, "local: %s has %u free core(s)", req->candidates[index].host,
	       req->candidates[index].free_cores);
}

static const struct policy_engine local_first = {
    .api_version = POLICY_ENGINE_API_VERSION,
    .name = "local-first",
    .summary = "the origin host if it has a free core; else the host already running the "
	       "service with the most free cores; else the host with the most free cores",
    .place = place_local_first,
};

static const struct policy_engine spread = {
    .api_version = POLICY_ENGINE_API_VERSION,
    .name = "spread",
    .summary = "the host with the most free cores anywhere (spreads instances out)",
    .place = place_spread,
};

static const struct policy_engine pack = {
    .api_version = POLICY_ENGINE_API_VERSION,
    .name = "pack",
    .summary = "the host with the fewest free cores that still fits (fills hosts up, keeps "
	       "others empty)",
    .place = place_pack,
};

static const struct policy_engine local_only = {
    .api_version = POLICY_ENGINE_API_VERSION,
    .name = "local-only",
    .summary = "the origin host if it has a free core, never another host",
    .place = place_local_only,
};

static const struct policy_engine *const builtins[] = {&local_first, &spread, &pack, &local_only};

const struct policy_engine *const *policy_builtin_engines(size_t *count)
{
	*count = sizeof(builtins) / sizeof(builtins[0]);
	return builtins;
}

const struct policy_engine *policy_builtin_engine(const char *name)
{
	for (size_t i = 0; i < sizeof(builtins) / sizeof(builtins[0]); i++)
		if (strcmp(builtins[i]->name, name) == 0)
			return builtins[i];
	return NULL;
}

static int name_ok(const char *name)
{
	size_t len = name ? strlen(name) : 0;
	if (len == 0 || len > 63)
		return 0;
	for (size_t i = 0; i < len; i++)
		if ((unsigned char)name[i] < 0x20 || name[i] == 0x7f)
			return 0;
	return 1;
}

static int check_ops(const struct policy_engine *ops, char *err, size_t errlen)
{
	if (!ops) {
		snprintf(err, errlen, "the engine entry returned NULL");
		return -1;
	}
	if (ops->api_version != POLICY_ENGINE_API_VERSION) {
		snprintf(err, errlen,
			 "engine API version %u, this daemon speaks %u (rebuild the engine "
			 "against this policy/engine_api.h)",
			 ops->api_version, POLICY_ENGINE_API_VERSION);
		return -1;
	}
	if (!name_ok(ops->name) || !ops->place) {
		snprintf(err, errlen, "engine has no valid name or no place()");
		return -1;
	}
	return 0;
}

static const struct policy_engine *load_library(const char *path, void **library, char *err,
						size_t errlen)
{
	*library = dlopen(path, RTLD_NOW | RTLD_LOCAL);
	if (!*library) {
		snprintf(err, errlen, "cannot load %s: %s", path, dlerror());
		return NULL;
	}
	policy_engine_entry_fn entry;
	/* POSIX: a function pointer may be read through a void * object. */
	*(void **)(&entry) = dlsym(*library, POLICY_ENGINE_SYMBOL);
	if (!entry) {
		snprintf(err, errlen, "%s has no %s()", path, POLICY_ENGINE_SYMBOL);
		dlclose(*library);
		*library = NULL;
		return NULL;
	}
	const struct policy_engine *ops = entry();
	if (check_ops(ops, err, errlen) < 0) {
		dlclose(*library);
		*library = NULL;
		return NULL;
	}
	return ops;
}

int policy_engine_open(const char *name_or_path, const char *args,
		       struct policy_engine_handle *handle, char *err, size_t errlen)
{
	*handle = (struct policy_engine_handle){0};
	if (!name_or_path || !*name_or_path) {
		snprintf(err, errlen, "no engine named");
		return -1;
	}
	if (strchr(name_or_path, '/')) {
		handle->ops = load_library(name_or_path, &handle->library, err, errlen);
		if (!handle->ops)
			return -1;
	} else {
		handle->ops = policy_builtin_engine(name_or_path);
		if (!handle->ops) {
			snprintf(err, errlen,
				 "unknown engine '%s' (a shared object needs a path with a '/')",
				 name_or_path);
			return -1;
		}
	}
	if (handle->ops->create) {
		err[0] = '\0';
		handle->state = handle->ops->create(args, err, errlen);
		if (!handle->state) {
			if (!err[0])
				snprintf(err, errlen, "engine %s refused to start",
					 handle->ops->name);
			policy_engine_close(handle);
			return -1;
		}
	}
	return 0;
}

void policy_engine_close(struct policy_engine_handle *handle)
{
	if (handle->ops && handle->ops->destroy && handle->state)
		handle->ops->destroy(handle->state);
	if (handle->library)
		dlclose(handle->library);
	*handle = (struct policy_engine_handle){0};
}
