/*
 * soasync notify: send NOTIFY for a zone to the servers that are behind
 * (default), to every secondary (--all) or to chosen addresses (--to).
 */
#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#include <soasync/doctor.h>
#include <soasync/error.h>
#include <soasync/notify.h>

#include "opts.h"
#include "render_cmds.h"
#include "session.h"

static const char notify_help[] =
    "Usage: soasync notify [options] ZONE\n"
    "\n"
    "Send a NOTIFY (RFC 1996, with the current SOA in the answer section) for ZONE,\n"
    "by default to the servers whose serial is behind the reference, and retry each\n"
    "until it is acknowledged or the deadline passes.\n"
    "\n"
    "Targets:\n"
    "  --to ADDR[#PORT][,...]   notify these addresses (repeatable)\n"
    "  --all                    notify every secondary (all but the primary)\n"
    "  --deadline DURATION      give up on a target after this long (default 10s;\n"
    "                           a bare number counts seconds)\n"
    "  --tsig-key FILE          sign with the key in FILE (BIND key file syntax)\n"
    "  -y [ALG:]NAME:SECRET     sign with this key (ALG default hmac-sha256)\n"
    "%s"
    "Output:\n"
    "  --json                   one JSON object: zone, serial, targets\n"
    "  -h, --help               this help\n"
    "\n"
    "Exit status: 0 every target acknowledged, 2 otherwise, 3 usage or lookup error.\n";

enum { OPT_TO = OPT_NET_LAST + 1, OPT_ALL, OPT_DEADLINE };

typedef struct {
	cli_net_t net;
	cli_tsig_t tsig;
	ss_addr_t *to;
	size_t nto;
	bool all, json;
	uint64_t deadline_ms;
	const char *zone;
} notify_args_t;

static int parse_args(void *arg, int argc, char **argv)
{
	static const struct option longopts[] = {
	    CLI_NET_LONGOPTS,
	    CLI_QUERY_TIMEOUT_LONGOPT,
	    CLI_TSIG_LONGOPT,
	    CLI_JSON_LONGOPT,
	    {"to", required_argument, NULL, OPT_TO},
	    {"all", no_argument, NULL, OPT_ALL},
	    {"deadline", required_argument, NULL, OPT_DEADLINE},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	notify_args_t *a = arg;
	cli_shared_t sh = {.cmd = "notify", .net = &a->net, .tsig = &a->tsig, .json = &a->json};
	int opt = 0, r = 0;
	while (r == 0 &&
	       (opt = cli_getopt(argc, argv, CLI_NET_SHORTOPTS "hy:", longopts, &sh)) >= 0) {
		switch (opt) {
		case 'h':
			printf(notify_help, cli_net_help);
			return 1;
		case OPT_TO:
			r = cli_parse_addr_list("--to", optarg, &a->to, &a->nto);
			break;
		case OPT_ALL:
			a->all = true;
			break;
		case OPT_DEADLINE:
			r = cli_parse_duration("--deadline", optarg, 1000, 10, 86400000,
			                       &a->deadline_ms);
			break;
		}
	}
	if (r != 0 || opt == -2 || (a->zone = cli_one_zone("notify", argc, argv)) == NULL) {
		return -1;
	}
	if (a->all && a->nto > 0) {
		cli_err("notify: --all and --to exclude each other");
		return -1;
	}
	return cli_net_finish(&a->net, a->net.nns == 0);
}

/* Default targets: the servers behind the reference; --all: every secondary. */
static size_t pick_targets(const notify_args_t *a, const ss_zone_result_t *res, ss_addr_t *out)
{
	if (a->nto > 0) {
		memcpy(out, a->to, a->nto * sizeof(*out));
		return a->nto;
	}
	return ss_zone_laggards(res, a->all, out, res->obs.nservers);
}

typedef struct {
	ss_notify_result_t *res;
	size_t n;
} collect_t;

static void collected(const ss_notify_result_t *r, void *arg)
{
	collect_t *c = arg;
	for (size_t i = 0; i < c->n; i++) {
		if (ss_addr_equal(&c->res[i].target, &r->target)) {
			c->res[i] = *r;
		}
	}
}

static int notify_all(cli_session_t *s, const notify_args_t *a, const ss_zone_result_t *zr,
                      const ss_addr_t *targets, size_t n)
{
	ss_notify_result_t *res = calloc(n, sizeof(*res));
	if (res == NULL) {
		cli_err("out of memory");
		return EXIT_UNKNOWN;
	}
	collect_t c = {res, n};
	for (size_t i = 0; i < n; i++) {
		res[i] = (ss_notify_result_t){
		    .target = targets[i], .status = SS_NOTIFY_NOANSWER, .rcode = -1};
	}
	int ret = ss_notify_zone(s->e, zr, targets, n, a->tsig.have ? &a->tsig.key : NULL,
	                         (unsigned)a->deadline_ms, collected, &c);
	if (ret != 0) {
		cli_zerr(zr->obs.zone_str, "%s",
		         ret == SS_ENOSOA ? "no server answered with the zone's SOA: "
		                            "nothing to notify"
		                          : ss_strerror(ret));
		free(res);
		return EXIT_UNKNOWN;
	}
	cli_session_run(s);
	int code = EXIT_OK_;
	for (size_t i = 0; i < n; i++) {
		if (res[i].status != SS_NOTIFY_ACKED) {
			code = EXIT_CRITICAL;
		}
	}
	render_notify(stdout, a->json, zr->obs.zone_str, zr->reference_serial, res, n);
	free(res);
	return code;
}

static int run(void *arg)
{
	notify_args_t *a = arg;
	cli_session_t s;
	if (cli_session_open(&s, &a->net) != 0) {
		return EXIT_UNKNOWN;
	}
	ss_zone_result_t zr;
	cli_probe_where_t where = cli_probe_where(&a->net);
	int code = EXIT_UNKNOWN;
	if (cli_probe(&s, &a->net, &where, a->zone, &zr) != 0) {
		cli_session_close(&s);
		return EXIT_UNKNOWN;
	}
	ss_addr_t *targets = calloc(zr.obs.nservers + a->nto + 1, sizeof(*targets));
	size_t n = targets ? pick_targets(a, &zr, targets) : 0;
	if (targets == NULL) {
		cli_err("out of memory");
	} else if (!zr.has_reference) {
		cli_zerr(zr.obs.zone_str,
		         "no server answered with the zone's SOA: nothing to notify");
	} else if (n == 0) {
		cli_zerr(zr.obs.zone_str,
		         "every server serves the reference serial %u: nothing to notify (--all "
		         "notifies every secondary)",
		         zr.reference_serial);
		code = EXIT_OK_;
		render_notify(stdout, a->json, zr.obs.zone_str, zr.reference_serial, NULL, 0);
	} else {
		code = notify_all(&s, a, &zr, targets, n);
	}
	free(targets);
	ss_zone_result_clear(&zr);
	cli_session_close(&s);
	return code;
}

static void done(void *arg)
{
	notify_args_t *a = arg;
	cli_tsig_free(&a->tsig);
	cli_net_free(&a->net);
	free(a->to);
}

int cmd_notify(int argc, char **argv)
{
	static const cli_steps_t steps = {parse_args, run, done};
	notify_args_t a;
	memset(&a, 0, sizeof(a));
	a.deadline_ms = 10000;
	cli_net_init(&a.net);
	return cli_command(&steps, &a, argc, argv);
}
