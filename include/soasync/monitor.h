/*
 * soasync: the monitor. A long-running service on one libuv loop that runs
 * the check of every configured zone every `interval` (spread evenly over
 * it), hears NOTIFY, polls a changed zone every `fast_interval` until every
 * server serves the new serial, records when each secondary converged and
 * its lag, keeps that history in SQLite and sends alerts on zone status
 * changes.
 *
 * It decides nothing the check model decides: every poll is a run of the
 * check (lib/check_run.c: discovery, engine, observations, ss_check_analyze()),
 * and the per-server verdicts and findings are the check's. What the monitor
 * adds is time: when a serial was first seen on the primary, when each
 * server followed, and the serial-behind finding graded by how long a server
 * has been behind (lag_warning, lag_critical) instead of at once.
 *
 * Threads: none. Every function must be called on the thread running the
 * loop the monitor was created on. The read API returns pointers into the
 * monitor's live state: valid until control returns to the loop (read them
 * from any loop callback, e.g. an HTTP request handler on the same loop;
 * copy what must outlive the callback).
 *
 * Ownership: ss_mon_config_t is owned by whoever loaded it until passed to
 * ss_monitor_new()/ss_monitor_reload(), which take it. Strings and arrays
 * reached through the read API belong to the monitor. Errors are negative
 * SS_E* codes (error.h); the library never logs: diagnostics go to the
 * hooks' log callback.
 *
 * Times are Unix milliseconds (int64_t, *_ms), durations milliseconds
 * (uint64_t, *_ms) unless named _s (seconds).
 */
#ifndef SOASYNC_MONITOR_H
#define SOASYNC_MONITOR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <libknot/libknot.h>
#include <uv.h>

#include <soasync/addr.h>
#include <soasync/api.h>
#include <soasync/check.h>

/* ---- errors with a place ------------------------------------------------ */

/* Where and why a config, a file it names, or the database failed. */
typedef struct {
	char file[256];    /* the file (config, zones_from, tsig key, database); may be "" */
	unsigned line;     /* 1-based; 0: not about a line */
	unsigned column;   /* 1-based; 0: not about a column */
	char message[512]; /* one line, no trailing newline */
} ss_mon_error_t;

/* "FILE:LINE:COLUMN: message" (the parts that are known) into buf. */
SS_API const char *ss_mon_error_format(const ss_mon_error_t *err, char *buf, size_t len);

/* ---- configuration ------------------------------------------------------ */

/* An address prefix (notify_allow): "192.0.2.1", "2001:db8::/64". */
typedef struct {
	ss_addr_t addr; /* port ignored */
	unsigned bits;  /* prefix length: 0..32 or 0..128 */
} ss_mon_prefix_t;

/* One watched zone. */
typedef struct {
	char *name;         /* presentation form, lower case, with the trailing dot */
	ss_addr_t *primary; /* as check --primary; may be NULL */
	size_t nprimary;
	ss_addr_t *ns; /* as check --ns (no discovery); may be NULL */
	size_t nns;
	uint64_t content_ms; /* compare the data this often (check --content); 0: never */
	unsigned line;       /* where it was configured; 0: from zones_from */
	unsigned column;
} ss_mon_zone_config_t;

/*
 * The monitor's configuration, as read from the YAML file (see soasync(1),
 * "soasync monitor"). Read-only for everyone but the parser; new fields are
 * only ever added at the end.
 */
typedef struct {
	char *path;     /* the config file */
	char *database; /* SQLite file */

	bool has_resolver; /* resolver: for discovery (else /etc/resolv.conf's) */
	ss_addr_t resolver;
	bool has_source4, has_source6; /* source: pin the queries' source address(es) */
	ss_addr_t source4, source6;

	uint64_t interval_ms;          /* every zone this often (60s) */
	uint64_t fast_interval_ms;     /* after a change, until converged (2s) */
	uint64_t converge_timeout_ms;  /* stop fast polling after this (30m) */
	uint64_t lag_warning_ms;       /* a server behind this long: warning (5m) */
	uint64_t lag_critical_ms;      /* ... critical (30m) */
	uint64_t discover_interval_ms; /* rediscover each zone's servers this often (1h) */
	uint32_t history_days;         /* keep history this long (400) */
	uint32_t expire_warn_s;        /* expiring-soon below (86400); UINT32_MAX: off */

	unsigned query_timeout_ms; /* engine: per-query timeout (1500) */
	unsigned tries;            /* engine: UDP tries (3) */
	unsigned max_inflight;     /* engine: queries in flight (1000) */
	unsigned per_server;       /* engine: per server address (100) */

	bool has_http; /* listen.http: for the web layer (not used by the monitor itself) */
	ss_addr_t http;
	bool has_notify; /* listen.notify: the NOTIFY listener, UDP and TCP */
	ss_addr_t notify;
	ss_mon_prefix_t *notify_allow; /* who may NOTIFY; none: nobody */
	size_t nnotify_allow;

	char *tsig_path; /* tsig: BIND key file, for NOTIFY and transfers; NULL: none */
	bool has_tsig;
	knot_tsig_key_t tsig;

	char *user; /* user: run as this user when started as root; NULL: not set */
	char *site; /* site: a label for this monitor (metrics, alerts); NULL: not set */

	ss_mon_zone_config_t *zones; /* zones, then zones_from's; names unique */
	size_t nzones;
	char *zones_from; /* NULL: none */

	char **alert_command;     /* alerts.command: argv, NULL-terminated; NULL: none */
	char *alert_webhook;      /* alerts.webhook: URL; NULL: none */
	uint64_t alert_repeat_ms; /* alerts.repeat: re-send while still failing (0: never) */

	bool metrics_per_address; /* metrics.per_address: per-address series (true) */
} ss_mon_config_t;

/*
 * Read and check a config file. Strict: unknown keys, wrong types, bad
 * durations or addresses, duplicate keys and zones are errors. Returns 0
 * (*out owned by the caller), SS_EIO (unreadable; err names the file),
 * SS_EPARSE (err has file:line:column and what is wrong) or SS_ENOMEM.
 * Files named in the config (zones_from, tsig) are read here too.
 */
SS_API int ss_mon_config_load(const char *path, ss_mon_config_t **out, ss_mon_error_t *err);

/* The same from text in memory (name: for messages). Relative paths in it
 * are taken as they are. */
SS_API int ss_mon_config_parse(const char *text, size_t len, const char *name,
                               ss_mon_config_t **out, ss_mon_error_t *err);

SS_API void ss_mon_config_free(ss_mon_config_t *cfg);

/* RFC 3339 UTC with milliseconds ("2026-01-02T03:04:05.678Z") into buf. */
SS_API const char *ss_mon_time_format(int64_t ms, char *buf, size_t len);

/* ---- events ------------------------------------------------------------- */

typedef enum {
	SS_MON_VIA_POLL = 0, /* a poll saw the primary's serial rise */
	SS_MON_VIA_NOTIFY,   /* announced by a NOTIFY; first seen = when it came */
	SS_MON_VIA_START,    /* served when the monitor first watched the zone */
} ss_mon_via_t;

/* "poll", "notify", "start". */
SS_API const char *ss_mon_via_name(ss_mon_via_t via);

typedef enum {
	SS_MON_EV_SERIAL = 0,       /* the primary published a serial (serial, via) */
	SS_MON_EV_CONVERGED,        /* a server first served serial or later (lag_ms) */
	SS_MON_EV_CONVERGE_TIMEOUT, /* converge_timeout passed with servers behind */
	SS_MON_EV_NEVER,            /* a server will not be waited for any more (serial) */
	SS_MON_EV_STATUS,           /* the zone's status changed (status, previous) */
	SS_MON_EV_REGRESSION,       /* the primary went backwards (old_serial -> serial) */
	SS_MON_EV_UNREACHABLE,      /* a server stopped answering (message) */
	SS_MON_EV_REACHABLE,        /* it answers again (lag_ms: how long it did not) */
	SS_MON_EV_FINDING_OPENED,   /* a finding (code, severity, message) appeared */
	SS_MON_EV_FINDING_CLOSED,   /* it went away */
	SS_MON_EV_ZONE_ADDED,       /* the config started watching the zone */
	SS_MON_EV_ZONE_REMOVED,     /* the config stopped watching it */
	SS_MON_EV_COUNT
} ss_mon_event_kind_t;

/* "serial", "converged", "converge-timeout", "never", "status", "regression",
 * "unreachable", "reachable", "finding-opened", "finding-closed",
 * "zone-added", "zone-removed". */
SS_API const char *ss_mon_event_name(ss_mon_event_kind_t kind);

/* One event. Strings are borrowed for the callback that passes it. */
typedef struct {
	ss_mon_event_kind_t kind;
	int64_t time_ms;
	const char *zone; /* with the trailing dot */
	bool has_serial;
	uint32_t serial;     /* SERIAL, CONVERGED, CONVERGE_TIMEOUT, NEVER, REGRESSION (new) */
	uint32_t old_serial; /* REGRESSION: the serial before */
	ss_mon_via_t via;    /* SERIAL */
	bool has_address;    /* about one server address */
	ss_addr_t address;
	const char *name;       /* its NS name(s); may be NULL */
	int64_t lag_ms;         /* CONVERGED: since first seen on the primary;
	                         * REACHABLE: how long it was unreachable; else -1 */
	ss_status_t status;     /* STATUS: the new status; FINDING_*: the zone's */
	ss_status_t previous;   /* STATUS: the status before */
	ss_fcode_t code;        /* FINDING_*: the finding; else SS_F_COUNT */
	ss_severity_t severity; /* FINDING_OPENED */
	const char *message;    /* in words (finding message, why unreachable); may be NULL */
} ss_mon_event_t;

/* ---- the monitor -------------------------------------------------------- */

typedef struct ss_monitor ss_monitor_t;

/* A zone event, after it was queued for the database. */
typedef void (*ss_mon_event_cb)(const ss_mon_event_t *ev, void *arg);

/* A diagnostic line (zone may be NULL): reloads, alert failures, database
 * errors. The caller decides where it goes (the CLI: stderr). */
typedef void (*ss_mon_log_cb)(const char *zone, const char *message, void *arg);

typedef struct {
	ss_mon_log_cb log; /* may be NULL */
	void *log_arg;
	ss_mon_event_cb event; /* may be NULL; more with ss_monitor_subscribe() */
	void *event_arg;
} ss_mon_hooks_t;

/*
 * A monitor on loop (borrowed) from cfg (taken, also on failure). Nothing
 * runs yet. Returns 0, SS_ENOMEM, SS_EINVAL (err says why).
 */
SS_API int ss_monitor_new(uv_loop_t *loop, ss_mon_config_t *cfg, const ss_mon_hooks_t *hooks,
                          ss_monitor_t **out, ss_mon_error_t *err);

/*
 * Bind the NOTIFY listener (listen.notify, UDP and TCP), if configured: call
 * before dropping privileges when the port is privileged. Returns 0 or
 * SS_ENETWORK / SS_EADDR (err says which address and why).
 */
SS_API int ss_monitor_bind(ss_monitor_t *m, ss_mon_error_t *err);

/*
 * Open the database (creating or migrating it), restore each zone's state
 * from its history, and start checking. Returns 0, SS_EIO (database: err
 * says why), SS_EINVAL (no resolver for zones that need discovery),
 * SS_ENOMEM.
 */
SS_API int ss_monitor_start(ss_monitor_t *m, ss_mon_error_t *err);

/*
 * Apply a new configuration (SIGHUP): zones added start being watched, zones
 * removed stop (their history stays), intervals and alerts change. What
 * cannot change without a restart (database, listen.notify, user) is kept
 * and said through the log hook. Takes cfg. Returns 0 or SS_ENOMEM; a config
 * that failed to load never gets here, so the old one keeps running.
 */
SS_API int ss_monitor_reload(ss_monitor_t *m, ss_mon_config_t *cfg);

/* Add an event listener (called after the hooks' one, in order). 0 or SS_ENOMEM. */
SS_API int ss_monitor_subscribe(ss_monitor_t *m, ss_mon_event_cb cb, void *arg);

/*
 * Stop: no new checks or alerts, queued history written and the database
 * closed, sockets and timers closed. done (may be NULL) is called from the
 * loop once everything is closed; then ss_monitor_free().
 */
SS_API void ss_monitor_stop(ss_monitor_t *m, void (*done)(void *arg), void *arg);

/* Free a stopped monitor (or one never started). */
SS_API void ss_monitor_free(ss_monitor_t *m);

/* ---- the read API: the live state --------------------------------------- */

/* Histogram (Prometheus style): n buckets with upper bounds le[] (the last
 * INFINITY), counts per bucket (not cumulative), their count and sum. */
#define SS_MON_HIST_MAX 16
typedef struct {
	size_t n;
	const double *le; /* static */
	uint64_t counts[SS_MON_HIST_MAX];
	uint64_t count;
	double sum;
} ss_mon_histogram_t;

/* What became of a NOTIFY that reached the listener. */
typedef enum {
	SS_MON_NOTIFY_ACCEPTED =
	    0,                  /* allowed address, known zone (TSIG verified if a key is set) */
	SS_MON_NOTIFY_REFUSED,  /* address not in notify_allow: REFUSED */
	SS_MON_NOTIFY_BAD_TSIG, /* unsigned or badly signed while a key is set: NOTAUTH */
	SS_MON_NOTIFY_UNKNOWN_ZONE, /* not a watched zone: REFUSED */
	SS_MON_NOTIFY_MALFORMED,    /* not a NOTIFY query or unparsable: dropped or refused */
	SS_MON_NOTIFY_RESULTS
} ss_mon_notify_result_t;

/* "accepted", "refused", "bad-tsig", "unknown-zone", "malformed". */
SS_API const char *ss_mon_notify_result_name(ss_mon_notify_result_t r);

/* Why a server's SOA query gave no usable answer. */
typedef enum {
	SS_MON_QERR_TIMEOUT = 0,
	SS_MON_QERR_CONNREFUSED,
	SS_MON_QERR_NETWORK,
	SS_MON_QERR_MALFORMED,
	SS_MON_QERR_SERVFAIL,
	SS_MON_QERR_NOT_AUTH, /* REFUSED, NOTAUTH, no AA, referral, no SOA */
	SS_MON_QERR_OTHER,
	SS_MON_QERR_COUNT
} ss_mon_qerr_t;

/* "timeout", "connection-refused", "network", "malformed", "servfail",
 * "not-authoritative", "other". */
SS_API const char *ss_mon_qerr_name(ss_mon_qerr_t q);

/* One server address of a zone, as the last check saw it. */
typedef struct {
	const char *name; /* NS name(s), comma separated; may be NULL */
	ss_addr_t address;
	bool is_primary;      /* the check model took it as the primary (primary_role) */
	ss_verdict_t verdict; /* the check model's; SS_VERDICT_NONE before the first check */
	bool has_serial;      /* it answered with the zone's SOA */
	uint32_t serial;
	bool behind;             /* does not serve the reference serial or newer
	                          * (!ss_verdict_current(verdict)); false for a hidden primary */
	int64_t behind_since_ms; /* when the serial it lacks was first seen on the
	                          * primary; 0 when not behind (lag: ss_mon_lag_ms) */
	bool has_expire;         /* EDNS EXPIRE answered */
	uint32_t expire_s;
	int64_t unreachable_since_ms; /* 0 while it answers */
	int64_t last_converged_ms;    /* its last convergence; 0: none seen */
	int64_t last_lag_ms;          /* its lag then; -1: none */
} ss_mon_server_t;

/* One watched zone. */
typedef struct {
	const char *name;   /* with the trailing dot */
	ss_status_t status; /* SS_STATUS_UNKNOWN until the first check finished */
	int64_t status_since_ms;
	bool checked;          /* at least one check finished */
	int64_t last_check_ms; /* when the last check finished */
	int64_t next_check_ms; /* when the next one is due */
	bool converging;       /* polled every fast_interval until converged */
	bool has_reference;    /* the check model's reference serial */
	uint32_t reference_serial;
	int64_t reference_since_ms; /* when the monitor first saw it */
	ss_mon_via_t reference_via;
	bool has_primary;
	ss_addr_t primary;
	const ss_mon_server_t *servers; /* sorted by address */
	size_t nservers;
	const ss_finding_t *findings; /* open findings, as check gives them, serial-behind
	                               * graded by lag (INFO within lag_warning) */
	size_t nfindings;
	ss_mon_histogram_t convergence;         /* secondaries' convergence times, seconds */
	uint64_t notify[SS_MON_NOTIFY_RESULTS]; /* NOTIFYs for this zone, by result */
	uint64_t checks;                        /* checks finished */
} ss_mon_zone_t;

/* Counters of the whole monitor since it started. */
typedef struct {
	int64_t started_ms;
	uint64_t queries; /* DNS queries sent (SOA, discovery, version, transfers) */
	uint64_t query_errors[SS_MON_QERR_COUNT]; /* SOA queries without a usable answer */
	uint64_t checks;                          /* zone checks finished */
	ss_mon_histogram_t check_duration;        /* seconds, per zone check */
	uint64_t notify[SS_MON_NOTIFY_RESULTS];   /* every NOTIFY, known zone or not */
	uint64_t events;                          /* zone events recorded */
	uint64_t alerts_sent, alerts_failed;      /* alert deliveries (command or webhook) */
	uint64_t db_errors;                       /* failed database writes */
} ss_mon_counters_t;

/* The configuration in force. */
SS_API const ss_mon_config_t *ss_monitor_config(const ss_monitor_t *m);

/* The watched zones, in name order (canonical DNS order is not promised:
 * byte order of the presentation form). */
SS_API size_t ss_monitor_zone_count(const ss_monitor_t *m);
SS_API const ss_mon_zone_t *ss_monitor_zone(const ss_monitor_t *m, size_t i);

/* A zone by name (with or without the trailing dot, any case); NULL if not watched. */
SS_API const ss_mon_zone_t *ss_monitor_zone_find(const ss_monitor_t *m, const char *name);

/* The counters (the query count refreshed from the engine). */
SS_API const ss_mon_counters_t *ss_monitor_counters(ss_monitor_t *m);

/* The monitor's clock (Unix ms), for lag figures. */
SS_API int64_t ss_monitor_now_ms(const ss_monitor_t *m);

/* A server's lag at now_ms: how long since the serial it lacks was first
 * seen on the primary; 0 when it is not behind. */
SS_API int64_t ss_mon_lag_ms(const ss_mon_server_t *s, int64_t now_ms);

/* How a lag is graded, the one grading of the monitor (its serial-behind
 * findings, and whoever shows lags): SS_SEV_INFO below cfg's lag_warning,
 * SS_SEV_WARNING from it, SS_SEV_CRITICAL from lag_critical. */
SS_API ss_severity_t ss_mon_lag_severity(const ss_mon_config_t *cfg, int64_t lag_ms);

/* True while the monitor runs and its last database write succeeded. */
SS_API bool ss_monitor_healthy(const ss_monitor_t *m);

/* ---- history (the database) --------------------------------------------- */

typedef struct ss_mon_store ss_mon_store_t;

/*
 * Open a monitor database for reading (soasync history): no schema change,
 * no writes. Returns 0, SS_EIO (missing, not a monitor database, or a newer
 * schema: err says which), SS_ENOMEM.
 */
SS_API int ss_mon_store_open_readonly(const char *path, ss_mon_store_t **out, ss_mon_error_t *err);
SS_API void ss_mon_store_close(ss_mon_store_t *st);

/* The monitor's own database handle (borrowed; NULL before start). */
SS_API ss_mon_store_t *ss_monitor_store(ss_monitor_t *m);

/* Which history to read. */
typedef struct {
	const char *const *zones; /* these zones only (any case, dot optional); NULL: all */
	size_t nzones;
	int64_t since_ms; /* first seen (events: happened) at or after; 0: all */
	size_t last;      /* only the last N serials (events) per zone; 0: all */
} ss_mon_hist_query_t;

/* A server's convergence on one serial. */
typedef struct {
	const char *address; /* "192.0.2.1" or "192.0.2.1#5353" */
	const char *name;    /* NS name(s); may be NULL */
	bool converged;
	int64_t converged_ms; /* when it first served the serial or later */
	int64_t lag_ms;       /* converged_ms - first seen on the primary */
	bool never;           /* not converged, and no longer waited for */
} ss_mon_hist_server_t;

/* One serial the primary published, with every server's convergence. */
typedef struct {
	const char *zone;
	uint32_t serial;
	int64_t first_seen_ms;
	ss_mon_via_t via;
	const ss_mon_hist_server_t *servers; /* secondaries, by address */
	size_t nservers;
} ss_mon_hist_serial_t;

/* Called per serial (per event), borrowed for the call, in zone order and
 * then time order. Return non-zero to stop. */
typedef int (*ss_mon_hist_serial_cb)(const ss_mon_hist_serial_t *s, void *arg);
typedef int (*ss_mon_hist_event_cb)(const ss_mon_event_t *ev, void *arg);

/* Read the serials (the history --json lines). Returns 0, SS_EIO, SS_ENOMEM. */
SS_API int ss_mon_history_serials(ss_mon_store_t *st, const ss_mon_hist_query_t *q,
                                  ss_mon_hist_serial_cb cb, void *arg);

/* Read the events: status changes, regressions, unreachable periods,
 * findings opened and closed, converge time-outs, zones added and removed
 * (the serials and convergences themselves: ss_mon_history_serials()). */
SS_API int ss_mon_history_events(ss_mon_store_t *st, const ss_mon_hist_query_t *q,
                                 ss_mon_hist_event_cb cb, void *arg);

#endif
