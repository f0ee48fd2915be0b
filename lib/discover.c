/*
 * Discovery as a chain of phases. Each phase issues its lookups with a
 * pending counter guarded by one extra reference, so answers from the
 * resolver's cache (delivered synchronously) cannot end a phase early.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <soasync/discover.h>
#include <soasync/error.h>

#include "util_strbuf.h"
#include "wire_pkt.h"
#include "wire_rdata.h"

#define MAX_NAMES    64
#define MAX_ADDRS    32 /* per name */
#define PARENT_TRIES 4
#define CHILD_TRIES  4

typedef struct {
	knot_dname_t *name;
	unsigned origin;    /* SS_ORIGIN_PARENT, CHILD, PRIMARY */
	bool parent_server; /* a server of the parent zone */
	ss_addr_t addrs[MAX_ADDRS];
	size_t naddrs;
	bool looked_up;
} nsname_t;

typedef struct disc disc_t;
typedef void (*phase_fn)(disc_t *d);

struct disc {
	ss_resolver_t *r;
	ss_engine_t *e;
	ss_zone_obs_t *obs;
	ss_discover_opts_t opts;
	ss_discover_cb cb;
	void *arg;

	int pending;
	phase_fn next;

	bool zone_soa_seen;   /* the resolver returned the zone's SOA */
	knot_dname_t *parent; /* apex of the parent zone */
	nsname_t names[MAX_NAMES];
	size_t nnames;
	ss_addr_t pservers[MAX_NAMES]; /* addresses of the parent's servers */
	size_t npservers, ptry;
	ss_addr_t dservers[MAX_NAMES]; /* addresses of the delegated servers */
	size_t ndservers, ctry;
	bool delegation_seen, child_seen;
};

static void phase_parent_ns(disc_t *d);
static void phase_parent_addrs(disc_t *d);
static void phase_ask_parent(disc_t *d);
static void phase_delegated_addrs(disc_t *d);
static void phase_ask_child(disc_t *d);
static void phase_child_addrs(disc_t *d);
static void phase_mname(disc_t *d);
static void phase_done(disc_t *d);

/* ---- helpers ----------------------------------------------------------- */

static void set_detail(disc_t *d, int error, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void set_detail(disc_t *d, int error, const char *fmt, ...)
{
	if (d->obs->discovery_detail != NULL) {
		return; /* the first failure is the cause */
	}
	va_list ap;
	va_start(ap, fmt);
	char *s = NULL;
	if (vasprintf(&s, fmt, ap) < 0) {
		s = NULL;
	}
	va_end(ap);
	d->obs->discovery_detail = s;
	if (error != 0) {
		d->obs->discovery_error = error;
	}
}

static const char *dname_txt(const knot_dname_t *n, char *buf, size_t len)
{
	if (knot_dname_to_str(buf, n, len) == NULL) {
		snprintf(buf, len, "?");
	}
	return buf;
}

static void phase_ref(disc_t *d)
{
	d->pending++;
}

static void phase_unref(disc_t *d)
{
	if (--d->pending == 0) {
		phase_fn next = d->next;
		d->next = NULL;
		next(d);
	}
}

/* Run `fn` to issue a phase's lookups; `then` runs when all have answered. */
static void phase_run(disc_t *d, phase_fn issue, phase_fn then)
{
	d->next = then;
	d->pending = 1;
	issue(d);
	phase_unref(d);
}

static const char *rcode_txt(uint16_t rcode)
{
	const knot_lookup_t *l = knot_lookup_by_id(knot_rcode_names, rcode);
	return l ? l->name : "an unknown RCODE";
}

static nsname_t *name_get(disc_t *d, const knot_dname_t *name, unsigned origin)
{
	for (size_t i = 0; i < d->nnames; i++) {
		if (knot_dname_is_case_equal(d->names[i].name, name)) {
			d->names[i].origin |= origin;
			return &d->names[i];
		}
	}
	if (d->nnames == MAX_NAMES) {
		return NULL;
	}
	nsname_t *n = &d->names[d->nnames];
	n->name = knot_dname_copy(name, NULL);
	if (n->name == NULL) {
		return NULL;
	}
	knot_dname_to_lower(n->name);
	n->origin = origin;
	d->nnames++;
	return n;
}

static void name_add_addr(nsname_t *n, const ss_addr_t *a)
{
	for (size_t i = 0; i < n->naddrs; i++) {
		if (ss_addr_equal(&n->addrs[i], a)) {
			return;
		}
	}
	if (n->naddrs < MAX_ADDRS) {
		n->addrs[n->naddrs++] = *a;
	}
}

static bool family_wanted(const disc_t *d, int fam)
{
	return fam == AF_INET ? !d->opts.only6 : !d->opts.only4;
}

/* Addresses from A/AAAA records (answer or glue) of `rr`. Both families are
 * kept: -4/-6 choose which addresses are checked, not how discovery gets
 * there, and a name with only the other family is not "without address". */
static void add_rr_addrs(disc_t *d, nsname_t *n, const knot_rrset_t *rr)
{
	if (rr == NULL || (rr->type != KNOT_RRTYPE_A && rr->type != KNOT_RRTYPE_AAAA)) {
		return;
	}
	knot_rdata_t *rd = rr->rrs.rdata;
	for (uint16_t i = 0; i < rr->rrs.count; i++, rd = knot_rdataset_next(rd)) {
		ss_addr_t a;
		if (ss_addr_from_raw(&a, rd->data, rd->len, d->opts.port ? d->opts.port : 53) ==
		    0) {
			name_add_addr(n, &a);
		}
	}
}

typedef struct {
	disc_t *d;
	size_t idx; /* into d->names */
} addr_req_t;

static void addr_answered(const ss_lookup_t *res, void *arg)
{
	addr_req_t *req = arg;
	disc_t *d = req->d;
	if (res->error == 0 && res->rcode == KNOT_RCODE_NOERROR) {
		add_rr_addrs(d, &d->names[req->idx], res->answer);
	}
	free(req);
	phase_unref(d);
}

static void lookup_addrs(disc_t *d, size_t idx, uint16_t type)
{
	addr_req_t *req = malloc(sizeof(*req));
	if (req == NULL) {
		set_detail(d, SS_ENOMEM, "out of memory");
		return;
	}
	req->d = d;
	req->idx = idx;
	phase_ref(d);
	if (ss_resolver_lookup(d->r, d->names[idx].name, type, addr_answered, req) != 0) {
		free(req);
		d->pending--;
	}
}

/* Resolve every name with origin in `mask` that was not looked up yet. */
static void resolve_names(disc_t *d, unsigned mask)
{
	for (size_t i = 0; i < d->nnames; i++) {
		nsname_t *n = &d->names[i];
		if (!(n->origin & mask) || n->looked_up) {
			continue;
		}
		n->looked_up = true;
		lookup_addrs(d, i, KNOT_RRTYPE_A);
		lookup_addrs(d, i, KNOT_RRTYPE_AAAA);
	}
}

/* ---- phase 1: the zone's SOA and the parent's apex --------------------- */

static void zone_soa_answered(const ss_lookup_t *res, void *arg)
{
	disc_t *d = arg;
	char z[KNOT_DNAME_TXT_MAXLEN + 1], o[KNOT_DNAME_TXT_MAXLEN + 1];
	const knot_dname_t *zone = d->obs->zone;
	if (res->error != 0) {
		set_detail(d, 0, "the resolver gave no answer for %s SOA: %s",
		           dname_txt(zone, z, sizeof(z)), ss_strerror(res->error));
	} else if (res->rcode == KNOT_RCODE_NXDOMAIN) {
		d->obs->not_found = true;
		set_detail(d, SS_ENOTFOUND, "%s does not exist (NXDOMAIN)",
		           dname_txt(zone, z, sizeof(z)));
	} else if (res->rcode == KNOT_RCODE_NOERROR && res->answer != NULL &&
	           knot_dname_is_case_equal(res->answer->owner, zone) &&
	           ss_rdata_soa_ok(res->answer->rrs.rdata)) {
		d->zone_soa_seen = true;
		if (d->opts.nprimary == 0 && d->obs->mname == NULL) {
			const knot_dname_t *m = knot_soa_primary(res->answer->rrs.rdata);
			d->obs->mname = knot_dname_to_str_alloc(m);
			name_get(d, m, SS_ORIGIN_PRIMARY);
		}
	} else if (res->rcode == KNOT_RCODE_NOERROR && res->soa != NULL) {
		d->obs->not_found = true;
		set_detail(d, SS_ENOTFOUND, "%s is not a zone: it lies inside zone %s",
		           dname_txt(zone, z, sizeof(z)), dname_txt(res->soa->owner, o, sizeof(o)));
	} else if (res->rcode != KNOT_RCODE_NOERROR) {
		set_detail(d, 0, "the resolver answered %s SOA with %s",
		           dname_txt(zone, z, sizeof(z)), rcode_txt(res->rcode));
	}
	phase_unref(d);
}

static void parent_soa_answered(const ss_lookup_t *res, void *arg)
{
	disc_t *d = arg;
	const knot_rrset_t *soa = NULL;
	if (res->error == 0 && res->answer != NULL) {
		soa = res->answer;
	} else if (res->error == 0 && res->soa != NULL) {
		soa = res->soa;
	}
	if (soa != NULL && d->parent == NULL) {
		d->parent = knot_dname_copy(soa->owner, NULL);
	}
	phase_unref(d);
}

static void issue_start(disc_t *d)
{
	const knot_dname_t *zone = d->obs->zone;
	phase_ref(d);
	if (ss_resolver_lookup(d->r, zone, KNOT_RRTYPE_SOA, zone_soa_answered, d) != 0) {
		d->pending--;
	}
	if (*zone != '\0') {
		const knot_dname_t *up = knot_wire_next_label(zone, NULL);
		phase_ref(d);
		if (ss_resolver_lookup(d->r, up, KNOT_RRTYPE_SOA, parent_soa_answered, d) != 0) {
			d->pending--;
		}
	}
}

static void after_start(disc_t *d)
{
	char z[KNOT_DNAME_TXT_MAXLEN + 1];
	if (d->obs->not_found) {
		phase_done(d);
		return;
	}
	if (*d->obs->zone == '\0') {
		/* The root has no parent: its NS set is the child set only. */
		phase_ask_child(d);
		return;
	}
	if (d->parent == NULL) {
		/* Without the parent only the zone's own NS set can be learned. */
		set_detail(d, 0, "the resolver did not tell the parent zone of %s",
		           dname_txt(d->obs->zone, z, sizeof(z)));
		phase_ask_child(d);
		return;
	}
	phase_parent_ns(d);
}

/* ---- phase 2: the parent's servers ------------------------------------- */

static void parent_ns_answered(const ss_lookup_t *res, void *arg)
{
	disc_t *d = arg;
	const knot_rrset_t *ns = res->error == 0 ? res->answer : NULL;
	if (ns != NULL && ns->type == KNOT_RRTYPE_NS) {
		knot_rdata_t *rd = ns->rrs.rdata;
		for (uint16_t i = 0; i < ns->rrs.count; i++, rd = knot_rdataset_next(rd)) {
			if (!ss_rdata_name_ok(rd)) {
				continue;
			}
			nsname_t *n = name_get(d, knot_ns_name(rd), 0);
			if (n != NULL) {
				n->parent_server = true;
			}
		}
	}
	phase_unref(d);
}

static void issue_parent_ns(disc_t *d)
{
	phase_ref(d);
	if (ss_resolver_lookup(d->r, d->parent, KNOT_RRTYPE_NS, parent_ns_answered, d) != 0) {
		d->pending--;
	}
}

static void phase_parent_ns(disc_t *d)
{
	phase_run(d, issue_parent_ns, phase_parent_addrs);
}

static void issue_parent_addrs(disc_t *d)
{
	for (size_t i = 0; i < d->nnames; i++) {
		nsname_t *n = &d->names[i];
		if (n->parent_server && !n->looked_up) {
			n->looked_up = true;
			lookup_addrs(d, i, KNOT_RRTYPE_A);
			lookup_addrs(d, i, KNOT_RRTYPE_AAAA);
		}
	}
}

/* Addresses of the names with `mask` origin (or parent servers), those of the
 * wanted family first. */
static size_t gather(disc_t *d, unsigned mask, bool parent, ss_addr_t *out, size_t cap)
{
	size_t n = 0;
	for (int pass = 0; pass < 2; pass++) {
		for (size_t i = 0; i < d->nnames; i++) {
			nsname_t *nm = &d->names[i];
			bool take = parent ? nm->parent_server : (nm->origin & mask) != 0;
			for (size_t j = 0; take && j < nm->naddrs && n < cap; j++) {
				bool wanted = family_wanted(d, ss_addr_family(&nm->addrs[j]));
				if (wanted == (pass == 0)) {
					out[n++] = nm->addrs[j];
				}
			}
		}
	}
	return n;
}

static void collect_parent_servers(disc_t *d)
{
	d->npservers = gather(d, 0, true, d->pservers, MAX_NAMES);
}

static void phase_parent_addrs(disc_t *d)
{
	phase_run(d, issue_parent_addrs, phase_ask_parent);
}

/* ---- phase 3: the delegation, from the parent's servers (RD=0) --------- */

static void take_ns_set(disc_t *d, const knot_rrset_t *ns, unsigned origin)
{
	knot_rdata_t *rd = ns->rrs.rdata;
	for (uint16_t i = 0; i < ns->rrs.count; i++, rd = knot_rdataset_next(rd)) {
		if (ss_rdata_name_ok(rd)) {
			name_get(d, knot_ns_name(rd), origin);
		}
	}
}

static void take_glue(disc_t *d, const knot_pkt_t *pkt)
{
	const knot_pktsection_t *add = knot_pkt_section(pkt, KNOT_ADDITIONAL);
	for (uint16_t i = 0; i < add->count; i++) {
		const knot_rrset_t *rr = knot_pkt_rr(add, i);
		if (rr->rclass != KNOT_CLASS_IN) {
			continue;
		}
		for (size_t j = 0; j < d->nnames; j++) {
			nsname_t *n = &d->names[j];
			if ((n->origin & SS_ORIGIN_PARENT) &&
			    knot_dname_is_case_equal(n->name, rr->owner)) {
				add_rr_addrs(d, n, rr);
			}
		}
	}
}

/* Returns true when this answer settled the delegation question. */
static bool parent_answer(disc_t *d, const ss_response_t *resp)
{
	char z[KNOT_DNAME_TXT_MAXLEN + 1], p[KNOT_DNAME_TXT_MAXLEN + 1];
	const knot_dname_t *zone = d->obs->zone;
	if (resp->error != 0) {
		return false;
	}
	knot_rrset_t *ns = ss_pkt_collect(resp->pkt, KNOT_AUTHORITY, KNOT_RRTYPE_NS, zone);
	if (ns == NULL && resp->aa) {
		ns = ss_pkt_collect(resp->pkt, KNOT_ANSWER, KNOT_RRTYPE_NS, zone);
	}
	if (resp->rcode == KNOT_RCODE_NOERROR && ns != NULL) {
		take_ns_set(d, ns, SS_ORIGIN_PARENT);
		knot_rrset_free(ns, NULL);
		take_glue(d, resp->pkt);
		d->delegation_seen = true;
		return true;
	}
	knot_rrset_free(ns, NULL);
	if (resp->aa && (resp->rcode == KNOT_RCODE_NXDOMAIN || resp->rcode == KNOT_RCODE_NOERROR)) {
		d->obs->not_found = true;
		set_detail(d, SS_ENOTFOUND, "the parent zone %s has no delegation for %s (%s)",
		           dname_txt(d->parent, p, sizeof(p)), dname_txt(zone, z, sizeof(z)),
		           resp->rcode == KNOT_RCODE_NXDOMAIN ? "NXDOMAIN" : "no NS records");
		return true;
	}
	return false;
}

static void ask_parent_next(disc_t *d);

static void parent_answered(const ss_response_t *resp, void *arg)
{
	disc_t *d = arg;
	if (parent_answer(d, resp) || d->ptry >= d->npservers || d->ptry >= PARENT_TRIES) {
		phase_delegated_addrs(d);
		return;
	}
	ask_parent_next(d);
}

static void ask_parent_next(disc_t *d)
{
	ss_query_t q = {
	    .server = d->pservers[d->ptry++],
	    .qname = d->obs->zone,
	    .qtype = KNOT_RRTYPE_NS,
	    .flags = SS_QF_EDNS,
	};
	if (ss_engine_query(d->e, &q, parent_answered, d) != 0) {
		set_detail(d, SS_ENOMEM, "out of memory");
		phase_done(d);
	}
}

static void phase_ask_parent(disc_t *d)
{
	char p[KNOT_DNAME_TXT_MAXLEN + 1];
	collect_parent_servers(d);
	if (d->npservers == 0) {
		set_detail(d, 0, "no address for the servers of the parent zone %s",
		           dname_txt(d->parent, p, sizeof(p)));
		phase_delegated_addrs(d);
		return;
	}
	ask_parent_next(d);
}

/* ---- phase 4: addresses of the delegated servers and of the MNAME ------ */

static void issue_delegated(disc_t *d)
{
	resolve_names(d, SS_ORIGIN_PARENT | SS_ORIGIN_PRIMARY);
}

static void phase_delegated_addrs(disc_t *d)
{
	if (d->obs->not_found) {
		phase_done(d);
		return;
	}
	phase_run(d, issue_delegated, phase_ask_child);
}

/* ---- phase 5: the zone's own NS set, from its servers (RD=0) ----------- */

static void child_from_resolver(const ss_lookup_t *res, void *arg)
{
	disc_t *d = arg;
	if (res->error == 0 && res->answer != NULL && res->answer->type == KNOT_RRTYPE_NS) {
		take_ns_set(d, res->answer, SS_ORIGIN_CHILD);
		if (!d->delegation_seen) {
			/* No usable parent: the resolver's view stands in for both. */
			take_ns_set(d, res->answer, SS_ORIGIN_PARENT);
		}
		d->child_seen = true;
	}
	phase_unref(d);
}

static void issue_child_resolver(disc_t *d)
{
	phase_ref(d);
	if (ss_resolver_lookup(d->r, d->obs->zone, KNOT_RRTYPE_NS, child_from_resolver, d) != 0) {
		d->pending--;
	}
}

static void ask_child_next(disc_t *d);

static void child_answered(const ss_response_t *resp, void *arg)
{
	disc_t *d = arg;
	if (resp->error == 0 && resp->aa && resp->rcode == KNOT_RCODE_NOERROR) {
		knot_rrset_t *ns =
		    ss_pkt_collect(resp->pkt, KNOT_ANSWER, KNOT_RRTYPE_NS, d->obs->zone);
		if (ns != NULL) {
			take_ns_set(d, ns, SS_ORIGIN_CHILD);
			knot_rrset_free(ns, NULL);
			d->child_seen = true;
			phase_child_addrs(d);
			return;
		}
	}
	if (d->ctry < d->ndservers && d->ctry < CHILD_TRIES) {
		ask_child_next(d);
		return;
	}
	phase_run(d, issue_child_resolver, phase_child_addrs);
}

static void ask_child_next(disc_t *d)
{
	ss_query_t q = {
	    .server = d->dservers[d->ctry++],
	    .qname = d->obs->zone,
	    .qtype = KNOT_RRTYPE_NS,
	    .flags = SS_QF_EDNS,
	};
	if (ss_engine_query(d->e, &q, child_answered, d) != 0) {
		set_detail(d, SS_ENOMEM, "out of memory");
		phase_done(d);
	}
}

static void phase_ask_child(disc_t *d)
{
	d->ndservers = gather(d, SS_ORIGIN_PARENT, false, d->dservers, MAX_NAMES);
	if (d->ndservers == 0) {
		phase_run(d, issue_child_resolver, phase_child_addrs);
		return;
	}
	ask_child_next(d);
}

/* ---- phase 6: addresses of names only in the zone's NS set ------------- */

static void issue_child_addrs(disc_t *d)
{
	resolve_names(d, SS_ORIGIN_CHILD | SS_ORIGIN_PRIMARY | SS_ORIGIN_PARENT);
}

static void phase_child_addrs(disc_t *d)
{
	phase_run(d, issue_child_addrs, phase_mname);
}

/* ---- phase 7: the MNAME from the zone's own servers ---------------------- */

/* The resolver did not give the zone's SOA (it failed, or gave an empty
 * answer): the primary is then learned from an authoritative SOA answer. */
static void ask_mname_next(disc_t *d);

static void issue_mname_addrs(disc_t *d)
{
	resolve_names(d, SS_ORIGIN_PRIMARY);
}

static void mname_answered(const ss_response_t *resp, void *arg)
{
	disc_t *d = arg;
	knot_rrset_t *soa = NULL;
	if (resp->error == 0 && resp->aa && resp->rcode == KNOT_RCODE_NOERROR) {
		soa = ss_pkt_collect(resp->pkt, KNOT_ANSWER, KNOT_RRTYPE_SOA, d->obs->zone);
	}
	if (soa != NULL) {
		const knot_dname_t *m = knot_soa_primary(soa->rrs.rdata);
		d->obs->mname = knot_dname_to_str_alloc(m);
		name_get(d, m, SS_ORIGIN_PRIMARY);
		knot_rrset_free(soa, NULL);
		phase_run(d, issue_mname_addrs, phase_done);
		return;
	}
	if (d->ctry < d->ndservers && d->ctry < CHILD_TRIES) {
		ask_mname_next(d);
		return;
	}
	phase_done(d);
}

static void ask_mname_next(disc_t *d)
{
	ss_query_t q = {
	    .server = d->dservers[d->ctry++],
	    .qname = d->obs->zone,
	    .qtype = KNOT_RRTYPE_SOA,
	    .flags = SS_QF_EDNS,
	};
	if (ss_engine_query(d->e, &q, mname_answered, d) != 0) {
		phase_done(d);
	}
}

static void phase_mname(disc_t *d)
{
	if (d->opts.nprimary > 0 || d->obs->mname != NULL || d->obs->not_found) {
		phase_done(d);
		return;
	}
	d->ndservers = gather(d, SS_ORIGIN_PARENT | SS_ORIGIN_CHILD, false, d->dservers, MAX_NAMES);
	d->ctry = 0;
	if (d->ndservers == 0) {
		phase_done(d);
		return;
	}
	ask_mname_next(d);
}

/* ---- result ------------------------------------------------------------ */

static int push_name(knot_dname_t ***arr, size_t *n, const knot_dname_t *name)
{
	knot_dname_t **grown = realloc(*arr, (*n + 1) * sizeof(**arr));
	if (grown == NULL) {
		return SS_ENOMEM;
	}
	*arr = grown;
	grown[*n] = knot_dname_copy(name, NULL);
	if (grown[*n] == NULL) {
		return SS_ENOMEM;
	}
	(*n)++;
	return 0;
}

static void publish_name(disc_t *d, const nsname_t *n)
{
	ss_zone_obs_t *o = d->obs;
	char txt[KNOT_DNAME_TXT_MAXLEN + 1];
	dname_txt(n->name, txt, sizeof(txt));
	unsigned origin = n->origin & (SS_ORIGIN_PARENT | SS_ORIGIN_CHILD);
	if (n->origin & SS_ORIGIN_PARENT) {
		push_name(&o->parent_ns, &o->nparent_ns, n->name);
	}
	if (n->origin & SS_ORIGIN_CHILD) {
		push_name(&o->child_ns, &o->nchild_ns, n->name);
	}
	if (origin != 0 && n->naddrs == 0) {
		char **grown = realloc(o->unresolved_ns, (o->nunresolved_ns + 1) * sizeof(*grown));
		if (grown != NULL) {
			o->unresolved_ns = grown;
			grown[o->nunresolved_ns] = strdup(txt);
			o->nunresolved_ns += grown[o->nunresolved_ns] != NULL;
		}
	}
	for (size_t j = 0; j < n->naddrs; j++) {
		bool primary = (n->origin & SS_ORIGIN_PRIMARY) != 0;
		if ((origin == 0 && !primary) || !family_wanted(d, ss_addr_family(&n->addrs[j]))) {
			continue;
		}
		ss_server_obs_t *s = ss_obs_add_server(o, &n->addrs[j], origin ? txt : NULL,
		                                       origin | (primary ? SS_ORIGIN_PRIMARY : 0));
		if (s != NULL && primary) {
			s->is_primary = true;
		}
	}
}

static int cmp_server(const void *a, const void *b)
{
	return ss_addr_cmp(&((const ss_server_obs_t *)a)->addr,
	                   &((const ss_server_obs_t *)b)->addr);
}

static void phase_done(disc_t *d)
{
	ss_zone_obs_t *o = d->obs;
	char z[KNOT_DNAME_TXT_MAXLEN + 1];
	if (!o->not_found) {
		for (size_t i = 0; i < d->nnames; i++) {
			publish_name(d, &d->names[i]);
		}
		for (size_t i = 0; i < d->opts.nprimary; i++) {
			ss_server_obs_t *s =
			    ss_obs_add_server(o, &d->opts.primary[i], NULL, SS_ORIGIN_PRIMARY);
			if (s != NULL) {
				s->is_primary = true;
			}
		}
		o->have_ns_sets = d->delegation_seen && d->child_seen;
		if (o->nservers == 0) {
			set_detail(d, SS_ENOTFOUND, "no address for any name server of %s",
			           dname_txt(o->zone, z, sizeof(z)));
		}
		if (o->nservers > 1) {
			qsort(o->servers, o->nservers, sizeof(*o->servers), cmp_server);
		}
	}
	for (size_t i = 0; i < d->nnames; i++) {
		free(d->names[i].name);
	}
	free(d->parent);
	ss_discover_cb cb = d->cb;
	void *arg = d->arg;
	free(d);
	cb(o, arg);
}

ss_server_obs_t *ss_obs_add_server(ss_zone_obs_t *obs, const ss_addr_t *addr, const char *name,
                                   unsigned origin)
{
	ss_server_obs_t *s = NULL;
	for (size_t i = 0; i < obs->nservers && s == NULL; i++) {
		if (ss_addr_equal(&obs->servers[i].addr, addr)) {
			s = &obs->servers[i];
		}
	}
	if (s == NULL) {
		ss_server_obs_t *grown =
		    realloc(obs->servers, (obs->nservers + 1) * sizeof(*grown));
		if (grown == NULL) {
			return NULL;
		}
		obs->servers = grown;
		s = &grown[obs->nservers++];
		memset(s, 0, sizeof(*s));
		s->addr = *addr;
		s->rcode = -1;
	}
	s->origin |= origin;
	if (name != NULL && (s->name == NULL || strstr(s->name, name) == NULL)) {
		ss_strbuf_t b = SS_STRBUF_INIT;
		ss_strbuf_printf(&b, "%s%s%s", s->name ? s->name : "", s->name ? "," : "", name);
		if (ss_strbuf_ok(&b)) {
			free(s->name);
			s->name = ss_strbuf_take(&b);
		}
		ss_strbuf_free(&b);
	}
	return s;
}

int ss_discover(ss_resolver_t *r, ss_engine_t *e, ss_zone_obs_t *obs,
                const ss_discover_opts_t *opts, ss_discover_cb cb, void *arg)
{
	disc_t *d = calloc(1, sizeof(*d));
	if (d == NULL) {
		return SS_ENOMEM;
	}
	d->r = r;
	d->e = e;
	d->obs = obs;
	d->opts = *opts;
	d->cb = cb;
	d->arg = arg;
	phase_run(d, issue_start, after_start);
	return 0;
}
