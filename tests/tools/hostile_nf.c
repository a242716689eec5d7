/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * hostile_nf - an NF that lies in shared memory, for tests.
 *
 *   hostile_nf [EAL args] -- -r SERVICE -- --pid PID
 *
 * It registers like any NF, then writes PID (0, -1, another process's) into
 * its own instance slot in the manager's shared memory, and garbage into the
 * slot's other fields (slot, service, instance id, core, state, name), says
 * so on stdout, and never stops by itself: the manager has to signal it, and
 * must signal it, not whatever PID names.
 *
 * Without nflib (attached as a secondary, never registered):
 *   hostile_nf [EAL args] -- --register SERVICE PID CORE
 *     sends a REGISTER naming PID ("self": its own) and lcore CORE, prints
 *     the answer ("answer: ok slot S" or "answer: refused: WHY") and exits.
 *   hostile_nf [EAL args] -- --give-up SERVICE MGR_PID
 *     stops the manager (SIGSTOP) so it cannot answer, sends a REGISTER for
 *     itself and gives up on it as nflib does after its timeout, lets the
 *     manager run again, says "gave up", and stays alive: a live process at
 *     that pid that no longer waits for an answer.
 *   hostile_nf [EAL args] -- --add-member SERVICE SLOT
 *     adds SLOT (no instance's) to SERVICE's entry of the service map,
 *     under the map's sequence counter, and stays alive.
 *
 * Registered, forging hand-offs:
 *   hostile_nf [EAL args] -- -r SERVICE -- --forge-unserved COUNT TAG...
 *     puts COUNT packets for each TAG into its TX ring as if nflib handed
 *     the manager packets for service TAG that has no instance (pkt->port =
 *     ONVM_UNSERVED_PORT_BASE + TAG; TAG may be no service at all), says
 *     "forged N", and stays alive until a signal.
 */
#include <dirent.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <rte_eal.h>
#include <rte_mempool.h>
#include <rte_memzone.h>
#include <rte_ring.h>

#include "onvm_nflib.h"

static long number(const char *text)
{
	char *end;
	long value = strtol(text, &end, 10);
	if (*end != '\0') {
		fprintf(stderr, "hostile_nf: bad number '%s'\n", text);
		exit(2);
	}
	return value;
}

/* Whether every thread of pid is stopped (state T in /proc/PID/task/N/stat). */
static int all_stopped(pid_t pid)
{
	char path[64];
	snprintf(path, sizeof(path), "/proc/%d/task", (int)pid);
	DIR *tasks = opendir(path);
	if (tasks == NULL)
		return 0;
	int stopped = 1;
	struct dirent *task;
	while (stopped && (task = readdir(tasks)) != NULL) {
		if (task->d_name[0] == '.')
			continue;
		char stat_path[sizeof(path) + 300], line[512];
		snprintf(stat_path, sizeof(stat_path), "%s/%s/stat", path, task->d_name);
		FILE *file = fopen(stat_path, "r");
		if (file == NULL)
			continue; /* gone meanwhile */
		const char *state = fgets(line, sizeof(line), file) ? strrchr(line, ')') : NULL;
		stopped = state && (state[2] == 'T' || state[2] == 't');
		fclose(file);
	}
	closedir(tasks);
	return stopped;
}

static struct onvm_msg *new_register(struct rte_mempool *pool, uint16_t service, pid_t pid,
				     int32_t core)
{
	struct onvm_msg *msg;
	if (rte_mempool_get(pool, (void **)&msg) != 0)
		exit(1);
	memset(msg, 0, sizeof(*msg));
	msg->type = ONVM_MSG_REGISTER;
	msg->pid = pid;
	msg->service_id = service;
	msg->core = core;
	snprintf(msg->name, sizeof(msg->name), "hostile_nf");
	msg->status = ONVM_MSG_PENDING;
	return msg;
}

static int raw_main(int argc, char *argv[], int separator)
{
	if (rte_eal_init(separator, argv) < 0)
		return 1;
	char **args = argv + separator + 1;
	int nb_args = argc - separator - 1;
	const struct rte_memzone *zone = rte_memzone_lookup(ONVM_SHM_NAME);
	struct rte_mempool *pool = rte_mempool_lookup(ONVM_MSG_POOL_NAME);
	struct rte_ring *msgq = rte_ring_lookup(ONVM_MGR_MSG_RING_NAME);
	if (zone == NULL || pool == NULL || msgq == NULL)
		return 1;
	struct onvm_shared *shm = zone->addr;
	uint16_t service = (uint16_t)number(args[1]);

	if (strcmp(args[0], "--register") == 0 && nb_args == 4) {
		pid_t pid = strcmp(args[2], "self") == 0 ? getpid() : (pid_t)number(args[2]);
		struct onvm_msg *msg = new_register(pool, service, pid, (int32_t)number(args[3]));
		if (rte_ring_enqueue(msgq, msg) != 0)
			return 1;
		uint32_t status;
		while ((status = __atomic_load_n(&msg->status, __ATOMIC_ACQUIRE)) ==
			   ONVM_MSG_PENDING ||
		       status == ONVM_MSG_TAKEN)
			usleep(1000); /* the test's deadline bounds this */
		if (status == ONVM_MSG_OK)
			printf("hostile_nf: answer: ok slot %u\n", msg->slot);
		else
			printf("hostile_nf: answer: refused: %s\n", msg->error);
		return 0;
	}
	if (strcmp(args[0], "--give-up") == 0 && nb_args == 3) {
		pid_t manager = (pid_t)number(args[2]);
		if (kill(manager, SIGSTOP) != 0)
			return 1;
		while (!all_stopped(manager))
			usleep(1000);
		struct onvm_msg *msg =
		    new_register(pool, service, getpid(), (int32_t)rte_lcore_id());
		if (rte_ring_enqueue(msgq, msg) != 0)
			return 1;
		uint32_t pending = ONVM_MSG_PENDING;
		int gave_up =
		    __atomic_compare_exchange_n(&msg->status, &pending, ONVM_MSG_ABANDONED, 0,
						__ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE);
		kill(manager, SIGCONT);
		printf("hostile_nf: %s (pid %d)\n", gave_up ? "gave up" : "could not give up",
		       (int)getpid());
		fflush(stdout);
		for (;;)
			pause();
	}
	if (strcmp(args[0], "--add-member") == 0 && nb_args == 3) {
		struct onvm_service_map *map = &shm->map;
		struct onvm_service_entry *entry = &map->services[service];
		__atomic_store_n(&map->seq.sn, map->seq.sn + 1, __ATOMIC_RELEASE);
		entry->slots[entry->count] = (uint16_t)number(args[2]);
		entry->keys[entry->count] = 0x5eed5eed5eedULL;
		entry->count++;
		__atomic_store_n(&map->seq.sn, map->seq.sn + 1, __ATOMIC_RELEASE);
		printf("hostile_nf: service %u now has member slot %s of %u\n", service, args[2],
		       entry->count);
		fflush(stdout);
		for (;;)
			pause();
	}
	fprintf(stderr, "hostile_nf: bad arguments\n");
	return 2;
}

static int forge_unserved(struct onvm_nf *nf, unsigned count, int nb_tags, char *tags[])
{
	const struct rte_memzone *zone = rte_memzone_lookup(ONVM_SHM_NAME);
	if (zone == NULL)
		return 1;
	const struct onvm_shared *shm = zone->addr;
	struct rte_ring *tx_ring = shm->instances[onvm_nflib_info(nf)->slot].tx_ring;
	struct rte_mempool *pool = onvm_nflib_pktmbuf_pool(nf);
	unsigned forged = 0;
	for (int i = 0; i < nb_tags; i++) {
		long tag = number(tags[i]);
		if (tag < 0 || tag > 0xffff - (long)ONVM_UNSERVED_PORT_BASE) {
			fprintf(stderr, "hostile_nf: tag %ld does not fit a port\n", tag);
			return 2;
		}
		for (unsigned n = 0; n < count; n++) {
			struct rte_mbuf *pkt = rte_pktmbuf_alloc(pool);
			if (pkt == NULL)
				return 1;
			pkt->port = (uint16_t)(ONVM_UNSERVED_PORT_BASE + (unsigned long)tag);
			while (rte_ring_enqueue(tx_ring, pkt) != 0)
				usleep(100); /* the manager's TX empties it */
			forged++;
		}
	}
	printf("hostile_nf: forged %u\n", forged);
	fflush(stdout);
	while (!onvm_nflib_stopping(nf))
		pause(); /* until a signal: nflib's handler sets the stop */
	onvm_nflib_finish(nf);
	return 0;
}

int main(int argc, char *argv[])
{
	int separator = 0;
	while (separator < argc && strcmp(argv[separator], "--") != 0)
		separator++;
	if (separator + 1 < argc && strncmp(argv[separator + 1], "--", 2) == 0 &&
	    argv[separator + 1][2] != '\0')
		return raw_main(argc, argv, separator);

	struct onvm_nf *nf;
	int used = onvm_nflib_init(argc, argv, "hostile_nf", &nf);
	if (used < 0)
		return onvm_nflib_exit_status(used);
	argc -= used;
	argv += used;
	if (argc >= 4 && strcmp(argv[1], "--forge-unserved") == 0)
		return forge_unserved(nf, (unsigned)number(argv[2]), argc - 3, argv + 3);
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
	struct onvm_instance *instance = &shm->instances[slot];
	__atomic_store_n(&instance->pid, (pid_t)pid, __ATOMIC_RELEASE);
	/* And the rest of what the manager wrote: indexes out of range, a state
	 * that would hide it, a name with no end. */
	instance->slot = 0xffff;
	instance->service_id = 0xfffe;
	instance->instance_id = 0xdeadbeef;
	instance->core = -7;
	instance->state = ONVM_INST_FREE;
	memset(instance->name, 'X', sizeof(instance->name));
	instance->first_rx_ms = UINT64_MAX;
	printf("hostile_nf: slot %u now says pid %ld (I am %d)\n", slot, pid, (int)getpid());
	fflush(stdout);
	for (;;)
		pause(); /* deaf to stop requests: only a signal ends it */
}
