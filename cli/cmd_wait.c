/*
 * soasync wait: re-query every server of a zone until all serve at least a
 * serial, or a deadline passes.
 */
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include <soasync/error.h>
#include <soasync/serial.h>

#include "opts.h"
#include "render.h"
#include "session.h"

static const char wait_help[] =
    "Usage: soasync wait [options] ZONE\n"
    "\n"
    "Query every authoritative server address of ZONE again and again (with backoff)\n"
    "until each serves at least the target serial, or the deadline passes.\n"
    "\n"
    "  --serial N               the serial to wait for (default: the reference serial\n"
    "                           at the start: the primary's, else the highest)\n"
    "  --timeout S              deadline in seconds (default 300)\n"
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

enum { OPT_SERIAL = OPT_NET_LAST + 1, OPT_WAIT_TIMEOUT, OPT_DEAD, OPT_QUIET };

typedef enum { DEAD_FAIL, DEAD_IGNORE, DEAD_QUORUM } dead_t;

typedef struct {
	cli_net_t net;
	bool have_serial, json, quiet;
	uint32_t serial;
	unsigned timeout_s, quorum;
	dead_t dead;
	const char *zone;
	cli_expect_t expect;
	ss_expect_set_t expect_set;
	cli_xfr_t xfr;
} wait_args_t;

static int parse_dead(wait_args_t *a, const char *arg)
{
	if (strcmp(arg, "fail") == 0) {
		a->dead = DEAD_FAIL;
	} else if (strcmp(arg, "ignore") == 0) {
		a->dead = DEAD_IGNORE;
	} else if (strncmp(arg, "quorum=", 7) == 0) {
		a->dead = DEAD_QUORUM;
		return cli_parse_uint("--dead quorum", arg + 7, 1, 1000, &a->quorum);
	} else {
		cli_err("--dead: expected fail, ignore or quorum=N, got '%s'", arg);
		return -1;
	}
	return 0;
}

static int parse_args(wait_args_t *a, int argc, char **argv)
{
	static const struct option longopts[] = {
	    CLI_NET_LONGOPTS,
	    CLI_EXPECT_LONGOPTS,
	    CLI_JSON_LONGOPT,
	    CLI_XFR_LONGOPTS,
	    {"serial", required_argument, NULL, OPT_SERIAL},
	    {"timeout", required_argument, NULL, OPT_WAIT_TIMEOUT},
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
		case OPT_WAIT_TIMEOUT:
			r = cli_parse_uint("--timeout", optarg, 1, 7 * 86400, &a->timeout_s);
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
	size_t ok, dead, behind, total;
} tally_t;

/* Every expected record as expected on this server (vacuous without --expect). */
static bool expect_ok(const ss_server_obs_t *s, size_t nexpect)
{
	if (s->nexpect < nexpect) {
		return nexpect == 0;
	}
	for (size_t k = 0; k < nexpect; k++) {
		ss_expect_status_t st = s->expect[k].status;
		if (st != SS_EXPECT_MATCH && st != SS_EXPECT_ABSENT) {
			return false;
		}
	}
	return true;
}

/* What a server must serve: the target serial or later, and the expected records. */
typedef struct {
	uint32_t serial;
	size_t nexpect;
} target_t;

static bool at_target(const ss_server_obs_t *s, const target_t *t)
{
	if (!s->has_soa) {
		return false;
	}
	ss_serial_order_t o = ss_serial_cmp(s->soa.serial, t->serial);
	return (o == SS_SERIAL_EQUAL || o == SS_SERIAL_GREATER) && expect_ok(s, t->nexpect);
}

static bool is_dead(const ss_server_obs_t *s)
{
	return s->kind == SS_ANS_NONE || s->kind == SS_ANS_MALFORMED;
}

/* Servers that only come from the MNAME (a hidden primary) are not waited for. */
static bool counts(const ss_server_obs_t *s)
{
	return (s->origin & ~(unsigned)SS_ORIGIN_PRIMARY) != 0 || s->is_primary;
}

static tally_t tally(const ss_zone_result_t *r, const target_t *target)
{
	tally_t t = {0, 0, 0, 0};
	for (size_t i = 0; i < r->obs.nservers; i++) {
		const ss_server_obs_t *s = &r->obs.servers[i];
		if (!counts(s)) {
			continue;
		}
		t.total++;
		if (at_target(s, target)) {
			t.ok++;
		} else if (is_dead(s)) {
			t.dead++;
		} else {
			t.behind++;
		}
	}
	return t;
}

static bool converged(const wait_args_t *a, const tally_t *t)
{
	switch (a->dead) {
	case DEAD_IGNORE:
		return t->behind == 0 && t->ok > 0;
	case DEAD_QUORUM:
		return t->ok >= a->quorum;
	case DEAD_FAIL:
		break;
	}
	return t->ok == t->total && t->total > 0;
}

/* "ns2 (192.0.2.2) serves 5" for each server not at the target. */
static void describe_laggards(FILE *f, const ss_zone_result_t *r, const target_t *target)
{
	size_t n = 0;
	for (size_t i = 0; i < r->obs.nservers; i++) {
		const ss_server_obs_t *s = &r->obs.servers[i];
		if (!counts(s) || at_target(s, target)) {
			continue;
		}
		char a[SS_ADDR_STRLEN];
		const char *name = s->name;
		fprintf(f, "%s%s%s%s%s", n++ ? "; " : "", name ? name : "", name ? " (" : "",
		        ss_addr_format(&s->addr, a, sizeof(a)), name ? ")" : "");
		if (s->has_soa && !expect_ok(s, target->nexpect)) {
			fprintf(f, " serves %u without the expected records", s->soa.serial);
		} else if (s->has_soa) {
			fprintf(f, " serves %u", s->soa.serial);
		} else {
			fprintf(f, ": %s",
			        s->kind == SS_ANS_NONE || s->kind == SS_ANS_MALFORMED
			            ? ss_strerror(s->error)
			            : (s->detail ? s->detail : render_rcode(s->rcode)));
		}
	}
}

static void progress(const wait_args_t *a, const ss_zone_result_t *r, const target_t *target,
                     const tally_t *t, double elapsed)
{
	if (a->quiet || a->json || !isatty(STDERR_FILENO)) {
		return;
	}
	fprintf(stderr, "\r\033[Ksoasync: %s: %zu/%zu at %u or later [%.0fs/%us] waiting for ",
	        r->obs.zone_str, t->ok, t->total, target->serial, elapsed, a->timeout_s);
	describe_laggards(stderr, r, target);
	fflush(stderr);
}

static void report(const wait_args_t *a, const ss_zone_result_t *r, const target_t *target, bool ok,
                   double elapsed, unsigned rounds)
{
	if (!a->quiet && !a->json && isatty(STDERR_FILENO)) {
		fputs("\r\033[K", stderr);
	}
	if (a->json) {
		json_t *servers = json_array();
		for (size_t i = 0; i < r->obs.nservers; i++) {
			const ss_server_obs_t *s = &r->obs.servers[i];
			char addr[SS_ADDR_STRLEN];
			const char *name = s->name;
			json_array_append_new(
			    servers,
			    json_pack("{s:o, s:s, s:i, s:o, s:b}", "name",
			              name ? json_string(name) : json_null(), "address",
			              ss_addr_ntop(&s->addr, addr, sizeof(addr)), "port",
			              (int)ss_addr_port(&s->addr), "serial",
			              s->has_soa ? json_integer(s->soa.serial) : json_null(),
			              "at_target", at_target(s, target)));
		}
		render_json_line(stdout, json_pack("{s:s, s:b, s:I, s:f, s:i, s:o}", "zone",
		                                   r->obs.zone_str, "converged", ok, "serial",
		                                   (json_int_t)target->serial, "elapsed_s",
		                                   (double)(long long)(elapsed * 1000) / 1000.0,
		                                   "rounds", (int)rounds, "servers", servers));
		return;
	}
	if (ok) {
		tally_t t = tally(r, target);
		if (t.ok == t.total) {
			printf("%s: every server serves %u or later", r->obs.zone_str,
			       target->serial);
		} else if (a->dead == DEAD_QUORUM) {
			printf("%s: %zu of %zu servers serve %u or later (quorum %u reached)",
			       r->obs.zone_str, t.ok, t.total, target->serial, a->quorum);
		} else {
			printf("%s: every answering server serves %u or later (%zu not answering, "
			       "ignored)",
			       r->obs.zone_str, target->serial, t.dead);
		}
		printf(" (%.1f s, %u round%s)\n", elapsed, rounds, rounds == 1 ? "" : "s");
		return;
	}
	fprintf(stderr, "soasync: %s: deadline passed after %.0f s: not at %u: ", r->obs.zone_str,
	        elapsed, target->serial);
	describe_laggards(stderr, r, target);
	fputc('\n', stderr);
}

typedef struct {
	const wait_args_t *a;
	const target_t *target;
	uint64_t start;
	unsigned rounds;
} loop_t;

static bool loop_done(const ss_zone_result_t *r, void *arg)
{
	loop_t *l = arg;
	tally_t t = tally(r, l->target);
	return converged(l->a, &t);
}

static void loop_round(const ss_zone_result_t *r, void *arg)
{
	loop_t *l = arg;
	tally_t t = tally(r, l->target);
	l->rounds++;
	progress(l->a, r, l->target, &t, (uv_hrtime() - l->start) / 1e9);
}

/* Re-probe the addresses of the first result until converged. cur (the first
 * result) is consumed: it ends as the last result. */
static int wait_loop(wait_args_t *a, cli_session_t *s, ss_zone_result_t *cur,
                     const target_t *target, uint64_t start)
{
	cli_fixed_t fixed;
	cli_probe_where_t where = {.no_vendor = true,
	                           .expect = a->expect_set.n ? &a->expect_set : NULL};
	if (cli_probe_fixed(cur, &fixed, &where) != 0) {
		return EXIT_UNKNOWN;
	}
	loop_t l = {a, target, start, 1};
	uint64_t deadline = start + (uint64_t)a->timeout_s * 1000000000u;
	int ret =
	    cli_probe_until(s, &a->net, &where, a->zone, deadline, loop_done, loop_round, &l, cur);
	if (ret >= 0) {
		report(a, cur, target, ret == 1, (uv_hrtime() - start) / 1e9, l.rounds);
	}
	cli_fixed_free(&fixed);
	return ret == 1 ? EXIT_OK_ : ret == 0 ? EXIT_CRITICAL : EXIT_UNKNOWN;
}

static int run(wait_args_t *a)
{
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
	cli_session_fit(&s, &a->net, start + (uint64_t)a->timeout_s * 1000000000u);
	if (cli_probe(&s, &a->net, &where, a->zone, &first) == 0) {
		if (!a->have_serial && !first.has_reference) {
			cli_zerr(first.obs.zone_str ? first.obs.zone_str : a->zone,
			         "no server answered with the zone's SOA; give --serial N");
		} else {
			target_t t = {a->have_serial ? a->serial : first.reference_serial,
			              a->expect_set.n};
			code = wait_loop(a, &s, &first, &t, start);
		}
		ss_zone_result_clear(&first);
	}
	cli_session_close(&s);
	return code;
}

int cmd_wait(int argc, char **argv)
{
	wait_args_t a;
	memset(&a, 0, sizeof(a));
	a.timeout_s = 300;
	cli_net_init(&a.net);
	int ret = parse_args(&a, argc, argv);
	int code = ret > 0 ? EXIT_OK_ : ret < 0 ? EXIT_UNKNOWN : run(&a);
	ss_expect_set_clear(&a.expect_set);
	cli_expect_free(&a.expect);
	cli_net_free(&a.net);
	return code;
}
