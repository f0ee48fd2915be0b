/*
 * Discovery (lib/discover.c, lib/discover_resolver.c) against scripted servers: a
 * resolver, the parent zone's servers and the zone's own, all in process.
 * The parent's NS set and glue, the zone's own NS set, the MNAME, names
 * without address, and the lame paths: a parent server or a child server
 * that refuses or stays silent, all children lame, no delegation, no zone.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <soasync/check.h>
#include <soasync/discover.h>
#include <soasync/error.h>
#include <soasync/resolver.h>

#include "fake_dns.h"

#define ZONE "example.test."

/* The resolver, two parent servers and three servers of the zone. */
enum { RES, PAR1, PAR2, C1, C2, C3, NSRV };

static fk_server_t S[NSRV];
static fk_server_t *const ALL[NSRV] = {&S[RES], &S[PAR1], &S[PAR2], &S[C1], &S[C2], &S[C3]};

/* The zone's SOA and NS set on a server of the zone (ns1, ns2, ns3). */
static void child_zone(fk_server_t *s)
{
	s->mode = FK_AUTH;
	fk_add(s, ZONE " 300 SOA ns1." ZONE " hostmaster." ZONE " 7 3600 600 86400 300");
	fk_add(s, ZONE " 300 NS ns1." ZONE);
	fk_add(s, ZONE " 300 NS ns2." ZONE);
	fk_add(s, ZONE " 300 NS ns3." ZONE);
	fk_add(s, "ns1." ZONE " 300 A %s", S[C1].ip);
	fk_add(s, "ns2." ZONE " 300 A %s", S[C2].ip);
	fk_add(s, "ns3." ZONE " 300 A %s", S[C3].ip);
	fk_add(s, "www." ZONE " 300 A 192.0.2.1");
}

/* Whether the parent zone delegates ZONE at all. */
static bool delegated;

/* test. on a parent server: the delegation of ZONE to ns1, ns2 and a name
 * that has no address anywhere (gone), with glue for ns1 and ns2. */
static void parent_zone(fk_server_t *s)
{
	s->mode = FK_AUTH;
	fk_add(s, "test. 300 SOA ns.test. hostmaster.test. 1 3600 600 86400 300");
	fk_add(s, "test. 300 NS ns.test.");
	fk_add(s, "test. 300 NS ns2.test.");
	fk_add(s, "ns.test. 300 A %s", S[PAR1].ip);
	fk_add(s, "ns2.test. 300 A %s", S[PAR2].ip);
	if (!delegated) {
		return;
	}
	fk_add(s, ZONE " 300 NS ns1." ZONE);
	fk_add(s, ZONE " 300 NS ns2." ZONE);
	fk_add(s, ZONE " 300 NS gone." ZONE);
	fk_add(s, "ns1." ZONE " 300 A %s", S[C1].ip);
	fk_add(s, "ns2." ZONE " 300 A %s", S[C2].ip);
	fk_delegate(s, ZONE);
}

/* The resolver knows both zones, the addresses of every name but ns2 (which
 * only the parent's glue gives) and gone. */
static void resolver(fk_server_t *s)
{
	s->mode = FK_RECURSIVE;
	fk_add(s, "test. 300 SOA ns.test. hostmaster.test. 1 3600 600 86400 300");
	fk_add(s, "test. 300 NS ns.test.");
	fk_add(s, "test. 300 NS ns2.test.");
	fk_add(s, "ns.test. 300 A %s", S[PAR1].ip);
	fk_add(s, "ns2.test. 300 A %s", S[PAR2].ip);
	fk_add(s, ZONE " 300 SOA ns1." ZONE " hostmaster." ZONE " 7 3600 600 86400 300");
	fk_add(s, ZONE " 300 NS ns1." ZONE);
	fk_add(s, ZONE " 300 NS ns2." ZONE);
	fk_add(s, "ns1." ZONE " 300 A %s", S[C1].ip);
	fk_add(s, "ns3." ZONE " 300 A %s", S[C3].ip);
	fk_add(s, "www." ZONE " 300 A 192.0.2.1");
}

static void fleet_of(bool with_delegation)
{
	memset(S, 0, sizeof(S));
	delegated = with_delegation;
	fk_place(ALL, NSRV);
	resolver(&S[RES]);
	parent_zone(&S[PAR1]);
	parent_zone(&S[PAR2]);
	child_zone(&S[C1]);
	child_zone(&S[C2]);
	child_zone(&S[C3]);
}

static void fleet(void)
{
	fleet_of(true);
}

static void discovered(ss_zone_obs_t *obs, void *arg)
{
	(void)obs;
	*(bool *)arg = true;
}

static bool is_true(void *arg)
{
	return *(bool *)arg;
}

/* Discover zone with the fleet in S; obs gets the result (clear it with
 * ss_zone_result_clear on the result holding it). */
static void discover(const char *zone, ss_zone_result_t *res)
{
	uv_loop_t loop;
	uv_loop_init(&loop);
	uint16_t port = fk_start(&loop, ALL, NSRV);
	ss_engine_opts_t eo;
	ss_engine_opts_default(&eo);
	eo.timeout_ms = 250;
	eo.tries = 2;
	ss_engine_t *e = ss_engine_new(&loop, &eo);
	ss_addr_t ra;
	fk_addr(&S[RES], &ra);
	ss_resolver_t *r = ss_resolver_new(e, &ra);
	memset(res, 0, sizeof(*res));
	res->obs.zone = knot_dname_from_str_alloc(zone);
	res->obs.zone_str = strdup(zone);
	ss_discover_opts_t o = {.port = port};
	bool done = false;
	assert_int_equal(ss_discover(r, e, &res->obs, &o, discovered, &done), 0);
	assert_true(rsp_run_until(&loop, is_true, &done, 20000));
	ss_resolver_free(r);
	ss_engine_close(e);
	assert_int_equal(fk_finish(&loop, ALL, NSRV), 0);
}

static const ss_server_obs_t *server_at(const ss_zone_result_t *res, const char *ip)
{
	for (size_t i = 0; i < res->obs.nservers; i++) {
		char a[SS_ADDR_STRLEN];
		ss_addr_ntop(&res->obs.servers[i].addr, a, sizeof(a));
		if (strcmp(a, ip) == 0) {
			return &res->obs.servers[i];
		}
	}
	return NULL;
}

/* The names of a set, sorted, comma separated. */
static void names_text(knot_dname_t *const *names, size_t n, char *out, size_t len)
{
	char txt[16][KNOT_DNAME_TXT_MAXLEN + 1];
	assert_true(n <= 16);
	for (size_t i = 0; i < n; i++) {
		knot_dname_to_str(txt[i], names[i], sizeof(txt[i]));
	}
	qsort(txt, n, sizeof(txt[0]), (int (*)(const void *, const void *))strcmp);
	out[0] = '\0';
	for (size_t i = 0; i < n; i++) {
		snprintf(out + strlen(out), len - strlen(out), "%s%s", i ? "," : "", txt[i]);
	}
}

static void test_parent_and_child(void **state)
{
	(void)state;
	fleet();
	ss_zone_result_t res;
	discover(ZONE, &res);
	ss_zone_obs_t *o = &res.obs;
	assert_false(o->not_found);
	assert_int_equal(o->discovery_error, 0);
	assert_true(o->have_ns_sets);
	char set[512];
	names_text(o->parent_ns, o->nparent_ns, set, sizeof(set));
	assert_string_equal(set, "gone." ZONE ",ns1." ZONE ",ns2." ZONE);
	names_text(o->child_ns, o->nchild_ns, set, sizeof(set));
	assert_string_equal(set, "ns1." ZONE ",ns2." ZONE ",ns3." ZONE);
	assert_string_equal(o->mname, "ns1." ZONE);
	assert_int_equal(o->nunresolved_ns, 1);
	assert_string_equal(o->unresolved_ns[0], "gone." ZONE);

	/* Every address once, with its names and where it came from. */
	assert_int_equal(o->nservers, 3);
	const ss_server_obs_t *a = server_at(&res, S[C1].ip), *b = server_at(&res, S[C2].ip),
	                      *c = server_at(&res, S[C3].ip);
	assert_non_null(a);
	assert_non_null(b); /* ns2's address only from the parent's glue */
	assert_non_null(c); /* ns3 only in the zone's own NS set */
	assert_string_equal(a->name, "ns1." ZONE);
	assert_int_equal(a->origin, SS_ORIGIN_PARENT | SS_ORIGIN_CHILD | SS_ORIGIN_PRIMARY);
	assert_true(a->is_primary);
	assert_int_equal(b->origin, SS_ORIGIN_PARENT | SS_ORIGIN_CHILD);
	assert_false(b->is_primary);
	assert_int_equal(c->origin, SS_ORIGIN_CHILD);
	assert_int_equal(ss_addr_port(&a->addr), ss_addr_port(&c->addr));
	for (size_t i = 1; i < o->nservers; i++) { /* sorted by address */
		assert_true(ss_addr_cmp(&o->servers[i - 1].addr, &o->servers[i].addr) < 0);
	}
	/* The delegation from the first parent server; the zone's own set from
	 * the first delegated server. */
	assert_int_equal(S[PAR2].ns_queries, 0);
	ss_zone_result_clear(&res);
}

/* The first parent server refuses, then one is silent: the next one tells. */
static void test_lame_parent(void **state)
{
	(void)state;
	for (int silent = 0; silent < 2; silent++) {
		fleet();
		S[PAR1].mode = silent ? FK_SILENT : FK_REFUSED;
		ss_zone_result_t res;
		discover(ZONE, &res);
		assert_true(res.obs.have_ns_sets);
		assert_int_equal(res.obs.nparent_ns, 3);
		assert_int_equal(res.obs.nservers, 3);
		assert_true(S[PAR1].queries > 0);
		assert_int_equal(S[PAR2].ns_queries, 1);
		ss_zone_result_clear(&res);
	}
}

/* A lame first child server (REFUSED, then no AA): the zone's own set comes
 * from the next; the lame one is still checked, as the MNAME's. */
static void test_lame_child(void **state)
{
	(void)state;
	for (int noaa = 0; noaa < 2; noaa++) {
		fleet();
		S[C1].mode = noaa ? FK_NOAA : FK_REFUSED;
		ss_zone_result_t res;
		discover(ZONE, &res);
		assert_true(res.obs.have_ns_sets);
		assert_int_equal(res.obs.nchild_ns, 3);
		assert_int_equal(S[C2].ns_queries, 1);
		const ss_server_obs_t *a = server_at(&res, S[C1].ip);
		assert_non_null(a);
		assert_true(a->is_primary);
		ss_zone_result_clear(&res);
	}
}

/* Every server of the zone is lame: its NS set comes from the resolver. */
static void test_all_children_lame(void **state)
{
	(void)state;
	fleet();
	S[C1].mode = S[C2].mode = S[C3].mode = FK_REFUSED;
	ss_zone_result_t res;
	discover(ZONE, &res);
	char set[512];
	assert_true(res.obs.have_ns_sets);
	names_text(res.obs.child_ns, res.obs.nchild_ns, set, sizeof(set));
	assert_string_equal(set, "ns1." ZONE ",ns2." ZONE);
	assert_int_equal(res.obs.nservers, 2); /* ns3 is named nowhere else */
	ss_zone_result_clear(&res);
}

/* The resolver gives no SOA (SERVFAIL): the MNAME comes from the zone's
 * servers themselves. */
static bool servfail_zone_soa(rsp_query_t *q, void *arg)
{
	(void)arg;
	if (rsp_qtype(q) != KNOT_RRTYPE_SOA || !rsp_qname_is(q, ZONE)) {
		return false;
	}
	rsp_send_pkt(q, rsp_reply(q, KNOT_RCODE_SERVFAIL, false));
	return true;
}

static void test_mname_from_the_zone(void **state)
{
	(void)state;
	fleet();
	S[RES].hook = servfail_zone_soa;
	ss_zone_result_t res;
	discover(ZONE, &res);
	assert_false(res.obs.not_found);
	assert_non_null(res.obs.mname);
	assert_string_equal(res.obs.mname, "ns1." ZONE);
	assert_true(server_at(&res, S[C1].ip)->is_primary);
	ss_zone_result_clear(&res);
}

/* No delegation in the parent (NXDOMAIN there), no zone at all, a name
 * inside a zone: not found, and why. */
static void test_not_found(void **state)
{
	(void)state;
	fleet_of(false);
	ss_zone_result_t res;
	discover(ZONE, &res);
	assert_true(res.obs.not_found);
	assert_non_null(strstr(res.obs.discovery_detail,
	                       "the parent zone test. has no delegation for " ZONE " (NXDOMAIN)"));
	assert_int_equal(res.obs.nservers, 0);
	ss_zone_result_clear(&res);

	fleet();
	discover("nope.test.", &res);
	assert_true(res.obs.not_found);
	assert_string_equal(res.obs.discovery_detail, "nope.test. does not exist (NXDOMAIN)");
	ss_zone_result_clear(&res);

	fleet();
	discover("www." ZONE, &res);
	assert_true(res.obs.not_found);
	assert_string_equal(res.obs.discovery_detail,
	                    "www." ZONE " is not a zone: it lies inside zone " ZONE);
	ss_zone_result_clear(&res);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_parent_and_child),    cmocka_unit_test(test_lame_parent),
	    cmocka_unit_test(test_lame_child),          cmocka_unit_test(test_all_children_lame),
	    cmocka_unit_test(test_mname_from_the_zone), cmocka_unit_test(test_not_found),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
