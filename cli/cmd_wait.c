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

#include "cli.h"
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
        "Output:\n"
        "  --json                   one JSON object at the end\n"
        "  --quiet                  no progress line (it is shown only on a terminal)\n"
        "  -h, --help               this help\n"
        "\n"
        "Exit status: 0 converged, 2 deadline passed (the servers still behind are named),\n"
        "3 usage or lookup error.\n";

enum { OPT_SERIAL = OPT_NET_LAST + 1, OPT_WAIT_TIMEOUT, OPT_DEAD, OPT_JSON, OPT_QUIET };

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
} wait_args_t;

static int parse_serial(const char *arg, uint32_t *out)
{
	char *end = NULL;
	unsigned long long v = strtoull(arg, &end, 10);
	if (*arg == '\0' || *arg == '-' || *end != '\0' || v > UINT32_MAX) {
		cli_err("--serial: expected a number from 0 to 4294967295, got '%s'", arg);
		return -1;
	}
	*out = (uint32_t)v;
	return 0;
}

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
	        {"serial", required_argument, NULL, OPT_SERIAL},
	        {"timeout", required_argument, NULL, OPT_WAIT_TIMEOUT},
	        {"dead", required_argument, NULL, OPT_DEAD},
	        {"json", no_argument, NULL, OPT_JSON},
	        {"quiet", no_argument, NULL, OPT_QUIET},
	        CLI_EXPECT_LONGOPTS,
	        {"help", no_argument, NULL, 'h'},
	        {NULL, 0, NULL, 0},
	};
	int opt;
	opterr = 0;
	while ((opt = getopt_long(argc, argv, CLI_NET_SHORTOPTS "hq", longopts, NULL)) != -1) {
		int r = cli_net_option(&a->net, opt, optarg);
		if (r == 0) {
			r = cli_expect_option(&a->expect, opt, optarg);
		}
		if (r != 0) {
			if (r < 0) {
				return -1;
			}
			continue;
		}
		switch (opt) {
		case 'h':
			printf(wait_help, cli_expect_help, cli_net_help);
			return 1;
		case OPT_SERIAL:
			r = parse_serial(optarg, &a->serial);
			a->have_serial = true;
			break;
		case OPT_WAIT_TIMEOUT:
			r = cli_parse_uint("--timeout", optarg, 1, 7 * 86400, &a->timeout_s);
			break;
		case OPT_DEAD:
			r = parse_dead(a, optarg);
			break;
		case OPT_JSON:
			a->json = true;
			break;
		case 'q':
		case OPT_QUIET:
			a->quiet = true;
			break;
		default:
			cli_err("wait: unknown or incomplete option '%s'; see 'soasync wait --help'",
			        argv[optind - 1]);
			return -1;
		}
		if (r != 0) {
			return -1;
		}
	}
	if (optind + 1 != argc) {
		cli_err("wait: expected exactly one ZONE; see 'soasync wait --help'");
		return -1;
	}
	a->zone = argv[optind];
	if (cli_expect_build(&a->expect, a->zone, &a->expect_set) != 0) {
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

static const char *name_of(const ss_zone_result_t *first, const ss_addr_t *a)
{
	for (size_t i = 0; i < first->obs.nservers; i++) {
		if (ss_addr_equal(&first->obs.servers[i].addr, a)) {
			return first->obs.servers[i].name;
		}
	}
	return NULL;
}

/* "ns2 (192.0.2.2) serves 5" for each server not at the target. */
static void describe_laggards(FILE *f, const ss_zone_result_t *first, const ss_zone_result_t *r,
                              const target_t *target)
{
	size_t n = 0;
	for (size_t i = 0; i < r->obs.nservers; i++) {
		const ss_server_obs_t *s = &r->obs.servers[i];
		if (!counts(s) || at_target(s, target)) {
			continue;
		}
		char a[SS_ADDR_STRLEN];
		const char *name = name_of(first, &s->addr);
		fprintf(f, "%s%s%s%s%s", n++ ? "; " : "", name ? name : "", name ? " (" : "",
		        ss_addr_format(&s->addr, a, sizeof(a)), name ? ")" : "");
		if (s->has_soa && !expect_ok(s, target->nexpect)) {
			fprintf(f, " serves %u without the expected records", s->soa.serial);
		} else if (s->has_soa) {
			fprintf(f, " serves %u", s->soa.serial);
		} else {
			fprintf(f, ": %s", s->kind == SS_ANS_NONE || s->kind == SS_ANS_MALFORMED
			                           ? ss_strerror(s->error)
			                           : (s->detail ? s->detail : render_rcode(s->rcode)));
		}
	}
}

static void progress(const wait_args_t *a, const ss_zone_result_t *first,
                     const ss_zone_result_t *r, const target_t *target, const tally_t *t,
                     double elapsed)
{
	if (a->quiet || a->json || !isatty(STDERR_FILENO)) {
		return;
	}
	fprintf(stderr, "\r\033[Ksoasync: %s: %zu/%zu at %u or later [%.0fs/%us] waiting for ",
	        r->obs.zone_str, t->ok, t->total, target->serial, elapsed, a->timeout_s);
	describe_laggards(stderr, first, r, target);
	fflush(stderr);
}

static void timer_fired(uv_timer_t *t)
{
	(void)t;
}

static void sleep_ms(cli_session_t *s, unsigned ms)
{
	uv_timer_t t;
	uv_timer_init(&s->loop, &t);
	uv_timer_start(&t, timer_fired, ms, 0);
	uv_run(&s->loop, UV_RUN_DEFAULT);
	uv_close((uv_handle_t *)&t, NULL);
	uv_run(&s->loop, UV_RUN_DEFAULT);
}

static void report(const wait_args_t *a, const ss_zone_result_t *first, const ss_zone_result_t *r,
                   const target_t *target, bool ok, double elapsed, unsigned rounds)
{
	if (!a->quiet && !a->json && isatty(STDERR_FILENO)) {
		fputs("\r\033[K", stderr);
	}
	if (a->json) {
		json_t *servers = json_array();
		for (size_t i = 0; i < r->obs.nservers; i++) {
			const ss_server_obs_t *s = &r->obs.servers[i];
			char addr[SS_ADDR_STRLEN];
			const char *name = name_of(first, &s->addr);
			json_array_append_new(
			        servers,
			        json_pack("{s:o, s:s, s:i, s:o, s:b}", "name",
			                  name ? json_string(name) : json_null(), "address",
			                  ss_addr_ntop(&s->addr, addr, sizeof(addr)), "port",
			                  (int)ss_addr_port(&s->addr), "serial",
			                  s->has_soa ? json_integer(s->soa.serial) : json_null(),
			                  "at_target", at_target(s, target)));
		}
		render_json_line(stdout,
		                 json_pack("{s:s, s:b, s:I, s:f, s:i, s:o}", "zone", r->obs.zone_str,
		                           "converged", ok, "serial", (json_int_t)target->serial,
		                           "elapsed_s",
		                           (double)(long long)(elapsed * 1000) / 1000.0, "rounds", (int)rounds, "servers", servers));
		return;
	}
	if (ok) {
		printf("%s: every server serves %u or later (%.1f s, %u round%s)\n", r->obs.zone_str,
		       target->serial, elapsed, rounds, rounds == 1 ? "" : "s");
		return;
	}
	fprintf(stderr, "soasync: %s: deadline passed after %.0f s: not at %u: ", r->obs.zone_str,
	        elapsed, target->serial);
	describe_laggards(stderr, first, r, target);
	fputc('\n', stderr);
}

typedef struct {
	ss_addr_t *ns, *primary;
	size_t nns, nprimary;
} fixed_where_t;

static int wait_loop(wait_args_t *a, cli_session_t *s, ss_zone_result_t *first,
                     const target_t *target)
{
	fixed_where_t fw;
	if (cli_probe_where_from(first, &fw.ns, &fw.nns, &fw.primary, &fw.nprimary) != 0) {
		return EXIT_UNKNOWN;
	}
	cli_probe_where_t where = {fw.ns, fw.nns, fw.primary, fw.nprimary, true,
	                           a->expect_set.n ? &a->expect_set : NULL};
	uint64_t start = uv_hrtime(), deadline = start + (uint64_t)a->timeout_s * 1000000000u;
	unsigned backoff = 200, rounds = 1;
	ss_zone_result_t cur = *first, next;
	bool own = false; /* cur is first until the first re-probe */
	int code = EXIT_UNKNOWN;
	for (;;) {
		tally_t t = tally(&cur, target);
		double elapsed = (uv_hrtime() - start) / 1e9;
		bool ok = converged(a, &t);
		if (ok || uv_hrtime() >= deadline) {
			report(a, first, &cur, target, ok, elapsed, rounds);
			code = ok ? EXIT_OK_ : EXIT_CRITICAL;
			break;
		}
		progress(a, first, &cur, target, &t, elapsed);
		uint64_t left = (deadline - uv_hrtime()) / 1000000u;
		sleep_ms(s, backoff < left ? backoff : (unsigned)left);
		backoff = backoff * 3 / 2 > 5000 ? 5000 : backoff * 3 / 2;
		if (cli_probe(s, &a->net, &where, a->zone, &next) != 0) {
			break;
		}
		rounds++;
		if (own) {
			ss_zone_result_clear(&cur);
		}
		cur = next;
		own = true;
	}
	if (own) {
		ss_zone_result_clear(&cur);
	}
	free(fw.ns);
	free(fw.primary);
	return code;
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
	if (cli_probe(&s, &a->net, &where, a->zone, &first) == 0) {
		if (!a->have_serial && !first.has_reference) {
			cli_zerr(first.obs.zone_str ? first.obs.zone_str : a->zone,
			         "no server answered with the zone's SOA; give --serial N");
		} else {
			target_t t = {a->have_serial ? a->serial : first.reference_serial,
			              a->expect_set.n};
			code = wait_loop(a, &s, &first, &t);
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
