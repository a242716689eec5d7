/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * onvm_flow.h - flow hashing and instance choice.
 *
 * A packet's flow hash comes from its 5-tuple, hashed in software the same
 * way on every host (never the NIC's RSS hash, which differs between NICs
 * and survives decapsulation as the outer header's), and
 * the instance of a service that serves it is chosen by rendezvous hashing:
 * each member scores hash(flow, member key) and the highest score wins, so
 * adding or removing one of n members moves only about 1/n of the flows.
 */
#ifndef ONVM_FLOW_H
#define ONVM_FLOW_H

#include <stdint.h>

struct rte_mbuf;

/* Flow hash of an Ethernet frame held in one buffer (pure). */
uint32_t onvm_flow_hash_frame(const uint8_t *frame, uint32_t len);

/* Flow hash of a packet: its frame's, whatever hash the NIC put in the mbuf. */
uint32_t onvm_flow_hash(struct rte_mbuf *pkt);

/* Rendezvous score of one member key for a flow. */
uint64_t onvm_rendezvous_score(uint32_t flow_hash, uint64_t member_key);

/* Index in keys[] of the member that serves flow_hash, or -1 when count is 0. */
int onvm_rendezvous_pick(uint32_t flow_hash, const uint64_t *keys, unsigned count);

/*
 * The data plane chooses per flow bucket, not per flow: a flow's member is the
 * rendezvous winner of its bucket (the hash's low bits).  Minimal movement
 * holds as before, bucket by bucket, and a reader can keep each bucket's
 * winner until the service's members change (onvm_service_map.h's pick
 * cache) instead of scoring every member for every packet.
 */
#define ONVM_FLOW_BUCKETS 4096u

static inline uint32_t onvm_flow_bucket(uint32_t flow_hash)
{
	return flow_hash & (ONVM_FLOW_BUCKETS - 1u);
}

/* Index in keys[] of the member that serves flow_hash, or -1 when count is 0. */
static inline int onvm_flow_pick(uint32_t flow_hash, const uint64_t *keys, unsigned count)
{
	return onvm_rendezvous_pick(onvm_flow_bucket(flow_hash), keys, count);
}

/* A stable 32-bit hash of a host name (FNV-1a), for onvm_member_key(). */
uint32_t onvm_host_hash(const char *name);

#endif
