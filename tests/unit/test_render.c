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

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_json_shape),
	    cmocka_unit_test(test_json_line),
	    cmocka_unit_test(test_nagios),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
