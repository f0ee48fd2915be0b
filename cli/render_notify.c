/*
 * soasync notify: what each target answered.
 */
#include <soasync/error.h>

#include "render.h"
#include "render_cmds.h"

static json_t *target_json(const ss_notify_result_t *r)
{
	char addr[SS_ADDR_STRLEN];
	ss_addr_ntop(&r->target, addr, sizeof(addr));
	json_t *o = json_pack(
	    "{s:s, s:i, s:s, s:o, s:o, s:i}", "address", addr, "port",
	    (int)ss_addr_port(&r->target), "status", ss_notify_status_name(r->status), "rcode",
	    r->rcode < 0 ? json_null() : json_string(render_rcode(r->rcode)), "error",
	    r->status == SS_NOTIFY_NOANSWER ? json_string(ss_strerror(r->error)) : json_null(),
	    "attempts", (int)r->attempts);
	if (o != NULL && r->tsig_error != 0) {
		const char *te = ss_tsig_error_name(r->tsig_error);
		json_object_set_new(o, "tsig_error", json_string(te ? te : "error"));
	}
	return o;
}

static void notify_json(FILE *f, const char *zone, uint32_t serial, const ss_notify_result_t *res,
                        size_t n)
{
	json_t *targets = json_array();
	for (size_t i = 0; targets != NULL && i < n; i++) {
		json_array_append_new(targets, target_json(&res[i]));
	}
	render_json_line(f, json_pack("{s:o, s:I, s:o}", "zone", render_json_text(zone), "serial",
	                              (json_int_t)serial, "targets", targets));
}

static void notify_line(FILE *f, const ss_notify_result_t *r)
{
	char addr[SS_ADDR_STRLEN];
	fprintf(f, "%-40s %s", ss_addr_format(&r->target, addr, sizeof(addr)),
	        ss_notify_status_name(r->status));
	if (r->status == SS_NOTIFY_REFUSED) {
		const char *te = ss_tsig_error_name(r->tsig_error);
		fprintf(f, " (%s%s%s)", render_rcode(r->rcode), te ? ", TSIG " : "", te ? te : "");
	} else if (r->status == SS_NOTIFY_NOANSWER) {
		fprintf(f, " (%s after %u attempts)", ss_strerror(r->error), r->attempts);
	} else {
		fprintf(f, " (%.1f ms)", r->rtt_us / 1000.0);
	}
	fputc('\n', f);
}

void render_notify(FILE *f, bool json, const char *zone, uint32_t serial,
                   const ss_notify_result_t *res, size_t n)
{
	if (json) {
		notify_json(f, zone, serial, res, n);
		return;
	}
	for (size_t i = 0; i < n; i++) {
		notify_line(f, &res[i]);
	}
}
