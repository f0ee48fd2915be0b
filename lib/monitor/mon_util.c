/*
 * Small helpers of the monitor: the clock, addresses as a config writes
 * them, prefixes, zone names, bounded file reads, histograms.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <libknot/libknot.h>

#include <soasync/error.h>

#include "mon_int.h"

int64_t mon_now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* "IPV4:PORT" and "[IPV6]:PORT" become "ADDR#PORT" for ss_addr_parse. */
int mon_addr_parse(const char *text, uint16_t default_port, ss_addr_t *out)
{
	char buf[SS_ADDR_STRLEN + 8];
	size_t len = strlen(text);
	if (len == 0 || len >= sizeof(buf)) {
		return SS_EADDR;
	}
	memcpy(buf, text, len + 1);
	if (buf[0] == '[') {
		char *close = strchr(buf, ']');
		if (close == NULL || (close[1] != '\0' && close[1] != ':')) {
			return SS_EADDR;
		}
		*close = '\0';
		if (close[1] == ':') {
			memmove(close + 1, close + 2, strlen(close + 2) + 1);
			*close = '#';
		}
		return ss_addr_parse(out, buf + 1, default_port);
	}
	char *colon = strchr(buf, ':');
	if (colon != NULL && strchr(colon + 1, ':') == NULL) {
		*colon = '#'; /* one colon: IPv4 with a port */
	}
	return ss_addr_parse(out, buf, default_port);
}

int mon_prefix_parse(const char *text, ss_mon_prefix_t *out)
{
	char buf[INET6_ADDRSTRLEN + 8];
	size_t len = strlen(text);
	if (len == 0 || len >= sizeof(buf)) {
		return SS_EADDR;
	}
	memcpy(buf, text, len + 1);
	char *slash = strchr(buf, '/');
	long bits = -1;
	if (slash != NULL) {
		char *end = NULL;
		*slash = '\0';
		errno = 0;
		bits = strtol(slash + 1, &end, 10);
		if (slash[1] < '0' || slash[1] > '9' || *end != '\0' || errno != 0) {
			return SS_EADDR;
		}
	}
	if (strchr(buf, '#') != NULL || ss_addr_parse(&out->addr, buf, 0) != 0) {
		return SS_EADDR;
	}
	long max = ss_addr_family(&out->addr) == AF_INET ? 32 : 128;
	if (bits > max) {
		return SS_EADDR;
	}
	out->bits = bits < 0 ? (unsigned)max : (unsigned)bits;
	return 0;
}

static const uint8_t *raw(const ss_addr_t *a, size_t *len)
{
	if (ss_addr_family(a) == AF_INET) {
		*len = 4;
		return (const uint8_t *)&((const struct sockaddr_in *)&a->ss)->sin_addr;
	}
	*len = 16;
	return (const uint8_t *)&((const struct sockaddr_in6 *)&a->ss)->sin6_addr;
}

/* An IPv4 address mapped into IPv6 (::ffff:a.b.c.d) as plain IPv4. */
static ss_addr_t unmapped(const ss_addr_t *a)
{
	size_t len = 0;
	const uint8_t *r = raw(a, &len);
	static const uint8_t prefix[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
	ss_addr_t out = *a;
	if (len == 16 && memcmp(r, prefix, 12) == 0) {
		ss_addr_from_raw(&out, r + 12, 4, ss_addr_port(a));
	}
	return out;
}

bool mon_prefix_match(const ss_mon_prefix_t *p, const ss_addr_t *addr)
{
	ss_addr_t a = unmapped(addr);
	if (ss_addr_family(&a) != ss_addr_family(&p->addr)) {
		return false;
	}
	size_t len = 0, plen = 0;
	const uint8_t *x = raw(&a, &len), *y = raw(&p->addr, &plen);
	unsigned bits = p->bits;
	for (size_t i = 0; i < len && bits > 0; i++, bits = bits >= 8 ? bits - 8 : 0) {
		uint8_t mask = bits >= 8 ? 0xff : (uint8_t)(0xff << (8 - bits));
		if ((x[i] & mask) != (y[i] & mask)) {
			return false;
		}
	}
	return true;
}

bool mon_prefix_list_match(const ss_mon_prefix_t *list, size_t n, const ss_addr_t *a)
{
	for (size_t i = 0; i < n; i++) {
		if (mon_prefix_match(&list[i], a)) {
			return true;
		}
	}
	return false;
}

int mon_zone_name_norm(const char *name, char **out)
{
	knot_dname_storage_t tmp;
	if (*name == '\0' || knot_dname_from_str(tmp, name, sizeof(tmp)) == NULL) {
		return SS_ENAME;
	}
	knot_dname_to_lower(tmp);
	*out = knot_dname_to_str_alloc(tmp);
	return *out ? 0 : SS_ENOMEM;
}

int mon_read_file(const char *path, size_t max, char **out, size_t *len, ss_mon_error_t *err)
{
	FILE *f = fopen(path, "rb");
	if (f == NULL) {
		mon_error_set(err, path, 0, 0, "cannot open: %s", strerror(errno));
		return SS_EIO;
	}
	size_t cap = 4096, n = 0;
	char *buf = malloc(cap + 1);
	int ret = buf ? 0 : SS_ENOMEM;
	while (ret == 0) {
		if (n == cap) {
			char *grown = cap < max ? realloc(buf, 2 * cap + 1) : NULL;
			if (grown == NULL) {
				ret = cap < max ? SS_ENOMEM : SS_ELIMIT;
				break;
			}
			buf = grown;
			cap *= 2;
		}
		size_t got = fread(buf + n, 1, cap - n, f);
		n += got;
		if (got == 0) {
			ret = ferror(f) ? SS_EIO : 0;
			break;
		}
	}
	fclose(f);
	if (ret == 0 && n > max) {
		ret = SS_ELIMIT;
	}
	if (ret != 0) {
		free(buf);
		mon_error_set(err, path, 0, 0, "%s",
		              ret == SS_ELIMIT ? "file too large" : ss_strerror(ret));
		return ret;
	}
	buf[n] = '\0';
	*out = buf;
	*len = n;
	return 0;
}

int mon_read_lines(const char *path, int (*add)(const char *name, unsigned line, void *arg),
                   void *arg, ss_mon_error_t *err)
{
	char *text = NULL;
	size_t len = 0;
	int ret = mon_read_file(path, (size_t)1 << 30, &text, &len, err);
	unsigned line = 0;
	for (char *p = text, *next = NULL; ret == 0 && p != NULL && *p; p = next) {
		line++;
		next = strchr(p, '\n');
		if (next != NULL) {
			*next++ = '\0';
		}
		char *hash = strchr(p, '#');
		if (hash != NULL) {
			*hash = '\0';
		}
		p += strspn(p, " \t\r");
		size_t n = strcspn(p, " \t\r");
		if (n == 0) {
			continue;
		}
		if (p[n + strspn(p + n, " \t\r")] != '\0') {
			mon_error_set(err, path, line, 0, "one zone name per line");
			ret = SS_EPARSE;
			break;
		}
		p[n] = '\0';
		ret = add(p, line, arg);
	}
	free(text);
	return ret;
}

void mon_say(mon_log_fn log, void *arg, const char *zone, const char *fmt, ...)
{
	char msg[1024];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (log != NULL) {
		log(zone, msg, arg);
	}
}

/* ---- histograms ----------------------------------------------------------- */

const double mon_conv_bounds[] = {1, 2, 5, 10, 30, 60, 120, 300, 600, 1800, 3600, INFINITY};
const size_t mon_nconv_bounds = sizeof(mon_conv_bounds) / sizeof(mon_conv_bounds[0]);
const double mon_dur_bounds[] = {0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, INFINITY};
const size_t mon_ndur_bounds = sizeof(mon_dur_bounds) / sizeof(mon_dur_bounds[0]);

void mon_hist_init(ss_mon_histogram_t *h, const double *le, size_t n)
{
	memset(h, 0, sizeof(*h));
	h->le = le;
	h->n = n;
}

void mon_hist_add(ss_mon_histogram_t *h, double v)
{
	size_t i = 0;
	while (i + 1 < h->n && v > h->le[i]) {
		i++;
	}
	h->counts[i]++;
	h->count++;
	h->sum += v;
}

/* ---- names ------------------------------------------------------------------ */

static const char *name_at(const char *const *names, size_t n, int i)
{
	return i >= 0 && (size_t)i < n ? names[i] : "unknown";
}

const char *ss_mon_via_name(ss_mon_via_t via)
{
	static const char *const names[] = {"poll", "notify", "start"};
	return name_at(names, 3, (int)via);
}

const char *ss_mon_event_name(ss_mon_event_kind_t kind)
{
	static const char *const names[SS_MON_EV_COUNT] = {
	    "serial",         "converged",      "converge-timeout", "never",
	    "status",         "regression",     "unreachable",      "reachable",
	    "finding-opened", "finding-closed", "zone-added",       "zone-removed",
	};
	return name_at(names, SS_MON_EV_COUNT, (int)kind);
}

const char *ss_mon_notify_result_name(ss_mon_notify_result_t r)
{
	static const char *const names[SS_MON_NOTIFY_RESULTS] = {"accepted", "refused", "bad-tsig",
	                                                         "unknown-zone", "malformed"};
	return name_at(names, SS_MON_NOTIFY_RESULTS, (int)r);
}

const char *ss_mon_qerr_name(ss_mon_qerr_t q)
{
	static const char *const names[SS_MON_QERR_COUNT] = {
	    "timeout",  "connection-refused", "network", "malformed",
	    "servfail", "not-authoritative",  "other"};
	return name_at(names, SS_MON_QERR_COUNT, (int)q);
}
