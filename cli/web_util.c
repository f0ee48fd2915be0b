#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "jsonout.h"
#include "web.h"

/* ---- the buffer ---------------------------------------------------------- */

void wbuf_u64(wbuf_t *b, uint64_t v)
{
	char tmp[24];
	size_t i = sizeof(tmp);
	do {
		tmp[--i] = (char)('0' + v % 10);
		v /= 10;
	} while (v != 0);
	wbuf_add(b, tmp + i, sizeof(tmp) - i);
}

void wbuf_i64(wbuf_t *b, int64_t v)
{
	if (v < 0) {
		wbuf_putc(b, '-');
		wbuf_u64(b, (uint64_t)0 - (uint64_t)v);
	} else {
		wbuf_u64(b, (uint64_t)v);
	}
}

void wbuf_free(wbuf_t *b)
{
	ss_strbuf_free(b);
}

/* An escaper: the bytes to replace and what each becomes. */
typedef struct {
	const char *special;
	const char *const *with;
} escape_t;

static const escape_t label_escape = {"\\\"\n", (const char *const[]){"\\\\", "\\\"", "\\n"}};
static const escape_t html_escape = {
    "&<>\"'", (const char *const[]){"&amp;", "&lt;", "&gt;", "&quot;", "&#39;"}};

/* Copy s, the bytes of e->special replaced (a plain copy when there is none). */
static void escaped(wbuf_t *b, const char *s, const escape_t *e)
{
	for (;;) {
		size_t plain = strcspn(s, e->special);
		wbuf_add(b, s, plain);
		if (s[plain] == '\0') {
			return;
		}
		wbuf_puts(b, e->with[strchr(e->special, s[plain]) - e->special]);
		s += plain + 1;
	}
}

/* The length of a valid UTF-8 sequence at p, 0 if there is none. */
static size_t utf8_len(const unsigned char *p)
{
	size_t n = p[0] < 0x80       ? 1
	           : p[0] >> 5 == 6  ? 2
	           : p[0] >> 4 == 14 ? 3
	           : p[0] >> 3 == 30 ? 4
	                             : 0;
	for (size_t i = 1; i < n; i++) {
		if (p[i] >> 6 != 2) {
			return 0;
		}
	}
	return n;
}

bool web_utf8_valid(const char *s)
{
	const unsigned char *q = (const unsigned char *)(s ? s : "");
	while (*q != '\0') {
		size_t n = utf8_len(q);
		if (n == 0) {
			return false;
		}
		q += n;
	}
	return true;
}

void wbuf_label_utf8(wbuf_t *b, const char *s)
{
	escaped(b, s ? s : "", &label_escape);
}

/* Label values are UTF-8 in the format: anything else becomes '?'. */
void wbuf_label(wbuf_t *b, const char *s)
{
	if (web_utf8_valid(s)) {
		wbuf_label_utf8(b, s);
		return;
	}
	char *copy = strdup(s);
	if (copy == NULL) {
		b->failed = true;
		return;
	}
	for (unsigned char *c = (unsigned char *)copy; *c;) {
		size_t n = utf8_len(c);
		if (n == 0) {
			*c++ = '?';
		} else {
			c += n;
		}
	}
	wbuf_label_utf8(b, copy);
	free(copy);
}

void wbuf_html(wbuf_t *b, const char *s)
{
	escaped(b, s ? s : "", &html_escape);
}

/* Everything but unreserved characters (RFC 3986), bytes >= 0x80 too. */
void wbuf_url(wbuf_t *b, const char *s)
{
	static const char hex[] = "0123456789ABCDEF";
	for (const unsigned char *p = (const unsigned char *)(s ? s : ""); *p; p++) {
		if ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
		    (*p >= '0' && *p <= '9') || *p == '-' || *p == '.' || *p == '_' || *p == '~') {
			wbuf_putc(b, (char)*p);
		} else {
			char esc[3] = {'%', hex[*p >> 4], hex[*p & 15]};
			wbuf_add(b, esc, 3);
		}
	}
}

int wbuf_json(wbuf_t *b, json_t *v)
{
	int ret = jo_dump(b, v);
	json_decref(v);
	return ret;
}

/* ---- vocabulary ---------------------------------------------------------- */

const char *web_addr(const ss_addr_t *a, char *buf, size_t len)
{
	if (ss_addr_family(a) != AF_INET || len < SS_ADDR_STRLEN) {
		return ss_addr_format(a, buf, len);
	}
	const uint8_t *ip = (const uint8_t *)&((const struct sockaddr_in *)&a->ss)->sin_addr;
	char *p = buf;
	for (int i = 0; i < 4; i++) {
		unsigned v = ip[i];
		if (v >= 100) {
			*p++ = (char)('0' + v / 100);
		}
		if (v >= 10) {
			*p++ = (char)('0' + v / 10 % 10);
		}
		*p++ = (char)('0' + v % 10);
		*p++ = '.';
	}
	p[-1] = '\0';
	uint16_t port = ss_addr_port(a);
	if (port != 53) {
		p[-1] = '#';
		char d[6];
		int n = 0;
		do {
			d[n++] = (char)('0' + port % 10);
			port /= 10;
		} while (port != 0);
		while (n > 0) {
			*p++ = d[--n];
		}
		*p = '\0';
	}
	return buf;
}

/* Days since 1970-01-01 to a civil date (H. Hinnant's algorithm): no
 * gmtime_r and no printf per time, the API writes several per zone. */
static void civil(int64_t days, int *y, unsigned *m, unsigned *d)
{
	days += 719468;
	int64_t era = (days >= 0 ? days : days - 146096) / 146097;
	unsigned doe = (unsigned)(days - era * 146097);
	unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	unsigned mp = (5 * doy + 2) / 153;
	*d = doy - (153 * mp + 2) / 5 + 1;
	*m = mp < 10 ? mp + 3 : mp - 9;
	*y = (int)(yoe + era * 400 + (*m <= 2));
}

static void digits(char *p, unsigned v, int n)
{
	while (n-- > 0) {
		p[n] = (char)('0' + v % 10);
		v /= 10;
	}
}

const char *web_time(int64_t ms, char *buf, size_t len)
{
	if (ms < 0 || len < 25) {
		snprintf(buf, len, "-");
		return buf;
	}
	int y;
	unsigned mo, d;
	int64_t s = ms / 1000;
	civil(s / 86400, &y, &mo, &d);
	unsigned sod = (unsigned)(s % 86400);
	memcpy(buf, "0000-00-00T00:00:00.000Z", 25);
	digits(buf, (unsigned)y, 4);
	digits(buf + 5, mo, 2);
	digits(buf + 8, d, 2);
	digits(buf + 11, sod / 3600, 2);
	digits(buf + 14, sod / 60 % 60, 2);
	digits(buf + 17, sod % 60, 2);
	digits(buf + 20, (unsigned)(ms % 1000), 3);
	return buf;
}

const char *web_duration(int64_t ms, char *buf, size_t len)
{
	if (ms < 0) {
		ms = 0;
	}
	int64_t s = ms / 1000;
	/* two units at most, the smaller left out when it is zero */
	static const struct {
		int64_t size;
		const char *unit, *sub;
		int64_t subsize;
	} units[] = {{86400, "d", "h", 3600}, {3600, "h", "m", 60}, {60, "m", "s", 1}};
	for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
		if (s >= units[i].size) {
			int64_t sub = s % units[i].size / units[i].subsize;
			if (sub == 0) {
				snprintf(buf, len, "%" PRId64 "%s", s / units[i].size,
				         units[i].unit);
			} else {
				snprintf(buf, len, "%" PRId64 "%s %" PRId64 "%s", s / units[i].size,
				         units[i].unit, sub, units[i].sub);
			}
			return buf;
		}
	}
	if (s < 10 && ms % 1000 != 0) {
		snprintf(buf, len, "%.1fs", (double)ms / 1000.0);
	} else {
		snprintf(buf, len, "%" PRId64 "s", s);
	}
	return buf;
}

web_cell_t web_lag_cell(int64_t lag_ms, const ss_mon_config_t *cfg)
{
	switch (cfg != NULL ? ss_mon_lag_severity(cfg, lag_ms) : SS_SEV_INFO) {
	case SS_SEV_CRITICAL:
		return WEB_CELL_LAG_CRITICAL;
	case SS_SEV_WARNING:
		return WEB_CELL_LAG_WARNING;
	default:
		return WEB_CELL_BEHIND;
	}
}

web_cell_t web_cell_state(const ss_mon_server_t *s, int64_t lag_ms, const ss_mon_config_t *cfg)
{
	switch (s->verdict) {
	case SS_VERDICT_NONE:
		return WEB_CELL_PENDING;
	case SS_VERDICT_AT_REFERENCE:
		return WEB_CELL_IN_SYNC;
	case SS_VERDICT_AHEAD:
		return WEB_CELL_AHEAD;
	case SS_VERDICT_BEHIND:
		return web_lag_cell(lag_ms, cfg);
	case SS_VERDICT_UNDEFINED:
		return WEB_CELL_UNDEFINED;
	case SS_VERDICT_NO_SOA:
	case SS_VERDICT_NOT_AUTH:
		return WEB_CELL_NOT_AUTH;
	case SS_VERDICT_SERVFAIL:
		return WEB_CELL_SERVFAIL;
	case SS_VERDICT_UNREACHABLE:
		return WEB_CELL_UNREACHABLE;
	case SS_VERDICT_HIDDEN_PRIMARY:
		return WEB_CELL_HIDDEN;
	case SS_VERDICT_LOCAL_ERROR:
		return WEB_CELL_LOCAL;
	}
	return WEB_CELL_PENDING;
}

static const struct {
	const char *cls, *words;
} cells[WEB_CELL_COUNT] = {
    [WEB_CELL_PENDING] = {"pending", "not checked yet"},
    [WEB_CELL_IN_SYNC] = {"in-sync", "in sync"},
    [WEB_CELL_AHEAD] = {"ahead", "ahead of the primary"},
    [WEB_CELL_BEHIND] = {"behind", "behind"},
    [WEB_CELL_LAG_WARNING] = {"lag-warning", "behind (lag warning)"},
    [WEB_CELL_LAG_CRITICAL] = {"lag-critical", "behind (lag critical)"},
    [WEB_CELL_UNDEFINED] = {"undefined", "2^31 apart"},
    [WEB_CELL_UNREACHABLE] = {"unreachable", "unreachable"},
    [WEB_CELL_NOT_AUTH] = {"not-auth", "not authoritative"},
    [WEB_CELL_SERVFAIL] = {"servfail", "SERVFAIL"},
    [WEB_CELL_HIDDEN] = {"hidden", "hidden primary"},
    [WEB_CELL_LOCAL] = {"local-error", "not asked (local error)"},
};

const char *web_cell_class(web_cell_t c)
{
	return c < WEB_CELL_COUNT ? cells[c].cls : "pending";
}

const char *web_cell_words(web_cell_t c)
{
	return c < WEB_CELL_COUNT ? cells[c].words : "?";
}

size_t web_zone_after(const web_source_t *src, const char *name)
{
	size_t lo = 0, hi = src->zone_count(src->ctx);
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (strcmp(src->zone(src->ctx, mid)->name, name) <= 0) {
			lo = mid + 1;
		} else {
			hi = mid;
		}
	}
	return lo;
}
