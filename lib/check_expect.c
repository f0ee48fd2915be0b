/*
 * Expectations are parsed with libzscanner (the TTL is detected by a default
 * no record can carry) and kept as canonical rdata sets, so comparing with a
 * server's answer is one set equality.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <libzscanner/scanner.h>

#include <soasync/error.h>
#include <soasync/expect.h>

#include "wire_pkt.h"

/* zscanner's default TTL for lines without one: larger than any TTL a
 * record may carry (RFC 2181: at most 2^31 - 1), so it marks "not given". */
#define NO_TTL UINT32_C(0xfffffff0)

const char *ss_expect_status_name(ss_expect_status_t st)
{
	static const char *names[] = {"match", "differs", "missing", "absent", "present", "error"};
	return (unsigned)st < sizeof(names) / sizeof(names[0]) ? names[st] : "error";
}

static ss_expect_t *find_or_add(ss_expect_set_t *set, const knot_dname_t *owner, uint16_t type)
{
	for (size_t i = 0; i < set->n; i++) {
		ss_expect_t *e = &set->items[i];
		if (e->type == type && knot_dname_is_case_equal(e->owner, owner)) {
			return e;
		}
	}
	ss_expect_t *grown = realloc(set->items, (set->n + 1) * sizeof(*grown));
	if (grown == NULL) {
		return NULL;
	}
	set->items = grown;
	ss_expect_t *e = &grown[set->n];
	memset(e, 0, sizeof(*e));
	e->owner = knot_dname_copy(owner, NULL);
	if (e->owner == NULL) {
		return NULL;
	}
	knot_dname_to_lower(e->owner);
	e->type = type;
	set->n++;
	return e;
}

/* Add one rdata in canonical form to a set (sorted, no duplicates). */
static int add_canonical(knot_rdataset_t *rrs, const knot_dname_t *owner, uint16_t type,
                         const uint8_t *data, uint16_t len)
{
	knot_rrset_t *one = knot_rrset_new(owner, type, KNOT_CLASS_IN, 0, NULL);
	int ret = one ? knot_rrset_add_rdata(one, data, len, NULL) : KNOT_ENOMEM;
	if (ret == KNOT_EOK) {
		ret = knot_rrset_rr_to_canonical(one);
	}
	if (ret == KNOT_EOK) {
		ret = knot_rdataset_add(rrs, one->rrs.rdata, NULL);
	}
	knot_rrset_free(one, NULL);
	return ret == KNOT_EOK ? 0 : SS_ENOMEM;
}

static int take_record(ss_expect_set_t *set, const knot_dname_t *origin, zs_scanner_t *s, char *err,
                       size_t errlen)
{
	knot_dname_storage_t owner;
	knot_dname_copy_lower(owner, s->r_owner);
	if (knot_dname_in_bailiwick(owner, origin) < 0) {
		char txt[KNOT_DNAME_TXT_MAXLEN + 1];
		knot_dname_to_str(txt, owner, sizeof(txt));
		snprintf(err, errlen, "%s is outside the zone", txt);
		return SS_EINVAL;
	}
	ss_expect_t *e = find_or_add(set, owner, s->r_type);
	if (e == NULL) {
		return SS_ENOMEM;
	}
	if (e->absent) {
		snprintf(err, errlen, "the same name and type is also expected absent");
		return SS_EINVAL;
	}
	if (s->r_ttl != NO_TTL && !e->ttl_given) {
		e->ttl_given = true;
		e->ttl = s->r_ttl;
	}
	return add_canonical(&e->rrs, owner, s->r_type, s->r_data, (uint16_t)s->r_data_length);
}

/* "FILE:LINE: " for files; nothing for a single --expect line. */
static void where(char *err, size_t errlen, const char *what, const zs_scanner_t *s,
                  const char *why)
{
	if (*what) {
		snprintf(err, errlen, "%s:%llu: %s", what, (unsigned long long)s->line_counter,
		         why);
	} else {
		snprintf(err, errlen, "%s", why);
	}
}

/* Parse all records of the scanner's input into set. */
static int parse_all(ss_expect_set_t *set, const knot_dname_t *origin, zs_scanner_t *s,
                     const char *what, char *err, size_t errlen)
{
	int ret = 0, records = 0;
	while (ret == 0 && zs_parse_record(s) == 0) {
		if (s->state == ZS_STATE_DATA) {
			records++;
			char why[1100] = "";
			ret = take_record(set, origin, s, why, sizeof(why));
			if (ret != 0) {
				where(err, errlen, what, s, why);
			}
		} else if (s->state == ZS_STATE_ERROR) {
			where(err, errlen, what, s, zs_strerror(s->error.code));
			ret = SS_EPARSE;
		} else if (s->state == ZS_STATE_INCLUDE) {
			where(err, errlen, what, s, "$INCLUDE is not supported here");
			ret = SS_EPARSE;
		} else if (s->state == ZS_STATE_EOF || s->state == ZS_STATE_STOP) {
			break;
		}
	}
	if (ret == 0 && s->state == ZS_STATE_ERROR) {
		snprintf(err, errlen, "%s: %s", *what ? what : "input", zs_strerror(s->error.code));
		ret = SS_EPARSE;
	}
	if (ret == 0 && records == 0) {
		snprintf(err, errlen, "%s: no record", *what ? what : "input");
		ret = SS_EPARSE;
	}
	return ret;
}

static zs_scanner_t *scanner_for(const knot_dname_t *origin)
{
	char o[KNOT_DNAME_TXT_MAXLEN + 1];
	zs_scanner_t *s = malloc(sizeof(*s));
	if (s == NULL || knot_dname_to_str(o, origin, sizeof(o)) == NULL ||
	    zs_init(s, o, KNOT_CLASS_IN, NO_TTL) != 0) {
		free(s);
		return NULL;
	}
	return s;
}

int ss_expect_add_line(ss_expect_set_t *set, const knot_dname_t *origin, const char *line,
                       char *err, size_t errlen)
{
	zs_scanner_t *s = scanner_for(origin);
	if (s == NULL) {
		return SS_ENOMEM;
	}
	char *text = NULL;
	int ret = SS_ENOMEM;
	if (asprintf(&text, "%s\n", line) >= 0 && zs_set_input_string(s, text, strlen(text)) == 0) {
		ret = parse_all(set, origin, s, "", err, errlen);
	}
	free(text);
	zs_deinit(s);
	free(s);
	return ret;
}

int ss_expect_add_file(ss_expect_set_t *set, const knot_dname_t *origin, const char *path,
                       char *err, size_t errlen)
{
	zs_scanner_t *s = scanner_for(origin);
	if (s == NULL) {
		return SS_ENOMEM;
	}
	int ret = SS_EIO;
	if (zs_set_input_file(s, path) != 0) {
		snprintf(err, errlen, "%s: %s", path, zs_strerror(s->error.code));
	} else {
		ret = parse_all(set, origin, s, path, err, errlen);
	}
	zs_deinit(s);
	free(s);
	return ret;
}

/* A name in presentation form ends in an unescaped dot ("a\." does not). */
static bool absolute(const char *name, size_t n)
{
	size_t slashes = 0;
	while (slashes + 1 < n && name[n - 2 - slashes] == '\\') {
		slashes++;
	}
	return n > 0 && name[n - 1] == '.' && slashes % 2 == 0;
}

/* "NAME" relative to origin ("@" is the origin) into out. */
static int name_in_zone(const char *name, const knot_dname_t *origin, knot_dname_storage_t out)
{
	char o[KNOT_DNAME_TXT_MAXLEN + 1], full[2 * KNOT_DNAME_TXT_MAXLEN + 2];
	knot_dname_to_str(o, origin, sizeof(o));
	size_t n = strlen(name);
	if (strcmp(name, "@") == 0) {
		snprintf(full, sizeof(full), "%s", o);
	} else if (absolute(name, n)) {
		snprintf(full, sizeof(full), "%s", name);
	} else {
		snprintf(full, sizeof(full), "%s.%s", name, strcmp(o, ".") == 0 ? "" : o);
	}
	return knot_dname_from_str(out, full, KNOT_DNAME_MAXLEN) ? 0 : SS_EPARSE;
}

int ss_expect_add_absent(ss_expect_set_t *set, const knot_dname_t *origin, const char *line,
                         char *err, size_t errlen)
{
	char name[KNOT_DNAME_TXT_MAXLEN + 1], type[32], extra[2];
	knot_dname_storage_t owner;
	uint16_t t = 0;
	if (sscanf(line, " %255s %31s %1s", name, type, extra) != 2) {
		snprintf(err, errlen, "'%s': expected NAME TYPE", line);
		return SS_EPARSE;
	}
	if (name_in_zone(name, origin, owner) != 0 || knot_rrtype_from_string(type, &t) != 0) {
		snprintf(err, errlen, "'%s': expected NAME TYPE", line);
		return SS_EPARSE;
	}
	knot_dname_to_lower(owner);
	if (knot_dname_in_bailiwick(owner, origin) < 0) {
		snprintf(err, errlen, "%s is outside the zone", name);
		return SS_EINVAL;
	}
	ss_expect_t *e = find_or_add(set, owner, t);
	if (e == NULL) {
		return SS_ENOMEM;
	}
	if (e->rrs.count > 0) {
		snprintf(err, errlen, "'%s' is also expected present", line);
		return SS_EINVAL;
	}
	e->absent = true;
	return 0;
}

void ss_expect_set_clear(ss_expect_set_t *set)
{
	for (size_t i = 0; i < set->n; i++) {
		free(set->items[i].owner);
		knot_rdataset_clear(&set->items[i].rrs, NULL);
	}
	free(set->items);
	set->items = NULL;
	set->n = 0;
}

/* ---- judging answers ------------------------------------------------------ */

void ss_expect_obs_clear(ss_expect_obs_t *o)
{
	for (size_t i = 0; i < o->nserved; i++) {
		free(o->served[i]);
	}
	free(o->served);
	free(o->error);
	memset(o, 0, sizeof(*o));
}

/* libknot's dump aligns with tabs and spaces: one space between fields reads
 * better in a message (quoted strings are left alone). */
static char *squeeze(const char *in)
{
	char *out = malloc(strlen(in) + 1);
	if (out == NULL) {
		return NULL;
	}
	size_t n = 0;
	bool quoted = false, space = false;
	for (const char *p = in; *p; p++) {
		if (*p == '"' && (p == in || p[-1] != '\\')) {
			quoted = !quoted;
		}
		if (!quoted && (*p == ' ' || *p == '\t')) {
			space = true;
			continue;
		}
		if (space && n > 0) {
			out[n++] = ' ';
		}
		space = false;
		out[n++] = *p;
	}
	out[n] = '\0';
	return out;
}

/* One string per record of rr, in presentation form. */
static int texts_of(const knot_rrset_t *rr, char ***out)
{
	size_t size = 1024;
	char *buf = malloc(size);
	*out = NULL;
	if (buf == NULL || knot_rrset_txt_dump(rr, &buf, &size, &KNOT_DUMP_STYLE_DEFAULT) < 0) {
		free(buf);
		return -1;
	}
	char **arr = calloc(rr->rrs.count + 1, sizeof(*arr));
	int n = 0;
	char *save = NULL;
	for (char *line = strtok_r(buf, "\n", &save); arr && line && n < rr->rrs.count;
	     line = strtok_r(NULL, "\n", &save)) {
		arr[n++] = squeeze(line);
	}
	free(buf);
	*out = arr;
	return arr ? n : -1;
}

/* "owner TTL TYPE data" -> "owner TYPE data", in place. */
static void drop_ttl(char *s)
{
	char *sp1 = strchr(s, ' ');
	char *sp2 = sp1 ? strchr(sp1 + 1, ' ') : NULL;
	if (sp2 != NULL) {
		memmove(sp1, sp2, strlen(sp2) + 1);
	}
}

int ss_expect_texts(const ss_expect_t *e, char ***out)
{
	knot_rrset_t rr;
	knot_rrset_init(&rr, e->owner, e->type, KNOT_CLASS_IN, e->ttl_given ? e->ttl : 0);
	rr.rrs = e->rrs;
	int n = texts_of(&rr, out);
	for (int i = 0; !e->ttl_given && i < n; i++) {
		if ((*out)[i] != NULL) {
			drop_ttl((*out)[i]);
		}
	}
	return n;
}

static bool same_data(const ss_expect_t *e, const knot_rrset_t *served)
{
	knot_rdataset_t canon = {0};
	knot_rdata_t *rd = served->rrs.rdata;
	for (uint16_t i = 0; i < served->rrs.count; i++, rd = knot_rdataset_next(rd)) {
		if (add_canonical(&canon, e->owner, e->type, rd->data, rd->len) != 0) {
			knot_rdataset_clear(&canon, NULL);
			return false;
		}
	}
	bool eq = knot_rdataset_eq(&canon, &e->rrs) && (!e->ttl_given || served->ttl == e->ttl);
	knot_rdataset_clear(&canon, NULL);
	return eq;
}

void ss_expect_judge(const ss_expect_t *e, const knot_pkt_t *pkt, const char *error,
                     ss_expect_obs_t *out)
{
	memset(out, 0, sizeof(*out));
	if (pkt == NULL) {
		out->status = SS_EXPECT_ERROR;
		out->error = strdup(error ? error : "no answer");
		return;
	}
	knot_rrset_t *served = NULL;
	if (knot_wire_get_rcode(pkt->wire) == KNOT_RCODE_NOERROR) {
		served = ss_pkt_collect(pkt, KNOT_ANSWER, e->type, e->owner);
		if (served == NULL && e->type != KNOT_RRTYPE_CNAME) {
			served = ss_pkt_collect(pkt, KNOT_ANSWER, KNOT_RRTYPE_CNAME, e->owner);
		}
	}
	if (served != NULL) {
		int n = texts_of(served, &out->served);
		out->nserved = n > 0 ? (size_t)n : 0;
	}
	if (e->absent) {
		out->status = served ? SS_EXPECT_PRESENT : SS_EXPECT_ABSENT;
	} else if (served == NULL) {
		out->status = SS_EXPECT_MISSING;
	} else {
		out->status = served->type == e->type && same_data(e, served) ? SS_EXPECT_MATCH
		                                                              : SS_EXPECT_DIFFERS;
	}
	knot_rrset_free(served, NULL);
}
