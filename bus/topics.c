/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * topics.c - build and parse the bus contract's MQTT topic names.
 */
#include <stdio.h>
#include <string.h>

#include "topics.h"

static char topic_root[BUS_ROOT_MAX + 1] = BUS_ROOT_DEFAULT;
static size_t topic_root_len = sizeof(BUS_ROOT_DEFAULT) - 1;

/* Leaf words of the per-host topics, indexed by enum bus_kind. */
static const char *const host_leaf[BUS_KIND_COUNT] = {
    [BUS_KIND_STATE] = "state", [BUS_KIND_SERVICES] = "services", [BUS_KIND_STATS] = "stats",
    [BUS_KIND_CMD] = "cmd",	[BUS_KIND_EVENTS] = "events",	  [BUS_KIND_ALARMS] = "alarms",
};

static const char *const kind_names[BUS_KIND_COUNT] = {
    [BUS_KIND_UNKNOWN] = "unknown",   [BUS_KIND_STATE] = "state",
    [BUS_KIND_SERVICES] = "services", [BUS_KIND_STATS] = "stats",
    [BUS_KIND_CMD] = "cmd",	      [BUS_KIND_EVENTS] = "events",
    [BUS_KIND_ALARMS] = "alarms",     [BUS_KIND_DECISIONS] = "decisions",
    [BUS_KIND_ENGINE] = "engine",
};

static bool is_host_kind(enum bus_kind kind)
{
	return kind >= BUS_KIND_STATE && kind <= BUS_KIND_ALARMS;
}

/* Printable ASCII other than space; MQTT wildcards and '/' excluded. */
static bool name_char_ok(unsigned char c)
{
	return c > 0x20 && c < 0x7f && c != '/' && c != '+' && c != '#';
}

static bool name_valid_n(const char *name, size_t len)
{
	size_t i;

	if (len == 0 || len > BUS_NAME_MAX)
		return false;
	for (i = 0; i < len; i++)
		if (!name_char_ok((unsigned char)name[i]))
			return false;
	return true;
}

bool bus_name_valid(const char *name)
{
	if (!name)
		return false;
	return name_valid_n(name, strnlen(name, BUS_NAME_MAX + 1));
}

const char *bus_kind_name(enum bus_kind kind)
{
	if ((unsigned)kind >= BUS_KIND_COUNT)
		return "unknown";
	return kind_names[kind];
}

int bus_topic_set_root(const char *root)
{
	size_t len, i;

	if (!root)
		return BUS_ERR_NAME;
	len = strnlen(root, BUS_ROOT_MAX + 1);
	if (len == 0 || len > BUS_ROOT_MAX || root[0] == '$' || root[0] == '/' ||
	    root[len - 1] == '/')
		return BUS_ERR_NAME;
	for (i = 0; i < len; i++) {
		unsigned char c = (unsigned char)root[i];

		if (c == '/') {
			if (root[i + 1] == '/')
				return BUS_ERR_NAME;
			continue;
		}
		if (!name_char_ok(c))
			return BUS_ERR_NAME;
	}
	memcpy(topic_root, root, len + 1);
	topic_root_len = len;
	return 0;
}

const char *bus_topic_root(void)
{
	return topic_root;
}

/* snprintf into buf, mapping truncation to BUS_ERR_NOSPC. */
static int put_topic(char *buf, size_t buflen, int written)
{
	if (written < 0)
		return BUS_ERR_ARG;
	if ((size_t)written >= buflen) {
		if (buflen)
			buf[0] = '\0';
		return BUS_ERR_NOSPC;
	}
	return 0;
}

int bus_topic_host(char *buf, size_t buflen, const char *host, enum bus_kind kind)
{
	if (!buf || !is_host_kind(kind))
		return BUS_ERR_ARG;
	if (!bus_name_valid(host))
		return BUS_ERR_NAME;
	return put_topic(
	    buf, buflen,
	    snprintf(buf, buflen, "%s/hosts/%s/%s", topic_root, host, host_leaf[kind]));
}

int bus_topic_decisions(char *buf, size_t buflen)
{
	if (!buf)
		return BUS_ERR_ARG;
	return put_topic(buf, buflen, snprintf(buf, buflen, "%s/policy/decisions", topic_root));
}

int bus_topic_engine(char *buf, size_t buflen, const char *engine_id)
{
	if (!buf)
		return BUS_ERR_ARG;
	if (!bus_name_valid(engine_id))
		return BUS_ERR_NAME;
	return put_topic(buf, buflen,
			 snprintf(buf, buflen, "%s/policy/engines/%s", topic_root, engine_id));
}

int bus_topic_filter(char *buf, size_t buflen, enum bus_kind kind)
{
	int n;

	if (!buf)
		return BUS_ERR_ARG;
	if (is_host_kind(kind))
		n = snprintf(buf, buflen, "%s/hosts/+/%s", topic_root, host_leaf[kind]);
	else if (kind == BUS_KIND_ENGINE)
		n = snprintf(buf, buflen, "%s/policy/engines/+", topic_root);
	else if (kind == BUS_KIND_DECISIONS)
		n = snprintf(buf, buflen, "%s/policy/decisions", topic_root);
	else if (kind == BUS_KIND_UNKNOWN)
		n = snprintf(buf, buflen, "%s/#", topic_root);
	else
		return BUS_ERR_ARG;
	return put_topic(buf, buflen, n);
}

/* Copy a validated name of len bytes into out->name. */
static int set_name(struct bus_topic *out, const char *name, size_t len)
{
	if (!name_valid_n(name, len))
		return BUS_ERR_NAME;
	memcpy(out->name, name, len);
	out->name[len] = '\0';
	return 0;
}

static int parse_rest(const char *rest, struct bus_topic *out)
{
	static const char hosts[] = "hosts/";
	static const char engines[] = "policy/engines/";
	const char *slash;
	enum bus_kind kind;
	int ret;

	if (strcmp(rest, "policy/decisions") == 0) {
		out->kind = BUS_KIND_DECISIONS;
		return 0;
	}
	if (strncmp(rest, engines, sizeof(engines) - 1) == 0) {
		rest += sizeof(engines) - 1;
		ret = set_name(out, rest, strlen(rest));
		if (ret == 0)
			out->kind = BUS_KIND_ENGINE;
		return ret;
	}
	if (strncmp(rest, hosts, sizeof(hosts) - 1) != 0)
		return BUS_ERR_TOPIC;
	rest += sizeof(hosts) - 1;
	slash = strchr(rest, '/');
	if (!slash)
		return BUS_ERR_TOPIC;
	for (kind = BUS_KIND_STATE; kind <= BUS_KIND_ALARMS; kind++)
		if (strcmp(slash + 1, host_leaf[kind]) == 0)
			break;
	if (kind > BUS_KIND_ALARMS)
		return BUS_ERR_TOPIC;
	ret = set_name(out, rest, (size_t)(slash - rest));
	if (ret == 0)
		out->kind = kind;
	return ret;
}

int bus_topic_parse(const char *topic, struct bus_topic *out)
{
	int ret;

	if (!out)
		return BUS_ERR_ARG;
	out->kind = BUS_KIND_UNKNOWN;
	out->name[0] = '\0';
	if (!topic)
		return BUS_ERR_ARG;
	if (strncmp(topic, topic_root, topic_root_len) != 0 || topic[topic_root_len] != '/')
		return BUS_ERR_TOPIC;
	ret = parse_rest(topic + topic_root_len + 1, out);
	if (ret) {
		out->kind = BUS_KIND_UNKNOWN;
		out->name[0] = '\0';
	}
	return ret;
}
