/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * onvm_log.h - the manager's and the NFs' log lines, through DPDK's rte_log.
 *
 * Two log types, onvm.mgr and onvm.nf, so that EAL's options apply to them:
 * --log-level=onvm.mgr:debug, --log-level=onvm.*:warning, --syslog.  The
 * stream onvm_log_stream_init() installs gives every line, DPDK's own
 * included, a UTC timestamp and a level, and sends it to syslog as EAL's
 * console stream does:
 *   2026-12-02T19:25:01.123Z INFO onvm-mgr: up: prefix h1, 2 ports, ...
 * Errors and warnings go to stderr, the rest to stdout.
 */
#ifndef ONVM_LOG_RTE_H
#define ONVM_LOG_RTE_H

#include <rte_log.h>

extern int onvm_logtype_mgr;
extern int onvm_logtype_nf;

/* Install the stream (before rte_eal_init, so EAL's lines get it too).
 * 0, or -1 when the stream cannot be made (the default one stays). */
int onvm_log_stream_init(void);

/* One line (no "\n" in fmt): MGR_LOG(INFO, "up: %u ports", n). */
#define MGR_LOG(level, fmt, ...)                                                                   \
	rte_log(RTE_LOG_##level, onvm_logtype_mgr, "onvm-mgr: " fmt "\n", ##__VA_ARGS__)
#define NF_LOG(level, fmt, ...)                                                                    \
	rte_log(RTE_LOG_##level, onvm_logtype_nf, "nflib: " fmt "\n", ##__VA_ARGS__)

/* "2026-12-02T19:25:01.123Z INFO " for an rte_log level into buf (tests). */
size_t onvm_log_line_prefix(char *buf, size_t len, uint32_t level);

#endif /* ONVM_LOG_RTE_H */
