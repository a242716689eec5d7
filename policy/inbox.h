/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * inbox.h - the live daemon's queue from paho's thread to the main loop.
 *
 * A message is checked before it is copied: a payload over the bus's
 * BUS_PAYLOAD_MAX (the codec would refuse it anyway) or a topic over
 * BUS_TOPIC_MAX is refused, counted, and never touched. What is queued is
 * bounded by count and by bytes (payload, topic and bookkeeping), so a
 * flood of big messages cannot take the daemon's memory while the main
 * loop is busy; a message over either bound is dropped and counted.
 *
 * Waiting uses a CLOCK_MONOTONIC condition variable: a wall clock step
 * neither stretches nor skips the main loop's idle wait.
 */
#ifndef ONVM_POLICY_INBOX_H
#define ONVM_POLICY_INBOX_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct inbox_item {
	struct inbox_item *next;
	bool retained;
	size_t len;
	size_t size; /* counted against max_bytes */
	char *topic;
	char payload[]; /* len bytes + NUL, then the topic */
};

enum inbox_verdict {
	INBOX_QUEUED = 0,
	INBOX_TOO_BIG, /* payload or topic over the bus's bounds: not copied */
	INBOX_FULL,    /* the queue holds max_items or max_bytes already */
	INBOX_NO_MEMORY,
};

struct inbox_counters {
	uint64_t queued;
	uint64_t too_big;
	uint64_t full;
	uint64_t no_memory;
};

struct inbox {
	pthread_mutex_t lock; /* guards everything below */
	pthread_cond_t wake;  /* on CLOCK_MONOTONIC */
	struct inbox_item *head, *tail;
	size_t depth, bytes;
	size_t max_items, max_bytes;
	bool notified; /* inbox_notify was called since the last take */
	struct inbox_counters counters;
};

/* 0, or -1 when the lock or condition variable cannot be made. */
int inbox_init(struct inbox *inbox, size_t max_items, size_t max_bytes);
/* Frees what is still queued. */
void inbox_destroy(struct inbox *inbox);

/* Copy a message in (paho's thread). *count gets how many messages had the
 * same verdict so far, for rate-limited logging. */
enum inbox_verdict inbox_put(struct inbox *inbox, const char *topic, const void *payload,
			     size_t len, bool retained, uint64_t *count);

/* Wake the main loop without a message (a reconnect). */
void inbox_notify(struct inbox *inbox);

/*
 * Everything queued, oldest first (the caller frees each item), waiting up
 * to wait_ms when there is nothing and no notification; *notified says
 * whether inbox_notify was called since the last take.
 */
struct inbox_item *inbox_take_all(struct inbox *inbox, uint32_t wait_ms, bool *notified);

void inbox_counters(struct inbox *inbox, struct inbox_counters *out);

#endif /* ONVM_POLICY_INBOX_H */
