/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * mgr_ports.c - bring up the host's ports and their service chains.
 *
 * A port whose driver NFs can transmit on themselves (onvm_direct_tx.h) gets
 * a TX queue per instance slot besides the manager's queue 0.  Its TX
 * counters then have two sources: the manager's TX lcore counts queue 0 and
 * each NF counts what it sent on its own queue (onvm_instance.port_tx); the
 * control thread adds the NFs' counts up here.  NF-written counters, as the
 * instances' own are, rather than the driver's: ethdev keeps per-queue
 * counters for the first RTE_ETHDEV_QUEUE_STAT_CNTRS (16) queues only, and
 * net_null adds up only those into its total.
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include <rte_ethdev.h>

#include "onvm_log.h"
#include "mgr.h"
#include "onvm_direct_tx.h"

#define PORT_RX_DESC	1024
#define PORT_TX_DESC	1024
#define PORT_NF_TX_DESC 512 /* an NF's queue: one NF's bursts */

/* How many TX queues the port gets, and why NFs do not transmit on it
 * themselves (when it gets one). */
static uint16_t plan_tx_queues(const struct mgr_config *config, const struct rte_eth_dev_info *info,
			       const char **why)
{
	if (config->no_direct_tx) {
		*why = "--no-direct-tx";
		return 1;
	}
	if (!onvm_direct_tx_driver(info->driver_name)) {
		*why = "its driver cannot be used from an NF";
		return 1;
	}
	if (info->max_tx_queues < ONVM_DIRECT_TX_QUEUES) {
		*why = "too few TX queues";
		return 1;
	}
	return ONVM_DIRECT_TX_QUEUES;
}

static int configure(uint16_t port, const struct rte_eth_conf *port_conf, uint16_t nb_tx,
		     struct rte_mempool *pool)
{
	uint16_t rx_desc = PORT_RX_DESC, tx_desc = PORT_TX_DESC;
	int ret = rte_eth_dev_configure(port, 1, nb_tx, port_conf);
	if (ret == 0)
		ret = rte_eth_dev_adjust_nb_rx_tx_desc(port, &rx_desc, &tx_desc);
	if (ret == 0)
		ret = rte_eth_rx_queue_setup(port, 0, rx_desc, rte_eth_dev_socket_id(port), NULL,
					     pool);
	for (uint16_t queue = 0; ret == 0 && queue < nb_tx; queue++)
		ret = rte_eth_tx_queue_setup(port, queue, queue == 0 ? tx_desc : PORT_NF_TX_DESC,
					     rte_eth_dev_socket_id(port), NULL);
	return ret;
}

static int port_start(struct onvm_mgr *mgr, uint16_t port)
{
	struct rte_eth_conf port_conf = {0};
	struct rte_eth_dev_info info;
	const char *why = NULL;
	uint16_t nb_tx = 1;
	int ret = rte_eth_dev_info_get(port, &info);
	if (ret == 0 && (info.flow_type_rss_offloads & RTE_ETH_RSS_IP)) {
		/* Let the NIC hash flows so the RX thread need not read headers. */
		port_conf.rxmode.mq_mode = RTE_ETH_MQ_RX_RSS;
		port_conf.rx_adv_conf.rss_conf.rss_hf =
		    info.flow_type_rss_offloads & RTE_ETH_RSS_IP;
	}
	if (ret == 0) {
		nb_tx = plan_tx_queues(&mgr->config, &info, &why);
		ret = configure(port, &port_conf, nb_tx, mgr->pktmbuf_pool);
		if (ret < 0 && nb_tx > 1) {
			why = rte_strerror(-ret);
			nb_tx = 1;
			ret = configure(port, &port_conf, nb_tx, mgr->pktmbuf_pool);
		}
	}
	if (ret == 0)
		ret = rte_eth_dev_start(port);
	if (ret < 0) {
		MGR_LOG(ERR, "port %u: cannot start: %s", port, rte_strerror(-ret));
		return -1;
	}
	rte_eth_promiscuous_enable(port); /* vdevs may not support it: not an error */
	mgr->ports[port].nf_tx_queue_base = nb_tx > 1 ? 1 : 0;
	if (nb_tx > 1)
		MGR_LOG(INFO,
			"port %u (%s): NFs transmit on it themselves, slot s on queue "
			"%u + s",
			port, info.driver_name, mgr->ports[port].nf_tx_queue_base);
	else
		MGR_LOG(INFO, "port %u (%s): NFs transmit through the manager: %s", port,
			info.driver_name, why);
	return 0;
}

static int set_chain(struct onvm_mgr *mgr, uint16_t port)
{
	const struct mgr_chain_config *config = &mgr->config.chains[port];
	struct onvm_port_info *info = &mgr->ports[port];

	if (config->set) {
		info->chain_len = config->chain_len;
		for (unsigned i = 0; i < config->chain_len; i++)
			info->chain[i] = config->chain[i];
		info->egress_port =
		    (uint16_t)(config->egress_port < 0 ? port : config->egress_port);
	} else {
		info->chain_len = 1;
		info->chain[0] = mgr->config.default_service;
		info->egress_port = port;
	}
	if (info->egress_port >= mgr->nb_ports) {
		MGR_LOG(WARNING, "port %u: egress port %u does not exist (%u ports)", port,
			info->egress_port, mgr->nb_ports);
		return -1;
	}
	return 0;
}

int mgr_ports_init(struct onvm_mgr *mgr)
{
	uint16_t available = rte_eth_dev_count_avail();
	if (available > ONVM_MAX_PORTS) {
		MGR_LOG(WARNING, "%u ports, at most %d are supported", available, ONVM_MAX_PORTS);
		return -1;
	}
	for (unsigned port = available; port < ONVM_MAX_PORTS; port++) {
		if (mgr->config.chains[port].set) {
			MGR_LOG(WARNING, "a chain names port %u, but there are %u ports", port,
				available);
			return -1;
		}
	}
	mgr->nb_ports = available;
	mgr->shm->nb_ports = available;
	uint16_t port;
	RTE_ETH_FOREACH_DEV(port)
	{
		if (set_chain(mgr, port) < 0 || port_start(mgr, port) < 0)
			return -1;
		mgr->shm->ports[port] = mgr->ports[port]; /* for NFs: the manager reads its own */
	}
	return 0;
}

/* Add to total what a counter an NF writes grew by since seen.  It may
 * write anything: only growth past the largest value seen counts. */
static void add_growth(uint64_t *total, uint64_t *seen, const uint64_t *counter)
{
	uint64_t now = __atomic_load_n(counter, __ATOMIC_RELAXED);
	if (now > *seen) {
		__atomic_store_n(total, *total + (now - *seen), __ATOMIC_RELAXED);
		*seen = now;
	}
}

void mgr_ports_collect_direct(struct onvm_mgr *mgr, unsigned slot)
{
	const struct onvm_instance *instance = &mgr->shm->instances[slot];
	for (unsigned port = 0; port < mgr->nb_ports; port++) {
		if (mgr->ports[port].nf_tx_queue_base == 0)
			continue;
		struct onvm_port_tx *total = &mgr->direct_tx[port];
		struct onvm_port_tx *seen = &mgr->direct_tx_seen[slot][port];
		add_growth(&total->sent, &seen->sent, &instance->port_tx[port].sent);
		add_growth(&total->refused, &seen->refused, &instance->port_tx[port].refused);
	}
}

void mgr_ports_forget_slot(struct onvm_mgr *mgr, unsigned slot)
{
	memset(mgr->direct_tx_seen[slot], 0, sizeof(mgr->direct_tx_seen[slot]));
}

/* What each port sent, by the manager's counters and by the driver's: the
 * driver's queue 0 is the manager's, the rest the NFs'. */
static void log_port_tx(const struct onvm_mgr *mgr, uint16_t port)
{
	struct rte_eth_stats stats;
	uint64_t direct = __atomic_load_n(&mgr->direct_tx[port].sent, __ATOMIC_RELAXED);
	uint64_t sent = __atomic_load_n(&mgr->port_counters[port].tx, __ATOMIC_RELAXED) + direct;
	if (rte_eth_stats_get(port, &stats) != 0)
		return;
	MGR_LOG(INFO,
		"port %u sent %" PRIu64 ", %" PRIu64 " by NFs on their own queues; "
		"its driver counted %" PRIu64 ", %" PRIu64 " on queue 0",
		port, sent, direct, stats.opackets, stats.q_opackets[0]);
}

void mgr_ports_close(struct onvm_mgr *mgr)
{
	/* The NFs are gone: their last counts are final. */
	for (unsigned slot = 0; slot < ONVM_MAX_INSTANCES && mgr->shm; slot++)
		if (mgr->slots[slot].state != ONVM_INST_FREE)
			mgr_ports_collect_direct(mgr, slot);
	for (uint16_t port = 0; port < mgr->nb_ports; port++) {
		log_port_tx(mgr, port);
		rte_eth_dev_stop(port);
		rte_eth_dev_close(port);
	}
	fflush(stdout);
}
