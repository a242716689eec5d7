/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * load_generator - sends UDP packets into a service at a chosen rate, spread
 * over a chosen number of flows.  The packets then follow the chain of a port
 * (default 0) from that service on, as if they had arrived on it.
 *
 *   load_generator [EAL args] -- -r SERVICE -- -d DEST [-R PPS] [-f FLOWS]
 *                  [-n COUNT] [-s BYTES] [-p PORT] [-F RATE_FILE]
 *
 * With -F, the rate is re-read from RATE_FILE (a number of pps) ten times a
 * second, so a script can raise the load step by step.
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

#define MAX_PER_TICK (4 * ONVM_BURST)

struct generator {
	uint16_t destination;
	uint16_t port;
	int chain_pos;
	uint64_t rate_pps;
	uint32_t flows;
	uint64_t count; /* 0: no end */
	uint16_t frame_len;
	const char *rate_file;

	uint64_t hz;
	uint64_t epoch_tsc;  /* start of the current rate */
	uint64_t epoch_sent; /* packets sent before it */
	uint64_t sent;
	uint64_t offered; /* sent plus those refused for lack of buffers */
	uint64_t next_file_check;
	uint64_t next_report;
	uint64_t offered_at_report;
};

static void usage(void)
{
	fprintf(stderr,
		"usage: load_generator [EAL args] -- -r SERVICE -- -d DEST [options]\n"
		"  -d DEST       service the packets are sent to (required)\n"
		"  -R PPS        packet rate (default 100000)\n"
		"  -f FLOWS      distinct flows (default 64)\n"
		"  -n COUNT      stop after COUNT packets (default: never)\n"
		"  -s BYTES      frame size, %d..%d (default 64)\n"
		"  -p PORT       follow this port's chain after DEST (default 0)\n"
		"  -F FILE       re-read the rate (pps) from FILE ten times a second\n",
		ONVM_PKT_MIN_LEN, ONVM_PKT_MAX_LEN);
}

static int parse_args(int argc, char *argv[], struct generator *gen)
{
	uint64_t value;
	int opt, have_destination = 0;
	optind = 1;
	while ((opt = getopt(argc, argv, "d:R:f:n:s:p:F:")) != -1) {
		switch (opt) {
		case 'd':
			if (onvm_parse_uint(optarg, 1, ONVM_MAX_SERVICES - 1, &value) < 0)
				return -1;
			gen->destination = (uint16_t)value;
			have_destination = 1;
			break;
		case 'R':
			if (onvm_parse_uint(optarg, 0, 1000000000, &gen->rate_pps) < 0)
				return -1;
			break;
		case 'f':
			if (onvm_parse_uint(optarg, 1, 1u << 24, &value) < 0)
				return -1;
			gen->flows = (uint32_t)value;
			break;
		case 'n':
			if (onvm_parse_uint(optarg, 0, UINT64_MAX, &gen->count) < 0)
				return -1;
			break;
		case 's':
			if (onvm_parse_uint(optarg, ONVM_PKT_MIN_LEN, ONVM_PKT_MAX_LEN, &value) < 0)
				return -1;
			gen->frame_len = (uint16_t)value;
			break;
		case 'p':
			if (onvm_parse_uint(optarg, 0, ONVM_MAX_PORTS - 1, &value) < 0)
				return -1;
			gen->port = (uint16_t)value;
			break;
		case 'F':
			gen->rate_file = optarg;
			break;
		default:
			return -1;
		}
	}
	return (have_destination && optind == argc) ? 0 : -1;
}

static void set_rate(struct generator *gen, uint64_t rate_pps, uint64_t now)
{
	if (rate_pps == gen->rate_pps)
		return;
	gen->rate_pps = rate_pps;
	gen->epoch_tsc = now;
	gen->epoch_sent = gen->offered;
	printf("load_generator: rate %" PRIu64 " pps\n", rate_pps);
	fflush(stdout);
}

static void read_rate_file(struct generator *gen, uint64_t now)
{
	FILE *file = fopen(gen->rate_file, "r");
	if (file == NULL)
		return;
	char line[64];
	uint64_t rate;
	if (fgets(line, sizeof(line), file)) {
		line[strcspn(line, "\r\n ")] = '\0';
		if (onvm_parse_uint(line, 0, 1000000000, &rate) == 0)
			set_rate(gen, rate, now);
	}
	fclose(file);
}

static uint64_t packets_due(const struct generator *gen, uint64_t now)
{
	uint64_t elapsed = now - gen->epoch_tsc;
	/* Split to avoid overflow: whole seconds, then the rest. */
	uint64_t due = (elapsed / gen->hz) * gen->rate_pps +
		       (elapsed % gen->hz) * gen->rate_pps / gen->hz + gen->epoch_sent;
	uint64_t pending = due > gen->offered ? due - gen->offered : 0;
	if (pending > MAX_PER_TICK)
		pending = MAX_PER_TICK;
	if (gen->count && gen->offered + pending > gen->count)
		pending = gen->count - gen->offered;
	return pending;
}

static void report(struct generator *gen, uint64_t now)
{
	if (now < gen->next_report)
		return;
	printf("load_generator: offered %" PRIu64 " pps, %" PRIu64 " sent in all\n",
	       gen->offered - gen->offered_at_report, gen->sent);
	fflush(stdout);
	gen->offered_at_report = gen->offered;
	gen->next_report = now + gen->hz;
}

static int generate(struct onvm_nf *nf, void *ctx)
{
	struct generator *gen = ctx;
	uint64_t now = rte_rdtsc();
	if (gen->rate_file && now >= gen->next_file_check) {
		read_rate_file(gen, now);
		gen->next_file_check = now + gen->hz / 10;
	}
	report(gen, now);
	if (gen->count && gen->offered >= gen->count) {
		printf("load_generator: done, %" PRIu64 " packets sent\n", gen->sent);
		onvm_nflib_stop(nf);
		return 0;
	}

	unsigned pending = (unsigned)packets_due(gen, now);
	if (pending == 0)
		return 0;
	struct rte_mbuf *pkts[MAX_PER_TICK];
	if (rte_pktmbuf_alloc_bulk(onvm_nflib_pktmbuf_pool(nf), pkts, pending) != 0) {
		gen->offered += pending; /* the pool is empty: count them as lost */
		return 1;
	}
	for (unsigned i = 0; i < pending; i++) {
		uint32_t flow = (uint32_t)((gen->offered + i) % gen->flows);
		onvm_pkt_fill_udp(pkts[i], flow, gen->frame_len);
		struct onvm_pkt_meta *meta = onvm_nflib_meta(nf, pkts[i]);
		meta->action = ONVM_ACTION_TO_SERVICE;
		meta->destination = gen->destination;
		meta->chain_port = (uint8_t)gen->port;
		meta->chain_pos = (uint8_t)(gen->chain_pos < 0 ? 0 : gen->chain_pos);
		meta->flags = ONVM_META_F_HASHED;
		meta->flow_hash = onvm_flow_hash(pkts[i]);
	}
	gen->offered += pending;
	gen->sent += onvm_nflib_send(nf, pkts, pending);
	return 1;
}

int main(int argc, char *argv[])
{
	struct onvm_nf *nf;
	struct generator gen = {.rate_pps = 100000, .flows = 64, .frame_len = 64};
	int used = onvm_nflib_init(argc, argv, "load_generator", &nf);
	if (used < 0)
		return onvm_nflib_exit_status(used);
	if (parse_args(argc - used, argv + used, &gen) < 0) {
		usage();
		onvm_nflib_finish(nf);
		return 2;
	}
	gen.chain_pos = onvm_nflib_chain_position(nf, gen.port, gen.destination);
	gen.hz = rte_get_tsc_hz();
	gen.epoch_tsc = rte_rdtsc();
	gen.next_report = gen.epoch_tsc + gen.hz;
	printf("load_generator: %" PRIu64 " pps to service %u over %u flows\n", gen.rate_pps,
	       gen.destination, gen.flows);
	struct onvm_nf_handlers handlers = {.tick = generate, .ctx = &gen};
	onvm_nflib_run(nf, &handlers);
	onvm_nflib_finish(nf);
	return 0;
}
