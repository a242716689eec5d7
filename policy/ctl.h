/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * ctl.h - the logic of onvm-ctl, the command line for people: its
 * arguments, the cluster it reads from the bus, the tables and JSON it
 * prints, the commands it sends and the answers it waits for, and the
 * one-line form of every message for "watch".
 *
 * Pure: fed decoded bus messages with the time they arrived, it prints to
 * the FILEs it is handed; ctl_main.c runs the MQTT client and the clock.
 *
 * The tables come from what the bus keeps (the hosts' retained state and
 * services maps, the engines' retained announcements) and a short window
 * of stats: onvm-ctl waits until every online host sent stats once, or
 * --wait-ms, whichever comes first.  A command gets a fresh id and an
 * expiry; the request is set up before the command is published, so an
 * answer can never be early for it.  "watch" matches commands, decisions
 * and events by cmd_id in whatever order they arrive: a host's event and
 * the policy's decision come from different publishers on different
 * topics, so either may be first, and the later one tells of the earlier.
 */
#ifndef ONVM_POLICY_CTL_H
#define ONVM_POLICY_CTL_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "bus_options.h"
#include "codec.h"

#define CTL_WAIT_MS_DEFAULT	 1200  /* one default stats period (1 s) and a margin */
#define CTL_TIMEOUT_MS_DEFAULT	 15000 /* a spawn's NF has 10 s to register */
#define CTL_CONNECT_MS_DEFAULT	 3000
#define CTL_ENGINE_NAME		 "onvm-ctl" /* the "engine" of the commands it sends */
#define CTL_REASON_DEFAULT	 "by hand (onvm-ctl)"
#define CTL_USER_READ_DEFAULT	 "monitor" /* read-only verbs */
#define CTL_USER_COMMAND_DEFAULT "policy"  /* spawn and stop: only it may write cmd topics */
#define CTL_MAX_HOSTS		 1024
#define CTL_MAX_ENGINES		 256
#define CTL_RECENT		 64 /* command ids "watch" remembers */
#define CTL_LINE_LEN		 1024

enum ctl_verb {
	CTL_HOSTS = 0,
	CTL_SERVICES,
	CTL_INSTANCES,
	CTL_ENGINES,
	CTL_SPAWN,
	CTL_STOP,
	CTL_WATCH,
};

struct ctl_options {
	struct bus_options bus;
	enum ctl_verb verb;
	bool json;		 /* tables: one JSON document instead */
	uint64_t wait_ms;	 /* tables, stop's look-up: the stats window */
	uint64_t timeout_ms;	 /* spawn, stop: how long to wait for the answer */
	uint64_t connect_ms;	 /* how long to wait for the broker */
	char host[BUS_NAME_LEN]; /* spawn, stop: the target; tables: only this host */
	uint16_t service;	 /* spawn: the service; stop: 0 = look it up */
	uint32_t count;		 /* spawn: instances */
	uint32_t instance;	 /* stop */
	char reason[BUS_TEXT_LEN];
	uint64_t messages; /* watch: stop after this many (0: at a signal) */
};

/* What ctl_parse returns besides 0 and -1. */
#define CTL_PARSE_HELP	  1
#define CTL_PARSE_VERSION 2

/*
 * Parse a command line: [options] VERB [SERVICE] [options].  0, 1 for -h,
 * 2 for --version, -1 for a bad one (the reason in err).
 */
int ctl_parse(int argc, char **argv, struct ctl_options *options, char *err, size_t errlen);
void ctl_usage(FILE *out, const char *prog);
/* The identity a verb connects as when none was given. */
const char *ctl_default_user(enum ctl_verb verb);

/* ---- the cluster ---- */

struct ctl_cluster;

struct ctl_cluster *ctl_cluster_create(void);
void ctl_cluster_destroy(struct ctl_cluster *cluster);
/* Take in a decoded message. 0, or -1 when out of memory or too many hosts (skipped). */
int ctl_cluster_feed(struct ctl_cluster *cluster, const struct bus_msg *msg);
/* Some host is known, and every online one has sent stats. */
bool ctl_cluster_settled(const struct ctl_cluster *cluster);
/* The host's state: NULL when not known. */
const struct bus_state *ctl_cluster_state(const struct ctl_cluster *cluster, const char *host);
/* Whether the host's services map lists the instance, and its service. */
bool ctl_cluster_instance(const struct ctl_cluster *cluster, const char *host, uint32_t instance,
			  uint16_t *service);
/* The online engine with the smallest id (bytewise), or NULL. */
const char *ctl_cluster_leader(const struct ctl_cluster *cluster);

/* The tables (host_filter NULL or "": every host). */
void ctl_print_hosts(const struct ctl_cluster *cluster, const char *host_filter, bool json,
		     FILE *out);
void ctl_print_services(const struct ctl_cluster *cluster, const char *host_filter, bool json,
			FILE *out);
void ctl_print_instances(const struct ctl_cluster *cluster, const char *host_filter, bool json,
			 FILE *out);
void ctl_print_engines(const struct ctl_cluster *cluster, bool json, FILE *out);

/* ---- commands ---- */

/* A fresh command id: "ctl-PID-MS-N" (N counts within the process). */
void ctl_make_id(char *buf, size_t len, long pid, uint64_t now_ms);
/* The command the options ask for, sent at now_ms, valid until now_ms + timeout. */
void ctl_build_cmd(const struct ctl_options *options, const char *id, uint64_t now_ms,
		   struct bus_cmd *cmd);

/* A command sent, and what its host answered so far. */
struct ctl_request {
	char id[BUS_NAME_LEN];
	char host[BUS_NAME_LEN];
	enum bus_cmd_op op;
	uint32_t expect; /* spawned events that complete a spawn */
	uint32_t spawned;
	bool finished, ok;
};

void ctl_request_init(struct ctl_request *request, const struct bus_cmd *cmd);
/*
 * An event: 0 when it does not answer the request, else 1 with a line for
 * people in line (the request is finished when the answer is complete or
 * a failure: a rejection, or a spawned NF that exited).
 */
int ctl_request_event(struct ctl_request *request, const struct bus_event *event, char *line,
		      size_t len);

/* ---- watch ---- */

/* Commands, decisions and answers remembered by cmd_id (zero it to start). */
struct ctl_recent {
	char id[BUS_NAME_LEN];
	bool has_cmd, has_decision, has_answer;
	char cmd[192];	    /* "spawn of service 2 on h2 by pe-a" */
	char decision[192]; /* "pe-a's decision for h1's overload" */
	char answer[192];   /* "spawned instance 3 on h2" (the latest) */
};

struct ctl_watch {
	struct ctl_recent recent[CTL_RECENT];
	uint32_t next;
};

/* One line (no newline) for a decoded message. */
void ctl_watch_line(struct ctl_watch *watch, const struct bus_msg *msg, bool retained, char *line,
		    size_t len);

#endif /* ONVM_POLICY_CTL_H */
