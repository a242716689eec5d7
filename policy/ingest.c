/* SPDX-License-Identifier: BSD-3-Clause */
/* ingest.c - decode received messages into reused structs (see ingest.h). */
#include <stdio.h>

#include "ingest.h"

void policy_ingest_init(struct policy_ingest *ingest)
{
	*ingest = (struct policy_ingest){0};
	for (int kind = 0; kind < BUS_KIND_COUNT; kind++)
		ingest->msgs[kind].kind = (enum bus_kind)kind;
}

void policy_ingest_free(struct policy_ingest *ingest)
{
	for (int kind = 0; kind < BUS_KIND_COUNT; kind++)
		bus_msg_free(&ingest->msgs[kind]);
}

static int decode_kind(struct bus_msg *msg, const char *name, const void *payload, size_t len,
		       char *err, size_t errlen)
{
	switch (msg->kind) {
	case BUS_KIND_STATE:
		return bus_decode_state(name, payload, len, &msg->u.state, err, errlen);
	case BUS_KIND_SERVICES:
		return bus_decode_services(name, payload, len, &msg->u.services, err, errlen);
	case BUS_KIND_STATS:
		return bus_decode_stats(name, payload, len, &msg->u.stats, err, errlen);
	case BUS_KIND_CMD:
		return bus_decode_cmd(name, payload, len, &msg->u.cmd, err, errlen);
	case BUS_KIND_EVENTS:
		return bus_decode_event(name, payload, len, &msg->u.event, err, errlen);
	case BUS_KIND_ALARMS:
		return bus_decode_alarm(name, payload, len, &msg->u.alarm, err, errlen);
	case BUS_KIND_DECISIONS:
		return bus_decode_decision(NULL, payload, len, &msg->u.decision, err, errlen);
	case BUS_KIND_ENGINE:
		return bus_decode_engine(name, payload, len, &msg->u.engine, err, errlen);
	default:
		snprintf(err, errlen, "unknown kind");
		return BUS_ERR_TOPIC;
	}
}

int policy_ingest_decode(struct policy_ingest *ingest, const char *topic, const void *payload,
			 size_t len, const struct bus_msg **out, char *err, size_t errlen)
{
	struct bus_topic parsed;
	if (bus_topic_parse(topic, &parsed) < 0 || parsed.kind == BUS_KIND_UNKNOWN) {
		snprintf(err, errlen, "not a bus topic");
		ingest->ignored_topics++;
		return 0;
	}
	struct bus_msg *msg = &ingest->msgs[parsed.kind];
	if (decode_kind(msg, parsed.name, payload, len, err, errlen) < 0) {
		ingest->rejected++;
		return -1;
	}
	ingest->decoded++;
	*out = msg;
	return 1;
}
