/* The doctor's verdicts and the reference server, from synthetic observations. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <soasync/doctor.h>

#include "obs_fixture.h"

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
	ss_zone_result_clear(&r);

	/* A server that does not answer is not converged either. */
	fx_zone(&r, "example.test.");
	fx_server(&r, "192.0.2.1", NULL, 7, true);
	fx_bad(&r, "192.0.2.2", SS_ANS_NONE, -1, SS_ETIMEOUT);
	assert_int_equal(ss_check_analyze(&r), 0);
	assert_false(ss_zone_converged(&r, false));
	ss_zone_result_clear(&r);
}

static void test_doctor_findings(void **state)
{
	(void)state;
	ss_zone_result_t r;
	fx_zone(&r, "example.test.");
	ss_server_obs_t *s = fx_server(&r, "192.0.2.2", "ns2.example.test.", 6, false);
	s->vendor = SS_VENDOR_KNOT;
	assert_int_equal(ss_doctor_not_transferring(&r, s, 15), 0);
	assert_int_equal(ss_doctor_notify_refused(&r, s, KNOT_RCODE_NOTAUTH, KNOT_RCODE_BADSIG), 0);
	const ss_finding_t *f = fx_find(&r, SS_F_SECONDARY_NOT_TRANSFERRING);
	assert_non_null(f);
	assert_int_equal(f->severity, SS_SEV_CRITICAL);
	assert_non_null(strstr(f->message, "still serves 6 after 15 s"));
	assert_non_null(strstr(f->fix, "(Knot): master"));
	f = fx_find(&r, SS_F_NOTIFY_REFUSED);
	assert_non_null(f);
	assert_non_null(strstr(f->message, "NOTAUTH, TSIG BADSIG"));
	assert_non_null(strstr(f->fix, "action: notify"));
	ss_zone_result_clear(&r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_reference_server),
	    cmocka_unit_test(test_laggards),
	    cmocka_unit_test(test_converged),
	    cmocka_unit_test(test_doctor_findings),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
