/*
 * soasync diff: compare two zones record by record, each from a master
 * file or (to come) a zone transfer. Formatting never counts: both sides are
 * brought to canonical form and order first, so the diff is a merge.
 */
#include <getopt.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include <soasync/error.h>
#include <soasync/zone.h>

#include "opts.h"
#include "render_cmds.h"
#include "session.h"

enum { DIFF_SAME = 0, DIFF_DIFFERENT = 1, DIFF_ERROR = 2 };
enum { OPT_ORIGIN = OPT_NET_LAST + 1, OPT_IGNORE_TTL, OPT_DEFAULT_TTL };

static const char diff_help[] =
    "Usage: soasync diff [options] A B\n"
    "\n"
    "Compare two versions of a zone record by record. A and B are each a zone file\n"
    "or @ADDR[#PORT] (a zone transfer from that server). Formatting never counts:\n"
    "relative names, case, TTL notation, record order, comments and duplicates.\n"
    "\n"
    "Output: '- record' for each record only in A, '+ record' for each record only\n"
    "in B, in canonical order (RFC 4034), in presentation format. A TTL change shows\n"
    "as both.\n"
    "\n"
    "Options:\n"
    "  --origin ZONE   the zone's name, where a file does not tell it ($ORIGIN, an\n"
    "                  absolute SOA owner; else the file name, like example.com.zone,\n"
    "                  with a warning)\n"
    "  --ignore-ttl    records that differ only in TTL are the same\n"
    "  --default-ttl TTL  the TTL of records that have none, where a file has no $TTL\n"
    "                  and no TTL before them (default 3600, as Knot, NSD and ldns;\n"
    "                  BIND takes the SOA minimum)\n"
    "  --json          one object: {\"only_in_a\": [...], \"only_in_b\": [...]}\n"
    "Transfers (@ADDR):\n"
    "  --tsig-key FILE, -y [ALG:]NAME:SECRET   sign the AXFR with this key (ALG\n"
    "                                          default hmac-sha256)\n"
    "  -b, --source ADDR                       send from this address\n"
    "  --timeout DURATION                      longest silence: no byte for that\n"
    "                                          long (default 1500ms; a bare number\n"
    "                                          counts milliseconds)\n"
    "  --transfer-deadline DUR                 longest transfer (90s, 10m; default\n"
    "                                          10m)\n"
    "  --max-transfer-size SIZE                memory both transfers may hold at\n"
    "                                          once (K, M, G; default 1G); past it\n"
    "                                          the diff fails (exit 2)\n"
    "  -h, --help      this help\n"
    "\n"
    "Exit status: 0 the zones are the same, 1 they differ, 2 error, 3 usage error.\n";

typedef struct {
	bool json;
	bool ignore_ttl;
	bool have_origin;
	knot_dname_storage_t origin;
	uint32_t default_ttl; /* 0: the library's default */
	cli_net_t net;        /* for transfers */
	cli_tsig_t tsig;
	cli_xfr_t xfr;
	const char *args[2]; /* A and B */
} diff_ctx_t;

typedef struct {
	const char *arg;
	const knot_dname_t *origin;
	const diff_ctx_t *ctx;
	cli_session_t *sess; /* for transfers: one for both, so they share the memory limit */
	ss_zone_t *zone;
	int ret;
	ss_zone_error_t err;
} source_t;

typedef struct {
	source_t *src;
	bool done;
} xfr_wait_t;

static void transferred(ss_zone_t *zone, const ss_xfr_result_t *res, void *arg)
{
	xfr_wait_t *w = arg;
	w->src->zone = zone;
	w->src->ret = zone ? 0 : (res->error ? res->error : SS_EXFR);
	if (zone == NULL) {
		snprintf(w->src->err.message, sizeof(w->src->err.message), "AXFR failed: %s",
		         res->detail);
	}
	w->done = true;
}

/* An AXFR of origin from the address after the '@'. */
static int load_transfer(source_t *s, const knot_dname_t *origin)
{
	ss_xfr_opts_t o = {.zone = origin, .tsig = s->ctx->tsig.have ? &s->ctx->tsig.key : NULL};
	if (ss_addr_parse(&o.server, s->arg + 1, 53) != 0) {
		snprintf(s->err.message, sizeof(s->err.message),
		         "expected @ADDR or @ADDR#PORT (an IPv4 or IPv6 address)");
		return SS_EADDR;
	}
	xfr_wait_t w = {s, false};
	int ret = ss_zone_transfer(s->sess->e, &o, transferred, &w);
	if (ret == 0) {
		cli_session_run(s->sess);
		ret = w.done ? s->ret : SS_EXFR;
	}
	return ret;
}

/*
 * Load one side into a finished zone. "@ADDR[#PORT]" is a zone transfer of
 * origin (never NULL there: --origin or the other side's origin) from that
 * server; anything else is a master file (origin may be NULL). Returns 0 or
 * an SS_E* code with err filled (file: the argument, line 0 for transfers).
 */
static int load_source(source_t *s)
{
	if (s->arg[0] != '@') {
		return ss_zone_load_file(s->arg, s->origin, s->ctx->default_ttl, &s->zone, &s->err);
	}
	s->zone = NULL;
	memset(&s->err, 0, sizeof(s->err));
	snprintf(s->err.file, sizeof(s->err.file), "%s", s->arg);
	if (s->origin == NULL) {
		snprintf(s->err.message, sizeof(s->err.message),
		         "which zone to transfer? give --origin ZONE");
		return SS_EINVAL;
	}
	return load_transfer(s, s->origin);
}

static void *load_thread(void *arg)
{
	source_t *s = arg;
	s->ret = load_source(s);
	return NULL;
}

static void report_error(const source_t *s)
{
	const char *file = s->err.file[0] != '\0' ? s->err.file : s->arg;
	const char *msg = s->err.message[0] != '\0' ? s->err.message : ss_strerror(s->ret);
	if (s->err.line > 0) {
		cli_err("%s:%llu: %s", file, (unsigned long long)s->err.line, msg);
	} else {
		cli_err("%s: %s", file, msg);
	}
}

/* Files first (both at once: two cores, two zones), then transfers, which
 * may take their origin from a file. */
static int load_both(source_t src[2], const diff_ctx_t *ctx)
{
	for (int i = 0; i < 2; i++) {
		src[i].origin = ctx->have_origin ? ctx->origin : NULL;
	}
	pthread_t th;
	bool both_files = src[0].arg[0] != '@' && src[1].arg[0] != '@';
	cli_session_t sess;
	if (!both_files && cli_session_open(&sess, &ctx->net) != 0) {
		return -1;
	}
	src[0].sess = src[1].sess = both_files ? NULL : &sess;
	bool threaded = both_files && pthread_create(&th, NULL, load_thread, &src[1]) == 0;
	for (int i = 0; i < 2; i++) {
		if (src[i].arg[0] != '@' && !(threaded && i == 1)) {
			load_thread(&src[i]);
		}
	}
	if (threaded) {
		pthread_join(th, NULL);
	}
	for (int i = 0; i < 2; i++) {
		if (src[i].arg[0] == '@') {
			ss_zone_t *other = src[1 - i].zone;
			if (src[i].origin == NULL && other != NULL) {
				src[i].origin = ss_zone_origin(other);
			}
			load_thread(&src[i]);
		}
	}
	if (!both_files) {
		cli_session_close(&sess);
	}
	int ret = 0;
	for (int i = 0; i < 2; i++) {
		if (src[i].ret != 0) {
			report_error(&src[i]);
			ret = -1;
		}
	}
	return ret;
}

static void warn_sources(const source_t src[2])
{
	char a[KNOT_DNAME_TXT_MAXLEN + 1], b[KNOT_DNAME_TXT_MAXLEN + 1];
	knot_dname_to_str(a, ss_zone_origin(src[0].zone), sizeof(a));
	knot_dname_to_str(b, ss_zone_origin(src[1].zone), sizeof(b));
	if (strcmp(a, b) != 0) {
		cli_err("warning: %s is zone %s but %s is zone %s", src[0].arg, a, src[1].arg, b);
	}
	for (int i = 0; i < 2; i++) {
		size_t n = ss_zone_out_of_zone(src[i].zone);
		if (n > 0) {
			cli_err("warning: %s: %zu records outside %s ignored", src[i].arg, n,
			        i == 0 ? a : b);
		}
		if (src[i].arg[0] != '@') {
			cli_zone_warnings(src[i].arg, src[i].zone, src[i].ctx->default_ttl != 0);
		}
	}
	if (getenv("SOASYNC_STATS") == NULL) {
		return;
	}
	for (int i = 0; i < 2; i++) {
		ss_zone_stats_t st;
		ss_zone_stats(src[i].zone, &st);
		cli_err(
		    "stats: %s: %zu records (%zu read), parse %.3f s, sort %.3f s, arena %.1f MiB",
		    src[i].arg, ss_zone_count(src[i].zone), st.added, st.parse_s, st.sort_s,
		    (double)st.bytes / (1024.0 * 1024.0));
	}
}

/* Returns 1 when --help was printed, -1 on a usage error, 0 to go on. */
static int parse_args(void *arg, int argc, char **argv)
{
	static const struct option longopts[] = {
	    {"origin", required_argument, NULL, OPT_ORIGIN},
	    {"ignore-ttl", no_argument, NULL, OPT_IGNORE_TTL},
	    {"default-ttl", required_argument, NULL, OPT_DEFAULT_TTL},
	    {"source", required_argument, NULL, OPT_SOURCE},
	    CLI_JSON_LONGOPT,
	    CLI_TSIG_LONGOPT,
	    CLI_QUERY_TIMEOUT_LONGOPT,
	    CLI_XFR_LONGOPTS,
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	/* Of the network options only the source and the timeout apply (-b too). */
	diff_ctx_t *ctx = arg;
	cli_shared_t sh = {.cmd = "diff",
	                   .net = &ctx->net,
	                   .tsig = &ctx->tsig,
	                   .json = &ctx->json,
	                   .xfr = &ctx->xfr};
	int opt = 0;
	while ((opt = cli_getopt(argc, argv, "hb:y:", longopts, &sh)) >= 0) {
		switch (opt) {
		case 'h':
			fputs(diff_help, stdout);
			return 1;
		case OPT_ORIGIN:
			if (knot_dname_from_str(ctx->origin, optarg, sizeof(ctx->origin)) == NULL) {
				cli_err("--origin: '%s' is not a domain name", optarg);
				return -1;
			}
			ctx->have_origin = true;
			break;
		case OPT_IGNORE_TTL:
			ctx->ignore_ttl = true;
			break;
		case OPT_DEFAULT_TTL:
			if (cli_parse_ttl("--default-ttl", optarg, &ctx->default_ttl) != 0) {
				return -1;
			}
			break;
		}
	}
	if (opt == -2) {
		return -1;
	}
	if (argc - optind != 2) {
		cli_err("diff: expected two zones, A and B; see 'soasync diff --help'");
		return -1;
	}
	ctx->args[0] = argv[optind];
	ctx->args[1] = argv[optind + 1];
	return 0;
}

static int run_diff(diff_ctx_t *ctx, source_t src[2])
{
	size_t ndiff = 0;
	render_diff_t *r = render_diff_new(stdout, ctx->json);
	if (r == NULL) {
		cli_err("%s", ss_strerror(SS_ENOMEM));
		return DIFF_ERROR;
	}
	int ret =
	    ss_zone_diff(src[0].zone, src[1].zone, ctx->ignore_ttl, render_diff_record, r, &ndiff);
	if (ret == 0) {
		ret = render_diff_end(r);
	}
	render_diff_free(r);
	if (ret != 0) {
		cli_err("cannot write the output: %s", ss_strerror(ret));
		return DIFF_ERROR;
	}
	return ndiff > 0 ? DIFF_DIFFERENT : DIFF_SAME;
}

static int run(void *arg)
{
	diff_ctx_t *ctx = arg;
	source_t src[2] = {{.arg = ctx->args[0], .ctx = ctx}, {.arg = ctx->args[1], .ctx = ctx}};
	int ret = DIFF_ERROR;
	if (load_both(src, ctx) == 0) {
		warn_sources(src);
		ret = run_diff(ctx, src);
	}
	ss_zone_free(src[0].zone);
	ss_zone_free(src[1].zone);
	return ret;
}

static void done(void *arg)
{
	diff_ctx_t *ctx = arg;
	cli_tsig_free(&ctx->tsig);
	cli_net_free(&ctx->net);
}

int cmd_diff(int argc, char **argv)
{
	static const cli_steps_t steps = {parse_args, run, done};
	diff_ctx_t ctx = {0};
	cli_net_init(&ctx.net);
	return cli_command(&steps, &ctx, argc, argv);
}
