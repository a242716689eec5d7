/* SPDX-License-Identifier: BSD-3-Clause */
/* test_nflib_direct_tx.c - unit tests for the direct-TX rules (nflib/onvm_direct_tx.h). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>

#include <cmocka.h>

#include "onvm_direct_tx.h"

static void test_only_listed_drivers(void **state __rte_unused)
{
	assert_true(onvm_direct_tx_driver("net_null"));
	/* TX queue q of a net_ring comes back on RX queue q, which nobody reads. */
	assert_false(onvm_direct_tx_driver("net_ring"));
	/* Its socket is the primary's: a secondary's TX burst crashes. */
	assert_false(onvm_direct_tx_driver("net_af_packet"));
	assert_false(onvm_direct_tx_driver("net_nul"));
	assert_false(onvm_direct_tx_driver("net_null0"));
	assert_false(onvm_direct_tx_driver(""));
	assert_false(onvm_direct_tx_driver(NULL));
}

static void test_slot_gets_queue_after_base(void **state __rte_unused)
{
	assert_int_equal(onvm_direct_tx_queue(1, 0, "net_null", ONVM_DIRECT_TX_QUEUES), 1);
	assert_int_equal(onvm_direct_tx_queue(1, 7, "net_null", ONVM_DIRECT_TX_QUEUES), 8);
	assert_int_equal(
	    onvm_direct_tx_queue(1, ONVM_MAX_INSTANCES - 1, "net_null", ONVM_DIRECT_TX_QUEUES),
	    ONVM_MAX_INSTANCES);
}

static void test_base_zero_means_through_the_manager(void **state __rte_unused)
{
	assert_int_equal(onvm_direct_tx_queue(0, 0, "net_null", ONVM_DIRECT_TX_QUEUES), -1);
	assert_int_equal(onvm_direct_tx_queue(0, 5, "net_null", ONVM_DIRECT_TX_QUEUES), -1);
}

/* What shared memory says is checked against the NF's own view of the port. */
static void test_shared_memory_is_not_trusted(void **state __rte_unused)
{
	/* A base an NF wrote that puts the queue past the port's queues */
	assert_int_equal(
	    onvm_direct_tx_queue(2, ONVM_MAX_INSTANCES - 1, "net_null", ONVM_DIRECT_TX_QUEUES), -1);
	assert_int_equal(onvm_direct_tx_queue(UINT16_MAX, 1, "net_null", UINT16_MAX), -1);
	/* A port with one queue: a base written there names no queue of it */
	assert_int_equal(onvm_direct_tx_queue(1, 0, "net_null", 1), -1);
	/* A base written on a port whose driver is not listed */
	assert_int_equal(onvm_direct_tx_queue(1, 0, "net_af_packet", ONVM_DIRECT_TX_QUEUES), -1);
	/* A slot out of range */
	assert_int_equal(onvm_direct_tx_queue(1, ONVM_MAX_INSTANCES, "net_null", UINT16_MAX), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_only_listed_drivers),
	    cmocka_unit_test(test_slot_gets_queue_after_base),
	    cmocka_unit_test(test_base_zero_means_through_the_manager),
	    cmocka_unit_test(test_shared_memory_is_not_trusted),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
