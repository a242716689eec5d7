/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * catalog.h - the host's service catalog: which program serves each service.
 *
 * A JSON file the operator writes; the bus can only name a service id, never
 * a program, a path or an argument.  Format:
 *   {"services": [{"id": 2, "name": "slow_thing", "exec": "examples/slow_thing",
 *                  "args": ["--cycles", "2000"], "cores": 1}]}
 * "exec" is relative to the catalog file's folder unless absolute; "args"
 * (default none), "cores" (lcores an instance takes, default 1) and "warm"
 * (instances kept started and attached but idle, so that a spawn only has
 * to switch one on: default 0, at most CATALOG_MAX_WARM) are optional.
 * Unknown keys are errors, so a typo does not pass silently.
 */
#ifndef CATALOG_H
#define CATALOG_H

#include <limits.h>
#include <stddef.h>
#include <stdint.h>

#define CATALOG_MAX_SERVICES 64
#define CATALOG_MAX_ARGS     32
#define CATALOG_NAME_LEN     32
#define CATALOG_MAX_WARM     4

struct catalog_service {
	uint16_t id;
	char name[CATALOG_NAME_LEN];
	char exec[PATH_MAX];
	char *args[CATALOG_MAX_ARGS];
	unsigned nb_args;
	unsigned cores;
	unsigned warm;
};

struct catalog {
	struct catalog_service services[CATALOG_MAX_SERVICES];
	unsigned count;
};

/* Parse catalog text; relative "exec" paths are resolved against base_dir.
 * 0, or -1 with a message in err (the catalog is then empty). */
int catalog_parse(const char *text, const char *base_dir, struct catalog *catalog, char *err,
		  size_t errlen);

/* Read and parse a catalog file. */
int catalog_load(const char *path, struct catalog *catalog, char *err, size_t errlen);

/* Check that every service's program exists and is executable. */
int catalog_check_programs(const struct catalog *catalog, char *err, size_t errlen);

const struct catalog_service *catalog_find(const struct catalog *catalog, uint16_t id);

void catalog_free(struct catalog *catalog);

#endif
