/*
 * Fuzz target: the in-place SOA serial locator.
 *
 * Whenever ss_serial_locate() succeeds, its answer must be safe to act on:
 * the located bytes are the decimal digits of the serial, and writing another
 * serial there (of another length too) gives text that libzscanner parses to
 * exactly the same records, except that the SOA now carries the new serial.
 * The records are compared independently of the locator: this harness
 * parses both texts itself (CR LF taken out its own way) in zscanner's
 * automatic mode.
 *
 * Two modes. An input starting with byte 0x01 drives a generator of valid
 * zone texts in many styles (owners, TTL and class order, parentheses
 * anywhere, comments and newlines inside them, escapes, CR LF, records
 * before and after): zscanner is not instrumented, so raw mutations rarely
 * get past it. A generated SOA that parses must also be located: a refusal
 * there is a bug too. Any other input is taken as zone text as it is.
 *
 * FUZZ_SERIAL_STRICT=1 also aborts when raw text that zscanner parses with
 * one SOA is refused as not editable: to look for tokenizer gaps by hand.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libzscanner/scanner.h>

#include <soasync/error.h>
#include <soasync/serialedit.h>

#include "zone_text.h"

#define MAX_INPUT   65536
#define MAX_RECORDS 4096

typedef struct {
	uint8_t owner[KNOT_DNAME_MAXLEN];
	uint16_t type, rclass;
	uint32_t ttl;
	uint16_t rdlen;
	uint8_t *rdata;
} rec_t;

typedef struct {
	rec_t *recs;
	size_t n;
	bool overflow;
} recs_t;

static void on_record(zs_scanner_t *s)
{
	recs_t *r = s->process.data;
	if (r->n >= MAX_RECORDS) {
		r->overflow = true;
		return;
	}
	rec_t *x = &r->recs[r->n++];
	memcpy(x->owner, s->r_owner, s->r_owner_length);
	x->type = s->r_type;
	x->rclass = s->r_class;
	x->ttl = s->r_ttl;
	x->rdlen = (uint16_t)s->r_data_length;
	x->rdata = malloc(s->r_data_length + 1);
	if (x->rdata == NULL) {
		abort();
	}
	memcpy(x->rdata, s->r_data, s->r_data_length);
}

/* Parse text (CR LF made LF) into r; returns the scanner's error count. */
static uint64_t parse(const char *text, size_t len, recs_t *r)
{
	char *lf = malloc(len + 1);
	zs_scanner_t *s = malloc(sizeof(*s));
	if (lf == NULL || s == NULL) {
		abort();
	}
	size_t n = 0;
	for (size_t i = 0; i < len; i++) {
		if (!(text[i] == '\r' && i + 1 < len && text[i + 1] == '\n')) {
			lf[n++] = text[i];
		}
	}
	r->recs = calloc(MAX_RECORDS, sizeof(rec_t));
	r->n = 0;
	r->overflow = false;
	uint64_t errors = 1;
	if (r->recs != NULL && zs_init(s, "example.com.", KNOT_CLASS_IN, 3600) == 0) {
		zs_set_input_string(s, lf, n);
		zs_set_processing(s, on_record, NULL, r);
		zs_parse_all(s);
		errors = s->error.counter;
		zs_deinit(s);
	}
	free(s);
	free(lf);
	return errors;
}

static void free_recs(recs_t *r)
{
	for (size_t i = 0; i < r->n; i++) {
		free(r->recs[i].rdata);
	}
	free(r->recs);
}

static uint32_t soa_serial_at(const rec_t *x)
{
	size_t m = knot_dname_size(x->rdata);
	size_t k = knot_dname_size(x->rdata + m);
	return knot_wire_read_u32(x->rdata + m + k);
}

/* Same records, but the SOA's serial (in every one of its copies) is now
 * `serial`. */
static void check_same_but_serial(const recs_t *a, const recs_t *b, uint32_t serial, size_t copies)
{
	if (a->n != b->n || a->overflow != b->overflow) {
		abort();
	}
	unsigned soas = 0;
	for (size_t i = 0; i < a->n; i++) {
		const rec_t *x = &a->recs[i], *y = &b->recs[i];
		if (x->type != y->type || x->rclass != y->rclass || x->ttl != y->ttl ||
		    x->rdlen != y->rdlen || !knot_dname_is_equal(x->owner, y->owner)) {
			abort();
		}
		if (x->type != KNOT_RRTYPE_SOA) {
			if (memcmp(x->rdata, y->rdata, x->rdlen) != 0) {
				abort();
			}
			continue;
		}
		soas++;
		size_t off = knot_dname_size(x->rdata);
		off += knot_dname_size(x->rdata + off);
		if (memcmp(x->rdata, y->rdata, off) != 0 ||
		    memcmp(x->rdata + off + 4, y->rdata + off + 4, x->rdlen - off - 4) != 0 ||
		    soa_serial_at(y) != serial) {
			abort();
		}
	}
	if (soas != 1 + copies) {
		abort();
	}
}

static void check_replace(const char *text, size_t len, const ss_serial_loc_t *loc,
                          const recs_t *before, uint32_t serial)
{
	char *out = NULL;
	size_t olen = 0;
	if (ss_serial_replace(text, len, loc, serial, &out, &olen) != 0) {
		abort();
	}
	/* Every byte outside the digits is the same: the text between the
	 * serial's copies, shifted by what the new digits took. */
	char digits[16];
	size_t nd = (size_t)snprintf(digits, sizeof(digits), "%u", serial), from = 0, at = 0;
	for (size_t i = 0; i <= loc->ncopies; i++) {
		size_t start = i == 0 ? loc->start : loc->copy[i - 1].start;
		size_t end = i == 0 ? loc->end : loc->copy[i - 1].end;
		if (start < from || memcmp(out + at, text + from, start - from) != 0 ||
		    memcmp(out + at + (start - from), digits, nd) != 0) {
			abort();
		}
		at += start - from + nd;
		from = end;
	}
	if (olen - at != len - from || memcmp(out + at, text + from, len - from) != 0) {
		abort();
	}
	recs_t after;
	if (before == NULL) {
		free(out);
		return;
	}
	if (parse(out, olen, &after) != 0) {
		abort();
	}
	check_same_but_serial(before, &after, serial, loc->ncopies);
	free_recs(&after);
	free(out);
}

static void check_located(const char *text, size_t len, const ss_serial_loc_t *loc)
{
	/* Any number of leading zeros is a valid serial token. */
	if (loc->start >= loc->end || loc->end > len) {
		abort();
	}
	uint64_t v = 0;
	for (size_t i = loc->start; i < loc->end; i++) {
		if (text[i] < '0' || text[i] > '9') {
			abort();
		}
		v = v * 10 + (uint64_t)(text[i] - '0');
		if (v > UINT32_MAX) {
			abort();
		}
	}
	recs_t before;
	if (v != loc->serial) {
		abort();
	}
	/* $GENERATE is skipped by the locator; zscanner here does not know it:
	 * the bytes are checked, the records not. */
	bool generate = zt_may_generate(text, len);
	if (!generate && parse(text, len, &before) != 0) {
		abort();
	}
	/* Same length, another length (up or down), and the wrap. */
	const recs_t *b = generate ? NULL : &before;
	check_replace(text, len, loc, b, loc->serial + 1);
	check_replace(text, len, loc, b, loc->serial < 10 ? 4294967295u : 7);
	check_replace(text, len, loc, b, 0);
	if (!generate) {
		free_recs(&before);
	}
}

/* --- generator mode ------------------------------------------------------- */

typedef struct {
	const uint8_t *d;
	size_t n, i;
} bytes_t;

typedef struct {
	char *buf;
	size_t len, cap;
	bool crlf, open;
} out_t;

static unsigned pick(bytes_t *b, unsigned k)
{
	return b->i < b->n ? b->d[b->i++] % k : 0;
}

static void put(out_t *o, const char *str)
{
	for (; *str != '\0'; str++) {
		if (o->len + 3 > o->cap) {
			o->cap = o->cap ? o->cap * 2 : 1024;
			o->buf = realloc(o->buf, o->cap);
			if (o->buf == NULL) {
				abort();
			}
		}
		if (*str == '\n' && o->crlf) {
			o->buf[o->len++] = '\r';
		}
		o->buf[o->len++] = *str;
	}
}

static void put_one(out_t *o, bytes_t *b, const char *const *set, unsigned n)
{
	put(o, set[pick(b, n)]);
}

#define PUT_ONE(o, b, set) put_one(o, b, set, sizeof(set) / sizeof(set[0]))

/* Blanks between fields; inside parentheses also newlines and comments. */
static void sep(out_t *o, bytes_t *b)
{
	static const char *const flat[] = {" ", "\t", "   ", " \t "};
	static const char *const open[] = {" ",
	                                   "\n  ",
	                                   "\n",
	                                   " ; 2024010101 ( \" ; x\n\t",
	                                   "\n; a comment line\n  ",
	                                   "\t; ünïcode ✓\n",
	                                   "\n\n\t\t",
	                                   " ;\n"};
	if (o->open) {
		PUT_ONE(o, b, open);
	} else {
		PUT_ONE(o, b, flat);
	}
}

static void paren(out_t *o, bytes_t *b, bool opening)
{
	static const char *const before[] = {" ", "", "\t"};
	/* Inside, a closing parenthesis may come on a line of its own. */
	put(o, !opening && pick(b, 2) ? "\n   " : before[pick(b, 3)]);
	put(o, opening ? "(" : ")");
	o->open = opening;
}

static void other_records(out_t *o, bytes_t *b)
{
	static const char *const recs[] = {
	    "www IN A 192.0.2.1\n",
	    "txt IN TXT \"a ( ; b\" \"2024010101\" c\\;d\n",
	    "mx IN MX ( 10\n  mail )\n",
	    "mx2 IN MX ( 10\n  mail\n )  ; residue\n",
	    "; comment 2024010101 ( \" \n",
	    "\n",
	    "$TTL 1h\n",
	    "$ORIGIN example.com.\n",
	    "ns2024010101 3600 IN NS ns1\n",
	    "a\\.b IN TXT \"x\\\"y\"\n",
	    "  IN TXT \"no owner\"\n",
	    "txt2 TXT ( \"multi\n line\" )\n",
	};
	for (unsigned k = pick(b, 4); k > 0; k--) {
		PUT_ONE(o, b, recs);
	}
}

static void soa_head(out_t *o, bytes_t *b)
{
	static const char *const owners[] = {"@", "example.com.", "EXAMPLE.com.", "", "@\t"};
	static const char *const ttlclass[] = {"",      "IN",    "3600",   "IN 3600",
	                                       "1h IN", "in 1H", "IN 1w2d"};
	static const char *const types[] = {"SOA", "soa", "Soa"};
	put(o, owners[pick(b, 5)]);
	sep(o, b);
	const char *tc = ttlclass[pick(b, 7)];
	if (*tc != '\0') {
		put(o, tc);
		sep(o, b);
	}
	PUT_ONE(o, b, types);
}

static void soa_fields(out_t *o, bytes_t *b)
{
	static const char *const names[] = {
	    "ns1",  "ns1.example.com.", "n\\0491.example.com.", "john\\.doe", "ns2024010101", "@",
	    "h\\(x"};
	static const char *const timers[] = {"3600", "1h", "1w2d", "0", "2024010101", "15M"};
	unsigned open_at = pick(b, 8), close_at = open_at + pick(b, 8);
	for (unsigned f = 0; f < 7; f++) {
		if (f == open_at) {
			paren(o, b, true);
		}
		if (f == close_at && o->open) {
			paren(o, b, false);
		}
		sep(o, b);
		if (f < 2) {
			put(o, names[pick(b, 7)]);
		} else if (f == 2) {
			char digits[32];
			uint32_t v = (uint32_t)pick(b, 256) << 24 | (uint32_t)pick(b, 256) << 16 |
			             (uint32_t)pick(b, 256) << 8 | pick(b, 256);
			snprintf(digits, sizeof(digits), pick(b, 4) == 0 ? "%010u" : "%u", v);
			put(o, digits);
		} else {
			put(o, timers[pick(b, 6)]);
		}
	}
	if (o->open) {
		paren(o, b, false);
	}
	static const char *const ends[] = {"\n", " ; end\n", "\t\n", ""};
	put(o, ends[pick(b, 4)]);
}

/* A zone text from the bytes; the caller frees it. */
static char *generate(bytes_t *b, size_t *len)
{
	out_t o = {.crlf = pick(b, 4) == 0};
	put(&o, pick(b, 2) ? "$ORIGIN example.com.\n" : "");
	other_records(&o, b);
	soa_head(&o, b);
	soa_fields(&o, b);
	if (o.len > 0 && o.buf[o.len - 1] != '\n') {
		put(&o, "\n");
	}
	other_records(&o, b);
	if (pick(b, 3) == 0 && o.len > 0) {
		o.len -= o.crlf ? 2 : 1; /* no final newline */
	}
	put(&o, "");
	*len = o.len;
	return o.buf;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size > MAX_INPUT) {
		return 0;
	}
	bool generated = size > 0 && data[0] == 0x01;
	size_t len = size;
	char *gen = NULL;
	if (generated) {
		bytes_t b = {.d = data + 1, .n = size - 1};
		gen = generate(&b, &len);
	}
	const char *text = generated ? gen : (const char *)data;
	ss_serial_loc_t loc;
	ss_zone_error_t err;
	int r = ss_serial_locate(text, len, NULL, "example.com", SS_LOCATE_NO_INCLUDE, &loc, &err);
	if (r == 0) {
		check_located(text, len, &loc);
	} else if (r == SS_ENOTFOUND && (generated || getenv("FUZZ_SERIAL_STRICT") != NULL)) {
		fprintf(stderr, "refused: %s:%llu: %s\n%.*s\n", err.file,
		        (unsigned long long)err.line, err.message, (int)len, text);
		abort();
	}
	free(gen);
	return 0;
}
