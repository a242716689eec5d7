/* SPDX-License-Identifier: BSD-3-Clause */
/* onvm_phases.c - where an NF's start goes (see onvm_phases.h). */
#define _GNU_SOURCE /* fopencookie */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include <rte_log.h>

#include "clock.h"
#include "number.h"
#include "onvm_phases.h"

#define PHASES_ENV "ONVM_START_PHASES"

static const char *const phase_names[ONVM_PHASE_COUNT] = {
    [ONVM_PHASE_MAIN] = "main",	    [ONVM_PHASE_LOCK] = "lock",		[ONVM_PHASE_EAL] = "eal",
    [ONVM_PHASE_ATTACH] = "attach", [ONVM_PHASE_REGISTER] = "register",
};

static int measuring;
static uint64_t origin_ns;
static uint64_t end_ns[ONVM_PHASE_COUNT];

static double ms_since(uint64_t from_ns, uint64_t to_ns)
{
	return to_ns > from_ns ? (double)(to_ns - from_ns) / 1e6 : 0.0;
}

/* EAL writes each log message with one write: stamp it, pass it to stderr. */
static ssize_t stamped_write(void *cookie, const char *buffer, size_t size)
{
	(void)cookie;
	fprintf(stderr, "[%8.3f ms] %.*s", ms_since(origin_ns, onvm_mono_ns()), (int)size, buffer);
	return (ssize_t)size;
}

void onvm_phases_begin(void)
{
	const char *origin = getenv(PHASES_ENV);
	if (origin == NULL)
		return;
	uint64_t now = onvm_mono_ns();
	uint64_t value;
	/* The launcher's clock is ours (one machine); a bad or future value is no origin. */
	origin_ns = onvm_parse_uint(origin, 1, now, &value) == 0 ? value : now;
	measuring = 1;
	cookie_io_functions_t io = {.write = stamped_write};
	FILE *stream = fopencookie(NULL, "w", io);
	if (stream != NULL) {
		setvbuf(stream, NULL, _IOLBF, 0);
		rte_openlog_stream(stream);
	}
}

void onvm_phases_end(enum onvm_phase phase)
{
	if (measuring && phase < ONVM_PHASE_COUNT)
		end_ns[phase] = onvm_mono_ns();
}

void onvm_phases_report(FILE *out)
{
	if (!measuring)
		return;
	uint64_t from = origin_ns;
	fprintf(out, "nflib: start phases (ms):");
	for (int phase = 0; phase < ONVM_PHASE_COUNT; phase++) {
		fprintf(out, " %s %.3f", phase_names[phase], ms_since(from, end_ns[phase]));
		if (end_ns[phase])
			from = end_ns[phase];
	}
	fprintf(out, " total %.3f\n", ms_since(origin_ns, from));
	fflush(out);
}
