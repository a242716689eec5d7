/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * skewed_ops_nf - an NF whose mempool ops table is not the manager's, for tests.
 *
 *   skewed_ops_nf [EAL args] -- -r SERVICE
 *
 * Its own binary registers one more mempool ops, from a constructor that
 * runs before any driver registers its own (EAL loads plugins later; linked
 * statically, the drivers' constructors have a later priority): every
 * driver's ops then sits one index further than in onvm-mgr, as in an NF
 * linked otherwise than the manager.  The shared pools name their ops by index, so without a check
 * this NF would run another driver's functions on them.  nflib must refuse
 * to start it; if it registers anyway, it says "registered" and stops at once.
 */
#include <stdio.h>

#include <rte_mempool.h>

#include "onvm_nflib.h"

static int refuse_alloc(struct rte_mempool *pool __rte_unused)
{
	return -1;
}

static void nothing_to_free(struct rte_mempool *pool __rte_unused)
{
}

static int refuse_enqueue(struct rte_mempool *pool __rte_unused, void *const *objs __rte_unused,
			  unsigned count __rte_unused)
{
	return -1;
}

static int refuse_dequeue(struct rte_mempool *pool __rte_unused, void **objs __rte_unused,
			  unsigned count __rte_unused)
{
	return -1;
}

static unsigned none_left(const struct rte_mempool *pool __rte_unused)
{
	return 0;
}

static const struct rte_mempool_ops skewing_ops = {
    .name = "onvm_test_skew",
    .alloc = refuse_alloc,
    .free = nothing_to_free,
    .enqueue = refuse_enqueue,
    .dequeue = refuse_dequeue,
    .get_count = none_left,
};

/* Before every driver's RTE_INIT (priority LAST), shared or static alike. */
RTE_INIT_PRIO(register_skewing_ops, BUS)
{
	rte_mempool_register_ops(&skewing_ops);
}

int main(int argc, char *argv[])
{
	struct onvm_nf *nf;
	int used = onvm_nflib_init(argc, argv, "skewed_ops_nf", &nf);
	if (used < 0)
		return onvm_nflib_exit_status(used);
	onvm_nflib_finish(nf);
	return 0;
}
