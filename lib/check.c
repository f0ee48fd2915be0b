/*
 * The check model: observations -> reference serial -> findings -> status.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <soasync/check.h>
#include <soasync/error.h>
#include <soasync/serial.h>

#include "util_strbuf.h"

const char *ss_severity_name(ss_severity_t sev)
{
	static const char *names[] = {"info", "warning", "critical", "unknown"};
	return (unsigned)sev < 4 ? names[sev] : "unknown";
}

const char *ss_status_name(ss_status_t st)
{
	static const char *names[] = {"ok", "warning", "critical", "unknown"};
	return (unsigned)st < 4 ? names[st] : "unknown";
}

knot_rrset_t *ss_soa_to_rrset(const knot_dname_t *zone, const ss_soa_t *soa)
{
	if (soa->mname == NULL || soa->rname == NULL) {
		return NULL;
	}
	size_t m = knot_dname_size(soa->mname), r = knot_dname_size(soa->rname);
	uint8_t rd[2 * KNOT_DNAME_MAXLEN + 20];
	memcpy(rd, soa->mname, m);
	memcpy(rd + m, soa->rname, r);
	uint8_t *p = rd + m + r;
	knot_wire_write_u32(p, soa->serial);
	knot_wire_write_u32(p + 4, soa->refresh);
	knot_wire_write_u32(p + 8, soa->retry);
	knot_wire_write_u32(p + 12, soa->expire);
	knot_wire_write_u32(p + 16, soa->minimum);
	knot_rrset_t *rr = knot_rrset_new(zone, KNOT_RRTYPE_SOA, KNOT_CLASS_IN, soa->ttl, NULL);
	if (rr != NULL && knot_rrset_add_rdata(rr, rd, (uint16_t)(m + r + 20), NULL) != KNOT_EOK) {
		knot_rrset_free(rr, NULL);
		rr = NULL;
	}
	return rr;
}

static const struct {
	const char *name, *meaning;
} fcodes[] = {
#define SS_F_ROW(id, name, meaning) [id] = {name, meaning},
    SS_FINDINGS(SS_F_ROW)
#undef SS_F_ROW
};

const char *ss_fcode_name(ss_fcode_t c)
{
	return (unsigned)c < SS_F_COUNT ? fcodes[c].name : "unknown";
}

const char *ss_fcode_meaning(ss_fcode_t c)
{
	return (unsigned)c < SS_F_COUNT ? fcodes[c].meaning : "";
}

ss_fcode_t ss_fcode_parse(const char *name)
{
	for (unsigned i = 0; name != NULL && i < SS_F_COUNT; i++) {
		if (strcmp(fcodes[i].name, name) == 0) {
			return (ss_fcode_t)i;
		}
	}
	return SS_F_COUNT;
}

const char *ss_verdict_name(ss_verdict_t v)
{
	static const char *names[] = {
	    [SS_VERDICT_NONE] = "none",
	    [SS_VERDICT_AT_REFERENCE] = "at-reference",
	    [SS_VERDICT_BEHIND] = "behind",
	    [SS_VERDICT_AHEAD] = "ahead",
	    [SS_VERDICT_UNDEFINED] = "undefined",
	    [SS_VERDICT_NO_SOA] = "no-soa",
	    [SS_VERDICT_NOT_AUTH] = "not-authoritative",
	    [SS_VERDICT_SERVFAIL] = "servfail",
	    [SS_VERDICT_UNREACHABLE] = "unreachable",
	    [SS_VERDICT_HIDDEN_PRIMARY] = "hidden-primary",
	    [SS_VERDICT_LOCAL_ERROR] = "local-error",
	};
	return (unsigned)v < sizeof(names) / sizeof(names[0]) ? names[v] : "none";
}

const char *ss_primary_why_name(ss_primary_why_t w)
{
	switch (w) {
	case SS_PRIMARY_GIVEN:
		return "given";
	case SS_PRIMARY_MNAME:
		return "mname";
	case SS_PRIMARY_EXPIRE:
		return "expire";
	case SS_PRIMARY_NONE:
		break;
	}
	return "none";
}

bool ss_verdict_current(ss_verdict_t v)
{
	return v == SS_VERDICT_AT_REFERENCE || v == SS_VERDICT_AHEAD;
}

bool ss_verdict_counts(ss_verdict_t v)
{
	return v != SS_VERDICT_NONE && v != SS_VERDICT_HIDDEN_PRIMARY;
}

const char *ss_xfr_state_name(ss_xfr_state_t st)
{
	switch (st) {
	case SS_XFR_ALLOWED:
		return "allowed";
	case SS_XFR_REFUSED:
		return "refused";
	case SS_XFR_FAILED:
		return "failed";
	case SS_XFR_SKIPPED:
		break;
	}
	return "skipped";
}

long ss_zone_reference_server(const ss_zone_result_t *res)
{
	const ss_zone_obs_t *o = &res->obs;
	for (int pass = 0; res->has_reference && pass < 2; pass++) {
		for (size_t i = 0; i < o->nservers; i++) {
			const ss_server_obs_t *s = &o->servers[i];
			if (s->verdict == SS_VERDICT_AT_REFERENCE &&
			    (pass == 1 || s->primary_role)) {
				return (long)i;
			}
		}
	}
	return -1;
}

/* ---- results ----------------------------------------------------------- */

void ss_server_obs_clear(ss_server_obs_t *s)
{
	free(s->name);
	free(s->soa.mname);
	free(s->soa.rname);
	free(s->nsid);
	free(s->version);
	free(s->detail);
	free(s->xfr_error);
	free(s->content_diff);
	free(s->zonemd_detail);
	for (size_t i = 0; i < s->nexpect; i++) {
		ss_expect_obs_clear(&s->expect[i]);
	}
	free(s->expect);
	memset(s, 0, sizeof(*s));
}

static void free_names(knot_dname_t **names, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(names[i]);
	}
	free(names);
}

static void clear_findings(ss_zone_result_t *res)
{
	for (size_t i = 0; i < res->nfindings; i++) {
		free(res->findings[i].servers);
		free(res->findings[i].message);
		free(res->findings[i].fix);
	}
	free(res->findings);
	res->findings = NULL;
	res->nfindings = 0;
}

void ss_zone_result_clear(ss_zone_result_t *res)
{
	ss_zone_obs_t *o = &res->obs;
	for (size_t i = 0; i < o->nservers; i++) {
		ss_server_obs_clear(&o->servers[i]);
	}
	free(o->servers);
	free(o->zone);
	free(o->zone_str);
	free(o->discovery_detail);
	free_names(o->parent_ns, o->nparent_ns);
	free_names(o->child_ns, o->nchild_ns);
	for (size_t i = 0; i < o->nunresolved_ns; i++) {
		free(o->unresolved_ns[i]);
	}
	free(o->unresolved_ns);
	free(o->mname);
	free(o->source);
	free(o->zonefile);
	free(o->zonefile_error);
	free(o->zonefile_diff);
	free(o->zonefile_zonemd_detail);
	for (size_t i = 0; i < o->ncandidates; i++) {
		ss_server_obs_clear(&o->candidates[i]);
	}
	free(o->candidates);
	clear_findings(res);
	memset(res, 0, sizeof(*res));
}

int ss_result_add_finding(ss_zone_result_t *res, ss_fcode_t id, ss_severity_t sev,
                          const ss_addr_t *servers, size_t nservers, const char *fix,
                          const char *fmt, ...)
{
	ss_finding_t *grown = realloc(res->findings, (res->nfindings + 1) * sizeof(*grown));
	if (grown == NULL) {
		return SS_ENOMEM;
	}
	res->findings = grown;
	ss_finding_t *f = &grown[res->nfindings];
	memset(f, 0, sizeof(*f));
	va_list ap;
	va_start(ap, fmt);
	int ret = vasprintf(&f->message, fmt, ap);
	va_end(ap);
	if (ret < 0) {
		f->message = NULL;
		return SS_ENOMEM;
	}
	if (nservers > 0) {
		f->servers = malloc(nservers * sizeof(*servers));
		if (f->servers == NULL) {
			free(f->message);
			return SS_ENOMEM;
		}
		memcpy(f->servers, servers, nservers * sizeof(*servers));
	}
	f->fix = fix ? strdup(fix) : NULL;
	f->id = id;
	f->code = ss_fcode_name(id);
	f->severity = sev;
	f->nservers = nservers;
	res->nfindings++;
	if (sev != SS_SEV_INFO && (int)sev > (int)res->status) {
		res->status = (ss_status_t)sev;
	}
	return 0;
}

/* ---- analysis ---------------------------------------------------------- */

/* A set of servers collected for one finding: every one of them goes into
 * the finding's server list, however many. */
typedef struct {
	const ss_server_obs_t **srv;
	size_t n, cap;
	bool failed;
} group_t;

#define GROUP_INIT                                                                                 \
	{                                                                                          \
		NULL, 0, 0, false                                                                  \
	}

/* A message names at most NAMED_MAX servers and says how many more there
 * are; the finding's server list names them all. */
#define NAMED_MAX 20

static void group_add(group_t *g, const ss_server_obs_t *s)
{
	if (g->n == g->cap) {
		size_t ncap = g->cap ? 2 * g->cap : 16;
		const ss_server_obs_t **grown = realloc(g->srv, ncap * sizeof(*grown));
		if (grown == NULL) {
			g->failed = true;
			return;
		}
		g->srv = grown;
		g->cap = ncap;
	}
	g->srv[g->n++] = s;
}

static void group_free(group_t *g)
{
	free(g->srv);
	*g = (group_t)GROUP_INIT;
}

/* Whether the i-th server of a list is still named in a message. */
static bool named(size_t i)
{
	return i < NAMED_MAX;
}

/* After a list of n servers: how many were not named. */
static void named_tail(ss_strbuf_t *b, size_t n, const char *sep)
{
	if (n > NAMED_MAX) {
		ss_strbuf_printf(b, "%sand %zu more", sep, n - NAMED_MAX);
	}
}

/* Add a finding about the servers of g. */
static int add_group_finding(ss_zone_result_t *res, ss_fcode_t code, ss_severity_t sev,
                             const group_t *g, const char *fix, const char *msg)
{
	ss_addr_t *addrs = g->n ? malloc(g->n * sizeof(*addrs)) : NULL;
	if (g->failed || (g->n && addrs == NULL)) {
		free(addrs);
		return SS_ENOMEM;
	}
	for (size_t i = 0; i < g->n; i++) {
		addrs[i] = g->srv[i]->addr;
	}
	int ret = ss_result_add_finding(res, code, sev, addrs, g->n, fix, "%s", msg);
	free(addrs);
	return ret;
}

static void label(ss_strbuf_t *b, const ss_server_obs_t *s)
{
	ss_strbuf_server(b, &s->addr, s->name);
}

/* RFC 7314: a primary answers EDNS EXPIRE with its SOA's expire field, a
 * secondary with the time its copy has left, counting down from its last
 * refresh (BIND and Knot; NSD and PowerDNS do not answer). A secondary that
 * refreshed within the second looks like a primary, so only a count-down is
 * proof. */
static bool expire_as_primary(const ss_server_obs_t *s)
{
	return s->has_soa && s->has_expire && s->expire_s == s->soa.expire;
}

static bool expire_counts_down(const ss_server_obs_t *s)
{
	return s->has_soa && s->has_expire && s->expire_s != s->soa.expire;
}

/* The MNAME server is evidently a secondary: an address of it counts EXPIRE
 * down, and none answers as a primary. Only a primary learned from the MNAME
 * is judged so: --primary is taken at its word. */
static bool mname_is_secondary(const ss_zone_obs_t *o)
{
	bool down = false, up = false;
	for (size_t i = 0; !o->primary_given && o->mname != NULL && i < o->nservers; i++) {
		const ss_server_obs_t *s = &o->servers[i];
		if (s->is_primary) {
			down = down || expire_counts_down(s);
			up = up || expire_as_primary(s);
		}
	}
	return down && !up;
}

/* The primary: the server named (--primary, else the MNAME); when the MNAME
 * server is evidently a secondary, the server answering EXPIRE as a primary
 * (the highest serial among several), else none. Marks primary_role. */
static ss_server_obs_t *pick_primary(ss_zone_result_t *res)
{
	ss_zone_obs_t *o = &res->obs;
	bool demoted = mname_is_secondary(o);
	ss_server_obs_t *p = NULL;
	for (size_t i = 0; i < o->nservers; i++) {
		ss_server_obs_t *s = &o->servers[i];
		s->primary_role = s->is_primary && !demoted;
		if (s->primary_role && s->has_soa && p == NULL) {
			p = s;
		}
		if (demoted && !s->is_primary && expire_as_primary(s) &&
		    (p == NULL ||
		     ss_serial_cmp(s->soa.serial, p->soa.serial) == SS_SERIAL_GREATER)) {
			p = s;
		}
	}
	for (size_t i = 0; demoted && p != NULL && i < o->nservers; i++) {
		/* The other addresses of that server's name answering alike. */
		ss_server_obs_t *s = &o->servers[i];
		s->primary_role =
		    s == p ||
		    (s->name != NULL && p->name != NULL && strcmp(s->name, p->name) == 0 &&
		     expire_as_primary(s) && s->soa.serial == p->soa.serial);
	}
	if (p != NULL) {
		res->primary_why = o->primary_given ? SS_PRIMARY_GIVEN
		                   : demoted        ? SS_PRIMARY_EXPIRE
		                                    : SS_PRIMARY_MNAME;
	}
	return p;
}

/* The reference: the primary's serial, else the highest (RFC 1982). */
static void pick_reference(ss_zone_result_t *res)
{
	const ss_zone_obs_t *o = &res->obs;
	const ss_server_obs_t *p = pick_primary(res);
	if (p != NULL) {
		res->has_reference = res->has_primary = res->reference_is_primary = true;
		res->reference_serial = p->soa.serial;
		res->primary = p->addr;
		return;
	}
	for (size_t i = 0; i < o->nservers; i++) {
		const ss_server_obs_t *s = &o->servers[i];
		if (!s->has_soa) {
			continue;
		}
		if (!res->has_reference ||
		    ss_serial_cmp(s->soa.serial, res->reference_serial) == SS_SERIAL_GREATER) {
			res->reference_serial = s->soa.serial;
			res->has_reference = true;
		}
	}
}

/* A primary learned only from the MNAME that is not in the NS set is
 * commonly hidden behind a firewall: its failures are not the zone's. */
static bool quiet_primary(const ss_zone_obs_t *o, const ss_server_obs_t *s)
{
	return !o->primary_given && (s->origin & ~(unsigned)SS_ORIGIN_PRIMARY) == 0;
}

static const char *ref_word(const ss_zone_result_t *res)
{
	return res->reference_is_primary ? "the primary's" : "the highest";
}

static int report_behind(ss_zone_result_t *res, const group_t *g)
{
	if (g->n == 0) {
		return 0;
	}
	ss_strbuf_t msg = SS_STRBUF_INIT, fix = SS_STRBUF_INIT;
	ss_strbuf_printf(&msg, "%zu server%s behind %s serial %u: ", g->n,
	                 g->n > 1 ? "s are" : " is", ref_word(res), res->reference_serial);
	for (size_t i = 0; i < g->n && named(i); i++) {
		const ss_server_obs_t *s = g->srv[i];
		char cmd[512];
		ss_strbuf_printf(&msg, "%s", i ? ", " : "");
		label(&msg, s);
		ss_strbuf_printf(&msg, " serves %u (%u behind)", s->soa.serial,
		                 ss_serial_distance(s->soa.serial, res->reference_serial));
		ss_fix_retransfer(s->vendor, cmd, sizeof(cmd), res->obs.zone_str, &s->addr);
		char a[SS_ADDR_STRLEN];
		ss_strbuf_printf(&fix, "%son %s%s%s%s: %s", i ? "; " : "",
		                 ss_addr_format(&s->addr, a, sizeof(a)), s->vendor ? " (" : "",
		                 s->vendor ? ss_vendor_name(s->vendor) : "", s->vendor ? ")" : "",
		                 cmd);
	}
	named_tail(&msg, g->n, ", ");
	named_tail(&fix, g->n, "; likewise on the others: ");
	ss_strbuf_printf(&fix,
	                 "; if it does not catch up, check that the primary notifies it "
	                 "and allows it to transfer (soasync doctor %s)",
	                 res->obs.zone_str);
	int ret = ss_strbuf_ok(&msg) && ss_strbuf_ok(&fix)
	              ? add_group_finding(res, SS_F_SERIAL_BEHIND, SS_SEV_CRITICAL, g, fix.s, msg.s)
	              : SS_ENOMEM;
	ss_strbuf_free(&msg);
	ss_strbuf_free(&fix);
	return ret;
}

static int report_ahead(ss_zone_result_t *res, const group_t *g)
{
	if (g->n == 0) {
		return 0;
	}
	ss_strbuf_t msg = SS_STRBUF_INIT, fix = SS_STRBUF_INIT;
	uint32_t top = g->srv[0]->soa.serial;
	char pa[SS_ADDR_STRLEN];
	ss_strbuf_printf(&msg, "the primary (%s) serves %u, lower than ",
	                 ss_addr_format(&res->primary, pa, sizeof(pa)), res->reference_serial);
	for (size_t i = 0; i < g->n; i++) {
		const ss_server_obs_t *s = g->srv[i];
		if (ss_serial_cmp(s->soa.serial, top) == SS_SERIAL_GREATER) {
			top = s->soa.serial;
		}
		if (named(i)) {
			ss_strbuf_printf(&msg, "%s%u on ", i ? ", " : "", s->soa.serial);
			label(&msg, s);
		}
	}
	named_tail(&msg, g->n, ", ");
	ss_strbuf_printf(&msg,
	                 ": the primary went backwards, and secondaries keep the newer serial "
	                 "until the primary's is greater again (RFC 1982)");
	uint32_t steps[3];
	int n = ss_serial_plan(top, res->reference_serial, steps, 3);
	ss_strbuf_printf(
	    &fix,
	    "raise the primary's serial above %u (soasync serial bump --at-least %u "
	    "ZONEFILE), reload and notify; to really go back to %u, publish in RFC 1982 "
	    "steps (soasync serial plan %u %u:",
	    top, top + 1, res->reference_serial, top, res->reference_serial);
	for (int i = 0; i < n; i++) {
		ss_strbuf_printf(&fix, " %u", steps[i]);
	}
	ss_strbuf_printf(&fix, "), waiting for every secondary between steps");
	int ret =
	    ss_strbuf_ok(&msg) && ss_strbuf_ok(&fix)
	        ? add_group_finding(res, SS_F_PRIMARY_BEHIND, SS_SEV_CRITICAL, g, fix.s, msg.s)
	        : SS_ENOMEM;
	ss_strbuf_free(&msg);
	ss_strbuf_free(&fix);
	return ret;
}

static int report_undefined(ss_zone_result_t *res, const group_t *g)
{
	if (g->n == 0) {
		return 0;
	}
	ss_strbuf_t msg = SS_STRBUF_INIT, fix = SS_STRBUF_INIT;
	for (size_t i = 0; i < g->n && named(i); i++) {
		ss_strbuf_printf(&msg, "%s", i ? ", " : "");
		label(&msg, g->srv[i]);
		ss_strbuf_printf(&msg, " serves %u", g->srv[i]->soa.serial);
	}
	named_tail(&msg, g->n, ", ");
	ss_strbuf_printf(&msg,
	                 ": exactly 2^31 from %s serial %u, so neither is newer (RFC 1982); "
	                 "BIND does not transfer, Knot and NSD do",
	                 ref_word(res), res->reference_serial);
	uint32_t s = g->srv[0]->soa.serial;
	uint32_t mid = s + SS_SERIAL_MAX_STEP;
	ss_strbuf_printf(
	    &fix,
	    "publish serial %u on the primary (greater than %u by 2^31-1), wait until "
	    "every server serves it, then continue upwards (soasync serial plan %u %u)",
	    mid, s, s, res->reference_serial);
	int ret =
	    ss_strbuf_ok(&msg) && ss_strbuf_ok(&fix)
	        ? add_group_finding(res, SS_F_SERIAL_UNDEFINED, SS_SEV_CRITICAL, g, fix.s, msg.s)
	        : SS_ENOMEM;
	ss_strbuf_free(&msg);
	ss_strbuf_free(&fix);
	return ret;
}

static const char *server_problem(const ss_server_obs_t *s)
{
	if (s->detail != NULL) {
		return s->detail;
	}
	if (s->kind == SS_ANS_NONE || s->kind == SS_ANS_MALFORMED) {
		return ss_strerror(s->error);
	}
	return "";
}

/* Findings about servers that gave no serial: one finding per code. */
static int report_list(ss_zone_result_t *res, const group_t *g, ss_fcode_t code, ss_severity_t sev,
                       const char *what, const char *fix)
{
	if (g->n == 0) {
		return 0;
	}
	ss_strbuf_t msg = SS_STRBUF_INIT;
	ss_strbuf_printf(&msg, "%s: ", what);
	for (size_t i = 0; i < g->n && named(i); i++) {
		ss_strbuf_printf(&msg, "%s", i ? "; " : "");
		label(&msg, g->srv[i]);
		const char *p = server_problem(g->srv[i]);
		if (*p) {
			ss_strbuf_printf(&msg, ": %s", p);
		}
	}
	named_tail(&msg, g->n, "; ");
	int ret = ss_strbuf_ok(&msg) ? add_group_finding(res, code, sev, g, fix, msg.s) : SS_ENOMEM;
	ss_strbuf_free(&msg);
	return ret;
}

static int report_unreachable(ss_zone_result_t *res, const group_t *g, bool any_soa)
{
	const ss_zone_obs_t *o = &res->obs;
	if (g->n == 0 && o->nunresolved_ns == 0) {
		return 0;
	}
	ss_strbuf_t msg = SS_STRBUF_INIT;
	ss_strbuf_printf(&msg, "no answer from ");
	for (size_t i = 0; i < g->n && named(i); i++) {
		ss_strbuf_printf(&msg, "%s", i ? "; " : "");
		label(&msg, g->srv[i]);
		ss_strbuf_printf(&msg, ": %s", server_problem(g->srv[i]));
	}
	named_tail(&msg, g->n, "; ");
	for (size_t i = 0; i < o->nunresolved_ns; i++) {
		ss_strbuf_printf(&msg, "%s%s: the name has no address", g->n + i ? "; " : "",
		                 o->unresolved_ns[i]);
	}
	const char *fix = "check that each server is up and answers on port 53 over UDP and TCP "
	                  "(firewalls, ACLs, routing), and that every NS name has an address";
	int ret = ss_strbuf_ok(&msg)
	              ? add_group_finding(res, SS_F_UNREACHABLE,
	                                  any_soa ? SS_SEV_WARNING : SS_SEV_CRITICAL, g, fix, msg.s)
	              : SS_ENOMEM;
	ss_strbuf_free(&msg);
	return ret;
}

static int report_servfail(ss_zone_result_t *res, const group_t *g)
{
	if (g->n == 0) {
		return 0;
	}
	ss_strbuf_t fix = SS_STRBUF_INIT;
	ss_strbuf_printf(&fix, "a secondary answers SERVFAIL when its copy expired: make it "
	                       "transfer again and check why it could not (primary reachable, "
	                       "transfers allowed)");
	for (size_t i = 0; i < g->n && named(i); i++) {
		char cmd[512], a[SS_ADDR_STRLEN];
		ss_fix_retransfer(g->srv[i]->vendor, cmd, sizeof(cmd), res->obs.zone_str,
		                  &g->srv[i]->addr);
		ss_strbuf_printf(&fix, "; on %s: %s",
		                 ss_addr_format(&g->srv[i]->addr, a, sizeof(a)), cmd);
	}
	named_tail(&fix, g->n, "; likewise on the others: ");
	int ret = ss_strbuf_ok(&fix)
	              ? report_list(res, g, SS_F_SERVFAIL, SS_SEV_CRITICAL,
	                            "SERVFAIL (the zone is broken or expired there)", fix.s)
	              : SS_ENOMEM;
	ss_strbuf_free(&fix);
	return ret;
}

static bool name_in(const knot_dname_t *n, knot_dname_t *const *set, size_t len)
{
	for (size_t i = 0; i < len; i++) {
		if (knot_dname_is_case_equal(n, set[i])) {
			return true;
		}
	}
	return false;
}

static void list_missing(ss_strbuf_t *b, knot_dname_t *const *a, size_t na,
                         knot_dname_t *const *other, size_t nother, size_t *count)
{
	for (size_t i = 0; i < na; i++) {
		if (!name_in(a[i], other, nother)) {
			char txt[KNOT_DNAME_TXT_MAXLEN + 1];
			knot_dname_to_str(txt, a[i], sizeof(txt));
			ss_strbuf_printf(b, "%s%s", (*count)++ ? ", " : "", txt);
		}
	}
}

static int report_ns_sets(ss_zone_result_t *res)
{
	const ss_zone_obs_t *o = &res->obs;
	if (!o->have_ns_sets) {
		return 0;
	}
	ss_strbuf_t p = SS_STRBUF_INIT, c = SS_STRBUF_INIT;
	size_t np = 0, nc = 0;
	list_missing(&p, o->parent_ns, o->nparent_ns, o->child_ns, o->nchild_ns, &np);
	list_missing(&c, o->child_ns, o->nchild_ns, o->parent_ns, o->nparent_ns, &nc);
	int ret = 0;
	if (np + nc > 0) {
		ret = ss_strbuf_ok(&p) && ss_strbuf_ok(&c)
		          ? ss_result_add_finding(
		                res, SS_F_NS_SET_MISMATCH, SS_SEV_WARNING, NULL, 0,
		                "make the zone's own NS RRset and the delegation in the parent "
		                "zone (at the registrar) list the same names",
		                "the parent's delegation and the zone's NS set differ: only at "
		                "the parent: %s; only in the zone: %s",
		                np ? p.s : "(none)", nc ? c.s : "(none)")
		          : SS_ENOMEM;
	}
	ss_strbuf_free(&p);
	ss_strbuf_free(&c);
	return ret;
}

static void soa_diff(ss_strbuf_t *b, const ss_soa_t *a, const ss_soa_t *r)
{
	char x[KNOT_DNAME_TXT_MAXLEN + 1], y[KNOT_DNAME_TXT_MAXLEN + 1];
	if (!knot_dname_is_case_equal(a->mname, r->mname)) {
		ss_strbuf_printf(b, " mname %s (not %s)", knot_dname_to_str(x, a->mname, sizeof(x)),
		                 knot_dname_to_str(y, r->mname, sizeof(y)));
	}
	if (!knot_dname_is_case_equal(a->rname, r->rname)) {
		ss_strbuf_printf(b, " rname %s (not %s)", knot_dname_to_str(x, a->rname, sizeof(x)),
		                 knot_dname_to_str(y, r->rname, sizeof(y)));
	}
#define FIELD(f)                                                                                   \
	if (a->f != r->f) {                                                                        \
		ss_strbuf_printf(b, " " #f " %u (not %u)", a->f, r->f);                            \
	}
	FIELD(refresh)
	FIELD(retry)
	FIELD(expire)
	FIELD(minimum)
#undef FIELD
}

static bool soa_same(const ss_soa_t *a, const ss_soa_t *b)
{
	return knot_dname_is_case_equal(a->mname, b->mname) &&
	       knot_dname_is_case_equal(a->rname, b->rname) && a->refresh == b->refresh &&
	       a->retry == b->retry && a->expire == b->expire && a->minimum == b->minimum;
}

static int report_soa_fields(ss_zone_result_t *res)
{
	const ss_zone_obs_t *o = &res->obs;
	long r = ss_zone_reference_server(res);
	if (r < 0) {
		return 0;
	}
	const ss_server_obs_t *ref = &o->servers[r];
	group_t g = GROUP_INIT;
	ss_strbuf_t msg = SS_STRBUF_INIT;
	char rl[SS_ADDR_STRLEN];
	for (size_t i = 0; i < o->nservers; i++) {
		const ss_server_obs_t *s = &o->servers[i];
		if (s->verdict == SS_VERDICT_AT_REFERENCE && !soa_same(&s->soa, &ref->soa)) {
			group_add(&g, s);
			if (g.n == 1) { /* words only for a finding: most zones have none */
				ss_strbuf_printf(&msg, "same serial %u as %s, other SOA fields: ",
				                 ref->soa.serial,
				                 ss_addr_format(&ref->addr, rl, sizeof(rl)));
			}
			if (named(g.n - 1)) {
				ss_strbuf_printf(&msg, "%s", g.n > 1 ? "; " : "");
				label(&msg, s);
				ss_strbuf_printf(&msg, " has");
				soa_diff(&msg, &s->soa, &ref->soa);
			}
		}
	}
	named_tail(&msg, g.n, "; ");
	int ret = 0;
	if (g.n > 0) {
		ret = ss_strbuf_ok(&msg)
		          ? add_group_finding(res, SS_F_SOA_FIELDS_DIFFER, SS_SEV_WARNING, &g,
		                              "the zone was changed without raising its serial: "
		                              "raise the serial on the primary (soasync serial "
		                              "bump ZONEFILE), reload it and let the secondaries "
		                              "transfer",
		                              msg.s)
		          : SS_ENOMEM;
	}
	ss_strbuf_free(&msg);
	group_free(&g);
	return ret;
}

static int report_primary(ss_zone_result_t *res)
{
	const ss_zone_obs_t *o = &res->obs;
	if (res->has_primary || (!o->primary_given && o->mname == NULL) || mname_is_secondary(o)) {
		return 0; /* an MNAME naming a secondary is mname-not-primary */
	}
	if (o->primary_given) {
		return ss_result_add_finding(
		    res, SS_F_PRIMARY_NOT_FOUND, SS_SEV_WARNING, NULL, 0,
		    "check the address given with --primary and that it serves the zone",
		    "the primary given with --primary gave no authoritative SOA; the highest "
		    "serial "
		    "is the reference");
	}
	return ss_result_add_finding(
	    res, SS_F_PRIMARY_NOT_FOUND, SS_SEV_INFO, NULL, 0,
	    "name the primary with --primary ADDR (a hidden primary is fine)",
	    "the SOA MNAME %s does not resolve to a server that answers authoritatively; the "
	    "highest serial is the reference",
	    o->mname);
}

/* The MNAME server counts EDNS EXPIRE down: it is a secondary, whatever the
 * SOA says (a copied template, a moved primary). */
static int report_mname(ss_zone_result_t *res)
{
	const ss_zone_obs_t *o = &res->obs;
	if (!mname_is_secondary(o)) {
		return 0;
	}
	group_t g = GROUP_INIT;
	ss_strbuf_t msg = SS_STRBUF_INIT;
	ss_strbuf_printf(&msg, "the SOA MNAME%s%s names ", o->mname ? " " : "",
	                 o->mname ? o->mname : "");
	for (size_t i = 0; i < o->nservers; i++) {
		const ss_server_obs_t *s = &o->servers[i];
		if (s->is_primary && expire_counts_down(s)) {
			group_add(&g, s);
			char a[SS_ADDR_STRLEN];
			ss_strbuf_printf(&msg, "%s%s", g.n > 1 ? ", " : "",
			                 ss_addr_format(&s->addr, a, sizeof(a)));
		}
	}
	const ss_server_obs_t *d = g.n ? g.srv[0] : NULL;
	ss_strbuf_printf(&msg,
	                 ", which answers EDNS EXPIRE as a secondary does (%u s left of its "
	                 "copy, not the SOA expire %u): it is not the primary",
	                 d ? d->expire_s : 0, d ? d->soa.expire : 0);
	if (res->has_primary) {
		char pa[SS_ADDR_STRLEN];
		ss_strbuf_printf(&msg,
		                 "; %s answers EXPIRE with the SOA expire, as a primary does, and "
		                 "is taken as the primary",
		                 ss_addr_format(&res->primary, pa, sizeof(pa)));
	} else {
		ss_strbuf_printf(&msg,
		                 "; no server answers EXPIRE as a primary (a hidden primary, or "
		                 "NSD or PowerDNS, which do not answer it), so the highest serial "
		                 "is the reference");
	}
	/* Misleading when another server is evidently the primary; common and
	 * harmless to the serials when a hidden primary stands behind it. */
	ss_severity_t sev = res->has_primary ? SS_SEV_WARNING : SS_SEV_INFO;
	int ret = ss_strbuf_ok(&msg)
	              ? add_group_finding(res, SS_F_MNAME_NOT_PRIMARY, sev, &g,
	                                  "set the SOA MNAME to the primary's name (dynamic "
	                                  "updates go to the MNAME, and tools take it for the "
	                                  "primary), or name the primary with --primary ADDR",
	                                  msg.s)
	              : SS_ENOMEM;
	ss_strbuf_free(&msg);
	group_free(&g);
	return ret;
}

/* One finding per transfer outcome, each server with its vendor's ACL hint. */
static int report_xfr_group(ss_zone_result_t *res, const group_t *g, ss_fcode_t code,
                            ss_severity_t sev, const char *what, const char *fixlead)
{
	if (g->n == 0) {
		return 0;
	}
	ss_strbuf_t msg = SS_STRBUF_INIT, fix = SS_STRBUF_INIT;
	const char *src = res->obs.source ? res->obs.source : "this host";
	ss_strbuf_printf(&msg, "%s (asked from %s): ", what, src);
	ss_strbuf_printf(&fix, "%s", fixlead);
	for (size_t i = 0; i < g->n && named(i); i++) {
		const ss_server_obs_t *s = g->srv[i];
		char a[SS_ADDR_STRLEN];
		ss_strbuf_printf(&msg, "%s", i ? "; " : "");
		label(&msg, s);
		if (s->xfr_error != NULL) {
			ss_strbuf_printf(&msg, ": %s", s->xfr_error);
		}
		ss_strbuf_printf(&fix, "%s%s: %s", i ? "; " : " ",
		                 ss_addr_format(&s->addr, a, sizeof(a)),
		                 ss_fix_transfer_acl(s->vendor));
	}
	named_tail(&msg, g->n, "; ");
	named_tail(&fix, g->n, "; likewise on the others: ");
	int ret = ss_strbuf_ok(&msg) && ss_strbuf_ok(&fix)
	              ? add_group_finding(res, code, sev, g, fix.s, msg.s)
	              : SS_ENOMEM;
	ss_strbuf_free(&msg);
	ss_strbuf_free(&fix);
	return ret;
}

/* Transfers past the memory limit; xfr_error names the limit and the option. */
static int report_too_large(ss_zone_result_t *res, const group_t *g)
{
	if (g->n == 0) {
		return 0;
	}
	ss_strbuf_t msg = SS_STRBUF_INIT;
	ss_strbuf_printf(&msg, "the transfer is too large: ");
	for (size_t i = 0; i < g->n; i++) {
		ss_strbuf_printf(&msg, "%s", i ? "; " : "");
		label(&msg, g->srv[i]);
		ss_strbuf_printf(&msg, ": %s", g->srv[i]->xfr_error ? g->srv[i]->xfr_error : "");
	}
	int ret = ss_strbuf_ok(&msg)
	              ? add_group_finding(res, SS_F_TRANSFER_TOO_LARGE, SS_SEV_WARNING, g,
	                                  "if the zone is that large, raise the limit with "
	                                  "--max-transfer-size SIZE; if not, the server sends "
	                                  "without end: check it and its logs",
	                                  msg.s)
	              : SS_ENOMEM;
	ss_strbuf_free(&msg);
	return ret;
}

/* The transfer that matters: the signed one when a key was given. */
static ss_xfr_state_t wanted_xfr(const ss_zone_obs_t *o, const ss_server_obs_t *s)
{
	return o->have_tsig ? s->axfr_tsig : s->axfr;
}

static int report_transfers(ss_zone_result_t *res)
{
	const ss_zone_obs_t *o = &res->obs;
	if (!o->xfr_check && !o->content_check) {
		return 0;
	}
	group_t refused = GROUP_INIT, failed = GROUP_INIT, open = GROUP_INIT, large = GROUP_INIT;
	for (size_t i = 0; i < o->nservers; i++) {
		const ss_server_obs_t *s = &o->servers[i];
		if (!s->has_soa) {
			continue;
		}
		if (o->xfr_check && s->axfr == SS_XFR_ALLOWED) {
			group_add(&open, s); /* a hidden primary that is open matters too */
		}
		if (quiet_primary(o, s)) {
			continue;
		}
		ss_xfr_state_t st = wanted_xfr(o, s);
		if (st == SS_XFR_REFUSED) {
			group_add(&refused, s);
		} else if (st == SS_XFR_FAILED) {
			group_add(s->xfr_too_large ? &large : &failed, s);
		}
	}
	/* Refusing strangers is the norm; refusing the key, or a data check the
	 * user asked for, is not. */
	ss_severity_t sev = (o->have_tsig || o->content_check) ? SS_SEV_WARNING : SS_SEV_INFO;
	int ret =
	    report_xfr_group(res, &refused, SS_F_TRANSFER_REFUSED, sev,
	                     o->have_tsig ? "these servers refuse the transfer signed with "
	                                    "the given key"
	                                  : "these servers refuse AXFR",
	                     o->have_tsig ? "give the key transfer rights:"
	                                  : "if this host should transfer the zone, allow it:");
	ret = ret ? ret
	          : report_xfr_group(res, &failed, SS_F_TRANSFER_FAILED, SS_SEV_WARNING,
	                             "the transfer failed", "check the server and its logs:");
	ret = ret ? ret : report_too_large(res, &large);
	ret =
	    ret ? ret
	        : report_xfr_group(res, &open, SS_F_TRANSFER_OPEN, SS_SEV_WARNING,
	                           "these servers give the whole zone to anyone who asks, without "
	                           "a key",
	                           "restrict transfers to the secondaries' addresses and a TSIG "
	                           "key:");
	group_free(&refused);
	group_free(&failed);
	group_free(&open);
	group_free(&large);
	return ret;
}

/* EDNS EXPIRE (RFC 7314): how long a secondary's copy stays valid. */
static int report_expire(ss_zone_result_t *res)
{
	const ss_zone_obs_t *o = &res->obs;
	uint32_t warn = o->expire_warn_s ? o->expire_warn_s : 86400;
	if (warn == UINT32_MAX) {
		return 0;
	}
	group_t g = GROUP_INIT;
	bool critical = false;
	ss_strbuf_t msg = SS_STRBUF_INIT, fix = SS_STRBUF_INIT;
	for (size_t i = 0; i < o->nservers; i++) {
		const ss_server_obs_t *s = &o->servers[i];
		if (!s->has_expire || s->primary_role || s->expire_s >= warn) {
			continue;
		}
		char cmd[512], a[SS_ADDR_STRLEN];
		critical = critical || s->expire_s < 3600;
		group_add(&g, s);
		if (g.n == 1) { /* words only for a finding: most zones have none */
			ss_strbuf_printf(&msg, "secondary copies expire soon (EDNS EXPIRE): ");
			ss_strbuf_printf(&fix, "a secondary stops answering when its copy expires: "
			                       "make it refresh from the primary now");
		}
		if (!named(g.n - 1)) {
			continue;
		}
		ss_strbuf_printf(&msg, "%s", g.n > 1 ? "; " : "");
		label(&msg, s);
		ss_strbuf_printf(&msg, " in %u s", s->expire_s);
		ss_fix_retransfer(s->vendor, cmd, sizeof(cmd), o->zone_str, &s->addr);
		ss_strbuf_printf(&fix, "; on %s: %s", ss_addr_format(&s->addr, a, sizeof(a)), cmd);
	}
	named_tail(&msg, g.n, "; ");
	named_tail(&fix, g.n, "; likewise on the others: ");
	int ret = 0;
	if (g.n > 0) {
		ret = ss_strbuf_ok(&msg) && ss_strbuf_ok(&fix)
		          ? add_group_finding(res, SS_F_EXPIRING_SOON,
		                              critical ? SS_SEV_CRITICAL : SS_SEV_WARNING, &g,
		                              fix.s, msg.s)
		          : SS_ENOMEM;
	}
	ss_strbuf_free(&msg);
	ss_strbuf_free(&fix);
	group_free(&g);
	return ret;
}

static void expect_label(ss_strbuf_t *b, const ss_expect_t *e)
{
	char n[KNOT_DNAME_TXT_MAXLEN + 1], t[32];
	knot_dname_to_str(n, e->owner, sizeof(n));
	knot_rrtype_to_string(e->type, t, sizeof(t));
	ss_strbuf_printf(b, "%s %s", n, t);
}

static void served_text(ss_strbuf_t *b, const ss_expect_obs_t *x)
{
	if (x->nserved == 0) {
		ss_strbuf_printf(b, "nothing");
		return;
	}
	ss_strbuf_printf(b, "{");
	for (size_t i = 0; i < x->nserved; i++) {
		ss_strbuf_printf(b, "%s%s", i ? " | " : "", x->served[i]);
	}
	ss_strbuf_printf(b, "}");
}

/* Why the servers lacking the change lack it: not transferred yet (they are
 * behind the primary), or the change never reached the primary at all. */
static void expect_cause(ss_strbuf_t *msg, ss_strbuf_t *fix, const ss_zone_result_t *res,
                         const group_t *g, size_t answering, bool deletion)
{
	const char *what = deletion ? "deletion" : "change";
	bool all_behind = g->n > 0;
	bool primary_lacks = false;
	for (size_t i = 0; i < g->n; i++) {
		const ss_server_obs_t *s = g->srv[i];
		all_behind = all_behind && s->verdict == SS_VERDICT_BEHIND;
		primary_lacks = primary_lacks || s->primary_role;
	}
	if (primary_lacks || g->n == answering) {
		ss_strbuf_printf(msg,
		                 "; %s: the %s never reached the primary (it was not saved, "
		                 "or not published/loaded)",
		                 g->n == answering
		                     ? (deletion ? "every server that answered still "
		                                   "serves it"
		                                 : "every server that answered lacks it")
		                     : (deletion ? "the primary still serves it too"
		                                 : "the primary lacks it too"),
		                 what);
		ss_strbuf_printf(fix,
		                 "make the %s on the primary (save and publish it at the "
		                 "provider, or edit the zone file, raise the serial and reload), "
		                 "then wait for it (soasync wait %s --expect ...)",
		                 what, res->obs.zone_str);
	} else if (all_behind) {
		ss_strbuf_printf(msg,
		                 "; those servers are also behind the primary's serial %u: the "
		                 "%s is on the primary and has not been transferred to them",
		                 res->reference_serial, what);
		ss_strbuf_printf(fix,
		                 "make the lagging secondaries transfer (see serial-behind; "
		                 "soasync notify %s), then soasync wait %s --expect ...",
		                 res->obs.zone_str, res->obs.zone_str);
	} else {
		ss_strbuf_printf(fix,
		                 "the servers that lack the %s serve the same serial as those "
		                 "that have it: the zone was changed without raising the serial; "
		                 "raise it on the primary and reload",
		                 what);
	}
}

static int report_one_expect(ss_zone_result_t *res, size_t k)
{
	const ss_zone_obs_t *o = &res->obs;
	const ss_expect_t *e = &o->expect->items[k];
	group_t bad = GROUP_INIT;
	size_t answering = 0;
	ss_strbuf_t msg = SS_STRBUF_INIT, fix = SS_STRBUF_INIT;
	expect_label(&msg, e);
	ss_strbuf_printf(&msg, ": ");
	for (size_t i = 0; i < o->nservers; i++) {
		const ss_server_obs_t *s = &o->servers[i];
		/* A server that does not serve the zone is reported on its own. */
		if (k >= s->nexpect || !s->has_soa) {
			continue;
		}
		answering++;
		ss_expect_status_t st = s->expect[k].status;
		if (st != SS_EXPECT_DIFFERS && st != SS_EXPECT_MISSING && st != SS_EXPECT_PRESENT &&
		    st != SS_EXPECT_ERROR) {
			continue;
		}
		group_add(&bad, s);
		if (!named(bad.n - 1)) {
			continue;
		}
		ss_strbuf_printf(&msg, "%s", bad.n > 1 ? "; " : "");
		label(&msg, s);
		if (st == SS_EXPECT_ERROR) {
			ss_strbuf_printf(&msg, " gives no authoritative answer for it (%s)",
			                 s->expect[k].error ? s->expect[k].error : "no answer");
			continue;
		}
		ss_strbuf_printf(&msg, " serves ");
		served_text(&msg, &s->expect[k]);
	}
	named_tail(&msg, bad.n, "; ");
	int ret = 0;
	if (bad.n > 0) {
		if (!e->absent) {
			char **want = NULL;
			int n = ss_expect_texts(e, &want);
			ss_strbuf_printf(&msg, "; expected {");
			for (int i = 0; i < n; i++) {
				ss_strbuf_printf(&msg, "%s%s", i ? " | " : "", want[i]);
				free(want[i]);
			}
			free(want);
			ss_strbuf_printf(&msg, "}");
		}
		expect_cause(&msg, &fix, res, &bad, answering, e->absent);
		ret = ss_strbuf_ok(&msg) && ss_strbuf_ok(&fix)
		          ? add_group_finding(res,
		                              e->absent ? SS_F_RECORD_STILL_PRESENT
		                                        : SS_F_RECORD_NOT_PUBLISHED,
		                              SS_SEV_CRITICAL, &bad, fix.s, msg.s)
		          : SS_ENOMEM;
	}
	ss_strbuf_free(&msg);
	ss_strbuf_free(&fix);
	group_free(&bad);
	return ret;
}

static int report_expect(ss_zone_result_t *res)
{
	const ss_zone_obs_t *o = &res->obs;
	int ret = 0;
	for (size_t k = 0; o->expect != NULL && k < o->expect->n && ret == 0; k++) {
		ret = report_one_expect(res, k);
	}
	return ret;
}

/* The address of the server whose data is the reference (for messages). */
static const char *reference_label(const ss_zone_result_t *res, char *buf, size_t len)
{
	if (res->has_primary) {
		char a[SS_ADDR_STRLEN];
		snprintf(buf, len, "the primary's (%s)",
		         ss_addr_format(&res->primary, a, sizeof(a)));
	} else {
		snprintf(buf, len, "the reference server's");
	}
	return buf;
}

static int report_content(ss_zone_result_t *res)
{
	const ss_zone_obs_t *o = &res->obs;
	group_t g = GROUP_INIT;
	ss_strbuf_t msg = SS_STRBUF_INIT;
	char ref[SS_ADDR_STRLEN + 32];
	for (size_t i = 0; i < o->nservers; i++) {
		const ss_server_obs_t *s = &o->servers[i];
		if (!s->content_differs) {
			continue;
		}
		group_add(&g, s);
		if (g.n == 1) { /* words only for a finding: most zones have none */
			ss_strbuf_printf(
			    &msg,
			    "same serial %u, other data than %s (- only there, + only on "
			    "the server named): ",
			    res->reference_serial, reference_label(res, ref, sizeof(ref)));
		}
		if (!named(g.n - 1)) {
			continue;
		}
		ss_strbuf_printf(&msg, "%s", g.n > 1 ? "; " : "");
		label(&msg, s);
		ss_strbuf_printf(&msg, ": %zu %s differ%s (%s)", s->content_ndiff,
		                 s->content == SS_CONTENT_QUERIED ? "RRsets" : "records",
		                 s->content == SS_CONTENT_QUERIED ? " when asked one by one" : "",
		                 s->content_diff ? s->content_diff : "");
	}
	named_tail(&msg, g.n, "; ");
	int ret = 0;
	if (g.n > 0) {
		ret = ss_strbuf_ok(&msg)
		          ? add_group_finding(
		                res, SS_F_SAME_SERIAL_DIFFERENT_DATA, SS_SEV_CRITICAL, &g,
		                "the zone was changed without raising its serial, so "
		                "secondaries kept the old data: raise the serial on the "
		                "primary (soasync serial bump ZONEFILE), reload it and notify "
		                "(soasync notify ZONE --all); a forced retransfer on each "
		                "secondary also works",
		                msg.s)
		          : SS_ENOMEM;
	}
	ss_strbuf_free(&msg);
	group_free(&g);
	return ret;
}

/* One finding for the copies (and the zone file) whose ZONEMD has status st. */
static int report_zonemd_status(ss_zone_result_t *res, ss_zonemd_status_t st, ss_fcode_t code,
                                ss_severity_t sev, const char *what, const char *fix)
{
	const ss_zone_obs_t *o = &res->obs;
	bool file = o->zonefile != NULL && o->zonefile_zonemd == st;
	group_t g = GROUP_INIT;
	ss_strbuf_t msg = SS_STRBUF_INIT;
	if (file) {
		ss_strbuf_printf(&msg, "%s: in the zone file %s (%s)", what, o->zonefile,
		                 o->zonefile_zonemd_detail ? o->zonefile_zonemd_detail : "");
	}
	for (size_t i = 0; i < o->nservers; i++) {
		const ss_server_obs_t *s = &o->servers[i];
		if (s->zonemd != st) {
			continue;
		}
		group_add(&g, s);
		if (g.n == 1 && !file) { /* words only for a finding: most zones have none */
			ss_strbuf_printf(&msg, "%s: ", what);
		}
		if (!named(g.n - 1)) {
			continue;
		}
		ss_strbuf_printf(&msg, "%s", g.n > 1 || file ? "; " : "");
		label(&msg, s);
		ss_strbuf_printf(&msg, " (%s)", s->zonemd_detail ? s->zonemd_detail : "");
	}
	named_tail(&msg, g.n, "; ");
	int ret = 0;
	if (g.n > 0 || file) {
		ret = ss_strbuf_ok(&msg) ? add_group_finding(res, code, sev, &g, fix, msg.s)
		                         : SS_ENOMEM;
	}
	ss_strbuf_free(&msg);
	group_free(&g);
	return ret;
}

static int report_zonemd(ss_zone_result_t *res)
{
	int ret = report_zonemd_status(
	    res, SS_ZONEMD_INVALID, SS_F_ZONEMD_INVALID, SS_SEV_CRITICAL,
	    "the zone's ZONEMD (RFC 8976) does not match its data",
	    "recompute the ZONEMD after every change (e.g. ldns-signzone -z, dnssec-signzone -z, "
	    "or Knot's zonemd-generate) and serve the zone again; validating resolvers and RFC "
	    "8976 consumers reject it as it is");
	/* RFC 8976 4: a ZONEMD nobody here can check verifies nothing. */
	return ret ? ret
	           : report_zonemd_status(
	                 res, SS_ZONEMD_UNSUPPORTED, SS_F_ZONEMD_UNSUPPORTED, SS_SEV_WARNING,
	                 "the zone's ZONEMD (RFC 8976) records use only schemes or hash "
	                 "algorithms this tool cannot verify, so the zone is not verified",
	                 "publish a ZONEMD with scheme SIMPLE (1) and hash SHA-384 (1) or SHA-512 "
	                 "(2), the ones RFC 8976 defines, beside (or instead of) the others");
}

/* The zone file is the source of truth: is it what the primary serves? */
static int report_zonefile(ss_zone_result_t *res)
{
	const ss_zone_obs_t *o = &res->obs;
	if (o->zonefile == NULL || !res->has_reference) {
		return 0;
	}
	if (o->zonefile_error != NULL) {
		return ss_result_add_finding(res, SS_F_ZONEFILE_ERROR, SS_SEV_UNKNOWN, NULL, 0,
		                             "fix the zone file", "--zonefile: %s",
		                             o->zonefile_error);
	}
	char ref[SS_ADDR_STRLEN + 32];
	reference_label(res, ref, sizeof(ref));
	uint32_t file = o->zonefile_serial, served = res->reference_serial;
	switch (ss_serial_cmp(file, served)) {
	case SS_SERIAL_GREATER: {
		long ri = res->has_primary ? ss_zone_reference_server(res) : -1;
		char cmd[1536], fix[1664];
		ss_fix_reload(ri >= 0 ? o->servers[ri].vendor : SS_VENDOR_UNKNOWN, cmd, sizeof(cmd),
		              o->zone_str);
		snprintf(
		    fix, sizeof(fix),
		    "load the file on the primary (%s) or run the publish step that was skipped",
		    cmd);
		return ss_result_add_finding(
		    res, SS_F_ZONEFILE_NOT_PUBLISHED, SS_SEV_CRITICAL, &res->primary,
		    res->has_primary, fix,
		    "the zone file %s has serial %u, but %s serial is %u: the edit was never "
		    "loaded or published",
		    o->zonefile, file, ref, served);
	}
	case SS_SERIAL_LESS:
	case SS_SERIAL_UNDEFINED:
		return ss_result_add_finding(
		    res, SS_F_ZONEFILE_BEHIND, SS_SEV_WARNING, &res->primary, res->has_primary,
		    "find where the zone was changed (a dynamic update, another copy of the "
		    "file, the provider's panel) and bring the file up to date before editing "
		    "it, or the next reload will publish older data",
		    "%s serial %u is ahead of the zone file %s (serial %u): the zone was changed "
		    "elsewhere, or the file is stale",
		    ref, served, o->zonefile, file);
	case SS_SERIAL_EQUAL:
		break;
	}
	if (!o->zonefile_differs) {
		return 0;
	}
	return ss_result_add_finding(
	    res, SS_F_SERIAL_NOT_BUMPED, SS_SEV_CRITICAL, &res->primary, res->has_primary,
	    "raise the serial in the file (soasync serial bump FILE), then reload the zone on "
	    "the primary",
	    "the zone file %s and %s data differ at the same serial %u (%zu records; - only "
	    "served, + only in the file: %s): the file was edited without raising the serial",
	    o->zonefile, ref, file, o->zonefile_ndiff, o->zonefile_diff ? o->zonefile_diff : "");
}

/* A secondary behind the primary that holds exactly a candidate's copy. */
static int report_wrong_source(ss_zone_result_t *res)
{
	const ss_zone_obs_t *o = &res->obs;
	int ret = 0;
	for (size_t i = 0; i < o->nservers && ret == 0; i++) {
		const ss_server_obs_t *s = &o->servers[i];
		if (!s->has_digest || s->verdict != SS_VERDICT_BEHIND) {
			continue;
		}
		for (size_t j = 0; j < o->ncandidates; j++) {
			const ss_server_obs_t *c = &o->candidates[j];
			if (!c->has_digest || c->xfr_serial != s->xfr_serial ||
			    memcmp(c->digest, s->digest, sizeof(c->digest)) != 0) {
				continue;
			}
			char a[SS_ADDR_STRLEN], ca[SS_ADDR_STRLEN], pa[SS_ADDR_STRLEN];
			ss_addr_format(&s->addr, a, sizeof(a));
			ss_addr_format(&c->addr, ca, sizeof(ca));
			ss_strbuf_t msg = SS_STRBUF_INIT;
			label(&msg, s);
			ss_strbuf_printf(&msg,
			                 " serves serial %u with exactly the data of candidate %s, "
			                 "not the primary's serial %u: it is pulling from %s",
			                 s->soa.serial, ca, res->reference_serial, ca);
			char fix[768];
			snprintf(
			    fix, sizeof(fix),
			    "point %s at the primary%s%s (BIND: primaries { ... }; in the zone; "
			    "NSD: request-xfr; Knot: master/remote), reload its configuration, "
			    "then retransfer; and stop %s from serving the zone if it is retired",
			    a, res->has_primary ? " " : "",
			    res->has_primary ? ss_addr_format(&res->primary, pa, sizeof(pa)) : "",
			    ca);
			ss_addr_t addrs[1] = {s->addr};
			ret =
			    ss_strbuf_ok(&msg)
			        ? ss_result_add_finding(res, SS_F_SECONDARY_WRONG_SOURCE,
			                                SS_SEV_CRITICAL, addrs, 1, fix, "%s", msg.s)
			        : SS_ENOMEM;
			ss_strbuf_free(&msg);
			break;
		}
	}
	return ret;
}

/* Serials that cannot be right: 0, an impossible or future date, a Unix
 * time far ahead. One finding naming every server showing one. */
static int report_sanity(ss_zone_result_t *res)
{
	const ss_zone_obs_t *o = &res->obs;
	if (o->now == 0) {
		return 0;
	}
	group_t g = GROUP_INIT;
	ss_strbuf_t msg = SS_STRBUF_INIT;
	uint32_t last = 0;
	size_t shown = 0;
	for (size_t i = 0; i < o->nservers; i++) {
		const ss_server_obs_t *s = &o->servers[i];
		char why[160] = "";
		if (!s->has_soa ||
		    !ss_serial_sanity(s->soa.serial, (time_t)o->now, why, sizeof(why))) {
			continue;
		}
		bool repeat = g.n > 0 && s->soa.serial == last;
		group_add(&g, s);
		if (!repeat && named(shown++)) {
			ss_strbuf_printf(&msg, "%sserial %u: %s", g.n > 1 ? "; " : "",
			                 s->soa.serial, why);
		}
		last = s->soa.serial;
	}
	named_tail(&msg, shown, "; ");
	int ret = 0;
	if (g.n > 0) {
		ret = ss_strbuf_ok(&msg)
		          ? add_group_finding(
		                res, SS_F_SERIAL_SANITY, SS_SEV_WARNING, &g,
		                "publish a sane serial that is still greater (RFC 1982): soasync "
		                "serial plan OLD NEW gives the safe steps when the right value "
		                "is lower; soasync serial bump --policy date FILE keeps dates "
		                "right",
		                msg.s)
		          : SS_ENOMEM;
	}
	ss_strbuf_free(&msg);
	group_free(&g);
	return ret;
}

typedef struct {
	group_t behind, ahead, undefined, notauth, unreach, servfail, local;
	bool any_soa;
} sort_t;

/* The one rule for a server's verdict (after pick_reference). */
static ss_verdict_t server_verdict(const ss_zone_result_t *res, const ss_server_obs_t *s)
{
	const ss_zone_obs_t *o = &res->obs;
	if (s->has_soa) {
		switch (ss_serial_cmp(s->soa.serial, res->reference_serial)) {
		case SS_SERIAL_EQUAL:
			return SS_VERDICT_AT_REFERENCE;
		case SS_SERIAL_LESS:
			return SS_VERDICT_BEHIND;
		case SS_SERIAL_UNDEFINED:
			return SS_VERDICT_UNDEFINED;
		case SS_SERIAL_GREATER:
			/* Without a primary nothing can be ahead of the highest serial. */
			return res->reference_is_primary ? SS_VERDICT_AHEAD : SS_VERDICT_BEHIND;
		}
	}
	if (quiet_primary(o, s)) {
		return SS_VERDICT_HIDDEN_PRIMARY;
	}
	switch (s->kind) {
	case SS_ANS_SERVFAIL:
		return SS_VERDICT_SERVFAIL;
	case SS_ANS_NOT_AUTH:
	case SS_ANS_REFERRAL:
		return SS_VERDICT_NOT_AUTH;
	case SS_ANS_NO_SOA:
		return SS_VERDICT_NO_SOA;
	default:
		/* Out of open files here says nothing about the server. */
		return s->error == SS_EMFILE ? SS_VERDICT_LOCAL_ERROR : SS_VERDICT_UNREACHABLE;
	}
}

/* Each server's verdict, and the servers of each finding grouped. */
static void classify(ss_zone_result_t *res, sort_t *st)
{
	ss_zone_obs_t *o = &res->obs;
	for (size_t i = 0; i < o->nservers; i++) {
		ss_server_obs_t *s = &o->servers[i];
		s->verdict = server_verdict(res, s);
		if (s->has_soa) {
			st->any_soa = true;
		}
		switch (s->verdict) {
		case SS_VERDICT_BEHIND:
			group_add(&st->behind, s);
			break;
		case SS_VERDICT_AHEAD:
			group_add(&st->ahead, s);
			break;
		case SS_VERDICT_UNDEFINED:
			group_add(&st->undefined, s);
			break;
		case SS_VERDICT_SERVFAIL:
			group_add(&st->servfail, s);
			break;
		case SS_VERDICT_NOT_AUTH:
		case SS_VERDICT_NO_SOA:
			group_add(&st->notauth, s);
			break;
		case SS_VERDICT_UNREACHABLE:
			group_add(&st->unreach, s);
			break;
		case SS_VERDICT_LOCAL_ERROR:
			group_add(&st->local, s);
			break;
		default:
			break;
		}
	}
}

int ss_check_analyze(ss_zone_result_t *res)
{
	ss_zone_obs_t *o = &res->obs;
	clear_findings(res);
	res->status = SS_STATUS_OK;
	res->has_reference = res->has_primary = res->reference_is_primary = false;
	res->primary_why = SS_PRIMARY_NONE;
	res->reference_serial = 0;
	if (o->not_found) {
		return ss_result_add_finding(
		    res, SS_F_ZONE_NOT_FOUND, SS_SEV_CRITICAL, NULL, 0,
		    "check the zone name; if it is new, have it delegated in its parent zone", "%s",
		    o->discovery_detail ? o->discovery_detail : "the zone does not exist");
	}
	if (o->nservers == 0) {
		return ss_result_add_finding(res, SS_F_DISCOVERY_FAILED, SS_SEV_UNKNOWN, NULL, 0,
		                             "check --resolver, or name the servers with --ns",
		                             "no server address found: %s",
		                             o->discovery_detail ? o->discovery_detail
		                                                 : ss_strerror(o->discovery_error));
	}
	pick_reference(res);
	sort_t st = {GROUP_INIT, GROUP_INIT, GROUP_INIT, GROUP_INIT,
	             GROUP_INIT, GROUP_INIT, GROUP_INIT, false};
	classify(res, &st);
	int ret = 0;
	ret = ret ? ret : report_ahead(res, &st.ahead);
	ret = ret ? ret : report_behind(res, &st.behind);
	ret = ret ? ret : report_undefined(res, &st.undefined);
	ret = ret ? ret : report_servfail(res, &st.servfail);
	ret =
	    ret ? ret
	        : report_list(res, &st.notauth, SS_F_NOT_AUTHORITATIVE, SS_SEV_CRITICAL,
	                      "these addresses do not serve the zone authoritatively; their serial "
	                      "does not count",
	                      "configure the zone on those servers, or remove their names from "
	                      "the zone's NS set and from the parent's delegation");
	ret = ret ? ret : report_unreachable(res, &st.unreach, st.any_soa);
	ret = ret ? ret
	          : report_list(res, &st.local, SS_F_LOCAL_ERROR, SS_SEV_UNKNOWN,
	                        "this host ran out of open files and could not ask these "
	                        "addresses; their state is unknown",
	                        "raise the open-file limit (ulimit -n; LimitNOFILE= for a "
	                        "service) or ask fewer servers at once (--max-inflight)");
	ret = ret ? ret : report_ns_sets(res);
	ret = ret ? ret : report_primary(res);
	ret = ret ? ret : report_mname(res);
	ret = ret ? ret : report_soa_fields(res);
	ret = ret ? ret : report_transfers(res);
	ret = ret ? ret : report_expire(res);
	ret = ret ? ret : report_expect(res);
	ret = ret ? ret : report_content(res);
	ret = ret ? ret : report_zonemd(res);
	ret = ret ? ret : report_zonefile(res);
	ret = ret ? ret : report_wrong_source(res);
	ret = ret ? ret : report_sanity(res);
	group_t *groups[] = {&st.behind,  &st.ahead,    &st.undefined, &st.notauth,
	                     &st.unreach, &st.servfail, &st.local};
	for (size_t i = 0; i < sizeof(groups) / sizeof(groups[0]); i++) {
		group_free(groups[i]);
	}
	return ret;
}
