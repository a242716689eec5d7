/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * mgr_alarm.h - overload alarms of one host's instances (docs/bus.md
 * "Alarms"): the per-instance state machine, with no DPDK in it.
 *
 * The control thread samples every running instance every few ms (the
 * ring-full drop counter and the RX ring's fill) and hands each sample here
 * with the time it was taken (monotonic).  A sample is overloaded when
 *   - the instance dropped packets since the previous sample, or
 *   - its ring is at least MGR_ALARM_RING_FILL full and not draining:
 *     to begin a streak the ring must not be below the previous sample, and
 *     within a streak not below the streak's peak by more than the margin
 *     (MGR_ALARM_DRAIN_MARGIN of the ring, the policy's noise margin).
 *     Draining is not overload: a ring still full after a scale-out, or
 *     after a burst, empties at the NF's pace and must not raise an alarm.
 * A streak begins at its first overloaded sample (its onset) and ends at the
 * first sample that is not; the alarm is due at the first sample, alarm_ms
 * or more after the onset, that shows overload by itself: drops, or the ring
 * at its streak's high (the margin keeps a streak through noise, but a ring
 * below its high without drops raises nothing, so a full ring that drains
 * slower than the margin per window does not either).  A streak of a single
 * sample never raises one, however late that sample is.  The alarm carries
 * the window's drop rate (the drops of the samples after the onset over the
 * time since it) and mean ring fill.
 *
 * Re-arming: at most one alarm per instance until it has been calm (no
 * overloaded sample) for rearm_ms without a break; an overload that lasts
 * raises exactly one, and the stats-based detection of the policy remains
 * for it.  A new instance in the slot starts from nothing.
 *
 * The drop counter lives in shared memory that NFs can write: a value below
 * the previous one counts no drops and becomes the new base; a ring count
 * above the capacity is taken as full.
 */
#ifndef MGR_ALARM_H
#define MGR_ALARM_H

#include <stdint.h>

#define MGR_ALARM_DEFAULT_MS   20 /* see README.md "Overload alarms" for the measurement */
#define MGR_ALARM_MAX_MS       10000
#define MGR_ALARM_SAMPLE_MS    2     /* sampling period while any instance has work */
#define MGR_ALARM_REARM_MS     500   /* calm this long before a second alarm */
#define MGR_ALARM_RING_FILL    0.8   /* the policy's default ring_fill threshold */
#define MGR_ALARM_DRAIN_MARGIN 0.005 /* of the ring: less is noise, not draining */

struct mgr_alarm_params {
	unsigned alarm_ms; /* > 0 */
	unsigned rearm_ms;
	double ring_fill;    /* 0..1 */
	double drain_margin; /* 0..1 */
};

/* One sample of an instance; now_ms is monotonic. */
struct mgr_alarm_sample {
	uint64_t now_ms;
	uint64_t drops; /* ring-full drops since the instance started (untrusted) */
	uint32_t ring_count;
	uint32_t ring_capacity;
};

/* What an instance's samples have shown so far. */
struct mgr_alarm_inst {
	uint32_t instance; /* whose state this is; 0: none */
	int primed;	   /* has a previous sample */
	uint64_t last_ms, last_drops;
	uint32_t last_count;

	int in_streak;
	uint64_t onset_ms;
	uint32_t peak_count;
	uint64_t window_drops; /* of the samples after the onset */
	double fill_sum;       /* of the streak's samples */
	uint32_t nb_samples;

	int raised;		/* an alarm went out, not yet re-armed */
	uint64_t calm_since_ms; /* while raised: the first calm sample since the last overload; 0 */
	uint64_t alarms;	/* raised in all */
};

/* The alarm due: the streak's onset, and its window's figures. */
struct mgr_alarm {
	uint64_t onset_ms; /* monotonic */
	uint64_t now_ms;
	double drop_pps;
	double ring_fill;
};

/* What a sample said. */
enum mgr_alarm_verdict {
	MGR_ALARM_IDLE,	      /* empty ring, no drops, no streak: nothing to watch closely */
	MGR_ALARM_CALM,	      /* has work, not overloaded */
	MGR_ALARM_OVERLOADED, /* in an overload streak, no alarm due */
	MGR_ALARM_RAISE,      /* the streak reached alarm_ms: *alarm is filled */
	MGR_ALARM_REARMED,    /* calm for rearm_ms since its alarm: the next may come */
};

void mgr_alarm_params_default(struct mgr_alarm_params *params, unsigned alarm_ms);

/* Forget everything: the slot now holds instance (0: none). */
void mgr_alarm_reset(struct mgr_alarm_inst *inst, uint32_t instance);

/* Judge one sample.  Samples come in time order; the first after a reset
 * only sets the base (MGR_ALARM_IDLE or CALM). */
enum mgr_alarm_verdict mgr_alarm_sample(struct mgr_alarm_inst *inst,
					const struct mgr_alarm_params *params,
					const struct mgr_alarm_sample *sample,
					struct mgr_alarm *alarm);

#endif
