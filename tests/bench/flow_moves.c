/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * flow_moves.c - how many flows change instance when a service scales.
 *
 * The flows are the load generator's (onvm_pkt_fill_udp, flow numbers
 * 0..FLOWS-1), hashed as the data plane hashes them, and the members carry
 * the keys managers give them (onvm_member_key of host and instance).  For
 * each step (1 -> 2 instances locally, 1 -> 2 with the new one remote,
 * 2 -> 3, 3 -> 2) it prints the share of flows that moved, the share an
 * ideal placement would move, and how many moved between two instances
 * that were there before and after (which should never happen).  Modulo
 * hashing, as in mainline openNetVM, is shown alongside as the baseline.
 *
 *   bench_flow_moves [FLOWS]      (default 10000)
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "onvm_common.h"
#include "onvm_flow.h"
#include "onvm_pkt.h"

struct member_set {
	unsigned count;
	uint64_t keys[8];
};

struct frame_holder {
	struct rte_mbuf mbuf;
	uint8_t data[256];
};

static uint32_t flow_hash_of(uint32_t flow)
{
	static struct frame_holder holder;
	memset(&holder, 0, sizeof(holder));
	holder.mbuf.buf_addr = holder.data;
	holder.mbuf.buf_len = sizeof(holder.data);
	holder.mbuf.data_off = 64;
	holder.mbuf.nb_segs = 1;
	if (onvm_pkt_fill_udp(&holder.mbuf, flow, 64) < 0) {
		fprintf(stderr, "bench_flow_moves: cannot build flow %u\n", flow);
		exit(1);
	}
	return onvm_flow_hash(&holder.mbuf);
}

static int has_key(const struct member_set *set, uint64_t key)
{
	for (unsigned i = 0; i < set->count; i++)
		if (set->keys[i] == key)
			return 1;
	return 0;
}

static void compare(const char *what, const uint32_t *hashes, unsigned nb_flows,
		    const struct member_set *before, const struct member_set *after)
{
	unsigned moved = 0, moved_between_stayers = 0, modulo_moved = 0;
	for (unsigned i = 0; i < nb_flows; i++) {
		uint64_t from =
		    before->keys[onvm_flow_pick(hashes[i], before->keys, before->count)];
		uint64_t to = after->keys[onvm_flow_pick(hashes[i], after->keys, after->count)];
		if (from != to) {
			moved++;
			if (has_key(after, from) && has_key(before, to))
				moved_between_stayers++;
		}
		if (hashes[i] % before->count != hashes[i] % after->count)
			modulo_moved++;
	}
	unsigned larger = before->count > after->count ? before->count : after->count;
	double ideal = 1.0 / larger;
	printf("%-34s moved %6.3f (ideal %.3f, modulo %.3f), between staying instances %u\n", what,
	       (double)moved / nb_flows, ideal, (double)modulo_moved / nb_flows,
	       moved_between_stayers);
}

int main(int argc, char *argv[])
{
	unsigned long nb_flows = 10000;
	if (argc > 2 ||
	    (argc == 2 && ((nb_flows = strtoul(argv[1], NULL, 10)) == 0 || nb_flows > 10000000))) {
		fprintf(stderr, "usage: %s [FLOWS (1..10000000)]\n", argv[0]);
		return 2;
	}
	uint32_t *hashes = malloc(nb_flows * sizeof(*hashes));
	if (hashes == NULL)
		return 1;
	for (unsigned i = 0; i < nb_flows; i++)
		hashes[i] = flow_hash_of(i);

	uint32_t h1 = onvm_host_hash("h1"), h2 = onvm_host_hash("h2");
	struct member_set one = {1, {onvm_member_key(h1, 2)}};
	struct member_set two_local = {2, {onvm_member_key(h1, 2), onvm_member_key(h1, 3)}};
	struct member_set two_remote = {2, {onvm_member_key(h1, 2), onvm_member_key(h2, 1)}};
	struct member_set three = {
	    3, {onvm_member_key(h1, 2), onvm_member_key(h1, 3), onvm_member_key(h2, 1)}};
	struct member_set three_less_one = {2, {onvm_member_key(h1, 2), onvm_member_key(h2, 1)}};

	printf("%lu flows of the load generator\n", nb_flows);
	compare("1 -> 2 instances (new one local)", hashes, nb_flows, &one, &two_local);
	compare("1 -> 2 instances (new one remote)", hashes, nb_flows, &one, &two_remote);
	compare("2 -> 3 instances", hashes, nb_flows, &two_local, &three);
	compare("3 -> 2 instances (one stopped)", hashes, nb_flows, &three, &three_less_one);
	free(hashes);
	return 0;
}
