/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * mgr_telemetry.h - the manager as DPDK's own tools see it
 * (docs/operations-telemetry.md).
 *
 * Telemetry: /onvm/info, /onvm/instances, /onvm/services, /onvm/ports,
 * /onvm/tunnel and /onvm/cores on the manager's telemetry socket
 * (dpdk-telemetry.py -f PREFIX, Telegraf's dpdk input).  They answer from
 * the last stats snapshot, the one the stats file and the bus's stats are
 * made of: the control thread copies it here every stats period under a
 * sequence counter, and DPDK's telemetry threads read that copy.  So a
 * command never reads the data plane's counters, the slots or shared memory
 * itself, never waits for the control thread, and is still safe while the
 * manager shuts down and DPDK's memory goes away (a telemetry thread is never
 * stopped).  Its values are as old as the snapshot: /onvm/info says how old.
 *
 * Capture: rte_pdump lets dpdk-dumpcap (a secondary) copy the ports' packets.
 * The copies live in a pool that dpdk-dumpcap makes in the manager's heap,
 * which is allocated at start and never grows (mgr.h): it is counted in.
 */
#ifndef MGR_TELEMETRY_H
#define MGR_TELEMETRY_H

struct onvm_mgr;
struct mgr_stats_snapshot;

/* What one dpdk-dumpcap takes of the heap, with room to spare: its mbuf
 * pool and ring are about 12 MB at the default snap length (DPDK 22.11). */
#define MGR_TELEMETRY_CAPTURE_HEAP_BYTES (16u << 20)

/* After EAL init and the ports, before the heap is held: keep what never
 * changes, register the commands and start rte_pdump.  0 or -1. */
int mgr_telemetry_init(struct onvm_mgr *mgr);

/* Control thread, with every stats snapshot. */
void mgr_telemetry_publish(const struct onvm_mgr *mgr, const struct mgr_stats_snapshot *snapshot);

/* Before DPDK's cleanup: stop rte_pdump.  Safe when init never ran. */
void mgr_telemetry_uninit(void);

#endif
