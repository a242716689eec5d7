/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * onvm_pktbuf.h - per-destination packet buffers for the hot path.
 *
 * Senders (the manager's RX thread, NFs) collect packets per destination
 * instance and enqueue them a burst at a time.  Packets the destination ring
 * refuses are freed and counted on the destination as ring-full drops.
 * Packets for members on other hosts are collected apart and go to the
 * manager's tunnel ring.
 */
#ifndef ONVM_PKTBUF_H
#define ONVM_PKTBUF_H

#include <rte_mbuf.h>
#include <rte_ring.h>

#include "onvm_common.h"

struct onvm_burst_buffer {
	uint16_t count;
	struct rte_mbuf *pkts[ONVM_BURST];
};

struct onvm_slot_buffers {
	uint64_t pending; /* bit per slot with a non-empty buffer */
	struct onvm_burst_buffer slot[ONVM_MAX_INSTANCES];
	struct onvm_burst_buffer tunnel; /* for remote members */
};

struct onvm_flush_result {
	unsigned sent;
	unsigned lost;
};

/* Enqueue a buffer into ring; what the ring refuses is freed and counted. */
static inline void onvm_buffer_flush(struct rte_ring *ring, struct onvm_burst_buffer *buffer,
				     uint64_t *ring_drops, struct onvm_flush_result *result)
{
	unsigned sent = rte_ring_enqueue_burst(ring, (void **)buffer->pkts, buffer->count, NULL);
	if (unlikely(sent < buffer->count)) {
		unsigned lost = buffer->count - sent;
		rte_pktmbuf_free_bulk(&buffer->pkts[sent], lost);
		__atomic_fetch_add(ring_drops, lost, __ATOMIC_RELAXED);
		result->lost += lost;
	}
	result->sent += sent;
	buffer->count = 0;
}

static inline void onvm_slot_flush(struct onvm_shared *shm, struct onvm_slot_buffers *buffers,
				   unsigned slot, struct onvm_flush_result *result)
{
	struct onvm_instance *target = &shm->instances[slot];
	onvm_buffer_flush(target->rx_ring, &buffers->slot[slot], &target->rx_ring_drops, result);
	buffers->pending &= ~(1ULL << slot);
}

static inline void onvm_slot_queue(struct onvm_shared *shm, struct onvm_slot_buffers *buffers,
				   unsigned slot, struct rte_mbuf *pkt,
				   struct onvm_flush_result *result)
{
	struct onvm_burst_buffer *buffer = &buffers->slot[slot];
	buffer->pkts[buffer->count++] = pkt;
	buffers->pending |= 1ULL << slot;
	if (buffer->count == ONVM_BURST)
		onvm_slot_flush(shm, buffers, slot, result);
}

static inline void onvm_tunnel_flush(struct onvm_shared *shm, struct onvm_slot_buffers *buffers,
				     struct onvm_flush_result *result)
{
	onvm_buffer_flush(shm->tunnel_ring, &buffers->tunnel, &shm->tunnel_ring_drops, result);
}

/* Queue a packet for the member the service map picked: an instance slot
 * here, or a remote slot (then meta->peer names the host). */
static inline void onvm_member_queue(struct onvm_shared *shm, struct onvm_slot_buffers *buffers,
				     unsigned slot, struct rte_mbuf *pkt,
				     struct onvm_pkt_meta *meta, struct onvm_flush_result *result)
{
	if (likely(!onvm_slot_is_remote(slot))) {
		onvm_slot_queue(shm, buffers, slot, pkt, result);
		return;
	}
	meta->peer = (uint16_t)(slot - ONVM_REMOTE_SLOT_BASE);
	struct onvm_burst_buffer *buffer = &buffers->tunnel;
	buffer->pkts[buffer->count++] = pkt;
	if (buffer->count == ONVM_BURST)
		onvm_tunnel_flush(shm, buffers, result);
}

static inline void onvm_slot_flush_all(struct onvm_shared *shm, struct onvm_slot_buffers *buffers,
				       struct onvm_flush_result *result)
{
	while (buffers->pending) {
		unsigned slot = (unsigned)__builtin_ctzll(buffers->pending);
		onvm_slot_flush(shm, buffers, slot, result);
	}
	if (buffers->tunnel.count)
		onvm_tunnel_flush(shm, buffers, result);
}

#endif
