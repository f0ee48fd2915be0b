#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <soasync/error.h>
#include <soasync/serial.h>

static void test_four_answers(void **state)
{
	(void)state;
	assert_int_equal(ss_serial_cmp(1, 1), SS_SERIAL_EQUAL);
	assert_int_equal(ss_serial_cmp(1, 2), SS_SERIAL_LESS);
	assert_int_equal(ss_serial_cmp(2, 1), SS_SERIAL_GREATER);
	assert_int_equal(ss_serial_cmp(0, 0x80000000u), SS_SERIAL_UNDEFINED);
	assert_int_equal(ss_serial_cmp(0x80000000u, 0), SS_SERIAL_UNDEFINED);
	assert_int_equal(ss_serial_cmp(5, 5 + 0x80000000u), SS_SERIAL_UNDEFINED);
}

static void test_wrap(void **state)
{
	(void)state;
	/* RFC 1982 section 5.2 examples for SERIAL_BITS = 32. */
	assert_int_equal(ss_serial_cmp(0xffffffffu, 0), SS_SERIAL_LESS);
	assert_int_equal(ss_serial_cmp(0, 0xffffffffu), SS_SERIAL_GREATER);
	assert_int_equal(ss_serial_cmp(0xfffffff0u, 5), SS_SERIAL_LESS);
	/* Largest increase still greater; one more is undefined; two more is older. */
	assert_int_equal(ss_serial_cmp(10, 10 + 0x7fffffffu), SS_SERIAL_LESS);
	assert_int_equal(ss_serial_cmp(10, 10 + 0x80000000u), SS_SERIAL_UNDEFINED);
	assert_int_equal(ss_serial_cmp(10, 10 + 0x80000001u), SS_SERIAL_GREATER);
	assert_int_equal(ss_serial_distance(0xffffffffu, 1), 2);
}

static void test_names(void **state)
{
	(void)state;
	assert_string_equal(ss_serial_order_name(ss_serial_cmp(1, 2)), "less");
	assert_string_equal(ss_serial_order_name(ss_serial_cmp(2, 2)), "equal");
	assert_string_equal(ss_serial_order_name(ss_serial_cmp(3, 2)), "greater");
	assert_string_equal(ss_serial_order_name(ss_serial_cmp(0, 0x80000000u)), "undefined");
}

/* Every step of a plan must be an RFC 1982 increase and end at `to`. */
static void check_plan(uint32_t from, uint32_t to, int expect_steps)
{
	uint32_t out[4];
	int n = ss_serial_plan(from, to, out, 4);
	assert_int_equal(n, expect_steps);
	uint32_t cur = from;
	for (int i = 0; i < n; i++) {
		if (!(i == n - 1 && from == to)) {
			assert_int_equal(ss_serial_cmp(out[i], cur), SS_SERIAL_GREATER);
		}
		cur = out[i];
	}
	assert_int_equal(out[n - 1], to);
}

static void test_plan(void **state)
{
	(void)state;
	check_plan(100, 200, 1);                 /* already greater */
	check_plan(100, 100, 1);                 /* nothing to do */
	check_plan(2026112501u, 2026010100u, 2); /* backwards by a little */
	check_plan(2026112501u, 1, 2);           /* to a small serial */
	check_plan(1000, 999, 3);                /* back by one needs two jumps */
	check_plan(0, 0x80000000u, 2);           /* exactly 2^31 away */
	uint32_t out[1];
	assert_int_equal(ss_serial_plan(5, 4, out, 1), SS_EINVAL);
}

static void test_errors(void **state)
{
	(void)state;
	assert_string_equal(ss_strerror(SS_ETIMEOUT), "timed out");
	assert_string_equal(ss_errname(SS_ETIMEOUT), "SS_ETIMEOUT");
	assert_string_equal(ss_strerror(0), "success");
	assert_string_equal(ss_strerror(-9999), "unknown error");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_four_answers), cmocka_unit_test(test_wrap),
	    cmocka_unit_test(test_names),        cmocka_unit_test(test_plan),
	    cmocka_unit_test(test_errors),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
