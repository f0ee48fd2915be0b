/*
 * $GENERATE, BIND's master-file directive (libzscanner has none), expanded
 * to ordinary zone-file lines with BIND's semantics (lib/dns/master.c,
 * generate() and genname()):
 *
 *   $GENERATE start-stop[/step] lhs [ttl] [class] type rhs
 *
 * For every i from start to stop by step, "$" in lhs and rhs becomes i;
 * "${offset}", "${offset,width}" and "${offset,width,base}" (base d, o, x,
 * X, or n/N for nibbles in reverse order, dot-separated) format i + offset;
 * "$$" is a literal "$" (written "\$"); a backslash keeps the next character
 * as it is (so "\$" stays "\$": a literal "$" to the name and rdata
 * parsers). rhs
 * is one token, quoted when it holds blanks; its quotes go, "\"" becomes
 * '"'. The lines are then read like any record, under the $ORIGIN, $TTL and
 * class in force, so relative names, TTL rules and out-of-zone records
 * behave as BIND has them. A generated line never starts with '$' (never a
 * directive): "$" becomes digits, "$$" an escaped '$'.
 */
#include <inttypes.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "util_strbuf.h"
#include "zone_text.h"

#define LHS_MAX   2048  /* BIND's DNS_MASTER_LHS */
#define RHS_MAX   65535 /* rdata text of one record */
#define NUM_MAX   128   /* one formatted number, as BIND's numbuf */
#define BATCH_MAX 65536 /* lines handed over at once */

static int why_set(char *why, size_t len, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int why_set(char *why, size_t len, const char *fmt, ...)
{
	if (why != NULL && len > 0) {
		va_list ap;
		va_start(ap, fmt);
		vsnprintf(why, len, fmt, ap);
		va_end(ap);
	}
	return -1;
}

/* n bytes of s onto b, as long as b stays within max bytes. */
static bool put(ss_strbuf_t *b, const char *s, size_t n, size_t max)
{
	if (b->len + n > max) {
		return false;
	}
	ss_strbuf_append(b, s, n);
	return ss_strbuf_ok(b);
}

/* BIND's nibbles(): the value's nibbles from the least significant one,
 * dot-separated, at least width characters (dots counted). */
static int nibbles(char *out, size_t cap, unsigned width, bool upper, unsigned value)
{
	static const char hex[] = "0123456789abcdef0123456789ABCDEF";
	size_t n = 0;
	do {
		if (n + 2 >= cap) {
			return -1;
		}
		out[n++] = hex[(value & 0x0f) + (upper ? 16 : 0)];
		value >>= 4;
		width = width > 0 ? width - 1 : 0;
		if (width > 0 || value != 0) {
			out[n++] = '.';
			width = width > 0 ? width - 1 : 0;
		}
	} while (value != 0 || width > 0);
	out[n] = '\0';
	return (int)n;
}

/* A signed decimal at *p (sscanf's %d: optional sign, digits). */
static bool read_int(const char **p, long long *out, bool sign)
{
	const char *s = *p;
	bool neg = false;
	if (sign && (*s == '-' || *s == '+')) {
		neg = *s++ == '-';
	}
	if (*s < '0' || *s > '9') {
		return false;
	}
	long long v = 0;
	for (; *s >= '0' && *s <= '9'; s++) {
		v = v * 10 + (*s - '0');
		if (v > INT_MAX) {
			return false;
		}
	}
	*out = neg ? -v : v;
	*p = s;
	return true;
}

/* The modifier after "$" at *p ("{offset[,width[,base]]}", or nothing):
 * the formatted number for it into num. Returns 0 or -1 (syntax, range). */
static int modifier(const char **p, int it, char *num, size_t cap)
{
	long long delta = 0, width = 0;
	char base = 'd';
	const char *s = *p;
	if (*s == '{') {
		s++;
		bool ok = read_int(&s, &delta, true);
		if (ok && *s == ',') {
			s++;
			ok = read_int(&s, &width, false);
		}
		if (ok && *s == ',') {
			base = s[1];
			ok = base != '\0' && strchr("doxXnN", base) != NULL;
			s += 2;
		}
		if (!ok || *s != '}') {
			return -1;
		}
		*p = s + 1;
	}
	if (it > 0 && delta > INT_MAX - it) {
		return -1;
	}
	long long v = it + delta;
	int n = base == 'n' || base == 'N'
	            ? nibbles(num, cap, (unsigned)width, base == 'N', (unsigned)v)
	        : base == 'd' ? snprintf(num, cap, "%0*lld", (int)width, v)
	        : base == 'o' ? snprintf(num, cap, "%0*o", (int)width, (unsigned)v)
	        : base == 'x' ? snprintf(num, cap, "%0*x", (int)width, (unsigned)v)
	                      : snprintf(num, cap, "%0*X", (int)width, (unsigned)v);
	return n >= 0 && (size_t)n < cap ? 0 : -1;
}

/* BIND's genname(): tmpl with the iteration it substituted into out. */
static int genname(const char *tmpl, int it, ss_strbuf_t *out, size_t max)
{
	char num[NUM_MAX];
	out->len = 0;
	if (!put(out, "", 0, max)) {
		return -1;
	}
	for (const char *p = tmpl; *p != '\0';) {
		bool ok = true;
		if (p[0] == '$' && p[1] == '$') {
			/* A literal '$', escaped: libzscanner takes a bare one in
			 * no name (BIND does); "\$" means '$' to both everywhere. */
			ok = put(out, "\\$", 2, max);
			p += 2;
		} else if (*p == '$') {
			p++;
			ok = modifier(&p, it, num, sizeof(num)) == 0 &&
			     put(out, num, strlen(num), max);
		} else if (*p == '\\') {
			size_t n = p[1] != '\0' ? 2 : 1;
			ok = put(out, p, n, max);
			p += n;
		} else {
			ok = put(out, p++, 1, max);
		}
		if (!ok) {
			return -1;
		}
	}
	return 0;
}

/* Token i of e as a C string into b (a quoted one unquoted, \" -> "). */
static bool token(const char *t, const zt_entry_t *e, size_t i, ss_strbuf_t *b)
{
	zt_span_t s = e->tok[i];
	b->len = 0;
	if (t[s.start] != '"') {
		return put(b, t + s.start, s.end - s.start, RHS_MAX);
	}
	bool ok = put(b, "", 0, RHS_MAX);
	for (size_t k = s.start + 1; ok && k + 1 < s.end; k++) {
		bool esc_quote = t[k] == '\\' && t[k + 1] == '"' && k + 2 < s.end;
		ok = put(b, t + k + esc_quote, 1, RHS_MAX);
		k += esc_quote;
	}
	return ok;
}

static bool is_class(const char *t, zt_span_t s)
{
	return zt_tok_is(t, s, "IN") || zt_tok_is(t, s, "CH") || zt_tok_is(t, s, "CS") ||
	       zt_tok_is(t, s, "HS") ||
	       (s.end - s.start > 5 && strncasecmp(t + s.start, "CLASS", 5) == 0);
}

static bool is_ttl(const char *t, zt_span_t s)
{
	if (t[s.start] < '0' || t[s.start] > '9') {
		return false;
	}
	for (size_t k = s.start; k < s.end; k++) {
		if (strchr("0123456789wWdDhHmMsS", t[k]) == NULL) {
			return false;
		}
	}
	return true;
}

/* "start-stop[/step]", as BIND reads it: start <= stop, both >= 0. */
static int parse_range(const char *r, long long *start, long long *stop, long long *step)
{
	*step = 1;
	if (!read_int(&r, start, false) || *r++ != '-' || !read_int(&r, stop, false) ||
	    *stop < *start) {
		return -1;
	}
	if (*r == '/') {
		r++;
		if (!read_int(&r, step, false) || *step < 1) {
			return -1;
		}
	}
	return *r == '\0' ? 0 : -1;
}

typedef struct {
	const char *t;
	const zt_entry_t *e;
	ss_strbuf_t range, lhs, rhs, mid; /* mid: " [ttl] [class] type " */
	long long start, stop, step;
} gen_t;

/* The directive's parts; 0 or -1 (why filled). */
static int parse(gen_t *g, char *why, size_t wlen)
{
	const char *t = g->t;
	const zt_entry_t *e = g->e;
	if (e->ntok < 5 || e->ntok > 7) {
		return why_set(
		    why, wlen,
		    "$GENERATE: expected 'start-stop[/step] lhs [ttl] [class] type rhs'");
	}
	if (!token(t, e, 1, &g->range) ||
	    parse_range(g->range.s, &g->start, &g->stop, &g->step) != 0) {
		return why_set(why, wlen, "$GENERATE: invalid range '%.*s'",
		               (int)(e->tok[1].end - e->tok[1].start), t + e->tok[1].start);
	}
	size_t k = 3, last = e->ntok - 1;
	bool cls = false, ttl = false;
	/* [class] [ttl] [class], as BIND takes them. */
	while (k < last - 1 &&
	       ((!cls && is_class(t, e->tok[k])) || (!ttl && is_ttl(t, e->tok[k])))) {
		cls = cls || is_class(t, e->tok[k]);
		ttl = ttl || is_ttl(t, e->tok[k]);
		k++;
	}
	if (k != last - 1) {
		return why_set(why, wlen, "$GENERATE: expected one type and one rhs after the lhs");
	}
	if (!token(t, e, 2, &g->lhs) || !token(t, e, last, &g->rhs) ||
	    !put(&g->mid, " ", 1, RHS_MAX)) {
		return why_set(why, wlen, "$GENERATE: out of memory");
	}
	for (size_t i = 3; i <= last - 1; i++) {
		zt_span_t s = e->tok[i];
		if (!put(&g->mid, t + s.start, s.end - s.start, RHS_MAX) ||
		    !put(&g->mid, " ", 1, RHS_MAX)) {
			return why_set(why, wlen, "$GENERATE: out of memory");
		}
	}
	if (memchr(g->rhs.s, '\n', g->rhs.len) != NULL) {
		return why_set(why, wlen, "$GENERATE: the rhs spans lines");
	}
	return 0;
}

/* Lines for every step, handed to emit in batches. */
static int expand(gen_t *g, size_t max, size_t *count, zt_emit_fn emit, void *arg, char *why,
                  size_t wlen)
{
	ss_strbuf_t lhs = SS_STRBUF_INIT, rhs = SS_STRBUF_INIT, out = SS_STRBUF_INIT;
	int ret = 0;
	for (long long i = g->start; ret == 0 && i <= g->stop; i += g->step) {
		if (*count >= max) {
			ret = why_set(why, wlen, "$GENERATE: more than %zu records in all", max);
		} else if (genname(g->lhs.s, (int)i, &lhs, LHS_MAX) != 0 ||
		           genname(g->rhs.s, (int)i, &rhs, RHS_MAX) != 0) {
			ret = why_set(why, wlen,
			              "$GENERATE: bad ${...} modifier, or a name or rhs "
			              "too long");
		} else if (!put(&out, lhs.s, lhs.len, SIZE_MAX) ||
		           !put(&out, g->mid.s, g->mid.len, SIZE_MAX) ||
		           !put(&out, rhs.s, rhs.len, SIZE_MAX) || !put(&out, "\n", 1, SIZE_MAX)) {
			ret = why_set(why, wlen, "$GENERATE: out of memory");
		} else {
			(*count)++;
			if (out.len >= BATCH_MAX) {
				ret = emit(out.s, out.len, arg);
				out.len = 0;
			}
		}
	}
	if (ret == 0 && out.len > 0) {
		ret = emit(out.s, out.len, arg);
	}
	ss_strbuf_free(&lhs);
	ss_strbuf_free(&rhs);
	ss_strbuf_free(&out);
	return ret;
}

int zt_generate(const char *t, const zt_entry_t *e, size_t max, size_t *count, zt_emit_fn emit,
                void *arg, char *why, size_t wlen)
{
	gen_t g = {.t = t, .e = e};
	int ret = parse(&g, why, wlen);
	if (ret == 0) {
		ret = expand(&g, max, count, emit, arg, why, wlen);
	}
	ss_strbuf_free(&g.range);
	ss_strbuf_free(&g.lhs);
	ss_strbuf_free(&g.rhs);
	ss_strbuf_free(&g.mid);
	return ret;
}
