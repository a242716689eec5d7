/* SPDX-License-Identifier: BSD-3-Clause */
/* options.c - the command line of onvm-policy (see options.h). */
#include <errno.h>
#include <float.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#include "engines.h"
#include "number.h"
#include "options.h"
#include "overload_options.h"

enum long_only {
	OPT_REPLAY = 256,
	OPT_CHECK,
	OPT_BENCH_PARSE,
	OPT_LIST,
	OPT_ENGINE_ARGS,
	OPT_PENDING_MS,
	OPT_SETTLE_MS,
	OPT_CMD_TTL_MS,
	OPT_NOCAP_MS,
	OPT_REJECT_MS,
	OPT_SCALE_IN_MS,
	OPT_SCALE_IN_FILL,
	OPT_SCALE_IN_HEADROOM,
	OPT_NO_SCALE_IN,
	OPT_GRACE_MS,
	OPT_STATS,
	OPT_SERVICES,
	OPT_VERSION,
};

static const struct option long_options[] = {
    {"replay", required_argument, NULL, OPT_REPLAY},
    {"check", required_argument, NULL, OPT_CHECK},
    {"bench-parse", required_argument, NULL, OPT_BENCH_PARSE},
    {"list-engines", no_argument, NULL, OPT_LIST},
    {"engine", required_argument, NULL, 'e'},
    {"engine-args", required_argument, NULL, OPT_ENGINE_ARGS},
    {"id", required_argument, NULL, 'i'},
    OVERLOAD_LONG_OPTIONS,
    {"pending-ms", required_argument, NULL, OPT_PENDING_MS},
    {"settle-ms", required_argument, NULL, OPT_SETTLE_MS},
    {"cmd-ttl-ms", required_argument, NULL, OPT_CMD_TTL_MS},
    {"nocap-repeat-ms", required_argument, NULL, OPT_NOCAP_MS},
    {"reject-backoff-ms", required_argument, NULL, OPT_REJECT_MS},
    {"scale-in-ms", required_argument, NULL, OPT_SCALE_IN_MS},
    {"scale-in-fill", required_argument, NULL, OPT_SCALE_IN_FILL},
    {"scale-in-headroom", required_argument, NULL, OPT_SCALE_IN_HEADROOM},
    {"no-scale-in", no_argument, NULL, OPT_NO_SCALE_IN},
    {"services", required_argument, NULL, OPT_SERVICES},
    BUS_LONG_OPTIONS,
    {"grace-ms", required_argument, NULL, OPT_GRACE_MS},
    {"stats", no_argument, NULL, OPT_STATS},
    {"verbose", no_argument, NULL, 'v'},
    {"help", no_argument, NULL, 'h'},
    {"version", no_argument, NULL, OPT_VERSION},
    {NULL, 0, NULL, 0},
};

_Static_assert(POLICY_GRACE_DEFAULT == 1000, "the usage text says 1000");

static const char usage_options[] =
    "engine:\n"
    "  -e, --engine NAME|PATH  a built-in engine or a shared object (a path with a '/')\n"
    "                          (default " POLICY_DEFAULT_ENGINE "; see --list-engines)\n"
    "      --engine-args TEXT  handed to a shared-object engine's create()\n"
    "  -i, --id ID             engine id on the bus, 1..40 bytes; the online engine with\n"
    "                          the smallest id leads (default: live: this machine's\n"
    "                          name; replay: \"replay\")\n"
    "%s"
    "      --pending-ms MS     a spawn or stop not seen carried out is forgotten (10000)\n"
    "      --settle-ms MS      promised core kept after the instance shows up (2000)\n"
    "      --cmd-ttl-ms MS     commands expire this long after the decision (5000)\n"
    "      --nocap-repeat-ms MS  repeat a \"no capacity\" decision at most so often (10000)\n"
    "      --reject-backoff-ms MS  avoid a host that rejected a spawn of S for S (30000)\n"
    "scale-in: stop one instance (remote ones first, never the last) of a service whose\n"
    "instances all had no drops and ring fill <= --scale-in-fill for --scale-in-ms and,\n"
    "once its capacity is learnt, whose load fits one instance fewer with headroom:\n"
    "      --scale-in-ms MS    (default 60000)\n"
    "      --scale-in-fill F   (default 0.2)\n"
    "      --scale-in-headroom F  (default 0.7)\n"
    "      --no-scale-in\n"
    "per service (live and replay):\n"
    "      --services FILE     {\"services\":[{\"id\":2,\"min\":1,\"max\":6,\n"
    "                          \"scale_in_after_ms\":60000}]}: keep >= min instances\n"
    "                          (a lost one is replaced at once, \"origin\": null),\n"
    "                          never more than max; scale-in stops at max(min, 1) and\n"
    "                          waits scale_in_after_ms; unlisted: 0, no max, --scale-in-ms\n"
    "replay:\n"
    "      --check EXPECT      check the output against an expect file (exit 1 if not met)\n"
    "      --stats             time, records per second and peak memory on stderr\n"
    "live (broker default " POLICY_BROKER_DEFAULT ", identity " POLICY_USER_DEFAULT
    "; client id IDENTITY/ID):\n"
    "%s"
    "      --grace-ms MS       never lead sooner after (re)connecting (default 1000)\n"
    "  -v, --verbose           log decisions (replay: on stderr)\n"
    "  -h, --help\n"
    "      --config FILE       options from a JSON file, keyed by their long names\n"
    "                          ({\"engine\": \"spread\", \"verbose\": true}); flags win\n"
    "      --version\n";

void policy_usage(FILE *f, const char *prog)
{
	fprintf(f, "usage: %s [options]                 the policy daemon on the bus\n", prog);
	fprintf(f, "       %s --replay TRACE [options]  replay a trace (- for stdin)\n", prog);
	fprintf(f, "       %s --bench-parse TRACE       jansson parse-only rate of its stats\n",
		prog);
	fprintf(f, "       %s --list-engines\n\n", prog);
	fprintf(f, usage_options, overload_options_usage, bus_options_usage);
}

/* A numeric option: 0, or -1 with the reason. */
static int numeric_option(int opt, const char *arg, struct policy_options *o, char *err,
			  size_t errlen)
{
	struct policy_params *p = &o->params;
	const uint64_t day_ms = 86400000ull;
	uint64_t u = 0;
	int bad;
	switch (opt) {
	case OPT_SCALE_IN_FILL:
		bad = onvm_parse_double(arg, -DBL_MAX, DBL_MAX, &p->scale_in_fill);
		break;
	case OPT_SCALE_IN_HEADROOM:
		bad = onvm_parse_double(arg, -DBL_MAX, DBL_MAX, &p->scale_in_headroom);
		break;
	default: {
		bad = onvm_parse_uint(arg, 0, day_ms, &u);
		uint64_t *field = opt == OPT_PENDING_MS	   ? &p->pending_ms
				  : opt == OPT_SETTLE_MS   ? &p->settle_ms
				  : opt == OPT_CMD_TTL_MS  ? &p->cmd_ttl_ms
				  : opt == OPT_NOCAP_MS	   ? &p->nocap_repeat_ms
				  : opt == OPT_REJECT_MS   ? &p->reject_backoff_ms
				  : opt == OPT_SCALE_IN_MS ? &p->scale_in_ms
							   : &o->grace_ms;
		*field = u;
	}
	}
	if (bad)
		snprintf(err, errlen, "bad number '%s'", arg);
	return bad ? -1 : 0;
}

static void set_mode(struct policy_options *o, enum policy_mode mode, const char *trace)
{
	o->mode = mode;
	o->trace = trace;
}

static int parse_one(int opt, struct policy_options *o, char *err, size_t errlen)
{
	int bus_option = bus_options_parse(&o->bus, opt, optarg, err, errlen);
	if (bus_option != 0)
		return bus_option < 0 ? -1 : 0;
	int overload_option = overload_options_parse(&o->params, opt, optarg, err, errlen);
	if (overload_option != 0)
		return overload_option < 0 ? -1 : 0;
	switch (opt) {
	case OPT_REPLAY:
		set_mode(o, POLICY_MODE_REPLAY, optarg);
		return 0;
	case OPT_BENCH_PARSE:
		set_mode(o, POLICY_MODE_BENCH_PARSE, optarg);
		return 0;
	case OPT_LIST:
		set_mode(o, POLICY_MODE_LIST_ENGINES, NULL);
		return 0;
	case 'h':
		set_mode(o, POLICY_MODE_HELP, NULL);
		return 0;
	case OPT_VERSION:
		set_mode(o, POLICY_MODE_VERSION, NULL);
		return 0;
	case OPT_CHECK:
		o->check = optarg;
		return 0;
	case 'e':
		o->engine = optarg;
		return 0;
	case OPT_ENGINE_ARGS:
		o->engine_args = optarg;
		return 0;
	case 'i':
		o->id = optarg;
		return 0;
	case OPT_NO_SCALE_IN:
		o->params.scale_in = false;
		return 0;
	case OPT_STATS:
		o->stats = true;
		return 0;
	case OPT_SERVICES:
		o->services = optarg;
		return 0;
	case 'v':
		o->verbose = true;
		return 0;
	case '?':
		snprintf(err, errlen, "unknown option or missing argument");
		return -1;
	default:
		return numeric_option(opt, optarg, o, err, errlen);
	}
}

static int parse_command_line(int argc, char **argv, struct policy_options *o, char *err,
			      size_t errlen);

int policy_options_parse(int argc, char **argv, struct policy_options *o, char *err, size_t errlen)
{
	*o = (struct policy_options){
	    .mode = POLICY_MODE_LIVE,
	    .engine = POLICY_DEFAULT_ENGINE,
	    .bus = {.uri = POLICY_BROKER_DEFAULT, .user = POLICY_USER_DEFAULT},
	    .grace_ms = POLICY_GRACE_DEFAULT,
	};
	policy_params_default(&o->params);
	if (config_file_merge(argc, argv, long_options, &o->config, err, errlen) < 0)
		return -1;
	argc = o->config.argc;
	argv = o->config.argv;
	if (parse_command_line(argc, argv, o, err, errlen) < 0) {
		policy_options_free(o);
		return -1;
	}
	return 0;
}

static int parse_command_line(int argc, char **argv, struct policy_options *o, char *err,
			      size_t errlen)
{
	optind = 1;
	opterr = 0;
	int opt;
	while ((opt = getopt_long(argc, argv, "e:i:vh" BUS_SHORT_OPTIONS, long_options, NULL)) !=
	       -1)
		if (parse_one(opt, o, err, errlen) < 0)
			return -1;
	if (optind < argc) {
		snprintf(err, errlen, "unexpected argument '%s'", argv[optind]);
		return -1;
	}
	if (bus_options_check(&o->bus, err, errlen) < 0)
		return -1;
	if (o->check && o->mode != POLICY_MODE_REPLAY) {
		snprintf(err, errlen, "--check goes with --replay");
		return -1;
	}
	return policy_params_check(&o->params, err, errlen);
}

int policy_options_load_services(struct policy_options *o, char *err, size_t errlen)
{
	service_rules_free(&o->rules);
	return o->services ? service_rules_load(o->services, &o->rules, err, errlen) : 0;
}

void policy_options_free(struct policy_options *o)
{
	service_rules_free(&o->rules);
	config_merged_free(&o->config);
}
