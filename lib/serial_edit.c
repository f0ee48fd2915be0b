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

#include "zone_text.h"

/* An origin nobody uses: a relative SOA owner that ends in it means no
 * origin was known. */
#define SENTINEL          "soasync-origin-unknown"
#define MAX_INCLUDE_DEPTH 10

typedef struct {
	unsigned flags;
	ss_zone_error_t *err;
	unsigned nsoa;
	struct {
		char file[512]; /* where this copy of the SOA is */
		uint64_t line;
		bool in_main;
		zt_entry_t entry; /* in the scanned main text */
		bool found;       /* the entry was found */
	} soa[SS_SERIAL_COPIES_MAX + 1];
	uint32_t serial; /* the scanner's */
	uint8_t owner[KNOT_DNAME_MAXLEN];
	size_t owner_len;
	uint8_t rdata[2 * KNOT_DNAME_MAXLEN + 20]; /* the first SOA's, names in lower case */
	size_t rdata_len;
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

/* Entries of one text, walked forward as zscanner reports positions. */
typedef struct {
	const char *t;
	size_t len;
	size_t pos; /* start of the next entry to scan */
	bool have;  /* e is scanned */
	zt_entry_t e;
} cursor_t;

/* The record entry that holds position at (at == len: the last one). */
static int cursor_find(cursor_t *c, size_t at, zt_entry_t *out)
{
	for (;;) {
		if (!c->have) {
			if (c->pos >= c->len || zt_entry(c->t, c->len, c->pos, &c->e) != 0) {
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

/* Index of the type token: after the owner (when the entry starts with one),
 * at most a TTL and a class, in either order. */
static int type_index(const char *t, const zt_entry_t *e)
{
	char first = t[e->start];
	size_t i = (first == ' ' || first == '\t' || first == '(') ? 0 : 1;
	for (size_t k = i; k < i + 3 && k < e->ntok && k < ZT_MAX_TOK; k++) {
		zt_span_t s = e->tok[k];
		if (zt_tok_is(t, s, "SOA") || zt_tok_is(t, s, "TYPE6")) {
			return (int)k;
		}
		bool ttl = t[s.start] >= '0' && t[s.start] <= '9';
		if (!ttl && !zt_tok_is(t, s, "IN")) {
			return -1;
		}
	}
	return -1;
}

/* A token of decimal digits only, with its value; false otherwise. */
static bool decimal(const char *t, zt_span_t s, uint32_t *value)
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

/* $GENERATE holds no SOA, so bump needs only to skip it (zscanner does
 * not know it): each such directive becomes a comment of the same size,
 * every offset and line left where it was. */
static void blank_generate(char *t, size_t len)
{
	zt_entry_t e;
	for (size_t pos = 0; pos < len && zt_entry(t, len, pos, &e) == 0; pos = e.next) {
		if (!zt_is_generate(t, &e)) {
			continue;
		}
		t[e.start] = ';';
		for (size_t i = e.start + 1; i < e.next; i++) {
			t[i] = t[i] == '\n' ? '\n' : ' ';
		}
	}
}

/*
 * t as zscanner reads it: "a\r\nb" as "a\nb" (zscanner does not take CR
 * LF), $GENERATE blanked. Returns the copy (*outlen bytes; free it), or
 * NULL when t is fine as it is, or on ENOMEM (*nomem set).
 */
static char *prepare(const char *t, size_t len, size_t *outlen, bool *nomem)
{
	*nomem = false;
	bool cr = memchr(t, '\r', len) != NULL, gen = zt_may_generate(t, len);
	if (!cr && !gen) {
		return NULL;
	}
	char *o = malloc(len + 1);
	if (o == NULL) {
		*nomem = true;
		return NULL;
	}
	size_t j = 0;
	for (size_t i = 0; i < len; i++) {
		if (!(cr && t[i] == '\r' && i + 1 < len && t[i + 1] == '\n')) {
			o[j++] = t[i];
		}
	}
	o[j] = '\0';
	*outlen = j;
	if (gen) {
		blank_generate(o, j);
	}
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
	char *stripped = prepare(data, len, &slen, &nomem);
	int ret = nomem ? SS_ENOMEM
	                : scan_text(sc, stripped ? stripped : data, slen, s->include_filename,
	                            (const char *)s->buffer, depth + 1, false);
	free(stripped);
	free(data);
	return ret;
}

/* The SOA's owner and rdata, names in lower case, into sc (the first
 * copy) or compared with sc's (the others): true when the same. */
static bool same_soa(scan_t *sc, const zs_scanner_t *s)
{
	uint8_t rd[sizeof(sc->rdata)];
	size_t len = s->r_data_length < sizeof(rd) ? s->r_data_length : sizeof(rd);
	memcpy(rd, s->r_data, len);
	size_t m = knot_dname_size(rd);
	knot_dname_to_lower(rd);
	knot_dname_to_lower(rd + m);
	if (sc->nsoa == 0) {
		memcpy(sc->rdata, rd, len);
		sc->rdata_len = len;
		sc->serial = rdata_serial(s);
		sc->owner_len = s->r_owner_length;
		memcpy(sc->owner, s->r_owner, s->r_owner_length);
		return true;
	}
	return len == sc->rdata_len && memcmp(rd, sc->rdata, len) == 0 &&
	       knot_dname_is_case_equal(s->r_owner, sc->owner);
}

/* Two names and five numbers, exactly: zscanner takes generic rdata
 * (RFC 3597) for an SOA without looking at it. */
static bool soa_rdata_ok(const zs_scanner_t *s)
{
	const uint8_t *rd = s->r_data, *end = rd + s->r_data_length;
	int m = knot_dname_wire_check(rd, end, NULL);
	int r = m > 0 ? knot_dname_wire_check(rd + m, end, NULL) : -1;
	return r > 0 && (size_t)m + (size_t)r + 20 == s->r_data_length;
}

static int on_soa(scan_t *sc, const zs_scanner_t *s, cursor_t *c, size_t at, const char *name,
                  bool is_main)
{
	zt_entry_t e;
	bool found = cursor_find(c, at, &e) == 0;
	uint64_t line = found ? line_of(c->t, e.start) : s->line_counter;
	if (!soa_rdata_ok(s)) {
		return fail(sc->err, SS_EPARSE, name, line, "malformed SOA rdata");
	}
	if (!same_soa(sc, s)) {
		return fail(sc->err, SS_EMULTISOA, name, line,
		            "a second, different SOA record (the first is at %s:%llu)",
		            sc->soa[0].file, (unsigned long long)sc->soa[0].line);
	}
	if (sc->nsoa > SS_SERIAL_COPIES_MAX) {
		return fail(sc->err, SS_EMULTISOA, name, line,
		            "the SOA record a %u. time (the first is at %s:%llu)", sc->nsoa + 1,
		            sc->soa[0].file, (unsigned long long)sc->soa[0].line);
	}
	unsigned i = sc->nsoa++;
	snprintf(sc->soa[i].file, sizeof(sc->soa[i].file), "%s", name);
	sc->soa[i].line = line;
	sc->soa[i].in_main = is_main;
	sc->soa[i].entry = e;
	sc->soa[i].found = found;
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

/* The serial's bytes inside the entry of copy i of the SOA. */
static int locate_token(const scan_t *sc, unsigned i, const char *t, const char *name,
                        zt_span_t *out, uint64_t *soa_line)
{
	const zt_entry_t *e = &sc->soa[i].entry;
	if (!sc->soa[i].in_main) {
		return fail(sc->err, SS_ENOTFOUND, sc->soa[i].file, sc->soa[i].line,
		            "the SOA record is in this $INCLUDEd file: bump that file instead");
	}
	if (!sc->soa[i].found) {
		return fail(sc->err, SS_ENOTFOUND, name, sc->soa[i].line,
		            "cannot find the text of the SOA record");
	}
	*soa_line = line_of(t, e->start);
	int ti = type_index(t, e);
	uint32_t v = 0;
	if (ti < 0 || (size_t)ti + 3 >= e->ntok || ti + 3 >= ZT_MAX_TOK) {
		return fail(sc->err, SS_ENOTFOUND, name, *soa_line,
		            "cannot find the SOA serial in the record's text");
	}
	zt_span_t st = e->tok[ti + 3];
	/* Generic rdata (RFC 3597) is hex: its third token may even have the
	 * serial's value by chance. */
	bool generic = zt_tok_is(t, e->tok[ti + 1], "\\#");
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
	memset(out, 0, sizeof(*out));
	for (unsigned i = 0; i < sc->nsoa; i++) {
		zt_span_t st = {0, 0};
		uint64_t soa_line = 0;
		int ret = locate_token(sc, i, t, name, &st, &soa_line);
		if (ret != 0) {
			return ret;
		}
		size_t start = t == orig ? st.start : unstrip(orig, olen, st.start);
		size_t end = start + (st.end - st.start);
		if (i == 0) {
			out->start = start;
			out->end = end;
			out->line = line_of(t, st.start);
			out->soa_line = soa_line;
		} else {
			out->copy[i - 1].start = start;
			out->copy[i - 1].end = end;
			out->copy[i - 1].line = line_of(t, st.start);
		}
	}
	out->ncopies = sc->nsoa - 1;
	out->serial = sc->serial;
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
	char *stripped = prepare(text, len, &slen, &nomem);
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
	if (text == NULL || loc == NULL || loc->ncopies > SS_SERIAL_COPIES_MAX) {
		return SS_EINVAL;
	}
	size_t starts[SS_SERIAL_COPIES_MAX + 1] = {loc->start},
	                                     ends[SS_SERIAL_COPIES_MAX + 1] = {loc->end};
	size_t n = loc->ncopies + 1, removed = 0;
	for (size_t i = 1; i < n; i++) {
		starts[i] = loc->copy[i - 1].start;
		ends[i] = loc->copy[i - 1].end;
	}
	for (size_t i = 0; i < n; i++) {
		if (starts[i] > ends[i] || ends[i] > len || (i > 0 && starts[i] < ends[i - 1])) {
			return SS_EINVAL;
		}
		removed += ends[i] - starts[i];
	}
	char digits[16];
	int nd = snprintf(digits, sizeof(digits), "%" PRIu32, serial);
	size_t total = len - removed + n * (size_t)nd, at = 0, from = 0;
	char *o = malloc(total + 1);
	if (o == NULL) {
		return SS_ENOMEM;
	}
	for (size_t i = 0; i < n; i++) {
		memcpy(o + at, text + from, starts[i] - from);
		at += starts[i] - from;
		memcpy(o + at, digits, (size_t)nd);
		at += (size_t)nd;
		from = ends[i];
	}
	memcpy(o + at, text + from, len - from);
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

bool ss_serial_went_past(uint32_t old, const ss_bump_opts_t *o, uint32_t next)
{
	return o->has_above && next == o->above + 1 &&
	       ss_serial_cmp(o->above, old) == SS_SERIAL_GREATER;
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
