/*
 * The check run (lib/check_run.c) over many zones against scripted servers:
 * results in the order the zones were added whatever order the answers come
 * in, never more than max_zones zones in progress, discovery of zones under
 * one parent with the resolver's answers shared, the CHAOS version asked once
 * per address, and the SOA answers turned into observations and verdicts.
 */
#include <dlfcn.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <soasync/checkrun.h>
#include <soasync/error.h>

#include "fake_dns.h"

#define NZONES 40

static fk_server_t A, B;

/* ---- running a check ------------------------------------------------------------------------ */

typedef struct {
	unsigned want; /* zones to wait for */
	unsigned delivered;
	char *zones[NZONES + 1];
	ss_status_t status[NZONES + 1];
	ss_verdict_t verdict_b[NZONES + 1]; /* of the second server */
	char *vendor_a[NZONES + 1];
	bool behind_named[NZONES + 1];
	unsigned started;  /* zones whose first query reached server A */
	unsigned max_open; /* the most zones started and not delivered */
	bool first_seen[NZONES + 1];
} run_t;

static run_t RUN;

/*
 * Allocation failure on demand: calloc is interposed for the whole program;
 * armed, it fails the next calloc(1, size) of a size just above a zone
 * result's, which in the check run is its per-zone state (the tests assert
 * that the failure did happen and what it did).
 */
static void *(*real_calloc)(size_t, size_t);
static unsigned fail_zone_states; /* armed: this many to fail */
static unsigned failed_zone_states;

void *calloc(size_t n, size_t size)
{
	if (real_calloc == NULL) {
		real_calloc = (void *(*)(size_t, size_t))dlsym(RTLD_NEXT, "calloc");
	}
	if (fail_zone_states > 0 && n == 1 && size > sizeof(ss_zone_result_t) &&
	    size <= sizeof(ss_zone_result_t) + 64) {
		fail_zone_states--;
		failed_zone_states++;
		return NULL;
	}
	return real_calloc(n, size);
}

static unsigned arm_after = ~0u; /* arm when this zone is delivered */
static int derr[NZONES + 1];     /* each zone's discovery_error */

static void on_zone(ss_zone_result_t *res, void *arg)
{
	run_t *r = arg;
	unsigned i = r->delivered++;
	assert_true(i < NZONES + 1);
	r->zones[i] = strdup(res->obs.zone_str);
	r->status[i] = res->status;
	derr[i] = res->obs.discovery_error;
	if (i == arm_after) {
		fail_zone_states = 1;
	}
	if (res->obs.nservers == 2) {
		r->verdict_b[i] = res->obs.servers[1].verdict;
		const char *v = ss_vendor_name(res->obs.servers[0].vendor);
		r->vendor_a[i] = v ? strdup(v) : NULL;
	}
	for (size_t k = 0; k < res->nfindings; k++) {
		r->behind_named[i] |= res->findings[k].id == SS_F_SERIAL_BEHIND;
	}
}

static bool all_delivered(void *arg)
{
	return ((run_t *)arg)->delivered == ((run_t *)arg)->want;
}

static void run_clear(void)
{
	for (unsigned i = 0; i <= NZONES; i++) {
		free(RUN.zones[i]);
		free(RUN.vendor_a[i]);
	}
	memset(&RUN, 0, sizeof(RUN));
}

/* Check n zones (z0.test. ...) on the servers, given with --ns. */
static void check_zones(fk_server_t *const *srv, size_t nsrv, unsigned n, ss_check_opts_t *o)
{
	uv_loop_t loop;
	uv_loop_init(&loop);
	fk_start(&loop, srv, nsrv);
	ss_engine_opts_t eo;
	ss_engine_opts_default(&eo);
	eo.timeout_ms = 500;
	ss_engine_t *e = ss_engine_new(&loop, &eo);
	ss_addr_t ns[4];
	for (size_t i = 0; i < nsrv; i++) {
		fk_addr(srv[i], &ns[i]);
	}
	o->ns = ns;
	o->nns = nsrv;
	RUN.want = n;
	ss_check_t *c = ss_check_new(e, o, on_zone, &RUN);
	assert_non_null(c);
	for (unsigned i = 0; i < n; i++) {
		char z[32];
		snprintf(z, sizeof(z), "z%u.test", i);
		assert_int_equal(ss_check_add(c, z), 0);
	}
	assert_true(rsp_run_until(&loop, all_delivered, &RUN, 20000));
	ss_check_free(c);
	ss_engine_close(e);
	assert_int_equal(fk_finish(&loop, srv, nsrv), 0);
}

/* Zones z0.test. ... on server s, serial 100 + i (minus behind for zone 7). */
static void serve_zones(fk_server_t *s, unsigned n, unsigned behind)
{
	s->mode = FK_AUTH;
	for (unsigned i = 0; i < n; i++) {
		fk_add(s, "z%u.test. 300 SOA ns1.z%u.test. h.z%u.test. %u 3600 600 86400 300", i, i,
		       i, 100 + i - (i == 7 ? behind : 0));
	}
}

/* The zone index of a query for "zN.test.", or -1. */
static int zone_index(const rsp_query_t *q)
{
	char name[KNOT_DNAME_TXT_MAXLEN + 1];
	unsigned i;
	if (q->pkt == NULL ||
	    knot_dname_to_str(name, knot_pkt_qname(q->pkt), sizeof(name)) == NULL ||
	    sscanf(name, "z%u.test.", &i) != 1 || i >= NZONES) {
		return -1;
	}
	return (int)i;
}

/* Server A answers the early zones last (zone i after (NZONES - i) ms) and
 * counts the zones in progress: started here, not delivered yet. */
static bool slow_first(rsp_query_t *q, void *arg)
{
	fk_server_t *s = arg;
	int i = zone_index(q);
	if (i < 0) {
		return false;
	}
	if (!RUN.first_seen[i]) {
		RUN.first_seen[i] = true;
		RUN.started++;
		unsigned open = RUN.started - RUN.delivered;
		RUN.max_open = open > RUN.max_open ? open : RUN.max_open;
	}
	knot_pkt_t *p = fk_answer(s, q);
	rsp_delay(q, (unsigned)(NZONES - i) * 2);
	rsp_send_pkt(q, p);
	return true;
}

/* A and B serving zones z0 ... z(n-1), zone 7 behind by `behind` on B; A
 * answers through hook. */
static void two_servers(fk_server_t **srv, unsigned n, unsigned behind,
                        bool (*hook)(rsp_query_t *q, void *arg))
{
	memset(&A, 0, sizeof(A));
	memset(&B, 0, sizeof(B));
	fk_place(srv, 2);
	serve_zones(&A, n, 0);
	serve_zones(&B, n, behind);
	A.hook = hook;
	A.hook_arg = &A;
}

static void test_order_and_bound(void **state)
{
	(void)state;
	fk_server_t *srv[] = {&A, &B};
	two_servers(srv, NZONES, 2, slow_first);
	ss_check_opts_t o = {.no_vendor = true, .max_zones = 4};
	check_zones(srv, 2, NZONES, &o);
	assert_int_equal(RUN.delivered, NZONES);
	for (unsigned i = 0; i < NZONES; i++) {
		char z[32];
		snprintf(z, sizeof(z), "z%u.test.", i);
		assert_string_equal(RUN.zones[i], z); /* in the order added */
		assert_int_equal(RUN.status[i], i == 7 ? SS_STATUS_CRITICAL : SS_STATUS_OK);
		assert_int_equal(RUN.verdict_b[i],
		                 i == 7 ? SS_VERDICT_BEHIND : SS_VERDICT_AT_REFERENCE);
		assert_true(RUN.behind_named[i] == (i == 7));
	}
	assert_int_equal(RUN.started, NZONES);
	assert_true(RUN.max_open <= 4);
	assert_true(RUN.max_open >= 2); /* and zones did run side by side */
	run_clear();

	/* max_zones 1: one zone at a time. */
	two_servers(srv, 10, 0, slow_first);
	o = (ss_check_opts_t){.no_vendor = true, .max_zones = 1};
	check_zones(srv, 2, 10, &o);
	assert_int_equal(RUN.delivered, 10);
	assert_int_equal(RUN.max_open, 1);
	run_clear();
}

/* Server A answers zone 1 after 200 ms. */
static bool slow_zone1(rsp_query_t *q, void *arg)
{
	if (zone_index(q) != 1) {
		return false;
	}
	knot_pkt_t *p = fk_answer(arg, q);
	rsp_delay(q, 200);
	rsp_send_pkt(q, p);
	return true;
}

/* Three zones; once zone 0 is delivered, the state of the next zone to start
 * cannot be allocated. */
static void check_short_of_memory(unsigned max_zones)
{
	fk_server_t *srv[] = {&A, &B};
	two_servers(srv, 3, 0, slow_zone1);
	memset(derr, 0, sizeof(derr));
	failed_zone_states = 0;
	arm_after = 0;
	ss_check_opts_t o = {.no_vendor = true, .max_zones = max_zones};
	check_zones(srv, 2, 3, &o);
	arm_after = ~0u;
	assert_int_equal(failed_zone_states, 1);
	assert_int_equal(RUN.delivered, 3);
	for (unsigned i = 0; i < 3; i++) {
		char z[32];
		snprintf(z, sizeof(z), "z%u.test.", i);
		assert_string_equal(RUN.zones[i], z);
	}
}

/*
 * A zone the run cannot hold is never lost: with another zone running it
 * waits until that one finished, then runs; with none running it is told
 * at once as unknown, out of memory. (It was dropped without a result: the
 * monitor waited for it forever.)
 */
static void test_short_of_memory(void **state)
{
	(void)state;
	/* max_zones 2: zone 2 cannot start beside the slow zone 1, starts after. */
	check_short_of_memory(2);
	for (unsigned i = 0; i < 3; i++) {
		assert_int_equal(RUN.status[i], SS_STATUS_OK);
		assert_int_equal(derr[i], 0);
	}
	run_clear();
	/* max_zones 1: nothing runs when zone 1 cannot start: told as unknown. */
	check_short_of_memory(1);
	assert_int_equal(RUN.status[0], SS_STATUS_OK);
	assert_int_equal(RUN.status[1], SS_STATUS_UNKNOWN);
	assert_int_equal(derr[1], SS_ENOMEM);
	assert_int_equal(RUN.status[2], SS_STATUS_OK);
	assert_int_equal(derr[2], 0);
	run_clear();
}

/* CHAOS version.bind: "9.18.28" (BIND) from every server. */
static unsigned chaos_queries;

static bool chaos(rsp_query_t *q, void *arg)
{
	(void)arg;
	if (q->pkt == NULL || knot_pkt_qclass(q->pkt) != KNOT_CLASS_CH) {
		return false;
	}
	chaos_queries++;
	knot_pkt_t *p = rsp_reply(q, KNOT_RCODE_NOERROR, true);
	/* libzscanner reads class IN only: the CH record by hand. */
	knot_dname_storage_t owner;
	knot_dname_from_str(owner, "version.bind.", sizeof(owner));
	knot_rrset_t *rr = knot_rrset_new(owner, KNOT_RRTYPE_TXT, KNOT_CLASS_CH, 0, NULL);
	assert_int_equal(knot_rrset_add_rdata(rr,
	                                      (const uint8_t *)"\x07"
	                                                       "9.18.28",
	                                      8, NULL),
	                 0);
	assert_int_equal(knot_pkt_begin(p, KNOT_ANSWER), 0);
	assert_int_equal(knot_pkt_put(p, KNOT_COMPR_HINT_NONE, rr, KNOT_PF_FREE), 0);
	free(rr);
	rsp_send_pkt(q, p);
	return true;
}

/* The vendor is asked once per address, whatever the number of zones. */
static void test_vendor_once(void **state)
{
	(void)state;
	fk_server_t *srv[] = {&A, &B};
	memset(&A, 0, sizeof(A));
	memset(&B, 0, sizeof(B));
	fk_place(srv, 2);
	serve_zones(&A, 12, 0);
	serve_zones(&B, 12, 0);
	A.hook = B.hook = chaos;
	chaos_queries = 0;
	ss_check_opts_t o = {.max_zones = 3};
	check_zones(srv, 2, 12, &o);
	assert_int_equal(RUN.delivered, 12);
	assert_int_equal(chaos_queries, 2);
	for (unsigned i = 0; i < 12; i++) {
		assert_non_null(RUN.vendor_a[i]);
		assert_string_equal(RUN.vendor_a[i], "bind");
	}
	run_clear();
}

/* ---- discovery of many zones under one parent ----------------------------------------------- */

static fk_server_t R, P, C;
static unsigned parent_ns_lookups;

static bool count_parent_ns(rsp_query_t *q, void *arg)
{
	(void)arg;
	parent_ns_lookups += rsp_qtype(q) == KNOT_RRTYPE_NS && rsp_qname_is(q, "test.");
	return false;
}

static void test_discovered_zones(void **state)
{
	(void)state;
	fk_server_t *srv[] = {&R, &P, &C};
	memset(&R, 0, sizeof(R));
	memset(&P, 0, sizeof(P));
	memset(&C, 0, sizeof(C));
	fk_place(srv, 3);
	R.mode = FK_RECURSIVE;
	P.mode = C.mode = FK_AUTH;
	fk_add(&R, "test. 300 SOA ns.test. h.test. 1 3600 600 86400 300");
	fk_add(&R, "test. 300 NS ns.test.");
	fk_add(&R, "ns.test. 300 A %s", P.ip);
	fk_add(&R, "ns.c.test. 300 A %s", C.ip);
	fk_add(&P, "test. 300 SOA ns.test. h.test. 1 3600 600 86400 300");
	fk_add(&P, "test. 300 NS ns.test.");
	fk_add(&P, "ns.test. 300 A %s", P.ip);
	for (unsigned i = 0; i < 6; i++) {
		fk_add(&R, "z%u.test. 300 SOA ns.c.test. h.test. %u 3600 600 86400 300", i, 50 + i);
		fk_add(&P, "z%u.test. 300 NS ns.c.test.", i);
		fk_add(&C, "z%u.test. 300 SOA ns.c.test. h.test. %u 3600 600 86400 300", i, 50 + i);
		fk_add(&C, "z%u.test. 300 NS ns.c.test.", i);
		char z[32];
		snprintf(z, sizeof(z), "z%u.test.", i);
		fk_delegate(&P, z);
	}
	C.answer_expire = true;
	C.expire = 86400; /* the SOA's: C answers as a primary does */
	R.hook = count_parent_ns;
	parent_ns_lookups = 0;

	uv_loop_t loop;
	uv_loop_init(&loop);
	uint16_t port = fk_start(&loop, srv, 3);
	ss_engine_t *e = ss_engine_new(&loop, NULL);
	ss_check_opts_t o = {.no_vendor = true, .expire = true, .max_zones = 2, .port = port};
	fk_addr(&R, &o.resolver);
	RUN.want = 6;
	ss_check_t *c = ss_check_new(e, &o, on_zone, &RUN);
	for (unsigned i = 0; i < 6; i++) {
		char z[32];
		snprintf(z, sizeof(z), "z%u.test.", i);
		assert_int_equal(ss_check_add(c, z), 0);
	}
	assert_true(rsp_run_until(&loop, all_delivered, &RUN, 20000));
	ss_check_free(c);
	ss_engine_close(e);
	assert_int_equal(fk_finish(&loop, srv, 3), 0);

	for (unsigned i = 0; i < 6; i++) {
		char z[32];
		snprintf(z, sizeof(z), "z%u.test.", i);
		assert_string_equal(RUN.zones[i], z);
		assert_int_equal(RUN.status[i], SS_STATUS_OK);
	}
	assert_int_equal(parent_ns_lookups, 1); /* the resolver's answers are shared */
	assert_int_equal(C.queries, 6 * 2);     /* per zone: its NS set, its SOA */
	run_clear();
}

/* One zone's result, kept (the callback takes it). */
static ss_zone_result_t KEPT;

static void keep(ss_zone_result_t *res, void *arg)
{
	(void)arg;
	KEPT = *res;
	memset(res, 0, sizeof(*res));
}

static bool kept(void *arg)
{
	(void)arg;
	return KEPT.obs.zone_str != NULL;
}

/* The SOA answers of one zone become observations: serial and SOA fields,
 * EDNS EXPIRE, REFUSED, a referral, no answer. */
static void test_observations(void **state)
{
	(void)state;
	static fk_server_t D, E, F, G;
	fk_server_t *srv[] = {&D, &E, &F, &G};
	for (size_t i = 0; i < 4; i++) {
		memset(srv[i], 0, sizeof(*srv[i]));
	}
	fk_place(srv, 4);
	serve_zones(&D, 1, 0);
	D.answer_expire = true;
	D.expire = 86000; /* counting down: a secondary */
	E.mode = FK_REFUSED;
	F.mode = FK_AUTH; /* a parent's server: a referral */
	fk_add(&F, "test. 300 SOA ns.test. h.test. 1 3600 600 86400 300");
	fk_add(&F, "z0.test. 300 NS ns1.z0.test.");
	fk_delegate(&F, "z0.test.");
	G.mode = FK_SILENT;

	uv_loop_t loop;
	uv_loop_init(&loop);
	fk_start(&loop, srv, 4);
	ss_engine_opts_t eo;
	ss_engine_opts_default(&eo);
	eo.timeout_ms = 200;
	eo.tries = 1;
	ss_engine_t *e = ss_engine_new(&loop, &eo);
	ss_addr_t ns[4];
	for (size_t i = 0; i < 4; i++) {
		fk_addr(srv[i], &ns[i]);
	}
	ss_check_opts_t o = {.ns = ns, .nns = 4, .no_vendor = true, .expire = true};
	memset(&KEPT, 0, sizeof(KEPT));
	ss_check_t *c = ss_check_new(e, &o, keep, NULL);
	assert_int_equal(ss_check_add(c, "z0.test"), 0);
	assert_true(rsp_run_until(&loop, kept, NULL, 20000));
	ss_check_free(c);
	ss_engine_close(e);
	assert_int_equal(fk_finish(&loop, srv, 4), 0);

	ss_zone_obs_t *ob = &KEPT.obs;
	assert_int_equal(ob->nservers, 4);
	const ss_server_obs_t *d = &ob->servers[0], *ee = &ob->servers[1], *f = &ob->servers[2],
	                      *g = &ob->servers[3];
	assert_true(d->has_soa);
	assert_int_equal(d->kind, SS_ANS_SOA);
	assert_int_equal(d->soa.serial, 100);
	assert_int_equal(d->soa.expire, 86400);
	assert_true(d->has_expire);
	assert_int_equal(d->expire_s, 86000);
	assert_int_equal(d->verdict, SS_VERDICT_AT_REFERENCE);
	assert_int_equal(ee->kind, SS_ANS_NOT_AUTH);
	assert_int_equal(ee->rcode, KNOT_RCODE_REFUSED);
	assert_int_equal(ee->verdict, SS_VERDICT_NOT_AUTH);
	assert_int_equal(f->kind, SS_ANS_REFERRAL);
	assert_string_equal(f->detail,
	                    "referral to z0.test. (it serves a parent zone, not this one)");
	assert_int_equal(g->kind, SS_ANS_NONE);
	assert_int_equal(g->error, SS_ETIMEOUT);
	assert_int_equal(g->verdict, SS_VERDICT_UNREACHABLE);
	assert_int_equal(KEPT.reference_serial, 100);
	ss_zone_result_clear(&KEPT);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_order_and_bound),  cmocka_unit_test(test_vendor_once),
	    cmocka_unit_test(test_discovered_zones), cmocka_unit_test(test_observations),
	    cmocka_unit_test(test_short_of_memory),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
