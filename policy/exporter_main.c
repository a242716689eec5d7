/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * exporter_main.c - onvm-exporter: the cluster's bus as Prometheus metrics
 * on http://ADDR:PORT/metrics. The model and the text are exporter.c; this
 * file parses the command line and runs the MQTT client (paho's thread
 * feeds the model) and the HTTP server (microhttpd's thread renders a
 * snapshot of it). The lock is held only to feed or to copy, never while
 * calling the bus client or formatting.
 */
#include <arpa/inet.h>
#include <getopt.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <microhttpd.h>

#include "bus_client.h"
#include "bus_options.h"
#include "clock.h"
#include "config_file.h"
#include "exporter.h"
#include "log.h"
#include "number.h"
#include "onvm_version.h"
#include "overload_options.h"
#include "run_control.h"

#define EXPORTER_USER_DEFAULT "monitor"
#define EXPORTER_BROKER_DEFAULT                                                                    \
	"tcp://127.0.0.1:18830" /* the project's broker, as onvm-policy's                          \
				 */
#define EXPORTER_LISTEN_DEFAULT "127.0.0.1:9550"
#define REJECT_LOG_FIRST	20 /* rejected payloads logged one by one, then one in 1000 */
#define HTTP_CONNECTIONS	16
#define HTTP_TIMEOUT_S		10
#define CONTENT_TYPE		"text/plain; version=0.0.4; charset=utf-8"

struct exporter_options {
	struct bus_options bus;
	struct sockaddr_storage listen;
	socklen_t listen_len;
	struct exporter_config config;
};

/* Shared by paho's and microhttpd's threads. */
struct exporter_run {
	pthread_mutex_t lock;
	struct exporter *model;
	uint64_t rejected;
};

static void usage(FILE *out, const char *prog)
{
	struct exporter_config defaults;
	exporter_config_default(&defaults);
	fprintf(
	    out,
	    "usage: %s [options]\n"
	    "Serves the cluster's bus as Prometheus metrics on http://ADDR:PORT/metrics.\n"
	    "bus (an identity that may read onvm/#, default " EXPORTER_USER_DEFAULT
	    "; client id IDENTITY/exporter-PID;\n"
	    "default broker " EXPORTER_BROKER_DEFAULT "):\n"
	    "%s"
	    "  -l, --listen ADDR:PORT  where to serve HTTP (default " EXPORTER_LISTEN_DEFAULT
	    "; [IPv6]:PORT)\n"
	    "      --stale-ms MS       a host is down after max(MS, 3 stats periods) of\n"
	    "                          silence (default %" PRIu64 ", the policy's option)\n"
	    "      --evict-ms MS       forget a host this long after it was last up (default %u)\n"
	    "      --max-hosts N       hosts tracked at most, 1..%u (default %u)\n"
	    "      --config FILE       options from a JSON file (long names as keys)\n"
	    "  -h, --help              this text\n"
	    "      --version           the version, then exit\n",
	    prog, bus_options_usage, defaults.stale_ms, EXPORTER_EVICT_DEFAULT_MS,
	    EXPORTER_MAX_HOSTS, EXPORTER_MAX_HOSTS);
}

/* Past the bus options' values. */
enum { OPT_VERSION = 0x300, OPT_EVICT, OPT_MAX_HOSTS };

static const struct option long_options[] = {
    BUS_LONG_OPTIONS,
    {"listen", required_argument, NULL, 'l'},
    {"stale-ms", required_argument, NULL, OVERLOAD_OPT_STALE_MS}, /* the policy's option */
    {"evict-ms", required_argument, NULL, OPT_EVICT},
    {"max-hosts", required_argument, NULL, OPT_MAX_HOSTS},
    {"help", no_argument, NULL, 'h'},
    {"version", no_argument, NULL, OPT_VERSION},
    {NULL, 0, NULL, 0}};

/* "A.B.C.D:PORT" or "[IPv6]:PORT" into options->listen.  0 or -1. */
static int parse_listen(const char *text, struct exporter_options *options)
{
	char host[64];
	const char *colon = strrchr(text, ':');
	if (!colon || (size_t)(colon - text) >= sizeof(host))
		return -1;
	uint64_t port;
	if (onvm_parse_uint(colon + 1, 1, 65535, &port) < 0)
		return -1;
	memcpy(host, text, (size_t)(colon - text));
	host[colon - text] = '\0';
	memset(&options->listen, 0, sizeof(options->listen));
	size_t len = strlen(host);
	if (len > 2 && host[0] == '[' && host[len - 1] == ']') {
		struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)&options->listen;
		host[len - 1] = '\0';
		if (inet_pton(AF_INET6, host + 1, &in6->sin6_addr) != 1)
			return -1;
		in6->sin6_family = AF_INET6;
		in6->sin6_port = htons((uint16_t)port);
		options->listen_len = sizeof(*in6);
		return 0;
	}
	struct sockaddr_in *in = (struct sockaddr_in *)&options->listen;
	if (inet_pton(AF_INET, host, &in->sin_addr) != 1)
		return -1;
	in->sin_family = AF_INET;
	in->sin_port = htons((uint16_t)port);
	options->listen_len = sizeof(*in);
	return 0;
}

/* 0, 1 for -h, 2 for --version, -1 for a bad command line (the reason in err). */
static int parse_command_line(int argc, char **argv, struct exporter_options *options, char *err,
			      size_t errlen)
{
	uint64_t value;
	int opt;
	optind = 1;
	opterr = 0;
	while ((opt = getopt_long(argc, argv, "l:h" BUS_SHORT_OPTIONS, long_options, NULL)) != -1) {
		int bus_option = bus_options_parse(&options->bus, opt, optarg, err, errlen);
		if (bus_option < 0)
			return -1;
		if (bus_option > 0)
			continue;
		switch (opt) {
		case 'l':
			if (parse_listen(optarg, options) < 0) {
				snprintf(err, errlen, "--listen: '%.100s' is not ADDR:PORT",
					 optarg);
				return -1;
			}
			break;
		case OVERLOAD_OPT_STALE_MS: {
			/* Parsed and checked as the policy's, so both mean the same. */
			struct policy_params params;
			policy_params_default(&params);
			if (overload_options_parse(&params, opt, optarg, err, errlen) < 0 ||
			    policy_params_check(&params, err, errlen) < 0)
				return -1;
			options->config.stale_ms = params.stale_ms;
			break;
		}
		case OPT_EVICT:
			if (onvm_parse_uint(optarg, 100, UINT64_C(86400000) * 7, &value) < 0) {
				snprintf(err, errlen,
					 "--evict-ms: '%.100s' is not 100..604800000 ms", optarg);
				return -1;
			}
			options->config.evict_ms = value;
			break;
		case OPT_MAX_HOSTS:
			if (onvm_parse_uint(optarg, 1, EXPORTER_MAX_HOSTS, &value) < 0) {
				snprintf(err, errlen, "--max-hosts: '%.100s' is not 1..%u", optarg,
					 EXPORTER_MAX_HOSTS);
				return -1;
			}
			options->config.max_hosts = (uint32_t)value;
			break;
		case 'h':
			return 1;
		case OPT_VERSION:
			return 2;
		default:
			snprintf(err, errlen, "unknown option or missing argument");
			return -1;
		}
	}
	if (optind < argc) {
		snprintf(err, errlen, "unexpected argument '%.100s'", argv[optind]);
		return -1;
	}
	return bus_options_check(&options->bus, err, errlen);
}

static int parse_options(int argc, char **argv, struct exporter_options *options, char *err,
			 size_t errlen)
{
	*options = (struct exporter_options){
	    .bus = {.uri = EXPORTER_BROKER_DEFAULT, .user = EXPORTER_USER_DEFAULT}};
	exporter_config_default(&options->config);
	if (parse_listen(EXPORTER_LISTEN_DEFAULT, options) < 0)
		return -1;
	struct config_merged merged;
	if (config_file_merge(argc, argv, long_options, &merged, err, errlen) < 0)
		return -1;
	int ret = parse_command_line(merged.argc, merged.argv, options, err, errlen);
	config_merged_free(&merged);
	return ret;
}

/* ---- paho's thread ---- */

static void on_message(void *ctx, const char *topic, const void *payload, size_t len, int retained)
{
	struct exporter_run *run = ctx;
	char err[256];
	pthread_mutex_lock(&run->lock);
	int ret = exporter_feed(run->model, topic, payload, len, retained != 0, onvm_mono_ms(), err,
				sizeof(err));
	uint64_t rejected = ret < 0 ? ++run->rejected : 0;
	pthread_mutex_unlock(&run->lock);
	if (rejected && (rejected <= REJECT_LOG_FIRST || rejected % 1000 == 0))
		onvm_log(ONVM_LOG_WARNING, "rejected %.100s (%" PRIu64 " so far): %s", topic,
			 rejected, err);
}

static void set_connected(struct exporter_run *run, bool connected)
{
	pthread_mutex_lock(&run->lock);
	exporter_set_connected(run->model, connected);
	pthread_mutex_unlock(&run->lock);
}

static void on_connected(void *ctx)
{
	set_connected(ctx, true);
	onvm_log(ONVM_LOG_NOTICE, "connected to the broker");
}

static void on_disconnected(void *ctx, const char *cause)
{
	set_connected(ctx, false);
	onvm_log(ONVM_LOG_WARNING, "connection lost (%s); reconnecting", cause);
}

/* ---- microhttpd's thread ---- */

static enum MHD_Result respond(struct MHD_Connection *connection, unsigned status, const char *type,
			       char *body, size_t len, enum MHD_ResponseMemoryMode mode)
{
	struct MHD_Response *response = MHD_create_response_from_buffer(len, body, mode);
	if (!response) {
		if (mode == MHD_RESPMEM_MUST_FREE)
			free(body);
		return MHD_NO;
	}
	MHD_add_response_header(response, MHD_HTTP_HEADER_CONTENT_TYPE, type);
	enum MHD_Result ret = MHD_queue_response(connection, status, response);
	MHD_destroy_response(response);
	return ret;
}

static char *render_metrics(struct exporter_run *run, size_t *len)
{
	uint64_t now_ms = onvm_mono_ms();
	pthread_mutex_lock(&run->lock);
	exporter_tick(run->model, now_ms);
	struct exporter *snapshot = exporter_snapshot(run->model);
	pthread_mutex_unlock(&run->lock);
	if (!snapshot)
		return NULL;
	char *text = exporter_render(snapshot, now_ms, len);
	exporter_destroy(snapshot);
	return text;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *connection, const char *url,
				  const char *method, const char *version, const char *upload_data,
				  size_t *upload_data_size, void **con_cls)
{
	(void)version;
	(void)upload_data;
	(void)con_cls;
	static char not_found[] = "not found: the metrics are at /metrics\n";
	static char not_allowed[] = "only GET and HEAD\n";
	static char no_memory[] = "out of memory\n";
	if (*upload_data_size)
		return MHD_NO; /* a body nobody asked for */
	if (strcmp(method, MHD_HTTP_METHOD_GET) != 0 && strcmp(method, MHD_HTTP_METHOD_HEAD) != 0)
		return respond(connection, MHD_HTTP_METHOD_NOT_ALLOWED, "text/plain", not_allowed,
			       strlen(not_allowed), MHD_RESPMEM_PERSISTENT);
	if (strcmp(url, "/metrics") != 0)
		return respond(connection, MHD_HTTP_NOT_FOUND, "text/plain", not_found,
			       strlen(not_found), MHD_RESPMEM_PERSISTENT);
	size_t len = 0;
	char *text = render_metrics(cls, &len);
	if (!text)
		return respond(connection, MHD_HTTP_INTERNAL_SERVER_ERROR, "text/plain", no_memory,
			       strlen(no_memory), MHD_RESPMEM_PERSISTENT);
	return respond(connection, MHD_HTTP_OK, CONTENT_TYPE, text, len, MHD_RESPMEM_MUST_FREE);
}

/* ---- main thread ---- */

static struct bus_client *connect_bus(const struct exporter_options *options,
				      struct exporter_run *run)
{
	char suffix[32], filter[BUS_TOPIC_MAX], err[256];
	snprintf(suffix, sizeof(suffix), "exporter-%ld", (long)getpid());
	struct bus_client_options client_options = {0};
	struct bus_client_callbacks callbacks = {
	    .message = on_message,
	    .connected = on_connected,
	    .disconnected = on_disconnected,
	    .ctx = run,
	};
	struct bus_credentials credentials; /* client_options points into it */
	struct bus_client *client =
	    bus_options_connect(&options->bus, EXPORTER_USER_DEFAULT, suffix, &client_options,
				&credentials, &callbacks, err, sizeof(err));
	if (!client) {
		onvm_log(ONVM_LOG_ERR, "%s", err);
		return NULL;
	}
	if (bus_topic_filter(filter, sizeof(filter), BUS_KIND_UNKNOWN) < 0 ||
	    bus_client_subscribe(client, filter, 1) < 0) {
		onvm_log(ONVM_LOG_ERR, "cannot subscribe");
		bus_client_stop(client);
		return NULL;
	}
	return client;
}

static struct MHD_Daemon *start_http(const struct exporter_options *options,
				     struct exporter_run *run)
{
	unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_ERROR_LOG;
	if (options->listen.ss_family == AF_INET6)
		flags |= MHD_USE_IPv6;
	return MHD_start_daemon(flags, 0, NULL, NULL, on_request, run, MHD_OPTION_SOCK_ADDR,
				(const struct sockaddr *)&options->listen,
				MHD_OPTION_CONNECTION_LIMIT, (unsigned)HTTP_CONNECTIONS,
				MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)HTTP_TIMEOUT_S,
				MHD_OPTION_END);
}

static void listen_text(const struct exporter_options *options, char *buf, size_t len)
{
	char host[INET6_ADDRSTRLEN] = "?";
	if (options->listen.ss_family == AF_INET6) {
		const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)&options->listen;
		inet_ntop(AF_INET6, &in6->sin6_addr, host, sizeof(host));
		snprintf(buf, len, "[%s]:%u", host, ntohs(in6->sin6_port));
	} else {
		const struct sockaddr_in *in = (const struct sockaddr_in *)&options->listen;
		inet_ntop(AF_INET, &in->sin_addr, host, sizeof(host));
		snprintf(buf, len, "%s:%u", host, ntohs(in->sin_port));
	}
}

static int run_exporter(const struct exporter_options *options)
{
	if (options->bus.root[0] && bus_topic_set_root(options->bus.root) < 0) {
		onvm_log(ONVM_LOG_ERR, "--bus-root '%s' is not a valid topic root",
			 options->bus.root);
		return 2;
	}
	struct exporter_run run = {.model = exporter_create(&options->config)};
	if (!run.model) {
		onvm_log(ONVM_LOG_ERR, "out of memory");
		return 1;
	}
	pthread_mutex_init(&run.lock, NULL);
	int status = 1;
	char where[INET6_ADDRSTRLEN + 16];
	listen_text(options, where, sizeof(where));
	run_stop_on_signals();
	struct MHD_Daemon *http = start_http(options, &run);
	if (!http) {
		onvm_log(ONVM_LOG_ERR, "cannot serve HTTP on %s", where);
	} else {
		struct bus_client *client = connect_bus(options, &run);
		if (client) {
			onvm_log(ONVM_LOG_NOTICE, "serving http://%s/metrics; bus %s", where,
				 options->bus.uri);
			while (!run_stop_requested()) {
				struct timespec ts = {.tv_sec = 0, .tv_nsec = 200 * 1000000L};
				nanosleep(&ts, NULL); /* EINTR on a signal: the loop checks */
				pthread_mutex_lock(&run.lock); /* evict even when nobody scrapes */
				exporter_tick(run.model, onvm_mono_ms());
				pthread_mutex_unlock(&run.lock);
			}
			bus_client_stop(client); /* no callback runs after this */
			status = 0;
		}
		MHD_stop_daemon(http);
	}
	pthread_mutex_destroy(&run.lock);
	exporter_destroy(run.model);
	return status;
}

int main(int argc, char **argv)
{
	struct exporter_options options;
	char err[512] = "";
	onvm_log_init("onvm-exporter");
	int ret = parse_options(argc, argv, &options, err, sizeof(err));
	if (ret == 2) {
		onvm_version_print(stdout, "onvm-exporter");
		return 0;
	}
	if (ret == 1) {
		usage(stdout, argv[0]);
		return 0;
	}
	if (ret < 0) {
		fprintf(stderr, "onvm-exporter: %s\n", err[0] ? err : "bad command line");
		usage(stderr, argv[0]);
		return 2;
	}
	return run_exporter(&options);
}
