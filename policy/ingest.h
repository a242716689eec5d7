/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * ingest.h - decode a received (topic, payload) into the bus structs.
 *
 * Keeps one message struct per topic kind, so a steady stream of mixed
 * messages reuses its arrays and allocates nothing (bus_decode_any frees
 * them whenever the kind changes). Counts what it decoded, rejected, and
 * what was not a contract topic.
 */
#ifndef ONVM_POLICY_INGEST_H
#define ONVM_POLICY_INGEST_H

#include <stddef.h>
#include <stdint.h>

#include "codec.h"

struct policy_ingest {
	struct bus_msg msgs[BUS_KIND_COUNT];
	uint64_t decoded;
	uint64_t rejected;	 /* contract topic, payload failed its schema */
	uint64_t ignored_topics; /* not a contract topic */
};

void policy_ingest_init(struct policy_ingest *ingest);
void policy_ingest_free(struct policy_ingest *ingest);

/*
 * 1 with *out pointing at the decoded message (valid until the next call),
 * 0 for a topic outside the contract, -1 for a rejected payload; err gets
 * the reason for 0 and -1.
 */
int policy_ingest_decode(struct policy_ingest *ingest, const char *topic, const void *payload,
			 size_t len, const struct bus_msg **out, char *err, size_t errlen);

#endif /* ONVM_POLICY_INGEST_H */
