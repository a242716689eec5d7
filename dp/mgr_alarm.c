/* SPDX-License-Identifier: BSD-3-Clause */
/* mgr_alarm.c - the overload alarm state machine of an instance (see mgr_alarm.h). */
#include <string.h>

#include "mgr_alarm.h"

void mgr_alarm_params_default(struct mgr_alarm_params *params, unsigned alarm_ms)
{
	*params = (struct mgr_alarm_params){
	    .alarm_ms = alarm_ms,
	    .rearm_ms = MGR_ALARM_REARM_MS,
	    .ring_fill = MGR_ALARM_RING_FILL,
	    .drain_margin = MGR_ALARM_DRAIN_MARGIN,
	};
}

void mgr_alarm_reset(struct mgr_alarm_inst *inst, uint32_t instance)
{
	memset(inst, 0, sizeof(*inst));
	inst->instance = instance;
}

/* Whether the sample is overloaded, given the state before it. */
static int overloaded(const struct mgr_alarm_inst *inst, const struct mgr_alarm_params *params,
		      uint64_t dropped, uint32_t count, uint32_t capacity)
{
	if (dropped)
		return 1;
	if (capacity == 0 || (double)count < params->ring_fill * capacity)
		return 0;
	if (!inst->in_streak)
		return count >= inst->last_count;
	uint32_t margin = (uint32_t)(params->drain_margin * capacity);
	return (uint64_t)count + margin >= inst->peak_count;
}

/* A calm sample ends any streak and, after an alarm, counts towards
 * re-arming: 1 when it re-armed. */
static int note_calm(struct mgr_alarm_inst *inst, const struct mgr_alarm_params *params,
		     uint64_t now_ms)
{
	inst->in_streak = 0;
	if (!inst->raised)
		return 0;
	if (inst->calm_since_ms == 0)
		inst->calm_since_ms = now_ms ? now_ms : 1;
	if (now_ms - inst->calm_since_ms < params->rearm_ms)
		return 0;
	inst->raised = 0;
	inst->calm_since_ms = 0;
	return 1;
}

enum mgr_alarm_verdict mgr_alarm_sample(struct mgr_alarm_inst *inst,
					const struct mgr_alarm_params *params,
					const struct mgr_alarm_sample *sample,
					struct mgr_alarm *alarm)
{
	uint32_t capacity = sample->ring_capacity;
	uint32_t count = sample->ring_count < capacity ? sample->ring_count : capacity;
	double fill = capacity ? (double)count / capacity : 0.0;
	uint64_t now_ms = sample->now_ms;
	if (inst->primed && now_ms < inst->last_ms)
		now_ms = inst->last_ms; /* never backwards, whatever the caller's clock did */

	if (!inst->primed) {
		inst->primed = 1;
		inst->last_ms = now_ms;
		inst->last_drops = sample->drops;
		inst->last_count = count;
		return count ? MGR_ALARM_CALM : MGR_ALARM_IDLE;
	}
	/* Counters only grow; one that went back was written by an NF: no drops,
	 * and it is the base from now on. */
	uint64_t dropped = sample->drops > inst->last_drops ? sample->drops - inst->last_drops : 0;
	int over = overloaded(inst, params, dropped, count, capacity);
	inst->last_ms = now_ms;
	inst->last_drops = sample->drops;
	inst->last_count = count;

	if (!over) {
		if (note_calm(inst, params, now_ms))
			return MGR_ALARM_REARMED;
		return count == 0 && dropped == 0 ? MGR_ALARM_IDLE : MGR_ALARM_CALM;
	}
	inst->calm_since_ms = 0;
	if (!inst->in_streak) {
		inst->in_streak = 1;
		inst->onset_ms = now_ms;
		inst->peak_count = count;
		inst->window_drops = 0; /* this sample's drops happened before the onset */
		inst->fill_sum = fill;
		inst->nb_samples = 1;
		return MGR_ALARM_OVERLOADED;
	}
	/* The margin lets a streak live through noise, but only a sample that
	 * shows overload by itself (drops, or the ring at its streak's high) can
	 * raise the alarm: a ring that drains slower than the margin per window
	 * keeps its streak a while and raises nothing. */
	int plain = dropped > 0 || count >= inst->peak_count;
	if (count > inst->peak_count)
		inst->peak_count = count;
	/* Saturating: an NF can make one delta as large as it likes. */
	inst->window_drops = inst->window_drops + dropped < inst->window_drops
				 ? UINT64_MAX
				 : inst->window_drops + dropped;
	inst->fill_sum += fill;
	inst->nb_samples++;
	if (inst->raised || !plain || params->alarm_ms == 0 ||
	    now_ms - inst->onset_ms < params->alarm_ms)
		return MGR_ALARM_OVERLOADED;

	inst->raised = 1;
	inst->alarms++;
	uint64_t window_ms = now_ms - inst->onset_ms; /* >= alarm_ms > 0 */
	*alarm = (struct mgr_alarm){
	    .onset_ms = inst->onset_ms,
	    .now_ms = now_ms,
	    .drop_pps = (double)inst->window_drops * 1000.0 / (double)window_ms,
	    .ring_fill = inst->fill_sum / inst->nb_samples,
	};
	return MGR_ALARM_RAISE;
}
