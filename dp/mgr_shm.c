/* SPDX-License-Identifier: BSD-3-Clause */
/* mgr_shm.c - create the host's shared memory: pools, rings, instance table. */
#include <stdio.h>
#include <stdlib.h> /* qsort, bsearch */
#include <string.h>
#include <unistd.h>

#include <rte_errno.h>
#include <rte_lcore.h>
#include <rte_malloc.h>
#include <rte_memory.h>
#include <rte_mbuf.h>
#include <rte_mbuf_dyn.h>
#include <rte_memzone.h>

#include "onvm_log.h"
#include "mgr.h"
#include "mgr_telemetry.h"
#include "onvm_service_map.h"

#define MBUF_CACHE_SIZE 256
#define MSG_RING_SIZE	1024

/* What an NF's own rte_eal_init takes from the shared heap (the service
 * core tables, about 130 KB in DPDK 22.11), with room to spare. */
#define NF_EAL_HEAP_BYTES (256u << 10)
/* The manager's other allocations: EAL, ports, data-plane state. */
#define MGR_OTHER_HEAP_BYTES (8u << 20)

static int create_instance_rings(struct onvm_instance *instance, unsigned slot)
{
	char name[RTE_RING_NAMESIZE];

	/* RX: many senders (the manager's RX thread, other NFs), one reader. */
	snprintf(name, sizeof(name), ONVM_NF_RX_RING_FMT, slot);
	instance->rx_ring =
	    rte_ring_create(name, ONVM_NF_RING_SIZE, rte_socket_id(), RING_F_SC_DEQ);
	/* TX: the NF alone writes, the manager's TX thread alone reads. */
	snprintf(name, sizeof(name), ONVM_NF_TX_RING_FMT, slot);
	instance->tx_ring = rte_ring_create(name, ONVM_NF_RING_SIZE, rte_socket_id(),
					    RING_F_SP_ENQ | RING_F_SC_DEQ);
	if (instance->rx_ring == NULL || instance->tx_ring == NULL) {
		MGR_LOG(ERR, "cannot create rings of slot %u: %s", slot,
			rte_strerror(rte_errno));
		return -1;
	}
	return 0;
}

static void note_msg(struct rte_mempool *pool __rte_unused, void *opaque, void *obj,
		     unsigned index __rte_unused)
{
	struct onvm_mgr *mgr = opaque;
	if (mgr->nb_msgs < MGR_MSG_POOL_SIZE)
		mgr->msgs[mgr->nb_msgs++] = obj;
}

static int compare_pointers(const void *a, const void *b)
{
	uintptr_t left = (uintptr_t) * (void *const *)a, right = (uintptr_t) * (void *const *)b;
	return left < right ? -1 : left > right;
}

/* The message ring carries pointers an NF enqueued: the manager follows only
 * those to its own pool's messages. */
static void list_msgs(struct onvm_mgr *mgr)
{
	mgr->nb_msgs = 0;
	rte_mempool_obj_iter(mgr->msg_pool, note_msg, mgr);
	qsort(mgr->msgs, mgr->nb_msgs, sizeof(*mgr->msgs), compare_pointers);
}

int mgr_shm_is_msg(const struct onvm_mgr *mgr, const void *msg)
{
	const void *key = msg;
	return bsearch(&key, mgr->msgs, mgr->nb_msgs, sizeof(*mgr->msgs), compare_pointers) != NULL;
}

/* Which ops the pools use, by name, for NFs to check theirs against
 * (see struct onvm_pool_ops). */
static int record_pool_ops(const struct onvm_mgr *mgr)
{
	const struct rte_memzone *zone = rte_memzone_reserve(
	    ONVM_POOL_OPS_NAME, sizeof(struct onvm_pool_ops), rte_socket_id(), 0);
	if (zone == NULL) {
		MGR_LOG(ERR, "cannot reserve %s: %s", ONVM_POOL_OPS_NAME,
			rte_strerror(rte_errno));
		return -1;
	}
	struct onvm_pool_ops *record = zone->addr;
	snprintf(record->pktmbuf, sizeof(record->pktmbuf), "%s",
		 rte_mempool_get_ops(mgr->pktmbuf_pool->ops_index)->name);
	snprintf(record->msg, sizeof(record->msg), "%s",
		 rte_mempool_get_ops(mgr->msg_pool->ops_index)->name);
	return 0;
}

int mgr_shm_create(struct onvm_mgr *mgr)
{
	const struct rte_memzone *zone =
	    rte_memzone_reserve(ONVM_SHM_NAME, sizeof(struct onvm_shared), rte_socket_id(), 0);
	if (zone == NULL) {
		MGR_LOG(ERR, "cannot reserve shared memory: %s",
			rte_strerror(rte_errno));
		return -1;
	}
	struct onvm_shared *shm = zone->addr;
	memset(shm, 0, sizeof(*shm));
	shm->magic = ONVM_SHM_MAGIC;
	shm->version = ONVM_SHM_VERSION;
	shm->manager_pid = getpid();
	onvm_service_map_init(&shm->map);

	static const struct rte_mbuf_dynfield meta_field = {
	    .name = ONVM_META_DYNFIELD_NAME,
	    .size = sizeof(struct onvm_pkt_meta),
	    .align = __alignof__(struct onvm_pkt_meta),
	};
	shm->meta_offset = rte_mbuf_dynfield_register(&meta_field);
	if (shm->meta_offset < 0) {
		MGR_LOG(ERR, "cannot register packet metadata: %s",
			rte_strerror(rte_errno));
		return -1;
	}

	mgr->pktmbuf_pool =
	    rte_pktmbuf_pool_create(ONVM_PKTMBUF_POOL_NAME, mgr->config.nb_mbufs, MBUF_CACHE_SIZE,
				    0, RTE_MBUF_DEFAULT_BUF_SIZE, rte_socket_id());
	mgr->msg_pool =
	    rte_mempool_create(ONVM_MSG_POOL_NAME, MGR_MSG_POOL_SIZE, sizeof(struct onvm_msg), 0, 0,
			       NULL, NULL, NULL, NULL, rte_socket_id(), 0);
	mgr->msgq =
	    rte_ring_create(ONVM_MGR_MSG_RING_NAME, MSG_RING_SIZE, rte_socket_id(), RING_F_SC_DEQ);
	if (!mgr->pktmbuf_pool || !mgr->msg_pool || !mgr->msgq) {
		MGR_LOG(ERR, "cannot create pools or message ring: %s",
			rte_strerror(rte_errno));
		return -1;
	}
	if (record_pool_ops(mgr) < 0)
		return -1;
	list_msgs(mgr);
	mgr->meta_offset = shm->meta_offset;

	for (unsigned slot = 0; slot < ONVM_MAX_INSTANCES; slot++) {
		shm->instances[slot].slot = (uint16_t)slot;
		shm->instances[slot].core = -1;
		if (create_instance_rings(&shm->instances[slot], slot) < 0)
			return -1;
		mgr->rx_rings[slot] = shm->instances[slot].rx_ring;
		mgr->tx_rings[slot] = shm->instances[slot].tx_ring;
	}
	/* Many senders (the RX thread, NFs); the TX thread alone reads. */
	shm->tunnel_ring = rte_ring_create(ONVM_TUNNEL_RING_NAME, ONVM_TUNNEL_RING_SIZE,
					   rte_socket_id(), RING_F_SC_DEQ);
	if (shm->tunnel_ring == NULL) {
		MGR_LOG(ERR, "cannot create the tunnel ring: %s",
			rte_strerror(rte_errno));
		return -1;
	}
	mgr->tunnel_ring = shm->tunnel_ring;
	mgr->shm = shm;
	return 0;
}

unsigned mgr_shm_prealloc_mb(const struct mgr_config *config)
{
	/* Per mbuf: the header, the default data room and the mempool's own
	 * header and trailer; the pool's per-lcore caches come on top. */
	uint64_t mbuf_bytes = sizeof(struct rte_mbuf) + RTE_MBUF_DEFAULT_BUF_SIZE + 64;
	uint64_t bytes = (uint64_t)config->nb_mbufs * mbuf_bytes;
	bytes += (uint64_t)RTE_MAX_LCORE * sizeof(struct rte_mempool_cache);
	bytes += (uint64_t)ONVM_MAX_INSTANCES * 2 * (ONVM_NF_RING_SIZE * sizeof(void *) + 4096);
	bytes += (ONVM_TUNNEL_RING_SIZE + MSG_RING_SIZE) * sizeof(void *);
	bytes += (uint64_t)MGR_MSG_POOL_SIZE * (sizeof(struct onvm_msg) + 128);
	bytes += sizeof(struct onvm_shared);
	bytes += MGR_OTHER_HEAP_BYTES + (uint64_t)ONVM_MAX_INSTANCES * NF_EAL_HEAP_BYTES;
	/* One dpdk-dumpcap's capture pool (mgr_telemetry.h). */
	bytes += MGR_TELEMETRY_CAPTURE_HEAP_BYTES;
	return (unsigned)((bytes + (2u << 20) - 1) / (2u << 20) * 2); /* whole 2 MiB pages */
}

static int refuse_growth(int socket_id, size_t cur_limit, size_t new_len)
{
	fprintf(
	    stderr,
	    "onvm-mgr: refused to grow the shared heap of socket %d to %zu MB (held at %zu MB)\n",
	    socket_id, new_len >> 20, cur_limit >> 20);
	return -1;
}

int mgr_shm_hold_memory(void)
{
	for (unsigned i = 0; i < rte_socket_count(); i++) {
		int socket = rte_socket_id_by_idx(i);
		struct rte_malloc_socket_stats stats;
		if (socket < 0 || rte_malloc_get_socket_stats(socket, &stats) < 0 ||
		    stats.heap_totalsz_bytes == 0)
			continue;
		if (rte_mem_alloc_validator_register("onvm-hold", refuse_growth, socket,
						     stats.heap_totalsz_bytes) < 0) {
			MGR_LOG(ERR, "cannot hold the heap of socket %d: %s", socket,
				rte_strerror(rte_errno));
			return -1;
		}
		MGR_LOG(INFO, "memory: socket %d heap %zu MB, %zu MB free for NFs", socket,
		       stats.heap_totalsz_bytes >> 20, stats.heap_freesz_bytes >> 20);
	}
	return 0;
}
