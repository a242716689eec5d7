/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * exporter.h - the model behind onvm-exporter: what the bus says about the
 * cluster, kept as Prometheus metrics, and its text exposition format
 * (version 0.0.4) for /metrics.
 *
 * Pure: it is fed raw topics and payloads (decoded here by the strict bus
 * codecs) with the monotonic time they arrived, and renders into a buffer;
 * no MQTT, no HTTP, no clock of its own.
 *
 * A host is up while its state says online and it was heard (anything but
 * retained history) within max(stale_ms, 3 stats periods): the policy's
 * rule (policy/view.c). The stats carry rates per period; the exporter adds
 * rate * period to its own counters (_total), so a period the broker
 * dropped (a seq gap, counted) is missing from them. A manager restart (a
 * new epoch, or seq going back) starts the host's counters again, which
 * Prometheus reads as a counter reset.
 *
 * Memory is bounded whatever the bus sends: at most EXPORTER_MAX_HOSTS
 * hosts, each with at most EXPORTER_MAX_INSTANCES instances, ports,
 * services and unserved entries; what does not fit is counted in
 * onvm_exporter_dropped_total. A host that has not been up for evict_ms
 * is forgotten (so is an offline engine), making room for others.
 * Label values are at most 63 bytes (the bus's names) and escaped.
 */
#ifndef ONVM_POLICY_EXPORTER_H
#define ONVM_POLICY_EXPORTER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "codec.h"

#define EXPORTER_MAX_HOSTS     1024
#define EXPORTER_MAX_INSTANCES 64 /* per host; also ports, services, unserved */
#define EXPORTER_MAX_ENGINES   64
#define EXPORTER_RECENT_IDS    4096 /* (host, command id, result) remembered to count once */
/* A rate above this is a wrong report (no NIC comes near): clamped. */
#define EXPORTER_RATE_MAX 1e12

#define EXPORTER_EVICT_DEFAULT_MS 600000 /* forget a host 10 min after it was last up */

struct exporter_config {
	uint64_t stale_ms; /* default: the policy's (params.h) */
	uint64_t evict_ms;
	uint32_t max_hosts; /* 1..EXPORTER_MAX_HOSTS */
};

/* Decision kinds, as the label "kind" spells them. */
enum exporter_decision_kind {
	EXPORTER_DECISION_SCALE_OUT = 0,
	EXPORTER_DECISION_REPAIR,
	EXPORTER_DECISION_SCALE_IN,
	EXPORTER_DECISION_AT_MAX,
	EXPORTER_DECISION_NO_CAPACITY,
	EXPORTER_DECISION_KINDS
};

struct exporter;

void exporter_config_default(struct exporter_config *config);
/* NULL when out of memory or the config is out of range. */
struct exporter *exporter_create(const struct exporter_config *config);
void exporter_destroy(struct exporter *exporter);

/*
 * Decode and take in a message that arrived at now_ms (monotonic).
 * 1 taken, 0 ignored (nothing to export, or over a bound: counted), -1
 * rejected by the decoders (counted by kind; the reason in err).
 */
int exporter_feed(struct exporter *exporter, const char *topic, const void *payload, size_t len,
		  bool retained, uint64_t now_ms, char *err, size_t errlen);

/* The bus connection's state, exported as onvm_exporter_bus_connected. */
void exporter_set_connected(struct exporter *exporter, bool connected);

/* Forget hosts and engines gone for evict_ms. */
void exporter_tick(struct exporter *exporter, uint64_t now_ms);

/* A deep copy, to render from without holding the feeder's lock; NULL
 * when out of memory. Free with exporter_destroy(). */
struct exporter *exporter_snapshot(const struct exporter *exporter);

/* The exposition of every metric at now_ms: a malloc'd NUL-terminated text
 * (its length in *len), or NULL when out of memory. */
char *exporter_render(const struct exporter *exporter, uint64_t now_ms, size_t *len);

/* The decision kind of a decoded decision (by target, origin and reason). */
enum exporter_decision_kind exporter_decision_kind(const struct bus_decision *decision);
const char *exporter_decision_kind_name(enum exporter_decision_kind kind);

/* Hosts tracked now. */
uint32_t exporter_host_count(const struct exporter *exporter);

#endif /* ONVM_POLICY_EXPORTER_H */
