/*
 * Durations and sizes. Strict: one number, one optional unit, nothing else,
 * so "5 m", "5mm" and "-1s" are errors rather than guesses.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <soasync/error.h>
#include <soasync/units.h>

#define MAX_MS   (UINT64_C(1) << 53)
#define MAX_SIZE (UINT64_C(1) << 63)

/* The leading decimal digits of s; *end after them. SS_EPARSE when none. */
static int leading_number(const char *s, uint64_t *v, const char **end)
{
	if (s == NULL || *s < '0' || *s > '9') {
		return SS_EPARSE;
	}
	char *e = NULL;
	errno = 0;
	unsigned long long n = strtoull(s, &e, 10);
	if (errno == ERANGE) {
		return SS_ELIMIT;
	}
	*v = n;
	*end = e;
	return 0;
}

static int scaled(uint64_t v, uint64_t unit, uint64_t max, uint64_t *out)
{
	if (unit != 0 && v > max / unit) {
		return SS_ELIMIT;
	}
	*out = v * unit;
	return 0;
}

int ss_duration_parse(const char *s, uint64_t bare_unit_ms, uint64_t *ms)
{
	static const struct {
		const char *suffix;
		uint64_t ms;
	} units[] = {{"ms", 1}, {"s", 1000}, {"m", 60000}, {"h", 3600000}, {"d", 86400000}};
	uint64_t v;
	const char *end;
	int ret = leading_number(s, &v, &end);
	if (ret != 0) {
		return ret;
	}
	if (*end == '\0') {
		return bare_unit_ms ? scaled(v, bare_unit_ms, MAX_MS, ms) : SS_EPARSE;
	}
	for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
		if (strcmp(end, units[i].suffix) == 0) {
			return scaled(v, units[i].ms, MAX_MS, ms);
		}
	}
	return SS_EPARSE;
}

int ss_size_parse(const char *s, uint64_t *bytes)
{
	static const char *const suffixes = "KMGT";
	uint64_t v;
	const char *end;
	int ret = leading_number(s, &v, &end);
	if (ret != 0) {
		return ret;
	}
	uint64_t unit = 1;
	if (*end != '\0') {
		const char *p = strchr(suffixes, end[0] & ~0x20);
		if (p == NULL || end[0] == '\0') {
			return SS_EPARSE;
		}
		unit = UINT64_C(1) << (10 * (p - suffixes + 1));
		const char *rest = end + 1;
		if (*rest != '\0' && strcasecmp(rest, "B") != 0 && strcasecmp(rest, "iB") != 0) {
			return SS_EPARSE;
		}
	}
	return scaled(v, unit, MAX_SIZE, bytes);
}

const char *ss_duration_format(uint64_t ms, char *buf, unsigned len)
{
	if (ms % 86400000 == 0 && ms > 0) {
		snprintf(buf, len, "%" PRIu64 "d", ms / 86400000);
	} else if (ms % 3600000 == 0 && ms > 0) {
		snprintf(buf, len, "%" PRIu64 "h", ms / 3600000);
	} else if (ms % 60000 == 0 && ms > 0) {
		snprintf(buf, len, "%" PRIu64 "m", ms / 60000);
	} else if (ms >= 1000 && ms % 100 == 0) {
		snprintf(buf, len, "%" PRIu64 ".%" PRIu64 "s", ms / 1000, ms % 1000 / 100);
		char *dot = strstr(buf, ".0s");
		if (dot != NULL) {
			memmove(dot, dot + 2, 2);
		}
	} else {
		snprintf(buf, len, "%" PRIu64 "ms", ms);
	}
	return buf;
}
