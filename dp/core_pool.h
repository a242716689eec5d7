/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * core_pool.h - the lcores a manager may give to NFs.
 *
 * The pool is a set of lcore ids; it may name more lcores than the machine
 * has CPUs (they are then mapped onto the real CPUs).  Free cores are the
 * pool minus the cores held by running or starting instances.
 */
#ifndef CORE_POOL_H
#define CORE_POOL_H

#include <stddef.h>
#include <stdint.h>

#define CORE_POOL_MAX_LCORE 128

struct core_pool {
	uint8_t in_pool[CORE_POOL_MAX_LCORE];
	uint8_t held[CORE_POOL_MAX_LCORE];
};

/* Parse a list such as "2-5,8" into an empty pool.  0, or -1 with err set. */
int core_pool_parse(struct core_pool *pool, const char *list, char *err, size_t errlen);

/* Take the lowest free core: its id, or -1 when none is free. */
int core_pool_take(struct core_pool *pool);

/* Hold a given core.  0, or -1 when it is not in the pool or already held. */
int core_pool_hold(struct core_pool *pool, int core);

/* Return a held core to the pool; cores outside the pool are ignored. */
void core_pool_release(struct core_pool *pool, int core);

int core_pool_contains(const struct core_pool *pool, int core);
unsigned core_pool_size(const struct core_pool *pool);
unsigned core_pool_free_count(const struct core_pool *pool);

#endif
