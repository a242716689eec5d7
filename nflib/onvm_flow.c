/* SPDX-License-Identifier: BSD-3-Clause */
/* onvm_flow.c - flow hashing and rendezvous choice (see onvm_flow.h). */
#include <stddef.h>
#include <string.h>

#include <rte_byteorder.h>
#include <rte_ether.h>
#include <rte_hash_crc.h>
#include <rte_ip.h>
#include <rte_mbuf.h>

#include "onvm_flow.h"

#define FLOW_HASH_SEED 0x9e3779b9U

/* CRC of bytes at any alignment (frame data is often only 2-byte aligned). */
static uint32_t crc_bytes(const uint8_t *bytes, unsigned length, uint32_t hash)
{
	uint32_t word;
	for (; length >= 4; bytes += 4, length -= 4) {
		memcpy(&word, bytes, sizeof(word));
		hash = rte_hash_crc_4byte(word, hash);
	}
	for (; length > 0; bytes++, length--)
		hash = rte_hash_crc_1byte(*bytes, hash);
	return hash;
}

static uint32_t hash_l4_ports(const uint8_t *l4, const uint8_t *end, uint8_t proto, uint32_t hash)
{
	if ((proto == IPPROTO_TCP || proto == IPPROTO_UDP || proto == IPPROTO_SCTP) &&
	    l4 + 4 <= end)
		hash = crc_bytes(l4, 4, hash);
	return rte_hash_crc_1byte(proto, hash);
}

uint32_t onvm_flow_hash_frame(const uint8_t *frame, uint32_t len)
{
	const uint8_t *end = frame + len;
	uint32_t hash = FLOW_HASH_SEED;

	if (len < sizeof(struct rte_ether_hdr))
		return crc_bytes(frame, len, hash);

	const struct rte_ether_hdr *eth = (const void *)frame;
	uint16_t ether_type = rte_be_to_cpu_16(eth->ether_type);
	const uint8_t *l3 = frame + sizeof(*eth);
	if (ether_type == RTE_ETHER_TYPE_VLAN && l3 + 4 <= end) {
		uint16_t inner_type;
		memcpy(&inner_type, l3 + 2, sizeof(inner_type));
		ether_type = rte_be_to_cpu_16(inner_type);
		l3 += 4;
	}

	if (ether_type == RTE_ETHER_TYPE_IPV4 && l3 + sizeof(struct rte_ipv4_hdr) <= end) {
		const struct rte_ipv4_hdr *ip = (const void *)l3;
		unsigned header_len = (ip->version_ihl & 0x0f) * 4u;
		hash = crc_bytes(l3 + offsetof(struct rte_ipv4_hdr, src_addr), 8, hash);
		return hash_l4_ports(l3 + header_len, end, ip->next_proto_id, hash);
	}
	if (ether_type == RTE_ETHER_TYPE_IPV6 && l3 + sizeof(struct rte_ipv6_hdr) <= end) {
		const struct rte_ipv6_hdr *ip6 = (const void *)l3;
		hash = crc_bytes(ip6->src_addr, 32, hash); /* source and destination */
		return hash_l4_ports(l3 + sizeof(*ip6), end, ip6->proto, hash);
	}
	/* Not IP: the MAC pair and type are the flow. */
	return crc_bytes(frame, sizeof(struct rte_ether_hdr), hash);
}

/* Never the NIC's RSS hash: it is another function on every NIC (or none),
 * and after decapsulation it is still the outer host pair's, so hosts would
 * disagree on a flow's instance and every tunnelled flow would share one. */
uint32_t onvm_flow_hash(struct rte_mbuf *pkt)
{
	return onvm_flow_hash_frame(rte_pktmbuf_mtod(pkt, const uint8_t *),
				    rte_pktmbuf_data_len(pkt));
}

/* splitmix64's finaliser: cheap, and every input bit reaches every output bit. */
static inline uint64_t mix64(uint64_t value)
{
	value ^= value >> 30;
	value *= 0xbf58476d1ce4e5b9ULL;
	value ^= value >> 27;
	value *= 0x94d049bb133111ebULL;
	value ^= value >> 31;
	return value;
}

uint64_t onvm_rendezvous_score(uint32_t flow_hash, uint64_t member_key)
{
	return mix64(mix64(member_key) ^ ((uint64_t)flow_hash * 0x9e3779b97f4a7c15ULL));
}

int onvm_rendezvous_pick(uint32_t flow_hash, const uint64_t *keys, unsigned count)
{
	int best = -1;
	uint64_t best_score = 0;

	for (unsigned i = 0; i < count; i++) {
		uint64_t score = onvm_rendezvous_score(flow_hash, keys[i]);
		if (best < 0 || score > best_score) {
			best = (int)i;
			best_score = score;
		}
	}
	return best;
}

uint32_t onvm_host_hash(const char *name)
{
	uint32_t hash = 2166136261u;
	for (const unsigned char *c = (const unsigned char *)name; *c; c++) {
		hash ^= *c;
		hash *= 16777619u;
	}
	return hash;
}
