/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * codec.h - C structs, JSON encoders and strict decoders for every message
 * of the bus contract (docs/bus.md).
 *
 * Decoders check the whole schema: "v" must be 1, required fields present,
 * JSON integers where the contract says integer, ranges, enum words, names,
 * and the payload's host against the topic's host. Unknown fields are
 * ignored, field order is free. A rejected payload yields a negative
 * BUS_ERR_* code and a one-line reason in the caller's buffer, e.g.
 * "instances[3].ring_fill: 1.5 out of range 0..1".
 *
 * Structs holding arrays (services, stats, and struct bus_msg) must be
 * zeroed before their first decode (= {0} or BUS_MSG_INIT); decoding again
 * into the same struct reuses its arrays, so a steady stream of messages
 * costs no allocation. Release them with the matching *_free(). After a
 * failed decode the content is unspecified but still safe to reuse or free.
 *
 * Encoders write compact JSON into a malloc'd string (free() it). They
 * check their input with the decoder, so they never produce a payload the
 * decoders would reject.
 */
#ifndef ONVM_BUS_CODEC_H
#define ONVM_BUS_CODEC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "bus_err.h"
#include "topics.h"

#define BUS_VERSION	  1
#define BUS_PAYLOAD_MAX	  (64 * 1024) /* bytes; checked before parsing */
#define BUS_TEXT_LEN	  256	      /* reason / error text: up to 255 bytes + NUL */
#define BUS_MAX_INSTANCES 1024	      /* per services or stats message */
#define BUS_MAX_PORTS	  64
#define BUS_MAX_UNSERVED  256 /* services listed in one stats message's "unserved" */
#define BUS_MAX_SPAWN	  64  /* largest "count" of a spawn command */
/* Bounds of what a host may claim: a stats period a decade beyond the
 * managers' 100..60000 ms either way, and cores no machine has past 4096.
 * A claim outside them is refused, so one host's numbers cannot make a
 * streak out of nothing or capacity out of thin air. */
#define BUS_PERIOD_MIN_MS 10
#define BUS_PERIOD_MAX_MS 600000
#define BUS_CORES_MAX	  4096

/* Positive, not an error: a zero-length (cleared retained) services payload. */
#define BUS_DECODE_CLEARED 1

enum bus_status { BUS_STATUS_OFFLINE = 0, BUS_STATUS_ONLINE };
enum bus_inst_state { BUS_INST_STARTING = 0, BUS_INST_RUNNING, BUS_INST_STOPPING };
enum bus_cmd_op { BUS_OP_SPAWN = 0, BUS_OP_STOP };
enum bus_event_kind { BUS_EV_SPAWNED = 0, BUS_EV_REJECTED, BUS_EV_STOPPED, BUS_EV_EXITED };

const char *bus_status_name(enum bus_status status);
const char *bus_inst_state_name(enum bus_inst_state state);
const char *bus_cmd_op_name(enum bus_cmd_op op);
const char *bus_event_name(enum bus_event_kind event);

/* ---- <root>/hosts/<host>/state (retained) ---- */
struct bus_cores {
	uint32_t total;
	uint32_t free; /* <= total */
};

struct bus_numa {
	uint32_t nodes; /* 1..1024 */
};

struct bus_tunnel {
	uint8_t ip[4];	   /* "10.250.0.1" -> {10, 250, 0, 1} */
	uint8_t mac[6];	   /* "02:00:0a:fa:00:01" */
	uint16_t udp_port; /* 1..65535 */
};

/*
 * An online state has ts_ms, epoch and cores. The offline form (the LWT)
 * may carry only v, host and status; anything else it carries is checked.
 */
struct bus_state {
	char host[BUS_NAME_LEN];
	enum bus_status status;
	bool has_ts_ms, has_epoch, has_cores, has_numa, has_tunnel, has_version;
	uint64_t ts_ms;
	uint64_t epoch_ms; /* JSON "epoch": manager start time */
	struct bus_cores cores;
	struct bus_numa numa;
	struct bus_tunnel tunnel;
	char version[BUS_NAME_LEN]; /* the manager's, e.g. "0.9.0"; an extra field */
};

/* ---- <root>/hosts/<host>/services (retained; empty = cleared) ---- */
struct bus_service_inst {
	uint16_t service;  /* 1..65535, the map key */
	uint32_t instance; /* > 0, unique on the host */
	uint32_t core;	   /* 0..65535 */
	enum bus_inst_state state;
};

/* The map flattened into one array, sorted by (service, instance). */
struct bus_services {
	char host[BUS_NAME_LEN];
	bool cleared; /* zero-length payload: the host published no map */
	uint64_t ts_ms;
	uint32_t n_insts;
	uint32_t insts_cap; /* allocated entries, owned by the struct */
	struct bus_service_inst *insts;
};

/* ---- <root>/hosts/<host>/stats (QoS 0, periodic) ---- */
struct bus_port_stats {
	uint16_t port;
	double rx_pps, tx_pps, drop_pps; /* >= 0 */
};

struct bus_inst_stats {
	uint32_t instance; /* > 0 */
	uint16_t service;  /* 1..65535 */
	uint32_t core;
	double rx_pps, tx_pps, drop_pps; /* >= 0 */
	double ring_fill, busy;		 /* 0..1 */
	bool has_first_rx;
	uint64_t first_rx_ms; /* when the instance handled its first packet (optional) */
};

/* Packets for a service with no instance anywhere, dropped on arrival. */
struct bus_unserved {
	uint16_t service; /* 1..65535 */
	double pps;
};

struct bus_stats {
	char host[BUS_NAME_LEN];
	uint64_t ts_ms;
	uint64_t seq;
	uint32_t period_ms; /* > 0 */
	uint32_t n_ports, ports_cap;
	struct bus_port_stats *ports;
	uint32_t n_insts, insts_cap;
	struct bus_inst_stats *insts;
	/* Optional: services whose packets this host dropped in the period
	 * because no host had an instance of them. */
	uint32_t n_unserved, unserved_cap;
	struct bus_unserved *unserved;
	/* Beyond the contract: commands the manager lost (its queue was full)
	 * or refused unread (every remembered id still live), since it started. */
	bool has_cmd_counts;
	uint64_t cmd_queue_drops, cmd_window_refusals;
	/* Also beyond it: bus messages the manager rejected (malformed, or not
	 * for it), and other hosts' claims it did not believe (a bad tunnel
	 * endpoint; more running instances than cores). */
	bool has_reject_counts;
	uint64_t bus_rejects, peer_endpoint_rejects, peer_services_rejects;
};

/* ---- <root>/hosts/<host>/cmd ---- */
struct bus_cmd {
	char target[BUS_NAME_LEN]; /* host from the topic; not in the payload */
	char id[BUS_NAME_LEN];	   /* 1..63 printable ASCII, no space */
	char engine[BUS_NAME_LEN];
	enum bus_cmd_op op;
	uint16_t service;
	uint32_t count;	   /* spawn: 1..BUS_MAX_SPAWN */
	uint32_t instance; /* stop: > 0 */
	char reason[BUS_TEXT_LEN];
	bool has_origin, has_expires, has_ts_ms;
	char origin[BUS_NAME_LEN];
	uint64_t expires_ms;
	uint64_t ts_ms; /* optional: when the sender sent it, by its wall clock */
};

/* ---- <root>/hosts/<host>/alarms (QoS 1, not retained) ---- */
/* An instance overloaded for the host's alarm time, sampled finely: a
 * policy engine treats it as a completed overload streak of the service
 * on the host. */
struct bus_alarm {
	char host[BUS_NAME_LEN];
	uint64_t ts_ms;
	uint16_t service;  /* 1..65535 */
	uint32_t instance; /* > 0 */
	double drop_pps;
	double ring_fill;  /* 0..1 */
	uint64_t since_ms; /* the onset, by the host's wall clock */
};

/* ---- <root>/hosts/<host>/events ---- */
struct bus_event {
	char host[BUS_NAME_LEN];
	uint64_t ts_ms;
	enum bus_event_kind event;
	uint16_t service; /* 0 only when rejecting a command that could not be read */
	bool has_cmd_id, has_instance, has_core, has_error;
	char cmd_id[BUS_NAME_LEN];
	uint32_t instance;
	uint32_t core;
	char error[BUS_TEXT_LEN];
};

/* ---- <root>/policy/decisions ---- */
struct bus_decision {
	char engine[BUS_NAME_LEN];
	uint64_t ts_ms;
	uint16_t service;
	bool has_origin; /* false: JSON null, a repair that no host asked for */
	char origin[BUS_NAME_LEN];
	bool has_target; /* false: JSON null, nothing chosen */
	char target[BUS_NAME_LEN];
	bool has_cmd_id;
	char cmd_id[BUS_NAME_LEN];
	char reason[BUS_TEXT_LEN];
	bool shadow;
};

/* ---- <root>/policy/engines/<id> (retained) ---- */
struct bus_engine {
	char id[BUS_NAME_LEN]; /* from the topic; not in the payload */
	enum bus_status status;
	bool has_name, has_started; /* both required when online */
	bool has_version;
	char name[BUS_NAME_LEN]; /* 1..63 bytes, no control characters */
	uint64_t started_ms;
	char version[BUS_NAME_LEN]; /* the engine's program's; an extra field */
};

/* Any decoded message, tagged by topic kind. */
struct bus_msg {
	enum bus_kind kind;
	union {
		struct bus_state state;
		struct bus_services services;
		struct bus_stats stats;
		struct bus_cmd cmd;
		struct bus_event event;
		struct bus_alarm alarm;
		struct bus_decision decision;
		struct bus_engine engine;
	} u;
};

#define BUS_MSG_INIT                                                                               \
	{                                                                                          \
		.kind = BUS_KIND_UNKNOWN                                                           \
	}

/*
 * Decoders. topic_name is the host (per-host kinds) or engine id taken from
 * the topic, or NULL to skip the host check. Returns 0 (or
 * BUS_DECODE_CLEARED for an empty services payload) or a negative BUS_ERR_*
 * with a reason in err (err may be NULL; errlen 0 writes nothing).
 */
int bus_decode_state(const char *topic_name, const void *payload, size_t len, struct bus_state *out,
		     char *err, size_t errlen);
int bus_decode_services(const char *topic_name, const void *payload, size_t len,
			struct bus_services *out, char *err, size_t errlen);
int bus_decode_stats(const char *topic_name, const void *payload, size_t len, struct bus_stats *out,
		     char *err, size_t errlen);
int bus_decode_cmd(const char *topic_name, const void *payload, size_t len, struct bus_cmd *out,
		   char *err, size_t errlen);
int bus_decode_event(const char *topic_name, const void *payload, size_t len, struct bus_event *out,
		     char *err, size_t errlen);
int bus_decode_alarm(const char *topic_name, const void *payload, size_t len, struct bus_alarm *out,
		     char *err, size_t errlen);
int bus_decode_decision(const char *topic_name, const void *payload, size_t len,
			struct bus_decision *out, char *err, size_t errlen);
int bus_decode_engine(const char *topic_name, const void *payload, size_t len,
		      struct bus_engine *out, char *err, size_t errlen);

/*
 * Parse topic, decode payload with the matching decoder into msg (which
 * must be BUS_MSG_INIT or previously used) and count every rejection,
 * unknown topics included, under the topic's kind.
 */
int bus_decode_any(const char *topic, const void *payload, size_t len, struct bus_msg *msg,
		   char *err, size_t errlen);

/* The "id" of a command that failed to decode, if it has a readable one (a
 * JSON object whose top-level "id" is a valid command id), so that the
 * rejection can name it.  1 with id set, else 0. */
int bus_cmd_peek_id(const void *payload, size_t len, char *id, size_t idlen);

/* Rejections counted by bus_decode_any() since start-up; thread-safe. */
uint64_t bus_reject_count(enum bus_kind kind);

void bus_services_free(struct bus_services *services);
void bus_stats_free(struct bus_stats *stats);
void bus_msg_free(struct bus_msg *msg);

/*
 * Encoders: *out gets a malloc'd NUL-terminated compact JSON payload.
 * Returns 0 or a negative BUS_ERR_* (invalid input, with a reason in err,
 * or BUS_ERR_NOMEM). A measurement out of its range (a core above 65535, a
 * first_rx_ms beyond int64, a ring fill above 1, a NaN rate) does not fail
 * the message: it is clamped, or left out when optional, and on success err
 * then says what was changed (else err is ""). Targets (cmd) and engine ids are topic parts and not
 * encoded. Reals are written with up to 17 significant digits, fewer when
 * 15 already give back the same double.
 */
int bus_encode_state(const struct bus_state *in, char **out, char *err, size_t errlen);
int bus_encode_services(const struct bus_services *in, char **out, char *err, size_t errlen);
int bus_encode_stats(const struct bus_stats *in, char **out, char *err, size_t errlen);
int bus_encode_cmd(const struct bus_cmd *in, char **out, char *err, size_t errlen);
int bus_encode_event(const struct bus_event *in, char **out, char *err, size_t errlen);
int bus_encode_alarm(const struct bus_alarm *in, char **out, char *err, size_t errlen);
int bus_encode_decision(const struct bus_decision *in, char **out, char *err, size_t errlen);
int bus_encode_engine(const struct bus_engine *in, char **out, char *err, size_t errlen);

#endif /* ONVM_BUS_CODEC_H */
