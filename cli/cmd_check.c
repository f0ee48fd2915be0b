/*
 * soasync check: compare the SOA serial on every authoritative server
 * address of one or many zones.
 */
#include <errno.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#include <soasync/checkrun.h>
#include <soasync/error.h>
#include <soasync/zone.h>

#include "opts.h"
#include "render.h"

typedef enum { OUT_TABLE, OUT_JSON, OUT_NAGIOS } out_mode_t;

typedef struct {
	out_mode_t mode;
	bool color;
	int worst;
	nagios_t nagios;
	check_json_t *json; /* --json: the lines, written in blocks */
	size_t zones;
} check_ctx_t;

static const char check_help[] =
    "Usage: soasync check [options] ZONE...\n"
    "\n"
    "Ask every authoritative server address of each ZONE for its SOA and compare the\n"
    "serials (RFC 1982): who is behind, who is ahead, who does not answer, and the fix.\n"
    "The primary's serial is the reference; without a primary, the highest serial.\n"
    "The primary: --primary, else the SOA MNAME server, unless it answers EDNS EXPIRE\n"
    "as a secondary (counting down): then the server answering as a primary.\n"
    "\n"
    "Zones:\n"
    "  --zones-from FILE        read zones from FILE, one a line, '#' comments, '-' stdin\n"
    "Same serial, same data?\n"
    "  --content                also transfer the zone from every server (AXFR) and\n"
    "                           compare the data (servers refusing the transfer are\n"
    "                           asked RRset by RRset)\n"
    "  --zonefile FILE          the source of truth: is it what the primary serves?\n"
    "  --default-ttl TTL        the TTL of its records that have none, where it has no\n"
    "                           $TTL and no TTL before them (default 3600, as Knot, NSD\n"
    "                           and ldns; BIND takes the SOA minimum)\n"
    "  --candidate-primary ADDR[#PORT]  a server a secondary might be pulling from\n"
    "                           (an old provider, a stale copy); repeatable\n"
    "  --tsig-key FILE, -y [ALG:]NAME:SECRET  sign the transfers (ALG default\n"
    "                           hmac-sha256)\n"
    "  --query-limit N          RRsets asked of a server refusing transfers (5000)\n"
    "%s"
    "%s"
    "%s"
    "Output:\n"
    "  --json                   JSON Lines: one object per zone\n"
    "  --nagios                 monitoring-plugin output (first line SOA STATUS - ...)\n"
    "  --color WHEN             auto (default), always, never; NO_COLOR is honored\n"
    "  --no-vendor              do not ask servers for their version (CHAOS TXT)\n"
    "  --expire-warn S          warn when a secondary's copy expires in less than S\n"
    "                           seconds (EDNS EXPIRE; default 86400, critical below\n"
    "                           3600; 0 turns it off)\n"
    "  -h, --help               this help\n"
    "\n"
    "Exit status: the worst zone status: 0 ok, 1 warning, 2 critical, 3 unknown\n"
    "(also for usage errors).\n";

enum {
	OPT_ZONES_FROM = OPT_NET_LAST + 1,
	OPT_NAGIOS,
	OPT_NO_VENDOR,
	OPT_EXPIRE_WARN,
	OPT_CONTENT,
	OPT_ZONEFILE,
	OPT_CANDIDATE,
	OPT_QUERY_LIMIT,
	OPT_DEFAULT_TTL,
};

static void on_zone(ss_zone_result_t *res, void *arg)
{
	check_ctx_t *ctx = arg;
	ctx->zones++;
	if ((int)res->status > ctx->worst) {
		ctx->worst = (int)res->status;
	}
	switch (ctx->mode) {
	case OUT_JSON:
		render_check_json_add(ctx->json, res);
		break;
	case OUT_NAGIOS:
		render_nagios_add(&ctx->nagios, res);
		break;
	case OUT_TABLE:
		render_check_table(stdout, res, ctx->color);
		break;
	}
	if (res->obs.discovery_error != 0 && res->obs.nservers == 0 && ctx->mode == OUT_JSON) {
		cli_zerr(res->obs.zone_str, "%s",
		         res->obs.discovery_detail ? res->obs.discovery_detail
		                                   : "discovery failed");
	}
}

typedef struct {
	char **names;
	size_t n, cap;
} zone_list_t;

typedef struct {
	cli_net_t net;
	check_ctx_t ctx;
	zone_list_t zones;
	const char *zones_from;
	cli_color_t color;
	bool no_vendor;
	uint32_t expire_warn_s;
	cli_expect_t expect;
	ss_expect_set_t expect_set;
	cli_tsig_t tsig;
	ss_addr_t *candidates;
	size_t ncandidates;
	ss_content_opts_t content;
	cli_xfr_t xfr;
} check_args_t;

/* A broken --zonefile is a usage error, named by file and line, before any query. */
static int validate_zonefile(const char *path, const char *zone, uint32_t default_ttl)
{
	knot_dname_storage_t origin;
	ss_zone_t *z = NULL;
	ss_zone_error_t err;
	if (knot_dname_from_str(origin, zone, sizeof(origin)) == NULL) {
		return 0; /* the zone name itself is reported later */
	}
	knot_dname_to_lower(origin);
	int ret = ss_zone_load_file(path, origin, default_ttl, &z, &err);
	if (ret == 0) {
		cli_zone_warnings(path, z, default_ttl != 0);
	}
	ss_zone_free(z);
	if (ret == 0) {
		return 0;
	}
	const char *file = err.file[0] ? err.file : path;
	if (err.line > 0) {
		cli_err("%s:%llu: %s", file, (unsigned long long)err.line,
		        err.message[0] ? err.message : ss_strerror(ret));
	} else {
		cli_err("%s: %s", file, err.message[0] ? err.message : ss_strerror(ret));
	}
	return -1;
}

static int parse_args(check_args_t *a, int argc, char **argv)
{
	static const struct option longopts[] = {
	    CLI_NET_LONGOPTS,
	    CLI_QUERY_TIMEOUT_LONGOPT,
	    CLI_EXPECT_LONGOPTS,
	    CLI_TSIG_LONGOPT,
	    CLI_JSON_LONGOPT,
	    CLI_COLOR_LONGOPT,
	    CLI_XFR_LONGOPTS,
	    {"zones-from", required_argument, NULL, OPT_ZONES_FROM},
	    {"nagios", no_argument, NULL, OPT_NAGIOS},
	    {"no-vendor", no_argument, NULL, OPT_NO_VENDOR},
	    {"expire-warn", required_argument, NULL, OPT_EXPIRE_WARN},
	    {"content", no_argument, NULL, OPT_CONTENT},
	    {"zonefile", required_argument, NULL, OPT_ZONEFILE},
	    {"candidate-primary", required_argument, NULL, OPT_CANDIDATE},
	    {"query-limit", required_argument, NULL, OPT_QUERY_LIMIT},
	    {"default-ttl", required_argument, NULL, OPT_DEFAULT_TTL},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	bool json = false;
	cli_shared_t sh = {.cmd = "check",
	                   .net = &a->net,
	                   .tsig = &a->tsig,
	                   .expect = &a->expect,
	                   .json = &json,
	                   .color = &a->color,
	                   .xfr = &a->xfr};
	int opt = 0, r = 0;
	unsigned v = 0;
	while (r == 0 &&
	       (opt = cli_getopt(argc, argv, CLI_NET_SHORTOPTS "hy:", longopts, &sh)) >= 0) {
		switch (opt) {
		case 'h':
			printf(check_help, cli_xfr_help, cli_net_help, cli_expect_help);
			return 1;
		case OPT_ZONES_FROM:
			a->zones_from = optarg;
			break;
		case OPT_NAGIOS:
			a->ctx.mode = OUT_NAGIOS;
			break;
		case OPT_NO_VENDOR:
			a->no_vendor = true;
			break;
		case OPT_CONTENT:
			a->content.all = true;
			break;
		case OPT_ZONEFILE:
			a->content.zonefile = optarg;
			break;
		case OPT_CANDIDATE:
			r = cli_parse_addr_list("--candidate-primary", optarg, &a->candidates,
			                        &a->ncandidates);
			break;
		case OPT_QUERY_LIMIT:
			r = cli_parse_uint("--query-limit", optarg, 1, 10000000,
			                   &a->content.query_limit);
			break;
		case OPT_DEFAULT_TTL:
			r = cli_parse_ttl("--default-ttl", optarg, &a->content.zonefile_ttl);
			break;
		case OPT_EXPIRE_WARN:
			r = cli_parse_uint("--expire-warn", optarg, 0, UINT32_MAX - 1, &v);
			a->expire_warn_s = v == 0 ? UINT32_MAX : v;
			break;
		}
	}
	if (r != 0 || opt == -2) {
		return -1;
	}
	if (json) {
		a->ctx.mode = OUT_JSON;
	}
	if (optind >= argc && a->zones_from == NULL) {
		cli_err("check: no zone given; see 'soasync check --help'");
		return -1;
	}
	bool one_zone = optind + 1 == argc && a->zones_from == NULL;
	if ((a->content.zonefile || a->ncandidates) && !one_zone) {
		cli_err("check: --zonefile and --candidate-primary need exactly one ZONE");
		return -1;
	}
	if (a->content.zonefile_ttl != 0 && a->content.zonefile == NULL) {
		cli_err("check: --default-ttl goes with --zonefile");
		return -1;
	}
	if (a->content.zonefile != NULL &&
	    validate_zonefile(a->content.zonefile, argv[optind], a->content.zonefile_ttl)) {
		return -1;
	}
	a->content.candidates = a->candidates;
	a->content.ncandidates = a->ncandidates;
	a->content.tsig = a->tsig.have ? &a->tsig.key : NULL;
	if (cli_expect_any(&a->expect)) {
		if (optind + 1 != argc || a->zones_from != NULL) {
			cli_err("check: --expect needs exactly one ZONE");
			return -1;
		}
		if (cli_expect_build(&a->expect, argv[optind], &a->expect_set) != 0) {
			return -1;
		}
	}
	return cli_net_finish(&a->net, a->net.nns == 0);
}

static int list_zone(const char *zone, void *arg)
{
	zone_list_t *l = arg;
	knot_dname_storage_t tmp;
	if (*zone == '\0' || knot_dname_from_str(tmp, zone, sizeof(tmp)) == NULL) {
		return -1;
	}
	if (l->n == l->cap) {
		size_t ncap = l->cap ? l->cap * 2 : 64;
		char **grown = realloc(l->names, ncap * sizeof(*grown));
		if (grown == NULL) {
			return -1;
		}
		l->names = grown;
		l->cap = ncap;
	}
	l->names[l->n] = strdup(zone);
	return l->names[l->n++] ? 0 : -1;
}

/* Every zone name is read and checked before any query goes out. */
static int collect_zones(check_args_t *a, int argc, char **argv, zone_list_t *l)
{
	for (int i = optind; i < argc; i++) {
		if (list_zone(argv[i], l) != 0) {
			cli_err("check: '%s' is not a valid zone name", argv[i]);
			return -1;
		}
	}
	return a->zones_from ? cli_read_zones(a->zones_from, list_zone, l) : 0;
}

static void print_stats(ss_engine_t *e)
{
	ss_engine_stats_t st;
	ss_engine_stats(e, &st);
	fprintf(stderr,
	        "soasync: stats: queries %llu sent %llu received %llu dropped %llu "
	        "retransmits %llu tcp %llu timeouts %llu\n",
	        (unsigned long long)st.queries, (unsigned long long)st.sent,
	        (unsigned long long)st.received, (unsigned long long)st.dropped,
	        (unsigned long long)st.retransmits, (unsigned long long)st.tcp,
	        (unsigned long long)st.timeouts);
}

static int run_zones(check_args_t *a, const zone_list_t *zones)
{
	uv_loop_t loop;
	int lret = uv_loop_init(&loop);
	if (lret != 0) {
		cli_err("cannot start the event loop: %s", uv_strerror(lret));
		return -1;
	}
	ss_engine_t *e = ss_engine_new(&loop, &a->net.eng);
	ss_check_opts_t copts = {
	    .resolver = a->net.resolver,
	    .only4 = a->net.only4,
	    .only6 = a->net.only6,
	    .ns = a->net.ns,
	    .nns = a->net.nns,
	    .primary = a->net.primary,
	    .nprimary = a->net.nprimary,
	    .no_vendor = a->no_vendor,
	    .expire = true,
	    .expire_warn_s = a->expire_warn_s,
	    .expect = a->expect_set.n ? &a->expect_set : NULL,
	    .content = a->content,
	};
	if (a->ctx.mode == OUT_JSON) {
		a->ctx.json = render_check_json_new(stdout);
	}
	ss_check_t *c = e && (a->ctx.mode != OUT_JSON || a->ctx.json)
	                    ? ss_check_new(e, &copts, on_zone, &a->ctx)
	                    : NULL;
	int ret = c ? 0 : -1;
	for (size_t i = 0; ret == 0 && i < zones->n; i++) {
		ret = ss_check_add(c, zones->names[i]) == 0 ? 0 : -1;
	}
	if (ret == 0) {
		uv_run(&loop, UV_RUN_DEFAULT);
	} else if (e != NULL) {
		cli_err("out of memory");
		ss_check_abort(c);
		ss_engine_cancel_all(e);
	}
	ss_check_free(c);
	if (render_check_json_finish(a->ctx.json) != 0) {
		cli_err("cannot write the output: %s", strerror(errno));
		ret = -1;
	}
	a->ctx.json = NULL;
	if (e != NULL && getenv("SOASYNC_STATS") != NULL) {
		print_stats(e);
	}
	if (e != NULL) {
		ss_engine_close(e);
	}
	uv_run(&loop, UV_RUN_DEFAULT);
	uv_loop_close(&loop);
	return ret;
}

/* The options, then every zone name, read and checked before any query. */
static int parse_all(void *arg, int argc, char **argv)
{
	check_args_t *a = arg;
	int ret = parse_args(a, argc, argv);
	return ret != 0 ? ret : collect_zones(a, argc, argv, &a->zones);
}

static int run(void *arg)
{
	check_args_t *a = arg;
	a->ctx.color = cli_use_color(a->color, stdout);
	if (run_zones(a, &a->zones) != 0) {
		return EXIT_UNKNOWN;
	}
	return a->ctx.mode == OUT_NAGIOS ? render_nagios_print(stdout, &a->ctx.nagios)
	                                 : a->ctx.worst;
}

static void done(void *arg)
{
	check_args_t *a = arg;
	for (size_t i = 0; i < a->zones.n; i++) {
		free(a->zones.names[i]);
	}
	free(a->zones.names);
	render_nagios_free(&a->ctx.nagios);
	ss_expect_set_clear(&a->expect_set);
	cli_expect_free(&a->expect);
	cli_tsig_free(&a->tsig);
	free(a->candidates);
	cli_net_free(&a->net);
}

int cmd_check(int argc, char **argv)
{
	static const cli_steps_t steps = {parse_all, run, done};
	check_args_t a;
	memset(&a, 0, sizeof(a));
	cli_net_init(&a.net);
	return cli_command(&steps, &a, argc, argv);
}
