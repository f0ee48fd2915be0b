/*
 * soasync xfr-check: may each server of a zone transfer it, to whom, with
 * which key; does IXFR work?
 */
#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#include <soasync/checkxfr.h>
#include <soasync/error.h>

#include "opts.h"
#include "render_cmds.h"
#include "session.h"

static const char xfr_help[] =
    "Usage: soasync xfr-check [options] ZONE\n"
    "\n"
    "For every authoritative server address of ZONE: the SOA answer, whether AXFR is\n"
    "allowed (from this host's address, without and with the TSIG key), and what an\n"
    "IXFR from an older serial gives.\n"
    "\n"
    "  --tsig-key FILE          also try AXFR signed with the key in FILE (BIND syntax)\n"
    "  -y [ALG:]NAME:SECRET     also try AXFR signed with this key (ALG default\n"
    "                           hmac-sha256)\n"
    "  --no-ixfr                do not try IXFR\n"
    "  --xfr-timeout S          the same as --transfer-deadline S\n"
    "%s"
    "%s"
    "Output:\n"
    "  --json                   one JSON object per zone\n"
    "  --color WHEN             auto (default), always, never\n"
    "  -h, --help               this help\n"
    "\n"
    "Findings: transfer-open (AXFR without a key works: warning), transfer-refused,\n"
    "transfer-failed, transfer-too-large. Exit status as check: 0 ok, 1 warning,\n"
    "2 critical, 3 unknown (also for usage errors).\n";

enum { OPT_NO_IXFR = OPT_NET_LAST + 1 };

typedef struct {
	cli_net_t net;
	cli_tsig_t tsig;
	cli_xfr_t xfr;
	bool no_ixfr, json;
	cli_color_t color;
	const char *zone;
} xfr_args_t;

static int parse_args(void *arg, int argc, char **argv)
{
	static const struct option longopts[] = {
	    CLI_NET_LONGOPTS,
	    CLI_QUERY_TIMEOUT_LONGOPT,
	    CLI_TSIG_LONGOPT,
	    CLI_JSON_LONGOPT,
	    CLI_COLOR_LONGOPT,
	    CLI_XFR_LONGOPTS,
	    {"no-ixfr", no_argument, NULL, OPT_NO_IXFR},
	    {"xfr-timeout", required_argument, NULL, OPT_TRANSFER_DEADLINE},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	xfr_args_t *a = arg;
	cli_shared_t sh = {.cmd = "xfr-check",
	                   .net = &a->net,
	                   .tsig = &a->tsig,
	                   .json = &a->json,
	                   .color = &a->color,
	                   .xfr = &a->xfr};
	int opt = 0;
	while ((opt = cli_getopt(argc, argv, CLI_NET_SHORTOPTS "hy:", longopts, &sh)) >= 0) {
		switch (opt) {
		case 'h':
			printf(xfr_help, cli_xfr_help, cli_net_help);
			return 1;
		case OPT_NO_IXFR:
			a->no_ixfr = true;
			break;
		}
	}
	if (opt == -2 || (a->zone = cli_one_zone("xfr-check", argc, argv)) == NULL) {
		return -1;
	}
	return cli_net_finish(&a->net, a->net.nns == 0);
}

static void transfers_done(ss_zone_result_t *res, void *arg)
{
	(void)res;
	*(bool *)arg = true;
}

static int run(void *arg)
{
	xfr_args_t *a = arg;
	cli_session_t s;
	if (cli_session_open(&s, &a->net) != 0) {
		return EXIT_UNKNOWN;
	}
	ss_zone_result_t zr;
	cli_probe_where_t where = cli_probe_where(&a->net);
	if (cli_probe(&s, &a->net, &where, a->zone, &zr) != 0) {
		cli_session_close(&s);
		return EXIT_UNKNOWN;
	}
	char src[SS_ADDR_STRLEN];
	if (a->net.eng.has_source4 || a->net.eng.has_source6) {
		zr.obs.source = strdup(
		    ss_addr_ntop(a->net.eng.has_source4 ? &a->net.eng.source4 : &a->net.eng.source6,
		                 src, sizeof(src)));
	}
	ss_xfr_plan_t plan = {
	    .axfr = true,
	    .tsig = a->tsig.have ? &a->tsig.key : NULL,
	    .ixfr = !a->no_ixfr,
	    .limit_ms = (unsigned)a->xfr.deadline_ms,
	};
	bool done = false;
	if (ss_check_transfers(s.e, &zr, &plan, transfers_done, &done) == 0) {
		cli_session_run(&s);
	}
	int code = EXIT_UNKNOWN;
	if (done && ss_check_analyze(&zr) == 0) {
		if (a->json) {
			render_xfr_json(stdout, &zr);
		} else {
			render_xfr_table(stdout, &zr, cli_use_color(a->color, stdout));
		}
		code = (int)zr.status;
	}
	ss_zone_result_clear(&zr);
	cli_session_close(&s);
	return code;
}

static void done(void *arg)
{
	xfr_args_t *a = arg;
	cli_tsig_free(&a->tsig);
	cli_net_free(&a->net);
}

int cmd_xfr_check(int argc, char **argv)
{
	static const cli_steps_t steps = {parse_args, run, done};
	xfr_args_t a;
	memset(&a, 0, sizeof(a));
	cli_net_init(&a.net);
	return cli_command(&steps, &a, argc, argv);
}
