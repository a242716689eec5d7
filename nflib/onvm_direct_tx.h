/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * onvm_direct_tx.h - which ports an NF transmits on itself (direct TX).
 *
 * Without it an NF's packets for a port go through its TX ring to the
 * manager, whose data-plane lcore then transmits them on queue 0: that one
 * lcore carries every packet twice, in and out.  On a port whose driver
 * allows it, the manager sets up a TX queue per instance slot besides its
 * own queue 0, and the NF of slot s transmits on queue nf_tx_queue_base + s
 * (onvm_port_info) with rte_eth_tx_burst, as DPDK's client_server_mp clients
 * do.  Each queue has one sender, so no lock is needed.
 *
 * A driver is listed when (a) its TX burst works from a secondary process,
 * (b) a packet sent on any TX queue leaves the port as one sent on queue 0
 * would, and (c) a sender killed mid-burst leaves its queue usable by the
 * slot's next NF.  Tried with DPDK 22.11:
 *   net_null       all three: TX frees the mbufs and adds to an atomic
 *                  counter of the queue, in shared memory.
 *   net_ring       (a) holds, but not (b): TX queue q feeds RX queue q of
 *                  the same port, and the manager reads RX queue 0 only.
 *   net_af_packet  not (a): the socket is the primary's own; a secondary's
 *                  TX burst crashes (its probe sets up no burst functions).
 * The manager applies the list when it configures a port, and each NF
 * applies it again, with its own process's view of the port, before it
 * trusts what shared memory says (any NF can write that).
 */
#ifndef ONVM_DIRECT_TX_H
#define ONVM_DIRECT_TX_H

#include <string.h>

#include "onvm_common.h"

/* TX queues of a direct-TX port: queue 0 (the manager's) and one per slot. */
#define ONVM_DIRECT_TX_QUEUES (1 + ONVM_MAX_INSTANCES)

static inline int onvm_direct_tx_driver(const char *driver_name)
{
	static const char *const drivers[] = {"net_null"};
	if (driver_name == NULL)
		return 0;
	for (unsigned i = 0; i < sizeof(drivers) / sizeof(drivers[0]); i++)
		if (strcmp(driver_name, drivers[i]) == 0)
			return 1;
	return 0;
}

/*
 * The TX queue the NF of slot transmits a port's packets on, or -1 when they
 * go through the manager.  base: the port's nf_tx_queue_base from shared
 * memory; driver_name and nb_tx_queues: what the caller's own process sees
 * of the port (rte_eth_dev_info), which bound the queue it will use.
 */
static inline int onvm_direct_tx_queue(uint16_t base, unsigned slot, const char *driver_name,
				       uint16_t nb_tx_queues)
{
	if (base == 0 || slot >= ONVM_MAX_INSTANCES || !onvm_direct_tx_driver(driver_name))
		return -1;
	unsigned queue = (unsigned)base + slot;
	return queue < nb_tx_queues ? (int)queue : -1;
}

#endif
