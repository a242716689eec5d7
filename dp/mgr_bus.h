/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * mgr_bus.h - the manager on the MQTT bus (docs/bus.md).
 *
 * Publishes the host's state (retained, on start and whenever free cores
 * change), its part of the service map (retained, whenever it changes;
 * cleared on clean exit), stats every period and events; carries out spawn
 * and stop commands from its cmd topic, each command id at most once.
 *
 * Threads: paho's thread only decodes commands and queues them; everything
 * else, running commands and publishing, happens on the control thread in
 * mgr_bus_poll() and the stats and event hooks.  The data plane never
 * touches the bus.
 */
#ifndef MGR_BUS_H
#define MGR_BUS_H

#include <stdint.h>

struct onvm_mgr;
struct mgr_bus;

/* Connect (in the background) and install the manager's hooks.  0 or -1. */
int mgr_bus_start(struct onvm_mgr *mgr, struct mgr_bus **bus_out);

/* Control thread, every tick: run queued commands, republish what changed. */
void mgr_bus_poll(struct mgr_bus *bus, uint64_t now_ms);

/* Whether the bus client is connected now (any thread). */
int mgr_bus_connected(const struct mgr_bus *bus);

/* Clean exit: clear services, publish offline, disconnect, free. */
void mgr_bus_stop(struct mgr_bus *bus);

#endif
