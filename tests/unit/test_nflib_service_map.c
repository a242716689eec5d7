/* SPDX-License-Identifier: BSD-3-Clause */
/* test_nflib_service_map.c - unit tests for the service map (nflib/onvm_service_map.c). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <rte_byteorder.h>
#include <rte_ether.h>
#include <rte_ip.h>
#include <rte_mbuf.h>
#include <rte_udp.h>

#include "onvm_flow.h"
#include "onvm_service_map.h"

#define SVC	  7
#define NB_HASHES 20000

/* ---- helpers ---- */

static int setup_map(void **state)
{
	struct onvm_service_map *map = malloc(sizeof(*map));
	if (map == NULL)
		return -1;
	memset(map, 0xa5, sizeof(*map));
	onvm_service_map_init(map);
	*state = map;
	return 0;
}

static int teardown_map(void **state)
{
	free(*state);
	return 0;
}

static uint32_t seq_of(const struct onvm_service_map *map)
{
	return map->seq.sn;
}

/* Run one writer operation: it must give want, leave seq even and move it on
 * by 2 when it changed the map, not at all when it failed. */
static void check_write(struct onvm_service_map *map, int ret, uint32_t seq_before, int want)
{
	assert_int_equal(ret, want);
	assert_int_equal(seq_of(map) & 1u, 0);
	assert_int_equal(seq_of(map), want == 0 ? seq_before + 2 : seq_before);
}

static void add(struct onvm_service_map *map, uint16_t service, uint16_t slot, uint64_t key,
		int want)
{
	uint32_t seq = seq_of(map);
	check_write(map, onvm_service_map_add(map, service, slot, key), seq, want);
}

static void del(struct onvm_service_map *map, uint16_t service, uint16_t slot, int want)
{
	uint32_t seq = seq_of(map);
	check_write(map, onvm_service_map_remove(map, service, slot), seq, want);
}

/* A spread of flow hashes. */
static uint32_t hash_of(unsigned i)
{
	return (uint32_t)(i * 2654435761u) ^ (i >> 3);
}

/* Every pick of service lands on one of slots[]; returns how many distinct
 * slots were picked. */
static unsigned assert_picks_within(const struct onvm_service_map *map, uint16_t service,
				    const uint16_t *slots, unsigned count)
{
	unsigned hits[ONVM_MAX_MEMBERS] = {0};
	for (unsigned i = 0; i < NB_HASHES; i++) {
		int slot = onvm_service_map_pick(map, service, hash_of(i));
		unsigned m = 0;
		while (m < count && slots[m] != slot)
			m++;
		if (m == count)
			fail_msg("hash %u picked slot %d, not a member", hash_of(i), slot);
		hits[m]++;
	}
	unsigned used = 0;
	for (unsigned m = 0; m < count; m++)
		used += hits[m] > 0;
	return used;
}

/* ---- tests ---- */

static void test_init_empty(void **state)
{
	struct onvm_service_map *map = *state;
	assert_int_equal(seq_of(map), 0);
	for (unsigned service = 1; service < ONVM_MAX_SERVICES; service++) {
		assert_int_equal(onvm_service_map_count(map, (uint16_t)service), 0);
		assert_int_equal(onvm_service_map_pick(map, (uint16_t)service, 12345), -1);
	}
}

static void test_add_count_pick(void **state)
{
	struct onvm_service_map *map = *state;
	add(map, SVC, 4, 100, 0);
	assert_int_equal(onvm_service_map_count(map, SVC), 1);
	for (unsigned i = 0; i < 100; i++)
		assert_int_equal(onvm_service_map_pick(map, SVC, hash_of(i)), 4);

	add(map, SVC, 9, 101, 0);
	add(map, SVC, 2, 102, 0);
	assert_int_equal(onvm_service_map_count(map, SVC), 3);
	static const uint16_t slots[] = {4, 9, 2};
	assert_int_equal(assert_picks_within(map, SVC, slots, 3), 3);
	assert_int_equal(onvm_service_map_count(map, SVC + 1), 0);
	assert_int_equal(onvm_service_map_pick(map, SVC + 1, 1), -1);
}

static void test_pick_follows_rendezvous(void **state)
{
	struct onvm_service_map *map = *state;
	static const uint16_t slots[] = {30, 31, 32, 33};
	static const uint64_t keys[] = {1001, 1002, 1003, 1004};
	for (unsigned m = 0; m < 4; m++)
		add(map, SVC, slots[m], keys[m], 0);
	for (unsigned i = 0; i < NB_HASHES; i++) {
		int index = onvm_flow_pick(hash_of(i), keys, 4);
		assert_int_equal(onvm_service_map_pick(map, SVC, hash_of(i)), slots[index]);
	}
}

static void test_pick_deterministic(void **state)
{
	struct onvm_service_map *map = *state;
	for (uint16_t slot = 0; slot < 5; slot++)
		add(map, SVC, slot, 500 + slot, 0);
	for (unsigned i = 0; i < 1000; i++)
		assert_int_equal(onvm_service_map_pick(map, SVC, hash_of(i)),
				 onvm_service_map_pick(map, SVC, hash_of(i)));
}

static void test_out_of_range_service(void **state)
{
	struct onvm_service_map *map = *state;
	static const uint16_t bad[] = {0, ONVM_MAX_SERVICES, ONVM_MAX_SERVICES + 1, UINT16_MAX};
	for (unsigned i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		add(map, bad[i], 1, 1, -1);
		del(map, bad[i], 1, -1);
		assert_int_equal(onvm_service_map_pick(map, bad[i], 1), -1);
		assert_int_equal(onvm_service_map_count(map, bad[i]), 0);
	}
	/* The ends of the valid range work. */
	add(map, 1, 1, 1, 0);
	add(map, ONVM_MAX_SERVICES - 1, 2, 2, 0);
	assert_int_equal(onvm_service_map_pick(map, 1, 99), 1);
	assert_int_equal(onvm_service_map_pick(map, ONVM_MAX_SERVICES - 1, 99), 2);
	assert_int_equal(onvm_service_map_count(map, ONVM_MAX_SERVICES - 1), 1);
}

static void test_full_service_rejects_one_more(void **state)
{
	struct onvm_service_map *map = *state;
	uint16_t slots[ONVM_MAX_MEMBERS];
	for (uint16_t m = 0; m < ONVM_MAX_MEMBERS; m++) {
		slots[m] = (uint16_t)(m + 10);
		add(map, SVC, slots[m], 7000 + m, 0);
	}
	assert_int_equal(onvm_service_map_count(map, SVC), ONVM_MAX_MEMBERS);
	add(map, SVC, 99, 9999, -1);
	assert_int_equal(onvm_service_map_count(map, SVC), ONVM_MAX_MEMBERS);
	assert_true(assert_picks_within(map, SVC, slots, ONVM_MAX_MEMBERS) > ONVM_MAX_MEMBERS / 2);

	/* Another service still has room; after a removal this one has too. */
	add(map, SVC + 1, 99, 9999, 0);
	del(map, SVC, 10, 0);
	add(map, SVC, 99, 9999, 0);
	assert_int_equal(onvm_service_map_count(map, SVC), ONVM_MAX_MEMBERS);
}

static void test_remove_non_member_fails(void **state)
{
	struct onvm_service_map *map = *state;
	del(map, SVC, 3, -1); /* empty service */
	add(map, SVC, 3, 300, 0);
	add(map, SVC, 4, 400, 0);
	del(map, SVC, 5, -1);
	del(map, SVC + 1, 3, -1); /* member of another service */
	assert_int_equal(onvm_service_map_count(map, SVC), 2);
	del(map, SVC, 3, 0);
	del(map, SVC, 3, -1); /* already removed */
	assert_int_equal(onvm_service_map_count(map, SVC), 1);
}

static void test_remove_last_member_empties(void **state)
{
	struct onvm_service_map *map = *state;
	add(map, SVC, 3, 300, 0);
	del(map, SVC, 3, 0);
	assert_int_equal(onvm_service_map_count(map, SVC), 0);
	assert_int_equal(onvm_service_map_pick(map, SVC, 42), -1);
}

static void test_pick_returns_only_current_members(void **state)
{
	struct onvm_service_map *map = *state;
	for (uint16_t slot = 10; slot <= 14; slot++)
		add(map, SVC, slot, 100u + slot, 0);
	del(map, SVC, 12, 0);
	static const uint16_t left[] = {10, 11, 13, 14};
	assert_int_equal(assert_picks_within(map, SVC, left, 4), 4);
	del(map, SVC, 10, 0);
	del(map, SVC, 14, 0);
	static const uint16_t two[] = {11, 13};
	assert_int_equal(assert_picks_within(map, SVC, two, 2), 2);
	add(map, SVC, 20, 120, 0);
	static const uint16_t three[] = {11, 13, 20};
	assert_int_equal(assert_picks_within(map, SVC, three, 3), 3);
}

static void test_remove_moves_only_removed_members_flows(void **state)
{
	/* Removing a member from the middle must keep every other slot paired
	 * with its own key, so the flows of the others stay where they are. */
	struct onvm_service_map *map = *state;
	for (uint16_t slot = 0; slot < 6; slot++)
		add(map, SVC, slot, 0x1000u + slot * 7u, 0);
	int *before = malloc(NB_HASHES * sizeof(int));
	assert_non_null(before);
	for (unsigned i = 0; i < NB_HASHES; i++)
		before[i] = onvm_service_map_pick(map, SVC, hash_of(i));
	del(map, SVC, 1, 0);
	unsigned moved = 0;
	for (unsigned i = 0; i < NB_HASHES; i++) {
		int after = onvm_service_map_pick(map, SVC, hash_of(i));
		assert_int_not_equal(after, 1);
		if (before[i] != 1 && after != before[i])
			fail_msg("hash %u moved from slot %d to %d", hash_of(i), before[i], after);
		moved += before[i] == 1;
	}
	assert_in_range(moved, NB_HASHES / 6 * 8 / 10, NB_HASHES / 6 * 12 / 10);
	free(before);
}

static void test_seq_even_over_mixed_operations(void **state)
{
	struct onvm_service_map *map = *state;
	uint32_t start = seq_of(map);
	unsigned writes = 0;
	for (unsigned round = 0; round < 3; round++) {
		for (uint16_t slot = 0; slot < 40; slot++) {
			int want = slot < ONVM_MAX_MEMBERS ? 0 : -1;
			add(map, SVC, slot, slot + 1u, want);
			writes += want == 0;
		}
		for (uint16_t slot = 0; slot < 40; slot += 2) {
			int want = slot < ONVM_MAX_MEMBERS ? 0 : -1;
			del(map, SVC, slot, want);
			writes += want == 0;
		}
		for (unsigned i = 0; i < 200; i++)
			assert_int_equal(onvm_service_map_pick(map, SVC, hash_of(i)) & 1, 1);
		for (uint16_t slot = 1; slot < ONVM_MAX_MEMBERS; slot += 2) {
			del(map, SVC, slot, 0);
			writes++;
		}
		assert_int_equal(onvm_service_map_count(map, SVC), 0);
	}
	assert_int_equal(seq_of(map), start + 2 * writes);
}

/* ---- onvm_service_map_pick_pkt ---- */

struct test_pkt {
	struct rte_mbuf *mbuf;
	_Alignas(8) uint8_t data[128];
};

/* An IPv4/UDP frame in a bare mbuf (no pool, no EAL), 2 bytes into data so
 * that its addresses and ports are aligned. */
static struct test_pkt *make_pkt(uint16_t sport)
{
	struct test_pkt *pkt = calloc(1, sizeof(*pkt));
	assert_non_null(pkt);
	pkt->mbuf = aligned_alloc(RTE_CACHE_LINE_SIZE, sizeof(struct rte_mbuf));
	assert_non_null(pkt->mbuf);
	memset(pkt->mbuf, 0, sizeof(struct rte_mbuf));

	uint8_t *frame = pkt->data + 2;
	struct rte_ether_hdr eth = {.ether_type = rte_cpu_to_be_16(RTE_ETHER_TYPE_IPV4)};
	struct rte_ipv4_hdr ip = {.version_ihl = RTE_IPV4_VHL_DEF,
				  .next_proto_id = IPPROTO_UDP,
				  .src_addr = rte_cpu_to_be_32(0x0a000001),
				  .dst_addr = rte_cpu_to_be_32(0x0a000002)};
	struct rte_udp_hdr udp = {.src_port = rte_cpu_to_be_16(sport),
				  .dst_port = rte_cpu_to_be_16(80)};
	memcpy(frame, &eth, sizeof(eth));
	memcpy(frame + sizeof(eth), &ip, sizeof(ip));
	memcpy(frame + sizeof(eth) + sizeof(ip), &udp, sizeof(udp));

	pkt->mbuf->buf_addr = pkt->data;
	pkt->mbuf->data_off = 2;
	pkt->mbuf->data_len = (uint16_t)(sizeof(eth) + sizeof(ip) + sizeof(udp) + 16);
	pkt->mbuf->pkt_len = pkt->mbuf->data_len;
	return pkt;
}

static void free_pkt(struct test_pkt *pkt)
{
	free(pkt->mbuf);
	free(pkt);
}

static uint32_t frame_hash(const struct test_pkt *pkt)
{
	return onvm_flow_hash_frame(pkt->data + 2, pkt->mbuf->data_len);
}

static void test_pick_pkt_empty_and_invalid(void **state)
{
	struct onvm_service_map *map = *state;
	struct test_pkt *pkt = make_pkt(1000);
	struct onvm_pkt_meta meta = {0};
	assert_int_equal(onvm_service_map_pick_pkt(map, SVC, pkt->mbuf, &meta), -1);
	assert_int_equal(onvm_service_map_pick_pkt(map, 0, pkt->mbuf, &meta), -1);
	assert_int_equal(onvm_service_map_pick_pkt(map, ONVM_MAX_SERVICES, pkt->mbuf, &meta), -1);
	assert_int_equal(meta.flags & ONVM_META_F_HASHED, 0);
	free_pkt(pkt);
}

static void test_pick_pkt_single_member_skips_hash(void **state)
{
	struct onvm_service_map *map = *state;
	struct test_pkt *pkt = make_pkt(1000);
	struct onvm_pkt_meta meta = {0};
	add(map, SVC, 5, 55, 0);
	assert_int_equal(onvm_service_map_pick_pkt(map, SVC, pkt->mbuf, &meta), 5);
	assert_int_equal(meta.flags & ONVM_META_F_HASHED, 0);
	assert_int_equal(meta.flow_hash, 0);
	free_pkt(pkt);
}

static void test_pick_pkt_hashes_once_and_matches_pick(void **state)
{
	struct onvm_service_map *map = *state;
	for (uint16_t slot = 1; slot <= 4; slot++)
		add(map, SVC, slot, 40u + slot, 0);
	for (uint16_t sport = 1000; sport < 1400; sport++) {
		struct test_pkt *pkt = make_pkt(sport);
		struct onvm_pkt_meta meta = {0};
		uint32_t hash = frame_hash(pkt);
		int slot = onvm_service_map_pick_pkt(map, SVC, pkt->mbuf, &meta);
		assert_int_equal(slot, onvm_service_map_pick(map, SVC, hash));
		assert_int_equal(meta.flags & ONVM_META_F_HASHED, ONVM_META_F_HASHED);
		assert_int_equal(meta.flow_hash, hash);
		free_pkt(pkt);
	}
}

static void test_pick_pkt_uses_kept_hash(void **state)
{
	struct onvm_service_map *map = *state;
	for (uint16_t slot = 1; slot <= 4; slot++)
		add(map, SVC, slot, 40u + slot, 0);
	struct test_pkt *pkt = make_pkt(1000);
	for (unsigned i = 0; i < 200; i++) {
		struct onvm_pkt_meta meta = {.flags = ONVM_META_F_HASHED, .flow_hash = hash_of(i)};
		assert_int_equal(onvm_service_map_pick_pkt(map, SVC, pkt->mbuf, &meta),
				 onvm_service_map_pick(map, SVC, hash_of(i)));
		assert_int_equal(meta.flow_hash, hash_of(i));
	}
	free_pkt(pkt);
}

/* Whatever RSS hash the NIC (or the outer header of a tunnelled frame) left
 * in the mbuf, the pick is the frame's own: the same on every host. */
static void test_pick_pkt_ignores_rss_hash(void **state)
{
	struct onvm_service_map *map = *state;
	for (uint16_t slot = 1; slot <= 4; slot++)
		add(map, SVC, slot, 40u + slot, 0);
	struct test_pkt *pkt = make_pkt(1000);
	uint32_t frame_hash = onvm_flow_hash_frame(rte_pktmbuf_mtod(pkt->mbuf, const uint8_t *),
						   rte_pktmbuf_data_len(pkt->mbuf));
	pkt->mbuf->ol_flags = RTE_MBUF_F_RX_RSS_HASH;
	for (unsigned i = 0; i < 200; i++) {
		struct onvm_pkt_meta meta = {0};
		pkt->mbuf->hash.rss = hash_of(i);
		assert_int_equal(onvm_service_map_pick_pkt(map, SVC, pkt->mbuf, &meta),
				 onvm_service_map_pick(map, SVC, frame_hash));
		assert_int_equal(meta.flow_hash, frame_hash);
	}
	free_pkt(pkt);
}

/* Any NF can write the map: a count beyond what an entry holds is read as
 * the most it holds, by the writer's operations as by the readers (the last
 * service's entry is the end of the allocation, so ASan sees any overrun). */
static void test_count_written_by_an_nf_is_clamped(void **state)
{
	struct onvm_service_map *map = *state;
	const uint16_t last = ONVM_MAX_SERVICES - 1;
	map->services[last].count = 0xffff;
	assert_int_equal(onvm_service_map_count(map, last), ONVM_MAX_MEMBERS);
	assert_int_equal(onvm_service_map_add(map, last, 1, 1), -1); /* full */
	assert_int_equal(onvm_service_map_remove(map, last, 0x7777), -1);
	assert_int_equal(onvm_service_map_remove_key(map, last, 0x7777), -1);
	assert_int_equal(onvm_service_map_has_key(map, last, 0x7777), 0);
	map->services[last].slots[ONVM_MAX_MEMBERS - 1] = 9;
	assert_int_equal(onvm_service_map_remove(map, last, 9), 0);
	assert_int_equal(onvm_service_map_count(map, last), ONVM_MAX_MEMBERS - 1);
	assert_true(onvm_service_map_pick(map, last, 123) >= 0);
}

/* What a sender may index with: an instance slot, or a known peer's. */
static void test_member_slot_validity(void **state)
{
	(void)state;
	assert_true(onvm_member_slot_valid(0));
	assert_true(onvm_member_slot_valid(ONVM_MAX_INSTANCES - 1));
	assert_false(onvm_member_slot_valid(ONVM_MAX_INSTANCES));
	assert_false(onvm_member_slot_valid(20000));
	assert_true(onvm_member_slot_valid(ONVM_REMOTE_SLOT_BASE));
	assert_true(onvm_member_slot_valid(ONVM_REMOTE_SLOT_BASE + ONVM_MAX_PEERS - 1));
	assert_false(onvm_member_slot_valid(ONVM_REMOTE_SLOT_BASE + ONVM_MAX_PEERS));
	assert_false(onvm_member_slot_valid(0xffff));
}

/* ---- onvm_pick_cache_pkt ---- */

/* The cache answers what the uncached pick answers, for every flow, across
 * changes of the map: additions, removals, a service emptied, other services
 * sharing a way. */
static void check_cache_matches(struct onvm_pick_cache *cache, struct onvm_service_map *map,
				uint16_t service)
{
	struct test_pkt *pkt = make_pkt(1000);
	for (unsigned i = 0; i < 3000; i++) {
		struct onvm_pkt_meta meta = {.flags = ONVM_META_F_HASHED, .flow_hash = hash_of(i)};
		int want = onvm_service_map_pick(map, service, hash_of(i));
		assert_int_equal(onvm_pick_cache_pkt(cache, map, service, pkt->mbuf, &meta, 0),
				 want);
	}
	free_pkt(pkt);
}

static void test_pick_cache_follows_the_map(void **state)
{
	struct onvm_service_map *map = *state;
	struct onvm_pick_cache *cache = calloc(1, sizeof(*cache));
	assert_non_null(cache);
	const uint16_t other = SVC + ONVM_PICK_CACHE_WAYS; /* the same way as SVC */
	check_cache_matches(cache, map, SVC);		   /* empty */
	add(map, SVC, 3, 33, 0);
	check_cache_matches(cache, map, SVC); /* one */
	for (uint16_t slot = 4; slot < 8; slot++) {
		add(map, SVC, slot, 30u + slot, 0);
		check_cache_matches(cache, map, SVC);
	}
	add(map, other, 9, 99, 0);
	add(map, other, 10, 100, 0);
	check_cache_matches(cache, map, other);
	check_cache_matches(cache, map, SVC);
	del(map, SVC, 5, 0);
	check_cache_matches(cache, map, SVC);
	for (uint16_t slot = 3; slot < 8; slot++)
		if (slot != 5)
			del(map, SVC, slot, 0);
	check_cache_matches(cache, map, SVC); /* empty again */
	check_cache_matches(cache, map, other);
	free(cache);
}

/* A member added while a bucket's winner is cached takes its buckets at
 * once: the cache never serves a snapshot older than the map. */
static void test_pick_cache_sees_a_new_member_at_once(void **state)
{
	struct onvm_service_map *map = *state;
	struct onvm_pick_cache *cache = calloc(1, sizeof(*cache));
	assert_non_null(cache);
	struct test_pkt *pkt = make_pkt(1000);
	add(map, SVC, 1, 11, 0);
	add(map, SVC, 2, 12, 0);
	unsigned to_new = 0;
	for (unsigned i = 0; i < 2000; i++) {
		struct onvm_pkt_meta meta = {.flags = ONVM_META_F_HASHED, .flow_hash = hash_of(i)};
		assert_in_range(onvm_pick_cache_pkt(cache, map, SVC, pkt->mbuf, &meta, 0), 1, 2);
	}
	add(map, SVC, 3, 13, 0);
	for (unsigned i = 0; i < 2000; i++) {
		struct onvm_pkt_meta meta = {.flags = ONVM_META_F_HASHED, .flow_hash = hash_of(i)};
		to_new += onvm_pick_cache_pkt(cache, map, SVC, pkt->mbuf, &meta, 0) == 3;
	}
	assert_in_range(to_new, 2000 / 3 * 8 / 10, 2000 / 3 * 12 / 10);
	free_pkt(pkt);
	free(cache);
}

/* Local-only picks (tunnel arrivals) are cached apart from full picks of the
 * same service, and never give a remote slot. */
static void test_pick_cache_local_only(void **state)
{
	struct onvm_service_map *map = *state;
	struct onvm_pick_cache *cache = calloc(1, sizeof(*cache));
	assert_non_null(cache);
	add(map, SVC, 2, 21, 0);
	add(map, SVC, ONVM_REMOTE_SLOT_BASE + 1, 22, 0);
	add(map, SVC, 4, 23, 0);
	for (uint16_t sport = 1000; sport < 1300; sport++) {
		struct test_pkt *pkt = make_pkt(sport);
		struct onvm_pkt_meta meta = {0}, meta_cached = {0};
		int local = onvm_service_map_pick_local_pkt(map, SVC, pkt->mbuf, &meta);
		assert_int_equal(onvm_pick_cache_pkt(cache, map, SVC, pkt->mbuf, &meta_cached, 1),
				 local);
		assert_true(local == 2 || local == 4);
		meta_cached = (struct onvm_pkt_meta){0};
		assert_int_equal(onvm_pick_cache_pkt(cache, map, SVC, pkt->mbuf, &meta_cached, 0),
				 onvm_service_map_pick_pkt(map, SVC, pkt->mbuf, &meta));
		free_pkt(pkt);
	}
	free(cache);
}

/* With one member the packet is not hashed, as with the uncached pick; an
 * out-of-range service gives -1 without touching the map. */
static void test_pick_cache_single_member_and_bad_service(void **state)
{
	struct onvm_service_map *map = *state;
	struct onvm_pick_cache *cache = calloc(1, sizeof(*cache));
	assert_non_null(cache);
	struct test_pkt *pkt = make_pkt(1000);
	struct onvm_pkt_meta meta = {0};
	add(map, SVC, 5, 55, 0);
	assert_int_equal(onvm_pick_cache_pkt(cache, map, SVC, pkt->mbuf, &meta, 0), 5);
	assert_int_equal(meta.flags & ONVM_META_F_HASHED, 0);
	assert_int_equal(onvm_pick_cache_pkt(cache, map, 0, pkt->mbuf, &meta, 0), -1);
	assert_int_equal(onvm_pick_cache_pkt(cache, map, ONVM_MAX_SERVICES, pkt->mbuf, &meta, 0),
			 -1);
	free_pkt(pkt);
	free(cache);
}

/* The way a burst-level caller reads: its count and slots are the map's now. */
static void test_pick_cache_way_follows_the_map(void **state)
{
	struct onvm_service_map *map = *state;
	struct onvm_pick_cache *cache = calloc(1, sizeof(*cache));
	assert_non_null(cache);
	assert_null(onvm_pick_cache_way(cache, map, 0, 0));
	assert_null(onvm_pick_cache_way(cache, map, ONVM_MAX_SERVICES, 0));
	assert_int_equal(onvm_pick_cache_way(cache, map, SVC, 0)->count, 0);
	add(map, SVC, 6, 66, 0);
	const struct onvm_pick_way *way = onvm_pick_cache_way(cache, map, SVC, 0);
	assert_int_equal(way->count, 1);
	assert_int_equal(way->slots[0], 6);
	add(map, SVC, ONVM_REMOTE_SLOT_BASE, 67, 0);
	assert_int_equal(onvm_pick_cache_way(cache, map, SVC, 0)->count, 2);
	assert_int_equal(onvm_pick_cache_way(cache, map, SVC, 1)->count, 1); /* local only */
	del(map, SVC, 6, 0);
	assert_int_equal(onvm_pick_cache_way(cache, map, SVC, 1)->count, 0);
	free(cache);
}

/* What an NF scribbles is bounded: a count past the entry's size is read as
 * the size (ASan sees an overrun: the last entry ends the allocation), and a
 * slot is handed back as written, for the caller to check. */
static void test_pick_cache_bounds_scribbled_map(void **state)
{
	struct onvm_service_map *map = *state;
	struct onvm_pick_cache *cache = calloc(1, sizeof(*cache));
	assert_non_null(cache);
	const uint16_t last = ONVM_MAX_SERVICES - 1;
	struct onvm_service_entry *entry = &map->services[last];
	for (unsigned i = 0; i < ONVM_MAX_MEMBERS; i++) {
		entry->slots[i] = (uint16_t)(0xfff0u + (i & 7u));
		entry->keys[i] = 1000u + i;
	}
	entry->count = 0xffff;
	map->seq.sn += 2;
	struct test_pkt *pkt = make_pkt(1000);
	for (unsigned i = 0; i < 500; i++) {
		struct onvm_pkt_meta meta = {.flags = ONVM_META_F_HASHED, .flow_hash = hash_of(i)};
		int slot = onvm_pick_cache_pkt(cache, map, last, pkt->mbuf, &meta, 0);
		assert_int_equal(slot, onvm_service_map_pick(map, last, hash_of(i)));
		assert_false(onvm_member_slot_valid((unsigned)slot));
	}
	free_pkt(pkt);
	free(cache);
}

#define MAP_TEST(f) cmocka_unit_test_setup_teardown(f, setup_map, teardown_map)

int main(void)
{
	const struct CMUnitTest tests[] = {
	    MAP_TEST(test_init_empty),
	    MAP_TEST(test_add_count_pick),
	    MAP_TEST(test_pick_follows_rendezvous),
	    MAP_TEST(test_pick_deterministic),
	    MAP_TEST(test_out_of_range_service),
	    MAP_TEST(test_full_service_rejects_one_more),
	    MAP_TEST(test_remove_non_member_fails),
	    MAP_TEST(test_remove_last_member_empties),
	    MAP_TEST(test_pick_returns_only_current_members),
	    MAP_TEST(test_remove_moves_only_removed_members_flows),
	    MAP_TEST(test_seq_even_over_mixed_operations),
	    MAP_TEST(test_pick_pkt_empty_and_invalid),
	    MAP_TEST(test_pick_pkt_single_member_skips_hash),
	    MAP_TEST(test_pick_pkt_hashes_once_and_matches_pick),
	    MAP_TEST(test_pick_pkt_uses_kept_hash),
	    MAP_TEST(test_pick_pkt_ignores_rss_hash),
	    MAP_TEST(test_count_written_by_an_nf_is_clamped),
	    MAP_TEST(test_pick_cache_follows_the_map),
	    MAP_TEST(test_pick_cache_sees_a_new_member_at_once),
	    MAP_TEST(test_pick_cache_local_only),
	    MAP_TEST(test_pick_cache_single_member_and_bad_service),
	    MAP_TEST(test_pick_cache_bounds_scribbled_map),
	    MAP_TEST(test_pick_cache_way_follows_the_map),
	    cmocka_unit_test(test_member_slot_validity),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
