/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * bounce - returns every packet out of the port it came in on.
 *
 *   bounce [EAL args] -- -r SERVICE
 */
#include <errno.h>
#include <stdlib.h>

#include "onvm_nflib.h"

static void bounce_packet(struct onvm_nf *nf, struct rte_mbuf *pkt, struct onvm_pkt_meta *meta,
			  void *ctx)
{
	(void)nf;
	(void)pkt;
	(void)ctx;
	meta->action = ONVM_ACTION_TO_PORT;
	meta->destination = meta->chain_port;
}

int main(int argc, char *argv[])
{
	struct onvm_nf *nf;
	int used = onvm_nflib_init(argc, argv, "bounce", &nf);
	if (used < 0)
		return onvm_nflib_exit_status(used);
	struct onvm_nf_handlers handlers = {.packet = bounce_packet};
	onvm_nflib_run(nf, &handlers);
	onvm_nflib_finish(nf);
	return 0;
}
