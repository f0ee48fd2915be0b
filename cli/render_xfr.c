/*
 * soasync xfr-check: per server, the SOA and what each transfer attempt
 * amounted to, then the findings.
 */
#include <soasync/checkxfr.h>
#include <soasync/error.h>
#include <soasync/xfr.h>

#include "render.h"
#include "render_cmds.h"

static const char *ixfr_text(const ss_server_obs_t *s)
{
	if (s->ixfr != SS_XFR_ALLOWED) {
		return ss_xfr_state_name(s->ixfr);
	}
	switch (s->ixfr_kind) {
	case SS_IXFR_INCREMENTAL:
		return "incremental";
	case SS_IXFR_AXFR:
		return "axfr";
	case SS_IXFR_UP_TO_DATE:
		return "up-to-date";
	case SS_IXFR_SINGLE_SOA:
		return "single-soa";
	default:
		return "failed";
	}
}

/* Why the server has no SOA, or why its transfers failed. */
static const char *error_text(const ss_server_obs_t *s)
{
	if (!s->has_soa) {
		return s->detail ? s->detail : ss_strerror(s->error);
	}
	return s->xfr_error;
}

static json_t *server_json(const ss_server_obs_t *s)
{
	char addr[SS_ADDR_STRLEN];
	ss_addr_ntop(&s->addr, addr, sizeof(addr));
	const char *vendor = ss_vendor_name(s->vendor);
	json_t *o = json_pack(
	    "{s:o, s:s, s:i, s:o, s:s, s:s, s:s, s:o, s:o}", "name", render_json_text(s->name),
	    "address", addr, "port", (int)ss_addr_port(&s->addr), "soa_serial",
	    s->has_soa ? json_integer(s->soa.serial) : json_null(), "axfr",
	    ss_xfr_state_name(s->axfr), "axfr_tsig", ss_xfr_state_name(s->axfr_tsig), "ixfr",
	    ixfr_text(s), "error", render_json_text(error_text(s)), "vendor",
	    vendor ? json_string(vendor) : json_null());
	if (o != NULL) {
		bool got = s->axfr == SS_XFR_ALLOWED || s->axfr_tsig == SS_XFR_ALLOWED;
		json_object_set_new(o, "axfr_records",
		                    got ? json_integer((json_int_t)s->xfr_records) : json_null());
		json_object_set_new(o, "axfr_serial",
		                    got ? json_integer(s->xfr_serial) : json_null());
	}
	return o;
}

int render_xfr_json(FILE *f, const ss_zone_result_t *res)
{
	json_t *servers = json_array();
	for (size_t i = 0; servers != NULL && i < res->obs.nservers; i++) {
		json_array_append_new(servers, server_json(&res->obs.servers[i]));
	}
	return render_json_line(f, json_pack("{s:o, s:s, s:o, s:o}", "zone",
	                                     render_json_text(res->obs.zone_str), "status",
	                                     ss_status_name(res->status), "servers", servers,
	                                     "findings", render_findings_json(res)));
}

void render_xfr_table(FILE *f, const ss_zone_result_t *res, bool color)
{
	fprintf(f, "%s %s\n", res->obs.zone_str, ss_status_name(res->status));
	fprintf(f, "  %-24s %-22s %-10s %-9s %-9s %-12s %s\n", "NAME", "ADDRESS", "SERIAL", "AXFR",
	        "AXFR-TSIG", "IXFR", "ERROR");
	for (size_t i = 0; i < res->obs.nservers; i++) {
		const ss_server_obs_t *s = &res->obs.servers[i];
		char addr[SS_ADDR_STRLEN], serial[16] = "-";
		if (s->has_soa) {
			snprintf(serial, sizeof(serial), "%u", s->soa.serial);
		}
		const char *err = error_text(s);
		fprintf(f, "  %-24s %-22s %-10s %-9s %-9s %-12s %s\n", s->name ? s->name : "-",
		        ss_addr_format(&s->addr, addr, sizeof(addr)), serial,
		        ss_xfr_state_name(s->axfr), ss_xfr_state_name(s->axfr_tsig), ixfr_text(s),
		        err ? err : "");
	}
	render_findings_text(f, res, color);
}
