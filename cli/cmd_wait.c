/*
 * soasync wait: re-query every server of a zone until all serve at least a
 * serial, or a deadline passes.
 */
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <soasync/error.h>
#include <soasync/wait.h>

#include "opts.h"
#include "render_wait.h"
#include "session.h"

static const char wait_help[] =
    "Usage: soasync wait [options] ZONE\n"
    "\n"
    "Query every authoritative server address of ZONE again and again (with backoff)\n"
    "until each serves at least the target serial, or the deadline passes.\n"
    "\n"
    "  --serial N               the serial to wait for (default: the reference serial\n"
    "                           at the start: the primary's, else the highest)\n"
    "  --deadline DURATION      how long to wait in all, the first queries included\n"
    "                           (default 5m; 90s, 1500ms...; a bare number counts\n"
    "                           seconds)\n"
    "  --dead POLICY            servers that do not answer at all: fail (default: they\n"
    "                           keep the wait going), ignore, or quorum=N (done when N\n"
    "                           servers serve the target)\n"
    "%s"
    "%s"
    "%s"
    "Output:\n"
    "  --json                   one JSON object at the end\n"
    "  -q, --quiet              no progress line (it is shown only on a terminal)\n"
    "  -h, --help               this help\n"
    "\n"
    "Exit status: 0 converged, 2 deadline passed (the servers still behind are named),\n"
    "3 usage or lookup error.\n";

enum { OPT_SERIAL = OPT_NET_LAST + 1, OPT_DEADLINE, OPT_DEADLINE_OLD, OPT_DEAD, OPT_QUIET };

typedef struct {
	cli_net_t net;
	bool have_serial, json, quiet;
	uint32_t serial;
	uint64_t deadline_ms;
	ss_dead_policy_t dead;
	unsigned quorum;
	const char *zone;
	cli_expect_t expect;
	ss_expect_set_t expect_set;
	cli_xfr_t xfr;
} wait_args_t;

static int parse_dead(wait_args_t *a, const char *arg)
{
	if (strcmp(arg, "fail") == 0) {
		a->dead = SS_DEAD_FAIL;
	} else if (strcmp(arg, "ignore") == 0) {
		a->dead = SS_DEAD_IGNORE;
	} else if (strncmp(arg, "quorum=", 7) == 0) {
		a->dead = SS_DEAD_QUORUM;
		return cli_parse_uint("--dead quorum", arg + 7, 1, 1000, &a->quorum);
	} else {
		cli_err("--dead: expected fail, ignore or quorum=N, got '%s'", arg);
		return -1;
	}
	return 0;
}

static int parse_args(void *arg, int argc, char **argv)
{
	wait_args_t *a = arg;
	static const struct option longopts[] = {
	    CLI_NET_LONGOPTS,
	    CLI_EXPECT_LONGOPTS,
	    CLI_JSON_LONGOPT,
	    CLI_XFR_LONGOPTS,
	    {"serial", required_argument, NULL, OPT_SERIAL},
	    {"deadline", required_argument, NULL, OPT_DEADLINE},
	    /* the older name of --deadline, kept working */
	    {"timeout", required_argument, NULL, OPT_DEADLINE_OLD},
	    {"dead", required_argument, NULL, OPT_DEAD},
	    {"quiet", no_argument, NULL, OPT_QUIET},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	cli_shared_t sh = {
	    .cmd = "wait", .net = &a->net, .expect = &a->expect, .json = &a->json, .xfr = &a->xfr};
	int opt = 0, r = 0;
	while (r == 0 &&
	       (opt = cli_getopt(argc, argv, CLI_NET_SHORTOPTS "hq", longopts, &sh)) >= 0) {
		switch (opt) {
		case 'h':
			printf(wait_help, cli_expect_help, cli_xfr_help, cli_net_help);
			return 1;
		case OPT_SERIAL:
			r = cli_parse_serial("--serial", optarg, &a->serial);
			a->have_serial = true;
			break;
		case OPT_DEADLINE:
		case OPT_DEADLINE_OLD:
			r = cli_parse_duration(opt == OPT_DEADLINE ? "--deadline" : "--timeout",
			                       optarg, 1000, 1000, 7 * 86400000ull,
			                       &a->deadline_ms);
			break;
		case OPT_DEAD:
			r = parse_dead(a, optarg);
			break;
		case 'q':
		case OPT_QUIET:
			a->quiet = true;
			break;
		}
	}
	if (r != 0 || opt == -2 || (a->zone = cli_one_zone("wait", argc, argv)) == NULL ||
	    cli_expect_build(&a->expect, a->zone, &a->expect_set) != 0) {
		return -1;
	}
	return cli_net_finish(&a->net, a->net.nns == 0);
}

typedef struct {
	const ss_wait_target_t *target;
	const render_wait_t *out;
	uint64_t start;
	unsigned rounds;
} loop_t;

static bool loop_done(const ss_zone_result_t *r, void *arg)
{
	loop_t *l = arg;
	ss_wait_tally_t t = ss_wait_tally(r, l->target);
	return ss_wait_verdict(l->target, &t) != SS_WAIT_NOT_YET;
}

static void loop_round(const ss_zone_result_t *r, void *arg)
{
	loop_t *l = arg;
	l->rounds++;
	render_wait_progress(l->out, r, (uv_hrtime() - l->start) / 1e9);
}

/* Re-probe the addresses of the first result until converged. cur (the first
 * result) is consumed: it ends as the last result. */
static int wait_loop(wait_args_t *a, cli_session_t *s, ss_zone_result_t *cur,
                     const ss_wait_target_t *target, uint64_t start)
{
	cli_fixed_t fixed;
	cli_probe_where_t where = {.no_vendor = true,
	                           .expect = a->expect_set.n ? &a->expect_set : NULL};
	if (cli_probe_fixed(cur, &fixed, &where) != 0) {
		return EXIT_UNKNOWN;
	}
	render_wait_t out = {stdout,         stderr,
	                     a->json,        !a->quiet && !a->json && isatty(STDERR_FILENO),
	                     a->deadline_ms, target};
	loop_t l = {target, &out, start, 1};
	uint64_t deadline = start + a->deadline_ms * 1000000u;
	/* One deadline for both: the last probe is squeezed into what is left. */
	cli_poll_t poll = {deadline, deadline, loop_done, loop_round, &l};
	int ret = cli_probe_until(s, &a->net, &where, a->zone, &poll, cur);
	if (ret >= 0) {
		ss_wait_tally_t t = ss_wait_tally(cur, target);
		render_wait_end(&out, cur, ss_wait_verdict(target, &t), (uv_hrtime() - start) / 1e9,
		                l.rounds);
	}
	cli_fixed_free(&fixed);
	return ret == 1 ? EXIT_OK_ : ret == 0 ? EXIT_CRITICAL : EXIT_UNKNOWN;
}

static int run(void *arg)
{
	wait_args_t *a = arg;
	cli_session_t s;
	if (cli_session_open(&s, &a->net) != 0) {
		return EXIT_UNKNOWN;
	}
	ss_zone_result_t first;
	cli_probe_where_t where = cli_probe_where(&a->net);
	where.expect = a->expect_set.n ? &a->expect_set : NULL;
	int code = EXIT_UNKNOWN;
	/* The deadline counts from the start, the first probe included. */
	uint64_t start = uv_hrtime();
	cli_session_fit(&s, &a->net, start + a->deadline_ms * 1000000u);
	if (cli_probe(&s, &a->net, &where, a->zone, &first) == 0) {
		if (!a->have_serial && !first.has_reference) {
			cli_zerr(first.obs.zone_str ? first.obs.zone_str : a->zone,
			         "no server answered with the zone's SOA; give --serial N");
		} else {
			ss_wait_target_t t = {a->have_serial ? a->serial : first.reference_serial,
			                      a->expect_set.n, a->dead, a->quorum};
			code = wait_loop(a, &s, &first, &t, start);
		}
		ss_zone_result_clear(&first);
	}
	cli_session_close(&s);
	return code;
}

static void done(void *arg)
{
	wait_args_t *a = arg;
	ss_expect_set_clear(&a->expect_set);
	cli_expect_free(&a->expect);
	cli_net_free(&a->net);
}

int cmd_wait(int argc, char **argv)
{
	static const cli_steps_t steps = {parse_args, run, done};
	wait_args_t a;
	memset(&a, 0, sizeof(a));
	a.deadline_ms = 300000;
	cli_net_init(&a.net);
	return cli_command(&steps, &a, argc, argv);
}
