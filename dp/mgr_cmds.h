/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * mgr_cmds.h - the commands a manager takes from the bus: the queue from
 * paho's thread to the control thread, and the window of command ids it
 * remembers so that each runs at most once.
 *
 * At most once rests on remembering an id for as long as a copy of its
 * command could still be run.  So every command has an expiry from the
 * moment it is received: its `expires_ms`, or else its `ts_ms` plus
 * MGR_CMD_LIFETIME_MS, or else its arrival plus MGR_CMD_LIFETIME_MS.  The
 * window forgets an id only once that expiry has passed (never merely
 * because newer commands came: a window full of live ids refuses the new
 * command instead), and a copy arriving after it is refused as expired by
 * its own times.  Only a command that carries neither time can be run
 * again by a copy arriving more than MGR_CMD_LIFETIME_MS later: nothing in
 * it tells the copy from a new command.
 *
 * Times: `ts_ms` and `expires_ms` are the sender's wall clock, compared
 * with this host's wall clock.  A sender ahead by more than
 * MGR_CMD_MAX_SKEW_MS is refused with "clock skew"; a sender behind shortens
 * its commands' lives by as much.
 *
 * Pure: time comes in as an argument, so the rules are unit-tested.
 */
#ifndef MGR_CMDS_H
#define MGR_CMDS_H

#include <pthread.h>
#include <stdint.h>

#include "codec.h"

#define MGR_CMD_QUEUE_SIZE  256 /* commands waiting for the control thread */
#define MGR_CMD_WINDOW	    512 /* command ids remembered for at most once */
#define MGR_CMD_ANSWERS	    BUS_MAX_SPAWN
#define MGR_CMD_LIFETIME_MS 60000  /* of a command without expires_ms */
#define MGR_CMD_MAX_LIFE_MS 600000 /* the longest expires_ms - now accepted */
#define MGR_CMD_MAX_SKEW_MS 10000  /* how far ahead a sender's clock may be */

/* A command from paho's thread, or the reason it could not be read. */
struct mgr_queued_cmd {
	int valid;
	struct bus_cmd cmd;
	char error[BUS_TEXT_LEN];
	char bad_id[BUS_NAME_LEN]; /* !valid: the command's readable id, or "" */
};

/* A ring of commands, filled on paho's thread and emptied on the control
 * thread; full, it drops and counts. */
struct mgr_cmd_queue {
	pthread_mutex_t lock;
	struct mgr_queued_cmd items[MGR_CMD_QUEUE_SIZE];
	unsigned head, tail;
	uint64_t drops; /* commands lost because the queue was full */
};

void mgr_cmd_queue_init(struct mgr_cmd_queue *queue);
void mgr_cmd_queue_destroy(struct mgr_cmd_queue *queue);
/* 0, or the number of drops so far (this one included) when full. */
uint64_t mgr_cmd_queue_put(struct mgr_cmd_queue *queue, const struct mgr_queued_cmd *item);
/* 1 with *item taken, or 0 when empty. */
int mgr_cmd_queue_take(struct mgr_cmd_queue *queue, struct mgr_queued_cmd *item);
uint64_t mgr_cmd_queue_drops(struct mgr_cmd_queue *queue);

/* The answers (event payloads) given to one command id, to repeat on a resend. */
struct mgr_seen_cmd {
	char id[BUS_NAME_LEN];
	uint64_t expires_ms; /* wall: not forgotten before */
	unsigned nb_answers;
	char *answers[MGR_CMD_ANSWERS];
};

struct mgr_cmd_window {
	struct mgr_seen_cmd seen[MGR_CMD_WINDOW];
	uint64_t refused_full; /* commands refused because every id was still live */
};

enum mgr_cmd_verdict {
	MGR_CMD_RUN,	/* new: remembered, carry it out */
	MGR_CMD_REPEAT, /* seen: repeat its answers, nothing more */
	MGR_CMD_REFUSE, /* reject with the reason given; not remembered */
};

/*
 * Decide what to do with cmd, received at wall time now_ms.  *seen is the
 * window's entry for it (MGR_CMD_RUN, MGR_CMD_REPEAT), else NULL.
 */
enum mgr_cmd_verdict mgr_cmd_admit(struct mgr_cmd_window *window, const struct bus_cmd *cmd,
				   uint64_t now_ms, struct mgr_seen_cmd **seen, char *why,
				   size_t whylen);

struct mgr_seen_cmd *mgr_cmd_find(struct mgr_cmd_window *window, const char *id);

/* Keep payload (malloc'd) as one of seen's answers; frees it when full. */
void mgr_cmd_keep_answer(struct mgr_seen_cmd *seen, char *payload);

void mgr_cmd_window_free(struct mgr_cmd_window *window);

#endif
