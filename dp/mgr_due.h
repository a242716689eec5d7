/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * mgr_due.h - when a retained message (the host's state, its service map)
 * must be published: once it has changed, and again after a publish that
 * failed, every MGR_DUE_RETRY_MS (monotonic) until one goes out.  Marking
 * it published before knowing lost the change for good whenever that
 * publish failed while the connection stayed up (a reconnection
 * republishes everything anyway).
 */
#ifndef MGR_DUE_H
#define MGR_DUE_H

#include <stdint.h>

#define MGR_DUE_RETRY_MS 200

struct mgr_due {
	int pending;		/* changed since the last publish that went out */
	uint64_t not_before_ms; /* after a failure: when to try again */
};

static inline void mgr_due_changed(struct mgr_due *due)
{
	due->pending = 1;
	due->not_before_ms = 0;
}

static inline int mgr_due_now(const struct mgr_due *due, uint64_t now_ms)
{
	return due->pending && now_ms >= due->not_before_ms;
}

/* After a try: done when it went out (or can never go out as it is). */
static inline void mgr_due_tried(struct mgr_due *due, int done, uint64_t now_ms)
{
	due->pending = !done;
	due->not_before_ms = done ? 0 : now_ms + MGR_DUE_RETRY_MS;
}

#endif
