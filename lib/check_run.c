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

/* A zone's own options (ss_check_add_zone), owned copies. */
typedef struct {
	ss_addr_t *ns;
	char **ns_names; /* nns entries, each may be NULL */
	size_t nns;
	ss_addr_t *primary;
	size_t nprimary;
	ss_zone_obs_t *discovered;
} zopts_t;

struct zstate {
	ss_check_t *c;
	ss_zone_result_t res;
	zopts_t *zo; /* owned; NULL: the run's options */
	size_t idx;  /* in c->zones */
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
	zopts_t **zopts;  /* their own options (owned), NULL: none */
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

static void zopts_free(zopts_t *zo)
{
	if (zo == NULL) {
		return;
	}
	for (size_t i = 0; i < zo->nns; i++) {
		free(zo->ns_names[i]);
	}
	free(zo->ns_names);
	free(zo->ns);
	free(zo->primary);
	if (zo->discovered != NULL) {
		ss_zone_result_t tmp = {.obs = *zo->discovered};
		ss_zone_result_clear(&tmp);
		free(zo->discovered);
	}
	free(zo);
}

static void deliver_zone(ss_check_t *c, zstate_t *z)
{
	c->zones[z->idx] = NULL;
	c->running--;
	c->cb(&z->res, c->arg);
	ss_zone_result_clear(&z->res);
	zopts_free(z->zo);
	free(z);
}

/* The callback may add zones (and so grow c->zones): nothing here holds a
 * slot across it. */
static void deliver(ss_check_t *c)
{
	while (!c->aborted && c->next_deliver < c->next_start) {
		zstate_t *z = c->zones[c->next_deliver];
		if (z != NULL && !z->done) {
			break;
		}
		c->next_deliver++;
		if (z != NULL) {
			deliver_zone(c, z);
		}
	}
}

static void zone_done(ss_check_t *c, zstate_t *z)
{
	z->done = true;
	if (c->opts.unordered && !c->aborted) {
		deliver_zone(c, z);
	}
	deliver(c);
}

static void zone_finished(zstate_t *z)
{
	ss_check_t *c = z->c;
	if (ss_check_analyze(&z->res) != 0) {
		z->res.status = SS_STATUS_UNKNOWN;
	}
	zone_done(c, z);
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

/* The servers of a zone: the run's options, or the zone's own. */
typedef struct {
	const ss_addr_t *ns, *primary;
	const char *const *ns_names;
	size_t nns, nprimary;
} servers_t;

static servers_t zone_servers(const ss_check_t *c, const zopts_t *zo)
{
	servers_t sv = {c->opts.ns, c->opts.primary, c->opts.ns_names, c->opts.nns,
	                c->opts.nprimary};
	if (zo != NULL && zo->nns > 0) {
		sv.ns = zo->ns;
		sv.ns_names = (const char *const *)zo->ns_names;
		sv.nns = zo->nns;
	}
	if (zo != NULL && zo->nprimary > 0) {
		sv.primary = zo->primary;
		sv.nprimary = zo->nprimary;
	}
	return sv;
}

static void given_servers(zstate_t *z, const servers_t *sv)
{
	ss_zone_obs_t *o = &z->res.obs;
	for (size_t i = 0; i < sv->nns; i++) {
		const char *name = sv->ns_names ? sv->ns_names[i] : NULL;
		ss_obs_add_server(o, &sv->ns[i], name, SS_ORIGIN_GIVEN);
	}
	for (size_t i = 0; i < sv->nprimary; i++) {
		ss_server_obs_t *s = ss_obs_add_server(o, &sv->primary[i], NULL, SS_ORIGIN_PRIMARY);
		if (s != NULL) {
			s->is_primary = true;
		}
	}
}

/* A previous discovery, moved into the observation instead of discovering. */
static void take_discovered(zstate_t *z)
{
	ss_zone_obs_t *o = &z->res.obs, *d = z->zo->discovered;
	d->zone = o->zone;
	d->zone_str = o->zone_str;
	d->expire_warn_s = o->expire_warn_s;
	d->expect = o->expect;
	d->now = o->now;
	*o = *d;
	free(d);
	z->zo->discovered = NULL;
}

static int zone_start(ss_check_t *c, zstate_t *z, char *name)
{
	ss_zone_obs_t *o = &z->res.obs;
	servers_t sv = zone_servers(c, z->zo);
	o->zone = knot_dname_from_str_alloc(name);
	o->zone_str = name;
	if (o->zone == NULL) {
		return SS_ENOMEM;
	}
	knot_dname_to_lower(o->zone);
	o->primary_given = sv.nprimary > 0;
	o->expire_warn_s = c->opts.expire_warn_s;
	o->expect = c->opts.expect;
	o->now = (int64_t)time(NULL);
	if (z->zo != NULL && z->zo->discovered != NULL) {
		take_discovered(z);
		query_servers(z);
		return 0;
	}
	if (sv.nns > 0) {
		given_servers(z, &sv);
		query_servers(z);
		return 0;
	}
	if (c->resolver == NULL &&
	    (c->resolver = ss_resolver_new(c->e, &c->opts.resolver)) == NULL) {
		return SS_ENOMEM;
	}
	ss_discover_opts_t dopts = {
	    .only4 = c->opts.only4,
	    .only6 = c->opts.only6,
	    .primary = sv.primary,
	    .nprimary = sv.nprimary,
	    .port = c->opts.port,
	};
	return ss_discover(c->resolver, c->e, o, &dopts, discovered, z);
}

/* A zone the run could not hold: its result says so (name, zo taken). */
static void no_room(ss_check_t *c, char *name, zopts_t *zo)
{
	ss_zone_result_t res = {.status = SS_STATUS_UNKNOWN};
	res.obs.zone_str = name;
	res.obs.discovery_error = SS_ENOMEM;
	res.obs.discovery_detail = strdup("out of memory");
	c->cb(&res, c->arg);
	ss_zone_result_clear(&res);
	zopts_free(zo);
}

static void start_more(ss_check_t *c)
{
	while (!c->aborted && c->running < c->opts.max_zones && c->next_start < c->nzones) {
		size_t i = c->next_start++;
		zstate_t *z = calloc(1, sizeof(*z));
		char *name = c->names[i];
		zopts_t *zo = c->zopts[i];
		c->names[i] = NULL;
		c->zopts[i] = NULL;
		c->running++;
		c->zones[i] = z;
		if (z == NULL) {
			c->running--;
			c->zones[i] = NULL;
			if (c->running > 0) {
				/* Try again when a running zone has finished (and
				 * freed its memory). */
				c->next_start--;
				c->names[i] = name;
				c->zopts[i] = zo;
				break;
			}
			/* Nothing to wait for: the zone is told as unknown, out
			 * of memory (every zone added is answered once). */
			no_room(c, name, zo);
			deliver(c);
			continue;
		}
		z->c = c;
		z->zo = zo;
		z->idx = i;
		if (zone_start(c, z, name) != 0) {
			z->res.status = SS_STATUS_UNKNOWN;
			zone_done(c, z);
			continue;
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

static int grow(ss_check_t *c)
{
	size_t ncap = c->cap ? c->cap * 2 : 64;
	char **nn = realloc(c->names, ncap * sizeof(*nn));
	if (nn != NULL) {
		c->names = nn;
	}
	zopts_t **no = nn ? realloc(c->zopts, ncap * sizeof(*no)) : NULL;
	if (no != NULL) {
		c->zopts = no;
	}
	zstate_t **nz = no ? realloc(c->zones, ncap * sizeof(*nz)) : NULL;
	if (nz == NULL) {
		return SS_ENOMEM;
	}
	c->zones = nz;
	c->cap = ncap;
	return 0;
}

static int copy_addrs(ss_addr_t **dst, const ss_addr_t *src, size_t n)
{
	if (n == 0) {
		return 0;
	}
	*dst = malloc(n * sizeof(**dst));
	if (*dst == NULL) {
		return SS_ENOMEM;
	}
	memcpy(*dst, src, n * sizeof(**dst));
	return 0;
}

static int zopts_copy(const ss_check_zone_opts_t *in, zopts_t **out)
{
	zopts_t *zo = calloc(1, sizeof(*zo));
	if (zo == NULL) {
		return SS_ENOMEM;
	}
	*out = zo;
	if (copy_addrs(&zo->ns, in->ns, in->nns) != 0 ||
	    (in->nns > 0 && (zo->ns_names = calloc(in->nns, sizeof(char *))) == NULL)) {
		return SS_ENOMEM;
	}
	zo->nns = in->nns;
	for (size_t i = 0; in->ns_names != NULL && i < in->nns; i++) {
		if (in->ns_names[i] != NULL &&
		    (zo->ns_names[i] = strdup(in->ns_names[i])) == NULL) {
			return SS_ENOMEM;
		}
	}
	if (copy_addrs(&zo->primary, in->primary, in->nprimary) != 0) {
		return SS_ENOMEM;
	}
	zo->nprimary = in->nprimary;
	if (in->discovered == NULL) {
		return 0;
	}
	if ((zo->discovered = calloc(1, sizeof(*zo->discovered))) == NULL) {
		return SS_ENOMEM;
	}
	return ss_obs_copy_discovery(zo->discovered, in->discovered);
}

int ss_check_add_zone(ss_check_t *c, const char *zone, const ss_check_zone_opts_t *zopts)
{
	knot_dname_storage_t tmp;
	if (*zone == '\0' || knot_dname_from_str(tmp, zone, sizeof(tmp)) == NULL) {
		return SS_ENAME;
	}
	zopts_t *zo = NULL;
	char *txt = knot_dname_to_str_alloc(tmp);
	if (txt == NULL || (zopts != NULL && zopts_copy(zopts, &zo) != 0) ||
	    (c->nzones == c->cap && grow(c) != 0)) {
		free(txt);
		zopts_free(zo);
		return SS_ENOMEM;
	}
	c->names[c->nzones] = txt;
	c->zopts[c->nzones] = zo;
	c->zones[c->nzones] = NULL;
	c->nzones++;
	start_more(c);
	return 0;
}

int ss_check_add(ss_check_t *c, const char *zone)
{
	return ss_check_add_zone(c, zone, NULL);
}

static int copy_names(knot_dname_t ***dst, size_t *ndst, knot_dname_t *const *src, size_t n)
{
	if (n == 0) {
		return 0;
	}
	if ((*dst = calloc(n, sizeof(**dst))) == NULL) {
		return SS_ENOMEM;
	}
	for (; *ndst < n; (*ndst)++) {
		if (((*dst)[*ndst] = knot_dname_copy(src[*ndst], NULL)) == NULL) {
			return SS_ENOMEM;
		}
	}
	return 0;
}

static int copy_strs(char ***dst, size_t *ndst, char *const *src, size_t n)
{
	if (n == 0) {
		return 0;
	}
	if ((*dst = calloc(n, sizeof(**dst))) == NULL) {
		return SS_ENOMEM;
	}
	for (; *ndst < n; (*ndst)++) {
		if (((*dst)[*ndst] = strdup(src[*ndst])) == NULL) {
			return SS_ENOMEM;
		}
	}
	return 0;
}

static char *dup_or_null(const char *s, int *ret)
{
	char *d = s ? strdup(s) : NULL;
	if (s != NULL && d == NULL) {
		*ret = SS_ENOMEM;
	}
	return d;
}

int ss_obs_copy_discovery(ss_zone_obs_t *dst, const ss_zone_obs_t *src)
{
	int ret = 0;
	for (size_t i = 0; i < src->nservers && ret == 0; i++) {
		const ss_server_obs_t *s = &src->servers[i];
		ss_server_obs_t *d = ss_obs_add_server(dst, &s->addr, s->name, s->origin);
		if (d == NULL) {
			return SS_ENOMEM;
		}
		d->is_primary = s->is_primary;
	}
	dst->have_ns_sets = src->have_ns_sets;
	dst->not_found = src->not_found;
	dst->primary_given = src->primary_given;
	dst->discovery_error = src->discovery_error;
	dst->discovery_detail = dup_or_null(src->discovery_detail, &ret);
	dst->mname = dup_or_null(src->mname, &ret);
	if (ret != 0 ||
	    copy_names(&dst->parent_ns, &dst->nparent_ns, src->parent_ns, src->nparent_ns) ||
	    copy_names(&dst->child_ns, &dst->nchild_ns, src->child_ns, src->nchild_ns) ||
	    copy_strs(&dst->unresolved_ns, &dst->nunresolved_ns, src->unresolved_ns,
	              src->nunresolved_ns)) {
		return SS_ENOMEM;
	}
	return 0;
}

void ss_check_free(ss_check_t *c)
{
	if (c == NULL) {
		return;
	}
	for (size_t i = 0; i < c->nzones; i++) {
		free(c->names[i]);
		zopts_free(c->zopts[i]);
		if (c->zones[i] != NULL) {
			ss_zone_result_clear(&c->zones[i]->res);
			zopts_free(c->zones[i]->zo);
			free(c->zones[i]);
		}
	}
	ss_vendor_cache_free(c->own_vendors);
	free(c->names);
	free(c->zopts);
	free(c->zones);
	ss_resolver_free(c->resolver);
	free(c);
}
