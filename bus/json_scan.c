/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * json_scan.c - strict, allocation-free pull parser for JSON text.
 */
#define _GNU_SOURCE /* strtod_l */
#include <locale.h>
#include <math.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "json_scan.h"

/* Longest number text handed to strtod when the exact fast path fails. */
#define NUMBER_TEXT_MAX 255

void jscan_init(struct jscan *s, const void *buf, size_t len, unsigned flags)
{
	s->start = buf;
	s->p = buf;
	s->end = s->start + len;
	s->flags = flags;
	s->why = NULL;
	s->why_off = 0;
}

int jscan_fail(struct jscan *s, const char *why)
{
	if (!s->why) {
		s->why = why;
		s->why_off = (size_t)(s->p - s->start);
	}
	return -1;
}

static inline void skip_ws(struct jscan *s)
{
	while (s->p < s->end && (*s->p == ' ' || *s->p == '\n' || *s->p == '\r' || *s->p == '\t'))
		s->p++;
}

enum jtok jscan_peek(struct jscan *s)
{
	skip_ws(s);
	if (s->p >= s->end)
		return JT_END;
	switch (*s->p) {
	case '{':
		return JT_OBJECT;
	case '[':
		return JT_ARRAY;
	case '"':
		return JT_STRING;
	case 't':
		return JT_TRUE;
	case 'f':
		return JT_FALSE;
	case 'n':
		return JT_NULL;
	case '-':
		return JT_NUMBER;
	default:
		return (*s->p >= '0' && *s->p <= '9') ? JT_NUMBER : JT_BAD;
	}
}

/* Bytes copied as they are inside a string: printable ASCII but '"' and '\\'. */
/* clang-format off */
static const bool plain_byte[256] = {
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
	1, 1, 0, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
	1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
	1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
	1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 1, 1, 1,
	1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
	1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
};
/* clang-format on */

/* Decoded-string writer: keeps the first cap - 1 bytes, counts them all. */
struct sink {
	char *dst;
	size_t cap; /* usable bytes, without the NUL */
	size_t len;
};

static inline void sink_put(struct sink *k, const char *src, size_t n)
{
	if (k->len < k->cap) {
		size_t room = k->cap - k->len;

		memcpy(k->dst + k->len, src, n < room ? n : room);
	}
	k->len += n;
}

static int hex4(const char *p, unsigned *out)
{
	unsigned v = 0;
	int i;

	for (i = 0; i < 4; i++) {
		char c = p[i];

		v <<= 4;
		if (c >= '0' && c <= '9')
			v |= (unsigned)(c - '0');
		else if (c >= 'a' && c <= 'f')
			v |= (unsigned)(c - 'a' + 10);
		else if (c >= 'A' && c <= 'F')
			v |= (unsigned)(c - 'A' + 10);
		else
			return -1;
	}
	*out = v;
	return 0;
}

/* Length of the valid UTF-8 sequence at p (lead byte >= 0x80), 0 if invalid. */
static size_t utf8_seq_len(const unsigned char *p, const unsigned char *end)
{
	unsigned char c = p[0];
	unsigned char lo = 0x80, hi = 0xbf;
	size_t n, i;

	if (c >= 0xc2 && c <= 0xdf)
		n = 2;
	else if (c >= 0xe0 && c <= 0xef)
		n = 3;
	else if (c >= 0xf0 && c <= 0xf4)
		n = 4;
	else
		return 0;
	if ((size_t)(end - p) < n)
		return 0;
	if (c == 0xe0)
		lo = 0xa0; /* overlong */
	else if (c == 0xed)
		hi = 0x9f; /* surrogates */
	else if (c == 0xf0)
		lo = 0x90; /* overlong */
	else if (c == 0xf4)
		hi = 0x8f; /* above U+10FFFF */
	if (p[1] < lo || p[1] > hi)
		return 0;
	for (i = 2; i < n; i++)
		if (p[i] < 0x80 || p[i] > 0xbf)
			return 0;
	return n;
}

static size_t utf8_encode(unsigned cp, char *out)
{
	if (cp < 0x80) {
		out[0] = (char)cp;
		return 1;
	}
	if (cp < 0x800) {
		out[0] = (char)(0xc0 | (cp >> 6));
		out[1] = (char)(0x80 | (cp & 0x3f));
		return 2;
	}
	if (cp < 0x10000) {
		out[0] = (char)(0xe0 | (cp >> 12));
		out[1] = (char)(0x80 | ((cp >> 6) & 0x3f));
		out[2] = (char)(0x80 | (cp & 0x3f));
		return 3;
	}
	out[0] = (char)(0xf0 | (cp >> 18));
	out[1] = (char)(0x80 | ((cp >> 12) & 0x3f));
	out[2] = (char)(0x80 | ((cp >> 6) & 0x3f));
	out[3] = (char)(0x80 | (cp & 0x3f));
	return 4;
}

/* Parse the escape after a backslash at s->p (pointing at the letter). */
static int string_escape(struct jscan *s, struct sink *k)
{
	char out[4];
	unsigned cp, lo;
	char c;

	if (s->p >= s->end)
		return jscan_fail(s, "unterminated string");
	c = *s->p++;
	switch (c) {
	case '"':
	case '\\':
	case '/':
		out[0] = c;
		break;
	case 'b':
		out[0] = '\b';
		break;
	case 'f':
		out[0] = '\f';
		break;
	case 'n':
		out[0] = '\n';
		break;
	case 'r':
		out[0] = '\r';
		break;
	case 't':
		out[0] = '\t';
		break;
	case 'u':
		if (s->end - s->p < 4 || hex4(s->p, &cp))
			return jscan_fail(s, "invalid \\u escape");
		s->p += 4;
		if (cp >= 0xdc00 && cp <= 0xdfff)
			return jscan_fail(s, "lone low surrogate in \\u escape");
		if (cp >= 0xd800 && cp <= 0xdbff) {
			if (s->end - s->p < 6 || s->p[0] != '\\' || s->p[1] != 'u' ||
			    hex4(s->p + 2, &lo) || lo < 0xdc00 || lo > 0xdfff)
				return jscan_fail(s, "unpaired high surrogate in \\u escape");
			s->p += 6;
			cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
		}
		if (cp == 0 && !(s->flags & JSCAN_RAW))
			return jscan_fail(s, "\\u0000 in string");
		sink_put(k, out, utf8_encode(cp, out));
		return 0;
	default:
		return jscan_fail(s, "invalid escape in string");
	}
	sink_put(k, out, 1);
	return 0;
}

int jscan_string(struct jscan *s, char *dst, size_t cap, size_t *len)
{
	struct sink k = {.dst = dst, .cap = cap ? cap - 1 : 0, .len = 0};
	const bool raw = s->flags & JSCAN_RAW;

	if (s->p >= s->end || *s->p != '"')
		return jscan_fail(s, "expected a string");
	s->p++;
	for (;;) {
		const char *run = s->p;
		unsigned char c = 0;

		while (s->p < s->end && plain_byte[(unsigned char)*s->p])
			s->p++;
		if (s->p < s->end)
			c = (unsigned char)*s->p;
		if (s->p > run)
			sink_put(&k, run, (size_t)(s->p - run));
		if (s->p >= s->end)
			return jscan_fail(s, "unterminated string");
		if (c == '"') {
			s->p++;
			break;
		}
		if (c == '\\') {
			s->p++;
			if (string_escape(s, &k))
				return -1;
		} else if (c < 0x20) {
			return jscan_fail(s, "control character in string");
		} else if (raw) {
			sink_put(&k, s->p, 1);
			s->p++;
		} else {
			size_t n = utf8_seq_len((const unsigned char *)s->p,
						(const unsigned char *)s->end);

			if (!n)
				return jscan_fail(s, "invalid UTF-8 in string");
			sink_put(&k, s->p, n);
			s->p += n;
		}
	}
	if (cap)
		dst[k.len < k.cap ? k.len : k.cap] = '\0';
	if (len)
		*len = k.len;
	return 0;
}

static const double exact_pow10[] = {1e0,  1e1,	 1e2,  1e3,  1e4,  1e5,	 1e6,  1e7,
				     1e8,  1e9,	 1e10, 1e11, 1e12, 1e13, 1e14, 1e15,
				     1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22};

static pthread_once_t c_locale_once = PTHREAD_ONCE_INIT;
static locale_t c_locale;

static void c_locale_init(void)
{
	c_locale = newlocale(LC_NUMERIC_MASK, "C", (locale_t)0);
}

/* Correctly rounded conversion of number text, independent of the locale. */
static int slow_strtod(const char *text, size_t n, double *out)
{
	char buf[NUMBER_TEXT_MAX + 1];

	if (n > NUMBER_TEXT_MAX)
		return -1;
	memcpy(buf, text, n);
	buf[n] = '\0';
	pthread_once(&c_locale_once, c_locale_init);
	if (c_locale == (locale_t)0)
		return -1;
	*out = strtod_l(buf, NULL, c_locale);
	return 0;
}

static inline bool is_digit(char c)
{
	return c >= '0' && c <= '9';
}

int jscan_number(struct jscan *s, struct jnum *num)
{
	const char *text = s->p;
	uint64_t mant = 0;
	int ndig = 0;	      /* significant digits kept in mant */
	long dexp = 0;	      /* decimal exponent applied to mant */
	bool inexact = false; /* non-zero digits dropped from mant */
	bool neg = false, is_int = true;

	if (s->p < s->end && *s->p == '-') {
		neg = true;
		s->p++;
	}
	if (s->p >= s->end || !is_digit(*s->p))
		return jscan_fail(s, "invalid number");
	if (*s->p == '0') {
		s->p++;
		if (s->p < s->end && is_digit(*s->p))
			return jscan_fail(s, "leading zero in number");
	} else {
		while (s->p < s->end && is_digit(*s->p)) {
			if (ndig < 19) {
				mant = mant * 10 + (uint64_t)(*s->p - '0');
				ndig++;
			} else {
				dexp++;
				inexact |= *s->p != '0';
			}
			s->p++;
		}
	}
	if (s->p < s->end && *s->p == '.') {
		is_int = false;
		s->p++;
		if (s->p >= s->end || !is_digit(*s->p))
			return jscan_fail(s, "invalid fraction in number");
		while (s->p < s->end && is_digit(*s->p)) {
			if (mant == 0 && *s->p == '0') {
				dexp--;
			} else if (ndig < 19) {
				mant = mant * 10 + (uint64_t)(*s->p - '0');
				ndig++;
				dexp--;
			} else {
				inexact |= *s->p != '0';
			}
			s->p++;
		}
	}
	if (s->p < s->end && (*s->p == 'e' || *s->p == 'E')) {
		bool eneg = false;
		long e = 0;

		is_int = false;
		s->p++;
		if (s->p < s->end && (*s->p == '+' || *s->p == '-'))
			eneg = *s->p++ == '-';
		if (s->p >= s->end || !is_digit(*s->p))
			return jscan_fail(s, "invalid exponent in number");
		while (s->p < s->end && is_digit(*s->p)) {
			if (e < 100000)
				e = e * 10 + (*s->p - '0');
			s->p++;
		}
		dexp += eneg ? -e : e;
	}

	num->is_int = is_int;
	if (is_int) {
		/* Integers have no dropped digits: dexp counts digits past 19. */
		if (dexp > 0 || (neg ? mant > (uint64_t)INT64_MAX + 1 : mant > INT64_MAX))
			return jscan_fail(s, "integer out of range");
		num->i = neg ? (int64_t)(0 - mant) : (int64_t)mant;
		num->d = (double)num->i; /* "-0" is 0, not -0.0 */
		return 0;
	}
	if (mant == 0) {
		num->d = neg ? -0.0 : 0.0;
	} else if (!inexact && mant <= (1ull << 53) && dexp >= -22 && dexp <= 22) {
		/* Both operands exact: one IEEE rounding, same as strtod. */
		double d = (double)mant;

		d = dexp < 0 ? d / exact_pow10[-dexp] : d * exact_pow10[dexp];
		num->d = neg ? -d : d;
	} else if (slow_strtod(text, (size_t)(s->p - text), &num->d)) {
		return jscan_fail(s, "number too long");
	}
	if (isinf(num->d))
		return jscan_fail(s, "real number overflow");
	num->i = 0;
	return 0;
}

int jscan_literal(struct jscan *s, enum jtok tok, bool *value)
{
	const char *word = tok == JT_TRUE ? "true" : tok == JT_FALSE ? "false" : "null";
	size_t n = strlen(word);

	if ((size_t)(s->end - s->p) < n || memcmp(s->p, word, n) != 0)
		return jscan_fail(s, "invalid literal");
	s->p += n;
	if (value)
		*value = tok == JT_TRUE;
	return 0;
}

int jscan_obj_begin(struct jscan *s)
{
	skip_ws(s);
	if (s->p >= s->end || *s->p != '{')
		return jscan_fail(s, "expected '{'");
	s->p++;
	return 0;
}

int jscan_obj_next(struct jscan *s, bool *first, char *buf, size_t cap, const char **key,
		   size_t *klen)
{
	const char *run;

	skip_ws(s);
	if (s->p < s->end && *s->p == '}') {
		s->p++;
		return 0;
	}
	if (!*first) {
		if (s->p >= s->end || *s->p != ',')
			return jscan_fail(s, "expected ',' or '}' in object");
		s->p++;
		skip_ws(s);
	}
	*first = false;
	if (s->p >= s->end || *s->p != '"')
		return jscan_fail(s, "expected a key string in object");
	/* Fast path: a key without escapes is used in place. */
	run = s->p + 1;
	while (run < s->end && plain_byte[(unsigned char)*run])
		run++;
	if (run < s->end && *run == '"') {
		*key = s->p + 1;
		*klen = (size_t)(run - *key);
		s->p = run + 1;
	} else {
		if (jscan_string(s, buf, cap, klen))
			return -1;
		*key = buf;
	}
	skip_ws(s);
	if (s->p >= s->end || *s->p != ':')
		return jscan_fail(s, "expected ':' after key");
	s->p++;
	return 1;
}

int jscan_arr_begin(struct jscan *s)
{
	skip_ws(s);
	if (s->p >= s->end || *s->p != '[')
		return jscan_fail(s, "expected '['");
	s->p++;
	return 0;
}

int jscan_arr_next(struct jscan *s, bool *first)
{
	skip_ws(s);
	if (s->p < s->end && *s->p == ']') {
		s->p++;
		return 0;
	}
	if (!*first) {
		if (s->p >= s->end || *s->p != ',')
			return jscan_fail(s, "expected ',' or ']' in array");
		s->p++;
	}
	*first = false;
	return 1;
}

static int skip_depth(struct jscan *s, int depth)
{
	struct jnum num;
	bool first = true;
	const char *key;
	size_t klen;
	int more;

	if (depth > JSCAN_MAX_DEPTH)
		return jscan_fail(s, "nesting too deep");
	switch (jscan_peek(s)) {
	case JT_OBJECT:
		jscan_obj_begin(s);
		while ((more = jscan_obj_next(s, &first, NULL, 0, &key, &klen)) == 1)
			if (skip_depth(s, depth + 1))
				return -1;
		return more;
	case JT_ARRAY:
		jscan_arr_begin(s);
		while ((more = jscan_arr_next(s, &first)) == 1)
			if (skip_depth(s, depth + 1))
				return -1;
		return more;
	case JT_STRING:
		return jscan_string(s, NULL, 0, NULL);
	case JT_NUMBER:
		return jscan_number(s, &num);
	case JT_TRUE:
	case JT_FALSE:
	case JT_NULL:
		return jscan_literal(s, jscan_peek(s), NULL);
	case JT_END:
		return jscan_fail(s, "unexpected end of input");
	default:
		return jscan_fail(s, "unexpected character");
	}
}

int jscan_skip(struct jscan *s)
{
	return skip_depth(s, 0);
}
