/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * fuzz_exporter.c - libFuzzer target for onvm-exporter's model and text
 * (policy/exporter.c).
 *
 * The input is lines as mosquitto_sub -v prints them ("TOPIC PAYLOAD"),
 * each fed 100 ms after the previous one to a model of at most 4 hosts;
 * every 8th line the clock also ticks (eviction after 1 s) and a snapshot
 * is rendered. Beyond "no crash, no leak" the text must keep the format:
 * every line a "# HELP"/"# TYPE" comment or "onvm_NAME[{LABELS}] VALUE" with
 * a finite number, and no line longer than a sample can be (so no label
 * escaped itself out of its bound).
 *
 * Built by tests/fuzz/run.sh (cmake -DONVM_FUZZ=ON, target fuzz_exporter).
 */
#include <math.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "exporter.h"

#define LINE_MAX_BYTES 1024 /* a family's HELP, or a sample with its longest labels */

static void check(int ok, const char *what)
{
	if (!ok) {
		fprintf(stderr, "fuzz_exporter: property failed: %s\n", what);
		abort();
	}
}

static void check_text(const struct exporter *model, uint64_t now_ms)
{
	struct exporter *snapshot = exporter_snapshot(model);
	check(snapshot != NULL, "snapshot");
	size_t len = 0;
	char *text = exporter_render(snapshot, now_ms, &len);
	check(text != NULL && strlen(text) == len, "rendered");
	check(len > 0 && text[len - 1] == '\n', "ends with a newline");
	for (char *line = text; *line;) {
		char *end = strchr(line, '\n');
		check(end != NULL && end - line < LINE_MAX_BYTES, "line length");
		*end = '\0';
		if (line[0] == '#') {
			check(strncmp(line, "# HELP onvm_", 12) == 0 ||
				  strncmp(line, "# TYPE onvm_", 12) == 0,
			      "a comment is HELP or TYPE");
		} else {
			check(strncmp(line, "onvm_", 5) == 0, "a sample's name");
			const char *space = strrchr(line, ' ');
			check(space != NULL, "a sample's value");
			char *after;
			double value = strtod(space + 1, &after);
			check(*after == '\0' && after > space + 1 && isfinite(value), "a number");
		}
		line = end + 1;
	}
	free(text);
	exporter_destroy(snapshot);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct exporter_config config;
	exporter_config_default(&config);
	config.max_hosts = 4;
	config.stale_ms = 500;
	config.evict_ms = 1000;
	struct exporter *model = exporter_create(&config);
	check(model != NULL, "created");
	char *input = malloc(size + 1);
	check(input != NULL, "memory");
	memcpy(input, data, size);
	input[size] = '\0';
	uint64_t now_ms = 1000;
	unsigned lines = 0;
	char err[256];
	for (char *line = input; line < input + size;) {
		char *end = memchr(line, '\n', (size_t)(input + size - line));
		size_t line_len = end ? (size_t)(end - line) : (size_t)(input + size - line);
		char *space = memchr(line, ' ', line_len);
		if (space) {
			*space = '\0';
			bool retained = line[0] == 'R'; /* "R" before the topic: a retained one */
			const char *topic = retained ? line + 1 : line;
			exporter_feed(model, topic, space + 1,
				      line_len - (size_t)(space + 1 - line), retained, now_ms, err,
				      sizeof(err));
		}
		now_ms += 100;
		if (++lines % 8 == 0) {
			exporter_tick(model, now_ms);
			check_text(model, now_ms);
		}
		line += line_len + 1;
	}
	check_text(model, now_ms);
	free(input);
	exporter_destroy(model);
	return 0;
}
