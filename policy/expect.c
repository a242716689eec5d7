/* SPDX-License-Identifier: BSD-3-Clause */
/* expect.c - check replay output against an expect file (see expect.h). */
#include <inttypes.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "codec.h"
#include "expect.h"
#include "topics.h"
#include "trace.h"

struct out_line {
	int64_t rel_ms;
	enum bus_kind kind; /* CMD or DECISIONS */
	struct bus_cmd cmd;
	struct bus_decision decision;
	bool used;
};

struct outputs {
	struct out_line *lines;
	size_t n, cap;
};

static int keep_line(struct outputs *outs, const struct bus_trace_rec *rec, int64_t first_tst_us)
{
	struct bus_topic topic;
	if (bus_topic_parse(rec->topic, &topic) < 0 ||
	    (topic.kind != BUS_KIND_CMD && topic.kind != BUS_KIND_DECISIONS))
		return 0;
	if (outs->n == outs->cap) {
		size_t cap = outs->cap ? outs->cap * 2 : 64;
		struct out_line *lines = realloc(outs->lines, cap * sizeof(*lines));
		if (!lines)
			return -1;
		outs->lines = lines;
		outs->cap = cap;
	}
	struct out_line *line = &outs->lines[outs->n];
	*line =
	    (struct out_line){.kind = topic.kind, .rel_ms = (rec->tst_us - first_tst_us) / 1000};
	int ret =
	    topic.kind == BUS_KIND_CMD
		? bus_decode_cmd(topic.name, rec->payload, rec->payload_len, &line->cmd, NULL, 0)
		: bus_decode_decision(NULL, rec->payload, rec->payload_len, &line->decision, NULL,
				      0);
	if (ret < 0)
		return -1;
	outs->n++;
	return 0;
}

static int read_outputs(FILE *output, int64_t first_tst_us, struct outputs *outs, FILE *report)
{
	struct bus_trace_rec rec = {0};
	char why[256];
	int ret, status = 0;
	while ((ret = bus_trace_read(output, &rec, why, sizeof(why))) != 0) {
		if (ret < 0 || keep_line(outs, &rec, first_tst_us) < 0) {
			fprintf(report, "check: unreadable replay output: %s\n",
				ret < 0 ? why : "bad command or decision line");
			status = -1;
			break;
		}
	}
	bus_trace_rec_free(&rec);
	return status;
}

/* Time window of an expected item: [after_ms, by_ms]. */
struct window {
	int64_t after_ms, by_ms;
};

static struct window item_window(const json_t *item, int64_t default_by)
{
	struct window w = {.after_ms = INT64_MIN, .by_ms = default_by};
	const json_t *by = json_object_get(item, "by_ms");
	const json_t *after = json_object_get(item, "after_ms");
	if (json_is_integer(by))
		w.by_ms = json_integer_value(by);
	if (json_is_integer(after))
		w.after_ms = json_integer_value(after);
	return w;
}

static bool in_window(const struct window *w, int64_t rel_ms)
{
	return rel_ms >= w->after_ms && rel_ms <= w->by_ms;
}

static const char *opt_string(const json_t *item, const char *key)
{
	const json_t *value = json_object_get(item, key);
	return json_is_string(value) ? json_string_value(value) : NULL;
}

/* An expected "origin": absent (anything), null (none: a repair) or a host. */
static bool origin_matches(const json_t *item, bool has_origin, const char *origin)
{
	const json_t *want = json_object_get(item, "origin");
	if (json_is_null(want))
		return !has_origin;
	if (json_is_string(want))
		return has_origin && strcmp(origin, json_string_value(want)) == 0;
	return true;
}

static bool cmd_matches(const struct out_line *line, enum bus_cmd_op op, const json_t *item,
			const struct window *w)
{
	const struct bus_cmd *cmd = &line->cmd;
	const char *host = opt_string(item, "host");
	const json_t *instance = json_object_get(item, "instance");
	return line->kind == BUS_KIND_CMD && !line->used && cmd->op == op &&
	       (!host || strcmp(cmd->target, host) == 0) &&
	       cmd->service == json_integer_value(json_object_get(item, "service")) &&
	       origin_matches(item, cmd->has_origin, cmd->origin) &&
	       (!json_is_integer(instance) || cmd->instance == json_integer_value(instance)) &&
	       in_window(w, line->rel_ms);
}

static bool decision_matches(const struct out_line *line, const json_t *item,
			     const struct window *w)
{
	const struct bus_decision *d = &line->decision;
	const char *contains = opt_string(item, "reason_contains");
	const json_t *target = json_object_get(item, "target");
	const json_t *shadow = json_object_get(item, "shadow");
	if (line->kind != BUS_KIND_DECISIONS || line->used ||
	    d->service != json_integer_value(json_object_get(item, "service")) ||
	    !in_window(w, line->rel_ms))
		return false;
	if (!origin_matches(item, d->has_origin, d->origin))
		return false;
	if (contains && !strstr(d->reason, contains))
		return false;
	if (json_is_boolean(shadow) && d->shadow != json_is_true(shadow))
		return false;
	if (json_is_null(target) && d->has_target)
		return false;
	if (json_is_string(target) &&
	    (!d->has_target || strcmp(d->target, json_string_value(target)) != 0))
		return false;
	return true;
}

static void describe_item(const json_t *item, char *buf, size_t len)
{
	char *text = json_dumps(item, JSON_COMPACT | JSON_SORT_KEYS);
	snprintf(buf, len, "%s", text ? text : "?");
	free(text);
}

/* Match each listed item to its own output line; count the misses. */
static int match_list(struct outputs *outs, const json_t *list, const char *what, int op,
		      int64_t default_by, FILE *report)
{
	int misses = 0;
	size_t index;
	const json_t *item;
	json_array_foreach(list, index, item)
	{
		struct window w = item_window(item, default_by);
		bool found = false;
		for (size_t i = 0; i < outs->n && !found; i++) {
			struct out_line *line = &outs->lines[i];
			bool match = op < 0 ? decision_matches(line, item, &w)
					    : cmd_matches(line, (enum bus_cmd_op)op, item, &w);
			if (match)
				line->used = found = true;
		}
		if (!found) {
			char text[512];
			describe_item(item, text, sizeof(text));
			fprintf(report, "check: missing %s %s\n", what, text);
			misses++;
		}
	}
	return misses;
}

static int no_others(const struct outputs *outs, enum bus_cmd_op op, FILE *report)
{
	int extra = 0;
	for (size_t i = 0; i < outs->n; i++) {
		const struct out_line *line = &outs->lines[i];
		if (line->kind != BUS_KIND_CMD || line->used || line->cmd.op != op)
			continue;
		fprintf(report, "check: unexpected %s of service %u on %s at %" PRId64 " ms (%s)\n",
			bus_cmd_op_name(op), line->cmd.service, line->cmd.target, line->rel_ms,
			line->cmd.id);
		extra++;
	}
	return extra;
}

static int count_kind(const struct outputs *outs, enum bus_kind kind)
{
	int count = 0;
	for (size_t i = 0; i < outs->n; i++)
		count += outs->lines[i].kind == kind;
	return count;
}

static int exact_count(const json_t *expect, const char *key, int have, FILE *report)
{
	const json_t *want = json_object_get(expect, key);
	if (!json_is_integer(want) || json_integer_value(want) == have)
		return 0;
	fprintf(report, "check: %s: %d, expected %" JSON_INTEGER_FORMAT "\n", key, have,
		json_integer_value(want));
	return 1;
}

static int run_checks(const json_t *expect, struct outputs *outs, FILE *report)
{
	const json_t *by = json_object_get(expect, "by_ms");
	int64_t default_by = json_is_integer(by) ? json_integer_value(by) : INT64_MAX;
	int failures = 0;
	failures += match_list(outs, json_object_get(expect, "spawns"), "spawn", BUS_OP_SPAWN,
			       default_by, report);
	failures += match_list(outs, json_object_get(expect, "stops"), "stop", BUS_OP_STOP,
			       default_by, report);
	failures += match_list(outs, json_object_get(expect, "decisions"), "decision", -1,
			       default_by, report);
	if (json_is_true(json_object_get(expect, "no_other_spawn")))
		failures += no_others(outs, BUS_OP_SPAWN, report);
	if (json_is_true(json_object_get(expect, "no_other_stop")))
		failures += no_others(outs, BUS_OP_STOP, report);
	failures += exact_count(expect, "commands", count_kind(outs, BUS_KIND_CMD), report);
	failures +=
	    exact_count(expect, "decisions_total", count_kind(outs, BUS_KIND_DECISIONS), report);
	return failures;
}

int policy_expect_check(const char *expect_path, FILE *output, int64_t first_tst_us, FILE *report)
{
	json_error_t error;
	json_t *expect = json_load_file(expect_path, 0, &error);
	if (!json_is_object(expect)) {
		fprintf(report, "check: cannot read %s: %s (line %d)\n", expect_path,
			expect ? "not a JSON object" : error.text, error.line);
		json_decref(expect);
		return -1;
	}
	struct outputs outs = {0};
	int status = read_outputs(output, first_tst_us, &outs, report);
	if (status == 0) {
		int failures = run_checks(expect, &outs, report);
		if (failures)
			status = 1;
		fprintf(report, "check: %s: %s (%d commands, %d decisions)\n", expect_path,
			failures ? "FAIL" : "ok", count_kind(&outs, BUS_KIND_CMD),
			count_kind(&outs, BUS_KIND_DECISIONS));
	}
	free(outs.lines);
	json_decref(expect);
	return status;
}
