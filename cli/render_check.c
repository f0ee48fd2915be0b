#include <stdlib.h>
#include <string.h>

#include <libknot/libknot.h>

#include <soasync/error.h>
#include <soasync/serial.h>

#include "jsonout.h"
#include "render.h"

const char *render_rcode(int rcode)
{
	if (rcode < 0) {
		return "-";
	}
	const knot_lookup_t *l = knot_lookup_by_id(knot_rcode_names, rcode);
	return l ? l->name : "?";
}

static json_t *str_or_null(const char *s)
{
	return s ? json_string(s) : json_null();
}

static const char *content_name(ss_content_t c)
{
	switch (c) {
	case SS_CONTENT_DIGEST:
		return "transferred";
	case SS_CONTENT_QUERIED:
		return "queried";
	case SS_CONTENT_FAILED:
		return "failed";
	case SS_CONTENT_NONE:
		break;
	}
	return NULL;
}

/* The ZONEMD verdict on one copy, with the scheme and algorithm of each record. */
static json_t *zonemd_json(ss_zonemd_status_t st, const char *detail, const ss_zonemd_list_t *l)
{
	json_t *rrs = json_array();
	for (size_t i = 0; rrs && i < l->n && i < SS_ZONEMD_LIST_MAX; i++) {
		json_array_append_new(rrs, json_pack("{s:i, s:i}", "scheme", l->rr[i].scheme,
		                                     "algorithm", l->rr[i].algorithm));
	}
	return json_pack("{s:s, s:o, s:o, s:I}", "status", ss_zonemd_status_name(st), "detail",
	                 str_or_null(detail), "records", rrs ? rrs : json_null(), "count",
	                 (json_int_t)l->n);
}

/* The transfer and content fields, when a content check ran. */
static void add_content_json(json_t *o, const ss_server_obs_t *s)
{
	if (s->content == SS_CONTENT_NONE && s->axfr == SS_XFR_SKIPPED &&
	    s->axfr_tsig == SS_XFR_SKIPPED) {
		return;
	}
	char hex[2 * SS_DIGEST_LEN + 1];
	ss_xfr_state_t st = s->axfr_tsig != SS_XFR_SKIPPED ? s->axfr_tsig : s->axfr;
	json_object_set_new(o, "axfr", json_string(ss_xfr_state_name(st)));
	json_object_set_new(
	    o, "digest", s->has_digest ? json_string(ss_digest_hex(s->digest, hex)) : json_null());
	json_object_set_new(o, "content",
	                    content_name(s->content) ? json_string(content_name(s->content))
	                                             : json_null());
	json_object_set_new(o, "content_differs", json_boolean(s->content_differs));
	if (s->has_digest) {
		json_object_set_new(o, "xfr_serial", json_integer(s->xfr_serial));
		json_object_set_new(o, "records", json_integer((json_int_t)s->xfr_records));
	}
	if (s->content == SS_CONTENT_DIGEST) {
		json_object_set_new(o, "zonemd",
		                    zonemd_json(s->zonemd, s->zonemd_detail, &s->zonemd_list));
	}
}

/*
 * The JSON of check: 10,000 zones a run, each of the same shape. The zone
 * object and one object per server are kept in a check_json_t and their
 * values changed in place (jsonout.h): no json_pack format parsed per value,
 * no allocation for a name, version or address that did not change from
 * the last zone. A server's optional keys (version, expire_s, the transfer
 * fields, expect) make its "shape": when it changes, its object is cleared
 * and filled afresh, so the keys keep the order they always had.
 */
enum { SHAPE_VERSION = 1, SHAPE_EXPIRE = 2, SHAPE_CONTENT = 4, SHAPE_EXPECT = 8 };

typedef struct {
	json_t *obj;
	unsigned shape;
	json_t *name, *address, *port, *serial, *rtt, *nsid, *error, *version, *expire;
} srv_json_t;

struct check_json {
	jo_lines_t out;
	json_t *obj, *zone, *primary, *ref, *servers;
	unsigned shape;
	srv_json_t *srv;
	size_t nsrv;
};

static bool has_content(const ss_server_obs_t *s)
{
	return s->content != SS_CONTENT_NONE || s->axfr != SS_XFR_SKIPPED ||
	       s->axfr_tsig != SS_XFR_SKIPPED;
}

static const char *server_error(const ss_server_obs_t *s)
{
	if (s->kind == SS_ANS_NONE || s->kind == SS_ANS_MALFORMED) {
		return ss_strerror(s->error);
	}
	if (!s->has_soa) {
		return s->detail ? s->detail : render_rcode(s->rcode);
	}
	return NULL;
}

static void srv_clear(srv_json_t *t)
{
	json_t *v[] = {t->obj, t->name, t->address, t->port,    t->serial,
	               t->rtt, t->nsid, t->error,   t->version, t->expire};
	for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		json_decref(v[i]);
	}
	memset(t, 0, sizeof(*t));
}

static int srv_init(srv_json_t *t)
{
	memset(t, 0, sizeof(*t));
	t->obj = json_object();
	t->name = json_string("");
	t->address = json_string("");
	t->port = json_integer(0);
	t->serial = json_integer(0);
	t->rtt = json_real(0);
	t->nsid = json_string("");
	t->error = json_string("");
	t->version = json_string("");
	t->expire = json_integer(0);
	if (!t->obj || !t->name || !t->address || !t->port || !t->serial || !t->rtt || !t->nsid ||
	    !t->error || !t->version || !t->expire) {
		srv_clear(t);
		return -1;
	}
	return 0;
}

static void add_expect_json(json_t *server, const ss_zone_obs_t *o, const ss_server_obs_t *s);

/* Fill t's object from s; the object stays t's (borrowed by the caller). */
static json_t *server_fill(srv_json_t *t, const ss_zone_obs_t *zo, const ss_server_obs_t *s)
{
	char addr[SS_ADDR_STRLEN];
	json_t *o = t->obj;
	unsigned shape = (s->version ? SHAPE_VERSION : 0) | (s->has_expire ? SHAPE_EXPIRE : 0) |
	                 (has_content(s) ? SHAPE_CONTENT : 0) |
	                 (zo != NULL && zo->expect != NULL && s->nexpect > 0 ? SHAPE_EXPECT : 0);
	if (shape != t->shape || shape & (SHAPE_CONTENT | SHAPE_EXPECT)) {
		json_object_clear(o);
		t->shape = shape;
	}
	bool answered = s->rcode >= 0;
	jo_put(o, "name", jo_text(t->name, s->name));
	jo_put(o, "address", jo_ascii(t->address, ss_addr_ntop(&s->addr, addr, sizeof(addr))));
	jo_put(o, "port", jo_int(t->port, ss_addr_port(&s->addr)));
	jo_put(o, "rcode", answered ? jo_static(render_rcode(s->rcode)) : json_null());
	jo_put(o, "aa", json_boolean(s->aa));
	jo_put(o, "serial", s->has_soa ? jo_int(t->serial, s->soa.serial) : json_null());
	jo_put(o, "rtt_ms", answered ? jo_real(t->rtt, (double)s->rtt_us / 1000.0) : json_null());
	jo_put(o, "nsid", jo_text(t->nsid, s->nsid));
	jo_put(o, "vendor", jo_static(ss_vendor_name(s->vendor)));
	jo_put(o, "error", jo_text(t->error, server_error(s)));
	jo_put(o, "primary", json_boolean(s->primary_role));
	jo_put(o, "verdict", jo_static(ss_verdict_name(s->verdict)));
	jo_put(o, "tcp", json_boolean(s->tcp));
	if (s->version) {
		jo_put(o, "version", jo_text(t->version, s->version));
	}
	if (s->has_expire) {
		jo_put(o, "expire_s", jo_int(t->expire, s->expire_s));
	}
	add_content_json(o, s);
	if (zo != NULL) {
		add_expect_json(o, zo, s);
	}
	return o;
}
static json_t *expect_json(const ss_expect_t *e, const ss_expect_obs_t *x)
{
	char n[KNOT_DNAME_TXT_MAXLEN + 1], t[32];
	knot_dname_to_str(n, e->owner, sizeof(n));
	knot_rrtype_to_string(e->type, t, sizeof(t));
	json_t *served = json_array();
	for (size_t i = 0; served && i < x->nserved; i++) {
		json_array_append_new(served, json_string(x->served[i]));
	}
	json_t *o = json_pack("{s:s, s:s, s:s, s:o}", "name", n, "type", t, "status",
	                      ss_expect_status_name(x->status), "served", served);
	if (o != NULL && x->error != NULL) {
		json_object_set_new(o, "error", json_string(x->error));
	}
	return o;
}

static void add_expect_json(json_t *server, const ss_zone_obs_t *o, const ss_server_obs_t *s)
{
	if (o->expect == NULL || s->nexpect == 0) {
		return;
	}
	json_t *arr = json_array();
	for (size_t k = 0; arr && k < s->nexpect && k < o->expect->n; k++) {
		json_array_append_new(arr, expect_json(&o->expect->items[k], &s->expect[k]));
	}
	json_object_set_new(server, "expect", arr);
}

static json_t *names_json(knot_dname_t *const *names, size_t n)
{
	json_t *a = json_array();
	for (size_t i = 0; a && i < n; i++) {
		char txt[KNOT_DNAME_TXT_MAXLEN + 1];
		json_array_append_new(a,
		                      json_string(knot_dname_to_str(txt, names[i], sizeof(txt))));
	}
	return a;
}

json_t *render_findings_array(const ss_finding_t *f, size_t n)
{
	json_t *arr = json_array();
	for (size_t i = 0; arr != NULL && i < n; i++) {
		json_t *servers = json_array(), *o = json_object();
		for (size_t k = 0; servers != NULL && k < f[i].nservers; k++) {
			char a[SS_ADDR_STRLEN];
			json_array_append_new(servers, json_string_nocheck(ss_addr_format(
			                                   &f[i].servers[k], a, sizeof(a))));
		}
		if (o == NULL || servers == NULL) {
			json_decref(o);
			json_decref(servers);
			json_decref(arr);
			return NULL;
		}
		jo_put(o, "code", jo_static(ss_fcode_name(f[i].id)));
		jo_put(o, "severity", jo_static(ss_severity_name(f[i].severity)));
		json_object_set_new_nocheck(o, "servers", servers);
		json_object_set_new_nocheck(o, "message",
		                            jo_new_text(f[i].message ? f[i].message : ""));
		json_object_set_new_nocheck(o, "fix", jo_new_text(f[i].fix));
		json_array_append_new(arr, o);
	}
	return arr;
}

json_t *render_findings_json(const ss_zone_result_t *res)
{
	return render_findings_array(res->findings, res->nfindings);
}

static void check_json_clear(check_json_t *w)
{
	json_t *v[] = {w->obj, w->zone, w->primary, w->ref, w->servers};
	for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		json_decref(v[i]);
	}
	for (size_t i = 0; i < w->nsrv; i++) {
		srv_clear(&w->srv[i]);
	}
	free(w->srv);
	w->srv = NULL;
	w->nsrv = 0;
	w->obj = NULL;
}

static int check_json_init(check_json_t *w)
{
	w->obj = json_object();
	w->zone = json_string("");
	w->primary = json_string("");
	w->ref = json_integer(0);
	w->servers = json_array();
	w->shape = ~0u;
	if (!w->obj || !w->zone || !w->primary || !w->ref || !w->servers) {
		check_json_clear(w);
		return -1;
	}
	return 0;
}

/* The server objects for n servers, kept from zone to zone. */
static int reserve_servers(check_json_t *w, size_t n)
{
	if (n <= w->nsrv) {
		return 0;
	}
	srv_json_t *v = realloc(w->srv, n * sizeof(*v));
	if (v == NULL) {
		return -1;
	}
	w->srv = v;
	for (; w->nsrv < n; w->nsrv++) {
		if (srv_init(&w->srv[w->nsrv]) != 0) {
			return -1;
		}
	}
	return 0;
}

static void add_zone_extras(json_t *obj, const ss_zone_obs_t *o)
{
	if (o->zonefile != NULL) {
		json_t *zf = json_pack(
		    "{s:s, s:o, s:b, s:i}", "path", o->zonefile, "serial",
		    o->has_zonefile_serial ? json_integer(o->zonefile_serial) : json_null(),
		    "differs", o->zonefile_differs, "records_differing", (int)o->zonefile_ndiff);
		if (zf != NULL && o->zonefile_error == NULL) {
			json_object_set_new(zf, "zonemd",
			                    zonemd_json(o->zonefile_zonemd,
			                                o->zonefile_zonemd_detail,
			                                &o->zonefile_zonemd_list));
		}
		json_object_set_new(obj, "zonefile", zf);
	}
	if (o->ncandidates > 0) {
		json_t *cands = json_array();
		for (size_t i = 0; cands && i < o->ncandidates; i++) {
			srv_json_t t;
			if (srv_init(&t) == 0) {
				json_array_append(cands, server_fill(&t, NULL, &o->candidates[i]));
				srv_clear(&t);
			}
		}
		json_object_set_new(obj, "candidates", cands);
	}
	if (o->have_ns_sets) {
		json_object_set_new(obj, "ns",
		                    json_pack("{s:o, s:o}", "parent",
		                              names_json(o->parent_ns, o->nparent_ns), "child",
		                              names_json(o->child_ns, o->nchild_ns)));
	}
}

/* The zone object of res, filled into w's (borrowed); NULL out of memory. */
static json_t *zone_fill(check_json_t *w, const ss_zone_result_t *res)
{
	const ss_zone_obs_t *o = &res->obs;
	char pa[SS_ADDR_STRLEN];
	json_t *findings = render_findings_json(res);
	if (findings == NULL || reserve_servers(w, o->nservers) != 0) {
		json_decref(findings);
		return NULL;
	}
	unsigned shape =
	    (o->zonefile ? 1 : 0) | (o->ncandidates ? 2 : 0) | (o->have_ns_sets ? 4 : 0);
	if (shape != w->shape || shape != 0) {
		json_object_clear(w->obj);
		w->shape = shape;
	}
	json_array_clear(w->servers);
	for (size_t i = 0; i < o->nservers; i++) {
		json_array_append(w->servers, server_fill(&w->srv[i], o, &o->servers[i]));
	}
	jo_put(w->obj, "zone", jo_text(w->zone, o->zone_str ? o->zone_str : ""));
	jo_put(w->obj, "status", jo_static(ss_status_name(res->status)));
	jo_put(w->obj, "primary",
	       res->has_primary
	           ? jo_ascii(w->primary, ss_addr_format(&res->primary, pa, sizeof(pa)))
	           : json_null());
	jo_put(w->obj, "primary_why",
	       res->has_primary ? jo_static(ss_primary_why_name(res->primary_why)) : json_null());
	jo_put(w->obj, "reference_serial",
	       res->has_reference ? jo_int(w->ref, res->reference_serial) : json_null());
	jo_put(w->obj, "servers", w->servers);
	json_object_set_new_nocheck(w->obj, "findings", findings);
	add_zone_extras(w->obj, o);
	return w->obj;
}

json_t *render_check_json_obj(const ss_zone_result_t *res)
{
	check_json_t w = {0};
	json_t *obj = check_json_init(&w) == 0 ? zone_fill(&w, res) : NULL;
	json_incref(obj);
	check_json_clear(&w);
	return obj;
}

check_json_t *render_check_json_new(FILE *f)
{
	check_json_t *w = calloc(1, sizeof(*w));
	if (w == NULL || check_json_init(w) != 0) {
		free(w);
		return NULL;
	}
	jo_lines_init(&w->out, f);
	return w;
}

int render_check_json_add(check_json_t *w, const ss_zone_result_t *res)
{
	json_t *obj = zone_fill(w, res);
	return obj ? jo_lines_add(&w->out, obj) : -1;
}

int render_check_json_finish(check_json_t *w)
{
	if (w == NULL) {
		return 0;
	}
	int ret = jo_lines_finish(&w->out);
	check_json_clear(w);
	free(w);
	return ret;
}

int render_check_json(FILE *f, const ss_zone_result_t *res)
{
	check_json_t *w = render_check_json_new(f);
	int ret = w ? render_check_json_add(w, res) : -1;
	return render_check_json_finish(w) == 0 ? ret : -1;
}

int render_json_line(FILE *f, json_t *obj)
{
	if (obj == NULL) {
		return -1;
	}
	jo_lines_t w;
	jo_lines_init(&w, f);
	int ret = jo_lines_add(&w, obj);
	json_decref(obj);
	return jo_lines_finish(&w) == 0 ? ret : -1;
}

/* ---- table ---------------------------------------------------------------- */

#define C_RED    "\033[31m"
#define C_YELLOW "\033[33m"
#define C_GREEN  "\033[32m"
#define C_BOLD   "\033[1m"
#define C_DIM    "\033[2m"
#define C_OFF    "\033[0m"

static const char *status_color(ss_status_t st)
{
	switch (st) {
	case SS_STATUS_OK:
		return C_GREEN;
	case SS_STATUS_WARNING:
		return C_YELLOW;
	default:
		return C_RED;
	}
}

static const char *sev_color(ss_severity_t sev)
{
	switch (sev) {
	case SS_SEV_INFO:
		return C_DIM;
	case SS_SEV_WARNING:
		return C_YELLOW;
	default:
		return C_RED;
	}
}

/* The DIFF column: the verdict, with the distance to the reference. */
static void diff_text(const ss_zone_result_t *res, const ss_server_obs_t *s, char *buf, size_t len)
{
	switch (s->verdict) {
	case SS_VERDICT_AT_REFERENCE:
		snprintf(buf, len, "0");
		break;
	case SS_VERDICT_BEHIND:
		snprintf(buf, len, "-%u", ss_serial_distance(s->soa.serial, res->reference_serial));
		break;
	case SS_VERDICT_AHEAD:
		snprintf(buf, len, "+%u", ss_serial_distance(res->reference_serial, s->soa.serial));
		break;
	case SS_VERDICT_UNDEFINED:
		snprintf(buf, len, "2^31?");
		break;
	default:
		snprintf(buf, len, "-");
		break;
	}
}

/* The RCODE column: the answer's RCODE, or why there was none, in lower
 * case and never an RCODE's name ("conn-refused", not "refused"). */
static const char *rcode_text(const ss_server_obs_t *s)
{
	if (s->rcode >= 0) {
		return render_rcode(s->rcode);
	}
	switch (s->error) {
	case 0:
		return "-";
	case SS_ETIMEOUT:
		return "timeout";
	case SS_ECONNREFUSED:
		return "conn-refused";
	default:
		return "error";
	}
}

typedef struct {
	char name[256], addr[SS_ADDR_STRLEN], vendor[16], rcode[16], aa[4], serial[16], diff[16],
	    rtt[24];
	bool bad;
} row_t;

static void make_row(const ss_zone_result_t *res, const ss_server_obs_t *s, row_t *r)
{
	snprintf(r->name, sizeof(r->name), "%s%s", s->name ? s->name : "-",
	         s->primary_role ? " (primary)" : "");
	ss_addr_format(&s->addr, r->addr, sizeof(r->addr));
	snprintf(r->vendor, sizeof(r->vendor), "%s",
	         ss_vendor_name(s->vendor) ? ss_vendor_name(s->vendor) : "-");
	snprintf(r->rcode, sizeof(r->rcode), "%s", rcode_text(s));
	snprintf(r->aa, sizeof(r->aa), "%s", s->rcode < 0 ? "-" : s->aa ? "aa" : "no");
	if (s->has_soa) {
		snprintf(r->serial, sizeof(r->serial), "%u", s->soa.serial);
	} else {
		snprintf(r->serial, sizeof(r->serial), "-");
	}
	diff_text(res, s, r->diff, sizeof(r->diff));
	if (s->rcode < 0) {
		snprintf(r->rtt, sizeof(r->rtt), "-");
	} else {
		snprintf(r->rtt, sizeof(r->rtt), "%.1f ms%s", s->rtt_us / 1000.0,
		         s->tcp ? " tcp" : "");
	}
	r->bad = s->verdict != SS_VERDICT_AT_REFERENCE;
}

/* Which server was taken as the primary, and why. */
static void primary_text(FILE *f, const ss_zone_result_t *res)
{
	const char *mname = res->obs.mname ? res->obs.mname : "";
	switch (res->has_primary ? res->primary_why : SS_PRIMARY_NONE) {
	case SS_PRIMARY_GIVEN:
		fprintf(f, "  primary: given with --primary");
		break;
	case SS_PRIMARY_MNAME:
		fprintf(f, "  primary: the SOA MNAME%s%s", *mname ? " " : "", mname);
		break;
	case SS_PRIMARY_EXPIRE:
		fprintf(f,
		        "  primary: answers EDNS EXPIRE as a primary (the SOA MNAME%s%s is a "
		        "secondary)",
		        *mname ? " " : "", mname);
		break;
	case SS_PRIMARY_NONE:
		break;
	}
}

void render_check_table(FILE *f, const ss_zone_result_t *res, bool color)
{
	const ss_zone_obs_t *o = &res->obs;
	const char *on = "", *off = "";
	if (color) {
		on = status_color(res->status);
		off = C_OFF;
	}
	fprintf(f, "%s%s%s %s%s%s", color ? C_BOLD : "", o->zone_str, off, on,
	        ss_status_name(res->status), off);
	if (res->has_reference) {
		char pa[SS_ADDR_STRLEN];
		fprintf(f, "  reference serial %u (%s)", res->reference_serial,
		        res->has_primary ? ss_addr_format(&res->primary, pa, sizeof(pa))
		                         : "highest, no primary");
		primary_text(f, res);
	}
	fputc('\n', f);
	row_t *rows = calloc(o->nservers ? o->nservers : 1, sizeof(*rows));
	if (rows == NULL) {
		return;
	}
	struct {
		size_t name, addr, vendor, rcode, aa, serial, diff, rtt;
	} wd = {4, 7, 6, 5, 2, 6, 4, 3};
	for (size_t i = 0; i < o->nservers; i++) {
		make_row(res, &o->servers[i], &rows[i]);
#define WIDEN(fl)                                                                                  \
	do {                                                                                       \
		if (strlen(rows[i].fl) > wd.fl) {                                                  \
			wd.fl = strlen(rows[i].fl);                                                \
		}                                                                                  \
	} while (0)
		WIDEN(name);
		WIDEN(addr);
		WIDEN(vendor);
		WIDEN(rcode);
		WIDEN(aa);
		WIDEN(serial);
		WIDEN(diff);
		WIDEN(rtt);
#undef WIDEN
	}
	if (o->nservers > 0) {
		fprintf(f, "  %-*s  %-*s  %-*s  %-*s  %-*s  %*s  %*s  %*s\n", (int)wd.name, "NAME",
		        (int)wd.addr, "ADDRESS", (int)wd.vendor, "VENDOR", (int)wd.rcode, "RCODE",
		        (int)wd.aa, "AA", (int)wd.serial, "SERIAL", (int)wd.diff, "DIFF",
		        (int)wd.rtt, "RTT");
	}
	for (size_t i = 0; i < o->nservers; i++) {
		const row_t *r = &rows[i];
		const char *ron = color ? (r->bad ? C_RED : "") : "";
		fprintf(f, "  %s%-*s  %-*s  %-*s  %-*s  %-*s  %*s  %*s  %*s%s\n", ron, (int)wd.name,
		        r->name, (int)wd.addr, r->addr, (int)wd.vendor, r->vendor, (int)wd.rcode,
		        r->rcode, (int)wd.aa, r->aa, (int)wd.serial, r->serial, (int)wd.diff,
		        r->diff, (int)wd.rtt, r->rtt, color && r->bad ? C_OFF : "");
	}
	free(rows);
	render_expect_text(f, res);
	render_findings_text(f, res, color);
}

/* One line per expected RRset: how each server fares. */
void render_expect_text(FILE *f, const ss_zone_result_t *res)
{
	const ss_zone_obs_t *o = &res->obs;
	for (size_t k = 0; o->expect != NULL && k < o->expect->n; k++) {
		const ss_expect_t *e = &o->expect->items[k];
		char n[KNOT_DNAME_TXT_MAXLEN + 1], t[32];
		knot_dname_to_str(n, e->owner, sizeof(n));
		knot_rrtype_to_string(e->type, t, sizeof(t));
		fprintf(f, "  expect %s%s %s:", e->absent ? "absent " : "", n, t);
		for (size_t i = 0; i < o->nservers; i++) {
			const ss_server_obs_t *s = &o->servers[i];
			char a[SS_ADDR_STRLEN];
			if (k < s->nexpect) {
				fprintf(f, " %s %s%s", ss_addr_format(&s->addr, a, sizeof(a)),
				        ss_expect_status_name(s->expect[k].status),
				        i + 1 < o->nservers ? "," : "");
			}
		}
		fputc('\n', f);
	}
}

void render_findings_text(FILE *f, const ss_zone_result_t *res, bool color)
{
	for (size_t i = 0; i < res->nfindings; i++) {
		const ss_finding_t *fd = &res->findings[i];
		fprintf(f, "  %s%s%s %s: %s\n", color ? sev_color(fd->severity) : "",
		        ss_severity_name(fd->severity), color ? C_OFF : "", fd->code, fd->message);
		if (fd->fix) {
			fprintf(f, "    fix: %s\n", fd->fix);
		}
	}
}

/* ---- monitoring plugin ------------------------------------------------ */

#define SUMMARY_MAX 200 /* bytes of problem zones on the first line */

static bool nagios_open(nagios_t *n)
{
	if (n->problems == NULL) {
		n->problems = open_memstream(&n->problems_s, &n->problems_n);
		n->summary = open_memstream(&n->summary_s, &n->summary_n);
		n->perf = open_memstream(&n->perf_s, &n->perf_n);
	}
	return n->problems != NULL && n->summary != NULL && n->perf != NULL;
}

void render_nagios_add(nagios_t *n, const ss_zone_result_t *res)
{
	const ss_zone_obs_t *o = &res->obs;
	if (!nagios_open(n)) {
		return;
	}
	n->count[res->status]++;
	n->nzones++;
	for (size_t i = 0; i < o->nservers; i++) {
		const ss_server_obs_t *s = &o->servers[i];
		char a[SS_ADDR_STRLEN];
		n->servers++;
		if (!s->has_soa) {
			continue;
		}
		n->answered++;
		if (s->rtt_us / 1000.0 > n->max_rtt_ms) {
			n->max_rtt_ms = s->rtt_us / 1000.0;
		}
		if (n->nzones == 1) {
			fprintf(n->perf, " 'serial_%s'=%u", ss_addr_ntop(&s->addr, a, sizeof(a)),
			        s->soa.serial);
		}
	}
	for (size_t i = 0; i < res->nfindings; i++) {
		const ss_finding_t *f = &res->findings[i];
		if (f->severity == SS_SEV_INFO) {
			continue;
		}
		fprintf(n->problems, "%s %s %s: %s\n", o->zone_str, ss_severity_name(f->severity),
		        f->code, f->message);
		long at = ftell(n->summary);
		if (at < SUMMARY_MAX) {
			fprintf(n->summary, "%s%s %s", at > 0 ? ", " : "", o->zone_str, f->code);
		}
	}
}

int render_nagios_print(FILE *f, nagios_t *n)
{
	int worst = 0;
	for (int st = 3; st > 0 && worst == 0; st--) {
		worst = n->count[st] > 0 ? st : 0;
	}
	nagios_open(n);
	bool more = n->summary != NULL && ftell(n->summary) >= SUMMARY_MAX;
	fflush(n->problems);
	fflush(n->summary);
	fflush(n->perf);
	static const char *label[] = {"OK", "WARNING", "CRITICAL", "UNKNOWN"};
	fprintf(f, "SOA %s - ", label[worst]);
	if (n->nzones == 1 && worst == 0) {
		fprintf(f, "all %u servers serve the same serial", n->answered);
	} else if (worst == 0) {
		fprintf(f, "%zu zones in sync", n->nzones);
	} else {
		fprintf(f, "%s%s", n->summary_s ? n->summary_s : "", more ? ", ..." : "");
		if (n->nzones > 1) {
			fprintf(f, " (%u critical, %u warning, %u unknown of %zu zones)",
			        n->count[2], n->count[1], n->count[3], n->nzones);
		}
	}
	fprintf(f,
	        " | zones=%zu ok=%u warning=%u critical=%u unknown=%u servers=%u answered=%u "
	        "rtt_max=%.3fms%s\n",
	        n->nzones, n->count[0], n->count[1], n->count[2], n->count[3], n->servers,
	        n->answered, n->max_rtt_ms, n->nzones == 1 && n->perf_s ? n->perf_s : "");
	if (n->problems_s) {
		fputs(n->problems_s, f);
	}
	return worst;
}

void render_nagios_free(nagios_t *n)
{
	FILE *streams[] = {n->problems, n->summary, n->perf};
	for (size_t i = 0; i < 3; i++) {
		if (streams[i] != NULL) {
			fclose(streams[i]);
		}
	}
	free(n->problems_s);
	free(n->summary_s);
	free(n->perf_s);
	memset(n, 0, sizeof(*n));
}
