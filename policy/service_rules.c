/* SPDX-License-Identifier: BSD-3-Clause */
/* service_rules.c - the --services file (see service_rules.h). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "service_rules.h"

/* An integer member in [low, high]: 1 and *out, 0 when absent, -1 (reason in err). */
static int integer_in(const json_t *entry, const char *key, json_int_t low, json_int_t high,
		      json_int_t *out, const char *where, char *err, size_t errlen)
{
	const json_t *value = json_object_get(entry, key);
	if (!value)
		return 0;
	if (!json_is_integer(value) || json_integer_value(value) < low ||
	    json_integer_value(value) > high) {
		snprintf(err, errlen,
			 "%s: \"%s\" must be an integer in %" JSON_INTEGER_FORMAT
			 "..%" JSON_INTEGER_FORMAT,
			 where, key, low, high);
		return -1;
	}
	*out = json_integer_value(value);
	return 1;
}

static int compare_rules(const void *a, const void *b)
{
	const struct service_rule *x = a, *y = b;
	return (x->id > y->id) - (x->id < y->id);
}

static int parse_entry(const json_t *entry, size_t index, const char *name,
		       struct service_rule *rule, char *err, size_t errlen)
{
	char where[300];
	snprintf(where, sizeof(where), "%s: services[%zu]", name, index);
	if (!json_is_object(entry)) {
		snprintf(err, errlen, "%s: not an object", where);
		return -1;
	}
	const char *key;
	const json_t *value;
	json_object_foreach((json_t *)entry, key, value)
	{
		if (strcmp(key, "id") && strcmp(key, "min") && strcmp(key, "max") &&
		    strcmp(key, "scale_in_after_ms")) {
			snprintf(err, errlen,
				 "%s: unknown key \"%.60s\" (id, min, max, scale_in_after_ms)",
				 where, key);
			return -1;
		}
	}
	json_int_t id = 0, min = 0, max = 0, after = 0;
	int has_id = integer_in(entry, "id", 1, 65535, &id, where, err, errlen);
	int has_min =
	    integer_in(entry, "min", 0, SERVICE_RULES_MAX_INSTANCES, &min, where, err, errlen);
	int has_max = has_min < 0 ? -1
				  : integer_in(entry, "max", 1, SERVICE_RULES_MAX_INSTANCES, &max,
					       where, err, errlen);
	int has_after =
	    has_max < 0 ? -1
			: integer_in(entry, "scale_in_after_ms", 1,
				     (json_int_t)SERVICE_RULES_MAX_MS, &after, where, err, errlen);
	if (has_id < 0 || has_min < 0 || has_max < 0 || has_after < 0)
		return -1;
	if (!has_id) {
		snprintf(err, errlen, "%s: no \"id\"", where);
		return -1;
	}
	if (has_max && min > max) {
		snprintf(err, errlen,
			 "%s: service %" JSON_INTEGER_FORMAT ": min %" JSON_INTEGER_FORMAT
			 " > max %" JSON_INTEGER_FORMAT,
			 name, id, min, max);
		return -1;
	}
	*rule = (struct service_rule){
	    .id = (uint16_t)id,
	    .min = (uint32_t)min,
	    .has_max = has_max > 0,
	    .max = (uint32_t)max,
	    .has_scale_in_ms = has_after > 0,
	    .scale_in_ms = (uint64_t)after,
	};
	return 0;
}

static int parse_root(const json_t *root, const char *name, struct service_rules *out, char *err,
		      size_t errlen)
{
	if (!json_is_object(root)) {
		snprintf(err, errlen, "%s: not a JSON object", name);
		return -1;
	}
	const char *key;
	const json_t *value;
	json_object_foreach((json_t *)root, key, value)
	{
		if (strcmp(key, "services") != 0) {
			snprintf(err, errlen, "%s: unknown key \"%.60s\" (only \"services\")", name,
				 key);
			return -1;
		}
	}
	const json_t *list = json_object_get(root, "services");
	if (!json_is_array(list)) {
		snprintf(err, errlen, "%s: \"services\" must be an array", name);
		return -1;
	}
	size_t n = json_array_size(list);
	if (n > 65535) {
		snprintf(err, errlen, "%s: more services than ids", name);
		return -1;
	}
	struct service_rule *rules = n ? calloc(n, sizeof(*rules)) : NULL;
	if (n && !rules) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	for (size_t i = 0; i < n; i++)
		if (parse_entry(json_array_get(list, i), i, name, &rules[i], err, errlen) < 0) {
			free(rules);
			return -1;
		}
	if (n)
		qsort(rules, n, sizeof(*rules), compare_rules);
	for (size_t i = 1; i < n; i++)
		if (rules[i].id == rules[i - 1].id) {
			snprintf(err, errlen, "%s: service %u is listed twice", name, rules[i].id);
			free(rules);
			return -1;
		}
	*out = (struct service_rules){.n = (uint32_t)n, .rules = rules};
	return 0;
}

int service_rules_parse(const char *text, size_t len, const char *name, struct service_rules *out,
			char *err, size_t errlen)
{
	*out = (struct service_rules){0};
	json_error_t error;
	json_t *root = json_loadb(text, len, JSON_REJECT_DUPLICATES, &error);
	if (!root) {
		snprintf(err, errlen, "%s: not valid JSON (line %d: %s)", name, error.line,
			 error.text);
		return -1;
	}
	int ret = parse_root(root, name, out, err, errlen);
	json_decref(root);
	return ret;
}

int service_rules_load(const char *path, struct service_rules *out, char *err, size_t errlen)
{
	*out = (struct service_rules){0};
	FILE *f = fopen(path, "r");
	if (!f) {
		snprintf(err, errlen, "cannot read %s: %s", path, strerror(errno));
		return -1;
	}
	char *text = malloc(SERVICE_RULES_FILE_MAX + 1);
	size_t len = text ? fread(text, 1, SERVICE_RULES_FILE_MAX + 1, f) : 0;
	int failed = !text || ferror(f);
	fclose(f);
	int ret = -1;
	if (failed)
		snprintf(err, errlen, "cannot read %s", path);
	else if (len > SERVICE_RULES_FILE_MAX)
		snprintf(err, errlen, "%s: over %d bytes", path, SERVICE_RULES_FILE_MAX);
	else
		ret = service_rules_parse(text, len, path, out, err, errlen);
	free(text);
	return ret;
}

void service_rules_free(struct service_rules *rules)
{
	free(rules->rules);
	*rules = (struct service_rules){0};
}

int service_rules_copy(struct service_rules *dst, const struct service_rules *src)
{
	*dst = (struct service_rules){0};
	if (!src || !src->n)
		return 0;
	dst->rules = malloc(src->n * sizeof(*dst->rules));
	if (!dst->rules)
		return -1;
	memcpy(dst->rules, src->rules, src->n * sizeof(*dst->rules));
	dst->n = src->n;
	return 0;
}

const struct service_rule *service_rules_find(const struct service_rules *rules, uint16_t id)
{
	uint32_t low = 0, high = rules->n;
	while (low < high) {
		uint32_t mid = low + (high - low) / 2;
		if (rules->rules[mid].id < id)
			low = mid + 1;
		else if (rules->rules[mid].id > id)
			high = mid;
		else
			return &rules->rules[mid];
	}
	return NULL;
}
