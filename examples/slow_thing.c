/*
 * slow_thing - spends a set number of CPU cycles on every packet, then passes
 * it to the next service of its chain.  The NF that overloads in the scaling
 * demo: at C cycles per packet one instance carries about CPU_HZ / C pps.
 *
 *   slow_thing [EAL args] -- -r SERVICE [-- -c CYCLES]
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>

#include <rte_cycles.h>
#include <rte_pause.h>

#include "onvm_nflib.h"

#define DEFAULT_CYCLES 2000

static void busy_wait_cycles(uint64_t cycles)
{
	uint64_t end = rte_rdtsc() + cycles;
	while (rte_rdtsc() < end)
		rte_pause();
}

static void slow_packet(struct onvm_nf *nf, struct rte_mbuf *pkt, struct onvm_pkt_meta *meta,
			void *ctx)
{
	(void)nf;
	(void)pkt;
	busy_wait_cycles(*(const uint64_t *)ctx);
	meta->action = ONVM_ACTION_NEXT;
}

int main(int argc, char *argv[])
{
	struct onvm_nf *nf;
	uint64_t cycles = DEFAULT_CYCLES;
	int used = onvm_nflib_init(argc, argv, "slow_thing", &nf);
	if (used < 0)
		return used == -EINVAL ? 2 : 1;

	int opt;
	char *end;
	argc -= used;
	argv += used;
	optind = 1;
	while ((opt = getopt(argc, argv, "c:")) != -1) {
		unsigned long long value = opt == 'c' ? strtoull(optarg, &end, 10) : 0;
		if (opt != 'c' || *end || value > 100000000ULL) {
			fprintf(stderr, "usage: slow_thing [EAL args] -- -r SERVICE [-- -c CYCLES]\n"
					"  -c CYCLES  busy cycles per packet (default %d)\n",
				DEFAULT_CYCLES);
			onvm_nflib_finish(nf);
			return 2;
		}
		cycles = value;
	}
	printf("slow_thing: %llu cycles per packet (about %.0f pps on one core)\n",
	       (unsigned long long)cycles,
	       cycles ? (double)rte_get_tsc_hz() / (double)cycles : 0.0);
	struct onvm_nf_handlers handlers = {.packet = slow_packet, .ctx = &cycles};
	onvm_nflib_run(nf, &handlers);
	onvm_nflib_finish(nf);
	return 0;
}
