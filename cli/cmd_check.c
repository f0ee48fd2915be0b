/*
 * soasync check: compare the SOA serial on every authoritative server
 * address of one or many zones.
 */
#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#include <soasync/checkrun.h>
#include <soasync/error.h>

#include "cli.h"
#include "render.h"

typedef enum { OUT_TABLE, OUT_JSON, OUT_NAGIOS } out_mode_t;

typedef struct {
	out_mode_t mode;
	bool color;
	int worst;
	nagios_t nagios;
	size_t zones;
} check_ctx_t;

static const char check_help[] =
        "Usage: soasync check [options] ZONE...\n"
        "\n"
        "Ask every authoritative server address of each ZONE for its SOA and compare the\n"
        "serials (RFC 1982): who is behind, who is ahead, who does not answer, and the fix.\n"
        "The primary's serial is the reference; without a primary, the highest serial.\n"
        "\n"
        "Zones:\n"
        "  --zones-from FILE        read zones from FILE, one a line, '#' comments, '-' stdin\n"
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
	OPT_JSON,
	OPT_NAGIOS,
	OPT_COLOR,
	OPT_NO_VENDOR,
	OPT_EXPIRE_WARN,
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
		render_check_json(stdout, res);
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
		         res->obs.discovery_detail ? res->obs.discovery_detail : "discovery failed");
	}
}

static int add_zone(const char *zone, void *arg)
{
	return ss_check_add(arg, zone) == 0 ? 0 : -1;
}

static int parse_color(const char *arg, cli_color_t *out)
{
	if (strcmp(arg, "auto") == 0) {
		*out = CLI_COLOR_AUTO;
	} else if (strcmp(arg, "always") == 0) {
		*out = CLI_COLOR_ALWAYS;
	} else if (strcmp(arg, "never") == 0) {
		*out = CLI_COLOR_NEVER;
	} else {
		cli_err("--color: expected auto, always or never, got '%s'", arg);
		return -1;
	}
	return 0;
}

typedef struct {
	cli_net_t net;
	check_ctx_t ctx;
	const char *zones_from;
	cli_color_t color;
	bool no_vendor;
	uint32_t expire_warn_s;
	cli_expect_t expect;
	ss_expect_set_t expect_set;
} check_args_t;

static int parse_args(check_args_t *a, int argc, char **argv)
{
	static const struct option longopts[] = {
	        CLI_NET_LONGOPTS,
	        CLI_QUERY_TIMEOUT_LONGOPT,
	        {"zones-from", required_argument, NULL, OPT_ZONES_FROM},
	        {"json", no_argument, NULL, OPT_JSON},
	        {"nagios", no_argument, NULL, OPT_NAGIOS},
	        {"color", required_argument, NULL, OPT_COLOR},
	        {"no-vendor", no_argument, NULL, OPT_NO_VENDOR},
	        {"expire-warn", required_argument, NULL, OPT_EXPIRE_WARN},
	        CLI_EXPECT_LONGOPTS,
	        {"help", no_argument, NULL, 'h'},
	        {NULL, 0, NULL, 0},
	};
	int opt;
	opterr = 0;
	while ((opt = getopt_long(argc, argv, CLI_NET_SHORTOPTS "h", longopts, NULL)) != -1) {
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
			printf(check_help, cli_net_help, cli_expect_help);
			return 1;
		case OPT_ZONES_FROM:
			a->zones_from = optarg;
			break;
		case OPT_JSON:
			a->ctx.mode = OUT_JSON;
			break;
		case OPT_NAGIOS:
			a->ctx.mode = OUT_NAGIOS;
			break;
		case OPT_COLOR:
			if (parse_color(optarg, &a->color) != 0) {
				return -1;
			}
			break;
		case OPT_NO_VENDOR:
			a->no_vendor = true;
			break;
		case OPT_EXPIRE_WARN: {
			unsigned v;
			if (cli_parse_uint("--expire-warn", optarg, 0, UINT32_MAX - 1, &v) != 0) {
				return -1;
			}
			a->expire_warn_s = v == 0 ? UINT32_MAX : v;
			break;
		}
		default:
			cli_err("check: unknown or incomplete option '%s'; see 'soasync check --help'",
			        argv[optind - 1]);
			return -1;
		}
	}
	if (optind >= argc && a->zones_from == NULL) {
		cli_err("check: no zone given; see 'soasync check --help'");
		return -1;
	}
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

static int run(check_args_t *a, int argc, char **argv)
{
	uv_loop_t loop;
	uv_loop_init(&loop);
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
	};
	ss_check_t *c = e ? ss_check_new(e, &copts, on_zone, &a->ctx) : NULL;
	int ret = c ? 0 : -1;
	for (int i = optind; ret == 0 && i < argc; i++) {
		if (ss_check_add(c, argv[i]) != 0) {
			cli_err("check: '%s' is not a valid zone name", argv[i]);
			ret = -1;
		}
	}
	if (ret == 0 && a->zones_from != NULL) {
		ret = cli_read_zones(a->zones_from, add_zone, c);
	}
	if (ret == 0) {
		uv_run(&loop, UV_RUN_DEFAULT);
	}
	ss_check_free(c);
	if (e != NULL && getenv("SOASYNC_STATS") != NULL) {
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
	if (e != NULL) {
		ss_engine_close(e);
	}
	uv_run(&loop, UV_RUN_DEFAULT);
	uv_loop_close(&loop);
	return ret;
}

int cmd_check(int argc, char **argv)
{
	check_args_t a;
	memset(&a, 0, sizeof(a));
	cli_net_init(&a.net);
	int ret = parse_args(&a, argc, argv);
	int code = ret > 0 ? 0 : EXIT_UNKNOWN;
	if (ret == 0) {
		a.ctx.color = cli_use_color(a.color, stdout);
		code = run(&a, argc, argv) != 0 ? EXIT_UNKNOWN : a.ctx.worst;
	}
	if (ret == 0 && code != EXIT_UNKNOWN && a.ctx.mode == OUT_NAGIOS) {
		code = render_nagios_print(stdout, &a.ctx.nagios);
	}
	render_nagios_free(&a.ctx.nagios);
	ss_expect_set_clear(&a.expect_set);
	cli_expect_free(&a.expect);
	cli_net_free(&a.net);
	return code;
}
