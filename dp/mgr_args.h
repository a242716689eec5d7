/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * mgr_args.h - the manager's command line.
 *
 *   onvm-mgr [EAL args] -- [manager options]
 *
 * EAL arguments go to DPDK, with --no-pci added unless the user names PCI
 * devices (-a/--allow or -b/--block): the host's own NIC must never be taken
 * by accident.  Manager options are parsed here, without touching DPDK, so
 * the parsing can be tested on its own.
 */
#ifndef MGR_ARGS_H
#define MGR_ARGS_H

#include <limits.h>
#include <stdint.h>

#include "bus_options.h"

#include "core_pool.h"
#include "mgr_alarm.h"
#include "onvm_limits.h"

#define MGR_MAX_EAL_ARGS	    128
#define MGR_MAX_START		    64
#define MGR_DEFAULT_STATS_PERIOD_MS 1000
#define MGR_MIN_STATS_PERIOD_MS	    100
#define MGR_DEFAULT_PREFIX	    "onvm"
/* MQTT keepalive: the broker drops a silent manager, and publishes its Last
 * Will (offline), once 1.5 keepalives passed without a packet from it.
 * Mosquitto 2.0.11 counts whole seconds (floor(1.5 x S)) and looks only
 * every 5 s, so the Will comes later: 10-12 s at S = 5, about 5 s at S = 2
 * were seen here.  The stats (every period) keep the connection busy, so a
 * small S costs no pings.  Above a few minutes the Will would come later
 * than any consumer's staleness bound. */
#define MGR_DEFAULT_BUS_KEEPALIVE_S 5
#define MGR_MAX_BUS_KEEPALIVE_S	    300

struct mgr_chain_config {
	int set;
	uint16_t chain_len;
	uint16_t chain[ONVM_MAX_CHAIN];
	int egress_port; /* -1: the ingress port */
};

struct mgr_config {
	/* EAL */
	int eal_argc;
	char *eal_argv[MGR_MAX_EAL_ARGS]; /* borrowed from argv, plus added flags */
	char file_prefix[64];
	char huge_dir[PATH_MAX]; /* empty: the system's hugetlbfs mount */

	/* Manager */
	char catalog_path[PATH_MAX];
	struct core_pool nf_cores;
	int nf_cores_given;
	uint16_t start_services[MGR_MAX_START];
	unsigned nb_start;
	uint16_t default_service;
	struct mgr_chain_config chains[ONVM_MAX_PORTS];
	unsigned stats_period_ms;
	char stats_file[PATH_MAX];
	unsigned alarm_ms; /* --alarm-ms: overload alarms after this long; 0: off */
	unsigned nb_mbufs;
	int quiet;
	int no_direct_tx; /* --no-direct-tx: every port's packets through the manager */
	char netns[64];	  /* empty: the manager's own network namespace */
	/* --nf-log-dir: where spawned NFs' stdout and stderr go, a file each;
	 * "": the runtime folder's nf-logs/; "-": the manager's own output */
	char nf_log_dir[PATH_MAX];

	/* Inter-host tunnel (-T PORT:IP) */
	int tunnel_set;
	uint16_t tunnel_port;
	uint8_t tunnel_ip[4];
	/* The fabric every host's tunnel address is in (--fabric; default the
	 * -T address's /24): peers' endpoints outside it are refused. */
	uint8_t fabric_ip[4];
	uint8_t fabric_prefix; /* 0: not given */

	/* Bus: on it when bus.uri is set; the identity defaults to the host name */
	char host[64];
	struct bus_options bus;
	unsigned bus_keepalive_s; /* --bus-keepalive, 1..MGR_MAX_BUS_KEEPALIVE_S */
	int bus_keepalive_given;
};

/*
 * Parse the whole command line.  Returns 0, 1 when help was asked for (usage
 * printed), or -1 after printing an error and the usage: the caller exits 2.
 */
int mgr_args_parse(int argc, char *argv[], struct mgr_config *config);

void mgr_args_usage(const char *prgname);

/* Parse "PORT:SVC[,SVC...][>OUT]" into config->chains. 0 or -1 with err set. */
int mgr_args_parse_chain(const char *text, struct mgr_config *config, char *err, size_t errlen);

/* Parse "PORT:IPv4" into config->tunnel_*. 0 or -1 with err set. */
/* --fabric IP/LEN.  0, or -1 with the reason. */
int mgr_args_parse_fabric(const char *text, struct mgr_config *config, char *err, size_t errlen);

int mgr_args_parse_tunnel(const char *text, struct mgr_config *config, char *err, size_t errlen);

/* Parse "2,3,3" (service ids) into config->start_services. 0 or -1 with err set. */
int mgr_args_parse_start(const char *text, struct mgr_config *config, char *err, size_t errlen);

#endif
