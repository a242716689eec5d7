/* SPDX-License-Identifier: BSD-3-Clause */
/* test_dp_tunnel.c - VXLAN headers (dp/mgr_tunnel.c) and peers as remote
 * members of the service map (dp/mgr_peers.c), without DPDK running: the
 * mbufs are plain structs over a local buffer. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "mgr_peers.h"
#include "mgr_tunnel.h"
#include "onvm_flow.h"
#include "onvm_pkt.h"
#include "onvm_service_map.h"

#define SVC 2

struct test_mbuf {
	struct rte_mbuf mbuf;
	uint8_t data[2048];
};

/* A one-segment mbuf holding a UDP frame of flow number flow. */
static struct rte_mbuf *frame(struct test_mbuf *holder, unsigned flow)
{
	memset(holder, 0, sizeof(*holder));
	struct rte_mbuf *pkt = &holder->mbuf;
	pkt->buf_addr = holder->data;
	pkt->buf_len = sizeof(holder->data);
	pkt->data_off = RTE_PKTMBUF_HEADROOM;
	pkt->nb_segs = 1;
	assert_int_equal(onvm_pkt_fill_udp(pkt, flow, 64), 0);
	return pkt;
}

static const uint8_t h1_ip[4] = {10, 250, 0, 1};
static const uint8_t h2_ip[4] = {10, 250, 0, 2};
static const struct rte_ether_addr h1_mac = {{0x02, 0, 0, 0, 0, 1}};
static const struct rte_ether_addr h2_mac = {{0x02, 0, 0, 0, 0, 2}};

static void two_ends(struct mgr_tunnel *sender, struct mgr_tunnel *receiver)
{
	memset(sender, 0, sizeof(*sender));
	memset(receiver, 0, sizeof(*receiver));
	mgr_tunnel_init(sender, 1, h1_ip, &h1_mac);
	mgr_tunnel_init(receiver, 1, h2_ip, &h2_mac);
	struct mgr_tunnel_endpoint h2 = {.mac = h2_mac, .udp_port = MGR_TUNNEL_UDP_PORT};
	memcpy(h2.ip, h2_ip, 4);
	assert_int_equal(mgr_tunnel_peer_set(sender, "h2", &h2), 0);
	/* The receiver knows the sender as a usable peer. */
	struct mgr_tunnel_endpoint h1 = {.mac = h1_mac, .udp_port = MGR_TUNNEL_UDP_PORT};
	memcpy(h1.ip, h1_ip, 4);
	assert_int_equal(mgr_tunnel_peer_set(receiver, "h1", &h1), 0);
	mgr_tunnel_peer_accept(receiver, 0, 1);
}

static void test_encap_decap_round_trip(void **state)
{
	(void)state;
	static struct mgr_tunnel sender, receiver;
	static struct test_mbuf holder;
	two_ends(&sender, &receiver);
	struct rte_mbuf *pkt = frame(&holder, 7);
	uint8_t inner[256];
	uint32_t inner_len = pkt->data_len;
	memcpy(inner, rte_pktmbuf_mtod(pkt, void *), inner_len);

	struct onvm_pkt_meta meta = {.destination = SVC, .peer = 0};
	assert_int_equal(mgr_tunnel_encap(&sender, pkt, &meta), 0);
	assert_int_equal(pkt->data_len, inner_len + MGR_VXLAN_OVERHEAD);
	assert_int_equal(pkt->port, 1);

	const uint8_t *wire = rte_pktmbuf_mtod(pkt, const uint8_t *);
	const struct rte_ipv4_hdr *ip = (const void *)(wire + sizeof(struct rte_ether_hdr));
	const struct rte_udp_hdr *udp = (const void *)(ip + 1);
	const struct rte_vxlan_hdr *vxlan = (const void *)(udp + 1);
	assert_memory_equal(wire, h2_mac.addr_bytes, 6);
	assert_memory_equal(wire + 6, h1_mac.addr_bytes, 6);
	assert_memory_equal(&ip->dst_addr, h2_ip, 4);
	struct rte_ipv4_hdr check = *ip;
	check.hdr_checksum = 0;
	assert_int_equal(rte_ipv4_cksum(&check), ip->hdr_checksum);
	assert_int_equal(rte_be_to_cpu_16(ip->total_length), inner_len + 36);
	assert_int_equal(rte_be_to_cpu_16(udp->dst_port), 4789);
	assert_true(rte_be_to_cpu_16(udp->src_port) >= 49152);
	assert_int_equal(rte_be_to_cpu_16(udp->dgram_len), inner_len + 16);
	assert_int_equal(rte_be_to_cpu_32(vxlan->vx_flags), 0x08000000u);
	assert_int_equal(rte_be_to_cpu_32(vxlan->vx_vni), SVC << 8);

	assert_int_equal(mgr_tunnel_decap(&receiver, pkt), SVC);
	assert_int_equal(pkt->data_len, inner_len);
	assert_memory_equal(rte_pktmbuf_mtod(pkt, void *), inner, inner_len);
}

static void test_source_port_follows_the_flow(void **state)
{
	(void)state;
	static struct mgr_tunnel sender, receiver;
	static struct test_mbuf a, b;
	two_ends(&sender, &receiver);
	struct onvm_pkt_meta meta = {.destination = SVC};
	struct rte_mbuf *first = frame(&a, 1), *again = frame(&b, 1);
	assert_int_equal(mgr_tunnel_encap(&sender, first, &meta), 0);
	assert_int_equal(mgr_tunnel_encap(&sender, again, &meta), 0);
	assert_memory_equal(rte_pktmbuf_mtod(first, void *), rte_pktmbuf_mtod(again, void *),
			    first->data_len);
}

static void test_unknown_peer_is_refused(void **state)
{
	(void)state;
	static struct mgr_tunnel sender, receiver;
	static struct test_mbuf holder;
	two_ends(&sender, &receiver);
	struct rte_mbuf *pkt = frame(&holder, 3);
	uint32_t len = pkt->data_len;
	struct onvm_pkt_meta meta = {.destination = SVC, .peer = 5};
	assert_int_equal(mgr_tunnel_encap(&sender, pkt, &meta), -1);
	assert_int_equal(pkt->data_len, len); /* left as it was, for the caller to free */
}

/* Encapsulate for h2, then spoil one thing: h2 must refuse it. */
static void refused_after(void (*spoil)(uint8_t *wire))
{
	static struct mgr_tunnel sender, receiver;
	static struct test_mbuf holder;
	two_ends(&sender, &receiver);
	struct rte_mbuf *pkt = frame(&holder, 9);
	struct onvm_pkt_meta meta = {.destination = SVC};
	assert_int_equal(mgr_tunnel_encap(&sender, pkt, &meta), 0);
	spoil(rte_pktmbuf_mtod(pkt, uint8_t *));
	assert_int_equal(mgr_tunnel_decap(&receiver, pkt), -1);
}

#define IP_OFF	 14
#define UDP_OFF	 34
#define VXLAN_OF 42
static void other_destination(uint8_t *wire)
{
	wire[IP_OFF + 19] = 3;
}
static void not_udp(uint8_t *wire)
{
	wire[IP_OFF + 9] = IPPROTO_TCP;
}
static void other_port(uint8_t *wire)
{
	wire[UDP_OFF + 3] ^= 1;
}
static void no_vni_flag(uint8_t *wire)
{
	wire[VXLAN_OF] = 0;
}
static void vni_zero(uint8_t *wire)
{
	memset(wire + VXLAN_OF + 4, 0, 3);
}
static void fragment(uint8_t *wire)
{
	wire[IP_OFF + 6] |= 0x20; /* MF */
}
static void ip_options(uint8_t *wire)
{
	wire[IP_OFF] = 0x46;
}
static void not_ipv4(uint8_t *wire)
{
	wire[12] = 0x86, wire[13] = 0xdd;
}

static void test_decap_refuses_what_is_not_ours(void **state)
{
	(void)state;
	refused_after(other_destination);
	refused_after(not_udp);
	refused_after(other_port);
	refused_after(no_vni_flag);
	refused_after(vni_zero);
	refused_after(fragment);
	refused_after(ip_options);
	refused_after(not_ipv4);
}

/* Frames are taken in only from a peer the receiver accepts (a usable one):
 * not from an unknown address, nor from a peer that went offline or stale. */
static void test_decap_takes_only_accepted_peers(void **state)
{
	(void)state;
	static struct mgr_tunnel sender, receiver, stranger;
	static struct test_mbuf a, b, c;
	two_ends(&sender, &receiver);
	struct onvm_pkt_meta meta = {.destination = SVC, .peer = 0};
	struct rte_mbuf *pkt = frame(&a, 3);
	assert_int_equal(mgr_tunnel_encap(&sender, pkt, &meta), 0);
	mgr_tunnel_peer_accept(&receiver, 0, 0); /* h1 went offline */
	assert_int_equal(mgr_tunnel_decap(&receiver, pkt), -1);
	mgr_tunnel_peer_accept(&receiver, 0, 1);
	assert_int_equal(mgr_tunnel_decap(&receiver, pkt), SVC);

	/* A host the receiver never accepted, sending from its own address. */
	const uint8_t h3_ip[4] = {10, 250, 0, 3};
	const struct rte_ether_addr h3_mac = {{0x02, 0, 0, 0, 0, 3}};
	mgr_tunnel_init(&stranger, 1, h3_ip, &h3_mac);
	struct mgr_tunnel_endpoint h2 = {.mac = h2_mac, .udp_port = MGR_TUNNEL_UDP_PORT};
	memcpy(h2.ip, h2_ip, 4);
	assert_int_equal(mgr_tunnel_peer_set(&stranger, "h2", &h2), 0);
	struct rte_mbuf *strange = frame(&b, 3);
	assert_int_equal(mgr_tunnel_encap(&stranger, strange, &meta), 0);
	assert_int_equal(mgr_tunnel_decap(&receiver, strange), -1);
	/* Nor with a spoofed source that is not an accepted peer's. */
	struct rte_mbuf *spoofed = frame(&c, 3);
	assert_int_equal(mgr_tunnel_encap(&stranger, spoofed, &meta), 0);
	mgr_tunnel_peer_accept(&receiver, 7, 1); /* no such peer: ignored */
	assert_int_equal(mgr_tunnel_decap(&receiver, spoofed), -1);
}

static void test_decap_refuses_a_runt(void **state)
{
	(void)state;
	static struct mgr_tunnel sender, receiver;
	static struct test_mbuf holder;
	two_ends(&sender, &receiver);
	struct rte_mbuf *pkt = frame(&holder, 1);
	pkt->data_len = pkt->pkt_len = 20;
	assert_int_equal(mgr_tunnel_decap(&receiver, pkt), -1);
}

/* ---- peers ---- */

struct peers_fixture {
	struct mgr_peers peers;
	struct onvm_service_map map;
	struct mgr_tunnel tunnel;
};

static int setup_peers(void **state)
{
	struct peers_fixture *fixture = calloc(1, sizeof(*fixture));
	if (fixture == NULL || mgr_peers_init(&fixture->peers, "h1") < 0)
		return -1;
	onvm_service_map_init(&fixture->map);
	mgr_tunnel_init(&fixture->tunnel, 1, h1_ip, &h1_mac);
	mgr_peer_rules_init(&fixture->peers.rules, h1_ip, 24, h1_ip, h1_mac.addr_bytes);
	*state = fixture;
	return 0;
}

static int teardown_peers(void **state)
{
	struct peers_fixture *fixture = *state;
	mgr_peers_destroy(&fixture->peers);
	free(fixture);
	return 0;
}

static void note_endpoint(struct peers_fixture *fixture, const char *host,
			  const struct bus_tunnel *endpoint, uint64_t now)
{
	struct bus_state state = {.status = BUS_STATUS_ONLINE,
				  .has_tunnel = true,
				  .has_cores = true,
				  .cores = {.total = 4, .free = 2},
				  .tunnel = *endpoint};
	snprintf(state.host, sizeof(state.host), "%s", host);
	mgr_peers_note_state(&fixture->peers, &state, 0, now);
}

static void note_state(struct peers_fixture *fixture, const char *host, int online, int retained,
		       uint64_t now)
{
	struct bus_state state = {
	    .status = online ? BUS_STATUS_ONLINE : BUS_STATUS_OFFLINE,
	    .has_tunnel = true,
	    .tunnel = {.ip = {10, 250, 0, 2}, .mac = {2, 0, 0, 0, 0, 2}, .udp_port = 4789}};
	snprintf(state.host, sizeof(state.host), "%s", host);
	mgr_peers_note_state(&fixture->peers, &state, retained, now);
}

static void note_services(struct peers_fixture *fixture, const char *host,
			  const uint32_t *instances, unsigned count, uint64_t now)
{
	struct bus_service_inst insts[8];
	for (unsigned i = 0; i < count; i++)
		insts[i] = (struct bus_service_inst){
		    .service = SVC, .instance = instances[i], .state = BUS_INST_RUNNING};
	struct bus_services services = {.n_insts = count, .insts_cap = count, .insts = insts};
	snprintf(services.host, sizeof(services.host), "%s", host);
	mgr_peers_note_services(&fixture->peers, &services, 0, now);
}

static void note_stats(struct peers_fixture *fixture, const char *host, uint64_t now)
{
	struct bus_stats stats = {.period_ms = 200};
	snprintf(stats.host, sizeof(stats.host), "%s", host);
	mgr_peers_note_stats(&fixture->peers, &stats, now);
}

static int member_key_present(struct peers_fixture *fixture, const char *host, uint32_t instance)
{
	return onvm_service_map_has_key(&fixture->map, SVC,
					onvm_member_key(onvm_host_hash(host), instance));
}

static void test_live_peer_becomes_members(void **state)
{
	struct peers_fixture *fixture = *state;
	const uint32_t instances[] = {1, 4};
	note_state(fixture, "h2", 1, 0, 1000);
	note_services(fixture, "h2", instances, 2, 1000);
	assert_int_equal(mgr_peers_apply(&fixture->peers, &fixture->map, &fixture->tunnel, 1000),
			 2);
	assert_int_equal(onvm_service_map_count(&fixture->map, SVC), 2);
	assert_true(member_key_present(fixture, "h2", 1));
	assert_true(member_key_present(fixture, "h2", 4));
	/* Every flow of the service now goes to h2's remote slot. */
	for (uint32_t hash = 0; hash < 100; hash++)
		assert_int_equal(onvm_service_map_pick(&fixture->map, SVC, hash),
				 ONVM_REMOTE_SLOT_BASE + 0);
	/* Nothing changes, nothing is done. */
	assert_int_equal(mgr_peers_apply(&fixture->peers, &fixture->map, &fixture->tunnel, 1001),
			 0);
}

static void test_retained_messages_alone_are_not_life(void **state)
{
	struct peers_fixture *fixture = *state;
	note_state(fixture, "h2", 1, 1, 1000);
	struct bus_service_inst inst = {.service = SVC, .instance = 1, .state = BUS_INST_RUNNING};
	struct bus_services services = {.n_insts = 1, .insts_cap = 1, .insts = &inst};
	snprintf(services.host, sizeof(services.host), "h2");
	mgr_peers_note_services(&fixture->peers, &services, 1, 1000);
	mgr_peers_apply(&fixture->peers, &fixture->map, &fixture->tunnel, 1000);
	assert_int_equal(onvm_service_map_count(&fixture->map, SVC), 0);
	note_stats(fixture, "h2", 1100); /* now it is heard */
	mgr_peers_apply(&fixture->peers, &fixture->map, &fixture->tunnel, 1100);
	assert_int_equal(onvm_service_map_count(&fixture->map, SVC), 1);
}

static void test_offline_stale_and_unlisted_leave(void **state)
{
	struct peers_fixture *fixture = *state;
	const uint32_t two[] = {1, 4}, one[] = {4};
	note_state(fixture, "h2", 1, 0, 1000);
	note_services(fixture, "h2", two, 2, 1000);
	note_stats(fixture, "h2", 1000);
	mgr_peers_apply(&fixture->peers, &fixture->map, &fixture->tunnel, 1000);
	assert_int_equal(onvm_service_map_count(&fixture->map, SVC), 2);
	assert_int_equal(fixture->tunnel.peers[0].accepted, 1); /* its frames are taken in */

	/* Instance 1 is no longer listed: it leaves, 4 stays. */
	note_services(fixture, "h2", one, 1, 1100);
	assert_int_equal(mgr_peers_apply(&fixture->peers, &fixture->map, &fixture->tunnel, 1100),
			 1);
	assert_false(member_key_present(fixture, "h2", 1));
	assert_true(member_key_present(fixture, "h2", 4));

	/* Silent past the bound (3 periods of 200 ms, at least 1500 ms): gone
	 * at the next look (they come every MGR_PEER_CHECK_PERIOD_MS). */
	mgr_peers_apply(&fixture->peers, &fixture->map, &fixture->tunnel, 1100 + 1500);
	assert_int_equal(onvm_service_map_count(&fixture->map, SVC), 1);
	mgr_peers_apply(&fixture->peers, &fixture->map, &fixture->tunnel,
			1100 + 1500 + MGR_PEER_CHECK_PERIOD_MS);
	assert_int_equal(onvm_service_map_count(&fixture->map, SVC), 0);
	assert_int_equal(fixture->tunnel.peers[0].accepted, 0); /* stale: nothing taken in */

	/* Heard again: back, in the same remote slot. */
	note_stats(fixture, "h2", 3000);
	mgr_peers_apply(&fixture->peers, &fixture->map, &fixture->tunnel, 3000);
	assert_int_equal(onvm_service_map_pick(&fixture->map, SVC, 1), ONVM_REMOTE_SLOT_BASE + 0);

	/* Offline (its last will): gone at the next apply. */
	note_state(fixture, "h2", 0, 0, 3001);
	mgr_peers_apply(&fixture->peers, &fixture->map, &fixture->tunnel, 3001);
	assert_int_equal(onvm_service_map_count(&fixture->map, SVC), 0);
}

static void test_self_and_no_tunnel_are_ignored(void **state)
{
	struct peers_fixture *fixture = *state;
	const uint32_t instances[] = {1};
	note_state(fixture, "h1", 1, 0, 1000); /* ourselves */
	note_services(fixture, "h1", instances, 1, 1000);
	mgr_peers_apply(&fixture->peers, &fixture->map, &fixture->tunnel, 1000);
	assert_int_equal(onvm_service_map_count(&fixture->map, SVC), 0);

	/* A live peer, but this host has no tunnel: it cannot reach it. */
	note_state(fixture, "h2", 1, 0, 1000);
	note_services(fixture, "h2", instances, 1, 1000);
	mgr_peers_apply(&fixture->peers, &fixture->map, NULL, 1000);
	assert_int_equal(onvm_service_map_count(&fixture->map, SVC), 0);
}

/* A host describes only itself: endpoints that would aim traffic elsewhere
 * are refused, each for its reason. */
static void test_peer_endpoint_rules(void **state)
{
	(void)state;
	struct mgr_peer_rules rules;
	mgr_peer_rules_init(&rules, (const uint8_t[]){10, 250, 0, 0}, 24, h1_ip, h1_mac.addr_bytes);
	static const struct {
		struct bus_tunnel endpoint;
		const char *reason; /* NULL: accepted */
	} cases[] = {
	    {{{10, 250, 0, 2}, {2, 0, 0, 0, 0, 2}, 4789}, NULL},
	    {{{10, 250, 1, 2}, {2, 0, 0, 0, 0, 2}, 4789}, "outside the fabric"},
	    {{{127, 0, 0, 1}, {2, 0, 0, 0, 0, 2}, 4789}, "outside the fabric"},
	    {{{10, 250, 0, 0}, {2, 0, 0, 0, 0, 2}, 4789}, "network or broadcast"},
	    {{{10, 250, 0, 255}, {2, 0, 0, 0, 0, 2}, 4789}, "network or broadcast"},
	    {{{10, 250, 0, 1}, {2, 0, 0, 0, 0, 2}, 4789}, "own address"},
	    {{{10, 250, 0, 2}, {0xff, 0xff, 0xff, 0xff, 0xff, 0xff}, 4789}, "unicast MAC"},
	    {{{10, 250, 0, 2}, {1, 0, 0x5e, 0, 0, 1}, 4789}, "unicast MAC"},
	    {{{10, 250, 0, 2}, {0, 0, 0, 0, 0, 0}, 4789}, "unicast MAC"},
	    {{{10, 250, 0, 2}, {2, 0, 0, 0, 0, 1}, 4789}, "own MAC"},
	    {{{10, 250, 0, 2}, {2, 0, 0, 0, 0, 2}, 53}, "VXLAN port"},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char why[96] = "";
		int ret = mgr_peer_endpoint_check(&rules, &cases[i].endpoint, why, sizeof(why));
		if (cases[i].reason == NULL) {
			assert_int_equal(ret, 0);
		} else {
			assert_int_equal(ret, -1);
			if (strstr(why, cases[i].reason) == NULL)
				fail_msg("case %zu: '%s' does not say '%s'", i, why,
					 cases[i].reason);
		}
	}
	/* Wider fabrics, and the addresses no fabric may hold. */
	mgr_peer_rules_init(&rules, (const uint8_t[]){0, 0, 0, 0}, 0, h1_ip, h1_mac.addr_bytes);
	const struct bus_tunnel multicast = {{224, 0, 0, 1}, {2, 0, 0, 0, 0, 2}, 4789};
	const struct bus_tunnel loopback = {{127, 0, 0, 1}, {2, 0, 0, 0, 0, 2}, 4789};
	char why[96];
	assert_int_equal(mgr_peer_endpoint_check(&rules, &multicast, why, sizeof(why)), -1);
	assert_int_equal(mgr_peer_endpoint_check(&rules, &loopback, why, sizeof(why)), -1);
}

/* The first host to claim an endpoint keeps it; a second claim of the same
 * IP or MAC is ignored, and so are its instances' traffic. */
static void test_endpoint_claimed_twice_is_refused(void **state)
{
	struct peers_fixture *fixture = *state;
	const struct bus_tunnel h2 = {{10, 250, 0, 2}, {2, 0, 0, 0, 0, 2}, 4789};
	const struct bus_tunnel h3_same_ip = {{10, 250, 0, 2}, {2, 0, 0, 0, 0, 3}, 4789};
	const struct bus_tunnel h3_same_mac = {{10, 250, 0, 3}, {2, 0, 0, 0, 0, 2}, 4789};
	const struct bus_tunnel h3_own = {{10, 250, 0, 3}, {2, 0, 0, 0, 0, 3}, 4789};
	const uint32_t instances[] = {1};
	note_endpoint(fixture, "h2", &h2, 1000);
	note_endpoint(fixture, "h3", &h3_same_ip, 1000);
	note_services(fixture, "h3", instances, 1, 1000);
	note_stats(fixture, "h3", 1000);
	mgr_peers_apply(&fixture->peers, &fixture->map, &fixture->tunnel, 1000);
	assert_false(member_key_present(fixture, "h3", 1));
	note_endpoint(fixture, "h3", &h3_same_mac, 1001);
	mgr_peers_apply(&fixture->peers, &fixture->map, &fixture->tunnel, 1001);
	assert_false(member_key_present(fixture, "h3", 1));
	assert_int_equal(fixture->peers.counters.endpoint_rejects, 2);

	/* Its own endpoint is accepted, and its instance joins. */
	note_endpoint(fixture, "h3", &h3_own, 1002);
	mgr_peers_apply(&fixture->peers, &fixture->map, &fixture->tunnel, 1002);
	assert_true(member_key_present(fixture, "h3", 1));
}

/* A host cannot run more instances than it has cores: such a map is ignored. */
static void test_more_instances_than_cores_are_refused(void **state)
{
	struct peers_fixture *fixture = *state;
	const struct bus_tunnel h2 = {{10, 250, 0, 2}, {2, 0, 0, 0, 0, 2}, 4789};
	const uint32_t five[] = {1, 2, 3, 4, 5}, four[] = {1, 2, 3, 4};
	note_endpoint(fixture, "h2", &h2, 1000); /* 4 cores */
	note_stats(fixture, "h2", 1000);
	note_services(fixture, "h2", five, 5, 1000);
	mgr_peers_apply(&fixture->peers, &fixture->map, &fixture->tunnel, 1000);
	assert_int_equal(onvm_service_map_count(&fixture->map, SVC), 0);
	assert_int_equal(fixture->peers.counters.services_rejects, 1);
	note_services(fixture, "h2", four, 4, 1001);
	mgr_peers_apply(&fixture->peers, &fixture->map, &fixture->tunnel, 1001);
	assert_int_equal(onvm_service_map_count(&fixture->map, SVC), 4);
}

/* The receiving host, choosing among its own instances, picks the instance
 * the sender chose among all of them: keys are the same everywhere. */
static void test_receiver_agrees_with_sender(void **state)
{
	(void)state;
	static struct onvm_service_map sender, receiver;
	static struct test_mbuf holder;
	onvm_service_map_init(&sender);
	onvm_service_map_init(&receiver);
	uint32_t h1 = onvm_host_hash("h1"), h2 = onvm_host_hash("h2");
	/* h1: local instances 1, 2 (slots 0, 1); h2: instances 1, 2 (remote). */
	onvm_service_map_add(&sender, SVC, 0, onvm_member_key(h1, 1));
	onvm_service_map_add(&sender, SVC, 1, onvm_member_key(h1, 2));
	onvm_service_map_add(&sender, SVC, ONVM_REMOTE_SLOT_BASE, onvm_member_key(h2, 1));
	onvm_service_map_add(&sender, SVC, ONVM_REMOTE_SLOT_BASE, onvm_member_key(h2, 2));
	/* h2: its instances 1, 2 in slots 3, 5; h1's are remote to it. */
	onvm_service_map_add(&receiver, SVC, 3, onvm_member_key(h2, 1));
	onvm_service_map_add(&receiver, SVC, ONVM_REMOTE_SLOT_BASE, onvm_member_key(h1, 1));
	onvm_service_map_add(&receiver, SVC, 5, onvm_member_key(h2, 2));
	onvm_service_map_add(&receiver, SVC, ONVM_REMOTE_SLOT_BASE, onvm_member_key(h1, 2));

	unsigned remote = 0;
	for (unsigned flow = 0; flow < 2000; flow++) {
		struct rte_mbuf *pkt = frame(&holder, flow);
		struct onvm_pkt_meta meta = {0};
		uint32_t hash = onvm_flow_hash(pkt);
		int slot = onvm_service_map_pick(&sender, SVC, hash);
		if (!onvm_slot_is_remote((unsigned)slot))
			continue;
		remote++;
		int there = onvm_service_map_pick_local_pkt(&receiver, SVC, pkt, &meta);
		assert_true(there == 3 || there == 5);
		/* Which of h2's instances: the one whose key won on h1. */
		uint64_t keys[] = {onvm_member_key(h1, 1), onvm_member_key(h1, 2),
				   onvm_member_key(h2, 1), onvm_member_key(h2, 2)};
		int best = onvm_flow_pick(hash, keys, 4);
		assert_int_equal(there, best == 2 ? 3 : 5);
	}
	assert_in_range(remote, 800, 1200); /* about half the flows */
}

/* A VNI the tunnel port's chain does not name is rejected, not served by
 * some NF and then sent out with no chain to follow. */
static void test_only_the_tunnel_chain_is_served(void **state)
{
	(void)state;
	struct onvm_port_info info = {.chain_len = 2, .chain = {2, 5}, .egress_port = 0};
	assert_int_equal(mgr_tunnel_chain_pos(&info, 2), 0);
	assert_int_equal(mgr_tunnel_chain_pos(&info, 5), 1);
	assert_int_equal(mgr_tunnel_chain_pos(&info, 3), -1);
	assert_int_equal(mgr_tunnel_chain_pos(&info, 0), -1);
	info.chain[5] = 7; /* past the chain's end: not in it */
	assert_int_equal(mgr_tunnel_chain_pos(&info, 7), -1);
	info.chain_len = 0xffff; /* a length that says more than the chain holds */
	assert_int_equal(mgr_tunnel_chain_pos(&info, 7), 5);
	assert_int_equal(mgr_tunnel_chain_pos(&info, 9), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_encap_decap_round_trip),
	    cmocka_unit_test(test_source_port_follows_the_flow),
	    cmocka_unit_test(test_unknown_peer_is_refused),
	    cmocka_unit_test(test_decap_refuses_what_is_not_ours),
	    cmocka_unit_test(test_decap_refuses_a_runt),
	    cmocka_unit_test(test_only_the_tunnel_chain_is_served),
	    cmocka_unit_test(test_decap_takes_only_accepted_peers),
	    cmocka_unit_test_setup_teardown(test_live_peer_becomes_members, setup_peers,
					    teardown_peers),
	    cmocka_unit_test_setup_teardown(test_retained_messages_alone_are_not_life, setup_peers,
					    teardown_peers),
	    cmocka_unit_test_setup_teardown(test_offline_stale_and_unlisted_leave, setup_peers,
					    teardown_peers),
	    cmocka_unit_test_setup_teardown(test_self_and_no_tunnel_are_ignored, setup_peers,
					    teardown_peers),
	    cmocka_unit_test(test_receiver_agrees_with_sender),
	    cmocka_unit_test(test_peer_endpoint_rules),
	    cmocka_unit_test_setup_teardown(test_endpoint_claimed_twice_is_refused, setup_peers,
					    teardown_peers),
	    cmocka_unit_test_setup_teardown(test_more_instances_than_cores_are_refused, setup_peers,
					    teardown_peers),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
