/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * monitor - prints what passes: a line for every Nth packet (addresses,
 * protocol, ports, length) and a count every second; the packet goes on to
 * the next service of its chain.
 *
 *   monitor [EAL args] -- -r SERVICE [-- -e EVERY]
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>

#include <rte_cycles.h>
#include <rte_ether.h>
#include <rte_ip.h>
#include <rte_udp.h>

#include "number.h"
#include "onvm_nflib.h"

struct monitor_state {
	uint64_t every;
	uint64_t seen;
	uint64_t last_report_tsc;
	uint64_t seen_at_report;
};

static void print_packet(const struct rte_mbuf *pkt, uint64_t number)
{
	const struct rte_ether_hdr *eth = rte_pktmbuf_mtod(pkt, const struct rte_ether_hdr *);
	uint32_t length = rte_pktmbuf_pkt_len(pkt);
	if (length < sizeof(*eth) + sizeof(struct rte_ipv4_hdr) ||
	    eth->ether_type != rte_cpu_to_be_16(RTE_ETHER_TYPE_IPV4)) {
		printf("monitor: #%" PRIu64 " non-IPv4, %u bytes\n", number, length);
		return;
	}
	const struct rte_ipv4_hdr *ip = (const void *)(eth + 1);
	uint32_t src = rte_be_to_cpu_32(ip->src_addr), dst = rte_be_to_cpu_32(ip->dst_addr);
	uint16_t src_port = 0, dst_port = 0;
	unsigned header_len = (ip->version_ihl & 0x0f) * 4u;
	if ((ip->next_proto_id == IPPROTO_UDP || ip->next_proto_id == IPPROTO_TCP) &&
	    length >= sizeof(*eth) + header_len + 4) {
		const uint16_t *ports = (const void *)((const uint8_t *)ip + header_len);
		src_port = rte_be_to_cpu_16(ports[0]);
		dst_port = rte_be_to_cpu_16(ports[1]);
	}
	printf("monitor: #%" PRIu64 " %u.%u.%u.%u:%u -> %u.%u.%u.%u:%u proto %u, %u bytes\n",
	       number, src >> 24, (src >> 16) & 255, (src >> 8) & 255, src & 255, src_port,
	       dst >> 24, (dst >> 16) & 255, (dst >> 8) & 255, dst & 255, dst_port,
	       ip->next_proto_id, length);
}

static void monitor_packet(struct onvm_nf *nf, struct rte_mbuf *pkt, struct onvm_pkt_meta *meta,
			   void *ctx)
{
	struct monitor_state *state = ctx;
	(void)nf;
	state->seen++;
	if (state->every && state->seen % state->every == 0)
		print_packet(pkt, state->seen);
	meta->action = ONVM_ACTION_NEXT;
}

static int monitor_tick(struct onvm_nf *nf, void *ctx)
{
	struct monitor_state *state = ctx;
	uint64_t now = rte_rdtsc();
	(void)nf;
	if (now - state->last_report_tsc >= rte_get_tsc_hz()) {
		printf("monitor: %" PRIu64 " packets, %" PRIu64 " in the last second\n",
		       state->seen, state->seen - state->seen_at_report);
		fflush(stdout);
		state->seen_at_report = state->seen;
		state->last_report_tsc = now;
	}
	return 0;
}

int main(int argc, char *argv[])
{
	struct onvm_nf *nf;
	struct monitor_state state = {.every = 1000};
	int used = onvm_nflib_init(argc, argv, "monitor", &nf);
	if (used < 0)
		return onvm_nflib_exit_status(used);

	int opt;
	argc -= used;
	argv += used;
	optind = 1;
	while ((opt = getopt(argc, argv, "e:")) != -1) {
		uint64_t value = 0;
		if (opt != 'e' || onvm_parse_uint(optarg, 0, UINT64_MAX, &value) < 0) {
			fprintf(stderr, "usage: monitor [EAL args] -- -r SERVICE [-- -e EVERY]\n"
					"  -e EVERY  print every EVERY-th packet (0: none; "
					"default 1000)\n");
			onvm_nflib_finish(nf);
			return 2;
		}
		state.every = value;
	}
	state.last_report_tsc = rte_rdtsc();
	struct onvm_nf_handlers handlers = {
	    .packet = monitor_packet, .tick = monitor_tick, .ctx = &state};
	onvm_nflib_run(nf, &handlers);
	onvm_nflib_finish(nf);
	return 0;
}
