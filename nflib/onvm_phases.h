/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * onvm_phases.h - where an NF's start goes, measured when asked.
 *
 * With ONVM_START_PHASES in the environment, onvm_nflib_init marks the end
 * of each phase of its start on the monotonic clock and prints them in one
 * line; EAL's own log lines then carry the ms since the origin, so a
 * --log-level=lib.eal:debug run shows the phases inside rte_eal_init too
 * (CPU scan, driver loading, memory attach, bus scan).  The variable's value
 * is the origin: CLOCK_MONOTONIC ns at the exec, as a launcher saw it (see
 * tests/bench/coldstart.sh); anything else, or a time in the future, makes
 * the origin the start of onvm_nflib_init.  Without the variable nothing is
 * measured or changed.
 */
#ifndef ONVM_PHASES_H
#define ONVM_PHASES_H

#include <stdio.h>

enum onvm_phase {
	ONVM_PHASE_MAIN,     /* exec -> onvm_nflib_init: the loader, constructors, main */
	ONVM_PHASE_LOCK,     /* waiting for other NFs' EAL init (onvm_nf_attach.lock) */
	ONVM_PHASE_EAL,	     /* rte_eal_init */
	ONVM_PHASE_ATTACH,   /* finding the manager's memzone, pools and rings */
	ONVM_PHASE_REGISTER, /* REGISTER sent -> the manager's answer */
	ONVM_PHASE_COUNT
};

/* Reads ONVM_START_PHASES; when set, starts measuring and time-stamps EAL's
 * log.  Call first in onvm_nflib_init, before rte_eal_init. */
void onvm_phases_begin(void);

/* The phase that ends now (phases end in enum order). */
void onvm_phases_end(enum onvm_phase phase);

/* "nflib: start phases (ms): main .. lock .. eal .. attach .. register ..
 * total .." on out, when measuring. */
void onvm_phases_report(FILE *out);

#endif
