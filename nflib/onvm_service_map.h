/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * onvm_service_map.h - the service -> local instances map in shared memory.
 *
 * One writer (the manager's control thread) and many readers (the manager's
 * RX and TX threads, NFs sending to a service).  Members are this host's
 * instances and, on the bus, other hosts' instances (remote slots).  A sequence counter makes
 * readers retry instead of locking: it is odd while the writer is changing the map.
 *
 * A flow's member is the rendezvous winner of its flow bucket (onvm_flow.h).
 * The data plane's readers keep a pick cache: per service, each bucket's
 * winner, valid while the map's sequence counter stays where it was when
 * the cache was filled, so a packet costs a table look-up, not a score per
 * member.  Winners are filled in as buckets are first used after a change,
 * so a change (or an NF that keeps bumping the counter) costs a clear of
 * the table, not a rendezvous over every bucket.
 */
#ifndef ONVM_SERVICE_MAP_H
#define ONVM_SERVICE_MAP_H

#include <stdint.h>

#include "onvm_common.h"
#include "onvm_flow.h"

void onvm_service_map_init(struct onvm_service_map *map);

/* Writer side.  Return 0, or -1 when the service id is out of range, the
 * service is full, or (remove) the slot is not a member. */
int onvm_service_map_add(struct onvm_service_map *map, uint16_t service, uint16_t slot,
			 uint64_t key);
int onvm_service_map_remove(struct onvm_service_map *map, uint16_t service, uint16_t slot);
/* Remove the member with this key (remote members share their peer's slot). */
int onvm_service_map_remove_key(struct onvm_service_map *map, uint16_t service, uint64_t key);
/* Whether the service has a member with this key. */
int onvm_service_map_has_key(const struct onvm_service_map *map, uint16_t service, uint64_t key);

/* Reader side: the slot of the instance that serves flow_hash, or -1 when the
 * service has no instance. */
int onvm_service_map_pick(const struct onvm_service_map *map, uint16_t service, uint32_t flow_hash);

/* Reader side, for a packet: like onvm_service_map_pick, but the flow hash is
 * computed (and kept in meta) only when the service has several instances:
 * reading the packet's headers is the costliest part of steering it. */
int onvm_service_map_pick_pkt(const struct onvm_service_map *map, uint16_t service,
			      struct rte_mbuf *pkt, struct onvm_pkt_meta *meta);

/* Reader side, for a packet that came through the tunnel: like
 * onvm_service_map_pick_pkt, among the members on this host only, so that a
 * packet never crosses the tunnel twice. */
int onvm_service_map_pick_local_pkt(const struct onvm_service_map *map, uint16_t service,
				    struct rte_mbuf *pkt, struct onvm_pkt_meta *meta);

/* A reader's pick cache (private memory: the manager's RX thread, one NF);
 * zeroed memory is an empty one (tag 0 is no service's).  Direct-mapped by
 * service id; a way holds one service's (local-only or all) members, as
 * they were at seq. */
#define ONVM_PICK_CACHE_WAYS 4
#define ONVM_PICK_UNKNOWN    0xffffu /* a bucket whose winner is not filled in */

struct onvm_pick_way {
	uint32_t seq;	/* the map's seq the snapshot was taken at; odd: none */
	uint16_t tag;	/* service, | 0x8000 for local-only picks */
	uint16_t count; /* members in the snapshot, at most ONVM_MAX_MEMBERS */
	uint16_t slots[ONVM_MAX_MEMBERS];
	uint64_t keys[ONVM_MAX_MEMBERS];
	uint16_t winners[ONVM_FLOW_BUCKETS]; /* bucket -> slot, or ONVM_PICK_UNKNOWN */
};

struct onvm_pick_cache {
	struct onvm_pick_way ways[ONVM_PICK_CACHE_WAYS];
};

/* Like onvm_service_map_pick_pkt (local_only: _pick_local_pkt), answered from
 * the cache while the map is unchanged.  Same results; the caller still
 * checks the slot (onvm_member_slot_valid): the map's writer may be an NF. */
int onvm_pick_cache_pkt(struct onvm_pick_cache *cache, const struct onvm_service_map *map,
			uint16_t service, struct rte_mbuf *pkt, struct onvm_pkt_meta *meta,
			int local_only);

/* The cache's way for service, brought up to the map as it is now: its count
 * and slots[] tell a caller whether a whole burst goes to one member (then
 * nothing needs hashing).  NULL when the service is out of range or the map
 * is being changed (then pick per packet, which waits). */
const struct onvm_pick_way *onvm_pick_cache_way(struct onvm_pick_cache *cache,
						const struct onvm_service_map *map,
						uint16_t service, int local_only);

/* Reader side: how many members (local and remote) the service has now. */
unsigned onvm_service_map_count(const struct onvm_service_map *map, uint16_t service);

#endif
