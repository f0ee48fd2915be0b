/*
 * soasync monitor: the web faces (Prometheus metrics, JSON API, dashboard).
 * The renderers are pure functions over the monitor's read API
 * (soasync/monitor.h): they read zones through a web_source_t, so they run
 * the same on the live monitor and on synthetic zones (unit tests, bench).
 *
 * Threads: none. Everything runs on the monitor's loop; pointers a source
 * returns are valid until control returns to the loop.
 */
#ifndef SOASYNC_WEB_H
#define SOASYNC_WEB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <jansson.h>

#include <soasync/monitor.h>

#include "util_strbuf.h"

/* ---- where the renderers read the monitor's state ------------------------ */

typedef struct {
	void *ctx;
	size_t (*zone_count)(void *ctx);
	const ss_mon_zone_t *(*zone)(void *ctx, size_t i); /* in name order (byte order) */
	const ss_mon_zone_t *(*zone_find)(void *ctx, const char *name);
	const ss_mon_counters_t *(*counters)(void *ctx);
	const ss_mon_config_t *(*config)(void *ctx);
	int64_t (*now_ms)(void *ctx);
	bool (*healthy)(void *ctx);
	/* History of the database; may be NULL (no database): empty history. */
	int (*serials)(void *ctx, const ss_mon_hist_query_t *q, ss_mon_hist_serial_cb cb,
	               void *arg);
	int (*events)(void *ctx, const ss_mon_hist_query_t *q, ss_mon_hist_event_cb cb, void *arg);
} web_source_t;

/* The live monitor as a source (web_source.c). */
void web_source_monitor(web_source_t *src, ss_monitor_t *m);

/* The index of the first zone whose name sorts after name (byte order);
 * the zone count when none does. For cursors that survive a reload. */
size_t web_zone_after(const web_source_t *src, const char *name);

/* ---- an output buffer with the escapers the formats need ---------------- */

/* The library's growable string (lib/util_strbuf.h: s, len, cap, a sticky
 * failure flag), with inline appends and the formats' escapers. */
typedef ss_strbuf_t wbuf_t;

static inline void wbuf_grow_add(wbuf_t *b, const char *s, size_t n)
{
	ss_strbuf_append(b, s, n);
}

/* The renderers append a few bytes at a time, millions of times a scrape:
 * the common case (room left) is inline. */
static inline void wbuf_add(wbuf_t *b, const char *s, size_t n)
{
	if (b->len + n < b->cap) {
		memcpy(b->s + b->len, s, n);
		b->len += n;
		b->s[b->len] = '\0';
	} else {
		wbuf_grow_add(b, s, n);
	}
}

static inline void wbuf_puts(wbuf_t *b, const char *s)
{
	wbuf_add(b, s, strlen(s));
}

static inline void wbuf_putc(wbuf_t *b, char c)
{
	wbuf_add(b, &c, 1);
}

void wbuf_u64(wbuf_t *b, uint64_t v);
void wbuf_i64(wbuf_t *b, int64_t v);
#define wbuf_printf ss_strbuf_printf
void wbuf_free(wbuf_t *b);

/* A Prometheus label value: backslash, double quote and newline escaped,
 * bytes that are not UTF-8 as '?'. */
void wbuf_label(wbuf_t *b, const char *s);
/* The same for a value known to be valid UTF-8. */
void wbuf_label_utf8(wbuf_t *b, const char *s);
bool web_utf8_valid(const char *s);
/* HTML text or attribute value (double-quoted): & < > " ' escaped. */
void wbuf_html(wbuf_t *b, const char *s);
/* A URL path segment: everything but unreserved characters %-encoded. */
void wbuf_url(wbuf_t *b, const char *s);
/* Append a JSON value (compact) and drop the reference. 0 or -1. */
int wbuf_json(wbuf_t *b, json_t *v);

/* ---- shared vocabulary -------------------------------------------------- */

/* ss_addr_format() ("192.0.2.1", "192.0.2.1#5300", "2001:db8::1") without
 * printf for IPv4; buf of SS_ADDR_STRLEN. */
const char *web_addr(const ss_addr_t *a, char *buf, size_t len);

/* RFC 3339 UTC with milliseconds: "2025-01-02T03:04:05.678Z" (buf >= 32). */
const char *web_time(int64_t ms, char *buf, size_t len);
/* A duration for people: "45s", "6m 12s", "2h 05m", "3d 4h" (buf >= 24). */
const char *web_duration(int64_t ms, char *buf, size_t len);

/* How a server's cell reads: the check model's verdict, graded by lag for
 * a server behind. Presentation only: no verdict is decided here. */
typedef enum {
	WEB_CELL_PENDING = 0, /* not checked yet */
	WEB_CELL_IN_SYNC,     /* at the reference serial */
	WEB_CELL_AHEAD,       /* newer than a primary that went backwards */
	WEB_CELL_BEHIND,      /* behind, within lag_warning */
	WEB_CELL_LAG_WARNING, /* behind for lag_warning or more */
	WEB_CELL_LAG_CRITICAL,
	WEB_CELL_UNDEFINED,   /* 2^31 apart */
	WEB_CELL_UNREACHABLE, /* no usable answer */
	WEB_CELL_NOT_AUTH,    /* REFUSED, NOTAUTH, no AA, referral, no SOA */
	WEB_CELL_SERVFAIL,
	WEB_CELL_HIDDEN, /* hidden primary: does not count */
	WEB_CELL_LOCAL,  /* not asked: this host ran out of sockets */
	WEB_CELL_COUNT
} web_cell_t;

web_cell_t web_cell_state(const ss_mon_server_t *s, int64_t lag_ms, const ss_mon_config_t *cfg);
/* A lag as a cell: WEB_CELL_BEHIND, WEB_CELL_LAG_WARNING or
 * WEB_CELL_LAG_CRITICAL, by the monitor's own grading (ss_mon_lag_severity;
 * cfg NULL: WEB_CELL_BEHIND). */
web_cell_t web_lag_cell(int64_t lag_ms, const ss_mon_config_t *cfg);
/* CSS class ("in-sync", "lag-warning"...) and words ("in sync", "behind"...). */
const char *web_cell_class(web_cell_t c);
const char *web_cell_words(web_cell_t c);

/* ---- the dashboard's assets, compiled in (cli/dashboard/, embed.py) ------- */

typedef struct {
	const char *name; /* "dashboard.css": served as /assets/NAME */
	const char *type; /* Content-Type */
	const unsigned char *data;
	size_t len;
	const char *etag; /* "\"<hash>\"" */
} web_asset_t;

extern const web_asset_t web_assets[];
extern const size_t web_nassets;
extern const char web_assets_hash[]; /* of all assets: the URLs' ?v= */

/* ---- renderers ----------------------------------------------------------- */

/* /metrics: Prometheus text exposition 0.0.4, rendered in steps so that
 * 100,000 zones never hold the loop: each step appends about budget bytes
 * (at least one zone's series) and returns; 1 when the exposition is
 * complete, 0 when there is more, -1 out of memory. */
typedef struct {
	size_t family;  /* index in the family table */
	bool in_family; /* its HELP and TYPE are written */
	size_t zone;    /* next zone index */
	char *last;     /* the last zone written (a reload may move indexes) */
	const char *version;
} metrics_cursor_t;

void metrics_cursor_init(metrics_cursor_t *c, const char *version);
int render_metrics_step(const web_source_t *src, metrics_cursor_t *c, wbuf_t *out, size_t budget);
void metrics_cursor_clear(metrics_cursor_t *c);

/* /api/v1/zones in steps (as above): {"time":...,"site":...,"zones":[...]},
 * each zone in the list's lean form (render_api_list_zone). */
typedef struct api_tmpl api_tmpl_t;
typedef struct api_cache api_cache_t;
typedef struct {
	int phase; /* 0 head, 1 zones, 2 done */
	size_t zone;
	char *last;
	size_t written;
	api_tmpl_t *tmpl;   /* the reused zone object */
	api_cache_t *cache; /* zones' texts kept from the last list; borrowed, may be NULL */
} api_cursor_t;

/* What the list keeps between requests (one per server; render_api.c). */
api_cache_t *api_cache_new(void);
void api_cache_free(api_cache_t *k);
/* How many zones' texts are kept. */
size_t api_cache_kept(const api_cache_t *k);

void api_cursor_init(api_cursor_t *c);
int render_api_zones_step(const web_source_t *src, api_cursor_t *c, wbuf_t *out, size_t budget);
void api_cursor_clear(api_cursor_t *c);
/* Renders into c's cache the texts of up to max_zones zones from index
 * `from` on (wrapping), those whose kept text no longer matches: a list
 * asked for later finds them ready. Returns where the next call goes on. */
size_t render_api_warm(const web_source_t *src, api_cursor_t *c, size_t from, size_t max_zones);

/* One zone as /api/v1/zones/ZONE shows it (new reference; NULL out of
 * memory): everything the monitor knows of it now. */
json_t *render_api_zone(const ss_mon_zone_t *z, int64_t now_ms);
/* One zone as the list shows it: zone, status, checked, primary,
 * reference_serial, servers (name, address, port, primary, serial, verdict,
 * behind, lag_s) and findings. Borrowed from the cursor's template, valid
 * until the next call; NULL out of memory. */
json_t *render_api_list_zone(api_cursor_t *c, const ss_mon_zone_t *z, int64_t now_ms);
/* One zone with its history: the last `last` serials and events (0: all). */
json_t *render_api_zone_full(const web_source_t *src, const ss_mon_zone_t *z, size_t last);

/* The dashboard: the zones x servers matrix (query: the filter text, may be
 * NULL; status: only zones of that status name, may be NULL) and a zone
 * page. Complete HTML documents into out. */
typedef struct {
	const char *filter;     /* substring of the zone name; NULL or "": all */
	const char *status;     /* "ok", "warning", "critical", "unknown", "problems"; NULL: all */
	size_t max_rows;        /* 0: the default (500) */
	unsigned refresh_s;     /* the page refreshes itself this often */
	const char *asset_hash; /* cache-busting suffix of the asset URLs */
} dash_opts_t;

int render_dashboard(const web_source_t *src, const dash_opts_t *o, wbuf_t *out);
int render_zone_page(const web_source_t *src, const ss_mon_zone_t *z, const dash_opts_t *o,
                     wbuf_t *out);
/* The zone page's SVG timeline of the last serials (and a table of it). */
void render_timeline(wbuf_t *b, const web_source_t *src, const ss_mon_zone_t *z);

#endif
