/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * mgr_dataplane.c - the manager's packet loops.
 *
 * RX: read each port, tag packets with their chain and flow hash, and hand
 * them to the instance of the port's first service that the flow hashes to.
 * TX: empty the NFs' TX rings into the ports their packets are bound for.
 * With one data-plane lcore, one loop does both.
 *
 * On the tunnel port (-T), RX takes the VXLAN headers off and hands each
 * packet to a local instance of its VNI's service; TX wraps the packets of
 * the tunnel ring (bound for other hosts' instances) in VXLAN headers.
 *
 * NFs can write all of shared memory, so the loops use the manager's own
 * copies of the rings, the metadata offset and the ports' chains, and check
 * every slot the service map names before using it: a slot that names no
 * instance slot and no known peer drops its packet and is counted.
 *
 * A packet for a service with no instance anywhere is unserved demand: RX
 * counts a port's per burst (a port's burst has one service), TX those NFs
 * hand over (ONVM_UNSERVED_PORT_BASE) per run of one service, each in its own
 * counters (mgr_unserved.h).  Tunnel arrivals with no local instance are not
 * unserved demand (see there).
 */
#include <stdio.h>

#include <rte_ethdev.h>
#include <rte_lcore.h>
#include <rte_malloc.h>
#include <rte_prefetch.h>

#include "onvm_log.h"
#include "mgr.h"
#include "onvm_backoff.h"
#include "onvm_flow.h"
#include "onvm_pktbuf.h"
#include "onvm_service_map.h"

struct rx_state {
	struct onvm_slot_buffers buffers;
	struct onvm_pick_cache picks; /* each port's first service's, the tunnel's services' */
};

static inline struct onvm_pkt_meta *meta_of(const struct onvm_mgr *mgr, struct rte_mbuf *pkt)
{
	return RTE_MBUF_DYNFIELD(pkt, mgr->meta_offset, struct onvm_pkt_meta *);
}

static void rx_flush(struct onvm_mgr *mgr, struct onvm_slot_buffers *buffers, unsigned slot,
		     struct onvm_flush_result *result)
{
	onvm_buffer_flush(mgr->rx_rings[slot], &buffers->slot[slot],
			  &mgr->shm->instances[slot].rx_ring_drops, result);
	buffers->pending &= ~(1ULL << slot);
}

static void rx_flush_tunnel(struct onvm_mgr *mgr, struct onvm_slot_buffers *buffers,
			    struct onvm_flush_result *result)
{
	onvm_buffer_flush(mgr->tunnel_ring, &buffers->tunnel, &mgr->shm->tunnel_ring_drops, result);
}

/* Queue a packet for a member the map picked (onvm_member_slot_valid): an instance
 * slot here, or a remote slot (then meta->peer names the host). */
static void rx_queue(struct onvm_mgr *mgr, struct onvm_slot_buffers *buffers, unsigned slot,
		     struct rte_mbuf *pkt, struct onvm_pkt_meta *meta,
		     struct onvm_flush_result *result)
{
	struct onvm_burst_buffer *buffer;
	if (likely(!onvm_slot_is_remote(slot))) {
		buffer = &buffers->slot[slot];
		buffer->pkts[buffer->count++] = pkt;
		buffers->pending |= 1ULL << slot;
		if (buffer->count == ONVM_BURST)
			rx_flush(mgr, buffers, slot, result);
		return;
	}
	meta->peer = (uint16_t)(slot - ONVM_REMOTE_SLOT_BASE);
	buffer = &buffers->tunnel;
	buffer->pkts[buffer->count++] = pkt;
	if (buffer->count == ONVM_BURST)
		rx_flush_tunnel(mgr, buffers, result);
}

static void rx_flush_all(struct onvm_mgr *mgr, struct onvm_slot_buffers *buffers,
			 struct onvm_flush_result *result)
{
	while (buffers->pending)
		rx_flush(mgr, buffers, (unsigned)__builtin_ctzll(buffers->pending), result);
	if (buffers->tunnel.count)
		rx_flush_tunnel(mgr, buffers, result);
}

struct tx_state {
	struct onvm_burst_buffer to_port[ONVM_MAX_PORTS];
};

static inline void counter_add(uint64_t *counter, uint64_t amount)
{
	__atomic_store_n(counter, *counter + amount, __ATOMIC_RELAXED);
}

/* A whole burst for one local instance: straight from the burst into its ring. */
static void rx_send_burst(struct onvm_mgr *mgr, unsigned slot, struct rte_mbuf **pkts,
			  unsigned count)
{
	unsigned sent = rte_ring_enqueue_burst(mgr->rx_rings[slot], (void **)pkts, count, NULL);
	if (unlikely(sent < count)) {
		rte_pktmbuf_free_bulk(&pkts[sent], count - sent);
		__atomic_fetch_add(&mgr->shm->instances[slot].rx_ring_drops, count - sent,
				   __ATOMIC_RELAXED);
	}
}

static unsigned rx_port(struct onvm_mgr *mgr, struct rx_state *state, uint16_t port)
{
	struct rte_mbuf *pkts[ONVM_BURST];
	struct onvm_shared *shm = mgr->shm;
	unsigned received = rte_eth_rx_burst(port, 0, pkts, ONVM_BURST);
	if (received == 0)
		return 0;

	struct mgr_port_counters *counters = &mgr->port_counters[port];
	counter_add(&counters->rx, received);
	uint16_t service = mgr->ports[port].chain[0];
	unsigned unserved = 0, bad_members = 0;
	struct onvm_flush_result result = {0};

	/* The metadata lives in the mbuf's second cache line: fetch them all first. */
	for (unsigned i = 0; i < received; i++)
		rte_prefetch0(meta_of(mgr, pkts[i]));
	/* A service of one local instance (the common case) takes the whole
	 * burst: no hash, no pick and no buffering per packet. */
	const struct onvm_pick_way *way = onvm_pick_cache_way(&state->picks, &shm->map, service, 0);
	if (way && way->count == 1 && way->slots[0] < ONVM_MAX_INSTANCES) {
		for (unsigned i = 0; i < received; i++) {
			struct onvm_pkt_meta *meta = meta_of(mgr, pkts[i]);
			meta->action = ONVM_ACTION_TO_SERVICE;
			meta->destination = service;
			meta->chain_port = (uint8_t)port;
			meta->chain_pos = 0;
			meta->flags =
			    (pkts[i]->ol_flags & RTE_MBUF_F_RX_RSS_HASH) ? ONVM_META_F_HASHED : 0;
			meta->flow_hash = pkts[i]->hash.rss;
		}
		rx_send_burst(mgr, way->slots[0], pkts, received);
		return received;
	}
	/* Several members: each packet's headers are read for its flow hash, and
	 * the driver never touched them; fetch them all before the first. */
	if (way && way->count > 1)
		for (unsigned i = 0; i < received; i++)
			rte_prefetch0(rte_pktmbuf_mtod(pkts[i], void *));
	/* Pick every packet's member first: when they all picked one instance
	 * (few flows, or one busy one), the burst goes to it whole. */
	uint16_t slots[ONVM_BURST];
	unsigned kept = 0, same = 1;
	for (unsigned i = 0; i < received; i++) {
		struct rte_mbuf *pkt = pkts[i];
		struct onvm_pkt_meta *meta = meta_of(mgr, pkt);
		meta->action = ONVM_ACTION_TO_SERVICE;
		meta->destination = service;
		meta->chain_port = (uint8_t)port;
		meta->chain_pos = 0;
		meta->flags = (pkt->ol_flags & RTE_MBUF_F_RX_RSS_HASH) ? ONVM_META_F_HASHED : 0;
		meta->flow_hash = pkt->hash.rss;
		int slot = onvm_pick_cache_pkt(&state->picks, &shm->map, service, pkt, meta, 0);
		if (unlikely(slot < 0 || !onvm_member_slot_valid((unsigned)slot))) {
			rte_pktmbuf_free(pkt);
			if (slot < 0)
				unserved++;
			else
				bad_members++;
			continue;
		}
		slots[kept] = (uint16_t)slot;
		same &= slots[kept] == slots[0];
		pkts[kept++] = pkt;
	}
	if (kept && same && slots[0] < ONVM_MAX_INSTANCES) {
		rx_send_burst(mgr, slots[0], pkts, kept);
	} else {
		for (unsigned i = 0; i < kept; i++)
			rx_queue(mgr, &state->buffers, slots[i], pkts[i], meta_of(mgr, pkts[i]),
				 &result);
		rx_flush_all(mgr, &state->buffers, &result);
	}
	if (unserved) {
		counter_add(&counters->no_instance_drops, unserved);
		/* service is from the manager's own chain: a valid id */
		counter_add(&mgr->unserved[MGR_UNSERVED_RX].pkts[service], unserved);
	}
	if (unlikely(bad_members))
		counter_add(&counters->bad_member_drops, bad_members);
	return received;
}

/* A burst from the tunnel port: decapsulate, then to a local instance. */
static unsigned rx_tunnel_port(struct onvm_mgr *mgr, struct rx_state *state, uint16_t port)
{
	struct rte_mbuf *pkts[ONVM_BURST];
	struct onvm_shared *shm = mgr->shm;
	struct mgr_tunnel_counters *counters = &mgr->tunnel.rx_counters;
	unsigned received = rte_eth_rx_burst(port, 0, pkts, ONVM_BURST);
	if (received == 0)
		return 0;
	counter_add(&mgr->port_counters[port].rx, received);
	const struct onvm_port_info *info = &mgr->ports[port];
	unsigned rejected = 0, unserved = 0, bad_members = 0;
	struct onvm_flush_result result = {0};

	for (unsigned i = 0; i < received; i++) {
		struct rte_mbuf *pkt = pkts[i];
		int service = mgr_tunnel_decap(&mgr->tunnel, pkt);
		int chain_pos = service < 0 ? -1 : mgr_tunnel_chain_pos(info, (uint16_t)service);
		if (unlikely(chain_pos < 0)) {
			rte_pktmbuf_free(pkt);
			rejected++;
			continue;
		}
		struct onvm_pkt_meta *meta = meta_of(mgr, pkt);
		*meta = (struct onvm_pkt_meta){
		    .action = ONVM_ACTION_TO_SERVICE,
		    .destination = (uint16_t)service,
		    .chain_port = (uint8_t)port,
		    .chain_pos = (uint8_t)chain_pos,
		};
		int slot =
		    onvm_pick_cache_pkt(&state->picks, &shm->map, (uint16_t)service, pkt, meta, 1);
		if (unlikely(slot < 0 || (unsigned)slot >= ONVM_MAX_INSTANCES)) {
			rte_pktmbuf_free(pkt);
			if (slot < 0)
				unserved++;
			else
				bad_members++;
			continue;
		}
		rx_queue(mgr, &state->buffers, (unsigned)slot, pkt, meta, &result);
	}
	rx_flush_all(mgr, &state->buffers, &result);
	counter_add(&counters->decapsulated, received - rejected - unserved - bad_members);
	if (unlikely(bad_members))
		counter_add(&mgr->port_counters[port].bad_member_drops, bad_members);
	if (rejected)
		counter_add(&counters->rx_rejects, rejected);
	if (unserved)
		counter_add(&counters->rx_no_instance, unserved);
	return received;
}

static void tx_send(struct onvm_mgr *mgr, struct rte_mbuf **pkts, unsigned count, uint16_t port)
{
	unsigned sent = rte_eth_tx_burst(port, 0, pkts, (uint16_t)count);
	struct mgr_port_counters *counters = &mgr->port_counters[port];
	counter_add(&counters->tx, sent);
	if (sent < count) {
		rte_pktmbuf_free_bulk(&pkts[sent], count - sent);
		counter_add(&counters->tx_drops, count - sent);
	}
}

static void tx_flush_port(struct onvm_mgr *mgr, struct onvm_burst_buffer *buffer, uint16_t port)
{
	tx_send(mgr, buffer->pkts, buffer->count, port);
	buffer->count = 0;
}

/* NFs' unserved packets of one burst, counted per run of one service. */
struct unserved_run {
	unsigned service; /* 0: none yet */
	unsigned count;
	int counts; /* whether the run's service is counted */
};

static void unserved_flush(struct onvm_mgr *mgr, struct unserved_run *run)
{
	if (run->count)
		counter_add(&mgr->unserved[MGR_UNSERVED_TX].pkts[run->service], run->count);
	run->count = 0;
}

/* The NF wrote the tag: count it only for a service id that has no member
 * now (the manager's own look at the map), else just drop the packet. */
static void unserved_add(struct onvm_mgr *mgr, struct unserved_run *run, uint16_t port)
{
	unsigned service = port - ONVM_UNSERVED_PORT_BASE;
	if (service != run->service) {
		unserved_flush(mgr, run);
		run->service = service;
		run->counts = onvm_service_valid(service) &&
			      onvm_service_map_count(&mgr->shm->map, (uint16_t)service) == 0;
	}
	run->count += (unsigned)run->counts;
}

/* Up to this many bursts from one NF per turn: RX brings a burst per port per
 * turn, so TX must be able to take more than one from an NF to keep up. */
#define TX_BURSTS_PER_SLOT 4

static unsigned tx_slot_burst(struct onvm_mgr *mgr, struct tx_state *state, unsigned slot)
{
	struct rte_mbuf *pkts[ONVM_BURST];
	struct unserved_run unserved = {0};
	unsigned count =
	    rte_ring_dequeue_burst(mgr->tx_rings[slot], (void **)pkts, ONVM_BURST, NULL);
	if (count == 0)
		return 0;
	/* A burst all for one port, with nothing of that port's buffered before
	 * it, leaves at once, as it came. */
	uint16_t first_port = pkts[0]->port;
	unsigned same = 1;
	while (same < count && pkts[same]->port == first_port)
		same++;
	if (same == count && first_port < mgr->nb_ports && state->to_port[first_port].count == 0) {
		tx_send(mgr, pkts, count, first_port);
		return count;
	}
	for (unsigned i = 0; i < count; i++) {
		uint16_t port = pkts[i]->port; /* set by nflib from the packet's action */
		if (unlikely(port >= mgr->nb_ports)) {
			if (port >= ONVM_UNSERVED_PORT_BASE)
				unserved_add(mgr, &unserved, port);
			rte_pktmbuf_free(pkts[i]);
			continue;
		}
		struct onvm_burst_buffer *buffer = &state->to_port[port];
		buffer->pkts[buffer->count++] = pkts[i];
		if (buffer->count == ONVM_BURST)
			tx_flush_port(mgr, buffer, port);
	}
	unserved_flush(mgr, &unserved);
	return count;
}

static unsigned tx_slot(struct onvm_mgr *mgr, struct tx_state *state, unsigned slot)
{
	unsigned total = 0, count;
	unsigned bursts = 0;
	do {
		count = tx_slot_burst(mgr, state, slot);
		total += count;
	} while (count == ONVM_BURST && ++bursts < TX_BURSTS_PER_SLOT);
	return total;
}

/* The tunnel ring: packets for other hosts' instances, out as VXLAN. */
static unsigned tx_tunnel(struct onvm_mgr *mgr, struct tx_state *state)
{
	struct rte_mbuf *pkts[ONVM_BURST];
	struct mgr_tunnel *tunnel = &mgr->tunnel;
	unsigned count = rte_ring_dequeue_burst(mgr->tunnel_ring, (void **)pkts, ONVM_BURST, NULL);
	if (count == 0)
		return 0;
	struct onvm_burst_buffer *buffer = &state->to_port[tunnel->port];
	unsigned failed = 0;
	for (unsigned i = 0; i < count; i++) {
		if (unlikely(mgr_tunnel_encap(tunnel, pkts[i], meta_of(mgr, pkts[i])) < 0)) {
			rte_pktmbuf_free(pkts[i]);
			failed++;
			continue;
		}
		buffer->pkts[buffer->count++] = pkts[i];
		if (buffer->count == ONVM_BURST)
			tx_flush_port(mgr, buffer, tunnel->port);
	}
	counter_add(&tunnel->tx_counters.encapsulated, count - failed);
	if (failed)
		counter_add(&tunnel->tx_counters.encap_drops, failed);
	return count;
}

static unsigned rx_all(struct onvm_mgr *mgr, struct rx_state *state)
{
	unsigned work = 0;
	for (uint16_t port = 0; port < mgr->nb_ports; port++) {
		if (mgr->tunnel.enabled && port == mgr->tunnel.port)
			work += rx_tunnel_port(mgr, state, port);
		else
			work += rx_port(mgr, state, port);
	}
	return work;
}

static unsigned tx_all(struct onvm_mgr *mgr, struct tx_state *state)
{
	unsigned work = 0;
	uint64_t active = __atomic_load_n(&mgr->active_slots, __ATOMIC_ACQUIRE);
	while (active) {
		unsigned slot = (unsigned)__builtin_ctzll(active);
		active &= active - 1;
		work += tx_slot(mgr, state, slot);
	}
	if (mgr->tunnel.enabled)
		work += tx_tunnel(mgr, state);
	for (uint16_t port = 0; port < mgr->nb_ports; port++)
		if (state->to_port[port].count)
			tx_flush_port(mgr, &state->to_port[port], port);
	return work;
}

enum loop_role { ROLE_RX = 1, ROLE_TX = 2 };

struct loop_args {
	struct onvm_mgr *mgr;
	unsigned roles;
};

static int dataplane_loop(void *arg)
{
	const struct loop_args *args = arg;
	struct onvm_mgr *mgr = args->mgr;
	struct rx_state *rx = rte_zmalloc("onvm_rx_state", sizeof(*rx), RTE_CACHE_LINE_SIZE);
	struct tx_state *tx = rte_zmalloc("onvm_tx_state", sizeof(*tx), RTE_CACHE_LINE_SIZE);
	struct onvm_backoff backoff = {0};

	if (rx == NULL || tx == NULL) {
		MGR_LOG(ERR, "lcore %u: out of memory", rte_lcore_id());
		mgr->quit = 1;
		rte_free(rx);
		rte_free(tx);
		return -1;
	}
	MGR_LOG(INFO, "lcore %u runs%s%s", rte_lcore_id(), (args->roles & ROLE_RX) ? " RX" : "",
		(args->roles & ROLE_TX) ? " TX" : "");
	while (!mgr->quit) {
		unsigned work = 0;
		if (args->roles & ROLE_RX)
			work += rx_all(mgr, rx);
		if (args->roles & ROLE_TX)
			work += tx_all(mgr, tx);
		if (work)
			onvm_backoff_reset(&backoff);
		else
			onvm_backoff_idle(&backoff);
	}
	rte_free(rx);
	rte_free(tx);
	return 0;
}

static struct loop_args loop_args[2];

int mgr_dataplane_launch(struct onvm_mgr *mgr)
{
	unsigned workers[2];
	unsigned nb_workers = 0;
	unsigned lcore;

	RTE_LCORE_FOREACH_WORKER(lcore)
	{
		if (nb_workers < 2)
			workers[nb_workers++] = lcore;
	}
	if (nb_workers == 0) {
		MGR_LOG(WARNING, "needs at least 2 lcores (control, and RX/TX), "
				 "e.g. -l 0,1");
		return -1;
	}
	if (nb_workers == 1) {
		loop_args[0] = (struct loop_args){mgr, ROLE_RX | ROLE_TX};
	} else {
		loop_args[0] = (struct loop_args){mgr, ROLE_RX};
		loop_args[1] = (struct loop_args){mgr, ROLE_TX};
	}
	for (unsigned i = 0; i < nb_workers; i++) {
		if (rte_eal_remote_launch(dataplane_loop, &loop_args[i], workers[i]) != 0) {
			MGR_LOG(ERR, "cannot launch lcore %u", workers[i]);
			mgr->quit = 1;
			return -1;
		}
	}
	return 0;
}

void mgr_dataplane_wait(struct onvm_mgr *mgr)
{
	mgr->quit = 1;
	rte_eal_mp_wait_lcore();
}
