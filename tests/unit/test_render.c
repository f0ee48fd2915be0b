#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "obs_fixture.h"
#include "render.h"

static void test_json_shape(void **state)
{
	(void)state;
	ss_zone_result_t r;
	fx_zone(&r, "example.test.");
	ss_server_obs_t *p = fx_server(&r, "192.0.2.1", "ns1.example.test.", 7, true);
	p->nsid = strdup("ns1-site-a");
	p->vendor = SS_VENDOR_BIND;
	p->rtt_us = 1500;
	fx_server(&r, "192.0.2.2#5300", "ns2.example.test.", 5, false);
	fx_bad(&r, "2001:db8::1", SS_ANS_NONE, -1, SS_ETIMEOUT);
	assert_int_equal(ss_check_analyze(&r), 0);

	json_t *o = render_check_json_obj(&r);
	assert_non_null(o);
	assert_string_equal(json_string_value(json_object_get(o, "zone")), "example.test.");
	assert_string_equal(json_string_value(json_object_get(o, "status")), "critical");
	assert_string_equal(json_string_value(json_object_get(o, "primary")), "192.0.2.1");
	assert_int_equal(json_integer_value(json_object_get(o, "reference_serial")), 7);
	json_t *servers = json_object_get(o, "servers");
	assert_int_equal(json_array_size(servers), 3);
	json_t *s0 = json_array_get(servers, 0);
	const char *keys[] = {"name",   "address", "port", "rcode",  "aa",
	                      "serial", "rtt_ms",  "nsid", "vendor", "error"};
	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
		assert_non_null(json_object_get(s0, keys[i]));
	}
	assert_string_equal(json_string_value(json_object_get(s0, "nsid")), "ns1-site-a");
	assert_string_equal(json_string_value(json_object_get(s0, "vendor")), "bind");
	assert_string_equal(json_string_value(json_object_get(s0, "rcode")), "NOERROR");
	assert_true(json_is_true(json_object_get(s0, "aa")));
	assert_true(json_real_value(json_object_get(s0, "rtt_ms")) > 1.49);
	json_t *s1 = json_array_get(servers, 1);
	assert_int_equal(json_integer_value(json_object_get(s1, "port")), 5300);
	json_t *s2 = json_array_get(servers, 2);
	assert_true(json_is_null(json_object_get(s2, "serial")));
	assert_true(json_is_null(json_object_get(s2, "rcode")));
	assert_string_equal(json_string_value(json_object_get(s2, "error")), "timed out");

	json_t *findings = json_object_get(o, "findings");
	assert_true(json_array_size(findings) >= 2);
	bool saw_behind = false;
	for (size_t i = 0; i < json_array_size(findings); i++) {
		json_t *f = json_array_get(findings, i);
		const char *code = json_string_value(json_object_get(f, "code"));
		assert_non_null(json_object_get(f, "severity"));
		assert_non_null(json_object_get(f, "message"));
		assert_non_null(json_object_get(f, "fix"));
		if (strcmp(code, "serial-behind") == 0) {
			saw_behind = true;
			json_t *sv = json_object_get(f, "servers");
			assert_string_equal(json_string_value(json_array_get(sv, 0)),
			                    "192.0.2.2#5300");
		}
	}
	assert_true(saw_behind);
	json_decref(o);
	ss_zone_result_clear(&r);
}

static void test_json_line(void **state)
{
	(void)state;
	ss_zone_result_t r;
	fx_zone(&r, "example.test.");
	fx_server(&r, "192.0.2.1", NULL, 7, false);
	assert_int_equal(ss_check_analyze(&r), 0);
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	assert_int_equal(render_check_json(f, &r), 0);
	fclose(f);
	assert_non_null(strchr(buf, '\n'));
	assert_ptr_equal(strchr(buf, '\n'), buf + len - 1); /* exactly one line */
	json_error_t err;
	json_t *o = json_loads(buf, 0, &err);
	assert_non_null(o);
	assert_true(json_is_null(json_object_get(o, "primary")));
	json_decref(o);
	free(buf);
	ss_zone_result_clear(&r);
}

static void test_nagios(void **state)
{
	(void)state;
	ss_zone_result_t r;
	nagios_t n;
	memset(&n, 0, sizeof(n));
	fx_zone(&r, "a.test.");
	fx_server(&r, "192.0.2.1", NULL, 7, true);
	fx_server(&r, "192.0.2.2", NULL, 6, false);
	ss_check_analyze(&r);
	render_nagios_add(&n, &r);
	ss_zone_result_clear(&r);
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	assert_int_equal(render_nagios_print(f, &n), 2);
	fclose(f);
	assert_memory_equal(buf, "SOA CRITICAL - ", 15);
	assert_non_null(strstr(buf, "a.test. serial-behind"));
	assert_non_null(strstr(buf, " | zones=1 ok=0 warning=0 critical=1"));
	free(buf);
	render_nagios_free(&n);
}

/* The table of one zone into a string (caller frees). */
static char *table_of(const ss_zone_result_t *r)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	render_check_table(f, r, false);
	fclose(f);
	char *out = strdup(buf);
	free(buf);
	return out;
}

/* The renderer shows what the model decided: which server is the primary
 * and why, each server's verdict, a refused connection apart from REFUSED. */
static void test_primary_and_verdicts(void **state)
{
	(void)state;
	ss_zone_result_t r;
	fx_mname_secondary(&r);
	fx_bad(&r, "192.0.2.3", SS_ANS_NONE, -1, SS_ECONNREFUSED);
	fx_bad(&r, "192.0.2.4", SS_ANS_NOT_AUTH, KNOT_RCODE_REFUSED, 0);
	assert_int_equal(ss_check_analyze(&r), 0);

	char *t = table_of(&r);
	assert_non_null(strstr(t, "reference serial 7 (192.0.2.1)  primary: answers EDNS EXPIRE as "
	                          "a primary (the SOA MNAME ns2.example.test. is a secondary)\n"));
	assert_non_null(strstr(t, "  ns1.example.test. (primary)  192.0.2.1"));
	assert_null(strstr(t, "ns2.example.test. (primary)"));
	const char *row3 = strstr(t, "192.0.2.3");
	const char *row4 = strstr(t, "192.0.2.4");
	assert_non_null(row3);
	assert_non_null(row4);
	assert_non_null(strstr(row3, "conn-refused"));
	assert_true(strstr(row3, "conn-refused") < row4);
	assert_non_null(strstr(row4, "REFUSED"));
	assert_non_null(strstr(t, "mname-not-primary: "));
	free(t);

	json_t *o = render_check_json_obj(&r);
	assert_string_equal(json_string_value(json_object_get(o, "primary")), "192.0.2.1");
	assert_string_equal(json_string_value(json_object_get(o, "primary_why")), "expire");
	json_t *sv = json_object_get(o, "servers");
	static const char *verdicts[] = {"at-reference", "behind", "unreachable",
	                                 "not-authoritative"};
	for (size_t i = 0; i < 4; i++) {
		json_t *s = json_array_get(sv, i);
		assert_string_equal(json_string_value(json_object_get(s, "verdict")), verdicts[i]);
		assert_true(json_is_boolean(json_object_get(s, "primary")));
		assert_true(json_is_true(json_object_get(s, "primary")) == (i == 0));
	}
	json_t *s3 = json_array_get(sv, 2), *s4 = json_array_get(sv, 3);
	assert_true(json_is_null(json_object_get(s3, "rcode")));
	assert_string_equal(json_string_value(json_object_get(s3, "error")), "connection refused");
	assert_string_equal(json_string_value(json_object_get(s4, "rcode")), "REFUSED");
	json_decref(o);
	ss_zone_result_clear(&r);

	/* The MNAME server as the primary; no primary at all. */
	fx_zone(&r, "example.test.");
	r.obs.mname = strdup("ns1.example.test.");
	fx_server(&r, "192.0.2.1", "ns1.example.test.", 7, true);
	assert_int_equal(ss_check_analyze(&r), 0);
	t = table_of(&r);
	assert_non_null(strstr(
	    t, "reference serial 7 (192.0.2.1)  primary: the SOA MNAME ns1.example.test.\n"));
	free(t);
	o = render_check_json_obj(&r);
	assert_string_equal(json_string_value(json_object_get(o, "primary_why")), "mname");
	json_decref(o);
	ss_zone_result_clear(&r);

	fx_zone(&r, "example.test.");
	fx_server(&r, "192.0.2.1", NULL, 7, false);
	assert_int_equal(ss_check_analyze(&r), 0);
	t = table_of(&r);
	assert_non_null(strstr(t, "reference serial 7 (highest, no primary)\n"));
	free(t);
	o = render_check_json_obj(&r);
	assert_true(json_is_null(json_object_get(o, "primary_why")));
	json_decref(o);
	ss_zone_result_clear(&r);
}

/* The ZONEMD verdict per transferred copy and for the zone file. */
static void test_zonemd_json(void **state)
{
	(void)state;
	ss_zone_result_t r;
	fx_zone(&r, "example.test.");
	ss_server_obs_t *s = fx_server(&r, "192.0.2.1", NULL, 7, true);
	s->content = SS_CONTENT_DIGEST;
	s->axfr = SS_XFR_ALLOWED;
	s->zonemd = SS_ZONEMD_UNSUPPORTED;
	s->zonemd_list.n = 2;
	s->zonemd_list.rr[0].scheme = 1;
	s->zonemd_list.rr[0].algorithm = 241;
	s->zonemd_list.rr[1].scheme = 240;
	s->zonemd_list.rr[1].algorithm = 1;
	r.obs.zonefile = strdup("example.zone");
	r.obs.zonefile_zonemd = SS_ZONEMD_VALID;
	r.obs.zonefile_zonemd_detail = strdup("ZONEMD (scheme 1, hash 1) matches");
	r.obs.zonefile_zonemd_list.n = 1;
	r.obs.zonefile_zonemd_list.rr[0].scheme = 1;
	r.obs.zonefile_zonemd_list.rr[0].algorithm = 1;
	assert_int_equal(ss_check_analyze(&r), 0);
	json_t *o = render_check_json_obj(&r);
	json_t *z = json_object_get(json_array_get(json_object_get(o, "servers"), 0), "zonemd");
	assert_string_equal(json_string_value(json_object_get(z, "status")), "unsupported");
	assert_int_equal(json_integer_value(json_object_get(z, "count")), 2);
	json_t *rr = json_object_get(z, "records");
	assert_int_equal(json_array_size(rr), 2);
	assert_int_equal(json_integer_value(json_object_get(json_array_get(rr, 0), "algorithm")),
	                 241);
	assert_int_equal(json_integer_value(json_object_get(json_array_get(rr, 1), "scheme")), 240);
	z = json_object_get(json_object_get(o, "zonefile"), "zonemd");
	assert_string_equal(json_string_value(json_object_get(z, "status")), "valid");
	assert_string_equal(json_string_value(json_object_get(z, "detail")),
	                    "ZONEMD (scheme 1, hash 1) matches");
	json_decref(o);
	ss_zone_result_clear(&r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_json_shape),  cmocka_unit_test(test_json_line),
	    cmocka_unit_test(test_nagios),      cmocka_unit_test(test_primary_and_verdicts),
	    cmocka_unit_test(test_zonemd_json),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
