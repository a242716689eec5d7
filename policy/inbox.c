/* SPDX-License-Identifier: BSD-3-Clause */
/* inbox.c - the bounded queue from paho's thread to the main loop (see inbox.h). */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "codec.h"
#include "inbox.h"
#include "topics.h"

int inbox_init(struct inbox *inbox, size_t max_items, size_t max_bytes)
{
	*inbox = (struct inbox){.max_items = max_items, .max_bytes = max_bytes};
	pthread_condattr_t attr;
	if (pthread_condattr_init(&attr) != 0)
		return -1;
	int ret = pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
	if (ret == 0)
		ret = pthread_cond_init(&inbox->wake, &attr);
	pthread_condattr_destroy(&attr);
	if (ret != 0)
		return -1;
	if (pthread_mutex_init(&inbox->lock, NULL) != 0) {
		pthread_cond_destroy(&inbox->wake);
		return -1;
	}
	return 0;
}

static void free_items(struct inbox_item *item)
{
	while (item) {
		struct inbox_item *next = item->next;
		free(item);
		item = next;
	}
}

void inbox_destroy(struct inbox *inbox)
{
	free_items(inbox->head);
	inbox->head = inbox->tail = NULL;
	pthread_cond_destroy(&inbox->wake);
	pthread_mutex_destroy(&inbox->lock);
}

static enum inbox_verdict count_verdict(struct inbox *inbox, enum inbox_verdict verdict,
					uint64_t *count)
{
	uint64_t *counter;
	switch (verdict) {
	case INBOX_QUEUED:
		counter = &inbox->counters.queued;
		break;
	case INBOX_TOO_BIG:
		counter = &inbox->counters.too_big;
		break;
	case INBOX_FULL:
		counter = &inbox->counters.full;
		break;
	default:
		counter = &inbox->counters.no_memory;
		break;
	}
	(*counter)++;
	if (count)
		*count = *counter;
	return verdict;
}

static bool has_room(const struct inbox *inbox, size_t size)
{
	return inbox->depth < inbox->max_items && size <= inbox->max_bytes &&
	       inbox->bytes <= inbox->max_bytes - size;
}

enum inbox_verdict inbox_put(struct inbox *inbox, const char *topic, const void *payload,
			     size_t len, bool retained, uint64_t *count)
{
	/* Sizes first: nothing of a message over the bounds is read or copied. */
	size_t topic_len = strnlen(topic, BUS_TOPIC_MAX);
	bool too_big = len > BUS_PAYLOAD_MAX || topic_len >= BUS_TOPIC_MAX;
	size_t size = sizeof(struct inbox_item) + len + 1 + topic_len + 1;

	pthread_mutex_lock(&inbox->lock);
	enum inbox_verdict verdict = too_big		      ? INBOX_TOO_BIG
				     : !has_room(inbox, size) ? INBOX_FULL
							      : INBOX_QUEUED;
	if (verdict != INBOX_QUEUED) {
		count_verdict(inbox, verdict, count);
		pthread_mutex_unlock(&inbox->lock);
		return verdict;
	}
	/* Reserve the room, so a racing put cannot take it while we copy. */
	inbox->bytes += size;
	inbox->depth++;
	pthread_mutex_unlock(&inbox->lock);

	struct inbox_item *item = malloc(size);
	if (item) {
		item->next = NULL;
		item->retained = retained;
		item->len = len;
		item->size = size;
		if (len)
			memcpy(item->payload, payload, len);
		item->payload[len] = '\0';
		item->topic = item->payload + len + 1;
		memcpy(item->topic, topic, topic_len);
		item->topic[topic_len] = '\0';
	}

	pthread_mutex_lock(&inbox->lock);
	if (!item) {
		inbox->bytes -= size;
		inbox->depth--;
		verdict = count_verdict(inbox, INBOX_NO_MEMORY, count);
	} else {
		if (inbox->tail)
			inbox->tail->next = item;
		else
			inbox->head = item;
		inbox->tail = item;
		count_verdict(inbox, INBOX_QUEUED, count);
		pthread_cond_signal(&inbox->wake);
	}
	pthread_mutex_unlock(&inbox->lock);
	return verdict;
}

void inbox_notify(struct inbox *inbox)
{
	pthread_mutex_lock(&inbox->lock);
	inbox->notified = true;
	pthread_cond_signal(&inbox->wake);
	pthread_mutex_unlock(&inbox->lock);
}

struct inbox_item *inbox_take_all(struct inbox *inbox, uint32_t wait_ms, bool *notified)
{
	pthread_mutex_lock(&inbox->lock);
	if (!inbox->head && !inbox->notified && wait_ms) {
		struct timespec until;
		clock_gettime(CLOCK_MONOTONIC, &until);
		until.tv_sec += wait_ms / 1000;
		until.tv_nsec += (long)(wait_ms % 1000) * 1000000L;
		if (until.tv_nsec >= 1000000000L) {
			until.tv_sec++;
			until.tv_nsec -= 1000000000L;
		}
		pthread_cond_timedwait(&inbox->wake, &inbox->lock, &until);
	}
	struct inbox_item *items = inbox->head;
	inbox->head = inbox->tail = NULL;
	/* Reserved room of puts still copying stays counted. */
	for (struct inbox_item *item = items; item; item = item->next) {
		inbox->bytes -= item->size;
		inbox->depth--;
	}
	*notified = inbox->notified;
	inbox->notified = false;
	pthread_mutex_unlock(&inbox->lock);
	return items;
}

void inbox_counters(struct inbox *inbox, struct inbox_counters *out)
{
	pthread_mutex_lock(&inbox->lock);
	*out = inbox->counters;
	pthread_mutex_unlock(&inbox->lock);
}
