/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * codec.c - encoders and strict decoders of the bus contract's messages.
 *
 * Each message is described once, by a table of its fields (key, type,
 * range, where it lives in the C struct). The decoder walks the payload
 * with the pull parser of json_scan.c and stores every field straight into
 * the struct, so a stats message costs no allocation once its arrays have
 * grown. The encoder walks the same tables to build a jansson tree, dumps
 * it, and runs the decoder over its own output.
 */
#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "codec.h"
#include "json_scan.h"

/* ------------------------------------------------------------------ */
/* Field tables                                                        */
/* ------------------------------------------------------------------ */

enum field_type {
	FT_VERSION, /* "v": the integer BUS_VERSION */
	FT_UINT,    /* JSON integer, stored in an unsigned field of `size` bytes */
	FT_REAL,    /* JSON number, stored in a double */
	FT_BOOL,
	FT_STR,	   /* string into char[size], checked by `str` */
	FT_ENUM,   /* string, one of `words`, stored as its index */
	FT_IPV4,   /* "a.b.c.d" into uint8_t[4] */
	FT_MAC,	   /* "aa:bb:cc:dd:ee:ff" into uint8_t[6] */
	FT_OBJECT, /* nested object described by `sub` */
	FT_ARRAY,  /* array of objects described by `sub`, stored per `arr` */
	FT_CUSTOM, /* decoded and encoded by `dec` / `enc` */
};

enum str_check {
	STR_NAME,  /* host name or engine id (bus_name_valid) */
	STR_ID,	   /* 1..size-1 printable ASCII bytes, no space */
	STR_LABEL, /* 1..size-1 bytes, no control characters */
	STR_TEXT,  /* 0..size-1 bytes, no control characters */
};

#define FL_REQ	       0x1 /* must be present */
#define FL_NULLABLE    0x2 /* JSON null allowed: leaves the has-flag false */
#define FL_INTEGRAL    0x4 /* encode integral reals as JSON integers */
#define FL_ZERO_ABSENT 0x8 /* optional without has-flag: 0 means absent */
/* A measurement: out of range, the encoder leaves it out (optional) or clamps
 * it (required) and says so, rather than lose the whole message. */
#define FL_FIT 0x10

#define NO_FLAG 0xffff

struct dec;
struct enc;
struct object_spec;

struct array_spec {
	uint16_t ptr_off, count_off, cap_off; /* element pointer, count, capacity */
	uint16_t elem_size;
	uint32_t max;
};

struct field {
	const char *key;
	uint8_t klen; /* strlen(key) */
	uint8_t type;
	uint8_t flags;
	uint8_t str;
	uint16_t off;	  /* of the value in its struct */
	uint16_t has_off; /* of its bool has-flag, or NO_FLAG */
	uint16_t size;	  /* bytes of the stored integer or string buffer */
	uint64_t min, max;
	double dmin, dmax;
	const char *const *words;
	const struct object_spec *sub;
	const struct array_spec *arr;
	int (*dec)(struct dec *d, void *base);
	json_t *(*enc)(struct enc *e, const void *base);
};

struct object_spec {
	const struct field *fields;
	unsigned n;
};

#define MEMBER_SIZE(S, m) sizeof(((S *)0)->m)
#define HAS(S, m)	  offsetof(S, m)
#define SPEC(tbl)                                                                                  \
	{                                                                                          \
		tbl, sizeof(tbl) / sizeof(tbl[0])                                                  \
	}

#define F_VERSION                                                                                  \
	{                                                                                          \
		.key = "v", .klen = 1, .type = FT_VERSION, .flags = FL_REQ, .has_off = NO_FLAG     \
	}
#define F_UINT(S, k, m, lo, hi, fl, has)                                                           \
	{                                                                                          \
		.key = k, .klen = sizeof(k) - 1, .type = FT_UINT, .flags = fl,                     \
		.off = offsetof(S, m), .has_off = has, .size = MEMBER_SIZE(S, m), .min = lo,       \
		.max = hi                                                                          \
	}
#define F_REAL(S, k, m, lo, hi, fl)                                                                \
	{                                                                                          \
		.key = k, .klen = sizeof(k) - 1, .type = FT_REAL, .flags = fl,                     \
		.off = offsetof(S, m), .has_off = NO_FLAG, .dmin = lo, .dmax = hi                  \
	}
#define F_BOOL(S, k, m, fl)                                                                        \
	{                                                                                          \
		.key = k, .klen = sizeof(k) - 1, .type = FT_BOOL, .flags = fl,                     \
		.off = offsetof(S, m), .has_off = NO_FLAG                                          \
	}
#define F_STR(S, k, m, chk, fl, has)                                                               \
	{                                                                                          \
		.key = k, .klen = sizeof(k) - 1, .type = FT_STR, .flags = fl, .str = chk,          \
		.off = offsetof(S, m), .has_off = has, .size = MEMBER_SIZE(S, m)                   \
	}
#define F_ENUM(S, k, m, w, fl)                                                                     \
	{                                                                                          \
		.key = k, .klen = sizeof(k) - 1, .type = FT_ENUM, .flags = fl,                     \
		.off = offsetof(S, m), .has_off = NO_FLAG, .size = MEMBER_SIZE(S, m), .words = w   \
	}
#define F_ADDR(S, k, t, m, fl)                                                                     \
	{                                                                                          \
		.key = k, .klen = sizeof(k) - 1, .type = t, .flags = fl, .off = offsetof(S, m),    \
		.has_off = NO_FLAG                                                                 \
	}
#define F_OBJECT(S, k, m, spec, fl, has)                                                           \
	{                                                                                          \
		.key = k, .klen = sizeof(k) - 1, .type = FT_OBJECT, .flags = fl,                   \
		.off = offsetof(S, m), .has_off = has, .sub = &spec                                \
	}
#define F_ARRAY(k, spec, array, fl)                                                                \
	{                                                                                          \
		.key = k, .klen = sizeof(k) - 1, .type = FT_ARRAY, .flags = fl,                    \
		.has_off = NO_FLAG, .sub = &spec, .arr = &array                                    \
	}
#define F_CUSTOM(k, d, e, fl)                                                                      \
	{                                                                                          \
		.key = k, .klen = sizeof(k) - 1, .type = FT_CUSTOM, .flags = fl,                   \
		.has_off = NO_FLAG, .dec = d, .enc = e                                             \
	}

#define U16	 UINT16_MAX
#define U32	 UINT32_MAX
#define I64	 ((uint64_t)INT64_MAX)
#define CORE_MAX 65535

static const char *const status_words[] = {"offline", "online", NULL};
static const char *const inst_state_words[] = {"starting", "running", "stopping", NULL};
static const char *const op_words[] = {"spawn", "stop", NULL};
static const char *const event_words[] = {"spawned", "rejected", "stopped", "exited", NULL};

/* state */
static const struct field cores_fields[] = {
    F_UINT(struct bus_cores, "total", total, 0, BUS_CORES_MAX, FL_REQ, NO_FLAG),
    F_UINT(struct bus_cores, "free", free, 0, BUS_CORES_MAX, FL_REQ, NO_FLAG),
};
static const struct object_spec cores_spec = SPEC(cores_fields);

static const struct field numa_fields[] = {
    F_UINT(struct bus_numa, "nodes", nodes, 1, 1024, FL_REQ, NO_FLAG),
};
static const struct object_spec numa_spec = SPEC(numa_fields);

static const struct field tunnel_fields[] = {
    F_ADDR(struct bus_tunnel, "ip", FT_IPV4, ip, FL_REQ),
    F_ADDR(struct bus_tunnel, "mac", FT_MAC, mac, FL_REQ),
    F_UINT(struct bus_tunnel, "udp_port", udp_port, 1, U16, FL_REQ, NO_FLAG),
};
static const struct object_spec tunnel_spec = SPEC(tunnel_fields);

#define S struct bus_state
static const struct field state_fields[] = {
    F_VERSION,
    F_STR(S, "host", host, STR_NAME, FL_REQ, NO_FLAG),
    F_ENUM(S, "status", status, status_words, FL_REQ),
    F_UINT(S, "epoch", epoch_ms, 0, I64, 0, HAS(S, has_epoch)),
    F_UINT(S, "ts_ms", ts_ms, 0, I64, 0, HAS(S, has_ts_ms)),
    F_OBJECT(S, "cores", cores, cores_spec, 0, HAS(S, has_cores)),
    F_OBJECT(S, "numa", numa, numa_spec, 0, HAS(S, has_numa)),
    F_OBJECT(S, "tunnel", tunnel, tunnel_spec, 0, HAS(S, has_tunnel)),
    F_STR(S, "version", version, STR_LABEL, 0, HAS(S, has_version)),
};
#undef S
static const struct object_spec state_spec = SPEC(state_fields);

/* services */
static int services_map_dec(struct dec *d, void *base);
static json_t *services_map_enc(struct enc *e, const void *base);

static const struct field service_inst_fields[] = {
    F_UINT(struct bus_service_inst, "instance", instance, 1, U32, FL_REQ, NO_FLAG),
    F_UINT(struct bus_service_inst, "core", core, 0, CORE_MAX, FL_REQ | FL_FIT, NO_FLAG),
    F_ENUM(struct bus_service_inst, "state", state, inst_state_words, FL_REQ),
};
static const struct object_spec service_inst_spec = SPEC(service_inst_fields);

static const struct array_spec service_inst_array = {
    .ptr_off = offsetof(struct bus_services, insts),
    .count_off = offsetof(struct bus_services, n_insts),
    .cap_off = offsetof(struct bus_services, insts_cap),
    .elem_size = sizeof(struct bus_service_inst),
    .max = BUS_MAX_INSTANCES,
};

#define S struct bus_services
static const struct field services_fields[] = {
    F_VERSION,
    F_STR(S, "host", host, STR_NAME, FL_REQ, NO_FLAG),
    F_UINT(S, "ts_ms", ts_ms, 0, I64, FL_REQ, NO_FLAG),
    F_CUSTOM("services", services_map_dec, services_map_enc, FL_REQ),
};
#undef S
static const struct object_spec services_spec = SPEC(services_fields);

/* stats */
#define S struct bus_port_stats
static const struct field port_fields[] = {
    F_UINT(S, "port", port, 0, U16, FL_REQ, NO_FLAG),
    F_REAL(S, "rx_pps", rx_pps, 0, INFINITY, FL_REQ | FL_INTEGRAL | FL_FIT),
    F_REAL(S, "tx_pps", tx_pps, 0, INFINITY, FL_REQ | FL_INTEGRAL | FL_FIT),
    F_REAL(S, "drop_pps", drop_pps, 0, INFINITY, FL_REQ | FL_INTEGRAL | FL_FIT),
};
#undef S
static const struct object_spec port_spec = SPEC(port_fields);

#define S struct bus_inst_stats
static const struct field inst_stats_fields[] = {
    F_UINT(S, "instance", instance, 1, U32, FL_REQ, NO_FLAG),
    F_UINT(S, "service", service, 1, U16, FL_REQ, NO_FLAG),
    F_UINT(S, "core", core, 0, CORE_MAX, FL_REQ | FL_FIT, NO_FLAG),
    F_REAL(S, "rx_pps", rx_pps, 0, INFINITY, FL_REQ | FL_INTEGRAL | FL_FIT),
    F_REAL(S, "tx_pps", tx_pps, 0, INFINITY, FL_REQ | FL_INTEGRAL | FL_FIT),
    F_REAL(S, "drop_pps", drop_pps, 0, INFINITY, FL_REQ | FL_INTEGRAL | FL_FIT),
    F_REAL(S, "ring_fill", ring_fill, 0, 1, FL_REQ | FL_FIT),
    F_REAL(S, "busy", busy, 0, 1, FL_REQ | FL_FIT),
    F_UINT(S, "first_rx_ms", first_rx_ms, 0, I64, FL_FIT, HAS(S, has_first_rx)),
};
#undef S
static const struct object_spec inst_stats_spec = SPEC(inst_stats_fields);

#define S struct bus_unserved
static const struct field unserved_fields[] = {
    F_UINT(S, "service", service, 1, U16, FL_REQ, NO_FLAG),
    F_REAL(S, "pps", pps, 0, INFINITY, FL_REQ | FL_INTEGRAL | FL_FIT),
};
#undef S
static const struct object_spec unserved_spec = SPEC(unserved_fields);

static const struct array_spec unserved_array = {
    .ptr_off = offsetof(struct bus_stats, unserved),
    .count_off = offsetof(struct bus_stats, n_unserved),
    .cap_off = offsetof(struct bus_stats, unserved_cap),
    .elem_size = sizeof(struct bus_unserved),
    .max = BUS_MAX_UNSERVED,
};

static const struct array_spec port_array = {
    .ptr_off = offsetof(struct bus_stats, ports),
    .count_off = offsetof(struct bus_stats, n_ports),
    .cap_off = offsetof(struct bus_stats, ports_cap),
    .elem_size = sizeof(struct bus_port_stats),
    .max = BUS_MAX_PORTS,
};

static const struct array_spec inst_stats_array = {
    .ptr_off = offsetof(struct bus_stats, insts),
    .count_off = offsetof(struct bus_stats, n_insts),
    .cap_off = offsetof(struct bus_stats, insts_cap),
    .elem_size = sizeof(struct bus_inst_stats),
    .max = BUS_MAX_INSTANCES,
};

#define S struct bus_stats
static const struct field stats_fields[] = {
    F_VERSION,
    F_STR(S, "host", host, STR_NAME, FL_REQ, NO_FLAG),
    F_UINT(S, "ts_ms", ts_ms, 0, I64, FL_REQ, NO_FLAG),
    F_UINT(S, "seq", seq, 0, I64, FL_REQ, NO_FLAG),
    F_UINT(S, "period_ms", period_ms, BUS_PERIOD_MIN_MS, BUS_PERIOD_MAX_MS, FL_REQ, NO_FLAG),
    F_ARRAY("ports", port_spec, port_array, FL_REQ),
    F_ARRAY("instances", inst_stats_spec, inst_stats_array, FL_REQ),
    F_ARRAY("unserved", unserved_spec, unserved_array, 0),
    F_UINT(S, "cmd_queue_drops", cmd_queue_drops, 0, I64, 0, HAS(S, has_cmd_counts)),
    F_UINT(S, "cmd_window_refusals", cmd_window_refusals, 0, I64, 0, HAS(S, has_cmd_counts)),
    F_UINT(S, "bus_rejects", bus_rejects, 0, I64, 0, HAS(S, has_reject_counts)),
    F_UINT(S, "peer_endpoint_rejects", peer_endpoint_rejects, 0, I64, 0, HAS(S, has_reject_counts)),
    F_UINT(S, "peer_services_rejects", peer_services_rejects, 0, I64, 0, HAS(S, has_reject_counts)),
};
#undef S
static const struct object_spec stats_spec = SPEC(stats_fields);

/* cmd */
#define S struct bus_cmd
static const struct field cmd_fields[] = {
    F_VERSION,
    F_STR(S, "id", id, STR_ID, FL_REQ, NO_FLAG),
    F_STR(S, "engine", engine, STR_NAME, FL_REQ, NO_FLAG),
    F_ENUM(S, "op", op, op_words, FL_REQ),
    F_UINT(S, "service", service, 1, U16, FL_REQ, NO_FLAG),
    F_UINT(S, "count", count, 1, BUS_MAX_SPAWN, FL_ZERO_ABSENT, NO_FLAG),
    F_UINT(S, "instance", instance, 1, U32, FL_ZERO_ABSENT, NO_FLAG),
    F_STR(S, "origin", origin, STR_NAME, FL_NULLABLE, HAS(S, has_origin)),
    F_STR(S, "reason", reason, STR_TEXT, FL_REQ, NO_FLAG),
    F_UINT(S, "expires_ms", expires_ms, 0, I64, 0, HAS(S, has_expires)),
    F_UINT(S, "ts_ms", ts_ms, 0, I64, 0, HAS(S, has_ts_ms)),
};
#undef S
static const struct object_spec cmd_spec = SPEC(cmd_fields);

/* events */
#define S struct bus_event
static const struct field event_fields[] = {
    F_VERSION,
    F_STR(S, "host", host, STR_NAME, FL_REQ, NO_FLAG),
    F_UINT(S, "ts_ms", ts_ms, 0, I64, FL_REQ, NO_FLAG),
    F_STR(S, "cmd_id", cmd_id, STR_ID, 0, HAS(S, has_cmd_id)),
    F_ENUM(S, "event", event, event_words, FL_REQ),
    F_UINT(S, "service", service, 0, U16, FL_REQ, NO_FLAG), /* 0: rejecting an unreadable command */
    F_UINT(S, "instance", instance, 1, U32, 0, HAS(S, has_instance)),
    F_UINT(S, "core", core, 0, CORE_MAX, FL_FIT, HAS(S, has_core)),
    F_STR(S, "error", error, STR_TEXT, 0, HAS(S, has_error)),
};
#undef S
static const struct object_spec event_spec = SPEC(event_fields);

/* alarms */
#define S struct bus_alarm
static const struct field alarm_fields[] = {
    F_VERSION,
    F_STR(S, "host", host, STR_NAME, FL_REQ, NO_FLAG),
    F_UINT(S, "ts_ms", ts_ms, 0, I64, FL_REQ, NO_FLAG),
    F_UINT(S, "service", service, 1, U16, FL_REQ, NO_FLAG),
    F_UINT(S, "instance", instance, 1, U32, FL_REQ, NO_FLAG),
    F_REAL(S, "drop_pps", drop_pps, 0, INFINITY, FL_REQ | FL_INTEGRAL | FL_FIT),
    F_REAL(S, "ring_fill", ring_fill, 0, 1, FL_REQ | FL_FIT),
    F_UINT(S, "since_ms", since_ms, 0, I64, FL_REQ, NO_FLAG),
};
#undef S
static const struct object_spec alarm_spec = SPEC(alarm_fields);

/* decisions */
#define S struct bus_decision
static const struct field decision_fields[] = {
    F_VERSION,
    F_STR(S, "engine", engine, STR_NAME, FL_REQ, NO_FLAG),
    F_UINT(S, "ts_ms", ts_ms, 0, I64, FL_REQ, NO_FLAG),
    F_UINT(S, "service", service, 1, U16, FL_REQ, NO_FLAG),
    F_STR(S, "origin", origin, STR_NAME, FL_REQ | FL_NULLABLE, HAS(S, has_origin)),
    F_STR(S, "target", target, STR_NAME, FL_REQ | FL_NULLABLE, HAS(S, has_target)),
    F_STR(S, "cmd_id", cmd_id, STR_ID, 0, HAS(S, has_cmd_id)),
    F_STR(S, "reason", reason, STR_TEXT, FL_REQ, NO_FLAG),
    F_BOOL(S, "shadow", shadow, FL_REQ),
};
#undef S
static const struct object_spec decision_spec = SPEC(decision_fields);

/* engine announcement */
#define S struct bus_engine
static const struct field engine_fields[] = {
    F_VERSION,
    F_ENUM(S, "status", status, status_words, FL_REQ),
    F_STR(S, "name", name, STR_LABEL, 0, HAS(S, has_name)),
    F_UINT(S, "started_ms", started_ms, 0, I64, 0, HAS(S, has_started)),
    F_STR(S, "version", version, STR_LABEL, 0, HAS(S, has_version)),
};
#undef S
static const struct object_spec engine_spec = SPEC(engine_fields);

const char *bus_status_name(enum bus_status status)
{
	return (unsigned)status < 2 ? status_words[status] : "?";
}

const char *bus_inst_state_name(enum bus_inst_state state)
{
	return (unsigned)state < 3 ? inst_state_words[state] : "?";
}

const char *bus_cmd_op_name(enum bus_cmd_op op)
{
	return (unsigned)op < 2 ? op_words[op] : "?";
}

const char *bus_event_name(enum bus_event_kind event)
{
	return (unsigned)event < 4 ? event_words[event] : "?";
}

/* ------------------------------------------------------------------ */
/* Struct access                                                       */
/* ------------------------------------------------------------------ */

static void store_uint(void *p, size_t size, uint64_t v)
{
	uint8_t u8 = (uint8_t)v;
	uint16_t u16 = (uint16_t)v;
	uint32_t u32 = (uint32_t)v;

	switch (size) {
	case 1:
		memcpy(p, &u8, 1);
		break;
	case 2:
		memcpy(p, &u16, 2);
		break;
	case 4:
		memcpy(p, &u32, 4);
		break;
	default:
		memcpy(p, &v, 8);
		break;
	}
}

static uint64_t load_uint(const void *p, size_t size)
{
	uint8_t u8;
	uint16_t u16;
	uint32_t u32;
	uint64_t u64;

	switch (size) {
	case 1:
		memcpy(&u8, p, 1);
		return u8;
	case 2:
		memcpy(&u16, p, 2);
		return u16;
	case 4:
		memcpy(&u32, p, 4);
		return u32;
	default:
		memcpy(&u64, p, 8);
		return u64;
	}
}

static void set_flag(void *base, uint16_t off, bool value)
{
	if (off != NO_FLAG)
		memcpy((char *)base + off, &value, sizeof(value));
}

static bool get_flag(const void *base, uint16_t off)
{
	bool value;

	memcpy(&value, (const char *)base + off, sizeof(value));
	return value;
}

static void *get_ptr(const void *base, uint16_t off)
{
	void *p;

	memcpy(&p, (const char *)base + off, sizeof(p));
	return p;
}

static void set_ptr(void *base, uint16_t off, void *p)
{
	memcpy((char *)base + off, &p, sizeof(p));
}

/* Copy s into a short, single-line, printable form for error messages. */
static const char *printable(char *buf, size_t len, const char *s)
{
	size_t i;

	for (i = 0; i + 1 < len && s[i]; i++)
		buf[i] = ((unsigned char)s[i] < 0x20 || s[i] == 0x7f) ? '?' : s[i];
	buf[i] = '\0';
	if (s[i] && len > 4)
		memcpy(buf + len - 4, "...", 4);
	return buf;
}

/* ------------------------------------------------------------------ */
/* Decoding                                                            */
/* ------------------------------------------------------------------ */

#define PATH_DEPTH 8
#define KEY_MAX	   32 /* longer keys are unknown to every table */

struct path_frame {
	const char *key; /* NULL for an array element */
	int32_t idx;
};

struct dec {
	struct jscan js;
	char *err;
	size_t errlen;
	int code; /* first schema error */
	int depth;
	struct path_frame path[PATH_DEPTH];
};

static void path_push(struct dec *d, const char *key, int32_t idx)
{
	if (d->depth < PATH_DEPTH) {
		d->path[d->depth].key = key;
		d->path[d->depth].idx = idx;
	}
	d->depth++;
}

static void path_pop(struct dec *d)
{
	d->depth--;
}

/* Record a schema error at the current path: "a.b[2].c: <message>". */
static int dec_fail(struct dec *d, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int dec_fail(struct dec *d, int code, const char *fmt, ...)
{
	size_t n = 0;
	va_list ap;
	int i;

	if (d->code)
		return -1;
	d->code = code;
	if (!d->err || !d->errlen)
		return -1;
	d->err[0] = '\0';
	for (i = 0; i < d->depth && i < PATH_DEPTH && n < d->errlen; i++) {
		const struct path_frame *f = &d->path[i];
		int w;

		if (f->key)
			w = snprintf(d->err + n, d->errlen - n, "%s%s", i ? "." : "", f->key);
		else
			w = snprintf(d->err + n, d->errlen - n, "[%" PRId32 "]", f->idx);
		n += w > 0 ? (size_t)w : 0;
	}
	if (n && n + 2 < d->errlen) {
		memcpy(d->err + n, ": ", 3);
		n += 2;
	}
	if (n < d->errlen) {
		va_start(ap, fmt);
		vsnprintf(d->err + n, d->errlen - n, fmt, ap);
		va_end(ap);
	}
	return -1;
}

static const char *tok_name(enum jtok tok)
{
	switch (tok) {
	case JT_OBJECT:
		return "an object";
	case JT_ARRAY:
		return "an array";
	case JT_STRING:
		return "a string";
	case JT_NUMBER:
		return "a number";
	case JT_TRUE:
	case JT_FALSE:
		return "a boolean";
	case JT_NULL:
		return "null";
	default:
		return "nothing";
	}
}

/*
 * The next value is not of the expected type: a syntax error when it is
 * no JSON value at all, else a schema error.
 */
static int type_fail(struct dec *d, enum jtok tok, const char *expected)
{
	if (tok == JT_BAD || tok == JT_END)
		return jscan_skip(&d->js);
	return dec_fail(d, BUS_ERR_TYPE, "expected %s, got %s", expected, tok_name(tok));
}

static bool str_ok(const char *s, size_t len, enum str_check check)
{
	size_t i;

	switch (check) {
	case STR_NAME:
		return bus_name_valid(s);
	case STR_ID:
		if (len == 0)
			return false;
		for (i = 0; i < len; i++)
			if ((unsigned char)s[i] <= 0x20 || (unsigned char)s[i] >= 0x7f)
				return false;
		return true;
	case STR_LABEL:
		if (len == 0)
			return false;
		/* fall through */
	case STR_TEXT:
		for (i = 0; i < len; i++)
			if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f)
				return false;
		return true;
	}
	return false;
}

static const char *str_rule(enum str_check check)
{
	switch (check) {
	case STR_NAME:
		return "a name of 1..63 printable ASCII bytes without space, '/', '+', '#'";
	case STR_ID:
		return "an id of 1..63 printable ASCII bytes without space";
	case STR_LABEL:
		return "non-empty text without control characters";
	default:
		return "text without control characters";
	}
}

/* Parse a strict dotted quad: 4 decimal octets, no leading zeros. */
static bool parse_ipv4(const char *s, uint8_t ip[4])
{
	int i;

	for (i = 0; i < 4; i++) {
		unsigned v = 0, n = 0;

		if (i && *s++ != '.')
			return false;
		while (*s >= '0' && *s <= '9' && n < 4) {
			v = v * 10 + (unsigned)(*s++ - '0');
			n++;
		}
		if (n == 0 || n > 3 || v > 255 || (n > 1 && s[-(int)n] == '0'))
			return false;
		ip[i] = (uint8_t)v;
	}
	return *s == '\0';
}

static int hex_nibble(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

static bool parse_mac(const char *s, uint8_t mac[6])
{
	int i;

	if (strlen(s) != 17)
		return false;
	for (i = 0; i < 6; i++) {
		int hi = hex_nibble(s[3 * i]), lo = hex_nibble(s[3 * i + 1]);

		if (hi < 0 || lo < 0 || (i < 5 && s[3 * i + 2] != ':'))
			return false;
		mac[i] = (uint8_t)(hi << 4 | lo);
	}
	return true;
}

static int dec_object(struct dec *d, const struct object_spec *spec, void *base);
static int dec_elems(struct dec *d, const struct field *f, void *base);

/* A short string (enum word, address) into buf; *len gets its full length. */
static int dec_short_string(struct dec *d, enum jtok tok, char *buf, size_t cap, size_t *len)
{
	if (tok != JT_STRING)
		return type_fail(d, tok, "a string");
	return jscan_string(&d->js, buf, cap, len);
}

static int dec_value(struct dec *d, const struct field *f, void *base)
{
	enum jtok tok = jscan_peek(&d->js);
	char *dst = (char *)base + f->off;
	char word[40], shown[40];
	struct jnum num;
	size_t len;
	unsigned i;
	bool flag;

	if (tok == JT_NULL && (f->flags & FL_NULLABLE))
		return jscan_literal(&d->js, tok, NULL);

	switch (f->type) {
	case FT_VERSION:
		if (tok != JT_NUMBER) {
			if (tok == JT_BAD || tok == JT_END)
				return jscan_skip(&d->js);
			return dec_fail(d, BUS_ERR_VERSION, "expected the integer %d, got %s",
					BUS_VERSION, tok_name(tok));
		}
		if (jscan_number(&d->js, &num))
			return -1;
		if (!num.is_int || num.i != BUS_VERSION)
			return dec_fail(d, BUS_ERR_VERSION, "unsupported version %g (expected %d)",
					num.d, BUS_VERSION);
		return 0;

	case FT_UINT:
		if (tok != JT_NUMBER)
			return type_fail(d, tok, "an integer");
		if (jscan_number(&d->js, &num))
			return -1;
		if (!num.is_int)
			return dec_fail(d, BUS_ERR_TYPE, "expected an integer, got %g", num.d);
		if (num.i < 0 || (uint64_t)num.i < f->min || (uint64_t)num.i > f->max)
			return dec_fail(d, BUS_ERR_RANGE,
					"%" PRId64 " out of range %" PRIu64 "..%" PRIu64, num.i,
					f->min, f->max);
		store_uint(dst, f->size, (uint64_t)num.i);
		break;

	case FT_REAL:
		if (tok != JT_NUMBER)
			return type_fail(d, tok, "a number");
		if (jscan_number(&d->js, &num))
			return -1;
		if (!(num.d >= f->dmin && num.d <= f->dmax)) {
			if (isinf(f->dmax))
				return dec_fail(d, BUS_ERR_RANGE, "%g must be >= %g", num.d,
						f->dmin);
			return dec_fail(d, BUS_ERR_RANGE, "%g out of range %g..%g", num.d, f->dmin,
					f->dmax);
		}
		if (num.d == 0)
			num.d = 0; /* one zero: -0.0 would not survive re-encoding */
		memcpy(dst, &num.d, sizeof(num.d));
		break;

	case FT_BOOL:
		if (tok != JT_TRUE && tok != JT_FALSE)
			return type_fail(d, tok, "a boolean");
		if (jscan_literal(&d->js, tok, &flag))
			return -1;
		memcpy(dst, &flag, sizeof(flag));
		break;

	case FT_STR:
		if (tok != JT_STRING)
			return type_fail(d, tok, "a string");
		if (jscan_string(&d->js, dst, f->size, &len))
			return -1;
		if (len >= f->size)
			return dec_fail(d, BUS_ERR_VALUE, "string of %zu bytes, at most %u allowed",
					len, (unsigned)f->size - 1);
		if (!str_ok(dst, len, f->str))
			return dec_fail(d, BUS_ERR_VALUE, "'%s' is not %s",
					printable(shown, sizeof(shown), dst), str_rule(f->str));
		break;

	case FT_ENUM:
		if (dec_short_string(d, tok, word, sizeof(word), &len))
			return -1;
		for (i = 0; f->words[i]; i++)
			if (len < sizeof(word) && strcmp(word, f->words[i]) == 0)
				break;
		if (!f->words[i])
			return dec_fail(d, BUS_ERR_ENUM, "'%s' is not one of %s%s%s%s%s%s%s",
					printable(shown, sizeof(shown), word), f->words[0],
					f->words[1] ? "/" : "", f->words[1] ? f->words[1] : "",
					f->words[1] && f->words[2] ? "/" : "",
					f->words[1] && f->words[2] ? f->words[2] : "",
					f->words[1] && f->words[2] && f->words[3] ? "/" : "",
					f->words[1] && f->words[2] && f->words[3] ? f->words[3]
										  : "");
		store_uint(dst, f->size, i);
		break;

	case FT_IPV4:
		if (dec_short_string(d, tok, word, sizeof(word), &len))
			return -1;
		if (len >= sizeof(word) || !parse_ipv4(word, (uint8_t *)dst))
			return dec_fail(d, BUS_ERR_VALUE, "'%s' is not a dotted IPv4 address",
					printable(shown, sizeof(shown), word));
		break;

	case FT_MAC:
		if (dec_short_string(d, tok, word, sizeof(word), &len))
			return -1;
		if (len >= sizeof(word) || !parse_mac(word, (uint8_t *)dst))
			return dec_fail(d, BUS_ERR_VALUE,
					"'%s' is not a MAC address aa:bb:cc:dd:ee:ff",
					printable(shown, sizeof(shown), word));
		break;

	case FT_OBJECT:
		if (tok != JT_OBJECT)
			return type_fail(d, tok, "an object");
		if (dec_object(d, f->sub, dst))
			return -1;
		break;

	case FT_ARRAY:
		if (tok != JT_ARRAY)
			return type_fail(d, tok, "an array");
		store_uint((char *)base + f->arr->count_off, sizeof(uint32_t), 0);
		if (dec_elems(d, f, base))
			return -1;
		break;

	case FT_CUSTOM:
		if (f->dec(d, base))
			return -1;
		break;
	}
	set_flag(base, f->has_off, true);
	return 0;
}

static inline bool key_is(const struct field *f, const char *key, size_t klen)
{
	return f->klen == klen && memcmp(f->key, key, klen) == 0;
}

static const struct field *find_field(const struct object_spec *spec, const char *key, size_t klen,
				      unsigned *hint)
{
	unsigned i;

	if (klen >= KEY_MAX)
		return NULL;
	/* Payloads usually list fields in table order: try the next one first. */
	if (*hint < spec->n && key_is(&spec->fields[*hint], key, klen))
		return &spec->fields[(*hint)++];
	for (i = 0; i < spec->n; i++) {
		if (key_is(&spec->fields[i], key, klen)) {
			*hint = i + 1;
			return &spec->fields[i];
		}
	}
	return NULL;
}

static int dec_object(struct dec *d, const struct object_spec *spec, void *base)
{
	char keybuf[KEY_MAX];
	const char *key;
	uint32_t seen = 0;
	unsigned hint = 0, i;
	bool first = true;
	size_t klen;
	int more;

	if (jscan_obj_begin(&d->js))
		return -1;
	while ((more = jscan_obj_next(&d->js, &first, keybuf, sizeof(keybuf), &key, &klen)) == 1) {
		const struct field *f = find_field(spec, key, klen, &hint);
		uint32_t bit;

		if (!f) {
			if (jscan_skip(&d->js))
				return -1;
			continue;
		}
		bit = 1u << (f - spec->fields);
		if (seen & bit)
			return dec_fail(d, BUS_ERR_JSON, "duplicate field '%s'", f->key);
		seen |= bit;
		path_push(d, f->key, -1);
		if (dec_value(d, f, base))
			return -1;
		path_pop(d);
	}
	if (more < 0)
		return -1;
	for (i = 0; i < spec->n; i++) {
		const struct field *f = &spec->fields[i];

		if ((f->flags & FL_REQ) && !(seen & (1u << i)))
			return dec_fail(d,
					f->type == FT_VERSION ? BUS_ERR_VERSION : BUS_ERR_MISSING,
					"missing field '%s'", f->key);
	}
	return 0;
}

/* Make room for one more element of array a in base; NULL on failure. */
static void *array_slot(struct dec *d, const struct array_spec *a, void *base)
{
	uint32_t count = (uint32_t)load_uint((char *)base + a->count_off, sizeof(uint32_t));
	uint32_t cap = (uint32_t)load_uint((char *)base + a->cap_off, sizeof(uint32_t));
	char *elems = get_ptr(base, a->ptr_off);

	if (count >= a->max) {
		dec_fail(d, BUS_ERR_LIMIT, "more than %" PRIu32 " entries", a->max);
		return NULL;
	}
	if (count >= cap) {
		uint32_t new_cap = cap ? cap * 2 : 16;
		char *grown;

		if (new_cap > a->max)
			new_cap = a->max;
		grown = realloc(elems, (size_t)new_cap * a->elem_size);
		if (!grown) {
			dec_fail(d, BUS_ERR_NOMEM, "out of memory");
			return NULL;
		}
		elems = grown;
		set_ptr(base, a->ptr_off, elems);
		store_uint((char *)base + a->cap_off, sizeof(uint32_t), new_cap);
	}
	store_uint((char *)base + a->count_off, sizeof(uint32_t), count + 1);
	memset(elems + (size_t)count * a->elem_size, 0, a->elem_size);
	return elems + (size_t)count * a->elem_size;
}

/* Append the objects of a JSON array to the array field f of base. */
static int dec_elems(struct dec *d, const struct field *f, void *base)
{
	bool first = true;
	int32_t idx = 0;
	int more;

	if (jscan_arr_begin(&d->js))
		return -1;
	while ((more = jscan_arr_next(&d->js, &first)) == 1) {
		enum jtok tok = jscan_peek(&d->js);
		void *elem;

		path_push(d, NULL, idx++);
		if (tok != JT_OBJECT)
			return type_fail(d, tok, "an object");
		elem = array_slot(d, f->arr, base);
		if (!elem || dec_object(d, f->sub, elem))
			return -1;
		path_pop(d);
	}
	return more;
}

/* Service id keys: canonical decimal 1..65535. */
static int parse_service_key(const char *key, size_t klen, uint16_t *service)
{
	uint32_t v = 0;
	size_t i;

	if (klen == 0 || klen > 5 || key[0] == '0')
		return -1;
	for (i = 0; i < klen; i++) {
		if (key[i] < '0' || key[i] > '9')
			return -1;
		v = v * 10 + (uint32_t)(key[i] - '0');
	}
	if (v > UINT16_MAX)
		return -1;
	*service = (uint16_t)v;
	return 0;
}

static int services_map_dec(struct dec *d, void *base)
{
	static const struct field elems_field = {.key = "services",
						 .type = FT_ARRAY,
						 .sub = &service_inst_spec,
						 .arr = &service_inst_array,
						 .has_off = NO_FLAG};
	struct bus_services *svc = base;
	enum jtok tok = jscan_peek(&d->js);
	char keybuf[KEY_MAX], key[KEY_MAX], shown[KEY_MAX];
	const char *raw_key;
	bool first = true;
	size_t klen;
	int more;

	if (tok != JT_OBJECT)
		return type_fail(d, tok, "an object");
	svc->n_insts = 0;
	jscan_obj_begin(&d->js);
	while ((more = jscan_obj_next(&d->js, &first, keybuf, sizeof(keybuf), &raw_key, &klen)) ==
	       1) {
		uint32_t start = svc->n_insts, i;
		uint16_t service;

		/* NUL-terminated copy: error paths name the key. */
		snprintf(key, sizeof(key), "%.*s", (int)(klen < KEY_MAX ? klen : KEY_MAX - 1),
			 raw_key);
		path_push(d, key, -1);
		if (parse_service_key(key, klen, &service))
			return dec_fail(d, BUS_ERR_VALUE, "key '%s' is not a service id 1..65535",
					printable(shown, sizeof(shown), key));
		tok = jscan_peek(&d->js);
		if (tok != JT_ARRAY)
			return type_fail(d, tok, "an array");
		if (dec_elems(d, &elems_field, base))
			return -1;
		for (i = start; i < svc->n_insts; i++)
			svc->insts[i].service = service;
		path_pop(d);
	}
	return more;
}

static int cmp_inst_id(const void *a, const void *b)
{
	const struct bus_service_inst *x = a, *y = b;

	return (x->instance > y->instance) - (x->instance < y->instance);
}

static int cmp_service_inst(const void *a, const void *b)
{
	const struct bus_service_inst *x = a, *y = b;

	if (x->service != y->service)
		return (x->service > y->service) - (x->service < y->service);
	return cmp_inst_id(a, b);
}

/* Text of a syntax error: "not JSON: <why> at offset N". */
static int json_fail(struct dec *d)
{
	bus_set_err(d->err, d->errlen, "not JSON: %s at offset %zu", d->js.why, d->js.why_off);
	return BUS_ERR_JSON;
}

/*
 * A schema error was found: scan the whole payload again, so that a later
 * syntax error reports the payload as not JSON and a missing or foreign
 * "v" reports a version error rather than the schema error it caused.
 */
static int refine_error(struct dec *d, const void *payload, size_t len)
{
	struct jscan *js = &d->js;
	bool first = true, have_v = false, v_ok = false;
	char keybuf[KEY_MAX];
	const char *key;
	struct jnum num;
	size_t klen;
	int more;

	jscan_init(js, payload, len, 0);
	jscan_obj_begin(js);
	while ((more = jscan_obj_next(js, &first, keybuf, sizeof(keybuf), &key, &klen)) == 1) {
		if (klen == 1 && key[0] == 'v' && !have_v) {
			have_v = true;
			if (jscan_peek(js) == JT_NUMBER) {
				if (jscan_number(js, &num))
					return json_fail(d);
				v_ok = num.is_int && num.i == BUS_VERSION;
				continue;
			}
		}
		if (jscan_skip(js))
			return json_fail(d);
	}
	if (more < 0 || jscan_peek(js) != JT_END) {
		jscan_fail(js, "trailing characters after the object");
		return json_fail(d);
	}
	if (!have_v) {
		bus_set_err(d->err, d->errlen, "missing field 'v'");
		return BUS_ERR_VERSION;
	}
	if (!v_ok && d->code != BUS_ERR_VERSION) {
		bus_set_err(d->err, d->errlen, "v: unsupported version (expected the integer %d)",
			    BUS_VERSION);
		return BUS_ERR_VERSION;
	}
	return d->code;
}

/*
 * Common decode steps: size limit, JSON object, table-driven fields.
 * Returns 0 or a BUS_ERR_* with the reason in d->err.
 */
static int decode_payload(struct dec *d, const struct object_spec *spec, const void *payload,
			  size_t len, void *out)
{
	enum jtok tok;

	if (!payload && len)
		return BUS_ERR_ARG;
	if (len > BUS_PAYLOAD_MAX) {
		bus_set_err(d->err, d->errlen, "payload of %zu bytes exceeds the %d byte limit",
			    len, BUS_PAYLOAD_MAX);
		return BUS_ERR_TOOBIG;
	}
	if (len == 0) {
		bus_set_err(d->err, d->errlen, "empty payload");
		return BUS_ERR_EMPTY;
	}
	jscan_init(&d->js, payload, len, 0);
	tok = jscan_peek(&d->js);
	if (tok != JT_OBJECT) {
		if (jscan_skip(&d->js) == 0 && jscan_peek(&d->js) != JT_END)
			jscan_fail(&d->js, "trailing characters after the value");
		if (d->js.why)
			return json_fail(d);
		bus_set_err(d->err, d->errlen, "payload is %s, not an object", tok_name(tok));
		return BUS_ERR_NOTOBJ;
	}
	if (dec_object(d, spec, out) == 0) {
		if (jscan_peek(&d->js) == JT_END)
			return 0;
		jscan_fail(&d->js, "trailing characters after the object");
	}
	if (d->js.why)
		return json_fail(d);
	if (d->code == BUS_ERR_NOMEM)
		return d->code;
	return refine_error(d, payload, len);
}

static void dec_init(struct dec *d, char *err, size_t errlen)
{
	d->err = err;
	d->errlen = err ? errlen : 0;
	d->code = 0;
	d->depth = 0;
	if (d->errlen)
		err[0] = '\0';
}

static int check_host(struct dec *d, const char *topic_name, const char *host)
{
	char shown[BUS_NAME_LEN];

	if (!topic_name || strcmp(topic_name, host) == 0)
		return 0;
	bus_set_err(d->err, d->errlen, "host '%s' differs from the topic's host '%s'", host,
		    printable(shown, sizeof(shown), topic_name));
	return BUS_ERR_HOST;
}

static int missing(struct dec *d, const char *field, const char *when)
{
	bus_set_err(d->err, d->errlen, "missing field '%s' (required %s)", field, when);
	return BUS_ERR_MISSING;
}

/* Start a decode into a struct without arrays: clear it, then fill it. */
static int decode_fresh(struct dec *d, const struct object_spec *spec, const void *payload,
			size_t len, void *out, size_t size, char *err, size_t errlen)
{
	if (!out)
		return BUS_ERR_ARG;
	dec_init(d, err, errlen);
	memset(out, 0, size);
	return decode_payload(d, spec, payload, len, out);
}

int bus_decode_state(const char *topic_name, const void *payload, size_t len, struct bus_state *out,
		     char *err, size_t errlen)
{
	struct dec d;
	int ret;

	ret = decode_fresh(&d, &state_spec, payload, len, out, sizeof(*out), err, errlen);
	if (ret)
		return ret;
	if (out->status == BUS_STATUS_ONLINE) {
		if (!out->has_epoch)
			return missing(&d, "epoch", "when online");
		if (!out->has_ts_ms)
			return missing(&d, "ts_ms", "when online");
		if (!out->has_cores)
			return missing(&d, "cores", "when online");
	}
	if (out->has_cores && out->cores.free > out->cores.total) {
		bus_set_err(err, d.errlen, "cores.free: %" PRIu32 " exceeds cores.total %" PRIu32,
			    out->cores.free, out->cores.total);
		return BUS_ERR_RANGE;
	}
	return check_host(&d, topic_name, out->host);
}

int bus_decode_services(const char *topic_name, const void *payload, size_t len,
			struct bus_services *out, char *err, size_t errlen)
{
	struct bus_service_inst *insts;
	uint32_t cap, i;
	struct dec d;
	int ret;

	if (!out)
		return BUS_ERR_ARG;
	dec_init(&d, err, errlen);
	insts = out->insts;
	cap = out->insts_cap;
	memset(out, 0, sizeof(*out));
	out->insts = insts;
	out->insts_cap = cap;
	if (len == 0) {
		out->cleared = true;
		if (topic_name)
			snprintf(out->host, sizeof(out->host), "%s", topic_name);
		return BUS_DECODE_CLEARED;
	}
	ret = decode_payload(&d, &services_spec, payload, len, out);
	if (ret)
		return ret;
	if (out->n_insts > 1) {
		qsort(out->insts, out->n_insts, sizeof(out->insts[0]), cmp_inst_id);
		for (i = 1; i < out->n_insts; i++) {
			if (out->insts[i].instance == out->insts[i - 1].instance) {
				bus_set_err(err, d.errlen,
					    "services: instance %" PRIu32 " listed twice",
					    out->insts[i].instance);
				return BUS_ERR_VALUE;
			}
		}
		qsort(out->insts, out->n_insts, sizeof(out->insts[0]), cmp_service_inst);
	}
	return check_host(&d, topic_name, out->host);
}

int bus_decode_stats(const char *topic_name, const void *payload, size_t len, struct bus_stats *out,
		     char *err, size_t errlen)
{
	struct bus_port_stats *ports;
	struct bus_inst_stats *insts;
	struct bus_unserved *unserved;
	uint32_t ports_cap, insts_cap, unserved_cap;
	struct dec d;
	int ret;

	if (!out)
		return BUS_ERR_ARG;
	dec_init(&d, err, errlen);
	ports = out->ports;
	ports_cap = out->ports_cap;
	insts = out->insts;
	insts_cap = out->insts_cap;
	unserved = out->unserved;
	unserved_cap = out->unserved_cap;
	memset(out, 0, sizeof(*out));
	out->ports = ports;
	out->ports_cap = ports_cap;
	out->insts = insts;
	out->insts_cap = insts_cap;
	out->unserved = unserved;
	out->unserved_cap = unserved_cap;
	ret = decode_payload(&d, &stats_spec, payload, len, out);
	if (ret)
		return ret;
	return check_host(&d, topic_name, out->host);
}

int bus_decode_cmd(const char *topic_name, const void *payload, size_t len, struct bus_cmd *out,
		   char *err, size_t errlen)
{
	struct dec d;
	int ret;

	ret = decode_fresh(&d, &cmd_spec, payload, len, out, sizeof(*out), err, errlen);
	if (ret)
		return ret;
	if (out->op == BUS_OP_SPAWN && out->count == 0)
		return missing(&d, "count", "by op spawn");
	if (out->op == BUS_OP_STOP && out->instance == 0)
		return missing(&d, "instance", "by op stop");
	if (topic_name)
		snprintf(out->target, sizeof(out->target), "%s", topic_name);
	return 0;
}

int bus_decode_event(const char *topic_name, const void *payload, size_t len, struct bus_event *out,
		     char *err, size_t errlen)
{
	struct dec d;
	int ret;

	ret = decode_fresh(&d, &event_spec, payload, len, out, sizeof(*out), err, errlen);
	if (ret)
		return ret;
	return check_host(&d, topic_name, out->host);
}

int bus_decode_alarm(const char *topic_name, const void *payload, size_t len, struct bus_alarm *out,
		     char *err, size_t errlen)
{
	struct dec d;
	int ret;

	ret = decode_fresh(&d, &alarm_spec, payload, len, out, sizeof(*out), err, errlen);
	if (ret)
		return ret;
	return check_host(&d, topic_name, out->host);
}

int bus_decode_decision(const char *topic_name, const void *payload, size_t len,
			struct bus_decision *out, char *err, size_t errlen)
{
	struct dec d;

	(void)topic_name; /* the decisions topic names no host */
	return decode_fresh(&d, &decision_spec, payload, len, out, sizeof(*out), err, errlen);
}

int bus_decode_engine(const char *topic_name, const void *payload, size_t len,
		      struct bus_engine *out, char *err, size_t errlen)
{
	struct dec d;
	int ret;

	ret = decode_fresh(&d, &engine_spec, payload, len, out, sizeof(*out), err, errlen);
	if (ret)
		return ret;
	if (out->status == BUS_STATUS_ONLINE) {
		if (!out->has_name)
			return missing(&d, "name", "when online");
		if (!out->has_started)
			return missing(&d, "started_ms", "when online");
	}
	if (topic_name)
		snprintf(out->id, sizeof(out->id), "%s", topic_name);
	return 0;
}

void bus_services_free(struct bus_services *services)
{
	if (!services)
		return;
	free(services->insts);
	memset(services, 0, sizeof(*services));
}

void bus_stats_free(struct bus_stats *stats)
{
	if (!stats)
		return;
	free(stats->ports);
	free(stats->insts);
	free(stats->unserved);
	memset(stats, 0, sizeof(*stats));
}

void bus_msg_free(struct bus_msg *msg)
{
	if (!msg)
		return;
	if (msg->kind == BUS_KIND_SERVICES)
		bus_services_free(&msg->u.services);
	else if (msg->kind == BUS_KIND_STATS)
		bus_stats_free(&msg->u.stats);
	memset(msg, 0, sizeof(*msg));
	msg->kind = BUS_KIND_UNKNOWN;
}

static _Atomic uint64_t reject_counts[BUS_KIND_COUNT];

uint64_t bus_reject_count(enum bus_kind kind)
{
	if ((unsigned)kind >= BUS_KIND_COUNT)
		return 0;
	return atomic_load_explicit(&reject_counts[kind], memory_order_relaxed);
}

int bus_decode_any(const char *topic, const void *payload, size_t len, struct bus_msg *msg,
		   char *err, size_t errlen)
{
	struct bus_topic parsed;
	char shown[80];
	int ret;

	if (!msg || !topic) {
		atomic_fetch_add_explicit(&reject_counts[BUS_KIND_UNKNOWN], 1,
					  memory_order_relaxed);
		bus_set_err(err, errlen, "no topic or no message");
		return BUS_ERR_ARG;
	}
	ret = bus_topic_parse(topic, &parsed);
	if (ret) {
		atomic_fetch_add_explicit(&reject_counts[BUS_KIND_UNKNOWN], 1,
					  memory_order_relaxed);
		bus_set_err(err, errlen, "topic '%s' %s", printable(shown, sizeof(shown), topic),
			    ret == BUS_ERR_NAME ? "has an invalid host name or engine id"
						: "is not part of the bus contract");
		return ret;
	}
	if (msg->kind != parsed.kind) {
		bus_msg_free(msg);
		msg->kind = parsed.kind;
	}
	switch (parsed.kind) {
	case BUS_KIND_STATE:
		ret = bus_decode_state(parsed.name, payload, len, &msg->u.state, err, errlen);
		break;
	case BUS_KIND_SERVICES:
		ret = bus_decode_services(parsed.name, payload, len, &msg->u.services, err, errlen);
		break;
	case BUS_KIND_STATS:
		ret = bus_decode_stats(parsed.name, payload, len, &msg->u.stats, err, errlen);
		break;
	case BUS_KIND_CMD:
		ret = bus_decode_cmd(parsed.name, payload, len, &msg->u.cmd, err, errlen);
		break;
	case BUS_KIND_EVENTS:
		ret = bus_decode_event(parsed.name, payload, len, &msg->u.event, err, errlen);
		break;
	case BUS_KIND_ALARMS:
		ret = bus_decode_alarm(parsed.name, payload, len, &msg->u.alarm, err, errlen);
		break;
	case BUS_KIND_DECISIONS:
		ret = bus_decode_decision(NULL, payload, len, &msg->u.decision, err, errlen);
		break;
	case BUS_KIND_ENGINE:
		ret = bus_decode_engine(parsed.name, payload, len, &msg->u.engine, err, errlen);
		break;
	default:
		ret = BUS_ERR_TOPIC;
		break;
	}
	if (ret < 0)
		atomic_fetch_add_explicit(&reject_counts[parsed.kind], 1, memory_order_relaxed);
	return ret;
}

/* ------------------------------------------------------------------ */
/* Encoding                                                            */
/* ------------------------------------------------------------------ */

struct enc {
	char *err;
	size_t errlen;
	int code;
	bool need17;	 /* some real needs 17 significant digits */
	unsigned fitted; /* FL_FIT values clamped or left out */
	char fit_note[96];
};

/* Say (once, for the first) that a measurement did not fit its range. */
static void note_fit(struct enc *e, const struct field *f, const char *what, const char *done)
{
	if (e->fitted++ == 0)
		snprintf(e->fit_note, sizeof(e->fit_note), "%s %s: %s", f->key, what, done);
}

/* An optional FL_FIT integer out of its range: left out of the payload. */
static bool fit_leave_out(struct enc *e, const struct field *f, const void *base)
{
	if (!(f->flags & FL_FIT) || f->type != FT_UINT || (f->flags & FL_REQ))
		return false;
	uint64_t v = load_uint((const char *)base + f->off, f->size);
	if (v >= f->min && v <= f->max && v <= (uint64_t)INT64_MAX)
		return false;
	char what[32];
	snprintf(what, sizeof(what), "%" PRIu64, v);
	note_fit(e, f, what, "out of range, left out");
	return true;
}

static json_t *enc_fail(struct enc *e, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static json_t *enc_fail(struct enc *e, int code, const char *fmt, ...)
{
	va_list ap;

	if (e->code)
		return NULL;
	e->code = code;
	if (e->err && e->errlen) {
		va_start(ap, fmt);
		vsnprintf(e->err, e->errlen, fmt, ap);
		va_end(ap);
	}
	return NULL;
}

/* True when %.15g of d reads back as d (checked with our own parser). */
static bool real_fits_15(double d)
{
	char text[40];
	struct jscan js;
	struct jnum num;
	int n = snprintf(text, sizeof(text), "%.15g", d);

	if (n <= 0 || (size_t)n >= sizeof(text))
		return false;
	jscan_init(&js, text, (size_t)n, 0);
	return jscan_number(&js, &num) == 0 && jscan_peek(&js) == JT_END && num.d == d;
}

static json_t *enc_object(struct enc *e, const struct object_spec *spec, const void *base);

static json_t *enc_value(struct enc *e, const struct field *f, const void *base)
{
	const char *src = (const char *)base + f->off;
	char text[24];
	const uint8_t *b;
	json_t *arr, *item;
	uint64_t v;
	uint32_t i, count;
	double real;
	bool flag;
	size_t len;

	switch (f->type) {
	case FT_VERSION:
		return json_integer(BUS_VERSION);
	case FT_UINT:
		v = load_uint(src, f->size);
		if ((f->flags & FL_FIT) && (v < f->min || v > f->max)) {
			snprintf(text, sizeof(text), "%" PRIu64, v);
			v = v < f->min ? f->min : f->max;
			note_fit(e, f, text, "out of range, clamped");
		}
		if (v > (uint64_t)INT64_MAX)
			return enc_fail(e, BUS_ERR_RANGE, "%s: %" PRIu64 " too large", f->key, v);
		return json_integer((json_int_t)v);
	case FT_REAL:
		memcpy(&real, src, sizeof(real));
		if ((f->flags & FL_FIT) && !(real >= f->dmin && real <= f->dmax)) {
			snprintf(text, sizeof(text), "%g", real);
			real = real > f->dmax ? f->dmax : f->dmin; /* NaN: the low end */
			note_fit(e, f, text, "out of range, clamped");
		}
		if (!isfinite(real))
			return enc_fail(e, BUS_ERR_RANGE, "%s: not a finite number", f->key);
		/* No libm: the cast is exact below 2^53, where integral reals fit. */
		if ((f->flags & FL_INTEGRAL) && real > -9007199254740992.0 &&
		    real < 9007199254740992.0 && real == (double)(int64_t)real)
			return json_integer((json_int_t)real);
		if (!real_fits_15(real))
			e->need17 = true;
		return json_real(real);
	case FT_BOOL:
		memcpy(&flag, src, sizeof(flag));
		return json_boolean(flag);
	case FT_STR:
		len = strnlen(src, f->size);
		if (len == f->size)
			return enc_fail(e, BUS_ERR_VALUE, "%s: string not terminated", f->key);
		item = json_stringn(src, len);
		return item ? item : enc_fail(e, BUS_ERR_VALUE, "%s: not UTF-8", f->key);
	case FT_ENUM:
		v = load_uint(src, f->size);
		for (i = 0; f->words[i]; i++)
			if (i == v)
				return json_string(f->words[i]);
		return enc_fail(e, BUS_ERR_ARG, "%s: invalid value %" PRIu64, f->key, v);
	case FT_IPV4:
		b = (const uint8_t *)src;
		snprintf(text, sizeof(text), "%u.%u.%u.%u", b[0], b[1], b[2], b[3]);
		return json_string(text);
	case FT_MAC:
		b = (const uint8_t *)src;
		snprintf(text, sizeof(text), "%02x:%02x:%02x:%02x:%02x:%02x", b[0], b[1], b[2],
			 b[3], b[4], b[5]);
		return json_string(text);
	case FT_OBJECT:
		return enc_object(e, f->sub, src);
	case FT_ARRAY:
		count =
		    (uint32_t)load_uint((const char *)base + f->arr->count_off, sizeof(uint32_t));
		src = get_ptr(base, f->arr->ptr_off);
		if (count && !src)
			return enc_fail(e, BUS_ERR_ARG, "%s: %" PRIu32 " entries but no array",
					f->key, count);
		arr = json_array();
		for (i = 0; arr && i < count; i++) {
			item = enc_object(e, f->sub, src + (size_t)i * f->arr->elem_size);
			if (!item || json_array_append_new(arr, item)) {
				json_decref(arr);
				return NULL;
			}
		}
		return arr;
	case FT_CUSTOM:
		return f->enc(e, base);
	}
	return NULL;
}

static json_t *enc_object(struct enc *e, const struct object_spec *spec, const void *base)
{
	json_t *obj = json_object();
	unsigned i;

	if (!obj)
		return NULL;
	for (i = 0; i < spec->n; i++) {
		const struct field *f = &spec->fields[i];
		json_t *value;

		if (f->has_off != NO_FLAG && !get_flag(base, f->has_off)) {
			if (!(f->flags & FL_NULLABLE))
				continue;
			value = json_null();
		} else if ((f->flags & FL_ZERO_ABSENT) &&
			   load_uint((const char *)base + f->off, f->size) == 0) {
			continue;
		} else if (fit_leave_out(e, f, base)) {
			continue;
		} else {
			value = enc_value(e, f, base);
		}
		if (!value || json_object_set_new(obj, f->key, value)) {
			json_decref(obj);
			return NULL;
		}
	}
	return obj;
}

static json_t *services_map_enc(struct enc *e, const void *base)
{
	const struct bus_services *svc = base;
	json_t *map = json_object();
	uint32_t i;

	if (svc->n_insts && !svc->insts) {
		json_decref(map);
		return enc_fail(e, BUS_ERR_ARG, "services: entries but no array");
	}
	for (i = 0; map && i < svc->n_insts; i++) {
		char key[8];
		json_t *list, *item;

		snprintf(key, sizeof(key), "%u", (unsigned)svc->insts[i].service);
		list = json_object_get(map, key);
		if (!list) {
			list = json_array();
			if (!list || json_object_set_new(map, key, list))
				goto fail;
		}
		item = enc_object(e, &service_inst_spec, &svc->insts[i]);
		if (!item || json_array_append_new(list, item))
			goto fail;
	}
	return map;
fail:
	json_decref(map);
	return NULL;
}

/*
 * Build the payload of in from spec, then decode it with check (which
 * frees its scratch struct): the encoder's output always passes the decoder.
 */
typedef int (*check_fn)(const char *json, char *err, size_t errlen);

static int encode(const struct object_spec *spec, const void *in, check_fn check, char **out,
		  char *err, size_t errlen)
{
	struct enc e = {.err = err, .errlen = err ? errlen : 0};
	json_t *root;
	char *json;
	int ret;

	if (!out)
		return BUS_ERR_ARG;
	*out = NULL;
	if (!in) {
		bus_set_err(err, e.errlen, "no message to encode");
		return BUS_ERR_ARG;
	}
	if (e.errlen)
		err[0] = '\0';
	root = enc_object(&e, spec, in);
	if (!root) {
		if (!e.code)
			bus_set_err(err, e.errlen, "out of memory");
		return e.code ? e.code : BUS_ERR_NOMEM;
	}
	json = json_dumps(root, JSON_COMPACT | JSON_PRESERVE_ORDER |
				    JSON_REAL_PRECISION(e.need17 ? 17 : 15));
	json_decref(root);
	if (!json) {
		bus_set_err(err, e.errlen, "out of memory");
		return BUS_ERR_NOMEM;
	}
	ret = check(json, err, e.errlen);
	if (ret) {
		free(json);
		return ret;
	}
	if (e.fitted && e.errlen)
		snprintf(err, e.errlen, "%u value(s) did not fit; first: %s", e.fitted, e.fit_note);
	*out = json;
	return 0;
}

static int check_state(const char *json, char *err, size_t errlen)
{
	struct bus_state scratch;

	return bus_decode_state(NULL, json, strlen(json), &scratch, err, errlen);
}

static int check_services(const char *json, char *err, size_t errlen)
{
	struct bus_services scratch = {0};
	int ret = bus_decode_services(NULL, json, strlen(json), &scratch, err, errlen);

	bus_services_free(&scratch);
	return ret;
}

static int check_stats(const char *json, char *err, size_t errlen)
{
	struct bus_stats scratch = {0};
	int ret = bus_decode_stats(NULL, json, strlen(json), &scratch, err, errlen);

	bus_stats_free(&scratch);
	return ret;
}

static int check_cmd(const char *json, char *err, size_t errlen)
{
	struct bus_cmd scratch;

	return bus_decode_cmd(NULL, json, strlen(json), &scratch, err, errlen);
}

static int check_event(const char *json, char *err, size_t errlen)
{
	struct bus_event scratch;

	return bus_decode_event(NULL, json, strlen(json), &scratch, err, errlen);
}

static int check_alarm(const char *json, char *err, size_t errlen)
{
	struct bus_alarm scratch;

	return bus_decode_alarm(NULL, json, strlen(json), &scratch, err, errlen);
}

static int check_decision(const char *json, char *err, size_t errlen)
{
	struct bus_decision scratch;

	return bus_decode_decision(NULL, json, strlen(json), &scratch, err, errlen);
}

static int check_engine(const char *json, char *err, size_t errlen)
{
	struct bus_engine scratch;

	return bus_decode_engine(NULL, json, strlen(json), &scratch, err, errlen);
}

int bus_encode_state(const struct bus_state *in, char **out, char *err, size_t errlen)
{
	return encode(&state_spec, in, check_state, out, err, errlen);
}

int bus_encode_services(const struct bus_services *in, char **out, char *err, size_t errlen)
{
	if (in && in->cleared && out) {
		/* A cleared map is published as an empty retained payload. */
		*out = strdup("");
		return *out ? 0 : BUS_ERR_NOMEM;
	}
	return encode(&services_spec, in, check_services, out, err, errlen);
}

int bus_encode_stats(const struct bus_stats *in, char **out, char *err, size_t errlen)
{
	return encode(&stats_spec, in, check_stats, out, err, errlen);
}

int bus_encode_cmd(const struct bus_cmd *in, char **out, char *err, size_t errlen)
{
	return encode(&cmd_spec, in, check_cmd, out, err, errlen);
}

int bus_encode_event(const struct bus_event *in, char **out, char *err, size_t errlen)
{
	return encode(&event_spec, in, check_event, out, err, errlen);
}

int bus_encode_alarm(const struct bus_alarm *in, char **out, char *err, size_t errlen)
{
	return encode(&alarm_spec, in, check_alarm, out, err, errlen);
}

int bus_encode_decision(const struct bus_decision *in, char **out, char *err, size_t errlen)
{
	return encode(&decision_spec, in, check_decision, out, err, errlen);
}

int bus_encode_engine(const struct bus_engine *in, char **out, char *err, size_t errlen)
{
	return encode(&engine_spec, in, check_engine, out, err, errlen);
}

int bus_cmd_peek_id(const void *payload, size_t len, char *id, size_t idlen)
{
	if (payload == NULL || len == 0 || len > BUS_PAYLOAD_MAX || idlen == 0)
		return 0;
	json_t *root = json_loadb(payload, len, JSON_REJECT_DUPLICATES, NULL);
	const json_t *value = json_is_object(root) ? json_object_get(root, "id") : NULL;
	const char *text = json_is_string(value) ? json_string_value(value) : NULL;
	size_t text_len = text ? json_string_length(value) : 0;
	int found = text && text_len < idlen && text_len < BUS_NAME_LEN &&
		    strlen(text) == text_len && str_ok(text, text_len, STR_ID);
	if (found)
		memcpy(id, text, text_len + 1);
	json_decref(root);
	return found;
}
