/*
 * The content phase: transfers first (every target at once), then, when all
 * have ended, the comparisons that need the reference's zone: record-level
 * diffs, the zone file against the served zone, and RRset-by-RRset queries
 * of the servers that refused to transfer.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <soasync/content.h>
#include <soasync/error.h>
#include <soasync/xfr.h>

#include "check_observe.h"
#include "util_strbuf.h"

#define DEFAULT_QUERY_LIMIT 5000u
#define SHOW_DIFFS          5u
#define TEXT_CUT            160u

typedef struct content content_t;

struct content {
	ss_engine_t *e;
	ss_zone_result_t *res;
	ss_content_opts_t o;
	ss_content_cb cb;
	void *arg;
	int pending;
	void (*next)(content_t *c);
	ss_zone_t **zones;  /* per server */
	ss_zone_t **czones; /* per candidate */
	ss_zone_t *file;
	char *text;     /* SS_RR_TEXT_MAX scratch for presentation form */
	bool *compared; /* per server: its content was compared with the reference */
};

typedef struct {
	content_t *c;
	size_t idx;
	bool candidate;
} job_t;

static void phase_compare(content_t *c);
static void finish(content_t *c);

bool ss_content_wanted(const ss_content_opts_t *o)
{
	return o->all || o->zonefile != NULL || o->ncandidates > 0;
}

static void unref(content_t *c)
{
	if (--c->pending == 0) {
		c->next(c);
	}
}

static ss_server_obs_t *obs_of(content_t *c, size_t idx, bool candidate)
{
	ss_zone_obs_t *o = &c->res->obs;
	return candidate ? &o->candidates[idx] : &o->servers[idx];
}

/* ---- transfers ------------------------------------------------------------ */

/* The zone model's ZONEMD verdict on a copy, and which schemes and hash
 * algorithms its apex ZONEMD records use (RFC 8976 2: serial, scheme, hash,
 * digest). */
static void observe_zonemd(const ss_zone_t *z, ss_zonemd_status_t *st, char **detail,
                           ss_zonemd_list_t *list)
{
	ss_zonemd_verdict_t v;
	*st = ss_zone_zonemd_check(z, &v);
	if (v.detail[0] != '\0') {
		*detail = strdup(v.detail);
	}
	*list = v.list;
}

static void transferred(ss_zone_t *zone, const ss_xfr_result_t *r, void *arg)
{
	job_t *j = arg;
	content_t *c = j->c;
	ss_server_obs_t *s = obs_of(c, j->idx, j->candidate);
	ss_xfr_state_t st = r->error == 0             ? SS_XFR_ALLOWED
	                    : r->error == SS_EREFUSED ? SS_XFR_REFUSED
	                                              : SS_XFR_FAILED;
	if (c->o.tsig != NULL) {
		s->axfr_tsig = st;
	} else {
		s->axfr = st;
	}
	if (zone != NULL) {
		s->content = SS_CONTENT_DIGEST;
		s->has_digest = ss_zone_digest(zone, false, s->digest) == 0;
		ss_zone_serial(zone, &s->xfr_serial);
		s->xfr_records = ss_zone_count(zone);
		observe_zonemd(zone, &s->zonemd, &s->zonemd_detail, &s->zonemd_list);
		(j->candidate ? c->czones : c->zones)[j->idx] = zone;
	} else {
		s->content = SS_CONTENT_FAILED;
		s->xfr_too_large = r->error == SS_ELIMIT;
		free(s->xfr_error);
		if (asprintf(&s->xfr_error, "AXFR%s: %s", c->o.tsig ? " with the key" : "",
		             r->detail) < 0) {
			s->xfr_error = NULL;
		}
	}
	free(j);
	unref(c);
}

static void start_transfer(content_t *c, size_t idx, bool candidate)
{
	job_t *j = calloc(1, sizeof(*j));
	if (j == NULL) {
		return;
	}
	*j = (job_t){c, idx, candidate};
	ss_xfr_opts_t o = {
	    .server = obs_of(c, idx, candidate)->addr,
	    .zone = c->res->obs.zone,
	    .tsig = c->o.tsig,
	    .limit_ms = c->o.limit_ms,
	};
	c->pending++;
	if (ss_zone_transfer(c->e, &o, transferred, j) != 0) {
		c->pending--;
		free(j);
	}
}

static void candidate_soa(const ss_response_t *r, void *arg)
{
	job_t *j = arg;
	content_t *c = j->c;
	ss_obs_from_soa_response(obs_of(c, j->idx, true), c->res->obs.zone, r);
	free(j);
	unref(c);
}

static void start_candidate(content_t *c, size_t idx)
{
	ss_server_obs_t *s = obs_of(c, idx, true);
	job_t *j = calloc(1, sizeof(*j));
	if (j == NULL) {
		return;
	}
	*j = (job_t){c, idx, true};
	ss_query_t q = {.server = s->addr, .qname = c->res->obs.zone, .qtype = KNOT_RRTYPE_SOA};
	c->pending++;
	if (ss_engine_query(c->e, &q, candidate_soa, j) != 0) {
		c->pending--;
		free(j);
	}
	start_transfer(c, idx, true);
}

static void load_zonefile(content_t *c)
{
	ss_zone_obs_t *o = &c->res->obs;
	ss_zone_error_t err;
	o->zonefile = strdup(c->o.zonefile);
	int ret = ss_zone_load_file(c->o.zonefile, o->zone, c->o.zonefile_ttl, &c->file, &err);
	if (ret != 0) {
		ss_strbuf_t b = SS_STRBUF_INIT;
		ss_strbuf_printf(&b, "%s", err.file[0] ? err.file : c->o.zonefile);
		if (err.line > 0) {
			ss_strbuf_printf(&b, ":%llu", (unsigned long long)err.line);
		}
		ss_strbuf_printf(&b, ": %s", err.message[0] ? err.message : ss_strerror(ret));
		o->zonefile_error = ss_strbuf_take(&b);
		return;
	}
	o->has_zonefile_serial = ss_zone_serial(c->file, &o->zonefile_serial) == 0;
	observe_zonemd(c->file, &o->zonefile_zonemd, &o->zonefile_zonemd_detail,
	               &o->zonefile_zonemd_list);
}

static void phase_transfers(content_t *c)
{
	ss_zone_result_t *res = c->res;
	ss_zone_obs_t *o = &res->obs;
	long ref = ss_zone_reference_server(res);
	for (size_t i = 0; i < o->nservers; i++) {
		const ss_server_obs_t *s = &o->servers[i];
		bool want =
		    s->has_soa &&
		    (c->o.all || (c->o.zonefile && (long)i == ref) ||
		     (c->o.ncandidates > 0 && (s->verdict == SS_VERDICT_BEHIND || (long)i == ref)));
		if (want) {
			start_transfer(c, i, false);
		}
	}
	for (size_t j = 0; j < o->ncandidates; j++) {
		start_candidate(c, j);
	}
}

/* ---- record-level differences ---------------------------------------------- */

typedef struct {
	content_t *c;
	size_t n;
	ss_strbuf_t text;
} diffs_t;

static int on_diff(int side, const ss_zone_t *z, size_t index, void *arg)
{
	diffs_t *d = arg;
	ss_rr_t rr;
	ss_zone_rr(z, index, &rr);
	if (rr.type == KNOT_RRTYPE_SOA) {
		return 0; /* serials and SOA fields are judged on their own */
	}
	if (d->n++ >= SHOW_DIFFS) {
		return 0;
	}
	if (ss_zone_rr_to_text(z, index, d->c->text, SS_RR_TEXT_MAX) < 0) {
		return 0;
	}
	ss_strbuf_printf(&d->text, "%s%c %.*s%s", d->n > 1 ? "; " : "", side < 0 ? '-' : '+',
	                 (int)TEXT_CUT, d->c->text, strlen(d->c->text) > TEXT_CUT ? "..." : "");
	return 0;
}

/* Differences from a to b: count, and a few of them in words (owned). */
static size_t zone_diffs(content_t *c, const ss_zone_t *a, const ss_zone_t *b, char **text)
{
	diffs_t d = {c, 0, SS_STRBUF_INIT};
	ss_zone_diff(a, b, false, on_diff, &d, NULL);
	if (d.n > SHOW_DIFFS) {
		ss_strbuf_printf(&d.text, "; and %zu more", d.n - SHOW_DIFFS);
	}
	*text = d.n ? ss_strbuf_take(&d.text) : NULL;
	ss_strbuf_free(&d.text);
	return d.n;
}

/* ---- comparing by queries --------------------------------------------------- */

typedef struct {
	content_t *c;
	long server;     /* index to fill, or -1 for the zone file against the reference */
	long asked;      /* index of the server asked */
	const char *who; /* whose answer a difference shows: "" (the server) or "the primary " */
	size_t ndiff, compared;
	ss_strbuf_t text;
	int pending;
} qcmp_t;

typedef struct {
	qcmp_t *q;
	ss_expect_t e;
} qone_t;

static void qcmp_done(qcmp_t *q)
{
	content_t *c = q->c;
	ss_zone_obs_t *o = &c->res->obs;
	char *text = q->ndiff ? ss_strbuf_take(&q->text) : NULL;
	ss_strbuf_free(&q->text);
	ss_server_obs_t *asked = &o->servers[q->asked];
	if (asked->content != SS_CONTENT_DIGEST && q->compared + q->ndiff > 0) {
		asked->content = SS_CONTENT_QUERIED;
	}
	if (q->server >= 0) {
		ss_server_obs_t *s = &o->servers[q->server];
		if (s->content != SS_CONTENT_DIGEST) {
			s->content =
			    q->compared + q->ndiff > 0 ? SS_CONTENT_QUERIED : SS_CONTENT_FAILED;
		}
		c->compared[q->server] = q->compared + q->ndiff > 0;
		s->content_compared = q->compared + q->ndiff;
		s->content_differs = q->ndiff > 0;
		s->content_ndiff = q->ndiff;
		s->content_diff = text;
	} else {
		o->zonefile_compared = q->compared + q->ndiff > 0;
		o->zonefile_differs = q->ndiff > 0;
		o->zonefile_ndiff = q->ndiff;
		o->zonefile_diff = text;
	}
	free(q);
	unref(c);
}

static void qone_answered(const ss_response_t *r, void *arg)
{
	qone_t *one = arg;
	qcmp_t *q = one->q;
	/* Only authoritative answers compare; below a delegation there are none. */
	if (r->error == 0 && r->aa &&
	    (r->rcode == KNOT_RCODE_NOERROR || r->rcode == KNOT_RCODE_NXDOMAIN)) {
		ss_expect_obs_t x;
		ss_expect_judge(&one->e, r->pkt, NULL, &x);
		if (x.status == SS_EXPECT_MATCH) {
			q->compared++;
		} else if (q->ndiff++ < SHOW_DIFFS) {
			char n[KNOT_DNAME_TXT_MAXLEN + 1], t[32];
			knot_dname_to_str(n, one->e.owner, sizeof(n));
			knot_rrtype_to_string(one->e.type, t, sizeof(t));
			ss_strbuf_printf(&q->text, "%s%s %s: %sserves %s", q->ndiff > 1 ? "; " : "",
			                 n, t, q->who, x.nserved ? "" : "nothing");
			for (size_t i = 0; i < x.nserved && i < 3; i++) {
				ss_strbuf_printf(&q->text, "%s%.*s", i ? " | " : "", (int)TEXT_CUT,
				                 x.served[i]);
			}
		}
		ss_expect_obs_clear(&x);
	}
	knot_rdataset_clear(&one->e.rrs, NULL);
	free(one->e.owner);
	free(one);
	if (--q->pending == 0) {
		qcmp_done(q);
	}
}

/* One query for the RRset of zone z starting at record i. */
static void ask_rrset(qcmp_t *q, const ss_addr_t *addr, const ss_zone_t *z, size_t i, size_t end)
{
	ss_rr_t rr;
	ss_zone_rr(z, i, &rr);
	qone_t *one = calloc(1, sizeof(*one));
	if (one == NULL || (one->e.owner = knot_dname_copy(rr.owner, NULL)) == NULL) {
		free(one);
		return;
	}
	one->q = q;
	one->e.type = rr.type;
	one->e.ttl_given = true;
	one->e.ttl = rr.ttl;
	for (size_t k = i; k < end; k++) {
		ss_zone_rr(z, k, &rr);
		uint8_t buf[2 + 65536 + 1];
		knot_rdata_t *rd = (knot_rdata_t *)buf;
		knot_rdata_init(rd, rr.rdlen, rr.rdata);
		knot_rdataset_add(&one->e.rrs, rd, NULL);
	}
	ss_query_t qq = {
	    .server = *addr, .qname = one->e.owner, .qtype = one->e.type, .flags = SS_QF_EDNS};
	q->pending++;
	if (ss_engine_query(q->c->e, &qq, qone_answered, one) != 0) {
		q->pending--;
		knot_rdataset_clear(&one->e.rrs, NULL);
		free(one->e.owner);
		free(one);
	}
}

/* Ask addr for every RRset of z (but the SOA), up to the query limit; the
 * outcome goes to server (or to the zone file when -1). */
static void compare_by_queries(content_t *c, long server, long asked, const ss_zone_t *z,
                               const char *who)
{
	qcmp_t *q = calloc(1, sizeof(*q));
	if (q == NULL) {
		return;
	}
	const ss_addr_t *addr = &c->res->obs.servers[asked].addr;
	q->c = c;
	q->server = server;
	q->asked = asked;
	q->who = who;
	q->pending = 1; /* guard */
	c->pending++;
	size_t n = ss_zone_count(z), sent = 0;
	unsigned limit = c->o.query_limit ? c->o.query_limit : DEFAULT_QUERY_LIMIT;
	for (size_t i = 0; i < n && sent < limit;) {
		ss_rr_t a, b;
		ss_zone_rr(z, i, &a);
		size_t end = i + 1;
		while (end < n && (ss_zone_rr(z, end, &b), b.type == a.type) &&
		       knot_dname_is_equal(b.owner, a.owner)) {
			end++;
		}
		if (a.type != KNOT_RRTYPE_SOA) {
			ask_rrset(q, addr, z, i, end);
			sent++;
		}
		i = end;
	}
	if (--q->pending == 0) {
		qcmp_done(q);
	}
}

/* ---- comparisons ------------------------------------------------------------ */

/* The check model's verdict, from the analysis before this phase. */
static bool at_reference(const ss_server_obs_t *s)
{
	return s->verdict == SS_VERDICT_AT_REFERENCE;
}

/* The reference transferred: diff every transferred copy with it, ask the
 * others RRset by RRset (with --content). */
static void compare_with_zone(content_t *c, long ref, const ss_zone_t *refz)
{
	ss_zone_result_t *res = c->res;
	ss_zone_obs_t *o = &res->obs;
	for (size_t i = 0; i < o->nservers; i++) {
		ss_server_obs_t *s = &o->servers[i];
		if ((long)i == ref || !at_reference(s)) {
			continue;
		}
		if (c->zones[i] != NULL) {
			s->content_ndiff = zone_diffs(c, refz, c->zones[i], &s->content_diff);
			s->content_differs = s->content_ndiff > 0;
			c->compared[i] = true;
		} else if (c->o.all) {
			compare_by_queries(c, (long)i, (long)i, refz, "");
		}
	}
}

/* The reference refused to transfer: ask it for every RRset of each distinct
 * transferred copy (copies with the same digest share the outcome); servers
 * that refused too can only be held against a zone file at the reference
 * serial. */
static void compare_with_server(content_t *c, long ref, const ss_zone_t *file_at_ref)
{
	ss_zone_result_t *res = c->res;
	ss_zone_obs_t *o = &res->obs;
	const char *who = res->has_primary ? "the primary " : "the reference server ";
	for (size_t i = 0; i < o->nservers; i++) {
		ss_server_obs_t *s = &o->servers[i];
		if ((long)i == ref || !at_reference(s)) {
			continue;
		}
		bool seen = false;
		for (size_t j = 0; j < i && !seen; j++) {
			const ss_server_obs_t *t = &o->servers[j];
			seen = (long)j != ref && c->zones[j] != NULL && s->has_digest &&
			       t->has_digest && at_reference(t) &&
			       memcmp(t->digest, s->digest, sizeof(s->digest)) == 0;
		}
		if (c->zones[i] != NULL && !seen) {
			compare_by_queries(c, (long)i, ref, c->zones[i], who);
		} else if (c->zones[i] == NULL && c->o.all && file_at_ref != NULL) {
			compare_by_queries(c, (long)i, (long)i, file_at_ref, "");
		}
	}
}

/* Copies with the same digest as a compared one share its outcome. */
static void share_outcomes(content_t *c)
{
	ss_zone_obs_t *o = &c->res->obs;
	for (size_t i = 0; i < o->nservers; i++) {
		ss_server_obs_t *s = &o->servers[i];
		for (size_t j = 0; !c->compared[i] && s->has_digest && j < o->nservers; j++) {
			const ss_server_obs_t *t = &o->servers[j];
			if (c->compared[j] && t->has_digest && t->soa.serial == s->soa.serial &&
			    memcmp(t->digest, s->digest, sizeof(s->digest)) == 0) {
				s->content_differs = t->content_differs;
				s->content_ndiff = t->content_ndiff;
				s->content_diff = t->content_diff ? strdup(t->content_diff) : NULL;
				c->compared[i] = true;
			}
		}
	}
}

static void compare_zonefile(content_t *c, long ref, const ss_zone_t *served)
{
	ss_zone_obs_t *o = &c->res->obs;
	if (c->file == NULL || ref < 0) {
		return;
	}
	if (served != NULL) {
		o->zonefile_compared = true;
		o->zonefile_ndiff = zone_diffs(c, served, c->file, &o->zonefile_diff);
		/* The serial itself is judged apart: only other data counts here. */
		uint8_t a[SS_DIGEST_LEN], b[SS_DIGEST_LEN];
		o->zonefile_differs = ss_zone_digest(served, false, a) == 0 &&
		                      ss_zone_digest(c->file, false, b) == 0 &&
		                      memcmp(a, b, sizeof(a)) != 0;
		return;
	}
	compare_by_queries(c, -1, ref, c->file, "");
}

static void phase_compare(content_t *c)
{
	ss_zone_result_t *res = c->res;
	long ref = ss_zone_reference_server(res);
	const ss_zone_t *refz = ref >= 0 ? c->zones[ref] : NULL;
	/* A zone file stands in for served data only at the very serial served. */
	bool file_current = c->file != NULL && res->obs.has_zonefile_serial && res->has_reference &&
	                    res->obs.zonefile_serial == res->reference_serial;
	c->pending = 1; /* guard */
	c->next = finish;
	if (refz != NULL) {
		compare_with_zone(c, ref, refz);
	} else if (ref >= 0) {
		compare_with_server(c, ref, file_current ? c->file : NULL);
	}
	compare_zonefile(c, ref, refz);
	unref(c);
}

static void finish(content_t *c)
{
	ss_zone_obs_t *o = &c->res->obs;
	share_outcomes(c);
	for (size_t i = 0; i < o->nservers; i++) {
		ss_zone_free(c->zones[i]);
	}
	for (size_t i = 0; i < o->ncandidates; i++) {
		ss_zone_free(c->czones[i]);
	}
	ss_zone_free(c->file);
	free(c->zones);
	free(c->czones);
	free(c->text);
	free(c->compared);
	ss_content_cb cb = c->cb;
	ss_zone_result_t *res = c->res;
	void *arg = c->arg;
	free(c);
	cb(res, arg);
}

int ss_content_run(ss_engine_t *e, ss_zone_result_t *res, const ss_content_opts_t *o,
                   ss_content_cb cb, void *arg)
{
	ss_zone_obs_t *obs = &res->obs;
	content_t *c = calloc(1, sizeof(*c));
	if (c == NULL) {
		return SS_ENOMEM;
	}
	*c = (content_t){.e = e, .res = res, .o = *o, .cb = cb, .arg = arg};
	c->zones = calloc(obs->nservers + 1, sizeof(*c->zones));
	c->czones = calloc(o->ncandidates + 1, sizeof(*c->czones));
	c->text = malloc(SS_RR_TEXT_MAX);
	c->compared = calloc(obs->nservers + 1, sizeof(*c->compared));
	obs->candidates = calloc(o->ncandidates + 1, sizeof(*obs->candidates));
	if (c->zones == NULL || c->czones == NULL || c->text == NULL || c->compared == NULL ||
	    obs->candidates == NULL) {
		free(c->zones);
		free(c->czones);
		free(c->text);
		free(c->compared);
		free(c);
		return SS_ENOMEM;
	}
	for (size_t i = 0; i < o->ncandidates; i++) {
		obs->candidates[i].addr = o->candidates[i];
		obs->candidates[i].rcode = -1;
	}
	obs->ncandidates = o->ncandidates;
	obs->content_check = o->all;
	obs->have_tsig = o->tsig != NULL;
	if (o->zonefile != NULL) {
		load_zonefile(c);
	}
	c->pending = 1; /* guard */
	c->next = phase_compare;
	phase_transfers(c);
	unref(c);
	return 0;
}
