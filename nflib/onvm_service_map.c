/* SPDX-License-Identifier: BSD-3-Clause */
/* onvm_service_map.c - seqlock-guarded service map (see onvm_service_map.h). */
#define ALLOW_EXPERIMENTAL_API /* rte_seqcount (DPDK 22.11) */
#include <string.h>

#include <rte_branch_prediction.h>

#include "onvm_flow.h"
#include "onvm_service_map.h"

void onvm_service_map_init(struct onvm_service_map *map)
{
	memset(map, 0, sizeof(*map));
}

static void write_begin(struct onvm_service_map *map)
{
	rte_seqcount_write_begin(&map->seq);
}

static void write_end(struct onvm_service_map *map)
{
	rte_seqcount_write_end(&map->seq);
}

/* An entry's member count, at most what it holds: any NF can write it. */
static unsigned member_count(const struct onvm_service_entry *entry)
{
	unsigned count = __atomic_load_n(&entry->count, __ATOMIC_RELAXED);
	return count > ONVM_MAX_MEMBERS ? ONVM_MAX_MEMBERS : count;
}

int onvm_service_map_add(struct onvm_service_map *map, uint16_t service, uint16_t slot,
			 uint64_t key)
{
	if (!onvm_service_valid(service))
		return -1;
	struct onvm_service_entry *entry = &map->services[service];
	if (entry->count >= ONVM_MAX_MEMBERS)
		return -1;
	write_begin(map);
	entry->slots[entry->count] = slot;
	entry->keys[entry->count] = key;
	entry->count++;
	write_end(map);
	return 0;
}

static int remove_at(struct onvm_service_map *map, struct onvm_service_entry *entry, unsigned i,
		     unsigned count)
{
	unsigned last = count - 1u;
	write_begin(map);
	entry->slots[i] = entry->slots[last];
	entry->keys[i] = entry->keys[last];
	entry->count = (uint16_t)last;
	write_end(map);
	return 0;
}

int onvm_service_map_remove(struct onvm_service_map *map, uint16_t service, uint16_t slot)
{
	if (!onvm_service_valid(service))
		return -1;
	struct onvm_service_entry *entry = &map->services[service];
	unsigned count = member_count(entry);
	for (unsigned i = 0; i < count; i++)
		if (entry->slots[i] == slot)
			return remove_at(map, entry, i, count);
	return -1;
}

int onvm_service_map_remove_key(struct onvm_service_map *map, uint16_t service, uint64_t key)
{
	if (!onvm_service_valid(service))
		return -1;
	struct onvm_service_entry *entry = &map->services[service];
	unsigned count = member_count(entry);
	for (unsigned i = 0; i < count; i++)
		if (entry->keys[i] == key)
			return remove_at(map, entry, i, count);
	return -1;
}

int onvm_service_map_has_key(const struct onvm_service_map *map, uint16_t service, uint64_t key)
{
	if (!onvm_service_valid(service))
		return 0;
	const struct onvm_service_entry *entry = &map->services[service];
	unsigned count = member_count(entry);
	for (unsigned i = 0; i < count; i++)
		if (entry->keys[i] == key)
			return 1;
	return 0;
}

static inline uint32_t packet_flow_hash(struct rte_mbuf *pkt, struct onvm_pkt_meta *meta)
{
	if (!(meta->flags & ONVM_META_F_HASHED)) {
		meta->flow_hash = onvm_flow_hash(pkt);
		meta->flags |= ONVM_META_F_HASHED;
	}
	return meta->flow_hash;
}

/* The local member that serves the packet's flow, or -1 when there is none. */
static inline int pick_local_member(const struct onvm_service_entry *entry, unsigned count,
				    struct rte_mbuf *pkt, struct onvm_pkt_meta *meta)
{
	uint64_t keys[ONVM_MAX_MEMBERS];
	uint16_t slots[ONVM_MAX_MEMBERS];
	unsigned nb_local = 0;
	for (unsigned i = 0; i < count; i++) {
		if (onvm_slot_is_remote(entry->slots[i]))
			continue;
		keys[nb_local] = entry->keys[i];
		slots[nb_local++] = entry->slots[i];
	}
	if (nb_local <= 1)
		return nb_local ? slots[0] : -1;
	return slots[onvm_flow_pick(packet_flow_hash(pkt, meta), keys, nb_local)];
}

/*
 * The seqlock read: the member of service that serves the flow, by flow_hash
 * or, when pkt is given, by the packet's hash, computed only if the service
 * has more than one member (among the local ones only, with local_only).
 */
static inline int pick_member(const struct onvm_service_map *map, uint16_t service,
			      uint32_t flow_hash, struct rte_mbuf *pkt, struct onvm_pkt_meta *meta,
			      int local_only)
{
	if (!onvm_service_valid(service))
		return -1;
	const struct onvm_service_entry *entry = &map->services[service];
	uint32_t seq;
	int slot;

	do {
		seq = rte_seqcount_read_begin(&map->seq);
		unsigned count = entry->count;
		if (count > ONVM_MAX_MEMBERS)
			count = ONVM_MAX_MEMBERS; /* torn read; the retry fixes it */
		if (local_only) {
			slot = pick_local_member(entry, count, pkt, meta);
		} else if (count == 0) {
			slot = -1;
		} else if (count == 1 && pkt) {
			slot = entry->slots[0];
		} else {
			uint32_t hash = pkt ? packet_flow_hash(pkt, meta) : flow_hash;
			slot = entry->slots[onvm_flow_pick(hash, entry->keys, count)];
		}
	} while (rte_seqcount_read_retry(&map->seq, seq));
	return slot;
}

int onvm_service_map_pick(const struct onvm_service_map *map, uint16_t service, uint32_t flow_hash)
{
	return pick_member(map, service, flow_hash, NULL, NULL, 0);
}

int onvm_service_map_pick_pkt(const struct onvm_service_map *map, uint16_t service,
			      struct rte_mbuf *pkt, struct onvm_pkt_meta *meta)
{
	return pick_member(map, service, 0, pkt, meta, 0);
}

int onvm_service_map_pick_local_pkt(const struct onvm_service_map *map, uint16_t service,
				    struct rte_mbuf *pkt, struct onvm_pkt_meta *meta)
{
	return pick_member(map, service, 0, pkt, meta, 1);
}

unsigned onvm_service_map_count(const struct onvm_service_map *map, uint16_t service)
{
	if (!onvm_service_valid(service))
		return 0;
	return member_count(&map->services[service]);
}

/* Snapshot the service's members (the local ones only, with local_only) as
 * the map is at seq, and forget every bucket's winner.  -1 when the map was
 * being changed: then the caller picks the slow way, which waits. */
static int snapshot_members(struct onvm_pick_way *way, const struct onvm_service_map *map,
			    uint16_t service, unsigned tag, int local_only, uint32_t seq)
{
	const struct onvm_service_entry *entry = &map->services[service];
	unsigned count = member_count(entry), taken = 0;
	if (seq & 1u)
		return -1;
	for (unsigned i = 0; i < count; i++) {
		uint16_t slot = entry->slots[i];
		if (local_only && onvm_slot_is_remote(slot))
			continue;
		way->slots[taken] = slot;
		way->keys[taken++] = entry->keys[i];
	}
	if (rte_seqcount_read_retry(&map->seq, seq))
		return -1;
	way->count = (uint16_t)taken;
	way->tag = (uint16_t)tag;
	way->seq = seq;
	if (taken > 1)
		memset(way->winners, 0xff, sizeof(way->winners));
	return 0;
}

const struct onvm_pick_way *onvm_pick_cache_way(struct onvm_pick_cache *cache,
						const struct onvm_service_map *map,
						uint16_t service, int local_only)
{
	if (!onvm_service_valid(service))
		return NULL;
	unsigned tag = service | (local_only ? 0x8000u : 0u);
	struct onvm_pick_way *way = &cache->ways[service % ONVM_PICK_CACHE_WAYS];
	uint32_t seq = rte_seqcount_read_begin(&map->seq);
	if (unlikely(way->seq != seq || way->tag != tag) &&
	    snapshot_members(way, map, service, tag, local_only, seq) < 0)
		return NULL;
	return way;
}

int onvm_pick_cache_pkt(struct onvm_pick_cache *cache, const struct onvm_service_map *map,
			uint16_t service, struct rte_mbuf *pkt, struct onvm_pkt_meta *meta,
			int local_only)
{
	if (!onvm_service_valid(service))
		return -1;
	unsigned tag = service | (local_only ? 0x8000u : 0u);
	struct onvm_pick_way *way = &cache->ways[service % ONVM_PICK_CACHE_WAYS];
	uint32_t seq = rte_seqcount_read_begin(&map->seq);
	if (unlikely(way->seq != seq || way->tag != tag) &&
	    snapshot_members(way, map, service, tag, local_only, seq) < 0)
		return pick_member(map, service, 0, pkt, meta, local_only);
	if (way->count <= 1)
		return way->count ? way->slots[0] : -1;
	uint32_t bucket = onvm_flow_bucket(packet_flow_hash(pkt, meta));
	uint16_t slot = way->winners[bucket];
	if (unlikely(slot == ONVM_PICK_UNKNOWN)) {
		/* count is the snapshot's own, at most ONVM_MAX_MEMBERS */
		slot = way->slots[onvm_rendezvous_pick(bucket, way->keys, way->count)];
		way->winners[bucket] = slot;
	}
	return slot;
}
