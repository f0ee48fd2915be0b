#include <stdlib.h>
#include <string.h>

#include <libknot/libknot.h>

#include <soasync/error.h>
#include <soasync/serial.h>

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

static const char *zonemd_status_name(ss_zonemd_status_t st)
{
	switch (st) {
	case SS_ZONEMD_VALID:
		return "valid";
	case SS_ZONEMD_INVALID:
		return "invalid";
	case SS_ZONEMD_UNSUPPORTED:
		return "unsupported";
	case SS_ZONEMD_ABSENT:
		break;
	}
	return "absent";
}

/* The ZONEMD verdict on one copy, with the scheme and algorithm of each record. */
static json_t *zonemd_json(ss_zonemd_status_t st, const char *detail, const ss_zonemd_list_t *l)
{
	json_t *rrs = json_array();
	for (size_t i = 0; rrs && i < l->n && i < SS_ZONEMD_LIST_MAX; i++) {
		json_array_append_new(rrs, json_pack("{s:i, s:i}", "scheme", l->rr[i].scheme,
		                                     "algorithm", l->rr[i].algorithm));
	}
	return json_pack("{s:s, s:o, s:o, s:I}", "status", zonemd_status_name(st), "detail",
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

static json_t *server_json(const ss_server_obs_t *s)
{
	char addr[SS_ADDR_STRLEN];
	ss_addr_ntop(&s->addr, addr, sizeof(addr));
	const char *err = NULL;
	if (s->kind == SS_ANS_NONE || s->kind == SS_ANS_MALFORMED) {
		err = ss_strerror(s->error);
	} else if (!s->has_soa) {
		err = s->detail ? s->detail : render_rcode(s->rcode);
	}
	json_t *o =
	    json_pack("{s:o, s:s, s:i, s:o, s:b, s:o, s:o, s:o, s:o, s:o}", "name",
	              str_or_null(s->name), "address", addr, "port", (int)ss_addr_port(&s->addr),
	              "rcode", s->rcode < 0 ? json_null() : json_string(render_rcode(s->rcode)),
	              "aa", s->aa, "serial", s->has_soa ? json_integer(s->soa.serial) : json_null(),
	              "rtt_ms", s->rcode < 0 ? json_null() : json_real((double)s->rtt_us / 1000.0),
	              "nsid", str_or_null(s->nsid), "vendor",
	              str_or_null(ss_vendor_name(s->vendor)), "error", str_or_null(err));
	if (o == NULL) {
		return NULL;
	}
	json_object_set_new(o, "primary", json_boolean(s->primary_role));
	json_object_set_new(o, "verdict", json_string(ss_verdict_name(s->verdict)));
	json_object_set_new(o, "tcp", json_boolean(s->tcp));
	if (s->version) {
		json_object_set_new(o, "version", json_string(s->version));
	}
	if (s->has_expire) {
		json_object_set_new(o, "expire_s", json_integer(s->expire_s));
	}
	add_content_json(o, s);
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

static json_t *finding_json(const ss_finding_t *f)
{
	json_t *servers = json_array();
	for (size_t i = 0; servers && i < f->nservers; i++) {
		char a[SS_ADDR_STRLEN];
		json_array_append_new(servers,
		                      json_string(ss_addr_format(&f->servers[i], a, sizeof(a))));
	}
	return json_pack("{s:s, s:s, s:o, s:s, s:o}", "code", f->code, "severity",
	                 ss_severity_name(f->severity), "servers", servers, "message",
	                 f->message ? f->message : "", "fix", str_or_null(f->fix));
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

json_t *render_findings_json(const ss_zone_result_t *res)
{
	json_t *findings = json_array();
	for (size_t i = 0; findings && i < res->nfindings; i++) {
		json_array_append_new(findings, finding_json(&res->findings[i]));
	}
	return findings;
}

json_t *render_check_json_obj(const ss_zone_result_t *res)
{
	const ss_zone_obs_t *o = &res->obs;
	char pa[SS_ADDR_STRLEN];
	json_t *servers = json_array(), *findings = render_findings_json(res);
	for (size_t i = 0; servers && i < o->nservers; i++) {
		json_t *sj = server_json(&o->servers[i]);
		add_expect_json(sj, o, &o->servers[i]);
		json_array_append_new(servers, sj);
	}
	json_t *obj = json_pack(
	    "{s:s, s:s, s:o, s:o, s:o, s:o, s:o}", "zone", o->zone_str ? o->zone_str : "", "status",
	    ss_status_name(res->status), "primary",
	    res->has_primary ? json_string(ss_addr_format(&res->primary, pa, sizeof(pa)))
	                     : json_null(),
	    "primary_why",
	    res->has_primary ? json_string(ss_primary_why_name(res->primary_why)) : json_null(),
	    "reference_serial",
	    res->has_reference ? json_integer(res->reference_serial) : json_null(), "servers",
	    servers, "findings", findings);
	if (obj != NULL && o->zonefile != NULL) {
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
	if (obj != NULL && o->ncandidates > 0) {
		json_t *cands = json_array();
		for (size_t i = 0; cands && i < o->ncandidates; i++) {
			json_array_append_new(cands, server_json(&o->candidates[i]));
		}
		json_object_set_new(obj, "candidates", cands);
	}
	if (obj != NULL && o->have_ns_sets) {
		json_object_set_new(obj, "ns",
		                    json_pack("{s:o, s:o}", "parent",
		                              names_json(o->parent_ns, o->nparent_ns), "child",
		                              names_json(o->child_ns, o->nchild_ns)));
	}
	return obj;
}

int render_check_json(FILE *f, const ss_zone_result_t *res)
{
	return render_json_line(f, render_check_json_obj(res));
}

int render_json_line(FILE *f, json_t *obj)
{
	if (obj == NULL) {
		return -1;
	}
	/* One buffer, one write: jansson's stream dump writes in small pieces. */
	char *s = json_dumps(obj, JSON_COMPACT | JSON_ENSURE_ASCII | JSON_REAL_PRECISION(6));
	json_decref(obj);
	if (s == NULL) {
		return -1;
	}
	size_t len = strlen(s);
	s[len] = '\n';
	int ret = fwrite(s, 1, len + 1, f) == len + 1 ? 0 : -1;
	free(s);
	return ret;
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
