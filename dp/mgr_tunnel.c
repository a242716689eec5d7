/* SPDX-License-Identifier: BSD-3-Clause */
/* mgr_tunnel.c - VXLAN encapsulation between hosts (see mgr_tunnel.h). */
#include <string.h>

#include <rte_byteorder.h>
#include <rte_mbuf.h>

#include "mgr_tunnel.h"
#include "onvm_flow.h"

#define VXLAN_FLAG_VNI	0x08000000u /* the I flag: the VNI is valid */
#define SOURCE_PORT_MIN 49152u	    /* RFC 7348: flow entropy in the dynamic range */

struct outer_headers {
	struct rte_ether_hdr eth;
	struct rte_ipv4_hdr ip;
	struct rte_udp_hdr udp;
	struct rte_vxlan_hdr vxlan;
} __rte_packed __rte_aligned(2);

_Static_assert(sizeof(struct outer_headers) == MGR_VXLAN_OVERHEAD, "VXLAN header size");

void mgr_tunnel_init(struct mgr_tunnel *tunnel, uint16_t port, const uint8_t ip[4],
		     const struct rte_ether_addr *mac)
{
	tunnel->enabled = 1;
	tunnel->port = port;
	memcpy(tunnel->local.ip, ip, 4);
	tunnel->local.mac = *mac;
	tunnel->local.udp_port = MGR_TUNNEL_UDP_PORT;
}

static uint32_t ip_of(const uint8_t ip[4])
{
	uint32_t value;
	memcpy(&value, ip, 4); /* already in network order */
	return value;
}

/* Everything of the outer headers that does not depend on the packet. */
static void build_header(const struct mgr_tunnel *tunnel, const struct mgr_tunnel_endpoint *peer,
			 uint8_t *out)
{
	struct outer_headers headers;
	memset(&headers, 0, sizeof(headers));
	headers.eth.dst_addr = peer->mac;
	headers.eth.src_addr = tunnel->local.mac;
	headers.eth.ether_type = rte_cpu_to_be_16(RTE_ETHER_TYPE_IPV4);
	headers.ip.version_ihl = RTE_IPV4_VHL_DEF;
	headers.ip.fragment_offset = rte_cpu_to_be_16(RTE_IPV4_HDR_DF_FLAG);
	headers.ip.time_to_live = 64;
	headers.ip.next_proto_id = IPPROTO_UDP;
	headers.ip.src_addr = ip_of(tunnel->local.ip);
	headers.ip.dst_addr = ip_of(peer->ip);
	headers.udp.dst_port = rte_cpu_to_be_16(peer->udp_port);
	headers.vxlan.vx_flags = rte_cpu_to_be_32(VXLAN_FLAG_VNI);
	memcpy(out, &headers, sizeof(headers));
}

static int find_peer(const struct mgr_tunnel *tunnel, const char *host)
{
	for (unsigned i = 0; i < tunnel->nb_peers; i++)
		if (strcmp(tunnel->peers[i].host, host) == 0)
			return (int)i;
	return -1;
}

int mgr_tunnel_peer_set(struct mgr_tunnel *tunnel, const char *host,
			const struct mgr_tunnel_endpoint *endpoint)
{
	int index = find_peer(tunnel, host);
	if (index < 0) {
		if (tunnel->nb_peers >= ONVM_MAX_PEERS)
			return -1;
		index = (int)tunnel->nb_peers;
		snprintf(tunnel->peers[index].host, sizeof(tunnel->peers[index].host), "%s", host);
	}
	struct mgr_tunnel_peer *peer = &tunnel->peers[index];
	if (peer->in_use && memcmp(&peer->endpoint, endpoint, sizeof(*endpoint)) == 0)
		return index;

	__atomic_store_n(&peer->seq, peer->seq + 1, __ATOMIC_RELAXED);
	__atomic_thread_fence(__ATOMIC_RELEASE);
	peer->endpoint = *endpoint;
	build_header(tunnel, endpoint, peer->header);
	peer->in_use = 1;
	__atomic_store_n(&peer->seq, peer->seq + 1, __ATOMIC_RELEASE);
	if ((unsigned)index == tunnel->nb_peers)
		__atomic_store_n(&tunnel->nb_peers, tunnel->nb_peers + 1, __ATOMIC_RELEASE);
	return index;
}

void mgr_tunnel_peer_accept(struct mgr_tunnel *tunnel, int index, int accept)
{
	if (index >= 0 && (unsigned)index < tunnel->nb_peers)
		__atomic_store_n(&tunnel->peers[index].accepted, accept ? 1u : 0u,
				 __ATOMIC_RELEASE);
}

/* Whether an accepted peer has this (network order) address.  A scan: there
 * are at most ONVM_MAX_PEERS, and the tunnel carries hundreds of kpps. */
static int accepted_source(const struct mgr_tunnel *tunnel, rte_be32_t address)
{
	unsigned count = __atomic_load_n(&tunnel->nb_peers, __ATOMIC_ACQUIRE);
	for (unsigned i = 0; i < count; i++) {
		const struct mgr_tunnel_peer *peer = &tunnel->peers[i];
		if (__atomic_load_n(&peer->accepted, __ATOMIC_ACQUIRE) &&
		    ip_of(peer->endpoint.ip) == address)
			return 1;
	}
	return 0;
}

/* Copy the peer's header consistently; 0, or -1 when the peer is unknown. */
static int read_header(const struct mgr_tunnel *tunnel, unsigned index, uint8_t *out)
{
	if (index >= __atomic_load_n(&tunnel->nb_peers, __ATOMIC_ACQUIRE))
		return -1;
	const struct mgr_tunnel_peer *peer = &tunnel->peers[index];
	uint32_t seq;
	do {
		seq = __atomic_load_n(&peer->seq, __ATOMIC_ACQUIRE);
		memcpy(out, peer->header, MGR_VXLAN_OVERHEAD);
		__atomic_thread_fence(__ATOMIC_ACQUIRE);
	} while ((seq & 1u) || seq != __atomic_load_n(&peer->seq, __ATOMIC_RELAXED));
	return peer->in_use ? 0 : -1;
}

int mgr_tunnel_encap(struct mgr_tunnel *tunnel, struct rte_mbuf *pkt,
		     const struct onvm_pkt_meta *meta)
{
	uint32_t flow_hash =
	    (meta->flags & ONVM_META_F_HASHED) ? meta->flow_hash : onvm_flow_hash(pkt);
	uint32_t inner_len = rte_pktmbuf_pkt_len(pkt);
	struct outer_headers *outer =
	    (struct outer_headers *)rte_pktmbuf_prepend(pkt, MGR_VXLAN_OVERHEAD);
	if (unlikely(outer == NULL))
		return -1;
	if (unlikely(read_header(tunnel, meta->peer, (uint8_t *)outer) < 0)) {
		rte_pktmbuf_adj(pkt, MGR_VXLAN_OVERHEAD);
		return -1;
	}
	uint32_t udp_len = inner_len + sizeof(outer->udp) + sizeof(outer->vxlan);
	outer->ip.total_length = rte_cpu_to_be_16((uint16_t)(udp_len + sizeof(outer->ip)));
	outer->ip.hdr_checksum = rte_ipv4_cksum(&outer->ip);
	/* The source port carries the inner flow, so the fabric can spread flows. */
	outer->udp.src_port = rte_cpu_to_be_16((uint16_t)(SOURCE_PORT_MIN | (flow_hash & 0x3fffu)));
	outer->udp.dgram_len = rte_cpu_to_be_16((uint16_t)udp_len);
	outer->udp.dgram_cksum = 0; /* optional over IPv4 (RFC 7348 section 5) */
	outer->vxlan.vx_vni = rte_cpu_to_be_32((uint32_t)meta->destination << 8);
	pkt->port = tunnel->port;
	return 0;
}

int mgr_tunnel_decap(const struct mgr_tunnel *tunnel, struct rte_mbuf *pkt)
{
	if (rte_pktmbuf_data_len(pkt) < MGR_VXLAN_OVERHEAD)
		return -1;
	const struct outer_headers *outer = rte_pktmbuf_mtod(pkt, const struct outer_headers *);
	if (outer->eth.ether_type != rte_cpu_to_be_16(RTE_ETHER_TYPE_IPV4))
		return -1;
	/* Options would move the UDP header; no tunnel endpoint sends them. */
	if (outer->ip.version_ihl != RTE_IPV4_VHL_DEF || outer->ip.next_proto_id != IPPROTO_UDP ||
	    outer->ip.dst_addr != ip_of(tunnel->local.ip) ||
	    !accepted_source(tunnel, outer->ip.src_addr))
		return -1;
	if (outer->ip.fragment_offset &
	    rte_cpu_to_be_16(RTE_IPV4_HDR_MF_FLAG | RTE_IPV4_HDR_OFFSET_MASK))
		return -1;
	if (outer->udp.dst_port != rte_cpu_to_be_16(tunnel->local.udp_port) ||
	    !(outer->vxlan.vx_flags & rte_cpu_to_be_32(VXLAN_FLAG_VNI)))
		return -1;
	uint32_t vni = rte_be_to_cpu_32(outer->vxlan.vx_vni) >> 8;
	if (vni == 0 || vni >= ONVM_MAX_SERVICES)
		return -1;
	rte_pktmbuf_adj(pkt, MGR_VXLAN_OVERHEAD);
	return (int)vni;
}

int mgr_tunnel_chain_pos(const struct onvm_port_info *info, uint16_t service)
{
	unsigned length = RTE_MIN(info->chain_len, (unsigned)ONVM_MAX_CHAIN);
	for (unsigned pos = 0; pos < length; pos++)
		if (info->chain[pos] == service)
			return (int)pos;
	return -1;
}
