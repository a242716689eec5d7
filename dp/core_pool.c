/* SPDX-License-Identifier: BSD-3-Clause */
/* core_pool.c - the NF core pool (see core_pool.h). */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core_pool.h"
#include "number.h"

static int parse_lcore(const char **cursor, long *value)
{
	uint64_t lcore;
	if (onvm_parse_uint_prefix(*cursor, 0, CORE_POOL_MAX_LCORE - 1, &lcore, cursor) < 0)
		return -1;
	*value = (long)lcore;
	return 0;
}

int core_pool_parse(struct core_pool *pool, const char *list, char *err, size_t errlen)
{
	memset(pool, 0, sizeof(*pool));
	if (list == NULL || *list == '\0')
		return 0; /* an empty pool is allowed: this host takes no NFs */

	const char *cursor = list;
	for (;;) {
		long first, last;
		if (parse_lcore(&cursor, &first) < 0)
			goto bad;
		last = first;
		if (*cursor == '-') {
			cursor++;
			if (parse_lcore(&cursor, &last) < 0 || last < first)
				goto bad;
		}
		for (long core = first; core <= last; core++)
			pool->in_pool[core] = 1;
		if (*cursor == '\0')
			return 0;
		if (*cursor != ',')
			goto bad;
		cursor++;
	}
bad:
	snprintf(err, errlen,
		 "bad core list '%s': expected lcore ids or ranges 0..%d such as \"2-5,8\"", list,
		 CORE_POOL_MAX_LCORE - 1);
	return -1;
}

int core_pool_take(struct core_pool *pool)
{
	for (int core = 0; core < CORE_POOL_MAX_LCORE; core++) {
		if (pool->in_pool[core] && !pool->held[core]) {
			pool->held[core] = 1;
			return core;
		}
	}
	return -1;
}

int core_pool_contains(const struct core_pool *pool, int core)
{
	return core >= 0 && core < CORE_POOL_MAX_LCORE && pool->in_pool[core];
}

int core_pool_hold(struct core_pool *pool, int core)
{
	if (!core_pool_contains(pool, core) || pool->held[core])
		return -1;
	pool->held[core] = 1;
	return 0;
}

void core_pool_release(struct core_pool *pool, int core)
{
	if (core_pool_contains(pool, core))
		pool->held[core] = 0;
}

unsigned core_pool_size(const struct core_pool *pool)
{
	unsigned size = 0;
	for (int core = 0; core < CORE_POOL_MAX_LCORE; core++)
		size += pool->in_pool[core];
	return size;
}

unsigned core_pool_free_count(const struct core_pool *pool)
{
	unsigned free_cores = 0;
	for (int core = 0; core < CORE_POOL_MAX_LCORE; core++)
		free_cores += pool->in_pool[core] && !pool->held[core];
	return free_cores;
}
