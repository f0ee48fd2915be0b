#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "obs_fixture.h"

static void test_in_sync(void **state)
{
	(void)state;
	ss_zone_result_t r;
	fx_zone(&r, "example.test.");
	fx_server(&r, "192.0.2.1", "ns1.example.test.", 5, true);
	fx_server(&r, "192.0.2.2", "ns2.example.test.", 5, false);
	assert_int_equal(ss_check_analyze(&r), 0);
	assert_int_equal(r.status, SS_STATUS_OK);
	assert_int_equal(r.nfindings, 0);
	assert_true(r.reference_is_primary);
	assert_int_equal(r.reference_serial, 5);
	ss_zone_result_clear(&r);
}

static void test_serial_behind(void **state)
{
	(void)state;
	ss_zone_result_t r;
	fx_zone(&r, "example.test.");
	fx_server(&r, "192.0.2.1", "ns1.example.test.", 7, true);
	ss_server_obs_t *s = fx_server(&r, "192.0.2.2", "ns2.example.test.", 5, false);
	s->vendor = SS_VENDOR_NSD;
	fx_server(&r, "192.0.2.3", "ns3.example.test.", 7, false)->vendor = SS_VENDOR_KNOT;
	assert_int_equal(ss_check_analyze(&r), 0);
	assert_int_equal(r.status, SS_STATUS_CRITICAL);
	const ss_finding_t *f = fx_find(&r, SS_F_SERIAL_BEHIND);
	assert_non_null(f);
	assert_int_equal(f->nservers, 1);
	char a[SS_ADDR_STRLEN];
	assert_string_equal(ss_addr_format(&f->servers[0], a, sizeof(a)), "192.0.2.2");
	assert_non_null(strstr(f->message, "serves 5 (2 behind)"));
	assert_non_null(strstr(f->fix, "nsd-control force_transfer example.test"));
	ss_zone_result_clear(&r);
}

static void test_serial_behind_wrap(void **state)
{
	(void)state;
	ss_zone_result_t r;
	fx_zone(&r, "example.test.");
	/* No primary: the highest in RFC 1982 order is 3 (it wrapped past 2^32-1). */
	fx_server(&r, "192.0.2.1", NULL, 0xfffffffeu, false);
	fx_server(&r, "192.0.2.2", NULL, 3, false);
	assert_int_equal(ss_check_analyze(&r), 0);
	assert_int_equal(r.reference_serial, 3);
	assert_false(r.reference_is_primary);
	const ss_finding_t *f = fx_find(&r, SS_F_SERIAL_BEHIND);
	assert_non_null(f);
	assert_non_null(strstr(f->message, "(5 behind)"));
	ss_zone_result_clear(&r);
}

static void test_primary_behind(void **state)
{
	(void)state;
	ss_zone_result_t r;
	fx_zone(&r, "example.test.");
	fx_server(&r, "192.0.2.1", "ns1.example.test.", 2026010100u, true);
	fx_server(&r, "192.0.2.2", "ns2.example.test.", 2026112501u, false);
	assert_int_equal(ss_check_analyze(&r), 0);
	const ss_finding_t *f = fx_find(&r, SS_F_PRIMARY_BEHIND);
	assert_non_null(f);
	assert_int_equal(f->severity, SS_SEV_CRITICAL);
	assert_int_equal(f->nservers, 1);
	assert_non_null(strstr(f->fix, "--at-least 2026112502"));
	assert_null(fx_find(&r, SS_F_SERIAL_BEHIND));
	ss_zone_result_clear(&r);
}

static void test_undefined(void **state)
{
	(void)state;
	ss_zone_result_t r;
	fx_zone(&r, "example.test.");
	fx_server(&r, "192.0.2.1", NULL, 0x80000010u, true);
	fx_server(&r, "192.0.2.2", NULL, 0x10u, false);
	assert_int_equal(ss_check_analyze(&r), 0);
	const ss_finding_t *f = fx_find(&r, SS_F_SERIAL_UNDEFINED);
	assert_non_null(f);
	assert_int_equal(r.status, SS_STATUS_CRITICAL);
	assert_null(fx_find(&r, SS_F_SERIAL_BEHIND));
	ss_zone_result_clear(&r);
}

static void test_not_authoritative_never_counts(void **state)
{
	(void)state;
	ss_zone_result_t r;
	fx_zone(&r, "example.test.");
	fx_server(&r, "192.0.2.1", NULL, 10, true);
	fx_bad(&r, "192.0.2.2", SS_ANS_NOT_AUTH, KNOT_RCODE_REFUSED, 0);
	fx_bad(&r, "192.0.2.3", SS_ANS_REFERRAL, 0, 0);
	/* A non-authoritative answer carrying a higher serial must not move the reference. */
	ss_server_obs_t *rec = fx_bad(&r, "192.0.2.4", SS_ANS_NOT_AUTH, 0, 0);
	rec->soa.serial = 99;
	assert_int_equal(ss_check_analyze(&r), 0);
	assert_int_equal(r.reference_serial, 10);
	const ss_finding_t *f = fx_find(&r, SS_F_NOT_AUTHORITATIVE);
	assert_non_null(f);
	assert_int_equal(f->nservers, 3);
	assert_null(fx_find(&r, SS_F_SERIAL_BEHIND));
	ss_zone_result_clear(&r);
}

static void test_unreachable_and_servfail(void **state)
{
	(void)state;
	ss_zone_result_t r;
	fx_zone(&r, "example.test.");
	fx_server(&r, "192.0.2.1", NULL, 10, false);
	fx_bad(&r, "192.0.2.2", SS_ANS_NONE, -1, SS_ETIMEOUT);
	fx_bad(&r, "192.0.2.3", SS_ANS_SERVFAIL, KNOT_RCODE_SERVFAIL, 0);
	assert_int_equal(ss_check_analyze(&r), 0);
	const ss_finding_t *u = fx_find(&r, SS_F_UNREACHABLE);
	assert_non_null(u);
	assert_int_equal(u->severity, SS_SEV_WARNING);
	assert_non_null(strstr(u->message, "timed out"));
	const ss_finding_t *sf = fx_find(&r, SS_F_SERVFAIL);
	assert_non_null(sf);
	assert_int_equal(sf->severity, SS_SEV_CRITICAL);
	ss_zone_result_clear(&r);

	/* Nobody answers: critical. */
	fx_zone(&r, "example.test.");
	fx_bad(&r, "192.0.2.2", SS_ANS_NONE, -1, SS_ECONNREFUSED);
	assert_int_equal(ss_check_analyze(&r), 0);
	assert_int_equal(fx_find(&r, SS_F_UNREACHABLE)->severity, SS_SEV_CRITICAL);
	assert_int_equal(r.status, SS_STATUS_CRITICAL);
	ss_zone_result_clear(&r);
}

static knot_dname_t **names(const char *a, const char *b, size_t *n)
{
	knot_dname_t **arr = calloc(2, sizeof(*arr));
	arr[0] = knot_dname_from_str_alloc(a);
	arr[1] = knot_dname_from_str_alloc(b);
	*n = 2;
	return arr;
}

static void test_ns_mismatch(void **state)
{
	(void)state;
	ss_zone_result_t r;
	fx_zone(&r, "example.test.");
	fx_server(&r, "192.0.2.1", NULL, 10, false);
	r.obs.have_ns_sets = true;
	r.obs.parent_ns = names("ns1.example.test.", "old.example.test.", &r.obs.nparent_ns);
	r.obs.child_ns = names("ns1.example.test.", "new.example.test.", &r.obs.nchild_ns);
	assert_int_equal(ss_check_analyze(&r), 0);
	const ss_finding_t *f = fx_find(&r, SS_F_NS_SET_MISMATCH);
	assert_non_null(f);
	assert_non_null(strstr(f->message, "only at the parent: old.example.test."));
	assert_non_null(strstr(f->message, "only in the zone: new.example.test."));
	assert_int_equal(r.status, SS_STATUS_WARNING);
	ss_zone_result_clear(&r);

	/* Same sets, other case and order: no finding. */
	fx_zone(&r, "example.test.");
	fx_server(&r, "192.0.2.1", NULL, 10, false);
	r.obs.have_ns_sets = true;
	r.obs.parent_ns = names("ns1.example.test.", "ns2.example.test.", &r.obs.nparent_ns);
	r.obs.child_ns = names("NS2.example.test.", "ns1.example.test.", &r.obs.nchild_ns);
	assert_int_equal(ss_check_analyze(&r), 0);
	assert_null(fx_find(&r, SS_F_NS_SET_MISMATCH));
	ss_zone_result_clear(&r);
}

static void test_primary_not_found(void **state)
{
	(void)state;
	ss_zone_result_t r;
	fx_zone(&r, "example.test.");
	fx_server(&r, "192.0.2.1", NULL, 10, false);
	r.obs.mname = strdup("hidden.example.test.");
	assert_int_equal(ss_check_analyze(&r), 0);
	const ss_finding_t *f = fx_find(&r, SS_F_PRIMARY_NOT_FOUND);
	assert_non_null(f);
	assert_int_equal(f->severity, SS_SEV_INFO);
	assert_int_equal(r.status, SS_STATUS_OK); /* info does not raise the status */
	ss_zone_result_clear(&r);

	fx_zone(&r, "example.test.");
	fx_server(&r, "192.0.2.1", NULL, 10, false);
	r.obs.primary_given = true;
	fx_bad(&r, "192.0.2.9", SS_ANS_NONE, -1, SS_ETIMEOUT)->is_primary = true;
	assert_int_equal(ss_check_analyze(&r), 0);
	assert_int_equal(fx_find(&r, SS_F_PRIMARY_NOT_FOUND)->severity, SS_SEV_WARNING);
	assert_non_null(fx_find(&r, SS_F_UNREACHABLE));
	ss_zone_result_clear(&r);
}

static void test_quiet_hidden_primary(void **state)
{
	(void)state;
	ss_zone_result_t r;
	fx_zone(&r, "example.test.");
	fx_server(&r, "192.0.2.1", NULL, 10, false);
	ss_addr_t a;
	ss_addr_parse(&a, "192.0.2.50", 53);
	ss_server_obs_t *p = ss_obs_add_server(&r.obs, &a, NULL, SS_ORIGIN_PRIMARY);
	p->is_primary = true;
	p->kind = SS_ANS_NONE;
	p->error = SS_ETIMEOUT;
	r.obs.mname = strdup("hidden.example.test.");
	assert_int_equal(ss_check_analyze(&r), 0);
	assert_null(fx_find(&r, SS_F_UNREACHABLE)); /* an MNAME-only primary is not a lame server */
	assert_non_null(fx_find(&r, SS_F_PRIMARY_NOT_FOUND));
	ss_zone_result_clear(&r);
}

static void test_soa_fields_differ(void **state)
{
	(void)state;
	ss_zone_result_t r;
	fx_zone(&r, "example.test.");
	fx_server(&r, "192.0.2.1", NULL, 10, true);
	ss_server_obs_t *s = fx_server(&r, "192.0.2.2", NULL, 10, false);
	s->soa.refresh = 7200;
	assert_int_equal(ss_check_analyze(&r), 0);
	const ss_finding_t *f = fx_find(&r, SS_F_SOA_FIELDS_DIFFER);
	assert_non_null(f);
	assert_non_null(strstr(f->message, "refresh 7200 (not 3600)"));
	assert_int_equal(f->nservers, 1);
	ss_zone_result_clear(&r);
}

static void test_zone_not_found_and_discovery(void **state)
{
	(void)state;
	ss_zone_result_t r;
	fx_zone(&r, "nope.test.");
	r.obs.not_found = true;
	r.obs.discovery_detail = strdup("nope.test. does not exist (NXDOMAIN)");
	assert_int_equal(ss_check_analyze(&r), 0);
	assert_non_null(fx_find(&r, SS_F_ZONE_NOT_FOUND));
	assert_int_equal(r.status, SS_STATUS_CRITICAL);
	ss_zone_result_clear(&r);

	fx_zone(&r, "x.test.");
	r.obs.discovery_error = SS_ETIMEOUT;
	assert_int_equal(ss_check_analyze(&r), 0);
	assert_non_null(fx_find(&r, SS_F_DISCOVERY_FAILED));
	assert_int_equal(r.status, SS_STATUS_UNKNOWN);
	ss_zone_result_clear(&r);
}

static void test_expiring_soon(void **state)
{
	(void)state;
	ss_zone_result_t r;
	fx_zone(&r, "example.test.");
	fx_server(&r, "192.0.2.1", NULL, 10, true);
	fx_server(&r, "192.0.2.2", NULL, 10, false);
	ss_server_obs_t *p = &r.obs.servers[0], *s = &r.obs.servers[1];
	p->has_expire = true;
	p->expire_s = 600; /* a primary reports its SOA EXPIRE: never a finding */
	s->has_expire = true;
	s->expire_s = 7200;
	assert_int_equal(ss_check_analyze(&r), 0);
	const ss_finding_t *f = fx_find(&r, SS_F_EXPIRING_SOON);
	assert_non_null(f);
	assert_int_equal(f->severity, SS_SEV_WARNING);
	assert_int_equal(f->nservers, 1);
	s->expire_s = 1800;
	assert_int_equal(ss_check_analyze(&r), 0); /* re-analysis replaces the findings */
	assert_int_equal(r.nfindings, 1);
	assert_int_equal(fx_find(&r, SS_F_EXPIRING_SOON)->severity, SS_SEV_CRITICAL);
	r.obs.expire_warn_s = UINT32_MAX;
	assert_int_equal(ss_check_analyze(&r), 0);
	assert_null(fx_find(&r, SS_F_EXPIRING_SOON));
	ss_zone_result_clear(&r);
}

static void test_transfers(void **state)
{
	(void)state;
	ss_zone_result_t r;
	fx_zone(&r, "example.test.");
	fx_server(&r, "192.0.2.1", NULL, 10, true);
	fx_server(&r, "192.0.2.2", NULL, 10, false);
	fx_server(&r, "192.0.2.3", NULL, 10, false);
	/* Pointers only after the last add: adding may move the array. */
	ss_server_obs_t *a = &r.obs.servers[0], *b = &r.obs.servers[1], *c = &r.obs.servers[2];
	a->vendor = SS_VENDOR_BIND;
	a->axfr = SS_XFR_ALLOWED;
	b->axfr = SS_XFR_REFUSED;
	b->xfr_error = strdup("AXFR: REFUSED");
	c->axfr = SS_XFR_FAILED;
	r.obs.xfr_check = true;
	assert_int_equal(ss_check_analyze(&r), 0);
	const ss_finding_t *open = fx_find(&r, SS_F_TRANSFER_OPEN);
	assert_non_null(open);
	assert_int_equal(open->nservers, 1);
	assert_non_null(strstr(open->fix, "allow-transfer"));
	const ss_finding_t *ref = fx_find(&r, SS_F_TRANSFER_REFUSED);
	assert_non_null(ref);
	assert_int_equal(ref->severity, SS_SEV_INFO); /* no key given: refusing is normal */
	assert_non_null(fx_find(&r, SS_F_TRANSFER_FAILED));
	/* With a key, what matters is the signed transfer. */
	r.obs.have_tsig = true;
	a->axfr_tsig = b->axfr_tsig = c->axfr_tsig = SS_XFR_ALLOWED;
	b->axfr_tsig = SS_XFR_REFUSED;
	assert_int_equal(ss_check_analyze(&r), 0);
	ref = fx_find(&r, SS_F_TRANSFER_REFUSED);
	assert_non_null(ref);
	assert_int_equal(ref->severity, SS_SEV_WARNING);
	assert_null(fx_find(&r, SS_F_TRANSFER_FAILED));
	ss_zone_result_clear(&r);
}

static void test_serial_sanity(void **state)
{
	(void)state;
	ss_zone_result_t r;
	fx_zone(&r, "example.test.");
	fx_server(&r, "192.0.2.1", NULL, 2026133101u, true); /* month 13 */
	fx_server(&r, "192.0.2.2", NULL, 2026133101u, false);
	r.obs.now = 1795622400; /* 2026-11-25 */
	assert_int_equal(ss_check_analyze(&r), 0);
	const ss_finding_t *f = fx_find(&r, SS_F_SERIAL_SANITY);
	assert_non_null(f);
	assert_int_equal(f->nservers, 2);
	assert_int_equal(f->severity, SS_SEV_WARNING);
	ss_zone_result_clear(&r);

	fx_zone(&r, "example.test.");
	fx_server(&r, "192.0.2.1", NULL, 2026112501u, true);
	r.obs.now = 1795622400;
	assert_int_equal(ss_check_analyze(&r), 0);
	assert_null(fx_find(&r, SS_F_SERIAL_SANITY));
	ss_zone_result_clear(&r);
}

/* One verdict per server, set by the analysis; the hidden primary does not count. */
static void test_verdicts(void **state)
{
	(void)state;
	ss_zone_result_t r;
	fx_zone(&r, "example.test.");
	fx_server(&r, "192.0.2.1", "ns1.example.test.", 10, true);
	fx_server(&r, "192.0.2.2", NULL, 9, false);
	fx_server(&r, "192.0.2.3", NULL, 10, false);
	fx_server(&r, "192.0.2.4", NULL, 11, false);
	fx_server(&r, "192.0.2.5", NULL, 10u + 0x80000000u, false);
	fx_bad(&r, "192.0.2.6", SS_ANS_SERVFAIL, KNOT_RCODE_SERVFAIL, 0);
	fx_bad(&r, "192.0.2.7", SS_ANS_NOT_AUTH, KNOT_RCODE_REFUSED, 0);
	fx_bad(&r, "192.0.2.8", SS_ANS_NO_SOA, 0, 0);
	fx_bad(&r, "192.0.2.9", SS_ANS_NONE, -1, SS_ETIMEOUT);
	ss_addr_t a;
	ss_addr_parse(&a, "192.0.2.10", 53);
	ss_server_obs_t *h = ss_obs_add_server(&r.obs, &a, NULL, SS_ORIGIN_PRIMARY);
	h->kind = SS_ANS_NONE;
	h->error = SS_ETIMEOUT;
	assert_int_equal(ss_check_analyze(&r), 0);
	static const ss_verdict_t want[] = {
	    SS_VERDICT_AT_REFERENCE,   SS_VERDICT_BEHIND,    SS_VERDICT_AT_REFERENCE,
	    SS_VERDICT_AHEAD,          SS_VERDICT_UNDEFINED, SS_VERDICT_SERVFAIL,
	    SS_VERDICT_NOT_AUTH,       SS_VERDICT_NO_SOA,    SS_VERDICT_UNREACHABLE,
	    SS_VERDICT_HIDDEN_PRIMARY,
	};
	assert_int_equal(r.obs.nservers, 10);
	for (size_t i = 0; i < r.obs.nservers; i++) {
		assert_string_equal(ss_verdict_name(r.obs.servers[i].verdict),
		                    ss_verdict_name(want[i]));
	}
	assert_true(ss_verdict_current(r.obs.servers[0].verdict));
	assert_false(ss_verdict_counts(r.obs.servers[9].verdict));
	ss_zone_result_clear(&r);

	/* Without a primary the highest serial is the reference: nothing is ahead. */
	fx_zone(&r, "example.test.");
	fx_server(&r, "192.0.2.1", NULL, 3, false);
	fx_server(&r, "192.0.2.2", NULL, 4, false);
	assert_int_equal(ss_check_analyze(&r), 0);
	assert_int_equal(r.obs.servers[0].verdict, SS_VERDICT_BEHIND);
	assert_int_equal(r.obs.servers[1].verdict, SS_VERDICT_AT_REFERENCE);
	ss_zone_result_clear(&r);
}

/* The one list of finding codes: every code has a name that parses back. */
static void test_fcodes(void **state)
{
	(void)state;
	for (unsigned i = 0; i < SS_F_COUNT; i++) {
		assert_int_equal(ss_fcode_parse(ss_fcode_name((ss_fcode_t)i)), i);
		assert_true(strlen(ss_fcode_meaning((ss_fcode_t)i)) > 10);
	}
	assert_string_equal(ss_fcode_name(SS_F_SERIAL_BEHIND), "serial-behind");
	assert_int_equal(ss_fcode_parse("no-such-code"), SS_F_COUNT);
	assert_string_equal(ss_fcode_name(SS_F_COUNT), "unknown");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_verdicts),
	    cmocka_unit_test(test_fcodes),
	    cmocka_unit_test(test_in_sync),
	    cmocka_unit_test(test_serial_behind),
	    cmocka_unit_test(test_serial_behind_wrap),
	    cmocka_unit_test(test_primary_behind),
	    cmocka_unit_test(test_undefined),
	    cmocka_unit_test(test_not_authoritative_never_counts),
	    cmocka_unit_test(test_unreachable_and_servfail),
	    cmocka_unit_test(test_ns_mismatch),
	    cmocka_unit_test(test_primary_not_found),
	    cmocka_unit_test(test_quiet_hidden_primary),
	    cmocka_unit_test(test_soa_fields_differ),
	    cmocka_unit_test(test_zone_not_found_and_discovery),
	    cmocka_unit_test(test_expiring_soon),
	    cmocka_unit_test(test_transfers),
	    cmocka_unit_test(test_serial_sanity),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
