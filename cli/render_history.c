#include <inttypes.h>
#include <string.h>

#include <soasync/units.h>

#include "render_history.h"

static const char *server_label(const ss_mon_event_t *e, char *buf, size_t len)
{
	char a[SS_ADDR_STRLEN];
	if (!e->has_address) {
		snprintf(buf, len, "?");
	} else if (e->name != NULL) {
		snprintf(buf, len, "%s (%s)", e->name, ss_addr_format(&e->address, a, sizeof(a)));
	} else {
		snprintf(buf, len, "%s", ss_addr_format(&e->address, a, sizeof(a)));
	}
	return buf;
}

static const char *seconds(int64_t ms, char *buf, size_t len)
{
	snprintf(buf, len, "%" PRId64 ".%03ds", ms / 1000, (int)(ms % 1000));
	return buf;
}

const char *render_event_text(const ss_mon_event_t *e, char *buf, size_t len)
{
	char who[512], t[32];
	switch (e->kind) {
	case SS_MON_EV_SERIAL:
		snprintf(buf, len, "serial %u published (first seen by %s)", e->serial,
		         ss_mon_via_name(e->via));
		break;
	case SS_MON_EV_CONVERGED:
		snprintf(buf, len, "%s serves serial %u, lag %s", server_label(e, who, sizeof(who)),
		         e->serial, seconds(e->lag_ms, t, sizeof(t)));
		break;
	case SS_MON_EV_CONVERGE_TIMEOUT:
		snprintf(buf, len, "%s still lacks serial %u after converge_timeout",
		         server_label(e, who, sizeof(who)), e->serial);
		break;
	case SS_MON_EV_NEVER:
		snprintf(buf, len, "%s: no longer waiting for serial %u",
		         server_label(e, who, sizeof(who)), e->serial);
		break;
	case SS_MON_EV_STATUS:
		snprintf(buf, len, "status %s -> %s", ss_status_name(e->previous),
		         ss_status_name(e->status));
		break;
	case SS_MON_EV_REGRESSION:
		snprintf(buf, len, "the primary went backwards: serial %u -> %u", e->old_serial,
		         e->serial);
		break;
	case SS_MON_EV_UNREACHABLE:
		snprintf(buf, len, "%s unreachable: %s", server_label(e, who, sizeof(who)),
		         e->message ? e->message : "no answer");
		break;
	case SS_MON_EV_REACHABLE:
		snprintf(buf, len, "%s answers again after %s", server_label(e, who, sizeof(who)),
		         seconds(e->lag_ms, t, sizeof(t)));
		break;
	case SS_MON_EV_FINDING_OPENED:
		snprintf(buf, len, "%s %s: %s", ss_severity_name(e->severity),
		         ss_fcode_name(e->code), e->message ? e->message : "");
		break;
	case SS_MON_EV_FINDING_CLOSED:
		snprintf(buf, len, "resolved %s", ss_fcode_name(e->code));
		break;
	case SS_MON_EV_ZONE_ADDED:
		snprintf(buf, len, "watched from now on");
		break;
	case SS_MON_EV_ZONE_REMOVED:
		snprintf(buf, len, "no longer watched");
		break;
	default:
		snprintf(buf, len, "%s", ss_mon_event_name(e->kind));
		break;
	}
	return buf;
}

static json_t *time_json(int64_t ms)
{
	char buf[40];
	return json_string(ss_mon_time_format(ms, buf, sizeof(buf)));
}

json_t *render_history_serial_json(const ss_mon_hist_serial_t *s)
{
	json_t *servers = json_array();
	for (size_t i = 0; i < s->nservers; i++) {
		const ss_mon_hist_server_t *v = &s->servers[i];
		json_array_append_new(
		    servers,
		    json_pack("{s:s, s:o, s:o, s:o}", "address", v->address, "name",
		              v->name ? json_string(v->name) : json_null(), "converged_at",
		              v->converged ? time_json(v->converged_ms) : json_null(), "lag_s",
		              v->converged ? json_real((double)v->lag_ms / 1000.0) : json_null()));
	}
	return json_pack("{s:s, s:I, s:o, s:s, s:o}", "zone", s->zone, "serial",
	                 (json_int_t)s->serial, "first_seen", time_json(s->first_seen_ms), "via",
	                 ss_mon_via_name(s->via), "servers", servers);
}

json_t *render_history_event_json(const ss_mon_event_t *e)
{
	json_t *o = json_pack("{s:s, s:o, s:s}", "zone", e->zone, "time", time_json(e->time_ms),
	                      "event", ss_mon_event_name(e->kind));
	if (o == NULL) {
		return NULL;
	}
	if (e->has_serial) {
		json_object_set_new(o, "serial", json_integer(e->serial));
	}
	if (e->kind == SS_MON_EV_REGRESSION) {
		json_object_set_new(o, "old_serial", json_integer(e->old_serial));
	}
	if (e->has_address) {
		char a[SS_ADDR_STRLEN];
		json_object_set_new(o, "address",
		                    json_string(ss_addr_format(&e->address, a, sizeof(a))));
		json_object_set_new(o, "name", e->name ? json_string(e->name) : json_null());
	}
	if (e->lag_ms >= 0) {
		json_object_set_new(o, "lag_s", json_real((double)e->lag_ms / 1000.0));
	}
	if (e->kind == SS_MON_EV_STATUS) {
		json_object_set_new(o, "status", json_string(ss_status_name(e->status)));
		json_object_set_new(o, "previous", json_string(ss_status_name(e->previous)));
	}
	if (e->code < SS_F_COUNT) {
		json_object_set_new(o, "code", json_string(ss_fcode_name(e->code)));
	}
	if (e->kind == SS_MON_EV_FINDING_OPENED) {
		json_object_set_new(o, "severity", json_string(ss_severity_name(e->severity)));
	}
	if (e->message != NULL) {
		json_object_set_new(o, "message", json_string(e->message));
	}
	return o;
}

void render_history_serial_table(FILE *f, const ss_mon_hist_serial_t *s, bool *zone_shown)
{
	char t[40], lag[32];
	if (!*zone_shown) {
		fprintf(f, "%s\n", s->zone);
		*zone_shown = true;
	}
	fprintf(f, "  serial %-10u first seen %s (%s)\n", s->serial,
	        ss_mon_time_format(s->first_seen_ms, t, sizeof(t)), ss_mon_via_name(s->via));
	for (size_t i = 0; i < s->nservers; i++) {
		const ss_mon_hist_server_t *v = &s->servers[i];
		const char *name = v->name ? v->name : "-";
		if (v->converged) {
			fprintf(f, "    %-22s %-28s %s  lag %s\n", v->address, name,
			        ss_mon_time_format(v->converged_ms, t, sizeof(t)),
			        seconds(v->lag_ms, lag, sizeof(lag)));
		} else {
			fprintf(f, "    %-22s %-28s %s\n", v->address, name,
			        v->never ? "never" : "still behind");
		}
	}
}

void render_history_event_table(FILE *f, const ss_mon_event_t *e)
{
	char t[40], text[1024];
	fprintf(f, "%s  %s  %s\n", ss_mon_time_format(e->time_ms, t, sizeof(t)), e->zone,
	        render_event_text(e, text, sizeof(text)));
}
