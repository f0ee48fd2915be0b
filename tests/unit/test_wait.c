/* wait's verdict (lib/doctor_wait.c) and its renderer, from synthetic
 * observations. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <cmocka.h>

#include <jansson.h>

#include <soasync/wait.h>

#include "obs_fixture.h"
#include "render_wait.h"
#include "session.h"

/* ns1 primary at 10, ns2 at 9, a closed port, ns4 REFUSED. */
static void fleet(ss_zone_result_t *r)
{
	fx_zone(r, "example.test.");
	fx_server(r, "192.0.2.1", "ns1.example.test.", 10, true)->origin |= SS_ORIGIN_CHILD;
	fx_server(r, "192.0.2.2", "ns2.example.test.", 9, false);
	fx_bad(r, "192.0.2.3", SS_ANS_NONE, -1, SS_ECONNREFUSED);
	fx_bad(r, "192.0.2.4", SS_ANS_NOT_AUTH, KNOT_RCODE_REFUSED, 0);
	assert_int_equal(ss_check_analyze(r), 0);
}

static void test_states(void **state)
{
	(void)state;
	ss_zone_result_t r;
	fleet(&r);
	ss_wait_target_t t = {10, 0, SS_DEAD_FAIL, 0};
	assert_int_equal(ss_wait_server(&r.obs.servers[0], &t), SS_WAIT_AT_TARGET);
	assert_int_equal(ss_wait_server(&r.obs.servers[1], &t), SS_WAIT_BEHIND);
	assert_int_equal(ss_wait_server(&r.obs.servers[2], &t), SS_WAIT_DEAD);
	assert_int_equal(ss_wait_server(&r.obs.servers[3], &t), SS_WAIT_BEHIND); /* answers */
	/* "this serial or later" (RFC 1982), not the reference: the target is fixed */
	t.serial = 9;
	assert_int_equal(ss_wait_server(&r.obs.servers[0], &t), SS_WAIT_AT_TARGET);
	assert_int_equal(ss_wait_server(&r.obs.servers[1], &t), SS_WAIT_AT_TARGET);
	t.serial = 10u + 0x80000000u; /* 2^31 away: neither is later */
	assert_int_equal(ss_wait_server(&r.obs.servers[0], &t), SS_WAIT_BEHIND);
	ss_zone_result_clear(&r);
}

static void test_expected_records(void **state)
{
	(void)state;
	ss_zone_result_t r;
	fleet(&r);
	ss_server_obs_t *s = &r.obs.servers[0];
	s->expect = calloc(2, sizeof(*s->expect));
	s->nexpect = 2;
	s->expect[0].status = SS_EXPECT_MATCH;
	s->expect[1].status = SS_EXPECT_ABSENT;
	ss_wait_target_t t = {10, 2, SS_DEAD_FAIL, 0};
	assert_int_equal(ss_wait_server(s, &t), SS_WAIT_AT_TARGET);
	s->expect[1].status = SS_EXPECT_MISSING;
	assert_int_equal(ss_wait_server(s, &t), SS_WAIT_MISSING);
	/* no answers to the expectations at all: missing too */
	assert_int_equal(ss_wait_server(&r.obs.servers[1], &t), SS_WAIT_MISSING);
	ss_zone_result_clear(&r);
}

static void test_hidden_primary_ignored(void **state)
{
	(void)state;
	ss_zone_result_t r;
	fx_zone(&r, "example.test.");
	ss_server_obs_t *p = fx_bad(&r, "192.0.2.1", SS_ANS_NONE, -1, SS_ETIMEOUT);
	p->origin = SS_ORIGIN_PRIMARY; /* from the MNAME only */
	p->is_primary = true;
	fx_server(&r, "192.0.2.2", NULL, 5, false);
	assert_int_equal(ss_check_analyze(&r), 0);
	ss_wait_target_t t = {5, 0, SS_DEAD_FAIL, 0};
	/* (p moved when a server was added: look it up again) */
	assert_int_equal(ss_wait_server(&r.obs.servers[0], &t), SS_WAIT_IGNORED);
	ss_wait_tally_t n = ss_wait_tally(&r, &t);
	assert_int_equal(n.total, 1);
	assert_int_equal(ss_wait_verdict(&t, &n), SS_WAIT_ALL);
	/* named with --primary, it counts (and is dead) */
	r.obs.primary_given = true;
	assert_int_equal(ss_check_analyze(&r), 0);
	n = ss_wait_tally(&r, &t);
	assert_int_equal(n.total, 2);
	assert_int_equal(n.dead, 1);
	assert_int_equal(ss_wait_verdict(&t, &n), SS_WAIT_NOT_YET);
	ss_zone_result_clear(&r);
}

static void test_policies(void **state)
{
	(void)state;
	ss_zone_result_t r;
	fleet(&r);
	ss_wait_target_t t = {10, 0, SS_DEAD_FAIL, 0};
	ss_wait_tally_t n = ss_wait_tally(&r, &t);
	assert_int_equal(n.ok, 1);
	assert_int_equal(n.behind, 2);
	assert_int_equal(n.dead, 1);
	assert_int_equal(n.total, 4);
	assert_int_equal(ss_wait_verdict(&t, &n), SS_WAIT_NOT_YET);
	t.dead = SS_DEAD_IGNORE; /* behind is not dead */
	assert_int_equal(ss_wait_verdict(&t, &n), SS_WAIT_NOT_YET);
	t.dead = SS_DEAD_QUORUM;
	t.quorum = 1;
	assert_int_equal(ss_wait_verdict(&t, &n), SS_WAIT_QUORUM);
	t.quorum = 2;
	assert_int_equal(ss_wait_verdict(&t, &n), SS_WAIT_NOT_YET);

	/* ns2 caught up, ns4 answers now: only the dead one is left */
	r.obs.servers[1].soa.serial = 10;
	ss_server_obs_t *s4 = &r.obs.servers[3];
	s4->kind = SS_ANS_SOA;
	fx_soa(s4, 11);
	assert_int_equal(ss_check_analyze(&r), 0);
	n = ss_wait_tally(&r, &t);
	assert_int_equal(n.ok, 3);
	assert_int_equal(ss_wait_verdict(&t, &n), SS_WAIT_QUORUM);
	t.dead = SS_DEAD_IGNORE;
	assert_int_equal(ss_wait_verdict(&t, &n), SS_WAIT_ANSWERING);
	t.dead = SS_DEAD_FAIL;
	assert_int_equal(ss_wait_verdict(&t, &n), SS_WAIT_NOT_YET);
	ss_zone_result_clear(&r);

	/* nothing counts: never done */
	fx_zone(&r, "example.test.");
	n = ss_wait_tally(&r, &t);
	assert_int_equal(ss_wait_verdict(&t, &n), SS_WAIT_NOT_YET);
	t.dead = SS_DEAD_IGNORE;
	assert_int_equal(ss_wait_verdict(&t, &n), SS_WAIT_NOT_YET);
	ss_zone_result_clear(&r);
}

static char *render(const render_wait_t *proto, const ss_zone_result_t *r, ss_wait_verdict_t v,
                    char **err)
{
	char *out = NULL;
	size_t no = 0, ne = 0;
	render_wait_t rw = *proto;
	rw.out = open_memstream(&out, &no);
	rw.err = open_memstream(err, &ne);
	assert_int_equal(render_wait_end(&rw, r, v, 3.25, 4), 0);
	fclose(rw.out);
	fclose(rw.err);
	return out;
}

static void test_render(void **state)
{
	(void)state;
	ss_zone_result_t r;
	fleet(&r);
	ss_wait_target_t t = {10, 0, SS_DEAD_QUORUM, 1};
	render_wait_t rw = {NULL, NULL, false, false, 30000, &t};
	char *err = NULL, *out = render(&rw, &r, SS_WAIT_QUORUM, &err);
	assert_string_equal(out, "example.test.: 1 of 4 servers serve 10 or later (quorum 1 "
	                         "reached) (3.2 s, 4 rounds)\n");
	assert_string_equal(err, "");
	free(out);
	free(err);
	out = render(&rw, &r, SS_WAIT_NOT_YET, &err);
	assert_string_equal(out, "");
	assert_string_equal(err, "soasync: example.test.: deadline passed after 3 s: not at 10: "
	                         "ns2.example.test. (192.0.2.2) serves 9; 192.0.2.3: connection "
	                         "refused; 192.0.2.4: REFUSED\n");
	free(out);
	free(err);

	rw.json = true;
	out = render(&rw, &r, SS_WAIT_NOT_YET, &err);
	json_error_t e;
	json_t *doc = json_loads(out, 0, &e);
	assert_non_null(doc);
	assert_true(json_is_false(json_object_get(doc, "converged")));
	assert_int_equal(json_integer_value(json_object_get(doc, "serial")), 10);
	assert_int_equal(json_integer_value(json_object_get(doc, "rounds")), 4);
	json_t *servers = json_object_get(doc, "servers");
	assert_int_equal(json_array_size(servers), 4);
	assert_true(json_is_true(json_object_get(json_array_get(servers, 0), "at_target")));
	assert_true(json_is_false(json_object_get(json_array_get(servers, 1), "at_target")));
	assert_true(json_is_null(json_object_get(json_array_get(servers, 2), "serial")));
	json_decref(doc);
	free(out);
	free(err);

	/* the progress line, on a terminal */
	char *p = NULL;
	size_t np = 0;
	rw.json = false;
	rw.progress = true;
	rw.deadline_ms = 1500;
	rw.err = open_memstream(&p, &np);
	render_wait_progress(&rw, &r, 1.0);
	fclose(rw.err);
	assert_string_equal(p, "\r\033[Ksoasync: example.test.: 1/4 at 10 or later [1s/1.5s] "
	                       "waiting for ns2.example.test. (192.0.2.2) serves 9; 192.0.2.3: "
	                       "connection refused; 192.0.2.4: REFUSED");
	free(p);
	ss_zone_result_clear(&r);
}

/* Probing again: the servers as discovery found them, but not a hidden
 * primary that was silent (each probe would wait out its time-out). */
static void test_probe_again(void **state)
{
	(void)state;
	ss_zone_result_t r;
	fx_zone(&r, "example.test.");
	fx_bad(&r, "192.0.2.1", SS_ANS_NONE, -1, SS_ETIMEOUT);
	r.obs.servers[0].origin = SS_ORIGIN_PRIMARY; /* from the MNAME only */
	r.obs.servers[0].is_primary = true;
	fx_server(&r, "192.0.2.2", "ns2.example.test.", 5, false);
	fx_server(&r, "192.0.2.3", "ns3.example.test.", 5, false)->origin |= SS_ORIGIN_PARENT;
	r.obs.mname = strdup("ns1.example.test.");
	assert_int_equal(ss_check_analyze(&r), 0);
	cli_fixed_t f;
	cli_probe_where_t w = {0};
	assert_int_equal(cli_probe_fixed(&r, &f, &w), 0);
	assert_ptr_equal(w.fixed, &f);
	assert_int_equal(f.disc.nservers, 2);
	char a[SS_ADDR_STRLEN];
	assert_string_equal(ss_addr_format(&f.disc.servers[0].addr, a, sizeof(a)), "192.0.2.2");
	assert_string_equal(f.disc.servers[0].name, "ns2.example.test.");
	assert_int_equal(f.disc.servers[1].origin, SS_ORIGIN_CHILD | SS_ORIGIN_PARENT);
	assert_false(f.disc.servers[0].has_soa); /* no answers, only what discovery found */
	assert_string_equal(f.disc.mname, "ns1.example.test.");
	cli_fixed_free(&f);

	/* once it answers, it counts, and is asked again */
	r.obs.servers[0].kind = SS_ANS_SOA;
	fx_soa(&r.obs.servers[0], 5);
	assert_int_equal(ss_check_analyze(&r), 0);
	assert_int_equal(cli_probe_fixed(&r, &f, &w), 0);
	assert_int_equal(f.disc.nservers, 3);
	assert_true(f.disc.servers[0].is_primary);
	cli_fixed_free(&f);
	ss_zone_result_clear(&r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_states),
	    cmocka_unit_test(test_expected_records),
	    cmocka_unit_test(test_hidden_primary_ignored),
	    cmocka_unit_test(test_policies),
	    cmocka_unit_test(test_render),
	    cmocka_unit_test(test_probe_again),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
