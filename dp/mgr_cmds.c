/* SPDX-License-Identifier: BSD-3-Clause */
/* mgr_cmds.c - the command queue and the window of remembered ids (see mgr_cmds.h). */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mgr_cmds.h"

void mgr_cmd_queue_init(struct mgr_cmd_queue *queue)
{
	pthread_mutex_init(&queue->lock, NULL);
	queue->head = queue->tail = 0;
	queue->drops = 0;
}

void mgr_cmd_queue_destroy(struct mgr_cmd_queue *queue)
{
	pthread_mutex_destroy(&queue->lock);
}

uint64_t mgr_cmd_queue_put(struct mgr_cmd_queue *queue, const struct mgr_queued_cmd *item)
{
	uint64_t dropped = 0;
	pthread_mutex_lock(&queue->lock);
	unsigned next = (queue->tail + 1) % MGR_CMD_QUEUE_SIZE;
	if (next == queue->head) {
		dropped = ++queue->drops;
	} else {
		queue->items[queue->tail] = *item;
		queue->tail = next;
	}
	pthread_mutex_unlock(&queue->lock);
	return dropped;
}

int mgr_cmd_queue_take(struct mgr_cmd_queue *queue, struct mgr_queued_cmd *item)
{
	pthread_mutex_lock(&queue->lock);
	int have = queue->head != queue->tail;
	if (have) {
		*item = queue->items[queue->head];
		queue->head = (queue->head + 1) % MGR_CMD_QUEUE_SIZE;
	}
	pthread_mutex_unlock(&queue->lock);
	return have;
}

uint64_t mgr_cmd_queue_drops(struct mgr_cmd_queue *queue)
{
	pthread_mutex_lock(&queue->lock);
	uint64_t drops = queue->drops;
	pthread_mutex_unlock(&queue->lock);
	return drops;
}

struct mgr_seen_cmd *mgr_cmd_find(struct mgr_cmd_window *window, const char *id)
{
	for (unsigned i = 0; i < MGR_CMD_WINDOW; i++)
		if (window->seen[i].id[0] && strcmp(window->seen[i].id, id) == 0)
			return &window->seen[i];
	return NULL;
}

static void forget(struct mgr_seen_cmd *seen)
{
	for (unsigned i = 0; i < seen->nb_answers; i++)
		free(seen->answers[i]);
	memset(seen, 0, sizeof(*seen));
}

/* An empty entry, or the one whose expiry passed first; NULL when all are live. */
static struct mgr_seen_cmd *free_entry(struct mgr_cmd_window *window, uint64_t now_ms)
{
	struct mgr_seen_cmd *oldest = NULL;
	for (unsigned i = 0; i < MGR_CMD_WINDOW; i++) {
		struct mgr_seen_cmd *seen = &window->seen[i];
		if (seen->id[0] == '\0')
			return seen;
		if (seen->expires_ms < now_ms && (!oldest || seen->expires_ms < oldest->expires_ms))
			oldest = seen;
	}
	return oldest;
}

/* The command's expiry as of its arrival at now_ms (see mgr_cmds.h). */
static uint64_t expiry_of(const struct bus_cmd *cmd, uint64_t now_ms)
{
	if (cmd->has_expires)
		return cmd->expires_ms;
	return (cmd->has_ts_ms ? cmd->ts_ms : now_ms) + MGR_CMD_LIFETIME_MS;
}

/* Why cmd's times cannot be from a clock close to ours, or NULL. */
static int skewed(const struct bus_cmd *cmd, uint64_t now_ms, char *why, size_t whylen)
{
	if (cmd->has_ts_ms && cmd->ts_ms > now_ms + MGR_CMD_MAX_SKEW_MS) {
		snprintf(why, whylen,
			 "clock skew: ts_ms %" PRIu64 " is %" PRIu64
			 " ms ahead of this host's clock (at most %u tolerated)",
			 cmd->ts_ms, cmd->ts_ms - now_ms, MGR_CMD_MAX_SKEW_MS);
		return 1;
	}
	if (cmd->has_expires &&
	    cmd->expires_ms > now_ms + MGR_CMD_MAX_LIFE_MS + MGR_CMD_MAX_SKEW_MS) {
		snprintf(why, whylen,
			 "clock skew: expires_ms %" PRIu64 " is %" PRIu64
			 " ms ahead of this host's clock (at most %u tolerated)",
			 cmd->expires_ms, cmd->expires_ms - now_ms,
			 MGR_CMD_MAX_LIFE_MS + MGR_CMD_MAX_SKEW_MS);
		return 1;
	}
	return 0;
}

enum mgr_cmd_verdict mgr_cmd_admit(struct mgr_cmd_window *window, const struct bus_cmd *cmd,
				   uint64_t now_ms, struct mgr_seen_cmd **seen_out, char *why,
				   size_t whylen)
{
	struct mgr_seen_cmd *seen = mgr_cmd_find(window, cmd->id);
	*seen_out = seen;
	if (seen)
		return MGR_CMD_REPEAT;
	if (skewed(cmd, now_ms, why, whylen))
		return MGR_CMD_REFUSE; /* its expiry cannot be trusted: not remembered either */
	uint64_t expires_ms = expiry_of(cmd, now_ms);
	if (now_ms > expires_ms) {
		/* Also every copy of a command the window has forgotten. */
		snprintf(why, whylen, "command expired before it arrived");
		return MGR_CMD_REFUSE;
	}
	seen = free_entry(window, now_ms);
	if (seen == NULL) {
		window->refused_full++;
		snprintf(why, whylen,
			 "too many commands in flight: %u remembered, none expired yet",
			 MGR_CMD_WINDOW);
		return MGR_CMD_REFUSE;
	}
	forget(seen);
	snprintf(seen->id, sizeof(seen->id), "%s", cmd->id);
	seen->expires_ms = expires_ms;
	*seen_out = seen;
	return MGR_CMD_RUN;
}

void mgr_cmd_keep_answer(struct mgr_seen_cmd *seen, char *payload)
{
	if (seen->nb_answers < MGR_CMD_ANSWERS)
		seen->answers[seen->nb_answers++] = payload;
	else
		free(payload);
}

void mgr_cmd_window_free(struct mgr_cmd_window *window)
{
	for (unsigned i = 0; i < MGR_CMD_WINDOW; i++)
		forget(&window->seen[i]);
}
