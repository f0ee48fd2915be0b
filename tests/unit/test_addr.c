#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <soasync/addr.h>
#include <soasync/error.h>

static void test_parse(void **state)
{
	(void)state;
	ss_addr_t a, b;
	char buf[SS_ADDR_STRLEN];
	assert_int_equal(ss_addr_parse(&a, "192.0.2.1", 53), 0);
	assert_int_equal(ss_addr_port(&a), 53);
	assert_string_equal(ss_addr_format(&a, buf, sizeof(buf)), "192.0.2.1");
	assert_int_equal(ss_addr_parse(&a, "192.0.2.1#5300", 53), 0);
	assert_string_equal(ss_addr_format(&a, buf, sizeof(buf)), "192.0.2.1#5300");
	assert_int_equal(ss_addr_parse(&b, "::1#5300", 53), 0);
	assert_int_equal(ss_addr_family(&b), AF_INET6);
	assert_string_equal(ss_addr_format(&b, buf, sizeof(buf)), "::1#5300");
	assert_false(ss_addr_equal(&a, &b));
	assert_true(ss_addr_cmp(&a, &b) < 0); /* IPv4 sorts first */
}

static void test_bad(void **state)
{
	(void)state;
	ss_addr_t a;
	const char *bad[] = {"",          "#53",         "1.2.3.4#", "1.2.3.4#0", "1.2.3.4#65536",
	                     "1.2.3.4#x", "example.com", "1.2.3",    "::1#-1",    "1.2.3.4#53#53"};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_int_equal(ss_addr_parse(&a, bad[i], 53), SS_EADDR);
	}
}

static void test_hash_equal(void **state)
{
	(void)state;
	ss_addr_t a, b, c;
	ss_addr_parse(&a, "127.0.0.1#53", 53);
	ss_addr_parse(&b, "127.0.0.1", 53);
	ss_addr_parse(&c, "127.0.0.1#54", 53);
	assert_true(ss_addr_equal(&a, &b));
	assert_int_equal(ss_addr_hash(&a), ss_addr_hash(&b));
	assert_false(ss_addr_equal(&a, &c));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_parse),
	    cmocka_unit_test(test_bad),
	    cmocka_unit_test(test_hash_equal),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
