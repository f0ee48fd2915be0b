#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util_strbuf.h"

static bool reserve(ss_strbuf_t *b, size_t extra)
{
	if (b->failed) {
		return false;
	}
	if (b->len + extra + 1 <= b->cap) {
		return true;
	}
	size_t ncap = b->cap ? b->cap : 64;
	while (ncap < b->len + extra + 1) {
		ncap *= 2;
	}
	char *n = realloc(b->s, ncap);
	if (n == NULL) {
		b->failed = true;
		return false;
	}
	b->s = n;
	b->cap = ncap;
	return true;
}

void ss_strbuf_append(ss_strbuf_t *b, const char *data, size_t len)
{
	if (!reserve(b, len)) {
		return;
	}
	memcpy(b->s + b->len, data, len);
	b->len += len;
	b->s[b->len] = '\0';
}

void ss_strbuf_printf(ss_strbuf_t *b, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0 || !reserve(b, (size_t)n)) {
		b->failed = true;
		return;
	}
	va_start(ap, fmt);
	vsnprintf(b->s + b->len, (size_t)n + 1, fmt, ap);
	va_end(ap);
	b->len += (size_t)n;
}

bool ss_strbuf_ok(const ss_strbuf_t *b)
{
	return !b->failed;
}

char *ss_strbuf_take(ss_strbuf_t *b)
{
	if (b->failed) {
		ss_strbuf_free(b);
		return NULL;
	}
	if (b->s == NULL) {
		reserve(b, 0);
		if (b->s) {
			b->s[0] = '\0';
		}
	}
	char *s = b->s;
	b->s = NULL;
	b->len = b->cap = 0;
	return s;
}

void ss_strbuf_free(ss_strbuf_t *b)
{
	free(b->s);
	b->s = NULL;
	b->len = b->cap = 0;
	b->failed = false;
}

void ss_strbuf_server(ss_strbuf_t *b, const ss_addr_t *a, const char *name)
{
	char as[SS_ADDR_STRLEN];
	ss_addr_format(a, as, sizeof(as));
	if (name != NULL) {
		ss_strbuf_printf(b, "%s (%s)", name, as);
	} else {
		ss_strbuf_printf(b, "%s", as);
	}
}
