/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * mgr_peers.h - the other hosts as the bus shows them, and their instances
 * as members of this host's service map.
 *
 * The bus client's thread notes what it hears (mgr_peers_note_*) under a
 * lock; the control thread calls mgr_peers_apply() every tick.  A peer's
 * running instances are remote members of their services while the peer is
 * online, fresh (heard from within the staleness bound) and has a tunnel
 * endpoint; the moment it is not, they leave the map, and so does every
 * instance its services message no longer lists.
 *
 * A host describes only itself, and what it says is checked before it is
 * believed (mgr_peer_rules): its tunnel endpoint must be a unicast IPv4
 * address inside this host's fabric, a unicast MAC, UDP 4789, and claimed
 * by no other host (nor by this one); its running instances may not
 * outnumber its cores.  A claim that fails is ignored, counted and logged:
 * otherwise one host's word could make every manager send it VXLAN traffic,
 * or aim that traffic at a third party.
 */
#ifndef MGR_PEERS_H
#define MGR_PEERS_H

#include <pthread.h>
#include <stdint.h>

#include "codec.h"
#include "mgr_fabric.h"
#include "mgr_tunnel.h"
#include "onvm_common.h"

#define MGR_PEER_STALE_PERIODS	 3    /* stats periods a peer may miss */
#define MGR_PEER_STALE_MIN_MS	 1500 /* and never less than this */
#define MGR_PEER_DEFAULT_PERIOD	 1000 /* until its first stats say otherwise */
#define MGR_PEER_CHECK_PERIOD_MS 20   /* staleness is looked at this often */

struct mgr_peer_member {
	uint16_t service;
	uint32_t instance;
};

/* What a peer's claims must satisfy (set from -T and --fabric). */
struct mgr_peer_rules {
	int set;	      /* 0: no tunnel here, endpoints are never used */
	uint32_t fabric;      /* the fabric's network address, host byte order */
	uint32_t fabric_mask; /* its netmask, host byte order */
	uint8_t own_ip[4];
	uint8_t own_mac[6];
	uint16_t udp_port;
};

struct mgr_peer_counters {
	uint64_t endpoint_rejects; /* state messages whose endpoint was refused */
	uint64_t services_rejects; /* services messages listing too many instances */
};

struct mgr_peer_view {
	char host[BUS_NAME_LEN];
	int online;
	int has_tunnel;
	struct bus_tunnel tunnel;
	uint32_t cores_total;	/* from its state; 0: not said */
	char refused[160];	/* the last reason a claim of it was refused */
	uint64_t last_heard_ms; /* last live (not retained) message; 0: never */
	uint32_t period_ms;	/* its stats period */
	unsigned nb_members;
	struct mgr_peer_member members[ONVM_MAX_INSTANCES]; /* its running instances */
};

/* What the control thread has put into the service map for one peer. */
struct mgr_peer_installed {
	int tunnel_index; /* -1 until the peer first had an endpoint */
	unsigned nb_members;
	struct mgr_peer_member members[ONVM_MAX_INSTANCES];
};

struct mgr_peers {
	pthread_mutex_t lock;
	char self[BUS_NAME_LEN];
	struct mgr_peer_rules rules;		    /* set before the bus starts */
	struct mgr_peer_counters counters;	    /* guarded by lock */
	unsigned nb_hosts;			    /* guarded by lock */
	struct mgr_peer_view hosts[ONVM_MAX_PEERS]; /* guarded by lock */
	int changed;				    /* guarded by lock */
	int full_reported;			    /* guarded by lock */

	/* Control thread only. */
	struct mgr_peer_view scratch;
	struct mgr_peer_installed installed[ONVM_MAX_PEERS];
	uint64_t next_check_ms;
};

int mgr_peers_init(struct mgr_peers *peers, const char *self);

/* The rules for this host's fabric: ip/prefix_len holds every host's tunnel
 * address; own_ip and own_mac are this host's endpoint. */
void mgr_peer_rules_init(struct mgr_peer_rules *rules, const uint8_t fabric_ip[4],
			 unsigned prefix_len, const uint8_t own_ip[4], const uint8_t own_mac[6]);

/* 0 when a peer may use endpoint as far as the rules go; -1 with why. */
int mgr_peer_endpoint_check(const struct mgr_peer_rules *rules, const struct bus_tunnel *endpoint,
			    char *why, size_t whylen);
void mgr_peers_destroy(struct mgr_peers *peers);

/* Bus thread: record a message about another host (one about self is ignored).
 * retained: the broker replayed it, so it says nothing of the host being alive. */
void mgr_peers_note_state(struct mgr_peers *peers, const struct bus_state *state, int retained,
			  uint64_t now_ms);
void mgr_peers_note_services(struct mgr_peers *peers, const struct bus_services *services,
			     int retained, uint64_t now_ms);
void mgr_peers_note_stats(struct mgr_peers *peers, const struct bus_stats *stats, uint64_t now_ms);

/* Whether a peer may receive traffic now. */
int mgr_peer_usable(const struct mgr_peer_view *view, uint64_t now_ms);

/* The refusals so far (a copy, taken under the lock). */
struct mgr_peer_counters mgr_peers_counters(struct mgr_peers *peers);

/*
 * Control thread: bring the remote members of map in line with what is
 * known now.  With tunnel NULL or disabled no peer is reachable.  Returns
 * how many members were added or removed.
 */
unsigned mgr_peers_apply(struct mgr_peers *peers, struct onvm_service_map *map,
			 struct mgr_tunnel *tunnel, uint64_t now_ms);

#endif
