/*
 * The SOA serial in a master file, located byte-exactly.
 *
 * libzscanner validates and tells which record is the SOA and what its serial
 * is, but not where its fields are. In manual mode (zs_parse_record) it stops
 * after every record somewhere inside that record's text: at the newline
 * that ends it, or, in a record in parentheses, at the first newline after
 * its last field (the closing parenthesis is read later). A tokenizer that
 * knows the master-file syntax (comments, quotes, parentheses, escapes)
 * splits the whole text into entries from the start; the SOA is the entry
 * that holds zscanner's stop, and its third rdata token is the serial,
 * accepted only when its value is the scanner's.
 *
 * zscanner refuses CR LF line ends; such text is scanned with each CR before
 * LF taken out, and the serial's offsets are mapped back to the original.
 */
#include <errno.h>
#include <inttypes.h>
#include <libgen.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libzscanner/scanner.h>

#include <soasync/error.h>
#include <soasync/serial.h>
#include <soasync/serialedit.h>

/* An origin nobody uses: a relative SOA owner that ends in it means no
 * origin was known. */
#define SENTINEL          "soasync-origin-unknown"
#define MAX_INCLUDE_DEPTH 10
#define MAX_TOK           8

typedef struct {
	size_t start, end;
} span_t;

/* One entry: a line, or several joined by parentheses. */
typedef struct {
	size_t start; /* its first byte: the start of a line */
	size_t next;  /* just past the newline that ends it (or the end) */
	size_t ntok;  /* tokens seen, also those past MAX_TOK */
	span_t tok[MAX_TOK];
} entry_t;

typedef struct {
	unsigned flags;
	ss_zone_error_t *err;
	unsigned nsoa;
	char first_file[512]; /* where the first SOA is */
	uint64_t first_line;
	bool first_in_main;
	entry_t soa;     /* in the scanned main text: the SOA's entry */
	bool soa_found;  /* the entry was found */
	uint32_t serial; /* the scanner's */
	uint8_t owner[KNOT_DNAME_MAXLEN];
	size_t owner_len;
} scan_t;

static int fail(ss_zone_error_t *err, int code, const char *file, uint64_t line, const char *fmt,
                ...) __attribute__((format(printf, 5, 6)));

static int fail(ss_zone_error_t *err, int code, const char *file, uint64_t line, const char *fmt,
                ...)
{
	if (err != NULL) {
		snprintf(err->file, sizeof(err->file), "%s", file);
		err->line = line;
		va_list ap;
		va_start(ap, fmt);
		vsnprintf(err->message, sizeof(err->message), fmt, ap);
		va_end(ap);
	}
	return code;
}

static uint64_t line_of(const char *t, size_t off)
{
	uint64_t line = 1;
	for (const char *p = t; (p = memchr(p, '\n', (size_t)(t + off - p))) != NULL; p++) {
		line++;
	}
	return line;
}

static bool is_delim(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == ';' || c == '(' || c == ')' || c == '"';
}

/* A plain or quoted token from pos; returns the position after it, or len + 1
 * when a quote is not closed. A backslash takes the next byte whatever it is. */
static size_t scan_token(const char *t, size_t len, size_t pos)
{
	bool quoted = t[pos] == '"';
	if (quoted) {
		pos++;
	}
	while (pos < len && (quoted ? t[pos] != '"' : !is_delim(t[pos]))) {
		pos += t[pos] == '\\' && pos + 1 < len ? 2 : 1;
	}
	if (quoted) {
		return pos < len ? pos + 1 : len + 1;
	}
	return pos;
}

/* Returns 0, or -1 for unbalanced parentheses or an open quote. zscanner
 * allows no nesting, and neither do we. */
static int scan_entry(const char *t, size_t len, size_t pos, entry_t *e)
{
	bool open = false;
	e->start = pos;
	e->ntok = 0;
	while (pos < len) {
		char c = t[pos];
		if (c == '\n') {
			pos++;
			if (!open) {
				break;
			}
		} else if (c == ' ' || c == '\t') {
			pos++;
		} else if (c == ';') {
			const char *nl = memchr(t + pos, '\n', len - pos);
			pos = nl != NULL ? (size_t)(nl - t) : len;
		} else if (c == '(' || c == ')') {
			if (open == (c == '(')) {
				return -1;
			}
			open = c == '(';
			pos++;
		} else {
			size_t end = scan_token(t, len, pos);
			if (end > len) {
				return -1;
			}
			if (e->ntok < MAX_TOK) {
				e->tok[e->ntok] = (span_t){pos, end};
			}
			e->ntok++;
			pos = end;
		}
	}
	e->next = pos;
	return open ? -1 : 0;
}

/* Entries of one text, walked forward as zscanner reports positions. */
typedef struct {
	const char *t;
	size_t len;
	size_t pos; /* start of the next entry to scan */
	bool have;  /* e is scanned */
	entry_t e;
} cursor_t;

/* The record entry that holds position at (at == len: the last one). */
static int cursor_find(cursor_t *c, size_t at, entry_t *out)
{
	for (;;) {
		if (!c->have) {
			if (c->pos >= c->len || scan_entry(c->t, c->len, c->pos, &c->e) != 0) {
				return -1;
			}
			c->have = true;
		}
		if (at < c->e.next || c->e.next >= c->len) {
			break;
		}
		c->pos = c->e.next;
		c->have = false;
	}
	if (c->e.ntok == 0 || c->t[c->e.tok[0].start] == '$' || at < c->e.start) {
		return -1;
	}
	*out = c->e;
	return 0;
}

static bool tok_is(const char *t, span_t s, const char *word)
{
	size_t n = strlen(word);
	return s.end - s.start == n && strncasecmp(t + s.start, word, n) == 0;
}

/* Index of the type token: after the owner (when the entry starts with one),
 * at most a TTL and a class, in either order. */
static int type_index(const char *t, const entry_t *e)
{
	char first = t[e->start];
	size_t i = (first == ' ' || first == '\t' || first == '(') ? 0 : 1;
	for (size_t k = i; k < i + 3 && k < e->ntok && k < MAX_TOK; k++) {
		span_t s = e->tok[k];
		if (tok_is(t, s, "SOA") || tok_is(t, s, "TYPE6")) {
			return (int)k;
		}
		bool ttl = t[s.start] >= '0' && t[s.start] <= '9';
		if (!ttl && !tok_is(t, s, "IN")) {
			return -1;
		}
	}
	return -1;
}

/* A token of decimal digits only, with its value; false otherwise. */
static bool decimal(const char *t, span_t s, uint32_t *value)
{
	uint64_t v = 0;
	if (s.end == s.start) {
		return false;
	}
	for (size_t i = s.start; i < s.end; i++) {
		if (t[i] < '0' || t[i] > '9') {
			return false;
		}
		v = v * 10 + (uint64_t)(t[i] - '0');
		if (v > UINT32_MAX) {
			return false;
		}
	}
	*value = (uint32_t)v;
	return true;
}

static uint32_t rdata_serial(const zs_scanner_t *s)
{
	size_t m = knot_dname_size(s->r_data);
	size_t r = knot_dname_size(s->r_data + m);
	return knot_wire_read_u32(s->r_data + m + r);
}

static int scan_text(scan_t *sc, const char *t, size_t len, const char *name, const char *origin,
                     unsigned depth, bool is_main);

/* "a\r\nb" to "a\nb": zscanner does not take CR LF. NULL when there is no CR
 * (nothing to do) or on ENOMEM (*nomem set). */
static char *strip_crlf(const char *t, size_t len, size_t *outlen, bool *nomem)
{
	*nomem = false;
	if (memchr(t, '\r', len) == NULL) {
		return NULL;
	}
	char *o = malloc(len + 1);
	if (o == NULL) {
		*nomem = true;
		return NULL;
	}
	size_t j = 0;
	for (size_t i = 0; i < len; i++) {
		if (!(t[i] == '\r' && i + 1 < len && t[i + 1] == '\n')) {
			o[j++] = t[i];
		}
	}
	o[j] = '\0';
	*outlen = j;
	return o;
}

/* The offset in the original text of byte k of its CR-stripped copy. */
static size_t unstrip(const char *t, size_t len, size_t k)
{
	size_t i = 0;
	for (size_t j = 0; j < k && i < len; i++) {
		if (!(t[i] == '\r' && i + 1 < len && t[i + 1] == '\n')) {
			j++;
		}
	}
	while (i + 1 < len && t[i] == '\r' && t[i + 1] == '\n') {
		i++;
	}
	return i;
}

static int scan_include(scan_t *sc, const zs_scanner_t *s, unsigned depth, const char *name,
                        uint64_t line)
{
	if (sc->flags & SS_LOCATE_NO_INCLUDE) {
		return fail(sc->err, SS_EINVAL, name, line, "$INCLUDE is not allowed here");
	}
	if (depth >= MAX_INCLUDE_DEPTH) {
		return fail(sc->err, SS_ELIMIT, name, line, "$INCLUDE nested deeper than %d",
		            MAX_INCLUDE_DEPTH);
	}
	char *data = NULL;
	size_t len = 0;
	if (ss_file_read(s->include_filename, &data, &len, NULL) != 0) {
		return fail(sc->err, SS_EIO, name, line, "$INCLUDE %s: %s", s->include_filename,
		            strerror(errno));
	}
	size_t slen = len;
	bool nomem;
	char *stripped = strip_crlf(data, len, &slen, &nomem);
	int ret = nomem ? SS_ENOMEM
	                : scan_text(sc, stripped ? stripped : data, slen, s->include_filename,
	                            (const char *)s->buffer, depth + 1, false);
	free(stripped);
	free(data);
	return ret;
}

static int on_soa(scan_t *sc, const zs_scanner_t *s, cursor_t *c, size_t at, const char *name,
                  bool is_main)
{
	entry_t e;
	bool found = cursor_find(c, at, &e) == 0;
	uint64_t line = found ? line_of(c->t, e.start) : s->line_counter;
	if (++sc->nsoa > 1) {
		return fail(sc->err, SS_EMULTISOA, name, line,
		            "more than one SOA record (the first is at %s:%llu)", sc->first_file,
		            (unsigned long long)sc->first_line);
	}
	snprintf(sc->first_file, sizeof(sc->first_file), "%s", name);
	sc->first_line = line;
	sc->first_in_main = is_main;
	sc->soa = e;
	sc->soa_found = found;
	sc->serial = rdata_serial(s);
	sc->owner_len = s->r_owner_length;
	memcpy(sc->owner, s->r_owner, s->r_owner_length);
	return 0;
}

static int scan_loop(scan_t *sc, zs_scanner_t *s, const char *t, size_t len, const char *name,
                     unsigned depth, bool is_main)
{
	cursor_t c = {.t = t, .len = len};
	for (;;) {
		zs_parse_record(s);
		const char *cur = s->input.current;
		/* The last record without a final newline ends in zscanner's own
		 * one-byte block, not in t. */
		size_t at = cur >= t && cur <= t + len ? (size_t)(cur - t) : len;
		int ret = 0;
		switch (s->state) {
		case ZS_STATE_DATA:
			if (s->r_type == KNOT_RRTYPE_SOA) {
				ret = on_soa(sc, s, &c, at, name, is_main);
			}
			break;
		case ZS_STATE_INCLUDE:
			ret = scan_include(sc, s, depth, name, s->line_counter);
			break;
		case ZS_STATE_ERROR:
			return fail(sc->err, SS_EPARSE, name, s->line_counter, "does not parse: %s",
			            zs_strerror(s->error.code));
		default:
			return 0;
		}
		if (ret != 0) {
			return ret;
		}
	}
}

static int scan_text(scan_t *sc, const char *t, size_t len, const char *name, const char *origin,
                     unsigned depth, bool is_main)
{
	int ret = SS_ENOMEM;
	char *dir = NULL;
	zs_scanner_t *s = malloc(sizeof(*s));
	if (s == NULL) {
		return SS_ENOMEM;
	}
	if (zs_init(s, origin, KNOT_CLASS_IN, 3600) != 0) {
		ret = s->error.code == ZS_ENOMEM
		          ? SS_ENOMEM
		          : fail(sc->err, SS_EINVAL, name, 0, "'%s' is not a valid origin", origin);
		goto fail;
	}
	/* Relative $INCLUDEs are relative to the including file. */
	char *full = realpath(name, NULL);
	dir = full != NULL ? strdup(dirname(full)) : strdup(".");
	free(full);
	if (dir == NULL) {
		goto fail_deinit;
	}
	free(s->path);
	s->path = dir;
	if (zs_set_input_string(s, t, len) != 0) {
		goto fail_deinit;
	}
	ret = scan_loop(sc, s, t, len, name, depth, is_main);
fail_deinit:
	zs_deinit(s);
fail:
	free(s);
	return ret;
}

/* The origin the file name gives (the zone model's rule), as text. */
static bool origin_from_name(const char *path, char *out, size_t len)
{
	knot_dname_storage_t dn;
	return ss_zone_origin_from_filename(path, dn) == 0 &&
	       knot_dname_to_str(out, dn, len) != NULL;
}

static bool ends_with_sentinel(const uint8_t *owner, size_t len)
{
	static const uint8_t tail[] = "\x16" SENTINEL;
	size_t n = sizeof(tail); /* the label and the root's zero byte */
	return len >= n && memcmp(owner + len - n, tail, n) == 0;
}

/* The serial's bytes inside the SOA's entry. */
static int locate_token(const scan_t *sc, const char *t, const char *name, span_t *out,
                        uint64_t *soa_line)
{
	const entry_t *e = &sc->soa;
	if (!sc->soa_found) {
		return fail(sc->err, SS_ENOTFOUND, name, sc->first_line,
		            "cannot find the text of the SOA record");
	}
	*soa_line = line_of(t, e->start);
	int ti = type_index(t, e);
	uint32_t v = 0;
	if (ti < 0 || (size_t)ti + 3 >= e->ntok || ti + 3 >= MAX_TOK) {
		return fail(sc->err, SS_ENOTFOUND, name, *soa_line,
		            "cannot find the SOA serial in the record's text");
	}
	span_t st = e->tok[ti + 3];
	/* Generic rdata (RFC 3597) is hex: its third token may even have the
	 * serial's value by chance. */
	bool generic = tok_is(t, e->tok[ti + 1], "\\#");
	if (generic || !decimal(t, st, &v) || v != sc->serial) {
		return fail(sc->err, SS_ENOTFOUND, name, line_of(t, st.start),
		            "the SOA serial %u is not written as a plain decimal number here; "
		            "cannot edit it in place",
		            (unsigned)sc->serial);
	}
	*out = st;
	return 0;
}

static int finish(scan_t *sc, const char *t, size_t len, const char *orig, size_t olen,
                  const char *name, ss_serial_loc_t *out)
{
	if (sc->nsoa == 0) {
		return fail(sc->err, SS_ENOSOA, name, line_of(t, len > 0 ? len - 1 : 0),
		            "no SOA record");
	}
	if (!sc->first_in_main) {
		return fail(sc->err, SS_ENOTFOUND, sc->first_file, sc->first_line,
		            "the SOA record is in this $INCLUDEd file: bump that file instead");
	}
	span_t st = {0, 0};
	uint64_t soa_line = 0;
	int ret = locate_token(sc, t, name, &st, &soa_line);
	if (ret != 0) {
		return ret;
	}
	memset(out, 0, sizeof(*out));
	out->start = t == orig ? st.start : unstrip(orig, olen, st.start);
	out->end = out->start + (st.end - st.start);
	out->serial = sc->serial;
	out->line = line_of(t, st.start);
	out->soa_line = soa_line;
	memcpy(out->owner, sc->owner, sc->owner_len);
	out->owner_known = !ends_with_sentinel(sc->owner, sc->owner_len);
	return 0;
}

int ss_serial_locate(const char *text, size_t len, const char *path, const char *origin,
                     unsigned flags, ss_serial_loc_t *out, ss_zone_error_t *err)
{
	scan_t *sc = calloc(1, sizeof(*sc));
	char guess[KNOT_DNAME_TXT_MAXLEN + 1];
	const char *name = path != NULL ? path : "-";
	if (sc == NULL || text == NULL || out == NULL) {
		free(sc);
		return sc == NULL ? SS_ENOMEM : SS_EINVAL;
	}
	sc->flags = flags;
	sc->err = err;
	if (origin == NULL) {
		origin = path != NULL && origin_from_name(path, guess, sizeof(guess)) ? guess
		                                                                      : SENTINEL
		             ".";
	}
	size_t slen = len;
	bool nomem;
	char *stripped = strip_crlf(text, len, &slen, &nomem);
	const char *t = stripped != NULL ? stripped : text;
	int ret = nomem ? SS_ENOMEM : scan_text(sc, t, slen, name, origin, 0, true);
	if (ret == 0) {
		ret = finish(sc, t, slen, text, len, name, out);
	}
	free(stripped);
	free(sc);
	return ret;
}

int ss_serial_replace(const char *text, size_t len, const ss_serial_loc_t *loc, uint32_t serial,
                      char **out, size_t *outlen)
{
	if (text == NULL || loc == NULL || loc->start > loc->end || loc->end > len) {
		return SS_EINVAL;
	}
	char digits[16];
	int n = snprintf(digits, sizeof(digits), "%" PRIu32, serial);
	size_t total = len - (loc->end - loc->start) + (size_t)n;
	char *o = malloc(total + 1);
	if (o == NULL) {
		return SS_ENOMEM;
	}
	memcpy(o, text, loc->start);
	memcpy(o + loc->start, digits, (size_t)n);
	memcpy(o + loc->start + n, text + loc->end, len - loc->end);
	o[total] = '\0';
	*out = o;
	*outlen = total;
	return 0;
}

int ss_bump_policy_parse(const char *name, ss_bump_policy_t *out)
{
	static const char *const names[] = {"increment", "date", "unixtime"};
	for (size_t i = 0; name != NULL && i < sizeof(names) / sizeof(names[0]); i++) {
		if (strcmp(name, names[i]) == 0) {
			*out = (ss_bump_policy_t)i;
			return 0;
		}
	}
	return SS_EINVAL;
}

/* YYYYMMDD00 of now's UTC date; false when that does not fit 32 bits. */
static bool date_serial(time_t now, uint32_t *out)
{
	struct tm tm;
	if (gmtime_r(&now, &tm) == NULL || tm.tm_year + 1900 < 0 || tm.tm_year + 1900 > 4294) {
		return false;
	}
	*out = (uint32_t)(tm.tm_year + 1900) * 1000000u + (uint32_t)(tm.tm_mon + 1) * 10000u +
	       (uint32_t)tm.tm_mday * 100u;
	return true;
}

static uint32_t candidate(uint32_t old, const ss_bump_opts_t *o)
{
	uint32_t p = 0;
	bool have = false;
	if (o->policy == SS_BUMP_DATE) {
		have = date_serial(o->now, &p);
	} else if (o->policy == SS_BUMP_UNIXTIME) {
		have = o->now >= 0 && (uint64_t)o->now <= UINT32_MAX;
		p = (uint32_t)o->now;
	}
	return have && ss_serial_cmp(p, old) == SS_SERIAL_GREATER ? p : old + 1;
}

static bool at_least(uint32_t v, uint32_t floor)
{
	ss_serial_order_t c = ss_serial_cmp(v, floor);
	return c == SS_SERIAL_EQUAL || c == SS_SERIAL_GREATER;
}

/* "publish A, then B, then C" for the plan from old to to. */
static void plan_text(uint32_t old, uint32_t to, char *buf, size_t len)
{
	uint32_t steps[4];
	int n = ss_serial_plan(old, to, steps, sizeof(steps) / sizeof(steps[0]));
	size_t used = 0;
	buf[0] = '\0';
	for (int i = 0; i < n && used < len; i++) {
		int w = snprintf(buf + used, len - used, "%s%" PRIu32, i == 0 ? "" : ", then ",
		                 steps[i]);
		used += w > 0 ? (size_t)w : 0;
	}
}

/*
 * --at-least N asks for a number: N more than 2^31 - 1 above the file's
 * serial reads as "behind" in RFC 1982 arithmetic, yet the user wants it
 * published; that takes the plan's steps, never one bump.
 */
static int far_ahead(uint32_t old, const ss_bump_opts_t *o, char *why, size_t len)
{
	if (!o->has_at_least || o->at_least <= old || o->at_least - old <= SS_SERIAL_MAX_STEP) {
		return 0;
	}
	if (why != NULL && len > 0) {
		char steps[96];
		plan_text(old, o->at_least, steps, sizeof(steps));
		snprintf(why, len,
		         "%" PRIu32 " is %" PRIu32 " above the serial %" PRIu32 ", more than "
		         "RFC 1982 allows in one step (%" PRIu32 "): secondaries would take it as "
		         "older. Publish %s, waiting until every secondary serves each (soasync "
		         "serial plan %" PRIu32 " %" PRIu32 ")",
		         o->at_least, o->at_least - old, old, SS_SERIAL_MAX_STEP, steps, old,
		         o->at_least);
	}
	return SS_EINVAL;
}

int ss_serial_next(uint32_t old, const ss_bump_opts_t *o, uint32_t *out, char *why, size_t len)
{
	if (far_ahead(old, o, why, len) != 0) {
		return SS_EINVAL;
	}
	uint32_t c = candidate(old, o);
	if (o->has_at_least && !at_least(c, o->at_least)) {
		c = o->at_least;
	}
	if (o->has_above && ss_serial_cmp(c, o->above) != SS_SERIAL_GREATER) {
		c = o->above + 1;
	}
	/* 0 means "unset" to many tools; BIND's own increment skips it too. */
	if (c == 0) {
		c = 1;
	}
	bool ok = ss_serial_cmp(c, old) == SS_SERIAL_GREATER &&
	          (!o->has_at_least || at_least(c, o->at_least)) &&
	          (!o->has_above || ss_serial_cmp(c, o->above) == SS_SERIAL_GREATER);
	if (!ok) {
		bool above =
		    o->has_above && (c == o->above + 1 || (c == 1 && o->above == UINT32_MAX));
		if (why != NULL && len > 0) {
			snprintf(why, len,
			         "no serial is both greater than %" PRIu32 " and %s %" PRIu32
			         " (RFC 1982 allows at most %" PRIu32 " ahead); see "
			         "'soasync serial plan %" PRIu32 " %" PRIu32 "'",
			         old, above ? "greater than" : "at least",
			         above ? o->above : o->at_least, SS_SERIAL_MAX_STEP, old, c);
		}
		return SS_EINVAL;
	}
	*out = c;
	return 0;
}
