#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <soasync/error.h>
#include <soasync/resolver.h>
#include <soasync/units.h>

#include "opts.h"

void cli_err(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	fputs("soasync: ", stderr);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
}

void cli_zerr(const char *zone, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	fprintf(stderr, "soasync: %s: ", zone);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
}

int cli_command(const cli_steps_t *steps, void *args, int argc, char **argv)
{
	int r = steps->parse(args, argc, argv);
	int code = r > 0 ? EXIT_OK_ : r < 0 ? EXIT_USAGE : steps->run(args);
	steps->done(args);
	return code;
}

bool cli_use_color(cli_color_t mode, FILE *f)
{
	if (mode != CLI_COLOR_AUTO) {
		return mode == CLI_COLOR_ALWAYS;
	}
	const char *nc = getenv("NO_COLOR");
	if (nc != NULL && *nc != '\0') {
		return false;
	}
	const char *term = getenv("TERM");
	if (term != NULL && strcmp(term, "dumb") == 0) {
		return false;
	}
	return isatty(fileno(f));
}

int cli_parse_uint(const char *opt, const char *arg, unsigned min, unsigned max, unsigned *out)
{
	char *end = NULL;
	errno = 0;
	unsigned long v = strtoul(arg, &end, 10);
	if (errno != 0 || end == arg || *end != '\0' || arg[0] == '-' || v < min || v > max) {
		cli_err("%s: expected a number from %u to %u, got '%s'", opt, min, max, arg);
		return -1;
	}
	*out = (unsigned)v;
	return 0;
}

int cli_parse_duration(const char *opt, const char *arg, uint64_t bare_unit_ms, uint64_t min_ms,
                       uint64_t max_ms, uint64_t *ms)
{
	char lo[32], hi[32];
	uint64_t v = 0;
	if (ss_duration_parse(arg, bare_unit_ms, &v) != 0 || v < min_ms || v > max_ms) {
		cli_err("%s: expected a duration from %s to %s (e.g. 1500ms, 2s, 5m; a bare number "
		        "counts %s), got '%s'",
		        opt, ss_duration_format(min_ms, lo, sizeof(lo)),
		        ss_duration_format(max_ms, hi, sizeof(hi)),
		        bare_unit_ms == 1000 ? "seconds" : "milliseconds", arg);
		return -1;
	}
	*ms = v;
	return 0;
}

int cli_parse_size(const char *opt, const char *arg, uint64_t min, uint64_t max, uint64_t *bytes)
{
	uint64_t v = 0;
	if (ss_size_parse(arg, &v) != 0 || v < min || v > max) {
		cli_err("%s: expected a size from %" PRIu64 " to %" PRIu64
		        " bytes (with K, M or G: 64M, 1G), got '%s'",
		        opt, min, max, arg);
		return -1;
	}
	*bytes = v;
	return 0;
}

int cli_parse_ttl(const char *opt, const char *arg, uint32_t *ttl)
{
	uint64_t ms = 0;
	if (cli_parse_duration(opt, arg, 1000, 1000, UINT64_C(2147483647) * 1000, &ms) != 0) {
		return -1;
	}
	if (ms % 1000 != 0) {
		cli_err("%s: a TTL is whole seconds, got '%s'", opt, arg);
		return -1;
	}
	*ttl = (uint32_t)(ms / 1000);
	return 0;
}

void cli_zone_warnings(const char *name, const ss_zone_t *z, bool ttl_given)
{
	ss_zone_load_info_t info;
	ss_zone_load_info(z, &info);
	char origin[KNOT_DNAME_TXT_MAXLEN + 1];
	if (info.name_source == SS_ZONE_NAME_FROM_FILENAME &&
	    knot_dname_to_str(origin, ss_zone_origin(z), sizeof(origin)) != NULL) {
		cli_err("warning: %s: no $ORIGIN and a relative SOA owner: the zone's name %s "
		        "comes from the file name (--origin states it)",
		        name, origin);
	}
	ss_zone_soa_t soa;
	if (info.default_ttl_records == 0 || ttl_given || ss_zone_soa_fields(z, &soa) != 0) {
		return;
	}
	cli_err("warning: %s: no $TTL and no TTL on the first record: %zu record%s took the "
	        "TTL %" PRIu32 " (BIND takes the SOA minimum, %" PRIu32 "); set $TTL in the "
	        "file, or give --default-ttl",
	        name, info.default_ttl_records, info.default_ttl_records == 1 ? "" : "s",
	        info.default_ttl, soa.minimum);
}

const char cli_xfr_help[] =
    "Transfers:\n"
    "  --max-transfer-size SIZE  memory the zone transfers may hold at once (K, M, G\n"
    "                           suffixes; default 1G); past it: transfer-too-large\n"
    "  --transfer-deadline DUR  longest whole transfer (90s, 10m; default 10m); the\n"
    "                           query time-out is the longest silence within it\n";

int cli_parse_addr(const char *opt, const char *arg, ss_addr_t *out)
{
	if (ss_addr_parse(out, arg, 53) != 0) {
		cli_err("%s: '%s' is not an address: expected ADDR or ADDR#PORT (IPv4 or IPv6)",
		        opt, arg);
		return -1;
	}
	return 0;
}

int cli_parse_addr_list(const char *opt, const char *arg, ss_addr_t **list, size_t *n)
{
	char *copy = strdup(arg);
	if (copy == NULL) {
		return -1;
	}
	int ret = 0;
	char *save = NULL;
	for (char *tok = strtok_r(copy, ",", &save); tok != NULL && ret == 0;
	     tok = strtok_r(NULL, ",", &save)) {
		ss_addr_t a;
		ss_addr_t *grown = NULL;
		if (cli_parse_addr(opt, tok, &a) != 0) {
			ret = -1;
		} else if ((grown = realloc(*list, (*n + 1) * sizeof(*grown))) == NULL) {
			ret = -1;
		} else {
			*list = grown;
			grown[(*n)++] = a;
		}
	}
	if (ret == 0 && *n == 0) {
		cli_err("%s: no address given", opt);
		ret = -1;
	}
	free(copy);
	return ret;
}

void cli_net_init(cli_net_t *n)
{
	memset(n, 0, sizeof(*n));
	ss_engine_opts_default(&n->eng);
}

static int set_source(cli_net_t *n, const char *opt, const char *arg)
{
	ss_addr_t a;
	if (cli_parse_addr(opt, arg, &a) != 0) {
		return -1;
	}
	if (ss_addr_family(&a) == AF_INET) {
		n->eng.source4 = a;
		n->eng.has_source4 = true;
	} else {
		n->eng.source6 = a;
		n->eng.has_source6 = true;
	}
	return 0;
}

int cli_net_option(cli_net_t *n, int opt, const char *arg)
{
	int r = 0;
	switch (opt) {
	case '4':
		n->only4 = true;
		return 1;
	case '6':
		n->only6 = true;
		return 1;
	case 'b':
	case OPT_SOURCE:
		r = set_source(n, "--source", arg);
		break;
	case OPT_RESOLVER:
		r = cli_parse_addr("--resolver", arg, &n->resolver);
		n->have_resolver = true;
		break;
	case OPT_NS:
		r = cli_parse_addr_list("--ns", arg, &n->ns, &n->nns);
		break;
	case OPT_PRIMARY:
		r = cli_parse_addr_list("--primary", arg, &n->primary, &n->nprimary);
		break;
	case OPT_TIMEOUT: {
		uint64_t ms = 0;
		r = cli_parse_duration("--timeout", arg, 1, 1, 600000, &ms);
		n->eng.timeout_ms = (unsigned)ms;
		break;
	}
	case OPT_TRIES:
		r = cli_parse_uint("--tries", arg, 1, 100, &n->eng.tries);
		break;
	case OPT_MAX_INFLIGHT:
		r = cli_parse_uint("--max-inflight", arg, 1, 100000, &n->eng.max_inflight);
		break;
	case OPT_PER_SERVER:
		r = cli_parse_uint("--per-server", arg, 1, 60000, &n->eng.per_server);
		break;
	default:
		return 0;
	}
	return r == 0 ? 1 : -1;
}

int cli_net_finish(cli_net_t *n, bool need_resolver)
{
	if (n->only4 && n->only6) {
		cli_err("-4 and -6 exclude each other");
		return -1;
	}
	if (!need_resolver || n->have_resolver) {
		return 0;
	}
	int ret = ss_resolver_from_conf("/etc/resolv.conf", &n->resolver);
	if (ret != 0) {
		cli_err("/etc/resolv.conf: no usable nameserver (%s); give --resolver ADDR or --ns",
		        ss_strerror(ret));
		return -1;
	}
	n->have_resolver = true;
	return 0;
}

void cli_net_free(cli_net_t *n)
{
	free(n->ns);
	free(n->primary);
	n->ns = n->primary = NULL;
}

const char cli_net_help[] =
    "Servers and discovery:\n"
    "  --resolver ADDR[#PORT]   recursive resolver for discovery (default: first\n"
    "                           nameserver of /etc/resolv.conf)\n"
    "  --ns ADDR[#PORT][,...]   check exactly these addresses, no discovery (repeatable)\n"
    "  --primary ADDR[#PORT]    the primary (hidden or not); its serial is the reference\n"
    "  -4, -6                   only IPv4 / only IPv6 server addresses\n"
    "Queries:\n"
    "  -b, --source ADDR        send queries from this source address\n"
    "  --query-timeout DUR      wait per try, and after the last one (default 1500ms;\n"
    "                           a bare number counts milliseconds); check, notify,\n"
    "                           xfr-check and diff also take --timeout DUR\n"
    "  --tries N                UDP tries per query (default 3); lost queries are\n"
    "                           retried after an adaptive timeout well below it\n"
    "  --max-inflight N         queries in flight in all (default 1000)\n"
    "  --per-server N           queries in flight per server address (default 100)\n";

int cli_read_zones(const char *path, int (*add)(const char *zone, void *arg), void *arg)
{
	bool is_stdin = strcmp(path, "-") == 0;
	FILE *f = is_stdin ? stdin : fopen(path, "r");
	if (f == NULL) {
		cli_err("--zones-from %s: %s", path, strerror(errno));
		return -1;
	}
	char *line = NULL;
	size_t cap = 0;
	ssize_t len;
	unsigned lineno = 0;
	int ret = 0;
	while (ret == 0 && (len = getline(&line, &cap, f)) >= 0) {
		lineno++;
		char *hash = strchr(line, '#');
		if (hash != NULL) {
			*hash = '\0';
		}
		char *s = line + strspn(line, " \t\r\n");
		char *e = s + strcspn(s, " \t\r\n");
		if (s == e) {
			continue;
		}
		if (*(e + strspn(e, " \t\r\n")) != '\0') {
			cli_err("%s:%u: expected one zone name per line", path, lineno);
			ret = -1;
			break;
		}
		*e = '\0';
		if (add(s, arg) != 0) {
			cli_err("%s:%u: '%s' is not a valid zone name", path, lineno, s);
			ret = -1;
		}
	}
	if (ret == 0 && ferror(f)) {
		cli_err("%s: read error", path);
		ret = -1;
	}
	free(line);
	if (!is_stdin) {
		fclose(f);
	}
	return ret;
}

int cli_tsig_option(cli_tsig_t *t, const char *opt, const char *arg)
{
	if (t->have) {
		cli_err("%s: only one TSIG key can be given", opt);
		return -1;
	}
	char why[256] = "";
	int ret = strcmp(opt, "-y") == 0 ? ss_tsig_from_string(arg, &t->key)
	                                 : ss_tsig_from_bind_file(arg, &t->key, why, sizeof(why));
	if (ret != 0) {
		if (strcmp(opt, "-y") == 0) {
			cli_err("-y: expected [ALG:]NAME:SECRET with a base64 secret");
		} else {
			cli_err("%s: %s", arg, why);
		}
		return -1;
	}
	t->have = true;
	return 0;
}

void cli_tsig_free(cli_tsig_t *t)
{
	if (t->have) {
		knot_tsig_key_deinit(&t->key);
		t->have = false;
	}
}

const char cli_expect_help[] =
    "Expected records (one zone):\n"
    "  --expect 'NAME [TTL] TYPE RDATA'  every server must serve this (repeatable; the\n"
    "                           same NAME and TYPE given again form one RRset; NAME\n"
    "                           relative to the zone or absolute; TTL compared only\n"
    "                           when given)\n"
    "  --expect-file FILE       the same, from a file in zone-file syntax\n"
    "  --expect-absent 'NAME TYPE'  no server may serve this any more (a deletion)\n";

static int push_str(const char ***arr, size_t *n, const char *s)
{
	const char **grown = realloc(*arr, (*n + 1) * sizeof(*grown));
	if (grown == NULL) {
		return -1;
	}
	grown[(*n)++] = s;
	*arr = grown;
	return 0;
}

int cli_expect_option(cli_expect_t *x, int opt, const char *arg)
{
	switch (opt) {
	case OPT_EXPECT:
		return push_str(&x->lines, &x->nlines, arg) == 0 ? 1 : -1;
	case OPT_EXPECT_FILE:
		return push_str(&x->files, &x->nfiles, arg) == 0 ? 1 : -1;
	case OPT_EXPECT_ABSENT:
		return push_str(&x->absent, &x->nabsent, arg) == 0 ? 1 : -1;
	default:
		return 0;
	}
}

bool cli_expect_any(const cli_expect_t *x)
{
	return x->nlines + x->nfiles + x->nabsent > 0;
}

int cli_expect_build(const cli_expect_t *x, const char *zone, ss_expect_set_t *set)
{
	knot_dname_storage_t origin;
	char err[1200] = "";
	if (knot_dname_from_str(origin, zone, sizeof(origin)) == NULL) {
		cli_err("'%s' is not a valid zone name", zone);
		return -1;
	}
	knot_dname_to_lower(origin);
	for (size_t i = 0; i < x->nlines; i++) {
		if (ss_expect_add_line(set, origin, x->lines[i], err, sizeof(err)) != 0) {
			cli_err("--expect '%s': %s", x->lines[i], err);
			return -1;
		}
	}
	for (size_t i = 0; i < x->nfiles; i++) {
		if (ss_expect_add_file(set, origin, x->files[i], err, sizeof(err)) != 0) {
			cli_err("--expect-file %s", err);
			return -1;
		}
	}
	for (size_t i = 0; i < x->nabsent; i++) {
		if (ss_expect_add_absent(set, origin, x->absent[i], err, sizeof(err)) != 0) {
			cli_err("--expect-absent: %s", err);
			return -1;
		}
	}
	return 0;
}

void cli_expect_free(cli_expect_t *x)
{
	free(x->lines);
	free(x->files);
	free(x->absent);
	memset(x, 0, sizeof(*x));
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

/* 1 handled, 0 not a shared option, -1 error (message printed). */
static int shared_option(const cli_shared_t *sh, int opt, const char *arg)
{
	int r = sh->net ? cli_net_option(sh->net, opt, arg) : 0;
	if (r == 0 && sh->expect) {
		r = cli_expect_option(sh->expect, opt, arg);
	}
	if (r != 0) {
		return r;
	}
	if (sh->tsig && (opt == OPT_TSIG || opt == 'y')) {
		return cli_tsig_option(sh->tsig, opt == 'y' ? "-y" : "--tsig-key", arg) ? -1 : 1;
	}
	if (sh->json && opt == OPT_JSON) {
		*sh->json = true;
		return 1;
	}
	if (sh->color && opt == OPT_COLOR) {
		return parse_color(arg, sh->color) ? -1 : 1;
	}
	if (sh->xfr && opt == OPT_MAX_TRANSFER_SIZE) {
		if (cli_parse_size("--max-transfer-size", arg, 4096, UINT64_C(1) << 40,
		                   &sh->xfr->max_bytes) != 0) {
			return -1;
		}
		if (sh->net != NULL) {
			sh->net->eng.xfr_budget = sh->xfr->max_bytes;
		}
		return 1;
	}
	if (sh->xfr && opt == OPT_TRANSFER_DEADLINE) {
		if (cli_parse_duration("--transfer-deadline", arg, 1000, 1000, 86400000,
		                       &sh->xfr->deadline_ms) != 0) {
			return -1;
		}
		if (sh->net != NULL) {
			sh->net->eng.xfr_deadline_ms = (unsigned)sh->xfr->deadline_ms;
		}
		return 1;
	}
	return 0;
}

int cli_getopt(int argc, char **argv, const char *shortopts, const struct option *longopts,
               const cli_shared_t *sh)
{
	opterr = 0;
	for (;;) {
		int opt = getopt_long(argc, argv, shortopts, longopts, NULL);
		if (opt == -1) {
			return -1;
		}
		if (opt == '?' || opt == ':') {
			cli_err(
			    "%s: unknown option, or one without its value: '%s'; see 'soasync %s "
			    "--help'",
			    sh->cmd, argv[optind - 1], sh->cmd);
			return -2;
		}
		int r = shared_option(sh, opt, optarg);
		if (r < 0) {
			return -2;
		}
		if (r == 0) {
			return opt;
		}
	}
}

const char *cli_one_zone(const char *cmd, int argc, char **argv)
{
	if (optind + 1 != argc) {
		cli_err("%s: expected exactly one ZONE; see 'soasync %s --help'", cmd, cmd);
		return NULL;
	}
	return argv[optind];
}
