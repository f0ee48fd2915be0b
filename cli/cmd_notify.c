/*
 * soasync notify: send NOTIFY for a zone to the servers that are behind
 * (default), to every secondary (--all) or to chosen addresses (--to).
 */
#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include <soasync/doctor.h>
#include <soasync/error.h>
#include <soasync/notify.h>
#include <soasync/serial.h>

#include "opts.h"
#include "render.h"
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
    "  --deadline S             give up on a target after S seconds (default 10)\n"
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
	unsigned deadline_s;
	const char *zone;
} notify_args_t;

static int parse_args(notify_args_t *a, int argc, char **argv)
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
			r = cli_parse_uint("--deadline", optarg, 1, 86400, &a->deadline_s);
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
	size_t n, done;
} collect_t;

static void collected(const ss_notify_result_t *r, void *arg)
{
	collect_t *c = arg;
	for (size_t i = 0; i < c->n; i++) {
		if (ss_addr_equal(&c->res[i].target, &r->target)) {
			c->res[i] = *r;
		}
	}
	c->done++;
}

static void print_results(const notify_args_t *a, const ss_zone_result_t *zr,
                          const ss_notify_result_t *res, size_t n)
{
	if (a->json) {
		json_t *targets = json_array();
		for (size_t i = 0; i < n; i++) {
			char addr[SS_ADDR_STRLEN];
			ss_addr_ntop(&res[i].target, addr, sizeof(addr));
			json_array_append_new(
			    targets,
			    json_pack("{s:s, s:i, s:s, s:o, s:o, s:i}", "address", addr, "port",
			              (int)ss_addr_port(&res[i].target), "status",
			              ss_notify_status_name(res[i].status), "rcode",
			              res[i].rcode < 0 ? json_null()
			                               : json_string(render_rcode(res[i].rcode)),
			              "error",
			              res[i].status == SS_NOTIFY_NOANSWER
			                  ? json_string(ss_strerror(res[i].error))
			                  : json_null(),
			              "attempts", (int)res[i].attempts));
			if (res[i].tsig_error != 0) {
				json_object_set_new(
				    json_array_get(targets, i), "tsig_error",
				    json_string(ss_tsig_error_name(res[i].tsig_error)
				                    ? ss_tsig_error_name(res[i].tsig_error)
				                    : "error"));
			}
		}
		json_t *o = json_pack("{s:s, s:I, s:o}", "zone", zr->obs.zone_str, "serial",
		                      (json_int_t)zr->reference_serial, "targets", targets);
		char *s = json_dumps(o, JSON_COMPACT);
		if (s != NULL) {
			puts(s);
		}
		free(s);
		json_decref(o);
		return;
	}
	for (size_t i = 0; i < n; i++) {
		char addr[SS_ADDR_STRLEN];
		const ss_notify_result_t *r = &res[i];
		printf("%-40s %s", ss_addr_format(&r->target, addr, sizeof(addr)),
		       ss_notify_status_name(r->status));
		if (r->status == SS_NOTIFY_REFUSED) {
			const char *te = ss_tsig_error_name(r->tsig_error);
			printf(" (%s%s%s)", render_rcode(r->rcode), te ? ", TSIG " : "",
			       te ? te : "");
		} else if (r->status == SS_NOTIFY_NOANSWER) {
			printf(" (%s after %u attempts)", ss_strerror(r->error), r->attempts);
		} else {
			printf(" (%.1f ms)", r->rtt_us / 1000.0);
		}
		putchar('\n');
	}
}

static int notify_all(cli_session_t *s, const notify_args_t *a, const ss_zone_result_t *zr,
                      const ss_addr_t *targets, size_t n)
{
	long ref = ss_zone_reference_server(zr);
	knot_rrset_t *soa =
	    ref >= 0 ? ss_soa_to_rrset(zr->obs.zone, &zr->obs.servers[ref].soa) : NULL;
	if (soa == NULL) {
		cli_zerr(zr->obs.zone_str,
		         "no server answered with the zone's SOA: nothing to notify");
		return EXIT_UNKNOWN;
	}
	ss_notify_result_t *res = calloc(n, sizeof(*res));
	collect_t c = {res, n, 0};
	for (size_t i = 0; res != NULL && i < n; i++) {
		res[i].target = targets[i];
		res[i].status = SS_NOTIFY_NOANSWER;
		res[i].rcode = -1;
		if (ss_notify_send(s->e, zr->obs.zone, soa, &targets[i],
		                   a->tsig.have ? &a->tsig.key : NULL, a->deadline_s * 1000,
		                   collected, &c) != 0) {
			res[i].error = SS_ENOMEM;
			c.done++;
		}
	}
	cli_session_run(s);
	int code = EXIT_OK_;
	for (size_t i = 0; res != NULL && i < n; i++) {
		if (res[i].status != SS_NOTIFY_ACKED) {
			code = EXIT_CRITICAL;
		}
	}
	if (res != NULL) {
		print_results(a, zr, res, n);
	}
	free(res);
	knot_rrset_free(soa, NULL);
	return res ? code : EXIT_UNKNOWN;
}

static int run(notify_args_t *a)
{
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
		fprintf(stderr,
		        "soasync: %s: every server serves the reference serial %u: nothing "
		        "to notify (--all notifies every secondary)\n",
		        zr.obs.zone_str, zr.reference_serial);
		code = EXIT_OK_;
		if (a->json) {
			printf("{\"zone\":\"%s\",\"serial\":%u,\"targets\":[]}\n", zr.obs.zone_str,
			       zr.reference_serial);
		}
	} else {
		code = notify_all(&s, a, &zr, targets, n);
	}
	free(targets);
	ss_zone_result_clear(&zr);
	cli_session_close(&s);
	return code;
}

int cmd_notify(int argc, char **argv)
{
	notify_args_t a;
	memset(&a, 0, sizeof(a));
	a.deadline_s = 10;
	cli_net_init(&a.net);
	int ret = parse_args(&a, argc, argv);
	int code = ret > 0 ? EXIT_OK_ : ret < 0 ? EXIT_UNKNOWN : run(&a);
	cli_tsig_free(&a.tsig);
	cli_net_free(&a.net);
	free(a.to);
	return code;
}
