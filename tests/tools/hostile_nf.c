/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * hostile_nf - an NF that lies in shared memory, for tests.
 *
 *   hostile_nf [EAL args] -- -r SERVICE -- --pid PID
 *
 * It registers like any NF, then writes PID (0, -1, another process's) into
 * its own instance slot in the manager's shared memory, says so on stdout,
 * and never stops by itself: the manager has to signal it, and must signal
 * it, not whatever PID names.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <rte_memzone.h>

#include "onvm_nflib.h"

int main(int argc, char *argv[])
{
	struct onvm_nf *nf;
	int used = onvm_nflib_init(argc, argv, "hostile_nf", &nf);
	if (used < 0)
		return used == -EINVAL ? 2 : 1;
	argc -= used;
	argv += used;
	if (argc != 3 || strcmp(argv[1], "--pid") != 0) {
		fprintf(stderr, "usage: hostile_nf [EAL args] -- -r SERVICE -- --pid PID\n");
		return 2;
	}
	char *end;
	long pid = strtol(argv[2], &end, 10);
	if (*end != '\0') {
		fprintf(stderr, "hostile_nf: bad pid '%s'\n", argv[2]);
		return 2;
	}
	const struct rte_memzone *zone = rte_memzone_lookup(ONVM_SHM_NAME);
	if (zone == NULL)
		return 1;
	struct onvm_shared *shm = zone->addr;
	unsigned slot = onvm_nflib_info(nf)->slot;
	__atomic_store_n(&shm->instances[slot].pid, (pid_t)pid, __ATOMIC_RELEASE);
	printf("hostile_nf: slot %u now says pid %ld (I am %d)\n", slot, pid, (int)getpid());
	fflush(stdout);
	for (;;)
		pause(); /* deaf to stop requests: only a signal ends it */
}
