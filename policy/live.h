/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * live.h - the policy daemon on the bus: the thin MQTT part around core.h.
 *
 * Connects as the "policy" identity, announces the engine (retained, with
 * an "offline" Last Will) on <root>/policy/engines/<id>, subscribes to the
 * hosts' state, services, stats, events and cmd topics and to the engine
 * announcements, and feeds each message, decoded, to the core on its own
 * thread with the wall clock of its arrival. The core's commands (QoS 1)
 * and decisions are published as they come. SIGHUP reads the --services
 * file again (a bad one keeps the old rules). SIGINT/SIGTERM: announce
 * "offline", disconnect, exit 0.
 */
#ifndef ONVM_POLICY_LIVE_H
#define ONVM_POLICY_LIVE_H

#include "engines.h"
#include "options.h"

/* Run until SIGINT/SIGTERM. 0 on a clean stop, 1 when it could not start. */
int policy_live_run(const struct policy_options *options,
		    const struct policy_engine_handle *engine);

#endif /* ONVM_POLICY_LIVE_H */
