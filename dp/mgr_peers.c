/* SPDX-License-Identifier: BSD-3-Clause */
/* mgr_peers.c - other hosts' instances as remote members (see mgr_peers.h). */
#include <stdio.h>
#include <string.h>

#include "onvm_log.h"
#include "mgr_peers.h"
#include "onvm_flow.h"
#include "onvm_service_map.h"

int mgr_peers_init(struct mgr_peers *peers, const char *self)
{
	memset(peers, 0, sizeof(*peers));
	snprintf(peers->self, sizeof(peers->self), "%s", self);
	for (unsigned i = 0; i < ONVM_MAX_PEERS; i++)
		peers->installed[i].tunnel_index = -1;
	return pthread_mutex_init(&peers->lock, NULL) == 0 ? 0 : -1;
}

void mgr_peers_destroy(struct mgr_peers *peers)
{
	pthread_mutex_destroy(&peers->lock);
}

/* The view of host, made if new; NULL for self or when the table is full.
 * Called with the lock held. */
static struct mgr_peer_view *view_of(struct mgr_peers *peers, const char *host)
{
	if (strcmp(host, peers->self) == 0)
		return NULL;
	for (unsigned i = 0; i < peers->nb_hosts; i++)
		if (strcmp(peers->hosts[i].host, host) == 0)
			return &peers->hosts[i];
	if (peers->nb_hosts == ONVM_MAX_PEERS) {
		if (!peers->full_reported)
			MGR_LOG(WARNING,
				"peers: more than %d hosts; %s and later ones are "
				"not reachable from here",
				ONVM_MAX_PEERS, host);
		peers->full_reported = 1;
		return NULL;
	}
	struct mgr_peer_view *view = &peers->hosts[peers->nb_hosts++];
	memset(view, 0, sizeof(*view));
	snprintf(view->host, sizeof(view->host), "%s", host);
	view->period_ms = MGR_PEER_DEFAULT_PERIOD;
	return view;
}

void mgr_peer_rules_init(struct mgr_peer_rules *rules, const uint8_t fabric_ip[4],
			 unsigned prefix_len, const uint8_t own_ip[4], const uint8_t own_mac[6])
{
	memset(rules, 0, sizeof(*rules));
	rules->set = 1;
	rules->fabric_mask = mgr_fabric_mask(prefix_len);
	rules->fabric = mgr_ipv4_host_order(fabric_ip) & rules->fabric_mask;
	memcpy(rules->own_ip, own_ip, sizeof(rules->own_ip));
	memcpy(rules->own_mac, own_mac, sizeof(rules->own_mac));
	rules->udp_port = MGR_TUNNEL_UDP_PORT;
}

int mgr_peer_endpoint_check(const struct mgr_peer_rules *rules, const struct bus_tunnel *endpoint,
			    char *why, size_t whylen)
{
	uint32_t ip = mgr_ipv4_host_order(endpoint->ip);
	uint32_t host_bits = ~rules->fabric_mask;
	static const uint8_t no_mac[6];
	const char *reason = NULL;
	if ((ip & rules->fabric_mask) != rules->fabric)
		reason = "outside the fabric";
	else if (ip == 0 || (ip >> 24) == 127 || (ip >> 28) == 0xe || ip == UINT32_MAX)
		reason = "not a unicast address";
	else if (host_bits > 1 && ((ip & host_bits) == 0 || (ip & host_bits) == host_bits))
		reason = "the fabric's network or broadcast address";
	else if (memcmp(endpoint->ip, rules->own_ip, sizeof(endpoint->ip)) == 0)
		reason = "this host's own address";
	else if ((endpoint->mac[0] & 1) != 0 || memcmp(endpoint->mac, no_mac, sizeof(no_mac)) == 0)
		reason = "not a unicast MAC";
	else if (memcmp(endpoint->mac, rules->own_mac, sizeof(rules->own_mac)) == 0)
		reason = "this host's own MAC";
	else if (endpoint->udp_port != rules->udp_port)
		reason = "not the VXLAN port";
	if (reason == NULL)
		return 0;
	snprintf(why, whylen, "%u.%u.%u.%u port %u: %s", endpoint->ip[0], endpoint->ip[1],
		 endpoint->ip[2], endpoint->ip[3], endpoint->udp_port, reason);
	return -1;
}

/* Another known host already claims this endpoint's IP or MAC. */
static const struct mgr_peer_view *claimed_by(const struct mgr_peers *peers,
					      const struct mgr_peer_view *view,
					      const struct bus_tunnel *endpoint)
{
	for (unsigned i = 0; i < peers->nb_hosts; i++) {
		const struct mgr_peer_view *other = &peers->hosts[i];
		if (other != view && other->has_tunnel &&
		    (memcmp(other->tunnel.ip, endpoint->ip, sizeof(endpoint->ip)) == 0 ||
		     memcmp(other->tunnel.mac, endpoint->mac, sizeof(endpoint->mac)) == 0))
			return other;
	}
	return NULL;
}

/* Log a refused claim once per new reason. Called with the lock held. */
static void refuse(struct mgr_peer_view *view, uint64_t *counter, const char *what, const char *why)
{
	(*counter)++;
	if (strcmp(view->refused, why) == 0)
		return;
	snprintf(view->refused, sizeof(view->refused), "%s", why);
	MGR_LOG(WARNING, "peers: ignoring %s's %s: %s", view->host, what, why);
}

/* Whether the endpoint a state message claims may be used. Lock held. */
static int endpoint_acceptable(struct mgr_peers *peers, struct mgr_peer_view *view,
			       const struct bus_tunnel *endpoint)
{
	char why[sizeof(view->refused)];
	if (!peers->rules.set)
		return 1;
	if (mgr_peer_endpoint_check(&peers->rules, endpoint, why, sizeof(why)) == 0) {
		const struct mgr_peer_view *other = claimed_by(peers, view, endpoint);
		if (other == NULL) {
			view->refused[0] = '\0';
			return 1;
		}
		if (memcmp(other->tunnel.ip, endpoint->ip, sizeof(endpoint->ip)) == 0)
			snprintf(why, sizeof(why), "%u.%u.%u.%u is already %s's", endpoint->ip[0],
				 endpoint->ip[1], endpoint->ip[2], endpoint->ip[3], other->host);
		else
			snprintf(why, sizeof(why),
				 "MAC %02x:%02x:%02x:%02x:%02x:%02x is already %s's",
				 endpoint->mac[0], endpoint->mac[1], endpoint->mac[2],
				 endpoint->mac[3], endpoint->mac[4], endpoint->mac[5], other->host);
	}
	refuse(view, &peers->counters.endpoint_rejects, "tunnel endpoint", why);
	return 0;
}

static void heard(struct mgr_peer_view *view, int retained, uint64_t now_ms)
{
	if (!retained)
		view->last_heard_ms = now_ms;
}

void mgr_peers_note_state(struct mgr_peers *peers, const struct bus_state *state, int retained,
			  uint64_t now_ms)
{
	pthread_mutex_lock(&peers->lock);
	struct mgr_peer_view *view = view_of(peers, state->host);
	if (view) {
		view->online = state->status == BUS_STATUS_ONLINE;
		view->has_tunnel = view->online && state->has_tunnel &&
				   endpoint_acceptable(peers, view, &state->tunnel);
		if (view->has_tunnel)
			view->tunnel = state->tunnel;
		if (state->has_cores)
			view->cores_total = state->cores.total;
		heard(view, retained, now_ms);
		peers->changed = 1;
	}
	pthread_mutex_unlock(&peers->lock);
}

void mgr_peers_note_services(struct mgr_peers *peers, const struct bus_services *services,
			     int retained, uint64_t now_ms)
{
	pthread_mutex_lock(&peers->lock);
	struct mgr_peer_view *view = view_of(peers, services->host);
	if (view) {
		view->nb_members = 0;
		uint32_t running = 0;
		for (uint32_t i = 0; i < services->n_insts; i++)
			running += services->insts[i].state == BUS_INST_RUNNING;
		uint32_t limit = view->cores_total ? view->cores_total : ONVM_MAX_INSTANCES;
		if (running > limit || running > ONVM_MAX_INSTANCES) {
			char why[96];
			snprintf(why, sizeof(why), "%u running instances on %u cores", running,
				 view->cores_total);
			refuse(view, &peers->counters.services_rejects, "services", why);
			running = 0; /* believe none of them */
		}
		for (uint32_t i = 0; i < services->n_insts && running; i++) {
			const struct bus_service_inst *inst = &services->insts[i];
			if (inst->state != BUS_INST_RUNNING || inst->service >= ONVM_MAX_SERVICES ||
			    view->nb_members == ONVM_MAX_INSTANCES)
				continue;
			view->members[view->nb_members++] =
			    (struct mgr_peer_member){inst->service, inst->instance};
		}
		heard(view, retained, now_ms);
		peers->changed = 1;
	}
	pthread_mutex_unlock(&peers->lock);
}

void mgr_peers_note_stats(struct mgr_peers *peers, const struct bus_stats *stats, uint64_t now_ms)
{
	pthread_mutex_lock(&peers->lock);
	struct mgr_peer_view *view = view_of(peers, stats->host);
	if (view) {
		int was_stale = !mgr_peer_usable(view, now_ms);
		view->period_ms = stats->period_ms;
		view->last_heard_ms = now_ms;
		if (was_stale)
			peers->changed = 1;
	}
	pthread_mutex_unlock(&peers->lock);
}

struct mgr_peer_counters mgr_peers_counters(struct mgr_peers *peers)
{
	pthread_mutex_lock(&peers->lock);
	struct mgr_peer_counters counters = peers->counters;
	pthread_mutex_unlock(&peers->lock);
	return counters;
}

int mgr_peer_usable(const struct mgr_peer_view *view, uint64_t now_ms)
{
	uint64_t bound = (uint64_t)view->period_ms * MGR_PEER_STALE_PERIODS;
	if (bound < MGR_PEER_STALE_MIN_MS)
		bound = MGR_PEER_STALE_MIN_MS;
	return view->online && view->has_tunnel && view->last_heard_ms != 0 &&
	       now_ms - view->last_heard_ms <= bound;
}

static int has_member(const struct mgr_peer_member *members, unsigned count,
		      const struct mgr_peer_member *wanted)
{
	for (unsigned i = 0; i < count; i++)
		if (members[i].service == wanted->service &&
		    members[i].instance == wanted->instance)
			return 1;
	return 0;
}

static struct mgr_tunnel_endpoint endpoint_of(const struct bus_tunnel *tunnel)
{
	struct mgr_tunnel_endpoint endpoint = {.udp_port = tunnel->udp_port};
	memcpy(endpoint.ip, tunnel->ip, sizeof(endpoint.ip));
	memcpy(endpoint.mac.addr_bytes, tunnel->mac, sizeof(endpoint.mac.addr_bytes));
	return endpoint;
}

/* Make the map's members of one peer those of wanted[]. */
static unsigned reconcile(struct mgr_peer_installed *installed, const struct mgr_peer_view *view,
			  const struct mgr_peer_member *wanted, unsigned nb_wanted,
			  struct onvm_service_map *map)
{
	uint32_t host_hash = onvm_host_hash(view->host);
	unsigned changes = 0, kept = 0;

	for (unsigned i = 0; i < installed->nb_members; i++) {
		const struct mgr_peer_member *member = &installed->members[i];
		if (has_member(wanted, nb_wanted, member)) {
			installed->members[kept++] = *member;
			continue;
		}
		onvm_service_map_remove_key(map, member->service,
					    onvm_member_key(host_hash, member->instance));
		MGR_LOG(INFO, "peers: %s's instance %u of service %u leaves", view->host,
			member->instance, member->service);
		changes++;
	}
	installed->nb_members = kept;

	uint16_t slot = (uint16_t)(ONVM_REMOTE_SLOT_BASE + (unsigned)installed->tunnel_index);
	for (unsigned i = 0; i < nb_wanted; i++) {
		const struct mgr_peer_member *member = &wanted[i];
		if (has_member(installed->members, installed->nb_members, member))
			continue;
		uint64_t key = onvm_member_key(host_hash, member->instance);
		if (onvm_service_map_add(map, member->service, slot, key) < 0) {
			MGR_LOG(WARNING,
				"peers: service %u is full; %s's instance %u "
				"gets no traffic from here",
				member->service, view->host, member->instance);
			continue;
		}
		installed->members[installed->nb_members++] = *member;
		MGR_LOG(INFO, "peers: %s's instance %u of service %u joins", view->host,
			member->instance, member->service);
		changes++;
	}
	return changes;
}

unsigned mgr_peers_apply(struct mgr_peers *peers, struct onvm_service_map *map,
			 struct mgr_tunnel *tunnel, uint64_t now_ms)
{
	pthread_mutex_lock(&peers->lock);
	int due = peers->changed || now_ms >= peers->next_check_ms;
	peers->changed = 0;
	unsigned nb_hosts = peers->nb_hosts;
	pthread_mutex_unlock(&peers->lock);
	if (!due)
		return 0;
	peers->next_check_ms = now_ms + MGR_PEER_CHECK_PERIOD_MS;

	unsigned changes = 0;
	int reachable = tunnel && tunnel->enabled;
	for (unsigned i = 0; i < nb_hosts; i++) {
		struct mgr_peer_view *view = &peers->scratch;
		pthread_mutex_lock(&peers->lock);
		*view = peers->hosts[i];
		pthread_mutex_unlock(&peers->lock);

		struct mgr_peer_installed *installed = &peers->installed[i];
		int usable = reachable && mgr_peer_usable(view, now_ms);
		if (usable) {
			struct mgr_tunnel_endpoint endpoint = endpoint_of(&view->tunnel);
			int index = mgr_tunnel_peer_set(tunnel, view->host, &endpoint);
			usable = index >= 0;
			/* The index of a host never changes, so members keep their slot. */
			installed->tunnel_index = usable ? index : installed->tunnel_index;
		}
		if (reachable)
			mgr_tunnel_peer_accept(tunnel, installed->tunnel_index, usable);
		if (!usable && installed->nb_members == 0)
			continue;
		changes +=
		    reconcile(installed, view, view->members, usable ? view->nb_members : 0, map);
	}
	return changes;
}
