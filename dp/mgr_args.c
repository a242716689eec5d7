/* SPDX-License-Identifier: BSD-3-Clause */
/* mgr_args.c - the manager's command line (see mgr_args.h). */
#include <ctype.h>
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <arpa/inet.h>

#include "config_file.h"
#include "mgr_args.h"
#include "mgr_fabric.h"
#include "number.h"
#include "onvm_version.h"

static char no_pci_flag[] = "--no-pci";

/* Long options without a short form. */
enum {
	OPT_NETNS = 256,
	OPT_FABRIC,
	OPT_BUS_KEEPALIVE,
	OPT_ALARM_MS,
	OPT_NF_LOG_DIR,
	OPT_NO_DIRECT_TX,
};

void mgr_args_usage(const char *prgname)
{
	fprintf(
	    stderr,
	    "usage: %s [EAL args] -- [options]\n"
	    "EAL args: e.g. -l 0,1 --file-prefix=h1 --vdev=net_null0 (PCI probing is off\n"
	    "  unless -a/--allow or -b/--block names devices)\n"
	    "options:\n"
	    "  -c, --catalog FILE         service catalog (JSON) for spawning NFs\n"
	    "  -k, --nf-cores LIST        lcores NFs may use, e.g. 2-5 (may exceed the CPUs)\n"
	    "  -s, --start LIST           start these catalog services at launch, e.g. 2,3\n"
	    "  -d, --default-service ID   service that receives port traffic (default 1)\n"
	    "  -p, --port-chain PORT:SVC[,SVC...][>OUT]\n"
	    "                             chain of services for a port's traffic and the\n"
	    "                             port NEXT leaves by after the last (default: PORT)\n"
	    "  -t, --stats-period MS      stats period, %d..60000 (default %d)\n"
	    "  -f, --stats-file FILE      rewrite FILE with the counters every period\n"
	    "      --alarm-ms MS          alarm (log, and on the bus) when an instance has been\n"
	    "                             overloaded for MS, sampled every %d ms; 0..%d,\n"
	    "                             0 turns alarms off (default %d)\n"
	    "  -m, --mbufs N              packet buffers in the pool (default 65535)\n"
	    "      --nf-log-dir DIR       spawned NFs' stdout and stderr, a file each\n"
	    "                             (NAME-SERVICE-N.log; default: nf-logs/ in the EAL\n"
	    "                             runtime folder, removed at a clean exit; - : this\n"
	    "                             manager's own output)\n"
	    "  -q, --quiet                do not print the stats table\n"
	    "      --no-direct-tx         NFs hand every port's packets to the manager, even on\n"
	    "                             ports they could transmit on themselves\n"
	    "  -T, --tunnel PORT:IP       PORT is the inter-host port: traffic for other hosts'\n"
	    "                             instances leaves by it as VXLAN from IPv4 address IP\n"
	    "                             (published on the bus; needs --broker)\n"
	    "      --fabric IP/LEN        the network of every host's tunnel address (default:\n"
	    "                             the -T address's /24); other hosts' endpoints outside\n"
	    "                             it are ignored\n"
	    "      --netns NAME           open the ports inside network namespace NAME (made\n"
	    "                             by 'ip netns add'); the bus stays in this namespace\n"
	    "  -H, --host NAME            host name on the bus (required with --broker); also\n"
	    "                             the bus identity and client id unless --bus-user\n"
	    "%s"
	    "      --bus-keepalive S      MQTT keepalive in seconds, 1..%d (default %d): the\n"
	    "                             broker declares a silent manager offline at its first\n"
	    "                             check 1.5 S after its last packet (Mosquitto checks\n"
	    "                             every 5 s)\n"
	    "      --config FILE          these options from a JSON file, keyed by their long\n"
	    "                             names, EAL args as \"eal\": [...] (see docs/); the\n"
	    "                             command line's win: onvm-mgr --config FILE [-- opts]\n"
	    "  -h, --help                 this text\n"
	    "      --version              the version, then exit\n",
	    prgname, MGR_MIN_STATS_PERIOD_MS, MGR_DEFAULT_STATS_PERIOD_MS, MGR_ALARM_SAMPLE_MS,
	    MGR_ALARM_MAX_MS, MGR_ALARM_DEFAULT_MS, bus_options_usage, MGR_MAX_BUS_KEEPALIVE_S,
	    MGR_DEFAULT_BUS_KEEPALIVE_S);
}

/* Host names go into topics: no '/', '+', '#', spaces or control characters. */
static int host_name_valid(const char *host)
{
	size_t length = strlen(host);
	if (length == 0 || length > 63)
		return 0;
	for (size_t i = 0; i < length; i++)
		if (!isalnum((unsigned char)host[i]) && !strchr("._-", host[i]))
			return 0;
	return 1;
}

static int parse_uint(const char *text, unsigned long min, unsigned long max, unsigned long *value)
{
	uint64_t parsed;
	if (onvm_parse_uint(text, min, max, &parsed) < 0)
		return -1;
	*value = (unsigned long)parsed;
	return 0;
}

static int parse_service(const char *text, const char **end, uint16_t *service)
{
	uint64_t value;
	if (onvm_parse_uint_prefix(text, 1, ONVM_MAX_SERVICES - 1, &value, end) < 0)
		return -1;
	*service = (uint16_t)value;
	return 0;
}

int mgr_args_parse_chain(const char *text, struct mgr_config *config, char *err, size_t errlen)
{
	const char *end;
	uint64_t port;
	if (onvm_parse_uint_prefix(text, 0, ONVM_MAX_PORTS - 1, &port, &end) < 0 || *end != ':')
		goto bad;
	struct mgr_chain_config chain = {.set = 1, .egress_port = -1};
	const char *cursor = end + 1;
	for (;;) {
		if (chain.chain_len == ONVM_MAX_CHAIN)
			goto bad;
		if (parse_service(cursor, &end, &chain.chain[chain.chain_len]) < 0)
			goto bad;
		chain.chain_len++;
		cursor = end;
		if (*cursor != ',')
			break;
		cursor++;
	}
	if (*cursor == '>') {
		unsigned long egress;
		if (parse_uint(cursor + 1, 0, ONVM_MAX_PORTS - 1, &egress) < 0)
			goto bad;
		chain.egress_port = (int)egress;
	} else if (*cursor != '\0') {
		goto bad;
	}
	config->chains[port] = chain;
	return 0;
bad:
	snprintf(err, errlen,
		 "bad port chain '%s': expected PORT:SVC[,SVC...][>OUT], ports 0..%d, "
		 "services 1..%d, at most %d services",
		 text, ONVM_MAX_PORTS - 1, ONVM_MAX_SERVICES - 1, ONVM_MAX_CHAIN);
	return -1;
}

int mgr_args_parse_start(const char *text, struct mgr_config *config, char *err, size_t errlen)
{
	const char *cursor = text;
	config->nb_start = 0;
	for (;;) {
		const char *end;
		if (config->nb_start == MGR_MAX_START ||
		    parse_service(cursor, &end, &config->start_services[config->nb_start]) < 0) {
			snprintf(err, errlen,
				 "bad start list '%s': expected service ids such as 2,3 "
				 "(at most %d)",
				 text, MGR_MAX_START);
			return -1;
		}
		config->nb_start++;
		if (*end == '\0')
			return 0;
		if (*end != ',') {
			snprintf(err, errlen, "bad start list '%s': unexpected '%c'", text, *end);
			return -1;
		}
		cursor = end + 1;
	}
}

static int option_value(char *argv[], int *index, int argc, const char *name, char **value)
{
	size_t name_len = strlen(name);
	const char *arg = argv[*index];
	if (strncmp(arg, name, name_len) != 0)
		return 0;
	if (arg[name_len] == '=') {
		*value = argv[*index] + name_len + 1;
		return 1;
	}
	if (arg[name_len] == '\0' && *index + 1 < argc) {
		*value = argv[++*index];
		return 1;
	}
	return 0;
}

int mgr_args_parse_tunnel(const char *text, struct mgr_config *config, char *err, size_t errlen)
{
	const char *end;
	uint64_t port;
	struct in_addr address;
	if (onvm_parse_uint_prefix(text, 0, ONVM_MAX_PORTS - 1, &port, &end) < 0 || *end != ':' ||
	    inet_pton(AF_INET, end + 1, &address) != 1) {
		snprintf(err, errlen, "bad tunnel '%s': want PORT:IPv4, e.g. 1:10.250.0.1", text);
		return -1;
	}
	config->tunnel_set = 1;
	config->tunnel_port = (uint16_t)port;
	memcpy(config->tunnel_ip, &address, 4);
	return 0;
}

int mgr_args_parse_fabric(const char *text, struct mgr_config *config, char *err, size_t errlen)
{
	char address_text[INET_ADDRSTRLEN];
	const char *slash = strchr(text, '/');
	unsigned long prefix_len;
	struct in_addr address;
	size_t length = slash ? (size_t)(slash - text) : 0;
	if (slash == NULL || length == 0 || length >= sizeof(address_text) ||
	    parse_uint(slash + 1, 1, 31, &prefix_len) < 0) {
		snprintf(err, errlen,
			 "bad fabric '%s': want IPv4/LEN, LEN 1..31, e.g. 10.250.0.0/16", text);
		return -1;
	}
	memcpy(address_text, text, length);
	address_text[length] = '\0';
	if (inet_pton(AF_INET, address_text, &address) != 1) {
		snprintf(err, errlen, "bad fabric '%s': '%s' is not an IPv4 address", text,
			 address_text);
		return -1;
	}
	memcpy(config->fabric_ip, &address, 4);
	config->fabric_prefix = (uint8_t)prefix_len;
	return 0;
}

/* Copy EAL args up to "--", note the file prefix and huge dir, add --no-pci. */
static int split_eal_args(int argc, char *argv[], struct mgr_config *config)
{
	int names_pci = 0;
	int index;

	config->eal_argc = 0;
	for (index = 0; index < argc && strcmp(argv[index], "--") != 0; index++) {
		char *value;
		int start = index;
		const char *arg = argv[index];
		if (option_value(argv, &index, argc, "--file-prefix", &value))
			snprintf(config->file_prefix, sizeof(config->file_prefix), "%s", value);
		else if (option_value(argv, &index, argc, "--huge-dir", &value))
			snprintf(config->huge_dir, sizeof(config->huge_dir), "%s", value);
		else if (strncmp(arg, "-a", 2) == 0 || strncmp(arg, "-b", 2) == 0 ||
			 strncmp(arg, "--allow", 7) == 0 || strncmp(arg, "--block", 7) == 0 ||
			 strncmp(arg, "--pci-", 6) == 0)
			names_pci = 1;
		/* Keep room for --no-pci and the terminating NULL. */
		if (config->eal_argc + (index - start + 1) > MGR_MAX_EAL_ARGS - 2) {
			fprintf(stderr, "onvm-mgr: too many EAL arguments\n");
			return -1;
		}
		for (int copied = start; copied <= index; copied++)
			config->eal_argv[config->eal_argc++] = argv[copied];
	}
	if (!names_pci)
		config->eal_argv[config->eal_argc++] = no_pci_flag;
	config->eal_argv[config->eal_argc] = NULL;
	return index; /* the "--" or argc */
}

/* The manager's options; also the keys of a --config file. */
static const struct option long_options[] = {
    {"catalog", required_argument, NULL, 'c'},
    {"nf-cores", required_argument, NULL, 'k'},
    {"start", required_argument, NULL, 's'},
    {"default-service", required_argument, NULL, 'd'},
    {"port-chain", required_argument, NULL, 'p'},
    {"stats-period", required_argument, NULL, 't'},
    {"stats-file", required_argument, NULL, 'f'},
    {"mbufs", required_argument, NULL, 'm'},
    {"quiet", no_argument, NULL, 'q'},
    {"host", required_argument, NULL, 'H'},
    BUS_LONG_OPTIONS,
    {"tunnel", required_argument, NULL, 'T'},
    {"netns", required_argument, NULL, OPT_NETNS},
    {"fabric", required_argument, NULL, OPT_FABRIC},
    {"bus-keepalive", required_argument, NULL, OPT_BUS_KEEPALIVE},
    {"alarm-ms", required_argument, NULL, OPT_ALARM_MS},
    {"nf-log-dir", required_argument, NULL, OPT_NF_LOG_DIR},
    {"no-direct-tx", no_argument, NULL, OPT_NO_DIRECT_TX},
    {"help", no_argument, NULL, 'h'},
    {"version", no_argument, NULL, 'V'},
    {NULL, 0, NULL, 0},
};

static int parse_command_line(int argc, char *argv[], struct mgr_config *config)
{
	const char *prgname = argc > 0 ? argv[0] : "onvm-mgr";
	char err[256] = "";
	unsigned long number;
	int opt;

	memset(config, 0, sizeof(*config));
	snprintf(config->file_prefix, sizeof(config->file_prefix), "%s", MGR_DEFAULT_PREFIX);
	config->default_service = 1;
	config->stats_period_ms = MGR_DEFAULT_STATS_PERIOD_MS;
	config->nb_mbufs = 65535;
	config->bus_keepalive_s = MGR_DEFAULT_BUS_KEEPALIVE_S;
	config->alarm_ms = MGR_ALARM_DEFAULT_MS;

	int separator = split_eal_args(argc, argv, config);
	if (separator < 0)
		goto usage;
	if (separator >= argc)
		return 0; /* no manager options */

	/* getopt sees "prgname opts...": reuse the "--" slot as argv[0]. */
	int opt_argc = argc - separator;
	char **opt_argv = argv + separator;
	opt_argv[0] = (char *)(uintptr_t)prgname;
	optind = 0; /* 0, not 1: glibc then forgets a half-read option cluster */
	opterr = 0;
	while ((opt = getopt_long(opt_argc, opt_argv, "c:k:s:d:p:t:f:m:qT:H:h" BUS_SHORT_OPTIONS,
				  long_options, NULL)) != -1) {
		int bus_option = bus_options_parse(&config->bus, opt, optarg, err, sizeof(err));
		if (bus_option < 0)
			goto usage;
		if (bus_option > 0)
			continue;
		switch (opt) {
		case 'c':
			snprintf(config->catalog_path, sizeof(config->catalog_path), "%s", optarg);
			break;
		case 'k':
			if (core_pool_parse(&config->nf_cores, optarg, err, sizeof(err)) < 0)
				goto usage;
			config->nf_cores_given = 1;
			break;
		case 's':
			if (mgr_args_parse_start(optarg, config, err, sizeof(err)) < 0)
				goto usage;
			break;
		case 'd':
			if (parse_uint(optarg, 1, ONVM_MAX_SERVICES - 1, &number) < 0) {
				snprintf(err, sizeof(err), "bad default service '%s'", optarg);
				goto usage;
			}
			config->default_service = (uint16_t)number;
			break;
		case 'p':
			if (mgr_args_parse_chain(optarg, config, err, sizeof(err)) < 0)
				goto usage;
			break;
		case 't':
			if (parse_uint(optarg, MGR_MIN_STATS_PERIOD_MS, 60000, &number) < 0) {
				snprintf(err, sizeof(err), "bad stats period '%s' (ms, %d..60000)",
					 optarg, MGR_MIN_STATS_PERIOD_MS);
				goto usage;
			}
			config->stats_period_ms = (unsigned)number;
			break;
		case 'f':
			snprintf(config->stats_file, sizeof(config->stats_file), "%s", optarg);
			break;
		case 'm':
			if (parse_uint(optarg, 1023, 4u << 20, &number) < 0) {
				snprintf(err, sizeof(err), "bad mbuf count '%s' (1023..%u)", optarg,
					 4u << 20);
				goto usage;
			}
			config->nb_mbufs = (unsigned)number;
			break;
		case 'q':
			config->quiet = 1;
			break;
		case OPT_NO_DIRECT_TX:
			config->no_direct_tx = 1;
			break;
		case 'H':
			snprintf(config->host, sizeof(config->host), "%s", optarg);
			break;
		case 'T':
			if (mgr_args_parse_tunnel(optarg, config, err, sizeof(err)) < 0)
				goto usage;
			break;
		case OPT_FABRIC:
			if (mgr_args_parse_fabric(optarg, config, err, sizeof(err)) < 0)
				goto usage;
			break;
		case OPT_NETNS:
			if (!host_name_valid(optarg)) {
				snprintf(err, sizeof(err), "bad namespace name '%s'", optarg);
				goto usage;
			}
			snprintf(config->netns, sizeof(config->netns), "%s", optarg);
			break;
		case OPT_BUS_KEEPALIVE:
			if (parse_uint(optarg, 1, MGR_MAX_BUS_KEEPALIVE_S, &number) < 0) {
				snprintf(err, sizeof(err),
					 "bad bus keepalive '%s' (seconds, 1..%d)", optarg,
					 MGR_MAX_BUS_KEEPALIVE_S);
				goto usage;
			}
			config->bus_keepalive_s = (unsigned)number;
			config->bus_keepalive_given = 1;
			break;
		case OPT_ALARM_MS:
			if (parse_uint(optarg, 0, MGR_ALARM_MAX_MS, &number) < 0) {
				snprintf(err, sizeof(err),
					 "bad alarm time '%s' (ms, 0..%d; 0: off)", optarg,
					 MGR_ALARM_MAX_MS);
				goto usage;
			}
			config->alarm_ms = (unsigned)number;
			break;
		case OPT_NF_LOG_DIR:
			/* Room for "/<name>-<service>-<count>.log" after it. */
			if (optarg[0] == '\0' ||
			    strlen(optarg) >= sizeof(config->nf_log_dir) - ONVM_NAME_LEN - 32) {
				snprintf(err, sizeof(err), "bad --nf-log-dir '%.64s'", optarg);
				goto usage;
			}
			snprintf(config->nf_log_dir, sizeof(config->nf_log_dir), "%s", optarg);
			break;
		case 'h':
			mgr_args_usage(prgname);
			return 1;
		case 'V':
			onvm_version_print(stdout, "onvm-mgr");
			return 1;
		default:
			snprintf(err, sizeof(err), "unknown option or missing value: %s",
				 opt_argv[optind - 1]);
			goto usage;
		}
	}
	if (optind < opt_argc) {
		snprintf(err, sizeof(err), "unexpected argument: %s", opt_argv[optind]);
		goto usage;
	}
	if (bus_options_check(&config->bus, err, sizeof(err)) < 0)
		goto usage;
	if (config->bus_keepalive_given && !config->bus.uri[0]) {
		snprintf(err, sizeof(err), "--bus-keepalive needs --broker");
		goto usage;
	}
	if (config->bus.uri[0] && !host_name_valid(config->host)) {
		snprintf(err, sizeof(err),
			 "--broker needs --host NAME: 1..63 letters, digits, '.', '_' or '-'");
		goto usage;
	}
	if (config->fabric_prefix && !config->tunnel_set) {
		snprintf(err, sizeof(err), "--fabric goes with --tunnel");
		goto usage;
	}
	if (config->tunnel_set && !config->fabric_prefix) {
		memcpy(config->fabric_ip, config->tunnel_ip, 4);
		config->fabric_prefix = 24;
	}
	if (config->tunnel_set &&
	    !mgr_fabric_contains(config->tunnel_ip, config->fabric_ip, config->fabric_prefix)) {
		snprintf(err, sizeof(err), "the -T address is outside --fabric");
		goto usage;
	}
	if (config->tunnel_set && !config->bus.uri[0]) {
		snprintf(err, sizeof(err),
			 "--tunnel needs --broker: peers are learnt from the bus");
		goto usage;
	}
	return 0;
usage:
	if (err[0])
		fprintf(stderr, "onvm-mgr: %s\n", err);
	mgr_args_usage(prgname);
	return -1;
}

/* What a --config file gave, and the merged command line that points into
 * it.  The parsed configuration borrows these strings, and glibc's getopt
 * may keep a pointer into the last argv it read, so they are kept (and
 * stay reachable) for the life of the process: a program parses once. */
struct merged_line {
	struct config_args options, eal;
	char **argv;
	struct merged_line *older;
};
static struct merged_line *merged_lines;

static void merged_line_free(struct merged_line *line)
{
	config_args_free(&line->options);
	config_args_free(&line->eal);
	free(line->argv);
	free(line);
}

/* Keep argv[from..to) except the --config option at skip (width entries). */
static int copy_args(char **dst, int count, char *const argv[], int from, int to, int skip,
		     int width)
{
	for (int i = from; i < to; i++)
		if (i < skip || i >= skip + width)
			dst[count++] = argv[i];
	return count;
}

/*
 * The command line with a --config file's options in: EAL arguments from
 * the command line if it has any (else from the file), then "--", the
 * file's options, and the command line's (which win, being later).
 */
static int merge_config_file(int argc, char *argv[], int at, int width, const char *path,
			     int *merged_argc, char ***merged_argv)
{
	char err[512];
	struct merged_line *line = calloc(1, sizeof(*line));
	if (line == NULL) {
		fprintf(stderr, "onvm-mgr: out of memory\n");
		return -1;
	}
	if (config_file_load(path, long_options, &line->options, &line->eal, err, sizeof(err)) <
	    0) {
		fprintf(stderr, "onvm-mgr: --config %s\n", err);
		free(line);
		return -1;
	}
	int separator = 1;
	while (separator < argc && strcmp(argv[separator], "--") != 0)
		separator++;
	int cmd_eal = separator - 1 - (at < separator ? width : 0);
	size_t room = (size_t)argc + (size_t)line->eal.argc + (size_t)line->options.argc + 2;
	line->argv = calloc(room, sizeof(*line->argv));
	if (line->argv == NULL) {
		fprintf(stderr, "onvm-mgr: out of memory\n");
		merged_line_free(line);
		return -1;
	}
	int count = 0;
	line->argv[count++] = argv[0];
	if (cmd_eal > 0)
		count = copy_args(line->argv, count, argv, 1, separator, at, width);
	else
		count = copy_args(line->argv, count, line->eal.argv, 0, line->eal.argc, -1, 0);
	line->argv[count++] = (char *)(uintptr_t) "--";
	count = copy_args(line->argv, count, line->options.argv, 0, line->options.argc, -1, 0);
	count = copy_args(line->argv, count, argv, separator + 1, argc, at, width);
	line->argv[count] = NULL;
	line->older = merged_lines;
	merged_lines = line;
	*merged_argc = count;
	*merged_argv = line->argv;
	return 0;
}

int mgr_args_parse(int argc, char *argv[], struct mgr_config *config)
{
	const char *prgname = argc > 0 ? argv[0] : "onvm-mgr";
	/* "onvm-mgr --version" or "--help" alone, without EAL args or "--". */
	if (argc == 2 && strcmp(argv[1], "--version") == 0) {
		onvm_version_print(stdout, "onvm-mgr");
		return 1;
	}
	if (argc == 2 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)) {
		mgr_args_usage(prgname);
		return 1;
	}
	const char *path = NULL;
	int width = 0;
	int at = config_file_find(argc, argv, 1, &path, &width);
	if (at == -1)
		return parse_command_line(argc, argv, config);
	if (at < 0) {
		fprintf(stderr, "onvm-mgr: %s\n",
			at == -2 ? "--config given twice" : "--config needs a FILE");
		mgr_args_usage(prgname);
		return -1;
	}
	int merged_argc;
	char **merged_argv;
	if (merge_config_file(argc, argv, at, width, path, &merged_argc, &merged_argv) < 0)
		return -1;
	return parse_command_line(merged_argc, merged_argv, config);
}
