/* SPDX-License-Identifier: BSD-3-Clause */
/* onvm_log.c - the manager's and the NFs' log lines (see onvm_log.h). */
#define _GNU_SOURCE /* fopencookie */
#include <stdio.h>
#include <string.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include <rte_log.h>

#include "onvm_log.h"

RTE_LOG_REGISTER(onvm_logtype_mgr, onvm.mgr, INFO);
RTE_LOG_REGISTER(onvm_logtype_nf, onvm.nf, INFO);

static const char *level_name(uint32_t level)
{
	static const char *const names[] = {"?",       "EMERG",	 "ALERT", "CRIT", "ERR",
					    "WARNING", "NOTICE", "INFO",  "DEBUG"};
	return level < sizeof(names) / sizeof(names[0]) ? names[level] : "?";
}

size_t onvm_log_line_prefix(char *buf, size_t len, uint32_t level)
{
	/* Wall time: log lines are read by people, next to other machines'. */
	struct timespec now;
	clock_gettime(CLOCK_REALTIME, &now);
	struct tm utc;
	gmtime_r(&now.tv_sec, &utc);
	char when[32];
	strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%S", &utc);
	int written =
	    snprintf(buf, len, "%s.%03ldZ %s ", when, now.tv_nsec / 1000000, level_name(level));
	return written < 0 ? 0 : (size_t)written;
}

static void write_all(int fd, const char *text, size_t size)
{
	while (size > 0) {
		ssize_t written = write(fd, text, size);
		if (written <= 0)
			return;
		text += written;
		size -= (size_t)written;
	}
}

/* rte_log hands over one message per call (a whole line, usually). */
static ssize_t stream_write(void *cookie, const char *buf, size_t size)
{
	(void)cookie;
	uint32_t level = (uint32_t)rte_log_cur_msg_loglevel();
	char line[2048];
	size_t prefix = onvm_log_line_prefix(line, sizeof(line), level);
	size_t body = size < sizeof(line) - prefix ? size : sizeof(line) - prefix;
	memcpy(line + prefix, buf, body);
	write_all(level <= RTE_LOG_WARNING ? STDERR_FILENO : STDOUT_FILENO, line, prefix + body);
	/* As EAL's console stream: also to syslog (its facility is --syslog's). */
	if (level >= RTE_LOG_EMERG && level <= RTE_LOG_DEBUG)
		syslog((int)level - 1, "%.*s", (int)size, buf);
	return (ssize_t)size;
}

int onvm_log_stream_init(void)
{
	static const cookie_io_functions_t functions = {.write = stream_write};
	FILE *stream = fopencookie(NULL, "w+", functions);
	if (stream == NULL)
		return -1;
	setvbuf(stream, NULL, _IOLBF, 0);
	return rte_openlog_stream(stream);
}
