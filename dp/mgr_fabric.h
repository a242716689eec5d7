/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * mgr_fabric.h - the IPv4 network every host's tunnel address is in
 * (--fabric IP/LEN): what the options check and the peer rules apply.
 * No DPDK, so the command line's library stays free of it.
 */
#ifndef MGR_FABRIC_H
#define MGR_FABRIC_H

#include <stdint.h>

/* An address given as 4 bytes, network order, as a host-order integer. */
static inline uint32_t mgr_ipv4_host_order(const uint8_t ip[4])
{
	return (uint32_t)ip[0] << 24 | (uint32_t)ip[1] << 16 | (uint32_t)ip[2] << 8 | ip[3];
}

/* The netmask of a prefix length (above 32 counts as 32). */
static inline uint32_t mgr_fabric_mask(unsigned prefix_len)
{
	return prefix_len == 0 ? 0 : UINT32_MAX << (32 - (prefix_len > 32 ? 32 : prefix_len));
}

/* Whether ip is inside fabric_ip/prefix_len. */
static inline int mgr_fabric_contains(const uint8_t ip[4], const uint8_t fabric_ip[4],
				      unsigned prefix_len)
{
	uint32_t mask = mgr_fabric_mask(prefix_len);
	return (mgr_ipv4_host_order(ip) & mask) == (mgr_ipv4_host_order(fabric_ip) & mask);
}

#endif /* MGR_FABRIC_H */
