#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

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
	fx_bad(&r, "192.0.2.11", SS_ANS_NONE, -1, SS_EMFILE);
	assert_int_equal(ss_check_analyze(&r), 0);
	static const ss_verdict_t want[] = {
	    SS_VERDICT_AT_REFERENCE,   SS_VERDICT_BEHIND,      SS_VERDICT_AT_REFERENCE,
	    SS_VERDICT_AHEAD,          SS_VERDICT_UNDEFINED,   SS_VERDICT_SERVFAIL,
	    SS_VERDICT_NOT_AUTH,       SS_VERDICT_NO_SOA,      SS_VERDICT_UNREACHABLE,
	    SS_VERDICT_HIDDEN_PRIMARY, SS_VERDICT_LOCAL_ERROR,
	};
	assert_int_equal(r.obs.nservers, 11);
	for (size_t i = 0; i < r.obs.nservers; i++) {
		assert_string_equal(ss_verdict_name(r.obs.servers[i].verdict),
		                    ss_verdict_name(want[i]));
	}
	assert_true(ss_verdict_current(r.obs.servers[0].verdict));
	assert_false(ss_verdict_counts(r.obs.servers[9].verdict));
	/* Out of sockets here is not the server's fault: a finding of its own. */
	assert_non_null(fx_find(&r, SS_F_LOCAL_ERROR));
	assert_int_equal(fx_find(&r, SS_F_UNREACHABLE)->nservers, 1);
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

/* The MNAME names a secondary holding old data: the server answering EXPIRE
 * as a primary is the reference, the MNAME server is the laggard. */
static void test_mname_secondary(void **state)
{
	(void)state;
	ss_zone_result_t r;
	fx_mname_secondary(&r);
	fx_server(&r, "192.0.2.3", "ns3.example.test.", 7, false); /* no EXPIRE (NSD) */
	assert_int_equal(ss_check_analyze(&r), 0);
	assert_true(r.has_primary);
	assert_int_equal(r.primary_why, SS_PRIMARY_EXPIRE);
	assert_string_equal(ss_primary_why_name(r.primary_why), "expire");
	assert_int_equal(r.reference_serial, 7);
	char a[SS_ADDR_STRLEN];
	assert_string_equal(ss_addr_format(&r.primary, a, sizeof(a)), "192.0.2.1");
	assert_true(r.obs.servers[0].primary_role);
	assert_false(r.obs.servers[1].primary_role);
	assert_int_equal(r.obs.servers[1].verdict, SS_VERDICT_BEHIND);
	assert_int_equal(r.obs.servers[2].verdict, SS_VERDICT_AT_REFERENCE);
	assert_int_equal(ss_zone_reference_server(&r), 0);
	const ss_finding_t *f = fx_find(&r, SS_F_SERIAL_BEHIND);
	assert_non_null(f);
	assert_int_equal(f->nservers, 1);
	assert_string_equal(ss_addr_format(&f->servers[0], a, sizeof(a)), "192.0.2.2");
	assert_null(fx_find(&r, SS_F_PRIMARY_BEHIND));
	f = fx_find(&r, SS_F_MNAME_NOT_PRIMARY);
	assert_non_null(f);
	assert_int_equal(f->severity, SS_SEV_WARNING);
	assert_int_equal(f->nservers, 1);
	assert_string_equal(ss_addr_format(&f->servers[0], a, sizeof(a)), "192.0.2.2");
	assert_non_null(strstr(f->message, "ns2.example.test."));
	assert_non_null(strstr(f->message, "86384 s left"));
	assert_non_null(strstr(f->message, "192.0.2.1 answers EXPIRE"));
	ss_zone_result_clear(&r);

	/* Nobody answers as a primary: no primary, the highest serial. */
	fx_zone(&r, "example.test.");
	r.obs.mname = strdup("ns2.example.test.");
	fx_server(&r, "192.0.2.1", "ns1.example.test.", 7, false);
	fx_server(&r, "192.0.2.2", "ns2.example.test.", 5, true);
	fx_expire(&r.obs.servers[1], 1000);
	assert_int_equal(ss_check_analyze(&r), 0);
	assert_false(r.has_primary);
	assert_int_equal(r.primary_why, SS_PRIMARY_NONE);
	assert_int_equal(r.reference_serial, 7);
	assert_false(r.obs.servers[1].primary_role);
	f = fx_find(&r, SS_F_MNAME_NOT_PRIMARY);
	assert_non_null(f);
	assert_int_equal(f->severity, SS_SEV_INFO); /* a hidden primary behind it, likely */
	assert_non_null(strstr(f->message, "no server answers EXPIRE as a primary"));
	assert_null(fx_find(&r, SS_F_PRIMARY_NOT_FOUND));
	/* Now a secondary: its copy expiring soon is a finding again. */
	assert_non_null(fx_find(&r, SS_F_EXPIRING_SOON));
	ss_zone_result_clear(&r);
}

/* No proof, no change: the MNAME server stays the primary. */
static void test_mname_kept(void **state)
{
	(void)state;
	ss_zone_result_t r;
	/* The MNAME answers as a primary; a secondary that refreshed within the
	 * second looks alike and changes nothing. */
	fx_zone(&r, "example.test.");
	r.obs.mname = strdup("ns1.example.test.");
	fx_server(&r, "192.0.2.1", "ns1.example.test.", 5, true);
	fx_server(&r, "192.0.2.2", "ns2.example.test.", 7, false);
	fx_expire(&r.obs.servers[0], 86400);
	fx_expire(&r.obs.servers[1], 86400);
	assert_int_equal(ss_check_analyze(&r), 0);
	assert_int_equal(r.primary_why, SS_PRIMARY_MNAME);
	assert_int_equal(r.reference_serial, 5);
	assert_true(r.obs.servers[0].primary_role);
	assert_null(fx_find(&r, SS_F_MNAME_NOT_PRIMARY));
	assert_non_null(fx_find(&r, SS_F_PRIMARY_BEHIND));
	ss_zone_result_clear(&r);

	/* Two addresses of the MNAME, one answering as a primary: kept. */
	fx_zone(&r, "example.test.");
	r.obs.mname = strdup("ns1.example.test.");
	fx_server(&r, "192.0.2.1", "ns1.example.test.", 5, true);
	fx_server(&r, "192.0.2.9", "ns1.example.test.", 5, true);
	fx_server(&r, "192.0.2.2", "ns2.example.test.", 5, false);
	fx_expire(&r.obs.servers[0], 100);
	fx_expire(&r.obs.servers[1], 86400);
	fx_expire(&r.obs.servers[2], 86400);
	assert_int_equal(ss_check_analyze(&r), 0);
	assert_int_equal(r.primary_why, SS_PRIMARY_MNAME);
	assert_true(r.obs.servers[0].primary_role && r.obs.servers[1].primary_role);
	assert_false(r.obs.servers[2].primary_role);
	assert_null(fx_find(&r, SS_F_MNAME_NOT_PRIMARY));
	ss_zone_result_clear(&r);

	/* --primary is taken at its word, counting down or not. */
	fx_zone(&r, "example.test.");
	r.obs.primary_given = true;
	fx_server(&r, "192.0.2.1", NULL, 5, true);
	fx_server(&r, "192.0.2.2", NULL, 7, false);
	fx_expire(&r.obs.servers[0], 100);
	fx_expire(&r.obs.servers[1], 86400);
	assert_int_equal(ss_check_analyze(&r), 0);
	assert_int_equal(r.primary_why, SS_PRIMARY_GIVEN);
	assert_int_equal(r.reference_serial, 5);
	assert_null(fx_find(&r, SS_F_MNAME_NOT_PRIMARY));
	ss_zone_result_clear(&r);

	/* Several answer as a primary: the highest serial; the other addresses
	 * of that name answering alike are the primary too. */
	fx_zone(&r, "example.test.");
	r.obs.mname = strdup("old.example.test.");
	fx_server(&r, "192.0.2.1", "a.example.test.", 6, false);
	fx_server(&r, "192.0.2.2", "b.example.test.", 8, false);
	fx_server(&r, "192.0.2.3", "old.example.test.", 4, true);
	fx_server(&r, "192.0.2.4", "b.example.test.", 8, false);
	fx_expire(&r.obs.servers[0], 86400);
	fx_expire(&r.obs.servers[1], 86400);
	fx_expire(&r.obs.servers[2], 5);
	fx_expire(&r.obs.servers[3], 86400);
	assert_int_equal(ss_check_analyze(&r), 0);
	assert_int_equal(r.primary_why, SS_PRIMARY_EXPIRE);
	assert_int_equal(r.reference_serial, 8);
	assert_false(r.obs.servers[0].primary_role);
	assert_true(r.obs.servers[1].primary_role && r.obs.servers[3].primary_role);
	assert_int_equal(ss_zone_reference_server(&r), 1);
	ss_zone_result_clear(&r);
}

/* Hundreds of silent addresses: every one in the finding's list, the
 * message names some and says how many more. */
static void test_many_servers_named(void **state)
{
	(void)state;
	ss_zone_result_t r;
	fx_zone(&r, "example.test.");
	fx_server(&r, "10.0.0.1", NULL, 5, false);
	for (unsigned i = 0; i < 482; i++) {
		char a[32];
		snprintf(a, sizeof(a), "10.1.%u.%u", i / 256, i % 256);
		fx_bad(&r, a, SS_ANS_NONE, -1, SS_ETIMEOUT);
	}
	for (unsigned i = 0; i < 300; i++) {
		char a[32];
		snprintf(a, sizeof(a), "10.2.%u.%u", i / 256, i % 256);
		fx_server(&r, a, NULL, 4, false);
	}
	assert_int_equal(ss_check_analyze(&r), 0);
	const ss_finding_t *f = fx_find(&r, SS_F_UNREACHABLE);
	assert_non_null(f);
	assert_int_equal(f->nservers, 482);
	char a[SS_ADDR_STRLEN];
	assert_string_equal(ss_addr_format(&f->servers[481], a, sizeof(a)), "10.1.1.225");
	assert_non_null(strstr(f->message, "; and 462 more"));
	assert_null(strstr(f->message, "10.1.0.20:")); /* the 21st is not named */
	f = fx_find(&r, SS_F_SERIAL_BEHIND);
	assert_int_equal(f->nservers, 300);
	assert_non_null(strstr(f->message, "300 servers are behind"));
	assert_non_null(strstr(f->message, ", and 280 more"));
	assert_non_null(strstr(f->fix, "; likewise on the others: and 280 more"));
	ss_zone_result_clear(&r);
}

/* RFC 8976 4: a ZONEMD none can verify is reported, not passed over. */
static void test_zonemd_unsupported(void **state)
{
	(void)state;
	ss_zone_result_t r;
	fx_zone(&r, "example.test.");
	fx_server(&r, "192.0.2.1", NULL, 5, true);
	fx_server(&r, "192.0.2.2", NULL, 5, false);
	r.obs.servers[0].content = r.obs.servers[1].content = SS_CONTENT_DIGEST;
	r.obs.servers[0].zonemd = SS_ZONEMD_UNSUPPORTED;
	r.obs.servers[0].zonemd_detail = strdup("no ZONEMD with a supported scheme and hash");
	r.obs.servers[1].zonemd = SS_ZONEMD_VALID;
	assert_int_equal(ss_check_analyze(&r), 0);
	const ss_finding_t *f = fx_find(&r, SS_F_ZONEMD_UNSUPPORTED);
	assert_non_null(f);
	assert_int_equal(f->severity, SS_SEV_WARNING);
	assert_int_equal(f->nservers, 1);
	assert_null(fx_find(&r, SS_F_ZONEMD_INVALID));
	assert_int_equal(r.status, SS_STATUS_WARNING);
	/* The zone file alone. */
	r.obs.servers[0].zonemd = SS_ZONEMD_VALID;
	r.obs.zonefile = strdup("example.zone");
	r.obs.zonefile_zonemd = SS_ZONEMD_UNSUPPORTED;
	r.obs.has_zonefile_serial = true;
	r.obs.zonefile_serial = 5;
	assert_int_equal(ss_check_analyze(&r), 0);
	f = fx_find(&r, SS_F_ZONEMD_UNSUPPORTED);
	assert_non_null(f);
	assert_int_equal(f->nservers, 0);
	assert_non_null(strstr(f->message, "in the zone file example.zone"));
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
	    cmocka_unit_test(test_mname_secondary),
	    cmocka_unit_test(test_mname_kept),
	    cmocka_unit_test(test_many_servers_named),
	    cmocka_unit_test(test_zonemd_unsupported),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
