/*
 * The alert event as JSON (jansson), the same vocabulary as check --json:
 * findings with code, severity, servers, message and fix; servers with
 * name, address, serial, verdict, behind and lag.
 */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "mon_int.h"

const char *ss_mon_time_format(int64_t ms, char *buf, size_t len)
{
	time_t t = (time_t)(ms / 1000);
	struct tm tm;
	gmtime_r(&t, &tm);
	char base[32];
	strftime(base, sizeof(base), "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(buf, len, "%s.%03dZ", base, (int)(ms % 1000));
	return buf;
}

static json_t *time_json(int64_t ms)
{
	char buf[40];
	return ms > 0 ? json_string(ss_mon_time_format(ms, buf, sizeof(buf))) : json_null();
}

static json_t *str_or_null(const char *s)
{
	return s ? json_string(s) : json_null();
}

static json_t *finding_json(const ss_finding_t *f)
{
	json_t *servers = json_array();
	for (size_t i = 0; i < f->nservers; i++) {
		char a[SS_ADDR_STRLEN];
		json_array_append_new(servers,
		                      json_string(ss_addr_format(&f->servers[i], a, sizeof(a))));
	}
	return json_pack("{s:s, s:s, s:o, s:s, s:o}", "code", f->code, "severity",
	                 ss_severity_name(f->severity), "servers", servers, "message",
	                 f->message ? f->message : "", "fix", str_or_null(f->fix));
}

static json_t *server_json(const ss_mon_server_t *s, int64_t now)
{
	char a[SS_ADDR_STRLEN];
	int64_t lag = ss_mon_lag_ms(s, now);
	return json_pack("{s:o, s:s, s:b, s:o, s:s, s:b, s:o, s:o}", "name", str_or_null(s->name),
	                 "address", ss_addr_format(&s->address, a, sizeof(a)), "primary",
	                 s->is_primary, "serial",
	                 s->has_serial ? json_integer(s->serial) : json_null(), "verdict",
	                 ss_verdict_name(s->verdict), "behind", s->behind, "lag_s",
	                 s->behind ? json_real((double)lag / 1000.0) : json_real(0), "expire_s",
	                 s->has_expire ? json_integer(s->expire_s) : json_null());
}

char *mon_alert_json(const mon_alert_t *al)
{
	const ss_mon_zone_t *z = al->zone;
	json_t *findings = json_array(), *servers = json_array();
	for (size_t i = 0; i < z->nfindings; i++) {
		json_array_append_new(findings, finding_json(&z->findings[i]));
	}
	for (size_t i = 0; i < z->nservers; i++) {
		json_array_append_new(servers, server_json(&z->servers[i], al->now_ms));
	}
	json_t *o = json_pack(
	    "{s:s, s:s, s:s, s:b, s:b, s:o, s:o, s:o, s:o, s:o, s:o, s:o}", "zone", z->name,
	    "status", ss_status_name(z->status), "previous", ss_status_name(al->previous),
	    "recovery", z->status == SS_STATUS_OK, "repeat", al->repeat, "time",
	    time_json(al->now_ms), "since", time_json(z->status_since_ms), "started",
	    time_json(al->problem_since_ms), "site", str_or_null(al->site), "reference_serial",
	    z->has_reference ? json_integer(z->reference_serial) : json_null(), "findings",
	    findings, "servers", servers);
	char *s = o ? json_dumps(o, JSON_COMPACT) : NULL;
	json_decref(o);
	return s;
}
