/*
 * soasync monitor: internal interfaces between the monitor's parts (config,
 * state machine, store, NOTIFY listener, alerts, scheduler). Not installed.
 */
#ifndef SOASYNC_MON_INT_H
#define SOASYNC_MON_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <libknot/libknot.h>
#include <uv.h>

#include <soasync/check.h>
#include <soasync/monitor.h>

/* ---- small helpers (mon_util.c) ------------------------------------------ */

/* Wall clock, Unix ms. */
int64_t mon_now_ms(void);

void mon_error_set(ss_mon_error_t *err, const char *file, unsigned line, unsigned column,
                   const char *fmt, ...) __attribute__((format(printf, 5, 6)));

/* A diagnostic through a log callback (may be NULL). */
typedef void (*mon_log_fn)(const char *zone, const char *message, void *arg);
void mon_say(mon_log_fn log, void *arg, const char *zone, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* ADDR, ADDR#PORT, IPV4:PORT, [IPV6]:PORT, [IPV6]. 0 or SS_EADDR. */
int mon_addr_parse(const char *text, uint16_t default_port, ss_addr_t *out);

/* ADDR or ADDR/BITS. 0 or SS_EADDR. */
int mon_prefix_parse(const char *text, ss_mon_prefix_t *out);
bool mon_prefix_match(const ss_mon_prefix_t *p, const ss_addr_t *a);
bool mon_prefix_list_match(const ss_mon_prefix_t *list, size_t n, const ss_addr_t *a);

/* A zone name lower-cased with the trailing dot, into *out (malloc'd).
 * 0, SS_ENAME, SS_ENOMEM. */
int mon_zone_name_norm(const char *name, char **out);

/* A whole file, at most max bytes. 0, SS_EIO, SS_ELIMIT, SS_ENOMEM (err set). */
int mon_read_file(const char *path, size_t max, char **out, size_t *len, ss_mon_error_t *err);

/* One name per line, '#' comments and blank lines skipped: add(name, line)
 * for each; stops at the first non-zero return (err set by add). */
int mon_read_lines(const char *path, int (*add)(const char *name, unsigned line, void *arg),
                   void *arg, ss_mon_error_t *err);

/* The config from text without reading the files it names (fuzzing). */
int mon_config_parse_nofiles(const char *text, size_t len, ss_mon_config_t **out,
                             ss_mon_error_t *err);

/* ---- the state machine (mon_state.c): pure --------------------------------- */

typedef struct {
	uint64_t lag_warning_ms, lag_critical_ms, converge_timeout_ms;
} mon_policy_t;

/* A server waited for on one serial. */
typedef struct {
	ss_addr_t addr;
	char *name; /* owned; may be NULL */
	bool converged;
	bool never;
	int64_t converged_ms;
} mon_wait_t;

/* A serial the primary published that some server has not followed yet. */
typedef struct {
	uint32_t serial;
	int64_t first_seen_ms;
	ss_mon_via_t via;
	bool timed_out; /* converge_timeout passed (said once) */
	mon_wait_t *w;  /* owned */
	size_t nw;
} mon_serial_t;

#define MON_MAX_OPEN 16 /* serials waited for at once; older ones are given up */

/* What the monitor remembers of a zone between checks. */
typedef struct {
	bool checked; /* a check was applied */
	bool has_reference;
	uint32_t reference;
	int64_t reference_since_ms;
	ss_mon_via_t reference_via;
	ss_status_t status;
	int64_t status_since_ms;
	ss_mon_server_t *servers; /* owned (names too), sorted by address */
	size_t nservers;
	mon_serial_t *open; /* owned, oldest first */
	size_t nopen;
	uint8_t finding[SS_F_COUNT]; /* open findings at warning or worse: severity + 1 */
	bool converging;
} mon_zstate_t;

typedef struct {
	int64_t now_ms;
	int64_t notify_ms; /* a NOTIFY for the zone came then, before this check started; 0: none */
	bool has_notify_serial;
	uint32_t notify_serial; /* the serial the NOTIFY carried */
	mon_policy_t policy;
} mon_input_t;

/* An event with its own copies of its strings (zone borrowed from the caller). */
typedef struct {
	ss_mon_event_t *v;
	size_t n, cap;
} mon_events_t;

/* Apply one check result to a zone's state at in->now_ms: new serials,
 * convergences, time-outs, status and finding changes, unreachable
 * periods, as events appended to ev (zone: the zone's name, borrowed by the
 * events). The serial-behind finding of res is graded by lag in place and
 * res->status follows. No I/O, no clock. Returns 0 or SS_ENOMEM (the state
 * is then consistent but may miss this result's changes). */
int mon_state_step(mon_zstate_t *st, ss_zone_result_t *res, const mon_input_t *in, const char *zone,
                   mon_events_t *ev);

/* Give up on every open serial (the zone is no longer watched): NEVER events. */
int mon_state_close(mon_zstate_t *st, int64_t now_ms, const char *zone, mon_events_t *ev);

void mon_zstate_clear(mon_zstate_t *st);
void mon_events_clear(mon_events_t *ev);

/* An event of kind at now for zone (borrowed), with nothing else set: no
 * lag (-1), no finding code (SS_F_COUNT). */
ss_mon_event_t mon_event(ss_mon_event_kind_t kind, int64_t now, const char *zone);

/* Append an event (strings copied). 0 or SS_ENOMEM. */
int mon_events_push(mon_events_t *ev, const ss_mon_event_t *e);

/* The status findings give (INFO counts as OK). */
ss_status_t mon_status_of(const ss_finding_t *f, size_t n);

/* Histograms: the bounds of convergence times and check durations (seconds). */
extern const double mon_conv_bounds[];
extern const size_t mon_nconv_bounds;
extern const double mon_dur_bounds[];
extern const size_t mon_ndur_bounds;
void mon_hist_init(ss_mon_histogram_t *h, const double *le, size_t n);
void mon_hist_add(ss_mon_histogram_t *h, double v);

/* ---- the store (mon_store.c) --------------------------------------------------- */

/* Open (creating or migrating) the database for writing. 0 or SS_EIO (err). */
int mon_store_open(const char *path, ss_mon_store_t **out, ss_mon_error_t *err);

/* The zone's id, created (or revived after a removal: *is_new) as needed. */
int mon_store_zone(ss_mon_store_t *st, const char *zone, int64_t now, int64_t *id, bool *is_new);
int mon_store_zone_removed(ss_mon_store_t *st, int64_t id, int64_t now);

/* Restore what a restart needs into an empty state. */
int mon_store_load(ss_mon_store_t *st, int64_t zone_id, mon_zstate_t *zs);

/* Write one step's events (zs: the state after the step). Batched: nothing
 * is durable before mon_store_commit(). */
int mon_store_record(ss_mon_store_t *st, int64_t zone_id, const mon_zstate_t *zs,
                     const mon_events_t *ev);
int mon_store_commit(ss_mon_store_t *st);

/* Forget history older than cutoff_ms. */
int mon_store_retention(ss_mon_store_t *st, int64_t cutoff_ms);

const char *mon_store_errmsg(const ss_mon_store_t *st);

/* ---- the NOTIFY listener (mon_notify.c) ----------------------------------------- */

typedef struct {
	const ss_mon_prefix_t *allow; /* notify_allow (borrowed) */
	size_t nallow;
	const knot_tsig_key_t *tsig;                /* required when set (borrowed) */
	bool (*known)(const char *zone, void *arg); /* a watched zone? */
	void *arg;
} mon_notify_ctx_t;

/* What one packet to the listener was, and what it was answered. */
typedef struct {
	ss_mon_notify_result_t result;
	bool has_zone;
	char zone[KNOT_DNAME_TXT_MAXLEN + 1]; /* lower case, with the trailing dot */
	bool has_serial;                      /* the NOTIFY carried the zone's SOA */
	uint32_t serial;
	int rcode;           /* of the answer; -1: not answered (garbage, a response) */
	uint16_t tsig_rcode; /* BADKEY, BADSIG, BADTIME or 0 */
	ss_addr_t from;      /* set by the listener */
} mon_notify_msg_t;

/* One packet from `from` (untrusted bytes): judge it and write the answer
 * into out (at least 1024 bytes; *outlen 0: no answer). Pure but for the
 * known() callback and TSIG's clock. */
void mon_notify_handle(const mon_notify_ctx_t *ctx, const uint8_t *wire, size_t len,
                       const ss_addr_t *from, uint8_t *out, size_t *outlen, mon_notify_msg_t *msg);

typedef struct mon_listener mon_listener_t;
typedef void (*mon_notify_cb)(const mon_notify_msg_t *msg, void *arg);

int mon_listener_new(uv_loop_t *loop, const mon_notify_ctx_t *ctx, mon_notify_cb cb, void *arg,
                     mon_listener_t **out);
/* New ACL, key or zone lookup (reload); the old ones are no longer used. */
void mon_listener_set_ctx(mon_listener_t *l, const mon_notify_ctx_t *ctx);
int mon_listener_bind(mon_listener_t *l, const ss_addr_t *addr, ss_mon_error_t *err);
/* Close the sockets and connections; done(arg) once all are closed. */
void mon_listener_close(mon_listener_t *l, void (*done)(void *arg), void *arg);
void mon_listener_free(mon_listener_t *l);

/* ---- alerts (mon_alert.c) ------------------------------------------------------- */

typedef struct mon_alerts mon_alerts_t;

int mon_alerts_new(uv_loop_t *loop, mon_log_fn log, void *arg, mon_alerts_t **out);
/* The targets (copied): argv (NULL: none), a webhook URL (NULL: none). */
int mon_alerts_configure(mon_alerts_t *a, char *const *command, const char *webhook);
/* Deliver json to every target, retried with backoff. 0, SS_ELIMIT (queue
 * full), SS_ENOMEM, SS_ESTATE (closing). */
int mon_alerts_send(mon_alerts_t *a, const char *zone, const char *status, const char *json);
void mon_alerts_counts(const mon_alerts_t *a, uint64_t *sent, uint64_t *failed);
void mon_alerts_close(mon_alerts_t *a, void (*done)(void *arg), void *arg);
void mon_alerts_free(mon_alerts_t *a);

/* ---- JSON (mon_json.c) ------------------------------------------------------------ */

/* An alert: the zone as it is now, the status it had before. */
typedef struct {
	const ss_mon_zone_t *zone;
	ss_status_t previous;
	bool repeat; /* re-sent while the problem lasts */
	int64_t now_ms;
	int64_t problem_since_ms; /* when the zone left ok; 0: unknown */
	const char *site;         /* may be NULL */
} mon_alert_t;

/* The alert as one line of JSON (malloc'd) or NULL. */
char *mon_alert_json(const mon_alert_t *al);

#endif
