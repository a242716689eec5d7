/* SPDX-License-Identifier: BSD-3-Clause */
/* mgr_ports.c - bring up the host's ports and their service chains. */
#include <stdio.h>

#include <rte_ethdev.h>

#include "onvm_log.h"
#include "mgr.h"

#define PORT_RX_DESC 1024
#define PORT_TX_DESC 1024

static int port_start(struct onvm_mgr *mgr, uint16_t port)
{
	struct rte_eth_conf port_conf = {0};
	struct rte_eth_dev_info info;
	int ret = rte_eth_dev_info_get(port, &info);
	if (ret == 0 && (info.flow_type_rss_offloads & RTE_ETH_RSS_IP)) {
		/* Let the NIC hash flows so the RX thread need not read headers. */
		port_conf.rxmode.mq_mode = RTE_ETH_MQ_RX_RSS;
		port_conf.rx_adv_conf.rss_conf.rss_hf =
		    info.flow_type_rss_offloads & RTE_ETH_RSS_IP;
	}
	uint16_t rx_desc = PORT_RX_DESC, tx_desc = PORT_TX_DESC;
	if (ret == 0)
		ret = rte_eth_dev_configure(port, 1, 1, &port_conf);
	if (ret == 0)
		ret = rte_eth_dev_adjust_nb_rx_tx_desc(port, &rx_desc, &tx_desc);
	if (ret == 0)
		ret = rte_eth_rx_queue_setup(port, 0, rx_desc, rte_eth_dev_socket_id(port), NULL,
					     mgr->pktmbuf_pool);
	if (ret == 0)
		ret = rte_eth_tx_queue_setup(port, 0, tx_desc, rte_eth_dev_socket_id(port), NULL);
	if (ret == 0)
		ret = rte_eth_dev_start(port);
	if (ret < 0) {
		MGR_LOG(ERR, "port %u: cannot start: %s", port, rte_strerror(-ret));
		return -1;
	}
	rte_eth_promiscuous_enable(port); /* vdevs may not support it: not an error */
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
	mgr->shm->ports[port] = *info; /* for NFs: the manager reads its own */
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
	}
	return 0;
}

void mgr_ports_close(struct onvm_mgr *mgr)
{
	for (uint16_t port = 0; port < mgr->nb_ports; port++) {
		rte_eth_dev_stop(port);
		rte_eth_dev_close(port);
	}
}
