/*
 * soasync doctor: the troubleshooting path, step by step, with what each
 * step observed; with --fix the safe repairs (reload a zone file that was
 * never published, raise a serial that was not raised, NOTIFY the
 * laggards), each confirmed unless --yes, then the wait until every server
 * serves the same serial (and data), as long as waiting can still change
 * the outcome and never past --deadline. Like kdig's params/exec/print
 * split: this file parses the arguments and does the work (probes, prompts,
 * the reload command, NOTIFYs); lib/doctor.c judges every step and the
 * run; render_doctor.c prints.
 */
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <soasync/doctor.h>
#include <soasync/error.h>
#include <soasync/notify.h>
#include <soasync/zone.h>

#include "bump.h"
#include "opts.h"
#include "render_doctor.h"
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
    "  9 guard        keep it from drifting again (soasync monitor's config lines)\n"
    "\n"
    "Repairs (--fix; each asked first unless --yes):\n"
    "  --fix                    reload a zone file ahead of what is served (with\n"
    "                           --reload-cmd), raise its serial when the data changed\n"
    "                           without it, NOTIFY the laggards, then wait and re-check\n"
    "                           while waiting can still help\n"
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
    "  --notify-wait DURATION   how long a secondary may take to move after a NOTIFY,\n"
    "                           and the primary after a reload (default 15s)\n"
    "  --deadline DURATION      the whole run's limit, every query and wait included\n"
    "                           (default 2m; 90s, 1500ms...; a bare number counts\n"
    "                           seconds, here and in --notify-wait)\n"
    "%s"
    "%s"
    "Output:\n"
    "  --json                   one JSON object: steps, findings, actions\n"
    "  -h, --help               this help\n"
    "\n"
    "Exit status: 0 when every server serves the same serial (and data with --content)\n"
    "at the end and the zone file (--zonefile) is what they serve, 2 otherwise, 3 on\n"
    "usage or lookup errors.\n";

enum {
	OPT_FIX = OPT_NET_LAST + 1,
	OPT_YES,
	OPT_RELOAD,
	OPT_ZONEFILE,
	OPT_POLICY,
	OPT_CONTENT,
	OPT_CANDIDATE,
	OPT_NOTIFY_WAIT,
	OPT_DEADLINE,
	OPT_DEADLINE_OLD,
};

typedef struct {
	/* the arguments */
	cli_net_t net;
	cli_tsig_t tsig;
	cli_xfr_t xfr;
	bool fix, yes, json;
	const char *reload_cmd, *zonefile, *zone;
	ss_bump_policy_t policy;
	ss_content_opts_t content;
	ss_addr_t *candidates;
	size_t ncandidates;
	uint64_t notify_wait_ms, deadline_ms;

	/* the run */
	cli_session_t s;
	cli_probe_where_t where; /* full probes: vendors, content */
	cli_probe_where_t poll;  /* waits: no content */
	ss_zone_result_t cur;    /* the latest probe */
	bool polled;             /* cur is a poll, not a full probe */
	ss_doctor_t doc;
	render_doctor_t out;
	uint64_t start, deadline; /* uv_hrtime, ns; prompts move the deadline */
	uint64_t reserve;         /* kept for the last full probe */
} doctor_t;

/* ---- arguments ------------------------------------------------------------ */

static int parse_args(void *arg, int argc, char **argv)
{
	doctor_t *d = arg;
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
	    {"deadline", required_argument, NULL, OPT_DEADLINE},
	    /* the older name of --deadline, kept working */
	    {"timeout", required_argument, NULL, OPT_DEADLINE_OLD},
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
			r = cli_parse_duration("--notify-wait", optarg, 1000, 1000, 3600000,
			                       &d->notify_wait_ms);
			break;
		case OPT_DEADLINE:
		case OPT_DEADLINE_OLD:
			r = cli_parse_duration(opt == OPT_DEADLINE ? "--deadline" : "--timeout",
			                       optarg, 1000, 1000, 86400000, &d->deadline_ms);
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

/* ---- showing, asking ---------------------------------------------------------- */

/* Print what the model has decided so far (text: as it happens). */
static void show(doctor_t *d)
{
	render_doctor_update(&d->out, &d->doc);
}

static void progress(doctor_t *d, ss_step_t step, const char *doing)
{
	render_doctor_progress(&d->out, &d->doc, NULL, step, doing,
	                       (double)(uv_hrtime() - d->start) / 1e9,
	                       (double)(d->deadline - d->start) / 1e9);
}

static void act(doctor_t *d, ss_action_kind_t kind, const char *target, const char *result)
{
	ss_doctor_action(&d->doc, kind, target, "%s", result);
	show(d);
}

/* Ask before a repair (unless --yes); without a terminal the answer is no.
 * The time at the prompt does not count against the deadline. */
static bool confirm(doctor_t *d, const char *what)
{
	if (d->yes) {
		return true;
	}
	if (!isatty(STDIN_FILENO)) {
		act(d, SS_ACTION_SKIPPED, what, "not confirmed (no terminal to ask: use --yes)");
		return false;
	}
	show(d);
	render_doctor_progress_clear(&d->out);
	uint64_t asked = uv_hrtime();
	fprintf(stderr, "soasync: doctor: %s? [y/N] ", what);
	fflush(stderr);
	char line[16] = "";
	bool yes = fgets(line, sizeof(line), stdin) != NULL && (line[0] == 'y' || line[0] == 'Y');
	d->deadline += uv_hrtime() - asked;
	if (!yes) {
		act(d, SS_ACTION_SKIPPED, what, "declined");
	}
	return yes;
}

/* ---- probing and waiting ------------------------------------------------------- */

/* Probe the same addresses again, with vendors and content, within the deadline. */
static int full_probe(doctor_t *d, ss_step_t step)
{
	ss_zone_result_t next;
	if (uv_hrtime() + 100000000u >= d->deadline) {
		return 0; /* no time left: the last poll is the last word */
	}
	progress(d, step, "asking every server");
	cli_session_fit(&d->s, &d->net, d->deadline);
	if (cli_probe(&d->s, &d->net, &d->where, d->zone, &next) != 0) {
		return -1;
	}
	ss_zone_result_clear(&d->cur);
	d->cur = next;
	d->polled = false;
	return 0;
}

typedef struct waiting waiting_t;
struct waiting {
	doctor_t *d;
	ss_step_t step;
	bool (*done)(const waiting_t *w, const ss_zone_result_t *res);
	uint32_t want;
	unsigned rounds;
};

static bool wait_pred(const ss_zone_result_t *res, void *arg)
{
	const waiting_t *w = arg;
	return w->done(w, res);
}

static void wait_round(const ss_zone_result_t *res, void *arg)
{
	waiting_t *w = arg;
	w->rounds++;
	render_doctor_progress(&w->d->out, &w->d->doc, res, w->step, "waiting for",
	                       (double)(uv_hrtime() - w->d->start) / 1e9,
	                       (double)(w->d->deadline - w->d->start) / 1e9);
}

/*
 * Probe again until w->done, for at most wait_ms: the SOA only, or
 * everything with full. The wait ends early enough for the last full probe
 * to fit before the deadline, and every probe it starts has the timeouts it
 * needs (a probe squeezed into the last milliseconds would lose answers and
 * transfers). *allowed_ms: how long it could wait. Returns 1 (done), 0, -1.
 */
static int wait_for(doctor_t *d, waiting_t *w, uint64_t wait_ms, bool full, uint64_t *allowed_ms)
{
	uint64_t now = uv_hrtime();
	uint64_t last = d->deadline > d->reserve ? d->deadline - d->reserve : 0;
	uint64_t until = now + wait_ms * 1000000u;
	if (until > last) {
		until = last > now ? last : now;
	}
	*allowed_ms = (until - now) / 1000000u;
	cli_poll_t poll = {until, d->deadline, wait_pred, wait_round, w};
	int ret =
	    cli_probe_until(&d->s, &d->net, full ? &d->where : &d->poll, d->zone, &poll, &d->cur);
	d->polled |= w->rounds > 0 && !full;
	render_doctor_progress_clear(&d->out);
	return ret;
}

/* ---- 2 and 3: the zone file ----------------------------------------------------- */

static bool primary_serves(const waiting_t *w, const ss_zone_result_t *res)
{
	return ss_doctor_primary_serves(res, w->want);
}

/* After a reload: until the primary serves the file's serial. */
static bool wait_primary(doctor_t *d, ss_step_t step, uint32_t serial)
{
	waiting_t w = {d, step, primary_serves, serial, 0};
	uint64_t allowed;
	return wait_for(d, &w, d->notify_wait_ms, false, &allowed) == 1;
}

static int run_reload(doctor_t *d, ss_step_t step)
{
	char res[64];
	int code = -1;
	if (d->reload_cmd == NULL) {
		act(d, SS_ACTION_RELOAD, "primary", "not possible: give --reload-cmd CMD");
		return -1;
	}
	if (!confirm(d, d->reload_cmd)) {
		return -1;
	}
	setenv("SOASYNC_ZONE", d->cur.obs.zone_str, 1);
	setenv("SOASYNC_ZONEFILE", d->zonefile ? d->zonefile : "", 1);
	progress(d, step, "running the reload command");
	render_doctor_progress_clear(&d->out);
	int ran = cli_session_shell(&d->s, d->reload_cmd, d->deadline, &code);
	if (ran == 1) {
		snprintf(res, sizeof(res), "failed (killed at the deadline)");
	} else {
		snprintf(res, sizeof(res), code == 0 ? "done" : "failed (exit %d)", code);
	}
	act(d, SS_ACTION_RELOAD, d->reload_cmd, res);
	return ran == 0 && code == 0 ? 0 : -1;
}

static int step_published(doctor_t *d)
{
	uint32_t want = 0;
	if (!ss_doctor_published_begin(&d->doc, &d->cur, &want)) {
		return 0;
	}
	bool ok = run_reload(d, SS_STEP_PUBLISHED) == 0 && wait_primary(d, SS_STEP_PUBLISHED, want);
	return ss_doctor_published_end(&d->doc, ok);
}

static int step_raised(doctor_t *d)
{
	uint32_t above = 0, old = 0, next = 0;
	if (!ss_doctor_raised_begin(&d->doc, &d->cur, &above)) {
		return 0;
	}
	char what[600], res[64];
	snprintf(what, sizeof(what), "raise the serial in %s", d->zonefile);
	cli_bump_t b;
	cli_bump_init(&b);
	b.opts.policy = d->policy;
	b.quiet = true;
	b.origin = d->cur.obs.zone_str;
	b.opts.has_above = true;
	b.opts.above = above;
	bool ok = cli_now(&b.opts.now) == 0 && confirm(d, what) &&
	          cli_bump_file(&b, d->zonefile, &old, &next) == 0;
	if (ok) {
		snprintf(res, sizeof(res), "%u -> %u", old, next);
		act(d, SS_ACTION_BUMP, d->zonefile, res);
		ok = run_reload(d, SS_STEP_RAISED) == 0 && wait_primary(d, SS_STEP_RAISED, next);
	}
	return ss_doctor_raised_end(&d->doc, ok);
}

/* ---- 6, 7: NOTIFY and transfers ----------------------------------------------- */

static void notified(const ss_notify_result_t *r, void *arg)
{
	doctor_t *d = arg;
	ss_doctor_notified(&d->doc, &d->cur, r);
}

static bool all_moved(const waiting_t *w, const ss_zone_result_t *res)
{
	return ss_doctor_moved(&w->d->doc, res);
}

/* NOTIFY the targets the user confirms (all with --yes), at once. */
static void send_notifies(doctor_t *d, size_t n)
{
	ss_addr_t *to = calloc(n + 1, sizeof(*to));
	size_t nto = 0;
	for (size_t i = 0; to != NULL && i < n; i++) {
		char a[SS_ADDR_STRLEN], what[128];
		snprintf(what, sizeof(what), "NOTIFY %s",
		         ss_addr_format(&d->doc.targets[i].addr, a, sizeof(a)));
		if (confirm(d, what)) {
			to[nto++] = d->doc.targets[i].addr;
			ss_doctor_notify_sent(&d->doc, i);
		}
	}
	uint64_t now = uv_hrtime();
	uint64_t left = d->deadline > now ? (d->deadline - now) / 1000000u : 0;
	unsigned ms = left > 10000 ? 10000 : left < 100 ? 100 : (unsigned)left;
	if (nto > 0 && ss_notify_zone(d->s.e, &d->cur, to, nto, d->tsig.have ? &d->tsig.key : NULL,
	                              ms, notified, d) == 0) {
		progress(d, SS_STEP_NOTIFY, "waiting for the answers");
		cli_session_run(&d->s);
	}
	free(to);
}

static int step_notify_transfer(doctor_t *d)
{
	long n = ss_doctor_notify_begin(&d->doc, &d->cur);
	if (n <= 0) {
		return n < 0 ? -1 : 0;
	}
	send_notifies(d, (size_t)n);
	if (!ss_doctor_notify_end(&d->doc, &d->cur)) {
		return 0;
	}
	show(d);
	waiting_t w = {d, SS_STEP_TRANSFER, all_moved, 0, 0};
	uint64_t allowed = 0;
	if (wait_for(d, &w, d->notify_wait_ms, false, &allowed) < 0) {
		return -1;
	}
	return ss_doctor_transfer(&d->doc, &d->cur, allowed);
}

/* ---- 8 ------------------------------------------------------------------------- */

static bool settled(const waiting_t *w, const ss_zone_result_t *res)
{
	return !ss_doctor_should_wait(&w->d->doc, res);
}

/* Wait for convergence while waiting can still change the outcome; then the
 * last word comes from a full probe. */
static int wait_converge(doctor_t *d)
{
	uint64_t allowed;
	if (ss_doctor_should_wait(&d->doc, &d->cur)) {
		waiting_t w = {d, SS_STEP_CONVERGE, settled, 0, 0};
		if (wait_for(d, &w, d->deadline_ms, d->content.all, &allowed) < 0) {
			return -1;
		}
	}
	return d->polled ? full_probe(d, SS_STEP_CONVERGE) : 0;
}

/* ---- run ----------------------------------------------------------------------- */

static int first_probe(doctor_t *d)
{
	d->where = cli_probe_where(&d->net);
	d->where.content = &d->content;
	cli_session_fit(&d->s, &d->net, d->deadline);
	if (cli_probe(&d->s, &d->net, &d->where, d->zone, &d->cur) != 0) {
		return -1;
	}
	if (d->cur.obs.nservers == 0 || d->cur.obs.not_found) {
		const ss_finding_t *f = d->cur.nfindings ? &d->cur.findings[0] : NULL;
		cli_zerr(d->cur.obs.zone_str, "%s", f ? f->message : "no server found");
		return -1;
	}
	/* The last probe does the same work (discovery aside): keep as much time
	 * for it, at least a second, at most half the deadline. */
	uint64_t took = uv_hrtime() - d->start, floor = 1000000000u,
	         half = d->deadline_ms * 500000u;
	d->reserve = took > floor ? took : floor;
	d->reserve = d->reserve < half ? d->reserve : half;
	return 0;
}

/* The nine steps in order, each shown as soon as the model decided it. */
static int steps(doctor_t *d)
{
	int ret = ss_doctor_serials(&d->doc, &d->cur);
	show(d);
	ret = ret ? ret : step_published(d);
	show(d);
	ret = ret ? ret : step_raised(d);
	show(d);
	/* After a repair the polls saw only serials: look at everything again. */
	if (ret == 0 && d->polled) {
		ret = full_probe(d, SS_STEP_DIRECTION);
	}
	ret = ret ? ret : ss_doctor_direction(&d->doc, &d->cur);
	ret = ret ? ret : ss_doctor_source(&d->doc, &d->cur);
	show(d);
	ret = ret ? ret : step_notify_transfer(d);
	show(d);
	ret = ret ? ret : wait_converge(d);
	ret = ret ? ret : ss_doctor_converge(&d->doc, &d->cur);
	ret = ret ? ret : ss_doctor_guard(&d->doc, &d->cur);
	show(d);
	return ret;
}

static int run(void *arg)
{
	doctor_t *d = arg;
	d->content.zonefile = d->zonefile;
	d->content.candidates = d->candidates;
	d->content.ncandidates = d->ncandidates;
	d->content.tsig = d->tsig.have ? &d->tsig.key : NULL;
	if (cli_session_open(&d->s, &d->net) != 0) {
		return EXIT_UNKNOWN;
	}
	d->start = uv_hrtime();
	d->deadline = d->start + d->deadline_ms * 1000000u;
	ss_doctor_opts_t o = {d->fix,         d->content.all,  d->zonefile, d->ncandidates,
	                      d->net.primary, d->net.nprimary, d->net.ns,   d->net.nns};
	ss_doctor_init(&d->doc, &o);
	render_doctor_init(&d->out, d->json, isatty(STDERR_FILENO), stdout, stderr);
	cli_fixed_t fixed = {0};
	int code = EXIT_UNKNOWN;
	/* From the first probe on, the same addresses, without discovery. */
	if (first_probe(d) != 0 || cli_probe_fixed(&d->cur, &fixed, &d->where) != 0) {
		goto fail;
	}
	d->where.no_vendor = false;
	/* Polls ask the SOA only (the vendors come from the session's cache). */
	d->poll = d->where;
	d->poll.content = NULL;
	if (steps(d) != 0) {
		cli_zerr(d->cur.obs.zone_str, "out of memory, or a probe failed");
		goto fail;
	}
	code = ss_doctor_exit_status(ss_doctor_finish(&d->doc, &d->cur));
	render_doctor_end(&d->out, &d->doc, &d->cur);
fail:
	render_doctor_progress_clear(&d->out);
	cli_fixed_free(&fixed);
	cli_session_close(&d->s);
	return code;
}

static void done(void *arg)
{
	doctor_t *d = arg;
	ss_zone_result_clear(&d->cur);
	ss_doctor_clear(&d->doc);
	cli_tsig_free(&d->tsig);
	free(d->candidates);
	cli_net_free(&d->net);
}

int cmd_doctor(int argc, char **argv)
{
	static const cli_steps_t steps = {parse_args, run, done};
	doctor_t *d = calloc(1, sizeof(*d));
	if (d == NULL) {
		cli_err("out of memory");
		return EXIT_UNKNOWN;
	}
	d->notify_wait_ms = 15000;
	d->deadline_ms = 120000;
	cli_net_init(&d->net);
	int code = cli_command(&steps, d, argc, argv);
	free(d);
	return code;
}
