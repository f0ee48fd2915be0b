/*
 * soasync xfr-check: may each server of a zone transfer it, to whom, with
 * which key; does IXFR work?
 */
#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include <soasync/checkxfr.h>
#include <soasync/error.h>
#include <soasync/xfr.h>

#include "opts.h"
#include "render.h"
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
    "2 critical, 3 unknown.\n";

enum { OPT_NO_IXFR = OPT_NET_LAST + 1, OPT_XFR_TIMEOUT };

typedef struct {
	cli_net_t net;
	cli_tsig_t tsig;
	bool no_ixfr, json;
	unsigned xfr_timeout_s;
	cli_color_t color;
	const char *zone;
	cli_xfr_t xfr;
} xfr_args_t;

static int parse_args(xfr_args_t *a, int argc, char **argv)
{
	static const struct option longopts[] = {
	    CLI_NET_LONGOPTS,
	    CLI_QUERY_TIMEOUT_LONGOPT,
	    CLI_TSIG_LONGOPT,
	    CLI_JSON_LONGOPT,
	    CLI_COLOR_LONGOPT,
	    CLI_XFR_LONGOPTS,
	    {"no-ixfr", no_argument, NULL, OPT_NO_IXFR},
	    {"xfr-timeout", required_argument, NULL, OPT_XFR_TIMEOUT},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	cli_shared_t sh = {.cmd = "xfr-check",
	                   .net = &a->net,
	                   .tsig = &a->tsig,
	                   .json = &a->json,
	                   .color = &a->color,
	                   .xfr = &a->xfr};
	int opt = 0, r = 0;
	while (r == 0 &&
	       (opt = cli_getopt(argc, argv, CLI_NET_SHORTOPTS "hy:", longopts, &sh)) >= 0) {
		switch (opt) {
		case 'h':
			printf(xfr_help, cli_xfr_help, cli_net_help);
			return 1;
		case OPT_NO_IXFR:
			a->no_ixfr = true;
			break;
		case OPT_XFR_TIMEOUT:
			r = cli_parse_uint("--xfr-timeout", optarg, 1, 86400, &a->xfr_timeout_s);
			break;
		}
	}
	if (r != 0 || opt == -2 || (a->zone = cli_one_zone("xfr-check", argc, argv)) == NULL) {
		return -1;
	}
	return cli_net_finish(&a->net, a->net.nns == 0);
}

static const char *ixfr_text(const ss_server_obs_t *s)
{
	if (s->ixfr != SS_XFR_ALLOWED) {
		return ss_xfr_state_name(s->ixfr);
	}
	switch (s->ixfr_kind) {
	case SS_IXFR_INCREMENTAL:
		return "incremental";
	case SS_IXFR_AXFR:
		return "axfr";
	case SS_IXFR_UP_TO_DATE:
		return "up-to-date";
	case SS_IXFR_SINGLE_SOA:
		return "single-soa";
	default:
		return "failed";
	}
}

static json_t *server_json(const ss_server_obs_t *s)
{
	char addr[SS_ADDR_STRLEN];
	ss_addr_ntop(&s->addr, addr, sizeof(addr));
	const char *err = s->xfr_error;
	if (!s->has_soa) {
		err = s->detail ? s->detail : ss_strerror(s->error);
	}
	json_t *o = json_pack(
	    "{s:o, s:s, s:i, s:o, s:s, s:s, s:s, s:o, s:o}", "name",
	    s->name ? json_string(s->name) : json_null(), "address", addr, "port",
	    (int)ss_addr_port(&s->addr), "soa_serial",
	    s->has_soa ? json_integer(s->soa.serial) : json_null(), "axfr",
	    ss_xfr_state_name(s->axfr), "axfr_tsig", ss_xfr_state_name(s->axfr_tsig), "ixfr",
	    ixfr_text(s), "error", err ? json_string(err) : json_null(), "vendor",
	    ss_vendor_name(s->vendor) ? json_string(ss_vendor_name(s->vendor)) : json_null());
	if (o != NULL) {
		bool got = s->axfr == SS_XFR_ALLOWED || s->axfr_tsig == SS_XFR_ALLOWED;
		json_object_set_new(o, "axfr_records",
		                    got ? json_integer((json_int_t)s->xfr_records) : json_null());
		json_object_set_new(o, "axfr_serial",
		                    got ? json_integer(s->xfr_serial) : json_null());
	}
	return o;
}

static void print_json(const ss_zone_result_t *res)
{
	json_t *servers = json_array();
	for (size_t i = 0; i < res->obs.nservers; i++) {
		json_array_append_new(servers, server_json(&res->obs.servers[i]));
	}
	render_json_line(stdout, json_pack("{s:s, s:s, s:o, s:o}", "zone", res->obs.zone_str,
	                                   "status", ss_status_name(res->status), "servers",
	                                   servers, "findings", render_findings_json(res)));
}

static void print_table(const ss_zone_result_t *res, bool color)
{
	printf("%s %s\n", res->obs.zone_str, ss_status_name(res->status));
	printf("  %-24s %-22s %-10s %-9s %-9s %-12s %s\n", "NAME", "ADDRESS", "SERIAL", "AXFR",
	       "AXFR-TSIG", "IXFR", "ERROR");
	for (size_t i = 0; i < res->obs.nservers; i++) {
		const ss_server_obs_t *s = &res->obs.servers[i];
		char addr[SS_ADDR_STRLEN], serial[16] = "-";
		if (s->has_soa) {
			snprintf(serial, sizeof(serial), "%u", s->soa.serial);
		}
		printf("  %-24s %-22s %-10s %-9s %-9s %-12s %s\n", s->name ? s->name : "-",
		       ss_addr_format(&s->addr, addr, sizeof(addr)), serial,
		       ss_xfr_state_name(s->axfr), ss_xfr_state_name(s->axfr_tsig), ixfr_text(s),
		       s->has_soa ? (s->xfr_error ? s->xfr_error : "")
		                  : (s->detail ? s->detail : ss_strerror(s->error)));
	}
	render_findings_text(stdout, res, color);
}

static void transfers_done(ss_zone_result_t *res, void *arg)
{
	(void)res;
	*(bool *)arg = true;
}

static int run(xfr_args_t *a)
{
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
	    .limit_ms = a->xfr_timeout_s * 1000,
	};
	bool done = false;
	if (ss_check_transfers(s.e, &zr, &plan, transfers_done, &done) == 0) {
		cli_session_run(&s);
	}
	int code = EXIT_UNKNOWN;
	if (done && ss_check_analyze(&zr) == 0) {
		if (a->json) {
			print_json(&zr);
		} else {
			print_table(&zr, cli_use_color(a->color, stdout));
		}
		code = (int)zr.status;
	}
	ss_zone_result_clear(&zr);
	cli_session_close(&s);
	return code;
}

int cmd_xfr_check(int argc, char **argv)
{
	xfr_args_t a;
	memset(&a, 0, sizeof(a));
	cli_net_init(&a.net);
	int ret = parse_args(&a, argc, argv);
	int code = ret > 0 ? EXIT_OK_ : ret < 0 ? EXIT_UNKNOWN : run(&a);
	cli_tsig_free(&a.tsig);
	cli_net_free(&a.net);
	return code;
}
