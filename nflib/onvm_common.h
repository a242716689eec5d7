/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * onvm_common.h - the shared-memory layout of one host, seen by the manager
 * (DPDK primary) and its network functions (secondaries).
 *
 * The manager creates everything named here at start-up under its EAL
 * --file-prefix; an NF attaches and looks the objects up by name.  Counters
 * have exactly one writer each, except the ring-full drop counters, which any
 * sender bumps with a relaxed atomic add.
 */
#ifndef ONVM_COMMON_H
#define ONVM_COMMON_H

#include <stdint.h>
#include <sys/types.h>

#include <rte_common.h>
#include <rte_mbuf.h>
#include <rte_mbuf_dyn.h>
#include <rte_ring.h>
#include <rte_seqcount.h>

#include "onvm_limits.h"

_Static_assert(ONVM_CACHE_LINE == RTE_CACHE_LINE_SIZE, "onvm_limits.h's cache line is DPDK's");

#define ONVM_SHM_NAME		"onvm_shared"
#define ONVM_PKTMBUF_POOL_NAME	"onvm_pktmbuf_pool"
#define ONVM_MSG_POOL_NAME	"onvm_msg_pool"
#define ONVM_MGR_MSG_RING_NAME	"onvm_mgr_msgq"
#define ONVM_NF_RX_RING_FMT	"onvm_nf_%u_rx"
#define ONVM_NF_TX_RING_FMT	"onvm_nf_%u_tx"
#define ONVM_META_DYNFIELD_NAME "onvm_pkt_meta"
#define ONVM_TUNNEL_RING_NAME	"onvm_tunnel_tx"
#define ONVM_POOL_OPS_NAME	"onvm_pool_ops"

/*
 * The mempool ops of the manager's pools, by name: memzone ONVM_POOL_OPS_NAME,
 * written once by the manager after it made the pools.  A pool in shared
 * memory names its ops by an index into each process's own table, which
 * fills in the order drivers register (constructors of the binary, then the
 * plugins EAL loads).  A process linked otherwise than the manager (DPDK
 * static against shared, another library order, an extra ops of its own)
 * can have another driver at that index and would call its functions on the
 * pool: nflib compares names and refuses to start instead.
 */
struct onvm_pool_ops {
	char pktmbuf[RTE_MEMPOOL_OPS_NAMESIZE]; /* ops of ONVM_PKTMBUF_POOL_NAME */
	char msg[RTE_MEMPOOL_OPS_NAMESIZE];	/* ops of ONVM_MSG_POOL_NAME */
};

/*
 * A service's members on other hosts are named in the service map by a
 * "remote slot": ONVM_REMOTE_SLOT_BASE + the peer host's index in the
 * manager's peer table.  A packet picked for one goes to the manager's
 * tunnel ring, with its peer in meta->peer, and leaves as VXLAN.
 */
#define ONVM_MAX_PEERS	      64
#define ONVM_REMOTE_SLOT_BASE 0x8000u
#define ONVM_TUNNEL_RING_SIZE 8192

/*
 * A packet an NF sent to a service with no member at all (none here, none on
 * another host) goes to the manager through the NF's TX ring with
 * pkt->port = ONVM_UNSERVED_PORT_BASE + the service: the manager drops it and
 * counts it as that service's unserved demand (dp/mgr_unserved.h).  The NF
 * counts it as a tx_drop, as before.
 */
#define ONVM_UNSERVED_PORT_BASE 0x8000u

#define ONVM_SHM_MAGIC	 0x6f6e766dU /* "onvm" */
#define ONVM_SHM_VERSION 4

/* What an NF wants done with a packet once it has handled it. */
enum onvm_action {
	ONVM_ACTION_DROP = 0,	    /* free the packet */
	ONVM_ACTION_TO_SERVICE = 1, /* destination = service id */
	ONVM_ACTION_TO_PORT = 2,    /* destination = port id */
	ONVM_ACTION_NEXT = 3,	    /* next service of the chain, or its egress port */
};

#define ONVM_META_F_HASHED 0x01 /* flow_hash is set */

/* Per-packet metadata, kept in an mbuf dynamic field. */
struct onvm_pkt_meta {
	uint8_t action;	      /* enum onvm_action */
	uint8_t chain_port;   /* the port whose chain the packet follows */
	uint8_t chain_pos;    /* index in that chain of the service now handling it */
	uint8_t flags;	      /* ONVM_META_F_* */
	uint16_t destination; /* service id or port id, by action */
	uint16_t peer;	      /* bound for the tunnel: the peer host's index */
	uint32_t flow_hash;
};

enum onvm_instance_state {
	ONVM_INST_FREE = 0,
	ONVM_INST_STARTING, /* spawned, not yet registered */
	ONVM_INST_RUNNING,
	ONVM_INST_STOPPING, /* asked to stop, or stopping on its own */
	ONVM_INST_DRAINING, /* gone; rings being emptied before reuse */
	ONVM_INST_STANDBY,  /* registered, idle, waiting to be switched on (catalog "warm") */
};

/*
 * Counters written by the NF itself (single writer; the manager's stats
 * thread reads them once a period).  The RX side (written as the NF takes a
 * burst and ends a loop turn) and the TX side (written as it passes packets
 * on) are on cache lines of their own, so that a reader of one side, or an
 * NF split into receive and send threads, never drags the other's line.
 */
struct onvm_nf_counters {
	/* RX side */
	uint64_t rx;	      /* packets dequeued from the RX ring */
	uint64_t busy_cycles; /* TSC cycles spent handling packets */
	uint64_t loop_cycles; /* TSC cycles the loop has run */
	/* TX side */
	uint64_t tx __rte_cache_aligned; /* packets passed on (to a ring or a port) */
	uint64_t act_drop;		 /* packets the NF chose to drop */
	uint64_t tx_drop;		 /* packets lost because the next ring was full */
} __rte_cache_aligned;

/* What an NF transmitted on its own queue of one port (direct TX). */
struct onvm_port_tx {
	uint64_t sent;
	uint64_t refused; /* the port would not take them: freed, and in tx_drop too */
};

struct onvm_instance {
	/* Set by the manager, read by everyone; the manager keeps its own copy
	 * (struct mgr_slot) and never reads these back, as NFs can write them. */
	volatile uint32_t state; /* enum onvm_instance_state */
	uint32_t instance_id;	 /* host-unique, never reused while the manager runs */
	uint16_t service_id;
	uint16_t slot;
	int32_t core; /* lcore given to the NF */
	pid_t pid;    /* the NF's process */
	volatile uint32_t stop_requested;
	char name[ONVM_NAME_LEN];
	struct rte_ring *rx_ring; /* manager or NFs -> this NF */
	struct rte_ring *tx_ring; /* this NF -> manager (ports) */

	struct onvm_nf_counters counters;
	uint64_t first_rx_ms; /* Unix ms of the first packet handled; set once by the NF */
	/* Per port, what the NF transmitted itself (single writer: the NF); the
	 * manager adds it to its port counters (mgr_ports_collect_direct). */
	struct onvm_port_tx port_tx[ONVM_MAX_PORTS] __rte_cache_aligned;
	/* Packets lost because this instance's RX ring was full; any sender adds. */
	uint64_t rx_ring_drops __rte_cache_aligned;
} __rte_cache_aligned;

/*
 * A service's local members.  Guarded by the service map's sequence counter
 * (DPDK's rte_seqcount: one writer, the manager's control thread, and no
 * lock an NF could hold, as rte_seqlock's spinlock would be): readers retry
 * when it is odd or changed while they read, and readers that cache picks
 * (onvm_service_map.h) take a new snapshot when it moved.  Any NF can write all of it: readers
 * bound count and check slots.
 */
struct onvm_service_entry {
	uint16_t count;
	uint16_t slots[ONVM_MAX_MEMBERS]; /* instance slots, or remote slots */
	uint64_t keys[ONVM_MAX_MEMBERS];  /* rendezvous keys: onvm_member_key() */
};

struct onvm_service_map {
	rte_seqcount_t seq;
	struct onvm_service_entry services[ONVM_MAX_SERVICES];
};

struct onvm_port_info {
	uint16_t chain_len;
	uint16_t chain[ONVM_MAX_CHAIN]; /* chain[0] is the port's default service */
	uint16_t egress_port;		/* where NEXT after the last service goes */
	/* Direct TX (onvm_direct_tx.h): 0, NFs hand their packets for this port
	 * to the manager; else the NF of slot s transmits on queue base + s. */
	uint16_t nf_tx_queue_base;
};

/*
 * Every NF maps all of this read-write.  The manager writes it; its NF
 * lifecycle and packet loops read back only the service map (whose slots
 * and counts they check, RX path included), the counters and the messages,
 * and use private copies of the rings, the metadata offset, the ports'
 * chains and each slot's state (struct onvm_mgr, struct mgr_slot).
 */
struct onvm_shared {
	uint32_t magic;
	uint32_t version;
	pid_t manager_pid;
	volatile uint32_t manager_stopping;
	int meta_offset; /* dynamic field offset of struct onvm_pkt_meta */
	uint16_t nb_ports;
	struct onvm_port_info ports[ONVM_MAX_PORTS];
	struct onvm_service_map map;
	struct onvm_instance instances[ONVM_MAX_INSTANCES];
	/* Packets for remote members: many senders, the manager's TX reads. */
	struct rte_ring *tunnel_ring;
	uint64_t tunnel_ring_drops __rte_cache_aligned; /* any sender adds */
};

enum onvm_msg_type {
	ONVM_MSG_REGISTER = 1,
	ONVM_MSG_UNREGISTER = 2,
};

/*
 * A message's status has two writers, so each takes it from PENDING with a
 * compare-and-swap and only one of them can: the manager (PENDING -> TAKEN,
 * then OK or REFUSED once it has acted), or the NF that stopped waiting
 * (PENDING -> ABANDONED: the manager then never acts on the message, and
 * returns it to the pool).  An NF that finds its message TAKEN waits for the
 * answer, which follows at once.
 */
enum onvm_msg_status {
	ONVM_MSG_PENDING = 0,	/* written by the NF before it enqueues */
	ONVM_MSG_OK = 1,	/* manager */
	ONVM_MSG_REFUSED = 2,	/* manager; error says why */
	ONVM_MSG_TAKEN = 3,	/* manager: acting on it */
	ONVM_MSG_ABANDONED = 4, /* NF: gave up waiting */
};

/* An NF -> manager request, in the message pool: the NF writes it, the
 * manager reads it once, and answers in place by setting status.  The ring
 * carries pointers, so the manager follows only those to pool messages. */
struct onvm_msg {
	uint32_t type;
	volatile uint32_t status;
	pid_t pid;
	uint16_t service_id;
	int32_t core;
	uint16_t slot; /* answer (REGISTER) or subject (UNREGISTER) */
	uint32_t instance_id;
	char name[ONVM_NAME_LEN];
	char error[64];
};

static inline int onvm_service_valid(unsigned service)
{
	return service > 0 && service < ONVM_MAX_SERVICES;
}

static inline int onvm_slot_is_remote(unsigned slot)
{
	return slot >= ONVM_REMOTE_SLOT_BASE;
}

/* Whether a slot read from the service map names an instance slot here or
 * a peer's remote slot: any NF can write the map, so a sender checks the
 * slot it picked before indexing with it. */
static inline int onvm_member_slot_valid(unsigned slot)
{
	return slot < ONVM_MAX_INSTANCES ||
	       (onvm_slot_is_remote(slot) && slot - ONVM_REMOTE_SLOT_BASE < ONVM_MAX_PEERS);
}

/*
 * The rendezvous key of an instance: the hash of its host's name in the high
 * half and its host-unique instance id in the low half.  Every host computes
 * the same keys for the same members, so every host sends a flow to the same
 * instance, and the host that receives it through the tunnel, choosing among
 * its own instances, picks that same instance again.
 */
static inline uint64_t onvm_member_key(uint32_t host_hash, uint32_t instance_id)
{
	return (uint64_t)host_hash << 32 | instance_id;
}

static inline struct onvm_pkt_meta *onvm_meta(const struct onvm_shared *shm, struct rte_mbuf *pkt)
{
	return RTE_MBUF_DYNFIELD(pkt, shm->meta_offset, struct onvm_pkt_meta *);
}

#endif
