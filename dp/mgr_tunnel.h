/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * mgr_tunnel.h - the inter-host tunnel: VXLAN (RFC 7348) on the port given
 * with -T PORT:IP.
 *
 * A packet whose service member lives on another host leaves through the
 * tunnel port inside Ethernet/IPv4/UDP/VXLAN headers, with the service id as
 * VNI; the host that receives it takes the headers off and hands the packet
 * to one of its own instances of that service.  Peers (the other hosts) are
 * numbered in a table whose index is their remote slot in the service map;
 * each holds a ready-made outer header.  The control thread writes the
 * table; the TX thread reads it under a per-peer sequence counter.
 */
#ifndef MGR_TUNNEL_H
#define MGR_TUNNEL_H

#include <stdint.h>

#include <rte_ether.h>
#include <rte_ip.h>
#include <rte_udp.h>
#include <rte_vxlan.h>

#include "onvm_common.h"

#define MGR_TUNNEL_UDP_PORT 4789 /* IANA's VXLAN port */
#define MGR_VXLAN_OVERHEAD                                                                         \
	(sizeof(struct rte_ether_hdr) + sizeof(struct rte_ipv4_hdr) + sizeof(struct rte_udp_hdr) + \
	 sizeof(struct rte_vxlan_hdr))

struct mgr_tunnel_endpoint {
	uint8_t ip[4];
	struct rte_ether_addr mac;
	uint16_t udp_port;
};

struct mgr_tunnel_peer {
	volatile uint32_t seq; /* odd while the header is being rewritten */
	uint32_t in_use;
	uint32_t accepted; /* control thread writes: frames from it are taken in */
	char host[64];
	struct mgr_tunnel_endpoint endpoint;
	uint8_t header[MGR_VXLAN_OVERHEAD]; /* lengths and checksum filled per packet */
};

/* Counters of the tunnel, one writer each (the RX or the TX thread). */
struct mgr_tunnel_counters {
	uint64_t encapsulated; /* packets sent to a peer */
	uint64_t encap_drops;  /* unknown peer, or no headroom */
	uint64_t decapsulated; /* packets received from a peer */
	uint64_t rx_rejects;   /* frames on the tunnel port that are not VXLAN for us */
	uint64_t rx_no_instance;
};

struct mgr_tunnel {
	int enabled;
	uint16_t port;
	struct mgr_tunnel_endpoint local;
	unsigned nb_peers;
	struct mgr_tunnel_peer peers[ONVM_MAX_PEERS];
	struct mgr_tunnel_counters tx_counters __rte_cache_aligned;
	struct mgr_tunnel_counters rx_counters __rte_cache_aligned;
};

/* Set the local endpoint (port, IPv4, MAC); UDP port 4789. */
void mgr_tunnel_init(struct mgr_tunnel *tunnel, uint16_t port, const uint8_t ip[4],
		     const struct rte_ether_addr *mac);

/*
 * Control thread: the index of host's peer entry, created or updated with
 * this endpoint; -1 when the table is full.  An index is never given to
 * another host while the manager runs.
 */
int mgr_tunnel_peer_set(struct mgr_tunnel *tunnel, const char *host,
			const struct mgr_tunnel_endpoint *endpoint);

/* Control thread: take frames from peer index in (accept), or not.  Only
 * a usable peer's outer source address gets through decapsulation. */
void mgr_tunnel_peer_accept(struct mgr_tunnel *tunnel, int index, int accept);

/* TX thread: wrap pkt for the peer in meta->peer with meta->destination as
 * VNI.  0, or -1 when the peer is unknown or the mbuf has no headroom (the
 * caller frees it). */
int mgr_tunnel_encap(struct mgr_tunnel *tunnel, struct rte_mbuf *pkt,
		     const struct onvm_pkt_meta *meta);

/* RX thread: strip the VXLAN headers of a frame addressed to this host by
 * a peer it accepts.  Returns the service (the VNI), or -1 when the frame is
 * not VXLAN for us from an accepted peer. */
int mgr_tunnel_decap(const struct mgr_tunnel *tunnel, struct rte_mbuf *pkt);

/* Where in the tunnel port's chain a packet for service continues: at the
 * service, or -1 when the chain does not name it.  A peer may only send
 * what this host's tunnel chain serves: another VNI would be handed to an
 * NF and sent out with no chain to follow. */
int mgr_tunnel_chain_pos(const struct onvm_port_info *info, uint16_t service);

#endif
