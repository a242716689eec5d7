/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * slow_thing - the NF that overloads in the scaling demo.  Each packet costs
 * it a set number of CPU cycles (-c), and it can be capped at a packet rate
 * (-R), which models an NF with a fixed capacity per instance however many
 * CPUs the machine has.  Packets go on to the next service of their chain.
 *
 *   slow_thing [EAL args] -- -r SERVICE [-- [-c CYCLES] [-R MAX_PPS]]
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>

#include <rte_cycles.h>
#include <rte_pause.h>

#include "number.h"
#include "onvm_nflib.h"

#define DEFAULT_CYCLES 2000

struct slow_thing {
	uint64_t cycles_per_packet;
	uint64_t max_pps; /* 0: no cap */
	uint64_t hz;
	uint64_t tokens;    /* packets it may take now */
	uint64_t batch;	    /* tokens it waits for before taking packets */
	uint64_t saved_max; /* tokens it may save up */
	uint64_t last_refill;
};

static void busy_wait_cycles(uint64_t cycles)
{
	uint64_t end = rte_rdtsc() + cycles;
	while (rte_rdtsc() < end)
		rte_pause();
}

static void slow_packet(struct onvm_nf *nf, struct rte_mbuf *pkt, struct onvm_pkt_meta *meta,
			void *ctx)
{
	const struct slow_thing *slow = ctx;
	(void)nf;
	(void)pkt;
	busy_wait_cycles(slow->cycles_per_packet);
	meta->action = ONVM_ACTION_NEXT;
}

/*
 * Token bucket: max_pps tokens a second, up to 10 ms worth saved (so a late
 * wake-up is made up for), handed out a batch at a time (a millisecond's
 * worth, 1..a burst) and at most a burst per turn: taking one or two packets
 * per turn would keep the loop spinning, and a capped NF would then use a
 * whole CPU at any rate.
 */
static unsigned slow_budget(struct onvm_nf *nf, void *ctx)
{
	struct slow_thing *slow = ctx;
	(void)nf;
	if (slow->max_pps == 0)
		return ONVM_BURST;
	uint64_t now = rte_rdtsc();
	uint64_t earned = (now - slow->last_refill) * slow->max_pps / slow->hz;
	if (earned > 0) {
		slow->tokens = RTE_MIN(slow->tokens + earned, slow->saved_max);
		/* Keep the fraction of a token not yet earned. */
		slow->last_refill += earned * slow->hz / slow->max_pps;
		if (now - slow->last_refill > slow->hz / 100)
			slow->last_refill = now; /* long idle: do not save up */
	}
	if (slow->tokens < slow->batch)
		return 0; /* the loop idles and backs off meanwhile */
	unsigned budget = (unsigned)RTE_MIN(slow->tokens, (uint64_t)ONVM_BURST);
	slow->tokens -= budget; /* what the ring cannot fill now is not owed later */
	return budget;
}

static int parse_args(int argc, char *argv[], struct slow_thing *slow)
{
	int opt;
	optind = 1;
	while ((opt = getopt(argc, argv, "c:R:")) != -1) {
		uint64_t value;
		if ((opt != 'c' && opt != 'R') || onvm_parse_uint(optarg, 0, 100000000, &value) < 0)
			return -1;
		if (opt == 'c')
			slow->cycles_per_packet = value;
		else
			slow->max_pps = value;
	}
	return optind == argc ? 0 : -1;
}

int main(int argc, char *argv[])
{
	struct onvm_nf *nf;
	struct slow_thing slow = {.cycles_per_packet = DEFAULT_CYCLES};
	int used = onvm_nflib_init(argc, argv, "slow_thing", &nf);
	if (used < 0)
		return onvm_nflib_exit_status(used);
	if (parse_args(argc - used, argv + used, &slow) < 0) {
		fprintf(stderr,
			"usage: slow_thing [EAL args] -- -r SERVICE [-- [-c CYCLES] "
			"[-R MAX_PPS]]\n"
			"  -c CYCLES   busy cycles per packet (default %d)\n"
			"  -R MAX_PPS  take at most MAX_PPS packets a second (default: no cap)\n",
			DEFAULT_CYCLES);
		onvm_nflib_finish(nf);
		return 2;
	}
	slow.hz = rte_get_tsc_hz();
	slow.last_refill = rte_rdtsc();
	slow.batch = RTE_MAX(RTE_MIN(slow.max_pps / 1000, (uint64_t)ONVM_BURST), (uint64_t)1);
	slow.saved_max = RTE_MAX(slow.max_pps / 100, (uint64_t)ONVM_BURST);
	double cpu_pps =
	    slow.cycles_per_packet ? (double)slow.hz / (double)slow.cycles_per_packet : 0.0;
	printf("slow_thing: %llu cycles per packet (%.0f pps on a core of its own), cap %llu pps\n",
	       (unsigned long long)slow.cycles_per_packet, cpu_pps,
	       (unsigned long long)slow.max_pps);
	struct onvm_nf_handlers handlers = {
	    .packet = slow_packet, .budget = slow_budget, .ctx = &slow};
	onvm_nflib_run(nf, &handlers);
	onvm_nflib_finish(nf);
	return 0;
}
