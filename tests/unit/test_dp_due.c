/* SPDX-License-Identifier: BSD-3-Clause */
/* test_dp_due.c - unit tests for when a retained message is due (dp/mgr_due.h). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>

#include <cmocka.h>

#include "mgr_due.h"

/* A publish that fails leaves the change due: it is tried again after
 * MGR_DUE_RETRY_MS, and again, until one goes out; then nothing is due. */
static void test_failed_publish_is_retried(void **state)
{
	(void)state;
	struct mgr_due due = {0};
	uint64_t now = 1000;
	assert_false(mgr_due_now(&due, now));
	mgr_due_changed(&due);
	assert_true(mgr_due_now(&due, now));
	mgr_due_tried(&due, 0, now); /* failed */
	assert_false(mgr_due_now(&due, now + MGR_DUE_RETRY_MS - 1));
	assert_true(mgr_due_now(&due, now + MGR_DUE_RETRY_MS));
	now += MGR_DUE_RETRY_MS;
	mgr_due_tried(&due, 0, now); /* failed again */
	assert_true(mgr_due_now(&due, now + MGR_DUE_RETRY_MS));
	now += MGR_DUE_RETRY_MS;
	mgr_due_tried(&due, 1, now); /* out */
	assert_false(mgr_due_now(&due, now + 10 * MGR_DUE_RETRY_MS));
}

/* A new change while waiting to retry goes out at once. */
static void test_change_while_waiting(void **state)
{
	(void)state;
	struct mgr_due due = {0};
	mgr_due_changed(&due);
	mgr_due_tried(&due, 0, 5000);
	assert_false(mgr_due_now(&due, 5001));
	mgr_due_changed(&due);
	assert_true(mgr_due_now(&due, 5001));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_failed_publish_is_retried),
	    cmocka_unit_test(test_change_while_waiting),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
