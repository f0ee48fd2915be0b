/*
 * soasync doctor: the troubleshooting path, step by step, with what each
 * step observed; with --fix the safe repairs (reload a zone file that was
 * never published, raise a serial that was not raised, NOTIFY the
 * laggards), each confirmed unless --yes, then wait until every server
 * serves the same serial (and data).
 */
#include <getopt.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <jansson.h>

#include <soasync/doctor.h>
#include <soasync/error.h>
#include <soasync/notify.h>
#include <soasync/serial.h>
#include <soasync/zone.h>

#include "bump.h"
#include "opts.h"
#include "render.h"
#include "session.h"

static const char doctor_help[] =
    "Usage: soasync doctor [options] ZONE\n"
    "\n"
    "Walk the troubleshooting path for ZONE and report what each step observed:\n"
    "  1 serials      the SOA serial on every authoritative address\n"
    "  2 published    --zonefile: was the file loaded on the primary?\n"
    "  3 serial-raised --zonefile/--content: was the serial raised with the data?\n"
    "  4 direction    serial direction and sanity (a regression gets a plan)\n"
    "  5 source       --candidate-primary: does a secondary pull from a stale copy?\n"
    "  6 notify       NOTIFY the servers that are behind (--fix)\n"
    "  7 transfer     did they move after the NOTIFY? if not, why not\n"
    "  8 converge     every server serves the same serial (and data with --content)\n"
    "  9 guard        keep it from drifting again\n"
    "\n"
    "Repairs (--fix; each asked first unless --yes):\n"
    "  --fix                    reload a zone file ahead of what is served (with\n"
    "                           --reload-cmd), raise its serial when the data changed\n"
    "                           without it, NOTIFY the laggards, then wait and re-check\n"
    "  --yes                    do not ask\n"
    "  --reload-cmd CMD         how to load the zone file on the primary (run with sh -c;\n"
    "                           SOASYNC_ZONE and SOASYNC_ZONEFILE set), e.g.\n"
    "                           'rndc reload example.com'\n"
    "  --zonefile FILE          the source of truth for the zone\n"
    "  --policy P               how to raise the serial: increment (default), date,\n"
    "                           unixtime\n"
    "  --content                compare the data too (zone transfers)\n"
    "  --candidate-primary ADDR[#PORT]  a server a secondary might pull from\n"
    "  --tsig-key FILE, -y [ALG:]NAME:SECRET  sign transfers and NOTIFY (ALG default\n"
    "                           hmac-sha256)\n"
    "  --notify-wait S          how long a secondary may take to move after a NOTIFY\n"
    "                           (default 15)\n"
    "  --timeout S              how long to wait for convergence at the end (120)\n"
    "%s"
    "%s"
    "Output:\n"
    "  --json                   one JSON object: steps, findings, actions\n"
    "  -h, --help               this help\n"
    "\n"
    "Exit status: 0 when every server serves the same serial (and data with --content)\n"
    "at the end, 2 otherwise, 3 on usage or lookup errors.\n";

enum {
	OPT_FIX = OPT_NET_LAST + 1,
	OPT_YES,
	OPT_RELOAD,
	OPT_ZONEFILE,
	OPT_POLICY,
	OPT_CONTENT,
	OPT_CANDIDATE,
	OPT_NOTIFY_WAIT,
	OPT_WAIT_TIMEOUT,
};

typedef enum { ST_OK, ST_PROBLEM, ST_FIXED, ST_FAILED, ST_SKIPPED, ST_ADVICE } step_status_t;

static const char *status_name[] = {"ok", "problem", "fixed", "failed", "skipped", "advice"};

#define NSTEPS 9

typedef struct {
	step_status_t status;
	char *observed;
} step_t;

typedef struct {
	cli_net_t net;
	cli_tsig_t tsig;
	cli_xfr_t xfr;
	bool fix, yes, json;
	const char *reload_cmd, *zonefile, *zone;
	ss_bump_policy_t policy;
	ss_content_opts_t content;
	ss_addr_t *candidates;
	size_t ncandidates;
	unsigned notify_wait_s, timeout_s;

	cli_session_t s;
	cli_probe_where_t where;
	ss_zone_result_t cur; /* the latest probe */
	step_t steps[NSTEPS];
	json_t *actions;
	ss_finding_t *extra; /* doctor's own findings, kept across probes */
	size_t nextra;
	ss_zone_result_t scratch; /* where doctor's findings are built */
} doctor_t;

static const char *step_names[NSTEPS] = {"serials",   "published", "serial-raised",
                                         "direction", "source",    "notify",
                                         "transfer",  "converge",  "guard"};

/* ---- arguments ------------------------------------------------------------ */

static int parse_args(doctor_t *d, int argc, char **argv)
{
	static const struct option longopts[] = {
	    CLI_NET_LONGOPTS,
	    CLI_TSIG_LONGOPT,
	    CLI_JSON_LONGOPT,
	    CLI_XFR_LONGOPTS,
	    {"fix", no_argument, NULL, OPT_FIX},
	    {"yes", no_argument, NULL, OPT_YES},
	    {"reload-cmd", required_argument, NULL, OPT_RELOAD},
	    {"zonefile", required_argument, NULL, OPT_ZONEFILE},
	    {"policy", required_argument, NULL, OPT_POLICY},
	    {"content", no_argument, NULL, OPT_CONTENT},
	    {"candidate-primary", required_argument, NULL, OPT_CANDIDATE},
	    {"notify-wait", required_argument, NULL, OPT_NOTIFY_WAIT},
	    {"timeout", required_argument, NULL, OPT_WAIT_TIMEOUT},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	cli_shared_t sh = {
	    .cmd = "doctor", .net = &d->net, .tsig = &d->tsig, .json = &d->json, .xfr = &d->xfr};
	int opt = 0, r = 0;
	while (r == 0 &&
	       (opt = cli_getopt(argc, argv, CLI_NET_SHORTOPTS "hy:", longopts, &sh)) >= 0) {
		switch (opt) {
		case 'h':
			printf(doctor_help, cli_xfr_help, cli_net_help);
			return 1;
		case OPT_FIX:
			d->fix = true;
			break;
		case OPT_YES:
			d->yes = true;
			break;
		case OPT_RELOAD:
			d->reload_cmd = optarg;
			break;
		case OPT_ZONEFILE:
			d->zonefile = optarg;
			break;
		case OPT_POLICY:
			if (ss_bump_policy_parse(optarg, &d->policy) != 0) {
				cli_err("--policy: expected increment, date or unixtime, got '%s'",
				        optarg);
				r = -1;
			}
			break;
		case OPT_CONTENT:
			d->content.all = true;
			break;
		case OPT_CANDIDATE:
			r = cli_parse_addr_list("--candidate-primary", optarg, &d->candidates,
			                        &d->ncandidates);
			break;
		case OPT_NOTIFY_WAIT:
			r = cli_parse_uint("--notify-wait", optarg, 1, 3600, &d->notify_wait_s);
			break;
		case OPT_WAIT_TIMEOUT:
			r = cli_parse_uint("--timeout", optarg, 1, 86400, &d->timeout_s);
			break;
		}
	}
	if (r != 0 || opt == -2 || (d->zone = cli_one_zone("doctor", argc, argv)) == NULL) {
		return -1;
	}
	if (d->zonefile != NULL && access(d->zonefile, R_OK) != 0) {
		cli_err("%s: cannot read the zone file", d->zonefile);
		return -1;
	}
	return cli_net_finish(&d->net, d->net.nns == 0);
}

/* ---- steps, actions, findings ----------------------------------------------- */

static void step(doctor_t *d, int i, step_status_t st, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static void step(doctor_t *d, int i, step_status_t st, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	free(d->steps[i].observed);
	if (vasprintf(&d->steps[i].observed, fmt, ap) < 0) {
		d->steps[i].observed = NULL;
	}
	va_end(ap);
	d->steps[i].status = st;
}

static void action(doctor_t *d, const char *what, const char *target, const char *result)
{
	json_array_append_new(d->actions, json_pack("{s:s, s:s, s:s}", "action", what, "target",
	                                            target, "result", result));
	if (!d->json) {
		fprintf(stderr, "soasync: %s: %s %s: %s\n", d->cur.obs.zone_str, what, target,
		        result);
	}
}

/* Ask before a repair (unless --yes); without a terminal the answer is no. */
static bool confirm(doctor_t *d, const char *what)
{
	if (d->yes) {
		return true;
	}
	if (!isatty(STDIN_FILENO)) {
		action(d, "skipped", what, "not confirmed (no terminal to ask: use --yes)");
		return false;
	}
	fprintf(stderr, "soasync: doctor: %s? [y/N] ", what);
	fflush(stderr);
	char line[16] = "";
	bool yes = fgets(line, sizeof(line), stdin) != NULL && (line[0] == 'y' || line[0] == 'Y');
	if (!yes) {
		action(d, "skipped", what, "declined");
	}
	return yes;
}

/* Keep doctor's own findings (they outlive each re-probe). */
static void keep_findings(doctor_t *d)
{
	for (size_t i = 0; i < d->scratch.nfindings; i++) {
		ss_finding_t *grown = realloc(d->extra, (d->nextra + 1) * sizeof(*grown));
		if (grown == NULL) {
			break;
		}
		d->extra = grown;
		d->extra[d->nextra++] = d->scratch.findings[i];
	}
	free(d->scratch.findings);
	d->scratch.findings = NULL;
	d->scratch.nfindings = 0;
}

static const ss_finding_t *find(const ss_zone_result_t *r, ss_fcode_t code)
{
	for (size_t i = 0; i < r->nfindings; i++) {
		if (r->findings[i].id == code) {
			return &r->findings[i];
		}
	}
	return NULL;
}

static const ss_server_obs_t *server_at(const ss_zone_result_t *r, const ss_addr_t *a)
{
	for (size_t i = 0; i < r->obs.nservers; i++) {
		if (ss_addr_equal(&r->obs.servers[i].addr, a)) {
			return &r->obs.servers[i];
		}
	}
	return NULL;
}

/* ---- 1: serials ------------------------------------------------------------- */

static void step_serials(doctor_t *d)
{
	const ss_zone_result_t *r = &d->cur;
	const ss_fcode_t codes[] = {SS_F_SERIAL_BEHIND,    SS_F_PRIMARY_BEHIND,
	                            SS_F_SERIAL_UNDEFINED, SS_F_SERVFAIL,
	                            SS_F_UNREACHABLE,      SS_F_NOT_AUTHORITATIVE};
	char pa[SS_ADDR_STRLEN];
	if (!r->has_reference) {
		step(d, 0, ST_PROBLEM, "no server answered with the zone's SOA");
		return;
	}
	size_t problems = 0;
	for (size_t i = 0; i < sizeof(codes) / sizeof(codes[0]); i++) {
		problems += find(r, codes[i]) != NULL;
	}
	size_t at = 0, total = 0;
	for (size_t i = 0; i < r->obs.nservers; i++) {
		total++;
		at += r->obs.servers[i].has_soa &&
		      r->obs.servers[i].soa.serial == r->reference_serial;
	}
	step(d, 0, problems ? ST_PROBLEM : ST_OK,
	     "%zu of %zu addresses serve the reference %u (%s)", at, total, r->reference_serial,
	     r->has_primary ? ss_addr_format(&r->primary, pa, sizeof(pa)) : "highest, no primary");
}

/* ---- 2 and 3: the zone file -------------------------------------------------- */

static int run_reload(doctor_t *d)
{
	if (d->reload_cmd == NULL) {
		action(d, "reload", "primary", "not possible: give --reload-cmd CMD");
		return -1;
	}
	if (!confirm(d, d->reload_cmd)) {
		return -1;
	}
	setenv("SOASYNC_ZONE", d->cur.obs.zone_str, 1);
	setenv("SOASYNC_ZONEFILE", d->zonefile ? d->zonefile : "", 1);
	/* The command talks on our stderr: stdout is the report (JSON). */
	fflush(stdout);
	int saved = dup(STDOUT_FILENO);
	dup2(STDERR_FILENO, STDOUT_FILENO);
	int st = system(d->reload_cmd);
	if (saved >= 0) {
		dup2(saved, STDOUT_FILENO);
		close(saved);
	}
	bool ok = st != -1 && WIFEXITED(st) && WEXITSTATUS(st) == 0;
	char res[64];
	snprintf(res, sizeof(res), ok ? "done" : "failed (exit %d)",
	         st != -1 && WIFEXITED(st) ? WEXITSTATUS(st) : -1);
	action(d, "reload", d->reload_cmd, res);
	return ok ? 0 : -1;
}

static bool primary_at(const ss_zone_result_t *r, void *arg)
{
	const uint32_t *want = arg;
	return r->has_reference && ss_serial_cmp(r->reference_serial, *want) != SS_SERIAL_LESS;
}

/* After a reload: poll until the primary serves the file's serial. */
static bool wait_primary(doctor_t *d, uint32_t serial)
{
	uint64_t deadline = uv_hrtime() + (uint64_t)d->notify_wait_s * 1000000000u;
	return cli_probe_until(&d->s, &d->net, &d->where, d->zone, deadline, primary_at, NULL,
	                       &serial, &d->cur) == 1;
}

static void step_published(doctor_t *d)
{
	const ss_finding_t *f = find(&d->cur, SS_F_ZONEFILE_NOT_PUBLISHED);
	if (d->zonefile == NULL) {
		step(d, 1, ST_SKIPPED, "no --zonefile");
		return;
	}
	if (f == NULL) {
		step(d, 1, ST_OK, "the primary serves the zone file's serial %u or later",
		     d->cur.obs.zonefile_serial);
		return;
	}
	uint32_t want = d->cur.obs.zonefile_serial;
	if (!d->fix) {
		step(d, 1, ST_PROBLEM, "%s (--fix --reload-cmd CMD loads it)", f->message);
		return;
	}
	/* The finding belongs to the probe the repair replaces: keep its words. */
	char *seen = strdup(f->message);
	bool ok = run_reload(d) == 0 && wait_primary(d, want);
	step(d, 1, ok ? ST_FIXED : ST_FAILED, "%s; %s", seen ? seen : "",
	     ok ? "reloaded: the primary serves it now" : "still not served");
	free(seen);
}

static void step_raised(doctor_t *d)
{
	const ss_finding_t *nb = find(&d->cur, SS_F_SERIAL_NOT_BUMPED);
	const ss_finding_t *sd = find(&d->cur, SS_F_SAME_SERIAL_DIFFERENT_DATA);
	const ss_finding_t *f = nb ? nb : sd;
	if (d->zonefile == NULL && !d->content.all) {
		step(d, 2, ST_SKIPPED, "no --zonefile or --content");
		return;
	}
	if (f == NULL) {
		step(d, 2, ST_OK, "no data changed without a serial change");
		return;
	}
	if (!d->fix || d->zonefile == NULL) {
		step(d, 2, ST_PROBLEM, "%s%s", f->message,
		     d->zonefile ? " (--fix raises the serial in the file and reloads it)"
		                 : " (give --zonefile FILE to let --fix raise the serial)");
		return;
	}
	char what[600];
	snprintf(what, sizeof(what), "raise the serial in %s", d->zonefile);
	char *seen = strdup(f->message); /* f goes with the probe the repair replaces */
	uint32_t old = 0, next = 0;
	cli_bump_t b;
	cli_bump_init(&b);
	b.opts.policy = d->policy;
	b.quiet = true;
	b.origin = d->cur.obs.zone_str;
	b.opts.has_above = d->cur.has_reference;
	b.opts.above = d->cur.reference_serial;
	bool ok = cli_now(&b.opts.now) == 0 && confirm(d, what) &&
	          cli_bump_file(&b, d->zonefile, &old, &next) == 0;
	if (ok) {
		char res[64];
		snprintf(res, sizeof(res), "%u -> %u", old, next);
		action(d, "bump", d->zonefile, res);
		ok = run_reload(d) == 0 && wait_primary(d, next);
	}
	step(d, 2, ok ? ST_FIXED : ST_FAILED, "%s; %s", seen ? seen : "",
	     ok ? "serial raised and reloaded" : "not repaired");
	free(seen);
}

/* ---- 4 and 5: direction, source ---------------------------------------------- */

static void step_direction(doctor_t *d)
{
	const ss_fcode_t codes[] = {SS_F_PRIMARY_BEHIND, SS_F_SERIAL_UNDEFINED, SS_F_SERIAL_SANITY};
	for (size_t i = 0; i < sizeof(codes) / sizeof(codes[0]); i++) {
		const ss_finding_t *f = find(&d->cur, codes[i]);
		if (f != NULL) {
			/* Lowering serials is the operator's call: doctor only plans it. */
			step(d, 3, ST_PROBLEM, "%s; %s", f->message, f->fix ? f->fix : "");
			return;
		}
	}
	step(d, 3, d->cur.has_reference ? ST_OK : ST_SKIPPED, "%s",
	     d->cur.has_reference ? "no server is ahead of the reference; the serial looks sane"
	                          : "no serial to judge");
}

static void step_source(doctor_t *d)
{
	const ss_finding_t *f = find(&d->cur, SS_F_SECONDARY_WRONG_SOURCE);
	if (d->ncandidates == 0) {
		step(d, 4, ST_SKIPPED, "no --candidate-primary");
	} else if (f != NULL) {
		step(d, 4, ST_PROBLEM, "%s; %s", f->message, f->fix ? f->fix : "");
	} else {
		step(d, 4, ST_OK, "no secondary holds a candidate's copy instead of the primary's");
	}
}

/* ---- 6, 7: NOTIFY and transfers ----------------------------------------------- */

typedef struct {
	ss_notify_result_t *res;
	size_t n;
} notified_t;

static void notified(const ss_notify_result_t *r, void *arg)
{
	notified_t *nt = arg;
	nt->res[nt->n++] = *r;
}

typedef struct {
	const ss_addr_t *acked;
	size_t n;
	uint32_t serial;
} moved_t;

static bool all_moved(const ss_zone_result_t *r, void *arg)
{
	const moved_t *m = arg;
	for (size_t i = 0; i < m->n; i++) {
		const ss_server_obs_t *s = server_at(r, &m->acked[i]);
		if (s == NULL || !s->has_soa ||
		    ss_serial_cmp(s->soa.serial, m->serial) == SS_SERIAL_LESS) {
			return false;
		}
	}
	return true;
}

/* NOTIFY each laggard (confirmed), returning the acknowledged ones in acked. */
static size_t notify_laggards(doctor_t *d, const ss_addr_t *lag, size_t n, ss_addr_t *acked,
                              size_t *sent)
{
	const ss_zone_result_t *r = &d->cur;
	long ref = ss_zone_reference_server(r);
	knot_rrset_t *soa =
	    ref >= 0 ? ss_soa_to_rrset(r->obs.zone, &r->obs.servers[ref].soa) : NULL;
	notified_t nt = {calloc(n + 1, sizeof(*nt.res)), 0};
	for (size_t i = 0; soa != NULL && nt.res != NULL && i < n; i++) {
		char a[SS_ADDR_STRLEN], what[128];
		snprintf(what, sizeof(what), "NOTIFY %s", ss_addr_format(&lag[i], a, sizeof(a)));
		if (confirm(d, what) &&
		    ss_notify_send(d->s.e, r->obs.zone, soa, &lag[i],
		                   d->tsig.have ? &d->tsig.key : NULL, 10000, notified, &nt) == 0) {
			(*sent)++;
		}
	}
	cli_session_run(&d->s);
	size_t nacked = 0;
	for (size_t i = 0; i < nt.n; i++) {
		char a[SS_ADDR_STRLEN];
		const ss_server_obs_t *s = server_at(r, &nt.res[i].target);
		ss_addr_format(&nt.res[i].target, a, sizeof(a));
		action(d, "notify", a, ss_notify_status_name(nt.res[i].status));
		if (nt.res[i].status == SS_NOTIFY_ACKED) {
			acked[nacked++] = nt.res[i].target;
		} else if (nt.res[i].status == SS_NOTIFY_REFUSED && s != NULL) {
			ss_doctor_notify_refused(&d->scratch, s, nt.res[i].rcode,
			                         nt.res[i].tsig_error);
		}
	}
	keep_findings(d);
	free(nt.res);
	knot_rrset_free(soa, NULL);
	return nacked;
}

static void step_notify_transfer(doctor_t *d)
{
	ss_addr_t lag[128], acked[128];
	size_t n = ss_zone_laggards(&d->cur, false, lag, 128);
	if (n == 0) {
		step(d, 5, ST_OK, "no server is behind: nothing to notify");
		step(d, 6, ST_OK, "nothing to transfer");
		return;
	}
	if (!d->fix) {
		step(d, 5, ST_PROBLEM, "%zu server%s behind: --fix sends them a NOTIFY", n,
		     n > 1 ? "s are" : " is");
		step(d, 6, ST_SKIPPED, "not tried without --fix");
		return;
	}
	size_t sent = 0;
	size_t nacked = notify_laggards(d, lag, n, acked, &sent);
	if (sent == 0) {
		step(d, 5, ST_SKIPPED, "%zu server%s behind; no NOTIFY sent (not confirmed)", n,
		     n > 1 ? "s are" : " is");
		step(d, 6, ST_SKIPPED, "nothing was notified");
		return;
	}
	step(d, 5, nacked == sent ? ST_FIXED : ST_FAILED, "%zu of %zu acknowledged the NOTIFY",
	     nacked, sent);
	moved_t m = {acked, nacked, d->cur.reference_serial};
	uint64_t deadline = uv_hrtime() + (uint64_t)d->notify_wait_s * 1000000000u;
	bool moved = nacked == 0 || cli_probe_until(&d->s, &d->net, &d->where, d->zone, deadline,
	                                            all_moved, NULL, &m, &d->cur) == 1;
	size_t stuck = 0;
	for (size_t i = 0; !moved && i < nacked; i++) {
		const ss_server_obs_t *s = server_at(&d->cur, &acked[i]);
		if (s != NULL && s->has_soa &&
		    ss_serial_cmp(s->soa.serial, m.serial) == SS_SERIAL_LESS) {
			ss_doctor_not_transferring(&d->scratch, s, d->notify_wait_s);
			stuck++;
		}
	}
	keep_findings(d);
	if (stuck > 0) {
		step(d, 6, ST_PROBLEM,
		     "%zu server%s acknowledged the NOTIFY but did not transfer "
		     "within %u s (see secondary-not-transferring)",
		     stuck, stuck > 1 ? "s" : "", d->notify_wait_s);
	} else if (nacked > 0) {
		step(d, 6, ST_FIXED, "%zu notified server%s transferred the zone", nacked,
		     nacked > 1 ? "s" : "");
	} else {
		step(d, 6, ST_FAILED, "no server acknowledged the NOTIFY: nothing could transfer");
	}
}

/* ---- 8, 9 ----------------------------------------------------------------------- */

static bool converged_pred(const ss_zone_result_t *r, void *arg)
{
	return ss_zone_converged(r, *(bool *)arg);
}

static void step_converge(doctor_t *d)
{
	bool content = d->content.all;
	bool ok = ss_zone_converged(&d->cur, content);
	if (!ok && d->fix) {
		uint64_t deadline = uv_hrtime() + (uint64_t)d->timeout_s * 1000000000u;
		ok = cli_probe_until(&d->s, &d->net, &d->where, d->zone, deadline, converged_pred,
		                     NULL, &content, &d->cur) == 1;
	}
	step(d, 7, ok ? ST_OK : ST_PROBLEM,
	     ok ? "every server serves %u%s" : "not converged: the reference is %u%s",
	     d->cur.reference_serial,
	     content ? (ok ? " with the same data" : " (data compared)") : "");
}

static void step_guard(doctor_t *d)
{
	if (d->zonefile != NULL) {
		step(d, 8, ST_ADVICE,
		     "refuse unbumped edits before they ship: soasync guard --install-hook in the "
		     "repository of %s; and monitor: soasync check --nagios %s",
		     d->zonefile, d->cur.obs.zone_str);
	} else {
		step(d, 8, ST_ADVICE,
		     "monitor: soasync check --nagios %s (add --content to compare "
		     "data); keep zone files under soasync guard",
		     d->cur.obs.zone_str);
	}
}

/* ---- output -------------------------------------------------------------------- */

static json_t *all_findings_json(const doctor_t *d)
{
	json_t *arr = render_findings_json(&d->cur);
	ss_zone_result_t tmp = {0};
	tmp.findings = d->extra;
	tmp.nfindings = d->nextra;
	json_t *extra = render_findings_json(&tmp);
	json_array_extend(arr, extra);
	json_decref(extra);
	return arr;
}

static void print(const doctor_t *d, bool converged)
{
	if (d->json) {
		json_t *steps = json_array();
		for (int i = 0; i < NSTEPS; i++) {
			json_array_append_new(
			    steps,
			    json_pack("{s:i, s:s, s:s, s:s}", "step", i + 1, "name", step_names[i],
			              "status", status_name[d->steps[i].status], "observed",
			              d->steps[i].observed ? d->steps[i].observed : ""));
		}
		json_incref(d->actions);
		render_json_line(
		    stdout, json_pack("{s:s, s:b, s:o, s:o, s:o, s:o}", "zone", d->cur.obs.zone_str,
		                      "converged", converged, "reference_serial",
		                      d->cur.has_reference ? json_integer(d->cur.reference_serial)
		                                           : json_null(),
		                      "steps", steps, "findings", all_findings_json(d), "actions",
		                      d->actions));
		return;
	}
	printf("doctor %s\n", d->cur.obs.zone_str);
	for (int i = 0; i < NSTEPS; i++) {
		printf("  %d %-14s %-8s %s\n", i + 1, step_names[i],
		       status_name[d->steps[i].status],
		       d->steps[i].observed ? d->steps[i].observed : "");
	}
	render_check_table(stdout, &d->cur, false);
	ss_zone_result_t tmp = {0};
	tmp.findings = d->extra;
	tmp.nfindings = d->nextra;
	render_findings_text(stdout, &tmp, false);
	printf("%s: %s\n", d->cur.obs.zone_str,
	       converged ? "every server serves the same serial" : "NOT converged");
}

/* ---- run ----------------------------------------------------------------------- */

static int run(doctor_t *d)
{
	d->content.zonefile = d->zonefile;
	d->content.candidates = d->candidates;
	d->content.ncandidates = d->ncandidates;
	d->content.tsig = d->tsig.have ? &d->tsig.key : NULL;
	if (cli_session_open(&d->s, &d->net) != 0) {
		return EXIT_UNKNOWN;
	}
	d->where = cli_probe_where(&d->net);
	d->where.content = &d->content;
	cli_fixed_t fixed = {0};
	int code = EXIT_UNKNOWN;
	if (cli_probe(&d->s, &d->net, &d->where, d->zone, &d->cur) != 0) {
		goto fail;
	}
	if (d->cur.obs.nservers == 0 || d->cur.obs.not_found) {
		const ss_finding_t *f = d->cur.nfindings ? &d->cur.findings[0] : NULL;
		cli_zerr(d->cur.obs.zone_str, "%s", f ? f->message : "no server found");
		goto fail;
	}
	/* From now on the same addresses, without discovery. */
	if (cli_probe_fixed(&d->cur, &fixed, &d->where) != 0) {
		goto fail;
	}
	d->where.no_vendor = false;
	step_serials(d);
	step_published(d);
	step_raised(d);
	step_direction(d);
	step_source(d);
	step_notify_transfer(d);
	step_converge(d);
	step_guard(d);
	bool converged = ss_zone_converged(&d->cur, d->content.all);
	/* Servers that agree on an unpublished or unbumped file are not healed. */
	bool file_ok = d->steps[1].status != ST_PROBLEM && d->steps[1].status != ST_FAILED &&
	               d->steps[2].status != ST_PROBLEM && d->steps[2].status != ST_FAILED;
	print(d, converged);
	code = converged && file_ok ? EXIT_OK_ : EXIT_CRITICAL;
fail:
	cli_fixed_free(&fixed);
	cli_session_close(&d->s);
	return code;
}

int cmd_doctor(int argc, char **argv)
{
	doctor_t *d = calloc(1, sizeof(*d));
	if (d == NULL) {
		cli_err("out of memory");
		return EXIT_UNKNOWN;
	}
	d->notify_wait_s = 15;
	d->timeout_s = 120;
	d->actions = json_array();
	cli_net_init(&d->net);
	int ret = parse_args(d, argc, argv);
	int code = ret > 0 ? EXIT_OK_ : ret < 0 ? EXIT_UNKNOWN : run(d);
	for (int i = 0; i < NSTEPS; i++) {
		free(d->steps[i].observed);
	}
	ss_zone_result_clear(&d->cur);
	d->scratch.findings = d->extra;
	d->scratch.nfindings = d->nextra;
	ss_zone_result_clear(&d->scratch);
	json_decref(d->actions);
	cli_tsig_free(&d->tsig);
	free(d->candidates);
	cli_net_free(&d->net);
	free(d);
	return code;
}
