/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * trace.c - read and write trace lines in mosquitto_sub's '%j' format.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "json_scan.h"
#include "trace.h"

#define US_PER_SEC  1000000LL
#define SEC_PER_DAY 86400LL

/* Days since 1970-01-01 of a proleptic Gregorian date (month 1..12). */
static int64_t days_from_civil(int64_t y, int m, int d)
{
	int64_t era, yoe, doy, doe;

	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = y - era * 400;
	doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
}

static void civil_from_days(int64_t z, int64_t *y, int *m, int *d)
{
	int64_t era, doe, yoe, doy, mp;

	z += 719468;
	era = (z >= 0 ? z : z - 146096) / 146097;
	doe = z - era * 146097;
	yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	mp = (5 * doy + 2) / 153;
	*d = (int)(doy - (153 * mp + 2) / 5 + 1);
	*m = (int)(mp < 10 ? mp + 3 : mp - 9);
	*y = yoe + era * 400 + (*m <= 2);
}

static bool is_leap(int64_t y)
{
	return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

static int days_in_month(int64_t y, int m)
{
	static const int days[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};

	return m == 2 && is_leap(y) ? 29 : days[m - 1];
}

/* Exactly n decimal digits at *p, advancing it; -1 if not digits. */
static int take_digits(const char **p, const char *end, int n)
{
	int v = 0;

	if (end - *p < n)
		return -1;
	while (n--) {
		char c = *(*p)++;

		if (c < '0' || c > '9')
			return -1;
		v = v * 10 + (c - '0');
	}
	return v;
}

static bool take_char(const char **p, const char *end, char c)
{
	if (*p >= end || **p != c)
		return false;
	(*p)++;
	return true;
}

int bus_trace_parse_tst(const char *s, size_t len, int64_t *tst_us)
{
	int year, mon, day, hour, min, sec, frac = 0, scale = 100000, off = 0;

	if (!s || !tst_us)
		return BUS_ERR_ARG;
	const char *p = s, *end = s + len; /* not before the NULL check: UB */
	year = take_digits(&p, end, 4);
	if (year < 0 || !take_char(&p, end, '-'))
		return BUS_ERR_FORMAT;
	mon = take_digits(&p, end, 2);
	if (mon < 1 || mon > 12 || !take_char(&p, end, '-'))
		return BUS_ERR_FORMAT;
	day = take_digits(&p, end, 2);
	if (day < 1 || day > days_in_month(year, mon) || !take_char(&p, end, 'T'))
		return BUS_ERR_FORMAT;
	hour = take_digits(&p, end, 2);
	if (hour < 0 || hour > 23 || !take_char(&p, end, ':'))
		return BUS_ERR_FORMAT;
	min = take_digits(&p, end, 2);
	if (min < 0 || min > 59 || !take_char(&p, end, ':'))
		return BUS_ERR_FORMAT;
	sec = take_digits(&p, end, 2);
	if (sec < 0 || sec > 59)
		return BUS_ERR_FORMAT;
	if (take_char(&p, end, '.')) {
		int ndig = 0;

		while (p < end && *p >= '0' && *p <= '9' && ndig < 9) {
			frac += (*p++ - '0') * scale;
			scale /= 10;
			ndig++;
		}
		if (ndig == 0)
			return BUS_ERR_FORMAT;
	}
	if (!take_char(&p, end, 'Z'))
		return BUS_ERR_FORMAT;
	if (p < end) {
		int sign = *p == '-' ? -1 : 1, oh, om;

		if (*p != '+' && *p != '-')
			return BUS_ERR_FORMAT;
		p++;
		oh = take_digits(&p, end, 2);
		om = take_digits(&p, end, 2);
		if (oh < 0 || oh > 23 || om < 0 || om > 59 || p != end)
			return BUS_ERR_FORMAT;
		off = sign * (oh * 60 + om) * 60;
	}
	/* The digits are local time at the given offset from UTC. */
	*tst_us =
	    ((days_from_civil(year, mon, day) * SEC_PER_DAY + hour * 3600 + min * 60 + sec - off) *
	     US_PER_SEC) +
	    frac;
	return 0;
}

int bus_trace_format_tst(char *buf, size_t buflen, int64_t tst_us)
{
	int64_t secs, days, rem, year;
	int mon, day, us, n;

	if (!buf)
		return BUS_ERR_ARG;
	/* Floor division: times before 1970 still get 0..999999 us. */
	secs = tst_us / US_PER_SEC;
	us = (int)(tst_us % US_PER_SEC);
	if (us < 0) {
		us += US_PER_SEC;
		secs--;
	}
	days = secs / SEC_PER_DAY;
	rem = secs % SEC_PER_DAY;
	if (rem < 0) {
		rem += SEC_PER_DAY;
		days--;
	}
	civil_from_days(days, &year, &mon, &day);
	if (year < 0 || year > 9999)
		return BUS_ERR_RANGE;
	n = snprintf(buf, buflen, "%04d-%02d-%02dT%02d:%02d:%02d.%06dZ+0000", (int)year, mon, day,
		     (int)(rem / 3600), (int)(rem / 60 % 60), (int)(rem % 60), us);
	if (n < 0 || (size_t)n >= buflen)
		return BUS_ERR_NOSPC;
	return 0;
}

/* Make rec->buf hold at least need bytes. */
static int reserve(struct bus_trace_rec *rec, size_t need)
{
	char *grown;

	if (need <= rec->buf_cap)
		return 0;
	grown = realloc(rec->buf, need);
	if (!grown)
		return BUS_ERR_NOMEM;
	rec->buf = grown;
	rec->buf_cap = need;
	return 0;
}

enum trace_field { TF_TST, TF_TOPIC, TF_QOS, TF_RETAIN, TF_PAYLOADLEN, TF_PAYLOAD, TF_COUNT };

static const char *const trace_keys[TF_COUNT] = {"tst",	   "topic",	 "qos",
						 "retain", "payloadlen", "payload"};

static int trace_fail(struct jscan *js, char *err, size_t errlen, const char *what)
{
	if (js->why)
		bus_set_err(err, errlen, "%s: %s at offset %zu", what, js->why, js->why_off);
	else
		bus_set_err(err, errlen, "%s", what);
	return BUS_ERR_FORMAT;
}

/* A JSON integer value in lo..hi. */
static int trace_int(struct jscan *js, int64_t lo, int64_t hi, int64_t *out)
{
	struct jnum num;

	if (jscan_peek(js) != JT_NUMBER || jscan_number(js, &num) || !num.is_int || num.i < lo ||
	    num.i > hi)
		return -1;
	*out = num.i;
	return 0;
}

static int parse_field(struct bus_trace_rec *rec, struct jscan *js, enum trace_field field,
		       char *region, size_t region_cap, char *err, size_t errlen)
{
	char tst[64];
	enum jtok tok = jscan_peek(js);
	int64_t v;
	size_t n;
	bool flag;

	switch (field) {
	case TF_TST:
		if (tok != JT_STRING || jscan_string(js, tst, sizeof(tst), &n))
			return trace_fail(js, err, errlen, "\"tst\" is not a string");
		if (n >= sizeof(tst) || bus_trace_parse_tst(tst, n, &rec->tst_us))
			return trace_fail(js, err, errlen, "\"tst\" is not a timestamp");
		return 0;
	case TF_TOPIC:
		if (tok != JT_STRING || jscan_string(js, region, region_cap, &rec->topic_len))
			return trace_fail(js, err, errlen, "\"topic\" is not a string");
		if (rec->topic_len == 0 || memchr(region, '\0', rec->topic_len))
			return trace_fail(js, err, errlen, "\"topic\" is empty or holds NUL");
		rec->topic = region;
		return 0;
	case TF_QOS:
		if (trace_int(js, 0, 2, &v))
			return trace_fail(js, err, errlen, "\"qos\" is not 0, 1 or 2");
		rec->qos = (int)v;
		return 0;
	case TF_RETAIN:
		if (tok == JT_TRUE || tok == JT_FALSE) {
			if (jscan_literal(js, tok, &flag))
				return trace_fail(js, err, errlen, "\"retain\" is not 0 or 1");
			rec->retain = flag;
			return 0;
		}
		if (trace_int(js, 0, 1, &v))
			return trace_fail(js, err, errlen, "\"retain\" is not 0 or 1");
		rec->retain = v == 1;
		return 0;
	case TF_PAYLOADLEN:
		if (trace_int(js, 0, INT64_MAX, &v))
			return trace_fail(js, err, errlen, "\"payloadlen\" is not an integer >= 0");
		rec->declared_len = (uint64_t)v;
		return 0;
	case TF_PAYLOAD:
		if (tok == JT_NULL) {
			if (jscan_literal(js, tok, NULL))
				return trace_fail(js, err, errlen, "\"payload\" is malformed");
			region[0] = '\0';
			rec->payload_len = 0;
		} else if (tok != JT_STRING ||
			   jscan_string(js, region, region_cap, &rec->payload_len)) {
			return trace_fail(js, err, errlen, "\"payload\" is not a string or null");
		}
		rec->payload = region;
		return 0;
	default:
		return BUS_ERR_ARG;
	}
}

int bus_trace_parse(struct bus_trace_rec *rec, const char *line, size_t len, char *err,
		    size_t errlen)
{
	char keybuf[16];
	const char *key;
	unsigned seen = 0, i;
	char *topic_region, *payload_region;
	struct jscan js;
	bool first = true;
	size_t klen, region;
	int more, ret;

	if (!rec || (!line && len))
		return BUS_ERR_ARG;
	if (errlen && err)
		err[0] = '\0';
	while (len && (line[len - 1] == '\n' || line[len - 1] == '\r'))
		len--;
	/* Decoded strings are never longer than their text: one region each. */
	region = len + 1;
	if (reserve(rec, 2 * region))
		return BUS_ERR_NOMEM;
	topic_region = rec->buf;
	payload_region = rec->buf + region;
	rec->topic = NULL;
	rec->payload = NULL;
	rec->topic_len = rec->payload_len = 0;
	rec->qos = 0;
	rec->retain = false;

	jscan_init(&js, line, len, JSCAN_RAW);
	if (jscan_peek(&js) != JT_OBJECT)
		return trace_fail(&js, err, errlen, "line is not a JSON object");
	jscan_obj_begin(&js);
	while ((more = jscan_obj_next(&js, &first, keybuf, sizeof(keybuf), &key, &klen)) == 1) {
		for (i = 0; i < TF_COUNT; i++)
			if (klen < sizeof(keybuf) && klen == strlen(trace_keys[i]) &&
			    memcmp(key, trace_keys[i], klen) == 0)
				break;
		if (i == TF_COUNT) {
			if (jscan_skip(&js))
				return trace_fail(&js, err, errlen, "malformed JSON");
			continue;
		}
		if (seen & (1u << i)) {
			bus_set_err(err, errlen, "duplicate field \"%s\"", trace_keys[i]);
			return BUS_ERR_FORMAT;
		}
		seen |= 1u << i;
		ret = parse_field(rec, &js, i, i == TF_TOPIC ? topic_region : payload_region,
				  region, err, errlen);
		if (ret)
			return ret;
	}
	if (more < 0)
		return trace_fail(&js, err, errlen, "malformed JSON");
	if (jscan_peek(&js) != JT_END)
		return trace_fail(&js, err, errlen, "trailing characters after the object");
	for (i = 0; i < TF_COUNT; i++) {
		if ((i == TF_TST || i == TF_TOPIC || i == TF_PAYLOAD) && !(seen & (1u << i))) {
			bus_set_err(err, errlen, "missing field \"%s\"", trace_keys[i]);
			return BUS_ERR_FORMAT;
		}
	}
	if (!(seen & (1u << TF_PAYLOADLEN)))
		rec->declared_len = rec->payload_len;
	return 0;
}

int bus_trace_read(FILE *f, struct bus_trace_rec *rec, char *err, size_t errlen)
{
	char inner[200];
	ssize_t n;
	int ret;

	if (!f || !rec)
		return BUS_ERR_ARG;
	for (;;) {
		size_t i;

		errno = 0;
		n = getline(&rec->line, &rec->line_cap, f);
		if (n < 0) {
			if (ferror(f) || errno == ENOMEM) {
				bus_set_err(err, errlen, "read error: %s", strerror(errno));
				return BUS_ERR_IO;
			}
			return 0;
		}
		rec->lineno++;
		for (i = 0; i < (size_t)n; i++)
			if (!strchr(" \t\r\n", rec->line[i]))
				break;
		if (i < (size_t)n)
			break; /* not blank */
	}
	ret = bus_trace_parse(rec, rec->line, (size_t)n, inner, sizeof(inner));
	if (ret) {
		bus_set_err(err, errlen, "line %lu: %s", rec->lineno, inner);
		return ret;
	}
	return 1;
}

void bus_trace_rec_free(struct bus_trace_rec *rec)
{
	if (!rec)
		return;
	free(rec->buf);
	free(rec->line);
	memset(rec, 0, sizeof(*rec));
}

/*
 * Append s as the inside of a JSON string, escaped as mosquitto_sub's
 * cJSON does: \" \\ \b \f \n \r \t, other bytes below 0x20 as \u00xx
 * (lower-case hex), every other byte as it is.
 */
static char *escape(char *out, const unsigned char *s, size_t len)
{
	static const char hex[] = "0123456789abcdef";
	size_t i;

	for (i = 0; i < len; i++) {
		unsigned char c = s[i];

		if (c >= 0x20 && c != '"' && c != '\\') {
			*out++ = (char)c;
			continue;
		}
		*out++ = '\\';
		switch (c) {
		case '"':
		case '\\':
			*out++ = (char)c;
			break;
		case '\b':
			*out++ = 'b';
			break;
		case '\f':
			*out++ = 'f';
			break;
		case '\n':
			*out++ = 'n';
			break;
		case '\r':
			*out++ = 'r';
			break;
		case '\t':
			*out++ = 't';
			break;
		default:
			memcpy(out, "u00", 3);
			out[3] = hex[c >> 4];
			out[4] = hex[c & 0xf];
			out += 5;
			break;
		}
	}
	return out;
}

int bus_trace_format(int64_t tst_us, const char *topic, int qos, bool retain, const void *payload,
		     size_t len, char **out, size_t *out_len)
{
	char tst[BUS_TST_LEN], *line, *p;
	size_t topic_len, cap;
	int ret, n;

	if (!out)
		return BUS_ERR_ARG;
	*out = NULL;
	if (!topic || qos < 0 || qos > 2 || (!payload && len))
		return BUS_ERR_ARG;
	ret = bus_trace_format_tst(tst, sizeof(tst), tst_us);
	if (ret)
		return ret;
	topic_len = strlen(topic);
	if (topic_len > (SIZE_MAX - 256) / 6 / 2 || len > (SIZE_MAX - 256) / 6 / 2)
		return BUS_ERR_NOMEM;
	/* Each byte takes at most 6 when escaped; 160 covers the rest. */
	cap = 6 * topic_len + 6 * len + 160;
	line = malloc(cap);
	if (!line)
		return BUS_ERR_NOMEM;
	p = line + sprintf(line, "{\"tst\":\"%s\",\"topic\":\"", tst);
	p = escape(p, (const unsigned char *)topic, topic_len);
	n = sprintf(p, "\",\"qos\":%d,\"retain\":%d,\"payloadlen\":%zu,\"payload\":", qos,
		    retain ? 1 : 0, len);
	p += n;
	if (len == 0) {
		memcpy(p, "null}", 6);
		p += 5;
	} else {
		*p++ = '"';
		p = escape(p, payload, len);
		memcpy(p, "\"}", 3);
		p += 2;
	}
	*out = line;
	if (out_len)
		*out_len = (size_t)(p - line);
	return 0;
}

int bus_trace_write(FILE *f, int64_t tst_us, const char *topic, int qos, bool retain,
		    const void *payload, size_t len)
{
	size_t line_len;
	char *line;
	int ret;

	if (!f)
		return BUS_ERR_ARG;
	ret = bus_trace_format(tst_us, topic, qos, retain, payload, len, &line, &line_len);
	if (ret)
		return ret;
	if (fwrite(line, 1, line_len, f) != line_len || fputc('\n', f) == EOF)
		ret = BUS_ERR_IO;
	free(line);
	return ret;
}
