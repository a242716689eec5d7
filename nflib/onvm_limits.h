/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * onvm_limits.h - the sizes of one host's shared memory and data plane, for
 * the code that needs them without DPDK (options, catalog, unserved counts).
 * onvm_common.h, the layout itself, includes it.
 */
#ifndef ONVM_LIMITS_H
#define ONVM_LIMITS_H

#define ONVM_MAX_INSTANCES 64  /* instance slots per host */
#define ONVM_MAX_SERVICES  256 /* service ids are 1..ONVM_MAX_SERVICES-1 */
#define ONVM_MAX_MEMBERS   32  /* instances of one service on one host */
#define ONVM_MAX_PORTS	   16
#define ONVM_MAX_CHAIN	   8	/* services in a port's chain */
#define ONVM_NF_RING_SIZE  4096 /* per-instance RX and TX ring entries */
#define ONVM_BURST	   32
#define ONVM_NAME_LEN	   32
/* RTE_CACHE_LINE_SIZE, for code without DPDK (onvm_common.h checks it). */
#define ONVM_CACHE_LINE 64

#endif /* ONVM_LIMITS_H */
