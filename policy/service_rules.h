/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * service_rules.h - per-service policy (onvm-policy --services FILE):
 *
 *     {"services":[{"id":2,"min":1,"max":6,"scale_in_after_ms":60000}]}
 *
 * min (default 0): the cluster keeps at least this many instances running;
 * a lost one is replaced at once (core.c's repair). max (default
 * unlimited): never more running plus pending instances. scale_in_after_ms
 * (default --scale-in-ms): this service's spare-capacity window. Scale-in
 * never goes below max(min, 1). A service not in the file has the defaults.
 *
 * The file is checked strictly: unknown keys at any level, mistyped or out
 * of range values, min > max, a duplicate id or a duplicate key are
 * errors, so a typo never silently means "no rule".
 */
#ifndef ONVM_POLICY_SERVICE_RULES_H
#define ONVM_POLICY_SERVICE_RULES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define SERVICE_RULES_MAX_INSTANCES 4096	/* largest min or max */
#define SERVICE_RULES_MAX_MS	    86400000ull /* largest scale_in_after_ms: a day */
#define SERVICE_RULES_FILE_MAX	    (1 << 20)	/* bytes */

struct service_rule {
	uint16_t id;
	uint32_t min;
	bool has_max;
	uint32_t max;
	bool has_scale_in_ms;
	uint64_t scale_in_ms;
};

struct service_rules {
	uint32_t n;
	struct service_rule *rules; /* sorted by id */
};

/* 0, or -1 with a reason (naming the file and the entry) in err. */
int service_rules_load(const char *path, struct service_rules *out, char *err, size_t errlen);
/* The same from text; name is what err calls it. */
int service_rules_parse(const char *text, size_t len, const char *name, struct service_rules *out,
			char *err, size_t errlen);
void service_rules_free(struct service_rules *rules);

/* A deep copy (rules may be NULL: none). 0, or -1 when out of memory. */
int service_rules_copy(struct service_rules *dst, const struct service_rules *src);

/* The rule of a service, or NULL: the defaults. */
const struct service_rule *service_rules_find(const struct service_rules *rules, uint16_t id);

#endif /* ONVM_POLICY_SERVICE_RULES_H */
