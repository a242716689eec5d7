/* SPDX-License-Identifier: BSD-3-Clause */
/* mgr_stats.c - statistics snapshots, table and counters file (see mgr_stats.h). */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include <rte_ring.h>

#include "onvm_log.h"
#include "clock.h"
#include "mgr.h"
#include "mgr_stats.h"

static double rate(uint64_t now, uint64_t before, unsigned period_ms)
{
	if (period_ms == 0 || now < before)
		return 0.0;
	return (double)(now - before) * 1000.0 / period_ms;
}

static void collect_ports(struct onvm_mgr *mgr, struct mgr_stats_state *state,
			  struct mgr_stats_snapshot *snapshot)
{
	snapshot->nb_ports = mgr->nb_ports;
	for (unsigned slot = 0; slot < ONVM_MAX_INSTANCES; slot++)
		if (mgr->slots[slot].state != ONVM_INST_FREE)
			mgr_ports_collect_direct(mgr, slot);
	for (unsigned port = 0; port < mgr->nb_ports; port++) {
		const struct mgr_port_counters *counters = &mgr->port_counters[port];
		const struct onvm_port_tx *direct = &mgr->direct_tx[port];
		struct mgr_port_stats *stats = &snapshot->ports[port];
		stats->port = (uint16_t)port;
		stats->rx = __atomic_load_n(&counters->rx, __ATOMIC_RELAXED);
		/* The manager's queue 0 and the NFs' own queues (mgr_ports.c) */
		stats->direct_tx = direct->sent;
		stats->tx = __atomic_load_n(&counters->tx, __ATOMIC_RELAXED) + direct->sent;
		stats->drops = __atomic_load_n(&counters->tx_drops, __ATOMIC_RELAXED) +
			       __atomic_load_n(&counters->no_instance_drops, __ATOMIC_RELAXED) +
			       direct->refused;
		stats->rx_pps = rate(stats->rx, state->ports[port].rx, snapshot->period_ms);
		stats->tx_pps = rate(stats->tx, state->ports[port].tx, snapshot->period_ms);
		stats->drop_pps = rate(stats->drops, state->ports[port].drops, snapshot->period_ms);
		state->ports[port].rx = stats->rx;
		state->ports[port].tx = stats->tx;
		state->ports[port].drops = stats->drops;
	}
}

/* What overload is judged by, for the stats and the alarms alike: the
 * instance's ring-full drops (shared memory: any sender adds, and any NF can
 * write it; a consumer checks that it only grows) and the count of its RX
 * ring, through the manager's own pointer to it (rte_ring_count never says
 * more than the capacity, whatever an NF did to the ring's indexes). */
struct ring_load {
	uint64_t drops;
	unsigned count, capacity;
};

static struct ring_load read_ring_load(const struct onvm_mgr *mgr, unsigned slot)
{
	const struct rte_ring *ring = mgr->rx_rings[slot];
	return (struct ring_load){
	    .drops = __atomic_load_n(&mgr->shm->instances[slot].rx_ring_drops, __ATOMIC_RELAXED),
	    .count = rte_ring_count(ring),
	    .capacity = rte_ring_get_capacity(ring),
	};
}

/* What the manager itself knows of a slot (state, ids, core, pid, ring) comes
 * from its private record; only the counters come from the NF's memory. */
static void collect_instance(const struct onvm_mgr *mgr, unsigned slot,
			     struct mgr_stats_state *state, struct mgr_instance_stats *stats,
			     unsigned period_ms)
{
	const struct mgr_slot *bookkeeping = &mgr->slots[slot];
	const struct onvm_instance *instance = &mgr->shm->instances[slot];
	const struct onvm_nf_counters *counters = &instance->counters;
	uint64_t busy_cycles = __atomic_load_n(&counters->busy_cycles, __ATOMIC_RELAXED);
	uint64_t loop_cycles = __atomic_load_n(&counters->loop_cycles, __ATOMIC_RELAXED);

	/* A reused slot starts from zero: forget the previous instance's counters. */
	if (state->instances[slot].instance != bookkeeping->instance_id)
		memset(&state->instances[slot], 0, sizeof(state->instances[slot]));

	stats->instance = bookkeeping->instance_id;
	stats->service = bookkeeping->service_id;
	stats->slot = (uint16_t)slot;
	stats->core = bookkeeping->core;
	stats->pid = bookkeeping->process.pid;
	stats->state = mgr_instance_state_name(bookkeeping->state);
	/* The NF may have overwritten its name, terminator included. */
	snprintf(stats->name, sizeof(stats->name), "%.*s", (int)sizeof(instance->name) - 1,
		 instance->name);
	stats->rx = __atomic_load_n(&counters->rx, __ATOMIC_RELAXED);
	stats->tx = __atomic_load_n(&counters->tx, __ATOMIC_RELAXED);
	struct ring_load load = read_ring_load(mgr, slot);
	stats->drops = load.drops;
	stats->rx_pps = rate(stats->rx, state->instances[slot].rx, period_ms);
	stats->tx_pps = rate(stats->tx, state->instances[slot].tx, period_ms);
	stats->drop_pps = rate(stats->drops, state->instances[slot].drops, period_ms);
	stats->first_rx_ms = __atomic_load_n(&instance->first_rx_ms, __ATOMIC_RELAXED);
	stats->ring_fill = load.capacity ? (double)load.count / load.capacity : 0.0;
	const struct mgr_alarm_inst *alarm = &mgr->alarms[slot];
	stats->alarms = alarm->instance == bookkeeping->instance_id ? alarm->alarms : 0;

	uint64_t loop_delta = loop_cycles - state->instances[slot].loop_cycles;
	uint64_t busy_delta = busy_cycles - state->instances[slot].busy_cycles;
	stats->busy = loop_delta ? (double)busy_delta / (double)loop_delta : 0.0;
	if (stats->busy > 1.0)
		stats->busy = 1.0;

	state->instances[slot].instance = bookkeeping->instance_id;
	state->instances[slot].rx = stats->rx;
	state->instances[slot].tx = stats->tx;
	state->instances[slot].drops = stats->drops;
	state->instances[slot].busy_cycles = busy_cycles;
	state->instances[slot].loop_cycles = loop_cycles;
}

static uint64_t load(const uint64_t *counter)
{
	return __atomic_load_n(counter, __ATOMIC_RELAXED);
}

static void collect_tunnel(const struct onvm_mgr *mgr, struct mgr_tunnel_stats *stats)
{
	const struct mgr_tunnel *tunnel = &mgr->tunnel;
	stats->enabled = tunnel->enabled;
	stats->encapsulated = load(&tunnel->tx_counters.encapsulated);
	stats->encap_drops = load(&tunnel->tx_counters.encap_drops);
	stats->ring_drops = load(&mgr->shm->tunnel_ring_drops);
	stats->decapsulated = load(&tunnel->rx_counters.decapsulated);
	stats->rx_rejects = load(&tunnel->rx_counters.rx_rejects);
	stats->rx_no_instance = load(&tunnel->rx_counters.rx_no_instance);
}

static void collect_unserved(const struct onvm_mgr *mgr, struct mgr_stats_state *state,
			     uint64_t now_ms, struct mgr_stats_snapshot *snapshot)
{
	uint64_t totals[ONVM_MAX_SERVICES];
	struct mgr_unserved_period *unserved = &snapshot->unserved;
	mgr_unserved_sum(mgr->unserved, MGR_UNSERVED_SOURCES, totals);
	mgr_unserved_step(&state->unserved, totals, now_ms, snapshot->period_ms, unserved);
	for (unsigned i = 0; i < unserved->nb_counts; i++)
		unserved->counts[i].pps = rate(unserved->counts[i].pkts, 0, snapshot->period_ms);
}

void mgr_stats_collect(struct onvm_mgr *mgr, struct mgr_stats_state *state, uint64_t now_ms,
		       struct mgr_stats_snapshot *snapshot)
{
	snapshot->seq = ++state->seq;
	snapshot->ts_ms = onvm_wall_ms();
	snapshot->period_ms = state->last_ms ? (unsigned)(now_ms - state->last_ms) : 0;
	snapshot->free_cores = mgr_free_cores(mgr);
	snapshot->total_cores = mgr_total_cores(mgr);
	snapshot->alarms = mgr->alarms_raised;
	state->last_ms = now_ms;

	collect_ports(mgr, state, snapshot);
	collect_tunnel(mgr, &snapshot->tunnel);
	collect_unserved(mgr, state, now_ms, snapshot);
	snapshot->nb_instances = 0;
	for (unsigned slot = 0; slot < ONVM_MAX_INSTANCES; slot++) {
		uint32_t instance_state = mgr->slots[slot].state;
		if (instance_state != ONVM_INST_RUNNING && instance_state != ONVM_INST_STOPPING)
			continue;
		collect_instance(mgr, slot, state, &snapshot->instances[snapshot->nb_instances++],
				 snapshot->period_ms);
	}
}

static void raise_alarm(struct onvm_mgr *mgr, const struct mgr_slot *bookkeeping,
			const struct mgr_alarm *alarm)
{
	uint64_t wall_ms = onvm_wall_ms();
	uint64_t ago_ms = alarm->now_ms - alarm->onset_ms;
	struct mgr_alarm_report report = {
	    .service = bookkeeping->service_id,
	    .instance = bookkeeping->instance_id,
	    .ts_ms = wall_ms,
	    .since_ms = wall_ms > ago_ms ? wall_ms - ago_ms : 0,
	    .drop_pps = alarm->drop_pps,
	    .ring_fill = alarm->ring_fill,
	};
	mgr->alarms_raised++;
	MGR_LOG(INFO,
		"alarm: service %u instance %u overloaded since %" PRIu64 ", %" PRIu64
		" ms ago (drops %.0f pps, ring %.2f)",
		report.service, report.instance, report.since_ms, ago_ms, report.drop_pps,
		report.ring_fill);
	fflush(stdout);
	if (mgr->alarm_fn)
		mgr->alarm_fn(mgr->alarm_ctx, &report);
}

void mgr_stats_sample_alarms(struct onvm_mgr *mgr, uint64_t now_ms)
{
	int work = 0;
	for (unsigned slot = 0; slot < ONVM_MAX_INSTANCES; slot++) {
		const struct mgr_slot *bookkeeping = &mgr->slots[slot];
		struct mgr_alarm_inst *inst = &mgr->alarms[slot];
		/* Only running instances: one stopping or draining empties its ring
		 * on its way out, which is no overload. */
		if (bookkeeping->state != ONVM_INST_RUNNING) {
			if (inst->instance)
				mgr_alarm_reset(inst, 0);
			continue;
		}
		if (inst->instance != bookkeeping->instance_id)
			mgr_alarm_reset(inst, bookkeeping->instance_id);
		struct ring_load load = read_ring_load(mgr, slot);
		struct mgr_alarm_sample sample = {now_ms, load.drops, load.count, load.capacity};
		struct mgr_alarm alarm;
		enum mgr_alarm_verdict verdict =
		    mgr_alarm_sample(inst, &mgr->alarm_params, &sample, &alarm);
		work |= verdict != MGR_ALARM_IDLE;
		if (verdict == MGR_ALARM_RAISE) {
			raise_alarm(mgr, bookkeeping, &alarm);
		} else if (verdict == MGR_ALARM_REARMED) {
			MGR_LOG(INFO, "alarm: service %u instance %u calm for %u ms: re-armed",
				bookkeeping->service_id, bookkeeping->instance_id,
				mgr->alarm_params.rearm_ms);
			fflush(stdout);
		}
	}
	mgr->alarm_work = work;
}

void mgr_stats_log_unserved(const struct mgr_stats_snapshot *snapshot)
{
	const struct mgr_unserved_period *unserved = &snapshot->unserved;
	for (unsigned i = 0; i < unserved->nb_notes; i++) {
		const struct mgr_unserved_note *note = &unserved->notes[i];
		if (note->change == MGR_UNSERVED_BEGAN)
			MGR_LOG(
			    WARNING,
			    "service %u is unserved: no host has an instance; dropping %.0f pps",
			    note->service, rate(note->pkts, 0, snapshot->period_ms));
		else
			MGR_LOG(NOTICE,
				"service %u no longer unserved: %" PRIu64
				" packets dropped over %" PRIu64 " ms",
				note->service, note->pkts, note->lasted_ms);
	}
}

void mgr_stats_print(const struct mgr_stats_snapshot *snapshot, FILE *out)
{
	fprintf(out, "\n--- stats #%" PRIu64 " (%u ms) free cores %u/%u ---\n", snapshot->seq,
		snapshot->period_ms, snapshot->free_cores, snapshot->total_cores);
	fprintf(out, "%-6s %12s %12s %12s\n", "port", "rx pps", "tx pps", "drop pps");
	for (unsigned i = 0; i < snapshot->nb_ports; i++) {
		const struct mgr_port_stats *port = &snapshot->ports[i];
		fprintf(out, "%-6u %12.0f %12.0f %12.0f\n", port->port, port->rx_pps, port->tx_pps,
			port->drop_pps);
	}
	fprintf(out, "%-5s %-4s %-14s %-4s %12s %12s %12s %5s %5s\n", "inst", "svc", "name", "core",
		"rx pps", "tx pps", "drop pps", "ring", "busy");
	for (unsigned i = 0; i < snapshot->nb_instances; i++) {
		const struct mgr_instance_stats *inst = &snapshot->instances[i];
		fprintf(out, "%-5u %-4u %-14s %-4d %12.0f %12.0f %12.0f %5.2f %5.2f\n",
			inst->instance, inst->service, inst->name, inst->core, inst->rx_pps,
			inst->tx_pps, inst->drop_pps, inst->ring_fill, inst->busy);
	}
	for (unsigned i = 0; i < snapshot->unserved.nb_counts; i++)
		fprintf(out, "unserved: service %u %.0f pps (no instance on any host)\n",
			snapshot->unserved.counts[i].service, snapshot->unserved.counts[i].pps);
	const struct mgr_tunnel_stats *tunnel = &snapshot->tunnel;
	if (tunnel->enabled)
		fprintf(out,
			"tunnel: out %" PRIu64 " (dropped %" PRIu64 " + ring full %" PRIu64
			"), in %" PRIu64 " (not ours %" PRIu64 ", no instance %" PRIu64 ")\n",
			tunnel->encapsulated, tunnel->encap_drops, tunnel->ring_drops,
			tunnel->decapsulated, tunnel->rx_rejects, tunnel->rx_no_instance);
	fflush(out);
}

int mgr_stats_write_file(const struct mgr_stats_snapshot *snapshot, const char *path)
{
	char temporary[4200];
	snprintf(temporary, sizeof(temporary), "%s.tmp", path);
	FILE *out = fopen(temporary, "w");
	if (out == NULL)
		return -1;
	fprintf(out,
		"seq %" PRIu64 " ts_ms %" PRIu64 " free_cores %u total_cores %u alarms %" PRIu64
		"\n",
		snapshot->seq, snapshot->ts_ms, snapshot->free_cores, snapshot->total_cores,
		snapshot->alarms);
	for (unsigned i = 0; i < snapshot->nb_ports; i++) {
		const struct mgr_port_stats *port = &snapshot->ports[i];
		fprintf(out,
			"port %u rx %" PRIu64 " tx %" PRIu64 " drops %" PRIu64 " direct_tx %" PRIu64
			"\n",
			port->port, port->rx, port->tx, port->drops, port->direct_tx);
	}
	for (unsigned i = 0; i < snapshot->nb_instances; i++) {
		const struct mgr_instance_stats *inst = &snapshot->instances[i];
		fprintf(out,
			"instance %u service %u core %d pid %d state %s rx %" PRIu64 " tx %" PRIu64
			" drops %" PRIu64 " alarms %" PRIu64 " name %s\n",
			inst->instance, inst->service, inst->core, (int)inst->pid, inst->state,
			inst->rx, inst->tx, inst->drops, inst->alarms, inst->name);
	}
	for (unsigned i = 0; i < snapshot->unserved.nb_counts; i++) {
		const struct mgr_unserved_count *count = &snapshot->unserved.counts[i];
		fprintf(out, "unserved %u pkts %" PRIu64 " pps %.0f\n", count->service, count->pkts,
			count->pps);
	}
	const struct mgr_tunnel_stats *tunnel = &snapshot->tunnel;
	if (tunnel->enabled)
		fprintf(out,
			"tunnel encapsulated %" PRIu64 " encap_drops %" PRIu64
			" ring_drops %" PRIu64 " decapsulated %" PRIu64 " rx_rejects %" PRIu64
			" rx_no_instance %" PRIu64 "\n",
			tunnel->encapsulated, tunnel->encap_drops, tunnel->ring_drops,
			tunnel->decapsulated, tunnel->rx_rejects, tunnel->rx_no_instance);
	int failed = ferror(out);
	if (fclose(out) != 0 || failed || rename(temporary, path) != 0) {
		remove(temporary);
		return -1;
	}
	return 0;
}
