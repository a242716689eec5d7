/* SPDX-License-Identifier: BSD-3-Clause */
/* onvm_pkt.c - test traffic frames (see onvm_pkt.h). */
#include <string.h>

#include <rte_ether.h>
#include <rte_ip.h>
#include <rte_udp.h>

#include "onvm_pkt.h"

int onvm_pkt_fill_udp(struct rte_mbuf *pkt, uint32_t flow, uint16_t frame_len)
{
	if (frame_len < ONVM_PKT_MIN_LEN || frame_len > ONVM_PKT_MAX_LEN ||
	    frame_len > rte_pktmbuf_tailroom(pkt))
		return -1;
	uint8_t *frame = (uint8_t *)rte_pktmbuf_append(pkt, frame_len);
	if (frame == NULL)
		return -1;
	memset(frame, 0, frame_len);

	struct rte_ether_hdr *eth = (void *)frame;
	static const struct rte_ether_addr src_mac = {{0x02, 0, 0, 0, 0, 0x01}};
	static const struct rte_ether_addr dst_mac = {{0x02, 0, 0, 0, 0, 0x02}};
	rte_ether_addr_copy(&src_mac, &eth->src_addr);
	rte_ether_addr_copy(&dst_mac, &eth->dst_addr);
	eth->ether_type = rte_cpu_to_be_16(RTE_ETHER_TYPE_IPV4);

	struct rte_ipv4_hdr *ip = (void *)(eth + 1);
	ip->version_ihl = RTE_IPV4_VHL_DEF;
	ip->total_length = rte_cpu_to_be_16((uint16_t)(frame_len - sizeof(*eth)));
	ip->time_to_live = 64;
	ip->next_proto_id = IPPROTO_UDP;
	ip->src_addr =
	    rte_cpu_to_be_32(RTE_IPV4(10, 0, 0, 0) | ((flow >> 8) & 0xff) << 8 | (flow & 0xff));
	ip->dst_addr = rte_cpu_to_be_32(RTE_IPV4(10, 1, 0, 1));
	ip->hdr_checksum = rte_ipv4_cksum(ip);

	struct rte_udp_hdr *udp = (void *)(ip + 1);
	udp->src_port = rte_cpu_to_be_16((uint16_t)(1024 + flow % 60000));
	udp->dst_port = rte_cpu_to_be_16(9);
	udp->dgram_len = rte_cpu_to_be_16((uint16_t)(frame_len - sizeof(*eth) - sizeof(*ip)));
	return 0;
}
