/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * topics.h - MQTT topic names of the bus contract (docs/bus.md).
 *
 * Builds and parses
 *     <root>/hosts/<host>/{state,services,stats,cmd,events,alarms}
 *     <root>/policy/decisions
 *     <root>/policy/engines/<engine id>
 * where <root> defaults to "onvm". Host names and engine ids are 1..63
 * printable ASCII bytes without space, '/', '+' or '#'.
 */
#ifndef ONVM_BUS_TOPICS_H
#define ONVM_BUS_TOPICS_H

#include <stdbool.h>
#include <stddef.h>

#include "bus_err.h"

#define BUS_ROOT_DEFAULT "onvm"
#define BUS_ROOT_MAX	 127 /* bytes, without the NUL */
#define BUS_NAME_MAX	 63  /* host name / engine id, bytes without the NUL */
#define BUS_NAME_LEN	 (BUS_NAME_MAX + 1)
/* Longest topic the builders produce: root + "/policy/engines/" + name. */
#define BUS_TOPIC_MAX (BUS_ROOT_MAX + 16 + BUS_NAME_MAX + 1)

/* What a topic carries. BUS_KIND_UNKNOWN is 0 so zeroed structs hold it. */
enum bus_kind {
	BUS_KIND_UNKNOWN = 0,
	BUS_KIND_STATE,
	BUS_KIND_SERVICES,
	BUS_KIND_STATS,
	BUS_KIND_CMD,
	BUS_KIND_EVENTS,
	BUS_KIND_ALARMS, /* the last per-host kind */
	BUS_KIND_DECISIONS,
	BUS_KIND_ENGINE,
	BUS_KIND_COUNT
};

/* A parsed topic: its kind and the host (per-host kinds) or engine id. */
struct bus_topic {
	enum bus_kind kind;
	char name[BUS_NAME_LEN]; /* "" for decisions and unknown topics */
};

/*
 * Set the root prefix (default "onvm"): 1..BUS_ROOT_MAX printable ASCII
 * bytes, may contain '/' between non-empty levels, no '+', '#', space, and
 * no leading '$'. Not thread-safe: call once at start-up, before any
 * thread builds or parses topics. Returns 0 or BUS_ERR_NAME.
 */
int bus_topic_set_root(const char *root);
const char *bus_topic_root(void);

/* True when name is a valid host name or engine id. */
bool bus_name_valid(const char *name);

/* "state", "services", ..., "unknown". */
const char *bus_kind_name(enum bus_kind kind);

/*
 * Builders: write the NUL-terminated topic into buf. Return 0,
 * BUS_ERR_NAME (invalid host/engine id), BUS_ERR_ARG (kind is not a
 * per-host kind, NULL pointer) or BUS_ERR_NOSPC (buf too small).
 */
int bus_topic_host(char *buf, size_t buflen, const char *host, enum bus_kind kind);
int bus_topic_decisions(char *buf, size_t buflen);
int bus_topic_engine(char *buf, size_t buflen, const char *engine_id);

/*
 * Subscription filters: "<root>/hosts/+/<kind>" for a per-host kind,
 * "<root>/policy/engines/+" for BUS_KIND_ENGINE, and "<root>/#" for
 * BUS_KIND_UNKNOWN (everything).
 */
int bus_topic_filter(char *buf, size_t buflen, enum bus_kind kind);

/*
 * Parse topic. On success returns 0 and fills out (kind and host or
 * engine id). On failure out->kind is BUS_KIND_UNKNOWN and the result is
 * BUS_ERR_TOPIC (not a contract topic: other root, other shape) or
 * BUS_ERR_NAME (right shape, invalid host or engine id).
 */
int bus_topic_parse(const char *topic, struct bus_topic *out);

#endif /* ONVM_BUS_TOPICS_H */
