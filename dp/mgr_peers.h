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
 */
#ifndef MGR_PEERS_H
#define MGR_PEERS_H

#include <pthread.h>
#include <stdint.h>

#include "codec.h"
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

struct mgr_peer_view {
	char host[BUS_NAME_LEN];
	int online;
	int has_tunnel;
	struct bus_tunnel tunnel;
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

/*
 * Control thread: bring the remote members of map in line with what is
 * known now.  With tunnel NULL or disabled no peer is reachable.  Returns
 * how many members were added or removed.
 */
unsigned mgr_peers_apply(struct mgr_peers *peers, struct onvm_service_map *map,
			 struct mgr_tunnel *tunnel, uint64_t now_ms);

#endif
