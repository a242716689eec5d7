/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * netns.h - run part of a process in another network namespace.
 *
 * A host simulated as a network namespace keeps its ports there, while its
 * bus connection goes to a broker on the machine's loopback.  setns() moves
 * only the calling thread, and threads inherit the namespace of the thread
 * that creates them: so the manager enters the host's namespace before DPDK
 * starts (its lcores and port sockets live there) and steps back home only
 * while it creates the bus client (whose threads and socket live there).
 */
#ifndef NETNS_H
#define NETNS_H

#include <stddef.h>

#define NETNS_NONE (-1)

/* Enter /var/run/netns/NAME.  Returns a handle on the namespace the thread
 * was in (for netns_switch), or NETNS_NONE with err set. */
int netns_enter(const char *name, char *err, size_t errlen);

/* Switch the calling thread to the namespace behind handle (from
 * netns_enter or netns_current).  0, or -1 with err set. */
int netns_switch(int handle, char *err, size_t errlen);

/* A handle on the calling thread's namespace now, or NETNS_NONE. */
int netns_current(void);

void netns_close(int handle);

#endif
