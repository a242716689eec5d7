/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * test_policy_inbox.c - unit tests of the live daemon's queue
 * (policy/inbox.c): a message over the bus's bounds is refused and counted
 * before anything of it is read, the queue is bounded by bytes as well as
 * by count and takes messages again once emptied, a notification wakes a
 * taker without a message, and an idle take returns after its wait.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "codec.h"
#include "inbox.h"
#include "topics.h"

static const char topic[] = "onvm/hosts/h1/stats";

static size_t free_all(struct inbox_item *items)
{
	size_t n = 0;
	while (items) {
		struct inbox_item *next = items->next;
		free(items);
		items = next;
		n++;
	}
	return n;
}

static void test_too_big_not_copied(void **state)
{
	(void)state;
	struct inbox inbox;
	assert_int_equal(inbox_init(&inbox, 100, 1 << 20), 0);
	/* A length far past the 16 bytes there: copying any of it would read
	 * out of bounds (ASan) or ask for a gigabyte. */
	char small[16] = "{}";
	uint64_t count = 0;
	assert_int_equal(inbox_put(&inbox, topic, small, (size_t)1 << 30, false, &count),
			 INBOX_TOO_BIG);
	assert_int_equal(count, 1);
	assert_int_equal(inbox_put(&inbox, topic, small, BUS_PAYLOAD_MAX + 1, false, &count),
			 INBOX_TOO_BIG);
	assert_int_equal(count, 2);
	assert_int_equal(inbox.depth, 0);
	assert_int_equal(inbox.bytes, 0);

	/* A topic over the bus's bound, likewise. */
	char *long_topic = malloc(BUS_TOPIC_MAX + 10);
	assert_non_null(long_topic);
	memset(long_topic, 'a', BUS_TOPIC_MAX + 9);
	long_topic[BUS_TOPIC_MAX + 9] = '\0';
	assert_int_equal(inbox_put(&inbox, long_topic, small, 2, false, &count), INBOX_TOO_BIG);
	free(long_topic);

	/* The largest payload the bus takes is queued, intact. */
	char *max = malloc(BUS_PAYLOAD_MAX);
	assert_non_null(max);
	memset(max, 'x', BUS_PAYLOAD_MAX);
	assert_int_equal(inbox_put(&inbox, topic, max, BUS_PAYLOAD_MAX, true, &count),
			 INBOX_QUEUED);
	bool notified;
	struct inbox_item *items = inbox_take_all(&inbox, 0, &notified);
	assert_non_null(items);
	assert_null(items->next);
	assert_true(items->retained);
	assert_int_equal(items->len, BUS_PAYLOAD_MAX);
	assert_memory_equal(items->payload, max, BUS_PAYLOAD_MAX);
	assert_int_equal(items->payload[BUS_PAYLOAD_MAX], '\0');
	assert_string_equal(items->topic, topic);
	free_all(items);
	free(max);

	struct inbox_counters counters;
	inbox_counters(&inbox, &counters);
	assert_int_equal(counters.too_big, 3);
	assert_int_equal(counters.queued, 1);
	inbox_destroy(&inbox);
}

static void test_bounded_by_bytes(void **state)
{
	(void)state;
	struct inbox inbox;
	const size_t max_bytes = 10000;
	assert_int_equal(inbox_init(&inbox, 1000, max_bytes), 0);
	char payload[1000];
	memset(payload, '7', sizeof(payload));
	uint64_t count;
	size_t queued = 0;
	while (inbox_put(&inbox, topic, payload, sizeof(payload), false, &count) == INBOX_QUEUED)
		queued++;
	/* Far under the count bound: the bytes stopped it. */
	assert_true(queued >= 8 && queued < 10);
	assert_true(inbox.bytes <= max_bytes);
	assert_int_equal(inbox.depth, queued);
	assert_int_equal(count, 1); /* the first one refused as full */
	/* A small one that still fits is taken; then nothing more. */
	while (inbox_put(&inbox, topic, "{}", 2, false, &count) == INBOX_QUEUED)
		queued++;
	assert_true(inbox.bytes <= max_bytes);

	bool notified;
	assert_int_equal(free_all(inbox_take_all(&inbox, 0, &notified)), queued);
	assert_int_equal(inbox.bytes, 0);
	assert_int_equal(inbox.depth, 0);
	assert_int_equal(inbox_put(&inbox, topic, payload, sizeof(payload), false, &count),
			 INBOX_QUEUED);
	free_all(inbox_take_all(&inbox, 0, &notified));
	inbox_destroy(&inbox);
}

static void test_bounded_by_count(void **state)
{
	(void)state;
	struct inbox inbox;
	assert_int_equal(inbox_init(&inbox, 3, 1 << 20), 0);
	uint64_t count;
	for (int i = 0; i < 3; i++)
		assert_int_equal(inbox_put(&inbox, topic, "{}", 2, false, &count), INBOX_QUEUED);
	assert_int_equal(inbox_put(&inbox, topic, "{}", 2, false, &count), INBOX_FULL);
	bool notified;
	struct inbox_item *items = inbox_take_all(&inbox, 0, &notified);
	assert_false(notified);
	assert_int_equal(free_all(items), 3);
	inbox_destroy(&inbox);
}

static void test_notify_and_idle_wait(void **state)
{
	(void)state;
	struct inbox inbox;
	assert_int_equal(inbox_init(&inbox, 3, 1 << 20), 0);
	bool notified = true;
	/* Nothing there: returns once the wait is over (a monotonic deadline). */
	assert_null(inbox_take_all(&inbox, 20, &notified));
	assert_false(notified);
	inbox_notify(&inbox);
	assert_null(inbox_take_all(&inbox, 60000, &notified)); /* at once */
	assert_true(notified);
	inbox_destroy(&inbox);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_too_big_not_copied),
	    cmocka_unit_test(test_bounded_by_bytes),
	    cmocka_unit_test(test_bounded_by_count),
	    cmocka_unit_test(test_notify_and_idle_wait),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
