/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * mgr_unserved.h - demand for services that no host serves ("unserved",
 * docs/bus.md).
 *
 * The manager counts, per service, the packets it drops because the service
 * has no instance anywhere, local or remote:
 *   - port RX: the port's first service has no member in the service map;
 *   - NF hand-offs: an NF sent a packet to a service (TO_SERVICE, or NEXT in
 *     its chain) that had no member, and nflib gave the packet to the
 *     manager's TX, tagged with the service (ONVM_UNSERVED_PORT_BASE), rather
 *     than freeing it.  The manager counts it only after checking the tag's
 *     range and that the service still has no member: it counts packets it
 *     holds, never a number an NF wrote.
 * Not counted: a packet that came through the tunnel for a service with no
 * instance here.  Its sender still had an instance of ours in its map (a
 * stale view); once that view catches up, the sender drops and counts the
 * demand itself if no host serves it, and counting it here too would report
 * one demand twice, at a host it never entered by.  Those stay in the tunnel's
 * rx_no_instance.
 *
 * Each data-plane thread has its own counters (one writer: an untorn store,
 * no atomic add), bumped once per burst.  Every stats period the control
 * thread sums them and mgr_unserved_step turns the totals into packets per
 * service over the period, and says which services began or ceased to be
 * unserved, for one log line each rather than one per packet or period.
 */
#ifndef MGR_UNSERVED_H
#define MGR_UNSERVED_H

#include <stdint.h>

#include "onvm_limits.h"

/* A service ceases to be unserved (for the log) once it has dropped nothing
 * for this long: a service that flaps period to period logs once. */
#define MGR_UNSERVED_QUIET_MS 2000

/* Which counters a data-plane thread writes: RX (ports) or TX (NF hand-offs).
 * A thread with both roles writes both; each still has one writer. */
enum mgr_unserved_source {
	MGR_UNSERVED_RX,
	MGR_UNSERVED_TX,
	MGR_UNSERVED_SOURCES,
};

struct mgr_unserved_counters {
	uint64_t pkts[ONVM_MAX_SERVICES]; /* by service id; [0] stays 0 */
} __attribute__((aligned(ONVM_CACHE_LINE)));

/* A service's unserved packets in one period. */
struct mgr_unserved_count {
	uint16_t service;
	uint64_t pkts;
	double pps; /* left 0 here; the stats snapshot makes it pkts over its period */
};

enum mgr_unserved_change {
	MGR_UNSERVED_BEGAN, /* dropped packets this period, after a quiet time */
	MGR_UNSERVED_ENDED, /* nothing dropped for MGR_UNSERVED_QUIET_MS */
};

struct mgr_unserved_note {
	uint16_t service;
	enum mgr_unserved_change change;
	uint64_t pkts;	    /* BEGAN: in this period; ENDED: since it began */
	uint64_t lasted_ms; /* ENDED: from the start of its first period with drops to
			     * the end of its last */
};

/* What the control thread remembers between periods. */
struct mgr_unserved_state {
	uint64_t totals[ONVM_MAX_SERVICES];   /* the counters' sums at the previous period */
	uint8_t unserved[ONVM_MAX_SERVICES];  /* as logged: began, not yet ended */
	uint64_t began_ms[ONVM_MAX_SERVICES]; /* while unserved: its first period's start */
	uint64_t last_ms[ONVM_MAX_SERVICES];  /* its last period with drops */
	uint64_t dropped[ONVM_MAX_SERVICES];  /* since it began */
};

/* One period's outcome. */
struct mgr_unserved_period {
	unsigned nb_counts; /* services with drops in the period */
	struct mgr_unserved_count counts[ONVM_MAX_SERVICES - 1]; /* the largest first */
	unsigned nb_notes;
	struct mgr_unserved_note notes[ONVM_MAX_SERVICES - 1];
};

/* Sum nb threads' counters into totals (relaxed loads: other threads write). */
void mgr_unserved_sum(const struct mgr_unserved_counters *counters, unsigned nb,
		      uint64_t totals[ONVM_MAX_SERVICES]);

/*
 * A stats period of period_ms ends at now_ms (monotonic): compare totals with
 * the previous period's and fill out.  The counts list every service with
 * drops in the period, the largest first (ties: the smaller id), so that a
 * consumer that can take only the first N keeps the largest.  period_ms 0
 * (the first snapshot) only takes the totals as the base.
 */
void mgr_unserved_step(struct mgr_unserved_state *state, const uint64_t totals[ONVM_MAX_SERVICES],
		       uint64_t now_ms, unsigned period_ms, struct mgr_unserved_period *out);

#endif
