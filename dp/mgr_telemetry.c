/* SPDX-License-Identifier: BSD-3-Clause */
/* mgr_telemetry.c - telemetry commands and packet capture (see mgr_telemetry.h). */
#define ALLOW_EXPERIMENTAL_API /* rte_seqcount (DPDK 22.11) */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <rte_errno.h>
#include <rte_ethdev.h>
#include <rte_lcore.h>
#include <rte_pdump.h>
#include <rte_seqcount.h>
#include <rte_telemetry.h>
#include <rte_version.h>

#include "onvm_log.h"
#include "mgr.h"
#include "mgr_bus.h"
#include "mgr_stats.h"
#include "mgr_telemetry.h"
#include "number.h"

enum bus_state { BUS_OFF, BUS_DISCONNECTED, BUS_CONNECTED };
static const char *const bus_state_names[] = {"off", "disconnected", "connected"};

/* What the control thread hands over every stats period. */
struct telemetry_view {
	struct mgr_stats_snapshot snapshot;
	uint64_t published_ms; /* monotonic */
	enum bus_state bus;
};

static struct {
	/* Written by the control thread under seq, read by telemetry threads. */
	rte_seqcount_t seq;
	struct telemetry_view view;

	/* Set at init, before the commands are registered, and never again. */
	char host[64];
	char file_prefix[64];
	const char *dpdk_version;
	pid_t pid;
	uint64_t start_ms; /* monotonic */
	unsigned lcores;
	unsigned stats_period_ms;
	char port_names[ONVM_MAX_PORTS][RTE_ETH_NAME_MAX_LEN];
	uint16_t tunnel_port;
	uint8_t tunnel_ip[4];
	unsigned nb_pool;
	uint16_t pool[CORE_POOL_MAX_LCORE]; /* the NF core pool, in order */
	int pdump_on;
} telemetry;

void mgr_telemetry_publish(const struct onvm_mgr *mgr, const struct mgr_stats_snapshot *snapshot)
{
	enum bus_state bus = !mgr->config.bus.uri[0]	   ? BUS_OFF
			     : mgr_bus_connected(mgr->bus) ? BUS_CONNECTED
							   : BUS_DISCONNECTED;
	rte_seqcount_write_begin(&telemetry.seq);
	memcpy(&telemetry.view.snapshot, snapshot, sizeof(*snapshot));
	telemetry.view.published_ms = mgr_now_ms();
	telemetry.view.bus = bus;
	rte_seqcount_write_end(&telemetry.seq);
}

/* A copy of the last view (malloc'd: several telemetry clients may ask at
 * once, each on a thread of its own), or NULL. */
static struct telemetry_view *read_view(void)
{
	struct telemetry_view *copy = malloc(sizeof(*copy));
	if (copy == NULL)
		return NULL;
	uint32_t seq;
	do {
		seq = rte_seqcount_read_begin(&telemetry.seq);
		memcpy(copy, &telemetry.view, sizeof(*copy));
	} while (rte_seqcount_read_retry(&telemetry.seq, seq));
	return copy;
}

/* Rates are doubles made from counters an NF may have set to anything:
 * a double past UINT64_MAX (or a NaN) would make the conversion undefined. */
static uint64_t to_u64(double value)
{
	if (!(value > 0.0))
		return 0;
	if (value >= 18446744073709551615.0)
		return UINT64_MAX;
	return (uint64_t)value;
}

static uint64_t to_pct(double fraction)
{
	uint64_t pct = to_u64(fraction * 100.0 + 0.5);
	return pct > 100 ? 100 : pct;
}

/* An NF wrote its name: only printable ASCII, and no quote or backslash,
 * goes into the JSON. */
static void clean_name(char *out, size_t size, const char *name)
{
	size_t i = 0;
	for (; i + 1 < size && name[i]; i++)
		out[i] = name[i] >= 0x20 && name[i] < 0x7f && name[i] != '"' && name[i] != '\\'
			     ? name[i]
			     : '?';
	out[i] = '\0';
}

/* The optional parameter of a command: an id in 0..max, or none.  1 with
 * *id set, 0 when none, -1 when it is not such a number. */
static int param_id(const char *params, unsigned long max, unsigned long *id)
{
	if (params == NULL || params[0] == '\0')
		return 0;
	uint64_t value;
	if (onvm_parse_uint(params, 0, max, &value) < 0)
		return -1;
	*id = (unsigned long)value;
	return 1;
}

/* A table: every key a column, row i of each column one entry. */
static struct rte_tel_data *column(enum rte_tel_value_type type)
{
	struct rte_tel_data *data = rte_tel_data_alloc();
	if (data != NULL)
		rte_tel_data_start_array(data, type);
	return data;
}

static int add_column(struct rte_tel_data *dict, const char *name, struct rte_tel_data *data)
{
	if (data == NULL)
		return -ENOMEM;
	int ret = rte_tel_data_add_dict_container(dict, name, data, 0);
	if (ret < 0)
		rte_tel_data_free(data);
	return ret;
}

/* A table's columns: their keys and value types. */
struct column_spec {
	const char *name;
	enum rte_tel_value_type type;
};

/* One empty column per spec: 0, or -ENOMEM (the others may still be made). */
static int open_columns(const struct column_spec *specs, unsigned n, struct rte_tel_data **columns)
{
	int ret = 0;
	for (unsigned c = 0; c < n; c++) {
		columns[c] = column(specs[c].type);
		if (columns[c] == NULL)
			ret = -ENOMEM;
	}
	return ret;
}

/* d becomes the table: each column under its key, or, after an error
 * (ret < 0), the columns freed.  Returns the result. */
static int put_columns(struct rte_tel_data *d, const struct column_spec *specs, unsigned n,
		       struct rte_tel_data **columns, int ret)
{
	rte_tel_data_start_dict(d);
	for (unsigned c = 0; c < n; c++) {
		if (ret == 0)
			ret = add_column(d, specs[c].name, columns[c]);
		else
			rte_tel_data_free(columns[c]);
	}
	return ret;
}

/* ---- /onvm/info ---- */

static int handle_info(const char *cmd __rte_unused, const char *params __rte_unused,
		       struct rte_tel_data *d)
{
	struct telemetry_view *view = read_view();
	if (view == NULL)
		return -ENOMEM;
	const struct mgr_stats_snapshot *snapshot = &view->snapshot;
	uint64_t now_ms = mgr_now_ms();
	rte_tel_data_start_dict(d);
	rte_tel_data_add_dict_string(d, "host", telemetry.host);
	rte_tel_data_add_dict_string(d, "file_prefix", telemetry.file_prefix);
	rte_tel_data_add_dict_string(d, "dpdk_version", telemetry.dpdk_version);
	rte_tel_data_add_dict_int(d, "shm_version", ONVM_SHM_VERSION);
	rte_tel_data_add_dict_int(d, "pid", (int)telemetry.pid);
	rte_tel_data_add_dict_u64(d, "uptime_ms", now_ms - telemetry.start_ms);
	rte_tel_data_add_dict_int(d, "lcores", (int)telemetry.lcores);
	rte_tel_data_add_dict_int(d, "nb_ports", (int)snapshot->nb_ports);
	rte_tel_data_add_dict_int(d, "nb_instances", (int)snapshot->nb_instances);
	rte_tel_data_add_dict_string(d, "bus", bus_state_names[view->bus]);
	rte_tel_data_add_dict_int(d, "pdump",
				  __atomic_load_n(&telemetry.pdump_on, __ATOMIC_RELAXED));
	rte_tel_data_add_dict_u64(d, "alarms", snapshot->alarms);
	rte_tel_data_add_dict_u64(d, "stats_seq", snapshot->seq);
	rte_tel_data_add_dict_int(d, "stats_period_ms", (int)telemetry.stats_period_ms);
	/* -1 before the first snapshot */
	rte_tel_data_add_dict_int(
	    d, "stats_age_ms",
	    snapshot->seq ? (int)RTE_MIN(now_ms - view->published_ms, (uint64_t)INT32_MAX) : -1);
	free(view);
	return 0;
}

/* ---- /onvm/instances ---- */

static void instance_dict(struct rte_tel_data *d, const struct mgr_instance_stats *inst)
{
	char name[ONVM_NAME_LEN];
	clean_name(name, sizeof(name), inst->name);
	rte_tel_data_start_dict(d);
	rte_tel_data_add_dict_int(d, "slot", inst->slot);
	rte_tel_data_add_dict_u64(d, "instance", inst->instance);
	rte_tel_data_add_dict_int(d, "service", inst->service);
	rte_tel_data_add_dict_string(d, "name", name);
	rte_tel_data_add_dict_string(d, "state", inst->state ? inst->state : "?");
	rte_tel_data_add_dict_int(d, "pid", (int)inst->pid);
	rte_tel_data_add_dict_int(d, "core", inst->core);
	rte_tel_data_add_dict_u64(d, "rx", inst->rx);
	rte_tel_data_add_dict_u64(d, "tx", inst->tx);
	rte_tel_data_add_dict_u64(d, "drops", inst->drops);
	rte_tel_data_add_dict_u64(d, "rx_pps", to_u64(inst->rx_pps));
	rte_tel_data_add_dict_u64(d, "tx_pps", to_u64(inst->tx_pps));
	rte_tel_data_add_dict_u64(d, "drop_pps", to_u64(inst->drop_pps));
	rte_tel_data_add_dict_u64(d, "ring_fill_pct", to_pct(inst->ring_fill));
	rte_tel_data_add_dict_u64(d, "busy_pct", to_pct(inst->busy));
	rte_tel_data_add_dict_u64(d, "alarms", inst->alarms);
}

enum instance_column {
	IC_SLOT,
	IC_INSTANCE,
	IC_SERVICE,
	IC_NAME,
	IC_STATE,
	IC_PID,
	IC_CORE,
	IC_RX,
	IC_TX,
	IC_DROPS,
	IC_RX_PPS,
	IC_TX_PPS,
	IC_DROP_PPS,
	IC_RING_FILL_PCT,
	IC_BUSY_PCT,
	IC_ALARMS,
	IC_COLUMNS,
};

static const struct column_spec instance_columns[IC_COLUMNS] = {
    [IC_SLOT] = {"slot", RTE_TEL_INT_VAL},
    [IC_INSTANCE] = {"instance", RTE_TEL_U64_VAL},
    [IC_SERVICE] = {"service", RTE_TEL_INT_VAL},
    [IC_NAME] = {"name", RTE_TEL_STRING_VAL},
    [IC_STATE] = {"state", RTE_TEL_STRING_VAL},
    [IC_PID] = {"pid", RTE_TEL_INT_VAL},
    [IC_CORE] = {"core", RTE_TEL_INT_VAL},
    [IC_RX] = {"rx", RTE_TEL_U64_VAL},
    [IC_TX] = {"tx", RTE_TEL_U64_VAL},
    [IC_DROPS] = {"drops", RTE_TEL_U64_VAL},
    [IC_RX_PPS] = {"rx_pps", RTE_TEL_U64_VAL},
    [IC_TX_PPS] = {"tx_pps", RTE_TEL_U64_VAL},
    [IC_DROP_PPS] = {"drop_pps", RTE_TEL_U64_VAL},
    [IC_RING_FILL_PCT] = {"ring_fill_pct", RTE_TEL_U64_VAL},
    [IC_BUSY_PCT] = {"busy_pct", RTE_TEL_U64_VAL},
    [IC_ALARMS] = {"alarms", RTE_TEL_U64_VAL},
};

static void instance_row(struct rte_tel_data *const columns[IC_COLUMNS],
			 const struct mgr_instance_stats *inst)
{
	char name[ONVM_NAME_LEN];
	clean_name(name, sizeof(name), inst->name);
	rte_tel_data_add_array_int(columns[IC_SLOT], inst->slot);
	rte_tel_data_add_array_u64(columns[IC_INSTANCE], inst->instance);
	rte_tel_data_add_array_int(columns[IC_SERVICE], inst->service);
	rte_tel_data_add_array_string(columns[IC_NAME], name);
	rte_tel_data_add_array_string(columns[IC_STATE], inst->state ? inst->state : "?");
	rte_tel_data_add_array_int(columns[IC_PID], (int)inst->pid);
	rte_tel_data_add_array_int(columns[IC_CORE], inst->core);
	rte_tel_data_add_array_u64(columns[IC_RX], inst->rx);
	rte_tel_data_add_array_u64(columns[IC_TX], inst->tx);
	rte_tel_data_add_array_u64(columns[IC_DROPS], inst->drops);
	rte_tel_data_add_array_u64(columns[IC_RX_PPS], to_u64(inst->rx_pps));
	rte_tel_data_add_array_u64(columns[IC_TX_PPS], to_u64(inst->tx_pps));
	rte_tel_data_add_array_u64(columns[IC_DROP_PPS], to_u64(inst->drop_pps));
	rte_tel_data_add_array_u64(columns[IC_RING_FILL_PCT], to_pct(inst->ring_fill));
	rte_tel_data_add_array_u64(columns[IC_BUSY_PCT], to_pct(inst->busy));
	rte_tel_data_add_array_u64(columns[IC_ALARMS], inst->alarms);
}

/* No parameter: every running or stopping instance, as a table.  With an
 * instance id: that instance's dict; none (an error) when it has none. */
static int handle_instances(const char *cmd __rte_unused, const char *params,
			    struct rte_tel_data *d)
{
	unsigned long wanted;
	int one = param_id(params, UINT32_MAX, &wanted);
	if (one < 0)
		return -EINVAL;
	struct telemetry_view *view = read_view();
	if (view == NULL)
		return -ENOMEM;
	const struct mgr_stats_snapshot *snapshot = &view->snapshot;
	unsigned nb = RTE_MIN(snapshot->nb_instances, (unsigned)ONVM_MAX_INSTANCES);
	int ret = 0;
	if (one) {
		ret = -ENOENT;
		for (unsigned i = 0; i < nb; i++)
			if (snapshot->instances[i].instance == wanted) {
				instance_dict(d, &snapshot->instances[i]);
				ret = 0;
				break;
			}
		free(view);
		return ret;
	}
	struct rte_tel_data *columns[IC_COLUMNS];
	ret = open_columns(instance_columns, IC_COLUMNS, columns);
	if (ret == 0)
		for (unsigned i = 0; i < nb; i++)
			instance_row(columns, &snapshot->instances[i]);
	ret = put_columns(d, instance_columns, IC_COLUMNS, columns, ret);
	free(view);
	return ret;
}

/* ---- /onvm/services ---- */

/* The unserved pps of service in the last period: 0 when it had none. */
static uint64_t unserved_pps(const struct mgr_stats_snapshot *snapshot, unsigned service)
{
	const struct mgr_unserved_period *unserved = &snapshot->unserved;
	unsigned nb = RTE_MIN(unserved->nb_counts, (unsigned)(ONVM_MAX_SERVICES - 1));
	for (unsigned i = 0; i < nb; i++)
		if (unserved->counts[i].service == service)
			return to_u64(unserved->counts[i].pps);
	return 0;
}

/* Which services to answer for: those with an instance here, and those
 * unserved (no instance anywhere) in the last period. */
static void listed_services(const struct mgr_stats_snapshot *snapshot,
			    uint8_t listed[ONVM_MAX_SERVICES])
{
	memset(listed, 0, ONVM_MAX_SERVICES);
	unsigned nb = RTE_MIN(snapshot->nb_instances, (unsigned)ONVM_MAX_INSTANCES);
	for (unsigned i = 0; i < nb; i++)
		if (snapshot->instances[i].service < ONVM_MAX_SERVICES)
			listed[snapshot->instances[i].service] = 1;
	const struct mgr_unserved_period *unserved = &snapshot->unserved;
	nb = RTE_MIN(unserved->nb_counts, (unsigned)(ONVM_MAX_SERVICES - 1));
	for (unsigned i = 0; i < nb; i++)
		if (unserved->counts[i].service < ONVM_MAX_SERVICES)
			listed[unserved->counts[i].service] = 1;
}

/* The instance ids of service here, as an array (allocated), or NULL. */
static struct rte_tel_data *instances_of(const struct mgr_stats_snapshot *snapshot,
					 unsigned service)
{
	struct rte_tel_data *ids = column(RTE_TEL_U64_VAL);
	if (ids == NULL)
		return NULL;
	unsigned nb = RTE_MIN(snapshot->nb_instances, (unsigned)ONVM_MAX_INSTANCES);
	for (unsigned i = 0; i < nb; i++)
		if (snapshot->instances[i].service == service)
			rte_tel_data_add_array_u64(ids, snapshot->instances[i].instance);
	return ids;
}

/*
 * No parameter: each service with an instance here under its id, with the
 * ids of its instances (at most ONVM_MAX_INSTANCES keys), and the services
 * unserved in the last period as a table (unserved_service, unserved_pps).
 * DPDK 22.11 nests no deeper than a list in a dict, hence ids as keys.  With
 * a service id: that service's dict, when it has an instance or is unserved.
 */
static int handle_services(const char *cmd __rte_unused, const char *params, struct rte_tel_data *d)
{
	unsigned long wanted;
	int one = param_id(params, ONVM_MAX_SERVICES - 1, &wanted);
	if (one < 0)
		return -EINVAL;
	struct telemetry_view *view = read_view();
	if (view == NULL)
		return -ENOMEM;
	const struct mgr_stats_snapshot *snapshot = &view->snapshot;
	uint8_t listed[ONVM_MAX_SERVICES];
	listed_services(snapshot, listed);
	int ret = 0;
	rte_tel_data_start_dict(d);
	if (one) {
		if (listed[wanted]) {
			rte_tel_data_add_dict_int(d, "service", (int)wanted);
			ret = add_column(d, "instances", instances_of(snapshot, (unsigned)wanted));
			rte_tel_data_add_dict_u64(d, "unserved_pps",
						  unserved_pps(snapshot, (unsigned)wanted));
		} else {
			ret = -ENOENT;
		}
		free(view);
		return ret;
	}
	uint8_t served[ONVM_MAX_SERVICES] = {0};
	unsigned nb = RTE_MIN(snapshot->nb_instances, (unsigned)ONVM_MAX_INSTANCES);
	for (unsigned i = 0; i < nb; i++)
		if (snapshot->instances[i].service < ONVM_MAX_SERVICES)
			served[snapshot->instances[i].service] = 1;
	for (unsigned service = 1; service < ONVM_MAX_SERVICES && ret == 0; service++) {
		if (!served[service])
			continue;
		char key[8];
		snprintf(key, sizeof(key), "%u", service);
		ret = add_column(d, key, instances_of(snapshot, service));
	}
	struct rte_tel_data *services = column(RTE_TEL_INT_VAL);
	struct rte_tel_data *pps = column(RTE_TEL_U64_VAL);
	const struct mgr_unserved_period *unserved = &snapshot->unserved;
	nb = RTE_MIN(unserved->nb_counts, (unsigned)(ONVM_MAX_SERVICES - 1));
	for (unsigned i = 0; i < nb && services && pps; i++) {
		rte_tel_data_add_array_int(services, unserved->counts[i].service);
		rte_tel_data_add_array_u64(pps, to_u64(unserved->counts[i].pps));
	}
	if (ret == 0)
		ret = add_column(d, "unserved_service", services);
	else
		rte_tel_data_free(services);
	if (ret == 0)
		ret = add_column(d, "unserved_pps", pps);
	else
		rte_tel_data_free(pps);
	free(view);
	return ret;
}

/* ---- /onvm/ports ---- */

static void port_dict(struct rte_tel_data *d, const struct mgr_port_stats *port)
{
	rte_tel_data_start_dict(d);
	rte_tel_data_add_dict_int(d, "port", port->port);
	rte_tel_data_add_dict_string(d, "name", telemetry.port_names[port->port]);
	rte_tel_data_add_dict_u64(d, "rx", port->rx);
	rte_tel_data_add_dict_u64(d, "tx", port->tx);
	rte_tel_data_add_dict_u64(d, "drops", port->drops);
	rte_tel_data_add_dict_u64(d, "rx_pps", to_u64(port->rx_pps));
	rte_tel_data_add_dict_u64(d, "tx_pps", to_u64(port->tx_pps));
	rte_tel_data_add_dict_u64(d, "drop_pps", to_u64(port->drop_pps));
}

/* No parameter: a table of ports.  With a port id: that port's dict. */
static int handle_ports(const char *cmd __rte_unused, const char *params, struct rte_tel_data *d)
{
	unsigned long wanted;
	int one = param_id(params, ONVM_MAX_PORTS - 1, &wanted);
	if (one < 0)
		return -EINVAL;
	struct telemetry_view *view = read_view();
	if (view == NULL)
		return -ENOMEM;
	const struct mgr_stats_snapshot *snapshot = &view->snapshot;
	unsigned nb = RTE_MIN(snapshot->nb_ports, (unsigned)ONVM_MAX_PORTS);
	int ret = 0;
	if (one) {
		if (wanted < nb)
			port_dict(d, &snapshot->ports[wanted]);
		else
			ret = -ENOENT;
		free(view);
		return ret;
	}
	static const struct column_spec port_columns[] = {
	    {"port", RTE_TEL_INT_VAL},	 {"name", RTE_TEL_STRING_VAL},	{"rx", RTE_TEL_U64_VAL},
	    {"tx", RTE_TEL_U64_VAL},	 {"drops", RTE_TEL_U64_VAL},	{"rx_pps", RTE_TEL_U64_VAL},
	    {"tx_pps", RTE_TEL_U64_VAL}, {"drop_pps", RTE_TEL_U64_VAL},
	};
	enum { NB_COLUMNS = sizeof(port_columns) / sizeof(port_columns[0]) };
	struct rte_tel_data *columns[NB_COLUMNS];
	ret = open_columns(port_columns, NB_COLUMNS, columns);
	for (unsigned i = 0; i < nb && ret == 0; i++) {
		const struct mgr_port_stats *port = &snapshot->ports[i];
		rte_tel_data_add_array_int(columns[0], port->port);
		rte_tel_data_add_array_string(columns[1], telemetry.port_names[port->port]);
		rte_tel_data_add_array_u64(columns[2], port->rx);
		rte_tel_data_add_array_u64(columns[3], port->tx);
		rte_tel_data_add_array_u64(columns[4], port->drops);
		rte_tel_data_add_array_u64(columns[5], to_u64(port->rx_pps));
		rte_tel_data_add_array_u64(columns[6], to_u64(port->tx_pps));
		rte_tel_data_add_array_u64(columns[7], to_u64(port->drop_pps));
	}
	ret = put_columns(d, port_columns, NB_COLUMNS, columns, ret);
	free(view);
	return ret;
}

/* ---- /onvm/tunnel ---- */

static int handle_tunnel(const char *cmd __rte_unused, const char *params __rte_unused,
			 struct rte_tel_data *d)
{
	struct telemetry_view *view = read_view();
	if (view == NULL)
		return -ENOMEM;
	const struct mgr_tunnel_stats *tunnel = &view->snapshot.tunnel;
	rte_tel_data_start_dict(d);
	/* Enabled at start-up or never: the init's value, not the snapshot's,
	 * so that it is right before the first snapshot too. */
	rte_tel_data_add_dict_int(d, "enabled", telemetry.tunnel_port != UINT16_MAX);
	if (telemetry.tunnel_port != UINT16_MAX) {
		char ip[16];
		snprintf(ip, sizeof(ip), "%u.%u.%u.%u", telemetry.tunnel_ip[0],
			 telemetry.tunnel_ip[1], telemetry.tunnel_ip[2], telemetry.tunnel_ip[3]);
		rte_tel_data_add_dict_int(d, "port", telemetry.tunnel_port);
		rte_tel_data_add_dict_string(d, "ip", ip);
		rte_tel_data_add_dict_int(d, "udp_port", MGR_TUNNEL_UDP_PORT);
		rte_tel_data_add_dict_u64(d, "encapsulated", tunnel->encapsulated);
		rte_tel_data_add_dict_u64(d, "encap_drops", tunnel->encap_drops);
		rte_tel_data_add_dict_u64(d, "ring_drops", tunnel->ring_drops);
		rte_tel_data_add_dict_u64(d, "decapsulated", tunnel->decapsulated);
		rte_tel_data_add_dict_u64(d, "rx_rejects", tunnel->rx_rejects);
		rte_tel_data_add_dict_u64(d, "rx_no_instance", tunnel->rx_no_instance);
	}
	free(view);
	return 0;
}

/* ---- /onvm/cores ---- */

static int handle_cores(const char *cmd __rte_unused, const char *params __rte_unused,
			struct rte_tel_data *d)
{
	struct telemetry_view *view = read_view();
	if (view == NULL)
		return -ENOMEM;
	const struct mgr_stats_snapshot *snapshot = &view->snapshot;
	struct rte_tel_data *pool = column(RTE_TEL_INT_VAL);
	struct rte_tel_data *cores = column(RTE_TEL_INT_VAL);
	struct rte_tel_data *instances = column(RTE_TEL_U64_VAL);
	int ret = pool && cores && instances ? 0 : -ENOMEM;
	if (ret == 0) {
		for (unsigned i = 0; i < telemetry.nb_pool; i++)
			rte_tel_data_add_array_int(pool, telemetry.pool[i]);
		unsigned nb = RTE_MIN(snapshot->nb_instances, (unsigned)ONVM_MAX_INSTANCES);
		for (unsigned i = 0; i < nb; i++) {
			if (snapshot->instances[i].core < 0)
				continue;
			rte_tel_data_add_array_int(cores, snapshot->instances[i].core);
			rte_tel_data_add_array_u64(instances, snapshot->instances[i].instance);
		}
	}
	rte_tel_data_start_dict(d);
	/* Before the first snapshot the pool is all there is to go by. */
	unsigned total = snapshot->seq ? snapshot->total_cores : telemetry.nb_pool;
	unsigned free_cores = snapshot->seq ? snapshot->free_cores : telemetry.nb_pool;
	rte_tel_data_add_dict_int(d, "total", (int)total);
	rte_tel_data_add_dict_int(d, "free", (int)free_cores);
	rte_tel_data_add_dict_int(d, "assigned", (int)(total - RTE_MIN(free_cores, total)));
	if (ret == 0)
		ret = add_column(d, "pool", pool);
	else
		rte_tel_data_free(pool);
	/* The lcore of each running instance, and the instance on it. */
	if (ret == 0)
		ret = add_column(d, "instance_core", cores);
	else
		rte_tel_data_free(cores);
	if (ret == 0)
		ret = add_column(d, "instance", instances);
	else
		rte_tel_data_free(instances);
	free(view);
	return ret;
}

/* ---- start and stop ---- */

static const struct {
	const char *name;
	telemetry_cb fn;
	const char *help;
} commands[] = {
    {"/onvm/info", handle_info,
     "The manager: host, pid, uptime, lcores, ports, bus state, stats age. No parameters."},
    {"/onvm/instances", handle_instances,
     "Instances as a table (a column per key). Parameter: an instance id, for that one."},
    {"/onvm/services", handle_services,
     "Services: their instances here, and the unserved pps. Parameter: a service id."},
    {"/onvm/ports", handle_ports,
     "Ports as a table: name, rx, tx, drops and rates. Parameter: a port id."},
    {"/onvm/tunnel", handle_tunnel, "The inter-host tunnel: address and counters."},
    {"/onvm/cores", handle_cores, "NF cores: total, free, the pool, and who holds which."},
};

int mgr_telemetry_init(struct onvm_mgr *mgr)
{
	const struct mgr_config *config = &mgr->config;
	snprintf(telemetry.host, sizeof(telemetry.host), "%s", config->host);
	snprintf(telemetry.file_prefix, sizeof(telemetry.file_prefix), "%s", config->file_prefix);
	telemetry.dpdk_version = rte_version();
	telemetry.pid = getpid();
	telemetry.start_ms = mgr_now_ms();
	telemetry.lcores = rte_lcore_count();
	telemetry.stats_period_ms = config->stats_period_ms;
	for (uint16_t port = 0; port < mgr->nb_ports && port < ONVM_MAX_PORTS; port++)
		if (rte_eth_dev_get_name_by_port(port, telemetry.port_names[port]) != 0)
			snprintf(telemetry.port_names[port], sizeof(telemetry.port_names[port]),
				 "port%u", port);
	telemetry.tunnel_port = mgr->tunnel.enabled ? mgr->tunnel.port : UINT16_MAX;
	memcpy(telemetry.tunnel_ip, mgr->tunnel.local.ip, sizeof(telemetry.tunnel_ip));
	telemetry.nb_pool = 0;
	for (unsigned lcore = 0; lcore < CORE_POOL_MAX_LCORE; lcore++)
		if (core_pool_contains(&config->nf_cores, (int)lcore))
			telemetry.pool[telemetry.nb_pool++] = (uint16_t)lcore;
	rte_seqcount_init(&telemetry.seq);

	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++) {
		int ret =
		    rte_telemetry_register_cmd(commands[i].name, commands[i].fn, commands[i].help);
		if (ret < 0) {
			MGR_LOG(ERR, "telemetry: cannot register %s: %s", commands[i].name,
				strerror(-ret));
			return -1;
		}
	}
	/* Capture is a tool, not a duty: the manager runs on without it. */
	if (rte_pdump_init() == 0)
		telemetry.pdump_on = 1;
	else
		MGR_LOG(ERR, "pdump: cannot start, dpdk-dumpcap will not work: %s",
			rte_strerror(rte_errno));
	return 0;
}

void mgr_telemetry_uninit(void)
{
	if (!__atomic_exchange_n(&telemetry.pdump_on, 0, __ATOMIC_RELAXED))
		return;
	if (rte_pdump_uninit() < 0)
		MGR_LOG(ERR, "pdump: cannot stop: %s", rte_strerror(rte_errno));
}
