/* SPDX-License-Identifier: BSD-3-Clause */
/* bench.c - jansson parse-only rate of a trace's stats payloads (see bench.h). */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "bench.h"
#include "topics.h"
#include "trace.h"

struct payloads {
	char *bytes; /* all payloads back to back */
	size_t used, cap;
	size_t *ends; /* end offset of each */
	size_t n, ends_cap;
};

static int append_payload(struct payloads *p, const char *payload, size_t len)
{
	if (p->used + len > p->cap) {
		size_t cap = p->cap ? p->cap : 1 << 20;
		while (cap < p->used + len)
			cap *= 2;
		char *bytes = realloc(p->bytes, cap);
		if (!bytes)
			return -1;
		p->bytes = bytes;
		p->cap = cap;
	}
	if (p->n == p->ends_cap) {
		size_t cap = p->ends_cap ? p->ends_cap * 2 : 1024;
		size_t *ends = realloc(p->ends, cap * sizeof(*ends));
		if (!ends)
			return -1;
		p->ends = ends;
		p->ends_cap = cap;
	}
	memcpy(p->bytes + p->used, payload, len);
	p->used += len;
	p->ends[p->n++] = p->used;
	return 0;
}

static int load_stats_payloads(FILE *trace, struct payloads *p, char *err, size_t errlen)
{
	struct bus_trace_rec rec = {0};
	char why[256];
	int ret, status = 0;
	while ((ret = bus_trace_read(trace, &rec, why, sizeof(why))) != 0) {
		if (ret == BUS_ERR_IO) {
			snprintf(err, errlen, "%s", why);
			status = -1;
			break;
		}
		struct bus_topic topic;
		if (ret < 0 || bus_topic_parse(rec.topic, &topic) < 0 ||
		    topic.kind != BUS_KIND_STATS)
			continue;
		if (append_payload(p, rec.payload, rec.payload_len) < 0) {
			snprintf(err, errlen, "out of memory");
			status = -1;
			break;
		}
	}
	bus_trace_rec_free(&rec);
	return status;
}

static double seconds_now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Parse every payload with jansson; count the instance records. */
static int parse_all(const struct payloads *p, struct bench_parse_result *result, char *err,
		     size_t errlen)
{
	double start = seconds_now();
	size_t begin = 0;
	for (size_t i = 0; i < p->n; i++) {
		json_error_t error;
		json_t *root = json_loadb(p->bytes + begin, p->ends[i] - begin, 0, &error);
		if (!root) {
			snprintf(err, errlen, "payload %zu does not parse: %s", i, error.text);
			return -1;
		}
		result->records += json_array_size(json_object_get(root, "instances"));
		json_decref(root);
		begin = p->ends[i];
	}
	result->seconds = seconds_now() - start;
	result->payloads = p->n;
	return 0;
}

int policy_bench_parse(FILE *trace, struct bench_parse_result *result, char *err, size_t errlen)
{
	*result = (struct bench_parse_result){0};
	struct payloads p = {0};
	int status = load_stats_payloads(trace, &p, err, errlen);
	if (status == 0)
		status = parse_all(&p, result, err, errlen);
	free(p.bytes);
	free(p.ends);
	return status;
}
