/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * onvm_nflib.h - the network function library.
 *
 * An NF is a DPDK secondary process of one host's manager.  It registers for
 * a service, gets an instance id and a pair of rings, and runs a loop that
 * hands each received packet to its packet function; the function sets the
 * packet's action in its metadata (drop, to a service, to a port, next in the
 * chain) and the library carries it out.  Packets for another NF go straight
 * into that NF's ring; packets for a port pass through the manager, or go
 * out on the NF's own queue of ports that allow it (onvm_direct_tx.h).
 *
 * Command line of every NF:
 *     nf [EAL args] -- -r SERVICE [-n NAME] [-- app args]
 * The EAL args are those of a secondary: --proc-type=secondary and the
 * manager's --file-prefix (the manager passes them when it spawns an NF).
 *
 * Typical use:
 *     struct onvm_nf *nf;
 *     int used = onvm_nflib_init(argc, argv, "bounce", &nf);
 *     if (used < 0) return onvm_nflib_exit_status(used);
 *     ... parse argc - used, argv + used ...
 *     struct onvm_nf_handlers handlers = { .packet = handle, .ctx = &state };
 *     (or .burst = handle_burst, to get every received burst in one call)
 *     onvm_nflib_run(nf, &handlers);
 *     onvm_nflib_finish(nf);
 */
#ifndef ONVM_NFLIB_H
#define ONVM_NFLIB_H

#include <stdint.h>

#include <rte_mbuf.h>

#include "onvm_common.h"

struct onvm_nf;

struct onvm_nf_info {
	uint16_t service_id;
	uint32_t instance_id;
	uint16_t slot;
	int core;
};

/* Handle one packet: set meta->action (and meta->destination). */
typedef void (*onvm_nf_packet_fn)(struct onvm_nf *nf, struct rte_mbuf *pkt,
				  struct onvm_pkt_meta *meta, void *ctx);

/* Handle a burst of count packets at once: set each metas[i]->action (and
 * ->destination); metas[i] is pkts[i]'s metadata.  The library carries the
 * actions out once the function returns. */
typedef void (*onvm_nf_burst_fn)(struct onvm_nf *nf, struct rte_mbuf **pkts,
				 struct onvm_pkt_meta **metas, unsigned count, void *ctx);

/* Called on every loop turn before receiving, e.g. to generate packets.
 * Returns nonzero when it did work (so the loop does not back off). */
typedef int (*onvm_nf_tick_fn)(struct onvm_nf *nf, void *ctx);

/* How many packets the NF may take from its ring now (0: none this turn). */
typedef unsigned (*onvm_nf_budget_fn)(struct onvm_nf *nf, void *ctx);

struct onvm_nf_handlers {
	onvm_nf_burst_fn burst;	  /* a whole burst per call; if NULL, packet: */
	onvm_nf_packet_fn packet; /* one packet per call; both NULL: packets are dropped */
	onvm_nf_tick_fn tick;	  /* may be NULL */
	onvm_nf_budget_fn budget; /* NULL: a full burst every turn */
	void *ctx;
};

/*
 * Start EAL as a secondary, parse the nflib arguments and register with the
 * manager.  Returns how many argv entries it used (the app's own arguments
 * start at argv[returned]), -EINVAL after printing a usage message for a bad
 * command line, -ECANCELED when there is nothing to run (`nf --version`
 * printed the version; or a warm standby, which returns only once switched
 * on, was stopped before that), or another negative errno when the manager
 * cannot be reached.  The library never exits the process.
 */
int onvm_nflib_init(int argc, char *argv[], const char *nf_name, struct onvm_nf **nf_out);

/* The process's exit status after onvm_nflib_init returned init_result < 0:
 * 0 for -ECANCELED, 2 for a bad command line, 1 otherwise. */
int onvm_nflib_exit_status(int init_result);

/* Run until stopped by a signal, the manager, or onvm_nflib_stop().  Returns 0. */
int onvm_nflib_run(struct onvm_nf *nf, const struct onvm_nf_handlers *handlers);

/* Ask the loop to end after the current turn (safe from a signal handler). */
void onvm_nflib_stop(struct onvm_nf *nf);

/* Whether the NF has been asked to stop. */
int onvm_nflib_stopping(const struct onvm_nf *nf);

/*
 * Carry out the action in each packet's metadata, as the run loop does for
 * handled packets.  For generators.  Every packet is consumed (sent or
 * freed); returns how many were sent on.
 */
unsigned onvm_nflib_send(struct onvm_nf *nf, struct rte_mbuf **pkts, unsigned count);

/* Unregister, release EAL resources and free nf. */
void onvm_nflib_finish(struct onvm_nf *nf);

const struct onvm_nf_info *onvm_nflib_info(const struct onvm_nf *nf);
struct rte_mempool *onvm_nflib_pktmbuf_pool(const struct onvm_nf *nf);
struct onvm_pkt_meta *onvm_nflib_meta(const struct onvm_nf *nf, struct rte_mbuf *pkt);

/* Index of service in port's chain, or -1: lets a generator's packets follow
 * that chain (set meta->chain_port = port, meta->chain_pos = the index). */
int onvm_nflib_chain_position(const struct onvm_nf *nf, uint16_t port, uint16_t service);

/* The NF's counters (rx, tx, drops) in shared memory, for its own reports. */
const struct onvm_nf_counters *onvm_nflib_counters(const struct onvm_nf *nf);

#endif
