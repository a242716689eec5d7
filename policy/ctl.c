/* SPDX-License-Identifier: BSD-3-Clause */
/* ctl.c - the logic of onvm-ctl (see ctl.h). */
#define _GNU_SOURCE /* strverscmp */
#include <getopt.h>
#include <inttypes.h>
#include <jansson.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "config_file.h"
#include "ctl.h"
#include "number.h"

/* ---- the command line ---- */

static const char *const verb_names[] = {
    [CTL_HOSTS] = "hosts",     [CTL_SERVICES] = "services", [CTL_INSTANCES] = "instances",
    [CTL_ENGINES] = "engines", [CTL_SPAWN] = "spawn",	    [CTL_STOP] = "stop",
    [CTL_WATCH] = "watch",
};

/* Past the bus options' codes. */
enum {
	OPT_VERSION = 0x300,
	OPT_CONNECT_MS,
};

/* The verbs an option applies to, as bits of enum ctl_verb. */
#define VERB(v)	   (1u << (v))
#define TABLES	   (VERB(CTL_HOSTS) | VERB(CTL_SERVICES) | VERB(CTL_INSTANCES) | VERB(CTL_ENGINES))
#define HOST_VERBS (VERB(CTL_HOSTS) | VERB(CTL_SERVICES) | VERB(CTL_INSTANCES))
#define COMMANDS   (VERB(CTL_SPAWN) | VERB(CTL_STOP))

struct verb_option {
	int code;
	const char *name;
	unsigned verbs;
};

static const struct verb_option verb_options[] = {
    {'j', "--json", TABLES},
    {'w', "--wait-ms", TABLES | VERB(CTL_STOP)},
    {'H', "--host", HOST_VERBS | COMMANDS},
    {'t', "--timeout-ms", COMMANDS},
    {'r', "--reason", COMMANDS},
    {'c', "--count", VERB(CTL_SPAWN)},
    {'I', "--instance", VERB(CTL_STOP)},
    {'s', "--service", VERB(CTL_STOP)},
    {'n', "--messages", VERB(CTL_WATCH)},
};

static const struct option long_options[] = {
    BUS_LONG_OPTIONS,
    {"json", no_argument, NULL, 'j'},
    {"wait-ms", required_argument, NULL, 'w'},
    {"host", required_argument, NULL, 'H'},
    {"timeout-ms", required_argument, NULL, 't'},
    {"reason", required_argument, NULL, 'r'},
    {"count", required_argument, NULL, 'c'},
    {"instance", required_argument, NULL, 'I'},
    {"service", required_argument, NULL, 's'},
    {"messages", required_argument, NULL, 'n'},
    {"connect-timeout-ms", required_argument, NULL, OPT_CONNECT_MS},
    {"help", no_argument, NULL, 'h'},
    {"version", no_argument, NULL, OPT_VERSION},
    {NULL, 0, NULL, 0}};

void ctl_usage(FILE *out, const char *prog)
{
	fprintf(
	    out,
	    "usage: %s [bus options] COMMAND [options]\n"
	    "commands:\n"
	    "  hosts | services | instances [-H HOST] [--json] [--wait-ms MS]\n"
	    "                       the hosts, the services, or every instance: from the\n"
	    "                       retained state and services maps, and stats until every\n"
	    "                       online host sent some or MS ms passed (default %u)\n"
	    "  engines [--json]     the policy engines: who leads, who shadows\n"
	    "  spawn SERVICE -H HOST [-c COUNT] [-t MS] [-r REASON]\n"
	    "                       start COUNT (1..64, default 1) instances of SERVICE on HOST\n"
	    "  stop -H HOST -I INSTANCE [-s SERVICE] [-t MS] [-r REASON]\n"
	    "                       stop an instance (its service from HOST's services map,\n"
	    "                       unless -s gives it)\n"
	    "                       spawn and stop wait up to MS ms (default %u) for HOST's\n"
	    "                       answer and print it: exit 0 when done, 1 when refused or\n"
	    "                       unanswered; the command expires when onvm-ctl stops waiting\n"
	    "  watch [-n COUNT]     every message on the bus, decoded, one line each\n"
	    "bus (identity default: " CTL_USER_READ_DEFAULT ", or " CTL_USER_COMMAND_DEFAULT
	    " for spawn and stop, the\n"
	    "identity that may write commands; client id IDENTITY/ctl-PID):\n"
	    "%s"
	    "      --connect-timeout-ms MS  give up on the broker after MS (default %u)\n"
	    "  -h, --help           this text\n"
	    "      --version        the version, then exit\n"
	    "exit: 0 done, 1 refused, unanswered or no broker, 2 bad command line\n",
	    prog, CTL_WAIT_MS_DEFAULT, CTL_TIMEOUT_MS_DEFAULT, bus_options_usage,
	    CTL_CONNECT_MS_DEFAULT);
}

const char *ctl_default_user(enum ctl_verb verb)
{
	return verb == CTL_SPAWN || verb == CTL_STOP ? CTL_USER_COMMAND_DEFAULT
						     : CTL_USER_READ_DEFAULT;
}

static int bad(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int bad(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
	return -1;
}

static int number(const char *what, const char *text, uint64_t min, uint64_t max, uint64_t *out,
		  char *err, size_t errlen)
{
	if (onvm_parse_uint(text, min, max, out) < 0)
		return bad(err, errlen, "bad %s '%s' (%" PRIu64 "..%" PRIu64 ")", what, text, min,
			   max);
	return 0;
}

static int parse_line(int argc, char **argv, struct ctl_options *o, char *err, size_t errlen);

int ctl_parse(int argc, char **argv, struct ctl_options *o, char *err, size_t errlen)
{
	struct config_merged merged;
	if (config_file_merge(argc, argv, long_options, &merged, err, errlen) < 0)
		return -1;
	int ret = parse_line(merged.argc, merged.argv, o, err, errlen); /* copies what it keeps */
	config_merged_free(&merged);
	return ret;
}

static int parse_line(int argc, char **argv, struct ctl_options *o, char *err, size_t errlen)
{
	*o = (struct ctl_options){
	    .wait_ms = CTL_WAIT_MS_DEFAULT,
	    .timeout_ms = CTL_TIMEOUT_MS_DEFAULT,
	    .connect_ms = CTL_CONNECT_MS_DEFAULT,
	    .count = 1,
	};
	snprintf(o->reason, sizeof(o->reason), "%s", CTL_REASON_DEFAULT);
	unsigned given = 0; /* bits: index in verb_options */
	uint64_t value;
	int opt;
	optind = 0; /* GNU getopt: start over completely (tests parse many lines) */
	opterr = 0;
	while ((opt = getopt_long(argc, argv, "jw:H:t:r:c:I:s:n:h" BUS_SHORT_OPTIONS, long_options,
				  NULL)) != -1) {
		int bus_option = bus_options_parse(&o->bus, opt, optarg, err, errlen);
		if (bus_option < 0)
			return -1;
		if (bus_option > 0)
			continue;
		for (unsigned i = 0; i < sizeof(verb_options) / sizeof(verb_options[0]); i++)
			if (verb_options[i].code == opt)
				given |= 1u << i;
		switch (opt) {
		case 'j':
			o->json = true;
			break;
		case 'w':
			if (number("--wait-ms", optarg, 0, 600000, &o->wait_ms, err, errlen) < 0)
				return -1;
			break;
		case 'H':
			if (!bus_name_valid(optarg))
				return bad(err, errlen, "bad host name '%s'", optarg);
			snprintf(o->host, sizeof(o->host), "%s", optarg);
			break;
		case 't':
			if (number("--timeout-ms", optarg, 100, 600000, &o->timeout_ms, err,
				   errlen) < 0)
				return -1;
			break;
		case 'r':
			if (strlen(optarg) >= sizeof(o->reason))
				return bad(err, errlen, "--reason is longer than %zu bytes",
					   sizeof(o->reason) - 1);
			for (const char *c = optarg; *c; c++)
				if ((unsigned char)*c < 0x20)
					return bad(err, errlen, "--reason has a control character");
			snprintf(o->reason, sizeof(o->reason), "%s", optarg);
			break;
		case 'c':
			if (number("--count", optarg, 1, BUS_MAX_SPAWN, &value, err, errlen) < 0)
				return -1;
			o->count = (uint32_t)value;
			break;
		case 'I':
			if (number("--instance", optarg, 1, UINT32_MAX, &value, err, errlen) < 0)
				return -1;
			o->instance = (uint32_t)value;
			break;
		case 's':
			if (number("--service", optarg, 1, UINT16_MAX, &value, err, errlen) < 0)
				return -1;
			o->service = (uint16_t)value;
			break;
		case 'n':
			if (number("--messages", optarg, 1, UINT64_MAX, &o->messages, err, errlen) <
			    0)
				return -1;
			break;
		case OPT_CONNECT_MS:
			if (number("--connect-timeout-ms", optarg, 100, 600000, &o->connect_ms, err,
				   errlen) < 0)
				return -1;
			break;
		case 'h':
			return CTL_PARSE_HELP;
		case OPT_VERSION:
			return CTL_PARSE_VERSION;
		default:
			if (optopt && optopt < 0x100)
				return bad(err, errlen, "unknown option or missing value: -%c",
					   optopt);
			return bad(err, errlen, "unknown option or missing value: %s",
				   argv[optind - 1]);
		}
	}
	if (optind >= argc)
		return bad(err, errlen, "no command");
	const char *verb = argv[optind++];
	unsigned v;
	for (v = 0; v < sizeof(verb_names) / sizeof(verb_names[0]); v++)
		if (strcmp(verb, verb_names[v]) == 0)
			break;
	if (v == sizeof(verb_names) / sizeof(verb_names[0]))
		return bad(err, errlen, "unknown command '%s'", verb);
	o->verb = (enum ctl_verb)v;
	for (unsigned i = 0; i < sizeof(verb_options) / sizeof(verb_options[0]); i++)
		if ((given & (1u << i)) && !(verb_options[i].verbs & VERB(v)))
			return bad(err, errlen, "%s does not apply to %s", verb_options[i].name,
				   verb);
	if (o->verb == CTL_SPAWN) {
		if (optind >= argc)
			return bad(err, errlen, "spawn: which service?");
		if (number("service", argv[optind++], 1, UINT16_MAX, &value, err, errlen) < 0)
			return -1;
		o->service = (uint16_t)value;
	}
	if (optind < argc)
		return bad(err, errlen, "unexpected argument '%s'", argv[optind]);
	if ((o->verb == CTL_SPAWN || o->verb == CTL_STOP) && !o->host[0])
		return bad(err, errlen, "%s: which host? (-H HOST)", verb);
	if (o->verb == CTL_STOP && !o->instance)
		return bad(err, errlen, "stop: which instance? (-I INSTANCE)");
	if (!o->bus.uri[0])
		return bad(err, errlen, "no broker (-b URI)");
	return bus_options_check(&o->bus, err, errlen);
}

/* ---- the cluster ---- */

struct ctl_inst {
	struct bus_service_inst map; /* from the services map */
	bool has_load;
	struct bus_inst_stats load; /* from the latest stats */
};

struct ctl_host {
	char name[BUS_NAME_LEN];
	bool has_state;
	struct bus_state state;
	uint32_t n_insts, insts_cap;
	struct ctl_inst *insts; /* the map's order: (service, instance) */
	bool has_stats;
	uint64_t stats_ts_ms;
	uint32_t period_ms;
	double rx_pps, drop_pps; /* its instances' sums */
	uint32_t n_loads, loads_cap;
	struct bus_inst_stats *loads; /* the latest stats, including unmapped instances */
};

struct ctl_cluster {
	uint32_t n_hosts;
	struct ctl_host *hosts[CTL_MAX_HOSTS]; /* natural name order */
	uint32_t n_engines;
	struct bus_engine engines[CTL_MAX_ENGINES]; /* bytewise id order */
};

struct ctl_cluster *ctl_cluster_create(void)
{
	return calloc(1, sizeof(struct ctl_cluster));
}

void ctl_cluster_destroy(struct ctl_cluster *cluster)
{
	if (!cluster)
		return;
	for (uint32_t i = 0; i < cluster->n_hosts; i++) {
		free(cluster->hosts[i]->insts);
		free(cluster->hosts[i]->loads);
		free(cluster->hosts[i]);
	}
	free(cluster);
}

static struct ctl_host *host_find(const struct ctl_cluster *cluster, const char *name)
{
	for (uint32_t i = 0; i < cluster->n_hosts; i++)
		if (strcmp(cluster->hosts[i]->name, name) == 0)
			return cluster->hosts[i];
	return NULL;
}

static struct ctl_host *host_get(struct ctl_cluster *cluster, const char *name)
{
	struct ctl_host *host = host_find(cluster, name);
	if (host || cluster->n_hosts >= CTL_MAX_HOSTS)
		return host;
	host = calloc(1, sizeof(*host));
	if (!host)
		return NULL;
	snprintf(host->name, sizeof(host->name), "%s", name);
	uint32_t at = cluster->n_hosts;
	while (at > 0 && strverscmp(cluster->hosts[at - 1]->name, name) > 0) {
		cluster->hosts[at] = cluster->hosts[at - 1];
		at--;
	}
	cluster->hosts[at] = host;
	cluster->n_hosts++;
	return host;
}

/* Grow an array of n elements of size bytes to hold at least want. */
static int reserve(void **array, uint32_t *cap, uint32_t want, size_t size)
{
	if (want <= *cap)
		return 0;
	void *bigger = realloc(*array, (size_t)want * size);
	if (!bigger)
		return -1;
	*array = bigger;
	*cap = want;
	return 0;
}

static const struct bus_inst_stats *load_of(const struct ctl_host *host, uint32_t instance)
{
	for (uint32_t i = 0; i < host->n_loads; i++)
		if (host->loads[i].instance == instance)
			return &host->loads[i];
	return NULL;
}

/* Each mapped instance's latest load (stats and maps come separately). */
static void join_loads(struct ctl_host *host)
{
	for (uint32_t i = 0; i < host->n_insts; i++) {
		const struct bus_inst_stats *load = load_of(host, host->insts[i].map.instance);
		host->insts[i].has_load = load != NULL;
		if (load)
			host->insts[i].load = *load;
	}
}

static int feed_services(struct ctl_cluster *cluster, const struct bus_services *services)
{
	struct ctl_host *host = host_get(cluster, services->host);
	if (!host)
		return -1;
	uint32_t n = services->cleared ? 0 : services->n_insts;
	if (reserve((void **)&host->insts, &host->insts_cap, n, sizeof(host->insts[0])) < 0)
		return -1;
	for (uint32_t i = 0; i < n; i++)
		host->insts[i] = (struct ctl_inst){.map = services->insts[i]};
	host->n_insts = n;
	join_loads(host);
	return 0;
}

static int feed_stats(struct ctl_cluster *cluster, const struct bus_stats *stats)
{
	struct ctl_host *host = host_get(cluster, stats->host);
	if (!host)
		return -1;
	if (reserve((void **)&host->loads, &host->loads_cap, stats->n_insts,
		    sizeof(host->loads[0])) < 0)
		return -1;
	if (stats->n_insts)
		memcpy(host->loads, stats->insts, (size_t)stats->n_insts * sizeof(host->loads[0]));
	host->n_loads = stats->n_insts;
	host->has_stats = true;
	host->stats_ts_ms = stats->ts_ms;
	host->period_ms = stats->period_ms;
	host->rx_pps = host->drop_pps = 0;
	for (uint32_t i = 0; i < stats->n_insts; i++) {
		host->rx_pps += stats->insts[i].rx_pps;
		host->drop_pps += stats->insts[i].drop_pps;
	}
	join_loads(host);
	return 0;
}

static int feed_engine(struct ctl_cluster *cluster, const struct bus_engine *engine)
{
	uint32_t at = 0;
	while (at < cluster->n_engines && strcmp(cluster->engines[at].id, engine->id) < 0)
		at++;
	if (at < cluster->n_engines && strcmp(cluster->engines[at].id, engine->id) == 0) {
		cluster->engines[at] = *engine;
		return 0;
	}
	if (cluster->n_engines >= CTL_MAX_ENGINES)
		return -1;
	memmove(&cluster->engines[at + 1], &cluster->engines[at],
		(cluster->n_engines - at) * sizeof(cluster->engines[0]));
	cluster->engines[at] = *engine;
	cluster->n_engines++;
	return 0;
}

int ctl_cluster_feed(struct ctl_cluster *cluster, const struct bus_msg *msg)
{
	switch (msg->kind) {
	case BUS_KIND_STATE: {
		struct ctl_host *host = host_get(cluster, msg->u.state.host);
		if (!host)
			return -1;
		host->has_state = true;
		host->state = msg->u.state;
		return 0;
	}
	case BUS_KIND_SERVICES:
		return feed_services(cluster, &msg->u.services);
	case BUS_KIND_STATS:
		return feed_stats(cluster, &msg->u.stats);
	case BUS_KIND_ENGINE:
		return feed_engine(cluster, &msg->u.engine);
	default:
		return 0;
	}
}

static bool host_online(const struct ctl_host *host)
{
	return host->has_state && host->state.status == BUS_STATUS_ONLINE;
}

bool ctl_cluster_settled(const struct ctl_cluster *cluster)
{
	if (!cluster->n_hosts)
		return false;
	for (uint32_t i = 0; i < cluster->n_hosts; i++)
		if (host_online(cluster->hosts[i]) && !cluster->hosts[i]->has_stats)
			return false;
	return true;
}

const struct bus_state *ctl_cluster_state(const struct ctl_cluster *cluster, const char *host)
{
	const struct ctl_host *found = host_find(cluster, host);
	return found && found->has_state ? &found->state : NULL;
}

bool ctl_cluster_instance(const struct ctl_cluster *cluster, const char *host, uint32_t instance,
			  uint16_t *service)
{
	const struct ctl_host *found = host_find(cluster, host);
	for (uint32_t i = 0; found && i < found->n_insts; i++)
		if (found->insts[i].map.instance == instance) {
			*service = found->insts[i].map.service;
			return true;
		}
	return false;
}

const char *ctl_cluster_leader(const struct ctl_cluster *cluster)
{
	for (uint32_t i = 0; i < cluster->n_engines; i++) /* in id order */
		if (cluster->engines[i].status == BUS_STATUS_ONLINE)
			return cluster->engines[i].id;
	return NULL;
}

/* ---- printing ---- */

static bool wanted(const struct ctl_host *host, const char *filter)
{
	return !filter || !filter[0] || strcmp(host->name, filter) == 0;
}

static void print_json(json_t *doc, FILE *out)
{
	char *text = doc ? json_dumps(doc, JSON_COMPACT | JSON_PRESERVE_ORDER) : NULL;
	fprintf(out, "%s\n", text ? text : "null");
	free(text);
	json_decref(doc);
}

static const char *host_status_name(const struct ctl_host *host)
{
	return host->has_state ? bus_status_name(host->state.status) : "unknown";
}

/* Instances a host runs: starting or running, none when it is offline. */
static uint32_t live_instances(const struct ctl_host *host, uint16_t service)
{
	uint32_t n = 0;
	if (host->has_state && host->state.status == BUS_STATUS_OFFLINE)
		return 0;
	for (uint32_t i = 0; i < host->n_insts; i++)
		if ((!service || host->insts[i].map.service == service) &&
		    host->insts[i].map.state != BUS_INST_STOPPING)
			n++;
	return n;
}

static const char *fmt_rate(bool has, double pps, char *buf, size_t len)
{
	if (has)
		snprintf(buf, len, "%.0f", pps);
	else
		snprintf(buf, len, "-");
	return buf;
}

void ctl_print_hosts(const struct ctl_cluster *cluster, const char *filter, bool json, FILE *out)
{
	json_t *list = json ? json_array() : NULL;
	if (!json)
		fprintf(out, "%-16s %-8s %5s %5s %9s %10s %10s %s\n", "HOST", "STATUS", "FREE",
			"CORES", "INSTANCES", "RX_PPS", "DROP_PPS", "VERSION");
	for (uint32_t i = 0; i < cluster->n_hosts; i++) {
		const struct ctl_host *h = cluster->hosts[i];
		if (!wanted(h, filter))
			continue;
		bool cores = h->has_state && h->state.has_cores;
		bool rates = h->has_stats && host_online(h);
		const char *version = h->has_state && h->state.has_version ? h->state.version : "";
		if (json) {
			json_t *row = json_pack("{s:s, s:s, s:I}", "host", h->name, "status",
						host_status_name(h), "instances",
						(json_int_t)live_instances(h, 0));
			if (cores)
				json_object_set_new(row, "cores",
						    json_pack("{s:I, s:I}", "total",
							      (json_int_t)h->state.cores.total,
							      "free",
							      (json_int_t)h->state.cores.free));
			if (rates) {
				json_object_set_new(row, "rx_pps", json_real(h->rx_pps));
				json_object_set_new(row, "drop_pps", json_real(h->drop_pps));
			}
			if (version[0])
				json_object_set_new(row, "version", json_string(version));
			json_array_append_new(list, row);
			continue;
		}
		char free_c[16] = "-", total[16] = "-", rx[32], drop[32];
		if (cores) {
			snprintf(free_c, sizeof(free_c), "%" PRIu32, h->state.cores.free);
			snprintf(total, sizeof(total), "%" PRIu32, h->state.cores.total);
		}
		fprintf(out, "%-16s %-8s %5s %5s %9" PRIu32 " %10s %10s %s\n", h->name,
			host_status_name(h), free_c, total, live_instances(h, 0),
			fmt_rate(rates, h->rx_pps, rx, sizeof(rx)),
			fmt_rate(rates, h->drop_pps, drop, sizeof(drop)),
			version[0] ? version : "-");
	}
	if (json)
		print_json(json_pack("{s:o}", "hosts", list), out);
}

/* One service's totals over the hosts. */
struct svc_total {
	uint16_t service;
	uint32_t instances;
	bool has_rates;
	double rx_pps, drop_pps;
	char hosts[256]; /* "h1,h2" */
	json_t *host_list;
};

static int svc_cmp(const void *a, const void *b)
{
	const struct svc_total *x = a, *y = b;
	return (int)x->service - (int)y->service;
}

void ctl_print_services(const struct ctl_cluster *cluster, const char *filter, bool json, FILE *out)
{
	/* Every service id seen in a map, at most one entry each. */
	uint32_t n = 0, cap = 0;
	struct svc_total *totals = NULL;
	for (uint32_t i = 0; i < cluster->n_hosts; i++) {
		const struct ctl_host *h = cluster->hosts[i];
		if (!wanted(h, filter) || (h->has_state && h->state.status == BUS_STATUS_OFFLINE))
			continue;
		for (uint32_t k = 0; k < h->n_insts; k++) {
			const struct ctl_inst *inst = &h->insts[k];
			if (inst->map.state == BUS_INST_STOPPING)
				continue;
			uint32_t s = 0;
			while (s < n && totals[s].service != inst->map.service)
				s++;
			if (s == n) {
				if (reserve((void **)&totals, &cap, n + 16, sizeof(totals[0])) < 0)
					break;
				totals[n++] = (struct svc_total){.service = inst->map.service,
								 .host_list = json_array()};
			}
			struct svc_total *t = &totals[s];
			t->instances++;
			if (inst->has_load) {
				t->has_rates = true;
				t->rx_pps += inst->load.rx_pps;
				t->drop_pps += inst->load.drop_pps;
			}
			size_t used = strlen(t->hosts);
			bool listed = false;
			for (size_t j = 0; j < json_array_size(t->host_list); j++)
				listed |= strcmp(json_string_value(json_array_get(t->host_list, j)),
						 h->name) == 0;
			if (!listed) {
				json_array_append_new(t->host_list, json_string(h->name));
				snprintf(t->hosts + used, sizeof(t->hosts) - used, "%s%s",
					 used ? "," : "", h->name);
			}
		}
	}
	if (n)
		qsort(totals, n, sizeof(totals[0]), svc_cmp);
	json_t *list = json ? json_array() : NULL;
	if (!json)
		fprintf(out, "%-7s %9s %10s %10s %s\n", "SERVICE", "INSTANCES", "RX_PPS",
			"DROP_PPS", "HOSTS");
	for (uint32_t s = 0; s < n; s++) {
		struct svc_total *t = &totals[s];
		if (json) {
			json_t *row =
			    json_pack("{s:I, s:I, s:O}", "service", (json_int_t)t->service,
				      "instances", (json_int_t)t->instances, "hosts", t->host_list);
			if (t->has_rates) {
				json_object_set_new(row, "rx_pps", json_real(t->rx_pps));
				json_object_set_new(row, "drop_pps", json_real(t->drop_pps));
			}
			json_array_append_new(list, row);
		} else {
			char rx[32], drop[32];
			fprintf(out, "%-7u %9" PRIu32 " %10s %10s %s\n", t->service, t->instances,
				fmt_rate(t->has_rates, t->rx_pps, rx, sizeof(rx)),
				fmt_rate(t->has_rates, t->drop_pps, drop, sizeof(drop)), t->hosts);
		}
		json_decref(t->host_list);
	}
	free(totals);
	if (json)
		print_json(json_pack("{s:o}", "services", list), out);
}

void ctl_print_instances(const struct ctl_cluster *cluster, const char *filter, bool json,
			 FILE *out)
{
	json_t *list = json ? json_array() : NULL;
	if (!json)
		fprintf(out, "%-16s %8s %7s %5s %-8s %10s %10s %10s %5s %5s\n", "HOST", "INSTANCE",
			"SERVICE", "CORE", "STATE", "RX_PPS", "TX_PPS", "DROP_PPS", "RING", "BUSY");
	for (uint32_t i = 0; i < cluster->n_hosts; i++) {
		const struct ctl_host *h = cluster->hosts[i];
		if (!wanted(h, filter) || (h->has_state && h->state.status == BUS_STATUS_OFFLINE))
			continue;
		for (uint32_t k = 0; k < h->n_insts; k++) {
			const struct ctl_inst *inst = &h->insts[k];
			const char *state = bus_inst_state_name(inst->map.state);
			if (json) {
				json_t *row =
				    json_pack("{s:s, s:I, s:I, s:I, s:s}", "host", h->name,
					      "instance", (json_int_t)inst->map.instance, "service",
					      (json_int_t)inst->map.service, "core",
					      (json_int_t)inst->map.core, "state", state);
				if (inst->has_load) {
					json_object_set_new(row, "rx_pps",
							    json_real(inst->load.rx_pps));
					json_object_set_new(row, "tx_pps",
							    json_real(inst->load.tx_pps));
					json_object_set_new(row, "drop_pps",
							    json_real(inst->load.drop_pps));
					json_object_set_new(row, "ring_fill",
							    json_real(inst->load.ring_fill));
					json_object_set_new(row, "busy",
							    json_real(inst->load.busy));
				}
				json_array_append_new(list, row);
				continue;
			}
			char rx[32], tx[32], drop[32], ring[16] = "-", busy[16] = "-";
			if (inst->has_load) {
				snprintf(ring, sizeof(ring), "%.2f", inst->load.ring_fill);
				snprintf(busy, sizeof(busy), "%.2f", inst->load.busy);
			}
			fprintf(out,
				"%-16s %8" PRIu32 " %7u %5" PRIu32 " %-8s %10s %10s %10s %5s %5s\n",
				h->name, inst->map.instance, inst->map.service, inst->map.core,
				state, fmt_rate(inst->has_load, inst->load.rx_pps, rx, sizeof(rx)),
				fmt_rate(inst->has_load, inst->load.tx_pps, tx, sizeof(tx)),
				fmt_rate(inst->has_load, inst->load.drop_pps, drop, sizeof(drop)),
				ring, busy);
		}
	}
	if (json)
		print_json(json_pack("{s:o}", "instances", list), out);
}

/* "2026-12-02T19:25:01Z" from Unix milliseconds. */
static const char *fmt_utc(uint64_t ms, char *buf, size_t len)
{
	time_t s = (time_t)(ms / 1000);
	struct tm tm;
	if (!gmtime_r(&s, &tm) || !strftime(buf, len, "%Y-%m-%dT%H:%M:%SZ", &tm))
		snprintf(buf, len, "-");
	return buf;
}

void ctl_print_engines(const struct ctl_cluster *cluster, bool json, FILE *out)
{
	const char *leader = ctl_cluster_leader(cluster);
	json_t *list = json ? json_array() : NULL;
	if (!json)
		fprintf(out, "%-16s %-8s %-7s %-16s %-8s %s\n", "ENGINE", "STATUS", "ROLE", "NAME",
			"VERSION", "STARTED");
	for (uint32_t i = 0; i < cluster->n_engines; i++) {
		const struct bus_engine *e = &cluster->engines[i];
		bool online = e->status == BUS_STATUS_ONLINE;
		const char *role = !online				  ? "-"
				   : leader && strcmp(e->id, leader) == 0 ? "leader"
									  : "shadow";
		char started[32] = "-";
		if (e->has_started)
			fmt_utc(e->started_ms, started, sizeof(started));
		if (json) {
			json_t *row = json_pack("{s:s, s:s, s:s}", "engine", e->id, "status",
						bus_status_name(e->status), "role", role);
			if (e->has_name)
				json_object_set_new(row, "name", json_string(e->name));
			if (e->has_version)
				json_object_set_new(row, "version", json_string(e->version));
			if (e->has_started)
				json_object_set_new(row, "started_ms",
						    json_integer((json_int_t)e->started_ms));
			json_array_append_new(list, row);
			continue;
		}
		fprintf(out, "%-16s %-8s %-7s %-16s %-8s %s\n", e->id, bus_status_name(e->status),
			role, e->has_name ? e->name : "-", e->has_version ? e->version : "-",
			started);
	}
	if (json)
		print_json(json_pack("{s:o, s:o}", "leader",
				     leader ? json_string(leader) : json_null(), "engines", list),
			   out);
	else if (!leader)
		fprintf(out, "no engine online: nobody leads, no command is sent\n");
}

/* ---- commands ---- */

void ctl_make_id(char *buf, size_t len, long pid, uint64_t now_ms)
{
	static unsigned serial;
	snprintf(buf, len, "ctl-%ld-%" PRIu64 "-%u", pid, now_ms, ++serial);
}

void ctl_build_cmd(const struct ctl_options *o, const char *id, uint64_t now_ms,
		   struct bus_cmd *cmd)
{
	*cmd = (struct bus_cmd){
	    .op = o->verb == CTL_STOP ? BUS_OP_STOP : BUS_OP_SPAWN,
	    .service = o->service,
	    .count = o->verb == CTL_STOP ? 0 : o->count,
	    .instance = o->verb == CTL_STOP ? o->instance : 0,
	    .has_expires = true,
	    .expires_ms = now_ms + o->timeout_ms,
	    .has_ts_ms = true,
	    .ts_ms = now_ms,
	};
	snprintf(cmd->target, sizeof(cmd->target), "%s", o->host);
	snprintf(cmd->id, sizeof(cmd->id), "%s", id);
	snprintf(cmd->engine, sizeof(cmd->engine), "%s", CTL_ENGINE_NAME);
	snprintf(cmd->reason, sizeof(cmd->reason), "%s", o->reason);
}

void ctl_request_init(struct ctl_request *r, const struct bus_cmd *cmd)
{
	*r =
	    (struct ctl_request){.op = cmd->op, .expect = cmd->op == BUS_OP_SPAWN ? cmd->count : 1};
	snprintf(r->id, sizeof(r->id), "%s", cmd->id);
	snprintf(r->host, sizeof(r->host), "%s", cmd->target);
}

/* "spawned service 2 instance 3 on core 2: why" */
static void describe_event(const struct bus_event *ev, char *line, size_t len)
{
	int used = snprintf(line, len, "%s service %u", bus_event_name(ev->event), ev->service);
	if (ev->has_instance && used >= 0 && (size_t)used < len)
		used +=
		    snprintf(line + used, len - (size_t)used, " instance %" PRIu32, ev->instance);
	if (ev->has_core && used >= 0 && (size_t)used < len)
		used += snprintf(line + used, len - (size_t)used, " on core %" PRIu32, ev->core);
	if (ev->has_error && used >= 0 && (size_t)used < len)
		snprintf(line + used, len - (size_t)used, ": %s", ev->error);
}

int ctl_request_event(struct ctl_request *r, const struct bus_event *ev, char *line, size_t len)
{
	if (r->finished || !ev->has_cmd_id || strcmp(ev->cmd_id, r->id) != 0 ||
	    strcmp(ev->host, r->host) != 0)
		return 0;
	char what[BUS_TEXT_LEN + 96];
	describe_event(ev, what, sizeof(what));
	snprintf(line, len, "%s: %s", ev->host, what);
	switch (ev->event) {
	case BUS_EV_SPAWNED:
		if (r->op == BUS_OP_SPAWN && ++r->spawned >= r->expect)
			r->finished = r->ok = true;
		break;
	case BUS_EV_STOPPED:
		if (r->op == BUS_OP_STOP)
			r->finished = r->ok = true;
		break;
	case BUS_EV_REJECTED:
	case BUS_EV_EXITED: /* a spawned NF that ended before the rest registered */
		r->finished = true;
		break;
	}
	return 1;
}

/* ---- watch ---- */

static struct ctl_recent *recent_get(struct ctl_watch *w, const char *id)
{
	for (uint32_t i = 0; i < CTL_RECENT; i++)
		if (w->recent[i].id[0] && strcmp(w->recent[i].id, id) == 0)
			return &w->recent[i];
	struct ctl_recent *slot = &w->recent[w->next];
	w->next = (w->next + 1) % CTL_RECENT;
	*slot = (struct ctl_recent){0};
	snprintf(slot->id, sizeof(slot->id), "%s", id);
	return slot;
}

/* Appends to a line, never past its end. */
struct line_buf {
	char *text;
	size_t len, used;
};

static void add(struct line_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void add(struct line_buf *b, const char *fmt, ...)
{
	if (b->used + 1 >= b->len)
		return;
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(b->text + b->used, b->len - b->used, fmt, ap);
	va_end(ap);
	if (n > 0)
		b->used = b->used + (size_t)n < b->len ? b->used + (size_t)n : b->len - 1;
}

static void watch_state(struct line_buf *b, const struct bus_state *s)
{
	add(b, "state %s %s", s->host, bus_status_name(s->status));
	if (s->has_cores)
		add(b, " cores %" PRIu32 "/%" PRIu32 " free", s->cores.free, s->cores.total);
	if (s->has_epoch)
		add(b, " epoch %" PRIu64, s->epoch_ms);
	if (s->has_tunnel)
		add(b, " tunnel %u.%u.%u.%u:%u", s->tunnel.ip[0], s->tunnel.ip[1], s->tunnel.ip[2],
		    s->tunnel.ip[3], s->tunnel.udp_port);
	if (s->has_version)
		add(b, " version %s", s->version);
}

static void watch_services(struct line_buf *b, const struct bus_services *s)
{
	add(b, "services %s", s->host);
	if (s->cleared) {
		add(b, " cleared");
		return;
	}
	if (!s->n_insts)
		add(b, " none");
	for (uint32_t i = 0; i < s->n_insts; i++) {
		const struct bus_service_inst *in = &s->insts[i];
		if (i == 0 || s->insts[i - 1].service != in->service)
			add(b, "%sservice %u: ", i ? "; " : " ", in->service);
		else
			add(b, ", ");
		add(b, "%" PRIu32 "@%" PRIu32 "%s", in->instance, in->core,
		    in->state == BUS_INST_RUNNING    ? ""
		    : in->state == BUS_INST_STARTING ? " starting"
						     : " stopping");
	}
}

static void watch_stats(struct line_buf *b, const struct bus_stats *s)
{
	double rx = 0, drop = 0, ring = 0;
	for (uint32_t i = 0; i < s->n_insts; i++) {
		rx += s->insts[i].rx_pps;
		drop += s->insts[i].drop_pps;
		if (s->insts[i].ring_fill > ring)
			ring = s->insts[i].ring_fill;
	}
	add(b,
	    "stats %s seq %" PRIu64 " period %" PRIu32 " ms: %" PRIu32
	    " instances rx %.0f drop %.0f pps, max ring %.2f",
	    s->host, s->seq, s->period_ms, s->n_insts, rx, drop, ring);
	for (uint32_t i = 0; i < s->n_unserved; i++)
		add(b, "%s%u %.0f pps", i ? ", " : "; unserved service ", s->unserved[i].service,
		    s->unserved[i].pps);
}

static void watch_cmd(struct ctl_watch *w, struct line_buf *b, const struct bus_cmd *c)
{
	struct ctl_recent *r = recent_get(w, c->id);
	if (c->op == BUS_OP_SPAWN) {
		add(b, "cmd %s spawn service %u count %" PRIu32, c->target, c->service, c->count);
		snprintf(r->cmd, sizeof(r->cmd), "spawn of service %u on %s by %s", c->service,
			 c->target, c->engine);
	} else {
		add(b, "cmd %s stop service %u instance %" PRIu32, c->target, c->service,
		    c->instance);
		snprintf(r->cmd, sizeof(r->cmd), "stop of instance %" PRIu32 " on %s by %s",
			 c->instance, c->target, c->engine);
	}
	r->has_cmd = true;
	add(b, " id %s by %s", c->id, c->engine);
	if (c->has_origin)
		add(b, " origin %s", c->origin);
	add(b, ": %s", c->reason);
	if (r->has_answer)
		add(b, " (already answered: %s)", r->answer);
}

static void watch_event(struct ctl_watch *w, struct line_buf *b, const struct bus_event *ev)
{
	char what[BUS_TEXT_LEN + 96];
	describe_event(ev, what, sizeof(what));
	add(b, "event %s %s", ev->host, what);
	if (!ev->has_cmd_id)
		return;
	add(b, " for %s", ev->cmd_id);
	struct ctl_recent *r = recent_get(w, ev->cmd_id);
	if (ev->has_instance)
		snprintf(r->answer, sizeof(r->answer), "%s instance %" PRIu32 " on %s",
			 bus_event_name(ev->event), ev->instance, ev->host);
	else
		snprintf(r->answer, sizeof(r->answer), "%s on %s", bus_event_name(ev->event),
			 ev->host);
	r->has_answer = true;
	if (r->has_cmd)
		add(b, " (the %s)", r->cmd);
	else if (r->has_decision)
		add(b, " (%s)", r->decision);
}

static void watch_decision(struct ctl_watch *w, struct line_buf *b, const struct bus_decision *d)
{
	add(b, "decision %s service %u %s -> %s", d->engine, d->service,
	    d->has_origin ? d->origin : "(repair)", d->has_target ? d->target : "nobody");
	if (d->shadow)
		add(b, " shadow");
	if (d->has_cmd_id) {
		add(b, " cmd %s", d->cmd_id);
		struct ctl_recent *r = recent_get(w, d->cmd_id);
		r->has_decision = true;
		if (d->has_origin)
			snprintf(r->decision, sizeof(r->decision), "%s's decision for %s",
				 d->engine, d->origin);
		else
			snprintf(r->decision, sizeof(r->decision), "%s's repair", d->engine);
		add(b, ": %s", d->reason);
		if (r->has_answer)
			add(b, " (already answered: %s)", r->answer);
		return;
	}
	add(b, ": %s", d->reason);
}

void ctl_watch_line(struct ctl_watch *w, const struct bus_msg *msg, bool retained, char *line,
		    size_t len)
{
	struct line_buf b = {.text = line, .len = len};
	if (len)
		line[0] = '\0';
	switch (msg->kind) {
	case BUS_KIND_STATE:
		watch_state(&b, &msg->u.state);
		break;
	case BUS_KIND_SERVICES:
		watch_services(&b, &msg->u.services);
		break;
	case BUS_KIND_STATS:
		watch_stats(&b, &msg->u.stats);
		break;
	case BUS_KIND_CMD:
		watch_cmd(w, &b, &msg->u.cmd);
		break;
	case BUS_KIND_EVENTS:
		watch_event(w, &b, &msg->u.event);
		break;
	case BUS_KIND_ALARMS: {
		const struct bus_alarm *a = &msg->u.alarm;
		add(&b,
		    "alarm %s service %u instance %" PRIu32
		    " drops %.0f pps ring %.2f since %" PRIu64,
		    a->host, a->service, a->instance, a->drop_pps, a->ring_fill, a->since_ms);
		break;
	}
	case BUS_KIND_DECISIONS:
		watch_decision(w, &b, &msg->u.decision);
		break;
	case BUS_KIND_ENGINE: {
		const struct bus_engine *e = &msg->u.engine;
		add(&b, "engine %s %s", e->id, bus_status_name(e->status));
		if (e->has_name)
			add(&b, " %s", e->name);
		if (e->has_version)
			add(&b, " version %s", e->version);
		break;
	}
	default:
		add(&b, "unknown");
		break;
	}
	if (retained)
		add(&b, " [retained]");
}
