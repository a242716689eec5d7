/* SPDX-License-Identifier: BSD-3-Clause */
/* log.c - levelled, timestamped log lines (see log.h). */
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "log.h"

static const char *const level_names[] = {"ERR", "WARNING", "NOTICE", "INFO", "DEBUG"};
#define LEVELS (sizeof(level_names) / sizeof(level_names[0]))

static char program_name[64] = "onvm";
static enum onvm_log_level threshold = ONVM_LOG_INFO;

void onvm_log_init(const char *program)
{
	snprintf(program_name, sizeof(program_name), "%s", program);
	const char *env = getenv("ONVM_LOG_LEVEL");
	enum onvm_log_level level;
	if (env && onvm_log_parse_level(env, &level) == 0)
		threshold = level;
}

void onvm_log_set_level(enum onvm_log_level level)
{
	threshold = level < LEVELS ? level : ONVM_LOG_DEBUG;
}

enum onvm_log_level onvm_log_get_level(void)
{
	return threshold;
}

int onvm_log_parse_level(const char *text, enum onvm_log_level *level)
{
	for (unsigned i = 0; i < LEVELS; i++) {
		char digit[2] = {(char)('0' + i), '\0'};
		if (strcasecmp(text, level_names[i]) == 0 || strcmp(text, digit) == 0) {
			*level = (enum onvm_log_level)i;
			return 0;
		}
	}
	return -1;
}

size_t onvm_log_prefix(char *buf, size_t len, enum onvm_log_level level)
{
	/* Wall time: a log line is read by people, next to other machines' logs. */
	struct timespec now;
	clock_gettime(CLOCK_REALTIME, &now);
	struct tm utc;
	gmtime_r(&now.tv_sec, &utc);
	char when[32];
	strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%S", &utc);
	int written = snprintf(buf, len, "%s.%03ldZ %s %s: ", when, now.tv_nsec / 1000000,
			       level < LEVELS ? level_names[level] : "?", program_name);
	return written < 0 ? 0 : (size_t)written;
}

void onvm_vlog_to(FILE *out, enum onvm_log_level level, const char *fmt, va_list args)
{
	if (level > threshold)
		return;
	if (out == NULL)
		out = level <= ONVM_LOG_WARNING ? stderr : stdout;
	char prefix[160];
	onvm_log_prefix(prefix, sizeof(prefix), level);
	flockfile(out);
	fputs(prefix, out);
	vfprintf(out, fmt, args);
	fputc('\n', out);
	fflush(out);
	funlockfile(out);
}

void onvm_log(enum onvm_log_level level, const char *fmt, ...)
{
	va_list args;
	va_start(args, fmt);
	onvm_vlog_to(NULL, level, fmt, args);
	va_end(args);
}
