#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>

#include <soasync/error.h>
#include <soasync/serial.h>

#define HALF UINT32_C(0x80000000)

ss_serial_order_t ss_serial_cmp(uint32_t a, uint32_t b)
{
	uint32_t d = b - a; /* unsigned: wraps mod 2^32 as RFC 1982 wants */
	if (d == 0) {
		return SS_SERIAL_EQUAL;
	}
	if (d == HALF) {
		return SS_SERIAL_UNDEFINED;
	}
	return d < HALF ? SS_SERIAL_LESS : SS_SERIAL_GREATER;
}

const char *ss_serial_order_name(ss_serial_order_t order)
{
	switch (order) {
	case SS_SERIAL_LESS:
		return "less";
	case SS_SERIAL_EQUAL:
		return "equal";
	case SS_SERIAL_GREATER:
		return "greater";
	case SS_SERIAL_UNDEFINED:
		break;
	}
	return "undefined";
}

uint32_t ss_serial_distance(uint32_t a, uint32_t b)
{
	return b - a;
}

int ss_serial_plan(uint32_t from, uint32_t to, uint32_t *out, size_t cap)
{
	size_t n = 0;
	uint32_t cur = from;
	/* Each intermediate step jumps as far as allowed but stops one short of
	 * `to`, so the final step to `to` is always a defined increase. */
	while (ss_serial_cmp(to, cur) != SS_SERIAL_GREATER && to != cur) {
		uint32_t left = ss_serial_distance(cur, to);
		uint32_t step = left - 1 < SS_SERIAL_MAX_STEP ? left - 1 : SS_SERIAL_MAX_STEP;
		cur += step;
		if (n >= cap) {
			return SS_EINVAL;
		}
		out[n++] = cur;
	}
	if (n >= cap) {
		return SS_EINVAL;
	}
	out[n++] = to;
	return (int)n;
}

#define DAY 86400
/* 2001-01-01 and 2100-01-01 00:00 UTC: the Unix-time serials we recognize. */
#define UNIX_LOW  INT64_C(978307200)
#define UNIX_HIGH INT64_C(4102444800)
/* YYYYMMDDnn with YYYY in 1990..2100. */
#define DATE_LOW  UINT32_C(1990000000)
#define DATE_HIGH UINT32_C(2100999999)

static bool leap(unsigned y)
{
	return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

static unsigned month_days(unsigned y, unsigned m)
{
	static const unsigned days[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
	return m == 2 && leap(y) ? 29 : days[m - 1];
}

/* Days from 1970-01-01 to y-m-d (proleptic Gregorian; Howard Hinnant's
 * days_from_civil), so no time zone or libc state is involved. */
static int64_t days_from_civil(int64_t y, unsigned m, unsigned d)
{
	y -= m <= 2;
	int64_t era = (y >= 0 ? y : y - 399) / 400;
	unsigned yoe = (unsigned)(y - era * 400);
	unsigned doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
	unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + (int64_t)doe - 719468;
}

static bool say(char *why, size_t len, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static bool say(char *why, size_t len, const char *fmt, ...)
{
	if (why != NULL && len > 0) {
		va_list ap;
		va_start(ap, fmt);
		vsnprintf(why, len, fmt, ap);
		va_end(ap);
	}
	return true;
}

static bool date_sanity(uint32_t serial, int64_t now, char *why, size_t len)
{
	unsigned y = serial / 1000000, m = serial / 10000 % 100, d = serial / 100 % 100;
	if (m < 1 || m > 12 || d < 1 || d > month_days(y, m)) {
		/* From 2033 on, Unix times fall in the date range too: an impossible
		 * date that is a past Unix time is a Unix-time serial. */
		if ((int64_t)serial <= now + DAY) {
			return false;
		}
		return say(why, len,
		           "serial %" PRIu32 " looks like a date (YYYYMMDDnn) but %04u-%02u-%02u "
		           "does not exist",
		           serial, y, m, d);
	}
	if (days_from_civil(y, m, d) * DAY > now + DAY) {
		return say(why, len,
		           "serial %" PRIu32 " looks like a date (YYYYMMDDnn) in the future: "
		           "%04u-%02u-%02u",
		           serial, y, m, d);
	}
	return false;
}

bool ss_serial_sanity(uint32_t serial, time_t now, char *why, size_t len)
{
	if (why != NULL && len > 0) {
		why[0] = '\0';
	}
	if (serial == 0) {
		return say(why, len, "serial is 0: many tools treat 0 as unset");
	}
	/* The date range lies inside the Unix-time range; a serial there that
	 * is a valid date is read as a date, the way people write them. */
	if (serial >= DATE_LOW && serial <= DATE_HIGH) {
		return date_sanity(serial, (int64_t)now, why, len);
	}
	if ((int64_t)serial >= UNIX_LOW && (int64_t)serial < UNIX_HIGH &&
	    (int64_t)serial > (int64_t)now + DAY) {
		return say(why, len,
		           "serial %" PRIu32 " looks like a Unix time %" PRId64
		           " days in the future",
		           serial, ((int64_t)serial - (int64_t)now) / DAY);
	}
	return false;
}
