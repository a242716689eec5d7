/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * mgr_stats.h - per-port and per-instance statistics of one host.
 *
 * The hot path only bumps counters; a snapshot turns them into rates over the
 * last period.  The snapshot is what the stats table, the stats file, the
 * bus's stats messages and the telemetry commands (mgr_telemetry.h) are made
 * from.
 */
#ifndef MGR_STATS_H
#define MGR_STATS_H

#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>

#include "mgr_unserved.h"
#include "onvm_common.h"

struct onvm_mgr;

struct mgr_port_stats {
	uint16_t port;
	uint64_t rx, tx, drops; /* drops: refused by the port, or no instance to serve */
	uint64_t direct_tx;	/* of tx, what NFs sent on their own queues */
	double rx_pps, tx_pps, drop_pps;
};

struct mgr_instance_stats {
	uint32_t instance;
	uint16_t service;
	uint16_t slot;
	int core;
	pid_t pid;
	const char *state;
	char name[ONVM_NAME_LEN];
	uint64_t rx, tx, drops; /* drops: its RX ring was full */
	double rx_pps, tx_pps, drop_pps;
	double ring_fill;     /* 0..1, now */
	double busy;	      /* 0..1 over the period */
	uint64_t first_rx_ms; /* when it handled its first packet; 0: not yet */
	uint64_t alarms;      /* overload alarms it raised */
};

/* The inter-host tunnel's counters (totals since start). */
struct mgr_tunnel_stats {
	int enabled;
	uint64_t encapsulated, encap_drops, ring_drops;	   /* out to peers */
	uint64_t decapsulated, rx_rejects, rx_no_instance; /* in from peers */
};

struct mgr_stats_snapshot {
	uint64_t seq;
	uint64_t ts_ms;	    /* wall clock, for the bus and the counters file */
	unsigned period_ms; /* actual time since the previous snapshot (monotonic) */
	unsigned free_cores, total_cores;
	uint64_t alarms; /* overload alarms raised since start */
	unsigned nb_ports;
	struct mgr_port_stats ports[ONVM_MAX_PORTS];
	unsigned nb_instances;
	struct mgr_instance_stats instances[ONVM_MAX_INSTANCES];
	struct mgr_tunnel_stats tunnel;
	/* Services whose packets were dropped in the period because no host had
	 * an instance (counts[].pps set), the largest first; and which of them
	 * began or ceased to be unserved, for the log. */
	struct mgr_unserved_period unserved;
};

/* Previous counter values, for rates. */
struct mgr_stats_state {
	uint64_t seq;
	uint64_t last_ms; /* monotonic */
	struct {
		uint64_t rx, tx, drops;
	} ports[ONVM_MAX_PORTS];
	struct {
		uint32_t instance;
		uint64_t rx, tx, drops, busy_cycles, loop_cycles;
	} instances[ONVM_MAX_INSTANCES];
	struct mgr_unserved_state unserved;
};

/* Take a snapshot now (now_ms: monotonic) and remember its counters for the
 * next one. */
void mgr_stats_collect(struct onvm_mgr *mgr, struct mgr_stats_state *state, uint64_t now_ms,
		       struct mgr_stats_snapshot *snapshot);

/*
 * Overload alarms: sample every running instance's ring-full drops and RX
 * ring fill now (monotonic now_ms), feed them to its alarm state
 * (mgr_alarm.h), and log, count and hand on (mgr->alarm_fn) each alarm due.
 * Sets mgr->alarm_work when some instance had work, so that the next sample
 * comes after MGR_ALARM_SAMPLE_MS rather than the idle tick.
 */
void mgr_stats_sample_alarms(struct onvm_mgr *mgr, uint64_t now_ms);

/* One line for each service that began or ceased to be unserved. */
void mgr_stats_log_unserved(const struct mgr_stats_snapshot *snapshot);

/* Human-readable table. */
void mgr_stats_print(const struct mgr_stats_snapshot *snapshot, FILE *out);

/* Line-oriented counters file ("port 0 rx N tx N drops N direct_tx N", "instance ...", and
 * "unserved SERVICE pkts N pps X" for the last period), written atomically
 * (temporary file + rename) so readers never see half of it. */
int mgr_stats_write_file(const struct mgr_stats_snapshot *snapshot, const char *path);

#endif
