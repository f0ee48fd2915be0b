/*
 * Vendor knowledge: the classification of CHAOS version strings as the
 * servers answer them, and the exact commands of the fix texts (each one
 * run against the real server by the system tests).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>

#include <cmocka.h>

#include <soasync/vendor.h>

static void test_classify(void **state)
{
	(void)state;
	assert_int_equal(ss_vendor_classify("9.18.28-1~deb12u2-Debian"), SS_VENDOR_BIND);
	assert_int_equal(ss_vendor_classify("NSD 4.6.1"), SS_VENDOR_NSD);
	assert_int_equal(ss_vendor_classify("Knot DNS 3.2.6"), SS_VENDOR_KNOT);
	/* PowerDNS 4.7 with version-string full (the default) and powerdns */
	assert_int_equal(ss_vendor_classify("PowerDNS Authoritative Server 4.7.3"),
	                 SS_VENDOR_POWERDNS);
	assert_int_equal(ss_vendor_classify("Served by PowerDNS - https://www.powerdns.com/"),
	                 SS_VENDOR_POWERDNS);
	assert_int_equal(ss_vendor_classify("PowerDNS Recursor 4.8.4"), SS_VENDOR_OTHER);
	assert_int_equal(ss_vendor_classify("unbound 1.17.1"), SS_VENDOR_UNBOUND);
	assert_int_equal(ss_vendor_classify("none of your business"), SS_VENDOR_OTHER);
	assert_int_equal(ss_vendor_classify(""), SS_VENDOR_UNKNOWN);
	assert_int_equal(ss_vendor_classify(NULL), SS_VENDOR_UNKNOWN);
	assert_string_equal(ss_vendor_name(SS_VENDOR_POWERDNS), "powerdns");
	assert_null(ss_vendor_name(SS_VENDOR_UNKNOWN));
}

static void test_retransfer(void **state)
{
	(void)state;
	char buf[256];
	ss_addr_t a;
	assert_int_equal(ss_addr_parse(&a, "192.0.2.1#5300", 53), 0);
	assert_string_equal(ss_fix_retransfer(SS_VENDOR_BIND, buf, sizeof(buf), "ex.test.", &a),
	                    "rndc retransfer ex.test");
	assert_string_equal(ss_fix_retransfer(SS_VENDOR_NSD, buf, sizeof(buf), "ex.test.", &a),
	                    "nsd-control force_transfer ex.test");
	assert_string_equal(ss_fix_retransfer(SS_VENDOR_KNOT, buf, sizeof(buf), "ex.test.", &a),
	                    "knotc zone-retransfer ex.test");
	assert_string_equal(ss_fix_retransfer(SS_VENDOR_UNKNOWN, buf, sizeof(buf), "ex.test.", &a),
	                    "soasync notify ex.test --to 192.0.2.1#5300");
	assert_string_equal(ss_fix_retransfer(SS_VENDOR_POWERDNS, buf, sizeof(buf), "ex.test.", &a),
	                    "pdns_control retrieve ex.test");
	/* truncated, never overrun */
	char small[8];
	assert_string_equal(
	    ss_fix_retransfer(SS_VENDOR_POWERDNS, small, sizeof(small), "ex.test.", &a), "pdns_co");
}

static void test_reload(void **state)
{
	(void)state;
	char buf[512];
	assert_string_equal(ss_fix_reload(SS_VENDOR_BIND, buf, sizeof(buf), "ex.test."),
	                    "rndc reload ex.test");
	assert_string_equal(ss_fix_reload(SS_VENDOR_NSD, buf, sizeof(buf), "ex.test."),
	                    "nsd-control reload ex.test");
	assert_string_equal(ss_fix_reload(SS_VENDOR_KNOT, buf, sizeof(buf), "ex.test."),
	                    "knotc zone-reload ex.test");
	ss_fix_reload(SS_VENDOR_POWERDNS, buf, sizeof(buf), "ex.test.");
	assert_non_null(strstr(buf, "pdns_control bind-reload-now ex.test, then pdns_control "
	                            "notify ex.test"));
	assert_non_null(strstr(buf, "pdnsutil increase-serial ex.test"));
	ss_fix_reload(SS_VENDOR_UNKNOWN, buf, sizeof(buf), ".");
	assert_non_null(strstr(buf, "rndc reload ."));
	assert_non_null(strstr(buf, "pdns_control bind-reload-now ."));
}

static void test_acl_texts(void **state)
{
	(void)state;
	/* a PowerDNS secondary that refused our NOTIFY: both ways out */
	const char *n = ss_fix_allow_notify(SS_VENDOR_POWERDNS);
	assert_non_null(strstr(n, "pdns_control retrieve ZONE"));
	assert_non_null(strstr(n, "trusted-notification-proxy"));
	assert_non_null(strstr(ss_fix_transfer_acl(SS_VENDOR_POWERDNS), "ALLOW-AXFR-FROM"));
	assert_non_null(strstr(ss_fix_transfer_acl(SS_VENDOR_POWERDNS), "allow-axfr-ips"));
	assert_non_null(strstr(ss_fix_transfer_source(SS_VENDOR_POWERDNS), "masters"));
	assert_non_null(
	    strstr(ss_fix_transfer_source(SS_VENDOR_POWERDNS), "change-secondary-zone-primary"));
	for (int v = SS_VENDOR_UNKNOWN; v <= SS_VENDOR_OTHER; v++) {
		assert_non_null(ss_fix_allow_notify((ss_vendor_t)v));
		assert_non_null(ss_fix_transfer_acl((ss_vendor_t)v));
		assert_non_null(ss_fix_transfer_source((ss_vendor_t)v));
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_classify),
	    cmocka_unit_test(test_retransfer),
	    cmocka_unit_test(test_reload),
	    cmocka_unit_test(test_acl_texts),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
