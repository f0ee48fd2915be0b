/*
 * soasync CLI: option parsing shared by the commands (network, TSIG,
 * expectations, JSON, color) and the parse helpers. Every parse function
 * prints a one-line error naming the option and returns -1 on bad input.
 */
#ifndef SOASYNC_OPTS_H
#define SOASYNC_OPTS_H

#include <getopt.h>
#include <stdbool.h>
#include <stdint.h>

#include <soasync/addr.h>
#include <soasync/engine.h>
#include <soasync/expect.h>
#include <soasync/xfr.h>
#include <soasync/zone.h>

#include "cli.h"

/* Parse helpers: return 0 or print a one-line error naming the option and return -1. */
int cli_parse_uint(const char *opt, const char *arg, unsigned min, unsigned max, unsigned *out);
/* A duration ("1500ms", "2s", "5m", "1h", "1d"; a bare number counts in
 * bare_unit_ms milliseconds: 1 or 1000, as the option always meant) within
 * [min_ms, max_ms]; *ms in milliseconds. */
int cli_parse_duration(const char *opt, const char *arg, uint64_t bare_unit_ms, uint64_t min_ms,
                       uint64_t max_ms, uint64_t *ms);
/* A size ("64M", "1G", "512K", bytes when bare) within [min, max]. */
int cli_parse_size(const char *opt, const char *arg, uint64_t min, uint64_t max, uint64_t *bytes);
/* A TTL for records that have none (--default-ttl): seconds, or with a
 * unit (1h, 1d), 1 to 2^31 - 1 seconds. */
int cli_parse_ttl(const char *opt, const char *arg, uint32_t *ttl);
int cli_parse_addr(const char *opt, const char *arg, ss_addr_t *out);
/* Comma-separated list, appended to *list (realloc'd). */
int cli_parse_addr_list(const char *opt, const char *arg, ss_addr_t **list, size_t *n);

/* Network options shared by the commands that query servers. */
typedef struct {
	ss_engine_opts_t eng;
	ss_addr_t resolver;
	bool have_resolver;
	bool only4, only6;
	ss_addr_t *ns;
	size_t nns;
	ss_addr_t *primary;
	size_t nprimary;
} cli_net_t;

/* getopt_long codes of the shared network options (above the ASCII range). */
enum {
	OPT_RESOLVER = 1000,
	OPT_NS,
	OPT_PRIMARY,
	OPT_TIMEOUT,
	OPT_TRIES,
	OPT_MAX_INFLIGHT,
	OPT_PER_SERVER,
	OPT_SOURCE,
	OPT_NET_LAST,
};

/* The struct option entries for the shared options (NULL-terminated list
 * to splice into a command's table); see CLI_NET_LONGOPTS. */
#define CLI_NET_LONGOPTS                                                                           \
	{"resolver", required_argument, NULL, OPT_RESOLVER},                                       \
	    {"ns", required_argument, NULL, OPT_NS},                                               \
	    {"primary", required_argument, NULL, OPT_PRIMARY},                                     \
	    {"query-timeout", required_argument, NULL, OPT_TIMEOUT},                               \
	    {"tries", required_argument, NULL, OPT_TRIES},                                         \
	    {"max-inflight", required_argument, NULL, OPT_MAX_INFLIGHT},                           \
	    {"per-server", required_argument, NULL, OPT_PER_SERVER},                               \
	{                                                                                          \
		"source", required_argument, NULL, OPT_SOURCE                                      \
	}

/* Commands where --timeout is the per-query wait add this entry; wait and
 * doctor use --timeout for their overall deadline and --query-timeout only. */
#define CLI_QUERY_TIMEOUT_LONGOPT                                                                  \
	{                                                                                          \
		"timeout", required_argument, NULL, OPT_TIMEOUT                                    \
	}

/* Short options of the shared set: -4 -6 -b ADDR. */
#define CLI_NET_SHORTOPTS "46b:"

void cli_net_init(cli_net_t *n);
/* Handle opt if it is a shared network option: 1 handled, 0 not ours, -1 error. */
int cli_net_option(cli_net_t *n, int opt, const char *arg);
/* After parsing: resolver default from /etc/resolv.conf when needed (-1 on error). */
int cli_net_finish(cli_net_t *n, bool need_resolver);
void cli_net_free(cli_net_t *n);

/* Help text of the shared network options. */
extern const char cli_net_help[];

/* A TSIG key from --tsig-key FILE (BIND key file) or -y [ALG:]NAME:SECRET. */
typedef struct {
	knot_tsig_key_t key;
	bool have;
} cli_tsig_t;

/* Load the key for option opt ("--tsig-key" or "-y"); 0 or -1 (message printed). */
int cli_tsig_option(cli_tsig_t *t, const char *opt, const char *arg);
void cli_tsig_free(cli_tsig_t *t);

/* --expect 'NAME [TTL] TYPE RDATA', --expect-file FILE, --expect-absent 'NAME TYPE'. */
typedef struct {
	const char **lines, **files, **absent;
	size_t nlines, nfiles, nabsent;
} cli_expect_t;

enum { OPT_EXPECT = 900, OPT_EXPECT_FILE, OPT_EXPECT_ABSENT };

#define CLI_EXPECT_LONGOPTS                                                                        \
	{"expect", required_argument, NULL, OPT_EXPECT},                                           \
	    {"expect-file", required_argument, NULL, OPT_EXPECT_FILE},                             \
	{                                                                                          \
		"expect-absent", required_argument, NULL, OPT_EXPECT_ABSENT                        \
	}

extern const char cli_expect_help[];

/* 1 handled, 0 not ours, -1 error. */
int cli_expect_option(cli_expect_t *x, int opt, const char *arg);
bool cli_expect_any(const cli_expect_t *x);
/* Parse the expectations for zone into set; 0 or -1 (message printed). */
int cli_expect_build(const cli_expect_t *x, const char *zone, ss_expect_set_t *set);
void cli_expect_free(cli_expect_t *x);

/* Limits of zone transfers: --max-transfer-size SIZE, --transfer-deadline
 * DURATION (0: the library's defaults). */
typedef struct {
	uint64_t max_bytes;   /* all transfers held at once, bytes */
	uint64_t deadline_ms; /* one whole transfer */
} cli_xfr_t;

enum { OPT_MAX_TRANSFER_SIZE = 970, OPT_TRANSFER_DEADLINE };

#define CLI_XFR_LONGOPTS                                                                           \
	{"max-transfer-size", required_argument, NULL, OPT_MAX_TRANSFER_SIZE},                     \
	{                                                                                          \
		"transfer-deadline", required_argument, NULL, OPT_TRANSFER_DEADLINE                \
	}

extern const char cli_xfr_help[];

/* Options shared by several commands, handled by cli_getopt(). Each field
 * may be NULL: the command does not take that option. */
typedef struct {
	const char *cmd;      /* "check", for messages */
	cli_net_t *net;       /* the network options (CLI_NET_LONGOPTS, -4 -6 -b) */
	cli_tsig_t *tsig;     /* --tsig-key FILE, -y [ALG:]NAME:SECRET */
	cli_expect_t *expect; /* --expect, --expect-file, --expect-absent */
	bool *json;           /* --json */
	cli_color_t *color;   /* --color WHEN */
	cli_xfr_t *xfr;       /* --max-transfer-size, --transfer-deadline; with net,
	                       * also into net->eng (xfr_budget, xfr_deadline_ms) */
} cli_shared_t;

enum { OPT_TSIG = 950, OPT_JSON, OPT_COLOR };

#define CLI_TSIG_LONGOPT                                                                           \
	{                                                                                          \
		"tsig-key", required_argument, NULL, OPT_TSIG                                      \
	}
#define CLI_JSON_LONGOPT                                                                           \
	{                                                                                          \
		"json", no_argument, NULL, OPT_JSON                                                \
	}
#define CLI_COLOR_LONGOPT                                                                          \
	{                                                                                          \
		"color", required_argument, NULL, OPT_COLOR                                        \
	}

/*
 * getopt_long() with the shared options handled. Returns the next option for
 * the command itself ('h' included), -1 at the end of the options, or -2
 * after a one-line message (a bad value, an unknown option).
 */
int cli_getopt(int argc, char **argv, const char *shortopts, const struct option *longopts,
               const cli_shared_t *sh);

/* What loading the zone file name assumed, as warnings on stderr: the
 * zone's name taken from the file name, the default TTL given to records
 * (not when ttl_given: the user chose it with --default-ttl). */
void cli_zone_warnings(const char *name, const ss_zone_t *z, bool ttl_given);

/* The single ZONE operand after the options, or NULL after a message. */
const char *cli_one_zone(const char *cmd, int argc, char **argv);

/* Read zone names from a file (--zones-from FILE; "-" for stdin): one per
 * line, '#' comments.
 * Calls add(name, arg) for each; returns 0 or -1 after printing an error. */
int cli_read_zones(const char *path, int (*add)(const char *zone, void *arg), void *arg);

/* A decimal serial 0..2^32-1; -1 after "soasync: what: ..." */
int cli_parse_serial(const char *what, const char *arg, uint32_t *out);

#endif
