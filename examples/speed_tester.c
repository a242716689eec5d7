/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * speed_tester - measures how fast packets move between NFs.  It makes a set
 * of packets once, sends them to a service (by default its own), and sends
 * every packet it receives on again; each second it prints the rate and, with
 * -l, the mean time a packet took to come back.
 *
 *   speed_tester [EAL args] -- -r SERVICE [-- [-d DEST] [-c PACKETS] [-s BYTES] [-l]]
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <rte_cycles.h>

#include "onvm_flow.h"
#include "number.h"
#include "onvm_nflib.h"
#include "onvm_pkt.h"

struct tester {
	uint16_t destination;
	unsigned packets;
	uint16_t frame_len;
	int latency;
	int seeded;

	uint64_t received;
	uint64_t latency_cycles;
	uint64_t latency_samples;
	uint64_t last_report_tsc;
	uint64_t received_at_report;
};

static void stamp(struct rte_mbuf *pkt)
{
	uint64_t now = rte_rdtsc();
	memcpy(onvm_pkt_payload(pkt), &now, sizeof(now));
}

static void tester_burst(struct onvm_nf *nf __rte_unused, struct rte_mbuf **pkts,
			 struct onvm_pkt_meta **metas, unsigned count, void *ctx)
{
	struct tester *tester = ctx;
	tester->received += count;
	if (tester->latency) {
		uint64_t now = rte_rdtsc();
		for (unsigned i = 0; i < count; i++) {
			uint64_t sent_tsc;
			memcpy(&sent_tsc, onvm_pkt_payload(pkts[i]), sizeof(sent_tsc));
			tester->latency_cycles += now - sent_tsc;
			stamp(pkts[i]);
		}
		tester->latency_samples += count;
	}
	for (unsigned i = 0; i < count; i++) {
		metas[i]->action = ONVM_ACTION_TO_SERVICE;
		metas[i]->destination = tester->destination;
	}
}

static int seed_packets(struct onvm_nf *nf, struct tester *tester)
{
	struct rte_mbuf *pkts[ONVM_BURST];
	unsigned made = 0;
	while (made < tester->packets) {
		unsigned batch = RTE_MIN(tester->packets - made, (unsigned)ONVM_BURST);
		if (rte_pktmbuf_alloc_bulk(onvm_nflib_pktmbuf_pool(nf), pkts, batch) != 0)
			return -1;
		for (unsigned i = 0; i < batch; i++) {
			onvm_pkt_fill_udp(pkts[i], made + i, tester->frame_len);
			if (tester->latency)
				stamp(pkts[i]);
			struct onvm_pkt_meta *meta = onvm_nflib_meta(nf, pkts[i]);
			memset(meta, 0, sizeof(*meta));
			meta->flags = ONVM_META_F_HASHED;
			meta->action = ONVM_ACTION_TO_SERVICE;
			meta->destination = tester->destination;
			meta->flow_hash = onvm_flow_hash(pkts[i]);
		}
		onvm_nflib_send(nf, pkts, batch);
		made += batch;
	}
	return 0;
}

static int tester_tick(struct onvm_nf *nf, void *ctx)
{
	struct tester *tester = ctx;
	if (!tester->seeded) {
		tester->seeded = 1;
		if (seed_packets(nf, tester) < 0)
			fprintf(stderr, "speed_tester: packet pool exhausted while seeding\n");
		return 1;
	}
	uint64_t now = rte_rdtsc();
	uint64_t elapsed = now - tester->last_report_tsc;
	if (elapsed < rte_get_tsc_hz())
		return 0;
	double seconds = (double)elapsed / (double)rte_get_tsc_hz();
	double mpps = (double)(tester->received - tester->received_at_report) / seconds / 1e6;
	if (tester->latency && tester->latency_samples)
		printf("speed_tester: %.2f Mpps, latency %.0f ns\n", mpps,
		       (double)tester->latency_cycles * 1e9 / (double)rte_get_tsc_hz() /
			   (double)tester->latency_samples);
	else
		printf("speed_tester: %.2f Mpps\n", mpps);
	fflush(stdout);
	tester->received_at_report = tester->received;
	tester->latency_cycles = tester->latency_samples = 0;
	tester->last_report_tsc = now;
	return 0;
}

static int parse_args(int argc, char *argv[], struct tester *tester)
{
	int opt;
	optind = 1;
	while ((opt = getopt(argc, argv, "d:c:s:l")) != -1) {
		uint64_t value = 0;
		if (opt != 'l' && onvm_parse_uint(optarg, 0, UINT64_MAX, &value) < 0)
			return -1;
		switch (opt) {
		case 'd':
			if (value < 1 || value >= ONVM_MAX_SERVICES)
				return -1;
			tester->destination = (uint16_t)value;
			break;
		case 'c':
			if (value < 1 || value > 16384)
				return -1;
			tester->packets = (unsigned)value;
			break;
		case 's':
			if (value < ONVM_PKT_MIN_LEN || value > ONVM_PKT_MAX_LEN)
				return -1;
			tester->frame_len = (uint16_t)value;
			break;
		case 'l':
			tester->latency = 1;
			break;
		default:
			return -1;
		}
	}
	return optind == argc ? 0 : -1;
}

int main(int argc, char *argv[])
{
	struct onvm_nf *nf;
	struct tester tester = {.packets = 128, .frame_len = 64};
	int used = onvm_nflib_init(argc, argv, "speed_tester", &nf);
	if (used < 0)
		return onvm_nflib_exit_status(used);
	if (parse_args(argc - used, argv + used, &tester) < 0) {
		fprintf(stderr, "usage: speed_tester [EAL args] -- -r SERVICE [-- [-d DEST] "
				"[-c PACKETS (1..16384, default 128)] [-s BYTES] [-l]]\n");
		onvm_nflib_finish(nf);
		return 2;
	}
	if (tester.destination == 0)
		tester.destination = onvm_nflib_info(nf)->service_id;
	tester.last_report_tsc = rte_rdtsc();
	struct onvm_nf_handlers handlers = {
	    .burst = tester_burst, .tick = tester_tick, .ctx = &tester};
	onvm_nflib_run(nf, &handlers);
	onvm_nflib_finish(nf);
	return 0;
}
