/*
 * soasync monitor: the long-running service, in the foreground (systemd
 * runs it as it is). One line per event on stderr; SIGHUP re-reads the
 * config, SIGTERM and SIGINT stop. The NOTIFY port is bound before the
 * process gives up root for the config's `user:`.
 */
#include <errno.h>
#include <getopt.h>
#include <grp.h>
#include <pwd.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <soasync/error.h>
#include <soasync/monitor.h>
#include <soasync/units.h>

#include "cli.h"
#include "render_history.h"

static const char monitor_help[] =
    "Usage: soasync monitor --config FILE [--check-config]\n"
    "\n"
    "Watch every zone of the config continuously: check each every interval (the\n"
    "zones spread evenly), hear NOTIFY, poll a changed zone every fast_interval\n"
    "until every server serves the new serial, record when each secondary\n"
    "converged and its lag, keep the history (soasync history) and alert on every\n"
    "zone status change. Runs in the foreground; one line per event on stderr.\n"
    "SIGHUP re-reads the config (zones added and removed, history kept; a bad\n"
    "config keeps the old one running); SIGTERM stops.\n"
    "\n"
    "  --config FILE     the YAML config (see soasync(1), \"soasync monitor\")\n"
    "  --check-config    check the config and the files it names, then exit:\n"
    "                    0 valid, 3 invalid (FILE:LINE:COLUMN: what is wrong)\n"
    "  -h, --help        this help\n"
    "\n"
    "Exit status: 0 after SIGTERM; 3 for an invalid config or usage; 2 when it\n"
    "cannot start (NOTIFY port, database, user).\n";

typedef struct {
	uv_loop_t *loop;
	ss_monitor_t *m;
	const char *path;
	uv_signal_t hup, term, intr;
	bool stopping;
} run_t;

static void on_log(const char *zone, const char *message, void *arg)
{
	(void)arg;
	if (zone != NULL) {
		cli_zerr(zone, "%s", message);
	} else {
		cli_err("%s", message);
	}
}

static void on_event(const ss_mon_event_t *e, void *arg)
{
	(void)arg;
	char text[1024];
	cli_zerr(e->zone, "%s", render_event_text(e, text, sizeof(text)));
}

static int config_error(const ss_mon_error_t *err, const char *prefix)
{
	char buf[1024];
	cli_err("%s%s", prefix, ss_mon_error_format(err, buf, sizeof(buf)));
	return EXIT_UNKNOWN;
}

static void on_hup(uv_signal_t *h, int sig)
{
	(void)sig;
	run_t *r = h->data;
	ss_mon_config_t *cfg = NULL;
	ss_mon_error_t err;
	if (ss_mon_config_load(r->path, &cfg, &err) != 0) {
		config_error(&err, "reload: keeping the config in force: ");
		return;
	}
	ss_monitor_reload(r->m, cfg);
}

static void stopped(void *arg)
{
	run_t *r = arg;
	uv_close((uv_handle_t *)&r->hup, NULL);
	uv_close((uv_handle_t *)&r->term, NULL);
	uv_close((uv_handle_t *)&r->intr, NULL);
}

/* SOASYNC_STATS: the counters on the way out (benchmarks, diagnostics). */
static void print_stats(ss_monitor_t *m)
{
	const ss_mon_counters_t *c = ss_monitor_counters(m);
	uint64_t errors = 0;
	for (int i = 0; i < SS_MON_QERR_COUNT; i++) {
		errors += c->query_errors[i];
	}
	fprintf(
	    stderr,
	    "soasync: stats: queries %llu checks %llu query_errors %llu (timeout %llu) "
	    "events %llu notify_accepted %llu alerts_sent %llu alerts_failed %llu "
	    "db_errors %llu\n",
	    (unsigned long long)c->queries, (unsigned long long)c->checks,
	    (unsigned long long)errors, (unsigned long long)c->query_errors[SS_MON_QERR_TIMEOUT],
	    (unsigned long long)c->events, (unsigned long long)c->notify[SS_MON_NOTIFY_ACCEPTED],
	    (unsigned long long)c->alerts_sent, (unsigned long long)c->alerts_failed,
	    (unsigned long long)c->db_errors);
}

static void on_term(uv_signal_t *h, int sig)
{
	run_t *r = h->data;
	if (r->stopping) {
		return;
	}
	r->stopping = true;
	if (getenv("SOASYNC_STATS") != NULL) {
		print_stats(r->m);
	}
	cli_err("monitor: stopping (%s)", sig == SIGINT ? "SIGINT" : "SIGTERM");
	ss_monitor_stop(r->m, stopped, r);
}

/* Root gives way to the config's user once the NOTIFY port is bound. */
static int drop_privileges(const char *user)
{
	errno = 0;
	struct passwd *pw = getpwnam(user);
	if (pw == NULL) {
		cli_err("user: no such user '%s'", user);
		return -1;
	}
	if (setgroups(1, &pw->pw_gid) != 0 || setgid(pw->pw_gid) != 0 || setuid(pw->pw_uid) != 0) {
		cli_err("user: cannot become '%s': %s", user, strerror(errno));
		return -1;
	}
	if (pw->pw_uid != 0 && setuid(0) == 0) {
		cli_err("user: could regain root after becoming '%s'", user);
		return -1;
	}
	return 0;
}

static void describe(const ss_mon_config_t *cfg)
{
	char a[SS_ADDR_STRLEN], iv[32], fast[32];
	ss_duration_format(cfg->interval_ms, iv, sizeof(iv));
	ss_duration_format(cfg->fast_interval_ms, fast, sizeof(fast));
	cli_err("monitor: %zu zones every %s (after a change every %s), NOTIFY %s, history %s",
	        cfg->nzones, iv, fast,
	        cfg->has_notify ? ss_addr_format(&cfg->notify, a, sizeof(a)) : "off",
	        cfg->database);
}

static int serve(ss_mon_config_t *cfg, const char *path)
{
	run_t r = {.path = path};
	uv_loop_t loop;
	uv_loop_init(&loop);
	r.loop = &loop;
	ss_mon_hooks_t hooks = {.log = on_log, .event = on_event};
	ss_mon_error_t err;
	const char *user = cfg->user ? strdup(cfg->user) : NULL;
	int code = 0;
	/* The order matters: sockets are bound while still root (the NOTIFY
	 * port; listen.http of the web layer belongs here too), then the user is
	 * taken, then the database is opened and created as that user. */
	if (ss_monitor_new(&loop, cfg, &hooks, &r.m, &err) != 0) {
		code = config_error(&err, "");
	} else if (ss_monitor_bind(r.m, &err) != 0) {
		config_error(&err, "");
		code = EXIT_CRITICAL;
	} else if (user != NULL && geteuid() == 0 && drop_privileges(user) != 0) {
		code = EXIT_CRITICAL;
	} else if (ss_monitor_start(r.m, &err) != 0) {
		config_error(&err, "");
		code = EXIT_CRITICAL;
	}
	free((char *)user);
	if (code == 0) {
		describe(ss_monitor_config(r.m));
		uv_signal_init(&loop, &r.hup);
		uv_signal_init(&loop, &r.term);
		uv_signal_init(&loop, &r.intr);
		r.hup.data = r.term.data = r.intr.data = &r;
		uv_signal_start(&r.hup, on_hup, SIGHUP);
		uv_signal_start(&r.term, on_term, SIGTERM);
		uv_signal_start(&r.intr, on_term, SIGINT);
	} else if (r.m != NULL) {
		ss_monitor_stop(r.m, NULL, NULL);
	}
	uv_run(&loop, UV_RUN_DEFAULT);
	ss_monitor_free(r.m);
	uv_loop_close(&loop);
	if (code == 0) {
		cli_err("monitor: stopped");
	}
	return code;
}

typedef struct {
	const char *path;
	bool check_only;
} mon_args_t;

static int parse_args(void *args, int argc, char **argv)
{
	static const struct option longopts[] = {
	    {"config", required_argument, NULL, 'c'},
	    {"check-config", no_argument, NULL, 'k'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	mon_args_t *a = args;
	int opt;
	optind = 1;
	while ((opt = getopt_long(argc, argv, "c:h", longopts, NULL)) != -1) {
		switch (opt) {
		case 'c':
			a->path = optarg;
			break;
		case 'k':
			a->check_only = true;
			break;
		case 'h':
			fputs(monitor_help, stdout);
			return 1;
		default:
			cli_err("monitor: see 'soasync monitor --help'");
			return -1;
		}
	}
	if (a->path == NULL || optind != argc) {
		cli_err("monitor: %s; see 'soasync monitor --help'",
		        a->path == NULL ? "--config FILE is required" : "unexpected arguments");
		return -1;
	}
	return 0;
}

static int run(void *args)
{
	mon_args_t *a = args;
	ss_mon_config_t *cfg = NULL;
	ss_mon_error_t err;
	if (ss_mon_config_load(a->path, &cfg, &err) != 0) {
		return config_error(&err, "");
	}
	if (a->check_only) {
		printf("%s: valid, %zu zones\n", a->path, cfg->nzones);
		ss_mon_config_free(cfg);
		return 0;
	}
	signal(SIGPIPE, SIG_IGN); /* an alert command that exits early closes its stdin */
	return serve(cfg, a->path);
}

static void done(void *args)
{
	(void)args;
}

int cmd_monitor(int argc, char **argv)
{
	static const cli_steps_t steps = {parse_args, run, done};
	mon_args_t a = {NULL, false};
	return cli_command(&steps, &a, argc, argv);
}
