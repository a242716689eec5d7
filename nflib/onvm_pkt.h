/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * onvm_pkt.h - building test traffic: IPv4/UDP frames whose flow is chosen
 * by a number, for generators (load_generator, speed_tester).
 */
#ifndef ONVM_PKT_H
#define ONVM_PKT_H

#include <stdint.h>

#include <rte_mbuf.h>

#define ONVM_PKT_MIN_LEN	60
#define ONVM_PKT_MAX_LEN	1514
#define ONVM_PKT_PAYLOAD_OFFSET 42 /* Ethernet + IPv4 + UDP */

/* Fill pkt (freshly allocated) with a frame_len-byte UDP frame of flow number
 * flow: 10.0.<flow>/16 source with source port 1024 + flow % 60000, to
 * 10.1.0.1:9.  Returns 0, or -1 when frame_len is out of range. */
int onvm_pkt_fill_udp(struct rte_mbuf *pkt, uint32_t flow, uint16_t frame_len);

/* The payload (after the UDP header) of a frame built by onvm_pkt_fill_udp. */
static inline uint8_t *onvm_pkt_payload(struct rte_mbuf *pkt)
{
	return rte_pktmbuf_mtod_offset(pkt, uint8_t *, ONVM_PKT_PAYLOAD_OFFSET);
}

#endif
