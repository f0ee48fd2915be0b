/*
 * soasync history: what the monitor recorded, read from its database
 * (read-only, also while the monitor runs): each serial the primary
 * published, when each secondary followed and its lag, and the events
 * (status changes, regressions, unreachable periods, findings).
 */
#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#include <soasync/error.h>
#include <soasync/monitor.h>

#include "opts.h"
#include "render_history.h"

static const char history_help[] =
    "Usage: soasync history --db FILE [options] [ZONE...]\n"
    "\n"
    "What soasync monitor recorded in its database (the config's database:): each\n"
    "serial the primary published (when first seen, and whether by NOTIFY, by\n"
    "polling or already there when the monitor started) and, per secondary\n"
    "address, when it first served that serial or a later one and its lag; then\n"
    "the events: status changes, regressions, unreachable periods, findings.\n"
    "\n"
    "  --db FILE          the monitor's SQLite database (read only)\n"
    "  --since DURATION   only what happened in the last DURATION (30m, 12h, 7d)\n"
    "  --last N           only the last N serials (and events) of each zone\n"
    "  --json             JSON Lines: one object per (zone, serial):\n"
    "                     {\"zone\",\"serial\",\"first_seen\",\"via\",\"servers\":[{\"address\",\n"
    "                     \"name\",\"converged_at\",\"lag_s\"}]} (RFC 3339 UTC; lag_s null\n"
    "                     while behind)\n"
    "  --events           with --json: the events instead, one object each\n"
    "  -h, --help         this help\n"
    "\n"
    "Exit status: 0; 3 when the database cannot be read (or usage errors).\n";

typedef struct {
	bool json, events;
	bool zone_shown;
	const char *zone;
	size_t n;
} hist_ctx_t;

/* One JSON Lines line (o taken). */
static int print_line(json_t *o)
{
	if (o != NULL) {
		json_dumpf(o, stdout, JSON_COMPACT);
		fputc('\n', stdout);
	}
	json_decref(o);
	return 0;
}

static int on_serial(const ss_mon_hist_serial_t *s, void *arg)
{
	hist_ctx_t *c = arg;
	c->n++;
	if (c->json) {
		return print_line(render_history_serial_json(s));
	}
	if (c->zone == NULL || strcmp(c->zone, s->zone) != 0) {
		free((char *)c->zone);
		c->zone = strdup(s->zone);
		c->zone_shown = false;
	}
	render_history_serial_table(stdout, s, &c->zone_shown);
	return 0;
}

static int on_event(const ss_mon_event_t *e, void *arg)
{
	hist_ctx_t *c = arg;
	if (c->n++ == 0 && !c->json) {
		fputs("\nevents:\n", stdout);
	}
	if (c->json) {
		return print_line(render_history_event_json(e));
	}
	render_history_event_table(stdout, e);
	return 0;
}

typedef struct {
	const char *db;
	uint64_t since_ms;
	unsigned last;
	const char *const *zones;
	size_t nzones;
	hist_ctx_t ctx;
} hist_args_t;

static int parse_args(void *args, int argc, char **argv)
{
	hist_args_t *a = args;
	enum { OPT_DB = 1, OPT_SINCE, OPT_LAST, OPT_HJSON, OPT_EVENTS };
	static const struct option longopts[] = {
	    {"db", required_argument, NULL, OPT_DB},
	    {"since", required_argument, NULL, OPT_SINCE},
	    {"last", required_argument, NULL, OPT_LAST},
	    {"json", no_argument, NULL, OPT_HJSON},
	    {"events", no_argument, NULL, OPT_EVENTS},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	int opt, r = 0;
	optind = 1;
	while (r == 0 && (opt = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
		switch (opt) {
		case OPT_DB:
			a->db = optarg;
			break;
		case OPT_SINCE:
			r = cli_parse_duration("--since", optarg, 0, 1, UINT64_C(1) << 52,
			                       &a->since_ms);
			break;
		case OPT_LAST:
			r = cli_parse_uint("--last", optarg, 1, 1000000000, &a->last);
			break;
		case OPT_HJSON:
			a->ctx.json = true;
			break;
		case OPT_EVENTS:
			a->ctx.events = true;
			break;
		case 'h':
			fputs(history_help, stdout);
			return 1;
		default:
			cli_err("history: see 'soasync history --help'");
			return -1;
		}
	}
	if (r != 0) {
		return -1;
	}
	if (a->db == NULL) {
		cli_err("history: --db FILE is required; see 'soasync history --help'");
		return -1;
	}
	if (a->ctx.events && !a->ctx.json) {
		cli_err("history: --events goes with --json (the table shows the events anyway)");
		return -1;
	}
	a->zones = (const char *const *)argv + optind;
	a->nzones = (size_t)(argc - optind);
	return 0;
}

static int run(void *args)
{
	hist_args_t *a = args;
	ss_mon_store_t *st = NULL;
	ss_mon_error_t err;
	if (ss_mon_store_open_readonly(a->db, &st, &err) != 0) {
		char buf[1024];
		cli_err("%s", ss_mon_error_format(&err, buf, sizeof(buf)));
		return EXIT_UNKNOWN;
	}
	ss_mon_hist_query_t q = {
	    .zones = a->zones,
	    .nzones = a->nzones,
	    .since_ms = a->since_ms ? ss_monitor_now_ms(NULL) - (int64_t)a->since_ms : 0,
	    .last = a->last,
	};
	int ret = 0;
	if (!a->ctx.events) {
		ret = ss_mon_history_serials(st, &q, on_serial, &a->ctx);
	}
	if (ret == 0 && (!a->ctx.json || a->ctx.events)) {
		a->ctx.n = 0;
		ret = ss_mon_history_events(st, &q, on_event, &a->ctx);
	}
	if (ret != 0) {
		cli_err("%s: cannot read the history: %s", a->db, ss_strerror(ret));
	}
	ss_mon_store_close(st);
	return ret ? EXIT_UNKNOWN : 0;
}

static void done(void *args)
{
	free((char *)((hist_args_t *)args)->ctx.zone);
}

int cmd_history(int argc, char **argv)
{
	static const cli_steps_t steps = {parse_args, run, done};
	hist_args_t a;
	memset(&a, 0, sizeof(a));
	return cli_command(&steps, &a, argc, argv);
}
