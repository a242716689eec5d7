/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * simple_forward - passes every packet on: to the next service of its chain
 * (default), to a given service, or out of a given port.
 *
 *   simple_forward [EAL args] -- -r SERVICE [-- -d DEST_SERVICE | -p PORT]
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>

#include "number.h"
#include "onvm_nflib.h"

struct forward_config {
	uint8_t action;
	uint16_t destination;
};

static void usage(const char *prgname)
{
	fprintf(stderr,
		"usage: %s [EAL args] -- -r SERVICE [-- [-d SERVICE | -p PORT]]\n"
		"  -d SERVICE  send every packet to this service\n"
		"  -p PORT     send every packet out of this port\n"
		"  (neither: the next service of the packet's chain)\n",
		prgname);
}

static int parse_args(int argc, char *argv[], struct forward_config *config)
{
	int opt;
	config->action = ONVM_ACTION_NEXT;
	optind = 1;
	while ((opt = getopt(argc, argv, "d:p:h")) != -1) {
		uint64_t value;
		switch (opt) {
		case 'd':
		case 'p':
			if (onvm_parse_uint(optarg, 0, UINT16_MAX, &value) < 0)
				return -1;
			config->action = opt == 'd' ? ONVM_ACTION_TO_SERVICE : ONVM_ACTION_TO_PORT;
			config->destination = (uint16_t)value;
			break;
		default:
			return -1;
		}
	}
	return optind == argc ? 0 : -1;
}

/* The whole burst at once: the same action for every packet. */
static void forward_burst(struct onvm_nf *nf __rte_unused, struct rte_mbuf **pkts __rte_unused,
			  struct onvm_pkt_meta **metas, unsigned count, void *ctx)
{
	const struct forward_config *config = ctx;
	for (unsigned i = 0; i < count; i++) {
		metas[i]->action = config->action;
		metas[i]->destination = config->destination;
	}
}

int main(int argc, char *argv[])
{
	struct onvm_nf *nf;
	struct forward_config config;
	int used = onvm_nflib_init(argc, argv, "simple_forward", &nf);
	if (used < 0)
		return onvm_nflib_exit_status(used);
	if (parse_args(argc - used, argv + used, &config) < 0) {
		usage(argv[0]);
		onvm_nflib_finish(nf);
		return 2;
	}
	struct onvm_nf_handlers handlers = {.burst = forward_burst, .ctx = &config};
	onvm_nflib_run(nf, &handlers);
	onvm_nflib_finish(nf);
	return 0;
}
