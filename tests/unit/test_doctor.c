/* The doctor's model (steps, decisions, verdict) and its renderer, from
 * synthetic observations. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <cmocka.h>

#include <jansson.h>

#include <soasync/doctor.h>

#include "obs_fixture.h"
#include "render_doctor.h"

/* ---- the reference, laggards, convergence ------------------------------------- */

static void test_reference_server(void **state)
{
	(void)state;
	ss_zone_result_t r;
	fx_zone(&r, "example.test.");
	fx_server(&r, "192.0.2.1", NULL, 7, false);
	fx_server(&r, "192.0.2.2", NULL, 7, true); /* the primary wins over address order */
	assert_int_equal(ss_check_analyze(&r), 0);
	assert_int_equal(ss_zone_reference_server(&r), 1);
	ss_zone_result_clear(&r);

	/* A primary that did not answer: the first server at the reference serial. */
	fx_zone(&r, "example.test.");
	fx_bad(&r, "192.0.2.1", SS_ANS_NONE, -1, SS_ETIMEOUT)->is_primary = true;
	fx_server(&r, "192.0.2.2", NULL, 6, false);
	fx_server(&r, "192.0.2.3", NULL, 7, false);
	assert_int_equal(ss_check_analyze(&r), 0);
	assert_int_equal(ss_zone_reference_server(&r), 2);
	ss_zone_result_clear(&r);

	fx_zone(&r, "example.test.");
	fx_bad(&r, "192.0.2.1", SS_ANS_NONE, -1, SS_ETIMEOUT);
	assert_int_equal(ss_check_analyze(&r), 0);
	assert_int_equal(ss_zone_reference_server(&r), -1);
	ss_zone_result_clear(&r);
}

static void test_laggards(void **state)
{
	(void)state;
	ss_zone_result_t r;
	fx_zone(&r, "example.test.");
	fx_server(&r, "192.0.2.1", NULL, 0x80000010u, true);
	fx_server(&r, "192.0.2.2", NULL, 0x80000010u, false);             /* in sync */
	fx_server(&r, "192.0.2.3", NULL, 0x8000000fu, false);             /* behind */
	fx_server(&r, "192.0.2.4", NULL, 0x10u, false);                   /* exactly 2^31 away */
	fx_bad(&r, "192.0.2.5", SS_ANS_SERVFAIL, KNOT_RCODE_SERVFAIL, 0); /* expired */
	fx_bad(&r, "192.0.2.6", SS_ANS_NONE, -1, SS_ETIMEOUT); /* dead: a NOTIFY cannot help */
	assert_int_equal(ss_check_analyze(&r), 0);
	ss_addr_t out[8];
	char a[SS_ADDR_STRLEN];
	size_t n = ss_zone_laggards(&r, false, out, 8);
	assert_int_equal(n, 3);
	assert_string_equal(ss_addr_format(&out[0], a, sizeof(a)), "192.0.2.3");
	assert_string_equal(ss_addr_format(&out[1], a, sizeof(a)), "192.0.2.4");
	assert_string_equal(ss_addr_format(&out[2], a, sizeof(a)), "192.0.2.5");
	/* All secondaries: never the primary. */
	assert_int_equal(ss_zone_laggards(&r, true, out, 8), 5);
	assert_int_equal(ss_zone_laggards(&r, true, out, 2), 2); /* capped */
	ss_zone_result_clear(&r);
}

static void test_converged(void **state)
{
	(void)state;
	ss_zone_result_t r;
	fx_zone(&r, "example.test.");
	fx_server(&r, "192.0.2.1", NULL, 7, true);
	fx_server(&r, "192.0.2.2", NULL, 7, false);
	assert_int_equal(ss_check_analyze(&r), 0);
	assert_true(ss_zone_converged(&r, false));
	r.obs.servers[1].content_differs = true;
	assert_true(ss_zone_converged(&r, false));
	assert_false(ss_zone_converged(&r, true)); /* same serial, other data */
	r.obs.servers[1].content_differs = false;
	r.obs.servers[1].soa.serial = 6;
	assert_int_equal(ss_check_analyze(&r), 0);
	assert_false(ss_zone_converged(&r, false));
	/* Newer than a primary gone backwards: current, but not the same serial. */
	r.obs.servers[1].soa.serial = 8;
	assert_int_equal(ss_check_analyze(&r), 0);
	assert_int_equal(r.obs.servers[1].verdict, SS_VERDICT_AHEAD);
	assert_false(ss_zone_converged(&r, false));
	ss_zone_result_clear(&r);

	/* A server that does not answer is not converged either. */
	fx_zone(&r, "example.test.");
	fx_server(&r, "192.0.2.1", NULL, 7, true);
	fx_bad(&r, "192.0.2.2", SS_ANS_NONE, -1, SS_ETIMEOUT);
	assert_int_equal(ss_check_analyze(&r), 0);
	assert_false(ss_zone_converged(&r, false));
	ss_zone_result_clear(&r);

	/* A hidden primary (MNAME only, silent) does not count. */
	fx_zone(&r, "example.test.");
	ss_server_obs_t *p = fx_bad(&r, "192.0.2.1", SS_ANS_NONE, -1, SS_ETIMEOUT);
	p->origin = SS_ORIGIN_PRIMARY;
	p->is_primary = true;
	fx_server(&r, "192.0.2.2", NULL, 7, false);
	fx_server(&r, "192.0.2.3", NULL, 7, false);
	assert_int_equal(ss_check_analyze(&r), 0);
	/* (p moved when servers were added: look it up again) */
	assert_int_equal(r.obs.servers[0].verdict, SS_VERDICT_HIDDEN_PRIMARY);
	assert_true(ss_zone_converged(&r, false));
	ss_zone_result_clear(&r);

	/* Nobody answered: no reference, not converged. */
	fx_zone(&r, "example.test.");
	assert_false(ss_zone_converged(&r, false));
	ss_zone_result_clear(&r);
}

static void test_doctor_findings(void **state)
{
	(void)state;
	ss_zone_result_t r, own;
	memset(&own, 0, sizeof(own));
	fx_zone(&r, "example.test.");
	fx_server(&r, "192.0.2.1", "ns1.example.test.", 7, true)->vendor = SS_VENDOR_BIND;
	ss_server_obs_t *s = fx_server(&r, "192.0.2.2", "ns2.example.test.", 6, false);
	s->vendor = SS_VENDOR_KNOT;
	assert_int_equal(ss_check_analyze(&r), 0);
	assert_int_equal(ss_doctor_not_transferring(&own, &r, s, 15000), 0);
	assert_int_equal(
	    ss_doctor_notify_refused(&own, &r, s, KNOT_RCODE_NOTAUTH, KNOT_RCODE_BADSIG), 0);
	const ss_finding_t *f = fx_find(&own, SS_F_SECONDARY_NOT_TRANSFERRING);
	assert_non_null(f);
	assert_int_equal(f->severity, SS_SEV_CRITICAL);
	assert_int_equal(f->nservers, 1);
	assert_non_null(strstr(f->message, "ns2.example.test. (192.0.2.2) acknowledged"));
	assert_non_null(strstr(f->message, "still serves 6 after 15 s"));
	assert_non_null(strstr(f->fix, "(Knot): master"));
	/* the primary's transfer ACL, in the primary's vendor's words */
	assert_non_null(strstr(f->fix, "allow-transfer { ...; }; in the zone statement"));
	f = fx_find(&own, SS_F_NOTIFY_REFUSED);
	assert_non_null(f);
	assert_non_null(strstr(f->message, "NOTAUTH, TSIG BADSIG"));
	/* the vendor's way to accept NOTIFY */
	assert_string_equal(f->fix, ss_fix_allow_notify(SS_VENDOR_KNOT));
	ss_zone_result_clear(&own);

	/* PowerDNS: its own words (vendor.c: both ways out) */
	s->vendor = SS_VENDOR_POWERDNS;
	assert_int_equal(ss_doctor_notify_refused(&own, &r, s, KNOT_RCODE_REFUSED, 0), 0);
	assert_string_equal(own.findings[0].fix, ss_fix_allow_notify(SS_VENDOR_POWERDNS));
	assert_non_null(strstr(own.findings[0].message, "(REFUSED): it will only catch up"));
	/* 1.5 s waited, and a server that went silent */
	s->has_soa = false;
	assert_int_equal(ss_doctor_not_transferring(&own, &r, s, 1500), 0);
	assert_non_null(strstr(own.findings[1].message, "did not answer with the zone's SOA "
	                                                "1.5 s later"));
	ss_zone_result_clear(&own);
	ss_zone_result_clear(&r);
}

/* ---- the steps ------------------------------------------------------------------ */

/* ns1 primary at 101, ns2 behind at 100, ns3 at 101. */
static void laggard_fleet(ss_zone_result_t *r)
{
	fx_zone(r, "example.test.");
	fx_server(r, "192.0.2.1", "ns1.example.test.", 101, true)->origin |= SS_ORIGIN_CHILD;
	fx_server(r, "192.0.2.2", "ns2.example.test.", 100, false)->vendor = SS_VENDOR_NSD;
	fx_server(r, "192.0.2.3", "ns3.example.test.", 101, false);
	assert_int_equal(ss_check_analyze(r), 0);
}

static void set_serial(ss_zone_result_t *r, size_t i, uint32_t serial)
{
	r->obs.servers[i].soa.serial = serial;
	assert_int_equal(ss_check_analyze(r), 0);
}

static const char *observed(const ss_doctor_t *d, ss_step_t i)
{
	return d->steps[i].observed ? d->steps[i].observed : "";
}

static void assert_servers(const ss_doctor_step_t *s, const char *want)
{
	char a[SS_ADDR_STRLEN], got[256] = "";
	for (size_t i = 0; i < s->nservers; i++) {
		strcat(got, i ? "," : "");
		strcat(got, ss_addr_format(&s->servers[i], a, sizeof(a)));
	}
	assert_string_equal(got, want);
}

static void test_report_only(void **state)
{
	(void)state;
	ss_zone_result_t r;
	ss_doctor_t d;
	ss_doctor_opts_t o = {0};
	laggard_fleet(&r);
	ss_doctor_init(&d, &o);
	uint32_t x = 0;
	assert_int_equal(ss_doctor_serials(&d, &r), 0);
	assert_false(ss_doctor_published_begin(&d, &r, &x));
	assert_false(ss_doctor_raised_begin(&d, &r, &x));
	assert_int_equal(ss_doctor_direction(&d, &r), 0);
	assert_int_equal(ss_doctor_source(&d, &r), 0);
	assert_int_equal(ss_doctor_notify_begin(&d, &r), 0); /* nothing to send without --fix */
	assert_false(ss_doctor_should_wait(&d, &r));
	assert_int_equal(ss_doctor_converge(&d, &r), 0);
	assert_int_equal(ss_doctor_guard(&d, &r), 0);
	assert_int_equal(ss_doctor_finish(&d, &r), SS_DOCTOR_NOT_CONVERGED);
	assert_int_equal(ss_doctor_exit_status(d.verdict), 2);

	const ss_step_status_t want[] = {SS_STEP_PROBLEM, SS_STEP_SKIPPED, SS_STEP_SKIPPED,
	                                 SS_STEP_OK,      SS_STEP_SKIPPED, SS_STEP_PROBLEM,
	                                 SS_STEP_SKIPPED, SS_STEP_PROBLEM, SS_STEP_ADVICE};
	for (int i = 0; i < SS_DOCTOR_NSTEPS; i++) {
		assert_int_equal(d.steps[i].status, want[i]);
	}
	/* step 1 names the laggard, step 6 the NOTIFY target */
	assert_string_equal(observed(&d, SS_STEP_SERIALS),
	                    "2 of 3 addresses serve the reference 101 (192.0.2.1); "
	                    "ns2.example.test. (192.0.2.2) serves 100");
	assert_servers(&d.steps[SS_STEP_SERIALS], "192.0.2.2");
	assert_string_equal(observed(&d, SS_STEP_NOTIFY),
	                    "1 server is behind: --fix sends a NOTIFY to ns2.example.test. "
	                    "(192.0.2.2)");
	assert_servers(&d.steps[SS_STEP_NOTIFY], "192.0.2.2");
	assert_string_equal(observed(&d, SS_STEP_CONVERGE), "not converged: the reference is 101");
	assert_servers(&d.steps[SS_STEP_CONVERGE], "192.0.2.2");
	assert_non_null(strstr(observed(&d, SS_STEP_GUARD), "soasync monitor"));
	assert_int_equal(d.nactions, 0);
	ss_doctor_clear(&d);

	/* In sync: every step ok, exit 0. */
	set_serial(&r, 1, 101);
	ss_doctor_init(&d, &o);
	assert_int_equal(ss_doctor_serials(&d, &r), 0);
	assert_int_equal(d.steps[SS_STEP_SERIALS].status, SS_STEP_OK);
	assert_int_equal(d.steps[SS_STEP_SERIALS].nservers, 0);
	assert_int_equal(ss_doctor_notify_begin(&d, &r), 0);
	assert_int_equal(d.steps[SS_STEP_NOTIFY].status, SS_STEP_OK);
	assert_int_equal(d.steps[SS_STEP_TRANSFER].status, SS_STEP_OK);
	assert_int_equal(ss_doctor_converge(&d, &r), 0);
	assert_string_equal(observed(&d, SS_STEP_CONVERGE), "every server serves 101");
	assert_int_equal(ss_doctor_finish(&d, &r), SS_DOCTOR_CONVERGED);
	assert_int_equal(ss_doctor_exit_status(d.verdict), 0);
	ss_doctor_clear(&d);
	ss_zone_result_clear(&r);
}

static void test_no_reference(void **state)
{
	(void)state;
	ss_zone_result_t r;
	ss_doctor_t d;
	ss_doctor_opts_t o = {
	    .fix = true, .content = true, .zonefile = "db.example", .ncandidates = 1};
	fx_zone(&r, "example.test.");
	fx_bad(&r, "192.0.2.1", SS_ANS_NONE, -1, SS_ETIMEOUT);
	fx_bad(&r, "192.0.2.2", SS_ANS_NOT_AUTH, KNOT_RCODE_REFUSED, 0);
	assert_int_equal(ss_check_analyze(&r), 0);
	ss_doctor_init(&d, &o);
	uint32_t x = 0;
	assert_int_equal(ss_doctor_serials(&d, &r), 0);
	assert_false(ss_doctor_published_begin(&d, &r, &x));
	assert_false(ss_doctor_raised_begin(&d, &r, &x));
	assert_int_equal(ss_doctor_direction(&d, &r), 0);
	assert_int_equal(ss_doctor_source(&d, &r), 0);
	assert_int_equal(ss_doctor_notify_begin(&d, &r), 0);
	assert_false(ss_doctor_should_wait(&d, &r));
	assert_int_equal(ss_doctor_converge(&d, &r), 0);
	assert_int_equal(ss_doctor_guard(&d, &r), 0);
	assert_int_equal(d.steps[SS_STEP_SERIALS].status, SS_STEP_PROBLEM);
	assert_string_equal(observed(&d, SS_STEP_SERIALS),
	                    "no server answered with the zone's SOA; 192.0.2.1: timed out; "
	                    "192.0.2.2: REFUSED");
	assert_servers(&d.steps[SS_STEP_SERIALS], "192.0.2.1,192.0.2.2");
	for (int i = SS_STEP_PUBLISHED; i <= SS_STEP_CONVERGE; i++) {
		assert_int_equal(d.steps[i].status, SS_STEP_BLOCKED);
		assert_non_null(strstr(observed(&d, i), "not possible"));
	}
	assert_int_equal(d.steps[SS_STEP_GUARD].status, SS_STEP_ADVICE);
	assert_int_equal(ss_doctor_finish(&d, &r), SS_DOCTOR_NO_REFERENCE);
	assert_int_equal(ss_doctor_exit_status(d.verdict), 2);
	assert_false(d.converged);
	ss_doctor_clear(&d);
	ss_zone_result_clear(&r);
}

/* Step 1 is a problem whenever a counted address does not serve the
 * reference, whatever the finding: one this host could not ask (out of
 * open files) is not "ok" either (converge says not converged). */
static void test_serials_unasked_is_problem(void **state)
{
	(void)state;
	ss_zone_result_t r;
	ss_doctor_t d;
	ss_doctor_opts_t o = {0};
	fx_zone(&r, "example.test.");
	fx_server(&r, "192.0.2.1", NULL, 7, true);
	fx_bad(&r, "192.0.2.2", SS_ANS_NONE, -1, SS_EMFILE);
	assert_int_equal(ss_check_analyze(&r), 0);
	assert_int_equal(r.obs.servers[1].verdict, SS_VERDICT_LOCAL_ERROR);
	ss_doctor_init(&d, &o);
	assert_int_equal(ss_doctor_serials(&d, &r), 0);
	assert_int_equal(d.steps[SS_STEP_SERIALS].status, SS_STEP_PROBLEM);
	assert_servers(&d.steps[SS_STEP_SERIALS], "192.0.2.2");
	assert_int_equal(ss_doctor_converge(&d, &r), 0);
	assert_int_equal(d.steps[SS_STEP_CONVERGE].status, SS_STEP_PROBLEM);
	ss_doctor_clear(&d);
	ss_zone_result_clear(&r);
}

/* The run with --fix up to the NOTIFY; returns how many targets. */
static long fix_until_notify(ss_doctor_t *d, const ss_zone_result_t *r)
{
	ss_doctor_opts_t o = {.fix = true};
	ss_doctor_init(d, &o);
	assert_int_equal(ss_doctor_serials(d, r), 0);
	assert_int_equal(ss_doctor_direction(d, r), 0);
	return ss_doctor_notify_begin(d, r);
}

static ss_notify_result_t answer(const char *addr, ss_notify_status_t st, int rcode)
{
	ss_notify_result_t a;
	memset(&a, 0, sizeof(a));
	ss_addr_parse(&a.target, addr, 53);
	a.status = st;
	a.rcode = rcode;
	a.error = st == SS_NOTIFY_NOANSWER ? SS_ETIMEOUT : 0;
	return a;
}

static void test_notify_refused_is_final(void **state)
{
	(void)state;
	ss_zone_result_t r;
	ss_doctor_t d;
	laggard_fleet(&r);
	assert_int_equal(fix_until_notify(&d, &r), 1);
	ss_doctor_notify_sent(&d, 0);
	ss_notify_result_t a = answer("192.0.2.2", SS_NOTIFY_REFUSED, KNOT_RCODE_REFUSED);
	assert_int_equal(ss_doctor_notified(&d, &r, &a), 0);
	assert_false(ss_doctor_notify_end(&d, &r)); /* nothing to wait for */
	assert_int_equal(d.steps[SS_STEP_NOTIFY].status, SS_STEP_FAILED);
	assert_string_equal(observed(&d, SS_STEP_NOTIFY),
	                    "0 of 1 acknowledged the NOTIFY: ns2.example.test. (192.0.2.2) "
	                    "refused (REFUSED)");
	assert_int_equal(d.steps[SS_STEP_TRANSFER].status, SS_STEP_FAILED);
	assert_int_equal(d.nactions, 1);
	assert_int_equal(d.actions[0].kind, SS_ACTION_NOTIFY);
	assert_string_equal(d.actions[0].target, "192.0.2.2");
	assert_string_equal(d.actions[0].result, "refused");
	const ss_finding_t *f = fx_find(&d.own, SS_F_NOTIFY_REFUSED);
	assert_non_null(f);
	assert_string_equal(f->fix, ss_fix_allow_notify(SS_VENDOR_NSD));
	/* the diagnosis is final: doctor does not wait for that secondary */
	assert_false(ss_doctor_should_wait(&d, &r));
	ss_doctor_clear(&d);

	/* No answer at all: final too; declined: nothing sent, final. */
	assert_int_equal(fix_until_notify(&d, &r), 1);
	ss_doctor_notify_sent(&d, 0);
	a = answer("192.0.2.2", SS_NOTIFY_NOANSWER, -1);
	assert_int_equal(ss_doctor_notified(&d, &r, &a), 0);
	assert_false(ss_doctor_notify_end(&d, &r));
	assert_non_null(strstr(observed(&d, SS_STEP_NOTIFY), "gave no answer (timed out)"));
	assert_false(ss_doctor_should_wait(&d, &r));
	ss_doctor_clear(&d);
	assert_int_equal(fix_until_notify(&d, &r), 1);
	assert_false(ss_doctor_notify_end(&d, &r));
	assert_int_equal(d.steps[SS_STEP_NOTIFY].status, SS_STEP_SKIPPED);
	assert_int_equal(d.steps[SS_STEP_TRANSFER].status, SS_STEP_SKIPPED);
	assert_false(ss_doctor_should_wait(&d, &r));
	ss_doctor_clear(&d);
	ss_zone_result_clear(&r);
}

static void test_transfer_after_notify(void **state)
{
	(void)state;
	ss_zone_result_t r;
	ss_doctor_t d;
	ss_addr_t aw[4];
	laggard_fleet(&r);
	assert_int_equal(fix_until_notify(&d, &r), 1);
	ss_doctor_notify_sent(&d, 0);
	ss_notify_result_t a = answer("192.0.2.2", SS_NOTIFY_ACKED, 0);
	assert_int_equal(ss_doctor_notified(&d, &r, &a), 0);
	assert_true(ss_doctor_notify_end(&d, &r));
	assert_int_equal(d.steps[SS_STEP_NOTIFY].status, SS_STEP_FIXED);
	assert_int_equal(d.steps[SS_STEP_TRANSFER].status, SS_STEP_PENDING);
	assert_false(ss_doctor_moved(&d, &r));
	assert_int_equal(ss_doctor_awaited(&d, &r, SS_STEP_TRANSFER, aw, 4), 1);

	/* it did not move: secondary-not-transferring, and no further wait */
	assert_int_equal(ss_doctor_transfer(&d, &r, 2000), 0);
	assert_int_equal(d.steps[SS_STEP_TRANSFER].status, SS_STEP_PROBLEM);
	assert_string_equal(observed(&d, SS_STEP_TRANSFER),
	                    "1 server acknowledged the NOTIFY but did not transfer within 2 s "
	                    "(see secondary-not-transferring)");
	assert_servers(&d.steps[SS_STEP_TRANSFER], "192.0.2.2");
	assert_non_null(fx_find(&d.own, SS_F_SECONDARY_NOT_TRANSFERRING));
	assert_false(ss_doctor_should_wait(&d, &r));
	ss_doctor_clear(&d);

	/* it moved: fixed; then the primary moves on and it is behind again:
	 * the primary's own NOTIFY will move it, so waiting helps */
	assert_int_equal(fix_until_notify(&d, &r), 1);
	ss_doctor_notify_sent(&d, 0);
	assert_int_equal(ss_doctor_notified(&d, &r, &a), 0);
	assert_true(ss_doctor_notify_end(&d, &r));
	set_serial(&r, 1, 101);
	assert_true(ss_doctor_moved(&d, &r));
	assert_int_equal(ss_doctor_transfer(&d, &r, 15000), 0);
	assert_int_equal(d.steps[SS_STEP_TRANSFER].status, SS_STEP_FIXED);
	assert_string_equal(observed(&d, SS_STEP_TRANSFER),
	                    "1 notified server transferred the zone");
	assert_false(ss_doctor_should_wait(&d, &r)); /* converged */
	set_serial(&r, 0, 102);
	assert_true(ss_doctor_should_wait(&d, &r));
	assert_int_equal(ss_doctor_awaited(&d, &r, SS_STEP_CONVERGE, aw, 4), 2);
	/* a server that was in sync when notifying, behind now: waiting helps too */
	set_serial(&r, 1, 102);
	assert_true(ss_doctor_should_wait(&d, &r));
	/* but once it stops answering, nothing doctor did will move it */
	r.obs.servers[2].has_soa = false;
	r.obs.servers[2].kind = SS_ANS_NONE;
	r.obs.servers[2].error = SS_ETIMEOUT;
	assert_int_equal(ss_check_analyze(&r), 0);
	assert_false(ss_doctor_should_wait(&d, &r));
	ss_doctor_clear(&d);
	ss_zone_result_clear(&r);
}

static void test_should_wait_needs_fix(void **state)
{
	(void)state;
	ss_zone_result_t r;
	ss_doctor_t d;
	ss_doctor_opts_t o = {0};
	laggard_fleet(&r);
	set_serial(&r, 1, 101);
	set_serial(&r, 0, 102); /* a server not notified by doctor is behind */
	ss_doctor_init(&d, &o);
	assert_int_equal(ss_doctor_serials(&d, &r), 0);
	assert_false(ss_doctor_should_wait(&d, &r)); /* no --fix: report only */
	d.o.fix = true;
	assert_true(ss_doctor_should_wait(&d, &r));
	/* the primary gone backwards: servers ahead are a plan, not a wait */
	set_serial(&r, 0, 100);
	assert_false(ss_doctor_should_wait(&d, &r));
	/* same serial, other data: nothing to wait for either */
	set_serial(&r, 0, 101);
	d.o.content = true;
	r.obs.servers[2].content_differs = true;
	assert_false(ss_zone_converged(&r, true));
	assert_false(ss_doctor_should_wait(&d, &r));
	ss_doctor_clear(&d);
	ss_zone_result_clear(&r);
}

static void test_zonefile_steps(void **state)
{
	(void)state;
	ss_zone_result_t r;
	ss_doctor_t d;
	ss_doctor_opts_t o = {.zonefile = "db.example"};
	laggard_fleet(&r);
	set_serial(&r, 1, 101);
	r.obs.zonefile_serial = 102;
	ss_result_add_finding(&r, SS_F_ZONEFILE_NOT_PUBLISHED, SS_SEV_CRITICAL,
	                      &r.obs.servers[0].addr, 1, NULL, "the zone file has 102");
	uint32_t want = 0;
	ss_doctor_init(&d, &o);
	assert_int_equal(ss_doctor_serials(&d, &r), 0);
	assert_false(ss_doctor_published_begin(&d, &r, &want));
	assert_int_equal(d.steps[SS_STEP_PUBLISHED].status, SS_STEP_PROBLEM);
	assert_string_equal(observed(&d, SS_STEP_PUBLISHED),
	                    "the zone file has 102 (--fix --reload-cmd CMD loads it)");
	assert_servers(&d.steps[SS_STEP_PUBLISHED], "192.0.2.1");
	/* the servers agree, but not on the file: not healed, and it says so */
	assert_int_equal(ss_doctor_finish(&d, &r), SS_DOCTOR_FILE_NOT_SERVED);
	assert_true(d.converged);
	assert_int_equal(ss_doctor_exit_status(d.verdict), 2);
	ss_doctor_clear(&d);

	/* --fix: the repair is the command's; its outcome makes the step */
	o.fix = true;
	ss_doctor_init(&d, &o);
	assert_int_equal(ss_doctor_serials(&d, &r), 0);
	assert_true(ss_doctor_published_begin(&d, &r, &want));
	assert_int_equal(want, 102);
	assert_int_equal(d.steps[SS_STEP_PUBLISHED].status, SS_STEP_PENDING);
	assert_int_equal(ss_doctor_published_end(&d, false), 0);
	assert_int_equal(d.steps[SS_STEP_PUBLISHED].status, SS_STEP_FAILED);
	assert_string_equal(observed(&d, SS_STEP_PUBLISHED),
	                    "the zone file has 102; still not served");
	assert_servers(&d.steps[SS_STEP_PUBLISHED], "192.0.2.1");
	assert_int_equal(ss_doctor_published_end(&d, true), 0);
	assert_string_equal(observed(&d, SS_STEP_PUBLISHED),
	                    "the zone file has 102; reloaded: the primary serves it now");
	ss_doctor_clear(&d);

	/* step 3: an unbumped edit; without --zonefile only --content sees it */
	ss_zone_result_clear(&r);
	laggard_fleet(&r);
	set_serial(&r, 1, 101);
	ss_result_add_finding(&r, SS_F_SAME_SERIAL_DIFFERENT_DATA, SS_SEV_CRITICAL,
	                      &r.obs.servers[1].addr, 1, NULL, "same serial 101, other data");
	ss_doctor_opts_t oc = {.fix = true, .content = true};
	uint32_t above = 0;
	ss_doctor_init(&d, &oc);
	assert_int_equal(ss_doctor_serials(&d, &r), 0);
	assert_false(ss_doctor_raised_begin(&d, &r, &above));
	assert_string_equal(observed(&d, SS_STEP_RAISED),
	                    "same serial 101, other data (give --zonefile FILE to let --fix "
	                    "raise the serial)");
	ss_doctor_clear(&d);
	oc.zonefile = "db.example";
	ss_doctor_init(&d, &oc);
	assert_int_equal(ss_doctor_serials(&d, &r), 0);
	assert_true(ss_doctor_raised_begin(&d, &r, &above));
	assert_int_equal(above, 101);
	assert_int_equal(ss_doctor_raised_end(&d, true), 0);
	assert_int_equal(d.steps[SS_STEP_RAISED].status, SS_STEP_FIXED);
	assert_string_equal(observed(&d, SS_STEP_RAISED),
	                    "same serial 101, other data; serial raised and reloaded");
	ss_doctor_clear(&d);
	ss_zone_result_clear(&r);
}

static void test_primary_serves_and_names(void **state)
{
	(void)state;
	ss_zone_result_t r;
	laggard_fleet(&r);
	assert_true(ss_doctor_primary_serves(&r, 101));
	assert_true(ss_doctor_primary_serves(&r, 100));
	assert_false(ss_doctor_primary_serves(&r, 102));
	assert_false(ss_doctor_primary_serves(&r, 101u + 0x80000000u)); /* neither is newer */
	ss_zone_result_clear(&r);
	assert_string_equal(ss_step_name(SS_STEP_RAISED), "serial-raised");
	assert_string_equal(ss_step_name(SS_DOCTOR_NSTEPS), "unknown");
	assert_string_equal(ss_step_status_name(SS_STEP_BLOCKED), "blocked");
	assert_string_equal(ss_action_name(SS_ACTION_SKIPPED), "skipped");
	assert_string_equal(ss_doctor_verdict_name(SS_DOCTOR_FILE_NOT_SERVED), "file-not-served");
}

/* ---- the renderer ----------------------------------------------------------------- */

typedef struct {
	char *out, *err;
	size_t nout, nerr;
	FILE *fo, *fe;
} streams_t;

static void streams_open(streams_t *s)
{
	memset(s, 0, sizeof(*s));
	s->fo = open_memstream(&s->out, &s->nout);
	s->fe = open_memstream(&s->err, &s->nerr);
	assert_non_null(s->fo);
	assert_non_null(s->fe);
}

static void streams_close(streams_t *s)
{
	fclose(s->fo);
	fclose(s->fe);
}

static void streams_free(streams_t *s)
{
	free(s->out);
	free(s->err);
}

/* A --fix run on the laggard fleet where ns2 refused the NOTIFY. */
static void refused_run(ss_doctor_t *d, ss_zone_result_t *r, const ss_doctor_opts_t *o)
{
	laggard_fleet(r);
	ss_doctor_init(d, o);
	assert_int_equal(ss_doctor_serials(d, r), 0);
	uint32_t x;
	assert_false(ss_doctor_published_begin(d, r, &x));
	assert_false(ss_doctor_raised_begin(d, r, &x));
	assert_int_equal(ss_doctor_direction(d, r), 0);
	assert_int_equal(ss_doctor_source(d, r), 0);
	assert_int_equal(ss_doctor_notify_begin(d, r), 1);
	ss_doctor_notify_sent(d, 0);
	ss_notify_result_t a = answer("192.0.2.2", SS_NOTIFY_REFUSED, KNOT_RCODE_REFUSED);
	assert_int_equal(ss_doctor_notified(d, r, &a), 0);
	assert_false(ss_doctor_notify_end(d, r));
	assert_int_equal(ss_doctor_converge(d, r), 0);
	assert_int_equal(ss_doctor_guard(d, r), 0);
	ss_doctor_finish(d, r);
}

/* A refused run rendered (text or JSON) into memory. */
typedef struct {
	ss_zone_result_t r;
	ss_doctor_t d;
	streams_t s;
} rendered_t;

static void render_refused(rendered_t *x, bool json, const ss_doctor_opts_t *o)
{
	render_doctor_t rd;
	streams_open(&x->s);
	render_doctor_init(&rd, json, false, x->s.fo, x->s.fe);
	refused_run(&x->d, &x->r, o);
	render_doctor_update(&rd, &x->d); /* JSON keeps everything for the end */
	assert_int_equal(render_doctor_end(&rd, &x->d, &x->r), 0);
	streams_close(&x->s);
}

static void rendered_free(rendered_t *x)
{
	streams_free(&x->s);
	ss_doctor_clear(&x->d);
	ss_zone_result_clear(&x->r);
}

static void test_render_text(void **state)
{
	(void)state;
	ss_addr_t p[1], ns[2];
	ss_addr_parse(&p[0], "192.0.2.1", 53);
	ss_addr_parse(&ns[0], "192.0.2.2", 5300);
	ss_addr_parse(&ns[1], "2001:db8::3", 53);
	ss_doctor_opts_t o = {.fix = true, .primary = p, .nprimary = 1, .ns = ns, .nns = 2};
	rendered_t x;
	render_refused(&x, false, &o);
	const char *out = x.s.out;
	/* the action on stderr, nothing else there */
	assert_string_equal(x.s.err, "soasync: example.test.: notify 192.0.2.2: refused\n");
	assert_true(strncmp(out, "doctor example.test.\n  1 serials        problem  2 of 3", 55) ==
	            0);
	assert_non_null(strstr(out, "\n  6 notify         failed   0 of 1 acknowledged the "
	                            "NOTIFY: ns2.example.test. (192.0.2.2) refused (REFUSED)\n"));
	/* the monitor's config lines right under step 9 */
	assert_non_null(strstr(out, "\n    zones:\n      - name: \"example.test\"\n"
	                            "        primary: \"192.0.2.1\"\n"
	                            "        ns: [\"192.0.2.2#5300\", \"2001:db8::3\"]\n"));
	assert_non_null(strstr(out, "  warning notify-refused: ns2.example.test. (192.0.2.2) "
	                            "refused the NOTIFY (REFUSED)"));
	/* the last line is the verdict */
	size_t n = strlen(out);
	assert_true(n > 30);
	assert_string_equal(out + n - strlen("example.test.: NOT converged\n"),
	                    "example.test.: NOT converged\n");
	rendered_free(&x);
}

static void test_render_json(void **state)
{
	(void)state;
	ss_doctor_opts_t o = {.fix = true};
	rendered_t x;
	render_refused(&x, true, &o);
	assert_string_equal(x.s.err, "");
	json_error_t e;
	json_t *doc = json_loads(x.s.out, 0, &e);
	assert_non_null(doc);
	assert_string_equal(json_string_value(json_object_get(doc, "verdict")), "not-converged");
	assert_true(json_is_false(json_object_get(doc, "converged")));
	assert_int_equal(json_integer_value(json_object_get(doc, "reference_serial")), 101);
	json_t *steps = json_object_get(doc, "steps");
	assert_int_equal(json_array_size(steps), 9);
	json_t *s6 = json_array_get(steps, 5);
	assert_string_equal(json_string_value(json_object_get(s6, "name")), "notify");
	assert_string_equal(json_string_value(json_object_get(s6, "status")), "failed");
	json_t *srv = json_object_get(s6, "servers");
	assert_int_equal(json_array_size(srv), 1);
	assert_string_equal(json_string_value(json_array_get(srv, 0)), "192.0.2.2");
	/* check's findings, then doctor's own */
	json_t *fs = json_object_get(doc, "findings");
	assert_int_equal(json_array_size(fs), 2);
	assert_string_equal(json_string_value(json_object_get(json_array_get(fs, 1), "code")),
	                    "notify-refused");
	json_t *act = json_array_get(json_object_get(doc, "actions"), 0);
	assert_string_equal(json_string_value(json_object_get(act, "action")), "notify");
	assert_string_equal(json_string_value(json_object_get(act, "result")), "refused");
	json_t *zones = json_object_get(json_object_get(doc, "monitor"), "zones");
	assert_string_equal(json_string_value(json_object_get(json_array_get(zones, 0), "name")),
	                    "example.test");
	assert_null(json_object_get(json_array_get(zones, 0), "ns"));
	json_decref(doc);
	rendered_free(&x);
}

static void test_render_streams_steps(void **state)
{
	(void)state;
	ss_zone_result_t r;
	ss_doctor_t d;
	ss_doctor_opts_t o = {.fix = true};
	streams_t s;
	streams_open(&s);
	render_doctor_t rd;
	render_doctor_init(&rd, false, true, s.fo, s.fe);
	laggard_fleet(&r);
	ss_doctor_init(&d, &o);
	assert_int_equal(ss_doctor_serials(&d, &r), 0);
	uint32_t x;
	assert_true(ss_doctor_published_begin(&d, &r, &x) == false);
	render_doctor_update(&rd, &d);
	fflush(s.fo);
	/* step 1 and 2 are out, step 3 is not assessed yet */
	assert_non_null(strstr(s.out, "  2 published"));
	assert_null(strstr(s.out, "  3 serial-raised"));
	render_doctor_progress(&rd, &d, &r, SS_STEP_CONVERGE, "waiting for", 3, 120);
	fflush(s.fe);
	assert_string_equal(s.err, "\r\033[Ksoasync: example.test.: 8 converge: waiting for "
	                           "ns2.example.test. (192.0.2.2) [3s/120s]");
	render_doctor_update(&rd, &d); /* anything else first erases the progress line */
	fflush(s.fe);
	assert_string_equal(s.err + strlen(s.err) - 4, "\r\033[K");
	streams_close(&s);
	streams_free(&s);
	ss_doctor_clear(&d);
	ss_zone_result_clear(&r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_reference_server),
	    cmocka_unit_test(test_laggards),
	    cmocka_unit_test(test_converged),
	    cmocka_unit_test(test_doctor_findings),
	    cmocka_unit_test(test_report_only),
	    cmocka_unit_test(test_no_reference),
	    cmocka_unit_test(test_serials_unasked_is_problem),
	    cmocka_unit_test(test_notify_refused_is_final),
	    cmocka_unit_test(test_transfer_after_notify),
	    cmocka_unit_test(test_should_wait_needs_fix),
	    cmocka_unit_test(test_zonefile_steps),
	    cmocka_unit_test(test_primary_serves_and_names),
	    cmocka_unit_test(test_render_text),
	    cmocka_unit_test(test_render_json),
	    cmocka_unit_test(test_render_streams_steps),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
