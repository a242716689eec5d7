/*
 * onvm_service_map.h - the service -> local instances map in shared memory.
 *
 * One writer (the manager's control thread) and many readers (the manager's
 * RX and TX threads, NFs sending to a service).  Members are this host's
 * instances and, on the bus, other hosts' instances (remote slots).  A sequence counter makes
 * readers retry instead of locking: it is odd while the writer is changing the map.
 */
#ifndef ONVM_SERVICE_MAP_H
#define ONVM_SERVICE_MAP_H

#include <stdint.h>

#include "onvm_common.h"

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

/* Reader side: how many members (local and remote) the service has now. */
unsigned onvm_service_map_count(const struct onvm_service_map *map, uint16_t service);

#endif
