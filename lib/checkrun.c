#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <soasync/checkrun.h>
#include <soasync/discover.h>
#include <soasync/error.h>
#include <soasync/resolver.h>

#include "check_observe.h"

#define VENDOR_BUCKETS    1024u
#define DEFAULT_MAX_ZONES 512u

typedef struct zstate zstate_t;

typedef struct vwait {
	zstate_t *z;
	size_t idx;
	struct vwait *next;
} vwait_t;

typedef struct ventry {
	struct ventry *next;
	ss_engine_t *e;
	ss_addr_t addr;
	bool done, tried_server;
	char *version;
	vwait_t *waiters;
} ventry_t;

struct zstate {
	ss_check_t *c;
	ss_zone_result_t res;
	int pending;
	bool done;
	bool content_done;
};

typedef struct {
	zstate_t *z;
	size_t idx;
	size_t k; /* expectation, for expect queries */
} soareq_t;

struct ss_check {
	ss_engine_t *e;
	ss_check_opts_t opts;
	ss_check_cb cb;
	void *arg;
	ss_resolver_t *resolver;
	char **names;     /* zones not started yet (owned), NULL once started */
	zstate_t **zones; /* started zones, NULL before and after */
	size_t nzones, cap, next_start, next_deliver;
	unsigned running;
	bool aborted;
	ss_vendor_cache_t *vendors; /* opts.vendors, or own_vendors */
	ss_vendor_cache_t *own_vendors;
};

struct ss_vendor_cache {
	ventry_t *buckets[VENDOR_BUCKETS];
};

ss_vendor_cache_t *ss_vendor_cache_new(void)
{
	return calloc(1, sizeof(ss_vendor_cache_t));
}

void ss_vendor_cache_free(ss_vendor_cache_t *vc)
{
	for (unsigned b = 0; vc != NULL && b < VENDOR_BUCKETS; b++) {
		ventry_t *v = vc->buckets[b];
		while (v != NULL) {
			ventry_t *next = v->next;
			free(v->version);
			free(v);
			v = next;
		}
	}
	free(vc);
}

static void zone_step_done(zstate_t *z);
static void start_more(ss_check_t *c);

/* ---- vendor (CHAOS version) cache -------------------------------------- */

static void vendor_query(ventry_t *v, const char *qname);

static void vendor_finish(ventry_t *v)
{
	v->done = true;
	vwait_t *w = v->waiters;
	v->waiters = NULL;
	while (w != NULL) {
		vwait_t *next = w->next;
		ss_server_obs_t *s = &w->z->res.obs.servers[w->idx];
		if (v->version != NULL) {
			s->version = strdup(v->version);
			s->vendor = ss_vendor_classify(v->version);
		}
		zone_step_done(w->z);
		free(w);
		w = next;
	}
}

/* The first string of a TXT answer, through libknot's presentation dump. */
static char *txt_first(const knot_rrset_t *rr)
{
	char buf[1024];
	if (knot_rrset_txt_dump_data(rr, 0, buf, sizeof(buf), &KNOT_DUMP_STYLE_DEFAULT) < 0) {
		return NULL;
	}
	char *s = buf;
	size_t n = strlen(s);
	if (n >= 2 && s[0] == '"') {
		char *end = strchr(s + 1, '"');
		s++;
		n = end ? (size_t)(end - s) : strlen(s);
	}
	return strndup(s, n);
}

static void vendor_answered(const ss_response_t *resp, void *arg)
{
	ventry_t *v = arg;
	if (resp->error == 0 && resp->rcode == KNOT_RCODE_NOERROR) {
		const knot_rrset_t *txt =
		    ss_obs_section_find(resp->pkt, KNOT_ANSWER, KNOT_RRTYPE_TXT, NULL);
		if (txt != NULL && txt->rrs.count > 0) {
			v->version = txt_first(txt);
		}
	}
	if (v->version == NULL && !v->tried_server && resp->error == 0) {
		v->tried_server = true;
		vendor_query(v, "version.server.");
		return;
	}
	vendor_finish(v);
}

static void vendor_query(ventry_t *v, const char *qname)
{
	knot_dname_storage_t name;
	knot_dname_from_str(name, qname, sizeof(name));
	/* The vendor only improves the fix text: never wait long for it (BIND
	 * rate-limits its CHAOS answers and drops the rest). */
	ss_query_t q = {
	    .server = v->addr,
	    .qname = name,
	    .qtype = KNOT_RRTYPE_TXT,
	    .qclass = KNOT_CLASS_CH,
	    .timeout_ms = ss_engine_get_opts(v->e)->timeout_ms < 750
	                      ? ss_engine_get_opts(v->e)->timeout_ms
	                      : 750,
	    .tries = 1,
	};
	if (ss_engine_query(v->e, &q, vendor_answered, v) != 0) {
		vendor_finish(v);
	}
}

static void vendor_lookup(ss_check_t *c, zstate_t *z, size_t idx)
{
	const ss_addr_t *a = &z->res.obs.servers[idx].addr;
	uint32_t b = ss_addr_hash(a) % VENDOR_BUCKETS;
	ventry_t *v = c->vendors->buckets[b];
	while (v != NULL && !ss_addr_equal(&v->addr, a)) {
		v = v->next;
	}
	vwait_t *w = calloc(1, sizeof(*w));
	bool fresh = v == NULL;
	if (fresh) {
		v = calloc(1, sizeof(*v));
	}
	if (w == NULL || v == NULL) {
		free(w);
		if (fresh) {
			free(v);
		}
		return;
	}
	z->pending++;
	w->z = z;
	w->idx = idx;
	w->next = v->waiters;
	v->waiters = w;
	if (!fresh) {
		if (v->done) {
			vendor_finish(v);
		}
		return;
	}
	v->e = c->e;
	v->addr = *a;
	v->next = c->vendors->buckets[b];
	c->vendors->buckets[b] = v;
	vendor_query(v, "version.bind.");
}

/* ---- zones --------------------------------------------------------------- */

void ss_check_abort(ss_check_t *c)
{
	c->aborted = true;
}

static void deliver(ss_check_t *c)
{
	while (!c->aborted && c->next_deliver < c->next_start && c->zones[c->next_deliver]->done) {
		zstate_t *z = c->zones[c->next_deliver];
		c->zones[c->next_deliver] = NULL;
		c->next_deliver++;
		c->running--;
		c->cb(&z->res, c->arg);
		ss_zone_result_clear(&z->res);
		free(z);
	}
}

static void zone_finished(zstate_t *z)
{
	ss_check_t *c = z->c;
	if (ss_check_analyze(&z->res) != 0) {
		z->res.status = SS_STATUS_UNKNOWN;
	}
	z->done = true;
	deliver(c);
	start_more(c);
}

static void content_done(ss_zone_result_t *res, void *arg)
{
	(void)res;
	zone_finished(arg);
}

static void zone_step_done(zstate_t *z)
{
	if (--z->pending > 0) {
		return;
	}
	ss_check_t *c = z->c;
	/* The content phase needs the reference serial: analyze once, then again. */
	if (!c->aborted && !z->content_done && ss_content_wanted(&c->opts.content) &&
	    z->res.obs.nservers > 0) {
		z->content_done = true;
		if (ss_check_analyze(&z->res) == 0 &&
		    ss_content_run(c->e, &z->res, &c->opts.content, content_done, z) == 0) {
			return;
		}
	}
	zone_finished(z);
}

static void soa_answered(const ss_response_t *resp, void *arg)
{
	soareq_t *req = arg;
	zstate_t *z = req->z;
	ss_obs_from_soa_response(&z->res.obs.servers[req->idx], z->res.obs.zone, resp);
	free(req);
	zone_step_done(z);
}

static void expect_answered(const ss_response_t *resp, void *arg)
{
	soareq_t *req = arg;
	zstate_t *z = req->z;
	ss_server_obs_t *s = &z->res.obs.servers[req->idx];
	const ss_expect_t *e = &z->c->opts.expect->items[req->k];
	const knot_pkt_t *pkt = resp->pkt;
	const char *why = resp->error ? ss_strerror(resp->error) : NULL;
	if (pkt != NULL && (!resp->aa || (resp->rcode != KNOT_RCODE_NOERROR &&
	                                  resp->rcode != KNOT_RCODE_NXDOMAIN))) {
		why = resp->aa ? ss_obs_rcode_name(resp->rcode) : "answer without AA";
		pkt = NULL;
	}
	ss_expect_judge(e, pkt, why, &s->expect[req->k]);
	free(req);
	zone_step_done(z);
}

/* Every expected RRset asked of server i (RD=0, like the SOA). */
static void query_expect(zstate_t *z, size_t i)
{
	ss_check_t *c = z->c;
	ss_server_obs_t *s = &z->res.obs.servers[i];
	const ss_expect_set_t *set = c->opts.expect;
	s->expect = calloc(set->n, sizeof(*s->expect));
	if (s->expect == NULL) {
		return;
	}
	s->nexpect = set->n;
	for (size_t k = 0; k < set->n; k++) {
		s->expect[k].status = SS_EXPECT_ERROR;
		soareq_t *req = malloc(sizeof(*req));
		if (req == NULL) {
			continue;
		}
		*req = (soareq_t){z, i, k};
		ss_query_t q = {
		    .server = s->addr,
		    .qname = set->items[k].owner,
		    .qtype = set->items[k].type,
		    .flags = SS_QF_EDNS,
		};
		z->pending++;
		if (ss_engine_query(c->e, &q, expect_answered, req) != 0) {
			free(req);
			z->pending--;
		}
	}
}

static void query_servers(zstate_t *z)
{
	ss_check_t *c = z->c;
	ss_zone_obs_t *o = &z->res.obs;
	z->pending++; /* guard */
	for (size_t i = 0; i < o->nservers; i++) {
		soareq_t *req = malloc(sizeof(*req));
		if (req == NULL) {
			o->servers[i].error = SS_ENOMEM;
			continue;
		}
		req->z = z;
		req->idx = i;
		ss_query_t q = {
		    .server = o->servers[i].addr,
		    .qname = o->zone,
		    .qtype = KNOT_RRTYPE_SOA,
		    .flags = SS_QF_NSID | (c->opts.expire ? SS_QF_EXPIRE : 0),
		};
		z->pending++;
		if (ss_engine_query(c->e, &q, soa_answered, req) != 0) {
			free(req);
			o->servers[i].error = SS_ENOMEM;
			z->pending--;
		}
		if (!c->opts.no_vendor) {
			vendor_lookup(c, z, i);
		}
		if (c->opts.expect != NULL && c->opts.expect->n > 0) {
			query_expect(z, i);
		}
	}
	zone_step_done(z);
}

static void discovered(ss_zone_obs_t *obs, void *arg)
{
	(void)obs;
	query_servers(arg);
}

static void given_servers(zstate_t *z)
{
	ss_check_t *c = z->c;
	ss_zone_obs_t *o = &z->res.obs;
	for (size_t i = 0; i < c->opts.nns; i++) {
		const char *name = c->opts.ns_names ? c->opts.ns_names[i] : NULL;
		ss_obs_add_server(o, &c->opts.ns[i], name, SS_ORIGIN_GIVEN);
	}
	for (size_t i = 0; i < c->opts.nprimary; i++) {
		ss_server_obs_t *s =
		    ss_obs_add_server(o, &c->opts.primary[i], NULL, SS_ORIGIN_PRIMARY);
		if (s != NULL) {
			s->is_primary = true;
		}
	}
}

static int zone_start(ss_check_t *c, zstate_t *z, char *name)
{
	ss_zone_obs_t *o = &z->res.obs;
	o->zone = knot_dname_from_str_alloc(name);
	o->zone_str = name;
	if (o->zone == NULL) {
		return SS_ENOMEM;
	}
	knot_dname_to_lower(o->zone);
	o->primary_given = c->opts.nprimary > 0;
	o->expire_warn_s = c->opts.expire_warn_s;
	o->expect = c->opts.expect;
	o->now = (int64_t)time(NULL);
	if (c->opts.nns > 0) {
		given_servers(z);
		query_servers(z);
		return 0;
	}
	ss_discover_opts_t dopts = {
	    .only4 = c->opts.only4,
	    .only6 = c->opts.only6,
	    .primary = c->opts.primary,
	    .nprimary = c->opts.nprimary,
	    .port = c->opts.port,
	};
	return ss_discover(c->resolver, c->e, o, &dopts, discovered, z);
}

static void start_more(ss_check_t *c)
{
	while (!c->aborted && c->running < c->opts.max_zones && c->next_start < c->nzones) {
		size_t i = c->next_start++;
		zstate_t *z = calloc(1, sizeof(*z));
		char *name = c->names[i];
		c->names[i] = NULL;
		c->running++;
		c->zones[i] = z;
		if (z == NULL) {
			/* Cannot even hold the zone: report nothing for it, move on. */
			free(name);
			c->running--;
			c->zones[i] = NULL;
			continue;
		}
		z->c = c;
		if (zone_start(c, z, name) != 0) {
			z->res.status = SS_STATUS_UNKNOWN;
			z->done = true;
		}
		deliver(c);
	}
}

ss_check_t *ss_check_new(ss_engine_t *e, const ss_check_opts_t *opts, ss_check_cb cb, void *arg)
{
	ss_check_t *c = calloc(1, sizeof(*c));
	if (c == NULL) {
		return NULL;
	}
	c->e = e;
	c->opts = *opts;
	c->cb = cb;
	c->arg = arg;
	if (c->opts.max_zones == 0) {
		c->opts.max_zones = DEFAULT_MAX_ZONES;
	}
	c->vendors = opts->vendors;
	if (c->vendors == NULL && (c->vendors = c->own_vendors = ss_vendor_cache_new()) == NULL) {
		free(c);
		return NULL;
	}
	if (c->opts.nns == 0) {
		c->resolver = ss_resolver_new(e, &opts->resolver);
		if (c->resolver == NULL) {
			ss_vendor_cache_free(c->own_vendors);
			free(c);
			return NULL;
		}
	}
	return c;
}

int ss_check_add(ss_check_t *c, const char *zone)
{
	knot_dname_storage_t tmp;
	if (*zone == '\0' || knot_dname_from_str(tmp, zone, sizeof(tmp)) == NULL) {
		return SS_ENAME;
	}
	char *txt = knot_dname_to_str_alloc(tmp);
	if (txt == NULL) {
		return SS_ENOMEM;
	}
	if (c->nzones == c->cap) {
		size_t ncap = c->cap ? c->cap * 2 : 64;
		char **nn = realloc(c->names, ncap * sizeof(*nn));
		if (nn != NULL) {
			c->names = nn;
		}
		zstate_t **nz = nn ? realloc(c->zones, ncap * sizeof(*nz)) : NULL;
		if (nz == NULL) {
			free(txt);
			return SS_ENOMEM;
		}
		c->zones = nz;
		c->cap = ncap;
	}
	c->names[c->nzones] = txt;
	c->zones[c->nzones] = NULL;
	c->nzones++;
	start_more(c);
	return 0;
}

void ss_check_free(ss_check_t *c)
{
	if (c == NULL) {
		return;
	}
	for (size_t i = 0; i < c->nzones; i++) {
		free(c->names[i]);
		if (c->zones[i] != NULL) {
			ss_zone_result_clear(&c->zones[i]->res);
			free(c->zones[i]);
		}
	}
	ss_vendor_cache_free(c->own_vendors);
	free(c->names);
	free(c->zones);
	ss_resolver_free(c->resolver);
	free(c);
}
