/* Durations and sizes as people write them. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <soasync/error.h>
#include <soasync/units.h>

static void test_durations(void **state)
{
	(void)state;
	static const struct {
		const char *in;
		uint64_t bare, want;
	} ok[] = {
	    {"1500ms", 1, 1500},      {"2s", 1, 2000},   {"5m", 1, 300000},     {"1h", 1, 3600000},
	    {"400d", 1, 34560000000}, {"1500", 1, 1500}, {"120", 1000, 120000}, {"0s", 0, 0},
	};
	for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		uint64_t ms = 1;
		assert_int_equal(ss_duration_parse(ok[i].in, ok[i].bare, &ms), 0);
		assert_true(ms == ok[i].want);
	}
	static const char *bad[] = {"", "s", "-1s", "5 m", "5mm", "1.5s", "5M", " 5s", "5s ", "x"};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		uint64_t ms = 0;
		assert_int_equal(ss_duration_parse(bad[i], 1, &ms), SS_EPARSE);
	}
	uint64_t ms;
	assert_int_equal(ss_duration_parse("60", 0, &ms), SS_EPARSE);
	assert_int_equal(ss_duration_parse("99999999999999999999s", 1, &ms), SS_ELIMIT);
	assert_int_equal(ss_duration_parse("9999999999999d", 1, &ms), SS_ELIMIT);
}

static void test_sizes(void **state)
{
	(void)state;
	uint64_t b = 0;
	assert_int_equal(ss_size_parse("64M", &b), 0);
	assert_true(b == 64ull << 20);
	assert_int_equal(ss_size_parse("1G", &b), 0);
	assert_true(b == 1ull << 30);
	assert_int_equal(ss_size_parse("512k", &b), 0);
	assert_true(b == 512ull << 10);
	assert_int_equal(ss_size_parse("2MiB", &b), 0);
	assert_true(b == 2ull << 20);
	assert_int_equal(ss_size_parse("1000", &b), 0);
	assert_true(b == 1000);
	static const char *bad[] = {"", "M", "-1M", "1X", "1MBB", "1.5G", "1 M"};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_int_equal(ss_size_parse(bad[i], &b), SS_EPARSE);
	}
	assert_int_equal(ss_size_parse("9000000000T", &b), SS_ELIMIT);
}

static void test_format(void **state)
{
	(void)state;
	char buf[32];
	assert_string_equal(ss_duration_format(250, buf, sizeof(buf)), "250ms");
	assert_string_equal(ss_duration_format(1500, buf, sizeof(buf)), "1.5s");
	assert_string_equal(ss_duration_format(2000, buf, sizeof(buf)), "2s");
	assert_string_equal(ss_duration_format(300000, buf, sizeof(buf)), "5m");
	assert_string_equal(ss_duration_format(7200000, buf, sizeof(buf)), "2h");
	assert_string_equal(ss_duration_format(86400000, buf, sizeof(buf)), "1d");
	assert_string_equal(ss_duration_format(0, buf, sizeof(buf)), "0ms");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_durations),
	    cmocka_unit_test(test_sizes),
	    cmocka_unit_test(test_format),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
