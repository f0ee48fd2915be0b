#include <inttypes.h>
#include <string.h>

#include <jansson.h>

#include "render.h"
#include "render_doctor.h"

void render_doctor_init(render_doctor_t *r, bool json, bool progress, FILE *out, FILE *err)
{
	memset(r, 0, sizeof(*r));
	r->json = json;
	r->progress = progress;
	r->out = out;
	r->err = err;
}

void render_doctor_progress_clear(render_doctor_t *r)
{
	if (r->progress_shown) {
		fputs("\r\033[K", r->err);
		fflush(r->err);
		r->progress_shown = false;
	}
}

static const char *zone_of(const ss_doctor_t *d)
{
	return d->zone ? d->zone : "";
}

void render_doctor_update(render_doctor_t *r, const ss_doctor_t *d)
{
	if (r->json) {
		return;
	}
	render_doctor_progress_clear(r);
	for (; r->actions_shown < d->nactions; r->actions_shown++) {
		const ss_doctor_action_t *a = &d->actions[r->actions_shown];
		fprintf(r->err, "soasync: %s: %s %s: %s\n", zone_of(d), ss_action_name(a->kind),
		        a->target, a->result);
	}
	fflush(r->err);
	if (!r->began) {
		fprintf(r->out, "doctor %s\n", zone_of(d));
		r->began = true;
	}
	for (; r->steps_shown < SS_DOCTOR_NSTEPS; r->steps_shown++) {
		const ss_doctor_step_t *s = &d->steps[r->steps_shown];
		if (s->status == SS_STEP_PENDING) {
			break;
		}
		fprintf(r->out, "  %d %-14s %-8s %s\n", r->steps_shown + 1,
		        ss_step_name(r->steps_shown), ss_step_status_name(s->status),
		        s->observed ? s->observed : "");
		if (r->steps_shown == SS_STEP_GUARD) {
			render_doctor_monitor_yaml(r->out, d, "    ");
		}
	}
	fflush(r->out);
}

static void label(FILE *f, const ss_zone_result_t *res, const ss_addr_t *a)
{
	char as[SS_ADDR_STRLEN];
	const char *name = NULL;
	for (size_t i = 0; res != NULL && i < res->obs.nservers; i++) {
		if (ss_addr_equal(&res->obs.servers[i].addr, a)) {
			name = res->obs.servers[i].name;
		}
	}
	ss_addr_format(a, as, sizeof(as));
	if (name != NULL) {
		fprintf(f, "%s (%s)", name, as);
	} else {
		fputs(as, f);
	}
}

void render_doctor_progress(render_doctor_t *r, const ss_doctor_t *d, const ss_zone_result_t *res,
                            ss_step_t step, const char *doing, double elapsed_s, double limit_s)
{
	if (!r->progress) {
		return;
	}
	ss_addr_t awaited[16];
	size_t n = res ? ss_doctor_awaited(d, res, step, awaited, 16) : 0;
	fprintf(r->err, "\r\033[Ksoasync: %s: %d %s: %s", zone_of(d), (int)step + 1,
	        ss_step_name(step), doing);
	for (size_t i = 0; i < n; i++) {
		fputs(i ? ", " : " ", r->err);
		label(r->err, res, &awaited[i]);
	}
	fprintf(r->err, " [%.0fs/%.0fs]", elapsed_s, limit_s);
	fflush(r->err);
	r->progress_shown = true;
}

/* A YAML double-quoted scalar. */
static void yaml_str(FILE *f, const char *s)
{
	fputc('"', f);
	for (; *s; s++) {
		if (*s == '"' || *s == '\\') {
			fprintf(f, "\\%c", *s);
		} else if ((unsigned char)*s < 0x20) {
			fprintf(f, "\\x%02x", (unsigned char)*s);
		} else {
			fputc(*s, f);
		}
	}
	fputc('"', f);
}

static void yaml_addrs(FILE *f, const ss_addr_t *a, size_t n, bool list)
{
	char as[SS_ADDR_STRLEN];
	fputs(list ? "[" : "", f);
	for (size_t i = 0; i < n; i++) {
		fputs(i ? ", " : "", f);
		yaml_str(f, ss_addr_format(&a[i], as, sizeof(as)));
	}
	fputs(list ? "]" : "", f);
}

/* The zone's name as the monitor's config writes it: no trailing dot. */
static void zone_name(char *buf, size_t len, const char *zone)
{
	size_t n = strlen(zone);
	snprintf(buf, len, "%.*s", (int)(n > 1 && zone[n - 1] == '.' ? n - 1 : n), zone);
}

void render_doctor_monitor_yaml(FILE *f, const ss_doctor_t *d, const char *indent)
{
	char z[1024];
	zone_name(z, sizeof(z), zone_of(d));
	fprintf(f, "%szones:\n%s  - name: ", indent, indent);
	yaml_str(f, z);
	if (d->o.nprimary > 0) {
		fprintf(f, "\n%s    primary: ", indent);
		yaml_addrs(f, d->o.primary, d->o.nprimary, d->o.nprimary > 1);
	}
	if (d->o.nns > 0) {
		fprintf(f, "\n%s    ns: ", indent);
		yaml_addrs(f, d->o.ns, d->o.nns, true);
	}
	fputc('\n', f);
}

static json_t *addrs_json(const ss_addr_t *a, size_t n)
{
	char as[SS_ADDR_STRLEN];
	json_t *arr = json_array();
	for (size_t i = 0; arr != NULL && i < n; i++) {
		json_array_append_new(arr, json_string(ss_addr_format(&a[i], as, sizeof(as))));
	}
	return arr;
}

/* {"zones": [{"name", "primary", "ns"}]}: what the YAML lines say (one
 * primary is a string, several a list). */
static json_t *monitor_json(const ss_doctor_t *d)
{
	char z[1024];
	zone_name(z, sizeof(z), zone_of(d));
	json_t *zone = json_pack("{s:s}", "name", z);
	if (zone != NULL && d->o.nprimary == 1) {
		char as[SS_ADDR_STRLEN];
		json_object_set_new(zone, "primary",
		                    json_string(ss_addr_format(d->o.primary, as, sizeof(as))));
	} else if (zone != NULL && d->o.nprimary > 1) {
		json_object_set_new(zone, "primary", addrs_json(d->o.primary, d->o.nprimary));
	}
	if (zone != NULL && d->o.nns > 0) {
		json_object_set_new(zone, "ns", addrs_json(d->o.ns, d->o.nns));
	}
	return json_pack("{s:[o]}", "zones", zone);
}

static json_t *steps_json(const ss_doctor_t *d)
{
	json_t *steps = json_array();
	for (int i = 0; steps != NULL && i < SS_DOCTOR_NSTEPS; i++) {
		const ss_doctor_step_t *s = &d->steps[i];
		json_array_append_new(steps, json_pack("{s:i, s:s, s:s, s:s, s:o}", "step", i + 1,
		                                       "name", ss_step_name(i), "status",
		                                       ss_step_status_name(s->status), "observed",
		                                       s->observed ? s->observed : "", "servers",
		                                       addrs_json(s->servers, s->nservers)));
	}
	return steps;
}

static json_t *actions_json(const ss_doctor_t *d)
{
	json_t *arr = json_array();
	for (size_t i = 0; arr != NULL && i < d->nactions; i++) {
		const ss_doctor_action_t *a = &d->actions[i];
		json_array_append_new(arr, json_pack("{s:s, s:s, s:s}", "action",
		                                     ss_action_name(a->kind), "target", a->target,
		                                     "result", a->result));
	}
	return arr;
}

static int end_json(render_doctor_t *r, const ss_doctor_t *d, const ss_zone_result_t *res)
{
	json_t *findings = render_findings_json(res);
	json_t *own = render_findings_json(&d->own);
	json_array_extend(findings, own);
	json_decref(own);
	return render_json_line(
	    r->out,
	    json_pack("{s:s, s:b, s:s, s:o, s:o, s:o, s:o, s:o}", "zone", zone_of(d), "converged",
	              d->converged, "verdict", ss_doctor_verdict_name(d->verdict),
	              "reference_serial",
	              res->has_reference ? json_integer(res->reference_serial) : json_null(),
	              "steps", steps_json(d), "findings", findings, "actions", actions_json(d),
	              "monitor", monitor_json(d)));
}

/* The last line: the verdict of the whole run. */
static void verdict_line(FILE *f, const ss_doctor_t *d, const ss_zone_result_t *res)
{
	ss_step_status_t pub = d->steps[SS_STEP_PUBLISHED].status;
	switch (d->verdict) {
	case SS_DOCTOR_CONVERGED:
		fprintf(f, "%s: every server serves the same serial\n", zone_of(d));
		break;
	case SS_DOCTOR_NOT_CONVERGED:
		fprintf(f, "%s: NOT converged\n", zone_of(d));
		break;
	case SS_DOCTOR_FILE_NOT_SERVED:
		if (pub == SS_STEP_PROBLEM || pub == SS_STEP_FAILED) {
			fprintf(f,
			        "%s: NOT healed: every server serves %" PRIu32
			        ", but the zone file has %" PRIu32 " (step 2, published)\n",
			        zone_of(d), res->reference_serial, res->obs.zonefile_serial);
		} else {
			fprintf(f,
			        "%s: NOT healed: every server serves %" PRIu32
			        ", but the zone file's data differs at that serial (step 3, "
			        "serial-raised)\n",
			        zone_of(d), res->reference_serial);
		}
		break;
	case SS_DOCTOR_NO_REFERENCE:
		fprintf(f, "%s: NOT converged: no server answered with the zone's SOA\n",
		        zone_of(d));
		break;
	}
}

int render_doctor_end(render_doctor_t *r, const ss_doctor_t *d, const ss_zone_result_t *res)
{
	render_doctor_progress_clear(r);
	if (r->json) {
		return end_json(r, d, res);
	}
	render_doctor_update(r, d);
	render_check_table(r->out, res, false);
	render_findings_text(r->out, &d->own, false);
	verdict_line(r->out, d, res);
	fflush(r->out);
	return 0;
}
