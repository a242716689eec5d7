/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * top_main.c - onvm-top: watch the cluster on the bus, print a table every
 * interval with the events in between, optionally a timeline for gnuplot,
 * and at the end how fast each scale-out reacted. The model is top.c; this
 * file only parses the command line, runs the MQTT client and the clock.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "bus_client.h"
#include "clock.h"
#include "bus_options.h"
#include "overload_options.h"
#include "run_control.h"
#include "number.h"
#include "onvm_version.h"
#include "top.h"

#define TOP_USER_DEFAULT "monitor"
#define HEADER_EVERY	 15 /* table rows between two header lines */
#define REJECT_LOG_FIRST 20 /* rejected payloads logged one by one, then only counted */
#define CONNECT_WAIT_MS	 5000

struct top_options {
	struct bus_options bus; /* identity default: TOP_USER_DEFAULT */
	uint16_t service;
	uint16_t gen_service;
	struct policy_params params; /* only overload_options' are set here */
	uint64_t interval_ms;
	const char *timeline;
	uint64_t duration_s; /* 0: until a signal */
	bool quiet;
};

/* Shared with paho's thread; the lock is never held while calling the client. */
struct top_run {
	pthread_mutex_t lock;
	struct top *top;
	bool quiet;
	uint64_t rejected_logged;
};

static void usage(FILE *out, const char *prog)
{
	fprintf(
	    out,
	    "usage: %s -b URI (-P PASSWORD_FILE | --bus-cert F --bus-key F --bus-ca F) [options]\n"
	    "bus (an identity that may read onvm/#, default " TOP_USER_DEFAULT
	    "; client id IDENTITY/top-PID):\n"
	    "%s"
	    "  -s SERVICE    the service to watch (default %u)\n"
	    "  -g SERVICE    the load generator's service (default %u)\n"
	    "  -i MS         table interval, 100..60000 ms (default 1000)\n"
	    "  -T FILE       append one line per interval: t_s offered_pps delivered_pps\n"
	    "                drop_pps instances unserved_pps (tab separated, for gnuplot)\n"
	    "  -d SECONDS    stop after this long (default: at SIGINT/SIGTERM)\n"
	    "  -q            no table and no event lines, only the final summary\n"
	    "  -h, --help    this text\n"
	    "      --version the version, then exit\n"
	    "the overload onsets are the policy's: give onvm-top the policy's own values\n"
	    "%s",
	    prog, bus_options_usage, TOP_SERVICE_DEFAULT, TOP_GEN_SERVICE_DEFAULT,
	    overload_options_usage);
}

static int parse_uint(const char *text, uint64_t min, uint64_t max, uint64_t *value)
{
	return onvm_parse_uint(text, min, max, value);
}

/* Past the bus and overload options' values. */
enum { OPT_TOP_VERSION = 0x300 };

/* 0, 1 for -h, 2 for --version, -1 for a bad command line. */
static int parse_options(int argc, char **argv, struct top_options *options)
{
	static const struct option long_options[] = {
	    BUS_LONG_OPTIONS,
	    OVERLOAD_LONG_OPTIONS,
	    {"help", no_argument, NULL, 'h'},
	    {"version", no_argument, NULL, OPT_TOP_VERSION},
	    {NULL, 0, NULL, 0}};
	*options = (struct top_options){.service = TOP_SERVICE_DEFAULT,
					.gen_service = TOP_GEN_SERVICE_DEFAULT,
					.interval_ms = 1000};
	policy_params_default(&options->params);
	uint64_t value;
	char err[256];
	int opt;
	optind = 1;
	while ((opt = getopt_long(argc, argv, "s:g:i:T:d:qh" BUS_SHORT_OPTIONS, long_options,
				  NULL)) != -1) {
		int bus_option = bus_options_parse(&options->bus, opt, optarg, err, sizeof(err));
		if (bus_option < 0) {
			fprintf(stderr, "onvm-top: %s\n", err);
			return -1;
		}
		if (bus_option > 0)
			continue;
		int overload_option =
		    overload_options_parse(&options->params, opt, optarg, err, sizeof(err));
		if (overload_option < 0) {
			fprintf(stderr, "onvm-top: %s\n", err);
			return -1;
		}
		if (overload_option > 0)
			continue;
		switch (opt) {
		case 's':
		case 'g':
			if (parse_uint(optarg, 1, UINT16_MAX, &value) < 0)
				return -1;
			*(opt == 's' ? &options->service : &options->gen_service) = (uint16_t)value;
			break;
		case 'i':
			if (parse_uint(optarg, 100, 60000, &options->interval_ms) < 0)
				return -1;
			break;
		case 'T':
			options->timeline = optarg;
			break;
		case 'd':
			if (parse_uint(optarg, 1, 7 * 24 * 3600, &options->duration_s) < 0)
				return -1;
			break;
		case 'q':
			options->quiet = true;
			break;
		case 'h':
			return 1;
		case OPT_TOP_VERSION:
			return 2;
		default:
			return -1;
		}
	}
	if (optind != argc || !options->bus.uri[0])
		return -1;
	if (bus_options_check(&options->bus, err, sizeof(err)) < 0 ||
	    policy_params_check(&options->params, err, sizeof(err)) < 0) {
		fprintf(stderr, "onvm-top: %s\n", err);
		return -1;
	}
	return 0;
}

/* ---- paho's thread ---- */

static void on_event_line(void *ctx, const char *line)
{
	struct top_run *run = ctx;
	if (!run->quiet)
		printf("%s\n", line);
}

static void on_message(void *ctx, const char *topic, const void *payload, size_t len, int retained)
{
	struct top_run *run = ctx;
	char err[256];
	pthread_mutex_lock(&run->lock);
	int ret = top_feed_payload(run->top, topic, payload, len, retained != 0, onvm_wall_ms(),
				   err, sizeof(err));
	if (ret < 0 && run->rejected_logged++ < REJECT_LOG_FIRST)
		fprintf(stderr, "onvm-top: rejected %.100s: %s\n", topic, err);
	fflush(stdout);
	pthread_mutex_unlock(&run->lock);
}

static void on_disconnected(void *ctx, const char *cause)
{
	(void)ctx;
	fprintf(stderr, "onvm-top: connection lost (%s); reconnecting\n", cause);
}

/* ---- main thread ---- */

static struct bus_client *connect_bus(const struct top_options *options, struct top_run *run)
{
	char suffix[32], filter[BUS_TOPIC_MAX], err[256];
	snprintf(suffix, sizeof(suffix), "top-%ld", (long)getpid());
	struct bus_client_options client_options = {0};
	struct bus_client_callbacks callbacks = {
	    .message = on_message,
	    .disconnected = on_disconnected,
	    .ctx = run,
	};
	struct bus_credentials credentials; /* client_options points into it */
	struct bus_client *client =
	    bus_options_connect(&options->bus, TOP_USER_DEFAULT, suffix, &client_options,
				&credentials, &callbacks, err, sizeof(err));
	if (!client) {
		fprintf(stderr, "onvm-top: %s\n", err);
		return NULL;
	}
	if (bus_topic_filter(filter, sizeof(filter), BUS_KIND_UNKNOWN) < 0 ||
	    bus_client_subscribe(client, filter, 1) < 0) {
		fprintf(stderr, "onvm-top: cannot subscribe\n");
		bus_client_stop(client);
		return NULL;
	}
	if (bus_client_wait_connected(client, CONNECT_WAIT_MS) < 0)
		fprintf(stderr, "onvm-top: not connected to %s yet; still trying\n",
			options->bus.uri);
	return client;
}

/* Sleep until the wall clock reaches until_ms, or a signal. */
static void sleep_until(uint64_t until_ms)
{
	while (!run_stop_requested()) {
		uint64_t now = onvm_wall_ms();
		if (now >= until_ms)
			return;
		uint64_t left = until_ms - now;
		struct timespec ts = {.tv_sec = (time_t)(left / 1000),
				      .tv_nsec = (long)(left % 1000) * 1000000L};
		nanosleep(&ts, NULL); /* EINTR on a signal: the loop checks */
	}
}

static void print_tick(struct top_run *run, FILE *timeline, uint64_t now, uint32_t *rows,
		       uint32_t *hosts_in_header)
{
	pthread_mutex_lock(&run->lock);
	top_tick(run->top, now);
	if (!run->quiet) {
		uint32_t hosts = top_host_count(run->top);
		if (*rows % HEADER_EVERY == 0 || hosts != *hosts_in_header) {
			top_print_header(run->top, now, stdout);
			*hosts_in_header = hosts;
			*rows = 0;
		}
		top_print_row(run->top, now, stdout);
		(*rows)++;
		fflush(stdout);
	}
	if (timeline) {
		top_print_tsv_line(run->top, now, timeline);
		fflush(timeline);
	}
	pthread_mutex_unlock(&run->lock);
}

static void run_table(const struct top_options *options, struct top_run *run, FILE *timeline,
		      uint64_t start_ms)
{
	uint64_t end_ms = options->duration_s ? start_ms + options->duration_s * 1000 : UINT64_MAX;
	uint32_t rows = 0, hosts_in_header = 0;
	if (!run->quiet)
		top_print_legend(run->top, stdout);
	for (uint64_t tick = 1; !run_stop_requested(); tick++) {
		uint64_t at = start_ms + tick * options->interval_ms;
		if (at > end_ms)
			at = end_ms;
		sleep_until(at);
		if (run_stop_requested())
			break;
		print_tick(run, timeline, onvm_wall_ms(), &rows, &hosts_in_header);
		if (at >= end_ms)
			break;
	}
}

static FILE *open_timeline(const char *path)
{
	FILE *f = fopen(path, "a");
	if (!f) {
		fprintf(stderr, "onvm-top: cannot open %s: %s\n", path, strerror(errno));
		return NULL;
	}
	top_print_tsv_header(f);
	return f;
}

static int run_top(const struct top_options *options)
{
	struct top_config config;
	top_config_default(&config);
	config.service = options->service;
	config.gen_service = options->gen_service;
	config.params = options->params;
	config.start_ms = onvm_wall_ms();
	struct top_run run = {.quiet = options->quiet};
	config.event = on_event_line;
	config.event_ctx = &run;
	run.top = top_create(&config);
	if (!run.top) {
		fprintf(stderr, "onvm-top: out of memory\n");
		return 1;
	}
	pthread_mutex_init(&run.lock, NULL);
	int status = 1;
	FILE *timeline = options->timeline ? open_timeline(options->timeline) : NULL;
	struct bus_client *client = NULL;
	if (!options->timeline || timeline) {
		run_stop_on_signals();
		client = connect_bus(options, &run);
	}
	if (client) {
		run_table(options, &run, timeline, config.start_ms);
		bus_client_stop(client); /* no callback runs after this */
		top_print_summary(run.top, stdout);
		fflush(stdout);
		status = 0;
	}
	if (timeline)
		fclose(timeline);
	pthread_mutex_destroy(&run.lock);
	top_destroy(run.top);
	return status;
}

int main(int argc, char **argv)
{
	struct top_options options;
	int ret = parse_options(argc, argv, &options);
	if (ret == 2) {
		onvm_version_print(stdout, "onvm-top");
		return 0;
	}
	if (ret > 0) {
		usage(stdout, argv[0]);
		return 0;
	}
	if (ret < 0) {
		usage(stderr, argv[0]);
		return 2;
	}
	return run_top(&options);
}
