/* SPDX-License-Identifier: BSD-3-Clause */
/* test_nflib_flow.c - unit tests for flow hashing and rendezvous choice (nflib/onvm_flow.c). */
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
#include <rte_tcp.h>
#include <rte_udp.h>

#include "onvm_flow.h"

#define NB_FLOWS  100000
#define FRAME_MAX 256

/*
 * Frames are built IP_ALIGN bytes into 8-byte aligned storage, as NIC drivers
 * often do, so that the IP addresses and L4 ports are naturally aligned.
 * test_hash_frame_at_mbuf_data_alignment covers frames at mbuf alignment.
 */
#define IP_ALIGN 2

struct flow {
	int ipv6;
	uint8_t proto;
	uint32_t src, dst; /* IPv4 address, or the last 4 bytes of the IPv6 one */
	uint16_t sport, dport;
	int vlan; /* add an 802.1Q tag */
	uint16_t vlan_id;
	uint16_t payload_len;
	uint8_t payload_byte;
};

struct frame {
	_Alignas(64) uint8_t storage[FRAME_MAX + 64];
	uint8_t *data;
	uint32_t len;
};

static uint32_t flow_hashes[NB_FLOWS];

/* ---- frame building ---- */

static uint8_t *put_ether(uint8_t *at, const struct flow *flow, uint16_t ether_type)
{
	struct rte_ether_hdr eth = {
	    .dst_addr = {{0x02, 0, 0, 0, 0, 0x01}},
	    .src_addr = {{0x02, 0, 0, 0, 0, 0x02}},
	};
	if (flow->vlan) {
		eth.ether_type = rte_cpu_to_be_16(RTE_ETHER_TYPE_VLAN);
		memcpy(at, &eth, sizeof(eth));
		at += sizeof(eth);
		uint16_t tag[2] = {rte_cpu_to_be_16(flow->vlan_id), rte_cpu_to_be_16(ether_type)};
		memcpy(at, tag, sizeof(tag));
		return at + sizeof(tag);
	}
	eth.ether_type = rte_cpu_to_be_16(ether_type);
	memcpy(at, &eth, sizeof(eth));
	return at + sizeof(eth);
}

static uint8_t *put_l4(uint8_t *at, const struct flow *flow)
{
	if (flow->proto == IPPROTO_TCP) {
		struct rte_tcp_hdr tcp = {
		    .src_port = rte_cpu_to_be_16(flow->sport),
		    .dst_port = rte_cpu_to_be_16(flow->dport),
		    .data_off = 0x50,
		};
		memcpy(at, &tcp, sizeof(tcp));
		return at + sizeof(tcp);
	}
	struct rte_udp_hdr udp = {
	    .src_port = rte_cpu_to_be_16(flow->sport),
	    .dst_port = rte_cpu_to_be_16(flow->dport),
	    .dgram_len = rte_cpu_to_be_16((uint16_t)(sizeof(udp) + flow->payload_len)),
	};
	memcpy(at, &udp, sizeof(udp));
	return at + sizeof(udp);
}

static uint16_t l4_len(const struct flow *flow)
{
	return (uint16_t)((flow->proto == IPPROTO_TCP ? sizeof(struct rte_tcp_hdr)
						      : sizeof(struct rte_udp_hdr)) +
			  flow->payload_len);
}

static uint8_t *put_ip(uint8_t *at, const struct flow *flow)
{
	if (flow->ipv6) {
		struct rte_ipv6_hdr ip6 = {
		    .vtc_flow = rte_cpu_to_be_32(6u << 28),
		    .payload_len = rte_cpu_to_be_16(l4_len(flow)),
		    .proto = flow->proto,
		    .hop_limits = 64,
		    .src_addr = {0xfd, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0},
		    .dst_addr = {0xfd, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0},
		};
		uint32_t src = rte_cpu_to_be_32(flow->src), dst = rte_cpu_to_be_32(flow->dst);
		memcpy(&ip6.src_addr[12], &src, 4);
		memcpy(&ip6.dst_addr[12], &dst, 4);
		memcpy(at, &ip6, sizeof(ip6));
		return at + sizeof(ip6);
	}
	struct rte_ipv4_hdr ip = {
	    .version_ihl = RTE_IPV4_VHL_DEF,
	    .total_length = rte_cpu_to_be_16((uint16_t)(sizeof(ip) + l4_len(flow))),
	    .time_to_live = 64,
	    .next_proto_id = flow->proto,
	    .src_addr = rte_cpu_to_be_32(flow->src),
	    .dst_addr = rte_cpu_to_be_32(flow->dst),
	};
	memcpy(at, &ip, sizeof(ip));
	return at + sizeof(ip);
}

/* Build flow's frame offset bytes into the frame's aligned storage. */
static void build_at(struct frame *frame, const struct flow *flow, size_t offset)
{
	memset(frame->storage, 0xee, sizeof(frame->storage));
	frame->data = frame->storage + offset;
	uint8_t *at =
	    put_ether(frame->data, flow, flow->ipv6 ? RTE_ETHER_TYPE_IPV6 : RTE_ETHER_TYPE_IPV4);
	at = put_ip(at, flow);
	at = put_l4(at, flow);
	assert_true(at + flow->payload_len <= frame->storage + sizeof(frame->storage));
	memset(at, flow->payload_byte, flow->payload_len);
	frame->len = (uint32_t)(at + flow->payload_len - frame->data);
}

static void build(struct frame *frame, const struct flow *flow)
{
	build_at(frame, flow, IP_ALIGN);
}

static uint32_t hash_flow(const struct flow *flow)
{
	struct frame frame;
	build(&frame, flow);
	return onvm_flow_hash_frame(frame.data, frame.len);
}

/*
 * Hash len bytes copied offset bytes into a buffer that ends exactly where the
 * frame does, so ASan catches any read past the frame's end.  Frames too short
 * for their IP header are hashed by their Ethernet header and want offset 0
 * (8-byte aligned), others IP_ALIGN (see above).
 */
static uint32_t hash_exact(const uint8_t *data, uint32_t len, size_t offset)
{
	size_t size = offset + len;
	uint8_t *buffer = malloc(size ? size : 1);
	assert_non_null(buffer);
	memcpy(buffer + offset, data, len);
	uint32_t hash = onvm_flow_hash_frame(buffer + offset, len);
	free(buffer);
	return hash;
}

static struct flow udp4(uint32_t src, uint32_t dst, uint16_t sport, uint16_t dport)
{
	struct flow flow = {.proto = IPPROTO_UDP,
			    .src = src,
			    .dst = dst,
			    .sport = sport,
			    .dport = dport,
			    .payload_len = 18,
			    .payload_byte = 0x11};
	return flow;
}

/* Distinct hashes among n source ports of one flow template. */
static unsigned distinct_over_sport(struct flow flow, unsigned n)
{
	uint32_t *hashes = calloc(n, sizeof(*hashes));
	assert_non_null(hashes);
	unsigned distinct = 0;
	for (unsigned i = 0; i < n; i++) {
		flow.sport = (uint16_t)(1024 + i);
		hashes[i] = hash_flow(&flow);
		int seen = 0;
		for (unsigned j = 0; j < i && !seen; j++)
			seen = hashes[j] == hashes[i];
		distinct += !seen;
	}
	free(hashes);
	return distinct;
}

static int setup_flow_hashes(void **state)
{
	(void)state;
	for (uint32_t i = 0; i < NB_FLOWS; i++) {
		struct flow flow = udp4(0x0a000000u | (i >> 4), 0x0a640001u,
					(uint16_t)(1024 + (i & 0xf) * 1000 + (i % 7)), 80);
		flow_hashes[i] = hash_flow(&flow);
	}
	return 0;
}

/* ---- onvm_flow_hash_frame ---- */

static void check_same_tuple_same_hash(struct flow flow)
{
	uint32_t hash = hash_flow(&flow);
	assert_int_equal(hash_flow(&flow), hash);
	/* Payload contents and length are not part of the flow. */
	flow.payload_byte = 0x5a;
	assert_int_equal(hash_flow(&flow), hash);
	flow.payload_len = 100;
	assert_int_equal(hash_flow(&flow), hash);
	flow.payload_len = 0;
	assert_int_equal(hash_flow(&flow), hash);
}

static void check_tuple_fields_matter(struct flow flow)
{
	uint32_t hash = hash_flow(&flow);
	struct flow changed = flow;
	changed.sport++;
	assert_int_not_equal(hash_flow(&changed), hash);
	changed = flow;
	changed.dport++;
	assert_int_not_equal(hash_flow(&changed), hash);
	changed = flow;
	changed.src++;
	assert_int_not_equal(hash_flow(&changed), hash);
	changed = flow;
	changed.dst ^= 0x100;
	assert_int_not_equal(hash_flow(&changed), hash);
	assert_true(distinct_over_sport(flow, 2000) >= 1998);
}

static void test_ipv4_udp(void **state)
{
	(void)state;
	struct flow flow = udp4(0x0a000001, 0x0a000002, 40000, 53);
	check_same_tuple_same_hash(flow);
	check_tuple_fields_matter(flow);
}

static void test_ipv4_tcp(void **state)
{
	(void)state;
	struct flow flow = udp4(0xc0a80001, 0xc0a80002, 51000, 443);
	flow.proto = IPPROTO_TCP;
	check_same_tuple_same_hash(flow);
	check_tuple_fields_matter(flow);

	struct flow udp = flow;
	udp.proto = IPPROTO_UDP;
	assert_int_not_equal(hash_flow(&udp), hash_flow(&flow));
}

static void test_ipv6_udp(void **state)
{
	(void)state;
	struct flow flow = udp4(1, 2, 5353, 5353);
	flow.ipv6 = 1;
	check_same_tuple_same_hash(flow);
	check_tuple_fields_matter(flow);

	struct flow v4 = flow;
	v4.ipv6 = 0;
	assert_int_not_equal(hash_flow(&v4), hash_flow(&flow));
}

static void test_ipv6_tcp(void **state)
{
	(void)state;
	struct flow flow = udp4(7, 8, 33000, 22);
	flow.ipv6 = 1;
	flow.proto = IPPROTO_TCP;
	check_same_tuple_same_hash(flow);
	check_tuple_fields_matter(flow);
}

static void test_vlan_ipv4_is_the_same_flow(void **state)
{
	(void)state;
	struct flow flow = udp4(0x0a000001, 0x0a000002, 40000, 53);
	flow.vlan = 1;
	flow.vlan_id = 100;
	check_same_tuple_same_hash(flow);
	check_tuple_fields_matter(flow);

	/* The tag is skipped: the 5-tuple alone is the flow. */
	uint32_t tagged = hash_flow(&flow);
	flow.vlan_id = 200;
	assert_int_equal(hash_flow(&flow), tagged);
	flow.vlan = 0;
	assert_int_equal(hash_flow(&flow), tagged);
}

static void test_non_ip_frame(void **state)
{
	(void)state;
	_Alignas(8) uint8_t arp[60];
	memset(arp, 0, sizeof(arp));
	static const uint8_t header[] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x02,
					 0,    0,    0,	   0,	 0x07, 0x08, 0x06};
	memcpy(arp, header, sizeof(header));
	memset(arp + sizeof(header), 0x33, sizeof(arp) - sizeof(header));

	uint32_t hash = onvm_flow_hash_frame(arp, sizeof(arp));
	assert_int_equal(onvm_flow_hash_frame(arp, sizeof(arp)), hash);
	/* Only the MAC pair and type are the flow: the body and length do not matter. */
	memset(arp + sizeof(header), 0x44, sizeof(arp) - sizeof(header));
	assert_int_equal(onvm_flow_hash_frame(arp, sizeof(arp)), hash);
	assert_int_equal(onvm_flow_hash_frame(arp, 42), hash);
	assert_int_equal(hash_exact(arp, sizeof(header), 0), hash);
	/* Another sender is another flow. */
	arp[11] = 0x09;
	assert_int_not_equal(onvm_flow_hash_frame(arp, sizeof(arp)), hash);
}

static void test_short_frames_do_not_crash(void **state)
{
	(void)state;
	_Alignas(8) uint8_t bytes[16];
	for (unsigned i = 0; i < sizeof(bytes); i++)
		bytes[i] = (uint8_t)(i * 37 + 1);
	uint32_t ten = hash_exact(bytes, 10, 0);
	assert_int_equal(hash_exact(bytes, 10, 0), ten);
	bytes[9] ^= 0xff;
	assert_int_not_equal(hash_exact(bytes, 10, 0), ten);
	for (uint32_t len = 0; len < sizeof(struct rte_ether_hdr); len++)
		assert_int_equal(hash_exact(bytes, len, 0), onvm_flow_hash_frame(bytes, len));
}

/* Bytes from the frame's start to the end of its IP header. */
static uint32_t l3_end(const struct flow *flow)
{
	return (uint32_t)(sizeof(struct rte_ether_hdr) + (flow->vlan ? 4 : 0) +
			  (flow->ipv6 ? sizeof(struct rte_ipv6_hdr) : sizeof(struct rte_ipv4_hdr)));
}

static uint32_t hash_prefix(const struct flow *flow, const struct frame *frame, uint32_t len)
{
	return hash_exact(frame->data, len, len < l3_end(flow) ? 0 : IP_ALIGN);
}

/* Every prefix of flow's frame hashes without reading past its end, and the
 * prefixes that hold the whole 5-tuple hash like the whole frame. */
static void check_all_prefixes(const struct flow *flow)
{
	struct frame frame;
	build(&frame, flow);
	uint32_t whole = onvm_flow_hash_frame(frame.data, frame.len);
	uint32_t with_ports = l3_end(flow) + 4;
	for (uint32_t len = 0; len <= frame.len; len++) {
		uint32_t hash = hash_prefix(flow, &frame, len);
		assert_int_equal(hash_prefix(flow, &frame, len), hash);
		if (len >= with_ports)
			assert_int_equal(hash, whole);
		else if (len >= sizeof(struct rte_ether_hdr))
			assert_int_not_equal(hash, whole);
	}
}

static void test_truncated_ip_frames(void **state)
{
	(void)state;
	struct flow flow = udp4(0x0a000001, 0x0a000002, 40000, 53);
	check_all_prefixes(&flow);
	flow.proto = IPPROTO_TCP;
	check_all_prefixes(&flow);
	flow.vlan = 1;
	check_all_prefixes(&flow);
	flow.vlan = 0;
	flow.ipv6 = 1;
	check_all_prefixes(&flow);
}

static void test_ipv4_header_cut_short(void **state)
{
	(void)state;
	struct flow flow = udp4(0x0a000001, 0x0a000002, 40000, 53);
	struct frame frame;
	build(&frame, &flow);
	uint32_t cut = sizeof(struct rte_ether_hdr) + 10;
	uint32_t hash = hash_exact(frame.data, cut, 0);
	/* Without a whole IP header the frame is hashed by its Ethernet header. */
	flow.src = 0x0b000001;
	build(&frame, &flow);
	assert_int_equal(hash_exact(frame.data, cut, 0), hash);

	/* Ports cut off: the addresses still make the flow, the ports do not. */
	uint32_t no_ports = sizeof(struct rte_ether_hdr) + sizeof(struct rte_ipv4_hdr) + 2;
	hash = hash_exact(frame.data, no_ports, IP_ALIGN);
	flow.sport = 1;
	build(&frame, &flow);
	assert_int_equal(hash_exact(frame.data, no_ports, IP_ALIGN), hash);
	flow.dst = 0x0c000001;
	build(&frame, &flow);
	assert_int_not_equal(hash_exact(frame.data, no_ports, IP_ALIGN), hash);
}

static void test_ipv4_bad_header_length(void **state)
{
	(void)state;
	struct flow flow = udp4(0x0a000001, 0x0a000002, 40000, 53);
	struct frame frame;
	build(&frame, &flow);
	struct rte_ipv4_hdr *ip = (void *)(frame.data + sizeof(struct rte_ether_hdr));
	ip->version_ihl = 0x4f; /* 60-byte header: past this frame's end */
	uint32_t hash = hash_exact(frame.data, frame.len, IP_ALIGN);
	assert_int_equal(hash_exact(frame.data, frame.len, IP_ALIGN), hash);
	ip->version_ihl = 0x40; /* 0-byte header */
	assert_int_equal(hash_exact(frame.data, frame.len, IP_ALIGN),
			 hash_exact(frame.data, frame.len, IP_ALIGN));
}

static int compare_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
	return (x > y) - (x < y);
}

static void test_flow_hashes_spread(void **state)
{
	(void)state;
	uint32_t *sorted = malloc(sizeof(flow_hashes));
	assert_non_null(sorted);
	memcpy(sorted, flow_hashes, sizeof(flow_hashes));
	qsort(sorted, NB_FLOWS, sizeof(*sorted), compare_u32);
	unsigned distinct = 1;
	for (unsigned i = 1; i < NB_FLOWS; i++)
		distinct += sorted[i] != sorted[i - 1];
	free(sorted);
	/* 100000 random 32-bit values collide about once. */
	assert_true(distinct >= NB_FLOWS - 20);

	unsigned buckets[16] = {0};
	for (unsigned i = 0; i < NB_FLOWS; i++)
		buckets[flow_hashes[i] >> 28]++;
	for (unsigned b = 0; b < 16; b++)
		assert_in_range(buckets[b], NB_FLOWS / 16 * 9 / 10, NB_FLOWS / 16 * 11 / 10);
}

/* ---- onvm_rendezvous_pick ---- */

static void test_pick_empty(void **state)
{
	(void)state;
	static const uint64_t keys[] = {1, 2};
	assert_int_equal(onvm_rendezvous_pick(1234, keys, 0), -1);
	assert_int_equal(onvm_rendezvous_pick(1234, NULL, 0), -1);
}

static void test_pick_single_and_deterministic(void **state)
{
	(void)state;
	static const uint64_t one[] = {42};
	static const uint64_t keys[] = {11, 22, 33, 44, 55};
	for (unsigned i = 0; i < 1000; i++) {
		assert_int_equal(onvm_rendezvous_pick(flow_hashes[i], one, 1), 0);
		int pick = onvm_rendezvous_pick(flow_hashes[i], keys, 5);
		assert_in_range(pick, 0, 4);
		assert_int_equal(onvm_rendezvous_pick(flow_hashes[i], keys, 5), pick);
		assert_int_equal(onvm_rendezvous_score(flow_hashes[i], keys[2]),
				 onvm_rendezvous_score(flow_hashes[i], keys[2]));
	}
	assert_int_not_equal(onvm_rendezvous_score(1, 1), onvm_rendezvous_score(1, 2));
	assert_int_not_equal(onvm_rendezvous_score(1, 1), onvm_rendezvous_score(2, 1));
}

static void test_pick_ignores_member_order(void **state)
{
	(void)state;
	static const uint64_t keys[] = {3, 9, 27, 81};
	static const uint64_t reversed[] = {81, 27, 9, 3};
	for (unsigned i = 0; i < NB_FLOWS; i += 7) {
		int a = onvm_rendezvous_pick(flow_hashes[i], keys, 4);
		int b = onvm_rendezvous_pick(flow_hashes[i], reversed, 4);
		assert_int_equal(keys[a], reversed[b]);
	}
}

/* Member key serving each flow for a key set. */
static void pick_all(const uint64_t *keys, unsigned count, uint64_t *chosen)
{
	for (unsigned i = 0; i < NB_FLOWS; i++) {
		int index = onvm_rendezvous_pick(flow_hashes[i], keys, count);
		assert_in_range(index, 0, count - 1);
		chosen[i] = keys[index];
	}
}

/* Percentage of flows that moved from before to after; every moved flow must
 * have moved to new_key (or, when new_key is 0, away from old_key). */
static double moved_percent(const uint64_t *before, const uint64_t *after, uint64_t new_key,
			    uint64_t old_key)
{
	unsigned moved = 0;
	for (unsigned i = 0; i < NB_FLOWS; i++) {
		if (before[i] == after[i])
			continue;
		moved++;
		if (new_key != 0 && after[i] != new_key)
			fail_msg("flow %u moved from %llu to %llu, not to the new member %llu", i,
				 (unsigned long long)before[i], (unsigned long long)after[i],
				 (unsigned long long)new_key);
		if (old_key != 0 && before[i] != old_key)
			fail_msg("flow %u moved off %llu, which was not removed", i,
				 (unsigned long long)before[i]);
	}
	return 100.0 * moved / NB_FLOWS;
}

static void assert_percent_in(double percent, double low, double high)
{
	if (percent < low || percent > high)
		fail_msg("%.2f%% of flows moved, expected %.0f..%.0f%%", percent, low, high);
}

static void test_adding_second_member_moves_half(void **state)
{
	(void)state;
	static const uint64_t keys[] = {1, 2};
	uint64_t *before = malloc(NB_FLOWS * sizeof(uint64_t));
	uint64_t *after = malloc(NB_FLOWS * sizeof(uint64_t));
	assert_non_null(before);
	assert_non_null(after);
	pick_all(keys, 1, before);
	pick_all(keys, 2, after);
	assert_percent_in(moved_percent(before, after, 2, 0), 40, 60);
	free(before);
	free(after);
}

static void test_adding_fourth_member_moves_quarter(void **state)
{
	(void)state;
	static const uint64_t keys[] = {1, 2, 3, 4};
	uint64_t *before = malloc(NB_FLOWS * sizeof(uint64_t));
	uint64_t *after = malloc(NB_FLOWS * sizeof(uint64_t));
	assert_non_null(before);
	assert_non_null(after);
	pick_all(keys, 3, before);
	pick_all(keys, 4, after);
	assert_percent_in(moved_percent(before, after, 4, 0), 20, 30);
	free(before);
	free(after);
}

static void test_removing_member_moves_only_its_flows(void **state)
{
	(void)state;
	static const uint64_t all[] = {1, 2, 3, 4};
	static const uint64_t without_3[] = {1, 2, 4};
	uint64_t *before = malloc(NB_FLOWS * sizeof(uint64_t));
	uint64_t *after = malloc(NB_FLOWS * sizeof(uint64_t));
	assert_non_null(before);
	assert_non_null(after);
	pick_all(all, 4, before);
	pick_all(without_3, 3, after);
	unsigned on_3 = 0;
	for (unsigned i = 0; i < NB_FLOWS; i++)
		on_3 += before[i] == 3;
	double moved = moved_percent(before, after, 0, 3);
	assert_true(moved == 100.0 * on_3 / NB_FLOWS); /* all of member 3's flows moved */
	assert_percent_in(moved, 20, 30);
	free(before);
	free(after);
}

static void test_four_members_balanced(void **state)
{
	(void)state;
	static const uint64_t keys[] = {1, 2, 3, 4};
	unsigned per_member[4] = {0};
	for (unsigned i = 0; i < NB_FLOWS; i++)
		per_member[onvm_rendezvous_pick(flow_hashes[i], keys, 4)]++;
	for (unsigned m = 0; m < 4; m++)
		assert_percent_in(100.0 * per_member[m] / NB_FLOWS, 20, 30);
}

static void test_large_instance_keys_balanced(void **state)
{
	/* Instance ids far apart, as a long-running manager hands them out. */
	(void)state;
	static const uint64_t keys[] = {7, 1000, 65536, 1ull << 40};
	unsigned per_member[4] = {0};
	for (unsigned i = 0; i < NB_FLOWS; i++)
		per_member[onvm_rendezvous_pick(flow_hashes[i], keys, 4)]++;
	for (unsigned m = 0; m < 4; m++)
		assert_percent_in(100.0 * per_member[m] / NB_FLOWS, 20, 30);
}

/* ---- alignment ---- */

static void test_hash_frame_at_mbuf_data_alignment(void **state)
{
	/* An mbuf's data starts at a cache-line aligned headroom, so the frame
	 * itself is 64-byte aligned and the IPv4 ports (offset 34) and IPv6
	 * addresses (offset 22) are not naturally aligned.  The hash must be the
	 * same as for the same frame elsewhere (and, under UBSan, must not make
	 * misaligned loads). */
	(void)state;
	struct flow flows[3] = {udp4(0x0a000001, 0x0a000002, 40000, 53),
				udp4(0x0a000001, 0x0a000002, 40000, 53),
				udp4(0x0a000001, 0x0a000002, 40000, 53)};
	flows[1].proto = IPPROTO_TCP;
	flows[2].ipv6 = 1;
	for (unsigned i = 0; i < 3; i++) {
		struct frame frame;
		uint32_t expected = hash_flow(&flows[i]);
		build_at(&frame, &flows[i], 0);
		assert_int_equal(onvm_flow_hash_frame(frame.data, frame.len), expected);
	}
}

/* An RSS hash in the mbuf (a NIC's, or the outer one kept after
 * decapsulation) changes nothing: the hash is the frame's, as on a host
 * whose NIC gives none. */
static void test_nic_rss_hash_is_ignored(void **state)
{
	(void)state;
	static uint8_t storage[RTE_PKTMBUF_HEADROOM + 256] __attribute__((aligned(64)));
	struct flow a = udp4(0x0a000001, 0x0a000002, 40000, 53);
	struct flow b = udp4(0x0a000003, 0x0a000004, 40001, 53);
	struct frame frame_a, frame_b;
	build_at(&frame_a, &a, 0);
	build_at(&frame_b, &b, 0);
	struct rte_mbuf pkt;
	memset(&pkt, 0, sizeof(pkt));
	pkt.buf_addr = storage;
	pkt.data_off = RTE_PKTMBUF_HEADROOM;
	pkt.ol_flags = RTE_MBUF_F_RX_RSS_HASH;
	pkt.hash.rss = 0x12345678; /* the same outer hash for both flows */

	memcpy(storage + RTE_PKTMBUF_HEADROOM, frame_a.data, frame_a.len);
	pkt.data_len = (uint16_t)frame_a.len;
	uint32_t hash_a = onvm_flow_hash(&pkt);
	assert_int_equal(hash_a, onvm_flow_hash_frame(frame_a.data, frame_a.len));
	memcpy(storage + RTE_PKTMBUF_HEADROOM, frame_b.data, frame_b.len);
	pkt.data_len = (uint16_t)frame_b.len;
	uint32_t hash_b = onvm_flow_hash(&pkt);
	assert_int_equal(hash_b, onvm_flow_hash_frame(frame_b.data, frame_b.len));
	assert_int_not_equal(hash_a, hash_b);
	assert_int_not_equal(hash_a, 0x12345678);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_nic_rss_hash_is_ignored),
	    cmocka_unit_test(test_ipv4_udp),
	    cmocka_unit_test(test_ipv4_tcp),
	    cmocka_unit_test(test_ipv6_udp),
	    cmocka_unit_test(test_ipv6_tcp),
	    cmocka_unit_test(test_vlan_ipv4_is_the_same_flow),
	    cmocka_unit_test(test_non_ip_frame),
	    cmocka_unit_test(test_short_frames_do_not_crash),
	    cmocka_unit_test(test_truncated_ip_frames),
	    cmocka_unit_test(test_ipv4_header_cut_short),
	    cmocka_unit_test(test_ipv4_bad_header_length),
	    cmocka_unit_test(test_flow_hashes_spread),
	    cmocka_unit_test(test_pick_empty),
	    cmocka_unit_test(test_pick_single_and_deterministic),
	    cmocka_unit_test(test_pick_ignores_member_order),
	    cmocka_unit_test(test_adding_second_member_moves_half),
	    cmocka_unit_test(test_adding_fourth_member_moves_quarter),
	    cmocka_unit_test(test_removing_member_moves_only_its_flows),
	    cmocka_unit_test(test_four_members_balanced),
	    cmocka_unit_test(test_large_instance_keys_balanced),
	    /* Last: under UBSan a misaligned load aborts the whole run. */
	    cmocka_unit_test(test_hash_frame_at_mbuf_data_alignment),
	};
	return cmocka_run_group_tests(tests, setup_flow_hashes, NULL);
}
